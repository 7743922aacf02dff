"""Korn-Graubard intervals of the audit's shares: by hand, wired into audit, and by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import turnover_risk as tr
from turnover_risk.governance._intervals import clopper_pearson, korn_graubard, ratio_variance
from turnover_risk.panel import PanelSpec, attach_spec


def test_by_hand():
    # share 4/8; residuals a - r b = (0, -1, 1): variance 3/2 * 2 / 64
    assert ratio_variance([1, 0, 3], [2, 2, 4]) == 0.046875
    assert ratio_variance([1, 0, 3], [2, 2, 4], n_clusters=4) == pytest.approx(4 / 3 * 2 / 64)
    # n* = 0.25 / 0.046875 = 5.33 < 8 persons, times (1.96 / t(2 df))^2 = 1.107
    lo, hi = korn_graubard([1, 0, 3], [2, 2, 4], n_persons=8)
    assert (round(lo, 4), round(hi, 4)) == (0.0008, 0.9992)
    # a share of 0 has no variance: n* = the 20 persons, times (1.96 / t(3 df))^2 = 7.59;
    # the exact upper bound of 0 in 7.59 is 1 - 0.025^(1 / 7.59) (0.1684 with 20: too narrow)
    assert korn_graubard([0, 0, 0, 0], [5, 5, 5, 5], n_persons=20) == pytest.approx(
        (0.0, 0.38509), abs=1e-5
    )
    assert clopper_pearson(0, 20)[1] == pytest.approx(1 - 0.025 ** (1 / 20))
    assert clopper_pearson(3, 10) == pytest.approx((0.06674, 0.65245), abs=1e-5)  # the tables
    assert np.isnan(korn_graubard([0, 0], [0, 0], n_persons=3)).all()


def test_many_persons_per_cluster_cap_the_sample_size_at_the_persons():
    # 40 clusters of 30 person-months each, a share of 0.5 with almost no spread between
    # clusters: the variance says n* in the thousands, but the rows come from 60 persons
    a = np.full(40, 15.0)
    a[:20] += 1
    b = np.full(40, 30.0)
    capped = korn_graubard(a, b, n_persons=60)
    t = stats.t.ppf(0.975, 39)
    n = 60 * (1.959964 / t) ** 2
    assert capped == pytest.approx(clopper_pearson(a.sum() / b.sum() * n, n), rel=1e-6)
    wide_open = korn_graubard(a, b, n_persons=100_000)
    assert wide_open[1] - wide_open[0] < 0.3 * (capped[1] - capped[0])


class ColumnModel:
    def predict_proba(self, X):
        p = X["risk"].to_numpy(dtype=float)
        return np.column_stack([1 - p, p])


def test_audit_share_intervals_are_korn_graubard_over_its_clusters():
    rng = np.random.default_rng(5)
    n, months = 240, 6
    pid = np.repeat(np.arange(n), months)
    risk = rng.uniform(0.02, 0.6, n)[pid]
    df = pd.DataFrame(
        {
            "employee_id": [f"P{i:03d}" for i in pid],
            "unit_id": [f"U{i % 24:02d}" for i in pid],
            "period": np.tile(pd.date_range("2023-01-01", periods=months, freq="MS"), n),
            "left_within_horizon": (rng.random(len(pid)) < risk).astype(float),
            "risk": risk,
            "team": np.where(pid % 3 == 0, "a", "b"),
        }
    )
    spec = PanelSpec(feature_cols=("risk",), group_cols=("unit_id",), horizon=6, survival_cols=())
    panel = attach_spec(df, spec)
    res = tr.audit(ColumnModel(), panel, by="team", threshold=0.3, n_boot=20)
    assert res.settings["cluster"] == "unit_id"  # 24 units: drawn as clusters
    row = res.table.set_index("group").loc["a"]
    # by hand: TPR of team a = flagged leaver months / leaver months, per unit
    a = df[df["team"] == "a"].assign(fy=lambda d: (d["risk"] >= 0.3) * d["left_within_horizon"])
    per_unit = a.groupby("unit_id")[["fy", "left_within_horizon"]].sum()
    per_unit = per_unit.reindex(sorted(df["unit_id"].unique()), fill_value=0.0)
    num, den = per_unit["fy"].to_numpy(), per_unit["left_within_horizon"].to_numpy()
    r = num.sum() / den.sum()
    var = 24 / 23 * np.sum((num - r * den) ** 2) / den.sum() ** 2
    persons = a.loc[a["left_within_horizon"] == 1, "employee_id"].nunique()
    t = stats.t.ppf(0.975, (den > 0).sum() - 1)
    n_eff = min(r * (1 - r) / var, persons) * (1.959964 / t) ** 2
    lo = stats.beta.ppf(0.025, r * n_eff, n_eff - r * n_eff + 1)
    hi = stats.beta.ppf(0.975, r * n_eff + 1, n_eff - r * n_eff)
    assert row["tpr"] == pytest.approx(r)
    assert (row["tpr_low"], row["tpr_high"]) == pytest.approx((lo, hi), rel=1e-6)


def test_coverage_by_simulation_where_row_level_intervals_fail():
    """40 units of 8 persons, 12 months each; a person's months share one outcome and units
    differ (cluster shares ~ Beta with mean 0.1). The 95 % interval must cover the mean share
    in at least 90 % of 400 samples (it does in 96 %); exact intervals that take the rows, or
    the persons, as independent cover far less (so the test tells a design-based interval from
    a naive one)."""
    rng = np.random.default_rng(2026)
    n_sim, units, persons, months = 400, 40, 8, 12
    p_unit = rng.beta(0.6, 5.4, size=(n_sim, units))  # mean 0.1, strong between-unit spread
    leaves = rng.random((n_sim, units, persons)) < p_unit[..., None]
    a = leaves.sum(axis=2) * months  # person-months with the outcome, per unit
    b = np.full(units, persons * months, dtype=float)
    kg = naive = persons_only = 0
    for s in range(n_sim):
        lo, hi = korn_graubard(a[s], b, n_persons=units * persons)
        kg += lo <= 0.1 <= hi
        lo, hi = clopper_pearson(a[s].sum(), b.sum())
        naive += lo <= 0.1 <= hi
        lo, hi = clopper_pearson(a[s].sum() / months, b.sum() / months)  # persons, not units
        persons_only += lo <= 0.1 <= hi
    assert kg / n_sim >= 0.90
    assert naive / n_sim < 0.6 and persons_only / n_sim < 0.88  # (0.33 and 0.83)
