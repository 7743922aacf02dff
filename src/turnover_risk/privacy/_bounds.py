"""Bounds of a coarser grain's cells from a finer grain's exact cells (private).

The linked suppression needs, for each grain of a cube, only whether it has a sensitive cell.
For a coarse grain this can often be settled without computing it: from the exact cells of a
finer grain, a coarse cell's

* persons (and persons contributing) are at least the largest child's (``"max"``),
* additive values are the children's sum (``"sum"``), and
* its largest single contribution is at most the sum of the children's largest (``"sum"``).

When the primary rule finds nothing sensitive even on these conservative bounds, the grain has
no sensitive cell, and :class:`~turnover_risk.privacy.LinkedSuppressor` shows it whole without a
second pass over the data. Otherwise the grain is computed exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__: list[str] = []

_T = "\x00total"  # the lattice's marker of an aggregated key (as in _linked)


def bound_cells(
    fine: pd.DataFrame,
    key_cols: Sequence[str],
    aggregated: Sequence[str],
    bounds: Mapping[str, str],
) -> pd.DataFrame:
    """Conservative cells of a coarser grain from the exact cells ``fine`` of a finer one.

    Parameters
    ----------
    fine : DataFrame
        Exact cells with the lattice key columns ``key_cols``.
    key_cols : sequence of str
        All lattice key columns.
    aggregated : sequence of str
        The key columns the coarser grain aggregates (set to the total marker).
    bounds : mapping
        ``{column: "max" | "sum"}``: how each value column the primary rule reads is bounded.

    Examples
    --------
    >>> fine = pd.DataFrame({"_o_unit_id": ["a", "b"], "_o_municipality": ["m", "m"],
    ...                      "n_persons": [4, 6], "numerator": [3.0, 5.0]})
    >>> out = bound_cells(fine, ["_o_unit_id", "_o_municipality"], ["_o_unit_id"],
    ...                   {"n_persons": "max", "numerator": "sum"})
    >>> out.drop(columns="_o_unit_id")
      _o_municipality  n_persons  numerator
    0               m          6        8.0
    """
    keys = fine[list(key_cols)].copy()
    for c in aggregated:
        keys[c] = _T
    values = fine[list(bounds)].fillna(0)
    frame = pd.concat([keys, values], axis=1)
    out = frame.groupby(list(key_cols), sort=False, dropna=False).agg(dict(bounds))
    return out.reset_index()


def aggregated_columns(
    dims: Sequence[object], fine: tuple[int, ...], coarse: tuple[int, ...], chain: Sequence[str]
) -> list[str] | None:
    """Key columns a coarse grain aggregates relative to a finer one, or None if ``coarse``
    is not an aggregation of ``fine`` (coarser or equal in every dimension)."""
    cols: list[str] = []
    for d, f, c in zip(dims, fine, coarse, strict=True):
        if c < f:
            return None
        if c == f:
            continue
        kind = d.kind  # type: ignore[attr-defined]
        if kind == "org":
            levels = d.levels  # type: ignore[attr-defined]
            first = chain.index(levels[f])
            last = len(chain) if levels[c] is None else chain.index(levels[c])
            cols += ["_o_" + x for x in chain[first:last]]
        elif kind == "time":
            cols += ["_month", "_quarter"][f:c]
        elif kind == "cat":
            cols.append("_c_" + d.levels[0])  # type: ignore[attr-defined]
        else:
            return None
    return cols
