"""The ``turnover-risk`` command line: a thin layer over the library (no logic of its own).

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its arguments and sets
``func`` to a ``_cmd_<name>(args) -> int`` function: ``_data_commands`` holds ``validate``,
``rates``, ``features`` and ``demo``, ``_model_commands`` holds ``flag``, ``report``,
``train``, ``evaluate`` and ``migrate-model``, ``_score_command`` holds ``score``, and
``_common`` what they share. This module builds the parser, runs a command and turns errors
into exit codes (:mod:`turnover_risk.cli._errors`): 0 done, 2 bad input, 3 environment,
1 internal error. The library is imported inside the commands, so ``--help`` is quick.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
import warnings
from collections.abc import Sequence

from turnover_risk import _process
from turnover_risk._version import __version__
from turnover_risk.cli._data_commands import _add_demo, _add_features, _add_rates, _add_validate
from turnover_risk.cli._errors import run_guarded
from turnover_risk.cli._model_commands import (
    _add_evaluate,
    _add_flag,
    _add_migrate_model,
    _add_report,
    _add_train,
)
from turnover_risk.cli._score_command import _add_score

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
    _add_migrate_model,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="turnover-risk",
        description="Staff turnover and sick-leave statistics, features and explainable risk "
        "for public services. Exit codes: 0 done, 2 bad input, 3 environment (permissions, "
        "disk full, an existing output), 1 internal error; see docs/operations.md.",
    )
    parser.add_argument("--version", action="version", version=f"turnover-risk {__version__}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 done, 2 bad input, 3 environment, 1 internal).

    While a command runs, SIGINT and SIGTERM remove the temporary files of its outputs and
    stop it (exit code 128 + the signal number); the previous handlers are restored after.
    Without ``argv`` (the ``turnover-risk`` program itself), the process is marked as a
    command line (``turnover_risk._process.COMMAND_LINE``: it runs nothing else), its garbage
    collector gets the program's thresholds (``_process.as_program``), and its objects are
    frozen once the command has ended (:func:`_end_of_program`).
    """
    if argv is None:
        _process.as_program()
    parser = build_parser()
    args = parser.parse_args(argv)
    from turnover_risk._atomic import install_signal_cleanup
    from turnover_risk._progress import set_quiet

    set_quiet(args.quiet)
    if argv is None:  # the process's own command line: it runs nothing else (_process)
        _process.COMMAND_LINE = True
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    install_signal_cleanup()
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return run_guarded(args)
    finally:
        if threading.current_thread() is threading.main_thread():
            for sig, handler in previous.items():
                if handler is not None:
                    signal.signal(sig, handler)
        if argv is None:
            _end_of_program()


def _end_of_program() -> None:
    """Move every object to the garbage collector's permanent generation (``gc.freeze``): the
    program exits next, and the interpreter's shutdown then skips its full collections over
    the objects of every imported library. After a report (pandas, scikit-learn, SciPy, shap,
    Matplotlib) those took 0.6-0.75 s between the command's end and the process's, 0.1 s once
    frozen (``benchmarks/results.md``). Nothing else changes: exit handlers run, streams are
    flushed, and objects not in a reference cycle are freed as before; the memory of cyclic
    garbage is returned with the process's."""
    gc.freeze()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """One line per warning on stderr, without the file and source line Python adds."""
    print(f"turnover-risk: {category.__name__}: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
