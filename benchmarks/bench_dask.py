"""Benchmark: the Dask engine on two local worker processes vs. the single-process path.

The job is the one a national run does every month: build the panel of a register partition by
partition and score it to group-level expected leavers. Both paths run in fresh processes on
the same pickled register and saved model:

* single process: ``score_dataset(model, register, out)`` (streaming, pandas engine);
* Dask: ``score_dataset(model, register, out, engine="dask", scheduler=client)`` on a
  ``LocalCluster(n_workers=w, threads_per_worker=1, processes=True)`` for each ``--workers``
  count (default 2 and 1: the scaling table).
  The workers run with glibc's default allocator settings like the single process (Dask's
  nanny otherwise sets ``MALLOC_TRIM_THRESHOLD_=65536``, which made the build 1.7x slower in
  two plain processes);
  numpy/BLAS/OpenMP stay at one thread per worker (the nanny's default).

The Dask row splits the wall time: sending the register to one worker, preparing the shared
context there (same work as the single process), copying it worker to worker, and the cluster
phase; within the cluster phase the sum of task times (build + score) against wall time x
workers shows how busy the workers were, and task CPU time against task wall time shows how
much of a task was spent waiting for a core (two workers on two shared cores).
The cluster start-up (including importing the library on the workers) is reported separately:
it is paid once per session, not per job. CPU seconds (client + workers, measured around the
job) are shown next to wall time: on a shared machine they are the steadier measure, and
``speed-up`` (single wall time / Dask wall time) is what the issue's >= 1.6 x target means.

Run::

    python benchmarks/bench_dask.py --register /tmp/trbench/reg.pickle \
        --model /tmp/trbench/model_logistic.skops --work /tmp/trbench
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

import _launcher

CHILD = r"""
import json, pickle, resource, sys, time, warnings
warnings.simplefilter("ignore")
import turnover_risk as tr
reg_path, model_path, out, engine, batch_rows, n_workers = sys.argv[1:7]
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
with open(reg_path, "rb") as f:
    reg = pickle.load(f)
model = tr.load_model(model_path)
info = {}
client = cluster = None
if engine == "dask":
    import dask
    from distributed import Client, LocalCluster
    # glibc's default malloc behaviour in the workers, as in the single process: the nanny's
    # default MALLOC_TRIM_THRESHOLD_=65536 slowed the panel build 1.7x in plain processes
    dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=int(n_workers), threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    # a running cluster has the library imported already: do it as part of the start-up
    client.run(lambda: __import__("turnover_risk.scoring") and None)
    info["seconds_cluster_start"] = time.perf_counter() - t0
cpu0 = cpu()
workers0 = client.run(cpu) if client is not None else {}
t0 = time.perf_counter()
res = tr.score_dataset(model, reg, out, engine=engine, batch_rows=int(batch_rows),
                       overwrite=True, progress=False,
                       **({"scheduler": client} if client is not None else {}))
info.update(res.info)
info["seconds"] = time.perf_counter() - t0
info["cpu_client"] = cpu() - cpu0
if client is not None:
    workers1 = client.run(cpu)
    info["cpu_workers"] = sum(workers1[w] - workers0[w] for w in workers1)
info["rows"] = res.rows_read
info["peak_mb_client"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if client is not None:
    mem = client.run(lambda: __import__("resource").getrusage(
        __import__("resource").RUSAGE_SELF).ru_maxrss / 1024)
    info["peak_mb_workers"] = sorted(mem.values())
    client.close(); cluster.close()
print(json.dumps(info, default=float))
"""


def _child(*args: object) -> dict:
    out = _launcher.run([sys.executable, "-c", CHILD, *map(str, args)])
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def run(
    register: str | Path,
    model: str | Path,
    work: str | Path,
    *,
    batch_rows: int = 262_144,
    workers: tuple[int, ...] = (2, 1),
) -> dict[str, pd.DataFrame]:
    """Single process vs. Dask on local workers (the first of ``workers`` is broken down)."""
    work = Path(work)
    load0 = os.getloadavg()
    single = _child(register, model, work / "groups_single.parquet", "pandas", batch_rows, 1)
    runs = {
        w: _child(register, model, work / f"groups_dask{w}.parquet", "dask", batch_rows, w)
        for w in workers
    }
    load1 = os.getloadavg()
    a = pd.read_parquet(work / "groups_single.parquet")
    checks = []
    for w in workers:
        b = pd.read_parquet(work / f"groups_dask{w}.parquet")
        checks.append(
            {
                "workers": w,
                "group rows": len(a),
                "n_persons identical": a["n_persons"].equals(b["n_persons"]),
                "max |expected_leavers difference|": float(
                    (a["expected_leavers"] - b["expected_leavers"]).abs().max()
                ),
            }
        )
    rows = [
        {
            "path": "single process (streaming)",
            "rows": single["rows"],
            "seconds": round(single["seconds"], 1),
            "cpu s": round(single["cpu_client"], 1),
            "rows/s": round(single["rows"] / single["seconds"]),
            "peak MB": round(single["peak_mb_client"]),
            "x single": 1.0,
            "speed-up": 1.0,
        }
    ]
    for w, d in runs.items():
        rows.append(
            {
                "path": f"Dask, {w} local worker" + ("s" if w > 1 else ""),
                "rows": d["rows"],
                "seconds": round(d["seconds"], 1),
                "cpu s": f"{d['cpu_client'] + d['cpu_workers']:.1f} (client {d['cpu_client']:.1f})",
                "rows/s": round(d["rows"] / d["seconds"]),
                "peak MB": f"client {round(d['peak_mb_client'])}, workers "
                + ", ".join(str(round(m)) for m in d["peak_mb_workers"]),
                "x single": round(d["seconds"] / single["seconds"], 2),
                "speed-up": round(single["seconds"] / d["seconds"], 2),
            }
        )
    compare = pd.DataFrame(rows)
    compare.attrs["load"] = (load0, load1)
    dask = runs[workers[0]]
    cluster_wall = dask["seconds_cluster"]
    workers = dask.get("workers") or 2
    breakdown = pd.DataFrame(
        [
            {
                "phase": "cluster start-up (once per session, not in the job time)",
                "seconds": round(dask["seconds_cluster_start"], 1),
            },
            {
                "phase": "send the register to one worker (scatter)",
                "seconds": round(dask.get("seconds_send_register", 0.0), 1),
            },
            {
                "phase": "context on that worker (period grid, episodes, unit features)",
                "seconds": round(dask["seconds_context"], 1),
            },
            {
                "phase": "copy the context to the other worker (replicate)",
                "seconds": round(dask["seconds_send_context"], 1),
            },
            {
                "phase": f"cluster phase, wall ({dask['partitions']} partitions)",
                "seconds": round(cluster_wall, 1),
            },
            {
                "phase": "  sum of task times on workers (build + score)",
                "seconds": round(dask["seconds_tasks_sum"], 1),
            },
            {
                "phase": "    of which panel build (rest: scoring, group sums)",
                "seconds": round(dask["seconds_build_sum"], 1),
            },
            {
                "phase": "    CPU time of the tasks (rest of task time: waiting for a core)",
                "seconds": round(dask.get("seconds_tasks_cpu_sum", 0.0), 1),
            },
            {
                "phase": f"  idle/scheduling/transfer = wall x {workers} workers - task sum",
                "seconds": round(cluster_wall * workers - dask["seconds_tasks_sum"], 1),
            },
            {
                "phase": "single process total, for reference",
                "seconds": round(single["seconds"], 1),
            },
        ]
    )
    check = pd.DataFrame(checks)
    return {"compare": compare, "breakdown": breakdown, "check": check}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--register", required=True, help="pickled Register")
    parser.add_argument("--model", required=True, help="model.skops")
    parser.add_argument("--work", required=True)
    parser.add_argument("--batch-rows", type=int, default=262_144)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1])
    args = parser.parse_args(argv)
    _launcher.start()
    tables = run(
        args.register, args.model, args.work, batch_rows=args.batch_rows, workers=args.workers
    )
    load0, load1 = tables["compare"].attrs["load"]
    print(f"load average (1, 5, 15 min) before {load0}, after {load1}")
    for name, table in tables.items():
        print(f"\n{name}")
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
