"""One call per toggle for notebooks 04–09: stored seeds, live runs, curves and a verdict.

Introduced in ``04_initialisation.ipynb``. The comparisons themselves live in
:mod:`utils.results.comparisons`; this module draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import matplotlib.pyplot as plt
from IPython.display import display

from utils.lessons.folding import fold
from utils.lessons.headline import Headline, draw_pairs, rule_caption
from utils.lessons.plots import caption as plot_caption
from utils.lessons.plots import plot_curves, plot_f1_strips, plot_gap_over_budgets, savefig
from utils.results.comparisons import (
    BUDGET,
    MIN_SEEDS,
    Setting,
    all_results,
    as_read,
    bh_families,
    budget_summary,
    describe_budgets,
    describe_paths,
    gap_over_budgets,
    lab_summary,
    readings,
    rule_name,
    run_live,
    scores_at,
)
from utils.task.dataset import load_dataset


def _trained_curves(results, s: Setting) -> list[list[float]]:
    """The validation curves of ``s``'s stored trained runs (the runs every figure reads)."""
    return [list(v["row"].epoch_valid_f1) for v in scores_at(results, s, BUDGET).values()]


def _as_drawn(settings: Sequence[Setting], pairs: Sequence[tuple[str, Setting, Setting]]
              ) -> dict[str, Setting]:
    """Each setting as the figure's pairs read it, by strip label: under the stopping rule
    of its comparisons; one whose comparisons read two rules is drawn once per rule, the
    rule in its label."""
    rules = {s.label: [] for s in settings}
    for _, a, b in pairs:
        for side in (a, b):
            if side.rule not in rules[side.label]:
                rules[side.label].append(side.rule)
    drawn = {}
    for s in settings:
        read = rules[s.label] or [s.rule]
        for rule in read:
            label = s.label if len(read) == 1 else f"{s.label} ({rule_name(rule)})"
            drawn[label] = replace(s, rule=rule)
    return drawn


def show(settings: Sequence[Setting], pairs: Sequence[tuple[str, str]],
         live_seeds: Sequence[int] = (), smoke: bool = False, title: str = "",
         figure_name: str | None = None, results=None, live_labels: Sequence[str] | None = None,
         data: str | None = None, detail: bool = False):
    """Each comparison at both budgets, one generated sentence each, the detail folded.

    The figure shows every pair after 12 epochs and trained (the stored trained runs: their
    curve at epoch 12 and the epoch early stopping kept, so the figure and the sentence
    read the same runs), the learner's live 12-epoch runs as crosses beside the stored
    12-epoch values. Each sentence carries the comparison's one verdict: the lab's table
    decides every comparison it holds (:func:`~utils.results.comparisons.lab_summary`), the
    call's other pairs are adjusted together (Benjamini–Hochberg).

    Folded under it (open it, or pass ``detail=True`` to print it): every pair's interval,
    test and verdict at both budgets (with the interval over test clips outside smoke
    mode), the BH families, the pairs on two floating-point paths, speed or destination in
    words, the seeds' strips and training curves, and the paired gap after every budget.

    ``live_labels`` limits the live runs to some settings (each is a full run on the
    setting's dataset). ``data`` names the dataset of every setting — its stored rows, and
    its live runs outside smoke mode; None keeps each setting's own ("classroom" unless
    given). Returns ``(verdict table, live results)``.
    """
    results = all_results() if results is None else results
    if data is not None:
        settings = [replace(s, preset=data) for s in settings]
    by_label = {s.label: s for s in settings}
    chosen = [s for s in settings if live_labels is None or s.label in live_labels]
    live = run_live(chosen, live_seeds, smoke) if live_seeds and chosen else {}
    # A smoke run is one epoch on tiny data: it tests the cell and is never set beside
    # the stored 12-epoch runs.
    live_f1 = {} if smoke else {k: [r.test_f1 for r in v] for k, v in live.items()}
    # The test labels only: the features of every split would double a kernel's arrays.
    y_test = None if smoke else load_dataset(settings[0].preset, splits=("test",),
                                             progress=False)["test"].y
    named = [(f"{b} vs {a}", by_label[a], by_label[b]) for a, b in pairs]
    v = budget_summary(named, results, y_test=y_test,
                       declared=lab_summary(results, settings[0].preset),
                       family="this figure")
    named = as_read(named, v)  # every figure reads the runs its sentence reads
    fig, sentences = draw_pairs(results, named, v, title, live_f1)
    caption = (f"{title}: test micro-F1 after {BUDGET} epochs and trained (early stopping, "
               f"{rule_caption(named)}), stored trained runs; a grey line joins one data "
               "seed's two runs, the marks are the medians"
               + ("; crosses: your live runs." if live_f1 else "."))
    plot_caption(fig, caption)
    if figure_name:
        savefig(fig, figure_name)
    plt.show()
    display(Headline(fig, sentences, v, caption))

    # The detail, folded: the same runs' strips and curves, the gap after every budget.
    strips, (ax_f1, ax_curve) = plt.subplots(
        1, 2, figsize=(max(8.0, 2.2 * len(settings) + 5), 3.8),
        gridspec_kw={"width_ratios": [max(2, len(settings)), 3]})
    drawn = _as_drawn(settings, named)
    plot_f1_strips({k: [x["f1"] for x in scores_at(results, s, BUDGET).values()]
                    for k, s in drawn.items()},
                   live={k: live_f1[s.label] for k, s in drawn.items()
                         if s.label in live_f1} or None, ax=ax_f1,
                   title=f"after {BUDGET} epochs")
    ax_f1.tick_params(axis="x", labelrotation=15)
    plot_curves({k: _trained_curves(results, s) for k, s in drawn.items()},
                {k: [r.epoch_valid_f1 for r in runs] for k, runs in live.items()},
                ax=ax_curve)
    strips.tight_layout()
    figures = [(strips, f"{title}: test F1 per seed after {BUDGET} epochs and the trained "
                        "runs' validation curves")]
    gaps = [(f"{b.label} minus {a.label}", gap_over_budgets(results, a, b))
            for _, a, b in named]
    gaps = [(label, g) for label, g in gaps if g.seed.nunique() >= MIN_SEEDS]
    if gaps:
        fig_gap, axes = plt.subplots(1, len(gaps), figsize=(4.4 * len(gaps) + 1, 3.4),
                                     sharey=True, squeeze=False)
        for ax, (label, g) in zip(axes[0], gaps):
            plot_gap_over_budgets(g, label=label, ax=ax)
        fig_gap.tight_layout()
        if figure_name:
            savefig(fig_gap, f"{figure_name}_budgets")
        figures.append((fig_gap, f"{title}: the paired gap after every epoch budget"))
    lines = [*describe_budgets(v), bh_families(v)]
    if paths := describe_paths(v):  # a grid filled on more than one CPU
        lines.append(paths)
    lines += [f"Speed or destination, {r['toggle']} ({r['framework']}): {r['reading']}"
              for r in readings(v).to_dict("records")]
    if smoke and live:
        lines.append("(smoke mode: live runs are one epoch on the tiny smoke data, shown as "
                     "curves only — they test the cell, they are not results)")
    if detail:
        print("\n".join(lines))
        for f, _ in figures:
            display(f)
    display(fold("Detail: intervals, tests, families, strips and curves", lines, figures))
    return v, live
