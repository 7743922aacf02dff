"""Parsing and row rules behind :mod:`turnover_risk.data._validation` (private).

Coercion of raw columns to the contract's dtypes and the vectorised cross-row checks
(duplicates, overlapping spells, spell cover); each problem goes to a :class:`_Collector`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from turnover_risk.data._dates import parse_dates
from turnover_risk.data._numbers import parse_numbers
from turnover_risk.data._schema import ALL_TABLES, Column, TableSchema, pandas_dtype

PROBLEM_COLUMNS = ["table", "file", "row", "line", "column", "value", "rule", "message"]

_FAR_FUTURE = np.datetime64("2262-04-01", "ns")


@dataclass(frozen=True)
class SourceInfo:
    """Where a table came from: a file path, whether it is CSV (row ``i`` on line ``i + 2``
    unless ``lines`` gives each row's physical line) and the problems of the file as a whole
    (``(rule, message, line)``; with ``reject_all`` they reject every row)."""

    file: str | None = None
    csv: bool = False
    lines: np.ndarray | None = field(default=None, compare=False, repr=False)
    problems: tuple = ()
    reject_all: bool = False

    def line(self, positions: np.ndarray) -> object:
        """Physical line of each row position (missing for Parquet and in-memory tables)."""
        if self.lines is not None:
            return self.lines[positions]
        if self.csv:
            return positions + 2
        return pd.array([pd.NA] * len(positions), dtype="Int64")


HIDDEN_VALUE_COLUMNS = ("employee_id",)
"""Columns whose values never appear in a problem (person identifiers)."""


@dataclass
class _Collector:
    rows: list[pd.DataFrame] = field(default_factory=list)

    def add(
        self,
        table: str,
        src: SourceInfo,
        positions: np.ndarray,
        column: str | None,
        values: object,
        rule: str,
        messages: object,
    ) -> None:
        positions = np.asarray(positions, dtype="int64")
        if positions.size == 0:
            return
        n = positions.size
        if column in HIDDEN_VALUE_COLUMNS:
            vals = np.full(n, "", dtype=object)
        else:
            vals = pd.Series(values if not np.isscalar(values) else [values] * n)
            vals = vals.astype(object).where(vals.notna(), "").astype(str).to_numpy()
        msgs = messages if isinstance(messages, str) else list(messages)
        self.rows.append(
            pd.DataFrame(
                {
                    "table": table,
                    "file": src.file,
                    "row": positions,
                    "line": src.line(positions),
                    "column": column,
                    "value": vals,
                    "rule": rule,
                    "message": msgs,
                }
            )
        )

    def add_table(
        self,
        table: str,
        src: SourceInfo,
        column: str | None,
        rule: str,
        msg: str,
        line: int | None = None,
    ):
        self.rows.append(
            pd.DataFrame(
                {
                    "table": [table],
                    "file": [src.file],
                    "row": pd.array([pd.NA], dtype="Int64"),
                    "line": pd.array([line if line is not None else pd.NA], dtype="Int64"),
                    "column": [column],
                    "value": [""],
                    "rule": [rule],
                    "message": [msg],
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            out = pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})
        else:
            out = pd.concat([r.astype({"row": "Int64", "line": "Int64"}) for r in self.rows])
        out["row"] = out["row"].astype("Int64")
        out["line"] = out["line"].astype("Int64")
        order = {t: i for i, t in enumerate(ALL_TABLES)}
        out["_t"] = out["table"].map(order)
        out["_f"] = out["row"].notna().to_numpy(dtype=int)  # file problems first
        out = out.sort_values(["_f", "_t", "row"], kind="stable", na_position="first")
        return out.drop(columns=["_t", "_f"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Column coercion
# --------------------------------------------------------------------------------------------


def _is_blank(s: pd.Series) -> np.ndarray:
    blank = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        txt = s.astype("string").str.strip()
        blank = blank | (txt == "").fillna(True).to_numpy(dtype=bool)
    return blank


def _coerce_ids(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.dropna()
        if len(whole) and np.all(np.mod(whole.to_numpy(), 1) == 0):
            s = s.astype("Int64")
    out = s.astype("string").str.strip()
    return out.where(out != "", pd.NA)


def _nested(s: pd.Series) -> np.ndarray:
    """Cells holding a list, array or mapping (a Parquet list column): never one value."""
    if s.dtype != object:
        return np.zeros(len(s), dtype=bool)
    return np.fromiter(
        (isinstance(v, list | tuple | dict | set | np.ndarray) for v in s), bool, len(s)
    )


def _coerce_table(
    name: str,
    df: pd.DataFrame,
    schema: TableSchema,
    src: SourceInfo,
    col: _Collector,
    latest: int,
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Coerce ``df`` to the contract's dtypes; return (typed frame, bad-row mask, notes)."""
    n = len(df)
    bad = np.zeros(n, dtype=bool)
    pos = np.arange(n)
    out = {}
    notes: list[str] = []
    for c in df.columns:
        s = df[c].reset_index(drop=True)
        nested = _nested(s)
        if nested.any():
            col.add(
                name,
                src,
                pos[nested],
                c,
                "",
                "wrong_type",
                f"{c} holds a list in a cell; a cell holds one value (export one row per value)",
            )
            bad |= nested
            s = s.where(~nested, None)
            if not schema.known(c):
                s = s.astype("string")
        if not schema.known(c):
            out[c] = s
            continue
        spec: Column = schema.column(c)
        blank = _is_blank(s) & ~nested
        if spec.kind == "any":
            # answers read from text: numbers become float64 when every filled cell is one
            if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
                nums = parse_numbers(s, c, share=False)
                if not nums.problems and not (nums.values.isna().to_numpy() & ~blank).any():
                    s = nums.values
            out[c] = s
            continue
        problems: list[tuple[np.ndarray, str, object]] = []
        if spec.kind in ("id", "text"):
            typed = _coerce_ids(s) if spec.kind == "id" else s.astype("string")
            if spec.kind == "text":
                typed = typed.where(~blank, pd.NA)
        elif spec.kind == "date":
            cells = parse_dates(s, c, nullable=spec.nullable, latest=latest, month=c == "month")
            typed, problems = cells.values, cells.problems
            if cells.note:
                notes.append(f"{src.file or name}: {cells.note}")
        elif spec.kind in ("float", "int"):
            cells = parse_numbers(s, c, share=spec.high == 1.0)
            nums, problems = cells.values, list(cells.problems)
            refused = np.zeros(n, dtype=bool)
            for m, _r, _msg in problems:
                refused |= m
            fail = nums.isna().to_numpy() & ~blank & ~refused & ~nested
            if spec.kind == "int":
                frac = ~np.isnan(nums.to_numpy()) & (np.mod(nums.fillna(0).to_numpy(), 1) != 0)
                fail = fail | frac
            problems.append(
                (
                    fail,
                    "wrong_type",
                    f"{c} must be {'a whole number' if spec.kind == 'int' else 'a number'}"
                    + (
                        " (a decimal comma like 0,8 is read as 0.8)" if spec.kind == "float" else ""
                    ),
                )
            )
            nums = nums.where(~fail)
            vals = nums.to_numpy()
            out_r = np.zeros(n, dtype=bool)
            ok = ~np.isnan(vals)
            if spec.low is not None:
                out_r |= ok & ((vals < spec.low) if spec.low_inclusive else (vals <= spec.low))
            if spec.high is not None:
                out_r |= ok & ((vals > spec.high) if spec.high_inclusive else (vals >= spec.high))
            hint = ""
            if spec.high == 1.0 and (ok & (vals > 1) & (vals <= 100)).any():
                hint = f"; {c} is a share: write 0.8 or 80 % for 80 percent"
            problems.append((out_r, "out_of_range", f"{c} must be in {spec.range_text()}{hint}"))
            typed = nums.round().astype("Int64") if spec.kind == "int" else nums
        else:  # category
            allowed = list(spec.allowed or ())
            txt = s.astype("string").str.strip().str.lower()
            known = txt.isin(allowed).fillna(False).to_numpy(dtype=bool)
            fail = ~known & ~blank & ~nested
            if fail.any():
                vals = s[fail].astype(str)
                msgs = [
                    f"{c} must be one of: {', '.join(allowed)}"
                    + (
                        f" (did you mean {m[0]!r}?)"
                        if (m := difflib.get_close_matches(v.strip().lower(), allowed, n=1))
                        else ""
                    )
                    for v in vals
                ]
                problems.append((fail, "unknown_category", msgs))
            typed = pd.Series(
                pd.Categorical(txt.where(known, None), categories=allowed), index=s.index
            )
        for m, rule, msg in problems:
            col.add(name, src, pos[m], c, s[m].astype(object), rule, msg)
            bad |= m
        if spec.required and not spec.nullable:
            col.add(
                name,
                src,
                pos[blank],
                c,
                "",
                "null_value",
                f"{c} is required and may not be empty",
            )
            bad |= blank
        out[c] = typed.astype(pandas_dtype(spec)) if spec.kind != "category" else typed
    return pd.DataFrame(out, index=pd.RangeIndex(n)), bad, notes


# --------------------------------------------------------------------------------------------
# Row rules across rows and tables
# --------------------------------------------------------------------------------------------


def _end_before_start(name, df, src, col, bad):
    if {"start_date", "end_date"} <= set(df.columns):
        m = (df["end_date"] < df["start_date"]).fillna(False).to_numpy(dtype=bool)
        vals = df["end_date"][m].dt.strftime("%Y-%m-%d")
        starts = df["start_date"][m].dt.strftime("%Y-%m-%d")
        col.add(
            name,
            src,
            np.flatnonzero(m),
            "end_date",
            vals,
            "end_before_start",
            [f"end_date is before start_date {s}; swap them or fix the date" for s in starts],
        )
        bad |= m


def _duplicates(name, df, schema, src, col, bad):
    if df.empty:
        return
    named = [c for c in df.columns if c in schema.names]
    dup = df.duplicated(keep="first").to_numpy()
    col.add(
        name,
        src,
        np.flatnonzero(dup),
        None,
        "",
        "duplicate_row",
        "this row repeats an earlier row exactly; remove the copy",
    )
    bad |= dup
    key = {
        "units": ("unit_id",),
        "caseload": ("employee_id", "month"),
        "surveys": ("employee_id", "date", "instrument"),
        "unit_changes": ("old_unit_id",),
    }.get(name)
    if key and set(key) <= set(named):
        kd = df.duplicated(subset=list(key), keep="first").to_numpy() & ~dup
        if kd.any():
            group = df.groupby(list(key), sort=False, dropna=False, observed=True).ngroup()
            first = pd.Series(np.arange(len(df))).groupby(group.to_numpy()).transform("min")
            earlier = src.line(first.to_numpy()[kd])
            where = [
                f"line {x}" if pd.notna(x) else f"row {r}"
                for x, r in zip(earlier, first.to_numpy()[kd], strict=True)
            ]
            col.add(
                name,
                src,
                np.flatnonzero(kd),
                key[-1],
                _shown(df[key[-1]][kd]),
                "duplicate_key",
                [f"{w} has the same {' + '.join(key)}; keep one row per key" for w in where],
            )
        bad |= kd


def _shown(s: pd.Series) -> pd.Series:
    """Values as a problem shows them (dates as ISO dates)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.strftime("%Y-%m-%d")
    return s.astype(object)


def _isin(values: pd.Series, known: object) -> np.ndarray:
    """Hash-based membership (``Series.isin`` on Arrow strings builds a Python set: slow)."""
    index = pd.Index(pd.unique(pd.Series(known)))
    return index.get_indexer(values) >= 0


def _overlaps(df: pd.DataFrame, by: list[str]) -> np.ndarray:
    """Rows whose spell starts on or before the end of an earlier spell in the same group."""
    if df.empty:
        return np.zeros(0, dtype=bool)
    end = df["end_date"].to_numpy(dtype="datetime64[ns]").copy()
    end[np.isnat(end)] = _FAR_FUTURE
    tmp = pd.DataFrame(
        {
            "_g": df.groupby(by, sort=False, observed=True).ngroup().to_numpy(),
            "_s": df["start_date"].to_numpy(),
            "_e": end,
            "_i": np.arange(len(df)),
        }
    )
    tmp = tmp.dropna(subset=["_s"]).sort_values(["_g", "_s", "_i"], kind="stable")
    prev_end = tmp.groupby("_g", sort=False)["_e"].cummax().groupby(tmp["_g"]).shift(1)
    hit = (tmp["_s"] <= prev_end).fillna(False).to_numpy(dtype=bool)
    out = np.zeros(len(df), dtype=bool)
    out[tmp["_i"].to_numpy()[hit]] = True
    return out


def _covering_end(emp: pd.DataFrame, ids: pd.Series, last_day: pd.Series) -> np.ndarray:
    """For each (id, last_day), the latest end among the id's spells starting on/before it.

    Vectorised with integer keys: ``code * 2**22 + day`` sorted once, then ``searchsorted``.
    """
    out = np.full(len(ids), np.datetime64("NaT"), dtype="datetime64[ns]")
    e = emp[["employee_id", "start_date", "end_date"]].dropna(subset=["employee_id", "start_date"])
    if e.empty or not len(ids):
        return out
    index = pd.Index(pd.unique(e["employee_id"]))
    code = index.get_indexer(e["employee_id"]).astype(np.int64)
    start = e["start_date"].to_numpy(dtype="datetime64[D]").astype(np.int64) + (1 << 21)
    end = e["end_date"].to_numpy(dtype="datetime64[ns]").copy()
    end[np.isnat(end)] = _FAR_FUTURE
    key = (code << 22) + start
    order = np.argsort(key, kind="stable")
    key, code, end = key[order], code[order], end[order].astype(np.int64)
    # running max of end within each person (spells sorted by start)
    first = np.r_[True, code[1:] != code[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(code)), 0))
    cummax = pd.Series(end).groupby(group_start).cummax().to_numpy()
    qcode = index.get_indexer(ids).astype(np.int64)
    qday = last_day.to_numpy(dtype="datetime64[D]")
    ok = (qcode >= 0) & ~np.isnat(qday)
    qkey = (qcode << 22) + np.where(ok, qday.astype(np.int64), 0) + (1 << 21)
    pos = np.searchsorted(key, qkey, side="right") - 1
    hit = ok & (pos >= 0) & (code[np.clip(pos, 0, None)] == qcode)
    out[hit] = cummax[pos[hit]].astype("datetime64[ns]")
    return out
