"""The pipeline inside :class:`~turnover_risk.TurnoverRiskModel`: its steps, threads and columns.

:func:`_build_pipeline` makes the ``ColumnTransformer`` (numeric columns: median imputation
with missing-value indicators, plus standard scaling for the logistic model; categorical
columns: constant imputation and one-hot encoding named by :func:`_onehot_name`) followed by
the classifier; :func:`_transformed_to_feature` maps each transformed column back to its input
feature (what explanations sum over); :func:`_blas_single_thread` limits the threads of a fit;
:func:`_fit_pipeline` fits it (the preprocessing and its design in one pass, ``_design``).
Model files pickle ``_onehot_name`` by this module's path (0.1.0 files by
``turnover_risk.models._onehot_name``, which ``turnover_risk.models`` still resolves).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from turnover_risk.models._design import _fit_design, one_pass_fits
from turnover_risk.models._params import _estimator_class

MISSING_CATEGORY = "(missing)"
SMALL_FIT_CELLS = 2_000_000
"""Frames with fewer cells (rows x columns) are fitted single-threaded (see _blas_single_thread)."""
FLOAT32_MIN_CELLS = 20_000_000
"""Logistic fits on frames with at least this many cells (rows x input columns; about 400 000
panel rows) use a float32 design where the solver takes one (see :func:`_takes_float32`); smaller
ones keep float64 and the very numbers of a plain scikit-learn pipeline."""


def _onehot_name(feature: str, category: Any) -> str:
    """Name of a one-hot column: ``feature=category`` (module-level so models pickle)."""
    return f"{feature}={category}"


def _blas_single_thread(n_cells: int = 0):
    """Single-threaded BLAS (and OpenMP for small data) for the fits done here.

    With a few dozen columns the lbfgs steps are tiny; threaded BLAS only adds synchronisation
    and, on a busy machine, made a logistic fit on 23 000 rows 10x slower (30 s instead of 2 s).
    HistGradientBoosting's OpenMP threads spin the same way on small frames (a 600-row fit took
    20 s on an oversubscribed machine), so below ``SMALL_FIT_CELLS`` cells it runs on one thread.
    """
    if n_cells and n_cells < SMALL_FIT_CELLS:
        return threadpool_limits(limits=1)
    return threadpool_limits(limits=1, user_api="blas")


def _build_pipeline(
    kind: str,
    features: list[str],
    numeric_features: set[str],
    params: dict[str, Any],
    *,
    class_weight: Any,
    random_state: Any,
) -> Pipeline:
    """Unfitted preprocessing and classifier of ``kind`` for ``features``.

    ``numeric_features`` are imputed by their median (and scaled for the logistic model), the
    other features are one-hot encoded; ``params`` go to the classifier.
    """
    numeric = [c for c in features if c in numeric_features]
    categorical = [c for c in features if c not in numeric_features]
    num_steps: list = [("impute", SimpleImputer(strategy="median", add_indicator=True))]
    if kind == "logistic":
        num_steps.append(("scale", StandardScaler()))
    cat = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
            (
                "onehot",
                OneHotEncoder(
                    handle_unknown="ignore",
                    sparse_output=False,
                    feature_name_combiner=_onehot_name,
                ),
            ),
        ]
    )
    prep = ColumnTransformer(
        [("num", Pipeline(num_steps), numeric), ("cat", cat, categorical)],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    est_cls = _estimator_class(kind)
    est = est_cls(**params, class_weight=class_weight, random_state=random_state)
    return Pipeline([("prep", prep), ("clf", est)]).set_output(transform="pandas")


def _transformed_to_feature(pipeline: Pipeline) -> list[str]:
    """The input feature of each column of the fitted ``pipeline``'s transformed frame."""
    prep = pipeline.named_steps["prep"]
    mapping: list[str] = []
    for name, trans, cols in prep.transformers_:
        if len(cols) == 0 or trans == "drop":
            continue
        if name == "num":
            for out in trans.get_feature_names_out(cols):
                mapping.append(
                    out[len("missingindicator_") :]
                    if out.startswith("missingindicator_") and out not in cols
                    else out
                )
        elif name == "cat":
            enc = trans.named_steps["onehot"]
            for col, cats in zip(cols, enc.categories_, strict=True):
                mapping.extend([col] * len(cats))
    return mapping


def _fit_pipeline(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y01: np.ndarray,
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    *,
    design_dtype: str = "auto",
) -> tuple[Pipeline, pd.DataFrame]:
    """Fit ``pipeline`` (from :func:`_build_pipeline`) on ``X``; return it and the transformed
    design the classifier was fitted on (one C-ordered block: float32 for a large logistic fit
    whose solver takes float32, see ``FLOAT32_MIN_CELLS``, else float64; ``design_dtype``
    ``"float64"`` or ``"float32"`` fixes it).

    ``prepare`` turns rows of ``X`` into what the preprocessing takes (the model's
    ``_prepare``; default: ``X`` as it is). The fitted pipeline is that of
    ``pipeline.fit(prepare(X), y01)`` (the moments of the scaler to rounding), with the
    preprocessing fitted and the design written in one pass by :func:`_fit_design` rather than
    by ``fit_transform``, which widens the inputs to float64 and stacks several full-size
    intermediate arrays. The caller takes the means (and calibration folds) from that design
    rather than from a second transform.
    """
    prep, clf = pipeline.named_steps["prep"], pipeline.named_steps["clf"]
    dtype = _design_dtype(design_dtype, clf, X.size)
    prepare = prepare if prepare is not None else (lambda Z: Z)
    with _blas_single_thread(X.size):
        if one_pass_fits(prep):
            design = _fit_design(prep, X, prepare, dtype=dtype)
        else:  # a preprocessing of another shape: scikit-learn fits it itself
            design = np.asarray(prep.fit_transform(prepare(X)), dtype=dtype)
        frame = pd.DataFrame(design, columns=prep.get_feature_names_out(), copy=False)
        clf.fit(frame, y01)
    return pipeline, frame


def _design_dtype(design_dtype: str, clf: Any, n_cells: int) -> type:
    """The design's number type: ``design_dtype`` as given, or for ``"auto"`` float32 for a
    fit of at least ``FLOAT32_MIN_CELLS`` cells whose classifier keeps float32."""
    if design_dtype == "float64":
        return np.float64
    if design_dtype == "float32":
        return np.float32
    return np.float32 if _takes_float32(clf) and n_cells >= FLOAT32_MIN_CELLS else np.float64


def _takes_float32(clf: Any) -> bool:
    """Whether ``clf`` is a ``LogisticRegression`` that fits float32 data as float32.

    Half the memory and about half the time per lbfgs iteration of a float64 design. lbfgs
    takes float32 in recent scikit-learn (1.9 here); at 1.5 it copies float32 to float64, so there the
    design is made in float64. Found out once per solver by a fit on four rows.
    """
    return isinstance(clf, LogisticRegression) and _solver_keeps_float32(clf.solver)


@functools.cache
def _solver_keeps_float32(solver: str) -> bool:
    X = np.array([[0.0], [1.0], [2.0], [3.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            coef = LogisticRegression(solver=solver).fit(X, [0, 1, 0, 1]).coef_
        except (TypeError, ValueError):  # pragma: no cover - a solver of another version
            return False
    return coef.dtype == np.float32
