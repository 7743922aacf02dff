"""Drivers of flagged groups for a :class:`~turnover_risk.HazardModel` (private).

The classifier's drivers (``_driver_text._top_drivers``) compare a group's mean attribution
with the population's in log-odds and give the difference ``d`` in percentage points of the
group's risk: how much lower the group's predicted share would be if that feature's
contribution were at the population's level, everything else as it is. This module does the
same for a hazard model, whose attributions are contributions to the log hazard
(:meth:`HazardModel.explain`), and whose risk is a cumulative incidence within ``horizon``
months:

1. ``d_gj`` = the group's mean contribution of feature ``j`` to the log hazard of the outcome
   minus the mean over every row of the period (all groups; a feature's missing-value
   indicator counts with the feature). For the cloglog kind this is ``b_j (mean_g x_j -
   mean x_j)``, exact; every member is explained, so ``se`` is 0.
   The features are ranked by ``|d_gj|`` of the outcome.
2. Each member's monthly hazard of every cause ``c`` in every month of the horizon is moved by
   ``-d_gj(c)`` (the same difference for cause ``c``'s log hazard) on the complementary
   log-log scale (``h -> 1 - (1 - h) ** exp(-d)``,
   :func:`~turnover_risk.models._hazard_risk.shift_log_hazard`), and the cumulative incidence
   of the outcome within the horizon is recomputed with the exits competing as in
   :meth:`HazardModel.predict_risk`. The competing causes move too: a feature that also
   raises, say, retirement lowers the share left to leave voluntarily, and "the feature at
   the population's level" means that for every cause.
3. The driver in percentage points is ``100 (r_g - r_g(-d_gj))``: the group's mean risk minus
   its mean risk with that feature's contribution at the population's level.

So ``difference`` is in log hazard (not log-odds) and ``difference_pp`` means for both model
kinds what the table says: percentage points of the group's predicted risk at the horizon.
The classifier linearises at the group's mean share (``s - expit(logit(s) - d)``); here the
shift is applied to every member, month and cause, which for a cloglog model is exactly the
risk the model gives with the feature of every member moved by the gap between the
population's mean and the group's (``x_j - (mean_g x_j - mean x_j)``). For the gbm kind the
contributions are occlusion effects at the scored month (the change of the cloglog of the
month's hazard when the feature is set to its training median), not additive, and they are
applied to every month of the horizon: an approximation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from turnover_risk.groups._common import _group_codes
from turnover_risk.models._hazard_risk import cumulative_incidence, shift_log_hazard

__all__ = ["hazard_drivers", "hazard_top_drivers"]


def _feature_contributions(model: Any, rows: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """``explain`` with each ``<c>_missing`` indicator added to its feature ``c``."""
    contrib = model.explain(rows, outcome=outcome)
    out = pd.DataFrame(index=contrib.index)
    for c in model.features_in_:
        out[c] = contrib[c]
        if f"{c}_missing" in contrib.columns:
            out[c] = out[c] + contrib[f"{c}_missing"]
    return out


def hazard_drivers(model: Any, rows: pd.DataFrame, codes: np.ndarray) -> np.ndarray:
    """Log-hazard differences of every group from the population, per cause.

    Shape ``(causes, n_groups, features)`` (causes and features in the model's order);
    ``codes`` gives each row's group (0..n_groups-1); the population is every row.
    """
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    sizes = np.maximum(np.bincount(codes, minlength=n_groups), 1).astype(float)
    out = []
    for cause in model.causes_:
        contrib = _feature_contributions(model, rows, cause).to_numpy(dtype=float)
        sums = np.stack(
            [np.bincount(codes, weights=contrib[:, j], minlength=n_groups) for j in
             range(contrib.shape[1])], axis=1
        )  # fmt: skip
        out.append(sums / sizes[:, None] - contrib.mean(axis=0))
    return np.stack(out)


def risk_points(
    model: Any, rows: pd.DataFrame, horizon: int, differences: np.ndarray, k: int = 0
) -> tuple[float, np.ndarray]:
    """The mean risk of cause ``k`` of ``rows`` (one group) and how much lower it is with each
    feature's contributions at the population's level (shares, not points).

    ``differences`` has shape ``(causes, features)``: feature ``j`` moves the log hazard of
    every cause ``c`` by ``-differences[c, j]`` in every month.
    """
    hazards = model.monthly_hazards(rows, horizon)
    base = cumulative_incidence(hazards)[:, -1, k].mean()
    out = np.empty(differences.shape[1])
    for j in range(differences.shape[1]):
        moved = np.empty_like(hazards)
        for c in range(hazards.shape[2]):
            moved[:, :, c] = shift_log_hazard(hazards[:, :, c], -float(differences[c, j]))
        out[j] = base - cumulative_incidence(moved)[:, -1, k].mean()
    return float(base), out


def hazard_top_drivers(
    risk: Any, rows: pd.DataFrame, by_cols: list[str], flagged: pd.DataFrame, n_drivers: int
) -> pd.DataFrame:
    """The ``n_drivers`` largest drivers of each flagged group of a HazardModel's flags.

    ``risk`` is the :class:`~turnover_risk.scoring._hazard.HazardRisk` the flags were
    computed with (model, horizon, outcome); ``rows`` the period's rows of every group;
    ``flagged`` the flagged groups' keys. Columns as the classifier's drivers (see
    ``FlagResult.drivers``); ``difference`` is in log hazard.
    """
    from turnover_risk.groups._driver_text import _empty_drivers, driver_text, feature_label

    model, horizon = risk.model, risk.horizon
    k = list(model.causes_).index(risk.outcome)
    rows = rows.reset_index(drop=True)
    codes, key_frame = _group_codes(rows, list(by_cols))
    diff = hazard_drivers(model, rows, codes)  # (causes, groups, features)
    features = list(model.features_in_)
    targets = key_frame.reset_index().merge(
        flagged[list(by_cols)].drop_duplicates(), on=list(by_cols), how="inner"
    )
    out = []
    for _, target in targets.sort_values(list(by_cols), kind="stable").iterrows():
        g = int(target["index"])
        order = np.argsort(-np.abs(diff[k, g]), kind="stable")[:n_drivers]
        d = diff[k, g, order]
        _, points = risk_points(model, rows[codes == g], horizon, diff[:, g, order], k)
        for rank, (j, dj, pp) in enumerate(zip(order, d, 100 * points, strict=True), start=1):
            out.append(
                {
                    **{c: target[c] for c in by_cols},
                    "rank": rank,
                    "feature": features[j],
                    "label": feature_label(features[j]),
                    "difference": float(dj),
                    "difference_pp": float(pp),
                    "se": 0.0,
                    "text": driver_text(features[j], dj, by_cols[-1], points=pp),
                }
            )
    if not out:
        return _empty_drivers(by_cols)
    cols = [*by_cols, "rank", "feature", "label", "difference", "difference_pp", "se", "text"]
    return pd.DataFrame(out)[cols].astype({"rank": "int64"})
