"""The panel context on Dask, split by employees: no step reads the whole register on one core.

A context has three parts (:mod:`turnover_risk.panel`): a *base* that is not keyed by person
(period grid, spells, episodes: employment-sized, computed once, :func:`prepare_base`), the
*event indexes* of each person's records, and the *unit-level features* that sum over the
members of each unit. Here:

1. the client prepares the base and sends it to every worker (a few tens of MB);
2. the person tables (caseload, supervision, absences, surveys) go to the workers in row
   chunks; each chunk task codes its rows and splits them by range of employee codes
   (:func:`split_person_rows`);
3. one task per range gathers its rows and builds their event indexes and what they add to
   the unit grid (:func:`build_person_part`); the event indexes stay on that worker;
4. one task sums the partials of all ranges, in range order, into the unit-level features
   (:func:`finish_context`: exact, the same bits as one process);
5. each partition's rows are built from the base, its range's event indexes and the unit
   features (:func:`partition_context`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from turnover_risk.engines._cluster import _import_dask, _shared
from turnover_risk.panel import (
    build_person_part,
    finish_context,
    partition_context,
    person_tables,
    split_person_rows,
)

CHUNKS_PER_WORKER = 2
"""Row chunks of the person tables per worker (the tasks that split rows by employee)."""


def _split(base: Any, tables: dict, bounds: np.ndarray) -> tuple:
    return tuple(split_person_rows(base, tables, bounds))


def _part(base: Any, lo: int, hi: int, *pieces: tuple) -> Any:
    """Event indexes and unit partials of employees ``lo..hi-1`` from their row pieces."""
    tables: dict = {}
    codes: dict = {}
    for name in pieces[0][0]:
        frames = [p[0][name] for p in pieces]
        if frames[0] is None:
            tables[name] = None
            continue
        tables[name] = pd.concat(frames) if len(frames) > 1 else frames[0]
        codes[name] = np.concatenate([p[1][name] for p in pieces])
    return build_person_part(base, tables, lo, hi, codes)


def _partial(part: Any) -> Any:
    return part.partial


def _finish(base: Any, bounds: list[tuple[int, int]], *partials: dict) -> dict:
    parts = [_Partial(lo, partial) for (lo, _), partial in zip(bounds, partials, strict=True)]
    return finish_context(base, parts)


class _Partial:
    """What :func:`finish_context` reads of a person part (its range start and partial)."""

    def __init__(self, lo: int, partial: dict) -> None:
        self.lo = lo
        self.partial = partial


def partition_of(base: Any, part: Any, unit: dict) -> Any:
    """The panel context of one range of employees (runs on the worker holding ``part``)."""
    return partition_context(base, part, unit)


def _row_chunks(tables: dict, n_chunks: int) -> list[dict]:
    """The person tables cut into ``n_chunks`` consecutive row ranges (views, no copies)."""
    chunks: list[dict] = [{} for _ in range(n_chunks)]
    for name, df in tables.items():
        edges = np.linspace(0, 0 if df is None else len(df), n_chunks + 1).astype(int)
        for i, chunk in enumerate(chunks):
            chunk[name] = None if df is None else df.iloc[edges[i] : edges[i + 1]]
    return chunks


def partitioned_context(
    register: Any, base: Any, ranges: list[tuple[int, int]], client: Any, n_workers: int
) -> tuple[Any, list[Any]]:
    """Delayed ``(base, [person part of each range])`` and the delayed unit features.

    ``ranges`` are consecutive ``(lo, hi)`` employee-code ranges covering every employee.
    Returns the shared base handle, the delayed person parts (one per range) and the delayed
    unit features; :func:`partition_of` combines them into a range's context.
    """
    dask, _ = _import_dask()
    base_d = _shared(client, base, "panel-base")
    bounds = np.array([lo for lo, _ in ranges] + [ranges[-1][1] if ranges else 0])
    n_chunks = max(1, CHUNKS_PER_WORKER * n_workers)
    chunks = _row_chunks(person_tables(register), n_chunks)
    if client is not None:
        with client.as_current():
            chunk_ds = [dask.delayed(f) for f in client.scatter(chunks, hash=False)]
    else:
        chunk_ds = [_shared(None, c, f"person-rows-{i}") for i, c in enumerate(chunks)]
    n_parts = len(ranges)
    split = [dask.delayed(_split, nout=n_parts, pure=True)(base_d, c, bounds) for c in chunk_ds]
    parts = [
        dask.delayed(_part, pure=True)(base_d, lo, hi, *[s[i] for s in split])
        for i, (lo, hi) in enumerate(ranges)
    ]
    partials = [dask.delayed(_partial, pure=True)(p) for p in parts]
    unit = dask.delayed(_finish, pure=True)(base_d, list(ranges), *partials)
    return base_d, parts, unit
