"""TurnoverRiskModel.fit next to the plain scikit-learn pipeline it stands for.

Small fits keep the float64 design and give the plain pipeline's probabilities to rounding; large
logistic fits (``FLOAT32_MIN_CELLS``, forced here) use a float32 design where the solver takes
one, and stay within the lbfgs tolerance of it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import turnover_risk as tr
from turnover_risk.models import _pipeline
from turnover_risk.models._pipeline import _solver_keeps_float32

FLOAT32_LBFGS = _solver_keeps_float32("lbfgs")


@pytest.fixture(scope="module")
def labelled():
    reg = tr.make_register(n_units=12, years=3, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = tr.build_panel(reg)
    out = panel[panel["left_within_horizon"].notna()]
    out.attrs = panel.attrs
    return out


def _plain(model, panel: pd.DataFrame) -> np.ndarray:
    """The plain pipeline with the model's columns and classifier settings, fitted by hand."""
    numeric = [c for c in model.features_ if c in model._numeric_]
    categorical = [c for c in model.features_ if c not in model._numeric_]
    X = panel[model.features_].copy()
    X[numeric] = X[numeric].astype(np.float64)
    for c in categorical:
        X[c] = X[c].astype(object).where(X[c].notna(), np.nan)
    y = panel[model.spec_.label_col].to_numpy().astype(int)
    num = [("impute", SimpleImputer(strategy="median", add_indicator=True))]
    if model.kind == "logistic":
        num.append(("scale", StandardScaler()))
    cat = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    est = LogisticRegression if model.kind == "logistic" else HistGradientBoostingClassifier
    params = model.pipeline_.named_steps["clf"].get_params()
    prep = ColumnTransformer([("num", Pipeline(num), numeric), ("cat", cat, categorical)])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Skipping features without any observed")
        pipe = Pipeline([("prep", prep), ("clf", est(**params))]).fit(X, y)
        return pipe.predict_proba(X)[:, 1]


@pytest.mark.filterwarnings("ignore::turnover_risk.DataQualityWarning")
@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_a_small_fit_gives_the_plain_pipelines_probabilities(labelled, kind):
    params = {"max_iter": 30} if kind == "gbm" else {}
    model = tr.TurnoverRiskModel(kind=kind, random_state=0, **params).fit(labelled)
    p = model.predict_proba(labelled)[:, 1]
    np.testing.assert_allclose(p, _plain(model, labelled), rtol=0, atol=1e-9)


def _spy_on_design_dtype(monkeypatch):
    """Record the dtype of the design LogisticRegression.fit gets; return (record, real fit)."""
    seen = {}
    fit = LogisticRegression.fit

    def spy(self, X, y, *args, **kwargs):
        seen["dtype"] = np.asarray(X).dtype
        return fit(self, X, y, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", spy)
    return seen, fit


@pytest.mark.filterwarnings("ignore::turnover_risk.DataQualityWarning")
def test_a_large_logistic_fit_uses_float32_and_stays_within_tolerance(labelled, monkeypatch):
    monkeypatch.setattr(_pipeline, "FLOAT32_MIN_CELLS", 0)
    seen, fit = _spy_on_design_dtype(monkeypatch)
    model = tr.TurnoverRiskModel(kind="logistic", random_state=0, calibrate="sigmoid").fit(labelled)
    assert seen["dtype"] == (np.float32 if FLOAT32_LBFGS else np.float64)
    assert model.transformed_mean_.dtype == np.float64
    monkeypatch.setattr(LogisticRegression, "fit", fit)
    raw = model.decision_function(labelled)
    plain = _plain(model, labelled)
    p = 1 / (1 + np.exp(-raw))
    # float32 inputs and the float32 loss of lbfgs: within 1e-4 of the float64 fit
    np.testing.assert_allclose(p, plain, rtol=0, atol=1e-4 if FLOAT32_LBFGS else 1e-9)
    assert model.explain(labelled.head(50)).values.shape == (50, len(model.features_))


@pytest.mark.filterwarnings("ignore::turnover_risk.DataQualityWarning")
@pytest.mark.parametrize("design_dtype", ["float64", "float32"])
def test_design_dtype_fixes_the_design_whatever_the_size(labelled, monkeypatch, design_dtype):
    """``design_dtype="float64"`` keeps float64 above the float32 threshold (the plain
    pipeline's numbers to rounding); ``"float32"`` takes float32 below it."""
    monkeypatch.setattr(_pipeline, "FLOAT32_MIN_CELLS", 0 if design_dtype == "float64" else 10**12)
    seen, fit = _spy_on_design_dtype(monkeypatch)
    model = tr.TurnoverRiskModel(random_state=0, design_dtype=design_dtype).fit(labelled)
    assert seen["dtype"] == np.dtype(design_dtype)
    monkeypatch.setattr(LogisticRegression, "fit", fit)
    p = model.predict_proba(labelled)[:, 1]
    atol = 1e-9 if design_dtype == "float64" else 1e-4
    np.testing.assert_allclose(p, _plain(model, labelled), rtol=0, atol=atol)
    assert tr.TurnoverRiskModel(design_dtype=design_dtype).get_params()["design_dtype"] == (
        design_dtype
    )


@pytest.mark.parametrize(
    ("kind", "design_dtype"), [("gbm", "float32"), ("logistic", "float16"), ("logistic", None)]
)
def test_a_design_dtype_that_does_not_apply_is_refused_by_name(kind, design_dtype):
    X = pd.DataFrame({"x": np.arange(40.0)})
    y = np.arange(40) % 2
    with pytest.raises(ValueError, match=rf"design_dtype={design_dtype!r} .*kind={kind!r}"):
        tr.TurnoverRiskModel(kind=kind, design_dtype=design_dtype).fit(X, y)


def test_a_model_saved_before_design_dtype_reads_as_auto():
    model = tr.TurnoverRiskModel()
    del model.design_dtype  # as a model object from an older version carries no such attribute
    assert model.get_params()["design_dtype"] == "auto"


def test_person_codes_give_the_folds_and_profile_of_the_ids(make_panel):
    """fit groups rows by integer codes of the ids in their sorted order: the calibration folds
    (GroupKFold) and the drift profile are those the id strings themselves give."""
    from turnover_risk.models._calibration import _out_of_fold_raw, _SigmoidCalibrator
    from turnover_risk.models._inputs import _resolved_rows
    from turnover_risk.models._profile import build_profile

    rng = np.random.default_rng(5)
    ids = [f"{rng.choice(list('QAZXM'))}{i:03d}" for i in rng.permutation(60)]
    panel = make_panel(n_persons=60, n_periods=20, ids=ids)
    model = tr.TurnoverRiskModel(calibrate="sigmoid", random_state=0).fit(panel)
    resolved, _, _ = _resolved_rows(panel, model.spec_)
    rows = panel[resolved & panel["left_within_horizon"].notna().to_numpy()]
    y = rows["left_within_horizon"].to_numpy().astype(int)
    persons = rows["employee_id"].to_numpy(dtype=object)
    design = model.pipeline_.named_steps["prep"].transform(model._prepare(rows[model.features_]))
    clf = model.pipeline_.named_steps["clf"]
    oof = _out_of_fold_raw(clf, design, y, persons, calibrate="sigmoid", random_state=0)
    by_ids = _SigmoidCalibrator().fit(oof, y)
    assert (model.calibrator_.a_, model.calibrator_.b_) == pytest.approx((by_ids.a_, by_ids.b_))
    profile = build_profile(rows[model.features_], model.features_, model._numeric_, persons)
    assert profile == model.input_profile_


def test_other_preprocessing_is_fitted_by_scikit_learn():
    """A preprocessing the one-pass design does not cover (an all-missing column kept as
    zeros, a scaler that does not centre) is fitted by scikit-learn itself: same design as its
    ``fit_transform``, which the one pass would get wrong (it drops the empty column)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": np.nan, "c": rng.choice(["x", "y"], 60)})
    X.loc[::7, "a"] = np.nan
    y = (rng.random(60) < 0.4).astype(int)
    num = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler(with_mean=False)),
        ]
    )
    cat = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
                    ("onehot", OneHotEncoder(sparse_output=False))])  # fmt: skip

    def pipeline():
        prep = ColumnTransformer([("num", num, ["a", "b"]), ("cat", cat, ["c"])])
        return Pipeline([("prep", prep), ("clf", LogisticRegression())])

    assert not _pipeline.one_pass_fits(pipeline().named_steps["prep"])
    fitted, design = _pipeline._fit_pipeline(pipeline(), X, y)
    want = pipeline().named_steps["prep"].fit_transform(X)
    assert design.shape == (60, 4)  # a, b (kept: zeros), c=x, c=y
    assert (design.iloc[:, 1] == 0).all()
    np.testing.assert_allclose(design.to_numpy(), want)
    plain = pipeline().fit(X, y).predict_proba(X)[:, 1]
    np.testing.assert_allclose(fitted.predict_proba(X)[:, 1], plain, rtol=1e-12)
