"""Fixtures of the group tests with a HazardModel (test_hazard_groups, test_hazard_drivers)."""

from __future__ import annotations

import warnings

import pytest

import turnover_risk as tr

HAZARD_FEATURES = ["caseload_3m_mean", "tenure_service_months", "newly_qualified", "fte"]


@pytest.fixture(scope="session")
def planted_hazard():
    """``(reg, truth, panel, model)``: 12 units, one planted with twice the case intake
    (caseload cause), a monthly panel and a cloglog HazardModel on a few faithful features
    (their names: ``model.features``)."""
    reg, truth = tr.make_register(
        n_units=12,
        years=4,
        random_state=0,
        return_truth=True,
        high_risk_units=1,
        high_risk_cause="caseload",
        high_risk_intake_factor=2.0,
        unit_positions_mean=20,
    )
    panel = tr.build_panel(reg, freq="M")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = tr.HazardModel(features=HAZARD_FEATURES).fit(panel, reg)
    return reg, truth, panel, model
