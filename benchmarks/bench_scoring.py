"""Benchmark: training, streaming scoring throughput and flat scoring memory.

Given a national panel written as Parquet (``run_all.py`` makes one), measures

* training time and peak memory of ``TurnoverRiskModel`` (logistic, gbm) on the labelled rows;
* scoring throughput of :func:`turnover_risk.score_dataset` (rows/s, *including* reading the
  Parquet record batches and assembling the model matrix from them: imputation, indicators,
  one-hot), group-level output, for both models;
* peak memory of scoring 2 million vs. 20 million panel rows (the 20 million are ten copies of
  the 2 million in one Parquet folder), each in a fresh process (``ru_maxrss``).

Every measurement runs in its own subprocess so one peak does not hide another.

Run::

    python benchmarks/bench_scoring.py --panel /tmp/trbench/panel.parquet --work /tmp/trbench
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

import _launcher

TRAIN = r"""
import json, resource, sys, time, warnings
import pandas as pd
import turnover_risk as tr
warnings.simplefilter("ignore")
panel_path, kind, model_path, max_rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
panel = pd.read_parquet(panel_path)
labelled = panel[panel["left_within_horizon"].notna()]
if max_rows and len(labelled) > max_rows:
    labelled = labelled.sample(n=max_rows, random_state=0)
labelled = labelled.copy()
labelled.attrs = panel.attrs
del panel
t0 = time.perf_counter()
model = tr.TurnoverRiskModel(kind=kind, random_state=0).fit(labelled)
seconds = time.perf_counter() - t0
model.save(model_path)
print(json.dumps({"rows": len(labelled), "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SCORE = r"""
import json, resource, sys, time, warnings
import turnover_risk as tr
warnings.simplefilter("ignore")
model_path, source, out, batch_rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
model = tr.load_model(model_path)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
res = tr.score_dataset(model, source, out, batch_rows=batch_rows, overwrite=True,
                       progress=False)
print(json.dumps({"rows": res.rows_read, "seconds": res.seconds,
                  "rows_per_s": res.rows_per_second, "scorer": res.info["scorer"],
                  "seconds_model": res.info["seconds_scoring"],
                  "threads": res.info.get("threads", 1), "path": res.info.get("path", "?"),
                  "base_mb": base,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(code: str, *args: object) -> dict:
    out = _launcher.run([sys.executable, "-c", code, *map(str, args)])
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def make_copies(panel_path: Path, work: Path, rows: int = 2_000_000, copies: int = 10):
    """A 2-million-row Parquet file and a folder holding ``copies`` of it."""
    import pyarrow.parquet as pq

    small = work / "panel_2m.parquet"
    big = work / "panel_20m"
    if not small.exists():
        pf = pq.ParquetFile(panel_path)
        taken, batches = 0, []
        for batch in pf.iter_batches(batch_size=262_144):
            batches.append(batch.slice(0, min(batch.num_rows, rows - taken)))
            taken += batches[-1].num_rows
            if taken >= rows:
                break
        import pyarrow as pa

        table = pa.Table.from_batches(batches)
        if table.num_rows < rows:  # a smaller national panel: repeat it up to `rows`
            reps = -(-rows // table.num_rows)
            table = pa.concat_tables([table] * reps).slice(0, rows)
        pq.write_table(
            table.replace_schema_metadata(pf.schema_arrow.metadata), small, row_group_size=262_144
        )
    big.mkdir(exist_ok=True)
    for i in range(copies):
        target = big / f"part-{i:02d}.parquet"
        if not target.exists():
            os.link(small, target)  # same bytes, no extra disk; still read ten times
    return small, big


def run(
    panel_path: str | Path,
    work: str | Path,
    *,
    gbm_train_rows: int = 1_000_000,
    batch_rows: int = 262_144,
) -> dict[str, pd.DataFrame]:
    """All measurements; returns the training, throughput and memory tables."""
    panel_path, work = Path(panel_path), Path(work)
    work.mkdir(parents=True, exist_ok=True)
    train_rows, score_rows, memory_rows = [], [], []
    models = {}
    for kind, cap in (("logistic", 0), ("gbm", gbm_train_rows)):
        path = work / f"model_{kind}.skops"
        r = _child(TRAIN, panel_path, kind, path, cap)
        models[kind] = path
        train_rows.append(
            {
                "model": kind,
                "training rows": r["rows"],
                "seconds": round(r["seconds"], 1),
                "peak MB": round(r["peak_mb"]),
            }
        )
    for kind, path in models.items():
        r = _child(SCORE, path, panel_path, work / f"groups_{kind}.parquet", batch_rows)
        score_rows.append(
            {
                "model": kind,
                "rows": r["rows"],
                "seconds": round(r["seconds"], 2),
                "rows/s": round(r["rows_per_s"]),
                "scoring-step rows/s": round(r["rows"] / r["seconds_model"]),
                "scorer": f"{r['scorer']} ({r['path']}, {r['threads']} threads)",
                "peak MB": round(r["peak_mb"]),
                "target rows/s": 1_000_000 if kind == "logistic" else 300_000,
            }
        )
    small, big = make_copies(panel_path, work)
    for label, source in (("2 million", small), ("20 million", big)):
        r = _child(SCORE, models["logistic"], source, work / "groups_mem.parquet", batch_rows)
        memory_rows.append(
            {
                "panel rows": label,
                "rows read": r["rows"],
                "seconds": round(r["seconds"], 1),
                "rows/s": round(r["rows_per_s"]),
                "after import MB": round(r["base_mb"]),
                "peak MB": round(r["peak_mb"]),
            }
        )
    mem = pd.DataFrame(memory_rows)
    mem["peak / peak(2M)"] = (mem["peak MB"] / mem["peak MB"].iloc[0]).round(3)
    return {
        "training": pd.DataFrame(train_rows),
        "scoring": pd.DataFrame(score_rows),
        "memory": mem,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--panel", required=True, help="national panel .parquet")
    parser.add_argument("--work", required=True, help="folder for models and copies")
    parser.add_argument("--gbm-train-rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    _launcher.start()  # children forked from a tiny process: their peak memory is their own
    tables = run(args.panel, args.work, gbm_train_rows=args.gbm_train_rows)
    for name, table in tables.items():
        print(f"\n{name}")
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
