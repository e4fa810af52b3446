"""The realistic task beside the classroom's: is "speed, not destination" a property of an
easy task?

Introduced on the results page (``docs/results.md``) and in notebooks 08 and 12. The
comparisons the thread and the other port blamed, and the whole ladder, on both tasks and in
both frameworks, all under the stopping rule the ``stopping`` grid chooses
(:data:`~utils.results.grids.GRID_RULE`): the ``rerun`` grid's classroom runs and the
``realistic`` grid's. A classroom comparison the lab's table reads under that rule shows
the lab's verdict (one comparison, one verdict); the others form one Benjamini–Hochberg
family per budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from utils.common.words import listed
from utils.networks.recipe import KERAS_2017
from utils.results.comparisons import (
    BUDGET,
    CONVERGED,
    EVERY_TABLE,
    LADDER_TOGGLE,
    NOT_STORED,
    RULE_TABLES,
    THREAD_CULPRITS,
    Setting,
    all_results,
    budget_summary,
    lab_pairs,
    lab_summary,
    readings,
    scores_at,
)
from utils.results.grids import GRID_RULE
from utils.task.dataset import ABLATION_GROUPS, ablation_name

TASKS = ("classroom", "realistic")
# What the realistic task asks of each comparison: the thread's four defaults, the input
# range and the optimizer rows of the other port, and the whole ladder.
TASK_TOGGLES = (*THREAD_CULPRITS, "input [-128, 128] (vs standardised)",
                "Adam at lr 1e-3 (vs SGD + Nesterov)", LADDER_TOGGLE)
TASK_FAMILY = "both tasks, chosen rule"  # what the lab's table does not decide


def task_pairs() -> list[tuple[str, Setting, Setting]]:
    """The comparisons of :data:`TASK_TOGGLES` on each of :data:`TASKS`, both frameworks."""
    return [p for preset in TASKS for p in lab_pairs(preset) if p[0] in TASK_TOGGLES]


def task_summary(results=None, rule: str | None = GRID_RULE,
                 lab: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each comparison of :func:`task_pairs` after 12 epochs and trained, on the classroom
    and the realistic task, all under the stopping rule ``rule`` (the ``rerun`` and
    ``realistic`` grids' runs): "speed, not destination" is then read on both tasks by one
    rule. A classroom comparison the lab's table (``lab``, default :func:`lab_summary` of
    ``results``) reads under that rule on the same seeds takes its verdict; the others form
    one Benjamini–Hochberg family per budget. A ``task`` column names the dataset. While no
    rule is chosen every row waits for it.
    """
    pairs = task_pairs()
    if rule is None:
        return pd.DataFrame([{"toggle": t, "task": a.preset, "framework": a.framework,
                              "verdict": "waits for the stopping rule"} for t, a, _ in pairs])
    results = all_results(EVERY_TABLE) if results is None else results
    lab = lab_summary(results) if lab is None else lab
    table = budget_summary(pairs, results, declared=lab, family=TASK_FAMILY, rule=rule)
    table.insert(1, "task", [a.preset for _ in (BUDGET, CONVERGED) for _, a, _ in pairs])
    return table


def task_readings(table: pd.DataFrame) -> pd.DataFrame:
    """Speed or destination (:func:`~utils.results.comparisons.readings`) per task of a
    :func:`task_summary` table, a ``task`` column first; empty while it waits."""
    if "budget" not in table:
        return pd.DataFrame()
    return pd.concat([readings(table[table.task == t]).assign(task=t) for t in TASKS],
                     ignore_index=True).pipe(lambda t: t[["task", *t.columns[:-1]]])


def difficulty_table(results=None, rule: str | None = GRID_RULE) -> pd.DataFrame:
    """Which knobs carry the realistic task's difficulty: the trained ``KERAS_2017`` Keras
    model on the realistic task and on it without each group of knobs
    (:data:`~utils.task.dataset.ABLATION_GROUPS`, grid ``realistic_ablation``), under the
    chosen stopping rule. Per row: the knobs set back to the classroom's, the seeds, the
    median test F1 trained and after 12 epochs, and the paired mean gain from setting the
    group back (with its lowest and highest seed): a description on a few seeds, no verdict.
    """
    groups = {"every knob on (realistic)": ("realistic", ())} | {
        f"without {g}": (ablation_name(g), knobs) for g, knobs in ABLATION_GROUPS.items()}
    if rule is None:
        return pd.DataFrame([{"task": k, "preset": p, "reading": "waits for the stopping rule"}
                             for k, (p, _) in groups.items()])
    results = all_results(RULE_TABLES) if results is None else results
    full = scores_at(results, Setting("", "keras", KERAS_2017, "realistic"), CONVERGED,
                     rule=rule)
    rows = []
    for task, (preset, knobs) in groups.items():
        setting = Setting("", "keras", KERAS_2017, preset)
        trained = scores_at(results, setting, CONVERGED, rule=rule)
        early = scores_at(results, setting, BUDGET, rule=rule)
        row = {"task": task, "preset": preset, "knobs set back": ", ".join(knobs),
               "seeds": len(trained)}
        if trained:
            row.update({"median F1": float(np.median([v["f1"] for v in trained.values()])),
                        f"median after {BUDGET} epochs": float(np.median(
                            [v["f1"] for v in early.values()])) if early else np.nan})
        shared = sorted(set(trained) & set(full))
        if knobs and shared:
            gain = [trained[s]["f1"] - full[s]["f1"] for s in shared]
            row.update({"gain (paired seeds)": float(np.mean(gain)), "paired seeds": len(shared),
                        "lowest gain": min(gain), "highest gain": max(gain)})
        row["reading"] = "" if trained else NOT_STORED
        rows.append(row)
    table = pd.DataFrame(rows)
    if "paired seeds" in table:  # a count, empty on the top row (nothing to pair it with)
        table["paired seeds"] = ["" if pd.isna(n) else str(int(n))
                                 for n in table["paired seeds"]]
    return table


def difficulty_sentence(table: pd.DataFrame) -> str:
    """What a :func:`difficulty_table` says in one sentence: the knob groups whose setting
    back raised the trained F1 on every seed, largest mean gain first, then those whose seeds
    disagree in sign or all lose; a description on its few seeds, no verdict.

    Examples
    --------
    >>> t = pd.DataFrame({"task": ["every knob on (realistic)", "without a", "without b"],
    ...                   "seeds": [10, 3, 3], "gain (paired seeds)": [np.nan, 0.1, 0.0],
    ...                   "paired seeds": ["", "3", "3"], "lowest gain": [np.nan, 0.05, -0.02],
    ...                   "highest gain": [np.nan, 0.2, 0.03]})
    >>> print(difficulty_sentence(t))  # doctest: +NORMALIZE_WHITESPACE
    On 3 paired seeds per group, setting a group of knobs back to the classroom's raised the
    trained F1 on every seed for a (+0.100 on average, +0.050 to +0.200); the seeds disagree
    in sign for b (+0.000, -0.020 to +0.030). A description on few seeds, not a verdict.
    """
    rows = table.dropna(subset=["gain (paired seeds)"]) if "gain (paired seeds)" in table \
        else table.iloc[:0]
    if rows.empty:
        return "No group of knobs is set back on a stored seed yet."
    rows = rows.sort_values("gain (paired seeds)", ascending=False)

    def said(r) -> str:
        return (f"{r['task'].removeprefix('without ')} ({r['gain (paired seeds)']:+.3f}"
                f"{' on average' if kind(r) == 'gain' else ''}, {r['lowest gain']:+.3f} to "
                f"{r['highest gain']:+.3f})")

    def kind(r) -> str:
        return ("gain" if r["lowest gain"] > 0 else "loss" if r["highest gain"] < 0
                else "mixed")

    groups = {k: [said(r) for _, r in rows.iterrows() if kind(r) == k]
              for k in ("gain", "mixed", "loss")}
    counts = sorted({int(n) for n in rows["paired seeds"]})
    n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    parts = []
    if groups["gain"]:
        parts.append("setting a group of knobs back to the classroom's raised the trained F1 "
                     "on every seed for " + listed(groups["gain"]))
    if groups["mixed"]:
        parts.append("the seeds disagree in sign for " + listed(groups["mixed"]))
    if groups["loss"]:
        parts.append("it lowered the trained F1 on every seed for " + listed(groups["loss"]))
    return (f"On {n} paired seeds per group, " + "; ".join(parts)
            + ". A description on few seeds, not a verdict.")

