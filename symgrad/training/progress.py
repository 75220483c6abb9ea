"""Split a long loop into chunks that each run about ``CHUNK_SECONDS``, moving a tqdm
progress bar when asked (and tqdm is installed).

Python sees Ctrl-C only between native calls, so the chunks are short whether or not a bar
is shown: an interrupt waits for the end of the running chunk, a fraction of a second.
"""
import time

CHUNK_SECONDS = 0.1     # what a chunk aims to last; one runs at most ~2x that at a steady pace
GROWTH = 4              # a chunk has at most this many times the steps of the one before
_clock = time.perf_counter


def chunked(first, total, progress):
    """Yield ``(start, count)`` pieces of ``range(first, total)``: one step first, then
    each piece sized by the pace of the one before to last about ``CHUNK_SECONDS``."""
    bar = _bar(total, first) if progress else None
    start, count = first, 1
    try:
        while start < total:
            count = min(count, total - start)
            began = _clock()
            yield start, count
            elapsed = _clock() - began
            if bar is not None:
                bar.update(count)
            start += count
            count = _next_count(count, elapsed)
    finally:
        if bar is not None:
            bar.close()


def _next_count(count, elapsed):
    """Steps for the next chunk, from ``count`` steps having taken ``elapsed`` seconds."""
    if elapsed <= 0:
        return count * GROWTH
    return max(1, min(count * GROWTH, int(count * CHUNK_SECONDS / elapsed)))


def _bar(total, first):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=first, unit="step", desc="train")
