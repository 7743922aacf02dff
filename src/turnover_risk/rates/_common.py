"""Argument checking, periods and output assembly shared by the rate modules (private).

Periods are labelled ``"2021"`` (year), ``"2021Q1"`` (quarter) and ``"2021-01"`` (month); a
``period`` argument is a frequency or a list of labels of one kind. :func:`_finish` orders the
rows (margins last), applies small-cell suppression and warns when every row is suppressed.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.privacy import TOTAL_LABEL, suppress_small_groups

_RESERVED = {"period", "numerator", "denominator", "rate", "ci_low", "ci_high", "suppressed"}

_FREQ_ALIASES = {
    "year": "year",
    "annual": "year",
    "y": "year",
    "a": "year",
    "ye": "year",
    "quarter": "quarter",
    "q": "quarter",
    "qe": "quarter",
    "qs": "quarter",
    "month": "month",
    "m": "month",
    "me": "month",
    "ms": "month",
}

_LABEL_PATTERNS = (
    ("year", re.compile(r"^(\d{4})$")),
    ("quarter", re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)),
    ("month", re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")),
)

_PERIOD_HELP = (
    "use 'year', 'quarter' or 'month', or period labels such as '2021', '2021Q1' or "
    "'2021-01' (a list of labels of one kind selects those periods)"
)


def _parse_period(period: object) -> tuple[str, list[str] | None]:
    """Return (frequency, selected labels or None)."""
    items = [period] if isinstance(period, str) else period
    if not isinstance(items, list | tuple) or not items:
        raise ValueError(f"period={period!r} is not understood; {_PERIOD_HELP}.")
    if len(items) == 1 and isinstance(items[0], str) and items[0].lower() in _FREQ_ALIASES:
        return _FREQ_ALIASES[items[0].lower()], None
    kinds, labels = set(), []
    for item in items:
        for kind, pat in _LABEL_PATTERNS:
            m = pat.match(str(item).strip()) if isinstance(item, str | int) else None
            if m:
                kinds.add(kind)
                labels.append(_label(kind, int(m.group(1)), int(m.groups()[-1])))
                break
        else:
            raise ValueError(f"period={item!r} is not understood; {_PERIOD_HELP}.")
    if len(kinds) > 1:
        raise ValueError(
            f"period={period!r} mixes kinds of periods ({', '.join(sorted(kinds))}); "
            "give labels of one kind."
        )
    return kinds.pop(), labels


def _label(kind: str, year: int, sub: int) -> str:
    if kind == "year":
        return f"{year}"
    if kind == "quarter":
        return f"{year}Q{sub}"
    return f"{year}-{sub:02d}"


def _grid(kind: str, first: int, last: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Periods of ``kind`` covering days ``first..last``: (start days, end days, labels)."""
    freq = {"year": "YS", "quarter": "QS", "month": "MS"}[kind]
    lo = pd.Timestamp(np.datetime64(first, "D")).to_period(freq[0]).start_time
    hi = pd.Timestamp(np.datetime64(last, "D"))
    starts = pd.date_range(lo, hi, freq=freq)
    # one more period start closes the last period; kept a DatetimeIndex so the cast to days
    # is unit-safe (np.append of a Timestamp gives an object array holding raw ns integers)
    bounds = pd.date_range(lo, periods=len(starts) + 1, freq=freq)
    days = bounds.to_numpy().astype("datetime64[D]").astype(np.int64)
    labels = [
        _label(kind, s.year, {"year": 1, "quarter": s.quarter, "month": s.month}[kind])
        for s in starts
    ]
    return days[:-1], days[1:] - 1, labels


def _check_choice(name: str, value: object, allowed: Sequence[str], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"{name}={value!r} is not a known {what}; choose one of: {', '.join(allowed)}"
        )
    return value


def _check_confidence(confidence: object) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, float | int):
        raise TypeError(f"confidence must be a number in (0, 1); got {confidence!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} must be strictly between 0 and 1, e.g. 0.95.")
    return float(confidence)


def _check_by(by: object) -> list[str]:
    if by is None:
        return []
    cols = [by] if isinstance(by, str) else list(by)  # type: ignore[call-overload]
    if not all(isinstance(c, str) for c in cols):
        raise TypeError(f"by must be a column name or a list of column names; got {by!r}.")
    bad = [c for c in cols if c in _RESERVED]
    if bad:
        raise ValueError(f"by={bad} uses reserved output column names; rename the column.")
    if len(set(cols)) != len(cols):
        raise ValueError(f"by={cols} names a column twice.")
    return cols


def _parse_snapshot(snapshot: object) -> tuple[int, int]:
    m = re.match(r"^(\d{1,2})-(\d{1,2})$", str(snapshot)) if isinstance(snapshot, str) else None
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        try:
            pd.Timestamp(2001, month, day)  # a non-leap year: 02-29 is refused
            return month, day
        except ValueError:
            pass
    raise ValueError(
        f"snapshot={snapshot!r} is not a month-day like '12-01' (1 December, KS) or '11-15'; "
        "February 29 is not allowed."
    )


def _to_day(value: object, name: str) -> int | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} is not a date; use e.g. '2021-12-31'.") from exc
    if pd.isna(ts):
        raise ValueError(f"{name}={value!r} is not a date; use e.g. '2021-12-31'.")
    return int(np.datetime64(ts.date(), "D").astype(np.int64))


def _select_periods(labels: list[str], keep: np.ndarray, wanted: list[str] | None) -> np.ndarray:
    if wanted is None:
        return keep
    pos = {lab: i for i, lab in enumerate(labels)}
    bad = [w for w in wanted if w not in pos or not keep[pos[w]]]
    if bad:
        ok = [lab for lab, k in zip(labels, keep, strict=True) if k]
        raise ValueError(
            f"period={bad} cannot be computed from the data window; computable periods: "
            f"{', '.join(ok) if ok else 'none'}."
        )
    sel = np.zeros(len(labels), dtype=bool)
    sel[[pos[w] for w in wanted]] = True
    return sel


def _window_periods(
    kind: str, first: int, last: int, wanted: list[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Period bounds clipped to the window ``first..last`` (day numbers) and their labels,
    restricted to the ``wanted`` labels when given (flow definitions and sick leave)."""
    p0, p1, labels = _grid(kind, first, last)
    p0 = np.maximum(p0, first)
    p1 = np.minimum(p1, last)
    ks = np.flatnonzero(_select_periods(labels, np.ones(len(labels), dtype=bool), wanted))
    return p0[ks], p1[ks], [labels[k] for k in ks]


def _finish(
    parts: list[pd.DataFrame],
    *,
    by: list[str],
    margins: bool,
    min_group_size: int,
    value_cols: list[str],
    within: tuple[str, ...] = ("period",),
    raw: bool = False,
) -> pd.DataFrame:
    """Concatenate and order the rows; unless ``raw``, suppress within the table (the
    register-based kernels pass ``raw=True`` and protect the table across tables with
    :func:`turnover_risk.rates._protect.protect`)."""
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    order = [c for c in [*by, *within] if c in out.columns]
    if order and len(out):
        keys = out[order].copy()
        if "certification" in keys.columns:
            keys["certification"] = keys["certification"].map({"all": 0, "self": 1, "doctor": 2})
        for c in by:  # margins ("All") after the real groups
            keys[c] = keys[c].where(~keys[c].astype("string").eq(TOTAL_LABEL).fillna(False))
        out = out.iloc[keys.sort_values(order, kind="stable", na_position="last").index]
        out = out.reset_index(drop=True)
    if raw:
        return out
    out = suppress_small_groups(
        out,
        count_col="n_persons",
        value_cols=value_cols,
        min_group_size=min_group_size,
        margins=margins and bool(by),
        group_cols=by,
        within=within,
    )
    if len(out) and out["suppressed"].all():
        warnings.warn(
            f"every one of the {len(out)} rows is suppressed: no group reaches "
            f"min_group_size={min_group_size} persons (largest: {int(out['n_persons'].max())}). "
            "Use a coarser `by` or a longer period.",
            DataQualityWarning,
            stacklevel=3,
        )
    return out.reset_index(drop=True)


def _empty_result(by: list[str], columns: list[str], what: str) -> pd.DataFrame:
    warnings.warn(f"{what} is empty; returning an empty result.", DataQualityWarning, stacklevel=3)
    return pd.DataFrame({c: pd.Series(dtype="object") for c in [*by, *columns]})


def _assemble(table: pd.DataFrame, K: int, present: np.ndarray) -> pd.DataFrame:
    rows = np.flatnonzero(present)
    frame = table.iloc[rows // K].reset_index(drop=True)
    frame["_gp"] = rows
    return frame


def _result_frame(
    table: pd.DataFrame,
    K: int,
    present: np.ndarray,
    *,
    period_labels: object,
    tags: dict[str, object],
    dates: dict[str, np.ndarray],
    values: dict[str, np.ndarray],
) -> pd.DataFrame:
    """One row per present (group, period) cell of a ``G * K`` grid, columns in a fixed order.

    Group columns, ``period`` (from ``period_labels[k]``), the constant ``tags``, the per-period
    ``dates`` (day numbers, indexed by period) and the per-cell ``values`` (flat ``G * K``).
    """
    frame = _assemble(table, K, present)
    rows = frame.pop("_gp").to_numpy()
    kk = rows % K
    frame["period"] = pd.Series(np.asarray(period_labels)[kk], dtype="str")
    for name, value in tags.items():
        frame[name] = value
    for name, days in dates.items():
        frame[name] = np.asarray(days[kk], dtype="datetime64[D]").astype("datetime64[ns]")
    for name, arr in values.items():
        frame[name] = np.asarray(arr)[rows]
    return frame
