"""Paired comparisons at a budget and at convergence, from stored rows (synthetic here)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from utils.networks.recipe import KERAS_2017, PYTORCH, trained
from utils.results import store as S
from utils.results.comparisons import CONVERGED, NOT_STORED, Setting, budget_summary, scores_at
from utils.training.trainer import encode_probs

RNG = np.random.default_rng(0)
Y = RNG.random((50, 17)) < 0.2


def _row(recipe, seed, curve, kept, stop, probs=None):
    return {"key": f"torch|classroom|{seed}|{recipe.to_string()}", "framework": "torch",
            "recipe": recipe.to_string(), "recipe_name": recipe.name, "preset": "classroom",
            "seed": seed, "data_seed": seed, "test_f1": curve[kept - 1],
            "epoch_test_f1": curve if stop != "fixed" else [], "best_epoch": kept,
            "stop_reason": stop, "thresholds": [0.5] * 17,
            "test_probs": encode_probs(probs) if probs is not None else ""}


def _results():
    rows = []
    for seed in range(6):
        base = 0.4 + 0.05 * seed
        # PYTORCH learns slower but ends at the same place; KERAS_2017 learns faster.
        slow = [base + 0.01 * e for e in range(20)]
        fast = [min(base + 0.03 * e, base + 0.19) for e in range(20)]
        p_slow = np.where(Y, 0.6, 0.4) + 0.01 * RNG.random(Y.shape)
        p_fast = np.where(Y, 0.6, 0.4) + 0.01 * RNG.random(Y.shape)
        rows += [_row(trained(PYTORCH), seed, slow, 20, "cap", p_slow),
                 _row(trained(KERAS_2017), seed, fast, 20, "patience", p_fast),
                 _row(replace(PYTORCH, epochs=12), seed, slow[:12], 12, "fixed")]
    return pd.DataFrame(rows, columns=[*S.COLUMNS, "grid"])


def test_scores_come_from_the_curve_at_a_budget_and_the_kept_epoch_at_convergence():
    results = _results()
    s = Setting("PYTORCH", "torch", PYTORCH)
    at12, conv = scores_at(results, s, 12), scores_at(results, s, CONVERGED)
    assert sorted(at12) == sorted(conv) == list(range(6))
    assert at12[2]["f1"] == 0.5 + 0.01 * 11 and conv[2]["f1"] == 0.5 + 0.01 * 19


def test_a_budget_falls_back_to_fixed_rows_of_exactly_that_budget():
    from utils.results.comparisons import _pair_scores

    results = _results()
    s = Setting("PYTORCH", "torch", PYTORCH)
    assert len(scores_at(results, s, 12, "fixed")) == 6
    assert scores_at(results, s, 5, "fixed") == {}  # no fixed rows of 5 epochs
    # A pair takes both sides from one kind of run: the curves only if both have them.
    only_fixed = results[results.stop_reason == "fixed"]
    sa, sb, source = _pair_scores(only_fixed, s, s, 12)
    assert source == "fixed" and len(sa) == len(sb) == 6
    mixed = results[(results.stop_reason == "fixed") | (results.recipe_name == "pytorch")]
    other = Setting("KERAS_2017", "torch", KERAS_2017)
    keras_fixed = pd.DataFrame([_row(replace(KERAS_2017, epochs=12), seed, [0.3] * 12, 12,
                                     "fixed") for seed in range(3)], columns=mixed.columns)
    sa, sb, source = _pair_scores(pd.concat([mixed, keras_fixed]), s, other, 12)
    assert source == "fixed" and len(sa) == 6 and len(sb) == 3


def test_at_a_budget_the_trained_runs_serve_once_they_pair_enough_seeds():
    """The strips and the verdicts read the same runs: the trained runs' curves, as soon as
    they pair the seeds a comparison is shown from, even where a fixed-budget table pairs
    more; the fixed table only stands in while the trained runs pair fewer."""
    from utils.results.comparisons import _pair_scores

    def rows(curve_seeds):
        out = []
        for seed in range(10):
            for r in (PYTORCH, KERAS_2017):
                curve = [0.3 + 0.01 * e for e in range(20)]
                out.append(_row(replace(r, epochs=12), seed, curve[:12], 12, "fixed"))
                if seed in curve_seeds:
                    out.append(_row(trained(r), seed, curve, 20, "patience"))
        return pd.DataFrame(out, columns=[*S.COLUMNS, "grid"])

    a, b = Setting("a", "torch", PYTORCH), Setting("b", "torch", KERAS_2017)
    sa, _, source = _pair_scores(rows(range(6)), a, b, 12)
    assert source == "curve" and len(sa) == 6
    sa, _, source = _pair_scores(rows(range(3)), a, b, 12)
    assert source == "fixed" and len(sa) == 10
    sa, _, source = _pair_scores(rows(range(10)), a, b, 12)
    assert source == "curve" and len(sa) == 10
    assert len(_pair_scores(rows(range(6)), a, b, CONVERGED)[0]) == 6
    # Too few to compare either way, the runs filling up are the ones counted (a Keras size
    # has trained curves and no fixed-budget table).
    curves_only = rows(range(4))
    curves_only = curves_only[curves_only.stop_reason != "fixed"]
    sa, _, source = _pair_scores(curves_only, a, b, 12)
    assert source == "curve" and len(sa) == 4


def test_step_decay_settings_are_read_from_their_trained_runs_at_both_budgets():
    """Trained step-decay runs drop η on a plateau (trained_toggle): found at convergence
    under that recipe, and at 12 epochs read from the same runs' curves (the strips and the
    verdict read one set of runs); their fixed 12-epoch runs stand in only while the trained
    runs pair too few seeds."""
    from utils.results.comparisons import _pair_scores
    from utils.results.grids import trained_toggle

    step = replace(KERAS_2017, lr_schedule="step")
    other = replace(step, momentum_formula="pytorch")
    rows = []
    for seed in range(6):
        curve = [0.3 + 0.01 * e for e in range(40)]
        for r in (step, other):
            rows += [_row(trained_toggle(r), seed, curve, 40, "patience"),
                     _row(replace(r, epochs=12), seed, [0.2] * 12, 12, "fixed")]
    results = pd.DataFrame(rows, columns=[*S.COLUMNS, "grid"])
    a, b = Setting("a", "torch", other), Setting("b", "torch", step)
    assert len(scores_at(results, a, CONVERGED)) == 6
    sa, _, source = _pair_scores(results, a, b, 12)
    assert source == "curve" and abs(sa[0]["f1"] - 0.41) < 1e-9
    few = results[(results.stop_reason == "fixed") | (results.seed < 2)]
    assert _pair_scores(few, a, b, 12)[2] == "fixed"
    # The table says which schedule the runs it read followed (readings warn of two).
    from utils.results.comparisons import _schedule
    from utils.results.grids import TRAINED_PLATEAU_EPOCHS
    assert _schedule(a, b, "fixed") == f"every {step.lr_step_epochs} epochs"
    assert _schedule(a, b, "curve") == (f"after {TRAINED_PLATEAU_EPOCHS} epochs without a "
                                        f"better validation F1")
    assert _schedule(Setting("c", "torch", KERAS_2017), a, "fixed") == "every 4 epochs"
    assert _schedule(*[Setting("c", "torch", KERAS_2017)] * 2, "curve") == ""


def test_budget_summary_separates_speed_from_destination():
    pair = [("all defaults", Setting("a", "torch", PYTORCH), Setting("b", "torch", KERAS_2017))]
    t = budget_summary(pair, _results(), budgets=(5, CONVERGED), y_test=Y)
    early, late = t.iloc[0], t.iloc[1]
    assert early["seeds"] == late["seeds"] == 6
    assert early["mean difference"] > 0.05 and early["CI low"] > 0  # faster
    assert abs(late["mean difference"]) < 1e-9  # same destination
    assert early["seeds b > a"] == 1.0 and late["seeds b > a"] == 0.5  # ties count half
    assert {"clip CI low", "clip CI high", "q (BH)", "verdict alone", "MDE (80 %)",
            "seeds b > a"} <= set(t)
    # The stored probabilities are the kept epoch's: no clip interval at an earlier budget.
    assert np.isnan(early["clip CI low"]) and not np.isnan(late["clip CI low"])
    # Same predictions on every seed: both intervals are zero wide, and say so.
    assert late["limited by"] == "seeds and test clips alike"
    assert pd.isna(early["limited by"])
    missing = budget_summary(pair, _results().iloc[:0], budgets=(5,))
    assert missing.iloc[0]["verdict"] == NOT_STORED


def test_pairs_whose_runs_took_two_floating_point_paths_are_counted_and_said():
    from utils.results.comparisons import describe_paths

    pair = [("all defaults", Setting("a", "torch", PYTORCH), Setting("b", "torch", KERAS_2017))]
    results = _results()
    assert describe_paths(budget_summary(pair, results, budgets=(CONVERGED,))) == ""
    here = {"framework": "torch", "cpu": "CPU A", "cpu_family_model": "1/1", "caches": "x",
            "threads": 1, "torch": "2.13.0", "torch_isa": "AVX2", "onednn_max_isa": "native",
            "mkl_instructions": "native"}
    # Seeds 4 and 5 of KERAS_2017 trained on another CPU model than their PYTORCH pairs.
    results["float_path"] = [{**here, "cpu_family_model": "2/2"}
                             if r.seed >= 4 and r.recipe_name == KERAS_2017.name else here
                             for r in results.itertuples()]
    t = budget_summary(pair, results, budgets=(5, CONVERGED))
    assert t["paths apart"].tolist() == [2, 2]
    said = describe_paths(t)
    assert "after 5 epochs 2 of 6 paired seeds, in 1 of 1 comparisons" in said
    assert "at convergence 2 of 6 paired seeds" in said
    # Across frameworks every pair is on two paths by design: not counted.
    keras = results[results.recipe_name == PYTORCH.name].assign(framework="keras")
    across = [("kernels", Setting("a", "torch", PYTORCH), Setting("b", "keras", PYTORCH))]
    t = budget_summary(across, pd.concat([results, keras]), budgets=(CONVERGED,))
    assert t.iloc[0]["seeds"] == 6 and "paths apart" not in t


def test_the_wider_interval_names_what_limits_a_verdict():
    from utils.results.comparisons import _limit

    row = {"CI low": -0.03, "CI high": 0.05, "clip CI low": -0.01, "clip CI high": 0.02}
    assert _limit(row) == "seeds"
    assert _limit({**row, "clip CI low": -0.1}) == "test clips"


def test_the_gap_over_budgets_follows_the_curves_then_the_kept_epoch():
    from utils.results.comparisons import describe_budgets, gap_over_budgets

    results = _results()
    a, b = Setting("a", "torch", PYTORCH), Setting("b", "torch", KERAS_2017)
    gaps = gap_over_budgets(results, a, b)
    assert sorted(gaps.seed.unique()) == list(range(6)) and gaps.budget.max() == 20
    seed0 = gaps[gaps.seed == 0].set_index("budget").gap
    assert seed0[5] == min(0.4 + 0.12, 0.59) - (0.4 + 0.04)  # faster learner ahead early
    assert abs(seed0[20]) < 1e-12  # the same destination
    lines = describe_budgets(budget_summary([("all", a, b)], results, (5, CONVERGED)))
    assert lines[0].startswith("all (torch), after 5 epochs: paired mean difference +")
    assert "at convergence" in lines[1]
    assert gap_over_budgets(results.iloc[:0], a, b).empty


def test_show_adds_the_speed_or_destination_figure_where_trained_runs_pair(tmp_path,
                                                                            monkeypatch,
                                                                            capsys):
    import matplotlib

    matplotlib.use("Agg")
    from utils.lessons import plots
    from utils.lessons.toggles import show

    monkeypatch.setenv(plots.FIGURES_ENV, str(tmp_path))
    results = _results()
    fixed_keras = [_row(replace(KERAS_2017, epochs=12), s, [0.5 + 0.02 * e for e in range(12)],
                        12, "fixed") for s in range(6)]
    results = pd.concat([results, pd.DataFrame(fixed_keras, columns=results.columns)],
                        ignore_index=True)
    results["epoch_valid_f1"] = [list(c) or [f] for c, f in zip(results.epoch_test_f1,
                                                                  results.test_f1)]
    settings = [Setting("PYTORCH", "torch", PYTORCH), Setting("KERAS_2017", "torch", KERAS_2017)]
    shown = []
    from utils.lessons import toggles

    monkeypatch.setattr(toggles, "display", shown.append)
    table, _ = show(settings, [("PYTORCH", "KERAS_2017")], smoke=True, results=results,
                    figure_name="t")
    headline, folded = shown
    # On the learner's path: one generated sentence per comparison, both budgets in it.
    (said,) = headline.sentences
    assert said.startswith("KERAS_2017 vs PYTORCH, in PyTorch: ") and "trained" in said
    assert "after 12 epochs" in said
    # The detail is folded away, closed until opened.
    out = folded.data
    assert out.startswith("<details><summary>")
    assert "after 12 epochs" in out and "at convergence" in out
    # One comparison per family, six seeds at convergence: BH needs only itself.
    assert ("at convergence, 1 of 1 comparisons (to call a comparison larger, BH must call "
            "at least 1 of them larger if it has 6 paired seeds)") in out
    assert list(table.budget) == [12, CONVERGED]
    assert (tmp_path / "t.png").exists() and (tmp_path / "t_budgets.png").exists()
    # Without trained runs there is nothing to pair over budgets: no second figure.
    show(settings, [("PYTORCH", "KERAS_2017")], smoke=True,
         results=results[results.stop_reason == "fixed"], figure_name="u")
    assert (tmp_path / "u.png").exists() and not (tmp_path / "u_budgets.png").exists()


def test_readings_name_speed_destination_reversal_and_what_is_undecided():
    from utils.results.comparisons import readings
    from utils.results.stats import IDENTICAL, LARGER, WITHIN

    def row(toggle, budget, diff, verdict, mde=0.02, seeds=10):
        return {"toggle": toggle, "framework": "torch", "budget": budget, "seeds": seeds,
                "mean difference": diff, "MDE (80 %)": mde, "verdict": verdict,
                "CI low": diff - mde, "CI high": diff + mde}

    table = pd.DataFrame([
        row("speed", 12, 0.1, LARGER), row("speed", CONVERGED, 0.0, f"{WITHIN} (...)"),
        row("settled speed", 12, 0.1, LARGER),
        row("settled speed", CONVERGED, 0.0, f"{WITHIN} (...)", 0.008),
        row("kept", 12, 0.1, LARGER), row("kept", CONVERGED, 0.05, LARGER),
        row("flips", 12, 0.1, LARGER), row("flips", CONVERGED, -0.05, LARGER),
        row("late", 12, 0.0, WITHIN), row("late", CONVERGED, 0.05, LARGER),
        row("none", 12, 0.0, WITHIN, 0.03), row("none", CONVERGED, 0.0, WITHIN, 0.01),
        row("open", 12, 0.1, LARGER), row("open", CONVERGED, 0.1, WITHIN, np.inf, 5),
        row("missing", 12, 0.1, LARGER),
        row("alone", 12, 0.1, f"{WITHIN} after family control (alone p = 0.03)"),
        row("alone", CONVERGED, 0.0, WITHIN, 0.01),
        row("alone, then kept", 12, 0.1, f"{WITHIN} after family control (alone p = 0.03)"),
        row("alone, then kept", CONVERGED, 0.06, LARGER),
        row("unsettled", 12, 0.1, LARGER),
        row("unsettled", CONVERGED, 0.02, f"{WITHIN} after family control (alone p = 0.03)"),
        row("same", 12, 0.0, f"{WITHIN} ({IDENTICAL})", 0.0),
        row("same", CONVERGED, 0.0, WITHIN, 0.01),
        {**row("step", 12, 0.0, WITHIN, 0.03), "η drops": "every 4 epochs"},
        {**row("step", CONVERGED, 0.0, WITHIN, 0.01), "η drops": "on a plateau"},
        # Larger early, not at convergence, yet the interval there still holds the early
        # estimate: the effect may have shrunk or just gone undetected.
        row("untold", 12, 0.05, LARGER), row("untold", CONVERGED, 0.03, WITHIN, 0.03, 6),
        row("grew", 12, 0.03, WITHIN, 0.03), row("grew", CONVERGED, 0.05, LARGER)])
    r = readings(table).set_index("toggle")
    # Its interval at convergence excludes the early +0.100 but reaches 0.020, past the
    # margin of 0.01 stated in advance: mostly speed, with what it cannot rule out.
    assert r.loc["speed", "reading"] == (
        "mostly speed: larger after 12 epochs (+0.100), at convergence +0.000; a trained "
        "effect up to 0.020 not ruled out")
    assert r.loc["settled speed", "reading"] == (
        "speed only: larger after 12 epochs (+0.100), at convergence rules out effects "
        "larger than 0.008 (margin 0.01)")
    assert r.loc["kept", "reading"].startswith("destination: ")
    assert r.loc["flips", "reading"].startswith("reverses")
    assert r.loc["late", "reading"].startswith("destination only")
    assert r.loc["none", "reading"] == ("neither: after 12 epochs its interval rules out "
                                        "effects larger than 0.030, at convergence larger "
                                        "than 0.010")
    assert r.loc["open", "reading"] == "not decided at convergence yet (5 paired seeds)"
    assert r.loc["open", "at convergence"] == "undecidable (5 seeds)"
    assert r.loc["missing", "at convergence"] == NOT_STORED
    assert r.loc["alone", "after 12 epochs"] == "+0.100, within after BH"
    # Clear alone after 12 epochs is claimed nowhere: no "speed only", and no bound of 0.020
    # that its own estimate of +0.100 exceeds.
    assert r.loc["alone", "reading"] == ("at convergence rules out effects larger than 0.010; "
                                         "after 12 epochs +0.100 was clear alone but not "
                                         "after BH")
    # Larger once trained is a destination, whatever the early budget could claim.
    assert r.loc["alone, then kept", "reading"] == (
        "destination: larger once trained (+0.060); after 12 epochs +0.100 was clear alone "
        "but not after BH")
    # "More seeds will tell" while the grid has seeds to add to the family (here "open" and
    # "untold" have fewer than ten): its q-values move. Once every comparison pairs all ten,
    # the reading stays open and says so.
    assert r.loc["unsettled", "reading"].endswith("(more seeds will tell)")
    full = readings(table[~table.toggle.isin(["open", "untold"])]).set_index("toggle")
    assert full.loc["unsettled", "reading"] == (
        "not settled at convergence: +0.020 is clear alone but not after BH over the table "
        "(all 10 of the grid's seeds paired: not claimed)")
    # Runs equal on every seed are called identical, not bounded by an MDE of 0.000.
    assert r.loc["same", "after 12 epochs"] == "+0.000, identical runs"
    assert r.loc["same", "reading"] == ("neither: identical runs after 12 epochs, rules out "
                                        "effects larger than 0.010 at convergence")
    # A step schedule lengthened for the trained runs: the reading says it reads two.
    assert r.loc["step", "reading"].endswith(
        "; two schedules: η drops every 4 epochs in the runs read after 12 epochs, on a "
        "plateau in the trained runs")
    assert "two schedules" not in r.loc["none", "reading"]
    assert r.loc["untold", "reading"] == (
        "speed or destination not told apart: larger after 12 epochs (+0.050); at "
        "convergence rules out effects larger than 0.060, but its interval [+0.000, +0.060] "
        "still holds +0.050 (more seeds will tell)")
    assert r.loc["grew", "reading"] == (
        "destination: larger once trained (+0.050); after 12 epochs within seed noise, but "
        "its interval [+0.000, +0.060] holds +0.050 too")
    assert list(r.index) == ["speed", "settled speed", "kept", "flips", "late", "none", "open",
                             "missing", "alone", "alone, then kept", "unsettled", "same",
                             "step", "untold", "grew"]  # the table's order


def test_paired_runs_part_where_their_training_losses_first_differ():
    from utils.results.comparisons import describe_parting, parting_epochs

    a, b = Setting("a", "torch", PYTORCH), Setting("b", "torch", KERAS_2017)
    shared = [0.9, 0.5, 0.3, 0.2]
    losses = {0: (shared, shared),                   # one run, bit for bit: never parted
              1: (shared, [0.8, 0.5, 0.3, 0.2]),     # the first step differs
              2: (shared, shared[:3] + [0.19]),      # parts late
              3: (shared, shared + [0.1])}           # the same losses, one stopped later
    rows = []
    for seed, pair in losses.items():
        for recipe, loss in zip((PYTORCH, KERAS_2017), pair):
            row = _row(trained(recipe), seed, [0.5] * len(loss), len(loss), "patience",
                       np.full(Y.shape, 0.5, np.float32))
            rows.append({**row, "epoch_loss": loss})
    t = parting_epochs(pd.DataFrame(rows, columns=[*S.COLUMNS, "grid"]), a, b)
    assert t["parted at"].tolist() == [pd.NA, 1, 4, 5]
    assert t["loss before"].tolist() == [pd.NA, pd.NA, 0.3, 0.2]
    assert t["lowest test p"].tolist() == [0.5] * 4
    assert t["F1 b − a"].tolist() == [0.0] * 4  # every run scored 0.5 at its kept epoch
    assert describe_parting("b", t) == ("b: parted at epochs 1–5 on 3 of 4 seeds (training "
                                        "loss then 0.200–0.300); identical to the end on "
                                        "the other 1")
    assert describe_parting("b", t.iloc[:1]) == "b: identical on all 1 seeds, every epoch"
    assert describe_parting("b", t.iloc[:0]) == "b: no paired trained runs stored yet"
    # Seed 1's KERAS_2017 run on another CPU: rounding alone would part it, so it is left out.
    frame = pd.DataFrame(rows, columns=[*S.COLUMNS, "grid"])
    here = {"framework": "torch", "cpu": "CPU A", "cpu_family_model": "1/1", "caches": "x",
            "threads": 1, "torch": "2.13.0", "torch_isa": "AVX2", "onednn_max_isa": "native",
            "mkl_instructions": "native"}
    frame["float_path"] = [{**here, "cpu": "CPU B"} if r.seed == 1 and r.recipe_name ==
                           KERAS_2017.name else here for r in frame.itertuples()]
    t = parting_epochs(frame, a, b)
    assert t.seed.tolist() == [0, 2, 3] and t.attrs["two paths"] == 1
    assert describe_parting("b", t).endswith(
        "identical to the end on the other 1 (1 paired seeds left out: their two runs are not "
        "recorded on one floating-point path, so rounding alone would part them)")


def test_size_columns_read_each_effect_across_the_sizes_smallest_first():
    from utils.results.comparisons import NOT_STORED, size_columns
    from utils.results.stats import LARGER, WITHIN

    def row(preset, clips, seeds, diff, mde, verdict):
        return {"effect": "e", "framework": "keras", "budget": "converged", "preset": preset,
                "clips": clips, "seeds": seeds, "diff": diff, "mde": mde, "verdict": verdict,
                "ci_low": diff - 0.025, "ci_high": diff + 0.025}

    table = pd.DataFrame([row("x4", 8000, 6, 0.01, 0.02, f"{WITHIN} (no effect larger)"),
                          row("quarter", 500, 5, -0.2, np.inf, "undecidable: 5 paired seeds"),
                          row("classroom", 2000, 10, 0.1, 0.03, LARGER),
                          {**row("x4", 8000, 0, np.nan, np.nan, NOT_STORED), "effect": "f"}])
    out = size_columns(table)
    assert list(out.columns) == ["effect", "framework", "budget", "quarter (500 clips)",
                                 "classroom (2000 clips)", "x4 (8000 clips)"]
    e = out.set_index("effect").loc["e"]
    assert e["quarter (500 clips)"] == "-0.200, undecidable (5 seeds)"
    assert e["classroom (2000 clips)"] == "+0.100, larger, 10 seeds"
    assert e["x4 (8000 clips)"] == "+0.010, within (rules out > 0.035), 6 seeds"
    f = out.set_index("effect").loc["f"]
    assert f["x4 (8000 clips)"] == NOT_STORED and pd.isna(f["quarter (500 clips)"])


def test_a_smaller_training_set_is_read_under_its_own_stopping_rule():
    """A quarter-size run is stored with four times the classroom's patience and cap (the
    same SGD steps): scores_at finds it there, and a row stored under the classroom's counts
    is not taken for it."""
    from utils.results.grids import trained_toggle

    quarter = trained_toggle(PYTORCH, "quarter")
    assert (quarter.patience, quarter.epochs) == (4 * trained(PYTORCH).patience,
                                                  4 * trained(PYTORCH).epochs)
    curve = [0.3 + 0.001 * e for e in range(300)]
    rows = [{**_row(r, seed, curve, 290, "patience"), "preset": "quarter",
             "key": f"torch|quarter|{seed}|{r.to_string()}"}
            for seed, r in ((0, quarter), (1, trained(PYTORCH)))]
    results = pd.DataFrame(rows, columns=[*S.COLUMNS, "grid"])
    found = scores_at(results, Setting("q", "torch", PYTORCH, "quarter"), CONVERGED)
    assert list(found) == [0] and found[0]["f1"] == curve[289]
    assert scores_at(results, Setting("q", "torch", PYTORCH, "quarter"), 12)[0]["f1"] == curve[11]


def _size_rows(effects: dict[str, float], seeds: int = 8) -> pd.DataFrame:
    """Trained PYTORCH and KERAS_2017 rows on each preset, KERAS_2017 ahead by the effect."""
    from utils.results.grids import trained_toggle

    rng = np.random.default_rng(1)
    rows = []
    for preset, effect in effects.items():
        for seed in range(seeds):
            base = 0.5 + 0.02 * rng.standard_normal()
            for recipe, f1 in ((PYTORCH, base),
                               (KERAS_2017, base + effect + 0.005 * rng.standard_normal())):
                r = trained_toggle(recipe, preset)
                rows.append({**_row(r, seed, [f1] * 3, 3, "patience"), "preset": preset,
                             "key": f"torch|{preset}|{seed}|{r.to_string()}"})
    return pd.DataFrame(rows, columns=[*S.COLUMNS, "grid"])


def test_size_change_tests_whether_an_effect_shrinks_with_more_data():
    from utils.results.comparisons import size_change

    everything = "all defaults (PYTORCH → KERAS_2017)"
    gone = size_change(_size_rows({"classroom": 0.05, "x4": 0.0}), frameworks=("torch",),
                       budgets=(CONVERGED,)).set_index("effect")
    row = gone.loc[everything]
    assert (row["from"], row["to"], row["seeds from"], row["seeds to"]) == ("classroom", "x4",
                                                                            8, 8)
    assert row["verdict"] == "shrinks with more data"
    assert row["ci_high"] < 0 < row["effect from"] and abs(row["change"] + 0.05) < 0.01
    # The other effects' rungs were not run: said, not guessed.
    assert (gone.drop(index=everything)["verdict"] == NOT_STORED).all()

    kept = size_change(_size_rows({"classroom": 0.05, "x4": 0.05}), frameworks=("torch",),
                       budgets=(CONVERGED,)).set_index("effect").loc[everything]
    assert kept["verdict"].startswith("no change larger than ")
    assert kept["ci_low"] < 0 < kept["ci_high"]

    grown = size_change(_size_rows({"classroom": 0.0, "x4": -0.05}), frameworks=("torch",),
                        budgets=(CONVERGED,)).set_index("effect").loc[everything]
    assert grown["verdict"] == "grows with more data"


def test_size_change_needs_enough_seeds_at_both_sizes():
    from utils.results.comparisons import MIN_SEEDS, size_change

    few = size_change(_size_rows({"classroom": 0.05, "x4": 0.0}, seeds=MIN_SEEDS - 1),
                      frameworks=("torch",), budgets=(CONVERGED,))
    assert (few["verdict"] == NOT_STORED).all() and few["change"].isna().all()
