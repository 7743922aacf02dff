"""turnover_risk: staff turnover and sick-leave statistics, point-in-time features and
explainable group-level risk models for public services.

Import as ``import turnover_risk as tr``; everything public is listed in ``__all__``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from turnover_risk._spec import PanelSpec, panel_spec
from turnover_risk._warnings import (
    DataQualityWarning,
    TurnoverRiskDeprecationWarning,
    TurnoverRiskWarning,
)
from turnover_risk.datasets import SimulationKnobs, SimulationTruth, load_sample, make_register
from turnover_risk.evaluation import EvaluationResult, evaluate
from turnover_risk.explain import Explanation, group_drivers
from turnover_risk.features import FEATURES, Feature, build_panel
from turnover_risk.groups import FlagResult, WhatIfResult, flag_groups, what_if
from turnover_risk.io import read_register, write_register
from turnover_risk.models import TurnoverRiskModel, load_model
from turnover_risk.rates import (
    DEFINITIONS,
    sick_leave_rate,
    turnover_rate,
    turnover_rate_from_counts,
)
from turnover_risk.report import write_report
from turnover_risk.schema import SCHEMAS, TABLE_NAMES, Register
from turnover_risk.scoring import ScoreResult, score_dataset
from turnover_risk.surveys import (
    INSTRUMENTS,
    Cutoffs,
    Instrument,
    SurveyInputError,
    get_instrument,
    score_survey,
    summarise_scores,
    survey_problems,
)
from turnover_risk.validation import DataValidationError, ValidationReport, validate

try:
    __version__ = version("turnover-risk")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "DEFINITIONS",
    "SCHEMAS",
    "TABLE_NAMES",
    "DataQualityWarning",
    "FEATURES",
    "Feature",
    "Cutoffs",
    "DataValidationError",
    "EvaluationResult",
    "Explanation",
    "FlagResult",
    "INSTRUMENTS",
    "Instrument",
    "PanelSpec",
    "Register",
    "ScoreResult",
    "SimulationKnobs",
    "SimulationTruth",
    "SurveyInputError",
    "TurnoverRiskModel",
    "TurnoverRiskDeprecationWarning",
    "TurnoverRiskWarning",
    "ValidationReport",
    "WhatIfResult",
    "__version__",
    "build_panel",
    "evaluate",
    "flag_groups",
    "get_instrument",
    "group_drivers",
    "load_model",
    "load_sample",
    "make_register",
    "panel_spec",
    "read_register",
    "score_dataset",
    "score_survey",
    "sick_leave_rate",
    "summarise_scores",
    "survey_problems",
    "turnover_rate",
    "turnover_rate_from_counts",
    "validate",
    "what_if",
    "write_register",
    "write_report",
]
