"""How :func:`turnover_risk.what_if` changes features.

One change applied to the selected rows of a feature (``set``, ``add``, ``multiply``,
``at_most``, ``at_least``, a category, or a function of the column), the warning when the
feature is not a lever a leader can move, and the ``where=`` selection of rows.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk._warnings import TurnoverRiskWarning

_OPS = ("set", "add", "multiply", "at_most", "at_least")


def _apply_change(name: str, how: Any, old: pd.Series) -> tuple[pd.Series, str]:
    numeric = pd.api.types.is_numeric_dtype(old) and not pd.api.types.is_bool_dtype(old)
    if callable(how):
        new = how(old.copy())
        new = pd.Series(
            np.asarray(new) if not isinstance(new, pd.Series) else new.to_numpy(), index=old.index
        )
        if len(new) != len(old):
            raise ValueError(
                f"the function for {name!r} returned {len(new)} values for "
                f"{len(old)} rows; return one value per row."
            )
        return new, f"{name}: {getattr(how, '__name__', 'function')}(...)"
    if isinstance(how, bool | str):
        op, value = "set", how
    elif isinstance(how, int | float | np.integer | np.floating):
        op, value = "add", how
    elif isinstance(how, tuple) and len(how) == 2 and how[0] in _OPS:
        op, value = how
    else:
        raise TypeError(
            f"change[{name!r}]={how!r} is not understood; use a number (added), "
            f"('set'|'add'|'multiply'|'at_most'|'at_least', value), a string for a category, "
            "or a function of the column."
        )
    if op == "set":
        return pd.Series(value, index=old.index), f"{name} set to {value}"
    if not numeric:
        raise TypeError(
            f"change[{name!r}]={how!r}: {op!r} needs a numeric feature, but "
            f"{name!r} has dtype {old.dtype}; use ('set', value)."
        )
    vals = old.astype(float)
    if op == "add":
        new, text = vals + value, f"{name} {value:+g}"
    elif op == "multiply":
        new, text = vals * value, f"{name} x {value:g}"
    elif op == "at_most":
        new, text = vals.clip(upper=value), f"{name} at most {value:g}"
    else:
        new, text = vals.clip(lower=value), f"{name} at least {value:g}"
    if op in ("add", "multiply") and (old.dropna() >= 0).all():
        new = new.clip(lower=0)
    return new, text


def _warn_if_not_lever(name: str) -> None:
    try:
        from turnover_risk.panel._build import FEATURES
    except ImportError:
        FEATURES = {}
    feat = FEATURES.get(name) if hasattr(FEATURES, "get") else None
    if feat is None:
        warnings.warn(
            f"{name!r} is not a documented feature (not in tr.FEATURES), so it is not known to "
            "be a lever a leader can move; read the what-if result as association only.",
            TurnoverRiskWarning,
            stacklevel=3,
        )
    elif not getattr(feat, "lever", False):
        warnings.warn(
            f"{name!r} is not a lever a leader can move (FEATURES[{name!r}].lever is False); "
            "the what-if result describes association with a characteristic, not an action.",
            TurnoverRiskWarning,
            stacklevel=3,
        )


def _where_mask(where, rows: pd.DataFrame) -> np.ndarray:
    if where is None:
        return np.ones(len(rows), dtype=bool)
    if callable(where):
        where = where(rows)
    if isinstance(where, pd.Series):
        missing = rows.index.difference(where.index)
        if len(missing):
            raise ValueError(
                f"where is a Series that lacks {len(missing)} rows of the period; build it from "
                "the same panel, e.g. where=panel['tenure_service_months'] < 6."
            )
        where = where.loc[rows.index]
        if where.isna().any():  # a comparison with a missing value selects nobody
            where = where.astype("boolean").fillna(False).astype(bool)
    arr = np.asarray(where)
    if arr.dtype != bool or arr.shape != (len(rows),):
        raise ValueError(
            f"where must give one True/False per row of the period ({len(rows)} rows); got an "
            f"array of dtype {arr.dtype} and shape {arr.shape}."
        )
    return arr
