"""Tests of the model subcommands of the CLI: ``turnover-risk train`` and ``turnover-risk evaluate``."""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.cli import main
from turnover_risk.panel._spec import attach_spec


@pytest.fixture(scope="module")
def register_dir(tmp_path_factory):
    """A small register folder (10 units, 4 years) written as Parquet."""
    path = tmp_path_factory.mktemp("reg")
    tr.write_register(tr.make_register(n_units=10, years=4, random_state=1), path)
    return path


@pytest.fixture(scope="module")
def panel_file(register_dir, tmp_path_factory):
    """The register's panel, written by the 'features' subcommand."""
    out = tmp_path_factory.mktemp("panel") / "panel.parquet"
    assert main(["features", str(register_dir), "--out", str(out)]) == 0
    return out


def _printed_table(text: str) -> list[str]:
    """Lines of the printed evaluation table that hold a fold's model row."""
    return [
        line
        for line in text.splitlines()
        if line.split()[1:2] == ["model"] and line.split()[0] != "fold"
    ]


def test_train_fits_evaluates_and_saves_with_manifest(register_dir, tmp_path, capsys):
    out = tmp_path / "m" / "model.skops"
    code = main(["train", str(register_dir), "--kind", "logistic", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "Out-of-time evaluation (4 folds, gap 12 periods" in text
    rows = _printed_table(text)
    assert [r.split()[0] for r in rows] == ["1", "2", "3", "4", "pooled"]
    manifest = json.loads(zipfile.ZipFile(out).read("turnover_risk/manifest.json"))
    assert manifest["kind"] == "logistic"
    assert manifest["evaluation"]["n_splits"] == 4 and manifest["evaluation"]["gap"] == 12
    assert 0.0 <= manifest["evaluation"]["model"]["roc_auc"] <= 1.0
    model = tr.load_model(out)
    assert model.kind == "logistic" and model.horizon_ == 12
    assert model._evaluation_summary == manifest["evaluation"]


def test_train_from_a_panel_file_with_gbm(panel_file, tmp_path, capsys):
    out = tmp_path / "gbm.skops"
    args = ["train", str(panel_file), "--kind", "gbm", "--out", str(out), "--n-splits", "2"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert [r.split()[0] for r in _printed_table(text)] == ["1", "2", "pooled"]
    assert tr.load_model(out).kind == "gbm"


def test_evaluate_prints_the_table_and_writes_it(panel_file, tmp_path, capsys):
    out = tmp_path / "eval.csv"
    assert main(["evaluate", str(panel_file), "--n-splits", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    table = pd.read_csv(out)
    assert set(table["model"]) == {"model", "base_rate", "unit_exit_share"}
    assert set(table["fold"].astype(str)) == {"1", "2", "pooled"}
    pooled = table[(table["fold"] == "pooled") & (table["model"] == "model")].iloc[0]
    assert f"{pooled['roc_auc']:.3f}".rstrip("0") in text  # the printed table is the written one
    assert table.loc[table["model"] == "base_rate", "roc_auc"].isna().all()


def test_evaluate_with_a_saved_model_uses_its_settings(register_dir, panel_file, tmp_path):
    saved = tmp_path / "model.skops"
    tr.TurnoverRiskModel(kind="logistic", C=0.05).fit(pd.read_parquet(panel_file)).save(saved)
    out = tmp_path / "eval.parquet"
    assert main(["evaluate", str(register_dir), "--model", str(saved), "--out", str(out)]) == 0
    direct = tr.evaluate(tr.TurnoverRiskModel(kind="logistic", C=0.05), pd.read_parquet(panel_file))
    got = pd.read_parquet(out)
    pd.testing.assert_series_equal(
        got["roc_auc"], direct.table["roc_auc"], check_names=False, check_exact=False
    )


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_missing_folder_is_bad_input(command, tmp_path, capsys):
    args = [command, str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.skops")]
    assert main(args if command == "train" else args[:2]) == 2
    assert "nowhere" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_single_class_panel_is_bad_input(command, panel_file, tmp_path, capsys):
    panel = pd.read_parquet(panel_file)
    spec = tr.panel_spec(panel)
    label = panel[spec.label_col]
    stayers = attach_spec(panel.assign(**{spec.label_col: label.where(label.isna(), 0.0)}), spec)
    path = tmp_path / "stayers.parquet"
    stayers.to_parquet(path)
    args = [command, str(path), "--out", str(tmp_path / "m.skops")]
    assert main(args if command == "train" else args[:2]) == 2
    err = capsys.readouterr().err
    assert "no positive labels" in err
    assert not (tmp_path / "m.skops").exists()


def test_train_refuses_a_non_skops_name(register_dir, tmp_path, capsys):
    assert main(["train", str(register_dir), "--out", str(tmp_path / "model.joblib")]) == 2
    assert "use a .skops file name" in capsys.readouterr().err


def test_evaluate_refuses_a_csv_file(tmp_path, capsys):
    path = tmp_path / "panel.csv"
    path.write_text("a,b\n1,2\n")
    assert main(["evaluate", str(path)]) == 2
    assert "not a .parquet panel" in capsys.readouterr().err


def test_flag_writes_drivers_in_percentage_points(register_dir, tmp_path, capsys):
    out = tmp_path / "flags.csv"
    args = ["flag", str(register_dir), "--margin", "1", "--n-boot", "4", "--out", str(out)]
    assert main(args) == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert "drivers_pp" in table.columns and "drivers" not in table.columns
    flagged = table[table["flag"].isin(["elevated", "low"])]
    assert len(flagged), "margin=1 on 10 units flags some"
    for text in flagged["drivers_pp"]:
        parts = text.split("; ")
        assert len(parts) == 3
        assert all(p.endswith("percentage points vs. all units") for p in parts)
    assert not table["drivers_pp"].str.contains("log-odds").any()
    assert (table.loc[~table["flag"].isin(["elevated", "low"]), "drivers_pp"] == "").all()
