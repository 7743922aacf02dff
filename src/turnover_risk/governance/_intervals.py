"""Intervals for shares estimated from a cluster sample: Korn-Graubard.

A share of an audit (observed rate, share flagged, TPR, FPR) is a ratio ``sum(a) / sum(b)``
over person-months, and the person-months come in clusters (units, or persons) that were
sampled together. :func:`korn_graubard` is the interval survey statisticians use for such a
share (Korn and Graubard 1998, "Confidence intervals for proportions with small expected
number of positive counts estimated from survey data", Survey Methodology 24; the US National
Center for Health Statistics' standard for its survey proportions): a Clopper-Pearson interval
at an *effective sample size* ``n* = p (1 - p) / var(p)``, with

* ``var(p)`` the linearised (Taylor) variance of the ratio over the clusters
  (:func:`ratio_variance`, the with-replacement estimator of survey software);
* ``n*`` scaled by ``(z / t_df)^2`` with ``df`` the clusters holding the share's denominator
  minus one (few clusters: a less certain variance, a wider interval);
* ``n*`` never above the number of persons behind the denominator: a person's months are
  repeated measures, and the audit does not claim more than a simple random sample of the
  group's persons would give (Korn and Graubard truncate ``n*`` at the sample size; the
  sample here is of persons). For a share of 0 or 1, whose variance estimate is 0, ``n*`` is
  that number of persons.
"""

from __future__ import annotations

import numpy as np

from turnover_risk import _dist

__all__ = ["clopper_pearson", "korn_graubard", "ratio_variance"]


def ratio_variance(a: np.ndarray, b: np.ndarray, n_clusters: int | None = None) -> float:
    """Linearised variance of ``sum(a) / sum(b)`` from per-cluster sums ``a`` and ``b``.

    ``n / (n - 1) * sum((a_c - r b_c)^2) / sum(b)^2`` over the ``n`` clusters of the sample
    (``n_clusters``: when clusters without a row of this share were left out of ``a``, ``b``).

    Examples
    --------
    >>> ratio_variance(np.array([1.0, 0, 3]), np.array([2.0, 2, 4]))  # 3/2 * 2 / 8**2
    0.046875
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = len(a) if n_clusters is None else int(n_clusters)
    total = b.sum()
    if n < 2 or total <= 0:
        return float("nan")
    r = a.sum() / total
    return float(n / (n - 1) * np.sum((a - r * b) ** 2) / total**2)


def clopper_pearson(x: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact binomial) interval of ``x`` successes in ``n``; real ``x``, ``n``.

    Examples
    --------
    >>> [round(v, 4) for v in clopper_pearson(0, 20)]
    [0.0, 0.1684]
    """
    alpha = 1 - level
    lo = float(_dist.beta_ppf(alpha / 2, x, n - x + 1)) if x > 0 else 0.0
    hi = float(_dist.beta_ppf(1 - alpha / 2, x + 1, n - x)) if x < n else 1.0
    return lo, hi


def korn_graubard(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_persons: int,
    n_clusters: int | None = None,
    level: float = 0.95,
) -> tuple[float, float]:
    """Korn-Graubard interval of the share ``sum(a) / sum(b)`` (see the module docstring).

    Parameters
    ----------
    a, b : array
        Per-cluster sums of the numerator and the denominator (``0 <= a <= b``).
    n_persons : int
        Persons behind the denominator: the effective sample size is at most this.
    n_clusters : int, optional
        Clusters of the whole sample, if ``a`` and ``b`` leave out clusters without a row
        of the share (default: ``len(a)``).
    level : float
        Confidence level.

    Returns
    -------
    (low, high) : tuple of float
        NaN when the denominator is 0.

    Examples
    --------
    Three units: 1 of 2, 0 of 2 and 3 of 4 person-months, from 8 persons. The share is 0.5,
    its linearised variance ``3/2 * (0 + 1 + 1) / 8^2 = 0.046875``, so ``n* = 0.25 / 0.046875
    = 5.33`` (under the 8 persons), times ``(1.96 / 4.30)^2`` for 3 units (t with 2 df):
    ``n* = 1.11``, and the Clopper-Pearson interval of 0.55 successes in 1.11:

    >>> [round(v, 4) for v in korn_graubard([1, 0, 3], [2, 2, 4], n_persons=8)]
    [0.0008, 0.9992]
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    total = b.sum()
    if total <= 0 or n_persons < 1:
        return float("nan"), float("nan")
    share = float(np.clip(a.sum() / total, 0.0, 1.0))
    var = ratio_variance(a, b, n_clusters)
    n_eff = float(n_persons)
    if 0 < share < 1 and np.isfinite(var) and var > 0:
        n_eff = min(share * (1 - share) / var, n_eff)
    df = max(int(np.count_nonzero(b > 0)) - 1, 1)
    z = _dist.norm_ppf((1 + level) / 2)
    n_eff *= (z / _dist.t_ppf((1 + level) / 2, df)) ** 2
    return clopper_pearson(share * n_eff, n_eff, level)
