"""What the lab found: the ladder at both budgets, every default in one chart, the conclusion.

Introduced in ``12_what_the_lab_found.ipynb``; :func:`finding` (the classroom set's
:func:`conclusion_sentence`, then the realistic task's :func:`task_sentence`) is also the
text of the README's first section and of notebook 00's teaser (``python -m utils.notebooks
conclusion`` writes it into the README, and a test fails when the README and the tables
disagree). Every number is computed from the stored trained runs through the lab's table
(:func:`~utils.results.comparisons.lab_summary`) or, for the two tasks under one stopping
rule, :func:`~utils.results.tasks.task_summary`, so each verdict here is the one every
other page shows.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from utils.common.files import atomic_write_text
from utils.common.repo import REPO_ROOT
from utils.common.words import listed
from utils.lessons.headline import FRAMEWORKS, PIPELINE, SIDE_STYLE, TRAINED_LABEL, kind
from utils.lessons.plots import caption as plot_caption
from utils.lessons.plots import legend_where_labelled
from utils.lessons.reference import thread_gap
from utils.results.comparisons import (
    BUDGET,
    CONVERGED,
    EVERY_TABLE,
    LADDER_TOGGLE,
    NOT_STORED,
    STORED_RULE,
    THREAD_CULPRITS,
    Setting,
    all_results,
    bracket,
    lab_summary,
    readings,
    scores_at,
    stopping_sensitivity,
)
from utils.results.grids import KERAS_LADDER, SEEDS, TORCH_LADDER
from utils.results.stats import DECISIVE_SEEDS, bootstrap_ci
from utils.results.tasks import TASKS, difficulty_table, task_summary

README = REPO_ROOT / "README.md"
README_START, README_END = "<!-- conclusion -->", "<!-- /conclusion -->"


def _row(lab: pd.DataFrame, toggle: str, framework: str, budget) -> dict | None:
    hit = lab[(lab.toggle == toggle) & (lab.framework == framework) & (lab.budget == budget)]
    if hit.empty or hit.iloc[0]["verdict"] == NOT_STORED:
        return None
    return hit.iloc[0].to_dict()


def _reading(lab: pd.DataFrame, toggle: str, framework: str) -> str:
    sub = lab[(lab.toggle == toggle) & (lab.framework == framework)]
    return kind(readings(sub).iloc[0]["reading"]) if len(sub) else "missing"


def conclusion_sentence(lab: pd.DataFrame | None = None) -> str:
    """The lab's finding in one sentence, generated from the lab's table: the whole
    ladder's effect in each framework after 12 epochs and trained, and how much of it is
    left once the models are trained.

    Examples
    --------
    >>> t = pd.DataFrame([{"toggle": LADDER_TOGGLE, "framework": fw, "budget": b, "seeds": 10,
    ...                    "mean difference": d, "verdict": "larger than seed noise"}
    ...                   for fw in ("torch", "keras")
    ...                   for b, d in ((12, 0.1), ("converged", 0.02))])
    >>> conclusion_sentence(t)  # doctest: +NORMALIZE_WHITESPACE
    "On the classroom set, switching every framework default from PyTorch's to Keras-2017's
    is worth +0.100 test micro-F1 in PyTorch and +0.100 in Keras after 12 epochs, but only
    +0.020 and +0.020 once the models are trained to a plateau: most of what the defaults
    change is how fast the CRNN learns, not where it ends."
    """
    lab = lab_summary() if lab is None else lab
    e = [_row(lab, LADDER_TOGGLE, fw, BUDGET) for fw in ("torch", "keras")]
    c = [_row(lab, LADDER_TOGGLE, fw, CONVERGED) for fw in ("torch", "keras")]
    if any(r is None for r in e + c):
        return ("The whole ladder of defaults is not stored at both budgets yet: run the "
                "trained-model grids (docs/reproducibility.md).")
    early = [r["mean difference"] for r in e]
    late = [r["mean difference"] for r in c]
    # the trained gaps with their intervals over seeds, where the table has them
    held = [f"{r['mean difference']:+.3f}" + (f" {bracket(r['CI low'], r['CI high'])}"
                                            if np.isfinite(r.get("CI low", np.nan)) else "")
            for r in c]
    share = np.mean(np.abs(late)) / np.mean(np.abs(early))
    verdict = ("most of what the defaults change is how fast the CRNN learns, not where it "
               "ends" if share < 0.5 else
               "much of what the defaults change survives training")
    return (f"On the classroom set, switching every framework default from PyTorch's to "
            f"Keras-2017's is worth {early[0]:+.3f} test micro-F1 in PyTorch and "
            f"{early[1]:+.3f} in Keras after {BUDGET} epochs, but only {held[0]} and "
            f"{held[1]} once the models are trained to a plateau: {verdict}.")


# How the lab's finding words each trained reading of the whole ladder on the realistic task.
LADDER_WORDS = {"destination": "it changes where training ends",
                "speed": "it is speed: the gap closes once trained",
                "mostly speed": "it is mostly speed",
                "reverses": "it reverses once trained",
                "open": "speed and destination are not told apart"}


def task_sentence(table: pd.DataFrame | None = None, results=None) -> str:
    """The realistic task's side of the lab's finding in one sentence: how hard the task is
    (the trained ``KERAS_2017`` Keras median), the whole ladder's trained gap per framework
    with its interval, and what it says, from :func:`~utils.results.tasks.task_summary`.

    Examples
    --------
    >>> t = pd.DataFrame([{"task": "realistic", "toggle": LADDER_TOGGLE, "framework": fw,
    ...                    "budget": b, "seeds": 10, "mean difference": d, "CI low": d - 0.03,
    ...                    "CI high": d + 0.03, "MDE (80 %)": 0.05, "verdict": v}
    ...                   for fw, late, v2 in (("torch", 0.0, "within seed noise"),
    ...                                        ("keras", 0.08, "larger than seed noise"))
    ...                   for b, d, v in ((12, 0.1, "larger than seed noise"),
    ...                                   ("converged", late, v2))])
    >>> print(_task_sentence(t, median=0.55))  # doctest: +NORMALIZE_WHITESPACE
    On a task as hard as the real one (the realistic preset, where the trained Keras-2017
    model scores a median 0.550), the whole ladder is worth +0.000 [-0.030, +0.030] in
    PyTorch and +0.080 [+0.050, +0.110] in Keras once trained: in PyTorch it is mostly
    speed; in Keras it changes where training ends.
    """
    results = all_results(EVERY_TABLE) if results is None else results  # read once, used twice
    return _task_sentence(task_summary(results) if table is None else table, results)


def _task_sentence(table: pd.DataFrame, results=None, median: float | None = None) -> str:
    sub = table[table.task == "realistic"] if "task" in table else table.iloc[:0]
    rows = {fw: _row(sub, LADDER_TOGGLE, fw, CONVERGED) for fw in ("torch", "keras")}
    if any(r is None for r in rows.values()):
        return ("On a task as hard as the real one (the realistic preset), the whole ladder "
                "is not stored trained in both frameworks yet.")
    if median is None:
        top = difficulty_table(results).iloc[0]
        median = top.get("median F1", np.nan)
    hard = f", where the trained Keras-2017 model scores a median {median:.3f}" \
        if np.isfinite(median) else ""
    gaps = [f"{r['mean difference']:+.3f} {bracket(r['CI low'], r['CI high'])} in "
            f"{FRAMEWORKS[fw]}" for fw, r in rows.items()]
    said = [f"in {FRAMEWORKS[fw]} {LADDER_WORDS.get(k, k)}" for fw in rows
            if (k := _reading(sub, LADDER_TOGGLE, fw))]
    return (f"On a task as hard as the real one (the realistic preset{hard}), the whole "
            f"ladder is worth {listed(gaps)} once trained: {'; '.join(said)}.")


def finding(lab: pd.DataFrame | None = None, tasks: pd.DataFrame | None = None) -> str:
    """The lab's finding as the README and notebook 00 state it: the classroom set's
    :func:`conclusion_sentence`, then the realistic task's :func:`task_sentence`."""
    return f"{conclusion_sentence(lab)} {task_sentence(tasks)}"


def task_answer(table: pd.DataFrame | None = None) -> str:
    """Is "speed, not destination" a property of an easy task? The whole ladder's effect on
    the classroom and on the realistic task, after 12 epochs and trained, under one stopping
    rule, set beside the thread's trained gap, and each task's reading — generated from
    :func:`~utils.results.comparisons.task_summary`, whichever way it falls, or what it
    still waits for.
    """
    table = task_summary() if table is None else table
    if "budget" not in table:
        return ("The realistic task's runs wait for the stopping rule the `stopping` grid "
                "chooses: until both tasks are trained under it, the question stays open.")
    found, missing = {}, []
    for task in TASKS:
        sub = table[table.task == task]
        for fw in ("torch", "keras"):
            rows = [_row(sub, LADDER_TOGGLE, fw, b) for b in (BUDGET, CONVERGED)]
            if any(r is None for r in rows):
                missing.append(f"{task} ({FRAMEWORKS[fw]})")
            else:
                found[task, fw] = ([r["mean difference"] for r in rows],
                                   _reading(sub, LADDER_TOGGLE, fw),
                                   (rows[1].get("CI low"), rows[1].get("CI high")))
    if missing:
        return ("The whole ladder is not stored at both budgets under the chosen stopping "
                f"rule on {listed(missing)} yet: the question stays open.")
    parts = []
    for task in TASKS:
        (e_t, c_t), *_ = found[task, "torch"]
        (e_k, c_k), *_ = found[task, "keras"]
        parts.append(f"on the {task} task ({_seeds_text(table, task)}) {e_t:+.3f} (PyTorch) "
                     f"and {e_k:+.3f} (Keras) after {BUDGET} epochs, {c_t:+.3f} and "
                     f"{c_k:+.3f} trained")
    return (f"The whole ladder of defaults is worth {parts[0]}; {parts[1]}. "
            + _beside_thread({fw: found["realistic", fw] for fw in ("torch", "keras")})
            + " Read as speed or destination, the realistic task says "
            + _read_in_both(found, "realistic") + ", the classroom task "
            + _read_in_both(found, "classroom") + ".\n\n" + carriers(table) + "\n\n"
            + task_contrast(table))


def task_contrast(table: pd.DataFrame) -> str:
    """Which comparisons of a :func:`~utils.results.tasks.task_summary` table the two tasks
    decide differently: at each budget, those "larger than seed noise" (after the family's
    control) on one task and not on the other, among the comparisons with
    :data:`~utils.results.stats.DECISIVE_SEEDS` paired seeds on both; and how many wait.

    Examples
    --------
    >>> rows = [{"task": task, "toggle": t, "framework": "torch", "budget": CONVERGED,
    ...          "seeds": n, "verdict": v} for task, t, n, v in [
    ...     ("classroom", "GRU init", 6, "within seed noise"),
    ...     ("realistic", "GRU init", 10, "larger than seed noise"),
    ...     ("classroom", "Adam", 6, "within seed noise"),
    ...     ("realistic", "Adam", 10, "within seed noise after family control"),
    ...     ("classroom", "gate", 3, "not stored yet"),
    ...     ("realistic", "gate", 10, "within seed noise")]]
    >>> print(task_contrast(pd.DataFrame(rows)))  # doctest: +NORMALIZE_WHITESPACE
    Of the 2 verdicts both tasks make (a comparison at one budget), 1 differs between the
    tasks. Larger than seed noise on the realistic task only: trained, GRU init in PyTorch.
    The task without a larger effect has fewer paired seeds than the other: its verdict may
    still move as its grid adds seeds. 1 more waits for the 6 paired seeds
    a verdict needs.
    """
    decided = table[(table.verdict != NOT_STORED) & (table.seeds >= DECISIVE_SEEDS)]
    # One row per (budget, toggle, framework), a column per task: larger? and on how many seeds.
    wide = decided.assign(larger=decided.verdict.str.startswith("larger")).pivot_table(
        index=["budget", "toggle", "framework"], columns="task", values=["larger", "seeds"],
        aggfunc="first", sort=False)
    on_both = set(TASKS) <= set(wide.columns.get_level_values("task"))
    both = wide["larger"][list(TASKS)].dropna().astype(bool) if on_both else wide.iloc[:0]
    waiting = (len(table.groupby(["budget", "toggle", "framework"], sort=False)) - len(both))
    parts = []
    for task in TASKS if len(both) else ():  # larger on this task, not on the other
        only = both[both[task] & ~both[[t for t in TASKS if t != task]].any(axis=1)]
        at = [f"{name}, " + listed([f"{t} in {FRAMEWORKS[fw]}" for b, t, fw in only.index
                                    if b == budget])
              for budget, name in ((BUDGET, f"after {BUDGET} epochs"), (CONVERGED, "trained"))
              if budget in only.index.get_level_values("budget")]
        if at:
            parts.append(f"larger than seed noise on the {task} task only: {'; '.join(at)}")
    apart = both[both.nunique(axis=1) > 1] if len(both) else both
    n_apart = len(apart)
    said = (f"Of the {len(both)} verdicts both tasks make (a comparison at one budget), "
            f"{n_apart} differ{'s' if n_apart == 1 else ''} between the tasks"
            + (f". {'. '.join(p[0].upper() + p[1:] for p in parts)}." if parts else "."))
    # A "within" on fewer seeds than the other task's "larger" may be the design's power,
    # not the task: say how many differences are of that kind.
    seeds = wide["seeds"] if on_both else None
    fewer = sum(seeds.loc[i, next(t for t in TASKS if not row[t])]
                < seeds.loc[i, next(t for t in TASKS if row[t])] for i, row in apart.iterrows())
    if fewer:
        which = "The" if n_apart == 1 else f"In {fewer} of the {n_apart}, the"
        said += (f" {which} task without a larger effect has fewer paired seeds than the "
                 "other: its verdict may still move as its grid adds seeds.")
    if waiting:
        said += (f" {waiting} more wait{'s' if waiting == 1 else ''} for the "
                 f"{DECISIVE_SEEDS} paired seeds a verdict needs.")
    return said


def carriers(table: pd.DataFrame) -> str:
    """Which single defaults carry the gap on each task of a
    :func:`~utils.results.tasks.task_summary` table: per task and budget, the one-default
    comparisons larger than seed noise after the family's control, or what they wait for;
    and where a framework's whole ladder is larger trained while none of the thread's four
    defaults is on its own, that too.

    Examples
    --------
    >>> t = pd.DataFrame({"task": ["realistic"] * 4, "toggle": ["GRU init", "Adam", "GRU init",
    ...                   "Adam"], "framework": ["keras"] * 4, "budget": [12, 12, "converged",
    ...                   "converged"], "mean difference": [0.01, 0.11, 0.05, 0.0], "verdict": [
    ...                   "within seed noise", "larger than seed noise", "within seed noise",
    ...                   "within seed noise"]})
    >>> print(carriers(t))
    One default at a time on the realistic task, larger than seed noise after family \
control: after 12 epochs, Adam at +0.110 in Keras; trained, none of those measured.
    """
    said = []
    for task in TASKS:
        sub = table[(table.task == task) & (table.toggle != LADDER_TOGGLE)]
        if sub.empty:
            continue
        stored = sub[sub.verdict != NOT_STORED]
        if stored.empty:
            said.append(f"On the {task} task the single defaults wait for their runs under "
                        "the chosen rule.")
            continue
        parts = []
        for budget, name in ((BUDGET, f"after {BUDGET} epochs"), (CONVERGED, "trained")):
            at = stored[stored.budget == budget]
            big = at[at.verdict.str.startswith("larger")]
            each = [f"{t} at " + listed([f"{r['mean difference']:+.3f} in "
                                          f"{FRAMEWORKS[r['framework']]}"
                                          for _, r in rows.iterrows()])
                    for t, rows in big.groupby("toggle", sort=False)]
            parts.append(f"{name}, " + ("; ".join(each) if each else "none of those measured"))
        waiting = len(sub) - len(stored)
        tail = f" ({waiting} of its {len(sub)} rows still wait for runs)" if waiting else ""
        said.append(f"One default at a time on the {task} task, larger than seed noise after "
                    f"family control: {'; '.join(parts)}{tail}.")
        said += _spread(table[table.task == task], task)
    return " ".join(said)


def _spread(sub: pd.DataFrame, task: str) -> list[str]:
    """A framework's whole ladder larger trained while each of the thread's four defaults,
    all stored, is not: the gap is not carried by one of them alone."""
    out = []
    for fw in ("torch", "keras"):
        ladder = _row(sub, LADDER_TOGGLE, fw, CONVERGED)
        rungs = [_row(sub, t, fw, CONVERGED) for t in THREAD_CULPRITS]
        if (ladder and ladder["verdict"].startswith("larger") and all(rungs)
                and not any(r["verdict"].startswith("larger") for r in rungs)):
            out.append(f"In {FRAMEWORKS[fw]} the whole ladder is larger than seed noise "
                       f"trained on the {task} task, but none of the thread's four defaults "
                       "is on its own: the gap is shared among defaults, or each share is "
                       "below what the seeds resolve.")
    return out


def _against(interval: tuple[float, float], low: float, high: float) -> str:
    """Where a trained gap's 95 % interval lies against the thread's range ``low``-``high``:
    only an interval clear of the range tells the gap apart from the thread's.

    Examples
    --------
    >>> for interval in [(-0.02, 0.03), (0.07, 0.1), (0.045, 0.055), (0.0, 0.1),
    ...                  (0.0, 0.05), (0.05, 0.1)]:
    ...     print(_against(interval, 0.04, 0.06))
    lies below it
    lies above it
    lies inside it
    holds the whole of it
    overlaps its lower end
    overlaps its upper end
    """
    lo, hi = interval
    if hi < low or lo > high:
        return "lies below it" if hi < low else "lies above it"
    if low <= lo and hi <= high:
        return "lies inside it"
    if lo <= low and hi >= high:
        return "holds the whole of it"
    return "overlaps its lower end" if lo < low else "overlaps its upper end"


def _beside_thread(real: dict) -> str:
    """The realistic task's trained gap per framework set beside the thread's, read from its
    interval (the mean alone does not place an effect inside or outside a range)."""
    low, high = thread_gap()
    said, apart, placed, waiting = [], [], [], []
    for fw, ((_, gap), _, interval) in real.items():
        if any(v is None or not np.isfinite(v) for v in interval):  # too few seeds
            said.append(f"{gap:+.3f} in {FRAMEWORKS[fw]} (no interval yet)")
            waiting.append(FRAMEWORKS[fw])
            continue
        placed.append(FRAMEWORKS[fw])
        where = _against(interval, low, high)
        said.append(f"{gap:+.3f} {bracket(*interval)} in {FRAMEWORKS[fw]}, whose interval "
                    f"{where}")
        if where in ("lies below it", "lies above it"):
            apart.append(f"{FRAMEWORKS[fw]} ({where.split()[1]} it)")
    if apart:
        verdict = "told apart from the thread's in " + listed(apart)
    elif not waiting:
        verdict = "not told apart from the thread's in either framework"
    elif placed:
        verdict = (f"not told apart from the thread's in {listed(placed)}; "
                   f"{listed(waiting)} has no interval yet")
    else:
        verdict = "not placed yet: neither framework's gap has an interval"
    return (f"The thread's trained gap was {low:+.3f} to {high:+.3f}; the realistic task's "
            f"trained gap is {', and '.join(said)}: it is {verdict}.")


def _read_in_both(found: dict, task: str) -> str:
    """``task``'s reading in both frameworks, an undecided one in :data:`TASK_WORDS`."""
    return " and ".join(f"{TASK_WORDS.get(found[task, fw][1], found[task, fw][1])} in "
                        f"{FRAMEWORKS[fw]}" for fw in ("torch", "keras"))


# How the task answer words a reading that decides nothing (the others read as they are).
TASK_WORDS = {"open": "not yet decided", "missing": "not yet decided (too few paired seeds)"}


def _seeds_text(table: pd.DataFrame, task: str) -> str:
    """How many paired seeds the whole ladder's rows of ``task`` rest on, and how many the
    grids plan (:data:`~utils.results.grids.SEEDS`) while fewer are in."""
    rows = table[(table.task == task) & (table.toggle == LADDER_TOGGLE)]
    n = sorted({int(v) for v in rows.seeds.dropna()})
    if not n:
        return "no paired seeds yet"
    counted = f"{n[0]}" if n[0] == n[-1] else f"{n[0]}–{n[-1]}"
    planned = len(SEEDS)
    return (f"{counted} paired seeds" if n[0] >= planned
            else f"{counted} of {planned} planned paired seeds so far")


def conclusion(results=None, lab: pd.DataFrame | None = None) -> str:
    """The closing paragraph of notebook 12, generated from the lab's table (``lab``, from
    ``results`` when None): the ladder, the thread's four culprits, the pipeline choices,
    what stays open, and which verdicts move with the stopping rule."""
    results = all_results() if results is None else results
    lab = lab_summary(results) if lab is None else lab

    def where(toggles, kinds) -> list[str]:
        return [f"{t} ({FRAMEWORKS[fw]})" for t in toggles for fw in ("torch", "keras")
                if _reading(lab, t, fw) in kinds]

    culprits_larger = [f"{t} ({FRAMEWORKS[fw]}, {r['mean difference']:+.3f})"
                       for t in THREAD_CULPRITS for fw in ("torch", "keras")
                       if (r := _row(lab, t, fw, CONVERGED)) and r["verdict"].startswith(
                           "larger")]
    parts = [conclusion_sentence(lab), task_sentence()]
    parts.append(
        "Of the thread's four culprits (" + listed(list(THREAD_CULPRITS)) + "), trained "
        "models tell apart from seed noise: " + listed(culprits_larger) + ".")
    parts.append("Mostly or only speed: " + listed(where(
        list(THREAD_CULPRITS) + list(PIPELINE), ("speed", "mostly speed"))) + ".")
    parts.append("Where training ends changes with: " + listed(where(
        list(THREAD_CULPRITS) + list(PIPELINE), ("destination", "reverses"))) + ".")
    open_ = where(list(THREAD_CULPRITS) + list(PIPELINE), ("open",))
    if open_:
        parts.append("Not decided by the stored seeds: " + listed(open_) + ".")
    moving = [f"{r['toggle']} ({FRAMEWORKS[r['framework']]})" for r in
              stopping_sensitivity(results, lab=lab).to_dict("records")
              if r["stopping rule"] not in ("same verdict", "not decided")
              and r["toggle"] in (*THREAD_CULPRITS, *PIPELINE, LADDER_TOGGLE)]
    if moving:
        parts.append("These verdicts are not the same under every stopping rule (the lab's "
                     f"against {STORED_RULE} and shorter patiences replayed on the stored "
                     "runs), so they depend on when training stops: " + listed(moving) + ".")
    return " ".join(parts)


def trained_medians(results=None, preset: str = "classroom") -> pd.DataFrame:
    """Median test micro-F1 (and its range) of each preset's stored trained runs, per
    framework: how close to its ceiling the task lets every setting get."""
    from utils.networks.recipe import KERAS_2017, PYTORCH

    results = all_results() if results is None else results
    rows = []
    for recipe in (KERAS_2017, PYTORCH):
        for fw in ("torch", "keras"):
            f1 = [v["f1"] for v in scores_at(results, Setting("", fw, recipe, preset),
                                              CONVERGED).values()]
            rows.append({"recipe": recipe.name, "framework": FRAMEWORKS[fw], "runs": len(f1),
                         "median test F1": np.median(f1) if f1 else np.nan,
                         "lowest": min(f1, default=np.nan), "highest": max(f1, default=np.nan)})
    return pd.DataFrame(rows).round(3)




# --- figures -------------------------------------------------------------------------------

def _median_ci(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        v = float(values[0]) if values else np.nan
        return v, np.nan, np.nan
    return bootstrap_ci(values)


def plot_ladder_both_budgets(results=None, preset: str = "classroom") -> plt.Figure:
    """Both ladders, one default per rung (in PyTorch from its defaults to Keras-2017's,
    in Keras the other way), each rung's median test F1 over the stored trained runs with
    its 95 % interval, after 12 epochs (hollow, dashed) and trained (filled, solid), one
    panel per framework."""
    results = all_results() if results is None else results
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, (fw, lad) in zip(axes, (("torch", TORCH_LADDER), ("keras", KERAS_LADDER))):
        rungs = list(lad)
        start, other = ("PYTORCH", "Keras'") if fw == "torch" else ("KERAS_2017", "PyTorch's")
        labels = [start if i == 0 else f"+ {other} {name}" for i, (name, _) in
                  enumerate(rungs)]
        for budget, style, ls, fill in ((BUDGET, SIDE_STYLE[0], "--", "none"),
                                        (CONVERGED, SIDE_STYLE[1], "-", None)):
            stats = [_median_ci([v["f1"] for v in scores_at(
                results, Setting("", fw, r, preset), budget).values()]) for _, r in rungs]
            mid = np.array([s[0] for s in stats])
            err = np.array([[s[0] - s[1] for s in stats], [s[2] - s[0] for s in stats]])
            ax.errorbar(range(len(rungs)), mid, yerr=np.nan_to_num(err), ls=ls, capsize=3,
                        color=style["color"], marker=style["marker"], ms=7,
                        mfc=fill or style["color"], mec=style["color"],
                        label=f"after {BUDGET} epochs" if budget == BUDGET else TRAINED_LABEL)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_title(f"the ladder in {FRAMEWORKS[fw]}", fontsize=11)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("test micro-F1 (median, 95 % CI)")
    legend_where_labelled(axes, 0, loc="lower right", fontsize=9)
    fig.tight_layout()
    plot_caption(fig, "Each rung switches one default. Median test micro-F1 of the stored "
                 f"trained runs (stopped by {STORED_RULE}, the rule every rung was run "
                 f"under) with its 95 % interval, after {BUDGET} epochs (hollow "
                 "circles, dashed) and at the epoch early stopping kept (filled squares, "
                 "solid).")
    return fig


def plot_every_default(lab: pd.DataFrame | None = None) -> plt.Figure:
    """Every comparison of the lab's table in one chart: its paired mean difference with
    the 95 % interval after 12 epochs (hollow) and trained (filled), framework defaults
    above the line, pipeline choices below, one panel per framework."""
    lab = lab_summary() if lab is None else lab
    toggles = list(dict.fromkeys(lab.toggle))
    defaults = [t for t in toggles if t not in PIPELINE]
    fig = _forest(lab, defaults + [t for t in toggles if t in PIPELINE], len(defaults))
    plot_caption(fig, "Every comparison of the lab's table, paired by data seed, after "
                 f"{BUDGET} epochs (hollow) and trained (filled; each comparison stopped by "
                 "the rule the table's column 'stopped by' names), with 95 % intervals. Above "
                 "the dotted line: framework defaults (+ means Keras-2017's default scores "
                 "higher); below: pipeline choices (+ means the named choice scores higher).")
    return fig


def plot_tasks(table: pd.DataFrame | None = None) -> plt.Figure | None:
    """The comparisons of :func:`~utils.results.tasks.task_summary` on both tasks, each
    task's row under the other's, drawn as :func:`plot_every_default` draws the lab's table;
    None while no comparison has its seeds under the chosen stopping rule."""
    table = task_summary() if table is None else table
    if "budget" not in table or (table.verdict == NOT_STORED).all():
        return None
    named = table.assign(toggle=table.toggle + " · " + table.task)
    # Each comparison's two tasks next to each other, so the eye reads across the tasks.
    order = [f"{t} · {task}" for t in dict.fromkeys(table.toggle) for task in TASKS
             if f"{t} · {task}" in set(named.toggle)]
    waiting = {t: f"{t} (runs pending)" for t in order
               if all(_row(named, t, fw, b) is None for fw in ("torch", "keras")
                      for b in (BUDGET, CONVERGED))}
    fig = _forest(named, order, None, labels=waiting)
    plot_caption(fig, "Each comparison on the classroom and the realistic task, under one "
                 f"stopping rule, paired by data seed: after {BUDGET} epochs (hollow) and "
                 "trained (filled), with 95 % intervals"
                 + ("; a row marked 'runs pending' waits for its grid's runs." if waiting
                    else "."))
    return fig


def _forest(lab: pd.DataFrame, order: list[str], divider: int | None,
            labels: dict[str, str] | None = None) -> plt.Figure:
    # ``labels``: the tick text of a row where it differs from its toggle.
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.42 * len(order) + 1.6), sharey=True)
    for ax, fw in zip(axes, ("torch", "keras")):
        labelled: set = set()  # each budget's first marker carries its legend label
        for y, t in enumerate(order):
            for budget, style, dy, fill in ((BUDGET, SIDE_STYLE[0], -0.17, "none"),
                                            (CONVERGED, SIDE_STYLE[1], 0.17, None)):
                r = _row(lab, t, fw, budget)
                if r is None:
                    continue
                lo, hi = r["CI low"], r["CI high"]
                ax.errorbar(r["mean difference"], y + dy, ls="none", capsize=2,
                            xerr=[[r["mean difference"] - lo], [hi - r["mean difference"]]]
                            if np.isfinite(lo) else None, marker=style["marker"],
                            color=style["color"], mfc=fill or style["color"], ms=6,
                            label=None if budget in labelled else (
                                f"after {BUDGET} epochs" if budget == BUDGET else
                                TRAINED_LABEL))
                labelled.add(budget)
        ax.axvline(0, color="k", lw=0.8)
        if divider is not None:
            ax.axhline(divider - 0.5, color="0.4", lw=1, ls=":")
        ax.set_title(f"in {FRAMEWORKS[fw]}", fontsize=11)
        ax.set_xlabel("paired mean F1 difference (b − a), 95 % CI")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(order)), [(labels or {}).get(t, t) for t in order])
    axes[0].invert_yaxis()
    # Above the panels, one row: inside, it would hide the top rows' intervals.
    legend_where_labelled(axes, 1, loc="lower right", bbox_to_anchor=(1.0, 1.06), ncol=2,
                          fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


# --- the README's generated sentence ------------------------------------------------------

def readme_block(text: str) -> str:
    """The README's conclusion block around ``text``."""
    return f"{README_START}\n{text}\n{README_END}"


def readme_conclusion(readme: str) -> str:
    """The sentence inside the README's conclusion block (error if the block is missing).

    Examples
    --------
    >>> readme_conclusion("intro\\n" + readme_block("It works.") + "\\nmore")
    'It works.'
    """
    m = re.search(re.escape(README_START) + r"\n(.*?)\n" + re.escape(README_END), readme,
                  re.S)
    if not m:
        raise ValueError(f"README.md: no conclusion block ({README_START} … {README_END})")
    return m.group(1)


def write_readme(path: Path = README, lab: pd.DataFrame | None = None) -> str:
    """Put :func:`finding` into the README's conclusion block; return it."""
    text = Path(path).read_text()
    old = readme_conclusion(text)
    new = finding(lab)
    atomic_write_text(path, text.replace(readme_block(old), readme_block(new)))
    return new


def main(argv: list[str] | None = None) -> int:
    """``python -m utils.notebooks conclusion [--check]``: write (or check) the README's
    generated conclusion."""
    import argparse

    from utils.results.report import differences

    parser = argparse.ArgumentParser(prog="python -m utils.notebooks conclusion")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the README's sentence disagrees with the tables")
    args = parser.parse_args(argv)
    if args.check:
        wrong = differences(readme_conclusion(README.read_text()), finding())
        print("\n".join(wrong) or "README conclusion: current")
        return 1 if wrong else 0
    print(write_readme())
    return 0
