"""The realistic task beside the classroom's: one table, one family, one generated answer
(synthetic rows here; the stored ones wait for the stopping rule)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utils.lessons.findings import task_answer
from utils.lessons.reference import thread_gap
from utils.networks.recipe import KERAS_2017, PYTORCH
from utils.results import store as S
from utils.results.comparisons import CONVERGED, LADDER_TOGGLE
from utils.results.grids import STOPPING_RULES, trained_toggle
from utils.results.tasks import TASK_FAMILY, TASKS, task_pairs, task_readings, task_summary

RULE = next(iter(STOPPING_RULES))


def _results(realistic_gap: float) -> pd.DataFrame:
    """Both ends of the ladder on both tasks under ``RULE``: after 12 epochs KERAS_2017 is
    ahead by 0.1 on both; trained, the gap closes on the classroom task and stays at
    ``realistic_gap`` on the realistic one."""
    rng = np.random.default_rng(1)
    rows = []
    for task in TASKS:
        end_gap = 0.0 if task == "classroom" else realistic_gap
        for fw in ("torch", "keras"):
            for seed in range(10):
                noise = rng.normal(0, 0.004, 2)
                for recipe, early, end in ((PYTORCH, 0.5, 0.8),
                                           (KERAS_2017, 0.6, 0.8 + end_gap)):
                    curve = list(np.r_[np.linspace(0.3, early, 12),
                                       np.linspace(early, end, 30)] + noise[int(recipe is PYTORCH)])
                    r = trained_toggle(recipe, task, RULE)
                    rows.append({"key": f"{fw}|{task}|{seed}|{r.to_string()}",
                                 "framework": fw, "recipe": r.to_string(),
                                 "recipe_name": r.name, "preset": task, "seed": seed,
                                 "data_seed": seed, "test_f1": curve[-1],
                                 "epoch_test_f1": curve, "epoch_valid_f1": curve,
                                 "best_epoch": len(curve), "stop_reason": "patience",
                                 "thresholds": [0.5] * 17, "test_probs": ""})
    return pd.DataFrame(rows, columns=[*S.COLUMNS, "grid"])


def test_both_tasks_share_one_family_and_the_answer_is_generated():
    table = task_summary(_results(0.05), rule=RULE)
    ladder = table[table.toggle == LADDER_TOGGLE]
    assert set(ladder.task) == set(TASKS) and set(table.family.dropna()) == {TASK_FAMILY}
    trained = ladder[ladder.budget == CONVERGED].set_index(["task", "framework"])
    assert trained.loc[("realistic", "torch"), "mean difference"] == pytest.approx(0.05, abs=0.01)
    assert trained.loc[("realistic", "torch"), "verdict"].startswith("larger")
    assert trained.loc[("classroom", "keras"), "verdict"].startswith("within")
    answer = task_answer(table)
    low, high = thread_gap()
    assert f"{low:+.3f} to {high:+.3f}" in answer
    # Placed by its interval, not by its mean: both lie inside the thread's range.
    assert answer.count("whose interval lies inside it") == 2
    assert "not told apart from the thread's in either framework" in answer
    assert "on the realistic task (10 paired seeds)" in answer
    assert "the realistic task says destination in PyTorch" in answer
    assert "the classroom task speed" in answer
    read = task_readings(table).set_index(["task", "toggle", "framework"]).reading
    assert read["realistic", LADDER_TOGGLE, "keras"].startswith("destination")
    # The answer follows the table: no trained gap on the realistic task either reads as speed.
    closed = task_answer(task_summary(_results(0.0), rule=RULE))
    assert "realistic task says speed" in closed
    assert "told apart from the thread's in PyTorch (below it) and Keras (below it)" in closed


def test_the_answer_says_what_it_waits_for():
    assert "wait for the stopping rule" in task_answer(task_summary(rule=None))
    half = _results(0.05)
    half = half[half.preset == "classroom"]
    assert "on realistic (PyTorch) and realistic (Keras) yet" in task_answer(
        task_summary(half, rule=RULE))
    # Five seeds are stored, too few for the exact test: the answer says how far the grids
    # have got and calls nothing decided.
    early = task_answer(task_summary(_results(0.05).query("seed < 5"), rule=RULE))
    assert "(5 of 10 planned paired seeds so far)" in early
    assert "realistic task says not yet decided (too few paired seeds) in PyTorch" in early
    # One framework short of seeds: its gap is not placed against the thread's range.
    rows = _results(0.05)
    short = (rows.preset == "realistic") & (rows.framework == "keras") & (rows.seed > 4)
    half = task_answer(task_summary(rows[~short], rule=RULE))
    assert "in PyTorch, whose interval lies inside it" in half
    assert "Keras has no interval yet" in half and "either framework" not in half


def test_every_comparison_is_asked_on_both_tasks_in_both_frameworks():
    pairs = task_pairs()
    seen = {(t, a.preset, a.framework) for t, a, _ in pairs}
    assert len(seen) == len(pairs)
    toggles = {t for t, _, _ in pairs}
    assert seen == {(t, task, fw) for t in toggles for task in TASKS for fw in ("torch", "keras")}


def test_the_figure_waits_with_the_table_and_draws_both_tasks():
    import matplotlib

    matplotlib.use("Agg")
    from utils.lessons.findings import plot_tasks

    assert plot_tasks(task_summary(rule=None)) is None
    fig = plot_tasks(task_summary(_results(0.05), rule=RULE))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert f"{LADDER_TOGGLE} · classroom" in labels and f"{LADDER_TOGGLE} · realistic" in labels
    # A comparison's two tasks are neighbours; one with no runs says so rather than stay blank.
    at = labels.index(f"{LADDER_TOGGLE} · classroom")
    assert labels[at + 1] == f"{LADDER_TOGGLE} · realistic"
    assert labels[0] == "conv/dense init · classroom (runs pending)"


def test_the_figure_draws_without_a_warning_while_one_framework_waits():
    """The realistic grid fills in one framework before the other: the panel that has no
    comparison yet must not leave an empty legend (a warning in the notebooks)."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    from utils.lessons.findings import plot_tasks

    rows = _results(0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_tasks(task_summary(rows[rows.framework == "torch"], rule=RULE))
    legends = [ax.get_legend() for ax in fig.axes]
    assert legends[0] is not None and legends[1] is None  # the torch panel carries it


def test_the_difficulty_table_pairs_each_ablation_with_the_whole_task():
    from utils.results.tasks import difficulty_table
    from utils.task.dataset import ABLATION_GROUPS, ablation_name

    rows = []
    lift = {ablation_name(g): 0.1 * (i + 1) for i, g in enumerate(ABLATION_GROUPS)}
    for preset in ("realistic", *lift):
        r = trained_toggle(KERAS_2017, preset, RULE)
        for seed in range(3):
            end = 0.5 + lift.get(preset, 0.0) + 0.01 * seed
            curve = list(np.linspace(0.2, end, 30))
            rows.append({"key": f"keras|{preset}|{seed}|{r.to_string()}", "framework": "keras",
                         "recipe": r.to_string(), "recipe_name": r.name, "preset": preset,
                         "seed": seed, "data_seed": seed, "test_f1": end,
                         "epoch_test_f1": curve, "epoch_valid_f1": curve, "best_epoch": 30,
                         "stop_reason": "patience", "thresholds": [0.5] * 17,
                         "test_probs": ""})
    table = difficulty_table(pd.DataFrame(rows, columns=[*S.COLUMNS, "grid"]), rule=RULE)
    gains = table.set_index("preset")["gain (paired seeds)"]
    for preset, up in lift.items():
        assert gains[preset] == pytest.approx(up)
    assert np.isnan(gains["realistic"]) and (table.seeds == 3).all()
    # A count reads as one: "3", not "3.000"; empty where there is nothing to pair.
    assert table.set_index("preset")["paired seeds"].to_dict() == {"realistic": "", **{
        p: "3" for p in lift}}
    assert (difficulty_table(rule=None).reading == "waits for the stopping rule").all()
    # The sentence under it ranks the groups by their gain, each with its seeds' range.
    from utils.results.tasks import difficulty_sentence

    said = difficulty_sentence(table)
    first, last = list(ABLATION_GROUPS)[-1], list(ABLATION_GROUPS)[0]  # largest lift last
    assert said.startswith("On 3 paired seeds per group")
    assert said.index(first) < said.index(last) and "not a verdict" in said
    assert "No group of knobs" in difficulty_sentence(table.iloc[:1])


def test_the_chosen_rule_joins_the_sensitivity_table(monkeypatch):
    """Where the chosen rule's runs pair their seeds, the lab's table reads the comparison
    under that rule, and the sensitivity table shows that verdict as the lab's; elsewhere
    the lab keeps the first grids' rule."""
    from utils.results import comparisons as C

    monkeypatch.setattr(C, "GRID_RULE", RULE)
    table = C.stopping_sensitivity(_results(0.05))
    ladder = table[table.toggle == LADDER_TOGGLE].set_index("framework")
    # On the synthetic classroom runs the gap closes once trained: within under the rule.
    assert ladder.loc["torch", RULE].endswith("within")
    assert (ladder["the lab reads"] == RULE).all()
    others = table[table.toggle != LADDER_TOGGLE]
    assert (others[RULE] == "").all()  # no runs under the rule: no verdict, no move
    assert (others["the lab reads"] == C.STORED_RULE).all()
    # No run at patience 15 in these rows: nothing to move against.
    assert (ladder["stopping rule"] == "same verdict").all()
    lab = C.lab_summary(_results(0.05))
    assert set(lab[lab.toggle == LADDER_TOGGLE]["stopped by"]) == {RULE}


def test_the_answer_names_the_defaults_that_carry_the_gap():
    """Per task, the single defaults larger after family control at each budget, and a
    ladder larger trained that none of the thread's four defaults carries alone."""
    from utils.lessons.findings import carriers
    from utils.results.comparisons import THREAD_CULPRITS

    rows = [{"task": "realistic", "toggle": t, "framework": "keras", "budget": b,
             "mean difference": d, "verdict": v}
            for t, b, d, v in [*((c, CONVERGED, 0.01, "within seed noise")
                                 for c in THREAD_CULPRITS),
                               ("input [-128, 128] (vs standardised)", CONVERGED, -0.3,
                                "larger than seed noise"),
                               (LADDER_TOGGLE, CONVERGED, 0.08, "larger than seed noise")]]
    rows += [{"task": "classroom", "toggle": "GRU init", "framework": "keras", "budget": b,
              "mean difference": np.nan, "verdict": "not stored yet"} for b in (12, CONVERGED)]
    said = carriers(pd.DataFrame(rows))
    assert "On the classroom task the single defaults wait for their runs" in said
    assert "trained, input [-128, 128] (vs standardised) at -0.300 in Keras" in said
    assert "after 12 epochs, none of those measured" in said
    assert "In Keras the whole ladder is larger than seed noise trained" in said
    # One of the four larger on its own: the ladder's gap is no longer called unexplained.
    rows[0]["verdict"] = "larger than seed noise"
    assert "In Keras the whole ladder" not in carriers(pd.DataFrame(rows))


def test_the_answer_names_the_verdicts_that_differ_between_the_tasks():
    """Only verdicts both tasks decide (six paired seeds) are set side by side; a difference
    is named under the task where the comparison is larger, at its budget."""
    from utils.lessons.findings import task_answer, task_contrast

    rows = [{"task": task, "toggle": t, "framework": fw, "budget": b, "seeds": n,
             "verdict": v}
            for task, t, fw, b, n, v in [
                ("classroom", "GRU init", "keras", 12, 6, "larger than seed noise"),
                ("realistic", "GRU init", "keras", 12, 10, "within seed noise"),
                ("classroom", "Adam", "torch", CONVERGED, 6, "within seed noise"),
                ("realistic", "Adam", "torch", CONVERGED, 10, "larger than seed noise"),
                ("classroom", "gate", "torch", CONVERGED, 10, "within seed noise after "
                 "family control (alone p = 0.02)"),
                ("realistic", "gate", "torch", CONVERGED, 10, "within seed noise"),
                # Five seeds cannot decide: not set beside the realistic verdict.
                ("classroom", "input", "keras", CONVERGED, 5, "within seed noise"),
                ("realistic", "input", "keras", CONVERGED, 10, "larger than seed noise")]]
    said = task_contrast(pd.DataFrame(rows))
    assert said.startswith("Of the 3 verdicts both tasks make (a comparison at one budget), "
                           "2 differ between the tasks.")
    assert "Larger than seed noise on the classroom task only: after 12 epochs, GRU init in " \
           "Keras." in said
    assert "Larger than seed noise on the realistic task only: trained, Adam in PyTorch." in said
    assert "input" not in said and "1 more waits for the 6 paired seeds" in said
    assert "differ" in task_answer(task_summary(_results(0.08), rule=RULE))


def test_a_difference_resting_on_fewer_seeds_is_said_to_be_open():
    from utils.lessons.findings import task_contrast

    def table(classroom_seeds):
        return pd.DataFrame([{"task": task, "toggle": "Adam", "framework": "torch",
                              "budget": CONVERGED, "seeds": n, "verdict": v}
                             for task, n, v in [
                                 ("classroom", classroom_seeds, "within seed noise"),
                                 ("realistic", 10, "larger than seed noise")]])

    assert "fewer paired seeds" in task_contrast(table(6))
    assert "fewer paired seeds" not in task_contrast(table(10))


def test_the_lab_reads_the_chosen_rule_once_its_seeds_pair(monkeypatch):
    """A comparison the rerun grid covers is read under the chosen rule from the fifth
    paired seed on, under the first grids' rule before; one pair is never read under two
    rules, and a shorter patience is replayed only on the first grids' runs."""
    from dataclasses import replace

    from utils.results import comparisons as C
    from utils.results.grids import extras

    monkeypatch.setattr(C, "GRID_RULE", RULE)
    rows = _results(0.05)
    classroom = rows[rows.preset == "classroom"]
    a, b = (C.Setting(n, "torch", r) for n, r in (("a", PYTORCH), ("b", KERAS_2017)))
    for seeds, read in ((C.MIN_SEEDS - 1, None), (C.MIN_SEEDS, RULE)):
        assert C.lab_rule(a, b, classroom[classroom.seed < seeds]) == read
    assert C.lab_rule(a, b, rows[rows.preset == "realistic"]) is None  # no classroom runs
    # A pipeline setting outside the rerun grid keeps the first grids' rule.
    other = C.Setting("c", "torch", extras("torch")["hard_sigmoid_keras3"])
    assert C.lab_rule(a, other, classroom) is None
    with pytest.raises(ValueError, match="one pair, one stopping rule"):
        C.budget_summary([("x", a, replace(b, rule=RULE))], classroom, budgets=(12,))
    with pytest.raises(ValueError, match="replayed on the stored grids' runs"):
        C.scores_at(classroom, replace(a, rule=RULE), CONVERGED, patience=5)
    # The table names the rule, and keys the comparison with it.
    t = C.lab_summary(classroom)
    ladder = t[t.toggle == LADDER_TOGGLE]
    assert set(ladder["stopped by"]) == {RULE}
    assert ladder.key.str.endswith(f"stopped by {RULE}").all()
