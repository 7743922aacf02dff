"""build_panel on what real extracts hold: ongoing absences and a renamed unit."""

from __future__ import annotations

import warnings

import pandas as pd

import turnover_risk as tr


def _register(end_date: object, *, renamed: bool) -> tr.Register:
    """Six full-time persons in U1 from 2020; ``a`` is absent from 2 December 2024. With
    ``renamed``, U1 becomes U1B on 1 June 2024 (every spell split there)."""
    ids = list("abcdef")
    emp = pd.DataFrame(
        {
            "employee_id": ids,
            "unit_id": "U1",
            "start_date": pd.Timestamp("2020-01-01"),
            "end_date": pd.NaT,
            "fte": 1.0,
        }
    )
    changes = None
    if renamed:
        before = emp.assign(end_date=pd.Timestamp("2024-05-31"), exit_reason="internal_transfer")
        after = emp.assign(unit_id="U1B", start_date=pd.Timestamp("2024-06-01"))
        emp = pd.concat([before, after], ignore_index=True)
        changes = pd.DataFrame(
            {"old_unit_id": ["U1"], "new_unit_id": ["U1B"], "date": [pd.Timestamp("2024-06-01")]}
        )
    ab = pd.DataFrame(
        {
            "employee_id": ["a", "b"],
            "start_date": pd.to_datetime(["2024-12-02", "2024-12-30"]),
            "end_date": pd.to_datetime([end_date, "2024-12-31"]),
            "certification": ["doctor", "self"],
        }
    )
    return tr.Register(
        employment=emp,
        absences=ab,
        unit_changes=changes,
        metadata={"observation_start": "2020-01-01", "observation_end": "2024-12-31"},
    )


def _panel(reg: tr.Register) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.DataQualityWarning)
        return tr.build_panel(reg, as_of="2024-12-31", min_group_size=3)


def test_an_ongoing_absence_counts_like_one_ending_on_the_data_end() -> None:
    ongoing = _panel(_register(None, renamed=False))
    closed = _panel(_register("2024-12-31", renamed=False))
    last = ongoing["period"].max()
    a_open = ongoing[(ongoing["employee_id"] == "a") & (ongoing["period"] == last)]
    a_closed = closed[(closed["employee_id"] == "a") & (closed["period"] == last)]
    # 2-31 December 2024: 22 weekdays less Christmas Day and Boxing Day = 20 working days
    assert a_open["sick_days_12m"].iloc[0] == a_closed["sick_days_12m"].iloc[0] == 20.0
    assert a_open["sick_spells_12m"].iloc[0] == 1.0


def test_a_renamed_unit_continues_in_the_panel() -> None:
    plain = _panel(_register(None, renamed=False))
    renamed = _panel(_register(None, renamed=True))
    assert len(renamed) == len(plain)
    assert set(renamed["unit_id"]) == {"U1B"}
    cols = [c for c in plain.columns if c not in ("unit_id",)]
    pd.testing.assert_frame_equal(
        renamed[cols].reset_index(drop=True), plain[cols].reset_index(drop=True)
    )
