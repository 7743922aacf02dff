"""What the model says would go with a change of a lever: :func:`what_if` and its result.

:func:`what_if` changes lever features (absolute values, deltas, caps or functions) for the
rows you choose and reports each group's predicted exit share before and after
(:class:`WhatIfResult`). It describes the model's *association*, not a proven effect of the
change (:data:`ASSOCIATION_NOTE`). This module also holds how one change is applied to the
selected rows of a feature (``set``, ``add``, ``multiply``, ``at_most``, ``at_least``, a
category, or a function of the column), the warning when the feature is not a lever a leader
can move, and the ``where=`` selection of rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk._warnings import TurnoverRiskWarning
from turnover_risk.groups._common import (
    _check_by,
    _group_codes,
    _latest_or_given_period,
    _model_features,
    _one_row_per_person,
    _persons_per_group,
    _predict,
    _risk_model,
    _with_spec,
)
from turnover_risk.panel._spec import panel_spec
from turnover_risk.privacy import blank_suppressed, protect_groups
from turnover_risk.privacy._suppression import (
    DEFAULT_MIN_GROUP_SIZE,
    check_min_group_size,
)

__all__ = ["ASSOCIATION_NOTE", "WhatIfResult", "what_if"]


ASSOCIATION_NOTE = (
    "What-if results show the model's association between the changed features and predicted "
    "risk, holding everything else fixed. They are not a proven effect of the change: staff who "
    "get more supervision or lower caseloads may differ in ways the model does not see."
)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class WhatIfResult:
    """Predicted exit shares before and after a change, per group (:func:`what_if`).

    Attributes
    ----------
    table : DataFrame
        Group column(s), ``n_persons``, ``n_changed`` (persons whose features changed),
        ``exit_share_before``, ``exit_share_after``, ``difference`` (after minus before,
        share points as a fraction), ``relative_change``, ``expected_leavers_before``,
        ``expected_leavers_after``, ``suppressed``.
    overall : dict
        The same figures for all persons of the period.
    changes : dict
        Readable description of each change.
    period : Timestamp
    note : str
        :data:`ASSOCIATION_NOTE` — this is association, not a proven effect.
    """

    table: pd.DataFrame
    overall: dict
    changes: dict
    period: pd.Timestamp
    by: tuple[str, ...]
    note: str = ASSOCIATION_NOTE

    def __repr__(self) -> str:
        return (
            f"WhatIfResult(changes={self.changes}, period={self.period.date()}, "
            f"exit_share {self.overall['exit_share_before']:.3f} -> "
            f"{self.overall['exit_share_after']:.3f}; groups={len(self.table)})\n"
            f"Note: {self.note}"
        )

    def plot(self, ax: Any = None):
        """Dot plot: each shown group's predicted exit share before (grey) and after (blue).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        shown = self.table[~self.table["suppressed"]].sort_values("exit_share_before")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.22 * max(len(shown), 8) + 1))
        pos = np.arange(len(shown))
        labels = [
            " / ".join(str(v) for v in row) for row in shown[list(self.by)].itertuples(index=False)
        ]
        ax.hlines(pos, shown["exit_share_before"], shown["exit_share_after"], color="0.7")
        ax.scatter(shown["exit_share_before"], pos, color="0.45", s=18, label="before", zorder=3)
        ax.scatter(shown["exit_share_after"], pos, color="#2874a6", s=18, label="after", zorder=3)
        ax.set_yticks(pos)
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_xlabel("predicted exit share (model association, not a proven effect)")
        ax.legend(loc="lower right", fontsize=8, frameon=False)
        return ax


# ---------------------------------------------------------------------------------------------
# what_if
# ---------------------------------------------------------------------------------------------


Change = float | int | str | tuple | Callable[[pd.Series], Any]


def what_if(
    model: Any,
    panel: pd.DataFrame,
    *,
    change: Mapping[str, Change],
    by: str | Sequence[str] = "unit_id",
    where: pd.Series | np.ndarray | Callable[[pd.DataFrame], Any] | None = None,
    period: Any = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    horizon: int | None = None,
) -> WhatIfResult:
    """Each group's predicted exit share before and after changing features.

    **This is the model's association, not a proven effect.** The result says how the model's
    predicted risk moves when the inputs move, everything else held fixed; staff who get more
    supervision or smaller caseloads may differ in ways the model does not see, and features
    that depend on the changed one (e.g. ``months_since_supervision`` after more sessions) are
    not updated unless you change them too.

    Parameters
    ----------
    model : TurnoverRiskModel, HazardModel or fitted classifier
        A :class:`~turnover_risk.HazardModel`'s risk is the cumulative incidence of its first
        outcome within ``horizon`` months (the other exits competing).
    panel : DataFrame
        A panel from :func:`turnover_risk.build_panel`; the latest period (or ``period``) is
        used, one row per person.
    change : mapping of feature name to change
        How to change each feature (applied to the rows selected by ``where``):

        * a **plain number means "add"** (a delta): ``{"supervision_sessions_3m": 2}`` (as
          written in the API's own example, ``+2``) gives everyone two more sessions per quarter. To *set* a
          value write ``("set", 6)``;
        * ``("set", v)``, ``("add", d)``, ``("multiply", f)``, ``("at_most", cap)``,
          ``("at_least", floor)`` — explicit operations; ``("at_most", 15)`` caps caseload at 15;
        * a string (or bool) sets a categorical feature: ``{"role": "senior"}``;
        * a callable receives the selected rows' column (a Series) and returns the new values:
          ``lambda s: s.clip(upper=15)``.

        After ``add``/``multiply``, a feature whose values were all non-negative is clipped at 0
        (no negative session counts). Changing a feature that is not a lever (``FEATURES[name]
        .lever`` is False, or the name is not documented) warns.
    by : str or list of str
        Group column(s).
    where : boolean Series, boolean array, callable or None
        Which persons to change. A Series is aligned on the panel's index (e.g.
        ``panel["tenure_service_months"] < 6``); an array must have one entry per row of the
        period; a callable gets the period's rows and returns a boolean mask. Default: everyone.
    period : date-like, optional
        Period to use; default the latest.
    min_group_size : int
        Groups with fewer persons are suppressed.
    horizon : int, optional
        HazardModel only: months of the risk (default 12). With a classifier, which gives the
        risk within the horizon it was trained with, another ``horizon`` is a ValueError.

    Returns
    -------
    WhatIfResult
        ``.table`` per group (see :class:`WhatIfResult`), ``.overall``, ``.note`` (the
        association caveat, also in ``.table.attrs["note"]``).

    Examples
    --------
    Two more supervision sessions per quarter for staff in their first six months, and caseload
    capped at 15:

    >>> tr.what_if(model, panel, by="unit_id",  # doctest: +SKIP
    ...            change={"supervision_sessions_3m": 2},
    ...            where=lambda p: p["tenure_service_months"] < 6)
    >>> tr.what_if(model, panel, change={"caseload_3m_mean": ("at_most", 15),  # doctest: +SKIP
    ...                                  "caseload_last": ("at_most", 15)})

    The same with a HazardModel, as the risk of leaving within 6 months:

    >>> tr.what_if(hazard_model, monthly_panel, horizon=6,  # doctest: +SKIP
    ...            change={"caseload_3m_mean": ("at_most", 15)})
    """
    _check_change(change)
    min_group_size = check_min_group_size(min_group_size)
    return _what_ifs(model, panel, [(change, where)], by, period, min_group_size, horizon)[0][0]


def _check_change(change: Any) -> None:
    if not isinstance(change, Mapping) or not change:
        raise TypeError(
            "change must be a non-empty mapping of feature name to change, e.g. "
            "{'supervision_sessions_3m': 2} (a plain number adds) or "
            f"{{'caseload_3m_mean': ('at_most', 15)}}; got {change!r}."
        )


def _what_ifs(
    model: Any,
    panel: pd.DataFrame,
    scenarios: Sequence[tuple[Mapping[str, Change], Any]],
    by: str | Sequence[str],
    period: Any,
    min_group_size: int,
    horizon: int | None = None,
) -> list[tuple[WhatIfResult, dict]]:
    """:func:`what_if` for several ``(change, where)`` scenarios on the same rows.

    The risks before are predicted once and the risks after of every scenario in one call
    (predictions are row by row, so the result is what separate calls give; a pipeline's
    fixed cost is paid twice instead of twice per scenario). Each scenario also returns the
    service's totals over *all* persons of the period (``n_persons``, ``expected_before``,
    ``expected_after``), small groups included in the sum, for a report's service line.
    """
    for change, _where in scenarios:
        _check_change(change)
    model, _info = _risk_model(model, horizon)  # a HazardModel scores at ``horizon``
    spec = panel_spec(panel)
    by_cols = _check_by(panel, by)
    period_ts = _latest_or_given_period(panel, spec, period)
    rows = _with_spec(panel.loc[panel[spec.period_col] == period_ts], panel)
    rows = _one_row_per_person(rows, spec)
    model_features = _model_features(model, spec)
    prepared = [_changed_rows(rows, change, where, model_features) for change, where in scenarios]
    afters = [after for after, _c, _d in prepared]
    p_before = _predict(model, rows, spec)
    batch = _with_spec(
        pd.concat(afters, ignore_index=True) if len(afters) > 1 else afters[0], panel
    )
    p_all = _predict(model, batch, spec)
    codes, keys = _group_codes(rows, by_cols)
    # who is shown depends on the groups, not on the change: decided once for all scenarios
    n_persons = _persons_per_group(rows, spec, codes, len(keys))
    hidden = protect_groups(
        keys.assign(n_persons=n_persons), by=by_cols, rows=rows, min_group_size=min_group_size
    )
    out = []
    for k, (_after, changed, descriptions) in enumerate(prepared):
        p_after = p_all[k * len(rows) : (k + 1) * len(rows)]
        result = _result(
            rows, spec, codes, keys, by_cols, p_before, p_after, changed, descriptions,
            period_ts, min_group_size, (n_persons, hidden),
        )  # fmt: skip
        totals = {
            "n_persons": int(rows[spec.id_cols[0]].nunique()) if spec.id_cols else len(rows),
            "expected_before": float(p_before.sum()),
            "expected_after": float(p_after.sum()),
        }
        out.append((result, totals))
    return out


def _changed_rows(rows, change, where, model_features):
    """The period's rows after one scenario's changes, which rows changed, descriptions."""
    mask = _where_mask(where, rows)
    after = rows.copy()
    descriptions: dict[str, str] = {}
    changed = np.zeros(len(rows), dtype=bool)
    for name, how in change.items():
        if name not in rows.columns or name not in model_features:
            raise ValueError(
                f"change names {name!r}, which is not a feature of the model; features are: "
                f"{', '.join(sorted(model_features))}."
            )
        _warn_if_not_lever(name)
        old = rows[name]
        new_sel, descriptions[name] = _apply_change(name, how, old[mask])
        new = old.copy()
        if pd.api.types.is_numeric_dtype(new) and pd.api.types.is_numeric_dtype(new_sel):
            new = new.astype(float)
        new.loc[mask] = new_sel
        diff = ~((new == old) | (new.isna() & old.isna())).to_numpy(dtype=bool)
        changed |= diff
        after[name] = new
    return after, changed, descriptions


def _result(
    rows, spec, codes, keys, by_cols, p_before, p_after, changed, descriptions, period_ts,
    min_group_size, shown_groups=None,
) -> WhatIfResult:  # fmt: skip
    """The per-group table (small groups suppressed) and the overall figures of one change.

    ``shown_groups``: ``(n_persons, hidden)`` per group when already known (several scenarios
    on the same rows).
    """
    n = len(keys)
    n_rows = np.bincount(codes, minlength=n)
    table = keys.copy()
    if shown_groups is None:
        n_persons = _persons_per_group(rows, spec, codes, n)
        hidden = None
    else:
        n_persons, hidden = shown_groups
    table["n_persons"] = n_persons
    table["n_changed"] = np.bincount(codes, weights=changed, minlength=n).astype(int)
    e_before = np.bincount(codes, weights=p_before, minlength=n)
    e_after = np.bincount(codes, weights=p_after, minlength=n)
    table["exit_share_before"] = e_before / n_rows
    table["exit_share_after"] = e_after / n_rows
    table["difference"] = table["exit_share_after"] - table["exit_share_before"]
    table["relative_change"] = table["difference"] / table["exit_share_before"]
    table["expected_leavers_before"] = e_before
    table["expected_leavers_after"] = e_after
    if hidden is None:
        hidden = protect_groups(table, by=by_cols, rows=rows, min_group_size=min_group_size)
    table = blank_suppressed(table, hidden, [c for c in table.columns if c not in by_cols])
    table.attrs["note"] = ASSOCIATION_NOTE
    # overall figures over the shown groups only, so no suppressed group is a difference
    shown = ~hidden[codes]
    shown_rows = rows.loc[shown]
    overall = {
        "n_persons": int(shown_rows[spec.id_cols[0]].nunique())
        if spec.id_cols
        else int(shown.sum()),
        "n_changed": int(changed[shown].sum()),
        "exit_share_before": float(p_before[shown].mean()) if shown.any() else float("nan"),
        "exit_share_after": float(p_after[shown].mean()) if shown.any() else float("nan"),
    }
    overall["difference"] = overall["exit_share_after"] - overall["exit_share_before"]
    if overall["n_persons"] < min_group_size:
        overall = {k: (v if k == "n_persons" else np.nan) for k, v in overall.items()}
    return WhatIfResult(
        table=table, overall=overall, changes=descriptions, period=period_ts, by=tuple(by_cols)
    )


# ---------------------------------------------------------------------------------------------
# applying the changes
# ---------------------------------------------------------------------------------------------


_OPS = ("set", "add", "multiply", "at_most", "at_least")


def _apply_change(name: str, how: Any, old: pd.Series) -> tuple[pd.Series, str]:
    numeric = pd.api.types.is_numeric_dtype(old) and not pd.api.types.is_bool_dtype(old)
    if callable(how):
        new = how(old.copy())
        new = pd.Series(
            np.asarray(new) if not isinstance(new, pd.Series) else new.to_numpy(), index=old.index
        )
        if len(new) != len(old):
            raise ValueError(
                f"the function for {name!r} returned {len(new)} values for "
                f"{len(old)} rows; return one value per row."
            )
        return new, f"{name}: {getattr(how, '__name__', 'function')}(...)"
    if isinstance(how, bool | str):
        op, value = "set", how
    elif isinstance(how, int | float | np.integer | np.floating):
        op, value = "add", how
    elif isinstance(how, tuple) and len(how) == 2 and how[0] in _OPS:
        op, value = how
    else:
        raise TypeError(
            f"change[{name!r}]={how!r} is not understood; use a number (added), "
            f"('set'|'add'|'multiply'|'at_most'|'at_least', value), a string for a category, "
            "or a function of the column."
        )
    if op == "set":
        return pd.Series(value, index=old.index), f"{name} set to {value}"
    if not numeric:
        raise TypeError(
            f"change[{name!r}]={how!r}: {op!r} needs a numeric feature, but "
            f"{name!r} has dtype {old.dtype}; use ('set', value)."
        )
    vals = old.astype(float)
    if op == "add":
        new, text = vals + value, f"{name} {value:+g}"
    elif op == "multiply":
        new, text = vals * value, f"{name} x {value:g}"
    elif op == "at_most":
        new, text = vals.clip(upper=value), f"{name} at most {value:g}"
    else:
        new, text = vals.clip(lower=value), f"{name} at least {value:g}"
    if op in ("add", "multiply") and (old.dropna() >= 0).all():
        new = new.clip(lower=0)
    return new, text


def _warn_if_not_lever(name: str) -> None:
    try:
        from turnover_risk.panel._build import FEATURES
    except ImportError:
        FEATURES = {}
    feat = FEATURES.get(name) if hasattr(FEATURES, "get") else None
    if feat is None:
        warnings.warn(
            f"{name!r} is not a documented feature (not in tr.FEATURES), so it is not known to "
            "be a lever a leader can move; read the what-if result as association only.",
            TurnoverRiskWarning,
            stacklevel=3,
        )
    elif not getattr(feat, "lever", False):
        warnings.warn(
            f"{name!r} is not a lever a leader can move (FEATURES[{name!r}].lever is False); "
            "the what-if result describes association with a characteristic, not an action.",
            TurnoverRiskWarning,
            stacklevel=3,
        )


def _where_mask(where, rows: pd.DataFrame) -> np.ndarray:
    if where is None:
        return np.ones(len(rows), dtype=bool)
    if callable(where):
        where = where(rows)
    if isinstance(where, pd.Series):
        missing = rows.index.difference(where.index)
        if len(missing):
            raise ValueError(
                f"where is a Series that lacks {len(missing)} rows of the period; build it from "
                "the same panel, e.g. where=panel['tenure_service_months'] < 6."
            )
        where = where.loc[rows.index]
        if where.isna().any():  # a comparison with a missing value selects nobody
            where = where.astype("boolean").fillna(False).astype(bool)
    arr = np.asarray(where)
    if arr.dtype != bool or arr.shape != (len(rows),):
        raise ValueError(
            f"where must give one True/False per row of the period ({len(rows)} rows); got an "
            f"array of dtype {arr.dtype} and shape {arr.shape}."
        )
    return arr
