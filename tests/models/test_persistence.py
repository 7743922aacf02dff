"""Tests of saving and loading models: the manifest, its hash check, versions, and 0.1.0 files."""

from __future__ import annotations

import hashlib
import json
import pickle
import struct
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn

import turnover_risk as tr
import turnover_risk.models as models_pkg
from turnover_risk.models import ModelVersionWarning, TurnoverRiskModel, load_model
from turnover_risk.models._calibration import _IsotonicCalibrator, _SigmoidCalibrator
from turnover_risk.models._pipeline import _onehot_name
from turnover_risk.panel._spec import PanelSpec

FAST_GBM = {"max_iter": 30}
DATA = Path(__file__).parent / "data"


@pytest.fixture
def saved(make_panel, tmp_path):
    panel = make_panel(n_persons=60)
    m = TurnoverRiskModel(random_state=0).fit(panel)
    path = m.save(tmp_path / "model.joblib")
    return m, panel, path


def test_save_writes_joblib_and_manifest(saved):
    m, panel, path = saved
    manifest = json.loads(path.with_suffix(".json").read_text())
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["library"] == "turnover_risk"
    assert manifest["library_version"] == tr.__version__
    assert manifest["feature_names"] == ["caseload_3m_mean", "newly_qualified", "role"]
    assert manifest["feature_dtypes"]["caseload_3m_mean"] == "float64"
    assert manifest["horizon"] == 6 and manifest["outcome"] == "voluntary"
    assert manifest["training_periods"]["first"] == "2021-01-01"
    assert manifest["evaluation"] is None
    for key in ("sklearn_version", "python_version", "created"):
        assert manifest[key]
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(panel), m.predict_proba(panel))


def test_tampered_file_is_refused_before_unpickling(saved, monkeypatch):
    _, _, path = saved
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))

    def never(*a, **k):  # pragma: no cover - failing is the point
        raise AssertionError("unpickled a file whose hash does not match")

    monkeypatch.setattr("turnover_risk.models._persistence.joblib.load", never)
    with pytest.raises(ValueError, match="the file changed after it was saved"):
        load_model(path)


def test_missing_manifest_is_refused(saved):
    _, _, path = saved
    path.with_suffix(".json").unlink()
    with pytest.raises(FileNotFoundError, match=r"manifest .*model.json.* is missing"):
        load_model(path)


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "nope.joblib")


@pytest.mark.parametrize(
    ("key", "what"), [("library_version", "turnover_risk"), ("sklearn_version", "scikit-learn")]
)
def test_other_versions_warn(saved, key, what):
    _, panel, path = saved
    mpath = path.with_suffix(".json")
    manifest = json.loads(mpath.read_text())
    manifest[key] = "0.0.1"
    mpath.write_text(json.dumps(manifest))
    with pytest.warns(ModelVersionWarning, match=f"saved with {what} 0.0.1"):
        load_model(path)


def test_file_that_is_not_a_model_is_refused(tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump({"not": "a model"}, path)
    manifest = {
        "library": "turnover_risk",
        "library_version": tr.__version__,
        "sklearn_version": __import__("sklearn").__version__,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    path.with_suffix(".json").write_text(json.dumps(manifest))
    with pytest.raises(TypeError, match="holds a dict, not a TurnoverRiskModel"):
        load_model(path)


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_saved_file_holds_no_ids_and_no_training_rows(make_panel, tmp_path, kind):
    ids = [f"SECRET-{i:05d}-ID" for i in range(80)]
    panel = make_panel(n_persons=80, ids=ids)
    # an even number of distinct rows, so medians are midpoints and not stored data values
    assert panel["caseload_3m_mean"].nunique() % 2 == 0
    m = TurnoverRiskModel(kind=kind, random_state=0, **(FAST_GBM if kind == "gbm" else {}))
    m.fit(panel)
    blob = m.save(tmp_path / "m.joblib").read_bytes()
    assert b"caseload_3m_mean" in blob  # positive control: the file is searchable
    for i in ids:
        assert i.encode("utf-8") not in blob and i.encode("utf-32-le") not in blob
    assert b"SECRET" not in blob and "SECRET".encode("utf-32-le") not in blob
    used = panel.loc[panel["left_within_horizon"].notna(), "caseload_3m_mean"].to_numpy()
    found = {v for v in used if struct.pack("<d", v) in blob}
    if kind == "logistic":
        assert found == set()  # only aggregates: medians (midpoints), means, scales, coefficients
    else:
        # HistGradientBoosting keeps one-dimensional bin edges (quantiles of each column), some
        # of which coincide with a data value; nothing else from the rows is stored.
        bin_edges = set(m.pipeline_.named_steps["clf"]._bin_mapper.bin_thresholds_[0].tolist())
        assert found <= bin_edges
        assert len(found) < 0.25 * len(used)


def test_evaluation_summary_goes_into_the_manifest(make_panel, tmp_path):
    panel = make_panel(n_persons=80)
    m = TurnoverRiskModel().fit(panel)
    result = tr.evaluate(m, panel, n_splits=2)
    manifest = json.loads(m.save(tmp_path / "m.joblib").with_suffix(".json").read_text())
    pooled = result.table.query("fold == 'pooled' and model == 'model'").iloc[0]
    assert manifest["evaluation"]["model"]["roc_auc"] == pytest.approx(pooled["roc_auc"])
    assert manifest["evaluation"]["gap"] == 6
    assert load_model(tmp_path / "m.joblib")._evaluation_summary["n_splits"] == 2


# --------------------------------------------------------------------------------------------
# model files saved by turnover_risk 0.1.0
# --------------------------------------------------------------------------------------------

# tests/models/data/model-0.1.0-{logistic,gbm}.joblib (+ .json manifests) were saved by
# turnover_risk 0.1.0, with ``TurnoverRiskModel(kind=..., random_state=0).fit(panel)`` on
# ``panel = build_panel(make_register(n_units=6, years=3, random_state=1))``. They name the
# module paths of 0.1.0: turnover_risk._spec.PanelSpec, turnover_risk.models.TurnoverRiskModel
# and turnover_risk.models._onehot_name. Pickles are not portable across scikit-learn
# versions: the tests skip when the installed one differs from the manifest's.
OLD_KINDS = ["logistic", "gbm"]


def _old_file(kind: str) -> tuple[Path, dict]:
    path = DATA / f"model-0.1.0-{kind}.joblib"
    manifest = json.loads(path.with_suffix(".json").read_text())
    if manifest["sklearn_version"] != sklearn.__version__:
        pytest.skip(
            f"{path.name} was pickled with scikit-learn {manifest['sklearn_version']}; this is "
            f"{sklearn.__version__} (pickles are not portable across scikit-learn versions)"
        )
    return path, manifest


@pytest.fixture(scope="module")
def register_panel():
    """The panel of the register the 0.1.0 files were trained on."""
    return tr.build_panel(tr.make_register(n_units=6, years=3, random_state=1))


@pytest.mark.parametrize("kind", OLD_KINDS)
def test_0_1_0_file_loads_and_warns_only_about_another_library_version(kind):
    path, manifest = _old_file(kind)
    assert manifest["library_version"] == "0.1.0"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load_model(path)
    messages = [str(w.message) for w in caught if issubclass(w.category, ModelVersionWarning)]
    if tr.__version__ == "0.1.0":
        assert messages == []
    else:
        assert messages == [
            f"model {str(path)!r} was saved with turnover_risk 0.1.0; this is turnover_risk "
            f"{tr.__version__}. Predictions may differ: check them, or retrain and save with "
            "this version."
        ]
    assert [w for w in caught if not issubclass(w.category, ModelVersionWarning)] == []
    assert type(model) is TurnoverRiskModel and model.kind == kind == manifest["kind"]
    assert isinstance(model.spec_, PanelSpec) and model.spec_.horizon == manifest["horizon"]


@pytest.mark.parametrize("kind", OLD_KINDS)
def test_0_1_0_file_predicts_on_the_register_panel(kind, register_panel):
    path, manifest = _old_file(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelVersionWarning)
        model = load_model(path)
    assert list(model.feature_names_in_) == manifest["feature_names"]
    assert model.features_ == manifest["features_used"]
    p = model.predict_proba(register_panel)
    assert p.shape == (len(register_panel), 2)
    assert ((p[:, 1] > 0) & (p[:, 1] < 1)).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    ex = model.explain(register_panel.head(40))
    np.testing.assert_allclose(ex.values.sum(axis=1) + ex.base_value, ex.output, atol=1e-6)
    again = pickle.loads(pickle.dumps(model))  # pickled now by the current module paths
    np.testing.assert_array_equal(again.predict_proba(register_panel), p)


@pytest.mark.parametrize(
    ("name", "now"),
    [
        ("TurnoverRiskModel", TurnoverRiskModel),
        ("_onehot_name", _onehot_name),
        ("_SigmoidCalibrator", _SigmoidCalibrator),
        ("_IsotonicCalibrator", _IsotonicCalibrator),
    ],
)
def test_names_that_0_1_0_pickles_look_up_in_turnover_risk_models_resolve(name, now):
    # a calibrated 0.1.0 model names its calibrator class in turnover_risk.models too
    assert pickle.loads(f"cturnover_risk.models\n{name}\n.".encode()) is now
    assert getattr(models_pkg, name) is now
    with pytest.raises(AttributeError, match="has no attribute '_nope'"):
        models_pkg._nope  # noqa: B018
