"""Parsing and checking raw survey answers, and scoring one instrument (private; the API is
:func:`turnover_risk.surveys.score_survey`).

Answers may be codes or labels; each problem (unknown label, out-of-range code, too few items)
is collected with its row, column, value and rule, then raised or warned about.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from turnover_risk._errors import TurnoverRiskInputError
from turnover_risk._warnings import DataQualityWarning
from turnover_risk.surveys._builtin import _ALIASES
from turnover_risk.surveys._instrument import Instrument, _key, _normalise_label

PROBLEM_COLUMNS: tuple[str, ...] = ("row", "column", "value", "rule", "message")
"""Columns of a survey problem report (``row`` is the index label of the response)."""

_ON_MISSING = ("rule", "nan", "raise")

_ON_INVALID = ("raise", "nan")

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")

_MAX_SHOWN = 5


class SurveyInputError(TurnoverRiskInputError):
    """Survey answers that cannot be scored; ``.problems`` holds the full problem report.

    The report is a DataFrame with the columns of :data:`PROBLEM_COLUMNS`.
    """

    def __init__(self, message: str, problems: pd.DataFrame) -> None:
        super().__init__(message)
        self.problems = problems


def _problem_frame(records: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    data = {
        col: pd.Series(
            [r[col] for r in records], dtype=object if col in ("row", "value") else "str"
        )
        for col in PROBLEM_COLUMNS
    }
    return pd.DataFrame(data, columns=list(PROBLEM_COLUMNS))


def _py(value: object) -> object:
    """A plain Python scalar for the problem report (numpy scalars unwrapped)."""
    return value.item() if isinstance(value, np.generic) else value


def _label_hint(inst: Instrument) -> str:
    labels = sorted(inst.labels, key=lambda k: (-inst.labels[k], k))
    shown = ", ".join(repr(label) for label in labels[:8])
    more = f" ... ({len(labels) - 8} more, see get_instrument({inst.name!r}).labels)"
    return shown + (more if len(labels) > 8 else "")


def _parse_unique(value: object, labels: Mapping[str, int]) -> tuple[float, str | None]:
    """Parse one distinct answer: (number or NaN, problem rule or None)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return math.nan, None
    if isinstance(value, bool | np.bool_):
        return math.nan, "wrong_type"
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value), None
    if isinstance(value, str):
        text = _normalise_label(value)
        if text == "":
            return math.nan, None
        if text in labels:
            return float(labels[text]), None
        if _NUMBER.fullmatch(text):
            return float(text), None
        return math.nan, "unknown_label"
    return math.nan, "wrong_type"


def _parse_column(col: pd.Series, labels: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of one answer column and the problem rule per row ('' = none)."""
    n = len(col)
    rules = np.full(n, "", dtype=object)
    if pd.api.types.is_bool_dtype(col):
        values = np.full(n, np.nan)
        rules[col.notna().to_numpy()] = "wrong_type"
        return values, rules
    if pd.api.types.is_numeric_dtype(col):
        return np.array(col.to_numpy(dtype=float, na_value=np.nan), copy=True), rules
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    parsed = [_parse_unique(u, labels) for u in uniques]
    u_values = np.array([p[0] for p in parsed] + [np.nan], dtype=float)
    u_rules = np.array([p[1] or "" for p in parsed] + [""], dtype=object)
    return u_values[codes], u_rules[codes]


def _check_codes(values: np.ndarray, rules: np.ndarray, inst: Instrument) -> None:
    """Flag non-integer and out-of-range codes in place (and blank them)."""
    finite = ~np.isnan(values)
    not_int = finite & (~np.isfinite(values) | (values != np.round(values)))
    out = finite & ~not_int & ((values < inst.response_min) | (values > inst.response_max))
    rules[not_int & (rules == "")] = "not_integer"
    rules[out & (rules == "")] = "out_of_range"
    values[not_int | out] = np.nan


def _message(rule: str, row: object, column: str, value: object, inst: Instrument) -> str:
    where = f"row {row!r}: {column}={value!r}"
    rng = f"{inst.response_min}..{inst.response_max}"
    if rule == "out_of_range":
        return f"{where} is outside the {inst.name} answer range {rng}"
    if rule == "not_integer":
        return f"{where} is not a whole answer code ({inst.name} codes are the integers {rng})"
    if rule == "unknown_label":
        return (
            f"{where} is not an answer label of {inst.name}; use a code {rng} or one of: "
            f"{_label_hint(inst)}"
        )
    if rule == "wrong_type":
        return f"{where} has type {type(value).__name__}; answers are codes {rng} or labels"
    if rule == "unexpected_answer":
        return f"{where}: {inst.name} has only {inst.n_items} items, so this column must be empty"
    if rule == "out_of_score_range":
        return f"{where} is outside the allowed score range of {inst.name}"
    if rule == "not_a_number":
        return f"{where} is not a number (precomputed {inst.name} scores must be numeric)"
    raise AssertionError(rule)  # pragma: no cover - every rule above is handled


def _collect(
    records: list[dict[str, object]],
    rules: np.ndarray,
    raw: pd.Series,
    column: str,
    inst: Instrument,
) -> None:
    for pos in np.flatnonzero(rules != ""):
        row = _py(raw.index[pos])
        value = _py(raw.iloc[pos])
        rule = str(rules[pos])
        records.append(
            {
                "row": row,
                "column": column,
                "value": value,
                "rule": rule,
                "message": _message(rule, row, column, value, inst),
            }
        )


def _item_columns(
    columns: Iterable[Hashable], item_prefix: str
) -> tuple[dict[int, str], list[Hashable]]:
    """Item number -> column, and the non-item columns (in input order)."""
    pattern = re.compile(re.escape(item_prefix) + r"(\d+)")
    items: dict[int, str] = {}
    others: list[Hashable] = []
    for c in columns:
        m = pattern.fullmatch(c) if isinstance(c, str) else None
        if m is None:
            others.append(c)
            continue
        number = int(m.group(1))
        if number in items:
            raise ValueError(
                f"columns {items[number]!r} and {c!r} both hold item {number}; keep one "
                f"(item columns are {item_prefix}01, {item_prefix}02, ...)."
            )
        items[number] = c
    return items, others


def _matches_instrument(values: pd.Series, inst: Instrument) -> np.ndarray:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    target = _key(inst.name)

    def resolves(u: object) -> bool:
        key = _key(str(u))
        canonical = _ALIASES.get(key)
        return _key(canonical) == target if canonical is not None else key == target

    hit = np.array([resolves(u) for u in uniques] + [False], dtype=bool)
    return hit[codes]


def _select_rows(
    responses: pd.DataFrame, inst: Instrument, instrument_col: str | None
) -> pd.DataFrame:
    if instrument_col is None or instrument_col not in responses.columns:
        return responses
    mask = _matches_instrument(responses[instrument_col], inst)
    if len(responses) and not mask.any():
        present = sorted({str(v) for v in responses[instrument_col].dropna().unique()})
        warnings.warn(
            f"no rows of instrument {inst.name!r} in column {instrument_col!r} (values present: "
            f"{', '.join(present) or 'none'}); the result is empty. Pass the instrument these "
            "rows hold, or instrument_col=None to score every row.",
            DataQualityWarning,
            stacklevel=3,
        )
    return responses.loc[mask]


def _raise_or_warn(records: list[dict[str, object]], inst: Instrument, on_invalid: str) -> None:
    if not records:
        return
    shown = "; ".join(str(r["message"]) for r in records[:_MAX_SHOWN])
    more = f" (and {len(records) - _MAX_SHOWN} more)" if len(records) > _MAX_SHOWN else ""
    if on_invalid == "raise":
        raise SurveyInputError(
            f"{len(records)} problem(s) in the {inst.name} responses: {shown}{more}. Fix the "
            "answers, or pass on_invalid='nan' to score the rest (invalid answers become "
            "missing and are listed by survey_problems(result)). The full list is in the "
            "error's .problems.",
            _problem_frame(records),
        )
    warnings.warn(
        f"{len(records)} invalid {inst.name} answer(s) were treated as missing "
        f"(on_invalid='nan'): {shown}{more}. See survey_problems(result).",
        DataQualityWarning,
        stacklevel=3,
    )


def _score_precomputed(
    rows: pd.DataFrame, inst: Instrument, records: list[dict[str, object]]
) -> dict[str, np.ndarray]:
    scores: dict[str, np.ndarray] = {}
    for sub in inst.subscales:
        if sub not in rows.columns:
            records.append(
                {
                    "row": None,
                    "column": sub,
                    "value": None,
                    "rule": "missing_column",
                    "message": f"column {sub!r} with precomputed {inst.name} scores is missing; "
                    f"{inst.name} needs columns {', '.join(inst.subscales)} (rename yours)",
                }
            )
            scores[sub] = np.full(len(rows), np.nan)
            continue
        values, rules = _parse_column(rows[sub], {})
        rules[rules != ""] = "not_a_number"
        lo, hi = inst.score_range(sub)
        finite = ~np.isnan(values)
        outside = finite & ~((values >= lo) & (values <= hi))
        rules[outside & (rules == "")] = "out_of_score_range"
        values[outside] = np.nan
        _collect(records, rules, rows[sub], sub, inst)
        scores[sub] = values
    return scores


def _score_items(
    rows: pd.DataFrame,
    inst: Instrument,
    items: Mapping[int, str],
    item_prefix: str,
    records: list[dict[str, object]],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    n = len(rows)
    codes = np.full((n, inst.n_items), np.nan)
    expected = inst.item_columns(item_prefix)
    missing = [expected[i - 1] for i in range(1, inst.n_items + 1) if i not in items]
    for col in missing:
        records.append(
            {
                "row": None,
                "column": col,
                "value": None,
                "rule": "missing_column",
                "message": f"item column {col!r} is missing; {inst.name} needs "
                f"{expected[0]}..{expected[-1]} ({inst.n_items} items)",
            }
        )
    for number, col in items.items():
        raw = rows[col]
        values, rules = _parse_column(raw, inst.labels)
        if number > inst.n_items:
            rules[~np.isnan(values) | (rules != "")] = "unexpected_answer"
        else:
            _check_codes(values, rules, inst)
            values[rules != ""] = np.nan
            codes[:, number - 1] = values
        _collect(records, rules, raw, col, inst)

    if inst.reverse:
        rev = np.asarray(inst.reverse) - 1
        codes[:, rev] = inst.reverse_code(codes[:, rev])
    values = np.full(codes.shape, np.nan)
    answered = ~np.isnan(codes)
    values[answered] = inst._value_table()[(codes[answered] - inst.response_min).astype(int)]

    scores: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    for sub, sub_items in inst.subscales.items():
        block = values[:, np.asarray(sub_items) - 1]
        n_answered = (~np.isnan(block)).sum(axis=1)
        total = np.nansum(block, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            if inst.method[sub] == "sum":
                score = total * len(sub_items) / n_answered
            else:
                score = total / n_answered
        scores[sub] = score
        counts[sub] = n_answered.astype(np.int64)
    return scores, counts
