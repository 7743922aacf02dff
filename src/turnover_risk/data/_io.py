"""Reading and writing registers: one file per table, CSV or Parquet (pyarrow) by suffix.

CSV files exported from Norwegian HR systems often use ``;`` as separator, a decimal comma,
a byte-order mark or Latin-1 text, and dates like ``31.12.2021``. :func:`read_register` detects
all of these; every cell that still does not fit the contract becomes a row of the
validation report (see :func:`turnover_risk.data.validate`).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from turnover_risk._atomic import atomic_output
from turnover_risk.data._files import RawTable, read_csv, read_parquet
from turnover_risk.data._rules import _Collector
from turnover_risk.data._schema import ALL_TABLES, TABLE_NAMES, Register
from turnover_risk.data._validation import (
    DataValidationError,
    QuarantineResult,
    SourceInfo,
    ValidationReport,
    clean_register,
)

__all__ = ["read_register", "read_table", "write_register"]

_SUFFIXES = (".parquet", ".csv")
METADATA_FILE = "metadata.json"


def _read_raw(path: Path, *, sep: str | None, encoding: str | None) -> RawTable:
    if path.suffix.lower() == ".parquet":
        return read_parquet(path)
    if path.suffix.lower() != ".csv":
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .csv or .parquet")
    return read_csv(path, sep=sep, encoding=encoding)


def read_table(path: str | Path, *, sep: str | None = None, encoding: str | None = None):
    """Read one table file as raw values (text for CSV, as stored for Parquet).

    Parameters
    ----------
    path : str or Path
        ``*.csv`` or ``*.parquet``.
    sep : str, optional
        CSV separator; detected from the header line (``;``, ``,``, tab or ``|``) when omitted.
    encoding : str, optional
        CSV encoding; detected per file (UTF-8 with or without BOM, else Windows-1252/Latin-1).

    Returns
    -------
    DataFrame
        Untyped; pass it through :func:`turnover_risk.validate` or use :func:`read_register`.

    Raises
    ------
    DataValidationError
        When the file as a whole cannot be used: it cannot be parsed, mixes encodings, names a
        column twice or ends in the middle of a row (``.report`` names file, line and fix).

    Examples
    --------
    >>> import tempfile, pathlib, turnover_risk as tr
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "units.csv"
    >>> _ = f.write_bytes("unit_id;municipality U1;Tromsø ".replace(" ", chr(10)).encode("cp1252"))
    >>> tr.data.read_table(f)["municipality"].iloc[0]
    'Tromsø'
    """
    path = Path(path)
    got = _read_raw(path, sep=sep, encoding=encoding)
    if got.problems:
        src = SourceInfo(
            file=str(path), csv=path.suffix.lower() == ".csv", problems=tuple(got.problems)
        )
        col = _Collector()
        for rule, msg, line in got.problems:
            col.add_table(path.stem, src, None, rule, msg, line)
        rows = 0 if got.frame is None else len(got.frame)
        counts = pd.DataFrame(
            [{"table": path.stem, "file": str(path), "rows_read": rows, "rows_kept": 0,
              "rows_rejected": rows}]
        )  # fmt: skip
        raise DataValidationError(ValidationReport(col.frame(), counts), f"file {str(path)!r}")
    return got.frame


def _find(folder: Path, name: str) -> Path | None:
    found = [folder / f"{name}{suf}" for suf in _SUFFIXES if (folder / f"{name}{suf}").exists()]
    if len(found) > 1:
        raise ValueError(
            f"{folder} holds both {found[0].name} and {found[1].name}; keep one file per table "
            "so it is clear which one is read."
        )
    return found[0] if found else None


def read_register(
    path: str | Path,
    errors: Literal["raise", "quarantine"] = "raise",
    *,
    sep: str | None = None,
    encoding: str | None = None,
) -> Register | QuarantineResult:
    """Read a folder with one file per table into a validated :class:`Register`.

    Parameters
    ----------
    path : str or Path
        Folder holding ``employment.csv`` or ``employment.parquet`` and, optionally, the other
        tables of the data contract (``units``, ``absences``, ``caseload``, ``supervision``,
        ``surveys``, ``unit_changes``). Files of other names are ignored. How dates, numbers
        and encodings are read, and which whole-file problems reject a file, is described in
        ``docs/extracts.md``.
    errors : {"raise", "quarantine"}
        ``"raise"`` (default): raise :class:`~turnover_risk.DataValidationError` naming the first
        problems when any row breaks the contract. ``"quarantine"``: return a
        :class:`~turnover_risk.data.QuarantineResult` ``(register, rejected, report)``
        with the good rows, the rejected rows (with ``row`` and ``rules``) and the full report;
        per table, rows read = rows kept + rows rejected.
    sep, encoding : str, optional
        Override the CSV separator and encoding detection.

    Returns
    -------
    Register or QuarantineResult

    Notes
    -----
    A ``metadata.json`` file in the folder (a JSON object, as :func:`write_register` writes
    it) becomes ``Register.metadata``. Its ``observation_start`` and ``observation_end``
    (ISO dates) set the observation window of the rates, e.g.
    ``{"observation_start": "2019-01-01"}`` for an HR extract that holds only the staff
    employed on 1 January 2019: without it the rates infer the window and warn (see
    :func:`turnover_risk.turnover_rate`).

    Examples
    --------
    >>> import turnover_risk as tr, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> tr.write_register(tr.load_sample(), folder, format="csv")
    >>> reg = tr.read_register(folder)
    >>> reg.table_names[0]
    'employment'
    """
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"register folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(
            f"{str(folder)!r} is a file; read_register takes a folder with one file per table "
            f"({', '.join(t + '.csv' for t in TABLE_NAMES)}, or .parquet)"
        )
    raw: dict[str, pd.DataFrame | None] = {}
    sources: dict[str, SourceInfo] = {}
    for name in ALL_TABLES:
        f = _find(folder, name)
        if f is None:
            if name in TABLE_NAMES:  # the record tables are always accounted for
                sources[name] = SourceInfo(file=str(folder / f"{name}.csv"), csv=True)
            raw[name] = None
            continue
        got = _read_raw(f, sep=sep, encoding=encoding)
        sources[name] = SourceInfo(
            file=str(f),
            csv=f.suffix.lower() == ".csv",
            lines=got.lines,
            problems=tuple(got.problems),
            reject_all=got.reject_all,
        )
        raw[name] = got.frame
    if raw["employment"] is None and not sources["employment"].problems:
        present = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES)
        raise FileNotFoundError(
            f"{str(folder)!r} has no employment table (employment.csv or employment.parquet); "
            f"it is the one required table. Files found: {', '.join(present) or 'none'}."
        )
    register = Register(
        **{
            k: v if v is not None or k not in sources or not sources[k].problems else pd.DataFrame()
            for k, v in raw.items()
        },
        metadata=_read_metadata(folder),
    )
    return clean_register(register, errors, sources=sources, what=f"register {str(folder)!r}")


def write_register(
    register: Register,
    path: str | Path,
    format: Literal["parquet", "csv"] = "parquet",
) -> None:
    """Write each table of a register to ``path/<table>.<format>``.

    CSV files are UTF-8 with ``,`` separators, ISO dates and empty cells for missing values;
    Parquet keeps the dtypes. ``read_register`` reads both back to an equal register.

    The register's metadata goes to ``path/metadata.json`` (a JSON object), which
    :func:`read_register` reads back into ``Register.metadata``: entries whose value is a
    string, integer, float, bool or None, and dates (written as ISO strings such as
    ``"2019-01-01"``). Other entries (e.g. the ``sources`` that ``read_register`` records)
    are not written. With nothing to write, a ``metadata.json`` left in the folder by an
    earlier register is removed, so it cannot attach to this one.

    Parameters
    ----------
    register : Register
    path : str or Path
        Folder; created if needed. Existing files of the same tables are replaced (a table's
        file in the other format is removed, so the folder holds one file per table).
    format : {"parquet", "csv"}

    Examples
    --------
    >>> import tempfile, pandas as pd, turnover_risk as tr
    >>> emp = pd.DataFrame({"employee_id": ["a"], "unit_id": ["u1"],
    ...     "start_date": pd.to_datetime(["2005-03-01"]), "end_date": pd.NaT, "fte": [1.0]})
    >>> folder = tempfile.mkdtemp()
    >>> tr.write_register(tr.Register(employment=emp,
    ...     metadata={"observation_start": pd.Timestamp("2019-01-01")}), folder)
    >>> tr.read_register(folder).metadata["observation_start"]
    '2019-01-01'
    """
    if not isinstance(register, Register):
        raise TypeError(f"write_register expects a Register; got {type(register).__name__}")
    if format not in ("parquet", "csv"):
        raise ValueError(f"format={format!r} is not supported; choose 'parquet' or 'csv'")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in register:
        other = folder / f"{name}.{'csv' if format == 'parquet' else 'parquet'}"
        if other.exists():
            other.unlink()
        target = folder / f"{name}.{format}"
        with atomic_output(target, overwrite=True) as tmp:  # never a half-written table
            if format == "parquet":
                df.to_parquet(tmp, engine="pyarrow", index=False)
            else:
                out = df.copy()
                for c in out.columns:
                    if pd.api.types.is_datetime64_any_dtype(out[c]):
                        out[c] = out[c].dt.strftime("%Y-%m-%d")
                out.to_csv(tmp, index=False, na_rep="")
    _write_metadata(register.metadata, folder)


def _json_value(value: object) -> tuple[bool, object]:
    """(writable, JSON value) of one metadata entry: scalars as they are, dates as ISO text."""
    if value is None or isinstance(value, str | bool):
        return True, value
    if isinstance(value, np.bool_):
        return True, bool(value)
    if isinstance(value, int | np.integer):
        return True, int(value)
    if isinstance(value, float | np.floating):
        return True, float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | np.datetime64 | _dt.datetime | _dt.date):
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            return True, None
        return True, ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    return False, None


def _write_metadata(metadata: Mapping[str, object] | None, folder: Path) -> None:
    entries = {}
    for key, value in (metadata or {}).items():
        ok, v = _json_value(value)
        if ok and isinstance(key, str):
            entries[key] = v
    target = folder / METADATA_FILE
    if not entries:
        if target.exists():
            target.unlink()
        return
    text = json.dumps(entries, indent=2, ensure_ascii=False, allow_nan=False)
    target.write_text(text + "\n", encoding="utf-8")


def _read_metadata(folder: Path) -> dict[str, object]:
    target = folder / METADATA_FILE
    if not target.exists():
        return {}
    try:
        meta = json.loads(target.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"{target} is not valid JSON ({exc}); it should hold one object such as "
            '{"observation_start": "2019-01-01"}. Fix or remove the file.'
        ) from exc
    if not isinstance(meta, dict):
        raise ValueError(
            f"{target} holds a JSON {type(meta).__name__}; it should hold one object such as "
            '{"observation_start": "2019-01-01"}. Fix or remove the file.'
        )
    return meta
