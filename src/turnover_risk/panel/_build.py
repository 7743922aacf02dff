"""The person-period panel: point-in-time features and honest labels.

:func:`build_panel` turns a :class:`~turnover_risk.data.Register` into one row per employee
in scope per period (monthly by default): what was known at the start ``t`` of the period, and
whether the person left within the horizon after it. Every feature is documented in
:data:`FEATURES`.

Time rules
----------
*Rows.* A person has a row for period ``t`` when an employment spell covers the day ``t``
(``start_date <= t <= end_date``). When spells overlap, the one with the largest fte (then the
latest start) gives the row's unit, fte and role.

*Features (point in time).* Every feature of period ``t`` uses only records dated strictly
before ``t``: caseload snapshots of earlier months, supervision sessions, survey responses and
sick-leave days before ``t`` (an ongoing spell counts up to ``t - 1 day``), colleagues'
employment up to the day before ``t``. The row population and the contract attributes of the
spell covering ``t`` (unit, fte, role, birth and qualification year) are the only things taken
from the spell itself. ``tests/panel/test_build_panel.py`` checks the rule with a property
test: any record dated at or after ``t`` can be changed, added or deleted without changing a
feature of period ``t``.

*Episodes, transfers, re-hires.* Spells of one person inside the scope (e.g. units of the same
service) that touch or overlap form one continuous episode: a transfer between units of the
service is not an exit. A gap of at least one day between spells ends the episode with the exit
reason of its last spell; a later spell (a re-hire) starts a new episode, so tenure restarts and
``rehired`` is 1. The rows of the first episode carry its exit as their label.

*Labels.* ``as_of`` is the last day the data describe (default: the latest date seen in the
register). For the row of period ``t`` with the scope episode ending on ``end`` (its last day):

- ``periods_to_exit`` = the number of periods from ``t`` to the one containing ``end``,
  inclusive (``end`` in the period of ``t`` gives 1), when ``end <= as_of``; otherwise the
  number of complete periods observed after ``t`` (censoring time).
- ``exit_observed`` = 1 when the episode ended by ``as_of`` for a reason counted by
  ``outcome``.
- ``left_within_horizon`` is known only when the whole horizon lies inside the data
  (``t + horizon`` periods ``<= as_of + 1 day``), for leavers and stayers alike; otherwise it
  is NaN (censored). Near the end of the data an exit may already be visible while a stay is
  not, and keeping only the visible exits would bias the label upwards. Within a fully
  observed horizon it is 1 when ``exit_observed`` and ``periods_to_exit <= horizon``, 0 when
  the person is still in scope after the horizon (or leaves later), and NaN when an exit for a
  reason *not* counted by ``outcome`` (e.g. retirement when ``outcome="voluntary"``) falls
  within the horizon: that person was no longer at risk of the counted exit, so the row is
  censored at the exit, as in a competing-risks analysis. An end date without a recorded
  reason counts only for ``outcome="any"``.

Partitions
----------
:func:`build_panel` calls :func:`prepare_context` once (period grid, spells, episodes, sorted
event indexes and every unit-level feature, all vectorised over the whole register) and then
:func:`build_partition` for chunks of employees, concatenating the results. A Dask engine runs
:func:`build_partition` on the same context for each partition of employee ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from turnover_risk._engine import check_engine, get_engine
from turnover_risk.data import EXIT_REASONS, Register
from turnover_risk.panel._context import (
    PanelContext,
    PersonPart,
    build_person_part,
    finish_context,
    partition_context,
    person_tables,
    split_person_rows,
)
from turnover_risk.panel._context import prepare_base as _prepare_base
from turnover_risk.panel._context import prepare_context as _prepare
from turnover_risk.panel._person import build_rows
from turnover_risk.panel._registry import FEATURES, Feature, FeatureRegistry
from turnover_risk.panel._spec import PanelSpec, attach_spec
from turnover_risk.privacy import DEFAULT_MIN_GROUP_SIZE, check_min_group_size

__all__ = [
    "FEATURES",
    "SCOPES",
    "Feature",
    "FeatureRegistry",
    "PanelContext",
    "PersonPart",
    "build_panel",
    "build_partition",
    "build_person_part",
    "finish_context",
    "partition_context",
    "person_tables",
    "prepare_base",
    "prepare_context",
    "split_person_rows",
]

SCOPES: tuple[str, ...] = ("unit", "service", "municipality", "any")
"""What "leaving" means: leaving the unit, the service (default), the municipality, or all
employment in the register."""

OUTCOMES: tuple[str, ...] = ("voluntary", "any")
_FREQ_ALIASES = {
    "M": "M",
    "MS": "M",
    "ME": "M",
    "Q": "Q",
    "QS": "Q",
    "QE": "Q",
    "Y": "Y",
    "YS": "Y",
    "YE": "Y",
    "A": "Y",
    "AS": "Y",
}
_REQUIRED_EMPLOYMENT = ("employee_id", "unit_id", "start_date", "end_date", "fte")
PARTITION_SIZE = 25_000
"""Employees per partition in :func:`build_panel` (bounds the memory of intermediate arrays)."""


def _check_freq(freq: object) -> str:
    key = str(freq).upper() if isinstance(freq, str) else None
    if key not in _FREQ_ALIASES:
        raise ValueError(
            f"freq={freq!r} is not a supported period; choose one of: 'M' (monthly), "
            "'Q' (quarterly), 'Y' (yearly)."
        )
    return _FREQ_ALIASES[key]


def _check_horizon(horizon: object) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
        raise TypeError(
            f"horizon must be a whole number of periods; got {horizon!r} "
            f"({type(horizon).__name__}). Pass e.g. horizon=12."
        )
    if horizon < 1:
        raise ValueError(
            f"horizon={horizon} must be at least 1 period: the label asks whether a person "
            "leaves within `horizon` periods after the period start. Pass e.g. horizon=12."
        )
    return int(horizon)


def _check_outcome(outcome: object) -> tuple[str, frozenset[int] | None]:
    """Return the outcome's label for the spec and the counted exit-reason codes."""
    allowed = ", ".join(repr(x) for x in (*OUTCOMES, *EXIT_REASONS[1:]))
    if isinstance(outcome, str):
        if outcome == "any":
            return "any", None
        if outcome in EXIT_REASONS:
            return outcome, frozenset({EXIT_REASONS.index(outcome)})
        raise ValueError(
            f"outcome={outcome!r} is not a known outcome; choose one of: {allowed}, or a tuple "
            "of exit reasons such as ('voluntary', 'dismissal')."
        )
    if isinstance(outcome, Iterable):
        reasons = tuple(outcome)
        bad = [r for r in reasons if r not in EXIT_REASONS]
        if bad or not reasons:
            raise ValueError(
                f"outcome={outcome!r} has unknown exit reasons {bad}; a tuple outcome lists "
                f"exit reasons from: {', '.join(EXIT_REASONS)}."
            )
        codes = frozenset(EXIT_REASONS.index(r) for r in reasons)
        return "+".join(sorted(set(reasons))), codes
    raise TypeError(
        f"outcome must be a string or a tuple of exit reasons; got {type(outcome).__name__}."
    )


def _check_register(register: object) -> Register:
    if not isinstance(register, Register):
        raise TypeError(
            f"register must be a turnover_risk.Register; got {type(register).__name__}. "
            "Read one with tr.read_register(path) or build one with tr.Register(employment=...)."
        )
    missing = [c for c in _REQUIRED_EMPLOYMENT if c not in register.employment.columns]
    if missing:
        raise ValueError(
            f"the employment table lacks the required columns {missing}; it needs "
            f"{', '.join(_REQUIRED_EMPLOYMENT)}."
        )
    return register


def prepare_context(
    register: Register,
    *,
    freq: str = "M",
    horizon: int = 12,
    outcome: str | Sequence[str] = "voluntary",
    scope: str = "service",
    start: object = None,
    end: object = None,
    as_of: object = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    newly_qualified_years: float = 2,
) -> PanelContext:
    """Validate the arguments of :func:`build_panel` and compute its shared state once.

    The returned :class:`PanelContext` holds the period grid, the employment spells and their
    episodes, sorted event indexes of the optional tables and every unit-level feature on a
    (unit x period) grid. It is what :func:`build_partition` needs to build the rows of any
    subset of employees; parameters are those of :func:`build_panel`. It is computed in the
    same steps a distributed engine runs partition by partition (:func:`prepare_base`,
    :func:`build_person_part`, :func:`finish_context`).
    """
    return _prepare(register, **_validated(locals()))


def prepare_base(
    register: Register,
    *,
    freq: str = "M",
    horizon: int = 12,
    outcome: str | Sequence[str] = "voluntary",
    scope: str = "service",
    start: object = None,
    end: object = None,
    as_of: object = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    newly_qualified_years: float = 2,
) -> PanelContext:
    """The part of the shared state that is not keyed by person (first step of a partitioned
    context).

    Period grid, employment spells and episodes, and which features the register supports:
    it reads the employment and units tables and only the dates of the others. The person
    tables are then processed per range of employee codes, e.g. on different workers:
    :func:`split_person_rows` (rows by range), :func:`build_person_part` (event indexes and
    unit partials of a range), :func:`finish_context` (the unit-level features from all the
    partials, in range order) and :func:`partition_context` (the context of one range, for
    :func:`build_partition`). The rows equal those of :func:`build_panel` for any split.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import turnover_risk as tr
    >>> from turnover_risk import panel as tp
    >>> reg = tr.make_register(n_units=3, years=2, random_state=0)
    >>> base = tp.prepare_base(reg)
    >>> bounds = np.linspace(0, len(base.employee_ids), 3).astype(int)   # two ranges
    >>> pieces = tp.split_person_rows(base, tp.person_tables(reg), bounds)
    >>> parts = [tp.build_person_part(base, tables, lo, hi, codes)
    ...          for (tables, codes), lo, hi in zip(pieces, bounds[:-1], bounds[1:])]
    >>> unit = tp.finish_context(base, parts)
    >>> rows = [tp.build_partition(tp.partition_context(base, p, unit),
    ...                            base.employee_ids[p.lo:p.hi]) for p in parts]
    >>> whole = tr.build_panel(reg)
    >>> pd.concat(rows, ignore_index=True).equals(whole)
    True
    """
    return _prepare_base(register, **_validated(locals()))


def _validated(args: dict) -> dict:
    _check_register(args.pop("register"))
    freq = _check_freq(args["freq"])
    horizon = _check_horizon(args["horizon"])
    outcome_label, counted = _check_outcome(args["outcome"])
    scope = args["scope"]
    if scope not in SCOPES:
        raise ValueError(
            f"scope={scope!r} is not a known scope; choose one of: {', '.join(SCOPES)}."
        )
    min_group_size = check_min_group_size(args["min_group_size"])
    newly_qualified_years = args["newly_qualified_years"]
    if not isinstance(newly_qualified_years, int | float) or newly_qualified_years <= 0:
        raise ValueError(
            f"newly_qualified_years={newly_qualified_years!r} must be a positive number of years."
        )
    return dict(
        freq=freq,
        horizon=horizon,
        counted=counted,
        outcome=outcome_label,
        scope=scope,
        start=args["start"],
        end=args["end"],
        as_of=args["as_of"],
        min_group_size=min_group_size,
        newly_qualified_years=float(newly_qualified_years),
    )


def build_partition(context: PanelContext, employee_ids: object = None) -> pd.DataFrame:
    """Panel rows of a subset of employees, using a context from :func:`prepare_context`.

    Parameters
    ----------
    context : PanelContext
        Shared state computed once for the whole register.
    employee_ids : array-like of str, optional
        Employees to build (ids missing from the employment table are ignored). Default: all.

    Returns
    -------
    DataFrame
        The rows of those employees, sorted by employee and period, with the columns of
        :func:`build_panel` and its spec attached. Concatenating the partitions of any split
        of the employees gives exactly the panel of :func:`build_panel` (unit-level features
        come from the context, so they do not depend on the split).
    """
    if employee_ids is None:
        codes = np.arange(len(context.employee_ids), dtype=np.int64)
    else:
        codes = context.codes_of(employee_ids)
    return attach_spec(build_rows(context, codes), context_spec(context))


def context_spec(context: PanelContext) -> PanelSpec:
    """The :class:`PanelSpec` of the panel built from ``context`` (known before any row)."""
    return PanelSpec(
        feature_cols=context.present,
        freq=context.freq,
        horizon=context.horizon,
        outcome=context.outcome,
        scope=context.scope,
        absent_features=context.absent,
    )


def build_panel(
    register: Register,
    *,
    freq: str = "M",
    horizon: int = 12,
    outcome: str | Sequence[str] = "voluntary",
    scope: str = "service",
    start: object = None,
    end: object = None,
    as_of: object = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    newly_qualified_years: float = 2,
    engine: str = "pandas",
) -> pd.DataFrame:
    """Build the person-period panel: point-in-time features and an honest label.

    Parameters
    ----------
    register : Register
        The register (validated, e.g. by :func:`turnover_risk.read_register`). Only
        ``employment`` is required; features whose source table or column is missing are
        left out and listed in the spec's ``absent_features``.
    freq : {"M", "Q", "Y"}
        Period length: monthly (default), quarterly or yearly; periods start on the first day
        of a month, quarter or year.
    horizon : int
        Number of periods after the period start within which an exit counts (>= 1).
    outcome : {"voluntary", "any"}, an exit reason, or tuple of exit reasons
        Which exits count as the event. Other exits censor the row (see the module notes).
    scope : {"service", "unit", "municipality", "any"}
        What leaving means. Moves inside the scope are not exits. Units without a service in
        the units table fall back to their municipality, and without either to one common
        scope (with a :class:`~turnover_risk.DataQualityWarning`).
    start, end : date-like, optional
        First and last period start to include (rounded inward to period starts). Default:
        from the first period start on or after the earliest employment start to the last
        period start on or before ``as_of + 1 day``.
    as_of : date-like, optional
        Last day the data describe; exits after it are unknown. Default: the latest date in
        any table of the register.
    min_group_size : int
        Unit-level survey means are NaN unless at least this many members answered.
    newly_qualified_years : float
        Years after qualification (or of tenure, without ``qualified_year``) that count as
        newly qualified.
    engine : {"pandas", "dask"}
        ``"dask"`` returns a lazy Dask DataFrame partitioned by employee (extra
        ``turnover-risk[dask]``; the Dask engine, :mod:`turnover_risk.engines`).

    Returns
    -------
    DataFrame
        Columns ``employee_id``, ``unit_id``, ``municipality``, ``service``, ``period``
        (period start, ``datetime64[ns]``), ``left_within_horizon`` (1/0/NaN),
        ``periods_to_exit`` (int), ``exit_observed`` (bool), then the features in
        :data:`FEATURES` order (numeric ones as float32, ``role`` categorical). The column roles
        are in ``panel.attrs["panel_spec"]`` (read them with :func:`turnover_risk.panel_spec`).

    Raises
    ------
    TypeError
        If ``register`` is not a Register, or ``horizon`` is not an integer.
    ValueError
        For an unsupported ``freq``, a ``horizon`` below 1, an unknown ``outcome`` or ``scope``,
        or an empty period range.

    Examples
    --------
    >>> import pandas as pd
    >>> import turnover_risk as tr
    >>> emp = pd.DataFrame({
    ...     "employee_id": ["a", "b"], "unit_id": ["u1", "u1"],
    ...     "start_date": pd.to_datetime(["2020-01-01", "2020-01-01"]),
    ...     "end_date": pd.to_datetime(["2020-03-20", "2020-12-31"]),
    ...     "fte": [1.0, 0.8], "exit_reason": ["voluntary", "retirement"]})
    >>> panel = tr.build_panel(tr.Register(employment=emp), horizon=3, scope="any")
    >>> panel.loc[panel["employee_id"] == "a", ["period", "left_within_horizon"]]
          period  left_within_horizon
    0 2020-01-01                  1.0
    1 2020-02-01                  1.0
    2 2020-03-01                  1.0
    >>> tr.panel_spec(panel).absent_features[:2]
    ('age', 'role')
    """
    options = dict(
        freq=freq,
        horizon=horizon,
        outcome=outcome,
        scope=scope,
        start=start,
        end=end,
        as_of=as_of,
        min_group_size=min_group_size,
        newly_qualified_years=newly_qualified_years,
    )
    if engine != "pandas":
        return get_engine(check_engine(engine)).build_panel(register, engine=engine, **options)
    context = prepare_context(register, **options)
    n = len(context.employee_ids)
    parts = [
        build_rows(context, np.arange(lo, min(lo + PARTITION_SIZE, n), dtype=np.int64))
        for lo in range(0, n, PARTITION_SIZE)
    ]
    panel = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return attach_spec(panel, context_spec(context))
