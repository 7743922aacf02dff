"""Validation of a :class:`~turnover_risk.data.Register` against the data contract.

Every problem becomes one row of a :class:`ValidationReport` (table, file, row, line, column,
value, rule, message); nothing is dropped silently. The same machinery parses raw tables (text
read from CSV, or loosely typed Parquet) into the contract's dtypes, so :func:`validate` and
:func:`turnover_risk.read_register` agree on what a problem is.

Rules
-----
=====================  ==========================================================================
rule                   meaning
=====================  ==========================================================================
missing_table          the employment table is absent (the other tables are optional)
empty_file             a file has no header row at all
unreadable_file        a file that cannot be parsed (damaged Parquet, an unclosed quote in CSV)
mixed_encoding         a CSV file that is UTF-8 in some lines and Windows-1252 in others
bad_encoding           a CSV file that is not in the encoding passed as ``encoding``
duplicate_column       the same column twice in a header (which one counts is not clear)
truncated_file         a CSV file that ends in the middle of a row (half-written)
missing_column         a required column is absent (one problem per column; rejects every row)
null_value             a required cell is empty
wrong_type             a number column holds text that is not a number (or a fraction in an int)
ambiguous_number       ``1.000`` in a column that does not say whether ``.`` is the decimal mark
bad_date               a date cell does not parse, a bare year, an open sentinel in a start date
ambiguous_date         ``01/03/2021`` in a column that does not say which is the day
implausible_date       a date before 1950 or more than a year after the observation end
out_of_range           a number outside the allowed range (``fte`` in (0, 1], ``grade`` in [0.2, 1])
unknown_category       a value outside the allowed categories (``exit_reason``, ``certification``...)
end_before_start       ``end_date`` earlier than ``start_date``
duplicate_row          a row identical to an earlier one
duplicate_key          two rows with the same key (``unit_id`` in units; employee and month in
                       caseload; employee, date and instrument in surveys; ``old_unit_id``)
overlapping_spell      two employment spells of one employee in one unit overlap
exit_reason_mismatch   an open spell with an exit reason, or a closed spell without one
fte_over_one           spells of one person at the same time add up to more than fte 1
overlapping_absence    two absence spells of one employee overlap
unknown_employee       absences/caseload/supervision/surveys rows for a person not in employment
outside_employment     absence, caseload month or supervision date outside every employment spell
unknown_unit           an employment ``unit_id`` that the units table does not list
bad_unit_change        a unit change to the same unit, or changes that loop
=====================  ==========================================================================

Dates and numbers are read by the rules of :mod:`turnover_risk.data._dates` and
:mod:`turnover_risk.data._numbers` (open sentinels, time zones, two-digit years, thousands
separators, percentages). Problems never show an ``employee_id`` value: the file, line and
column find the cell.

A row with any problem is rejected in quarantine mode; the later of two overlapping or duplicate
rows is the one rejected.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from turnover_risk._errors import TurnoverRiskInputError
from turnover_risk._warnings import DataQualityWarning
from turnover_risk.data._checks import (
    employment_checks,
    person_table_checks,
    unit_change_checks,
)
from turnover_risk.data._dates import latest_plausible
from turnover_risk.data._rules import (
    SourceInfo,
    _coerce_table,
    _Collector,
    _duplicates,
    _end_before_start,
)
from turnover_risk.data._schema import (
    ALL_SCHEMAS,
    ALL_TABLES,
    SCHEMAS,
    Register,
    TableSchema,
    pandas_dtype,
)

__all__ = [
    "RULES",
    "DataValidationError",
    "QuarantineResult",
    "ValidationReport",
    "clean_register",
    "validate",
]

RULES: dict[str, str] = {
    "missing_table": "the employment table is absent",
    "empty_file": "a file has no header row",
    "unreadable_file": "a file that cannot be parsed",
    "mixed_encoding": "a CSV file mixing UTF-8 and Windows-1252 lines",
    "bad_encoding": "a CSV file not in the encoding passed",
    "duplicate_column": "the same column twice in a header",
    "truncated_file": "a CSV file ending in the middle of a row",
    "missing_column": "a required column is absent",
    "null_value": "a required cell is empty",
    "wrong_type": "a number column holds text that is not a number",
    "ambiguous_number": "a number with a separator that could be read two ways",
    "bad_date": "a date cell does not parse",
    "ambiguous_date": "a date that could be read two ways",
    "implausible_date": "a date before 1950 or over a year after the observation end",
    "out_of_range": "a number outside its allowed range",
    "unknown_category": "a value outside the allowed categories",
    "end_before_start": "end_date earlier than start_date",
    "duplicate_row": "a row identical to an earlier one",
    "duplicate_key": "two rows with the same key",
    "overlapping_spell": "overlapping employment spells of one employee in one unit",
    "exit_reason_mismatch": "an open spell with an exit reason, or a closed one without",
    "fte_over_one": "simultaneous spells of one person adding up to more than fte 1",
    "overlapping_absence": "overlapping absence spells of one employee",
    "unknown_employee": "a row for a person not in the employment table",
    "outside_employment": "a row dated outside every employment spell of the person",
    "unknown_unit": "a unit_id the units table does not list",
    "bad_unit_change": "a unit change to the same unit, or changes that loop",
}


class ValidationReport:
    """All problems found in a register, one row each, plus per-table row accounting.

    Attributes
    ----------
    problems : DataFrame
        Columns ``table, file, row, line, column, value, rule, message``. ``row`` is the 0-based
        position of the row in its table as read; ``line`` the line in a CSV file (header = 1),
        missing for Parquet and in-memory tables; ``value`` the offending value as text.
    counts : DataFrame
        One row per table: ``rows_read``, ``rows_kept``, ``rows_rejected``
        (always ``rows_read == rows_kept + rows_rejected``).
    """

    def __init__(self, problems: pd.DataFrame, counts: pd.DataFrame) -> None:
        self.problems = problems.reset_index(drop=True)
        self.counts = counts.reset_index(drop=True)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.problems.empty

    def __len__(self) -> int:
        return len(self.problems)

    def __bool__(self) -> bool:  # a report object is always truthy; use .ok for cleanliness
        return True

    def summary(self) -> pd.DataFrame:
        """Problems counted by table and rule (empty frame when clean)."""
        if self.problems.empty:
            return pd.DataFrame(columns=["table", "rule", "problems", "rows"])
        g = self.problems.groupby(["table", "rule"], sort=True, observed=True)
        return (
            g.agg(problems=("rule", "size"), rows=("row", "nunique"))
            .reset_index()
            .sort_values(["table", "problems"], ascending=[True, False], ignore_index=True)
        )

    def first(self, n: int = 5) -> list[str]:
        """The first ``n`` problems as one readable sentence each."""
        return [_describe(r) for r in self.problems.head(n).itertuples(index=False)]

    def to_csv(self, path: str) -> None:
        """Write the full problem list to a CSV file."""
        self.problems.to_csv(path, index=False)

    def __repr__(self) -> str:
        if self.ok:
            total = int(self.counts["rows_read"].sum()) if len(self.counts) else 0
            return f"ValidationReport(ok, {total} rows in {len(self.counts)} tables)"
        lines = [f"ValidationReport({len(self)} problems)"]
        lines += [f"  - {s}" for s in self.first(5)]
        if len(self) > 5:
            lines.append(f"  ... and {len(self) - 5} more (see .problems)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "<p><b>No problems.</b></p>" if self.ok else f"<p><b>{len(self)} problems</b></p>"
        return head + self.counts.to_html(index=False) + self.summary().to_html(index=False)


class DataValidationError(TurnoverRiskInputError):
    """Raised when input data break the data contract; ``.report`` holds every problem.

    The message names the first problems (file, row, column, value, rule) and how many there are
    in all. Pass ``errors="quarantine"`` to keep the good rows and get the rejects instead.
    """

    def __init__(self, report: ValidationReport, what: str = "the register") -> None:
        self.report = report
        n = len(report)
        tables = report.problems["table"].nunique()
        shown = report.first(5)
        msg = (
            f"{what} has {n} problem{'s' if n != 1 else ''} in {tables} "
            f"table{'s' if tables != 1 else ''}:\n"
            + "\n".join(f"  - {s}" for s in shown)
            + (f"\n  ... and {n - len(shown)} more" if n > len(shown) else "")
            + "\nThe full list is in this error's .report.problems (or use "
            "`turnover-risk validate DIR --report problems.csv`); pass errors='quarantine' to keep "
            "the good rows and get the rejected ones back."
        )
        super().__init__(msg)


class QuarantineResult(NamedTuple):
    """What ``errors="quarantine"`` returns: the clean register, the rejected rows, the report.

    ``rejected`` maps table name to the rejected rows as read (plus ``row`` and ``rules``
    columns saying which row it was and why).
    """

    register: Register
    rejected: dict[str, pd.DataFrame]
    report: ValidationReport


def _describe(r: object) -> str:
    where = r.file or r.table
    if pd.notna(r.line):
        where += f" line {r.line}"
    elif pd.notna(r.row):
        where += f" row {r.row}"
    col = f", column {r.column!r}" if r.column else ""
    val = f", value {r.value!r}" if r.value != "" else ""
    return f"{where}{col}{val} [{r.rule}]: {r.message}"


def _process(
    raw: Mapping[str, pd.DataFrame | None],
    sources: Mapping[str, SourceInfo],
    metadata: Mapping[str, object] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray], pd.DataFrame, list[str]]:
    col = _Collector()
    typed: dict[str, pd.DataFrame] = {}
    bad: dict[str, np.ndarray] = {}
    notes: list[str] = []
    latest = latest_plausible((metadata or {}).get("observation_end"))
    for name in ALL_TABLES:
        df = raw.get(name)
        src = sources.get(name, SourceInfo())
        for rule, msg, line in src.problems:
            col.add_table(name, src, None, rule, msg, line)
        if df is None:
            if name == "employment" and not src.problems:
                col.add_table(
                    name,
                    src,
                    None,
                    "missing_table",
                    "the employment table is required (employment.csv or employment.parquet); "
                    "every other table is optional",
                )
            if src.problems:
                typed[name] = _empty(ALL_SCHEMAS[name])
                bad[name] = np.zeros(0, dtype=bool)
            continue
        schema = ALL_SCHEMAS[name]
        if df.shape[1] == 0:
            if not src.problems:
                col.add_table(
                    name,
                    src,
                    None,
                    "empty_file",
                    f"the file has no header row; expected columns: {', '.join(schema.required)}",
                )
            typed[name] = _empty(schema)
            bad[name] = np.zeros(len(df), dtype=bool)
            continue
        if df.columns.duplicated().any():  # an in-memory table can name a column twice
            twice = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
            col.add_table(
                name, src, None, "duplicate_column",
                f"the table names column(s) {', '.join(twice)} more than once; keep one",
            )  # fmt: skip
            df = df.loc[:, ~df.columns.duplicated()]
            src = SourceInfo(src.file, src.csv, src.lines, src.problems, reject_all=True)
        missing = [c for c in schema.required if c not in df.columns]
        for c in missing:
            col.add_table(name, src, c, "missing_column", _missing_message(c, df))
        t, b, found = _coerce_table(name, df, schema, src, col, latest)
        notes += found
        if missing or src.reject_all:
            b = np.ones(len(df), dtype=bool)
        typed[name] = t
        bad[name] = b
        if not missing:
            _end_before_start(name, t, src, col, b)
            _duplicates(name, t, schema, src, col, b)

    emp = typed.get("employment")
    emp_ok = emp is not None and set(SCHEMAS["employment"].required) <= set(emp.columns)
    if emp is not None and {"employee_id", "unit_id", "start_date"} <= set(emp.columns):
        units = typed.get("units")
        employment_checks(
            emp,
            units,
            bad.get("units"),
            sources.get("employment", SourceInfo()),
            col,
            bad["employment"],
        )
    if emp_ok:
        person_table_checks(typed, bad, sources, col)
    if "unit_changes" in typed:
        unit_change_checks(
            typed["unit_changes"],
            sources.get("unit_changes", SourceInfo()),
            col,
            bad["unit_changes"],
        )

    counts = pd.DataFrame(
        [
            {
                "table": n,
                "file": sources.get(n, SourceInfo()).file,
                "rows_read": len(typed[n]),
                "rows_kept": int((~bad[n]).sum()),
                "rows_rejected": int(bad[n].sum()),
            }
            for n in ALL_TABLES
            if n in typed
        ],
        columns=["table", "file", "rows_read", "rows_kept", "rows_rejected"],
    )
    for note in notes:
        warnings.warn(note, DataQualityWarning, stacklevel=4)
    return typed, bad, col.frame(), counts


def _missing_message(c: str, df: pd.DataFrame) -> str:
    found = ", ".join(map(str, df.columns))
    hint = difflib.get_close_matches(c, [str(x) for x in df.columns], n=1)
    sep_hint = ""
    if df.shape[1] == 1:
        head = str(df.columns[0])
        seps = [ch for ch in ";,\t|:" if ch in head]
        if seps:
            best = max(seps, key=head.count)
            sep_hint = (
                " The header looks like one column holding separators: read the file "
                f"with sep={best!r} (read_register(..., sep={best!r}) or --sep)."
            )
    return (
        f"required column {c!r} is missing; found: {found}"
        + (f" (did you mean {hint[0]!r}? rename it)" if hint else "")
        + sep_hint
    )


def _empty(schema: TableSchema) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=pandas_dtype(c)) for c in schema.columns})


def validate(register: Register) -> ValidationReport:
    """Check a register against the data contract and return every problem.

    Parameters
    ----------
    register : Register
        Tables as DataFrames; text columns are parsed as the contract says (so an in-memory
        table with dates as strings is checked the same way a CSV file is).

    Returns
    -------
    ValidationReport
        ``.ok`` is True when clean; ``.problems`` has one row per problem.

    Examples
    --------
    >>> import pandas as pd, turnover_risk as tr
    >>> emp = pd.DataFrame({"employee_id": ["a", "b"], "unit_id": ["u", "u"],
    ...                     "start_date": ["2020-01-01", "2020-02-01"],
    ...                     "end_date": ["2019-12-31", None], "fte": [1.0, 1.5]})
    >>> report = tr.validate(tr.Register(employment=emp))
    >>> sorted(report.problems["rule"])
    ['end_before_start', 'out_of_range']
    """
    if not isinstance(register, Register):
        raise TypeError(
            f"validate expects a turnover_risk.Register; got {type(register).__name__}. "
            "Wrap your tables: tr.Register(employment=df, ...)."
        )
    sources = _sources(register)
    _, _, problems, counts = _process(register.tables(), sources, register.metadata)
    return ValidationReport(problems, counts)


def _sources(register: Register) -> dict[str, SourceInfo]:
    meta = register.metadata.get("sources", {}) if register.metadata else {}
    return {k: v for k, v in meta.items() if isinstance(v, SourceInfo)}


def clean_register(
    register: Register,
    errors: str = "raise",
    *,
    sources: Mapping[str, SourceInfo] | None = None,
    what: str = "the register",
) -> Register | QuarantineResult:
    """Parse a register's tables to the contract's dtypes and apply the validation rules.

    Parameters
    ----------
    register : Register
        Raw or typed tables.
    errors : {"raise", "quarantine"}
        ``"raise"``: raise :class:`DataValidationError` if any problem is found, else return the
        typed Register. ``"quarantine"``: return a :class:`QuarantineResult` with the good rows,
        the rejected rows and the report.
    """
    if errors not in ("raise", "quarantine"):
        raise ValueError(
            f"errors={errors!r} is not allowed; choose 'raise' (stop at the first bad file) or "
            "'quarantine' (keep the good rows and return the rejected ones)."
        )
    sources = dict(sources or _sources(register))
    raw = register.tables()
    typed, bad, problems, counts = _process(raw, sources, register.metadata)
    report = ValidationReport(problems, counts)
    if errors == "raise" and not report.ok:
        raise DataValidationError(report, what)
    if "employment" not in typed:
        raise DataValidationError(report, what)
    kept = {n: t.loc[~bad[n]].reset_index(drop=True) for n, t in typed.items()}
    meta = dict(register.metadata or {})
    meta["sources"] = sources
    reg = Register(**kept, metadata=meta)
    if errors == "raise":
        return reg
    rejected = {}
    for n, t in typed.items():
        rows = np.flatnonzero(bad[n])
        rj = raw[n].iloc[rows].copy() if raw.get(n) is not None else t.iloc[rows].copy()
        rj.insert(0, "row", rows)
        rules = problems.loc[problems["table"] == n].dropna(subset=["row"])
        rules = rules[["row", "rule"]].drop_duplicates().sort_values(["row", "rule"])
        why = rules.groupby("row")["rule"].agg(",".join)
        whole = problems.loc[(problems["table"] == n) & problems["row"].isna(), "rule"]
        fallback = ",".join(sorted(set(whole))) or "missing_column"
        rj["rules"] = rj["row"].map(why).astype(object).fillna(fallback)
        rejected[n] = rj.reset_index(drop=True)
    return QuarantineResult(reg, rejected, report)
