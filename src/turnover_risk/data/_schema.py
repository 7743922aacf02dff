"""The data contract: six long, effective-dated tables and the :class:`Register` that holds them.

This module is the single source of truth for column names, dtypes, required and optional
columns and allowed values. Validation (:mod:`turnover_risk.data._validation`), the readers
(:mod:`turnover_risk.data._io`), the simulator (:mod:`turnover_risk.datasets`) and the docs all read
it; nothing else in the library spells a column's dtype on its own.

Dtype kinds
-----------
``id``        text identifier (pandas' string dtype); numbers in a file are read as text.
``text``      free text (pandas' string dtype).
``date``      calendar date, stored as ``datetime64[ns]`` at midnight; empty means open/unknown.
``float``     ``float64``.
``int``       nullable integer ``Int64``.
``category``  ``CategoricalDtype`` with exactly the allowed values, in the listed order.
``any``       kept as read (survey item answers may be numbers or answer labels).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Literal

import pandas as pd

__all__ = [
    "CERTIFICATIONS",
    "EXIT_REASONS",
    "SUPERVISION_KINDS",
    "SCHEMAS",
    "TABLE_NAMES",
    "Column",
    "Register",
    "TableSchema",
    "pandas_dtype",
    "schema_table",
]

DtypeKind = Literal["id", "text", "date", "float", "int", "category", "any"]

EXIT_REASONS: tuple[str, ...] = (
    "voluntary",
    "retirement",
    "dismissal",
    "contract_end",
    "internal_transfer",
    "death",
    "other",
)
"""Allowed ``employment.exit_reason`` values (the data contract, ``docs/architecture.md``)."""

CERTIFICATIONS: tuple[str, ...] = ("self", "doctor")
"""Allowed ``absences.certification`` values: self-certified (egenmeldt) or doctor-certified."""

SUPERVISION_KINDS: tuple[str, ...] = ("individual", "group", "process", "external", "debrief")
"""Allowed ``supervision.kind`` values."""

DATE_NS = "datetime64[ns]"


@dataclass(frozen=True)
class Column:
    """One column of a table contract.

    Parameters
    ----------
    name : str
        Column name as it appears in files and DataFrames.
    kind : {"id", "text", "date", "float", "int", "category", "any"}
        Dtype kind (see the module docstring for the pandas dtype of each).
    required : bool
        Whether a file must contain the column.
    nullable : bool
        Whether an empty cell is allowed (e.g. an open ``end_date``).
    allowed : tuple of str, optional
        Allowed values of a ``category`` column.
    low, high : float, optional
        Range bounds of a numeric column; ``low_inclusive``/``high_inclusive`` say whether the
        bound itself is allowed.
    description : str
        What the column means, shown in the docs.
    """

    name: str
    kind: DtypeKind
    required: bool = False
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    description: str = ""

    @property
    def dtype(self) -> object:
        """The pandas dtype this column is stored as."""
        return pandas_dtype(self)

    def range_text(self) -> str:
        """Human-readable allowed range, e.g. ``(0, 1]``."""
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "[" if self.low_inclusive and self.low is not None else "("
        right = "]" if self.high_inclusive and self.high is not None else ")"
        return f"{left}{lo}, {hi}{right}"


def pandas_dtype(column: Column) -> object:
    """Return the pandas dtype for a :class:`Column` (one place that maps kinds to dtypes)."""
    if column.kind in ("id", "text"):
        return pd.StringDtype()
    if column.kind == "date":
        return DATE_NS
    if column.kind == "float":
        return "float64"
    if column.kind == "int":
        return "Int64"
    if column.kind == "category":
        return pd.CategoricalDtype(list(column.allowed or ()), ordered=False)
    return object


@dataclass(frozen=True)
class TableSchema:
    """Contract of one table: its columns, its row key and (for wide tables) a column pattern.

    Parameters
    ----------
    name : str
        Table name; also the file stem (``employment.csv``, ``employment.parquet``).
    columns : tuple of Column
        The named columns, required first.
    key : tuple of str
        Columns that identify a row; two rows equal on all of them are duplicates.
    pattern : str, optional
        Regular expression for extra columns the table may carry (survey items ``item_01``...).
    pattern_kind : str
        Dtype kind of the pattern columns.
    description : str
        One line on what a row is.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    pattern: str | None = None
    pattern_kind: DtypeKind = "any"
    description: str = ""

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    @property
    def optional(self) -> tuple[str, ...]:
        """Names of the optional columns."""
        return tuple(c.name for c in self.columns if not c.required)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of all named columns."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """Return the contract of column ``name``; pattern columns get ``pattern_kind``."""
        for c in self.columns:
            if c.name == name:
                return c
        if self.matches_pattern(name):
            return Column(name, self.pattern_kind, description="pattern column")
        raise KeyError(
            f"column {name!r} is not part of table {self.name!r}; "
            f"known columns: {', '.join(self.names)}"
        )

    def matches_pattern(self, name: str) -> bool:
        """Whether ``name`` is an extra column allowed by the table's pattern."""
        return self.pattern is not None and re.fullmatch(self.pattern, str(name)) is not None

    def known(self, name: str) -> bool:
        """Whether ``name`` is a named or pattern column of this table."""
        return name in self.names or self.matches_pattern(name)

    def to_frame(self) -> pd.DataFrame:
        """The contract as a table (one row per column), for docs and ``print``."""
        rows = [
            {
                "table": self.name,
                "column": c.name,
                "dtype": str(c.dtype) if c.kind != "category" else "category",
                "required": c.required,
                "nullable": c.nullable,
                "allowed": ", ".join(c.allowed)
                if c.allowed
                else (c.range_text() if c.low is not None or c.high is not None else ""),
                "description": c.description,
            }
            for c in self.columns
        ]
        if self.pattern:
            rows.append(
                {
                    "table": self.name,
                    "column": self.pattern,
                    "dtype": self.pattern_kind,
                    "required": False,
                    "nullable": True,
                    "allowed": "",
                    "description": "pattern: any number of such columns",
                }
            )
        return pd.DataFrame(rows)


_EMP = "employee_id"

SCHEMAS: dict[str, TableSchema] = {
    "employment": TableSchema(
        name="employment",
        description="One row per employment spell of one person in one unit.",
        key=(_EMP, "unit_id", "start_date"),
        columns=(
            Column(_EMP, "id", True, False, description="Person identifier (pseudonymised)."),
            Column("unit_id", "id", True, False, description="Unit the spell is in."),
            Column("start_date", "date", True, False, description="First day of the spell."),
            Column(
                "end_date", "date", True, True, description="Last day of the spell; empty = open."
            ),
            Column(
                "fte",
                "float",
                True,
                False,
                low=0.0,
                high=1.0,
                low_inclusive=False,
                description="Position share (stillingsandel), 0 < fte <= 1.",
            ),
            Column("role", "text", description="Job role, e.g. caseworker, team_leader."),
            Column(
                "exit_reason",
                "category",
                allowed=EXIT_REASONS,
                description="Why the spell ended; empty while the spell is open.",
            ),
            Column("birth_year", "int", low=1900, high=2100, description="Year of birth."),
            Column("gender", "text", description="Gender as recorded in the HR system."),
            Column("education", "text", description="Education, e.g. child_welfare, social_work."),
            Column(
                "qualified_year",
                "int",
                low=1950,
                high=2100,
                description="Year the person completed the qualifying education.",
            ),
        ),
    ),
    "units": TableSchema(
        name="units",
        description="One row per unit (team, office) with its municipality and service.",
        key=("unit_id",),
        columns=(
            Column("unit_id", "id", True, False, description="Unit identifier."),
            Column("unit_name", "text", description="Display name."),
            Column("municipality", "text", description="Municipality the unit belongs to."),
            Column("service", "text", description="Service (e.g. one municipal barnevern)."),
        ),
    ),
    "absences": TableSchema(
        name="absences",
        description="One row per sick-leave spell.",
        key=(_EMP, "start_date", "certification"),
        columns=(
            Column(_EMP, "id", True, False, description="Person identifier."),
            Column("start_date", "date", True, False, description="First day of absence."),
            Column(
                "end_date",
                "date",
                True,
                True,
                description="Last day of absence; empty = ongoing at the extract (counted to the "
                "observation end).",
            ),
            Column(
                "certification",
                "category",
                True,
                False,
                allowed=CERTIFICATIONS,
                description="self (egenmelding) or doctor (sykmelding).",
            ),
            Column(
                "grade",
                "float",
                low=0.2,
                high=1.0,
                description="Sick-leave grade 0.2..1 (default 1; self-certified counts as 1).",
            ),
        ),
    ),
    "caseload": TableSchema(
        name="caseload",
        description="Monthly caseload snapshot per caseworker.",
        key=(_EMP, "month"),
        columns=(
            Column(_EMP, "id", True, False, description="Person identifier."),
            Column("month", "date", True, False, description="First day of the month."),
            Column("open_cases", "int", True, False, low=0, description="Open cases (children)."),
            Column("new_cases", "int", low=0, description="Cases opened in the month."),
            Column("care_order_cases", "int", low=0, description="Open care-order cases."),
            Column("deadline_breaches", "int", low=0, description="Statutory deadlines missed."),
        ),
    ),
    "supervision": TableSchema(
        name="supervision",
        description="One row per supervision session a person received.",
        key=(_EMP, "date", "kind"),
        columns=(
            Column(_EMP, "id", True, False, description="Person identifier."),
            Column("date", "date", True, False, description="Date of the session."),
            Column(
                "kind",
                "category",
                True,
                False,
                allowed=SUPERVISION_KINDS,
                description="Kind of supervision.",
            ),
            Column("minutes", "float", low=0, description="Length of the session in minutes."),
        ),
    ),
    "surveys": TableSchema(
        name="surveys",
        description="Raw survey answers in wide form: one row per respondent, date and instrument.",
        key=(_EMP, "date", "instrument"),
        pattern=r"item_\d+",
        pattern_kind="any",
        columns=(
            Column(_EMP, "id", True, False, description="Person identifier."),
            Column("date", "date", True, False, description="Date of the response."),
            Column(
                "instrument",
                "text",
                True,
                False,
                description="Instrument, e.g. CBI, ProQOL, BAT12.",
            ),
        ),
    ),
}
"""The schema of each table of the data contract: columns, dtypes, allowed values, meaning."""

TABLE_NAMES: tuple[str, ...] = tuple(SCHEMAS)
"""The six record tables of the data contract, in layer order (employment first)."""

ALL_SCHEMAS: dict[str, TableSchema] = {
    **SCHEMAS,
    "unit_changes": TableSchema(
        name="unit_changes",
        description="One row per unit renamed or merged into another: not turnover.",
        key=("old_unit_id",),
        columns=(
            Column("old_unit_id", "id", True, False, description="Unit before the change."),
            Column("new_unit_id", "id", True, False, description="Unit it became."),
            Column("date", "date", True, False, description="First day under the new unit."),
        ),
    ),
}
"""The record tables plus the optional reference table ``unit_changes``."""

ALL_TABLES: tuple[str, ...] = tuple(ALL_SCHEMAS)


def schema_table() -> pd.DataFrame:
    """The whole data contract as one DataFrame (table, column, dtype, required, ...)."""
    return pd.concat([s.to_frame() for s in ALL_SCHEMAS.values()], ignore_index=True)


@dataclass(frozen=True, eq=False)
class Register:
    """The tables of one register, as pandas DataFrames (absent optional tables are None).

    The six record tables, plus ``unit_changes`` (units renamed or merged on a date: the rates
    and the panel follow a unit under its latest id, so a reorganisation is not turnover).

    A ``Register`` is immutable in its fields: use :meth:`replace` to get one with other tables.
    It does not validate itself; :func:`turnover_risk.validate` and
    :func:`turnover_risk.read_register` do.

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk import Register
    >>> emp = pd.DataFrame({"employee_id": ["a"], "unit_id": ["u1"],
    ...                     "start_date": pd.to_datetime(["2020-01-01"]),
    ...                     "end_date": pd.to_datetime([None]), "fte": [1.0]})
    >>> Register(employment=emp).table_names
    ('employment',)
    """

    employment: pd.DataFrame
    units: pd.DataFrame | None = None
    absences: pd.DataFrame | None = None
    caseload: pd.DataFrame | None = None
    supervision: pd.DataFrame | None = None
    surveys: pd.DataFrame | None = None
    unit_changes: pd.DataFrame | None = None
    metadata: Mapping[str, object] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name in ALL_TABLES:
            value = getattr(self, name)
            if value is None and name == "employment":
                raise TypeError(
                    "Register needs an employment table; got None. "
                    "Pass employment=<DataFrame with employee_id, unit_id, start_date, "
                    "end_date, fte>."
                )
            if value is not None and not isinstance(value, pd.DataFrame):
                raise TypeError(
                    f"Register.{name} must be a pandas DataFrame or None; "
                    f"got {type(value).__name__}."
                )

    @property
    def table_names(self) -> tuple[str, ...]:
        """Names of the tables present (not None), in contract order."""
        return tuple(n for n in ALL_TABLES if getattr(self, n) is not None)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The present tables as a dict ``{name: DataFrame}``."""
        return {n: getattr(self, n) for n in self.table_names}

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        return iter(self.tables().items())

    def replace(self, **tables: pd.DataFrame | None) -> Register:
        """Return a new Register with some tables replaced (``reg.replace(absences=None)``)."""
        unknown = set(tables) - {f.name for f in fields(self)}
        if unknown:
            raise TypeError(
                f"Register has no table {sorted(unknown)}; tables are: {', '.join(ALL_TABLES)}"
            )
        return replace(self, **tables)

    def summary(self) -> pd.DataFrame:
        """One row per table: rows, columns and (where it applies) persons and date range."""
        rows = []
        for name, df in self:
            date_cols = [c for c in ("start_date", "month", "date") if c in df.columns]
            first = last = None
            if date_cols and len(df):
                d = pd.to_datetime(df[date_cols[0]], errors="coerce")
                first, last = d.min(), d.max()
            rows.append(
                {
                    "table": name,
                    "rows": len(df),
                    "columns": df.shape[1],
                    "persons": df["employee_id"].nunique() if "employee_id" in df else None,
                    "first_date": first,
                    "last_date": last,
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={len(df)} rows" for n, df in self)
        return f"Register({parts})"
