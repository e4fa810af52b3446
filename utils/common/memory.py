"""Peak resident memory of this process, and resetting it between the runs of a worker.

Introduced in ``02_keras_reference.ipynb`` (a run's ``peak_rss_mb``); the grid runner
resets the peak before each job, notebook 10 adds up its processes' peaks, and the
notebook benchmark samples a notebook's processes together (:func:`tree_peak_mb`).

``getrusage(RUSAGE_SELF).ru_maxrss`` is the wrong reading for a worker process: Linux
keeps, across ``exec``, the high-water mark of the process that forked it. A grid worker
spawned by a parent that holds 1.4 GB of datasets then reports at least 1.4 GB whatever it
trains, and a worker that ran a 4× job before a quarter one reports the 4× peak for both.
``VmHWM`` in ``/proc/self/status`` is the mark of this process's own memory, and writing
``5`` to ``/proc/self/clear_refs`` lowers it to the present resident size (Linux 4.0 and
later, see ``proc(5)``), so that a job's reading is the peak of that job.

Examples
--------
>>> peak_rss_mb() > 10
True
>>> before = peak_rss_mb()
>>> reset_peak_rss() in (True, False)  # False where the OS has no such switch
True
>>> peak_rss_mb() <= before + 1  # never higher than before: nothing was allocated
True
"""

from __future__ import annotations

import math
import resource
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

_CLEAR_REFS = Path("/proc/self/clear_refs")
# Stored rows of runs started before this (their ``date``) read ``ru_maxrss``: in a grid
# worker an upper bound on the run's own peak, not the peak itself. Later runs read VmHWM.
OWN_PEAK_FROM = "2026-12-04T12:42:00Z"


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (MiB): ``VmHWM`` where Linux gives it,
    since the process started or since the last :func:`reset_peak_rss`; elsewhere
    ``ru_maxrss`` (kilobytes on Linux, bytes on macOS), which cannot be reset."""
    own = _proc_kb_field("self", "status", "VmHWM", -1)  # "VmHWM:  123456 kB"
    if own >= 0:
        return own / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def reset_peak_rss() -> bool:
    """Lower this process's peak resident memory to its present size, so the next
    :func:`peak_rss_mb` is the peak of what runs from now on. Returns False where the OS
    has no such switch (then the next reading is the peak since the process started)."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def release_memory() -> bool:
    """Collect garbage and hand the C heap's free pages back to the system (glibc's
    ``malloc_trim``); True where it could trim.

    A notebook that trains and drops a model pair (09) leaves the frameworks' freed buffers
    in the heap, where they still count as the kernel's anonymous memory; Binder's limit
    reads that, not what Python holds. Changes no number: only free memory moves.

    Examples
    --------
    >>> release_memory() in (True, False)  # False where the C library has no malloc_trim
    True
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, musl without it)
        return False
    return True


def peak_reading(dates: Iterable[object]) -> str:
    """How the stored ``peak_rss_mb`` of rows whose runs started on ``dates`` was read:
    ``"own peak"``, ``"upper bound"`` (``ru_maxrss``, before :data:`OWN_PEAK_FROM`, or no
    date) or ``"own peak and upper bounds"``.

    Examples
    --------
    >>> peak_reading(["2026-12-05T08:00:00Z"]), peak_reading(["2026-11-29T06:18:45Z", None])
    ('own peak', 'upper bound')
    >>> peak_reading(["2026-11-29T06:18:45Z", "2026-12-05T08:00:00Z"])
    'own peak and upper bounds'
    """
    own = {isinstance(d, str) and d >= OWN_PEAK_FROM for d in dates}
    if own == {True}:
        return "own peak"
    return "own peak and upper bounds" if True in own else "upper bound"


def _proc_kb_field(pid: int | str, name: str, key: str, default: int) -> int:
    """A ``key: N kB`` field of ``/proc/PID/<name>``, in bytes; ``default`` where the
    kernel does not give it."""
    return _proc_kb_fields(pid, name, (key,)).get(key, default)


def _proc_kb_fields(pid: int | str, name: str, keys: tuple[str, ...]) -> dict[str, int]:
    """The ``key: N kB`` fields of ``/proc/PID/<name>`` among ``keys``, in bytes, read at
    once (one sample of a process); a key the kernel does not give is left out."""
    try:
        text = Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        key = line.split(":", 1)[0]
        if key in keys:
            found[key] = int(line.split()[1]) * 1024
    return found


class TreePeak(NamedTuple):
    """What :func:`tree_peak_mb` read of a process tree, in MB (MiB)."""

    together_mb: float  # peak of the sampled sum, a shared page counted once
    largest_mb: float  # the largest own peak (VmHWM) of any one process of the tree
    at_most_mb: float  # at each sample, the own peaks of the processes then alive, summed
    # Peak of the sampled sum of anonymous memory (RssAnon: heaps, arrays, tensors), the
    # part of a resident size that a memory limit cannot evict; the rest is file pages,
    # mostly the frameworks' shared libraries, which it can drop and read again.
    anon_mb: float = float("nan")

    @property
    def at_least_mb(self) -> float:
        """What a limit on the whole tree saw at least: a spike shorter than the sampling
        step can hide from the sum, never from a process's own mark."""
        return max(self.together_mb, self.largest_mb)


# How often, at most, the proportional set sizes are read again below a new resident high:
# reading them costs tens of milliseconds per process.
PSS_RECHECK_S = 1.0


def tree_peak_mb(proc: subprocess.Popen, every: float = 0.1) -> TreePeak:
    """Wait for ``proc`` to exit; return the peak, in MB, of the memory of it and every
    process it started, summed, sampled every ``every`` seconds; the largest single
    process's own peak; and an upper bound: at each sample, the own peaks so far of the
    processes alive since the last sample, summed.

    What a memory limit such as Binder's sees is the sum of the processes alive at one
    time (a notebook's kernel and the backend process it waits on), which no single
    process's peak gives. A plain sum of resident sizes counts a page twice where two
    processes share it (a process just forked, before it replaces itself), so each time
    that sum reaches a new high, and at most every :data:`PSS_RECHECK_S` seconds while it
    lies above the peak so far, the tree is read again by proportional set size, which
    counts a shared page once; reading it costs tens of milliseconds per process, too much
    for every sample. Sampling can miss a spike of the sum shorter than ``every``; a
    process's own mark misses only what it allocates in its last ``every`` seconds. So
    the limit saw at least :attr:`TreePeak.at_least_mb` and at most
    :attr:`TreePeak.at_most_mb`, which counts a shared page in each sharer and each
    process at its own peak, whenever that was; processes that run one after another
    (notebook 10 starts one per backend) are not summed, as none was alive with another.
    ``ru_maxrss`` is no substitute for the latter: a child started by a large parent
    reports the parent's mark (see the module's docstring).

    A resident size also counts the pages of shared libraries a process has mapped and
    touched, which a limit (a cgroup's, as on Binder) reclaims under pressure rather than
    end the process: :attr:`TreePeak.anon_mb`, the peak of the sampled sum of anonymous
    memory, is what a limit must hold at the least; a spike shorter than ``every`` can
    hide from it too.

    Examples
    --------
    >>> import sys
    >>> code = "import numpy as np; a = np.ones(2**25); import time; time.sleep(0.5)"
    >>> peak = tree_peak_mb(subprocess.Popen([sys.executable, "-c", code]))
    >>> peak.together_mb > 256, peak.largest_mb > 256  # 2**25 doubles
    (True, True)
    >>> peak.at_least_mb <= peak.at_most_mb, 256 < peak.anon_mb <= peak.at_most_mb
    (True, True)
    """
    import psutil  # a dependency of the Jupyter kernel; needed only here

    root, rss_high, peak, upper, anon_high = psutil.Process(proc.pid), 0, 0, 0, 0
    pss_read = -math.inf
    own: dict[int, int] = {}  # each process's own mark, as last read
    alive: set[int] = set()
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        sizes = {}
        for p in tree:
            try:
                sizes[p.pid] = p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):  # ended since listed
                pass
        anon = 0
        for pid, rss in sizes.items():
            status = _proc_kb_fields(pid, "status", ("VmHWM", "RssAnon"))
            # A process's own mark (a new program starts one at exec, unlike ru_maxrss).
            own[pid] = max(own.get(pid, 0), status.get("VmHWM", rss))
            anon += status.get("RssAnon", rss)  # a kernel without it: count it all
        anon_high = max(anon_high, anon)
        # A process that ended since the last sample was alive with these for a while.
        upper = max(upper, sum(own[pid] for pid in alive | set(sizes)))
        alive = set(sizes)
        # Proportional set size (a shared page divided among its sharers, Linux 4.14+) at
        # each new high of the resident sum; and, at most once a second, whenever that sum
        # leaves room above the peak so far: a high set while a just-forked child shared
        # its parent's pages would otherwise hide the larger sum once it runs its own
        # program (seen on a loaded machine).
        total, now = sum(sizes.values()), time.monotonic()
        if total > rss_high or (total > peak and now - pss_read >= PSS_RECHECK_S):
            rss_high, pss_read = max(rss_high, total), now
            peak = max(peak, sum(_proc_kb_field(pid, "smaps_rollup", "Pss", rss)
                                 for pid, rss in sizes.items()))
        time.sleep(every)
    return TreePeak(peak / 2**20, max(own.values(), default=0) / 2**20, upper / 2**20,
                    anon_high / 2**20)
