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
The pattern of a grain is computed from its own cells and the patterns of its coarser grains
(its *ancestors*), coarsest first, and never from the request: so a cell is hidden or shown the
same way whichever table it appears in. At each grain:

1. **primary** suppression: cells under ``min_group_size`` persons, and cells a rule of the
   caller marks sensitive (the dominance rule of sick leave);
2. **secondary** suppression over the linked table (the grain and all its ancestors, related by
   ``parent = sum of children`` one level apart in one dimension): a relation with exactly one
   hidden cell gets a second one (the smallest shown cell of the grain that is not the only
   child of a shown parent), and an exact linear-algebra audit
   (:func:`~turnover_risk.privacy._suppression.derivable_cells`' method) hides more until no
   hidden cell - of the grain or of an ancestor - is determined by the shown ones.

Ancestor cells are never changed by a finer grain; only the grain's own cells are added. Because
every primary rule is monotone (a parent has at least the persons of each child, and its largest
contributor's share is at most the largest child share), a grain without primary hits has no
hidden ancestor either, and the layer costs nothing there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product

import numpy as np
import pandas as pd

from turnover_risk.privacy._audit import _derivable

__all__ = ["ORG_CHAIN", "TIME_LEVELS", "Hierarchy", "LinkedSuppressor"]

ORG_CHAIN: tuple[str, ...] = ("unit_id", "municipality", "service")
"""Declared organisation levels, finest first."""

TIME_LEVELS: tuple[str, ...] = ("month", "quarter", "year")
"""Declared period kinds, finest first."""

_T = "\x00total"  # internal marker of an aggregated key (never a real value)


@dataclass(frozen=True)
class Hierarchy:
    """The declared hierarchies of one register.

    Parameters
    ----------
    chain : tuple of str
        Organisation columns that nest, finest first (a prefix of :data:`ORG_CHAIN` the data
        supports).
    parents : DataFrame
        One row per finest-level value with the coarser levels' values (as strings).
    totals : mapping
        Extra columns with a total value of their own, e.g. ``{"certification": "all"}``.
    """

    chain: tuple[str, ...] = ()
    parents: pd.DataFrame = field(default_factory=pd.DataFrame)
    totals: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_units(
        cls, units: pd.DataFrame | None, *, totals: Mapping[str, str] | None = None
    ) -> Hierarchy:
        """Read the organisation chain from a units table (``unit_id``, ``municipality``,
        ``service``), keeping only the levels that nest.

        Examples
        --------
        >>> u = pd.DataFrame({"unit_id": ["a", "b", "c"], "municipality": ["m", "m", "n"],
        ...                   "service": ["s", "s", "s"]})
        >>> Hierarchy.from_units(u).chain
        ('unit_id', 'municipality', 'service')
        """
        totals = dict(totals or {})
        if units is None or "unit_id" not in getattr(units, "columns", ()):
            return cls(("unit_id",), pd.DataFrame({"unit_id": pd.Series(dtype="string")}), totals)
        chain = ["unit_id"]
        frame = units.drop_duplicates("unit_id")
        for col in ORG_CHAIN[1:]:
            if col not in frame.columns or frame[col].isna().any():
                break
            finer = chain[-1]
            if frame.groupby(finer, observed=True)[col].nunique().max() > 1:
                break
            chain.append(col)
        parents = frame[chain].astype("string").reset_index(drop=True)
        return cls(tuple(chain), parents, totals)


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
    ) -> None:
        self.compute = compute
        self.hierarchy = hierarchy
        self.primary = primary
        self.count_col = count_col
        self.by = list(by)
        self.kind = kind
        self.fixed = [c for c in fixed if c not in self.by]
        self.dims = self._dims()
        self._cells: dict[tuple[int, ...], pd.DataFrame] = {}
        self._masks: dict[tuple[int, ...], np.ndarray] = {}

    # ---------------------------------------------------------------- lattice
    def _dims(self) -> list[_Dim]:
        h = self.hierarchy
        dims = []
        org = [c for c in h.chain if c in self.by]
        if org:
            finest = h.chain.index(org[0])
            dims.append(_Dim("org", [*h.chain[finest:], None], list(h.chain)))
        for c in self.by:
            if c in h.chain:
                continue
            if c in h.totals:  # its total is a value of its own, in the same cells
                dims.append(_Dim("extra", [c], [c]))
            else:
                dims.append(_Dim("cat", [c, None], [c]))
        for c in self.fixed:  # never aggregated: every grain keeps it (e.g. a score date)
            dims.append(_Dim("fixed", [c], [c]))
        if self.kind is not None:
            first = TIME_LEVELS.index(self.kind)
            dims.append(_Dim("time", list(TIME_LEVELS[first:]), ["_year", "_quarter", "_month"]))
        return dims

    def grain_requests(self) -> list[tuple[list[str], str | None]]:
        """``(by, kind)`` of the request's grain and of each of its ancestors."""
        return [self._grain_args(g) for g in [self.requested, *self.ancestors(self.requested)]]

    @property
    def requested(self) -> tuple[int, ...]:
        """The grain of the request (level 0 in every dimension)."""
        return tuple(0 for _ in self.dims)

    def ancestors(self, grain: tuple[int, ...]) -> list[tuple[int, ...]]:
        """The strictly coarser grains, coarsest first."""
        ranges = [range(g, len(d.levels)) for g, d in zip(grain, self.dims, strict=True)]
        out = [g for g in product(*ranges) if g != tuple(grain)]
        return sorted(out, key=lambda g: -sum(g))

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
            table = self.compute(by, kind).reset_index(drop=True)
            keys = self.keys(table, grain)
            self._cells[grain] = pd.concat([table, keys], axis=1)
        return self._cells[grain]

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
        if grain in self._masks:
            return self._masks[grain]
        cells = self.cells(grain)
        own = np.asarray(self.primary(cells), dtype=bool)
        if own.any():
            for a in self.ancestors(grain):  # fix the coarser patterns first
                self.mask(a)
            own = self._secondary(grain, own)
        self._masks[grain] = own
        return own

    def _secondary(self, grain: tuple[int, ...], own: np.ndarray) -> np.ndarray:
        grains = [*self.ancestors(grain), grain]
        frames, masks, sizes, is_own = [], [], [], []
        for g in grains:
            c = self.cells(g)
            frames.append(c[self._key_columns()])
            masks.append(self._masks[g] if g != grain else own)
            sizes.append(c[self.count_col].fillna(0).to_numpy(dtype=float))
            is_own.append(np.full(len(c), g == grain))
        keys = pd.concat(frames, ignore_index=True)
        mask = np.concatenate(masks).copy()
        size = np.concatenate(sizes)
        free = np.concatenate(is_own)
        relations = self._relations(keys)
        _extend(relations, mask, size, free)
        return mask[free]

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
        arr = keys.to_numpy(dtype=object)
        index = {tuple(r): i for i, r in enumerate(arr)}
        rel: dict[tuple[int, int], list[int]] = {}
        groups = self._dim_columns(cols)
        for di, dcols in enumerate(groups):
            for i, row in enumerate(arr):
                real = [j for j in dcols if row[j] != _T]
                if not real:
                    continue
                parent = list(row)
                parent[real[0]] = _T
                p = index.get(tuple(parent))
                if p is not None:
                    rel.setdefault((di, p), []).append(i)
        return [np.array([p, *ch], dtype=np.int64) for (_, p), ch in rel.items()]

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
        is_total = {
            c: table[c].astype("string").eq(total_label).fillna(False).to_numpy() for c in self.by
        }
        pattern = np.zeros(len(table), dtype=np.int64)
        for i, c in enumerate(self.by):
            pattern |= is_total[c].astype(np.int64) << i
        for code in np.unique(pattern):
            rows = np.flatnonzero(pattern == code)
            present = [c for i, c in enumerate(self.by) if not (code >> i) & 1]
            grain = self.grain_of(present, self.kind)
            cells = self.cells(grain)
            mask = self.mask(grain)
            keys = self.keys(table.iloc[rows].reset_index(drop=True), grain)
            key_cols = self._key_columns()
            right = cells[key_cols].assign(_hidden=mask)
            merged = keys.merge(right, on=key_cols, how="left")
            out[rows] = merged["_hidden"].fillna(True).to_numpy(dtype=bool)
        return out


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


def _extend(
    relations: list[np.ndarray], mask: np.ndarray, size: np.ndarray, free: np.ndarray
) -> None:
    """Secondary suppression in place: only ``free`` rows may be hidden."""
    if not relations:
        return
    # a free row that is the only child of a shown parent equals that parent: never a partner
    pinned = np.zeros(len(mask), dtype=bool)
    for r in relations:
        if len(r) == 2 and not mask[r[0]]:
            pinned[r[1]] = True
    eligible = free & ~pinned
    while True:
        changed = True
        while changed:
            changed = False
            for r in relations:
                if mask[r].sum() != 1:
                    continue
                cand = r[1:][eligible[r[1:]] & ~mask[r[1:]]]
                if len(cand) == 0:
                    continue
                mask[cand[np.argmin(size[cand])]] = True
                changed = True
        found = _derivable(relations, mask)
        if len(found) == 0:
            return
        if _hide_partner(relations, mask, size, eligible, found):
            continue
        # no shown partner beside a derivable cell: the shown cells that pin it down are
        # further away; hide the smallest free shown cell of any relation reached from it
        # through hidden cells (pinned ones last), else every free cell
        reached = _reached(relations, mask, found)
        for pool in (eligible, free):
            cand = reached[pool[reached] & ~mask[reached]]
            if len(cand):
                mask[cand[np.argmin(size[cand])]] = True
                break
        else:
            rest = np.flatnonzero(free & ~mask)
            if len(rest) == 0:
                return
            mask[rest] = True


def _reached(relations: list[np.ndarray], mask: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Rows of the relations reachable from ``start`` through hidden rows."""
    by_row: dict[int, list[int]] = {}
    for i, r in enumerate(relations):
        for j in r.tolist():
            by_row.setdefault(j, []).append(i)
    seen_rel: set[int] = set()
    seen_row = {int(j) for j in start}
    todo = list(seen_row)
    while todo:
        j = todo.pop()
        for i in by_row.get(j, ()):
            if i in seen_rel:
                continue
            seen_rel.add(i)
            for k in relations[i].tolist():
                if k not in seen_row and mask[k]:
                    seen_row.add(k)
                    todo.append(k)
    rows = {k for i in seen_rel for k in relations[i].tolist()}
    return np.array(sorted(rows), dtype=np.int64)


def _hide_partner(
    relations: list[np.ndarray],
    mask: np.ndarray,
    size: np.ndarray,
    eligible: np.ndarray,
    found: np.ndarray,
) -> bool:
    """Hide, for each derivable cell, the smallest eligible shown cell sharing a relation with
    it (one audit round fixes many cells); False when none could be hidden."""
    targets = {int(j) for j in found}
    best: dict[int, int] = {}
    for r in relations:
        hit = targets.intersection(r.tolist())
        if not hit:
            continue
        cand = r[eligible[r] & ~mask[r]]
        if len(cand) == 0:
            continue
        j = int(cand[np.argmin(size[cand])])
        for t in hit:
            if t not in best or size[j] < size[best[t]]:
                best[t] = j
    if not best:
        return False
    mask[list(set(best.values()))] = True
    return True
