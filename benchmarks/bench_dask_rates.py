"""Benchmark: turnover rates on Dask per partition of employees vs gathering vs pandas.

A national-size simulated register (``bench_rates.make_data``: 1 000 000 employment spells in
2 000 units) is passed to ``turnover_rate`` three ways, for a few jobs (definition x grouping):

* ``pandas``: the single-process kernel on the pandas register;
* ``dask per partition``: the employment table as a Dask frame of ``--partitions`` partitions
  in random row order (not partitioned by employee) on a ``LocalCluster`` of ``--workers``
  worker processes (one thread each); the engine splits it by employee, computes each part's
  cell statistics on the workers, adds them in a tree and finishes on the client;
* ``dask gather``: the previous engine: the same Dask tables gathered to the client, then the
  pandas kernel once.

Prints the wall time of each (median of ``--repeat`` runs), the ratios, the load average
before and after (the machine may be shared), and checks the three tables agree (counts and
flags exactly, rates to 1e-12).

Run:  python benchmarks/bench_dask_rates.py [--spells 1000000] [--workers 2] [--partitions 8]
      python benchmarks/bench_dask_rates.py --pandas-only   # the pandas jobs alone (before/after)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import turnover_risk as tr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rates import make_data

JOBS = {
    "exit_share by unit": {"definition": "exit_share", "by": "unit_id"},
    "separation by unit": {"definition": "separation", "by": "unit_id"},
    "exit_share by municipality + margins": {"definition": "exit_share",
                                             "by": ["municipality", "service"], "margins": True},
    "hire by unit, quarter, fte": {"definition": "hire", "by": "unit_id", "period": "quarter",
                                   "weight": "fte"},
}  # fmt: skip
META = {"observation_start": "2015-01-01", "observation_end": "2024-12-31"}


def _timed(fn, repeat: int) -> tuple[float, pd.DataFrame]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def _same(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """Largest relative difference of the float columns (interval bounds relative to the
    rate: a lower bound near 0 is a difference of nearly equal numbers); counts and flags
    must be equal."""
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    worst = 0.0
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_float_dtype(y):
            xv, yv = x.to_numpy(float), y.to_numpy(float)
            if (np.isnan(xv) != np.isnan(yv)).any():
                print(f"  {c}: missing in {int((np.isnan(xv) != np.isnan(yv)).sum())} rows "
                      "of one table only")  # fmt: skip
                return float("inf")
            scale = b["rate"].to_numpy(float) if c in ("ci_low", "ci_high") else yv
            ok = ~np.isnan(yv) & (scale != 0) & ~np.isnan(scale)
            if ok.any():
                rel = float(np.max(np.abs(xv[ok] - yv[ok]) / np.abs(scale[ok])))
                if rel > 1e-12:
                    print(f"  {c}: relative difference {rel:.2g}")
                worst = max(worst, rel)
        elif x.astype(object).tolist() != y.astype(object).tolist():
            print(f"  {c}: values differ")
            return float("inf")
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spells", type=int, default=1_000_000)
    ap.add_argument("--absences", type=int, default=1_000_000, help="0: turnover jobs only")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pandas-only", action="store_true")
    args = ap.parse_args()
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    reg = make_data(args.spells, max(args.absences, 10))
    absences = reg.absences if args.absences else None
    reg = tr.Register(employment=reg.employment, units=reg.units, absences=absences,
                      metadata=META)  # fmt: skip
    jobs = {name: ("turnover", opts) for name, opts in JOBS.items()}
    if args.absences:
        jobs["sick leave by unit"] = ("sick_leave", {"by": "unit_id"})
        jobs["sick leave split by municipality + margins"] = (
            "sick_leave",
            {"certification": "split", "by": "municipality", "margins": True},
        )
    print(f"register: {len(reg.employment):,} spells, {reg.employment['employee_id'].nunique():,} "
          f"persons, {len(reg.units):,} units, {args.absences:,} absences "
          f"({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    rows = []
    if args.pandas_only:
        for name, (measure, opts) in jobs.items():
            fn = getattr(tr, f"{measure}_rate")
            t, _ = _timed(lambda fn=fn, opts=opts: fn(reg, **opts), args.repeat)
            rows.append({"job": name, "pandas s": t})
        _report(rows, load0)
        return
    import dask.dataframe as dd
    import distributed

    from turnover_risk.engines import _dask as trd
    from turnover_risk.engines._cluster import _gather_register

    shuffled = reg.employment.sample(frac=1.0, random_state=0).reset_index(drop=True)
    tables = {"employment": dd.from_pandas(shuffled, npartitions=args.partitions),
              "units": reg.units, "metadata": META}  # fmt: skip
    if absences is not None:
        ab = absences.sample(frac=1.0, random_state=1).reset_index(drop=True)
        tables["absences"] = dd.from_pandas(ab, npartitions=args.partitions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                           processes=True, dashboard_address=None)  # fmt: skip
        client = distributed.Client(cluster)
    try:
        for name, (measure, opts) in jobs.items():
            fn, dfn = getattr(tr, f"{measure}_rate"), getattr(trd, f"{measure}_rate")
            t_pd, expected = _timed(lambda fn=fn, opts=opts: fn(reg, **opts), args.repeat)
            t_part, got = _timed(
                lambda dfn=dfn, opts=opts: dfn(tables, scheduler=client, **opts),
                args.repeat,
            )
            t_gather, gathered = _timed(
                lambda fn=fn, opts=opts: fn(_gather_register(tables, client), **opts),
                args.repeat,
            )
            print(f"{name}: per partition vs pandas", flush=True)
            rel = _same(got, expected)
            print(f"{name}: gather vs pandas", flush=True)
            rel = max(rel, _same(gathered, expected))
            rows.append({"job": name, "rows": len(expected), "pandas s": t_pd,
                         "dask per partition s": t_part, "dask gather s": t_gather,
                         "partition / pandas": t_part / t_pd,
                         "partition / gather": t_part / t_gather, "max rel diff": rel})  # fmt: skip
    finally:
        client.close()
        cluster.close()
    _report(rows, load0)


def _report(rows: list[dict], load0: tuple) -> None:
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    load1 = os.getloadavg()
    print(f"load average before {load0[0]:.2f}, after {load1[0]:.2f} "
          f"({os.cpu_count()} cores; other jobs may share them)")  # fmt: skip


if __name__ == "__main__":
    main()
