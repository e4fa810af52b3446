"""The interactive explorer of ``08_ladder.ipynb``: pick a framework and every default,
see the stored seeds of that exact recipe next to both presets, train one seed live.

The controls are plain ipywidgets; one Output area is cleared and redrawn on every change,
so figures refresh in place instead of stacking. :class:`Explorer` keeps the logic testable
without a browser: ``explorer.recipe()`` is the recipe the controls describe,
``explorer.refresh()`` redraws, ``explorer.run_button.click()`` trains one live seed.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import get_args, get_type_hints

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image

from utils.lessons.plots import plot_f1_strips
from utils.networks.recipe import DEFAULT_FIELDS, KERAS_2017, PYTORCH, Recipe
from utils.results.comparisons import CONVERGED, Setting, run_live, scores_at, stored_rows

# Knobs beyond the framework defaults that the stored toggles grid covers.
EXTRA_FIELDS = ("input_scaling", "batchnorm", "optimizer", "lr_schedule")
ADAM_LR = 1e-3  # Adam runs with its own default learning rate (FD §8), as in the grid


def field_options(name: str) -> list:
    """The values a recipe field may take (from its type)."""
    hint = get_type_hints(Recipe)[name]
    return [False, True] if hint is bool else list(get_args(hint))


class Explorer:
    """Widgets for every default; the stored F1 of the recipe they describe."""

    def __init__(self, results, smoke: bool = False, live_seed: int = 0,
                 data: str = "classroom"):
        self.results, self.smoke, self.live_seed = results, smoke, live_seed
        self.data = data  # the dataset of the stored rows shown and of live runs (not smoke)
        self.live: dict[str, list[float]] = {}
        self.framework = w.ToggleButtons(options=[("PyTorch", "torch"), ("Keras", "keras")],
                                         description="framework")
        self.start = w.ToggleButtons(options=[("PyTorch defaults", "pytorch"),
                                               ("Keras-2017 defaults", "keras_2017")],
                                      description="start from")
        self.knobs = {name: w.Dropdown(options=field_options(name), description=name,
                                       style={"description_width": "150px"},
                                       layout=w.Layout(width="340px"))
                      for name in (*DEFAULT_FIELDS, *EXTRA_FIELDS)}
        self.run_button = w.Button(description="train one live seed", icon="play",
                                   layout=w.Layout(width="200px"))
        self.status = w.HTML()
        self.output = w.Output()
        self._set_knobs(PYTORCH)
        self.start.observe(self._on_start, names="value")
        for control in (self.framework, *self.knobs.values()):
            control.observe(lambda _change: self.refresh(), names="value")
        self.run_button.on_click(self._on_run)
        knob_box = w.GridBox(list(self.knobs.values()),
                             layout=w.Layout(grid_template_columns="repeat(2, 350px)"))
        self.widget = w.VBox([self.framework, self.start, knob_box,
                              w.HBox([self.run_button, self.status]), self.output])

    # --- state -----------------------------------------------------------------------
    def _set_knobs(self, recipe: Recipe) -> None:
        self._quiet = True
        for name, dd in self.knobs.items():
            dd.value = getattr(recipe, name)
        self._quiet = False

    def _on_start(self, change) -> None:
        self._set_knobs(KERAS_2017 if change["new"] == "keras_2017" else PYTORCH)
        self.refresh()

    def recipe(self) -> Recipe:
        """The recipe the controls describe (Adam gets its own default learning rate)."""
        values = {name: dd.value for name, dd in self.knobs.items()}
        r = replace(KERAS_2017, name="explorer", **values)
        return replace(r, learning_rate=ADAM_LR) if r.optimizer == "adam" else r

    def stored_f1(self, recipe: Recipe, trained_runs: bool = False) -> np.ndarray:
        """Stored test F1 of ``recipe`` after its budget of epochs, or with ``trained_runs``
        of the same recipe trained until it stopped learning (as the trained-model grids run
        it on this dataset).

        The budget is read from the trained runs' curves, the runs every verdict reads
        (:func:`~utils.results.comparisons.scores_at`); only a recipe no trained grid holds
        falls back to its fixed-budget rows."""
        setting = Setting("", self.framework.value, recipe, self.data)
        if trained_runs:
            return np.array([v["f1"] for v in scores_at(self.results, setting,
                                                         CONVERGED).values()])
        curve = scores_at(self.results, setting, recipe.epochs)
        if curve:
            return np.array([v["f1"] for v in curve.values()])
        rows = stored_rows(self.results, setting)
        return rows[rows.stop_reason == "fixed"].test_f1.to_numpy()

    # --- drawing -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw the comparison for the current controls (in place)."""
        if getattr(self, "_quiet", False):
            return

        r, fw = self.recipe(), self.framework.value
        recipes = {"PYTORCH": PYTORCH, "your recipe": r, "KERAS_2017": KERAS_2017}
        groups = {k: self.stored_f1(v) for k, v in recipes.items()}
        # The same recipes trained until they stopped learning, where the grids have them:
        # a gap that shrinks here was one of speed, not of destination.
        trained_groups = {f"{k}, trained": self.stored_f1(v, trained_runs=True)
                          for k, v in recipes.items()}
        groups.update({k: v for k, v in trained_groups.items() if len(v)})
        n, m = len(groups["your recipe"]), len(trained_groups["your recipe, trained"])
        changed = ", ".join(f"{k}={v}" for k, v in r.to_dict().items()
                            if k != "name" and v != getattr(KERAS_2017, k)) or "none"
        self.status.value = (f"{n} stored seeds for this recipe in {fw} after "
                             f"{r.epochs} epochs, {m} trained until they stopped learning"
                             + ("" if n else " — not in the stored grids; train it live")
                             + f"<br><small>differs from KERAS_2017 in: {changed}</small>")
        fig, ax = plt.subplots(figsize=(6.5 + 1.2 * (len(groups) - 3), 3.4))
        plot_f1_strips(groups, live={"your recipe": self.live.get(r.to_string(), [])},
                       ax=ax, title=f"{fw}: stored seeds (dots), live runs (crosses)")
        ax.tick_params(axis="x", labelrotation=15)
        # Replace the Output's content in one assignment: the front end redraws in place.

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        plt.close(fig)
        self.output.outputs = ()
        self.output.append_display_data(Image(data=buf.getvalue(), format="png"))

    def _on_run(self, _button) -> None:
        r = self.recipe()
        self.status.value = f"training seed {self.live_seed} in {self.framework.value}…"
        result = run_live([Setting("live", self.framework.value, r, self.data)], [self.live_seed],
                          smoke=self.smoke, progress=False)["live"][0]
        self.live.setdefault(r.to_string(), []).append(result.test_f1)
        self.live_seed += 1
        self.refresh()
        self.status.value += (f"<br>live run: test F1 {result.test_f1:.3f} "
                              f"({result.seconds:.0f} s"
                              + (", smoke mode: one epoch on tiny data" if self.smoke else "")
                              + ")")

