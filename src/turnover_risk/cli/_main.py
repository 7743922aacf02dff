"""The ``turnover-risk`` command line: a thin layer over the library (no logic of its own).

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its arguments and sets
``func`` to a ``_cmd_<name>(args) -> int`` function. Exit codes: 0 success, 2 bad input (the
message names the problem; a full problem report is written to a CSV file whose path is printed),
1 internal failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from turnover_risk._version import __version__
from turnover_risk.data._validation import DataValidationError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


class CLIError(Exception):
    """Bad input detected by a subcommand: printed as one sentence, exit code 2."""


def _print_table(df: pd.DataFrame, file=None) -> None:
    file = file or sys.stdout
    with pd.option_context(
        "display.width", 160, "display.max_columns", 30, "display.max_rows", 200
    ):
        print(df.to_string(index=False), file=file)


def _problem_report_path(stem: str) -> Path:
    return (
        Path(tempfile.gettempdir()) / f"turnover-risk-{stem}-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    )


def write_table(df: pd.DataFrame, out: str | Path) -> Path:
    """Write a result table to CSV or Parquet chosen by the suffix of ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        df.to_parquet(out, index=False)
    elif suffix == ".csv":
        df.to_csv(out, index=False)
    else:
        raise CLIError(f"--out {str(out)!r}: use a .csv or .parquet file name")
    return out


def load_register(path: str):
    """Read and validate a register folder for a subcommand (raises on any problem)."""
    from turnover_risk.data._io import read_register

    return read_register(path, errors="raise")


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------


def _add_validate(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="check a register folder against the data contract",
        description="Read every table of a register folder, check it against the data contract "
        "and print a summary. Exit code 0 when clean, 2 when any problem was found.",
    )
    p.add_argument("path", help="folder with employment.csv/.parquet and the other tables")
    p.add_argument("--report", metavar="FILE", help="write the full problem list to this CSV file")
    p.add_argument("--sep", help="CSV separator (detected when omitted)")
    p.add_argument("--encoding", help="CSV encoding (detected when omitted)")
    p.set_defaults(func=_cmd_validate)


def _cmd_validate(args) -> int:
    from turnover_risk.data._io import read_register

    result = read_register(args.path, errors="quarantine", sep=args.sep, encoding=args.encoding)
    report = result.report
    print("Rows per table:")
    _print_table(report.counts.drop(columns="file"))
    if report.ok:
        print(f"\nNo problems: {args.path} follows the data contract.")
        if args.report:
            report.to_csv(args.report)
        return EXIT_OK
    print(f"\n{len(report)} problems:")
    _print_table(report.summary())
    print("\nFirst problems:")
    for line in report.first(5):
        print(f"  - {line}")
    path = Path(args.report) if args.report else _problem_report_path("problems")
    report.to_csv(path)
    print(f"\nFull problem report: {path}")
    return EXIT_BAD_INPUT


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------


def _add_demo(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="the main job on the embedded sample register",
        description="Run the main job on the embedded sample register.",
    )
    p.add_argument("--out", default="turnover-risk-demo", help="output folder")
    p.add_argument("--lang", choices=("nb", "en"), default="nb", help="report language")
    p.set_defaults(func=_cmd_demo)


def _cmd_demo(args) -> int:
    import warnings

    import turnover_risk as tr

    start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    reg = tr.load_sample()
    report = tr.validate(reg)
    print(f"turnover_risk {__version__}: embedded sample register")
    _print_table(reg.summary())
    print(f"\nValidation: {'no problems' if report.ok else f'{len(report)} problems'}")
    if not report.ok:
        return EXIT_BAD_INPUT
    rates = tr.turnover_rate(reg, definition="exit_share", period="year")
    print("\nTurnover (exit_share, KS definition):")
    _print_table(rates[["period", "numerator", "denominator", "rate", "ci_low", "ci_high"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.DataQualityWarning)
        panel = tr.build_panel(reg)
        model = tr.TurnoverRiskModel(kind="logistic", random_state=0).fit(panel)
        evaluation = tr.evaluate(model, panel)
    pooled = evaluation.table[evaluation.table["fold"].astype(str) == "pooled"]
    print(f"\nPanel: {len(panel)} person-months. Temporal evaluation (pooled):")
    _print_table(pooled[["model", "roc_auc", "pr_auc", "brier", "calibration_slope"]])
    flags = tr.flag_groups(model, panel, by="unit_id", random_state=0)
    flagged = flags.flagged
    print(f"\nFlagged units ({len(flagged)} of {len(flags.table)}; period {flags.period.date()}):")
    if len(flagged):
        _print_table(flagged[["unit_id", "n_persons", "exit_share", "ratio", "q_value", "flag"]])
    flags_path = write_table(flags.table, out / "flags.csv")
    model.save(out / "model.joblib", evaluation=evaluation)
    html = tr.write_report(
        reg,
        model,
        out / "report.html",
        panel=panel,
        evaluation=evaluation,
        flags=flags,
        lang=args.lang,
    )
    print(f"\nFlags: {flags_path}\nModel: {out / 'model.joblib'}")
    print(f"Report: {html.resolve()}  ({time.perf_counter() - start:.1f} s)")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# rates
# --------------------------------------------------------------------------------------------


def _add_rates(sub) -> None:
    p = sub.add_parser(
        "rates",
        help="turnover or sick-leave rates by group and period",
        description="Compute turnover under a named definition (turnover_rate) or the SSB/NAV "
        "sick-leave percentage (--kind sick-leave) from a register folder and write a tidy "
        "table (CSV or Parquet by the suffix of --out). Small groups are suppressed.",
    )
    p.add_argument("path", help="register folder")
    p.add_argument("--kind", choices=("turnover", "sick-leave"), default="turnover")
    p.add_argument("--definition", default="exit_share", help="turnover definition key")
    p.add_argument("--by", action="append", help="group column (repeat for several)")
    p.add_argument("--period", default="year", help="year, quarter, month or a label")
    p.add_argument(
        "--scope",
        default=None,
        help="unit, service, municipality or any (default: service; bufdir: unit)",
    )
    p.add_argument("--certification", default="all", help="all, self, doctor or split")
    p.add_argument("--min-group-size", type=int, default=5)
    p.add_argument("--margins", action="store_true", help="add total rows")
    p.add_argument(
        "--start",
        help="observation window start (YYYY-MM-DD); default: the register's metadata.json, "
        "else inferred (a left-truncated HR extract starts where its records begin)",
    )
    p.add_argument("--end", help="observation window end (YYYY-MM-DD)")
    p.add_argument("--out", required=True, help="output file (.csv or .parquet)")
    p.set_defaults(func=_cmd_rates)


def _cmd_rates(args) -> int:
    import turnover_risk as tr

    reg = load_register(args.path)
    common = dict(
        by=args.by,
        period=args.period,
        min_group_size=args.min_group_size,
        margins=args.margins,
        start=args.start,
        end=args.end,
    )
    if args.kind == "turnover":
        table = tr.turnover_rate(reg, definition=args.definition, scope=args.scope, **common)
    else:
        table = tr.sick_leave_rate(reg, certification=args.certification, **common)
    out = write_table(table, args.out)
    print(f"{len(table)} rows ({int(table['suppressed'].sum())} suppressed) written to {out}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------------------------


def _add_features(sub) -> None:
    p = sub.add_parser(
        "features",
        help="build the person-period panel (point-in-time features and labels)",
        description="Build the person-period panel of a register folder with build_panel and "
        "write it (Parquet keeps the column roles; CSV does not). Row-level output: keep it "
        "inside the organisation.",
    )
    p.add_argument("path", help="register folder")
    p.add_argument("--out", required=True, help="output file (.parquet or .csv)")
    p.add_argument("--freq", default="M", help="M (monthly), Q (quarterly) or Y (yearly)")
    p.add_argument("--horizon", type=int, default=12, help="periods ahead for the label")
    p.add_argument(
        "--outcome",
        default="voluntary",
        help="voluntary, any, an exit reason, or several exit reasons separated by commas",
    )
    p.add_argument("--scope", default="service", help="unit, service, municipality or any")
    p.add_argument("--start", help="first period start (YYYY-MM-DD)")
    p.add_argument("--end", help="last period start (YYYY-MM-DD)")
    p.add_argument("--as-of", help="last day the data describe (default: latest date seen)")
    p.add_argument("--min-group-size", type=int, default=5)
    p.set_defaults(func=_cmd_features)


def _cmd_features(args) -> int:
    import turnover_risk as tr

    reg = load_register(args.path)
    outcome = tuple(args.outcome.split(",")) if "," in args.outcome else args.outcome
    panel = tr.build_panel(
        reg,
        freq=args.freq,
        horizon=args.horizon,
        outcome=outcome,
        scope=args.scope,
        start=args.start,
        end=args.end,
        as_of=args.as_of,
        min_group_size=args.min_group_size,
    )
    out = write_table(panel, args.out)
    spec = tr.panel_spec(panel)
    absent = (
        f"; absent (missing tables): {len(spec.absent_features)}" if spec.absent_features else ""
    )
    print(
        f"{len(panel)} rows x {len(spec.feature_cols)} features, "
        f"{int(panel[spec.label_col].notna().sum())} labelled{absent}; written to {out}"
    )
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# flag and report
# --------------------------------------------------------------------------------------------


def _model_and_panel(args):
    """The model (loaded, or a logistic model fitted here) and the panel for flag/report."""
    import warnings

    import turnover_risk as tr

    model = tr.load_model(args.model) if args.model else None
    path = Path(args.path)
    if path.is_file() and path.suffix.lower() == ".parquet":
        reg, panel = None, pd.read_parquet(path)
    else:
        reg = load_register(args.path)
        spec = getattr(model, "spec_", None)
        kw = (
            {
                "freq": spec.freq,
                "horizon": spec.horizon,
                "outcome": spec.outcome,
                "scope": spec.scope,
            }
            if spec is not None
            else {}
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tr.DataQualityWarning)
            panel = tr.build_panel(reg, **kw)
    if model is None:
        print("No --model given: fitting a logistic TurnoverRiskModel on the panel.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tr.DataQualityWarning)
            model = tr.TurnoverRiskModel(kind="logistic", random_state=0).fit(panel)
    return reg, model, panel


def _add_flag(sub) -> None:
    p = sub.add_parser(
        "flag",
        help="flag groups at elevated turnover risk",
        description="Flag units (or other groups) whose predicted (prospective) or observed "
        "vs. expected (retrospective) turnover stands out, with Benjamini-Hochberg control and "
        "the top drivers of each flagged group. Groups under --min-group-size are suppressed.",
    )
    p.add_argument("path", help="register folder, or a panel .parquet from 'features'")
    p.add_argument("--model", help="model.joblib from 'train' (default: fit a logistic model)")
    p.add_argument("--by", action="append", help="group column (repeat for several)")
    p.add_argument("--mode", choices=("prospective", "retrospective"), default="prospective")
    p.add_argument("--period", help="period to assess (YYYY-MM-DD; default: see docs)")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--no-fdr", action="store_true", help="flag on raw p-values")
    p.add_argument(
        "--overdispersion", default="auto", choices=("auto", "multiplicative", "additive", "none")
    )
    p.add_argument("--n-boot", type=int, default=10, help="bootstrap refits (prospective)")
    p.add_argument("--margin", type=float, default=1.25, help="ratio that counts (prospective)")
    p.add_argument("--min-group-size", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output file (.csv or .parquet)")
    p.set_defaults(func=_cmd_flag)


def _cmd_flag(args) -> int:
    import turnover_risk as tr

    _, model, panel = _model_and_panel(args)
    res = tr.flag_groups(
        model,
        panel,
        by=(args.by[0] if args.by and len(args.by) == 1 else args.by or "unit_id"),
        period=args.period,
        mode=args.mode,
        min_group_size=args.min_group_size,
        alpha=args.alpha,
        fdr=not args.no_fdr,
        overdispersion=args.overdispersion,
        n_boot=args.n_boot,
        margin=args.margin,
        random_state=args.seed,
    )
    out = write_table(res.table, args.out)
    counts = res.table["flag"].value_counts().to_dict()
    print(f"{len(res.table)} groups ({res.mode}, period {res.period.date()}): {counts}")
    if res.overdispersion:
        od = res.overdispersion
        print(
            f"over-dispersion: {od['applied']} (phi={od['phi']:.2f}, tau2={od['tau2']:.3f}, "
            f"p={od['p_value']:.3f})"
        )
    if res.reason:
        print(res.reason)
    print(f"written to {out}")
    return EXIT_OK


def _add_report(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write the self-contained HTML report",
        description="Write one self-contained HTML file (no network; CSS and images inline): "
        "data and validation, turnover and sick leave over time, model validation, flagged "
        "groups with drivers, what-if for the main levers, and what the numbers can and "
        "cannot say. No employee ids; small groups suppressed.",
    )
    p.add_argument("path", help="register folder")
    p.add_argument("--model", help="model.joblib from 'train' (default: fit a logistic model)")
    p.add_argument("--by", default="unit_id", help="group column")
    p.add_argument("--lang", choices=("nb", "en"), default="nb")
    p.add_argument("--n-boot", type=int, default=10, help="bootstrap refits for the flags")
    p.add_argument("--min-group-size", type=int, default=5)
    p.add_argument("--out", default="report.html", help="output HTML file")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args) -> int:
    import turnover_risk as tr

    if Path(args.path).suffix.lower() == ".parquet":
        raise CLIError(
            "report needs a register folder (it shows rates and validation), "
            f"not a panel file: {args.path!r}"
        )
    reg, model, panel = _model_and_panel(args)
    out = tr.write_report(
        reg,
        model,
        args.out,
        by=args.by,
        lang=args.lang,
        panel=panel,
        min_group_size=args.min_group_size,
        n_boot=args.n_boot,
    )
    print(f"Report written to {out.resolve()}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# score
# --------------------------------------------------------------------------------------------


def _add_score(sub) -> None:
    p = sub.add_parser(
        "score",
        help="score a whole population in constant memory (group level by default)",
        description="Stream a panel Parquet file or folder (or build the panel of a register "
        "folder partition by partition), score it with a saved model and write expected "
        "leavers per group and period (small groups suppressed), or one risk per person and "
        "period with --row-level. Output is written under a temporary name and renamed when "
        "complete; an existing output is kept unless --overwrite.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="[MODEL] SOURCE",
        help="panel .parquet file or folder, or a register folder; the model file comes "
        "first unless it is given with --model",
    )
    p.add_argument("--model", help="model.joblib from 'train' (as in 'flag' and 'report')")
    p.add_argument("--out", required=True, help="output file (.parquet; .csv for groups)")
    p.add_argument("--by", action="append", help="group column (repeat; default unit_id)")
    p.add_argument("--row-level", action="store_true", help="write one risk per row")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--batch-rows", type=int, default=262_144, help="rows per record batch")
    p.add_argument("--min-group-size", type=int, default=5)
    p.add_argument("--engine", choices=("pandas", "dask"), default="pandas")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument(
        "--connect-timeout", type=float, default=10.0, help="seconds to wait for --scheduler"
    )
    p.set_defaults(func=_cmd_score)


def _cmd_score(args) -> int:
    import turnover_risk as tr

    if args.scheduler and args.engine != "dask":
        raise CLIError("--scheduler needs --engine dask")
    expected = 1 if args.model else 2
    if len(args.paths) != expected:
        raise CLIError(
            f"score takes {'SOURCE' if args.model else 'MODEL SOURCE'} "
            f"{'with --model' if args.model else '(or --model MODEL SOURCE)'}; got "
            f"{len(args.paths)} path(s): {' '.join(args.paths)}"
        )
    model_path = args.model or args.paths[0]
    source = args.paths[-1]
    model = tr.load_model(model_path)
    extra = {"scheduler": args.scheduler, "connect_timeout": args.connect_timeout}
    try:
        res = tr.score_dataset(
            model,
            source,
            args.out,
            batch_rows=args.batch_rows,
            row_level=args.row_level,
            overwrite=args.overwrite,
            engine=args.engine,
            by=args.by or "unit_id",
            min_group_size=args.min_group_size,
            **(extra if args.engine == "dask" else {}),
        )
    except (FileExistsError, ConnectionError) as err:
        raise CLIError(str(err)) from err
    print(
        f"{res.rows_scored:,} of {res.rows_read:,} rows scored in {res.seconds:.1f} s "
        f"({res.rows_per_second:,.0f} rows/s, engine {res.engine}); written to {res.path}"
    )
    if res.rows_rejected:
        path = _problem_report_path("score-rejected")
        res.rejected.to_csv(path, index=False)
        first = res.rejected.iloc[0]
        print(
            f"{res.rows_rejected:,} rows rejected (first: {first['problem']} in "
            f"{first['file']} row {first['row']}). Rejected rows: {path}",
            file=sys.stderr,
        )
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# train and evaluate
# --------------------------------------------------------------------------------------------

_EVAL_COLUMNS = (
    "fold", "model", "n_test", "n_test_positive", "test_start", "test_end", "roc_auc", "pr_auc",
    "brier", "log_loss", "calibration_intercept", "calibration_slope", "ece", "precision_top10",
    "recall_top10",
)  # fmt: skip


def _panel_for_model(path: str, spec=None) -> pd.DataFrame:
    """A panel Parquet file from 'features' as is, or the panel of a register folder."""
    import warnings

    import turnover_risk as tr

    source = Path(path)
    if source.is_file():
        if source.suffix.lower() != ".parquet":
            raise CLIError(
                f"{path!r} is a file but not a .parquet panel; pass a register folder or the "
                "panel written by 'turnover-risk features --out panel.parquet'"
            )
        return pd.read_parquet(source)
    kw = {}
    if spec is not None:
        kw = {"freq": spec.freq, "horizon": spec.horizon, "outcome": spec.outcome}
        kw["scope"] = spec.scope
    reg = load_register(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.DataQualityWarning)
        return tr.build_panel(reg, **kw)


def _evaluation_table(result) -> pd.DataFrame:
    table = result.table[[c for c in _EVAL_COLUMNS if c in result.table.columns]].copy()
    for col in ("test_start", "test_end"):
        table[col] = pd.to_datetime(table[col]).dt.strftime("%Y-%m")
    return table.round(3)


def _run_evaluation(model, panel, n_splits: int):
    import warnings

    import turnover_risk as tr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.DataQualityWarning)
        result = tr.evaluate(model, panel, n_splits=n_splits)
    print(
        f"Out-of-time evaluation ({result.n_splits} folds, gap {result.gap} periods, "
        f"{len(result.predictions)} test rows; base_rate ranks nobody, so its ranking "
        "metrics are empty):"
    )
    _print_table(_evaluation_table(result))
    return result


def _add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="fit, evaluate over time and save a turnover risk model",
        description="Build the panel of a register folder (or read a panel .parquet from "
        "'features'), evaluate the model out of time (rolling origin, one horizon gap), fit it "
        "on every labelled row and save model.joblib with a model.json manifest holding the "
        "evaluation summary. No employee ids or training rows are saved.",
    )
    p.add_argument("path", help="register folder or panel .parquet")
    p.add_argument("--kind", choices=("logistic", "gbm"), default="logistic")
    p.add_argument("--out", required=True, help="model file (.joblib); manifest beside it")
    p.add_argument("--n-splits", type=int, default=4, help="evaluation folds (default 4)")
    p.add_argument("--random-state", type=int, default=0)
    p.set_defaults(func=_cmd_train)


def _cmd_train(args) -> int:
    import warnings

    import turnover_risk as tr

    if Path(args.out).suffix.lower() != ".joblib":
        raise CLIError(f"--out {args.out!r}: use a .joblib file name (the manifest gets .json)")
    panel = _panel_for_model(args.path)
    model = tr.TurnoverRiskModel(kind=args.kind, random_state=args.random_state)
    result = _run_evaluation(model, panel, args.n_splits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.DataQualityWarning)
        model.fit(panel)
    out = model.save(args.out, evaluation=result)
    print(
        f"Fitted {args.kind} on {model.n_train_rows_} rows ({model.n_positive_} leavers); "
        f"saved {out} and {out.with_suffix('.json').name}"
    )
    return EXIT_OK


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="print the out-of-time evaluation table of a model",
        description="Evaluate a model kind (or the settings of a saved model) on a register "
        "folder or panel .parquet: rolling-origin folds by period with a gap of one horizon, "
        "persons kept apart; per fold and pooled ROC-AUC, PR-AUC, Brier, log loss, calibration "
        "and top-10 %% precision/recall next to the base-rate and unit-exit-share baselines.",
    )
    p.add_argument("path", help="register folder or panel .parquet")
    p.add_argument("--kind", choices=("logistic", "gbm"), default="logistic")
    p.add_argument("--model", help="saved model.joblib: evaluate its settings (refitted per fold)")
    p.add_argument("--n-splits", type=int, default=4, help="evaluation folds (default 4)")
    p.add_argument("--out", help="also write the full table (.csv or .parquet)")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args) -> int:
    import turnover_risk as tr

    if args.model:
        saved = tr.load_model(args.model)
        panel = _panel_for_model(args.path, getattr(saved, "spec_", None))
        model = tr.TurnoverRiskModel(**saved.get_params())
    else:
        panel = _panel_for_model(args.path)
        model = tr.TurnoverRiskModel(kind=args.kind, random_state=0)
    result = _run_evaluation(model, panel, args.n_splits)
    if args.out:
        print(f"Full table written to {write_table(result.table, args.out)}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------

_COMMANDS = (
    _add_demo,
    _add_validate,
    _add_rates,
    _add_features,
    _add_flag,
    _add_report,
    _add_score,
    _add_train,
    _add_evaluate,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="turnover-risk",
        description="Staff turnover and sick-leave statistics, features and explainable risk "
        "for public services.",
    )
    parser.add_argument("--version", action="version", version=f"turnover-risk {__version__}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 bad input, 1 internal failure)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from turnover_risk._progress import set_quiet

    set_quiet(args.quiet)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _run(args)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """One line per warning on stderr, without the file and source line Python adds."""
    print(f"turnover-risk: {category.__name__}: {message}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except DataValidationError as err:
        path = _problem_report_path("problems")
        err.report.to_csv(path)
        first = err.report.first(1)[0] if len(err.report) else str(err)
        print(
            f"turnover-risk: bad input, {len(err.report)} problems (first: {first}). "
            f"Full problem report: {path}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    except (
        CLIError,
        FileNotFoundError,
        NotADirectoryError,
        ValueError,
        TypeError,
        KeyError,
    ) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"turnover-risk: {msg}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("turnover-risk: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        print(
            f"turnover-risk: internal error ({type(err).__name__}: {err}). "
            "Please report it with the command you ran.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
