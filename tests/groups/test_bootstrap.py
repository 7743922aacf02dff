"""Bootstrap refits of prospective flag_groups: refitting only the classifier on the design
transformed once gives what refitting the whole model gives."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from turnover_risk.groups import _bootstrap, flag_groups
from turnover_risk.panel._spec import PanelSpec, attach_spec


def _integer_panel(seed=0, n_units=10, periods=8):
    """Person-period panel with integer features of few values, each value in many rows of
    many persons: any person bootstrap holds every value, so a gbm bins a draw exactly as it
    bins the whole panel."""
    rng = np.random.default_rng(seed)
    rows = [
        (f"U{u:02d}-{i}", f"U{u:02d}", t)
        for u in range(n_units)
        for i in range(int(rng.integers(10, 16)))
        for t in range(periods)
    ]
    df = pd.DataFrame(rows, columns=["employee_id", "unit_id", "t"])
    df["period"] = pd.Timestamp("2021-01-01") + pd.to_timedelta(df["t"] * 31, "D")
    df["period"] = df["period"].dt.to_period("M").dt.start_time.astype("datetime64[ns]")
    df = df.drop(columns="t")
    df["caseload_3m_mean"] = rng.integers(8, 14, len(df)).astype(float)
    df.loc[df["unit_id"] == "U00", "caseload_3m_mean"] += 6
    df["age"] = rng.choice([25.0, 35.0, 45.0, 55.0], len(df))
    eta = -2.0 + 0.3 * (df["caseload_3m_mean"] - 11)
    df["left_within_horizon"] = (rng.random(len(df)) < expit(eta)).astype(float)
    df.loc[df["period"] == df["period"].max(), "left_within_horizon"] = np.nan
    spec = PanelSpec(feature_cols=("caseload_3m_mean", "age"), group_cols=("unit_id",), horizon=1)
    return attach_spec(df, spec)


def _gbm(panel):
    from turnover_risk.models import TurnoverRiskModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TurnoverRiskModel(
            kind="gbm", random_state=0, min_feature_groups=1, max_iter=15, min_samples_leaf=20
        ).fit(panel)


def _flags(model, panel, refit, monkeypatch, n_boot=6):
    monkeypatch.setattr(_bootstrap, "REFIT", refit)
    return flag_groups(model, panel, n_boot=n_boot, n_drivers=0, random_state=3)


def test_gbm_classifier_refits_equal_whole_model_refits(monkeypatch):
    # gbm on integer features without missing values: the preprocessing does nothing that
    # depends on the draw and the bins are the same, so refitting only the classifier must
    # give exactly the whole-model refits: same draws, same labels, same rows predicted
    panel = _integer_panel()
    model = _gbm(panel)
    fast = _flags(model, panel, "classifier", monkeypatch)
    whole = _flags(model, panel, "pipeline", monkeypatch)
    assert fast.info["refits"] == whole.info["refits"] == 6
    assert fast.table["log_ratio_se"].notna().sum() >= 5
    pd.testing.assert_frame_equal(fast.table, whole.table, rtol=1e-12, atol=1e-12)


def test_classifier_refits_do_not_depend_on_the_threads(monkeypatch):
    panel = _integer_panel(seed=1)
    model = _gbm(panel)
    monkeypatch.setattr(_bootstrap, "MAX_WORKERS", 1)
    one = _flags(model, panel, "classifier", monkeypatch)
    monkeypatch.setattr(_bootstrap, "MAX_WORKERS", 2)
    two = _flags(model, panel, "classifier", monkeypatch)
    pd.testing.assert_frame_equal(one.table, two.table)


def test_draws_take_all_rows_of_each_drawn_person():
    panel = _integer_panel(seed=2)
    from turnover_risk.panel import panel_spec

    spec = panel_spec(panel)
    train = _bootstrap._training_rows(panel, spec)
    assert train["left_within_horizon"].notna().all()  # the censored last period is left out
    draws = _bootstrap._person_draws(train, spec, 3, np.random.default_rng(0))
    rows_per_person = train.groupby("employee_id").size()
    for idx in draws:
        drawn = train.iloc[idx]
        # each drawn person's rows come whole, as often as the person was drawn
        times = (
            drawn.groupby("employee_id").size() / rows_per_person.loc[drawn["employee_id"].unique()]
        )
        assert (times == times.round()).all() and (times >= 1).all()
        assert len(idx) == int((times * rows_per_person.loc[times.index]).sum())
        assert times.sum() == train["employee_id"].nunique()  # n persons drawn


def test_calibrated_model_is_refitted_whole(monkeypatch):
    from turnover_risk.models import TurnoverRiskModel

    panel = _integer_panel(seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TurnoverRiskModel(
            kind="logistic", calibrate="sigmoid", random_state=0, min_feature_groups=1
        ).fit(panel)
    assert not _bootstrap._refits_classifier_only(model)
    assert _bootstrap._refits_classifier_only(_gbm(panel))
    monkeypatch.setattr(_bootstrap, "REFIT", "pipeline")
    assert not _bootstrap._refits_classifier_only(_gbm(panel))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_classifier_refits_agree_with_whole_refits_on_the_sample(fitted_sample, kind, monkeypatch):
    # the shipped sample: the preprocessing (medians, scaling, screened columns, bins) now
    # varies between draws in the whole-model refits only; the standard errors of the log
    # ratios must still agree closely, and so must the flags
    _reg, panel, models = fitted_sample
    model = models[kind]
    fast = _flags(model, panel, "classifier", monkeypatch, n_boot=10)
    whole = _flags(model, panel, "pipeline", monkeypatch, n_boot=10)
    ok = fast.table["log_ratio_se"].notna()
    assert ok.sum() >= 20
    ratio = fast.table.loc[ok, "log_ratio_se"] / whole.table.loc[ok, "log_ratio_se"]
    assert 0.9 <= ratio.median() <= 1.1
    # measured: logistic 0.98-1.03, gbm 0.81-1.10 (its trees react more to the bins)
    low, high = (0.95, 1.05) if kind == "logistic" else (0.75, 1.33)
    assert ratio.between(low, high).all()
    pd.testing.assert_series_equal(fast.table["flag"], whole.table["flag"])
    pd.testing.assert_series_equal(fast.table["exit_share"], whole.table["exit_share"])
