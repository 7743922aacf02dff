"""The exact audit: which hidden cells a set of additive relations determines (private).

Relations ``total = sum(members)`` over the cells of one or several tables; the shown cells are
known. :func:`_derivable` returns the hidden cells whose value follows exactly from them - by any
combination of additions and subtractions, not only one subtraction. Used by the secondary
suppression of :mod:`~turnover_risk.privacy._suppression` and :mod:`~turnover_risk.privacy._linked`.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


def _derivable(constraints: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """Hidden rows whose value the relations determine exactly, given every visible row.

    The relations ``total - sum(members) = 0`` form ``A x = 0``; with the visible values
    known, the hidden ones solve ``A_H x_H = -A_V x_V``. Hidden row ``j`` is determined iff
    the unit vector ``e_j`` lies in the row space of ``A_H``, i.e. iff the projection of
    ``e_j`` on the null space of ``A_H`` is zero. Relations split into independent blocks
    (connected through shared hidden rows): a block of up to :data:`_DENSE_BLOCK` hidden rows
    gets one SVD (row ``j`` of a null-space basis is zero); the larger blocks together get a
    sparse least-squares projection of two random vectors on the null space (LSQR): a
    determined row projects to zero for every vector, an undetermined one almost surely not.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    hidden_pos = np.flatnonzero(mask)
    if len(hidden_pos) == 0:
        return hidden_pos
    col_of = np.full(len(mask), -1, dtype=np.int64)
    col_of[hidden_pos] = np.arange(len(hidden_pos))
    rows_i, cols_j, vals = [], [], []
    n_rel = 0
    for r in constraints:
        h = mask[r]
        if not h.any():
            continue
        rows_i.append(np.full(int(h.sum()), n_rel))
        cols_j.append(col_of[r[h]])
        vals.append(np.where(r[h] == r[0], 1.0, -1.0))
        n_rel += 1
    if not n_rel:
        return np.zeros(0, dtype=np.int64)
    ri, cj, v = np.concatenate(rows_i), np.concatenate(cols_j), np.concatenate(vals)
    n = len(hidden_pos)
    A = sparse.csr_matrix((v, (ri, cj)), shape=(n_rel, n))
    # blocks: hidden rows linked through a relation (bipartite graph relations x hidden rows)
    link = sparse.csr_matrix((np.ones(len(ri)), (ri, cj)), shape=(n_rel, n))
    graph = sparse.bmat([[None, link], [link.T, None]]).tocsr()
    _, comp = connected_components(graph, directed=False)
    rel_comp, col_comp = comp[:n_rel], comp[n_rel:]
    out = []
    big_cols: list[np.ndarray] = []
    big_rels: list[np.ndarray] = []
    order_c, start_c, local_c = _by_block(col_comp)
    order_r, start_r, local_r = _by_block(rel_comp)
    order_t, start_t, _ = _by_block(col_comp[cj])
    for label in np.unique(col_comp[cj]):
        cols = order_c[start_c[label] : start_c[label + 1]]
        rels = order_r[start_r[label] : start_r[label + 1]]
        if len(cols) > _DENSE_BLOCK:
            big_cols.append(cols)
            big_rels.append(rels)
            continue
        t = order_t[start_t[label] : start_t[label + 1]]
        block = np.zeros((len(rels), len(cols)))
        block[local_r[ri[t]], local_c[cj[t]]] = v[t]
        _, sv, vt = np.linalg.svd(block, full_matrices=True)
        rank = int((sv > 1e-9 * max(1.0, sv[0] if len(sv) else 1.0)).sum())
        null = vt[rank:]
        determined = np.abs(null).max(axis=0, initial=0.0) < 1e-9
        out.append(hidden_pos[cols[determined]])
    if big_cols:
        cols = np.concatenate(big_cols)
        rels = np.concatenate(big_rels)
        out.append(hidden_pos[cols[_determined_sparse(A[rels][:, cols])]])
    return np.sort(np.concatenate(out)) if out else np.zeros(0, dtype=np.int64)


_DENSE_BLOCK = 400
"""Largest block (hidden rows) audited with a dense SVD; larger ones use LSQR."""


def _by_block(label: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items grouped by block label: their order, each label's first position in it (labels
    ``0 .. max``, one past the end last) and each item's position within its block."""
    order = np.argsort(label, kind="stable")
    n_labels = int(label.max(initial=-1)) + 1
    start = np.searchsorted(label[order], np.arange(n_labels + 1))
    local = np.empty(len(label), dtype=np.int64)
    local[order] = np.arange(len(label)) - start[label[order]]
    return order, start, local


def _determined_sparse(A: object) -> np.ndarray:
    """Columns ``j`` of a sparse ``A`` whose unit vector lies in the row space of ``A``."""
    from scipy.sparse.linalg import lsqr

    n = A.shape[1]
    rng = np.random.default_rng(20240531)
    hit = np.ones(n, dtype=bool)
    for _ in range(2):
        x = rng.standard_normal(n)
        y = lsqr(A.T, x, atol=1e-14, btol=1e-14, iter_lim=20 * n + 1000)[0]
        z = x - A.T @ y  # the projection of x on the null space of A
        hit &= np.abs(z) < 1e-6
    return np.flatnonzero(hit)
