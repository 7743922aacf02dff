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
4. each range's partial is cut by range of units (one per worker), one task per range of
   units finishes its features from every range's piece (:func:`finish_context` with
   ``units=``: exact, the same bits as one process) and one task joins them;
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


def _piece(part: Any, base: Any, bounds: np.ndarray, j: int) -> Any:
    """The ``j``-th unit range's piece of a person part's partial (no event indexes)."""
    return part.for_units(base, bounds[j : j + 2])[0]


def _finish_units(base: Any, lo: int, hi: int, *pieces: Any) -> dict:
    """The unit features of unit codes ``lo..hi-1`` from every range's piece of them."""
    return finish_context(base, list(pieces), units=(lo, hi))


def _join_units(*ranges: dict) -> dict:
    """The unit features of all units from those of consecutive unit ranges (exact)."""
    if len(ranges) == 1:
        return ranges[0]
    return {k: np.concatenate([r[k] for r in ranges]) for k in ranges[0]}


def unit_bounds(base: Any, n_ranges: int) -> np.ndarray:
    """Bounds of at most ``n_ranges`` consecutive ranges of unit codes, at least one unit
    each, of about equal numbers of units."""
    n_units = len(base.unit_ids)
    n_ranges = max(1, min(n_ranges, n_units))
    return np.linspace(0, n_units, n_ranges + 1).astype(np.int64)


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
    ub = unit_bounds(base, n_workers)
    finished = [
        dask.delayed(_finish_units, pure=True)(
            base_d, int(ub[j]), int(ub[j + 1]),
            *[dask.delayed(_piece, pure=True)(p, base_d, ub, j) for p in parts],
        )
        for j in range(len(ub) - 1)
    ]  # fmt: skip
    unit = dask.delayed(_join_units, pure=True)(*finished)
    return base_d, parts, unit
