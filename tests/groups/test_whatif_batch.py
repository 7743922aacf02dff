"""Several what-if scenarios in one pass (``_what_ifs``, used by the report) give exactly what
separate :func:`turnover_risk.what_if` calls give, plus the service's totals over everyone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.groups._whatif import _what_ifs

SCENARIOS = [
    ({"caseload_3m_mean": ("at_most", 15), "caseload_last": ("at_most", 15)}, None),
    ({"supervision_sessions_3m": 2}, lambda p: p["tenure_service_months"] < 6),
    ({"supervision_sessions_3m": ("at_least", 3)}, None),
]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_batched_scenarios_equal_separate_calls(fitted_sample, kind):
    _, panel, models = fitted_sample
    model = models[kind]
    batched = _what_ifs(model, panel, SCENARIOS, "unit_id", None, 5)
    assert len(batched) == len(SCENARIOS)
    for (change, where), (res, totals) in zip(SCENARIOS, batched, strict=True):
        one = tr.what_if(model, panel, change=change, where=where, by="unit_id")
        pd.testing.assert_frame_equal(res.table, one.table, rtol=1e-12, atol=1e-15)
        assert res.overall == pytest.approx(one.overall, rel=1e-12, nan_ok=True)
        assert res.changes == one.changes and res.period == one.period
        # totals cover every person of the period, small groups included
        latest = panel[panel["period"] == one.period]
        assert totals["n_persons"] == latest["employee_id"].nunique()
        p = model.predict_proba(latest)[:, 1]
        assert totals["expected_before"] == pytest.approx(p.sum(), rel=1e-12)
        shown = ~res.table["suppressed"]
        assert totals["expected_after"] >= res.table.loc[shown, "expected_leavers_after"].sum()


def test_bad_change_in_any_scenario_is_refused(fitted_sample):
    _, panel, models = fitted_sample
    model = models["logistic"]
    with pytest.raises(TypeError, match="non-empty mapping"):
        _what_ifs(model, panel, [SCENARIOS[0], ({}, None)], "unit_id", None, 5)
    assert np.isfinite(
        _what_ifs(model, panel, SCENARIOS[:1], "unit_id", None, 5)[0][1]["expected_after"]
    )
