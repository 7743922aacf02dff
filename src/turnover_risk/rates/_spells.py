"""Employment spells as arrays, and the vectorised primitives of the rate kernels (private).

:func:`_prepare` turns a register into day numbers, person codes (shared with the absences) and
unit codes, each identifier column encoded once per call (:mod:`._rates_encode`), and settles
the observation window (:func:`_window`; left truncation: :mod:`._rates_window`). The helpers
count distinct persons, expand spells over periods and join absences to the spells of the same
person without ever expanding a spell into days.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.data._schema import Register
from turnover_risk.privacy._suppression import TOTAL_LABEL
from turnover_risk.rates._common import _to_day
from turnover_risk.rates._encode import factorize, factorize_lookup, rate_threads, thread_pool
from turnover_risk.rates._window import (
    detect_left_truncation,
    metadata_window,
    record_starts,
    truncation_message,
)

_OPEN = 2**30  # open end: far beyond any real date (days since 1970)

_BIG = np.int64(2**31)


def _days(s: pd.Series, name: str, *, open_ok: bool) -> np.ndarray:
    try:
        values = pd.to_datetime(s)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold dates; could not parse it as dates.") from exc
    arr = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    nat = np.isnat(arr)
    out = arr.astype(np.int64)
    if nat.any():
        if not open_ok:
            raise ValueError(
                f"{name} has {int(nat.sum())} missing dates; every spell needs one. "
                "Run turnover_risk.validate(register) to see the rows."
            )
        out[nat] = _OPEN
    return out


@dataclass
class _Spells:
    frame: pd.DataFrame  # employment rows (reset index) plus the unit attributes named in `by`
    person: np.ndarray
    n_person: int
    start: np.ndarray
    end: np.ndarray  # _OPEN for open spells
    fte: np.ndarray
    first: int  # observation window, days
    last: int
    unit: np.ndarray  # code of each spell's unit_id (-1: missing), computed once per call
    n_unit: int
    unit_row: np.ndarray  # row of each spell's unit in `units` (-1: not in the units table)
    units: pd.DataFrame | None  # unit attributes not in the employment table, one row per unit

    window: dict[str, str] = field(default_factory=dict)  # see _window; goes to out.attrs

    def columns(self) -> list[str]:
        """Columns available for ``by`` and ``scope``: employment, then unit attributes."""
        extra = [] if self.units is None else [c for c in self.units if c not in self.frame]
        return [*map(str, self.frame.columns), *extra]

    def codes(self, col: str, *, na_code: bool = False) -> tuple[np.ndarray, int]:
        """Integer code of ``col`` for each spell and the number of distinct values.

        Missing values get -1, or a code of their own (the number of values) with
        ``na_code``. Unit attributes are encoded on the units table and broadcast through
        the unit codes, so a column of a million strings is never hashed twice.
        """
        if col == "unit_id":
            k, n = self.unit, self.n_unit
        elif col in self.frame.columns:
            k, uniques = factorize(self.frame[col])
            n = len(uniques)
        else:
            uk, uniques = factorize(self.units[col])  # type: ignore[index]
            n = len(uniques)
            k = np.where(self.unit_row >= 0, uk[np.maximum(self.unit_row, 0)], -1)
        if na_code:
            k = np.where(k < 0, n, k)
        return k, n


def _employment_frame(data: object, *, who: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    if isinstance(data, Register):
        return data.employment, data.units
    if isinstance(data, pd.DataFrame):
        return data, None
    raise TypeError(
        f"{who} expects a Register or an employment DataFrame; got {type(data).__name__}. "
        "Use turnover_risk.read_register(folder) or Register(employment=df, units=units)."
    )


def _require_columns(emp: pd.DataFrame) -> None:
    need = ["employee_id", "unit_id", "start_date", "end_date", "fte"]
    missing = [c for c in need if c not in emp.columns]
    if missing:
        raise ValueError(
            f"the employment table lacks required columns {missing}; it has {list(emp.columns)}."
        )


def _spell_dates(emp: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end days (``_OPEN`` for an open end) and fte of each spell."""
    s = _days(emp["start_date"], "employment.start_date", open_ok=False)
    e = _days(emp["end_date"], "employment.end_date", open_ok=True)
    fte = pd.to_numeric(emp["fte"], errors="coerce").to_numpy(dtype=float)
    return s, e, fte


def _join_units(
    emp: pd.DataFrame, units: pd.DataFrame | None
) -> tuple[pd.DataFrame, np.ndarray, int, np.ndarray, pd.DataFrame | None]:
    """Employment rows, the unit codes, and each spell's row in the deduplicated units table.

    Unit ids are matched as strings (an integer id in one table finds its string twin in the
    other). Each distinct unit is looked up once; attributes are broadcast on demand.
    """
    _require_columns(emp)
    emp = emp.reset_index(drop=True)
    unit, uniq = factorize(emp["unit_id"])
    n_unit = len(uniq)
    no_row = np.full(len(emp), -1, dtype=np.int64)
    if units is None or units.empty or "unit_id" not in units.columns:
        return emp, unit, n_unit, no_row, None
    extra = [c for c in units.columns if c != "unit_id" and c not in emp.columns]
    if not extra:
        return emp, unit, n_unit, no_row, None
    u = units[["unit_id", *extra]].drop_duplicates("unit_id").reset_index(drop=True)
    upos = pd.Index(u["unit_id"].astype(str)).get_indexer(pd.Index(uniq).astype(str))
    unit_row = np.where(unit >= 0, upos[np.maximum(unit, 0)], -1).astype(np.int64)
    return emp, unit, n_unit, unit_row, u


def _prepare(
    data: object,
    *,
    who: str,
    by: list[str],
    start: object,
    end: object,
    extra_dates: Sequence[np.ndarray] = (),
    extra_ids: pd.Series | None = None,
    event_starts: np.ndarray | None = None,
) -> tuple[_Spells, np.ndarray | None]:
    """Spells as arrays; with ``extra_ids`` (the absences' employee ids) also their person
    codes in the same code space (-1: a person without employment).

    The observation window is settled here (:func:`_window`); ``event_starts`` (the absence
    start days, for sick leave) are checked for left truncation as well as the spells. On a
    large register the person ids are encoded while other threads join the units and read
    the dates (errors are raised in the same order as on one thread).
    """
    emp, units = _employment_frame(data, who=who)
    _require_columns(emp)
    n_rows = len(emp) + (0 if extra_ids is None else len(extra_ids))
    with thread_pool(min(rate_threads(n_rows), 2)) as pool:
        joined = pool.submit(_join_units, emp, units)
        dates = pool.submit(_spell_dates, emp)
        if extra_ids is None:
            person, uniq = factorize(emp["employee_id"])
            extra_person = None
        else:  # one code space, so both tables share the person codes
            person, uniq, extra_person = factorize_lookup(emp["employee_id"], extra_ids)
        frame, unit, n_unit, unit_row, u = joined.result()
    available = [*map(str, frame.columns)]
    if u is not None:
        available += [c for c in u.columns if c != "unit_id"]
    unknown = [c for c in by if c not in available]
    if unknown:
        raise ValueError(
            f"by={unknown} names columns that are not in the data; available columns: "
            f"{', '.join(available)}. Unit attributes (municipality, service) "
            "come from the register's units table."
        )
    from_units = [c for c in by if c not in frame.columns]
    if from_units:  # the group tables show these values: put them on the rows
        frame = frame.copy(deep=False)
        for c in from_units:
            frame[c] = u[c].reindex(unit_row).reset_index(drop=True)  # type: ignore[index]
    s, e, fte = dates.result()
    if len(fte) and (np.isnan(fte).any() or (fte <= 0).any() or (fte > 1).any()):
        raise ValueError(
            "employment.fte must be a number with 0 < fte <= 1 in every row; "
            f"{int((~((fte > 0) & (fte <= 1))).sum())} rows are not. Run "
            "turnover_risk.validate(register) to see them."
        )
    if (person < 0).any():
        raise ValueError("employment.employee_id has missing values; every spell needs a person.")
    dated = [s, e[e != _OPEN], *[d[d != _OPEN] for d in extra_dates]]
    dated = [d for d in dated if len(d)]
    first, last, window = _window(data, who, s, e, dated, start, end, event_starts)
    sp = _Spells(
        frame, person, len(uniq), s, e, fte, first, last, unit, n_unit, unit_row, u, window
    )
    return sp, extra_person


def _window(
    data: object,
    who: str,
    s: np.ndarray,
    e: np.ndarray,
    dated: list[np.ndarray],
    start: object,
    end: object,
    event_starts: np.ndarray | None,
) -> tuple[int, int, dict[str, str]]:
    """First and last day of the observation window and how each was chosen.

    ``start``/``end`` win, then the register's metadata; a missing end is the latest date in
    the data. A missing start is the earliest employment start unless the employment table
    (or, with ``event_starts``, the absences) is left-truncated
    (:func:`._rates_window.detect_left_truncation`): then the inferred start, with one
    :class:`~turnover_risk.DataQualityWarning` saying what was inferred and how to override.
    """
    sources = {"start": "argument", "end": "argument"}
    if start is None or end is None:
        meta_start, meta_end = metadata_window(data)
        if start is None and meta_start is not None:
            start, sources["start"] = meta_start, "metadata"
        if end is None and meta_end is not None:
            end, sources["end"] = meta_end, "metadata"
    first = _to_day(start, "start")
    last = _to_day(end, "end")
    if last is None:
        last, sources["end"] = int(max(d.max() for d in dated)), "data"
    note = None
    if first is None:
        first, sources["start"] = int(s.min()), "data"
        found = []
        if first <= last:
            spell_ends = detect_left_truncation(
                s,
                e,
                e[e != _OPEN],
                first=first,
                last=last,
                table="employment",
                event="spell end (exit or move)",
                candidates=lambda: record_starts(data, ("absences", "caseload", "supervision")),
            )
            found += [spell_ends] if spell_ends is not None else []
            if event_starts is not None:
                absences = detect_left_truncation(
                    s,
                    e,
                    event_starts,
                    first=first if spell_ends is None else spell_ends.start,
                    last=last,
                    table="absences",
                    event="absence",
                    candidates=lambda: record_starts(data, ("caseload", "supervision")),
                )
                found += [absences] if absences is not None else []
        if found:
            note = truncation_message(who, found, first)
            first, sources["start"] = max(t.start for t in found), "inferred"
            warnings.warn(note, DataQualityWarning, stacklevel=5)
    if last < first:
        raise ValueError(f"end={end!r} is before start={start!r}; nothing to compute.")
    window = {
        "start": str(np.datetime64(first, "D")),
        "end": str(np.datetime64(last, "D")),
        "start_source": sources["start"],
        "end_source": sources["end"],
    }
    if note is not None:
        window["left_truncation"] = note
    return first, last, window


def _entity_codes(sp: _Spells, scope: str) -> np.ndarray:
    """Code of the scope entity of each spell (unit, service, municipality or one for all)."""
    if scope == "any":
        return np.zeros(len(sp.person), dtype=np.int64)
    if scope == "unit":
        return sp.unit
    have = set(sp.columns())
    cols = ["municipality", "service"] if scope == "service" else ["municipality"]
    if scope == "service" and "municipality" not in have:
        cols = ["service"]
    missing = [c for c in cols if c not in have]
    if missing or (scope == "service" and "service" not in have):
        raise ValueError(
            f"scope={scope!r} needs the unit attribute '{scope}', which the data lack. Pass a "
            "Register with a units table holding it (or add the column to the employment "
            "frame), or use scope='unit' or scope='any'."
        )
    codes = np.zeros(len(sp.person), dtype=np.int64)
    absent = np.zeros(len(sp.person), dtype=bool)
    for c in cols:
        k, n = sp.codes(c)
        absent |= k < 0
        codes = codes * (n + 1) + k
    if absent.any():
        raise ValueError(
            f"scope={scope!r}: {int(absent.sum())} employment spells have no "
            f"{' / '.join(cols)} (unit missing from the units table or the attribute empty). "
            "Complete the units table or use scope='unit'."
        )
    return _group_ids(codes)[0]


def _argsort_int(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` for int64 keys, several times faster.

    When the key and the row number fit 63 bits together, the row number is packed into the
    low bits and the packed values sorted with numpy's (vectorised) sort.
    """
    n = len(key)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = np.asarray(key, dtype=np.int64)
    lo, hi = int(key.min()), int(key.max())
    bits = max((n - 1).bit_length(), 1)
    if lo >= 0 and hi < (1 << (63 - bits)):
        return np.sort((key << bits) | np.arange(n, dtype=np.int64)) & ((1 << bits) - 1)
    return np.argsort(key, kind="stable")


def _group_ids(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of the distinct values of an int64 ``key``, numbered in sorted key order
    (as ``np.unique(key, return_inverse=True)``): returns (id of each row, key of each id).

    A sort (:func:`_argsort_int`), several times faster than a hash table here.
    """
    n = len(key)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = np.asarray(key, dtype=np.int64)
    rows = _argsort_int(key)
    sk = key[rows]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    ids = np.empty(n, dtype=np.int64)
    ids[rows] = np.cumsum(new) - 1
    return ids, sk.take(np.flatnonzero(new))  # take() beats boolean indexing


def _group_ids_first(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of the distinct values of ``key`` and the first row of each id."""
    ids, _ = _group_ids(key)
    first = np.full(int(ids.max()) + 1 if len(ids) else 0, len(ids), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(ids), dtype=np.int64))
    return ids, first


@dataclass
class _Groups:
    """Cells (unit x by-group) and the requested groupings (main one first, then margins)."""

    cell: np.ndarray  # cell code of each spell
    n_cell: int
    groupings: list[tuple[np.ndarray, pd.DataFrame]]  # (cell -> group code, group table)


def _groups(sp: _Spells, by: list[str], margins: bool) -> _Groups:
    f = sp.frame
    cols = ["unit_id", *[c for c in by if c != "unit_id"]]
    codes = np.zeros(len(f), dtype=np.int64)
    col_codes = {}
    col_n = {}
    for c in cols:
        k, n = sp.codes(c, na_code=True)
        col_codes[c], col_n[c] = k, n
        codes = codes * (n + 1) + k
    cell, cell_keys = _group_ids(codes)
    first_row = np.zeros(len(cell_keys), dtype=np.int64)
    first_row[cell[::-1]] = np.arange(len(cell))[::-1]  # first spell of each cell
    n_cell = len(cell_keys)
    groupings = []
    subsets = [tuple(by)]
    if margins and by:
        subsets += [s for r in range(len(by) - 1, -1, -1) for s in combinations(by, r)]
    for subset in subsets:
        gcodes = np.zeros(n_cell, dtype=np.int64)
        for c in subset:
            k = col_codes[c][first_row]
            gcodes = gcodes * (col_n[c] + 1) + k
        keys, g = np.unique(gcodes, return_inverse=True)
        rep = np.zeros(len(keys), dtype=np.int64)
        rep[g[::-1]] = first_row[::-1]
        table = pd.DataFrame(index=range(len(keys)))
        for c in by:
            if c in subset:
                vals = f[c].iloc[rep].reset_index(drop=True)
                table[c] = vals.astype("string") if margins else vals
            else:
                table[c] = pd.Series([TOTAL_LABEL] * len(keys), dtype="string")
        groupings.append((g.astype(np.int64), table))
    return _Groups(cell.astype(np.int64), n_cell, groupings)


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``i`` repeated for each ``k`` in ``lo[i]..hi[i]``: returns (i, k)."""
    n = np.maximum(hi - lo + 1, 0)
    idx = np.repeat(np.arange(len(lo)), n)
    k = np.arange(len(idx), dtype=np.int64)
    k += (lo - (np.cumsum(n) - n))[idx]
    return idx, k


def _search_days(bounds: np.ndarray, days: np.ndarray, side: str = "left") -> np.ndarray:
    """``np.searchsorted(bounds, days, side=side)`` for integer day numbers and sorted period
    bounds, read from a table of the days from the first to the last bound: on a million
    unsorted days a table look-up is several times faster than a binary search each."""
    bounds = np.asarray(bounds)
    first = int(bounds[0]) - 1 if len(bounds) else 0
    span = int(bounds[-1]) - first + 2 if len(bounds) else 0
    if len(days) < 10_000 or span > len(days):
        return np.searchsorted(bounds, days, side=side)  # type: ignore[call-overload]
    table = np.searchsorted(bounds, np.arange(first, first + span), side=side)  # type: ignore[call-overload]
    return table[np.minimum(np.maximum(days, first), first + span - 1) - first]


def _distinct(gp: np.ndarray, item: np.ndarray, n_gp: int, n_item: int) -> np.ndarray:
    """Number of distinct ``item`` codes per ``gp`` code (a sort, no hash table)."""
    if len(gp) == 0:
        return np.zeros(n_gp, dtype=np.int64)
    m = np.int64(max(n_item, 1))
    keys = np.sort(gp.astype(np.int64) * m + item)
    new = np.empty(len(keys), dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    return np.bincount(keys.take(np.flatnonzero(new)) // m, minlength=n_gp)


def _distinct_ranges(
    g: np.ndarray, person: np.ndarray, lo: np.ndarray, hi: np.ndarray, G: int, K: int, n_person: int
) -> np.ndarray:
    """Distinct persons per ``g * K + k`` when spell ``i`` covers periods ``lo[i]..hi[i]``.

    The ranges of one (group, person) are made disjoint (sorted by start, each clipped after
    the running maximum of the earlier ones), then counted with a difference array: no
    expansion into (spell, period) rows.
    """
    ok = np.flatnonzero(hi >= lo)  # take() with row numbers beats boolean masks
    g, person, lo, hi = g.take(ok), person.take(ok), lo.take(ok), hi.take(ok)
    if len(g) == 0:
        return np.zeros(G * K, dtype=np.int64)
    pair = g.astype(np.int64) * np.int64(max(n_person, 1)) + person
    order = _argsort_int(pair * np.int64(K + 1) + lo)
    pair, g, lo, hi = pair.take(order), g.take(order), lo.take(order), hi.take(order)
    new_pair = np.empty(len(pair), dtype=bool)
    new_pair[0] = True
    new_pair[1:] = pair[1:] != pair[:-1]
    rank = np.cumsum(new_pair) - 1
    running = np.maximum.accumulate(rank * np.int64(K + 2) + hi + 1)  # hi + 1 >= 0
    prev = np.empty(len(pair), dtype=np.int64)
    prev[0] = -1
    prev[1:] = running[:-1] - rank[1:] * np.int64(K + 2) - 1  # running max hi of earlier spells
    prev[new_pair] = -1
    lo_eff = np.maximum(lo, prev + 1)
    keep = np.flatnonzero(hi >= lo_eff)
    g_keep = g.take(keep) * (K + 1)
    acc = np.bincount(g_keep + lo_eff.take(keep), minlength=G * (K + 1))
    acc -= np.bincount(g_keep + hi.take(keep) + 1, minlength=G * (K + 1))
    return np.cumsum(acc.reshape(G, K + 1), axis=1)[:, :K].ravel()


class _PersonSpells:
    """Spells grouped by person, to join many query intervals (absences) to the spells of the
    same person without comparing a query with the spells of other persons.

    Spells with ``end < start`` are left out. Each person's envelope (first start, last end)
    discards at once the queries that lie outside every spell of their person; only the rest
    are compared with each spell of their person, whose bounds are read from person-ordered
    arrays so the look-ups of one query are adjacent in memory. Day numbers may be int32 (all
    dates of the datetime64[ns] range fit), which halves the memory traffic.
    """

    def __init__(self, person: np.ndarray, n_person: int, start: np.ndarray, end: np.ndarray):
        order = np.flatnonzero(end >= start)
        order = order[_argsort_int(person[order])]
        per = np.bincount(person[order], minlength=n_person)
        self.order = order
        self.per = per
        self.first_of = np.cumsum(per) - per
        self.s_by, self.e_by = start[order], end[order]
        # slot n_person stands for person code -1 and matches nothing
        dtype = np.result_type(start, end)  # int32 day numbers halve the memory traffic
        big = np.iinfo(dtype).max
        self.env_lo = np.full(n_person + 1, big, dtype=dtype)
        self.env_hi = np.full(n_person + 1, -big, dtype=dtype)
        has = np.flatnonzero(per > 0)
        if len(has):
            self.env_lo[has] = np.minimum.reduceat(self.s_by, self.first_of[has])
            self.env_hi[has] = np.maximum.reduceat(self.e_by, self.first_of[has])

    def overlaps(
        self, q_person: np.ndarray, q_start: np.ndarray, q_end: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(query index, spell index, overlap start, overlap end) of every non-empty overlap,
        ordered by query, then by spell row. Queries with person code -1 match nothing."""
        q = np.flatnonzero((q_start <= self.env_hi[q_person]) & (q_end >= self.env_lo[q_person]))
        qp = q_person[q]
        n = self.per[qp]
        rep = np.repeat(np.arange(len(q)), n)
        pos = np.arange(len(rep), dtype=np.int64)
        pos += (self.first_of[qp] - (np.cumsum(n) - n))[rep]
        ps = np.maximum(q_start[q][rep], self.s_by[pos])
        pe = np.minimum(q_end[q][rep], self.e_by[pos])
        hit = np.flatnonzero(pe >= ps)  # take() with row numbers beats a boolean mask
        return q[rep.take(hit)], self.order[pos.take(hit)], ps.take(hit), pe.take(hit)


def _same_person_overlaps(
    person: np.ndarray,
    n_person: int,
    start: np.ndarray,
    end: np.ndarray,
    q_person: np.ndarray,
    q_start: np.ndarray,
    q_end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Overlaps of query intervals (absences) with the spells of the same person.

    Returns (query index, spell index, overlap start, overlap end) for every pair with a
    non-empty overlap, ordered by query, then by spell row. Queries with person code -1 match
    nothing. See :class:`_PersonSpells` (which also serves a query table in slices).
    """
    return _PersonSpells(person, n_person, start, end).overlaps(q_person, q_start, q_end)


class _Presence:
    """Answers "is (person, entity) present on day d?" for many queries at once."""

    def __init__(self, pair: np.ndarray, start: np.ndarray, end: np.ndarray, base: int) -> None:
        order = _argsort_int(pair * _BIG + (start - base))  # stable
        p = pair[order]
        self.base = base
        self.pair = pair
        self.end = end
        self.ks = p * _BIG + (start[order] - base)
        self.cm = np.maximum.accumulate(p * _BIG + (np.minimum(end[order], _OPEN) - base))
        # two spells of one (person, entity) share a day: a spell starts on or before the
        # latest end of the earlier spells of its pair
        self.has_overlaps = bool(len(p) > 1 and (self.ks[1:] <= self.cm[:-1]).any())
        self._by_end: tuple[np.ndarray, np.ndarray] | None = None

    def covers(self, pair: np.ndarray, day: np.ndarray) -> np.ndarray:
        q = pair * _BIG + (day - self.base)
        order = _argsort_int(q)  # sorted needles search far faster than random ones
        idx = np.empty(len(q), dtype=np.int64)
        idx[order] = np.searchsorted(self.ks, q[order], side="right") - 1
        out = np.zeros(len(q), dtype=bool)
        ok = idx >= 0
        out[ok] = self.cm[idx[ok]] >= q[ok]
        return out

    def last_ending_before(self, pair: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Row of the pair's spell with the latest end before ``day`` (ties: the later row).

        Every query must have such a spell (the callers ask about persons seen earlier).
        """
        if self._by_end is None:
            key = self.pair * _BIG + (np.minimum(self.end, _OPEN) - self.base)
            order = _argsort_int(key)
            self._by_end = (key[order], order)
        keys, order = self._by_end
        q = pair * _BIG + (day - self.base)
        idx = np.searchsorted(keys, q, side="left") - 1
        return order[np.maximum(idx, 0)]
