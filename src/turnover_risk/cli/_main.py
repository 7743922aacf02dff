"""The ``turnover-risk`` command line: a thin layer over the library (no logic of its own).

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its arguments and sets
``func`` to a ``_cmd_<name>(args) -> int`` function: ``_data_commands`` holds ``validate``,
``rates``, ``features`` and ``demo``, ``_model_commands`` holds ``flag``, ``report``,
``score``, ``train`` and ``evaluate``, and ``_common`` what they share. This module builds the
parser, runs a command and turns errors into exit codes: 0 success, 2 bad input (the message
names the problem; a full problem report is written to a CSV file whose path is printed),
1 internal failure.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from turnover_risk._version import __version__
from turnover_risk.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    CLIError,
    _problem_report_path,
)
from turnover_risk.cli._data_commands import _add_demo, _add_features, _add_rates, _add_validate
from turnover_risk.cli._model_commands import (
    _add_evaluate,
    _add_flag,
    _add_report,
    _add_score,
    _add_train,
)
from turnover_risk.data import DataValidationError

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
