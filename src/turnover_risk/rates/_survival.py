"""Retention curves and cumulative incidence of exit by cause, with delayed entry.

:func:`retention` is the Kaplan–Meier probability of still being in scope after ``t`` months
of tenure; :func:`cumulative_incidence` the Aalen–Johansen probability of having left by each
exit cause. Both read the stays in scope of :mod:`._survival_stays` (left-truncated stays enter
the risk set at their tenure when observation began), estimate every group in one vectorised
pass (:mod:`._survival_kernel`) and return a :class:`~._survival_result.SurvivalResult`.
One month is ``365.25 / 12`` days. ``docs/survival.md`` gives the definitions.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from turnover_risk import _dist
from turnover_risk._warnings import DataQualityWarning
from turnover_risk.privacy import (
    blank_suppressed,
    check_min_group_size,
    protect_groups,
    suppress_small_groups,
)
from turnover_risk.rates._common import _check_by, _check_choice, _check_confidence
from turnover_risk.rates._definitions import SCOPES
from turnover_risk.rates._spells import _prepare
from turnover_risk.rates._survival_kernel import estimate, median_time, step_values
from turnover_risk.rates._survival_result import SurvivalResult
from turnover_risk.rates._survival_stays import build_stays, check_cohort, group_codes

DAYS_PER_MONTH: float = 365.25 / 12
"""Days in one month of tenure (30.4375)."""

EXIT_CAUSES: tuple[str, ...] = (
    "voluntary",
    "retirement",
    "internal_transfer",
    "dismissal",
    "other",
)
"""Default causes of :func:`cumulative_incidence`; other exit reasons and missing ones are
counted as ``"other"``."""

_RESERVED = {"time_months", "at_risk", "events", "retention", "ci_low", "ci_high", "cause"}


def _check_times(times: object) -> np.ndarray:
    items = [times] if isinstance(times, int | float) else times
    try:
        arr = np.asarray(list(items), dtype=float)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        arr = np.array([np.nan])
    if not len(arr) or not np.isfinite(arr).all() or (arr <= 0).any():
        raise ValueError(
            f"times={times!r} must be positive numbers of months of tenure, e.g. (6, 12, 24, 36)."
        )
    return np.unique(arr)


def _check_causes(causes: object) -> tuple[str, ...]:
    items = (causes,) if isinstance(causes, str) else causes
    if (
        not isinstance(items, list | tuple)
        or not items
        or not all(isinstance(c, str) for c in items)
    ):
        raise TypeError(f"causes must be a list of exit reasons; got {causes!r}.")
    out = tuple(dict.fromkeys(items))
    return out if "other" in out else (*out, "other")


def _fit(
    data: object,
    *,
    who: str,
    by: object,
    cohort: object,
    scope: object,
    times: object,
    min_group_size: object,
    confidence: object,
    start: object,
    end: object,
    newly_qualified_years: object,
    causes: tuple[str, ...],
):
    by_cols = _check_by(by)
    bad = [c for c in by_cols if c in _RESERVED]
    if bad:
        raise ValueError(f"by={bad} uses reserved output column names; rename the column.")
    cohort_cols = check_cohort(cohort)
    clash = [c for c in cohort_cols if c in by_cols]
    if clash:
        raise ValueError(f"{clash} is both in by and in cohort; name it once.")
    scope = _check_choice("scope", scope, SCOPES, "scope")
    tm = _check_times(times)
    mgs = check_min_group_size(min_group_size)
    conf = _check_confidence(confidence)
    if (
        isinstance(newly_qualified_years, bool)
        or not isinstance(newly_qualified_years, int | float)
        or newly_qualified_years <= 0
    ):
        raise ValueError(
            f"newly_qualified_years={newly_qualified_years!r} must be a positive number of years."
        )
    sp, _ = _prepare(data, who=who, by=by_cols, start=start, end=end)
    st = build_stays(sp, scope)
    if not len(st.time):
        warnings.warn(
            f"{who}: no stay in scope overlaps the observation window {sp.window['start']} to "
            f"{sp.window['end']} ({st.n_before} ended before it, {st.n_after} began after it); "
            "the result is empty. Check start/end or register.metadata['observation_start'].",
            DataQualityWarning,
            stacklevel=3,
        )
    group, groups = group_codes(sp, st, by_cols, cohort_cols, float(newly_qualified_years))
    G = len(groups)
    lookup = {c: i + 1 for i, c in enumerate(causes)}
    other = lookup["other"]
    per_reason = np.array([lookup.get(r, other) for r in st.reasons] + [other], dtype=np.int64)
    cause = per_reason[np.where(st.reason >= 0, st.reason, len(st.reasons))]
    cause = np.where(st.event, cause, 0).astype(np.int64)
    z = float(_dist.norm_ppf(1 - (1 - conf) / 2))
    curves, risk = estimate(group, st.entry, st.time, cause, G, len(causes), z)
    info = {
        "spells": int(len(sp.person)),
        "stays": st.n_stays,
        "stays_ended_before_window": st.n_before,
        "stays_started_after_window": st.n_after,
        "stays_used": int(len(st.time)),
        "exits": int(st.event.sum()),
        "delayed_entries": int((st.entry > 0).sum()),
    }
    ctx = {
        "group": group,
        "groups": groups,
        "G": G,
        "curves": curves,
        "risk": risk,
        "times": tm,
        "mgs": mgs,
        "conf": conf,
        "scope": scope,
        "by": (*by_cols, *cohort_cols),
        "window": sp.window,
        "info": info,
    }
    return ctx


def _suppress(
    frame: pd.DataFrame, count: str, values: list[str], mgs: int, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Hide rows under ``mgs`` persons and, across the groups of ``by``, their partners (the
    privacy layer's linked suppression per time and cause, so a municipality's numbers at risk
    minus its shown units do not give a hidden unit's)."""
    by = [c for c in by if c in frame.columns]
    if not by:
        return suppress_small_groups(
            frame, count_col=count, value_cols=values, min_group_size=mgs, within=()
        ).reset_index(drop=True)
    fixed = [c for c in frame.columns if c in ("time_months", "cause")]
    hidden = protect_groups(frame, by=by, min_group_size=mgs, count_col=count, fixed=fixed)
    return blank_suppressed(frame, hidden, [*values, count]).reset_index(drop=True)


def _warn_all_suppressed(table: pd.DataFrame, who: str, mgs: int) -> None:
    if len(table) and table["suppressed"].all():
        largest = table["at_risk"].max()  # blanked (NA) by the linked suppression of groups
        shown = "" if pd.isna(largest) else f" (largest: {int(largest)})"
        warnings.warn(
            f"{who}: every one of the {len(table)} rows is suppressed: fewer than "
            f"min_group_size={mgs} stays are at risk at each requested time{shown}. Use a "
            "coarser `by`/`cohort` or earlier `times`.",
            DataQualityWarning,
            stacklevel=3,
        )


def _at_times(ctx: dict) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Group rows x requested times: the frame of keys and at-risk counts, and curve rows."""
    c, G, tm = ctx["curves"], ctx["G"], ctx["times"]
    td = tm * DAYS_PER_MONTH
    rows = step_values(c, G, td, ctx["risk"].M)
    gi = np.repeat(np.arange(G), len(tm))
    n = ctx["risk"].at(gi, np.tile(td, G))
    frame = ctx["groups"].iloc[gi].reset_index(drop=True)
    frame["time_months"] = np.tile(tm, G)
    frame["at_risk"] = n
    return frame, rows.reshape(-1), n


def _interval_events(cum: np.ndarray, rows: np.ndarray, n_times: int) -> np.ndarray:
    """Events in ``(previous time, time]`` from cumulative counts at the curve ``rows``."""
    at = np.where(rows >= 0, cum[np.maximum(rows, 0)] if len(cum) else 0, 0)
    at = at.reshape(-1, n_times)
    prev = np.zeros_like(at)
    prev[:, 1:] = at[:, :-1]
    return (at - prev).reshape(-1)


def _curve_frame(ctx: dict) -> pd.DataFrame:
    c = ctx["curves"]
    frame = ctx["groups"].iloc[c.group].reset_index(drop=True)
    frame["time_months"] = c.time / DAYS_PER_MONTH
    frame["at_risk"] = c.at_risk
    return frame


def retention(
    data: object,
    by: str | Sequence[str] | None = None,
    cohort: str | Sequence[str] | None = None,
    scope: str = "service",
    times: Sequence[float] = (6, 12, 24, 36),
    min_group_size: int = 5,
    *,
    confidence: float = 0.95,
    start: object = None,
    end: object = None,
    newly_qualified_years: float = 2,
) -> SurvivalResult:
    """Kaplan–Meier retention: the share still in scope after ``t`` months of tenure.

    Every stay in scope (a run of spells in one unit, service, municipality or the register
    with no day out of it) is followed from hire to exit or to the end of the observation
    window. Stays already running when observation began enter the risk set at their tenure
    on that day (delayed entry): an extract that holds only the staff employed when recording
    began is not biased towards long tenures. Intervals are log-log ("exponential Greenwood",
    Kalbfleisch–Prentice); the median tenure's interval is where the bands cross one half.
    One month is 365.25 / 12 days. ``docs/survival.md`` has the definitions.

    Parameters
    ----------
    data : Register or DataFrame
        The register (unit attributes come from its units table) or an employment frame.
    by : str or list of str, optional
        Unit attributes or employment columns to group by (read from the stay's first spell).
    cohort : {"year", "newly_qualified"} or list, optional
        Hire cohorts: ``hire_year`` (the year the stay began) and ``newly_qualified`` (fewer
        than ``newly_qualified_years`` calendar years between ``qualified_year`` and the hire
        year, as the panel's feature; missing ``qualified_year``: ``<NA>``).
    scope : {"service", "unit", "municipality", "any"}
        What counts as leaving; at ``"service"`` a move between units of one service is not
        an exit.
    times : sequence of float
        Months of tenure of the rows of ``table``.
    min_group_size : int
        Rows with fewer stays at risk are suppressed (``turnover_risk.privacy``).
    confidence : float
        Level of the pointwise intervals.
    start, end : date-like, optional
        The observation window; default as the rates (the register's metadata, else the
        data, with left-truncation detection).
    newly_qualified_years : float
        Years after qualification that count as newly qualified (default 2).

    Returns
    -------
    SurvivalResult
        ``table`` (group columns, ``time_months``, ``at_risk``, ``events`` - exits in
        ``(previous time, time]`` -, ``retention``, ``ci_low``, ``ci_high``, ``suppressed``),
        ``curves`` (the same at every exit time), ``median`` and ``plot()``.

    Examples
    --------
    >>> import turnover_risk as tr
    >>> res = tr.retention(tr.load_sample(), times=(12, 24))
    >>> res.table[["time_months", "retention"]].round(3).to_dict("list")
    {'time_months': [12.0, 24.0], 'retention': [0.686, 0.516]}
    >>> res.median[["median_months", "median_ci_low", "median_ci_high"]].round(1).iloc[0].tolist()
    [25.0, 21.2, 29.6]
    """
    ctx = _fit(
        data,
        who="retention",
        by=by,
        cohort=cohort,
        scope=scope,
        times=times,
        min_group_size=min_group_size,
        confidence=confidence,
        start=start,
        end=end,
        newly_qualified_years=newly_qualified_years,
        causes=("other",),
    )
    c = ctx["curves"]
    frame, rows, n = _at_times(ctx)
    cum = np.cumsum(c.events) - np.r_[0, np.cumsum(c.events)][c.group_first[c.group]]
    frame["events"] = _interval_events(cum, rows, len(ctx["times"]))
    hit = rows >= 0
    for col, arr in (("retention", c.surv), ("ci_low", c.surv_low), ("ci_high", c.surv_high)):
        vals = np.ones(len(rows))
        vals[hit] = arr[rows[hit]]
        vals[n == 0] = np.nan  # beyond follow-up
        frame[col] = vals
    values = ["events", "retention", "ci_low", "ci_high"]
    table = _suppress(frame, "at_risk", values, ctx["mgs"], ctx["by"])
    cf = _curve_frame(ctx)
    cf["events"] = c.events
    cf["retention"], cf["ci_low"], cf["ci_high"] = c.surv, c.surv_low, c.surv_high
    curves = _suppress(cf, "at_risk", values, ctx["mgs"], ctx["by"])
    med = _median(ctx)
    _warn_all_suppressed(table, "retention", ctx["mgs"])
    return SurvivalResult(
        table=table,
        curves=curves,
        median=med,
        kind="retention",
        by=ctx["by"],
        causes=(),
        scope=ctx["scope"],
        confidence=ctx["conf"],
        min_group_size=ctx["mgs"],
        window=ctx["window"],
        info=ctx["info"],
    )


def _median(ctx: dict) -> pd.DataFrame:
    c, G = ctx["curves"], ctx["G"]
    m, lo, hi = median_time(c, G)
    frame = ctx["groups"].copy()
    frame["n_stays"] = np.bincount(ctx["group"], minlength=G)
    frame["exits"] = np.bincount(c.group, weights=c.events, minlength=G).astype(np.int64)
    frame["median_months"] = m / DAYS_PER_MONTH
    frame["median_ci_low"] = lo / DAYS_PER_MONTH
    frame["median_ci_high"] = hi / DAYS_PER_MONTH
    values = ["exits", "median_months", "median_ci_low", "median_ci_high"]
    return _suppress(frame, "n_stays", values, ctx["mgs"], ctx["by"])


def cumulative_incidence(
    data: object,
    by: str | Sequence[str] | None = None,
    cohort: str | Sequence[str] | None = None,
    scope: str = "service",
    times: Sequence[float] = (6, 12, 24, 36),
    min_group_size: int = 5,
    *,
    causes: Sequence[str] = EXIT_CAUSES,
    confidence: float = 0.95,
    start: object = None,
    end: object = None,
    newly_qualified_years: float = 2,
) -> SurvivalResult:
    """Aalen–Johansen cumulative incidence of leaving by each exit cause.

    The probability of having left scope for cause ``k`` within ``t`` months of tenure when
    the other causes compete (a person who retired can no longer resign):
    ``F_k(t) = sum over exit times t_i <= t of S(t_i-) d_ki / n_i``, with the Kaplan–Meier
    ``S`` of :func:`retention`, so ``1 - S(t)`` is the sum of the causes' ``F_k(t)``. Same
    stays, delayed entry, groups, window and suppression as :func:`retention`; the interval is
    log-log on ``F`` with the delta-method variance (Collett; as lifelines'
    ``AalenJohansenFitter``).

    Parameters
    ----------
    data, by, cohort, scope, times, min_group_size, confidence, start, end, newly_qualified_years
        As :func:`retention`.
    causes : sequence of str
        Exit reasons (``employment.exit_reason``) estimated separately; any other reason, and
        a missing one, counts as ``"other"`` (added when not listed). Default: voluntary,
        retirement, internal_transfer, dismissal, other (contract_end and death go to other).

    Returns
    -------
    SurvivalResult
        ``table`` with group columns, ``cause``, ``time_months``, ``at_risk``, ``events``
        (exits of that cause in ``(previous time, time]``), ``cumulative_incidence``,
        ``ci_low``, ``ci_high``, ``suppressed``; ``curves`` at every exit time; ``plot()``.

    Examples
    --------
    >>> import turnover_risk as tr
    >>> res = tr.cumulative_incidence(tr.load_sample(), times=(24,))
    >>> res.table.set_index("cause")["cumulative_incidence"].round(3).to_dict()
    {'voluntary': 0.408, 'retirement': 0.0, 'internal_transfer': 0.0, 'dismissal': 0.007, 'other': 0.07}
    """
    causes_t = _check_causes(causes)
    ctx = _fit(
        data,
        who="cumulative_incidence",
        by=by,
        cohort=cohort,
        scope=scope,
        times=times,
        min_group_size=min_group_size,
        confidence=confidence,
        start=start,
        end=end,
        newly_qualified_years=newly_qualified_years,
        causes=causes_t,
    )
    c = ctx["curves"]
    base, rows, n = _at_times(ctx)
    hit = rows >= 0
    tables, curve_parts = [], []
    for k, name in enumerate(causes_t):
        ev = c.cause_events[:, k]
        cum = np.cumsum(ev) - np.r_[0, np.cumsum(ev)][c.group_first[c.group]]
        frame = base.copy()
        frame.insert(len(ctx["by"]), "cause", name)
        frame["events"] = _interval_events(cum, rows, len(ctx["times"]))
        for col, arr in (
            ("cumulative_incidence", c.cif),
            ("ci_low", c.cif_low),
            ("ci_high", c.cif_high),
        ):
            vals = np.zeros(len(rows))
            vals[hit] = arr[rows[hit], k]
            vals[n == 0] = np.nan
            frame[col] = vals
        tables.append(frame)
        cf = _curve_frame(ctx)
        cf.insert(len(ctx["by"]), "cause", name)
        cf["events"] = ev
        cf["cumulative_incidence"] = c.cif[:, k]
        cf["ci_low"], cf["ci_high"] = c.cif_low[:, k], c.cif_high[:, k]
        curve_parts.append(cf)
    values = ["events", "cumulative_incidence", "ci_low", "ci_high"]
    order = [*ctx["by"], "cause"]
    table = pd.concat(tables, ignore_index=True)
    table = _sorted(table, order, causes_t)
    curves = _sorted(pd.concat(curve_parts, ignore_index=True), order, causes_t)
    table = _suppress(table, "at_risk", values, ctx["mgs"], ctx["by"])
    _warn_all_suppressed(table, "cumulative_incidence", ctx["mgs"])
    return SurvivalResult(
        table=table,
        curves=_suppress(curves, "at_risk", values, ctx["mgs"], ctx["by"]),
        median=pd.DataFrame(),
        kind="cumulative_incidence",
        by=ctx["by"],
        causes=causes_t,
        scope=ctx["scope"],
        confidence=ctx["conf"],
        min_group_size=ctx["mgs"],
        window=ctx["window"],
        info=ctx["info"],
    )


def _sorted(frame: pd.DataFrame, order: list[str], causes: tuple[str, ...]) -> pd.DataFrame:
    """Rows by group, then cause in the given order, then time (stable)."""
    keys = frame[[*order, "time_months"]].copy()
    keys["cause"] = keys["cause"].map({c: i for i, c in enumerate(causes)})
    idx = keys.sort_values([*order, "time_months"], kind="stable", na_position="last").index
    return frame.loc[idx].reset_index(drop=True)
