"""Rates of a register split into parts by person, combined exactly (private module).

The Dask engine splits a register's person tables (employment, absences) into parts that
never split a person, computes each part's cell statistics on a worker (:func:`part_cells`),
adds them pairwise in a tree (:func:`combine_cells`) and finishes the table on the client with
:func:`partitioned_rate`: the same option checks, observation window, finish and privacy layer
as the single-process functions. Only the window needs every spell at once when it is read
from the data (the left-truncation check): then the parts' start and end days are gathered
(:func:`part_dates`; two integers per spell), never their other columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk.data import Register
from turnover_risk.rates._cells import SparseCells, combine_cells, dense_cells, sparse_cells
from turnover_risk.rates._common import _empty_result
from turnover_risk.rates._protect import protected
from turnover_risk.rates._spells import _OPEN, _days, _employment_frame, _window
from turnover_risk.rates._window import metadata_window

__all__ = ["combine_cells", "part_cells", "part_dates", "partitioned_rate"]

MEASURES = ("turnover",)
"""The measures :func:`partitioned_rate` computes from parts."""

_CELL_ARGS = {
    "turnover": ("definition", "by", "kind", "wanted", "month_day", "scope", "weight",
                 "exclude_reasons", "start", "end", "margins", "annual", "subsets"),
}  # fmt: skip


def part_cells(part: Register | pd.DataFrame, request: Mapping[str, Any]) -> SparseCells | None:
    """The cell statistics of one part of a register (persons wholly inside the part).

    Parameters
    ----------
    part : Register or DataFrame
        The part's person tables (all spells of its persons) and the shared small tables.
    request : mapping
        ``measure`` and the kernel's checked arguments, with the window's ``start`` and
        ``end`` fixed (as :func:`partitioned_rate` builds it).

    Returns
    -------
    SparseCells or None
        The non-zero cells keyed by group labels and period; ``None`` for an empty part.

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk.rates import part_cells
    >>> emp = pd.DataFrame({"employee_id": ["a", "b", "c"], "unit_id": "u1",
    ...                     "start_date": pd.to_datetime(["2020-01-01"] * 3),
    ...                     "end_date": pd.to_datetime(["2020-06-30", None, None]), "fte": 1.0})
    >>> req = dict(measure="turnover", definition="separation", by=[], kind="year", wanted=None,
    ...            month_day=(12, 1), scope="unit", weight="headcount", exclude_reasons=(),
    ...            start="2020-01-01", end="2020-12-31", margins=False)
    >>> cells = part_cells(emp, req)
    >>> int(cells.frames[0]["f"]["nS"].sum()), int(cells.frames[0]["k"]["n_persons"].sum())
    (1, 3)
    """
    from turnover_risk.rates._turnover_table import turnover_cells

    emp, _ = _employment_frame(part, who="turnover_rate")
    if len(emp) == 0:
        return None
    measure = request["measure"]
    if measure not in MEASURES:
        raise ValueError(f"measure={measure!r} is not one of {MEASURES}.")
    args = {k: request[k] for k in _CELL_ARGS[measure] if k in request}
    return sparse_cells(turnover_cells(part, **args))


def part_dates(part: Register | pd.DataFrame) -> dict[str, np.ndarray]:
    """Start and end days of one part's employment spells: what the window reads.

    Parameters
    ----------
    part : Register or DataFrame

    Returns
    -------
    dict
        ``start`` and ``end`` (day numbers; an open end is far in the future), checked as the
        kernels check them.

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk.rates import part_dates
    >>> emp = pd.DataFrame({"employee_id": ["a"], "unit_id": "u1", "fte": 1.0,
    ...                     "start_date": pd.to_datetime(["1970-01-11"]), "end_date": [None]})
    >>> part_dates(emp)["start"].tolist()
    [10]
    """
    emp, _ = _employment_frame(part, who="turnover_rate")
    return {
        "start": _days(emp["start_date"], "employment.start_date", open_ok=False),
        "end": _days(emp["end_date"], "employment.end_date", open_ok=True),
    }


def partitioned_rate(
    measure: str,
    cells_of: Callable[[dict], SparseCells | None],
    *,
    dates: Callable[[], tuple[dict[str, np.ndarray], dict[str, object]]] | None = None,
    units: pd.DataFrame | None = None,
    metadata: Mapping[str, object] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """A rate table from a register split into parts by person: the pandas function's numbers.

    Parameters
    ----------
    measure : {"turnover"}
        :func:`turnover_rate`.
    cells_of : callable
        ``cells_of(request)``: :func:`part_cells` of every part for ``request``, added up with
        :func:`combine_cells` (``None`` when every part is empty). Called once for the
        requested table and, when it has cells to hide, once per table of the privacy
        layer's lattice.
    dates : callable, optional
        Returns ``(dates, record_firsts)``: the parts' :func:`part_dates` concatenated and the
        first date of each record table (``absences``, ``caseload``, ``supervision``). Called
        only when the window is read from the data (no ``start``/``end`` and no metadata).
    units : DataFrame, optional
        The units table (the privacy layer reads the organisation chain from it).
    metadata : mapping, optional
        The register's metadata (its observation window).
    **options
        The options of the pandas function.

    Returns
    -------
    DataFrame
        The table of :func:`turnover_rate`, with ``attrs["observation_window"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk.rates import combine_cells, part_cells, partitioned_rate, turnover_rate
    >>> emp = pd.DataFrame({"employee_id": list("abcdef"), "unit_id": "u1", "fte": 1.0,
    ...                     "start_date": pd.to_datetime(["2020-01-01"] * 6),
    ...                     "end_date": pd.to_datetime(["2020-06-30"] + [None] * 5)})
    >>> parts = [emp.iloc[:2], emp.iloc[2:]]  # persons a, b | c..f
    >>> def cells_of(request):
    ...     return combine_cells(part_cells(parts[0], request), part_cells(parts[1], request))
    >>> r = partitioned_rate("turnover", cells_of, definition="separation", scope="unit",
    ...                      start="2020-01-01", end="2020-12-31")
    >>> r[["period", "numerator", "denominator", "n_persons"]].to_string(index=False)
    'period  numerator  denominator  n_persons\\n  2020        1.0          2.5          6'
    """
    from turnover_risk.rates._turnover import _turnover_args
    from turnover_risk.rates._turnover_table import (
        _TURNOVER_COLUMNS,
        _VALUE_COLS,
        finish_turnover,
    )

    if measure not in MEASURES:
        raise ValueError(f"measure={measure!r} is not one of {MEASURES}.")
    args = _turnover_args(**options)
    first, last, window = _resolve_window(
        "turnover_rate", args["start"], args["end"], metadata, dates
    )
    if first is None:
        return _empty_result(args["by"], list(_TURNOVER_COLUMNS), "the employment table")
    fixed = {"start": str(np.datetime64(first, "D")), "end": str(np.datetime64(last, "D"))}
    cache: dict[str, SparseCells | None] = {}

    def request_of(by, kind, wanted, margins, subsets, rest) -> dict:
        return {**rest, "measure": measure, "by": by, "kind": kind, "wanted": wanted,
                "margins": margins, "subsets": subsets, **fixed}  # fmt: skip

    def kernel(_data, *, by, kind, wanted, margins, subsets=None, raw=True, **rest):
        request = request_of(by, kind, wanted, margins, subsets, rest)
        key = repr(sorted(request.items()))
        sparse = cache.pop(key) if key in cache else cells_of(request)
        cells = dense_cells(sparse)
        cells.window = dict(window)
        return finish_turnover(cells, by=by, margins=margins, divisor=rest["divisor"],
                               confidence=rest["confidence"])  # fmt: skip

    rest = {k: v for k, v in args.items() if k not in ("by", "kind", "wanted", "margins")}
    main = request_of(args["by"], args["kind"], args["wanted"], args["margins"], None, rest)
    sparse = cells_of(main)
    if sparse is None:  # every part is empty
        return _empty_result(args["by"], list(_TURNOVER_COLUMNS), "the employment table")
    cache[repr(sorted(main.items()))] = sparse
    holder = Register(employment=pd.DataFrame(), units=units) if units is not None else None
    return protected(kernel, holder, value_cols=_VALUE_COLS, **args)


def _resolve_window(
    who: str,
    start: object,
    end: object,
    metadata: Mapping[str, object] | None,
    dates: Callable[[], tuple[dict[str, np.ndarray], dict[str, object]]] | None,
) -> tuple[int | None, int | None, dict[str, str]]:
    """The observation window exactly as the single-process kernel settles it."""
    meta = SimpleNamespace(metadata=dict(metadata or {}))
    m_start, m_end = metadata_window(meta)
    if (start if start is not None else m_start) is not None and (
        end if end is not None else m_end
    ) is not None:
        no_days = np.zeros(0, dtype=np.int64)
        return _window(meta, who, no_days, no_days, [], start, end, None)
    if dates is None:
        raise ValueError(f"{who}: the observation window needs the parts' dates.")
    d, firsts = dates()
    s, e = d["start"], d["end"]
    if len(s) == 0:  # no spell at all: the empty result
        return None, None, {}
    dated = [s, e[e != _OPEN]]
    event_starts = None
    if who == "sick_leave_rate" and "absence_start" in d:
        a_e = d["absence_end"]
        dated.append(a_e[a_e != _OPEN])
        event_starts = d["absence_start"]
    dated = [x for x in dated if len(x)]
    tables = {"absences": "start_date", "caseload": "month", "supervision": "date"}
    record = {name: pd.DataFrame({col: [firsts[name]]}) for name, col in tables.items()
              if firsts.get(name) is not None}  # fmt: skip
    holder = SimpleNamespace(metadata=dict(metadata or {}), **record)
    return _window(holder, who, s, e, dated, start, end, event_starts)
