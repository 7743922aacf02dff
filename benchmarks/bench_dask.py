"""Benchmark: the Dask engine on two local worker processes vs. the single-process path.

The job is the one a national run does every month: build the panel of a register partition by
partition and score it to group-level expected leavers. Both paths run in fresh processes on
the same pickled register and saved model:

* single process: ``score_dataset(model, register, out)`` (streaming, pandas engine);
* Dask: ``score_dataset(model, register, out, engine="dask", scheduler=client)`` on a
  ``LocalCluster(n_workers=w, threads_per_worker=1, processes=True)`` for each ``--workers``
  count (default 2 and 1: the scaling table).
  The cluster is started with the library's recommended settings
  (``turnover_risk.engines.CLUSTER_CONFIG``: glibc's default allocator settings in the
  workers like the single process — Dask's nanny otherwise sets
  ``MALLOC_TRIM_THRESHOLD_=65536``, which made the build 1.7x slower in two plain processes —,
  no statistical profiler, fewer event-loop and system checks; ``--dask-config default``
  keeps Dask's defaults but the allocator setting); numpy/BLAS/OpenMP stay at one thread per
  worker (the nanny's default).

The Dask row splits the wall time: the base of the panel context on the client, copying the
base and scorer to each worker and writing the person tables' row chunks as Arrow files, the
cluster phase (engines/_blocks.py: cutting the chunks by block, each block's event indexes
and unit partials, the unit features per range of units, build + score in sub-batches, each
worker's group sums), the publish step on the workers (a run of periods each) and writing
the table. The task stream gives each kind of task's count and summed time; cluster-phase
wall x workers minus its task sum is idle/scheduling/transfer time. CPU seconds of client
and workers come with their system part (page faults of fresh memory are costly on virtual
machines). A third child runs the same steps one after another in one process and reports
their CPU seconds per task, from which "expected on idle cores" computes the wall time with
no Dask overhead: the client's serial steps plus, per stage, the busiest worker's tasks (the
stages wait for each other); on a shared machine this is the steadier figure. The cluster
start-up (importing the library and scikit-learn on the workers) is paid once per session
and reported apart. ``speed-up`` (single wall / Dask wall) is what the >= 1.6 x target means.

Run (``--make`` first simulates the national register, ``make_register(n_units=5556,
years=6, random_state=0)``: 104 148 employees, 2.6 million panel rows, and trains the logistic
model on its panel, ~2 minutes, unless both files exist)::

    cd benchmarks
    python bench_dask.py --make --register /tmp/dask-scale2/reg.pickle \
        --model /tmp/dask-scale2/model.skops --work /tmp/dask-scale2 --repeat 3

``--repeat N`` runs the single process and each Dask count N times, alternating, and reports
the fastest run of each (the least disturbed by other jobs).
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
reg_path, model_path, out, engine, batch_rows, n_workers, config = sys.argv[1:8]
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def sys_cpu():  # the kernel's part: page faults of fresh memory, copies between processes
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime
with open(reg_path, "rb") as f:
    reg = pickle.load(f)
model = tr.load_model(model_path)
# a running session has the modules of the job imported: in both paths, before the timing
WARM = ("turnover_risk.scoring", "turnover_risk.panel._context", "turnover_risk.panel._person",
        "turnover_risk.engines._blocks", "pyarrow.feather")
for m in WARM:
    __import__(m)
info = {}
client = cluster = None
if engine == "dask":
    import dask
    from distributed import Client, LocalCluster
    from turnover_risk.engines import CLUSTER_CONFIG
    # the library's recommended settings, or Dask's (but glibc's malloc trimming as the single)
    dask.config.set(CLUSTER_CONFIG if config == "library" else
                    {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=int(n_workers), threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    # a running cluster has the library imported and its connections open already: do it as
    # part of the start-up (the first scatter to a worker opens a direct connection)
    client.run(lambda: [__import__(m) for m in WARM] and None)
    # ... and scikit-learn: the first copy of a scorer imports it (0.3 s), as load_model did
    from turnover_risk.scoring import Scorer
    for w in client.scheduler_info()["workers"]:
        client.scatter(Scorer(model), workers=[w], hash=False).release()
    info["seconds_cluster_start"] = time.perf_counter() - t0
cpu0, sys0 = cpu(), sys_cpu()
workers0 = client.run(cpu) if client is not None else {}
wsys0 = client.run(sys_cpu) if client is not None else {}
t0 = time.perf_counter()
if client is not None:
    from distributed import get_task_stream
    from dask.utils import key_split
    with get_task_stream(client) as ts:
        res = tr.score_dataset(model, reg, out, engine=engine, batch_rows=int(batch_rows),
                               overwrite=True, progress=False, scheduler=client)
    tasks = {}
    for rec in ts.data:
        name = key_split(rec["key"])
        dur = sum(s["stop"] - s["start"] for s in rec["startstops"] if s["action"] == "compute")
        t = tasks.setdefault(name, [0, 0.0, 0.0])
        t[0] += 1; t[1] += dur; t[2] = max(t[2], dur)
    info["task_stream"] = tasks
else:
    res = tr.score_dataset(model, reg, out, engine=engine, batch_rows=int(batch_rows),
                           overwrite=True, progress=False)
info.update(res.info)
info["seconds"] = time.perf_counter() - t0
info["cpu_client"] = cpu() - cpu0
info["sys_client"] = sys_cpu() - sys0
if client is not None:
    workers1 = client.run(cpu)
    info["cpu_workers"] = sum(workers1[w] - workers0[w] for w in workers1)
    wsys1 = client.run(sys_cpu)
    info["sys_workers"] = sum(wsys1[w] - wsys0[w] for w in wsys1)
info["rows"] = res.rows_read
info["peak_mb_client"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if client is not None:
    mem = client.run(lambda: __import__("resource").getrusage(
        __import__("resource").RUSAGE_SELF).ru_maxrss / 1024)
    info["peak_mb_workers"] = sorted(mem.values())
    client.close(); cluster.close()
print(json.dumps(info, default=float))
"""


STEPS = r"""
import json, pickle, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
import turnover_risk as tr
from turnover_risk import panel as tp
from turnover_risk.engines._blocks import (_by_periods, _finish_units, _join_units, _locate,
                                           _part_from_files, _period_edges, _publish_run,
                                           _score_block, blocks_of, employee_weights, owners,
                                           unit_ranges, write_rows)
from turnover_risk.engines._scoring import _balanced_size, _model_panel_options
from turnover_risk.scoring import Scorer, combine, finish_groups, with_org_levels
reg_path, model_path, batch_rows, n_workers = sys.argv[1:5]
n_workers = int(n_workers)
reg = pickle.load(open(reg_path, "rb"))
model = tr.load_model(model_path)
scorer = Scorer(model)
cpu = time.process_time
out = {}
t = cpu(); base = tp.prepare_base(reg, **_model_panel_options(model, {})); out["base"] = [cpu() - t]
n, n_p = len(base.employee_ids), len(base.period_days)
t = cpu(); blocks = blocks_of(n, n_workers, weights=employee_weights(base))
own = owners(len(blocks), n_workers); ub = unit_ranges(base, n_workers)
out["cut blocks by work, unit ranges (client)"] = [cpu() - t]
step = _balanced_size(n, int(batch_rows) // n_p, n_workers)
bounds = np.array([lo for lo, _ in blocks] + [n])
import shutil, tempfile; from pathlib import Path
rows_dir = Path(tempfile.mkdtemp()) / "rows"
t = cpu(); files = write_rows(tp.person_tables(reg), n_workers, rows_dir)
out["write the person tables' row chunks (client)"] = [cpu() - t]
split, where = [], []
for i, f in enumerate(files):
    t = cpu(); where.append(_locate(base, f, bounds, i)); split.append(cpu() - t)
out["code + cut rows by block (per worker chunk)"] = split
parts, times, cuts, cut_t = [], [], [], []
for i, (lo, hi) in enumerate(blocks):
    t = cpu()
    parts.append(_part_from_files(base, lo, hi, *[w[i] for w in where]))
    times.append(cpu() - t)
    t = cpu(); cuts.append(parts[-1].for_units(base, ub)); cut_t.append(cpu() - t)
out["read rows, event indexes + unit partials (per block)"] = times
out["cut the block's partial by unit range (per block)"] = cut_t
shutil.rmtree(rows_dir.parent)
fin, fin_t = [], []
for j in range(len(ub) - 1):
    t = cpu()
    fin.append(_finish_units(base, int(ub[j]), int(ub[j + 1]), *[c[j] for c in cuts]))
    fin_t.append(cpu() - t)
out["unit features of a unit range (per worker)"] = fin_t
t = cpu(); unit = _join_units(*fin); out["join the unit ranges (per worker)"] = [cpu() - t] * n_workers
t = cpu(); whole_unit = tp.finish_context(base, parts)
out["unit features, all units (one process)"] = [cpu() - t]
assert all(np.array_equal(unit[k], whole_unit[k], equal_nan=True) for k in whole_unit)
spec = tp.context_spec(base)
keys = [*with_org_levels(["unit_id"], list(spec.group_cols), False), spec.period_col]
kw = dict(keys=keys, key_cols=["employee_id", "period"], out_cols=None, check_inputs=True,
          id_col="employee_id", first_row=0)
build, score, results = [], [], []
for b, (part, (lo, hi)) in enumerate(zip(parts, blocks)):
    t = cpu()
    results.append(_score_block(base, part, unit, lo, hi, scorer, step=step, index=b,
                                part_dir=None, **kw))
    whole = cpu() - t
    build.append(results[-1]["cpu_build"])
    score.append(whole - results[-1]["cpu_build"])
out["build the rows (per block, in sub-batches)"] = build
out["score + group sums (per block)"] = score
sums, comb = [], []
for w in range(n_workers):
    t = cpu(); sums.append(combine(*[r for b, r in enumerate(results) if own[b] == w]))
    comb.append(cpu() - t)
out["combine group sums (per worker)"] = comb
edges = _period_edges(base, n_workers)
cut_runs = []
for w in range(n_workers):
    t = cpu(); cut_runs.append(_by_periods(sums[w], edges, keys[-1])); comb[w] += cpu() - t
out["combine group sums (per worker)"] = comb  # and cut them by run of periods
slices = []
for j in range(len(edges) + 1):
    t = cpu(); _publish_run(keys, 5, ["unit_id"], *[c[j] for c in cut_runs])
    slices.append(cpu() - t)
out["publish: group table + privacy layer (per worker's periods)"] = slices
t = cpu(); total = combine(*sums)
out["combine the workers' sums (one process, reference)"] = [cpu() - t]
t = cpu(); finish_groups(total["groups"], keys, 5, by=["unit_id"])
out["publish in one process (reference, not in the sums)"] = [cpu() - t]
t = cpu(); tp.prepare_base(reg, **_model_panel_options(model, {}))
out["base, second call (imports warm)"] = [cpu() - t]
sizes = {"base": len(pickle.dumps(base)), "block's event indexes": len(pickle.dumps(parts[0].events)),
         "block's partial": len(pickle.dumps(parts[0].partial)),
         "a unit range's piece of it": len(pickle.dumps(cuts[0][0].partial)),
         "unit features": len(pickle.dumps(unit)),
         "person tables": len(pickle.dumps(tp.person_tables(reg))),
         "one worker's group sums": len(pickle.dumps(sums[0]["groups"]))}
print(json.dumps({"steps": out, "mb": {k: v / 1e6 for k, v in sizes.items()},
                  "blocks": [list(b) for b in blocks], "owners": own,
                  "unit ranges": [int(u) for u in ub], "sub-batch employees": step,
                  "employees": n}))
"""


MAKE = r"""
import pickle, sys, warnings
warnings.simplefilter("ignore")
import turnover_risk as tr
reg_path, model_path = sys.argv[1:3]
reg = tr.make_register(n_units=5556, years=6, random_state=0)
with open(reg_path, "wb") as f:
    pickle.dump(reg, f)
tr.TurnoverRiskModel(kind="logistic").fit(tr.build_panel(reg)).save(model_path)
"""


def _child(*args: object, code: str = CHILD) -> dict:
    out = _launcher.run([sys.executable, "-c", code, *map(str, args)])
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def run(
    register: str | Path,
    model: str | Path,
    work: str | Path,
    *,
    batch_rows: int = 262_144,
    workers: tuple[int, ...] = (2, 1),
    repeat: int = 1,
    dask_config: str = "library",
) -> dict[str, pd.DataFrame]:
    """Single process vs. Dask on local workers (the first of ``workers`` is broken down)."""
    work = Path(work)
    load0 = os.getloadavg()
    single: dict = {}
    runs: dict[int, dict] = {}
    for _ in range(max(1, repeat)):  # alternate, keep the fastest run of each
        s = _child(register, model, work / "groups_single.parquet", "pandas", batch_rows, 1,
                   dask_config)  # fmt: skip
        single = s if not single or s["seconds"] < single["seconds"] else single
        for w in workers:
            d = _child(register, model, work / f"groups_dask{w}.parquet", "dask", batch_rows, w,
                       dask_config)  # fmt: skip
            runs[w] = d if w not in runs or d["seconds"] < runs[w]["seconds"] else runs[w]
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
            "of which system": round(single["sys_client"], 1),
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
                "of which system": round(d["sys_client"] + d["sys_workers"], 1),
                "rows/s": round(d["rows"] / d["seconds"]),
                "peak MB": f"client {round(d['peak_mb_client'])}, workers "
                + ", ".join(str(round(m)) for m in d["peak_mb_workers"]),
                "x single": round(d["seconds"] / single["seconds"], 2),
                "speed-up": round(single["seconds"] / d["seconds"], 2),
            }
        )
    compare = pd.DataFrame(rows)
    compare.attrs["load"] = (load0, load1)
    w_max = max(workers)
    steps = _child(register, model, batch_rows, w_max, code=STEPS)
    per = pd.DataFrame(
        [
            {
                "step": name,
                "tasks": len(v),
                "cpu s total": round(sum(v), 2),
                "cpu s per task (mean)": round(sum(v) / len(v), 3),
                "max": round(max(v), 3),
            }
            for name, v in steps["steps"].items()
        ]
    )
    per.attrs["mb"] = steps["mb"]
    per.attrs["blocks"] = (len(steps["blocks"]), steps["sub-batch employees"], steps["employees"])
    expect = _expected(steps, w_max)
    dask = runs[workers[0]]
    cluster_wall = dask["seconds_cluster"]
    n_w = dask.get("workers") or workers[0]
    rows_b = [
        ("cluster start-up (once per session, not in the job time)", dask["seconds_cluster_start"]),
        ("base of the context, on the client (prepare_base)", dask["seconds_context"]),
        (
            "send base + scorer, write the person tables' rows for the workers",
            dask["seconds_send_register"],
        ),
        (
            "  of which: a copy of the base and the scorer on each worker",
            dask.get("seconds_copies", 0.0),
        ),
        (
            f"cluster phase, wall ({dask.get('blocks')} blocks, {dask['partitions']} batches, "
            f"{dask.get('unit_ranges')} unit ranges)",
            cluster_wall,
        ),
    ]
    ts = dict(dask.get("task_stream", {}))
    publish_tasks = ts.pop("publish_run", None)  # after the cluster phase
    busy = 0.0
    for name, (count, total, longest) in sorted(ts.items(), key=lambda kv: -kv[1][1]):
        busy += total
        rows_b.append((f"  task {name}: {count} tasks, longest {longest:.2f} s", total))
    rows_b.append(
        (f"  idle/scheduling/transfer = wall x {n_w} workers - task sum", cluster_wall * n_w - busy)
    )
    rows_b.append(
        (
            "  build + score tasks: CPU s (rest of their time: waiting for a core)",
            dask.get("seconds_tasks_cpu_sum", 0.0),
        )
    )
    rows_b.append(("publish on the workers, a run of periods each (privacy layer)",
                   dask.get("seconds_publish_slices", 0.0)))  # fmt: skip
    if publish_tasks is not None:
        count, total, longest = publish_tasks
        rows_b.append((f"  task publish_run: {count} tasks, longest {longest:.2f} s", total))
    rows_b.append(("write the group table (client)", dask.get("seconds_publish", 0.0)))
    rows_b.append(("single process total, for reference", single["seconds"]))
    breakdown = pd.DataFrame([{"phase": p, "seconds": round(v, 2)} for p, v in rows_b])
    check = pd.DataFrame(checks)
    return {
        "compare": compare,
        "breakdown": breakdown,
        "per-partition costs (CPU s, one process, steps run one after another)": per,
        "expected on idle cores (from the per-task CPU costs)": pd.DataFrame(expect),
        "check": check,
    }


def _expected(steps: dict, n_workers: int) -> pd.DataFrame:
    """Wall time on idle cores without Dask overhead, from the per-task CPU costs.

    The stages wait for each other (each needs all of the previous one's results), so the
    wall time is the client's serial steps plus, per stage, the busiest worker's sum of its
    tasks: chunk ``i`` on worker ``i``, block ``b`` on its owner, unit range ``j`` on worker
    ``j``. One process runs every step once, the unit features and the publish step whole.
    """
    st = steps["steps"]
    own = steps["owners"]

    def per_worker(*names: str) -> float:
        load = [0.0] * n_workers
        for name in names:
            for b, cost in enumerate(st[name]):
                load[own[b]] += cost
        return max(load)

    one = (
        st["base, second call (imports warm)"][0]
        + sum(st["code + cut rows by block (per worker chunk)"])
        + sum(st["read rows, event indexes + unit partials (per block)"])
        + st["unit features, all units (one process)"][0]
        + sum(st["build the rows (per block, in sub-batches)"])
        + sum(st["score + group sums (per block)"])
        + sum(st["combine group sums (per worker)"])
        + st["combine the workers' sums (one process, reference)"][0]
    )
    publish_one = st["publish in one process (reference, not in the sums)"][0]
    stages = {
        "client: base, blocks, row files": st["base, second call (imports warm)"][0]
        + st["cut blocks by work, unit ranges (client)"][0]
        + st["write the person tables' row chunks (client)"][0],
        "cut the row chunks (busiest worker)": max(
            st["code + cut rows by block (per worker chunk)"]
        ),
        "event indexes + partials, cut by unit range (busiest worker)": per_worker(
            "read rows, event indexes + unit partials (per block)",
            "cut the block's partial by unit range (per block)",
        ),
        "unit features of a range + join (busiest worker)": max(
            st["unit features of a unit range (per worker)"]
        )
        + st["join the unit ranges (per worker)"][0],
        "build + score (busiest worker)": per_worker(
            "build the rows (per block, in sub-batches)", "score + group sums (per block)"
        ),
        "combine a worker's sums, cut them by run of periods": max(
            st["combine group sums (per worker)"]
        ),
        "publish a run of periods: add its sums, privacy layer (busiest worker)": max(
            st["publish: group table + privacy layer (per worker's periods)"]
        ),
    }
    wall = sum(stages.values())
    stages[f"total on {n_workers} idle cores"] = wall
    stages["one process: all steps (unit features, publish whole)"] = one + publish_one
    stages["expected speed-up"] = (one + publish_one) / wall
    rows = [{"stage": k, f"{n_workers} workers: wall s": round(v, 2)} for k, v in stages.items()]
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--register", required=True, help="pickled Register")
    parser.add_argument("--model", required=True, help="model.skops")
    parser.add_argument("--work", required=True)
    parser.add_argument("--batch-rows", type=int, default=262_144)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; fastest kept")
    parser.add_argument("--make", action="store_true", help="simulate + train if missing")
    parser.add_argument(
        "--dask-config",
        choices=["library", "default"],
        default="library",
        help="library: turnover_risk.engines.CLUSTER_CONFIG; default: Dask's defaults "
        "(but glibc's malloc trimming in the workers)",
    )
    args = parser.parse_args(argv)
    _launcher.start()
    if args.make and not (Path(args.register).exists() and Path(args.model).exists()):
        Path(args.register).parent.mkdir(parents=True, exist_ok=True)
        Path(args.model).parent.mkdir(parents=True, exist_ok=True)
        _launcher.run([sys.executable, "-c", MAKE, args.register, args.model])
    tables = run(
        args.register,
        args.model,
        args.work,
        batch_rows=args.batch_rows,
        workers=args.workers,
        repeat=args.repeat,
        dask_config=args.dask_config,
    )
    load0, load1 = tables["compare"].attrs["load"]
    print(f"load average (1, 5, 15 min) before {load0}, after {load1}")
    for name, table in tables.items():
        print(f"\n{name}")
        print(table.to_string(index=False))
        if "blocks" in table.attrs:
            b, step, n = table.attrs["blocks"]
            print(f"{n} employees in {b} blocks, built and scored in sub-batches of {step}")
        if "mb" in table.attrs:
            print("pickled MB: " + ", ".join(f"{k} {v:.1f}" for k, v in table.attrs["mb"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
