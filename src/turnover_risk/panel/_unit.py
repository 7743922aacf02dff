"""Unit-level features on a (unit x extended period) grid (private).

Membership of a unit at period ``t`` means an employment spell covering the day before ``t``;
every value here uses records dated before ``t`` only. Computed in two steps so that it can be
split by employees: :func:`unit_partial` lists what a range of employees contributes (the grid
cells of its members, with values in employee order), :func:`finish_unit_features` sums the
partials of all ranges, concatenated in range order, exactly as one pass over the register
would. Read by every partition.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from turnover_risk.data import WorkdayIndex
from turnover_risk.panel._registry import UNIT_SURVEY_MAX_AGE_MONTHS
from turnover_risk.panel._time import (
    OPEN_DAY,
    expand_ranges,
    group_median,
    month_of,
    month_start,
    sorted_unique,
)

if TYPE_CHECKING:
    from turnover_risk.panel._context import PanelContext


def workdays_index(ctx: PanelContext) -> tuple[WorkdayIndex, int, int]:
    if ctx.workdays is not None:
        return ctx.workdays
    first_m = int(month_of(ctx.period_days[:1])[0]) - 12
    last_m = int(month_of(ctx.period_days[-1:])[0])
    wd = WorkdayIndex(
        np.datetime64(int(month_start(np.array([first_m]))[0]), "D"),
        np.datetime64(int(month_start(np.array([last_m]))[0]) - 1, "D"),
    )
    ctx.workdays = (wd, first_m, last_m - first_m)
    return ctx.workdays


# --------------------------------------------------------------------------------------------
# unit level: one value per (unit, extended period), from records before the period start
# --------------------------------------------------------------------------------------------


def _membership(ctx: PanelContext, sp: dict[str, np.ndarray]):
    """(code, unit, k) of spells ``sp``: persons employed in a unit on the day before
    extended period k, sorted by (code, unit, k)."""
    snap = ctx.ext_days - 1
    k0 = np.searchsorted(snap, sp["start"], side="left")
    k1 = np.searchsorted(snap, sp["end"], side="right") - 1
    i, k = expand_ranges(k0, k1)
    n_k = len(snap)
    key = (sp["code"][i] * len(ctx.unit_ids) + sp["unit"][i]) * n_k + k
    key = sorted_unique(key)
    k = key % n_k
    rest = key // n_k
    return rest // len(ctx.unit_ids), rest % len(ctx.unit_ids), k


def _per_unit(unit: np.ndarray, k: np.ndarray, weights: np.ndarray | None, shape) -> np.ndarray:
    flat = np.bincount(unit * shape[1] + k, weights=weights, minlength=shape[0] * shape[1])
    return flat.reshape(shape).astype(np.float64)


def _count(cell: np.ndarray, weights: np.ndarray | None, shape) -> np.ndarray:
    flat = np.bincount(cell, weights=weights, minlength=shape[0] * shape[1])
    return flat.reshape(shape).astype(np.float64)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def unit_partial(ctx: PanelContext, lo: int, hi: int) -> dict[str, np.ndarray]:
    """What employees ``lo <= code < hi`` contribute to the unit grid (see the module notes).

    Cells are ``unit * n_k + k``; weighted entries keep their values in employee order, so
    concatenating the partials of consecutive code ranges gives the arrays of the whole
    register in the same order and :func:`finish_unit_features` sums them to the same bits.
    ``ctx`` holds the event indexes of (at least) these employees.
    """
    n_k = len(ctx.ext_days)
    snap = ctx.ext_days - 1
    ext_m = month_of(ctx.ext_days)
    lag = ctx.lag
    mine = (ctx.spells["code"] >= lo) & (ctx.spells["code"] < hi)
    sp = {k: v[mine] for k, v in ctx.spells.items()}
    m_code, m_unit, m_k = _membership(ctx, sp)
    out: dict[str, np.ndarray] = {"head": m_unit * n_k + m_k}

    # exit share: members 12 months earlier no longer in the same scope key
    scope_key_unit = ctx.scope_key_unit
    n_scope = int(scope_key_unit.max()) + 1
    skey = (m_code * n_scope + scope_key_unit[m_unit]) * n_k + m_k
    skey_sorted = sorted_unique(skey)
    early = m_k + lag < n_k
    q = skey[early] + lag
    pos = np.minimum(np.searchsorted(skey_sorted, q), max(len(skey_sorted) - 1, 0))
    gone = skey_sorted[pos] != q if len(skey_sorted) else np.zeros(0, dtype=bool)
    out["left"] = (m_unit[early] * n_k + m_k[early] + lag)[gone]

    # colleagues who left the unit in the window and were not back on the day before t
    ue = ctx.unit_ep
    ep_unit = np.empty(len(ue["start"]), dtype=np.int64)
    ep_unit[ue["spell_episode"]] = ctx.spells["unit"]
    ep_code = np.empty(len(ue["start"]), dtype=np.int64)
    ep_code[ue["spell_episode"]] = ctx.spells["code"]
    closed = (ue["end"] < OPEN_DAY) & (ep_code >= lo) & (ep_code < hi)
    e, ns, eu = ue["end"][closed], ue["next_start"][closed], ep_unit[closed]
    for months in (3, 12):
        lo_day = month_start(ext_m - months)
        k0 = np.searchsorted(ctx.ext_days, e, side="right")
        k1 = np.searchsorted(lo_day, e, side="right") - 1
        i, k = expand_ranges(k0, k1)
        away = ns[i] > snap[k]
        out[f"left_{months}m"] = eu[i][away] * n_k + k[away]
        # leavers whose last day is t-1 are still in `head` (employed on t-1): count them once
        last = away & (e[i] == snap[k])
        out[f"last_{months}m"] = eu[i][last] * n_k + k[last]

    sel = m_k >= lag
    c, u, k = m_code[sel], m_unit[sel], m_k[sel]
    cell = u * n_k + k
    t_day, t_m = ctx.ext_days[k], ext_m[k]
    if "caseload" in ctx.events:
        ev = ctx.events["caseload"]
        j = ev.last_before(c, t_m)
        ok = (j >= 0) & (ev.time_at(j) == t_m - 1)
        out["caseload_cell"] = cell[ok]
        out["caseload_value"] = ev.take("open", j)[ok]
    if "supervision" in ctx.events:
        had = ctx.events["supervision"].count(c, month_start(t_m - 3), t_day) > 0
        out["supervised"] = cell[had]
    for prefix, sub in (("cbi", "work"), ("proqol", "burnout"), ("bat", "total")):
        ev = ctx.events.get(f"survey_{prefix}")
        if ev is None:
            continue
        j = ev.last_before(c, t_day)
        recent = ev.time_at(j) >= month_start(t_m - UNIT_SURVEY_MAX_AGE_MONTHS)
        val = ev.take(sub, j)
        ok = recent & ~np.isnan(val)
        out[f"survey_{prefix}_cell"] = cell[ok]
        out[f"survey_{prefix}_value"] = val[ok]
    if ctx.absence_frame is not None:
        out.update(_lost_intervals(ctx.absence_frame, sp))
    return out


def finish_unit_features(
    ctx: PanelContext,
    parts: list[dict[str, np.ndarray]],
    absent: Iterable[str],
    data_start: int | None = None,
) -> dict[str, np.ndarray]:
    """The unit-level features from the partials of consecutive employee ranges, in order.

    ``data_start``: the first spell start of the whole register (default: of ``ctx.spells``;
    given when ``ctx`` holds the spells of some units only).
    """
    n_units, n_k = len(ctx.unit_ids), len(ctx.ext_days)
    shape = (n_units, n_k)
    snap = ctx.ext_days - 1
    lag = ctx.lag
    names = set().union(*(p.keys() for p in parts)) if parts else {"head"}

    def cat(name: str) -> np.ndarray:
        arrays = [p[name] for p in parts if name in p]
        return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)

    unit: dict[str, np.ndarray] = {}
    head = _count(cat("head"), None, shape)
    data_start = int(ctx.spells["start"].min()) if data_start is None else data_start
    known_then = np.zeros(n_k, dtype=bool)
    known_then[lag:] = snap[:-lag] >= data_start
    change = np.full(shape, np.nan)
    change[:, lag:] = head[:, lag:] - head[:, :-lag]
    change[:, ~known_then] = np.nan
    unit["unit_headcount"] = head
    unit["unit_headcount_change_12m"] = change
    left = _count(cat("left"), None, shape)
    base = np.zeros(shape)
    base[:, lag:] = head[:, :-lag]
    share = _ratio(left, base)
    share[:, ~known_then] = np.nan
    unit["unit_exit_share_12m"] = share
    for months in (3, 12):
        n_left = _count(cat(f"left_{months}m"), None, shape)
        n_last = _count(cat(f"last_{months}m"), None, shape)
        unit[f"colleagues_left_{months}m"] = n_left
        unit[f"colleagues_left_share_{months}m"] = _ratio(n_left, n_left + head - n_last)

    members = head.copy()  # members at extended periods k >= lag (the panel periods)
    members[:, :lag] = 0
    if "caseload_cell" in names:
        cell, val = cat("caseload_cell"), cat("caseload_value").astype(np.float64)
        val_ok = ~np.isnan(val)
        n = _count(cell[val_ok], None, shape)
        unit["unit_caseload_mean"] = _ratio(_count(cell[val_ok], val[val_ok], shape), n)
        unit["unit_caseload_median"] = group_median(cell, val, n_units * n_k).reshape(shape)
    if "supervised" in names:
        unit["unit_supervision_coverage_3m"] = _ratio(
            _count(cat("supervised"), None, shape), members
        )
    for prefix, sub in (("cbi", "work"), ("proqol", "burnout"), ("bat", "total")):
        if f"survey_{prefix}_cell" not in names:
            continue
        cell, val = cat(f"survey_{prefix}_cell"), cat(f"survey_{prefix}_value").astype(np.float64)
        n = _count(cell, None, shape)
        mean = _ratio(_count(cell, val, shape), n)
        mean[n < ctx.min_group_size] = np.nan
        unit[f"unit_{prefix}_{sub}_mean"] = mean
    if "lost_unit" in names:
        lost = {k: cat(f"lost_{k}") for k in ("unit", "start", "end", "weight")}
        unit["unit_sick_leave_pct_12m"] = _unit_sick_leave(ctx, shape, lost)
    absent = set(absent)
    return {k: v for k, v in unit.items() if k not in absent}


def _lost_intervals(a: pd.DataFrame, sp: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Absence x spell overlaps (unit, first and last day, fte x grade), in employee order."""
    spell_frame = pd.DataFrame(
        {"c": sp["code"], "u": sp["unit"], "es": sp["start"], "ee": sp["end"], "fte": sp["fte"],
         "si": np.arange(len(sp["code"]))}
    )  # fmt: skip
    both = a.assign(ai=np.arange(len(a))).merge(spell_frame, on="c", how="inner")
    # employee, then absence, then spell order: the same for any split of the employees
    order = np.lexsort((both["si"].to_numpy(), both["ai"].to_numpy(), both["c"].to_numpy()))
    s = np.maximum(both["s"].to_numpy(), both["es"].to_numpy())[order]
    e = np.minimum(both["e"].to_numpy(), both["ee"].to_numpy())[order]
    w = (both["fte"].to_numpy() * both["grade"].to_numpy())[order]
    return {"lost_unit": both["u"].to_numpy()[order], "lost_start": s, "lost_end": e,
            "lost_weight": w}  # fmt: skip


def _monthly(wd: WorkdayIndex, unit, s, e, w, m0: int, n_months: int, n_units: int) -> np.ndarray:
    """Sum over intervals of ``w`` x working days in ``[s, e]`` per (unit, calendar month)."""
    lo, hi = month_start(np.array([m0, m0 + n_months]))
    s, e = np.maximum(s, lo), np.minimum(e, hi - 1)
    ok = e >= s
    unit, s, e, w = unit[ok], s[ok], e[ok], w[ok]
    m1, m2 = month_of(s) - m0, month_of(e) - m0
    size = n_units * n_months
    one = m1 == m2
    first_end = np.where(one, e, month_start(m1 + m0 + 1) - 1)
    out = np.bincount(unit * n_months + m1, weights=w * wd.count(s, first_end), minlength=size)
    two = ~one
    out += np.bincount(
        unit[two] * n_months + m2[two],
        weights=w[two] * wd.count(month_start(m2[two] + m0), e[two]),
        minlength=size,
    )
    inner = two & (m2 > m1 + 1)
    diff = np.bincount(
        unit[inner] * (n_months + 1) + m1[inner] + 1,
        weights=w[inner],
        minlength=n_units * (n_months + 1),
    ) - np.bincount(
        unit[inner] * (n_months + 1) + m2[inner],
        weights=w[inner],
        minlength=n_units * (n_months + 1),
    )
    full = np.cumsum(diff.reshape(n_units, n_months + 1), axis=1)[:, :n_months]
    per_month = wd.count(
        month_start(np.arange(m0, m0 + n_months)),
        month_start(np.arange(m0 + 1, m0 + n_months + 1)) - 1,
    )
    return out.reshape(n_units, n_months) + full * per_month


def _unit_sick_leave(ctx: PanelContext, shape, lost_iv: dict[str, np.ndarray]) -> np.ndarray:
    wd, m0, n_months = workdays_index(ctx)
    sp = ctx.spells
    n_units = shape[0]
    agreed = _monthly(wd, sp["unit"], sp["start"], sp["end"], sp["fte"], m0, n_months, n_units)
    lost = _monthly(
        wd,
        lost_iv["unit"].astype(np.int64),
        lost_iv["start"].astype(np.int64),
        lost_iv["end"].astype(np.int64),
        lost_iv["weight"].astype(np.float64),
        m0,
        n_months,
        n_units,
    )
    zero = np.zeros((n_units, 1))
    cum_l = np.concatenate([zero, np.cumsum(lost, axis=1)], axis=1)
    cum_a = np.concatenate([zero, np.cumsum(agreed, axis=1)], axis=1)
    out = np.full(shape, np.nan)
    pm = month_of(ctx.period_days) - m0  # window months [pm - 12, pm)
    lag = ctx.lag
    num = cum_l[:, pm] - cum_l[:, pm - 12]
    den = cum_a[:, pm] - cum_a[:, pm - 12]
    out[:, lag:] = 100 * _ratio(num, den)
    return out
