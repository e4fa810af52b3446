"""Each notebook's closing cell: "what you should have seen", generated from the tables.

Introduced in ``02_keras_reference.ipynb``. A recap is never typed: it is computed from the
stored runs (or the notebook's own measurements) when the cell runs, so it says what the
learner's copy of the tables says, in the same words the headlines use
(:mod:`utils.lessons.headline`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from IPython.display import Markdown

from utils.lessons.headline import HEADLINES, sentence
from utils.networks.recipe import KERAS_2017
from utils.results.comparisons import (
    BUDGET,
    CONVERGED,
    Setting,
    all_results,
    budget_summary,
    framework_of,
    lab_summary,
    scores_at,
    stopping_sensitivity,
)


def data_recap(ds) -> Markdown:
    """Notebook 01's recap, from the loaded dataset ``ds``: its splits, how many labels a
    training clip carries, and how unevenly the classes occur (what micro-F1 weighs)."""
    from utils.task.labels import SHORT_NAMES

    y = np.asarray(ds["train"].y)
    share = y.mean(0)
    top, rare = int(share.argmax()), int(share.argmin())
    sizes = ", ".join(f"{name} {len(ds[name].y)}" for name in ds.preset.splits)
    return Markdown(
        "**What you should have seen**\n\n"
        f"- Clips per split: {sizes}; a training clip carries {y.sum(1).mean():.2f} labels "
        f"on average, and its labels say which sounds occur, not when.\n"
        f"- The classes are far from even: {SHORT_NAMES[top]} occurs in {share[top]:.0%} of "
        f"the training clips, {SHORT_NAMES[rare]} in {share[rare]:.1%}. Micro-F1 counts "
        f"every label alike, so the frequent classes weigh most.")


def reference_recap(results=None, data: str = "classroom"):
    """Notebook 02's "what you should have seen", generated from the stored runs of the
    Keras reference (``KERAS_2017`` in Keras): its spread over seeds after 12 epochs and
    where training ended."""
    results = all_results() if results is None else results
    s = Setting("", "keras", KERAS_2017, data)
    at = {b: [v["f1"] for v in scores_at(results, s, b).values()] for b in (BUDGET, CONVERGED)}
    if min(len(v) for v in at.values()) < 2:
        return Markdown("**What you should have seen**: the stored reference runs are not "
                        "stored yet for this dataset.")
    e, c = (np.asarray(at[b]) for b in (BUDGET, CONVERGED))
    return Markdown(
        "**What you should have seen**\n\n"
        f"- One recipe, {len(e)} seeds: after {BUDGET} epochs test micro-F1 ranges from "
        f"{e.min():.3f} to {e.max():.3f} (median {np.median(e):.3f}); one run is one draw.\n"
        f"- Trained until validation F1 stopped improving, the same runs reach a median of "
        f"{np.median(c):.3f} (range {c.min():.3f} to {c.max():.3f}): {BUDGET} epochs is a "
        f"budget, not the end of training.")


def what_you_should_have_seen(notebook: str, results=None, data: str = "classroom"):
    """The closing cell of a toggle notebook: its headline's sentences, generated again
    from the stored runs, and which of its trained verdicts move when the models stop a
    few epochs earlier (:func:`~utils.results.comparisons.stopping_sensitivity`)."""
    results = all_results() if results is None else results
    pairs = HEADLINES[notebook](data)
    lab = lab_summary(results, data)
    table = budget_summary(pairs, results, declared=lab, family="this headline")
    moves = stopping_sensitivity(results, pairs, lab=lab)
    said = [sentence(t, framework_of(a, b), table, m)
            for (t, a, b), m in zip(pairs, moves["stopping rule"])]
    text = ["**What you should have seen**", "", *(f"- {s}" for s in said)]
    return Markdown("\n".join(text))


def backends_recap(table: pd.DataFrame):
    """Notebook 10's "what you should have seen", generated from its
    :func:`~utils.results.comparisons.backend_summary` table: each comparison (kernels,
    then the defaults on each backend) after 12 epochs and trained, in one sentence each
    (:func:`~utils.lessons.headline.sentence`)."""
    said = [sentence(t, fw, table) for t, fw in
            table[["toggle", "framework"]].drop_duplicates().itertuples(index=False)]
    return Markdown("**What you should have seen**\n\n" + "\n".join(f"- {s}" for s in said))


def audit_recap(rows, pairs: pd.DataFrame):
    """Notebook 11's "what you should have seen", generated from its audit ``rows`` and
    the paired table :func:`keras_vs_torch`: how many stated defaults hold for the
    installed versions, and how many defaults still differ between the two frameworks."""
    held = sum(r.ok for r in rows)
    differ = int((~pairs["same"]).sum())
    failed = [r.key for r in rows if not r.ok]
    text = [f"- {held} of {len(rows)} defaults the lessons state hold for the installed "
            f"versions" + (f"; not as stated: {', '.join(failed)}" if failed else "."),
            f"- {differ} of {len(pairs)} paired defaults still differ between Keras and "
            f"PyTorch as installed: a port today meets them as the thread's author did."]
    return Markdown("**What you should have seen**\n\n" + "\n".join(text))
