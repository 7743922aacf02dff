"""Tests of turnover_risk.groups: statistics against hand/scipy computations, flag_groups on
small hand-made panels, what_if, bad input, and the planted-unit / false-discovery checks on
the simulator."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.special import expit

from turnover_risk._warnings import TurnoverRiskWarning
from turnover_risk.groups import (
    ASSOCIATION_NOTE,
    FlagResult,
    WhatIfResult,
    benjamini_hochberg,
    estimate_overdispersion,
    flag_groups,
    funnel_limits,
    poisson_ratio_ci,
    what_if,
)
from turnover_risk.panel._spec import PanelSpec, attach_spec

# ---------------------------------------------------------------------------------------------
# helpers: panels you can read, and a model whose risks you choose
# ---------------------------------------------------------------------------------------------


class FixedRisk:
    """A 'model' whose predicted risk is the row's ``risk`` column (no refits possible)."""

    feature_names_in_ = np.array(["risk"], dtype=object)

    def predict_proba(self, X):
        p = np.asarray(X["risk"], dtype=float)
        return np.column_stack([1 - p, p])


class LinearRisk:
    """risk = expit(a + b * x); lets what_if results be computed on paper."""

    def __init__(self, a=-1.0, b=0.5):
        self.a, self.b = a, b
        self.feature_names_in_ = np.array(["supervision_sessions_3m"], dtype=object)

    def predict_proba(self, X):
        p = expit(self.a + self.b * np.asarray(X["supervision_sessions_3m"], dtype=float))
        return np.column_stack([1 - p, p])


def make_panel(
    groups: dict[str, list[tuple[float, float]]],
    features=("risk",),
    period="2022-01-01",
    extra: dict | None = None,
) -> pd.DataFrame:
    """One period; ``groups`` maps unit -> list of (risk, label) per person."""
    rows = []
    for unit, people in groups.items():
        for i, (risk, label) in enumerate(people):
            rows.append(
                {
                    "employee_id": f"{unit}-{i}",
                    "unit_id": unit,
                    "risk": risk,
                    "left_within_horizon": label,
                }
            )
    df = pd.DataFrame(rows)
    df["period"] = pd.Timestamp(period)
    df["period"] = df["period"].astype("datetime64[ns]")
    for k, v in (extra or {}).items():
        df[k] = v
    spec = PanelSpec(feature_cols=tuple(features), group_cols=("unit_id",))
    return attach_spec(df, spec)


def people(n, risk, leavers):
    return [(risk, 1.0 if i < leavers else 0.0) for i in range(n)]


# Five units; E, V and O are easy on paper, and with one risk per unit the count of leavers
# is binomial, so the exact mid-p values come straight from scipy.stats.binom.
#   A: 10 x 0.2, 6 leave -> E=2, V=1.6
#   B: 10 x 0.2, 2 leave -> E=2, V=1.6
#   C: 20 x 0.1, 1 leaves -> E=2, V=1.8
#   D:  5 x 0.4, 2 leave -> E=2, V=1.2
#   E:  3 x 0.5, 3 leave -> suppressed (3 < 5)
#   Z:  4 x 0.5, 1 leaves -> suppressed (4 < 5); with E hidden too, the service total minus
#       the shown units gives only E + F (7 persons), so no shown unit has to be hidden with them
HAND = {
    "A": people(10, 0.2, 6),
    "B": people(10, 0.2, 2),
    "C": people(20, 0.1, 1),
    "D": people(5, 0.4, 2),
    "E": people(3, 0.5, 3),
    "Z": people(4, 0.5, 1),
}
HAND_OEV = {"A": (6, 2, 1.6), "B": (2, 2, 1.6), "C": (1, 2, 1.8), "D": (2, 2, 1.2)}
HAND_BINOM = {"A": (10, 0.2), "B": (10, 0.2), "C": (20, 0.1), "D": (5, 0.4)}


def mid_p(o, n, p):
    """Two-sided binomial mid-p value by its definition, and its side (+1: upper tail)."""
    lower = stats.binom.cdf(o - 1, n, p) + stats.binom.pmf(o, n, p) / 2
    upper = stats.binom.sf(o, n, p) + stats.binom.pmf(o, n, p) / 2
    return min(1.0, 2 * min(lower, upper)), (1 if upper < lower else -1)


# ---------------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "low", "high"),
    [  # classic exact Poisson 95 % limits for a count (Garwood 1936 tables)
        (0, 0.0, 3.6889),
        (1, 0.0253, 5.5716),
        (5, 1.6235, 11.6683),
        (10, 4.7954, 18.3904),
    ],
)
def test_poisson_ratio_ci_matches_garwood_table(observed, low, high):
    lo, hi = poisson_ratio_ci([observed], [2.0])
    assert lo[0] == pytest.approx(low / 2.0, abs=1e-4)
    assert hi[0] == pytest.approx(high / 2.0, abs=1e-4)


@given(o=st.integers(1, 200), e=st.floats(0.5, 100), level=st.sampled_from([0.9, 0.95, 0.998]))
def test_poisson_ratio_ci_defining_property(o, e, level):
    # Exact limits: P(X >= o | low) = P(X <= o | high) = (1 - level) / 2.
    lo, hi = poisson_ratio_ci([o], [e], level)
    a = (1 - level) / 2
    assert stats.poisson.sf(o - 1, lo[0] * e) == pytest.approx(a, rel=1e-6)
    assert stats.poisson.cdf(o, hi[0] * e) == pytest.approx(a, rel=1e-6)
    assert lo[0] < o / e < hi[0]


@pytest.mark.parametrize(
    ("precision", "level", "phi", "tau2", "half_width"),
    [
        (4.0, 0.95, 1.0, 0.0, 1.959964 * 0.5),
        (4.0, 0.998, 1.0, 0.0, 3.090232 * 0.5),
        (4.0, 0.95, 2.0, 0.0, 1.959964 * np.sqrt(2 / 4)),
        (4.0, 0.95, 1.0, 0.1, 1.959964 * np.sqrt(0.25 + 0.1)),
        (100.0, 0.998, 1.0, 0.0, 0.3090232),
    ],
)
def test_funnel_limits_by_hand(precision, level, phi, tau2, half_width):
    lo, hi = funnel_limits([precision], level, phi=phi, tau2=tau2)
    assert lo[0] == pytest.approx(1 - half_width, abs=1e-6)
    assert hi[0] == pytest.approx(1 + half_width, abs=1e-6)


def test_funnel_limits_narrow_with_precision():
    lo, hi = funnel_limits([1, 10, 100, 1000], 0.95)
    assert np.all(np.diff(hi - lo) < 0)


def test_benjamini_hochberg_by_hand_and_scipy():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4/rank: 0.02, 0.02, 0.04, 0.04
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(q, [0.02, 0.04, 0.04, 0.02])
    rng = np.random.default_rng(3)
    p = rng.random(37) ** 3
    np.testing.assert_allclose(benjamini_hochberg(p), stats.false_discovery_control(p))


def test_benjamini_hochberg_ignores_nan_in_m():
    q = benjamini_hochberg([0.01, np.nan, 0.02])
    np.testing.assert_allclose(q, [0.02, np.nan, 0.02])


@given(st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_benjamini_hochberg_properties(p):
    q = benjamini_hochberg(p)
    p = np.asarray(p)
    assert np.all(q >= p - 1e-12) and np.all(q <= 1)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(q[order]) >= -1e-12)  # monotone in p


def test_overdispersion_by_hand():
    z = [-2.5, -1, -0.5, 0, 0.3, 0.6, 1, 1.5, 2, 4]
    # 10 % winsorising, linear quantiles: low = -2.5 + 0.9 * 1.5 = -1.15, high = 2 + 0.1 * 2 = 2.2
    zw = [-1.15, -1, -0.5, 0, 0.3, 0.6, 1, 1.5, 2, 2.2]
    phi = sum(v * v for v in zw) / 10  # 15.1125 / 10
    w = [4, 4, 4, 4, 4, 9, 9, 9, 16, 16]  # S1 = 79, S2 = 835
    tau2 = (10 * phi - 9) / (79 - 835 / 79)
    d = estimate_overdispersion(z, w)
    assert d["phi"] == pytest.approx(1.51125)
    assert d["phi"] == pytest.approx(phi)
    assert d["statistic"] == pytest.approx(15.1125)
    assert d["p_value"] == pytest.approx(stats.chi2.sf(15.1125, 10))
    assert d["tau2"] == pytest.approx(tau2)
    assert d["tau2"] == pytest.approx(0.089324, abs=1e-6)


def test_overdispersion_tau2_is_zero_without_excess():
    d = estimate_overdispersion([0.1, -0.2, 0.3, -0.1, 0.0], [5, 5, 5, 5, 5])
    assert d["tau2"] == 0.0 and d["phi"] < 1


# ---------------------------------------------------------------------------------------------
# flag_groups, retrospective, on the hand table
# ---------------------------------------------------------------------------------------------


def _row(table, unit):
    return table.set_index("unit_id").loc[unit]


def test_retrospective_hand_table_no_overdispersion():
    panel = make_panel(HAND)
    res = flag_groups(FixedRisk(), panel, mode="retrospective", overdispersion="none", n_drivers=0)
    t = res.table
    assert isinstance(res, FlagResult)
    assert res.overdispersion["applied"] == "none"
    p_hand = {}
    for unit, (o, e, v) in HAND_OEV.items():
        r = _row(t, unit)
        p, side = mid_p(o, *HAND_BINOM[unit])
        z = side * stats.norm.isf(p / 2)
        assert r["observed"] == o and r["expected"] == pytest.approx(e)
        assert r["oe_ratio"] == pytest.approx(o / e)
        assert r["z"] == pytest.approx(z) and r["z_adjusted"] == pytest.approx(z)
        lo = stats.chi2.ppf(0.025, 2 * o) / 2 / e
        hi = stats.chi2.ppf(0.975, 2 * (o + 1)) / 2 / e
        assert r["oe_ci_low"] == pytest.approx(lo) and r["oe_ci_high"] == pytest.approx(hi)
        prec = e * e / v
        assert r["limit_95_high"] == pytest.approx(1 + 1.959964 / np.sqrt(prec), abs=1e-6)
        assert r["limit_998_high"] == pytest.approx(1 + 3.090232 / np.sqrt(prec), abs=1e-6)
        assert r["limit_95_low"] == pytest.approx(max(0, 1 - 1.959964 / np.sqrt(prec)), abs=1e-6)
        p_hand[unit] = p
        assert r["p_value"] == pytest.approx(p)
    q_hand = stats.false_discovery_control(list(p_hand.values()))
    np.testing.assert_allclose(t.set_index("unit_id").loc[list(p_hand), "q_value"], q_hand)
    # A: P(X > 6) + P(X = 6)/2 = 0.000864 + 0.002753 -> p = 0.0072, q = 0.029 -> elevated
    assert p_hand["A"] == pytest.approx(0.00723, abs=1e-5)
    assert dict(zip(t["unit_id"], t["flag"], strict=True)) == {
        "A": "elevated",
        "B": "as expected",
        "C": "as expected",
        "D": "as expected",
        "E": "suppressed",
        "Z": "suppressed",
    }


def test_retrospective_suppresses_small_group_everywhere():
    res = flag_groups(FixedRisk(), make_panel(HAND), mode="retrospective", n_drivers=0)
    e = _row(res.table, "E")
    assert e["suppressed"] and e["flag"] == "suppressed" and pd.isna(e["n_persons"])
    numeric = [
        c
        for c in res.table.columns
        if c not in ("unit_id", "n_persons", "flag", "drivers_pp", "suppressed")
    ]
    assert e[numeric].isna().all()
    assert e["drivers_pp"] == ""


@pytest.mark.parametrize("mode", ["prospective", "retrospective"])
def test_suppressed_group_cannot_be_recovered_from_the_reference(mode):
    # E (3 persons, risk 0.5) is suppressed; the reference covers A-D only (45 persons):
    # (10*0.2 + 10*0.2 + 20*0.1 + 5*0.4) / 45 = 8 / 45
    res = flag_groups(FixedRisk(), make_panel(HAND), mode=mode, n_boot=0, n_drivers=0)
    shown = res.table[~res.table["suppressed"]]
    assert res.info["rows"] == 45
    assert res.reference_share == pytest.approx(8 / 45)
    col = "expected_leavers" if mode == "prospective" else "expected"
    leftover = res.reference_share * res.info["rows"] - shown[col].sum()
    assert leftover == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("method", ["multiplicative", "additive"])
def test_retrospective_overdispersion_applied(method):
    # Add spread: more units far from expectation so that phi > 1.
    groups = dict(HAND)
    groups.update({"F": people(10, 0.2, 0), "G": people(10, 0.2, 5), "H": people(10, 0.2, 0)})
    res = flag_groups(
        FixedRisk(), make_panel(groups), mode="retrospective", overdispersion=method, n_drivers=0
    )
    t = res.table[~res.table["suppressed"]].set_index("unit_id")
    od = res.overdispersion
    zw_hand = t["z"].clip(*np.quantile(t["z"], [0.1, 0.9]))
    phi = float((zw_hand**2).mean())
    assert od["phi"] == pytest.approx(phi) and od["applied"] == method
    assert phi > 1
    prec = t["expected"] ** 2 / (t["expected"] * 0.8)  # all shown groups have p=0.2 except C, D
    prec["C"], prec["D"] = 4 / 1.8, 4 / 1.2
    if method == "multiplicative":
        np.testing.assert_allclose(t["z_adjusted"], t["z"] / np.sqrt(phi), atol=1e-12)
    else:
        s1, s2 = prec.sum(), (prec**2).sum()
        tau2 = max(0.0, (len(t) * phi - (len(t) - 1)) / (s1 - s2 / s1))
        assert od["tau2"] == pytest.approx(tau2)
        np.testing.assert_allclose(
            t["z_adjusted"], t["z"] * np.sqrt((1 / prec) / (1 / prec + tau2)), atol=1e-12
        )
        np.testing.assert_allclose(
            t["limit_95_high"], 1 + 1.959964 * np.sqrt(1 / prec + tau2), atol=1e-6
        )
    assert (t["z_adjusted"].abs() <= t["z"].abs() + 1e-12).all()


def test_auto_overdispersion_reports_test():
    res = flag_groups(FixedRisk(), make_panel(HAND), mode="retrospective", n_drivers=0)
    od = res.overdispersion
    assert od["requested"] == "auto"
    assert od["applied"] == ("additive" if od["p_value"] < 0.05 else "none")
    assert od["n_groups"] == 4


def test_retrospective_default_period_is_latest_fully_labelled():
    a = make_panel({"A": people(6, 0.2, 1), "B": people(6, 0.2, 2)}, period="2022-01-01")
    b = make_panel({"A": people(6, 0.2, 3), "B": people(6, 0.2, 2)}, period="2022-02-01")
    c = make_panel({"A": people(6, 0.2, 1), "B": people(6, 0.2, 2)}, period="2022-03-01")
    c.loc[c.index[1:], "left_within_horizon"] = np.nan  # horizon not elapsed: censored
    panel = attach_spec(
        pd.concat([a, b, c], ignore_index=True),
        PanelSpec(feature_cols=("risk",), group_cols=("unit_id",)),
    )
    res = flag_groups(FixedRisk(), panel, mode="retrospective", n_drivers=0)
    assert res.period == pd.Timestamp("2022-02-01")
    assert _row(res.table, "A")["observed"] == 3
    explicit = flag_groups(
        FixedRisk(), panel, mode="retrospective", period="2022-01-01", n_drivers=0
    )
    assert _row(explicit.table, "A")["observed"] == 1


# ---------------------------------------------------------------------------------------------
# flag_groups, prospective
# ---------------------------------------------------------------------------------------------


def test_prospective_without_refits_by_hand():
    # reference r = mean risk = (10*0.2 + 10*0.5 + 20*0.1) / 40 = 0.225
    panel = make_panel({"A": people(10, 0.2, 0), "B": people(10, 0.5, 0), "C": people(20, 0.1, 0)})
    res = flag_groups(FixedRisk(), panel, n_boot=0, n_drivers=0)
    t = res.table.set_index("unit_id")
    r = 0.225
    assert res.reference_share == pytest.approx(r)
    for unit, n, p in [("A", 10, 0.2), ("B", 10, 0.5), ("C", 20, 0.1)]:
        row = t.loc[unit]
        assert row["expected_leavers"] == pytest.approx(n * p)
        assert row["exit_share"] == pytest.approx(p)
        assert row["ratio"] == pytest.approx(p / r)
        assert np.isnan(row["z"]) and row["flag"] == "not assessed"  # no model uncertainty
        # outcome-only prediction interval = binomial quantiles
        assert row["leavers_pi_low"] == stats.binom.ppf(0.025, n, p)
        assert row["leavers_pi_high"] == stats.binom.ppf(0.975, n, p)
        assert row["exit_share_pi_high"] == pytest.approx(stats.binom.ppf(0.975, n, p) / n)


def test_prospective_uses_latest_period_one_row_per_person():
    early = make_panel({"A": people(6, 0.9, 0)}, period="2022-01-01")
    late = make_panel({"A": people(6, 0.1, 0)}, period="2022-02-01")
    panel = attach_spec(
        pd.concat([early, late], ignore_index=True),
        PanelSpec(feature_cols=("risk",), group_cols=("unit_id",)),
    )
    res = flag_groups(FixedRisk(), panel, n_boot=0, n_drivers=0)
    assert res.period == pd.Timestamp("2022-02-01")
    assert res.table.loc[0, "exit_share"] == pytest.approx(0.1)
    assert res.table.loc[0, "n_persons"] == 6


def _learnable_panel(seed=0, n_units=12, periods=8):
    """Person-period panel where unit U00 has a much higher caseload (and risk)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_units):
        for i in range(int(rng.integers(8, 20))):
            for t in range(periods):
                rows.append((f"U{u:02d}-{i}", f"U{u:02d}", t))
    df = pd.DataFrame(rows, columns=["employee_id", "unit_id", "t"])
    df["period"] = (pd.Timestamp("2021-01-01") + pd.to_timedelta(df["t"] * 31, "D")).astype(
        "datetime64[ns]"
    )
    df["period"] = df["period"].dt.to_period("M").dt.start_time.astype("datetime64[ns]")
    df = df.drop(columns="t")
    df["caseload_3m_mean"] = rng.normal(14, 3, len(df)) + 12 * (df["unit_id"] == "U00")
    df["age"] = rng.normal(40, 10, len(df))
    eta = -2.2 + 0.25 * (df["caseload_3m_mean"] - 14)
    df["left_within_horizon"] = (rng.random(len(df)) < expit(eta)).astype(float)
    df.loc[df["period"] == df["period"].max(), "left_within_horizon"] = np.nan
    return attach_spec(
        df, PanelSpec(feature_cols=("caseload_3m_mean", "age"), group_cols=("unit_id",))
    )


def test_prospective_bootstrap_refits_are_reproducible_and_cover():
    from sklearn.linear_model import LogisticRegression

    panel = _learnable_panel()
    lab = panel[panel["left_within_horizon"].notna()]
    model = LogisticRegression().fit(
        lab[["caseload_3m_mean", "age"]], lab["left_within_horizon"].astype(int)
    )
    a = flag_groups(model, panel, n_boot=8, random_state=1, n_drivers=0)
    b = flag_groups(model, panel, n_boot=8, random_state=1, n_drivers=0)
    pd.testing.assert_frame_equal(a.table, b.table)
    t = a.table[~a.table["suppressed"]]
    assert a.info["refits"] == 8
    assert (t["ratio_ci_low"] < t["ratio"]).all() and (t["ratio"] < t["ratio_ci_high"]).all()
    assert (t["exit_share_pi_low"] <= t["exit_share"]).all()
    assert (t["exit_share"] <= t["exit_share_pi_high"]).all()
    # the margin test, by its formula, from the table's own ratio and standard error
    m, df = 1.25, 8 - 1
    log_r, se = np.log(t["ratio"]), t["log_ratio_se"]
    z = np.where(log_r >= 0, (log_r - np.log(m)) / se, (log_r + np.log(m)) / se)
    p = np.minimum(1, 2 * np.where(log_r >= 0, stats.t.sf(z, df), stats.t.cdf(z, df)))
    np.testing.assert_allclose(t["z"], z)
    np.testing.assert_allclose(t["p_value"], p)
    np.testing.assert_allclose(t["ratio_ci_high"], t["ratio"] * np.exp(stats.t.ppf(0.975, df) * se))
    np.testing.assert_allclose(t["q_value"], stats.false_discovery_control(p))
    flags = dict(zip(a.table["unit_id"], a.table["flag"], strict=True))
    assert flags.pop("U00") == "elevated"  # caseload 12 above the others: risk about 3x
    # the other units share one risk level; none is a quarter above the reference (U00 pulls
    # the reference up, so some may come out low)
    assert "elevated" not in flags.values()
    # margin=1 tests any difference: at least as many flags
    any_diff = flag_groups(model, panel, n_boot=8, random_state=1, n_drivers=0, margin=1)
    assert any_diff.flagged.shape[0] >= a.flagged.shape[0]


# ---------------------------------------------------------------------------------------------
# what_if
# ---------------------------------------------------------------------------------------------


def _what_if_panel():
    # C and D are small; hidden together (5 persons) they need no shown unit as a partner
    groups = {"A": [(0, 0.0)] * 6, "B": [(0, 0.0)] * 5, "C": [(0, 0.0)] * 2, "D": [(0, 0.0)] * 3}
    panel = make_panel(groups, features=("supervision_sessions_3m",))
    panel["supervision_sessions_3m"] = [0, 1, 2, 3, 4, 5, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1]
    panel["tenure_service_months"] = [1, 2, 30, 40, 50, 60, 3, 30, 30, 30, 30, 1, 1, 30, 30, 30]
    return panel


def test_what_if_plain_number_adds_and_where_selects():
    panel = _what_if_panel()
    model = LinearRisk()
    res = what_if(
        model,
        panel,
        change={"supervision_sessions_3m": 2},
        where=lambda p: p["tenure_service_months"] < 6,
    )
    assert isinstance(res, WhatIfResult)
    t = res.table.set_index("unit_id")
    x = panel["supervision_sessions_3m"].to_numpy(float)
    new = np.where(panel["tenure_service_months"] < 6, x + 2, x)
    before, after = expit(-1 + 0.5 * x), expit(-1 + 0.5 * new)
    a = slice(0, 6)
    assert t.loc["A", "exit_share_before"] == pytest.approx(before[a].mean())
    assert t.loc["A", "exit_share_after"] == pytest.approx(after[a].mean())
    assert t.loc["A", "n_changed"] == 2 and t.loc["B", "n_changed"] == 1
    assert t.loc["B", "difference"] == pytest.approx((after[6:11] - before[6:11]).mean())
    assert t.loc["C", "suppressed"] and np.isnan(t.loc["C", "exit_share_after"])
    # the overall figure covers the shown groups only (A and B), so C cannot be subtracted out
    assert res.overall["exit_share_after"] == pytest.approx(after[:11].mean())
    assert res.overall["n_persons"] == 11
    assert res.note == ASSOCIATION_NOTE and res.table.attrs["note"] == ASSOCIATION_NOTE
    assert "not a proven effect" in repr(res)
    assert "not a proven effect" in what_if.__doc__


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        (("set", 4), lambda x: np.full_like(x, 4.0)),
        (("add", -3), lambda x: np.clip(x - 3, 0, None)),  # counts never go negative
        (3, lambda x: x + 3),
        (("multiply", 2), lambda x: 2 * x),
        (("at_most", 2), lambda x: np.minimum(x, 2)),
        (("at_least", 3), lambda x: np.maximum(x, 3)),
        (lambda s: s.clip(upper=1), lambda x: np.minimum(x, 1)),
    ],
)
def test_what_if_operations(how, expected):
    panel = _what_if_panel()
    res = what_if(LinearRisk(), panel, change={"supervision_sessions_3m": how})
    x = panel["supervision_sessions_3m"].to_numpy(float)
    after = expit(-1 + 0.5 * expected(x))
    # the overall figure covers the shown groups only (A and B), so C cannot be subtracted out
    assert res.overall["exit_share_after"] == pytest.approx(after[:11].mean())
    assert res.overall["n_persons"] == 11
    assert res.table.set_index("unit_id").loc["A", "exit_share_after"] == pytest.approx(
        after[:6].mean()
    )


def test_what_if_where_series_aligned_on_index():
    panel = _what_if_panel()
    mask = panel["tenure_service_months"] < 6
    by_series = what_if(LinearRisk(), panel, change={"supervision_sessions_3m": 2}, where=mask)
    by_func = what_if(
        LinearRisk(),
        panel,
        change={"supervision_sessions_3m": 2},
        where=lambda p: p["tenure_service_months"] < 6,
    )
    pd.testing.assert_frame_equal(by_series.table, by_func.table)


def test_what_if_non_lever_warns_and_lever_does_not():
    panel = _what_if_panel()
    panel["age"] = 40.0

    class AgeRisk(LinearRisk):
        def __init__(self):
            super().__init__()
            self.feature_names_in_ = np.array(["supervision_sessions_3m", "age"], dtype=object)

    with warnings.catch_warnings():
        warnings.simplefilter("error", TurnoverRiskWarning)
        what_if(AgeRisk(), panel, change={"supervision_sessions_3m": 1})
    with pytest.warns(TurnoverRiskWarning, match=r"'age' is not a lever"):
        what_if(AgeRisk(), panel, change={"age": ("set", 30)})


@pytest.mark.parametrize(
    ("change", "err", "match"),
    [
        ({}, TypeError, "non-empty mapping"),
        ({"nonexistent": 1}, ValueError, "'nonexistent', which is not a feature of the model"),
        ({"supervision_sessions_3m": ("double", 2)}, TypeError, "is not understood"),
        ({"supervision_sessions_3m": [1, 2]}, TypeError, "is not understood"),
    ],
)
def test_what_if_bad_change(change, err, match):
    with pytest.raises(err, match=match):
        what_if(LinearRisk(), _what_if_panel(), change=change)


def test_what_if_bad_where():
    with pytest.raises(ValueError, match="one True/False per row"):
        what_if(
            LinearRisk(),
            _what_if_panel(),
            change={"supervision_sessions_3m": 1},
            where=np.array([1, 2]),
        )


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_by_column_missing():
    with pytest.raises(ValueError, match=r"by='unit' names column\(s\) \['unit'\].*unit_id"):
        flag_groups(FixedRisk(), make_panel(HAND), by="unit", n_boot=0)


def test_no_labelled_periods_in_retrospective_mode():
    panel = make_panel(HAND)
    panel["left_within_horizon"] = np.nan
    with pytest.raises(ValueError, match="every label in the panel .* is missing"):
        flag_groups(FixedRisk(), panel, mode="retrospective")


def test_prospective_refits_need_labels():
    panel = make_panel(HAND)
    panel["left_within_horizon"] = np.nan
    with pytest.raises(ValueError, match="n_boot=0 to skip model uncertainty"):
        flag_groups(FixedRisk(), panel)


def test_every_group_under_minimum_gives_empty_result_with_reason():
    panel = make_panel({"A": people(3, 0.2, 1), "B": people(4, 0.2, 1)})
    with pytest.warns(TurnoverRiskWarning, match="fewer than min_group_size=5"):
        res = flag_groups(FixedRisk(), panel, mode="retrospective", n_drivers=0)
    assert res.empty and "by='municipality'" in res.reason
    assert (res.table["flag"] == "suppressed").all()
    assert res.table["observed"].isna().all()
    res.plot_funnel()  # an empty plot, not an error
    plt.close("all")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": "future"}, "mode='future' is not known; choose one of: prospective, retro"),
        ({"overdispersion": "both"}, "overdispersion='both' is not known"),
        ({"alpha": 0.7}, r"alpha=0.7 must be a number in \(0, 0.5\)"),
        ({"n_boot": 1}, "n_boot=1 cannot estimate"),
        ({"n_boot": -2}, "n_boot=-2 must be a non-negative integer"),
        ({"period": "1999-01-01", "n_boot": 0}, "period='1999-01-01' is not a period"),
        ({"min_group_size": 2}, "below the library's floor"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        flag_groups(FixedRisk(), make_panel(HAND), **kwargs)


def test_panel_without_spec():
    with pytest.raises(ValueError, match="carries no panel spec"):
        flag_groups(FixedRisk(), pd.DataFrame({"unit_id": ["a"]}))


# ---------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["prospective", "retrospective"])
def test_plot_funnel_draws_limits_and_points(mode):
    res = flag_groups(FixedRisk(), make_panel(HAND), mode=mode, n_boot=0, n_drivers=0)
    ax = res.plot_funnel()
    assert len(ax.lines) >= 5  # 2 levels x (low, high) + target line
    assert len(ax.collections[0].get_offsets()) == 4  # the suppressed unit is not drawn
    plt.close("all")


# ---------------------------------------------------------------------------------------------
# on the simulator: a planted high-risk unit is found; without one, false flags stay rare
# ---------------------------------------------------------------------------------------------

CASELOAD_FEATURES = {
    "caseload_last",
    "caseload_3m_mean",
    "caseload_6m_trend",
    "caseload_ratio_unit_median",
    "unit_caseload_mean",
}


@pytest.mark.slow
def test_planted_high_risk_unit_is_flagged_with_its_cause_among_drivers():
    from turnover_risk.datasets import make_register
    from turnover_risk.models._estimator import TurnoverRiskModel
    from turnover_risk.panel._build import build_panel

    reg, truth = make_register(
        n_units=12,
        years=4,
        random_state=0,
        return_truth=True,
        high_risk_units=1,
        high_risk_cause="caseload",
        high_risk_intake_factor=2.0,
        unit_positions_mean=20,
    )
    planted = truth.high_risk_units["unit_id"].item()
    panel = build_panel(reg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TurnoverRiskModel(kind="logistic", random_state=0).fit(panel)
    res = flag_groups(model, panel, n_boot=10, random_state=0)
    row = _row(res.table, planted)
    assert row["flag"] == "elevated"
    assert row["ratio"] > 1.25 and row["ratio_ci_low"] > 1
    drivers = res.drivers[res.drivers["unit_id"] == planted]
    assert len(drivers) == 3 and list(drivers["rank"]) == [1, 2, 3]
    assert CASELOAD_FEATURES & set(drivers["feature"])
    # the text gives each driver in percentage points of the unit's risk, from its log-odds
    # difference and the unit's predicted share (the report's conversion)
    assert "percentage points vs. all units" in row["drivers_pp"]
    assert "log-odds" not in row["drivers_pp"]
    s = row["exit_share"]
    d = drivers["difference"].to_numpy()
    expected_pp = 100 * (s - 1 / (1 + np.exp(-(np.log(s / (1 - s)) - d))))
    assert np.allclose(drivers["difference_pp"], expected_pp)
    assert (np.sign(drivers["difference_pp"]) == np.sign(drivers["difference"])).all()
    for text, pp in zip(drivers["text"], drivers["difference_pp"], strict=True):
        assert f"{pp:+.1f} percentage points" in text and text in row["drivers_pp"]
    # drivers only for flagged groups, never for suppressed ones
    assert set(res.drivers["unit_id"]) == set(res.flagged["unit_id"])
    assert (res.table.loc[res.table["suppressed"], "drivers_pp"] == "").all()


@pytest.mark.slow
def test_false_flags_without_planted_unit_stay_below_nominal_fdr():
    from turnover_risk.datasets import make_register
    from turnover_risk.models._estimator import TurnoverRiskModel
    from turnover_risk.panel._build import build_panel

    alpha, shares, any_flag = 0.05, [], []
    for seed in range(6):
        panel = build_panel(make_register(n_units=20, years=4, random_state=seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = TurnoverRiskModel(kind="logistic", random_state=0).fit(panel)
        res = flag_groups(model, panel, mode="retrospective", alpha=alpha, n_drivers=0)
        shown = res.table[~res.table["suppressed"]]
        assert len(shown) >= 10
        n_flagged = int(shown["flag"].isin(["elevated", "low"]).sum())
        shares.append(n_flagged / len(shown))
        any_flag.append(n_flagged > 0)
        # the z-scores are near standard normal under the model: mean z^2 (no winsorising) ~ 1
        assert 0.2 < float((shown["z"] ** 2).mean()) < 2.5
    # Under the global null every flag is false: FDR = P(any flag) <= alpha. With 6 seeds,
    # allow one unlucky seed; the share of units flagged must stay well under alpha.
    assert sum(any_flag) <= 1
    assert np.mean(shares) <= alpha


# ---------------------------------------------------------------------------------------------
# invariants and labels
# ---------------------------------------------------------------------------------------------


@given(
    sizes=st.lists(st.integers(3, 12), min_size=2, max_size=6),
    seed=st.integers(0, 10_000),
    mode=st.sampled_from(["retrospective", "prospective"]),
)
def test_row_order_does_not_matter_and_counts_add_up(sizes, seed, mode):
    rng = np.random.default_rng(seed)
    groups = {
        f"G{i}": [(float(rng.uniform(0.05, 0.6)), float(rng.random() < 0.3)) for _ in range(n)]
        for i, n in enumerate(sizes)
    }
    panel = make_panel(groups)
    shuffled = attach_spec(
        panel.sample(frac=1, random_state=seed).reset_index(drop=True),
        PanelSpec(feature_cols=("risk",), group_cols=("unit_id",)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurnoverRiskWarning)  # all groups small: tested above
        a = flag_groups(FixedRisk(), panel, mode=mode, n_boot=0, n_drivers=0)
        b = flag_groups(FixedRisk(), shuffled, mode=mode, n_boot=0, n_drivers=0)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=False, rtol=1e-9)
    size = pd.Series(sizes, index=[f"G{i}" for i in range(len(sizes))])
    t = a.table.set_index("unit_id")
    hidden = t["suppressed"]
    assert (t.loc[~hidden, "n_persons"] == size[~hidden]).all()
    assert t.loc[hidden, "n_persons"].isna().all()  # no exact count of a hidden group
    assert hidden[size < 5].all()  # small groups hidden ...
    assert hidden.sum() != 1  # ... never alone: the total minus the shown ones is not one group
    shown = a.table[~a.table["suppressed"]]
    assert (shown["q_value"].dropna() >= shown["p_value"].dropna() - 1e-12).all()


def test_several_group_columns():
    panel = make_panel(HAND)
    panel["municipality"] = np.where(panel["unit_id"].isin(["A", "B"]), "K1", "K2")
    res = flag_groups(
        FixedRisk(), panel, by=["municipality", "unit_id"], mode="retrospective", n_drivers=0
    )
    assert list(res.table.columns[:2]) == ["municipality", "unit_id"]
    assert res.by == ("municipality", "unit_id")
    by_muni = flag_groups(
        FixedRisk(), panel, by="municipality", mode="retrospective", n_drivers=0
    ).table.set_index("municipality")
    assert by_muni.loc["K1", "observed"] == 8 and by_muni.loc["K1", "expected"] == pytest.approx(4)
    assert by_muni.loc["K2", "n_persons"] == 32  # E and Z (3 + 4 persons) count inside K2


@pytest.mark.parametrize(
    ("feature", "diff", "by", "lang", "text"),
    [
        (
            "caseload_3m_mean",
            0.314,
            "unit_id",
            "en",
            "caseload 3-month mean, +0.31 log-odds vs. all units",
        ),
        (
            "supervision_sessions_3m",
            -0.2,
            "municipality",
            "en",
            "supervision sessions, 3 months, -0.20 log-odds vs. all municipalities",
        ),
        (
            "caseload_3m_mean",
            0.314,
            "unit_id",
            "nb",
            "saksmengde, snitt 3 mnd., +0.31 log-odds mot alle enheter",
        ),
        ("my_score", 1.0, "team_x", "en", "my score, +1.00 log-odds vs. all groups"),
    ],
)
def test_driver_text(feature, diff, by, lang, text):
    from turnover_risk.groups import driver_text

    assert driver_text(feature, diff, by, lang) == text


def test_every_documented_feature_has_a_short_label():
    from turnover_risk.groups import feature_label
    from turnover_risk.panel._build import FEATURES

    for name in FEATURES:
        for lang in ("en", "nb"):
            label = feature_label(name, lang)
            assert label and len(label) <= 45 and "_" not in label, (name, label)


def test_flag_result_repr_and_flagged():
    res = flag_groups(
        FixedRisk(), make_panel(HAND), mode="retrospective", overdispersion="none", n_drivers=0
    )
    assert list(res.flagged["unit_id"]) == ["A"]
    text = repr(res)
    assert "retrospective" in text and "'elevated': 1" in text and "overdispersion='none'" in text


def test_what_if_where_with_missing_values_selects_nobody_there():
    panel = _what_if_panel()
    mask = pd.Series([True, None] * 6 + [True] + [None] * 3, index=panel.index, dtype=object)
    res = what_if(LinearRisk(), panel, change={"supervision_sessions_3m": 1}, where=mask)
    # 7 rows selected, one of them in the suppressed unit C: the overall counts shown units only
    assert res.overall["n_changed"] == 6
