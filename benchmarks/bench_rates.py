"""Benchmark: turnover_risk rates against a DuckDB SQL reference of the same definitions.

Generates 1 000 000 employment spells and 3 000 000 sick-leave spells with numpy, then computes,
by unit and year, (a) the exit share (KS style, scope service, 1 December snapshots), (b) the
separation rate and (c) the SSB/NAV sick-leave percentage, once with turnover_risk and once
with DuckDB SQL on the same data in the same process. Prints a table with the times and the
ratio, and checks the numbers are identical (integers exactly, day sums to 1e-9 relative).

Run:  python benchmarks/bench_rates.py [--spells 1000000] [--absences 3000000] [--repeat 3]
From Python: ``run(spells, absences, repeat=3) -> DataFrame`` (one row per job).
Target: turnover_risk no slower than 1.5 x DuckDB. On a shared machine read ``ratio (median)``
(ours and DuckDB run alternately, median of the per-run ratios) and the CPU-second columns.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import turnover_risk as tr
from turnover_risk.data import WorkdayIndex

FIRST, LAST = "2015-01-01", "2024-12-31"
OPEN_DAY = 2**30


def make_data(n_spells: int, n_absences: int, seed: int = 0) -> tr.Register:
    """Synthetic register: persons with 1-4 consecutive spells in units of 200 services."""
    rng = np.random.default_rng(seed)
    n_units = 2000  # ten units per service, two services per municipality
    d0 = np.datetime64(FIRST).astype(np.int64)
    d1 = np.datetime64(LAST).astype(np.int64)
    per_person = rng.integers(1, 5, size=n_spells // 2)
    per_person = per_person[np.cumsum(per_person) <= n_spells]
    per_person[-1] += n_spells - per_person.sum()
    n_persons = len(per_person)
    person = np.repeat(np.arange(n_persons), per_person)
    first_of = np.cumsum(per_person) - per_person
    k = np.arange(n_spells) - first_of[person]
    home = rng.integers(0, n_units, n_persons)
    # a move goes to a unit of the same service half of the time
    moved = rng.integers(0, n_units, n_spells)
    same_service = (home[person] // 10) * 10 + rng.integers(0, 10, n_spells)
    unit = np.where(k == 0, home[person], np.where(rng.random(n_spells) < 0.5, same_service, moved))
    start0 = rng.integers(d0 - 2000, d1 - 200, n_persons)
    length = rng.geometric(1 / 700, n_spells)
    gap = rng.integers(1, 200, n_spells) * (rng.random(n_spells) < 0.5)
    cum = np.cumsum(length + gap)
    cum_before = cum - (length + gap) - (cum - (length + gap))[first_of[person]]
    start = start0[person] + cum_before
    end = start + length - 1
    last_of_person = k == per_person[person] - 1
    end = np.where(last_of_person & (rng.random(n_spells) < 0.6), OPEN_DAY, end)
    reasons = np.array(["voluntary", "retirement", "contract_end", "internal_transfer", "other"])
    exit_reason = pd.Categorical.from_codes(
        np.where(end == OPEN_DAY, -1, rng.integers(0, len(reasons), n_spells)),
        categories=list(reasons),
    )
    to_ns = lambda d: np.where(d == OPEN_DAY, np.datetime64("NaT"), d.astype("datetime64[D]"))  # noqa: E731
    emp = pd.DataFrame(
        {
            "employee_id": pd.Series(person).astype("string"),
            "unit_id": pd.Series(unit).astype("string"),
            "start_date": to_ns(start).astype("datetime64[ns]"),
            "end_date": to_ns(end).astype("datetime64[ns]"),
            "fte": rng.choice([0.5, 0.8, 1.0], n_spells, p=[0.1, 0.2, 0.7]),
            "exit_reason": exit_reason,
        }
    )
    units = pd.DataFrame(
        {
            "unit_id": pd.Series(np.arange(n_units)).astype("string"),
            "municipality": pd.Series(np.arange(n_units) // 20).astype("string"),
            "service": pd.Series(np.arange(n_units) // 10).astype("string"),
        }
    )
    a_person = rng.integers(0, n_persons, n_absences)
    a_start = rng.integers(d0, d1, n_absences)
    a_len = np.where(
        rng.random(n_absences) < 0.8,
        rng.integers(1, 4, n_absences),
        rng.geometric(1 / 30, n_absences),
    )
    # a validated register has no overlapping absences of one person (sick_leave_rate counts
    # each day once and warns): each absence starts after the earlier ones of its person
    order = np.lexsort((a_start, a_person))
    a_person, a_start, a_len = a_person[order], a_start[order], a_len[order]
    first = np.r_[True, a_person[1:] != a_person[:-1]]
    before = np.cumsum(a_len) - a_len
    a_start = a_start + before - np.maximum.accumulate(np.where(first, before, 0))
    cert = np.where(a_len <= 3, 0, 1)
    absences = pd.DataFrame(
        {
            "employee_id": pd.Series(a_person).astype("string"),
            "start_date": a_start.astype("datetime64[D]").astype("datetime64[ns]"),
            "end_date": (a_start + a_len - 1).astype("datetime64[D]").astype("datetime64[ns]"),
            "certification": pd.Categorical.from_codes(cert, categories=["self", "doctor"]),
            "grade": np.where(cert == 1, rng.choice([0.2, 0.5, 1.0], n_absences), np.nan),
        }
    )
    return tr.Register(employment=emp, units=units, absences=absences)


SQL_SETUP = """
CREATE OR REPLACE TEMP TABLE e AS
SELECT row_number() OVER () AS sid, emp.employee_id AS pid, emp.unit_id AS unit,
       datediff('day', DATE '1970-01-01', emp.start_date::DATE) AS s,
       coalesce(datediff('day', DATE '1970-01-01', emp.end_date::DATE), 1073741824) AS en,
       emp.fte, emp.exit_reason::VARCHAR AS reason,
       u.municipality || '/' || u.service AS svc
FROM emp JOIN units u USING (unit_id);
CREATE OR REPLACE TEMP TABLE a AS
SELECT row_number() OVER () AS aid, employee_id AS pid,
       datediff('day', DATE '1970-01-01', start_date::DATE) AS s,
       datediff('day', DATE '1970-01-01', end_date::DATE) AS en,
       CASE WHEN certification = 'self' THEN 1.0 ELSE coalesce(grade, 1.0) END AS g
FROM ab;
"""

SQL_EXIT_SHARE = """
WITH den AS (  -- persons, not jobs: one row per (unit, snapshot, person)
  SELECT DISTINCT e.unit, y.yr, e.pid, e.svc, y.nxt
  FROM e JOIN snaps y ON e.s <= y.t AND e.en >= y.t
), present AS (
  SELECT DISTINCT e.pid, e.svc, y.nxt
  FROM e JOIN snaps y ON e.s <= y.nxt AND e.en >= y.nxt
)
SELECT den.unit AS unit_id, den.yr::VARCHAR AS period,
       count(*)::DOUBLE AS denominator,
       sum(CASE WHEN p.pid IS NULL THEN 1 ELSE 0 END)::DOUBLE AS numerator
FROM den LEFT JOIN present p ON p.pid = den.pid AND p.svc = den.svc AND p.nxt = den.nxt
GROUP BY ALL
"""

SQL_SEPARATION = """
WITH sep AS (
  SELECT e.unit, y.yr FROM e JOIN years y ON e.en BETWEEN y.p0 AND y.p1
  WHERE NOT EXISTS (SELECT 1 FROM e e2 WHERE e2.pid = e.pid AND e2.svc = e.svc
                    AND e2.s <= e.en + 1 AND e2.en >= e.en + 1)
), e0 AS (  -- in the unit on the year's first day and in scope (the service) the day before:
  -- spells running across the boundary, and spells starting on the first day of a person
  -- who was in the service the day before (moved between its units at the boundary)
  SELECT unit, yr, count(*) AS n FROM (
    SELECT e.sid, e.unit, y.yr FROM e JOIN years y ON e.s < y.p0 AND e.en >= y.p0
    UNION ALL
    SELECT DISTINCT a.sid, a.unit, y.yr FROM e a JOIN years y ON a.s = y.p0
    JOIN e b ON b.pid = a.pid AND b.svc = a.svc AND b.s < y.p0 AND b.en >= y.p0 - 1
  ) GROUP BY ALL
), e1 AS (  -- in the unit on the day after the year and in scope on its last day, alike
  SELECT unit, yr, count(*) AS n FROM (
    SELECT e.sid, e.unit, y.yr FROM e JOIN years y ON e.s <= y.p1 AND e.en > y.p1
    UNION ALL
    SELECT DISTINCT a.sid, a.unit, y.yr FROM e a JOIN years y ON a.s = y.p1 + 1
    JOIN e b ON b.pid = a.pid AND b.svc = a.svc AND b.s <= y.p1 AND b.en >= y.p1
  ) GROUP BY ALL
), pop AS (
  SELECT DISTINCT e.unit, y.yr FROM e JOIN years y ON e.s <= y.p1 AND e.en >= y.p0
)
SELECT pop.unit AS unit_id, pop.yr::VARCHAR AS period,
       coalesce((SELECT count(*) FROM sep WHERE sep.unit = pop.unit AND sep.yr = pop.yr), 0)::DOUBLE
         AS numerator,
       (coalesce(e0.n, 0) + coalesce(e1.n, 0)) / 2.0 AS denominator
FROM pop LEFT JOIN e0 USING (unit, yr) LEFT JOIN e1 USING (unit, yr)
"""

SQL_SICK = """
WITH agreed AS (
  SELECT e.unit, y.yr,
         sum(e.fte * (c1.cb - c0.cb)) AS agreed
  FROM e JOIN years y ON e.s <= y.p1 AND e.en >= y.p0
  JOIN cal c0 ON c0.d = greatest(e.s, y.p0)
  JOIN cal c1 ON c1.d = least(e.en, y.p1) + 1
  GROUP BY ALL
), pieces AS (
  SELECT e.unit, e.fte, a.g, greatest(a.s, e.s) AS ps, least(a.en, e.en) AS pe
  FROM a JOIN e ON a.pid = e.pid AND a.s <= e.en AND a.en >= e.s
), lost AS (
  SELECT p.unit, y.yr, sum((c1.cb - c0.cb) * p.fte * p.g) AS lost
  FROM pieces p JOIN years y ON p.ps <= y.p1 AND p.pe >= y.p0
  JOIN cal c0 ON c0.d = greatest(p.ps, y.p0)
  JOIN cal c1 ON c1.d = least(p.pe, y.p1) + 1
  GROUP BY ALL
)
SELECT agreed.unit AS unit_id, agreed.yr::VARCHAR AS period,
       coalesce(lost.lost, 0) AS numerator, agreed.agreed AS denominator
FROM agreed LEFT JOIN lost USING (unit, yr)
"""


def duckdb_setup(con, reg: tr.Register) -> None:
    """Load tables and the helper tables (years, snapshots, working-day calendar)."""
    idx = WorkdayIndex(FIRST, "2025-01-01")
    cal = pd.DataFrame({"d": np.arange(len(idx.cum)) + idx.origin, "cb": idx.cum})
    years = pd.DataFrame({"yr": np.arange(2015, 2025)})
    years["p0"] = [np.datetime64(f"{y}-01-01").astype(np.int64) for y in years["yr"]]
    years["p1"] = [np.datetime64(f"{y}-12-31").astype(np.int64) for y in years["yr"]]
    snaps = pd.DataFrame({"yr": np.arange(2015, 2024)})
    snaps["t"] = [np.datetime64(f"{y}-12-01").astype(np.int64) for y in snaps["yr"]]
    snaps["nxt"] = [np.datetime64(f"{y + 1}-12-01").astype(np.int64) for y in snaps["yr"]]
    for name, df in {
        "emp": reg.employment,
        "units": reg.units,
        "ab": reg.absences,
        "cal": cal,
        "years": years,
        "snaps": snaps,
    }.items():
        con.register(name, df)
    con.execute(SQL_SETUP)


def timed(fn, repeat: int):
    best, result = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def compare(ours: pd.DataFrame, ref: pd.DataFrame, what: str) -> str:
    """Same rows and the same numbers on every shown row.

    Every DuckDB row with a positive denominator must be in ours (shown or suppressed), every
    row we show with a positive denominator must be in DuckDB's, and the numerators and
    denominators of the shown rows must agree (integers exactly, day sums to 1e-9 relative).
    Suppressed rows carry no numbers, so they are matched by key only.
    """
    a = ours.set_index(["unit_id", "period"]).sort_index()
    b = ref.set_index(["unit_id", "period"])[["numerator", "denominator"]].sort_index()
    b = b[b["denominator"] > 0]
    shown = a[~a["suppressed"].to_numpy(dtype=bool) & (a["denominator"] > 0).to_numpy()]
    missing = b.index.difference(a.index)
    extra = shown.index.difference(b.index)
    if len(missing) or len(extra):
        raise AssertionError(
            f"{what}: different rows ({len(missing)} DuckDB rows missing from ours, {len(extra)} "
            f"shown rows of ours not in DuckDB's; {len(a)} ours, {len(b)} DuckDB)"
        )
    np.testing.assert_allclose(
        shown[["numerator", "denominator"]].to_numpy(dtype=float),
        b.loc[shown.index].to_numpy(dtype=float),
        rtol=1e-9,
        atol=1e-9,
        err_msg=what,
    )
    hidden = int(a["suppressed"].to_numpy(dtype=bool)[a.index.isin(b.index)].sum())
    return f"identical ({len(shown)} shown, {hidden} suppressed)"


def timed_pair(ours_fn, ref_fn, repeat: int) -> dict:
    """Run ours and DuckDB alternately ``repeat`` times: best wall and CPU times of each, the
    median of the per-run wall ratios (robust on a shared machine) and the last results."""
    walls = {"ours": [], "ref": []}
    cpus = {"ours": [], "ref": []}
    results = {}
    for _ in range(repeat):
        for key, fn in (("ours", ours_fn), ("ref", ref_fn)):
            w0, c0 = time.perf_counter(), time.process_time()
            results[key] = fn()
            walls[key].append(time.perf_counter() - w0)
            cpus[key].append(time.process_time() - c0)
    ratios = [o / r for o, r in zip(walls["ours"], walls["ref"], strict=True)]
    return {
        "ours": min(walls["ours"]),
        "ref": min(walls["ref"]),
        "ours_cpu": min(cpus["ours"]),
        "ref_cpu": min(cpus["ref"]),
        "median_ratio": float(np.median(ratios)),
        "ours_result": results["ours"],
        "ref_result": results["ref"],
    }


def run(
    spells: int = 1_000_000,
    absences: int = 3_000_000,
    *,
    repeat: int = 3,
    threads: int | None = None,
    register: tr.Register | None = None,
    verbose: bool = False,
) -> pd.DataFrame:
    """Time turnover_risk against the DuckDB reference; one row per job.

    Columns: ``job``, best wall times (``turnover_risk s``, ``duckdb query s``,
    ``duckdb setup+query s``), the ratios of the best times (``ratio (query)``,
    ``ratio (setup+query)``), ``ratio (median)`` (median over the ``repeat`` alternating runs of
    ours / DuckDB query), CPU seconds of the process (``turnover_risk cpu s``, ``duckdb cpu s``;
    DuckDB's counts all its threads), and ``numbers`` (the equality check; a mismatch raises).
    ``df.attrs`` holds the DuckDB version, threads, setup time, sizes and repeat count.
    """
    import duckdb

    t0 = time.perf_counter()
    reg = register if register is not None else make_data(spells, absences)
    if verbose:
        print(
            f"generated {len(reg.employment):,} spells and {len(reg.absences):,} absences "
            f"in {time.perf_counter() - t0:.1f} s"
        )
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads TO {int(threads)}")
    n_threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    kw = {"by": "unit_id", "period": "year", "start": FIRST, "end": LAST, "min_group_size": 3}
    jobs = [
        (
            "exit_share by unit, year",
            lambda: tr.turnover_rate(reg, definition="exit_share", **kw),
            SQL_EXIT_SHARE,
        ),
        (
            "separation by unit, year",
            lambda: tr.turnover_rate(reg, definition="separation", **kw),
            SQL_SEPARATION,
        ),
        ("sick leave by unit, year", lambda: tr.sick_leave_rate(reg, **kw), SQL_SICK),
    ]
    # DuckDB needs the frames turned into typed tables (dates to day numbers, units joined);
    # turnover_risk does the same work inside each call, so both ratios are shown.
    t_setup, _ = timed(lambda: duckdb_setup(con, reg), repeat)
    rows = []
    for name, ours_fn, sql in jobs:
        m = timed_pair(ours_fn, lambda sql=sql: con.execute(sql).df(), repeat)
        check = compare(m["ours_result"], m["ref_result"], name)
        rows.append(
            {
                "job": name,
                "turnover_risk s": round(m["ours"], 3),
                "duckdb query s": round(m["ref"], 3),
                "duckdb setup+query s": round(t_setup + m["ref"], 3),
                "ratio (query)": round(m["ours"] / m["ref"], 2),
                "ratio (setup+query)": round(m["ours"] / (t_setup + m["ref"]), 2),
                "ratio (median)": round(m["median_ratio"], 2),
                "turnover_risk cpu s": round(m["ours_cpu"], 3),
                "duckdb cpu s": round(m["ref_cpu"], 3),
                "numbers": check,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs.update(
        duckdb=duckdb.__version__,
        threads=n_threads,
        setup_s=t_setup,
        spells=len(reg.employment),
        absences=len(reg.absences),
        repeat=repeat,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spells", type=int, default=1_000_000)
    ap.add_argument("--absences", type=int, default=3_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all)")
    args = ap.parse_args()
    table = run(args.spells, args.absences, repeat=args.repeat, threads=args.threads, verbose=True)
    a = table.attrs
    print(
        f"DuckDB {a['duckdb']}, threads={a['threads']}; DuckDB setup (frames -> typed "
        f"tables): {a['setup_s']:.2f} s; best of {a['repeat']} (ratio (median): median of the "
        "per-run ratios); target ratio <= 1.5"
    )
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
