"""evaluate(HazardModel): censoring-weighted time-dependent AUC and Brier score, by hand and on
the classifier's folds, against the Kaplan-Meier baseline."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

import turnover_risk as tr
from turnover_risk.models._hazard_metrics import (
    aalen_johansen,
    auc,
    brier_score,
    censoring_survival,
    observed_risk,
)

# six rows followed from their month: (months observed, status: 0 = the outcome, 1 = another
# exit, -1 = still in scope at the end of the data) and a predicted risk by month 3
HAND_TIME = np.array([2, 1, 3, 2, 5, 4])
HAND_STATUS = np.array([0, -1, 1, -1, -1, 0])
HAND_RISK = np.array([0.4, 0.9, 0.3, 0.1, 0.35, 0.5])


def test_censoring_weights_by_hand():
    """G[s] = P(followed >= s full months). Censoring after 1 month (B): at risk are the rows
    censored at >= 1 (B, D, E) and those exiting in month >= 3 (C, F): G[2] = 1 - 1/5. After
    2 months (D): D, E and F (exit in month 4): G[3] = 4/5 (1 - 1/3)."""
    G = censoring_survival(HAND_TIME, HAND_STATUS, 3)
    np.testing.assert_allclose(G, [1, 1, 4 / 5, 8 / 15])


def test_brier_and_auc_by_hand():
    """At t = 3: A left for the outcome in month 2 (case, weight 1/G[1] = 1); C left for
    another reason in month 3 (control, 1/G[2] = 5/4); E (followed 5 months) and F (exit in
    month 4) are in scope after month 3 (controls, 1/G[3] = 15/8); B and D were censored
    before month 3 (weight 0). The weights add up to the 6 rows.

    Brier = (0.6^2 + 5/4 0.3^2 + 15/8 (0.35^2 + 0.5^2)) / 6; dropping the censored rows
    without weights would give 0.205625 instead.
    AUC: A (0.4) outranks C (0.3) and E (0.35), not F (0.5): (5/4 + 15/8) / 5 = 0.625.
    Any exit: cases A and C; C (0.3) is below E (0.35): 1 * 15/8 / (9/4 * 15/4) = 2/9.
    """
    G = censoring_survival(HAND_TIME, HAND_STATUS, 3)
    expected = (0.36 + 1.25 * 0.09 + 1.875 * (0.35**2 + 0.25)) / 6
    assert brier_score(HAND_RISK, HAND_TIME, HAND_STATUS, 3, 0, G) == pytest.approx(expected)
    assert auc(HAND_RISK, HAND_TIME, HAND_STATUS, 3, 0, G) == pytest.approx(0.625)
    assert observed_risk(HAND_TIME, HAND_STATUS, 3, 0, G) == pytest.approx(1 / 6)
    assert observed_risk(HAND_TIME, HAND_STATUS, 3, None, G) == pytest.approx(2.25 / 6)
    assert auc(HAND_RISK, HAND_TIME, HAND_STATUS, 3, None, G) == pytest.approx(2 / 9)


def test_auc_is_sklearns_weighted_auc_of_cases_against_controls():
    rng = np.random.default_rng(1)
    n = 400
    time = rng.integers(1, 30, n)
    status = rng.choice([-1, 0, 1], n, p=[0.4, 0.4, 0.2])
    risk = np.round(rng.random(n), 1)  # many ties
    G = censoring_survival(time, status, 12)
    w = np.zeros(n)
    left = (status >= 0) & (time <= 12)
    w[left] = 1 / G[time[left] - 1]
    w[((status >= 0) & (time > 12)) | ((status < 0) & (time >= 12))] = 1 / G[12]
    keep = w > 0
    y = left & (status == 0)
    expected = roc_auc_score(y[keep], risk[keep], sample_weight=w[keep])
    assert auc(risk, time, status, 12, 0, G) == pytest.approx(expected, abs=1e-12)


def test_aalen_johansen_by_hand_and_beyond_the_follow_up():
    """Month 1: 4 at risk, one exit of cause 0; month 2: 3 at risk, one of cause 1. Past
    the follow-up (month 3 here has nobody at risk) the last months' hazard goes on."""
    F = aalen_johansen(np.array([1, 2, 2, 2]), np.array([0, 1, -1, -1]), 2, 3)
    np.testing.assert_allclose(F[:2], [[0.25, 0.0], [0.25, 0.25]])
    # tail hazard over months 1-2: (1, 1) exits over 4 + 3 months at risk
    s2 = 0.75 * (1 - 1 / 3)
    np.testing.assert_allclose(F[2], [0.25 + s2 / 7, 0.25 + s2 / 7])
    # one cause: 1 - Kaplan-Meier
    km = aalen_johansen(np.array([1, 1, 2, 3, 3]), np.array([0, -1, 0, 0, -1]), 1, 3)[:, 0]
    np.testing.assert_allclose(1 - km, [4 / 5, 4 / 5 * 2 / 3, 4 / 5 * 2 / 3 * 1 / 2])


@pytest.fixture(scope="module")
def sample():
    reg = tr.load_sample()
    return reg, tr.build_panel(reg, freq="M", outcome="any")


@pytest.fixture(scope="module")
def evaluated(sample):
    reg, panel = sample
    feats = ["tenure_service_months", "newly_qualified", "age", "caseload_3m_mean"]
    model = tr.HazardModel(features=feats)
    return model, tr.evaluate(model, panel, register=reg, n_splits=2, person_folds=2)


def test_folds_are_the_classifiers(sample, evaluated):
    _, panel = sample
    _, res = evaluated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = tr.evaluate(
            tr.TurnoverRiskModel(kind="logistic", random_state=0),
            panel,
            n_splits=2,
            person_folds=2,
        )
    cols = ["fold", "train_start", "train_end", "test_start", "test_end"]
    a = res.table[cols].drop_duplicates().reset_index(drop=True)
    b = clf.table[cols].drop_duplicates().reset_index(drop=True)
    assert a.equals(b)
    test = panel[panel["period"].between(a["test_start"].min(), a["test_end"].max())]
    # every person-month of the test blocks is scored once (a gap-free pair of blocks here)
    assert len(res.predictions) == res.table.loc[res.table["fold"] == "pooled", "n_test"].iloc[0]
    assert len(res.predictions) == len(test)


def test_without_censoring_the_metrics_are_the_plain_ones(evaluated):
    """The sample's test blocks are followed for 12 months: no row is censored by then, so the
    Brier score is the mean squared error and the AUC sklearn's, on the out-of-fold rows."""
    _, res = evaluated
    pred = res.predictions
    pooled = res.table[(res.table["fold"] == "pooled")].set_index(["model", "horizon"])
    for h in (3, 6, 12):
        assert pooled.loc[("model", h), "censored"] == 0
        y = ((pred["status"] == "voluntary") & (pred["time"] <= h)).to_numpy(float)
        p = pred[f"risk_{h}"].to_numpy()
        assert pooled.loc[("model", h), "brier"] == pytest.approx(np.mean((y - p) ** 2))
        assert pooled.loc[("model", h), "auc"] == pytest.approx(roc_auc_score(y, p))
        km = pred[f"km_{h}"].to_numpy()
        assert pooled.loc[("kaplan_meier", h), "brier"] == pytest.approx(np.mean((y - km) ** 2))
        assert pooled.loc[("model", h), "observed_risk"] == pytest.approx(y.mean())
    assert pooled.loc[("model", 24), "censored"] > 0


def test_the_model_beats_kaplan_meier_and_is_recorded(evaluated):
    model, res = evaluated
    pooled = res.table[res.table["fold"] == "pooled"].set_index(["model", "horizon"])
    assert pooled.loc[("model", 12), "auc"] > 0.58
    assert pooled.loc[("model", 12), "brier_skill_vs_kaplan_meier"] > 0
    assert pooled.loc[("kaplan_meier", 12), "auc"] != pooled.loc[("kaplan_meier", 12), "auc"]
    ibs = res.integrated[res.integrated["fold"] == "pooled"].set_index("model")
    assert ibs.loc["model", "integrated_brier"] < ibs.loc["kaplan_meier", "integrated_brier"]
    assert "employee_id" not in res.predictions.columns
    summary = model._evaluation_summary
    assert summary["horizons"] == [3, 6, 12, 24] and summary["outcome"] == "voluntary"
    assert summary["model"]["auc_12m"] == pytest.approx(pooled.loc[("model", 12), "auc"])
    assert "HazardEvaluationResult" in repr(res)
    assert not hasattr(model, "models_")  # clones are fitted, not the model itself


def test_a_model_without_signal_ranks_at_chance_and_does_not_beat_kaplan_meier(sample):
    reg, panel = sample
    noisy = panel.copy()
    noisy["noise"] = np.random.default_rng(0).normal(size=len(panel))
    res = tr.evaluate(tr.HazardModel(features=["noise"]), noisy, register=reg)
    pooled = res.table[(res.table["fold"] == "pooled") & (res.table["model"] == "model")]
    assert (pooled["auc"].sub(0.5).abs() < 0.05).all()
    ibs = res.integrated[res.integrated["fold"] == "pooled"].set_index("model")
    assert ibs.loc["model", "integrated_brier"] >= ibs.loc["kaplan_meier", "integrated_brier"]


def test_bad_arguments(sample):
    reg, panel = sample
    m = tr.HazardModel(features=["age"])
    with pytest.raises(ValueError, match="register=reg"):
        tr.evaluate(m, panel)
    with pytest.raises(ValueError, match="horizons="):
        tr.evaluate(m, panel, register=reg, horizons=(0, 12))
    with pytest.raises(ValueError, match="outcome="):
        tr.evaluate(m, panel, register=reg, outcome="retirement")
    with pytest.raises(ValueError, match="apply to a HazardModel"):
        tr.evaluate(tr.TurnoverRiskModel(), panel, register=reg)
    yearly = tr.build_panel(reg, freq="Y", outcome="any")
    with pytest.raises(ValueError, match="monthly panel"):
        tr.evaluate(m, yearly, register=reg)


@st.composite
def _rows(draw):
    n = draw(st.integers(2, 40))
    time = np.array(draw(st.lists(st.integers(0, 15), min_size=n, max_size=n)))
    status = np.array(draw(st.lists(st.integers(-1, 1), min_size=n, max_size=n)))
    status[time == 0] = -1  # an exit is in month 1 or later
    risk = np.array(draw(st.lists(st.sampled_from([0.1, 0.2, 0.5, 0.9]), min_size=n, max_size=n)))
    return time, status, risk, draw(st.integers(1, 12))


@given(_rows())
def test_metrics_do_not_change_when_every_row_is_copied(rows):
    """The weights are estimates of shares, so copying every row changes nothing."""
    time, status, risk, t = rows
    G = censoring_survival(time, status, 12)
    G2 = censoring_survival(np.tile(time, 2), np.tile(status, 2), 12)
    np.testing.assert_allclose(G, G2)
    for f in (brier_score, auc):
        a = f(risk, time, status, t, 0, G)
        b = f(np.tile(risk, 2), np.tile(time, 2), np.tile(status, 2), t, 0, G2)
        assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b)


@given(_rows())
def test_without_censoring_the_weights_are_one(rows):
    time, status, risk, t = rows
    status = np.where(status < 0, 0, status)
    time = np.maximum(time, 1)
    G = censoring_survival(time, status, 12)
    assert (G == 1).all()
    y = ((status == 0) & (time <= t)).astype(float)
    assert brier_score(risk, time, status, t, 0, G) == pytest.approx(np.mean((y - risk) ** 2))
    if 0 < y.sum() < len(y):
        assert auc(risk, time, status, t, 0, G) == pytest.approx(roc_auc_score(y, risk))


def test_a_hand_built_register_by_hand():
    """P1 resigns in March, P2 retires in May, P3 and P4 (hired in April) are still employed
    when the data end on 30 June 2021. From the rows of April to July and a risk of 0.2 for
    everyone, the Brier score of leaving (for any reason) within 2 months:

    * P2's April row exits in month 2, its May row in month 1 (cases);
    * P3's and P4's April and May rows are followed 3 and 2 full months (controls);
      their June rows 1 month and July rows 0 (unknown at 2 months);
    * G[1] = 1 - 2/9 (the two July rows censored among the 8 censored rows and P2's April
      row), G[2] = G[1] (1 - 2/6): weights 1, 9/7 and 27/14 for the four controls, adding
      up to the 10 rows.
    """
    from turnover_risk.data import Register
    from turnover_risk.models._hazard_eval import follow_up

    emp = pd.DataFrame(
        [
            ["P1", "A", "2021-01-01", "2021-03-15", 1.0, "voluntary"],
            ["P2", "A", "2021-01-01", "2021-05-20", 1.0, "retirement"],
            ["P3", "B", "2021-01-01", None, 1.0, None],
            ["P4", "B", "2021-04-01", None, 1.0, None],
        ],
        columns=["employee_id", "unit_id", "start_date", "end_date", "fte", "exit_reason"],
    )
    emp[["start_date", "end_date"]] = emp[["start_date", "end_date"]].apply(pd.to_datetime)
    units = pd.DataFrame({"unit_id": ["A", "B"], "municipality": "M", "service": "BV"})
    reg = Register(employment=emp, units=units)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.DataQualityWarning)  # six months of data
        panel = tr.build_panel(reg, freq="M", outcome="any", as_of="2021-06-30")
    time, status = follow_up(panel, reg, "service", ("voluntary", "other_exits"))
    keys = zip(panel["employee_id"], panel["period"].dt.month, strict=True)
    got = dict(zip(keys, zip(time.tolist(), status.tolist(), strict=True), strict=True))
    assert [got[("P1", m)] for m in (1, 2, 3)] == [(3, 0), (2, 0), (1, 0)]
    assert [got[("P2", m)] for m in (1, 5)] == [(5, 1), (1, 1)]
    assert [got[("P3", m)] for m in (1, 6, 7)] == [(6, -1), (1, -1), (0, -1)]
    late = (panel["period"] >= "2021-04-01").to_numpy()
    t, s = time[late], status[late]
    assert len(t) == 10
    G = censoring_survival(t, s, 2)
    np.testing.assert_allclose(G, [1, 7 / 9, 14 / 27])
    risk = np.full(10, 0.2)
    expected = (0.64 * (1 + 9 / 7) + 0.04 * 4 * 27 / 14) / 10
    assert brier_score(risk, t, s, 2, None, G) == pytest.approx(expected)
    assert observed_risk(t, s, 2, None, G) == pytest.approx((1 + 9 / 7) / 10)
