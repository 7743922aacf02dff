"""Rates of a register split into parts by person (rates/_cells.py, _partitioned.py): the
parts' cell statistics, added in any order, finish to the single-process table."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import turnover_risk as tr
from turnover_risk.data import Register
from turnover_risk.datasets import make_register
from turnover_risk.rates import combine_cells, part_cells, part_dates, partitioned_rate


@pytest.fixture(scope="module")
def reg():
    return make_register(n_units=10, years=4, random_state=3)


def split_by_person(register: Register, labels: np.ndarray, absences: bool = False):
    """Parts of the register, part ``labels[i]`` holding the ``i``-th person's spells (and
    absences; those of persons without employment in part 0), rows shuffled in each part."""
    emp = register.employment
    ids = pd.Index(emp["employee_id"].unique())

    def part_of(table: pd.DataFrame) -> np.ndarray:
        at = ids.get_indexer(table["employee_id"])
        return np.where(at >= 0, labels[np.maximum(at, 0)], 0)

    out = []
    for j in range(int(labels.max()) + 1):
        tables = {"employment": emp[part_of(emp) == j].sample(frac=1.0, random_state=j)}
        if absences:
            ab = register.absences
            tables["absences"] = ab[part_of(ab) == j].sample(frac=1.0, random_state=j)
        out.append(Register(**tables, units=register.units))
    return out


def from_parts(parts, order, measure="turnover", **options):
    """``partitioned_rate`` with the parts' statistics added in ``order`` (left fold)."""

    def cells_of(request):
        cells = [part_cells(parts[j], request) for j in order]
        return functools.reduce(combine_cells, cells, None)

    def dates():
        got = [part_dates(p) for p in parts]
        return {k: np.concatenate([g[k] for g in got]) for k in got[0]}, {}

    return partitioned_rate(measure, cells_of, dates=dates, units=getattr(parts[0], "units", None),
                            **options)  # fmt: skip


OPTIONS = [
    {"by": "unit_id"},
    {"definition": "exit_share", "by": ["municipality", "service"], "margins": True},
    {"definition": "exit_share", "period": "quarter", "weight": "fte", "scope": "unit"},
    {"definition": "separation", "by": "service", "period": "month",
     "exclude_reasons": ("retirement",)},
    {"definition": "separation", "annual": "sum_of_months", "by": "municipality",
     "margins": True, "weight": "fte"},
    {"definition": "hire", "period": ["2020", "2021"], "scope": "municipality", "by": "role"},
    {"definition": "hire", "snapshot": "11-15", "by": "unit_id", "min_group_size": 12,
     "margins": True},
]  # fmt: skip


@pytest.mark.parametrize("options", OPTIONS, ids=range(len(OPTIONS)))
def test_parts_finish_to_the_pandas_table(reg, options, same_table):
    expected = tr.turnover_rate(reg, **options)
    labels = np.random.default_rng(0).integers(0, 4, reg.employment["employee_id"].nunique())
    parts = split_by_person(reg, labels)
    got = from_parts(parts, [2, 0, 3, 1], metadata=reg.metadata, **options)
    same_table(got, expected)


def test_suppression_pattern_is_the_pandas_one(reg, same_table):
    # small units and a high threshold: primary and linked (complementary) suppression
    options = {"by": ["municipality", "unit_id"], "margins": True, "min_group_size": 15,
               "definition": "separation"}  # fmt: skip
    expected = tr.turnover_rate(reg, **options)
    assert 0 < expected["suppressed"].sum() < len(expected)
    labels = np.arange(reg.employment["employee_id"].nunique()) % 3
    got = from_parts(split_by_person(reg, labels), [0, 1, 2], metadata=reg.metadata, **options)
    same_table(got, expected)


@settings(max_examples=12, deadline=None)
@given(
    n_parts=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    definition=st.sampled_from(["exit_share", "separation", "hire"]),
)
def test_any_split_by_person_in_any_order(reg, n_parts, seed, definition, same_table):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_parts, reg.employment["employee_id"].nunique())
    parts = split_by_person(reg, labels)
    options = {"definition": definition, "by": "unit_id", "weight": "fte", "margins": True}
    expected = tr.turnover_rate(reg, **options)
    got = from_parts(parts, list(rng.permutation(len(parts))), metadata=reg.metadata, **options)
    same_table(got, expected)


def test_window_read_from_the_parts_dates_warns_as_pandas(reg, same_table):
    # no metadata: the window comes from the data (this register's staff at the start are
    # left-truncated hires, so both paths infer the start and warn once)
    bare = Register(employment=reg.employment, units=reg.units)
    with pytest.warns(tr.DataQualityWarning, match="left-truncated"):
        expected = tr.turnover_rate(bare, by="service")
    labels = np.arange(reg.employment["employee_id"].nunique()) % 2
    with pytest.warns(tr.DataQualityWarning, match="left-truncated"):
        got = from_parts(split_by_person(bare, labels), [1, 0], by="service")
    assert got.attrs["observation_window"]["start_source"] == "inferred"
    same_table(got, expected)


def test_a_split_person_would_change_the_numbers(same_table):
    # the contract: parts never split a person. Person a's second job continues the first in
    # the same unit (no separation); with the two jobs in two parts, each part sees a
    # separation or a hire, and a counts twice
    emp = pd.DataFrame({
        "employee_id": ["a", "a", "b", "c", "d"], "unit_id": "u1", "fte": 1.0,
        "start_date": pd.to_datetime(["2020-01-01", "2020-07-01", *["2020-01-01"] * 3]),
        "end_date": pd.to_datetime(["2020-06-30", None, None, None, None])})  # fmt: skip
    options = {"definition": "separation", "scope": "unit", "start": "2020-01-01",
               "end": "2020-12-31", "min_group_size": 3}  # fmt: skip
    expected = tr.turnover_rate(emp, **options)
    assert expected[["numerator", "n_persons"]].values.tolist() == [[0.0, 4]]
    same_table(from_parts([emp.iloc[[0, 1, 2]], emp.iloc[[3, 4]]], [1, 0], **options),
                      expected)  # fmt: skip
    split = from_parts([emp.iloc[[0, 2]], emp.iloc[[1, 3, 4]]], [0, 1], **options)
    assert split[["numerator", "n_persons"]].values.tolist() == [[1.0, 5]]


def test_empty_parts_and_an_empty_register(reg, same_table):
    empty = Register(employment=reg.employment.iloc[:0], units=reg.units)
    parts = [empty, reg]
    assert part_cells(empty, {"measure": "turnover"}) is None
    same_table(
        from_parts(parts, [0, 1], metadata=reg.metadata, by="unit_id"),
        tr.turnover_rate(reg, by="unit_id"),
    )
    with pytest.warns(tr.DataQualityWarning, match="empty"):
        out = from_parts([empty], [0], by="unit_id")
    assert len(out) == 0


def test_bad_options_fail_before_any_part_is_read(reg):
    def cells_of(request):
        raise AssertionError("read a part")

    with pytest.raises(ValueError, match="definition"):
        partitioned_rate("turnover", cells_of, definition="nope")
    with pytest.raises(ValueError, match="measure"):
        partitioned_rate("absence", cells_of)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="divisor"):
            partitioned_rate("turnover", cells_of, definition="exit_share", divisor="churn")


SICK_OPTIONS = [
    {},
    {"by": "unit_id"},
    {"certification": "split", "by": ["municipality", "service"], "margins": True},
    {"by": "unit_id", "margins": True, "min_group_size": 8, "period": "quarter"},
    {"certification": "doctor", "by": "role", "long_spell_days": 8, "confidence": 0.9},
]


@pytest.mark.parametrize("options", SICK_OPTIONS, ids=range(len(SICK_OPTIONS)))
def test_sick_leave_parts_finish_to_the_pandas_table(reg, options, same_table):
    expected = tr.sick_leave_rate(reg, **options)
    labels = np.random.default_rng(1).integers(0, 3, reg.employment["employee_id"].nunique())
    parts = split_by_person(reg, labels, absences=True)
    got = from_parts(parts, [1, 2, 0], "sick_leave", metadata=reg.metadata, **options)
    same_table(got, expected)


def test_sick_leave_dominance_and_linked_suppression_as_pandas(reg, same_table):
    # primary (few persons, one person's days dominate) and linked suppression across the
    # organisation chain; the exact "top" bounds read each person's contributions
    options = {"by": ["municipality", "unit_id"], "margins": True, "certification": "split"}
    expected = tr.sick_leave_rate(reg, **options)
    assert 0 < expected["suppressed"].sum() < len(expected)
    labels = np.arange(reg.employment["employee_id"].nunique()) % 4
    got = from_parts(split_by_person(reg, labels, absences=True), [3, 1, 0, 2], "sick_leave",
                     metadata=reg.metadata, **options)  # fmt: skip
    same_table(got, expected)


def test_sick_leave_interval_uses_the_whole_registers_ratio(same_table):
    # persons a-d (one part) lose far more days than e-h (the other): each part's own ratio
    # is far from the whole one, so residuals against the parts' ratios would give a much
    # narrower interval than the pandas path's
    ids = list("abcdefgh")
    emp = pd.DataFrame({"employee_id": ids, "unit_id": "u1", "fte": 1.0,
                        "start_date": pd.Timestamp("2021-01-01"), "end_date": pd.NaT})  # fmt: skip
    starts = pd.to_datetime([f"2021-0{m}-01" for m in range(1, 9)])
    days = [20, 24, 18, 22, 2, 3, 1, 2]
    ab = pd.DataFrame({"employee_id": ids, "certification": "doctor", "start_date": starts,
                       "end_date": starts + pd.to_timedelta(np.array(days) - 1, "D")})  # fmt: skip
    reg = Register(employment=emp, absences=ab)
    options = {"start": "2021-01-01", "end": "2021-12-31", "min_group_size": 3}
    expected = tr.sick_leave_rate(reg, **options)
    assert not expected["suppressed"].any() and expected["ci_low"].notna().all()
    parts = [Register(employment=emp.iloc[:4], absences=ab.iloc[:4]),
             Register(employment=emp.iloc[4:], absences=ab.iloc[4:])]  # fmt: skip
    got = from_parts(parts, [1, 0], "sick_leave", **options)
    same_table(got, expected)


def test_overlapping_absences_are_counted_over_all_parts_and_warned_once(same_table):
    emp = pd.DataFrame({"employee_id": list("abcd"), "unit_id": "u1", "fte": 1.0,
                        "start_date": pd.Timestamp("2021-01-01"), "end_date": pd.NaT})  # fmt: skip
    starts = pd.to_datetime(["2021-02-01", "2021-02-03", "2021-03-01", "2021-03-02", "2021-05-01"])
    ab = pd.DataFrame({"employee_id": ["a", "a", "c", "c", "d"], "certification": "doctor",
                       "start_date": starts, "end_date": starts + pd.Timedelta(days=4)})  # fmt: skip
    reg = Register(employment=emp, absences=ab)
    options = {"start": "2021-01-01", "end": "2021-12-31", "min_group_size": 3}
    with pytest.warns(tr.DataQualityWarning, match="2 absence spells overlap") as seen:
        expected = tr.sick_leave_rate(reg, **options)
    parts = [Register(employment=emp.iloc[:2], absences=ab.iloc[:2]),
             Register(employment=emp.iloc[2:], absences=ab.iloc[2:])]  # fmt: skip
    with pytest.warns(tr.DataQualityWarning, match="2 absence spells overlap") as seen_parts:
        got = from_parts(parts, [0, 1], "sick_leave", **options)
    assert len(seen_parts) == len(seen)
    same_table(got, expected)


def test_a_dominance_tie_does_not_depend_on_summation_order():
    # one person with exactly half of a cell's days: the sum of the cell's days in another
    # order (other rows, other parts) is 68 or 67.99999999999999; the cell is not dominated
    # ("more than half") either way
    from turnover_risk.privacy import dominated

    t = pd.DataFrame({"numerator": [68.0, 67.99999999999998579, 68.0],
                      "n_persons_absent": [9, 9, 9], "_top_lost": [34.0, 34.0, 34.5]})  # fmt: skip
    assert dominated(t).tolist() == [False, False, True]
