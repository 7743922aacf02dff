"""Tests of group_drivers: exact and sampled group means of attributions, standard errors, ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnover_risk.groups import _group_drivers as drivers_module
from turnover_risk.groups._group_drivers import (
    AUTO_MIN_ROWS,
    AUTO_ONE_IN,
    auto_sample_sizes,
    group_drivers,
)
from turnover_risk.models import Explanation, TurnoverRiskModel


@pytest.fixture(scope="module")
def gbm(make_xy):
    X, y = make_xy()
    return TurnoverRiskModel(kind="gbm", random_state=0, max_iter=40).fit(X, y), X


def grouped(make_xy, n=1200, seed=0, missing=False):
    X, y = make_xy(n=n, seed=seed, missing=missing)
    rng = np.random.default_rng(seed + 1)
    X["unit"] = rng.choice(["u1", "u2", "u3"], n, p=[0.5, 0.3, 0.2])
    X.loc[X["unit"] == "u3", "caseload"] += 8  # unit 3 carries heavy caseloads
    m = TurnoverRiskModel().fit(X.drop(columns="unit"), y)
    return m, X


def test_group_drivers_exact_when_every_row_is_explained(make_xy):
    m, X = grouped(make_xy)
    d = group_drivers(m, X.drop(columns="unit"), X["unit"], n_per_group=None)
    vals = m.explain(X.drop(columns="unit")).values
    by_hand = vals.groupby(X["unit"].to_numpy()).mean()
    pop = vals.mean()  # size-weighted mean of group means = the plain mean of all rows
    for _, r in d.iterrows():
        assert r["group_mean_shap"] == pytest.approx(by_hand.loc[r["unit"], r["feature"]])
        assert r["population_mean_shap"] == pytest.approx(pop[r["feature"]])
        assert r["difference"] == pytest.approx(r["group_mean_shap"] - r["population_mean_shap"])
    assert (d["se"] == 0).all()
    assert d.groupby("unit")["n_rows"].first().to_dict() == X["unit"].value_counts().to_dict()
    top = d.groupby("unit").head(1).set_index("unit")
    assert top.loc["u3", "feature"] == "caseload" and top.loc["u3", "difference"] > 0
    assert (d.groupby("unit")["difference"].apply(lambda s: s.abs().is_monotonic_decreasing)).all()


@pytest.mark.parametrize("missing", [False, True])
def test_group_drivers_sample_size_and_standard_error(make_xy, missing):
    m, X = grouped(make_xy, missing=missing)
    d = group_drivers(m, X, "unit", n_per_group=100, random_state=0)
    sizes = X["unit"].value_counts()
    first = d.groupby("unit").first()
    assert (first["n_explained"] == np.minimum(sizes, 100).loc[first.index]).all()
    exact = group_drivers(m, X, "unit", n_per_group=None).set_index(["unit", "feature"])
    est = d.set_index(["unit", "feature"])
    # logistic attributions are linear in each feature's value and missing-value indicator
    # (one-hot: a mean per category): the regression estimator is exact from any sample that
    # has missing and non-missing values
    np.testing.assert_allclose(est["difference"], exact["difference"], atol=1e-9)
    assert (est["se"] < 1e-8).all()
    again = group_drivers(m, X, "unit", n_per_group=100, random_state=0)
    pd.testing.assert_frame_equal(d, again)


def test_group_drivers_gbm_sample_is_close_to_exact(gbm):
    m, X = gbm
    X = X.assign(unit=np.random.default_rng(4).choice(["u1", "u2"], len(X)))
    d = group_drivers(m, X, "unit", n_per_group=150, random_state=0)
    exact = group_drivers(m, X, "unit", n_per_group=None).set_index(["unit", "feature"])
    est = d.set_index(["unit", "feature"]).loc[exact.index]
    z = (est["difference"] - exact["difference"]) / est["se"]
    assert (est["se"] > 0).all() and (exact["se"] == 0).all()
    assert (z.abs() < 4).all()


def test_group_drivers_gbm_step_function_controls_tighten_the_estimate(make_xy, monkeypatch):
    # Stumps (max_depth=1) make each feature's TreeSHAP value a step function of its own value;
    # the per-bin residual means of the control variates capture most of it, so the standard
    # error drops well below that of the linear controls alone, and the estimate stays honest.

    X, y = make_xy(n=3000, seed=5)
    m = TurnoverRiskModel(kind="gbm", random_state=0, max_iter=40, max_depth=1).fit(X, y)
    X = X.assign(unit=np.random.default_rng(2).choice(["u1", "u2", "u3"], len(X)))
    exact = group_drivers(m, X, "unit", n_per_group=None).set_index(["unit", "feature"])
    binned = group_drivers(m, X, "unit", n_per_group=300, random_state=1)
    binned = binned.set_index(["unit", "feature"]).loc[exact.index]
    monkeypatch.setattr(drivers_module, "MAX_CONTROL_BINS", 1)  # linear controls only
    linear = group_drivers(m, X, "unit", n_per_group=300, random_state=1)
    linear = linear.set_index(["unit", "feature"]).loc[exact.index]
    numeric = exact.index.get_level_values("feature") != "role"
    assert (binned["se"][numeric] < 0.5 * linear["se"][numeric]).all()
    z = (binned["difference"] - exact["difference"]) / binned["se"]
    assert (z.abs() < 4).all()


def test_group_drivers_standard_error_by_hand(groups_of_any_size):
    # Two groups of 4 rows, 2 explained each: weights w = (1/2, 1/2), FPC = 1 - 2/4 = 1/2,
    # V_g = FPC * s_g^2 / 2, diff_a = m_a - (m_a + m_b) / 2 and
    # Var(diff_a) = (1 - 1/2)^2 V_a + (1/2)^2 V_b.
    X = pd.DataFrame({"v": [1.0, 3.0, 6.0, 7.0, 10.0, 14.0, 20.0, 31.0], "g": list("aaaabbbb")})
    rec = Recorder()
    d = group_drivers(rec, X, "g", n_per_group=2, random_state=3).set_index("g")
    sa = rec.seen.loc[rec.seen["g"] == "a", "v"].to_numpy()
    sb = rec.seen.loc[rec.seen["g"] == "b", "v"].to_numpy()
    assert len(sa) == len(sb) == 2
    va, vb = 0.5 * np.var(sa, ddof=1) / 2, 0.5 * np.var(sb, ddof=1) / 2
    assert d.loc["a", "group_mean_shap"] == pytest.approx(sa.mean())
    assert d.loc["a", "population_mean_shap"] == pytest.approx((sa.mean() + sb.mean()) / 2)
    assert d.loc["a", "difference"] == pytest.approx((sa.mean() - sb.mean()) / 2)
    assert d.loc["a", "se"] == pytest.approx(np.sqrt(0.25 * va + 0.25 * vb))
    assert d.loc["b", "se"] == pytest.approx(np.sqrt(0.25 * va + 0.25 * vb))
    assert (d["n_rows"] == 4).all() and (d["n_explained"] == 2).all()


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"groups": "nope"}, KeyError, r"column\(s\) \['nope'\] are not in X"),
        ({"groups": "unit", "n_per_group": 1}, ValueError, "n_per_group=1 is too small"),
        (
            {"groups": "unit", "n_per_group": 2.5},
            TypeError,
            "n_per_group must be .auto., a positive",
        ),
        (
            {"groups": "unit", "n_per_group": True},
            TypeError,
            "n_per_group must be .auto., a positive",
        ),
        ({"groups": "unit", "n_per_group": "fast"}, ValueError, "n_per_group='fast' is not under"),
        ({"groups": pd.Series(["a"])}, ValueError, "groups has 1 values but X has"),
        ({"groups": 3}, TypeError, "groups must be a column name"),
    ],
)
def test_group_drivers_bad_arguments(make_xy, kwargs, err, match):
    m, X = grouped(make_xy, n=200)
    with pytest.raises(err, match=match):
        group_drivers(m, X, **kwargs)


def test_group_drivers_refuses_missing_group_labels(make_xy):
    m, X = grouped(make_xy, n=200)
    X.loc[X.index[0], "unit"] = None
    with pytest.raises(ValueError, match="have missing values"):
        group_drivers(m, X, "unit")


class Recorder:
    """A 'model' whose attributions are the named input columns themselves (no controls)."""

    def __init__(self, columns=("v",)):
        self.columns = list(columns)

    def explain(self, X):
        self.seen = X.copy()
        vals = X[self.columns].astype(float)
        return Explanation(
            values=vals, base_value=0.0, output=vals.sum(axis=1).to_numpy(), data=vals
        )


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (1, 1),  # smaller than the floor: the whole group
        (29, 29),
        (30, 30),
        (100, 30),  # ceil(100 / 12) = 9 < 30: the floor
        (360, 30),  # 360 / 12 = 30 exactly
        (361, 31),  # ceil(361 / 12) = 31
        (372, 31),  # 372 / 12 = 31 exactly
        (457, 39),  # a median unit of the benchmark: ceil(38.08)
        (1552, 130),  # a median municipality: ceil(129.33)
    ],
)
def test_auto_sample_sizes_by_hand(size, expected):
    assert AUTO_ONE_IN == 12 and AUTO_MIN_ROWS == 30  # the numbers above assume these
    assert auto_sample_sizes([size]).tolist() == [expected]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 100_000), min_size=1, max_size=20))
def test_auto_sample_sizes_properties(sizes):
    n = auto_sample_sizes(sizes)
    N = np.asarray(sizes)
    assert (n <= N).all() and (n >= np.minimum(N, AUTO_MIN_ROWS)).all()
    above = n > AUTO_MIN_ROWS  # where the share decides: the smallest n with 12 n >= N
    assert (n[above] * AUTO_ONE_IN >= N[above]).all()
    assert ((n[above] - 1) * AUTO_ONE_IN < N[above]).all()


def test_group_drivers_auto_is_the_default_and_explains_the_hand_computed_rows():
    # groups of 10, 30, 100, 361 and 400 rows -> 10, 30, 30, 31 and 34 explained rows
    sizes = {"a": 10, "b": 30, "c": 100, "d": 361, "e": 400}
    X = pd.DataFrame({"v": np.arange(sum(sizes.values()), dtype=float)})
    X["g"] = np.repeat(list(sizes), list(sizes.values()))
    rec = Recorder()
    d = group_drivers(rec, X, "g", random_state=0)
    first = d.set_index("g")
    assert first["n_explained"].to_dict() == {"a": 10, "b": 30, "c": 30, "d": 31, "e": 34}
    assert first["n_rows"].to_dict() == sizes
    assert rec.seen["g"].value_counts().to_dict() == first["n_explained"].to_dict()
    assert group_drivers(rec, X, "g", n_per_group="auto", random_state=0).equals(d)


def test_group_drivers_auto_equals_every_row_when_groups_are_small(gbm):
    # every group has at most AUTO_MIN_ROWS rows, so "auto" explains all rows: identical table
    m, X = gbm
    X = X.assign(unit=np.arange(len(X)) // 25)  # 32 groups of 25 rows
    auto = group_drivers(m, X, "unit", random_state=0)
    every = group_drivers(m, X, "unit", n_per_group=None)
    pd.testing.assert_frame_equal(auto, every)
    assert (auto["se"] == 0).all() and (auto["n_explained"] == 25).all()


def test_group_drivers_fully_explained_small_group_has_its_exact_mean(gbm):
    m, X = gbm
    unit = np.where(np.arange(len(X)) < 20, "small", "big")  # 20 rows: explained completely
    X = X.assign(unit=unit)
    exact = group_drivers(m, X, "unit", n_per_group=None).set_index(["unit", "feature"])
    d = group_drivers(m, X, "unit", random_state=3).set_index(["unit", "feature"])
    small = d.loc["small"]
    assert (small["n_explained"] == 20).all()
    np.testing.assert_allclose(
        small["group_mean_shap"], exact.loc["small", "group_mean_shap"].loc[small.index]
    )
    # its difference is still uncertain: the population mean comes partly from the sample
    assert (d.loc["big", "n_explained"] == 65).all()  # ceil(780 / 12)
    assert (small["se"] > 0).all()


def test_group_drivers_standard_error_shrinks_with_more_rows(make_xy):
    X, y = make_xy(n=3000, seed=7)
    m = TurnoverRiskModel(kind="gbm", random_state=0, max_iter=40).fit(X, y)
    X = X.assign(unit=np.random.default_rng(1).choice(["u1", "u2", "u3"], len(X)))
    se = {
        n: group_drivers(m, X, "unit", n_per_group=n, random_state=2)
        .set_index(["unit", "feature"])["se"]
        .sort_index()
        for n in (40, 400)
    }
    # per group V = (1 - n/N) s^2 / n: 10 x the rows with ~1000-row groups -> about 0.27 x
    ratio = se[400] / se[40]
    assert (ratio < 0.6).all()
    assert 0.15 < np.median(ratio) < 0.45


def test_group_drivers_rank_clear_on_exact_ties(groups_of_any_size):
    # two groups of 2 rows, every row explained (se 0): a and b tie at |difference| 3,
    # c is 1: ranks 1 and 2 are not clear (a tie), rank 3 is.
    X = pd.DataFrame(
        {
            "a": [3.0, 3.0, -3.0, -3.0],
            "b": [-3.0, -3.0, 3.0, 3.0],
            "c": [1.0, 1.0, -1.0, -1.0],
            "g": ["x", "x", "y", "y"],
        }
    )
    d = group_drivers(Recorder("abc"), X, "g", n_per_group=None)
    x = d[d["g"] == "x"]
    assert x["feature"].tolist() == ["a", "b", "c"]  # ties keep the feature order
    assert x["difference"].tolist() == [3.0, -3.0, 1.0]
    assert x["rank_clear"].tolist() == [False, False, True]
    assert d.columns.tolist() == [
        "g",
        "feature",
        "group_mean_shap",
        "population_mean_shap",
        "difference",
        "se",
        "rank_clear",
        "n_rows",
        "n_explained",
    ]


def test_group_drivers_rank_clear_uses_the_standard_error_of_the_gap(
    monkeypatch, groups_of_any_size
):
    # Two groups of 4 rows, 2 explained each, w = 1/2, FPC = 1/2. For group a the gap
    # |d_1| - |d_2| = s_1 d_1 - s_2 d_2 with d = (m_a - m_b) / 2 has variance
    # 1/4 (V_a(u) + V_b(u)), u = s_1 v_1 - s_2 v_2 per row and V_h(u) = FPC var(u) / 2:
    # the covariance of the two features' residuals counts, not only their own se.
    X = pd.DataFrame(
        {
            "p": [1.0, 3.0, 6.0, 7.0, 10.0, 14.0, 20.0, 31.0],
            "q": [2.0, 9.0, 1.0, 5.0, 4.0, 30.0, 11.0, 3.0],
            "g": list("aaaabbbb"),
        }
    )
    rec = Recorder("pq")
    d = group_drivers(rec, X, "g", n_per_group=2, random_state=5)
    a = d[d["g"] == "a"].reset_index(drop=True)
    s = np.sign(a["difference"].to_numpy())
    f1, f2 = a["feature"]
    u = {
        h: s[0] * rec.seen.loc[rec.seen["g"] == h, f1] - s[1] * rec.seen.loc[rec.seen["g"] == h, f2]
        for h in "ab"
    }
    var_gap = 0.25 * sum(0.5 * np.var(u[h], ddof=1) / 2 for h in "ab")
    gap = abs(a["difference"][0]) - abs(a["difference"][1])
    ratio = gap / np.sqrt(var_gap)
    assert ratio > 0
    # a wrong variance (e.g. ignoring the covariance: se_1^2 + se_2^2) gives another ratio
    naive = gap / np.sqrt(a["se"][0] ** 2 + a["se"][1] ** 2)
    assert not np.isclose(naive, ratio, rtol=1e-3)
    for z, clear in ((ratio * 0.999, True), (ratio * 1.001, False)):
        monkeypatch.setattr(drivers_module, "RANK_CLEAR_Z", z)
        again = group_drivers(rec, X, "g", n_per_group=2, random_state=5)
        assert again.loc[again["g"] == "a", "rank_clear"].tolist() == [clear, clear]


def test_group_drivers_rank_clear_top_driver_is_the_exact_one(gbm):
    # a clearly separated top driver from a sample agrees with the exact table
    m, X = gbm
    X = X.assign(unit=np.random.default_rng(8).choice(list("abcd"), len(X)))
    X.loc[X["unit"] == "a", "caseload"] += 10
    exact = group_drivers(m, X, "unit", n_per_group=None).groupby("unit").head(1)
    d = group_drivers(m, X, "unit", n_per_group=60, random_state=0).groupby("unit").head(1)
    top = d.merge(exact, on="unit", suffixes=("", "_exact"))
    assert top["rank_clear"].any()
    clear = top[top["rank_clear"]]
    assert (clear["feature"] == clear["feature_exact"]).all()


def test_group_drivers_two_key_columns_match_one_combined_key(make_xy):
    m, X = grouped(make_xy, n=600)
    X["team"] = np.where(np.arange(len(X)) % 2 == 0, "t1", "t2")
    two = group_drivers(m, X, ["unit", "team"], n_per_group=None)
    assert two[["unit", "team"]].drop_duplicates().apply(tuple, axis=1).is_monotonic_increasing
    key = (X["unit"] + "/" + X["team"]).rename("group")
    combined = group_drivers(m, X.drop(columns=["unit", "team"]), key, n_per_group=None)
    two_key = two["unit"] + "/" + two["team"]
    np.testing.assert_allclose(
        two.set_index([two_key, "feature"])["difference"].sort_index(),
        combined.set_index(["group", "feature"])["difference"].sort_index(),
    )


@pytest.fixture
def groups_of_any_size(monkeypatch):
    """The estimator's arithmetic on groups of 2-4 rows: the privacy layer (tested below) would
    leave them out."""
    import turnover_risk.groups._group_drivers as gd

    monkeypatch.setattr(gd, "_drop_hidden_groups", lambda table, *args: table)


def test_group_drivers_leave_out_small_groups_and_their_partner():
    # a: 2 persons, b: 4, c: 12; a alone would be the population minus b and c, so b goes too
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "v": rng.normal(size=18),
            "g": ["a"] * 2 + ["b"] * 4 + ["c"] * 12,
            "employee_id": [f"e{i}" for i in range(18)],
        }
    )
    d = group_drivers(Recorder(), X, "g", n_per_group=None)
    assert set(d["g"]) == {"c"}
    assert d.attrs["suppressed_groups"] == 2
    # persons, not rows: 12 rows of 2 persons are a group of 2
    X["employee_id"] = ["e0", "e1"] * 9
    d = group_drivers(Recorder(), X, "g", n_per_group=None)
    assert len(d) == 0 and d.attrs["suppressed_groups"] == 3


def test_group_drivers_refuse_an_identifier_as_grouping():
    X = pd.DataFrame({"v": [1.0, 2.0], "employee_id": ["e1", "e2"]})
    with pytest.raises(ValueError, match="person identifier"):
        group_drivers(Recorder(), X, "employee_id")
