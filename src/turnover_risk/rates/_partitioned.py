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

import functools
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk.data import Register
from turnover_risk.rates._cells import (
    Cells,
    SparseCells,
    combine_cells,
    dense_cells,
    sparse_cells,
)
from turnover_risk.rates._common import _empty_result
from turnover_risk.rates._protect import protected
from turnover_risk.rates._spells import _OPEN, _days, _employment_frame, _window
from turnover_risk.rates._window import metadata_window

__all__ = ["combine_cells", "part_cells", "part_dates", "partitioned_rate"]

MEASURES = ("turnover", "sick_leave")
"""The measures :func:`partitioned_rate` computes from parts."""

_CELL_ARGS = {
    "turnover": ("definition", "by", "kind", "wanted", "month_day", "scope", "weight",
                 "exclude_reasons", "start", "end", "margins", "annual", "subsets"),
    "sick_leave": ("by", "kind", "wanted", "certification", "start", "end", "long_spell_days",
                   "margins", "subsets"),
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
    if measure == "turnover":
        return sparse_cells(turnover_cells(part, **args))
    return _sick_part(part, request, args)


def _sick_part(part: Register, request: Mapping[str, Any], args: dict) -> Any:
    """Pass 1: the sums; with ``request["ratio"]`` pass 2: the interval's squared residuals
    against the whole register's ratios; with ``request["contributions"]``: each person's
    lost days per cell of the finished table, as ``(cell, person, lost)``."""
    from turnover_risk.rates._sick_leave_cells import add_ratio_ss
    from turnover_risk.rates._sick_leave_table import sick_leave_cells

    cells, clusters = sick_leave_cells(part, warn=False, **args)
    K = cells.meta["K"]
    if "ratio" not in request and "contributions" not in request:
        return sparse_cells(cells)
    payload = request.get("ratio") or request["contributions"]
    group_of = [_align(gt, lt) for gt, (lt, _) in
                zip(payload["tables"], cells.groupings, strict=True)]  # fmt: skip
    if "ratio" in request:
        ratio = []
        for g, R in zip(group_of, payload["ratio"], strict=True):
            ratio.append({c: np.where(g[:, None] >= 0, r.reshape(-1, K)[np.maximum(g, 0)],
                                      np.nan).ravel() for c, r in R.items()})  # fmt: skip
        add_ratio_ss(cells, clusters, ratio)
        cells.groupings = [(t, {c: v for c, v in st.items() if c.startswith("ss|")})
                           for t, st in cells.groupings]  # fmt: skip
        cells.tallies = {}
        return sparse_cells(cells)
    final = Cells([(t, {}) for t in payload["tables"]], cells.meta)
    entries = clusters.entries(final, group_of)
    cell = np.concatenate([first + gp for first, gp, _, _, _ in entries])
    who = np.concatenate([cl_u % m for _, _, cl_u, m, _ in entries])
    lost = np.concatenate([l_cl for _, _, _, _, l_cl in entries])
    return cell, who, lost


def _align(whole: pd.DataFrame, local: pd.DataFrame) -> np.ndarray:
    """Row of ``whole`` holding the group labels of each row of ``local`` (-1: none)."""
    by = list(local.columns)
    if not by:
        return np.zeros(len(local), dtype=np.int64)
    both = pd.concat([whole[by], local[by]], ignore_index=True)
    ids = both.groupby(by, dropna=False, sort=False, observed=True).ngroup().to_numpy()
    pos = np.full(int(ids.max(initial=-1)) + 1, -1, dtype=np.int64)
    pos[ids[: len(whole)]] = np.arange(len(whole))
    return pos[ids[len(whole) :]]


def part_dates(part: Register | pd.DataFrame) -> dict[str, np.ndarray]:
    """Start and end days of one part's employment spells: what the window reads.

    Parameters
    ----------
    part : Register or DataFrame

    Returns
    -------
    dict
        ``start`` and ``end`` (day numbers; an open end is far in the future), checked as the
        kernels check them; for a part with absences also ``absence_start``, ``absence_end``.

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
    out = {
        "start": _days(emp["start_date"], "employment.start_date", open_ok=False),
        "end": _days(emp["end_date"], "employment.end_date", open_ok=True),
    }
    ab = getattr(part, "absences", None)
    if isinstance(ab, pd.DataFrame):  # sick leave: the absences' days too
        out["absence_start"] = _days(ab["start_date"], "absences.start_date", open_ok=False)
        out["absence_end"] = _days(ab["end_date"], "absences.end_date", open_ok=True)
    return out


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
    measure : {"turnover", "sick_leave"}
        :func:`turnover_rate` or :func:`sick_leave_rate` (the parts then hold the absences
        of their persons; the interval's residuals take a second pass over the parts).
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
        The table of :func:`turnover_rate` (:func:`sick_leave_rate`), with
        ``attrs["observation_window"]``.

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
    if measure not in MEASURES:
        raise ValueError(f"measure={measure!r} is not one of {MEASURES}.")
    spec = _Measure(measure)
    args = spec.check(options)
    first, last, window = _resolve_window(spec.who, args["start"], args["end"], metadata, dates)
    if first is None:
        return _empty_result(args["by"], spec.columns, "the employment table")
    fixed = {"start": str(np.datetime64(first, "D")), "end": str(np.datetime64(last, "D"))}
    cache: dict[str, SparseCells | None] = {}

    def request_of(by, kind, wanted, margins, subsets, rest) -> dict:
        return {**rest, "measure": measure, "by": by, "kind": kind, "wanted": wanted,
                "margins": margins, "subsets": subsets, **fixed}  # fmt: skip

    def kernel(_data, *, by, kind, wanted, margins, subsets=None, raw=True, **rest):
        contributions = rest.pop("contributions", None)
        request = request_of(by, kind, wanted, margins, subsets, rest)
        key = repr(sorted(request.items()))
        sparse = cache.pop(key) if key in cache else cells_of(request)
        if measure == "turnover":
            cells = dense_cells(sparse)
            cells.window = dict(window)
            return spec.finish(cells, by=by, margins=margins, divisor=rest["divisor"],
                               confidence=rest["confidence"])  # fmt: skip
        return _sick_table(cells_of, request, sparse, window, contributions,
                           by=by, margins=margins, confidence=rest["confidence"])  # fmt: skip

    rest = {k: v for k, v in args.items() if k not in ("by", "kind", "wanted", "margins")}
    main = request_of(args["by"], args["kind"], args["wanted"], args["margins"], None, rest)
    sparse = cells_of(main)
    if sparse is None:  # every part is empty
        return _empty_result(args["by"], spec.columns, "the employment table")
    if sparse.tallies.get("overlapping_absences"):
        from turnover_risk.rates._sick_leave_cells import overlap_warning

        overlap_warning(sparse.tallies["overlapping_absences"])
    cache[repr(sorted(main.items()))] = sparse
    holder = Register(employment=pd.DataFrame(), units=units) if units is not None else None
    out = protected(kernel, holder, value_cols=spec.value_cols, **spec.privacy(args), **args)
    return out.drop(columns="_top_lost") if measure == "sick_leave" else out


class _Measure:
    """What differs between the measures: checks, columns, finish and privacy rules."""

    def __init__(self, measure: str) -> None:
        if measure == "turnover":
            from turnover_risk.rates._turnover import _turnover_args
            from turnover_risk.rates._turnover_table import (
                _TURNOVER_COLUMNS,
                _VALUE_COLS,
                finish_turnover,
            )

            self.who, self.check = "turnover_rate", lambda o: _turnover_args(**o)
            self.columns, self.value_cols = list(_TURNOVER_COLUMNS), _VALUE_COLS
            self.finish = finish_turnover
        else:
            from turnover_risk.rates._sick_leave import _sick_args
            from turnover_risk.rates._sick_leave_table import _SICK_COLUMNS
            from turnover_risk.rates._sick_leave_table import _VALUE_COLS as sick_values

            self.who, self.check = "sick_leave_rate", lambda o: _sick_args(**o)
            self.columns, self.value_cols = list(_SICK_COLUMNS), [*sick_values]
        self.measure = measure

    def privacy(self, args: dict) -> dict:
        if self.measure == "turnover":
            return {}
        from turnover_risk.privacy import dominated
        from turnover_risk.rates._sick_leave_table import _BOUNDS

        split = args["certification"] == "split"
        return {"totals": {"certification": "all"} if split else None, "sensitive": dominated,
                "bounds": _BOUNDS, "contributions": True}  # fmt: skip


def _sick_table(cells_of, request, sparse, window, contributions, *, by, margins, confidence):
    """Sick leave from the parts: the sums, then the residuals against the combined ratios
    (a second pass over the parts), then the finish; contributions only when asked for."""
    from turnover_risk.rates._sick_leave_cells import finish_sick_leave, ratios

    cells = dense_cells(sparse)
    tables = [t for t, _ in cells.groupings]
    ss = cells_of({**request, "ratio": {"tables": tables, "ratio": ratios(cells)}})
    for (_, st), st_ss in zip(cells.groupings, _dense_on(ss, tables), strict=True):
        st.update(st_ss)
    cells.window = dict(window)
    out = finish_sick_leave(cells, by=by, margins=margins, confidence=confidence)
    cell_of_row = out.pop("_cell").to_numpy()
    if contributions is not None:

        def parts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            cell, who, lost = cells_of({**request, "contributions": {"tables": tables}})
            row_of_cell = np.full(int(cell_of_row.max(initial=-1)) + 1, -1, dtype=np.int64)
            row_of_cell[cell_of_row] = np.arange(len(cell_of_row))
            row = row_of_cell[cell]
            keep = row >= 0
            return row[keep], who[keep], lost[keep]

        contributions[:] = [functools.cache(parts)]
    return out


def _dense_on(sparse: SparseCells, tables: list[pd.DataFrame]) -> list[dict[str, np.ndarray]]:
    """Each grouping's statistics in ``sparse`` as arrays on the groups of ``tables``."""
    K = sparse.meta["K"]
    out = []
    for axes, table in zip(sparse.frames, tables, strict=True):
        st = {}
        for f in axes.values():
            g = _align(table, f[list(table.columns)])
            ok = np.flatnonzero(g >= 0)
            at = g[ok] * K + f["_p"].to_numpy()[ok]
            for c in f.columns:
                if c in table.columns or c == "_p":
                    continue
                values = f[c].to_numpy()
                st[c] = np.zeros(max(len(table), 1) * K, dtype=values.dtype)
                st[c][at] = values[ok]
        out.append(st)
    return out


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
