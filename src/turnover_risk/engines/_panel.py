"""The panel on Dask: partitions of whole employees, their context built partition by partition.

:func:`build_panel` prepares the base of the context (period grid, spells, episodes:
:func:`turnover_risk.panel.prepare_base`) on the client and returns a lazy Dask DataFrame
whose partitions are :func:`turnover_risk.panel.build_partition` of disjoint ranges of
employees; their event indexes and the unit-level features are computed on the workers
(:mod:`._context`), so concatenating the partitions gives exactly the pandas panel.
:func:`compute_panel` gathers one into a pandas panel. The panel spec rides on the Dask
frame's meta (``_ddf_spec`` reads it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from turnover_risk._engine import check_engine
from turnover_risk.data import Register
from turnover_risk.engines._cluster import (
    _compute_one,
    _gather_register,
    _import_dask,
    connect,
)
from turnover_risk.engines._context import partition_of, partitioned_context
from turnover_risk.panel import (
    PanelSpec,
    attach_spec,
    build_partition,
    build_person_part,
    context_spec,
    finish_context,
    panel_spec,
    person_tables,
    prepare_base,
)

EMPLOYEES_PER_PARTITION = 5000
"""Default employees per partition of a Dask panel (about 250 000 monthly rows)."""


def _build_range(base: Any, part: Any, unit: dict, lo: int, hi: int) -> pd.DataFrame:
    """Panel rows of employees ``lo..hi-1`` (within the range of ``part``)."""
    context = partition_of(base, part, unit)
    return build_partition(context, context.employee_ids[lo:hi])


def _empty_frame(base: Any, register: Register) -> pd.DataFrame:
    """The panel's columns and dtypes (no rows), from the base alone."""
    empty = {k: None if t is None else t.iloc[:0] for k, t in person_tables(register).items()}
    part = build_person_part(base, empty, 0, 0)
    return _build_range(base, part, finish_context(base, [part]), 0, 0).iloc[:0]


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
        Lazy; partitions in employee order. The base of the context is computed now and is part of
        the task graph once; the event indexes and unit-level features are computed by
        the partitions' tasks. ``compute_panel(ddf)`` equals
        ``tr.build_panel(register, **options)`` row for row.
    """
    if check_engine(engine) != "dask":
        raise ValueError(f"distributed.build_panel runs on Dask; got engine={engine!r}.")
    dask, dd = _import_dask()
    register = _gather_register(register)
    size = _check_partition_size(employees_per_partition)
    base = prepare_base(register, **options)
    ranges = _chunks(len(base.employee_ids), size)
    base_d, parts, unit = partitioned_context(register, base, ranges, None, n_workers=2)
    frames = [
        dask.delayed(_build_range, pure=True)(base_d, part, unit, lo, hi)
        for part, (lo, hi) in zip(parts, ranges, strict=True)
    ]
    meta = attach_spec(_empty_frame(base, register), context_spec(base))
    # the spec rides on the meta frame (Dask collections have no attrs of their own)
    return dd.from_delayed(frames, meta=meta, verify_meta=False)


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
    """The panel spec a Dask panel carries on its meta frame, or ``None``."""
    meta = getattr(ddf, "_meta", None)
    if not isinstance(meta, pd.DataFrame):
        return None
    try:
        return panel_spec(meta)
    except ValueError:  # no spec on the meta frame
        return None
