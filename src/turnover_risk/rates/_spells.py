"""Employment spells as arrays and the observation window of one rate call (private).

:func:`_prepare` turns a register into day numbers, person codes (shared with the absences) and
unit codes, each identifier column encoded once per call (:mod:`._encode`), and settles the
observation window (:func:`_window`; the rules and left truncation: :mod:`._window`). The
result, :class:`_Spells`, is what the kernels read; the grouping and counting primitives are
in :mod:`._grouping`, the per-person joins and presence look-ups in :mod:`._presence`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.data import Register, follow_unit_changes
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
    arr = values.to_numpy(dtype="datetime64[D]")  # any unit; via ns would wrap years > 2262
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
        emp = data.employment
        if data.unit_changes is not None and len(data.unit_changes) and "unit_id" in emp:
            # a renamed or merged unit continues under its latest id: a reorganisation is
            # not a wave of exits and hires
            emp = emp.assign(unit_id=follow_unit_changes(emp["unit_id"], data.unit_changes))
        return emp, data.units
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
    (:func:`._window.detect_left_truncation`): then the inferred start, with one
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
