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
from turnover_risk.io import read_register, write_register
from turnover_risk.schema import SCHEMAS, TABLE_NAMES, Register
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
    "SCHEMAS",
    "TABLE_NAMES",
    "DataQualityWarning",
    "Cutoffs",
    "DataValidationError",
    "INSTRUMENTS",
    "Instrument",
    "PanelSpec",
    "Register",
    "SurveyInputError",
    "TurnoverRiskDeprecationWarning",
    "TurnoverRiskWarning",
    "ValidationReport",
    "__version__",
    "get_instrument",
    "panel_spec",
    "read_register",
    "score_survey",
    "summarise_scores",
    "survey_problems",
    "validate",
    "write_register",
]
