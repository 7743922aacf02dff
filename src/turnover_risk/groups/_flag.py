"""Which staff groups carry elevated turnover risk, how sure we are, and what the model says
would go with a change of a lever.

Two questions, two modes of :func:`flag_groups`:

* **prospective** (default) — *who is likely to leave in the coming horizon?* One row per person
  in the latest period; a group's expected leavers are the sum of its members' predicted risks.
  Model uncertainty comes from refitting ``sklearn.base.clone(model)`` on bootstrap samples of
  *persons* (all of a person's labelled rows together); outcome uncertainty from the
  Poisson-binomial distribution of the number of leavers given the risks; both go into a
  prediction interval of how many will leave. The flag asks whether the group's predicted exit
  share is credibly (beyond model uncertainty, Benjamini–Hochberg across groups) more than a
  ``margin`` (default 1.25 times) above or below the reference population's (all persons of the
  period).
* **retrospective** — *who lost more staff than their case mix predicts?* One period whose
  outcomes are known; the model is the case-mix adjustment (indirect standardisation): observed
  leavers ``O`` against expected ``E = sum p``, the ratio ``O/E`` with exact Poisson (Garwood)
  limits, an exact (Poisson-binomial mid-p) test against the model's own distribution of the
  count, over-dispersion estimated and applied (Spiegelhalter 2005), funnel limits at 95 % and
  99.8 %, p- and BH q-values.

:func:`what_if` changes lever features (absolute values, deltas, caps or functions) for the
rows you choose and reports each group's predicted exit share before and after. It describes the
model's *association*, not a proven effect of the change.

Every table honours ``min_group_size`` through :func:`turnover_risk.privacy.suppress_small_groups`,
and the drivers of suppressed groups are never computed into the output.

This module holds the public API and its argument checks. The work is done in private
modules: ``_groups_prospective`` and ``_groups_retrospective`` (the two modes),
``_groups_result`` (:class:`FlagResult` and the last steps of both modes: suppression,
q-values, flags, drivers), ``_groups_stats`` (the statistics), ``_groups_drivers`` (drivers of
flagged groups and short feature labels), ``_groups_common`` (the period, one row per person,
group codes, predictions) and ``_groups_whatif`` (applying the changes of :func:`what_if`).

References
----------
Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Stat Med 24:1185.
Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. Qual Saf Health Care
14:347. Jones HE, Ohlssen DI, Spiegelhalter DJ (2008). Use of the false discovery rate when
comparing multiple health care providers. J Clin Epidemiol 61:232. Benjamini Y, Hochberg Y (1995).
Controlling the false discovery rate. J R Stat Soc B 57:289.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from turnover_risk._engine import get_engine, uses_dask
from turnover_risk.groups._common import (
    MAX_CENSORED_SHARE,  # noqa: F401 (re-exported)
    _group_codes,
    _latest_or_given_period,
    _model_features,
    _one_row_per_person,
    _persons_per_group,
    _predict,
    _shown_rows,
    _with_spec,
)
from turnover_risk.groups._driver_text import driver_text, feature_label
from turnover_risk.groups._prospective import _flag_prospective
from turnover_risk.groups._result import FlagResult, _FlagRequest
from turnover_risk.groups._retrospective import _flag_retrospective
from turnover_risk.groups._stats import (
    FUNNEL_LEVELS,
    WINSOR,  # noqa: F401 (re-exported)
    ArrayLike,  # noqa: F401 (re-exported)
    benjamini_hochberg,
    estimate_overdispersion,
    funnel_limits,
    poisson_ratio_ci,
)
from turnover_risk.groups._whatif import _apply_change, _warn_if_not_lever, _where_mask
from turnover_risk.panel._spec import panel_spec
from turnover_risk.privacy._suppression import (
    DEFAULT_MIN_GROUP_SIZE,
    check_min_group_size,
    suppress_small_groups,
)

__all__ = [
    "ASSOCIATION_NOTE",
    "FLAGS",
    "FUNNEL_LEVELS",
    "FlagResult",
    "WhatIfResult",
    "benjamini_hochberg",
    "driver_text",
    "estimate_overdispersion",
    "feature_label",
    "flag_groups",
    "funnel_limits",
    "poisson_ratio_ci",
    "what_if",
]


FLAGS: tuple[str, ...] = ("elevated", "as expected", "low", "suppressed", "not assessed")
"""Values of the ``flag`` column. ``not assessed``: no test was possible (prospective mode with
``n_boot=0``, or a group whose expected count has zero variance)."""

MODES = ("prospective", "retrospective")
OVERDISPERSION = ("auto", "multiplicative", "additive", "none")

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
# flag_groups
# ---------------------------------------------------------------------------------------------


def flag_groups(
    model: Any,
    panel: pd.DataFrame,
    *,
    by: str | Sequence[str] = "unit_id",
    period: Any = None,
    mode: Literal["prospective", "retrospective"] = "prospective",
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    alpha: float = 0.05,
    fdr: bool = True,
    overdispersion: Literal["auto", "multiplicative", "additive", "none"] = "auto",
    n_boot: int = 10,
    margin: float = 1.25,
    n_drivers: int = 3,
    random_state: int | np.random.Generator | None = None,
    engine: str = "pandas",
) -> FlagResult:
    """Flag groups (units, municipalities, ...) whose turnover risk stands out.

    Parameters
    ----------
    model : TurnoverRiskModel or fitted classifier
        A fitted model with ``predict_proba``. Prospective mode refits ``sklearn.base.clone``
        copies of it on bootstrap samples of the panel's labelled rows, so pass the panel the
        model was trained on (plus the current period).
    panel : DataFrame
        A panel from :func:`turnover_risk.build_panel` (it carries its column roles).
    by : str or list of str
        Group column(s) of the panel, e.g. ``"unit_id"`` or ``["municipality", "unit_id"]``.
    period : date-like, optional
        The period to assess. Prospective default: the latest period of the panel (one row per
        person). Retrospective default: the latest period whose horizon has fully elapsed,
        taken as the latest period with at most 10 % of its labels missing
        (:data:`MAX_CENSORED_SHARE`; competing exits such as retirement are censored in a panel
        of voluntary exits, so a few missing labels remain in every period). If no period
        qualifies, the best-labelled one is used with a warning. Censored rows of the chosen
        period are dropped and counted in ``info``.
    mode : {"prospective", "retrospective"}
        See the module notes.
    min_group_size : int
        Groups with fewer persons are suppressed everywhere (values, flags and drivers).
    alpha : float
        Level of the tests and of the intervals (``1 - alpha``).
    fdr : bool
        Flag on Benjamini–Hochberg q-values (default) instead of raw p-values.
    overdispersion : {"auto", "multiplicative", "additive", "none"}
        Retrospective mode only. ``"auto"`` estimates ``phi`` and applies the additive
        random-effects ``tau2`` when the over-dispersion test is significant at 5 % (group sizes
        differ a lot, where the additive model suits better than a multiplicative factor), else
        none. ``"multiplicative"`` applies ``max(phi, 1)``; ``"additive"`` applies ``tau2``.
    n_boot : int
        Prospective mode: bootstrap refits for model uncertainty (default 10; the test uses a
        t-distribution with ``n_boot - 1`` degrees of freedom, so few refits make it cautious,
        not optimistic). 0 skips the refits: the prediction interval then reflects outcome
        uncertainty only and the flag is ``"not assessed"``.
    margin : float
        Prospective mode: how far from the reference a group's predicted exit share must
        credibly be to count — ``elevated`` when the ratio is significantly above ``margin``,
        ``low`` when significantly below ``1 / margin``. Default 1.25 (a quarter more or less
        than the reference; a practical-importance threshold chosen by us, not taken from a
        source — set it to what matters locally). With ``margin=1`` any difference counts,
        which with a large training set flags almost every group.
    n_drivers : int
        Top drivers per flagged group (0 to skip); computed with
        :func:`turnover_risk.group_drivers`.
    random_state : int, Generator or None
        Seed of the bootstrap and of the driver sample.
    engine : {"pandas", "dask"}
        ``"dask"`` (or a Dask panel from ``build_panel(..., engine="dask")``): see
        :func:`turnover_risk.distributed.flag_groups`; the result is identical.

    Returns
    -------
    FlagResult
        ``.table`` has, besides the group column(s) and ``n_persons``:

        *prospective*: ``expected_leavers`` (sum of predicted risks), ``exit_share`` (predicted),
        ``ratio`` (to the reference share), ``ratio_ci_low``/``ratio_ci_high`` (model
        uncertainty, t-interval on the log ratio over the refits), ``log_ratio_se`` (standard
        deviation of the log ratio over the refits), ``leavers_pi_low``/
        ``leavers_pi_high`` and ``exit_share_pi_low``/``exit_share_pi_high`` (prediction
        interval of the number/share who will leave: model and outcome uncertainty),
        ``z``, ``p_value``, ``q_value``, ``flag``, ``drivers``, ``suppressed``;

        *retrospective*: ``observed``, ``expected``, ``oe_ratio``, ``oe_ci_low``/``oe_ci_high``
        (exact Poisson), ``z`` (from the exact mid-p value, see Notes), ``z_adjusted``
        (over-dispersion applied), ``p_value``, ``q_value``, ``limit_95_low``/``limit_95_high``,
        ``limit_998_low``/``limit_998_high`` (funnel limits of ``O/E`` at the group's expected
        count), ``flag``, ``drivers``, ``suppressed``.

    Raises
    ------
    ValueError
        Unknown mode/overdispersion, a ``by`` column that does not exist, a period not in the
        panel, no labelled periods in retrospective mode, or no labelled rows to refit on.

    Notes
    -----
    Prospective test: the group's ratio ``R`` of predicted exit share to the reference share
    (mean predicted risk of all persons of the period) is compared with the margin ``m`` on the
    log scale, ``se`` being the standard deviation of ``log R_b`` over the refits ``b`` (each
    refit recomputes the reference, so their correlation is kept). For ``R >= 1``:
    ``z = (log R - log m) / se`` and ``p = min(1, 2 P(T > z))``; for ``R < 1``:
    ``z = (log R + log m) / se`` and ``p = min(1, 2 P(T < z))``, ``T`` t-distributed with
    ``n_boot - 1`` degrees of freedom; then BH q-values across the shown groups. The flag is
    about the *predicted risk* (model uncertainty); how many will actually leave is the
    prediction interval, which mixes the Poisson-binomial count over the refits (exact up to
    2000 persons per group, normal approximation above). The ratio interval is
    ``R exp(-/+ t se)``.

    Retrospective test: under the model, the number of leavers ``O`` of a group is
    Poisson-binomial with the members' predicted risks (mean ``E``, variance
    ``V = sum p (1 - p)``). Its exact two-sided *mid-p* value (normal approximation above 2000
    persons) is turned into the equivalent z-score ``z`` (sign: the smaller tail), which behaves
    like ``(O - E) / sqrt(V)`` for large counts but stays honest for the expected counts of 1–3
    leavers typical of a unit; the plain normal z-score gave false flags there. Over-dispersion
    (:func:`estimate_overdispersion`) is estimated from these z-scores on the groups that are
    shown, with ``s^2 = V / E^2`` the null variance of ``O/E``; then
    ``z_adjusted = z / sqrt(phi)`` (multiplicative) or ``z * s / sqrt(s^2 + tau2)`` (additive),
    and ``p_value`` is the exact mid-p value when nothing is applied, else two-sided normal on
    ``z_adjusted``. ``elevated`` when ``q < alpha`` and ``O > E``, ``low`` when ``q < alpha`` and
    ``O < E``. The funnel limits are the normal-approximation limits ``1 -/+ z_level
    sqrt(phi s^2 + tau2)`` at each group's own ``s``; the exact test can differ from them for
    very small expected counts. The drivers explain the group's *expected* risk (its case mix as
    the model sees it), not the excess the model did not predict.

    Examples
    --------
    >>> import turnover_risk as tr  # doctest: +SKIP
    >>> flags = tr.flag_groups(model, panel, by="unit_id")  # doctest: +SKIP
    >>> flags.table[["unit_id", "exit_share", "ratio", "flag", "drivers"]]  # doctest: +SKIP
    """
    if uses_dask(engine, panel):
        return get_engine("dask").flag_groups(
            model,
            panel,
            by=by,
            period=period,
            mode=mode,
            min_group_size=min_group_size,
            alpha=alpha,
            fdr=fdr,
            overdispersion=overdispersion,
            n_boot=n_boot,
            margin=margin,
            n_drivers=n_drivers,
            random_state=random_state,
        )
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not known; choose one of: {', '.join(MODES)}.")
    if overdispersion not in OVERDISPERSION:
        raise ValueError(
            f"overdispersion={overdispersion!r} is not known; choose one of: "
            f"{', '.join(OVERDISPERSION)}."
        )
    _check_alpha(alpha)
    min_group_size = check_min_group_size(min_group_size)
    n_boot = _check_nonneg_int(n_boot, "n_boot")
    n_drivers = _check_nonneg_int(n_drivers, "n_drivers")
    if n_boot == 1:
        raise ValueError("n_boot=1 cannot estimate model uncertainty; use 0 or at least 2.")
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not margin >= 1:
        raise ValueError(
            f"margin={margin!r} must be a number >= 1 (a ratio to the reference share, e.g. "
            "1.25 = a quarter above it; 1 tests any difference)."
        )
    spec = panel_spec(panel)
    by_cols = _check_by(panel, by)
    rng = np.random.default_rng(random_state)
    req = _FlagRequest(
        model, panel, spec, by_cols, period, min_group_size, alpha, fdr, n_drivers, rng
    )
    if mode == "prospective":
        return _flag_prospective(req, n_boot, margin)
    return _flag_retrospective(req, overdispersion)


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
) -> WhatIfResult:
    """Each group's predicted exit share before and after changing features.

    **This is the model's association, not a proven effect.** The result says how the model's
    predicted risk moves when the inputs move, everything else held fixed; staff who get more
    supervision or smaller caseloads may differ in ways the model does not see, and features
    that depend on the changed one (e.g. ``months_since_supervision`` after more sessions) are
    not updated unless you change them too.

    Parameters
    ----------
    model : TurnoverRiskModel or fitted classifier
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
    """
    if not isinstance(change, Mapping) or not change:
        raise TypeError(
            "change must be a non-empty mapping of feature name to change, e.g. "
            "{'supervision_sessions_3m': 2} (a plain number adds) or "
            f"{{'caseload_3m_mean': ('at_most', 15)}}; got {change!r}."
        )
    min_group_size = check_min_group_size(min_group_size)
    spec = panel_spec(panel)
    by_cols = _check_by(panel, by)
    period_ts = _latest_or_given_period(panel, spec, period)
    rows = _with_spec(panel.loc[panel[spec.period_col] == period_ts], panel)
    rows = _one_row_per_person(rows, spec)
    model_features = _model_features(model, spec)
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
    after = _with_spec(after, panel)

    p_before = _predict(model, rows, spec)
    p_after = _predict(model, after, spec)
    codes, keys = _group_codes(rows, by_cols)
    n = len(keys)
    n_rows = np.bincount(codes, minlength=n)
    table = keys.copy()
    table["n_persons"] = _persons_per_group(rows, spec, codes, n)
    table["n_changed"] = np.bincount(codes, weights=changed, minlength=n).astype(int)
    e_before = np.bincount(codes, weights=p_before, minlength=n)
    e_after = np.bincount(codes, weights=p_after, minlength=n)
    table["exit_share_before"] = e_before / n_rows
    table["exit_share_after"] = e_after / n_rows
    table["difference"] = table["exit_share_after"] - table["exit_share_before"]
    table["relative_change"] = table["difference"] / table["exit_share_before"]
    table["expected_leavers_before"] = e_before
    table["expected_leavers_after"] = e_after
    table = suppress_small_groups(
        table,
        count_col="n_persons",
        min_group_size=min_group_size,
        value_cols=[c for c in table.columns if c not in (*by_cols, "n_persons")],
    )
    table.attrs["note"] = ASSOCIATION_NOTE
    # overall figures over the shown groups only, so no suppressed group is a difference
    shown = _shown_rows(table["n_persons"].to_numpy(), codes, min_group_size)
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
# argument checks
# ---------------------------------------------------------------------------------------------


def _check_alpha(alpha: float) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 0.5:
        raise ValueError(f"alpha={alpha!r} must be a number in (0, 0.5), e.g. 0.05.")


def _check_nonneg_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name}={value!r} must be a non-negative integer.")
    return int(value)


def _check_by(panel: pd.DataFrame, by: str | Sequence[str]) -> list[str]:
    cols = [by] if isinstance(by, str) else list(by)
    if not cols:
        raise ValueError("by must name at least one group column, e.g. by='unit_id'.")
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
