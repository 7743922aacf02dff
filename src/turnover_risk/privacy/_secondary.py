"""Secondary suppression over linked relations (private): hide partners until no hidden cell
follows from the shown ones.

:func:`_extend` works in place on a mask over the cells of several linked tables, related by
``parent = sum of children``. Only *free* cells may be hidden. Used by
:class:`~turnover_risk.privacy.LinkedSuppressor`.
"""

from __future__ import annotations

import numpy as np

from turnover_risk.privacy._audit import _derivable

__all__: list[str] = []


def _extend(
    relations: list[np.ndarray], mask: np.ndarray, size: np.ndarray, free: np.ndarray
) -> None:
    """Secondary suppression in place: only ``free`` rows may be hidden.

    A relation with a single child is an equality (the child *is* its parent): the two are
    hidden together, and a row whose twin may not be hidden is never hidden. Partners are the
    smallest shown rows, rows with a twin last (hiding them costs two cells).
    """
    if not relations:
        return
    twins = [(int(r[0]), int(r[1])) for r in relations if len(r) == 2]
    locked = np.zeros(len(mask), dtype=bool)
    has_twin = np.zeros(len(mask), dtype=bool)
    for p, c in twins:
        has_twin[[p, c]] = True
        locked[c] |= not free[p] and not mask[p]
        locked[p] |= not free[c] and not mask[c]
    eligible = free & ~locked
    cost = size + has_twin * (size.max(initial=0.0) + 1.0)
    while True:
        changed = True
        while changed:
            changed = False
            for p, c in twins:
                if mask[p] != mask[c]:
                    other = c if mask[p] else p
                    if eligible[other]:
                        mask[other] = True
                        changed = True
            for r in relations:
                if mask[r].sum() != 1:
                    continue
                cand = r[1:][eligible[r[1:]] & ~mask[r[1:]]]
                if len(cand) == 0:
                    continue
                mask[cand[np.argmin(cost[cand])]] = True
                changed = True
        found = _derivable(relations, mask)
        if len(found) == 0:
            return
        if _hide_partner(relations, mask, cost, eligible, found):
            continue
        # no shown partner beside a derivable cell: the shown cells that pin it down are
        # further away; hide the smallest eligible shown cell of any relation reached from it
        # through hidden cells, else every eligible cell
        reached = _reached(relations, mask, found)
        cand = reached[eligible[reached] & ~mask[reached]]
        if len(cand):
            mask[cand[np.argmin(cost[cand])]] = True
            continue
        rest = np.flatnonzero(eligible & ~mask)
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
