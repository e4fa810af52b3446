"""The committed results tables are what the committed code computes (re-derived here)."""

from __future__ import annotations

from collections import Counter

import pytest

from utils import experiments as CLI
from utils.results import grids as G
from utils.results import store as S

STORED = [g for g in ("reference", "toggles", "sizes", "reference_converged",
                      "backends_converged", "toggles_converged", "sizes_converged")
          if S.table_path(g).exists()]
# Tables of three seeds per setting by design (candidate rules, candidate tasks): checked for
# form and provenance here; `verify --grid NAME` re-derives their rows on demand.
CALIBRATION = [g for g in ("stopping", "realistic_calibration", "sequential")
               if S.table_path(g).exists()]


@pytest.mark.parametrize("grid", STORED + CALIBRATION)
def test_stored_table_is_well_formed_with_provenance(grid):
    rows = S.read_table(S.table_path(grid))
    keys = {job.key for job in G.GRIDS[grid]()}
    assert rows and {r["key"] for r in rows} <= keys
    for r in rows:
        assert r["commit"] != "unknown" and r["command"].startswith("python -m utils.")
        assert r["machine"] and r["date"] and r["versions"]["torch"]


# The sizes grid is drawn from its quarter rows: an x4 row is minutes of training, and
# `python -m utils.experiments verify --grid sizes --preset x4` checks those on demand.
VERIFY_PRESET = {"reference": "classroom", "toggles": "classroom", "sizes": "quarter",
                 "reference_converged": "classroom", "backends_converged": "classroom",
                 "toggles_converged": "classroom", "sizes_converged": "quarter"}
# A row's first epochs are re-derived (the same batches and weights as a fixed budget of that
# many epochs), not the whole run: a converged run is up to TRAINED["epochs"] epochs, and a
# 12-epoch row stored before paths were recorded may take the statistical check (three runs).
# `python -m utils.experiments verify --grid NAME` re-derives whole runs on demand.
VERIFY_EPOCHS = {"reference": 2, "toggles": 2, "sizes": 2, "reference_converged": 4,
                 "backends_converged": 2, "toggles_converged": 2, "sizes_converged": 2}


@pytest.fixture(scope="module")
def pinned_workers(classroom_data_root):
    """Pinned single-thread workers that every grid's reruns share, started once.

    ``verify`` takes the engine it is given; the command's own (a process pool per map) would
    start its workers, each loading both frameworks, twice per grid. A local Dask cluster's
    workers take the same pinned path (``tests/test_engines.py`` checks its rows against the
    pool's to the digit) and stay up from one grid to the next.
    """
    from utils.common.machine import available_cpus
    from utils.results.engines import DaskEngine

    with DaskEngine(workers=min(2, available_cpus())) as engine:
        yield engine


@pytest.mark.parametrize("grid", STORED)
def test_a_stored_row_is_rederived(grid, pinned_workers, monkeypatch, capsys):
    """One row, chosen by the verify command's fixed seed: its first epochs, trained again.

    On the floating-point path it was stored on a row must re-derive bit for bit; on another
    path (another CPU, or a row stored before paths were recorded) verify reruns a few seeds
    and tests them against the stored ones, and says that it did.
    """
    from utils.results.verify import MIN_STORED

    seeds = Counter((r["framework"], r["recipe"]) for r in S.read_table(S.table_path(grid))
                    if r["preset"] == VERIFY_PRESET[grid])
    if max(seeds.values(), default=0) < MIN_STORED:  # a grid still filling up
        pytest.skip(f"{grid}: no {VERIFY_PRESET[grid]} setting has {MIN_STORED} stored seeds "
                    f"yet, the least another "
                    f"CPU needs to re-derive a row (verify checks them on the CPU that "
                    f"stored them)")
    epochs = ["--epochs", str(VERIFY_EPOCHS[grid])]
    # The command itself, in this process, its reruns on the shared pinned workers.
    monkeypatch.setattr(CLI, "LocalEngine", lambda *args, **kwargs: pinned_workers)
    # --settled: the row comes from a setting with enough seeds to re-derive anywhere.
    code = CLI.main(["verify", "--grid", grid, "--sample", "1", "--preset", VERIFY_PRESET[grid],
                     "--settled", *epochs])
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert lines and lines[-1].startswith("verified=1/1 "), out.out + out.err
    # Whichever check it was, it says which: bit for bit, or seeds on another path.
    assert lines[-2].split()[1] in {"identical", "statistical"}, out.out
    assert code == 0


@pytest.mark.skipif("toggles" not in STORED, reason="no stored toggles table")
def test_sizes_grid_runs_the_two_largest_ladder_steps():
    """08 says the size effects are the two largest steps of the PyTorch ladder."""
    from utils.results.comparisons import lab_summary

    summary = lab_summary(budgets=(12,))  # the sizes grid's budget
    pair_of = {label: (G.TORCH_LADDER[i - 1][1], recipe)
               for i, (label, recipe) in enumerate(G.TORCH_LADDER) if i}
    steps = summary[(summary.framework == "torch") & summary.toggle.isin(pair_of)]
    largest = steps.loc[steps["mean difference"].abs().nlargest(2).index, "toggle"]
    single_steps = [pair for pair in G.SIZE_EFFECTS.values() if pair in pair_of.values()]
    assert len(single_steps) == 2 and {pair_of[t] for t in largest} == set(single_steps)


@pytest.mark.skipif(not {"toggles", "toggles_converged"} <= set(STORED),
                    reason="no stored toggles tables")
def test_keras_epsilons_runs_stay_one_run_past_12_epochs_other_rungs_part_at_once():
    """08: the 12-epoch grid scores Keras' epsilons rung the same as the rung below it on
    every seed; the trained runs of the same seeds (another grid, other runs) must then
    agree, loss for loss, at least as long, and part only once probabilities near the loss
    guard's clip. The PyTorch rungs 08 names part in the first epoch."""
    from utils.results.comparisons import BUDGET, Setting, all_results, parting_epochs, scores_at

    results = all_results()
    below, eps = G.KERAS_LADDER[-2][1], G.KERAS_LADDER[-1][1]
    a, b = Setting("reset_after", "keras", below), Setting("epsilons", "keras", eps)
    fixed = [scores_at(results, s, BUDGET, "fixed") for s in (a, b)]
    seeds = sorted(set(fixed[0]) & set(fixed[1]))
    assert len(seeds) >= 6 and all(fixed[0][s]["f1"] == fixed[1][s]["f1"] for s in seeds)
    parts = parting_epochs(results, a, b)
    assert len(parts) >= 6
    parted = parts.dropna(subset=["parted at"])
    assert (parted["parted at"] > BUDGET).all(), parts
    # Before the clip can act, some probability must come near 1e-7: the parted seeds' own
    # outputs reached within a decade of it by the end.
    assert (parted["lowest test p"] < 1e-6).all(), parts
    # In PyTorch the same rung, and the Nesterov formulas (the same iterates in exact
    # arithmetic), part at once: other floating-point operations from the first step.
    for i, label in ((-1, "epsilons"), (3, "Nesterov formula")):
        assert G.TORCH_LADDER[i][0] == label
        steps = parting_epochs(results, Setting("a", "torch", G.TORCH_LADDER[i - 1][1]),
                               Setting("b", "torch", G.TORCH_LADDER[i][1]))
        assert len(steps) >= 6 and (steps["parted at"] == 1).all(), (label, steps)
