"""The panel context split by ranges of employees gives exactly the panel of one process.

The unit-level features sum over the members of a unit, who sit in different ranges (and a
person who moves between units counts in both), and the event indexes of a range hold only
its employees: any split must still give the same bits as ``build_panel``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk import panel as tp
from turnover_risk.panel._time import segmented_cumsum


def _moving_register(seed: int = 3) -> tr.Register:
    """A simulated register in which every third person moves to another unit mid-spell
    (touching spells: a transfer), and every fifth of those comes back after a gap."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = tr.make_register(n_units=6, years=3, random_state=seed)
    emp = reg.employment.reset_index(drop=True)
    units = sorted(emp["unit_id"].unique())
    rng = np.random.default_rng(seed)
    rows = []
    for i, row in emp.iterrows():
        end = row["end_date"] if pd.notna(row["end_date"]) else pd.Timestamp("2026-01-01")
        span = (end - row["start_date"]).days
        if i % 3 or span < 400:
            rows.append(row)
            continue
        cut = row["start_date"] + pd.Timedelta(days=int(rng.integers(100, span - 100)))
        other = units[(units.index(row["unit_id"]) + 1 + i % (len(units) - 1)) % len(units)]
        first = row.copy()
        first["end_date"] = cut - pd.Timedelta(days=1)
        first["exit_reason"] = pd.NA
        second = row.copy()
        second["unit_id"] = other
        second["start_date"] = cut + pd.Timedelta(days=40 if i % 5 == 0 else 0)
        rows += [first, second]
    moved = pd.DataFrame(rows).reset_index(drop=True).astype(emp.dtypes.to_dict())
    tables = {name: table for name, table in reg}
    tables["employment"] = moved
    return tr.Register(**tables, metadata=reg.metadata)


def _build_split(reg: tr.Register, bounds: np.ndarray, **options) -> pd.DataFrame:
    base = tp.prepare_base(reg, **options)
    pieces = tp.split_person_rows(base, tp.person_tables(reg), bounds)
    parts = [
        tp.build_person_part(base, tables, lo, hi, codes)
        for (tables, codes), lo, hi in zip(pieces, bounds[:-1], bounds[1:], strict=True)
    ]
    unit = tp.finish_context(base, parts[::-1])  # any order: the parts know their range
    frames = [
        tp.build_partition(tp.partition_context(base, p, unit), base.employee_ids[p.lo : p.hi])
        for p in parts
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def moving():
    reg = _moving_register()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = tr.build_panel(reg, min_group_size=3)
    return reg, whole


def test_the_register_has_movers_in_units_shared_across_ranges(moving):
    reg, whole = moving
    per_person = reg.employment.groupby("employee_id")["unit_id"].nunique()
    assert (per_person > 1).sum() >= 5
    assert whole["colleagues_left_12m"].gt(0).any()


@pytest.mark.parametrize("how", ["one range", "one employee each", "uneven", "empty ranges"])
def test_any_split_of_the_employees_gives_the_same_panel(moving, how):
    reg, whole = moving
    n = reg.employment["employee_id"].nunique()
    bounds = {
        "one range": np.array([0, n]),
        "one employee each": np.arange(n + 1),
        "uneven": np.array([0, 1, 2, 7, n // 2, n - 1, n]),
        "empty ranges": np.array([0, 0, 5, 5, n, n]),
    }[how]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _build_split(reg, bounds, min_group_size=3)
    pd.testing.assert_frame_equal(got, whole.reset_index(drop=True), check_exact=True)
    assert tr.panel_spec(got) == tr.panel_spec(whole)


def test_a_range_indexes_only_its_own_employees(moving):
    reg, _ = moving
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = tp.prepare_base(reg)
    n = len(base.employee_ids)
    pieces = tp.split_person_rows(base, tp.person_tables(reg), np.array([0, 10, n]))
    for (tables, codes), lo, hi in zip(pieces, (0, 10), (10, n), strict=True):
        for name, df in tables.items():
            assert len(df) == len(codes[name])
            assert ((codes[name] >= lo) & (codes[name] < hi)).all()
            assert (base.employee_ids[codes[name]] == df["employee_id"].to_numpy()).all()
    # every row of a known employee lands in exactly one range
    caseload = reg.caseload["employee_id"].isin(base.employee_ids).sum()
    assert sum(len(t["caseload"]) for t, _ in pieces) == caseload


def test_segmented_cumsum_restarts_per_employee_and_matches_a_loop():
    rng = np.random.default_rng(0)
    codes = np.sort(rng.integers(0, 20, size=300))
    values = rng.random(300) * 3.7
    got = segmented_cumsum(values, codes)
    expected = np.empty_like(values)
    for c in np.unique(codes):
        idx = np.flatnonzero(codes == c)
        acc = 0.0
        for i in idx:  # left to right from the employee's first record
            acc += values[i]
            expected[i] = acc
    assert np.array_equal(got, expected)
    # the sums of one employee do not depend on the employees before it
    tail = codes >= 10
    assert np.array_equal(segmented_cumsum(values[tail], codes[tail]), got[tail])
