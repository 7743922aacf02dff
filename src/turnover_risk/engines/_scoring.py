"""``score_dataset`` on Dask: partitions built (or read) and scored on the workers.

Every partition is one task that runs the scoring kernel's per-partition step
(:func:`turnover_risk.scoring.score_partition`) on a Dask panel partition or a group of row
groups of a panel Parquet file. A register is scored in a few large blocks of employees
pinned to the workers (:mod:`._blocks`; the client prepares only the employment-sized base of
the panel context), or, without a ``distributed`` client, in one task per partition
(:mod:`._context`). Group-level partials are combined in a tree on the workers
(:func:`turnover_risk.scoring.combine`); row-level risks are written by each worker to a part
file of a temporary folder that is renamed when every part is written. Each partition also
counts its inputs against the model's training profile (range, unseen categories, drift bins);
the counts are merged with the partials, so the drift table and the problem rows come out as
on the pandas path without gathering any rows.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from turnover_risk._engine import is_dask_collection
from turnover_risk._progress import bar
from turnover_risk.data import Register
from turnover_risk.engines._blocks import blocks_of, employee_weights, score_register
from turnover_risk.engines._cluster import (
    DEFAULT_CONNECT_TIMEOUT,
    _compute,
    _gather_register,
    _import_dask,
    _shared,
    connect,
)
from turnover_risk.engines._context import partitioned_context
from turnover_risk.engines._panel import _build_range, _chunks
from turnover_risk.panel import attach_spec, context_spec, prepare_base
from turnover_risk.privacy import DEFAULT_MIN_GROUP_SIZE
from turnover_risk.scoring import (
    DEFAULT_BATCH_ROWS,
    Scorer,
    ScoreResult,
    check_options,
    combine,
    finish_groups,
    needed_columns,
    parquet_files,
    replace_path,
    report_rejects,
    resolve_source,
    score_partition,
    source_spec,
    temporary_path,
    with_org_levels,
    write_group_table,
)


def _read_parquet_part(path: str, row_groups: list[int], columns: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        return pf.read_row_groups(row_groups, columns=columns).to_pandas()


def _build_and_score(base: Any, part: Any, unit: Any, lo: int, hi: int, scorer: Any, **kw):
    t0 = time.perf_counter()
    c0 = time.process_time()
    frame = _build_range(base, part, unit, lo, hi)
    t_build = time.perf_counter() - t0
    c_build = time.process_time() - c0
    res = score_partition(frame, scorer, **kw)
    res["seconds_build"] = t_build
    res["seconds"] += t_build  # task time = build + score
    res["cpu"] += c_build
    return res


def _read_and_score(path: str, row_groups: list[int], columns: list[str], scorer: Any, **kw):
    return score_partition(_read_parquet_part(path, row_groups, columns), scorer, **kw)


def _tree(tasks: list, fan_in: int = 8) -> Any:
    dask, _ = _import_dask()
    while len(tasks) > 1:
        tasks = [
            dask.delayed(combine, pure=True)(*tasks[i : i + fan_in])
            for i in range(0, len(tasks), fan_in)
        ]
    return tasks[0]


def score_dataset(
    model: Any,
    source: Any,
    out: str | Path,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    row_level: bool = False,
    overwrite: bool = False,
    scheduler: Any = None,
    by: Any = "unit_id",
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    progress: bool | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    **panel_options: Any,
):
    """:func:`turnover_risk.score_dataset` on Dask (see there for the parameters).

    Sources: a Dask DataFrame panel (its partitions are scored), a panel Parquet file or
    folder (one task per group of row groups of about ``batch_rows`` rows, so rejects keep
    their file and row), or a register / register folder (partitions of employees built on
    the workers in blocks pinned to them, their context too: :mod:`._blocks`).
    ``result.info`` splits the time into the base of the context (on the client), sending the
    register's rows to the workers, the cluster run (sum of build + score task times vs. wall
    time: the rest is the context's tasks, scheduling and transfer) and the publish step.
    """
    dask, _ = _import_dask()
    out, batch_rows, by_cols, min_group_size = check_options(
        out,
        batch_rows=batch_rows,
        by=by,
        min_group_size=min_group_size,
        overwrite=overwrite,
        row_level=row_level,
    )
    scorer = Scorer(model)
    t_start = time.perf_counter()
    info: dict[str, Any] = {}
    tmp = temporary_path(out)
    with connect(scheduler, timeout=connect_timeout) as client:
        columns: list[str] | None = None
        jobs: list[tuple[Any, tuple, dict]] = []  # (function, args, extra kwargs)
        blocks: list[tuple[int, int]] = []  # register on a client: pinned blocks instead
        table = None
        source = resolve_source(source)
        if isinstance(source, Register):
            register = _gather_register(source, client)
            t0 = time.perf_counter()
            base = prepare_base(register, **_model_panel_options(model, panel_options))
            info["seconds_context"] = time.perf_counter() - t0
            spec = context_spec(base)
            n_employees, n_periods = len(base.employee_ids), len(base.period_days)
            n_workers = max(1, len(client.scheduler_info()["workers"])) if client else 1
            size = _balanced_size(n_employees, batch_rows // max(1, n_periods), n_workers)
            ranges = _chunks(n_employees, size)
            if client is not None:  # blocks of employees pinned to the workers (._blocks)
                blocks = blocks_of(n_employees, n_workers, weights=employee_weights(base))
            else:  # Dask's local scheduler: one task per partition (._context)
                t0 = time.perf_counter()
                base_d, parts, unit = partitioned_context(register, base, ranges, client, 1)
                info["seconds_send_register"] = time.perf_counter() - t0
                for i, (part, (lo, hi)) in enumerate(zip(parts, ranges, strict=True)):
                    jobs.append(
                        (
                            _build_and_score,
                            (base_d, part, unit, lo, hi),
                            {"label": f"<register partition {i}>", "first_row": 0},
                        )
                    )
        elif is_dask_collection(source):
            spec = source_spec(source._meta, model)
            cols = needed_columns(spec, scorer, by_cols, list(source.columns), "the Dask panel")
            for i, part in enumerate(source[cols].to_delayed()):
                jobs.append(
                    (score_partition, (part,), {"label": f"<partition {i}>", "first_row": 0})
                )
        elif isinstance(source, str | Path):
            import pyarrow.parquet as pq

            files = parquet_files(source)
            schema = pq.read_schema(files[0])
            spec = source_spec(schema, model)
            columns = needed_columns(spec, scorer, by_cols, schema.names, files[0].name)
            for f in files:
                meta = pq.ParquetFile(f).metadata
                group, rows, first = [], 0, 0
                for g in range(meta.num_row_groups):
                    group.append(g)
                    rows += meta.row_group(g).num_rows
                    if rows >= batch_rows or g == meta.num_row_groups - 1:
                        jobs.append(
                            (
                                _read_and_score,
                                (str(f), group, columns),
                                {"label": f.name, "first_row": first},
                            )
                        )
                        first += rows
                        group, rows = [], 0
        elif isinstance(source, pd.DataFrame):
            dd = _import_dask()[1]
            spec = source_spec(source, model)
            n_parts = max(1, -(-len(source) // batch_rows))
            ddf = dd.from_pandas(source, npartitions=n_parts, sort=False)
            attach_spec(ddf._meta, spec)
            return score_dataset(
                model,
                ddf,
                out,
                batch_rows=batch_rows,
                row_level=row_level,
                overwrite=overwrite,
                scheduler=client,
                by=by,
                min_group_size=min_group_size,
                progress=progress,
                connect_timeout=connect_timeout,
            )
        else:
            raise TypeError(
                f"source must be a path, a Register, a pandas or Dask DataFrame; got "
                f"{type(source).__name__}."
            )
        keys = [*with_org_levels(by_cols, list(spec.group_cols), row_level), spec.period_col]
        key_cols = [*spec.id_cols, spec.period_col]
        out_cols = [*spec.id_cols, *spec.group_cols, spec.period_col]
        if isinstance(source, str | Path) or is_dask_collection(source):
            cols_avail = columns if columns is not None else list(source.columns)
            out_cols = [c for c in out_cols if c in cols_avail]
        common = {"keys": keys, "key_cols": key_cols, "out_cols": out_cols, "check_inputs": True,
                  "id_col": spec.id_cols[0] if spec.id_cols else None}  # fmt: skip
        scorer_d = _shared(client, scorer, "scorer") if jobs else None
        if row_level:
            tmp.mkdir(parents=True)
        tasks = []
        for i, (fn, args, extra) in enumerate(jobs):
            part_path = str(tmp / f"part-{i:05d}.parquet") if row_level else None
            tasks.append(
                dask.delayed(fn, pure=False)(
                    *args, scorer_d, part_path=part_path, **common, **extra
                )
            )
        try:
            t0 = time.perf_counter()
            if blocks:
                progress_bar = bar(total=len(blocks), desc="dask blocks", unit="blocks",
                                   show=progress)  # fmt: skip
                rows_dir = temporary_path(out)  # the person tables' rows for the workers
                with progress_bar:
                    total, table = score_register(
                        client, register, base, scorer, step=size, blocks=blocks,
                        part_dir=str(tmp) if row_level else None, rows_dir=rows_dir,
                        progress_bar=progress_bar,
                        info=info, first_row=0,
                        publish=None if row_level else (keys, min_group_size, by_cols),
                        **common,
                    )  # fmt: skip
            elif row_level or client is None:
                results = _compute(client, tasks, progress=progress)
                total = combine(*results)
            else:
                total = (
                    _compute(client, [_tree(tasks)], progress=progress)[0] if tasks else combine()
                )
            if not blocks:
                info["seconds_cluster"] = time.perf_counter() - t0
            # asked while connected: a client made here from an address is closed after
            info["workers"] = (
                len(client.scheduler_info()["workers"]) if client is not None else None
            )
            if row_level:
                replace_path(tmp, out, overwrite=overwrite)
                table = None
            else:
                t0 = time.perf_counter()
                if table is None:  # else published on the workers, by periods (._blocks)
                    table = finish_groups(total["groups"], keys, min_group_size, by=by_cols)
                write_group_table(table, out, overwrite=overwrite)
                info["seconds_publish"] = time.perf_counter() - t0
        except BaseException:
            import shutil

            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
            raise
    info.update(
        {
            "partitions": total["parts"] if blocks else len(jobs),
            "seconds_tasks_sum": total["seconds"],
            "seconds_tasks_cpu_sum": total.get("cpu", 0.0),
            "seconds_build_sum": total.get("seconds_build", 0.0),
            "scorer": total["scorer"],
        }
    )
    rejected = report_rejects(total["rejects"], total["rejected"], total["rows"], stacklevel=3)
    # the input checks and drift table, merged from the partitions' counts (no rows gathered)
    checks = total.get("checks")
    drift, problems = checks.finish(stacklevel=3) if checks is not None else (None, None)
    return ScoreResult(
        path=out,
        rows_read=total["rows"],
        rows_scored=total["rows"] - total["rejected"],
        rows_rejected=total["rejected"],
        rejected=rejected,
        table=table,
        seconds=time.perf_counter() - t_start,
        engine="dask",
        row_level=row_level,
        info=info,
        drift=drift,
        input_problems=problems if problems is not None else pd.DataFrame(),
    )


def _model_panel_options(model: Any, options: dict) -> dict:
    """The panel settings the model was trained with, overridden by ``options`` (as
    :func:`turnover_risk.scoring.panel_context_for` does)."""
    spec = getattr(model, "spec_", None)
    opts: dict[str, Any] = {}
    if spec is not None:
        opts = {"freq": spec.freq, "horizon": spec.horizon, "outcome": spec.outcome,
                "scope": spec.scope}  # fmt: skip
        if "+" in str(spec.outcome):
            opts["outcome"] = tuple(str(spec.outcome).split("+"))
    return {**opts, **options}


def _balanced_size(n: int, target: int, n_workers: int) -> int:
    """Employees per partition near ``target`` with a multiple of ``n_workers`` partitions.

    Equal-sized partitions in a multiple of the worker count end together, so no worker
    idles through the last partition.
    """
    target = max(64, target)
    parts = max(1, -(-n // target))
    parts = -(-parts // n_workers) * n_workers
    return max(1, -(-n // parts))
