"""What a saved :class:`~turnover_risk.HazardModel` holds (private; used by ``_persistence``).

A hazard model is written like a :class:`~turnover_risk.TurnoverRiskModel`: one ``.skops``
archive, loaded from an allow-list of types and never unpickled, with a manifest inside and an
optional HMAC signature (:mod:`turnover_risk.models._safe_format`). Its state is made of plain
values only: :func:`hazard_state` turns the coefficient table and the fill values (pandas
objects, which ``skops`` does not rebuild) into lists and arrays, and
:func:`restore_hazard_state` turns them back. :func:`hazard_manifest` is its manifest and
:func:`hazard_facts` what is cross-checked against it on loading.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MODEL_CLASS = "HazardModel"
_NUMERIC = ("coef", "se", "ci_low", "ci_high", "hazard_ratio")


def hazard_state(model: Any) -> dict[str, Any]:
    """The model's attributes with pandas objects as plain lists and float arrays."""
    state = dict(model.__dict__)
    state.pop("_evaluation_summary", None)  # kept in the manifest, as for the classifier
    coefs = state.pop("coefficients_", None)
    if coefs is not None:
        state["coefficients_"] = {
            "outcome": [str(v) for v in coefs.get("outcome", [])],
            "term": [str(v) for v in coefs.get("term", [])],
            **{c: np.asarray(coefs[c], dtype=float) for c in _NUMERIC if c in coefs},
        }
    fill = state.pop("fill_", None)
    if fill is not None:
        state["fill_"] = {
            "index": [str(i) for i in fill.index],
            "values": fill.to_numpy(dtype=float),
        }
    return state


def restore_hazard_state(model: Any, state: dict[str, Any]) -> None:
    """Inverse of :func:`hazard_state` (sets the attributes on ``model``)."""
    state = dict(state)
    coefs = state.pop("coefficients_", None)
    fill = state.pop("fill_", None)
    model.__dict__.update(state)
    if isinstance(coefs, dict):
        if coefs.get("term"):
            model.coefficients_ = pd.DataFrame(
                {
                    "outcome": list(coefs["outcome"]),
                    "term": list(coefs["term"]),
                    **{c: np.asarray(coefs[c], dtype=float) for c in _NUMERIC},
                }
            )
        else:
            model.coefficients_ = pd.DataFrame()
    elif coefs is not None:
        model.coefficients_ = coefs
    if isinstance(fill, dict):
        model.fill_ = pd.Series(
            np.asarray(fill["values"], dtype=float), index=list(fill["index"]), dtype=float
        )
    elif fill is not None:
        model.fill_ = fill


def hazard_manifest(model: Any) -> dict[str, Any]:
    """The manifest entries of a fitted hazard model (besides the library versions)."""
    from turnover_risk.models._persistence import _jsonable

    spec = model.spec_
    return {
        "model_class": MODEL_CLASS,
        "kind": model.kind,
        "params": _jsonable(model.get_params()),
        "feature_names": list(model.features_in_),
        "causes": list(model.causes_),
        "horizon": int(model.horizon),
        "alpha": float(model.alpha_),
        "n_train_rows": int(model.info_["rows_used"]),
        "events": _jsonable(model.info_["events"]),
        "outcome": spec.outcome,
        "freq": spec.freq,
        "scope": spec.scope,
        "evaluation": getattr(model, "_evaluation_summary", None),
    }


def hazard_facts(model: Any) -> dict[str, tuple[Any, Any]]:
    """``name -> (value of the loaded model, key in the manifest)`` compared on loading."""
    return {
        "model_class": (MODEL_CLASS, "model_class"),
        "kind": (model.kind, "kind"),
        "feature_names": (list(model.features_in_), "feature_names"),
        "causes": (list(model.causes_), "causes"),
        "horizon": (int(model.horizon), "horizon"),
    }
