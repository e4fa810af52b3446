"""Does the stopping rule find the plateau? The curve evidence for choosing it.

Introduced on the results page (``docs/results.md``). A rule that stops while the
validation curve still rises makes "trained" mean "stopped after so many quiet epochs",
and the destination verdicts then move with that choice
(:func:`~utils.results.comparisons.stopping_sensitivity`). For each rule whose runs are
stored — the grids' rule, and the candidates of the ``stopping`` grid
(:data:`~utils.results.grids.STOPPING_RULES`) — this module reads the stored curves:
whether the smoothed validation curve still rose over the last epochs before the stop,
how often a late epoch still set a new best, how many epochs the rule cost, and, on the
candidates' longer runs, what the grids' patience would have kept from the same run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from utils.networks.recipe import TRAINED, Recipe
from utils.results.comparisons import CONVERGED_TABLES, all_results, replay_kept
from utils.results.grids import STOPPING_RULES

SMOOTH = 5  # epochs in the moving average of the validation curve
LATE = 30  # the last epochs before the stop in which a rise is looked for


def still_rising(valid_f1, smooth: int = SMOOTH, late: int = LATE) -> bool:
    """Whether the ``smooth``-epoch moving average of a validation curve rose over its
    last ``late`` epochs (least-squares slope > 0): the run stopped on a slope, not on a
    plateau. Curves shorter than ``late + smooth`` epochs count as rising when their
    smoothed end is above their smoothed start.

    Examples
    --------
    >>> still_rising(np.linspace(0.5, 0.8, 60)), still_rising(np.r_[np.linspace(0.5, 0.8, 30),
    ...                                                             np.full(40, 0.8)])
    (True, False)
    """
    v = np.convolve(np.asarray(valid_f1, float), np.ones(smooth) / smooth, mode="valid")
    tail = v[-late:]
    if len(tail) < 3:
        return bool(len(v) > 1 and v[-1] > v[0])
    return bool(np.polyfit(np.arange(len(tail)), tail, 1)[0] > 0)


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
    run and kept, the share still rising at the stop (:func:`still_rising`), the median
    share of late epochs with a new best (:func:`late_new_best`), and, for a rule more
    patient than the grids', the median test-F1 change from the epoch the grids' patience
    would have kept in the same run to the epoch this rule kept."""
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
               "still rising at the stop": float(np.mean([still_rising(c) for c in curves])),
               "late epochs with a new best": float(np.median([late_new_best(c)
                                                              for c in curves]))}
        patience = {Recipe.from_string(s).patience for s in sub.recipe}
        if min(patience) > own:
            change = []
            for r in sub.itertuples():
                kept = replay_kept(r.epoch_valid_f1, own)
                if kept is not None:
                    change.append(r.test_f1 - r.epoch_test_f1[kept - 1])
            row[f"test F1 vs patience {own}"] = float(np.median(change)) if change else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
