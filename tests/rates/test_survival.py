"""retention and cumulative_incidence: hand-computed registers, lifelines and statsmodels.

The lifelines references are computed in their own environment by
``scripts/survival_references.py`` (lifelines pins pandas<3) and stored in ``data/``;
statsmodels' ``SurvfuncRight`` (with ``entry=``) is compared directly.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import turnover_risk as tr
from turnover_risk.data import Register
from turnover_risk.rates._spells import _prepare
from turnover_risk.rates._survival_kernel import estimate
from turnover_risk.rates._survival_stays import build_stays, reason_names

DATA = Path(__file__).parent / "data"
MONTH = 365.25 / 12
Z = float(stats.norm.ppf(0.975))
HAND_WINDOW = {"observation_start": "2020-01-01", "observation_end": "2022-12-31"}


def _hand(name: str) -> Register:
    emp = pd.read_csv(DATA / f"hand_register_{name}.csv")
    units = pd.read_csv(DATA / "hand_units.csv")
    return Register(employment=emp, units=units, metadata=dict(HAND_WINDOW))


def _hand_a_single() -> Register:
    """The five persons of hand register a, once each (the fixture holds five copies)."""
    emp = pd.read_csv(DATA / "hand_register_a.csv")
    emp = emp[emp["employee_id"].str.endswith("_0")].reset_index(drop=True)
    units = pd.read_csv(DATA / "hand_units.csv")
    return Register(employment=emp, units=units, metadata=dict(HAND_WINDOW))


def _loglog(s: float, var: float) -> tuple[float, float]:
    shift = Z * np.sqrt(var) / abs(np.log(s))
    return s ** np.exp(shift), s ** np.exp(-shift)


# ---------------------------------------------------------------- hand-computed -----------


def test_stays_of_the_hand_register_by_hand():
    """Service scope, window 2020-2022: the stays' entry and exit tenure in days."""
    sp, _ = _prepare(_hand_a_single(), who="t", by=[], start=None, end=None)
    st = build_stays(sp, "service")
    got = sorted(
        zip(
            st.entry.tolist(),
            st.time.tolist(),
            st.event.tolist(),
            reason_names(st).tolist(),
            strict=True,
        )
    )
    assert got == [
        (0, 182, True, "voluntary"),  # P1 (its 2015-2018 spell is before the window)
        (0, 182, True, "voluntary"),  # P5 in service S2
        (0, 671, True, "retirement"),  # P3: U1 then U2 of one service is one stay
        (0, 730, False, None),  # P5 back, in service S1, open
        (214, 580, True, "dismissal"),  # P4 hired 2019-06-01: enters at 214 days
        (549, 1645, False, None),  # P2 hired 2018-07-01, open
    ]
    assert (st.n_stays, st.n_before, st.n_after) == (7, 1, 0)
    unit = build_stays(sp, "unit")
    reasons = sorted(r for r in reason_names(unit).tolist() if r is not None)
    assert "internal_transfer" in reasons  # at unit scope P3's move is an exit
    assert len(unit.time) == 7


def test_kaplan_meier_and_aalen_johansen_by_hand():
    """Exits at 182 (2 of 4 at risk), 580 (1 of 4), 671 days (1 of 3): P4 enters at 214
    days and P2 at 549, so neither is at risk at 182."""
    sp, _ = _prepare(_hand_a_single(), who="t", by=[], start=None, end=None)
    st = build_stays(sp, "service")
    code = {"voluntary": 1, "retirement": 2, "dismissal": 3}
    cause = np.array([code[r] if e else 0 for r, e in zip(reason_names(st), st.event, strict=True)])
    c, *_ = estimate(np.zeros(len(cause), int), st.entry, st.time, cause, 1, 3, Z)
    assert c.time.tolist() == [182, 580, 671]
    assert c.at_risk.tolist() == [4, 4, 3]
    assert c.events.tolist() == [2, 1, 1]
    np.testing.assert_allclose(c.surv, [0.5, 0.375, 0.25], atol=1e-15)
    for i, var in enumerate([2 / 8, 2 / 8 + 1 / 12, 2 / 8 + 1 / 12 + 1 / 6]):
        np.testing.assert_allclose((c.surv_low[i], c.surv_high[i]), _loglog(c.surv[i], var))
    # F_vol = 2/4; F_dis = S(182) 1/4; F_ret = S(580) 1/3; they add up to 1 - S
    np.testing.assert_allclose(c.cif[-1], [0.5, 0.375 / 3, 0.5 / 4], atol=1e-15)
    np.testing.assert_allclose(c.cif.sum(axis=1), 1 - c.surv, atol=1e-15)


def test_retention_table_on_five_copies_by_hand():
    """Each person five times: same curve, five times the counts, so nothing is suppressed."""
    res = tr.retention(_hand("a"), times=(6, 12, 24))
    t = res.table
    assert t["time_months"].tolist() == [6.0, 12.0, 24.0]
    # at 6 months (182.625 days) the 182-day leavers are gone; P4 and P2 have not entered
    assert t["at_risk"].tolist() == [10, 15, 5]
    assert t["events"].tolist() == [10, 0, 10]
    np.testing.assert_allclose(t["retention"], [0.5, 0.5, 0.25], atol=1e-15)
    lo, hi = _loglog(0.5, 10 / (20 * 10))
    np.testing.assert_allclose([t["ci_low"][0], t["ci_high"][0]], [lo, hi], rtol=1e-12)
    assert not t["suppressed"].any()
    med = res.median.iloc[0]
    # S drops to exactly 0.5 at 182 days (lifelines reads exp(log 10 - log 20) > 0.5 there
    # and reports the next exit time, 580 days)
    assert med["median_months"] == pytest.approx(182 / MONTH, abs=1e-12)
    assert med["n_stays"] == 30 and med["exits"] == 20
    assert res.info["stays_ended_before_window"] == 5
    assert res.info["stays_used"] == 30 and res.info["delayed_entries"] == 10


def test_small_rows_are_suppressed():
    res = tr.retention(_hand_a_single(), times=(6, 12, 24), min_group_size=3)
    t = res.table
    assert t["at_risk"].tolist() == [2, 3, 1]
    assert t["suppressed"].tolist() == [True, False, True]
    assert t.loc[t["suppressed"], ["events", "retention", "ci_low", "ci_high"]].isna().all().all()
    assert (res.curves.loc[res.curves["at_risk"] < 3, "suppressed"]).all()


def test_cumulative_incidence_table_by_hand():
    res = tr.cumulative_incidence(_hand("a"), times=(24,))
    t = res.table.set_index("cause")
    assert list(t.index) == ["voluntary", "retirement", "internal_transfer", "dismissal", "other"]
    np.testing.assert_allclose(t["cumulative_incidence"], [0.5, 0.125, 0.0, 0.125, 0.0], atol=1e-15)
    assert t["events"].tolist() == [10, 5, 0, 5, 0]  # all exits in (0, 24 months]
    assert (t["at_risk"] == 5).all()


def test_unit_scope_counts_the_move():
    res = tr.cumulative_incidence(_hand("a"), scope="unit", times=(36,))
    t = res.table.set_index("cause")
    assert t.loc["internal_transfer", "cumulative_incidence"] > 0
    svc = tr.cumulative_incidence(_hand("a"), scope="service", times=(36,)).table
    assert svc.set_index("cause").loc["internal_transfer", "cumulative_incidence"] == 0


# ---------------------------------------------------------------- references --------------


def _registers() -> dict[str, Register]:
    return {"sample": tr.load_sample(), "hand_a": _hand("a"), "hand_b": _hand("b")}


@pytest.mark.parametrize("name", ["sample", "hand_a", "hand_b"])
def test_retention_equals_lifelines(name):
    ref = pd.read_csv(DATA / "km_reference.csv", float_precision="round_trip")
    ref = ref[ref["group"] == name]
    res = tr.retention(_registers()[name], min_group_size=3)
    cur = res.curves[~res.curves["suppressed"]]
    m = cur.merge(ref, on="time_months", suffixes=("", "_ref"), validate="one_to_one")
    assert len(m) == len(cur) >= len(ref) - 5  # only the last few rows are suppressed
    for col in ["retention", "ci_low", "ci_high"]:
        np.testing.assert_allclose(m[col], m[f"{col}_ref"], rtol=0, atol=1e-9)
    assert (m["at_risk"] == m["at_risk_ref"]).all()
    if name != "hand_a":  # hand_a: S is exactly 0.5 over an interval (see above)
        med = res.median.iloc[0]
        for col in ["median_months", "median_ci_low", "median_ci_high"]:
            assert med[col] == pytest.approx(ref[col].iloc[0], abs=1e-9)


def test_retention_by_municipality_equals_lifelines():
    ref = pd.read_csv(DATA / "km_reference.csv", float_precision="round_trip")
    ref = ref[ref["group"].str.startswith("sample:")].copy()
    ref["municipality"] = ref["group"].str[len("sample:") :]
    res = tr.retention(tr.load_sample(), by="municipality", min_group_size=3)
    cur = res.curves[~res.curves["suppressed"]]
    m = cur.merge(ref, on=["municipality", "time_months"], suffixes=("", "_ref"))
    assert len(m) == len(cur) and m["municipality"].nunique() > 5
    for col in ["retention", "ci_low", "ci_high", "at_risk"]:
        np.testing.assert_allclose(m[col], m[f"{col}_ref"], rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ["sample", "hand_a", "hand_b"])
def test_cumulative_incidence_equals_lifelines(name):
    ref = pd.read_csv(DATA / "aj_reference.csv", float_precision="round_trip")
    ref = ref[ref["group"] == name]
    res = tr.cumulative_incidence(_registers()[name], min_group_size=3)
    cur = res.curves[~res.curves["suppressed"]]
    m = cur.merge(ref, on=["cause", "time_months"], suffixes=("", "_ref"))
    assert len(m) == len(cur) > 0
    np.testing.assert_allclose(m["cumulative_incidence"], m["cumulative_incidence_ref"], atol=1e-9)
    # lifelines leaves the interval NaN while F is 0; here it is [0, 0]
    nil = m["cumulative_incidence"] == 0
    assert (
        m["ci_low_ref"][nil].isna().all() and (m.loc[nil, ["ci_low", "ci_high"]] == 0).all().all()
    )
    for col in ["ci_low", "ci_high"]:
        np.testing.assert_allclose(m[col][~nil], m[f"{col}_ref"][~nil], rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ["sample", "hand_b"])
def test_retention_equals_statsmodels(name):
    from statsmodels.duration.survfunc import SurvfuncRight

    reg = _registers()[name]
    sp, _ = _prepare(reg, who="t", by=[], start=None, end=None)
    st = build_stays(sp, "service")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # statsmodels divides by zero at the end
        sf = SurvfuncRight(st.time / MONTH, st.event.astype(int), entry=st.entry / MONTH)
    res = tr.retention(reg, min_group_size=3)
    cur = res.curves[~res.curves["suppressed"]]
    ref = pd.DataFrame(
        {
            "time_months": sf.surv_times,
            "surv": sf.surv_prob,
            "se": sf.surv_prob_se,
            "n": sf.n_risk,
            "d": sf.n_events,
        }
    )
    m = cur.merge(ref, on="time_months", validate="one_to_one")
    assert len(m) == len(cur)
    np.testing.assert_allclose(m["retention"], m["surv"], rtol=0, atol=1e-9)
    assert (m["at_risk"] == m["n"]).all() and (m["events"] == m["d"]).all()
    # statsmodels gives Greenwood's SE of S; the log-log interval from it
    shift = Z * m["se"] / m["surv"] / np.abs(np.log(m["surv"]))
    np.testing.assert_allclose(m["ci_low"], m["surv"] ** np.exp(shift), atol=1e-9)
    np.testing.assert_allclose(m["ci_high"], m["surv"] ** np.exp(-shift), atol=1e-9)


# ---------------------------------------------------------------- groups, errors, plot ---


def test_cohorts_newly_qualified_and_hire_year():
    res = tr.retention(tr.load_sample(), cohort=["year", "newly_qualified"], times=(12,))
    t = res.table
    assert list(t.columns[:2]) == ["hire_year", "newly_qualified"]
    emp = tr.load_sample().employment
    first = emp.sort_values("start_date").drop_duplicates("employee_id")
    assert t["hire_year"].min() == pd.to_datetime(first["start_date"]).dt.year.min()
    assert t["newly_qualified"].dtype == "boolean"
    # newly qualified staff leave more in the simulator
    nq = tr.retention(tr.load_sample(), cohort="newly_qualified", times=(24,)).table
    s = nq.set_index("newly_qualified")["retention"]
    assert s[True] < s[False]


def test_bad_arguments_say_what_to_do():
    reg = tr.load_sample()
    with pytest.raises(ValueError, match="times="):
        tr.retention(reg, times=(0, 12))
    with pytest.raises(ValueError, match="cohort="):
        tr.retention(reg, cohort="decade")
    with pytest.raises(ValueError, match="scope="):
        tr.retention(reg, scope="team")
    with pytest.raises(ValueError, match="min_group_size=2"):
        tr.retention(reg, min_group_size=2)
    with pytest.raises(ValueError, match="not in the data"):
        tr.retention(reg, by="region")
    emp = reg.employment.drop(columns="qualified_year")
    with pytest.raises(ValueError, match="qualified_year"):
        tr.retention(
            Register(employment=emp, units=reg.units, metadata=reg.metadata),
            cohort="newly_qualified",
        )


def test_plot_draws_one_curve_per_group():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = tr.retention(tr.load_sample(), cohort="newly_qualified")
    ax = res.plot()
    assert len(ax.get_lines()) == 2
    plt.close("all")
    ci = tr.cumulative_incidence(tr.load_sample())
    ax = ci.plot(bands=False)
    assert len(ax.get_lines()) == len(ci.curves.loc[~ci.curves["suppressed"], "cause"].unique())
    plt.close("all")


def test_sorted_risk_sets_equal_the_dense_grid(monkeypatch):
    """Beyond DENSE_CELLS (group x day) cells the risk sets are counted by sorting."""
    import turnover_risk.rates._survival_kernel as kernel

    dense = tr.cumulative_incidence(tr.load_sample(), by="municipality", min_group_size=3)
    monkeypatch.setattr(kernel, "DENSE_CELLS", 10)
    cut = tr.cumulative_incidence(tr.load_sample(), by="municipality", min_group_size=3)
    pd.testing.assert_frame_equal(dense.table, cut.table)
    pd.testing.assert_frame_equal(dense.curves, cut.curves)
