"""How well a :class:`~turnover_risk.HazardModel` predicts exits at several horizons (private).

For a horizon of ``h`` months the outcome of a panel row is known when the person's stay in
scope ended within ``h`` months of the row's month (for any reason), or when the data cover
the whole horizon (``periods_to_exit >= h`` for a stay still running at the end of the
data). Only those rows are scored; censoring comes only from the end of the data, so dropping
the others does not depend on the outcome. The label of cause ``k`` is 1 when the stay ended
within ``h`` months for ``k`` (other causes: 0, they compete), the prediction the model's
cumulative incidence ``F_k(h)``.

The baseline predicts the same risk for everyone: the cumulative incidence from the training
data's constant monthly hazards (no features). ``brier_skill = 1 - brier / brier_baseline``;
``calibration_slope`` is the slope of a logistic regression of the label on ``logit(F_k)``
(1 is ideal, below 1 over-confident).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from turnover_risk.models._hazard_fit import exit_months


def next_exits(panel: pd.DataFrame, exits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Months from each row's month to the end of its stay (1 = this month; NaN when the stay
    did not end in the data) and the exit reason (None if none)."""
    left = pd.DataFrame(
        {
            "employee_id": pd.array(panel["employee_id"].astype(str).to_numpy(), dtype="string"),
            "period": panel["period"].astype("datetime64[ns]").to_numpy(),
            "_row": np.arange(len(panel)),
        }
    ).sort_values("period", kind="stable")
    right = exits.rename(columns={"period": "exit_period"}).sort_values("exit_period")
    right["period"] = right["exit_period"]
    merged = pd.merge_asof(
        left, right, on="period", by="employee_id", direction="forward"
    ).sort_values("_row")
    t = merged["period"].to_numpy().astype("datetime64[M]").astype(np.int64)
    e = merged["exit_period"].to_numpy().astype("datetime64[M]")
    months = np.where(np.isnat(e), np.nan, e.astype(np.int64) - t + 1.0)
    reason = merged["reason"].to_numpy(dtype=object, na_value=None)
    return months, reason


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def _slope(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression

    if not 0 < y.sum() < len(y):
        return float("nan")
    q = np.clip(p, 1e-9, 1 - 1e-9)
    x = np.log(q / (1 - q))[:, None]
    return float(LogisticRegression(C=np.inf).fit(x, y).coef_[0, 0])


def score_table(
    model, panel: pd.DataFrame, register: object, horizons, outcome: str
) -> pd.DataFrame:
    """One row per horizon: rows scored, events, AUC, Brier, baseline Brier, skill, slope."""
    months, reason = next_exits(panel, exit_months(register, model.scope_))
    named = set(model.causes_[:-1])
    cause = np.array(
        [(r if r in named else "other_exits") if r is not None else "" for r in reason],
        dtype=object,
    )
    if outcome == "any":
        cause = np.where(cause != "", "any", "")
    complete = panel["periods_to_exit"].to_numpy(dtype=float)
    k = None if outcome == "any" else model.causes_.index(outcome)
    h0 = np.array([model.info_["events"][c] for c in model.causes_]) / model.info_["rows_used"]
    rows = []
    for h in horizons:
        ended = ~np.isnan(months) & (months <= h)
        later = ~np.isnan(months) & (months > h)  # in scope through the horizon
        known = ended | later | (np.isnan(months) & (complete >= h))
        idx = np.flatnonzero(known)
        y = (ended & (cause == outcome))[idx].astype(float)
        cif = model.risk_curves(panel.iloc[idx], int(h))[:, -1, :]
        p = cif.sum(axis=1) if k is None else cif[:, k]
        base_all = _constant_cif(h0, int(h))
        base = base_all.sum() if k is None else base_all[k]
        brier = float(np.mean((p - y) ** 2)) if len(y) else float("nan")
        brier0 = float(np.mean((base - y) ** 2)) if len(y) else float("nan")
        rows.append(
            {
                "horizon": int(h),
                "outcome": outcome,
                "n_rows": int(len(idx)),
                "events": int(y.sum()),
                "observed_share": float(y.mean()) if len(y) else float("nan"),
                "mean_risk": float(p.mean()) if len(y) else float("nan"),
                "auc": _auc(y, p),
                "brier": brier,
                "brier_baseline": brier0,
                "brier_skill": 1 - brier / brier0 if brier0 > 0 else float("nan"),
                "calibration_slope": _slope(y, p),
            }
        )
    return pd.DataFrame(rows)


def _constant_cif(h: np.ndarray, horizon: int) -> np.ndarray:
    """Cumulative incidence of each cause after ``horizon`` months of constant hazards."""
    total = min(float(h.sum()), 1.0)
    if total == 0:
        return np.zeros_like(h)
    return h * (1 - (1 - total) ** horizon) / total
