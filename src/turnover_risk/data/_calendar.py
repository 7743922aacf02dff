"""Norwegian working days and public holidays.

Working days are Monday to Friday minus the Norwegian public holidays (``docs/sources.md``): New Year's
Day, Maundy Thursday, Good Friday, Easter Sunday and Monday, 1 May, 17 May, Ascension Day, Whit
Sunday and Monday, 25 and 26 December. The dates come from the ``holidays`` package. Some versions
of its Norway calendar list *every Sunday* as a holiday (``include_sundays``); we always ask for
the calendar without them and drop any entry that is a plain Sunday, so :func:`norwegian_holidays`
lists the public holidays only. Sundays are never working days anyway.

Counting is vectorised: :class:`WorkdayIndex` holds a cumulative count of working days over a
date range, so the working days between any number of date pairs are two array look-ups and a
subtraction. Spells are never expanded into one row per day.

Examples
--------
>>> import numpy as np
>>> working_days(np.array(["2021-05-17"], "datetime64[D]"), np.array(["2021-05-21"], "datetime64[D]"))
array([4])
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = [
    "WorkdayIndex",
    "holiday_dates",
    "is_working_day",
    "norwegian_holidays",
    "working_days",
]

_SUNDAY_NAMES = frozenset({"søndag", "sunday", "sundays"})


@lru_cache(maxsize=256)
def _holidays_of_year(year: int) -> tuple[tuple[_dt.date, str], ...]:
    import holidays as _holidays

    try:
        cal = _holidays.country_holidays("NO", years=year, include_sundays=False)
    except TypeError:  # pragma: no cover - very old `holidays` without the keyword
        cal = _holidays.country_holidays("NO", years=year)
    out = []
    for day, name in sorted(cal.items()):
        names = [n.strip() for n in str(name).split(";")]
        names = [n for n in names if n.lower() not in _SUNDAY_NAMES]
        if not names:  # a plain Sunday listed as a holiday: not a public holiday
            continue
        out.append((day, "; ".join(names)))
    return tuple(out)


def _check_years(years: int | range | list[int] | tuple[int, ...]) -> list[int]:
    if isinstance(years, int | np.integer) and not isinstance(years, bool):
        years = [int(years)]
    try:
        ys = sorted({int(y) for y in years})  # type: ignore[union-attr]
    except TypeError as exc:
        raise TypeError(
            f"years must be an int or an iterable of ints; got {years!r} ({type(years).__name__})."
        ) from exc
    bad = [y for y in ys if not 1900 <= y <= 2200]
    if bad:
        raise ValueError(f"years={bad} are outside the supported range 1900..2200.")
    return ys


def norwegian_holidays(years: int | range | list[int] | tuple[int, ...]) -> pd.DataFrame:
    """Norwegian public holidays of the given years.

    Parameters
    ----------
    years : int or iterable of int
        Calendar years, e.g. ``2021`` or ``range(2019, 2025)``.

    Returns
    -------
    DataFrame
        Columns ``date`` (``datetime64[ns]``), ``name`` (str) and ``working_day_lost`` (bool:
        the holiday falls on a Monday-Friday). Twelve holidays a year; plain Sundays are not
        listed even if the ``holidays`` package would list them.

    Examples
    --------
    >>> h = norwegian_holidays(2021)
    >>> len(h), int(h["working_day_lost"].sum())
    (12, 7)
    >>> str(h.loc[h["name"].str.contains("Constitution|Grunnlov"), "date"].iloc[0].date())
    '2021-05-17'
    """
    ys = _check_years(years)
    rows = [(d, n) for y in ys for d, n in _holidays_of_year(y)]
    dates = pd.to_datetime(pd.Series([d for d, _ in rows], dtype=object)).astype("datetime64[ns]")
    out = pd.DataFrame({"date": dates, "name": pd.Series([n for _, n in rows], dtype="str")})
    out["working_day_lost"] = out["date"].dt.day_of_week < 5
    return out


def holiday_dates(first: object, last: object) -> np.ndarray:
    """Public holidays between ``first`` and ``last`` (inclusive) as ``datetime64[D]``.

    Examples
    --------
    >>> holiday_dates("2021-12-20", "2022-01-05").astype(str).tolist()
    ['2021-12-25', '2021-12-26', '2022-01-01']
    """
    lo = np.datetime64(pd.Timestamp(first).date(), "D")
    hi = np.datetime64(pd.Timestamp(last).date(), "D")
    if hi < lo:
        return np.array([], dtype="datetime64[D]")
    y0, y1 = int(str(lo)[:4]), int(str(hi)[:4])
    days = np.array(
        [np.datetime64(d, "D") for y in range(y0, y1 + 1) for d, _ in _holidays_of_year(y)],
        dtype="datetime64[D]",
    )
    return days[(days >= lo) & (days <= hi)]


def _as_days(values: object, name: str) -> np.ndarray:
    """Anything date-like -> ``datetime64[D]`` ndarray (at least 1-d)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return np.atleast_1d(arr.astype("datetime64[D]"))
    try:
        return np.atleast_1d(pd.to_datetime(arr).to_numpy().astype("datetime64[D]"))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be dates (datetime64, Timestamp or ISO strings).") from exc


class WorkdayIndex:
    """Cumulative count of Norwegian working days over a date range.

    ``cum[i]`` is the number of working days in ``[first, first + i)``, so the working days in
    an inclusive interval ``[s, e]`` are ``cum[e + 1 - first] - cum[s - first]``. Building the
    index costs one pass over the days of the range; every count after that is O(1) per pair.

    Parameters
    ----------
    first, last : date-like
        Range covered (inclusive). Counts are exact for intervals clipped to this range.

    Examples
    --------
    >>> idx = WorkdayIndex("2021-01-01", "2021-12-31")
    >>> int(idx.count_dates("2021-01-01", "2021-12-31")[0])  # 261 weekdays - 7 holidays on weekdays
    254
    """

    def __init__(self, first: object, last: object) -> None:
        lo = _as_days(first, "first")[0]
        hi = _as_days(last, "last")[0]
        if np.isnat(lo) or np.isnat(hi):
            raise ValueError("WorkdayIndex needs two real dates; got NaT.")
        if hi < lo:
            raise ValueError(f"WorkdayIndex: last={hi} is before first={lo}.")
        days = np.arange(lo, hi + 1, dtype="datetime64[D]")
        work = np.is_busday(days, holidays=holiday_dates(lo, hi))
        self.first: np.datetime64 = lo
        self.last: np.datetime64 = hi
        self.origin: int = int(lo.astype(np.int64))
        self.is_workday: np.ndarray = work
        self.cum: np.ndarray = np.concatenate(([0], np.cumsum(work, dtype=np.int64)))

    def __repr__(self) -> str:
        return f"WorkdayIndex({self.first} .. {self.last}, {int(self.cum[-1])} working days)"

    def count(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Working days in ``[start, end]`` for integer day numbers (days since 1970-01-01).

        Both ends are clipped to the index range; empty intervals (``end < start``) give 0.
        """
        n = len(self.cum) - 1
        s = np.clip(np.asarray(start, dtype=np.int64) - self.origin, 0, n)
        e = np.clip(np.asarray(end, dtype=np.int64) - self.origin + 1, 0, n)
        return np.maximum(self.cum[e] - self.cum[s], 0)

    def count_dates(self, start: object, end: object) -> np.ndarray:
        """Working days in ``[start, end]`` for date-likes (arrays, Series or scalars)."""
        s = _as_days(start, "start").astype(np.int64)
        e = _as_days(end, "end").astype(np.int64)
        return self.count(s, e)


def working_days(start: object, end: object) -> np.ndarray:
    """Norwegian working days in each inclusive interval ``[start[i], end[i]]``.

    Parameters
    ----------
    start, end : array-like of dates
        Same length (or scalars). ``end < start`` gives 0. Missing dates are refused.

    Returns
    -------
    ndarray of int64

    Examples
    --------
    Easter week 2021 (Maundy Thursday 1 April, Good Friday 2 April, Easter Monday 5 April):

    >>> working_days(["2021-03-29", "2021-12-24"], ["2021-04-09", "2022-01-02"]).tolist()
    [7, 6]
    """
    s = _as_days(start, "start")
    e = _as_days(end, "end")
    if np.isnat(s).any() or np.isnat(e).any():
        raise ValueError(
            "working_days got missing dates (NaT); fill open end dates first, e.g. with the "
            "end of the period you are counting."
        )
    s, e = np.broadcast_arrays(s, e)
    if s.size == 0:
        return np.zeros(0, dtype=np.int64)
    idx = WorkdayIndex(s.min(), max(e.max(), s.min()))
    return idx.count(s.astype(np.int64), e.astype(np.int64))


def is_working_day(dates: object) -> np.ndarray:
    """Whether each date is a Norwegian working day (Mon-Fri and not a public holiday).

    Examples
    --------
    >>> is_working_day(["2021-05-17", "2021-05-18", "2021-05-22"]).tolist()
    [False, True, False]
    """
    d = _as_days(dates, "dates")
    if d.size == 0:
        return np.zeros(0, dtype=bool)
    ok = ~np.isnat(d)
    out = np.zeros(d.shape, dtype=bool)
    if ok.any():
        out[ok] = np.is_busday(d[ok], holidays=holiday_dates(d[ok].min(), d[ok].max()))
    return out
