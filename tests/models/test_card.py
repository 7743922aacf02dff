"""The model card: Markdown and JSON beside the model, no personal data, deployer fields."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd

import turnover_risk as tr
from turnover_risk.models._card import DEPLOYER, write_model_card


def test_card_files_hold_counts_and_deployer_fields(fitted_sample, tmp_path):
    reg, panel, models = fitted_sample
    model = models["logistic"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = tr.audit(model, panel, register=reg, n_boot=30, min_group_size=40)
    md, js = write_model_card(model, tmp_path / "model.skops", audit=audit)
    assert (md.name, js.name) == ("model.card.md", "model.card.json")
    card = json.loads(js.read_text())
    text = md.read_text() + js.read_text()
    # no personal data: no identifier, no suppressed group (60+ has fewer than 40 persons)
    ids = set(panel["employee_id"].astype(str))
    assert not any(i in text for i in list(ids)[:200])
    shown = audit.table.loc[~audit.table["suppressed"], "group"].tolist()
    assert [g["group"] for g in card["audit"]["groups"]] == shown
    assert "60+" not in shown and card["audit"]["groups_suppressed"] >= 1
    # training window and population as counts
    assert card["training_data"]["n_rows"] == model.n_train_rows_
    assert card["training_data"]["n_persons"] == model.input_profile_["n_persons"]
    # levers from the registry
    levers = {f["name"]: f["lever"] for f in card["features"]}
    assert levers["caseload_3m_mean"] is True and levers["age"] is False
    # EU AI Act: Art 13 and Art 27 fields, deployer-only parts marked
    act = card["eu_ai_act"]
    assert act["art_13_instructions_for_use"]["provider_identity_and_contact"] == DEPLOYER
    assert act["art_27_fria"]["processes_where_used"] == DEPLOYER
    assert "not be used to make or prepare decisions about individual" in card["human_oversight"]
    assert "Association, not cause" in md.read_text() and DEPLOYER in md.read_text()


def test_card_of_a_plain_table_model_without_evaluation(make_xy, tmp_path):
    X, y = make_xy(n=300)
    model = tr.TurnoverRiskModel(random_state=0).fit(X, y)
    md, js = write_model_card(model, tmp_path / "m.skops")
    card = json.loads(js.read_text())
    assert [f["name"] for f in card["features"]] == list(model.features_)
    levers = {f["name"]: f["lever"] for f in card["features"]}
    assert levers == {"caseload": None, "role": False, "supervision": None}  # None: not known
    assert card["evaluation"] is None and card["audit"] is None
    assert "Not evaluated" in md.read_text() and "Not audited" in md.read_text()


def test_evaluation_over_time_has_one_row_per_fold(make_panel, tmp_path):
    panel = make_panel(n_persons=150, n_periods=30)
    model = tr.TurnoverRiskModel(random_state=0).fit(panel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = tr.evaluate(model, panel, n_splits=2)
    _, js = write_model_card(model, tmp_path / "m.skops", evaluation=ev)
    rows = json.loads(js.read_text())["evaluation"]["over_time"]
    folds = ev.table[(ev.table["fold"] != "pooled") & (ev.table["model"] == "model")]
    assert len(rows) == len(folds)
    np.testing.assert_allclose([r["roc_auc"] for r in rows], folds["roc_auc"].astype(float))
    assert pd.Timestamp(rows[0]["test_start"]) == pd.Timestamp(folds["test_start"].iloc[0])
