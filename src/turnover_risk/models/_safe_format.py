"""The model file: a ``skops.io`` archive that loads only an allow-list of types, never a pickle.

A ``.skops`` file is a zip archive: ``skops.io`` writes the fitted estimator as a JSON schema
plus numpy arrays, and loading rebuilds it from those, constructing only types on an explicit
allow-list (no ``pickle``, so no code from the file runs). turnover_risk adds two entries to the
same archive:

* ``turnover_risk/manifest.json``: what the model is (kind, features and dtypes, horizon,
  outcome, training periods, metrics, library versions), cross-checked against the loaded
  object;
* ``turnover_risk/signature.json`` (only when ``TURNOVER_RISK_KEY`` is set at save): an
  HMAC-SHA256, under that secret key, of every other entry of the archive. It tells whether the
  file was written by someone who holds the key; a plain hash would not (whoever changes the
  file can recompute it), so none is used.

:data:`TRUSTED_TYPES` is the allow-list: the types our fitted models are made of beyond what
``skops`` trusts by default (scikit-learn estimators, numpy arrays, builtins).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from turnover_risk._errors import TurnoverRiskInputError
from turnover_risk.privacy import KEY_ENV

__all__ = ["MANIFEST_ENTRY", "SIGNATURE_ENTRY", "TRUSTED_TYPES", "read_archive", "write_archive"]

MANIFEST_ENTRY = "turnover_risk/manifest.json"
SIGNATURE_ENTRY = "turnover_risk/signature.json"
_SIGNATURE_CONTEXT = b"turnover_risk model file v1\n"

TRUSTED_TYPES: tuple[str, ...] = (
    # ours: the estimators (a HazardModel's state is plain values, see _hazard_persist), their
    # panel settings, the one-hot column namer, the calibrators
    "turnover_risk.models._estimator.TurnoverRiskModel",
    "turnover_risk.models._hazard.HazardModel",
    "turnover_risk.panel._spec.PanelSpec",
    "turnover_risk.models._pipeline._onehot_name",
    "turnover_risk.models._calibration._SigmoidCalibrator",
    "turnover_risk.models._calibration._IsotonicCalibrator",
    # numpy and scikit-learn internals of the fitted pipeline that some skops versions do not
    # trust by default (data holders without code of their own: dtypes, the gbm's trees,
    # bins and loss, the ColumnTransformer's remainder list)
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "sklearn.compose._column_transformer._RemainderColsList",
)
"""Types a model file may hold beyond those ``skops.io`` trusts by default."""


def _sklearn_types() -> tuple[str, ...]:
    """The scikit-learn estimators a model file may hold, named as ``skops.io`` names types.

    ``skops.io`` trusts every scikit-learn estimator by default, but learns them at import by
    scanning all of scikit-learn; the command line imports it without that scan
    (:func:`_skops_io`) and trusts these instead. Named from the classes, so the names follow
    scikit-learn's module layout in every version.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

    classes = (
        ColumnTransformer, HistGradientBoostingClassifier, MissingIndicator, SimpleImputer,
        IsotonicRegression, LogisticRegression, Pipeline, LabelEncoder, OneHotEncoder,
        StandardScaler,
    )  # fmt: skip
    return tuple(f"{c.__module__}.{c.__name__}" for c in classes)


def _skops_io() -> Any:
    """``skops.io``; in a command-line process (``turnover_risk._process.COMMAND_LINE``)
    imported without its scan of every scikit-learn estimator (``sklearn.utils.all_estimators``,
    which imports all of scikit-learn). The scan only lists the estimators ``skops.io`` trusts
    by default; :func:`read_archive` names those a model holds (:func:`_sklearn_types`)."""
    import sys

    from turnover_risk import _process

    if not _process.COMMAND_LINE or "skops.io" in sys.modules:
        import skops.io as sio

        return sio
    import sklearn.utils

    scan = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = lambda *args, **kwargs: []
    try:
        import skops.io as sio
    finally:
        sklearn.utils.all_estimators = scan
    return sio


def is_archive(data: bytes) -> bool:
    """Whether ``data`` is a zip archive (a ``.skops`` file) rather than a pickle."""
    return data[:4] == b"PK\x03\x04"


def _key() -> bytes | None:
    key = os.environ.get(KEY_ENV)
    return key.encode("utf-8") if key else None


def _digest(entries: dict[str, bytes], key: bytes) -> str:
    h = hmac.new(key, _SIGNATURE_CONTEXT, hashlib.sha256)
    for name in sorted(entries):
        content = hashlib.sha256(entries[name]).hexdigest()
        h.update(f"{name}\t{len(entries[name])}\t{content}\n".encode())
    return h.hexdigest()


def write_archive(model: Any, manifest: dict[str, Any]) -> bytes:
    """The bytes of a model file: the skops archive of ``model`` plus the manifest (and signature).

    The signature is added when ``TURNOVER_RISK_KEY`` is set.
    """
    import skops

    sio = _skops_io()
    manifest = {**manifest, "skops_version": skops.__version__, "signed": _key() is not None}
    buffer = io.BytesIO(sio.dumps(model))
    with zipfile.ZipFile(buffer, "a") as zf:
        zf.writestr(MANIFEST_ENTRY, json.dumps(manifest, indent=2) + "\n")
    key = _key()
    if key is not None:
        entries = _entries(buffer.getvalue())
        signature = {"algorithm": "HMAC-SHA256", "key": KEY_ENV, "hmac": _digest(entries, key)}
        with zipfile.ZipFile(buffer, "a") as zf:
            zf.writestr(SIGNATURE_ENTRY, json.dumps(signature) + "\n")
    return buffer.getvalue()


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        if len(names) != len(set(names)):
            raise TurnoverRiskInputError("the archive holds an entry twice")
        return {n: zf.read(n) for n in names}


def read_archive(path: Path, data: bytes) -> tuple[Any, dict[str, Any]]:
    """Check and load a model file: (the object, its manifest).

    Order: the archive is read; when ``TURNOVER_RISK_KEY`` is set the signature must be there
    and match; the manifest must name turnover_risk; every type in the file must be trusted by
    skops or on :data:`TRUSTED_TYPES` (``skops.io.loads`` checks them all before it builds any
    object); only then is the object built.

    Raises
    ------
    TurnoverRiskInputError
        A damaged archive, a missing or wrong signature (key set), no manifest, or a type
        outside the allow-list (named in the message).
    """
    sio = _skops_io()
    trusted = {*TRUSTED_TYPES, *_sklearn_types()}
    where = str(path)
    try:
        entries = _entries(data)
    except (zipfile.BadZipFile, OSError, KeyError) as err:
        raise TurnoverRiskInputError(
            f"model file {where!r} is damaged ({err}); use an intact copy or save it again."
        ) from err
    key = _key()
    if key is not None:
        _verify(where, entries, key)
    if MANIFEST_ENTRY not in entries or "schema.json" not in entries:
        raise TurnoverRiskInputError(
            f"{where!r} is not a turnover_risk model file (no {MANIFEST_ENTRY} in the archive); "
            "save the model with model.save('model.skops')."
        )
    try:
        manifest = json.loads(entries[MANIFEST_ENTRY])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TurnoverRiskInputError(f"the manifest of {where!r} is unreadable ({err}).") from err
    if not isinstance(manifest, dict) or manifest.get("library") != "turnover_risk":
        raise TurnoverRiskInputError(f"{where!r} does not hold a turnover_risk model manifest.")
    from skops.io.exceptions import UntrustedTypesFoundException

    # skops.io.loads checks every type of the file's tree before it builds any object (the
    # same check as get_untrusted_types, which is not run again: 0.1 s of a gbm's load)
    try:
        obj = sio.loads(data, trusted=sorted(trusted))
    except UntrustedTypesFoundException as err:
        try:
            untrusted = sorted(set(sio.get_untrusted_types(data=data)) - trusted)
        except Exception:
            untrusted = [str(err)]
        raise TurnoverRiskInputError(
            f"refusing to load {where!r}: it holds types that a turnover_risk model never holds "
            f"({', '.join(untrusted)}). The file was changed or made by something else; "
            "use the file written by model.save()."
        ) from err
    except Exception as err:  # skops raises many kinds on a malformed schema
        raise TurnoverRiskInputError(
            f"model file {where!r} is damaged, not a skops model or written by an incompatible "
            f"scikit-learn, and could not be rebuilt ({type(err).__name__}: {err}). Use an "
            "intact copy, or save the model again."
        ) from err
    return obj, manifest


def _verify(where: str, entries: dict[str, bytes], key: bytes) -> None:
    raw = entries.pop(SIGNATURE_ENTRY, None)
    if raw is None:
        raise TurnoverRiskInputError(
            f"refusing to load {where!r}: {KEY_ENV} is set, so model files must carry a "
            "signature made with that key, and this one has none. Save the model again with the "
            f"key set, or unset {KEY_ENV} to load unsigned files."
        )
    try:
        expected = json.loads(raw)["hmac"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise TurnoverRiskInputError(f"the signature of {where!r} is unreadable.") from err
    if not hmac.compare_digest(str(expected), _digest(entries, key)):
        raise TurnoverRiskInputError(
            f"refusing to load {where!r}: its signature does not match {KEY_ENV}. The file was "
            "changed after it was saved, or saved with another key. Use the original file, or "
            "the key it was saved with."
        )
