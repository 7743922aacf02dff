"""Turnover from aggregate counts per unit (private; the API is
:func:`turnover_risk.rates.turnover_rate_from_counts`)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from turnover_risk.privacy import TOTAL_LABEL
from turnover_risk.rates._common import _finish
from turnover_risk.rates._intervals import _poisson_scaled, _wilson


def counts_table(
    counts: pd.DataFrame,
    *,
    definition: str,
    by: list[str],
    divisor: str | None,
    min_group_size: int,
    margins: bool,
    confidence: float,
) -> pd.DataFrame:
    """The numbers of :func:`turnover_risk.rates.turnover_rate_from_counts` (checked)."""
    c = counts.reset_index(drop=True).copy()
    vals = {}
    for col in ("hires", "separations", "headcount_start", "headcount_end"):
        if col in c.columns:
            v = pd.to_numeric(c[col], errors="coerce").to_numpy(dtype=float)
            if np.isnan(v).any() or (v < 0).any():
                raise ValueError(f"counts.{col} must be non-negative numbers without gaps.")
            vals[col] = v
    if definition == "exit_share" and (vals["separations"] > vals["headcount_start"]).any():
        raise ValueError("exit_share: separations exceed headcount_start in some rows.")
    if definition == "bufdir":
        churn = (
            vals["hires"]
            + vals["separations"]
            - np.abs(vals["headcount_end"] - vals["headcount_start"])
        )
        if (churn < 0).any():
            raise ValueError(
                f"{int((churn < 0).sum())} rows have |headcount_end - headcount_start| larger "
                "than hires + separations, so the counts are inconsistent (C < 0)."
            )
        c["_num"] = churn
        c["_events"] = churn / 2
    elif definition == "exit_share":
        c["_num"] = c["_events"] = vals["separations"]
    else:
        key = "separations" if definition == "separation" else "hires"
        c["_num"] = c["_events"] = vals[key]
    if definition == "exit_share":
        c["_den"] = vals["headcount_start"]
    else:
        c["_den"] = (vals["headcount_start"] + vals["headcount_end"]) / 2
        if divisor == "replacement":
            c["_den"] *= 2
    if "n_persons" in c.columns:
        c["_n"] = pd.to_numeric(c["n_persons"], errors="coerce").fillna(0)
    else:
        c["_n"] = np.maximum(vals["headcount_start"], vals.get("headcount_end", 0))
    extra = [k for k in ("hires", "separations", "headcount_start", "headcount_end") if k in vals]
    for k in extra:
        c[k] = vals[k]
    keys = [*by, *(["period"] if "period" in c.columns else [])]
    subsets = [tuple(by)]
    if margins and by:
        subsets += [s for r in range(len(by) - 1, -1, -1) for s in combinations(by, r)]
    parts = []
    for subset in subsets:
        gk = [*subset, *(["period"] if "period" in c.columns else [])]
        sums = ["_num", "_events", "_den", "_n", *extra]
        if gk:
            agg = c.groupby(gk, dropna=False, sort=True)[sums].sum().reset_index()
        else:
            agg = c[sums].sum().to_frame().T
        for col in by:
            if col not in subset:
                agg[col] = TOTAL_LABEL
            elif margins:
                agg[col] = agg[col].astype("string")
        parts.append(agg)
    out = pd.concat(parts, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (out["_num"] / out["_den"]).to_numpy(dtype=float)
    ev = out["_events"].to_numpy(dtype=float)
    if definition == "exit_share":
        lo, hi = _wilson(rate, out["_den"].to_numpy(dtype=float), confidence)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(ev > 0, rate / ev, (2 if definition == "bufdir" else 1) / out["_den"])
        lo, hi = _poisson_scaled(np.floor(ev), scale, confidence)
    res = out[keys].copy()
    if "period" in res.columns:
        res["period"] = res["period"].astype("str")
    res["definition"] = definition
    res["numerator"] = out["_num"].to_numpy(dtype=float)
    res["denominator"] = out["_den"].to_numpy(dtype=float)
    res["rate"] = rate
    res["ci_low"] = lo
    res["ci_high"] = hi
    res["n_persons"] = out["_n"].round().astype(np.int64)
    for k in extra:
        res[k] = out[k].to_numpy()
    value_cols = ["numerator", "denominator", "rate", "ci_low", "ci_high", *extra]
    return _finish(
        [res], by=by, margins=margins, min_group_size=min_group_size, value_cols=value_cols
    )
