"""Tests of evaluate and its metrics: splits, persons on one side, metrics by hand, baselines."""

from __future__ import annotations

import importlib
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

import turnover_risk as tr
from turnover_risk.models import (
    LabelOverlapWarning,
    TurnoverRiskModel,
    calibration_metrics,
    evaluable_periods,
)
from turnover_risk.models._metrics import SCORE_METRICS, _ece, _metrics
from turnover_risk.panel._spec import PanelSpec, attach_spec


def make_panel(n_persons=200, n_periods=24, horizon=3, seed=0, unit_share=False):
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(n_persons), n_periods)
    per = np.tile(np.arange(n_periods), n_persons)
    unit = rng.integers(0, 5, n_persons)[pid]
    case = rng.normal(20, 4, n_persons)[pid] + rng.normal(0, 2, len(pid))
    y = (rng.random(len(pid)) < expit(-2 + 0.25 * (case - 20) + 0.3 * (unit == 0))).astype(float)
    y[(per >= n_periods - horizon) & (y == 0)] = np.nan  # stayers censored at the end
    df = pd.DataFrame(
        {
            "employee_id": [f"P{i:04d}" for i in pid],
            "unit_id": [f"U{u}" for u in unit],
            "period": pd.date_range("2020-01-01", periods=n_periods, freq="MS").to_numpy(
                dtype="datetime64[ns]"
            )[per],
            "left_within_horizon": y,
            "caseload_3m_mean": case,
        }
    )
    features = ("caseload_3m_mean",)
    if unit_share:
        df["unit_exit_share_12m"] = np.where(per % 5 == 0, np.nan, 0.05 + 0.02 * unit)
        features = (*features, "unit_exit_share_12m")
    spec = PanelSpec(
        feature_cols=features, group_cols=("unit_id",), horizon=horizon, survival_cols=()
    )
    return attach_spec(df, spec)


class Recording(TurnoverRiskModel):
    """Records what each fold's clone was trained and scored on (class-level log)."""

    log: list = []

    def fit(self, X, y=None):
        Recording.log.append(
            (
                "fit",
                set(X["employee_id"]),
                X["period"].max(),
                X["left_within_horizon"].mean(),
                X.groupby("unit_id")["left_within_horizon"].mean(),
            )
        )
        return super().fit(X, y)

    def predict_proba(self, X):
        Recording.log.append(
            ("predict", set(X["employee_id"]), X["period"].min(), X["period"].max(), len(X))
        )
        return super().predict_proba(X)


# --------------------------------------------------------------------------------------------
# metrics by hand
# --------------------------------------------------------------------------------------------


def test_ece_by_hand():
    # two equal-count bins: (0.1, 0.2 | y 0, 0) and (0.3, 0.9 | y 1, 1)
    # ECE = (2 * |0.15 - 0| + 2 * |0.6 - 1|) / 4 = (0.3 + 0.8) / 4 = 0.275
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.9])
    assert _ece(y, p, n_bins=2) == pytest.approx(0.275)


def test_top_decile_precision_and_recall_by_hand():
    # 20 rows, top 10 % = the 2 highest scores; y of those: 1 and 0; 4 positives in all
    p = np.linspace(0.01, 0.2, 20)
    y = np.zeros(20, dtype=int)
    y[[19, 3, 5, 7]] = 1
    m = _metrics(y, p)
    assert m["precision_top10"] == pytest.approx(0.5)
    assert m["recall_top10"] == pytest.approx(0.25)
    assert m["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert m["log_loss"] == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@pytest.mark.parametrize(
    ("distort", "intercept", "slope"),
    [
        (lambda q: q, 0.0, 1.0),  # calibrated
        (lambda q: expit(2 * logit(q)), None, 0.5),  # too extreme -> slope 1/2
        (lambda q: expit(logit(q) - 1), 1.0, 1.0),  # too low by 1 logit -> intercept +1
    ],
)
def test_calibration_intercept_and_slope_recover_known_distortions(distort, intercept, slope):
    rng = np.random.default_rng(0)
    q = rng.uniform(0.02, 0.6, 60000)
    y = (rng.random(len(q)) < q).astype(int)
    a, b = calibration_metrics(y, distort(q))
    assert b == pytest.approx(slope, abs=0.05)
    if intercept is not None:
        assert a == pytest.approx(intercept, abs=0.05)


def test_constant_predictions_rank_nobody():
    y = np.array([0, 1, 0, 0, 1])
    m = _metrics(y, np.full(5, 0.4))
    for name in ("roc_auc", "pr_auc", "calibration_slope", "precision_top10", "recall_top10"):
        assert np.isnan(m[name]), name
    assert m["calibration_intercept"] == pytest.approx(0.0, abs=1e-6)  # logit(0.4) = logit(2/5)
    assert m["brier"] == pytest.approx((3 * 0.4**2 + 2 * 0.6**2) / 5)


def test_piecewise_constant_predictions_rank_nobody_when_told():
    # two constants (as the pooled base rate of two folds): ranked, they would give AUC != 0.5
    y = np.array([0, 0, 1, 0, 1, 1])
    p = np.array([0.2, 0.2, 0.2, 0.5, 0.5, 0.5])
    # 9 (positive, negative) pairs: the two 0.5-positives beat the two 0.2-negatives (4) and tie
    # with the 0.5-negative (2 x 0.5); the 0.2-positive ties with two 0.2-negatives (2 x 0.5)
    assert _metrics(y, p)["roc_auc"] == pytest.approx(6 / 9)
    assert np.isnan(_metrics(y, p, ranks=False)["roc_auc"])
    assert np.isnan(_metrics(y, p, ranks=False)["calibration_slope"])


# --------------------------------------------------------------------------------------------
# splits
# --------------------------------------------------------------------------------------------


def test_censored_tail_periods_are_not_evaluable():
    panel = make_panel(n_periods=24, horizon=3)
    spec = tr.panel_spec(panel)
    periods = evaluable_periods(panel, spec)
    assert len(periods) == 21
    assert periods.max() == pd.Timestamp("2021-09-01")


def test_rolling_origin_splits_gap_and_persons_on_one_side():
    # 21 evaluable periods, gap 3, 2 splits -> test blocks of (21 - 3) // 3 = 6 periods:
    # fold 1 tests periods 9..14 and trains on 0..5; fold 2 tests 15..20 and trains on 0..11.
    panel = make_panel(n_periods=24, horizon=3)
    Recording.log = []
    res = tr.evaluate(Recording(), panel, n_splits=2)
    months = pd.date_range("2020-01-01", periods=24, freq="MS")
    model_rows = res.table[res.table["model"] == "model"].set_index("fold")
    assert model_rows.loc["1", "test_start"] == months[9]
    assert model_rows.loc["1", "test_end"] == months[14]
    assert model_rows.loc["1", "train_end"] == months[5]
    assert model_rows.loc["2", "test_start"] == months[15]
    assert model_rows.loc["2", "train_end"] == months[11]
    assert res.gap == 3  # the panel's horizon
    fits = [e for e in Recording.log if e[0] == "fit"]
    preds = [e for e in Recording.log if e[0] == "predict"]
    assert len(fits) == len(preds) == 2 * 4  # n_splits x person_folds cross-fitted fits
    for fit, pred in zip(fits, preds, strict=True):
        assert fit[1].isdisjoint(pred[1])  # no person on both sides of a fit
        assert (pred[2] - fit[2]).days > 3 * 28  # gap of a horizon between the sides
    for k in range(2):  # within a fold the person groups partition the tested persons
        groups = [pred[1] for pred in preds[4 * k : 4 * k + 4]]
        assert sum(map(len, groups)) == len(set().union(*groups)) == 200  # all persons tested
    assert sorted(res.predictions["period"].unique()) == list(months[9:21])
    n_rows = panel[panel["period"].isin(months[9:21])]["left_within_horizon"].notna().sum()
    assert len(res.predictions) == n_rows  # every labelled test-block row is scored once


def test_default_gap_is_at_least_the_panel_horizon():
    # the model says horizon 1 but the panel's labels look 3 periods ahead: fit refuses the
    # mismatch, and the gap never drops below the panel's horizon
    panel = make_panel(n_periods=24, horizon=3)
    with pytest.raises(ValueError, match="horizon=1 but the panel was built with horizon=3"):
        tr.evaluate(TurnoverRiskModel(horizon=1), panel, n_splits=2)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelOverlapWarning)
        res = tr.evaluate(TurnoverRiskModel(), panel, n_splits=2, gap=5)  # larger gap: fine
    assert res.gap == 5
    assert tr.evaluate(TurnoverRiskModel(), panel, n_splits=2).gap == 3


def test_gap_parameter_and_model_horizon():
    panel = make_panel(n_periods=24, horizon=3)
    with pytest.warns(LabelOverlapWarning, match=r"gap=0 is shorter than the horizon of 3"):
        res = tr.evaluate(TurnoverRiskModel(), panel, n_splits=2, gap=0)
    first = res.table[(res.table["model"] == "model") & (res.table["fold"] == "1")].iloc[0]
    # (21 - 0) // 3 = 7 periods per block; fold 1 tests 7..13 and trains on 0..6
    assert first["test_start"] == pd.Timestamp("2020-08-01")
    assert first["train_end"] == pd.Timestamp("2020-07-01")


# --------------------------------------------------------------------------------------------
# table and baselines
# --------------------------------------------------------------------------------------------


def test_table_has_folds_pooled_and_baselines_and_gains():
    panel = make_panel()
    res = tr.evaluate(TurnoverRiskModel(), panel, n_splits=3)
    t = res.table
    assert set(t["fold"]) == {"1", "2", "3", "pooled"}
    assert set(t["model"]) == {"model", "base_rate", "unit_exit_share"}
    for col in (
        "roc_auc",
        "pr_auc",
        "brier",
        "log_loss",
        "calibration_intercept",
        "calibration_slope",
        "ece",
        "precision_top10",
        "recall_top10",
    ):
        assert col in t.columns
    base = t[t["model"] == "base_rate"]
    for name in ("roc_auc", "pr_auc", "calibration_slope", "precision_top10", "recall_top10"):
        assert base[name].isna().all(), name  # a constant ranks nobody, pooled included
    assert base["brier"].notna().all() and base["calibration_intercept"].notna().all()
    per_fold = res.predictions.groupby("fold")["p_base_rate"].nunique()
    assert (per_fold == 1).all()  # one training prevalence per fold
    pooled = t[t["fold"] == "pooled"].set_index("model")
    # ranking gains against the base rate start from the no-skill values of a constant
    assert pooled.loc["model", "roc_auc_gain_vs_base_rate"] == pytest.approx(
        pooled.loc["model", "roc_auc"] - 0.5
    )
    share = res.predictions["y"].mean()
    assert pooled.loc["model", "pr_auc_gain_vs_base_rate"] == pytest.approx(
        pooled.loc["model", "pr_auc"] - share
    )
    assert pooled.loc["model", "brier_skill_vs_base_rate"] == pytest.approx(
        1 - pooled.loc["model", "brier"] / pooled.loc["base_rate", "brier"]
    )
    assert pooled.loc["model", "brier_skill_vs_unit_exit_share"] == pytest.approx(
        1 - pooled.loc["model", "brier"] / pooled.loc["unit_exit_share", "brier"]
    )
    assert np.isnan(pooled.loc["base_rate", "roc_auc_gain_vs_base_rate"])
    assert pooled.loc["model", "roc_auc"] > 0.6  # caseload carries real signal
    assert pooled.loc["model", "n_test"] == len(res.predictions)
    # pooled metrics are computed on the pooled predictions
    assert pooled.loc["model", "brier"] == pytest.approx(
        np.mean((res.predictions["p"] - res.predictions["y"]) ** 2)
    )
    assert "employee_id" not in res.predictions.columns
    assert list(res.predictions.columns[:5]) == ["period", "unit_id", "y", "p", "fold"]


def _rows_of_each_fit(res):
    """Slices of res.predictions scored by each recorded fit (in fit order)."""
    preds = [e for e in Recording.log if e[0] == "predict"]
    bounds = np.cumsum([0] + [e[4] for e in preds])
    return [res.predictions.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def test_base_rate_is_the_prevalence_of_the_fold_training_periods():
    # 21 evaluable periods, gap 3, 2 splits: fold 1 trains on periods 0..5, fold 2 on 0..11
    panel = make_panel()
    res = tr.evaluate(TurnoverRiskModel(), panel, n_splits=2)
    months = pd.date_range("2020-01-01", periods=24, freq="MS")
    for fold, last in ((1, 5), (2, 11)):
        train = panel[panel["period"] <= months[last]]["left_within_horizon"]
        expected = train.sum() / train.notna().sum()
        got = res.predictions.loc[res.predictions["fold"] == fold, "p_base_rate"]
        np.testing.assert_allclose(got, expected)


def test_unit_share_baseline_uses_the_feature_when_present():
    panel = make_panel(unit_share=True)
    res = tr.evaluate(TurnoverRiskModel(), panel, n_splits=2)
    pred = res.predictions
    per = (pred["period"].dt.year - 2020) * 12 + pred["period"].dt.month - 1
    feature = pred["unit_id"].str[1:].astype(int) * 0.02 + 0.05
    expected = np.where(per % 5 == 0, pred["p_base_rate"], feature)  # missing -> base rate
    assert (per % 5 == 0).any()
    np.testing.assert_allclose(pred["p_unit_exit_share"], expected)


def test_unit_share_baseline_falls_back_to_training_unit_rates():
    panel = make_panel()
    Recording.log = []
    res = tr.evaluate(Recording(), panel, n_splits=2)
    fits = [e for e in Recording.log if e[0] == "fit"]
    for fit, pred in zip(fits, _rows_of_each_fit(res), strict=True):
        np.testing.assert_allclose(pred["p_unit_exit_share"], pred["unit_id"].map(fit[4]))
        assert pred.groupby("unit_id")["p_unit_exit_share"].nunique().max() == 1


def test_summary_is_recorded_on_the_model_and_plot_works():
    panel = make_panel()
    m = TurnoverRiskModel()
    res = tr.evaluate(m, panel, n_splits=2)
    assert m._evaluation_summary == res.summary()
    assert res.summary()["model"]["roc_auc"] == pytest.approx(
        res.table.query("fold == 'pooled' and model == 'model'")["roc_auc"].item()
    )
    assert not hasattr(m, "pipeline_")  # evaluate fits clones, not the model itself
    ax = res.plot_calibration()
    assert ax.get_xlabel() == "predicted probability of leaving"
    assert len(ax.lines) >= 3
    assert "EvaluationResult(n_splits=2" in repr(res)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cv": "random"}, "cv='random' is not a known split scheme; choose one of: temporal"),
        ({"n_splits": 1}, "n_splits=1 must be an integer >= 2"),
        ({"gap": -1}, "gap=-1 must be a non-negative integer"),
        ({"n_splits": 10, "gap": 12}, "too few periods for n_splits=10 with gap=12"),
        ({"person_folds": 1}, "person_folds=1 must be an integer >= 2"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tr.evaluate(TurnoverRiskModel(), make_panel(n_persons=40), **kwargs)


def test_bad_panels():
    panel = make_panel(n_persons=40)
    with pytest.raises(ValueError, match="carries no panel spec"):
        tr.evaluate(TurnoverRiskModel(), pd.DataFrame(panel.to_dict("list")))
    no_ids = attach_spec(panel.drop(columns="employee_id"), tr.panel_spec(panel))
    with pytest.raises(ValueError, match="no person id column"):
        tr.evaluate(TurnoverRiskModel(), no_ids)
    stayers = attach_spec(
        panel.assign(
            left_within_horizon=panel["left_within_horizon"].where(
                panel["left_within_horizon"].isna(), 0.0
            )
        ),
        tr.panel_spec(panel),
    )
    with pytest.raises(ValueError, match=r"fold 1 .* cannot be fitted: no positive labels"):
        tr.evaluate(TurnoverRiskModel(), stayers, n_splits=2)


def test_the_0_1_0_module_path_still_gives_evaluate_and_the_metrics(monkeypatch):
    # 0.1.0's turnover_risk.evaluation held both; the metrics now live in their own module
    monkeypatch.delitem(sys.modules, "turnover_risk.evaluation", raising=False)
    with pytest.warns(tr.TurnoverRiskDeprecationWarning, match="turnover_risk.evaluation moved"):
        old = importlib.import_module("turnover_risk.evaluation")
    assert old.evaluate is tr.evaluate and old.EvaluationResult is tr.EvaluationResult
    assert old.calibration_metrics is calibration_metrics
    assert old.SCORE_METRICS == SCORE_METRICS
