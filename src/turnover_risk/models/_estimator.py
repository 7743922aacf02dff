"""Turnover risk models: a scikit-learn estimator that knows panels and explains itself.

:class:`TurnoverRiskModel` wraps a ``Pipeline``: a ``ColumnTransformer`` (numeric columns:
median imputation with missing-value indicators, plus standard scaling for the logistic model;
categorical columns: constant imputation and one-hot encoding that ignores unknown categories)
followed by a regularised ``LogisticRegression`` or a ``HistGradientBoostingClassifier``.

It fits either a panel from ``build_panel`` (its spec says which columns are features and
which is the label; censored rows are dropped) or any plain table ``X`` with a binary target
``y``. :meth:`TurnoverRiskModel.save` writes one ``model.skops`` file (skops.io, with the
manifest inside); :func:`~turnover_risk.load_model` rebuilds it from allow-listed types only.

The estimator lives here (a saved model names :class:`TurnoverRiskModel` by this module's
path). Its parameters and their defaults are in ``_params``, input handling (column
screening, target encoding, resolved periods) in ``_inputs``, the pipeline it fits in
``_pipeline``, calibration in ``_calibration`` and saving and loading in ``_persistence``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.models._calibration import (
    _IsotonicCalibrator,
    _out_of_fold_raw,
    _SigmoidCalibrator,
)
from turnover_risk.models._design import _category_values, _numeric_values
from turnover_risk.models._explain import (
    Explanation,
    _aggregate_to_features,
    linear_attribution,
    tree_attribution,
)
from turnover_risk.models._inputs import (
    SCREEN_GROUP_COLUMN,
    _as_frame,
    _check_panel,
    _check_supported_dtypes,
    _dropped_columns,
    _encode_target,
    _is_numeric,
    _resolved_rows,
)
from turnover_risk.models._params import _validated_params, _with_horizon_defaults
from turnover_risk.models._persistence import _model_manifest, _save_model
from turnover_risk.models._pipeline import (
    _build_pipeline,
    _fit_pipeline,
    _transformed_to_feature,
)
from turnover_risk.models._profile import build_profile
from turnover_risk.panel._spec import ATTRS_KEY, PanelSpec, panel_spec

__all__ = ["TurnoverRiskModel"]


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
        by person for a panel; the preprocessing is fitted once on all rows and each fold
        refits only the classifier).
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
    design_dtype : {"auto", "float64", "float32"}, default "auto"
        Number type of the transformed design a logistic model is fitted on. ``"auto"``:
        float32 for large fits (at least 20 million input cells, about 400 000 panel rows)
        when the solver fits float32 as float32 (half the memory, about half the time), else
        float64. ``"float64"``: always float64 — the numbers of a plain scikit-learn pipeline
        to rounding, for reproducing a published fit exactly. ``"float32"``: float32 at any
        size. On the national panel float32 moves predicted probabilities by 3.7e-4 on
        average and 0.026 at most (docs/models.md). The gbm bins its inputs and takes only
        ``"auto"`` or ``"float64"``.
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
    input_profile_ : dict
        Reference profile of the training inputs for :func:`turnover_risk.check_drift`:
        merged quantile bins, missing shares, category counts and plausible ranges; no rows,
        identifiers, minima or maxima (``models/_profile.py``). Absent in models from 0.1.0.

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

    design_dtype = "auto"  # the default for models saved before the parameter existed

    def __init__(
        self,
        *,
        kind: str = "logistic",
        horizon: int | None = None,
        calibrate: str | None = None,
        class_weight: dict | str | None = None,
        random_state: int | None = None,
        min_feature_groups: int = 3,
        design_dtype: str = "auto",
        estimator_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.kind = kind
        self.horizon = horizon
        self.calibrate = calibrate
        self.class_weight = class_weight
        self.random_state = random_state
        self.min_feature_groups = min_feature_groups
        self.design_dtype = design_dtype
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

    # -- data preparation --------------------------------------------------------------------

    def _split_panel(self, X: pd.DataFrame) -> tuple[pd.DataFrame, PanelSpec | None]:
        """Reduce a panel to its spec's feature columns (frames without a spec pass through)."""
        if ATTRS_KEY not in X.attrs:
            return X, None
        spec = panel_spec(X)
        return X[[c for c in spec.feature_cols if c in X.columns]], spec

    def _prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """Numeric columns as float64 (NaN for missing), categoricals as object (NaN).

        The numeric columns are written into one float64 block (no second copy when the frame
        is assembled); the categorical ones are inserted at their places in ``features_``.
        """
        numeric = [c for c in self.features_ if c in self._numeric_]
        block = np.empty((len(numeric), len(X)), dtype=np.float64)
        for i, c in enumerate(numeric):
            s = X[c]
            if not _is_numeric(s) and not s.isna().all():
                raise TypeError(
                    f"column {c!r} was numeric when the model was fitted but has dtype "
                    f"{s.dtype} now; convert it back to numbers."
                )
            block[i] = _numeric_values(s)
        out = pd.DataFrame(block.T, index=X.index, columns=numeric, copy=False)
        for i, c in enumerate(self.features_):
            if c not in self._numeric_:
                out.insert(i, c, _category_values(X[c]))
        return out

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
        params = _validated_params(self)
        X = _as_frame(X)
        self.__dict__.pop("bootstrap_refits_", None)  # refits kept from a previous fit
        groups = None
        self.spec_ = None
        periods = None
        screen_groups = None
        if y is None:
            spec = panel_spec(X)
            _check_panel(X, spec, self.horizon)
            resolved, self.n_unresolved_dropped_, censored_elsewhere = _resolved_rows(X, spec)
            if not resolved.all():
                X = X[resolved]
            y_raw = X[spec.label_col]
            if spec.id_cols and spec.id_cols[0] in X.columns:
                # persons as integer codes in the sorted order of their ids: the same
                # calibration folds and drift profile as the ids, without 2 M Python strings
                groups = pd.factorize(X[spec.id_cols[0]], sort=True, use_na_sentinel=False)[0]
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
        self.dropped_columns_ = _dropped_columns(Xf, screen_groups, self.min_feature_groups)
        self.features_ = [c for c in Xf.columns if c not in self.dropped_columns_]
        if not self.features_:
            raise ValueError(
                "no usable feature columns are left after dropping identifier-like and "
                f"constant columns ({self.dropped_columns_})."
            )
        self._numeric_ = {c for c in self.features_ if _is_numeric(Xf[c])}
        self.input_profile_ = build_profile(Xf, self.features_, self._numeric_, groups)  # drift
        self.classes_ = classes
        self.horizon_ = (
            self.horizon
            if self.horizon is not None
            else (self.spec_.horizon if self.spec_ is not None else None)
        )
        self.n_train_rows_ = len(Xf)
        self.n_positive_ = int(y01.sum())

        params = _with_horizon_defaults(self.kind, params, self.estimator_params, self.horizon_)
        self.estimator_params_ = dict(params)
        pipeline = _build_pipeline(
            self.kind,
            self.features_,
            self._numeric_,
            params,
            class_weight=self.class_weight,
            random_state=self.random_state,
        )
        self.pipeline_, design = _fit_pipeline(
            pipeline, Xf, y01, self._prepare, design_dtype=self.design_dtype
        )
        self.transformed_mean_ = design.to_numpy().mean(axis=0, dtype=np.float64)
        self.calibrator_ = None
        if self.calibrate is not None:
            oof = _out_of_fold_raw(
                self.pipeline_.named_steps["clf"],
                design,
                y01,
                groups,
                calibrate=self.calibrate,
                random_state=self.random_state,
            )
            cal = _SigmoidCalibrator() if self.calibrate == "sigmoid" else _IsotonicCalibrator()
            self.calibrator_ = cal.fit(oof, y01)
        del design
        self.transformed_to_feature_ = _transformed_to_feature(self.pipeline_)
        return self

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
        return _model_manifest(self)

    def save(self, path: str | Path, *, evaluation: Any = None) -> Path:
        """Write the model to one ``.skops`` file with its manifest inside.

        Parameters
        ----------
        path : str or Path
            Target file, e.g. ``"model.skops"`` (``.skops`` is added to a name without a
            suffix). Written to a temporary name and moved into place when complete.
        evaluation : EvaluationResult, optional
            Its pooled metrics go into the manifest. Default: the summary recorded by the last
            :func:`turnover_risk.evaluate` call on this model, if any.

        Returns
        -------
        Path
            The model file.

        Notes
        -----
        The file is a ``skops.io`` archive: loading it rebuilds only allow-listed types and never
        runs code from the file. With ``TURNOVER_RISK_KEY`` set it is signed (HMAC-SHA256) so
        :func:`~turnover_risk.load_model` can tell it was written by a holder of the key. It
        holds the fitted pipeline and metadata only: category levels, medians, scaler moments,
        tree thresholds and coefficients — no identifiers (identifier columns never enter the
        pipeline) and no training rows. It is written uncompressed so this can be checked.
        """
        return _save_model(self, path, evaluation)
