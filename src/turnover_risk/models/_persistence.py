"""Saving and loading models: a joblib file plus a JSON manifest that is checked before loading.

:func:`_save_model` (behind :meth:`TurnoverRiskModel.save`) writes ``model.joblib``
uncompressed and a ``model.json`` manifest with the versions, features, training periods,
evaluation summary and the file's SHA-256 (:func:`_model_manifest` builds the metadata).
:func:`load_model` compares the hash with the manifest *before* unpickling, warns with
:class:`ModelVersionWarning` when the file comes from another turnover_risk or scikit-learn
version, and lets 0.1.0 files, which name the module paths of 0.1.0, load.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.utils.validation import check_is_fitted

from turnover_risk._warnings import TurnoverRiskDeprecationWarning, TurnoverRiskWarning

if TYPE_CHECKING:
    from turnover_risk.models._estimator import TurnoverRiskModel


class ModelVersionWarning(TurnoverRiskWarning):
    """A saved model was written by another version of turnover_risk or scikit-learn."""


def _model_manifest(model: TurnoverRiskModel) -> dict[str, Any]:
    """The metadata written next to a saved ``model`` (without the file hash)."""
    check_is_fitted(model)
    from turnover_risk._version import __version__

    spec = model.spec_
    return {
        "library": "turnover_risk",
        "library_version": __version__,
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "kind": model.kind,
        "params": _jsonable(model.get_params()),
        "feature_names": list(model.feature_names_in_),
        "feature_dtypes": dict(model.feature_dtypes_),
        "features_used": list(model.features_),
        "dropped_columns": dict(model.dropped_columns_),
        "classes": [_jsonable(c) for c in model.classes_],
        "training_periods": model.training_periods_,
        "n_train_rows": model.n_train_rows_,
        "n_positive": model.n_positive_,
        "n_censored_dropped": model.n_censored_,
        "horizon": model.horizon_,
        "outcome": spec.outcome if spec is not None else None,
        "freq": spec.freq if spec is not None else None,
        "scope": spec.scope if spec is not None else None,
        "evaluation": getattr(model, "_evaluation_summary", None),
    }


def _save_model(model: TurnoverRiskModel, path: str | Path, evaluation: Any = None) -> Path:
    """Write ``model`` to ``path`` and its manifest (see :meth:`TurnoverRiskModel.save`)."""
    check_is_fitted(model)
    path = Path(path)
    if path.suffix == ".json":
        raise ValueError(f"path={str(path)!r}: use a .joblib name; the manifest gets .json.")
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = _model_manifest(model)
    if evaluation is not None:
        manifest["evaluation"] = evaluation.summary()
    joblib.dump(model, path, compress=0)
    manifest["sha256"] = _sha256(path.read_bytes())
    manifest["model_file"] = path.name
    manifest["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    _manifest_path(path).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return path


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return repr(v)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest_path(path: Path) -> Path:
    return path.with_suffix(".json")


def load_model(path: str | Path) -> TurnoverRiskModel:
    """Load a model saved with :meth:`TurnoverRiskModel.save`, checking it first.

    The SHA-256 of the file is compared with the manifest *before* anything is unpickled
    (unpickling runs code, so a changed file is never opened). A model written by another
    turnover_risk or scikit-learn version loads with a :class:`ModelVersionWarning`.

    Raises
    ------
    FileNotFoundError
        If the model file or its manifest (``model.json`` beside ``model.joblib``) is missing.
    ValueError
        If the file's hash differs from the manifest, or the manifest is unreadable.
    TypeError
        If the file does not hold a TurnoverRiskModel.
    """
    from turnover_risk._version import __version__

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist.")
    mpath = _manifest_path(path)
    if not mpath.is_file():
        raise FileNotFoundError(
            f"the manifest {str(mpath)!r} of model {str(path)!r} is missing; a model is only "
            "loaded together with the manifest written by model.save(). Copy both files."
        )
    try:
        manifest = json.loads(mpath.read_text())
        expected = manifest["sha256"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(
            f"the manifest {str(mpath)!r} is unreadable or has no 'sha256' entry ({err}); "
            "save the model again with model.save()."
        ) from err
    data = path.read_bytes()
    actual = _sha256(data)
    if actual != expected:
        raise ValueError(
            f"refusing to load {str(path)!r}: the file changed after it was saved (SHA-256 "
            f"{actual[:12]}... does not match the manifest's {str(expected)[:12]}...). Use the "
            "original file or save the model again."
        )
    if manifest.get("library") != "turnover_risk":
        raise ValueError(f"{str(mpath)!r} is not a turnover_risk model manifest.")
    for what, saved, now in (
        ("turnover_risk", manifest.get("library_version"), __version__),
        ("scikit-learn", manifest.get("sklearn_version"), sklearn.__version__),
    ):
        if saved != now:
            warnings.warn(
                f"model {str(path)!r} was saved with {what} {saved}; this is {what} {now}. "
                "Predictions may differ: check them, or retrain and save with this version.",
                ModelVersionWarning,
                stacklevel=2,
            )
    with warnings.catch_warnings():
        # a 0.1.0 file names the module paths of 0.1.0 (turnover_risk._spec); they resolve
        # through turnover_risk._legacy, whose deprecation notice is for code, not for files
        warnings.simplefilter("ignore", TurnoverRiskDeprecationWarning)
        model = joblib.load(io.BytesIO(data))
    # imported here, not at the top: the estimator's save() calls into this module
    from turnover_risk.models._estimator import TurnoverRiskModel

    if not isinstance(model, TurnoverRiskModel):
        raise TypeError(f"{str(path)!r} holds a {type(model).__name__}, not a TurnoverRiskModel.")
    if manifest.get("evaluation") is not None:
        model._evaluation_summary = manifest["evaluation"]
    return model
