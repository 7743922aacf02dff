"""HazardModel.save / load_model: the classifier's safe format (skops allow-list, manifest,
optional HMAC), identical predictions after loading, tampered files refused."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk._errors import TurnoverRiskInputError
from turnover_risk.models import HazardModel, TurnoverRiskModel, load_model
from turnover_risk.models._safe_format import TRUSTED_TYPES

MANIFEST = "turnover_risk/manifest.json"


def _manifest(path: Path) -> dict:
    return json.loads(zipfile.ZipFile(path).read(MANIFEST))


def _rewrite(path: Path, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries.update(replace)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


@pytest.fixture(scope="module")
def sample():
    reg = tr.load_sample()
    return reg, tr.build_panel(reg, freq="M", outcome="any")


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    monkeypatch.delenv("TURNOVER_RISK_KEY", raising=False)


@pytest.mark.parametrize(
    "params",
    [
        # unpenalised, with a missing-value indicator (caseload) and Wald intervals
        {"features": ["tenure_service_months", "caseload_3m_mean", "age"]},
        # all the panel's features, penalised: NaN standard errors
        {"outcomes": ("voluntary", "retirement")},
        {"kind": "gbm", "random_state": 0, "gbm_params": {"max_iter": 20}},
    ],
    ids=["cloglog", "ridge", "gbm"],
)
def test_round_trip_predicts_identically(sample, tmp_path, monkeypatch, params):
    reg, panel = sample
    m = HazardModel(**params).fit(panel, reg)
    path = m.save(tmp_path / "hazard")
    assert path.suffix == ".skops"

    def no_pickle(*args, **kwargs):
        raise AssertionError("a model file must never be unpickled")

    monkeypatch.setattr(pickle, "loads", no_pickle)
    monkeypatch.setattr(pickle, "load", no_pickle)
    again = load_model(path)
    assert isinstance(again, HazardModel)
    rows = panel.iloc[::7]
    pd.testing.assert_frame_equal(again.predict_risk(rows, 24), m.predict_risk(rows, 24))
    np.testing.assert_array_equal(again.risk_curves(rows, 6), m.risk_curves(rows, 6))
    pd.testing.assert_frame_equal(again.coefficients_, m.coefficients_)
    assert again.info_ == m.info_ and again.get_params() == m.get_params()
    manifest = _manifest(path)
    assert manifest["model_class"] == "HazardModel"
    assert manifest["causes"] == list(m.causes_)
    assert manifest["feature_names"] == list(m.features_in_)
    assert manifest["events"] == m.info_["events"]


def test_only_allow_listed_types_and_no_ids(sample, tmp_path):
    import skops.io as sio

    reg, panel = sample
    path = HazardModel(features=["age", "fte"]).fit(panel, reg).save(tmp_path / "h.skops")
    assert set(sio.get_untrusted_types(file=path)) <= set(TRUSTED_TYPES)
    blob = path.read_bytes()
    some_id = str(panel["employee_id"].iloc[0]).encode()
    assert some_id not in blob


def test_the_evaluation_goes_into_the_manifest_and_comes_back(sample, tmp_path):
    reg, panel = sample
    m = HazardModel(features=["tenure_service_months", "age"])
    res = tr.evaluate(m, panel, register=reg, n_splits=2, person_folds=2)
    m.fit(panel, reg)
    path = m.save(tmp_path / "h.skops", evaluation=res)
    assert _manifest(path)["evaluation"]["model"]["auc_12m"] == pytest.approx(
        res.summary()["model"]["auc_12m"]
    )
    assert load_model(path)._evaluation_summary == res.summary()


@pytest.fixture
def saved(sample, tmp_path):
    reg, panel = sample
    m = HazardModel(features=["tenure_service_months", "age"]).fit(panel, reg)
    return m, m.save(tmp_path / "h.skops")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("feature_names", ["age", "tenure_service_months"]),
        ("causes", ["voluntary"]),
        ("horizon", 24),
        ("kind", "gbm"),
        ("model_class", "TurnoverRiskModel"),
    ],
)
def test_a_manifest_that_does_not_describe_the_model_is_refused(saved, field, value):
    _, path = saved
    manifest = _manifest(path)
    manifest[field] = value
    _rewrite(path, {MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(TurnoverRiskInputError, match=field):
        load_model(path)


def test_a_classifier_under_a_hazard_manifest_is_refused(saved, make_panel, tmp_path):
    _, hazard_path = saved
    clf = TurnoverRiskModel(random_state=0).fit(make_panel(n_persons=60))
    clf_path = clf.save(tmp_path / "clf.skops")
    _rewrite(clf_path, {MANIFEST: zipfile.ZipFile(hazard_path).read(MANIFEST)})
    with pytest.raises(TurnoverRiskInputError, match="does not describe"):
        load_model(clf_path)


def test_a_tampered_signed_file_is_refused(sample, tmp_path, monkeypatch):
    """With TURNOVER_RISK_KEY set the file is signed: changing one coefficient array (which
    no manifest check could catch) or the manifest makes it unloadable."""
    reg, panel = sample
    m = HazardModel(features=["tenure_service_months", "age"]).fit(panel, reg)
    monkeypatch.setenv("TURNOVER_RISK_KEY", "secret-1")
    path = m.save(tmp_path / "signed.skops")
    assert _manifest(path)["signed"] is True
    load_model(path)
    with zipfile.ZipFile(path) as zf:
        arrays = [n for n in zf.namelist() if n.endswith(".npy")]
        data = bytearray(zf.read(arrays[0]))
    data[-1] ^= 0xFF
    copy = tmp_path / "copy.skops"
    copy.write_bytes(path.read_bytes())
    _rewrite(copy, {arrays[0]: bytes(data)})
    with pytest.raises(TurnoverRiskInputError, match="signature does not match"):
        load_model(copy)
    monkeypatch.setenv("TURNOVER_RISK_KEY", "secret-2")
    with pytest.raises(TurnoverRiskInputError, match="signature does not match"):
        load_model(path)


def test_a_file_naming_a_dangerous_type_is_refused(saved):
    _, path = saved
    schema = json.loads(zipfile.ZipFile(path).read("schema.json"))
    schema["__class__"], schema["__module__"] = "system", "os"
    _rewrite(path, {"schema.json": json.dumps(schema).encode()})
    with pytest.raises(TurnoverRiskInputError, match=r"os\.system"):
        load_model(path)


def test_an_unfitted_model_is_not_saved(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        HazardModel().save(tmp_path / "h.skops")
    assert not (tmp_path / "h.skops").exists()
