"""Linked-table suppression: one suppression pattern for every table the library can publish.

Suppression inside one table is not enough: a municipality's total minus its shown units gives
the hidden unit, a year minus its shown quarters the hidden quarter. This module decides which
cells to hide by looking at the *lattice* of tables a user can request from the same data:

* an **organisation chain**, finest first: ``unit_id`` within ``municipality`` within
  ``service`` within the whole register (levels the data cannot nest are treated as plain
  categories);
* **time**: months within quarters within years;
* **categories**: every other grouping column (``gender``, ``role`` ...) within its total, and
  extra dimensions with a total value of their own (``certification``: ``all`` = ``self`` +
  ``doctor``).

A *grain* is one choice of level per dimension (units by month, municipalities by year ...).
A grain is decided at a *stage*: the categories it keeps and its period level. The *cube* of a
stage is every grain keeping the same categories or fewer, at the same period level or a coarser
one, over the whole organisation chain, whatever the request. Stages are decided one after the
other (first those with one category fewer, and those with a coarser period), the earlier
stages' patterns fixed; so a grain's pattern depends on the data of its cube only and never on
the request: a cell is hidden or shown the same way whichever table it appears
in. In each cube:

1. **primary** suppression: cells under ``min_group_size`` persons, and cells a rule of the
   caller marks sensitive (the dominance rule of sick leave);
2. **secondary** suppression over the whole cube (related by ``parent = sum of children`` one
   level apart in one dimension; a single child is its parent and is hidden with it): a
   relation with exactly one hidden cell gets a second one (its smallest shown child), and an
   exact linear-algebra audit hides more until no hidden cell is determined by the shown ones
   (:mod:`~turnover_risk.privacy._secondary`).

Only cells of grains with a sensitive cell of their own are ever hidden. Because every primary
rule is monotone (a parent has at least the persons of each child, and its largest
contributor's share is at most the largest child share), a grain without primary hits has none
in any coarser grain either: it is shown whole, and the layer costs nothing there. Levels of
the chain that add nothing (one service; municipalities one-to-one with services) are merged
into the level they equal before the lattice is built (:attr:`Hierarchy.aliases`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd

from turnover_risk.privacy._bounds import aggregated_columns, bound_cells
from turnover_risk.privacy._hierarchy import ORG_CHAIN, Hierarchy
from turnover_risk.privacy._secondary import _extend

__all__ = ["ORG_CHAIN", "TIME_LEVELS", "Hierarchy", "LinkedSuppressor"]

TIME_LEVELS: tuple[str, ...] = ("month", "quarter", "year")
"""Declared period kinds, finest first."""

_T = "\x00total"  # internal marker of an aggregated key (never a real value)


@dataclass
class _Dim:
    """One dimension of the lattice: its levels (finest first; ``None`` is the total)."""

    kind: str  # "org", "time", "cat", "extra"
    levels: list[str | None]
    columns: list[str]  # key columns of the dimension


class LinkedSuppressor:
    """Suppression patterns of the grains of one request's lattice (cached per grain).

    Parameters
    ----------
    compute : callable
        ``compute(by, kind) -> DataFrame``: the unsuppressed cells of the same statistic grouped
        by the columns ``by`` and periods of ``kind`` (``None``: no period column), every period
        of the window, no margins. Must hold ``count_col`` and the columns ``primary`` reads.
    hierarchy : Hierarchy
        The declared organisation chain and extra totals.
    by : list of str
        The requested grouping columns.
    kind : str or None
        The requested period kind (``"month"``, ``"quarter"``, ``"year"``) or ``None``.
    primary : callable
        ``primary(table) -> ndarray of bool``: the cells that are sensitive in themselves.
    count_col : str
        Persons behind a cell (used to pick the smallest partner cell).
    fixed : sequence of str
        Columns every grain keeps (never aggregated), e.g. a score date.
    org : sequence of str, optional
        The organisation levels ``compute`` can group by (default: the whole chain).
    bounds : mapping, optional
        ``{column: "max" | "sum" | "top"}`` for every column ``primary`` reads: how a coarser cell's
        value is bounded by its children's (see :mod:`~turnover_risk.privacy._bounds`). With
        it, a grain the bounds clear is not computed; without it, every grain is.
    """

    def __init__(
        self,
        compute: Callable[[list[str], str | None], pd.DataFrame],
        hierarchy: Hierarchy,
        *,
        by: Sequence[str],
        kind: str | None,
        primary: Callable[[pd.DataFrame], np.ndarray],
        count_col: str = "n_persons",
        fixed: Sequence[str] = (),
        org: Sequence[str] | None = None,
        bounds: Mapping[str, str] | None = None,
    ) -> None:
        self.compute = compute
        self.hierarchy = hierarchy
        self.primary = primary
        self.count_col = count_col
        self.requested_by = list(by)
        aliased = (hierarchy.alias(c) for c in by)
        self.by = list(dict.fromkeys(c for c in aliased if c is not None))
        self.kind = kind
        self.fixed = [c for c in fixed if c not in self.by]
        self.org = list(hierarchy.chain if org is None else org)
        self.bounds = dict(bounds) if bounds is not None else None
        self._exact: set[tuple[int, ...]] = set()
        self.dims = self._dims()
        self._cells: dict[tuple[int, ...], pd.DataFrame] = {}
        self._masks: dict[tuple[int, ...], np.ndarray] = {}
        self._contributions: dict[tuple[int, ...], Callable[[], tuple[np.ndarray, ...]]] = {}

    # ---------------------------------------------------------------- lattice
    def _dims(self) -> list[_Dim]:
        h = self.hierarchy
        dims = []
        org = [c for c in h.chain if c in self.org]
        if org:  # the whole chain, whatever the request: every request sees the same cube
            dims.append(_Dim("org", [*org, None], list(h.chain)))
        for c in self.by:
            if c in org:
                continue
            if c in h.totals:  # its total is a value of its own, in the same cells
                dims.append(_Dim("extra", [c], [c]))
            else:
                dims.append(_Dim("cat", [c, None], [c]))
        for c in self.fixed:  # never aggregated: every grain keeps it (e.g. a score date)
            dims.append(_Dim("fixed", [c], [c]))
        if self.kind is not None:  # all period kinds, whatever the request
            dims.append(_Dim("time", list(TIME_LEVELS), ["_year", "_quarter", "_month"]))
        return dims

    def grain_requests(self) -> list[tuple[list[str], str | None]]:
        """``(by, kind)`` of every grain of the request's cube."""
        return [self._grain_args(g) for g in self._cube(self._stage(self.requested))]

    @property
    def requested(self) -> tuple[int, ...]:
        """The grain of the request."""
        return self.grain_of(self.by, self.kind)

    def _stage(self, grain: tuple[int, ...]) -> tuple[frozenset[int], int]:
        """When a grain is decided: the categories it keeps and its period level."""
        cats, time = set(), 0
        for i, (g, d) in enumerate(zip(grain, self.dims, strict=True)):
            if d.kind == "cat" and g == 0:
                cats.add(i)
            elif d.kind == "time":
                time = g
        return frozenset(cats), time

    def _cube(self, stage: tuple[frozenset[int], int]) -> list[tuple[int, ...]]:
        """Every grain decided at ``stage`` or before it: the categories kept a subset, the
        period level the same or coarser, any organisation level; coarsest first."""
        cats, time = stage
        ranges = []
        for i, d in enumerate(self.dims):
            if d.kind == "org" or (d.kind == "cat" and i in cats):
                ranges.append(range(len(d.levels)))
            elif d.kind == "time":
                ranges.append(range(time, len(d.levels)))
            else:
                ranges.append(range(1, 2) if d.kind == "cat" else range(1))
        return sorted(product(*ranges), key=lambda g: -sum(g))

    def grain_of(self, by: Sequence[str], kind: str | None) -> tuple[int, ...]:
        """The grain whose cells are grouped by ``by`` (a subset of the request's columns)."""
        out = []
        for d in self.dims:
            if d.kind == "time":
                out.append(d.levels.index(kind))
            elif d.kind == "org":
                present = [c for c in d.levels[:-1] if c in by]
                out.append(d.levels.index(present[0]) if present else len(d.levels) - 1)
            elif d.kind in ("extra", "fixed"):
                out.append(0)
            else:
                out.append(0 if d.levels[0] in by else 1)
        return tuple(out)

    def _grain_args(self, grain: tuple[int, ...]) -> tuple[list[str], str | None]:
        by: list[str] = []
        kind = None
        for g, d in zip(grain, self.dims, strict=True):
            level = d.levels[g]
            if d.kind == "time":
                kind = level
            elif level is not None and d.kind not in ("extra", "fixed"):
                by.append(level)
        return by, kind

    # ---------------------------------------------------------------- cells
    def cells(self, grain: tuple[int, ...]) -> pd.DataFrame:
        """The cells of a grain with the lattice key columns added (cached)."""
        if grain not in self._cells:
            by, kind = self._grain_args(grain)
            table = self._nonempty(self.compute(by, kind))
            keys = self.keys(table, grain)
            self._cells[grain] = pd.concat([table, keys], axis=1)
            self._exact.add(grain)
        return self._cells[grain]

    def _nonempty(self, table: pd.DataFrame) -> pd.DataFrame:
        """The cells with persons behind them. A cell without persons is a known zero (its
        row, if shown, gives nothing away), so it is no partner: a parent with one nonempty
        child equals that child."""
        keep = table[self.count_col].fillna(0).to_numpy(dtype=float) > 0
        return table[keep].reset_index(drop=True)

    def seed(
        self,
        table: pd.DataFrame,
        *,
        total_label: str,
        contributions: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """Take the exact cells of the request's grains from the requested table itself
        (every period of the window, margin rows holding ``total_label``).

        ``contributions``: a function returning ``(row, who, amount)``, each person's (integer
        codes) contribution to each row of ``table``; it makes the ``"top"`` bounds of coarser
        grains exact, and is called only when a bound needs it."""
        table = self._as_chain(table, total_label).reset_index(drop=True)
        for grain, rows in self._grains_of_rows(table, total_label):
            if grain in self._cells:
                continue
            counts = table[self.count_col].fillna(0).to_numpy(dtype=float)
            rows = rows[counts[rows] > 0]  # as _nonempty
            part = table.iloc[rows].reset_index(drop=True)
            cells = pd.concat([part, self.keys(part, grain)], axis=1)
            # rows of a level that adds nothing repeat the cells of the level it equals
            first = ~cells.duplicated(self._key_columns()).to_numpy()
            self._cells[grain] = cells[first].reset_index(drop=True)
            self._exact.add(grain)
            if contributions is not None:
                self._contributions[grain] = functools.cache(
                    functools.partial(_restrict, contributions, rows[first], len(table))
                )

    def _primary(self, grain: tuple[int, ...]) -> np.ndarray:
        """Sensitive cells of a grain; zeros without computing it when the bounds from an
        exact finer grain clear it."""
        if grain not in self._cells and self.bounds is not None:
            for fine in sorted(self._exact, key=lambda f: len(self._cells[f])):
                agg = aggregated_columns(self.dims, fine, grain, self.hierarchy.chain)
                if agg is None:
                    continue
                cells = bound_cells(self._cells[fine], self._key_columns(), agg, self.bounds,
                                    self._contributions.get(fine), self.primary)  # fmt: skip
                if not np.asarray(self.primary(cells), dtype=bool).any():
                    self._cells[grain] = cells
                    return np.zeros(len(cells), dtype=bool)
                break
        return np.asarray(self.primary(self.cells(grain)), dtype=bool)

    def keys(self, table: pd.DataFrame, grain: tuple[int, ...]) -> pd.DataFrame:
        """Lattice key columns (strings, :data:`_T` where aggregated) of a table at ``grain``."""
        n = len(table)
        out = {}
        h = self.hierarchy
        for g, d in zip(grain, self.dims, strict=True):
            level = d.levels[g]
            if d.kind == "org":
                k = h.chain.index(level) if level is not None else len(h.chain)
                if level is None:
                    for c in h.chain:
                        out["_o_" + c] = np.full(n, _T, dtype=object)
                    continue
                vals = table[level].astype("string").fillna("<NA>").to_numpy(dtype=object)
                parents = h.parents.drop_duplicates(level).set_index(level)
                for i, c in enumerate(h.chain):
                    if i < k:
                        out["_o_" + c] = np.full(n, _T, dtype=object)
                    elif i == k:
                        out["_o_" + c] = vals
                    else:
                        out["_o_" + c] = parents[c].reindex(vals).fillna(_T).to_numpy(dtype=object)
            elif d.kind == "time":
                out.update(_time_keys(table["period"].astype(str).to_numpy(), level))
            else:
                c = d.levels[0]
                if level is None:
                    out["_c_" + c] = np.full(n, _T, dtype=object)
                else:
                    vals = table[c].astype("string").fillna("<NA>").to_numpy(dtype=object)
                    if d.kind == "extra":
                        vals = np.where(vals == h.totals[c], _T, vals)
                    out["_c_" + c] = vals
        return pd.DataFrame(out, index=table.index)

    # ---------------------------------------------------------------- patterns
    def mask(self, grain: tuple[int, ...]) -> np.ndarray:
        """Hidden cells of ``grain`` (aligned with :meth:`cells`), computed once."""
        if grain not in self._masks:
            self._solve(self._stage(grain))
        return self._masks[grain]

    def _solve(self, stage: tuple[frozenset[int], int]) -> None:
        """Decide the grains of one stage (categories kept, period level) over their cube.

        The stages before it (one category fewer, or a coarser period) are decided first,
        recursively, and fixed; so a grain's pattern depends only on the data of its cube: the
        same in every request. Only cells of grains with a sensitive cell of their own may be
        hidden, so a grain without one is shown whole (and a request without one costs
        nothing).
        """
        cats, time = stage
        for i in cats:
            self._solve((cats - {i}, time))
        if any(d.kind == "time" for d in self.dims) and time + 1 < len(TIME_LEVELS):
            self._solve((cats, time + 1))
        cube = self._cube(stage)
        own = [g for g in cube if self._stage(g) == stage]
        if all(g in self._masks for g in own):
            return
        primary = {g: self._primary(g) for g in own}
        if not any(p.any() for p in primary.values()):
            self._masks.update(primary)
            return
        frames, masks, sizes, free = [], [], [], []
        for g in cube:
            c = self.cells(g)
            frames.append(c[self._key_columns()])
            masks.append(primary[g] if g in primary else self._masks[g])
            sizes.append(c[self.count_col].fillna(0).to_numpy(dtype=float))
            free.append(np.full(len(c), g in primary and bool(primary[g].any())))
        mask = np.concatenate(masks).copy()
        relations = self._relations(pd.concat(frames, ignore_index=True))
        _extend(relations, mask, np.concatenate(sizes), np.concatenate(free))
        start = 0
        for g, m in zip(cube, masks, strict=True):
            if g in primary:
                self._masks[g] = mask[start : start + len(m)]
            start += len(m)

    def _key_columns(self) -> list[str]:
        cols = []
        for d in self.dims:
            if d.kind == "org":
                cols += ["_o_" + c for c in self.hierarchy.chain]
            elif d.kind == "time":
                cols += list(d.columns)
            else:
                cols.append("_c_" + d.levels[0])
        return cols

    def _relations(self, keys: pd.DataFrame) -> list[np.ndarray]:
        """``[parent, child, child, ...]`` row positions, one relation per parent and
        dimension (a child's parent: the same key with the dimension's finest real level
        replaced by the total)."""
        cols = list(keys.columns)
        n = len(keys)
        codes = np.empty((n, len(cols)), dtype=np.int64)
        total = np.full(len(cols), -1, dtype=np.int64)  # each column's code of the total
        for k, c in enumerate(cols):
            codes[:, k], uniques = pd.factorize(keys[c].to_numpy(dtype=object))
            hit = np.flatnonzero(np.asarray(uniques, dtype=object) == _T)
            if len(hit):
                total[k] = hit[0]
        index = pd.MultiIndex.from_arrays(list(codes.T))
        out: list[np.ndarray] = []
        for dcols in self._dim_columns(cols):
            if not dcols:
                continue
            real = codes[:, dcols] != total[dcols]
            rows = np.flatnonzero(real.any(axis=1))
            if not len(rows) or (total[dcols] < 0).all():
                continue
            finest = np.asarray(dcols)[real[rows].argmax(axis=1)]  # first real level
            parent_codes = codes[rows].copy()
            parent_codes[np.arange(len(rows)), finest] = total[finest]
            parent_codes[total[finest] < 0] = -1  # no total in that column: no parent
            parents = index.get_indexer(pd.MultiIndex.from_arrays(list(parent_codes.T)))
            keep = parents >= 0
            child, parent = rows[keep], parents[keep]
            # one relation per parent, in the order of its first child; children in row order
            order = np.argsort(parent, kind="stable")
            bounds = np.flatnonzero(np.r_[True, parent[order][1:] != parent[order][:-1]])
            groups = np.split(child[order], bounds[1:])
            heads = parent[order][bounds]
            for g in np.argsort([grp[0] for grp in groups], kind="stable"):
                out.append(np.concatenate([[heads[g]], groups[g]]).astype(np.int64))
        return out

    def _dim_columns(self, cols: list[str]) -> list[list[int]]:
        """Positions of each dimension's key columns that have a total, finest first."""
        out = []
        for d in self.dims:
            if d.kind == "org":
                names = ["_o_" + c for c in self.hierarchy.chain]
            elif d.kind == "time":
                names = ["_month", "_quarter"]  # a year has no total above it
            elif d.kind == "fixed":
                names = []
            else:
                names = ["_c_" + d.levels[0]]
            out.append([cols.index(n) for n in names])
        return out

    # ---------------------------------------------------------------- output
    def apply(self, table: pd.DataFrame, *, total_label: str) -> np.ndarray:
        """The hidden rows of a requested table (cells of the request and its margin rows,
        whose grouping columns hold ``total_label``), looked up in the grains' patterns."""
        out = np.zeros(len(table), dtype=bool)
        if not len(table):
            return out
        table = self._as_chain(table, total_label)
        for grain, rows in self._grains_of_rows(table, total_label):
            mask = self.mask(grain)
            cells = self.cells(grain)
            keys = self.keys(table.iloc[rows].reset_index(drop=True), grain)
            key_cols = self._key_columns()
            right = cells[key_cols].assign(_hidden=mask)
            merged = keys.merge(right, on=key_cols, how="left")
            out[rows] = merged["_hidden"].fillna(True).to_numpy(dtype=bool)
        return out

    def _grains_of_rows(
        self, table: pd.DataFrame, total_label: str
    ) -> list[tuple[tuple[int, ...], np.ndarray]]:
        """The rows of a table (margin rows included) of each grain."""
        is_total = {
            c: table[c].astype("string").eq(total_label).fillna(False).to_numpy() for c in self.by
        }
        pattern = np.zeros(len(table), dtype=np.int64)
        for i, c in enumerate(self.by):
            pattern |= is_total[c].astype(np.int64) << i
        out = []
        for code in np.unique(pattern):
            present = [c for i, c in enumerate(self.by) if not (code >> i) & 1]
            out.append((self.grain_of(present, self.kind), np.flatnonzero(pattern == code)))
        return out

    def _as_chain(self, table: pd.DataFrame, total_label: str) -> pd.DataFrame:
        """The table with aliased grouping columns replaced by the level they equal."""
        h = self.hierarchy
        moved = {c: h.alias(c) for c in self.requested_by if h.alias(c) != c}
        if not moved:
            return table
        table = table.reset_index(drop=True)
        for c, target in moved.items():
            if target is None or target in table.columns:
                continue
            vals = table[c].astype("string")
            lookup = h.parents.drop_duplicates(c).set_index(c)[target]
            mapped = lookup.reindex(vals.fillna("<NA>").to_numpy()).to_numpy(dtype=object)
            table[target] = np.where(vals.eq(total_label).fillna(False), total_label, mapped)
        return table


def _restrict(
    contributions: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]], rows: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The contributions to the table rows ``rows``, their cell renumbered to the position
    in ``rows``."""
    row, who, amount = contributions()
    pos = np.full(n, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    cell = pos[row]
    keep = cell >= 0
    return cell[keep], who[keep], amount[keep]


def _time_keys(labels: np.ndarray, level: str) -> dict[str, np.ndarray]:
    year = np.array([s[:4] for s in labels], dtype=object)
    if level == "year":
        quarter = np.full(len(labels), _T, dtype=object)
        month = quarter.copy()
    elif level == "quarter":
        quarter = np.array([s[4:].lstrip("-") for s in labels], dtype=object)
        month = np.full(len(labels), _T, dtype=object)
    else:
        m = np.array([int(s[5:7]) for s in labels])
        quarter = np.array([f"Q{(x - 1) // 3 + 1}" for x in m], dtype=object)
        month = np.array([f"{x:02d}" for x in m], dtype=object)
    return {"_year": year, "_quarter": quarter, "_month": month}
