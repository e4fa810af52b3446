"""Functions timed in turns (utils.common.timing): a drift of the machine's speed moves every
function's median alike. The clock here is simulated, so nothing is timed for real."""

from __future__ import annotations

import pytest

from utils.common import timing


class DriftingClock:
    """A clock in which each call of a timed function costs a little more than the last:
    the machine slowing down over the benchmark."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls = 0

    def perf_counter(self) -> float:
        return self.now

    def work(self) -> None:
        self.calls += 1
        self.now += 1.0 + 0.05 * self.calls


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> DriftingClock:
    c = DriftingClock()
    monkeypatch.setattr(timing.time, "perf_counter", c.perf_counter)
    return c


def test_in_turns_a_drift_moves_two_equal_functions_alike(clock: DriftingClock) -> None:
    t = timing.median_times({"a": clock.work, "b": clock.work}, rounds=10, block=5, warmup=0)
    # b trails a by one block each round: 7 % here, against 110 % one after the other.
    assert t["b"] / t["a"] == pytest.approx(1.0, abs=0.1)


def test_one_after_the_other_the_same_drift_reads_as_a_ratio(clock: DriftingClock) -> None:
    # The failure mode the turns remove: one block each, so b runs in a slower stretch.
    t = timing.median_times({"a": clock.work, "b": clock.work}, rounds=1, block=50, warmup=0)
    assert t["b"] / t["a"] > 1.5


def test_each_function_is_warmed_then_called_rounds_times_block(clock: DriftingClock) -> None:
    calls = {"a": 0, "b": 0}

    def count(name: str):
        def fn() -> None:
            calls[name] += 1
            clock.work()
        return fn

    timing.median_times({"a": count("a"), "b": count("b")}, rounds=3, block=4, warmup=2)
    assert calls == {"a": 14, "b": 14}


@pytest.mark.parametrize("rounds, block", [(0, 5), (3, 0)])
def test_no_timed_call_is_an_error(rounds: int, block: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        timing.median_times({"a": lambda: None}, rounds=rounds, block=block)
