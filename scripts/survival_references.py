"""Reference retention and cumulative-incidence curves from lifelines, for the survival tests.

lifelines pins ``pandas<3`` and the project's environment has pandas 3, so this script runs in
its own virtualenv and writes small CSV fixtures to ``tests/rates/data/``; the tests compare
``tr.retention`` / ``tr.cumulative_incidence`` with them to 1e-9. The exact command::

    python3.11 -m venv /work/venv-lifelines
    /work/venv-lifelines/bin/pip install lifelines 'pandas<3'
    /work/venv-lifelines/bin/python scripts/survival_references.py

It does not import turnover_risk: the stays are rebuilt here from the raw CSV tables with plain
Python loops (an independent implementation of the definitions in ``docs/survival.md``), and
the hand-built registers are written next to the references so the tests read the same data.

Two things about lifelines are worked around, both documented in ``docs/survival.md``:

* ``AalenJohansenFitter`` jitters tied exit times of different causes at random; the estimator
  itself handles ties (``F_k(t) = sum S(t_i-) d_ki / n_i``), so the tie check is switched off
  to get the exact, deterministic estimate.
* ``AalenJohansenFitter.confidence_interval_`` labels its lower limit "upper" and vice
  versa; the fixture stores them by value.
* ``AalenJohansenFitter`` counts a subject entering at time ``t`` as at risk at ``t`` (it
  divides by the event table's ``at_risk``), while ``KaplanMeierFitter`` (``population =
  at_risk - entrances``) and statsmodels' ``SurvfuncRight`` ("not in the risk set on or
  before the entry time") do not. The AJ fit is given ``entry + 1e-6`` months, which puts
  each entrant in the risk set just after its entry day and before the next whole day, i.e.
  the KM convention; the KM fit gets the entries unchanged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.utils import median_survival_times

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "rates" / "data"
DAYS_PER_MONTH = 365.25 / 12
CAUSES = ("voluntary", "retirement", "internal_transfer", "dismissal", "other")
EPS = 1e-6  # months


def stays(emp: pd.DataFrame, units: pd.DataFrame, scope: str, first: str, last: str):
    """One row per observed stay: group attributes, entry, time (days), event, reason."""
    emp = emp.merge(units[["unit_id", "municipality", "service"]], on="unit_id", how="left")
    emp["start_date"] = pd.to_datetime(emp["start_date"])
    emp["end_date"] = pd.to_datetime(emp["end_date"])
    f, la = pd.Timestamp(first), pd.Timestamp(last)
    key = (
        ["employee_id", "unit_id"]
        if scope == "unit"
        else ["employee_id", "municipality", "service"]
    )
    rows = []
    for _, g in emp.sort_values("start_date", kind="stable").groupby(key, sort=False):
        cur = None
        for _, r in g.iterrows():
            end = r["end_date"] if pd.notna(r["end_date"]) else pd.Timestamp("2200-01-01")
            if cur is not None and r["start_date"] <= cur["end"] + pd.Timedelta(days=1):
                if end >= cur["end"]:
                    cur["end"], cur["reason"] = end, r["exit_reason"]
                continue
            if cur is not None:
                rows.append(cur)
            cur = {
                "employee_id": r["employee_id"],
                "municipality": r["municipality"],
                "start": r["start_date"],
                "end": end,
                "reason": r["exit_reason"],
            }
        rows.append(cur)
    out = []
    for s in rows:
        if s["end"] < f or s["start"] > la:
            continue
        event = s["end"] <= la
        reason = s["reason"] if isinstance(s["reason"], str) else "other"
        out.append(
            {
                "municipality": s["municipality"],
                "entry": max((f - s["start"]).days, 0),
                "time": (min(s["end"], la) - s["start"]).days + 1,
                "event": int(event),
                "cause": (CAUSES.index(reason) + 1 if reason in CAUSES else 5) if event else 0,
            }
        )
    return pd.DataFrame(out)


def km_reference(st: pd.DataFrame, group: str) -> pd.DataFrame:
    T = st["time"] / DAYS_PER_MONTH
    A = st["entry"] / DAYS_PER_MONTH
    km = KaplanMeierFitter().fit(T, st["event"], entry=A)
    et = km.event_table
    times = et.index[et["observed"] > 0]
    ci = km.confidence_interval_
    med = median_survival_times(ci)
    pop = (et["at_risk"] - et["entrance"]).loc[times]
    return pd.DataFrame(
        {
            "group": group,
            "time_months": times,
            "at_risk": pop.to_numpy().astype(int),
            "retention": km.survival_function_.loc[times].iloc[:, 0].to_numpy(),
            "ci_low": ci.loc[times].iloc[:, 0].to_numpy(),
            "ci_high": ci.loc[times].iloc[:, 1].to_numpy(),
            "median_months": km.median_survival_time_,
            "median_ci_low": float(med.iloc[0, 0]),
            "median_ci_high": float(med.iloc[0, 1]),
        }
    )


def aj_reference(st: pd.DataFrame, group: str) -> pd.DataFrame:
    AalenJohansenFitter._check_for_duplicates = staticmethod(lambda durations, events: False)
    T = st["time"] / DAYS_PER_MONTH
    A = st["entry"] / DAYS_PER_MONTH + EPS
    parts = []
    event_times = np.unique(T[st["cause"] > 0])
    for k, name in enumerate(CAUSES, start=1):
        aj = AalenJohansenFitter().fit(T, st["cause"], event_of_interest=k, entry=A)
        cif = aj.cumulative_density_.iloc[:, 0]
        ci = aj.confidence_interval_
        parts.append(
            pd.DataFrame(
                {
                    "group": group,
                    "cause": name,
                    "time_months": event_times,
                    "cumulative_incidence": cif.loc[event_times].to_numpy(),
                    # lifelines names its first column "upper", but it holds
                    # exp(-exp(log(-log F) + z se)), the lower limit
                    "ci_low": ci.loc[event_times].iloc[:, 0].to_numpy(),
                    "ci_high": ci.loc[event_times].iloc[:, 1].to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def hand_register_a() -> pd.DataFrame:
    """Five persons, two services, delayed entries, a move inside a service, a rehire."""
    rows = [
        ("P1", "U1", "2015-01-01", "2018-12-31", "voluntary"),  # ends before the window
        ("P1", "U1", "2020-01-01", "2020-06-30", "voluntary"),
        ("P2", "U1", "2018-07-01", None, None),
        ("P3", "U1", "2020-03-01", "2021-02-28", "internal_transfer"),
        ("P3", "U2", "2021-03-01", "2021-12-31", "retirement"),
        ("P4", "U2", "2019-06-01", "2020-12-31", "dismissal"),
        ("P5", "U3", "2020-02-01", "2020-07-31", "voluntary"),
        ("P5", "U1", "2021-01-01", None, None),
    ]
    return pd.DataFrame(
        rows, columns=["employee_id", "unit_id", "start_date", "end_date", "exit_reason"]
    ).assign(fte=1.0)


def hand_register_b(seed: int = 3, n: int = 80) -> pd.DataFrame:
    """80 persons on a coarse day grid: many tied exits of different causes, delayed entries
    tied with exit times, rehires and moves between units of a service."""
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2020-01-01")
    rows = []
    for i in range(n):
        start = base + pd.Timedelta(days=int(rng.integers(-40, 30)) * 15)
        for _ in range(int(rng.integers(1, 3))):
            unit = f"U{int(rng.integers(1, 4))}"
            length = int(rng.integers(1, 30)) * 15
            end = start + pd.Timedelta(days=length)
            reason = str(
                rng.choice(
                    [
                        "voluntary",
                        "retirement",
                        "internal_transfer",
                        "dismissal",
                        "contract_end",
                        "death",
                    ]
                )
            )
            if rng.random() < 0.15:
                end, reason = None, None
            rows.append(
                (
                    f"Q{i:03d}",
                    unit,
                    start.date().isoformat(),
                    None if end is None else end.date().isoformat(),
                    reason,
                )
            )
            if end is None:
                break
            start = end + pd.Timedelta(days=int(rng.choice([1, 1, 40])))
    return pd.DataFrame(
        rows, columns=["employee_id", "unit_id", "start_date", "end_date", "exit_reason"]
    ).assign(fte=1.0)


HAND_UNITS = pd.DataFrame(
    {
        "unit_id": ["U1", "U2", "U3"],
        "municipality": ["A", "A", "B"],
        "service": ["S1", "S1", "S2"],
    }
)


def replicate(emp: pd.DataFrame, times: int) -> pd.DataFrame:
    """Each person ``times`` times under new ids (the estimates do not change; counts do)."""
    parts = [emp.assign(employee_id=emp["employee_id"] + f"_{k}") for k in range(times)]
    return pd.concat(parts, ignore_index=True)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    fmt = "%.17g"
    sample_emp = pd.read_csv(ROOT / "data" / "sample" / "employment.csv", dtype=str)
    sample_units = pd.read_csv(ROOT / "data" / "sample" / "units.csv", dtype=str)
    meta = json.loads((ROOT / "data" / "sample" / "metadata.json").read_text())
    win = (meta["observation_start"], meta["observation_end"])
    hand_a = replicate(hand_register_a(), 5)
    hand_b = hand_register_b()
    hand_win = ("2020-01-01", "2022-12-31")
    hand_a.to_csv(OUT / "hand_register_a.csv", index=False)
    hand_b.to_csv(OUT / "hand_register_b.csv", index=False)
    HAND_UNITS.to_csv(OUT / "hand_units.csv", index=False)
    km, aj = [], []
    cases = {
        "sample": (sample_emp, sample_units, win),
        "hand_a": (hand_a, HAND_UNITS, hand_win),
        "hand_b": (hand_b, HAND_UNITS, hand_win),
    }
    for name, (emp, units, (first, last)) in cases.items():
        st = stays(emp, units, "service", first, last)
        km.append(km_reference(st, name))
        aj.append(aj_reference(st, name))
        if name == "sample":  # by municipality: one curve per group
            for m, part in st.groupby("municipality"):
                km.append(km_reference(part, f"sample:{m}"))
    pd.concat(km, ignore_index=True).to_csv(OUT / "km_reference.csv", index=False, float_format=fmt)
    pd.concat(aj, ignore_index=True).to_csv(OUT / "aj_reference.csv", index=False, float_format=fmt)
    print(f"wrote {OUT}/km_reference.csv, aj_reference.csv and the hand-built registers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
