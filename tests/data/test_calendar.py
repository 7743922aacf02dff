"""Tests of turnover_risk.data's calendar: Norwegian public holidays and working-day counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnover_risk.data import (
    WorkdayIndex,
    holiday_dates,
    is_working_day,
    norwegian_holidays,
    working_days,
)

# The twelve Norwegian public holidays of 2021, listed by hand from the calendar.
HOLIDAYS_2021 = [
    "2021-01-01",  # New Year's Day (Fri)
    "2021-04-01",  # Maundy Thursday
    "2021-04-02",  # Good Friday
    "2021-04-04",  # Easter Sunday
    "2021-04-05",  # Easter Monday
    "2021-05-01",  # 1 May (Sat)
    "2021-05-13",  # Ascension Day
    "2021-05-17",  # Constitution Day (Mon)
    "2021-05-23",  # Whit Sunday
    "2021-05-24",  # Whit Monday
    "2021-12-25",  # Christmas Day (Sat)
    "2021-12-26",  # Boxing Day (Sun)
]


def test_holidays_2021_are_exactly_the_twelve_public_holidays():
    h = norwegian_holidays(2021)
    assert h["date"].dt.strftime("%Y-%m-%d").tolist() == HOLIDAYS_2021
    assert h["date"].dtype == "datetime64[ns]"
    # Sundays that are not holidays never appear (the package can list every Sunday)
    assert not (pd.Timestamp("2021-01-03") == h["date"]).any()


@pytest.mark.parametrize(
    ("year", "easter_sunday"),
    [(2019, "2019-04-21"), (2020, "2020-04-12"), (2022, "2022-04-17"), (2024, "2024-03-31")],
)
def test_movable_feasts_follow_easter(year, easter_sunday):
    dates = set(norwegian_holidays(year)["date"])
    e = pd.Timestamp(easter_sunday)
    for offset in (-3, -2, 0, 1, 39, 49, 50):  # Maundy Thu .. Whit Monday
        assert e + pd.Timedelta(days=offset) in dates
    assert len(dates) == 12


@pytest.mark.parametrize(
    ("start", "end", "expected", "why"),
    [
        ("2021-01-01", "2021-12-31", 254, "261 weekdays - 7 holidays on weekdays"),
        ("2021-03-29", "2021-04-09", 7, "Easter week: 10 weekdays - Thu, Fri, Mon"),
        ("2021-05-17", "2021-05-21", 4, "17 May is a Monday"),
        ("2021-05-01", "2021-05-02", 0, "a weekend"),
        ("2021-12-24", "2022-01-02", 6, "Christmas 2021 falls on a weekend"),
        ("2020-12-24", "2021-01-03", 5, "25 Dec Fri, 1 Jan Fri: 24, 28, 29, 30, 31 Dec"),
        ("2021-06-10", "2021-06-09", 0, "end before start"),
        ("2021-03-29", "2021-05-21", 35, "8 weeks - Easter (3) - Ascension - 17 May"),
    ],
)
def test_working_days_hand_counted(start, end, expected, why):
    assert working_days([start], [end]).tolist() == [expected], why


def test_working_days_refuses_missing_dates():
    with pytest.raises(ValueError, match="missing dates"):
        working_days(np.array(["2021-01-01"], "datetime64[D]"), np.array(["NaT"], "datetime64[D]"))


def test_is_working_day_and_holiday_dates():
    assert is_working_day(["2021-04-01", "2021-04-06", "2021-04-10"]).tolist() == [
        False,
        True,
        False,
    ]
    assert holiday_dates("2021-05-10", "2021-05-20").astype(str).tolist() == [
        "2021-05-13",
        "2021-05-17",
    ]


def test_workday_index_clips_and_reprs():
    idx = WorkdayIndex("2021-01-01", "2021-01-31")
    assert "20 working days" in repr(idx)
    # a range reaching outside is clipped to the index
    assert idx.count_dates("2020-12-01", "2021-02-28").tolist() == [20]
    with pytest.raises(ValueError, match="before first"):
        WorkdayIndex("2021-02-01", "2021-01-01")


@settings(max_examples=60, deadline=None)
@given(
    a=st.dates(
        min_value=pd.Timestamp("2015-01-01").date(), max_value=pd.Timestamp("2026-12-31").date()
    ),
    n=st.integers(0, 800),
    m=st.integers(0, 800),
)
def test_counts_agree_with_numpy_busday_and_are_additive(a, n, m):
    s = np.datetime64(a, "D")
    mid = s + n
    e = mid + m
    hol = np.array(
        [np.datetime64(d) for y in range(2014, 2033) for d in norwegian_holidays(y)["date"]],
        dtype="datetime64[D]",
    )
    direct = np.busday_count(s, e + 1, holidays=hol)
    assert working_days([s], [e])[0] == direct
    # splitting an interval anywhere loses nothing
    assert working_days([s], [mid])[0] + working_days([mid + 1], [e])[0] == direct
