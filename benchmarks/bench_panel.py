"""Benchmark of ``build_panel``: time and peak memory at national scale.

Generates a synthetic register with ``turnover_risk.make_register`` (about 18 employees per
unit over six years, so ``--employees 100000`` asks for ~5 500 units), stores it as a pickle,
and builds the panel in a fresh subprocess so the peak resident memory (``ru_maxrss``) belongs
to the panel build alone (the register it reads is included: the build needs it in memory).

Usage::

    python benchmarks/bench_panel.py                     # 100 000 employees, monthly
    python benchmarks/bench_panel.py --employees 10000   # quick run
    python benchmarks/bench_panel.py --freq Q

Target (issue 6): 100 000 employees x 6 years monthly in at most 2 minutes and 8 GB peak
memory on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time

EMPLOYEES_PER_UNIT = 18  # what make_register produces over six years (measured)

CHILD = r"""
import gc, json, pickle, resource, sys, time
import numpy as np
import pandas as pd
import turnover_risk as tr
from turnover_risk.panel import build_partition, prepare_context
from turnover_risk.panel._build import PARTITION_SIZE

path, freq = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    reg = pickle.load(f)
gc.collect()
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB (Linux: KiB)
base = rss()
t0 = time.perf_counter()
panel = tr.build_panel(reg, freq=freq)
total = time.perf_counter() - t0
peak = rss()
# the phases, timed separately (after the measured run, so they do not change the peak)
t1 = time.perf_counter()
ctx = prepare_context(reg, freq=freq)
t_ctx = time.perf_counter() - t1
t2 = time.perf_counter()
part = build_partition(ctx, ctx.employee_ids[:PARTITION_SIZE])
t_part = time.perf_counter() - t2
print(json.dumps({
    "employees": int(reg.employment["employee_id"].nunique()),
    "rows": len(panel),
    "columns": panel.shape[1],
    "labelled_rows": int(panel["left_within_horizon"].notna().sum()),
    "seconds_total": round(total, 1),
    "seconds_context": round(t_ctx, 1),
    "seconds_per_partition": round(t_part, 1),
    "partition_size": PARTITION_SIZE,
    "rss_register_mb": round(base),
    "rss_peak_mb": round(peak),
    "panel_mb": round(panel.memory_usage(deep=True).sum() / 2**20),
}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--freq", default="M")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import turnover_risk as tr

    n_units = max(2, round(args.employees / EMPLOYEES_PER_UNIT))
    t0 = time.perf_counter()
    reg = tr.make_register(n_units=n_units, years=args.years, random_state=args.seed)
    t_make = time.perf_counter() - t0
    print(f"make_register(n_units={n_units}, years={args.years}): {t_make:.1f} s, {reg!r}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "register.pickle")
        with open(path, "wb") as f:
            pickle.dump(reg, f, protocol=pickle.HIGHEST_PROTOCOL)
        del reg
        out = subprocess.run(
            [sys.executable, "-c", CHILD, path, args.freq],
            check=True,
            capture_output=True,
            text=True,
        )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    width = max(len(k) for k in result)
    print(f"\nbuild_panel(freq={args.freq!r}) in a fresh process")
    print("-" * (width + 14))
    for key, value in result.items():
        print(f"{key:<{width}}  {value:>10}")
    print("-" * (width + 14))
    ok = result["seconds_total"] <= 120 and result["rss_peak_mb"] <= 8 * 1024
    print(f"target (<= 120 s, <= 8192 MB peak): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
