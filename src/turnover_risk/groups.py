"""Which staff groups carry elevated turnover risk, how sure we are, and what the model says
would go with a change of a lever.

Two questions, two modes of :func:`flag_groups`:

* **prospective** (default) — *who is likely to leave in the coming horizon?* One row per person
  in the latest period; a group's expected leavers are the sum of its members' predicted risks.
  Model uncertainty comes from refitting ``sklearn.base.clone(model)`` on bootstrap samples of
  *persons* (all of a person's labelled rows together); outcome uncertainty from the
  Poisson-binomial distribution of the number of leavers given the risks; both go into a
  prediction interval of how many will leave. The flag asks whether the group's predicted exit
  share is credibly (beyond model uncertainty, Benjamini–Hochberg across groups) more than a
  ``margin`` (default 1.25 times) above or below the reference population's (all persons of the
  period).
* **retrospective** — *who lost more staff than their case mix predicts?* One period whose
  outcomes are known; the model is the case-mix adjustment (indirect standardisation): observed
  leavers ``O`` against expected ``E = sum p``, the ratio ``O/E`` with exact Poisson (Garwood)
  limits, an exact (Poisson-binomial mid-p) test against the model's own distribution of the
  count, over-dispersion estimated and applied (Spiegelhalter 2005), funnel limits at 95 % and
  99.8 %, p- and BH q-values.

:func:`what_if` changes lever features (absolute values, deltas, caps or functions) for the
rows you choose and reports each group's predicted exit share before and after. It describes the
model's *association*, not a proven effect of the change.

Every table honours ``min_group_size`` through :func:`turnover_risk.privacy.suppress_small_groups`,
and the drivers of suppressed groups are never computed into the output.

References
----------
Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Stat Med 24:1185.
Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Qual Saf Health Care
14:347. Jones HE, Ohlssen DI, Spiegelhalter DJ (2008). Use of the false discovery rate when
comparing multiple health care providers. J Clin Epidemiol 61:232. Benjamini Y, Hochberg Y (1995).
Controlling the false discovery rate. J R Stat Soc B 57:289.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from turnover_risk._spec import ATTRS_KEY, PanelSpec, panel_spec
from turnover_risk._warnings import TurnoverRiskWarning
from turnover_risk.privacy import (
    DEFAULT_MIN_GROUP_SIZE,
    check_min_group_size,
    suppress_small_groups,
)

__all__ = [
    "ASSOCIATION_NOTE",
    "FLAGS",
    "FUNNEL_LEVELS",
    "FlagResult",
    "WhatIfResult",
    "benjamini_hochberg",
    "driver_text",
    "estimate_overdispersion",
    "feature_label",
    "flag_groups",
    "funnel_limits",
    "poisson_ratio_ci",
    "what_if",
]

ArrayLike = Any
"""Anything ``numpy.asarray`` accepts."""

FLAGS: tuple[str, ...] = ("elevated", "as expected", "low", "suppressed", "not assessed")
"""Values of the ``flag`` column. ``not assessed``: no test was possible (prospective mode with
``n_boot=0``, or a group whose expected count has zero variance)."""

FUNNEL_LEVELS: tuple[float, float] = (0.95, 0.998)
"""Funnel-plot limits (Spiegelhalter 2005): about 2 and 3 standard errors."""

MODES = ("prospective", "retrospective")
OVERDISPERSION = ("auto", "multiplicative", "additive", "none")
MAX_CENSORED_SHARE = 0.10
"""Retrospective default period: the latest one with at most this share of labels missing
(in a panel of voluntary exits, competing exits such as retirement are censored)."""
WINSOR = 0.10
"""Share of z-scores winsorised at each end before estimating over-dispersion."""

ASSOCIATION_NOTE = (
    "What-if results show the model's association between the changed features and predicted "
    "risk, holding everything else fixed. They are not a proven effect of the change: staff who "
    "get more supervision or lower caseloads may differ in ways the model does not see."
)

_GROUP_NOUNS = {
    "unit_id": "units",
    "unit": "units",
    "municipality": "municipalities",
    "service": "services",
    "team": "teams",
}


# ---------------------------------------------------------------------------------------------
# Statistics (small, pure functions; tested against hand computations)
# ---------------------------------------------------------------------------------------------


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
        low = np.where(o > 0, stats.chi2.ppf(a / 2, 2 * np.where(o > 0, o, 1.0)) / 2, 0.0)
        high = stats.chi2.ppf(1 - a / 2, 2 * (o + 1)) / 2
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
    z = stats.norm.ppf((1 + level) / 2)
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
        "p_value": float(stats.chi2.sf(statistic, n)),
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
        lower = stats.norm.cdf((observed - mu) / sd)
        upper = stats.norm.sf((observed - mu) / sd)
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
        cdf = stats.norm.cdf((k + 0.5 - mu) / np.where(sd > 0, sd, 1e-12)).mean(axis=0)
    low = int(np.searchsorted(cdf, a - 1e-12))
    high = int(np.searchsorted(cdf, 1 - a - 1e-12))
    return float(low), float(min(high, n))


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class FlagResult:
    """Groups flagged by :func:`flag_groups`.

    Attributes
    ----------
    table : DataFrame
        One row per group (see :func:`flag_groups` for the columns of each mode). Suppressed
        groups keep their group key and ``n_persons`` only.
    mode : str
        ``"prospective"`` or ``"retrospective"``.
    by : tuple of str
        Group columns.
    period : Timestamp or None
        The period the rows come from.
    alpha : float
        Significance / false-discovery level.
    fdr : bool
        Whether flags use Benjamini–Hochberg q-values (else raw p-values).
    min_group_size : int
        Minimum persons per shown group.
    reference_share : float
        Prospective: mean predicted risk over all persons of the period. Retrospective: total
        expected leavers over all labelled persons of the period.
    overdispersion : dict
        Retrospective: ``requested``, ``applied`` (``"none"``, ``"multiplicative"`` or
        ``"additive"``), ``phi``, ``tau2``, ``statistic``, ``p_value``, ``n_groups``,
        ``kappa`` (pooled ``V / E``, used for the funnel curves). Prospective: ``{}``.
    drivers : DataFrame
        Long table of the top drivers of each flagged group: group column(s), ``rank``,
        ``feature``, ``label``, ``difference`` (log-odds vs. the population), ``se``, ``text``.
    reason : str or None
        Why no group could be assessed, when that is the case.
    info : dict
        Counts behind the result (rows used, rows dropped as censored, refits, ...).
    """

    table: pd.DataFrame
    mode: str
    by: tuple[str, ...]
    period: pd.Timestamp | None
    alpha: float
    fdr: bool
    min_group_size: int
    reference_share: float
    overdispersion: dict = field(default_factory=dict)
    drivers: pd.DataFrame = field(default_factory=pd.DataFrame)
    reason: str | None = None
    info: dict = field(default_factory=dict)

    @property
    def flagged(self) -> pd.DataFrame:
        """Rows flagged ``elevated`` or ``low``."""
        return self.table[self.table["flag"].isin(["elevated", "low"])]

    @property
    def empty(self) -> bool:
        """True when no group could be assessed (see :attr:`reason`)."""
        return self.reason is not None

    def __repr__(self) -> str:
        counts = self.table["flag"].value_counts().to_dict() if len(self.table) else {}
        period = None if self.period is None else str(self.period.date())
        text = (
            f"FlagResult(mode={self.mode!r}, by={list(self.by)}, period={period}, "
            f"groups={len(self.table)}, flags={counts}"
        )
        if self.overdispersion:
            text += f", overdispersion={self.overdispersion.get('applied')!r}"
        if self.reason:
            text += f", reason={self.reason!r}"
        return text + ")"

    def plot_funnel(self, ax: Any = None, *, label_flagged: bool = True):
        """Funnel plot of the groups that are shown (suppressed groups are left out).

        Retrospective: ``O/E`` against expected leavers, with 95 % and 99.8 % limits around 1
        (over-dispersion as applied). Prospective: predicted exit share against persons, with
        the model-uncertainty interval of each group (grey bars), the reference share, the
        margin lines (``reference x margin`` and ``/ margin``), and binomial 95 % and 99.8 %
        limits around the reference — where the *observed* share of a group of that size with
        the reference risk would fall by chance alone.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        shown = self.table[~self.table["suppressed"]]
        colours = {"elevated": "#c0392b", "low": "#2874a6"}
        if self.mode == "retrospective":
            x = shown["expected"].to_numpy(dtype=float)
            y = shown["oe_ratio"].to_numpy(dtype=float)
            xlabel, ylabel, target = "expected leavers", "observed / expected leavers", 1.0
        else:
            x = shown["n_persons"].to_numpy(dtype=float)
            y = shown["exit_share"].to_numpy(dtype=float)
            xlabel, ylabel = "persons", "predicted exit share"
            target = self.reference_share
            margin = self.info.get("margin", 1.0)
            err_lo = y - shown["ratio_ci_low"].to_numpy(dtype=float) * target
            err_hi = shown["ratio_ci_high"].to_numpy(dtype=float) * target - y
            if np.isfinite(err_lo).any():
                ax.errorbar(
                    x,
                    y,
                    yerr=np.vstack([err_lo, err_hi]),
                    fmt="none",
                    ecolor="0.75",
                    lw=1,
                    zorder=2,
                )
            if margin > 1 and len(shown):
                for m in (margin, 1 / margin):
                    ax.axhline(target * m, color="0.55", lw=0.8, ls="-.")
        if len(shown) and np.isfinite(x).any():
            xmax = np.nanmax(x) * 1.08
            xmin = max(np.nanmin(x) * 0.8, 1e-3)
            grid = np.linspace(xmin, xmax, 200)
            for level, style in zip(FUNNEL_LEVELS, ("--", ":"), strict=True):
                lo, hi = self._funnel_curve(grid, level)
                ax.plot(grid, lo, style, color="0.35", lw=1)
                ax.plot(grid, hi, style, color="0.35", lw=1, label=f"{level * 100:g} % limits")
            ax.axhline(target, color="0.2", lw=1)
            ax.scatter(
                x,
                y,
                c=[colours.get(f, "0.45") for f in shown["flag"]],
                s=28,
                zorder=3,
                edgecolors="white",
                linewidths=0.5,
            )
            if label_flagged:
                for xi, yi, (_, row) in zip(x, y, shown.iterrows(), strict=True):
                    if row["flag"] in ("elevated", "low"):
                        key = " / ".join(str(row[c]) for c in self.by)
                        ax.annotate(
                            key, (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=8
                        )
            ax.set_xlim(0, xmax)
            ax.legend(loc="upper right", fontsize=8, frameon=False)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        return ax

    def _funnel_curve(self, grid: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        if self.mode == "retrospective":
            od = self.overdispersion
            kappa = od.get("kappa", 1.0)
            applied = od.get("applied", "none")
            phi = od["phi"] if applied == "multiplicative" else 1.0
            tau2 = od["tau2"] if applied == "additive" else 0.0
            lo, hi = funnel_limits(grid / kappa, level, phi=phi, tau2=tau2)
            return np.clip(lo, 0, None), hi
        p = self.reference_share
        lo, hi = funnel_limits(grid / (p * (1 - p)), level, target=p)
        return np.clip(lo, 0, None), np.clip(hi, None, 1)


@dataclass(frozen=True, eq=False, repr=False)
class WhatIfResult:
    """Predicted exit shares before and after a change, per group (:func:`what_if`).

    Attributes
    ----------
    table : DataFrame
        Group column(s), ``n_persons``, ``n_changed`` (persons whose features changed),
        ``exit_share_before``, ``exit_share_after``, ``difference`` (after minus before,
        share points as a fraction), ``relative_change``, ``expected_leavers_before``,
        ``expected_leavers_after``, ``suppressed``.
    overall : dict
        The same figures for all persons of the period.
    changes : dict
        Readable description of each change.
    period : Timestamp
    note : str
        :data:`ASSOCIATION_NOTE` — this is association, not a proven effect.
    """

    table: pd.DataFrame
    overall: dict
    changes: dict
    period: pd.Timestamp
    by: tuple[str, ...]
    note: str = ASSOCIATION_NOTE

    def __repr__(self) -> str:
        return (
            f"WhatIfResult(changes={self.changes}, period={self.period.date()}, "
            f"exit_share {self.overall['exit_share_before']:.3f} -> "
            f"{self.overall['exit_share_after']:.3f}; groups={len(self.table)})\n"
            f"Note: {self.note}"
        )

    def plot(self, ax: Any = None):
        """Dot plot: each shown group's predicted exit share before (grey) and after (blue).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        shown = self.table[~self.table["suppressed"]].sort_values("exit_share_before")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.22 * max(len(shown), 8) + 1))
        pos = np.arange(len(shown))
        labels = [
            " / ".join(str(v) for v in row) for row in shown[list(self.by)].itertuples(index=False)
        ]
        ax.hlines(pos, shown["exit_share_before"], shown["exit_share_after"], color="0.7")
        ax.scatter(shown["exit_share_before"], pos, color="0.45", s=18, label="before", zorder=3)
        ax.scatter(shown["exit_share_after"], pos, color="#2874a6", s=18, label="after", zorder=3)
        ax.set_yticks(pos)
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_xlabel("predicted exit share (model association, not a proven effect)")
        ax.legend(loc="lower right", fontsize=8, frameon=False)
        return ax


# ---------------------------------------------------------------------------------------------
# flag_groups
# ---------------------------------------------------------------------------------------------


def flag_groups(
    model: Any,
    panel: pd.DataFrame,
    *,
    by: str | Sequence[str] = "unit_id",
    period: Any = None,
    mode: Literal["prospective", "retrospective"] = "prospective",
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    alpha: float = 0.05,
    fdr: bool = True,
    overdispersion: Literal["auto", "multiplicative", "additive", "none"] = "auto",
    n_boot: int = 10,
    margin: float = 1.25,
    n_drivers: int = 3,
    random_state: int | np.random.Generator | None = None,
    engine: str = "pandas",
) -> FlagResult:
    """Flag groups (units, municipalities, ...) whose turnover risk stands out.

    Parameters
    ----------
    model : TurnoverRiskModel or fitted classifier
        A fitted model with ``predict_proba``. Prospective mode refits ``sklearn.base.clone``
        copies of it on bootstrap samples of the panel's labelled rows, so pass the panel the
        model was trained on (plus the current period).
    panel : DataFrame
        A panel from :func:`turnover_risk.build_panel` (it carries its column roles).
    by : str or list of str
        Group column(s) of the panel, e.g. ``"unit_id"`` or ``["municipality", "unit_id"]``.
    period : date-like, optional
        The period to assess. Prospective default: the latest period of the panel (one row per
        person). Retrospective default: the latest period whose horizon has fully elapsed,
        taken as the latest period with at most 10 % of its labels missing
        (:data:`MAX_CENSORED_SHARE`; competing exits such as retirement are censored in a panel
        of voluntary exits, so a few missing labels remain in every period). If no period
        qualifies, the best-labelled one is used with a warning. Censored rows of the chosen
        period are dropped and counted in ``info``.
    mode : {"prospective", "retrospective"}
        See the module notes.
    min_group_size : int
        Groups with fewer persons are suppressed everywhere (values, flags and drivers).
    alpha : float
        Level of the tests and of the intervals (``1 - alpha``).
    fdr : bool
        Flag on Benjamini–Hochberg q-values (default) instead of raw p-values.
    overdispersion : {"auto", "multiplicative", "additive", "none"}
        Retrospective mode only. ``"auto"`` estimates ``phi`` and applies the additive
        random-effects ``tau2`` when the over-dispersion test is significant at 5 % (group sizes
        differ a lot, where the additive model suits better than a multiplicative factor), else
        none. ``"multiplicative"`` applies ``max(phi, 1)``; ``"additive"`` applies ``tau2``.
    n_boot : int
        Prospective mode: bootstrap refits for model uncertainty (default 10; the test uses a
        t-distribution with ``n_boot - 1`` degrees of freedom, so few refits make it cautious,
        not optimistic). 0 skips the refits: the prediction interval then reflects outcome
        uncertainty only and the flag is ``"not assessed"``.
    margin : float
        Prospective mode: how far from the reference a group's predicted exit share must
        credibly be to count — ``elevated`` when the ratio is significantly above ``margin``,
        ``low`` when significantly below ``1 / margin``. Default 1.25 (a quarter more or less
        than the reference; a practical-importance threshold chosen by us, not taken from a
        source — set it to what matters locally). With ``margin=1`` any difference counts,
        which with a large training set flags almost every group.
    n_drivers : int
        Top drivers per flagged group (0 to skip); computed with
        :func:`turnover_risk.explain.group_drivers`.
    random_state : int, Generator or None
        Seed of the bootstrap and of the driver sample.
    engine : {"pandas", "dask"}
        ``"dask"`` (or a Dask panel from ``build_panel(..., engine="dask")``): see
        :func:`turnover_risk.distributed.flag_groups`; the result is identical.

    Returns
    -------
    FlagResult
        ``.table`` has, besides the group column(s) and ``n_persons``:

        *prospective*: ``expected_leavers`` (sum of predicted risks), ``exit_share`` (predicted),
        ``ratio`` (to the reference share), ``ratio_ci_low``/``ratio_ci_high`` (model
        uncertainty, t-interval on the log ratio over the refits), ``log_ratio_se`` (standard
        deviation of the log ratio over the refits), ``leavers_pi_low``/
        ``leavers_pi_high`` and ``exit_share_pi_low``/``exit_share_pi_high`` (prediction
        interval of the number/share who will leave: model and outcome uncertainty),
        ``z``, ``p_value``, ``q_value``, ``flag``, ``drivers``, ``suppressed``;

        *retrospective*: ``observed``, ``expected``, ``oe_ratio``, ``oe_ci_low``/``oe_ci_high``
        (exact Poisson), ``z`` (from the exact mid-p value, see Notes), ``z_adjusted``
        (over-dispersion applied), ``p_value``, ``q_value``, ``limit_95_low``/``limit_95_high``,
        ``limit_998_low``/``limit_998_high`` (funnel limits of ``O/E`` at the group's expected
        count), ``flag``, ``drivers``, ``suppressed``.

    Raises
    ------
    ValueError
        Unknown mode/overdispersion, a ``by`` column that does not exist, a period not in the
        panel, no labelled periods in retrospective mode, or no labelled rows to refit on.

    Notes
    -----
    Prospective test: the group's ratio ``R`` of predicted exit share to the reference share
    (mean predicted risk of all persons of the period) is compared with the margin ``m`` on the
    log scale, ``se`` being the standard deviation of ``log R_b`` over the refits ``b`` (each
    refit recomputes the reference, so their correlation is kept). For ``R >= 1``:
    ``z = (log R - log m) / se`` and ``p = min(1, 2 P(T > z))``; for ``R < 1``:
    ``z = (log R + log m) / se`` and ``p = min(1, 2 P(T < z))``, ``T`` t-distributed with
    ``n_boot - 1`` degrees of freedom; then BH q-values across the shown groups. The flag is
    about the *predicted risk* (model uncertainty); how many will actually leave is the
    prediction interval, which mixes the Poisson-binomial count over the refits (exact up to
    2000 persons per group, normal approximation above). The ratio interval is
    ``R exp(-/+ t se)``.

    Retrospective test: under the model, the number of leavers ``O`` of a group is
    Poisson-binomial with the members' predicted risks (mean ``E``, variance
    ``V = sum p (1 - p)``). Its exact two-sided *mid-p* value (normal approximation above 2000
    persons) is turned into the equivalent z-score ``z`` (sign: the smaller tail), which behaves
    like ``(O - E) / sqrt(V)`` for large counts but stays honest for the expected counts of 1–3
    leavers typical of a unit; the plain normal z-score gave false flags there. Over-dispersion
    (:func:`estimate_overdispersion`) is estimated from these z-scores on the groups that are
    shown, with ``s^2 = V / E^2`` the null variance of ``O/E``; then
    ``z_adjusted = z / sqrt(phi)`` (multiplicative) or ``z * s / sqrt(s^2 + tau2)`` (additive),
    and ``p_value`` is the exact mid-p value when nothing is applied, else two-sided normal on
    ``z_adjusted``. ``elevated`` when ``q < alpha`` and ``O > E``, ``low`` when ``q < alpha`` and
    ``O < E``. The funnel limits are the normal-approximation limits ``1 -/+ z_level
    sqrt(phi s^2 + tau2)`` at each group's own ``s``; the exact test can differ from them for
    very small expected counts. The drivers explain the group's *expected* risk (its case mix as
    the model sees it), not the excess the model did not predict.

    Examples
    --------
    >>> import turnover_risk as tr  # doctest: +SKIP
    >>> flags = tr.flag_groups(model, panel, by="unit_id")  # doctest: +SKIP
    >>> flags.table[["unit_id", "exit_share", "ratio", "flag", "drivers"]]  # doctest: +SKIP
    """
    from turnover_risk.distributed import uses_dask

    if uses_dask(engine, panel):
        from turnover_risk.distributed import flag_groups as _flag_groups_dask

        return _flag_groups_dask(
            model,
            panel,
            by=by,
            period=period,
            mode=mode,
            min_group_size=min_group_size,
            alpha=alpha,
            fdr=fdr,
            overdispersion=overdispersion,
            n_boot=n_boot,
            margin=margin,
            n_drivers=n_drivers,
            random_state=random_state,
        )
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not known; choose one of: {', '.join(MODES)}.")
    if overdispersion not in OVERDISPERSION:
        raise ValueError(
            f"overdispersion={overdispersion!r} is not known; choose one of: "
            f"{', '.join(OVERDISPERSION)}."
        )
    _check_alpha(alpha)
    min_group_size = check_min_group_size(min_group_size)
    n_boot = _check_nonneg_int(n_boot, "n_boot")
    n_drivers = _check_nonneg_int(n_drivers, "n_drivers")
    if n_boot == 1:
        raise ValueError("n_boot=1 cannot estimate model uncertainty; use 0 or at least 2.")
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not margin >= 1:
        raise ValueError(
            f"margin={margin!r} must be a number >= 1 (a ratio to the reference share, e.g. "
            "1.25 = a quarter above it; 1 tests any difference)."
        )
    spec = panel_spec(panel)
    by_cols = _check_by(panel, by)
    rng = np.random.default_rng(random_state)
    if mode == "prospective":
        return _flag_prospective(
            model,
            panel,
            spec,
            by_cols,
            period,
            min_group_size,
            alpha,
            fdr,
            n_boot,
            margin,
            n_drivers,
            rng,
        )
    return _flag_retrospective(
        model,
        panel,
        spec,
        by_cols,
        period,
        min_group_size,
        alpha,
        fdr,
        overdispersion,
        n_drivers,
        rng,
    )


def _shown_rows(n_persons: np.ndarray, codes: np.ndarray, min_group_size: int) -> np.ndarray:
    """Rows whose group has at least ``min_group_size`` persons (is shown, not suppressed)."""
    return np.asarray(n_persons, dtype=float)[codes] >= min_group_size


def _flag_prospective(
    model, panel, spec, by_cols, period, min_group_size, alpha, fdr, n_boot, margin, n_drivers, rng
) -> FlagResult:
    period_ts = _latest_or_given_period(panel, spec, period)
    rows = _with_spec(panel.loc[panel[spec.period_col] == period_ts], panel)
    rows = _one_row_per_person(rows, spec)
    p0 = _predict(model, rows, spec)
    codes, keys = _group_codes(rows, by_cols)
    n_groups = len(keys)
    n_rows = np.bincount(codes, minlength=n_groups)
    n_persons = _persons_per_group(rows, spec, codes, n_groups)
    expected = np.bincount(codes, weights=p0, minlength=n_groups)
    # the reference population is the persons in groups that are shown: a reference taken over
    # every row would let anyone recover a suppressed group's total by subtraction
    shown = _shown_rows(n_persons, codes, min_group_size)
    reference = float(p0[shown].mean()) if shown.any() else float("nan")
    share = expected / n_rows
    ratio = share / reference

    info = {"rows": int(shown.sum()), "n_boot": n_boot}
    if n_boot:
        boot = _bootstrap_predictions(model, panel, spec, rows, n_boot, rng)
        info["refits"] = len(boot)
        draws = np.stack(boot)
        expected_b = np.stack([np.bincount(codes, weights=pb, minlength=n_groups) for pb in boot])
        with np.errstate(divide="ignore", invalid="ignore"):
            log_rb = np.log(expected_b / n_rows[None, :] / draws[:, shown].mean(axis=1)[:, None])
        se = log_rb.std(axis=0, ddof=1)
        df = len(boot) - 1
        t_crit = stats.t.ppf(1 - alpha / 2, df)
        ratio_lo, ratio_hi = ratio * np.exp(-t_crit * se), ratio * np.exp(t_crit * se)
        log_r, log_m = np.log(ratio), np.log(margin)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(log_r >= 0, (log_r - log_m) / se, (log_r + log_m) / se)
        p_val = np.minimum(1.0, 2 * np.where(log_r >= 0, stats.t.sf(z, df), stats.t.cdf(z, df)))
    else:
        draws = p0[None, :]
        se = z = p_val = ratio_lo = ratio_hi = np.full(n_groups, np.nan)
    pi_lo = np.empty(n_groups)
    pi_hi = np.empty(n_groups)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(n_rows)])
    for g in range(n_groups):
        members = order[bounds[g] : bounds[g + 1]]
        pi_lo[g], pi_hi[g] = _mixture_count_interval(draws[:, members], 1 - alpha)

    table = keys.copy()
    table["n_persons"] = n_persons
    table["expected_leavers"] = expected
    table["exit_share"] = share
    table["ratio"] = ratio
    table["ratio_ci_low"] = ratio_lo
    table["ratio_ci_high"] = ratio_hi
    table["log_ratio_se"] = se
    table["leavers_pi_low"] = pi_lo
    table["leavers_pi_high"] = pi_hi
    table["exit_share_pi_low"] = pi_lo / n_rows
    table["exit_share_pi_high"] = pi_hi / n_rows
    table["z"] = z
    table["p_value"] = p_val
    direction = np.sign(ratio - 1)
    info["margin"] = margin
    return _finish(
        table,
        model,
        rows,
        spec,
        by_cols,
        period_ts,
        "prospective",
        alpha,
        fdr,
        min_group_size,
        reference,
        {},
        direction,
        n_drivers,
        rng,
        info,
    )


def _flag_retrospective(
    model, panel, spec, by_cols, period, min_group_size, alpha, fdr, overdispersion, n_drivers, rng
) -> FlagResult:
    label = spec.label_col
    if label not in panel.columns:
        raise ValueError(
            f"the panel has no label column {label!r}; retrospective mode needs known outcomes."
        )
    period_ts = _labelled_period(panel, spec, period)
    rows_all = panel.loc[panel[spec.period_col] == period_ts]
    known = rows_all[label].notna()
    rows = _with_spec(rows_all.loc[known], panel)
    rows = _one_row_per_person(rows, spec)
    y = rows[label].to_numpy(dtype=float)
    p0 = _predict(model, rows, spec)
    codes, keys = _group_codes(rows, by_cols)
    n_groups = len(keys)
    n_persons = _persons_per_group(rows, spec, codes, n_groups)
    observed = np.bincount(codes, weights=y, minlength=n_groups)
    expected = np.bincount(codes, weights=p0, minlength=n_groups)
    variance = np.bincount(codes, weights=p0 * (1 - p0), minlength=n_groups)
    shown = _shown_rows(n_persons, codes, min_group_size)  # see _flag_prospective
    reference = float(p0[shown].mean()) if shown.any() else float("nan")
    info = {"rows": int(shown.sum()), "rows_censored_dropped": int((~known).sum())}

    testable = (n_persons >= min_group_size) & (variance > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        oe = observed / expected
        precision = expected**2 / variance
    oe_lo, oe_hi = poisson_ratio_ci(observed, expected, 1 - alpha)
    p_exact = np.full(n_groups, np.nan)
    side = np.zeros(n_groups)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_groups))])
    for g in np.flatnonzero(testable):
        members = order[bounds[g] : bounds[g + 1]]
        p_exact[g], side[g] = _poisson_binomial_p_value(p0[members], int(round(observed[g])))
    z = side * stats.norm.isf(p_exact / 2)

    od = estimate_overdispersion(z[testable], precision[testable])
    applied = "none"
    if overdispersion == "auto":
        if od["n_groups"] >= 3 and od["p_value"] < 0.05:
            applied = "additive"
    elif overdispersion != "none":
        applied = overdispersion
    if od["n_groups"] < 3 and applied != "none":
        applied = "none"
        od["note"] = "fewer than 3 groups shown: over-dispersion cannot be estimated"
    phi = max(od["phi"], 1.0) if applied == "multiplicative" else 1.0
    tau2 = od["tau2"] if applied == "additive" else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z_adj = z * np.sqrt((1 / precision) / (phi / precision + tau2))
    p_val = p_exact if applied == "none" else 2 * stats.norm.sf(np.abs(z_adj))
    p_val[~testable] = np.nan
    kappa = float(variance[testable].sum() / expected[testable].sum()) if testable.any() else 1.0
    od.update({"requested": overdispersion, "applied": applied, "kappa": kappa})

    table = keys.copy()
    table["n_persons"] = n_persons
    table["observed"] = observed
    table["expected"] = expected
    table["oe_ratio"] = oe
    table["oe_ci_low"] = oe_lo
    table["oe_ci_high"] = oe_hi
    table["z"] = z
    table["z_adjusted"] = z_adj
    table["p_value"] = p_val
    for level, name in zip(FUNNEL_LEVELS, ("95", "998"), strict=True):
        lo, hi = funnel_limits(precision, level, phi=phi, tau2=tau2)
        table[f"limit_{name}_low"] = np.clip(lo, 0, None)
        table[f"limit_{name}_high"] = hi
    direction = np.sign(observed - expected)
    return _finish(
        table,
        model,
        rows,
        spec,
        by_cols,
        period_ts,
        "retrospective",
        alpha,
        fdr,
        min_group_size,
        reference,
        od,
        direction,
        n_drivers,
        rng,
        info,
    )


def _finish(
    table,
    model,
    rows,
    spec,
    by_cols,
    period_ts,
    mode,
    alpha,
    fdr,
    min_group_size,
    reference,
    od,
    direction,
    n_drivers,
    rng,
    info,
) -> FlagResult:
    """Suppress, adjust for multiplicity, flag, attach drivers."""
    small = table["n_persons"].to_numpy() < min_group_size
    p_val = table["p_value"].to_numpy(dtype=float).copy()
    p_val[small] = np.nan
    table["q_value"] = benjamini_hochberg(p_val)
    crit = table["q_value"] if fdr else table["p_value"]
    signif = (crit < alpha).fillna(False).to_numpy(dtype=bool) & ~small
    flag = np.where(
        signif & (direction > 0),
        "elevated",
        np.where(signif & (direction < 0), "low", "as expected"),
    ).astype(object)
    flag[np.isnan(p_val) & ~small] = "not assessed"
    flag[small] = "suppressed"
    table["flag"] = pd.Series(flag, index=table.index, dtype="str")
    value_cols = [
        c
        for c in table.columns
        if c not in (*by_cols, "n_persons", "flag") and pd.api.types.is_numeric_dtype(table[c])
    ]
    table = suppress_small_groups(
        table, count_col="n_persons", value_cols=value_cols, min_group_size=min_group_size
    )

    reason = None
    if small.all():
        reason = (
            f"every one of the {len(table)} groups by {list(by_cols)} has fewer than "
            f"min_group_size={min_group_size} persons in period {period_ts.date()}, so nothing "
            "can be shown; group by a coarser column (e.g. by='municipality') or pool groups."
        )
        warnings.warn(reason, TurnoverRiskWarning, stacklevel=4)  # the caller of flag_groups

    drivers = _empty_drivers(by_cols)
    flagged_mask = table["flag"].isin(["elevated", "low"]).to_numpy()
    if n_drivers and flagged_mask.any():
        drivers = _top_drivers(
            model, rows, spec, by_cols, table.loc[flagged_mask, list(by_cols)], n_drivers, rng
        )
    texts = (
        drivers.groupby(list(by_cols), sort=False)["text"].agg("; ".join)
        if len(drivers)
        else pd.Series(dtype="str")
    )
    if len(drivers):
        joined = table[list(by_cols)].merge(
            texts.rename("drivers").reset_index(), on=list(by_cols), how="left"
        )
        table["drivers"] = joined["drivers"].fillna("").astype("str").to_numpy()
    else:
        table["drivers"] = pd.Series([""] * len(table), index=table.index, dtype="str")
    cols = [c for c in table.columns if c not in ("suppressed",)] + ["suppressed"]
    table = table[cols].reset_index(drop=True)
    return FlagResult(
        table=table,
        mode=mode,
        by=tuple(by_cols),
        period=period_ts,
        alpha=alpha,
        fdr=fdr,
        min_group_size=min_group_size,
        reference_share=reference,
        overdispersion=od,
        drivers=drivers,
        reason=reason,
        info=info,
    )


# ---------------------------------------------------------------------------------------------
# drivers
# ---------------------------------------------------------------------------------------------


def _empty_drivers(by_cols) -> pd.DataFrame:
    return pd.DataFrame(
        {
            **{c: pd.Series(dtype="object") for c in by_cols},
            "rank": pd.Series(dtype="int64"),
            "feature": pd.Series(dtype="str"),
            "label": pd.Series(dtype="str"),
            "difference": pd.Series(dtype=float),
            "se": pd.Series(dtype=float),
            "text": pd.Series(dtype="str"),
        }
    )


def _top_drivers(model, rows, spec, by_cols, flagged_keys, n_drivers, rng) -> pd.DataFrame:
    from turnover_risk.explain import group_drivers

    X = _with_spec(rows.reset_index(drop=True), rows)
    d = group_drivers(model, X, list(by_cols) if len(by_cols) > 1 else by_cols[0], random_state=rng)
    d = d.merge(flagged_keys.drop_duplicates(), on=list(by_cols), how="inner")
    if d.empty:
        return _empty_drivers(by_cols)
    d = d.assign(_abs=d["difference"].abs()).sort_values(
        [*by_cols, "_abs"], ascending=[True] * len(by_cols) + [False]
    )
    d["rank"] = d.groupby(list(by_cols), sort=False).cumcount() + 1
    d = d[d["rank"] <= n_drivers].copy()
    d["label"] = [feature_label(f) for f in d["feature"]]
    d["text"] = [
        driver_text(f, diff, by_cols[-1])
        for f, diff in zip(d["feature"], d["difference"], strict=True)
    ]
    return d[[*by_cols, "rank", "feature", "label", "difference", "se", "text"]].reset_index(
        drop=True
    )


_FEATURE_LABELS: dict[str, tuple[str, str]] = {
    # name: (English, bokmål) -- short labels for tables and driver texts
    "tenure_service_months": ("tenure in the service", "ansiennitet i tjenesten"),
    "tenure_unit_months": ("tenure in the unit", "ansiennitet i enheten"),
    "rehired": ("re-hired", "gjenansatt"),
    "newly_qualified": ("newly qualified", "nyutdannet"),
    "age": ("age", "alder"),
    "fte": ("position share", "stillingsprosent"),
    "role": ("role", "rolle"),
    "caseload_last": ("caseload, latest month", "saksmengde, siste måned"),
    "caseload_3m_mean": ("caseload 3-month mean", "saksmengde, snitt 3 mnd."),
    "caseload_6m_trend": ("caseload 6-month trend", "saksmengde, trend 6 mnd."),
    "caseload_ratio_unit_median": ("caseload vs. unit median", "saksmengde mot enhetens median"),
    "care_order_share": ("share of care-order cases", "andel omsorgssaker"),
    "deadline_breaches_3m": ("deadline breaches, 3 months", "fristbrudd, 3 mnd."),
    "supervision_sessions_3m": ("supervision sessions, 3 months", "veiledningsøkter, 3 mnd."),
    "supervision_minutes_3m": ("supervision minutes, 3 months", "veiledningsminutter, 3 mnd."),
    "months_since_supervision": ("months since supervision", "måneder siden veiledning"),
    "supervision_process_group_share": (
        "share of process/group supervision",
        "andel prosess-/gruppeveiledning",
    ),
    "new_staff_weekly_supervision": (
        "weekly supervision for new staff",
        "ukentlig veiledning for nyansatte",
    ),
    "cbi_personal": ("personal burnout (CBI)", "personlig utbrenthet (CBI)"),
    "cbi_work": ("work-related burnout (CBI)", "arbeidsrelatert utbrenthet (CBI)"),
    "cbi_client": ("client-related burnout (CBI)", "klientrelatert utbrenthet (CBI)"),
    "cbi_age_months": ("age of CBI survey", "alder på CBI-svar"),
    "cbi_missing": ("no CBI survey", "mangler CBI-svar"),
    "proqol_compassion_satisfaction": (
        "compassion satisfaction (ProQOL)",
        "medfølelsestilfredshet (ProQOL)",
    ),
    "proqol_burnout": ("burnout (ProQOL)", "utbrenthet (ProQOL)"),
    "proqol_secondary_traumatic_stress": (
        "secondary traumatic stress (ProQOL)",
        "sekundær traumatisk stress (ProQOL)",
    ),
    "proqol_age_months": ("age of ProQOL survey", "alder på ProQOL-svar"),
    "proqol_missing": ("no ProQOL survey", "mangler ProQOL-svar"),
    "bat_exhaustion": ("exhaustion (BAT)", "utmattelse (BAT)"),
    "bat_mental_distance": ("mental distance (BAT)", "mental distanse (BAT)"),
    "bat_cognitive_impairment": ("cognitive impairment (BAT)", "kognitiv svikt (BAT)"),
    "bat_emotional_impairment": ("emotional impairment (BAT)", "emosjonell svikt (BAT)"),
    "bat_total": ("burnout total (BAT)", "utbrenthet totalt (BAT)"),
    "bat_age_months": ("age of BAT survey", "alder på BAT-svar"),
    "bat_missing": ("no BAT survey", "mangler BAT-svar"),
    "sick_days_12m": ("sick-leave days, 12 months", "sykefraværsdager, 12 mnd."),
    "sick_spells_12m": ("sick-leave spells, 12 months", "sykefraværstilfeller, 12 mnd."),
    "sick_long_spell_12m": ("long sick-leave spell, 12 months", "langt sykefravær, 12 mnd."),
    "colleagues_left_3m": ("colleagues who left, 3 months", "kolleger som sluttet, 3 mnd."),
    "colleagues_left_12m": ("colleagues who left, 12 months", "kolleger som sluttet, 12 mnd."),
    "colleagues_left_share_3m": (
        "share of colleagues who left, 3 months",
        "andel kolleger som sluttet, 3 mnd.",
    ),
    "colleagues_left_share_12m": (
        "share of colleagues who left, 12 months",
        "andel kolleger som sluttet, 12 mnd.",
    ),
    "unit_headcount": ("unit headcount", "antall ansatte i enheten"),
    "unit_headcount_change_12m": (
        "change in unit headcount, 12 months",
        "endring i antall ansatte, 12 mnd.",
    ),
    "unit_exit_share_12m": ("unit exit share, 12 months", "enhetens avgangsandel, 12 mnd."),
    "unit_caseload_mean": ("unit mean caseload", "enhetens gjennomsnittlige saksmengde"),
    "unit_sick_leave_pct_12m": ("unit sick-leave %, 12 months", "enhetens sykefravær %, 12 mnd."),
    "unit_supervision_coverage_3m": (
        "unit supervision coverage, 3 months",
        "enhetens veiledningsdekning, 3 mnd.",
    ),
    "unit_cbi_work_mean": (
        "unit work-related burnout (CBI)",
        "enhetens arbeidsrelaterte utbrenthet (CBI)",
    ),
    "unit_proqol_burnout_mean": ("unit burnout (ProQOL)", "enhetens utbrenthet (ProQOL)"),
    "unit_bat_total_mean": ("unit burnout total (BAT)", "enhetens utbrenthet totalt (BAT)"),
}

_GROUP_NOUNS_NB = {
    "unit_id": "enheter",
    "unit": "enheter",
    "municipality": "kommuner",
    "service": "tjenester",
    "team": "team",
}


def feature_label(name: str, lang: str = "en") -> str:
    """Short readable label of a feature, e.g. ``"caseload 3-month mean"``.

    Known features have a short English and bokmål label (``lang="en"|"nb"``). Other names use
    their ``tr.FEATURES`` description when it is short (up to 40 characters, cut at the first
    sentence end), else the name with spaces for underscores.

    Examples
    --------
    >>> feature_label("caseload_3m_mean"), feature_label("caseload_3m_mean", "nb")
    ('caseload 3-month mean', 'saksmengde, snitt 3 mnd.')
    >>> feature_label("my_custom_score")
    'my custom score'
    """
    if name in _FEATURE_LABELS:
        return _FEATURE_LABELS[name][1 if lang == "nb" else 0]
    try:
        from turnover_risk.features import FEATURES
    except ImportError:  # pragma: no cover - features is part of the package
        FEATURES = {}
    feat = FEATURES.get(name) if hasattr(FEATURES, "get") else None
    text = (getattr(feat, "description", "") or "").split(". ")[0].rstrip(".").strip()
    if text and len(text) <= 40:
        return text[0].lower() + text[1:] if not text[1:2].isupper() else text
    return name.replace("_", " ")


def driver_text(feature: str, difference: float, by: str, lang: str = "en") -> str:
    """One driver as a sentence, e.g. ``"caseload 3-month mean, +0.31 log-odds vs. all units"``.

    Examples
    --------
    >>> driver_text("caseload_3m_mean", 0.314, "unit_id")
    'caseload 3-month mean, +0.31 log-odds vs. all units'
    >>> driver_text("caseload_3m_mean", -0.2, "municipality", lang="nb")
    'saksmengde, snitt 3 mnd., -0.20 log-odds mot alle kommuner'
    """
    if lang == "nb":
        noun = _GROUP_NOUNS_NB.get(by, "grupper")
        return f"{feature_label(feature, 'nb')}, {difference:+.2f} log-odds mot alle {noun}"
    noun = _GROUP_NOUNS.get(by, "groups")
    return f"{feature_label(feature)}, {difference:+.2f} log-odds vs. all {noun}"


# ---------------------------------------------------------------------------------------------
# what_if
# ---------------------------------------------------------------------------------------------

Change = float | int | str | tuple | Callable[[pd.Series], Any]
_OPS = ("set", "add", "multiply", "at_most", "at_least")


def what_if(
    model: Any,
    panel: pd.DataFrame,
    *,
    change: Mapping[str, Change],
    by: str | Sequence[str] = "unit_id",
    where: pd.Series | np.ndarray | Callable[[pd.DataFrame], Any] | None = None,
    period: Any = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> WhatIfResult:
    """Each group's predicted exit share before and after changing features.

    **This is the model's association, not a proven effect.** The result says how the model's
    predicted risk moves when the inputs move, everything else held fixed; staff who get more
    supervision or smaller caseloads may differ in ways the model does not see, and features
    that depend on the changed one (e.g. ``months_since_supervision`` after more sessions) are
    not updated unless you change them too.

    Parameters
    ----------
    model : TurnoverRiskModel or fitted classifier
    panel : DataFrame
        A panel from :func:`turnover_risk.build_panel`; the latest period (or ``period``) is
        used, one row per person.
    change : mapping of feature name to change
        How to change each feature (applied to the rows selected by ``where``):

        * a **plain number means "add"** (a delta): ``{"supervision_sessions_3m": 2}`` (as
          written in DESIGN.md, ``+2``) gives everyone two more sessions per quarter. To *set* a
          value write ``("set", 6)``;
        * ``("set", v)``, ``("add", d)``, ``("multiply", f)``, ``("at_most", cap)``,
          ``("at_least", floor)`` — explicit operations; ``("at_most", 15)`` caps caseload at 15;
        * a string (or bool) sets a categorical feature: ``{"role": "senior"}``;
        * a callable receives the selected rows' column (a Series) and returns the new values:
          ``lambda s: s.clip(upper=15)``.

        After ``add``/``multiply``, a feature whose values were all non-negative is clipped at 0
        (no negative session counts). Changing a feature that is not a lever (``FEATURES[name]
        .lever`` is False, or the name is not documented) warns.
    by : str or list of str
        Group column(s).
    where : boolean Series, boolean array, callable or None
        Which persons to change. A Series is aligned on the panel's index (e.g.
        ``panel["tenure_service_months"] < 6``); an array must have one entry per row of the
        period; a callable gets the period's rows and returns a boolean mask. Default: everyone.
    period : date-like, optional
        Period to use; default the latest.
    min_group_size : int
        Groups with fewer persons are suppressed.

    Returns
    -------
    WhatIfResult
        ``.table`` per group (see :class:`WhatIfResult`), ``.overall``, ``.note`` (the
        association caveat, also in ``.table.attrs["note"]``).

    Examples
    --------
    Two more supervision sessions per quarter for staff in their first six months, and caseload
    capped at 15:

    >>> tr.what_if(model, panel, by="unit_id",  # doctest: +SKIP
    ...            change={"supervision_sessions_3m": 2},
    ...            where=lambda p: p["tenure_service_months"] < 6)
    >>> tr.what_if(model, panel, change={"caseload_3m_mean": ("at_most", 15),  # doctest: +SKIP
    ...                                  "caseload_last": ("at_most", 15)})
    """
    if not isinstance(change, Mapping) or not change:
        raise TypeError(
            "change must be a non-empty mapping of feature name to change, e.g. "
            "{'supervision_sessions_3m': 2} (a plain number adds) or "
            f"{{'caseload_3m_mean': ('at_most', 15)}}; got {change!r}."
        )
    min_group_size = check_min_group_size(min_group_size)
    spec = panel_spec(panel)
    by_cols = _check_by(panel, by)
    period_ts = _latest_or_given_period(panel, spec, period)
    rows = _with_spec(panel.loc[panel[spec.period_col] == period_ts], panel)
    rows = _one_row_per_person(rows, spec)
    model_features = _model_features(model, spec)
    mask = _where_mask(where, rows)

    after = rows.copy()
    descriptions: dict[str, str] = {}
    changed = np.zeros(len(rows), dtype=bool)
    for name, how in change.items():
        if name not in rows.columns or name not in model_features:
            raise ValueError(
                f"change names {name!r}, which is not a feature of the model; features are: "
                f"{', '.join(sorted(model_features))}."
            )
        _warn_if_not_lever(name)
        old = rows[name]
        new_sel, descriptions[name] = _apply_change(name, how, old[mask])
        new = old.copy()
        if pd.api.types.is_numeric_dtype(new) and pd.api.types.is_numeric_dtype(new_sel):
            new = new.astype(float)
        new.loc[mask] = new_sel
        diff = ~((new == old) | (new.isna() & old.isna())).to_numpy(dtype=bool)
        changed |= diff
        after[name] = new
    after = _with_spec(after, panel)

    p_before = _predict(model, rows, spec)
    p_after = _predict(model, after, spec)
    codes, keys = _group_codes(rows, by_cols)
    n = len(keys)
    n_rows = np.bincount(codes, minlength=n)
    table = keys.copy()
    table["n_persons"] = _persons_per_group(rows, spec, codes, n)
    table["n_changed"] = np.bincount(codes, weights=changed, minlength=n).astype(int)
    e_before = np.bincount(codes, weights=p_before, minlength=n)
    e_after = np.bincount(codes, weights=p_after, minlength=n)
    table["exit_share_before"] = e_before / n_rows
    table["exit_share_after"] = e_after / n_rows
    table["difference"] = table["exit_share_after"] - table["exit_share_before"]
    table["relative_change"] = table["difference"] / table["exit_share_before"]
    table["expected_leavers_before"] = e_before
    table["expected_leavers_after"] = e_after
    table = suppress_small_groups(
        table,
        count_col="n_persons",
        min_group_size=min_group_size,
        value_cols=[c for c in table.columns if c not in (*by_cols, "n_persons")],
    )
    table.attrs["note"] = ASSOCIATION_NOTE
    # overall figures over the shown groups only, so no suppressed group is a difference
    shown = _shown_rows(table["n_persons"].to_numpy(), codes, min_group_size)
    shown_rows = rows.loc[shown]
    overall = {
        "n_persons": int(shown_rows[spec.id_cols[0]].nunique())
        if spec.id_cols
        else int(shown.sum()),
        "n_changed": int(changed[shown].sum()),
        "exit_share_before": float(p_before[shown].mean()) if shown.any() else float("nan"),
        "exit_share_after": float(p_after[shown].mean()) if shown.any() else float("nan"),
    }
    overall["difference"] = overall["exit_share_after"] - overall["exit_share_before"]
    if overall["n_persons"] < min_group_size:
        overall = {k: (v if k == "n_persons" else np.nan) for k, v in overall.items()}
    return WhatIfResult(
        table=table, overall=overall, changes=descriptions, period=period_ts, by=tuple(by_cols)
    )


def _apply_change(name: str, how: Any, old: pd.Series) -> tuple[pd.Series, str]:
    numeric = pd.api.types.is_numeric_dtype(old) and not pd.api.types.is_bool_dtype(old)
    if callable(how):
        new = how(old.copy())
        new = pd.Series(
            np.asarray(new) if not isinstance(new, pd.Series) else new.to_numpy(), index=old.index
        )
        if len(new) != len(old):
            raise ValueError(
                f"the function for {name!r} returned {len(new)} values for "
                f"{len(old)} rows; return one value per row."
            )
        return new, f"{name}: {getattr(how, '__name__', 'function')}(...)"
    if isinstance(how, bool | str):
        op, value = "set", how
    elif isinstance(how, int | float | np.integer | np.floating):
        op, value = "add", how
    elif isinstance(how, tuple) and len(how) == 2 and how[0] in _OPS:
        op, value = how
    else:
        raise TypeError(
            f"change[{name!r}]={how!r} is not understood; use a number (added), "
            f"('set'|'add'|'multiply'|'at_most'|'at_least', value), a string for a category, "
            "or a function of the column."
        )
    if op == "set":
        return pd.Series(value, index=old.index), f"{name} set to {value}"
    if not numeric:
        raise TypeError(
            f"change[{name!r}]={how!r}: {op!r} needs a numeric feature, but "
            f"{name!r} has dtype {old.dtype}; use ('set', value)."
        )
    vals = old.astype(float)
    if op == "add":
        new, text = vals + value, f"{name} {value:+g}"
    elif op == "multiply":
        new, text = vals * value, f"{name} x {value:g}"
    elif op == "at_most":
        new, text = vals.clip(upper=value), f"{name} at most {value:g}"
    else:
        new, text = vals.clip(lower=value), f"{name} at least {value:g}"
    if op in ("add", "multiply") and (old.dropna() >= 0).all():
        new = new.clip(lower=0)
    return new, text


def _warn_if_not_lever(name: str) -> None:
    try:
        from turnover_risk.features import FEATURES
    except ImportError:
        FEATURES = {}
    feat = FEATURES.get(name) if hasattr(FEATURES, "get") else None
    if feat is None:
        warnings.warn(
            f"{name!r} is not a documented feature (not in tr.FEATURES), so it is not known to "
            "be a lever a leader can move; read the what-if result as association only.",
            TurnoverRiskWarning,
            stacklevel=3,
        )
    elif not getattr(feat, "lever", False):
        warnings.warn(
            f"{name!r} is not a lever a leader can move (FEATURES[{name!r}].lever is False); "
            "the what-if result describes association with a characteristic, not an action.",
            TurnoverRiskWarning,
            stacklevel=3,
        )


def _where_mask(where, rows: pd.DataFrame) -> np.ndarray:
    if where is None:
        return np.ones(len(rows), dtype=bool)
    if callable(where):
        where = where(rows)
    if isinstance(where, pd.Series):
        missing = rows.index.difference(where.index)
        if len(missing):
            raise ValueError(
                f"where is a Series that lacks {len(missing)} rows of the period; build it from "
                "the same panel, e.g. where=panel['tenure_service_months'] < 6."
            )
        where = where.loc[rows.index]
        if where.isna().any():  # a comparison with a missing value selects nobody
            where = where.astype("boolean").fillna(False).astype(bool)
    arr = np.asarray(where)
    if arr.dtype != bool or arr.shape != (len(rows),):
        raise ValueError(
            f"where must give one True/False per row of the period ({len(rows)} rows); got an "
            f"array of dtype {arr.dtype} and shape {arr.shape}."
        )
    return arr


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} must lie strictly between 0 and 1, e.g. 0.95.")


def _check_alpha(alpha: float) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha!r} must be a number in (0, 0.5), e.g. 0.05.")


def _check_nonneg_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name}={value!r} must be a non-negative integer.")
    return int(value)


def _check_by(panel: pd.DataFrame, by: str | Sequence[str]) -> list[str]:
    cols = [by] if isinstance(by, str) else list(by)
    if not cols:
        raise ValueError("by must name at least one group column, e.g. by='unit_id'.")
    missing = [c for c in cols if c not in panel.columns]
    if missing:
        try:
            known = [c for c in panel_spec(panel).group_cols if c in panel.columns]
        except ValueError:
            known = []
        raise ValueError(
            f"by={by!r} names column(s) {missing} that the panel does not have; group columns "
            f"of this panel are: {', '.join(known) or '(none)'} (any other panel column works "
            "too)."
        )
    return cols


def _with_spec(frame: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    if ATTRS_KEY in source.attrs:
        frame.attrs[ATTRS_KEY] = source.attrs[ATTRS_KEY]
    return frame


def _period_values(panel: pd.DataFrame, spec: PanelSpec) -> pd.Series:
    if spec.period_col not in panel.columns:
        raise ValueError(f"the panel has no period column {spec.period_col!r}.")
    return panel[spec.period_col]


def _coerce_period(panel, spec, period) -> pd.Timestamp:
    periods = _period_values(panel, spec)
    try:
        ts = pd.Timestamp(period)
    except (TypeError, ValueError) as err:
        raise ValueError(f"period={period!r} is not a date; pass e.g. '2024-01-01'.") from err
    if not (periods == ts).any():
        available = pd.Series(periods.unique()).sort_values()
        raise ValueError(
            f"period={period!r} is not a period of the panel; periods run from "
            f"{available.iloc[0].date()} to {available.iloc[-1].date()}."
        )
    return ts


def _latest_or_given_period(panel, spec, period) -> pd.Timestamp:
    if period is not None:
        return _coerce_period(panel, spec, period)
    periods = _period_values(panel, spec)
    if periods.empty:
        raise ValueError("the panel has no rows.")
    return pd.Timestamp(periods.max())


def _labelled_period(panel, spec, period) -> pd.Timestamp:
    label = panel[spec.label_col]
    if period is not None:
        ts = _coerce_period(panel, spec, period)
        if not label[panel[spec.period_col] == ts].notna().any():
            raise ValueError(
                f"period={period!r} has no labelled rows (its horizon has not elapsed); choose "
                "an earlier period or leave period=None for the latest fully labelled one."
            )
        return ts
    known = label.notna().groupby(panel[spec.period_col]).mean()
    if known.empty or known.max() == 0:
        raise ValueError(
            "retrospective mode needs periods whose outcomes are known, but every label in the "
            f"panel ({spec.label_col!r}) is missing; build the panel with an earlier end or a "
            "shorter horizon, or use mode='prospective'."
        )
    elapsed = known[known >= 1 - MAX_CENSORED_SHARE]
    if len(elapsed):
        return pd.Timestamp(elapsed.index.max())
    best = known[known == known.max()]
    warnings.warn(
        f"no period has at least {1 - MAX_CENSORED_SHARE:.0%} of its labels known; using "
        f"{pd.Timestamp(best.index.max()).date()} ({known.max():.0%} known). Observed/expected "
        "ratios of a partly censored period are biased; pass period=... to choose.",
        TurnoverRiskWarning,
        stacklevel=4,
    )
    return pd.Timestamp(best.index.max())


def _one_row_per_person(rows: pd.DataFrame, spec: PanelSpec) -> pd.DataFrame:
    ids = [c for c in spec.id_cols if c in rows.columns]
    if ids and rows.duplicated(ids).any():
        n = int(rows.duplicated(ids).sum())
        raise ValueError(
            f"the period has {n} duplicate rows per person ({ids}); a panel has one row per "
            "person and period — rebuild it with tr.build_panel."
        )
    return rows


def _group_codes(rows: pd.DataFrame, by_cols: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    keys_frame = rows[by_cols]
    if keys_frame.isna().any(axis=None):
        raise ValueError(
            f"group column(s) {by_cols} have missing values in {int(keys_frame.isna().any(axis=1).sum())} "
            "rows; fill or drop them first."
        )
    codes, uniques = pd.MultiIndex.from_frame(keys_frame).factorize(sort=True)
    keys = uniques.to_frame(index=False)
    keys.columns = by_cols
    return np.asarray(codes), keys


def _persons_per_group(rows, spec, codes, n_groups) -> np.ndarray:
    ids = [c for c in spec.id_cols if c in rows.columns]
    if not ids:
        return np.bincount(codes, minlength=n_groups)
    person = pd.MultiIndex.from_frame(rows[ids]).factorize()[0]
    pairs = pd.DataFrame({"g": codes, "p": person}).drop_duplicates()
    return np.bincount(pairs["g"].to_numpy(), minlength=n_groups)


def _model_features(model, spec: PanelSpec) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    return list(names) if names is not None else list(spec.feature_cols)


def _model_input(model, frame: pd.DataFrame, spec: PanelSpec) -> pd.DataFrame:
    if getattr(model, "spec_", None) is not None:
        return frame  # TurnoverRiskModel fitted on a panel reduces it to its own features
    X = frame[_model_features(model, spec)]
    X.attrs = {}
    return X


def _predict(model, frame: pd.DataFrame, spec: PanelSpec) -> np.ndarray:
    proba = model.predict_proba(_model_input(model, frame, spec))
    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 2:
        proba = proba[:, -1]
    return proba


def _bootstrap_predictions(model, panel, spec, rows, n_boot, rng) -> list[np.ndarray]:
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    label = spec.label_col
    if label not in panel.columns or not panel[label].notna().any():
        raise ValueError(
            "prospective mode refits the model on bootstrap samples of the panel's labelled "
            "rows, but the panel has none; pass the training panel (with the current period), "
            "or n_boot=0 to skip model uncertainty."
        )
    # Periods where most labels are censored (the last horizon of the data) hold a sample of
    # leavers only; refitting on them would inflate the risk (models.py leaves them out too).
    censored_share = panel[label].isna().groupby(panel[spec.period_col]).transform("mean")
    train = panel.loc[panel[label].notna() & (censored_share <= 0.5)]
    ids = [c for c in spec.id_cols if c in train.columns]
    if ids:
        person = pd.MultiIndex.from_frame(train[ids]).factorize()[0]
    else:
        person = np.arange(len(train))
    n_persons = int(person.max()) + 1
    order = np.argsort(person, kind="stable")
    counts = np.bincount(person, minlength=n_persons)
    starts = np.cumsum(counts) - counts
    fit_on_panel = getattr(model, "spec_", None) is not None
    out = []
    for _ in range(n_boot):
        chosen = rng.integers(0, n_persons, n_persons)
        lens = counts[chosen]
        offsets = np.repeat(starts[chosen] - (np.cumsum(lens) - lens), lens) + np.arange(lens.sum())
        sample = train.iloc[order[offsets]].reset_index(drop=True)
        y = sample[label]
        if y.nunique() < 2:
            continue
        refit = clone(model)
        # Small problems, many tiny BLAS calls (L-BFGS): threads only contend, and on a busy
        # 2-core machine they made refits five times slower.
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("ignore")
            if fit_on_panel:
                refit.fit(_with_spec(sample, panel))
            else:
                refit.fit(_model_input(model, sample, spec), y.astype(int))
            out.append(_predict(refit, rows, spec))
    if len(out) < 2:
        raise ValueError(
            "fewer than 2 bootstrap refits succeeded (the labelled rows have a single class); "
            "use n_boot=0 or a panel with both leavers and stayers."
        )
    return out
