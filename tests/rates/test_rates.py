"""Tests of turnover_risk.rates on a register of twelve people followed by hand.

The register (window 2020-01-01 .. 2022-12-31; units u1, u2 in municipality M1 / service S1,
u3 in M2 / S2):

    A  u1 2019-01-01 ..            stays
    B  u1 2019-01-01 .. 2021-03-31 voluntary; back in u1 2021-09-01 (leaves and returns)
    C  u1 2019-01-01 .. 2021-06-30 internal_transfer to u2 2021-07-01 (same service)
    D  u1 2019-01-01 .. 2021-12-01 voluntary (ends exactly on the 1 December snapshot)
    E  u1 2020-03-01 ..            fte 0.5 (part-time)
    F  u2 2019-01-01 .. 2022-06-30 retirement
    G  u2 2019-01-01 ..
    H  u2 2021-02-01 ..            hired
    I  u3 2019-01-01 .. 2021-01-31 voluntary, then u1 from 2021-02-01 (other service/municipality)
    J  u3 2019-01-01 ..
    K  u3 2019-01-01 ..            fte 0.8
    L  u3 2020-06-01 .. 2022-02-28 contract_end

Working days per month of 2021 (weekdays minus holidays, counted on a calendar):
Jan 20, Feb 20, Mar 23, Apr 19, May 18, Jun 22, Jul 22, Aug 22, Sep 22, Oct 21, Nov 22, Dec 23
= 254.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import turnover_risk as tr
from turnover_risk import DEFINITIONS, Register, sick_leave_rate, turnover_rate
from turnover_risk import turnover_rate_from_counts as from_counts
from turnover_risk._warnings import DataQualityWarning
from turnover_risk.panel._time import OPEN_DAY, to_days
from turnover_risk.privacy import TOTAL_LABEL
from turnover_risk.rates import _common as rates_common
from turnover_risk.rates import _grouping, _presence, _spells

from ._kernel import kernel_numbers_only

WINDOW = {"start": "2020-01-01", "end": "2022-12-31", "min_group_size": 3}


def _dates(df, cols):
    for c in cols:
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    return df


def hand_register() -> Register:
    rows = [
        ("A", "u1", "2019-01-01", None, 1.0, None),
        ("B", "u1", "2019-01-01", "2021-03-31", 1.0, "voluntary"),
        ("B", "u1", "2021-09-01", None, 1.0, None),
        ("C", "u1", "2019-01-01", "2021-06-30", 1.0, "internal_transfer"),
        ("C", "u2", "2021-07-01", None, 1.0, None),
        ("D", "u1", "2019-01-01", "2021-12-01", 1.0, "voluntary"),
        ("E", "u1", "2020-03-01", None, 0.5, None),
        ("F", "u2", "2019-01-01", "2022-06-30", 1.0, "retirement"),
        ("G", "u2", "2019-01-01", None, 1.0, None),
        ("H", "u2", "2021-02-01", None, 1.0, None),
        ("I", "u3", "2019-01-01", "2021-01-31", 1.0, "voluntary"),
        ("I", "u1", "2021-02-01", None, 1.0, None),
        ("J", "u3", "2019-01-01", None, 1.0, None),
        ("K", "u3", "2019-01-01", None, 0.8, None),
        ("L", "u3", "2020-06-01", "2022-02-28", 1.0, "contract_end"),
    ]
    emp = pd.DataFrame(
        rows, columns=["employee_id", "unit_id", "start_date", "end_date", "fte", "exit_reason"]
    )
    emp = _dates(emp, ["start_date", "end_date"])
    units = pd.DataFrame(
        {
            "unit_id": ["u1", "u2", "u3"],
            "municipality": ["M1", "M1", "M2"],
            "service": ["S1", "S1", "S2"],
        }
    )
    absences = pd.DataFrame(
        [
            # doctor, grade 0.5, across Easter and 17 May: 35 working days
            ("A", "2021-03-29", "2021-05-21", "doctor", 0.5),
            # self-certified with a grade given: counts as grade 1; fte 0.5; Mon-Wed
            ("E", "2021-02-01", "2021-02-03", "self", 0.4),
            # crossing new year: 28-31 Dec 2020 (4 days), 4-8 Jan 2021 (5; 1 Jan holiday)
            ("G", "2020-12-28", "2021-01-08", "doctor", np.nan),
            # runs past the end of B's job on 31 March: only 30 and 31 March count
            ("B", "2021-03-30", "2021-04-06", "self", np.nan),
            # long spell over new year: 10 working days in each year
            ("J", "2021-12-20", "2022-01-14", "doctor", 1.0),
            # across C's transfer: 3 days in u1 (28-30 Jun), 2 in u2 (1-2 Jul)
            ("C", "2021-06-28", "2021-07-02", "doctor", 1.0),
            # only 17 May (a holiday): no working day lost
            ("K", "2021-05-17", "2021-05-17", "self", np.nan),
        ],
        columns=["employee_id", "start_date", "end_date", "certification", "grade"],
    )
    absences = _dates(absences, ["start_date", "end_date"])
    return Register(employment=emp, units=units, absences=absences)


@pytest.fixture(scope="module")
def reg() -> Register:
    return hand_register()


def _row(df, **where):
    m = np.ones(len(df), dtype=bool)
    for k, v in where.items():
        m &= (df[k] == v).to_numpy()
    assert m.sum() == 1, f"expected one row for {where}, found {m.sum()}"
    return df[m].iloc[0]


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------


def test_registry_table_and_repr():
    frame = DEFINITIONS.to_frame()
    assert set(frame["key"]) == {"exit_share", "bufdir", "separation", "hire"}
    assert {"formula", "numerator", "denominator", "snapshot", "interval", "source"} <= set(frame)
    assert "bufdir" in repr(DEFINITIONS) and "exit_share" in repr(DEFINITIONS)
    assert "replacement" in DEFINITIONS["bufdir"].parameters["divisor"]
    assert "exit_share" in (turnover_rate.__doc__ or "")
    assert "| bufdir |" in (turnover_rate.__doc__ or "")
    with pytest.raises(KeyError, match="choose one of: bufdir, exit_share, hire, separation"):
        DEFINITIONS["bufdr"]


def test_public_names_exported():
    for name in ("DEFINITIONS", "turnover_rate", "sick_leave_rate", "turnover_rate_from_counts"):
        assert name in tr.__all__ and hasattr(tr, name)


# --------------------------------------------------------------------------------------------
# exit_share
# --------------------------------------------------------------------------------------------

EXIT_SHARE_CASES = [
    # scope, period, unit, numerator, denominator
    # 1 Dec 2020: u1 A B C D E, u2 F G, u3 I J K L; 1 Dec 2021: only I has left S2 (now in u1)
    ("service", "2020", "u1", 0, 5),
    ("service", "2020", "u3", 1, 4),
    # scope unit: C's transfer to u2 is an exit from u1
    ("unit", "2020", "u1", 1, 5),
    # 1 Dec 2021: u1 A B D E I (D's spell ends that very day: present), u2 C F G H, u3 J K L
    # 1 Dec 2022: D gone (u1), F retired (u2), L contract ended (u3)
    ("service", "2021", "u1", 1, 5),
    ("service", "2021", "u2", 1, 4),
    ("service", "2021", "u3", 1, 3),
]


@pytest.mark.parametrize(("scope", "period", "unit", "num", "den"), EXIT_SHARE_CASES)
@kernel_numbers_only
def test_exit_share_by_unit(reg, scope, period, unit, num, den):
    out = turnover_rate(reg, by="unit_id", scope=scope, **WINDOW)
    r = _row(out, unit_id=unit, period=period)
    assert (r["numerator"], r["denominator"]) == (num, den)
    assert r["rate"] == pytest.approx(num / den)
    assert r["snapshot"] == pd.Timestamp(f"{period}-12-01")
    assert r["next_snapshot"] == pd.Timestamp(f"{int(period) + 1}-12-01")


@pytest.mark.parametrize(
    ("scope", "period", "num", "den"),
    [
        ("service", "2020", 1, 11),
        ("unit", "2020", 2, 11),  # C and I
        ("municipality", "2020", 1, 11),  # I moved from M2 to M1
        ("any", "2020", 0, 11),  # nobody left the register
        ("service", "2021", 3, 12),
    ],
)
def test_exit_share_total_by_scope(reg, scope, period, num, den):
    out = turnover_rate(reg, scope=scope, **WINDOW)
    assert list(out["period"]) == ["2020", "2021"]  # 2022 needs a 1 Dec 2023 snapshot
    r = _row(out, period=period)
    assert (r["numerator"], r["denominator"], r["n_persons"]) == (num, den, den)


def test_exit_share_snapshot_choice_catches_leave_and_return(reg):
    # 1 April 2020 -> 1 April 2021: B is away (left 31 March, back 1 September): a leaver.
    # Present 1 April 2020: u1 A B C D E, u2 F G, u3 I J K (L starts June) = 10
    out = turnover_rate(reg, snapshot="04-01", **WINDOW)
    r = _row(out, period="2020")
    assert (r["numerator"], r["denominator"]) == (2, 10)  # B and I
    assert r["snapshot"] == pd.Timestamp("2020-04-01")


def test_exit_share_exclude_reasons_and_fte(reg):
    out = turnover_rate(reg, exclude_reasons=("retirement",), **WINDOW)
    assert _row(out, period="2021")["numerator"] == 2  # F's retirement not counted
    assert _row(out, period="2021")["denominator"] == 12
    fte = turnover_rate(reg, by="unit_id", weight="fte", **WINDOW)
    r = _row(fte, unit_id="u1", period="2021")
    # A B D I at 1.0 and E at 0.5; D leaves
    assert (r["numerator"], r["denominator"]) == (1.0, 4.5)
    assert r["headcount_start"] == 5 and r["separations"] == 1


def test_exit_share_quarter(reg):
    # 2021Q1: 1 Jan 2021 -> 1 Apr 2021. Present 1 Jan: 11 jobs; gone from scope on 1 Apr:
    # B (away), I (left S2 for S1).
    out = turnover_rate(reg, period="2021Q1", **WINDOW)
    assert out["period"].tolist() == ["2021Q1"]
    assert (out["numerator"].iloc[0], out["denominator"].iloc[0]) == (2, 11)


def test_wilson_interval_by_hand(reg):
    out = turnover_rate(reg, **WINDOW)
    r = _row(out, period="2021")
    p, n, z = 3 / 12, 12, 1.959963984540054
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert r["ci_low"] == pytest.approx(centre - half)
    assert r["ci_high"] == pytest.approx(centre + half)


# --------------------------------------------------------------------------------------------
# Flow definitions: 2021, scope service.
# Hires: B back in u1 (1 Sep), I into u1 from S2, H into u2 (C's move is not a hire).
# Separations: B (31 Mar) and D (1 Dec) from u1, I from u3 (C's move is not one).
# Headcount at start (across 31 Dec 2020 / 1 Jan 2021): u1 5, u2 2, u3 4;
# at end: u1 A B E I = 4, u2 C F G H = 4, u3 J K L = 3.
# --------------------------------------------------------------------------------------------

FLOW_CASES = [
    ("separation", None, "u1", 2, 4.5),
    ("separation", None, "u2", 0, 3.0),
    ("separation", None, "u3", 1, 3.5),
    ("hire", None, "u1", 2, 4.5),
    ("hire", None, "u2", 1, 3.0),
    # bufdir is always at unit scope: u1 H = 2 (B, I), S = 3 (B, C, D), E 5 -> 4:
    # C = 2 + 3 - 1 = 4; u2 H = 2 (C, H), S = 0, E 2 -> 4: C = 2 + 0 - 2 = 0
    ("bufdir", "churn", "u1", 4, 4.5),
    ("bufdir", "replacement", "u1", 4, 9.0),
    ("bufdir", "churn", "u2", 0, 3.0),
]


@pytest.mark.parametrize(("definition", "divisor", "unit", "num", "den"), FLOW_CASES)
def test_flows_by_unit_2021(reg, definition, divisor, unit, num, den):
    out = turnover_rate(
        reg, definition=definition, divisor=divisor, by="unit_id", period="2021", **WINDOW
    )
    r = _row(out, unit_id=unit)
    assert (r["numerator"], r["denominator"]) == (num, den)
    assert r["rate"] == pytest.approx(num / den)


def test_flow_counts_2021(reg):
    out = turnover_rate(reg, definition="separation", by="unit_id", period="2021", **WINDOW)
    got = out.set_index("unit_id")[["hires", "separations", "headcount_start", "headcount_end"]]
    assert got.loc["u1"].tolist() == [2, 2, 5, 4]
    assert got.loc["u2"].tolist() == [1, 0, 2, 4]
    assert got.loc["u3"].tolist() == [0, 1, 4, 3]


def test_bufdir_is_per_unit_and_matches_ssb_formula_with_unit_scope(reg):
    out = turnover_rate(
        reg, definition="bufdir", scope="unit", by="unit_id", period="2021", **WINDOW
    )
    # scope unit: u1 H = 2 (B, I) S = 3 (B, C, D); u2 H = 2 (C, H) S = 0; u3 H = 0 S = 1 (I)
    for _, r in out.iterrows():
        h, s, e0, e1 = r["hires"], r["separations"], r["headcount_start"], r["headcount_end"]
        assert e1 == e0 + h - s
        assert r["numerator"] == h + s - abs(e1 - e0)
    assert out.set_index("unit_id")["numerator"].tolist() == [4, 0, 0]
    total = turnover_rate(reg, definition="bufdir", scope="unit", period="2021", **WINDOW)
    # summed per unit: 4, although pooled H = S = 4 would give 8
    assert total["numerator"].iloc[0] == 4 and total["hires"].iloc[0] == 4


def test_bufdir_default_matches_ssb_formula_and_counts(reg):
    # Default call: bufdir counts at the unit (a transfer is a separation and a hire). At
    # service scope u2 would have reported H = 1 (H only), S = 0, E 2 -> 4, where the formula
    # gives 1 + 0 - 2 = -1 while 2 min(H, S) = 0: register and counts disagreed.
    out = turnover_rate(reg, definition="bufdir", by="unit_id", period="2021", **WINDOW)
    got = out.set_index("unit_id")
    assert got[["hires", "separations", "headcount_start", "headcount_end"]].loc["u2"].tolist() == [
        2,
        0,
        2,
        4,
    ]
    for _, r in out.iterrows():
        h, s, e0, e1 = r["hires"], r["separations"], r["headcount_start"], r["headcount_end"]
        assert r["numerator"] == h + s - abs(e1 - e0)
    counts = out[["unit_id", "period", "hires", "separations", "headcount_start", "headcount_end"]]
    via = from_counts(counts, definition="bufdir", by="unit_id", min_group_size=3)
    np.testing.assert_array_equal(via["numerator"], out["numerator"])
    np.testing.assert_array_equal(via["denominator"], out["denominator"])
    explicit = turnover_rate(
        reg, definition="bufdir", scope="unit", by="unit_id", period="2021", **WINDOW
    )
    pd.testing.assert_frame_equal(out, explicit)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scope": "service"}, "scope='service' does not apply to definition='bufdir'"),
        ({"scope": "any"}, "scope='any' does not apply to definition='bufdir'"),
        ({"scope": "team"}, "scope='team' is not a known scope"),
        ({"exclude_reasons": ("retirement",)}, r"exclude_reasons=\['retirement'\] does not apply"),
    ],
)
def test_bufdir_refuses_wider_scope_and_excluded_reasons(reg, kwargs, match):
    with pytest.raises(ValueError, match=match):
        turnover_rate(reg, definition="bufdir", **kwargs)


# SHRM annual convention on u1, scope unit, 2021 (hand register):
# Feb: I joins (E 5 -> 6); Mar: B leaves 31 Mar (E 6 -> 5); Jun: C leaves 30 Jun (5 -> 4);
# Sep: B back (4 -> 5); Dec: D leaves 1 Dec (5 -> 4).
# separations: 1/5.5 + 1/4.5 + 1/4.5 = 2/11 + 4/9 = 62/99 (average headcount: 3/4.5 = 2/3)
# hires: Feb 1/5.5 + Sep 1/4.5 = 2/11 + 2/9 = 40/99 (average headcount: 2/4.5)
ANNUAL_CASES = [
    ("separation", "2021", "sum_of_months", 3, 62 / 99, 5, 4),
    ("separation", "2021", "average_headcount", 3, 3 / 4.5, 5, 4),
    ("hire", "2021", "sum_of_months", 2, 40 / 99, 5, 4),
    ("hire", "2021", "average_headcount", 2, 2 / 4.5, 5, 4),
    # 2021Q1: B's separation in March: 1/5.5; average headcount: 1 / ((5 + 5) / 2) = 1/5
    ("separation", "2021Q1", "sum_of_months", 1, 2 / 11, 5, 5),
    ("separation", "2021Q1", "average_headcount", 1, 1 / 5, 5, 5),
    # a month is its own sum
    ("separation", "2021-03", "sum_of_months", 1, 1 / 5.5, 6, 5),
]


@pytest.mark.parametrize(
    ("definition", "period", "annual", "num", "rate", "e0", "e1"), ANNUAL_CASES
)
def test_annual_sum_of_monthly_rates(reg, definition, period, annual, num, rate, e0, e1):
    out = turnover_rate(
        reg,
        definition=definition,
        scope="unit",
        by="unit_id",
        period=period,
        annual=annual,
        **WINDOW,
    )
    r = _row(out, unit_id="u1")
    assert r["numerator"] == num
    assert r["rate"] == pytest.approx(rate)
    assert r["rate"] == pytest.approx(r["numerator"] / r["denominator"])
    assert (r["headcount_start"], r["headcount_end"]) == (e0, e1)
    assert r[definition + "s"] == num
    assert r["ci_low"] <= r["rate"] <= r["ci_high"]


def test_annual_default_and_errors(reg):
    kw = {"definition": "separation", "scope": "unit", "by": "unit_id", **WINDOW}
    pd.testing.assert_frame_equal(
        turnover_rate(reg, **kw), turnover_rate(reg, annual="average_headcount", **kw)
    )
    # months: both conventions are the same number
    m = turnover_rate(reg, period="month", **kw)
    pd.testing.assert_frame_equal(
        m, turnover_rate(reg, period="month", annual="sum_of_months", **kw)
    )
    with pytest.raises(ValueError, match="annual='yearly' is not a known annual convention"):
        turnover_rate(reg, annual="yearly", **kw)
    for definition in ("exit_share", "bufdir"):
        with pytest.raises(ValueError, match="annual='sum_of_months' applies to"):
            turnover_rate(reg, definition=definition, annual="sum_of_months", scope="unit")


def _small_register(rows, units=None):
    emp = pd.DataFrame(
        rows, columns=["employee_id", "unit_id", "start_date", "end_date", "fte", "exit_reason"]
    )
    emp = _dates(emp, ["start_date", "end_date"])
    if units is None:
        units = pd.DataFrame({"unit_id": ["A", "B"], "municipality": "M", "service": "BV"})
    return Register(employment=emp, units=units)


def test_exit_share_reason_of_the_job_that_ends_presence():
    # r1 moves A -> B inside the service (transfer), then retires from B before 1 Dec 2021.
    # The exit is the retirement, so excluding retirements counts nobody: 0 / 6. (The reason of
    # the job held on 1 Dec 2020 is "internal_transfer", which gave 1 / 6.)
    rows = [
        ("r1", "A", "2019-01-01", "2021-02-28", 1.0, "internal_transfer"),
        ("r1", "B", "2021-03-01", "2021-06-30", 1.0, "retirement"),
        *[(f"x{i}", "A", "2019-01-01", None, 1.0, None) for i in range(5)],
        # q1 moves A -> B, then resigns: the voluntary exit is counted
        ("q1", "A", "2019-01-01", "2021-02-28", 1.0, "internal_transfer"),
        ("q1", "B", "2021-03-01", "2021-06-30", 1.0, "voluntary"),
    ]
    reg = _small_register(rows)
    kw = {"scope": "service", "period": "2020", "start": "2019-01-01", "end": "2022-12-31"}
    out = turnover_rate(reg, exclude_reasons=("retirement",), min_group_size=3, **kw)
    assert (out["numerator"].iloc[0], out["denominator"].iloc[0]) == (1, 7)  # q1 only
    out = turnover_rate(reg, exclude_reasons=("voluntary",), min_group_size=3, **kw)
    assert out["numerator"].iloc[0] == 1  # r1 only
    out = turnover_rate(reg, min_group_size=3, **kw)
    assert out["numerator"].iloc[0] == 2


def test_exit_share_counts_persons_not_jobs():
    # z holds two 0.5 jobs in A and leaves both; y holds 0.8 + 0.5 in A and stays; 5 others
    # stay. Persons: 1 of 7 left (jobs would say 2 of 9).
    rows = [
        ("z", "A", "2019-01-01", "2021-03-31", 0.5, "voluntary"),
        ("z", "A", "2019-01-01", "2021-03-31", 0.5, "voluntary"),
        ("y", "A", "2019-01-01", None, 0.8, None),
        ("y", "A", "2019-06-01", None, 0.5, None),
        *[(f"x{i}", "A", "2019-01-01", None, 1.0, None) for i in range(5)],
    ]
    reg = _small_register(rows)
    kw = {"scope": "unit", "period": "2020", "end": "2022-12-31", "min_group_size": 3}
    r = turnover_rate(reg, **kw).iloc[0]
    assert (r["numerator"], r["denominator"]) == (1, 7)
    assert (r["headcount_start"], r["separations"], r["n_persons"]) == (7, 1, 7)
    p, n, z = 1 / 7, 7, 1.959963984540054  # Wilson with n = persons
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert r["ci_low"] == pytest.approx(centre - half)
    # fte: z = 0.5 + 0.5 = 1.0, y = min(0.8 + 0.5, 1) = 1.0, others 1.0 -> 1 / 7
    f = turnover_rate(reg, weight="fte", **kw).iloc[0]
    assert (f["numerator"], f["denominator"]) == (1.0, 7.0)


def test_separation_exclude_and_any_scope(reg):
    out = turnover_rate(
        reg, definition="separation", exclude_reasons=("voluntary",), period="2021", **WINDOW
    )
    assert out["numerator"].iloc[0] == 0  # B, D and I all left voluntarily
    anyscope = turnover_rate(reg, definition="separation", scope="any", period="2021", **WINDOW)
    assert anyscope["numerator"].iloc[0] == 2  # B and D; I stayed in the register


def test_poisson_interval_by_hand(reg):
    from scipy.stats import chi2

    out = turnover_rate(reg, definition="separation", period="2021", **WINDOW)
    r = out.iloc[0]
    assert r["numerator"] == 3 and r["denominator"] == 11
    assert r["ci_low"] == pytest.approx(chi2.ppf(0.025, 6) / 2 / 11)
    assert r["ci_high"] == pytest.approx(chi2.ppf(0.975, 8) / 2 / 11)


def test_from_counts_matches_register(reg):
    # unit scope: counts are consistent (E_end = E_start + H - S), so the SSB formula on the
    # published counts equals the register computation for every definition
    kw = {"scope": "unit", "period": "2021", **WINDOW}
    units = turnover_rate(reg, definition="separation", by="unit_id", **kw)
    counts = units[
        ["unit_id", "period", "hires", "separations", "headcount_start", "headcount_end"]
    ]
    for definition in ("separation", "hire", "bufdir"):
        direct = turnover_rate(reg, definition=definition, **kw)
        via = from_counts(counts, definition=definition, min_group_size=3)
        assert via["period"].tolist() == ["2021"]
        assert via["numerator"].iloc[0] == direct["numerator"].iloc[0]
        assert via["denominator"].iloc[0] == direct["denominator"].iloc[0]
    # turnover_rate dispatches a counts frame to the counts entry point
    same = turnover_rate(counts, definition="hire", min_group_size=3)
    assert same["numerator"].iloc[0] == 4  # B, I into u1; C, H into u2


def test_from_counts_by_hand_and_errors():
    c = pd.DataFrame(
        {
            "unit_id": ["a", "b", "c"],
            "hires": [3, 1, 0],
            "separations": [2, 4, 1],
            "headcount_start": [10, 12, 6],
            "headcount_end": [11, 9, 5],
            "n_persons": [12, 13, 6],
        }
    )
    out = from_counts(c, definition="bufdir", divisor="replacement", by="unit_id")
    # per row: 3+2-1 = 4, 1+4-3 = 2, 0+1-1 = 0 over 2 x average headcount
    assert out["numerator"].tolist() == [4, 2, 0]
    assert out["denominator"].tolist() == [21, 21, 11]
    ex = from_counts(c, definition="exit_share")
    assert ex["rate"].iloc[0] == pytest.approx(7 / 28)
    with pytest.raises(ValueError, match=r"needs columns \['hires'"):
        from_counts(c.drop(columns="hires"), definition="hire")
    bad = c.assign(headcount_end=[20, 9, 5])
    with pytest.raises(ValueError, match="inconsistent"):
        from_counts(bad, definition="bufdir")


# --------------------------------------------------------------------------------------------
# Sick leave
# --------------------------------------------------------------------------------------------

# agreed person-days 2021 in u1: A 254, B Jan-Mar 63 + Sep-Dec 88, C Jan-Jun 122,
# D 1 Jan-1 Dec 232, E 0.5 x 254, I Feb-Dec 234
U1_AGREED = 254 + 151 + 122 + 232 + 127 + 234
# lost in u1: A 35 x 0.5, E 3 x 0.5 (self: grade 1), B 2, C 3 (in u1)
U1_LOST_SELF = 1.5 + 2
U1_LOST_DOCTOR = 17.5 + 3


@pytest.mark.parametrize(
    ("certification", "lost", "spells", "long_share"),
    [
        ("all", U1_LOST_SELF + U1_LOST_DOCTOR, 4, 17.5 / 24),
        ("self", U1_LOST_SELF, 2, 0.0),
        ("doctor", U1_LOST_DOCTOR, 2, 17.5 / 20.5),
    ],
)
@kernel_numbers_only
def test_sick_leave_u1_2021(reg, certification, lost, spells, long_share):
    out = sick_leave_rate(reg, by="unit_id", certification=certification, **WINDOW)
    r = _row(out, unit_id="u1", period="2021")
    assert r["denominator"] == U1_AGREED
    assert r["numerator"] == pytest.approx(lost)
    assert r["percent"] == pytest.approx(100 * lost / U1_AGREED)
    assert r["n_spells"] == spells and r["n_persons_absent"] == spells
    assert r["long_spell_share"] == pytest.approx(long_share)
    assert r["n_persons"] == 6  # A B C D E I


@kernel_numbers_only
def test_sick_leave_split_and_other_units(reg):
    out = sick_leave_rate(reg, by="unit_id", certification="split", period="2021", **WINDOW)
    assert out["certification"].tolist() == ["all", "self", "doctor"] * 3
    u2 = out[(out["unit_id"] == "u2")].set_index("certification")["numerator"]
    assert u2.to_dict() == {"all": 7.0, "self": 0.0, "doctor": 7.0}  # G 5 + C 2 (after move)
    u3 = _row(out, unit_id="u3", certification="all")
    assert u3["numerator"] == 10  # J's 2021 part; K's 17 May spell loses nothing
    assert u3["n_spells"] == 1


@kernel_numbers_only
def test_sick_leave_quarters_split_spells_exactly(reg):
    out = sick_leave_rate(reg, period="quarter", **WINDOW).set_index("period")["numerator"]
    assert out["2020Q4"] == 4  # G: 28-31 Dec 2020
    # G 4-8 Jan (5), E 3 x 0.5, B 30-31 Mar (2), A 29-31 Mar (3 x 0.5)
    assert out["2021Q1"] == pytest.approx(5 + 1.5 + 2 + 1.5)
    # A: April 19 + May 13 working days at grade 0.5; C 28-30 June in u1
    assert out["2021Q2"] == pytest.approx(32 * 0.5 + 3)
    assert out["2021Q3"] == 2  # C 1-2 July in u2
    assert out["2021Q4"] == 10 and out["2022Q1"] == 10  # J over new year
    assert out["2022Q2"] == 0


@kernel_numbers_only
def test_sick_leave_delta_interval_by_hand(reg):
    out = sick_leave_rate(reg, by="unit_id", period="2021", **WINDOW)
    r = _row(out, unit_id="u1")
    lost = np.array([17.5, 2, 3, 0, 1.5, 0])  # A B C D E I
    agreed = np.array([254, 151, 122, 232, 127, 234])
    R = lost.sum() / agreed.sum()
    var = 6 / 5 * ((lost - R * agreed) ** 2).sum() / agreed.sum() ** 2
    assert r["ci_high"] == pytest.approx(R + 1.959963984540054 * np.sqrt(var))
    assert r["ci_low"] == pytest.approx(max(0.0, R - 1.959963984540054 * np.sqrt(var)))


# --------------------------------------------------------------------------------------------
# Margins, suppression and bad input
# --------------------------------------------------------------------------------------------


def test_margins_sum_and_complementary_suppression(reg):
    out = turnover_rate(
        reg,
        definition="separation",
        by="unit_id",
        margins=True,
        start="2020-01-01",
        end="2022-12-31",
        min_group_size=4,
    )
    r2021 = out[out["period"] == "2021"].set_index("unit_id")
    assert r2021.loc[TOTAL_LABEL, "numerator"] == 3
    assert not r2021["suppressed"].any()
    r2020 = out[out["period"] == "2020"].set_index("unit_id")
    # u2 has 2 persons in 2020 (primary), so one more unit must go; the total stays
    assert r2020["suppressed"].sum() == 2 and not r2020.loc[TOTAL_LABEL, "suppressed"]


def test_all_suppressed_warns(reg):
    with pytest.warns(DataQualityWarning, match="every one of the"):
        out = turnover_rate(
            reg, by="unit_id", start="2020-01-01", end="2022-12-31", min_group_size=50
        )
    assert out["suppressed"].all() and out["rate"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"definition": "bufdr"}, ValueError, "definition='bufdr' is not a known turnover"),
        ({"by": "team"}, ValueError, r"by=\['team'\] names columns that are not in the data"),
        ({"period": "yaer"}, ValueError, "period='yaer' is not understood"),
        ({"period": "2021Q5"}, ValueError, "period='2021Q5' is not understood"),
        ({"period": ["2021", "2021Q1"]}, ValueError, "mixes kinds"),
        ({"period": "2035"}, ValueError, "cannot be computed from the data window"),
        ({"scope": "team"}, ValueError, "scope='team' is not a known scope"),
        ({"weight": "hours"}, ValueError, "weight='hours'"),
        ({"snapshot": "13-01"}, ValueError, "snapshot='13-01' is not a month-day"),
        ({"exclude_reasons": ("fired",)}, ValueError, "exclude_reasons=\\['fired'\\]"),
        ({"divisor": "churn"}, ValueError, "only applies to definition='bufdir'"),
        ({"definition": "bufdir", "divisor": "x"}, ValueError, "divisor='x'"),
        ({"min_group_size": 2}, ValueError, "floor of 3"),
        ({"confidence": 1.5}, ValueError, "strictly between 0 and 1"),
    ],
)
def test_turnover_bad_input(reg, kwargs, error, match):
    with pytest.raises(error, match=match):
        turnover_rate(reg, **kwargs)


def test_bare_employment_frame_and_scope(reg):
    with pytest.raises(ValueError, match="scope='service' needs the unit attribute"):
        turnover_rate(reg.employment)
    out = turnover_rate(reg.employment, scope="unit", **WINDOW)
    assert _row(out, period="2020")["numerator"] == 2
    with pytest.raises(TypeError, match="expects a Register or an employment DataFrame"):
        turnover_rate([1, 2])


def test_empty_register_is_explicit(reg):
    empty = Register(employment=reg.employment.iloc[:0], units=reg.units, absences=reg.absences)
    with pytest.warns(DataQualityWarning, match="empty"):
        out = turnover_rate(empty)
    assert len(out) == 0 and {"rate", "suppressed", "period"} <= set(out.columns)
    with pytest.warns(DataQualityWarning, match="empty"):
        assert len(sick_leave_rate(empty)) == 0


def test_sick_leave_bad_input(reg):
    with pytest.raises(ValueError, match="needs the register's absences table"):
        sick_leave_rate(reg.replace(absences=None))
    with pytest.raises(TypeError, match="needs a Register"):
        sick_leave_rate(reg.employment)
    with pytest.raises(ValueError, match="certification='sick'"):
        sick_leave_rate(reg, certification="sick")
    bad = reg.absences.assign(certification="nurse")
    with pytest.raises(ValueError, match="absences.certification has 7 values"):
        sick_leave_rate(reg.replace(absences=bad))


# --------------------------------------------------------------------------------------------
# Property tests on random registers
# --------------------------------------------------------------------------------------------


def random_register(seed: int) -> Register:
    rng = np.random.default_rng(seed)
    n_units = int(rng.integers(2, 5))
    rows = []
    for u in range(n_units):
        for p in range(3):  # three stayers per unit keep every unit above min_group_size=3
            rows.append((f"s{u}_{p}", f"u{u}", "2019-01-01", None, 1.0, None))
    n = int(rng.integers(5, 30))
    base = np.datetime64("2019-01-01")
    for i in range(n):
        start = base + int(rng.integers(0, 1400))
        unit = f"u{rng.integers(0, n_units)}"
        if rng.random() < 0.6:
            end = start + int(rng.integers(0, 700))
            reason = str(rng.choice(["voluntary", "retirement", "internal_transfer"]))
            rows.append((f"p{i}", unit, str(start), str(end), 0.5, reason))
            if rng.random() < 0.4:  # comes back or moves
                unit2 = f"u{rng.integers(0, n_units)}"
                s2 = end + int(rng.integers(1, 200))
                rows.append((f"p{i}", unit2, str(s2), None, 1.0, None))
        else:
            rows.append((f"p{i}", unit, str(start), None, float(rng.choice([0.4, 1.0])), None))
    emp = pd.DataFrame(
        rows, columns=["employee_id", "unit_id", "start_date", "end_date", "fte", "exit_reason"]
    )
    emp = _dates(emp, ["start_date", "end_date"])
    units = pd.DataFrame(
        {
            "unit_id": [f"u{u}" for u in range(n_units)],
            "municipality": ["M"] * n_units,
            "service": [f"S{u % 2}" for u in range(n_units)],
        }
    )
    ab = []
    for pid in emp["employee_id"].unique():
        day = base + int(rng.integers(0, 200))
        for _ in range(int(rng.integers(0, 4))):  # non-overlapping spells
            length = int(rng.integers(0, 40))
            ab.append(
                (
                    pid,
                    str(day),
                    str(day + length),
                    str(rng.choice(["self", "doctor"])),
                    float(rng.choice([0.2, 0.5, 1.0])),
                )
            )
            day = day + length + int(rng.integers(1, 300))
    absences = pd.DataFrame(
        ab, columns=["employee_id", "start_date", "end_date", "certification", "grade"]
    )
    absences = _dates(absences, ["start_date", "end_date"])
    return Register(employment=emp, units=units, absences=absences)


PROP = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KW = {"start": "2019-01-01", "end": "2023-06-30", "min_group_size": 3}


@PROP
@given(
    seed=st.integers(0, 10_000),
    definition=st.sampled_from(sorted(DEFINITIONS)),
    scope=st.sampled_from(["unit", "service", "any"]),
)
def test_units_sum_to_total_and_order_irrelevant(seed, definition, scope):
    reg = random_register(seed)
    if definition == "bufdir" and scope != "unit":
        with pytest.raises(ValueError, match="does not apply to definition='bufdir'"):
            turnover_rate(reg, definition=definition, scope=scope, **KW)
        return
    by_unit = turnover_rate(reg, definition=definition, scope=scope, by="unit_id", **KW)
    total = turnover_rate(reg, definition=definition, scope=scope, **KW)
    sums = by_unit.groupby("period")[["numerator", "denominator"]].sum()
    t = total.set_index("period")[["numerator", "denominator"]]
    pd.testing.assert_frame_equal(sums, t, check_dtype=False)
    shuffled = reg.replace(employment=reg.employment.sample(frac=1, random_state=seed))
    again = turnover_rate(shuffled, definition=definition, scope=scope, by="unit_id", **KW)
    pd.testing.assert_frame_equal(by_unit, again)
    if DEFINITIONS[definition].kind == "share":
        r = by_unit["rate"].dropna()
        assert ((r >= 0) & (r <= 1)).all()
    ok = by_unit.dropna(subset=["rate"])
    assert (ok["ci_low"] <= ok["rate"] + 1e-12).all() and (
        ok["rate"] <= ok["ci_high"] + 1e-12
    ).all()


@PROP
@given(seed=st.integers(0, 10_000))
def test_unit_scope_headcount_identity(seed):
    reg = random_register(seed)
    out = turnover_rate(reg, definition="separation", scope="unit", by="unit_id", **KW)
    assert (
        out["headcount_end"] == out["headcount_start"] + out["hires"] - out["separations"]
    ).all()


def test_back_to_back_spells_stay_in_the_headcount():
    """A job ending 30 June followed by a new one from 1 July in the same unit is neither a
    separation nor a hire, so the person is in the headcount at the end of Q2 and the start of
    Q3: 3 stayers + p = 4 on both sides (found by hypothesis: seed 8533 counted 3 at Q2's end)."""
    stayers = [(f"s{i}", "u1", "2020-01-01", None) for i in range(3)]
    spells = [*stayers, ("p", "u1", "2020-01-01", "2020-06-30"), ("p", "u1", "2020-07-01", None)]
    emp = pd.DataFrame(spells, columns=["employee_id", "unit_id", "start_date", "end_date"])
    emp = emp.assign(
        start_date=pd.to_datetime(emp["start_date"]),
        end_date=pd.to_datetime(emp["end_date"]),
        fte=1.0,
    )
    out = turnover_rate(
        emp,
        definition="separation",
        scope="unit",
        period="quarter",
        start="2020-01-01",
        end="2020-12-31",
        min_group_size=3,
    ).set_index("period")
    assert out.loc[
        "2020Q2", ["headcount_start", "hires", "separations", "headcount_end"]
    ].tolist() == [4, 0, 0, 4]
    assert out.loc["2020Q3", "headcount_start"] == 4


@PROP
@given(seed=st.integers(0, 10_000))
def test_bufdir_register_equals_counts(seed):
    """On any register, bufdir per unit is the SSB formula on its own reported counts, and
    turnover_rate_from_counts on those counts gives the same numerators and denominators."""
    reg = random_register(seed)
    out = turnover_rate(reg, definition="bufdir", by="unit_id", period="year", **KW)
    out = out[~out["suppressed"]]
    h, s = out["hires"].astype(float), out["separations"].astype(float)
    e0, e1 = out["headcount_start"].astype(float), out["headcount_end"].astype(float)
    np.testing.assert_array_equal(out["numerator"], h + s - (e1 - e0).abs())
    counts = out[["unit_id", "period", "hires", "separations", "headcount_start", "headcount_end"]]
    via = from_counts(counts, definition="bufdir", by="unit_id", min_group_size=3)
    np.testing.assert_array_equal(via["numerator"], out["numerator"])


@PROP
@given(seed=st.integers(0, 10_000))
@kernel_numbers_only
def test_sick_leave_properties(seed):
    reg = random_register(seed)
    year = sick_leave_rate(reg, by="unit_id", certification="split", **KW)
    assert ((year["rate"] >= 0) & (year["rate"] <= 1)).all()
    wide = year.pivot_table(
        index=["unit_id", "period"], columns="certification", values="numerator"
    )
    np.testing.assert_allclose(wide["all"], wide["self"] + wide["doctor"])
    # quarters add up to years (numerator and denominator)
    q = sick_leave_rate(reg, by="unit_id", period="quarter", **KW)
    q["year"] = q["period"].str[:4]
    qs = q.groupby(["unit_id", "year"])[["numerator", "denominator"]].sum()
    y = year[year["certification"] == "all"].set_index(["unit_id", "period"])
    np.testing.assert_allclose(qs["numerator"].to_numpy(), y["numerator"].to_numpy())
    np.testing.assert_allclose(qs["denominator"].to_numpy(), y["denominator"].to_numpy())
    total = sick_leave_rate(reg, **KW).set_index("period")
    np.testing.assert_allclose(
        y.groupby(level="period")["numerator"].sum().to_numpy(), total["numerator"].to_numpy()
    )


@PROP
@given(seed=st.integers(0, 10_000), mgs=st.integers(3, 12))
def test_margins_never_reveal_a_suppressed_cell(seed, mgs):
    reg = random_register(seed)
    out = turnover_rate(
        reg,
        definition="hire",
        by="unit_id",
        margins=True,
        start=KW["start"],
        end=KW["end"],
        min_group_size=mgs,
    )
    for _, g in out.groupby("period"):
        assert g["suppressed"].sum() != 1
        cells = g[g["unit_id"] != TOTAL_LABEL]
        tot = g[g["unit_id"] == TOTAL_LABEL]
        if not tot["suppressed"].iloc[0] and not cells["suppressed"].any():
            assert cells["numerator"].sum() == pytest.approx(tot["numerator"].iloc[0])


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def test_cli_rates(reg, tmp_path):
    pytest.importorskip("turnover_risk.cli")
    from turnover_risk.cli._main import main
    from turnover_risk.data import write_register

    write_register(reg, tmp_path / "reg", format="csv")
    out = tmp_path / "rates.csv"
    code = main(
        [
            "rates",
            str(tmp_path / "reg"),
            "--definition",
            "separation",
            "--by",
            "unit_id",
            "--min-group-size",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    got = pd.read_csv(out)
    direct = turnover_rate(reg, definition="separation", by="unit_id", min_group_size=3)
    np.testing.assert_allclose(got["numerator"], direct["numerator"])
    sick = tmp_path / "sick.parquet"
    assert (
        main(
            [
                "rates",
                str(tmp_path / "reg"),
                "--kind",
                "sick-leave",
                "--period",
                "quarter",
                "--min-group-size",
                "3",
                "--out",
                str(sick),
            ]
        )
        == 0
    )
    assert pd.read_parquet(sick)["period"].str.contains("Q").all()
    bad = str(tmp_path / "bad.csv")
    assert main(["rates", str(tmp_path / "reg"), "--definition", "bufdr", "--out", bad]) == 2


@PROP
@given(seed=st.integers(0, 10_000), definition=st.sampled_from(["exit_share", "hire"]))
def test_n_persons_matches_brute_force(seed, definition):
    reg = random_register(seed)
    out = turnover_rate(reg, definition=definition, by="unit_id", period="year", **KW)
    emp = reg.employment
    end = emp["end_date"].fillna(pd.Timestamp("2099-01-01"))
    for _, r in out.iterrows():
        if definition == "exit_share":
            t = r["snapshot"]
            m = (emp["start_date"] <= t) & (end >= t)
        else:
            p0 = max(pd.Timestamp(f"{r['period']}-01-01"), pd.Timestamp(KW["start"]))
            p1 = min(pd.Timestamp(f"{r['period']}-12-31"), pd.Timestamp(KW["end"]))
            m = (emp["start_date"] <= p1) & (end >= p0)
        expected = emp.loc[m & (emp["unit_id"] == r["unit_id"]), "employee_id"].nunique()
        assert r["n_persons"] == expected


def test_window_from_register_metadata(reg):
    meta = Register(
        employment=reg.employment,
        units=reg.units,
        absences=reg.absences,
        metadata={"observation_start": "2020-01-01", "observation_end": "2022-12-31"},
    )
    a = turnover_rate(meta, definition="hire", min_group_size=3)
    b = turnover_rate(reg, definition="hire", **WINDOW)
    pd.testing.assert_frame_equal(a, b)
    sim = Register(
        employment=reg.employment, units=reg.units, metadata={"start_year": 2020, "years": 3}
    )
    pd.testing.assert_frame_equal(turnover_rate(sim, definition="hire", min_group_size=3), b)


# --------------------------------------------------------------------------------------------
# Observation window: left-truncated HR extracts
# --------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def truncated_register(records: bool = True) -> Register:
    """An HR extract taken from 2019-01-01: only the staff employed that day.

    Twenty people in u1, hired every six months from 2009-01-01 to 2018-07-01 (p00 first);
    p00..p11 leave one a quarter, on the last day of 2019Q1 .. 2021Q4; p12..p19 stay.
    Person-years before the first end (2019-03-31): about 20 x 5.5 = 110; after it to
    2022-12-31: 11 ends in 16.5 (the leavers) + 8 x 3.75 (the stayers) = 46.5, so about
    11 / 46.5 x 110 = 26 ends would be expected before 2019-03-31 and none is recorded.
    With ``records``, a caseload table starting 2019-01-01 (recording began there).
    """
    hires = pd.date_range("2009-01-01", periods=20, freq="6MS")
    ends = list(pd.date_range("2019-03-31", periods=12, freq="QE")) + [pd.NaT] * 8
    emp = pd.DataFrame(
        {
            "employee_id": [f"p{i:02d}" for i in range(20)],
            "unit_id": "u1",
            "start_date": hires,
            "end_date": ends,
            "fte": 1.0,
        }
    )
    emp = _dates(emp, ["start_date", "end_date"])
    if not records:
        return Register(employment=emp)
    caseload = pd.DataFrame(
        {
            "employee_id": ["p19", "p19"],
            "month": pd.to_datetime(["2019-01-01", "2019-02-01"]).astype("datetime64[ns]"),
            "open_cases": [12, 13],
        }
    )
    return Register(employment=emp, caseload=caseload)


TRUNC = {"scope": "unit", "end": "2022-12-31", "min_group_size": 3}


def _one_warning(record) -> str:
    msgs = [str(w.message) for w in record if issubclass(w.category, DataQualityWarning)]
    assert len(msgs) == 1, msgs
    return msgs[0]


@pytest.mark.parametrize("definition", sorted(DEFINITIONS))
def test_truncated_extract_starts_where_recording_began(definition):
    with pytest.warns(DataQualityWarning) as record:
        out = turnover_rate(truncated_register(), definition=definition, **TRUNC)
    msg = _one_warning(record)
    assert "employment table records no spell end (exit or move) before 2019-03-31" in msg
    assert "left-truncated" in msg and "Rates start on 2019-01-01" in msg
    assert "caseload table" in msg
    assert "start='2009-01-01' keeps every period" in msg
    assert "metadata['observation_start']" in msg
    assert out["period"].iloc[0] == "2019"  # not 2008/2009 with a rate of 0
    window = out.attrs["observation_window"]
    assert window["start"] == "2019-01-01" and window["start_source"] == "inferred"
    assert window["end"] == "2022-12-31" and window["end_source"] == "argument"
    assert window["left_truncation"] == msg


def test_truncated_extract_numbers_by_hand():
    with pytest.warns(DataQualityWarning):
        share = turnover_rate(truncated_register(), definition="exit_share", **TRUNC)
    # 1 Dec 2019: 20 - 3 (gone 31 Mar, 30 Jun, 30 Sep) = 17; gone by 1 Dec 2020: 4 of them
    r = _row(share, period="2019")
    assert (r["numerator"], r["denominator"]) == (4, 17)
    assert share["period"].tolist() == ["2019", "2020", "2021"]
    with pytest.warns(DataQualityWarning):
        sep = turnover_rate(truncated_register(), definition="separation", **TRUNC)
    r = _row(sep, period="2019")  # 4 ends in 2019; headcount 20 on 1 Jan, 16 on 31 Dec
    assert r["separations"] == 4 and r["denominator"] == 18
    assert r["period_start"] == pd.Timestamp("2019-01-01")


def test_truncation_without_record_tables_starts_at_the_month_of_the_first_end():
    with pytest.warns(DataQualityWarning, match="first day of the month") as record:
        out = turnover_rate(truncated_register(records=False), definition="separation", **TRUNC)
    assert "Rates start on 2019-03-01" in _one_warning(record)
    assert out.attrs["observation_window"]["start"] == "2019-03-01"
    assert _row(out, period="2019")["period_start"] == pd.Timestamp("2019-03-01")


@pytest.mark.parametrize(
    ("kwargs", "metadata", "source", "first_period"),
    [
        ({"start": "2009-01-01"}, {}, "argument", "2009"),  # explicit: the user's choice
        ({"start": "2019-01-01"}, {}, "argument", "2019"),
        ({}, {"observation_start": "2016-01-01"}, "metadata", "2016"),
        ({}, {"start_year": 2019, "years": 4}, "metadata", "2019"),
        # the argument beats the metadata
        ({"start": "2010-01-01"}, {"observation_start": "2016-01-01"}, "argument", "2010"),
    ],
)
def test_given_window_overrides_detection_without_warning(kwargs, metadata, source, first_period):
    reg = truncated_register()
    reg = Register(employment=reg.employment, caseload=reg.caseload, metadata=metadata)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        out = turnover_rate(reg, definition="separation", **{**TRUNC, **kwargs})
    assert out["period"].iloc[0] == first_period
    assert out.attrs["observation_window"]["start_source"] == source
    assert "left_truncation" not in out.attrs["observation_window"]


def _complete_small() -> pd.DataFrame:
    return _dates(
        pd.DataFrame(
            {
                "employee_id": ["a", "b", "c"],
                "unit_id": "u1",
                "start_date": ["2020-01-01"] * 3,
                "end_date": ["2021-06-30", None, None],
                "fte": 1.0,
            }
        ),
        ["start_date", "end_date"],
    )


@pytest.mark.parametrize("end", [None, "2021-12-31", "2021-07-02"])
def test_complete_small_register_is_not_truncated(end):
    # three hired 2020-01-01, the first exit 2021-06-30 and nothing after it: 4.5
    # person-years before the exit, no ends after it to estimate a rate from
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        out = turnover_rate(
            _complete_small(), definition="separation", scope="unit", end=end, min_group_size=3
        )
    assert out["period"].tolist() == ["2020", "2021"]
    assert out.attrs["observation_window"]["start"] == "2020-01-01"
    assert out.attrs["observation_window"]["start_source"] == "data"
    r = _row(out, period="2021")  # 1 separation; headcount 3 on 1 Jan, 2 at the end
    assert (r["numerator"], r["denominator"]) == (1, 2.5)


def test_hand_register_without_window_is_not_truncated(reg):
    # the twelve of the module docstring: first end 2021-01-31, about 6.5 ends expected before
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        t = turnover_rate(reg, min_group_size=3)
        s = sick_leave_rate(reg, min_group_size=3)
    assert t.attrs["observation_window"]["start"] == "2019-01-01"
    assert s.attrs["observation_window"]["start"] == "2019-01-01"


_DAY100 = np.array([0, 0, 0, 0]), np.array([100, 200, 300, 2**30])


@pytest.mark.parametrize(
    ("threshold", "candidates", "start", "basis"),
    [
        # 4 spells from day 0; ends on days 100 (E), 200, 300; one open; window 0..399.
        # before E: 4 x 100 = 400 days; after E: 0 + 100 + 200 + 299 = 599 days, 2 ends;
        # expected before E: 2 / 599 x 400 = 1.34
        (10.0, {}, None, None),  # the default: not truncated
        (1.0, {}, 90, "first day of the month"),  # 1970-04-11 is day 100; 1 April is day 90
        (1.0, {"absences": 95}, 95, "absences table"),
        # a record date so early that 2 / 599 x 360 = 1.2 >= 1 ends would be expected after it
        (1.0, {"caseload": 10}, 90, "first day of the month"),
        (1.0, {"supervision": 0}, 90, "first day of the month"),  # not after the data start
        (1.0, {"absences": 101}, 90, "first day of the month"),  # after E
        # even the month is too long: 2 / 599 x 40 = 0.13 >= 0.1
        (0.1, {}, 100, "day of the first"),
    ],
)
def test_truncation_rule_by_hand(threshold, candidates, start, basis):
    from turnover_risk.rates import detect_left_truncation

    s, e = _DAY100
    calls = []

    def cands():
        calls.append(1)
        return candidates

    got = detect_left_truncation(
        s,
        e,
        e[e < 2**30],
        first=0,
        last=399,
        table="employment",
        event="spell end",
        candidates=cands,
        threshold=threshold,
    )
    if start is None:
        assert got is None and not calls  # record tables are read only on detection
        return
    assert got.start == start and basis in got.basis
    assert got.first_event == 100 and got.n_after == 2
    assert got.expected == pytest.approx(2 / 599 * 400)
    assert got.years_before == pytest.approx(400 / 365.25)


def test_truncation_rule_needs_ends_after_the_first():
    from turnover_risk.rates import detect_left_truncation

    s, e = _DAY100
    got = detect_left_truncation(
        s,
        e,
        np.array([100]),
        first=0,
        last=399,
        table="t",
        event="x",
        candidates=dict,
        threshold=1e-9,
    )
    assert got is None


def test_truncation_constant_is_documented():
    from turnover_risk.rates import TRUNCATION_EXPECTED_EVENTS

    assert TRUNCATION_EXPECTED_EVENTS == 10
    assert np.exp(-TRUNCATION_EXPECTED_EVENTS) < 5e-5
    assert "TRUNCATION_EXPECTED_EVENTS" in tr.rates.__doc__


def absences_recorded_late() -> Register:
    """30 staff hired 2018-01-01 (a complete table: one leaves 2018-01-31, one a quarter
    after that); absences recorded only from 2020: everybody off sick 2 days a quarter from
    Monday 2020-01-06. Before that day about 30 x 2 years x 4 a year = 240 absence starts
    would be expected."""
    n = 30
    ends = [pd.Timestamp("2018-01-31"), *pd.date_range("2018-04-30", periods=4, freq="3ME")]
    emp = pd.DataFrame(
        {
            "employee_id": [f"p{i:02d}" for i in range(n)],
            "unit_id": "u1",
            "start_date": pd.Timestamp("2018-01-01"),
            "end_date": ends + [pd.NaT] * (n - len(ends)),
            "fte": 1.0,
        }
    )
    starts = pd.date_range("2020-01-06", periods=12, freq="13W-MON")
    ab = pd.DataFrame(
        {
            "employee_id": np.repeat(emp["employee_id"].iloc[5:].to_numpy(), len(starts)),
            "start_date": np.tile(starts, n - 5),
        }
    )
    ab["end_date"] = ab["start_date"] + pd.Timedelta(days=1)
    ab["certification"] = "self"
    emp = _dates(emp, ["start_date", "end_date"])
    ab = _dates(ab, ["start_date", "end_date"])
    return Register(employment=emp, absences=ab)


def test_sick_leave_before_absences_were_recorded_is_dropped():
    reg = absences_recorded_late()
    with pytest.warns(DataQualityWarning) as record:
        out = sick_leave_rate(reg, end="2022-12-31", min_group_size=3)
    msg = _one_warning(record)
    assert "absences table records no absence before 2020-01-06" in msg
    assert "Rates start on 2020-01-01 (the first day of the month" in msg
    assert "employment table" not in msg  # the employment table is complete
    assert out["period"].tolist() == ["2020", "2021", "2022"]  # no 0 % for 2018-2019
    assert out.attrs["observation_window"]["start"] == "2020-01-01"
    # turnover is not held back by when absences were recorded
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        t = turnover_rate(reg, definition="separation", scope="unit", end="2022-12-31")
    assert t.attrs["observation_window"]["start"] == "2018-01-01"
    # a given start is the user's choice: the zeros come back, without a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        full = sick_leave_rate(reg, start="2018-01-01", end="2022-12-31", min_group_size=3)
    assert _row(full, period="2018")["rate"] == 0


@kernel_numbers_only
def test_sick_leave_on_a_truncated_extract_starts_with_turnover():
    reg = truncated_register()
    ab = pd.DataFrame(
        {
            "employee_id": ["p15", "p19"],
            "start_date": pd.to_datetime(["2019-05-06", "2020-02-03"]),
            "end_date": pd.to_datetime(["2019-05-07", "2020-02-04"]),
            "certification": ["self", "doctor"],
        }
    )
    reg = Register(employment=reg.employment, caseload=reg.caseload, absences=_dates(ab, []))
    with pytest.warns(DataQualityWarning) as record:
        out = sick_leave_rate(reg, end="2022-12-31", min_group_size=3)
    msg = _one_warning(record)
    assert msg.startswith("sick_leave_rate: the employment table")
    assert out.attrs["observation_window"]["start"] == "2019-01-01"
    assert out["period"].iloc[0] == "2019"


def test_csv_sample_rates_equal_load_sample(tmp_path):
    """data/sample/metadata.json carries the window; without it, detection finds it."""
    sample = tr.load_sample()
    expected = turnover_rate(sample)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        csv = tr.read_register(ROOT / "data" / "sample")
        pd.testing.assert_frame_equal(turnover_rate(csv), expected)
    assert turnover_rate(csv).attrs["observation_window"]["start_source"] == "metadata"
    bare = Register(**csv.tables())  # a real user's extract: no metadata
    with pytest.warns(DataQualityWarning, match="before 2019-01-12") as record:
        got = turnover_rate(bare)
    assert "Rates start on 2019-01-01" in _one_warning(record)
    # the same years and numbers (the window end comes from the data, not the metadata)
    pd.testing.assert_frame_equal(got, expected)
    for definition in ("bufdir", "separation", "hire"):
        with pytest.warns(DataQualityWarning):
            got = turnover_rate(bare, definition=definition)
        pd.testing.assert_frame_equal(got, turnover_rate(sample, definition=definition))
    with pytest.warns(DataQualityWarning):
        got = sick_leave_rate(bare)
    pd.testing.assert_frame_equal(got, sick_leave_rate(sample))


def test_from_counts_has_no_window_to_infer():
    c = pd.DataFrame(
        {"hires": [0], "separations": [0], "headcount_start": [6], "headcount_end": [6]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        out = from_counts(c, definition="separation", min_group_size=3)
    assert out["rate"].iloc[0] == 0 and "observation_window" not in out.attrs


def test_truncation_detected_on_the_dask_path():
    pytest.importorskip("dask.dataframe")
    reg = truncated_register()
    with pytest.warns(DataQualityWarning) as record:
        got = turnover_rate(reg, definition="hire", engine="dask", **TRUNC)
    assert "Rates start on 2019-01-01" in _one_warning(record)
    with pytest.warns(DataQualityWarning):
        expected = turnover_rate(reg, definition="hire", **TRUNC)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["observation_window"] == expected.attrs["observation_window"]


@pytest.mark.parametrize("n", [6, 7, 10, 13, 111, 1000])  # noise was 2.8e-17 (n=6), 1 - 1e-16 (10)
def test_wilson_bounds_exact_at_zero_and_one(n):
    c = pd.DataFrame({"unit_id": ["none", "all"], "separations": [0, n], "headcount_start": [n, n]})
    out = from_counts(c, definition="exit_share", by="unit_id", min_group_size=3)
    none, all_ = _row(out, unit_id="none"), _row(out, unit_id="all")
    assert none["ci_low"] == 0.0 and 0 < none["ci_high"] < 1  # was 2.8e-17 for n = 6
    assert all_["ci_high"] == 1.0 and 0 < all_["ci_low"] < 1


# --------------------------------------------------------------------------------------------
# Kernel helpers and threads: the fast paths must give exactly the plain computation
# --------------------------------------------------------------------------------------------


def _day(iso: str) -> int:
    return int(np.datetime64(iso, "D").astype(np.int64))


@pytest.mark.parametrize(
    ("kind", "starts", "last_end"),
    [
        ("year", ["2020-01-01", "2021-01-01"], "2021-12-31"),
        ("quarter", ["2020-01-01", "2020-04-01", "2020-07-01", "2020-10-01", "2021-01-01"], "2021-03-31"),
        ("month", [f"2020-{m:02d}-01" for m in range(2, 13)] + ["2021-01-01"], "2021-01-31"),
    ],
)  # fmt: skip
def test_period_grid_day_numbers(kind, starts, last_end):
    """Period bounds are day numbers whatever unit pandas gives timestamps (ns in pandas 2,
    s/us in 3): the end of the last period once came out as ns since 1970 read as days."""
    first = _day("2020-02-15" if kind == "month" else "2020-01-01")
    p0, p1, labels = rates_common._grid(kind, first, _day("2021-01-10"))
    assert p0.tolist() == [_day(d) for d in starts]
    assert p1.tolist() == [d - 1 for d in p0[1:].tolist()] + [_day(last_end)]
    assert len(labels) == len(starts)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_day_numbers_of_any_datetime_unit(unit):
    """Dates of every unit become the same day numbers; years past 2262 (outside ``ns``, e.g.
    an open end written as 2999-12-31) are not wrapped around by a trip through ``ns``."""
    far = "2262-04-10" if unit == "ns" else "2999-12-31"
    dates = np.array(["1969-12-31", "2021-03-01", far, "NaT"], dtype=f"datetime64[{unit}]")
    expected = [-1, _day("2021-03-01"), _day(far)]
    got = _spells._days(pd.Series(dates), "end_date", open_ok=True)
    assert got.tolist() == [*expected, _spells._OPEN]
    assert to_days(pd.Series(dates)).tolist() == [*expected, OPEN_DAY]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    dtype=st.sampled_from([np.int64, np.int32]),
    n_person=st.integers(1, 5),
)
def test_same_person_overlaps_equal_brute_force(seed, dtype, n_person):
    """Every (absence, spell) pair of one person sharing a day, in absence then spell-row
    order; absences of unknown persons (-1) or outside all of their person's spells match
    nothing; empty spells (end < start) are ignored."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(0, 12)), int(rng.integers(0, 25))
    person = rng.integers(0, n_person, n)
    start = rng.integers(0, 60, n).astype(dtype)
    end = (start + rng.integers(-3, 20, n)).astype(dtype)
    q_person = rng.integers(-1, n_person, m)
    q_start = rng.integers(-5, 80, m).astype(dtype)
    q_end = (q_start + rng.integers(0, 10, m)).astype(dtype)
    expected = [
        (q, i, max(q_start[q], start[i]), min(q_end[q], end[i]))
        for q in range(m)
        for i in range(n)
        if q_person[q] == person[i]
        and end[i] >= start[i]
        and max(q_start[q], start[i]) <= min(q_end[q], end[i])
    ]
    got = _presence._same_person_overlaps(person, n_person, start, end, q_person, q_start, q_end)
    assert list(zip(*(a.tolist() for a in got), strict=True)) == expected


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_bounds=st.integers(1, 6),
    side=st.sampled_from(["left", "right"]),
)
def test_search_days_equals_searchsorted(seed, n_bounds, side):
    """The table look-up answers as a binary search, also far outside the bounds."""
    rng = np.random.default_rng(seed)
    bounds = np.sort(rng.choice(np.arange(-100, 400), n_bounds, replace=False))
    days = rng.integers(-200, 500, 12_000)  # above the size where the table is used
    days[:3] = [_spells._OPEN, -(2**40), bounds[0]]
    np.testing.assert_array_equal(
        _grouping._search_days(bounds, days, side=side),
        np.searchsorted(bounds, days, side=side),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"by": "unit_id", "certification": "split"},
        {"by": ["municipality", "service"], "margins": True, "period": "quarter"},
    ],
)
@pytest.mark.parametrize("seed", [0, 7])
def test_sick_leave_on_threads_is_identical(monkeypatch, kwargs, seed):
    """Split over four threads (absences in eight slices), every number equals one thread's."""
    from turnover_risk.rates import _encode as _rates_encode

    reg = random_register(seed)
    one = sick_leave_rate(reg, **kwargs, **KW)
    monkeypatch.setattr(_rates_encode, "MIN_PARALLEL_ROWS", 1)
    monkeypatch.setattr(_rates_encode.os, "sched_getaffinity", lambda pid: set(range(4)))
    monkeypatch.setenv(_rates_encode.THREADS_ENV, "4")
    assert _rates_encode.rate_threads(len(reg.absences)) == 4
    pd.testing.assert_frame_equal(sick_leave_rate(reg, **kwargs, **KW), one, check_exact=True)
