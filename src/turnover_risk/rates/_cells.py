"""Cell statistics of a rate table, and their exact combination across parts (private).

A rate kernel works in two steps: the *cell statistics* (per grouping, each group's additive
sums over the period grid: weighted and plain counts, headcounts, distinct persons) and the
*finish* (rates, intervals, the table). :class:`Cells` holds the first. When a register is
split into parts that never split a person (the Dask engine's partitions by employee), every
statistic of the whole is the sum of the parts' - distinct persons too, as no person is in two
parts - so the parts' statistics are sent as sparse frames keyed by the group labels
(:func:`sparse_cells`), summed pairwise in any tree (:func:`combine_cells`) and turned back into
dense arrays (:func:`dense_cells`) for the same finish as the single-process path. Counts are
sums of integers (exact); weighted sums add the same numbers in another order (equal to the
last few bits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Cells", "SparseCells", "combine_cells", "dense_cells", "sparse_cells"]


@dataclass
class Cells:
    """Per grouping ``(group table, {statistic: flat array})``, the period grid and the window.

    Arrays are ``G * K`` (``k``: the output periods) or, for the statistics named in
    ``meta["f_axis"]``, ``G * F`` (the finer periods a ``sum_of_months`` rate sums over).
    """

    groupings: list[tuple[pd.DataFrame, dict[str, np.ndarray]]]
    meta: dict[str, Any]
    window: dict[str, str] = field(default_factory=dict)
    tallies: dict[str, int] = field(default_factory=dict)  # counts summed over parts


@dataclass
class SparseCells:
    """:class:`Cells` as frames of the non-zero cells: per grouping ``{axis: frame}``, each
    frame the group columns, ``_p`` (the period index on that axis) and the statistics."""

    frames: list[dict[str, pd.DataFrame]]
    columns: list[list[str]]  # group columns of each grouping
    meta: dict[str, Any]
    window: dict[str, str] = field(default_factory=dict)
    tallies: dict[str, int] = field(default_factory=dict)


def _axes(st: dict[str, np.ndarray], meta: dict[str, Any]) -> dict[str, list[str]]:
    f_axis, s_axis = set(meta.get("f_axis", ())), set(meta.get("s_axis", ()))
    out = {
        "k": [c for c in st if c not in f_axis and c not in s_axis],
        "f": [c for c in st if c in f_axis],
        "s": [c for c in st if c in s_axis],
    }
    return {a: names for a, names in out.items() if names}


def sparse_cells(cells: Cells) -> SparseCells:
    """The non-zero cells of ``cells`` as frames keyed by group labels and period index."""
    frames, columns = [], []
    sizes = {"k": cells.meta["K"], "f": cells.meta["F"], "s": cells.meta["K"]}
    for table, st in cells.groupings:
        by = list(table.columns)
        axes = {}
        for axis, names in _axes(st, cells.meta).items():
            n = sizes[axis]
            arrays = [np.asarray(st[c]) for c in names]
            nz = np.flatnonzero(np.any(np.stack([a != 0 for a in arrays]), axis=0))
            frame = table.iloc[nz // n].reset_index(drop=True) if by else pd.DataFrame()
            frame = frame.assign(_p=(nz % n).astype(np.int64)) if by else pd.DataFrame(
                {"_p": (nz % n).astype(np.int64)})  # fmt: skip
            for c, a in zip(names, arrays, strict=True):
                frame[c] = a[nz]
            axes[axis] = frame
        frames.append(axes)
        columns.append(by)
    return SparseCells(frames, columns, cells.meta, cells.window, dict(cells.tallies))


def combine_cells(a: SparseCells | None, b: SparseCells | None) -> SparseCells | None:
    """The statistics of two disjoint sets of persons added cell by cell.

    Parameters
    ----------
    a, b : SparseCells or None
        Cell statistics of two parts (:func:`~turnover_risk.rates.part_cells`) with no person
        in common, computed for the same request; ``None`` stands for an empty part.

    Returns
    -------
    SparseCells or None
        Their sum (an associative, commutative operation: combine the parts in any tree).

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk.rates import combine_cells, part_cells
    >>> emp = pd.DataFrame({"employee_id": ["a", "b"], "unit_id": ["u1", "u2"], "fte": 1.0,
    ...                     "start_date": pd.to_datetime(["2020-01-01"] * 2),
    ...                     "end_date": pd.to_datetime(["2020-06-30", None])})
    >>> req = dict(measure="turnover", definition="separation", by=[], kind="year",
    ...            wanted=None, month_day=(12, 1), scope="unit", weight="headcount",
    ...            exclude_reasons=(), start="2020-01-01", end="2020-12-31", margins=False)
    >>> both = combine_cells(part_cells(emp.iloc[:1], req), part_cells(emp.iloc[1:], req))
    >>> both.frames[0]["k"]["n_persons"].tolist(), both.frames[0]["f"]["nS"].tolist()
    ([2], [1.0])
    """
    if a is None or b is None:
        return a if b is None else b
    if isinstance(a, tuple):  # (cell, person, amount) contributions: persons renumbered apart
        shift = int(a[1].max(initial=-1)) + 1
        return (np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1] + shift]),
                np.concatenate([a[2], b[2]]))  # fmt: skip
    if len(a.frames) != len(b.frames) or a.meta["labels"] != b.meta["labels"]:
        raise ValueError("the parts' cell statistics have different groupings or periods.")
    frames = []
    top = set(a.meta.get("max_cols", ()))  # the largest contribution: the larger of the two
    for fa, fb, by in zip(a.frames, b.frames, a.columns, strict=True):
        merged = {}
        for axis in fa:
            both = pd.concat([fa[axis], fb[axis]], ignore_index=True)
            grouped = both.groupby([*by, "_p"], dropna=False, sort=False, observed=True)
            how = {c: "max" if c in top else "sum" for c in both.columns if c not in (*by, "_p")}
            summed = grouped.agg(how) if top & set(how) else grouped.sum()
            merged[axis] = summed.reset_index()
        frames.append(merged)
    tallies = {k: a.tallies.get(k, 0) + b.tallies.get(k, 0) for k in {*a.tallies, *b.tallies}}
    return SparseCells(frames, a.columns, a.meta, a.window, tallies)


def dense_cells(sparse: SparseCells) -> Cells:
    """:class:`Cells` again: one group per distinct label row, arrays on the period grid."""
    sizes = {"k": sparse.meta["K"], "f": sparse.meta["F"], "s": sparse.meta["K"]}
    groupings = []
    for axes, by in zip(sparse.frames, sparse.columns, strict=True):
        parts = [f.assign(_axis=axis) for axis, f in axes.items()]
        rows = pd.concat(parts, ignore_index=True)
        if by:
            gid = rows.groupby(by, dropna=False, sort=False, observed=True).ngroup().to_numpy()
            first = np.unique(gid, return_index=True)[1]
            table = rows[by].iloc[first].reset_index(drop=True)
        else:
            gid = np.zeros(len(rows), dtype=np.int64)
            table = pd.DataFrame(index=range(1))
        G = len(table)
        st = {}
        for axis, f in axes.items():
            n = sizes[axis]
            pick = np.flatnonzero(rows["_axis"].to_numpy() == axis)
            at = gid[pick] * n + rows["_p"].to_numpy()[pick]
            for c in f.columns:
                if c in by or c == "_p":
                    continue
                values = f[c].to_numpy()
                arr = np.zeros(G * n, dtype=values.dtype)
                arr[at] = values
                st[c] = arr
        groupings.append((table, st))
    return Cells(groupings, sparse.meta, sparse.window, dict(sparse.tallies))
