"""Each notebook's headline: its effect at both budgets in one figure, one generated sentence.

Introduced in ``03_pytorch_port.ipynb`` and opened by every toggle notebook (03–09) right
after its setup; ``12_what_the_lab_found.ipynb`` closes the story with :func:`conclusion`.
A headline reads the stored trained runs only: after 12 epochs from their curves, trained
from the epoch the stopping rule kept — the same runs, so the figure and the sentence under
it never disagree. Every verdict is the one the lab's table makes
(:func:`~utils.results.comparisons.lab_summary`); a comparison outside that table (across
frameworks) is decided in the headline's own family.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from utils.lessons.plots import OKABE_ITO
from utils.lessons.plots import caption as plot_caption
from utils.networks.recipe import KERAS_2017, PYTORCH
from utils.results.comparisons import (
    BUDGET,
    CONVERGED,
    LADDER_TOGGLE,
    NOT_STORED,
    STORED_RULE,
    Setting,
    all_results,
    as_read,
    budget_summary,
    framework_of,
    lab_pairs,
    lab_summary,
    readings,
    scores_at,
    stopping_sensitivity,
)
from utils.results.grids import GRID_RULE

FRAMEWORKS = {"torch": "PyTorch", "keras": "Keras", "keras vs torch": "Keras vs PyTorch",
              "keras-jax": "Keras on JAX", "keras-torch": "Keras on the PyTorch backend",
              "keras vs keras-jax": "Keras, TensorFlow vs JAX backend",
              "keras vs keras-torch": "Keras, TensorFlow vs PyTorch backend"}
# Okabe–Ito (colour-blind safe), with a marker each so no reading depends on colour alone.
SIDE_STYLE = ({"color": OKABE_ITO["orange"], "marker": "o"},
              {"color": OKABE_ITO["blue"], "marker": "s"})
TRAINED_LABEL = "trained (early stopping)"

# The lab's comparisons whose "b" side is a pipeline choice rather than a framework default
# (notebook 07): the labels of their two sides.
PIPELINE = {
    "input [0, 1] (vs standardised)": ("standardised", "[0, 1]"),
    "input [-128, 128] (vs standardised)": ("standardised", "[-128, 128]"),
    "BatchNorm (vs none)": ("no BatchNorm", "BatchNorm"),
    "input [0, 1] with BatchNorm": ("standardised + BN", "[0, 1] + BN"),
    "input [-128, 128] with BatchNorm": ("standardised + BN", "[-128, 128] + BN"),
    "Adam at lr 1e-3 (vs SGD + Nesterov)": ("SGD + Nesterov", "Adam"),
}


def _sides(toggle: str) -> tuple[str, str]:
    """The labels of a lab comparison's two sides (a: PyTorch's default, b: Keras-2017's,
    in either framework; or the two pipeline choices)."""
    if toggle == LADDER_TOGGLE:
        return "PYTORCH", "KERAS_2017"
    if toggle == "Keras-3 hard sigmoid (vs sigmoid)":
        return "sigmoid", "Keras-3 hard sigmoid"
    return PIPELINE.get(toggle, ("PyTorch's", "Keras-2017's"))


def _from_lab(toggles: Sequence[str], frameworks: Sequence[str] = ("torch", "keras")
              ) -> Callable[[str], list[tuple[str, Setting, Setting]]]:
    def pairs(preset: str) -> list[tuple[str, Setting, Setting]]:
        chosen = [(t, a, b) for t, a, b in lab_pairs(preset)
                  if t in toggles and a.framework in frameworks]
        out = []
        for t, a, b in sorted(chosen, key=lambda p: (toggles.index(p[0]),
                                                     frameworks.index(p[1].framework))):
            la, lb = _sides(t)
            out.append((t, Setting(la, a.framework, a.recipe, preset),
                        Setting(lb, b.framework, b.recipe, preset)))
        return out
    return pairs


def _port(preset: str) -> list[tuple[str, Setting, Setting]]:
    """The thread's gap: each framework with its own defaults (notebook 03)."""
    return [("the port", Setting("Keras, KERAS_2017", "keras", KERAS_2017, preset),
             Setting("PyTorch, PYTORCH", "torch", PYTORCH, preset))]


def _matched(preset: str) -> list[tuple[str, Setting, Setting]]:
    """Every default matched, only the framework differs (notebook 09)."""
    return [("KERAS_2017 in both frameworks",
             Setting("Keras", "keras", KERAS_2017, preset),
             Setting("PyTorch", "torch", KERAS_2017, preset))]


# Each notebook's headline comparisons, as a function of the dataset preset.
HEADLINES: dict[str, Callable[[str], list[tuple[str, Setting, Setting]]]] = {
    "03": lambda p: _port(p) + _from_lab([LADDER_TOGGLE], ("torch",))(p),
    "04": _from_lab(["conv/dense init", "GRU init"]),
    "05": _from_lab(["Nesterov formula", "Nesterov formula, step decay"]),
    "06": _from_lab(["gate activation", "Keras-3 hard sigmoid (vs sigmoid)"]),
    "07": _from_lab(["input [0, 1] (vs standardised)", "input [-128, 128] (vs standardised)",
                     "BatchNorm (vs none)", "Adam at lr 1e-3 (vs SGD + Nesterov)"]),
    "08": _from_lab([LADDER_TOGGLE]),
    "09": _matched,
}


def kind(reading: str) -> str:
    """A reading of :func:`~utils.results.comparisons.readings` in one word: ``speed``
    (speed only), ``mostly speed``, ``destination``, ``reverses``, ``open`` (speed or
    destination not told apart, or not settled), ``neither`` or ``missing``. The only
    place that reads a reading's wording.

    Examples
    --------
    >>> kind("mostly speed: larger after 12 epochs (+0.140), ..."), kind("neither: ...")
    ('mostly speed', 'neither')
    """
    for prefix, word in (("speed only", "speed"), ("mostly speed", "mostly speed"),
                         ("destination", "destination"), ("reverses", "reverses"),
                         ("neither", "neither"), ("speed or destination", "open"),
                         ("not settled", "open"), ("not decided", "missing")):
        if reading.startswith(prefix):
            return word
    return "open" if reading.startswith("at convergence") else "missing"


PHRASES = {
    "speed": "speed only: trained, its interval rules out effects larger than {out:.3f}",
    "mostly speed": ("mostly speed: the effect shrinks once the models are trained, though "
                     "a trained effect up to {out:.3f} is not ruled out"),
    "destination": "it changes where training ends",
    "reverses": "it reverses once the models are trained",
    "neither": ("no effect told apart from seed noise at either budget (trained, effects "
                "larger than {out:.3f} are ruled out)"),
    "open": "not decided by these seeds",
    "missing": "not decided yet: the trained runs are not all stored",
}


def sentence(toggle: str, framework: str, table: pd.DataFrame,
             stopping: str = "same verdict") -> str:
    """The generated sentence of one comparison of a :func:`budget_summary` table: its mean
    paired difference after 12 epochs and trained, and what the two say together.

    Examples
    --------
    >>> t = pd.DataFrame([
    ...     {"toggle": "x", "framework": "torch", "budget": 12, "seeds": 10,
    ...      "mean difference": 0.144, "MDE (80 %)": 0.07, "verdict": "larger than seed noise"},
    ...     {"toggle": "x", "framework": "torch", "budget": "converged", "seeds": 10,
    ...      "mean difference": 0.004, "MDE (80 %)": 0.02, "verdict": "within seed noise",
    ...      "CI low": -0.003, "CI high": 0.008, "rules out": 0.008}])
    >>> sentence("x", "torch", t)  # doctest: +NORMALIZE_WHITESPACE
    'x, in PyTorch: +0.144 F1 after 12 epochs, +0.004 trained — speed only: trained, its
    interval rules out effects larger than 0.008.'
    """
    sub = table[(table.toggle == toggle) & (table.framework == framework)]
    by = {r["budget"]: r for r in sub.to_dict("records")}

    def value(budget) -> str:
        r = by.get(budget)
        return "not stored" if r is None or r["verdict"] == NOT_STORED else (
            f"{r['mean difference']:+.3f}")

    read = readings(sub).iloc[0]["reading"]
    late = by.get(CONVERGED) or {}
    phrase = PHRASES[kind(read)].format(out=late.get("rules out", np.nan))
    # A trained verdict that moves when the same runs stop earlier says so.
    caveat = ("" if stopping in ("same verdict", "not decided") else
              f" (stopped earlier, the verdict moves: {stopping})")
    return (f"{toggle}, in {FRAMEWORKS.get(framework, framework)}: {value(BUDGET)} F1 after "
            f"{BUDGET} epochs, {value(CONVERGED)} trained — {phrase}{caveat}.")


@dataclass
class Headline:
    """A headline: its figure, the generated sentences (one per comparison) and the table
    they were generated from."""

    figure: plt.Figure
    sentences: list[str]
    table: pd.DataFrame
    caption: str

    def _repr_markdown_(self) -> str:  # how a notebook shows it under the figure
        return "\n".join(f"- **{s}**" for s in self.sentences) + f"\n\n*{self.caption}*"

    def show(self, name: str | None = None) -> None:
        """Draw the figure, then the sentences and caption under it; with ``name``, also
        save the figure as a key figure (``make run`` collects them)."""
        from IPython.display import display

        from utils.lessons.plots import savefig

        if name:
            savefig(self.figure, name)
        plt.show()
        display(self)


def _both(results, s: Setting) -> dict:
    return {b: {k: v["f1"] for k, v in scores_at(results, s, b).items()}
            for b in (BUDGET, CONVERGED)}


def plot_both_budgets(results, title: str, a: Setting, b: Setting, ax: plt.Axes,
                      live: dict[str, Sequence[float]] | None = None) -> None:
    """One comparison at both budgets on one axis: per budget the two settings side by
    side, each data seed's pair joined by a thin line, the medians marked and joined.
    ``live`` ({label: test F1 of the learner's 12-epoch runs}) adds crosses beside the
    stored runs of the same budget."""
    sa, sb = _both(results, a), _both(results, b)
    labelled = False
    for xi, side in ((0, a), (1, b)):
        values = list((live or {}).get(side.label, []))
        if values:
            ax.plot(np.full(len(values), xi - 0.25), values, "x", ms=8, mew=2, ls="none",
                    color=OKABE_ITO["vermillion"],
                    label=None if labelled else "your 12-epoch runs")
            labelled = True
    if labelled:
        ax.legend(loc="lower right", fontsize=9)
    for g, budget in enumerate((BUDGET, CONVERGED)):
        x = (3 * g, 3 * g + 1)
        seeds = sorted(set(sa[budget]) & set(sb[budget]))
        for s in seeds:
            ax.plot(x, (sa[budget][s], sb[budget][s]), color="0.6", lw=0.8, alpha=0.8)
        if seeds:
            med = [float(np.median([side[budget][s] for s in seeds])) for side in (sa, sb)]
            ax.plot(x, med, color="k", lw=2)
            for xi, m, style in zip(x, med, SIDE_STYLE):
                ax.plot(xi, m, ms=9, mec="k", ls="none", **style)
    ax.set_xticks([0, 1, 3, 4], [a.label, b.label] * 2, rotation=20, ha="right")
    ax.set_xlim(-0.6, 4.6)
    for g, text in enumerate((f"after {BUDGET} epochs", TRAINED_LABEL)):
        ax.text(3 * g + 0.5, 1.02, text, transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontsize=9)
    ax.set_title(title, fontsize=10, pad=18)
    ax.set_ylabel("test micro-F1")



def rule_caption(pairs: Sequence[tuple[str, Setting, Setting]]) -> str:
    """How a figure's trained runs were stopped, for its caption: the stored grids' rule,
    the chosen one, or which panels read which (their titles say "chosen rule")."""
    rules = {a.rule for _, a, _ in pairs}
    if rules == {None}:
        return f"stopped by {STORED_RULE}"
    if None not in rules:
        return f"stopped by the chosen rule, {GRID_RULE}"
    return (f"stopped by {STORED_RULE}, or where a panel says so by the chosen rule, "
            f"{GRID_RULE}")


def draw_pairs(results, pairs: Sequence[tuple[str, Setting, Setting]], table: pd.DataFrame,
               title: str = "", live: dict[str, Sequence[float]] | None = None,
               stopping: Sequence[str] | None = None) -> tuple[plt.Figure, list[str]]:
    """One panel per pair (:func:`plot_both_budgets`) and its generated sentence, read from
    ``table`` (a :func:`budget_summary` of ``pairs``). Panels are titled by comparison and
    framework; ``title`` goes above them all."""
    n = len(pairs)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n + 0.6, 4.0), squeeze=False, sharey=True)
    sentences = []
    stopping = ["same verdict"] * n if stopping is None else stopping
    for ax, (toggle, a, b), moved in zip(axes[0], pairs, stopping):
        fw = framework_of(a, b)
        ruled = "" if a.rule is None else ", chosen rule"
        plot_both_budgets(results, f"{toggle}\n{FRAMEWORKS.get(fw, fw)}{ruled}", a, b, ax,
                          live)
        sentences.append(sentence(toggle, fw, table, moved))
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig, sentences


def headline(notebook: str, results=None, data: str = "classroom") -> Headline:
    """Draw notebook ``notebook``'s headline (:data:`HEADLINES`) from the stored trained
    runs of dataset ``data`` and generate its sentences.

    Examples
    --------
    >>> sorted(HEADLINES)
    ['03', '04', '05', '06', '07', '08', '09']
    """
    results = all_results() if results is None else results
    lab = lab_summary(results, data)
    pairs = HEADLINES[notebook](data)
    table = budget_summary(pairs, results, declared=lab, family="this headline")
    pairs = as_read(pairs, table)  # the figure reads the runs its sentences read
    moves = stopping_sensitivity(results, pairs, lab=lab)["stopping rule"].tolist()
    fig, sentences = draw_pairs(results, pairs, table, stopping=moves)
    caption = (f"Test micro-F1 of the stored trained runs ({data} set), after {BUDGET} epochs "
               "(read from each run's curve) and at the epoch early stopping kept "
               f"({rule_caption(pairs)}); a grey line joins the two settings of one data "
               "seed (same batches), the marks are the medians.")
    plot_caption(fig, caption)
    return Headline(fig, sentences, table, caption)
