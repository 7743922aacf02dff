"""Small-cell suppression: the minimum group size and complementary suppression.

Every aggregated output of the library passes through :func:`suppress_small_groups`, so one rule
decides what is shown. Defaults (see ``docs/sources.md``): 5 persons (people-analytics practice),
never below 3 (SSB's own tools suppress frequencies of 3 and less; we refuse anything under 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from turnover_risk.privacy._audit import _derivable

__all__ = [
    "ABSOLUTE_MIN_GROUP_SIZE",
    "DEFAULT_MIN_GROUP_SIZE",
    "DOMINANCE_SHARE",
    "MIN_CONTRIBUTORS",
    "TOTAL_LABEL",
    "blank_suppressed",
    "dominated",
    "check_min_group_size",
    "complementary_suppression",
    "derivable_cells",
    "margin_constraints",
    "suppress_small_groups",
]

DEFAULT_MIN_GROUP_SIZE: int = 5
"""Default minimum number of persons behind any shown aggregate."""

ABSOLUTE_MIN_GROUP_SIZE: int = 3
"""A ``min_group_size`` below this is refused."""

MIN_CONTRIBUTORS: int = 3
"""A magnitude (sick days) with fewer contributing persons than this is sensitive, whatever
the group's size (the (n, k) dominance rule with n = 2: one of two contributors knows the
other's value)."""

DOMINANCE_SHARE: float = 0.5
"""A magnitude of which one person contributes more than this share is sensitive ("mostly from
one person"; a convention of this library, see docs/privacy.md)."""

TOTAL_LABEL: str = "All"
"""Value a group column holds in a margin (total) row."""


def check_min_group_size(min_group_size: object) -> int:
    """Validate a ``min_group_size`` argument and return it as an int.

    Raises
    ------
    TypeError
        If it is not an integer.
    ValueError
        If it is below :data:`ABSOLUTE_MIN_GROUP_SIZE`.

    Examples
    --------
    >>> check_min_group_size(5)
    5
    """
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int | np.integer):
        raise TypeError(
            f"min_group_size must be an integer; got {min_group_size!r} "
            f"({type(min_group_size).__name__})."
        )
    if min_group_size < ABSOLUTE_MIN_GROUP_SIZE:
        raise ValueError(
            f"min_group_size={min_group_size} is below the library's floor of "
            f"{ABSOLUTE_MIN_GROUP_SIZE}: groups that small can identify a person's health data. "
            f"Use min_group_size >= {ABSOLUTE_MIN_GROUP_SIZE} (default {DEFAULT_MIN_GROUP_SIZE})."
        )
    return int(min_group_size)


def suppress_small_groups(
    table: pd.DataFrame,
    *,
    count_col: str = "n_persons",
    value_cols: Sequence[str] | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    flag_col: str = "suppressed",
    margins: bool = False,
    group_cols: Sequence[str] | None = None,
    within: Sequence[str] = ("period",),
    total_label: str = TOTAL_LABEL,
) -> pd.DataFrame:
    """Blank the value columns of rows whose ``count_col`` is under ``min_group_size``.

    With ``margins=True`` the table also holds margin rows (a group column equal to
    ``total_label`` means "all values of this column"), and *complementary* suppression is
    applied on top of the primary one (see :func:`complementary_suppression`), so that no blanked
    cell can be recovered from a total by subtraction.

    Parameters
    ----------
    table : DataFrame
        One row per group (and period).
    count_col : str
        Column with the number of distinct persons behind the row.
    value_cols : sequence of str, optional
        Columns to blank (set to NaN/NA) in suppressed rows. Default: every numeric column
        except ``count_col``. ``count_col`` itself is kept (the group's size is not sensitive
        in itself, and readers need to see why a row is blank)... unless listed here.
    min_group_size : int
        Minimum persons; validated with :func:`check_min_group_size`.
    flag_col : str
        Name of the boolean column that says which rows were suppressed.
    margins : bool
        Whether the table contains margin rows that must not reveal suppressed cells.
    group_cols : sequence of str, optional
        The grouping columns (needed when ``margins=True``).
    within : sequence of str
        Columns inside which totals add up (default: ``("period",)``; columns not in the table
        are ignored).
    total_label : str
        Label of margin rows in the group columns.

    Returns
    -------
    DataFrame
        A copy with ``flag_col`` set (True where suppressed) and the value columns blanked.

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["a", "b", "c", "All"], "n_persons": [2, 8, 9, 19],
    ...                   "numerator": [1.0, 2.0, 3.0, 6.0]})
    >>> out = suppress_small_groups(t, margins=True, group_cols=["unit"])
    >>> out["suppressed"].tolist()  # "a" is small; "b" goes too, or a = All - b - c
    [True, True, False, False]
    """
    min_group_size = check_min_group_size(min_group_size)
    if count_col not in table.columns:
        raise KeyError(
            f"count column {count_col!r} not in the table; columns are: {list(table.columns)}"
        )
    out = table.copy()
    small = out[count_col].fillna(0).to_numpy() < min_group_size
    if flag_col in out.columns:
        small = small | out[flag_col].fillna(False).to_numpy(dtype=bool)
    if value_cols is None:
        value_cols = [
            c
            for c in out.columns
            if c not in (count_col, flag_col)
            and pd.api.types.is_numeric_dtype(out[c])
            and not pd.api.types.is_bool_dtype(out[c])
        ]
    if margins:
        if not group_cols:
            raise ValueError(
                "margins=True needs group_cols=[...] naming the grouping columns, so that the "
                "margin rows (marked with total_label) can be matched to their cells."
            )
        small = complementary_suppression(
            out,
            small,
            group_cols=group_cols,
            within=within,
            count_col=count_col,
            total_label=total_label,
        )
    _blank(out, small, value_cols)
    out[flag_col] = small
    return out


def margin_constraints(
    table: pd.DataFrame,
    *,
    group_cols: Sequence[str],
    within: Sequence[str] = ("period",),
    total_label: str = TOTAL_LABEL,
) -> list[np.ndarray]:
    """The additive relations of a table with margins, as arrays of row positions.

    Each relation is ``[total_row, member_1, member_2, ...]``: the total row equals the sum of
    its members. A margin row whose column ``c`` equals ``total_label`` has one relation per
    such column: its members are the rows equal to it on every other column (and on ``within``)
    whose ``c`` is a real value.

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["a", "b", "All"], "period": ["2021"] * 3})
    >>> [r.tolist() for r in margin_constraints(t, group_cols=["unit"])]
    [[2, 0, 1]]
    """
    group_cols = list(group_cols)
    missing = [c for c in group_cols if c not in table.columns]
    if missing:
        raise KeyError(f"group columns {missing} not in the table; columns: {list(table.columns)}")
    within = [c for c in within if c in table.columns]
    keys = table[group_cols + within].astype("string").fillna("<NA>").reset_index(drop=True)
    is_total = {c: (keys[c] == total_label).to_numpy() for c in group_cols}
    positions = np.arange(len(keys))
    constraints: list[np.ndarray] = []
    for c in group_cols:
        others = [x for x in group_cols + within if x != c]
        # key of every row on the other columns; totals on c are matched to members on c
        if others:
            other_key = pd.MultiIndex.from_frame(keys[others]).factorize()[0]  # type: ignore[attr-defined]
        else:
            other_key = np.zeros(len(keys), dtype=np.int64)
        members = pd.Series(positions[~is_total[c]]).groupby(other_key[~is_total[c]]).agg(list)
        for pos in positions[is_total[c]]:
            row_members = members.get(other_key[pos], [])
            constraints.append(np.array([pos, *row_members], dtype=np.int64))
    return constraints


def complementary_suppression(
    table: pd.DataFrame,
    suppressed: np.ndarray,
    *,
    group_cols: Sequence[str],
    within: Sequence[str] = ("period",),
    count_col: str = "n_persons",
    total_label: str = TOTAL_LABEL,
) -> np.ndarray:
    """Extend a primary suppression mask so no suppressed cell is derivable from the totals.

    Two stages, repeated until the exact audit (:func:`derivable_cells`) finds nothing:

    1. the usual secondary-suppression heuristic: a relation ``total = sum(members)`` (see
       :func:`margin_constraints`) with exactly one hidden row reveals it, so the smallest
       visible member (by ``count_col``; the total only if no member is left) is hidden too;
    2. the exact audit over *all* relations at once: a hidden cell can also be recovered by
       adding and subtracting several totals (e.g. in a 4 x 4 table with row, column and
       grand totals). For each hidden cell found derivable, the smallest visible row of the
       relations it takes part in is hidden, and stage 1 runs again.

    It never un-hides a cell, so it always ends (at worst with everything hidden).

    Parameters
    ----------
    table : DataFrame
        Cells and margin rows.
    suppressed : ndarray of bool
        Primary suppression, one entry per row of ``table``.

    Returns
    -------
    ndarray of bool
        The extended mask (a new array).

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["a", "b", "c", "All"], "n_persons": [2, 8, 9, 19]})
    >>> complementary_suppression(t, np.array([True, False, False, False]),
    ...                           group_cols=["unit"]).tolist()
    [True, True, False, False]
    """
    mask = np.asarray(suppressed, dtype=bool).copy()
    if len(mask) != len(table):
        raise ValueError(f"suppressed has {len(mask)} entries but the table has {len(table)} rows.")
    if not mask.any():
        return mask
    constraints = margin_constraints(
        table, group_cols=group_cols, within=within, total_label=total_label
    )
    size = table[count_col].fillna(0).to_numpy(dtype=float)
    while True:
        _single_relation_pass(constraints, mask, size)
        found = _derivable(constraints, mask)
        if len(found) == 0:
            return mask
        for j in found:
            if not _hide_partner(constraints, mask, size, int(j)):
                continue
            break  # re-run the heuristic and the audit after each extra cell


def _single_relation_pass(
    constraints: list[np.ndarray], mask: np.ndarray, size: np.ndarray
) -> None:
    """Stage 1 of :func:`complementary_suppression` (in place)."""
    changed = True
    while changed:
        changed = False
        for rows in constraints:
            hidden = mask[rows]
            if hidden.sum() != 1:
                continue
            members = rows[1:]
            candidates = members[~mask[members]]
            if len(candidates) == 0:
                candidates = rows[:1]
            pick = candidates[np.argmin(size[candidates])]
            mask[pick] = True
            changed = True


def _hide_partner(
    constraints: list[np.ndarray], mask: np.ndarray, size: np.ndarray, j: int
) -> bool:
    """Hide the smallest visible row sharing a relation with hidden row ``j`` (members before
    totals); False when there is none."""
    best = None
    for rows in constraints:
        if j not in rows:
            continue
        visible = rows[~mask[rows]]
        if len(visible) == 0:
            continue
        members = visible[visible != rows[0]]
        pool = members if len(members) else visible
        cand = pool[np.argmin(size[pool])]
        key = (len(members) == 0, size[cand], int(cand))
        if best is None or key < best[0]:
            best = (key, int(cand))
    if best is None:
        return False
    mask[best[1]] = True
    return True


def derivable_cells(
    table: pd.DataFrame,
    suppressed: np.ndarray,
    *,
    group_cols: Sequence[str],
    within: Sequence[str] = ("period",),
    total_label: str = TOTAL_LABEL,
) -> np.ndarray:
    """Rows that are hidden but recoverable exactly from the shown rows and the totals (an
    audit).

    Exact: a hidden row counts as derivable when *any* combination of the additive relations
    (:func:`margin_constraints`) pins down its value, not only a single subtraction - e.g. the
    sum of two row totals minus a column total minus visible cells. The test is linear
    algebra: hidden row ``j`` is derivable iff ``e_j`` lies in the row space of the relation
    matrix restricted to the hidden rows (see the notes of :func:`complementary_suppression`).
    Bounds from non-negativity (a cell known to lie in an interval) are not checked.

    Returns
    -------
    ndarray of int
        Row positions; empty means the table passes the check.

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["a", "b", "c", "All"], "n_persons": [2, 8, 9, 19]})
    >>> derivable_cells(t, np.array([True, False, False, False]), group_cols=["unit"]).tolist()
    [0]
    >>> derivable_cells(t, np.array([True, True, False, False]), group_cols=["unit"]).tolist()
    []
    """
    mask = np.asarray(suppressed, dtype=bool)
    if len(mask) != len(table):
        raise ValueError(f"suppressed has {len(mask)} entries but the table has {len(table)} rows.")
    constraints = margin_constraints(
        table, group_cols=group_cols, within=within, total_label=total_label
    )
    return _derivable(constraints, mask).astype(np.int64)


_ROUNDING = 1e-9
"""Relative margin of the dominance comparison for the rounding of summed magnitudes."""


def dominated(
    table: pd.DataFrame,
    *,
    value_col: str = "numerator",
    contributors_col: str = "n_persons_absent",
    top_col: str = "_top_lost",
    min_contributors: int = MIN_CONTRIBUTORS,
    share: float = DOMINANCE_SHARE,
) -> np.ndarray:
    """The dominance rule: cells whose magnitude comes from fewer than ``min_contributors``
    persons (but more than none), or more than ``share`` of it from one person.

    A largest contribution within rounding of ``share`` of the magnitude (relative 1e-9) is
    not more than it: a magnitude is a sum of day counts times fte and grade, and the last
    bits of a sum depend on the order of its terms (rows of a register, parts of a Dask
    run), so without the margin a person holding exactly half of a cell would make it
    dominated or not depending on row order.

    Parameters
    ----------
    table : DataFrame
        One row per cell with the magnitude (``value_col``), the number of persons contributing
        to it (``contributors_col``) and the largest single contribution (``top_col``).

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> t = pd.DataFrame({"numerator": [10.0, 30.0, 30.0, 0.0], "n_persons_absent": [1, 4, 4, 0],
    ...                   "_top_lost": [10.0, 20.0, 9.0, 0.0]})
    >>> dominated(t).tolist()
    [True, True, False, False]
    """
    value = table[value_col].fillna(0).to_numpy(dtype=float)
    n = table[contributors_col].fillna(0).to_numpy(dtype=float)
    top = table[top_col].fillna(0).to_numpy(dtype=float)
    few = (n > 0) & (n < min_contributors)
    with np.errstate(divide="ignore", invalid="ignore"):
        mostly_one = (value > 0) & (top > share * value * (1 + _ROUNDING))
    return few | mostly_one


def blank_suppressed(
    table: pd.DataFrame,
    hidden: np.ndarray,
    value_cols: Iterable[str],
    *,
    flag_col: str = "suppressed",
) -> pd.DataFrame:
    """A copy of ``table`` with ``value_cols`` blanked in the ``hidden`` rows and ``flag_col``
    set.

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["a", "b"], "n_persons": [2, 9], "rate": [0.5, 0.1]})
    >>> out = blank_suppressed(t, np.array([True, False]), ["rate", "n_persons"])
    >>> out["rate"].isna().tolist(), out["suppressed"].tolist()
    ([True, False], [True, False])
    """
    out = table.copy()
    hidden = np.asarray(hidden, dtype=bool)
    if flag_col in out.columns:
        hidden = hidden | out[flag_col].fillna(False).to_numpy(dtype=bool)
    _blank(out, hidden, value_cols)
    out[flag_col] = hidden
    return out


def _blank(out: pd.DataFrame, mask: np.ndarray, cols: Iterable[str]) -> None:
    if not mask.any():
        return
    for c in cols:
        if c not in out.columns:
            continue
        col = out[c]
        if pd.api.types.is_integer_dtype(col) and not isinstance(col.dtype, pd.Int64Dtype):
            out[c] = col.astype("Int64" if pd.api.types.is_signed_integer_dtype(col) else "Float64")
        out.loc[mask, c] = np.nan if pd.api.types.is_float_dtype(out[c]) else pd.NA
