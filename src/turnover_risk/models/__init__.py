"""Risk models: the estimator, its evaluation over time, and explanations (SHAP).

:class:`TurnoverRiskModel` is a scikit-learn classifier of leaving within the horizon;
:func:`evaluate` validates it on later periods; :class:`Explanation` holds per-row attributions.
"""

from turnover_risk.models._estimator import (
    KINDS,
    ModelVersionWarning,
    TurnoverRiskModel,
    default_C,
    default_gbm_params,
    load_model,
)
from turnover_risk.models._evaluation import (
    CV_SCHEMES,
    SCORE_METRICS,
    EvaluationResult,
    LabelOverlapWarning,
    calibration_metrics,
    evaluable_periods,
    evaluate,
)
from turnover_risk.models._explain import Explanation

__all__ = [
    "CV_SCHEMES",
    "KINDS",
    "SCORE_METRICS",
    "EvaluationResult",
    "Explanation",
    "LabelOverlapWarning",
    "ModelVersionWarning",
    "TurnoverRiskModel",
    "calibration_metrics",
    "default_C",
    "default_gbm_params",
    "evaluable_periods",
    "evaluate",
    "load_model",
]


def __getattr__(name: str):
    # Model files pickled by 0.1.0 name ``turnover_risk.models._onehot_name`` (the one-hot
    # column namer inside the fitted pipeline); it lives in the estimator module since 0.2.
    if name == "_onehot_name":
        from turnover_risk.models._estimator import _onehot_name

        return _onehot_name
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
