"""The parameters of :class:`~turnover_risk.TurnoverRiskModel`: allowed values, defaults, checks.

The model kinds and calibration methods, the default settings of each classifier scaled by the
panel's horizon (:func:`default_C`, :func:`default_gbm_params`), :func:`_validated_params`,
which checks the constructor arguments at ``fit``, and :func:`_with_horizon_defaults`, which
fills in the horizon's defaults once the training data have given the horizon.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

KINDS: tuple[str, ...] = ("logistic", "gbm")
CALIBRATIONS: tuple[str | None, ...] = (None, "sigmoid", "isotonic")
DESIGN_DTYPES: tuple[str, ...] = ("auto", "float64", "float32")

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


def _estimator_class(kind: str):
    return LogisticRegression if kind == "logistic" else HistGradientBoostingClassifier


def _validated_params(model: Any) -> dict[str, Any]:
    """The classifier settings of ``model``: its defaults updated by ``estimator_params``.

    Raises ``ValueError`` (or ``TypeError``) naming the argument of ``model`` that is not
    allowed.
    """
    if model.kind not in KINDS:
        raise ValueError(
            f"kind={model.kind!r} is not a known model kind; choose one of: {', '.join(KINDS)}."
        )
    if model.calibrate not in CALIBRATIONS:
        raise ValueError(
            f"calibrate={model.calibrate!r} is not a calibration method; choose one of: "
            "None, 'sigmoid', 'isotonic'."
        )
    if model.horizon is not None and (
        isinstance(model.horizon, bool)
        or not isinstance(model.horizon, int | np.integer)
        or model.horizon < 1
    ):
        raise ValueError(f"horizon={model.horizon!r} must be a positive integer or None.")
    if (
        isinstance(model.min_feature_groups, bool)
        or not isinstance(model.min_feature_groups, int | np.integer)
        or model.min_feature_groups < 1
    ):
        raise ValueError(
            f"min_feature_groups={model.min_feature_groups!r} must be a positive integer; "
            "use 1 to keep features that vary in one municipality only."
        )
    dtype = getattr(model, "design_dtype", "auto")  # absent in models saved before 0.2
    if dtype not in DESIGN_DTYPES or (dtype == "float32" and model.kind != "logistic"):
        allowed = DESIGN_DTYPES if model.kind == "logistic" else ("auto", "float64")
        raise ValueError(
            f"design_dtype={dtype!r} is not allowed for kind={model.kind!r}; choose one of: "
            f"{', '.join(map(repr, allowed))} (float32 is for the logistic model's design)."
        )
    params = dict(model.estimator_params or {})
    if not isinstance(params, dict):
        raise TypeError(f"estimator_params must be a dict; got {type(params).__name__}.")
    clash = [k for k in params if k in _OWN_ARGS]
    if clash:
        raise ValueError(
            f"estimator_params sets {clash}; pass these as TurnoverRiskModel arguments "
            f"instead, e.g. TurnoverRiskModel({clash[0]}=...)."
        )
    est_cls = _estimator_class(model.kind)
    allowed = set(est_cls().get_params())
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(
            f"estimator_params {unknown} are not parameters of {est_cls.__name__} "
            f"(kind={model.kind!r}); allowed: {', '.join(sorted(allowed - set(_OWN_ARGS)))}."
        )
    defaults = _LOGISTIC_DEFAULTS if model.kind == "logistic" else _GBM_DEFAULTS
    return {**defaults, **params}


def _with_horizon_defaults(
    kind: str, params: dict[str, Any], given: dict[str, Any] | None, horizon: int | None
) -> dict[str, Any]:
    """``params`` with the horizon's defaults for every setting not ``given`` by the user.

    The logistic model's ``C`` (:func:`default_C`) and the gbm's settings
    (:func:`default_gbm_params`) follow the horizon of the training panel.
    """
    given = given or {}
    if kind == "logistic" and "C" not in given:
        params["C"] = default_C(horizon)
    elif kind == "gbm":
        params.update({k: v for k, v in default_gbm_params(horizon).items() if k not in given})
    return params
