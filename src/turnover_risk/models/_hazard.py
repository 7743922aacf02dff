"""A discrete-time hazard model of each exit cause on the person-month panel.

Each row of a monthly panel (``build_panel(freq="M")``) is a person at risk at the start of
month ``t``; the register says whether their stay in scope ended in that month and why.
:class:`HazardModel` fits, for every requested cause and for all other exits together, the
monthly cause-specific hazard ``h_k(x) = P(exit for k in the month | at risk, x)``:

* ``kind="cloglog"``: a binomial GLM with the complementary log-log link (statsmodels),
  ``h_k = 1 - exp(-exp(x b_k))``, so ``b_k`` are log-hazard coefficients with Wald intervals.
  It is the simulator's own form (``make_register``), so the planted effects are recoverable
  when the features are faithful proxies.
* ``kind="gbm"``: a ``HistGradientBoostingClassifier`` per cause, for non-linear effects.

:meth:`HazardModel.predict_risk` turns the monthly hazards into the cumulative incidence of each
cause within ``horizon`` months with the causes competing:
``F_k(H) = sum_{j < H} S(j) h_k(j)``, ``S(j + 1) = S(j) (1 - sum_k h_k(j))``, holding the
row's features fixed except tenure (``tenure_*_months`` grow by one a month) and ``age`` (by
1/12). ``docs/survival.md`` gives the definitions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from turnover_risk.models._hazard_fit import cll, exit_months, fit_one
from turnover_risk.models._hazard_risk import check_horizon as _check_horizon
from turnover_risk.models._hazard_risk import cumulative_incidence
from turnover_risk.models._profile import build_profile
from turnover_risk.panel import panel_spec

KINDS: tuple[str, ...] = ("cloglog", "gbm")
_OTHER = "other_exits"
_AGING = {"tenure_service_months": 1.0, "tenure_unit_months": 1.0, "age": 1.0 / 12}
_CHUNK = 50_000
DEFAULT_ALPHA_SCALE: float = 3.0
"""The default cloglog penalty with all the panel's features is ``DEFAULT_ALPHA_SCALE /
sqrt(n)``, ``n`` the person-months fitted (0.016 for 37 000, 0.039 for 6 000). A fixed penalty
(0.01 until issue 19's validity benchmark) calibrated on large registers only: trained on
6 000 person-months (60 simulated units) its 12-month risks had an out-of-time calibration
slope of 0.53 and ranked 0.015 below the 12-month classifier. Penalties that gave a slope
near 1, by ``n``: about 0.04 at 6 000 (5 registers of 60 units), about 0.016 at 37 000 (2 of
200 units); ``3 / sqrt(n)`` goes through both (``benchmarks/bench_hazard_validity.py``)."""


class HazardModel:
    """Discrete-time competing-risks hazard model on the person-month panel.

    Parameters
    ----------
    kind : {"cloglog", "gbm"}
        Complementary log-log GLM (log-hazard coefficients with intervals) or gradient
        boosting per cause.
    outcomes : sequence of str
        Exit reasons modelled one by one (``employment.exit_reason`` values). All other exits
        are modelled together as ``"other_exits"``, so the risks compete correctly.
    features : sequence of str, optional
        Panel columns used as inputs; default: the numeric features of the panel spec. For
        ``"cloglog"`` missing values are filled with the training median and a
        ``<col>_missing`` indicator is added (only for columns with missing values). Constant
        columns (all missing included) are left out and listed in ``info_``.
    random_state : int, optional
        Seed of the gradient boosting.
    gbm_params : dict, optional
        Extra ``HistGradientBoostingClassifier`` parameters.
    confidence : float
        Level of the coefficient intervals (cloglog).
    alpha : float, optional
        cloglog only: L2 penalty on the standardised coefficients (not the intercept), added
        to the mean negative log-likelihood as ``alpha / 2 * |b|^2``. 0 gives the unpenalised
        maximum-likelihood fit with Wald intervals (for inference on chosen terms); a penalty
        gives better calibrated risks with many correlated features but no intervals (``se``,
        ``ci_low``, ``ci_high`` are NaN). Default (``None``): 0 when ``features`` are given,
        ``3 / sqrt(n)`` (:data:`DEFAULT_ALPHA_SCALE`; ``n`` the person-months fitted) with all
        the panel's features (``alpha_`` says which).
    horizon : int
        Months of :meth:`predict_proba` (the risk of the first outcome within it), so the
        model can stand in for a classifier in ``what_if`` and retrospective ``flag_groups``.

    Attributes
    ----------
    coefficients_ : DataFrame
        cloglog: one row per outcome and term with ``coef`` (log hazard), ``se``, ``ci_low``,
        ``ci_high``, ``hazard_ratio``.
    info_ : dict
        Rows used, rows dropped (the month not fully observed), events per cause.
    training_periods_ : dict
        ``first`` and ``last`` month of the rows used (ISO dates) and ``n_periods``.

    Examples
    --------
    >>> import turnover_risk as tr
    >>> reg = tr.load_sample()
    >>> panel = tr.build_panel(reg, freq="M", outcome="any")
    >>> m = tr.HazardModel(features=["tenure_service_months", "newly_qualified", "fte"])
    >>> m = m.fit(panel, reg)
    >>> risk = m.predict_risk(panel, horizon=12)
    >>> list(risk.columns)
    ['risk_voluntary', 'risk_other_exits', 'risk_any']
    >>> bool(((risk >= 0) & (risk <= 1)).all().all())
    True
    """

    def __init__(
        self,
        kind: str = "cloglog",
        outcomes: Sequence[str] = ("voluntary",),
        features: Sequence[str] | None = None,
        random_state: int | None = None,
        gbm_params: dict | None = None,
        confidence: float = 0.95,
        horizon: int = 12,
        alpha: float | None = None,
    ):
        self.kind = kind
        self.outcomes = outcomes
        self.features = features
        self.random_state = random_state
        self.gbm_params = gbm_params
        self.confidence = confidence
        self.horizon = horizon
        self.alpha = alpha

    _PARAMS = (
        "kind",
        "outcomes",
        "features",
        "random_state",
        "gbm_params",
        "confidence",
        "horizon",
        "alpha",
    )

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters (as scikit-learn's ``get_params``; ``clone`` uses it)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params) -> HazardModel:
        """Set constructor parameters; returns the model."""
        for name, value in params.items():
            if name not in self._PARAMS:
                raise ValueError(f"{name!r} is not a HazardModel parameter; use {self._PARAMS}.")
            setattr(self, name, value)
        return self

    # ------------------------------------------------------------------ fitting ------------
    def _check(self) -> tuple[str, ...]:
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r} is not known; use 'cloglog' or 'gbm'.")
        outs = (self.outcomes,) if isinstance(self.outcomes, str) else tuple(self.outcomes)
        if not outs or not all(isinstance(o, str) for o in outs) or _OTHER in outs:
            raise ValueError(
                f"outcomes={self.outcomes!r} must be exit reasons such as ('voluntary',)."
            )
        return outs

    def _design(self, panel: pd.DataFrame, fit: bool) -> np.ndarray:
        X = panel[list(self.features_in_)].astype(float)
        if self.kind == "gbm":
            return X.to_numpy()
        if fit:
            self.fill_ = X.median().fillna(0.0)
            self.missing_cols_ = tuple(
                c for c in X.columns if X[c].isna().any() and X[c].notna().any()
            )
            self.terms_ = (
                "intercept",
                *self.features_in_,
                *(f"{c}_missing" for c in self.missing_cols_),
            )
        parts = [np.ones((len(X), 1)), X.fillna(self.fill_).to_numpy()]
        if self.missing_cols_:
            parts.append(X[list(self.missing_cols_)].isna().to_numpy(float))
        return np.hstack(parts)

    def fit(self, panel: pd.DataFrame, register: object) -> HazardModel:
        """Fit the monthly hazard of each outcome (and of all other exits).

        Parameters
        ----------
        panel : DataFrame
            A monthly panel from ``build_panel(register, freq="M")`` (any ``outcome``).
        register : Register
            The register the panel was built from: it gives the month and reason of each
            exit from the panel's scope.

        Returns
        -------
        HazardModel
        """
        outs = self._check()
        spec = panel_spec(panel)
        if spec.freq != "M":
            raise ValueError(
                f"HazardModel needs a monthly panel; this one has freq={spec.freq!r}. Build it "
                "with tr.build_panel(register, freq='M')."
            )
        if self.features is None:
            feats = [c for c in spec.feature_cols if pd.api.types.is_numeric_dtype(panel[c])]
        else:
            feats = list(self.features)
            missing = [c for c in feats if c not in panel.columns]
            if missing:
                raise ValueError(f"features {missing} are not columns of the panel.")
        constant = [c for c in feats if panel[c].astype(float).nunique(dropna=False) <= 1]
        self.features_in_ = tuple(c for c in feats if c not in constant)
        if self.alpha is None:
            self.alpha_ = 0.0  # set below from the number of rows when features is None
        elif (
            isinstance(self.alpha, bool)
            or not isinstance(self.alpha, int | float)
            or self.alpha < 0
        ):
            raise ValueError(f"alpha={self.alpha!r} must be a number >= 0 (or None).")
        else:
            self.alpha_ = float(self.alpha)
        self.scope_ = spec.scope
        self.spec_ = spec  # a fitted panel model: takes whole panels (as TurnoverRiskModel)
        self.classes_ = np.array([0, 1])
        self.causes_ = (*outs, _OTHER)
        rows, cause = self._rows(panel, register)
        if self.alpha is None and self.features is None:
            self.alpha_ = DEFAULT_ALPHA_SCALE / float(np.sqrt(max(int(rows.sum()), 1)))
        used = panel.loc[rows]
        X = self._design(used, fit=True)
        ids = used[spec.id_cols[0]] if spec.id_cols and spec.id_cols[0] in used else None
        feats_in = list(self.features_in_)
        self.input_profile_ = build_profile(used[feats_in], feats_in, feats_in, ids)  # drift
        months = pd.to_datetime(used[spec.period_col])
        self.training_periods_ = {  # as TurnoverRiskModel's (the model card shows it)
            "first": str(months.min().date()) if len(months) else None,
            "last": str(months.max().date()) if len(months) else None,
            "n_periods": int(months.nunique()),
        }
        self.models_ = {}
        self.info_ = {
            "rows": int(len(panel)),
            "rows_used": int(rows.sum()),
            "rows_dropped_incomplete_month": int((~rows).sum()),
            "constant_features_dropped": constant,
            "events": {c: int((cause == c).sum()) for c in self.causes_},
        }
        coefs = []
        for name in self.causes_:
            y = (cause == name).astype(float)
            model, table = fit_one(self, X, y)
            self.models_[name] = model
            if table is not None:
                coefs.append(table.assign(outcome=name))
        if coefs:
            cols = ["outcome", "term", "coef", "se", "ci_low", "ci_high", "hazard_ratio"]
            self.coefficients_ = pd.concat(coefs, ignore_index=True)[cols]
        else:
            self.coefficients_ = pd.DataFrame()
        return self

    def _rows(self, panel: pd.DataFrame, register: object) -> tuple[np.ndarray, np.ndarray]:
        """Rows of fully observed months, and the cause of the exit in each (or "")."""
        exits = exit_months(register, self.scope_)
        key = panel[["employee_id", "period"]].astype({"employee_id": "string"})
        key["period"] = key["period"].astype("datetime64[ns]")
        merged = key.merge(exits, on=["employee_id", "period"], how="left", indicator=True)
        exited = (merged["_merge"] == "both").to_numpy()
        complete = panel["periods_to_exit"].to_numpy() >= 1
        rows = complete | exited
        reason = merged["reason"].astype(object)
        named = reason.where(reason.isin(self.causes_[:-1]), _OTHER)
        cause = np.where(exited, named.to_numpy(dtype=object), "")
        return rows, cause[rows]

    # ------------------------------------------------------------------ prediction ---------
    def _hazards(self, panel: pd.DataFrame, month: int) -> np.ndarray:
        """Monthly hazard of each cause ``month`` months after the row's period start."""
        frame = panel
        aged = [c for c in _AGING if c in self.features_in_]
        if month and aged:
            frame = panel.copy(deep=False)
            for c in aged:
                frame[c] = panel[c].astype(float) + _AGING[c] * month
        X = self._design(frame, fit=False)
        out = np.zeros((len(panel), len(self.causes_)))
        for k, name in enumerate(self.causes_):
            model = self.models_[name]
            if self.kind == "cloglog":
                with np.errstate(over="ignore"):
                    out[:, k] = -np.expm1(-np.exp(X @ model))
            elif isinstance(model, float):
                out[:, k] = model
            else:
                out[:, k] = model.predict_proba(X)[:, 1]
        return out

    def monthly_hazards(self, panel: pd.DataFrame, horizon: int = 12) -> np.ndarray:
        """Monthly hazard of each cause in months 1..horizon after each row's month.

        Returns an array of shape ``(rows, horizon, causes)`` (causes in ``causes_``); month
        ``j`` holds the row's features aged by ``j - 1`` months (see the module docstring).
        :meth:`risk_curves` is :func:`cumulative_incidence` of it.
        """
        self._check_fitted()
        horizon = _check_horizon(horizon)
        out = np.zeros((len(panel), horizon, len(self.causes_)))
        for lo in range(0, len(panel), _CHUNK):
            part = panel.iloc[lo : lo + _CHUNK]
            for j in range(horizon):
                out[lo : lo + len(part), j] = self._hazards(part, j)
        return out

    def risk_curves(self, panel: pd.DataFrame, horizon: int = 12) -> np.ndarray:
        """Cumulative incidence of each cause after 1..horizon months, per row.

        Returns an array of shape ``(rows, horizon, causes)`` (causes in ``causes_``).
        """
        self._check_fitted()
        horizon = _check_horizon(horizon)
        out = np.zeros((len(panel), horizon, len(self.causes_)))
        for lo in range(0, len(panel), _CHUNK):
            part = panel.iloc[lo : lo + _CHUNK]
            out[lo : lo + len(part)] = cumulative_incidence(self.monthly_hazards(part, horizon))
        return out

    def predict_risk(self, panel: pd.DataFrame, horizon: int = 12) -> pd.DataFrame:
        """Cumulative incidence within ``horizon`` months of each cause and of any exit.

        Returns
        -------
        DataFrame
            ``risk_<outcome>`` per modelled outcome, ``risk_other_exits`` and ``risk_any``,
            indexed like ``panel``.
        """
        cif = self.risk_curves(panel, horizon)[:, -1, :]
        out = pd.DataFrame({f"risk_{c}": cif[:, k] for k, c in enumerate(self.causes_)})
        out["risk_any"] = cif.sum(axis=1)
        out.index = panel.index
        return out

    def predict_proba(self, panel: pd.DataFrame) -> np.ndarray:
        """``[1 - risk, risk]`` of the first outcome within ``horizon`` months, per row."""
        risk = self.predict_risk(panel, self.horizon).iloc[:, 0].to_numpy()
        return np.column_stack([1 - risk, risk])

    def group_curves(
        self, panel: pd.DataFrame, by: str | Sequence[str] | None = None, horizon: int = 24
    ) -> pd.DataFrame:
        """Mean cumulative incidence per group and month (long table).

        Columns: the ``by`` columns, ``month`` (1..horizon), ``cause``, ``cumulative_incidence``
        and ``n_rows``.
        """
        cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
        curves = self.risk_curves(panel, horizon)
        flat = curves.reshape(len(panel), -1)
        names = [(j + 1, c) for j in range(horizon) for c in self.causes_]
        wide = pd.DataFrame(flat, columns=pd.MultiIndex.from_tuples(names))
        keys = panel[cols].reset_index(drop=True) if cols else pd.DataFrame(index=wide.index)
        if cols:
            grouped = wide.groupby([keys[c] for c in cols], dropna=False, observed=True)
            mean, n = grouped.mean(), grouped.size()
        else:
            mean = wide.mean().to_frame().T
            n = pd.Series([len(wide)])
        long = mean.stack([0, 1], future_stack=True).rename("cumulative_incidence")
        long.index = long.index.set_names(
            [*cols, "month", "cause"] if cols else [None, "month", "cause"]
        )
        out = long.reset_index()
        if not cols:
            out = out.drop(columns=out.columns[0])
            out["n_rows"] = int(n.iloc[0])
        else:
            out = out.merge(n.rename("n_rows").reset_index(), on=cols)
        return out

    def explain(self, panel: pd.DataFrame, outcome: str | None = None) -> pd.DataFrame:
        """Per-row contributions to the log hazard of ``outcome`` (default: the first).

        cloglog: ``b_j (x_j - mean x_j)`` per feature (exact: they add up to the row's log
        hazard minus that of the mean row). gbm: the change in the cloglog of the hazard when
        the feature is set to its training median (occlusion; not additive).
        """
        self._check_fitted()
        name = self.causes_[0] if outcome is None else outcome
        if name not in self.causes_:
            raise ValueError(f"outcome={outcome!r} was not modelled; choose from {self.causes_}.")
        k = self.causes_.index(name)
        if self.kind == "cloglog":
            X = self._design(panel, fit=False)
            b = self.models_[name]
            centred = (X - X.mean(axis=0)) * b
            out = pd.DataFrame(centred[:, 1:], columns=list(self.terms_[1:]), index=panel.index)
            return out
        base = self._hazards(panel, 0)[:, k]
        out = {}
        med = panel[list(self.features_in_)].astype(float).median()
        for c in self.features_in_:
            frame = panel.copy(deep=False)
            frame[c] = med[c]
            h = self._hazards(frame, 0)[:, k]
            with np.errstate(divide="ignore"):
                out[c] = cll(base) - cll(h)
        return pd.DataFrame(out, index=panel.index)

    def score(
        self,
        panel: pd.DataFrame,
        register: object,
        horizons: Sequence[int] = (3, 6, 12, 24),
        outcome: str | None = None,
    ) -> pd.DataFrame:
        """AUC, Brier score and calibration of the risk within each horizon.

        Scores the rows whose outcome within the horizon is known (the stay ended within it,
        or the data cover it); see ``docs/survival.md``. Use a panel of later periods than the
        training one for an out-of-time check.

        Parameters
        ----------
        panel : DataFrame
            A monthly panel (as for :meth:`fit`).
        register : Register
            The register behind it (exit months and reasons).
        horizons : sequence of int
            Months.
        outcome : str, optional
            A modelled cause, ``"other_exits"`` or ``"any"``; default the first outcome.

        Returns
        -------
        DataFrame
            One row per horizon: ``horizon``, ``outcome``, ``n_rows``, ``events``,
            ``observed_share``, ``mean_risk``, ``auc``, ``brier``, ``brier_baseline`` (one
            risk for all, from the training data's constant hazards), ``brier_skill``,
            ``calibration_slope``.
        """
        from turnover_risk.models._hazard_score import score_table

        self._check_fitted()
        name = self.causes_[0] if outcome is None else outcome
        if name not in (*self.causes_, "any"):
            raise ValueError(
                f"outcome={outcome!r} was not modelled; choose from {(*self.causes_, 'any')}."
            )
        return score_table(self, panel, register, [int(h) for h in horizons], name)

    def save(self, path, *, evaluation=None):
        """Write the fitted model to one ``.skops`` file with its manifest inside.

        The same safe format as :meth:`TurnoverRiskModel.save`: ``skops.io`` with an
        allow-list of types (loading never runs code from the file), a manifest (kind,
        features, causes, horizon, training rows and events, versions, evaluation) and an
        HMAC signature when ``TURNOVER_RISK_KEY`` is set. Load it with
        :func:`~turnover_risk.load_model`.

        Parameters
        ----------
        path : str or Path
            Target file (``.skops`` is added to a name without a suffix).
        evaluation : HazardEvaluationResult, optional
            Its pooled metrics go into the manifest; default: those of the last
            :func:`~turnover_risk.evaluate` of this model.

        Returns
        -------
        Path
        """
        from turnover_risk.models._persistence import _save_model

        return _save_model(self, path, evaluation)

    def __getstate__(self) -> dict:
        from turnover_risk.models._hazard_persist import hazard_state

        return hazard_state(self)

    def __setstate__(self, state: dict) -> None:
        from turnover_risk.models._hazard_persist import restore_hazard_state

        restore_hazard_state(self, state)

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise ValueError("this HazardModel is not fitted yet; call fit(panel, register).")

    def __repr__(self) -> str:
        return f"HazardModel(kind={self.kind!r}, outcomes={tuple(self._check())!r})"
