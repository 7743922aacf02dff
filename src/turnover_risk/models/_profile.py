"""The reference profile of a model's inputs: what the training data looked like, without rows.

:meth:`~turnover_risk.TurnoverRiskModel.fit` stores ``model.input_profile_``, a plain dict (JSON
and skops friendly) with, per feature used:

* **numeric**: decile bin edges of the training rows, with neighbouring bins merged until every
  bin holds at least ``min_bin_persons`` (10) distinct persons; the bin counts (rows and
  *person-weighted*: each person adds weight 1 spread over their rows, so a person with 30
  monthly rows counts as much as one with 3); the missing share; mean and SD; and the
  **plausible range** ``[low, high]``: the 0.5 % and 99.5 % row quantiles widened by their own
  distance on each side (``low`` is 0 for a feature never negative in training, and the range
  is ``[0, 1]`` for one that stayed within it: shares and 0/1 flags). The true minimum and
  maximum are never stored (they can be one person's value); the widening keeps nearly all
  training values inside (on the shipped sample at most 12 of 18 802 rows of a heavy-tailed
  feature fall outside), so a value outside means something changed: fte in percent, caseload
  times 100, a sign error.
* **category**: the levels seen in training (the one-hot encoder stores them anyway) and their
  counts, with levels held by fewer than ``min_bin_persons`` persons merged into ``"(other)"``.

No row, identifier, minimum or maximum is stored. :func:`bin_codes` maps new values to the
profile's bins (used by :func:`turnover_risk.check_drift` and by scoring-time checks).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MIN_BIN_PERSONS",
    "MISSING_LABEL",
    "OTHER_LABEL",
    "PROFILE_VERSION",
    "RANGE_QUANTILES",
    "bin_codes",
    "build_profile",
]

PROFILE_VERSION = 1
MIN_BIN_PERSONS = 10
"""Fewest distinct persons behind any bin or category count of a profile."""
N_QUANTILE_BINS = 10
RANGE_QUANTILES = (0.005, 0.995)
"""Row quantiles the plausible range starts from (then widened by their distance each side)."""
RANGE_WIDEN = 1.0
MISSING_LABEL = "missing"
OTHER_LABEL = "(other)"
UNSEEN_LABEL = "(unseen)"


def _person_codes(persons: Any, n: int) -> np.ndarray:
    """Integer person codes (each row its own person when ``persons`` is None)."""
    if persons is None:
        return np.arange(n)
    arr = np.asarray(persons) if isinstance(persons, np.ndarray) else None
    if arr is not None and arr.dtype.kind in "iu":  # integer ids: the same codes, no objects
        codes, _ = pd.factorize(arr, use_na_sentinel=False)
        return codes
    codes, _ = pd.factorize(pd.Series(np.asarray(persons, dtype=object)), use_na_sentinel=False)
    return codes


def _distinct(bins: np.ndarray, person: np.ndarray, n_bins: int) -> np.ndarray:
    """Distinct persons per bin (distinct ``(bin, person)`` pairs, as one int64 key each)."""
    if not len(bins):
        return np.zeros(n_bins, dtype=int)
    stride = np.int64(person.max()) + 1
    keys = np.asarray(bins, dtype=np.int64) * stride + person
    if stride * n_bins <= max(4 * len(keys), 1 << 20):  # a presence table: no hashing or sorting
        seen = np.bincount(keys, minlength=int(stride * n_bins)) > 0
        return seen.reshape(n_bins, -1).sum(axis=1)
    return np.bincount(pd.unique(keys) // stride, minlength=n_bins)


def _presence(codes: np.ndarray, person: np.ndarray, n_bins: int):
    """Which persons each bin holds: a (bins, persons) bool table, or the distinct pairs."""
    stride = np.int64(person.max()) + 1
    keys = codes.astype(np.int64) * stride + person
    if stride * n_bins <= max(4 * len(keys), 1 << 20):  # a presence table: no hashing or sorting
        return np.bincount(keys, minlength=int(stride * n_bins)).reshape(n_bins, -1) > 0, stride
    return pd.unique(keys), stride


def _merged_distinct(presence, stride, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Distinct persons per group of consecutive fine bins (``group[fine bin]``)."""
    if isinstance(presence, np.ndarray) and presence.ndim == 2:
        bounds = np.searchsorted(group, np.arange(n_groups + 1), side="left")
        return np.asarray(
            [presence[a:b].any(axis=0).sum() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        )
    fine, who = presence // stride, presence % stride
    inside = fine < len(group)  # the missing bin is no group
    merged = group[fine[inside]] * stride + who[inside]
    return np.bincount(pd.unique(merged) // stride, minlength=n_groups)


def _merge_edges(fine_codes, n_fine: int, person: np.ndarray, min_persons: int) -> list[int]:
    """Indices of the fine edges kept once every bin holds ``min_persons`` distinct persons.

    ``fine_codes`` is each row's fine bin (``n_fine + 1`` for missing). The distinct persons of
    each fine bin are found once; merging bins then only combines those sets.
    """
    kept = list(range(n_fine))
    if not kept:
        return kept
    presence, stride = _presence(fine_codes, person, n_fine + 2)
    fine_bins = np.arange(n_fine + 1)
    while kept:
        group = np.searchsorted(np.asarray(kept), fine_bins, side="left")
        n = _merged_distinct(presence, stride, group, len(kept) + 1)
        i = int(np.argmin(n))
        if n[i] >= min_persons:
            break
        # merge bin i with its smaller neighbour: drop the edge between them
        if i == 0:
            drop = 0
        elif i == len(kept):
            drop = i - 1
        else:
            drop = i - 1 if n[i - 1] <= n[i + 1] else i
        kept.pop(drop)
    return kept


def _plausible_range(lo: float, hi: float, nonneg: bool, unit: bool) -> tuple[float, float]:
    """The row quantiles ``lo``, ``hi`` widened by their distance (see the module docstring)."""
    width = hi - lo if hi > lo else max(abs(hi), 1.0)
    low, high = lo - RANGE_WIDEN * width, hi + RANGE_WIDEN * width
    if nonneg:  # counts, months, shares: a negative value is an error
        low = 0.0
        if unit:  # shares and 0/1 flags stay in [0, 1]
            high = 1.0
    return float(low), float(high)


def _weighted_counts(codes: np.ndarray, weight: np.ndarray, n_bins: int) -> list[float]:
    return [float(v) for v in np.bincount(codes, weights=weight, minlength=n_bins)]


def _as_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s):
        s = s.astype("Float64")
    return pd.to_numeric(s, errors="coerce").astype(float).to_numpy()


def _as_text(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values as str, missing mask)."""
    missing = pd.isna(s).to_numpy()
    vals = s.astype(object).to_numpy(copy=True)
    vals[missing] = ""
    return pd.Series(vals, dtype=object).astype(str).to_numpy(dtype=object), missing


_QUANTILES = np.concatenate([np.arange(1, N_QUANTILE_BINS) / N_QUANTILE_BINS, RANGE_QUANTILES])


def _profile_numeric(x: np.ndarray, person: np.ndarray, weight: np.ndarray, min_persons: int):
    # one copy of the non-missing values and one partition for all quantiles; the rows' bins
    # are found once, for the fine decile edges, and mapped to the merged bins
    missing = np.isnan(x)
    ok = x[~missing] if missing.any() else np.array(x, dtype=np.float64, copy=True)
    mean = float(ok.mean()) if len(ok) else None
    sd = float(ok.std(ddof=1)) if len(ok) > 1 else None
    fine, low, high = np.zeros(0), None, None
    if len(ok):
        nonneg = bool(ok.min() >= 0)  # read before the partition reorders ``ok``
        unit = nonneg and bool(ok.max() <= 1)
        q = np.quantile(ok, _QUANTILES, overwrite_input=True)
        fine = np.unique(q[: N_QUANTILE_BINS - 1])
        low, high = _plausible_range(q[-2], q[-1], nonneg, unit)
    codes = np.zeros(len(x), dtype=np.int8)  # bin i holds (edges[i-1], edges[i]]
    for e in fine:
        codes += x > float(e)
    codes[missing] = len(fine) + 1
    kept = _merge_edges(codes, len(fine), person, min_persons)
    edges = [float(fine[k]) for k in kept]
    lookup = np.searchsorted(np.asarray(kept, dtype=np.int64), np.arange(len(fine) + 2))
    lookup[-1] = len(edges) + 1  # the missing bin
    codes = lookup.astype(np.int8)[codes]
    return {
        "kind": "numeric",
        "edges": edges,
        "low": low,
        "high": high,
        "labels": _numeric_labels(edges),
        "rows": [int(v) for v in np.bincount(codes, minlength=len(edges) + 2)],
        "counts": _weighted_counts(codes, weight, len(edges) + 2),
        "mean": mean,
        "sd": sd,
    }


def _level_codes(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's index into the sorted distinct texts ``seen`` (``len(seen)``: missing).

    Categorical and string columns are factorised first and only their distinct values turned
    into text (the text of a value does not depend on its row); other columns (objects, which
    may hold equal values of different types, ``1`` and ``1.0``) are turned into text row by row.
    """
    if isinstance(s.dtype, pd.CategoricalDtype) or (
        pd.api.types.is_string_dtype(s.dtype) and s.dtype != object
    ):
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        text, _ = _as_text(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    else:
        text, missing = _as_text(s)
        codes = np.full(len(text), -1, dtype=np.intp)
        codes[~missing], text = pd.factorize(text[~missing], use_na_sentinel=True)
    seen = sorted(set(np.asarray(text, dtype=object).tolist()))
    level_code = {v: i for i, v in enumerate(seen)}
    lookup = np.asarray([*(level_code[t] for t in text), len(seen)], dtype=np.int64)
    return lookup[codes], seen


def _profile_category(s: pd.Series, person: np.ndarray, weight: np.ndarray, min_persons: int):
    raw, seen = _level_codes(s)
    n_persons = _distinct(raw, person, len(seen) + 1)[:-1]  # the last bin: missing values
    kept = [v for v, n in zip(seen, n_persons, strict=True) if n >= min_persons]
    rare = [v for v in seen if v not in set(kept)]
    # a small "(other)" bin would show a rare level's count: fold in the smallest kept levels
    while rare and kept:
        in_other = np.append(np.isin(np.asarray(seen, dtype=object), rare), False)[raw]
        if len(np.unique(person[in_other])) >= min_persons:
            break
        counts = {v: int(n) for v, n in zip(seen, n_persons, strict=True)}
        smallest = min(kept, key=lambda v: counts[v])
        kept.remove(smallest)
        rare.append(smallest)
    prof = {"kind": "category", "levels": kept, "seen": seen, "has_other": bool(rare)}
    codes, _, _ = bin_codes(prof, s)
    labels = [*kept, *([OTHER_LABEL] if rare else []), MISSING_LABEL]
    prof.update(
        labels=labels,
        rows=[int(v) for v in np.bincount(codes, minlength=len(labels))],
        counts=_weighted_counts(codes, weight, len(labels)),
    )
    return prof


def _numeric_labels(edges: list[float]) -> list[str]:
    bounds = [-np.inf, *edges, np.inf]
    labels = [f"({a:.4g}, {b:.4g}]" for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    labels[-1] = labels[-1][:-1] + ")"
    return [*labels, MISSING_LABEL]


def build_profile(
    X: pd.DataFrame,
    features: Iterable[str],
    numeric: Iterable[str],
    persons: Any = None,
    *,
    min_bin_persons: int = MIN_BIN_PERSONS,
) -> dict[str, Any]:
    """The reference profile of ``X[features]`` (see the module docstring).

    Parameters
    ----------
    X : DataFrame
        The training rows (features only; never stored).
    features : iterable of str
        Columns to profile.
    numeric : iterable of str
        Which of them are numeric (the rest are categories).
    persons : array-like, optional
        Person of each row (a panel's id column); each row is its own person when omitted.
    min_bin_persons : int
        Fewest distinct persons behind any bin.

    Returns
    -------
    dict
        ``{"version", "n_rows", "n_persons", "min_bin_persons", "features": {name: {...}}}``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"caseload": np.arange(100.0), "role": ["a"] * 60 + ["b"] * 40})
    >>> prof = build_profile(X, ["caseload", "role"], ["caseload"])
    >>> prof["features"]["caseload"]["edges"][:3]
    [9.9, 19.8, 29.7]
    >>> prof["features"]["role"]["labels"]
    ['a', 'b', 'missing']
    """
    numeric = set(numeric)
    person = _person_codes(persons, len(X))
    n_persons = int(person.max()) + 1 if len(person) else 0
    rows_of = np.bincount(person, minlength=n_persons) if n_persons else np.zeros(0)
    weight = 1.0 / rows_of[person] if len(person) else np.zeros(0)
    out: dict[str, Any] = {}
    for c in features:
        if c in numeric:
            out[c] = _profile_numeric(_as_float(X[c]), person, weight, min_bin_persons)
        else:
            out[c] = _profile_category(X[c], person, weight, min_bin_persons)
    return {
        "version": PROFILE_VERSION,
        "n_rows": len(X),
        "n_persons": n_persons,
        "min_bin_persons": int(min_bin_persons),
        "features": out,
    }


def bin_codes(feature: dict[str, Any], values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map values to a profiled feature's bins.

    Parameters
    ----------
    feature : dict
        One entry of ``profile["features"]``.
    values : array-like or Series

    Returns
    -------
    codes : ndarray of int (int8 for numeric features)
        Bin per value; the missing bin is ``len(labels) - 1``; for a category, an unseen level
        gets ``len(labels)`` (a bin the training data did not have).
    out_of_range : ndarray of bool
        Numeric values outside ``[low, high]`` (infinite values included).
    unseen : ndarray of bool
        Category values not seen in training.
    """
    if feature["kind"] == "numeric":
        x = values if isinstance(values, np.ndarray) else _as_float(pd.Series(values))
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        missing = np.isnan(x)
        # bin i holds (edges[i-1], edges[i]]: the number of edges below the value; a loop of
        # comparisons is several times faster than searchsorted for the <= 9 edges of a profile
        codes = np.zeros(len(x), dtype=np.int8)  # at most 11 bins
        for e in feature["edges"]:
            codes += x > float(e)
        codes[missing] = len(feature["edges"]) + 1
        oor = np.zeros(len(x), dtype=bool)
        if feature["low"] is not None:
            oor = (x < float(feature["low"])) | (x > float(feature["high"]))
        return codes, oor, np.zeros(len(x), dtype=bool)
    raw, uniques = _factorize(values)
    levels = {v: i for i, v in enumerate(feature["levels"])}
    n_labels = len(levels) + (1 if feature["has_other"] else 0) + 1
    seen = set(feature["seen"])
    lookup = np.empty(len(uniques) + 1, dtype=np.int64)
    new_level = np.zeros(len(uniques) + 1, dtype=bool)
    for j, v in enumerate(uniques):
        if v in levels:
            lookup[j] = levels[v]
        elif v in seen and feature["has_other"]:
            lookup[j] = len(levels)
        else:
            lookup[j], new_level[j] = n_labels, True
    lookup[-1] = n_labels - 1  # code -1: missing
    return lookup[raw], np.zeros(len(raw), dtype=bool), new_level[raw]


def _factorize(values: Any) -> tuple[np.ndarray, list[str]]:
    """Codes (-1 for missing) and the distinct values as text, of pandas, numpy or arrow data.

    Only the distinct values are turned into text, so a column of a million rows with three
    roles costs one factorisation, not a million ``str`` calls.
    """
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if not pa.types.is_dictionary(values.type):
            values = values.dictionary_encode()
        codes = values.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        uniques = values.dictionary.to_pylist()
    else:
        codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
        uniques = list(uniques)
    text = [str(v) for v in uniques]
    bad = [j for j, v in enumerate(uniques) if v is None or (isinstance(v, float) and v != v)]
    if bad:  # a missing value inside an arrow dictionary
        codes = np.where(np.isin(codes, bad), -1, codes)
    return codes, text
