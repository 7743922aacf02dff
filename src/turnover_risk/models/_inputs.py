"""What :class:`~turnover_risk.TurnoverRiskModel` accepts as input, before any fitting.

The feature frame (a DataFrame or a 2-D array), which columns are numeric, columns dropped
before fitting (identifier-like, constant, or varying in too few municipalities; with their
warnings), the supported dtypes, the binary target in its own spelling (0/1, bool, "Yes"/"No";
missing means censored), the checks of a panel against its spec, and the panel periods whose
labels are resolved enough to train on.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.panel._spec import PanelSpec

ID_UNIQUE_MIN_ROWS = 20
"""An all-unique string or integer column counts as an identifier from this many rows on."""

_POSITIVE = {"1", "yes", "y", "true", "t", "left", "exit"}
_NEGATIVE = {"0", "no", "n", "false", "f", "stayed", "stay"}
_ID_NAME = re.compile(r"(?:^|_)id$|^(?:employee|person|ansatt)(?:_?(?:no|nr|number|key))?$")


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, np.ndarray) and X.ndim == 2:
        return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    raise TypeError(
        f"X must be a pandas DataFrame (a panel from build_panel or a feature table) or a 2-D "
        f"numpy array; got {type(X).__name__}."
    )


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)


def _id_like_reason(name: str, s: pd.Series) -> str | None:
    lower = str(name).strip().lower()
    if _ID_NAME.search(lower) or re.search(r"[a-z](?:ID|Id)$", str(name)):
        return "identifier name"
    if pd.api.types.is_bool_dtype(s):
        return None
    stringy = not pd.api.types.is_numeric_dtype(s)
    if not (stringy or pd.api.types.is_integer_dtype(s)):
        return None  # float columns are measurements, never identifiers
    nonmissing = s.dropna()
    n = len(nonmissing)
    if n >= ID_UNIQUE_MIN_ROWS and nonmissing.nunique() == n:
        return "all values unique"
    return None


def _screen_columns(X: pd.DataFrame) -> dict[str, str]:
    """Columns to drop: {name: reason} for identifier-like and constant columns."""
    dropped: dict[str, str] = {}
    for c in X.columns:
        s = X[c]
        reason = _id_like_reason(c, s)
        if reason is not None:
            dropped[c] = f"identifier-like ({reason})"
        elif _is_constant(s):
            dropped[c] = "constant"
    return dropped


def _is_constant(s: pd.Series) -> bool:
    """Whether ``s`` holds at most one distinct value, missing counting as a value.

    The same as ``s.nunique(dropna=False) <= 1``; a float column is checked with a minimum and
    a maximum instead of hashing every value (about 20 times faster on a million rows).
    """
    if s.dtype.kind != "f" or len(s) == 0:
        return s.nunique(dropna=False) <= 1
    values = s.to_numpy()
    missing = np.isnan(values)
    if missing.all():
        return True
    if missing.any():
        return False
    return bool(values.min() == values.max())


SCREEN_GROUP_COLUMN = "municipality"
"""Panel column whose groups a feature must vary in (see ``min_feature_groups``)."""


def _group_confined_columns(X: pd.DataFrame, groups: pd.Series, min_groups: int) -> dict[str, str]:
    """Columns whose values differ from their most common value in too few groups.

    A column's *support* is the set of groups (municipalities) with at least one row whose
    value differs from the column's most common value, missing counting as a value. A survey
    instrument used by one municipality only gives its score columns, their missing
    indicator and their unit means a support of one municipality: together they identify that
    municipality, and a model fitted on them learns the municipality's own level of turnover
    in the training years, which moves from year to year, instead of an effect of the score.
    Columns with support in fewer than ``min(min_groups, number of groups)`` groups are
    returned with the reason; nothing is returned when there are fewer than two groups.
    """
    codes, uniques = pd.factorize(groups, use_na_sentinel=True)
    n_groups = len(uniques)
    threshold = min(int(min_groups), n_groups)
    if n_groups < 2 or threshold <= 1:
        return {}
    codes = np.asarray(codes)
    varying = _varies_within_groups(X, codes, n_groups)
    out: dict[str, str] = {}
    for c in X.columns:
        if varying.get(c, 0) >= threshold:
            continue  # two values in a group: one differs from the mode there, whatever it is
        value_codes = pd.factorize(X[c], use_na_sentinel=False)[0]  # missing is a value too
        mode = np.argmax(np.bincount(value_codes))
        in_support = np.unique(codes[(value_codes != mode) & (codes >= 0)])
        if in_support.size < threshold:
            names = ", ".join(str(uniques[i]) for i in in_support)
            out[c] = f"varies in {in_support.size} of {n_groups} municipalities" + (
                f": {names}" if names else ""
            )
    return out


def _varies_within_groups(X: pd.DataFrame, codes: np.ndarray, n_groups: int) -> dict[str, int]:
    """Float column -> the number of groups in which it takes at least two values (missing
    counting as a value), by a minimum, a maximum and a missing count per group.

    A column with two values in a group has a value other than its most common one there, so
    when that holds in enough groups :func:`_group_confined_columns` keeps the column without
    counting its values (the exact count is needed only for the few columns left).
    """
    known = codes >= 0
    order = np.argsort(codes[known], kind="stable")
    rows = np.flatnonzero(known)[order]
    sorted_codes = codes[rows]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    if len(rows) == 0:
        return {}
    size = np.diff(np.r_[starts, len(rows)])
    out: dict[str, int] = {}
    for c in X.columns:
        if X[c].dtype.kind != "f":
            continue
        v = X[c].to_numpy()[rows]
        missing = np.isnan(v)
        n_missing = np.add.reduceat(missing.astype(np.int64), starts)
        filled_lo = np.where(missing, np.inf, v)
        filled_hi = np.where(missing, -np.inf, v)
        lo = np.minimum.reduceat(filled_lo, starts)
        hi = np.maximum.reduceat(filled_hi, starts)
        two_values = ((n_missing > 0) & (n_missing < size)) | ((n_missing < size) & (lo < hi))
        out[c] = int(two_values.sum())
    return out


def _dropped_columns(
    X: pd.DataFrame, screen_groups: pd.Series | None, min_feature_groups: int
) -> dict[str, str]:
    """Columns of ``X`` to drop before fitting, ``{name: reason}``, each kind with a warning.

    Identifier-like and constant columns (:func:`_screen_columns`); with ``screen_groups`` (a
    panel's municipalities) also the columns that vary in too few of them
    (:func:`_group_confined_columns`). The warnings point at the caller of ``fit``.
    """
    dropped = _screen_columns(X)
    if dropped:
        warnings.warn(
            "dropped columns that cannot be model inputs: "
            + ", ".join(f"{c!r} ({r})" for c, r in dropped.items())
            + ". Remove them from X to silence this warning.",
            DataQualityWarning,
            stacklevel=3,
        )
    if screen_groups is not None:
        usable = [c for c in X.columns if c not in dropped]
        confined = _group_confined_columns(X[usable], screen_groups, min_feature_groups)
        if confined:
            by_reason: dict[str, list[str]] = {}
            for c, r in confined.items():
                by_reason.setdefault(r, []).append(repr(c))
            warnings.warn(
                "dropped features that vary in too few municipalities to be told apart from "
                "those municipalities' own turnover: "
                + "; ".join(f"{', '.join(cs)} ({r})" for r, cs in by_reason.items())
                + f". Pass min_feature_groups=1 (now {min_feature_groups}) to keep them.",
                DataQualityWarning,
                stacklevel=3,
            )
            dropped.update(confined)
    return dropped


def _check_supported_dtypes(X: pd.DataFrame) -> None:
    for c in X.columns:
        dt = X[c].dtype
        if pd.api.types.is_datetime64_any_dtype(dt) or pd.api.types.is_timedelta64_dtype(dt):
            raise TypeError(
                f"column {c!r} has dtype {dt}; the model takes numbers and categories. Convert it "
                "to a number (e.g. months since a date) or drop it."
            )


def _encode_target(y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (y01 for kept rows, mask of kept rows, classes_ [negative, positive])."""
    s = pd.Series(np.asarray(y, dtype=object) if not isinstance(y, pd.Series) else y)
    s = s.reset_index(drop=True)
    keep = s.notna().to_numpy()
    values = s[keep]
    uniques = pd.unique(values)
    if len(values) == 0:
        raise ValueError(
            f"all {len(s)} labels are missing (censored): there is nothing to learn from. "
            "Use a panel whose periods lie at least one horizon before the end of the data "
            "(build_panel(..., end=...)), or pass a target with observed outcomes."
        )
    if len(uniques) > 2:
        shown = sorted(map(str, uniques))[:10]
        raise ValueError(
            f"the target has {len(uniques)} distinct values {shown}; it must be binary: "
            "0/1, True/False or 'Yes'/'No'. Recode it, e.g. y = (y == 'voluntary')."
        )
    if pd.api.types.is_bool_dtype(values) or all(isinstance(u, bool | np.bool_) for u in uniques):
        y01 = values.astype(bool).to_numpy().astype(int)
        classes = np.array([False, True], dtype=object)
    elif all(isinstance(u, int | float | np.integer | np.floating) for u in uniques):
        num = values.astype(float).to_numpy()
        if not set(np.unique(num)) <= {0.0, 1.0}:
            raise ValueError(
                f"the target has values {sorted(np.unique(num).tolist())}; a numeric target must "
                "be 0 (stayed) and 1 (left)."
            )
        y01 = num.astype(int)
        classes = np.array([0, 1])
    else:
        text = values.astype(str).str.strip().str.lower()
        unknown = sorted(set(text) - _POSITIVE - _NEGATIVE)
        if unknown:
            raise ValueError(
                f"the target has values {sorted(map(str, uniques))}; text targets must be "
                "'Yes'/'No' (or 'True'/'False', '1'/'0'). Recode it to 0/1."
            )
        y01 = text.isin(_POSITIVE).to_numpy().astype(int)
        pos = [u for u in uniques if str(u).strip().lower() in _POSITIVE]
        neg = [u for u in uniques if str(u).strip().lower() in _NEGATIVE]
        classes = np.array([neg[0] if neg else "No", pos[0] if pos else "Yes"], dtype=object)
    n_pos = int(y01.sum())
    if n_pos == 0:
        raise ValueError(
            f"no positive labels: none of the {len(y01)} rows with an observed outcome is a "
            "leaver, so a risk of leaving cannot be learned. Check the outcome definition "
            "(build_panel(outcome=...)) and the periods covered."
        )
    if n_pos == len(y01):
        raise ValueError(
            f"only one class: all {len(y01)} rows with an observed outcome are leavers; the "
            "model needs stayers too. Check the label column and the periods covered."
        )
    return y01, keep, classes


def _resolved_period_mask(panel: pd.DataFrame, spec: PanelSpec) -> np.ndarray:
    """Rows in periods where at most half of the labels are censored.

    In the last horizon before the end of the data the stayers' labels are censored (NaN) while
    leavers may already be labelled; the labelled rows of such periods are a sample of leavers
    and would inflate the predicted risk, so fitting and evaluation leave these periods out.
    """
    if spec.period_col not in panel.columns:
        return np.ones(len(panel), dtype=bool)
    censored = panel[spec.label_col].isna()
    share = censored.groupby(panel[spec.period_col]).transform("mean")
    return (share <= 0.5).to_numpy()


def _check_panel(panel: pd.DataFrame, spec: PanelSpec, horizon: int | None) -> None:
    """Raise ``ValueError`` unless ``panel`` has its spec's columns and the model's horizon."""
    missing = [c for c in (*spec.feature_cols, spec.label_col) if c not in panel.columns]
    if missing:
        raise ValueError(
            f"the panel lacks columns its spec names: {missing}; rebuild it with "
            "build_panel or restore the columns."
        )
    if not spec.feature_cols:
        raise ValueError("the panel spec lists no feature columns; nothing to fit on.")
    if horizon is not None and horizon != spec.horizon:
        raise ValueError(
            f"horizon={horizon} but the panel was built with horizon="
            f"{spec.horizon}; leave horizon=None to use the panel's, or rebuild the panel."
        )


def _resolved_rows(panel: pd.DataFrame, spec: PanelSpec) -> tuple[np.ndarray, int, int]:
    """Rows of ``panel`` to fit on (see :func:`_resolved_period_mask`) and what is left out.

    Returns the mask and the numbers of labelled and of censored rows outside it. Raises
    ``ValueError`` when no period is resolved enough.
    """
    resolved = _resolved_period_mask(panel, spec)
    n_unresolved_dropped = int((~resolved & panel[spec.label_col].notna()).sum())
    censored_elsewhere = int((~resolved & panel[spec.label_col].isna()).sum())
    if not resolved.any():
        n_nan = int(panel[spec.label_col].isna().sum())
        if n_nan == len(panel):
            _encode_target(panel[spec.label_col])  # raises the all-censored error
        raise ValueError(
            f"in every period more than half of the labels are censored ({n_nan} of "
            f"{len(panel)} rows): the panel ends before its horizon of {spec.horizon} "
            "periods has passed. Build it with an end at least one horizon before the "
            "last date of the data."
        )
    return resolved, n_unresolved_dropped, censored_elsewhere
