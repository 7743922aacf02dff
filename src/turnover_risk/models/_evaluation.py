"""Honest evaluation of a turnover model: rolling-origin splits by period, persons kept apart.

:func:`evaluate` refits a clone of the model on earlier periods and scores later ones, leaving a
gap of one horizon between them so no training label looks into the test periods. Each person's
rows are on one side only. The metrics cover ranking (ROC-AUC, PR-AUC, precision and recall in
the top 10 %), accuracy of probabilities (Brier, log loss) and calibration (intercept, slope,
expected calibration error), next to two baselines a leader already has: the base rate and each
unit's trailing exit share. The metrics and the gains over the baselines are computed in
``_metrics``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from turnover_risk._warnings import TurnoverRiskWarning
from turnover_risk.models._inputs import _resolved_period_mask
from turnover_risk.models._metrics import _METRICS, N_BINS, _add_gains, _metrics
from turnover_risk.panel._spec import PanelSpec, attach_spec, panel_spec

__all__ = [
    "CV_SCHEMES",
    "EvaluationResult",
    "LabelOverlapWarning",
    "evaluable_periods",
    "evaluate",
]


class LabelOverlapWarning(TurnoverRiskWarning):
    """An evaluation gap shorter than the horizon lets training labels see the test periods."""


CV_SCHEMES: tuple[str, ...] = ("temporal",)
UNIT_SHARE_FEATURE = "unit_exit_share_12m"


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Out-of-fold evaluation of a model and two baselines.

    Attributes
    ----------
    table : DataFrame
        One row per fold and model (``model``, ``base_rate``, ``unit_exit_share``) plus the
        pooled rows (``fold == "pooled"``): sizes, period ranges and the metrics
        roc_auc, pr_auc, brier, log_loss, calibration_intercept, calibration_slope, ece,
        precision_top10, recall_top10. The ``base_rate`` rows leave the ranking metrics and
        the slope empty (NaN): a constant ranks nobody. Model rows add by how much they beat
        each baseline: ``<metric>_gain_vs_<baseline>`` (difference in ROC-AUC and PR-AUC;
        against the base rate from the no-skill values 0.5 and the share of leavers) and
        ``<metric>_skill_vs_<baseline>`` (relative reduction of Brier and log loss).
    predictions : DataFrame
        Out-of-fold rows: period, y, p, fold, the baselines' scores ``p_base_rate``,
        ``p_unit_exit_share`` and the unit column when the panel has one. No person ids.
    n_splits, gap : int
        The split settings.
    """

    table: pd.DataFrame
    predictions: pd.DataFrame
    n_splits: int
    gap: int
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        pooled = self.table[(self.table["fold"] == "pooled")]
        cols = ["model", "roc_auc", "pr_auc", "brier", "calibration_slope", "precision_top10"]
        return (
            f"EvaluationResult(n_splits={self.n_splits}, gap={self.gap}, "
            f"rows={len(self.predictions)})\n{pooled[cols].to_string(index=False)}"
        )

    def summary(self) -> dict[str, Any]:
        """Pooled metrics of the model and the baselines (JSON-ready; used in the manifest)."""
        pooled = self.table[self.table["fold"] == "pooled"].set_index("model")
        out: dict[str, Any] = {
            "cv": "temporal",
            "n_splits": self.n_splits,
            "gap": self.gap,
            "n_predictions": len(self.predictions),
        }
        for name, row in pooled.iterrows():
            out[str(name)] = {
                k: (None if pd.isna(v) else float(v))
                for k, v in row.items()
                if k in _METRICS or "_vs_" in k
            }
        return out

    def plot_calibration(self, ax: Any = None, *, n_bins: int = N_BINS):
        """Reliability curve of the pooled out-of-fold predictions (equal-count bins).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 5))
        pred = self.predictions
        hi = 0.0
        for col, label, style in (
            ("p", "model", "o-"),
            ("p_unit_exit_share", "unit exit share", "s--"),
        ):
            if col not in pred.columns or pred[col].isna().all():
                continue
            p = pred[col].to_numpy(dtype=float)
            y = pred["y"].to_numpy(dtype=float)
            order = np.argsort(p, kind="stable")
            chunks = np.array_split(order, min(n_bins, len(p)))
            mp = np.array([p[c].mean() for c in chunks])
            my = np.array([y[c].mean() for c in chunks])
            ax.plot(mp, my, style, label=label, ms=4)
            hi = max(hi, mp.max(), my.max())
        base = float(pred["y"].mean())
        ax.axhline(base, color="0.6", lw=0.8, ls=":", label=f"observed rate {base:.3f}")
        hi = min(1.0, hi * 1.1 + 0.01)
        ax.plot([0, hi], [0, hi], color="0.3", lw=0.8, label="perfect calibration")
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_xlabel("predicted probability of leaving")
        ax.set_ylabel("observed share who left")
        ax.set_title("Calibration (out-of-fold, pooled)")
        ax.legend(loc="upper left", fontsize=8)
        return ax


def evaluable_periods(panel: pd.DataFrame, spec: PanelSpec) -> np.ndarray:
    """Sorted periods whose labels are mostly resolved (at most half censored).

    In the last horizon of the data the stayers' labels are censored while leavers may already
    be labelled; labelled rows of such periods over-represent leavers, so they are left out
    (the same rule :meth:`TurnoverRiskModel.fit` applies to a panel).
    """
    mask = _resolved_period_mask(panel, spec)
    return np.sort(pd.unique(panel.loc[mask, spec.period_col].to_numpy()))


def is_hazard_model(model: Any) -> bool:
    """Whether ``model`` is a :class:`~turnover_risk.HazardModel` (scored by time-dependent metrics)."""
    from turnover_risk.models._hazard import HazardModel

    return isinstance(model, HazardModel)


def check_gap(gap: Any, horizon: int) -> int:
    """The gap between training and test periods: ``horizon`` by default, else checked."""
    if gap is None:
        return int(horizon)
    if isinstance(gap, bool) or not isinstance(gap, int | np.integer) or gap < 0:
        raise ValueError(f"gap={gap!r} must be a non-negative integer number of periods.")
    return int(gap)


def person_column(panel: pd.DataFrame, spec: PanelSpec) -> str:
    """The person id column (persons are kept on one side of every fit)."""
    if spec.id_cols and spec.id_cols[0] in panel.columns:
        return spec.id_cols[0]
    raise ValueError(
        "the panel has no person id column, so persons cannot be kept on one side of the "
        f"split; expected {spec.id_cols[:1]}."
    )


def temporal_blocks(
    panel: pd.DataFrame, spec: PanelSpec, n_splits: int, gap: int
) -> tuple[np.ndarray, int, list[tuple[np.ndarray, np.ndarray]]]:
    """The evaluable periods, the test block size and ``(train periods, test periods)`` per fold.

    Each test block has ``(P - gap) // (n_splits + 1)`` periods (``P`` evaluable periods); the
    blocks are the last ``n_splits`` ones and fold ``k`` trains on every period before
    ``test_start - gap``.
    """
    periods = evaluable_periods(panel, spec)
    n_periods = len(periods)
    test_size = (n_periods - gap) // (n_splits + 1)
    if test_size < 1:
        raise ValueError(
            f"too few periods for n_splits={n_splits} with gap={gap}: the panel has {n_periods} "
            f"periods with resolved labels; it needs at least {gap + n_splits + 1}. Use fewer "
            "splits, a smaller gap or a longer panel."
        )
    blocks = []
    for k in range(n_splits):
        start = n_periods - (n_splits - k) * test_size
        blocks.append((periods[: start - gap], periods[start : start + test_size]))
    return periods, test_size, blocks


def _person_fold(ids: pd.Series, n_splits: int) -> np.ndarray:
    """Deterministic person -> group assignment by a hash of the id (independent of row order)."""
    hashed = pd.util.hash_array(ids.astype(str).to_numpy(dtype=object))
    return (hashed % np.uint64(n_splits)).astype(int)


def _score_fold(
    model: Any,
    train: pd.DataFrame,
    test: pd.DataFrame,
    spec: PanelSpec,
    unit_col: str | None,
    k: int,
    train_periods: np.ndarray,
    base: float,
) -> pd.DataFrame:
    """Fit a clone on ``train`` and return the out-of-fold predictions for ``test``.

    ``base`` is the fold's base rate: the prevalence in the fold's training periods.
    """
    fold_model = clone(model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            fold_model.fit(train)
    except ValueError as err:
        raise ValueError(
            f"fold {k + 1} (training periods {str(pd.Timestamp(train_periods[0]).date())} to "
            f"{str(pd.Timestamp(train_periods[-1]).date())}) cannot be fitted: {err}"
        ) from err
    if UNIT_SHARE_FEATURE in test.columns:
        unit_share = test[UNIT_SHARE_FEATURE].astype(float).fillna(base).to_numpy()
    elif unit_col is not None:
        unit_rate = train.groupby(unit_col, observed=True)[spec.label_col].mean()
        unit_share = test[unit_col].map(unit_rate).astype(float).fillna(base).to_numpy()
    else:
        unit_share = np.full(len(test), np.nan)
    pred = pd.DataFrame(
        {
            "period": test[spec.period_col].to_numpy(),
            "y": test[spec.label_col].to_numpy(dtype=int),
            "p": fold_model.predict_proba(test)[:, 1],
            "fold": k + 1,
            "p_base_rate": np.full(len(test), base),
            "p_unit_exit_share": unit_share,
        }
    )
    if unit_col is not None:
        pred.insert(1, unit_col, test[unit_col].to_numpy())
    return pred


def evaluate(
    model: Any,
    panel: pd.DataFrame,
    *,
    cv: str = "temporal",
    n_splits: int = 4,
    gap: int | None = None,
    person_folds: int = 4,
    register: Any = None,
    horizons: Sequence[int] | None = None,
    outcome: str | None = None,
) -> Any:
    """Rolling-origin evaluation by period, with a horizon-long gap and persons kept apart.

    Parameters
    ----------
    model : TurnoverRiskModel or HazardModel
        Fitted or not; a clone is fitted per fold, the model itself is not refitted. The pooled
        metrics are recorded on it so ``save`` writes them to the manifest. A
        :class:`~turnover_risk.HazardModel` is scored on the same folds with time-dependent
        metrics (see ``register``).
    panel : DataFrame
        A panel from ``build_panel`` (its spec gives the period, label, person and unit columns).
    cv : {"temporal"}
        The split scheme.
    n_splits : int
        Number of test blocks (folds), at least 2.
    gap : int, optional
        Periods left out between the last training period and the first test period. Default:
        the horizon (the panel's, or the model's if larger), so no training label overlaps the
        test periods. A smaller gap is allowed (e.g. to study leakage) but warns with
        :class:`LabelOverlapWarning`.
    person_folds : int
        Number of person groups (at least 2) cross-fitted within each fold: every person in a
        test block is scored by a model that never saw that person. Costs ``n_splits *
        person_folds`` fits.
    register : Register, optional
        HazardModel only (required there): the register the monthly panel was built from (exit
        months and reasons).
    horizons : sequence of int, optional
        HazardModel only: months at which the time-dependent AUC and Brier score are computed;
        default ``(3, 6, 12, 24)``. The integrated Brier score runs to the largest.
    outcome : str, optional
        HazardModel only: a modelled cause, ``"other_exits"`` or ``"any"``; default the
        model's first outcome.

    Returns
    -------
    EvaluationResult
        For a HazardModel a :class:`~turnover_risk.models.HazardEvaluationResult` (censoring
        weighted time-dependent AUC and Brier score against the Kaplan-Meier baseline; see
        ``docs/survival.md``).

    Notes
    -----
    Splits. Only periods with at most half of their labels censored are used (see
    :func:`evaluable_periods`). With ``P`` such periods, each test block has
    ``(P - gap) // (n_splits + 1)`` periods; the blocks are the last ``n_splits`` blocks, and
    fold ``k`` trains on every period before ``test_start - gap``.

    Persons (cross-fitting). Each person is assigned, by a hash of the id, to one of
    ``person_folds`` groups. Within fold ``k``, the persons of group ``g`` in the test block are
    scored by a clone trained on the training periods of everybody *except* group ``g``; this is
    repeated for every group, so each fold's test block holds all its persons and no person is
    ever on both sides of a fit. (Dropping all test persons from training would leave training
    with people who left before the test block, a sample of leavers; testing on a single person group
    per fold instead left about 20 leavers per fold in the 750-person sample and made the
    per-fold calibration slopes pure noise.) Fold metrics pool the groups of the fold; the
    ``n_train`` column is the mean training size of the fold's fits.

    Baselines. ``base_rate``: one constant per fold, the prevalence of all labelled rows in the
    fold's training periods. It ranks nobody, so its ROC-AUC, PR-AUC, calibration slope and
    top-10 % metrics are NaN (also pooled, where it is one constant per fold); the model's
    ranking gains against it are measured from ROC-AUC 0.5 and PR-AUC = share of leavers.
    ``unit_exit_share``: the panel's ``unit_exit_share_12m`` feature (each unit's trailing
    12-month exit share; missing values -> base rate) when present, else each unit's leaving
    rate in the training rows of each cross-fitted fit.

    Examples
    --------
    >>> import turnover_risk as tr  # doctest: +SKIP
    >>> res = tr.evaluate(tr.TurnoverRiskModel(), panel)  # doctest: +SKIP
    >>> res.table[res.table.fold == "pooled"]  # doctest: +SKIP
    >>> monthly = tr.build_panel(reg, freq="M", outcome="any")  # doctest: +SKIP
    >>> tr.evaluate(tr.HazardModel(), monthly, register=reg).integrated  # doctest: +SKIP
    """
    if cv not in CV_SCHEMES:
        raise ValueError(
            f"cv={cv!r} is not a known split scheme; choose one of: {', '.join(CV_SCHEMES)}."
        )
    if isinstance(n_splits, bool) or not isinstance(n_splits, int | np.integer) or n_splits < 2:
        raise ValueError(f"n_splits={n_splits!r} must be an integer >= 2.")
    if (
        isinstance(person_folds, bool)
        or not isinstance(person_folds, int | np.integer)
        or person_folds < 2
    ):
        raise ValueError(
            f"person_folds={person_folds!r} must be an integer >= 2 (persons are cross-fitted "
            "so that no person is on both sides of a fit)."
        )
    spec = panel_spec(panel)
    if is_hazard_model(model):
        from turnover_risk.models._hazard_eval import evaluate_hazard

        return evaluate_hazard(
            model,
            panel,
            register,
            spec=spec,
            n_splits=int(n_splits),
            gap=gap,
            person_folds=int(person_folds),
            horizons=horizons,
            outcome=outcome,
        )
    if register is not None or horizons is not None or outcome is not None:
        raise ValueError(
            "register=, horizons= and outcome= apply to a HazardModel; a "
            f"{type(model).__name__} is scored at its panel's horizon and outcome."
        )
    horizon = max(int(spec.horizon), int(getattr(model, "horizon", None) or 0))
    gap = check_gap(gap, horizon)
    if gap < horizon:
        warnings.warn(
            f"gap={gap} is shorter than the horizon of {horizon} periods: the labels of the "
            f"last {horizon - gap} training periods look into the test periods, so the scores "
            f"are optimistic. Use gap={horizon} (the default) for an honest evaluation.",
            LabelOverlapWarning,
            stacklevel=2,
        )
    for col in (spec.period_col, spec.label_col):
        if col not in panel.columns:
            raise ValueError(f"the panel lacks its {col!r} column; rebuild it with build_panel.")
    id_col = person_column(panel, spec)
    unit_col = next((c for c in spec.group_cols if c == "unit_id" and c in panel.columns), None)
    periods, test_size, blocks = temporal_blocks(panel, spec, n_splits, gap)
    n_periods = len(periods)
    labelled = panel[panel[spec.label_col].notna()]
    person_group = _person_fold(labelled[id_col], person_folds)
    period_values = labelled[spec.period_col].to_numpy()

    rows: list[dict[str, Any]] = []
    preds: list[pd.DataFrame] = []
    for k, (train_periods, test_periods) in enumerate(blocks):
        in_train_periods = np.isin(period_values, train_periods)
        in_test_periods = np.isin(period_values, test_periods)
        parts: list[pd.DataFrame] = []
        n_train: list[int] = []
        base = float(labelled.loc[in_train_periods, spec.label_col].to_numpy(dtype=float).mean())
        for g in range(person_folds):
            in_group = person_group == g
            train = attach_spec(labelled[in_train_periods & ~in_group].copy(), spec)
            test = attach_spec(labelled[in_test_periods & in_group].copy(), spec)
            if len(test) == 0:
                continue
            parts.append(_score_fold(model, train, test, spec, unit_col, k, train_periods, base))
            n_train.append(len(train))
        if not parts:
            raise ValueError(f"fold {k + 1} has no test rows; use fewer splits.")
        pred = pd.concat(parts, ignore_index=True)
        y_test = pred["y"].to_numpy(dtype=int)
        info = {
            "fold": str(k + 1),
            "n_train": int(np.mean(n_train)),
            "n_test": len(pred),
            "n_test_persons": int(labelled.loc[in_test_periods, id_col].nunique()),
            "n_test_positive": int(y_test.sum()),
            "train_start": pd.Timestamp(train_periods[0]),
            "train_end": pd.Timestamp(train_periods[-1]),
            "test_start": pd.Timestamp(test_periods[0]),
            "test_end": pd.Timestamp(test_periods[-1]),
        }
        for name, col in (
            ("model", "p"),
            ("base_rate", "p_base_rate"),
            ("unit_exit_share", "p_unit_exit_share"),
        ):
            if pred[col].notna().all():
                p_col = pred[col].to_numpy()
                rows.append(
                    {**info, "model": name, **_metrics(y_test, p_col, ranks=name != "base_rate")}
                )
        preds.append(pred)

    predictions = pd.concat(preds, ignore_index=True)
    y_all = predictions["y"].to_numpy()
    pooled_info = {
        "fold": "pooled",
        "n_train": np.nan,
        "n_test": len(predictions),
        "n_test_persons": np.nan,
        "n_test_positive": int(y_all.sum()),
        "train_start": min(r["train_start"] for r in rows),
        "train_end": max(r["train_end"] for r in rows),
        "test_start": min(r["test_start"] for r in rows),
        "test_end": max(r["test_end"] for r in rows),
    }
    for name, col in (
        ("model", "p"),
        ("base_rate", "p_base_rate"),
        ("unit_exit_share", "p_unit_exit_share"),
    ):
        if predictions[col].notna().all():
            # the pooled base rate is one constant per fold: it still ranks nobody
            metrics = _metrics(y_all, predictions[col].to_numpy(), ranks=name != "base_rate")
            rows.append({**pooled_info, "model": name, **metrics})
    table = pd.DataFrame(rows)
    table = _add_gains(table)
    result = EvaluationResult(
        table=table,
        predictions=predictions,
        n_splits=int(n_splits),
        gap=gap,
        info={"n_periods": n_periods, "test_size": test_size, "person_folds": int(person_folds)},
    )
    model._evaluation_summary = result.summary()
    return result
