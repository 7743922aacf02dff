"""Benchmark: the Dask engine on two local worker processes vs. the single-process path.

The job is the one a national run does every month: build the panel of a register partition by
partition and score it to group-level expected leavers. Both paths run in fresh processes on
the same pickled register and saved model:

* single process: ``score_dataset(model, register, out)`` (streaming, pandas engine);
* Dask: ``score_dataset(model, register, out, engine="dask", scheduler=client)`` on a
  ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``.
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
it is paid once per session, not per job.

Run::

    python benchmarks/bench_dask.py --register /tmp/trbench/reg.pickle \
        --model /tmp/trbench/model_logistic.skops --work /tmp/trbench
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

import _launcher

CHILD = r"""
import json, pickle, resource, sys, time, warnings
warnings.simplefilter("ignore")
import turnover_risk as tr
reg_path, model_path, out, engine, batch_rows = sys.argv[1:6]
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
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    # a running cluster has the library imported already: do it as part of the start-up
    client.run(lambda: __import__("turnover_risk.scoring") and None)
    info["seconds_cluster_start"] = time.perf_counter() - t0
t0 = time.perf_counter()
res = tr.score_dataset(model, reg, out, engine=engine, batch_rows=int(batch_rows),
                       overwrite=True, progress=False,
                       **({"scheduler": client} if client is not None else {}))
info.update(res.info)
info["seconds"] = time.perf_counter() - t0
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
    register: str | Path, model: str | Path, work: str | Path, *, batch_rows: int = 262_144
) -> dict[str, pd.DataFrame]:
    """Single process vs. Dask on 2 local workers; returns the comparison and the breakdown."""
    work = Path(work)
    single = _child(register, model, work / "groups_single.parquet", "pandas", batch_rows)
    dask = _child(register, model, work / "groups_dask.parquet", "dask", batch_rows)
    a = pd.read_parquet(work / "groups_single.parquet")
    b = pd.read_parquet(work / "groups_dask.parquet")
    same_counts = a["n_persons"].equals(b["n_persons"])
    max_diff = float((a["expected_leavers"] - b["expected_leavers"]).abs().max())
    compare = pd.DataFrame(
        [
            {
                "path": "single process (streaming)",
                "rows": single["rows"],
                "seconds": round(single["seconds"], 1),
                "rows/s": round(single["rows"] / single["seconds"]),
                "peak MB": round(single["peak_mb_client"]),
            },
            {
                "path": "Dask, 2 local workers",
                "rows": dask["rows"],
                "seconds": round(dask["seconds"], 1),
                "rows/s": round(dask["rows"] / dask["seconds"]),
                "peak MB": f"client {round(dask['peak_mb_client'])}, workers "
                + ", ".join(str(round(m)) for m in dask["peak_mb_workers"]),
            },
        ]
    )
    compare["x single"] = [1.0, round(dask["seconds"] / single["seconds"], 2)]
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
    check = pd.DataFrame(
        [
            {
                "group rows": len(a),
                "n_persons identical": same_counts,
                "max |expected_leavers difference|": max_diff,
            }
        ]
    )
    return {"compare": compare, "breakdown": breakdown, "check": check}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--register", required=True, help="pickled Register")
    parser.add_argument("--model", required=True, help="model.skops")
    parser.add_argument("--work", required=True)
    parser.add_argument("--batch-rows", type=int, default=262_144)
    args = parser.parse_args(argv)
    for name, table in run(
        args.register, args.model, args.work, batch_rows=args.batch_rows
    ).items():
        print(f"\n{name}")
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
