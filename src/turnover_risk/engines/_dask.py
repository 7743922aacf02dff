"""The Dask engine: the same functions on a cluster when the data outgrow one machine.

Install with ``pip install "turnover-risk[dask]"``; nothing here imports Dask at module level.
The public functions take ``engine="dask"`` (or a Dask DataFrame) and land here:

* :func:`build_panel` returns a Dask DataFrame of the panel whose partitions are disjoint sets
  of employees, so a person's history is never split. The shared state (period grid, episodes,
  unit-level features: :func:`turnover_risk.features.prepare_context`) is computed once on the
  client and sent to every worker once; each partition is
  :func:`turnover_risk.features.build_partition` of its employees, so concatenating the
  partitions gives exactly the pandas panel.
* :func:`score_dataset` builds (or reads) and scores partitions on the workers; from a
  register with a client, the context is prepared on one worker (the client sends only the
  register) and copied worker to worker, in a multiple of the worker count of equal
  partitions. Group-level
  sums are combined in a tree on the workers; row-level risks are written by each worker to a
  part file of a temporary folder that is renamed when every part is written.
* :func:`turnover_rate`, :func:`sick_leave_rate` and :func:`flag_groups` accept Dask inputs.
  Rates need every spell of a person and, for their intervals, per-person moments of whole
  groups; the spell tables are small (about one row per person and job: ~1 million rows for a
  whole national sector), so Dask reads, filters and projects them and the exact rate kernel
  runs once on the gathered columns. ``flag_groups`` in retrospective mode pulls only the rows
  of the assessed period; prospective mode refits the model on bootstrap samples of the
  training rows, which needs them in one process.

Connecting: ``scheduler`` is an address (``"tcp://10.0.0.5:8786"``), a
``distributed.Client``, or ``None`` (the current client if there is one, else Dask's default
scheduler). An address that does not answer within ``connect_timeout`` seconds raises
:class:`ConnectionError` naming it.
"""

from __future__ import annotations

import contextlib
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk._engine import ENGINES, check_engine, is_dask_collection, uses_dask
from turnover_risk._progress import bar
from turnover_risk._warnings import TurnoverRiskWarning
from turnover_risk.data._schema import TABLE_NAMES, Register
from turnover_risk.panel._spec import ATTRS_KEY, PanelSpec, attach_spec
from turnover_risk.privacy._suppression import DEFAULT_MIN_GROUP_SIZE, check_min_group_size

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "ENGINES",
    "build_panel",
    "check_engine",
    "compute_panel",
    "connect",
    "flag_groups",
    "is_dask_collection",
    "score_dataset",
    "sick_leave_rate",
    "turnover_rate",
    "uses_dask",
]

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a scheduler address to answer."""
EMPLOYEES_PER_PARTITION = 5000
"""Default employees per partition of a Dask panel (about 250 000 monthly rows)."""
_EXTRA = 'pip install "turnover-risk[dask]"'


def _import_dask():
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as err:
        raise ImportError(
            f"engine='dask' needs the optional dependencies dask[dataframe] and distributed; "
            f"install them with: {_EXTRA}"
        ) from err
    return dask, dd


# --------------------------------------------------------------------------------------------
# connecting
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def connect(scheduler: Any = None, *, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> Iterator[Any]:
    """Yield a ``distributed.Client`` for ``scheduler`` (or ``None`` for Dask's default).

    Parameters
    ----------
    scheduler : str, distributed.Client or None
        An address such as ``"tcp://10.0.0.5:8786"`` (a client is opened and closed again), a
        client (used as is), or ``None``: the current client if one exists, else ``None``
        (Dask's default local scheduler).
    timeout : float
        Seconds to wait for an address to answer.

    Raises
    ------
    ConnectionError
        If no scheduler answers at the address within ``timeout`` seconds.
    """
    _import_dask()
    try:
        import distributed
    except ImportError as err:  # pragma: no cover
        raise ImportError(
            f"a Dask scheduler address needs the optional dependency distributed; {_EXTRA}"
        ) from err
    if scheduler is None:
        try:
            yield distributed.get_client()
        except ValueError:
            yield None
        return
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if not isinstance(scheduler, str):
        raise TypeError(
            f"scheduler must be an address string such as 'tcp://10.0.0.5:8786', a "
            f"distributed.Client or None; got {type(scheduler).__name__}."
        )
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise ConnectionError(
            f"no Dask scheduler answered at {scheduler!r} within {timeout:g} s "
            f"(waited {time.perf_counter() - t0:.1f} s: {type(err).__name__}). Check the address "
            "and port (the scheduler prints it: 'Scheduler at: tcp://...'), that it is running "
            "('dask scheduler' or your cluster manager) and that no firewall blocks it."
        ) from err
    try:
        yield client
    finally:
        client.close()


def _compute(client: Any, tasks: list, *, rows_of=None, progress: bool | None = None) -> list:
    """Compute delayed ``tasks``; with a client, drive a progress bar as they finish."""
    dask, _ = _import_dask()
    if client is None:
        return list(dask.compute(*tasks))
    from distributed import as_completed

    with client.as_current():
        futures = client.compute(tasks)
    index = {f.key: i for i, f in enumerate(futures)}
    results: list = [None] * len(futures)
    progress_bar = bar(total=len(futures), desc="dask partitions", unit="parts", show=progress)
    try:
        for fut in as_completed(futures, loop=client.loop):
            results[index[fut.key]] = fut.result()
            progress_bar.update(1)
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        progress_bar.close()
    return results


def _shared(client: Any, obj: Any, name: str):
    """A delayed handle on a large object sent to the workers once."""
    dask, _ = _import_dask()
    if client is not None:
        with client.as_current():
            fut = client.scatter(obj, broadcast=True, hash=False)
            return dask.delayed(fut)
    return dask.delayed(obj, name=f"{name}-{uuid.uuid4().hex}", pure=False)


# --------------------------------------------------------------------------------------------
# panel
# --------------------------------------------------------------------------------------------


def _build_chunk(context: Any, lo: int, hi: int) -> pd.DataFrame:
    from turnover_risk.panel._build import build_partition

    part = build_partition(context, context.employee_ids[lo:hi])
    return part


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def _check_partition_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise ValueError(f"employees_per_partition={size!r} must be a positive integer, e.g. 5000.")
    return int(size)


def build_panel(
    register: Register,
    *,
    employees_per_partition: int = EMPLOYEES_PER_PARTITION,
    engine: str = "dask",
    **options: Any,
):
    """The panel as a Dask DataFrame, partitioned by employee.

    Parameters
    ----------
    register : Register
        The register (pandas tables; Dask tables are computed first, they are small).
    employees_per_partition : int
        Employees per partition; each partition holds whole person histories.
    engine : {"dask"}
        Accepted for symmetry with :func:`turnover_risk.build_panel`; must be ``"dask"``.
    **options
        Options of :func:`turnover_risk.build_panel` (``freq``, ``horizon``, ...).

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; partitions in employee order. The shared context is computed now and is part of
        the task graph once (every partition task depends on it). ``compute_panel(ddf)``
        equals ``tr.build_panel(register, **options)`` row for row.
    """
    if check_engine(engine) != "dask":
        raise ValueError(f"distributed.build_panel runs on Dask; got engine={engine!r}.")
    _import_dask()
    from turnover_risk.panel._build import _spec, prepare_context

    register = _gather_register(register)
    size = _check_partition_size(employees_per_partition)
    context = prepare_context(register, **options)
    return _panel_from_context(context, size, None, spec=_spec(context))


def _panel_from_context(context: Any, size: int, client: Any, *, spec: PanelSpec):
    dask, dd = _import_dask()
    meta = _build_chunk(context, 0, 0).iloc[:0]
    shared = _shared(client, context, "panel-context")
    parts = [
        dask.delayed(_build_chunk, pure=True)(shared, lo, hi)
        for lo, hi in _chunks(len(context.employee_ids), size)
    ]
    # the spec rides on the meta frame (Dask collections have no attrs of their own)
    return dd.from_delayed(parts, meta=attach_spec(meta, spec), verify_meta=False)


def _compute_one(obj: Any, client: Any) -> Any:
    if client is None:
        return obj.compute()
    with client.as_current():
        return obj.compute(scheduler=client)


def compute_panel(ddf: Any, *, scheduler: Any = None) -> pd.DataFrame:
    """Compute a Dask panel into one pandas panel (fresh index, spec attached).

    ``scheduler`` as in :func:`connect` (default: the current client, else Dask's default).
    """
    spec = _ddf_spec(ddf)
    with connect(scheduler) as client:
        out = _compute_one(ddf, client).reset_index(drop=True)
    if spec is not None:
        attach_spec(out, spec)
    return out


def _ddf_spec(ddf: Any) -> PanelSpec | None:
    attrs = getattr(getattr(ddf, "_meta", None), "attrs", None)
    if attrs and ATTRS_KEY in attrs:
        raw = attrs[ATTRS_KEY]
        return raw if isinstance(raw, PanelSpec) else PanelSpec.from_dict(raw)
    return None


# --------------------------------------------------------------------------------------------
# rates and flags (gathered: see the module notes)
# --------------------------------------------------------------------------------------------


def _gather_register(data: Any, client: Any = None) -> Any:
    """Compute Dask tables: a Dask frame, or a mapping of table name -> (Dask) DataFrame.

    A mapping becomes a :class:`~turnover_risk.Register` (a Register itself holds pandas
    tables only, so Dask tables are passed as ``{"employment": ddf, "absences": ddf, ...}``,
    optionally with ``"metadata"``: the register's metadata, e.g. its observation window).
    """
    if is_dask_collection(data):
        return _compute_one(data, client)
    if isinstance(data, dict):
        data = dict(data)
        metadata = data.pop("metadata", None)
        unknown = [k for k in data if k not in TABLE_NAMES]
        if unknown:
            raise ValueError(
                f"tables {unknown} are not register tables; use the names: "
                f"{', '.join(TABLE_NAMES)}."
            )
        dask, _ = _import_dask()
        names = [n for n, t in data.items() if is_dask_collection(t)]
        kw = {"scheduler": client} if client is not None else {}
        computed = dict(zip(names, dask.compute(*[data[n] for n in names], **kw), strict=True))
        extra = {"metadata": metadata} if metadata is not None else {}
        return Register(**{**data, **computed}, **extra)
    return data


def turnover_rate(data: Any, *, scheduler: Any = None, **options: Any) -> pd.DataFrame:
    """:func:`turnover_risk.turnover_rate` on Dask inputs (identical numbers).

    ``data`` may be a Dask employment frame (e.g. ``dd.read_parquet`` over many files) or a
    mapping ``{"employment": ddf, "units": df, ...}`` of (Dask) tables; they are read and
    projected on the cluster and the exact kernel runs once on the gathered spells (see the
    module notes).
    """
    from turnover_risk.rates import turnover_rate as _pandas

    with connect(scheduler) as client:
        data = _gather_register(data, client)
    return _pandas(data, **options)


def sick_leave_rate(data: Any, *, scheduler: Any = None, **options: Any) -> pd.DataFrame:
    """:func:`turnover_risk.sick_leave_rate` on Dask inputs (identical numbers).

    ``data``: a Register, or a mapping ``{"employment": ddf, "absences": ddf, ...}`` of (Dask)
    tables.
    """
    from turnover_risk.rates import sick_leave_rate as _pandas

    with connect(scheduler) as client:
        data = _gather_register(data, client)
    return _pandas(data, **options)


def flag_groups(model: Any, panel: Any, *, scheduler: Any = None, **options: Any):
    """:func:`turnover_risk.flag_groups` on a Dask panel (identical result).

    Retrospective mode computes the labelled share per period on the cluster and pulls only
    the rows of the assessed period; prospective mode gathers the panel (its bootstrap refits
    train on every labelled row).
    """
    from turnover_risk.groups._flag import MAX_CENSORED_SHARE
    from turnover_risk.groups._flag import flag_groups as _pandas

    if not is_dask_collection(panel):
        return _pandas(model, panel, **options)
    spec = _ddf_spec(panel)
    if spec is None:
        raise ValueError(
            "the Dask panel carries no panel spec; build it with "
            "tr.build_panel(register, engine='dask')."
        )
    with connect(scheduler) as client:
        if options.get("mode", "prospective") != "retrospective":
            return _pandas(model, compute_panel(panel, scheduler=client), **options)
        period = options.get("period")
        if period is None:
            known = (
                panel[[spec.period_col, spec.label_col]]
                .assign(_known=~panel[spec.label_col].isna())
                .groupby(spec.period_col)["_known"]
                .mean()
            )
            known = _compute_one(known, client).sort_index()
            elapsed = known[known >= 1 - MAX_CENSORED_SHARE]
            if len(elapsed):
                period = elapsed.index.max()
            elif len(known) and known.max() > 0:
                period = known[known == known.max()].index.max()
            else:
                return _pandas(model, compute_panel(panel, scheduler=client), **options)
        ts = pd.Timestamp(period)
        rows = _compute_one(panel[panel[spec.period_col] == ts], client).reset_index(drop=True)
        attach_spec(rows, spec)
    return _pandas(model, rows, **{**options, "period": ts})


# --------------------------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------------------------


def _read_parquet_part(path: str, row_groups: list[int], columns: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        return pf.read_row_groups(row_groups, columns=columns).to_pandas()


def _score_part(
    frame: pd.DataFrame,
    scorer: Any,
    *,
    keys: list[str],
    key_cols: list[str],
    label: str,
    first_row: int,
    out_cols: list[str] | None,
    part_path: str | None,
):
    """Score one partition: bad rows out, risks, then group sums or a part file."""
    from turnover_risk.scoring._score_dataset import (
        MAX_REPORTED_REJECTS,
        _GroupAccumulator,
        find_bad_rows,
        row_level_schema,
        row_level_table,
    )

    t0 = time.perf_counter()
    c0 = time.process_time()
    key_cols = [c for c in key_cols if c in frame.columns]
    bad, problems = find_bad_rows(frame, scorer, key_cols)
    good = frame.loc[~bad] if bad.any() else frame
    risk = scorer(good)
    groups = None
    if part_path is not None:
        import pyarrow.parquet as pq

        schema = row_level_schema(frame, out_cols)
        pq.write_table(row_level_table(good, out_cols, risk, schema), part_path)
    else:
        acc = _GroupAccumulator(keys)
        acc.add(good, risk)
        groups = acc.table
    rejects = [(label, first_row + p, c, v, why) for p, c, v, why in problems]
    return {
        "groups": groups,
        "rows": len(frame),
        "rejected": int(bad.sum()),
        "rejects": rejects[:MAX_REPORTED_REJECTS],
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "scorer": scorer.kind,
    }


def _build_and_score(context: Any, lo: int, hi: int, scorer: Any, **kw):
    t0 = time.perf_counter()
    c0 = time.process_time()
    frame = _build_chunk(context, lo, hi)
    t_build = time.perf_counter() - t0
    c_build = time.process_time() - c0
    res = _score_part(frame, scorer, **kw)
    res["seconds_build"] = t_build
    res["seconds"] += t_build  # task time = build + score
    res["cpu"] += c_build
    return res


def _read_and_score(path: str, row_groups: list[int], columns: list[str], scorer: Any, **kw):
    return _score_part(_read_parquet_part(path, row_groups, columns), scorer, **kw)


def _combine(*parts: dict) -> dict:
    """Merge partition results (group sums added; counts and rejects kept)."""
    tables = [p["groups"] for p in parts if p["groups"] is not None and len(p["groups"])]
    if tables:
        both = pd.concat(tables)
        groups = both.groupby(level=list(range(both.index.nlevels)), dropna=False, sort=False).sum()
    else:
        groups = None
    rejects = [r for p in parts for r in p["rejects"]]
    return {
        "groups": groups,
        "rows": sum(p["rows"] for p in parts),
        "rejected": sum(p["rejected"] for p in parts),
        "rejects": rejects[:1000],
        "seconds": sum(p["seconds"] for p in parts),
        "cpu": sum(p.get("cpu", 0.0) for p in parts),
        "seconds_build": sum(p.get("seconds_build", 0.0) for p in parts),
        "scorer": ",".join(sorted({s for p in parts for s in p["scorer"].split(",")})),
        "parts": sum(p.get("parts", 1) for p in parts),
    }


def _tree(tasks: list, fan_in: int = 8) -> Any:
    dask, _ = _import_dask()
    while len(tasks) > 1:
        tasks = [
            dask.delayed(_combine, pure=True)(*tasks[i : i + fan_in])
            for i in range(0, len(tasks), fan_in)
        ]
    return tasks[0]


def score_dataset(
    model: Any,
    source: Any,
    out: str | Path,
    *,
    batch_rows: int = 262_144,
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
    the workers from one shared context). ``result.info`` splits the time into context
    preparation, sending it to the workers, and the cluster run (sum of task times vs. wall
    time: the rest is scheduling and transfer).
    """
    dask, _ = _import_dask()
    from turnover_risk.scoring._score_dataset import (
        _REJECT_COLUMNS,
        ScoreResult,
        _check_batch_rows,
        _check_by,
        _frame_spec,
        _is_register_folder,
        _model_spec,
        _needed,
        _Scorer,
        _spec_from_metadata,
        check_output,
        finish_groups,
        panel_context_for,
        parquet_files,
        replace_path,
        temporary_path,
        write_group_table,
    )

    batch_rows = _check_batch_rows(batch_rows)
    by_cols = _check_by(by)
    min_group_size = check_min_group_size(min_group_size)
    out = check_output(out, overwrite=overwrite, row_level=row_level)
    scorer = _Scorer(model)
    t_start = time.perf_counter()
    info: dict[str, Any] = {}
    tmp = temporary_path(out)
    with connect(scheduler, timeout=connect_timeout) as client:
        columns: list[str] | None = None
        jobs: list[tuple[Any, tuple, dict]] = []  # (function, args, extra kwargs)
        if isinstance(source, str | Path) and _is_register_folder(Path(source)):
            from turnover_risk.data._io import read_register

            source = read_register(source, errors="raise")
        if isinstance(source, Register):
            register = _gather_register(source, client)
            if client is None:
                from turnover_risk.panel._build import _spec

                t0 = time.perf_counter()
                context = panel_context_for(model, register, **panel_options)
                info["seconds_context"] = time.perf_counter() - t0
                spec = _spec(context)
                n_employees, n_periods = len(context.employee_ids), len(context.period_days)
                shared = _shared(client, context, "panel-context")
                n_workers = 1
            else:
                shared, spec, n_employees, n_periods = _context_on_a_worker(
                    client, model, register, panel_options, info
                )
                n_workers = max(1, len(client.scheduler_info()["workers"]))
            size = _balanced_size(n_employees, batch_rows // max(1, n_periods), n_workers)
            for i, (lo, hi) in enumerate(_chunks(n_employees, size)):
                jobs.append(
                    (
                        _build_and_score,
                        (shared, lo, hi),
                        {"label": f"<register partition {i}>", "first_row": 0},
                    )
                )
        elif is_dask_collection(source):
            spec = _ddf_spec(source) or _frame_spec(source._meta, model)
            cols = _needed(spec, scorer, by_cols, list(source.columns), "the Dask panel")
            for i, part in enumerate(source[cols].to_delayed()):
                jobs.append((_score_part, (part,), {"label": f"<partition {i}>", "first_row": 0}))
        elif isinstance(source, str | Path):
            import pyarrow.parquet as pq

            files = parquet_files(source)
            schema = pq.read_schema(files[0])
            spec = _spec_from_metadata(schema.metadata) or _model_spec(model)
            columns = _needed(spec, scorer, by_cols, schema.names, files[0].name)
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
            spec = _frame_spec(source, model)
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
        keys = [*by_cols, spec.period_col]
        key_cols = [*spec.id_cols, spec.period_col]
        out_cols = [*spec.id_cols, *spec.group_cols, spec.period_col]
        if isinstance(source, str | Path) or is_dask_collection(source):
            cols_avail = columns if columns is not None else list(source.columns)
            out_cols = [c for c in out_cols if c in cols_avail]
        common = {"keys": keys, "key_cols": key_cols, "out_cols": out_cols}
        scorer_d = _shared(client, scorer, "scorer")
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
            if row_level or client is None:
                results = _compute(client, tasks, progress=progress)
                total = _combine(*results) if results else _combine(_empty_part())
            else:
                total = (
                    _compute(client, [_tree(tasks)], progress=progress)[0]
                    if tasks
                    else (_combine(_empty_part()))
                )
            info["seconds_cluster"] = time.perf_counter() - t0
            if row_level:
                replace_path(tmp, out)
                table = None
            else:
                table = finish_groups(total["groups"], keys, min_group_size)
                write_group_table(table, out)
        except BaseException:
            import shutil

            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
            raise
    info.update(
        {
            "partitions": len(jobs),
            "seconds_tasks_sum": total["seconds"],
            "seconds_tasks_cpu_sum": total.get("cpu", 0.0),
            "seconds_build_sum": total.get("seconds_build", 0.0),
            "scorer": total["scorer"],
            "workers": len(client.scheduler_info()["workers"]) if client is not None else None,
        }
    )
    rejected = pd.DataFrame(total["rejects"], columns=_REJECT_COLUMNS)
    if total["rejected"]:
        warnings.warn(
            f"{total['rejected']} of {total['rows']} rows could not be scored and were skipped "
            f"(first: {rejected['problem'].iloc[0]} in {rejected['file'].iloc[0]} row "
            f"{rejected['row'].iloc[0]}); see result.rejected.",
            TurnoverRiskWarning,
            stacklevel=3,
        )
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
    )


def _remote_context(model: Any, register: Register, options: dict) -> Any:
    from turnover_risk.scoring._score_dataset import panel_context_for

    return panel_context_for(model, register, **options)


def _context_summary(context: Any) -> tuple[PanelSpec, int, int]:
    from turnover_risk.panel._build import _spec

    return _spec(context), len(context.employee_ids), len(context.period_days)


def _context_on_a_worker(
    client: Any, model: Any, register: Register, options: dict, info: dict
) -> tuple[Any, PanelSpec, int, int]:
    """Prepare the shared panel context on one worker and copy it worker to worker.

    The client sends the register (smaller than the context) to one worker, which prepares
    the context; the other workers then fetch it from that worker. Nothing register-sized
    is computed in, or sent twice from, the client process. Timings go to ``info``.
    """
    dask, _ = _import_dask()
    t0 = time.perf_counter()
    with client.as_current():
        reg_f = client.scatter(register, hash=False)
        info["seconds_send_register"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        ctx_f = client.submit(_remote_context, model, reg_f, options, pure=False)
        spec, n_employees, n_periods = client.submit(_context_summary, ctx_f, pure=False).result()
        info["seconds_context"] = time.perf_counter() - t0
        del reg_f  # the worker drops the register once nothing needs it
        t0 = time.perf_counter()
        client.replicate([ctx_f])
        info["seconds_send_context"] = time.perf_counter() - t0
    return dask.delayed(ctx_f), spec, n_employees, n_periods


def _balanced_size(n: int, target: int, n_workers: int) -> int:
    """Employees per partition near ``target`` with a multiple of ``n_workers`` partitions.

    Equal-sized partitions in a multiple of the worker count end together, so no worker
    idles through the last partition.
    """
    target = max(64, target)
    parts = max(1, -(-n // target))
    parts = -(-parts // n_workers) * n_workers
    return max(1, -(-n // parts))


def _empty_part() -> dict:
    return {
        "groups": None,
        "rows": 0,
        "rejected": 0,
        "rejects": [],
        "seconds": 0.0,
        "cpu": 0.0,
        "scorer": "none",
    }
