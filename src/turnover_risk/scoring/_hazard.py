"""A :class:`~turnover_risk.HazardModel` as the batch scorer sees it (private).

:func:`score_dataset` scores rows with ``predict_proba``-like models. :class:`HazardRisk`
wraps a fitted hazard model so that ``predict_proba`` gives ``[1 - risk, risk]`` with ``risk``
the cumulative incidence of the model's first outcome within ``horizon`` months
(``HazardModel.predict_risk(rows, horizon)``); the run then checks, scores, sums and
suppresses exactly as for the classifier. It pickles, so the Dask engine can send it to its
workers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

DEFAULT_HORIZON = 12
"""Months of the risk a HazardModel is scored at by default."""


class HazardRisk:
    """``predict_proba`` of a fitted HazardModel at one horizon (see the module docstring)."""

    def __init__(self, model: Any, horizon: int) -> None:
        self.model = model
        self.horizon = int(horizon)
        self.outcome = model.causes_[0]
        self.feature_names_in_ = np.asarray(model.features_in_, dtype=object)
        self._numeric_ = set(model.features_in_)  # every input is numeric: inf is rejected
        self.spec_ = model.spec_
        self.input_profile_ = getattr(model, "input_profile_", None)  # drift checks

    def predict_risk(self, X: pd.DataFrame) -> np.ndarray:
        """The risk of the first outcome within ``horizon`` months, per row."""
        return self.model.predict_risk(X, self.horizon).iloc[:, 0].to_numpy(dtype=np.float64)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        risk = self.predict_risk(X)
        return np.column_stack([1.0 - risk, risk])


def scoring_model(model: Any, horizon: Any) -> tuple[Any, dict[str, Any]]:
    """The object to score with and facts for ``ScoreResult.info``.

    A HazardModel becomes a :class:`HazardRisk` at ``horizon`` (default 12 months); any other
    model is returned as it is, and ``horizon`` must then be left out (or equal the model's own).
    """
    from turnover_risk.models import HazardModel

    if isinstance(model, HazardModel):
        model._check_fitted()
        h = DEFAULT_HORIZON if horizon is None else horizon
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
            raise ValueError(f"horizon={horizon!r} must be a positive number of months, e.g. 12.")
        risk = HazardRisk(model, int(h))
        return risk, {"horizon": risk.horizon, "outcome": risk.outcome}
    own = getattr(model, "horizon_", None)
    if horizon is not None and horizon != own:
        raise ValueError(
            f"horizon={horizon!r} applies to a HazardModel; this {type(model).__name__} gives "
            f"the risk within the horizon it was trained with ({own} periods). Fit a "
            "HazardModel for the risk at other horizons."
        )
    return model, {}
