"""Tests of turnover_risk.panel: the person-period panel.

The hand-made register below is small enough to compute every checked number on paper; the
comments next to each expected value show the arithmetic.

Units: U1 and U2 belong to service S1, U3 to service S2 (all in municipality M).

- A  U1 2019-01-01 .. 2020-03-31 voluntary            (exit exactly at the horizon from 2020-01)
- B  U1 2019-01-01 .. 2019-06-30 internal_transfer,
     U2 2019-07-01 .. open                            (transfer inside S1: not an exit)
- C  U1 2019-01-01 .. 2019-08-31 voluntary,
     U1 2020-01-01 .. open                            (re-hire after a gap)
- D  U1 2019-01-01 .. 2019-10-31 retirement           (exit not counted by "voluntary")
- E  U1 2019-01-01 .. 2019-05-31 internal_transfer,
     U3 2019-06-01 .. open                            (moves to another service)
- F  U2 2020-01-06 .. open                            (new staff, weekly supervision)

as_of = 2020-06-30, horizon = 3 months unless a test says otherwise.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import turnover_risk as tr
from turnover_risk.panel import build_partition, prepare_context

D = pd.Timestamp
AS_OF = "2020-06-30"


def _dates(values):
    return pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[ns]")


def _cbi(employee, date, code):
    return {"employee_id": employee, "date": date, "instrument": "CBI"} | {
        f"item_{k:02d}": float(code) for k in range(1, 20)
    }


def hand_register(**drop) -> tr.Register:
    emp = pd.DataFrame(
        {
            "employee_id": ["A", "B", "B", "C", "C", "D", "E", "E", "F"],
            "unit_id": ["U1", "U1", "U2", "U1", "U1", "U1", "U1", "U3", "U2"],
            "start_date": _dates(
                [
                    "2019-01-01",
                    "2019-01-01",
                    "2019-07-01",
                    "2019-01-01",
                    "2020-01-01",
                    "2019-01-01",
                    "2019-01-01",
                    "2019-06-01",
                    "2020-01-06",
                ]
            ),
            "end_date": _dates(
                [
                    "2020-03-31",
                    "2019-06-30",
                    None,
                    "2019-08-31",
                    None,
                    "2019-10-31",
                    "2019-05-31",
                    None,
                    None,
                ]
            ),
            "fte": [1.0] * 9,
            "role": ["caseworker"] * 8 + ["team_leader"],
            "exit_reason": pd.Categorical(
                [
                    "voluntary",
                    "internal_transfer",
                    None,
                    "voluntary",
                    None,
                    "retirement",
                    "internal_transfer",
                    None,
                    None,
                ],
                categories=list(tr.data.EXIT_REASONS),
            ),
            "birth_year": pd.array(
                [1980, 1990, 1990, 1985, 1985, 1955, 1970, 1970, 1995], dtype="Int64"
            ),
            "qualified_year": pd.array(
                [None, 2018, 2018, None, None, None, None, None, None], dtype="Int64"
            ),
        }
    )
    units = pd.DataFrame(
        {
            "unit_id": ["U1", "U2", "U3"],
            "municipality": ["M", "M", "M"],
            "service": ["S1", "S1", "S2"],
        }
    )
    caseload = pd.DataFrame(
        {
            "employee_id": ["B", "B", "B"],
            "month": _dates(["2019-09-01", "2019-10-01", "2019-12-01"]),  # November missing
            "open_cases": pd.array([10, 14, 12], dtype="Int64"),
            "care_order_cases": pd.array([1, 2, 3], dtype="Int64"),
            "deadline_breaches": pd.array([1, 2, 0], dtype="Int64"),
        }
    )
    supervision = pd.DataFrame(
        {
            "employee_id": ["B", "B", "B", "F", "F", "F", "F"],
            "date": _dates(
                [
                    "2019-11-20",
                    "2019-12-10",
                    "2020-01-01",
                    "2020-01-07",
                    "2020-01-14",
                    "2020-01-21",
                    "2020-01-28",
                ]
            ),
            "kind": pd.Categorical(
                ["individual", "group", "individual"] + ["individual"] * 4,
                categories=list(tr.data.SUPERVISION_KINDS),
            ),
            "minutes": [60.0, 90.0, 60.0, 45.0, 45.0, 45.0, 45.0],
        }
    )
    absences = pd.DataFrame(
        {
            "employee_id": ["B", "B"],
            "start_date": _dates(["2019-11-04", "2019-12-30"]),
            "end_date": _dates(["2019-11-22", "2020-01-02"]),
            "certification": pd.Categorical(["doctor", "self"], categories=["self", "doctor"]),
            "grade": [0.5, np.nan],
        }
    )
    surveys = pd.DataFrame(
        [
            _cbi("A", "2019-06-15", 3),
            _cbi("B", "2019-06-15", 4),
            _cbi("C", "2019-06-15", 5),
            _cbi("D", "2019-06-15", 1),
        ]
    )
    surveys["date"] = _dates(surveys["date"])
    tables = dict(
        units=units, caseload=caseload, supervision=supervision, absences=absences, surveys=surveys
    )
    for name in drop:
        tables[name] = None
    return tr.Register(employment=emp, **tables)


def build(reg=None, **kw):
    kw = {"horizon": 3, "as_of": AS_OF, "min_group_size": 3} | kw
    return tr.build_panel(hand_register() if reg is None else reg, **kw)


@pytest.fixture(scope="module")
def panel():
    return build()


def row(panel, employee, period):
    sel = panel[(panel["employee_id"] == employee) & (panel["period"] == D(period))]
    assert len(sel) == 1, f"expected one row for {employee} {period}, got {len(sel)}"
    return sel.iloc[0]


# ------------------------------------------------------------------------------------------
# rows and labels
# ------------------------------------------------------------------------------------------


def test_rows_and_columns(panel):
    first = [
        "employee_id",
        "unit_id",
        "municipality",
        "service",
        "period",
        "left_within_horizon",
        "periods_to_exit",
        "exit_observed",
    ]
    assert list(panel.columns[:8]) == first
    assert panel["period"].dtype == "datetime64[ns]"
    # periods: default start = first period once employment and every record table began
    # (supervision starts 2019-11-20 -> 2019-12-01); end = as_of + 1 day = 2020-07-01
    assert panel["period"].min() == D("2019-12-01")
    assert panel["period"].max() == D("2020-07-01")
    counts = panel.groupby("employee_id")["period"].count().to_dict()
    # A Dec..Mar (4), B Dec..Jul (8), C Jan..Jul (7, gap Sep..Dec), E Dec..Jul (8), F Feb..Jul
    assert counts == {"A": 4, "B": 8, "C": 7, "E": 8, "F": 6}
    assert not panel.duplicated(["employee_id", "period"]).any()


@pytest.mark.parametrize(
    ("employee", "period", "label", "periods", "observed"),
    [
        ("A", "2019-12-01", 0.0, 4, True),  # exit month Mar = 4th period from Dec > 3
        ("A", "2020-01-01", 1.0, 3, True),  # last day 2020-03-31: exactly at the horizon
        ("A", "2020-03-01", 1.0, 1, True),
        ("B", "2020-01-01", 0.0, 6, False),  # transfer U1->U2 inside S1 is no exit
        ("B", "2020-04-01", 0.0, 3, False),  # Apr, May, Jun observed (as_of 2020-06-30)
        ("B", "2020-05-01", np.nan, 2, False),  # horizon runs past as_of: censored
        ("B", "2020-07-01", np.nan, 0, False),
        ("C", "2020-01-01", 0.0, 6, False),  # re-hired: new open episode
        ("E", "2020-01-01", 0.0, 6, False),  # in S2 since June 2019
    ],
)
def test_labels(panel, employee, period, label, periods, observed):
    r = row(panel, employee, period)
    np.testing.assert_equal(r["left_within_horizon"], label)
    assert r["periods_to_exit"] == periods
    assert bool(r["exit_observed"]) is observed


def test_labels_before_the_grid():
    p = build(start="2019-01-01")
    # C's first episode: last day 2019-08-31 voluntary; from June it is 3 periods away
    assert row(p, "C", "2019-06-01")["left_within_horizon"] == 1.0
    assert row(p, "C", "2019-05-01")["left_within_horizon"] == 0.0  # 4 periods away
    assert row(p, "C", "2019-06-01")["rehired"] == 0
    # D retires 2019-10-31: censored when the retirement falls inside the horizon
    assert np.isnan(row(p, "D", "2019-08-01")["left_within_horizon"])
    assert row(p, "D", "2019-08-01")["periods_to_exit"] == 3
    assert not row(p, "D", "2019-08-01")["exit_observed"]
    assert row(p, "D", "2019-07-01")["left_within_horizon"] == 0.0  # 4 periods away
    # E leaves S1 by internal transfer 2019-05-31: not voluntary -> censored
    assert np.isnan(row(p, "E", "2019-03-01")["left_within_horizon"])
    assert row(p, "E", "2019-06-01")["service"] == "S2"
    assert row(p, "E", "2019-06-01")["tenure_service_months"] == 0
    anyexit = build(start="2019-01-01", outcome="any")
    assert row(anyexit, "E", "2019-03-01")["left_within_horizon"] == 1.0
    assert row(anyexit, "D", "2019-08-01")["left_within_horizon"] == 1.0
    unit_scope = build(start="2019-01-01", scope="unit", outcome=("internal_transfer",))
    assert row(unit_scope, "B", "2019-04-01")["left_within_horizon"] == 1.0  # left U1 in June
    assert tr.panel_spec(unit_scope).outcome == "internal_transfer"


def test_quarterly_panel():
    p = build(freq="Q", horizon=1, start="2019-01-01")
    assert sorted(p["period"].dt.month.unique()) == [1, 4, 7, 10]
    # A leaves 2020-03-31: within the quarter starting 2020-01-01
    assert row(p, "A", "2020-01-01")["left_within_horizon"] == 1.0
    assert row(p, "A", "2019-10-01")["left_within_horizon"] == 0.0
    assert row(p, "A", "2019-10-01")["periods_to_exit"] == 2
    assert tr.panel_spec(p).freq == "Q"


# ------------------------------------------------------------------------------------------
# features computed on paper
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("employee", "period", "feature", "expected"),
    [
        # person
        ("B", "2020-01-01", "tenure_service_months", 12),  # since 2019-01-01, transfer kept
        ("B", "2020-01-01", "tenure_unit_months", 6),  # U2 since 2019-07-01
        ("C", "2020-03-01", "tenure_service_months", 2),  # re-hired 2020-01-01
        ("C", "2020-03-01", "rehired", 1),
        ("B", "2019-12-01", "newly_qualified", 1),  # 2019 - 2018 = 1 < 2
        ("B", "2020-01-01", "newly_qualified", 0),  # 2020 - 2018 = 2
        ("A", "2020-01-01", "newly_qualified", 1),  # no qualified_year: 12 months < 24
        ("B", "2020-01-01", "age", 30),
        ("F", "2020-02-01", "fte", 1.0),
        # caseload: Sep 10, Oct 14, Nov missing, Dec 12
        ("B", "2020-01-01", "caseload_last", 12),
        ("B", "2020-01-01", "caseload_3m_mean", 13),  # (14 + 12) / 2: the gap is skipped
        ("B", "2020-02-01", "caseload_3m_mean", 12),  # only Dec in Nov..Jan
        ("B", "2020-01-01", "caseload_6m_trend", 6 / 14),  # x = 0, 1, 3; y = 10, 14, 12
        ("B", "2020-01-01", "care_order_share", 3 / 12),
        ("B", "2020-01-01", "deadline_breaches_3m", 2),  # Oct 2 + Dec 0
        ("B", "2020-01-01", "caseload_ratio_unit_median", 1.0),  # alone in U2
        ("B", "2020-01-01", "unit_caseload_mean", 12),
        # supervision: B 11-20 (60 min, individual), 12-10 (90, group), 2020-01-01 (60)
        ("B", "2020-01-01", "supervision_sessions_3m", 2),  # the session dated t is excluded
        ("B", "2020-01-01", "supervision_minutes_3m", 150),
        ("B", "2020-01-01", "months_since_supervision", 22 / 30.4375),
        ("B", "2020-01-01", "supervision_process_group_share", 0.5),
        ("B", "2020-02-01", "supervision_sessions_3m", 3),
        ("B", "2020-02-01", "supervision_minutes_3m", 210),
        ("B", "2020-02-01", "supervision_process_group_share", 1 / 3),
        # F starts Mon 2020-01-06, sessions Jan 7, 14, 21, 28
        ("F", "2020-02-01", "new_staff_weekly_supervision", 1),  # 26 days: 3 weeks, 4 >= 2.4
        ("F", "2020-03-01", "new_staff_weekly_supervision", 0),  # 55 days: 7 weeks, 4 < 5.6
        ("B", "2020-02-01", "unit_supervision_coverage_3m", 1.0),  # B and F both had one
        ("B", "2020-05-01", "unit_supervision_coverage_3m", 0.0),  # nobody in Feb..Apr
        # sick leave: doctor Mon 11-04..Fri 11-22 grade 0.5 = 15 wd x 0.5 = 7.5;
        # self Mon 12-30..Thu 2020-01-02 (Jan 1 a holiday): 2 wd in 2019, 1 in 2020
        ("B", "2019-12-01", "sick_days_12m", 7.5),
        ("B", "2020-01-01", "sick_days_12m", 9.5),  # ongoing spell counted up to Dec 31
        ("B", "2020-02-01", "sick_days_12m", 10.5),
        ("B", "2020-01-01", "sick_spells_12m", 2),
        ("B", "2019-12-01", "sick_long_spell_12m", 1),  # 19 calendar days > 16
        # unit U2 sick leave at 2020-01-01: B alone Jul..Dec 2019, working days
        # 23 + 22 + 21 + 23 + 21 + 20 (Dec 25, 26 off) = 130, lost 7.5 + 2 = 9.5
        ("B", "2020-01-01", "unit_sick_leave_pct_12m", 100 * 9.5 / 130),
        # surveys (CBI, all answers 4 -> 75, reversed item 10 -> 25: work = (6*75+25)/7)
        ("B", "2020-01-01", "cbi_work", (6 * 75 + 25) / 7),
        ("B", "2020-01-01", "cbi_personal", 75),
        ("B", "2020-01-01", "cbi_age_months", 6),  # 2019-06-15 -> 2020-01-01
        ("B", "2020-01-01", "cbi_missing", 0),
        ("F", "2020-02-01", "cbi_missing", 1),
        # unit U1 on 2020-01-31: A, C -> headcount 2; on 2019-01-31: A B C D E -> 5
        ("A", "2020-02-01", "unit_headcount", 2),
        ("A", "2020-02-01", "unit_headcount_change_12m", -3),
        # of A B C D E, D (retired) and E (moved to S2) are out of S1 by 2020-01-31
        ("A", "2020-02-01", "unit_exit_share_12m", 2 / 5),
        # last days in U1 in Oct..Dec 2019: D (10-31)
        ("A", "2020-01-01", "colleagues_left_3m", 1),
        ("A", "2020-01-01", "colleagues_left_12m", 4),  # E 05-31, B 06-30, C 08-31, D 10-31
        ("A", "2020-01-01", "colleagues_left_share_12m", 4 / (4 + 1)),  # headcount on Dec 31: A
    ],
)
def test_feature_on_paper(panel, employee, period, feature, expected):
    value = row(panel, employee, period)[feature]
    assert value == pytest.approx(expected, rel=1e-5), f"{feature} of {employee} at {period}"


@pytest.mark.parametrize(
    ("employee", "period", "feature"),
    [
        ("B", "2020-04-01", "caseload_last"),  # last snapshot Dec: more than 3 months old
        ("B", "2020-05-01", "caseload_3m_mean"),
        ("F", "2020-02-01", "caseload_last"),  # never reported
        ("B", "2020-01-01", "new_staff_weekly_supervision"),  # not new staff
        ("F", "2020-02-01", "cbi_work"),
        ("F", "2020-02-01", "cbi_age_months"),
        ("B", "2019-12-01", "unit_caseload_mean"),  # no U2 snapshot in November
        ("A", "2020-01-01", "unit_headcount_change_12m"),  # 2018-12-31 precedes the data
    ],
)
def test_feature_missing_on_paper(panel, employee, period, feature):
    assert np.isnan(row(panel, employee, period)[feature])


def test_unit_survey_mean_needs_min_group_size():
    p = build(start="2019-01-01")
    # U1 members on 2019-06-30: A (3 -> work 50), B (67.857), C (5 -> 85.714), D (1 -> 14.286)
    expected = (50 + (6 * 75 + 25) / 7 + (6 * 100 + 0) / 7 + (0 + 100) / 7) / 4
    assert row(p, "A", "2019-07-01")["unit_cbi_work_mean"] == pytest.approx(expected, rel=1e-5)
    # on 2019-08-31: A, C, D answered (3 >= min_group_size 3)
    assert row(p, "A", "2019-09-01")["unit_cbi_work_mean"] == pytest.approx(50, rel=1e-5)
    # on 2019-09-30 only A and D are left: too few answers, the mean is hidden
    assert np.isnan(row(p, "A", "2019-10-01")["unit_cbi_work_mean"])
    # with min_group_size 5 even July is hidden
    assert np.isnan(
        row(build(start="2019-01-01", min_group_size=5), "A", "2019-07-01")["unit_cbi_work_mean"]
    )


def test_feature_dtypes_and_spec(panel):
    spec = tr.panel_spec(panel)
    assert set(spec.feature_cols) <= set(panel.columns)
    assert "employee_id" not in spec.feature_cols and "unit_id" not in spec.feature_cols
    assert list(panel.columns[8:]) == list(spec.feature_cols)
    assert panel["role"].dtype == "category"
    numeric = [c for c in spec.feature_cols if c != "role"]
    assert (panel[numeric].dtypes == np.float32).all()
    # no BAT or ProQOL responses in the register: those features are absent, not zero
    assert "bat_total" in spec.absent_features and "bat_total" not in panel.columns
    assert "proqol_burnout" in spec.absent_features
    assert (spec.freq, spec.horizon, spec.outcome, spec.scope) == ("M", 3, "voluntary", "service")


# ------------------------------------------------------------------------------------------
# missing optional tables, partitions, registry
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "gone"),
    [
        (
            "caseload",
            [
                "caseload_last",
                "caseload_ratio_unit_median",
                "care_order_share",
                "unit_caseload_mean",
            ],
        ),
        (
            "supervision",
            [
                "supervision_sessions_3m",
                "new_staff_weekly_supervision",
                "unit_supervision_coverage_3m",
            ],
        ),
        ("absences", ["sick_days_12m", "sick_long_spell_12m", "unit_sick_leave_pct_12m"]),
        ("surveys", ["cbi_work", "cbi_missing", "unit_cbi_work_mean"]),
    ],
)
def test_missing_table_features_are_absent(table, gone):
    p = build(hand_register(**{table: None}), start="2019-12-01")
    spec = tr.panel_spec(p)
    for name in gone:
        assert name in spec.absent_features
        assert name not in p.columns and name not in spec.feature_cols
    assert "tenure_service_months" in p.columns


def test_employment_only_register_builds():
    reg = tr.Register(
        employment=hand_register().employment[
            ["employee_id", "unit_id", "start_date", "end_date", "fte", "exit_reason"]
        ]
    )
    with pytest.warns(tr.DataQualityWarning, match="lacks a units table"):
        p = tr.build_panel(reg, horizon=3, as_of=AS_OF)
    spec = tr.panel_spec(p)
    assert {"role", "age", "caseload_last", "cbi_work"} <= set(spec.absent_features)
    assert p["service"].isna().all()
    # without services every unit is one scope: E's move to U3 is not an exit
    assert p.loc[p["employee_id"] == "E", "left_within_horizon"].dropna().eq(0).all()


def test_missing_care_order_column():
    reg = hand_register()
    reg = reg.replace(caseload=reg.caseload.drop(columns=["care_order_cases"]))
    p = build(reg)
    assert "care_order_share" in tr.panel_spec(p).absent_features
    assert "caseload_last" in p.columns


def test_partitions_concatenate_to_the_panel(panel):
    ctx = prepare_context(hand_register(), horizon=3, as_of=AS_OF, min_group_size=3)
    parts = [build_partition(ctx, ids) for ids in (["E", "A"], ["B", "F"], ["C", "D", "zz"])]
    joined = pd.concat(parts).sort_values(["employee_id", "period"], ignore_index=True)
    pd.testing.assert_frame_equal(joined, panel.reset_index(drop=True), check_like=False)


def test_registry():
    frame = tr.FEATURES.to_frame()
    assert list(frame.columns)[:6] == ["name", "description", "source", "unit", "lever", "requires"]
    assert set(frame["source"]) <= set(tr.TABLE_NAMES)
    for name in ("caseload_last", "supervision_sessions_3m", "new_staff_weekly_supervision"):
        assert tr.FEATURES[name].lever
    for name in ("cbi_work", "sick_days_12m", "colleagues_left_3m", "deadline_breaches_3m"):
        assert not tr.FEATURES[name].lever
    assert isinstance(tr.FEATURES["age"], tr.Feature)
    with pytest.raises(KeyError, match="not a panel feature"):
        tr.FEATURES["nope"]
    # every feature the hand panel built is documented, in registry order
    spec = tr.panel_spec(build())
    names = list(tr.FEATURES)
    assert list(spec.feature_cols) == [n for n in names if n in spec.feature_cols]
    assert set(spec.feature_cols) | set(spec.absent_features) == set(names)


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"horizon": 0}, ValueError, r"horizon=0 must be at least 1"),
        ({"horizon": 2.5}, TypeError, r"horizon must be a whole number"),
        ({"horizon": True}, TypeError, r"horizon must be a whole number"),
        ({"outcome": "quit"}, ValueError, r"outcome='quit' is not a known outcome"),
        ({"outcome": ("voluntary", "fired")}, ValueError, r"unknown exit reasons \['fired'\]"),
        ({"freq": "W"}, ValueError, r"freq='W' is not a supported period; choose one of"),
        ({"scope": "team"}, ValueError, r"scope='team' is not a known scope"),
        ({"min_group_size": 2}, ValueError, r"min_group_size=2 is below"),
        ({"start": "2021-01-01"}, ValueError, r"no M period starts between"),
        ({"end": "2021-01-01"}, ValueError, r"is after the end of the data"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        build(**kwargs)


def test_bad_register():
    with pytest.raises(TypeError, match="register must be a turnover_risk.Register"):
        tr.build_panel(pd.DataFrame())
    emp = hand_register().employment.drop(columns=["fte"])
    with pytest.raises(ValueError, match=r"lacks the required columns \['fte'\]"):
        tr.build_panel(tr.Register(employment=emp))


# ------------------------------------------------------------------------------------------
# point in time: records dated at or after t never change a feature of period t
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim_register():
    return tr.make_register(n_units=3, years=2, start_year=2019, random_state=3)


def _perturb(reg: tr.Register, cut: pd.Timestamp, rng: np.random.Generator) -> tr.Register:
    """Change, add and delete records dated at or after ``cut`` in every table."""
    late_day = pd.Timestamp("2020-12-31")

    def later(n):
        days = rng.integers(0, (late_day - cut).days + 1, n)
        return (cut + pd.to_timedelta(days, unit="D")).astype("datetime64[ns]")

    emp = reg.employment.copy()
    after = emp["start_date"] > cut
    emp.loc[after, "fte"] = rng.uniform(0.2, 1.0, int(after.sum()))
    emp = emp.drop(index=emp.index[after & (rng.random(len(emp)) < 0.5)])
    ends = emp["end_date"].notna() & (emp["end_date"] >= cut)
    emp.loc[ends, "end_date"] = later(int(ends.sum())).to_numpy()
    emp.loc[ends, "exit_reason"] = "voluntary"
    extra = emp.sample(3, random_state=int(rng.integers(1 << 30))).copy()
    extra["unit_id"] = reg.units["unit_id"].iloc[0]
    extra["start_date"] = (cut + pd.Timedelta(days=1)).to_datetime64()
    extra["end_date"] = pd.NaT
    emp = pd.concat([emp, extra], ignore_index=True)

    ab = reg.absences.copy()
    straddle = (ab["start_date"] < cut) & (ab["end_date"] >= cut)
    ab.loc[straddle, "end_date"] = later(int(straddle.sum())).to_numpy()
    late = ab["start_date"] >= cut
    ab.loc[late, "grade"] = 1.0
    ab = ab.drop(index=ab.index[late & (rng.random(len(ab)) < 0.5)])
    new_ab = ab.sample(5, random_state=1).copy()
    new_ab["start_date"] = later(5).to_numpy()
    new_ab["end_date"] = new_ab["start_date"] + pd.Timedelta(days=30)
    ab = pd.concat([ab, new_ab], ignore_index=True)

    cl = reg.caseload.copy()
    late = cl["month"] >= cut
    cl.loc[late, "open_cases"] = rng.integers(0, 60, int(late.sum()))
    cl.loc[late, "deadline_breaches"] = 9
    cl = cl.drop(index=cl.index[late & (rng.random(len(cl)) < 0.3)])

    sv = reg.supervision.copy()
    late = sv["date"] >= cut
    sv = sv.drop(index=sv.index[late & (rng.random(len(sv)) < 0.5)])
    new_sv = sv.sample(10, random_state=2).copy()
    new_sv["date"] = later(10).to_numpy()
    new_sv["minutes"] = 999.0
    sv = pd.concat([sv, new_sv], ignore_index=True)

    su = reg.surveys.copy()
    late = su["date"] >= cut
    items = [c for c in su.columns if c.startswith("item_")]
    su.loc[late, items] = su.loc[late, items].where(su.loc[late, items].isna(), 5.0)
    su = su.drop(index=su.index[late & (rng.random(len(su)) < 0.3)])
    return reg.replace(employment=emp, absences=ab, caseload=cl, supervision=sv, surveys=su)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(month=st.integers(min_value=2, max_value=20), seed=st.integers(0, 2**16))
def test_point_in_time(sim_register, month, seed):
    cut = pd.Timestamp("2019-01-01") + pd.DateOffset(months=month)
    rng = np.random.default_rng(seed)
    changed = _perturb(sim_register, cut, rng)
    kw = {"start": "2019-02-01", "as_of": "2020-12-31", "horizon": 6}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.DataQualityWarning)
        before = tr.build_panel(sim_register, **kw)
        after = tr.build_panel(changed, **kw)
    assert not changed.supervision.equals(sim_register.supervision)
    upto = lambda p: p[p["period"] <= cut].reset_index(drop=True)  # noqa: E731
    b, a = upto(before), upto(after)
    common = [c for c in tr.panel_spec(before).feature_cols if c in a.columns]
    assert len(common) > 30
    pd.testing.assert_frame_equal(
        b[["employee_id", "unit_id", "period", *common]],
        a[["employee_id", "unit_id", "period", *common]],
    )
    # the perturbation is not a no-op: later periods or labels do change
    later_b = before.loc[before["period"] > cut, common].reset_index(drop=True)
    later_a = after.loc[after["period"] > cut, common].reset_index(drop=True)
    assert not later_b.equals(later_a)


# ------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------


def test_cli_features_writes_the_panel(tmp_path, capsys):
    from turnover_risk.cli._main import main

    folder = tmp_path / "register"
    tr.write_register(hand_register(), folder)
    out = tmp_path / "panel.parquet"
    code = main(
        [
            "features",
            str(folder),
            "--out",
            str(out),
            "--horizon",
            "3",
            "--as-of",
            AS_OF,
            "--min-group-size",
            "3",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "written to" in capsys.readouterr().out
    got = pd.read_parquet(out)
    expected = build()
    assert tr.panel_spec(got) == tr.panel_spec(expected)  # the column roles survive Parquet
    pd.testing.assert_series_equal(got["left_within_horizon"], expected["left_within_horizon"])
    np.testing.assert_allclose(got["caseload_3m_mean"], expected["caseload_3m_mean"])


def test_cli_features_bad_freq_is_bad_input(tmp_path, capsys):
    from turnover_risk.cli._main import main

    folder = tmp_path / "register"
    tr.write_register(hand_register(), folder)
    code = main(["features", str(folder), "--out", str(tmp_path / "p.parquet"), "--freq", "W"])
    assert code == 2
    assert "freq='W' is not a supported period" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# the observation window: default start, default as_of, leavers on the last day
# ---------------------------------------------------------------------------------------------


def _three_staff(extra_emp=None, caseload_to="2021-12-01"):
    emp = pd.DataFrame(
        {
            "employee_id": ["a", "b", "c"],
            "unit_id": ["u1", "u1", "u1"],
            "start_date": _dates(["2018-03-01", "2018-03-01", "2018-03-01"]),
            "end_date": _dates([None, None, "2020-01-31"]),
            "fte": [1.0, 1.0, 1.0],
            "exit_reason": [None, None, "voluntary"],
        }
    )
    if extra_emp is not None:
        emp = pd.concat([emp, extra_emp], ignore_index=True)
    months = pd.date_range("2019-01-01", caseload_to, freq="MS")
    cl = pd.DataFrame({"employee_id": "a", "month": months, "open_cases": 10})
    units = pd.DataFrame({"unit_id": ["u1"], "municipality": ["m"], "service": ["s"]})
    return tr.Register(employment=emp, units=units, caseload=cl)


def test_default_start_is_one_feature_window_after_recording_began():
    # recording begins with the caseload table on 2019-01-01 (employment goes back to 2018)
    panel = tr.build_panel(_three_staff())
    assert panel["period"].min() == pd.Timestamp("2020-01-01")
    early = tr.build_panel(_three_staff(), start="2019-02-01")
    assert early["period"].min() == pd.Timestamp("2019-02-01")


def test_future_contract_end_does_not_move_the_data_end():
    # a fixed-term contract known to end in mid-2022, after the last record (2021-12)
    temp = pd.DataFrame(
        {
            "employee_id": ["d"],
            "unit_id": ["u1"],
            "start_date": _dates(["2021-01-01"]),
            "end_date": _dates(["2022-06-30"]),
            "fte": [1.0],
            "exit_reason": ["contract_end"],
        }
    )
    panel = tr.build_panel(_three_staff(temp), horizon=6)
    # the last record is the caseload month 2021-12-01, so the data end there, not in 2022
    assert panel["period"].max() == pd.Timestamp("2021-12-01")
    a = panel[panel["employee_id"] == "a"].set_index("period")["left_within_horizon"]
    # 2021-06-01 + 6 months ends at the data end: known; 2021-07-01 + 6 months is not
    assert a[pd.Timestamp("2021-06-01")] == 0
    assert np.isnan(a[pd.Timestamp("2021-07-01")])


def test_colleague_leaving_on_the_last_day_counts_once_in_the_share():
    # c's last day is 2020-01-31; at 2020-02-01 the unit had a, b, c on 31 January
    panel = tr.build_panel(_three_staff(), start="2020-02-01", end="2020-02-01")
    a = panel[panel["employee_id"] == "a"].iloc[0]
    assert a["colleagues_left_3m"] == 1
    assert a["colleagues_left_share_3m"] == pytest.approx(1 / 3)


def _extract(n_staff=60, first_exit="2019-01-20"):
    """An employment-only HR extract: staff hired one a month from 2009 on (all still employed
    when recording began on 2019-01-01), one exit a month from ``first_exit`` on."""
    hires = pd.date_range("2009-01-01", periods=n_staff, freq="MS")
    exits = pd.date_range(first_exit, periods=n_staff // 2, freq="30D")
    end = pd.Series([*exits, *[pd.NaT] * (n_staff - len(exits))], dtype="datetime64[ns]")
    emp = pd.DataFrame(
        {
            "employee_id": [f"p{i:03d}" for i in range(n_staff)],
            "unit_id": ["u1", "u2"] * (n_staff // 2),
            "start_date": hires.astype("datetime64[ns]"),
            "end_date": end,
            "fte": 1.0,
            "exit_reason": ["voluntary" if d is not pd.NaT else None for d in end],
        }
    )
    emp.loc[emp["end_date"].isna(), "exit_reason"] = None
    units = pd.DataFrame({"unit_id": ["u1", "u2"], "municipality": "m", "service": "s"})
    return emp, units


def test_an_employment_only_extract_starts_the_panel_where_recording_began():
    """60 staff hired 2009-2013, none leaving before 2019-01-20, then one a month: at that
    rate over 100 exits were due before 2019, so the extract is left-truncated; recording is
    taken to begin on 2019-01-01 and the panel one 12-month window later (not in 2010)."""
    emp, units = _extract()
    with pytest.warns(tr.DataQualityWarning, match="looks left-truncated.*treats 2019-01-01"):
        panel = tr.build_panel(tr.Register(employment=emp, units=units))
    assert panel["period"].min() == pd.Timestamp("2020-01-01")
    # the same window from the metadata: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", tr.DataQualityWarning)
        meta = tr.Register(
            employment=emp, units=units, metadata={"observation_start": "2019-01-01"}
        )
        again = tr.build_panel(meta)
    pd.testing.assert_frame_equal(again, panel)
    # an explicit start needs no inference and gets no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", tr.DataQualityWarning)
        early = tr.build_panel(tr.Register(employment=emp, units=units), start="2019-06-01")
    assert early["period"].min() == pd.Timestamp("2019-06-01")


def test_a_complete_employment_only_register_keeps_its_first_hire_as_the_start():
    """Three staff hired 2018-03-01, one leaving 2020-01-31 (the three-staff register without
    its caseload table): no exit was due before the first one, so nothing is inferred."""
    reg = _three_staff()
    with warnings.catch_warnings():
        warnings.simplefilter("error", tr.DataQualityWarning)
        panel = tr.build_panel(tr.Register(employment=reg.employment, units=reg.units))
    assert panel["period"].min() == pd.Timestamp("2019-03-01")
