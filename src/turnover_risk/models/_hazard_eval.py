"""``evaluate`` for a :class:`~turnover_risk.HazardModel`: the classifier's folds, time-dependent
metrics (private).

The folds are those of :func:`~turnover_risk.evaluate` for a classifier on the same panel:
rolling-origin test blocks of evaluable periods after a gap, persons cross-fitted within each
block (:func:`~turnover_risk.models._evaluation.temporal_blocks`). Each fit trains a clone of the
hazard model on the training periods' months (only exits inside those months are its labels)
and a Kaplan-Meier baseline on the same rows, followed up to the end of the training periods
only. The test rows are every person-month of the test block; each is followed from its month
to its exit or to the end of the data, and the metrics weight them by the inverse probability
of censoring (:mod:`turnover_risk.models._hazard_metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk.models._evaluation import (
    _person_fold,
    check_gap,
    person_column,
    temporal_blocks,
)
from turnover_risk.models._hazard_fit import exit_months
from turnover_risk.models._hazard_metrics import (
    aalen_johansen,
    auc,
    brier_score,
    censoring_survival,
    observed_risk,
)
from turnover_risk.models._hazard_score import next_exits
from turnover_risk.panel._spec import PanelSpec, attach_spec

DEFAULT_HORIZONS: tuple[int, ...] = (3, 6, 12, 24)
BASELINE = "kaplan_meier"


@dataclass(frozen=True, eq=False)
class HazardEvaluationResult:
    """Out-of-fold evaluation of a :class:`~turnover_risk.HazardModel` and the Kaplan-Meier
    baseline at several horizons.

    Attributes
    ----------
    table : DataFrame
        One row per fold (``1..n_splits`` and ``"pooled"``), model (``model``,
        ``kaplan_meier``) and horizon (months): ``outcome``, sizes (``n_train``, ``n_test``,
        ``cases``: rows that left for the outcome within the horizon, ``censored``: rows whose
        outcome is unknown at the horizon), the period ranges, ``mean_risk``, ``observed_risk``
        (censoring-weighted share who left), ``auc`` (NaN for the baseline, which ranks nobody)
        and ``brier``; model rows add ``brier_skill_vs_kaplan_meier`` (``1 - brier /
        brier of the baseline``).
    integrated : DataFrame
        One row per fold and model: ``integrated_brier`` (the mean of the monthly Brier scores
        over months ``1..tau``, ``tau`` the largest horizon) and, for the model,
        ``integrated_brier_skill_vs_kaplan_meier``.
    predictions : DataFrame
        Out-of-fold rows: period, unit (when the panel has it), ``fold``, ``time`` (months to
        the exit or of follow-up), ``status`` (exit cause, or ``"censored"``), ``risk_<h>`` and
        ``km_<h>`` per horizon. No person ids.
    n_splits, gap : int
        The split settings.
    horizons : tuple of int
    outcome : str
    """

    table: pd.DataFrame
    integrated: pd.DataFrame
    predictions: pd.DataFrame
    n_splits: int
    gap: int
    horizons: tuple[int, ...]
    outcome: str
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        pooled = self.table[self.table["fold"] == "pooled"]
        wide = pooled.pivot(index="horizon", columns="model", values=["auc", "brier"])
        ibs = self.integrated[self.integrated["fold"] == "pooled"]
        return (
            f"HazardEvaluationResult(outcome={self.outcome!r}, n_splits={self.n_splits}, "
            f"gap={self.gap}, rows={len(self.predictions)})\n{wide.to_string()}\n"
            f"{ibs[['model', 'integrated_brier']].to_string(index=False)}"
        )

    def summary(self) -> dict[str, Any]:
        """Pooled metrics of the model and the baseline (JSON-ready; used in the manifest)."""
        out: dict[str, Any] = {
            "cv": "temporal",
            "n_splits": self.n_splits,
            "gap": self.gap,
            "n_predictions": len(self.predictions),
            "outcome": self.outcome,
            "horizons": list(self.horizons),
        }
        pooled = self.table[self.table["fold"] == "pooled"]
        ibs = self.integrated[self.integrated["fold"] == "pooled"].set_index("model")
        for name in ("model", BASELINE):
            rows = pooled[pooled["model"] == name].set_index("horizon")
            entry: dict[str, Any] = {}
            for h, row in rows.iterrows():
                for metric in ("auc", "brier", "brier_skill_vs_kaplan_meier"):
                    if metric in row.index:
                        entry[f"{metric}_{h}m"] = _num(row[metric])
            for metric in ("integrated_brier", "integrated_brier_skill_vs_kaplan_meier"):
                if metric in ibs.columns:
                    entry[metric] = _num(ibs.loc[name, metric])
            out[name] = entry
        return out


def _num(v: Any) -> float | None:
    return None if pd.isna(v) else float(v)


def _check_horizons(horizons: Sequence[int] | None) -> tuple[int, ...]:
    if horizons is None:
        return DEFAULT_HORIZONS
    hs = (horizons,) if isinstance(horizons, int | np.integer) else tuple(horizons)
    if not hs or any(
        isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1 for h in hs
    ):
        raise ValueError(f"horizons={horizons!r} must be positive whole months, e.g. (3, 6, 12).")
    return tuple(sorted({int(h) for h in hs}))


def _clone(model: Any) -> Any:
    return type(model)(**model.get_params())


def follow_up(
    panel: pd.DataFrame, register: Any, scope: str, causes: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """``(time, status)`` of each panel row, followed from its month.

    ``time``: the month of the stay's exit (1 = the row's own month), or the full months
    observed after the row's month (``periods_to_exit``) when the stay is still running at
    the end of the data. ``status``: the index of the exit's cause in ``causes`` (reasons not
    named count as the last, ``"other_exits"``), or -1 when censored.
    """
    months, reason = next_exits(panel, exit_months(register, scope))
    named = {c: i for i, c in enumerate(causes[:-1])}
    other = len(causes) - 1
    code = np.array([-1 if r is None else named.get(r, other) for r in reason], dtype=np.int64)
    ended = ~np.isnan(months)
    follow = panel["periods_to_exit"].to_numpy(dtype=float)
    time = np.where(ended, months, follow).astype(np.int64)
    return time, np.where(ended, code, -1)


def evaluate_hazard(
    model: Any,
    panel: pd.DataFrame,
    register: Any,
    *,
    spec: PanelSpec,
    n_splits: int,
    gap: int | None,
    person_folds: int,
    horizons: Sequence[int] | None,
    outcome: str | None,
) -> HazardEvaluationResult:
    """:func:`~turnover_risk.evaluate` of a HazardModel (see the module docstring)."""
    if register is None:
        raise ValueError(
            "evaluate(HazardModel, panel) needs the register the panel was built from: "
            "tr.evaluate(model, panel, register=reg) (it gives the month and reason of each exit)."
        )
    hs = _check_horizons(horizons)
    tau = max(hs)
    if spec.freq != "M":
        raise ValueError(
            f"a HazardModel is evaluated on a monthly panel; this one has freq={spec.freq!r}. "
            "Build it with tr.build_panel(register, freq='M')."
        )
    causes = (*model._check(), "other_exits")
    name = causes[0] if outcome is None else outcome
    if name not in (*causes, "any"):
        raise ValueError(f"outcome={outcome!r} is not modelled; choose from {(*causes, 'any')}.")
    k = None if name == "any" else causes.index(name)
    horizon = max(int(spec.horizon), int(getattr(model, "horizon", None) or 0))
    gap = check_gap(gap, horizon)  # the classifier's folds; no hazard label crosses the gap
    id_col = person_column(panel, spec)
    unit_col = "unit_id" if "unit_id" in spec.group_cols and "unit_id" in panel.columns else None
    periods, test_size, blocks = temporal_blocks(panel, spec, n_splits, gap)
    row_month = panel[spec.period_col].to_numpy().astype("datetime64[M]").astype(np.int64)
    group = _person_fold(panel[id_col], person_folds)
    period_values = panel[spec.period_col].to_numpy()
    time_all, status_all = follow_up(panel, register, spec.scope, causes)

    rows: list[dict[str, Any]] = []
    integrated: list[dict[str, Any]] = []
    preds: list[pd.DataFrame] = []
    pooled: dict[str, list[np.ndarray]] = {"time": [], "status": [], "model": [], "km": []}
    for f, (train_periods, test_periods) in enumerate(blocks):
        in_train = np.isin(period_values, train_periods)
        in_test = np.isin(period_values, test_periods)
        test_start = np.datetime64(pd.Timestamp(test_periods[0]), "M").astype(np.int64)
        fold_idx, fold_model, fold_km, n_train = [], [], [], []
        for g in range(person_folds):
            tr_mask = in_train & (group != g)
            te_idx = np.flatnonzero(in_test & (group == g))
            if len(te_idx) == 0:
                continue
            train = attach_spec(panel[tr_mask].copy(), spec)
            fitted = _clone(model)
            try:
                fitted.fit(train, register)
            except ValueError as err:
                raise ValueError(
                    f"fold {f + 1} (training periods {str(pd.Timestamp(train_periods[0]).date())}"
                    f" to {str(pd.Timestamp(train_periods[-1]).date())}) cannot be fitted: {err}"
                ) from err
            # Kaplan-Meier baseline: the training rows, followed up to the test block (the
            # information the classifier's training labels hold; nothing from the test periods)
            window = test_start - row_month[tr_mask]
            t_tr = time_all[tr_mask]
            seen = (status_all[tr_mask] >= 0) & (t_tr <= window)
            km = aalen_johansen(
                np.where(seen, t_tr, np.minimum(t_tr, window)),
                np.where(seen, status_all[tr_mask], -1),
                len(causes),
                tau,
            )
            curves = fitted.risk_curves(panel.iloc[te_idx], tau)
            p = curves.sum(axis=2) if k is None else curves[:, :, k]
            b = km.sum(axis=1) if k is None else km[:, k]
            fold_idx.append(te_idx)
            fold_model.append(p)
            fold_km.append(np.broadcast_to(b, p.shape))
            n_train.append(int(tr_mask.sum()))
        if not fold_idx:
            raise ValueError(f"fold {f + 1} has no test rows; use fewer splits.")
        idx = np.concatenate(fold_idx)
        t, s = time_all[idx], status_all[idx]
        p, b = np.vstack(fold_model), np.vstack(fold_km)
        info = {
            "fold": str(f + 1),
            "n_train": int(np.mean(n_train)),
            "n_test": len(idx),
            "n_test_persons": int(panel[id_col].iloc[idx].nunique()),
            "train_start": pd.Timestamp(train_periods[0]),
            "train_end": pd.Timestamp(train_periods[-1]),
            "test_start": pd.Timestamp(test_periods[0]),
            "test_end": pd.Timestamp(test_periods[-1]),
        }
        _score(rows, integrated, info, t, s, p, b, hs, k, name)
        pred = pd.DataFrame({"period": period_values[idx]})
        if unit_col is not None:
            pred[unit_col] = panel[unit_col].to_numpy()[idx]
        pred["fold"] = f + 1
        pred["time"] = t
        pred["status"] = np.where(s >= 0, np.asarray(causes, dtype=object)[s], "censored")
        for h in hs:
            pred[f"risk_{h}"] = p[:, h - 1]
            pred[f"km_{h}"] = b[:, h - 1]
        preds.append(pred)
        for key, val in (("time", t), ("status", s), ("model", p), ("km", b)):
            pooled[key].append(val)
    cat = {key: np.concatenate(v) for key, v in pooled.items()}
    info = {
        "fold": "pooled",
        "n_train": np.nan,
        "n_test": len(cat["time"]),
        "n_test_persons": np.nan,
        "train_start": min(r["train_start"] for r in rows),
        "train_end": max(r["train_end"] for r in rows),
        "test_start": min(r["test_start"] for r in rows),
        "test_end": max(r["test_end"] for r in rows),
    }
    _score(rows, integrated, info, cat["time"], cat["status"], cat["model"], cat["km"], hs, k, name)
    result = HazardEvaluationResult(
        table=_with_skill(pd.DataFrame(rows), "brier", ["fold", "horizon"]),
        integrated=_with_skill(pd.DataFrame(integrated), "integrated_brier", ["fold"]),
        predictions=pd.concat(preds, ignore_index=True),
        n_splits=int(n_splits),
        gap=gap,
        horizons=hs,
        outcome=name,
        info={"n_periods": len(periods), "test_size": test_size, "person_folds": person_folds},
    )
    model._evaluation_summary = result.summary()
    return result


def _score(rows, integrated, info, t, s, p, b, hs, k, name) -> None:
    """Append the metrics of one fold (or the pooled rows) to ``rows`` and ``integrated``."""
    tau = p.shape[1]
    G = censoring_survival(t, s, tau)
    for model_name, risk in (("model", p), (BASELINE, b)):
        for h in hs:
            left = (s >= 0) & (t <= h)
            case = left & (s == k) if k is not None else left
            rows.append(
                {
                    **info,
                    "model": model_name,
                    "horizon": h,
                    "outcome": name,
                    "cases": int(case.sum()),
                    "censored": int(((s < 0) & (t < h)).sum()),
                    "mean_risk": float(risk[:, h - 1].mean()),
                    "observed_risk": observed_risk(t, s, h, k, G),
                    "auc": auc(risk[:, h - 1], t, s, h, k, G) if model_name == "model" else np.nan,
                    "brier": brier_score(risk[:, h - 1], t, s, h, k, G),
                }
            )
        monthly = [brier_score(risk[:, j - 1], t, s, j, k, G) for j in range(1, tau + 1)]
        integrated.append(
            {**info, "model": model_name, "tau": tau, "integrated_brier": float(np.mean(monthly))}
        )


def _with_skill(table: pd.DataFrame, metric: str, keys: list[str]) -> pd.DataFrame:
    """Model rows get ``<metric>_skill_vs_kaplan_meier = 1 - metric / baseline's metric``."""
    base = table[table["model"] == BASELINE].set_index(keys)[metric]
    ref = pd.MultiIndex.from_frame(table[keys]) if len(keys) > 1 else pd.Index(table[keys[0]])
    ref_vals = base.reindex(ref).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        skill = 1.0 - table[metric].to_numpy(dtype=float) / ref_vals
    out = table.copy()
    out[f"{metric}_skill_vs_{BASELINE}"] = np.where(out["model"] == "model", skill, np.nan)
    return out
