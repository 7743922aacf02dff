"""The training design of :class:`~turnover_risk.TurnoverRiskModel`, made in one pass.

:func:`_fit_design` fits the preprocessing ``ColumnTransformer`` of :func:`_build_pipeline` and
returns its output on the training rows (the design the classifier is fitted on) without
running scikit-learn's ``fit_transform`` over all rows, which stacks five or six full-size
intermediate arrays (the float64 inputs, the imputed block, the missing indicators, their
concatenation, the scaled copy, the stacked output). Instead:

1. the steps are fitted on a few *witness rows* that hold every missing/non-missing pattern of
   each numeric column and every category of each categorical one, so every fitted attribute
   that depends on which values occur (kept columns, indicator columns, categories, names) is
   scikit-learn's own;
2. the statistics that depend on every row are then set from all rows, column by column in
   float64: the medians (``np.nanmedian``, the values ``SimpleImputer`` takes) and the mean and
   variance of each imputed column and indicator (what ``StandardScaler`` stores);
3. the design is written once, in row chunks, into one C-ordered array: medians filled in,
   indicators, already standardised, and the one-hot columns set by index.

The fitted preprocessing equals ``prep.fit(prepare(X))`` (moments to rounding) and the design
equals its ``transform`` (tests/models/test_training_design.py). The design is float64, or
float32 when asked for (:func:`~turnover_risk.models._pipeline._fit_pipeline` asks for it when
the logistic solver takes float32, as lbfgs does in recent scikit-learn; at the floor, 1.5, it
would copy a float32 design to float64): the statistics are float64 either way.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CHUNK_ROWS = 8192
"""Rows per chunk when the design is written (a chunk of ~80 columns stays in cache)."""


def _numeric_values(s: pd.Series) -> np.ndarray:
    """A numeric column as a float array (NaN for missing), without copying float columns.

    Float and integer numpy columns are returned as they are (widened to float64 where the
    design is written); booleans, nullable and other numeric dtypes are converted to float64.
    """
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiu":
        return s.to_numpy()
    return pd.to_numeric(
        s.astype("Float64") if pd.api.types.is_bool_dtype(s) else s, errors="coerce"
    ).to_numpy(dtype=np.float64, na_value=np.nan)


def _category_values(s: pd.Series) -> np.ndarray:
    """A categorical column as objects with ``np.nan`` for missing (what the imputer takes)."""
    vals = s.astype(object).to_numpy(copy=True)
    vals[pd.isna(s).to_numpy()] = np.nan
    return vals


def _witness_rows(num: list[np.ndarray], cat: list[np.ndarray]) -> np.ndarray:
    """Rows that show every pattern the fitted steps record: for each numeric column its
    first non-missing and first missing row, for each categorical column (given as codes of
    its distinct values, missing included) the first row of each value."""
    rows: list[np.ndarray] = [np.zeros(1, dtype=np.intp)]
    for x in num:
        missing = np.isnan(x)
        first_missing, first_seen = int(missing.argmax()), int((~missing).argmax())
        rows.append(np.array([first_missing if missing[first_missing] else 0, first_seen]))
    for codes in cat:
        rows.append(np.unique(codes, return_index=True)[1])
    return np.unique(np.concatenate(rows))


def one_pass_fits(prep: ColumnTransformer) -> bool:
    """Whether :func:`_fit_design` can fit ``prep``: the shape :func:`_build_pipeline` makes
    (``"num"``: median imputation that drops all-missing columns, optionally a centring and
    scaling ``StandardScaler``; ``"cat"``: constant imputation and a dense one-hot encoding of
    every category). Other preprocessing is fitted by scikit-learn itself (``fit_transform``).

    Examples
    --------
    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.pipeline import Pipeline
    >>> num = Pipeline([("impute", SimpleImputer(strategy="median"))])
    >>> one_pass_fits(ColumnTransformer([("num", num, ["a"])]))
    True
    >>> keep = Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True))])
    >>> one_pass_fits(ColumnTransformer([("num", keep, ["a"])]))
    False
    """
    for name, trans, _ in prep.transformers:
        steps = getattr(trans, "named_steps", None)
        if name not in ("num", "cat") or steps is None:
            return False
        imputer, scaler = steps.get("impute"), steps.get("scale")
        if not isinstance(imputer, SimpleImputer) or imputer.keep_empty_features:
            return False
        if imputer.strategy != ("median" if name == "num" else "constant"):
            return False
        if scaler is not None and not (
            isinstance(scaler, StandardScaler) and scaler.with_mean and scaler.with_std
        ):
            return False
        onehot = steps.get("onehot")
        if name == "cat" and not (
            isinstance(onehot, OneHotEncoder)
            and onehot.drop is None
            and onehot.min_frequency is None
            and onehot.max_categories is None
            and not onehot.sparse_output
        ):
            return False
    return True


def _fit_design(
    prep: ColumnTransformer,
    X: pd.DataFrame,
    prepare: Callable[[pd.DataFrame], pd.DataFrame],
    *,
    chunk_rows: int = CHUNK_ROWS,
    dtype: type = np.float64,
) -> np.ndarray:
    """Fit ``prep`` on ``X`` and return its output on ``X`` as a C-ordered ``dtype`` array.

    ``prep`` is the ``ColumnTransformer`` of :func:`_build_pipeline` (a ``"num"`` pipeline of
    median imputation with indicators and optional standard scaling, a ``"cat"`` pipeline of
    constant imputation and dense one-hot encoding); ``prepare`` turns rows of ``X`` into
    what ``prep`` takes (the model's ``_prepare``). See the module docstring.
    """
    cols = {name: list(c) for name, _, c in prep.transformers}
    numeric, categorical = cols.get("num", []), cols.get("cat", [])
    num = [_numeric_values(X[c]) for c in numeric]
    cat = [pd.factorize(_category_values(X[c]), use_na_sentinel=False) for c in categorical]
    witness = _witness_rows(num, [codes for codes, _ in cat])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Skipping features without any observed")
        prep.fit(prepare(X.iloc[witness]))
    n = len(X)
    width = max((sl.stop for sl in prep.output_indices_.values()), default=0)
    design = np.empty((n, width), dtype=dtype)
    filled = 0
    for name, trans, _ in prep.transformers_:
        sl = prep.output_indices_.get(name, slice(0, 0))
        if sl.stop > sl.start:
            (_fill_numeric if name == "num" else _fill_onehot)(
                trans, num if name == "num" else cat, design, sl, chunk_rows
            )
            filled += sl.stop - sl.start
    if filled != width:  # pragma: no cover - a preprocessing of another shape
        raise RuntimeError("the design has columns that no step filled")
    return design


def _fill_numeric(
    trans, num: list[np.ndarray], design: np.ndarray, sl: slice, chunk_rows: int
) -> None:
    """Medians, indicators and (if the pipeline scales) standardised values of ``num``.

    The statistics come first, column by column in float64: the median (the value
    ``SimpleImputer`` takes from float64 inputs), then the mean and variance of the imputed
    column (what ``StandardScaler`` stores), from the observed values and the number imputed.
    The design is then written in row chunks, already standardised, in its own dtype.
    """
    imputer = trans.named_steps["impute"]
    scaler = trans.named_steps.get("scale")
    kept_list, medians, moments = [], np.full(len(num), np.nan), []
    has_missing = np.zeros(len(num), dtype=bool)
    for i, x in enumerate(num):
        missing = np.isnan(x)
        n_missing = int(np.count_nonzero(missing))
        has_missing[i] = n_missing > 0
        if n_missing == len(x):
            continue
        kept_list.append(i)
        observed = x[~missing] if n_missing else x.copy()  # our copy: partitioned in place
        if observed.dtype.kind != "f":
            observed = observed.astype(np.float64)
        medians[i] = _median(observed)
        if scaler is not None:
            moments.append(_filled_moments(observed, medians[i], n_missing))
    imputer.statistics_ = medians
    kept = np.asarray(kept_list, dtype=np.intp)
    indicator = (
        np.asarray(imputer.indicator_.features_, dtype=np.intp)
        if imputer.add_indicator
        else np.zeros(0, dtype=np.intp)
    )
    if len(kept) + len(indicator) != sl.stop - sl.start:  # pragma: no cover
        raise RuntimeError("numeric design width differs from the fitted imputer's")
    n = len(design)
    for i in indicator:
        if scaler is not None:
            share = np.isnan(num[i]).mean()
            moments.append((share, share * (1.0 - share)))
    shift, scale = np.zeros(len(kept) + len(indicator)), np.ones(len(kept) + len(indicator))
    if scaler is not None:
        shift, scale = _set_moments(scaler, np.array(moments).reshape(-1, 2), n)
    block = design[:, sl]
    for start in range(0, n, chunk_rows):
        rows = slice(start, min(start + chunk_rows, n))
        out = block[rows]
        for j, i in enumerate(kept):
            v = num[i][rows].astype(np.float64)
            if has_missing[i]:
                v[np.isnan(v)] = medians[i]
            np.subtract(v, shift[j], out=v)
            np.divide(v, scale[j], out=v)
            out[:, j] = v
        for j, i in enumerate(indicator, start=len(kept)):
            out[:, j] = (np.isnan(num[i][rows]) - shift[j]) / scale[j]


def _median(values: np.ndarray) -> float:
    """``np.median`` of the float64 values of ``values`` (no NaN), partitioning ``values``
    in place: the middle value, or the mean of the two middle values taken in float64."""
    k = len(values)
    if k % 2:
        values.partition(k // 2)
        return float(values[k // 2])
    values.partition([k // 2 - 1, k // 2])
    return (float(values[k // 2 - 1]) + float(values[k // 2])) / 2


def _filled_moments(observed: np.ndarray, median: float, n_missing: int) -> tuple[float, float]:
    """Mean and variance of ``observed`` with ``n_missing`` more values equal to ``median``
    (the imputed column), in float64 without widening the column: the observed values' mean
    and sum of squared deviations, then the filled values added exactly."""
    n_obs = len(observed)
    n = n_obs + n_missing
    m_obs = float(observed.mean(dtype=np.float64))
    dev = np.subtract(observed, m_obs, dtype=np.float64)
    np.multiply(dev, dev, out=dev)
    m2_obs = float(dev.sum())
    mean = (m_obs * n_obs + median * n_missing) / n
    m2 = m2_obs + n_obs * (m_obs - mean) ** 2 + n_missing * (median - mean) ** 2
    return mean, m2 / n


def _set_moments(scaler: StandardScaler, moments: np.ndarray, n: int):
    """Set the moments of ``scaler`` (fitted on the witness rows) to those of all ``n`` rows;
    return the shift and scale of each column.

    Near-constant columns get a scale of 1, by scikit-learn's rule: a variance at most
    ``n * eps * var + (n * mean * eps) ** 2``.
    """
    mean, var = moments[:, 0].copy(), moments[:, 1].copy()
    eps = np.finfo(np.float64).eps
    constant = var <= n * eps * var + (n * mean * eps) ** 2
    scale = np.sqrt(var)
    scale[constant] = 1.0
    scaler.n_samples_seen_ = type(scaler.n_samples_seen_)(n)
    scaler.mean_, scaler.var_, scaler.scale_ = mean, var, scale
    return mean, scale


def _fill_onehot(
    trans, cat: list[tuple[np.ndarray, np.ndarray]], design: np.ndarray, sl: slice, chunk_rows: int
) -> None:
    """One-hot columns of ``cat`` (codes and distinct values of each column), in the fitted
    encoder's category order."""
    imputer, encoder = trans.named_steps["impute"], trans.named_steps["onehot"]
    design[:, sl] = 0.0
    col = sl.start
    rows = np.arange(design.shape[0])
    for (codes, uniques), cats in zip(cat, encoder.categories_, strict=True):
        filled = np.asarray(uniques, dtype=object).copy()
        filled[pd.isna(filled)] = imputer.fill_value
        position = pd.Index(cats).get_indexer(filled)
        if (position < 0).any():  # pragma: no cover - every value is a witness's category
            raise RuntimeError("a training value is not among the encoder's categories")
        design[rows, col + position[codes]] = 1.0
        col += len(cats)
