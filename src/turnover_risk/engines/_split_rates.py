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

ROWS_PER_PART = 250_000
"""Employment rows per part of a pandas register (Dask inputs keep their partition count)."""

_RECORD_COLUMNS = {"absences": "start_date", "caseload": "month", "supervision": "date"}


def turnover_parts(data: Any, client: Any, options: dict) -> pd.DataFrame | None:
    """:func:`turnover_rate` per partition, or ``None`` when the input needs the gather path.

    Gathered instead: a frame of aggregate counts (no ``employee_id``: nothing to split) and
    ``definition="bufdir"`` (its churn is ``min(hires, separations)`` per unit cell before the
    sum, which does not add over persons).
    """
    tables, metadata = _tables(data)
    emp = tables.get("employment")
    if emp is None or "employee_id" not in emp.columns:
        return None
    if options.get("definition", "exit_share") == "bufdir":
        return None
    plain = not isinstance(data, dict | Register)
    return _run("turnover", tables, metadata, client, options, ("employment",), plain)


def sick_leave_parts(data: Any, client: Any, options: dict) -> pd.DataFrame | None:
    """:func:`sick_leave_rate` per partition (employment and absences split alike), or
    ``None`` for inputs the pandas function refuses (they take the gather path and fail
    there with its message: no register, no absences, missing columns)."""
    if not isinstance(data, dict | Register):
        return None
    tables, metadata = _tables(data)
    emp, ab = tables.get("employment"), tables.get("absences")
    need = {"employee_id", "start_date", "end_date", "certification"}
    if emp is None or ab is None or not need <= set(ab.columns):
        return None
    if "employee_id" not in emp.columns:
        return None
    return _run("sick_leave", tables, metadata, client, options, ("employment", "absences"),
                plain=False)  # fmt: skip


def _run(measure, tables, metadata, client, options, person_tables, plain) -> pd.DataFrame:
    from turnover_risk.rates import combine_cells, part_cells, part_dates, partitioned_rate

    dask, _ = _import_dask()
    small = {n: _compute_one(t, client) if is_dask_collection(t) else t
             for n, t in tables.items() if n in ("units", "unit_changes")}  # fmt: skip
    parts = _split(tables, person_tables, client, small, plain=plain)

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
        merged = {k: np.concatenate([g[k] for g in got]) for k in got[0]}
        firsts = {n: _first_date(tables[n], col, client)
                  for n, col in _RECORD_COLUMNS.items() if tables.get(n) is not None}  # fmt: skip
        return merged, firsts

    return partitioned_rate(measure, cells_of, dates=dates, units=small.get("units"),
                            metadata=metadata, **options)  # fmt: skip


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


def _split(tables: dict, person_tables: tuple, client: Any, small: dict, *, plain: bool) -> list:
    """Parts of the register, each holding whole persons, kept in (cluster) memory: every
    person table is split into the same ``n`` buckets by a hash of the employee id."""
    dask, _ = _import_dask()
    emp = tables["employment"]
    if is_dask_collection(emp):
        n = max(emp.npartitions, 2 * _workers(client))
    else:
        n = max(math.ceil(len(emp) / ROWS_PER_PART), 2 * _workers(client))
    buckets = {name: _buckets(tables[name], n, client) for name in person_tables}
    shared = small
    if client is not None and small:
        futures = client.scatter(list(small.values()), broadcast=True)
        shared = {k: dask.delayed(v) for k, v in zip(small, futures, strict=True)}
    parts = [
        dask.delayed(_part)({name: b[j] for name, b in buckets.items()}, shared, plain)
        for j in range(n)
    ]
    if client is not None:
        return list(client.persist(parts))
    return list(dask.persist(*parts))


def _buckets(table: Any, n: int, client: Any) -> list:
    """``n`` delayed frames: the rows of ``table`` split by employee (on the workers for a
    Dask table; on the client, then sent, for a pandas one)."""
    dask, _ = _import_dask()
    if is_dask_collection(table):
        split = [dask.delayed(_by_employee, nout=n)(p, n) for p in table.to_delayed()]
        return [dask.delayed(_concat)([s[j] for s in split]) for j in range(n)]
    local = _by_employee(table, n)
    if client is not None:
        return [dask.delayed(f) for f in client.scatter(local)]
    return [dask.delayed(b) for b in local]


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


def _part(person: dict, small: dict, plain: bool) -> Register | pd.DataFrame:
    person = {k: v.reset_index(drop=True) for k, v in person.items()}
    if plain:
        return person["employment"]
    return Register(**person, **small)


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
