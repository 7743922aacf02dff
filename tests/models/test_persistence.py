"""Tests of saving and loading models: skops files that never run code, the manifest and its
cross-check, the keyed signature, versions, and 0.1.0 joblib files (only with trusted=True)."""

from __future__ import annotations

import json
import pickle
import struct
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import sklearn

import turnover_risk as tr
import turnover_risk.models as models_pkg
from turnover_risk._errors import TurnoverRiskInputError
from turnover_risk.models import ModelVersionWarning, TurnoverRiskModel, load_model
from turnover_risk.models._calibration import _IsotonicCalibrator, _SigmoidCalibrator
from turnover_risk.models._pipeline import _onehot_name
from turnover_risk.panel._spec import PanelSpec

FAST_GBM = {"max_iter": 30}
DATA = Path(__file__).parent / "data"
MANIFEST = "turnover_risk/manifest.json"


def _manifest(path: Path) -> dict:
    return json.loads(zipfile.ZipFile(path).read("turnover_risk/manifest.json"))


def _rewrite(path: Path, replace: dict[str, bytes]) -> None:
    """Rewrite entries of a model archive (as an attacker with write access could)."""
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries.update(replace)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


@pytest.fixture
def saved(make_panel, tmp_path, monkeypatch):
    monkeypatch.delenv("TURNOVER_RISK_KEY", raising=False)
    panel = make_panel(n_persons=60)
    m = TurnoverRiskModel(random_state=0).fit(panel)
    path = m.save(tmp_path / "model.skops")
    return m, panel, path


def test_save_writes_one_skops_file_with_the_manifest_inside(saved):
    m, panel, path = saved
    # the model file and its card (Markdown and JSON), nothing else: no manifest beside it
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "model.card.json",
        "model.card.md",
        "model.skops",
    ]
    manifest = _manifest(path)
    assert manifest["library"] == "turnover_risk" and manifest["format"].startswith("turnover")
    assert manifest["library_version"] == tr.__version__
    assert manifest["feature_names"] == ["caseload_3m_mean", "newly_qualified", "role"]
    assert manifest["feature_dtypes"]["caseload_3m_mean"] == "float64"
    assert manifest["horizon"] == 6 and manifest["outcome"] == "voluntary"
    assert manifest["training_periods"]["first"] == "2021-01-01"
    assert manifest["evaluation"] is None and manifest["signed"] is False
    assert "sha256" not in manifest  # a plain hash beside the data proves nothing
    for key in ("sklearn_version", "numpy_version", "python_version", "created"):
        assert manifest[key]
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(panel), m.predict_proba(panel))


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
@pytest.mark.parametrize("calibrate", [None, "sigmoid", "isotonic"])
def test_round_trip_predicts_identically(make_panel, tmp_path, kind, calibrate):
    panel = make_panel(n_persons=80)
    params = {"estimator_params": FAST_GBM} if kind == "gbm" else {}
    m = TurnoverRiskModel(kind=kind, calibrate=calibrate, random_state=0, **params).fit(panel)
    loaded = load_model(m.save(tmp_path / "m"))  # the .skops suffix is added
    assert (tmp_path / "m.skops").is_file()
    np.testing.assert_array_equal(loaded.predict_proba(panel), m.predict_proba(panel))
    assert loaded.get_params() == m.get_params()


def test_a_pickle_is_refused_unless_trusted_and_never_unpickled(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.joblib"
    path.write_bytes(pickle.dumps(_Evil(str(marker))))
    with pytest.raises(TurnoverRiskInputError, match=r"it is a pickle .* migrate-model --trust"):
        load_model(path)
    assert not marker.exists()
    # the same bytes renamed .skops: still a pickle, still refused
    other = tmp_path / "model.skops"
    other.write_bytes(path.read_bytes())
    with pytest.raises(TurnoverRiskInputError, match="it is a pickle"):
        load_model(other)
    assert not marker.exists()


def test_a_file_that_is_no_model_is_named_as_such_not_as_a_pickle(tmp_path):
    card = tmp_path / "model.card.md"
    card.write_text("# Model card\n\nIntended use: ...\n")
    with pytest.raises(TurnoverRiskInputError, match=r"not a model file.*card"):
        load_model(card)
    with pytest.raises(TurnoverRiskInputError, match=r"not a model file"):
        load_model(card, trusted=True)  # not unpickled even when vouched for
    packed = tmp_path / "model.joblib"  # joblib's zlib compression: still a pickle
    packed.write_bytes(zlib.compress(pickle.dumps({"a": 1})))
    with pytest.raises(TurnoverRiskInputError, match="it is a pickle"):
        load_model(packed)


class _Evil:
    """Unpickling this writes a marker file: code from the file would have run."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path(self.marker).write_text, ("code ran",))


def test_a_skops_file_naming_a_dangerous_type_is_refused(saved):
    _, _, path = saved
    schema = json.loads(zipfile.ZipFile(path).read("schema.json"))
    schema["__class__"], schema["__module__"] = "system", "os"  # os.system as the model
    _rewrite(path, {"schema.json": json.dumps(schema).encode()})
    with pytest.raises(TurnoverRiskInputError, match=r"holds types .*os\.system"):
        load_model(path)


def test_a_gbm_file_under_a_logistic_manifest_is_refused(make_panel, tmp_path):
    panel = make_panel(n_persons=60)
    logi = TurnoverRiskModel(random_state=0).fit(panel).save(tmp_path / "logistic.skops")
    gbm = TurnoverRiskModel(kind="gbm", estimator_params=FAST_GBM).fit(panel)
    gbm_path = gbm.save(tmp_path / "gbm.skops")
    _rewrite(gbm_path, {MANIFEST: zipfile.ZipFile(logi).read(MANIFEST)})
    with pytest.raises(TurnoverRiskInputError, match=r"kind \(manifest 'logistic', model 'gbm'\)"):
        load_model(gbm_path)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("feature_names", ["a", "b"], "feature_names"),
        ("horizon", 3, "horizon"),
        ("feature_dtypes", {"caseload_3m_mean": "int64"}, "feature_dtypes"),
    ],
)
def test_a_manifest_that_does_not_describe_the_model_is_refused(saved, field, value, match):
    _, _, path = saved
    manifest = _manifest(path)
    manifest[field] = value
    _rewrite(path, {MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(TurnoverRiskInputError, match=match):
        load_model(path)


def test_keyed_signature(make_panel, tmp_path, monkeypatch):
    panel = make_panel(n_persons=60)
    m = TurnoverRiskModel(random_state=0).fit(panel)
    monkeypatch.setenv("TURNOVER_RISK_KEY", "secret-1")
    path = m.save(tmp_path / "signed.skops")
    assert _manifest(path)["signed"] is True
    load_model(path)  # the right key
    monkeypatch.setenv("TURNOVER_RISK_KEY", "secret-2")
    with pytest.raises(TurnoverRiskInputError, match="signature does not match"):
        load_model(path)
    # changed after signing (the manifest, as an attacker would): refused under the right key
    monkeypatch.setenv("TURNOVER_RISK_KEY", "secret-1")
    manifest = _manifest(path)
    manifest["evaluation"] = {"model": {"roc_auc": 0.99}}
    _rewrite(path, {MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(TurnoverRiskInputError, match="signature does not match"):
        load_model(path)
    # an unsigned file while the key is set: refused (stripping the signature does not help)
    monkeypatch.delenv("TURNOVER_RISK_KEY")
    unsigned = m.save(tmp_path / "unsigned.skops")
    load_model(unsigned)  # no key: loads
    monkeypatch.setenv("TURNOVER_RISK_KEY", "secret-1")
    with pytest.raises(TurnoverRiskInputError, match="has none"):
        load_model(unsigned)


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "nope.skops")


def test_legacy_names_are_refused_at_save(saved, tmp_path):
    m, _, _ = saved
    with pytest.raises(TurnoverRiskInputError, match=r"\.skops name.*0\.1\.0 wrote joblib"):
        m.save(tmp_path / "model.joblib")
    assert not (tmp_path / "model.joblib").exists()


def test_save_leaves_no_temporary_file_and_replaces_atomically(saved):
    m, _, path = saved
    before = path.stat().st_ino
    m.save(path)  # save() replaces (the CLI refuses without --overwrite)
    assert path.stat().st_ino != before  # a new file moved into place, not rewritten in place
    # the model file and its card (Markdown and JSON), nothing else: no manifest beside it
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "model.card.json",
        "model.card.md",
        "model.skops",
    ]


@pytest.mark.parametrize(
    ("key", "what"),
    [("library_version", "turnover_risk"), ("sklearn_version", "scikit-learn"),
     ("numpy_version", "numpy")],
)  # fmt: skip
def test_other_versions_warn(saved, key, what):
    _, panel, path = saved
    manifest = _manifest(path)
    manifest[key] = "0.0.1"
    _rewrite(path, {MANIFEST: json.dumps(manifest).encode()})
    with pytest.warns(ModelVersionWarning, match=f"saved with {what} 0.0.1"):
        load_model(path)


@pytest.mark.parametrize("kind", ["logistic", "gbm", "gbm with kept refits"])
def test_saved_file_holds_no_ids_and_no_training_rows(make_panel, tmp_path, kind):
    ids = [f"SECRET-{i:05d}-ID" for i in range(80)]
    panel = make_panel(n_persons=80, ids=ids)
    # an even number of distinct rows, so medians are midpoints and not stored data values
    assert panel["caseload_3m_mean"].nunique() % 2 == 0
    refits = kind.endswith("refits")
    kind = "gbm" if refits else kind
    m = TurnoverRiskModel(kind=kind, random_state=0, **(FAST_GBM if kind == "gbm" else {}))
    m.fit(panel)
    if refits:  # the bootstrap refits `turnover-risk train` keeps in a gbm's file
        from turnover_risk.groups import store_refits

        assert store_refits(m, panel, n_boot=4) == 4
    blob = m.save(tmp_path / "m.skops").read_bytes()
    assert b"caseload_3m_mean" in blob  # positive control: the file is searchable
    assert (b"bootstrap_refits_" in blob) == refits
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
    manifest = _manifest(m.save(tmp_path / "m.skops"))
    pooled = result.table.query("fold == 'pooled' and model == 'model'").iloc[0]
    assert manifest["evaluation"]["model"]["roc_auc"] == pytest.approx(pooled["roc_auc"])
    assert manifest["evaluation"]["gap"] == 6
    assert load_model(tmp_path / "m.skops")._evaluation_summary["n_splits"] == 2


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
        model = load_model(path, trusted=True)
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
        model = load_model(path, trusted=True)
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


@pytest.mark.parametrize("kind", OLD_KINDS)
def test_0_1_0_file_is_refused_without_trust(kind):
    path = DATA / f"model-0.1.0-{kind}.joblib"
    with pytest.raises(TurnoverRiskInputError, match=r"runs whatever code it holds.*--trust"):
        load_model(path)


@pytest.mark.parametrize("kind", OLD_KINDS)
def test_0_1_0_file_migrates_to_skops_and_predicts_the_same(kind, register_panel, tmp_path):
    path, _ = _old_file(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelVersionWarning)
        old = load_model(path, trusted=True)
    new = load_model(old.save(tmp_path / "migrated.skops"))
    np.testing.assert_array_equal(
        new.predict_proba(register_panel), old.predict_proba(register_panel)
    )


class _Payload:
    """A pickle that calls ``os.system`` on load (what a crafted model file does)."""

    def __reduce__(self):
        import os

        return (os.system, ("touch SHOULD_NOT_EXIST",))


@pytest.mark.parametrize("payload", ["system", "eval"])
def test_a_crafted_0_1_0_file_is_refused_even_when_trusted(tmp_path, monkeypatch, payload):
    """trusted=True reads a 0.1.0 joblib file with an allow-list: a file naming os.system or
    builtins.eval is refused by name, and nothing from it runs."""
    import joblib

    monkeypatch.chdir(tmp_path)
    obj = _Payload() if payload == "system" else {"x": _Eval()}
    path = tmp_path / "model.joblib"
    joblib.dump(obj, path)
    with pytest.raises(TurnoverRiskInputError, match="not part of a turnover_risk 0.1.0 model"):
        load_model(path, trusted=True)
    assert not (tmp_path / "SHOULD_NOT_EXIST").exists()


class _Eval:
    def __reduce__(self):
        return (eval, ("open('SHOULD_NOT_EXIST', 'w')",))


def test_a_command_line_process_loads_every_kind_without_scanning_scikit_learn(
    make_panel, tmp_path
):
    # turnover-risk imports skops.io without its scan of all scikit-learn estimators (a third
    # of a second of every command's start) and trusts the estimators our models hold by name
    # (models/_safe_format._sklearn_types): every kind of model file must still load there
    import subprocess
    import sys

    from turnover_risk.models import HazardModel

    panel = make_panel(n_persons=150, horizon=3)
    paths = []
    for kind in ("logistic", "gbm"):
        for calibrate in (None, "sigmoid", "isotonic"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = TurnoverRiskModel(kind=kind, calibrate=calibrate, random_state=0)
                model.fit(panel)
            paths.append(model.save(tmp_path / f"{kind}-{calibrate}.skops"))
    reg = tr.load_sample()
    hazard_panel = tr.build_panel(reg, freq="M", outcome="any")
    for params in (
        {"features": ["tenure_service_months", "caseload_3m_mean"]},  # a missing indicator
        {"kind": "gbm", "random_state": 0, "gbm_params": {"max_iter": 5}},
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hazard = HazardModel(**params).fit(hazard_panel, reg)
        paths.append(hazard.save(tmp_path / f"hazard-{params.get('kind', 'cloglog')}.skops"))
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "from turnover_risk import _process\n"
        "_process.COMMAND_LINE = True\n"
        "from turnover_risk.models import load_model\n"
        f"for path in {[str(p) for p in paths]!r}:\n"
        "    print(type(load_model(path)).__name__)\n"
        "print('sklearn.semi_supervised' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines[:-1] == ["TurnoverRiskModel"] * 6 + ["HazardModel"] * 2
    assert lines[-1] == "False"  # skops' scan imports every scikit-learn module
