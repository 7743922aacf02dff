"""The result of :func:`~turnover_risk.retention` and :func:`~turnover_risk.cumulative_incidence`.

:class:`SurvivalResult` holds the table at the requested times, the full step curves (for
plots and for checking against other software) and, for retention, the median tenure; its
:meth:`~SurvivalResult.plot` draws step curves with their interval bands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False, repr=False)
class SurvivalResult:
    """Retention or cumulative-incidence curves by group.

    Attributes
    ----------
    table : DataFrame
        One row per group (and cause) and requested time: the group columns, (``cause``),
        ``time_months``, ``at_risk``, ``events``, the estimate (``retention`` or
        ``cumulative_incidence``), ``ci_low``, ``ci_high`` and ``suppressed``.
    curves : DataFrame
        The same columns at every distinct exit time of every group (the full step
        function), suppressed where fewer than ``min_group_size`` stays are at risk.
    median : DataFrame
        Retention only: per group ``n_stays``, ``exits``, ``median_months``,
        ``median_ci_low``, ``median_ci_high`` (NaN: not reached) and ``suppressed``.
        Empty for cumulative incidence.
    kind : str
        ``"retention"`` or ``"cumulative_incidence"``.
    by : tuple of str
        Group columns (unit attributes and hire cohorts).
    causes : tuple of str
        Exit causes (cumulative incidence; empty for retention).
    scope : str
        What counts as leaving (``"unit"``, ``"service"``, ``"municipality"``, ``"any"``).
    confidence : float
        Level of the pointwise intervals.
    min_group_size : int
        Rows with fewer stays at risk are suppressed.
    window : dict
        The observation window (``start``, ``end`` and where each came from).
    info : dict
        Counts behind the result: ``spells``, ``stays``, ``stays_ended_before_window``,
        ``stays_started_after_window``, ``stays_used``, ``exits``, ``delayed_entries``.
    """

    table: pd.DataFrame
    curves: pd.DataFrame
    median: pd.DataFrame
    kind: str
    by: tuple[str, ...]
    causes: tuple[str, ...]
    scope: str
    confidence: float
    min_group_size: int
    window: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def value_col(self) -> str:
        """Name of the estimate column."""
        return "retention" if self.kind == "retention" else "cumulative_incidence"

    def __repr__(self) -> str:
        groups = len(self.curves.groupby(list(self.by), dropna=False)) if self.by else 1
        return (
            f"SurvivalResult(kind={self.kind!r}, scope={self.scope!r}, by={self.by}, "
            f"groups={groups}, stays_used={self.info.get('stays_used')}, "
            f"rows={len(self.table)})"
        )

    def plot(self, ax: Any = None, *, bands: bool = True, max_groups: int = 12):
        """Step curves (one per group, and per cause) with their interval bands.

        Suppressed stretches (fewer than ``min_group_size`` at risk) are not drawn.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when omitted.
        bands : bool
            Shade the pointwise intervals.
        max_groups : int
            Draw at most this many curves (the largest groups first).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        keys = [*self.by, *(["cause"] if self.kind != "retention" else [])]
        value = self.value_col
        start = 1.0 if self.kind == "retention" else 0.0
        shown = self.curves[~self.curves["suppressed"]]
        parts = list(shown.groupby(keys, dropna=False, sort=False)) if keys else [((), shown)]
        parts.sort(key=lambda kv: -len(kv[1]))
        for name, part in parts[:max_groups]:
            name = name if isinstance(name, tuple) else (name,)
            label = ", ".join(f"{v}" for v in name) if keys else "all"
            x = np.r_[0.0, part["time_months"].to_numpy(float)]
            y = np.r_[start, part[value].to_numpy(float)]
            (line,) = ax.step(x, y, where="post", label=label)
            if bands:
                lo = np.r_[start, part["ci_low"].to_numpy(float)]
                hi = np.r_[start, part["ci_high"].to_numpy(float)]
                ax.fill_between(x, lo, hi, step="post", alpha=0.2, color=line.get_color(), lw=0)
        ax.set_xlabel("months since hire (tenure in scope)")
        ax.set_ylabel("still in post" if self.kind == "retention" else "cumulative incidence")
        ax.set_ylim(0, 1.02)
        if parts and (keys or len(parts) > 1):
            ax.legend(fontsize="small", title=", ".join(keys) or None)
        return ax
