"""Saving and loading models: one ``.skops`` file that never runs code when loaded.

:func:`_save_model` (behind :meth:`TurnoverRiskModel.save`) writes the fitted model with
``skops.io`` plus a manifest inside the same archive (``turnover_risk/manifest.json``: versions,
kind, features and dtypes, training periods, horizon, outcome, evaluation summary), and a keyed
signature when ``TURNOVER_RISK_KEY`` is set (:mod:`turnover_risk.models._safe_format`). The file
is written to a temporary name and moved into place when complete (:mod:`turnover_risk._atomic`).

:func:`load_model` rebuilds only allow-listed types, then cross-checks the object against the
manifest (kind, features, dtypes, horizon) and warns with :class:`ModelVersionWarning` when the
file comes from another turnover_risk, scikit-learn or numpy version. A pickle (the joblib
files of 0.1.0) is refused unless the caller vouches for it with ``trusted=True``: unpickling
runs whatever code the file holds.
"""

from __future__ import annotations

import json
import platform
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.utils.validation import check_is_fitted

from turnover_risk._atomic import atomic_output
from turnover_risk._errors import TurnoverRiskInputError
from turnover_risk._warnings import TurnoverRiskDeprecationWarning, TurnoverRiskWarning
from turnover_risk.models._safe_format import is_archive, read_archive, write_archive

if TYPE_CHECKING:
    from turnover_risk.models._estimator import TurnoverRiskModel

SUFFIX = ".skops"
FORMAT = "turnover_risk-model/skops-1"
LEGACY_SUFFIXES = (".joblib", ".pkl", ".pickle")


class ModelVersionWarning(TurnoverRiskWarning):
    """A saved model was written by another version of turnover_risk, scikit-learn or numpy."""


def _library_entries() -> dict[str, Any]:
    from turnover_risk._version import __version__

    return {
        "library": "turnover_risk",
        "library_version": __version__,
        "format": FORMAT,
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
    }


def _model_manifest(model: TurnoverRiskModel) -> dict[str, Any]:
    """The metadata stored with a saved ``model``."""
    if _is_hazard(model):
        from turnover_risk.models._hazard_persist import hazard_manifest

        model._check_fitted()
        return {**_library_entries(), **hazard_manifest(model)}
    check_is_fitted(model)
    spec = model.spec_
    return {
        **_library_entries(),
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
        "stored_refits": _stored_refits(model),
    }


def _stored_refits(model: TurnoverRiskModel) -> dict[str, Any] | None:
    """What the bootstrap refits kept with the model are (``groups/_refit_store.py``: the
    ``bootstrap_refits_`` attribute), for the manifest; None without."""
    store = getattr(model, "bootstrap_refits_", None)
    if not isinstance(store, dict):
        return None
    return {
        "n_boot": _jsonable(store.get("n_boot")),
        "random_state": _jsonable(store.get("random_state")),
        "refits": len(store.get("baseline", ())),
    }


def _is_hazard(model: Any) -> bool:
    from turnover_risk.models._hazard import HazardModel

    return isinstance(model, HazardModel)


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


def model_path(path: str | Path) -> Path:
    """``path`` with the ``.skops`` suffix added when it has none; other suffixes are refused."""
    path = Path(path)
    if path.suffix == "":
        return path.with_name(path.name + SUFFIX)
    if path.suffix.lower() != SUFFIX:
        hint = (
            " (0.1.0 wrote joblib pickles; 0.2 writes .skops files, which load without running "
            "code)"
            if path.suffix.lower() in LEGACY_SUFFIXES
            else ""
        )
        raise TurnoverRiskInputError(
            f"path={str(path)!r}: save the model under a {SUFFIX} name, e.g. "
            f"{str(path.with_suffix(SUFFIX))!r}{hint}."
        )
    return path


def _save_model(
    model: TurnoverRiskModel,
    path: str | Path,
    evaluation: Any = None,
    *,
    overwrite: bool = True,
    inputs: tuple = (),
) -> Path:
    """Write ``model`` to ``path`` (see :meth:`TurnoverRiskModel.save`); returns the path."""
    path = model_path(path)
    manifest = _model_manifest(model)
    if evaluation is not None:
        manifest["evaluation"] = evaluation.summary()
    manifest["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    data = write_archive(model, manifest)
    with atomic_output(path, overwrite=overwrite, inputs=inputs) as tmp:
        tmp.write_bytes(data)
    if hasattr(model, "input_profile_"):  # the model card beside it
        from turnover_risk.models._card import write_model_card

        write_model_card(model, path, evaluation=evaluation)
    return path


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------


def load_model(path: str | Path, *, trusted: bool = False) -> TurnoverRiskModel:
    """Load a model saved with :meth:`TurnoverRiskModel.save`, checking it first.

    A :class:`~turnover_risk.HazardModel` saved with its ``save`` loads the same way.

    A ``.skops`` file is rebuilt with ``skops.io`` from an explicit list of allowed types, so
    loading it never runs code from the file, whoever made it. The manifest stored inside is
    then compared with the model (kind, feature names and dtypes, horizon); a model written by
    another turnover_risk, scikit-learn or numpy version loads with a
    :class:`ModelVersionWarning`. When ``TURNOVER_RISK_KEY`` is set, the file must carry a
    signature made with that key (see ``docs/operations.md``).

    Parameters
    ----------
    path : str or Path
        The model file (``.skops``).
    trusted : bool
        Also load a pickle: the ``.joblib`` files of turnover_risk 0.1.0. It is read with an
        allow-list of the types a 0.1.0 model is made of (scikit-learn estimators, numpy
        arrays, our model classes), so a crafted file is refused rather than run; still, pass
        ``True`` only for a file you made yourself, then save it again as ``.skops``
        (``turnover-risk migrate-model --trust FILE --out NEW.skops`` does both).

    Returns
    -------
    TurnoverRiskModel or HazardModel

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    TurnoverRiskInputError
        (a ``ValueError``) A pickle without ``trusted=True``; a damaged file; a type in the file
        that a model never holds; a missing or wrong signature while ``TURNOVER_RISK_KEY`` is
        set; a manifest that does not describe the model in the file.

    Examples
    --------
    >>> import tempfile, pathlib, warnings
    >>> import turnover_risk as tr
    >>> warnings.simplefilter("ignore")
    >>> panel = tr.build_panel(tr.make_register(n_units=3, years=2, random_state=0))
    >>> model = tr.TurnoverRiskModel(random_state=0).fit(panel)
    >>> path = model.save(pathlib.Path(tempfile.mkdtemp()) / "model.skops")
    >>> again = tr.load_model(path)
    >>> bool((again.predict_proba(panel) == model.predict_proba(panel)).all())
    True
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist.")
    data = path.read_bytes()
    if is_archive(data):
        model, manifest = read_archive(path, data)
    elif not data.startswith(_PICKLE_STARTS):
        raise TurnoverRiskInputError(
            f"{str(path)!r} is not a model file: it is neither a .skops archive nor a pickle "
            f"of turnover_risk 0.1.0 (it starts with {data[:8]!r}). Check the path: the model "
            "is the .skops file written by TurnoverRiskModel.save or turnover-risk train, not "
            "its model card (.card.md, .card.json)."
        )
    elif not trusted:
        new = path.with_suffix(SUFFIX)
        if new == path:
            new = path.with_name(f"{path.stem}-migrated{SUFFIX}")
        raise TurnoverRiskInputError(
            f"refusing to load {str(path)!r}: it is a pickle (the joblib format of turnover_risk "
            "0.1.0), and loading a pickle runs whatever code it holds, so a changed file could "
            "run commands on this machine. If you made this file yourself and it has not been "
            "out of your hands, convert it once: turnover-risk migrate-model --trust "
            f"{path.name} --out {new.name} (Python: "
            "load_model(path, trusted=True).save('model.skops'))."
        )
    else:
        model, manifest = _load_trusted_pickle(path, data, trusted=trusted)
    from turnover_risk.models._estimator import TurnoverRiskModel

    if not isinstance(model, TurnoverRiskModel) and not _is_hazard(model):
        raise TurnoverRiskInputError(
            f"{str(path)!r} holds a {type(model).__name__}, not a TurnoverRiskModel or HazardModel."
        )
    _cross_check(path, model, manifest)
    _warn_versions(path, manifest)
    if manifest.get("evaluation") is not None:
        model._evaluation_summary = manifest["evaluation"]
    return model


_PICKLE_STARTS = (
    b"\x80",
    b"\x78",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x5d\x00",
    b"\x04\x22\x4d\x18",
)
"""How a pickle (protocol 2 or later) or a joblib file compressed with zlib, gzip, bz2, xz,
lzma or lz4 begins."""


def _load_trusted_pickle(path: Path, data: bytes, *, trusted: bool) -> tuple[Any, dict[str, Any]]:
    """A 0.1.0 joblib file, which the caller vouched for (``trusted=True``), and its manifest.

    The manifest beside it (``model.json``), when there, must match the file's SHA-256: that
    catches a file damaged or mixed up with another, not an attacker (who can rewrite both).
    """
    if trusted is not True:  # never unpickle a file nobody vouched for
        raise TurnoverRiskInputError(f"refusing to unpickle {str(path)!r} without trusted=True.")
    import hashlib

    from turnover_risk.models._legacy_pickle import load_0_1_0

    manifest: dict[str, Any] = {}
    mpath = path.with_suffix(".json")
    if mpath.is_file():
        try:
            manifest = json.loads(mpath.read_text())
        except json.JSONDecodeError as err:
            raise TurnoverRiskInputError(f"the manifest {str(mpath)!r} is unreadable.") from err
        expected = manifest.get("sha256")
        if expected is not None and hashlib.sha256(data).hexdigest() != expected:
            raise TurnoverRiskInputError(
                f"{str(path)!r} does not match its manifest {mpath.name} (another or a damaged "
                "file); use the file the manifest was written with."
            )
    with warnings.catch_warnings():
        # a 0.1.0 file names the module paths of 0.1.0 (turnover_risk._spec); they resolve
        # through turnover_risk._legacy, whose deprecation notice is for code, not for files
        warnings.simplefilter("ignore", TurnoverRiskDeprecationWarning)
        model = load_0_1_0(data, repr(str(path)))  # only the types a 0.1.0 model is made of
    return model, manifest


def _cross_check(path: Path, model: TurnoverRiskModel, manifest: dict[str, Any]) -> None:
    """Refuse a manifest that does not describe the model in the file."""
    if _is_hazard(model):
        from turnover_risk.models._hazard_persist import hazard_facts

        facts = {k: (v, manifest.get(key)) for k, (v, key) in hazard_facts(model).items()}
    else:
        facts = _classifier_facts(model, manifest)
    if not manifest:  # a trusted 0.1.0 file without its manifest: nothing to compare
        return
    if not _is_hazard(model) and manifest.get("model_class", "TurnoverRiskModel") != (
        "TurnoverRiskModel"
    ):
        facts["model_class"] = ("TurnoverRiskModel", manifest.get("model_class"))
    wrong = [
        f"{name} (manifest {_short(saved)}, model {_short(actual)})"
        for name, (actual, saved) in facts.items()
        if saved is not None and actual != saved
    ]
    missing = [name for name, (_, saved) in facts.items() if saved is None]
    if wrong or missing:
        what = "; ".join(wrong + [f"{m} missing from the manifest" for m in missing])
        raise TurnoverRiskInputError(
            f"refusing to load {str(path)!r}: its manifest does not describe the model in it: "
            f"{what}. The file was changed or assembled from two models; use the file written "
            "by model.save()."
        )


def _classifier_facts(model: TurnoverRiskModel, manifest: dict[str, Any]) -> dict[str, tuple]:
    return {
        "kind": (model.kind, manifest.get("kind")),
        "feature_names": (list(model.feature_names_in_), manifest.get("feature_names")),
        "feature_dtypes": (
            {str(k): str(v) for k, v in dict(model.feature_dtypes_).items()},
            manifest.get("feature_dtypes"),
        ),
        "horizon": (model.horizon_, manifest.get("horizon")),
    }


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _warn_versions(path: Path, manifest: dict[str, Any]) -> None:
    from turnover_risk._version import __version__

    for what, key, now in (
        ("turnover_risk", "library_version", __version__),
        ("scikit-learn", "sklearn_version", sklearn.__version__),
        ("numpy", "numpy_version", np.__version__),
    ):
        saved = manifest.get(key)
        if saved is not None and saved != now:
            warnings.warn(
                f"model {str(path)!r} was saved with {what} {saved}; this is {what} {now}. "
                "Predictions may differ: check them, or retrain and save with this version.",
                ModelVersionWarning,
                stacklevel=3,
            )
