"""The realistic task beside the classroom's: is "speed, not destination" a property of an
easy task?

Introduced on the results page (``docs/results.md``) and in notebooks 08 and 12. The
comparisons the thread and the other port blamed, and the whole ladder, on both tasks and in
both frameworks, all under the stopping rule the ``stopping`` grid chooses
(:data:`~utils.results.grids.GRID_RULE`): the ``rerun`` grid's classroom runs and the
``realistic`` grid's. One Benjamini–Hochberg family per budget holds both tasks, so a
verdict on one task is made by the same rule as on the other.
"""

from __future__ import annotations

import pandas as pd

from utils.results.comparisons import (
    BUDGET,
    CONVERGED,
    LADDER_TOGGLE,
    RULE_TABLES,
    THREAD_CULPRITS,
    Setting,
    all_results,
    budget_summary,
    lab_pairs,
    readings,
)
from utils.results.grids import GRID_RULE

TASKS = ("classroom", "realistic")
# What the realistic task asks of each comparison: the thread's four defaults, the input
# range and the optimizer rows of the other port, and the whole ladder.
TASK_TOGGLES = (*THREAD_CULPRITS, "input [-128, 128] (vs standardised)",
                "Adam at lr 1e-3 (vs SGD + Nesterov)", LADDER_TOGGLE)
TASK_FAMILY = "both tasks, chosen rule"


def task_pairs() -> list[tuple[str, Setting, Setting]]:
    """The comparisons of :data:`TASK_TOGGLES` on each of :data:`TASKS`, both frameworks."""
    return [p for preset in TASKS for p in lab_pairs(preset) if p[0] in TASK_TOGGLES]


def task_summary(results=None, rule: str | None = GRID_RULE) -> pd.DataFrame:
    """Each comparison of :func:`task_pairs` after 12 epochs and trained, on the classroom
    and the realistic task, all under the stopping rule ``rule`` (the ``rerun`` and
    ``realistic`` grids' runs), one Benjamini–Hochberg family per budget across both tasks:
    "speed, not destination" is then read on both tasks by one rule. A ``task`` column
    names the dataset. While no rule is chosen every row waits for it.
    """
    pairs = task_pairs()
    if rule is None:
        return pd.DataFrame([{"toggle": t, "task": a.preset, "framework": a.framework,
                              "verdict": "waits for the stopping rule"} for t, a, _ in pairs])
    results = all_results(RULE_TABLES) if results is None else results
    table = budget_summary(pairs, results, family=TASK_FAMILY, rule=rule)
    table.insert(1, "task", [a.preset for _ in (BUDGET, CONVERGED) for _, a, _ in pairs])
    return table


def task_readings(table: pd.DataFrame) -> pd.DataFrame:
    """Speed or destination (:func:`~utils.results.comparisons.readings`) per task of a
    :func:`task_summary` table, a ``task`` column first; empty while it waits."""
    if "budget" not in table:
        return pd.DataFrame()
    return pd.concat([readings(table[table.task == t]).assign(task=t) for t in TASKS],
                     ignore_index=True).pipe(lambda t: t[["task", *t.columns[:-1]]])
