"""The observation window and the period grid of the panel (private).

Where the data end (:func:`register_as_of`), where every table present is being recorded
(:func:`observation_window_start`, with the left-truncation check of the rates for an
employment-only register), the default first period (:func:`default_first_day`, a full
:data:`FEATURE_WINDOW_MONTHS` look-back after recording began) and the grid of period starts
(:func:`_grid`). :func:`._context.prepare_context` calls them once per register.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from turnover_risk.data import Register
from turnover_risk.panel._time import (
    OPEN_DAY,
    day_of,
    day_to_timestamp,
    month_of,
    month_start,
    to_days,
)
from turnover_risk.rates import detect_left_truncation, metadata_window

MONTHS_PER_PERIOD = {"M": 1, "Q": 3, "Y": 12}


def _table_dates(register: Register, cols: dict[str, tuple[str, ...]]) -> dict[str, np.ndarray]:
    out = {}
    for table, names in cols.items():
        df = getattr(register, table)
        if df is None or len(df) == 0:
            continue
        parts = [to_days(df[c]) for c in names if c in df.columns]
        d = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        d = d[d != OPEN_DAY]
        if len(d):
            out[table] = d
    return out


def register_as_of(register: Register) -> int:
    """Default ``as_of``: the latest date on which something is recorded as having happened.

    That is the maximum over employment start dates, absence start dates, caseload months,
    supervision and survey dates. Absence *end* dates are left out (a sick-leave certificate
    may run past the day the data were extracted), and so are employment *end* dates whenever a
    record table is present: a fixed-term contract's end is known in advance and would move the
    data end past the last real observation, turning unseen exits into "stayed" labels. With the
    employment table alone, end dates count (there is nothing else to tell where the data end).
    """
    record_tables = {
        "absences": ("start_date",),
        "caseload": ("month",),
        "supervision": ("date",),
        "surveys": ("date",),
    }
    dates = _table_dates(register, {"employment": ("start_date",), **record_tables})
    if not any(t in dates for t in record_tables):
        dates = _table_dates(register, {"employment": ("start_date", "end_date")})
    if not dates:
        raise ValueError(
            "the register has no dates at all (every start_date is empty); cannot tell where "
            "the data end. Pass as_of='YYYY-MM-DD'."
        )
    return int(max(d.max() for d in dates.values()))


FEATURE_WINDOW_MONTHS = 12
"""The longest look-back window of a feature (12 months: sick leave, colleagues who left, unit
exit share). The default panel starts this long after the observation start, so no feature
reads "not yet recorded" as "nothing happened"."""


def observation_window_start(register: Register) -> tuple[int, str | None]:
    """First day on which every table present is being recorded, and a note if it was inferred.

    * With ``register.metadata['observation_start']`` (or a simulated register's
      ``start_year``): the later of that day and the first absence start, caseload month and
      supervision date.
    * Otherwise the latest of the first employment start and the first absence start, caseload
      month and supervision date. Surveys are left out (they are periodic; their features carry
      an age and a missing indicator).
    * A register with an employment table only is checked for left truncation as the rates
      are (:func:`turnover_risk.rates.detect_left_truncation`): an HR extract holds
      only the spells still active when recording began, with hire dates from decades back and
      no exit before recording began, so its first hire says nothing about that day. When the
      check fires, the window starts at the first day of the month of the first recorded spell
      end, and the returned note says so (the caller warns).
    """
    dates = _table_dates(
        register,
        {
            "employment": ("start_date",),
            "absences": ("start_date",),
            "caseload": ("month",),
            "supervision": ("date",),
        },
    )
    records = [int(d.min()) for t, d in dates.items() if t != "employment"]
    meta_start, _ = metadata_window(register)
    if meta_start is not None:
        return max([to_days(pd.Series([pd.Timestamp(meta_start)]))[0], *records]), None
    first = int(max(d.min() for d in dates.values()))
    if records or "employment" not in dates:
        return first, None
    emp = register.employment
    s = to_days(emp["start_date"])
    e = to_days(emp["end_date"])
    keep = s != OPEN_DAY
    s, e = s[keep], e[keep]
    ends = e[e != OPEN_DAY]
    found = detect_left_truncation(
        s,
        e,
        ends,
        first=int(s.min()),
        last=int(max(s.max(), ends.max() if len(ends) else s.max())),
        table="employment",
        event="spell end (exit or move)",
        candidates=dict,
    )
    if found is None:
        return first, None
    note = (
        f"build_panel: {found.describe()}. The panel treats {_text(found.start)} "
        f"({found.basis}) as the start of recording; pass start=... to choose the first "
        "period yourself, or set register.metadata['observation_start']."
    )
    return int(found.start), note


def observation_start(register: Register) -> int:
    """First day on which every table present is being recorded (see
    :func:`observation_window_start`)."""
    return observation_window_start(register)[0]


def default_first_day(register: Register, first: int | None = None) -> int:
    """Default first period: :data:`FEATURE_WINDOW_MONTHS` after :func:`observation_start`.

    Earlier periods would have 3- and 12-month windows reaching back before recording began
    (no leavers, absences or surveys seen yet), which shifts every windowed feature and biases
    a model trained on them. Pass ``start=`` to ``build_panel`` to begin earlier on purpose.
    """
    first = observation_start(register) if first is None else first
    return int(month_start(month_of(np.array([first]))[0] + FEATURE_WINDOW_MONTHS))


def _text(day: int) -> str:
    return str(day_to_timestamp(int(day)).date())


def _grid(freq: str, start: object, end: object, first_day: int, as_of: int) -> np.ndarray:
    mpp = MONTHS_PER_PERIOD[freq]

    def ceil_period(day: int) -> int:
        m = int(month_of(np.array([day]))[0])
        if int(month_start(np.array([m]))[0]) != day:
            m += 1
        return -(-m // mpp) * mpp

    first_m = ceil_period(first_day if start is None else day_of(start))
    last_day = as_of + 1 if end is None else day_of(end)
    if end is not None and last_day > as_of + 1:
        raise ValueError(
            f"end={_text(last_day)} is after the end of the data (as_of={_text(as_of)}): a "
            "period after as_of + 1 day would use records that are not in the register. Pass "
            "an earlier end or a later as_of."
        )
    last_m = int(month_of(np.array([last_day]))[0]) // mpp * mpp
    if last_m < first_m:
        raise ValueError(
            f"no {freq} period starts between start={_text(month_start(np.array([first_m]))[0])} "
            f"and end={_text(last_day)} (as_of={_text(as_of)}); widen start/end or check as_of."
        )
    return month_start(np.arange(first_m, last_m + 1, mpp))
