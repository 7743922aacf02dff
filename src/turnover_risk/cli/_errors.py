"""From an exception to an exit code and one line on stderr.

* **2, bad input**: :class:`~turnover_risk._errors.TurnoverRiskInputError` (the library's
  deliberate errors: data-contract problems, survey input, CLI arguments, refused model files,
  an output equal to an input), and a ``ValueError``/``TypeError``/``KeyError`` raised by an
  explicit ``raise`` statement in turnover_risk's own source (its argument checks), plus a
  path that does not exist. A data-contract problem writes the full problem report (mode 0600,
  unique name) and prints its path; the printed line names table, row and column but never an
  employee id (a keyed pseudonym when ``TURNOVER_RISK_KEY`` is set).
* **3, environment**: any other ``OSError`` (permission denied, disk full, a folder in the way,
  an output that exists, a read-only file system) and ``MemoryError``: one line with the path
  and the operating system's words.
* **1, internal error**: everything else, e.g. a ``KeyError`` from inside pandas. The traceback
  is written to a file (mode 0600) whose path is printed.
* **128 + signal**: stopped by SIGINT/SIGTERM; temporary files were removed.
"""

from __future__ import annotations

import errno
import linecache
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from turnover_risk._atomic import stopped
from turnover_risk._errors import TurnoverRiskInputError
from turnover_risk.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_ENVIRONMENT,
    EXIT_INTERNAL,
    describe_problem,
    new_report_file,
)

_PACKAGE = str(Path(__file__).resolve().parents[1])


def _say(text: str) -> None:
    print(f"turnover-risk: {text}", file=sys.stderr)


def deliberate(err: BaseException) -> bool:
    """Whether ``err`` is one of the library's deliberate bad-input errors."""
    if isinstance(err, TurnoverRiskInputError):
        return True
    if not isinstance(err, ValueError | TypeError | KeyError):
        return False
    tb = err.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = str(Path(tb.tb_frame.f_code.co_filename).resolve())
    if not filename.startswith(_PACKAGE):
        return False  # raised inside pandas, numpy, scikit-learn ...: a bug of ours
    return linecache.getline(filename, tb.tb_lineno).lstrip().startswith("raise ")


def run_guarded(args: Any) -> int:
    """Run ``args.func(args)`` and map what it raises to an exit code.

    After SIGINT/SIGTERM the exit code is ``128 + signal`` whatever was raised: the stop can
    surface as another error (a temporary file the handler removed), or be swallowed where
    Python cannot raise (a finaliser); nothing is published after it either way.
    """
    try:
        code = int(args.func(args) or 0)
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as err:
        code = _exit_code(err, args)
    signum = stopped()
    if signum is not None and code != 128 + signum:
        _say(f"stopped by {signal.Signals(signum).name}; temporary files removed.")
        return 128 + signum
    return code


def _exit_code(err: BaseException, args: Any) -> int:
    signum = stopped() or getattr(err, "signum", None)
    if signum is not None or isinstance(err, KeyboardInterrupt):
        signum = signum or signal.SIGINT
        _say(f"stopped by {signal.Signals(signum).name}; temporary files removed, no output "
             "written.")  # fmt: skip
        return 128 + signum
    if isinstance(err, FileNotFoundError | NotADirectoryError):
        _say(_os_line(err, args))
        return EXIT_BAD_INPUT
    if isinstance(err, OSError):
        _say(_os_line(err, args))
        return EXIT_ENVIRONMENT
    if isinstance(err, MemoryError):
        _say(_memory_line())
        return EXIT_ENVIRONMENT
    if isinstance(err, Exception) and deliberate(err):
        return _bad_input(err, args)
    if isinstance(err, Exception):
        return _internal(err, args)
    raise err


def _os_line(err: OSError, args: Any) -> str:
    if isinstance(err, ConnectionError) and err.filename is None:
        return str(err)  # e.g. no Dask scheduler answered: the message names the address
    reason = err.strerror or str(err) or type(err).__name__
    if err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        reason += " (the disk or your quota is full, or the file size limit was reached)"
    path = err.filename
    if path is None:
        out = getattr(args, "out", None)
        return f"{reason} while working on {out!r}" if out else reason
    return f"{reason}: {str(path)!r}"


def _memory_line() -> str:
    return "out of memory; use a smaller --batch-rows or a machine with more memory."


def _bad_input(err: Exception, args: Any) -> int:
    report = getattr(err, "report", None)
    problems = getattr(err, "problems", None)
    if report is not None and hasattr(report, "problems"):
        path = new_report_file(args, "problems")
        report.to_csv(str(path))
        first = describe_problem(next(report.problems.head(1).itertuples(index=False)))
        _say(f"bad input, {len(report)} problems (first: {first}). Full problem report: {path}")
        return EXIT_BAD_INPUT
    if problems is not None and hasattr(problems, "to_csv"):
        path = new_report_file(args, "problems")
        problems.to_csv(path, index=False)
        _say(f"bad input, {len(problems)} problems. Full problem report: {path}")
        return EXIT_BAD_INPUT
    msg = err.args[0] if isinstance(err, KeyError) and err.args else err
    _say(str(msg))
    return EXIT_BAD_INPUT


def _internal(err: Exception, args: Any) -> int:
    text = "".join(traceback.format_exception(err))
    try:
        path = new_report_file(args, "error", suffix=".txt")
        path.write_text(f"turnover-risk {getattr(args, 'command', '')}\n{text}")
        where = f"The traceback is in {path}"
    except OSError:
        where = "The traceback could not be written to a file"
    _say(
        f"internal error ({type(err).__name__}). {where}; please report it with the command "
        "you ran (check the file for personal data first)."
    )
    return EXIT_INTERNAL
