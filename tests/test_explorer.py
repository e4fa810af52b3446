"""The explorer of notebook 08 without a browser: controls → recipe → stored seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from utils.lessons.explorer import ADAM_LR, Explorer  # noqa: E402
from utils.networks.recipe import KERAS_2017, PYTORCH  # noqa: E402
from utils.results.comparisons import all_results  # noqa: E402


@pytest.fixture(scope="module")
def results():
    return all_results()


def test_controls_describe_the_presets(results):
    ex = Explorer(results)
    assert ex.recipe() == PYTORCH
    ex.start.value = "keras_2017"
    assert ex.recipe() == KERAS_2017
    ex.knobs["optimizer"].value = "adam"
    assert ex.recipe().learning_rate == ADAM_LR


def test_stored_seeds_are_found_for_the_presets(results):
    ex = Explorer(results)
    for fw in ("torch", "keras"):
        ex.framework.value = fw
        assert len(ex.stored_f1(PYTORCH)) == len(ex.stored_f1(KERAS_2017)) == 10
        # ... and the same presets trained until they stopped learning (reference_converged)
        trained = ex.stored_f1(KERAS_2017, trained_runs=True)
        assert len(trained) == 10 and not np.array_equal(trained, ex.stored_f1(KERAS_2017))
    ex.refresh()
    assert "10 trained until they stopped learning" in ex.status.value


def test_refresh_redraws_in_place(results):
    ex = Explorer(results)
    ex.refresh()
    ex.knobs["gate_activation"].value = "hard_sigmoid_keras2"
    ex.refresh()
    assert len(ex.output.outputs) == 1  # cleared and redrawn, never stacked
    assert "image/png" in ex.output.outputs[0]["data"]
    assert "stored seeds" in ex.status.value


def test_live_button_trains_and_overlays(results, smoke_data_root):
    ex = Explorer(results, smoke=True)
    ex.run_button.click()
    assert len(ex.live[ex.recipe().to_string()]) == 1
    assert "live run: test F1" in ex.status.value


def test_every_toggle_pair_is_one_default_apart_within_one_framework():
    from utils.networks.recipe import LADDER, diff
    from utils.results.comparisons import toggle_pairs

    groups = [set(names) for _, names in LADDER]
    pairs = toggle_pairs()
    assert {a.framework for _, a, _ in pairs} == {"torch", "keras"}
    for toggle, a, b in pairs:
        changed = set(diff(a.recipe, b.recipe))
        assert a.framework == b.framework and changed, toggle
        # a ladder step, or one pipeline knob (Adam comes with its own learning rate)
        assert changed in groups or len(changed) == 1 or changed == {
            "optimizer", "learning_rate"}, (toggle, changed)
        if toggle in dict(LADDER):  # framework defaults: b holds the Keras-2017 value
            assert all(getattr(b.recipe, f) == getattr(KERAS_2017, f) for f in changed)


def test_lab_summary_reports_stored_pairs(results):
    from utils.results.comparisons import NOT_STORED, lab_summary

    s = lab_summary(results)
    first = s[(s.toggle == "conv/dense init") & (s.framework == "torch")].iloc[0]
    assert first.verdict != NOT_STORED and first["CI low"] <= first["mean difference"]


def _after_twelve_epochs(results, recipe, runs: str, rule: str | None = None):
    """Test F1 after 12 epochs of the stored torch seeds of ``recipe``, sorted by seed, from
    the runs a summary row says it read: fixed 12-epoch runs or the curves of the trained
    runs stopped by ``rule`` (None: the first trained grids' rule)."""
    from utils.results.grids import trained_toggle
    from utils.results.store import f1_of, rows_of

    if runs == "fixed-budget runs":
        return f1_of(results, "torch", recipe)
    trained_runs = rows_of(results, "torch", trained_toggle(recipe, "classroom", rule))
    trained_runs = trained_runs[trained_runs.stop_reason != "fixed"]
    return np.array([curve[11] for curve in trained_runs.epoch_test_f1])


def test_size_summary_covers_every_effect_and_size(results):
    import numpy as np

    from utils.results.comparisons import NOT_STORED, size_summary
    from utils.results.grids import SIZE_EFFECTS

    s = size_summary(results)
    assert list(s.effect.unique()) == list(SIZE_EFFECTS)
    assert set(s.framework) == {"torch", "keras"} and set(s.budget) == {12, "converged"}
    assert all(g.clips.is_monotonic_increasing
               for _, g in s.groupby(["effect", "framework", "budget"]))
    # the classroom size comes from the toggles grids: ten seeds, paired by data seed, after
    # 12 epochs from the fixed runs or, once they pair as many seeds, the trained runs' curves
    effect = next(iter(SIZE_EFFECTS))
    room = s[(s.preset == "classroom") & (s.effect == effect) & (s.framework == "torch")
             & (s.budget == 12)].iloc[0]
    assert room.verdict != NOT_STORED and room.seeds == 10
    a, b = (_after_twelve_epochs(results, r, room.runs) for r in SIZE_EFFECTS[effect])
    assert room["diff"] == pytest.approx(np.mean(b - a))
    assert room.ci_low <= room["diff"] <= room.ci_high and room.mde > 0


def test_a_size_in_no_grid_gets_its_column_once_its_rows_are_stored(results):
    from utils.results.comparisons import size_summary
    from utils.results.grids import SIZE_EFFECTS
    from utils.results.store import f1_of

    assert "x16" not in set(size_summary(results).preset)  # no x16 rows are stored
    # The classroom 12-epoch rows of the two ends of one effect, stored as if run on x16
    # (`run --grid ... --data x16`): the column appears, its runs paired as stored.
    a, b = SIZE_EFFECTS["Keras conv/dense init"]
    picked = results[(results.grid.isin(["reference", "toggles"])) & (results.framework == "torch")
                     & (results.preset == "classroom")
                     & results.recipe.isin([a.to_string(), b.to_string()])]
    s = size_summary(pd.concat([results, picked.assign(preset="x16")], ignore_index=True),
                     frameworks=("torch",), budgets=(12,))
    x16 = s[(s.preset == "x16") & (s.effect == "Keras conv/dense init")].iloc[0]
    assert x16.clips == 32000 and x16.seeds == 10 and x16.runs == "fixed-budget runs"
    assert x16["diff"] == pytest.approx(np.mean(f1_of(results, "torch", b)
                                                - f1_of(results, "torch", a)))
    assert s.groupby("effect").clips.is_monotonic_increasing.all()  # x16 comes last


def test_summary_command_prints_the_stored_effects(results, capsys, classroom_data_root):
    import numpy as np

    from utils.experiments import main
    from utils.results.comparisons import SOURCES, STORED_RULE, Setting, lab_rule
    from utils.results.grids import SIZE_EFFECTS

    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "Every toggle" in out and "Effect versus training-set size" in out
    first, readings = out.split("Speed or destination")[:2]
    lines = [s for s in first.splitlines()
             if s.strip().startswith("conv/dense init") and " torch " in s]
    assert len(lines) == 2  # the 12-epoch budget, then convergence; no unpaired table left
    runs = next(r for r in SOURCES.values() if r in lines[0])  # the line says which runs
    # ... and under which stopping rule the lab's table reads them
    pair = [Setting("", "torch", r) for r in SIZE_EFFECTS["Keras conv/dense init"]]
    rule = lab_rule(*pair, results)
    assert (rule or STORED_RULE)[:20] in lines[0]
    a, b = (_after_twelve_epochs(results, r, runs, rule)
            for r in SIZE_EFFECTS["Keras conv/dense init"])
    assert f"{np.mean(b - a):.3f}" in lines[0]  # seeds 0-9 on both sides, in order
    # Then the two budgets read together, one line per comparison (before the stopping rule's
    # and the sequential plan's tables, which list the comparisons again).
    readings = readings.split("Each trained verdict as the lab reads it")[0]
    assert sum(s.strip().startswith("conv/dense init") for s in readings.splitlines()) == 2


def test_describe_sizes_follows_the_table(results):
    from utils.results.comparisons import NOT_STORED, describe_sizes, size_summary

    table = size_summary(results)
    lines = describe_sizes(table)
    assert len(lines) == len(table.groupby(["effect", "framework", "budget"]))
    head = table.iloc[0]
    first = table[(table.effect == head.effect) & (table.framework == head.framework)
                  & (table.budget == head.budget)].dropna(subset=["diff"])
    assert lines[0].startswith(f"{head.effect} ({head.framework}), after 12 epochs")
    assert lines[0].endswith(first.sort_values("clips").iloc[-1].verdict)
    assert all(f"{d:+.3f}" in lines[0] for d in first["diff"])
    blank = table.assign(diff=float("nan"))
    assert all(NOT_STORED in s for s in describe_sizes(blank))
