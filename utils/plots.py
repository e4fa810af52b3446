"""Plotting helpers, so notebooks keep only the story and the lines worth reading.

Introduced in ``00_start_here.ipynb`` (leaderboard) and ``01_data.ipynb`` (class balance,
spectrograms). :func:`savefig` also writes each key figure as PNG when the notebook runner
asks for it (``DEFAULTS_LAB_FIGURES``), which is how ``make run`` collects them.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from utils.features import FeatureConfig
from utils.labels import LABELS, REAL_CLIPS, REAL_COUNTS, SHORT_NAMES

FIGURES_ENV = "DEFAULTS_LAB_FIGURES"


def savefig(fig: plt.Figure, name: str) -> Path | None:
    """Save ``fig`` as ``<name>.png`` in ``$DEFAULTS_LAB_FIGURES`` (if set); return the path."""
    folder = os.environ.get(FIGURES_ENV)
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    os.replace(tmp, path)
    return path


def plot_leaderboard(rows, marks: dict[str, float] | None = None) -> plt.Figure:
    """Horizontal bars of evaluation-set F1 per system, with optional reference lines."""
    names = [r[0] for r in rows][::-1]
    f1 = [r[1] for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1))
    ax.barh(names, f1, color="#8aa9c9")
    for y, v in enumerate(f1):
        ax.text(v + 0.4, y, f"{v:.1f}", va="center", fontsize=8)
    for i, (label, value) in enumerate((marks or {}).items()):
        ax.axvline(value, color=f"C{i + 1}", ls="--", lw=1.2, label=label)
    ax.set_xlabel("micro-F1 on the evaluation set (%)")
    ax.set_xlim(0, 65)
    if marks:
        ax.legend(loc="lower right", fontsize=8)
    ax.set_title("DCASE 2017 Task 4, Subtask A (readable part of the results table)")
    fig.tight_layout()
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
        ax.bar(x - 0.2, real[order], 0.4, label=f"real DCASE {split} ({REAL_CLIPS[split]} clips)")
        if split in generated:
            y = generated[split]
            ax.bar(x + 0.2, y.mean(0)[order], 0.4, label=f"embedded {split} ({len(y)} clips)")
        ax.set_xticks(x, [SHORT_NAMES[i] for i in order], rotation=60, ha="right", fontsize=8)
        ax.set_ylabel("fraction of clips with the label")
        ax.set_title(f"{split} split")
        ax.legend(fontsize=8)
    fig.tight_layout()
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
        ax.text(on, y + 0.8, SHORT_NAMES[LABELS.index(label)], color="cyan", fontsize=8)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel bin")
    if title:
        ax.set_title(title, fontsize=9)
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

    Pass ``curve.update`` as ``on_epoch`` to :func:`utils.train.train`. Redraws at most
    every ``min_interval`` seconds, plus a final draw from :meth:`close`, so a fast loop does
    not spend its time drawing; one figure is updated, never stacked.
    """

    def __init__(self, title: str = "", min_interval: float = 1.0):
        from IPython.display import display

        self.fig, (self.ax_loss, self.ax_f1) = plt.subplots(1, 2, figsize=(9, 3))
        self.fig.suptitle(title, fontsize=10)
        self.loss, self.f1, self.min_interval, self._last = [], [], min_interval, 0.0
        self.handle = display(self.fig, display_id=True)
        plt.close(self.fig)  # shown through the handle only

    def update(self, epoch: int, loss: float, f1: float) -> None:
        import time

        self.loss.append(loss)
        self.f1.append(f1)
        if time.monotonic() - self._last >= self.min_interval:
            self._draw()

    def _draw(self) -> None:
        import time

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
    from utils.metrics import bootstrap_ci

    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * len(groups) + 2, 3.6))
    rng = np.random.default_rng(0)
    live_labelled = False
    for i, (label, values) in enumerate(groups.items()):
        v = np.asarray(values, float)
        if v.size:
            ax.scatter(i + rng.uniform(-0.12, 0.12, v.size), v, s=18, alpha=0.7, color=f"C{i}")
        if v.size >= 2:
            med, lo, hi = bootstrap_ci(v)
            ax.errorbar(i + 0.28, med, yerr=[[med - lo], [hi - med]], fmt="D", color="k",
                        capsize=4, ms=5, label="median, 95 % CI" if i == 0 else None)
        if live and label in live and len(live[label]):
            lv = np.asarray(live[label], float)
            ax.scatter(np.full(lv.size, i - 0.3), lv, marker="x", s=40, color="crimson",
                       label=None if live_labelled else "your live runs")
            live_labelled = True
    ax.set_xticks(range(len(groups)), list(groups), fontsize=8)
    ax.set_ylabel("test micro-F1 (thresholds tuned on validation)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    return ax


def plot_per_class_f1(f1: np.ndarray, title: str = "") -> plt.Figure:
    """Bar chart of per-class F1, classes sorted by their real training frequency."""
    order = np.argsort([-REAL_COUNTS["train"][name] for name in LABELS])
    fig, ax = plt.subplots(figsize=(10, 3))
    ax.bar(range(len(LABELS)), np.asarray(f1)[order], color="#6a8fb3")
    ax.set_xticks(range(len(LABELS)), [SHORT_NAMES[i] for i in order], rotation=60, ha="right",
                  fontsize=8)
    ax.set_ylabel("test F1")
    ax.set_ylim(0, 1)
    ax.set_title(title or "per-class F1 (classes ordered by real training frequency)",
                 fontsize=10)
    fig.tight_layout()
    return fig
