"""One partition of a scoring run, and how partitions add up.

:func:`score_partition` scores a pandas frame (bad rows out, risks, then the partition's group
sums or a row-level part file) and returns a *partial*: a dict of counts, rejected rows,
timings and group sums. :func:`combine` adds partials up (the Dask engine does so in a tree on
its workers), :func:`~turnover_risk.scoring.finish_groups` turns the summed groups into the
published table, and :func:`report_rejects` describes the rejected rows and warns about them.
The pandas loop of :func:`~turnover_risk.score_dataset` uses the same scorer, bad-row check,
group sums and :func:`report_rejects`.
"""

from __future__ import annotations

import time
import warnings

import pandas as pd

from turnover_risk._warnings import TurnoverRiskWarning
from turnover_risk.governance._checks import InputChecks
from turnover_risk.scoring._accumulate import _GroupAccumulator
from turnover_risk.scoring._io import row_level_schema, row_level_table
from turnover_risk.scoring._scorer import MAX_REPORTED_REJECTS, Scorer, find_bad_rows

_REJECT_COLUMNS = ["file", "row", "column", "value", "problem"]


def score_partition(
    frame: pd.DataFrame,
    scorer: Scorer,
    *,
    keys: list[str],
    key_cols: list[str],
    label: str,
    first_row: int,
    out_cols: list[str] | None,
    part_path: str | None,
    check_inputs: bool = False,
    id_col: str | None = None,
) -> dict:
    """Score one partition: bad rows out, risks, then group sums or a part file.

    Parameters
    ----------
    frame : DataFrame
        The partition's panel rows (features, ids, group columns, period).
    scorer : Scorer
        The batch scorer (:func:`compile_scorer`).
    keys : list of str
        The group keys of the group table (``by`` and the period).
    key_cols : list of str
        Columns a row cannot miss (ids and period); a row missing one is rejected.
    label : str
        Where the rows come from (a file name), for the rejected rows.
    first_row : int
        Row number of the partition's first row in ``label``, for the rejected rows.
    out_cols : list of str or None
        Row-level output: the key columns written next to the risk.
    part_path : str or None
        Row-level output: the Parquet part file to write; ``None`` for group sums.
    check_inputs : bool
        Also count the partition's inputs against the model's training profile (values
        outside the training range, unseen categories, the drift table's bins): the partial's
        ``checks``, merged by :func:`combine` (counts only, no rows).
    id_col : str, optional
        The person column, counted by the input checks.

    Returns
    -------
    dict
        The partial: ``groups`` (``n_persons`` and ``expected_leavers`` indexed by ``keys``,
        or ``None``), ``rows``, ``rejected``, ``rejects`` (the first 1000 problems as
        ``(label, row, column, value, problem)``), ``seconds`` and ``cpu`` (task time) and
        ``scorer`` (the path used), and ``checks`` (an ``InputChecks`` or ``None``). Add
        partials up with :func:`combine`.
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    checks = None
    if check_inputs:  # every row, rejected ones included, as the pandas loop
        checks = InputChecks(scorer.model, id_col)
        checks.add(frame, label, first_row)
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
        "checks": checks,
    }


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


def combine(*parts: dict) -> dict:
    """Merge partials of :func:`score_partition` (group sums added; counts and rejects kept).

    Combining is associative, so partials can be merged in any tree; ``combine()`` of nothing
    is the partial of an empty source. The result also counts ``parts`` and sums
    ``seconds_build`` (time spent building the partitions, when an engine records it).
    """
    if not parts:
        parts = (_empty_part(),)
    tables = [p["groups"] for p in parts if p["groups"] is not None and len(p["groups"])]
    if tables:
        both = pd.concat(tables)
        groups = both.groupby(level=list(range(both.index.nlevels)), dropna=False, sort=False).sum()
    else:
        groups = None
    rejects = [r for p in parts for r in p["rejects"]]
    checks = [p["checks"] for p in parts if p.get("checks") is not None]
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
        "checks": InputChecks.merged(checks) if checks else None,
    }


def report_rejects(
    rejects: list[tuple], n_rejected: int, n_read: int, *, stacklevel: int = 2
) -> pd.DataFrame:
    """The rejected rows as a frame, with a warning when there are any.

    Parameters
    ----------
    rejects : list of tuple
        ``(file, row, column, value, problem)`` of the first rejected rows.
    n_rejected, n_read : int
        Rows rejected and rows read in the whole run.
    stacklevel : int
        As for :func:`warnings.warn`, counted from the caller of this function.

    Returns
    -------
    DataFrame
        Columns ``file``, ``row``, ``column``, ``value``, ``problem`` (``ScoreResult.rejected``).
    """
    rejected = pd.DataFrame(rejects, columns=_REJECT_COLUMNS)
    if n_rejected:
        warnings.warn(
            f"{n_rejected} of {n_read} rows could not be scored and were skipped (first: "
            f"{rejected['problem'].iloc[0]} in {rejected['file'].iloc[0]} row "
            f"{rejected['row'].iloc[0]}); see result.rejected.",
            TurnoverRiskWarning,
            stacklevel=stacklevel + 1,
        )
    return rejected
