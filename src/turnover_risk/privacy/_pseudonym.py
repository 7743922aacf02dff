"""Pseudonymisation: identifiers replaced by a keyed hash (HMAC-SHA256), never a plain hash."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

import pandas as pd

__all__ = ["KEY_ENV", "pseudonymise"]

KEY_ENV = "TURNOVER_RISK_KEY"
"""The environment variable that holds the default secret key."""


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
