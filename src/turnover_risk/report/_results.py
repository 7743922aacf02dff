"""The numbers the report is written from, gathered once: :class:`_Results`.

Every sentence of the report with a number in it is written from these results; nothing is
filled in with a default. This module computes what the library's functions do not hand over
directly: the service's expected leavers with a range (the Poisson-binomial distribution of
the count given the persons' predicted risks), the drivers of each flagged group merged by
feature family and turned into percentage points of risk, the what-if of each lever scenario
for every group, and the main lever of each flagged group.

Percentage points of a family for a group with predicted share ``s``: with ``d`` the sum of
the family's attributions (the group's mean minus the population's, log-odds),
``s - expit(logit(s) - d)`` — how much lower the group's share would be if that family's
contribution were at the service's level, everything else as it is (the conversion of the
flags table's drivers, ``turnover_risk.groups._driver_text._risk_points``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

CASELOAD_CAP = 15
"""The union's asked-for maximum caseload (``docs/sources.md``), used by the caseload what-if."""

SUPERVISION_MIN_3M = 3
"""Supervision at least once a month: at least this many sessions in 3 months."""

SCENARIOS: tuple[tuple[str, str, dict[str, Any], Any], ...] = (
    # (key, family, change per feature, rows changed)
    (
        "sc_caseload",
        "caseload",
        # a unit whose staff all have at most 15 cases has a mean of at most 15
        {
            c: ("at_most", CASELOAD_CAP)
            for c in ("caseload_last", "caseload_3m_mean", "unit_caseload_mean")
        },
        None,
    ),
    (
        "sc_supervision",
        "supervision",
        {"supervision_sessions_3m": ("at_least", SUPERVISION_MIN_3M)},
        None,
    ),
    (
        "sc_onboarding",
        "onboarding",
        {"new_staff_weekly_supervision": ("set", 1)},
        lambda p: p["new_staff_weekly_supervision"].notna(),
    ),
    (
        "sc_coverage",
        "supervision_coverage",
        {"unit_supervision_coverage_3m": ("at_least", 1.0)},
        None,
    ),
)
"""What-if scenarios for the lever families, in the order they are shown."""

MAX_DRIVERS = 3
"""Families shown per group on page one."""

RETENTION_TIMES: tuple[int, ...] = (12, 24)
"""Months of tenure of page one's retention line (one and two years)."""


@dataclass
class _Results:
    """What the report shows, computed once (see the module notes)."""

    by: str
    horizon: int
    min_group_size: int
    flags: Any
    retro: Any
    evaluation: Any
    metrics: dict
    service: dict
    backtest: dict
    drivers: pd.DataFrame
    whatif: dict = field(default_factory=dict)
    whatif_service: dict = field(default_factory=dict)
    main_lever: dict = field(default_factory=dict)
    outcome: str = "voluntary"
    retention: dict = field(default_factory=dict)
    L: dict = field(default_factory=dict)


def _poisson_binomial_interval(p: np.ndarray, level: float = 0.95) -> tuple[int, int]:
    """Central ``level`` interval of the number of successes of independent Bernoulli(p)."""
    dist = np.array([1.0])
    for pi in np.asarray(p, dtype=float):
        dist = np.append(dist * (1 - pi), 0.0) + np.append(0.0, dist * pi)
    cdf = np.cumsum(dist)
    tail = (1 - level) / 2
    lo = int(np.searchsorted(cdf, tail, side="left"))
    hi = int(np.searchsorted(cdf, 1 - tail, side="left"))
    return lo, min(hi, len(p))


def _latest_rows(panel, period):
    from turnover_risk.groups._common import _one_row_per_person, _with_spec
    from turnover_risk.panel import panel_spec

    spec = panel_spec(panel)
    rows = _with_spec(panel.loc[panel[spec.period_col] == period], panel)
    return _with_spec(_one_row_per_person(rows, spec).reset_index(drop=True), panel), spec


def _service(model, panel, period) -> dict:
    from turnover_risk.groups._common import _predict

    rows, spec = _latest_rows(panel, period)
    p = _predict(model, rows, spec)
    lo, hi = _poisson_binomial_interval(p)
    return {
        "n_persons": len(rows),
        "expected": float(p.sum()),
        "share": float(p.mean()) if len(p) else float("nan"),
        "pi_low": lo,
        "pi_high": hi,
        "period": period,
    }


def _backtest(panel, retro) -> dict:
    """Observed leavers of the service in the retrospective period (known outcomes)."""
    if retro is None or retro.period is None:
        return {}
    from turnover_risk.panel import panel_spec

    spec = panel_spec(panel)
    rows = panel.loc[panel[spec.period_col] == retro.period]
    y = rows[spec.label_col].dropna()
    if not len(y):
        return {}
    return {
        "period": retro.period,
        "n_persons": int(len(y)),
        "observed": int(y.sum()),
        "share": float(y.mean()),
        "expected": float(retro.reference_share * len(y)),
    }


def _metrics(evaluation, model) -> dict:
    """Pooled metrics per model name (``model``, ``base_rate``, ``unit_exit_share``)."""
    if evaluation is not None:
        t = evaluation.table
        pooled = t[t["fold"].astype(str) == "pooled"]
        return {
            str(r["model"]): {k: v for k, v in r.items() if isinstance(v, int | float)}
            for _, r in pooled.iterrows()
        }
    summary = getattr(model, "_evaluation_summary", None) or {}
    return {k: v for k, v in summary.items() if isinstance(v, dict)}


def _all_group_drivers(model, panel, period, by, random_state) -> pd.DataFrame:
    """:func:`~turnover_risk.group_drivers` of every group in ``period`` (one row a person)."""
    from turnover_risk.groups import group_drivers

    rows, _ = _latest_rows(panel, period)
    return group_drivers(model, rows, by, random_state=random_state)


def _family_drivers(model, panel, flags, by, random_state, all_drivers=None) -> pd.DataFrame:
    """Per flagged group and feature family: summed attribution, percentage points, lever.

    ``all_drivers``: :func:`_all_group_drivers` of the flags' period, when computed already."""
    from turnover_risk.groups._driver_text import _risk_points
    from turnover_risk.panel import FEATURES

    cols = ["group", "family", "cause", "lever", "difference", "pp", "lead", "group_value"]
    cols += ["service_value"]
    flagged = flags.flagged
    if flags.period is None or flagged.empty or not hasattr(model, "explain"):
        return pd.DataFrame(columns=cols)  # nothing to explain, or a model without explain()
    rows, _ = _latest_rows(panel, flags.period)
    if all_drivers is None:
        all_drivers = _all_group_drivers(model, panel, flags.period, by, random_state)
    d = all_drivers
    keys = set(flagged[by].astype(str))
    d = d[d[by].astype(str).isin(keys)].copy()
    d["group"] = d[by].astype(str)
    known = {n: f for n, f in FEATURES.items()}
    d["family"] = [known[f].family if f in known else f for f in d["feature"]]
    d["cause"] = [known[f].cause if f in known else "" for f in d["feature"]]
    d["is_lever"] = [bool(known[f].lever) if f in known else False for f in d["feature"]]
    d["abs"] = d["difference"].abs()
    share = dict(zip(flagged[by].astype(str), flagged["exit_share"].astype(float), strict=True))
    out = []
    for (g, fam), part in d.groupby(["group", "family"], sort=False):
        lead = part.sort_values("abs", ascending=False)["feature"].iloc[0]
        diff = float(part["difference"].sum())
        pp = _risk_points(share[g], diff)
        gv = sv = float("nan")
        if lead in rows.columns and pd.api.types.is_numeric_dtype(rows[lead]):
            gv = float(rows.loc[rows[by].astype(str) == g, lead].mean())
            sv = float(rows[lead].mean())
        out.append(
            [g, fam, part["cause"].iloc[0], bool(part["is_lever"].any()), diff, pp, lead, gv, sv]
        )
    res = pd.DataFrame(out, columns=cols)
    return res.sort_values(["group", "pp"], ascending=[True, False], ignore_index=True)


def _what_ifs(model, panel, by, min_group_size) -> tuple[dict, dict]:
    """Each lever scenario the model's features allow: key -> WhatIfResult per group, and
    key -> the service's totals over all persons (small groups included in the sum)."""
    import warnings

    from turnover_risk.groups._whatif import _what_ifs as what_ifs

    names = getattr(model, "feature_names_in_", None)
    if names is None:
        from turnover_risk.panel import panel_spec

        names = panel_spec(panel).feature_cols
    features = set(names)
    keys, scenarios = [], []
    for key, _family, change, where in SCENARIOS:
        change = {k: v for k, v in change.items() if k in features}
        if change:
            keys.append(key)
            scenarios.append((change, where))
    if not scenarios:
        return {}, {}
    with warnings.catch_warnings():
        # unit_caseload_mean follows the persons' caseloads; it is not set by itself
        warnings.simplefilter("ignore")
        results = what_ifs(model, panel, scenarios, by, None, min_group_size)
    return (
        {k: r for k, (r, _t) in zip(keys, results, strict=True)},
        {k: t for k, (_r, t) in zip(keys, results, strict=True)},
    )


def _main_levers(drivers: pd.DataFrame, whatif: dict) -> dict:
    """Per flagged group: the scenario of its lever family that pushes risk up most."""
    scenario_of = {fam: key for key, fam, _c, _w in SCENARIOS if key in whatif}
    out = {}
    for g, part in drivers.groupby("group", sort=False):
        levers = part[part["lever"] & (part["pp"] > 0) & part["family"].isin(scenario_of)]
        if len(levers):
            out[g] = scenario_of[levers.sort_values("pp", ascending=False)["family"].iloc[0]]
    return out


def _retention(register, scope: str, min_group_size: int) -> dict:
    """Retention of newly qualified and experienced staff after one and two years.

    :func:`turnover_risk.retention` with ``cohort="newly_qualified"`` on the whole register,
    in the model's scope (what counts as leaving), with the report's ``min_group_size``: its
    table (rows under ``min_group_size`` at risk suppressed) and the scope, or ``{}`` when
    the register cannot say (no register, or no ``employment.qualified_year``).
    """
    if register is None:
        return {}
    import warnings

    from turnover_risk.rates import retention

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "all rows suppressed" is said on page one
            res = retention(
                register,
                cohort="newly_qualified",
                scope=scope,
                times=RETENTION_TIMES,
                min_group_size=min_group_size,
            )
    except ValueError:  # no qualified_year: page one leaves the line out
        return {}
    return {"scope": res.scope, "table": res.table, "confidence": res.confidence}


@dataclass
class _Early:
    """What :func:`_gather` needs that does not depend on the flags, computed while they are
    (the report's thread would otherwise wait for the bootstrap refits): the same calls with
    the same arguments, so the same results. ``period`` is the latest period of the panel, the
    one prospective flags assess by default; the drivers and the service's numbers are used
    only when the flags' period is that one."""

    period: Any
    all_drivers: pd.DataFrame | None
    service: dict
    whatif: tuple[dict, dict]
    retention: dict


def _early(model, panel, by, min_group_size, random_state, register=None) -> _Early:
    """The flag-independent parts of :func:`_gather` (see :class:`_Early`)."""
    from turnover_risk.panel import panel_spec

    spec = panel_spec(panel)
    period = pd.Timestamp(panel[spec.period_col].max())
    all_drivers = None
    if hasattr(model, "explain"):
        try:
            all_drivers = _all_group_drivers(model, panel, period, by, random_state)
        except Exception:  # computed again only if a group is flagged, and raises there
            all_drivers = None
    return _Early(
        period=period,
        all_drivers=all_drivers,
        service=_service(model, panel, period),
        whatif=_what_ifs(model, panel, by, min_group_size),
        retention=_retention(register, _scope(model), min_group_size),
    )


def _scope(model) -> str:
    scope = getattr(getattr(model, "spec_", None), "scope", None)
    return scope if isinstance(scope, str) else "service"


def _gather(
    model,
    panel,
    flags,
    retro,
    evaluation,
    by,
    horizon,
    min_group_size,
    random_state,
    register=None,
    early: _Early | None = None,
):
    same = early is not None and flags.period is not None and early.period == flags.period
    drivers = _family_drivers(
        model, panel, flags, by, random_state, all_drivers=early.all_drivers if same else None
    )
    whatif, whatif_service = (
        early.whatif if early is not None else _what_ifs(model, panel, by, min_group_size)
    )
    if same:
        service = early.service
    else:
        service = _service(model, panel, flags.period) if flags.period is not None else {}
    spec = getattr(model, "spec_", None)
    spec_outcome = getattr(spec, "outcome", "voluntary")
    return _Results(
        by=by,
        horizon=horizon,
        min_group_size=min_group_size,
        flags=flags,
        retro=retro,
        evaluation=evaluation,
        metrics=_metrics(evaluation, model),
        service=service,
        backtest=_backtest(panel, retro),
        drivers=drivers,
        whatif=whatif,
        whatif_service=whatif_service,
        main_lever=_main_levers(drivers, whatif),
        outcome=spec_outcome if isinstance(spec_outcome, str) else "several exit reasons",
        retention=early.retention
        if early is not None
        else _retention(register, _scope(model), min_group_size),
    )
