"""Tests of the register simulator (turnover_risk.datasets) and the shipped sample."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import turnover_risk as tr
from turnover_risk.data._schema import EXIT_REASONS, SCHEMAS, pandas_dtype
from turnover_risk.datasets import EFFECT_FEATURES, SAMPLE_ARGS, SimulationKnobs

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"n_units": 30, "years": 3, "burn_in_months": 12}


@pytest.fixture(scope="module")
def sample() -> tr.Register:
    return tr.load_sample()


@pytest.fixture(scope="module")
def small() -> tuple[tr.Register, tr.SimulationTruth]:
    return tr.make_register(n_units=12, years=2, random_state=3, return_truth=True)


@pytest.fixture(scope="module")
def big() -> tr.Register:
    """A register large enough for calibration (about 3 400 positions, 4 years)."""
    return tr.make_register(n_units=400, years=4, start_year=2019, random_state=11)


# ------------------------------------------------------------------ helpers (plain pandas)
def window(reg: tr.Register) -> tuple[pd.Timestamp, pd.Timestamp]:
    y0, n = reg.metadata["start_year"], reg.metadata["years"]
    return pd.Timestamp(f"{y0}-01-01"), pd.Timestamp(f"{y0 + n - 1}-12-31")


def person_years(reg: tr.Register) -> float:
    lo, hi = window(reg)
    e = reg.employment
    s = e["start_date"].clip(lower=lo)
    t = e["end_date"].fillna(hi).clip(upper=hi)
    return float(((t - s).dt.days + 1).clip(lower=0).sum() / 365.25)


def n_exits(reg: tr.Register, reasons: tuple[str, ...]) -> int:
    return int(reg.employment["exit_reason"].isin(reasons).sum())


def exit_rate(reg: tr.Register, reasons: tuple[str, ...] = ("voluntary",)) -> float:
    return n_exits(reg, reasons) / person_years(reg)


def sessions_per_month(reg: tr.Register) -> float:
    return len(reg.supervision) / (12 * person_years(reg))


def doctor_days(reg: tr.Register) -> float:
    a = reg.absences[reg.absences["certification"] == "doctor"]
    return float(((a["end_date"] - a["start_date"]).dt.days + 1).sum() / person_years(reg))


def hazard_where(truth: tr.SimulationTruth, mask: pd.Series) -> float:
    return float(truth.hazard.loc[mask, "hazard"].mean())


def ages_at(reg: tr.Register) -> pd.Series:
    return window(reg)[0].year - reg.employment["birth_year"].astype(float)


# ------------------------------------------------------------------ public API and contract
def test_public_names_are_exported() -> None:
    for name in ("make_register", "load_sample", "SimulationTruth", "SimulationKnobs"):
        assert name in tr.__all__
        assert getattr(tr, name) is not None


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_every_table_follows_the_contract(small, table) -> None:
    reg, _ = small
    df = reg.tables()[table]
    schema = SCHEMAS[table]
    assert set(schema.required) <= set(df.columns)
    assert len(df) > 0
    for c in df.columns:
        if schema.matches_pattern(c) and c not in schema.names:
            assert df[c].dtype == np.float64, c
        else:
            assert df[c].dtype == pandas_dtype(schema.column(c)), (table, c, df[c].dtype)
    assert isinstance(df.index, pd.RangeIndex)


def test_ids_and_units_table(small) -> None:
    reg, _ = small
    assert reg.employment["employee_id"].str.fullmatch(r"E\d{6}").all()
    assert reg.units["unit_id"].tolist() == [f"U{i:02d}" for i in range(1, 13)]
    # one service per municipality, several units per municipality somewhere
    per_mun = reg.units.groupby("municipality")["service"].nunique()
    assert (per_mun == 1).all()
    assert reg.units["municipality"].nunique() > 1
    assert reg.units.groupby("municipality").size().max() > 1
    assert reg.units["unit_name"].is_unique


def test_surveys_are_wide_with_30_item_columns(small) -> None:
    reg, _ = small
    items = [f"item_{i:02d}" for i in range(1, 31)]
    assert list(reg.surveys.columns) == ["employee_id", "date", "instrument", *items]
    assert set(reg.surveys["instrument"]) <= {"CBI", "ProQOL", "BAT12"}


def test_validate_reports_no_problem_on_the_sample(sample) -> None:
    report = tr.validate(sample)
    assert report.ok, report


# ------------------------------------------------------------------ invariants
def check_invariants(reg: tr.Register) -> None:
    lo, hi = window(reg)
    emp = reg.employment
    end = emp["end_date"].fillna(pd.Timestamp("2262-01-01"))
    assert (end >= emp["start_date"]).all()
    # exit_reason exactly on closed spells
    assert (emp["exit_reason"].isna() == emp["end_date"].isna()).all()
    assert (emp["end_date"].dropna() <= hi).all() and (end >= lo).all()
    assert ((emp["fte"] > 0) & (emp["fte"] <= 1)).all()
    assert set(emp["role"]) <= {"caseworker", "team_leader"}
    # no two spells of one person overlap (in any unit)
    e = emp.assign(_end=end).sort_values(["employee_id", "start_date"])
    prev_end = e.groupby("employee_id")["_end"].shift(1)
    assert not (e["start_date"] <= prev_end).any()
    # a transfer is followed the next day by a spell in another unit of the same service
    svc = reg.units.set_index("unit_id")["service"]
    nxt = e.groupby("employee_id")[["unit_id", "start_date"]].shift(-1)
    moved = e["exit_reason"] == "internal_transfer"
    assert (nxt.loc[moved, "start_date"] == e.loc[moved, "end_date"] + pd.Timedelta(days=1)).all()
    assert (nxt.loc[moved, "unit_id"] != e.loc[moved, "unit_id"]).all()
    assert (
        svc.reindex(nxt.loc[moved, "unit_id"]).to_numpy()
        == svc.reindex(e.loc[moved, "unit_id"]).to_numpy()
    ).all()

    def inside(ids: pd.Series, first: pd.Series, last: pd.Series) -> np.ndarray:
        """Whether [first, last] lies inside one employment spell of the person."""
        q = pd.DataFrame({"employee_id": ids, "d": first, "last": last, "i": np.arange(len(ids))})
        sp = e[["employee_id", "start_date", "_end"]].rename(columns={"start_date": "d"})
        m = pd.merge_asof(q.sort_values("d"), sp.sort_values("d"), on="d", by="employee_id")
        ok = (m["last"] <= m["_end"]).to_numpy()
        out = np.zeros(len(ids), dtype=bool)
        out[m["i"].to_numpy()] = ok
        return out

    ab = reg.absences
    assert inside(ab["employee_id"], ab["start_date"], ab["end_date"]).all()
    assert ((ab["start_date"] >= lo) & (ab["end_date"] <= hi)).all()
    a = ab.sort_values(["employee_id", "start_date"])
    assert not (a["start_date"] <= a.groupby("employee_id")["end_date"].shift(1)).any()
    doc = ab["certification"] == "doctor"
    assert ab.loc[~doc, "grade"].isin([1.0]).where(ab.loc[~doc, "grade"].notna(), True).all()
    assert ((ab.loc[~doc, "end_date"] - ab.loc[~doc, "start_date"]).dt.days < 3).all()
    g = ab.loc[doc, "grade"]
    assert g.notna().all() and ((g >= 0.2) & (g <= 1)).all()

    cl = reg.caseload
    assert (cl["month"].dt.day == 1).all()
    assert inside(cl["employee_id"], cl["month"], cl["month"]).all()
    roles = e.drop_duplicates("employee_id", keep="last").set_index("employee_id")["role"]
    caseworkers = set(emp.loc[emp["role"] == "caseworker", "employee_id"])
    assert set(cl["employee_id"]) <= caseworkers
    assert (roles.reindex(cl["employee_id"].unique()) == "caseworker").all()
    assert (cl["care_order_cases"] <= cl["open_cases"]).all()
    assert not cl.duplicated(["employee_id", "month"]).any()

    sv = reg.supervision
    assert inside(sv["employee_id"], sv["date"], sv["date"]).all()
    assert not sv.duplicated(["employee_id", "date", "kind"]).any()
    su = reg.surveys
    assert inside(su["employee_id"], su["date"], su["date"]).all()
    items = su.filter(like="item_").to_numpy()
    answered = items[~np.isnan(items)]
    assert set(np.unique(answered)) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_invariants_on_the_sample(sample) -> None:
    check_invariants(sample)


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_units=st.integers(1, 9),
    years=st.integers(1, 3),
    transfer=st.sampled_from([0.003, 0.05]),
)
def test_invariants_hold_for_any_seed_and_size(seed, n_units, years, transfer) -> None:
    reg = tr.make_register(
        n_units=n_units, years=years, random_state=seed, internal_transfer_rate=transfer
    )
    check_invariants(reg)
    assert tr.validate(reg).ok


# ------------------------------------------------------------------ determinism
def test_same_seed_gives_identical_tables_and_bytes() -> None:
    a = tr.make_register(n_units=8, years=2, random_state=5)
    b = tr.make_register(n_units=8, years=2, random_state=5)
    for name in a.table_names:
        pd.testing.assert_frame_equal(a.tables()[name], b.tables()[name])
        assert a.tables()[name].to_csv().encode() == b.tables()[name].to_csv().encode()


def test_different_seeds_differ() -> None:
    a = tr.make_register(n_units=8, years=2, random_state=5)
    b = tr.make_register(n_units=8, years=2, random_state=6)
    assert not a.employment.equals(b.employment)
    assert not a.caseload.equals(b.caseload)


def test_generator_and_global_seed() -> None:
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - the legacy global state
    a = tr.make_register(n_units=4, years=1, random_state=np.random.default_rng(9))
    b = tr.make_register(n_units=4, years=1, random_state=9)
    pd.testing.assert_frame_equal(a.employment, b.employment)
    assert (np.random.get_state()[1] == state).all()  # noqa: NPY002


def test_recording_the_truth_draws_no_random_number() -> None:
    """The truth is a by-product: asking for it changes neither the tables nor the stream."""
    plain_rng, truth_rng = np.random.default_rng(21), np.random.default_rng(21)
    plain = tr.make_register(n_units=10, years=2, random_state=plain_rng)
    reg, truth = tr.make_register(n_units=10, years=2, random_state=truth_rng, return_truth=True)
    for name in plain.table_names:
        pd.testing.assert_frame_equal(reg.tables()[name], plain.tables()[name])
    assert truth_rng.bit_generator.state == plain_rng.bit_generator.state
    assert len(truth.hazard) > 0


# ------------------------------------------------------------------ calibration
def test_calibration_exit_share_from_the_service(big) -> None:
    r = tr.turnover_rate(big, period="year", definition="exit_share", scope="service")
    r = r[r["period"].astype(int).between(2019, 2021)]
    pooled = r["numerator"].sum() / r["denominator"].sum()
    assert 0.19 <= pooled <= 0.23, pooled
    # the plain KS computation agrees: in the service on 1 Dec t, not on 1 Dec t+1
    e = big.employment.merge(big.units[["unit_id", "service"]], on="unit_id")
    end = e["end_date"].fillna(pd.Timestamp("2262-01-01"))
    shares = []
    for y in (2019, 2020, 2021):
        s0, s1 = pd.Timestamp(f"{y}-12-01"), pd.Timestamp(f"{y + 1}-12-01")
        at0 = e.loc[(e["start_date"] <= s0) & (end >= s0), ["employee_id", "service"]]
        at1 = e.loc[(e["start_date"] <= s1) & (end >= s1), ["employee_id", "service"]]
        m = at0.drop_duplicates().merge(at1.drop_duplicates(), how="left", indicator=True)
        shares.append((m["_merge"] == "left_only").mean())
    assert 0.19 <= np.mean(shares) <= 0.23
    assert abs(np.mean(shares) - pooled) < 0.01


def test_calibration_doctor_certified_sick_leave_percentage(big) -> None:
    s = tr.sick_leave_rate(big, period="year", certification="doctor")
    s = s[s["period"].astype(int).between(2019, 2022)]
    pct = 100 * s["numerator"].sum() / s["denominator"].sum()
    assert 5.5 <= pct <= 7.0, pct
    # the plain SSB/NAV computation with Monday-Friday working days agrees
    e, a = big.employment, big.absences
    lo, hi = np.datetime64("2019-01-01"), np.datetime64("2022-12-31")
    es = np.maximum(e["start_date"].to_numpy(), lo).astype("datetime64[D]")
    ee = np.minimum(e["end_date"].fillna(pd.Timestamp(hi)).to_numpy(), hi).astype("datetime64[D]")
    keep = ee >= es
    agreed = (np.busday_count(es[keep], ee[keep] + 1) * e["fte"].to_numpy()[keep]).sum()
    d = a[a["certification"] == "doctor"].merge(
        e[["employee_id", "start_date", "end_date", "fte"]], on="employee_id", suffixes=("", "_e")
    )
    d = d[(d["start_date"] >= d["start_date_e"]) & ~(d["start_date"] > d["end_date_e"])]
    s0 = d["start_date"].to_numpy().astype("datetime64[D]")
    s1 = np.minimum(d["end_date"].to_numpy(), hi).astype("datetime64[D]")
    ok = s1 >= s0
    lost = np.busday_count(s0[ok], s1[ok] + 1) * d["fte"].to_numpy()[ok] * d["grade"].to_numpy()[ok]
    plain = 100 * lost.sum() / agreed
    assert 5.5 <= plain <= 7.0, plain


def test_first_year_exit_hazard_is_clearly_higher(big) -> None:
    lo, hi = window(big)
    e = big.employment.merge(big.units[["unit_id", "service"]], on="unit_id")
    # service spells: consecutive spells joined by internal transfers form one service spell
    first = e.sort_values("start_date").groupby("employee_id").first()
    last = e.sort_values("start_date").groupby("employee_id").last()
    start, end = first["start_date"], last["end_date"]
    left = last["exit_reason"].notna() & (last["exit_reason"] != "internal_transfer")
    # hires in the first two years, followed 12 months
    hired = (start >= lo) & (start < lo + pd.DateOffset(years=2))
    first_year = (left & (end < start + pd.DateOffset(years=1)))[hired].mean()
    # staff with more than three years' tenure at 1 Jan of year 2, followed 12 months
    t0 = lo + pd.DateOffset(years=1)
    senior = (start < t0 - pd.DateOffset(years=3)) & (end.isna() | (end >= t0))
    later = (left & (end < t0 + pd.DateOffset(years=1)))[senior].mean()
    assert first_year > 1.4 * later, (first_year, later)


# ------------------------------------------------------------------ knobs and their directions
def _m_hires_newly_qualified(reg, truth):
    lo, _ = window(reg)
    e = reg.employment.drop_duplicates("employee_id")
    h = e[e["start_date"] >= lo]
    return float((h["start_date"].dt.year - h["qualified_year"].astype(float) <= 1).mean())


def _m_burnout_gap_caseload(reg, truth):
    h = truth.hazard
    return float(
        h.loc[h["caseload_3m_mean"] > 17, "burnout"].mean()
        - h.loc[h["caseload_3m_mean"] < 13, "burnout"].mean()
    )


def _m_burnout_client(reg, truth):
    cl = reg.caseload.merge(truth.hazard[["employee_id", "month", "unit_id", "burnout"]])
    u = cl.groupby("unit_id")[["care_order_cases", "open_cases", "burnout"]].sum()
    share = u["care_order_cases"] / u["open_cases"]
    mean_burn = cl.groupby("unit_id")["burnout"].mean()
    return float(np.corrcoef(share, mean_burn)[0, 1])


def _m_respondent_burnout(reg, truth):
    s = reg.surveys.assign(month=reg.surveys["date"].dt.to_period("M").dt.to_timestamp())
    s["month"] = s["month"].astype("datetime64[ns]")
    m = s.merge(truth.hazard[["employee_id", "month", "burnout"]], on=["employee_id", "month"])
    return float(m["burnout"].mean() - truth.hazard["burnout"].mean())


def _m_missing_items(reg, truth):
    cbi = reg.surveys[reg.surveys["instrument"] == "CBI"]
    return float(cbi[[f"item_{i:02d}" for i in range(1, 20)]].isna().to_numpy().mean())


def _m_unit_caseload_sd(reg, truth):
    return float(
        reg.caseload.groupby(
            reg.caseload["employee_id"].map(
                reg.employment.drop_duplicates("employee_id").set_index("employee_id")["unit_id"]
            )
        )["open_cases"]
        .mean()
        .astype(float)
        .std()
    )


def _m_first_caseload_of_hires(reg, truth):
    lo, _ = window(reg)
    starts = reg.employment.groupby("employee_id")["start_date"].min()
    new = starts[starts > lo].index
    cl = reg.caseload[reg.caseload["employee_id"].isin(new)]
    return float(cl.groupby("employee_id")["open_cases"].first().astype(float).mean())


def _m_sick_days_burnout_ratio(reg, truth):
    """Doctor-certified days per person-month, high-burnout half over low-burnout half."""
    h = truth.hazard.groupby("employee_id").agg(burn=("burnout", "mean"), months=("month", "size"))
    a = reg.absences[reg.absences["certification"] == "doctor"]
    days = ((a["end_date"] - a["start_date"]).dt.days + 1).groupby(a["employee_id"]).sum()
    h["days"] = days.reindex(h.index).fillna(0.0)
    high = h["burn"] > h["burn"].median()
    return float(
        (h.loc[high, "days"].sum() / h.loc[high, "months"].sum())
        / (h.loc[~high, "days"].sum() / h.loc[~high, "months"].sum())
    )


def _m_hazard_ratio(col: str, cut: float):
    def metric(reg, truth):
        h = truth.hazard
        return hazard_where(truth, h[col] > cut) / hazard_where(truth, h[col] <= cut)

    return metric


def _m_age_ratio(reg, truth):
    h = truth.hazard
    return hazard_where(truth, h["age"] < 35) / hazard_where(truth, h["age"] > 50)


M = {
    "n_municipalities": lambda r, t: r.units["municipality"].nunique(),
    "persons_per_unit": lambda r, t: r.employment["employee_id"].nunique() / len(r.units),
    "caseload": lambda r, t: float(r.caseload["open_cases"].astype(float).mean()),
    "breaches": lambda r, t: float(r.caseload["deadline_breaches"].astype(float).mean()),
    "care_share": lambda r, t: float(
        r.caseload["care_order_cases"].sum() / r.caseload["open_cases"].sum()
    ),
    "hires_nq": _m_hires_newly_qualified,
    "contract_end": lambda r, t: n_exits(r, ("contract_end",)),
    "part_time": lambda r, t: float((r.employment["fte"] < 1).mean()),
    "female": lambda r, t: float((r.employment["gender"] == "female").mean()),
    "mean_age": lambda r, t: float(ages_at(r).mean()),
    "sessions": lambda r, t: sessions_per_month(r),
    "voluntary": lambda r, t: exit_rate(r),
    "burnout": lambda r, t: float(t.hazard["burnout"].mean()),
    "burnout_sd": lambda r, t: float(t.hazard["burnout"].std()),
    "burnout_gap_caseload": _m_burnout_gap_caseload,
    "burnout_client": _m_burnout_client,
    "burnout_gap_nq": lambda r, t: float(
        t.hazard.groupby("newly_qualified")["burnout"].mean().diff().iloc[-1]
    ),
    "survey_rows": lambda r, t: len(r.surveys),
    "respondent_burnout": _m_respondent_burnout,
    "missing_items": _m_missing_items,
    "item_sd": lambda r, t: float(r.surveys["item_01"].std()),
    "doctor_days": lambda r, t: doctor_days(r),
    "sick_burnout_ratio": _m_sick_days_burnout_ratio,
    "graded_share": lambda r, t: float(
        (r.absences.loc[r.absences["certification"] == "doctor", "grade"] < 1).mean()
    ),
    "self_spells": lambda r, t: int((r.absences["certification"] == "self").sum()),
    "self_grade_missing": lambda r, t: float(
        r.absences.loc[r.absences["certification"] == "self", "grade"].isna().mean()
    ),
    "hazard_nq": _m_hazard_ratio("newly_qualified", 0.5),
    "hazard_first_year": _m_hazard_ratio("first_year", 0.5),
    "hazard_caseload": _m_hazard_ratio("caseload_3m_mean", 18),
    "hazard_burnout": _m_hazard_ratio("burnout", 1.0),
    "hazard_age": _m_age_ratio,
    "hazard_part_time": lambda r, t: 1 / _m_hazard_ratio("fte", 0.99)(r, t),
    "frailty_sd": lambda r, t: float(t.hazard["lp_frailty"].std()),
    "transfers": lambda r, t: n_exits(r, ("internal_transfer",)),
    "retirement": lambda r, t: n_exits(r, ("retirement",)),
    "dismissal": lambda r, t: n_exits(r, ("dismissal",)),
    "other": lambda r, t: n_exits(r, ("other",)),
    "unit_caseload_sd": _m_unit_caseload_sd,
    "first_caseload_of_hires": _m_first_caseload_of_hires,
    "cbi_share": lambda r, t: float((r.surveys["instrument"] == "CBI").mean()),
}

# knob, low value, high value, metric, direction (+1: the metric rises from low to high)
KNOB_DIRECTIONS = [
    ("units_per_municipality", 2.0, 8.0, "n_municipalities", -1),
    ("unit_positions_mean", 5.0, 12.0, "persons_per_unit", +1),
    ("vacancy_delay_months", 1.0, 8.0, "caseload", +1),
    ("vacancy_delay_months", 1.0, 8.0, "voluntary", +1),
    ("newly_qualified_hire_share", 0.1, 0.9, "hires_nq", +1),
    ("temporary_hire_share", 0.0, 0.5, "contract_end", +1),
    ("temporary_conversion_prob", 0.1, 0.9, "contract_end", -1),
    ("part_time_share", 0.0, 0.5, "part_time", +1),
    ("female_share", 0.5, 0.95, "female", +1),
    ("mean_age", 35.0, 50.0, "mean_age", +1),
    ("intake_per_position", 1.5, 3.0, "caseload", +1),
    ("intake_per_position", 1.5, 3.0, "voluntary", +1),
    ("case_close_rate", 0.1, 0.25, "caseload", -1),
    ("unit_intake_sd", 0.0, 0.6, "unit_caseload_sd", +1),
    ("care_order_share", 0.1, 0.4, "care_share", +1),
    ("caseload_norm", 10.0, 25.0, "breaches", -1),
    ("new_staff_ramp_months", 1, 8, "first_caseload_of_hires", -1),
    ("deadline_breach_rate", 0.02, 0.3, "breaches", +1),
    ("structured_supervision_share", 0.0, 1.0, "sessions", +1),
    ("structured_supervision_share", 0.0, 1.0, "voluntary", -1),
    ("new_staff_months", 1, 12, "sessions", +1),
    ("new_staff_sessions_per_month", 1.0, 8.0, "sessions", +1),
    ("structured_sessions_per_month", 0.5, 3.0, "sessions", +1),
    ("sporadic_sessions_per_month", 0.0, 2.0, "sessions", +1),
    ("burnout_trait_sd", 0.2, 1.5, "burnout_sd", +1),
    ("burnout_noise_sd", 0.1, 0.8, "burnout_sd", +1),
    ("burnout_caseload_effect", 0.0, 0.3, "burnout_gap_caseload", +1),
    ("burnout_client_effect", 0.0, 8.0, "burnout_client", +1),
    ("burnout_supervision_effect", 0.0, 0.5, "burnout", -1),
    ("burnout_newly_qualified_effect", 0.0, 1.0, "burnout_gap_nq", +1),
    ("survey_response_rate", 0.3, 0.95, "survey_rows", +1),
    ("nonresponse_burnout_effect", 0.0, 2.0, "respondent_burnout", -1),
    ("item_missing_prob", 0.0, 0.2, "missing_items", +1),
    ("survey_breakoff_prob", 0.0, 0.5, "missing_items", +1),
    ("item_loading", 0.2, 2.0, "item_sd", +1),
    ("instrument_shares", (0.2, 0.4, 0.4), (1.0, 0.0, 0.0), "cbi_share", +1),
    ("doctor_spell_rate", 0.03, 0.12, "doctor_days", +1),
    ("sick_burnout_effect", 0.0, 1.0, "sick_burnout_ratio", +1),
    ("doctor_spell_median_days", 10.0, 40.0, "doctor_days", +1),
    ("graded_share", 0.0, 0.8, "graded_share", +1),
    ("self_spell_rate", 0.02, 0.3, "self_spells", +1),
    ("self_grade_missing_share", 0.0, 0.9, "self_grade_missing", +1),
    ("base_exit_hazard", 0.008, 0.03, "voluntary", +1),
    ("newly_qualified_exit_effect", 0.0, 1.5, "hazard_nq", +1),
    ("first_year_exit_effect", 0.0, 1.5, "hazard_first_year", +1),
    ("caseload_exit_effect", 0.0, 0.2, "hazard_caseload", +1),
    ("burnout_exit_effect", 0.0, 1.0, "hazard_burnout", +1),
    ("supervision_exit_effect", -0.3, 0.0, "voluntary", +1),
    ("colleagues_left_exit_effect", 0.0, 0.5, "voluntary", +1),
    ("age_exit_effect", -0.8, 0.0, "hazard_age", -1),
    ("part_time_exit_effect", 0.0, 1.0, "hazard_part_time", +1),
    ("frailty_sd", 0.1, 1.0, "frailty_sd", +1),
    ("internal_transfer_rate", 0.0, 0.03, "transfers", +1),
    ("retirement_age", 60, 67, "retirement", -1),
    ("dismissal_rate", 0.0, 0.01, "dismissal", +1),
    ("other_exit_rate", 0.0, 0.01, "other", +1),
]


@pytest.mark.parametrize(
    ("knob", "low", "high", "metric", "direction"),
    KNOB_DIRECTIONS,
    ids=[f"{k}->{m}" for k, _, _, m, _ in KNOB_DIRECTIONS],
)
def test_knob_moves_outcome_in_documented_direction(knob, low, high, metric, direction) -> None:
    values = []
    for v in (low, high):
        reg, truth = tr.make_register(random_state=0, return_truth=True, **SMALL, **{knob: v})
        values.append(M[metric](reg, truth))
    assert np.sign(values[1] - values[0]) == direction, values


def test_every_strength_knob_has_a_direction_test() -> None:
    tested = {k for k, *_ in KNOB_DIRECTIONS}
    # settings without a direction: structure of the run, shapes of distributions,
    # and the planted units (tested below)
    untested = {
        "burn_in_months",
        "temporary_contract_months",
        "burnout_persistence",
        "doctor_spell_sigma",
        "high_risk_units",
        "high_risk_cause",
        "high_risk_intake_factor",
    }
    assert tested | untested == set(SimulationKnobs.names())


# ------------------------------------------------------------------ planted high-risk units
@pytest.mark.parametrize("cause", ["caseload", "supervision"])
def test_planted_high_risk_units_have_elevated_turnover(cause) -> None:
    reg, truth = tr.make_register(
        n_units=60, years=4, random_state=2, return_truth=True,
        high_risk_units=12, high_risk_cause=cause,
    )  # fmt: skip
    planted = truth.high_risk_units
    assert len(planted) == 12 and set(planted["cause"]) == {cause}
    assert set(planted["unit_id"]) <= set(reg.units["unit_id"])
    h = truth.hazard
    inside = h["unit_id"].isin(planted["unit_id"])
    assert h.loc[inside, "hazard"].mean() > 1.1 * h.loc[~inside, "hazard"].mean()
    e = reg.employment
    vol = (
        e.assign(v=e["exit_reason"] == "voluntary")
        .groupby(e["unit_id"].isin(planted["unit_id"]))["v"]
        .sum()
    )
    heads = e.groupby(e["unit_id"].isin(planted["unit_id"]))["employee_id"].nunique()
    assert (vol / heads)[True] > (vol / heads)[False]
    unit_of = h.drop_duplicates("employee_id", keep="last").set_index("employee_id")["unit_id"]
    if cause == "caseload":
        cl = reg.caseload.assign(u=reg.caseload["employee_id"].map(unit_of))
        in_cl = cl["u"].isin(planted["unit_id"])
        assert cl.loc[in_cl, "open_cases"].mean() > 1.3 * cl.loc[~in_cl, "open_cases"].mean()
    else:
        ids = h.loc[inside, "employee_id"].unique()
        only_planted = set(ids) - set(h.loc[~inside, "employee_id"])
        assert not reg.supervision["employee_id"].isin(only_planted).any()


def test_high_risk_units_by_id() -> None:
    _, truth = tr.make_register(
        n_units=10, years=1, random_state=0, return_truth=True, high_risk_units=["U03", "U07"]
    )
    assert truth.high_risk_units["unit_id"].tolist() == ["U03", "U07"]
    _, none = tr.make_register(n_units=10, years=1, random_state=0, return_truth=True)
    assert none.high_risk_units.empty


# ------------------------------------------------------------------ truth
def test_truth_hazard_is_the_sum_of_its_terms(small) -> None:
    reg, truth = small
    h = truth.hazard
    lp = h.filter(like="lp_")
    assert {f"lp_{e}" for e in EFFECT_FEATURES} <= set(lp.columns)
    np.testing.assert_allclose(lp.sum(axis=1), h["eta"], rtol=1e-12)
    np.testing.assert_allclose(h["hazard"], 1 - np.exp(-np.exp(h["eta"])), rtol=1e-12)
    assert h["month"].min() == pd.Timestamp("2019-01-01")
    assert set(h["employee_id"]) <= set(reg.employment["employee_id"])
    # one row per person-month while employed at the start of the month
    assert not h.duplicated(["employee_id", "month"]).any()


def test_truth_effects_match_the_knobs() -> None:
    _, truth = tr.make_register(
        n_units=4, years=1, random_state=0, return_truth=True, caseload_exit_effect=0.07
    )
    coef = truth.coefficients
    assert coef["caseload"] == 0.07
    assert coef["supervision"] == SimulationKnobs().supervision_exit_effect < 0
    assert coef["intercept"] == pytest.approx(np.log(SimulationKnobs().base_exit_hazard))
    assert truth.feature_map["caseload"] == ("caseload_3m_mean",)
    assert truth.feature_map["newly_qualified"] == ("newly_qualified",)
    assert truth.feature_map["colleagues_left"] == ("colleagues_left_3m",)
    assert truth.feature_map["supervision"] == ("supervision_sessions_3m",)
    assert truth.feature_map["burnout"] == ("cbi_work", "proqol_burnout", "bat_total")
    lever = truth.effects.set_index("effect")["lever"]
    assert lever["caseload"] and lever["supervision"] and not lever["age"]


def test_truth_ranking_orders_by_mean_contribution(small) -> None:
    _, truth = small
    ranking = truth.effect_ranking()
    size = [truth.hazard[f"lp_{e}"].abs().mean() for e in ranking]
    assert size == sorted(size, reverse=True)
    assert set(truth.effect_ranking(levers_only=True)) == {
        "newly_qualified", "caseload", "supervision", "colleagues_left",
    }  # fmt: skip


def test_survey_burnout_scores_track_the_latent_burnout() -> None:
    reg, truth = tr.make_register(
        n_units=30, years=2, random_state=1, return_truth=True, instrument_shares=(1, 0, 0)
    )
    scores = tr.score_survey(reg.surveys, instrument="CBI")
    scores["month"] = scores["date"].dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
    m = scores.merge(truth.hazard[["employee_id", "month", "burnout"]].rename(
        columns={"burnout": "latent"}))  # fmt: skip
    assert m["work"].notna().mean() > 0.9
    assert m["work"].corr(m["latent"]) > 0.6


def test_items_follow_the_instrument_definitions(monkeypatch) -> None:
    """The generator reads n_items, subscales and reverse from surveys.get_instrument."""
    reg = tr.make_register(n_units=30, years=2, random_state=4, instrument_shares=(1, 1, 1))
    for name in ("CBI", "ProQOL", "BAT12"):
        inst = tr.get_instrument(name)
        s = reg.surveys[reg.surveys["instrument"] == inst.name]
        items = s[[f"item_{i:02d}" for i in range(1, 31)]]
        assert items.iloc[:, inst.n_items :].isna().all().all()
        assert items.iloc[:, : inst.n_items].notna().mean().min() > 0.8
        # a reversed item correlates negatively with the rest of its subscale
        for r in inst.reverse:
            sub = next(v for k, v in inst.subscales.items() if r in v and k != "total")
            others = items[[f"item_{i:02d}" for i in sub if i != r]].mean(axis=1)
            assert items[f"item_{r:02d}"].corr(others) < 0
    # a changed definition is followed: make item 2 of CBI a reversed item
    import turnover_risk.surveys._score as surveys

    real = surveys.get_instrument

    def fake(name):
        inst = real(name)
        if inst.name == "CBI":
            return type("Fake", (), {
                "name": "CBI", "n_items": 19, "subscales": inst.subscales, "reverse": (2,),
                "response_min": 1, "response_max": 5,
            })()  # fmt: skip
        return inst

    monkeypatch.setattr(surveys, "get_instrument", fake)
    reg = tr.make_register(n_units=20, years=2, random_state=4, instrument_shares=(1, 0, 0))
    s = reg.surveys
    rest = s[[f"item_{i:02d}" for i in (1, 3, 4, 5, 6)]].mean(axis=1)
    assert s["item_02"].corr(rest) < 0
    assert s["item_10"].corr(s[[f"item_{i:02d}" for i in (7, 8, 9)]].mean(axis=1)) > 0


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"caseloads": 1}, TypeError, r"unknown knob\(s\) 'caseloads'; known knobs are: .*caseload_norm"),
        ({"n_units": 0}, ValueError, r"n_units=0 is out of range; choose 1 <= n_units"),
        ({"n_units": 2.5}, TypeError, r"n_units=2.5 must be an integer"),
        ({"years": "6"}, TypeError, r"years='6' must be an integer"),
        ({"random_state": "x"}, TypeError, r"random_state='x' must be None, an int seed"),
        ({"return_truth": 1}, TypeError, r"return_truth=1 must be True or False"),
        ({"high_risk_cause": "pay"}, ValueError, r"high_risk_cause='pay' is not a known cause; choose one of: caseload, supervision"),
        ({"high_risk_units": ["U99"]}, ValueError, r"unknown unit id\(s\) \['U99'\]; unit ids of this register run U01..U40"),
        ({"high_risk_units": 41}, ValueError, r"high_risk_units=41 is more than n_units=40"),
        ({"high_risk_units": "U01"}, TypeError, r"must be a count \(int\) or a list of unit ids"),
        ({"case_close_rate": 1.5}, ValueError, r"case_close_rate=1.5 must be a probability"),
        ({"intake_per_position": -1}, ValueError, r"intake_per_position=-1 must be >= 0"),
        ({"burnout_persistence": 1.0}, ValueError, r"burnout_persistence=1.0 must be in \[0, 1\)"),
        ({"vacancy_delay_months": "3"}, TypeError, r"vacancy_delay_months='3' must be a number"),
        ({"new_staff_months": 2.5}, TypeError, r"new_staff_months=2.5 must be an integer"),
        ({"instrument_shares": (0, 0, 0)}, ValueError, r"instrument_shares=.* three non-negative"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_clear_errors(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        tr.make_register(**{"years": 1, **kwargs})


def test_negative_effects_are_allowed_but_not_negative_strengths() -> None:
    assert SimulationKnobs.from_kwargs(supervision_exit_effect=0.1).supervision_exit_effect == 0.1
    with pytest.raises(ValueError, match=r"sick_burnout_effect=-0.1 must be >= 0"):
        SimulationKnobs.from_kwargs(sick_burnout_effect=-0.1)


# ------------------------------------------------------------------ the shipped sample
def test_sample_equals_make_register_with_the_documented_seed(sample) -> None:
    fresh = tr.make_register(**SAMPLE_ARGS)
    assert sample.table_names == fresh.table_names
    for name in fresh.table_names:
        pd.testing.assert_frame_equal(sample.tables()[name], fresh.tables()[name])


def test_csv_copy_equals_the_sample(sample) -> None:
    csv = tr.read_register(ROOT / "data" / "sample")
    for name in sample.table_names:
        got = csv.tables()[name]
        if name == "surveys":  # item answers are read as they are written (kind "any")
            items = [c for c in got.columns if c.startswith("item_")]
            got = got.astype(dict.fromkeys(items, "float64"))
        pd.testing.assert_frame_equal(got, sample.tables()[name])


def test_regenerate_script_reproduces_the_shipped_sample(tmp_path, capsys) -> None:
    """``scripts/regenerate_sample.py`` rewrites both shipped copies unchanged."""
    script = ROOT / "scripts" / "regenerate_sample.py"
    spec = importlib.util.spec_from_file_location("regenerate_sample", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pq, csv = tmp_path / "parquet", tmp_path / "csv"
    assert module.main(["--parquet-dir", str(pq), "--csv-dir", str(csv)]) == 0
    shipped_csv = sorted((ROOT / "data" / "sample").iterdir())
    assert sorted(p.name for p in csv.iterdir()) == [p.name for p in shipped_csv]
    for path in shipped_csv:  # CSV and metadata.json: the same bytes
        assert (csv / path.name).read_bytes() == path.read_bytes(), path.name
    shipped_pq = sorted((ROOT / "src" / "turnover_risk" / "datasets" / "data").glob("*.parquet"))
    assert sorted(p.name for p in pq.iterdir()) == [p.name for p in shipped_pq]
    for path in shipped_pq:  # Parquet bytes depend on the pyarrow version; the tables must not
        pd.testing.assert_frame_equal(pd.read_parquet(pq / path.name), pd.read_parquet(path))


def test_sample_size_and_files(sample) -> None:
    assert len(sample.units) == 40
    assert 300 <= sample.employment["employee_id"].nunique() <= 1500
    data = ROOT / "src" / "turnover_risk" / "datasets" / "data"
    assert sum(p.stat().st_size for p in data.glob("*.parquet")) < 3e6
    assert {p.stem for p in data.glob("*.parquet")} == set(SCHEMAS)
    assert set(sample.employment["exit_reason"].dropna()) >= {
        "voluntary", "retirement", "contract_end", "internal_transfer",
    }  # fmt: skip


def test_load_sample_returns_fresh_frames() -> None:
    a = tr.load_sample()
    a.employment.loc[0, "fte"] = 0.01
    assert tr.load_sample().employment.loc[0, "fte"] != 0.01


def test_exit_reasons_are_the_contract_ones(sample) -> None:
    assert list(sample.employment["exit_reason"].cat.categories) == list(EXIT_REASONS)
