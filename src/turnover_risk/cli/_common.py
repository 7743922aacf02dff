"""What every command of the command line shares: exit codes, the bad-input error, reading a
register folder, printing and writing result tables, and where problem reports go.

Exit codes: 0 done; 2 bad input (:class:`CLIError` and the library's other deliberate errors:
the message names file, row and column and the fix; a full problem report is written and its
path printed); 3 the environment (permissions, a full disk, a folder in the way, an output that
exists): one line naming the path and the operating-system error; 1 internal error (the
traceback goes to a file whose path is printed). Nothing here imports pandas or the library at
module level, so ``turnover-risk --help`` stays quick.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from turnover_risk._errors import TurnoverRiskInputError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_ENVIRONMENT = 0, 1, 2, 3

ID_COLUMNS = ("employee_id",)
"""Columns whose values identify a person: never printed (a keyed pseudonym at most)."""


class CLIError(TurnoverRiskInputError):
    """Bad input detected by a subcommand: printed as one sentence, exit code 2."""


def add_output_options(p, *, problems: bool = True, overwrite: bool = True) -> None:
    """``--overwrite`` and ``--problems DIR``, shared by the commands that write files."""
    if overwrite:
        p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    if problems:
        p.add_argument(
            "--problems",
            metavar="DIR",
            help="folder for problem reports and error logs (default: beside the output, else "
            "the current folder); files are readable by you only",
        )


def _print_table(df, file=None) -> None:
    import pandas as pd

    file = file or sys.stdout
    with pd.option_context(
        "display.width", 160, "display.max_columns", 30, "display.max_rows", 200
    ):
        print(df.to_string(index=False), file=file)


def report_folder(args: Any) -> Path:
    """Where problem reports go: ``--problems``, else the output's folder, else the cwd."""
    if getattr(args, "problems", None):
        return Path(args.problems)
    out = getattr(args, "out", None)
    if out:
        out = Path(out)
        return out if (out.is_dir() and not out.suffix) else out.parent
    return Path.cwd()


def new_report_file(args: Any, stem: str, suffix: str = ".csv") -> Path:
    """Create an empty problem report file readable by the owner only (mode 0600).

    The name is unique per run: ``turnover-risk-<stem>-<timestamp>-<pid>-<random>.csv``; the
    file is created exclusively, so two runs never share (or overwrite) one report.
    """
    folder = report_folder(args)
    folder.mkdir(parents=True, exist_ok=True)
    name = (
        f"turnover-risk-{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-"
        f"{secrets.token_hex(3)}{suffix}"
    )
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    return path


def safe_value(column: Any, value: Any) -> str | None:
    """A problem's value as it may be printed: ``None`` for an identifier (a keyed pseudonym
    when ``TURNOVER_RISK_KEY`` is set), else the value as text."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    text = str(value)
    if not any(c in str(column) for c in ID_COLUMNS):
        return repr(text)
    if not os.environ.get("TURNOVER_RISK_KEY"):
        return None
    from turnover_risk.privacy import pseudonymise

    return "pseudonym " + str(pseudonymise(pd.DataFrame({"v": [text]}), "v")["v"].iloc[0])


def describe_problem(row: Any) -> str:
    """One problem of a validation report as a sentence without identifier values."""
    import pandas as pd

    bits = [f"table {row.table}"]
    if getattr(row, "file", None) and str(row.file) not in ("", "nan", "None"):
        bits.append(f"file {row.file}")
    line = getattr(row, "line", None)
    where = f"row {row.row}" + (f" (line {int(line)})" if not pd.isna(line) else "")
    bits += [where, f"column {row.column}"]
    value = safe_value(row.column, getattr(row, "value", None))
    text = ", ".join(bits) + f": {row.rule}"
    return text + (f" (value {value})" if value else "")


def write_table(df, out: str | Path, *, overwrite: bool = False, inputs=()) -> Path:
    """Write a result table to CSV or Parquet (by the suffix of ``out``), atomically.

    The table goes to a temporary file in the target folder that is moved into place when
    complete; an existing ``out`` is kept unless ``overwrite``; ``out`` may not be an input.
    """
    from turnover_risk._atomic import atomic_output

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise CLIError(f"--out {str(out)!r}: use a .csv or .parquet file name")
    with atomic_output(out, overwrite=overwrite, inputs=inputs) as tmp:
        if suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
    return out


def load_register(path: str):
    """Read and validate a register folder for a subcommand (raises on any problem)."""
    from turnover_risk.data import read_register

    return read_register(path, errors="raise")
