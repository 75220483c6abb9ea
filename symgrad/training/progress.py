"""``sg.train``'s pace and its progress bar.

The loop runs in chunks that each last about ``CHUNK_SECONDS``: Python sees Ctrl-C only
between native calls, so an interrupt waits for the end of the running chunk, a fraction of
a second, whether or not a bar is shown.

The bar (``tqdm.auto``: a widget in a notebook, text in a terminal) tells the truth about
the two phases of a run: while the step is traced and its loop compiled it reads
``compiling… 12 s`` (steps that run meanwhile, eagerly or on the interpreter, still count),
and only once the compiled loop runs does it show a rate and an ETA, timed from then on,
with the latest loss as its postfix.
"""
import threading
import time

CHUNK_SECONDS = 0.1     # what a chunk aims to last; one runs at most ~2x that at a steady pace
GROWTH = 4              # a chunk has at most this many times the steps of the one before
TICK_SECONDS = 0.5      # how often the "compiling… N s" count is redrawn
_clock = time.perf_counter


def chunked(first, total):
    """Yield ``(start, count)`` pieces of ``range(first, total)``: one step first, then
    each piece sized by the pace of the one before to last about ``CHUNK_SECONDS``."""
    start, count = first, 1
    while start < total:
        count = min(count, total - start)
        began = _clock()
        yield start, count
        elapsed = _clock() - began
        start += count
        count = _next_count(count, elapsed)


def _next_count(count, elapsed):
    """Steps for the next chunk, from ``count`` steps having taken ``elapsed`` seconds."""
    if elapsed <= 0:
        return count * GROWTH
    return max(1, min(count * GROWTH, int(count * CHUNK_SECONDS / elapsed)))


COMPILING_FORMAT = "{desc}: {n_fmt}/{total_fmt} [compiling… {elapsed_s:.0f} s{postfix}]"


class TrainingBar:
    """The bar of one ``train`` call; every method does nothing when it is off (or tqdm is
    not installed).

    >>> bar = TrainingBar(total=10, enabled=False)
    >>> bar.advance(3, loss=0.5); bar.compiled(); bar.close()
    """

    def __init__(self, total, enabled=True):
        self.bar = _tqdm(total) if enabled else None
        self.compiling = self.bar is not None
        self._lock = threading.Lock()
        if self.compiling:
            threading.Thread(target=self._tick, name="symgrad-progress", daemon=True).start()

    def _tick(self):
        """Redraw the elapsed seconds while the main thread compiles (it draws nothing then)."""
        while True:
            time.sleep(TICK_SECONDS)
            with self._lock:
                if not self.compiling:
                    return
                self.bar.refresh()

    def advance(self, done, loss=None):
        """``done`` steps are finished, the last with ``loss``."""
        if self.bar is None:
            return
        with self._lock:
            if loss is not None:
                self.bar.set_postfix_str(f"loss={float(loss):.4g}", refresh=False)
            if self.compiling:          # kept out of tqdm's rate, which starts once compiled
                self.bar.n = done
                self.bar.refresh()
            else:
                self.bar.update(done - self.bar.n)

    def compiled(self):
        """The compiled loop runs from here on: the rate and ETA start now."""
        if self.bar is None or not self.compiling:
            return
        with self._lock:
            self.compiling = False
            took = self.bar.format_dict["elapsed"]
            self.bar.set_description(f"train (compiled in {took:.1f} s)", refresh=False)
            self.bar.bar_format = None
            self.bar.start_t = self.bar.last_print_t = self.bar._time()
            self.bar.initial = self.bar.last_print_n = self.bar.n
            self.bar.refresh()

    def close(self):
        if self.bar is not None:
            with self._lock:
                self.compiling = False
                self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def _tqdm(total):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="step", desc="train", bar_format=COMPILING_FORMAT)
