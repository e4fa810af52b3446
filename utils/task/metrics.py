"""Micro-F1 scoring and F1 thresholds for DCASE 2017 Task 4 (Subtask A).

Introduced in ``01_data.ipynb``; the training notebooks that follow use it to pick decision
thresholds on validation data and to score predictions.

* Scoring (``docs/sources.md#dcase-scoring``): the official Subtask A
  metric is the *micro* F1. TP, FP and FN are pooled over every (clip, label) pair, so
  ``F1 = 2 TP / (2 TP + FP + FN)``. The official script prints this as "Micro Average or
  Instance-Based" and uses it for ranking.
* Thresholds (docs/sources.md#original-crnn): Yun Wang's system tunes one threshold per
  class on a validation set to maximise micro F1. Each class is first tuned on its own, then
  re-tuned in turn while the other classes' counts stay fixed, until nothing changes.
  :func:`tune_class_thresholds` implements that method; :func:`tune_global_threshold` is the
  single-threshold baseline.

Label matrices have shape ``(n_clips, n_classes)`` and hold 0/1 or booleans. Scores have the
same shape and hold finite floats; a label is predicted when ``score >= threshold``.

Examples
--------
>>> import numpy as np
>>> from utils.task.metrics import micro_f1
>>> y_true = np.array([[1, 0, 0], [0, 1, 1]])
>>> y_pred = np.array([[1, 1, 0], [0, 1, 0]])
>>> round(micro_f1(y_true, y_pred), 4)  # TP=2, FP=1, FN=1
0.6667
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from utils.task.labels import LABELS

__all__ = [
    "binarize",
    "f1_report",
    "micro_f1",
    "micro_prf",
    "per_class_f1",
    "tune_class_thresholds",
    "tune_global_threshold",
]



# ---------------------------------------------------------------------------- validation


def _as_binary(y: ArrayLike, name: str) -> np.ndarray:
    """Return ``y`` as a 2-D bool array, or raise ``ValueError``."""
    arr = np.asarray(y)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_clips, n_classes), got shape {arr.shape}")
    if arr.size == 0:
        # F1 of no clips would be 0/0 and read as a score of 0.0.
        raise ValueError(f"{name} is empty: expected at least one clip and one class, got "
                         f"shape {arr.shape}")
    if arr.dtype != bool:
        # Catch scores passed where labels are expected (e.g. probabilities, not 0/1).
        try:
            ok = np.isin(arr, (0, 1))
        except TypeError:
            ok = np.zeros(arr.shape, bool)
        if not ok.all():
            bad = arr[~ok].flat[0]
            raise ValueError(f"{name} must hold only 0/1 or booleans, found {bad!r} "
                             f"(threshold scores with binarize first)")
        arr = arr.astype(bool)
    return arr


def _as_scores(scores: ArrayLike) -> np.ndarray:
    """Return ``scores`` as a 2-D float array of finite values, or raise ``ValueError``."""
    arr = np.asarray(scores, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_clips, n_classes), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("scores must be finite (no NaN or inf)")
    return arr


def _check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}"
        )


def _labels_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t, p = _as_binary(y_true, "y_true"), _as_binary(y_pred, "y_pred")
    _check_same_shape(t, p, "y_true", "y_pred")
    return t, p


def _scores_labels(scores: ArrayLike, y_true: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s, t = _as_scores(scores), _as_binary(y_true, "y_true")
    _check_same_shape(s, t, "scores", "y_true")
    if s.size == 0:
        raise ValueError("cannot tune thresholds on empty data")
    return s, t


# -------------------------------------------------------------------------------- counts


def _counts(t: np.ndarray, p: np.ndarray, axis: int | None = None) -> tuple[Any, Any, Any]:
    """TP, FP, FN counted over ``axis`` (``None``: pooled over every (clip, label) pair)."""
    tp = np.count_nonzero(t & p, axis=axis)
    fp = np.count_nonzero(~t & p, axis=axis)
    fn = np.count_nonzero(t & ~p, axis=axis)
    return tp, fp, fn


def _f1(tp: ArrayLike, fp: ArrayLike, fn: ArrayLike) -> np.ndarray:
    """``2TP / (2TP + FP + FN)`` element-wise, with 0/0 -> 0.0.

    Written with counts rather than ``2PR / (P + R)``: it needs no special case for P or R
    being undefined, and equal ratios of integers give bit-identical floats, so ties found by
    ``argmax`` are real ties.
    """
    tp, fp, fn = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (tp, fp, fn)))
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros_like(denom), where=denom > 0)


def _ratio(num: int, den: int) -> float:
    return num / den if den > 0 else 0.0


# ------------------------------------------------------------------------------- scoring


def micro_f1(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Micro-averaged F1, the official Subtask A metric (docs/sources.md#dcase-scoring).

    TP, FP and FN are pooled over all (clip, label) pairs and
    ``F1 = 2 TP / (2 TP + FP + FN)``, which equals ``2PR / (P + R)``.

    Parameters
    ----------
    y_true, y_pred : array_like of 0/1 or bool, shape (n_clips, n_classes)
        Reference labels and predicted labels.

    Returns
    -------
    float
        Micro F1 in [0, 1]. Convention: 0.0 when there are no positives at all, neither in
        ``y_true`` nor in ``y_pred`` (0/0), as in scikit-learn with ``zero_division=0``.

    Raises
    ------
    ValueError
        If an input is not 2-D, not 0/1, or the shapes differ.

    Examples
    --------
    >>> micro_f1([[1, 0], [1, 1]], [[1, 1], [0, 1]])  # TP=2, FP=1, FN=1
    0.6666666666666666
    >>> micro_f1([[0, 0]], [[0, 0]])
    0.0
    """
    t, p = _labels_pair(y_true, y_pred)
    return float(_f1(*_counts(t, p)))


def micro_prf(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[float, float, float]:
    """Micro-averaged precision, recall and F1 (docs/sources.md#dcase-scoring).

    Parameters
    ----------
    y_true, y_pred : array_like of 0/1 or bool, shape (n_clips, n_classes)
        Reference labels and predicted labels.

    Returns
    -------
    precision, recall, f1 : float
        ``TP / (TP + FP)``, ``TP / (TP + FN)`` and :func:`micro_f1`. Each is 0.0 when its
        denominator is 0 (no predictions, no reference labels, or neither).

    Examples
    --------
    >>> p, r, f = micro_prf([[1, 0, 1], [0, 1, 0]], [[1, 1, 0], [0, 1, 0]])
    >>> p, r, round(f, 4)  # TP=2, FP=1, FN=1
    (0.6666666666666666, 0.6666666666666666, 0.6667)
    """
    t, p = _labels_pair(y_true, y_pred)
    tp, fp, fn = (int(x) for x in _counts(t, p))
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), float(_f1(tp, fp, fn))


def per_class_f1(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """F1 of each class on its own.

    Parameters
    ----------
    y_true, y_pred : array_like of 0/1 or bool, shape (n_clips, n_classes)
        Reference labels and predicted labels.

    Returns
    -------
    numpy.ndarray of float, shape (n_classes,)
        ``2 TP_c / (2 TP_c + FP_c + FN_c)``. Convention: 0.0 for a class that is neither in
        the reference nor predicted (0/0), as scikit-learn's ``zero_division=0``.

    Examples
    --------
    >>> y_true = [[1, 0, 0], [0, 1, 1]]
    >>> y_pred = [[1, 1, 0], [0, 1, 0]]
    >>> per_class_f1(y_true, y_pred).round(3).tolist()
    [1.0, 0.667, 0.0]
    """
    t, p = _labels_pair(y_true, y_pred)
    return _f1(*_counts(t, p, axis=0))


def binarize(scores: ArrayLike, thresholds: ArrayLike) -> np.ndarray:
    """Turn scores into predicted labels: ``scores >= thresholds``.

    Parameters
    ----------
    scores : array_like of float, shape (n_clips, n_classes)
        Clip-level scores (e.g. probabilities).
    thresholds : float or array_like of float, shape (n_classes,)
        One threshold for every class, or one per class. ``inf`` predicts nothing.

    Returns
    -------
    numpy.ndarray of bool, shape (n_clips, n_classes)

    Examples
    --------
    >>> binarize([[0.2, 0.7], [0.5, 0.1]], 0.5).tolist()
    [[False, True], [True, False]]
    >>> binarize([[0.2, 0.7], [0.5, 0.1]], [0.1, 0.8]).tolist()
    [[True, False], [True, False]]
    """
    s = _as_scores(scores)
    thr = np.asarray(thresholds, dtype=float)
    if thr.ndim != 0 and thr.shape != (s.shape[1],):
        raise ValueError(
            f"thresholds must be a scalar or have shape ({s.shape[1]},), got {thr.shape}"
        )
    if np.isnan(thr).any():
        raise ValueError("thresholds must not be NaN")
    return s >= thr


# ---------------------------------------------------------------------------- thresholds


def _sweep(scores: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct decision on a 1-D score vector, with its TP and FP counts.

    Returns ``(thr, tp, fp)`` with ``thr`` in *decreasing* order: ``inf`` (predict nothing)
    followed by the unique scores. ``tp[k]`` and ``fp[k]`` count the items with
    ``score >= thr[k]``. One sort plus cumulative sums: O(n log n), whatever the number of
    candidates.
    """
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], truth[order]
    tp, fp = np.cumsum(t), np.cumsum(~t)
    # ">=" takes every tied score at once, so keep the last position of each run of ties.
    last = np.append(s[1:] != s[:-1], True)
    zero = np.zeros(1, dtype=tp.dtype)
    return (
        np.concatenate(([np.inf], s[last])),
        np.concatenate((zero, tp[last])),
        np.concatenate((zero, fp[last])),
    )


def tune_global_threshold(scores: ArrayLike, y_true: ArrayLike) -> float:
    """The single threshold that maximises micro F1 on (validation) data.

    The search is exact: every distinct decision is tried, i.e. every unique score as a
    threshold, plus ``inf`` (predict nothing). All of them are scored at once from one sort
    and cumulative sums of TP and FP, not on a grid.

    Parameters
    ----------
    scores : array_like of float, shape (n_clips, n_classes)
        Clip-level scores.
    y_true : array_like of 0/1 or bool, shape (n_clips, n_classes)
        Reference labels.

    Returns
    -------
    float
        The best threshold. When several tie, the highest is returned (fewest predictions).
        With no positive label at all every threshold scores 0 and the result is ``inf``.

    Examples
    --------
    >>> scores = [[0.9, 0.2], [0.4, 0.6], [0.3, 0.1]]
    >>> y_true = [[1, 0], [0, 1], [0, 0]]
    >>> tune_global_threshold(scores, y_true)
    0.6
    """
    s, t = _scores_labels(scores, y_true)
    thr, tp, fp = _sweep(s.ravel(), t.ravel())
    f1 = _f1(tp, fp, np.count_nonzero(t) - tp)
    # thr is decreasing and argmax returns the first maximum: the highest tied threshold.
    return float(thr[np.argmax(f1)])


def _refine(
    sweeps: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    n_pos: np.ndarray,
    idx: np.ndarray,
    max_rounds: int,
) -> tuple[np.ndarray, float]:
    """Coordinate ascent on micro F1 over the per-class candidate indices ``idx``.

    Each class in turn takes the candidate that maximises micro F1 while the other classes'
    TP, FP and FN stay fixed (highest threshold on ties). Stops after a round with no change,
    or after ``max_rounds`` rounds. Returns the final indices and their micro F1.
    """
    idx = idx.copy()
    tp = np.array([sw[1][i] for sw, i in zip(sweeps, idx, strict=True)])
    fp = np.array([sw[2][i] for sw, i in zip(sweeps, idx, strict=True)])
    for _ in range(max_rounds):
        changed = False
        for c, (_, tp_c, fp_c) in enumerate(sweeps):
            tp_o = tp.sum() - tp[c]
            fp_o = fp.sum() - fp[c]
            fn_o = (n_pos.sum() - n_pos[c]) - tp_o
            f1 = _f1(tp_o + tp_c, fp_o + fp_c, fn_o + n_pos[c] - tp_c)
            best = int(np.argmax(f1))
            if best != idx[c]:
                idx[c], tp[c], fp[c], changed = best, tp_c[best], fp_c[best], True
        if not changed:
            break
    return idx, float(_f1(tp.sum(), fp.sum(), n_pos.sum() - tp.sum()))


def tune_class_thresholds(scores: ArrayLike, y_true: ArrayLike, max_rounds: int = 20) -> np.ndarray:
    """One threshold per class, maximising micro F1 (docs/sources.md#original-crnn).

    1. Round 0: each class gets the threshold that maximises *its own* F1.
    2. Then, in rounds, each class in turn gets the threshold that maximises the pooled
       micro F1 while the other classes' TP, FP and FN stay at their current values.
       Rounds stop when no threshold changes, or after ``max_rounds`` rounds.

    Each step can only raise micro F1 (or, on a tie, raise a threshold), so the loop cannot
    cycle. A class's candidates are its unique scores plus ``inf`` (predict nothing); every
    class search is exact, from one sort and cumulative sums, done once per class.

    Once no threshold changes, the result is the best micro F1 over *all* combinations of
    per-class thresholds, not just a local optimum. Write micro F1 as ``A / B`` with
    ``A = sum_c 2 TP_c`` and ``B = sum_c (TP_c + FP_c + P_c)``, where ``P_c`` counts the
    class's positives. Let ``F`` be the current value. No single class can raise ``F``, so
    each class already maximises ``2 TP_c - F (TP_c + FP_c + P_c)``. Summing over classes, any
    combination then has ``A' - F B' <= A - F B = 0``, so ``A' / B' <= F``.

    Not in the original: if ``max_rounds`` stops the rounds early, the result may be worse
    than a single global threshold. In that case the rounds are also run starting from the
    best global threshold (:func:`tune_global_threshold`), and the better result is kept
    (on a tie, the original's). So the micro F1 on the tuning data is never below that of
    round 0, nor below that of the best global threshold.

    Parameters
    ----------
    scores : array_like of float, shape (n_clips, n_classes)
        Validation scores.
    y_true : array_like of 0/1 or bool, shape (n_clips, n_classes)
        Validation labels.
    max_rounds : int, default 20
        Maximum number of re-tuning rounds after round 0 (0: round 0 only, plus the
        global-threshold safeguard).

    Returns
    -------
    numpy.ndarray of float, shape (n_classes,)
        Thresholds for :func:`binarize`. When several candidates tie, the highest threshold
        is kept, so a class with no positive label gets ``inf`` (never predicted).

    Examples
    --------
    The two classes' scores live on different scales, so no single threshold is perfect:

    >>> scores = [[0.9, 0.3], [0.4, 0.1]]
    >>> y_true = [[1, 1], [0, 0]]
    >>> tune_class_thresholds(scores, y_true).tolist()
    [0.9, 0.3]
    >>> micro_f1(y_true, binarize(scores, tune_global_threshold(scores, y_true)))
    0.8
    """
    if max_rounds < 0:
        raise ValueError(f"max_rounds must be >= 0, got {max_rounds}")
    s, t = _scores_labels(scores, y_true)
    n_classes = s.shape[1]
    sweeps = [_sweep(s[:, c], t[:, c]) for c in range(n_classes)]
    n_pos = np.count_nonzero(t, axis=0)

    # Round 0: each class on its own (argmax: the highest threshold among ties).
    start = np.array(
        [int(np.argmax(_f1(tp, fp, n_pos[c] - tp))) for c, (_, tp, fp) in enumerate(sweeps)]
    )
    idx, f1 = _refine(sweeps, n_pos, start, max_rounds)

    # Safeguard: the index, in each class's candidates, that matches one global threshold g
    # is the last candidate >= g (the candidates are in decreasing order).
    g = tune_global_threshold(s, t)
    g_idx = np.array([np.searchsorted(-thr, -g, side="right") - 1 for thr, _, _ in sweeps])
    g_tp = sum(sw[1][i] for sw, i in zip(sweeps, g_idx, strict=True))
    g_fp = sum(sw[2][i] for sw, i in zip(sweeps, g_idx, strict=True))
    if f1 < float(_f1(g_tp, g_fp, n_pos.sum() - g_tp)):
        idx, _ = _refine(sweeps, n_pos, g_idx, max_rounds)

    return np.array([sw[0][i] for sw, i in zip(sweeps, idx, strict=True)], dtype=float)


def f1_report(
    scores: ArrayLike,
    y_true: ArrayLike,
    thresholds: ArrayLike,
    labels: Sequence[str] = LABELS,
) -> dict[str, Any]:
    """Micro precision, recall and F1, and per-class F1, at the given thresholds.

    Parameters
    ----------
    scores : array_like of float, shape (n_clips, n_classes)
        Clip-level scores.
    y_true : array_like of 0/1 or bool, shape (n_clips, n_classes)
        Reference labels.
    thresholds : float or array_like of float, shape (n_classes,)
        As for :func:`binarize`.
    labels : sequence of str, default ``utils.task.labels.LABELS``
        Class names, in column order.

    Returns
    -------
    dict
        ``{"micro_precision": float, "micro_recall": float, "micro_f1": float,
        "per_class_f1": {label: float}}`` (conventions as in :func:`micro_prf` and
        :func:`per_class_f1`).

    Examples
    --------
    >>> rep = f1_report([[0.9, 0.3], [0.4, 0.1]], [[1, 1], [0, 0]], 0.5, labels=["a", "b"])
    >>> rep["micro_precision"], rep["micro_recall"], round(rep["micro_f1"], 4)
    (1.0, 0.5, 0.6667)
    >>> rep["per_class_f1"]
    {'a': 1.0, 'b': 0.0}
    """
    y_pred = binarize(scores, thresholds)
    per_class = per_class_f1(y_true, y_pred)
    if len(labels) != per_class.size:
        raise ValueError(f"got {len(labels)} labels for {per_class.size} classes")
    precision, recall, f1 = micro_prf(y_true, y_pred)
    return {
        "micro_precision": precision,
        "micro_recall": recall,
        "micro_f1": f1,
        "per_class_f1": dict(zip(labels, per_class.tolist(), strict=True)),
    }


# ----------------------------------------------------------------------------- seed noise
