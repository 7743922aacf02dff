"""The reference profile a model stores at fit: merged bins, person weights, no personal data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnover_risk.models import TurnoverRiskModel
from turnover_risk.models._profile import bin_codes, build_profile


def _frame(n_persons=60, rows=5, seed=0):
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(n_persons), rows)
    X = pd.DataFrame(
        {
            "caseload": rng.normal(20, 5, n_persons)[pid] + rng.normal(0, 1, len(pid)),
            "fte": rng.choice([0.5, 0.8, 1.0], n_persons)[pid],
            "role": rng.choice(["caseworker", "leader"], n_persons, p=[0.9, 0.1])[pid],
        }
    )
    return X, pid


@given(st.integers(0, 10_000), st.integers(12, 80), st.integers(3, 15))
def test_every_value_bin_holds_at_least_min_persons(seed, n_persons, min_persons):
    X, pid = _frame(n_persons, rows=4, seed=seed)
    prof = build_profile(X, ["caseload"], ["caseload"], pid, min_bin_persons=min_persons)
    f = prof["features"]["caseload"]
    codes, _, _ = bin_codes(f, X["caseload"])
    for b in range(len(f["edges"]) + 1):
        assert len(np.unique(pid[codes == b])) >= min(min_persons, n_persons)
    # person weights: every person adds exactly 1 over the bins
    assert sum(f["counts"]) == pytest.approx(n_persons)
    assert sum(f["rows"]) == len(X)


def test_person_weights_by_hand():
    # person A: 3 rows in the low bin, person B: 1 row in the high bin -> weights 1 and 1
    X = pd.DataFrame({"x": [1.0, 1.0, 1.0, 5.0]})
    prof = build_profile(X, ["x"], ["x"], ["A", "A", "A", "B"], min_bin_persons=1)
    f = prof["features"]["x"]
    assert f["rows"] == [3, 1, 0]  # two value bins and the missing bin
    assert f["counts"] == [1.0, 1.0, 0.0]
    assert prof["n_persons"] == 2 and prof["n_rows"] == 4


def test_no_identifier_minimum_or_maximum_is_stored():
    X, pid = _frame(80)
    X.loc[0, "caseload"] = 987.654  # one person's extreme value
    ids = np.asarray([f"E{p:06d}" for p in pid], dtype=object)
    text = json.dumps(build_profile(X, ["caseload", "fte", "role"], ["caseload", "fte"], ids))
    assert "987.654" not in text and "E0000" not in text
    assert str(X["caseload"].min()) not in text


def test_plausible_range_catches_unit_errors_not_the_training_data():
    X, pid = _frame(200)
    prof = build_profile(X, ["caseload", "fte"], ["caseload", "fte"], pid)
    _, oor_train, _ = bin_codes(prof["features"]["fte"], X["fte"])
    assert not oor_train.any()
    assert prof["features"]["fte"]["low"] == 0.0 and prof["features"]["fte"]["high"] == 1.0
    _, oor, _ = bin_codes(prof["features"]["fte"], X["fte"] * 100)
    assert oor.all()  # fte in percent
    _, oor, _ = bin_codes(prof["features"]["caseload"], np.array([20.0, -3.0, 2000.0, np.inf]))
    assert oor.tolist() == [False, True, True, True]


def test_rare_categories_are_merged_but_still_known():
    X = pd.DataFrame({"role": ["a"] * 40 + ["b"] * 30 + ["c"] * 3 + ["d"] * 8 + [None] * 2})
    prof = build_profile(X, ["role"], [])
    f = prof["features"]["role"]
    assert f["labels"] == ["a", "b", "(other)", "missing"]
    assert f["rows"] == [40, 30, 11, 2]  # c and d (each under 10 persons) together
    codes, _, unseen = bin_codes(f, pd.Series(["c", "zzz", None, "a"]))
    assert codes.tolist() == [2, 4, 3, 0] and unseen.tolist() == [False, True, False, False]


def test_a_small_other_bin_takes_the_smallest_kept_level():
    X = pd.DataFrame({"role": ["a"] * 40 + ["b"] * 12 + ["c"] * 3})
    f = build_profile(X, ["role"], [])["features"]["role"]
    assert f["labels"] == ["a", "(other)", "missing"] and f["rows"] == [40, 15, 0]


def test_fit_stores_a_json_profile_of_the_features_used(make_panel):
    panel = make_panel(n_persons=80)
    model = TurnoverRiskModel(random_state=0).fit(panel)
    prof = model.input_profile_
    assert list(prof["features"]) == list(model.features_)
    assert prof["n_rows"] == model.n_train_rows_  # the rows fitted on, persons from the ids
    assert 40 < prof["n_persons"] <= 80 < prof["n_rows"]
    json.dumps(prof)  # plain types only
    assert prof["features"]["role"]["kind"] == "category"
