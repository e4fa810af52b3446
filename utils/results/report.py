"""The stored tables' verdicts as one Markdown page (``docs/results.md``).

``python -m utils.experiments summary --markdown docs/results.md`` writes it; a test
regenerates it from the stored tables and fails when the committed page is stale, so the
page can be read (and cited) without running anything and still never says more than the
rows do. Every number comes from :mod:`utils.results.comparisons`, the same code the
notebooks call.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from utils.networks.recipe import TRAINED, Recipe
from utils.results.comparisons import (
    BUDGET,
    CONVERGED,
    CONVERGED_TABLES,
    MIN_SEEDS,
    RULE_TABLES,
    SENSITIVITY,
    STORED_RULE,
    backend_summary,
    backend_table,
    bh_families,
    bracket,
    calibration_table,
    describe_paths,
    lab_summary,
    readings,
    sequential_summary,
    size_change,
    size_columns,
    size_summary,
    stopping_sensitivity,
    with_sensitivity,
)
from utils.results.grids import (
    CALIBRATION_SEEDS,
    CALIBRATION_TARGET,
    DESCRIPTIVE,
    GRID_RULE,
    GRIDS,
    GridNotReady,
    Job,
)
from utils.results.stats import (
    DECISIVE_SEEDS,
    EQUIVALENCE_MARGIN,
    SEQUENTIAL_ALPHA,
    SEQUENTIAL_LOOKS,
)
from utils.results.stopping import (
    CHOICE_RISING,
    CHOICE_RUNS,
    CHOICE_SEEDS,
    LATE,
    RISE_TOL,
    SMOOTH,
    choose_rule,
    stopping_evidence,
)
from utils.results.store import read_meta, read_table, table_path
from utils.results.tasks import (
    difficulty_sentence,
    difficulty_table,
    task_readings,
    task_summary,
)

COMMAND = "python -m utils.experiments summary --markdown docs/results.md"
# A number of the page: what the staleness check compares with a tolerance, because the
# last printed digit may move with the CPU's floating-point path (see docs/reproducibility.md).
NUMBER = re.compile(r"[-+]?(?:\d+\.\d+|\d+)(?:e[-+]?\d+)?")


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.3f}"
    return str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a GitHub Markdown table, floats to three decimals, NaN as empty.

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"a": ["x"], "b": [0.12345]})))
    | a | b |
    |---|---|
    | x | 0.123 |
    """
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _grid_line(name: str, rows: list[dict], trained_rows: list[dict]) -> str:
    try:
        jobs = GRIDS[name]()
    except GridNotReady:
        return (f"- `{name}`: {len(rows)} rows; its runs wait for the stopping rule the "
                "`stopping` grid chooses (below)")
    wall = read_meta(table_path(name)).get("wall_seconds_total")
    hours = f", {wall / 3600:.1f} h of wall time recorded" if wall else ""
    mine, others = split_rows(rows, jobs)
    return (f"- `{name}`: {len(mine)} of {len(jobs)} rows{_elsewhere(others)}{hours}"
            f"{_capped(mine)}{_decidable(mine, jobs, name not in DESCRIPTIVE)}"
            f"{_left(mine, jobs, trained_rows)}")


def split_rows(rows: list[dict], jobs: list[Job]) -> tuple[list[dict], list[dict]]:
    """A table's rows that are its grid's ``jobs``, then the others (the grid run on other
    data with ``run --data NAME``)."""
    keys = {j.key for j in jobs}
    ours = [Job.of_row(r).key in keys for r in rows]
    return ([r for r, o in zip(rows, ours) if o], [r for r, o in zip(rows, ours) if not o])


def _elsewhere(others: list[dict]) -> str:
    """Rows of a table that are not its grid's jobs (the grid run on other data, ``run
    --data NAME``), counted by dataset so that "N of M rows" stays the grid's own.

    Examples
    --------
    >>> row = {"preset": "x16"}
    >>> _elsewhere([row, row]), _elsewhere([])
    (' (besides them: 2 rows on `x16`)', '')
    """
    other = Counter(r["preset"] for r in others)
    if not other:
        return ""
    return " (besides them: " + ", ".join(
        f"{n} row{'' if n == 1 else 's'} on `{p}`" for p, n in sorted(other.items())) + ")"


def _capped(rows: list[dict]) -> str:
    """Trained runs that the epoch cap stopped rather than the patience rule: models that may
    still have been learning, so a verdict on them is made at the cap's budget.

    Examples
    --------
    >>> _capped([{"stop_reason": "patience"}, {"stop_reason": "cap"}])
    '; 1 of 2 trained runs stopped at their epoch cap, not by the patience rule'
    >>> _capped([{"stop_reason": "fixed"}])
    ''
    """
    trained_runs = [r for r in rows if r["stop_reason"] != "fixed"]
    capped = sum(r["stop_reason"] == "cap" for r in trained_runs)
    if not capped:
        return ""
    return (f"; {capped} of {len(trained_runs)} trained runs stopped at their epoch cap, not "
            f"by the patience rule")


def _rule(recipe: Recipe) -> tuple:
    # What sets a trained run's length besides its setting: the stopping rule's fields.
    return (recipe.epochs, recipe.patience, recipe.lr_schedule, recipe.lr_step_epochs,
            recipe.lr_decay)


def left_cost(rows: list[dict], jobs: list[Job],
              trained_rows: list[dict]) -> tuple[int, float, Counter]:
    """What a grid still lacks: the number of missing jobs, the CPU-seconds of those that
    can be costed, and the uncosted ones counted by (framework, dataset).

    A missing job costs the median run time (``seconds``, one thread) of its own setting's
    stored rows; failing those, of the stored trained-model rows of its framework and
    dataset under its own stopping rule (a plateau rule trains longer than patience 15);
    failing both, it is counted as having no estimate rather than guessed.

    Examples
    --------
    >>> from utils.networks.recipe import KERAS_2017, PYTORCH
    >>> jobs = [Job(KERAS_2017, "torch", s) for s in range(3)] + [Job(PYTORCH, "keras", 0)]
    >>> done = [{"framework": "torch", "preset": "classroom", "recipe": KERAS_2017.to_string(),
    ...          "seed": 0, "seconds": 3600.0}]
    >>> left_cost(done, jobs, done)
    (3, 7200.0, Counter({('keras', 'classroom'): 1}))
    >>> from dataclasses import replace  # a longer rule does not borrow the shorter's times
    >>> left_cost(done, [Job(replace(KERAS_2017, patience=30, epochs=300), "torch", 0)], done)
    (1, 0.0, Counter({('torch', 'classroom'): 1}))
    """
    done = {Job.of_row(r).key for r in rows}
    left = [j for j in jobs if j.key not in done]
    own: dict[tuple, list[float]] = {}
    kind: dict[tuple, list[float]] = {}
    for r in rows:
        own.setdefault((r["framework"], r["preset"], r["recipe"]), []).append(r["seconds"])
    for r in trained_rows:
        kind.setdefault((r["framework"], r["preset"], _rule(Recipe.from_string(r["recipe"]))),
                        []).append(r["seconds"])
    seconds, unknown = 0.0, Counter()
    for j in left:
        same = own.get((j.framework, j.preset, j.recipe.to_string())) or kind.get(
            (j.framework, j.preset, _rule(j.recipe)))
        if same:
            seconds += float(np.median(same))
        else:
            unknown[(j.framework, j.preset)] += 1
    return len(left), seconds, unknown


def _left(rows: list[dict], jobs: list[Job], trained_rows: list[dict]) -> str:
    """For a grid still filling up: the CPU-hours its missing rows should take
    (:func:`left_cost`), the rows it cannot cost named by kind.

    Examples
    --------
    >>> from utils.networks.recipe import KERAS_2017, PYTORCH
    >>> ran = {"framework": "torch", "preset": "classroom", "seed": 0, "seconds": 3600.0,
    ...        "recipe": KERAS_2017.to_string()}
    >>> grid = [Job(KERAS_2017, "torch", s) for s in range(3)] + [Job(PYTORCH, "keras", 0)]
    >>> print(_left([ran], grid, [ran]))  # doctest: +NORMALIZE_WHITESPACE
    ; the 3 rows left: about 2.0 CPU-hours for the 2 whose kind has stored runs, at their
    speed, and 1 with no stored run of its kind to estimate from (keras on classroom)
    """
    n_left, seconds, unknown = left_cost(rows, jobs, trained_rows)
    if not n_left:
        return ""
    n_unknown = sum(unknown.values())
    kinds = ", ".join(f"{f} on {p}" for f, p in unknown)
    its = "its" if n_unknown == 1 else "their"
    head = f"; the {n_left} row{'' if n_left == 1 else 's'} left"
    if n_unknown == n_left:
        return f"{head}: no stored run of {its} kind to estimate from ({kinds})"
    hours = f"about {seconds / 3600:.1f} CPU-hours"
    if not unknown:
        return f"{head}: {hours} at the speed of the stored runs"
    # Only the rows with an estimate are costed, and the text says so: a total given for
    # the whole remainder would read as the cost of every row left.
    return (f"{head}: {hours} for the {n_left - n_unknown} whose "
            f"kind has stored runs, at their speed, and {n_unknown} with no stored run of "
            f"{its} kind to estimate from ({kinds})")


def _decidable(rows: list[dict], jobs: list[Job], verdicts: bool = True) -> str:
    """For a grid still filling up: how many of its settings have the seeds a verdict needs,
    or, for a grid that makes no verdict, how many have all their seeds.

    Examples
    --------
    >>> from utils.networks.recipe import KERAS_2017
    >>> jobs = [Job(KERAS_2017, "keras", s) for s in range(3)]
    >>> done = [{"framework": "keras", "preset": "classroom",
    ...          "recipe": KERAS_2017.to_string(), "seed": 0}]
    >>> _decidable(done, jobs, verdicts=False)
    '; 0 of 1 settings have all their 3 seeds (a description, no verdict)'
    """
    done = {Job.of_row(r).key for r in rows}
    if {j.key for j in jobs} <= done:
        return ""
    seeds: dict[tuple, list[bool]] = {}
    for j in jobs:
        seeds.setdefault((j.framework, j.preset, j.recipe.to_string()), []).append(j.key in done)
    if not verdicts:
        full = sum(all(s) for s in seeds.values())
        planned = {len(s) for s in seeds.values()}
        each = f"their {planned.pop()} seeds" if len(planned) == 1 else "their seeds"
        return (f"; {full} of {len(seeds)} settings have all {each} (a description, "
                f"no verdict)")
    ready = sum(sum(s) >= DECISIVE_SEEDS for s in seeds.values())
    return (f"; {ready} of {len(seeds)} settings have the {DECISIVE_SEEDS} seeds a verdict "
            f"needs")


def _comparisons(table: pd.DataFrame, stopping: pd.DataFrame | None = None) -> pd.DataFrame:
    """A :func:`budget_summary` table as the page shows it; with ``stopping`` (a
    :func:`stopping_sensitivity` of the same comparisons) each trained row also says how
    its verdict fares under the other stopping rules."""
    t = table.copy() if stopping is None else with_sensitivity(table, stopping)
    none = pd.Series(np.nan, index=t.index)  # no comparison with its seeds yet: no interval
    t["95 % CI, seeds"] = [bracket(lo, hi) for lo, hi in zip(t.get("CI low", none),
                                                              t.get("CI high", none))]
    clip = t.get("clip CI low", pd.Series(np.nan, index=t.index))
    t["95 % CI, test clips"] = [bracket(lo, hi) for lo, hi in
                                zip(clip, t.get("clip CI high", clip))]
    # A count, empty where not counted (too few seeds, or two frameworks: two paths by design).
    apart = t.get("paths apart", pd.Series(np.nan, index=t.index))
    t["pairs on two paths"] = ["" if np.isnan(n) else str(int(n)) for n in apart]
    return t.reindex(columns=["toggle", "framework", "budget", "stopped by", "seeds",
                              "pairs on two paths",
                              "mean difference", "median difference", "seeds b > a",
                              "95 % CI, seeds", "95 % CI, test clips", "limited by",
                              "rules out", "MDE (80 %)", "p", "q (BH)", "verdict", "family",
                              *([SENSITIVITY] if stopping is not None else [])])


def _with_rule(read: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`readings` table with the stopping rule its trained runs were read under."""
    late = table[table.budget == CONVERGED].set_index(["toggle", "framework"])["stopped by"]
    rule = [late.get((t, fw), "") for t, fw in zip(read.toggle, read.framework)]
    return read.assign(**{"stopped by": rule})


def _said(text: str) -> list[str]:
    """A paragraph of the page where there is something to say, none where there is not."""
    return [text] if text else []


def _changes(table: pd.DataFrame) -> pd.DataFrame:
    """The :func:`size_change` table as the page shows it: one interval column, the seeds
    of both sizes in one cell."""
    t = table.copy()
    t["sizes"] = [f"{a} → {b}" for a, b in zip(t["from"], t["to"])]
    t["seeds"] = [f"{a} → {b}" for a, b in zip(t["seeds from"], t["seeds to"])]
    t["95 % CI"] = [bracket(lo, hi) for lo, hi in zip(t.ci_low, t.ci_high)]
    t = t.rename(columns={"mde": "MDE (80 %)", "q": "q (BH)"})
    return t.reindex(columns=["effect", "framework", "budget", "sizes", "seeds", "effect from",
                              "effect to", "change", "95 % CI", "MDE (80 %)", "p", "q (BH)",
                              "verdict"])


def _backend_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Epochs to one decimal, seconds to two, memory in whole MB: the precision they have."""
    t = table.copy()
    for column, digits in (("median epochs", 1), ("median kept epoch", 1), ("s / epoch", 2),
                           ("peak RSS MB", 0)):
        t[column] = [_cell(v) if np.isnan(v) else f"{v:.{digits}f}" for v in t[column]]
    return t


def render(y_test: np.ndarray | None = None, toggles: pd.DataFrame | None = None,
           sizes: pd.DataFrame | None = None, backends: pd.DataFrame | None = None,
           changes: pd.DataFrame | None = None) -> str:
    """The whole page, from the stored tables as they are now. ``toggles``, ``sizes``,
    ``backends`` and ``changes`` are the summaries a caller already has (computed here when
    None)."""
    toggles = lab_summary(y_test=y_test) if toggles is None else toggles
    sizes = (size_summary(declared=toggles) if sizes is None else sizes).copy()
    sizes["95 % CI"] = [bracket(lo, hi) for lo, hi in zip(sizes.ci_low, sizes.ci_high)]
    backends = (backend_summary(y_test=y_test, declared=toggles) if backends is None
                else backends)
    stopping = stopping_sensitivity(lab=toggles)
    evidence = stopping_evidence()
    changes = size_change() if changes is None else changes
    # Each table read once; its trained-model rows also cost the rows a grid still lacks.
    tables = {name: read_table(table_path(name)) for name in GRIDS if name != "smoke"}
    trained = [r for name in (*CONVERGED_TABLES, *RULE_TABLES) for r in tables.get(name, [])]
    parts = [
        "# What the stored tables say",
        f"Generated from the tables in `data/results/` by `{COMMAND}`: do not edit by hand "
        "(`tests/test_results_doc.py` regenerates it and fails when it is stale). Each "
        "stored row records its commit, package versions, machine, floating-point path and "
        "command; the statistics are those of the notebooks (`utils/results/comparisons.py`"
        ", `utils/results/stats.py`): paired by data seed, the exact sign-flip test and the "
        "interval that inverts it, the minimal detectable effect (MDE) at 80 % power, and "
        "Benjamini–Hochberg (BH) over each budget's table. A comparison is shown from "
        f"{MIN_SEEDS} paired seeds and can be decided from {DECISIVE_SEEDS}.",
        "**How to read a verdict.** Each comparison is decided once, in one declared family "
        "(the `family` column): the lab's table of every one-default comparison and the "
        "whole ladder, or, for what that table does not hold, the size or backends table. "
        "Every other table, figure and notebook sentence that shows it shows that verdict. "
        "What a \"within\" verdict rules out is read from its 95 % interval (`rules out`: "
        "the farther bound's distance from zero); the MDE describes what the design could "
        "detect at 80 % power and is not a bound on the result. *Speed only* is claimed where "
        "the trained runs' interval excludes the 12-epoch effect and rules out every trained "
        f"effect beyond a margin of {EQUIVALENCE_MARGIN:.2f} F1, stated before the data; "
        "otherwise the reading says *mostly speed* and names the trained effect it cannot "
        "rule out. After 12 epochs and trained, every comparison reads the same trained "
        "runs (their curve at epoch 12, and the epoch early stopping kept), stopped by the "
        f"rule its `stopped by` column names: the chosen rule ({GRID_RULE}) for each "
        "comparison the `rerun` grid trains under it, once that grid pairs "
        f"{MIN_SEEDS} of its seeds; {STORED_RULE} (the first trained grids) for the others, "
        "whose verdicts did not move when shorter patiences were replayed on their curves.",
        "## The tables read",
        "\n".join(_grid_line(name, rows, trained) for name, rows in tables.items()),
        "## Speed or destination",
        f"Each comparison's adjusted verdict after {BUDGET} epochs and at convergence "
        "(early stopping on validation F1, by the rule in `stopped by`), and what the two "
        "say together.",
        markdown_table(_with_rule(readings(toggles), toggles)),
        "## Does the stopping rule find the plateau?",
        "Each stopping rule's stored trained runs (classroom set): how long they ran, whether "
        f"the {SMOOTH}-epoch smoothed validation curve still rose over the last {LATE} "
        f"epochs before the stop by more than {RISE_TOL:g} F1 (the equivalence margin; a "
        "flat curve with the runs' epoch-to-epoch noise has a rising fitted line half the "
        "time), the share of those epochs that set a new best, and, for a candidate more "
        "patient than the grids' rule at a constant rate, the median change in test F1 from "
        "the epoch the grids' patience would have kept in the same run (grid `stopping`; a "
        "run that drops η on a plateau left that run at its first drop). The criterion was "
        "stated before the candidates' runs were complete "
        f"(`choose_rule` in `utils/results/stopping.py`): on the runs of seeds "
        f"{CHOICE_SEEDS[0]}-{CHOICE_SEEDS[-1]} ({CHOICE_RUNS} per framework) a candidate "
        f"qualifies with at most {CHOICE_RISING:.0%} of them still rising, and the "
        "cheapest that qualifies is chosen; later seeds check the choice and do not move it.",
        markdown_table(evidence),
        choose_rule()[1],
        "## How far each verdict depends on the stopping rule",
        f"The first trained grids stopped after {TRAINED['patience']} epochs without a "
        "better validation F1. A shorter patience is replayed exactly on the same runs' "
        "stored curves (until it stops, the run is the same run), each rule's table "
        "adjusted as its own BH family; where the lab's table reads a comparison on those "
        f"runs, the {STORED_RULE} column is its verdict. The chosen rule's column is the "
        "lab's verdict where it reads the comparison under that rule, from that rule's own "
        "runs. `stopping rule` names the rules whose verdict differs from the lab's: a "
        "verdict that moves with when the models stop is a verdict about the stopping rule "
        "as much as about the default.",
        markdown_table(stopping),
        "## Seeds where it matters: the sequential plan",
        "Ten paired seeds detect an effect of about one spread of the per-seed differences "
        "(the MDE column below), and most trained effects are smaller than that. For the "
        "thread's four defaults and the whole ladder, in both frameworks, seeds are added "
        "under a plan stated before any added seed was run (`SEQUENTIAL_LOOKS`, "
        "`SEQUENTIAL_ALPHA` in `utils/results/stats.py`), on runs under the stopping rule "
        "the `stopping` grid chooses: the `rerun` grid's ten seeds, then the `sequential` "
        "grid's seeds 10-29. Looks at "
        + ", ".join(str(n) for n in SEQUENTIAL_LOOKS) + " paired seeds, the two-sided error "
        "spent as " + ", ".join(f"{a:g}" for a in SEQUENTIAL_ALPHA) + " (summing to 0.05). "
        "At each look a comparison is decided as larger (BH over the family at that level) "
        f"or as no effect beyond ±{EQUIVALENCE_MARGIN:g} F1 (its interval at that level "
        "within the margin), and otherwise waits for the next look; after the last look it "
        "stays undecided. A decided comparison takes no more seeds and leaves the family: "
        "each look's BH runs over the comparisons still open, a look is taken once each of "
        "them has its seeds, and the `sequential` grid runs the next look's seeds of the "
        "settings they use, so its row count above is the plan's most (this amendment was "
        "made before any look's seeds were stored).",
        markdown_table(sequential_summary().assign(
            interval=lambda t: [bracket(lo, hi) for lo, hi in zip(t["CI low"], t["CI high"])]
            if "CI low" in t else "").drop(columns=["CI low", "CI high"], errors="ignore")),
        "## Every comparison, paired by data seed",
        "Mean F1 difference b − a over the paired seeds (beside it the median per-seed "
        "difference, and the share of seeds on which b scored higher, a tie counting half: "
        "the paired probability of improvement; the intervals, test and MDE are of the "
        "mean). The interval over test clips (a bootstrap of the clips, seeds held) exists "
        "where the rows keep their test probabilities: at convergence. The last column "
        "says whether a trained verdict is the same under the other stopping rules (the "
        "section above). "
        f"{bh_families(toggles)}",
        *_said(describe_paths(toggles)),
        markdown_table(_comparisons(toggles, stopping)),
        "## Effect versus training-set size",
        "Each effect read across the training-set sizes: the paired mean difference, its "
        "verdict after BH over that budget's table, and the paired seeds. Every size, the "
        f"classroom set's included, reads the runs stopped by {STORED_RULE} (the only rule "
        "the size grids ran under), so a classroom cell is the lab's verdict only where the "
        "lab reads that comparison under the same rule. "
        f"{bh_families(sizes)}",
        *_said(describe_paths(sizes)),
        markdown_table(size_columns(sizes)),
        "The same comparisons with their 95 % intervals over seeds:",
        markdown_table(sizes.reindex(columns=["effect", "framework", "budget", "preset",
                                              "runs", "clips", "seeds", "diff", "95 % CI",
                                              "mde", "verdict"])),
        "### Does an effect shrink with more data?",
        "An interval at the larger size that holds zero, beside one at the classroom size "
        "that does not, is not yet a shrinking effect. Each effect's change from the "
        "classroom set to each larger set: the mean of its per-seed paired differences "
        "there minus the mean on the classroom set, Welch's 95 % interval and test (the "
        "seeds of two sizes train on different sets, and the spread of an effect differs "
        "between sizes), the smallest change the design detects at 80 % power, and BH over "
        "each budget's changes.",
        markdown_table(_changes(changes)),
        "## Calibrating the realistic task",
        "The realistic presets keep the classroom set's features, sizes and protocol and "
        "change only the task: the generator's difficulty knobs, each grounded in "
        "`docs/sources.md#task-difficulty` (the columns between `preset` and `seeds`, as "
        "each candidate sets them). A candidate is calibrated when the trained `KERAS_2017` "
        "Keras model's median test micro-F1 over ten seeds lies between "
        f"{CALIBRATION_TARGET[0]:.2f} and {CALIBRATION_TARGET[1]:.2f}, the thread's range "
        "on the real task. Grid `realistic_calibration` trains each candidate on "
        f"{len(CALIBRATION_SEEDS)} seeds under the grids' stopping rule; the lowest and "
        "highest seed show the spread, and the median after 12 epochs comes from the same "
        "runs' curves.",
        markdown_table(calibration_table()),
        "Which knobs carry the difficulty: the trained `KERAS_2017` Keras model on the "
        "realistic task and on it with one group of knobs set back to the classroom's "
        "(grid `realistic_ablation`, under the chosen stopping rule), the gain paired by "
        "seed against the whole realistic task: a description on a few seeds, no verdict.",
        markdown_table(difficulty := difficulty_table()),
        difficulty_sentence(difficulty),
        "## Speed or destination on a task as hard as the real one",
        "The thread's four defaults, the input range, the optimizer and the whole ladder on "
        "the classroom and the realistic task, both frameworks, after 12 epochs and trained, "
        "all under the stopping rule chosen above (grids `rerun` and `realistic`); a "
        "classroom comparison the lab's table reads under that rule shows the lab's "
        "verdict, and the others form one BH family per budget (the `task` column names "
        "the dataset, `family` where each verdict was made).",
        *([markdown_table(_comparisons(tasks).assign(task=tasks.task)
                          .pipe(lambda t: t[["task", *t.columns[:-1]]])),
           markdown_table(task_readings(tasks))]
          if "budget" in (tasks := task_summary(lab=toggles)) else
          ["Its runs wait for the stopping rule: no row is stored under it yet."]),
        "## One Keras model on three backends",
        "The trained runs of each backend: median test F1 with its 95 % bootstrap interval "
        "over seeds, epochs run and kept, CPU-seconds per epoch (one thread) and the "
        "largest peak memory of a run's process. \"upper bound\": the rows read "
        "getrusage's peak, which in a grid worker also counts the memory of the process "
        "that started it and of the worker's earlier jobs; rows of later runs read the "
        "process's own peak since the job started (`utils/common/memory.py`).",
        markdown_table(_backend_runs(backend_table())),
        *_said(describe_paths(backends)),
        "Kernels against defaults, paired by seed (the same initial weights and batches on "
        f"every backend), every backend's runs stopped by {STORED_RULE}, the only rule the "
        "backends grid ran (on TensorFlow the lab's table reads the defaults under the "
        "chosen rule: another comparison, above), then the two budgets read together:",
        markdown_table(_comparisons(backends)),
        markdown_table(readings(backends)),
    ]
    return "\n\n".join(parts) + "\n"


def differences(committed: str, fresh: str, tolerance: float = 2e-3) -> list[str]:
    """Where two renderings of the page differ, line by line: text must match exactly,
    numbers within ``tolerance`` (the last printed digit may move with the CPU). Empty
    when the committed page still says what the tables say.

    Examples
    --------
    >>> differences("| a | 0.120 |", "| a | 0.121 |")
    []
    >>> differences("| a | 0.120 |", "| b | 0.120 |")
    ['line 1: | a | 0.120 | != | b | 0.120 |']
    """
    old, new = committed.splitlines(), fresh.splitlines()
    out = [] if len(old) == len(new) else [f"{len(old)} lines != {len(new)} lines"]
    for i, (a, b) in enumerate(zip(old, new), 1):
        na, nb = NUMBER.findall(a), NUMBER.findall(b)
        same_text = NUMBER.sub("#", a) == NUMBER.sub("#", b) and len(na) == len(nb)
        if not same_text or any(abs(float(x) - float(y)) > tolerance for x, y in zip(na, nb)):
            out.append(f"line {i}: {a} != {b}")
    return out
