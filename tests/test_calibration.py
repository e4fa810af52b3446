"""The realistic task's calibration: its grid, and the table the results page shows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from utils.networks.recipe import KERAS_2017
from utils.results.comparisons import BUDGET, NOT_STORED, calibration_table
from utils.results.grids import CALIBRATION_SEEDS, CALIBRATION_TARGET, GRIDS, trained_toggle
from utils.task.dataset import PRESETS, REALISTIC_CANDIDATES, REALISTIC_CHOICE


def test_the_grid_trains_keras_2017_in_keras_on_every_candidate():
    jobs = GRIDS["realistic_calibration"]()
    assert {(j.preset, j.seed) for j in jobs} == {
        (p, s) for p in REALISTIC_CANDIDATES for s in CALIBRATION_SEEDS}
    assert {j.framework for j in jobs} == {"keras"}
    assert {j.recipe for j in jobs} == {trained_toggle(KERAS_2017)}
    # Seed by seed: a grid stopped part-way holds every candidate's first seeds.
    assert [j.seed for j in jobs] == sorted(j.seed for j in jobs)


def test_the_candidates_change_only_the_task():
    classroom = PRESETS["classroom"]
    for name in ("realistic", *REALISTIC_CANDIDATES):
        p = PRESETS[name]
        assert (p.sizes(), p.features) == (classroom.sizes(), classroom.features)
        assert p.synth != classroom.synth and p.synth.seed == classroom.synth.seed
    assert PRESETS["realistic"].synth == REALISTIC_CANDIDATES[REALISTIC_CHOICE]


def _rows(preset: str, scores: list[float], early: float) -> list[dict]:
    recipe = trained_toggle(KERAS_2017, preset).to_string()
    return [{"framework": "keras", "recipe": recipe, "preset": preset, "seed": s,
             "data_seed": s, "stop_reason": "patience", "test_f1": f,
             "epoch_test_f1": [early] * (BUDGET + 5)} for s, f in enumerate(scores)]


def test_the_table_reads_each_candidate_against_the_target():
    low, high = CALIBRATION_TARGET
    names = list(REALISTIC_CANDIDATES)
    mid = (low + high) / 2
    results = pd.DataFrame(_rows(names[0], [high + 0.1, high + 0.2, high + 0.05], 0.5)
                           + _rows(names[1], [low, mid, high + 0.3], 0.25))
    t = calibration_table(results)
    assert (t.preset == f"{REALISTIC_CHOICE} = realistic").sum() == 1  # the lessons' choice
    t = t.assign(preset=t.preset.str.replace(" = realistic", "")).set_index("preset")
    first, second = t.loc[names[0]], t.loc[names[1]]
    assert first["reading"] == "above the range" and first["seeds"] == 3
    assert np.isclose(first["median F1"], high + 0.1)
    assert np.isclose(first["lowest"], high + 0.05) and np.isclose(first["highest"], high + 0.2)
    assert np.isclose(first[f"median after {BUDGET} epochs"], 0.5)
    assert second["reading"] == "within the range" and np.isclose(second["median F1"], mid)
    assert t.loc[names[2], "reading"] == NOT_STORED and t.loc[names[2], "seeds"] == 0
    # One column per knob any candidate sets, with each candidate's value.
    assert t.loc[names[0], "snr_db"] == str(REALISTIC_CANDIDATES[names[0]].snr_db)


def test_once_a_rule_is_chosen_the_lessons_preset_is_read_under_it(monkeypatch):
    from utils.results import comparisons as C
    from utils.results.grids import STOPPING_RULES

    rule = next(iter(STOPPING_RULES))
    recipe = trained_toggle(KERAS_2017, "realistic", rule).to_string()
    low, high = CALIBRATION_TARGET
    rows = pd.DataFrame([{"framework": "keras", "recipe": recipe, "preset": "realistic",
                          "seed": s, "data_seed": s, "stop_reason": "patience",
                          "test_f1": low + 0.01 * s, "epoch_test_f1": [0.3] * (BUDGET + 5)}
                         for s in range(10)])
    monkeypatch.setattr(C, "GRID_RULE", None)
    assert len(calibration_table(pd.DataFrame(_rows("realistic_a", [0.5], 0.3)))) == len(
        REALISTIC_CANDIDATES)  # no rule chosen: the candidates only
    monkeypatch.setattr(C, "GRID_RULE", rule)
    last = calibration_table(pd.DataFrame(_rows("realistic_a", [0.5], 0.3)), rows).iloc[-1]
    assert last["preset"] == f"realistic, stopped by {rule}" and last["seeds"] == 10
    assert np.isclose(last["median F1"], low + 0.045) and last["reading"] == "within the range"
