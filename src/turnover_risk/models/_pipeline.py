"""The pipeline inside :class:`~turnover_risk.TurnoverRiskModel`: its steps, threads and columns.

:func:`_build_pipeline` makes the ``ColumnTransformer`` (numeric columns: median imputation
with missing-value indicators, plus standard scaling for the logistic model; categorical
columns: constant imputation and one-hot encoding named by :func:`_onehot_name`) followed by
the classifier; :func:`_transformed_to_feature` maps each transformed column back to its input
feature (what explanations sum over); :func:`_blas_single_thread` limits the threads of a fit;
:func:`_fit_pipeline` fits it (medians by ``np.nanmedian``, the design made once).
Model files pickle ``_onehot_name`` by this module's path (0.1.0 files by
``turnover_risk.models._onehot_name``, which ``turnover_risk.models`` still resolves).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from turnover_risk.models._params import _estimator_class

MISSING_CATEGORY = "(missing)"
SMALL_FIT_CELLS = 2_000_000
"""Frames with fewer cells (rows x columns) are fitted single-threaded (see _blas_single_thread)."""


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


class _NanMedianImputer(SimpleImputer):
    """``SimpleImputer(strategy="median")`` whose fit takes medians with ``np.nanmedian``.

    scikit-learn takes them with ``np.ma.median``, which sorts every column: 10-20 times slower
    (about 15 s of a 2-million-row fit). ``np.nanmedian`` partitions instead and gives the same
    numbers (the middle value, or the mean of the two middle values). Used only while fitting:
    :func:`_fit_pipeline` turns each instance back into a plain ``SimpleImputer``, so fitted
    models hold (and files pickle) scikit-learn's own class. Any other case is left to
    ``SimpleImputer``.
    """

    def _dense_fit(self, X, strategy, missing_values, fill_value):
        if (
            strategy != "median"
            or not isinstance(missing_values, float)
            or not np.isnan(missing_values)
            or X.dtype.kind != "f"
            or not hasattr(self, "_fit_indicator")
        ):
            return super()._dense_fit(X, strategy, missing_values, fill_value)
        missing = np.isnan(X)
        self._fit_indicator(missing)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
            median = np.nanmedian(X, axis=0)
        median[np.isnan(median)] = 0 if self.keep_empty_features else np.nan
        return median


def _fit_pipeline(
    pipeline: Pipeline, Xp: pd.DataFrame, y01: np.ndarray
) -> tuple[Pipeline, pd.DataFrame]:
    """Fit ``pipeline`` (from :func:`_build_pipeline`) on ``Xp``; return it and the transformed
    design the classifier was fitted on (one C-ordered float64 block).

    The same fitted pipeline as ``pipeline.fit(Xp, y01)``, with three savings: medians by
    :class:`_NanMedianImputer`; the design is stacked once from arrays (:func:`_arrays_out`)
    into one C-ordered float64 block that the classifier's input check takes without a copy
    (the frame ``pipeline.fit`` makes has several blocks and is copied, maybe twice); and the
    caller takes the means (and calibration folds) from that design rather than from a second
    transform.
    """
    prep, clf = pipeline.named_steps["prep"], pipeline.named_steps["clf"]
    _swap_imputers(prep.transformers, SimpleImputer, _NanMedianImputer)
    _arrays_out(prep)
    try:
        with warnings.catch_warnings(), _blas_single_thread(Xp.size):
            warnings.filterwarnings("ignore", message=".*Skipping features without any observed")
            design = np.ascontiguousarray(prep.fit_transform(Xp, y01), dtype=np.float64)
            frame = pd.DataFrame(design, columns=prep.get_feature_names_out(), copy=False)
            clf.fit(frame, y01)
    finally:
        _swap_imputers(prep.transformers, _NanMedianImputer, SimpleImputer)
        _swap_imputers(getattr(prep, "transformers_", []), _NanMedianImputer, SimpleImputer)
        pipeline.set_output(transform="pandas")
    return pipeline, frame


def _arrays_out(prep: ColumnTransformer) -> None:
    """Let ``prep`` and the last step of each of its pipelines return arrays while fitting.

    Every other step keeps returning frames, so each step is fitted on what it is fitted on in
    ``pipeline.fit`` (a frame: it records the column names); only the pieces that are stacked
    into the design skip the frames that would be copied into it. ``pipeline.set_output``
    restores frames everywhere after the fit.
    """
    prep.set_output(transform="default")
    for _, trans, _ in prep.transformers:
        if isinstance(trans, Pipeline):
            for _, step in trans.steps[:-1]:
                step.set_output(transform="pandas")


def _swap_imputers(transformers: list, old: type, new: type) -> None:
    """Make every median imputer of class ``old`` in a ColumnTransformer's list a ``new``."""
    for _, trans, _ in transformers:
        for step in getattr(trans, "named_steps", {}).values():
            if type(step) is old and step.strategy == "median":
                step.__class__ = new
