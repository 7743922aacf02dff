"""Every number cell of a register is read here, by one set of rules (private).

* A decimal comma (``0,8``) or point (``0.8``); spaces, no-break spaces and thin spaces
  between digit groups (``1 234,5``) are dropped.
* A thousands separator ``.`` or ``,`` (``1.000``, ``1,000``) is read only when the column
  says what the separator is: several groups (``1.234.567``), the other mark used as the
  decimal elsewhere in the column (``0,8`` makes ``.`` a thousands separator, ``0.8`` makes
  ``,`` one), or both marks in one cell (``1.234,5``). A cell that can be read both ways
  (``1.000`` = 1000 or 1) in a column that does not say is refused, with both readings shown.
* A percentage (``80 %``) is read as a share (0.8) in columns that hold shares (``fte``,
  ``grade``) and refused elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

_THOUSANDS = r"^[-+]?[1-9]\d{0,2}(?:[.,]\d{3})+(?:[.,]\d+)?$"  # no group starts a number with 0


@dataclass
class NumberCells:
    """What :func:`parse_numbers` found: float64 values and the problems, one mask per rule."""

    values: pd.Series
    problems: list[tuple[np.ndarray, str, object]] = field(default_factory=list)


def _fullmatch(txt: pd.Series, pattern: str) -> np.ndarray:
    return txt.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)


def parse_numbers(s: pd.Series, column: str, *, share: bool) -> NumberCells:
    """Read one number column (text, or numbers as stored) by the module's rules.

    Parameters
    ----------
    s : Series
    column : str
        Column name, for the messages.
    share : bool
        The column holds a share in [0, 1]: ``80 %`` is read as 0.8.
    """
    if pd.api.types.is_bool_dtype(s.dtype):
        return NumberCells(pd.Series(np.nan, index=s.index))
    if pd.api.types.is_numeric_dtype(s.dtype):
        return NumberCells(s.astype("float64"))
    problems: list[tuple[np.ndarray, str, object]] = []
    txt = s.astype("string").str.strip()
    for space in ("\u00a0", "\u202f"):  # no-break and thin spaces between digit groups
        if txt.str.contains(space, regex=False).fillna(False).any():
            txt = txt.str.replace(space, "", regex=False)
    if txt.str.contains(" ", regex=False).fillna(False).any():
        txt = txt.str.replace(r"(?<=\d) (?=\d{3}(?:\D|$))", "", regex=True)
    scale = None
    pct = txt.str.endswith("%").fillna(False).to_numpy(dtype=bool)
    if pct.any():
        txt = txt.str.replace(r"\s*%$", "", regex=True)
        if share:
            scale = np.where(pct, 0.01, 1.0)
        else:
            problems.append(
                (pct, "wrong_type", f"{column} is a count, not a percentage; write the number")
            )
    has_sep = txt.str.contains(r"[.,]", regex=True).fillna(False).to_numpy(dtype=bool)
    if has_sep.any():
        txt, refused = _separators(txt, has_sep, column)
        if refused is not None:
            problems.append(refused)
    nums = pd.to_numeric(txt, errors="coerce").astype("float64")
    for mask, _rule, _msg in problems:
        nums[mask] = np.nan
    if scale is not None:
        nums = nums * scale
    return NumberCells(nums, problems)


def _separators(
    txt: pd.Series, has_sep: np.ndarray, column: str
) -> tuple[pd.Series, tuple[np.ndarray, str, object] | None]:
    """Cells with ``.``/``,`` rewritten to a decimal point; ambiguous cells refused."""
    at = np.flatnonzero(has_sep)
    sub = txt.iloc[at]
    comma_dec = _fullmatch(sub, r"[-+]?\d*,\d+")
    thou = _fullmatch(sub, _THOUSANDS)
    out = txt.copy()
    if not thou.any():  # the common case: plain decimals, point or comma
        fix = at[comma_dec]
        out.iloc[fix] = txt.iloc[fix].str.replace(",", ".", regex=False)
        return out, None
    dot_dec = _fullmatch(sub, r"[-+]?\d*\.\d+")
    t = sub[thou]
    has_dot = t.str.contains(".", regex=False).to_numpy(dtype=bool)
    has_comma = t.str.contains(",", regex=False).to_numpy(dtype=bool)
    multi_dot = t.str.count(r"\.").to_numpy() > 1
    multi_comma = t.str.count(",").to_numpy() > 1
    both = has_dot & has_comma
    last_dot = t.str.rfind(".").to_numpy() > t.str.rfind(",").to_numpy()
    # what the column says about each mark
    dot_decimal = bool((dot_dec & ~thou).any() or (both & last_dot).any())
    dot_thousands = bool(multi_dot.any() or (both & ~last_dot).any() or (comma_dec & ~thou).any())
    comma_decimal = bool((comma_dec & ~thou).any() or (both & ~last_dot).any())
    comma_thousands = bool(multi_comma.any() or (both & last_dot).any() or (dot_dec & ~thou).any())
    values = t.to_numpy(dtype=object)
    new = np.empty(len(values), dtype=object)
    refused = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):  # few cells: those shaped like 1.000 or 1,000
        mark = "." if has_dot[i] and not (both[i] and not last_dot[i]) else ","
        if both[i]:  # 1.234,5 or 1,234.5: the last mark is the decimal
            dec = "." if last_dot[i] else ","
            new[i] = v.replace("," if dec == "." else ".", "").replace(",", ".")
            continue
        multi = multi_dot[i] if mark == "." else multi_comma[i]
        says_dec = dot_decimal if mark == "." else comma_decimal
        says_thou = dot_thousands if mark == "." else comma_thousands
        if multi or (says_thou and not says_dec):
            new[i] = v.replace(mark, "")
        elif says_dec and not says_thou:
            new[i] = v.replace(",", ".")
        else:
            refused[i] = True
            new[i] = None
    pos = at[thou]
    out.iloc[pos] = new
    rest = at[~thou & comma_dec]
    out.iloc[rest] = txt.iloc[rest].str.replace(",", ".", regex=False)
    if not refused.any():
        return out, None
    mask = np.zeros(len(txt), dtype=bool)
    mask[pos[refused]] = True
    msgs = []
    for v in values[refused]:
        mark = "." if "." in v else ","
        thousands = v.replace(mark, "")
        decimal = v.replace(",", ".")
        msgs.append(
            f"{v} could be {thousands} ({mark!r} as thousands separator) or "
            f"{float(decimal):g} ({mark!r} as decimal mark), and no other cell of {column} "
            f"says which; write {thousands} or {float(decimal):g}"
        )
    return out, (mask, "ambiguous_number", msgs)
