"""The privacy layer for group outputs of models: scores, flags, what-if, drivers, audits.

:func:`protect_groups` gives the rows of a group table that must be hidden so that no hidden
group is the difference of shown ones - within the table, and against the same output grouped
by another level of the organisation chain (units within municipality within service) or
without a category (``gender`` within the total). It is the same
:class:`~turnover_risk.privacy.LinkedSuppressor` the rates use, with the lattice's tables
counted from the rows the output was computed from. :func:`check_grouping` refuses identifiers
as a grouping everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from turnover_risk.privacy._linked import ORG_CHAIN, Hierarchy, LinkedSuppressor
from turnover_risk.privacy._suppression import TOTAL_LABEL, check_min_group_size

__all__ = ["IDENTIFIER_COLUMNS", "check_grouping", "protect_groups"]

IDENTIFIER_COLUMNS: tuple[str, ...] = ("employee_id",)
"""Columns that identify a person: never a grouping of an aggregated output."""


def check_grouping(by: Sequence[str], *, identifiers: Sequence[str] = IDENTIFIER_COLUMNS) -> None:
    """Refuse a grouping by a person identifier (a "group" of one person is that person).

    Raises
    ------
    ValueError
        If a column of ``by`` is an identifier.

    Examples
    --------
    >>> check_grouping(["unit_id"])
    >>> check_grouping(["employee_id"])
    Traceback (most recent call last):
    ...
    ValueError: by=['employee_id'] groups by a person identifier: every group would be one person, whose values an aggregated output must not show. Group by a unit column (unit_id, municipality, service) or a category (gender, role).
    """
    bad = [c for c in by if c in identifiers]
    if bad:
        raise ValueError(
            f"by={bad} groups by a person identifier: every group would be one person, whose "
            "values an aggregated output must not show. Group by a unit column (unit_id, "
            "municipality, service) or a category (gender, role)."
        )


def protect_groups(
    table: pd.DataFrame,
    *,
    by: Sequence[str],
    min_group_size: int,
    rows: pd.DataFrame | None = None,
    id_col: str = "employee_id",
    count_col: str = "n_persons",
    fixed: Sequence[str] = (),
    sensitive: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> np.ndarray:
    """The rows of a group table to hide, linked across organisation levels and categories.

    Parameters
    ----------
    table : DataFrame
        One row per group: the ``by`` columns (margin rows hold ``"All"``), ``fixed`` columns
        and ``count_col``.
    by : sequence of str
        The grouping columns.
    min_group_size : int
        Minimum persons behind a shown group.
    rows : DataFrame, optional
        The rows the table was computed from (``by`` columns, ``id_col`` and, when present, the
        organisation columns ``unit_id``/``municipality``/``service``): the coarser tables of
        the lattice count their distinct persons. Without it the counts of ``table`` are added
        up (exact when every person is in one group per ``fixed`` key).
    id_col : str
        Person identifier in ``rows``.
    count_col : str
        Persons behind a row of ``table``.
    fixed : sequence of str
        Columns every table keeps (e.g. the period of a score): the lattice is built per value.
    sensitive : callable, optional
        An extra primary rule on a table of the lattice.

    Returns
    -------
    ndarray of bool
        One entry per row of ``table``.

    Examples
    --------
    >>> rows = pd.DataFrame({"employee_id": range(14),
    ...                      "unit_id": ["a"] * 3 + ["b"] * 5 + ["c"] * 6,
    ...                      "municipality": ["m"] * 8 + ["n"] * 6})
    >>> t = rows.groupby("unit_id", as_index=False).agg(n_persons=("employee_id", "nunique"))
    >>> protect_groups(t, by=["unit_id"], rows=rows, min_group_size=5).tolist()
    [True, True, False]
    """
    min_group_size = check_min_group_size(min_group_size)
    by = list(by)
    check_grouping(by)
    counts = table[count_col].fillna(0).to_numpy(dtype=float)

    def primary(t: pd.DataFrame) -> np.ndarray:
        hit = t[count_col].fillna(0).to_numpy(dtype=float) < min_group_size
        if sensitive is not None:
            hit = hit | np.asarray(sensitive(t), dtype=bool)
        return hit

    if not len(table) or not (counts < min_group_size).any() and sensitive is None:
        return np.zeros(len(table), dtype=bool)
    source = rows if rows is not None else table
    chain_cols = [c for c in ORG_CHAIN if c in source.columns]
    units = source[chain_cols].drop_duplicates() if "unit_id" in chain_cols else None
    if units is not None:
        units = units[~units["unit_id"].astype("string").eq(TOTAL_LABEL).fillna(False)]
    hierarchy = Hierarchy.from_units(units)
    compute = _Counts(source, hierarchy, fixed=list(fixed), id_col=id_col if rows is not None
                      else None, count_col=count_col)  # fmt: skip
    present = [i for i, c in enumerate(hierarchy.chain) if c in source.columns]
    org = hierarchy.chain[present[0] :] if present else ()
    sup = LinkedSuppressor(compute, hierarchy, by=by, kind=None, primary=primary,
                           count_col=count_col, fixed=fixed, org=org)  # fmt: skip
    return sup.apply(table, total_label=TOTAL_LABEL)


class _Counts:
    """``compute(by, None)``: persons per group of ``by`` (and the fixed columns)."""

    def __init__(
        self,
        source: pd.DataFrame,
        hierarchy: Hierarchy,
        *,
        fixed: list[str],
        id_col: str | None,
        count_col: str,
    ) -> None:
        self.source, self.hierarchy, self.fixed = source, hierarchy, fixed
        self.id_col, self.count_col = id_col, count_col
        if id_col is None:  # a group table: only its real cells add up to coarser ones
            real = np.ones(len(source), dtype=bool)
            for c in source.columns:
                if source[c].dtype == object or isinstance(source[c].dtype, pd.StringDtype):
                    real &= ~source[c].astype("string").eq(TOTAL_LABEL).fillna(False).to_numpy()
            self.source = source[real]

    def __call__(self, by: list[str], kind: str | None) -> pd.DataFrame:
        src = self.source
        missing = [c for c in by if c not in src.columns]
        if missing:
            finest = next(c for c in self.hierarchy.chain if c in src.columns)
            parents = self.hierarchy.parents.drop_duplicates(finest)
            src = src.assign(**{finest: src[finest].astype("string")}).merge(
                parents[[finest, *missing]], on=finest, how="left"
            )
        keys = [*by, *self.fixed]
        if self.id_col is not None:
            if keys:
                out = src.groupby(keys, dropna=False, observed=True)[self.id_col].nunique()
                out = out.rename(self.count_col).reset_index()
            else:
                out = pd.DataFrame({self.count_col: [src[self.id_col].nunique()]})
        elif keys:
            out = src.groupby(keys, dropna=False, observed=True)[self.count_col].sum()
            out = out.reset_index()
        else:
            out = pd.DataFrame({self.count_col: [src[self.count_col].sum()]})
        return out
