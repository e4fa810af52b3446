"""Every lesson figure can be read without telling colours apart: Okabe–Ito colours, a
second cue, fonts of at least 9 pt, and a caption."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from utils.lessons import plots  # noqa: E402
from utils.lessons.audit import plot_hard_sigmoids  # noqa: E402
from utils.task.features import FeatureConfig  # noqa: E402
from utils.task.labels import LABELS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)
CFG = FeatureConfig("test", n_frames=20, n_mels=8)


def f1s(n: int = 5) -> np.ndarray:
    return RNG.uniform(0.4, 0.6, n)


def fig_of(drawn) -> plt.Figure:
    return drawn if isinstance(drawn, plt.Figure) else drawn.figure


# Each lesson figure on small fake data: name → a function that draws it.
FIGURES = {
    "plot_leaderboard": lambda: plots.plot_leaderboard([("a", 50.0, 40.0), ("b", 30.0, 20.0)],
                                                       marks={"thread": 40.0, "port": 45.0}),
    "plot_class_balance": lambda: plots.plot_class_balance(
        {"train": RNG.integers(0, 2, (30, len(LABELS))), "test": RNG.integers(0, 2, (9, 17))}),
    "plot_logmel": lambda: plots.plot_logmel(RNG.normal(size=(20, 8)), CFG,
                                             [(0.1, 0.5, LABELS[0])], title="clip"),
    "plot_class_gallery": lambda: plots.plot_class_gallery(
        [(c, RNG.normal(size=(20, 8)), []) for c in range(4)], CFG),
    "LiveCurve": lambda: _live_curve(),
    "plot_f1_strips": lambda: plots.plot_f1_strips({"a": f1s(), "b": f1s()},
                                                   live={"a": [0.5]}, title="strips"),
    "plot_per_class_f1": lambda: plots.plot_per_class_f1(RNG.uniform(0, 1, len(LABELS))),
    "plot_curves": lambda: plots.plot_curves({"a": [f1s(4), f1s(4)], "b": [f1s(4)]},
                                             {"a": [f1s(3)]}),
    "plot_weight_histograms": lambda: plots.plot_weight_histograms(
        {k: {"conv1": RNG.normal(size=50), "gru": RNG.normal(size=50)} for k in "PK"}),
    "plot_layer_stats": lambda: plots.plot_layer_stats(
        {k: pd.DataFrame({"output std": [1.0, 2.0]}, index=["conv1", "gru"]) for k in "PK"},
        ["output std"]),
    "plot_trajectories": lambda: plots.plot_trajectories(pd.DataFrame(
        {"relative distance": [0.0, 1e-7, 1e-3], "velocity identity": [0.0, 1e-7, 0.5],
         "lr": [0.01, 0.01, 0.001]})),
    "plot_gate_functions": lambda: plots.plot_gate_functions(),
    "plot_histograms": lambda: plots.plot_histograms({"a": RNG.normal(size=50),
                                                      "b": RNG.normal(size=50)}, xlabel="x"),
    "plot_ladder": lambda: plots.plot_ladder([("start", f1s()), ("+ one", f1s())], title="l"),
    "plot_effect_vs_size": lambda: plots.plot_effect_vs_size(pd.DataFrame(
        {"budget": ["12", "12", "converged", "converged"], "clips": [500, 2000] * 2,
         "effect": ["init"] * 4, "framework": ["torch"] * 4, "diff": [0.1, 0.05, 0.02, 0.01],
         "ci_low": [0.05, np.nan, -0.01, -0.02], "ci_high": [0.15, np.nan, 0.05, 0.04]})),
    "plot_drift": lambda: plots.plot_drift({"run": pd.DataFrame(
        {"max |p_keras - p_torch|": [0.0, 1e-6, 1e-4], "valid F1 keras": [0.1, 0.3, 0.4],
         "valid F1 torch": [0.1, 0.31, 0.41]})}),
    "plot_gap_over_budgets": lambda: plots.plot_gap_over_budgets(pd.DataFrame(
        {"budget": [1, 2, 1, 2], "gap": [0.1, 0.05, 0.12, 0.02], "seed": [0, 0, 1, 1]}),
        label="gap"),
    "plot_hard_sigmoids": lambda: plot_hard_sigmoids(),
}


class _Handle:
    """What IPython's ``display(..., display_id=True)`` returns; outside a kernel it is None."""

    def update(self, fig) -> None:
        pass


def _live_curve() -> plt.Figure:
    shown, plots.display = plots.display, lambda *a, **k: _Handle()
    try:
        curve = plots.LiveCurve("live")
    finally:
        plots.display = shown
    curve.update(1, 0.7, 0.3)
    curve.update(2, 0.6, 0.4)
    return curve.close()


def test_every_lesson_figure_is_covered_here():
    drawn = {name for name, obj in inspect.getmembers(plots)
             if name.startswith("plot_") and callable(obj)} | {"LiveCurve", "plot_hard_sigmoids"}
    assert drawn == set(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_fonts_of_at_least_9_pt_and_a_caption(name):
    fig = fig_of(FIGURES[name]())
    try:
        fig.canvas.draw()  # tick labels exist once drawn
        small = sorted({(t.get_text(), t.get_fontsize()) for t in fig.findobj(Text)
                        if t.get_visible() and t.get_text().strip()
                        and t.get_fontsize() < plots.MIN_FONT_PT})
        assert small == [], f"{name}: text below {plots.MIN_FONT_PT} pt: {small[:5]}"
        assert len(plots.caption_of(fig)) > 20, f"{name}: no caption"
        assert plots.caption_of(fig) in {t.get_text() for t in fig.texts}  # shown, not only kept
    finally:
        plt.close(fig)


def test_the_saved_png_carries_the_caption(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv(plots.FIGURES_ENV, str(tmp_path))
    fig = FIGURES["plot_ladder"]()
    path = plots.savefig(fig_of(fig), "ladder")
    plt.close(fig_of(fig))
    assert Image.open(path).info["Description"] == plots.caption_of(fig_of(fig))


def test_the_palette_is_okabe_ito_and_the_default_cycle():
    assert set(plots.OKABE_ITO.values()) == {"#000000", "#E69F00", "#56B4E9", "#009E73",
                                             "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    cycle = plt.rcParams["axes.prop_cycle"].by_key()
    assert cycle["color"] == list(plots.OKABE_ITO.values())
    assert len(set(map(str, cycle["linestyle"]))) == len(cycle["color"])  # a second cue


# matplotlib's default colours by name ("C0", f"C{i}"), tab10 or other default colour maps.
DEFAULT_COLOURS = re.compile(r"""tab10|tab20|["']C\d["']|f["']C\{|color=["']#(?!000000)""")


def test_no_default_colours_left_where_figures_are_drawn():
    files = [*(ROOT / "utils" / "lessons").glob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    found = [f"{p.name}:{i}: {line.strip()}" for p in files
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if DEFAULT_COLOURS.search(line) and p.name != "plots.py"]
    assert found == []


def test_the_grep_can_fail():
    assert DEFAULT_COLOURS.search('ax.plot(x, color="C3")')
    assert DEFAULT_COLOURS.search('color=f"C{i}"') and DEFAULT_COLOURS.search("cmap='tab10'")
