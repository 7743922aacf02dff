"""Retrospective mode of :func:`turnover_risk.flag_groups`: who lost more staff than their case
mix predicts?

One period whose outcomes are known; the model is the case-mix adjustment (indirect
standardisation): observed leavers against expected, the ratio with exact Poisson limits, the
exact Poisson-binomial mid-p test, over-dispersion estimated and applied, funnel limits at
95 % and 99.8 %.
"""

from __future__ import annotations

import numpy as np

from turnover_risk import _dist
from turnover_risk.groups._common import (
    _group_codes,
    _labelled_period,
    _one_row_per_person,
    _persons_per_group,
    _predict,
    _shown_rows,
    _with_spec,
)
from turnover_risk.groups._result import FlagResult, _finish, _FlagRequest
from turnover_risk.groups._stats import (
    FUNNEL_LEVELS,
    _poisson_binomial_p_value,
    estimate_overdispersion,
    funnel_limits,
    poisson_ratio_ci,
)


def _flag_retrospective(req: _FlagRequest, overdispersion: str) -> FlagResult:
    model, panel, spec, by_cols, period = req.model, req.panel, req.spec, req.by_cols, req.period
    min_group_size, alpha = req.min_group_size, req.alpha
    label = spec.label_col
    if label not in panel.columns:
        raise ValueError(
            f"the panel has no label column {label!r}; retrospective mode needs known outcomes."
        )
    period_ts = _labelled_period(panel, spec, period)
    rows_all = panel.loc[panel[spec.period_col] == period_ts]
    known = rows_all[label].notna()
    rows = _with_spec(rows_all.loc[known], panel)
    rows = _one_row_per_person(rows, spec)
    y = rows[label].to_numpy(dtype=float)
    p0 = _predict(model, rows, spec)
    codes, keys = _group_codes(rows, by_cols)
    n_groups = len(keys)
    n_persons = _persons_per_group(rows, spec, codes, n_groups)
    observed = np.bincount(codes, weights=y, minlength=n_groups)
    expected = np.bincount(codes, weights=p0, minlength=n_groups)
    variance = np.bincount(codes, weights=p0 * (1 - p0), minlength=n_groups)
    shown = _shown_rows(keys, n_persons, codes, rows, min_group_size)  # see _flag_prospective
    reference = float(p0[shown].mean()) if shown.any() else float("nan")
    info = {"rows": int(shown.sum()), "rows_censored_dropped": int((~known).sum())}

    testable = (n_persons >= min_group_size) & (variance > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        oe = observed / expected
        precision = expected**2 / variance
    oe_lo, oe_hi = poisson_ratio_ci(observed, expected, 1 - alpha)
    p_exact = np.full(n_groups, np.nan)
    side = np.zeros(n_groups)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_groups))])
    for g in np.flatnonzero(testable):
        members = order[bounds[g] : bounds[g + 1]]
        p_exact[g], side[g] = _poisson_binomial_p_value(p0[members], int(round(observed[g])))
    z = side * _dist.norm_isf(p_exact / 2)

    od = estimate_overdispersion(z[testable], precision[testable])
    applied = "none"
    if overdispersion == "auto":
        if od["n_groups"] >= 3 and od["p_value"] < 0.05:
            applied = "additive"
    elif overdispersion != "none":
        applied = overdispersion
    if od["n_groups"] < 3 and applied != "none":
        applied = "none"
        od["note"] = "fewer than 3 groups shown: over-dispersion cannot be estimated"
    phi = max(od["phi"], 1.0) if applied == "multiplicative" else 1.0
    tau2 = od["tau2"] if applied == "additive" else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z_adj = z * np.sqrt((1 / precision) / (phi / precision + tau2))
    p_val = p_exact if applied == "none" else 2 * _dist.norm_sf(np.abs(z_adj))
    p_val[~testable] = np.nan
    kappa = float(variance[testable].sum() / expected[testable].sum()) if testable.any() else 1.0
    od.update({"requested": overdispersion, "applied": applied, "kappa": kappa})

    table = keys.copy()
    table["n_persons"] = n_persons
    table["observed"] = observed
    table["expected"] = expected
    table["oe_ratio"] = oe
    table["oe_ci_low"] = oe_lo
    table["oe_ci_high"] = oe_hi
    table["z"] = z
    table["z_adjusted"] = z_adj
    table["p_value"] = p_val
    for level, name in zip(FUNNEL_LEVELS, ("95", "998"), strict=True):
        lo, hi = funnel_limits(precision, level, phi=phi, tau2=tau2)
        table[f"limit_{name}_low"] = np.clip(lo, 0, None)
        table[f"limit_{name}_high"] = hi
    direction = np.sign(observed - expected)
    return _finish(req, table, rows, period_ts, "retrospective", reference, od, direction, info)
