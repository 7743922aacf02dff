"""Every feature of the registry says which family it belongs to, its cause category and
whether a leader can change it (the report groups drivers by these fields)."""

from __future__ import annotations

import pytest

import turnover_risk as tr
from turnover_risk.panel import Feature


def test_every_feature_has_a_known_family_cause_and_lever():
    families, causes = tr.FEATURES.families, tr.FEATURES.causes
    assert list(causes) == [
        "working_conditions",
        "leadership",
        "professional_environment",
        "psychosocial_environment",
        "individual",
    ]
    for name, f in tr.FEATURES.items():
        assert f.family in families, name
        assert f.cause in causes, name
        assert isinstance(f.lever, bool), name
    for labels in (*families.values(), *causes.values()):
        en, nb = labels
        assert en.strip() and nb.strip()


def test_a_family_has_one_cause_and_every_family_is_used():
    cause_of: dict[str, set[str]] = {}
    for f in tr.FEATURES.values():
        cause_of.setdefault(f.family, set()).add(f.cause)
    assert {k: len(v) for k, v in cause_of.items() if len(v) != 1} == {}
    assert set(cause_of) == set(tr.FEATURES.families)


def test_families_hold_the_variants_together():
    fam = {n: f.family for n, f in tr.FEATURES.items()}
    assert {n for n, f in fam.items() if f == "caseload"} == {
        "caseload_last",
        "caseload_3m_mean",
        "caseload_6m_trend",
        "caseload_ratio_unit_median",
        "unit_caseload_mean",
    }
    assert fam["newly_qualified"] == fam["tenure_service_months"] == "tenure"
    assert fam["colleagues_left_3m"] == fam["colleagues_left_share_12m"] == "colleagues_left"
    assert fam["cbi_work"] == fam["bat_total"] == fam["proqol_burnout"] == "burnout"
    # age is context, never a lever; caseload and supervision are levers
    assert not tr.FEATURES["age"].lever and tr.FEATURES["age"].cause == "individual"
    assert tr.FEATURES["caseload_3m_mean"].lever
    assert tr.FEATURES["caseload_3m_mean"].cause == "working_conditions"
    assert tr.FEATURES["supervision_sessions_3m"].lever


def test_to_frame_carries_the_new_fields():
    frame = tr.FEATURES.to_frame()
    assert {"family", "cause"} <= set(frame.columns)
    assert (frame["family"] != "").all() and (frame["cause"] != "").all()
    assert len(frame) == len(tr.FEATURES)


def test_feature_defaults_keep_old_positional_calls_working():
    f = Feature("x", "d", "employment", "months")
    assert (f.family, f.cause, f.lever) == ("", "", False)
    with pytest.raises(KeyError, match="not a panel feature"):
        tr.FEATURES["x"]
