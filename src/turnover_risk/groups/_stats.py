"""Statistics behind :func:`turnover_risk.flag_groups`: small, pure functions tested against
hand computations.

Exact (Garwood) Poisson limits of an observed/expected ratio, normal-approximation funnel limits
(Spiegelhalter 2005), Benjamini–Hochberg q-values, the over-dispersion of z-scores across groups,
and the Poisson-binomial distribution of a group's number of leavers given its members' risks
(the exact mid-p test of retrospective mode, the prediction interval of prospective mode mixed
over bootstrap refits). The public functions are re-exported by :mod:`turnover_risk.groups`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from turnover_risk import _dist

ArrayLike = Any
"""Anything ``numpy.asarray`` accepts."""

FUNNEL_LEVELS: tuple[float, float] = (0.95, 0.998)
"""Funnel-plot limits (Spiegelhalter 2005): about 2 and 3 standard errors."""

WINSOR = 0.10
"""Share of z-scores winsorised at each end before estimating over-dispersion."""


def poisson_ratio_ci(
    observed: ArrayLike, expected: ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence limits for the ratio of an observed count to its expectation.

    ``low = chi2.ppf(a/2, 2 O) / 2 / E`` (0 when ``O = 0``) and
    ``high = chi2.ppf(1 - a/2, 2 (O + 1)) / 2 / E`` with ``a = 1 - level``. The limits treat
    ``O`` as Poisson; when risks are not small (a 12-month exit risk of 20 %), the count is
    Poisson-binomial with a smaller variance and these limits are conservative.

    Parameters
    ----------
    observed, expected : array-like
        Counts ``O >= 0`` and expectations ``E > 0``.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    (ndarray, ndarray)
        Lower and upper limits of ``O / E``.

    Examples
    --------
    >>> lo, hi = poisson_ratio_ci([5], [2.5])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.6494, 4.6673)
    """
    _check_level(level)
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    a = 1.0 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(o > 0, _dist.chi2_ppf(a / 2, 2 * np.where(o > 0, o, 1.0)) / 2, 0.0)
        high = _dist.chi2_ppf(1 - a / 2, 2 * (o + 1)) / 2
        return low / e, high / e


def funnel_limits(
    precision: ArrayLike,
    level: float = 0.95,
    *,
    target: float = 1.0,
    phi: float = 1.0,
    tau2: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Normal-approximation funnel limits around ``target`` (Spiegelhalter 2005).

    ``target -/+ z * sqrt(phi / precision + tau2)`` with ``z`` the ``(1 + level) / 2`` normal
    quantile; ``precision = 1 / s^2`` is the inverse null variance of the indicator. For an O/E
    ratio with expected count ``E`` and null variance ``V`` of ``O``, ``precision = E^2 / V``
    (``= E`` for a Poisson count). ``phi`` inflates the variance multiplicatively, ``tau2`` adds a
    between-group variance (additive random effects); use one or the other.

    Examples
    --------
    >>> lo, hi = funnel_limits([4.0], 0.95)
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.02, 1.98)
    """
    _check_level(level)
    prec = np.asarray(precision, dtype=float)
    z = _dist.norm_ppf((1 + level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * np.sqrt(phi / prec + tau2)
    return target - half, target + half


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN stays NaN and is not counted.

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the ``m`` non-missing p-values sorted
    ascending. Rejecting ``q < alpha`` controls the false-discovery rate at ``alpha``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, float("nan")]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise ValueError("p_values must lie in [0, 1].")
    ps = p[ok]
    order = np.argsort(ps, kind="stable")
    ranked = ps[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    q = np.empty(m)
    q[order] = q_sorted
    out[ok] = q
    return out


def estimate_overdispersion(
    z: ArrayLike, precision: ArrayLike | None = None, *, winsor: float = WINSOR
) -> dict[str, float]:
    """Over-dispersion of z-scores across groups (Spiegelhalter 2005, Qual Saf Health Care).

    The z-scores are winsorised: values below the ``winsor`` quantile (numpy's default linear
    interpolation) are set to it, values above the ``1 - winsor`` quantile likewise. Then

    * multiplicative factor ``phi = mean(z_w^2)``; without over-dispersion ``I * phi`` is roughly
      chi-squared with ``I`` degrees of freedom (``I`` groups), which gives ``p_value``;
    * additive between-group variance (DerSimonian–Laird form with the winsorised statistic),
      when ``precision`` (``w_i = 1 / s_i^2``) is given:
      ``tau2 = max(0, (I phi - (I - 1)) / (sum w - sum w^2 / sum w))``.

    Returns
    -------
    dict
        ``n_groups``, ``phi``, ``statistic`` (``I * phi``), ``p_value``, ``tau2`` (NaN without
        ``precision``).

    Examples
    --------
    >>> d = estimate_overdispersion([0.0, 1.0, -1.0, 2.0, -2.0], winsor=0.0)
    >>> d["phi"], d["statistic"]
    (2.0, 10.0)
    """
    zz = np.asarray(z, dtype=float)
    keep = ~np.isnan(zz)
    zz = zz[keep]
    n = zz.size
    if not 0 <= winsor < 0.5:
        raise ValueError(f"winsor={winsor} must lie in [0, 0.5).")
    if n == 0:
        return {
            "n_groups": 0,
            "phi": np.nan,
            "statistic": np.nan,
            "p_value": np.nan,
            "tau2": np.nan,
        }
    lo, hi = np.quantile(zz, [winsor, 1 - winsor])
    zw = np.clip(zz, lo, hi)
    phi = float(np.mean(zw**2))
    statistic = n * phi
    tau2 = np.nan
    if precision is not None:
        w = np.asarray(precision, dtype=float)[keep]
        denom = w.sum() - (w**2).sum() / w.sum()
        tau2 = float(max(0.0, (statistic - (n - 1)) / denom)) if denom > 0 else 0.0
    return {
        "n_groups": int(n),
        "phi": phi,
        "statistic": float(statistic),
        "p_value": float(_dist.chi2_sf(statistic, n)),
        "tau2": tau2,
    }


def _poisson_binomial_pmf(p: np.ndarray) -> np.ndarray:
    """PMF of the number of successes for rows of independent Bernoulli probabilities.

    ``p`` has shape (B, n); returns shape (B, n + 1). Exact dynamic programming, O(B n^2).
    """
    b, n = p.shape
    pmf = np.zeros((b, n + 1))
    pmf[:, 0] = 1.0
    for j in range(n):
        pj = p[:, j : j + 1]
        pmf[:, 1 : j + 2] = pmf[:, 1 : j + 2] * (1 - pj) + pmf[:, : j + 1] * pj
        pmf[:, 0] *= 1 - p[:, j]
    return pmf


def _poisson_binomial_p_value(p: np.ndarray, observed: int) -> tuple[float, float]:
    """Two-sided exact mid-p value of a count that is Poisson-binomial with chances ``p``.

    ``min(1, 2 min(P(X < O) + P(X = O) / 2, P(X > O) + P(X = O) / 2))``. The mid-p value is
    close to uniform under the null even for small expected counts (the plain exact p-value is
    so conservative there that z-scores shrink and over-dispersion goes unseen). Normal
    approximation above 2000 persons. Returns the p-value and the side (+1 when the upper tail
    is the smaller one, i.e. more leavers than expected, else -1).
    """
    n = p.size
    if n <= 2000:
        pmf = _poisson_binomial_pmf(p[None, :])[0]
        below = pmf[:observed].sum()
        at = pmf[observed] if observed <= n else 0.0
        lower = below + at / 2
        upper = max(0.0, 1.0 - below - at) + at / 2
    else:
        mu, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
        lower = _dist.norm_cdf((observed - mu) / sd)
        upper = _dist.norm_sf((observed - mu) / sd)
    return float(min(1.0, 2 * min(lower, upper))), (1.0 if upper < lower else -1.0)


def _mixture_count_interval(p: np.ndarray, level: float) -> tuple[float, float]:
    """Equal-tailed interval of a count that is Poisson-binomial given each row of ``p``,
    mixed uniformly over the rows (model uncertainty x outcome uncertainty)."""
    a = (1 - level) / 2
    n = p.shape[1]
    if n <= 2000:
        cdf = np.cumsum(_poisson_binomial_pmf(p).mean(axis=0))
    else:  # normal approximation with continuity correction; excellent at this size
        mu = p.sum(axis=1)[:, None]
        sd = np.sqrt((p * (1 - p)).sum(axis=1))[:, None]
        k = np.arange(n + 1)[None, :]
        cdf = _dist.norm_cdf((k + 0.5 - mu) / np.where(sd > 0, sd, 1e-12)).mean(axis=0)
    low = int(np.searchsorted(cdf, a - 1e-12))
    high = int(np.searchsorted(cdf, 1 - a - 1e-12))
    return float(low), float(min(high, n))


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} must lie strictly between 0 and 1, e.g. 0.95.")
