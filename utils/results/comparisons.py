"""Compare settings one default apart: stored seeds, live runs, curves and a verdict.

Introduced in ``04_initialisation.ipynb`` and used by every toggle notebook (04–10). A
:class:`Setting` is a (label, framework, recipe) triple. :func:`stored_rows` finds the
stored runs of a setting in the committed tables (the fixed-budget ``reference``,
``toggles``, ``sizes`` and their trained-model twins); :func:`run_live` trains the learner's
own seeds; :func:`budget_summary` pairs settings by data seed after a budget of epochs and at
convergence, with the minimal detectable effect and a family adjustment
(:func:`utils.lessons.toggles.show` draws all of it for a notebook).

Examples
--------
>>> from utils.networks.recipe import KERAS_2017, PYTORCH
>>> pair = ("all defaults", Setting("a", "torch", PYTORCH), Setting("b", "torch", KERAS_2017))
>>> nothing = pd.DataFrame(columns=["framework", "recipe", "preset", "seed", "data_seed",
...                                 "stop_reason", "test_f1", "epoch_test_f1"])
>>> budget_summary([pair], nothing, budgets=(12,)).loc[0, "verdict"]
'not stored yet'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from utils.common.machine import paths_differ
from utils.common.memory import peak_reading
from utils.networks.recipe import KERAS_2017, PYTORCH, TRAINED, Recipe, trained
from utils.results.grids import (
    CALIBRATION_TARGET,
    GRID_RULE,
    KERAS_LADDER,
    SEEDS,
    SIZE_EFFECTS,
    SIZE_PRESETS,
    TORCH_LADDER,
    UNPLANNED_SIZE_PRESETS,
    GridNotReady,
    Job,
    extras,
    gate_rung,
    rerun_settings,
    trained_toggle,
    under_grid_rule,
)
from utils.results.stats import (
    EQUIVALENCE_MARGIN,
    IDENTICAL,
    LARGER,
    SEQUENTIAL_ALPHA,
    SEQUENTIAL_LOOKS,
    WITHIN,
    Change,
    bh_company,
    bootstrap_ci,
    clip_bootstrap,
    family_verdicts,
    paired,
    ruled_out,
    sequential_decision,
    welch_change,
)
from utils.results.store import load_results, rows_of
from utils.task.dataset import PRESETS, REALISTIC_CANDIDATES, REALISTIC_CHOICE, load_dataset
from utils.task.synthesis import SynthParams
from utils.training.keras_backends import OTHER_BACKENDS
from utils.training.trainer import decode_probs, train

TABLES = ("reference", "toggles", "sizes")
CONVERGED_TABLES = ("reference_converged", "toggles_converged", "sizes_converged",
                    "backends_converged")
# Trained runs under the stopping rule the ``stopping`` grid chooses (GRID_RULE).
RULE_TABLES = ("stopping", "rerun", "sequential", "realistic", "realistic_ablation")
# Every stored table a page of both tasks reads: the lab's and the realistic task's.
EVERY_TABLE = (*TABLES, *CONVERGED_TABLES, *RULE_TABLES)
NOT_STORED = "not stored yet"
MIN_SEEDS = 5  # fewer stored seeds than this on either side: no verdict is given


@dataclass(frozen=True)
class Setting:
    """One point of a comparison: what the plot calls it, where it runs, what it runs, and
    the stopping rule its trained runs are read under (``rule``: None for the stored
    trained grids' rule, :data:`STORED_RULE`; else a name of
    :data:`~utils.results.grids.STOPPING_RULES`)."""

    label: str
    framework: str
    recipe: Recipe
    preset: str = "classroom"
    rule: str | None = None


# The stopping rule of the stored trained grids (utils.networks.recipe.TRAINED), by name.
STORED_RULE = f"patience {TRAINED['patience']}"


def rule_name(rule: str | None) -> str:
    """A stopping rule as the tables name it: :data:`STORED_RULE` for None."""
    return STORED_RULE if rule is None else rule


# The classroom's runs under the chosen stopping rule: the lab's table reads them
# (:func:`lab_read`), so they are read by default.
CLASSROOM_RULE_TABLES = ("stopping", "rerun", "sequential")


def all_results(tables: Iterable[str] = TABLES + CONVERGED_TABLES + CLASSROOM_RULE_TABLES):
    """Every stored row of ``tables`` in one DataFrame (column ``grid`` names the table).

    By default the fixed-budget tables, the trained-model ones and the classroom's runs
    under the chosen stopping rule: a row's recipe names its budget and rule (``epochs``,
    ``patience``, ``lr_schedule``), so the kinds never mix in :func:`stored_rows`.
    """

    frames = [load_results(t).assign(grid=t) for t in tables]
    return pd.concat(frames, ignore_index=True)


def stored_rows(results, setting: Setting):
    """The stored rows (one per seed, sorted) of ``setting`` in ``results``."""

    return rows_of(results, setting.framework, setting.recipe, setting.preset)


def smoke_version(recipe: Recipe, smoke: bool) -> Recipe:
    """The recipe a notebook trains live: one epoch in smoke mode (CI), as is otherwise."""
    return replace(recipe, epochs=1) if smoke else recipe


def run_live(settings: Sequence[Setting], seeds: Sequence[int], smoke: bool = False,
             data=None, progress: bool = True) -> dict[str, list]:
    """Train each setting for each seed here and now; {label: [TrainResult, ...]}.

    Each setting trains on its own dataset (``Setting.preset``, "classroom" unless given);
    smoke mode trains one epoch on the smoke dataset instead (a test that the cell works, not
    a result). ``data`` (a loaded :class:`~utils.task.dataset.Dataset`) overrides both and
    saves reloading it. ``progress`` shows a per-epoch bar for each run (a widget in a
    notebook).
    """

    loaded = {}

    def dataset_of(s: Setting):
        if data is not None:
            return data
        name = "smoke" if smoke else s.preset
        if name not in loaded:
            loaded[name] = load_dataset(name, progress=False)
        return loaded[name]

    return {s.label: [train(smoke_version(s.recipe, smoke), dataset_of(s), seed, s.framework,
                            progress=progress) for seed in seeds] for s in settings}


def toggle_pairs(preset: str = "classroom") -> list[tuple[str, Setting, Setting]]:
    """Every stored one-default comparison, in both frameworks: (toggle, a, b), on the
    stored rows of dataset ``preset``.

    For the framework defaults, ``a`` has PyTorch's value and ``b`` Keras-2017's, in both
    frameworks, so a positive difference always means "the Keras-2017 default scores higher".
    For the pipeline choices of notebook 07, ``a`` is the Keras-2017 recipe.
    """

    out: list[tuple[str, Setting, Setting]] = []
    for fw, lad in (("torch", TORCH_LADDER), ("keras", KERAS_LADDER)):
        rungs = [Setting(f"{fw} rung {i}", fw, r) for i, (_, r) in enumerate(lad)]
        for i, (label, _) in enumerate(lad[1:], start=1):
            a, b = rungs[i - 1], rungs[i]
            out.append((label, *((a, b) if fw == "torch" else (b, a))))
        e = {k: Setting(k, fw, r) for k, r in extras(fw).items()}
        base = Setting("KERAS_2017", fw, KERAS_2017)
        sigmoid = Setting(f"{fw} sigmoid-gated rung", fw, gate_rung(fw))
        out += [("Keras-3 hard sigmoid (vs sigmoid)", sigmoid, e["hard_sigmoid_keras3"]),
                ("Nesterov formula, step decay", e["step_pytorch_formula"],
                 e["step_keras_formula"]),
                ("input [0, 1] (vs standardised)", base, e["unit"]),
                ("input [-128, 128] (vs standardised)", base, e["pm128"]),
                ("BatchNorm (vs none)", base, e["standard_bn"]),
                ("input [0, 1] with BatchNorm", e["standard_bn"], e["unit_bn"]),
                ("input [-128, 128] with BatchNorm", e["standard_bn"], e["pm128_bn"]),
                ("Adam at lr 1e-3 (vs SGD + Nesterov)", base, e["adam"])]
    return [(toggle, replace(a, preset=preset), replace(b, preset=preset))
            for toggle, a, b in out]


LADDER_TOGGLE = "all defaults (PYTORCH → KERAS_2017)"
# The thread's own suspects, in the order its author checked them.
THREAD_CULPRITS = ("conv/dense init", "GRU init", "Nesterov formula", "gate activation")


def lab_pairs(preset: str = "classroom") -> list[tuple[str, Setting, Setting]]:
    """The lab's declared family: every one-default comparison of :func:`toggle_pairs` and
    the whole ladder (``PYTORCH`` → ``KERAS_2017``) in both frameworks. Each of them gets its
    verdict here, once, and every other table, figure and sentence that shows one of them
    shows that verdict (``declared`` of :func:`budget_summary`)."""
    return toggle_pairs(preset) + [
        (LADDER_TOGGLE, Setting("PYTORCH", fw, PYTORCH, preset),
         Setting("KERAS_2017", fw, KERAS_2017, preset)) for fw in ("torch", "keras")]


def framework_of(a: Setting, b: Setting) -> str:
    """A comparison's framework column: the shared one, or "a vs b" across frameworks."""
    return a.framework if a.framework == b.framework else f"{a.framework} vs {b.framework}"


def comparison_key(a: Setting, b: Setting) -> str:
    """What makes two rows of two tables one comparison: both settings' framework, dataset
    and recipe (its defaults; the budget fields are the table's, not the comparison's), in
    either order (b − a and a − b share their test, interval width and verdict).

    Examples
    --------
    >>> from utils.networks.recipe import KERAS_2017, PYTORCH
    >>> k = comparison_key(Setting("x", "torch", PYTORCH), Setting("y", "torch", KERAS_2017))
    >>> k == comparison_key(Setting("a", "torch", trained(PYTORCH)),
    ...                     Setting("b", "torch", KERAS_2017))
    True
    >>> k == comparison_key(Setting("y", "torch", KERAS_2017), Setting("x", "torch", PYTORCH))
    True

    Under which stopping rule the two are read is not part of it: :func:`rule_key` adds it.
    """
    def side(s: Setting) -> str:
        return f"{s.framework}|{s.preset}|{trained(s.recipe).to_string()}"
    return " <-> ".join(sorted((side(a), side(b))))


def rule_key(a: Setting, b: Setting) -> str:
    """A table row's key: the comparison (:func:`comparison_key`) and the stopping rule its
    trained runs are read under. Rows of one key state one verdict."""
    return f"{comparison_key(a, b)} | stopped by {rule_name(a.rule)}"


def with_rule(a: Setting, b: Setting, rule: str | None) -> tuple[Setting, Setting]:
    """Both sides of a pair read under stopping ``rule``."""
    return replace(a, rule=rule), replace(b, rule=rule)


def lab_rule(a: Setting, b: Setting, results) -> str | None:
    """The stopping rule the lab's table reads the pair (a, b) under: the chosen rule
    (:data:`~utils.results.grids.GRID_RULE`) where the ``rerun`` grid runs both settings
    (:func:`~utils.results.grids.rerun_settings`, classroom set) and ``results`` pair at
    least :data:`MIN_SEEDS` of their seeds under it; else the stored grids' rule (None,
    :data:`STORED_RULE`): the rerun grid holds every comparison whose verdict moved when
    shorter rules were replayed on the stored curves, or that claimed a destination
    (``tests/test_stopping.py`` derives that list from the tables).

    The threshold keeps a comparison whose rerun is under way on the stored grids' verdict
    until the chosen rule's runs can give one; it counts seeds, never what they say.
    """
    if GRID_RULE is None or not all(
            s.preset == "classroom" and s.recipe in rerun_settings(s.framework) for s in (a, b)):
        return None
    ra, rb = (scores_at(results, s, CONVERGED, rule=GRID_RULE) for s in (a, b))
    return GRID_RULE if len(set(ra) & set(rb)) >= MIN_SEEDS else None


def as_read(pairs: Sequence[tuple[str, Setting, Setting]], table: pd.DataFrame
            ) -> list[tuple[str, Setting, Setting]]:
    """``pairs``, each under the stopping rule ``table`` (a :func:`budget_summary`) reads
    that comparison under; a pair it does not hold keeps its own. A figure drawn from the
    pairs a table was made of then reads the runs its sentences read."""
    read = {r["comparison"]: r["rule"] if isinstance(r.get("rule"), str) else None
            for r in table.to_dict("records") if "comparison" in r}
    return [(t, *with_rule(a, b, read.get(comparison_key(a, b), a.rule))) for t, a, b in pairs]


def lab_read(pairs: Sequence[tuple[str, Setting, Setting]], results
             ) -> list[tuple[str, Setting, Setting]]:
    """``pairs`` each read under the stopping rule the lab's table reads it under
    (:func:`lab_rule`)."""
    return [(t, *with_rule(a, b, lab_rule(a, b, results))) for t, a, b in pairs]


# --- paired, powered, family-controlled: at a budget and at convergence -------------------

BUDGET = 12  # the epoch budget of the first stored tables, kept as a point of comparison
CONVERGED = "converged"


SOURCES = {"curve": "trained runs, their curve", "fixed": "fixed-budget runs"}


def replay_kept(valid_f1: Sequence[float], patience: int) -> int | None:
    """The epoch (1-based) a run would have kept had it stopped after ``patience`` epochs
    without a better validation F1 (ties do not count, as in the trainer); None when the
    curve ends before that rule would have stopped it (a shorter patience than the run's own
    is always replayed exactly: until it stops, the run is the same run).

    Examples
    --------
    >>> replay_kept([0.5, 0.6, 0.6, 0.6, 0.7, 0.7], 2), replay_kept([0.5, 0.6, 0.6], 2)
    (2, None)
    """
    best, kept = -np.inf, 0
    for e, f1 in enumerate(valid_f1):
        if f1 > best:
            best, kept = f1, e
        elif e - kept >= patience:
            return kept + 1
    return None


def scores_at(results, setting: Setting, budget: int | str,
              source: str = "curve", patience: int | None = None,
              rule: str | None = None) -> dict[int, dict]:
    """``{data seed: {"f1": test F1, "row": row}}`` of ``setting`` at ``budget``.

    ``budget`` = :data:`CONVERGED`: the kept epoch of the trained-model rows (the setting's
    recipe as those grids run it on its preset, :func:`trained_toggle`). An int k: the test
    F1 after k epochs, read from the trained-model rows' curves (``source="curve"``: the
    same runs serve both budgets) or from fixed-budget rows of exactly k epochs
    (``"fixed"``). ``patience`` (at :data:`CONVERGED` only) replays a shorter stopping
    rule on the stored curves (:func:`replay_kept`): the test F1 of the epoch that rule
    would have kept. ``rule`` reads the trained runs made under that candidate stopping
    rule (:data:`~utils.results.grids.STOPPING_RULES`) instead of the rule the setting
    names (``Setting.rule``; None: the stored grids' rule).

    Raises ValueError for ``patience`` on runs of another rule than the stored grids': a
    shorter patience replays exactly only on their runs, at a constant rate.
    """
    rule = setting.rule if rule is None else rule
    if patience is not None and rule is not None:
        raise ValueError(f"a patience of {patience} is replayed on the stored grids' runs "
                         f"({STORED_RULE}), not on runs stopped by {rule!r}")
    if source == "fixed" and budget != CONVERGED:
        fixed = rows_of(results, setting.framework, replace(setting.recipe, epochs=budget,
                                                            patience=0), setting.preset)
        return {int(r.data_seed): {"f1": float(r.test_f1), "row": r}
                for r in fixed.itertuples()}
    long = rows_of(results, setting.framework,
                   trained_toggle(setting.recipe, setting.preset, rule), setting.preset)
    if budget == CONVERGED and patience is not None:
        kept = {int(r.data_seed): (replay_kept(r.epoch_valid_f1, patience), r)
                for r in long.itertuples() if r.stop_reason != "fixed"}
        return {s: {"f1": float(r.epoch_test_f1[k - 1]), "row": r}
                for s, (k, r) in kept.items() if k is not None}
    if budget == CONVERGED:
        return {int(r.data_seed): {"f1": float(r.test_f1), "row": r}
                for r in long.itertuples() if r.stop_reason != "fixed"}
    return {int(r.data_seed): {"f1": float(r.epoch_test_f1[budget - 1]), "row": r}
            for r in long.itertuples() if len(r.epoch_test_f1) >= budget}


def _pair_scores(results, a: Setting, b: Setting, budget: int | str,
                 patience: int | None = None, rule: str | None = None):
    """Both sides' scores from one kind of run (never one of each): the trained runs, at
    convergence their kept epoch (or the one a shorter ``patience`` would have kept), at an
    epoch budget their curve. The figures draw the same runs, so a strip and the sentence
    under it never read two sets of runs.

    The fixed-budget tables are read at a budget only where the trained runs pair fewer
    than :data:`MIN_SEEDS` seeds and they pair more (data on which no trained grid has been
    run yet). A step-decay setting's trained runs drop η on a plateau
    (:func:`trained_toggle`), so at an epoch budget they are read with that schedule, which
    the ``η drops`` column names. ``rule`` reads the runs made under that candidate
    stopping rule (:func:`scores_at`; else each setting's own, one rule for both), and
    then never a fixed-budget table."""
    if rule is None and a.rule != b.rule:
        raise ValueError(f"one pair, one stopping rule: {a.label!r} is read under "
                         f"{rule_name(a.rule)!r}, {b.label!r} under {rule_name(b.rule)!r}")
    rule = a.rule if rule is None else rule
    curve = (scores_at(results, a, budget, patience=patience, rule=rule),
             scores_at(results, b, budget, patience=patience, rule=rule), "curve")
    if budget == CONVERGED or rule is not None:
        return curve
    n = len(set(curve[0]) & set(curve[1]))
    if n >= MIN_SEEDS:
        return curve
    fixed = (scores_at(results, a, budget, "fixed"), scores_at(results, b, budget, "fixed"),
             "fixed")
    return fixed if len(set(fixed[0]) & set(fixed[1])) > n else curve


def bh_families(table: pd.DataFrame) -> str:
    """How many comparisons each Benjamini–Hochberg family of a :func:`budget_summary`
    table holds (introduced in 08): while a family is still filling up its q-values move
    as rows land, since a comparison added to the family can raise every q.

    With few seeds the exact test has a floor (:func:`~utils.results.stats.smallest_p`),
    and BH calls a comparison at that floor larger only together with many others
    (:func:`~utils.results.stats.bh_company`): each family says how many, per number of
    paired seeds in it, so that "clear alone but not after BH" reads as what it is.

    Examples
    --------
    >>> t = pd.DataFrame({"budget": [12] * 3 + [CONVERGED] * 3, "seeds": [10, 10, 6] * 2,
    ...                   "verdict": ["v"] * 5 + [NOT_STORED]})
    >>> print(bh_families(t))  # doctest: +NORMALIZE_WHITESPACE
    BH families: after 12 epochs, 3 of 3 comparisons (to call a comparison larger, BH must
    call at least 2 of them larger if it has 6 paired seeds, at least 1 if it has 10); at
    convergence, 2 of 3 comparisons (to call a comparison larger, BH must call at least 1 of
    them larger if it has 10 paired seeds; the rest are not stored yet, so these q-values
    will move).
    >>> print(bh_families(t.assign(seeds=5)).split(";")[0])  # doctest: +NORMALIZE_WHITESPACE
    BH families: after 12 epochs, 3 of 3 comparisons (BH cannot call one larger if it has 5
    paired seeds)
    """
    parts = []
    for budget, sub in table.groupby("budget", sort=False):
        kept = sub[sub.verdict != NOT_STORED]
        when = "at convergence" if budget == CONVERGED else f"after {budget} epochs"
        m = len(kept)
        floors = [(n, bh_company(n, m)) for n in sorted(kept.seeds.unique())]
        can = [(n, k) for n, k in floors if k <= m]
        cannot = " or ".join(str(n) for n, k in floors if k > m)
        notes = []
        if can:
            (n0, k0), rest = can[0], can[1:]
            notes.append(f"to call a comparison larger, BH must call at least {k0} of them "
                         f"larger if it has {n0} paired seeds"
                         + "".join(f", at least {k} if it has {n}" for n, k in rest)
                         + (f", and cannot if it has {cannot}" if cannot else ""))
        elif cannot:
            notes.append(f"BH cannot call one larger if it has {cannot} paired seeds")
        if len(kept) < len(sub):
            notes.append("the rest are not stored yet, so these q-values will move")
        parts.append(f"{when}, {len(kept)} of {len(sub)} comparisons"
                     + (f" ({'; '.join(notes)})" if notes else ""))
    return "BH families: " + "; ".join(parts) + "."


def _schedule(a: Setting, b: Setting, source: str) -> str:
    """How η changes in the runs read for a pair ("" where it stays constant): a step-decay
    setting's fixed-budget runs drop it every ``lr_step_epochs``, its trained runs on a
    plateau (:func:`~utils.results.grids.trained_toggle`)."""
    recipes = [s.recipe if source == "fixed" else trained_toggle(s.recipe, s.preset)
               for s in (a, b)]
    said = {f"every {r.lr_step_epochs} epochs" if r.lr_schedule == "step" else
            f"after {r.lr_step_epochs} epochs without a better validation F1"
            for r in recipes if r.lr_schedule != "constant"}
    return " / ".join(sorted(said))


def _limit(row: dict) -> str:
    """Which uncertainty bounds a comparison: the wider of its two intervals, over seeds
    (another draw of weights and batches) or over test clips (another test set)."""
    seeds = row["CI high"] - row["CI low"]
    clips = row["clip CI high"] - row["clip CI low"]
    if np.isclose(seeds, clips):
        return "seeds and test clips alike"  # e.g. the same predictions on every seed
    return "seeds" if seeds > clips else "test clips"


def _apart(ra, rb) -> bool:
    """Whether two stored rows' floating-point paths differ (:func:`~utils.common.machine.
    paths_differ`; a row built without one, a test's or an old table's, is unrecorded)."""
    fa, fb = (getattr(r, "float_path", None) for r in (ra, rb))
    return paths_differ(fa if isinstance(fa, dict) else {}, fb if isinstance(fb, dict) else {})


def _paths_apart(sa: dict, sb: dict, shared: Sequence[int]) -> int:
    """How many paired seeds have their two runs on floating-point paths not recorded as one
    (another CPU model, caches, thread count or library version, or a path recorded for only
    one of them: :func:`~utils.common.machine.paths_differ`)."""
    return sum(_apart(sa[s]["row"], sb[s]["row"]) for s in shared)


def describe_paths(table: pd.DataFrame) -> str:
    """Which pairs of a :func:`budget_summary` or :func:`size_summary` table join runs from
    two floating-point paths, per budget ("" when none does).

    A grid fills up over sessions, not always on one CPU. Such a pair still shares its
    initial weights and batches, but not its rounding, which training amplifies (notebook
    09): it pairs less tightly than two runs on one path, and that spread is part of its
    interval and test. Comparisons across frameworks (the kernels of notebook 10) are on two
    paths by design and are not counted.

    Examples
    --------
    >>> t = pd.DataFrame({"budget": [12, CONVERGED, CONVERGED], "seeds": [10, 10, 6],
    ...                   "paths apart": [0, 4, 0]})
    >>> print(describe_paths(t))  # doctest: +NORMALIZE_WHITESPACE
    Pairs whose two runs were not recorded on one floating-point path (another CPU model,
    caches, thread count or library version, or a path recorded for only one of them): at
    convergence 4 of 16 paired seeds, in 1 of 2 comparisons. Such a pair shares its
    initial weights and batches but not its rounding, which training amplifies (notebook 09):
    it pairs less tightly, and that spread is part of its interval and test.
    """
    if "paths apart" not in table or not (table["paths apart"].fillna(0) > 0).any():
        return ""
    parts = []
    for budget, sub in table.groupby("budget", sort=False):
        apart = sub["paths apart"].dropna()
        if apart.sum() > 0:
            when = "at convergence" if budget == CONVERGED else f"after {budget} epochs"
            seeds = int(sub.loc[apart.index, "seeds"].sum())
            parts.append(f"{when} {int(apart.sum())} of {seeds} paired seeds, in "
                         f"{int((apart > 0).sum())} of {len(apart)} comparisons")
    return ("Pairs whose two runs were not recorded on one floating-point path (another "
            "CPU model, caches, thread count or library version, or a path recorded for only "
            "one of them): " + "; ".join(parts) + ". Such a "
            "pair shares its initial weights and batches but not its rounding, which "
            "training amplifies (notebook 09): it pairs less tightly, and that spread is "
            "part of its interval and test.")


LAB = "the lab's table"  # the family of :func:`lab_pairs`, where those verdicts are made


def budget_summary(pairs: Sequence[tuple[str, Setting, Setting]] | None = None,
                   results=None, budgets: Sequence[int | str] = (BUDGET, CONVERGED),
                   y_test: np.ndarray | None = None, alpha: float = 0.05,
                   declared: pd.DataFrame | None = None, family: str = LAB,
                   patience: int | None = None, rule: str | None = None):
    """Per pair (toggle, a, b) and budget: the paired mean difference b − a over data
    seeds, its 95 % interval, the minimal detectable effect (80 % power), the share of seeds
    on which b scored higher, the verdict alone and after Benjamini–Hochberg over the
    table's comparisons at that budget, and, where the rows keep their test probabilities
    and ``y_test`` is given, the interval from resampling the test clips and which of the
    two intervals is wider (``limited by``). Pairs with fewer than :data:`MIN_SEEDS` shared
    seeds say "not stored yet". ``pairs`` defaults to the lab's family (:func:`lab_pairs`).

    One comparison, one verdict: a pair that ``declared`` (another table of this function,
    e.g. the lab's) already holds is read under the stopping rule that table reads it under,
    and at a budget where it has the same seeds it takes that table's verdict, q and family
    and stays out of this table's family; the others are adjusted together, as family
    ``family``. ``patience`` replays a shorter stopping rule at convergence on the stored
    grids' runs (:func:`replay_kept`). ``rule`` reads every pair under that stopping rule; a
    comparison under another rule is another comparison (its ``key``, :func:`rule_key`,
    says so; column ``stopped by``); :data:`STORED_RULE` reads the stored grids' runs.
    """
    results = all_results() if results is None else results
    pairs = lab_read(lab_pairs(), results) if pairs is None else pairs
    made = {} if declared is None else {
        (r["key"], r["budget"]): r for r in declared.to_dict("records")
        if r["verdict"] != NOT_STORED}
    if rule is not None:  # STORED_RULE by name: the stored grids' runs, whatever declared reads
        pairs = [(t, *with_rule(a, b, None if rule == STORED_RULE else rule))
                 for t, a, b in pairs]
    elif patience is None and declared is not None:
        pairs = as_read(pairs, declared)
    rows = []
    for budget in budgets:
        found = []
        for toggle, a, b in pairs:
            sa, sb, source = _pair_scores(results, a, b, budget, patience)
            shared = sorted(set(sa) & set(sb))
            fw = framework_of(a, b)
            row = {"toggle": toggle, "framework": fw, "budget": budget,
                   "runs": SOURCES[source], "seeds": len(shared),
                   "stopped by": rule_name(a.rule) if source == "curve" else "",
                   "η drops": _schedule(a, b, source), "key": rule_key(a, b),
                   "comparison": comparison_key(a, b), "rule": a.rule}
            if len(shared) >= MIN_SEEDS:
                r = paired({s: sa[s]["f1"] for s in shared}, {s: sb[s]["f1"] for s in shared})
                if a.framework == b.framework:  # across frameworks: two paths by design
                    row["paths apart"] = _paths_apart(sa, sb, shared)
                row.update({"mean difference": r.diff, "median difference": r.median_diff,
                            "CI low": r.ci_low,
                            "CI high": r.ci_high, "p": r.p, "MDE (80 %)": r.mde,
                            "rules out": ruled_out(r.ci_low, r.ci_high),
                            "seeds b > a": r.p_better})
                # Rows keep the test probabilities of their kept epoch only: the clip
                # interval exists at convergence, or for fixed runs of exactly this budget.
                kept = [sa[s]["row"] for s in shared] + [sb[s]["row"] for s in shared]
                if y_test is not None and patience is None and all(k.test_probs and (
                        budget == CONVERGED or k.best_epoch == budget) for k in kept):
                    row["clip CI low"], row["clip CI high"] = clip_bootstrap(
                        [decode_probs(sa[s]["row"].test_probs) for s in shared],
                        [sa[s]["row"].thresholds for s in shared],
                        [decode_probs(sb[s]["row"].test_probs) for s in shared],
                        [sb[s]["row"].thresholds for s in shared], y_test)
                    row["limited by"] = _limit(row)
                there = made.get((row["key"], budget))
                if there is not None and there["seeds"] == row["seeds"]:
                    row.update({k: there[k] for k in ("verdict alone", "q (BH)", "verdict",
                                                      "family")})
                else:
                    found.append((row, r))
            else:
                row["verdict"] = NOT_STORED
            rows.append(row)
        _, raw = family_verdicts([r for _, r in found], alpha, method="none")
        q, adjusted = family_verdicts([r for _, r in found], alpha, method="bh")
        for (row, _), verdict_raw, qi, verdict in zip(found, raw, q, adjusted):
            row.update({"verdict alone": verdict_raw.split(" (")[0], "q (BH)": qi,
                        "verdict": verdict, "family": family})
    for row in rows:  # a bound is claimed only where the verdict is "within"
        if not str(row.get("verdict", "")).startswith(f"{WITHIN} ("):
            row["rules out"] = np.nan
    return pd.DataFrame(rows)


def lab_summary(results=None, preset: str = "classroom",
                budgets: Sequence[int | str] = (BUDGET, CONVERGED),
                y_test: np.ndarray | None = None) -> pd.DataFrame:
    """The lab's declared family (:func:`lab_pairs`) on ``preset``, where each of its
    comparisons gets its one verdict (introduced in 08; the notebooks' headlines, the
    results page and ``summary`` all read it), each read under the stopping rule
    :func:`lab_rule` gives it (column ``stopped by``)."""
    results = all_results() if results is None else results
    return budget_summary(lab_read(lab_pairs(preset), results), results, budgets, y_test)


def _trained_runs(results, setting: Setting) -> dict:
    """``{data seed: row}`` of the setting's trained-model runs (its recipe under
    :func:`trained_toggle` and its stopping rule, rather than a fixed budget)."""
    rows = rows_of(results, setting.framework,
                   trained_toggle(setting.recipe, setting.preset, setting.rule), setting.preset)
    return {int(r.data_seed): r for r in rows.itertuples() if r.stop_reason != "fixed"}


def gap_over_budgets(results, a: Setting, b: Setting) -> pd.DataFrame:
    """The paired gap b − a at every epoch budget, per data seed (the central figure of
    "speed or destination").

    For a budget of e epochs a run scores what its curve shows at epoch e; once it had
    stopped by itself before e, what it kept. Only the trained-model rows
    (:func:`~utils.networks.recipe.trained`) of both settings count. Columns: ``budget``,
    ``seed``, ``gap``.
    """
    runs = [_trained_runs(results, s) for s in (a, b)]
    seeds = sorted(set(runs[0]) & set(runs[1]))
    if not seeds:
        return pd.DataFrame(columns=["budget", "seed", "gap"])
    horizon = max(len(r.epoch_test_f1) for side in runs for r in side.values())

    def at(r, e: int) -> float:
        return r.epoch_test_f1[e - 1] if e <= len(r.epoch_test_f1) else r.test_f1

    return pd.DataFrame([{"budget": e, "seed": s, "gap": at(runs[1][s], e) - at(runs[0][s], e)}
                         for s in seeds for e in range(1, horizon + 1)])


def parting_epochs(results, a: Setting, b: Setting) -> pd.DataFrame:
    """Per data seed, the first epoch whose training loss differs between the trained runs
    of ``a`` and ``b``: where the setting that tells them apart first acted.

    Paired runs of one seed start from the same weights and see the same batches, so until
    the toggled setting changes a single number they are one run, bit for bit (notebook 09
    shows how quickly one changed bit then spreads). A setting that only acts in rare
    states (a loss guard that no probability has reached yet) leaves the runs identical
    for many epochs, or for good. Columns: ``seed``; ``parted at`` (the epoch; <NA> when
    the runs agree on every epoch and stop together); ``epochs a``, ``epochs b``;
    ``loss before`` (the training loss both runs shared at the epoch before they parted:
    how far training had gone; <NA> when they parted at once or never); ``lowest test p``
    (the smallest test probability either run stored at its kept epoch: how saturated the
    outputs had become; NaN where neither stored them); ``F1 b − a`` (the paired difference
    at the kept epochs, 0 where the runs never parted).

    Examples
    --------
    >>> from utils.networks.recipe import KERAS_2017, PYTORCH
    >>> from utils.training.trainer import encode_probs
    >>> a, b = Setting("a", "torch", PYTORCH), Setting("b", "torch", KERAS_2017)
    >>> rows = pd.DataFrame({"framework": "torch", "preset": "classroom", "stop_reason": "patience",
    ...     "recipe": [trained(r).to_string() for r in (PYTORCH, KERAS_2017)],
    ...     "seed": 0, "data_seed": 0, "test_f1": [0.5, 0.52],
    ...     "epoch_loss": [[0.9, 0.5, 0.3], [0.9, 0.5, 0.2]],
    ...     "test_probs": [encode_probs(np.array([[p]], np.float32)) for p in (0.25, 0.5)]})
    >>> t = parting_epochs(rows, a, b)
    >>> t["parted at"].tolist(), t["loss before"].tolist(), t["lowest test p"].tolist()
    ([3], [0.5], [0.25])
    >>> t["F1 b − a"].round(3).tolist()
    [0.02]
    >>> describe_parting("b (from a)", t)
    'b (from a): parted at epoch 3 on 1 of 1 seeds (training loss then 0.500)'
    """
    runs = [_trained_runs(results, s) for s in (a, b)]
    out, apart = [], 0
    for seed in sorted(set(runs[0]) & set(runs[1])):
        # Bit for bit only on one path: on two, rounding parts the runs from the first step.
        if _apart(runs[0][seed], runs[1][seed]):
            apart += 1
            continue
        la, lb = (list(side[seed].epoch_loss) for side in runs)
        differ = [e for e, (x, y) in enumerate(zip(la, lb), start=1) if x != y]
        # Equal over the epochs both ran but one ran longer: they parted where one stopped.
        parted = differ[0] if differ else (None if len(la) == len(lb)
                                           else min(len(la), len(lb)) + 1)
        lowest = min((float(decode_probs(side[seed].test_probs).min())
                      for side in runs if side[seed].test_probs), default=np.nan)
        out.append({"seed": seed, "parted at": parted, "epochs a": len(la), "epochs b": len(lb),
                    "loss before": la[parted - 2] if parted and parted > 1 else None,
                    "lowest test p": lowest,
                    "F1 b − a": float(runs[1][seed].test_f1 - runs[0][seed].test_f1)})
    table = pd.DataFrame(out, columns=["seed", "parted at", "epochs a", "epochs b",
                                       "loss before", "lowest test p", "F1 b − a"])
    table = table.astype({"parted at": "Int64", "loss before": "Float64"})
    table.attrs["two paths"] = apart  # seeds left out, said by describe_parting
    return table


def describe_parting(label: str, table: pd.DataFrame) -> str:
    """One sentence for a :func:`parting_epochs` table: on how many seeds the runs parted,
    when, on how many they stayed one run to the end, and how many seeds were left out
    because their two runs are not recorded on one floating-point path."""
    apart = table.attrs.get("two paths", 0)
    left_out = (f" ({apart} paired seeds left out: their two runs are not recorded on one "
                f"floating-point path, so rounding alone would part them)" if apart else "")
    n = len(table)
    if not n:
        where = " on one floating-point path" if apart else ""
        return f"{label}: no paired trained runs{where} stored yet{left_out}"
    parted = table.dropna(subset=["parted at"])
    same = n - len(parted)
    if parted.empty:
        return f"{label}: identical on all {n} seeds, every epoch{left_out}"
    first, last = int(parted["parted at"].min()), int(parted["parted at"].max())
    when = f"epoch {first}" if first == last else f"epochs {first}–{last}"
    text = f"{label}: parted at {when} on {len(parted)} of {n} seeds"
    loss = parted["loss before"].dropna()
    if len(loss):
        text += (f" (training loss then {loss.min():.3f})" if loss.min() == loss.max() else
                 f" (training loss then {loss.min():.3f}–{loss.max():.3f})")
    return text + (f"; identical to the end on the other {same}" if same else "") + left_out


def _interval_text(low: float, high: float, seeds: int) -> str:
    """A seed interval in words; five seeds or fewer bound none (see ``paired``)."""
    if np.isfinite(low):
        return f"95 % CI over {seeds} paired seeds {low:+.3f} to {high:+.3f}"
    return f"no bounded interval: {seeds} paired seeds reject no shift"


def describe_budgets(table) -> list[str]:
    """A :func:`budget_summary` table as one sentence per comparison and budget."""
    out = []
    for r in table.to_dict("records"):
        when = "at convergence" if r["budget"] == CONVERGED else f"after {r['budget']} epochs"
        if r["verdict"] == NOT_STORED:
            out.append(f"{r['toggle']} ({r['framework']}), {when}: {NOT_STORED} "
                       f"({r['seeds']} paired seeds)")
            continue
        clip = (f"; over test clips {r['clip CI low']:+.3f} to {r['clip CI high']:+.3f}: "
                f"{r['limited by']} limit it most"
                if pd.notna(r.get("clip CI low", np.nan)) else "")
        interval = _interval_text(r["CI low"], r["CI high"], r["seeds"])
        out.append(f"{r['toggle']} ({r['framework']}), {when}: paired mean difference "
                   f"{r['mean difference']:+.3f} ({interval}{clip}) -> {r['verdict']}")
    return out


def _state(r: dict | None) -> str:
    """One budget's adjusted verdict in one word: larger, alone (clear by itself, not after
    the family adjustment), identical (the two settings were one run), within, undecidable
    or missing. The only place that reads the verdict's wording."""
    if r is None or r["verdict"] == NOT_STORED:
        return "missing"
    if r["verdict"] == LARGER:
        return "larger"
    if r["verdict"].startswith(f"{WITHIN} after"):
        return "alone"
    if IDENTICAL in r["verdict"]:
        return "identical"
    return "within" if np.isfinite(r["MDE (80 %)"]) else "undecidable"


def _at(r: dict | None) -> str:
    state = _state(r)
    if state == "missing" and r is not None and 0 < r.get("seeds", 0) < MIN_SEEDS:
        # Some seeds are in, too few to show: say how far the grid has got.
        n = r["seeds"]
        return f"{n} paired seed{'' if n == 1 else 's'} so far, shown from {MIN_SEEDS}"
    if state in ("missing", "undecidable"):
        return NOT_STORED if state == "missing" else f"undecidable ({r['seeds']} seeds)"
    if state == "larger":
        return f"{r['mean difference']:+.3f}, larger"
    if state == "identical":
        return f"{r['mean difference']:+.3f}, identical runs"
    # Clear alone but not after the family adjustment: say so, claim nothing.
    if state == "alone":
        return f"{r['mean difference']:+.3f}, within after BH"
    return f"{r['mean difference']:+.3f}, within (rules out > {_out(r):.3f})"


def _out(r: dict) -> float:
    """What ``r``'s interval over seeds rules out (:func:`~utils.results.stats.ruled_out`)."""
    return ruled_out(r["CI low"], r["CI high"])


def _bound(r: dict) -> str:
    """What a "within" verdict rules out: read from its interval (never from the MDE, which
    describes the design), or any effect at all where the runs were identical."""
    if _state(r) == "identical":
        return "identical runs"
    return f"rules out effects larger than {_out(r):.3f}"


def _holds(r: dict, value: float) -> bool:
    """Whether ``r``'s interval over seeds holds ``value`` (False where it has none)."""
    return bool(r.get("CI low", np.nan) <= value <= r.get("CI high", np.nan))


def bracket(low: float, high: float) -> str:
    """An interval as the tables print it: "" where there is none (NaN), "unbounded" where
    too few seeds bound it (see ``paired``).

    Examples
    --------
    >>> bracket(-0.0452, 0.004), bracket(-np.inf, np.inf), bracket(np.nan, np.nan)
    ('[-0.045, +0.004]', 'unbounded', '')
    """
    if np.isnan(low):
        return ""
    return "unbounded" if not np.isfinite(low) else f"[{low:+.3f}, {high:+.3f}]"


def _reading(early: dict | None, late: dict | None, budget: int, filling: bool) -> str:
    text = _read_budgets(early, late, budget, filling)
    drops = [r.get("η drops") if r else None for r in (early, late)]
    if all(isinstance(d, str) and d for d in drops) and drops[0] != drops[1]:
        # Not one schedule read at two budgets: say so beside whatever the verdicts say.
        text += (f"; two schedules: η drops {drops[0]} in the runs read after {budget} "
                 f"epochs, {drops[1]} in the trained runs")
    return text


def _more_seeds(r: dict, filling: bool) -> str:
    """Why a reading is left open: while the grid adds seeds to comparison ``r`` or to its
    family (``filling``: the BH q-values move with every comparison's seeds), more will
    tell; once every planned seed of the family is paired, it stays open, and says so.

    Examples
    --------
    >>> _more_seeds({"seeds": 10}, filling=True), _more_seeds({"seeds": 10}, filling=False)
    ('more seeds will tell', "all 10 of the grid's seeds paired: not claimed")
    """
    if filling:
        return "more seeds will tell"
    return f"all {r['seeds']} of the grid's seeds paired: not claimed"


def _read_budgets(early: dict | None, late: dict | None, budget: int, filling: bool) -> str:
    e, c = _state(early), _state(late)
    if c in ("missing", "undecidable"):
        seeds = 0 if late is None else late["seeds"]
        return f"not decided at convergence yet ({seeds} paired seed{'' if seeds == 1 else 's'})"
    if c == "alone":
        return (f"not settled at convergence: {late['mean difference']:+.3f} is clear alone "
                f"but not after BH over the table ({_more_seeds(late, filling)})")
    then = "larger than seed noise" if c == "larger" else _bound(late)
    if e in ("missing", "undecidable"):
        return f"at convergence {then}"
    if e == "alone":
        # The early estimate is claimed nowhere: neither "larger" nor a bound that it may
        # exceed. An effect larger once trained is a destination whatever the early one was.
        early_text = (f"after {budget} epochs {early['mean difference']:+.3f} was clear alone "
                      f"but not after BH")
        if c == "larger":
            return (f"destination: larger once trained ({late['mean difference']:+.3f}); "
                    f"{early_text}")
        return f"at convergence {then}; {early_text}"
    identical = "identical" in (e, c)
    e, c = ("within" if s == "identical" else s for s in (e, c))
    if e == c == "larger":
        if np.sign(early["mean difference"]) != np.sign(late["mean difference"]):
            return "reverses: larger at both budgets, with opposite signs"
        return (f"destination: larger at both budgets ({early['mean difference']:+.3f}, "
                f"then {late['mean difference']:+.3f}), it survives training")
    # "Only" is claimed where the budget without an effect has an interval that excludes the
    # other budget's estimate: the effect shrank (or grew), not just went undetected.
    if e == "larger":
        x = early["mean difference"]
        if _holds(late, x):
            held = bracket(late["CI low"], late["CI high"])
            return (f"speed or destination not told apart: larger after {budget} epochs "
                    f"({x:+.3f}); at convergence {_bound(late)}, but its interval "
                    f"{held} still holds {x:+.3f} ({_more_seeds(late, filling)})")
        if _state(late) == "identical" or _out(late) <= EQUIVALENCE_MARGIN:
            return (f"speed only: larger after {budget} epochs ({x:+.3f}), at convergence "
                    f"{_bound(late)} (margin {EQUIVALENCE_MARGIN:.2f})")
        return (f"mostly speed: larger after {budget} epochs ({x:+.3f}), at convergence "
                f"{late['mean difference']:+.3f}; a trained effect up to {_out(late):.3f} "
                f"not ruled out")
    if c == "larger":
        x = late["mean difference"]
        if _holds(early, x):
            held = bracket(early["CI low"], early["CI high"])
            return (f"destination: larger once trained ({x:+.3f}); after {budget} epochs "
                    f"within seed noise, but its interval {held} holds {x:+.3f} too")
        return f"destination only: within after {budget} epochs, larger once trained"
    if identical:
        return f"neither: {_bound(early)} after {budget} epochs, {_bound(late)} at convergence"
    return (f"neither: after {budget} epochs its interval rules out effects larger than "
            f"{_out(early):.3f}, at convergence larger than {_out(late):.3f}")


def readings(table: pd.DataFrame, budget: int = BUDGET) -> pd.DataFrame:
    """Speed or destination, per comparison of a :func:`budget_summary` table: its adjusted
    verdict after ``budget`` epochs and at convergence, and what the two say together.

    An effect larger after ``budget`` epochs and within seed noise at convergence, where the
    interval at convergence excludes the early estimate, changed how fast the model learns:
    *speed only* where that interval also rules out every trained effect beyond
    :data:`~utils.results.stats.EQUIVALENCE_MARGIN` (stated before the data), otherwise
    *mostly speed*, with the trained effect it cannot rule out; if that interval still
    holds the early estimate, the two are *not told apart* (yet, while the grid adds
    seeds). One larger at both survives training
    (*destination*), or *reverses* if its sign flips; one that only appears at convergence,
    the early interval excluding its estimate there, is a *destination only*. A comparison
    not yet decidable at convergence says so, and so does one clear by itself there but not
    after the family adjustment (not settled).

    Examples
    --------
    >>> t = pd.DataFrame([
    ...     {"toggle": "init", "framework": "torch", "budget": 12, "seeds": 10,
    ...      "mean difference": 0.14, "MDE (80 %)": 0.08, "verdict": LARGER},
    ...     {"toggle": "init", "framework": "torch", "budget": CONVERGED, "seeds": 10,
    ...      "mean difference": 0.01, "MDE (80 %)": 0.02, "verdict": WITHIN,
    ...      "CI low": -0.01, "CI high": 0.03}])
    >>> readings(t).loc[0, "reading"]  # doctest: +NORMALIZE_WHITESPACE
    'mostly speed: larger after 12 epochs (+0.140), at convergence +0.010; a trained effect
    up to 0.030 not ruled out'
    >>> t.loc[1, ["CI low", "CI high"]] = [-0.004, 0.006]
    >>> readings(t).loc[0, "reading"]  # doctest: +NORMALIZE_WHITESPACE
    'speed only: larger after 12 epochs (+0.140), at convergence rules out effects larger
    than 0.006 (margin 0.01)'
    """
    rows = []
    # One comparison short of its seeds moves the q-values of all: the family is filling.
    filling = bool((table.loc[table.budget == CONVERGED, "seeds"] < len(SEEDS)).any())
    for (toggle, fw), sub in table.groupby(["toggle", "framework"], sort=False):
        by = {r["budget"]: r for r in sub.to_dict("records")}
        early, late = by.get(budget), by.get(CONVERGED)
        rows.append({"toggle": toggle, "framework": fw, f"after {budget} epochs": _at(early),
                     "at convergence": _at(late),
                     "reading": _reading(early, late, budget, filling)})
    return pd.DataFrame(rows, columns=["toggle", "framework", f"after {budget} epochs",
                                       "at convergence", "reading"])


# --- how far a verdict depends on the stopping rule ----------------------------------------

REPLAYED_PATIENCE = (5, 10)  # shorter rules replayed exactly from the stored curves


def stored_rule_summary(results=None, budgets: Sequence[int | str] = (BUDGET, CONVERGED),
                        patience: int | None = None, lab: pd.DataFrame | None = None
                        ) -> pd.DataFrame:
    """The lab's comparisons (:func:`lab_pairs`) all read on the stored trained grids' runs
    (:data:`STORED_RULE`), or with a shorter ``patience`` replayed on their curves, one
    Benjamini–Hochberg family per budget: what the stored grids say (the replays of
    :func:`stopping_sensitivity`; the rerun list was derived from them). A comparison the
    lab's table reads on these same runs keeps the lab's verdict and family (``lab``,
    default :func:`lab_summary` at ``budgets``)."""
    results = all_results() if results is None else results
    if patience is not None:
        return budget_summary(lab_pairs(), results, budgets, patience=patience,
                              family=f"the lab's comparisons at patience {patience}, replayed")
    # Where the lab's table reads a comparison on these runs, its verdict stands.
    return budget_summary(lab_pairs(), results, budgets, rule=STORED_RULE,
                          declared=lab_summary(results, budgets=budgets) if lab is None
                          else lab,
                          family=f"the lab's comparisons at {STORED_RULE}")


def stopping_sensitivity(results=None, pairs: Sequence[tuple[str, Setting, Setting]] | None
                         = None, patiences: Sequence[int] = REPLAYED_PATIENCE,
                         lab: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each comparison's verdict at convergence under the stored grids' stopping rule
    (:data:`STORED_RULE`), under each shorter ``patience`` replayed on the same runs'
    stored curves (:func:`replay_kept`; each rule's table is its own Benjamini–Hochberg
    family, :func:`stored_rule_summary`), and, where the lab's table reads it under the
    chosen rule (:func:`lab_rule`), that verdict, from that rule's own runs. Columns:
    ``toggle``, ``framework``, one per rule (the mean difference and the verdict in a
    word), ``the lab reads`` (the rule of the lab's verdict) and ``stopping rule``: "same
    verdict" or which rules give another verdict than the lab's.

    ``pairs`` defaults to the lab's comparisons; a pair the lab's table (``lab``, default
    :func:`lab_summary`) holds takes its verdicts, the others are adjusted together per
    rule. A verdict that moves when the models stop a few epochs earlier is a verdict about
    the stopping rule as much as about the default (introduced in 08).
    """
    results = all_results() if results is None else results
    lab = lab_summary(results, budgets=(CONVERGED,)) if lab is None else lab
    lab = lab[lab.budget == CONVERGED].reset_index(drop=True)
    own = TRAINED["patience"]
    rules = [own, *sorted((p for p in patiences if p < own), reverse=True)]
    replays = {p: stored_rule_summary(results, (CONVERGED,), None if p == own else p, lab)
               for p in rules}
    plain = lab_pairs() if pairs is None else [(t, *with_rule(a, b, None)) for t, a, b in pairs]
    if pairs is not None:
        replays = {p: budget_summary(plain, results, (CONVERGED,), declared=replays[p],
                                     family="these pairs", patience=None if p == own else p)
                   for p in rules}
    # The lab's own reading: its verdict where it holds the pair, else this call's family.
    read = lab if pairs is None else budget_summary(pairs, results, (CONVERGED,), declared=lab,
                                                    family="these pairs")
    columns = {p: f"patience {p}" for p in rules}
    chosen = GRID_RULE if GRID_RULE is not None else "chosen rule"
    rows = []
    for i, (toggle, _, _) in enumerate(plain):
        r_lab = read.loc[i].to_dict()
        states = {p: _state(replays[p].loc[i].to_dict()) for p in rules}
        lab_state = _state(r_lab)
        row = {"toggle": toggle, "framework": replays[own].loc[i, "framework"]}
        for p in rules:
            r = replays[p].loc[i].to_dict()
            row[columns[p]] = _word(r, states[p])
        under_rule = isinstance(r_lab.get("rule"), str)
        row[chosen] = _word(r_lab, lab_state) if under_rule else ""
        row["the lab reads"] = r_lab.get("stopped by", "")
        ref = lab_state if under_rule else states[own]
        others = {columns[p]: states[p] for p in rules if under_rule or p != own}
        moved = {k: v for k, v in others.items() if v != ref
                 and v not in ("missing", "undecidable")}
        row["stopping rule"] = (
            "not decided" if ref in ("missing", "undecidable") else
            "same verdict" if not moved else
            f"{_WORDS.get(ref, ref)} as the lab reads it; " + ", ".join(
                f"{_WORDS.get(v, v)} at {k}" for k, v in moved.items()))
        rows.append(row)
    return pd.DataFrame(rows)


SENSITIVITY = "under other stopping rules"


def with_sensitivity(table: pd.DataFrame, stopping: pd.DataFrame) -> pd.DataFrame:
    """``table`` (a :func:`budget_summary`) with, on each trained row, how its verdict fares
    under the other stopping rules (column :data:`SENSITIVITY`, the ``stopping rule`` of
    :func:`stopping_sensitivity` of the same comparisons)."""
    moves = stopping.set_index(["toggle", "framework"])["stopping rule"]
    return table.assign(**{SENSITIVITY: [
        moves.get((t, fw), "") if budget == CONVERGED else ""
        for t, fw, budget in zip(table.toggle, table.framework, table.budget)]})


_WORDS = {"alone": "within after BH"}  # clear alone, not after the family adjustment


def _word(r: dict, state: str) -> str:
    """A verdict in a table cell: the mean difference and the verdict in a word."""
    if state in ("missing", "undecidable"):
        return ""
    return f"{r['mean difference']:+.3f}, {_WORDS.get(state, state)}"


# --- seeds where it matters: the sequential plan ---------------------------------------------

def sequential_pairs(preset: str = "classroom") -> list[tuple[str, Setting, Setting]]:
    """The family the sequential plan adds seeds to: the thread's four defaults and the
    whole ladder, in both frameworks (:data:`~utils.results.stats.SEQUENTIAL_LOOKS`)."""
    return [p for p in lab_pairs(preset) if p[0] in (*THREAD_CULPRITS, LADDER_TOGGLE)]


def _sequential_looks(results, preset: str):
    """The sequential plan on the stored runs: per comparison of :func:`sequential_pairs`
    its paired scores, the looks taken (each comparison still open at a look computed on
    that look's seeds, ``None`` for one decided before) and the decisions."""
    pairs = sequential_pairs(preset)
    scores = []
    for _, a, b in pairs:
        sa = scores_at(results, a, CONVERGED, rule=GRID_RULE)
        sb = scores_at(results, b, CONVERGED, rule=GRID_RULE)
        shared = sorted(set(sa) & set(sb))
        scores.append(({s: sa[s]["f1"] for s in shared}, {s: sb[s]["f1"] for s in shared}))
    by_look: list[list] = []
    for n, alpha in zip(SEQUENTIAL_LOOKS, SEQUENTIAL_ALPHA):
        decided = sequential_decision(by_look)
        still_open = [i for i in range(len(pairs))
                      if not by_look or decided[i][1] == "undecided"]
        # A look is taken once every comparison still open has its seeds.
        if not still_open or any(len(scores[i][0]) < n for i in still_open):
            break
        by_look.append([paired({s: a[s] for s in sorted(a)[:n]}, b, level=1 - alpha)
                        if i in still_open else None for i, (a, b) in enumerate(scores)])
    return pairs, scores, by_look, sequential_decision(by_look)


def sequential_summary(results=None, preset: str = "classroom") -> pd.DataFrame:
    """Where each comparison of :func:`sequential_pairs` stands in the plan stated before
    its added seeds were run (:func:`~utils.results.stats.sequential_decision`): trained
    runs under the chosen stopping rule (:data:`~utils.results.grids.GRID_RULE`; the
    ``rerun`` grid's ten seeds, then the ``sequential`` grid's), the seeds paired, the looks
    taken, the decision and the interval it was made on (or "undecided" while the next look
    waits for its seeds, "waits for the stopping rule" while none is chosen)."""
    if GRID_RULE is None:  # its seeds are the rerun and sequential grids', under that rule
        return pd.DataFrame([{"toggle": t, "framework": a.framework, "seeds": 0,
                              "looks taken": 0, "decision": "waits for the stopping rule"}
                             for t, a, _ in sequential_pairs(preset)])
    results = all_results(RULE_TABLES) if results is None else results
    pairs, scores, by_look, decided = _sequential_looks(results, preset)
    rows = []
    for i, ((toggle, a, _), (sa, _)) in enumerate(zip(pairs, scores)):
        row = {"toggle": toggle, "framework": a.framework, "seeds": len(sa),
               "looks taken": len(by_look)}
        if by_look:
            # the last look that computed it: where it was decided, or the last one taken
            k = max(j for j, look in enumerate(by_look) if look[i] is not None)
            r = by_look[k][i]
            row.update({"seeds at decision": SEQUENTIAL_LOOKS[k], "mean difference": r.diff,
                        "CI low": r.ci_low, "CI high": r.ci_high,
                        "interval level": 1 - SEQUENTIAL_ALPHA[k], "decision": decided[i][1]})
            if decided[i][1] == "undecided" and len(by_look) < len(SEQUENTIAL_LOOKS):
                row["decision"] = (f"undecided: next look at "
                                   f"{SEQUENTIAL_LOOKS[len(by_look)]} seeds")
        else:
            row["decision"] = f"waiting for {SEQUENTIAL_LOOKS[0]} seeds"
        rows.append(row)
    return pd.DataFrame(rows)


def sequential_jobs(results=None, preset: str = "classroom") -> list[Job]:
    """The runs the sequential plan asks for next: the next look's seeds of every setting
    that a comparison still open uses (``python -m utils.experiments run --grid
    sequential`` runs these; ``GRIDS["sequential"]`` lists the plan's most, every setting
    on every added seed). Empty once every comparison is decided or the last look is
    taken.

    Raises :class:`~utils.results.grids.GridNotReady` while no stopping rule is chosen or
    the first look (the ``rerun`` grid's ten seeds of every comparison) is not all stored:
    which settings need more seeds is known only from it.
    """
    if GRID_RULE is None:
        raise GridNotReady("the sequential plan's seeds run under the stopping rule the "
                           "`stopping` grid chooses, and none is chosen yet")
    results = all_results(RULE_TABLES) if results is None else results
    pairs, scores, by_look, decided = _sequential_looks(results, preset)
    if not by_look:
        have = sum(len(a) >= SEQUENTIAL_LOOKS[0] for a, _ in scores)
        raise GridNotReady(
            f"the sequential plan's next seeds wait for its first look: {have} of "
            f"{len(pairs)} comparisons have their {SEQUENTIAL_LOOKS[0]} paired seeds "
            "(run `python -m utils.experiments run --grid rerun` first)")
    if len(by_look) == len(SEQUENTIAL_LOOKS):
        return []
    seeds = range(SEQUENTIAL_LOOKS[len(by_look) - 1], SEQUENTIAL_LOOKS[len(by_look)])
    settings = {(side.framework, side.recipe): side
                for i, (_, a, b) in enumerate(pairs) if decided[i][1] == "undecided"
                for side in (a, b)}
    return [Job(under_grid_rule(side.recipe, side.preset), side.framework, seed, side.preset)
            for seed in seeds for side in settings.values()]


# --- the toggle and size tables of notebook 08 --------------------------------------------

def size_summary(results=None, alpha: float = 0.05,
                 frameworks: Sequence[str] = ("torch", "keras"),
                 budgets: Sequence[int | str] = (BUDGET, CONVERGED),
                 declared: pd.DataFrame | None = None):
    """Effect versus training-set size (introduced in 08): one row per effect of
    :data:`utils.results.grids.SIZE_EFFECTS`, framework, budget and size (``classroom`` and
    ``SIZE_PRESETS``) — the runs read (:func:`_pair_scores`), clips, paired seeds, the
    paired mean F1 difference (to − from) with its 95 % interval, the minimal detectable
    effect, the pairs on two floating-point paths and the verdict after Benjamini–Hochberg
    over that budget's table.

    At a fixed epoch budget a larger set also takes more SGD steps; at convergence every
    run has stopped learning, so only the size differs. A size in no grid
    (:data:`~utils.results.grids.UNPLANNED_SIZE_PRESETS`) gets its column once rows of it
    are stored.

    A comparison the lab's table already decides (the classroom cells of the whole ladder,
    and of the conv/dense step in PyTorch) shows that verdict, and the size family holds
    the others (``declared``: :func:`lab_summary`, computed here when None)."""

    results = all_results() if results is None else results
    declared = lab_summary(results, budgets=budgets) if declared is None else declared
    made = {(r["key"], r["budget"]): r for r in declared.to_dict("records")
            if r["verdict"] != NOT_STORED}
    rows = []
    for budget in budgets:
        found = []
        for effect, fw, preset, pair in _size_pairs(results, frameworks, budget):
            a, b = SIZE_EFFECTS[effect]
            # the stored size grids' runs (patience 15), whatever rule the lab reads
            key = rule_key(Setting("", fw, a, preset), Setting("", fw, b, preset))
            row = {"effect": effect, "framework": fw, "budget": budget,
                   "preset": preset, "runs": SOURCES[pair.source],
                   "stopped by": STORED_RULE if pair.source == "curve" else "",
                   "clips": PRESETS[preset].n_train, "key": key,
                   "seeds": len(pair.seeds), "diff": np.nan, "ci_low": np.nan,
                   "ci_high": np.nan, "mde": np.nan, "q (BH)": np.nan,
                   "verdict": NOT_STORED, "family": ""}
            if len(pair.seeds) >= MIN_SEEDS:
                r = paired(dict(zip(pair.seeds, pair.a)), dict(zip(pair.seeds, pair.b)))
                row.update({"diff": r.diff, "ci_low": r.ci_low, "ci_high": r.ci_high,
                            "mde": r.mde, "rules out": ruled_out(r.ci_low, r.ci_high),
                            "paths apart": pair.paths_apart})
                there = made.get((key, budget))
                if there is not None and there["seeds"] == row["seeds"]:
                    row.update({"q (BH)": there["q (BH)"], "verdict": there["verdict"],
                                "family": there["family"]})
                else:
                    found.append((row, r))
            rows.append(row)
        q, adjusted = family_verdicts([r for _, r in found], alpha, method="bh")
        for (row, _), qi, verdict in zip(found, q, adjusted):
            row.update({"q (BH)": qi, "verdict": verdict, "family": "the size table"})
    return pd.DataFrame(rows)


def _size_presets(results) -> list[str]:
    """The sizes the size tables read, smallest first: the classroom set, the planned
    ``SIZE_PRESETS`` and any unplanned size with stored rows."""
    stored = set(results["preset"]) if "preset" in results else set()
    return sorted({"classroom", *SIZE_PRESETS, *(stored & set(UNPLANNED_SIZE_PRESETS))},
                  key=lambda p: PRESETS[p].n_train)


@dataclass(frozen=True)
class SizePair:
    """One effect's runs on one training set at one budget, paired by data seed: both sides'
    test F1 on the shared ``seeds``, the kind of runs read (:func:`_pair_scores`) and how
    many pairs join two floating-point paths."""

    seeds: list[int]
    a: np.ndarray
    b: np.ndarray
    source: str
    paths_apart: int

    @property
    def differences(self) -> np.ndarray:
        """The per-seed paired differences b − a."""
        return self.b - self.a


def _size_pairs(results, frameworks: Sequence[str], budget: int | str):
    """Yield ``(effect, framework, preset, SizePair)`` for every effect of
    :data:`~utils.results.grids.SIZE_EFFECTS`, framework and size at ``budget``: the one
    pairing both size tables read (:func:`size_summary`, :func:`size_change`)."""
    for effect, (a, b) in SIZE_EFFECTS.items():
        for fw in frameworks:
            for preset in _size_presets(results):
                sa, sb, source = _pair_scores(results, Setting("", fw, a, preset),
                                              Setting("", fw, b, preset), budget)
                shared = sorted(set(sa) & set(sb))
                yield effect, fw, preset, SizePair(
                    shared, np.array([sa[s]["f1"] for s in shared], float),
                    np.array([sb[s]["f1"] for s in shared], float), source,
                    _paths_apart(sa, sb, shared))


def _change_verdict(before: float, c: Change, q: float, alpha: float) -> str:
    """What a size change says: whether the effect's size shrank or grew when it moved
    beyond seed noise after BH, else the smallest change the design would have seen."""
    if q < alpha:  # told by size, not sign: a near-zero effect's sign means little
        return ("shrinks with more data" if abs(before + c.diff) < abs(before)
                else "grows with more data")
    if c.p < alpha:
        return (f"no change after BH (alone p = {c.p:.3f}; the design detects {c.mde:.3f} "
                f"at 80 % power)")
    return f"no change larger than {c.mde:.3f}"


def size_change(results=None, base: str = "classroom", alpha: float = 0.05,
                frameworks: Sequence[str] = ("torch", "keras"),
                budgets: Sequence[int | str] = (BUDGET, CONVERGED)) -> pd.DataFrame:
    """Does an effect shrink with more data? (introduced in 08). For each effect of
    :data:`~utils.results.grids.SIZE_EFFECTS`, framework and budget, the change of the
    effect from the ``base`` set (where every notebook's verdict is made) to each larger
    stored size: the mean of the per-seed paired effects there minus the mean on ``base``,
    with Welch's interval and test (:func:`~utils.results.stats.welch_change`: the two
    sizes' seeds train on different sets and their spreads differ), the smallest change
    the design detects at 80 % power, and Benjamini–Hochberg over each budget's changes.

    The size table (:func:`size_summary`) says whether an effect is larger than seed noise
    at each size; that an interval at 4× holds zero while the classroom's does not is not
    yet a shrinking effect. This table tests the shrinking itself."""
    results = all_results() if results is None else results
    larger = [p for p in _size_presets(results) if PRESETS[p].n_train > PRESETS[base].n_train]
    rows = []
    for budget in budgets:
        found = []
        differences = {(effect, fw, preset): pair.differences
                       for effect, fw, preset, pair in _size_pairs(results, frameworks, budget)}
        for effect in SIZE_EFFECTS:
            for fw in frameworks:
                before = differences[effect, fw, base]
                for preset in larger:
                    after = differences[effect, fw, preset]
                    row = {"effect": effect, "framework": fw, "budget": budget, "from": base,
                           "to": preset, "seeds from": len(before), "seeds to": len(after),
                           "effect from": np.nan, "effect to": np.nan, "change": np.nan,
                           "ci_low": np.nan, "ci_high": np.nan, "mde": np.nan, "p": np.nan,
                           "q": np.nan, "verdict": NOT_STORED}
                    if min(len(before), len(after)) >= MIN_SEEDS:
                        c = welch_change(before, after)
                        row.update({"effect from": before.mean(), "effect to": after.mean(),
                                    "change": c.diff, "ci_low": c.ci_low,
                                    "ci_high": c.ci_high, "mde": c.mde, "p": c.p})
                        found.append((row, c))
                    rows.append(row)
        if found:
            q = false_discovery_control([c.p for _, c in found], method="bh")
            for (row, c), qi in zip(found, q):
                row["q"] = float(qi)
                row["verdict"] = _change_verdict(row["effect from"], c, qi, alpha)
    return pd.DataFrame(rows)


def size_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The :func:`size_summary` table read across (introduced in 08): one row per effect,
    framework and budget, one column per training-set size, each cell the paired mean
    difference with its adjusted verdict and seeds — so a row shows at a glance whether an
    effect shrinks as the data grows.

    Examples
    --------
    >>> t = pd.DataFrame([
    ...     {"effect": "e", "framework": "torch", "budget": 12, "preset": "classroom",
    ...      "clips": 2000, "seeds": 10, "diff": 0.1, "mde": 0.05, "verdict": LARGER},
    ...     {"effect": "e", "framework": "torch", "budget": 12, "preset": "x4",
    ...      "clips": 8000, "seeds": 0, "diff": np.nan, "mde": np.nan,
    ...      "verdict": NOT_STORED},
    ...     {"effect": "e", "framework": "torch", "budget": 12, "preset": "x16",
    ...      "clips": 32000, "seeds": 3, "diff": np.nan, "mde": np.nan,
    ...      "verdict": NOT_STORED}])
    >>> size_columns(t).iloc[0, 3:].tolist()
    ['+0.100, larger, 10 seeds', 'not stored yet', '3 paired seeds so far, shown from 5']
    """
    sizes = (table[["preset", "clips"]].drop_duplicates().sort_values("clips")
             .itertuples(index=False))
    columns = {preset: f"{preset} ({clips} clips)" for preset, clips in sizes}
    rows = []
    for (effect, fw, budget), sub in table.groupby(["effect", "framework", "budget"],
                                                   sort=False):
        row = {"effect": effect, "framework": fw, "budget": budget}
        for r in sub.to_dict("records"):
            # The size table's row under the toggle table's names, read by the same helpers.
            same = {"verdict": r["verdict"], "MDE (80 %)": r["mde"], "seeds": r["seeds"],
                    "mean difference": r["diff"], "CI low": r.get("ci_low", np.nan),
                    "CI high": r.get("ci_high", np.nan)}
            cell, state = _at(same), _state(same)
            if state == "undecidable":  # its estimate still says which way it leans
                cell = f"{r['diff']:+.3f}, {cell}"
            elif state != "missing":
                cell = f"{cell}, {r['seeds']} seeds"
            row[columns[r["preset"]]] = cell
        rows.append(row)
    return pd.DataFrame(rows, columns=["effect", "framework", "budget", *columns.values()])


def describe_sizes(table) -> list[str]:
    """The :func:`size_summary` table as one sentence per effect, framework and budget: its
    paired mean difference at each stored size, then the verdict at the largest stored
    size."""
    out = []
    for (effect, fw, budget), sub in table.groupby(["effect", "framework", "budget"],
                                                   sort=False):
        when = "at convergence" if budget == CONVERGED else f"after {budget} epochs"
        stored = sub.dropna(subset=["diff"]).sort_values("clips")
        if stored.empty:
            grid = "sizes" if budget != CONVERGED and fw == "torch" else "sizes_converged"
            out.append(f"{effect} ({fw}), {when}: {NOT_STORED} — run `python -m "
                       f"utils.experiments run --grid {grid}`")
            continue
        path = " → ".join(f"{r['diff']:+.3f} ({r['clips']} clips)"
                          for r in stored.to_dict("records"))
        last = stored.iloc[-1]
        interval = _interval_text(last["ci_low"], last["ci_high"], last["seeds"])
        out.append(f"{effect} ({fw}), {when}: {path}; at {last['clips']} clips "
                   f"({interval}) -> {last['verdict']}")
    return out


# --- one Keras model on three backends (notebook 10) -----------------------------------------

BACKENDS = {"keras": "TensorFlow", "keras-jax": "JAX", "keras-torch": "PyTorch backend"}


def backend_pairs(preset: str = "classroom") -> list[tuple[str, Setting, Setting]]:
    """The comparisons of notebook 10: for each preset, each other backend against
    TensorFlow (same model, recipe, initial weights and batches: only the kernels differ);
    then, on each backend, the all-defaults effect PYTORCH → KERAS_2017 beside it."""
    pairs = [(f"kernels: {BACKENDS[fw]} vs TensorFlow, {r.name}",
              Setting("TensorFlow", "keras", r, preset), Setting(BACKENDS[fw], fw, r, preset))
             for r in (KERAS_2017, PYTORCH) for fw in OTHER_BACKENDS]
    pairs += [(f"defaults: PYTORCH -> KERAS_2017 on {BACKENDS[fw]}",
               Setting("PYTORCH", fw, PYTORCH, preset), Setting("KERAS_2017", fw, KERAS_2017,
                                                                preset))
              for fw in BACKENDS]
    return pairs


def backend_summary(results=None, budgets: Sequence[int | str] = (BUDGET, CONVERGED),
                    y_test: np.ndarray | None = None, preset: str = "classroom",
                    declared: pd.DataFrame | None = None):
    """:func:`budget_summary` of :func:`backend_pairs`: kernels and defaults in one family,
    every backend's runs stopped by :data:`STORED_RULE` (the only rule the backends grid
    ran, so the three backends are compared like with like). A comparison the lab's table
    reads under that rule too takes the lab's verdict (``declared``: :func:`lab_summary`,
    computed here when None); where the lab reads the TensorFlow defaults under the chosen
    rule, this table's row is another comparison, and its ``stopped by`` says so."""
    results = all_results() if results is None else results
    declared = lab_summary(results, preset, budgets) if declared is None else declared
    return budget_summary(backend_pairs(preset), results, budgets, y_test, declared=declared,
                          family="the backends table", rule=STORED_RULE)


def backend_table(results=None, preset: str = "classroom") -> pd.DataFrame:
    """Per backend and preset, the trained-model rows: seeds, median test F1 with its 95 %
    bootstrap interval over seeds, median epochs run and kept, median CPU-seconds per epoch
    (one thread, as the grid runs) and the largest peak RSS of a run's process, with how
    the rows read it (:func:`~utils.common.memory.peak_reading`: older grid rows hold only
    an upper bound)."""
    results = all_results(CONVERGED_TABLES) if results is None else results
    rows = []
    for recipe in (KERAS_2017, PYTORCH):
        for fw, label in BACKENDS.items():
            runs = rows_of(results, fw, trained_toggle(recipe, preset), preset)
            runs = runs[runs.stop_reason != "fixed"]
            row = {"backend": label, "framework": fw, "recipe": recipe.name, "seeds": len(runs)}
            if len(runs):
                f1 = runs.test_f1.to_numpy(float)
                mid, low, high = bootstrap_ci(f1) if len(f1) > 1 else (f1[0], np.nan, np.nan)
                epochs = runs.epoch_loss.map(len).to_numpy(float)
                row.update({"median F1": mid, "CI low": low, "CI high": high,
                            "median epochs": float(np.median(epochs)),
                            "median kept epoch": float(np.median(runs.best_epoch)),
                            "s / epoch": float(np.median(runs.seconds.to_numpy(float)
                                                         / epochs)),
                            "peak RSS MB": float(runs.peak_rss_mb.max()),
                            "peak RSS read as": peak_reading(runs.get("date", [None]))})
            rows.append(row)
    return pd.DataFrame(rows)


# --- the realistic task's calibration -----------------------------------------------------------

def calibration_table(results=None, rule_results=None) -> pd.DataFrame:
    """The calibration runs of the realistic task (grid ``realistic_calibration``), one line
    per candidate preset, and once a stopping rule is chosen a last line for the lessons'
    preset under it (``rule_results``, default the tables of :data:`RULE_TABLES`): the
    knobs it sets away from the classroom generator's (the same for every column the
    candidates share), the seeds stored, the trained ``KERAS_2017``
    Keras model's median test micro-F1 with the lowest and highest seed, the median after
    12 epochs read from the same runs' curves, and where the trained median lies against
    :data:`~utils.results.grids.CALIBRATION_TARGET`. The candidate the lessons use
    (``realistic``) is marked.

    Examples
    --------
    >>> t = calibration_table(pd.DataFrame(columns=["framework", "recipe", "preset", "seed",
    ...     "data_seed", "stop_reason", "test_f1", "epoch_test_f1"]))
    >>> print(t.preset[0], int(t.seeds[0]), t.reading[0])
    realistic_a 0 not stored yet
    """
    results = load_results("realistic_calibration") if results is None else results
    default = SynthParams().to_dict()
    names = [k for k in default if any(k in p.knobs() for p in REALISTIC_CANDIDATES.values())]
    low, high = CALIBRATION_TARGET
    rows = []
    # The candidates under the stored grids' rule; then, once a rule is chosen, the lessons'
    # preset under it (the realistic grid's first ten runs): the calibration that counts.
    lines = [(name + (" = realistic" if name == REALISTIC_CHOICE else ""), name, synth,
              results, None) for name, synth in REALISTIC_CANDIDATES.items()]
    if GRID_RULE is not None:
        chosen = all_results(RULE_TABLES) if rule_results is None else rule_results
        lines.append((f"realistic, stopped by {GRID_RULE}", "realistic",
                      PRESETS["realistic"].synth, chosen, GRID_RULE))
    for label, name, synth, rows_read, rule in lines:
        knobs = synth.knobs()
        row = {"preset": label, **{k: str(knobs.get(k, default[k])) for k in names}}
        setting = Setting("KERAS_2017", "keras", KERAS_2017, name)
        trained_f1 = [v["f1"] for v in scores_at(rows_read, setting, CONVERGED,
                                                 rule=rule).values()]
        early = [v["f1"] for v in scores_at(rows_read, setting, BUDGET, rule=rule).values()]
        row["seeds"] = len(trained_f1)
        if trained_f1:
            mid = float(np.median(trained_f1))
            row.update({"median F1": mid, "lowest": min(trained_f1),
                        "highest": max(trained_f1),
                        f"median after {BUDGET} epochs": (float(np.median(early)) if early
                                                          else np.nan),
                        "reading": ("below the range" if mid < low else "above the range"
                                    if mid > high else "within the range")})
        else:
            row["reading"] = NOT_STORED
        rows.append(row)
    columns = ["preset", *names, "seeds", "median F1", "lowest", "highest",
               f"median after {BUDGET} epochs", "reading"]
    return pd.DataFrame(rows).reindex(columns=columns)
