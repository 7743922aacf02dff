"""Panel helpers shared by :func:`turnover_risk.flag_groups` and :func:`turnover_risk.what_if`.

Choosing the period (the latest, a given one, or the latest one whose outcomes are known),
checking one row per person, integer codes of the groups and persons per group, which rows
belong to shown (not suppressed) groups, the model's risk for panel rows (a
``TurnoverRiskModel`` fitted on a panel, or any classifier with ``predict_proba``), and the
check of the ``by=`` group columns, and the adapter of a HazardModel at a horizon.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from turnover_risk._warnings import TurnoverRiskWarning
from turnover_risk.panel._spec import ATTRS_KEY, PanelSpec, panel_spec
from turnover_risk.privacy import check_grouping, protect_groups

MAX_CENSORED_SHARE = 0.10
"""Retrospective default period: the latest one with at most this share of labels missing
(in a panel of voluntary exits, competing exits such as retirement are censored)."""


def _shown_rows(
    keys: pd.DataFrame,
    n_persons: np.ndarray,
    codes: np.ndarray,
    rows: pd.DataFrame,
    min_group_size: int,
) -> np.ndarray:
    """Rows whose group is shown: not hidden by the privacy layer (small groups and the partner
    groups that keep them from being a difference of shown ones)."""
    table = keys.assign(n_persons=np.asarray(n_persons))
    hidden = protect_groups(table, by=list(keys.columns), rows=rows, min_group_size=min_group_size)
    return ~hidden[codes]


def _with_spec(frame: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    if ATTRS_KEY in source.attrs:
        frame.attrs[ATTRS_KEY] = source.attrs[ATTRS_KEY]
    return frame


def _period_values(panel: pd.DataFrame, spec: PanelSpec) -> pd.Series:
    if spec.period_col not in panel.columns:
        raise ValueError(f"the panel has no period column {spec.period_col!r}.")
    return panel[spec.period_col]


def _coerce_period(panel, spec, period) -> pd.Timestamp:
    periods = _period_values(panel, spec)
    try:
        ts = pd.Timestamp(period)
    except (TypeError, ValueError) as err:
        raise ValueError(f"period={period!r} is not a date; pass e.g. '2024-01-01'.") from err
    if not (periods == ts).any():
        available = pd.Series(periods.unique()).sort_values()
        raise ValueError(
            f"period={period!r} is not a period of the panel; periods run from "
            f"{available.iloc[0].date()} to {available.iloc[-1].date()}."
        )
    return ts


def _latest_or_given_period(panel, spec, period) -> pd.Timestamp:
    if period is not None:
        return _coerce_period(panel, spec, period)
    periods = _period_values(panel, spec)
    if periods.empty:
        raise ValueError("the panel has no rows.")
    return pd.Timestamp(periods.max())


def _labelled_period(panel, spec, period) -> pd.Timestamp:
    label = panel[spec.label_col]
    if period is not None:
        ts = _coerce_period(panel, spec, period)
        if not label[panel[spec.period_col] == ts].notna().any():
            raise ValueError(
                f"period={period!r} has no labelled rows (its horizon has not elapsed); choose "
                "an earlier period or leave period=None for the latest fully labelled one."
            )
        return ts
    known = label.notna().groupby(panel[spec.period_col]).mean()
    if known.empty or known.max() == 0:
        raise ValueError(
            "retrospective mode needs periods whose outcomes are known, but every label in the "
            f"panel ({spec.label_col!r}) is missing; build the panel with an earlier end or a "
            "shorter horizon, or use mode='prospective'."
        )
    elapsed = known[known >= 1 - MAX_CENSORED_SHARE]
    if len(elapsed):
        return pd.Timestamp(elapsed.index.max())
    best = known[known == known.max()]
    warnings.warn(
        f"no period has at least {1 - MAX_CENSORED_SHARE:.0%} of its labels known; using "
        f"{pd.Timestamp(best.index.max()).date()} ({known.max():.0%} known). Observed/expected "
        "ratios of a partly censored period are biased; pass period=... to choose.",
        TurnoverRiskWarning,
        stacklevel=4,
    )
    return pd.Timestamp(best.index.max())


def _one_row_per_person(rows: pd.DataFrame, spec: PanelSpec) -> pd.DataFrame:
    ids = [c for c in spec.id_cols if c in rows.columns]
    if ids and rows.duplicated(ids).any():
        n = int(rows.duplicated(ids).sum())
        raise ValueError(
            f"the period has {n} duplicate rows per person ({ids}); a panel has one row per "
            "person and period — rebuild it with tr.build_panel."
        )
    return rows


def _group_codes(rows: pd.DataFrame, by_cols: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    keys_frame = rows[by_cols]
    if keys_frame.isna().any(axis=None):
        raise ValueError(
            f"group column(s) {by_cols} have missing values in {int(keys_frame.isna().any(axis=1).sum())} "
            "rows; fill or drop them first."
        )
    codes, uniques = pd.MultiIndex.from_frame(keys_frame).factorize(sort=True)
    keys = uniques.to_frame(index=False)
    keys.columns = by_cols
    return np.asarray(codes), keys


def _persons_per_group(rows, spec, codes, n_groups) -> np.ndarray:
    ids = [c for c in spec.id_cols if c in rows.columns]
    if not ids:
        return np.bincount(codes, minlength=n_groups)
    person = pd.MultiIndex.from_frame(rows[ids]).factorize()[0]
    pairs = pd.DataFrame({"g": codes, "p": person}).drop_duplicates()
    return np.bincount(pairs["g"].to_numpy(), minlength=n_groups)


def _model_features(model, spec: PanelSpec) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    return list(names) if names is not None else list(spec.feature_cols)


def _model_input(model, frame: pd.DataFrame, spec: PanelSpec) -> pd.DataFrame:
    if getattr(model, "spec_", None) is not None:
        return frame  # TurnoverRiskModel fitted on a panel reduces it to its own features
    X = frame[_model_features(model, spec)]
    X.attrs = {}
    return X


def _predict(model, frame: pd.DataFrame, spec: PanelSpec) -> np.ndarray:
    proba = model.predict_proba(_model_input(model, frame, spec))
    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 2:
        proba = proba[:, -1]
    return proba


def _risk_model(model, horizon):
    """The model to predict with and facts for ``info``: a HazardModel becomes the
    :class:`~turnover_risk.scoring._hazard.HazardRisk` adapter at ``horizon`` (default 12
    months, as :func:`turnover_risk.score_dataset`); with any other model ``horizon`` must be
    left out (ValueError: a classifier gives the risk within the horizon it was trained with)."""
    from turnover_risk.scoring._hazard import scoring_model

    return scoring_model(model, horizon)


def _check_by(panel: pd.DataFrame, by: str | Sequence[str]) -> list[str]:
    cols = [by] if isinstance(by, str) else list(by)
    if not cols:
        raise ValueError("by must name at least one group column, e.g. by='unit_id'.")
    check_grouping(cols)
    missing = [c for c in cols if c not in panel.columns]
    if missing:
        try:
            known = [c for c in panel_spec(panel).group_cols if c in panel.columns]
        except ValueError:
            known = []
        raise ValueError(
            f"by={by!r} names column(s) {missing} that the panel does not have; group columns "
            f"of this panel are: {', '.join(known) or '(none)'} (any other panel column works "
            "too)."
        )
    return cols
