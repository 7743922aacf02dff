"""Accountable use: fairness audit by group, input drift against the training data, and the
report section built from them.

:func:`audit` reports accuracy and calibration per group of persons (gender, age band, ...) with
intervals from a bootstrap over persons and FDR-adjusted tests of each group against the rest;
:func:`check_drift` compares new data with the reference profile a model stored at fit. See
``docs/governance.md`` (and the model card in :mod:`turnover_risk.models`).
"""

from turnover_risk.governance._audit import AGE_BANDS, age_band, audit
from turnover_risk.governance._drift import DriftResult, check_drift
from turnover_risk.governance._result import AuditResult

__all__ = ["AGE_BANDS", "AuditResult", "DriftResult", "age_band", "audit", "check_drift"]
