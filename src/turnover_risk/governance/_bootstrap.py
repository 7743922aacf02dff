"""Group metrics of risks against outcomes, and their bootstrap over persons.

A panel holds person-months: one person's months share the person, so resampling rows would
treat them as independent and give intervals that are too narrow. The bootstrap here draws
*persons* with replacement (multinomial counts ``w``), and every row of a drawn person enters
with its person's count as weight. All metrics are weighted sums, so a replicate is a matrix
product: per-person sums (persons x statistics) times the replicate weights (replicates x
persons); the AUC uses per-person counts at each distinct risk (sparse), in blocks of
replicates to bound memory.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

__all__ = ["METRICS", "group_metrics", "metric_functions", "person_weights", "replicates"]

METRICS = ("observed_rate", "mean_risk", "oe", "auc", "flagged_share", "tpr", "fpr")
"""Metrics per group: observed rate, mean predicted risk, observed/expected, ROC-AUC, share
flagged, true and false positive rates at the flag threshold."""
_BLOCK = 50


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def _from_sums(s: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics (but AUC) from sums ``[n, y, p, f, f*y, 1-y, f*(1-y)]`` (last axis)."""
    n, y, p, f, fy, neg, fneg = np.moveaxis(s, -1, 0)
    return {
        "observed_rate": _ratio(y, n),
        "mean_risk": _ratio(p, n),
        "oe": _ratio(y, p),
        "flagged_share": _ratio(f, n),
        "tpr": _ratio(fy, y),
        "fpr": _ratio(fneg, neg),
    }


def _row_stats(y: np.ndarray, p: np.ndarray, flag: np.ndarray) -> np.ndarray:
    f = flag.astype(float)
    return np.column_stack([np.ones_like(p), y, p, f, f * y, 1 - y, f * (1 - y)])


def _auc_from_counts(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC from (weighted) positives and negatives per distinct risk, risks ascending."""
    below = np.cumsum(neg, axis=-1) - neg
    num = np.sum(pos * (below + 0.5 * neg), axis=-1)
    return _ratio(num, pos.sum(axis=-1) * neg.sum(axis=-1))


def group_metrics(y: np.ndarray, p: np.ndarray, flag: np.ndarray) -> dict[str, float]:
    """The point estimates of :data:`METRICS` for one set of rows.

    Examples
    --------
    >>> m = group_metrics(np.array([0, 1, 0, 1.0]), np.array([0.1, 0.8, 0.3, 0.2]),
    ...                   np.array([False, True, False, False]))
    >>> m["auc"], m["oe"], m["tpr"], m["fpr"]
    (0.75, 1.4285714285714286, 0.5, 0.0)
    """
    out = {k: float(v) for k, v in _from_sums(_row_stats(y, p, flag).sum(axis=0)).items()}
    levels, inv = np.unique(p, return_inverse=True)
    pos = np.bincount(inv, weights=y, minlength=len(levels))
    neg = np.bincount(inv, weights=1 - y, minlength=len(levels))
    out["auc"] = float(_auc_from_counts(pos, neg))
    return {k: out[k] for k in METRICS}


def metric_functions(threshold: float) -> dict[str, Callable]:
    """``metric(y_true, y_pred)`` callables for fairlearn's ``MetricFrame`` (``y_pred``: risk)."""

    def make(name: str) -> Callable:
        def fn(y_true, y_pred) -> float:
            p = np.asarray(y_pred, dtype=float)
            return group_metrics(np.asarray(y_true, dtype=float), p, p >= threshold)[name]

        fn.__name__ = name
        return fn

    return {m: make(m) for m in METRICS}


def person_weights(
    n_persons: int,
    n_boot: int,
    rng: np.random.Generator,
    clusters: np.ndarray | None = None,
) -> np.ndarray:
    """``n_boot x n_persons``: how often each person is drawn.

    Without ``clusters``, persons are drawn (multinomial counts). With ``clusters`` (a cluster
    code per person, e.g. their unit), clusters are drawn and every person of a drawn cluster
    gets its count.
    """
    if clusters is None:
        p = np.full(n_persons, 1 / n_persons)
        return rng.multinomial(n_persons, p, size=n_boot).astype(float)
    n = int(clusters.max()) + 1
    counts = rng.multinomial(n, np.full(n, 1 / n), size=n_boot).astype(float)
    return counts[:, clusters]


def replicates(
    rows: np.ndarray,
    person: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    flag: np.ndarray,
    weights: np.ndarray,
) -> dict[str, np.ndarray]:
    """Each metric in every bootstrap replicate for the rows ``rows`` (an index array).

    ``person`` holds the person code (0 .. n_persons - 1) of every row of the panel and
    ``weights`` the replicates' person counts (:func:`person_weights`).
    """
    n_persons = weights.shape[1]
    pr = person[rows]
    stats = _row_stats(y[rows], p[rows], flag[rows])
    per_person = np.zeros((n_persons, stats.shape[1]))
    np.add.at(per_person, pr, stats)
    out = _from_sums(weights @ per_person)
    levels, inv = np.unique(p[rows], return_inverse=True)
    yr = y[rows]
    shape = (n_persons, len(levels))
    pos_m = sp.csr_matrix((yr, (pr, inv)), shape=shape)
    neg_m = sp.csr_matrix((1 - yr, (pr, inv)), shape=shape)
    auc = np.empty(weights.shape[0])
    for start in range(0, weights.shape[0], _BLOCK):
        w = weights[start : start + _BLOCK]
        pos = np.asarray((pos_m.T @ w.T).T)
        neg = np.asarray((neg_m.T @ w.T).T)
        auc[start : start + _BLOCK] = _auc_from_counts(pos, neg)
    out["auc"] = auc
    return {k: out[k] for k in METRICS}
