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
from turnover_risk.schema import SCHEMAS, TABLE_NAMES, Register

try:
    __version__ = version("turnover-risk")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "SCHEMAS",
    "TABLE_NAMES",
    "DataQualityWarning",
    "PanelSpec",
    "Register",
    "TurnoverRiskDeprecationWarning",
    "TurnoverRiskWarning",
    "__version__",
    "panel_spec",
]
