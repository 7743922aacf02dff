"""Rates and group flags on Dask inputs.

``turnover_rate`` and ``sick_leave_rate`` run per partition of employees (``_split_rates``):
the person tables are split by employee on the workers, each part's cell statistics are added
in a tree, and the client finishes the table with the pandas path's code (checks, window,
formulas, privacy layer). ``definition="bufdir"`` and frames of aggregate counts gather the
tables and run the pandas kernel once (see each function). ``flag_groups`` in retrospective
mode pulls only the rows of the assessed period; prospective mode pulls the rows of the
assessed period and, for its bootstrap refits (which train on them in one process), the
labelled rows they train on.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from turnover_risk._engine import is_dask_collection
from turnover_risk.engines._cluster import _compute_one, _gather_register, connect
from turnover_risk.engines._panel import _ddf_spec, compute_panel
from turnover_risk.panel import attach_spec


def turnover_rate(data: Any, *, scheduler: Any = None, **options: Any) -> pd.DataFrame:
    """:func:`turnover_risk.turnover_rate` on Dask inputs (the pandas path's numbers).

    ``data`` may be a Dask employment frame (e.g. ``dd.read_parquet`` over many files), a
    mapping ``{"employment": ddf, "units": df, ...}`` of (Dask) tables or a Register. The
    employment rows are split by employee (whatever the input's partitioning), each part's
    cell statistics are computed on a worker and added in a tree, and the client finishes the
    table (``_split_rates``): counts equal the pandas path's exactly, rates and intervals to
    the last bits (sums in another order), suppression flags identically. Every option runs
    this way except two, which gather the spells and run the pandas kernel once:
    ``definition="bufdir"`` (churn takes ``min(hires, separations)`` per unit cell before
    summing, which does not add over persons) and a frame of aggregate counts (no
    ``employee_id``).
    """
    from turnover_risk.engines._split_rates import turnover_parts
    from turnover_risk.rates import turnover_rate as _pandas

    with connect(scheduler) as client:
        out = turnover_parts(data, client, options)
        if out is not None:
            return out
        data = _gather_register(data, client)
    return _pandas(data, **options)


def sick_leave_rate(data: Any, *, scheduler: Any = None, **options: Any) -> pd.DataFrame:
    """:func:`turnover_risk.sick_leave_rate` on Dask inputs (the pandas path's numbers).

    ``data``: a Register, or a mapping ``{"employment": ddf, "absences": ddf, ...}`` of (Dask)
    tables. Employment and absences are split alike by employee; each part's sums are added
    in a tree on the workers; the interval's squared residuals take a second pass over the
    parts with the combined ratios, so they are those of the pandas path (equal to the last
    bits), and the dominance rule's largest contribution per cell is the largest of the
    parts'. Every option runs per partition; only inputs the pandas function refuses (no
    absences table, missing columns) are gathered, to fail with its message. When the privacy
    layer needs each person's contribution to coarser cells (a dominated cell in a
    hierarchy), a further pass returns them per person and cell.
    """
    from turnover_risk.engines._split_rates import sick_leave_parts
    from turnover_risk.rates import sick_leave_rate as _pandas

    with connect(scheduler) as client:
        out = sick_leave_parts(data, client, options)
        if out is not None:
            return out
        data = _gather_register(data, client)
    return _pandas(data, **options)


def flag_groups(model: Any, panel: Any, *, scheduler: Any = None, **options: Any):
    """:func:`turnover_risk.flag_groups` on a Dask panel (identical result).

    Retrospective mode computes the labelled share per period on the cluster and pulls only
    the rows of the assessed period; prospective mode pulls the latest period's rows and,
    with ``n_boot``, the labelled rows the refits train on (a HazardModel's refits, or a
    given ``period``, gather the whole panel).
    """
    from turnover_risk.groups import MAX_CENSORED_SHARE
    from turnover_risk.groups import flag_groups as _pandas

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
            rows = _prospective_rows(model, panel, spec, client, options)
            if rows is None:
                return _pandas(model, compute_panel(panel, scheduler=client), **options)
            return _pandas(model, rows, **options)
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


def _prospective_rows(model: Any, panel: Any, spec: Any, client: Any, options: dict):
    """The rows prospective ``flag_groups`` reads, pulled from a Dask panel (or ``None``: all).

    The assessed period's rows (the latest by default), and for the bootstrap refits of a
    classifier the labelled rows of the periods they train on (those with at most half of
    the labels censored): the same rows, in the same order, as the pandas path selects from
    the whole panel. A HazardModel's refits read every row (``None``).
    """
    from turnover_risk.models import HazardModel

    n_boot = options.get("n_boot", 10)
    if options.get("period") is not None or (n_boot and isinstance(model, HazardModel)):
        return None
    period, label = spec.period_col, spec.label_col
    latest = _compute_one(panel[period].max(), client)
    if pd.isna(latest):
        return None
    keep = panel[period] == latest
    if n_boot:
        censored = panel[label].isna().groupby(panel[period]).mean()
        trained = _compute_one(censored, client)
        trained = list(trained.index[trained <= 0.5])
        keep = keep | (~panel[label].isna() & panel[period].isin(trained))
    rows = _compute_one(panel[keep], client).reset_index(drop=True)
    attach_spec(rows, spec)
    return rows
