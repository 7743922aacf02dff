"""Streaming batch scoring: constant memory on one machine, Dask beyond it.

:func:`score_dataset` scores a whole population with a fitted
:class:`~turnover_risk.TurnoverRiskModel` without holding it in memory:

* a **panel** (one Parquet file or a folder of Parquet files written from ``build_panel``) is
  read in record batches with pyarrow and scored batch by batch;
* a **register** (a folder read with :func:`~turnover_risk.read_register`, or a
  :class:`~turnover_risk.Register`) is turned into panel rows one partition of employees at a
  time (:func:`turnover_risk.panel.build_partition`; the register itself and the unit-level
  features are computed once and stay in memory, the person-period rows never do);
* a pandas panel is scored in slices; a Dask DataFrame goes to the Dask engine
  (:mod:`turnover_risk.engines`).

The default output is **group level**: per group (``by``, default ``unit_id``) and period the
number of persons, the expected number of leavers within the model's horizon (sum of risks) and
the mean risk, with groups under ``min_group_size`` suppressed
(:func:`turnover_risk.privacy.suppress_small_groups`). Row-level risks are written only with
``row_level=True``. Output is written to a temporary file in the target folder and renamed at
the end, so an interrupted run never leaves a half-written file under the output name.

Throughput comes from a *compiled* scorer: the fitted preprocessing (median imputation, missing
indicators, scaling, one-hot encoding) is replayed with numpy column by column. The logistic
model becomes one weighted sum (coefficients folded with the scaler); the gbm's trees run in
scikit-learn's Cython predictor on a compact uint8 code per (row, feature) that takes exactly
the branches the raw values take (:class:`_BinnedTrees`), on row blocks shared by
``TURNOVER_RISK_SCORING_THREADS`` threads (default: the usable cores, at most 8). A Parquet
source never goes through pandas: the needed columns are read as arrow record batches, group
keys dictionary-encoded, and the group sums are ``np.bincount`` over integer codes. The
compiled path is checked against ``model.predict_proba`` on the first rows of the run (to
1e-9) and the run falls back to ``predict_proba`` if they ever differ.

This module holds :func:`score_dataset` (its pandas loop) and its result. The work is done in
private modules: ``_fastpaths`` (the compiled scorer), ``_scorer`` (the scorer checked against
``predict_proba``, bad rows), ``_setup`` (options, source, columns to read), ``_io`` (sources
read batch by batch, output written atomically), ``_accumulate`` (the group sums) and
``_partition`` (one partition scored into partial sums, partials combined: the steps the Dask
engine runs on its workers).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from turnover_risk._atomic import refuse_inputs
from turnover_risk._engine import ENGINES, get_engine, is_dask_collection
from turnover_risk._progress import bar
from turnover_risk.data import Register
from turnover_risk.governance._checks import InputChecks
from turnover_risk.panel import context_spec
from turnover_risk.privacy import DEFAULT_MIN_GROUP_SIZE, ORG_CHAIN
from turnover_risk.scoring._accumulate import _ArrowGroupAccumulator, _GroupAccumulator
from turnover_risk.scoring._hazard import scoring_model
from turnover_risk.scoring._io import (
    _iter_frame,
    _iter_parquet,
    _iter_register,
    _never_null,
    panel_context_for,
    parquet_files,
    replace_path,
    row_level_schema,
    row_level_table,
    temporary_path,
    write_group_table,
)
from turnover_risk.scoring._partition import report_rejects
from turnover_risk.scoring._scorer import MAX_REPORTED_REJECTS, Scorer, find_bad_rows
from turnover_risk.scoring._setup import (
    check_options,
    needed_columns,
    resolve_source,
    source_spec,
)

__all__ = ["DEFAULT_BATCH_ROWS", "ScoreResult", "score_dataset"]


DEFAULT_BATCH_ROWS = 262_144
"""Rows per record batch (about 60 MB of float32 features for a monthly panel)."""


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class ScoreResult:
    """What :func:`score_dataset` did.

    Attributes
    ----------
    path : Path
        The output written (a file; a folder of part files for row-level Dask output).
    rows_read, rows_scored, rows_rejected : int
        ``rows_read == rows_scored + rows_rejected`` always.
    rejected : DataFrame
        The first :data:`MAX_REPORTED_REJECTS` problems: ``file``, ``row`` (0-based row of the
        file, or of the input frame), ``column``, ``value``, ``problem``. No identifiers.
    table : DataFrame or None
        The group-level table that was written (``None`` for row-level output).
    seconds : float
        Wall-clock time of the run.
    engine : str
        ``"pandas"`` or ``"dask"``.
    row_level : bool
        Whether row-level risks were written.
    info : dict
        Extra facts (batches, partitions, scorer used, time per phase).
    drift : DriftResult or None
        Inputs against the model's training profile (``None`` for models without one).
    input_problems : DataFrame
        Rows scored although a value lies outside the training range or is an unseen
        category: ``file``, ``row``, ``column``, ``value``, ``problem`` (no identifiers).
    """

    path: Path
    rows_read: int
    rows_scored: int
    rows_rejected: int
    rejected: pd.DataFrame
    table: pd.DataFrame | None
    seconds: float
    engine: str
    row_level: bool
    info: dict = field(default_factory=dict)
    drift: Any = None
    input_problems: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def rows_per_second(self) -> float:
        """Rows read per second of wall-clock time."""
        return self.rows_read / self.seconds if self.seconds > 0 else float("inf")

    def __repr__(self) -> str:
        what = "row-level risks" if self.row_level else f"{len(self.table)} group rows"
        return (
            f"ScoreResult({self.rows_scored:,} of {self.rows_read:,} rows scored, "
            f"{self.rows_rejected:,} rejected; {what} -> {str(self.path)!r}; "
            f"{self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s, engine={self.engine!r})"
        )


# --------------------------------------------------------------------------------------------
# score_dataset
# --------------------------------------------------------------------------------------------


def score_dataset(
    model: Any,
    source: str | Path | Register | pd.DataFrame | Any,
    out: str | Path,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    row_level: bool = False,
    overwrite: bool = False,
    engine: Literal["pandas", "dask"] = "pandas",
    scheduler: str | Any | None = None,
    by: str | Sequence[str] = "unit_id",
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    progress: bool | None = None,
    connect_timeout: float = 10.0,
    horizon: int | None = None,
    **panel_options: Any,
) -> ScoreResult:
    """Score a whole population batch by batch and write the result (group level by default).

    Parameters
    ----------
    model : TurnoverRiskModel or HazardModel
        A fitted model (any classifier with ``predict_proba`` and ``feature_names_in_`` works,
        through the slower ``predict_proba`` path). A :class:`~turnover_risk.HazardModel` is
        scored at ``horizon``: the risk is the cumulative incidence of its first outcome within
        that many months (``predict_risk``), per row and summed by group as for a classifier.
    source : path, Register, DataFrame or dask DataFrame
        A panel Parquet file or folder of Parquet files (from ``build_panel(...).to_parquet``;
        every file must have the same schema), a register folder (with ``employment.parquet``
        or ``.csv``; read and validated with :func:`~turnover_risk.read_register`), a
        :class:`~turnover_risk.Register`, a pandas panel, or a Dask DataFrame panel (scored
        with the Dask engine).
    out : str or Path
        Output file: ``.parquet`` (or ``.csv`` for the group table). Written to a temporary
        name in the same folder and renamed when complete. Row-level Dask output is a folder
        of part files.
    batch_rows : int
        Rows per record batch (panel sources) or about the rows per employee partition
        (register sources). Memory grows with this, not with the input.
    row_level : bool
        Write one risk per person and period (id, group and period columns plus ``risk``)
        instead of the group table. Row-level output is personal data: keep it inside the
        organisation.
    overwrite : bool
        Replace an existing ``out``; otherwise an existing output raises ``FileExistsError``.
    engine : {"pandas", "dask"}
        ``"dask"`` runs on a Dask cluster (see :mod:`turnover_risk.engines`).
    scheduler : str or distributed.Client, optional
        Dask only: the scheduler address (``"tcp://host:8786"``) or a client. Default: the
        current client, else a local cluster.
    by : str or list of str
        Group column(s) of the group table (default ``"unit_id"``); the period is always a key.
    min_group_size : int
        Groups with fewer persons (rows of the period) are suppressed in the group table.
    progress : bool, optional
        Show a progress bar (rows, rate, time left); default: on a terminal unless quiet.
    connect_timeout : float
        Dask only: seconds to wait for a ``scheduler`` address before a ``ConnectionError``.
    horizon : int, optional
        HazardModel only: months of the risk (default 12; ``info["horizon"]`` says which). A
        classifier gives the risk within the horizon it was trained with.
    **panel_options
        For register sources: options of :func:`~turnover_risk.build_panel` overriding the
        ones the model was trained with (e.g. ``as_of``, ``start``).

    Returns
    -------
    ScoreResult
        Counts (``rows_read == rows_scored + rows_rejected``), the first rejected rows with
        their file and row number, the group table, timings.

    Raises
    ------
    FileExistsError
        If ``out`` exists and ``overwrite`` is False.
    ConnectionError
        Dask: no scheduler answers at ``scheduler`` within ``connect_timeout`` seconds.
    ValueError
        Files of one dataset with different schemas (names the files and columns), missing
        feature columns, an unknown engine or bad ``batch_rows``.

    Examples
    --------
    >>> import tempfile, pathlib, warnings
    >>> import turnover_risk as tr
    >>> warnings.simplefilter("ignore")
    >>> reg = tr.load_sample()
    >>> panel = tr.build_panel(reg)
    >>> model = tr.TurnoverRiskModel(kind="logistic", random_state=0).fit(panel)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "risk_by_unit.parquet"
    >>> res = tr.score_dataset(model, panel, out, batch_rows=5000, progress=False)
    >>> res.rows_scored == len(panel), res.rows_rejected
    (True, 0)
    >>> sorted(res.table.columns)[:3]
    ['expected_leavers', 'mean_risk', 'n_persons']
    """
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r} is not known; choose one of: {', '.join(ENGINES)}.")
    model, model_info = scoring_model(model, horizon)
    if engine == "dask" or is_dask_collection(source):
        return get_engine("dask").score_dataset(
            model,
            source,
            out,
            batch_rows=batch_rows,
            row_level=row_level,
            overwrite=overwrite,
            scheduler=scheduler,
            by=by,
            min_group_size=min_group_size,
            progress=progress,
            connect_timeout=connect_timeout,
            **panel_options,
        )
    if scheduler is not None:
        raise ValueError(
            "scheduler=... only applies to engine='dask'; pass engine='dask' to use a cluster."
        )
    out, batch_rows, by_cols, min_group_size = check_options(
        out,
        batch_rows=batch_rows,
        by=by,
        min_group_size=min_group_size,
        overwrite=overwrite,
        row_level=row_level,
    )
    refuse_inputs(out, [source] if isinstance(source, str | Path) else [])
    scorer = Scorer(model)
    t_start = time.perf_counter()
    arrow_schema = None

    # -- the source: an iterator of chunks, their spec, and the expected total --------------
    total: int | None = None
    source = resolve_source(source)
    if isinstance(source, Register):
        context = panel_context_for(model, source, **panel_options)
        spec = context_spec(context)
        by_keys = with_org_levels(by_cols, spec.group_cols, row_level)
        per_partition = max(64, batch_rows // max(1, len(context.period_days)))
        chunks = _iter_register(context, per_partition)
        unit = "rows"
    elif isinstance(source, pd.DataFrame):
        spec = source_spec(source, model)
        by_keys = with_org_levels(by_cols, list(source.columns), row_level)
        cols = needed_columns(spec, scorer, by_keys, source.columns, "the panel")
        chunks = _iter_frame(source, cols, batch_rows)
        total, unit = len(source), "rows"
    elif isinstance(source, str | Path):
        import pyarrow.parquet as pq

        files = parquet_files(source)
        schema = pq.read_schema(files[0])
        spec = source_spec(schema, model)
        by_keys = with_org_levels(by_cols, list(schema.names), row_level)
        cols = needed_columns(spec, scorer, by_keys, schema.names, files[0].name)
        if scorer.compiled is not None:
            arrow_schema = schema  # the batches stay arrow (predict_proba needs pandas)
            # the fast path: arrow batches, no pandas; for group output only the features,
            # the keys, and the id columns the statistics cannot vouch for (missing ids are
            # rejected rows)
            if not row_level:
                cols = [
                    c
                    for c in cols
                    if c in (*scorer.columns, *by_keys, spec.period_col)
                    or (c in spec.id_cols and not _never_null(files, c))
                ]
            strings = [
                c
                for c in by_keys
                if not row_level
                and c not in scorer.columns
                and str(schema.field(c).type) in ("string", "large_string")
            ]
            chunks = _iter_parquet(files, cols, batch_rows, arrow=True, dictionary=strings)
        else:
            chunks = _iter_parquet(files, cols, batch_rows)
        total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        unit = "rows"
    else:
        raise TypeError(
            f"source must be a path, a Register, a pandas DataFrame or a Dask DataFrame; got "
            f"{type(source).__name__}."
        )
    missing_by = [c for c in by_cols if c not in (*spec.id_cols, *spec.group_cols)]
    if missing_by and not row_level and isinstance(source, Register):
        raise ValueError(f"by={missing_by} are not group columns of the panel {spec.group_cols}.")
    keys = [*by_keys, spec.period_col]
    key_cols = [c for c in (*spec.id_cols, spec.period_col)]
    checks = InputChecks(model, spec.id_cols[0] if spec.id_cols else None)  # unseen values, drift
    out_cols: list[str] = []

    acc: _GroupAccumulator | _ArrowGroupAccumulator = (
        _GroupAccumulator(keys)
        if arrow_schema is None
        else _ArrowGroupAccumulator(keys, schema=arrow_schema)
    )
    n_read = n_scored = n_rejected = 0
    rejects: list[tuple] = []
    tmp = temporary_path(out)
    writer = None
    t_score = 0.0
    n_batches = 0
    progress_bar = bar(total=total, desc="scoring", unit=unit, show=progress)
    try:
        for chunk in chunks:
            n_batches += 1
            checks.add(
                chunk.frame if chunk.batch is None else chunk.batch, chunk.file, chunk.first_row
            )
            t0 = time.perf_counter()
            if chunk.batch is not None:  # arrow: scored, checked and summed without pandas
                risk, bad, problems = scorer.score_batch(chunk.batch, key_cols)
                t_score += time.perf_counter() - t0
                if not row_level:
                    acc.add(chunk.batch, risk, ~bad if bad.any() else None)
                    frame = good = None
                else:
                    names = chunk.batch.schema.names
                    keep = [c for c in (*spec.id_cols, *spec.group_cols, spec.period_col)]
                    frame = chunk.batch.select([c for c in keep if c in names]).to_pandas()
                    good = frame.loc[~bad] if bad.any() else frame
            else:
                frame = chunk.frame
                bad, problems = find_bad_rows(frame, scorer, key_cols)
                good = frame.loc[~bad] if bad.any() else frame
                risk = scorer(good)
                t_score += time.perf_counter() - t0
            for pos, col, value, problem in problems:
                if len(rejects) < MAX_REPORTED_REJECTS:
                    rejects.append((chunk.file, chunk.first_row + pos, col, value, problem))
            n = len(bad)
            if row_level:
                if writer is None:
                    import pyarrow.parquet as pq

                    out_cols = [
                        c
                        for c in (*spec.id_cols, *spec.group_cols, spec.period_col)
                        if c in frame.columns
                    ]
                    schema = row_level_schema(frame, out_cols)
                    writer = pq.ParquetWriter(tmp, schema)
                writer.write_table(row_level_table(good, out_cols, risk, writer.schema))
            elif chunk.batch is None:
                acc.add(good, risk)
            n_read += n
            n_rejected += int(bad.sum())
            n_scored += n - int(bad.sum())
            progress_bar.update(n)
        if row_level:
            if writer is None:  # empty source: an empty file with the key columns
                import pyarrow as pa
                import pyarrow.parquet as pq

                empty = pa.schema(
                    [pa.field(c, pa.string()) for c in spec.id_cols]
                    + [pa.field("risk", pa.float64())]
                )
                writer = pq.ParquetWriter(tmp, empty)
            writer.close()
            writer = None
            replace_path(tmp, out, overwrite=overwrite)
            table = None
        else:
            table = acc.result(min_group_size, by=by_cols)
            write_group_table(table, out, overwrite=overwrite)
    except BaseException:
        if writer is not None:
            try:
                writer.close()
            except Exception:
                pass
        tmp.unlink(missing_ok=True)
        raise
    finally:
        progress_bar.close()
    rejected = report_rejects(rejects, n_rejected, n_read, stacklevel=2)
    drift, input_problems = checks.finish(stacklevel=2)
    seconds = time.perf_counter() - t_start
    return ScoreResult(
        path=out,
        rows_read=n_read,
        rows_scored=n_scored,
        rows_rejected=n_rejected,
        rejected=rejected,
        table=table,
        seconds=seconds,
        engine="pandas",
        row_level=row_level,
        info={
            "batches": n_batches,
            "scorer": scorer.kind,
            "seconds_scoring": t_score,
            "path": "arrow" if arrow_schema is not None else "pandas",
            "threads": scorer.compiled.threads if scorer.compiled is not None else 1,
            **model_info,
        },
        drift=drift,
        input_problems=input_problems,
    )


def with_org_levels(by_cols: list[str], available: list[str], row_level: bool) -> list[str]:
    """``by_cols`` and the coarser organisation levels the source has (``unit_id`` ->
    ``municipality``, ``service``): the privacy layer links a unit table to the municipality
    table it must not be differenced against. Not for row-level output."""
    chain = [c for c in ORG_CHAIN if c in by_cols]
    if row_level or not chain:
        return list(by_cols)
    coarser = ORG_CHAIN[ORG_CHAIN.index(chain[0]) + 1 :]
    return [*by_cols, *[c for c in coarser if c in available and c not in by_cols]]
