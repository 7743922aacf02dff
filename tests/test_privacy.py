"""Tests of turnover_risk.privacy: minimum group size, complementary suppression, pseudonyms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnover_risk.privacy import (
    TOTAL_LABEL,
    check_min_group_size,
    complementary_suppression,
    derivable_cells,
    margin_constraints,
    pseudonymise,
    suppress_small_groups,
)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (2, ValueError, "below the library's floor of 3"),
        (4.0, TypeError, "must be an integer"),
        (True, TypeError, "must be an integer"),
    ],
)
def test_check_min_group_size_refuses(value, error, match):
    with pytest.raises(error, match=match):
        check_min_group_size(value)


def test_primary_suppression_blanks_values_keeps_counts():
    t = pd.DataFrame({"unit": ["a", "b"], "n_persons": [4, 5], "numerator": [1, 2]})
    out = suppress_small_groups(t)
    assert out["suppressed"].tolist() == [True, False]
    assert pd.isna(out.loc[0, "numerator"]) and out.loc[1, "numerator"] == 2
    assert out["n_persons"].tolist() == [4, 5]
    assert t["numerator"].tolist() == [1, 2]  # input untouched


def test_margins_one_way_hides_a_second_cell():
    t = pd.DataFrame(
        {
            "period": ["2021"] * 4 + ["2022"] * 4,
            "unit": ["a", "b", "c", TOTAL_LABEL] * 2,
            "n_persons": [2, 8, 9, 19, 6, 8, 9, 23],
            "numerator": [1.0, 2.0, 3.0, 6.0, 1.0, 2.0, 3.0, 6.0],
        }
    )
    out = suppress_small_groups(t, margins=True, group_cols=["unit"])
    # 2021: a is small, b (the smallest other cell) goes too; 2022: nothing is small
    assert out["suppressed"].tolist() == [True, True, False, False] + [False] * 4
    assert out["numerator"].isna().sum() == 2


def test_margins_two_way_table():
    # 2 x 2 table with row, column and grand totals; cell (x, p) is small
    rows = []
    cells = {("x", "p"): 2, ("x", "q"): 10, ("y", "p"): 12, ("y", "q"): 11}
    for (a, b), n in cells.items():
        rows.append((a, b, n))
    for a in ("x", "y"):
        rows.append((a, TOTAL_LABEL, sum(n for (aa, _), n in cells.items() if aa == a)))
    for b in ("p", "q"):
        rows.append((TOTAL_LABEL, b, sum(n for (_, bb), n in cells.items() if bb == b)))
    rows.append((TOTAL_LABEL, TOTAL_LABEL, sum(cells.values())))
    t = pd.DataFrame(rows, columns=["a", "b", "n_persons"])
    mask = complementary_suppression(t, t["n_persons"].to_numpy() < 5, group_cols=["a", "b"])
    assert len(derivable_cells(t, mask, group_cols=["a", "b"])) == 0
    # all four inner cells must be hidden: hiding one cell of a 2x2 forces its row, column
    # and then the opposite corner
    assert mask[:4].all()
    assert not mask[4:].any()


def test_margin_constraints_and_errors():
    t = pd.DataFrame({"unit": ["a", "b", TOTAL_LABEL], "n_persons": [1, 9, 10]})
    assert [c.tolist() for c in margin_constraints(t, group_cols=["unit"])] == [[2, 0, 1]]
    with pytest.raises(ValueError, match="group_cols"):
        suppress_small_groups(t, margins=True)
    with pytest.raises(ValueError, match="suppressed has 2 entries"):
        complementary_suppression(t, np.array([True, False]), group_cols=["unit"])


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.lists(st.integers(0, 15), min_size=1, max_size=5), min_size=1, max_size=4))
def test_no_suppressed_cell_is_derivable(sizes):
    """Random 2-way tables with all margins: after suppression no relation reveals a cell."""
    n_cols = max(len(r) for r in sizes)
    grid = np.array([r + [3] * (n_cols - len(r)) for r in sizes])
    rows = [
        (f"r{i}", f"c{j}", int(grid[i, j])) for i in range(grid.shape[0]) for j in range(n_cols)
    ]
    rows += [(f"r{i}", TOTAL_LABEL, int(grid[i].sum())) for i in range(grid.shape[0])]
    rows += [(TOTAL_LABEL, f"c{j}", int(grid[:, j].sum())) for j in range(n_cols)]
    rows += [(TOTAL_LABEL, TOTAL_LABEL, int(grid.sum()))]
    t = pd.DataFrame(rows, columns=["a", "b", "n_persons"])
    t["numerator"] = t["n_persons"] * 1.0
    out = suppress_small_groups(t, margins=True, group_cols=["a", "b"])
    hidden = out["suppressed"].to_numpy()
    assert (hidden >= (t["n_persons"] < 5)).all()  # primary suppression kept
    # independent audit: in every row/column of the full table (cells + margin), never
    # exactly one hidden entry
    full = out.set_index(["a", "b"])["suppressed"]
    for a in [*{r[0] for r in rows}]:
        assert full.xs(a, level="a").sum() != 1
    for b in [*{r[1] for r in rows}]:
        assert full.xs(b, level="b").sum() != 1
    assert out.loc[hidden, "numerator"].isna().all()


def test_pseudonymise_is_keyed(monkeypatch):
    df = pd.DataFrame({"employee_id": ["a", "b", "a"]})
    one = pseudonymise(df, "employee_id", key="k1")
    two = pseudonymise(df, "employee_id", key="k2")
    assert one["employee_id"].iloc[0] == one["employee_id"].iloc[2]
    assert one["employee_id"].iloc[0] != two["employee_id"].iloc[0]
    monkeypatch.delenv("TURNOVER_RISK_KEY", raising=False)
    with pytest.raises(ValueError, match="needs a secret key"):
        pseudonymise(df, "employee_id")
