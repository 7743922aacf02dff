"""Sick leave and turnover on what real extracts hold, against hand computations.

Ongoing absences (no end_date), overlapping absences of one person (each day once, with a
warning), persons without an agreed working day in a period (not counted in ``n_persons``, so
not toward the suppression threshold) and a unit renamed on a date (not turnover).

March 2021 has 23 working days (Easter falls in April), so with three full-time persons the
agreed days of the month are 3 x 23 = 69.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import turnover_risk as tr

from ._kernel import kernel_numbers_only

WINDOW = {"start": "2021-03-01", "end": "2021-03-31", "period": "month", "min_group_size": 3}


def _emp(extra: list[tuple[str, str, str]] = ()) -> pd.DataFrame:
    rows = [("a", "2021-01-01", None), ("b", "2021-01-01", None), ("c", "2021-01-01", None)]
    rows += list(extra)
    return pd.DataFrame(
        {
            "employee_id": [r[0] for r in rows],
            "unit_id": "u1",
            "start_date": pd.to_datetime([r[1] for r in rows]),
            "end_date": pd.to_datetime([r[2] for r in rows]),
            "fte": 1.0,
        }
    )


def _absences(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employee_id": [r[0] for r in rows],
            "start_date": pd.to_datetime([r[1] for r in rows]),
            "end_date": pd.to_datetime([r[2] for r in rows]),
            "certification": "doctor",
            "grade": 1.0,
        }
    )


def _rate(reg: tr.Register) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("error", tr.DataQualityWarning)
        out = tr.sick_leave_rate(reg, **WINDOW)
    assert len(out) == 1
    return out.iloc[0]


@kernel_numbers_only
def test_an_ongoing_absence_counts_to_the_observation_end() -> None:
    # 22-31 March: 5 + 3 working days
    reg = tr.Register(employment=_emp(), absences=_absences([("a", "2021-03-22", None)]))
    row = _rate(reg)
    assert row["numerator"] == 8.0
    assert row["denominator"] == 69.0
    assert row["n_spells"] == 1


@kernel_numbers_only
def test_an_ongoing_absence_is_read_and_validated_from_a_file(tmp_path) -> None:
    tr.write_register(
        tr.Register(employment=_emp(), absences=_absences([("a", "2021-03-22", None)])),
        tmp_path,
        format="csv",
    )
    reg = tr.read_register(tmp_path)
    assert reg.absences["end_date"].isna().all()
    assert _rate(reg)["numerator"] == 8.0


@kernel_numbers_only
def test_overlapping_absences_count_each_day_once_with_a_warning() -> None:
    # 1-5 March (5 days) and 3-10 March (6 days) overlap on 3-5 March: together 1-10 March,
    # 8 working days, not 11
    ab = _absences([("a", "2021-03-01", "2021-03-05"), ("a", "2021-03-03", "2021-03-10")])
    reg = tr.Register(employment=_emp(), absences=ab)
    with pytest.warns(tr.DataQualityWarning, match="1 absence spells overlap"):
        out = tr.sick_leave_rate(reg, **WINDOW)
    assert out["numerator"].iloc[0] == 8.0
    assert out["n_spells"].iloc[0] == 2  # the later spell still adds 8-10 March


@kernel_numbers_only
def test_an_absence_inside_another_adds_nothing() -> None:
    ab = _absences(
        [
            ("a", "2021-03-01", "2021-03-12"),
            ("a", "2021-03-02", "2021-03-03"),
            ("b", "2021-03-01", None),
        ]
    )
    reg = tr.Register(employment=_emp(), absences=ab)
    with pytest.warns(tr.DataQualityWarning, match="overlap"):
        out = tr.sick_leave_rate(reg, **WINDOW)
    assert out["numerator"].iloc[0] == 10.0 + 23.0
    assert out["n_spells"].iloc[0] == 2


@kernel_numbers_only
def test_absences_of_different_persons_on_the_same_days_are_not_merged() -> None:
    ab = _absences([("a", "2021-03-01", "2021-03-05"), ("b", "2021-03-01", "2021-03-05")])
    row = _rate(tr.Register(employment=_emp(), absences=ab))
    assert row["numerator"] == 10.0


@kernel_numbers_only
def test_persons_without_an_agreed_working_day_do_not_count() -> None:
    # d and e are employed only on the weekend of 6-7 March: no agreed working day
    weekend = [("d", "2021-03-06", "2021-03-07"), ("e", "2021-03-06", "2021-03-07")]
    reg = tr.Register(
        employment=_emp(weekend), absences=_absences([("a", "2021-03-01", "2021-03-01")])
    )
    row = _rate(reg)
    assert row["n_persons"] == 3
    assert row["denominator"] == 69.0


@kernel_numbers_only
def test_persons_without_an_agreed_working_day_do_not_lift_a_group_over_the_threshold() -> None:
    emp = _emp([("d", "2021-03-06", "2021-03-07")])
    emp = emp[emp["employee_id"] != "c"]  # a, b and the weekend-only d
    reg = tr.Register(employment=emp, absences=_absences([("a", "2021-03-01", "2021-03-01")]))
    out = tr.sick_leave_rate(reg, **WINDOW)  # the kernel's count, before the privacy layer
    assert bool(out["suppressed"].iloc[0])
    assert out["n_persons"].iloc[0] == 2


def _reorganised(with_changes: bool) -> tr.Register:
    """Five persons in U12 until 31 August 2022, then in U12A (the unit renamed)."""
    ids = list("abcde")
    emp = pd.DataFrame(
        {
            "employee_id": ids * 2,
            "unit_id": ["U12"] * 5 + ["U12A"] * 5,
            "start_date": pd.to_datetime(["2020-01-01"] * 5 + ["2022-09-01"] * 5),
            "end_date": pd.to_datetime(["2022-08-31"] * 5 + [None] * 5),
            "fte": 1.0,
            "exit_reason": ["internal_transfer"] * 5 + [None] * 5,
        }
    )
    changes = pd.DataFrame(
        {"old_unit_id": ["U12"], "new_unit_id": ["U12A"], "date": pd.to_datetime(["2022-09-01"])}
    )
    return tr.Register(employment=emp, unit_changes=changes if with_changes else None)


@pytest.mark.parametrize("definition", ["separation", "exit_share"])
def test_a_renamed_unit_is_not_turnover(definition: str) -> None:
    kw = {"definition": definition, "scope": "unit", "start": "2021-01-01", "end": "2023-12-31"}
    kw["min_group_size"] = 3
    before = tr.turnover_rate(_reorganised(False), **kw)
    after = tr.turnover_rate(_reorganised(True), **kw)
    assert before["numerator"].sum() > 0  # without the table: a wave of exits
    assert after["numerator"].sum() == 0
    assert set(after["n_persons"]) == {5}
