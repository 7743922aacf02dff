"""The one-pass training design (``models/_design.py``) equals scikit-learn's own steps.

``_fit_design`` fits the preprocessing on witness rows, sets the medians and the scaler's moments
from all rows and writes the design in row chunks; here it is checked against
``SimpleImputer(median, add_indicator) + StandardScaler`` and the one-hot encoder fitted and
applied the ordinary way, on random frames with missing values, and the fitted state attribute by
attribute.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from turnover_risk.models._design import _fit_design, _witness_rows
from turnover_risk.models._pipeline import _build_pipeline
from turnover_risk.models._profile import _distinct

pytestmark = pytest.mark.filterwarnings("ignore:.*Skipping features without any observed")

VALUES = st.sampled_from([0.0, 1.0, -2.5, 3.25, 1e6, np.nan])


@st.composite
def frames(draw):
    """A frame of 1-40 rows: float64, float32 and integer columns (some all-missing or
    constant), and a text column with missing values; categories may first appear late."""
    n = draw(st.integers(1, 40))
    cols: dict[str, object] = {}
    for j in range(draw(st.integers(1, 4))):
        vals = np.array(draw(st.lists(VALUES, min_size=n, max_size=n)))
        cols[f"f{j}"] = vals.astype(draw(st.sampled_from([np.float64, np.float32])))
    if draw(st.booleans()):
        cols["count"] = np.array(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    if draw(st.booleans()):
        cols["role"] = pd.Series(
            draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n)),
            dtype=draw(st.sampled_from([object, "category"])),
        )
    return pd.DataFrame(cols)


def _prepare(X: pd.DataFrame) -> pd.DataFrame:
    """What TurnoverRiskModel._prepare gives: numbers as float64, text as objects with NaN."""
    out = X.copy()
    for c in X.columns:
        if X[c].dtype.kind in "fiu":
            out[c] = X[c].astype(np.float64)
        else:
            vals = X[c].astype(object).to_numpy(copy=True)
            vals[pd.isna(X[c]).to_numpy()] = np.nan
            out[c] = vals
    return out


def _assert_same_fitted(a, b, path="prep"):
    """Every fitted attribute of ``a`` equals ``b``'s (moments to 1e-9 relative)."""
    assert type(a) is type(b), path
    if isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same_fitted(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _assert_same_fitted(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        if a.dtype.kind in "fiub":
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=path)
        else:
            assert a.tolist() == b.tolist(), path
    elif hasattr(a, "get_params"):
        assert set(vars(a)) == set(vars(b)), path
        for k in vars(a):
            _assert_same_fitted(vars(a)[k], vars(b)[k], f"{path}.{k}")
    elif isinstance(a, float):
        assert a == b or (np.isnan(a) and np.isnan(b)), path
    elif not callable(a):
        assert a == b, path


def _prep(kind: str, X: pd.DataFrame) -> ColumnTransformer:
    numeric = {c for c in X.columns if X[c].dtype.kind in "fiu"}
    pipe = _build_pipeline(kind, list(X.columns), numeric, {}, class_weight=None, random_state=0)
    return pipe.named_steps["prep"]


@settings(max_examples=150, deadline=None)
@given(X=frames(), kind=st.sampled_from(["logistic", "gbm"]), chunk=st.sampled_from([1, 3, 64]))
def test_design_equals_the_fitted_steps_transform(X, kind, chunk):
    prep = _prep(kind, X)
    reference = clone(prep).fit(_prepare(X))
    design = _fit_design(prep, X, _prepare, chunk_rows=chunk)
    _assert_same_fitted(prep, reference)
    expected = reference.transform(_prepare(X)).to_numpy(dtype=float)
    assert design.dtype == np.float64 and design.flags.c_contiguous
    np.testing.assert_allclose(design, expected, rtol=1e-9, atol=1e-9)
    # and the fitted prep transforms new rows as the reference does
    np.testing.assert_allclose(
        prep.transform(_prepare(X)).to_numpy(dtype=float), expected, rtol=1e-9, atol=1e-9
    )


@settings(max_examples=100, deadline=None)
@given(X=frames(), chunk=st.sampled_from([1, 2, 5, 1000]))
def test_fused_numeric_block_equals_simple_imputer_then_standard_scaler(X, chunk):
    """The numeric part alone, against the two scikit-learn steps applied one after the other."""
    numeric = [c for c in X.columns if X[c].dtype.kind in "fiu"]
    plain = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ]
    )
    expected = plain.fit_transform(X[numeric].to_numpy(dtype=np.float64))
    design = _fit_design(_prep("logistic", X[numeric]), X[numeric], _prepare, chunk_rows=chunk)
    np.testing.assert_allclose(design, expected, rtol=1e-9, atol=1e-9)


def test_late_patterns_are_seen_by_the_witness_rows():
    """A missing value, a category and the only observed value of a column that all appear after
    the first chunk still shape the fitted steps (indicator, one-hot column, kept column)."""
    n = 50
    X = pd.DataFrame(
        {
            "a": np.r_[np.arange(n - 1, dtype=float), np.nan],
            "b": np.r_[np.full(n - 1, np.nan), 7.0],
            "role": ["x"] * (n - 1) + ["late"],
        }
    )
    prep = _prep("logistic", X)
    design = _fit_design(prep, X, _prepare, chunk_rows=4)
    names = list(prep.get_feature_names_out())
    assert names == ["a", "b", "missingindicator_a", "missingindicator_b", "role=late", "role=x"]
    assert design[-1, names.index("role=late")] == 1.0
    assert np.isclose(prep.named_transformers_["num"]["impute"].statistics_, [24.0, 7.0]).all()
    assert sorted(_witness_rows([X["a"].to_numpy(), X["b"].to_numpy()], [])) == [0, n - 1]


def test_scaler_moments_are_the_full_data_moments():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, 10_000)
    x[rng.random(x.size) < 0.2] = np.nan
    X = pd.DataFrame({"x": x.astype(np.float32)})
    prep = _prep("logistic", X)
    _fit_design(prep, X, _prepare, chunk_rows=333)
    scaler = prep.named_transformers_["num"]["scale"]
    x32 = X["x"].to_numpy(np.float64)  # the float32 values, widened
    filled = np.where(np.isnan(x32), np.nanmedian(x32), x32)
    np.testing.assert_allclose(scaler.mean_[0], filled.mean(), rtol=1e-12)
    np.testing.assert_allclose(scaler.var_[0], filled.var(), rtol=1e-10)
    np.testing.assert_allclose(scaler.mean_[1], np.isnan(x).mean(), rtol=1e-12)
    assert scaler.n_samples_seen_ == x.size


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 30)), min_size=0, max_size=60),
    n_bins=st.integers(5, 7),
    spread=st.sampled_from([1, 10**6]),  # small codes: a presence table; large: hashing
)
def test_distinct_persons_per_bin_matches_its_definition(pairs, n_bins, spread):
    bins = np.array([b for b, _ in pairs], dtype=np.int64)
    person = np.array([p * spread for _, p in pairs], dtype=np.int64)
    expected = np.zeros(n_bins, dtype=int)
    for b in range(n_bins):
        expected[b] = len({p for bb, p in pairs if bb == b})
    np.testing.assert_array_equal(_distinct(bins, person, n_bins), expected)
