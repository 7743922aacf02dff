"""Turnover rates under named definitions and the SSB/NAV sick-leave percentage.

Published turnover figures for the "same" services differ (about 30 %, 21 %, 20.9 %, 11.5 %)
because they use different definitions. This module names them (:data:`DEFINITIONS`) and
computes each exactly from an effective-dated register, by group and period, with intervals and
small-cell suppression.

Conventions shared by every definition
--------------------------------------
* A person is *present* in a unit on day ``d`` when a spell has ``start_date <= d <= end_date``
  (an empty ``end_date`` is an open spell).
* *Scope* decides what counts as leaving: ``"unit"`` (a move to another unit is an exit),
  ``"service"`` (the pair municipality + service when both columns exist; moves inside the
  service are not exits), ``"municipality"`` or ``"any"`` (leaving every unit of the register).
* Everything is computed per unit (per unit and group when ``by`` names a person-level column)
  and then summed to the requested groups - never netted at a higher level.
* A *hire* is a spell starting in the period whose person was not in scope the day before; a
  *separation* is a spell ending in the period (its last day in the period) whose person is not
  in scope the day after. Headcount at the start of a period counts spells running across the
  boundary (present on the day before and on the first day); at the end, spells present on the
  last day and the day after. With ``scope="unit"`` this makes
  ``headcount_end = headcount_start + hires - separations`` exact.
* The observation window is ``start``/``end`` when given, else the register's metadata
  (``observation_start``/``observation_end``, or a simulated register's ``start_year`` and
  ``years``), else the earliest employment start to the latest date recorded; periods are
  clipped to it.

Periods are labelled ``"2021"`` (year), ``"2021Q1"`` (quarter) and ``"2021-01"`` (month). For
``exit_share`` the label is the year of the *first* snapshot: ``"2021"`` with the default
``snapshot="12-01"`` compares 1 December 2021 with 1 December 2022 (KS would write 2021-22);
the rows carry ``snapshot`` and ``next_snapshot`` so the convention is never implicit.

{definitions_table}
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.calendar import WorkdayIndex
from turnover_risk.privacy import (
    DEFAULT_MIN_GROUP_SIZE,
    TOTAL_LABEL,
    check_min_group_size,
    suppress_small_groups,
)
from turnover_risk.schema import CERTIFICATIONS, EXIT_REASONS, Register

__all__ = [
    "DEFINITIONS",
    "Definition",
    "DefinitionRegistry",
    "LONG_SPELL_DAYS",
    "sick_leave_rate",
    "turnover_rate",
    "turnover_rate_from_counts",
]

LONG_SPELL_DAYS: int = 16
"""Norway's employer period (arbeidsgiverperioden): spells longer than this are paid by NAV."""

SCOPES: tuple[str, ...] = ("unit", "service", "municipality", "any")
WEIGHTS: tuple[str, ...] = ("headcount", "fte")
BUFDIR_DIVISORS: tuple[str, ...] = ("churn", "replacement")
SICK_CERTIFICATIONS: tuple[str, ...] = ("all", "self", "doctor", "split")

_RESERVED = {"period", "numerator", "denominator", "rate", "ci_low", "ci_high", "suppressed"}


# --------------------------------------------------------------------------------------------
# The registry of definitions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """One named rate definition.

    Attributes
    ----------
    key : str
        Name passed as ``definition=``.
    title : str
        Short human name.
    kind : {"share", "flow"}
        ``share``: a proportion of a stock (in [0, 1]); ``flow``: events over average headcount.
    formula, numerator, denominator, snapshot : str
        What is computed, in words.
    interval : str
        How ``ci_low``/``ci_high`` are computed.
    source : str
        Where the definition comes from and how sure we are of it.
    counts : tuple of str
        The definition's own count columns in the output.
    parameters : mapping
        Extra parameters the definition takes (name -> description).
    """

    key: str
    title: str
    kind: Literal["share", "flow"]
    formula: str
    numerator: str
    denominator: str
    snapshot: str
    interval: str
    source: str
    counts: tuple[str, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.key}: {self.title}", f"  formula:     {self.formula}"]
        for name in ("numerator", "denominator", "snapshot", "interval", "source"):
            lines.append(f"  {name + ':':<12} {getattr(self, name)}")
        for p, d in self.parameters.items():
            lines.append(f"  parameter {p}: {d}")
        return "\n".join(lines)


class DefinitionRegistry(Mapping[str, Definition]):
    """Read-only mapping ``key -> Definition`` that prints as a table.

    Examples
    --------
    >>> from turnover_risk import DEFINITIONS
    >>> sorted(DEFINITIONS)
    ['bufdir', 'exit_share', 'hire', 'separation']
    >>> DEFINITIONS["bufdir"].parameters["divisor"][:40]
    "'churn' (default): C / average headcount"
    """

    def __init__(self, definitions: Sequence[Definition]) -> None:
        self._defs = {d.key: d for d in definitions}

    def __getitem__(self, key: str) -> Definition:
        try:
            return self._defs[key]
        except KeyError:
            raise KeyError(_unknown_definition(key)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._defs)

    def __len__(self) -> int:
        return len(self._defs)

    def to_frame(self) -> pd.DataFrame:
        """One row per definition: key, title, kind, formula, numerator, denominator,
        snapshot, interval, source."""
        cols = ["key", "title", "kind", "formula", "numerator", "denominator", "snapshot"]
        cols += ["interval", "source"]
        return pd.DataFrame([{c: getattr(d, c) for c in cols} for d in self._defs.values()])

    def to_markdown(self) -> str:
        """The registry as a Markdown table (used in the docs and docstrings)."""
        cols = ["key", "formula", "snapshot", "interval", "source"]
        head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
        body = "".join(
            "| " + " | ".join(getattr(d, c).replace("|", "/") for c in cols) + " |\n"
            for d in self._defs.values()
        )
        return head + body

    def __repr__(self) -> str:
        width = max(len(k) for k in self._defs)
        lines = [f"DEFINITIONS ({len(self)} turnover definitions; DEFINITIONS[key] for details)"]
        for d in self._defs.values():
            lines.append(f"  {d.key:<{width}}  {d.kind:<5}  {d.formula}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def _unknown_definition(key: object) -> str:
    names = ", ".join(sorted(DEFINITIONS._defs)) if "DEFINITIONS" in globals() else ""
    return f"definition={key!r} is not a known turnover definition; choose one of: {names}"


DEFINITIONS = DefinitionRegistry(
    [
        Definition(
            key="exit_share",
            title="Exit share between two snapshots (KS/PAI style)",
            kind="share",
            formula="persons in scope at snapshot t and not in scope at t+1 / persons in scope at t",
            numerator="persons (jobs) present in a unit at snapshot t who are in no unit of the "
            "same scope at snapshot t+1 (exit_reason in exclude_reasons: not counted)",
            denominator="persons (jobs) present in the unit at snapshot t",
            snapshot="snapshot='12-01' (1 December, KS) of year t and t+1; quarters and months "
            "use the first day of the period and of the next one; label = period of t",
            interval="Wilson score interval for a binomial share (n = headcount at t)",
            source="KS (PAI register), 1 December, scope = municipal sector: confirmed; KS also "
            "drops people on pensioner terms (use exclude_reasons=('retirement',)).",
            counts=("headcount_start", "separations"),
            parameters={"scope": "unit | service | municipality | any (default service)"},
        ),
        Definition(
            key="bufdir",
            title="Gjennomtrekk (churning), SSB/Bufdir",
            kind="flow",
            formula="C = H + S - |E_end - E_start| per unit (= 2 min(H, S)); rate = C / divisor",
            numerator="C summed over units: hires plus separations minus the net headcount change",
            denominator="divisor='churn' (default): average headcount (E_start + E_end) / 2; "
            "divisor='replacement': 2 x average headcount, i.e. min(H, S) / average headcount",
            snapshot="flows during the period; headcount at its start and end",
            interval="exact Poisson (Garwood) interval on min(H, S), scaled to the rate",
            source="numerator: SSB report 2014/18, Bufdir 2022 (confirmed); denominator: "
            "unconfirmed - labour-economics convention (Burgess, Lane and Stevens 2000)",
            counts=("hires", "separations", "headcount_start", "headcount_end"),
            parameters={
                "divisor": "'churn' (default): C / average headcount; 'replacement': "
                "C / (2 x average headcount) = min(H, S) / average headcount"
            },
        ),
        Definition(
            key="separation",
            title="Separation rate (SHRM / BLS JOLTS)",
            kind="flow",
            formula="separations in period / average headcount",
            numerator="spells ending in the period whose person is not in scope the next day",
            denominator="average headcount (E_start + E_end) / 2",
            snapshot="flows during the period; headcount at its start and end (SHRM's annual "
            "rate sums monthly rates: use period='month' and sum when headcount swings)",
            interval="exact Poisson (Garwood) interval on the separation count",
            source="SHRM and US BLS JOLTS convention: confirmed",
            counts=("hires", "separations", "headcount_start", "headcount_end"),
        ),
        Definition(
            key="hire",
            title="Hire rate (SHRM / BLS JOLTS)",
            kind="flow",
            formula="hires in period / average headcount",
            numerator="spells starting in the period whose person was not in scope the day before",
            denominator="average headcount (E_start + E_end) / 2",
            snapshot="flows during the period; headcount at its start and end",
            interval="exact Poisson (Garwood) interval on the hire count",
            source="SHRM and US BLS JOLTS convention: confirmed",
            counts=("hires", "separations", "headcount_start", "headcount_end"),
        ),
    ]
)

__doc__ = (__doc__ or "").replace(
    "{definitions_table}", "Definitions\n-----------\n" + DEFINITIONS.to_markdown()
)


# --------------------------------------------------------------------------------------------
# Argument checking and periods
# --------------------------------------------------------------------------------------------

_FREQ_ALIASES = {
    "year": "year",
    "annual": "year",
    "y": "year",
    "a": "year",
    "ye": "year",
    "quarter": "quarter",
    "q": "quarter",
    "qe": "quarter",
    "qs": "quarter",
    "month": "month",
    "m": "month",
    "me": "month",
    "ms": "month",
}
_LABEL_PATTERNS = (
    ("year", re.compile(r"^(\d{4})$")),
    ("quarter", re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)),
    ("month", re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")),
)
_PERIOD_HELP = (
    "use 'year', 'quarter' or 'month', or period labels such as '2021', '2021Q1' or "
    "'2021-01' (a list of labels of one kind selects those periods)"
)


def _parse_period(period: object) -> tuple[str, list[str] | None]:
    """Return (frequency, selected labels or None)."""
    items = [period] if isinstance(period, str) else period
    if not isinstance(items, list | tuple) or not items:
        raise ValueError(f"period={period!r} is not understood; {_PERIOD_HELP}.")
    if len(items) == 1 and isinstance(items[0], str) and items[0].lower() in _FREQ_ALIASES:
        return _FREQ_ALIASES[items[0].lower()], None
    kinds, labels = set(), []
    for item in items:
        for kind, pat in _LABEL_PATTERNS:
            m = pat.match(str(item).strip()) if isinstance(item, str | int) else None
            if m:
                kinds.add(kind)
                labels.append(_label(kind, int(m.group(1)), int(m.groups()[-1])))
                break
        else:
            raise ValueError(f"period={item!r} is not understood; {_PERIOD_HELP}.")
    if len(kinds) > 1:
        raise ValueError(
            f"period={period!r} mixes kinds of periods ({', '.join(sorted(kinds))}); "
            "give labels of one kind."
        )
    return kinds.pop(), labels


def _label(kind: str, year: int, sub: int) -> str:
    if kind == "year":
        return f"{year}"
    if kind == "quarter":
        return f"{year}Q{sub}"
    return f"{year}-{sub:02d}"


def _grid(kind: str, first: int, last: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Periods of ``kind`` covering days ``first..last``: (start days, end days, labels)."""
    freq = {"year": "YS", "quarter": "QS", "month": "MS"}[kind]
    lo = pd.Timestamp(np.datetime64(first, "D")).to_period(freq[0]).start_time
    hi = pd.Timestamp(np.datetime64(last, "D"))
    starts = pd.date_range(lo, hi, freq=freq)
    bounds = np.append(starts.to_numpy(), (starts[-1] + pd.tseries.frequencies.to_offset(freq)))
    days = bounds.astype("datetime64[D]").astype(np.int64)
    labels = [
        _label(kind, s.year, {"year": 1, "quarter": s.quarter, "month": s.month}[kind])
        for s in starts
    ]
    return days[:-1], days[1:] - 1, labels


def _check_choice(name: str, value: object, allowed: Sequence[str], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"{name}={value!r} is not a known {what}; choose one of: {', '.join(allowed)}"
        )
    return value


def _check_confidence(confidence: object) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, float | int):
        raise TypeError(f"confidence must be a number in (0, 1); got {confidence!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} must be strictly between 0 and 1, e.g. 0.95.")
    return float(confidence)


def _check_by(by: object) -> list[str]:
    if by is None:
        return []
    cols = [by] if isinstance(by, str) else list(by)  # type: ignore[call-overload]
    if not all(isinstance(c, str) for c in cols):
        raise TypeError(f"by must be a column name or a list of column names; got {by!r}.")
    bad = [c for c in cols if c in _RESERVED]
    if bad:
        raise ValueError(f"by={bad} uses reserved output column names; rename the column.")
    if len(set(cols)) != len(cols):
        raise ValueError(f"by={cols} names a column twice.")
    return cols


def _parse_snapshot(snapshot: object) -> tuple[int, int]:
    m = re.match(r"^(\d{1,2})-(\d{1,2})$", str(snapshot)) if isinstance(snapshot, str) else None
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        try:
            pd.Timestamp(2001, month, day)  # a non-leap year: 02-29 is refused
            return month, day
        except ValueError:
            pass
    raise ValueError(
        f"snapshot={snapshot!r} is not a month-day like '12-01' (1 December, KS) or '11-15'; "
        "February 29 is not allowed."
    )


def _to_day(value: object, name: str) -> int | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} is not a date; use e.g. '2021-12-31'.") from exc
    if pd.isna(ts):
        raise ValueError(f"{name}={value!r} is not a date; use e.g. '2021-12-31'.")
    return int(np.datetime64(ts.date(), "D").astype(np.int64))


# --------------------------------------------------------------------------------------------
# Preparing the employment table
# --------------------------------------------------------------------------------------------

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
    frame: pd.DataFrame  # employment joined with unit attributes (original rows, reset index)
    person: np.ndarray
    n_person: int
    start: np.ndarray
    end: np.ndarray  # _OPEN for open spells
    fte: np.ndarray
    first: int  # observation window, days
    last: int


def _employment_frame(data: object, *, who: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    if isinstance(data, Register):
        return data.employment, data.units
    if isinstance(data, pd.DataFrame):
        return data, None
    raise TypeError(
        f"{who} expects a Register or an employment DataFrame; got {type(data).__name__}. "
        "Use turnover_risk.read_register(folder) or Register(employment=df, units=units)."
    )


def _join_units(emp: pd.DataFrame, units: pd.DataFrame | None) -> pd.DataFrame:
    need = ["employee_id", "unit_id", "start_date", "end_date", "fte"]
    missing = [c for c in need if c not in emp.columns]
    if missing:
        raise ValueError(
            f"the employment table lacks required columns {missing}; it has {list(emp.columns)}."
        )
    emp = emp.reset_index(drop=True)
    if units is None or units.empty:
        return emp
    extra = [c for c in units.columns if c != "unit_id" and c not in emp.columns]
    if not extra:
        return emp
    u = units[["unit_id", *extra]].drop_duplicates("unit_id")
    # look up each distinct unit once, then broadcast by the unit codes
    codes, uniq = pd.factorize(emp["unit_id"])
    upos = pd.Index(u["unit_id"].astype(str)).get_indexer(pd.Index(uniq).astype(str))
    pos = np.where(codes >= 0, upos[codes], -1)
    out = emp.copy()
    for c in extra:
        vals = u[c].reset_index(drop=True)
        col = vals.reindex(pos).reset_index(drop=True)
        col.index = out.index
        out[c] = col
    return out


def _prepare(
    data: object,
    *,
    who: str,
    by: list[str],
    start: object,
    end: object,
    extra_dates: Sequence[np.ndarray] = (),
    extra_ids: pd.Series | None = None,
) -> tuple[_Spells, np.ndarray | None]:
    emp, units = _employment_frame(data, who=who)
    frame = _join_units(emp, units)
    unknown = [c for c in by if c not in frame.columns]
    if unknown:
        raise ValueError(
            f"by={unknown} names columns that are not in the data; available columns: "
            f"{', '.join(map(str, frame.columns))}. Unit attributes (municipality, service) "
            "come from the register's units table."
        )
    s = _days(frame["start_date"], "employment.start_date", open_ok=False)
    e = _days(frame["end_date"], "employment.end_date", open_ok=True)
    fte = pd.to_numeric(frame["fte"], errors="coerce").to_numpy(dtype=float)
    if len(fte) and (np.isnan(fte).any() or (fte <= 0).any() or (fte > 1).any()):
        raise ValueError(
            "employment.fte must be a number with 0 < fte <= 1 in every row; "
            f"{int((~((fte > 0) & (fte <= 1))).sum())} rows are not. Run "
            "turnover_risk.validate(register) to see them."
        )
    ids = frame["employee_id"]
    if extra_ids is not None:  # one factorisation, so both tables share the person codes
        ids = pd.concat([ids, extra_ids], ignore_index=True)
    codes, uniq = pd.factorize(ids, use_na_sentinel=True)
    person = codes[: len(frame)]
    extra_person = codes[len(frame) :].astype(np.int64) if extra_ids is not None else None
    if (person < 0).any():
        raise ValueError("employment.employee_id has missing values; every spell needs a person.")
    dated = [s, e[e != _OPEN], *[d[d != _OPEN] for d in extra_dates]]
    dated = [d for d in dated if len(d)]
    if start is None or end is None:
        meta_start, meta_end = _metadata_window(data)
        start = meta_start if start is None else start
        end = meta_end if end is None else end
    first = _to_day(start, "start")
    last = _to_day(end, "end")
    if first is None:
        first = int(s.min())
    if last is None:
        last = int(max(d.max() for d in dated))
    if last < first:
        raise ValueError(f"end={end!r} is before start={start!r}; nothing to compute.")
    sp = _Spells(frame, person.astype(np.int64), len(uniq), s, e, fte, first, last)
    return sp, extra_person


def _metadata_window(data: object) -> tuple[object, object]:
    """Observation window recorded in ``Register.metadata``, if any.

    Keys ``observation_start``/``observation_end`` win; a simulated register's ``start_year``
    and ``years`` give 1 January of the first to 31 December of the last year. HR extracts hold
    the start dates of long-serving staff from decades back, so the earliest start date is a
    poor window start when the exits before the extract are not recorded.
    """
    meta = getattr(data, "metadata", None) or {}
    start, end = meta.get("observation_start"), meta.get("observation_end")
    year0, years = meta.get("start_year"), meta.get("years")
    if isinstance(year0, int | np.integer) and isinstance(years, int | np.integer):
        start = start if start is not None else f"{int(year0)}-01-01"
        end = end if end is not None else f"{int(year0) + int(years) - 1}-12-31"
    return start, end


def _entity_codes(sp: _Spells, scope: str) -> np.ndarray:
    """Code of the scope entity of each spell (unit, service, municipality or one for all)."""
    f = sp.frame
    if scope == "any":
        return np.zeros(len(f), dtype=np.int64)
    if scope == "unit":
        return pd.factorize(f["unit_id"])[0].astype(np.int64)
    cols = ["municipality", "service"] if scope == "service" else ["municipality"]
    if scope == "service" and "municipality" not in f.columns:
        cols = ["service"]
    missing = [c for c in cols if c not in f.columns]
    if missing or (scope == "service" and "service" not in f.columns):
        raise ValueError(
            f"scope={scope!r} needs the unit attribute '{scope}', which the data lack. Pass a "
            "Register with a units table holding it (or add the column to the employment "
            "frame), or use scope='unit' or scope='any'."
        )
    sub = f[cols]
    if sub.isna().any().any():
        n = int(sub.isna().any(axis=1).sum())
        raise ValueError(
            f"scope={scope!r}: {n} employment spells have no {' / '.join(cols)} (unit missing "
            "from the units table or the attribute empty). Complete the units table or use "
            "scope='unit'."
        )
    codes = np.zeros(len(f), dtype=np.int64)
    for c in cols:
        k, u = pd.factorize(sub[c])
        codes = codes * (len(u) + 1) + k
    return pd.factorize(codes)[0].astype(np.int64)


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
    col_uniques = {}
    for c in cols:
        k, u = pd.factorize(f[c], use_na_sentinel=False)
        col_codes[c], col_uniques[c] = k, u
        codes = codes * (len(u) + 1) + k
    cell_keys, cell = np.unique(codes, return_inverse=True)
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
            gcodes = gcodes * (len(col_uniques[c]) + 1) + k
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
    offsets = np.cumsum(n) - n
    k = lo[idx] + (np.arange(len(idx)) - offsets[idx])
    return idx, k


def _distinct(gp: np.ndarray, person: np.ndarray, n_gp: int, n_person: int) -> np.ndarray:
    """Number of distinct persons per ``gp`` code."""
    if len(gp) == 0:
        return np.zeros(n_gp, dtype=np.int64)
    keys = pd.unique(gp.astype(np.int64) * np.int64(max(n_person, 1)) + person)
    return np.bincount(keys // max(n_person, 1), minlength=n_gp)


def _distinct_ranges(
    g: np.ndarray, person: np.ndarray, lo: np.ndarray, hi: np.ndarray, G: int, K: int, n_person: int
) -> np.ndarray:
    """Distinct persons per ``g * K + k`` when spell ``i`` covers periods ``lo[i]..hi[i]``.

    The ranges of one (group, person) are made disjoint (sorted by start, each clipped after
    the running maximum of the earlier ones), then counted with a difference array: no
    expansion into (spell, period) rows.
    """
    ok = hi >= lo
    g, person, lo, hi = g[ok], person[ok], lo[ok], hi[ok]
    if len(g) == 0:
        return np.zeros(G * K, dtype=np.int64)
    pair = g.astype(np.int64) * np.int64(max(n_person, 1)) + person
    order = np.argsort(pair * np.int64(K + 1) + lo, kind="stable")
    pair, g, lo, hi = pair[order], g[order], lo[order], hi[order]
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
    keep = hi >= lo_eff
    acc = np.bincount(g[keep] * (K + 1) + lo_eff[keep], minlength=G * (K + 1))
    acc -= np.bincount(g[keep] * (K + 1) + hi[keep] + 1, minlength=G * (K + 1))
    return np.cumsum(acc.reshape(G, K + 1), axis=1)[:, :K].ravel()


class _Presence:
    """Answers "is (person, entity) present on day d?" for many queries at once."""

    def __init__(self, pair: np.ndarray, start: np.ndarray, end: np.ndarray, base: int) -> None:
        order = np.argsort(pair * _BIG + (start - base), kind="stable")
        p = pair[order]
        self.base = base
        self.ks = p * _BIG + (start[order] - base)
        self.cm = np.maximum.accumulate(p * _BIG + (np.minimum(end[order], _OPEN) - base))

    def covers(self, pair: np.ndarray, day: np.ndarray) -> np.ndarray:
        q = pair * _BIG + (day - self.base)
        order = np.argsort(q)  # sorted needles search far faster than random ones
        idx = np.empty(len(q), dtype=np.int64)
        idx[order] = np.searchsorted(self.ks, q[order], side="right") - 1
        out = np.zeros(len(q), dtype=bool)
        ok = idx >= 0
        out[ok] = self.cm[idx[ok]] >= q[ok]
        return out


# --------------------------------------------------------------------------------------------
# Intervals
# --------------------------------------------------------------------------------------------


def _wilson(p: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _poisson_scaled(
    count: np.ndarray, scale: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Garwood exact Poisson interval for ``count`` events, times ``scale`` (rate per event)."""
    a = 1 - confidence
    count = np.asarray(count, dtype=float)
    lo = np.where(count > 0, stats.chi2.ppf(a / 2, 2 * count) / 2, 0.0)
    hi = stats.chi2.ppf(1 - a / 2, 2 * (count + 1)) / 2
    return lo * scale, hi * scale


# --------------------------------------------------------------------------------------------
# Output assembly
# --------------------------------------------------------------------------------------------


def _finish(
    parts: list[pd.DataFrame],
    *,
    by: list[str],
    margins: bool,
    min_group_size: int,
    value_cols: list[str],
    within: tuple[str, ...] = ("period",),
) -> pd.DataFrame:
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    order = [c for c in [*by, *within] if c in out.columns]
    if order and len(out):
        keys = out[order].copy()
        if "certification" in keys.columns:
            keys["certification"] = keys["certification"].map({"all": 0, "self": 1, "doctor": 2})
        for c in by:  # margins ("All") after the real groups
            keys[c] = keys[c].where(~keys[c].astype("string").eq(TOTAL_LABEL).fillna(False))
        out = out.iloc[keys.sort_values(order, kind="stable", na_position="last").index]
        out = out.reset_index(drop=True)
    out = suppress_small_groups(
        out,
        count_col="n_persons",
        value_cols=value_cols,
        min_group_size=min_group_size,
        margins=margins and bool(by),
        group_cols=by,
        within=within,
    )
    if len(out) and out["suppressed"].all():
        warnings.warn(
            f"every one of the {len(out)} rows is suppressed: no group reaches "
            f"min_group_size={min_group_size} persons (largest: {int(out['n_persons'].max())}). "
            "Use a coarser `by` or a longer period.",
            DataQualityWarning,
            stacklevel=3,
        )
    return out.reset_index(drop=True)


def _empty_result(by: list[str], columns: list[str], what: str) -> pd.DataFrame:
    warnings.warn(f"{what} is empty; returning an empty result.", DataQualityWarning, stacklevel=3)
    return pd.DataFrame({c: pd.Series(dtype="object") for c in [*by, *columns]})


_TURNOVER_COLUMNS = [
    "period",
    "definition",
    "numerator",
    "denominator",
    "rate",
    "ci_low",
    "ci_high",
    "n_persons",
    "suppressed",
    "hires",
    "separations",
    "headcount_start",
    "headcount_end",
]


def _select_periods(labels: list[str], keep: np.ndarray, wanted: list[str] | None) -> np.ndarray:
    if wanted is None:
        return keep
    pos = {lab: i for i, lab in enumerate(labels)}
    bad = [w for w in wanted if w not in pos or not keep[pos[w]]]
    if bad:
        ok = [lab for lab, k in zip(labels, keep, strict=True) if k]
        raise ValueError(
            f"period={bad} cannot be computed from the data window; computable periods: "
            f"{', '.join(ok) if ok else 'none'}."
        )
    sel = np.zeros(len(labels), dtype=bool)
    sel[[pos[w] for w in wanted]] = True
    return sel


# --------------------------------------------------------------------------------------------
# turnover_rate
# --------------------------------------------------------------------------------------------


def turnover_rate(
    data: Register | pd.DataFrame,
    *,
    definition: str = "exit_share",
    by: str | Sequence[str] | None = None,
    period: str | Sequence[str] = "year",
    snapshot: str = "12-01",
    scope: str = "service",
    exclude_reasons: Sequence[str] = (),
    weight: str = "headcount",
    divisor: str | None = None,
    start: object = None,
    end: object = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    margins: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Staff turnover by group and period under a named definition.

    Parameters
    ----------
    data : Register or DataFrame
        A register (its ``units`` table supplies ``municipality`` and ``service``), an
        employment DataFrame, or a frame of aggregate counts (columns ``hires``,
        ``separations``, ``headcount_start``, ``headcount_end``, no ``employee_id``), which is
        passed to :func:`turnover_rate_from_counts`.
    definition : str
        Key of :data:`DEFINITIONS` (table below).
    by : str or list of str, optional
        Group columns (employment or unit columns, e.g. ``"unit_id"``, ``"service"``,
        ``"role"``). The group of a person is the one of their spell at the snapshot
        (``exit_share``), of the spell that starts or ends (hires, separations) or runs across
        the period boundary (headcount). ``None``: one row per period.
    period : str or list of str
        ``"year"``, ``"quarter"`` or ``"month"``, or labels selecting periods (``"2021"``,
        ``["2021Q1", "2021Q2"]``, ``"2021-03"``).
    snapshot : str
        Month-day of the yearly snapshot for ``exit_share`` (``"12-01"``: 1 December as KS;
        SSB uses the third week of November, e.g. ``"11-15"``). Quarters and months use the
        first day of the period.
    scope : {"unit", "service", "municipality", "any"}
        What leaving means (see the module docstring). Default ``"service"``: moving to another
        unit of the same service is not an exit.
    exclude_reasons : sequence of str
        Exit reasons (``employment.exit_reason``) whose leavers are not counted as exits or
        separations, e.g. ``("retirement", "death")``. They stay in the headcount.
    weight : {"headcount", "fte"}
        Count persons (default) or sum their position shares in numerator and denominator.
        The count columns (``hires``...) always count persons (jobs).
    divisor : {"churn", "replacement"}, optional
        Only for ``definition="bufdir"``: the divisor convention (default ``"churn"``).
    start, end : date-like, optional
        Observation window; default from the register's metadata (see the module docstring),
        else the earliest spell start to the latest date in the employment table. Periods are
        clipped to it; ``exit_share`` needs both snapshots inside.
    min_group_size : int
        Rows with fewer distinct persons are blanked and flagged ``suppressed`` (minimum 3).
    margins : bool
        Add total rows (``"All"`` in the group columns) for every combination of ``by`` columns,
        with complementary suppression so no hidden cell can be recovered by subtraction.
    confidence : float
        Level of ``ci_low``/``ci_high``.

    Returns
    -------
    DataFrame
        One row per group and period: the group columns, ``period``, ``definition``,
        ``numerator``, ``denominator``, ``rate`` (= numerator / denominator), ``ci_low``,
        ``ci_high``, ``n_persons`` (distinct persons behind the row), ``suppressed``, and the
        definition's counts: ``headcount_start`` and ``separations`` (leavers) for
        ``exit_share`` (with ``snapshot`` and ``next_snapshot`` dates); ``hires``,
        ``separations``, ``headcount_start``, ``headcount_end`` (and ``period_start``,
        ``period_end``) for the flow definitions. Groups with nobody in a period have no row.

    Raises
    ------
    ValueError
        Unknown definition, scope, weight, by column, period or snapshot; a scope the data
        cannot support; no computable period.

    Notes
    -----
    {definitions_table}

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk import turnover_rate
    >>> emp = pd.DataFrame({
    ...     "employee_id": list("abcdef"), "unit_id": ["u1"] * 6,
    ...     "start_date": pd.to_datetime(["2020-01-01"] * 6),
    ...     "end_date": pd.to_datetime(["2021-06-30", None, None, None, None, None]),
    ...     "fte": [1.0] * 6})
    >>> r = turnover_rate(emp, scope="unit", end="2021-12-31")
    >>> r[["period", "numerator", "denominator", "rate"]].to_string(index=False)
    'period  numerator  denominator     rate\\n  2020        1.0          6.0 0.166667'
    """
    if isinstance(data, pd.DataFrame) and "employee_id" not in data.columns:
        count_cols = {"hires", "separations", "headcount_start", "headcount_end"}
        if count_cols & set(data.columns):
            return turnover_rate_from_counts(
                data,
                definition=definition,
                by=by,
                divisor=divisor,
                min_group_size=min_group_size,
                margins=margins,
                confidence=confidence,
            )
    if definition not in DEFINITIONS:
        raise ValueError(_unknown_definition(definition))
    by = _check_by(by)
    kind, wanted = _parse_period(period)
    scope = _check_choice("scope", scope, SCOPES, "scope")
    weight = _check_choice("weight", weight, WEIGHTS, "weight")
    divisor = _check_divisor(definition, divisor)
    month_day = _parse_snapshot(snapshot)
    if isinstance(exclude_reasons, str):
        exclude_reasons = (exclude_reasons,)
    bad = [r for r in exclude_reasons if r not in EXIT_REASONS]
    if bad:
        raise ValueError(
            f"exclude_reasons={bad} are not exit reasons; choose from: {', '.join(EXIT_REASONS)}"
        )
    min_group_size = check_min_group_size(min_group_size)
    confidence = _check_confidence(confidence)
    emp, _ = _employment_frame(data, who="turnover_rate")
    if len(emp) == 0:
        cols = list(_TURNOVER_COLUMNS)
        return _empty_result(by, cols, "the employment table")
    sp, _ = _prepare(data, who="turnover_rate", by=by, start=start, end=end)
    entity = _entity_codes(sp, scope)
    groups = _groups(sp, by, margins)
    w = sp.fte if weight == "fte" else np.ones(len(sp.fte))
    reasons = sp.frame["exit_reason"] if "exit_reason" in sp.frame.columns else None
    excluded = np.zeros(len(sp.fte), dtype=bool)
    if reasons is not None and exclude_reasons:
        r_codes, r_uniq = pd.factorize(reasons)
        hit = np.isin(np.asarray(pd.Index(r_uniq).astype(str), dtype=object), exclude_reasons)
        excluded = (r_codes >= 0) & hit[np.maximum(r_codes, 0)] if len(r_uniq) else excluded
    pair = pd.factorize(sp.person * np.int64(entity.max() + 1) + entity)[0].astype(np.int64)
    presence = _Presence(pair, sp.start, sp.end, base=min(int(sp.start.min()), sp.first) - 2)
    args = (sp, groups, w, excluded, pair, presence, kind, wanted, confidence)
    if definition == "exit_share":
        parts = _exit_share(*args, month_day=month_day)
    else:
        parts = _flows(*args, definition=definition, divisor=divisor)
    value_cols = ["numerator", "denominator", "rate", "ci_low", "ci_high"]
    value_cols += [c for c in ("hires", "separations", "headcount_start", "headcount_end")]
    return _finish(
        parts, by=by, margins=margins, min_group_size=min_group_size, value_cols=value_cols
    )


def _check_divisor(definition: str, divisor: str | None) -> str | None:
    if definition == "bufdir":
        return _check_choice(
            "divisor", "churn" if divisor is None else divisor, BUFDIR_DIVISORS, "bufdir divisor"
        )
    if divisor is not None:
        raise ValueError(
            f"divisor={divisor!r} only applies to definition='bufdir'; "
            f"definition={definition!r} divides by its own denominator. Drop divisor=."
        )
    return None


def _exit_share(sp, groups, w, excluded, pair, presence, kind, wanted, confidence, *, month_day):
    if kind == "year":
        y0 = int(str(np.datetime64(sp.first, "D"))[:4]) - 1
        y1 = int(str(np.datetime64(min(sp.last, 2**20), "D"))[:4]) + 1
        snaps = np.array(
            [np.datetime64(f"{y}-{month_day[0]:02d}-{month_day[1]:02d}") for y in range(y0, y1 + 1)]
        ).astype(np.int64)
        labels = [str(y) for y in range(y0, y1 + 1)]
    else:
        p0, _, labels = _grid(kind, sp.first, sp.last)
        nxt = (
            pd.Timestamp(np.datetime64(int(p0[-1]), "D"))
            + pd.tseries.frequencies.to_offset("QS" if kind == "quarter" else "MS")
        ).to_datetime64()
        snaps = np.append(p0, np.int64(np.datetime64(nxt, "D").astype(np.int64)))
        labels = [*labels, "next"]
    # period k compares snaps[k] with snaps[k + 1]
    n_k = len(snaps) - 1
    keep = (snaps[:-1] >= sp.first) & (snaps[1:] <= sp.last)
    sel = _select_periods(labels[:n_k], keep, wanted)
    if not sel.any():
        raise ValueError(
            "exit_share: no pair of snapshots lies inside the data window "
            f"{np.datetime64(sp.first, 'D')}..{np.datetime64(sp.last, 'D')}; "
            "a year needs data up to the next year's snapshot. Use a longer window or "
            "period='quarter'/'month'."
        )
    ks = np.flatnonzero(sel)
    sn = snaps[ks]
    nx = snaps[ks + 1]
    K = len(ks)
    lo = np.searchsorted(sn, sp.start, side="left")
    hi = np.searchsorted(sn, sp.end, side="right") - 1
    i, k = _expand(lo, hi)
    left = ~presence.covers(pair[i], nx[k])
    counted = left & ~excluded[i]
    parts = []
    for g_of_cell, table in groups.groupings:
        G = len(table)
        gp = g_of_cell[groups.cell[i]] * K + k
        num = np.bincount(gp, weights=w[i] * counted, minlength=G * K)
        den = np.bincount(gp, weights=w[i], minlength=G * K)
        n_start = np.bincount(gp, minlength=G * K)
        n_left = np.bincount(gp, weights=counted, minlength=G * K)
        n_pers = _distinct_ranges(g_of_cell[groups.cell], sp.person, lo, hi, G, K, sp.n_person)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = num / den
        ci_lo, ci_hi = _wilson(rate, n_start.astype(float), confidence)
        frame = _assemble(table, K, den > 0)
        rows = frame.pop("_gp").to_numpy()
        kk = rows % K
        frame["period"] = pd.Series(np.array(labels)[ks][kk], dtype="str")
        frame["definition"] = "exit_share"
        frame["snapshot"] = np.asarray(sn[kk], dtype="datetime64[D]").astype("datetime64[ns]")
        frame["next_snapshot"] = np.asarray(nx[kk], dtype="datetime64[D]").astype("datetime64[ns]")
        frame["numerator"] = num[rows]
        frame["denominator"] = den[rows]
        frame["rate"] = rate[rows]
        frame["ci_low"] = ci_lo[rows]
        frame["ci_high"] = ci_hi[rows]
        frame["n_persons"] = n_pers[rows]
        frame["headcount_start"] = n_start[rows]
        frame["separations"] = n_left[rows].round().astype(np.int64)
        parts.append(frame)
    return parts


def _assemble(table: pd.DataFrame, K: int, present: np.ndarray) -> pd.DataFrame:
    rows = np.flatnonzero(present)
    frame = table.iloc[rows // K].reset_index(drop=True)
    frame["_gp"] = rows
    return frame


def _flows(
    sp, groups, w, excluded, pair, presence, kind, wanted, confidence, *, definition, divisor
):
    p0, p1, labels = _grid(kind, sp.first, sp.last)
    p0 = np.maximum(p0, sp.first)
    p1 = np.minimum(p1, sp.last)
    sel = _select_periods(labels, np.ones(len(labels), dtype=bool), wanted)
    ks = np.flatnonzero(sel)
    p0, p1 = p0[ks], p1[ks]
    labels = [labels[k] for k in ks]
    K = len(ks)
    C = groups.n_cell
    cell = groups.cell
    # hires: start inside a period, not in scope the day before
    hk = np.searchsorted(p1, sp.start, side="left")
    hk_ok = (hk < K) & (sp.start >= p0[np.minimum(hk, K - 1)]) & (sp.start <= sp.last)
    hire = hk_ok & ~presence.covers(pair, sp.start - 1)
    # separations: last day inside a period, not in scope the day after
    sk = np.searchsorted(p1, sp.end, side="left")
    sk_ok = (sp.end != _OPEN) & (sk < K) & (sp.end >= p0[np.minimum(sk, K - 1)])
    sep = sk_ok & ~presence.covers(pair, np.where(sp.end == _OPEN, sp.start, sp.end + 1))
    sep_counted = sep & ~excluded
    ck_h = cell * K + np.minimum(hk, K - 1)
    ck_s = cell * K + np.minimum(sk, K - 1)
    H = np.bincount(ck_h[hire], weights=w[hire], minlength=C * K)
    S = np.bincount(ck_s[sep_counted], weights=w[sep_counted], minlength=C * K)
    nH = np.bincount(ck_h[hire], minlength=C * K)
    nS = np.bincount(ck_s[sep_counted], minlength=C * K)

    # headcount at the start: present on p0 - 1 and p0; at the end: present on p1 and p1 + 1
    def stock(first_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted and plain headcount of spells with ``start < first_day[k] <= end``."""
        lo = np.searchsorted(first_day, sp.start, side="right")
        hi = np.searchsorted(first_day, sp.end, side="right") - 1
        ok = hi >= lo
        at_lo = cell[ok] * (K + 1) + lo[ok]
        at_end = cell[ok] * (K + 1) + hi[ok] + 1
        out = []
        for weights in (w[ok], None):
            acc = np.bincount(at_lo, weights=weights, minlength=C * (K + 1)).astype(float)
            acc -= np.bincount(at_end, weights=weights, minlength=C * (K + 1))
            out.append(np.cumsum(acc.reshape(C, K + 1), axis=1)[:, :K].ravel())
        return out[0], np.rint(out[1]).astype(np.int64)

    E0, nE0 = stock(p0)
    E1, nE1 = stock(p1 + 1)
    m_cell = np.minimum(H, S)  # per cell: 2 min(H, S) = H + S - |H - S|
    nm_cell = np.minimum(nH, nS)
    # population for n_persons: spells overlapping the period inside the window
    s_c = np.maximum(sp.start, sp.first)
    e_c = np.minimum(sp.end, sp.last)
    lo = np.searchsorted(p1, s_c, side="left")
    hi = np.searchsorted(p0, e_c, side="right") - 1
    hi = np.where(e_c < s_c, lo - 1, hi)
    parts = []
    for g_of_cell, table in groups.groupings:
        G = len(table)
        gmap = np.repeat(g_of_cell * K, K) + np.tile(np.arange(K), C)

        def agg(x: np.ndarray, gmap=gmap, G=G) -> np.ndarray:
            return np.bincount(gmap, weights=x, minlength=G * K)

        h, s_, e0, e1 = agg(H), agg(S), agg(E0), agg(E1)
        avg = (e0 + e1) / 2
        if definition == "separation":
            num, events = s_, agg(nS)
        elif definition == "hire":
            num, events = h, agg(nH)
        else:
            num, events = 2 * agg(m_cell), agg(nm_cell)
        den = avg * (2 if divisor == "replacement" else 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = num / den
            scale = np.where(events > 0, rate / events, np.where(den > 0, 1 / den, np.nan))
            if definition == "bufdir":
                scale = np.where(events > 0, scale, 2 / den)
        ci_lo, ci_hi = _poisson_scaled(events, scale, confidence)
        n_pers = _distinct_ranges(g_of_cell[cell], sp.person, lo, hi, G, K, sp.n_person)
        frame = _assemble(table, K, n_pers > 0)
        rows = frame.pop("_gp").to_numpy()
        kk = rows % K
        frame["period"] = pd.Series(np.array(labels)[kk], dtype="str")
        frame["definition"] = definition
        frame["period_start"] = p0[kk].astype("datetime64[D]").astype("datetime64[ns]")
        frame["period_end"] = p1[kk].astype("datetime64[D]").astype("datetime64[ns]")
        frame["numerator"] = num[rows]
        frame["denominator"] = den[rows]
        frame["rate"] = np.where(den[rows] > 0, rate[rows], np.nan)
        frame["ci_low"] = ci_lo[rows]
        frame["ci_high"] = ci_hi[rows]
        frame["n_persons"] = n_pers[rows]
        frame["hires"] = agg(nH)[rows].round().astype(np.int64)
        frame["separations"] = agg(nS)[rows].round().astype(np.int64)
        frame["headcount_start"] = agg(nE0)[rows].round().astype(np.int64)
        frame["headcount_end"] = agg(nE1)[rows].round().astype(np.int64)
        parts.append(frame)
    return parts


# --------------------------------------------------------------------------------------------
# From aggregate counts
# --------------------------------------------------------------------------------------------

_COUNTS_NEEDED = {
    "exit_share": ("separations", "headcount_start"),
    "separation": ("separations", "headcount_start", "headcount_end"),
    "hire": ("hires", "headcount_start", "headcount_end"),
    "bufdir": ("hires", "separations", "headcount_start", "headcount_end"),
}


def turnover_rate_from_counts(
    counts: pd.DataFrame,
    *,
    definition: str = "separation",
    by: str | Sequence[str] | None = None,
    divisor: str | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    margins: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The same definitions from aggregate counts (e.g. a published table per unit).

    Each row of ``counts`` is one unit (and period): the definition is evaluated per row and
    then summed to the ``by`` groups - for ``bufdir`` with the confirmed formula
    ``C = H + S - |E_end - E_start|`` per row.

    Parameters
    ----------
    counts : DataFrame
        Columns ``hires``, ``separations``, ``headcount_start``, ``headcount_end`` as the
        definition needs them (``exit_share``: ``separations`` = persons at snapshot t gone at
        t+1, and ``headcount_start``), optional ``period`` and group columns, and optionally
        ``n_persons`` (persons behind the row, for suppression; default: the larger headcount).
    definition, by, divisor, min_group_size, margins, confidence
        As in :func:`turnover_rate`.

    Returns
    -------
    DataFrame
        The tidy frame of :func:`turnover_rate` (without dates).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"unit_id": ["u1", "u2"], "hires": [3, 1], "separations": [2, 4],
    ...                   "headcount_start": [10, 12], "headcount_end": [11, 9]})
    >>> r = turnover_rate_from_counts(c, definition="bufdir")
    >>> float(r["numerator"].iloc[0]), float(r["denominator"].iloc[0])  # (3+2-1) + (1+4-3); (21 + 21) / 2
    (6.0, 21.0)
    """
    if not isinstance(counts, pd.DataFrame):
        raise TypeError(f"counts must be a DataFrame; got {type(counts).__name__}.")
    if definition not in DEFINITIONS:
        raise ValueError(_unknown_definition(definition))
    by = _check_by(by)
    divisor = _check_divisor(definition, divisor)
    min_group_size = check_min_group_size(min_group_size)
    confidence = _check_confidence(confidence)
    need = _COUNTS_NEEDED[definition]
    missing = [c for c in need if c not in counts.columns]
    if missing:
        raise ValueError(
            f"definition={definition!r} from counts needs columns {list(need)}; missing "
            f"{missing}. Columns given: {list(counts.columns)}."
        )
    unknown = [c for c in by if c not in counts.columns]
    if unknown:
        raise ValueError(
            f"by={unknown} names columns that are not in counts; available: {list(counts.columns)}."
        )
    if len(counts) == 0:
        return _empty_result(by, list(_TURNOVER_COLUMNS), "the counts table")
    c = counts.reset_index(drop=True).copy()
    vals = {}
    for col in ("hires", "separations", "headcount_start", "headcount_end"):
        if col in c.columns:
            v = pd.to_numeric(c[col], errors="coerce").to_numpy(dtype=float)
            if np.isnan(v).any() or (v < 0).any():
                raise ValueError(f"counts.{col} must be non-negative numbers without gaps.")
            vals[col] = v
    if definition == "exit_share" and (vals["separations"] > vals["headcount_start"]).any():
        raise ValueError("exit_share: separations exceed headcount_start in some rows.")
    if definition == "bufdir":
        churn = (
            vals["hires"]
            + vals["separations"]
            - np.abs(vals["headcount_end"] - vals["headcount_start"])
        )
        if (churn < 0).any():
            raise ValueError(
                f"{int((churn < 0).sum())} rows have |headcount_end - headcount_start| larger "
                "than hires + separations, so the counts are inconsistent (C < 0)."
            )
        c["_num"] = churn
        c["_events"] = churn / 2
    elif definition == "exit_share":
        c["_num"] = c["_events"] = vals["separations"]
    else:
        key = "separations" if definition == "separation" else "hires"
        c["_num"] = c["_events"] = vals[key]
    if definition == "exit_share":
        c["_den"] = vals["headcount_start"]
    else:
        c["_den"] = (vals["headcount_start"] + vals["headcount_end"]) / 2
        if divisor == "replacement":
            c["_den"] *= 2
    if "n_persons" in c.columns:
        c["_n"] = pd.to_numeric(c["n_persons"], errors="coerce").fillna(0)
    else:
        c["_n"] = np.maximum(vals["headcount_start"], vals.get("headcount_end", 0))
    extra = [k for k in ("hires", "separations", "headcount_start", "headcount_end") if k in vals]
    for k in extra:
        c[k] = vals[k]
    keys = [*by, *(["period"] if "period" in c.columns else [])]
    subsets = [tuple(by)]
    if margins and by:
        subsets += [s for r in range(len(by) - 1, -1, -1) for s in combinations(by, r)]
    parts = []
    for subset in subsets:
        gk = [*subset, *(["period"] if "period" in c.columns else [])]
        sums = ["_num", "_events", "_den", "_n", *extra]
        if gk:
            agg = c.groupby(gk, dropna=False, sort=True)[sums].sum().reset_index()
        else:
            agg = c[sums].sum().to_frame().T
        for col in by:
            if col not in subset:
                agg[col] = TOTAL_LABEL
            elif margins:
                agg[col] = agg[col].astype("string")
        parts.append(agg)
    out = pd.concat(parts, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (out["_num"] / out["_den"]).to_numpy(dtype=float)
    ev = out["_events"].to_numpy(dtype=float)
    if definition == "exit_share":
        lo, hi = _wilson(rate, out["_den"].to_numpy(dtype=float), confidence)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(ev > 0, rate / ev, (2 if definition == "bufdir" else 1) / out["_den"])
        lo, hi = _poisson_scaled(np.floor(ev), scale, confidence)
    res = out[keys].copy()
    if "period" in res.columns:
        res["period"] = res["period"].astype("str")
    res["definition"] = definition
    res["numerator"] = out["_num"].to_numpy(dtype=float)
    res["denominator"] = out["_den"].to_numpy(dtype=float)
    res["rate"] = rate
    res["ci_low"] = lo
    res["ci_high"] = hi
    res["n_persons"] = out["_n"].round().astype(np.int64)
    for k in extra:
        res[k] = out[k].to_numpy()
    value_cols = ["numerator", "denominator", "rate", "ci_low", "ci_high", *extra]
    return _finish(
        [res], by=by, margins=margins, min_group_size=min_group_size, value_cols=value_cols
    )


# --------------------------------------------------------------------------------------------
# sick_leave_rate
# --------------------------------------------------------------------------------------------

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


def sick_leave_rate(
    data: Register,
    *,
    by: str | Sequence[str] | None = None,
    period: str | Sequence[str] = "year",
    certification: str = "all",
    start: object = None,
    end: object = None,
    long_spell_days: int = LONG_SPELL_DAYS,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    margins: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The SSB/NAV sick-leave percentage by group and period.

    ``rate = lost person-days / agreed person-days`` with

    * lost person-days = absence working days x fte x sick-leave grade; self-certified
      absence always counts with grade 1, a missing grade is 1;
    * agreed person-days = working days in employment x fte;
    * working days = Monday-Friday minus Norwegian public holidays (no vacation deduction, as
      SSB and NAV since Q4 2018).

    Absence days count only inside employment spells and per job: a person with two jobs loses
    days in both, each weighted by its own fte. Spells crossing period or employment boundaries
    are split exactly (by day arithmetic on a cumulative working-day index, never by expanding
    spells into days). Overlapping absence spells of one person are not merged: validate first.

    Parameters
    ----------
    data : Register
        Needs ``employment`` and ``absences`` (and ``units`` for unit attributes in ``by``).
    by : str or list of str, optional
        Group columns of the job (employment or unit columns).
    period : str or list of str
        ``"year"``, ``"quarter"``, ``"month"`` or period labels (see :func:`turnover_rate`).
    certification : {"all", "self", "doctor", "split"}
        Which absence counts in the numerator; ``"split"`` returns three rows per group and
        period (``all``, ``self``, ``doctor``). The denominator is always all agreed days.
    start, end : date-like, optional
        Observation window (default: the register's metadata, else earliest employment start
        to latest date in the data).
    long_spell_days : int
        A spell is long when its whole length in calendar days exceeds this (default 16, the
        employer period).
    min_group_size, margins, confidence
        As in :func:`turnover_rate` (groups counted in persons employed).

    Returns
    -------
    DataFrame
        Group columns, ``period``, ``certification``, ``numerator`` (lost person-days),
        ``denominator`` (agreed person-days), ``rate`` (a fraction), ``percent``
        (100 x rate, the SSB figure), ``ci_low``/``ci_high`` (on the fraction scale),
        ``n_persons`` (persons employed), ``suppressed``, ``n_spells`` (absence spells with
        at least one lost working day in the period), ``n_persons_absent`` and
        ``long_spell_share`` (share of lost days in spells longer than ``long_spell_days``),
        plus ``period_start``/``period_end``.

    Notes
    -----
    Interval: delta method for a ratio estimator with persons as clusters,
    ``var(R) = n/(n-1) * sum_i (l_i - R d_i)^2 / D^2`` over the persons ``i`` of the group and
    period (``l_i`` lost, ``d_i`` agreed days, ``D`` their total), normal quantile, clipped to
    [0, 1]. It accounts for days of one person being correlated, which a Poisson interval on
    days would ignore.

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk import Register, sick_leave_rate
    >>> emp = pd.DataFrame({"employee_id": list("abcde"), "unit_id": ["u1"] * 5,
    ...     "start_date": pd.to_datetime(["2021-01-01"] * 5), "end_date": pd.NaT,
    ...     "fte": [1.0, 1.0, 1.0, 1.0, 0.5]})
    >>> ab = pd.DataFrame({"employee_id": ["e"], "start_date": pd.to_datetime(["2021-03-01"]),
    ...     "end_date": pd.to_datetime(["2021-03-05"]), "certification": ["doctor"],
    ...     "grade": [0.5]})
    >>> r = sick_leave_rate(Register(employment=emp, absences=ab), end="2021-12-31")
    >>> float(r["numerator"].iloc[0]), float(r["denominator"].iloc[0])  # 5 x .5 x .5; 254 x 4.5
    (1.25, 1143.0)
    """
    if not isinstance(data, Register):
        raise TypeError(
            "sick_leave_rate needs a Register with employment and absences tables; got "
            f"{type(data).__name__}. Use Register(employment=emp, absences=absences)."
        )
    by = _check_by(by)
    kind, wanted = _parse_period(period)
    certification = _check_choice(
        "certification", certification, SICK_CERTIFICATIONS, "certification"
    )
    min_group_size = check_min_group_size(min_group_size)
    confidence = _check_confidence(confidence)
    if isinstance(long_spell_days, bool) or not isinstance(long_spell_days, int | np.integer):
        raise TypeError(f"long_spell_days must be an integer; got {long_spell_days!r}.")
    if data.absences is None:
        raise ValueError(
            "sick_leave_rate needs the register's absences table, which is missing. "
            "Read a folder with absences.csv/parquet or pass Register(..., absences=df)."
        )
    ab = data.absences
    need = ["employee_id", "start_date", "end_date", "certification"]
    missing = [c for c in need if c not in ab.columns]
    if missing:
        raise ValueError(f"the absences table lacks required columns {missing}.")
    if len(data.employment) == 0:
        return _empty_result(by, list(_SICK_COLUMNS), "the employment table")
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
    order = np.argsort(sp.person, kind="stable")
    per = np.bincount(sp.person, minlength=sp.n_person)
    first_of = np.cumsum(per) - per
    a_lo = first_of[a_person]
    a_hi = a_lo + per[a_person]
    ai, pos = _expand(a_lo, a_hi - 1)
    ej = order[pos]
    ps = np.maximum(a_s[ai], s_c[ej])
    pe = np.minimum(a_e[ai], e_c[ej])
    ok = pe >= ps
    ai, ej, ps, pe = ai[ok], ej[ok], ps[ok], pe[ok]
    # split the pieces by period
    plo = np.searchsorted(p1, ps, side="left")
    phi = np.searchsorted(p0, pe, side="right") - 1
    pj, pk = _expand(plo, phi)
    a_idx, e_idx = ai[pj], ej[pj]
    days = idx.count(np.maximum(ps[pj], p0[pk]), np.minimum(pe[pj], p1[pk]))
    lost = days * sp.fte[e_idx] * grade[a_idx]
    row = offset[e_idx] + (pk - lo[e_idx])  # row of the employment x period expansion
    positive = days > 0
    n_exp = len(ei)
    variants = {"all": None, "self": True, "doctor": False}
    wanted_certs = ["all", "self", "doctor"] if certification == "split" else [certification]
    parts = []
    for g_of_cell, table in groups.groupings:
        G = len(table)
        gp_e = g_of_cell[groups.cell[ei]] * K + ek
        D = np.bincount(gp_e, weights=agreed, minlength=G * K)
        # clusters: (group-period, person); their number per group-period is n_persons
        cl_key = gp_e * np.int64(max(sp.n_person, 1)) + sp.person[ei]
        cl, cl_u = pd.factorize(cl_key)
        cl_gp = np.asarray(cl_u) // max(sp.n_person, 1)
        d_cl = np.bincount(cl, weights=agreed, minlength=len(cl_u))
        n_cl = np.bincount(cl_gp, minlength=G * K)
        n_pers = n_cl
        present = n_pers > 0
        for cname in wanted_certs:
            flag = variants[cname]
            m = np.ones(len(lost), dtype=bool) if flag is None else (is_self[a_idx] == flag)
            lost_row = np.bincount(row[m], weights=lost[m], minlength=n_exp)
            L = np.bincount(gp_e, weights=lost_row, minlength=G * K)
            gp_p = g_of_cell[groups.cell[e_idx]] * K + pk
            mm = m & positive
            long_l = np.bincount(
                gp_p[mm & long[a_idx]], weights=lost[mm & long[a_idx]], minlength=G * K
            )
            spells = _distinct(gp_p[mm], a_idx[mm], G * K, len(ab))
            absent = _distinct(gp_p[mm], sp.person[e_idx][mm], G * K, sp.n_person)
            with np.errstate(divide="ignore", invalid="ignore"):
                R = L / D
                l_cl = np.bincount(cl, weights=lost_row, minlength=len(cl_u))
                resid2 = (l_cl - R[cl_gp] * d_cl) ** 2
                ss = np.bincount(cl_gp, weights=resid2, minlength=G * K)
                var = np.where(n_cl > 1, n_cl / (n_cl - 1) * ss / D**2, np.nan)
                z = stats.norm.ppf(0.5 + confidence / 2)
                se = np.sqrt(var)
                long_share = np.where(L > 0, long_l / L, np.nan)
            frame = _assemble(table, K, present)
            rows = frame.pop("_gp").to_numpy()
            kk = rows % K
            frame["period"] = pd.Series(np.array(labels)[kk], dtype="str")
            frame["certification"] = cname
            frame["period_start"] = p0[kk].astype("datetime64[D]").astype("datetime64[ns]")
            frame["period_end"] = p1[kk].astype("datetime64[D]").astype("datetime64[ns]")
            frame["numerator"] = L[rows]
            frame["denominator"] = D[rows]
            frame["rate"] = np.where(D[rows] > 0, R[rows], np.nan)
            frame["percent"] = 100 * frame["rate"]
            frame["ci_low"] = np.clip(R[rows] - z * se[rows], 0, 1)
            frame["ci_high"] = np.clip(R[rows] + z * se[rows], 0, 1)
            frame["n_persons"] = n_pers[rows]
            frame["n_spells"] = spells[rows]
            frame["n_persons_absent"] = absent[rows]
            frame["long_spell_share"] = long_share[rows]
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
    return out


turnover_rate.__doc__ = (turnover_rate.__doc__ or "").replace(
    "{definitions_table}", DEFINITIONS.to_markdown().replace("\n", "\n    ")
)
