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
    p.set_defaults(func=_cmd_demo)


def _cmd_demo(args) -> int:
    import turnover_risk as tr

    reg = tr.load_sample()
    report = tr.validate(reg)
    print(f"turnover_risk {__version__}: embedded sample register")
    _print_table(reg.summary())
    print(f"\nValidation: {'no problems' if report.ok else f'{len(report)} problems'}")
    return EXIT_OK if report.ok else EXIT_BAD_INPUT


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------

_COMMANDS = (_add_demo, _add_validate)


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
