"""Tests of TurnoverRiskModel: the estimator contract, inputs, bad input and defaults.

Saving and loading are tested in test_persistence.py.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

import turnover_risk as tr
from turnover_risk._warnings import DataQualityWarning
from turnover_risk.models import TurnoverRiskModel, default_C, default_gbm_params
from turnover_risk.panel._spec import PanelSpec, attach_spec

FAST_GBM = {"max_iter": 30}


def make_xy(n=600, seed=0):
    """Numeric + categorical features with missing values; risk rises with caseload and role b."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "caseload": rng.normal(20, 5, n),
            "role": rng.choice(["a", "b", "c"], n),
            "sick_days": rng.poisson(5, n).astype(float),
        }
    )
    lo = -1.5 + 0.25 * (X["caseload"] - 20) + 1.2 * (X["role"] == "b")
    y = (rng.random(n) < expit(lo)).astype(int)
    X.loc[rng.random(n) < 0.1, "caseload"] = np.nan
    X.loc[rng.random(n) < 0.1, "role"] = None
    return X, pd.Series(y, name="left")


# --------------------------------------------------------------------------------------------
# estimator contract
# --------------------------------------------------------------------------------------------


def test_init_stores_arguments_and_kwargs_go_to_estimator_params():
    m = TurnoverRiskModel(kind="gbm", random_state=3, max_depth=2)
    assert m.get_params() == {
        "kind": "gbm",
        "horizon": None,
        "calibrate": None,
        "class_weight": None,
        "random_state": 3,
        "min_feature_groups": 3,
        "design_dtype": "auto",
        "estimator_params": {"max_depth": 2},
    }
    both = TurnoverRiskModel(estimator_params={"C": 0.5}, tol=1e-4)
    assert both.estimator_params == {"C": 0.5, "tol": 1e-4}
    passed = {"C": 2.0}
    assert TurnoverRiskModel(estimator_params=passed).estimator_params is passed
    assert not hasattr(TurnoverRiskModel(kind="nonsense"), "pipeline_")  # validated in fit


def test_clone_keeps_params_and_drops_fitted_state():
    X, y = make_xy()
    m = TurnoverRiskModel(kind="logistic", C=0.3, random_state=1).fit(X, y)
    c = clone(m)
    assert c.get_params() == m.get_params()
    assert not hasattr(c, "pipeline_")


def test_set_params_routes_estimator_names_into_estimator_params():
    m = TurnoverRiskModel(C=1.0)
    m.set_params(C=0.1, kind="logistic")
    assert m.estimator_params == {"C": 0.1}
    m.set_params(estimator_params={"C": 5.0}, tol=1e-3)
    assert m.estimator_params == {"C": 5.0, "tol": 1e-3}
    X, y = make_xy()
    strong = TurnoverRiskModel().set_params(C=1e-4).fit(X, y)
    weak = TurnoverRiskModel().set_params(C=10.0).fit(X, y)
    coef = lambda m: np.abs(m.pipeline_.named_steps["clf"].coef_).sum()  # noqa: E731
    assert coef(strong) < coef(weak) / 10


def test_grid_search_over_estimator_and_model_params():
    X, y = make_xy(n=400)
    grid = GridSearchCV(
        TurnoverRiskModel(random_state=0),
        {"C": [1e-4, 1.0], "kind": ["logistic"]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        scoring="roc_auc",
    ).fit(X, y)
    assert grid.best_params_["C"] == 1.0  # almost no signal is left at C=1e-4
    assert grid.best_estimator_.estimator_params == {"C": 1.0}
    assert grid.predict_proba(X).shape == (len(X), 2)


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_pickle_roundtrip_predicts_the_same(kind):
    X, y = make_xy()
    m = TurnoverRiskModel(kind=kind, random_state=0, **(FAST_GBM if kind == "gbm" else {}))
    m.fit(X, y)
    again = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(again.predict_proba(X), m.predict_proba(X))


def test_gbm_is_deterministic_with_random_state():
    X, y = make_xy()
    a = TurnoverRiskModel(kind="gbm", random_state=0, **FAST_GBM).fit(X, y).predict_proba(X)
    b = TurnoverRiskModel(kind="gbm", random_state=0, **FAST_GBM).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_unfitted_model_refuses_to_predict():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TurnoverRiskModel().predict_proba(make_xy()[0])


# --------------------------------------------------------------------------------------------
# plain tables
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encode", "classes"),
    [
        (lambda y: y, [0, 1]),
        (lambda y: y.astype(bool), [False, True]),
        (lambda y: y.map({1: "Yes", 0: "No"}), ["No", "Yes"]),
        (lambda y: y.map({1: "yes", 0: "no"}).to_numpy(), ["no", "yes"]),
        (lambda y: y.astype(float), [0, 1]),
    ],
)
def test_target_encodings_give_the_same_model(encode, classes):
    X, y = make_xy()
    ref = TurnoverRiskModel().fit(X, y).predict_proba(X)
    m = TurnoverRiskModel().fit(X, encode(y))
    assert list(m.classes_) == classes
    np.testing.assert_allclose(m.predict_proba(X), ref)
    assert set(m.predict(X)) <= set(classes)


def test_logistic_recovers_a_known_coefficient():
    rng = np.random.default_rng(5)
    n = 20000
    x = rng.normal(0, 2, n)
    y = rng.random(n) < expit(-1 + 0.8 * x)
    m = TurnoverRiskModel(C=1e6).fit(pd.DataFrame({"x": x}), y)
    clf = m.pipeline_.named_steps["clf"]
    scale = m.pipeline_.named_steps["prep"].named_transformers_["num"]["scale"].scale_[0]
    assert clf.coef_[0, 0] / scale == pytest.approx(0.8, abs=0.05)
    assert m.predict_proba(pd.DataFrame({"x": [0.0]}))[0, 1] == pytest.approx(expit(-1), abs=0.02)


def test_missing_values_and_unknown_categories_are_handled():
    X, y = make_xy()
    m = TurnoverRiskModel().fit(X, y)
    new = pd.DataFrame(
        {"caseload": [np.nan, 30.0], "role": ["never-seen", None], "sick_days": [np.nan, 2.0]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn: unknown category -> zeros
        p = m.predict_proba(new)[:, 1]
    assert np.all((p > 0) & (p < 1))
    assert "caseload" in m.transformed_to_feature_  # the missing indicator maps back


def test_columns_are_matched_by_name_not_position():
    X, y = make_xy()
    m = TurnoverRiskModel().fit(X, y)
    np.testing.assert_allclose(m.predict_proba(X[X.columns[::-1]]), m.predict_proba(X))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda X: X.drop(columns="role"), r"missing \['role'\], unexpected \[\]"),
        (lambda X: X.assign(extra=1), r"missing \[\], unexpected \['extra'\]"),
        (
            lambda X: X.rename(columns={"caseload": "load"}),
            r"missing \['caseload'\], unexpected \['load'\]",
        ),
    ],
)
def test_predict_refuses_column_drift(change, match):
    X, y = make_xy()
    m = TurnoverRiskModel().fit(X, y)
    with pytest.raises(ValueError, match=match):
        m.predict_proba(change(X))


def test_numeric_column_arriving_as_text_is_refused():
    X, y = make_xy()
    m = TurnoverRiskModel().fit(X, y)
    with pytest.raises(TypeError, match="'caseload' was numeric"):
        m.predict_proba(X.assign(caseload=X["caseload"].astype(str)))


@pytest.mark.parametrize(
    ("column", "values", "reason"),
    [
        ("employee_id", lambda n: [f"E{i % 50}" for i in range(n)], "identifier name"),
        ("EmployeeID", lambda n: np.arange(n) % 7, "identifier name"),
        ("badge", lambda n: [f"B{i:05d}" for i in range(n)], "all values unique"),
        ("EmployeeNumber", lambda n: np.arange(n) % 9, "identifier name"),
        ("record", lambda n: np.arange(1000, 1000 + n), "all values unique"),
        ("country", lambda n: ["NO"] * n, "constant"),
    ],
)
def test_id_like_and_constant_columns_are_dropped_with_a_warning(column, values, reason):
    X, y = make_xy()
    X[column] = values(len(X))
    with pytest.warns(DataQualityWarning, match=rf"'{column}' \(.*{reason}"):
        m = TurnoverRiskModel().fit(X, y)
    assert column not in m.features_
    assert reason in m.dropped_columns_[column]
    assert column in m.feature_names_in_  # still expected at predict time: same frame works
    assert m.predict_proba(X).shape == (len(X), 2)


def test_float_columns_with_unique_values_are_kept():
    X, y = make_xy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        m = TurnoverRiskModel().fit(X.assign(noise=np.random.default_rng(0).random(len(X))), y)
    assert "noise" in m.features_


def test_numpy_array_input_works():
    X, y = make_xy()
    arr = X[["caseload", "sick_days"]].to_numpy()
    m = TurnoverRiskModel().fit(arr, y.to_numpy())
    assert list(m.feature_names_in_) == ["x0", "x1"]
    assert m.predict_proba(arr).shape == (len(arr), 2)


def test_missing_targets_are_dropped_and_counted():
    X, y = make_xy()
    y = y.astype(float)
    y.iloc[:7] = np.nan
    with pytest.warns(DataQualityWarning, match="7 rows with a missing target"):
        m = TurnoverRiskModel().fit(X, y)
    assert m.n_censored_ == 7 and m.n_train_rows_ == len(X) - 7


def test_calibration_repairs_class_weight_inflation():
    X, y = make_xy(n=2000)
    prevalence = y.mean()
    raw = TurnoverRiskModel(class_weight="balanced").fit(X, y).predict_proba(X)[:, 1]
    for method in ("sigmoid", "isotonic"):
        cal = TurnoverRiskModel(class_weight="balanced", calibrate=method, random_state=0)
        p = cal.fit(X, y).predict_proba(X)[:, 1]
        assert abs(p.mean() - prevalence) < 0.02, method
    assert raw.mean() > prevalence + 0.1


# --------------------------------------------------------------------------------------------
# panels
# --------------------------------------------------------------------------------------------


def test_fit_on_panel_uses_spec_and_drops_censored_rows(make_panel):
    panel = make_panel()
    m = TurnoverRiskModel().fit(panel)
    n_nan = int(panel["left_within_horizon"].isna().sum())
    resolved = panel["period"] < panel["period"].max() - pd.DateOffset(months=5)
    assert m.n_censored_ == n_nan
    assert m.n_unresolved_dropped_ == int((~resolved & panel["left_within_horizon"].notna()).sum())
    assert m.n_train_rows_ == int(resolved.sum())
    assert list(m.feature_names_in_) == ["caseload_3m_mean", "newly_qualified", "role"]
    assert m.spec_.horizon == 6 and m.horizon_ == 6
    assert m.training_periods_ == {"first": "2021-01-01", "last": "2022-06-01", "n_periods": 18}
    # a panel, its feature columns alone, and a panel that lost its attrs all score the same
    p = m.predict_proba(panel)
    np.testing.assert_allclose(p, m.predict_proba(panel[list(m.feature_names_in_)]))
    np.testing.assert_allclose(p, m.predict_proba(pd.DataFrame(panel.to_dict("list"))))


def test_panel_with_a_new_column_is_reduced_to_its_spec(make_panel):
    panel = make_panel()
    m = TurnoverRiskModel().fit(panel)
    wider = attach_spec(panel.assign(unrelated=1.0), PanelSpec.from_dict(panel.attrs["panel_spec"]))
    np.testing.assert_allclose(m.predict_proba(wider), m.predict_proba(panel))
    plain = pd.DataFrame(panel.assign(unrelated=1.0).to_dict("list"))
    with pytest.raises(ValueError, match=r"unexpected \['unrelated'\]"):
        m.predict_proba(plain)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda p: p.assign(
                left_within_horizon=np.where(p.left_within_horizon.notna(), 0.0, np.nan)
            ),
            "no positive labels",
        ),
        (
            lambda p: p.assign(
                left_within_horizon=np.where(p.left_within_horizon.notna(), 1.0, np.nan)
            ),
            "only one class",
        ),
        (lambda p: p.assign(left_within_horizon=np.nan), "all .* labels are missing"),
        (
            lambda p: p.assign(
                left_within_horizon=p.left_within_horizon.fillna(0) + (p.index % 3 == 0)
            ),
            "3 distinct values",
        ),
        (lambda p: p.drop(columns="role"), r"lacks columns its spec names: \['role'\]"),
    ],
)
def test_bad_panels_get_clear_errors(make_panel, edit, match):
    panel = make_panel()
    bad = attach_spec(edit(panel), PanelSpec.from_dict(panel.attrs["panel_spec"]))
    with pytest.raises(ValueError, match=match):
        TurnoverRiskModel().fit(bad)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (lambda n: np.arange(n) % 3, "3 distinct values"),
        (lambda n: np.where(np.arange(n) % 2, "left", "maybe"), "text targets must be 'Yes'/'No'"),
        (lambda n: np.where(np.arange(n) % 2, 2, 1), "must be 0 .stayed. and 1 .left."),
        (lambda n: np.zeros(n), "no positive labels"),
        (lambda n: np.full(n, "Yes"), "only one class"),
        (lambda n: np.full(n, np.nan), "all .* labels are missing"),
    ],
)
def test_bad_targets_get_clear_errors(y, match):
    X, _ = make_xy(n=60)
    with pytest.raises(ValueError, match=match), warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        TurnoverRiskModel().fit(X, y(len(X)))


@pytest.mark.parametrize(
    ("params", "err", "match"),
    [
        (
            {"kind": "xgb"},
            ValueError,
            "kind='xgb' is not a known model kind; choose one of: logistic, gbm",
        ),
        ({"calibrate": "platt"}, ValueError, "calibrate='platt' is not a calibration method"),
        (
            {"Cc": 1.0},
            ValueError,
            r"estimator_params \['Cc'\] are not parameters of LogisticRegression",
        ),
        ({"kind": "gbm", "C": 1.0}, ValueError, "not parameters of HistGradientBoostingClassifier"),
        ({"estimator_params": {"random_state": 1}}, ValueError, "pass these as TurnoverRiskModel"),
        ({"horizon": 0}, ValueError, "horizon=0 must be a positive integer"),
        ({"horizon": 12}, ValueError, "horizon=12 but the panel was built with horizon=6"),
    ],
)
def test_bad_parameters_are_reported_at_fit(make_panel, params, err, match):
    with pytest.raises(err, match=match):
        TurnoverRiskModel(**params).fit(make_panel(n_persons=30))


def test_plain_frame_without_target_needs_a_panel():
    with pytest.raises(ValueError, match="carries no panel spec"):
        TurnoverRiskModel().fit(make_xy()[0])


def test_datetime_feature_is_refused():
    X, y = make_xy(n=50)
    X["hired"] = pd.Timestamp("2020-01-01")
    with pytest.raises(TypeError, match="'hired' has dtype datetime64"):
        TurnoverRiskModel().fit(X, y)


def test_public_names_exported():
    for name in ("TurnoverRiskModel", "load_model", "evaluate", "Explanation", "EvaluationResult"):
        assert name in tr.__all__ and hasattr(tr, name)


@pytest.mark.parametrize(
    ("horizon", "params", "expected_C"),
    [
        (6, {}, 0.012 / 6),  # panel: prior variance 0.012 over `horizon` rows per outcome
        (12, {}, 0.001),
        (6, {"C": 0.5}, 0.5),  # an explicit C always wins
    ],
)
def test_default_C_of_a_panel_follows_the_horizon_rule(make_panel, horizon, params, expected_C):
    m = TurnoverRiskModel(**params).fit(make_panel(horizon=horizon))
    assert m.estimator_params_["C"] == pytest.approx(expected_C)
    assert m.pipeline_.named_steps["clf"].C == pytest.approx(expected_C)


@pytest.mark.parametrize(
    ("horizon", "params", "expected"),
    [
        (6, {}, {"min_samples_leaf": 240, "l2_regularization": 6.0, "max_leaf_nodes": 7}),
        (3, {}, {"min_samples_leaf": 120, "l2_regularization": 3.0, "learning_rate": 0.03}),
        (6, {"min_samples_leaf": 5}, {"min_samples_leaf": 5, "l2_regularization": 6.0}),
    ],
)
def test_gbm_panel_defaults_scale_with_the_horizon(make_panel, horizon, params, expected):
    m = TurnoverRiskModel(kind="gbm", random_state=0, **params).fit(make_panel(horizon=horizon))
    clf = m.pipeline_.named_steps["clf"]
    for name, value in expected.items():
        assert getattr(clf, name) == pytest.approx(value), name
        assert m.estimator_params_[name] == pytest.approx(value)


def test_gbm_plain_table_defaults_are_unchanged():
    X, y = make_xy()
    clf = TurnoverRiskModel(kind="gbm", **FAST_GBM).fit(X, y).pipeline_.named_steps["clf"]
    assert (clf.min_samples_leaf, clf.l2_regularization, clf.max_leaf_nodes) == (40, 1.0, 15)
    assert default_gbm_params(None)["learning_rate"] == 0.05


def test_default_C_of_a_plain_table_is_one():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=100)})
    m = TurnoverRiskModel().fit(X, (X["a"] + rng.normal(size=100) > 0).astype(int))
    assert m.pipeline_.named_steps["clf"].C == 1.0
    assert default_C(None) == 1.0


# --------------------------------------------------------------------------------------------
# recovery of the simulator's truth
# --------------------------------------------------------------------------------------------

DETECTABLE_KNOBS = {
    "caseload_exit_effect": 0.06,
    "newly_qualified_exit_effect": 0.9,
    "colleagues_left_exit_effect": 0.25,
    "burnout_exit_effect": 0.5,
    "base_exit_hazard": 0.0125,
}
"""Stronger main effects than the defaults, same exit share (about 20 %). With the default
knobs the true log-hazard itself ranks 12-month labels with ROC-AUC of only about 0.67
(docs/models.md), and the newly-qualified and colleagues-left effects are below what a test-size
register can reveal; these knobs make every main effect detectable."""

MEASURES = {
    "caseload": ("caseload_last", "caseload_ratio_unit_median"),
    "colleagues_left": ("colleagues_left_share_3m",),
    "burnout": (
        "cbi_personal",
        "cbi_client",
        "proqol_compassion_satisfaction",
        "proqol_secondary_traumatic_stress",
        "bat_exhaustion",
        "bat_mental_distance",
        "bat_cognitive_impairment",
        "bat_emotional_impairment",
    ),
    "supervision": ("supervision_minutes_3m",),
}
"""Other panel features measuring the same covariate as the truth's proxies (feature_map): the
last month's caseload next to the 3-month mean, the share next to the count of colleagues who
left, every burnout subscale of the three instruments (all items load on the one latent
burnout), supervision minutes next to sessions. A model splits an effect among such
near-duplicates, so an effect's importance is the sum over its family."""

TRUE_COVARIATE = {
    "caseload": "caseload_3m_mean",
    "newly_qualified": "newly_qualified",
    "colleagues_left": "colleagues_left_3m",
    "burnout": "burnout",
    "supervision": "supervision_sessions_3m",
}
MAIN_EFFECTS = tuple(TRUE_COVARIATE)


@pytest.fixture(scope="module")
def simulated():
    """120 units over 6 years (about 58 000 person-months) with detectable main effects."""
    reg, truth = tr.make_register(
        n_units=120, years=6, random_state=6, return_truth=True, **DETECTABLE_KNOBS
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        panel = tr.build_panel(reg)
    return panel, truth


def _families(truth, features):
    fam = {e: [*truth.feature_map[e], *MEASURES.get(e, ())] for e in MAIN_EFFECTS}
    return {e: [f for f in fs if f in features] for e, fs in fam.items()}


def _effect_ranks_and_signs(panel, truth):
    """Rank of each main effect's family by global importance, its attribution's correlation
    with the true covariate, and the number of importance groups.

    Importance of a family = sum of its features' mean |attribution| over the labelled rows of
    the default logistic model; every feature outside the families is its own group. Sign =
    sign of the correlation between the family's attribution and the true covariate of the
    row (the simulator's latent burnout, sessions, caseload, ...).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # 'rehired' is constant here
        model = TurnoverRiskModel().fit(panel)
    labelled = panel[panel["left_within_horizon"].notna()]
    ex = model.explain(labelled)
    families = _families(truth, set(ex.feature_names))
    assert all(families.values())
    family_of = {f: e for e, fs in families.items() for f in fs}
    importance = ex.values.abs().mean().groupby(lambda f: family_of.get(f, f)).sum()
    ranking = list(importance.sort_values(ascending=False).index)
    ranks = {e: ranking.index(e) + 1 for e in MAIN_EFFECTS}
    hazard = truth.hazard.rename(columns={"month": "period"})
    covariates = labelled[["employee_id", "period"]].merge(
        hazard[["employee_id", "period", *TRUE_COVARIATE.values()]],
        on=["employee_id", "period"],
        how="left",
    )
    correlations = {}
    for effect, covariate in TRUE_COVARIATE.items():
        attribution = ex.values[families[effect]].sum(axis=1).to_numpy()
        x = covariates[covariate].to_numpy(dtype=float)
        ok = ~np.isnan(x)
        correlations[effect] = np.corrcoef(attribution[ok], x[ok])[0, 1]
    return ranks, correlations, len(ranking)


def _assert_true_signs(correlations, coefficients):
    for effect, r in correlations.items():
        assert np.sign(r) == np.sign(coefficients[effect]), (effect, r)
        assert abs(r) > 0.2, (effect, r)


def test_model_ranks_the_true_main_effects_with_the_right_signs(simulated):
    """Families of the five main effects: right sign, and four of them in the top 10 of 36.

    Supervision gets the sign test only: new staff in structured units get weekly supervision
    in the months when their exit hazard is highest (first year, newly qualified), so sessions
    carry the protective effect *and* mark the riskiest months; its family ranked 4th-15th on
    seeds 5-7 of this design. The other four ranked at most 9th (seeds 5-7).
    """
    panel, truth = simulated
    ranks, correlations, n_groups = _effect_ranks_and_signs(panel, truth)
    assert n_groups > 30
    for effect in ("caseload", "newly_qualified", "colleagues_left", "burnout"):
        assert ranks[effect] <= 10, ranks
    _assert_true_signs(correlations, truth.coefficients)


@pytest.fixture(scope="module")
def sample_with_truth():
    """The shipped sample, regenerated with its truth, and its default panel."""
    from turnover_risk.datasets import SAMPLE_ARGS

    reg, truth = tr.make_register(**SAMPLE_ARGS, return_truth=True)
    shipped = tr.load_sample()
    pd.testing.assert_frame_equal(reg.employment, shipped.employment, check_like=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        panel = tr.build_panel(shipped)
    return panel, truth


def test_on_the_sample_the_main_effects_have_their_true_signs(sample_with_truth):
    """On the shipped sample (default knobs): all five signs right; caseload and burnout are
    the two most important families, newly qualified in the top 10 (30 groups).

    Colleagues who left and supervision are tested for sign only here: with the default knobs
    their true per-SD contributions to the log-hazard are 0.06 and 0.23 and the sample has 680
    people, so they rank 18th and 17th (docs/models.md); the simulated register above, with
    stronger effects and three times the units, tests their rank.
    """
    panel, truth = sample_with_truth
    ranks, correlations, n_groups = _effect_ranks_and_signs(panel, truth)
    assert n_groups >= 25
    assert {ranks["caseload"], ranks["burnout"]} == {1, 2}, ranks
    assert ranks["newly_qualified"] <= 10, ranks
    _assert_true_signs(correlations, truth.coefficients)


def _calibration_slope(y, p):
    """Slope of the logistic recalibration y ~ a + b * logit(p), fitted (practically) without penalty."""
    from sklearn.linear_model import LogisticRegression

    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    logit = np.log(p / (1 - p)).reshape(-1, 1)
    return LogisticRegression(C=1e12).fit(logit, np.asarray(y)).coef_[0, 0]


def test_on_the_sample_the_calibration_slope_on_later_periods(sample_with_truth):
    """The later half of the sample's out-of-time folds (folds 3 and 4 of the default
    evaluation, tested 2022-12..2024-01 after training on at least 2020-01..2021-11): pooled
    calibration slope within 0.8-1.2 (0.94; per fold 1.17 and 0.76, each with a unit-bootstrap
    SD of about 0.25, so one fold alone is too noisy to test on 680 people). The early folds
    train on 9-16 months and are under-confident (slopes 2.3 and 2.1; docs/models.md).
    """
    panel, _ = sample_with_truth
    res = tr.evaluate(TurnoverRiskModel(), panel)
    pred = res.predictions
    later = pred[pred["fold"].astype(str).isin(["3", "4"])]
    assert later["fold"].nunique() == 2 and len(later) > 4000
    slope = _calibration_slope(later["y"], later["p"])
    assert 0.8 <= slope <= 1.2, slope
    table = res.table.set_index(["fold", "model"])
    for fold in ("3", "4"):  # the library's own per-fold slope agrees with this one
        rows = pred[pred["fold"].astype(str) == fold]
        assert table.loc[(fold, "model"), "calibration_slope"] == pytest.approx(
            _calibration_slope(rows["y"], rows["p"]), abs=0.01
        )


def test_calibration_slope_on_later_periods(simulated):
    """Train on the earlier periods, test on the latest block: slope within 0.8-1.2.

    The latest fold of a 2-split rolling-origin evaluation (trained on 2020-01..2022-01, a
    12-month gap, tested on 2023-02..2024-01). Pooled slopes across folds would mix the folds'
    intercept shifts, so the latest fold alone is tested. Seeds 5-7 of this design gave
    1.10, 0.99 and 0.81.
    """
    panel, _ = simulated
    res = tr.evaluate(TurnoverRiskModel(), panel, n_splits=2)
    latest = res.table[(res.table["model"] == "model") & (res.table["fold"] == "2")].iloc[0]
    assert 0.8 <= latest["calibration_slope"] <= 1.2, latest["calibration_slope"]
    assert latest["roc_auc"] > 0.62


# --------------------------------------------------------------------------------------------
# features that vary in too few municipalities
# --------------------------------------------------------------------------------------------


def _municipal_panel(make_panel, municipality_of_unit):
    """make_panel plus a municipality column, a score measured only in unit U0's municipality
    (with its missing indicator) and a score measured everywhere."""
    panel = make_panel(n_persons=150, seed=4)
    spec = panel.attrs["panel_spec"]
    rng = np.random.default_rng(0)
    muni = panel["unit_id"].map(municipality_of_unit)
    only_first = muni == municipality_of_unit["U0"]
    panel = panel.assign(
        municipality=muni,
        local_score=np.where(only_first, rng.normal(50, 10, len(panel)), np.nan),
        local_missing=(~only_first).astype(float),
        common_score=rng.normal(50, 10, len(panel)),
    )
    feats = ("caseload_3m_mean", "newly_qualified", "role", "local_score", "local_missing")
    new_spec = PanelSpec(
        **{
            **PanelSpec.from_dict(spec).__dict__,
            "group_cols": ("unit_id", "municipality"),
            "feature_cols": (*feats, "common_score"),
        }
    )
    return attach_spec(panel, new_spec)


THREE = {"U0": "A", "U1": "A", "U2": "B", "U3": "B", "U4": "C", "U5": "C"}


def test_features_varying_in_one_municipality_are_dropped_with_a_warning(make_panel):
    panel = _municipal_panel(make_panel, THREE)
    with pytest.warns(
        DataQualityWarning,
        match=r"'local_score', 'local_missing' \(varies in 1 of 3 municipalities: A\)",
    ):
        m = TurnoverRiskModel().fit(panel)
    assert m.dropped_columns_ == {
        "local_score": "varies in 1 of 3 municipalities: A",
        "local_missing": "varies in 1 of 3 municipalities: A",
    }
    assert "common_score" in m.features_ and "local_score" not in m.features_
    assert "local_score" in m.feature_names_in_  # still expected at prediction time
    assert m.predict_proba(panel).shape == (len(panel), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        kept = TurnoverRiskModel(min_feature_groups=1).fit(panel)
    assert {"local_score", "local_missing"} <= set(kept.features_)
    assert kept.dropped_columns_ == {}


@pytest.mark.parametrize(
    ("mapping", "min_groups", "dropped"),
    [
        ({"U0": "A", "U1": "A", "U2": "A", "U3": "B", "U4": "B", "U5": "B"}, 3, True),  # 1 of 2
        (dict.fromkeys(THREE, "A"), 3, False),  # one municipality: nothing to confound with
        (THREE, 2, True),  # 1 of 3 < 2
        ({**THREE, "U2": "A"}, 2, True),  # U0, U1, U2 all in A: still one
        ({**THREE, "U1": "B"}, 3, True),  # local score in A only (U0), B has U1-U3
    ],
)
def test_the_threshold_is_the_smaller_of_min_feature_groups_and_the_number_of_municipalities(
    make_panel, mapping, min_groups, dropped
):
    panel = _municipal_panel(make_panel, mapping)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        m = TurnoverRiskModel(min_feature_groups=min_groups).fit(panel)
    assert ("local_score" in m.dropped_columns_) is dropped
    assert "common_score" not in m.dropped_columns_


def test_a_score_measured_in_two_of_three_municipalities_needs_min_feature_groups_two(make_panel):
    panel = _municipal_panel(make_panel, THREE)
    both = panel["municipality"].isin(["A", "B"])
    panel["local_score"] = np.where(both, panel["common_score"], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        assert "local_score" in TurnoverRiskModel(min_feature_groups=3).fit(panel).dropped_columns_
        assert "local_score" in TurnoverRiskModel(min_feature_groups=2).fit(panel).features_


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_min_feature_groups_must_be_a_positive_integer(make_panel, bad):
    with pytest.raises(ValueError, match=r"min_feature_groups=.* must be a positive integer"):
        TurnoverRiskModel(min_feature_groups=bad).fit(make_panel())


def test_on_the_sample_the_proqol_columns_of_its_one_proqol_municipality_are_dropped():
    panel = tr.build_panel(tr.load_sample())
    surveyed = panel.loc[panel["proqol_burnout"].notna(), "municipality"].unique()
    assert len(surveyed) == 1
    with pytest.warns(DataQualityWarning, match="too few municipalities"):
        m = TurnoverRiskModel().fit(panel)
    confined = {c for c, r in m.dropped_columns_.items() if "municipalities" in r}
    assert confined == {c for c in m.feature_names_in_ if "proqol" in c}
    assert all(
        r.endswith(f": {surveyed[0]}") for c, r in m.dropped_columns_.items() if c in confined
    )
