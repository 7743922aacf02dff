"""Every date cell of a register is read here, by one set of rules (private).

Rules (the data contract; ``docs/extracts.md`` explains them to a data team):

* **Formats**: ISO ``2021-03-01`` (a time after it is ignored), ``01.03.2021`` and
  ``01.03.21``; ``01/03/2021`` only when the column shows which of day and month comes first
  (some value with a first number above 12 means dd/mm/yyyy, a second number above 12 means
  mm/dd/yyyy); otherwise a cell such as ``01/03/2021`` is refused with both readings shown.
  A bare year (``1993``) is refused, a year-month (``2019-01``) is read only in ``month``.
  Integers (a Parquet column of epoch days) are days since 1970-01-01.
* **Time zones**: a time with an offset (``2021-03-01T00:00:00+01:00``, ``...Z``) and a
  time-zone aware timestamp are converted to Europe/Oslo before the date is taken. A naive
  timestamp column whose times of day are all exactly the UTC instants of Oslo midnights
  (23:00 in winter, 22:00 in summer) is read as UTC and converted, with a warning.
* **Two-digit years**: ``yy`` is 20yy when that is not later than :data:`PLAUSIBLE_YEARS_AHEAD`
  after the observation end, else 19yy (``12.10.65`` is 1965-10-12, ``01.03.21`` 2021-03-01).
* **Open sentinels**: a date in year 2999 or later (``9999-12-31``, ``31.12.9999``,
  ``2999-12-31``, Oracle's ``4712-12-31``) and ``2099-12-31`` mean "open": an empty cell in a
  column that may be empty, a problem in one that may not.
* **Plausible range**: dates before :data:`EARLIEST` (1950-01-01) or more than a year after the
  observation end (the register's ``observation_end``, else today) are problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

OSLO = "Europe/Oslo"
EARLIEST = np.datetime64("1950-01-01", "D")
"""Dates before this day are implausible in a staff register (a ``1900-01-01`` placeholder)."""
PLAUSIBLE_YEARS_AHEAD = 1
"""How far after the observation end a date may lie (a planned end of a temporary contract)."""
_SENTINEL_FROM = np.datetime64("2999-01-01", "D").astype(np.int64)
_SENTINEL_2099 = np.datetime64("2099-12-31", "D").astype(np.int64)
_NS_LO, _NS_HI = -106_000, 106_000  # day numbers that fit datetime64[ns] with room to spare

_ISO = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?$"
)
_DOTTED = r"^(?P<d>\d{1,2})[.](?P<m>\d{1,2})[.](?P<y>\d{4}|\d{2})$"
_SLASH = r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4}|\d{2})$"
_YEAR_MONTH = r"^(?P<y>\d{4})-(?P<m>\d{1,2})$"


@dataclass
class DateCells:
    """What :func:`parse_dates` found: the dates and the problems, one mask per rule."""

    values: pd.Series  # datetime64[ns]; NaT for empty, open and refused cells
    problems: list[tuple[np.ndarray, str, object]] = field(default_factory=list)
    note: str | None = None  # a warning to give (UTC-stored midnights read as Oslo dates)


def latest_plausible(observation_end: object = None) -> int:
    """Day number of the latest plausible date: observation end (else today) plus a year."""
    end = pd.Timestamp(observation_end) if observation_end is not None else pd.Timestamp.now()
    if pd.isna(end):
        end = pd.Timestamp.now()
    later = end.normalize() + pd.DateOffset(years=PLAUSIBLE_YEARS_AHEAD)
    return int(np.datetime64(later.date(), "D").astype(np.int64))


def _ymd_days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers of (year, month, day) arrays and whether each is a real calendar day."""
    y, m, d = (np.asarray(v, dtype=np.int64) for v in (y, m, d))
    ok = (y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31)
    months = (np.where(ok, y, 1970) - 1970) * 12 + np.where(ok, m, 1) - 1
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    nxt = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    days = first + np.where(ok, d, 1) - 1
    return days, ok & (days < nxt)


def _pivot(yy: np.ndarray, latest: int) -> np.ndarray:
    """Two-digit years: 20yy unless that is after the latest plausible year, then 19yy."""
    last_year = int(np.datetime64(latest, "D").astype("datetime64[Y]").astype(np.int64)) + 1970
    return np.where(2000 + yy <= last_year, 2000 + yy, 1900 + yy)


def _show(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


class _Text:
    """Text cells parsed into day numbers (``days``, -1 << 62 where not parsed)."""

    NA = np.int64(-(1 << 62))

    def __init__(self, txt: pd.Series, column: str, latest: int) -> None:
        self.n = len(txt)
        self.days = np.full(self.n, self.NA, dtype=np.int64)
        self.problems: list[tuple[np.ndarray, str, object]] = []
        self.column = column
        self.latest = latest
        self.txt = txt

    def mask(self, positions: np.ndarray) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        m[positions] = True
        return m

    def refuse(self, positions: np.ndarray, rule: str, messages: object) -> None:
        if len(positions):
            self.problems.append((self.mask(positions), rule, messages))


def _extract(txt: pd.Series, pattern: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Positions of ``txt`` matching ``pattern`` and their named groups."""
    found = txt.str.extract(pattern)
    hit = found.iloc[:, 0].notna().to_numpy(dtype=bool)
    return np.flatnonzero(hit), found.loc[hit]


def _ints(col: pd.Series) -> np.ndarray:
    return pd.to_numeric(col, errors="coerce").fillna(0).to_numpy(dtype=np.int64)


def _parse_text(s: pd.Series, column: str, latest: int, *, month: bool) -> _Text:
    txt = s.astype("string").str.strip()
    out = _Text(txt, column, latest)
    filled = (txt.notna() & (txt != "")).to_numpy(dtype=bool)
    if not filled.any():
        return out
    # fast path: plain yyyy-mm-dd (a whole column of them is parsed in C)
    fast = pd.to_datetime(txt, format="%Y-%m-%d", errors="coerce")
    fd = fast.to_numpy(dtype="datetime64[D]")
    ok = ~np.isnat(fd)
    out.days[ok] = fd[ok].astype(np.int64)
    rest = np.flatnonzero(filled & ~ok)
    if not len(rest):
        return out
    sub = txt.iloc[rest].reset_index(drop=True)
    left = np.ones(len(rest), dtype=bool)

    pos, g = _extract(sub, _ISO)
    if len(pos):
        days, real = _ymd_days(_ints(g["y"]), _ints(g["m"]), _ints(g["d"]))
        tz = g["tz"].notna().to_numpy(dtype=bool)
        inside = real & tz & (days > _NS_LO) & (days < _NS_HI)
        if inside.any():  # an instant: its date in Oslo
            inst = pd.to_datetime(
                sub.iloc[pos[inside]], utc=True, format="ISO8601", errors="coerce"
            )
            local = inst.dt.tz_convert(OSLO).dt.tz_localize(None).to_numpy(dtype="datetime64[D]")
            days[inside] = np.where(np.isnat(local), days[inside], local.astype(np.int64))
        out.days[rest[pos[real]]] = days[real]
        left[pos] = False
        bad = pos[~real]
        out.refuse(rest[bad], "bad_date", f"{column} holds a day that does not exist")

    pos, g = _extract(sub.where(left), _DOTTED)
    if len(pos):
        y = _ints(g["y"])
        short = g["y"].str.len().to_numpy() == 2
        y = np.where(short, _pivot(y, latest), y)
        days, real = _ymd_days(y, _ints(g["m"]), _ints(g["d"]))
        out.days[rest[pos[real]]] = days[real]
        left[pos] = False
        out.refuse(rest[pos[~real]], "bad_date", f"{column} holds a day that does not exist")

    pos, g = _extract(sub.where(left), _SLASH)
    if len(pos):
        _slash(out, rest[pos], g, sub.iloc[pos])
        left[pos] = False

    pos, g = _extract(sub.where(left), _YEAR_MONTH)
    if len(pos):
        if month:
            days, real = _ymd_days(_ints(g["y"]), _ints(g["m"]), np.ones(len(pos)))
            out.days[rest[pos[real]]] = days[real]
            left[pos[real]] = False
        else:
            left[pos] = False
            out.refuse(
                rest[pos],
                "bad_date",
                f"a year and month is not a day: write the {column} in full, e.g. 2019-01-01",
            )
    year_only = left & sub.str.fullmatch(r"\d{4}").fillna(False).to_numpy(dtype=bool)
    out.refuse(
        rest[year_only],
        "bad_date",
        f"a year alone is not a date: write the {column} in full, e.g. 1993-01-01 if that is meant",
    )
    left &= ~year_only
    out.refuse(rest[left], "bad_date", f"{column} must be a date like 2021-03-01 or 01.03.2021")
    return out


def _slash(out: _Text, at: np.ndarray, g: pd.DataFrame, raw: pd.Series) -> None:
    """dd/mm/yyyy or mm/dd/yyyy, decided by the column; refused with both readings if not."""
    a, b = _ints(g["a"]), _ints(g["b"])
    y = _ints(g["y"])
    y = np.where(g["y"].str.len().to_numpy() == 2, _pivot(y, out.latest), y)
    day_first = bool(((a > 12) & (b <= 12)).any())
    month_first = bool(((b > 12) & (a <= 12)).any())
    dm, dm_ok = _ymd_days(y, b, a)
    md, md_ok = _ymd_days(y, a, b)
    if day_first and not month_first:
        days, real = dm, dm_ok
    elif month_first and not day_first:
        days, real = md, md_ok
    else:  # the column does not say: read only the cells with one reading
        real = dm_ok ^ md_ok | (dm_ok & (a == b))
        days = np.where(dm_ok, dm, md)
        both = dm_ok & md_ok & (a != b)
        out.refuse(
            at[both],
            "ambiguous_date",
            [
                f"{v} could be {_show(x)} (dd/mm/yyyy) or {_show(z)} (mm/dd/yyyy), and no other "
                f"cell of {out.column} says which; write it as yyyy-mm-dd or dd.mm.yyyy"
                for v, x, z in zip(raw[both], dm[both], md[both], strict=True)
            ],
        )
        real = real & ~both
        out.refuse(at[~real & ~both], "bad_date", f"{out.column} holds a day that does not exist")
        out.days[at[real]] = days[real]
        return
    out.days[at[real]] = days[real]
    out.refuse(at[~real], "bad_date", f"{out.column} holds a day that does not exist")


def _utc_midnights(arr: np.ndarray) -> bool:
    """Whether every value with a time of day is an Oslo midnight stored as a UTC instant."""
    days = arr.astype("datetime64[D]")
    timed = ~np.isnat(arr) & (arr != days.astype(arr.dtype))
    d = days.astype(np.int64)
    timed &= (d > _NS_LO) & (d < _NS_HI)
    if not timed.any():
        return False
    local = pd.Series(arr[timed]).dt.tz_localize("UTC").dt.tz_convert(OSLO)
    return bool((local.dt.normalize() == local).all())


def parse_dates(
    s: pd.Series,
    column: str,
    *,
    nullable: bool,
    latest: int,
    month: bool = False,
) -> DateCells:
    """Read one date column by the module's rules.

    Parameters
    ----------
    s : Series
        Text, datetime (naive or time-zone aware, any unit) or integer (epoch days) cells.
    column : str
        Column name, for the messages.
    nullable : bool
        Whether the column may be empty (then open sentinels mean empty).
    latest : int
        Day number of the latest plausible date (:func:`latest_plausible`).
    month : bool
        The column holds months: a year-month is read, and every date becomes its first day.
    """
    n = len(s)
    na = _Text.NA
    note = None
    problems: list[tuple[np.ndarray, str, object]] = []
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert(OSLO).dt.tz_localize(None)
        arr = s.to_numpy()
        if _utc_midnights(arr):
            d = arr.astype("datetime64[D]").astype(np.int64)
            inside = ~np.isnat(arr) & (d > _NS_LO) & (d < _NS_HI)
            local = pd.Series(arr[inside]).dt.tz_localize("UTC").dt.tz_convert(OSLO)
            arr = arr.astype("datetime64[D]")
            arr[inside] = local.dt.tz_localize(None).to_numpy(dtype="datetime64[D]")
            note = (
                f"{column}: the times of day are UTC instants of Oslo midnights (22:00/23:00); "
                "the dates were taken in Europe/Oslo. Export dates without a time to avoid this."
            )
        days_d = arr.astype("datetime64[D]")
        days = np.where(np.isnat(days_d), na, days_d.astype(np.int64))
    elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        vals = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        whole = ~np.isnan(vals) & (np.mod(np.nan_to_num(vals), 1) == 0) & (np.abs(vals) < 4e6)
        days = np.where(whole, np.nan_to_num(vals), 0).astype(np.int64)
        days[~whole] = na
        frac = ~np.isnan(vals) & ~whole
        if frac.any():
            problems.append((frac, "bad_date", f"{column} as a number must be whole epoch days"))
    else:
        parsed = _parse_text(s, column, latest, month=month)
        days, problems = parsed.days, parsed.problems
    got = days != na
    sentinel = got & ((days >= _SENTINEL_FROM) | (days == _SENTINEL_2099))
    if not nullable and sentinel.any():
        problems.append(
            (
                sentinel,
                "bad_date",
                f"this is an 'open' placeholder date, but {column} may not be open; "
                "write the real date",
            )
        )
    early = got & ~sentinel & (days < EARLIEST.astype(np.int64))
    late = got & ~sentinel & (days > latest)
    if early.any():
        problems.append(
            (
                early,
                "implausible_date",
                f"{column} is before 1950; fix the date (an unknown date is an empty cell)",
            )
        )
    if late.any():
        problems.append(
            (
                late,
                "implausible_date",
                f"{column} is more than a year after the observation end "
                f"(latest plausible day {_show(latest)}); fix the date (an open end is an "
                "empty cell, and 9999-12-31 means open)",
            )
        )
    keep = got & ~sentinel & ~early & ~late
    if month:
        days = np.where(keep, _month_start(days), days)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    out[keep] = days[keep].astype("datetime64[D]").astype("datetime64[ns]")
    return DateCells(pd.Series(out, index=s.index), problems, note)


def _month_start(days: np.ndarray) -> np.ndarray:
    safe = np.clip(days, -700_000, 2_900_000)
    return (
        safe.astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )
