"""Rates on Dask computed per partition of employees and combined exactly.

The person tables are split into parts by a hash of ``employee_id`` (a person's spells land in
one part, whatever the partitioning of the input), the small tables (``units``,
``unit_changes``) go with every part, and the parts are kept on the workers for the call. Each
part's cell statistics (:func:`turnover_risk.rates.part_cells`) are added pairwise in a tree on
the workers (:func:`turnover_risk.rates.combine_cells`); the client finishes the table with
:func:`turnover_risk.rates.partitioned_rate`: the same checks, window, formulas and privacy
layer as the pandas path. The privacy layer's further tables (other groupings, coarser
periods) are further passes over the kept parts.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk._engine import is_dask_collection
from turnover_risk.data import TABLE_NAMES, Register
from turnover_risk.engines._cluster import _compute_one, _import_dask

PERSON_TABLES = ("employment",)
"""The tables split by employee for turnover (the others are small and go with every part)."""

ROWS_PER_PART = 250_000
"""Employment rows per part of a pandas register (Dask inputs keep their partition count)."""

_RECORD_COLUMNS = {"absences": "start_date", "caseload": "month", "supervision": "date"}


def turnover_parts(data: Any, client: Any, options: dict) -> pd.DataFrame | None:
    """:func:`turnover_rate` per partition, or ``None`` when the input needs the gather path.

    Gathered instead: a frame of aggregate counts (no ``employee_id``: nothing to split) and
    ``definition="bufdir"`` (its churn is ``min(hires, separations)`` per unit cell before the
    sum, which does not add over persons).
    """
    from turnover_risk.rates import combine_cells, part_cells, part_dates, partitioned_rate

    tables, metadata = _tables(data)
    emp = tables.get("employment")
    if emp is None or "employee_id" not in emp.columns:
        return None
    if options.get("definition", "exit_share") == "bufdir":
        return None
    dask, _ = _import_dask()
    small = {n: _compute_one(t, client) if is_dask_collection(t) else t
             for n, t in tables.items() if n in ("units", "unit_changes")}  # fmt: skip
    parts = _split(tables, client, small, plain=not isinstance(data, dict | Register))

    def cells_of(request: dict) -> Any:
        level = [dask.delayed(part_cells)(p, request) for p in parts]
        while len(level) > 1:  # a tree on the workers
            nxt = [
                dask.delayed(combine_cells)(a, b)
                for a, b in zip(level[::2], level[1::2], strict=False)
            ]
            level = nxt + ([level[-1]] if len(level) % 2 else [])
        return _compute_one(level[0], client)

    def dates() -> tuple[dict[str, np.ndarray], dict[str, object]]:
        got = _compute_one(dask.delayed(list)([dask.delayed(part_dates)(p) for p in parts]),
                           client)  # fmt: skip
        merged = {k: np.concatenate([g[k] for g in got]) for k in ("start", "end")}
        firsts = {n: _first_date(tables[n], col, client)
                  for n, col in _RECORD_COLUMNS.items() if tables.get(n) is not None}  # fmt: skip
        return merged, firsts

    units = small.get("units")
    return partitioned_rate("turnover", cells_of, dates=dates, units=units, metadata=metadata,
                            **options)  # fmt: skip


def _tables(data: Any) -> tuple[dict[str, Any], dict]:
    """The register's tables (pandas or Dask) and its metadata."""
    if isinstance(data, Register):
        return dict(data.tables()), dict(data.metadata or {})
    if isinstance(data, dict):
        tables = dict(data)
        metadata = dict(tables.pop("metadata", None) or {})
        unknown = [k for k in tables if k not in TABLE_NAMES]
        if unknown:
            raise ValueError(
                f"tables {unknown} are not register tables; use the names: "
                f"{', '.join(TABLE_NAMES)}."
            )
        return {k: v for k, v in tables.items() if v is not None}, metadata
    return {"employment": data}, {}


def _workers(client: Any) -> int:
    if client is None:
        return os.cpu_count() or 1
    return max(len(client.scheduler_info().get("workers", {})), 1)


def _split(tables: dict, client: Any, small: dict, *, plain: bool) -> list:
    """Parts of the register, each holding whole persons, kept in (cluster) memory."""
    dask, _ = _import_dask()
    emp = tables["employment"]
    if is_dask_collection(emp):
        pieces = emp.to_delayed()
        n = max(len(pieces), 2 * _workers(client))
        split = [dask.delayed(_by_employee, nout=n)(p, n) for p in pieces]
        buckets = [dask.delayed(_concat)([s[j] for s in split]) for j in range(n)]
    else:
        n = max(math.ceil(len(emp) / ROWS_PER_PART), 2 * _workers(client))
        local = _by_employee(emp, n)
        if client is not None:
            buckets = [dask.delayed(f) for f in client.scatter(local)]
        else:
            buckets = [dask.delayed(b) for b in local]
    shared = small
    if client is not None and small:
        shared = {k: dask.delayed(v) for k, v in
                  zip(small, client.scatter(list(small.values()), broadcast=True), strict=True)}  # fmt: skip
    parts = [dask.delayed(_part)(b, shared, plain) for b in buckets]
    if client is not None:
        return list(client.persist(parts))
    return list(dask.persist(*parts))


def _by_employee(frame: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    """Rows split into ``n`` buckets by a hash of the employee id (as text, so an id read as
    a number in one file and as text in another lands in one bucket)."""
    ids = frame["employee_id"].astype(str)
    bucket = pd.util.hash_pandas_object(ids, index=False).to_numpy() % np.uint64(n)
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(n + 1, dtype=np.uint64))
    return [frame.iloc[order[bounds[j] : bounds[j + 1]]] for j in range(n)]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _part(emp: pd.DataFrame, small: dict, plain: bool) -> Register | pd.DataFrame:
    emp = emp.reset_index(drop=True)
    if plain:
        return emp
    return Register(employment=emp, **small)


def _first_date(table: Any, col: str, client: Any) -> object:
    """The first date of a record table's column (unparseable values skipped), or None."""
    if col not in table.columns:
        return None
    if is_dask_collection(table):
        dask, _ = _import_dask()
        firsts = [dask.delayed(_first)(p[col]) for p in table.to_delayed()]
        values = [v for v in _compute_one(dask.delayed(list)(firsts), client) if v is not None]
        return min(values) if values else None
    return _first(table[col])


def _first(values: pd.Series) -> object:
    first = pd.to_datetime(values, errors="coerce").min()
    return None if pd.isna(first) else first
