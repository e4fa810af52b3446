"""Does the stopping rule find the plateau? The curve evidence for choosing it.

Introduced on the results page (``docs/results.md``). A rule that stops while the
validation curve still rises makes "trained" mean "stopped after so many quiet epochs",
and the destination verdicts then move with that choice
(:func:`~utils.results.comparisons.stopping_sensitivity`). For each rule whose runs are
stored — the grids' rule, and the candidates of the ``stopping`` grid
(:data:`~utils.results.grids.STOPPING_RULES`) — this module reads the stored curves:
whether the smoothed validation curve still rose over the last epochs before the stop,
how often a late epoch still set a new best, how many epochs the rule cost, and, on the
candidates' longer runs, what the grids' patience would have kept from the same run —
and, by the criterion stated below before the candidates' runs were complete, which rule
the trained grids use next (:func:`choose_rule`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from utils.networks.recipe import TRAINED, Recipe
from utils.results.comparisons import CONVERGED_TABLES, all_results, replay_kept
from utils.results.grids import STOPPING_RULES
from utils.results.stats import EQUIVALENCE_MARGIN

SMOOTH = 5  # epochs in the moving average of the validation curve
LATE = 30  # the last epochs before the stop in which a rise is looked for
# A rise counts when the fitted line climbs more than the equivalence margin over the
# window: a smaller gain is one the verdicts would call no effect. With no tolerance a flat
# curve with the stored runs' epoch-to-epoch noise (s.d. about 0.01) "rises" half the time.
RISE_TOL = EQUIVALENCE_MARGIN

# How the trained grids' rule is chosen, stated before the candidates' runs were complete:
# on the runs of the first CHOICE_SEEDS (both presets, so CHOICE_RUNS runs per framework),
# a candidate qualifies when no more than CHOICE_RISING of them still rise at the stop (in
# either framework); of those that qualify, the cheapest (fewest median epochs over both
# frameworks) is chosen. Later seeds do not move the choice: they check it.
CHOICE_SEEDS = range(2)
CHOICE_RUNS = 2 * len(CHOICE_SEEDS)
CHOICE_RISING = 0.25


def rise(valid_f1, smooth: int = SMOOTH, late: int = LATE) -> float:
    """How much a least-squares line through the last ``late`` epochs of the
    ``smooth``-epoch moving average of a validation curve climbs over that window (F1).
    Curves too short for a line give their smoothed end minus their smoothed start.

    Examples
    --------
    >>> round(rise(np.linspace(0.5, 0.8, 61), smooth=1, late=31), 3)
    0.15
    """
    v = np.convolve(np.asarray(valid_f1, float), np.ones(smooth) / smooth, mode="valid")
    tail = v[-late:]
    if len(tail) < 3:
        return float(v[-1] - v[0]) if len(v) > 1 else 0.0
    return float(np.polyfit(np.arange(len(tail)), tail, 1)[0] * (len(tail) - 1))


def still_rising(valid_f1, smooth: int = SMOOTH, late: int = LATE,
                 tol: float = RISE_TOL) -> bool:
    """Whether a validation curve still rose at its end by more than ``tol`` F1
    (:func:`rise`): the run stopped on a slope, not on a plateau.

    Examples
    --------
    >>> still_rising(np.linspace(0.5, 0.8, 60)), still_rising(np.r_[np.linspace(0.5, 0.8, 30),
    ...                                                             np.full(40, 0.8)])
    (True, False)
    """
    return rise(valid_f1, smooth, late) > tol


def late_new_best(valid_f1, late: int = LATE) -> float:
    """The share of a curve's last ``late`` epochs that set a new best validation F1.

    Examples
    --------
    >>> late_new_best([0.1, 0.2, 0.3, 0.3], late=2)  # 0.3 is new, its tie is not
    0.5
    """
    v = np.asarray(valid_f1, float)
    best = np.maximum.accumulate(v)
    new = np.r_[True, v[1:] > best[:-1]]
    return float(new[-late:].mean())


def _rule_of(recipe: Recipe) -> str:
    for name, fields in STOPPING_RULES.items():
        if all(getattr(recipe, k) == v for k, v in fields.items()):
            return name
    return f"patience {recipe.patience}" + (
        f", η drops on a plateau of {recipe.lr_step_epochs}"
        if recipe.lr_schedule == "plateau" else "")


def stopping_evidence(results=None) -> pd.DataFrame:
    """Per stopping rule and framework, over its stored trained runs: runs, median epochs
    run and kept, median seconds a run, the share still rising at the stop
    (:func:`still_rising`), the median
    share of late epochs with a new best (:func:`late_new_best`), and, for a rule more
    patient than the grids' at a constant rate, the median test-F1 change from the epoch
    the grids' patience would have kept in the same run to the epoch this rule kept (a
    rule that drops η on a plateau has no such replay: its run left the shorter rule's at
    the first drop)."""
    if results is None:
        results = all_results((*CONVERGED_TABLES, "stopping"))
    runs = results[(results.stop_reason != "fixed") & (results.preset == "classroom")]
    own = TRAINED["patience"]
    rows = []
    for (rule, fw), sub in runs.groupby([runs.recipe.map(
            lambda s: _rule_of(Recipe.from_string(s))), "framework"], sort=False):
        curves = [list(c) for c in sub.epoch_valid_f1]
        row = {"rule": rule, "framework": fw, "runs": len(sub),
               "median epochs": float(np.median([len(c) for c in curves])),
               "median kept epoch": float(np.median(sub.best_epoch)),
               "median seconds": float(np.median(sub.seconds)),
               "still rising at the stop": float(np.mean([still_rising(c) for c in curves])),
               "late epochs with a new best": float(np.median([late_new_best(c)
                                                              for c in curves]))}
        recipes = [Recipe.from_string(s) for s in sub.recipe]
        # Replayed exactly only where the run's rate never changed: a rule that drops η
        # after a few quiet epochs left the shorter rule's run before it would have stopped.
        if (min(r.patience for r in recipes) > own
                and all(r.lr_schedule == "constant" for r in recipes)):
            change = []
            for r in sub.itertuples():
                kept = replay_kept(r.epoch_valid_f1, own)
                if kept is not None:
                    change.append(r.test_f1 - r.epoch_test_f1[kept - 1])
            row[f"test F1 vs patience {own}"] = float(np.median(change)) if change else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def choose_rule(evidence: pd.DataFrame | None = None,
                rules=tuple(STOPPING_RULES)) -> tuple[str | None, str]:
    """The candidate of ``rules`` (those of :data:`~utils.results.grids.STOPPING_RULES`)
    the trained grids should use, by the criterion stated with :data:`CHOICE_SEEDS` and
    :data:`CHOICE_RISING`, and one sentence that says why (or what is still missing).
    ``None`` while no candidate qualifies. ``evidence`` defaults to
    :func:`stopping_evidence` of the ``stopping`` grid's runs on :data:`CHOICE_SEEDS`.

    Examples
    --------
    >>> ev = pd.DataFrame({"rule": ["a", "a", "b", "b"], "framework": ["torch", "keras"] * 2,
    ...                    "runs": [4, 4, 4, 4], "median epochs": [150, 140, 120, 110],
    ...                    "still rising at the stop": [0.0, 0.25, 0.5, 0.0]})
    >>> choose_rule(ev, rules=("a", "b"))[0]  # b is cheaper but half its PyTorch runs still rise
    'a'
    """
    if evidence is None:
        runs = all_results(("stopping",))
        evidence = stopping_evidence(runs[runs.seed.isin(CHOICE_SEEDS)])
    ev = evidence
    frameworks = ("torch", "keras")
    qualified, missing = {}, []
    for rule in rules:
        sub = ev[ev.rule == rule].set_index("framework")
        runs = {fw: int(sub.runs.get(fw, 0)) for fw in frameworks}
        short = [f"{fw} {n}/{CHOICE_RUNS}" for fw, n in runs.items() if n < CHOICE_RUNS]
        if short:
            missing.append(f"{rule}: runs {', '.join(short)}")
            continue
        rising = {fw: float(sub.loc[fw, "still rising at the stop"]) for fw in frameworks}
        if max(rising.values()) > CHOICE_RISING:
            missing.append(f"{rule}: still rising in " + ", ".join(
                f"{fw} {v:.0%}" for fw, v in rising.items()))
            continue
        qualified[rule] = float(np.average(sub.loc[list(frameworks), "median epochs"],
                                           weights=sub.loc[list(frameworks), "runs"]))
    rule_words = (f"seeds {CHOICE_SEEDS[0]}-{CHOICE_SEEDS[-1]}: {CHOICE_RUNS} runs in each "
                  "framework, at most "
                  f"{CHOICE_RISING:.0%} still rising by more than {RISE_TOL:g} F1 over the "
                  f"last {LATE} epochs")
    if not qualified:
        return None, (f"No rule chosen yet ({rule_words}): " + "; ".join(missing) + ".")
    chosen = min(qualified, key=qualified.get)
    others = ", ".join(f"{r} ({e:.0f})" for r, e in qualified.items() if r != chosen)
    return chosen, (f"Chosen: {chosen} — it qualifies ({rule_words}) and costs the fewest "
                    f"epochs, {qualified[chosen]:.0f} a run in the median"
                    + (f", against {others}" if others else "") + ".")
