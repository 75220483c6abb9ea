"""Split a long loop into chunks, with a tqdm progress bar when tqdm is installed."""

CHUNKS = 50


def chunked(first, total, progress):
    """Yield ``(start, count)`` pieces of ``range(first, total)``, moving the bar."""
    remaining = total - first
    if remaining <= 0:
        return
    size = max(1, remaining // CHUNKS) if progress else remaining
    bar = _bar(total, first) if progress else None
    try:
        for start in range(first, total, size):
            count = min(size, total - start)
            yield start, count
            if bar is not None:
                bar.update(count)
    finally:
        if bar is not None:
            bar.close()


def _bar(total, first):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=first, unit="step", desc="train")
