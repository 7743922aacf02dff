"""The report section "Is the model fair, and still valid?": sentences, tables, both languages."""

from __future__ import annotations

import re
import warnings

import pytest

import turnover_risk as tr
from turnover_risk.governance._summary import TEXTS, fairness_summary
from turnover_risk.panel import attach_spec, panel_spec
from turnover_risk.report._fairness import _fairness_section


@pytest.fixture(scope="module")
def results(fitted_sample):
    reg, panel, models = fitted_sample
    model = models["logistic"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = tr.audit(model, panel, register=reg, n_boot=40, min_group_size=40)
    shifted = panel.copy()
    shifted["caseload_3m_mean"] = shifted["caseload_3m_mean"] * 1.8
    drift = tr.check_drift(model, attach_spec(shifted, panel_spec(panel)))
    return model, panel, reg, audit, drift


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_sentences_and_tables_name_only_shown_groups(results, lang):
    _, _, _, audit, drift = results
    s = fairness_summary(audit, drift, lang=lang)
    assert s["title"] == TEXTS[lang]["title"]
    shown = audit.table[~audit.table["suppressed"]]
    assert len(s["audit_table"]["rows"]) == len(shown)
    assert all("60+" not in row[0] for row in s["audit_table"]["rows"])  # under 40 persons
    text = " ".join(s["audit_sentences"] + s["drift_sentences"])
    assert "60+" not in text
    assert "caseload_3m_mean" in s["drift_table"]["drifted"] and "caseload_3m_mean" in text
    if lang == "nb":
        assert "," in s["audit_table"]["rows"][0][2]  # decimal comma
        assert s["audit_table"]["rows"][0][0].startswith("kjønn: kvinner")


def test_no_profile_and_unknown_language():
    assert "0.1.0" in fairness_summary(drift="no_profile")["drift_sentences"][0]
    with pytest.raises(ValueError, match="lang"):
        fairness_summary(lang="sv")


def test_report_section_renders_html(results):
    model, panel, reg, audit, drift = results
    title, body = _fairness_section(model, panel, reg, "en", 12, 40, audit=audit, drift=drift)
    assert title == "Is the model fair, and still valid?"
    assert 'id="fairness-audit"' in body and 'id="fairness-drift"' in body
    assert "<img" in body
    text = re.sub(r'src="data:[^"]*"', "", body)
    assert not re.search(r"E\d{6}", text)  # no employee ids
    # computed when not given (audit by gender and age band; drift on the latest periods)
    title, body = _fairness_section(model, panel, reg, "nb", 12, 5)
    assert title.startswith("Er modellen") and "fairness-audit" in body
