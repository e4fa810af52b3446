"""A Subtask-A submission from a model's predictions, and its score against the official labels.

Introduced in docs/real-data.md, section "Using the real DCASE 2017 Task 4 data"::

    from utils.task.submission import write_split_submission, score_submission
    write_split_submission("submission.csv", ds["test"].clip_ids, probs, thresholds)
    score_submission("submission.csv", "groundtruth_weak_label_testing_set.csv").f1

:func:`score_submission` counts as the official Subtask-A scorer does
(docs/sources.md#dcase-scoring: ``evaluation/TaskAEvaluate.py`` with ``Models.py``, not
sed_eval): true positives, false positives and false negatives pooled over every (clip,
label) pair of the clips the submission lists, then F1 = 2·TP / (2·TP + FP + FN). Clips
absent from the submission add nothing (as in the official script); ground-truth rows with
end time 0 are skipped and ``.wav``/``.flac`` are stripped before matching (both by
:func:`utils.task.dcase_io.read_weak_labels`). The pooled count is
:func:`utils.task.metrics.micro_f1` on the two label matrices; sed_eval's
``AudioTaggingMetrics`` micro-F1 gives the same figure on the same pairs (a test checks it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from utils.task import dcase_io as io
from utils.task.labels import LABEL_INDEX, N_CLASSES
from utils.task.metrics import binarize, micro_f1, micro_prf


def write_split_submission(path: str | os.PathLike, clip_ids, probs: np.ndarray,
                           thresholds) -> Path:
    """Write the Subtask-A file of one split's predictions.

    ``clip_ids`` are a dataset split's ids (``Split.clip_ids`` of a DCASE dataset,
    ``<ytid>_<start>_<end>``), ``probs`` the model's ``(clips, 17)`` probabilities and
    ``thresholds`` one per class (or one for all), e.g. a training run's tuned
    ``TrainResult.thresholds``. A clip with no class above its threshold is tagged with its
    most probable class, because the official scorer ignores clips absent from the file.
    """
    probs = np.asarray(probs, dtype=np.float64)
    pred = binarize(probs, thresholds)
    return io.write_submission(path, [str(c) for c in clip_ids], pred, scores=probs)


@dataclass(frozen=True)
class Score:
    """Pooled counts and micro-averaged scores of a submission."""

    f1: float
    precision: float
    recall: float
    clips: int  # clips of the submission (all of them in the ground truth)
    unscored: int  # ground-truth clips the submission does not list (they count nothing)


def _matrix(tags: dict[str, list[str]], ids: list[str]) -> np.ndarray:
    y = np.zeros((len(ids), N_CLASSES), np.float32)
    for i, cid in enumerate(ids):
        y[i, [LABEL_INDEX[lab] for lab in tags.get(cid, [])]] = 1.0
    return y


def score_submission(submission: str | os.PathLike, truth: str | os.PathLike) -> Score:
    """Micro-F1 of a submission against an official weak-label file, as the official scorer.

    Raises :class:`~utils.task.dcase_io.DcaseFormatError` for a malformed file, or for
    submission clips that the ground truth does not list (a submission of another split).
    """
    sub = {io.clip_id(k): v for k, v in io.read_weak_labels(submission).items()}
    ref = {io.clip_id(k): v for k, v in io.read_weak_labels(truth).items()}
    unknown = [c for c in sub if c not in ref]
    if unknown:
        raise io.DcaseFormatError(
            f"{os.fspath(submission)}: expected clips of {os.fspath(truth)}, found "
            f"{len(unknown)} it does not list: {unknown[:5]} (a submission of another split?)")
    ids = list(sub)
    y_true, y_pred = _matrix(ref, ids), _matrix(sub, ids)
    p, r, _ = micro_prf(y_true, y_pred)
    return Score(micro_f1(y_true, y_pred), p, r, len(ids), len(ref) - len(ids))
