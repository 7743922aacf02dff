"""Tests of turnover_risk.explain: exact attributions, one-hot sums, additivity, group drivers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import shap
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit

from turnover_risk.explain import (
    Explanation,
    _check_additivity,
    group_drivers,
    linear_attribution,
)
from turnover_risk.models import TurnoverRiskModel


def make_xy(n=800, seed=0, missing=True):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "caseload": rng.normal(20, 5, n),
            "role": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
            "supervision": rng.poisson(3, n).astype(float),
        }
    )
    lo = -1.5 + 0.2 * (X["caseload"] - 20) + 1.0 * (X["role"] == "b") - 0.3 * X["supervision"]
    y = (rng.random(n) < expit(lo)).astype(int)
    if missing:
        X.loc[rng.random(n) < 0.1, "caseload"] = np.nan
    return X, y


@pytest.fixture(scope="module")
def logistic():
    X, y = make_xy()
    return TurnoverRiskModel(kind="logistic").fit(X, y), X


@pytest.fixture(scope="module")
def gbm():
    X, y = make_xy()
    return TurnoverRiskModel(kind="gbm", random_state=0, max_iter=40).fit(X, y), X


def test_linear_attribution_by_hand():
    # coef (0.5, -1), intercept 0.1, training mean (0, 1), row z = (1, 2):
    # values = (0.5 * (1 - 0), -1 * (2 - 1)) = (0.5, -1); base = 0.1 + 0.5*0 - 1*1 = -0.9;
    # output = 0.1 + 0.5 - 2 = -1.4 = base + 0.5 - 1
    v, b, out = linear_attribution(
        np.array([[1.0, 2.0]]), np.array([0.5, -1.0]), 0.1, np.array([0.0, 1.0])
    )
    np.testing.assert_allclose(v, [[0.5, -1.0]])
    assert b == pytest.approx(-0.9)
    np.testing.assert_allclose(out, [-1.4])


def test_logistic_numeric_attribution_is_coef_times_standardised_deviation():
    X, y = make_xy(missing=False)
    m = TurnoverRiskModel().fit(X, y)
    ex = m.explain(X)
    clf = m.pipeline_.named_steps["clf"]
    names = list(m.pipeline_.named_steps["prep"].get_feature_names_out())
    b = clf.coef_[0, names.index("caseload")]
    expected = b * (X["caseload"] - X["caseload"].mean()) / X["caseload"].std(ddof=0)
    np.testing.assert_allclose(ex.values["caseload"], expected, atol=1e-10)


def test_one_hot_columns_are_summed_with_their_sign():
    X, y = make_xy(missing=False)
    m = TurnoverRiskModel().fit(X, y)
    ex = m.explain(X)
    clf = m.pipeline_.named_steps["clf"]
    names = list(m.pipeline_.named_steps["prep"].get_feature_names_out())
    coef = {lvl: clf.coef_[0, names.index(f"role={lvl}")] for lvl in "abc"}
    share = X["role"].value_counts(normalize=True)
    centre = sum(coef[lvl] * share[lvl] for lvl in "abc")
    expected = X["role"].map(coef) - centre  # coef of own level minus the level-share average
    np.testing.assert_allclose(ex.values["role"], expected, atol=1e-10)
    # a sum of absolute values would differ on every row
    abs_sum = X["role"].map(
        lambda r: sum(abs(coef[lvl] * ((r == lvl) - share[lvl])) for lvl in "abc")
    )
    assert not np.allclose(ex.values["role"], abs_sum)


@pytest.mark.parametrize("fixture", ["logistic", "gbm"])
def test_values_plus_base_equal_the_log_odds(fixture, request):
    m, X = request.getfixturevalue(fixture)
    ex = m.explain(X)
    assert list(ex.values.columns) == ["caseload", "role", "supervision"]
    np.testing.assert_allclose(ex.values.sum(axis=1) + ex.base_value, ex.output, atol=1e-6)
    np.testing.assert_allclose(ex.output, m.decision_function(X))
    np.testing.assert_allclose(expit(ex.output), m.predict_proba(X)[:, 1])


def test_gbm_matches_shap_tree_explainer_on_the_transformed_frame(gbm):
    m, X = gbm
    ex = m.explain(X)
    clf = m.pipeline_.named_steps["clf"]
    z = m.pipeline_.named_steps["prep"].transform(m._prepare(X))
    direct = shap.TreeExplainer(clf, model_output="raw")
    sv = direct.shap_values(z.to_numpy())
    cols = list(z.columns)
    role_cols = [i for i, c in enumerate(cols) if c.startswith("role=")]
    np.testing.assert_allclose(ex.values["supervision"], sv[:, cols.index("supervision")])
    np.testing.assert_allclose(ex.values["role"], sv[:, role_cols].sum(axis=1))
    # caseload = its own column plus its missing-value indicator
    ind = cols.index("missingindicator_caseload")
    np.testing.assert_allclose(ex.values["caseload"], sv[:, cols.index("caseload")] + sv[:, ind])
    assert ex.base_value == pytest.approx(float(np.ravel(direct.expected_value)[-1]))


def test_calibrated_model_explains_the_uncalibrated_log_odds():
    X, y = make_xy()
    m = TurnoverRiskModel(calibrate="isotonic", random_state=0).fit(X, y)
    ex = m.explain(X)
    np.testing.assert_allclose(ex.output, m.decision_function(X))
    assert not np.allclose(ex.output, logit(np.clip(m.predict_proba(X)[:, 1], 1e-9, 1 - 1e-9)))


def test_broken_attributions_raise(gbm, monkeypatch):
    m, X = gbm
    from turnover_risk import explain as ex_mod

    real = ex_mod.tree_attribution

    def off_by_a_bit(est, z):
        values, base, output = real(est, z)
        values[3, 0] += 1e-4
        return values, base, output

    monkeypatch.setattr("turnover_risk.models.tree_attribution", off_by_a_bit)
    with pytest.raises(RuntimeError, match=r"do not add up .* on 1 of 10 rows"):
        m.explain(X.head(10))


def test_check_additivity_tolerance():
    _check_additivity(np.array([[1.0, 2.0]]), 0.5, np.array([3.5 + 5e-7]))
    with pytest.raises(RuntimeError, match="gap exceeds 1e-06"):
        _check_additivity(np.array([[1.0, 2.0]]), 0.5, np.array([3.5 + 5e-6]))


def test_table_is_long_and_keeps_row_labels(logistic):
    m, X = logistic
    sub = X.iloc[[5, 2]].set_axis(["r5", "r2"])
    ex = m.explain(sub)
    t = ex.table
    assert list(t.columns) == ["row", "feature", "value", "shap"]
    assert len(t) == 2 * 3
    one = t[(t["row"] == "r2") & (t["feature"] == "role")].iloc[0]
    assert one["value"] == X["role"].iloc[2]
    assert one["shap"] == ex.values.loc["r2", "role"]
    assert t.groupby("row")["shap"].sum().loc["r5"] == pytest.approx(ex.output[0] - ex.base_value)


def test_importance_and_mean_values(logistic):
    m, X = logistic
    ex = m.explain(X)
    imp = ex.importance()
    assert imp.index[0] == "caseload" and imp.is_monotonic_decreasing
    assert ex.mean_values()["caseload"] == pytest.approx(ex.values["caseload"].mean())


def test_plots_return_axes(logistic):
    m, X = logistic
    ex = m.explain(X.head(50))
    ax = ex.plot_summary()
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == ex.importance().index[0]
    fig, ax2 = plt.subplots()
    out = ex.plot_waterfall(ex.values.index[3], ax=ax2, max_display=2)
    assert out is ax2
    assert len(ax2.patches) == 3  # two features + "1 other features"
    with pytest.raises(KeyError, match="row=999 is not an explained row"):
        ex.plot_waterfall(999)
    plt.close("all")


def test_explanation_rejects_inconsistent_parts():
    with pytest.raises(RuntimeError, match="do not add up"):
        Explanation(
            values=pd.DataFrame({"a": [1.0]}),
            base_value=0.0,
            output=np.array([2.0]),
            data=pd.DataFrame({"a": [3.0]}),
        )


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(30, 120),
    perm_seed=st.integers(0, 100),
)
def test_logistic_explanations_add_up_and_do_not_depend_on_row_order(seed, n, perm_seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["u", "v", "w"], n)})
    X.loc[rng.random(n) < 0.2, "x"] = np.nan
    y = np.r_[0, 1, (rng.random(n - 2) < 0.4).astype(int)]
    m = TurnoverRiskModel().fit(X, y)
    ex = m.explain(X)
    np.testing.assert_allclose(ex.values.sum(axis=1) + ex.base_value, ex.output, atol=1e-6)
    perm = np.random.default_rng(perm_seed).permutation(n)
    ex_p = m.explain(X.iloc[perm])
    np.testing.assert_allclose(ex_p.values.to_numpy(), ex.values.to_numpy()[perm])


# --------------------------------------------------------------------------------------------
# group drivers
# --------------------------------------------------------------------------------------------


def grouped(n=1200, seed=0):
    X, y = make_xy(n=n, seed=seed, missing=False)
    rng = np.random.default_rng(seed + 1)
    X["unit"] = rng.choice(["u1", "u2", "u3"], n, p=[0.5, 0.3, 0.2])
    X.loc[X["unit"] == "u3", "caseload"] += 8  # unit 3 carries heavy caseloads
    m = TurnoverRiskModel().fit(X.drop(columns="unit"), y)
    return m, X


def test_group_drivers_exact_when_every_row_is_explained():
    m, X = grouped()
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


def test_group_drivers_sample_size_and_standard_error():
    m, X = grouped()
    d = group_drivers(m, X, "unit", n_per_group=100, random_state=0)
    sizes = X["unit"].value_counts()
    first = d.groupby("unit").first()
    assert (first["n_explained"] == np.minimum(sizes, 100).loc[first.index]).all()
    exact = group_drivers(m, X, "unit", n_per_group=None).set_index(["unit", "feature"])
    est = d.set_index(["unit", "feature"])
    # logistic attributions are linear in the transformed columns: the regression estimator
    # is exact from any sample
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


def test_group_drivers_gbm_step_function_controls_tighten_the_estimate(monkeypatch):
    # Stumps (max_depth=1) make each feature's TreeSHAP value a step function of its own value;
    # the per-bin residual means of the control variates capture most of it, so the standard
    # error drops well below that of the linear controls alone, and the estimate stays honest.
    import turnover_risk.explain as explain_module

    X, y = make_xy(n=3000, seed=5)
    m = TurnoverRiskModel(kind="gbm", random_state=0, max_iter=40, max_depth=1).fit(X, y)
    X = X.assign(unit=np.random.default_rng(2).choice(["u1", "u2", "u3"], len(X)))
    exact = group_drivers(m, X, "unit", n_per_group=None).set_index(["unit", "feature"])
    binned = group_drivers(m, X, "unit", n_per_group=300, random_state=1)
    binned = binned.set_index(["unit", "feature"]).loc[exact.index]
    monkeypatch.setattr(explain_module, "MAX_CONTROL_BINS", 1)  # linear controls only
    linear = group_drivers(m, X, "unit", n_per_group=300, random_state=1)
    linear = linear.set_index(["unit", "feature"]).loc[exact.index]
    numeric = exact.index.get_level_values("feature") != "role"
    assert (binned["se"][numeric] < 0.5 * linear["se"][numeric]).all()
    z = (binned["difference"] - exact["difference"]) / binned["se"]
    assert (z.abs() < 4).all()


def test_group_drivers_standard_error_by_hand():
    # Two groups of 4 rows, 2 explained each: weights w = (1/2, 1/2), FPC = 1 - 2/4 = 1/2,
    # V_g = FPC * s_g^2 / 2, diff_a = m_a - (m_a + m_b) / 2 and
    # Var(diff_a) = (1 - 1/2)^2 V_a + (1/2)^2 V_b.
    class Recorder:
        def explain(self, X):
            self.seen = X.copy()
            vals = X[["v"]].astype(float)
            return Explanation(values=vals, base_value=0.0, output=vals["v"].to_numpy(), data=vals)

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
        ({"groups": "unit", "n_per_group": 2.5}, TypeError, "n_per_group must be a positive"),
        ({"groups": pd.Series(["a"])}, ValueError, "groups has 1 values but X has"),
        ({"groups": 3}, TypeError, "groups must be a column name"),
    ],
)
def test_group_drivers_bad_arguments(kwargs, err, match):
    m, X = grouped(n=200)
    with pytest.raises(err, match=match):
        group_drivers(m, X, **kwargs)


def test_group_drivers_refuses_missing_group_labels():
    m, X = grouped(n=200)
    X.loc[X.index[0], "unit"] = None
    with pytest.raises(ValueError, match="have missing values"):
        group_drivers(m, X, "unit")
