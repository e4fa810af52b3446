"""The stopping rule: when a curve counts as still rising, and how a rule is chosen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utils.results import grids as G
from utils.results.grids import GRID_RULE, RERUN_TOGGLES, STOPPING_RULES
from utils.results.stopping import (
    CHOICE_RISING,
    CHOICE_RUNS,
    RISE_TOL,
    choose_rule,
    rise,
    still_rising,
)


def _evidence(runs: int, rising: float, epochs=(150, 120)) -> pd.DataFrame:
    rules = list(STOPPING_RULES)
    return pd.DataFrame([{"rule": rule, "framework": fw, "runs": runs,
                          "median epochs": e, "still rising at the stop": rising}
                         for rule, e in zip(rules, epochs) for fw in ("torch", "keras")])


def test_a_flat_noisy_curve_is_not_rising_but_a_slow_climb_is():
    rng = np.random.default_rng(0)
    flat = [0.8 + rng.normal(0, 0.01, 80) for _ in range(200)]
    # Without a tolerance about half of the flat curves would count as rising.
    assert 0.3 < np.mean([rise(c) > 0 for c in flat]) < 0.7
    assert np.mean([still_rising(c) for c in flat]) < 0.1  # the stored runs' noise level
    climb = np.r_[np.linspace(0.5, 0.8, 50), 0.8 + np.linspace(0, 4 * RISE_TOL, 40)]
    assert still_rising(climb)


def test_no_rule_is_chosen_before_each_framework_has_its_runs():
    chosen, why = choose_rule(_evidence(CHOICE_RUNS - 1, 0.0))
    assert chosen is None and f"{CHOICE_RUNS - 1}/{CHOICE_RUNS}" in why


def test_the_cheapest_rule_that_finds_the_plateau_is_chosen():
    rules = list(STOPPING_RULES)
    assert choose_rule(_evidence(CHOICE_RUNS, 0.0))[0] == rules[1]  # fewer epochs
    ev = _evidence(CHOICE_RUNS, 0.0)
    ev.loc[(ev.rule == rules[1]) & (ev.framework == "keras"),
           "still rising at the stop"] = CHOICE_RISING + 0.01
    chosen, why = choose_rule(ev)
    assert chosen == rules[0] and "Chosen" in why
    assert choose_rule(_evidence(CHOICE_RUNS, CHOICE_RISING + 0.01))[0] is None


def test_the_grids_rule_is_the_one_the_stored_curves_choose():
    # Fails when the stopping grid decides a rule that the next trained grids do not use,
    # or when a rule is named before the curves chose it.
    assert GRID_RULE == choose_rule()[0]


def test_rerun_list_is_what_the_tables_say_moved_or_claimed_a_destination():
    """The rerun list, derived again from the first trained grids as the lab's table read
    them before the chosen rule (all its comparisons at patience 15, one family): every
    comparison whose trained verdict moved under a shorter patience replayed on the same
    curves, and every destination claim."""
    from utils.results.comparisons import (
        CONVERGED,
        REPLAYED_PATIENCE,
        STORED_RULE,
        _state,
        all_results,
        budget_summary,
        lab_pairs,
        readings,
    )

    results = all_results()
    first = budget_summary(lab_pairs(), results, rule=STORED_RULE)
    trained = first[first.budget == CONVERGED].reset_index(drop=True)
    states = [[_state(r) for r in trained.to_dict("records")]]
    states += [[_state(r) for r in budget_summary(lab_pairs(), results, (CONVERGED,),
                                                  patience=p).to_dict("records")]
               for p in REPLAYED_PATIENCE]
    decided = [[s for s in column if s not in ("missing", "undecidable")]
               for column in zip(*states)]
    moved = {t for t, column in zip(trained.toggle, decided) if len(set(column)) > 1}
    read = readings(first)
    destination = set(read.toggle[read.reading.str.startswith("destination")])
    assert moved and destination
    assert set(RERUN_TOGGLES) == moved | destination


def test_the_rule_grids_cover_every_comparison_they_serve(monkeypatch):
    from utils.networks.recipe import KERAS_2017, PYTORCH
    from utils.results.comparisons import lab_pairs, sequential_pairs

    monkeypatch.setattr(G, "GRID_RULE", next(iter(STOPPING_RULES)))
    rerun = {j.key for j in G.GRIDS["rerun"]()}
    sequential = G.GRIDS["sequential"]()
    serve = [p for p in lab_pairs() if p[0] in RERUN_TOGGLES] + sequential_pairs()
    assert {fw for _, a, _ in serve for fw in [a.framework]} == {"torch", "keras"}
    made = {r["key"] for r in G.read_table(G.table_path("stopping"))}
    for toggle, a, b in serve:
        for side in (a, b):
            for seed in G.SEEDS:
                job = G.Job(G.under_grid_rule(side.recipe), side.framework, seed)
                assert job.key in rerun | made, (toggle, side.label, seed)
    assert not rerun & made  # a run the stopping grid made under the rule is not made twice
    # The ladder's ends come first, seed by seed, so a part-way grid holds the whole ladder.
    ends = (PYTORCH.name, KERAS_2017.name)
    jobs = G.GRIDS["rerun"]()
    n_ends = sum(j.recipe.name in ends for j in jobs)
    assert n_ends and all(j.recipe.name in ends for j in jobs[:n_ends])
    assert [j.seed for j in jobs[:n_ends]] == sorted(j.seed for j in jobs[:n_ends])
    # Then the realistic task's story settings, each to DECISIVE_SEEDS seeds one setting
    # after another, before the other inputs.
    story = {(fw, r.name) for fw in ("torch", "keras") for r in G.ladder_settings(fw)
             + [G.extras(fw)[k] for k in G.REALISTIC_EXTRAS]}
    rest = [(j.framework, j.recipe.name) in story for j in jobs[n_ends:]]
    assert rest == sorted(rest, reverse=True) and not all(rest)
    first = [j for j in jobs[n_ends:] if j.seed < G.DECISIVE_SEEDS][:G.DECISIVE_SEEDS * 2]
    assert [j.seed for j in first] == [*range(G.DECISIVE_SEEDS)] * 2
    assert len({(j.framework, j.recipe.name) for j in first}) == 2
    # The sequential plan's added seeds: 10-29, after the rerun grid's ten, nothing twice.
    assert sorted({j.seed for j in sequential}) == list(range(10, 30))
    assert {j.key for j in sequential}.isdisjoint(rerun)
    # Every job runs under the chosen rule.
    rule = STOPPING_RULES[G.GRID_RULE]
    assert all(getattr(j.recipe, k) == v for j in sequential for k, v in rule.items()
               if k != "lr_schedule")


def test_the_realistic_grid_is_the_story_on_the_realistic_task(monkeypatch):
    from utils.networks.recipe import KERAS_2017, PYTORCH

    monkeypatch.setattr(G, "GRID_RULE", next(iter(STOPPING_RULES)))
    jobs = G.GRIDS["realistic"]()
    assert {j.preset for j in jobs} == {"realistic"}
    assert {j.seed for j in jobs} == set(G.SEEDS)
    per_fw = {fw: {j.recipe for j in jobs if j.framework == fw} for fw in ("torch", "keras")}
    for recipes in per_fw.values():
        # the ladder's four thread rungs and both ends, the input range and the optimizer
        assert len(recipes) == len(G.SEQUENTIAL_RUNGS) + 1 + len(G.REALISTIC_EXTRAS)
        for r in (PYTORCH, KERAS_2017):
            assert G.under_grid_rule(r, "realistic") in recipes
    assert len(jobs) == len(set(j.key for j in jobs))
    # The calibration comes first: KERAS_2017 in Keras on every seed confirms the preset.
    first = jobs[:len(G.SEEDS)]
    assert {(j.framework, j.recipe) for j in first} == {
        ("keras", G.under_grid_rule(KERAS_2017, "realistic"))}
    # Then the ladder's ends in both frameworks on every seed, before any rung between them.
    ends = {G.under_grid_rule(r, "realistic") for r in (PYTORCH, KERAS_2017)}
    n_ends = 3 * len(G.SEEDS)  # PYTORCH in both frameworks, KERAS_2017 in PyTorch
    assert {j.recipe for j in jobs[len(G.SEEDS):len(G.SEEDS) + n_ends]} <= ends
    assert not {j.recipe for j in jobs[len(G.SEEDS) + n_ends:]} & ends
    assert [j.seed for j in jobs[len(G.SEEDS):len(G.SEEDS) + n_ends]] == sorted(
        j.seed for j in jobs[len(G.SEEDS):len(G.SEEDS) + n_ends])


def test_the_ablation_grid_takes_one_knob_group_off_at_a_time(monkeypatch):
    from utils.networks.recipe import KERAS_2017
    from utils.task.dataset import ABLATION_GROUPS, PRESETS, REALISTIC_CHOICE, ablation_name

    monkeypatch.setattr(G, "GRID_RULE", next(iter(STOPPING_RULES)))
    jobs = G.GRIDS["realistic_ablation"]()
    assert len(jobs) == len(ABLATION_GROUPS) * len(G.ABLATION_SEEDS)
    full = PRESETS["realistic"].synth.knobs()
    assert PRESETS["realistic"].synth == PRESETS[REALISTIC_CHOICE].synth
    for group, knobs in ABLATION_GROUPS.items():
        ablated = PRESETS[ablation_name(group)].synth.knobs()
        # exactly the group's knobs are gone, every other knob is the realistic task's
        assert {k: v for k, v in full.items() if k not in knobs} == ablated
        assert set(full) & set(knobs)
    assert {j.recipe for j in jobs} == {G.under_grid_rule(KERAS_2017, j.preset) for j in jobs}


def _fake_scores(noisy: set, seeds: int):
    """A stand-in for ``scores_at``: every setting of the sequential family scores its own
    level on each seed, the ``noisy`` ones with a spread that leaves their comparisons open."""
    from utils.results.comparisons import sequential_pairs

    rng = np.random.default_rng(0)
    sides = {(s.framework, s.recipe): s for _, a, b in sequential_pairs() for s in (a, b)}
    level = {k: 0.5 + 0.03 * i for i, k in enumerate(sides)}
    draws = {k: rng.normal(0, 0.05 if k in noisy else 0.001, 30) for k in sides}

    def scores_at(results, setting, budget, rule=None, **_):
        k = (setting.framework, setting.recipe)
        return {s: {"f1": level[k] + draws[k][s]} for s in range(seeds)}

    return scores_at


def test_the_sequential_plan_adds_seeds_only_where_a_comparison_is_open(monkeypatch):
    from utils.results import comparisons as C

    pairs = C.sequential_pairs()
    torch_nesterov = next(b for t, a, b in pairs
                          if t == "Nesterov formula" and a.framework == "torch")
    noisy = {(torch_nesterov.framework, torch_nesterov.recipe)}
    # Before the first look is stored, which settings need seeds is not known.
    monkeypatch.setattr(C, "scores_at", _fake_scores(noisy, seeds=9))
    with pytest.raises(G.GridNotReady, match="first look"):
        C.sequential_jobs(pd.DataFrame())
    monkeypatch.setattr(C, "scores_at", _fake_scores(noisy, seeds=10))
    table = C.sequential_summary(pd.DataFrame())
    still_open = table.decision.str.startswith("undecided")
    # The noisy setting opens the two comparisons it sits in; the rest are decided.
    assert still_open.sum() == 2 and (table["looks taken"] == 1).all()
    jobs = C.sequential_jobs(pd.DataFrame())
    assert {j.seed for j in jobs} == set(range(10, 20))
    wanted = {(s.framework, G.under_grid_rule(s.recipe))
              for (_, a, b), o in zip(pairs, still_open) if o for s in (a, b)}
    assert {(j.framework, j.recipe) for j in jobs} == wanted and len(wanted) == 3
    assert len(jobs) == 3 * 10
    # At the second look only the open ones are computed; the decided keep their look.
    monkeypatch.setattr(C, "scores_at", _fake_scores(noisy, seeds=20))
    table = C.sequential_summary(pd.DataFrame())
    assert (table["looks taken"] == 2).all()
    assert (table["seeds at decision"][~still_open] == 10).all()
    assert (table["seeds at decision"][still_open] == 20).all()
