"""How many cores compiled code should use now: the CPUs this process may run on
(``os.sched_getaffinity``) less the cores other processes keep busy.

A thread pool that wants every core on a machine where another process is busy loses
time slices: a two-thread BLAS call or parallel loop waits at its barrier for the thread
the scheduler put behind the other process (a W1 training step ran 1.6-2.5x slower beside
one busy process). So before a compiled call the pools get the free cores only. Others'
load is measured, not guessed from the load average (which counts this process's own
threads): the machine's busy time from ``/proc/stat`` over the last interval, less this
process's own CPU time. Measured at most every ``INTERVAL`` seconds, so a call costs a
clock read; where ``/proc/stat`` is missing every allowed core counts as free.
"""
import os
import time

INTERVAL = 0.25     # seconds between measurements: /proc/stat counts in 10 ms ticks
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# another process counts as busy when it keeps this much of a core busy
BUSY_SHARE = 0.5


def allowed_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def machine_busy_seconds():
    """CPU seconds all processes have used since boot (None without ``/proc/stat``)."""
    try:
        with open("/proc/stat", "rb") as stat:
            fields = stat.readline().split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)      # idle and iowait
    guest = sum(ticks[8:10])               # already counted in user and nice
    return (sum(ticks) - idle - guest) / TICKS


class FreeCores:
    """``count()``: the cores not kept busy by other processes (at least 1)."""

    def __init__(self):
        self.allowed = allowed_cores()
        self.free = self.allowed
        self.last = None        # (wall clock, machine busy seconds, own CPU seconds)

    def count(self):
        now = time.monotonic()
        if self.last is not None and now - self.last[0] < INTERVAL:
            return self.free
        busy, own = machine_busy_seconds(), time.process_time()
        if busy is None:
            return self.free
        if self.last is not None:
            wall = now - self.last[0]
            others = max(0.0, (busy - self.last[1]) - (own - self.last[2])) / wall
            self.free = max(1, min(self.allowed, int(self.allowed - others + 1 - BUSY_SHARE)))
        self.last = (now, busy, own)
        return self.free


FREE_CORES = FreeCores()
