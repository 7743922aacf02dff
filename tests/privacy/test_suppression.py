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


def _two_way(grid: np.ndarray) -> pd.DataFrame:
    """Cells of a 2-way table of person counts with row, column and grand totals."""
    R, C = grid.shape
    rows = [(f"r{i}", f"c{j}", int(grid[i, j])) for i in range(R) for j in range(C)]
    rows += [(f"r{i}", TOTAL_LABEL, int(grid[i].sum())) for i in range(R)]
    rows += [(TOTAL_LABEL, f"c{j}", int(grid[:, j].sum())) for j in range(C)]
    rows += [(TOTAL_LABEL, TOTAL_LABEL, int(grid.sum()))]
    t = pd.DataFrame(rows, columns=["a", "b", "n_persons"])
    t["numerator"] = t["n_persons"] * 1.0
    return t


# 4 x 4 table where hiding by single relations leaves a cell recoverable from several totals
GRID_4X4 = np.array([[7, 9, 9, 7], [2, 5, 10, 2], [11, 1, 8, 7], [10, 3, 3, 2]])


def test_derivable_cells_finds_a_cell_recovered_from_several_totals():
    t = _two_way(GRID_4X4)
    pos = {(a, b): i for i, (a, b) in enumerate(zip(t["a"], t["b"], strict=True))}
    # every row and column has 0 or >= 2 hidden entries, so no single subtraction helps:
    hidden = [("r0", "c0"), ("r0", "c3"), ("r1", "c0"), ("r1", "c3"), ("r2", "c1")]
    hidden += [("r2", "c2"), ("r3", "c1"), ("r3", "c2"), ("r3", "c3")]
    mask = np.zeros(len(t), dtype=bool)
    mask[[pos[h] for h in hidden]] = True
    # but on paper: col c0 gives x00 + x10 = 30 - 11 - 10 = 9; rows r0 and r1 give
    # x00 + x03 = 32 - 18 = 14 and x10 + x13 = 19 - 15 = 4, so x03 + x13 = 14 + 4 - 9 = 9;
    # col c3: x33 = 18 - 7 (r2) - 9 = 2. Only (r3, c3) is pinned down.
    assert derivable_cells(t, mask, group_cols=["a", "b"]).tolist() == [pos[("r3", "c3")]]
    out = suppress_small_groups(t, margins=True, group_cols=["a", "b"])
    hidden_after = out["suppressed"].to_numpy()
    assert hidden_after[mask].all()
    assert hidden_after.sum() == mask.sum() + 1  # one more cell closes the gap
    assert derivable_cells(t, hidden_after, group_cols=["a", "b"]).tolist() == []


def test_derivable_cells_single_subtraction_and_errors():
    t = pd.DataFrame({"unit": ["a", "b", "c", TOTAL_LABEL], "n_persons": [2, 8, 9, 19]})
    assert derivable_cells(t, np.array([1, 0, 0, 0], bool), group_cols=["unit"]).tolist() == [0]
    assert derivable_cells(t, np.array([1, 1, 0, 0], bool), group_cols=["unit"]).tolist() == []
    # a hidden total with all members shown is derivable too
    assert derivable_cells(t, np.array([0, 0, 0, 1], bool), group_cols=["unit"]).tolist() == [3]
    with pytest.raises(ValueError, match="suppressed has 2 entries"):
        derivable_cells(t, np.array([True, False]), group_cols=["unit"])


def _exact_audit(t: pd.DataFrame, hidden: np.ndarray) -> list[int]:
    """Independent rank test: hidden j is determined iff adding e_j keeps the rank."""
    H = np.flatnonzero(hidden)
    col = {h: k for k, h in enumerate(H)}
    A = []
    for rows in margin_constraints(t, group_cols=["a", "b"]):
        v = np.zeros(len(H))
        for r in rows:
            if hidden[r]:
                v[col[r]] = 1.0 if r == rows[0] else -1.0
        if v.any():
            A.append(v)
    if not A:
        return []
    A = np.array(A)
    rk = np.linalg.matrix_rank(A)
    eye = np.eye(len(H))
    return [int(h) for k, h in enumerate(H) if np.linalg.matrix_rank(np.vstack([A, eye[k]])) == rk]


@settings(max_examples=60, deadline=None)
@given(
    data=st.integers(2, 5).flatmap(
        lambda R: st.integers(2, 5).flatmap(
            lambda C: st.lists(st.integers(0, 12), min_size=R * C, max_size=R * C).map(
                lambda v: np.array(v).reshape(R, C)
            )
        )
    )
)
def test_no_suppressed_cell_is_derivable(data):
    """Random 2-5 x 2-5 tables with all margins: after suppression no hidden cell can be
    recovered by any combination of the totals (exact audit and an independent rank test)."""
    t = _two_way(data)
    out = suppress_small_groups(t, margins=True, group_cols=["a", "b"])
    hidden = out["suppressed"].to_numpy()
    assert (hidden >= (t["n_persons"] < 5)).all()  # primary suppression kept
    assert derivable_cells(t, hidden, group_cols=["a", "b"]).tolist() == []
    assert _exact_audit(t, hidden) == []
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
