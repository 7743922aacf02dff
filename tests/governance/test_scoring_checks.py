"""Scoring-time checks (issue 17): unseen values warned with counts, rows reported, drift.csv."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk._warnings import DataQualityWarning
from turnover_risk.cli import main
from turnover_risk.governance._checks import InputChecks, drift_path
from turnover_risk.panel import attach_spec, panel_spec


@pytest.fixture(scope="module")
def setup(make_panel, tmp_path_factory):
    panel = make_panel(n_persons=150, seed=3)
    model = tr.TurnoverRiskModel(random_state=0).fit(panel)
    bad = panel.copy()
    bad["caseload_3m_mean"] = bad["caseload_3m_mean"].where(bad.index % 100 != 7, 2000.0)
    bad["role"] = bad["role"].where(bad.index % 500 != 3, "consultant")
    bad = attach_spec(bad, panel_spec(panel))
    folder = tmp_path_factory.mktemp("checks")
    bad.to_parquet(folder / "bad.parquet")
    panel.to_parquet(folder / "good.parquet")
    path = model.save(folder / "model.skops")
    return model, panel, bad, folder, path


@pytest.mark.parametrize("source", ["frame", "parquet"])
def test_one_warning_with_counts_and_the_rows_in_the_problem_report(setup, tmp_path, source):
    model, _, bad, folder, _ = setup
    src = bad if source == "frame" else folder / "bad.parquet"
    with pytest.warns(DataQualityWarning) as rec:
        res = tr.score_dataset(model, src, tmp_path / "out.parquet", batch_rows=1000)
    lines = [str(w.message) for w in rec if "never saw" in str(w.message)]
    n_oor, n_new = len(range(7, len(bad), 100)), len(range(3, len(bad), 500))
    assert len(lines) == 1 and "\n" not in lines[0]
    assert f"caseload_3m_mean {n_oor} rows" in lines[0] and f"role {n_new} rows" in lines[0]
    assert res.rows_scored == len(bad)  # scored, not dropped
    p = res.input_problems
    assert sorted(p.loc[p["column"] == "caseload_3m_mean", "row"]) == list(range(7, len(bad), 100))
    assert sorted(p.loc[p["column"] == "role", "row"]) == list(range(3, len(bad), 500))
    assert not p.astype(str).apply(lambda c: c.str.contains(r"P0\d\d\d")).any().any()  # no ids
    assert set(res.drift.table["feature"]) == set(model.features_)


def test_clean_data_scores_without_a_warning(setup, tmp_path):
    model, panel, _, _, _ = setup
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = tr.score_dataset(model, panel, tmp_path / "out.parquet")
    assert res.input_problems.empty and not res.drift.any_drift


def test_a_model_without_profile_warns_that_nothing_was_checked(setup, tmp_path):
    model, panel, _, _, _ = setup
    old = tr.TurnoverRiskModel()
    old.__dict__.update({k: v for k, v in model.__dict__.items() if k != "input_profile_"})
    with pytest.warns(DataQualityWarning, match="not checked"):
        res = tr.score_dataset(old, panel, tmp_path / "out.parquet")
    assert res.drift is None


def test_stream_counts_equal_check_drift_counts(setup):
    model, _, bad, _, _ = setup
    checks = InputChecks(model, "employee_id")
    for start in range(0, len(bad), 777):
        checks.add(bad.iloc[start : start + 777], "f", start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stream, _ = checks.finish()
    full = tr.check_drift(model, bad).table.set_index("feature")
    s = stream.table.set_index("feature")
    pd.testing.assert_series_equal(s["out_of_range"], full["out_of_range"])
    pd.testing.assert_series_equal(s["unseen"], full["unseen"])
    assert (s["n_persons"] == 150).all()


def test_cli_writes_drift_csv_and_fails_on_drift_when_asked(setup, tmp_path, capsys):
    model, panel, _, folder, path = setup
    shifted = panel.copy()
    shifted["caseload_3m_mean"] = shifted["caseload_3m_mean"] + 6
    shifted = attach_spec(shifted, panel_spec(panel))
    shifted.to_parquet(tmp_path / "shifted.parquet")
    out = tmp_path / "risk.parquet"
    args = ["score", str(path), str(folder / "good.parquet"), "--out", str(out)]
    assert main([*args, "--fail-on-drift"]) == 0
    table = pd.read_csv(drift_path(out))
    assert drift_path(out).name == "risk.drift.csv" and not table["drift"].any()
    args = ["score", str(path), str(tmp_path / "shifted.parquet"), "--out", str(out)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([*args, "--overwrite"]) == 0  # drift is reported, not fatal by default
        assert main([*args, "--overwrite", "--fail-on-drift"]) == 4
    err = capsys.readouterr().err
    assert "caseload_3m_mean" in err and "risk.drift.csv" in err
    table = pd.read_csv(drift_path(out)).set_index("feature")
    assert table.loc["caseload_3m_mean", "drift"] and np.isfinite(table["psi"]).all()
