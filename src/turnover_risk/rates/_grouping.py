"""Vectorised grouping and counting primitives of the rate kernels (private).

Dense group ids by sorting (:func:`_group_ids`, faster than a hash table here), the cells and
requested groupings of a call (:func:`_groups`, margins included), the scope entity of each
spell (:func:`_entity_codes`), the expansion of spells over periods (:func:`_expand`), period
look-ups (:func:`_search_days`) and distinct-person counts (:func:`_distinct`,
:func:`_distinct_ranges`), none of which expands a spell into days.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from turnover_risk.privacy import TOTAL_LABEL
from turnover_risk.rates._spells import _Spells


def _entity_codes(sp: _Spells, scope: str) -> np.ndarray:
    """Code of the scope entity of each spell (unit, service, municipality or one for all)."""
    if scope == "any":
        return np.zeros(len(sp.person), dtype=np.int64)
    if scope == "unit":
        return sp.unit
    have = set(sp.columns())
    cols = ["municipality", "service"] if scope == "service" else ["municipality"]
    if scope == "service" and "municipality" not in have:
        cols = ["service"]
    missing = [c for c in cols if c not in have]
    if missing or (scope == "service" and "service" not in have):
        raise ValueError(
            f"scope={scope!r} needs the unit attribute '{scope}', which the data lack. Pass a "
            "Register with a units table holding it (or add the column to the employment "
            "frame), or use scope='unit' or scope='any'."
        )
    codes = np.zeros(len(sp.person), dtype=np.int64)
    absent = np.zeros(len(sp.person), dtype=bool)
    for c in cols:
        k, n = sp.codes(c)
        absent |= k < 0
        codes = codes * (n + 1) + k
    if absent.any():
        raise ValueError(
            f"scope={scope!r}: {int(absent.sum())} employment spells have no "
            f"{' / '.join(cols)} (unit missing from the units table or the attribute empty). "
            "Complete the units table or use scope='unit'."
        )
    return _group_ids(codes)[0]


def _argsort_int(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` for int64 keys, several times faster.

    When the key and the row number fit 63 bits together, the row number is packed into the
    low bits and the packed values sorted with numpy's (vectorised) sort.
    """
    n = len(key)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = np.asarray(key, dtype=np.int64)
    lo, hi = int(key.min()), int(key.max())
    bits = max((n - 1).bit_length(), 1)
    if lo >= 0 and hi < (1 << (63 - bits)):
        return np.sort((key << bits) | np.arange(n, dtype=np.int64)) & ((1 << bits) - 1)
    return np.argsort(key, kind="stable")


def _group_ids(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of the distinct values of an int64 ``key``, numbered in sorted key order
    (as ``np.unique(key, return_inverse=True)``): returns (id of each row, key of each id).

    A sort (:func:`_argsort_int`), several times faster than a hash table here.
    """
    n = len(key)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = np.asarray(key, dtype=np.int64)
    rows = _argsort_int(key)
    sk = key[rows]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    ids = np.empty(n, dtype=np.int64)
    ids[rows] = np.cumsum(new) - 1
    return ids, sk.take(np.flatnonzero(new))  # take() beats boolean indexing


def _group_ids_first(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of the distinct values of ``key`` and the first row of each id."""
    ids, _ = _group_ids(key)
    first = np.full(int(ids.max()) + 1 if len(ids) else 0, len(ids), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(ids), dtype=np.int64))
    return ids, first


@dataclass
class _Groups:
    """Cells (unit x by-group) and the requested groupings (main one first, then margins)."""

    cell: np.ndarray  # cell code of each spell
    n_cell: int
    groupings: list[tuple[np.ndarray, pd.DataFrame]]  # (cell -> group code, group table)


def _groups(
    sp: _Spells, by: list[str], margins: bool, subsets: list[tuple[str, ...]] | None = None
) -> _Groups:
    """Cells and groupings; ``subsets`` (lists of ``by`` columns) replaces the margins' list."""
    f = sp.frame
    cols = ["unit_id", *[c for c in by if c != "unit_id"]]
    codes = np.zeros(len(f), dtype=np.int64)
    col_codes = {}
    col_n = {}
    for c in cols:
        k, n = sp.codes(c, na_code=True)
        col_codes[c], col_n[c] = k, n
        codes = codes * (n + 1) + k
    cell, cell_keys = _group_ids(codes)
    first_row = np.zeros(len(cell_keys), dtype=np.int64)
    first_row[cell[::-1]] = np.arange(len(cell))[::-1]  # first spell of each cell
    n_cell = len(cell_keys)
    groupings = []
    if subsets is not None:
        margins = True  # string group columns with TOTAL_LABEL, as for margins
    else:
        subsets = [tuple(by)]
        if margins and by:
            subsets += [s for r in range(len(by) - 1, -1, -1) for s in combinations(by, r)]
    for subset in subsets:
        gcodes = np.zeros(n_cell, dtype=np.int64)
        for c in subset:
            k = col_codes[c][first_row]
            gcodes = gcodes * (col_n[c] + 1) + k
        keys, g = np.unique(gcodes, return_inverse=True)
        rep = np.zeros(len(keys), dtype=np.int64)
        rep[g[::-1]] = first_row[::-1]
        table = pd.DataFrame(index=range(len(keys)))
        for c in by:
            if c in subset:
                vals = f[c].iloc[rep].reset_index(drop=True)
                table[c] = vals.astype("string") if margins else vals
            else:
                table[c] = pd.Series([TOTAL_LABEL] * len(keys), dtype="string")
        groupings.append((g.astype(np.int64), table))
    return _Groups(cell.astype(np.int64), n_cell, groupings)


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``i`` repeated for each ``k`` in ``lo[i]..hi[i]``: returns (i, k)."""
    n = np.maximum(hi - lo + 1, 0)
    idx = np.repeat(np.arange(len(lo)), n)
    k = np.arange(len(idx), dtype=np.int64)
    k += (lo - (np.cumsum(n) - n))[idx]
    return idx, k


def _search_days(bounds: np.ndarray, days: np.ndarray, side: str = "left") -> np.ndarray:
    """``np.searchsorted(bounds, days, side=side)`` for integer day numbers and sorted period
    bounds, read from a table of the days from the first to the last bound: on a million
    unsorted days a table look-up is several times faster than a binary search each."""
    bounds = np.asarray(bounds)
    first = int(bounds[0]) - 1 if len(bounds) else 0
    span = int(bounds[-1]) - first + 2 if len(bounds) else 0
    if len(days) < 10_000 or span > len(days):
        return np.searchsorted(bounds, days, side=side)  # type: ignore[call-overload]
    table = np.searchsorted(bounds, np.arange(first, first + span), side=side)  # type: ignore[call-overload]
    return table[np.minimum(np.maximum(days, first), first + span - 1) - first]


def _distinct(gp: np.ndarray, item: np.ndarray, n_gp: int, n_item: int) -> np.ndarray:
    """Number of distinct ``item`` codes per ``gp`` code (a sort, no hash table)."""
    if len(gp) == 0:
        return np.zeros(n_gp, dtype=np.int64)
    m = np.int64(max(n_item, 1))
    keys = np.sort(gp.astype(np.int64) * m + item)
    new = np.empty(len(keys), dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    return np.bincount(keys.take(np.flatnonzero(new)) // m, minlength=n_gp)


def _distinct_ranges(
    g: np.ndarray, person: np.ndarray, lo: np.ndarray, hi: np.ndarray, G: int, K: int, n_person: int
) -> np.ndarray:
    """Distinct persons per ``g * K + k`` when spell ``i`` covers periods ``lo[i]..hi[i]``.

    The ranges of one (group, person) are made disjoint (sorted by start, each clipped after
    the running maximum of the earlier ones), then counted with a difference array: no
    expansion into (spell, period) rows.
    """
    ok = np.flatnonzero(hi >= lo)  # take() with row numbers beats boolean masks
    g, person, lo, hi = g.take(ok), person.take(ok), lo.take(ok), hi.take(ok)
    if len(g) == 0:
        return np.zeros(G * K, dtype=np.int64)
    pair = g.astype(np.int64) * np.int64(max(n_person, 1)) + person
    order = _argsort_int(pair * np.int64(K + 1) + lo)
    pair, g, lo, hi = pair.take(order), g.take(order), lo.take(order), hi.take(order)
    new_pair = np.empty(len(pair), dtype=bool)
    new_pair[0] = True
    new_pair[1:] = pair[1:] != pair[:-1]
    rank = np.cumsum(new_pair) - 1
    running = np.maximum.accumulate(rank * np.int64(K + 2) + hi + 1)  # hi + 1 >= 0
    prev = np.empty(len(pair), dtype=np.int64)
    prev[0] = -1
    prev[1:] = running[:-1] - rank[1:] * np.int64(K + 2) - 1  # running max hi of earlier spells
    prev[new_pair] = -1
    lo_eff = np.maximum(lo, prev + 1)
    keep = np.flatnonzero(hi >= lo_eff)
    g_keep = g.take(keep) * (K + 1)
    acc = np.bincount(g_keep + lo_eff.take(keep), minlength=G * (K + 1))
    acc -= np.bincount(g_keep + hi.take(keep) + 1, minlength=G * (K + 1))
    return np.cumsum(acc.reshape(G, K + 1), axis=1)[:, :K].ravel()
