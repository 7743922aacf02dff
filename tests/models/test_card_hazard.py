"""The model card of a HazardModel: its outcomes, horizons, events, training months and
evaluation, as the model and the evaluation hold them; the Markdown shows the same numbers; no
identifiers; saving writes it beside the model."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.models._card import model_card, write_model_card

FEATURES = ["tenure_service_months", "newly_qualified", "fte", "caseload_3m_mean"]


@pytest.fixture(scope="module")
def hazard():
    reg = tr.load_sample()
    panel = tr.build_panel(reg, freq="M", outcome="any")
    model = tr.HazardModel(outcomes=("voluntary", "retirement"), features=FEATURES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(panel, reg)
        ev = tr.evaluate(model, panel, register=reg, n_splits=2, horizons=(3, 12))
    return reg, panel, model, ev


def test_card_holds_the_models_outcomes_horizons_and_counts(hazard):
    reg, panel, model, ev = hazard
    card = model_card(model, evaluation=ev)
    m = card["model"]
    assert m["class"] == "HazardModel" and m["kind"] == "cloglog"
    assert m["outcomes"] == ["voluntary", "retirement"] and m["competing"] == "other_exits"
    assert m["causes"] == list(model.causes_)
    assert m["horizons"] == [3, 12] and m["evaluated"] is True  # the evaluation's horizons
    td = card["training_data"]
    # events per cause: the exits the model was fitted on, counted from its own rows
    rows, cause = model._rows(panel, reg)
    assert td["events"] == {c: int((cause == c).sum()) for c in model.causes_}
    assert td["n_rows"] == int(rows.sum()) == model.info_["rows_used"]
    assert td["n_rows"] + td["n_rows_dropped_incomplete_month"] == len(panel)
    months = pd.to_datetime(panel.loc[rows, "period"])
    assert td["periods"] == {
        "first": str(months.min().date()),
        "last": str(months.max().date()),
        "n_periods": months.nunique(),
    }
    assert td["n_persons"] == panel.loc[rows, "employee_id"].nunique()
    assert td["monthly_event_rate"]["voluntary"] == pytest.approx(
        td["events"]["voluntary"] / td["n_rows"]
    )
    assert [f["name"] for f in card["features"]] == FEATURES
    assert card["missing_indicators"] == ["caseload_3m_mean_missing"]  # caseworkers only
    coef = pd.DataFrame(card["coefficients"])
    np.testing.assert_allclose(coef["coef"], model.coefficients_["coef"])
    assert list(coef["outcome"].unique()) == list(model.causes_)
    # the pooled metrics per horizon are the evaluation's own
    pooled = ev.table[ev.table["fold"] == "pooled"].set_index(["model", "horizon"])
    for row in card["evaluation"]["by_horizon"]:
        h = row["horizon"]
        assert row["auc"] == pytest.approx(pooled.loc[("model", h), "auc"])
        assert row["brier_kaplan_meier"] == pytest.approx(pooled.loc[("kaplan_meier", h), "brier"])
    ib = ev.integrated[ev.integrated["fold"] == "pooled"].set_index("model")["integrated_brier"]
    assert card["evaluation"]["integrated_brier"]["kaplan_meier"] == pytest.approx(
        ib["kaplan_meier"]
    )
    folds = ev.table[(ev.table["fold"] != "pooled") & (ev.table["model"] == "model")]
    assert len(card["evaluation"]["over_time"]) == len(folds) == 2 * 2  # folds x horizons
    assert "cumulative incidence" in m["risk"] and any(
        "monthly hazard" in x for x in card["limits"]
    )


def _md_table_after(text: str, heading_start: str) -> pd.DataFrame:
    """The first Markdown table after the line starting with ``heading_start``."""
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(heading_start))
    i = next(k for k in range(i, len(lines)) if lines[k].startswith("| "))
    rows = []
    while i < len(lines) and lines[i].startswith("|"):
        rows.append([c.strip() for c in lines[i].strip("|").split("|")])
        i += 1
    return pd.DataFrame(rows[2:], columns=rows[0])


def test_markdown_and_json_round_trip(hazard, tmp_path):
    _reg, panel, model, ev = hazard
    md, js = write_model_card(model, tmp_path / "hz.skops", evaluation=ev)
    card = json.loads(js.read_text())
    # JSON: what model_card gives, unchanged by the file
    expected = json.loads(json.dumps(model_card(model, evaluation=ev), default=str))
    assert card == expected
    text = md.read_text()
    assert "**Outcomes**: voluntary, retirement (competing: other_exits)." in text
    assert "**Horizons**: 3, 12 months." in text
    # the Markdown tables show the JSON's numbers (3 significant digits)
    events = _md_table_after(text, "## Training data")
    assert events["cause"].tolist() == list(model.causes_)
    assert events["events"].astype(int).tolist() == [card["training_data"]["events"][c] for c in
                                                     model.causes_]  # fmt: skip
    by_h = _md_table_after(text, "## Evaluation over time")
    assert by_h["horizon"].astype(int).tolist() == [3, 12]
    for got, row in zip(by_h.itertuples(), card["evaluation"]["by_horizon"], strict=True):
        assert float(got.auc) == pytest.approx(float(f"{row['auc']:.3g}"))
        assert float(got.brier_kaplan_meier) == pytest.approx(
            float(f"{row['brier_kaplan_meier']:.3g}")
        )
    coefs = _md_table_after(text, "## Log-hazard coefficients")
    assert len(coefs) == len(model.coefficients_)
    # no identifiers anywhere
    ids = panel["employee_id"].astype(str).unique()
    both = text + js.read_text()
    assert not any(i in both for i in ids)


def test_saving_a_hazard_model_writes_its_card_and_a_loaded_one_keeps_the_summary(hazard, tmp_path):
    _reg, _panel, model, ev = hazard
    path = model.save(tmp_path / "hz.skops", evaluation=ev)
    card = json.loads((tmp_path / "hz.card.json").read_text())
    assert card["model"]["outcomes"] == ["voluntary", "retirement"]
    assert card["evaluation"]["pooled"] == json.loads(json.dumps(ev.summary()))
    loaded = tr.load_model(path)
    again = model_card(loaded)  # the manifest's evaluation summary
    assert again["model"]["horizons"] == [3, 12]
    assert again["training_data"]["periods"] == card["training_data"]["periods"]
    assert again["evaluation"]["model"]["auc_12m"] == pytest.approx(
        card["evaluation"]["by_horizon"][1]["auc"]
    )


def test_a_card_without_evaluation_says_so(hazard, tmp_path):
    reg, panel, _model, _ev = hazard
    model = tr.HazardModel(kind="gbm", features=FEATURES, random_state=0).fit(panel, reg)
    md, js = write_model_card(model, tmp_path / "g.skops")
    card = json.loads(js.read_text())
    assert card["model"]["kind"] == "gbm" and card["model"]["evaluated"] is False
    assert card["model"]["horizons"] == [3, 6, 12, 24]  # the defaults of evaluate
    assert card["coefficients"] is None and card["evaluation"] is None
    text = md.read_text()
    assert "Not evaluated" in text and "Log-hazard coefficients" not in text
    assert "Not audited" in text
