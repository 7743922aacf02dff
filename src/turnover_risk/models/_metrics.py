"""The metrics of :func:`~turnover_risk.evaluate`: ranking, probabilities, calibration, gains.

:func:`_metrics` scores probabilities against outcomes: ROC-AUC, PR-AUC, precision and recall
in the top 10 % (ranking), Brier and log loss (probabilities), and the calibration intercept
and slope (:func:`calibration_metrics`) and expected calibration error (:func:`_ece`).
:func:`_add_gains` adds to the model's rows how much it beats each baseline.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from turnover_risk.models._calibration import _logistic_newton

__all__ = ["calibration_metrics"]

TOP_SHARE = 0.10
N_BINS = 10
_EPS = 1e-6
SCORE_METRICS = (
    "roc_auc",
    "pr_auc",
    "brier",
    "log_loss",
    "calibration_intercept",
    "calibration_slope",
    "ece",
)
"""Metrics of the whole ranking and of the probabilities (the report's model table shows these)."""
_METRICS = (*SCORE_METRICS, "precision_top10", "recall_top10")
_BASELINES = ("base_rate", "unit_exit_share")


def _clip(p: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)


def calibration_metrics(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Calibration intercept (in the large) and slope of probabilities ``p`` for outcomes ``y``.

    The slope is ``b`` of the logistic recalibration ``logit P(y=1) = a + b logit(p)``; the
    intercept is ``a`` of ``logit P(y=1) = a + logit(p)`` (slope fixed at 1, Van Calster et al.
    2019). A perfectly calibrated model has intercept 0 and slope 1; a slope below 1 means the
    predictions are too extreme (overfitting). Constant predictions give a NaN slope.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.6, 20000)
    >>> a, b = calibration_metrics(rng.random(20000) < p, p)
    >>> abs(a) < 0.05 and abs(b - 1) < 0.1
    True
    """
    y = np.asarray(y, dtype=float)
    lp = logit(_clip(p))
    if len(y) == 0 or y.min() == y.max():
        return float("nan"), float("nan")
    intercept, _ = _logistic_newton(lp, y, fit_slope=False)
    if np.ptp(lp) < 1e-12:
        return intercept, float("nan")
    _, slope = _logistic_newton(lp, y, fit_slope=True)
    return intercept, slope


def _ece(y: np.ndarray, p: np.ndarray, n_bins: int = N_BINS) -> float:
    """Expected calibration error over equal-count bins of the sorted predictions."""
    if len(y) == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, min(n_bins, len(y))):
        total += len(chunk) * abs(p[chunk].mean() - y[chunk].mean())
    return float(total / len(y))


_RANKING = ("roc_auc", "pr_auc", "calibration_slope", "precision_top10", "recall_top10")
"""Metrics that need predictions which order the rows; NaN for a constant predictor."""


def _metrics(y: np.ndarray, p: np.ndarray, *, ranks: bool | None = None) -> dict[str, float]:
    """All metrics of probabilities ``p`` for outcomes ``y``.

    ``ranks=False`` (or, by default, predictions that are constant) leaves the metrics that
    order rows — ROC-AUC, PR-AUC, calibration slope and the top-10 % ones — NaN: a constant
    predictor ranks nobody, and the order its ties happen to get is meaningless.
    """
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    if ranks is None:
        ranks = len(p) > 0 and np.ptp(p) > 0
    two = len(np.unique(y)) == 2
    k = max(1, math.ceil(TOP_SHARE * len(y)))
    top = np.argsort(-p, kind="stable")[:k]
    intercept, slope = calibration_metrics(y, p)
    out = {
        "roc_auc": float(roc_auc_score(y, p)) if two else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if two else float("nan"),
        "brier": float(brier_score_loss(y, p, pos_label=1)) if len(y) else float("nan"),
        "log_loss": float(log_loss(y, _clip(p), labels=[0, 1])) if len(y) else float("nan"),
        "calibration_intercept": intercept,
        "calibration_slope": slope,
        "ece": _ece(y, p),
        "precision_top10": float(y[top].mean()),
        "recall_top10": float(y[top].sum() / y.sum()) if y.sum() else float("nan"),
    }
    if not ranks:
        out.update(dict.fromkeys(_RANKING, float("nan")))
    return out


def _add_gains(table: pd.DataFrame) -> pd.DataFrame:
    """Model rows: by how much they beat each baseline of the same fold.

    The base rate ranks nobody (its ROC-AUC and PR-AUC are NaN in the table), so ranking gains
    against it are measured from the no-skill values of any constant predictor: ROC-AUC 0.5 and
    PR-AUC equal to the observed share of leavers.
    """
    out = table.copy()
    for baseline in _BASELINES:
        ref = out[out["model"] == baseline].set_index("fold")
        if ref.empty:
            continue
        if baseline == "base_rate":
            ref = ref.assign(roc_auc=0.5, pr_auc=ref["n_test_positive"] / ref["n_test"])
        is_model = out["model"] == "model"
        folds = out.loc[is_model, "fold"]
        for metric in ("roc_auc", "pr_auc"):
            col = f"{metric}_gain_vs_{baseline}"
            out[col] = np.nan
            out.loc[is_model, col] = (
                out.loc[is_model, metric].to_numpy() - folds.map(ref[metric]).to_numpy()
            )
        for metric in ("brier", "log_loss"):
            col = f"{metric}_skill_vs_{baseline}"
            out[col] = np.nan
            ref_vals = folds.map(ref[metric]).to_numpy(dtype=float)
            out.loc[is_model, col] = 1.0 - out.loc[is_model, metric].to_numpy() / ref_vals
    return out
