"""Confidence intervals of the rates (private).

* shares (``exit_share``): Wilson score interval;
* event counts over average headcount (``separation``, ``hire``, ``bufdir``): exact Poisson
  (Garwood) interval on the count, scaled to the rate;
* the sick-leave day ratio: delta method for a ratio estimator with persons as clusters.
"""

from __future__ import annotations

import numpy as np

from turnover_risk import _dist


def _wilson(p: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a share ``p`` of ``n``; a share of 0 (1) has ``ci_low`` 0
    (``ci_high`` 1) exactly."""
    z = _dist.norm_ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    # exact at the edges: the bound is 0 (1) there, but float rounding leaves noise like 3e-17
    lo = np.where(p == 0, 0.0, np.clip(centre - half, 0, 1))
    hi = np.where(p == 1, 1.0, np.clip(centre + half, 0, 1))
    return lo, hi


def _poisson_scaled(
    count: np.ndarray, scale: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Garwood exact Poisson interval for ``count`` events, times ``scale`` (rate per event)."""
    a = 1 - confidence
    count = np.asarray(count, dtype=float)
    lo = np.where(count > 0, _dist.chi2_ppf(a / 2, 2 * count) / 2, 0.0)
    hi = _dist.chi2_ppf(1 - a / 2, 2 * (count + 1)) / 2
    with np.errstate(invalid="ignore"):  # a cell without a denominator: no interval (NaN)
        return lo * scale, hi * scale


def _ratio_interval(
    lost: np.ndarray,
    agreed: np.ndarray,
    lost_cluster: np.ndarray,
    agreed_cluster: np.ndarray,
    group_of_cluster: np.ndarray,
    n_clusters: np.ndarray,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio ``R = lost / agreed`` per group and its delta-method interval, persons as clusters.

    ``var(R) = n/(n-1) * sum_i (l_i - R d_i)^2 / D^2`` over the ``n`` clusters ``i`` of a group
    (``l_i``, ``d_i`` the cluster's lost and agreed days, ``D`` the group's agreed days); normal
    quantile, clipped to [0, 1]; NaN for a group with fewer than two clusters. Returns
    (R, low, high).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        R = lost / agreed
    ss = _ratio_ss(R, lost_cluster, agreed_cluster, group_of_cluster, len(lost))
    lo, hi = _ratio_bounds(R, ss, agreed, n_clusters, confidence)
    return R, lo, hi


def _ratio_ss(
    R: np.ndarray, lost_cluster: np.ndarray, agreed_cluster: np.ndarray, group_of_cluster: np.ndarray,
    n_groups: int,
) -> np.ndarray:  # fmt: skip
    """``sum_i (l_i - R d_i)^2`` per group over its clusters ``i`` (the ratio ``R`` given)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        resid2 = (lost_cluster - R[group_of_cluster] * agreed_cluster) ** 2
    return np.bincount(group_of_cluster, weights=resid2, minlength=n_groups)


def _ratio_bounds(
    R: np.ndarray, ss: np.ndarray, agreed: np.ndarray, n_clusters: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """The delta-method interval of ``R`` from the clusters' squared residuals ``ss``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        n = n_clusters
        var = np.where(n > 1, n / (n - 1) * ss / agreed**2, np.nan)
        half = _dist.norm_ppf(0.5 + confidence / 2) * np.sqrt(var)
        return np.clip(R - half, 0, 1), np.clip(R + half, 0, 1)
