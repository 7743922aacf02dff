"""Unpenalised logistic regression of an outcome on log-odds, by Newton's method.

Behind Platt scaling (``calibrate="sigmoid"``; the calibrator classes stay in
:mod:`turnover_risk.models` because saved models pickle them by that path) and the calibration
intercept and slope of :func:`turnover_risk.evaluate`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def _logistic_newton(
    x: np.ndarray, y: np.ndarray, *, fit_slope: bool = True, n_iter: int = 100
) -> tuple[float, float]:
    """Unpenalised logistic fit of y on (1, x) (or on 1 with offset x if not fit_slope).

    Returns ``(intercept, slope)``; with ``fit_slope=False`` the slope is fixed at 1 (``x`` is
    an offset), which gives the calibration-in-the-large intercept.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    beta = np.array([0.0, 1.0])
    design = np.column_stack([np.ones_like(x), x])
    for _ in range(n_iter):
        eta = design @ beta
        p = expit(eta)
        w = np.clip(p * (1 - p), 1e-12, None)
        grad = design.T @ (y - p)
        if fit_slope:
            hess = (design * w[:, None]).T @ design
            try:
                step = np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                return float("nan"), float("nan")
        else:
            step = np.array([grad[0] / w.sum(), 0.0])
        # halve the step while the log-likelihood does not improve (safe for separable data)
        ll_old = _loglik(eta, y)
        t = 1.0
        while t > 1e-8 and _loglik(design @ (beta + t * step), y) < ll_old - 1e-12:
            t /= 2
        beta = beta + t * step
        if np.max(np.abs(t * step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1])


def _loglik(eta: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum(y * eta - np.logaddexp(0, eta)))
