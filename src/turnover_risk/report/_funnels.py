"""The report's funnel plots, each of the very quantity its flags test.

*Prospective* (:func:`_prospective_funnel`): a unit is flagged when its ratio ``R`` of predicted
exit share to the service's is credibly beyond the margin ``m``: ``z = (log R - log m) / se``
against a t-distribution with ``n_boot - 1`` degrees of freedom, ``se`` the spread of
``log R`` over the bootstrap refits, then Benjamini–Hochberg. So the plot shows ``R`` (log
scale) against the precision ``1 / se``, and the limits ``m exp(t / x)`` and
``exp(-t / x) / m``: at the nominal 95 % level, and at the level the false-discovery
correction actually used (the largest p-value it still flags, or ``alpha / k`` when it flags
none), so every flagged unit lies beyond the flag limit and no other unit does.

*Retrospective* (:func:`_retrospective_funnel`): ``O/E`` against the expected count ``E``, with
95 % and 99.8 % limits around 1 as over-dispersion was applied (the library's funnel limits).

Every drawn line and point set carries a label, and each legend shows all of them; a limit's
upper and lower branches are one line (joined through a gap), so they have one entry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from turnover_risk.report._format import OKABE_ITO, _figure, _localise_axes, _num

FLAG_COLOURS = {
    "elevated": OKABE_ITO["vermillion"],
    "low": OKABE_ITO["blue"],
    "as expected": "#8c8c8c",
}
FLAG_MARKERS = {"elevated": "^", "low": "v", "as expected": "o"}


def _both(grid: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower branches as one line, separated by a gap (one legend entry)."""
    return np.concatenate([grid, [np.nan], grid]), np.concatenate([hi, [np.nan], lo])


def _flag_threshold(table: pd.DataFrame, alpha: float, fdr: bool) -> float:
    """The p-value at or under which a group is flagged (Benjamini–Hochberg step-up)."""
    p = np.sort(table["p_value"].dropna().to_numpy(dtype=float))
    if not fdr or not len(p):
        return alpha
    k = len(p)
    ok = np.flatnonzero(p <= alpha * np.arange(1, k + 1) / k)
    return float(alpha * (ok[-1] + 1) / k) if len(ok) else alpha / k


def _legend_below(ax) -> None:
    """The legend under the axes, so it never hides a point."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, fontsize=8, frameon=False)


def _points(ax, x, y, flags, L) -> None:
    for flag in ("as expected", "low", "elevated"):
        sel = (flags == flag).to_numpy()
        if sel.any():
            ax.scatter(
                x[sel],
                y[sel],
                s=34 if flag != "as expected" else 22,
                marker=FLAG_MARKERS[flag],
                color=FLAG_COLOURS[flag],
                edgecolors="white",
                linewidths=0.5,
                zorder=3,
                label=L[f"l_{flag}"],
            )


def _annotate(ax, x, y, names, flags) -> None:
    for xi, yi, name, flag in zip(x, y, names, flags, strict=True):
        if flag in ("elevated", "low"):
            ax.annotate(
                str(name), (xi, yi), xytext=(5, 3), textcoords="offset points", fontsize=8.5
            )


def _prospective_funnel(flags, by: str, L: dict, lang: str):
    """Figure (or None when nothing was tested) and the names beyond the flag limit."""
    from turnover_risk import _dist

    t = flags.table
    shown = t[~t["suppressed"].astype(bool)].dropna(subset=["log_ratio_se", "ratio"])
    shown = shown[shown["log_ratio_se"] > 0]
    n_boot = int(flags.info.get("refits", flags.info.get("n_boot", 0)) or 0)
    if shown.empty or n_boot < 2:
        return None, []
    margin = float(flags.info.get("margin", 1.0))
    df = n_boot - 1
    x = 1.0 / shown["log_ratio_se"].to_numpy(dtype=float)
    y = shown["ratio"].to_numpy(dtype=float)
    grid = np.linspace(max(x.min() * 0.85, 1e-3), x.max() * 1.08, 200)
    fig, ax = _figure(7.6, 5.0, left=0.75, bottom=1.15)
    ax.axhline(1.0, color="#333333", lw=1.1, label=L["l_reference"])
    if margin > 1:
        xs, ys = _both(grid, np.full_like(grid, 1 / margin), np.full_like(grid, margin))
        ax.plot(
            xs,
            ys,
            color="#555555",
            lw=0.9,
            ls="-.",
            label=L["l_margin"].format(m=_num(margin, lang, 2)),
        )
    for p_crit, style, key in (
        (flags.alpha, ":", "l_nominal"),
        (_flag_threshold(t[~t["suppressed"].astype(bool)], flags.alpha, flags.fdr), "--", "l_flag"),
    ):
        tq = _dist.t_ppf(1 - p_crit / 2, df)
        xs, ys = _both(grid, np.exp(-tq / grid) / margin, margin * np.exp(tq / grid))
        ax.plot(
            xs, ys, style, color="#1a1a1a" if key == "l_flag" else "#6b6b6b", lw=1.1, label=L[key]
        )
    _points(ax, x, y, shown["flag"], L)
    _annotate(ax, x, y, shown[by], shown["flag"])
    ax.set_yscale("log")
    lo, hi = min(y.min(), 1 / margin) * 0.8, max(y.max(), margin) * 1.25
    ax.set_ylim(lo, hi)
    ticks = [v for v in (0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 6) if lo <= v <= hi]
    ax.set_yticks(ticks)
    ax.minorticks_off()
    ax.set_xlim(0, grid[-1])
    _localise_axes(ax, lang)
    ax.set_xlabel(L["funnel_x"])
    ax.set_ylabel(L["funnel_y"])
    _legend_below(ax)
    names = [str(n) for n in shown.loc[shown["flag"].isin(["elevated", "low"]), by]]
    return fig, names


def _retrospective_funnel(retro, by: str, L: dict, lang: str):
    """Figure (or None) of O/E against expected leavers, and the flagged names."""
    from turnover_risk.groups import FUNNEL_LEVELS, funnel_limits

    t = retro.table
    shown = t[~t["suppressed"].astype(bool)].dropna(subset=["expected", "oe_ratio"])
    if shown.empty:
        return None, []
    x = shown["expected"].to_numpy(dtype=float)
    y = shown["oe_ratio"].to_numpy(dtype=float)
    od = retro.overdispersion or {}
    kappa = od.get("kappa", 1.0) or 1.0
    applied = od.get("applied", "none")
    phi = od.get("phi", 1.0) if applied == "multiplicative" else 1.0
    tau2 = od.get("tau2", 0.0) if applied == "additive" else 0.0
    grid = np.linspace(max(x.min() * 0.8, 1e-3), x.max() * 1.08, 200)
    fig, ax = _figure(7.6, 4.8, left=0.75, bottom=1.0)
    ax.axhline(1.0, color="#333333", lw=1.1, label=L["l_expected_line"])
    for level, style, key in zip(FUNNEL_LEVELS, ("--", ":"), ("l_95", "l_998"), strict=True):
        lo, hi = funnel_limits(grid / kappa, level, phi=phi, tau2=tau2)
        xs, ys = _both(grid, np.clip(lo, 0, None), hi)
        ax.plot(xs, ys, style, color="#1a1a1a", lw=1.0, label=L[key])
    _points(ax, x, y, shown["flag"], L)
    _annotate(ax, x, y, shown[by], shown["flag"])
    top = float(np.nanmax(np.concatenate([y, [2.0]]))) * 1.1
    ax.set_ylim(-0.08, min(top, 6))
    ax.set_xlim(0, grid[-1])
    _localise_axes(ax, lang)
    ax.set_xlabel(L["retro_x"])
    ax.set_ylabel(L["retro_y"])
    _legend_below(ax)
    names = [str(n) for n in shown.loc[shown["flag"].isin(["elevated", "low"]), by]]
    return fig, names
