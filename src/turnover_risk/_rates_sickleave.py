"""Sick-leave kernel: the SSB/NAV percentage by group and period (private; the API is
:func:`turnover_risk.rates.sick_leave_rate`).

Agreed days come from the employment spells split by period; lost days from the overlaps of
absences with the spells of the same person, split by period. Working days are counted on a
cumulative working-day index, never by expanding spells into days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from turnover_risk._rates_common import _finish, _grid, _result_frame, _select_periods
from turnover_risk._rates_intervals import _ratio_interval
from turnover_risk._rates_spells import (
    _days,
    _distinct,
    _expand,
    _group_ids,
    _groups,
    _prepare,
    _same_person_overlaps,
)
from turnover_risk.calendar import WorkdayIndex
from turnover_risk.schema import CERTIFICATIONS, Register

_SICK_COLUMNS = [
    "period",
    "certification",
    "numerator",
    "denominator",
    "rate",
    "percent",
    "ci_low",
    "ci_high",
    "n_persons",
    "suppressed",
    "n_spells",
    "n_persons_absent",
    "long_spell_share",
]


def sick_leave_table(
    data: Register,
    *,
    by: list[str],
    kind: str,
    wanted: list[str] | None,
    certification: str,
    start: object,
    end: object,
    long_spell_days: int,
    min_group_size: int,
    margins: bool,
    confidence: float,
) -> pd.DataFrame:
    """The numbers of :func:`turnover_risk.rates.sick_leave_rate` (arguments already checked)."""
    ab = data.absences
    a_s = _days(ab["start_date"], "absences.start_date", open_ok=False)
    a_e = _days(ab["end_date"], "absences.end_date", open_ok=False)
    sp, a_person = _prepare(
        data,
        who="sick_leave_rate",
        by=by,
        start=start,
        end=end,
        extra_dates=[a_e],
        extra_ids=ab["employee_id"],
        event_starts=a_s,
    )
    groups = _groups(sp, by, margins)
    c_codes, c_uniq = pd.factorize(ab["certification"])
    c_norm = pd.Index(c_uniq).astype(str).str.strip().str.lower()
    bad = (c_codes < 0) | ~np.isin(np.asarray(c_norm, dtype=object), CERTIFICATIONS)[c_codes]
    if bad.any():
        raise ValueError(
            f"absences.certification has {int(bad.sum())} values outside "
            f"{list(CERTIFICATIONS)}; run turnover_risk.validate(register) to see them."
        )
    is_self = (np.asarray(c_norm, dtype=object) == "self")[c_codes] & (c_codes >= 0)
    if "grade" in ab.columns:
        grade = pd.to_numeric(ab["grade"], errors="coerce").to_numpy(dtype=float)
        grade = np.where(np.isnan(grade), 1.0, grade)
    else:
        grade = np.ones(len(ab))
    grade = np.where(is_self, 1.0, grade)
    long = (a_e - a_s + 1) > long_spell_days

    # periods clipped to the window
    p0, p1, labels = _grid(kind, sp.first, sp.last)
    p0 = np.maximum(p0, sp.first)
    p1 = np.minimum(p1, sp.last)
    sel = _select_periods(labels, np.ones(len(labels), dtype=bool), wanted)
    ks = np.flatnonzero(sel)
    p0, p1 = p0[ks], p1[ks]
    labels = [labels[k] for k in ks]
    K = len(ks)
    idx = WorkdayIndex(np.datetime64(int(p0.min()), "D"), np.datetime64(int(p1.max()), "D"))

    # employment spells x periods
    s_c = np.maximum(sp.start, p0.min())
    e_c = np.minimum(sp.end, p1.max())
    lo = np.searchsorted(p1, s_c, side="left")
    hi = np.where(e_c < s_c, lo - 1, np.searchsorted(p0, e_c, side="right") - 1)
    n_rows = np.maximum(hi - lo + 1, 0)
    offset = np.cumsum(n_rows) - n_rows
    ei, ek = _expand(lo, hi)
    agreed = idx.count(np.maximum(s_c[ei], p0[ek]), np.minimum(e_c[ei], p1[ek])) * sp.fte[ei]

    # absences x employment spells of the same person, overlapping
    ai, ej, ps, pe = _same_person_overlaps(sp.person, sp.n_person, s_c, e_c, a_person, a_s, a_e)
    # split the pieces by period (pieces lie inside the window: look the days up in a table)
    w0 = int(p0.min())
    window_days = np.arange(w0, int(p1.max()) + 1)
    plo = np.searchsorted(p1, window_days, side="left")[ps - w0]
    phi = (np.searchsorted(p0, window_days, side="right") - 1)[pe - w0]
    pj, pk = _expand(plo, phi)
    a_idx, e_idx = ai[pj], ej[pj]
    days = idx.count(np.maximum(ps[pj], p0[pk]), np.minimum(pe[pj], p1[pk]))
    lost = days * sp.fte[e_idx] * grade[a_idx]
    row = offset[e_idx] + (pk - lo[e_idx])  # row of the employment x period expansion
    p_person = sp.person[e_idx]
    positive = days > 0
    cell_e, cell_p = groups.cell[ei], groups.cell[e_idx]
    n_exp = len(ei)
    variants = {"all": None, "self": True, "doctor": False}
    wanted_certs = ["all", "self", "doctor"] if certification == "split" else [certification]
    parts = []
    for g_of_cell, table in groups.groupings:
        G = len(table)
        gp_e = g_of_cell[cell_e] * K + ek
        D = np.bincount(gp_e, weights=agreed, minlength=G * K)
        # clusters: (group-period, person); their number per group-period is n_persons
        cl, cl_u = _group_ids(gp_e * np.int64(max(sp.n_person, 1)) + sp.person[ei])
        cl_gp = cl_u // max(sp.n_person, 1)
        d_cl = np.bincount(cl, weights=agreed, minlength=len(cl_u))
        gp_p = g_of_cell[cell_p] * K + pk
        n_cl = np.bincount(cl_gp, minlength=G * K)
        n_pers = n_cl
        present = n_pers > 0
        for cname in wanted_certs:
            flag = variants[cname]
            m = np.ones(len(lost), dtype=bool) if flag is None else (is_self[a_idx] == flag)
            lost_row = np.bincount(row[m], weights=lost[m], minlength=n_exp)
            L = np.bincount(gp_e, weights=lost_row, minlength=G * K)
            mm = m & positive
            long_l = np.bincount(
                gp_p[mm & long[a_idx]], weights=lost[mm & long[a_idx]], minlength=G * K
            )
            spells = _distinct(gp_p[mm], a_idx[mm], G * K, len(ab))
            absent = _distinct(gp_p[mm], p_person[mm], G * K, sp.n_person)
            l_cl = np.bincount(cl, weights=lost_row, minlength=len(cl_u))
            R, ci_lo, ci_hi = _ratio_interval(L, D, l_cl, d_cl, cl_gp, n_cl, confidence)
            with np.errstate(divide="ignore", invalid="ignore"):
                long_share = np.where(L > 0, long_l / L, np.nan)
            rate = np.where(D > 0, R, np.nan)
            frame = _result_frame(
                table,
                K,
                present,
                period_labels=labels,
                tags={"certification": cname},
                dates={"period_start": p0, "period_end": p1},
                values={
                    "numerator": L,
                    "denominator": D,
                    "rate": rate,
                    "percent": 100 * rate,
                    "ci_low": ci_lo,
                    "ci_high": ci_hi,
                    "n_persons": n_pers,
                    "n_spells": spells,
                    "n_persons_absent": absent,
                    "long_spell_share": long_share,
                },
            )
            parts.append(frame)
    value_cols = ["numerator", "denominator", "rate", "percent", "ci_low", "ci_high"]
    value_cols += ["n_spells", "n_persons_absent", "long_spell_share"]
    within = ("period", "certification")
    out = _finish(
        parts,
        by=by,
        margins=margins,
        min_group_size=min_group_size,
        value_cols=value_cols,
        within=within,
    )
    out.attrs["observation_window"] = dict(sp.window)
    return out
