"""The privacy layer applied to rate tables (private): linked suppression across every table.

:func:`protect` decides which rows of a rate table are hidden with
:class:`~turnover_risk.privacy.LinkedSuppressor`, so that a cell hidden in one table is hidden
(or not derivable) in every other table the same call could produce from the same data: other
``by`` levels of the organisation chain, coarser periods, category totals and margins. The
kernels compute the lattice's tables in one pass per period kind (all groupings at once, as for
margins), and only when the requested table has a sensitive cell: a table without one has none
anywhere in its lattice (the rules are monotone), so the common case costs nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.data import Register
from turnover_risk.privacy import (
    TOTAL_LABEL,
    Hierarchy,
    LinkedSuppressor,
    blank_suppressed,
)

__all__ = ["protect", "protected"]

Run = Callable[[list[str], str, list[tuple[str, ...]]], pd.DataFrame]


def protected(
    kernel: Callable[..., pd.DataFrame],
    data: object,
    *,
    by: list[str],
    kind: str,
    wanted: list[str] | None,
    margins: bool,
    min_group_size: int,
    value_cols: Sequence[str],
    totals: Mapping[str, str] | None = None,
    sensitive: Callable[[pd.DataFrame], np.ndarray] | None = None,
    bounds: Mapping[str, str] | None = None,
    contributions: bool = False,
    **args: object,
) -> pd.DataFrame:
    """Run a rate kernel for the request and protect its rows with :func:`protect`.

    The kernel runs once for the requested table. Only when that table has a sensitive cell
    does :func:`protect` run it again, once per period kind of the lattice, with every grouping
    of the lattice in one pass. A table without sensitive cells costs nothing more.
    ``contributions=True``: the kernel also hands over each person's contribution to each row
    (``contributions=[]`` is given a function returning ``(row, who, amount)``, called only if
    needed), which makes the ``"top"`` bounds exact.

    ``kernel(data, by=, kind=, wanted=, margins=, subsets=, raw=True, min_group_size=, **args)``
    returns the unsuppressed table (margin format for ``subsets``).
    """

    def run(by_all: list[str], kind_: str, subs: list[tuple[str, ...]]) -> pd.DataFrame:
        return kernel(data, by=by_all, kind=kind_, wanted=None, margins=True, subsets=subs,
                      raw=True, min_group_size=min_group_size, **args)  # fmt: skip

    holder: list[Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]] = []
    extra = {"contributions": holder} if contributions else {}
    out = kernel(data, by=by, kind=kind, wanted=wanted, margins=margins, raw=True,
                 min_group_size=min_group_size, **extra, **args)  # fmt: skip
    attrs = dict(out.attrs)
    out = protect(
        out, data=data, by=by, kind=kind, wanted=wanted, min_group_size=min_group_size,
        value_cols=value_cols, run=run, totals=totals, sensitive=sensitive, bounds=bounds,
        contributions=holder[0] if holder else None,
    )  # fmt: skip
    out.attrs.update(attrs)
    return out


def protect(
    out: pd.DataFrame,
    *,
    data: object,
    by: Sequence[str],
    kind: str,
    wanted: list[str] | None,
    min_group_size: int,
    value_cols: Sequence[str],
    run: Run,
    totals: Mapping[str, str] | None = None,
    sensitive: Callable[[pd.DataFrame], np.ndarray] | None = None,
    cells: _Cells | None = None,
    bounds: Mapping[str, str] | None = None,
    contributions: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
) -> pd.DataFrame:
    """Hide the rows of ``out`` the linked pattern hides and blank their values.

    Parameters
    ----------
    out : DataFrame
        The unsuppressed rate table (margin rows hold :data:`TOTAL_LABEL`).
    data : Register or DataFrame
        The input (its ``units`` table declares the organisation chain).
    by, kind, wanted
        The request: grouping columns, period kind, selected period labels (or None).
    min_group_size : int
        Already checked.
    value_cols : sequence of str
        Columns blanked in hidden rows (``n_persons`` is blanked too).
    run : callable
        ``run(by_all, kind, subsets)``: the kernel's unsuppressed table for every period of
        ``kind`` and each grouping in ``subsets`` (margin format).
    totals : mapping, optional
        Extra columns with a total value of their own (``{"certification": "all"}``).
    sensitive : callable, optional
        Extra primary rule (the dominance rule of sick leave).
    bounds : mapping, optional
        How each column the primary rules read bounds a coarser cell from its children
        (``{"n_persons": "max"}`` by default; see ``LinkedSuppressor``). Coarser grains these
        bounds clear are not computed again.
    contributions : callable, optional
        Returns ``(row, who, amount)``: each person's contribution to each row of ``out``, for exact
        ``"top"`` bounds (see :meth:`~turnover_risk.privacy.LinkedSuppressor.seed`).
    """
    totals = dict(totals or {})
    extra = [c for c in totals if c in out.columns]

    def primary(t: pd.DataFrame) -> np.ndarray:
        hit = t["n_persons"].fillna(0).to_numpy(dtype=float) < min_group_size
        if sensitive is not None:
            hit = hit | np.asarray(sensitive(t), dtype=bool)
        return hit

    hidden = primary(out)
    if hidden.any() or wanted is not None:
        units = data.units if isinstance(data, Register) else None
        hierarchy = Hierarchy.from_units(units, totals=totals)
        cells = cells if cells is not None else _Cells(run, by)
        bounds = dict(bounds) if bounds is not None else {"n_persons": "max"}
        sup = LinkedSuppressor(cells, hierarchy, by=[*by, *extra], kind=kind, primary=primary,
                               bounds=bounds)  # fmt: skip
        cells.requests = sup.grain_requests()
        if wanted is None:  # every period of the window: the request's own cells are exact
            sup.seed(out, total_label=TOTAL_LABEL, contributions=contributions)
        hidden = sup.apply(out, total_label=TOTAL_LABEL)
    result = blank_suppressed(out, hidden, [*value_cols, "n_persons"])
    if len(result) and hidden.all():
        warnings.warn(
            f"every one of the {len(result)} rows is suppressed: no group reaches "
            f"min_group_size={min_group_size} persons (or their values are dominated by one "
            "or two persons). Use a coarser `by` or a longer period.",
            DataQualityWarning,
            stacklevel=4,
        )
    return result


class _Cells:
    """``compute(by, kind)`` for the suppressor: one kernel pass per period kind computes every
    grouping of the lattice; each grain's rows are picked from it."""

    def __init__(self, run: Run, by: Sequence[str]) -> None:
        self.run = run
        self.by = list(by)
        self.requests: list[tuple[list[str], str | None]] = []
        self._cache: dict[str | None, tuple[pd.DataFrame, list[str]]] = {}

    def plan(self, kind: str | None, by: list[str] | None = None):
        """The columns and groupings of one kernel pass for ``kind``."""
        wanted = [b for b, k in self.requests if k == kind] or [by or self.by]
        cols: list[str] = list(self.by)
        for b in wanted:
            cols += [c for c in b if c not in cols]
        order = [c for c in self.by if c in cols] + [c for c in cols if c not in self.by]
        subsets = [tuple(c for c in order if c in b) for b in wanted]
        return order, list(dict.fromkeys(subsets))

    def __call__(self, by: list[str], kind: str | None) -> pd.DataFrame:
        if kind not in self._cache:
            order, subsets = self.plan(kind, by)
            self._cache[kind] = (self.run(order, kind, subsets), order)
        table, order = self._cache[kind]
        keep = np.ones(len(table), dtype=bool)
        for c in order:
            total = table[c].astype("string").eq(TOTAL_LABEL).fillna(False).to_numpy()
            keep &= ~total if c in by else total
        return table[keep].reset_index(drop=True)
