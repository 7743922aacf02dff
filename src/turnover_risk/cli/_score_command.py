"""The ``score`` command: a whole population in constant memory (group level by default).

Row-level output with ``--pseudonymise`` holds a keyed pseudonym (HMAC-SHA256 under
``TURNOVER_RISK_KEY``, :func:`turnover_risk.privacy.pseudonymise`) instead of each employee
id: the rows are scored into a hidden temporary folder beside the output, rewritten batch by
batch with the pseudonyms into the output's temporary file, and only that is moved into place.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from turnover_risk.cli._common import EXIT_OK, CLIError, add_output_options, new_report_file


def _add_score(sub) -> None:
    p = sub.add_parser(
        "score",
        help="score a whole population in constant memory (group level by default)",
        description="Stream a panel Parquet file or folder (or build the panel of a register "
        "folder partition by partition), score it with a saved model and write expected "
        "leavers per group and period (small groups suppressed), or one risk per person and "
        "period with --row-level. Output is written to a hidden temporary file in the target "
        "folder and moved into place when complete; an existing output is kept unless "
        "--overwrite (exit code 3), and an output that is one of the inputs is refused.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="[MODEL] SOURCE",
        help="panel .parquet file or folder, or a register folder; the model file comes "
        "first unless it is given with --model",
    )
    p.add_argument("--model", help="model.skops from 'train' (as in 'flag' and 'report')")
    p.add_argument("--out", required=True, help="output file (.parquet; .csv for groups)")
    p.add_argument("--by", action="append", help="group column (repeat; default unit_id)")
    p.add_argument("--row-level", action="store_true", help="write one risk per row")
    p.add_argument(
        "--pseudonymise",
        action="store_true",
        help="row-level output: replace employee ids by a keyed pseudonym (HMAC-SHA256 with the "
        "key in TURNOVER_RISK_KEY)",
    )
    p.add_argument(
        "--horizon",
        type=int,
        help="months: for a hazard model, the risk of leaving within this many months "
        "(default 12); a classifier has its own horizon and refuses it",
    )
    p.add_argument("--batch-rows", type=int, default=262_144, help="rows per record batch")
    p.add_argument("--min-group-size", type=int, default=5)
    p.add_argument("--engine", choices=("pandas", "dask"), default="pandas")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument(
        "--connect-timeout", type=float, default=10.0, help="seconds to wait for --scheduler"
    )
    # -- input checks and drift (issues 17, 20) ---------------------------------------------
    p.add_argument(
        "--fail-on-drift",
        action="store_true",
        help="exit with code 4 when an input feature drifted from the training data (the "
        "output and OUT.drift.csv are still written); for pipelines",
    )
    add_output_options(p)
    p.set_defaults(func=_cmd_score)


def _cmd_score(args) -> int:
    from turnover_risk._atomic import check_target

    if args.scheduler and args.engine != "dask":
        raise CLIError("--scheduler needs --engine dask")
    expected = 1 if args.model else 2
    if len(args.paths) != expected:
        raise CLIError(
            f"score takes {'SOURCE' if args.model else 'MODEL SOURCE'} "
            f"{'with --model' if args.model else '(or --model MODEL SOURCE)'}; got "
            f"{len(args.paths)} path(s)"
        )
    if args.pseudonymise and not args.row_level:
        raise CLIError("--pseudonymise applies to --row-level output (group tables hold no ids)")
    if args.pseudonymise and not os.environ.get("TURNOVER_RISK_KEY"):
        raise CLIError(
            "--pseudonymise needs a secret key in the TURNOVER_RISK_KEY environment variable "
            "(keep it out of the output folder); a plain hash is never used."
        )
    model_path = args.model or args.paths[0]
    source = args.paths[-1]
    out = Path(args.out)
    if out.suffix.lower() not in ((".parquet",) if args.row_level else (".parquet", ".csv")):
        raise CLIError(
            f"--out {args.out!r}: use a .parquet name{'' if args.row_level else ' (or .csv)'}"
        )
    # before any work: a clear refusal now, not after an hour of scoring
    check_target(
        out, overwrite=args.overwrite, inputs=[source, model_path], folder_ok=args.row_level
    )
    from turnover_risk.models import load_model

    model = load_model(model_path)
    if args.pseudonymise:
        res = _score_pseudonymised(args, model, source, out)
    else:
        res = _score(args, model, source, out, overwrite=args.overwrite)
    print(
        f"{res.rows_scored:,} of {res.rows_read:,} rows scored in {res.seconds:.1f} s "
        f"({res.rows_per_second:,.0f} rows/s, engine {res.engine}); written to {out}"
        + (" (employee ids pseudonymised)" if args.pseudonymise else "")
    )
    if res.rows_rejected:
        path = new_report_file(args, "score-rejected")
        res.rejected.to_csv(path, index=False)
        first = res.rejected.iloc[0]
        print(
            f"{res.rows_rejected:,} rows rejected (first: {first['problem']} in "
            f"{first['file']} row {first['row']}, column {first['column']}). Rejected rows: "
            f"{path}",
            file=sys.stderr,
        )
    return _score_checks(args, res, out)  # input checks and drift (issues 17, 20)


EXIT_DRIFT = 4
"""``score --fail-on-drift``: the output was written, but inputs drifted from the training data."""


def _score_checks(args, res, out: Path) -> int:
    """Problem rows of values the model never saw, ``OUT.drift.csv``, and the drift exit code."""
    from turnover_risk.governance._checks import write_drift_csv

    if len(res.input_problems):
        path = new_report_file(args, "score-input-problems")
        res.input_problems.to_csv(path, index=False)
        print(f"Rows scored with values the model never saw: {path}", file=sys.stderr)
    if res.drift is None:
        return EXIT_OK
    path = write_drift_csv(res.drift, out)
    if res.drift.any_drift:
        print(f"Input drift: {res.drift.summary()}. Table: {path}", file=sys.stderr)
    return EXIT_DRIFT if args.fail_on_drift and res.drift.any_drift else EXIT_OK


def _score(args, model, source, out: Path, *, overwrite: bool):
    from turnover_risk.scoring import score_dataset

    extra = {"scheduler": args.scheduler, "connect_timeout": args.connect_timeout}
    if args.horizon is not None:
        extra_horizon = {"horizon": args.horizon}
    else:
        extra_horizon = {}
    return score_dataset(
        model,
        source,
        out,
        batch_rows=args.batch_rows,
        row_level=args.row_level,
        overwrite=overwrite,
        engine=args.engine,
        by=args.by or "unit_id",
        min_group_size=args.min_group_size,
        **extra_horizon,
        **(extra if args.engine == "dask" else {}),
    )


def _score_pseudonymised(args, model, source, out: Path):
    from turnover_risk._atomic import discard, publish, temp_path

    spec = getattr(model, "spec_", None)
    id_cols = list(getattr(spec, "id_cols", None) or ["employee_id"])
    work = temp_path(out)  # a hidden folder beside the output, removed on any exit
    try:
        work.mkdir()
        res = _score(args, model, source, work / out.name, overwrite=False)
        tmp = temp_path(out)
        try:
            _pseudonymise_parquet(Path(res.path), tmp, id_cols)
        except BaseException:
            discard(tmp)
            raise
        publish(tmp, out, overwrite=args.overwrite)
    finally:
        discard(work)
    return res


def _pseudonymise_parquet(src: Path, dst: Path, id_cols: list[str]) -> None:
    """Copy a row-level Parquet file (or folder of part files) with ids pseudonymised."""
    if src.is_dir():
        dst.mkdir()
        for part in sorted(src.glob("*.parquet")):
            _pseudonymise_file(part, dst / part.name, id_cols)
    else:
        _pseudonymise_file(src, dst, id_cols)


def _pseudonymise_file(src: Path, dst: Path, id_cols: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from turnover_risk.privacy import pseudonymise

    pf = pq.ParquetFile(src)
    cols = [c for c in id_cols if c in pf.schema_arrow.names]
    schema = pf.schema_arrow
    for c in cols:
        schema = schema.set(schema.get_field_index(c), pa.field(c, pa.string()))
    with pq.ParquetWriter(dst, schema) as writer:
        for batch in pf.iter_batches():
            frame = batch.to_pandas()
            if cols:
                frame = pseudonymise(frame, cols)
                for c in cols:
                    frame[c] = frame[c].astype(object)
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
