"""Registers: the data contract, reading and writing, validation, and the working-day calendar.

A :class:`Register` holds the six tables of the contract (``employment`` is required) and,
optionally, ``unit_changes`` (units renamed or merged, :func:`follow_unit_changes`);
:func:`read_register` reads a folder of CSV or Parquet files into one, :func:`validate` reports
every problem as a row, and :class:`WorkdayIndex` counts Norwegian working days.
"""

from turnover_risk.data._calendar import (
    WorkdayIndex,
    holiday_dates,
    is_working_day,
    norwegian_holidays,
    working_days,
)
from turnover_risk.data._io import read_register, read_table, write_register
from turnover_risk.data._schema import (
    CERTIFICATIONS,
    EXIT_REASONS,
    SCHEMAS,
    SUPERVISION_KINDS,
    TABLE_NAMES,
    Column,
    Register,
    TableSchema,
    pandas_dtype,
    schema_table,
)
from turnover_risk.data._unit_changes import follow_unit_changes
from turnover_risk.data._validation import (
    RULES,
    DataValidationError,
    QuarantineResult,
    ValidationReport,
    clean_register,
    validate,
)

__all__ = [
    "CERTIFICATIONS",
    "EXIT_REASONS",
    "RULES",
    "SCHEMAS",
    "SUPERVISION_KINDS",
    "TABLE_NAMES",
    "Column",
    "DataValidationError",
    "QuarantineResult",
    "Register",
    "TableSchema",
    "ValidationReport",
    "WorkdayIndex",
    "clean_register",
    "follow_unit_changes",
    "holiday_dates",
    "is_working_day",
    "norwegian_holidays",
    "pandas_dtype",
    "read_register",
    "read_table",
    "schema_table",
    "validate",
    "working_days",
    "write_register",
]
