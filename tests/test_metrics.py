"""Tests for utils/task/metrics.py: cross-checks against scikit-learn and sed_eval, brute-force
checks of the threshold searches, and the seed-noise bootstrap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_fscore_support

from utils.results.stats import bootstrap_ci
from utils.task.labels import LABELS, N_CLASSES
from utils.task.metrics import (
    binarize,
    f1_report,
    micro_f1,
    micro_prf,
    per_class_f1,
    tune_class_thresholds,
    tune_global_threshold,
)

COMMA_LABELS = [i for i, name in enumerate(LABELS) if "," in name]


def random_label_pairs(seed: int, n_cases: int, min_classes: int = 2):
    """Random (y_true, y_pred) pairs of varied shapes and densities, with empty columns."""
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        n_clips = int(rng.integers(1, 40))
        # sklearn reads a single column as a binary (not multilabel) target: use >= 2.
        n_classes = int(rng.integers(min_classes, N_CLASSES + 1))
        density = (0.0, 0.02, 0.1, 0.3, 0.7, 1.0)[k % 6]
        y_true = rng.random((n_clips, n_classes)) < density
        y_pred = rng.random((n_clips, n_classes)) < rng.choice((0.0, 0.1, 0.4, 0.9))
        # All-zero columns (a class never present / never predicted) in some cases.
        y_true[:, rng.random(n_classes) < 0.2] = False
        y_pred[:, rng.random(n_classes) < 0.2] = False
        yield y_true.astype(int), y_pred if k % 2 else y_pred.astype(np.int64)


def sklearn_micro(y_true, y_pred):
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average="micro", zero_division=0)
    return p, r, f


# ------------------------------------------------------------------------------- scoring


def test_micro_f1_and_prf_match_sklearn():
    n_nonzero = 0
    for y_true, y_pred in random_label_pairs(seed=0, n_cases=60):
        expected = f1_score(y_true, y_pred, average="micro", zero_division=0)
        assert micro_f1(y_true, y_pred) == pytest.approx(expected, abs=1e-12)
        assert micro_prf(y_true, y_pred) == pytest.approx(sklearn_micro(y_true, y_pred), abs=1e-12)
        n_nonzero += expected > 0
    assert n_nonzero >= 20  # the cases are not all trivial


def test_per_class_f1_matches_sklearn():
    for y_true, y_pred in random_label_pairs(seed=1, n_cases=60):
        expected = f1_score(y_true, y_pred, average=None, zero_division=0)
        got = per_class_f1(y_true, y_pred)
        assert got.shape == (y_true.shape[1],)
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_micro_scores_known_values_and_conventions():
    y_true = np.array([[1, 0, 0], [0, 1, 1]])
    y_pred = np.array([[1, 1, 0], [0, 1, 0]])
    assert micro_f1(y_true, y_pred) == pytest.approx(4 / 6)  # TP=2, FP=1, FN=1
    assert micro_f1(y_true, y_true) == 1.0
    assert micro_f1(y_true, 1 - y_true) == 0.0
    # No positives anywhere: 0.0 by convention, not NaN.
    zeros = np.zeros((3, 4), dtype=bool)
    assert micro_f1(zeros, zeros) == 0.0
    assert micro_prf(zeros, zeros) == (0.0, 0.0, 0.0)
    assert per_class_f1(zeros, zeros).tolist() == [0.0] * 4
    # Predicting nothing: precision is 0/0 -> 0.0, recall 0.
    assert micro_prf(y_true, np.zeros_like(y_true)) == (0.0, 0.0, 0.0)
    assert isinstance(micro_f1(y_true, y_pred), float)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        (np.zeros((3, 2)), np.zeros((3, 3)), "same shape"),
        (np.zeros(3), np.zeros(3), "2-D"),
        (np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), "2-D"),
        (np.full((2, 2), 0.7), np.zeros((2, 2)), "0/1"),
    ],
)
def test_label_validation(y_true, y_pred, match):
    for fn in (micro_f1, micro_prf, per_class_f1):
        with pytest.raises(ValueError, match=match):
            fn(y_true, y_pred)


def test_binarize():
    scores = np.array([[0.2, 0.5, 0.9], [0.5, 0.1, 0.4]])
    assert binarize(scores, 0.5).tolist() == [[False, True, True], [True, False, False]]
    got = binarize(scores, [0.6, 0.0, np.inf])
    assert got.tolist() == [[False, True, False], [False, True, False]]
    with pytest.raises(ValueError, match="thresholds"):
        binarize(scores, [0.5, 0.5])
    with pytest.raises(ValueError, match="finite"):
        binarize([[np.nan, 0.1]], 0.5)


# ------------------------------------------------------------------- sed_eval cross-check


def test_micro_f1_matches_sed_eval_audio_tagging():
    # Imported here, not at module level, so that a broken sed_eval fails this test (not
    # skips it) while the other tests still run.
    import dcase_util
    import sed_eval

    rng = np.random.default_rng(2)
    for case in range(12):
        n_clips = int(rng.integers(3, 25))
        y_true = rng.random((n_clips, N_CLASSES)) < rng.choice((0.05, 0.15, 0.4))
        y_pred = rng.random((n_clips, N_CLASSES)) < rng.choice((0.0, 0.05, 0.2, 0.5))
        # sed_eval returns None for F1 when the reference has no tag at all; the two labels
        # with commas are always in the reference, and predicted in most cases.
        y_true[0, COMMA_LABELS] = True
        if case % 3:
            y_pred[0, COMMA_LABELS[0]] = True
            y_pred[-1, COMMA_LABELS[1]] = True
        if case == 0:
            y_pred[:] = False  # every estimate has an empty tag list (checked below)
        y_pred[-1] = False  # and always at least one clip with no tags predicted

        names = [f"clip{i:03d}.wav" for i in range(n_clips)]

        def tag_list(y, names=names):
            # Tags as Python lists: a comma-joined string would split "Air horn, truck horn".
            # sed_eval needs an estimated entry for every reference file; an empty list works.
            return dcase_util.containers.MetaDataContainer(
                [
                    {"filename": name, "tags": [LABELS[j] for j in np.flatnonzero(row)]}
                    for name, row in zip(names, y, strict=True)
                ]
            )

        evaluator = sed_eval.audio_tag.AudioTaggingMetrics(tags=list(LABELS))
        evaluator.evaluate(reference_tag_list=tag_list(y_true), estimated_tag_list=tag_list(y_pred))
        overall = evaluator.results_overall_metrics()["f_measure"]
        if case == 0:
            # Nothing predicted at all: sed_eval's precision is 0/0 = NaN, so its F1 is NaN;
            # micro_f1 returns 0.0 by its documented convention (as sklearn, zero_division=0).
            assert np.isnan(overall["precision"]) and np.isnan(overall["f_measure"])
            assert micro_prf(y_true, y_pred) == (0.0, 0.0, 0.0)
            continue
        assert overall["f_measure"] == pytest.approx(micro_f1(y_true, y_pred), abs=1e-9)
        p, r, _ = micro_prf(y_true, y_pred)
        assert overall["precision"] == pytest.approx(p, abs=1e-9)
        assert overall["recall"] == pytest.approx(r, abs=1e-9)
        # The comma labels reached sed_eval whole (a split label would count 0 references).
        class_wise = evaluator.results_class_wise_metrics()
        for j in COMMA_LABELS:
            assert class_wise[LABELS[j]]["count"]["Nref"] == y_true[:, j].sum() > 0


# ---------------------------------------------------------------------------- thresholds


def random_scores(seed: int, n_cases: int, max_clips: int = 12, max_classes: int = 4):
    """Small random validation sets; scores rounded to 0.05 so that ties occur."""
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        n_clips = int(rng.integers(2, max_clips + 1))
        n_classes = int(rng.integers(1, max_classes + 1))
        y = rng.random((n_clips, n_classes)) < rng.uniform(0.1, 0.6)
        # Informative but class-dependent scores, so per-class thresholds can help.
        shift = rng.uniform(-0.3, 0.3, n_classes)
        s = np.clip(rng.random((n_clips, n_classes)) * 0.6 + 0.3 * y + shift, 0, 1)
        yield np.round(s * 20) / 20, y


def candidates(column: np.ndarray) -> np.ndarray:
    return np.append(np.unique(column), np.inf)


def f1_at(scores, y, thresholds) -> float:
    return micro_f1(y, binarize(scores, thresholds))


def test_global_threshold_beats_fine_grid_and_is_exact():
    grid = np.linspace(-0.01, 1.01, 1021)
    for scores, y in random_scores(seed=3, n_cases=40):
        thr = tune_global_threshold(scores, y)
        best = f1_at(scores, y, thr)
        assert max(f1_at(scores, y, g) for g in grid) <= best
        # Brute force over every distinct decision; ties -> the highest threshold.
        cands = candidates(scores)
        f1s = np.array([f1_at(scores, y, c) for c in cands])
        assert best == f1s.max()
        assert thr == cands[f1s == f1s.max()].max()


def test_global_threshold_no_positives_predicts_nothing():
    scores = np.array([[0.2, 0.8], [0.4, 0.6]])
    assert tune_global_threshold(scores, np.zeros((2, 2))) == np.inf


def own_f1_thresholds(scores, y) -> np.ndarray:
    """Round 0 by brute force: each class maximises its own F1 (highest threshold on ties)."""
    out = []
    for c in range(scores.shape[1]):
        cands = candidates(scores[:, c])
        f1s = np.array([micro_f1(y[:, [c]], scores[:, [c]] >= t) for t in cands])
        out.append(cands[f1s == f1s.max()].max())
    return np.array(out)


def test_class_thresholds_beat_global_and_round0_and_are_coordinate_optima():
    n_strict = 0
    for scores, y in random_scores(seed=4, n_cases=40, max_clips=30, max_classes=8):
        thr = tune_class_thresholds(scores, y)
        assert thr.shape == (scores.shape[1],) and thr.dtype == float
        best = f1_at(scores, y, thr)
        global_f1 = f1_at(scores, y, tune_global_threshold(scores, y))
        assert best >= global_f1
        assert best >= f1_at(scores, y, own_f1_thresholds(scores, y))
        n_strict += best > global_f1
        for c in range(scores.shape[1]):
            assert thr[c] in candidates(scores[:, c])
            for t in candidates(scores[:, c]):
                trial = thr.copy()
                trial[c] = t
                assert f1_at(scores, y, trial) <= best
        # Deterministic.
        np.testing.assert_array_equal(tune_class_thresholds(scores, y), thr)
    assert n_strict >= 5  # per-class thresholds do help on these data


def test_class_thresholds_reach_the_best_combination():
    # At convergence, coordinate ascent on micro F1 is globally optimal (see the docstring):
    # check against every combination of per-class candidates on tiny data.
    for scores, y in random_scores(seed=5, n_cases=15, max_clips=6, max_classes=3):
        best = f1_at(scores, y, tune_class_thresholds(scores, y))
        combos = itertools.product(*(candidates(scores[:, c]) for c in range(scores.shape[1])))
        assert best == max(f1_at(scores, y, np.array(t)) for t in combos)


def test_class_thresholds_known_case_and_empty_class():
    scores = np.array([[0.9, 0.3, 0.5], [0.4, 0.1, 0.7], [0.2, 0.35, 0.6]])
    y = np.array([[1, 1, 0], [0, 0, 0], [0, 1, 0]])
    thr = tune_class_thresholds(scores, y)
    assert thr.tolist() == [0.9, 0.3, np.inf]  # class 2 has no positive: never predicted
    assert f1_at(scores, y, thr) == 1.0
    assert f1_at(scores, y, tune_global_threshold(scores, y)) < 1.0


def test_class_thresholds_early_stop_keeps_guarantees():
    # max_rounds=0: round 0 only, plus the global-threshold safeguard.
    n_rescued = 0
    for scores, y in random_scores(seed=6, n_cases=40, max_clips=30, max_classes=8):
        best = f1_at(scores, y, tune_class_thresholds(scores, y, max_rounds=0))
        global_f1 = f1_at(scores, y, tune_global_threshold(scores, y))
        round0_f1 = f1_at(scores, y, own_f1_thresholds(scores, y))
        assert best >= global_f1
        assert best >= round0_f1
        n_rescued += round0_f1 < global_f1
    assert n_rescued >= 1  # some cases where round 0 alone is worse than a global threshold
    with pytest.raises(ValueError, match="max_rounds"):
        tune_class_thresholds(scores, y, max_rounds=-1)


def test_threshold_input_validation():
    with pytest.raises(ValueError, match="same shape"):
        tune_global_threshold(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        tune_class_thresholds([[0.1, np.nan]], [[1, 0]])
    with pytest.raises(ValueError, match="empty"):
        tune_class_thresholds(np.zeros((0, 3)), np.zeros((0, 3)))


def test_f1_report():
    scores = np.array([[0.9, 0.3], [0.4, 0.1]])
    y = np.array([[1, 1], [0, 0]])
    rep = f1_report(scores, y, [0.5, 0.2], labels=["a", "b"])
    assert rep == {
        "micro_precision": 1.0,
        "micro_recall": 1.0,
        "micro_f1": 1.0,
        "per_class_f1": {"a": 1.0, "b": 1.0},
    }
    rep = f1_report(scores, y, 0.35, labels=["a", "b"])
    assert rep["micro_precision"] == 0.5 and rep["micro_recall"] == 0.5
    assert rep["per_class_f1"] == {"a": pytest.approx(2 / 3), "b": 0.0}
    # Default labels: the 17 official names, commas included.
    rng = np.random.default_rng(7)
    rep = f1_report(rng.random((5, N_CLASSES)), rng.random((5, N_CLASSES)) < 0.3, 0.5)
    assert list(rep["per_class_f1"]) == list(LABELS)
    with pytest.raises(ValueError, match="labels"):
        f1_report(scores, y, 0.5, labels=["a"])


# ---------------------------------------------------------------------------- seed noise


def test_bootstrap_ci_separated_samples():
    rng = np.random.default_rng(8)
    a = 0.50 + 0.01 * rng.standard_normal(10)
    b = 0.60 + 0.01 * rng.standard_normal(10)
    point, low, high = bootstrap_ci(a, b)
    assert point == pytest.approx(np.median(b) - np.median(a))
    assert low < 0.10 < high  # the true median difference
    assert 0 < low <= point <= high
    _, low_r, high_r = bootstrap_ci(b, a)
    assert high_r < 0
    # Both samples are resampled: the difference is more uncertain than either median alone.
    width = high - low
    for x in (a, b):
        _, lo_x, hi_x = bootstrap_ci(x)
        assert width > hi_x - lo_x


def test_bootstrap_ci_same_distribution():
    rng = np.random.default_rng(9)
    a = 0.50 + 0.02 * rng.standard_normal(8)
    b = 0.50 + 0.02 * rng.standard_normal(8)
    _, low, high = bootstrap_ci(a, b)
    assert low < 0 < high


def test_bootstrap_ci_one_sample_level_and_reproducibility():
    rng = np.random.default_rng(10)
    x = rng.standard_normal(15)
    point, low, high = bootstrap_ci(x)
    assert point == pytest.approx(np.median(x))
    assert low < point < high
    point_m, low_m, high_m = bootstrap_ci(x, stat=np.mean)
    assert point_m == pytest.approx(x.mean()) and low_m < point_m < high_m
    # A lower level gives a narrower interval inside the wider one.
    _, low50, high50 = bootstrap_ci(x, level=0.5)
    assert low <= low50 < high50 <= high
    # Same seed, same interval; another seed, another interval. (The mean, because the
    # quantiles of bootstrapped medians of 15 values often land on the same data points.)
    assert bootstrap_ci(x, seed=3) == bootstrap_ci(x, seed=3)
    assert bootstrap_ci(x, stat=np.mean, seed=3) != bootstrap_ci(x, stat=np.mean, seed=4)


def test_bootstrap_validation():
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci([1.0, 2.0], level=1.0)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci([1.0, 2.0], n_boot=0)
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_ci([])
