"""Calibration of the model's probabilities (``calibrate=``) and the logistic fit behind it.

:func:`_out_of_fold_raw` gives out-of-fold log-odds of the classifier (folds grouped by person
for a panel; the preprocessing is fitted once), on which :class:`_SigmoidCalibrator` (Platt scaling) or :class:`_IsotonicCalibrator` is fitted.
:func:`_logistic_newton`, an unpenalised logistic regression of an outcome on log-odds by
Newton's method, fits Platt scaling and the calibration intercept and slope of
:func:`turnover_risk.evaluate`. Model files pickle the calibrators by this module's path
(0.1.0 files by ``turnover_risk.models``, which still resolves them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import clone
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold

from turnover_risk.models._pipeline import _blas_single_thread


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


class _SigmoidCalibrator:
    """Platt scaling on log-odds: p = expit(a + b * raw)."""

    def fit(self, raw: np.ndarray, y: np.ndarray) -> _SigmoidCalibrator:
        self.a_, self.b_ = _logistic_newton(raw, y)
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return expit(self.a_ + self.b_ * np.asarray(raw, dtype=float))


class _IsotonicCalibrator:
    """Isotonic regression of the outcome on log-odds."""

    def fit(self, raw: np.ndarray, y: np.ndarray) -> _IsotonicCalibrator:
        self.iso_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(self.iso_.predict(np.asarray(raw, dtype=float)), dtype=float)


def _out_of_fold_raw(
    clf: Any,
    design: pd.DataFrame,
    y01: np.ndarray,
    groups: np.ndarray | None,
    *,
    calibrate: str,
    random_state: Any,
) -> np.ndarray:
    """Out-of-fold log-odds of the classifier ``clf`` on the transformed ``design``: what a
    calibrator is fitted on.

    Up to five folds, grouped by ``groups`` (persons) when there are enough of them, else
    stratified by the outcome and shuffled with ``random_state``. Only the classifier is
    refitted per fold, on the design of the whole training set: the preprocessing (medians,
    scaling, categories) is fitted once on all rows, which the held-out fold's labels do not
    enter, so the folds cost a classifier fit each rather than a pipeline fit.
    """
    n_splits = int(min(5, np.bincount(y01).min()))
    if n_splits < 2:
        raise ValueError(
            f"calibrate={calibrate!r} needs at least 2 rows of each class; got "
            f"{np.bincount(y01).tolist()}. Use calibrate=None."
        )
    if groups is not None and len(np.unique(groups)) >= n_splits:
        splits = GroupKFold(n_splits=n_splits).split(design, y01, groups)
    else:
        splits = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state).split(
            design, y01
        )
    oof = np.empty(len(y01))
    for train, test in splits:
        if len(np.unique(y01[train])) < 2:
            raise ValueError(
                "a calibration fold has a single class; too few leavers for "
                f"calibrate={calibrate!r}. Use calibrate=None."
            )
        with _blas_single_thread(design.size):
            fold = clone(clf).fit(design.iloc[train], y01[train])
        oof[test] = fold.decision_function(design.iloc[test])
    return oof
