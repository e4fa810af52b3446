"""Seed statistics: paired comparisons, the minimal detectable effect, Holm, clip bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ttest_1samp

from utils.results.stats import (
    IDENTICAL,
    LARGER,
    WITHIN,
    _sign_flip_p,
    _sign_vectors,
    bootstrap_ci,
    clip_bootstrap,
    family_verdicts,
    holm,
    paired,
    sign_flip_interval,
)


def test_pairing_sees_what_an_unpaired_interval_hides():
    """Seeds differ a lot, the setting moves every seed by about the same small amount."""
    rng = np.random.default_rng(0)
    base = 0.5 + 0.07 * rng.standard_normal(10)
    shifted = base + 0.02 + 0.003 * rng.standard_normal(10)
    _, lo, hi = bootstrap_ci(base, shifted)  # the old, unpaired interval
    assert lo < 0 < hi
    r = paired(dict(enumerate(base)), dict(enumerate(shifted)))
    assert r.ci_low > 0 and r.p < 0.01 and r.n == 10


def test_identical_seeds_give_a_zero_interval_and_no_effect():
    a = {s: 0.4 + 0.05 * s for s in range(10)}
    r = paired(a, dict(a))
    assert (r.diff, r.ci_low, r.ci_high, r.p, r.mde) == (0.0, 0.0, 0.0, 1.0, 0.0)


def test_only_shared_seeds_are_paired_and_too_few_is_an_error():
    a = {0: 0.5, 1: 0.6, 2: 0.55, 3: 0.52}
    b = {1: 0.62, 2: 0.56, 3: 0.50, 7: 0.9}
    assert paired(a, b).n == 3
    with pytest.raises(ValueError, match="at least 3 shared seeds"):
        paired(a, {0: 0.5, 9: 0.1})


def test_the_minimal_detectable_effect_is_detected_about_80_percent_of_the_time():
    """Simulate paired designs whose true shift is the stated MDE: the level-0.05 test
    should find it close to the stated power (the formula is a t approximation)."""
    rng = np.random.default_rng(1)
    sd, n = 0.05, 10
    d0 = rng.standard_normal(n)
    d0 = (d0 - d0.mean()) / d0.std(ddof=1) * sd  # a sample with spread exactly sd
    mde = paired(dict(enumerate(np.zeros(n))), dict(enumerate(d0))).mde
    hits = sum(ttest_1samp(mde + sd * rng.standard_normal(n), 0).pvalue < 0.05
               for _ in range(2000))
    assert 0.74 <= hits / 2000 <= 0.86


def test_holm_matches_its_definition_and_verdicts_follow_it():
    p = [0.01, 0.04, 0.03, 0.5]
    assert holm(p).round(3).tolist() == [0.04, 0.09, 0.09, 0.5]
    rng = np.random.default_rng(2)
    strong = paired(dict(enumerate(rng.random(10))),
                    dict(enumerate(rng.random(10) + 2)))
    weak = paired(dict(enumerate(rng.random(10))), dict(enumerate(rng.random(10))))
    for method in ("bh", "holm", "none"):
        q, v = family_verdicts([strong, weak], method=method)
        assert v[0] == LARGER and v[1].startswith(WITHIN)
        if not v[1].startswith(f"{WITHIN} after"):  # what it rules out: from its interval
            assert v[1].endswith(f"rules out effects larger than "
                                 f"{max(abs(weak.ci_low), abs(weak.ci_high)):.3f})")
    with pytest.raises(ValueError, match="unknown method"):
        family_verdicts([strong], method="bonferroni")
    # Equal scores on every seed: "identical", not "rules out effects larger than 0.000"; a
    # constant shift, also without spread, is not identical.
    same = paired({s: 0.4 + 0.01 * s for s in range(10)}, {s: 0.4 + 0.01 * s for s in range(10)})
    shifted = paired({s: 0.4 for s in range(10)}, {s: 0.41 for s in range(10)})
    verdicts = family_verdicts([same, shifted], method="none")[1]
    assert verdicts == [f"{WITHIN} ({IDENTICAL})", LARGER]


def test_the_median_difference_is_described_beside_the_tested_mean():
    # One seed that collapsed pulls the mean, not the median of the per-seed differences.
    a = {s: 0.5 for s in range(8)}
    b = {s: 0.52 if s else 0.2 for s in range(8)}
    r = paired(a, b)
    assert r.median_diff == pytest.approx(0.02)
    assert r.diff == pytest.approx((7 * 0.02 - 0.3) / 8)


def test_ten_seeds_cannot_pass_holm_over_thirty_comparisons_but_can_pass_bh():
    """The exact sign-flip p-value of 10 seeds is at least 2/1024: Holm over 30 needs less."""
    rng = np.random.default_rng(4)
    clear = [paired(dict(enumerate(rng.random(10))), dict(enumerate(rng.random(10) + 1)))
             for _ in range(30)]
    assert min(r.p for r in clear) == pytest.approx(2 / 1024)
    held = family_verdicts(clear, method="holm")[1]
    assert not any(v == LARGER for v in held)
    # Clear alone, not after Holm: the verdict says both and claims no bound it cannot keep.
    assert all(v.startswith(f"{WITHIN} after family control (alone p = 0.002") for v in held)
    assert not any("rules out" in v for v in held)
    assert all(v == LARGER for v in family_verdicts(clear, method="bh")[1])


def test_clip_bootstrap_is_zero_for_the_same_predictions_and_positive_for_better_ones():
    rng = np.random.default_rng(3)
    y = rng.random((300, 17)) < 0.1
    noise = [rng.random((300, 17)) for _ in range(5)]
    th = [np.full(17, 0.5)] * 5
    worse = [np.where(y, 0.45 + 0.2 * n, 0.55 * n) for n in noise]
    assert clip_bootstrap(worse, th, worse, th, y) == (0.0, 0.0)
    better = [np.where(y, 0.8, 0.2) for _ in noise]
    low, high = clip_bootstrap(worse, th, better, th, y)
    assert 0 < low <= high


def test_clip_bootstrap_gives_the_numbers_of_resampling_every_seed_at_once():
    """The interval counts each resample's clips with a matrix of draw counts (memory and
    speed): the same numbers, to the last bit, as gathering every drawn clip of every
    seed in one array, written out here."""
    rng = np.random.default_rng(5)
    y = rng.random((120, 17)) < 0.15
    probs_a = [rng.random((120, 17)) for _ in range(4)]
    probs_b = [np.clip(p + 0.1 * y, 0, 1) for p in probs_a]
    th_a = [rng.uniform(0.3, 0.7, 17) for _ in range(4)]
    th_b = [rng.uniform(0.3, 0.7, 17) for _ in range(4)]

    def counts(probs, thresholds):
        pred = probs >= thresholds[None, :]
        return np.stack([(pred & y).sum(1), (pred & ~y).sum(1), (~pred & y).sum(1)], -1)

    ca = np.stack([counts(p, t) for p, t in zip(probs_a, th_a)])
    cb = np.stack([counts(p, t) for p, t in zip(probs_b, th_b)])
    idx = np.random.default_rng(0).integers(0, len(y), size=(300, len(y)))

    def f1(c):
        s = c[:, idx].sum(axis=2)  # (seeds, resamples, clips, 3) at once
        tp, fp, fn = s[..., 0], s[..., 1], s[..., 2]
        return np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)

    level = 0.95  # the default, in the same form: (1 - 0.95) / 2 is not 0.025 to the bit
    expected = np.quantile(np.mean(f1(cb) - f1(ca), axis=0),
                           [(1 - level) / 2, (1 + level) / 2])
    got = clip_bootstrap(probs_a, th_a, probs_b, th_b, y, n_resamples=300)
    assert got == (float(expected[0]), float(expected[1]))
    assert got[0] < got[1]  # not a degenerate interval that any sum would match


def test_too_few_seeds_for_the_exact_test_are_said_to_decide_nothing():
    """Five paired seeds, all five far on one side: the exact sign-flip test still cannot go
    below p = 2/32, so no MDE exists and the verdict says the design is undecidable."""
    a = {s: 0.50 for s in range(5)}
    five = paired(a, {s: 0.80 + 0.01 * s for s in range(5)})
    assert five.p == pytest.approx(2 / 32) and np.isinf(five.mde)
    (verdict,) = family_verdicts([five], method="none")[1]
    # Neither larger nor within: a design that can reject nothing claims no bound.
    assert verdict.startswith("undecidable: 5 paired seeds")
    six = paired({**a, 5: 0.50}, {s: 0.80 + 0.01 * s for s in range(6)})
    assert np.isfinite(six.mde) and family_verdicts([six], method="none")[1] == [LARGER]


def test_the_interval_excludes_zero_exactly_when_the_test_rejects():
    """The interval inverts the sign-flip test of the mean, so interval and verdict agree:
    the fault of a bootstrap interval of the median beside a test of the mean."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(6, 13))
        d = 0.03 * rng.standard_t(3, n) + 0.02 * rng.standard_normal()
        r = paired(dict(enumerate(np.zeros(n))), dict(enumerate(d)))
        assert _sign_flip_p(d, np.zeros(1), _sign_vectors(n))[0] == pytest.approx(r.p)
        assert (r.ci_low > 0 or r.ci_high < 0) == (r.p < 0.05)
        assert r.diff == pytest.approx(d.mean()) and r.ci_low < r.diff < r.ci_high


def test_five_seeds_give_an_unbounded_interval():
    low, high = sign_flip_interval([0.01, 0.02, 0.03, 0.04, 0.05])
    assert np.isinf(low) and np.isinf(high)
    with pytest.raises(ValueError, match="1-D"):
        sign_flip_interval([[0.1, 0.2]])


@pytest.mark.parametrize("n,m", [(6, 30), (6, 17), (10, 30), (7, 12), (6, 8)])
def test_bh_needs_that_many_comparisons_at_the_floor_to_call_one(n, m):
    """bh_company against scipy's BH: k comparisons at the exact test's floor for n seeds
    (the rest null) are called larger exactly when k reaches bh_company(n, m)."""
    from scipy.stats import false_discovery_control

    from utils.results.stats import bh_company, smallest_p

    need = bh_company(n, m)
    for k in range(1, m + 1):
        p = np.array([smallest_p(n)] * k + [1.0] * (m - k))
        called = false_discovery_control(p, method="bh")[0] < 0.05
        assert called == (k >= need), (k, need)


def test_what_a_verdict_rules_out_comes_from_its_interval_not_the_mde():
    """An estimate away from zero: the interval reaches past the MDE, and the verdict's
    bound is the interval's, so "rules out X" never exceeds the interval."""
    from utils.results.stats import ruled_out

    d = np.random.default_rng(5).standard_normal(10)
    d = 0.012 + (d - d.mean()) / d.std(ddof=1) * 0.02  # mean 0.012, spread 0.02 exactly
    r = paired(dict(enumerate(np.zeros(10))), dict(enumerate(d)))
    (verdict,) = family_verdicts([r], method="none")[1]
    assert verdict.startswith(WITHIN)
    x = ruled_out(r.ci_low, r.ci_high)
    assert r.ci_low <= 0 <= r.ci_high and x > r.mde  # this design's MDE would claim more
    assert verdict.endswith(f"rules out effects larger than {x:.3f})")


def test_the_sequential_plan_decides_at_the_first_look_that_can_and_spends_its_error():
    from utils.results.stats import (
        SEQUENTIAL_ALPHA,
        SEQUENTIAL_LOOKS,
        Paired,
        sequential_decision,
    )

    assert sum(SEQUENTIAL_ALPHA) == pytest.approx(0.05)
    assert list(SEQUENTIAL_LOOKS) == sorted(SEQUENTIAL_LOOKS)

    def r(p, lo, hi):
        return Paired(10, 0.5, 0.5, (lo + hi) / 2, lo, hi, p, 0.02, 0.5, 0.0)

    # Look 1: nothing decided (p above the look's level, interval wider than the margin);
    # look 2: the first is larger, the second within the margin, the third still open.
    first = [r(0.01, 0.001, 0.04), r(0.5, -0.02, 0.02), r(0.5, -0.03, 0.03)]
    second = [r(0.0005, 0.01, 0.03), r(0.6, -0.008, 0.009), r(0.4, -0.02, 0.03)]
    assert sequential_decision([first]) == [(10, "undecided")] * 3
    assert sequential_decision([first, second]) == [
        (20, "larger"), (20, "no effect beyond ±0.01"), (20, "undecided")]
    # A comparison decided at an earlier look keeps that decision.
    early = [r(0.0001, 0.02, 0.05), *first[1:]]
    assert sequential_decision([early, second])[0] == (10, "larger")


def test_a_decided_comparison_leaves_the_sequential_family():
    from utils.results.stats import Paired, sequential_decision

    def r(p, lo, hi):
        return Paired(10, 0.5, 0.5, (lo + hi) / 2, lo, hi, p, 0.02, 0.5, 0.0)

    # Look 1 decides the first (its interval within the margin) and leaves the second open.
    first = [r(0.9, -0.004, 0.006), r(0.5, -0.03, 0.03)]
    # Look 2 tests the open one alone: p = 0.012 is below the look's 0.015. Had the decided
    # one (p = 0.9) stayed in the family, BH would give it q = 0.024: undecided.
    second = [None, r(0.012, 0.001, 0.03)]
    assert sequential_decision([first, second]) == [(10, "no effect beyond ±0.01"),
                                                    (20, "larger")]
    assert sequential_decision([first, [first[0], second[1]]]) == sequential_decision(
        [first, second])  # a decided comparison's later value is not read
    with pytest.raises(ValueError, match="still open"):
        sequential_decision([first, [None, None]])
