"""Scoring a register on a cluster in blocks of employees pinned to the workers.

With a ``distributed`` client, :func:`score_register` cuts the employees into a few large
blocks of consecutive codes with about equal work (:func:`blocks_of` with
:func:`employee_weights`: the same number per worker, dealt in a snake by :func:`owners`),
each owned by one worker, and keeps every step of a block on its owner, so that nothing large
travels twice:

1. the person tables go to the workers once, one row chunk per worker; each worker codes its
   chunk's employees (:func:`~turnover_risk.panel.employee_codes`) and cuts it by block, as
   :func:`~turnover_risk.panel.split_person_rows` does; each block's owner reads its pieces;
2. the owner builds the block's event indexes and unit partials
   (:func:`~turnover_risk.panel.build_person_part`); the event indexes never leave it;
3. the unit-level features: each block's partial is cut by range of units
   (:meth:`~turnover_risk.panel.PersonPart.for_units`, :func:`unit_ranges`: one range per
   worker), each worker finishes its range from every block's piece of it
   (:func:`~turnover_risk.panel.finish_context` with ``units=``: exact, a unit's features
   read only its own cells) and every worker joins the ranges;
4. the owner builds and scores its block in sub-batches of about ``batch_rows`` panel rows
   (memory stays bounded), and each worker sums its blocks' group partials;
5. each worker publishes the group table of a run of periods from every worker's sums of
   those periods (the privacy layer protects each period on its own, ``fixed=[period]``),
   and the client puts the runs in the order
   :func:`~turnover_risk.scoring.finish_groups` gives the whole table.

The person tables travel as uncompressed Arrow files in a hidden folder next to the output
(shared storage is required for the output anyway): the client writes them in ~0.2 s at
national size, where pickling them through Dask's connections took 4-5 s; the folder is
removed when the run ends.

Fewer, larger tasks than one task per ``batch_rows`` partition: every task says where it runs,
and only pieces of the partials, the unit features of a range and each worker's group sums of
a run of periods cross between processes. A task whose worker is lost may run on another
worker (the restrictions are loose), so a lost worker costs time, not results.
"""

from __future__ import annotations

import operator
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk.engines._context import _finish_units, _join_units, _part
from turnover_risk.engines._panel import _build_range, _chunks
from turnover_risk.panel import employee_codes, person_tables
from turnover_risk.scoring import combine, finish_groups, score_partition

BLOCK_EMPLOYEES = 20_000
"""Employees per block that set the number of blocks (blocks cut by work then hold about as
many employees' worth of records each: a worker holds its blocks' event indexes, ~7-10 kB per
employee at the national register's density, ~120-160 MB per block, until they are scored)."""


def blocks_of(
    n_employees: int,
    n_workers: int,
    max_block: int | None = None,
    weights: np.ndarray | None = None,
) -> list:
    """``(lo, hi)`` employee-code blocks covering ``0..n_employees-1``, a multiple of
    ``n_workers`` of them.

    Without ``weights``: blocks of equal size (but the last), none over ``max_block``
    employees (default :data:`BLOCK_EMPLOYEES`). With ``weights`` (one per employee, what its
    work grows with: :func:`employee_weights`): as many blocks, cut where the cumulative
    weight crosses equal shares, so every block (and every worker) gets about the same work;
    a block of light employees may then hold more than ``max_block`` of them (its memory
    grows with its rows, like its work). Every block holds at least one employee.
    """
    max_block = BLOCK_EMPLOYEES if max_block is None else max_block
    n_workers = max(1, n_workers)
    per_worker = max(1, -(-n_employees // (n_workers * max(1, max_block))))
    n_blocks = n_workers * per_worker
    if weights is None or n_employees <= n_blocks:
        size = max(1, -(-n_employees // n_blocks))
        return _chunks(n_employees, size)
    return _balanced(np.asarray(weights, dtype=np.float64), n_blocks)


def _balanced(weights: np.ndarray, n_parts: int) -> list[tuple[int, int]]:
    """``n_parts`` consecutive ranges of ``len(weights) >= n_parts`` items, each at least one
    item, cut where the cumulative weight crosses equal shares."""
    n = len(weights)
    cum = np.cumsum(weights)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_parts) / n_parts, side="left") + 1
    edges = [0, *(int(c) for c in cuts), n]
    for i in range(1, n_parts):  # at least one item per range
        edges[i] = max(edges[i], edges[i - 1] + 1)
    for i in range(n_parts - 1, 0, -1):
        edges[i] = min(edges[i], edges[i + 1] - 1)
    return list(zip(edges[:-1], edges[1:], strict=True))


def _spell_periods(base: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per spell: the periods of the extended grid and of the panel whose snapshot day (the
    day before the period) it covers."""
    sp = base.spells
    snap = base.ext_days - 1
    k0 = np.searchsorted(snap, sp["start"], side="left")
    k1 = np.searchsorted(snap, sp["end"], side="right") - 1
    return np.maximum(k1 - k0 + 1, 0), np.maximum(k1 - np.maximum(k0, base.lag) + 1, 0)


def employee_weights(base: Any) -> np.ndarray:
    """What each employee's work grows with, in panel rows' worth.

    Their periods of the extended grid (the records their event indexes hold grow with
    them), plus their panel periods (the rows built and scored), plus a fixed cost per
    employee (about 8 rows' worth in the national run). Early employee codes (long histories)
    weigh several times the recent ones: blocks of equal head counts left one worker with
    ~1.9 times the other's work.
    """
    periods, panel = _spell_periods(base)
    n = len(base.employee_ids)
    work = (periods + panel).astype(np.float64)  # records of all periods, rows of the panel's
    return np.bincount(base.spells["code"], weights=work, minlength=n)[:n] + 8.0


def unit_ranges(base: Any, n_ranges: int) -> np.ndarray:
    """Bounds of at most ``n_ranges`` consecutive ranges of unit codes (at least one unit
    each) with about equal work to finish their unit features: their members' periods (the
    partials' entries) and one grid row of periods per unit."""
    n_units = len(base.unit_ids)
    n_ranges = max(1, min(n_ranges, n_units))
    periods, _ = _spell_periods(base)
    weights = np.bincount(base.spells["unit"], weights=periods, minlength=n_units)[:n_units]
    ranges = _balanced(weights + len(base.ext_days), n_ranges)
    return np.array([0, *(hi for _, hi in ranges)], dtype=np.int64)


def owners(n_blocks: int, n_workers: int) -> list[int]:
    """The worker of each block, dealt in a snake: 0, 1, ..., W-1, W-1, ..., 1, 0, 0, 1, ...

    Early employee codes have longer histories (more records to index per panel row) and
    late ones more employees per block (more fixed cost per row), so the steps' costs drift
    along the blocks even when their weights are equal; dealt in a snake, every worker gets
    early and late blocks and the steps end together on every worker.
    """
    n_workers = max(1, n_workers)
    out = []
    for b in range(n_blocks):
        r, pos = divmod(b, n_workers)
        out.append(pos if r % 2 == 0 else n_workers - 1 - pos)
    return out


def write_rows(tables: dict, n_chunks: int, folder: Path) -> list[dict[str, str | None]]:
    """The person tables as Arrow IPC files in ``folder``: ``n_chunks`` row chunks per table.

    Returns, per chunk, the file of each table (``None`` for a table the register lacks). The
    index is stored as a column, so a chunk read back and cut by rows is ``df.take(rows)``.
    """
    import pyarrow as pa
    import pyarrow.feather as feather

    folder.mkdir()
    files: list[dict[str, str | None]] = [{} for _ in range(n_chunks)]
    for name, df in tables.items():
        edges = np.linspace(0, 0 if df is None else len(df), n_chunks + 1).astype(int)
        for i, chunk in enumerate(files):
            if df is None:
                chunk[name] = None
                continue
            path = folder / f"{name}-{i:04d}.arrow"
            table = pa.Table.from_pandas(df.iloc[edges[i] : edges[i + 1]], preserve_index=True)
            feather.write_feather(table, str(path), compression="uncompressed")
            chunk[name] = str(path)
    return files


def _read(path: str, columns: list | None = None):
    import pyarrow.feather as feather

    return feather.read_table(path, columns=columns, memory_map=True)


def _locate(base: Any, files: dict[str, str | None], bounds: np.ndarray, chunk: int) -> list:
    """Cut one row chunk by block: per block, the file of its rows of each table and their
    employee codes (written next to the chunk; rows in their order)."""
    import pyarrow.feather as feather

    bounds = np.asarray(bounds, dtype=np.int64)
    n_blocks = len(bounds) - 1
    out: list[dict] = [{} for _ in range(n_blocks)]
    for name, path in files.items():
        if path is None:
            for block in out:
                block[name] = None
            continue
        table = _read(path)
        code = employee_codes(base, table.select(["employee_id"]).to_pandas()["employee_id"])
        block_of = np.where(code >= 0, np.searchsorted(bounds, code, side="right") - 1, -1)
        order = np.argsort(block_of, kind="stable")
        cuts = np.searchsorted(block_of[order], np.arange(n_blocks + 1))
        for i, block in enumerate(out):
            rows = order[cuts[i] : cuts[i + 1]]
            piece = str(Path(path).with_name(f"{name}-{chunk:04d}-{i:05d}.arrow"))
            feather.write_feather(table.take(rows), piece, compression="uncompressed")
            block[name] = (piece, code[rows])
    return out


def _part_from_files(base: Any, lo: int, hi: int, *located: dict) -> Any:
    """A block's event indexes and unit partials, its rows read from every chunk's pieces."""
    pieces = []
    for where in located:
        tables, codes = {}, {}
        for name, loc in where.items():
            if loc is None:
                tables[name] = None
                continue
            tables[name] = _read(loc[0]).to_pandas()
            codes[name] = loc[1]
        pieces.append((tables, codes))
    return _part(base, lo, hi, *pieces)


def _for_units(part: Any, base: Any, bounds: np.ndarray) -> list:
    return part.for_units(base, bounds)


def _score_block(
    base: Any,
    part: Any,
    unit: dict,
    lo: int,
    hi: int,
    scorer: Any,
    *,
    step: int,
    index: int,
    part_dir: str | None,
    **kw: Any,
) -> dict:
    """Build and score employees ``lo..hi-1`` in sub-batches of ``step`` employees."""
    results, cpu_build = [], 0.0
    for s, (a, b) in enumerate(_chunks(hi - lo, max(1, step))):
        t0, c0 = time.perf_counter(), time.process_time()
        frame = _build_range(base, part, unit, lo + a, lo + b)
        t_build, c_build = time.perf_counter() - t0, time.process_time() - c0
        path = None if part_dir is None else f"{part_dir}/part-{index:05d}-{s:05d}.parquet"
        res = score_partition(
            frame, scorer, label=f"<register block {index}, batch {s}>", part_path=path, **kw
        )
        res["seconds_build"] = t_build
        res["seconds"] += t_build  # task time = build + score
        res["cpu"] += c_build
        cpu_build += c_build
        results.append(res)
    out = combine(*results)
    out["cpu_build"] = cpu_build  # for the benchmark (combine does not carry it on)
    return out


def _publish_slice(total: dict, i: int, n: int, keys: list, min_group_size: int, by: list):
    """The published group table of the ``i``-th of ``n`` runs of periods, and its keys in
    the order of its rows (the privacy layer protects each period on its own)."""
    groups = total["groups"]
    period = groups.index.get_level_values(keys[-1])
    mine = np.array_split(np.sort(period.unique()), n)[i]
    part = groups[period.isin(mine)]
    order = part.reset_index()[keys].sort_values(keys, kind="stable", na_position="last")
    return finish_groups(part, keys, min_group_size, by=by), order.reset_index(drop=True)


def _without_groups(total: dict) -> dict:
    return {**total, "groups": None}


_NO_ROWS = {"rows": 0, "rejected": 0, "rejects": [], "seconds": 0.0, "scorer": "", "checks": None}


def _period_edges(base: Any, n_runs: int) -> np.ndarray:
    """The first period of runs 2, 3, ... of ``n_runs`` runs of the panel's periods (as the
    group keys hold them: datetime64[ns] of the period's first day)."""
    runs = np.array_split(np.asarray(base.period_days), max(1, n_runs))
    firsts = [int(r[0]) for r in runs[1:] if len(r)]
    return np.array(firsts, dtype="datetime64[D]").astype("datetime64[ns]")


def _by_periods(part: dict, edges: np.ndarray, period: str) -> list[dict]:
    """The group sums of a partial cut into runs of periods (``edges``: see _period_edges)."""
    groups = part["groups"]
    if groups is None:
        return [{**_NO_ROWS, "groups": None}] * (len(edges) + 1)
    run = np.searchsorted(edges, groups.index.get_level_values(period).to_numpy(), side="right")
    return [{**_NO_ROWS, "groups": groups[run == j]} for j in range(len(edges) + 1)]


def _publish_run(keys: list, min_group_size: int, by: list, *pieces: dict):
    """The published group table of one run of periods from every worker's piece of it (the
    same sums, in the same order, as the whole table's), and its keys in row order."""
    groups = combine(*pieces)["groups"]
    if groups is None or not len(groups):
        return None
    return _publish_slice({"groups": groups}, 0, 1, keys, min_group_size, by)


def _merged(slices: list) -> Any:
    """The published runs of periods as one table, in the row order of
    :func:`~turnover_risk.scoring.finish_groups` on the whole table (the keys are unique)."""
    slices = [s for s in slices if s is not None and len(s[0])]
    if not slices:
        return None
    keys = list(slices[0][1].columns)
    table = pd.concat([t for t, _ in slices], ignore_index=True)
    order = pd.concat([k for _, k in slices], ignore_index=True)
    order = order.sort_values(keys, kind="stable", na_position="last").index
    return table.take(order).reset_index(drop=True)


def score_register(
    client: Any,
    register: Any,
    base: Any,
    scorer: Any,
    *,
    step: int,
    part_dir: str | None,
    rows_dir: Path,
    blocks: list[tuple[int, int]] | None = None,
    progress_bar: Any = None,
    info: dict | None = None,
    publish: tuple | None = None,
    **kw: Any,
) -> tuple[dict, Any]:
    """The combined partial of scoring ``register`` and, given ``publish = (keys,
    min_group_size, by)``, the published group table (else ``None``; see the module docstring).

    ``kw`` goes to :func:`~turnover_risk.scoring.score_partition` (keys, columns, ...);
    ``info`` receives the seconds spent sending the person tables and the block count.
    """
    info = {} if info is None else info
    workers = sorted(client.scheduler_info()["workers"])
    n_w = len(workers)
    n = len(base.employee_ids)
    blocks = blocks_of(n, n_w) if blocks is None else blocks
    owner = [workers[w] for w in owners(len(blocks), n_w)]
    bounds = np.array([lo for lo, _ in blocks] + [n])

    def on(addr: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return client.submit(fn, *args, workers=[addr], allow_other_workers=True, pure=False,
                             **kwargs)  # fmt: skip

    t0 = time.perf_counter()
    futures: list = []
    try:
        # one copy per worker (much faster than scatter(broadcast=True), which replicates)
        base_f = {w: client.scatter(base, workers=[w], hash=False) for w in workers}
        scorer_f = {w: client.scatter(scorer, workers=[w], hash=False) for w in workers}
        futures += [*base_f.values(), *scorer_f.values()]
        info["seconds_copies"] = time.perf_counter() - t0
        files = write_rows(person_tables(register), n_w, rows_dir)
        info["seconds_send_register"] = time.perf_counter() - t0
        split_f = [
            on(w, _locate, base_f[w], f, bounds, i)
            for i, (f, w) in enumerate(zip(files, workers, strict=True))
        ]
        where = [[on(w, operator.getitem, s, b) for b in range(len(blocks))]
                 for s, w in zip(split_f, workers, strict=True)]  # fmt: skip
        part_f = [
            on(owner[b], _part_from_files, base_f[owner[b]], lo, hi, *[p[b] for p in where])
            for b, (lo, hi) in enumerate(blocks)
        ]
        # the unit features: each worker finishes a range of units from every block's
        # piece of it, then every worker joins the ranges (exact: a unit's features read
        # only its own cells)
        ub = unit_ranges(base, n_w)
        fin = [workers[j] for j in range(len(ub) - 1)]
        cut_f = [on(owner[b], _for_units, p, base_f[owner[b]], ub) for b, p in enumerate(part_f)]
        pieces = [[on(owner[b], operator.getitem, c, j) for b, c in enumerate(cut_f)]
                  for j in range(len(fin))]  # fmt: skip
        fin_f = [
            on(w, _finish_units, base_f[w], int(ub[j]), int(ub[j + 1]), *pieces[j])
            for j, w in enumerate(fin)
        ]
        unit_f = {w: on(w, _join_units, *fin_f) for w in workers}
        res_f = [
            on(owner[b], _score_block, base_f[owner[b]], p, unit_f[owner[b]], lo, hi,
               scorer_f[owner[b]], step=step, index=b, part_dir=part_dir, **kw)
            for b, (p, (lo, hi)) in enumerate(zip(part_f, blocks, strict=True))
        ]  # fmt: skip
        per_w = [
            on(w, combine, *[r for b, r in enumerate(res_f) if owner[b] == w]) for w in workers
        ]
        futures += [*split_f, *part_f, *cut_f, *sum(pieces, []), *fin_f, *unit_f.values()]
        futures += [*res_f, *per_w]
        runs_f = []
        if publish is not None:
            # each worker publishes a run of periods from every worker's sums of them (the
            # privacy layer protects each period on its own): no total of all groups
            keys, min_group_size, by = publish
            edges = _period_edges(base, n_w)
            cut = [
                on(w, _by_periods, p, edges, keys[-1]) for w, p in zip(workers, per_w, strict=True)
            ]
            run_pieces = [[on(w, operator.getitem, c, j) for w, c in zip(workers, cut, strict=True)]
                          for j in range(len(edges) + 1)]  # fmt: skip
            runs_f = [on(workers[j], _publish_run, keys, min_group_size, by, *run_pieces[j])
                      for j in range(len(edges) + 1)]  # fmt: skip
            futures += [*cut, *sum(run_pieces, []), *runs_f]
        if progress_bar is not None:
            from distributed import as_completed

            for _ in as_completed(res_f, loop=client.loop):
                progress_bar.update(1)
        if publish is None:  # row-level: the counts, checks and (no) group sums
            total_f = on(workers[0], combine, *per_w)
            futures.append(total_f)
            total = total_f.result()
            table = None
        else:
            parts = client.gather(
                [on(w, _without_groups, p) for w, p in zip(workers, per_w, strict=True)]
            )
            total = combine(*parts)
        info["seconds_cluster"] = time.perf_counter() - t0 - info["seconds_send_register"]
        if publish is not None:
            t1 = time.perf_counter()
            table = _merged(client.gather(runs_f))
            info["seconds_publish_slices"] = time.perf_counter() - t1
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        shutil.rmtree(rows_dir, ignore_errors=True)
    info["blocks"] = len(blocks)
    info["unit_ranges"] = len(ub) - 1
    return total, table
