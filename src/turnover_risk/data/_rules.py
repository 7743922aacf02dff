"""Parsing and row rules behind :mod:`turnover_risk.data._validation` (private).

Coercion of raw columns to the contract's dtypes and the vectorised cross-row checks
(duplicates, overlapping spells, spell cover); each problem goes to a :class:`_Collector`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from turnover_risk.data._schema import TABLE_NAMES, Column, TableSchema, pandas_dtype

PROBLEM_COLUMNS = ["table", "file", "row", "line", "column", "value", "rule", "message"]

_FAR_FUTURE = np.datetime64("2262-04-01", "ns")


@dataclass(frozen=True)
class SourceInfo:
    """Where a table came from: a file path and whether row ``i`` sits on CSV line ``i + 2``."""

    file: str | None = None
    csv: bool = False


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
        vals = pd.Series(values if not np.isscalar(values) else [values] * n)
        vals = vals.astype(object).where(vals.notna(), "").astype(str).to_numpy()
        msgs = messages if isinstance(messages, str) else list(messages)
        self.rows.append(
            pd.DataFrame(
                {
                    "table": table,
                    "file": src.file,
                    "row": positions,
                    "line": positions + 2 if src.csv else pd.array([pd.NA] * n, dtype="Int64"),
                    "column": column,
                    "value": vals,
                    "rule": rule,
                    "message": msgs,
                }
            )
        )

    def add_table(self, table: str, src: SourceInfo, column: str | None, rule: str, msg: str):
        self.rows.append(
            pd.DataFrame(
                {
                    "table": [table],
                    "file": [src.file],
                    "row": pd.array([pd.NA], dtype="Int64"),
                    "line": pd.array([pd.NA], dtype="Int64"),
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
        order = {t: i for i, t in enumerate(TABLE_NAMES)}
        out["_t"] = out["table"].map(order)
        out = out.sort_values(["_t", "row"], kind="stable", na_position="first")
        return out.drop(columns="_t").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Column coercion
# --------------------------------------------------------------------------------------------


def _is_blank(s: pd.Series) -> np.ndarray:
    blank = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        txt = s.astype("string").str.strip()
        blank = blank | (txt == "").fillna(True).to_numpy(dtype=bool)
    return blank


def _as_ns(dates: pd.Series) -> pd.Series:
    """Dates of any unit -> ``datetime64[ns]``; dates outside its range (years 1677-2262) ->
    NaT, so they are reported as bad dates (pandas 3 parses them to ``us``, pandas 2 to NaT)."""
    if dates.dtype != "datetime64[ns]":
        dates = dates.where(dates.isna() | dates.between(pd.Timestamp.min, pd.Timestamp.max))
    return dates.astype("datetime64[ns]")


def _parse_dates(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s
        if getattr(s.dt, "tz", None) is not None:
            out = s.dt.tz_localize(None)
        return _as_ns(out.dt.normalize())
    txt = s.astype("string").str.strip()
    out = pd.to_datetime(txt, format="ISO8601", errors="coerce")
    todo = out.isna() & txt.notna() & (txt != "")
    for fmt in ("%d.%m.%Y", "%d/%m/%Y", "%d.%m.%y"):
        if not todo.any():
            break
        alt = pd.to_datetime(txt[todo], format=fmt, errors="coerce")
        out = _as_ns(out)
        out.loc[todo] = _as_ns(alt)
        todo = out.isna() & txt.notna() & (txt != "")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return _as_ns(out.dt.normalize())


def _parse_numbers(s: pd.Series, *, comma_decimal: bool) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        return pd.Series(np.nan, index=s.index)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype("float64")
    txt = s.astype("string").str.strip().str.replace("\u00a0", "", regex=False)
    if comma_decimal:
        txt = txt.str.replace(r"^([-+]?\d*),(\d+)$", r"\1.\2", regex=True)
    return pd.to_numeric(txt, errors="coerce").astype("float64")


def _coerce_ids(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.dropna()
        if len(whole) and np.all(np.mod(whole.to_numpy(), 1) == 0):
            s = s.astype("Int64")
    out = s.astype("string").str.strip()
    return out.where(out != "", pd.NA)


def _coerce_table(
    name: str, df: pd.DataFrame, schema: TableSchema, src: SourceInfo, col: _Collector
) -> tuple[pd.DataFrame, np.ndarray]:
    """Coerce ``df`` to the contract's dtypes; return (typed frame, bad-row mask)."""
    n = len(df)
    bad = np.zeros(n, dtype=bool)
    pos = np.arange(n)
    out = {}
    for c in df.columns:
        s = df[c].reset_index(drop=True)
        if not schema.known(c):
            out[c] = s
            continue
        spec: Column = schema.column(c)
        blank = _is_blank(s)
        if spec.kind == "any":
            # answers read from text: numbers become float64 when every filled cell is one
            if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
                nums = _parse_numbers(s, comma_decimal=True)
                if not (nums.isna().to_numpy() & ~blank).any():
                    s = nums
            out[c] = s
            continue
        if spec.kind in ("id", "text"):
            typed = _coerce_ids(s) if spec.kind == "id" else s.astype("string")
            if spec.kind == "text":
                typed = typed.where(~blank, pd.NA)
        elif spec.kind == "date":
            typed = _parse_dates(s)
            fail = typed.isna().to_numpy() & ~blank
            col.add(
                name,
                src,
                pos[fail],
                c,
                s[fail],
                "bad_date",
                f"{c} must be a date like 2021-03-01 or 01.03.2021",
            )
            bad |= fail
        elif spec.kind in ("float", "int"):
            nums = _parse_numbers(s, comma_decimal=spec.kind == "float")
            fail = nums.isna().to_numpy() & ~blank
            if spec.kind == "int":
                frac = ~np.isnan(nums.to_numpy()) & (np.mod(nums.fillna(0).to_numpy(), 1) != 0)
                fail = fail | frac
            col.add(
                name,
                src,
                pos[fail],
                c,
                s[fail],
                "wrong_type",
                f"{c} must be {'a whole number' if spec.kind == 'int' else 'a number'}"
                + (" (a decimal comma like 0,8 is read as 0.8)" if spec.kind == "float" else ""),
            )
            bad |= fail
            nums = nums.where(~fail)
            vals = nums.to_numpy()
            out_r = np.zeros(n, dtype=bool)
            ok = ~np.isnan(vals)
            if spec.low is not None:
                out_r |= ok & ((vals < spec.low) if spec.low_inclusive else (vals <= spec.low))
            if spec.high is not None:
                out_r |= ok & ((vals > spec.high) if spec.high_inclusive else (vals >= spec.high))
            col.add(
                name,
                src,
                pos[out_r],
                c,
                s[out_r],
                "out_of_range",
                f"{c} must be in {spec.range_text()}",
            )
            bad |= out_r
            typed = nums.round().astype("Int64") if spec.kind == "int" else nums
        else:  # category
            allowed = list(spec.allowed or ())
            txt = s.astype("string").str.strip().str.lower()
            known = txt.isin(allowed).fillna(False).to_numpy(dtype=bool)
            fail = ~known & ~blank
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
                col.add(name, src, pos[fail], c, s[fail], "unknown_category", msgs)
            bad |= fail
            typed = pd.Series(
                pd.Categorical(txt.where(known, None), categories=allowed), index=s.index
            )
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
    return pd.DataFrame(out, index=pd.RangeIndex(n)), bad


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
    }.get(name)
    if key and set(key) <= set(named):
        kd = df.duplicated(subset=list(key), keep="first").to_numpy() & ~dup
        col.add(
            name,
            src,
            np.flatnonzero(kd),
            key[-1],
            df[key[-1]][kd],
            "duplicate_key",
            f"another row has the same {' + '.join(key)}; keep one row per key",
        )
        bad |= kd


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
