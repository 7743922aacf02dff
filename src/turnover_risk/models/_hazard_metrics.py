"""Time-dependent metrics of risks under censoring (private; used by ``evaluate``).

Each scored row has an observed time ``X`` in whole months from its month (the month of the
exit, 1 = the row's own month; or the months fully observed when the stay is still running)
and a status: the index of its exit cause, or -1 when censored. For a horizon ``t`` and a
cause ``k``, with ``G`` the Kaplan-Meier estimate of the censoring distribution (the
"reverse" Kaplan-Meier, :func:`censoring_survival`):

* cases are the rows that left for ``k`` by ``t`` (``X <= t``), weight ``1 / G(X - 1)``
  (``G(s)``: the chance of being followed at least ``s`` full months);
* controls are the rows still in scope after ``t`` (an exit after ``t`` or followed at least
  ``t`` months), weight ``1 / G(t)``, and the rows that left for another cause by ``t`` (they
  can no longer leave for ``k``), weight ``1 / G(X - 1)``;
* rows censored by ``t`` have weight 0: they are represented by the weights of the others.

:func:`brier_score` is Graf et al. (1999)'s inverse-probability-of-censoring weighted Brier
score ``sum_i w_i (y_i - F_k(t | x_i))^2 / n`` (Schoop et al. 2011 for competing risks) and
:func:`auc` the weighted cumulative/dynamic AUC (Uno et al. 2007; Blanche et al. 2013,
controls of their "definition 2"). :func:`aalen_johansen` is the discrete-time Kaplan-Meier
(Aalen-Johansen for one cause among several) baseline that predicts the same curve for all.
"""

from __future__ import annotations

import numpy as np

TAIL_MONTHS = 6
"""Months at the end of the follow-up whose hazard the Kaplan-Meier baseline extrapolates."""


def censoring_survival(time: np.ndarray, status: np.ndarray, upto: int) -> np.ndarray:
    """``G[s] = P(C >= s)``, the chance that a row is followed for at least ``s`` full months,
    for ``s = 0..upto``: the reverse Kaplan-Meier.

    A row censored after ``C`` full months is censored at ``C + 1/2`` (the data end inside the
    next month), an exit in month ``T`` happens at ``T - 1/2``; at a tie the exit comes first.
    So the rows at risk of censoring at ``u + 1/2`` are those censored at ``C >= u`` and those
    exiting in a month ``T >= u + 2``, and ``G[s] = prod_{u < s} (1 - c(u) / n(u))``.
    """
    time = np.clip(np.asarray(time, dtype=np.int64), 0, upto + 2)
    status = np.asarray(status)
    cens = np.bincount(time[status < 0], minlength=upto + 3)
    ev = np.bincount(time[status >= 0], minlength=upto + 3)
    cens_from = np.cumsum(cens[::-1])[::-1]  # censored with C >= u
    ev_from = np.cumsum(ev[::-1])[::-1]  # exits with T >= u
    n = cens_from[: upto + 1] + ev_from[2 : upto + 3]
    step = np.where(n > 0, 1.0 - cens[: upto + 1] / np.maximum(n, 1), 1.0)
    return np.concatenate([[1.0], np.cumprod(step)[:upto]])


def ipcw_weights(
    time: np.ndarray, status: np.ndarray, t: int, G: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(weight, left by t, still in scope after t)`` per row for horizon ``t``.

    An exit in month ``T <= t`` weighs ``1 / G[T - 1]`` (it is seen when the data reach into
    month ``T``), a row in scope after ``t`` (an exit after ``t``, or followed ``C >= t``
    months) ``1 / G[t]``; rows censored before ``t`` weigh 0. ``G`` from
    :func:`censoring_survival` with ``upto >= t``.
    """
    time = np.asarray(time, dtype=np.int64)
    exited = status >= 0
    left = exited & (time <= t)
    after = (exited & (time > t)) | (~exited & (time >= t))
    w = np.zeros(len(time))
    g_left = G[np.clip(time[left] - 1, 0, len(G) - 1)]
    w[left] = np.where(g_left > 0, 1.0 / np.maximum(g_left, 1e-300), 0.0)
    w[after] = 1.0 / G[t] if G[t] > 0 else 0.0
    return w, left, after


def brier_score(
    risk: np.ndarray, time: np.ndarray, status: np.ndarray, t: int, cause: int | None, G
) -> float:
    """IPCW Brier score of the risks of leaving for ``cause`` (None: for any cause) by ``t``.

    Examples
    --------
    Four rows, no censoring before month 3: the plain mean squared error.

    >>> import numpy as np
    >>> time, status = np.array([1, 2, 5, 6]), np.array([0, 0, -1, -1])
    >>> G = censoring_survival(time, status, 6)
    >>> brier_score(np.array([0.5, 0.5, 0.5, 0.5]), time, status, 3, 0, G)
    0.25
    """
    w, left, _ = ipcw_weights(time, status, t, G)
    y = left & (status == cause) if cause is not None else left
    risk = np.asarray(risk, dtype=float)
    return float(np.sum(w * (y - risk) ** 2) / len(risk)) if len(risk) else float("nan")


def auc(
    risk: np.ndarray, time: np.ndarray, status: np.ndarray, t: int, cause: int | None, G
) -> float:
    """IPCW cumulative/dynamic AUC at ``t``: the weighted share of (case, control) pairs whose
    risks are in the right order (ties count one half). NaN without cases or controls."""
    w, left, _ = ipcw_weights(time, status, t, G)
    case = left & (status == cause) if cause is not None else left
    control = ~case & (w > 0)
    wc = w * case
    if wc.sum() <= 0 or (w * control).sum() <= 0:
        return float("nan")
    values, inv = np.unique(np.asarray(risk, dtype=float), return_inverse=True)
    ctrl = np.bincount(inv, weights=w * control, minlength=len(values))
    below = np.cumsum(ctrl) - ctrl
    num = np.sum(wc * (below[inv] + 0.5 * ctrl[inv]))
    return float(num / (wc.sum() * ctrl.sum()))


def observed_risk(time: np.ndarray, status: np.ndarray, t: int, cause: int | None, G) -> float:
    """IPCW estimate of the share who left (for ``cause``) by ``t``: ``sum_i w_i y_i / n``."""
    w, left, _ = ipcw_weights(time, status, t, G)
    y = left & (status == cause) if cause is not None else left
    return float(np.sum(w * y) / len(w)) if len(w) else float("nan")


def aalen_johansen(time: np.ndarray, status: np.ndarray, n_causes: int, upto: int) -> np.ndarray:
    """Discrete-time cumulative incidence ``F[t - 1, k]`` of each cause for ``t = 1..upto``.

    A row is at risk in month ``u`` when ``X >= u`` (a row censored after ``C`` full months is
    at risk in months ``1..C``); ``S(u) = S(u - 1) (1 - d(u) / n(u))`` and ``F_k(t) = sum_{u
    <= t} S(u - 1) d_k(u) / n(u)``. With one cause it is ``1 -`` Kaplan-Meier. Past the last
    month with anyone at risk (a short training window) each cause goes on with its monthly
    hazard over the last :data:`TAIL_MONTHS` months observed (``sum d_k / sum n`` over them),
    so the curve is extrapolated with the latest hazard rather than held flat.

    Examples
    --------
    >>> import numpy as np
    >>> aalen_johansen(np.array([1, 2, 2, 3]), np.array([0, 1, -1, -1]), 2, 2).round(3).tolist()
    [[0.25, 0.0], [0.25, 0.25]]
    """
    time = np.clip(np.asarray(time, dtype=np.int64), 0, None)
    status = np.asarray(status)
    last = int(time.max(initial=0))
    n_months = max(last, upto)
    at_risk = np.cumsum(np.bincount(time, minlength=n_months + 1)[::-1])[::-1][1:]
    d = np.zeros((n_months, n_causes))
    ev = (status >= 0) & (time >= 1)
    np.add.at(d, (time[ev] - 1, status[ev].astype(np.int64)), 1.0)
    seen = slice(max(0, last - TAIL_MONTHS), last)  # the last months with anyone at risk
    tail = d[seen].sum(axis=0) / max(int(at_risk[seen].sum()), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk[:, None] > 0, d / np.maximum(at_risk, 1)[:, None], tail[None, :])[
            :upto
        ]
    surv_before = np.concatenate([[1.0], np.cumprod(1.0 - hazard.sum(axis=1))[:-1]])
    return np.cumsum(surv_before[:, None] * hazard, axis=0)
