"""The observation window of the rates, and detection of left-truncated tables (private).

The window is ``start``/``end`` when given, else the register's metadata, else it is read
from the data. HR extracts are often *left-truncated*: the employment table holds only the
staff still employed when recording began, with their hire dates from decades back, so no
exit before that day can appear. Rates computed from the earliest hire date would then show
0 % turnover for every year before the extract. The same happens to sick leave before
absences were first recorded.

The rule (:func:`detect_left_truncation`) is a Poisson argument on the table itself. Let
``E`` be the day of the first recorded event (a spell end for employment, an absence start for
absences). By the memorylessness of a constant hazard, the events after ``E`` estimate the
rate ``lambda`` independently of where ``E`` fell: ``lambda = events after E / person-years at
risk after E``. ``lambda x person-years at risk before E`` is the number of events one would
expect before ``E``; the chance of seeing none is ``exp(-expected)``. When
``expected >= TRUNCATION_EXPECTED_EVENTS`` (10: a chance below 5e-5) the table is taken to be
left-truncated and the window starts where recording began: the first date of the record
tables (absences, caseload, supervision) when that is on or before ``E`` and itself no
earlier than the data allow (fewer than ``TRUNCATION_EXPECTED_EVENTS`` events expected
between it and ``E``), else the first day of ``E``'s month (else ``E``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

TRUNCATION_EXPECTED_EVENTS: float = 10.0
"""Events expected before the first recorded one above which a table counts as left-truncated.

With ``expected`` events expected and none seen, the chance of that under the rate seen later
is ``exp(-expected)``: 4.5e-5 at 10, so a complete register is almost never cut. A complete
register of a few people (say three hired on the same day, the first exit 18 months later)
has a few person-years before its first exit and expects a handful at most; an HR extract of
300 staff hired over 25 years expects hundreds (the shipped sample read without its
metadata: about 375).
"""

_YEAR = 365.25

_RECORD_TABLES: tuple[tuple[str, str], ...] = (
    ("absences", "start_date"),
    ("caseload", "month"),
    ("supervision", "date"),
)


def metadata_window(data: object) -> tuple[object, object]:
    """Observation window recorded in ``Register.metadata``, if any.

    Keys ``observation_start``/``observation_end`` win; a simulated register's ``start_year``
    and ``years`` give 1 January of the first to 31 December of the last year. HR extracts hold
    the start dates of long-serving staff from decades back, so the earliest start date is a
    poor window start when the exits before the extract are not recorded.

    Parameters
    ----------
    data : Register or object
        Anything with a ``metadata`` mapping (a frame or ``None`` metadata: no window).

    Returns
    -------
    tuple
        ``(start, end)`` as recorded (date-like or ``None`` each), not parsed.

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk.data import Register
    >>> from turnover_risk.rates import metadata_window
    >>> reg = Register(employment=pd.DataFrame({"employee_id": ["a"]}),
    ...                metadata={"start_year": 2019, "years": 3})
    >>> metadata_window(reg)
    ('2019-01-01', '2021-12-31')
    """
    meta = getattr(data, "metadata", None) or {}
    start, end = meta.get("observation_start"), meta.get("observation_end")
    year0, years = meta.get("start_year"), meta.get("years")
    if isinstance(year0, int | np.integer) and isinstance(years, int | np.integer):
        start = start if start is not None else f"{int(year0)}-01-01"
        end = end if end is not None else f"{int(year0) + int(years) - 1}-12-31"
    return start, end


def record_starts(data: object, tables: tuple[str, ...]) -> dict[str, int]:
    """First date (day number) of each of the named record tables present in ``data``."""
    out = {}
    for name, col in _RECORD_TABLES:
        df = getattr(data, name, None) if name in tables else None
        if not isinstance(df, pd.DataFrame) or col not in df.columns or not len(df):
            continue
        first = pd.to_datetime(df[col], errors="coerce").min()
        if not pd.isna(first):
            out[name] = int(np.datetime64(first.date(), "D").astype(np.int64))
    return out


def _exposure(s: np.ndarray, e: np.ndarray, lo: int, hi: int) -> float:
    """Days at risk in ``[lo, hi)`` summed over spells covering days ``s..e`` (inclusive)."""
    if hi <= lo or not len(s):
        return 0.0
    days = np.minimum(e + 1, hi) - np.maximum(s, lo)
    return float(np.clip(days, 0, None).sum())


@dataclass(frozen=True)
class Truncation:
    """A left-truncated table found by :func:`detect_left_truncation`.

    Days are day numbers (days since 1970-01-01). :meth:`describe` gives the sentence the
    warnings quote.
    """

    table: str  # "employment" or "absences"
    event: str  # what was counted, e.g. "spell end (exit or move)"
    first_event: int  # E, day number
    start: int  # the inferred window start, day number
    basis: str  # where the start comes from, in words
    n_after: int  # events after E
    years_after: float  # person-years at risk after E
    years_before: float  # person-years at risk before E
    expected: float  # events expected before E

    def describe(self) -> str:
        """One sentence: what was inferred, from what."""
        rate = self.n_after / self.years_after
        log10_p = -self.expected / math.log(10)
        chance = f"1e{log10_p:.0f}" if log10_p < -3 else f"{math.exp(-self.expected):.1g}"
        return (
            f"the {self.table} table records no {self.event} before "
            f"{_iso(self.first_event)}, yet at the rate seen after that day ({self.n_after} in "
            f"{self.years_after:,.0f} person-years, {rate:.3g} a year) about "
            f"{self.expected:,.0f} would be expected in the {self.years_before:,.0f} "
            f"person-years at risk before it (chance of none: {chance}), so it looks "
            "left-truncated"
        )


def detect_left_truncation(
    s: np.ndarray,
    e: np.ndarray,
    events: np.ndarray,
    *,
    first: int,
    last: int,
    table: str,
    event: str,
    candidates: Callable[[], Mapping[str, int]],
    threshold: float = TRUNCATION_EXPECTED_EVENTS,
) -> Truncation | None:
    """Whether ``events`` (day numbers) start suspiciously late inside ``first..last``.

    ``s``/``e`` are the spells at risk (inclusive days; open ends far in the future).
    Returns ``None`` when the table looks complete, else the inferred window start and the
    numbers behind it. ``candidates`` is called only on detection and gives the first dates of
    the record tables to start the window at. Vectorised: a handful of passes over the arrays,
    no loop over rows.

    The rule: with ``E`` the first event in ``first..last``, the events after ``E`` per day at
    risk after ``E`` times the days at risk before ``E`` is the number of events expected
    before it; at ``threshold`` or more the table is taken to be left-truncated. The start is
    the earliest of ``candidates`` when it is on or before ``E`` and fewer than ``threshold``
    events are expected between it and ``E``, else the first day of ``E``'s month (if that
    test passes), else ``E``.

    Parameters
    ----------
    s, e : ndarray of int
        Start and end day numbers of the spells at risk (inclusive).
    events : ndarray of int
        Day numbers of the recorded events (spell ends, absence starts).
    first, last : int
        The window searched, day numbers.
    table, event : str
        Names used in the description (``"employment"``, ``"spell end (exit or move)"``).
    candidates : callable
        Returns ``{table name: first day}`` of the record tables that could mark the start.
    threshold : float
        Events expected before ``E`` from which the table counts as left-truncated
        (:data:`TRUNCATION_EXPECTED_EVENTS`).

    Returns
    -------
    Truncation or None

    Examples
    --------
    100 staff hired in 1995, the first recorded leaver in March 2019, nine more after it:

    >>> import numpy as np
    >>> from turnover_risk.rates import detect_left_truncation
    >>> day = lambda iso: int(np.datetime64(iso, "D").astype(np.int64))
    >>> s = np.full(100, day("1995-01-01"))
    >>> e = np.array([2**30] * 90 + [day("2019-03-10") + 30 * i for i in range(10)])
    >>> t = detect_left_truncation(s, e, e[e < 2**30], first=int(s.min()),
    ...     last=day("2021-12-31"), table="employment", event="spell end", candidates=dict)
    >>> str(np.datetime64(t.start, "D")), round(t.expected)
    ('2019-03-01', 85)
    >>> t.basis
    'the first day of the month of the first spell end'
    """
    ev = events[(events >= first) & (events <= last)]
    if not len(ev):
        return None
    E = int(ev.min())
    if E <= first:
        return None
    n_after = int((ev > E).sum())
    t_after = _exposure(s, e, E + 1, last + 1)
    if n_after == 0 or t_after <= 0:
        return None
    lam = n_after / t_after  # events per day at risk
    t_before = _exposure(s, e, first, E)
    expected = lam * t_before
    if expected < threshold:
        return None

    def plausible(day: int) -> bool:  # no events expected between day and E
        return first < day <= E and lam * _exposure(s, e, day, E) < threshold

    found = candidates()
    month = int(np.datetime64(np.datetime64(E, "D"), "M").astype("datetime64[D]").astype(np.int64))
    if found and plausible(c := min(found.values())):
        names = [t for t, _ in _RECORD_TABLES if found.get(t) == c]
        start, basis = c, f"the first date in the {_and(names)} table{'s' * (len(names) > 1)}"
    elif plausible(month):
        start, basis = month, f"the first day of the month of the first {event}"
    else:
        start, basis = E, f"the day of the first {event}"
    return Truncation(
        table=table,
        event=event,
        first_event=E,
        start=start,
        basis=basis,
        n_after=n_after,
        years_after=t_after / _YEAR,
        years_before=t_before / _YEAR,
        expected=expected,
    )


def _iso(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def truncation_message(who: str, found: list[Truncation], first_data: int) -> str:
    """The one warning text for the truncations found in one call."""
    what = "; and ".join(t.describe() for t in found)
    last = max(found, key=lambda t: t.start)
    return (
        f"{who}: {what}. Rates start on {_iso(last.start)} ({last.basis}); the periods "
        "before it are dropped. To choose the window yourself pass "
        f"start='YYYY-MM-DD' (start='{_iso(first_data)}' keeps every period) or set "
        "register.metadata['observation_start'] (write_register keeps it in metadata.json)."
    )
