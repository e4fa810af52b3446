"""Seed statistics: is the difference between two settings larger than seed noise?

Introduced in ``02_keras_reference.ipynb``. :func:`bootstrap_ci` gives the interval of one
setting's median over seeds (the strips of every figure).

Comparisons use what the grids give: for one data seed two settings see the same batches,
so :func:`paired` compares the per-seed differences (a sign-flip
``scipy.stats.permutation_test`` of their mean and the interval that inverts it) and states
the minimal detectable effect; :func:`holm` and :func:`family_verdicts` control the error over a
table of comparisons; :func:`welch_change` compares one effect at two training-set
sizes (separate seeds, unequal spreads); :func:`clip_bootstrap` gives the uncertainty that
comes from the test clips rather than the seeds (docs/sources.md#papers: Bouthillier et al. 2021,
Agarwal et al. 2021, Holm 1979).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import false_discovery_control, permutation_test, ttest_ind
from scipy.stats import t as student_t

LARGER = "larger than seed noise"
WITHIN = "within seed noise"
# Both settings gave the same F1 on every paired seed (no bound is needed to say "no effect").
IDENTICAL = "identical on every paired seed"
# Too few paired seeds for the exact test to reject anything: neither larger nor within.
UNDECIDABLE = "undecidable"


def _as_sample(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


def bootstrap_ci(
    values_a: ArrayLike,
    values_b: ArrayLike | None = None,
    n_boot: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
    stat: Callable[..., Any] = np.median,
) -> tuple[float, float, float]:
    """Percentile-bootstrap confidence interval of a statistic, or of a difference.

    With one sample: the interval of ``stat(values_a)``. With two: the interval of
    ``stat(values_b) - stat(values_a)``; the two samples are independent (e.g. F1 over seeds
    for two settings), so each is resampled with replacement on its own.

    Parameters
    ----------
    values_a : array_like of float, shape (n_a,)
        First sample (e.g. test F1 of one setting, one value per seed).
    values_b : array_like of float, shape (n_b,), optional
        Second sample; when given, the interval is for the difference b - a.
    n_boot : int, default 10000
        Number of bootstrap resamples.
    level : float, default 0.95
        Confidence level, in (0, 1).
    seed : int, default 0
        Seed of the resampling generator: the same seed gives the same interval.
    stat : callable, default numpy.median
        A NumPy-style reduction taking an ``axis`` keyword (``np.median``, ``np.mean``...).

    Returns
    -------
    point, low, high : float
        The statistic (or difference) on the data, and the interval's bounds: the
        ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the bootstrap values.

    Notes
    -----
    With few values (say 3 to 5 seeds) a bootstrapped median can take only a handful of
    distinct values, so the interval is coarse; treat it as a rough guide.

    Examples
    --------
    >>> a = [0.50, 0.52, 0.51, 0.49, 0.50]
    >>> b = [0.55, 0.56, 0.54, 0.57, 0.55]
    >>> point, low, high = bootstrap_ci(a, b)
    >>> round(point, 3), bool(0 < low <= point <= high)
    (0.05, True)
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be an integer >= 1, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)

    def resampled(x: np.ndarray) -> np.ndarray:
        # All resamples at once: an (n_boot, n) matrix of indices, one row per resample.
        return stat(x[rng.integers(0, x.size, size=(n_boot, x.size))], axis=1)

    a = _as_sample(values_a, "values_a")
    point, boot = float(stat(a)), resampled(a)
    if values_b is not None:
        b = _as_sample(values_b, "values_b")
        point, boot = float(stat(b)) - point, resampled(b) - boot
    low, high = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return point, float(low), float(high)


# --- paired comparisons: one difference per data seed ------------------------------------

POWER = 0.8  # the power at which the minimal detectable effect is stated


def smallest_p(n: int) -> float:
    """The smallest two-sided p of the exact sign-flip test on ``n`` values, every value on
    one side: 2 / 2**n. Where it is not below the level, no shift can be rejected."""
    return 2.0 ** (1 - n)


# The fewest paired seeds with which that test can reach p < 0.05: fewer, and no comparison
# can give a verdict.
DECISIVE_SEEDS = next(n for n in range(1, 17) if smallest_p(n) < 0.05)


def bh_company(n: int, m: int, alpha: float = 0.05) -> int:
    """How many comparisons of a family of ``m`` Benjamini–Hochberg must call larger (the
    one itself included) before it can call one on ``n`` paired seeds larger.

    :func:`family_verdicts` calls a comparison larger when its BH q < alpha, that is when
    some j-th smallest p-value at or after its rank has p_(j)·m/j < alpha; BH then calls at
    least j comparisons larger. A comparison on n seeds has p ≥ :func:`smallest_p` (n), so
    p_(j) is no smaller and j > smallest_p(n)·m/alpha. More than ``m``: never, whatever the
    effect.

    Examples
    --------
    >>> bh_company(6, 30), bh_company(10, 30), bh_company(6, 1), bh_company(6, 8)
    (19, 2, 1, 6)
    """
    # Exact fractions: where smallest_p(n)·m/alpha is a whole number, q equals alpha there,
    # which is not below it.
    bound = Fraction(2) ** (1 - n) * m / Fraction(str(alpha))
    return math.floor(bound) + 1


@dataclass(frozen=True)
class Paired:
    """A paired comparison of two settings over the seeds both were run with.

    ``diff`` is the mean over seeds of the per-seed difference b − a; ``p`` a two-sided
    sign-flip permutation test of that mean (``scipy.stats.permutation_test``, exact up to
    16 seeds); ``ci_low``/``ci_high`` the shifts that test does not reject at the level
    (:func:`sign_flip_interval`), so the interval excludes zero exactly when ``p`` is below
    ``1 - level`` (up to 16 seeds; beyond, both draw sign vectors at random and may differ
    near the boundary): estimate, interval and verdict speak of one quantity. ``mde`` is the
    smallest mean difference the design detects with probability :data:`POWER` at level
    ``alpha`` (paired t approximation, from the observed spread of the differences): it
    describes the design, not the result. What a "within seed noise" verdict rules out is
    read from the interval (:func:`ruled_out`), which may reach past ``mde`` when the
    observed difference is not zero. With so few seeds that even a
    difference of one sign on every seed stays above ``alpha`` (5 at the 5 % level), ``mde``
    is infinite and the interval unbounded: the design cannot detect any effect.
    ``p_better`` is the share of seeds on which ``b`` scored above ``a`` (a tie counts
    half): the paired form of the probability of improvement that rliable reports
    (Agarwal et al. 2021), read as "on how many seeds did the change help?".
    ``median_diff``, the median per-seed difference, is shown beside ``diff`` as a
    description robust to one odd seed; the test, interval and MDE are of the mean.
    """

    n: int
    median_a: float
    median_b: float
    diff: float
    ci_low: float
    ci_high: float
    p: float
    mde: float
    p_better: float = float("nan")
    median_diff: float = float("nan")


def _sign_vectors(n: int) -> np.ndarray:
    """Every ±1 vector of length ``n`` (2**n rows) up to 16 seeds, else 2**14 drawn ones."""
    if n <= 16:
        return 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    rng = np.random.default_rng(0)
    return rng.choice([-1.0, 1.0], size=(2**14, n))


def _sign_flip_p(d: np.ndarray, shifts: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Two-sided sign-flip p-value of ``mean(d - shift) = 0``, for each shift at once."""
    x = d[None, :] - shifts[:, None]
    observed = np.abs(x.sum(axis=1))
    # The same relative tolerance for ties as scipy's permutation_test.
    return np.mean(np.abs(x @ signs.T) >= observed[:, None] * (1 - 1e-14), axis=1)


def sign_flip_interval(d: ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """The shifts ``delta`` for which the sign-flip test of ``mean(d - delta) = 0`` keeps
    p ≥ ``1 - level``: the confidence interval that inverts the test.

    Its ends are found by bisection between the mean (where p = 1) and a shift beyond every
    value of ``d`` (where p is its smallest, 2 / 2**n). When even that smallest p is not
    below ``1 - level`` (5 values or fewer at 95 %) no shift is rejected and the interval
    is unbounded.

    Examples
    --------
    >>> d = [0.031, 0.052, 0.018, 0.044, 0.060, 0.027, 0.039, 0.049]
    >>> low, high = sign_flip_interval(d)
    >>> bool(0 < low < np.mean(d) < high)
    True
    >>> sign_flip_interval([0.01, 0.02, 0.03, 0.04, 0.05])
    (-inf, inf)
    """
    d = _as_sample(d, "d")
    alpha = 1 - level
    if smallest_p(d.size) >= alpha:
        return float("-inf"), float("inf")
    signs = _sign_vectors(d.size)
    centre = float(d.mean())
    reach = 2 * float(np.ptp(d)) + 1e-12  # beyond it every d - delta has one sign

    def end(direction: float) -> float:
        inside, outside = centre, centre + direction * reach
        for _ in range(60):  # the bracket halves each time: far below float resolution
            mid = 0.5 * (inside + outside)
            if _sign_flip_p(d, np.array([mid]), signs)[0] >= alpha:
                inside = mid
            else:
                outside = mid
        return inside

    return end(-1.0), end(1.0)


def paired(a: dict[int, float], b: dict[int, float], level: float = 0.95) -> Paired:
    """Compare ``b`` with ``a``, both ``{data seed: score}``, on the seeds they share.

    Raises ValueError when fewer than 3 seeds are shared (no spread to speak of).

    Examples
    --------
    >>> a = {s: 0.50 + 0.01 * s for s in range(8)}
    >>> b = {s: v + 0.05 + 0.002 * (s % 3) for s, v in a.items()}
    >>> r = paired(a, b)
    >>> r.n, round(r.diff, 3), r.ci_low > 0, r.p < 0.01, r.p_better
    (8, 0.052, True, True, 1.0)
    """
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 3:
        raise ValueError(f"a paired comparison needs at least 3 shared seeds, got {seeds}")
    va = np.array([a[s] for s in seeds], float)
    vb = np.array([b[s] for s in seeds], float)
    d = vb - va
    n = len(d)
    alpha = 1 - level
    if np.ptp(d) == 0:  # every seed moved by the same amount: no spread at all
        p = 1.0 if d[0] == 0 else smallest_p(n)
        # Any other shift leaves every seed on one side: rejected when the design can reject.
        low, high = ((float(d[0]),) * 2 if smallest_p(n) < alpha
                     else (float("-inf"), float("inf")))
    else:
        test = permutation_test((d,), np.mean, permutation_type="samples",
                                alternative="two-sided",
                                n_resamples=np.inf if n <= 16 else 9999,
                                random_state=np.random.default_rng(0))
        p = float(test.pvalue)
        low, high = sign_flip_interval(d, level)
    sd = float(np.std(d, ddof=1))
    mde = (student_t.ppf(1 - alpha / 2, n - 1) + student_t.ppf(POWER, n - 1)) * sd / np.sqrt(n)
    if smallest_p(n) >= alpha:
        # The exact sign-flip test cannot go below p = 2 / 2**n (every seed on one side):
        # with 5 seeds that is 0.0625, so no effect of any size could be called at 5 %.
        mde = float("inf")
    p_better = float(np.mean(d > 0) + 0.5 * np.mean(d == 0))
    return Paired(n, float(np.median(va)), float(np.median(vb)), float(d.mean()), low,
                  high, p, float(mde), p_better, float(np.median(d)))


# --- one effect at two training-set sizes: two independent sets of seeds ----------------

@dataclass(frozen=True)
class Change:
    """How much an effect moved between two conditions run on separate seeds (two
    training-set sizes): ``diff`` is mean(after) − mean(before) of the per-seed effects,
    ``ci_low``/``ci_high`` its Welch interval, ``p`` Welch's two-sided test and ``mde`` the
    smallest change the design detects with probability :data:`POWER` (Welch t
    approximation, from the observed spreads)."""

    n_before: int
    n_after: int
    diff: float
    ci_low: float
    ci_high: float
    p: float
    mde: float


def welch_change(before: ArrayLike, after: ArrayLike, level: float = 0.95) -> Change:
    """Compare the per-seed effects ``after`` with ``before``, two independent samples.

    The seeds at two training-set sizes train on different sets, so their effects do not
    pair; and the spread of an effect shrinks as the data grows, so the two samples do not
    share a variance, which a permutation test of the difference would assume. Welch's
    test (``scipy.stats.ttest_ind(equal_var=False)``) does not.

    Raises ValueError when either sample has fewer than 3 values.

    Examples
    --------
    >>> before = [0.030, 0.045, 0.012, 0.038, 0.027, 0.021, 0.040, 0.033]
    >>> after = [0.004, -0.006, 0.010, 0.001, -0.002, 0.007]
    >>> c = welch_change(before, after)
    >>> round(c.diff, 3), c.ci_high < 0, c.p < 0.05, c.n_before, c.n_after
    (-0.028, True, True, 8, 6)
    """
    a, b = _as_sample(before, "before"), _as_sample(after, "after")
    if min(a.size, b.size) < 3:
        raise ValueError(f"a change needs at least 3 values on each side, got {a.size} and "
                         f"{b.size}")
    alpha = 1 - level
    if np.ptp(a) == 0 and np.ptp(b) == 0:  # no spread on either side: nothing to test
        d = float(b[0] - a[0])
        return Change(a.size, b.size, d, d, d, 1.0 if d == 0 else 0.0, 0.0)
    test = ttest_ind(b, a, equal_var=False)
    ci = test.confidence_interval(level)
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    df = float(test.df)
    mde = (student_t.ppf(1 - alpha / 2, df) + student_t.ppf(POWER, df)) * se
    return Change(a.size, b.size, float(b.mean() - a.mean()), float(ci.low), float(ci.high),
                  float(test.pvalue), float(mde))


def holm(pvalues: ArrayLike) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (controls the family-wise error).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, float)
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


# The margin below which an effect counts as none, stated before the sequential seeds were
# added (the "speed only" claim and the equivalence reading use it): one F1 point.
EQUIVALENCE_MARGIN = 0.01


def ruled_out(ci_low: float, ci_high: float) -> float:
    """The smallest size X such that the interval excludes every effect larger than X in
    either direction: the farther bound's distance from zero (inf when unbounded).

    This, not the MDE, is what a result licenses: "rules out effects larger than X".

    Examples
    --------
    >>> ruled_out(-0.012, 0.024), ruled_out(-np.inf, np.inf)
    (0.024, inf)
    """
    return float(max(abs(ci_low), abs(ci_high)))


# --- adding seeds where it matters: a plan stated before the added seeds are run -------------

# Looks at 10, 20 and 30 paired seeds; the two-sided error is spent across them (a simple
# increasing spend that sums to 0.05, so stopping early costs power, never error). At each
# look a comparison still open is decided as "larger" when BH over the comparisons still
# open at that look's level calls it, as "no effect beyond the margin" when its interval at
# that level lies within ±EQUIVALENCE_MARGIN (two one-sided tests, read from the interval),
# and otherwise waits for the next look; after the last one it stays undecided, and says so.
# A decided comparison takes no more seeds and leaves the family (amended before any look's
# seeds were stored: a look's family is the comparisons it can still decide).
SEQUENTIAL_LOOKS = (10, 20, 30)
SEQUENTIAL_ALPHA = (0.005, 0.015, 0.03)


def sequential_decision(results_by_look: list[list[Paired | None]],
                        margin: float = EQUIVALENCE_MARGIN) -> list[tuple[int, str]]:
    """Walk a family of paired comparisons through the looks of the sequential plan.

    ``results_by_look[k]`` holds, for look ``k`` that has all its seeds, each comparison
    still open at that look computed on its first ``SEQUENTIAL_LOOKS[k]`` paired seeds at
    level ``1 - SEQUENTIAL_ALPHA[k]`` (``None``, or any value, for one decided at an earlier
    look: it is not read). Benjamini–Hochberg at each look runs over the comparisons still
    open. Returns per comparison ``(seeds, decision)``: the look where it was decided and
    "larger", "no effect beyond ±margin", or, where the looks run out, "undecided" (with
    the seeds of the last look it reached).

    Examples
    --------
    >>> big = Paired(10, 0.5, 0.6, 0.1, 0.05, 0.15, 0.001, 0.04, 1.0, 0.1)
    >>> flat = Paired(10, 0.5, 0.5, 0.0, -0.004, 0.006, 0.9, 0.01, 0.5, 0.0)
    >>> wide = Paired(10, 0.5, 0.5, 0.0, -0.03, 0.03, 0.9, 0.05, 0.5, 0.0)
    >>> sequential_decision([[big, flat, wide]])
    [(10, 'larger'), (10, 'no effect beyond ±0.01'), (10, 'undecided')]
    >>> sequential_decision([[big, flat, wide], [None, None, flat]])
    [(10, 'larger'), (10, 'no effect beyond ±0.01'), (20, 'no effect beyond ±0.01')]

    Raises ValueError when a look lacks a comparison that is still open there.
    """
    if not results_by_look:
        return []
    out: list[tuple[int, str] | None] = [None] * len(results_by_look[0])
    for k, family in enumerate(results_by_look):
        alpha, n = SEQUENTIAL_ALPHA[k], SEQUENTIAL_LOOKS[k]
        still_open = [i for i, o in enumerate(out) if o is None]
        if any(family[i] is None for i in still_open):
            raise ValueError(f"look {k + 1} ({n} seeds) lacks comparisons still open there: "
                             f"{[i for i in still_open if family[i] is None]}")
        if not still_open:
            break
        q = false_discovery_control([family[i].p for i in still_open], method="bh")
        for i, qi in zip(still_open, q):
            r = family[i]
            if qi < alpha:
                out[i] = (n, "larger")
            elif ruled_out(r.ci_low, r.ci_high) <= margin:
                out[i] = (n, f"no effect beyond ±{margin:g}")
    last = SEQUENTIAL_LOOKS[len(results_by_look) - 1]
    return [o if o is not None else (last, "undecided") for o in out]


def family_verdicts(results: list[Paired], alpha: float = 0.05,
                    method: str = "bh") -> tuple[np.ndarray, list[str]]:
    """Adjusted p-values and verdicts of a family (a table) of comparisons.

    ``method`` ``"bh"``: Benjamini–Hochberg (``scipy.stats.false_discovery_control``; the
    expected share of false "larger" verdicts stays below ``alpha``); ``"holm"``: Holm (the
    chance of any false one does); ``"none"``: each comparison alone. A comparison clear
    alone but not after the adjustment says so, rather than ruling out an effect its own
    estimate may exceed. A "within" verdict says what its interval rules out
    (:func:`ruled_out`); the MDE is a property of the design and is reported beside it.
    One whose two settings scored the same on every seed says "identical" (the setting
    never acted: Adam's epsilon under SGD, a loss guard that no probability reached) rather
    than "rules out effects larger than 0.000". With 10 seeds the exact sign-flip test
    cannot go below p = 2/1024, so Holm over a table of about 30 comparisons
    can never say "larger"; BH can, when several effects are clear.
    """
    p = np.array([r.p for r in results], float)
    if not len(p):
        return p, []
    if method == "bh":
        q = false_discovery_control(p, method="bh")
    elif method == "holm":
        q = holm(p)
    elif method == "none":
        q = p
    else:
        raise ValueError(f"unknown method {method!r}: expected 'bh', 'holm' or 'none'")
    def verdict(r: Paired, qi: float) -> str:
        if qi < alpha:
            return LARGER
        if r.p < alpha:  # clear alone, not within the family: say both, claim neither
            return (f"{WITHIN} after family control (alone p = {r.p:.3f}; the design detects "
                    f"{r.mde:.3f} at 80 % power)")
        if r.diff == 0 and r.mde == 0:  # no spread and no shift: the runs are the same
            return f"{WITHIN} ({IDENTICAL})"
        if not np.isfinite(r.mde):
            return (f"{UNDECIDABLE}: {r.n} paired seeds cannot reach p < {alpha} with the "
                    f"exact sign-flip test")
        return (f"{WITHIN} (its interval rules out effects larger than "
                f"{ruled_out(r.ci_low, r.ci_high):.3f})")

    return q, [verdict(r, qi) for r, qi in zip(results, q)]


def clip_bootstrap(probs_a: list[np.ndarray], thresholds_a: list[np.ndarray],
                   probs_b: list[np.ndarray], thresholds_b: list[np.ndarray],
                   y: np.ndarray, level: float = 0.95, n_resamples: int = 2000,
                   seed: int = 0) -> tuple[float, float]:
    """Interval of the mean paired difference b − a over seeds when the *test clips* are
    resampled (seeds held fixed): the uncertainty that comes from the test set's size.

    ``probs_*`` are one (clips, classes) array per seed, ``thresholds_*`` the per-class
    thresholds each run tuned on validation, in the same seed order on both sides.
    """
    def counts(probs, thresholds):
        pred = probs >= np.asarray(thresholds)[None, :]
        t = y.astype(bool)
        return np.stack([(pred & t).sum(1), (pred & ~t).sum(1), (~pred & t).sum(1)], -1)

    ca = np.stack([counts(p, t) for p, t in zip(probs_a, thresholds_a)])  # (seeds, clips, 3)
    cb = np.stack([counts(p, t) for p, t in zip(probs_b, thresholds_b)])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), size=(n_resamples, len(y)))
    # How often each resample draws each clip: a resample's counts are then one integer
    # matrix product, without the (resamples, clips, 3) gather per seed (c[:, idx] at once
    # would be 240 MB of int64 for ten seeds of 500 clips). Integer sums, so the counts are
    # those of summing the drawn clips (tests/test_stats.py compares them).
    draws = np.zeros((n_resamples, len(y)), np.int64)
    np.add.at(draws, (np.arange(n_resamples)[:, None], idx), 1)

    def f1(c):  # (seeds, clips, 3) -> (seeds, resamples)
        s = np.stack([draws @ ci for ci in c])
        tp, fp, fn = s[..., 0], s[..., 1], s[..., 2]
        return np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)

    diff = np.mean(f1(cb) - f1(ca), axis=0)
    low, high = np.quantile(diff, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)
