"""Notebook 10's plumbing: one Keras model on three backends, live and stored.

Introduced in ``10_backends.ipynb``. Every run happens in a process of its own, one per
backend (:func:`~utils.training.keras_backends.call_in`), so the notebook's own process
loads no framework (``tests/test_backends.py`` reads its imports): its memory plus the
largest backend process is the notebook's peak (:func:`memory_report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from utils.common.memory import peak_rss_mb
from utils.lessons.plots import plot_f1_strips, savefig
from utils.networks.recipe import KERAS_2017, PYTORCH, Recipe
from utils.results.comparisons import (
    BACKENDS,
    CONVERGED,
    Setting,
    all_results,
    scores_at,
)
from utils.training.keras_backends import KERAS_ON, call_in, call_in_many

BINDER_MB = 2048  # the most memory mybinder.org gives a session (it gives 1-2 GB)


def live_backends(recipe: Recipe, data: str, seeds: Sequence[int], epochs: int) -> pd.DataFrame:
    """Train ``recipe`` for a fixed budget of ``epochs`` on each backend, every backend from
    TensorFlow's initial weights for the seed and on the same batches. One row per
    (backend, seed): test and validation F1, CPU-seconds per epoch and the peak memory of
    the process that trained (measured in this one run, so the speeds compare)."""
    budget = replace(recipe, epochs=epochs, patience=0)
    rows = []
    for seed in seeds:
        run = {"recipe": budget, "data": data, "seed": seed, "data_seed": seed}
        # The TensorFlow process draws the seed's weights, hands them on and trains from its
        # own draw (the same weights): one process fewer to load TensorFlow in.
        weights, tf_run = call_in_many("tensorflow", [
            ("initial_weights", {"recipe": budget, "seed": seed}),
            ("train", {**run, "framework": "keras"})])
        for fw, backend in KERAS_ON.items():
            r = tf_run if fw == "keras" else call_in(backend, "train", **run, framework=fw,
                                                      weights=weights)
            rows.append({"backend": BACKENDS[fw], "framework": fw, "seed": seed,
                         "test F1": r["test_f1"], "valid F1": r["valid_f1"],
                         "loss, epoch 1": r["epoch_loss"][0],
                         "s / epoch": r["seconds"] / len(r["epoch_loss"]),
                         "process peak MB": r["peak_rss_mb"]})
    out = pd.DataFrame(rows)
    tf = out[out.framework == "keras"].set_index("seed")["s / epoch"]
    out["time vs TensorFlow"] = out["s / epoch"] / out.seed.map(tf)
    return out


def memory_report(live: pd.DataFrame) -> str:
    """This process's peak memory, the largest backend process's (from the ``process peak
    MB`` of :func:`live_backends`' rows), and their sum (the notebook's peak: one backend
    process runs at a time) against Binder's limit.

    Each side is its process's own peak (:func:`~utils.common.memory.peak_rss_mb`), not
    ``RUSAGE_CHILDREN``: a backend process started by this one would carry this process's
    memory at its start into that reading, counting it twice in the sum.

    Examples
    --------
    >>> live = pd.DataFrame({"process peak MB": [900.0, 700.0]})
    >>> print(memory_report(live))  # doctest: +ELLIPSIS
    peak memory: this notebook's process ... MB + the largest backend process 900 MB = ...
    """
    own, child = peak_rss_mb(), float(live["process peak MB"].max())
    total = own + child
    verdict = "within" if total <= BINDER_MB else "ABOVE"
    return (f"peak memory: this notebook's process {own:.0f} MB + the largest backend process "
            f"{child:.0f} MB = {total:.0f} MB, {verdict} Binder's {BINDER_MB} MB")


def stored_f1(results, recipe: Recipe, budget: int | str,
              preset: str = "classroom") -> dict[str, np.ndarray]:
    """{backend label: test F1 per seed} of the trained-model rows at ``budget`` (an epoch
    count, read from their curves, or :data:`~utils.results.comparisons.CONVERGED`)."""
    return {label: np.array([v["f1"] for v in scores_at(
                results, Setting(label, fw, recipe, preset), budget).values()])
            for fw, label in BACKENDS.items()}


def show_backends(live: pd.DataFrame | None, epochs: int, results=None, data: str = "classroom",
                  figure_name: str | None = "10_backends", smoke: bool = False) -> None:
    """The stored seeds of each backend, both presets, after ``epochs`` epochs (beside the
    live runs, which trained exactly that long) and at convergence."""
    results = all_results(("reference_converged", "backends_converged")) if results is None \
        else results
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharey="row")
    for col, recipe in enumerate((KERAS_2017, PYTORCH)):
        live_f1 = None
        if live is not None and not smoke and recipe.name == live.attrs.get("recipe"):
            live_f1 = {BACKENDS[fw]: g["test F1"].to_numpy() for fw, g in live.groupby("framework")}
        plot_f1_strips(stored_f1(results, recipe, epochs, data), live=live_f1, ax=axes[0, col],
                       title=f"{recipe.name}: after {epochs} epochs (stored curves)")
        plot_f1_strips(stored_f1(results, recipe, CONVERGED, data), ax=axes[1, col],
                       title=f"{recipe.name}: trained (early stopping)")
    fig.tight_layout()
    if figure_name:
        savefig(fig, figure_name)
    plt.show()
