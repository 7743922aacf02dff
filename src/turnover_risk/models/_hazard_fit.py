"""Data and fitting helpers of :class:`~turnover_risk.HazardModel` (private).

:func:`fit_one` fits one cause; :func:`exit_months` finds the month and reason of every exit from scope (the stays of
:mod:`turnover_risk.rates._survival_stays`); :func:`ridge_cloglog` is the L2-penalised
complementary log-log fit; :func:`cll` the cloglog transform.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from turnover_risk.rates._spells import _prepare
from turnover_risk.rates._survival_stays import build_stays, reason_names


def exit_months(register: object, scope: str) -> pd.DataFrame:
    """``employee_id``, ``period`` (month start) and ``reason`` of every exit from scope."""
    sp, _ = _prepare(register, who="HazardModel", by=[], start=None, end=None)
    st = build_stays(sp, scope)
    ev = st.event
    ids = sp.frame["employee_id"].astype("string").to_numpy()[st.first_spell[ev]]
    month = st.end[ev].astype("datetime64[D]").astype("datetime64[M]")
    out = pd.DataFrame(
        {
            "employee_id": pd.array(ids, dtype="string"),
            "period": month.astype("datetime64[ns]"),
            "reason": pd.array(reason_names(st)[ev], dtype="string"),
        }
    )
    return out.drop_duplicates(["employee_id", "period"], keep="last")


def ridge_cloglog(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """Cloglog fit minimising ``-mean loglik + alpha / 2 * |b|^2`` on standardised columns
    (column 0 is the unpenalised intercept); coefficients on the original scale."""
    from scipy.optimize import minimize

    mu_x = X[:, 1:].mean(axis=0)
    sd_x = X[:, 1:].std(axis=0)
    sd_x[sd_x == 0] = 1.0
    Z = np.hstack([X[:, :1], (X[:, 1:] - mu_x) / sd_x])
    n = len(y)

    def objective(b):
        eta = np.clip(Z @ b, -30, 30)
        e = np.exp(eta)
        mu = -np.expm1(-e)
        ll = np.sum(y * np.log(np.maximum(mu, 1e-300)) - (1 - y) * e)
        grad_eta = e * (y - mu) / np.maximum(mu, 1e-300)
        pen = alpha / 2 * np.sum(b[1:] ** 2)
        g = -(Z.T @ grad_eta) / n
        g[1:] += alpha * b[1:]
        return -ll / n + pen, g

    b0 = np.zeros(Z.shape[1])
    b0[0] = np.log(-np.log1p(-max(y.mean(), 1e-9)))
    res = minimize(objective, b0, jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    b = res.x
    out = np.empty_like(b)
    out[1:] = b[1:] / sd_x
    out[0] = b[0] - np.sum(out[1:] * mu_x)
    return out


def cll(h: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(-np.log1p(-np.clip(h, 1e-300, 1 - 1e-16)))


def fit_one(model, X: np.ndarray, y: np.ndarray):
    """Fit one cause of ``model`` (a HazardModel being fitted): (fitted part, coefficient table)."""
    if model.kind == "gbm":
        from sklearn.ensemble import HistGradientBoostingClassifier

        params = {"random_state": model.random_state, **(model.gbm_params or {})}
        if y.sum() == 0:
            return 0.0, None
        return HistGradientBoostingClassifier(**params).fit(X, y.astype(int)), None
    import statsmodels.api as sm

    if y.sum() == 0:
        return np.r_[-np.inf, np.zeros(X.shape[1] - 1)], None
    if model.alpha_:
        b = ridge_cloglog(X, y, model.alpha_)
        nan = np.full(len(b), np.nan)
        table = pd.DataFrame(
            {
                "term": list(model.terms_),
                "coef": b,
                "se": nan,
                "ci_low": nan,
                "ci_high": nan,
                "hazard_ratio": np.exp(b),
            }
        )
        return b, table
    family = sm.families.Binomial(link=sm.families.links.CLogLog())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence and domain chatter
        res = sm.GLM(y, X, family=family).fit()
    ci = np.asarray(res.conf_int(alpha=1 - model.confidence))
    table = pd.DataFrame(
        {
            "term": list(model.terms_),
            "coef": res.params,
            "se": res.bse,
            "ci_low": ci[:, 0],
            "ci_high": ci[:, 1],
            "hazard_ratio": np.exp(res.params),
        }
    )
    return np.asarray(res.params), table
