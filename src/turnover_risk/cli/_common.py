"""What every command of the command line shares: exit codes, the bad-input error, reading a
register folder, printing and writing result tables, and where problem reports go.

Exit codes: 0 success, 2 bad input (:class:`CLIError`, or a problem the library reports; the
message names the problem and a full problem report is written to a CSV file in the temporary
folder whose path is printed), 1 internal failure.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

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
    from turnover_risk.data import read_register

    return read_register(path, errors="raise")
