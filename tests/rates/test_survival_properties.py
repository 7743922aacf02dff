"""Properties of retention and cumulative_incidence on random registers (hypothesis).

A brute-force Kaplan–Meier and Aalen–Johansen (a Python loop over the exit days, counting the
risk set stay by stay) is the oracle; the curves are monotone, inside [0, 1], the intervals
hold the estimate, the causes add up to ``1 - S``, and copying every person k times leaves the
curves alone and multiplies the counts by k.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import turnover_risk as tr
from turnover_risk._warnings import DataQualityWarning
from turnover_risk.data import Register
from turnover_risk.rates._spells import _prepare
from turnover_risk.rates._survival_stays import build_stays, reason_names

UNITS = pd.DataFrame(
    {"unit_id": ["U1", "U2", "U3"], "municipality": ["A", "A", "B"], "service": ["S1", "S1", "S2"]}
)
WINDOW = {"observation_start": "2020-01-01", "observation_end": "2022-12-31"}
REASONS = ["voluntary", "retirement", "internal_transfer", "dismissal", "contract_end", None]
BASE = np.datetime64("2018-01-01")

spell = st.tuples(
    st.sampled_from(["U1", "U2", "U3"]),
    st.integers(0, 60),  # gap in 30-day steps from the previous end (0: adjacent)
    st.integers(1, 40),  # length in 30-day steps
    st.sampled_from(REASONS),
    st.booleans(),  # open
)
person = st.lists(spell, min_size=1, max_size=3)


def _register(people: list, copies: int = 1) -> Register:
    rows = []
    for k in range(copies):
        for i, spells in enumerate(people):
            day = BASE
            for unit, gap, length, reason, is_open in spells:
                start = day + np.timedelta64(gap * 30 + (1 if day != BASE else 0), "D")
                end = start + np.timedelta64(length * 30, "D")
                rows.append((f"P{i}_{k}", unit, str(start), None if is_open else str(end), reason))
                if is_open:
                    break
                day = end
    emp = pd.DataFrame(
        rows, columns=["employee_id", "unit_id", "start_date", "end_date", "exit_reason"]
    )
    emp["exit_reason"] = emp["exit_reason"].where(emp["end_date"].notna())
    return Register(employment=emp.assign(fte=1.0), units=UNITS, metadata=dict(WINDOW))


def _brute_force(entry, time, event, reason, causes):
    """Kaplan–Meier and Aalen–Johansen by a loop over the exit days."""
    out = []
    s, F = 1.0, dict.fromkeys(causes, 0.0)
    for t in sorted(set(time[event].tolist())):
        n = int(((entry < t) & (time >= t)).sum())
        at = event & (time == t)
        d = int(at.sum())
        for c in causes:
            F[c] += s * int((at & (reason == c)).sum()) / n
        s *= 1 - d / n
        out.append((t, n, d, s, dict(F)))
    return out


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # all-suppressed / empty
        return fn(*args, **kwargs)


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(person, min_size=1, max_size=12), st.sampled_from(["service", "unit", "any"]))
def test_curves_equal_a_brute_force_estimate(people, scope):
    reg = _register(people, copies=3)
    causes = ("voluntary", "retirement", "internal_transfer", "dismissal", "other")
    km = _quiet(tr.retention, reg, scope=scope, min_group_size=3)
    aj = _quiet(tr.cumulative_incidence, reg, scope=scope, min_group_size=3)
    sp, _ = _prepare(reg, who="t", by=[], start=None, end=None)
    stays = build_stays(sp, scope)
    reason = np.array([r if r in causes else "other" for r in reason_names(stays)], dtype=object)
    ref = _brute_force(stays.entry, stays.time, stays.event, reason, causes)
    curves = km.curves
    assert len(curves) == len(ref)
    for row in km.table.itertuples():  # the table's risk sets at the requested times
        t = row.time_months * 365.25 / 12
        assert row.at_risk == int(((stays.entry < t) & (stays.time >= t)).sum())
    for row, (t, n, d, s, _) in zip(curves.itertuples(), ref, strict=True):
        assert row.time_months == pytest.approx(t / (365.25 / 12), abs=1e-12)
        assert (row.at_risk, row.suppressed) == (n, n < 3)
        if not row.suppressed:
            assert row.events == d
            assert row.retention == pytest.approx(s, abs=1e-12)
    shown = aj.curves[~aj.curves["suppressed"]].set_index(["cause", "time_months"])
    for t, n, _, _, F in ref:
        if n >= 3:
            for c in causes:
                got = shown.loc[(c, t / (365.25 / 12)), "cumulative_incidence"]
                assert got == pytest.approx(F[c], abs=1e-12)


@SETTINGS
@given(st.lists(person, min_size=2, max_size=12), st.integers(2, 4))
def test_monotone_bounded_and_invariant_to_copies(people, k):
    one = _quiet(tr.retention, _register(people, copies=5), min_group_size=3)
    many = _quiet(tr.retention, _register(people, copies=5 * k), min_group_size=3)
    c = one.curves
    s = c["retention"].to_numpy(float)
    assert (np.diff(s) <= 1e-15).all() and ((s >= 0) & (s <= 1)).all()
    ok = c["retention"].notna() & c["ci_low"].notna()
    assert (c.loc[ok, "ci_low"] <= c.loc[ok, "retention"] + 1e-12).all()
    assert (c.loc[ok, "retention"] <= c.loc[ok, "ci_high"] + 1e-12).all()
    assert (c["at_risk"] >= 0).all() and (c["events"].fillna(0) <= c["at_risk"]).all()
    m = many.curves
    assert (m["at_risk"].to_numpy() == k * c["at_risk"].to_numpy()).all()
    np.testing.assert_allclose(m["retention"], c["retention"], atol=1e-12)
    assert (many.table["at_risk"].to_numpy() == k * one.table["at_risk"].to_numpy()).all()


@SETTINGS
@given(st.lists(person, min_size=2, max_size=12))
def test_causes_add_up_to_one_minus_retention(people):
    reg = _register(people, copies=5)
    km = _quiet(tr.retention, reg, min_group_size=3)
    aj = _quiet(tr.cumulative_incidence, reg, min_group_size=3)
    total = aj.curves.groupby("time_months")["cumulative_incidence"].sum()
    s = km.curves.set_index("time_months")["retention"]
    np.testing.assert_allclose(total.loc[s.index], 1 - s, atol=1e-12)
    f = aj.curves["cumulative_incidence"].to_numpy(float)
    assert ((f >= 0) & (f <= 1)).all()
    for _, part in aj.curves.groupby("cause"):
        assert (np.diff(part["cumulative_incidence"].to_numpy(float)) >= -1e-15).all()
