"""Prospective mode of :func:`turnover_risk.flag_groups`: who is likely to leave in the coming
horizon?

One row per person of the latest (or given) period; a group's expected leavers are the sum of
its members' predicted risks. Model uncertainty comes from refitting the model on bootstrap
samples of persons (``_bootstrap``: only the classifier is refitted, on the design transformed
once, when the model allows it); the group's ratio to the reference share is tested
against the margin with a t-test on the log scale over the refits; the prediction interval of
the number who will leave mixes the Poisson-binomial count over the refits.
"""

from __future__ import annotations

import numpy as np

from turnover_risk import _dist
from turnover_risk.groups._bootstrap import _bootstrap_predictions
from turnover_risk.groups._common import (
    _group_codes,
    _latest_or_given_period,
    _one_row_per_person,
    _persons_per_group,
    _predict,
    _shown_rows,
    _with_spec,
)
from turnover_risk.groups._result import FlagResult, _finish, _FlagRequest
from turnover_risk.groups._stats import _mixture_count_interval


def _flag_prospective(req: _FlagRequest, n_boot: int, margin: float) -> FlagResult:
    model, panel, spec, by_cols, period = req.model, req.panel, req.spec, req.by_cols, req.period
    min_group_size, alpha, rng = req.min_group_size, req.alpha, req.rng
    period_ts = _latest_or_given_period(panel, spec, period)
    rows = _with_spec(panel.loc[panel[spec.period_col] == period_ts], panel)
    rows = _one_row_per_person(rows, spec)
    p0 = _predict(model, rows, spec)
    codes, keys = _group_codes(rows, by_cols)
    n_groups = len(keys)
    n_rows = np.bincount(codes, minlength=n_groups)
    n_persons = _persons_per_group(rows, spec, codes, n_groups)
    expected = np.bincount(codes, weights=p0, minlength=n_groups)
    # the reference population is the persons in groups that are shown: a reference taken over
    # every row would let anyone recover a suppressed group's total by subtraction
    shown = _shown_rows(keys, n_persons, codes, rows, min_group_size)
    reference = float(p0[shown].mean()) if shown.any() else float("nan")
    share = expected / n_rows
    ratio = share / reference

    info = {"rows": int(shown.sum()), "n_boot": n_boot}
    if n_boot:
        boot = _bootstrap_predictions(model, panel, spec, rows, n_boot, rng, req.register)
        info["refits"] = len(boot)
        draws = np.stack(boot)
        expected_b = np.stack([np.bincount(codes, weights=pb, minlength=n_groups) for pb in boot])
        with np.errstate(divide="ignore", invalid="ignore"):
            log_rb = np.log(expected_b / n_rows[None, :] / draws[:, shown].mean(axis=1)[:, None])
        se = log_rb.std(axis=0, ddof=1)
        df = len(boot) - 1
        t_crit = _dist.t_ppf(1 - alpha / 2, df)
        ratio_lo, ratio_hi = ratio * np.exp(-t_crit * se), ratio * np.exp(t_crit * se)
        log_r, log_m = np.log(ratio), np.log(margin)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(log_r >= 0, (log_r - log_m) / se, (log_r + log_m) / se)
        p_val = np.minimum(1.0, 2 * np.where(log_r >= 0, _dist.t_sf(z, df), _dist.t_cdf(z, df)))
    else:
        draws = p0[None, :]
        se = z = p_val = ratio_lo = ratio_hi = np.full(n_groups, np.nan)
    pi_lo = np.empty(n_groups)
    pi_hi = np.empty(n_groups)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(n_rows)])
    for g in range(n_groups):
        members = order[bounds[g] : bounds[g + 1]]
        pi_lo[g], pi_hi[g] = _mixture_count_interval(draws[:, members], 1 - alpha)

    table = keys.copy()
    table["n_persons"] = n_persons
    table["expected_leavers"] = expected
    table["exit_share"] = share
    table["ratio"] = ratio
    table["ratio_ci_low"] = ratio_lo
    table["ratio_ci_high"] = ratio_hi
    table["log_ratio_se"] = se
    table["leavers_pi_low"] = pi_lo
    table["leavers_pi_high"] = pi_hi
    table["exit_share_pi_low"] = pi_lo / n_rows
    table["exit_share_pi_high"] = pi_hi / n_rows
    table["z"] = z
    table["p_value"] = p_val
    direction = np.sign(ratio - 1)
    info["margin"] = margin
    return _finish(req, table, rows, period_ts, "prospective", reference, {}, direction, info)
