"""Tests of the linked suppression's building blocks: merged levels, equal cells hidden
together, empty cells, and coarse grains cleared by bounds (turnover_risk.privacy._linked)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.privacy import Hierarchy, _linked, protect_groups
from turnover_risk.privacy._bounds import aggregated_columns, bound_cells

UNITS = pd.DataFrame(
    {
        "unit_id": ["a", "b", "c", "d"],
        "municipality": ["m", "m", "n", "o"],
        "service": ["s", "s", "s", "t"],
    }
)


def test_levels_that_add_nothing_are_merged():
    h = Hierarchy.from_units(UNITS)
    assert h.chain == ("unit_id", "municipality", "service") and h.aliases == {}
    one_service = Hierarchy.from_units(UNITS.assign(service="s"))
    assert one_service.chain == ("unit_id", "municipality")
    assert one_service.aliases == {"service": None}
    # each municipality its own service: service is the municipality
    own = Hierarchy.from_units(UNITS.assign(service=["S-m", "S-m", "S-n", "S-o"]))
    assert own.chain == ("unit_id", "municipality") and own.aliases == {"service": "municipality"}
    assert own.alias("service") == "municipality" and own.alias("unit_id") == "unit_id"
    # municipalities one-to-one with units: the municipality is the unit
    solo = Hierarchy.from_units(UNITS.assign(municipality=["w", "x", "y", "z"]))
    assert solo.aliases["municipality"] == "unit_id"


def test_bound_cells_by_hand():
    fine = pd.DataFrame(
        {
            "_o_unit_id": ["a", "b", "c"],
            "_o_municipality": ["m", "m", "n"],
            "n_persons": [4, 6, 9],
            "_top_lost": [3.0, 2.0, 1.0],
            "numerator": [5.0, 4.0, 2.0],
        }
    )
    spec = {"n_persons": "max", "_top_lost": "sum", "numerator": "sum"}
    out = bound_cells(fine, ["_o_unit_id", "_o_municipality"], ["_o_unit_id"], spec)
    out = out.set_index("_o_municipality")
    assert out.loc["m", "n_persons"] == 6  # at least the largest unit's persons
    assert out.loc["m", "_top_lost"] == 5.0  # at most the units' largest together
    assert out.loc["m", "numerator"] == 9.0 and out.loc["n", "numerator"] == 2.0


def test_aggregated_columns_of_the_lattice():
    sup = _linked.LinkedSuppressor(
        lambda by, kind: pd.DataFrame(), Hierarchy.from_units(UNITS),
        by=["unit_id", "gender"], kind="month", primary=lambda t: np.zeros(len(t), bool),
    )  # fmt: skip
    chain = sup.hierarchy.chain
    # dims: org (unit, municipality, service, all), gender (value, total), time (m, q, y)
    assert aggregated_columns(sup.dims, (0, 0, 0), (1, 0, 2), chain) == [
        "_o_unit_id", "_month", "_quarter"
    ]  # fmt: skip
    assert aggregated_columns(sup.dims, (1, 0, 1), (3, 1, 1), chain) == [
        "_o_municipality", "_o_service", "_c_gender"
    ]  # fmt: skip
    assert aggregated_columns(sup.dims, (1, 0, 1), (0, 0, 1), chain) is None  # finer


def test_a_unit_that_is_its_municipality_is_hidden_with_it():
    """Municipality m (units a: 1 person, b: 2) is too small; its partner in the total is
    municipality n, whose only unit c *is* n. Hiding n and showing c would give n, and with
    the total, m: so c is hidden too, in the unit table and the municipality table alike."""
    rows = pd.DataFrame(
        {
            "employee_id": [f"E{i}" for i in range(15)],
            "unit_id": ["a"] + ["b"] * 2 + ["c"] * 12,
            "municipality": ["m"] * 3 + ["n"] * 12,
        }
    )
    by_unit = rows.groupby("unit_id", as_index=False).agg(n_persons=("employee_id", "nunique"))
    by_mun = rows.groupby("municipality", as_index=False).agg(n_persons=("employee_id", "nunique"))
    hidden_units = protect_groups(by_unit, by=["unit_id"], rows=rows, min_group_size=5)
    hidden_muns = protect_groups(by_mun, by=["municipality"], rows=rows, min_group_size=5)
    assert hidden_muns.tolist() == [True, True]
    assert hidden_units.tolist() == [True, True, True]


def test_a_cell_without_persons_is_no_partner():
    """Unit u has only women (its row for gender "x" is all zeros). v's 2 women are hidden,
    and the women's total needs a second hidden unit: u's women are the smallest, but they
    *are* u's total, which is shown. Hiding them (with the zero row as their own partner)
    would give them away as u's total minus 0; the layer hides w's women instead."""
    base = pd.DataFrame(
        {
            "unit_id": ["u", "u", "v", "v", "w", "w"],
            "gender": ["f", "x"] * 3,
            "n_persons": [6, 0, 2, 10, 20, 10],
        }
    )

    def compute(by, kind):
        if not by:
            return pd.DataFrame({"n_persons": [base["n_persons"].sum()]})
        return base.groupby(by, as_index=False)["n_persons"].sum()

    sup = _linked.LinkedSuppressor(
        compute, Hierarchy.from_units(None), by=["unit_id", "gender"], kind=None,
        primary=lambda t: t["n_persons"].to_numpy() < 5,
    )  # fmt: skip
    table = pd.concat(
        [
            base[["unit_id", "gender"]],
            pd.DataFrame({"unit_id": ["u", "v", "w"], "gender": "All"}),
            pd.DataFrame({"unit_id": "All", "gender": ["f", "x", "All"]}),
        ],
        ignore_index=True,
    )
    cells = zip(table["unit_id"], table["gender"], strict=True)
    hidden = dict(zip(cells, sup.apply(table, total_label="All"), strict=True))
    assert hidden[("v", "f")] and hidden[("v", "x")]
    assert hidden[("u", "f")] == hidden[("u", "All")]  # one cell: hidden in both or neither
    assert not hidden[("u", "All")] and hidden[("w", "f")]


@pytest.mark.parametrize(
    ("by", "period"),
    [(["unit_id"], "year"), (["unit_id", "gender"], "quarter"), (["municipality"], "month")],
)
def test_bounds_only_skip_work(monkeypatch, by, period):
    """Grains cleared by bounds are those an exact pass would clear: the same cells are hidden
    with and without the bounds."""
    reg = tr.load_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = tr.sick_leave_rate(reg, by=by, period=period, margins=True)
        monkeypatch.setattr(_linked, "aggregated_columns", lambda *a, **k: None)
        exact = tr.sick_leave_rate(reg, by=by, period=period, margins=True)
    assert fast["suppressed"].any()
    pd.testing.assert_frame_equal(fast, exact)


def test_exact_largest_contribution_by_hand():
    """Given each person's part of each fine cell, a coarse cell's largest contribution is the
    largest person's *sum* over its children, not the sum of the children's largest."""
    fine = pd.DataFrame(
        {
            "_o_unit_id": ["a", "b", "c"],
            "_o_municipality": ["m", "m", "n"],
            "numerator": [6.0, 4.0, 2.0],
            "_top_lost": [4.0, 3.0, 2.0],
        }
    )
    # person 0: 2 days in a and 3 in b; person 1: 4 in a; person 2: 1 in b; person 3: 2 in c
    cell = np.array([0, 1, 0, 1, 2])
    who = np.array([0, 0, 1, 2, 3])
    amount = np.array([2.0, 3.0, 4.0, 1.0, 2.0])
    keys, agg = ["_o_unit_id", "_o_municipality"], ["_o_unit_id"]
    spec = {"numerator": "sum", "_top_lost": "top"}
    loose = bound_cells(fine, keys, agg, spec).set_index("_o_municipality")
    exact = bound_cells(fine, keys, agg, spec, (cell, who, amount)).set_index("_o_municipality")
    assert loose.loc["m", "_top_lost"] == 7.0  # 4 + 3
    assert exact.loc["m", "_top_lost"] == 5.0  # person 0: 2 + 3
    assert exact.loc["n", "_top_lost"] == 2.0
    # with the primary rule, only the cells it flags on the loose bounds are made exact
    flagged = bound_cells(fine, keys, agg, spec, (cell, who, amount),
                          lambda t: (t["_o_municipality"] == "n").to_numpy())  # fmt: skip
    flagged = flagged.set_index("_o_municipality")
    assert flagged.loc["m", "_top_lost"] == 7.0 and flagged.loc["n", "_top_lost"] == 2.0


@pytest.mark.parametrize("period", ["year", "quarter"])
def test_the_kernels_contributions_give_the_coarse_grains_largest(period):
    """The sick-leave kernel's per-person contributions, summed over the units of each
    municipality, give exactly the largest contribution the kernel computes by municipality."""
    from turnover_risk.rates._sick_leave_table import sick_leave_table

    reg = tr.load_sample()
    args = {"kind": period, "wanted": None, "certification": "all", "start": None, "end": None,
            "long_spell_days": 16, "min_group_size": 5, "margins": False, "confidence": 0.95,
            "raw": True}  # fmt: skip
    holder: list = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        units = sick_leave_table(reg, by=["unit_id"], contributions=holder, **args)
        munis = sick_leave_table(reg, by=["municipality"], **args)
    (get,) = holder
    row, who, amount = get()
    assert len(row) and row.max() < len(units)
    parent = reg.units.set_index("unit_id")["municipality"]
    fine = units.assign(_o_unit_id=units["unit_id"].astype(str),
                        _o_municipality=parent.reindex(units["unit_id"]).to_numpy(),
                        _p=units["period"].astype(str))  # fmt: skip
    keys = ["_o_unit_id", "_o_municipality", "_p"]
    out = bound_cells(fine, keys, ["_o_unit_id"], {"_top_lost": "top"}, (row, who, amount))
    got = out.set_index(["_o_municipality", "_p"])["_top_lost"]
    want = munis.set_index([munis["municipality"].astype(str), munis["period"].astype(str)])
    want = want["_top_lost"].reindex(got.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)
    # the conservative bound (the sum of the units' largest) is looser than the exact one
    loose = bound_cells(fine, keys, ["_o_unit_id"], {"_top_lost": "sum"})
    assert (loose["_top_lost"].to_numpy() > got.to_numpy() + 1e-9).any()
