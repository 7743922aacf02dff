"""Rules across rows and tables, applied after every table is typed (private).

Each function adds its problems to a :class:`~turnover_risk.data._rules._Collector` and marks
the rejected rows in the table's bad-row mask; the later of two clashing rows is the one
rejected. Messages name the row's line and column; they never show an employee id.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from turnover_risk.data._rules import (
    SourceInfo,
    _Collector,
    _covering_end,
    _isin,
    _overlaps,
)

FTE_TOLERANCE = 1e-6
"""Slack on the total fte of one person's simultaneous spells (sums of shares like 0.1)."""


def _iso(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m-%d")


def employment_checks(
    emp: pd.DataFrame,
    units: pd.DataFrame | None,
    units_bad: np.ndarray | None,
    src: SourceInfo,
    col: _Collector,
    b: np.ndarray,
) -> None:
    """Overlapping spells, exit reasons that contradict the end date, total fte above 1 and
    unit ids the units table does not list."""
    if "end_date" in emp.columns:
        ov = _overlaps(emp.loc[~b], ["employee_id", "unit_id"])
        idx = np.flatnonzero(~b)[ov]
        col.add(
            "employment",
            src,
            idx,
            "start_date",
            _iso(emp["start_date"].iloc[idx]),
            "overlapping_spell",
            "this spell overlaps an earlier spell of the same employee in the same unit; "
            "end the earlier spell the day before or merge them",
        )
        b[idx] = True
        if "exit_reason" in emp.columns:
            _exit_reasons(emp, src, col, b)
        if "fte" in emp.columns:
            _total_fte(emp, src, col, b)
    if units is not None and "unit_id" in units.columns:
        known_units = units["unit_id"][~units_bad].dropna().unique()
        unk = ~_isin(emp["unit_id"], known_units) & emp["unit_id"].notna().to_numpy()
        col.add(
            "employment",
            src,
            np.flatnonzero(unk),
            "unit_id",
            emp["unit_id"][unk],
            "unknown_unit",
            "unit_id is not in the units table; add the unit or fix the id",
        )
        b |= unk


def _exit_reasons(emp: pd.DataFrame, src: SourceInfo, col: _Collector, b: np.ndarray) -> None:
    has_reason = emp["exit_reason"].notna().to_numpy()
    is_open = emp["end_date"].isna().to_numpy()
    open_reason = ~b & is_open & has_reason
    col.add(
        "employment",
        src,
        np.flatnonzero(open_reason),
        "exit_reason",
        emp["exit_reason"][open_reason],
        "exit_reason_mismatch",
        "the spell is open (no end_date) but has an exit_reason; add the end_date or "
        "empty the exit_reason",
    )
    # a column left empty throughout is a system that does not record reasons: no problem
    closed = ~b & ~is_open & ~has_reason & has_reason.any()
    col.add(
        "employment",
        src,
        np.flatnonzero(closed),
        "exit_reason",
        "",
        "exit_reason_mismatch",
        "the spell has an end_date but no exit_reason, while other spells have one; fill it "
        "in (internal_transfer for a move, other when unknown)",
    )
    b |= open_reason | closed


def _total_fte(emp: pd.DataFrame, src: SourceInfo, col: _Collector, b: np.ndarray) -> None:
    """Spells that take a person's total fte above 1 on their first day."""
    ok = np.flatnonzero(~b & emp["start_date"].notna().to_numpy() & emp["fte"].notna().to_numpy())
    if len(ok) < 2:
        return
    e = emp.iloc[ok]
    person = pd.factorize(e["employee_id"])[0].astype(np.int64)
    if len(np.unique(person)) == len(person):
        return
    s = e["start_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    end = e["end_date"].to_numpy(dtype="datetime64[D]")
    en = np.where(np.isnat(end), np.int64(1) << 40, end.astype(np.int64))
    fte = e["fte"].to_numpy(dtype=float)
    # events: +fte on the first day, -fte the day after the last; ends before starts on a day
    day = np.r_[s, en + 1]
    delta = np.r_[fte, -fte]
    who = np.r_[person, person]
    kind = np.r_[np.ones(len(s)), np.zeros(len(s))]
    order = np.lexsort((kind, day, who))
    total = pd.Series(delta[order]).groupby(who[order]).cumsum().to_numpy()
    over = (total > 1 + FTE_TOLERANCE) & (kind[order] == 1)
    rows = ok[order[over] % len(s)] if over.any() else np.zeros(0, dtype=np.int64)
    rows = np.unique(rows)
    col.add(
        "employment",
        src,
        rows,
        "fte",
        emp["fte"].iloc[rows],
        "fte_over_one",
        "with this spell the person's spells at the same time add up to more than fte 1; "
        "end the earlier spell or correct the fte",
    )
    b[rows] = True


def person_table_checks(
    typed: Mapping[str, pd.DataFrame],
    bad: Mapping[str, np.ndarray],
    sources: Mapping[str, SourceInfo],
    col: _Collector,
) -> None:
    """Rows of persons without (kept) employment, rows dated outside every spell of the
    person, and overlapping absences."""
    emp = typed["employment"]
    good_emp = emp.loc[~bad["employment"]]
    known_ids = pd.Index(good_emp["employee_id"].dropna().unique())
    all_ids = pd.Index(emp["employee_id"].dropna().unique())
    for name, date_cols in (
        ("absences", ("start_date", "end_date")),
        ("caseload", ("month", None)),
        ("supervision", ("date", "date")),
        ("surveys", (None, None)),
    ):
        t = typed.get(name)
        if t is None or "employee_id" not in t.columns or not len(t):
            continue
        src = sources.get(name, SourceInfo())
        b = bad[name]
        unknown = ~_isin(t["employee_id"], known_ids) & t["employee_id"].notna().to_numpy()
        unknown = unknown & ~b
        rejected_emp = _isin(t["employee_id"], all_ids)
        col.add(
            name,
            src,
            np.flatnonzero(unknown),
            "employee_id",
            "",
            "unknown_employee",
            np.where(
                rejected_emp[unknown],
                "every employment row of this person was rejected (see the employment "
                "problems); fix those rows and this one is kept",
                "employee_id has no row in the employment table; add the person's "
                "employment spell or remove the row",
            ),
        )
        b |= unknown
        first_col, last_col = date_cols
        if first_col is None or first_col not in t.columns:
            continue
        first = t[first_col]
        if name == "caseload":
            last = first + pd.offsets.MonthEnd(0)
        else:
            last = t[last_col] if last_col in t.columns else first
            last = last.fillna(first)  # an ongoing absence: its first day must be covered
        cover = _covering_end(good_emp, t["employee_id"], last)
        ok_rows = ~b & first.notna().to_numpy()
        outside = ok_rows & ~(cover >= first.to_numpy(dtype="datetime64[ns]"))
        what = {
            "absences": "the absence spell",
            "caseload": "the caseload month",
            "supervision": "the session date",
        }[name]
        col.add(
            name,
            src,
            np.flatnonzero(outside),
            first_col,
            _iso(first[outside]),
            "outside_employment",
            f"{what} falls outside every employment spell of this person; fix the date or "
            "the employment spell",
        )
        b |= outside
    ab = typed.get("absences")
    if ab is not None and {"employee_id", "start_date", "end_date"} <= set(ab.columns):
        b = bad["absences"]
        ov = _overlaps(ab.loc[~b], ["employee_id"])
        idx = np.flatnonzero(~b)[ov]
        col.add(
            "absences",
            sources.get("absences", SourceInfo()),
            idx,
            "start_date",
            _iso(ab["start_date"].iloc[idx]),
            "overlapping_absence",
            "this absence overlaps an earlier absence of the same employee; merge the spells "
            "or correct the dates",
        )
        b[idx] = True


def unit_change_checks(
    changes: pd.DataFrame, src: SourceInfo, col: _Collector, b: np.ndarray
) -> None:
    """A change to the same unit, and chains of changes that come back to a unit."""
    if not {"old_unit_id", "new_unit_id"} <= set(changes.columns):
        return
    old = changes["old_unit_id"].astype("string")
    new = changes["new_unit_id"].astype("string")
    same = ~b & (old == new).fillna(False).to_numpy(dtype=bool)
    col.add(
        "unit_changes",
        src,
        np.flatnonzero(same),
        "new_unit_id",
        new[same],
        "bad_unit_change",
        "new_unit_id equals old_unit_id; remove the row",
    )
    b |= same
    step = dict(zip(old[~b].dropna(), new[~b].dropna(), strict=False))
    cyc = np.zeros(len(changes), dtype=bool)
    for i in np.flatnonzero(~b):
        seen, u = {old.iloc[i]}, new.iloc[i]
        while u in step and u not in seen:
            seen.add(u)
            u = step[u]
        cyc[i] = u in seen
    col.add(
        "unit_changes",
        src,
        np.flatnonzero(cyc),
        "new_unit_id",
        new[cyc],
        "bad_unit_change",
        "the unit changes form a loop (a unit becomes, in the end, itself); fix the ids",
    )
    b |= cyc
