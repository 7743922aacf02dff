"""The data commands: ``validate`` (a register folder against the data contract), ``rates``
(turnover or sick-leave rates to a table), ``features`` (the person-period panel) and ``demo``
(the main job on the embedded sample register).

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its arguments and
sets ``func`` to a ``_cmd_<name>(args) -> int`` function; the library is imported inside the
``_cmd_`` functions so ``turnover-risk --help`` stays quick.
"""

from __future__ import annotations

import time
from pathlib import Path

from turnover_risk.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    _print_table,
    add_output_options,
    describe_problem,
    load_register,
    new_report_file,
    write_table,
)
from turnover_risk.cli._print import _absent_text, _print_aligned, _steps

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
    add_output_options(p)
    p.set_defaults(func=_cmd_validate)


def _cmd_validate(args) -> int:
    from turnover_risk.data import read_register

    result = read_register(args.path, errors="quarantine", sep=args.sep, encoding=args.encoding)
    report = result.report
    print("Rows per table:")
    _print_table(report.counts.drop(columns="file"))
    if report.ok:
        print(f"\nNo problems: {args.path} follows the data contract.")
        if args.report:
            _write_report(report, args)
        return EXIT_OK
    print(f"\n{len(report)} problems:")
    _print_table(report.summary())
    print("\nFirst problems:")
    for row in report.problems.head(5).itertuples(index=False):
        print(f"  - {describe_problem(row)}")
    path = _write_report(report, args)
    print(f"\nFull problem report: {path}")
    return EXIT_BAD_INPUT


def _write_report(report, args) -> Path:
    """The problem list: to ``--report FILE`` (atomically, kept unless --overwrite) or a new
    file readable by the owner only (see :func:`new_report_file`)."""
    if not args.report:
        path = new_report_file(args, "problems")
        report.to_csv(str(path))
        return path
    from turnover_risk._atomic import atomic_output

    with atomic_output(args.report, overwrite=args.overwrite, inputs=[args.path]) as tmp:
        report.to_csv(str(tmp))
        tmp.chmod(0o600)
    return Path(args.report)


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
    add_output_options(p)
    p.set_defaults(func=_cmd_demo)


def _cmd_demo(args) -> int:
    import warnings

    from turnover_risk._atomic import atomic_output, check_target
    from turnover_risk._version import __version__
    from turnover_risk._warnings import DataQualityWarning
    from turnover_risk.data import validate
    from turnover_risk.datasets import load_sample
    from turnover_risk.groups import flag_groups
    from turnover_risk.models import TurnoverRiskModel, evaluate
    from turnover_risk.models._persistence import _save_model
    from turnover_risk.panel import build_panel
    from turnover_risk.rates import turnover_rate
    from turnover_risk.report import write_report

    start = time.perf_counter()
    out = Path(args.out)
    targets = {n: out / n for n in ("flags.csv", "model.skops", "report.html")}
    for target in targets.values():  # before the work: an existing output stops the demo
        check_target(target, overwrite=args.overwrite)
    steps = _steps(7, "demo")
    reg = load_sample()
    report = validate(reg)
    steps.update(1)
    print(f"turnover_risk {__version__}: embedded sample register")
    _print_aligned(reg.summary())
    print(f"\nValidation: {'no problems' if report.ok else f'{len(report)} problems'}")
    if not report.ok:
        steps.close()
        return EXIT_BAD_INPUT
    rates = turnover_rate(reg, definition="exit_share", period="year")
    steps.update(1)
    print("\nTurnover (exit_share, KS definition):")
    _print_aligned(rates[["period", "numerator", "denominator", "rate", "ci_low", "ci_high"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        panel = build_panel(reg)
        model = TurnoverRiskModel(kind="logistic", random_state=0).fit(panel)
        steps.update(1)
        evaluation = evaluate(model, panel)
        steps.update(1)
    pooled = evaluation.table[evaluation.table["fold"].astype(str) == "pooled"]
    print(f"\nPanel: {len(panel)} person-months. Temporal evaluation (pooled):")
    _print_aligned(pooled[["model", "roc_auc", "pr_auc", "brier", "calibration_slope"]])
    flags = flag_groups(model, panel, by="unit_id", random_state=0)
    steps.update(1)
    flagged = flags.flagged
    print(f"\nFlagged units ({len(flagged)} of {len(flags.table)}; period {flags.period.date()}):")
    if len(flagged):
        _print_aligned(flagged[["unit_id", "n_persons", "exit_share", "ratio", "q_value", "flag"]])
    flags_path = write_table(flags.table, targets["flags.csv"], overwrite=args.overwrite)
    model_path = _save_model(model, targets["model.skops"], evaluation, overwrite=args.overwrite)
    steps.update(1)
    with atomic_output(targets["report.html"], overwrite=args.overwrite) as tmp:
        write_report(
            reg, model, tmp, panel=panel, evaluation=evaluation, flags=flags, lang=args.lang
        )
    html = targets["report.html"]
    steps.update(1)
    steps.close()
    print(f"\nFlags: {flags_path}\nModel: {model_path}")
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
    add_output_options(p)
    p.set_defaults(func=_cmd_rates)


def _cmd_rates(args) -> int:
    from turnover_risk._atomic import check_target
    from turnover_risk.rates import sick_leave_rate, turnover_rate

    check_target(args.out, overwrite=args.overwrite, inputs=[args.path])  # before the work
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
        table = turnover_rate(reg, definition=args.definition, scope=args.scope, **common)
    else:
        table = sick_leave_rate(reg, certification=args.certification, **common)
    out = write_table(table, args.out, overwrite=args.overwrite, inputs=[args.path])
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
    add_output_options(p)
    p.set_defaults(func=_cmd_features)


def _cmd_features(args) -> int:
    from turnover_risk._atomic import check_target
    from turnover_risk.panel import build_panel, panel_spec

    check_target(args.out, overwrite=args.overwrite, inputs=[args.path])  # before the work
    reg = load_register(args.path)
    outcome = tuple(args.outcome.split(",")) if "," in args.outcome else args.outcome
    panel = build_panel(
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
    out = write_table(panel, args.out, overwrite=args.overwrite, inputs=[args.path])
    spec = panel_spec(panel)
    absent = _absent_text(spec.absent_features)
    print(
        f"{len(panel)} rows x {len(spec.feature_cols)} features, "
        f"{int(panel[spec.label_col].notna().sum())} labelled{absent}; written to {out}"
    )
    return EXIT_OK
