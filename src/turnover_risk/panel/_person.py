"""Rows of the panel for one partition of employees (private; see ``features.build_partition``).

Every look-up here goes through the context's sorted event indexes with windows that end at the
period start ``t`` (exclusive), so no feature of period ``t`` can see a record dated ``t`` or
later. Only the row population and the contract attributes of the spell covering ``t`` (unit,
fte, role, birth and qualification year) come from the spell itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from turnover_risk.panel._context import PanelContext
from turnover_risk.panel._registry import (
    NEW_STAFF_MONTHS,
    WEEKLY_SUPERVISION_RATE,
)
from turnover_risk.panel._time import (
    DAYS_PER_MONTH,
    OPEN_DAY,
    completed_months,
    expand_ranges,
    month_of,
    month_start,
    year_of,
)

FEATURE_DTYPE = np.float32
"""Numeric features are stored as float32: a national panel has millions of rows."""


def _rows(ctx: PanelContext, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code, period index, spell index) of every employee-period; one primary spell each."""
    sp = ctx.spells
    sel = np.flatnonzero(np.isin(sp["code"], codes))
    g = ctx.period_days
    k0 = np.searchsorted(g, sp["start"][sel], side="left")
    k1 = np.searchsorted(g, sp["end"][sel], side="right") - 1
    i, p = expand_ranges(k0, k1)
    spell = sel[i]
    code = sp["code"][spell]
    # primary spell when spells overlap: the largest fte, then the latest start
    order = np.lexsort((-sp["start"][spell], -sp["fte"][spell], p, code))
    code, p, spell = code[order], p[order], spell[order]
    first = np.ones(len(code), dtype=bool)
    first[1:] = (code[1:] != code[:-1]) | (p[1:] != p[:-1])
    return code[first], p[first], spell[first]


def _labels(ctx: PanelContext, spell: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    ep = ctx.scope_ep
    e_idx = ep["spell_episode"][spell]
    end = ep["end"][e_idx]
    reason = ep["reason"][e_idx]
    mpp = ctx.months_per_period
    pt = month_of(t) // mpp
    observed_exit = end <= ctx.as_of
    k_exit = month_of(np.minimum(end, ctx.as_of)) // mpp - pt + 1
    complete = month_of(np.array([ctx.as_of + 1]))[0] // mpp - pt
    if ctx.counted is None:
        counted = observed_exit
    else:
        counted = observed_exit & np.isin(reason, list(ctx.counted))
    periods = np.where(observed_exit, k_exit, complete).astype(np.int32)
    h = ctx.horizon
    # the label is known only when the whole horizon lies inside the data; otherwise only
    # leavers would get a known label near the end of the data (outcome-dependent censoring)
    label = np.where(complete >= h, 0.0, np.nan)
    within = observed_exit & (k_exit <= h) & (complete >= h)
    label[within & counted] = 1.0
    label[within & ~counted] = np.nan
    return {
        "left_within_horizon": label,
        "periods_to_exit": periods,
        "exit_observed": counted,
    }


def _person(ctx: PanelContext, spell: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    sp = ctx.spells
    svc = ctx.service_ep["spell_episode"][spell]
    svc_start = ctx.service_ep["start"][svc]
    tenure = completed_months(svc_start, t)
    unit_start = ctx.unit_ep["start"][ctx.unit_ep["spell_episode"][spell]]
    year = year_of(t)
    qualified = sp["qualified_year"][spell]
    nq_years = ctx.newly_qualified_years
    newly = np.where(
        np.isnan(qualified), tenure < 12 * nq_years, (year - qualified) < nq_years
    ).astype(np.float64)
    out = {
        "tenure_service_months": tenure,
        "tenure_unit_months": completed_months(unit_start, t),
        "rehired": (ctx.service_ep["ordinal"][svc] > 0).astype(np.float64),
        "newly_qualified": newly,
        "age": year - sp["birth_year"][spell],
        "fte": sp["fte"][spell],
    }
    return out


def _caseload(ctx: PanelContext, code, t_m, unit, k) -> dict[str, np.ndarray]:
    ev = ctx.events["caseload"]
    j = ev.last_before(code, t_m)
    j = np.where(ev.time_at(j) >= t_m - 3, j, -1)
    last = ev.take("open", j)
    s3, n3 = ev.total("open", code, t_m - 3, t_m)
    # least-squares slope over the snapshots of the 6 months before t (x = months before t)
    lo6 = t_m - 6
    sy, n = ev.total("open", code, lo6, t_m)
    sx, _ = ev.total("x_open", code, lo6, t_m)
    sxy, _ = ev.total("xy", code, lo6, t_m)
    sxx, _ = ev.total("xx", code, lo6, t_m)
    den = n * sxx - sx * sx
    with np.errstate(invalid="ignore", divide="ignore"):
        trend = np.where((n >= 3) & (den > 0), (n * sxy - sx * sy) / den, np.nan)
        out = {
            "caseload_last": last,
            "caseload_3m_mean": np.where(n3 > 0, s3 / np.maximum(n3, 1), np.nan),
            "caseload_6m_trend": trend,
            "care_order_share": np.where(last > 0, ev.take("care", j) / last, np.nan),
        }
        b3, nb3 = ev.total("breach", code, t_m - 3, t_m)
        out["deadline_breaches_3m"] = np.where(nb3 > 0, b3, np.nan)
        median = ctx.unit.get("unit_caseload_median")
        if median is not None:
            m = median[unit, k]
            out["caseload_ratio_unit_median"] = np.where(m > 0, last / m, np.nan)
    return out


def _supervision(ctx: PanelContext, code, t, t_m, ep_start) -> dict[str, np.ndarray]:
    ev = ctx.events["supervision"]
    lo3 = month_start(t_m - 3)
    lo12 = month_start(t_m - 12)
    minutes, _ = ev.total("minutes", code, lo3, t)
    pg, n12 = ev.total("pg", code, lo12, t)
    j = ev.last_before(code, t)
    days_since = t - ev.time_at(j)
    tenure = completed_months(ep_start, t)
    weeks = (t - ep_start) // 7
    since_start = ev.count(code, ep_start, t)
    new = (tenure < NEW_STAFF_MONTHS) & (weeks >= 1)
    weekly = np.where(new, (since_start >= WEEKLY_SUPERVISION_RATE * weeks), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "supervision_sessions_3m": ev.count(code, lo3, t).astype(np.float64),
            "supervision_minutes_3m": minutes,
            "months_since_supervision": np.where(j >= 0, days_since / DAYS_PER_MONTH, np.nan),
            "supervision_process_group_share": np.where(n12 > 0, pg / np.maximum(n12, 1), np.nan),
            "new_staff_weekly_supervision": weekly,
        }


def _absences(ctx: PanelContext, code, t, t_m) -> dict[str, np.ndarray]:
    lo = month_start(t_m - 12)
    lost, _ = ctx.events["absence_months"].total("lost", code, t_m - 12, t_m)
    started = ctx.events["absence_starts"].count(code, -OPEN_DAY, t)
    ended_before = ctx.events["absence_ends"].count(code, -OPEN_DAY, lo)
    long_now = ctx.events["long_became"].count(code, -OPEN_DAY, t)
    long_before = ctx.events["long_ends"].count(code, -OPEN_DAY, lo)
    return {
        "sick_days_12m": lost,
        "sick_spells_12m": (started - ended_before).astype(np.float64),
        "sick_long_spell_12m": ((long_now - long_before) > 0).astype(np.float64),
    }


def _surveys(ctx: PanelContext, code, t) -> dict[str, np.ndarray]:
    out = {}
    for prefix, subscales in ctx.survey_cols.items():
        ev = ctx.events[f"survey_{prefix}"]
        j = ev.last_before(code, t)
        for s in subscales:
            out[f"{prefix}_{s}"] = ev.take(s, j)
        when = ev.time_at(j)
        out[f"{prefix}_age_months"] = np.where(
            j >= 0, completed_months(np.where(j >= 0, when, t), t), np.nan
        )
        out[f"{prefix}_missing"] = (j < 0).astype(np.float64)
    return out


def build_rows(ctx: PanelContext, codes: np.ndarray) -> pd.DataFrame:
    """Panel rows (labels and features) of the employees with the given codes."""
    code, p, spell = _rows(ctx, codes)
    t = ctx.period_days[p]
    t_m = month_of(t)
    k = p + ctx.lag
    unit = ctx.spells["unit"][spell]
    values: dict[str, np.ndarray] = {}
    values.update(_person(ctx, spell, t))
    if "caseload" in ctx.events:
        values.update(_caseload(ctx, code, t_m, unit, k))
    if "supervision" in ctx.events:
        svc_start = ctx.service_ep["start"][ctx.service_ep["spell_episode"][spell]]
        values.update(_supervision(ctx, code, t, t_m, svc_start))
    if "absence_months" in ctx.events:
        values.update(_absences(ctx, code, t, t_m))
    values.update(_surveys(ctx, code, t))
    for name, grid in ctx.unit.items():
        values[name] = grid[unit, k]

    frame = {
        "employee_id": _take_str(ctx.employee_ids, code),
        "unit_id": _take_str(ctx.unit_ids, unit),
        "municipality": pd.array(ctx.unit_municipality, dtype="string")[unit],
        "service": pd.array(ctx.unit_service, dtype="string")[unit],
        "period": pd.to_datetime(t.astype("datetime64[D]")).astype("datetime64[ns]"),
    }
    labels = _labels(ctx, spell, t)
    frame.update(labels)
    for name in ctx.present:
        if name == "role":
            frame["role"] = pd.Categorical.from_codes(
                ctx.spells["role"][spell], categories=ctx.roles
            )
        else:
            frame[name] = values[name].astype(FEATURE_DTYPE)
    out = pd.DataFrame(frame)
    return out


def _take_str(index: pd.Index, codes: np.ndarray) -> pd.array:
    cat = pd.Categorical.from_codes(codes, categories=index)
    return pd.array(np.asarray(cat, dtype=object), dtype="string")
