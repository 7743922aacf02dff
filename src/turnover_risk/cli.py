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
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from turnover_risk import __version__
from turnover_risk.validation import DataValidationError

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
    from turnover_risk.io import read_register

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
    from turnover_risk.io import read_register

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
    p.add_argument("--scope", default="service", help="unit, service, municipality or any")
    p.add_argument("--certification", default="all", help="all, self, doctor or split")
    p.add_argument("--min-group-size", type=int, default=5)
    p.add_argument("--margins", action="store_true", help="add total rows")
    p.add_argument("--out", required=True, help="output file (.csv or .parquet)")
    p.set_defaults(func=_cmd_rates)


def _cmd_rates(args) -> int:
    import turnover_risk as tr

    reg = load_register(args.path)
    common = dict(
        by=args.by, period=args.period, min_group_size=args.min_group_size, margins=args.margins
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
# entry point
# --------------------------------------------------------------------------------------------

_COMMANDS = (_add_demo, _add_validate, _add_rates, _add_features, _add_flag, _add_report)


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
