"""Median times of functions timed in turns (the benchmarks; notebook 06's GRU table).

Timing one function for a while and then the next measures each in a different stretch of
the machine's speed: a frequency change or a neighbour's burst between the two lands on
one of them only, and the ratio moves. Timing them in alternating blocks puts every
function in every stretch.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping


def median_times(fns: Mapping[str, Callable[[], object]], rounds: int, block: int = 5,
                 warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each function, the functions timed in turns.

    Each round calls every function ``block`` times in a row, in the mapping's order. A
    drift of the machine's speed then falls on all of them alike, and the first call of a
    block, which may share the cores with the previous function's idle-spinning threads,
    cannot move the median (for ``block`` of 3 or more).

    Parameters
    ----------
    fns : mapping of str to callable
        The functions, each called without arguments.
    rounds : int
        Rounds of blocks; each function is timed ``rounds * block`` times.
    block : int
        Calls of one function in a row.
    warmup : int
        Untimed calls of each function first (allocations, kernel selection, caches).

    Returns
    -------
    dict
        Name → median seconds of one call.

    Raises
    ------
    ValueError
        If ``rounds`` or ``block`` is below 1.

    Examples
    --------
    >>> calls = []
    >>> t = median_times({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
    ...                  rounds=2, block=2, warmup=1)
    >>> "".join(calls)
    'abaabbaabb'
    >>> sorted(t)
    ['a', 'b']
    """
    if rounds < 1 or block < 1:
        raise ValueError(f"rounds and block must be at least 1, got {rounds} and {block}")
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(block):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}
