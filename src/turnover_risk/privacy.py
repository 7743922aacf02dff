"""Disclosure control: minimum group size, small-cell suppression and pseudonymisation.

Every aggregated output of the library passes through :func:`suppress_small_groups`, so one rule
decides what is shown. Defaults follow DOMAIN.md: 5 persons (people-analytics practice), never
below 3 (SSB's own tools suppress frequencies <= 3... we refuse anything under 3).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "ABSOLUTE_MIN_GROUP_SIZE",
    "DEFAULT_MIN_GROUP_SIZE",
    "check_min_group_size",
    "pseudonymise",
    "suppress_small_groups",
]

DEFAULT_MIN_GROUP_SIZE: int = 5
"""Default minimum number of persons behind any shown aggregate."""

ABSOLUTE_MIN_GROUP_SIZE: int = 3
"""A ``min_group_size`` below this is refused."""

KEY_ENV = "TURNOVER_RISK_KEY"


def check_min_group_size(min_group_size: object) -> int:
    """Validate a ``min_group_size`` argument and return it as an int.

    Raises
    ------
    TypeError
        If it is not an integer.
    ValueError
        If it is below :data:`ABSOLUTE_MIN_GROUP_SIZE`.

    Examples
    --------
    >>> check_min_group_size(5)
    5
    """
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int | np.integer):
        raise TypeError(
            f"min_group_size must be an integer; got {min_group_size!r} "
            f"({type(min_group_size).__name__})."
        )
    if min_group_size < ABSOLUTE_MIN_GROUP_SIZE:
        raise ValueError(
            f"min_group_size={min_group_size} is below the library's floor of "
            f"{ABSOLUTE_MIN_GROUP_SIZE}: groups that small can identify a person's health data. "
            f"Use min_group_size >= {ABSOLUTE_MIN_GROUP_SIZE} (default {DEFAULT_MIN_GROUP_SIZE})."
        )
    return int(min_group_size)


def suppress_small_groups(
    table: pd.DataFrame,
    *,
    count_col: str = "n_persons",
    value_cols: Sequence[str] | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    flag_col: str = "suppressed",
) -> pd.DataFrame:
    """Blank the value columns of rows whose ``count_col`` is under ``min_group_size``.

    Parameters
    ----------
    table : DataFrame
        One row per group (and period).
    count_col : str
        Column with the number of distinct persons behind the row.
    value_cols : sequence of str, optional
        Columns to blank (set to NaN/NA) in suppressed rows. Default: every numeric column
        except ``count_col``. ``count_col`` itself is kept (the group's size is not sensitive
        in itself, and readers need to see why a row is blank)... unless listed here.
    min_group_size : int
        Minimum persons; validated with :func:`check_min_group_size`.
    flag_col : str
        Name of the boolean column that says which rows were suppressed.

    Returns
    -------
    DataFrame
        A copy with ``flag_col`` set (True where suppressed) and the value columns blanked.
    """
    min_group_size = check_min_group_size(min_group_size)
    if count_col not in table.columns:
        raise KeyError(
            f"count column {count_col!r} not in the table; columns are: {list(table.columns)}"
        )
    out = table.copy()
    small = out[count_col].fillna(0).to_numpy() < min_group_size
    if flag_col in out.columns:
        small = small | out[flag_col].fillna(False).to_numpy(dtype=bool)
    if value_cols is None:
        value_cols = [
            c
            for c in out.columns
            if c not in (count_col, flag_col) and pd.api.types.is_numeric_dtype(out[c])
            and not pd.api.types.is_bool_dtype(out[c])
        ]
    _blank(out, small, value_cols)
    out[flag_col] = small
    return out


def _blank(out: pd.DataFrame, mask: np.ndarray, cols: Iterable[str]) -> None:
    if not mask.any():
        return
    for c in cols:
        if c not in out.columns:
            continue
        col = out[c]
        if pd.api.types.is_integer_dtype(col) and not isinstance(col.dtype, pd.Int64Dtype):
            out[c] = col.astype("Int64" if pd.api.types.is_signed_integer_dtype(col) else "Float64")
        out.loc[mask, c] = np.nan if pd.api.types.is_float_dtype(out[c]) else pd.NA


def pseudonymise(
    df: pd.DataFrame,
    columns: Sequence[str] | str,
    key: str | bytes | None = None,
) -> pd.DataFrame:
    """Replace identifier columns by a keyed hash (HMAC-SHA256, hex, 32 characters).

    The same key gives the same pseudonym for the same identifier in every table, so joins still
    work; without the key the identifiers cannot be recovered by hashing guesses. A plain hash is
    never used.

    Parameters
    ----------
    df : DataFrame
    columns : str or sequence of str
        Columns to pseudonymise.
    key : str or bytes, optional
        Secret key; default: the ``TURNOVER_RISK_KEY`` environment variable.

    Raises
    ------
    ValueError
        If no key is given and the environment variable is not set, or the key is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> out = pseudonymise(pd.DataFrame({"employee_id": ["a", "a", "b"]}), "employee_id", "k")
    >>> out["employee_id"].nunique()
    2
    """
    if key is None:
        key = os.environ.get(KEY_ENV)
    if not key:
        raise ValueError(
            f"pseudonymise needs a secret key: pass key=... or set the {KEY_ENV} environment "
            "variable. A plain (unkeyed) hash is never used, because ids can be guessed and hashed."
        )
    key_bytes = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    cols = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the frame; columns are: {list(df.columns)}")
    out = df.copy()
    for c in cols:
        values = out[c]
        uniques = pd.unique(values.dropna().astype(str))
        mapping = {
            u: hmac.new(key_bytes, u.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
            for u in uniques
        }
        out[c] = values.astype("string").map(mapping).astype("string")
    return out
