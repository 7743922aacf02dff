"""Bounds of a coarser grain's cells from a finer grain's exact cells (private).

The linked suppression needs, for each grain of a cube, only whether it has a sensitive cell.
For a coarse grain this can often be settled without computing it: from the exact cells of a
finer grain, a coarse cell's

* persons (and persons contributing) are at least the largest child's (``"max"``),
* additive values are the children's sum (``"sum"``), and
* its largest single contribution (``"top"``) is at most the sum of the children's largest; or,
  given each person's contribution to each child (``contributions``), exactly the largest of
  the persons' sums over the children.

When the primary rule finds nothing sensitive even on these conservative bounds, the grain has
no sensitive cell, and :class:`~turnover_risk.privacy.LinkedSuppressor` shows it whole without a
second pass over the data. Otherwise the grain is computed exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__: list[str] = []

Contributions = (
    tuple[np.ndarray, np.ndarray, np.ndarray]
    | Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]
)

_T = "\x00total"  # the lattice's marker of an aggregated key (as in _linked)


def bound_cells(
    fine: pd.DataFrame,
    key_cols: Sequence[str],
    aggregated: Sequence[str],
    bounds: Mapping[str, str],
    contributions: Contributions | None = None,
    primary: Callable[[pd.DataFrame], np.ndarray] | None = None,
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
        ``{column: "max" | "sum" | "top"}``: how each value column the primary rule reads is
        bounded (``"top"``: the largest single contribution).
    contributions : tuple of arrays or callable returning one, optional
        ``(cell, who, amount)``: each person's (``who``, integer codes) contribution to each
        row ``cell`` of ``fine`` (a callable is called only if an exact value is needed). With it, ``"top"`` columns are exact: a person's contribution
        to a coarse cell is the sum of theirs to its children.
    primary : callable, optional
        The primary rule: with it, only the cells it finds sensitive on the conservative
        bounds get exact ``"top"`` values (the others are cleared already).

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
    grouped = frame.groupby(list(key_cols), sort=False, dropna=False)
    how = {c: "sum" if k == "top" else k for c, k in bounds.items()}
    out = grouped.agg(how).reset_index()
    tops = [c for c, k in bounds.items() if k == "top"]
    if contributions is not None and tops:
        coarse = grouped.ngroup().to_numpy()
        todo = np.ones(len(out), dtype=bool)
        if primary is not None:
            todo = np.asarray(primary(out), dtype=bool)
        if todo.any():
            cell, who, amount = contributions() if callable(contributions) else contributions
            pick = todo[coarse[cell]]
            exact = _largest_sums(coarse, len(out), cell[pick], who[pick], amount[pick])
            for c in tops:
                out[c] = np.where(todo, exact, out[c].to_numpy(dtype=float))
    return out


def _largest_sums(
    coarse_of_fine: np.ndarray, n: int, cell: np.ndarray, who: np.ndarray, amount: np.ndarray
) -> np.ndarray:
    """Per coarse cell, the largest of the persons' summed contributions to its fine cells."""
    top = np.zeros(n)
    if len(cell) == 0:
        return top
    width = np.int64(who.max()) + 1
    key = coarse_of_fine[cell].astype(np.int64) * width + who
    per_person = pd.Series(amount).groupby(key, sort=False).sum()  # hashing: no sort
    coarse = per_person.index.to_numpy() // width
    largest = per_person.groupby(coarse, sort=False).max()
    top[largest.index.to_numpy()] = largest.to_numpy()
    return top


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
