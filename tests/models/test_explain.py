"""Tests of explanations: exact attributions, one-hot sums, additivity, tables and plots."""

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

from turnover_risk.models import Explanation, TurnoverRiskModel
from turnover_risk.models._explain import _check_additivity, linear_attribution


@pytest.fixture(scope="module")
def logistic(make_xy):
    X, y = make_xy()
    return TurnoverRiskModel(kind="logistic").fit(X, y), X


@pytest.fixture(scope="module")
def gbm(make_xy):
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


def test_logistic_numeric_attribution_is_coef_times_standardised_deviation(make_xy):
    X, y = make_xy(missing=False)
    m = TurnoverRiskModel().fit(X, y)
    ex = m.explain(X)
    clf = m.pipeline_.named_steps["clf"]
    names = list(m.pipeline_.named_steps["prep"].get_feature_names_out())
    b = clf.coef_[0, names.index("caseload")]
    expected = b * (X["caseload"] - X["caseload"].mean()) / X["caseload"].std(ddof=0)
    np.testing.assert_allclose(ex.values["caseload"], expected, atol=1e-10)


def test_one_hot_columns_are_summed_with_their_sign(make_xy):
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


def test_calibrated_model_explains_the_uncalibrated_log_odds(make_xy):
    X, y = make_xy()
    m = TurnoverRiskModel(calibrate="isotonic", random_state=0).fit(X, y)
    ex = m.explain(X)
    np.testing.assert_allclose(ex.output, m.decision_function(X))
    assert not np.allclose(ex.output, logit(np.clip(m.predict_proba(X)[:, 1], 1e-9, 1 - 1e-9)))


def test_broken_attributions_raise(gbm, monkeypatch):
    m, X = gbm
    from turnover_risk.models import _explain as ex_mod

    real = ex_mod.tree_attribution

    def off_by_a_bit(est, z):
        values, base, output = real(est, z)
        values[3, 0] += 1e-4
        return values, base, output

    monkeypatch.setattr("turnover_risk.models._estimator.tree_attribution", off_by_a_bit)
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
