"""Risk models: the estimator, its evaluation over time, and explanations (SHAP).

:class:`TurnoverRiskModel` is a scikit-learn classifier of leaving within the horizon;
:func:`evaluate` validates it on later periods; :class:`Explanation` holds per-row attributions.
:class:`HazardModel` is a discrete-time model of the monthly hazard of each exit cause
(cloglog GLM or gradient boosting) giving the risk at any horizon from one fit; ``evaluate``
scores it on the same folds (:class:`HazardEvaluationResult`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnover_risk import _lazy

if TYPE_CHECKING:
    from turnover_risk.models._estimator import TurnoverRiskModel
    from turnover_risk.models._evaluation import (
        CV_SCHEMES,
        EvaluationResult,
        LabelOverlapWarning,
        evaluable_periods,
        evaluate,
    )
    from turnover_risk.models._explain import Explanation
    from turnover_risk.models._hazard import HazardModel
    from turnover_risk.models._hazard_eval import HazardEvaluationResult
    from turnover_risk.models._metrics import SCORE_METRICS, calibration_metrics
    from turnover_risk.models._params import KINDS, default_C, default_gbm_params
    from turnover_risk.models._persistence import ModelVersionWarning, load_model

__all__ = [
    "CV_SCHEMES",
    "KINDS",
    "SCORE_METRICS",
    "EvaluationResult",
    "Explanation",
    "HazardEvaluationResult",
    "HazardModel",
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

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "turnover_risk.models._estimator": ("TurnoverRiskModel",),
        "turnover_risk.models._evaluation": (
            "CV_SCHEMES",
            "EvaluationResult",
            "LabelOverlapWarning",
            "evaluable_periods",
            "evaluate",
        ),
        "turnover_risk.models._explain": ("Explanation",),
        "turnover_risk.models._hazard": ("HazardModel",),
        "turnover_risk.models._hazard_eval": ("HazardEvaluationResult",),
        "turnover_risk.models._metrics": (
            "SCORE_METRICS",
            "calibration_metrics",
        ),
        "turnover_risk.models._params": (
            "KINDS",
            "default_C",
            "default_gbm_params",
        ),
        "turnover_risk.models._persistence": (
            "ModelVersionWarning",
            "load_model",
        ),
        # Model files pickled by 0.1.0 name ``turnover_risk.models._onehot_name`` (the one-hot
        # column namer inside the fitted pipeline) and, when calibrated, the calibrator classes
        # ``turnover_risk.models._SigmoidCalibrator`` / ``_IsotonicCalibrator``; since 0.2 they
        # live in private modules of this package.
        "turnover_risk.models._pipeline": ("_onehot_name",),
        "turnover_risk.models._calibration": ("_SigmoidCalibrator", "_IsotonicCalibrator"),
    },
)
