"""Reading one table file as raw cells, and the problems of the file as a whole (private).

A CSV file's encoding is detected per file (UTF-8 with or without a byte-order mark, else
Windows-1252); a file that is UTF-8 in some lines and Windows-1252 in others is refused with
the line. The physical line of each row is counted (blank lines and newlines inside quoted
cells included), so every message names the line an editor shows. A header with the same
column twice, a file that ends in the middle of a row and a file that cannot be parsed are
problems of the file: every row of it is rejected. A Parquet file that cannot be read is one
too; its dates keep their stored unit (``9999-12-31`` does not overflow) and time zone.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

NA_TEXT = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
_UTF8_SEQ = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


@dataclass
class RawTable:
    """A file's cells (``frame``; None when unreadable), row lines and file problems."""

    frame: pd.DataFrame | None
    lines: np.ndarray | None = None  # physical line of each row (CSV)
    problems: list[tuple[str, str, int | None]] = field(default_factory=list)  # rule, msg, line
    reject_all: bool = False  # a file problem that makes every row suspect


def _line_of(raw: bytes, pos: int) -> int:
    return raw.count(b"\n", 0, pos) + 1


def decode(raw: bytes, encoding: str | None, name: str) -> tuple[str, tuple | None]:
    """Text of a CSV file and, for a file mixing encodings, its problem."""
    if encoding is not None:
        try:
            return raw.decode(encoding), None
        except (UnicodeDecodeError, LookupError) as exc:
            line = _line_of(raw, exc.start) if isinstance(exc, UnicodeDecodeError) else None
            msg = f"{name} cannot be read as {encoding!r}"
            msg += f" (line {line})" if line else ""
            return raw.decode("utf-8", errors="replace"), (
                "bad_encoding",
                msg + "; leave the encoding out to have it detected, or name the right one",
                line,
            )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        utf8 = _UTF8_SEQ.search(raw)
        if utf8 is None:  # no UTF-8 sequence anywhere: a Windows-1252 (Latin-1) file
            return raw.decode("cp1252", errors="replace"), None
        bad = _line_of(raw, exc.start)
        good = _line_of(raw, utf8.start())
        byte = raw[exc.start : exc.start + 1]
        guess = byte.decode("cp1252", errors="replace")
        return raw.decode("utf-8", errors="replace"), (
            "mixed_encoding",
            f"{name} mixes encodings: line {good} is UTF-8 but line {bad} holds the byte "
            f"0x{byte.hex().upper()} ({guess!r} in Windows-1252), which is not UTF-8; save the "
            "whole file in one encoding (UTF-8) and read it again",
            bad,
        )


def sniff_sep(text: str) -> str:
    header = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (";", ",", "\t", "|")}
    sep = max(counts, key=lambda k: counts[k])
    return sep if counts[sep] > 0 else ","


_IRREGULAR_START = np.zeros(256, dtype=bool)
_IRREGULAR_START[[9, 10, 13, 32]] = True  # tab, newline, carriage return, space


def _regular(raw: bytes) -> int | None:
    """The number of lines when every line is one record (no quote, and no line that is empty
    or starts with a space, tab or carriage return), else None. Numpy on the bytes: a text
    search for newlines is slow."""
    if b'"' in raw:
        return None
    arr = np.frombuffer(raw, dtype=np.uint8)
    starts = np.flatnonzero(arr == 10) + 1
    n_lines = len(starts) + (0 if raw.endswith(b"\n") else 1)
    starts = starts[starts < len(arr)]
    if len(arr) and _IRREGULAR_START[arr[0]] or _IRREGULAR_START[arr[starts]].any():
        return None
    return n_lines


def _records(
    text: str, sep: str, *, n_lines: int | None = None
) -> tuple[list[str], np.ndarray, list[int]]:
    """Header, the physical start line of each data record and each record's cell count
    (only the last record's count for a regular file of ``n_lines`` lines, one record each)."""
    if n_lines is not None:
        body = text[:-1] if text.endswith("\n") else text
        header = [h.strip() for h in body.split("\n", 1)[0].rstrip("\r").split(sep)]
        n = n_lines - 1
        widths = [len(body[body.rfind("\n") + 1 :].rstrip("\r").split(sep))] if n else []
        return header, np.arange(2, n + 2, dtype=np.int64), widths
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True)
    header: list[str] | None = None
    lines, widths = [], []
    prev = 0
    try:
        for rec in reader:
            start, prev = prev + 1, reader.line_num
            if len(rec) <= 1 and not "".join(rec).strip():
                continue  # a blank line: pandas skips it too
            if header is None:
                header = [h.strip() for h in rec]
                continue
            lines.append(start)
            widths.append(len(rec))
    except csv.Error:
        pass  # pandas reports the same file as unreadable
    return header or [], np.asarray(lines, dtype=np.int64), widths


def read_csv(path: Path, *, sep: str | None, encoding: str | None) -> RawTable:
    """Read a CSV file as text cells, with its line numbers and file problems."""
    name = path.name
    raw = path.read_bytes()
    text, enc_problem = decode(raw, encoding, name)
    problems = [enc_problem] if enc_problem else []
    if not text.strip():
        return RawTable(pd.DataFrame(), problems=problems, reject_all=bool(problems))
    sep = sep or sniff_sep(text)
    header, lines, widths = _records(text, sep, n_lines=_regular(raw))
    dup = sorted({h for h in header if header.count(h) > 1})
    for h in dup:
        cols = [i + 1 for i, x in enumerate(header) if x == h]
        problems.append(
            (
                "duplicate_column",
                f"{name}: the header names column {h!r} {len(cols)} times (columns "
                f"{', '.join(map(str, cols))}); keep one, so it is clear which one is read",
                int(lines[0]) - 1 if len(lines) else 1,
            )
        )
    cut = not text.endswith(("\n", "\r")) and len(widths) and widths[-1] < len(header)
    if cut:
        problems.append(
            (
                "truncated_file",
                f"{name} ends in the middle of line {int(lines[-1])} ({widths[-1]} of "
                f"{len(header)} cells, no line end): the file looks half-written; export it again",
                int(lines[-1]),
            )
        )
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=NA_TEXT,
            skipinitialspace=True,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, csv.Error, ValueError):
        _, lines, widths = _records(text, sep)
        wide = [ln for ln, w in zip(lines, widths, strict=True) if w > len(header)]
        if wide:
            msg = (
                f"{name} line {wide[0]} has more cells than the header ({len(header)}); "
                "quote cells that hold the separator, or fix the line"
            )
            line = wide[0]
        else:
            msg = (
                f"{name} cannot be parsed: it ends inside a quoted cell (a missing closing "
                "quote, or the file is cut off); fix the quotes or export it again"
            )
            line = int(lines[-1]) if len(lines) else None
        return RawTable(None, problems=[*problems, ("unreadable_file", msg, line)])
    at = lines if len(lines) == len(df) else None
    return RawTable(df, at, problems, reject_all=bool(problems))


def read_parquet(path: Path) -> RawTable:
    """Read a Parquet file keeping date units and time zones; file problems as rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = path.name
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError):
        return RawTable(
            None,
            problems=[
                (
                    "unreadable_file",
                    f"{name} is not a readable Parquet file (cut off, damaged, or not Parquet "
                    "at all); export it again",
                    None,
                )
            ],
        )
    names = list(table.schema.names)
    problems = []
    for h in sorted({n for n in names if names.count(n) > 1}):
        problems.append(
            (
                "duplicate_column",
                f"{name} has column {h!r} {names.count(h)} times; keep one, so it is clear "
                "which one is read",
                None,
            )
        )
    if problems:
        seen: dict[str, int] = {}
        renamed = []
        for n in names:
            seen[n] = seen.get(n, 0) + 1
            renamed.append(n if seen[n] == 1 else f"{n}.{seen[n] - 1}")
        table = table.rename_columns(renamed)
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type) or pa.types.is_map(f.type)]
    plain = table.drop(nested) if nested else table
    try:
        df = plain.to_pandas(date_as_object=False, coerce_temporal_nanoseconds=False)
    except (pa.ArrowException, ValueError, OverflowError):
        return RawTable(
            None,
            problems=[
                (
                    "unreadable_file",
                    f"{name} holds values pandas cannot represent; export it again with plain "
                    "dates, numbers and text",
                    None,
                )
            ],
        )
    for n in nested:  # kept as Python lists: each cell is reported, nothing crashes
        df[n] = pd.Series(table.column(n).to_pylist(), index=df.index, dtype=object)
    df = df[[c for c in table.schema.names if c in df.columns]]
    return RawTable(df.reset_index(drop=True), problems=problems, reject_all=bool(problems))
