"""Sick-leave kernel: the SSB/NAV percentage by group and period (private; the API is
:func:`turnover_risk.rates.sick_leave_rate`).

Agreed days come from the employment spells split by period; lost days from the overlaps of
absences with the spells of the same person, split by period. Working days are counted on a
cumulative working-day index, never by expanding spells into days.

On a large register (absences and spells together at least
:data:`~turnover_risk.rates._encode.MIN_PARALLEL_ROWS` rows) the two sides run at once on a
small thread pool (numpy releases the GIL; :func:`~turnover_risk.rates._encode.rate_threads`
sets the budget), and the absences are joined to the spells in contiguous slices whose pieces
are concatenated in order, so every array, and every sum, is the same as on one thread.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import pandas as pd

from turnover_risk.data import CERTIFICATIONS, Register, WorkdayIndex
from turnover_risk.privacy import dominated
from turnover_risk.rates._cells import Cells
from turnover_risk.rates._common import _window_periods
from turnover_risk.rates._encode import _chunks, rate_threads, thread_pool
from turnover_risk.rates._grouping import (
    _argsort_int,
    _expand,
    _group_ids,
    _Groups,
    _groups,
    _search_days,
)
from turnover_risk.rates._presence import _PersonSpells
from turnover_risk.rates._protect import protected
from turnover_risk.rates._sick_leave_cells import (
    SickClusters,
    _person_parts,
    add_ratio_ss,
    finish_sick_leave,
    overlap_warning,
    rate_stats,
)
from turnover_risk.rates._spells import _BIG, _OPEN, _days, _prepare, _Spells

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


_VALUE_COLS = ("numerator", "denominator", "rate", "percent", "ci_low", "ci_high", "n_spells",
               "n_persons_absent", "long_spell_share")  # fmt: skip


_BOUNDS = {"n_persons": "max", "n_persons_absent": "max", "numerator": "sum", "_top_lost": "top"}
"""How a coarser cell's columns that the primary rules read are bounded by its children's."""


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
    subsets: list[tuple[str, ...]] | None = None,
    raw: bool = False,
    contributions: list | None = None,
) -> pd.DataFrame:
    """The numbers of :func:`turnover_risk.rates.sick_leave_rate` (arguments already checked).

    ``raw=True``: unsuppressed, every grouping in ``subsets`` (the privacy layer's lattice),
    with the largest contribution of one person in ``_top_lost``; a list ``contributions`` is
    given a function returning ``(row, person, lost days)``: each person's part of each row."""
    if not raw:
        value_cols = [*_VALUE_COLS]
        return protected(
            sick_leave_table, data, by=by, kind=kind, wanted=wanted, margins=margins,
            min_group_size=min_group_size, value_cols=value_cols,
            totals={"certification": "all"} if certification == "split" else None,
            sensitive=dominated, bounds=_BOUNDS, contributions=True, certification=certification,
            start=start, end=end,
            long_spell_days=long_spell_days, confidence=confidence,
        ).drop(columns="_top_lost")  # fmt: skip
    cells, clusters = sick_leave_cells(
        data, by=by, kind=kind, wanted=wanted, certification=certification, start=start,
        end=end, long_spell_days=long_spell_days, margins=margins, subsets=subsets,
    )  # fmt: skip
    add_ratio_ss(cells, clusters)
    out = finish_sick_leave(cells, by=by, margins=margins, confidence=confidence)
    cell_of_row = out.pop("_cell").to_numpy()
    if contributions is not None:  # computed only if the privacy layer asks for them
        parts = functools.partial(_person_parts, clusters.entries(cells), cell_of_row)
        contributions[:] = [functools.cache(parts)]
    return out


def sick_leave_cells(
    data: Register,
    *,
    by: list[str],
    kind: str,
    wanted: list[str] | None,
    certification: str,
    start: object,
    end: object,
    long_spell_days: int,
    margins: bool,
    subsets: list[tuple[str, ...]] | None = None,
    warn: bool = True,
) -> tuple[Cells, SickClusters]:
    """The cell statistics of a sick-leave table and its person clusters (for the interval's
    second pass and the privacy layer's contributions); additive over disjoint persons."""
    ab = data.absences
    a_s = _days(ab["start_date"], "absences.start_date", open_ok=False)
    a_e = _days(ab["end_date"], "absences.end_date", open_ok=True)
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
    ongoing = a_e == _OPEN
    if ongoing.any():  # an ongoing absence lasts to the observation end
        a_e = np.where(ongoing, sp.last, a_e)
    threads = rate_threads(len(ab) + len(sp.start))
    with thread_pool(threads) as pool:
        flags = pool.submit(_absence_flags, ab, a_s, a_e, long_spell_days)
        once = pool.submit(_overlap_free_starts, a_person, a_s, a_e)
        groups = _groups(sp, by, margins, subsets)

        # periods clipped to the window
        p0, p1, labels = _window_periods(kind, sp.first, sp.last, wanted)
        K = len(labels)
        idx = WorkdayIndex(np.datetime64(int(p0.min()), "D"), np.datetime64(int(p1.max()), "D"))

        # employment spells x periods: row offset[i] + (k - lo[i]) is spell i in period k
        s_c = np.maximum(sp.start, p0.min())
        e_c = np.minimum(sp.end, p1.max())
        lo = _search_days(p1, s_c, side="left")
        hi = np.where(e_c < s_c, lo - 1, _search_days(p0, e_c, side="right") - 1)
        n_rows = np.maximum(hi - lo + 1, 0)
        offset = np.cumsum(n_rows) - n_rows
        agreed_side = pool.submit(_agreed_side, sp, groups, idx, p0, p1, s_c, e_c, lo, hi, K)

        # absences x employment spells of the same person, overlapping, split by period;
        # day numbers fit int32 (the datetime64[ns] range is +-106 752 days): half the traffic
        by_person = pool.submit(_PersonSpells, sp.person, sp.n_person, _int32(s_c), _int32(e_c))
        grade, is_self, long = flags.result()
        a_s, n_overlaps = once.result()
        if n_overlaps and warn:
            overlap_warning(n_overlaps)
        absences = _Absences(a_person, _int32(a_s), _int32(a_e), grade, is_self, long)
        by_person = by_person.result()
        parts = [
            pool.submit(_pieces, by_person, absences, c, sp, groups, idx, p0, p1, lo, offset)
            for c in _chunks(len(ab), 2 * threads)  # balance with the agreed side
        ]
        pc = _Pieces.concat([f.result() for f in parts])
        ag = agreed_side.result()
        cells, clusters = rate_stats(
            pool, ag, pc, groups, K, labels, p0, p1, certification, len(ab), sp.n_person
        )
    cells.window = dict(sp.window)
    cells.tallies["overlapping_absences"] = int(n_overlaps)
    return cells, clusters


def _absence_flags(
    ab: pd.DataFrame, a_s: np.ndarray, a_e: np.ndarray, long_spell_days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grade (1 for self-certified absences), self-certified and long flags of each absence."""
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
    return grade, is_self, long


def _overlap_free_starts(
    person: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, int]:
    """Start days moved past the days an earlier absence of the same person already covers
    (so overlapping absences count each day once), and how many absences were moved."""
    if len(person) < 2:
        return start, 0
    base = int(start.min())
    order = _argsort_int(person.astype(np.int64) * _BIG + (start - base))
    p = person[order].astype(np.int64)
    s = start[order]
    # running latest end within each person: person-major keys keep persons apart
    cm = np.maximum.accumulate(p * _BIG + (np.maximum(end[order], base - 1) - base))
    prev_end = cm[:-1] - p[1:] * _BIG + base
    hit = (p[1:] == p[:-1]) & (p[1:] >= 0) & (s[1:] <= prev_end)
    if not hit.any():
        return start, 0
    moved = start.copy()
    moved[order[1:][hit]] = prev_end[hit] + 1
    return moved, int(hit.sum())


def _int32(days: np.ndarray) -> np.ndarray:
    """Day numbers as int32 (every date of the datetime64[ns] range fits; the open end too)."""
    return days.astype(np.int32)


class _Absences(NamedTuple):
    """The absence columns the pieces need, as arrays."""

    person: np.ndarray  # person code (-1: no employment)
    start: np.ndarray
    end: np.ndarray
    grade: np.ndarray  # sick-leave grade (1 for self-certified absences)
    is_self: np.ndarray
    long: np.ndarray  # longer than long_spell_days


class _Agreed(NamedTuple):
    """Employment x period rows and, per grouping, the agreed days and person clusters."""

    n_rows: int
    per_grouping: list[tuple[np.ndarray, ...]]  # (gp_e, D, cl, cl_u, cl_gp, d_cl, n_cl, n_any)


def _agreed_side(
    sp: _Spells,
    groups: _Groups,
    idx: WorkdayIndex,
    p0: np.ndarray,
    p1: np.ndarray,
    s_c: np.ndarray,
    e_c: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    K: int,
) -> _Agreed:
    """Agreed days per (group, period) and per cluster (group, period, person)."""
    ei, ek = _expand(lo, hi)
    agreed = idx.count(np.maximum(s_c[ei], p0[ek]), np.minimum(e_c[ei], p1[ek])) * sp.fte[ei]
    cell_e = groups.cell[ei]
    m = np.int64(max(sp.n_person, 1))
    out = []
    for g_of_cell, table in groups.groupings:
        G = len(table)
        gp_e = g_of_cell[cell_e] * K + ek
        D = np.bincount(gp_e, weights=agreed, minlength=G * K)
        # clusters: (group-period, person); their number per group-period is n_persons
        cl, cl_u = _group_ids(gp_e * m + sp.person[ei])
        cl_gp = cl_u // m
        d_cl = np.bincount(cl, weights=agreed, minlength=len(cl_u))
        n_any = np.bincount(cl_gp, minlength=G * K)
        # persons without an agreed working day in the period are not counted (n_persons)
        n_cl = n_any - np.bincount(cl_gp, weights=d_cl <= 0, minlength=G * K).astype(np.int64)
        out.append((gp_e, D, cl, cl_u, cl_gp, d_cl, n_cl, n_any))
    return _Agreed(len(ei), out)


class _Pieces(NamedTuple):
    """Absence x spell x period pieces, in the order of the absences."""

    pk: np.ndarray  # period
    a_idx: np.ndarray  # absence row
    row: np.ndarray  # employment x period row
    lost: np.ndarray  # lost working days (x fte x grade)
    person: np.ndarray
    positive: np.ndarray  # at least one working day
    cell: np.ndarray  # cell of the spell
    is_self: np.ndarray
    long: np.ndarray

    @classmethod
    def concat(cls, parts: list[_Pieces]) -> _Pieces:
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate(arrays) for arrays in zip(*parts, strict=True)))


def _pieces(
    by_person: _PersonSpells,
    ab: _Absences,
    c: slice,
    sp: _Spells,
    groups: _Groups,
    idx: WorkdayIndex,
    p0: np.ndarray,
    p1: np.ndarray,
    lo: np.ndarray,
    offset: np.ndarray,
) -> _Pieces:
    """Pieces of the absences in slice ``c``."""
    ai, ej, ps, pe = by_person.overlaps(ab.person[c], ab.start[c], ab.end[c])
    ai += c.start
    # pieces lie inside the window: look their periods up in a table of the window's days
    w0 = int(p0.min())
    window_days = np.arange(w0, int(p1.max()) + 1)
    plo = np.searchsorted(p1, window_days, side="left")[ps - w0]
    phi = (np.searchsorted(p0, window_days, side="right") - 1)[pe - w0]
    pj, pk = _expand(plo, phi)
    a_idx, e_idx = ai[pj], ej[pj]
    days = idx.count(np.maximum(ps[pj], p0[pk]), np.minimum(pe[pj], p1[pk]))
    lost = days * sp.fte[e_idx] * ab.grade[a_idx]
    row = offset[e_idx] + (pk - lo[e_idx])
    return _Pieces(
        pk,
        a_idx,
        row,
        lost,
        sp.person[e_idx],
        days > 0,
        groups.cell[e_idx],
        ab.is_self[a_idx],
        ab.long[a_idx],
    )
