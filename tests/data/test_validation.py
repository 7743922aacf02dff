"""Every validation rule on a small hand-made register, the error messages and the accounting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import turnover_risk as tr
from turnover_risk.data import RULES, clean_register


def _emp(**over):
    base = {
        "employee_id": ["a", "b", "c"],
        "unit_id": ["u1", "u1", "u2"],
        "start_date": ["2020-01-01", "2020-03-01", "2021-01-01"],
        "end_date": ["2020-12-31", None, None],
        "fte": [1.0, 0.5, 0.8],
        "exit_reason": ["voluntary", None, None],
    }
    base.update(over)
    return pd.DataFrame(base)


def _units():
    return pd.DataFrame(
        {"unit_id": ["u1", "u2"], "municipality": ["m1", "m1"], "service": ["s1", "s1"]}
    )


def _abs(**over):
    base = {
        "employee_id": ["a", "b"],
        "start_date": ["2020-02-03", "2020-05-04"],
        "end_date": ["2020-02-05", "2020-05-20"],
        "certification": ["self", "doctor"],
        "grade": [None, 0.5],
    }
    base.update(over)
    return pd.DataFrame(base)


def _reg(**tables):
    kw = {"employment": _emp(), "units": _units(), "absences": _abs()}
    kw.update(tables)
    return tr.Register(**kw)


def _rules(report):
    return sorted(report.problems["rule"])


def test_clean_register_has_no_problems():
    report = tr.validate(_reg())
    assert report.ok
    assert report.counts.set_index("table").loc["employment", "rows_kept"] == 3


@pytest.mark.parametrize(
    "end_date",
    [
        ["2020-12-31", "9999-12-31", None],
        np.array(["2020-12-31", "2999-12-31", "NaT"], dtype="datetime64[us]"),
        ["2020-12-31", "31.12.9999", ""],
    ],
)
def test_open_sentinels_past_2262_mean_open(end_date):
    """``9999-12-31`` and friends are the usual "open" placeholders: read as an open end, as
    text (parsed past the ``datetime64[ns]`` range) or in a coarser unit, never raised."""
    emp = _emp(end_date=end_date)
    reg = tr.data.clean_register(_reg(employment=emp))
    assert reg.employment["end_date"].isna().tolist() == [False, True, True]


def test_dates_past_2262_that_are_no_sentinel_are_implausible():
    report = tr.validate(_reg(employment=_emp(end_date=["2020-12-31", "2300-05-01", None])))
    bad = report.problems[report.problems["rule"] == "implausible_date"]
    assert bad[["table", "row", "column"]].values.tolist() == [["employment", 1, "end_date"]]


@pytest.mark.parametrize(
    ("tables", "rule", "table", "row", "column"),
    [
        ({"employment": _emp(fte=[1.0, 1.2, 0.8])}, "out_of_range", "employment", 1, "fte"),
        ({"employment": _emp(fte=[1.0, 0.0, 0.8])}, "out_of_range", "employment", 1, "fte"),
        ({"employment": _emp(fte=[1.0, "full", 0.8])}, "wrong_type", "employment", 1, "fte"),
        (
            {"employment": _emp(start_date=["2020-01-01", "2020-13-45", "2021-01-01"])},
            "bad_date",
            "employment",
            1,
            "start_date",
        ),
        (
            {"employment": _emp(end_date=["2019-12-31", None, None])},
            "end_before_start",
            "employment",
            0,
            "end_date",
        ),
        (
            {"employment": _emp(exit_reason=["quit", None, None])},
            "unknown_category",
            "employment",
            0,
            "exit_reason",
        ),
        (
            {"employment": _emp(unit_id=["u1", "u1", "u9"])},
            "unknown_unit",
            "employment",
            2,
            "unit_id",
        ),
        (
            {"employment": _emp(employee_id=["a", None, "c"])},
            "null_value",
            "employment",
            1,
            "employee_id",
        ),
        ({"absences": _abs(grade=[None, 0.1])}, "out_of_range", "absences", 1, "grade"),
        (
            {"absences": _abs(certification=["self", "nurse"])},
            "unknown_category",
            "absences",
            1,
            "certification",
        ),
        (
            {"absences": _abs(employee_id=["a", "zz"])},
            "unknown_employee",
            "absences",
            1,
            "employee_id",
        ),
        (
            {
                "absences": _abs(
                    start_date=["2021-02-03", "2020-05-04"], end_date=["2021-02-05", "2020-05-20"]
                )
            },
            "outside_employment",
            "absences",
            0,
            "start_date",
        ),
        (
            {
                "caseload": pd.DataFrame(
                    {
                        "employee_id": ["a", "a"],
                        "month": ["2020-06-01", "2021-02-01"],
                        "open_cases": [12, 14],
                    }
                )
            },
            "outside_employment",
            "caseload",
            1,
            "month",
        ),
        (
            {
                "caseload": pd.DataFrame(
                    {
                        "employee_id": ["a", "a"],
                        "month": ["2020-06-01", "2020-06-01"],
                        "open_cases": [12, 14],
                    }
                )
            },
            "duplicate_key",
            "caseload",
            1,
            "month",
        ),
        (
            {
                "caseload": pd.DataFrame(
                    {"employee_id": ["a"], "month": ["2020-06-01"], "open_cases": [2.5]}
                )
            },
            "wrong_type",
            "caseload",
            0,
            "open_cases",
        ),
        (
            {
                "supervision": pd.DataFrame(
                    {"employee_id": ["b"], "date": ["2020-02-01"], "kind": ["individual"]}
                )
            },
            "outside_employment",
            "supervision",
            0,
            "date",
        ),
        (
            {
                "supervision": pd.DataFrame(
                    {"employee_id": ["b"], "date": ["2020-04-01"], "kind": ["coaching"]}
                )
            },
            "unknown_category",
            "supervision",
            0,
            "kind",
        ),
    ],
)
def test_each_rule_names_table_row_column(tables, rule, table, row, column):
    report = tr.validate(_reg(**tables))
    p = report.problems[report.problems["table"] == table].reset_index(drop=True)
    assert list(p["rule"]) == [rule], p
    assert p.loc[0, "table"] == table
    assert p.loc[0, "row"] == row
    assert p.loc[0, "column"] == column
    assert rule in RULES


def test_missing_required_column_one_problem_per_column_listing_found():
    emp = _emp().drop(columns=["fte", "start_date"])
    report = tr.validate(_reg(employment=emp))
    miss = report.problems[report.problems["rule"] == "missing_column"]
    assert sorted(miss["column"]) == ["fte", "start_date"]
    assert miss["message"].str.contains("found: employee_id, unit_id, end_date").all()
    counts = report.counts.set_index("table").loc["employment"]
    assert counts["rows_rejected"] == 3 and counts["rows_kept"] == 0


def test_misspelt_column_gets_a_suggestion():
    emp = _emp().rename(columns={"employee_id": "employe_id"})
    report = tr.validate(_reg(employment=emp))
    msg = report.problems.loc[report.problems["rule"] == "missing_column", "message"].iloc[0]
    assert "did you mean 'employe_id'" in msg


def test_duplicate_rows_reject_the_later_copy():
    emp = pd.concat([_emp(), _emp().iloc[[1]]], ignore_index=True)
    report = tr.validate(_reg(employment=emp))
    dups = report.problems[report.problems["rule"] == "duplicate_row"]
    assert list(dups["row"]) == [3]


def test_overlapping_spells_same_unit_but_not_other_unit():
    emp = _emp(
        employee_id=["a", "a", "a"],
        unit_id=["u1", "u1", "u2"],
        start_date=["2020-01-01", "2020-06-01", "2020-06-01"],
        end_date=["2020-12-31", "2021-03-01", None],
        exit_reason=[None, None, None],
        fte=[0.5, 0.5, 0.5],  # two jobs at once are fine while the total fte is at most 1
    )
    report = tr.validate(_reg(employment=emp, absences=None))
    assert _rules(report) == ["overlapping_spell"]
    assert list(report.problems["row"]) == [1]


def test_spell_starting_the_day_after_is_not_an_overlap():
    emp = _emp(
        employee_id=["a", "a", "c"],
        start_date=["2020-01-01", "2021-01-01", "2021-01-01"],
        end_date=["2020-12-31", None, None],
    )
    assert tr.validate(_reg(employment=emp, absences=None)).ok


def test_overlapping_absences():
    ab = _abs(
        employee_id=["b", "b"],
        start_date=["2020-05-04", "2020-05-10"],
        end_date=["2020-05-12", "2020-05-20"],
    )
    report = tr.validate(_reg(absences=ab))
    assert _rules(report) == ["overlapping_absence"]
    assert list(report.problems["row"]) == [1]


def test_absence_partly_inside_employment_is_kept():
    # spell a ends 2020-12-31; an absence from 2020-12-28 into January still overlaps it
    ab = _abs(start_date=["2020-12-28", "2020-05-04"], end_date=["2021-01-08", "2020-05-20"])
    assert tr.validate(_reg(absences=ab)).ok


def test_norwegian_dates_and_decimal_commas_parse():
    emp = _emp(start_date=["01.01.2020", "01.03.2020", "01.01.2021"], fte=["1", "0,5", "0,8"])
    reg = clean_register(_reg(employment=emp))
    assert reg.employment["fte"].tolist() == [1.0, 0.5, 0.8]
    assert reg.employment["start_date"].iloc[1] == pd.Timestamp("2020-03-01")
    assert str(reg.employment["start_date"].dtype) == "datetime64[ns]"


def test_raise_names_first_problems_and_total_and_carries_report():
    emp = _emp(fte=[1.0, 2.0, 3.0])
    with pytest.raises(
        tr.DataValidationError, match=r"2 problems in 1 table:\n.*row 1, column 'fte', value '2.0'"
    ) as err:
        clean_register(_reg(employment=emp, absences=None))
    assert isinstance(err.value, ValueError)
    assert len(err.value.report) == 2
    assert set(err.value.report.problems["value"]) == {"2.0", "3.0"}


def test_quarantine_returns_clean_rows_rejects_and_report():
    emp = _emp(fte=[1.0, 2.0, 0.8])
    reg, rejected, report = clean_register(_reg(employment=emp), errors="quarantine")
    assert reg.employment["employee_id"].tolist() == ["a", "c"]
    assert rejected["employment"]["row"].tolist() == [1]
    assert rejected["employment"]["rules"].tolist() == ["out_of_range"]
    # b's absence now refers to a rejected spell: reported, not silently dropped
    assert rejected["absences"]["rules"].tolist() == ["unknown_employee"]
    assert len(report) == 2


def test_errors_argument_is_checked():
    with pytest.raises(ValueError, match="errors='ignore' is not allowed"):
        clean_register(_reg(), errors="ignore")


def test_validate_rejects_non_register():
    with pytest.raises(TypeError, match="expects a turnover_risk.Register; got DataFrame"):
        tr.validate(_emp())


def test_missing_employment_table_is_reported():
    with pytest.raises(TypeError, match="Register needs an employment table"):
        tr.Register(employment=None)


GOOD_FTE = st.floats(min_value=0.05, max_value=1.0, allow_nan=False)
BAD_FTE = st.one_of(
    st.floats(min_value=1.01, max_value=5),
    st.just(0.0),
    st.floats(max_value=-0.01, min_value=-5),
    st.just("abc"),
)


@given(st.lists(st.tuples(st.booleans(), GOOD_FTE, BAD_FTE), min_size=1, max_size=40))
def test_quarantine_accounting_adds_up(rows):
    """Any mix of good and bad rows: rows read = rows kept + rows rejected, per table."""
    n = len(rows)
    fte = [g if ok else b for ok, g, b in rows]
    emp = pd.DataFrame(
        {
            "employee_id": [f"e{i}" for i in range(n)],
            "unit_id": ["u1"] * n,
            "start_date": ["2020-01-01"] * n,
            "end_date": [None] * n,
            "fte": pd.Series(fte, dtype=object),
        }
    )
    ab = pd.DataFrame(
        {
            "employee_id": [f"e{i}" for i in range(n)],
            "start_date": ["2020-02-03"] * n,
            "end_date": ["2020-02-04"] * n,
            "certification": ["self"] * n,
        }
    )
    res = clean_register(tr.Register(employment=emp, absences=ab), errors="quarantine")
    n_bad = sum(not ok for ok, _, _ in rows)
    for name in ("employment", "absences"):
        kept = len(getattr(res.register, name))
        rej = len(res.rejected[name])
        assert kept + rej == n
        assert rej == n_bad  # an absence of a rejected person is rejected with it
        c = res.report.counts.set_index("table").loc[name]
        assert (c["rows_read"], c["rows_kept"], c["rows_rejected"]) == (n, kept, rej)
    assert np.isin(
        res.rejected["employment"]["row"], [i for i, r in enumerate(rows) if not r[0]]
    ).all()


SPELL = st.tuples(
    st.sampled_from(["a", "b", "c"]), st.integers(0, 60), st.integers(0, 30), st.booleans()
)


@given(
    st.lists(SPELL, min_size=1, max_size=12),
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "z"]), st.integers(-5, 100)),
        min_size=1,
        max_size=12,
    ),
)
def test_covering_end_matches_brute_force(spells, queries):
    """The vectorised spell look-up equals a loop over every spell."""
    from turnover_risk.data._rules import _covering_end

    day0 = pd.Timestamp("2020-01-01")
    emp = pd.DataFrame(
        {
            "employee_id": pd.array([s[0] for s in spells], dtype="string"),
            "start_date": [day0 + pd.Timedelta(days=s[1]) for s in spells],
            "end_date": [pd.NaT if s[3] else day0 + pd.Timedelta(days=s[1] + s[2]) for s in spells],
        }
    )
    ids = pd.Series(pd.array([q[0] for q in queries], dtype="string"))
    days = pd.Series([day0 + pd.Timedelta(days=q[1]) for q in queries])
    got = _covering_end(emp, ids, days)
    for i, (pid, d) in enumerate(queries):
        ends = [
            pd.Timestamp("2262-04-01") if s[3] else day0 + pd.Timedelta(days=s[1] + s[2])
            for s in spells
            if s[0] == pid and s[1] <= d
        ]
        expected = max(ends) if ends else pd.NaT
        assert (pd.isna(got[i]) and pd.isna(expected)) or pd.Timestamp(got[i]) == expected
