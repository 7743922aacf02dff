"""Run every benchmark with one command and write ``benchmarks/results.md``.

Generates the national synthetic register (about 100 000 employees over 6 years; ``--employees``
for other sizes), then measures, each in fresh processes where peak memory matters:

1. simulator: ``make_register`` at national size;
2. rates: turnover_risk vs. a DuckDB SQL reference on the same data in the same process
   (``bench_rates.py``: 1 million spells, 3 million absences);
3. panel build: ``build_panel`` time and peak memory (``bench_panel.py``'s measurement, on the
   register generated here);
4. training (logistic, gbm), scoring throughput and flat scoring memory (``bench_scoring.py``);
5. group explanations: ``group_drivers`` vs. TreeSHAP on every row (``bench_explain.py``);
6. Dask on two local worker processes vs. the single process (``bench_dask.py``).

Prints each table as it is measured and writes them with the machine details (CPU, cores,
RAM, load, library versions, date) to ``benchmarks/results.md``.

Run::

    python benchmarks/run_all.py                    # national: ~100 000 employees
    python benchmarks/run_all.py --employees 500000 # the whole municipal sector
    python benchmarks/run_all.py --employees 10000 --out /tmp/results.md   # quick check
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the sibling benchmark scripts (not a package)
import _launcher  # noqa: E402

EMPLOYEES_PER_UNIT = 18  # make_register: ~18 distinct employees per unit over six years

RATES = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import duckdb
import turnover_risk as tr
from bench_rates import FIRST, LAST, SQL_EXIT_SHARE, SQL_SEPARATION, SQL_SICK, compare, \
    duckdb_setup, make_data, timed
reg = make_data(int(sys.argv[2]), int(sys.argv[3]))
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
duckdb_setup(con, reg)
kw = {"by": "unit_id", "period": "year", "start": FIRST, "end": LAST, "min_group_size": 3}
jobs = [
    ("exit_share by unit, year", lambda: tr.turnover_rate(reg, definition="exit_share", **kw),
     SQL_EXIT_SHARE),
    ("separation by unit, year", lambda: tr.turnover_rate(reg, definition="separation", **kw),
     SQL_SEPARATION),
    ("sick leave by unit, year", lambda: tr.sick_leave_rate(reg, **kw), SQL_SICK),
]
rows = []
for name, ours_fn, sql in jobs:
    t_ours, ours = timed(ours_fn, 3)
    t_ref, ref = timed(lambda sql=sql: con.execute(sql).df(), 3)
    rows.append({"job": name, "turnover_risk s": round(t_ours, 3), "duckdb s": round(t_ref, 3),
                 "ratio": round(t_ours / t_ref, 2), "rows": len(ours),
                 "numbers": compare(ours, ref, name)})
print(json.dumps({"rows": rows, "threads": threads, "spells": len(reg.employment),
                  "absences": len(reg.absences),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

WRITE_PANEL = r"""
import pickle, sys, warnings
warnings.simplefilter("ignore")
import turnover_risk as tr
with open(sys.argv[1], "rb") as f:
    reg = pickle.load(f)
tr.build_panel(reg).to_parquet(sys.argv[2], index=False, row_group_size=262_144)
"""


def machine() -> dict[str, str]:
    """CPU, cores, RAM, load and library versions of this machine."""
    import duckdb
    import numpy
    import pyarrow
    import sklearn

    import turnover_risk

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GB"
                break
    except OSError:
        pass
    try:
        import dask
        import distributed

        dask_v = f"dask {dask.__version__}, distributed {distributed.__version__}"
    except ImportError:
        dask_v = "not installed"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu,
        "cores (os.cpu_count)": str(os.cpu_count()),
        "RAM": ram,
        "load average at start (1, 5, 15 min)": load,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "turnover_risk": turnover_risk.__version__,
        "pandas": pd.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
        "pyarrow": pyarrow.__version__,
        "duckdb": duckdb.__version__,
        "Dask": dask_v,
    }


def _last_json(stdout: str) -> dict:
    """The last line of a child's output that is a JSON object."""
    lines = [ln for ln in stdout.splitlines() if ln.lstrip().startswith("{")]
    return json.loads(lines[-1])


def _script(name: str, *args: object) -> str:
    """Run a sibling benchmark script; return its stdout."""
    out = _launcher.run([sys.executable, str(HERE / name), *map(str, args)])
    return out.stdout


def _md(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return "\n".join(lines)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1 else f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def _code(text: str) -> str:
    return "```\n" + text.strip() + "\n```"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--work", help="working folder (default: a temporary one)")
    parser.add_argument("--out", default=str(HERE / "results.md"))
    parser.add_argument("--rates-spells", type=int, default=1_000_000)
    parser.add_argument("--rates-absences", type=int, default=3_000_000)
    parser.add_argument(
        "--gbm-train-rows",
        type=int,
        default=250_000,
        help="labelled rows sampled to train the gbm (0: all)",
    )
    args = parser.parse_args(argv)
    _launcher.start()  # before anything large is loaded: children's ru_maxrss stays theirs
    work = Path(args.work or tempfile.mkdtemp(prefix="turnover-risk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    info = machine()
    sections: list[str] = []
    summary: list[dict] = []
    t_all = time.perf_counter()
    n_units = max(2, round(args.employees / EMPLOYEES_PER_UNIT))

    def write(final: bool = False) -> None:
        elapsed = time.perf_counter() - t_all
        status = "" if final else " (partial: the run is still going or stopped early)"
        head = [
            "# turnover_risk benchmark results" + status,
            "",
            "Written by `python benchmarks/run_all.py"
            + (f" --employees {args.employees}" if args.employees != 100_000 else "")
            + f"` in {elapsed / 60:.1f} minutes. National register: {n_units:,} units, "
            f"{args.years} years.",
            "",
            "## Machine",
            "",
            _md(pd.DataFrame([{"": k, "value": v} for k, v in info.items()])),
            "",
            "The machine's two cores were shared with other work while this ran (see the load "
            "average): times are wall-clock and pessimistic for a dedicated machine.",
            "",
            "## Summary",
            "",
            _md(pd.DataFrame(summary)) if summary else "(nothing measured yet)",
            "",
        ]
        Path(args.out).write_text("\n".join(head) + "\n" + "\n".join(sections))

    def section(title: str, body: str) -> None:
        print(f"\n## {title}\n{body}", flush=True)
        sections.append(f"## {title}\n\n{body}\n")
        write()

    # 1. simulator ------------------------------------------------------------------------
    import turnover_risk as tr

    t0 = time.perf_counter()
    reg = tr.make_register(n_units=n_units, years=args.years, random_state=0)
    t_make = time.perf_counter() - t0
    employees = int(reg.employment["employee_id"].nunique())
    reg_path = work / "register.pickle"
    with open(reg_path, "wb") as f:
        pickle.dump(reg, f, protocol=pickle.HIGHEST_PROTOCOL)
    sizes = pd.DataFrame([{"table": n, "rows": len(t)} for n, t in reg])
    del reg
    section(
        "Simulator",
        f"`make_register(n_units={n_units}, years={args.years}, random_state=0)`: "
        f"{t_make:.1f} s, {employees:,} employees.\n\n{_md(sizes)}",
    )
    summary.append(
        {
            "measurement": "simulator (national register)",
            "result": f"{t_make:.1f} s",
            "target": "-",
            "met": "-",
        }
    )

    # 2. rates vs DuckDB (bench_rates.py's data, SQL and checks; best of 3) -----------------
    out = _launcher.run(
        [sys.executable, "-c", RATES, str(HERE), str(args.rates_spells), str(args.rates_absences)]
    )
    rates = _last_json(out.stdout)
    table = pd.DataFrame(rates["rows"])
    section(
        "Rates: turnover_risk vs. DuckDB SQL (same data, same process)",
        f"{rates['spells']:,} employment spells, {rates['absences']:,} absence spells "
        f"(`bench_rates.make_data`); DuckDB threads={rates['threads']}; best of 3; peak "
        f"memory of the process (data, both engines) {rates['peak_mb']:,.0f} MB.\n\n" + _md(table),
    )
    worst = float(table["ratio"].max())
    summary.append(
        {
            "measurement": "rates, worst ratio to DuckDB",
            "result": f"{worst:.2f} x",
            "target": "<= 1.5 x",
            "met": "yes" if worst <= 1.5 else "no",
        }
    )

    # 3. panel build ------------------------------------------------------------------------
    import bench_panel

    out = _launcher.run([sys.executable, "-c", bench_panel.CHILD, str(reg_path), "M"])
    panel = _last_json(out.stdout)
    section(
        "Panel build (`build_panel`, monthly, fresh process)",
        _md(pd.DataFrame([{"measure": k, "value": _fmt(v)} for k, v in panel.items()])),
    )
    ok = panel["seconds_total"] <= 120 and panel["rss_peak_mb"] <= 8192
    summary.append(
        {
            "measurement": "panel build",
            "result": f"{panel['seconds_total']} s, {panel['rss_peak_mb']:,} MB peak, "
            f"{panel['rows']:,} rows",
            "target": "<= 120 s, <= 8 GB",
            "met": "yes" if ok else "no",
        }
    )
    panel_path = work / "panel.parquet"
    _launcher.run([sys.executable, "-c", WRITE_PANEL, str(reg_path), str(panel_path)])

    # 4. training, scoring, memory ----------------------------------------------------------
    import bench_scoring

    tables = bench_scoring.run(panel_path, work, gbm_train_rows=args.gbm_train_rows)
    section("Training (fresh process per model)", _md(tables["training"]))
    section(
        "Scoring throughput (`score_dataset`, Parquet record batches -> group table; "
        "includes reading and assembling the model matrix)",
        _md(tables["scoring"]),
    )
    for row in tables["scoring"].itertuples(index=False):
        summary.append(
            {
                "measurement": f"scoring {row.model}",
                "result": f"{row._3:,} rows/s",
                "target": f">= {row._7:,} rows/s",
                "met": "yes" if row._3 >= row._7 else "no",
            }
        )
    section(
        "Scoring memory: 2 million vs. 20 million panel rows (fresh process each)",
        _md(tables["memory"]),
    )
    ratio = float(tables["memory"]["peak / peak(2M)"].iloc[-1])
    summary.append(
        {
            "measurement": "scoring peak memory 20M / 2M rows",
            "result": f"{ratio:.2f} x",
            "target": "<= 1.3 x",
            "met": "yes" if ratio <= 1.3 else "no",
        }
    )
    for row in tables["training"].itertuples(index=False):
        summary.append(
            {
                "measurement": f"training {row.model} ({row._1:,} rows)",
                "result": f"{row.seconds} s, {row._3:,} MB peak",
                "target": "-",
                "met": "-",
            }
        )

    # 5. explanations ------------------------------------------------------------------------
    text = _script("bench_explain.py", "--repeats", 1)
    section(
        "Group explanations (`group_drivers` vs. TreeSHAP on every row, sample register)",
        _code(text),
    )

    # 6. Dask ------------------------------------------------------------------------------
    import bench_dask

    dres = bench_dask.run(reg_path, work / "model_logistic.skops", work)
    section(
        "Dask: build panel + score (logistic) to groups, 1 and 2 local workers vs. one process",
        _md(dres["compare"])
        + "\n\nWhere the Dask time goes:\n\n"
        + _md(dres["breakdown"])
        + "\n\nSame result:\n\n"
        + _md(dres["check"]),
    )
    two = dres["compare"][dres["compare"]["path"] == "Dask, 2 local workers"].iloc[0]
    summary.append(
        {
            "measurement": "Dask 2 local workers: speed-up over one process",
            "result": f"{float(two['speed-up']):.2f} x",
            "target": ">= 1.6 x",
            "met": "yes" if float(two["speed-up"]) >= 1.6 else "no",
        }
    )

    # results.md ----------------------------------------------------------------------------
    elapsed = time.perf_counter() - t_all
    info["load average at end (1, 5, 15 min)"] = (
        ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    )
    write(final=True)
    print(f"\n## Summary\n{pd.DataFrame(summary).to_string(index=False)}")
    print(f"\nwritten to {args.out} ({elapsed / 60:.1f} min)")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
