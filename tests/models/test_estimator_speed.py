"""The fast paths of fitting give exactly what the plain scikit-learn steps give.

The preprocessing fitted and its design written in one pass (``_design``; more in
test_training_design.py), the design handed to the classifier as one array, the constant-column check by minimum and maximum, and the per-municipality
screening that counts values only for the columns that need it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GroupKFold

from turnover_risk.models import TurnoverRiskModel
from turnover_risk.models._calibration import _out_of_fold_raw
from turnover_risk.models._inputs import _group_confined_columns, _is_constant
from turnover_risk.models._pipeline import _build_pipeline, _fit_pipeline

FLOATS = st.sampled_from([0.0, -0.0, 1.0, 2.5, -3.0, np.inf, -np.inf, np.nan])


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(0, 12), elements=FLOATS))
def test_is_constant_matches_nunique(values):
    s = pd.Series(values)
    assert _is_constant(s) == (s.nunique(dropna=False) <= 1)
    assert _is_constant(s.astype("float32")) == (s.astype("float32").nunique(dropna=False) <= 1)


def _confined_by_hand(X: pd.DataFrame, groups: pd.Series, min_groups: int) -> set[str]:
    """The definition: groups with a row whose value differs from the column's mode."""
    n_groups = groups.nunique()
    threshold = min(min_groups, n_groups)
    if n_groups < 2 or threshold <= 1:
        return set()
    out = set()
    for c in X.columns:
        key = X[c].astype(object).where(X[c].notna(), "<NA>").astype(str)
        first_seen = pd.unique(key)
        counts = key.value_counts()
        mode = next(v for v in first_seen if counts[v] == counts.max())  # ties: first seen
        support = groups[(key != mode) & groups.notna()].nunique()
        if support < threshold:
            out.add(c)
    return out


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 40),
    n_groups=st.integers(1, 5),
    min_groups=st.integers(1, 4),
)
def test_group_screening_matches_its_definition(data, n, n_groups, min_groups):
    groups = pd.Series(
        data.draw(st.lists(st.sampled_from([*"abcde"[:n_groups], None]), min_size=n, max_size=n)),
        dtype="string",
    )
    cols = {
        f"x{j}": data.draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0, np.nan])))
        for j in range(3)
    }
    cols["role"] = data.draw(st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n))
    X = pd.DataFrame(cols)
    got = set(_group_confined_columns(X, groups, min_groups))
    assert got == _confined_by_hand(X, groups, min_groups)


def _data(seed: int = 0, n: int = 600):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n)),
            "c": np.full(n, np.nan),  # all missing: dropped by the imputer
            "d": np.where(np.arange(n) % 2 == 0, 1.0, 2.0),  # even count: mean of two middles
            "role": rng.choice(np.array(["x", "y", np.nan], dtype=object), n),
        }
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-X["a"]))).astype(int)
    return X, y


@pytest.mark.filterwarnings("ignore:.*Skipping features without any observed")
@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_fit_pipeline_equals_pipeline_fit_and_keeps_plain_classes(kind):
    X, y = _data(1)
    features = list(X.columns)
    numeric = {"a", "b", "c", "d"}
    params = {"C": 1.0, "max_iter": 1000} if kind == "logistic" else {"max_iter": 20}
    pipe = _build_pipeline(kind, features, numeric, params, class_weight=None, random_state=0)
    reference = clone(pipe).fit(X, y)
    fitted, design = _fit_pipeline(pipe, X, y)
    mean = design.to_numpy().mean(axis=0)
    assert design.to_numpy().flags.c_contiguous and design.to_numpy().dtype == np.float64
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a step fitted without the feature names
        warnings.filterwarnings("ignore", message=".*Skipping features without any observed")
        proba = fitted.predict_proba(X)
        z = fitted.named_steps["prep"].transform(X)
    np.testing.assert_allclose(proba, reference.predict_proba(X), rtol=0, atol=1e-12)
    assert isinstance(z, pd.DataFrame)  # frames again after fitting
    np.testing.assert_allclose(mean, z.to_numpy().mean(axis=0), rtol=0, atol=1e-12)
    prep = fitted.named_steps["prep"]
    imputer = prep.named_transformers_["num"].named_steps["impute"]
    assert type(imputer) is SimpleImputer  # files pickle scikit-learn's class, not ours
    assert type(prep.transformers[0][1].named_steps["impute"]) is SimpleImputer
    assert list(fitted.named_steps["clf"].feature_names_in_) == list(z.columns)
    _assert_same_state(fitted, reference)


def _assert_same_state(a, b, path="pipeline"):
    """Every fitted attribute of ``a`` equals ``b``'s, recursively through the steps."""
    assert type(a) is type(b), path
    if isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same_state(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _assert_same_state(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        np.testing.assert_allclose(
            np.asarray(a, dtype=float) if a.dtype.kind in "fiub" else 0,
            np.asarray(b, dtype=float) if b.dtype.kind in "fiub" else 0,
            rtol=0,
            atol=1e-9,
            err_msg=path,
        )
        if a.dtype.kind not in "fiub":
            assert a.tolist() == b.tolist(), path
    elif hasattr(a, "get_params"):
        skip = {"_predictors", "_bin_mapper", "_feature_subsample_rng", "train_score_"}
        assert set(vars(a)) == set(vars(b)), path
        for k in vars(a):
            if k not in skip and k != "n_iter_":
                _assert_same_state(vars(a)[k], vars(b)[k], f"{path}.{k}")
    elif isinstance(a, float):
        assert a == b or (np.isnan(a) and np.isnan(b)), path
    elif not callable(a):
        assert a == b, path


def test_calibration_folds_refit_only_the_classifier_on_the_design():
    X, y = _data(2, n=400)
    X = X.drop(columns="c")
    groups = np.arange(len(y)) // 4  # "persons" of four rows each
    model = TurnoverRiskModel(calibrate="sigmoid", C=1.0).fit(X, y)
    prep, clf = model.pipeline_.named_steps["prep"], model.pipeline_.named_steps["clf"]
    design = prep.transform(model._prepare(X))
    oof = _out_of_fold_raw(clf, design, y, groups, calibrate="sigmoid", random_state=0)
    by_hand = np.empty(len(y))
    for train, test in GroupKFold(5).split(design, y, groups):
        fold = clone(clf).fit(design.iloc[train], y[train])
        by_hand[test] = fold.decision_function(design.iloc[test])
    np.testing.assert_allclose(oof, by_hand, rtol=0, atol=1e-12)
    assert np.isfinite(model.calibrator_.a_) and model.calibrator_.b_ > 0
