"""Drivers of a HazardModel's flags: log-hazard differences from the population, in percentage
points of the group's risk at the horizon, checked against a brute-force recomputation of the
group's mean risk with the feature moved to the population's level."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.groups._driver_text import _risk_points
from turnover_risk.models._hazard_risk import cumulative_incidence, shift_log_hazard


@pytest.fixture(scope="module")
def flagged(planted_hazard):
    """12 units, one planted with twice the case intake; a cloglog HazardModel on a few
    faithful features (tests/groups/conftest.py) and its prospective flags at 12 months (3
    refits)."""
    reg, truth, panel, model = planted_hazard
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = tr.flag_groups(model, panel, register=reg, horizon=12, n_boot=3, random_state=0)
    return reg, truth, panel, model, res


def _latest(panel: pd.DataFrame) -> pd.DataFrame:
    return panel[panel["period"] == panel["period"].max()]


def test_drivers_are_log_hazard_differences_in_points_of_the_risk(flagged):
    _reg, truth, panel, model, res = flagged
    rows = _latest(panel)
    flagged_units = res.table.loc[res.table["flag"].isin(["elevated", "low"]), "unit_id"]
    assert len(flagged_units) >= 1 and set(res.drivers["unit_id"]) == set(flagged_units)
    b = model.coefficients_[model.coefficients_["outcome"] == "voluntary"].set_index("term")["coef"]
    X = rows[list(model.features)].astype(float)
    filled = X.fillna(model.fill_)
    missing = X["caseload_3m_mean"].isna().astype(float)
    checked = 0
    for _, drv in res.drivers.iterrows():
        members = (rows["unit_id"] == drv["unit_id"]).to_numpy()
        f = drv["feature"]
        # the difference, by hand: b_j (group mean - population mean) of the filled value,
        # plus the missing-value indicator's term for caseload
        delta = filled.loc[members, f].mean() - filled[f].mean()
        d = b[f] * delta
        if f == "caseload_3m_mean":
            d += b["caseload_3m_mean_missing"] * (missing[members].mean() - missing.mean())
        assert drv["difference"] == pytest.approx(d, rel=1e-9, abs=1e-12)
        assert drv["se"] == 0.0
        if X[f].isna().any():
            continue
        # brute force: move the feature of every member by the gap to the population, score
        # again with the model's own predict_risk; the drop of the group's mean risk is the pp
        group = rows[members]
        moved = group.copy()
        moved[f] = moved[f].astype(float) - delta
        before = model.predict_risk(group, horizon=12)["risk_voluntary"].mean()
        after = model.predict_risk(moved, horizon=12)["risk_voluntary"].mean()
        assert drv["difference_pp"] == pytest.approx(100 * (before - after), rel=1e-9, abs=1e-9)
        # ... which a classifier's linearisation at the group's share would not give
        wrong = 100 * _risk_points(before, drv["difference"])
        assert abs(wrong - drv["difference_pp"]) > 1e-4 * max(1.0, abs(drv["difference_pp"]))
        checked += 1
    assert checked >= 2
    # the planted unit's first driver is its caseload, raising its risk
    unit = truth.high_risk_units["unit_id"].item()
    top = res.drivers[(res.drivers["unit_id"] == unit) & (res.drivers["rank"] == 1)].iloc[0]
    assert top["feature"] == "caseload_3m_mean" and top["difference_pp"] > 0
    # ranks follow |difference|; the table's text joins the group's drivers
    for _, part in res.drivers.groupby("unit_id"):
        assert part["rank"].tolist() == list(range(1, len(part) + 1))
        assert np.all(np.diff(part["difference"].abs().to_numpy()) <= 0)
    text = res.table.set_index("unit_id").loc[unit, "drivers_pp"]
    expected = "; ".join(res.drivers.loc[res.drivers["unit_id"] == unit, "text"])
    assert text == expected and "percentage points vs. all units" in text
    assert "log hazard" in res.info["drivers"]


def test_the_shift_is_the_models_risk_with_the_linear_predictor_moved(flagged):
    """For a cloglog model, moving the cloglog of every monthly hazard by -d is the risk the
    model gives when each member's linear predictor moves by -d (here via the intercept)."""
    _reg, _truth, panel, model, _res = flagged
    rows = _latest(panel).iloc[:40]
    h = model.monthly_hazards(rows, 12)
    moved = h.copy()
    moved[:, :, 0] = shift_log_hazard(h[:, :, 0], -0.4)
    shifted = tr.HazardModel(features=list(model.features))
    shifted.__dict__.update(model.__dict__)
    shifted.models_ = {**model.models_, "voluntary": model.models_["voluntary"].copy()}
    shifted.models_["voluntary"][0] -= 0.4  # the intercept
    np.testing.assert_allclose(
        cumulative_incidence(moved)[:, -1, 0],
        shifted.predict_risk(rows, horizon=12)["risk_voluntary"].to_numpy(),
        rtol=1e-12,
    )
    np.testing.assert_allclose(cumulative_incidence(h), model.risk_curves(rows, 12), rtol=0, atol=0)


def test_gbm_flags_get_drivers_too(flagged):
    reg, _truth, panel, model, _res = flagged
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gbm = tr.HazardModel(kind="gbm", features=list(model.features), random_state=0).fit(
            panel, reg
        )
        res = tr.flag_groups(gbm, panel, register=reg, horizon=6, n_boot=3, random_state=0)
    shown = res.table.set_index("unit_id")
    if res.drivers.empty:  # nothing flagged: no drivers, empty texts
        assert (shown["drivers_pp"] == "").all()
        return
    d = res.drivers
    assert set(d["feature"]) <= set(model.features) and (d["se"] == 0).all()
    # moving a hazard down lowers the risk: the points have the sign of the difference and
    # cannot exceed the group's risk
    assert (np.sign(d["difference_pp"]) == np.sign(d["difference"])).all()
    share = shown.loc[d["unit_id"], "exit_share"].to_numpy()
    assert (d["difference_pp"].to_numpy() < 100 * share).all()
