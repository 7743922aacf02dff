"""From monthly hazards to risks (private; used by :class:`~turnover_risk.HazardModel` and the
drivers of its flags).

:func:`cumulative_incidence` turns the monthly cause-specific hazards of a row into the
cumulative incidence of each cause (the causes competing); :func:`shift_log_hazard` moves one
cause's hazard by a constant on the complementary log-log scale (its log cumulative hazard),
which is what removing a feature's log-hazard contribution does to a cloglog model.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_horizon", "cumulative_incidence", "shift_log_hazard"]


def check_horizon(horizon: object) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon={horizon!r} must be a positive number of months.")
    return int(horizon)


def cumulative_incidence(hazards: np.ndarray) -> np.ndarray:
    """Cumulative incidence of each cause from monthly cause-specific hazards.

    ``hazards`` has shape ``(rows, months, causes)``; the result has the same shape, month
    ``j`` holding ``F_k(j + 1) = sum_{i <= j} S(i) h_k(i)`` with ``S(0) = 1`` and
    ``S(i + 1) = S(i) (1 - sum_k h_k(i))``. Where the hazards of a month add up to more than
    1 they are scaled to add up to 1 (everyone still in scope leaves that month).

    Examples
    --------
    >>> h = np.array([[[0.1, 0.2], [0.1, 0.2]]])  # one row, two months, two causes
    >>> cumulative_incidence(h)[0].round(3).tolist()  # S(1) = 0.7
    [[0.1, 0.2], [0.17, 0.34]]
    """
    n, months, causes = hazards.shape
    out = np.empty_like(hazards, dtype=float)
    surv = np.ones(n)
    cif = np.zeros((n, causes))
    for j in range(months):
        h = hazards[:, j, :]
        total = h.sum(axis=1)
        scale = np.where(total > 1, 1 / np.maximum(total, 1e-300), 1.0)
        cif += surv[:, None] * (h * scale[:, None])
        surv = surv * (1 - np.minimum(total, 1.0))
        out[:, j] = cif
    return out


def shift_log_hazard(hazard: np.ndarray, shift: float | np.ndarray) -> np.ndarray:
    """Monthly hazards ``h`` with ``shift`` added to their complementary log-log.

    ``1 - exp(-exp(cll(h) + shift)) = 1 - (1 - h) ** exp(shift)``: for a cloglog model, the
    hazard when the linear predictor (the log of the monthly cumulative hazard) moves by
    ``shift``. ``h = 0`` and ``h = 1`` stay as they are.

    Examples
    --------
    >>> h = 1 - np.exp(-np.exp(-3.0))  # cloglog -3
    >>> bool(np.isclose(shift_log_hazard(h, 0.5), 1 - np.exp(-np.exp(-2.5))))
    True
    """
    h = np.asarray(hazard, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.expm1(np.log1p(-h) * np.exp(shift))
    return np.where(h >= 1.0, 1.0, out)
