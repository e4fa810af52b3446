"""Re-derive stored rows: bit for bit where the floating-point path allows, else by seeds.

Introduced in ``09_float_drift.ipynb``. :func:`verify` reruns random stored rows of a grid
and reports each check's kind: ``identical`` (the same F1 to the last digit) or, where the
row was stored on another floating-point path (:mod:`utils.common.machine` explains why the
paths differ), ``statistical``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import permutation_test

from utils.common.machine import path_key
from utils.results.engines import SerialEngine
from utils.results.grids import Job
from utils.results.runner import _run_job, prepare_data
from utils.results.store import ResultsError, read_table, table_path

# Reruns of a setting for the statistical check, its level, and the stored seeds it needs.
RERUNS, ALPHA, MIN_STORED = 3, 0.01, 5


@dataclass(frozen=True)
class Check:
    """How one stored row was re-derived.

    ``kind`` is ``"identical"`` (the rerun gave the same F1 to the last digit) or
    ``"statistical"`` (the rerun took another floating-point path, so a few seeds of the
    setting were rerun and their F1 tested against the stored seeds). A statistical
    agreement is never reported as identical.
    """

    row: dict
    kind: str
    ok: bool
    detail: str

    def line(self) -> str:
        r = self.row
        return (f"{'ok  ' if self.ok else 'FAIL'} {self.kind:11s} {r['framework']:5s} "
                f"{r['recipe_name']:12s} seed {r['seed']}: {self.detail}")


def _same_bits(a: float, b: float) -> bool:
    return f"{a:.12g}" == f"{b:.12g}"


def _measure(row: dict, epochs: int | None) -> float:
    """What a check compares: the test F1 of the kept epoch, or, for a check of the first
    ``epochs`` epochs only, the validation F1 after that many epochs."""
    return row["test_f1"] if epochs is None else row["epoch_valid_f1"][epochs - 1]


def check_row(row: dict, table: list[dict], reruns: int = RERUNS, alpha: float = ALPHA,
              run: Callable[[Job], dict] = _run_job, engine=None,
              epochs: int | None = None) -> Check:
    """Re-derive one stored ``row`` of ``table`` (see :class:`Check`).

    The first rerun takes this machine's pinned path. If its F1 is identical, the check is
    ``identical``. If not, and the row was stored on this very path, the table is stale: the
    check fails ("this very path" means equal path keys: a cache size the kernel did not
    report, ``?``, counts as a difference here, where
    :func:`~utils.common.machine.paths_differ`, which pairs seeds, reads it as the other
    run's; a hard failure needs a path known to be the same). Otherwise ``reruns`` seeds of
    the setting (the row's own first) run here, and a two-sided permutation test of the
    difference of means against every stored seed of the setting must give p ≥ ``alpha``. It
    catches a stale table (a shift of the order of the seed spread), not a subtle one; a
    grid rerun on this machine is the full check.

    ``epochs`` re-derives only the first that many epochs of each run (a fixed budget of
    the same recipe sees the same batches and weights, so its curve is the stored curve's
    start) and compares the validation F1 there: the affordable check of a long run.
    """
    job = Job.of_row(row)
    what = "test F1"
    if epochs is not None:
        n = len(row["epoch_valid_f1"])
        if not 1 <= epochs <= n:
            raise ValueError(f"epochs must be in [1, {n}] for {row['key']!r} (it records {n} "
                             f"epochs), got {epochs}")
        job = replace(job, recipe=replace(job.recipe, epochs=epochs, patience=0))
        what = f"validation F1 after {epochs} of {n} epochs"
    engine = engine or SerialEngine()
    (again,) = engine.map(run, [job])
    stored_key, here_key = path_key(row["float_path"]), path_key(again["float_path"])
    mine, theirs = _measure(row, epochs), _measure(again, epochs)
    if _same_bits(theirs, mine):
        return Check(row, "identical", True, f"{what}: stored {mine:.6f} rerun {theirs:.6f}")
    if stored_key == here_key:
        return Check(row, "identical", False, f"{what}: stored {mine:.6f} rerun {theirs:.6f} "
                     f"on the same floating-point path ({here_key})")
    same = [r for r in table if r["framework"] == row["framework"]
            and r["recipe"] == row["recipe"] and r["preset"] == row["preset"]]
    if len(same) < MIN_STORED or reruns < 2:
        return Check(row, "statistical", False, f"another floating-point path ({here_key}; "
                     f"stored: {stored_key}) and too few runs for a statistical check "
                     f"({len(same)} stored seeds, {reruns} reruns; need {MIN_STORED} and 2)")
    others = [r for r in same if r["seed"] != row["seed"]]
    picked = random.Random(row["seed"]).sample(others, min(reruns - 1, len(others)))
    jobs = [replace(Job.of_row(r), recipe=job.recipe) for r in picked]
    values = [theirs, *(_measure(x, epochs) for x in engine.map(run, jobs))]
    stored = np.array([_measure(r, epochs) for r in same])
    res = permutation_test((np.array(values), stored), lambda a, b: np.mean(a) - np.mean(b),
                           alternative="two-sided", n_resamples=9999,
                           random_state=np.random.default_rng(0))
    seeds = [row["seed"], *(r["seed"] for r in picked)]
    return Check(row, "statistical", bool(res.pvalue >= alpha),
                 f"another floating-point path ({here_key}; stored: {stored_key}): {what} of "
                 f"seeds {seeds} rerun here, mean {np.mean(values):.4f} vs {len(stored)} "
                 f"stored seeds {stored.mean():.4f}, permutation p={res.pvalue:.3f} (fails "
                 f"below {alpha})")


def verify(grid: str, sample: int, seed: int = 0, preset: str | None = None,
           reruns: int = RERUNS, engine=None, epochs: int | None = None,
           settled: bool = False) -> list[Check]:
    """Re-derive ``sample`` random stored rows of ``grid`` (see :func:`check_row`).

    ``preset`` limits the draw to rows of one data preset, so that a quick check can
    skip the 4x rows of the sizes grid (minutes each) without skipping the grid;
    ``epochs`` checks only the first that many epochs of each run; ``settled`` draws only
    rows of settings with :data:`MIN_STORED` stored seeds, the ones a statistical check can
    re-derive on another CPU while a grid is still filling up.
    """

    if sample < 1:
        raise ValueError(f"sample must be at least 1 row, got {sample}")
    table = read_table(table_path(grid))
    rows = table if preset is None else [r for r in table if r["preset"] == preset]
    if settled:
        seeds = Counter((r["framework"], r["recipe"], r["preset"]) for r in table)
        rows = [r for r in rows if seeds[r["framework"], r["recipe"], r["preset"]]
                >= MIN_STORED]
    if not rows:
        which = f" with preset {preset!r}" if preset is not None else ""
        which += f" of a setting with {MIN_STORED} stored seeds" if settled else ""
        raise ResultsError(f"{table_path(grid)}: no stored rows{which} to verify")
    checks = []
    picked = random.Random(seed).sample(rows, min(sample, len(rows)))
    prepare_data(r["preset"] for r in picked)
    for row in picked:
        checks.append(check_row(row, table, reruns=reruns, engine=engine, epochs=epochs))
        print(checks[-1].line(), flush=True)
    return checks


def summary_line(checks: list[Check]) -> str:
    """``verified=<ok>/<K> identical=<i> statistical=<s>``: the last line of ``verify``."""
    ok = sum(c.ok for c in checks)
    kinds = {k: sum(c.kind == k and c.ok for c in checks) for k in ("identical", "statistical")}
    return (f"verified={ok}/{len(checks)} identical={kinds['identical']} "
            f"statistical={kinds['statistical']}")


