"""Plotting helpers, so notebooks keep only the story and the lines worth reading.

Introduced in ``00_start_here.ipynb`` (leaderboard) and ``01_data.ipynb`` (class balance,
spectrograms). :func:`savefig` also writes each key figure as PNG when the notebook runner
asks for it (``DEFAULTS_LAB_FIGURES``), which is how ``make run`` collects them.

Every figure is meant to be read by everyone: colours come from the colour-blind-safe
Okabe–Ito palette (:data:`OKABE_ITO`), each compared series also differs in marker, line
style or hatching, no text is smaller than :data:`MIN_FONT_PT`, and each helper adds a
caption under its figure (:func:`caption`), which :func:`savefig` also writes into the PNG
as its description (matplotlib has no alt-text API for a figure).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from IPython.display import display

from utils.common.files import atomic_path
from utils.results.stats import bootstrap_ci
from utils.task.features import FeatureConfig
from utils.task.labels import LABELS, REAL_CLIPS, REAL_COUNTS, SHORT_NAMES

FIGURES_ENV = "DEFAULTS_LAB_FIGURES"

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common form of
# colour blindness. Ordered for plotting: yellow (weak on white) and black come last.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2", "orange": "#E69F00", "bluish green": "#009E73",
    "vermillion": "#D55E00", "reddish purple": "#CC79A7", "sky blue": "#56B4E9",
    "yellow": "#F0E442", "black": "#000000",
}
# The second cue beside colour, one per series in the same order.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)), (0, (3, 3)))
HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")
MIN_FONT_PT = 9.0


def colour(i: int) -> str:
    """The ``i``-th Okabe–Ito colour (cycling).

    >>> colour(0), colour(len(OKABE_ITO))
    ('#0072B2', '#0072B2')
    """
    palette = list(OKABE_ITO.values())
    return palette[i % len(palette)]


def use_lab_style() -> None:
    """Set the lab's figure defaults once: the Okabe–Ito colours paired with line styles in
    the default cycle, and fonts of at least :data:`MIN_FONT_PT` points, legends included.
    Called when this module is imported, so every notebook that draws gets it.

    >>> use_lab_style()
    >>> plt.rcParams["legend.fontsize"] >= MIN_FONT_PT
    True
    """
    mpl.rcParams.update({
        "axes.prop_cycle": cycler(color=list(OKABE_ITO.values())) + cycler(linestyle=LINESTYLES),
        "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "figure.titlesize": 11,
        "xtick.labelsize": MIN_FONT_PT, "ytick.labelsize": MIN_FONT_PT,
        "legend.fontsize": MIN_FONT_PT, "legend.title_fontsize": MIN_FONT_PT,
        "image.cmap": "viridis",
    })


use_lab_style()


def legend_where_labelled(axes, prefer: int = 0, **kwargs) -> None:
    """Draw one legend on ``axes[prefer]``, or on the first panel that has labelled
    artists when that one has none (a panel can be empty while a table fills in); no
    legend when no panel has any, so no figure warns about an empty legend.

    >>> fig, axes = plt.subplots(1, 2)
    >>> _ = axes[0].plot([0, 1], label="a")
    >>> legend_where_labelled(axes, prefer=1)
    >>> axes[0].get_legend() is not None, axes[1].get_legend() is None
    (True, True)
    >>> plt.close(fig)
    """
    axes = list(np.ravel(axes))
    for ax in [axes[prefer]] + axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(**kwargs)
            return


def caption(fig: plt.Figure, text: str) -> str:
    """Add ``text`` to the caption under ``fig`` (once: helpers that share a figure each add
    their sentence) and return the whole caption.

    >>> fig = plt.figure()
    >>> _ = caption(fig, "Dots: seeds.")
    >>> caption(fig, "Dots: seeds.")
    'Dots: seeds.'
    >>> plt.close(fig)
    """
    parts: list[str] = fig.__dict__.setdefault("_lab_caption_parts", [])
    if text not in parts:
        parts.append(text)
    whole = " ".join(parts)
    artist = fig.__dict__.get("_lab_caption_artist")
    if artist is None:
        # Below the axes, left-aligned; savefig and the inline backend crop to include it.
        fig._lab_caption_artist = fig.text(0.01, -0.01, whole, ha="left", va="top", wrap=True,
                                           fontsize=MIN_FONT_PT, style="italic")
    else:
        artist.set_text(whole)
    return whole


def caption_of(fig: plt.Figure) -> str:
    """The caption :func:`caption` gave ``fig`` ("" if none)."""
    return " ".join(fig.__dict__.get("_lab_caption_parts", []))


def savefig(fig: plt.Figure, name: str) -> Path | None:
    """Save ``fig`` as ``<name>.png`` in ``$DEFAULTS_LAB_FIGURES`` (if set); return the path.
    The caption goes into the PNG's ``Description`` as its text alternative."""
    folder = os.environ.get(FIGURES_ENV)
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight",
                    metadata={"Title": name, "Description": caption_of(fig)})
    return path


def plot_leaderboard(rows, marks: dict[str, float] | None = None) -> plt.Figure:
    """Horizontal bars of evaluation-set F1 per system, with optional reference lines."""
    names = [r[0] for r in rows][::-1]
    f1 = [r[1] for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1))
    ax.barh(names, f1, color=OKABE_ITO["sky blue"])
    for y, v in enumerate(f1):
        ax.text(v + 0.4, y, f"{v:.1f}", va="center", fontsize=MIN_FONT_PT)
    for i, (label, value) in enumerate((marks or {}).items()):
        ax.axvline(value, color=colour(i + 1), ls=LINESTYLES[i + 1], lw=1.5, label=label)
    ax.set_xlabel("micro-F1 on the evaluation set (%)")
    ax.set_xlim(0, 65)
    if marks:
        ax.legend(loc="lower right")
    ax.set_title("DCASE 2017 Task 4, Subtask A (readable part of the results table)")
    fig.tight_layout()
    caption(fig, "Bars: each system's evaluation-set micro-F1, labelled with its value; "
                 "vertical lines, each in its own line style: the thread's results.")
    return fig


def plot_class_balance(generated: dict[str, np.ndarray]) -> plt.Figure:
    """Fraction of clips carrying each label: the real DCASE splits beside the embedded ones.

    ``generated`` maps a split name (``train``/``test``/``eval``) to its (n, 17) labels.
    """
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=False)
    order = np.argsort([-REAL_COUNTS["train"][name] for name in LABELS])
    x = np.arange(len(LABELS))
    for ax, split in zip(axes, ("train", "test")):
        real = np.array([REAL_COUNTS[split][name] for name in LABELS]) / REAL_CLIPS[split]
        ax.bar(x - 0.2, real[order], 0.4, color=colour(0),
               label=f"real DCASE {split} ({REAL_CLIPS[split]} clips)")
        if split in generated:
            y = generated[split]
            ax.bar(x + 0.2, y.mean(0)[order], 0.4, color=colour(1), hatch=HATCHES[1],
                   edgecolor="white", label=f"embedded {split} ({len(y)} clips)")
        ax.set_xticks(x, [SHORT_NAMES[i] for i in order], rotation=60, ha="right",
                      fontsize=MIN_FONT_PT)
        ax.set_ylabel("fraction of clips with the label")
        ax.set_title(f"{split} split")
        ax.legend()
    fig.tight_layout()
    caption(fig, "Per class, the share of clips carrying its label: plain bars the real DCASE "
                 "split, hatched bars the embedded one; classes ordered by real frequency.")
    return fig


def plot_logmel(x: np.ndarray, cfg: FeatureConfig, events=(), ax=None, title: str = ""
                ) -> plt.Axes:
    """A log-mel spectrogram (frames × mels) with strong-label events drawn as brackets.

    ``events`` are ``(onset, offset, label)`` tuples in seconds.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.6))
    seconds = cfg.n_frames * cfg.hop / cfg.sr
    ax.imshow(x.T, origin="lower", aspect="auto", cmap="magma",
              extent=(0, seconds, 0, cfg.n_mels))
    for k, (on, off, label) in enumerate(events):
        y = cfg.n_mels * (0.92 - 0.12 * k)
        ax.plot([on, off], [y, y], color="cyan", lw=2)
        ax.text(on, y + 0.8, SHORT_NAMES[LABELS.index(label)], color="cyan",
                fontsize=MIN_FONT_PT)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel bin")
    if title:
        ax.set_title(title, fontsize=MIN_FONT_PT)
    caption(ax.figure, "Log-mel spectrogram: time across, mel frequency up, brighter = louder; "
                       "cyan brackets mark each labelled event from onset to offset.")
    return ax


def plot_class_gallery(examples: list[tuple[int, np.ndarray, list]], cfg: FeatureConfig
                       ) -> plt.Figure:
    """One small spectrogram per class: ``examples`` = [(class index, features, events)]."""
    n = len(examples)
    cols = 3
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(13, 1.9 * rows), squeeze=False)
    for ax, (c, x, events) in zip(axes.flat, examples):
        plot_logmel(x, cfg, events, ax=ax, title=LABELS[c])
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


# --- training notebooks (02 onwards) ---------------------------------------------------------

class LiveCurve:
    """Training curves that redraw in place while a model trains (introduced in 02).

    Pass ``curve.update`` as ``on_epoch`` to :func:`utils.training.trainer.train`. Redraws at most
    every ``min_interval`` seconds, plus a final draw from :meth:`close`, so a fast loop does
    not spend its time drawing; one figure is updated, never stacked.
    """

    def __init__(self, title: str = "", min_interval: float = 1.0):
        self.fig, (self.ax_loss, self.ax_f1) = plt.subplots(1, 2, figsize=(9, 3))
        self.fig.suptitle(title)
        caption(self.fig, "Left: training loss per epoch; right: validation micro-F1 per "
                          "epoch, one dot each, redrawn while the model trains.")
        self.loss, self.f1, self.min_interval, self._last = [], [], min_interval, 0.0
        self.handle = display(self.fig, display_id=True)
        plt.close(self.fig)  # shown through the handle only

    def update(self, epoch: int, loss: float, f1: float) -> None:
        self.loss.append(loss)
        self.f1.append(f1)
        if time.monotonic() - self._last >= self.min_interval:
            self._draw()

    def _draw(self) -> None:
        for ax, ys, label in ((self.ax_loss, self.loss, "training loss"),
                              (self.ax_f1, self.f1, "validation micro-F1")):
            ax.clear()
            ax.plot(range(1, len(ys) + 1), ys, "o-")
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
        self.fig.tight_layout()
        self.handle.update(self.fig)
        self._last = time.monotonic()

    def close(self) -> plt.Figure:
        self._draw()
        return self.fig


def plot_f1_strips(groups: dict[str, np.ndarray], live: dict[str, np.ndarray] | None = None,
                   ax: plt.Axes | None = None, title: str = "") -> plt.Axes:
    """Test F1 per seed for each setting: one dot per seed, the median, its 95 % interval.

    ``groups`` holds stored runs; ``live`` (optional) the learner's own runs, overlaid as
    crosses. Intervals are percentile-bootstrap intervals of the median.
    """

    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * len(groups) + 2, 3.6))
    rng = np.random.default_rng(0)
    live_labelled = False
    for i, (label, values) in enumerate(groups.items()):
        v = np.asarray(values, float)
        if v.size:
            ax.scatter(i + rng.uniform(-0.12, 0.12, v.size), v, s=18, alpha=0.7, color=colour(i),
                       marker=MARKERS[i % len(MARKERS)])
        if v.size >= 2:
            med, lo, hi = bootstrap_ci(v)
            ax.errorbar(i + 0.28, med, yerr=[[med - lo], [hi - med]], fmt="D", color="k",
                        capsize=4, ms=5, label="median, 95 % CI" if i == 0 else None)
        if live and label in live and len(live[label]):
            lv = np.asarray(live[label], float)
            ax.scatter(np.full(lv.size, i - 0.3), lv, marker="x", s=40,
                       color=OKABE_ITO["vermillion"],
                       label=None if live_labelled else "your live runs")
            live_labelled = True
    ax.set_xticks(range(len(groups)), list(groups), fontsize=MIN_FONT_PT)
    ax.set_ylabel("test micro-F1 (thresholds tuned on validation)")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")
    caption(ax.figure, "Strips: one marker per stored seed, a marker shape per setting; black "
                       "diamond and bars: the median and its 95 % interval; crosses: your live "
                       "runs.")
    return ax


def plot_per_class_f1(f1: np.ndarray, title: str = "") -> plt.Figure:
    """Bar chart of per-class F1, classes sorted by their real training frequency."""
    order = np.argsort([-REAL_COUNTS["train"][name] for name in LABELS])
    fig, ax = plt.subplots(figsize=(10, 3))
    ax.bar(range(len(LABELS)), np.asarray(f1)[order], color=colour(0))
    ax.set_xticks(range(len(LABELS)), [SHORT_NAMES[i] for i in order], rotation=60, ha="right",
                  fontsize=MIN_FONT_PT)
    ax.set_ylabel("test F1")
    ax.set_ylim(0, 1)
    ax.set_title(title or "per-class F1 (classes ordered by real training frequency)")
    fig.tight_layout()
    caption(fig, "One bar per class: its test F1, the most frequent training class on the left.")
    return fig


def plot_curves(stored: dict[str, list], live: dict[str, list] | None = None,
                ax: plt.Axes | None = None, ylabel: str = "validation micro-F1") -> plt.Axes:
    """Per-epoch curves: the median over stored seeds (line) and their range (band) per
    setting, the learner's live runs as thin dashed lines in the same colour."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.6))
    for i, (label, curves) in enumerate(stored.items()):
        curves = [c for c in curves if len(c)]
        if curves:
            n = min(len(c) for c in curves)
            a = np.array([c[:n] for c in curves], float)
            x = np.arange(1, n + 1)
            ax.plot(x, np.median(a, 0), "-", color=colour(i), marker=MARKERS[i % len(MARKERS)],
                    ms=4, label=f"{label} ({len(a)} seeds)")
            ax.fill_between(x, a.min(0), a.max(0), color=colour(i), alpha=0.15, lw=0)
        for c in (live or {}).get(label, []):
            ax.plot(np.arange(1, len(c) + 1), c, ":", color=colour(i), lw=0.9,
                    marker=MARKERS[i % len(MARKERS)], mfc="none")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title("training curves: median and range over seeds; dotted = yours")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right")
    caption(ax.figure, "Curves: per setting (its own marker) the median over stored seeds as a "
                       "solid line, the band their range; thin dotted lines with open markers: "
                       "your live runs.")
    return ax


# --- toggle notebooks (04–09) ------------------------------------------------------------

def plot_weight_histograms(weights: dict[str, dict[str, np.ndarray]],
                           layers: list[str] | None = None) -> plt.Figure:
    """One panel per layer, one histogram per initialisation (introduced in 04).

    ``weights`` maps a label (e.g. "PyTorch init") to
    :func:`utils.training.inspection.weights_by_layer`.
    """
    labels = list(weights)
    layers = layers or list(weights[labels[0]])
    cols = 4
    rows = -(-len(layers) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.3 * rows), squeeze=False)
    for ax, layer in zip(axes.ravel(), layers):
        values = [weights[k][layer] for k in labels]
        lim = max(float(np.abs(v).max()) for v in values) or 1.0
        bins = np.linspace(-lim, lim, 41)
        for i, (k, v) in enumerate(zip(labels, values)):
            ax.hist(v, bins=bins, histtype="step", lw=1.5, ls=LINESTYLES[i], color=colour(i),
                    label=k, density=True)
        ax.set_title(layer, fontsize=MIN_FONT_PT)
        ax.tick_params(labelsize=MIN_FONT_PT)
        ax.set_yticks([])
    for ax in axes.ravel()[len(layers):]:
        ax.axis("off")
    axes[0, 0].legend()
    fig.tight_layout()
    caption(fig, "One panel per layer: the distribution of its initial weights under each "
                 "initialisation, one line style each (solid, dashed).")
    return fig


def plot_layer_stats(stats: dict[str, object], columns: list[str]) -> plt.Figure:
    """Grouped bars per layer for each column of :func:`utils.training.inspection.init_statistics`
    (``stats`` maps a label to its DataFrame)."""
    labels = list(stats)
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3))
    for ax, col in zip(np.atleast_1d(axes), columns):
        layers = list(stats[labels[0]].index)
        w = 0.8 / len(labels)
        for i, k in enumerate(labels):
            ax.bar(np.arange(len(layers)) + i * w, stats[k][col].to_numpy(), w, label=k,
                   color=colour(i), hatch=HATCHES[i % len(HATCHES)], edgecolor="white")
        ax.set_xticks(np.arange(len(layers)) + w * (len(labels) - 1) / 2, layers,
                      fontsize=MIN_FONT_PT)
        ax.set_title(col)
    np.atleast_1d(axes)[0].legend()
    fig.tight_layout()
    caption(fig, "Per layer, one bar per initialisation (plain, then hatched): the statistic "
                 "named above each panel, at the first step.")
    return fig


def plot_trajectories(traj) -> plt.Figure:
    """The two Nesterov formulas step by step (introduced in 05): distance between the
    parameter vectors, the velocity identity v = −η·b, and the learning rate."""
    fig, (ax_d, ax_v) = plt.subplots(1, 2, figsize=(11, 3.4))
    steps = np.arange(1, len(traj) + 1)
    floor = 1e-9  # log axes: exact zeros drawn at the floor
    ax_d.semilogy(steps, np.maximum(traj["relative distance"], floor), color=colour(0))
    ax_d.set_ylabel("‖θ_keras − θ_pytorch‖ / ‖θ‖")
    ax_v.semilogy(steps, np.maximum(traj["velocity identity"], floor), color=colour(1))
    ax_v.set_ylabel("‖v + η·b‖ / ‖v‖")
    changes = steps[1:][np.diff(traj["lr"].to_numpy()) != 0]
    for ax in (ax_d, ax_v):
        for d in changes:
            ax.axvline(d, color="k", ls=":", lw=1)
        ax.set_xlabel("optimizer step (dotted: learning-rate change)")
    ax_d.set_title("parameters of the two runs")
    ax_v.set_title("Keras velocity vs −η × PyTorch buffer")
    fig.tight_layout()
    caption(fig, "Left: how far apart the two formulas' parameters are after each step; right: "
                 "how far v = −η·b is from holding. Log scales; exact zeros drawn at 1e-9.")
    return fig


def plot_gate_functions() -> plt.Figure:
    """sigmoid and the two hard sigmoids, with their derivatives (introduced in 06)."""
    import torch

    from utils.networks.gru_torch import GATE_ACTIVATIONS, gate_fn

    x = torch.linspace(-6, 6, 1201, requires_grad=True)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(10, 3.2))
    for i, name in enumerate(GATE_ACTIVATIONS):
        y = gate_fn(name)(x)
        (g,) = torch.autograd.grad(y.sum(), x)
        ax_f.plot(x.detach(), y.detach(), color=colour(i), ls=LINESTYLES[i], label=name)
        ax_d.plot(x.detach(), g, color=colour(i), ls=LINESTYLES[i], label=name)
    ax_f.set_title("gate activation g(x)")
    ax_d.set_title("derivative g'(x): zero where a hard sigmoid is clipped")
    for ax in (ax_f, ax_d):
        ax.set_xlabel("gate pre-activation x")
        ax.grid(alpha=0.3)
    ax_f.legend()
    fig.tight_layout()
    caption(fig, "Left: each gate function; right: its derivative, one line style per "
                 "function as in the legend.")
    return fig


def plot_histograms(samples: dict[str, np.ndarray], xlabel: str, bins: int = 60,
                    logy: bool = True, ax: plt.Axes | None = None) -> plt.Axes:
    """Overlaid histograms of several samples on a common symmetric range."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    lim = max(float(np.abs(v).max()) for v in samples.values()) or 1.0
    edges = np.linspace(-lim, lim, bins + 1) if min(
        float(v.min()) for v in samples.values()) < 0 else np.linspace(0, lim, bins + 1)
    for i, (k, v) in enumerate(samples.items()):
        ax.hist(v, bins=edges, histtype="step", lw=1.5, color=colour(i), ls=LINESTYLES[i],
                label=k)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.legend()
    caption(ax.figure, "Overlaid histograms (outlines), one line style per sample"
                       + (", counts on a log scale." if logy else "."))
    return ax


def plot_ladder(rungs: list[tuple[str, np.ndarray]], ax: plt.Axes | None = None,
                title: str = "") -> plt.Axes:
    """The ladder (introduced in 08): per rung the seeds, the median and its 95 % interval,
    the medians joined, so each step's rise or fall is the effect of one default."""

    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * len(rungs) + 2, 3.8))
    rng = np.random.default_rng(0)
    medians = []
    for i, (_, v) in enumerate(rungs):
        v = np.asarray(v, float)
        if v.size:
            ax.scatter(i + rng.uniform(-0.1, 0.1, v.size), v, s=10, alpha=0.45, color=colour(0))
        if v.size >= 2:
            med, lo, hi = bootstrap_ci(v)
            ax.errorbar(i, med, yerr=[[med - lo], [hi - med]], fmt="D", color="k", capsize=4,
                        ms=5)
            medians.append((i, med))
    if medians:
        ax.plot(*zip(*medians), color="k", lw=1, alpha=0.6)
    ax.set_xticks(range(len(rungs)), [label for label, _ in rungs], rotation=25, ha="right",
                  fontsize=MIN_FONT_PT)
    ax.set_ylabel("test micro-F1")
    ax.set_title(title)
    caption(ax.figure, "The ladder: per rung one dot per stored seed, a black diamond with bars "
                       "for the median and its 95 % interval; the line joins the medians.")
    return ax


def plot_effect_vs_size(table) -> plt.Figure:
    """Effect (mean paired F1 difference with its interval) against training-set size: one
    panel per budget, one colour per effect, PyTorch solid and Keras dashed; ``table`` as
    :func:`utils.results.comparisons.size_summary` gives it. A size whose seeds are too few
    to bound the interval is an open circle without bars."""
    budgets = list(dict.fromkeys(table["budget"]))
    fig, axes = plt.subplots(1, len(budgets), figsize=(6 * len(budgets), 3.6), squeeze=False,
                             sharex=True, sharey=True)
    sizes = sorted(set(table["clips"]))
    effects = list(dict.fromkeys(table["effect"]))
    for ax, budget in zip(axes[0], budgets):
        for (effect, fw), sub in table[table.budget == budget].groupby(["effect", "framework"],
                                                                       sort=False):
            i = effects.index(effect)
            c, m = colour(i), MARKERS[i % len(MARKERS)]
            sub = sub.sort_values("clips")
            # small offsets: the intervals of neighbouring lines stay visible
            x = sub["clips"].to_numpy() * (1 + 0.03 * i + (0.05 if fw == "keras" else 0))
            bounded = np.isfinite(sub["ci_low"].to_numpy(float))
            ax.plot(x, sub["diff"], "--" if fw == "keras" else "-", color=c, marker=m,
                    label=f"{effect} ({fw})")
            ax.errorbar(x[bounded], sub["diff"][bounded],
                        yerr=[(sub["diff"] - sub["ci_low"])[bounded],
                              (sub["ci_high"] - sub["diff"])[bounded]],
                        fmt=m, capsize=4, color=c)
            ax.plot(x[~bounded], sub["diff"][~bounded], m, mfc="none", color=c)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.minorticks_off()
        ax.set_xlim(min(sizes) / 1.4, max(sizes) * 1.4)
        ax.set_xlabel("training clips")
        ax.set_title("at convergence" if budget == "converged" else f"after {budget} epochs")
        ax.legend()
    axes[0][0].set_ylabel("mean paired F1 difference (95 % CI)")
    fig.tight_layout()
    caption(fig, "Each effect (its own colour and marker) against training-set size: PyTorch "
                 "solid, Keras dashed, bars the 95 % interval; an open marker has too few "
                 "seeds for one.")
    return fig


def plot_drift(runs: dict[str, object]) -> plt.Figure:
    """Same-start trainings in both frameworks (introduced in 09): the largest difference
    between their predictions, and both validation F1s, per epoch; one colour per run."""
    fig, (ax_p, ax_f) = plt.subplots(1, 2, figsize=(11, 3.4))
    for i, (label, df) in enumerate(runs.items()):
        m = MARKERS[i % len(MARKERS)]
        ax_p.semilogy(df.index, np.maximum(df["max |p_keras - p_torch|"], 1e-9), marker=m,
                      ls=LINESTYLES[i], color=colour(i), label=label)
        ax_f.plot(df.index, df["valid F1 keras"], marker=m, ls="-", color=colour(i),
                  label=f"{label}: Keras")
        ax_f.plot(df.index, df["valid F1 torch"], marker=m, ls="--", mfc="none", color=colour(i),
                  label=f"{label}: PyTorch")
    ax_p.set_ylabel("max |p_keras − p_torch| (validation)")
    ax_f.set_ylabel("validation micro-F1")
    for ax in (ax_p, ax_f):
        ax.set_xlabel("epoch (0 = the shared start)")
    ax_p.legend()
    ax_f.legend(ncol=2)
    fig.tight_layout()
    caption(fig, "Left: the largest difference between the two frameworks' predictions per "
                 "epoch (log scale), one marker and line style per run; right: validation "
                 "F1, Keras solid with filled markers, PyTorch dashed with open ones.")
    return fig


def plot_gap_over_budgets(gaps, label: str = "", mark: int | None = 12,
                          ax: plt.Axes | None = None) -> plt.Axes:
    """The paired F1 gap over epoch budgets: the mean over seeds and their full range
    (``gaps`` from :func:`utils.results.comparisons.gap_over_budgets`)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.4))
    if len(gaps):
        g = gaps.groupby("budget").gap
        budgets = np.array(sorted(gaps.budget.unique()))
        ax.fill_between(budgets, g.min().to_numpy(), g.max().to_numpy(), alpha=0.25,
                        color=colour(0), label=f"range over {gaps.seed.nunique()} seeds")
        ax.plot(budgets, g.mean().to_numpy(), lw=2, color=colour(0), label="mean over seeds")
    ax.axhline(0, color="k", lw=0.8)
    if mark:
        ax.axvline(mark, color="grey", ls="--", lw=1, label=f"{mark}-epoch budget")
    ax.set_xlabel("epoch budget (a run that stopped earlier keeps its best epoch)")
    ax.set_ylabel("test F1 gap")
    ax.set_title(label)
    ax.legend(loc="best")
    ax.figure.tight_layout()
    caption(ax.figure, "The paired F1 gap after each epoch budget: the line is the mean over "
                       "seeds, the band their range; a gap that closes at larger budgets is one "
                       "of speed.")
    return ax
