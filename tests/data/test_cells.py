"""The date and number rules of the readers (``data/_dates.py``, ``data/_numbers.py``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import turnover_risk as tr
from turnover_risk.data._dates import latest_plausible, parse_dates
from turnover_risk.data._numbers import parse_numbers

LATEST = latest_plausible("2024-12-31")  # 2025-12-31


def _dates(cells, *, nullable=True, month=False):
    got = parse_dates(
        pd.Series(cells, dtype=object), "d", nullable=nullable, latest=LATEST, month=month
    )
    values = [None if pd.isna(v) else v.date().isoformat() for v in got.values]
    rules = {int(i): rule for m, rule, _ in got.problems for i in np.flatnonzero(m)}
    return values, rules


def test_latest_plausible_day_is_a_year_after_the_observation_end() -> None:
    assert np.datetime64(LATEST, "D") == np.datetime64("2025-12-31")


@pytest.mark.parametrize(
    ("cell", "date"),
    [
        ("2021-06-30T23:30:00Z", "2021-07-01"),  # 01:30 in Oslo (summer time)
        ("2021-12-31T23:30:00Z", "2022-01-01"),  # 00:30 in Oslo (winter time)
        ("2021-01-01T00:30:00+01:00", "2021-01-01"),
        ("2021-03-01 08:15", "2021-03-01"),
        ("01.03.25", "2025-03-01"),
        ("12.10.65", "1965-10-12"),
        ("9999-12-31", None),
        ("2099-12-31", None),
        ("4712-12-31", None),
    ],
)
def test_date_cells(cell: str, date: str | None) -> None:
    values, rules = _dates([cell])
    assert values == [date]
    assert rules == {}


@pytest.mark.parametrize(
    ("cell", "rule"),
    [
        ("01.03.26", "implausible_date"),  # 2026 is after 2025-12-31, so 1926: before 1950
        ("2026-01-01", "implausible_date"),
        ("1949-12-31", "implausible_date"),
        ("1993", "bad_date"),
        ("2019-01", "bad_date"),
        ("30.02.2021", "bad_date"),
        ("03/04/2021", "ambiguous_date"),
    ],
)
def test_refused_date_cells(cell: str, rule: str) -> None:
    values, rules = _dates([cell])
    assert values == [None]
    assert rules == {0: rule}


def test_an_open_sentinel_where_no_open_end_is_allowed_is_a_problem() -> None:
    assert _dates(["9999-12-31"], nullable=False)[1] == {0: "bad_date"}


def test_months_are_read_as_their_first_day() -> None:
    assert _dates(["2019-01", "2019-02-15"], month=True)[0] == ["2019-01-01", "2019-02-01"]


def test_the_column_says_which_number_is_the_day() -> None:
    assert _dates(["03/04/2021", "25/04/2021"])[0] == ["2021-04-03", "2021-04-25"]
    assert _dates(["03/04/2021", "04/25/2021"])[0] == ["2021-03-04", "2021-04-25"]


@given(st.dates(dt.date(1950, 1, 1), dt.date(2025, 12, 31)))
def test_every_written_form_of_a_plausible_date_reads_back(day: dt.date) -> None:
    cells = [
        day.isoformat(),
        day.strftime("%d.%m.%Y"),
        f"{day.isoformat()}T00:00:00+01:00",
        f"{day.isoformat()} 12:00:00",
    ]
    assert _dates(cells)[0] == [day.isoformat()] * 4


def test_utc_stored_oslo_midnights_in_parquet_are_read_as_oslo_dates() -> None:
    stamps = pd.Series(pd.to_datetime(["2020-12-31 23:00", "2021-06-30 22:00"])).astype(
        "datetime64[us]"
    )
    got = parse_dates(stamps, "d", nullable=False, latest=LATEST)
    assert [v.date().isoformat() for v in got.values] == ["2021-01-01", "2021-07-01"]
    assert "UTC instants" in got.note


def test_naive_timestamps_with_other_times_keep_their_date() -> None:
    stamps = pd.Series(pd.to_datetime(["2020-12-31 23:00", "2021-06-30 08:00"]))
    got = parse_dates(stamps, "d", nullable=False, latest=LATEST)
    assert [v.date().isoformat() for v in got.values] == ["2020-12-31", "2021-06-30"]
    assert got.note is None


def _numbers(cells, *, share=False):
    got = parse_numbers(pd.Series(cells, dtype=object), "x", share=share)
    rules = {int(i): rule for m, rule, _ in got.problems for i in np.flatnonzero(m)}
    return [None if np.isnan(v) else float(v) for v in got.values], rules


@pytest.mark.parametrize(
    ("cells", "values"),
    [
        (["1 234", "12"], [1234.0, 12.0]),
        (["1\u00a0234,5"], [1234.5]),
        (["1.234.567", "1.000"], [1234567.0, 1000.0]),
        (["1.000", "2.5"], [1.0, 2.5]),
        (["1,000", "2.5"], [1000.0, 2.5]),
        (["1.000", "0,5"], [1000.0, 0.5]),
        (["1.234,5", "1,234.5"], [1234.5, 1234.5]),
    ],
)
def test_number_cells(cells, values) -> None:
    assert _numbers(cells) == (values, {})


def test_a_separator_the_column_does_not_explain_is_refused() -> None:
    assert _numbers(["1.000", "12"]) == ([None, 12.0], {0: "ambiguous_number"})
    assert _numbers(["1.000", "2.5", "0,5"])[1] == {0: "ambiguous_number"}


def test_percentages_are_shares_only_where_the_column_is_a_share() -> None:
    assert _numbers(["80 %", "50%", "0,8"], share=True) == ([0.8, 0.5, 0.8], {})
    assert _numbers(["80 %"]) == ([None], {0: "wrong_type"})


def test_unit_changes_round_trip(tmp_path) -> None:
    emp = pd.DataFrame(
        {
            "employee_id": ["a"],
            "unit_id": ["U12"],
            "start_date": pd.to_datetime(["2020-01-01"]),
            "end_date": pd.NaT,
            "fte": [1.0],
        }
    )
    changes = pd.DataFrame(
        {"old_unit_id": ["U12"], "new_unit_id": ["U12A"], "date": pd.to_datetime(["2022-09-01"])}
    )
    for fmt in ("csv", "parquet"):
        tr.write_register(tr.Register(employment=emp, unit_changes=changes), tmp_path / fmt, fmt)
        back = tr.read_register(tmp_path / fmt)
        pd.testing.assert_frame_equal(back.unit_changes, changes, check_dtype=False)
        assert back.table_names == ("employment", "unit_changes")


def test_validate_never_shows_an_employee_id() -> None:
    emp = pd.DataFrame(
        {
            "employee_id": ["E000101", "E000101"],
            "unit_id": ["U1", "U1"],
            "start_date": ["2020-01-01", "2020-06-01"],
            "end_date": [None, None],
            "fte": [1.0, 1.0],
        }
    )
    ab = pd.DataFrame(
        {
            "employee_id": ["E000370"],
            "start_date": ["2021-01-04"],
            "end_date": ["2021-01-05"],
            "certification": ["self"],
        }
    )
    report = tr.validate(tr.Register(employment=emp, absences=ab))
    assert set(report.problems["rule"]) >= {"overlapping_spell", "unknown_employee"}
    text = report.problems.to_csv() + repr(report)
    assert "E000" not in text
