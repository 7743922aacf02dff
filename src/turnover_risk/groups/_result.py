"""The result of :func:`turnover_risk.flag_groups` and the steps both of its modes end with.

:class:`FlagResult` (the table, the funnel plot) and ``_finish``: small groups suppressed,
Benjamini–Hochberg q-values over the shown groups, the flags, and the drivers of the flagged
groups. :class:`FlagResult` is re-exported by :mod:`turnover_risk.groups`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk._warnings import TurnoverRiskWarning
from turnover_risk.groups._driver_text import _empty_drivers, _top_drivers
from turnover_risk.groups._stats import FUNNEL_LEVELS, benjamini_hochberg, funnel_limits
from turnover_risk.privacy import blank_suppressed, protect_groups

DRIVERS_COLUMN = "drivers_pp"
"""Column of :attr:`FlagResult.table` with the top drivers of a flagged group as text, each
in percentage points of risk (0.1.0 had ``drivers``, in log-odds)."""


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
        ``feature``, ``label``, ``difference`` (log-odds vs. the population),
        ``difference_pp`` (the same in percentage points of the group's risk, see
        :func:`driver_text`), ``se`` (of ``difference``), ``text`` (in percentage points).
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


@dataclass(frozen=True)
class _FlagRequest:
    """The checked arguments of one :func:`turnover_risk.flag_groups` call, for both modes."""

    model: Any
    panel: pd.DataFrame
    spec: Any
    by_cols: list[str]
    period: Any
    min_group_size: int
    alpha: float
    fdr: bool
    n_drivers: int
    rng: np.random.Generator
    register: Any = None  # a HazardModel's refits need the register (month and reason of exits)
    risk_info: dict = field(default_factory=dict)  # a HazardModel's horizon and outcome


def _finish(
    req: _FlagRequest,
    table: pd.DataFrame,
    rows: pd.DataFrame,
    period_ts: pd.Timestamp,
    mode: str,
    reference: float,
    od: dict,
    direction: np.ndarray,
    info: dict,
) -> FlagResult:
    """Suppress, adjust for multiplicity, flag, attach drivers."""
    model, spec, by_cols, alpha, fdr = req.model, req.spec, req.by_cols, req.alpha, req.fdr
    min_group_size, n_drivers, rng = req.min_group_size, req.n_drivers, req.rng
    small = protect_groups(table, by=by_cols, rows=rows, min_group_size=min_group_size)
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
    table = blank_suppressed(table, small, [*value_cols, "n_persons"])

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
        flagged = table.loc[flagged_mask, list(by_cols)].copy()
        # the predicted share the drivers explain: prospective exit_share, retrospective E / n
        share = (
            table["exit_share"] if mode == "prospective" else table["expected"] / table["n_persons"]
        )
        flagged["share"] = share[flagged_mask].to_numpy(dtype=float)
        drivers = _top_drivers(model, rows, spec, by_cols, flagged, n_drivers, rng)
    texts = (
        drivers.groupby(list(by_cols), sort=False)["text"].agg("; ".join)
        if len(drivers)
        else pd.Series(dtype="str")
    )
    if len(drivers):
        joined = table[list(by_cols)].merge(
            texts.rename("drivers").reset_index(), on=list(by_cols), how="left"
        )
        table[DRIVERS_COLUMN] = joined["drivers"].fillna("").astype("str").to_numpy()
    else:
        table[DRIVERS_COLUMN] = pd.Series([""] * len(table), index=table.index, dtype="str")
    cols = [c for c in table.columns if c not in ("suppressed",)] + ["suppressed"]
    table = table[cols].reset_index(drop=True)
    info = {**info, **req.risk_info}
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
