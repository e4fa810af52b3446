"""One call per toggle for notebooks 04–09: stored seeds, live runs, curves and a verdict.

Introduced in ``04_initialisation.ipynb``. The comparisons themselves live in
:mod:`utils.results.comparisons`; this module draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import matplotlib.pyplot as plt

from utils.lessons.plots import plot_curves, plot_f1_strips, plot_gap_over_budgets, savefig
from utils.results.comparisons import (
    BUDGET,
    CONVERGED,
    MIN_SEEDS,
    Setting,
    all_results,
    bh_families,
    budget_summary,
    describe_budgets,
    describe_paths,
    gap_over_budgets,
    readings,
    run_live,
    stored_rows,
)
from utils.task.dataset import load_dataset


def show(settings: Sequence[Setting], pairs: Sequence[tuple[str, str]],
         live_seeds: Sequence[int] = (), smoke: bool = False, title: str = "",
         figure_name: str | None = None, results=None, live_labels: Sequence[str] | None = None,
         data: str | None = None):
    """Stored distributions with live runs overlaid, training curves, verdicts.

    The strips and curves are the fixed-budget runs (the live runs' budget). Where the
    trained-model grid pairs enough seeds, a second figure shows the paired gap after every
    epoch budget (speed or destination, as in notebook 03). The verdicts
    pair each comparison by data seed at that budget and at convergence (the trained-model
    rows, where stored), with the minimal detectable effect, the interval over test clips
    outside smoke mode, and Benjamini–Hochberg over the call's pairs at each budget
    (:func:`~utils.results.comparisons.budget_summary`).

    ``live_labels`` limits the live runs to some settings (each is a full run on the
    setting's dataset). ``data`` names the dataset of every setting — its stored rows, and
    its live runs outside smoke mode; None keeps each setting's own ("classroom" unless
    given). Returns ``(verdict table, live results)``; prints one sentence per pair and
    budget, then how full each BH family is and what its seeds allow
    (:func:`~utils.results.comparisons.bh_families`).
    """
    results = all_results() if results is None else results
    if data is not None:
        settings = [replace(s, preset=data) for s in settings]
    rows = {s.label: stored_rows(results, s) for s in settings}
    f1 = {k: r.test_f1.to_numpy() for k, r in rows.items()}
    chosen = [s for s in settings if live_labels is None or s.label in live_labels]
    live = run_live(chosen, live_seeds, smoke) if live_seeds and chosen else {}
    live_f1 = {k: [r.test_f1 for r in v] for k, v in live.items()}
    fig, (ax_f1, ax_curve) = plt.subplots(
        1, 2, figsize=(max(8.0, 2.2 * len(settings) + 5), 3.8),
        gridspec_kw={"width_ratios": [max(2, len(settings)), 3]})
    plot_f1_strips(f1, live=live_f1 if not smoke else None, ax=ax_f1, title=title)
    ax_f1.tick_params(axis="x", labelrotation=15)
    plot_curves({k: list(r.epoch_valid_f1) for k, r in rows.items()},
                {k: [r.epoch_valid_f1 for r in v] for k, v in live.items()}, ax=ax_curve)
    fig.tight_layout()
    if figure_name:
        savefig(fig, figure_name)
    by_label = {s.label: s for s in settings}
    # The test labels only: the features of every split would double a kernel's arrays.
    y_test = None if smoke else load_dataset(settings[0].preset, splits=("test",),
                                             progress=False)["test"].y
    v = budget_summary([(f"{b} vs {a}", by_label[a], by_label[b]) for a, b in pairs],
                       results, (BUDGET, CONVERGED), y_test)
    print("\n".join(describe_budgets(v)))
    print(bh_families(v))  # how full each family is, and what its seeds allow
    if paths := describe_paths(v):  # a grid filled on more than one CPU
        print(paths)
    # The two budgets read together: speed only, destination, or not decided yet.
    print("\n".join(f"Speed or destination, {r['toggle']} ({r['framework']}): {r['reading']}"
                    for r in readings(v).to_dict("records")))
    # Speed or destination: where the trained-model grid pairs enough seeds, the paired gap
    # after every epoch budget (notebook 03's figure), one panel per comparison.
    gaps = [(f"{b} minus {a}", gap_over_budgets(results, by_label[a], by_label[b]))
            for a, b in pairs]
    gaps = [(label, g) for label, g in gaps if g.seed.nunique() >= MIN_SEEDS]
    if gaps:
        fig_gap, axes = plt.subplots(1, len(gaps), figsize=(4.4 * len(gaps) + 1, 3.4),
                                     sharey=True, squeeze=False)
        for ax, (label, g) in zip(axes[0], gaps):
            plot_gap_over_budgets(g, label=label, ax=ax)
        fig_gap.tight_layout()
        if figure_name:
            savefig(fig_gap, f"{figure_name}_budgets")
    if smoke and live:
        print("(smoke mode: live runs are one epoch on the tiny smoke data, shown as curves "
              "only — they test the cell, they are not results)")
    plt.show()
    return v, live
