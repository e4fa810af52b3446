"""Seed statistics: is the difference between two settings larger than seed noise?

Introduced in ``02_keras_reference.ipynb``. :func:`bootstrap_ci` and
:func:`seed_noise_verdict` check whether a difference in F1 between two settings, each
trained with several seeds, is larger than the spread that comes from the seeds alone;
:func:`compare` puts both in one row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

LARGER = "larger than seed noise"
WITHIN = "within seed noise"


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


def seed_noise_verdict(
    values_a: ArrayLike, values_b: ArrayLike, level: float = 0.95, seed: int = 0
) -> str:
    """Is the difference between two settings larger than the noise from random seeds?

    A rule of thumb, not a formal test: take the :func:`bootstrap_ci` of the difference of
    medians (b - a). If the interval excludes 0, the result is ``"larger than seed noise"``;
    otherwise it is ``"within seed noise"``.

    Parameters
    ----------
    values_a, values_b : array_like of float
        One value per seed for each setting (e.g. test micro F1); at least 2 each.
    level : float, default 0.95
        Confidence level of the interval.
    seed : int, default 0
        Seed of the bootstrap resampling.

    Returns
    -------
    str
        ``"larger than seed noise"`` or ``"within seed noise"``.

    Examples
    --------
    >>> a = [0.50, 0.52, 0.51, 0.49, 0.50]
    >>> seed_noise_verdict(a, [0.55, 0.56, 0.54, 0.57, 0.55])
    'larger than seed noise'
    >>> seed_noise_verdict(a, [0.51, 0.49, 0.50, 0.52, 0.50])
    'within seed noise'
    """
    for name, values in (("values_a", values_a), ("values_b", values_b)):
        # One value has no spread: its bootstrap interval would be a single point.
        if np.size(values) < 2:
            raise ValueError(f"{name} needs at least 2 values (one per seed)")
    _, low, high = bootstrap_ci(values_a, values_b, level=level, seed=seed)
    return LARGER if low > 0 or high < 0 else WITHIN


def compare(a, b, level: float = 0.95) -> dict:
    """Median F1 of two settings, the bootstrap CI of the median difference (b − a) and the
    verdict ("larger than seed noise" / "within seed noise")."""
    diff, lo, hi = bootstrap_ci(a, b, level=level)
    return {"n_a": len(a), "n_b": len(b), "median_a": float(np.median(a)),
            "median_b": float(np.median(b)), "diff": diff, "ci_low": lo, "ci_high": hi,
            "verdict": seed_noise_verdict(a, b, level=level)}
