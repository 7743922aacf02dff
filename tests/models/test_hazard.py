"""HazardModel: exits matched to panel months, closed-form risks, recovery of planted effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr


@pytest.fixture(scope="module")
def sample():
    reg = tr.load_sample()
    return reg, tr.build_panel(reg, freq="M", outcome="any")


def test_exits_fall_on_the_panel_months_of_the_exits(sample):
    """Every exit the panel sees (outcome='any': ended in the row's month) gets a cause,
    and no other row does."""
    reg, panel = sample
    m = tr.HazardModel(features=[]).fit(panel, reg)
    rows, cause = m._rows(panel, reg)
    seen = (panel["periods_to_exit"] == 1) & panel["exit_observed"]
    assert (cause != "").sum() == seen.sum() == sum(m.info_["events"].values())
    assert (cause[seen[rows].to_numpy()] != "").all()
    assert m.info_["rows_used"] + m.info_["rows_dropped_incomplete_month"] == len(panel)


def test_constant_hazards_give_the_closed_form_risk(sample):
    """Intercept only: the cloglog MLE is the share of rows with each exit, and the risk
    within H months is h_v (1 - (1 - h)^H) / h."""
    reg, panel = sample
    m = tr.HazardModel(features=[]).fit(panel, reg)
    n = m.info_["rows_used"]
    hv = m.info_["events"]["voluntary"] / n
    ho = m.info_["events"]["other_exits"] / n
    h = hv + ho
    risk = m.predict_risk(panel.head(3), horizon=12)
    expect = hv * (1 - (1 - h) ** 12) / h
    np.testing.assert_allclose(risk["risk_voluntary"], expect, rtol=1e-6)
    np.testing.assert_allclose(risk["risk_any"], 1 - (1 - h) ** 12, rtol=1e-6)
    c = m.coefficients_.set_index(["outcome", "term"])["coef"]
    assert c[("voluntary", "intercept")] == pytest.approx(np.log(-np.log1p(-hv)), rel=1e-6)


def test_risk_curves_are_coherent(sample):
    reg, panel = sample
    m = tr.HazardModel(
        features=["tenure_service_months", "newly_qualified", "fte", "caseload_3m_mean"]
    ).fit(panel, reg)
    curves = m.risk_curves(panel.head(200), horizon=24)
    assert (np.diff(curves, axis=1) >= -1e-15).all()
    total = curves.sum(axis=2)
    assert ((total >= 0) & (total <= 1)).all()
    risk = m.predict_risk(panel.head(200), horizon=24)
    np.testing.assert_allclose(risk["risk_any"], total[:, -1])
    assert (m.coefficients_.loc[m.coefficients_["term"] == "caseload_3m_mean_missing"]).shape[0]
    # the per-row contributions add up to the log hazard minus that of the mean row
    contrib = m.explain(panel.head(50))
    X = m._design(panel.head(50), fit=False)
    b = m.models_["voluntary"]
    np.testing.assert_allclose(contrib.sum(axis=1), X @ b - X.mean(axis=0) @ b, atol=1e-10)
    groups = m.group_curves(panel, by="municipality", horizon=3)
    assert set(groups.columns) == {
        "municipality",
        "month",
        "cause",
        "cumulative_incidence",
        "n_rows",
    }
    one = groups[(groups["month"] == 3) & (groups["cause"] == "voluntary")]
    assert one["n_rows"].sum() == len(panel)


def test_gbm_is_reproducible_and_bounded(sample):
    reg, panel = sample
    a = tr.HazardModel(kind="gbm", random_state=0).fit(panel, reg)
    b = tr.HazardModel(kind="gbm", random_state=0).fit(panel, reg)
    ra, rb = a.predict_risk(panel.head(300), 12), b.predict_risk(panel.head(300), 12)
    pd.testing.assert_frame_equal(ra, rb)
    assert ((ra >= 0) & (ra <= 1)).all().all()
    assert a.coefficients_.empty
    assert a.explain(panel.head(5)).shape == (5, len(a.features_in_))


def test_bad_input_is_refused(sample):
    reg, panel = sample
    with pytest.raises(ValueError, match="kind="):
        tr.HazardModel(kind="cox").fit(panel, reg)
    with pytest.raises(ValueError, match="not fitted"):
        tr.HazardModel().predict_risk(panel)
    with pytest.raises(ValueError, match="not columns"):
        tr.HazardModel(features=["shoe_size"]).fit(panel, reg)
    yearly = tr.build_panel(reg, freq="Y", outcome="any")
    with pytest.raises(ValueError, match="monthly panel"):
        tr.HazardModel().fit(yearly, reg)
    m = tr.HazardModel(features=[]).fit(panel, reg)
    with pytest.raises(ValueError, match="horizon="):
        m.predict_risk(panel, horizon=0)


def test_cloglog_recovers_the_planted_log_hazards():
    """The simulator draws voluntary exits with h = 1 - exp(-exp(eta)); with faithful
    features (the simulator's own scales) and no unobserved frailty, the cloglog estimates
    are within three standard errors of the truth and the 95 % intervals hold at least 7 of
    the 8 true values."""
    reg, truth = tr.make_register(
        n_units=200,
        years=5,
        random_state=0,
        return_truth=True,
        frailty_sd=0.0,
        burnout_exit_effect=0.0,  # latent burnout has no faithful proxy
    )
    p = tr.build_panel(reg, freq="M", outcome="any")
    p["first_year"] = (p["tenure_service_months"] < 12).astype(float)
    norm = truth.knobs.caseload_norm
    has = p["caseload_3m_mean"].notna() & (p["role"] == "caseworker")
    p["caseload"] = np.where(has, p["caseload_3m_mean"] - norm, 0.0)
    p["supervision"] = p["supervision_sessions_3m"].fillna(0)
    p["colleagues_left"] = p["colleagues_left_3m"].fillna(0)
    p["age"] = (p["age"] - 40) / 10
    p["part_time"] = (p["fte"] < 1).astype(float)
    effects = [
        "newly_qualified",
        "first_year",
        "caseload",
        "supervision",
        "colleagues_left",
        "age",
        "part_time",
    ]
    m = tr.HazardModel(features=effects).fit(p, reg)
    est = m.coefficients_[m.coefficients_["outcome"] == "voluntary"].set_index("term")
    true = truth.effects.set_index("effect")["coefficient"]
    inside = 0
    for term in ["intercept", *effects]:
        row = est.loc[term]
        assert abs(row["coef"] - true[term]) < 3 * row["se"], term
        inside += row["ci_low"] <= true[term] <= row["ci_high"]
    assert inside >= 7


def test_next_exits_agree_with_the_panel(sample):
    from turnover_risk.models._hazard_fit import exit_months
    from turnover_risk.models._hazard_score import next_exits

    reg, panel = sample
    months, reason = next_exits(panel, exit_months(reg, "service"))
    seen = panel["exit_observed"].to_numpy()
    np.testing.assert_array_equal(months[seen], panel["periods_to_exit"].to_numpy()[seen])
    assert np.isnan(months[~seen]).all()
    assert all(r is not None for r in reason[seen])


def test_score_out_of_time(sample):
    """Trained on months before July 2022, scored on the later ones: the features rank the
    leavers better than chance and beat the one-risk-for-all baseline at 12 months."""
    reg, panel = sample
    early = panel[panel["period"] < "2022-07-01"]
    late = panel[panel["period"] >= "2022-07-01"]
    feats = ["tenure_service_months", "newly_qualified", "age", "caseload_3m_mean"]
    m = tr.HazardModel(features=feats).fit(early, reg)
    s = m.score(late, reg, horizons=(6, 12)).set_index("horizon")
    assert (s["auc"] > 0.6).all() and s.loc[12, "brier_skill"] > 0
    assert (s["brier"] < s["brier_baseline"]).all()
    any_ = m.score(late, reg, horizons=(12,), outcome="any").iloc[0]
    assert any_["events"] >= s.loc[12, "events"]
    with pytest.raises(ValueError, match="outcome="):
        m.score(late, reg, outcome="retirement")


def test_stands_in_for_a_classifier_in_what_if_and_flag_groups(sample):
    """predict_proba is the risk of the first outcome within `horizon` months, so what_if and
    retrospective flag_groups use the hazard model's 12-month risk."""
    reg, panel = sample
    feats = ["tenure_service_months", "newly_qualified", "caseload_3m_mean"]
    m = tr.HazardModel(features=feats, horizon=12).fit(panel, reg)
    np.testing.assert_allclose(
        m.predict_proba(panel.head(20))[:, 1],
        m.predict_risk(panel.head(20), horizon=12)["risk_voluntary"],
    )
    w = tr.what_if(m, panel, change={"caseload_3m_mean": -2}, by="municipality")
    first = w.table.iloc[0]
    rows = panel[
        (panel["period"] == panel["period"].max())
        & (panel["municipality"] == first["municipality"])
    ]
    assert first["expected_leavers_before"] == pytest.approx(m.predict_proba(rows)[:, 1].sum())
    assert (w.table["difference"].dropna() < 0).all()  # the fitted caseload effect is positive
    vol = tr.build_panel(reg, freq="M", outcome="voluntary", horizon=12)
    flagged = tr.flag_groups(m, vol, by="municipality", mode="retrospective")
    assert flagged.table["expected"].notna().any()


def test_ridge_path_converges_to_the_maximum_likelihood_fit(sample):
    """A vanishing penalty gives the statsmodels fit; a real one shrinks the coefficients
    and leaves no Wald intervals; the default penalises only the all-features model."""
    reg, panel = sample
    feats = ["tenure_service_months", "newly_qualified", "fte", "age"]
    mle = tr.HazardModel(features=feats).fit(panel, reg)
    tiny = tr.HazardModel(features=feats, alpha=1e-10).fit(panel, reg)
    a = mle.coefficients_["coef"].to_numpy()
    np.testing.assert_allclose(tiny.coefficients_["coef"], a, rtol=1e-3, atol=1e-4)
    big = tr.HazardModel(features=feats, alpha=0.1).fit(panel, reg)
    b = big.coefficients_.set_index(["outcome", "term"])["coef"]
    m = mle.coefficients_.set_index(["outcome", "term"])["coef"]
    slopes = [(o, t) for o, t in m.index if t in ("newly_qualified", "age")]
    assert (b[slopes].abs() < m[slopes].abs()).all()
    assert big.coefficients_["se"].isna().all()
    assert (mle.alpha_, tr.HazardModel(kind="cloglog").alpha) == (0.0, None)
    with pytest.raises(ValueError, match="alpha="):
        tr.HazardModel(features=feats, alpha=-1).fit(panel, reg)


def test_default_penalty_is_three_over_the_root_of_the_rows(sample):
    """With all the panel's features the default penalty is 3 / sqrt(person-months fitted):
    a half-size panel gets sqrt(2) times the penalty (a fixed one over-fitted small ones)."""
    reg, panel = sample
    full = tr.HazardModel().fit(panel, reg)
    assert full.alpha_ == pytest.approx(3 / np.sqrt(full.info_["rows_used"]), rel=1e-12)
    units = sorted(panel["unit_id"].unique())
    half = panel[panel["unit_id"].isin(units[: len(units) // 2])]
    small = tr.HazardModel().fit(half, reg)
    ratio = np.sqrt(full.info_["rows_used"] / small.info_["rows_used"])
    assert small.alpha_ == pytest.approx(full.alpha_ * ratio, rel=1e-12)
    assert small.alpha_ > full.alpha_
    # an explicit alpha is used as given, whatever the size
    assert tr.HazardModel(alpha=0.01).fit(half, reg).alpha_ == 0.01
