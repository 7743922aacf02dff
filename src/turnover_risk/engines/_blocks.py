"""Scoring a register on a cluster in blocks of employees pinned to the workers.

With a ``distributed`` client, :func:`score_register` cuts the employees into a few large
blocks of consecutive codes, each owned by one worker (``blocks_per_worker`` per worker), and
keeps every step of a block on its owner, so that nothing large travels twice:

1. the person tables go to the workers once, one row chunk per worker (no copies on the
   client); each worker codes its chunk's employees and cuts it by block
   (:func:`~turnover_risk.panel.split_person_rows`); each block's pieces travel to its owner;
2. the owner builds the block's event indexes and unit partials
   (:func:`~turnover_risk.panel.build_person_part`); the event indexes never leave it;
3. one task sums the partials of all blocks, in block order, into the unit-level features
   (:func:`~turnover_risk.panel.finish_context`: exact), sent to every worker;
4. the owner builds and scores its block in sub-batches of about ``batch_rows`` panel rows
   (memory stays bounded), and sums its group partials; one task adds the workers' sums.

Fewer, larger tasks than one task per ``batch_rows`` partition: the scheduler places nothing
(every task says where it runs), and only the pieces of step 1, the partials of step 3 and
one group table per worker cross between processes. A task whose worker is lost may run on
another worker (the restrictions are loose), so a lost worker costs time, not results.
"""

from __future__ import annotations

import operator
import time
from typing import Any

import numpy as np

from turnover_risk.engines._context import _finish, _part, _partial, _row_chunks, _split
from turnover_risk.engines._panel import _build_range, _chunks
from turnover_risk.panel import person_tables
from turnover_risk.scoring import combine, score_partition

BLOCK_EMPLOYEES = 20_000
"""Most employees in one block: a worker holds its blocks' event indexes (~11 kB per employee
at the national register's density, ~220 MB per block) until they are scored."""


def blocks_of(n_employees: int, n_workers: int, max_block: int = BLOCK_EMPLOYEES) -> list:
    """``(lo, hi)`` employee-code blocks: a multiple of ``n_workers`` blocks of equal size."""
    n_workers = max(1, n_workers)
    per_worker = max(1, -(-n_employees // (n_workers * max(1, max_block))))
    n_blocks = n_workers * per_worker
    size = max(1, -(-n_employees // n_blocks))
    return _chunks(n_employees, size)


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
    results = []
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
        results.append(res)
    return combine(*results)


def score_register(
    client: Any,
    register: Any,
    base: Any,
    scorer: Any,
    *,
    step: int,
    part_dir: str | None,
    blocks: list[tuple[int, int]] | None = None,
    progress_bar: Any = None,
    info: dict | None = None,
    **kw: Any,
) -> dict:
    """The combined partial of scoring ``register`` (see the module docstring).

    ``kw`` goes to :func:`~turnover_risk.scoring.score_partition` (keys, columns, ...);
    ``info`` receives the seconds spent sending the person tables and the block count.
    """
    info = {} if info is None else info
    workers = sorted(client.scheduler_info()["workers"])
    n_w = len(workers)
    n = len(base.employee_ids)
    blocks = blocks_of(n, n_w) if blocks is None else blocks
    per_worker = max(1, -(-len(blocks) // n_w))
    owner = [workers[min(n_w - 1, b // per_worker)] for b in range(len(blocks))]
    bounds = np.array([lo for lo, _ in blocks] + [n])

    def on(addr: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return client.submit(fn, *args, workers=[addr], allow_other_workers=True, pure=False,
                             **kwargs)  # fmt: skip

    t0 = time.perf_counter()
    base_f = client.scatter(base, broadcast=True, hash=False)
    scorer_f = client.scatter(scorer, broadcast=True, hash=False)
    chunks = _row_chunks(person_tables(register), n_w)
    chunk_f = [
        client.scatter([c], workers=[w], hash=False)[0] for c, w in zip(chunks, workers, strict=True)
    ]
    info["seconds_send_register"] = time.perf_counter() - t0
    futures: list = [base_f, scorer_f, *chunk_f]
    try:
        split_f = [on(w, _split, base_f, c, bounds) for c, w in zip(chunk_f, workers, strict=True)]
        pieces = [[on(w, operator.getitem, s, b) for b in range(len(blocks))]
                  for s, w in zip(split_f, workers, strict=True)]  # fmt: skip
        part_f = [
            on(owner[b], _part, base_f, lo, hi, *[p[b] for p in pieces])
            for b, (lo, hi) in enumerate(blocks)
        ]
        partial_f = [on(owner[b], _partial, p) for b, p in enumerate(part_f)]
        unit_f = on(owner[-1], _finish, base_f, list(blocks), *partial_f)
        res_f = [
            on(owner[b], _score_block, base_f, p, unit_f, lo, hi, scorer_f, step=step,
               index=b, part_dir=part_dir, **kw)  # fmt: skip
            for b, (p, (lo, hi)) in enumerate(zip(part_f, blocks, strict=True))
        ]
        per_w = [
            on(w, combine, *[r for b, r in enumerate(res_f) if owner[b] == w]) for w in workers
        ]
        total_f = on(workers[0], combine, *per_w)
        futures += [*split_f, *part_f, *partial_f, unit_f, *res_f, *per_w, total_f]
        if progress_bar is not None:
            from distributed import as_completed

            for _ in as_completed(res_f, loop=client.loop):
                progress_bar.update(1)
        total = total_f.result()
    except BaseException:
        client.cancel(futures)
        raise
    info["blocks"] = len(blocks)
    return total
