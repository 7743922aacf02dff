"""flag_groups and what_if with a HazardModel: the risk is the cumulative incidence of the
model's first outcome within ``horizon`` months; the planted unit is flagged, a what-if moves
the expected leavers the way the planted effect says, both tables go through the privacy layer,
and ``horizon`` with a classifier is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.groups._bootstrap import _person_draws
from turnover_risk.panel import panel_spec
from turnover_risk.privacy import protect_groups


@pytest.fixture(scope="module")
def planted(planted_hazard):
    """12 units, one planted with twice the case intake (caseload cause), a monthly panel and
    a cloglog HazardModel on a few faithful features (tests/groups/conftest.py)."""
    return planted_hazard


def _latest(panel: pd.DataFrame) -> pd.DataFrame:
    return panel[panel["period"] == panel["period"].max()]


def _unit_means(panel, risk: np.ndarray) -> pd.Series:
    latest = _latest(panel)
    return pd.Series(risk, index=latest.index).groupby(latest["unit_id"]).mean()


# ---------------------------------------------------------------------------------------------
# flags
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_hazard_model_flags_the_planted_unit(planted):
    reg, truth, panel, model = planted
    unit = truth.high_risk_units["unit_id"].item()
    res = tr.flag_groups(model, panel, register=reg, horizon=12, random_state=0)
    row = res.table.set_index("unit_id").loc[unit]
    assert row["flag"] == "elevated"
    assert row["ratio"] > 1.25 and row["ratio_ci_low"] > 1
    assert (res.table["flag"] == "elevated").sum() == 1  # only the planted unit
    # a group's exit share is the mean of its members' 12-month voluntary cumulative incidence
    risk = model.predict_risk(_latest(panel), horizon=12)["risk_voluntary"].to_numpy()
    shown = res.table[~res.table["suppressed"]].set_index("unit_id")
    means = _unit_means(panel, risk)
    assert np.allclose(shown["exit_share"], means.loc[shown.index], rtol=1e-12)
    assert res.info["horizon"] == 12 and res.info["outcome"] == "voluntary"
    assert res.info["refits"] == 10
    # drivers in log hazard, shown in points of the 12-month risk (test_hazard_drivers.py)
    flagged = res.table.loc[res.table["flag"].isin(["elevated", "low"]), "unit_id"]
    assert set(res.drivers["unit_id"]) == set(flagged) and "log hazard" in res.info["drivers"]
    first = res.drivers[(res.drivers["unit_id"] == unit) & (res.drivers["rank"] == 1)]
    assert first["feature"].item() == "caseload_3m_mean"
    assert row["drivers_pp"].startswith("caseload 3-month mean, +")
    # same seed, same table
    again = tr.flag_groups(model, panel, register=reg, horizon=12, random_state=0, n_boot=3)
    once = tr.flag_groups(model, panel, register=reg, horizon=12, random_state=0, n_boot=3)
    pd.testing.assert_frame_equal(again.table, once.table)


def test_horizon_sets_the_risk_the_flags_sum(planted):
    reg, _truth, panel, model = planted
    by_h = {
        h: tr.flag_groups(model, panel, horizon=h, n_boot=0).table.set_index("unit_id")
        for h in (3, 12)
    }
    shown = ~by_h[12]["suppressed"]
    # cumulative incidence grows with the horizon, in every group
    assert (by_h[3].loc[shown, "exit_share"] < by_h[12].loc[shown, "exit_share"]).all()
    risk3 = model.predict_risk(_latest(panel), horizon=3)["risk_voluntary"].to_numpy()
    means = _unit_means(panel, risk3)
    expected = by_h[3].loc[shown, "expected_leavers"]
    sums = means * _latest(panel).groupby("unit_id").size()
    assert np.allclose(expected, sums.loc[expected.index], rtol=1e-12)
    # the default horizon is 12 months (as score_dataset), not the model's own ``horizon``
    default = tr.flag_groups(model, panel, n_boot=0).table.set_index("unit_id")
    pd.testing.assert_series_equal(default["exit_share"], by_h[12]["exit_share"])


def test_hazard_bootstrap_refits_need_the_register(planted):
    _reg, _truth, panel, model = planted
    with pytest.raises(ValueError, match="register=reg"):
        tr.flag_groups(model, panel, horizon=12, n_boot=10, random_state=0)


def test_hazard_refits_use_the_classifier_paths_person_draws(planted, monkeypatch):
    """Each refit is a whole HazardModel fitted on the rows of one ``_person_draws`` draw
    (same random stream as the classifier path) with the register."""
    reg, _truth, panel, model = planted
    from turnover_risk.models import HazardModel

    seen = []
    original = HazardModel.fit

    def spy(self, sample, register):
        seen.append((len(sample), sample["employee_id"].value_counts().max(), register))
        return original(self, sample, register)

    monkeypatch.setattr(HazardModel, "fit", spy)
    tr.flag_groups(model, panel, register=reg, horizon=6, n_boot=2, random_state=7)
    draws = _person_draws(panel, panel_spec(panel), 2, np.random.default_rng(7))
    assert sorted(n for n, _m, _r in seen) == sorted(len(d) for d in draws)
    assert all(r is reg for _n, _m, r in seen)
    # persons are drawn with replacement: some person's months appear more than once
    assert max(m for _n, m, _r in seen) > panel["employee_id"].value_counts().max()


def test_retrospective_needs_the_panels_horizon(planted):
    _reg, _truth, panel, model = planted
    with pytest.raises(ValueError, match="panel's horizon"):
        tr.flag_groups(model, panel, mode="retrospective", horizon=6)
    res = tr.flag_groups(model, panel, mode="retrospective", horizon=12)
    shown = res.table[~res.table["suppressed"]]
    assert len(shown) and np.isfinite(shown["expected"]).all()


# ---------------------------------------------------------------------------------------------
# what-if
# ---------------------------------------------------------------------------------------------


def test_what_if_moves_expected_leavers_with_the_planted_effect(planted):
    _reg, truth, panel, model = planted
    assert truth.coefficients["caseload"] > 0  # the simulator: high caseload, more exits
    unit = truth.high_risk_units["unit_id"].item()
    res = tr.what_if(model, panel, change={"caseload_3m_mean": ("at_most", 10)}, horizon=12)
    row = res.table.set_index("unit_id").loc[unit]
    assert row["expected_leavers_after"] < row["expected_leavers_before"]
    assert res.overall["exit_share_after"] < res.overall["exit_share_before"]
    more = tr.what_if(model, panel, change={"caseload_3m_mean": 5}, horizon=12)
    assert more.overall["exit_share_after"] > more.overall["exit_share_before"]
    # the before column is the model's 12-month cumulative incidence, by hand
    latest = _latest(panel)
    risk = model.predict_risk(latest, horizon=12)["risk_voluntary"].to_numpy()
    assert row["exit_share_before"] == pytest.approx(_unit_means(panel, risk)[unit], rel=1e-12)
    after = latest.copy()
    after["caseload_3m_mean"] = after["caseload_3m_mean"].clip(upper=10)
    risk_after = model.predict_risk(after, horizon=12)["risk_voluntary"].to_numpy()
    assert row["exit_share_after"] == pytest.approx(_unit_means(panel, risk_after)[unit], rel=1e-12)
    # a longer horizon, more expected leavers before and after
    short = tr.what_if(model, panel, change={"caseload_3m_mean": ("at_most", 10)}, horizon=3)
    assert short.overall["exit_share_before"] < res.overall["exit_share_before"]


# ---------------------------------------------------------------------------------------------
# privacy: the same layer as for classifiers
# ---------------------------------------------------------------------------------------------


def test_hazard_tables_pass_through_the_privacy_layer(planted):
    _reg, _truth, panel, model = planted
    latest = _latest(panel)
    sizes = latest.groupby("unit_id")["employee_id"].nunique()
    k = int(np.sort(sizes.unique())[1])  # the smallest units fall below it
    keys = sizes.rename("n_persons").reset_index()
    hidden = protect_groups(keys, by=["unit_id"], rows=latest, min_group_size=k)
    assert hidden.any() and not hidden.all()
    hidden_units = set(keys.loc[hidden, "unit_id"])

    flags = tr.flag_groups(model, panel, horizon=12, n_boot=0, min_group_size=k)
    f = flags.table.set_index("unit_id")
    assert set(f.index[f["suppressed"]]) == hidden_units
    assert (f.loc[f["suppressed"], "flag"] == "suppressed").all()
    assert (
        f.loc[f["suppressed"], ["n_persons", "expected_leavers", "exit_share"]].isna().all().all()
    )
    # the reference share leaves the hidden groups out (no total minus the rest)
    risk = model.predict_risk(latest, horizon=12)["risk_voluntary"].to_numpy()
    shown_rows = ~latest["unit_id"].isin(hidden_units).to_numpy()
    assert flags.reference_share == pytest.approx(risk[shown_rows].mean(), rel=1e-12)

    w = tr.what_if(
        model, panel, change={"caseload_3m_mean": ("at_most", 10)}, horizon=12, min_group_size=k
    )
    t = w.table.set_index("unit_id")
    assert set(t.index[t["suppressed"]]) == hidden_units
    values = ["exit_share_before", "exit_share_after", "expected_leavers_after"]
    assert t.loc[t["suppressed"], values].isna().all().all()
    assert w.overall["n_persons"] == int(sizes[~sizes.index.isin(hidden_units)].sum())


# ---------------------------------------------------------------------------------------------
# horizon with a classifier
# ---------------------------------------------------------------------------------------------


def test_horizon_with_a_classifier_is_refused(fitted_sample):
    from sklearn.linear_model import LogisticRegression

    _, panel, models = fitted_sample
    model = models["logistic"]
    with pytest.raises(ValueError, match="applies to a HazardModel"):
        tr.flag_groups(model, panel, horizon=6, n_boot=0)
    with pytest.raises(ValueError, match="applies to a HazardModel"):
        tr.what_if(model, panel, change={"supervision_sessions_3m": 2}, horizon=6)
    feats = ["tenure_service_months", "fte"]
    train = panel.dropna(subset=["left_within_horizon"])
    plain = LogisticRegression().fit(train[feats], train["left_within_horizon"].astype(int))
    with pytest.raises(ValueError, match="HazardModel"):
        tr.flag_groups(plain, panel, horizon=12, n_boot=0)
    # without horizon both still work as before
    assert len(tr.flag_groups(model, panel, n_boot=0).table)


def test_bad_horizon_for_a_hazard_model(planted):
    _reg, _truth, panel, model = planted
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="positive number of months"):
            tr.flag_groups(model, panel, horizon=bad, n_boot=0)
        with pytest.raises(ValueError, match="positive number of months"):
            tr.what_if(model, panel, change={"caseload_3m_mean": 1}, horizon=bad)
