"""Everything the panel builder computes once per register (private).

:func:`prepare_context` turns a :class:`~turnover_risk.data.Register` into a
:class:`PanelContext`: the period grid (:mod:`._window`), the employment spells as integer
arrays, their continuous episodes (scope, service, unit), sorted event indexes of the optional
tables (:mod:`._events`) and the unit-level features on a (unit x period) grid
(:mod:`._unit`). Person rows are then built per partition of employees by
:func:`turnover_risk.panel._person.build_rows`, which only reads the context.

The context is computed in steps that can run on different workers: :func:`prepare_base` (not
keyed by person), :func:`split_person_rows` and :func:`build_person_part` (event indexes and unit
partials of one range of employee codes), :func:`finish_context` (the unit features from the
partials of all ranges) and :func:`partition_context` (one range's context).
:func:`prepare_context` runs them on the whole register as one range, so a split context gives
the same rows bit for bit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.data import EXIT_REASONS, Register, WorkdayIndex, follow_unit_changes
from turnover_risk.panel._events import (
    PERSON_TABLES,
    _build_events,
    _codes,
    _float,
    absent_features,
)
from turnover_risk.panel._registry import FEATURES
from turnover_risk.panel._time import (
    OPEN_DAY,
    Events,
    day_of,
    episodes,
    month_of,
    month_start,
    to_days,
)
from turnover_risk.panel._unit import finish_unit_features, unit_partial, workdays_index
from turnover_risk.panel._window import (
    FEATURE_WINDOW_MONTHS,
    MONTHS_PER_PERIOD,
    _grid,
    _text,
    default_first_day,
    observation_window_start,
    register_as_of,
)


@dataclass(eq=False)
class PanelContext:
    """State shared by all partitions of one ``build_panel`` call (see :func:`prepare_context`)."""

    freq: str
    months_per_period: int
    horizon: int
    counted: frozenset[int] | None  # exit-reason codes counted by the outcome; None = any
    outcome: str
    scope: str
    as_of: int  # day number: data are complete through this day
    min_group_size: int
    newly_qualified_years: float
    period_days: np.ndarray  # panel period starts (day numbers)
    lag: int  # periods per 12 months: panel period p is extended-grid index p + lag
    ext_days: np.ndarray  # extended grid (lag periods before the panel)
    employee_ids: pd.Index  # sorted; the code of an employee is its position
    unit_ids: pd.Index
    unit_municipality: pd.array
    unit_service: pd.array
    spells: dict[str, np.ndarray]
    roles: pd.Index | None
    scope_ep: dict[str, np.ndarray]
    service_ep: dict[str, np.ndarray]
    unit_ep: dict[str, np.ndarray]
    events: dict[str, Events] = field(default_factory=dict)
    survey_cols: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unit: dict[str, np.ndarray] = field(default_factory=dict)
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    absence_frame: pd.DataFrame | None = None
    workdays: tuple[WorkdayIndex, int, int] | None = None
    scope_key_unit: np.ndarray | None = None  # scope key of every unit code
    caseload_m0: int = 0  # first caseload month of the register (origin of slopes)
    survey_canon: dict[str, str] = field(default_factory=dict)  # raw -> instrument name

    def codes_of(self, employee_ids: object) -> np.ndarray:
        """Codes of the given employee ids (ids not in the employment table are dropped)."""
        ids = pd.Index(pd.Series(employee_ids, dtype="string").dropna().unique())
        pos = self.employee_ids.get_indexer(ids)
        return np.sort(pos[pos >= 0]).astype(np.int64)


def _scope_keys(
    scope: str,
    unit_service: pd.array,
    unit_municipality: pd.array,
    has_units: bool,
    warn: bool = True,
) -> np.ndarray:
    """Integer scope key per unit code, with the documented fallbacks and a warning."""
    n = len(unit_service)
    if scope == "unit":
        return np.arange(n, dtype=np.int64)
    if scope == "any":
        return np.zeros(n, dtype=np.int64)
    svc = pd.Series(unit_service, dtype="string")
    mun = pd.Series(unit_municipality, dtype="string")
    if scope == "service":
        key = svc.where(svc.notna(), "municipality:" + mun)
    else:
        key = mun
    missing = key.isna()
    if missing.any() and warn:
        what = "a units table" if not has_units else f"{scope} for {int(missing.sum())} units"
        warnings.warn(
            f"scope={scope!r}: the register lacks {what}; those units are treated as one "
            f"{scope} (moves between them are not exits). Add a units table with "
            f"{scope} to separate them.",
            DataQualityWarning,
            stacklevel=4,
        )
        key = key.fillna("")
    return pd.factorize(key)[0].astype(np.int64)


def prepare_base(
    register: Register,
    *,
    freq: str,
    horizon: int,
    counted: frozenset[int] | None,
    outcome: str,
    scope: str,
    start: object,
    end: object,
    as_of: object,
    min_group_size: int,
    newly_qualified_years: float,
) -> PanelContext:
    """The part of the context that is not keyed by person: period grid, spells, episodes.

    Reads the employment and units tables and only the dates of the other tables (where the
    data end and begin); event indexes and unit features come later, per partition of
    employees (:func:`build_person_part`, :func:`finish_context`).
    """
    emp = register.employment
    if register.unit_changes is not None and len(register.unit_changes):
        # a renamed or merged unit continues under its latest id (its features continue)
        emp = emp.assign(unit_id=follow_unit_changes(emp["unit_id"], register.unit_changes))
    as_of_day = register_as_of(register) if as_of is None else day_of(as_of)
    employee_ids = pd.Index(pd.unique(emp["employee_id"].astype("string").dropna())).sort_values()
    units = register.units
    unit_ids = pd.Index(pd.unique(emp["unit_id"].astype("string").dropna()))
    if units is not None:
        unit_ids = unit_ids.append(pd.Index(units["unit_id"].astype("string").dropna())).unique()
    unit_ids = unit_ids.sort_values()
    n_units = len(unit_ids)
    mun = pd.array([pd.NA] * n_units, dtype="string")
    svc = pd.array([pd.NA] * n_units, dtype="string")
    if units is not None:
        u = units.drop_duplicates("unit_id", keep="last")
        pos = unit_ids.get_indexer(pd.Index(u["unit_id"].astype("string")))
        if "municipality" in u.columns:
            mun[pos] = u["municipality"].astype("string").to_numpy()
        if "service" in u.columns:
            svc[pos] = u["service"].astype("string").to_numpy()

    code = _codes(emp["employee_id"], employee_ids)
    ucode = _codes(emp["unit_id"], unit_ids)
    start_d = to_days(emp["start_date"])
    end_d = to_days(emp["end_date"])
    keep = (code >= 0) & (ucode >= 0) & (start_d != OPEN_DAY)
    end_d = np.where(end_d > as_of_day, OPEN_DAY, end_d)  # unknown at as_of: still open
    reason = np.full(len(emp), -1, dtype=np.int64)
    if "exit_reason" in emp.columns:
        r = pd.Categorical(emp["exit_reason"].astype("string"), categories=list(EXIT_REASONS))
        reason = r.codes.astype(np.int64)
    reason = np.where(end_d == OPEN_DAY, -1, reason)
    roles = None
    role_code = np.full(len(emp), -1, dtype=np.int64)
    if "role" in emp.columns:
        role_code, roles = pd.factorize(emp["role"].astype("string"), sort=True)
        roles = pd.Index(roles.astype(str))
    spells = {
        "code": code,
        "unit": ucode,
        "start": start_d,
        "end": end_d,
        "fte": _float(emp["fte"]),
        "role": np.asarray(role_code, dtype=np.int64),
        "birth_year": _float(emp["birth_year"])
        if "birth_year" in emp
        else np.full(len(emp), np.nan),
        "qualified_year": _float(emp["qualified_year"])
        if "qualified_year" in emp
        else np.full(len(emp), np.nan),
        "reason": reason,
    }
    spells = {k: v[keep] for k, v in spells.items()}
    if len(spells["code"]) == 0:
        raise ValueError(
            "the employment table has no usable spell (every row lacks employee_id, unit_id or "
            "start_date); validate the register with tr.validate(register)."
        )

    scope_key_unit = _scope_keys(scope, svc, mun, units is not None)
    service_key_unit = (
        scope_key_unit
        if scope == "service"
        else _scope_keys("service", svc, mun, units is not None, warn=False)
    )
    sc, su, ss, se, sr = (spells[k] for k in ("code", "unit", "start", "end", "reason"))
    scope_ep = episodes(sc, scope_key_unit[su], ss, se, sr)
    service_ep = episodes(sc, service_key_unit[su], ss, se, sr)
    unit_ep = episodes(sc, su, ss, se, sr)

    mpp = MONTHS_PER_PERIOD[freq]
    recording_day, note = observation_window_start(register)
    if note is not None and start is None:
        warnings.warn(note, DataQualityWarning, stacklevel=3)
    first_day = default_first_day(register, recording_day)
    if start is None and end is None and first_day > as_of_day:
        # too short a register for a full look-back window: start when recording began
        first_day = recording_day
        warnings.warn(
            f"the data cover less than {FEATURE_WINDOW_MONTHS} months after recording began "
            f"({_text(first_day)} to {_text(as_of_day)}), so the panel starts at "
            f"{_text(first_day)} and its 3- and 12-month features reach back before the data. "
            "Pass start=... to choose the first period yourself.",
            DataQualityWarning,
            stacklevel=3,
        )
    period_days = _grid(freq, start, end, first_day, as_of_day)
    lag = 12 // mpp
    first_m = int(month_of(period_days[:1])[0])
    ext_days = np.concatenate(
        [month_start(np.arange(first_m - lag * mpp, first_m, mpp)), period_days]
    )

    ctx = PanelContext(
        freq=freq,
        months_per_period=mpp,
        horizon=horizon,
        counted=counted,
        outcome=outcome,
        scope=scope,
        as_of=as_of_day,
        min_group_size=min_group_size,
        newly_qualified_years=newly_qualified_years,
        period_days=period_days,
        lag=lag,
        ext_days=ext_days,
        employee_ids=employee_ids,
        unit_ids=unit_ids,
        unit_municipality=mun,
        unit_service=svc,
        spells=spells,
        roles=roles,
        scope_ep=scope_ep,
        service_ep=service_ep,
        unit_ep=unit_ep,
        scope_key_unit=scope_key_unit,
    )
    workdays_index(ctx)
    absent = absent_features(ctx, register)
    ctx.absent = tuple(n for n in FEATURES if n in absent)
    ctx.present = tuple(n for n in FEATURES if n not in absent)
    return ctx


@dataclass(eq=False)
class PersonPart:
    """The part of a panel context that belongs to a range of employees (codes ``lo..hi-1``).

    ``events``: their event indexes (what their rows read); ``partial``: what they contribute
    to the unit-level grid (:func:`turnover_risk.panel._unit.unit_partial`).
    """

    lo: int
    hi: int
    events: dict[str, Events]
    partial: dict[str, np.ndarray]

    def for_units(self, base: PanelContext, bounds: object) -> list[PersonPart]:
        """The partial cut by ranges of unit codes ``[bounds[i], bounds[i+1])``, one piece
        per range (no event indexes), for :func:`finish_context` with ``units=``.

        The features of a unit depend only on the entries of its own cells, so each range can
        be finished on its own from the pieces of every part, wherever they were built.
        """
        bounds = np.asarray(bounds, dtype=np.int64)
        n_k = len(base.ext_days)
        return [
            PersonPart(self.lo, self.hi, {}, _units_of(self.partial, int(a), int(b), n_k))
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]


def _units_of(
    partial: dict[str, np.ndarray], lo: int, hi: int, n_k: int, rebase: bool = False
) -> dict[str, np.ndarray]:
    """The entries of a unit partial (:func:`~turnover_risk.panel._unit.unit_partial`) in the
    cells of units ``lo..hi-1``, in their order; ``rebase``: cells and units counted from
    ``lo``. Cell arrays hold ``unit * n_k + k``; a ``*_value`` array goes with its
    ``*_cell`` array, the ``lost_*`` arrays with ``lost_unit``."""
    keep: dict[str, np.ndarray] = {}

    def rows(key: str) -> np.ndarray:
        if key not in keep:
            unit = partial[key] if key == "lost_unit" else partial[key] // n_k
            keep[key] = (unit >= lo) & (unit < hi)
        return keep[key]

    out = {}
    for name, values in partial.items():
        if name.startswith("lost_"):
            key = "lost_unit"
        elif name.endswith("_value"):
            key = name[: -len("_value")] + "_cell"
        else:
            key = name
        out[name] = values[rows(key)]
        if rebase and name == key:
            out[name] = out[name] - (lo if key == "lost_unit" else lo * n_k)
    return out


def person_tables(register: Register) -> dict[str, pd.DataFrame | None]:
    """The register's tables keyed by person (``None`` for a table it lacks)."""
    return {name: getattr(register, name) for name in PERSON_TABLES}


def build_person_part(
    base: PanelContext,
    tables: dict[str, pd.DataFrame | None],
    lo: int,
    hi: int,
    codes: dict[str, np.ndarray] | None = None,
) -> PersonPart:
    """Event indexes and unit partials of employees ``lo <= code < hi`` (exact for any split).

    ``tables`` must hold every row of those employees (other rows may be present: they are
    indexed but contribute nothing to the partial); ``codes`` are the employee codes of the
    rows when already known.
    """
    ctx = replace(base, events={}, unit={}, absence_frame=None)
    _build_events(ctx, tables, codes)
    partial = unit_partial(ctx, lo, hi)
    return PersonPart(lo=lo, hi=hi, events=ctx.events, partial=partial)


def finish_context(
    base: PanelContext, parts: list[PersonPart], units: tuple[int, int] | None = None
) -> dict[str, np.ndarray]:
    """The unit-level features from the parts of consecutive employee ranges covering all.

    Each feature is an array indexed by (unit code, extended period). ``units=(lo, hi)``:
    only the rows of unit codes ``lo..hi-1`` (the parts may be cut to them first,
    :meth:`PersonPart.for_units`); the rows of consecutive unit ranges, concatenated along the
    first axis, are the features of all units, bit for bit.

    Examples
    --------
    >>> import numpy as np
    >>> import turnover_risk as tr
    >>> from turnover_risk import panel as tp
    >>> reg = tr.make_register(n_units=3, years=2, random_state=0)
    >>> base = tp.prepare_base(reg)
    >>> part = tp.build_person_part(base, tp.person_tables(reg), 0, len(base.employee_ids))
    >>> whole = tp.finish_context(base, [part])
    >>> bounds = [0, 1, len(base.unit_ids)]  # two ranges of units
    >>> pieces = part.for_units(base, bounds)
    >>> ranges = [tp.finish_context(base, [pieces[j]], units=(bounds[j], bounds[j + 1]))
    ...           for j in range(2)]
    >>> all(np.array_equal(np.concatenate([r[k] for r in ranges]), whole[k], equal_nan=True)
    ...     for k in whole)
    True
    """
    parts = sorted(parts, key=lambda p: p.lo)
    if units is None:
        return finish_unit_features(base, [p.partial for p in parts], base.absent)
    lo, hi = int(units[0]), int(units[1])
    n_k = len(base.ext_days)
    sp = base.spells
    mine = (sp["unit"] >= lo) & (sp["unit"] < hi)
    spells = {k: v[mine] for k, v in sp.items()}
    spells["unit"] = spells["unit"] - lo
    view = replace(
        base,
        unit_ids=base.unit_ids[lo:hi],
        unit_municipality=base.unit_municipality[lo:hi],
        unit_service=base.unit_service[lo:hi],
        scope_key_unit=None if base.scope_key_unit is None else base.scope_key_unit[lo:hi],
        spells=spells,
        events={},
        unit={},
        absence_frame=None,
    )
    partials = [_units_of(p.partial, lo, hi, n_k, rebase=True) for p in parts]
    data_start = int(sp["start"].min())
    return finish_unit_features(view, partials, base.absent, data_start=data_start)


def partition_context(
    base: PanelContext, part: PersonPart, unit: dict[str, np.ndarray]
) -> PanelContext:
    """The context of the employees of ``part`` (codes ``part.lo`` to ``part.hi - 1``): the
    base, their event indexes and the unit features from :func:`finish_context`."""
    return replace(base, events=part.events, unit=unit, absence_frame=None)


def prepare_context(register: Register, **options: object) -> PanelContext:
    """Compute the shared state of a panel (arguments already validated by ``build_panel``).

    The same three steps a distributed engine runs per partition, here on the whole
    register at once: :func:`prepare_base`, :func:`build_person_part`, :func:`finish_context`.
    """
    base = prepare_base(register, **options)
    part = build_person_part(base, person_tables(register), 0, len(base.employee_ids))
    return partition_context(base, part, finish_context(base, [part]))


def employee_codes(base: PanelContext, values: pd.Series) -> np.ndarray:
    """The employee code of each value of an ``employee_id`` column (``-1``: not employed).

    Codes are positions in ``base.employee_ids`` (sorted), so a range of codes is a range of
    employees; :func:`split_person_rows` cuts rows by such ranges.
    """
    return _codes(values, base.employee_ids)


def split_person_rows(
    base: PanelContext, tables: dict[str, pd.DataFrame | None], bounds: object
) -> list[tuple[dict[str, pd.DataFrame | None], dict[str, np.ndarray]]]:
    """Split rows of the person tables by ranges of employee codes ``[bounds[i], bounds[i+1])``.

    Returns, per range, its rows of every table (in their order; ``None`` stays ``None``) and
    their employee codes. Rows of employees not in the employment table are dropped (no
    feature reads them).
    """
    bounds = np.asarray(bounds, dtype=np.int64)
    n_parts = len(bounds) - 1
    out: list[tuple[dict, dict]] = [({}, {}) for _ in range(n_parts)]
    for name, df in tables.items():
        if df is None:
            for tabs, _ in out:
                tabs[name] = None
            continue
        code = employee_codes(base, df["employee_id"])
        part = np.where(code >= 0, np.searchsorted(bounds, code, side="right") - 1, -1)
        order = np.argsort(part, kind="stable")
        cuts = np.searchsorted(part[order], np.arange(n_parts + 1))
        for i, (tabs, codes) in enumerate(out):
            rows = order[cuts[i] : cuts[i + 1]]
            tabs[name] = df.take(rows)
            codes[name] = code[rows]
    return out
