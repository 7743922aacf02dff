"""Turnover risk models: a scikit-learn estimator that knows panels, explains itself and saves safely.

:class:`TurnoverRiskModel` wraps a ``Pipeline``: a ``ColumnTransformer`` (numeric columns:
median imputation with missing-value indicators, plus standard scaling for the logistic model;
categorical columns: constant imputation and one-hot encoding that ignores unknown categories)
followed by a regularised ``LogisticRegression`` or a ``HistGradientBoostingClassifier``.

It fits either a panel from ``build_panel`` (its spec says which columns are features and
which is the label; censored rows are dropped) or any plain table ``X`` with a binary target
``y``. :meth:`TurnoverRiskModel.save` writes ``model.joblib`` plus a ``model.json`` manifest;
:func:`load_model` checks the file's SHA-256 against the manifest *before* unpickling it.

The estimator, its defaults and persistence live here (a saved model pickles
:class:`TurnoverRiskModel`, its calibrators and ``_onehot_name`` by this module's path).
Input handling (column screening, target encoding, resolved periods) is in ``_models_inputs``,
the unpenalised logistic fit behind calibration in ``_models_calibration``.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from turnover_risk._warnings import (
    DataQualityWarning,
    TurnoverRiskDeprecationWarning,
    TurnoverRiskWarning,
)
from turnover_risk.models._calibration import _logistic_newton
from turnover_risk.models._explain import (
    Explanation,
    _aggregate_to_features,
    linear_attribution,
    tree_attribution,
)
from turnover_risk.models._inputs import (
    ID_UNIQUE_MIN_ROWS,  # noqa: F401 (re-exported)
    SCREEN_GROUP_COLUMN,
    _as_frame,
    _check_supported_dtypes,
    _encode_target,
    _group_confined_columns,
    _is_numeric,
    _resolved_period_mask,
    _screen_columns,
)
from turnover_risk.panel._spec import ATTRS_KEY, PanelSpec, panel_spec

__all__ = [
    "KINDS",
    "ModelVersionWarning",
    "TurnoverRiskModel",
    "default_C",
    "default_gbm_params",
    "load_model",
]


KINDS: tuple[str, ...] = ("logistic", "gbm")
CALIBRATIONS: tuple[str | None, ...] = (None, "sigmoid", "isotonic")
MISSING_CATEGORY = "(missing)"

_LOGISTIC_DEFAULTS: dict[str, Any] = {"C": 1.0, "solver": "lbfgs", "max_iter": 5000}
PRIOR_VARIANCE = 0.012
"""Prior variance of a standardised logistic coefficient (prior SD about 0.11 log-odds per SD of
a feature) behind :func:`default_C`."""


def default_C(horizon: int | None) -> float:
    """Default inverse regularisation strength of the logistic model: ``0.012 / horizon``.

    ``LogisticRegression`` minimises ``C * sum(log loss) + ||w||^2 / 2``: a Gaussian prior with
    variance ``C`` on the standardised coefficients when the rows are independent. In a
    person-period panel they are not: with a horizon of ``h`` periods, consecutive rows of a
    person share most of their label window, so each outcome is counted about ``h`` times.
    Dividing the log-likelihood by ``h`` gives ``C = PRIOR_VARIANCE / h`` (0.001 for monthly
    rows and a 12-month horizon). Plain tables (``horizon=None``) keep ``C = 1``.

    The prior variance is measured, not derived: a person stays in the panel for years, so rows
    are correlated well beyond one horizon (shared frailty, slowly moving features), and about
    40 correlated features share a modest signal. Out-of-time calibration slopes (latest fold
    of ``evaluate(..., n_splits=2)``) on simulated registers with 80-120 units were 0.54-0.77
    with ``C = 0.01``, 0.73-0.91 with ``0.003`` and 0.81-1.10 with ``0.001``, with the highest
    ROC-AUC at ``0.001``; on the shipped sample the pooled slope went from 0.58 (``0.01``) to
    1.06 (``0.001``) and ROC-AUC from 0.613 to 0.624 (docs/models.md).

    Examples
    --------
    >>> round(default_C(12), 6)
    0.001
    >>> default_C(None)
    1.0
    """
    if horizon is None:
        return float(_LOGISTIC_DEFAULTS["C"])
    return PRIOR_VARIANCE / int(horizon)


_GBM_DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.05,
    "max_iter": 200,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
_GBM_PANEL_DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.03,
    "max_iter": 100,
    "max_leaf_nodes": 7,
}
GBM_LEAF_ROWS_PER_OUTCOME = 40
"""Rows per leaf of the gbm per *independent* outcome; a panel leaf needs ``40 * horizon`` rows."""


def default_gbm_params(horizon: int | None) -> dict[str, Any]:
    """Default ``HistGradientBoostingClassifier`` settings, regularised for panel rows.

    Plain tables (``horizon=None``): ``learning_rate=0.05``, ``max_iter=200``,
    ``max_leaf_nodes=15``, ``min_samples_leaf=40``, ``l2_regularization=1.0``. A panel with a
    horizon of ``h`` periods counts each outcome about ``h`` times (see :func:`default_C`), so a
    leaf of 40 rows holds only 40 / h independent outcomes and the gradient and Hessian sums of
    a leaf are inflated ``h``-fold: the panel defaults scale ``min_samples_leaf`` (``40 * h``)
    and ``l2_regularization`` (``1.0 * h``) with the horizon and grow fewer, smaller trees
    (``max_leaf_nodes=7``, ``learning_rate=0.03``, ``max_iter=100``). On the shipped sample this
    raised the pooled out-of-time calibration slope from 0.15 to 0.74 and ROC-AUC from 0.55 to
    0.61, and cut the evaluation time five-fold (docs/models.md).

    Examples
    --------
    >>> default_gbm_params(12)["min_samples_leaf"], default_gbm_params(12)["l2_regularization"]
    (480, 12.0)
    >>> default_gbm_params(None)["min_samples_leaf"]
    40
    """
    if horizon is None:
        return dict(_GBM_DEFAULTS)
    h = int(horizon)
    return {
        **_GBM_DEFAULTS,
        **_GBM_PANEL_DEFAULTS,
        "min_samples_leaf": GBM_LEAF_ROWS_PER_OUTCOME * h,
        "l2_regularization": float(_GBM_DEFAULTS["l2_regularization"]) * h,
    }


_OWN_ARGS = ("random_state", "class_weight")
SMALL_FIT_CELLS = 2_000_000
"""Frames with fewer cells (rows x columns) are fitted single-threaded (see _blas_single_thread)."""


class ModelVersionWarning(TurnoverRiskWarning):
    """A saved model was written by another version of turnover_risk or scikit-learn."""


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


def _estimator_class(kind: str):
    return LogisticRegression if kind == "logistic" else HistGradientBoostingClassifier


class _SigmoidCalibrator:
    """Platt scaling on log-odds: p = expit(a + b * raw)."""

    def fit(self, raw: np.ndarray, y: np.ndarray) -> _SigmoidCalibrator:
        self.a_, self.b_ = _logistic_newton(raw, y)
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return expit(self.a_ + self.b_ * np.asarray(raw, dtype=float))


class _IsotonicCalibrator:
    """Isotonic regression of the outcome on log-odds."""

    def fit(self, raw: np.ndarray, y: np.ndarray) -> _IsotonicCalibrator:
        self.iso_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(self.iso_.predict(np.asarray(raw, dtype=float)), dtype=float)


# --------------------------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------------------------


class TurnoverRiskModel(ClassifierMixin, BaseEstimator):
    """Probability that a person leaves within the horizon, with explanations.

    Parameters
    ----------
    kind : {"logistic", "gbm"}
        ``"logistic"``: L2-regularised logistic regression (defaults: ``C`` from
        :func:`default_C`, i.e. ``0.012 / horizon`` for a panel and ``1.0`` for a plain table;
        ``lbfgs``, ``max_iter=5000``) on imputed, scaled, one-hot encoded inputs — often as good as
        boosting on attrition data and exactly explainable. ``"gbm"``:
        ``HistGradientBoostingClassifier`` (defaults from :func:`default_gbm_params`: for a plain
        table ``learning_rate=0.05``, ``max_iter=200``, ``max_leaf_nodes=15``,
        ``min_samples_leaf=40``, ``l2_regularization=1.0``; for a panel fewer, smaller trees with
        ``min_samples_leaf=40 * horizon`` and ``l2_regularization=horizon``; always
        ``early_stopping=False`` so every fit on the same data gives the same trees).
    horizon : int, optional
        Periods ahead the label refers to. Default: the panel spec's horizon (``None`` for a
        plain table). Given together with a panel, it must match the panel's horizon. Used as
        the default gap of :func:`turnover_risk.evaluate` and written to the manifest.
    calibrate : {None, "sigmoid", "isotonic"}
        Default ``None``: both classifiers minimise log loss, so their probabilities are
        calibrated on the training distribution without an extra step (check with
        :func:`turnover_risk.evaluate`). A calibration step costs five extra fits and is worth
        it when ``class_weight`` is used (which distorts probabilities) or when evaluation shows
        a calibration slope far from 1. It is fitted on out-of-fold log-odds (folds grouped
        by person for a panel), then the classifier is refitted on all rows.
        Explanations always describe the uncalibrated log-odds.
    class_weight : dict, "balanced" or None
        Passed to the classifier. ``"balanced"`` inflates predicted risks; combine it with
        ``calibrate``.
    random_state : int or None
        Seed of the boosting and of the calibration folds.
    min_feature_groups : int, default 3
        Panels only (a frame with a ``municipality`` column and a panel spec): a feature whose
        values differ from its most common value (missing included) in fewer than
        ``min(min_feature_groups, number of municipalities)`` municipalities is dropped with a
        warning. Such a feature, e.g. the scores of a survey instrument that one municipality
        uses, identifies its municipalities, and the model learns their level of turnover in
        the training years rather than an effect of the feature. On the shipped sample the
        ProQOL columns come from one municipality of ten; dropping them raised the latest
        fold's calibration slope from 0.43 to 0.76 and the pooled ROC-AUC from 0.624 to 0.639
        (docs/models.md). ``1`` keeps every feature.
    estimator_params : dict, optional
        Extra parameters of the classifier, e.g. ``{"C": 0.5}`` or ``{"max_iter": 400}``.
    **kwargs
        Shorthand for ``estimator_params``: ``TurnoverRiskModel(kind="gbm", max_depth=3)``
        stores ``estimator_params={"max_depth": 3}``. ``set_params(C=0.1)`` and grid searches
        over such names work the same way.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Columns the model was fitted on (a panel: its spec's feature columns).
    features_ : list of str
        Columns actually used (after dropping identifier-like and constant columns).
    dropped_columns_ : dict
        Column name -> reason, for every column dropped before fitting (identifier-like,
        constant, or varying in too few municipalities; see ``min_feature_groups``).
    spec_ : PanelSpec or None
        Spec of the training panel (``None`` for a plain table).
    classes_ : ndarray
        ``[negative, positive]`` in the target's own spelling (e.g. ``[0, 1]``, ``["No", "Yes"]``).
    horizon_ : int or None
    n_censored_ : int
        Rows dropped because their label was missing (censored).
    n_unresolved_dropped_ : int
        Labelled rows of a panel dropped because more than half of their period's labels are
        censored (the last horizon of the data, where only leavers are labelled yet).
    n_train_rows_ : int
    training_periods_ : dict or None
        First and last period and number of periods of a panel.
    pipeline_ : Pipeline
        The fitted preprocessing and classifier.
    calibrator_ : object or None

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"caseload": rng.normal(20, 5, 300),
    ...                   "role": rng.choice(["caseworker", "leader"], 300)})
    >>> y = rng.random(300) < 1 / (1 + np.exp(-(X["caseload"] - 20) / 4))
    >>> model = TurnoverRiskModel(kind="logistic", C=0.5).fit(X, y)
    >>> model.get_params()["estimator_params"]
    {'C': 0.5}
    >>> model.predict_proba(X.head(2)).shape
    (2, 2)
    """

    def __init__(
        self,
        *,
        kind: str = "logistic",
        horizon: int | None = None,
        calibrate: str | None = None,
        class_weight: dict | str | None = None,
        random_state: int | None = None,
        min_feature_groups: int = 3,
        estimator_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.kind = kind
        self.horizon = horizon
        self.calibrate = calibrate
        self.class_weight = class_weight
        self.random_state = random_state
        self.min_feature_groups = min_feature_groups
        self.estimator_params = (
            {**(estimator_params or {}), **kwargs} if kwargs else estimator_params
        )

    # -- scikit-learn plumbing ---------------------------------------------------------------

    def set_params(self, **params: Any) -> TurnoverRiskModel:
        """Set parameters; names of the classifier (e.g. ``C``) go into ``estimator_params``."""
        own = set(self._get_param_names())
        extra = {k: v for k, v in params.items() if k not in own and "__" not in k}
        if extra:
            base = params.get("estimator_params", self.estimator_params) or {}
            params = {k: v for k, v in params.items() if k not in extra}
            params["estimator_params"] = {**base, **extra}
        return super().set_params(**params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "pipeline_")

    # -- validation --------------------------------------------------------------------------

    def _validated_params(self) -> dict[str, Any]:
        if self.kind not in KINDS:
            raise ValueError(
                f"kind={self.kind!r} is not a known model kind; choose one of: {', '.join(KINDS)}."
            )
        if self.calibrate not in CALIBRATIONS:
            raise ValueError(
                f"calibrate={self.calibrate!r} is not a calibration method; choose one of: "
                "None, 'sigmoid', 'isotonic'."
            )
        if self.horizon is not None and (
            isinstance(self.horizon, bool)
            or not isinstance(self.horizon, int | np.integer)
            or self.horizon < 1
        ):
            raise ValueError(f"horizon={self.horizon!r} must be a positive integer or None.")
        if (
            isinstance(self.min_feature_groups, bool)
            or not isinstance(self.min_feature_groups, int | np.integer)
            or self.min_feature_groups < 1
        ):
            raise ValueError(
                f"min_feature_groups={self.min_feature_groups!r} must be a positive integer; "
                "use 1 to keep features that vary in one municipality only."
            )
        params = dict(self.estimator_params or {})
        if not isinstance(params, dict):
            raise TypeError(f"estimator_params must be a dict; got {type(params).__name__}.")
        clash = [k for k in params if k in _OWN_ARGS]
        if clash:
            raise ValueError(
                f"estimator_params sets {clash}; pass these as TurnoverRiskModel arguments "
                f"instead, e.g. TurnoverRiskModel({clash[0]}=...)."
            )
        est_cls = _estimator_class(self.kind)
        allowed = set(est_cls().get_params())
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise ValueError(
                f"estimator_params {unknown} are not parameters of {est_cls.__name__} "
                f"(kind={self.kind!r}); allowed: {', '.join(sorted(allowed - set(_OWN_ARGS)))}."
            )
        defaults = _LOGISTIC_DEFAULTS if self.kind == "logistic" else _GBM_DEFAULTS
        return {**defaults, **params}

    # -- data preparation --------------------------------------------------------------------

    def _split_panel(self, X: pd.DataFrame) -> tuple[pd.DataFrame, PanelSpec | None]:
        """Reduce a panel to its spec's feature columns (frames without a spec pass through)."""
        if ATTRS_KEY not in X.attrs:
            return X, None
        spec = panel_spec(X)
        return X[[c for c in spec.feature_cols if c in X.columns]], spec

    def _prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """Numeric columns as float64 (NaN for missing), categoricals as object (NaN)."""
        out = {}
        for c in self.features_:
            s = X[c]
            if c in self._numeric_:
                if not _is_numeric(s) and not s.isna().all():
                    raise TypeError(
                        f"column {c!r} was numeric when the model was fitted but has dtype "
                        f"{s.dtype} now; convert it back to numbers."
                    )
                out[c] = (
                    pd.to_numeric(
                        s.astype("Float64") if pd.api.types.is_bool_dtype(s) else s, errors="coerce"
                    )
                    .astype(float)
                    .to_numpy()
                )
            else:
                vals = s.astype(object).to_numpy(copy=True)
                vals[pd.isna(s).to_numpy()] = np.nan
                out[c] = vals
        return pd.DataFrame(out, index=X.index)

    def _check_columns(self, X: Any) -> pd.DataFrame:
        X = _as_frame(X)
        X, spec = self._split_panel(X)
        if spec is None and self.spec_ is not None:
            X = X.drop(columns=[c for c in self.spec_.non_feature_cols if c in X.columns])
        expected = list(self.feature_names_in_)
        missing = [c for c in expected if c not in X.columns]
        unexpected = [c for c in X.columns if c not in set(expected)]
        if missing or unexpected:
            raise ValueError(
                "the columns differ from the ones the model was fitted on: "
                f"missing {missing}, unexpected {unexpected}. Pass a frame with exactly the "
                "training columns (model.feature_names_in_); columns are matched by name."
            )
        return X[expected]

    def _build_pipeline(self, params: dict[str, Any]) -> Pipeline:
        numeric = [c for c in self.features_ if c in self._numeric_]
        categorical = [c for c in self.features_ if c not in self._numeric_]
        num_steps: list = [("impute", SimpleImputer(strategy="median", add_indicator=True))]
        if self.kind == "logistic":
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
        est_cls = _estimator_class(self.kind)
        est = est_cls(**params, class_weight=self.class_weight, random_state=self.random_state)
        return Pipeline([("prep", prep), ("clf", est)]).set_output(transform="pandas")

    def _transformed_to_feature(self) -> list[str]:
        prep = self.pipeline_.named_steps["prep"]
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

    # -- fit / predict ----------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> TurnoverRiskModel:
        """Fit on a panel (``y=None``; label and features from its spec) or on ``X`` and ``y``.

        Parameters
        ----------
        X : DataFrame
            A panel from ``build_panel`` or any feature table (numeric and text columns,
            missing values allowed).
        y : array-like, optional
            Binary target (0/1, bool or "Yes"/"No"); missing values are treated as censored and
            dropped. Omit it for a panel.

        Returns
        -------
        self
        """
        params = self._validated_params()
        X = _as_frame(X)
        groups = None
        self.spec_ = None
        periods = None
        screen_groups = None
        if y is None:
            spec = panel_spec(X)
            missing = [c for c in (*spec.feature_cols, spec.label_col) if c not in X.columns]
            if missing:
                raise ValueError(
                    f"the panel lacks columns its spec names: {missing}; rebuild it with "
                    "build_panel or restore the columns."
                )
            if not spec.feature_cols:
                raise ValueError("the panel spec lists no feature columns; nothing to fit on.")
            if self.horizon is not None and self.horizon != spec.horizon:
                raise ValueError(
                    f"horizon={self.horizon} but the panel was built with horizon="
                    f"{spec.horizon}; leave horizon=None to use the panel's, or rebuild the panel."
                )
            resolved = _resolved_period_mask(X, spec)
            self.n_unresolved_dropped_ = int((~resolved & X[spec.label_col].notna()).sum())
            censored_elsewhere = int((~resolved & X[spec.label_col].isna()).sum())
            if not resolved.any():
                n_nan = int(X[spec.label_col].isna().sum())
                if n_nan == len(X):
                    _encode_target(X[spec.label_col])  # raises the all-censored error
                raise ValueError(
                    f"in every period more than half of the labels are censored ({n_nan} of "
                    f"{len(X)} rows): the panel ends before its horizon of {spec.horizon} "
                    "periods has passed. Build it with an end at least one horizon before the "
                    "last date of the data."
                )
            if not resolved.all():
                X = X[resolved]
            y_raw = X[spec.label_col]
            if spec.id_cols and spec.id_cols[0] in X.columns:
                groups = X[spec.id_cols[0]].to_numpy()
            if spec.period_col in X.columns:
                periods = X[spec.period_col]
            if SCREEN_GROUP_COLUMN in X.columns:
                screen_groups = X[SCREEN_GROUP_COLUMN]
            self.spec_ = spec
            Xf = X[list(spec.feature_cols)]
        else:
            self.n_unresolved_dropped_ = censored_elsewhere = 0
            Xf, spec = self._split_panel(X)
            if spec is not None:
                self.spec_ = spec
                if SCREEN_GROUP_COLUMN in X.columns:
                    screen_groups = X[SCREEN_GROUP_COLUMN]
            y_raw = y
            if len(y_raw) != len(Xf):
                raise ValueError(f"X has {len(Xf)} rows but y has {len(y_raw)} values.")
        y01, keep, classes = _encode_target(y_raw)
        self.n_censored_ = int((~keep).sum()) + censored_elsewhere
        if self.n_censored_ and y is not None:
            warnings.warn(
                f"{self.n_censored_} rows with a missing target were dropped (treated as censored).",
                DataQualityWarning,
                stacklevel=2,
            )
        Xf = Xf.iloc[np.flatnonzero(keep)] if not keep.all() else Xf
        if screen_groups is not None and not keep.all():
            screen_groups = screen_groups.iloc[np.flatnonzero(keep)]
        if groups is not None:
            groups = groups[keep]
        if periods is not None:
            kept_periods = periods[keep]
            self.training_periods_ = {
                "first": str(pd.Timestamp(kept_periods.min()).date()),
                "last": str(pd.Timestamp(kept_periods.max()).date()),
                "n_periods": int(kept_periods.nunique()),
            }
        else:
            self.training_periods_ = None
        _check_supported_dtypes(Xf)

        self.feature_names_in_ = np.asarray([str(c) for c in Xf.columns], dtype=object)
        self.feature_dtypes_ = {str(c): str(Xf[c].dtype) for c in Xf.columns}
        self.dropped_columns_ = _screen_columns(Xf)
        if self.dropped_columns_:
            warnings.warn(
                "dropped columns that cannot be model inputs: "
                + ", ".join(f"{c!r} ({r})" for c, r in self.dropped_columns_.items())
                + ". Remove them from X to silence this warning.",
                DataQualityWarning,
                stacklevel=2,
            )
        if screen_groups is not None:
            usable = [c for c in Xf.columns if c not in self.dropped_columns_]
            confined = _group_confined_columns(Xf[usable], screen_groups, self.min_feature_groups)
            if confined:
                by_reason: dict[str, list[str]] = {}
                for c, r in confined.items():
                    by_reason.setdefault(r, []).append(repr(c))
                warnings.warn(
                    "dropped features that vary in too few municipalities to be told apart from "
                    "those municipalities' own turnover: "
                    + "; ".join(f"{', '.join(cs)} ({r})" for r, cs in by_reason.items())
                    + f". Pass min_feature_groups=1 (now {self.min_feature_groups}) to keep them.",
                    DataQualityWarning,
                    stacklevel=2,
                )
                self.dropped_columns_.update(confined)
        self.features_ = [c for c in Xf.columns if c not in self.dropped_columns_]
        if not self.features_:
            raise ValueError(
                "no usable feature columns are left after dropping identifier-like and "
                f"constant columns ({self.dropped_columns_})."
            )
        self._numeric_ = {c for c in self.features_ if _is_numeric(Xf[c])}
        Xp = self._prepare(Xf)
        self.classes_ = classes
        self.horizon_ = (
            self.horizon
            if self.horizon is not None
            else (self.spec_.horizon if self.spec_ is not None else None)
        )
        self.n_train_rows_ = len(Xp)
        self.n_positive_ = int(y01.sum())

        given = self.estimator_params or {}
        if self.kind == "logistic" and "C" not in given:
            params["C"] = default_C(self.horizon_)
        elif self.kind == "gbm":
            params.update(
                {k: v for k, v in default_gbm_params(self.horizon_).items() if k not in given}
            )
        self.estimator_params_ = dict(params)
        pipeline = self._build_pipeline(params)
        self.calibrator_ = None
        if self.calibrate is not None:
            oof = self._out_of_fold_raw(pipeline, Xp, y01, groups)
            cal = _SigmoidCalibrator() if self.calibrate == "sigmoid" else _IsotonicCalibrator()
            self.calibrator_ = cal.fit(oof, y01)
        with warnings.catch_warnings(), _blas_single_thread(Xp.size):
            warnings.filterwarnings("ignore", message=".*Skipping features without any observed")
            self.pipeline_ = pipeline.fit(Xp, y01)
        self.transformed_to_feature_ = self._transformed_to_feature()
        z = self.pipeline_.named_steps["prep"].transform(Xp)
        self.transformed_mean_ = z.to_numpy(dtype=float).mean(axis=0)
        return self

    def _out_of_fold_raw(
        self, pipeline: Pipeline, Xp: pd.DataFrame, y01: np.ndarray, groups: np.ndarray | None
    ) -> np.ndarray:
        n_splits = int(min(5, np.bincount(y01).min()))
        if n_splits < 2:
            raise ValueError(
                f"calibrate={self.calibrate!r} needs at least 2 rows of each class; got "
                f"{np.bincount(y01).tolist()}. Use calibrate=None."
            )
        if groups is not None and len(np.unique(groups)) >= n_splits:
            splits = GroupKFold(n_splits=n_splits).split(Xp, y01, groups)
        else:
            splits = StratifiedKFold(
                n_splits=n_splits, shuffle=True, random_state=self.random_state
            ).split(Xp, y01)
        oof = np.empty(len(y01))
        for train, test in splits:
            if len(np.unique(y01[train])) < 2:
                raise ValueError(
                    "a calibration fold has a single class; too few leavers for "
                    f"calibrate={self.calibrate!r}. Use calibrate=None."
                )
            with _blas_single_thread(Xp.size):
                fold = clone(pipeline).fit(Xp.iloc[train], y01[train])
            oof[test] = fold.decision_function(Xp.iloc[test])
        return oof

    def _transform(self, X: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Checked input frame (training columns) and its transformed frame."""
        check_is_fitted(self)
        Xc = self._check_columns(X)
        return Xc, self.pipeline_.named_steps["prep"].transform(self._prepare(Xc))

    def decision_function(self, X: Any) -> np.ndarray:
        """Uncalibrated log-odds of leaving (what :meth:`explain` attributes)."""
        _, z = self._transform(X)
        return np.asarray(self.pipeline_.named_steps["clf"].decision_function(z), dtype=float)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities ``[stay, leave]`` per row (calibrated if ``calibrate`` is set).

        A panel is first reduced to its spec's feature columns; any other frame must have
        exactly the training columns (order does not matter), else a ``ValueError`` lists the
        missing and unexpected columns.
        """
        raw = self.decision_function(X)
        p = self.calibrator_.predict(raw) if self.calibrator_ is not None else expit(raw)
        p = np.clip(p, 0.0, 1.0)
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class per row (threshold 0.5), in the target's own spelling."""
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def explain(self, X: Any) -> Explanation:
        """Attribute each row's log-odds to the original features.

        Logistic: exact linear attribution against the training mean of the transformed
        inputs. GBM: TreeSHAP (``shap.TreeExplainer``, raw log-odds) on the transformed frame.
        One-hot and missing-indicator columns are summed, with their sign, into their feature.
        Raises ``RuntimeError`` if the attributions do not add up to the log-odds within 1e-6.
        With ``calibrate`` set, the uncalibrated log-odds are explained.

        Returns
        -------
        Explanation
        """
        Xc, z = self._transform(X)
        clf = self.pipeline_.named_steps["clf"]
        if self.kind == "logistic":
            values_t, base, output = linear_attribution(
                z.to_numpy(dtype=float),
                clf.coef_.ravel(),
                float(clf.intercept_[0]),
                self.transformed_mean_,
            )
        else:
            values_t, base, output = tree_attribution(clf, z)
        values = _aggregate_to_features(values_t, self.transformed_to_feature_, self.features_)
        return Explanation(
            values=pd.DataFrame(values, index=Xc.index, columns=self.features_),
            base_value=base,
            output=output,
            data=Xc[self.features_],
            kind=self.kind,
        )

    # -- persistence --------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        """The metadata written next to a saved model (without the file hash)."""
        check_is_fitted(self)
        from turnover_risk._version import __version__

        spec = self.spec_
        return {
            "library": "turnover_risk",
            "library_version": __version__,
            "sklearn_version": sklearn.__version__,
            "python_version": platform.python_version(),
            "numpy_version": np.__version__,
            "pandas_version": pd.__version__,
            "kind": self.kind,
            "params": _jsonable(self.get_params()),
            "feature_names": list(self.feature_names_in_),
            "feature_dtypes": dict(self.feature_dtypes_),
            "features_used": list(self.features_),
            "dropped_columns": dict(self.dropped_columns_),
            "classes": [_jsonable(c) for c in self.classes_],
            "training_periods": self.training_periods_,
            "n_train_rows": self.n_train_rows_,
            "n_positive": self.n_positive_,
            "n_censored_dropped": self.n_censored_,
            "horizon": self.horizon_,
            "outcome": spec.outcome if spec is not None else None,
            "freq": spec.freq if spec is not None else None,
            "scope": spec.scope if spec is not None else None,
            "evaluation": getattr(self, "_evaluation_summary", None),
        }

    def save(self, path: str | Path, *, evaluation: Any = None) -> Path:
        """Write the model to ``path`` (joblib) and a manifest ``path.with_suffix('.json')``.

        Parameters
        ----------
        path : str or Path
            Target file, e.g. ``"model.joblib"``; its manifest is ``"model.json"``.
        evaluation : EvaluationResult, optional
            Its pooled metrics go into the manifest. Default: the summary recorded by the last
            :func:`turnover_risk.evaluate` call on this model, if any.

        Returns
        -------
        Path
            The joblib file.

        Notes
        -----
        The file holds the fitted pipeline and metadata only: category levels, medians, scaler
        moments, tree thresholds and coefficients — no identifiers (identifier columns never
        enter the pipeline) and no training rows. It is written uncompressed so this can be
        checked.
        """
        check_is_fitted(self)
        path = Path(path)
        if path.suffix == ".json":
            raise ValueError(f"path={str(path)!r}: use a .joblib name; the manifest gets .json.")
        path.parent.mkdir(parents=True, exist_ok=True)
        manifest = self.manifest()
        if evaluation is not None:
            manifest["evaluation"] = evaluation.summary()
        joblib.dump(self, path, compress=0)
        manifest["sha256"] = _sha256(path.read_bytes())
        manifest["model_file"] = path.name
        manifest["created"] = datetime.now(UTC).isoformat(timespec="seconds")
        _manifest_path(path).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
        return path


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return repr(v)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest_path(path: Path) -> Path:
    return path.with_suffix(".json")


def load_model(path: str | Path) -> TurnoverRiskModel:
    """Load a model saved with :meth:`TurnoverRiskModel.save`, checking it first.

    The SHA-256 of the file is compared with the manifest *before* anything is unpickled
    (unpickling runs code, so a changed file is never opened). A model written by another
    turnover_risk or scikit-learn version loads with a :class:`ModelVersionWarning`.

    Raises
    ------
    FileNotFoundError
        If the model file or its manifest (``model.json`` beside ``model.joblib``) is missing.
    ValueError
        If the file's hash differs from the manifest, or the manifest is unreadable.
    TypeError
        If the file does not hold a TurnoverRiskModel.
    """
    from turnover_risk._version import __version__

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist.")
    mpath = _manifest_path(path)
    if not mpath.is_file():
        raise FileNotFoundError(
            f"the manifest {str(mpath)!r} of model {str(path)!r} is missing; a model is only "
            "loaded together with the manifest written by model.save(). Copy both files."
        )
    try:
        manifest = json.loads(mpath.read_text())
        expected = manifest["sha256"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(
            f"the manifest {str(mpath)!r} is unreadable or has no 'sha256' entry ({err}); "
            "save the model again with model.save()."
        ) from err
    data = path.read_bytes()
    actual = _sha256(data)
    if actual != expected:
        raise ValueError(
            f"refusing to load {str(path)!r}: the file changed after it was saved (SHA-256 "
            f"{actual[:12]}... does not match the manifest's {str(expected)[:12]}...). Use the "
            "original file or save the model again."
        )
    if manifest.get("library") != "turnover_risk":
        raise ValueError(f"{str(mpath)!r} is not a turnover_risk model manifest.")
    for what, saved, now in (
        ("turnover_risk", manifest.get("library_version"), __version__),
        ("scikit-learn", manifest.get("sklearn_version"), sklearn.__version__),
    ):
        if saved != now:
            warnings.warn(
                f"model {str(path)!r} was saved with {what} {saved}; this is {what} {now}. "
                "Predictions may differ: check them, or retrain and save with this version.",
                ModelVersionWarning,
                stacklevel=2,
            )
    with warnings.catch_warnings():
        # a 0.1.0 file names the module paths of 0.1.0 (turnover_risk._spec); they resolve
        # through turnover_risk._legacy, whose deprecation notice is for code, not for files
        warnings.simplefilter("ignore", TurnoverRiskDeprecationWarning)
        model = joblib.load(io.BytesIO(data))
    if not isinstance(model, TurnoverRiskModel):
        raise TypeError(f"{str(path)!r} holds a {type(model).__name__}, not a TurnoverRiskModel.")
    if manifest.get("evaluation") is not None:
        model._evaluation_summary = manifest["evaluation"]
    return model
