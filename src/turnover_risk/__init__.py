"""turnover_risk: staff turnover and sick-leave statistics, point-in-time features and
explainable group-level risk models for public services.

Import as ``import turnover_risk as tr``; everything public is listed in ``__all__``. The
subpackages group the work by job (``data``, ``privacy``, ``rates``, ``surveys``, ``panel``,
``models``, ``governance``, ``groups``, ``scoring``, ``report``, ``datasets``, ``engines``, ``cli``); see
``docs/architecture.md``.

The names load on first use (``turnover_risk._lazy``): ``import turnover_risk`` imports neither
pandas nor scikit-learn, and ``tr.flag_groups`` imports only what flagging needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import turnover_risk.engines  # noqa: F401  (registers the Dask engine with turnover_risk._engine)
from turnover_risk import _lazy, _legacy
from turnover_risk._version import __version__
from turnover_risk._warnings import (
    DataQualityWarning,
    TurnoverRiskDeprecationWarning,
    TurnoverRiskWarning,
)

if TYPE_CHECKING:
    from turnover_risk.data import (
        SCHEMAS,
        TABLE_NAMES,
        DataValidationError,
        Register,
        ValidationReport,
        read_register,
        validate,
        write_register,
    )
    from turnover_risk.datasets import SimulationKnobs, SimulationTruth, load_sample, make_register
    from turnover_risk.governance import AuditResult, DriftResult, audit, check_drift
    from turnover_risk.groups import (
        FlagResult,
        WhatIfResult,
        flag_groups,
        group_drivers,
        what_if,
    )
    from turnover_risk.models import (
        EvaluationResult,
        Explanation,
        HazardModel,
        TurnoverRiskModel,
        evaluate,
        load_model,
    )
    from turnover_risk.panel import FEATURES, Feature, PanelSpec, build_panel, panel_spec
    from turnover_risk.rates import (
        DEFINITIONS,
        SurvivalResult,
        cumulative_incidence,
        retention,
        sick_leave_rate,
        turnover_rate,
        turnover_rate_from_counts,
    )
    from turnover_risk.report import write_report
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

_legacy.install()

_SUBPACKAGES = (
    "cli",
    "data",
    "datasets",
    "engines",
    "governance",
    "groups",
    "models",
    "panel",
    "privacy",
    "rates",
    "report",
    "scoring",
    "surveys",
)
"""The subpackages, imported when first read as attributes (``tr.rates``)."""

__all__ = [
    "AuditResult",
    "DEFINITIONS",
    "FEATURES",
    "INSTRUMENTS",
    "SCHEMAS",
    "TABLE_NAMES",
    "Cutoffs",
    "DataQualityWarning",
    "DataValidationError",
    "DriftResult",
    "EvaluationResult",
    "Explanation",
    "Feature",
    "FlagResult",
    "HazardModel",
    "Instrument",
    "PanelSpec",
    "Register",
    "ScoreResult",
    "SimulationKnobs",
    "SimulationTruth",
    "SurveyInputError",
    "SurvivalResult",
    "TurnoverRiskDeprecationWarning",
    "TurnoverRiskModel",
    "TurnoverRiskWarning",
    "ValidationReport",
    "WhatIfResult",
    "__version__",
    "audit",
    "build_panel",
    "check_drift",
    "cumulative_incidence",
    "evaluate",
    "flag_groups",
    "get_instrument",
    "group_drivers",
    "load_model",
    "load_sample",
    "make_register",
    "panel_spec",
    "read_register",
    "retention",
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

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "turnover_risk.data": (
            "SCHEMAS",
            "TABLE_NAMES",
            "DataValidationError",
            "Register",
            "ValidationReport",
            "read_register",
            "validate",
            "write_register",
        ),
        "turnover_risk.datasets": (
            "SimulationKnobs",
            "SimulationTruth",
            "load_sample",
            "make_register",
        ),
        "turnover_risk.governance": (
            "AuditResult",
            "DriftResult",
            "audit",
            "check_drift",
        ),
        "turnover_risk.groups": (
            "FlagResult",
            "WhatIfResult",
            "flag_groups",
            "group_drivers",
            "what_if",
        ),
        "turnover_risk.models": (
            "EvaluationResult",
            "Explanation",
            "HazardModel",
            "TurnoverRiskModel",
            "evaluate",
            "load_model",
        ),
        "turnover_risk.panel": (
            "FEATURES",
            "Feature",
            "PanelSpec",
            "build_panel",
            "panel_spec",
        ),
        "turnover_risk.rates": (
            "DEFINITIONS",
            "SurvivalResult",
            "cumulative_incidence",
            "retention",
            "sick_leave_rate",
            "turnover_rate",
            "turnover_rate_from_counts",
        ),
        "turnover_risk.report": ("write_report",),
        "turnover_risk.scoring": (
            "ScoreResult",
            "score_dataset",
        ),
        "turnover_risk.surveys": (
            "INSTRUMENTS",
            "Cutoffs",
            "Instrument",
            "SurveyInputError",
            "get_instrument",
            "score_survey",
            "summarise_scores",
            "survey_problems",
        ),
    },
    submodules=_SUBPACKAGES,
)
