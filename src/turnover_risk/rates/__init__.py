"""Turnover rates under named definitions and the SSB/NAV sick-leave percentage.

Published turnover figures for the "same" services differ (about 30 %, 21 %, 20.9 %, 11.5 %)
because they use different definitions. This module names them (:data:`DEFINITIONS`) and
computes each exactly from an effective-dated register, by group and period, with intervals and
small-cell suppression.

Conventions shared by every definition
--------------------------------------
* A person is *present* in a unit on day ``d`` when a spell has ``start_date <= d <= end_date``
  (an empty ``end_date`` is an open spell).
* *Scope* decides what counts as leaving: ``"unit"`` (a move to another unit is an exit),
  ``"service"`` (the pair municipality + service when both columns exist; moves inside the
  service are not exits), ``"municipality"`` or ``"any"`` (leaving every unit of the register).
  ``bufdir`` is always measured at unit scope (establishment level, as SSB).
* ``exit_share`` counts persons: a person with several jobs in a unit at snapshot t counts
  once there (``weight="fte"``: their total fte in the unit, capped at 1).
* Everything is computed per unit (per unit and group when ``by`` names a person-level column)
  and then summed to the requested groups - never netted at a higher level.
* A *hire* is a spell starting in the period whose person was not in scope the day before; a
  *separation* is a spell ending in the period (its last day in the period) whose person is not
  in scope the day after. Headcount at the start of a period counts spells running across the
  boundary (present on the day before and on the first day); at the end, spells present on the
  last day and the day after. With ``scope="unit"`` this makes
  ``headcount_end = headcount_start + hires - separations`` exact.
* The observation window is ``start``/``end`` when given, else the register's metadata
  (``observation_start``/``observation_end``, or a simulated register's ``start_year`` and
  ``years``; ``read_register`` reads it from ``metadata.json``), else the earliest employment
  start to the latest date recorded; periods are clipped to it. The window is in
  ``result.attrs["observation_window"]`` (``start``, ``end`` and where each came from).
* *Left truncation.* An HR extract often holds only the staff still employed when recording
  began, with hire dates from decades back: no exit before that day can appear, and rates
  from the earliest hire would show 0 % for those years. Without a given start the rates
  check for it: with ``E`` the first recorded spell end, the spell ends per person-year after
  ``E`` times the person-years at risk before ``E`` is the number of ends one would expect
  before it. When that is at least :data:`TRUNCATION_EXPECTED_EVENTS` (10: the chance of
  seeing none is below 5e-5) the window starts where recording began - the first date of the
  absences, caseload and supervision tables if that is on or before ``E`` (and no ends would be
  expected between the two), else the first day of ``E``'s month - and a
  :class:`~turnover_risk.DataQualityWarning` says what was inferred and from what
  (``attrs["observation_window"]["left_truncation"]`` keeps the text). ``sick_leave_rate``
  checks the absences the same way (absence starts per person-year employed), so periods
  before absences were recorded do not show 0 %. A complete register of a few people (three
  hired on one day, the first leaving 18 months later) expects few ends and is left alone. Pass
  ``start=`` or set ``register.metadata["observation_start"]`` to choose the window yourself.

Periods are labelled ``"2021"`` (year), ``"2021Q1"`` (quarter) and ``"2021-01"`` (month). For
``exit_share`` the label is the year of the *first* snapshot: ``"2021"`` with the default
``snapshot="12-01"`` compares 1 December 2021 with 1 December 2022 (KS would write 2021-22);
the rows carry ``snapshot`` and ``next_snapshot`` so the convention is never implicit.

Where things are: the definition registry and the option tuples in ``_definitions.py``; the
public functions and their argument checks in ``_turnover.py`` (``turnover_rate``,
``turnover_rate_from_counts``) and ``_sick_leave.py`` (``sick_leave_rate``); the kernels in
``_turnover_table.py`` and ``_sick_leave_table.py``; employment spells as arrays and the
observation window settled per call in ``_spells.py``; the grouping, counting and period
primitives (and the scope entity of each spell) in ``_grouping.py``; the per-person joins and
presence look-ups in ``_presence.py``; the observation window rules and left-truncation
detection in ``_window.py`` (:func:`metadata_window` and :func:`detect_left_truncation` are
public: the panel uses them too); intervals in ``_intervals.py``; periods, output assembly and
suppression in ``_common.py``; the cell statistics of a table and their exact combination
across parts of a register split by person (the Dask engine) in ``_cells.py`` and
``_partitioned.py`` (:func:`part_cells`, :func:`combine_cells`, :func:`partitioned_rate`);
fast integer codes for identifier columns in ``_encode.py``.
Time to exit: :func:`retention` (Kaplan–Meier) and :func:`cumulative_incidence`
(Aalen–Johansen by exit cause), with delayed entry, in ``_survival.py`` (stays in scope:
``_survival_stays.py``; the estimators: ``_survival_kernel.py``; the result:
``_survival_result.py``).

{definitions_table}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnover_risk import _lazy
from turnover_risk.rates._definitions import (
    DEFINITIONS,
    LONG_SPELL_DAYS,
    Definition,
    DefinitionRegistry,
)

if TYPE_CHECKING:
    from turnover_risk.rates._partitioned import (
        combine_cells,
        part_cells,
        part_dates,
        partitioned_rate,
    )
    from turnover_risk.rates._sick_leave import sick_leave_rate
    from turnover_risk.rates._survival import (
        DAYS_PER_MONTH,
        EXIT_CAUSES,
        cumulative_incidence,
        retention,
    )
    from turnover_risk.rates._survival_result import SurvivalResult
    from turnover_risk.rates._turnover import turnover_rate, turnover_rate_from_counts
    from turnover_risk.rates._window import (
        TRUNCATION_EXPECTED_EVENTS,
        Truncation,
        detect_left_truncation,
        metadata_window,
    )

__all__ = [
    "DAYS_PER_MONTH",
    "DEFINITIONS",
    "EXIT_CAUSES",
    "LONG_SPELL_DAYS",
    "TRUNCATION_EXPECTED_EVENTS",
    "Definition",
    "DefinitionRegistry",
    "SurvivalResult",
    "Truncation",
    "combine_cells",
    "cumulative_incidence",
    "detect_left_truncation",
    "metadata_window",
    "part_cells",
    "part_dates",
    "partitioned_rate",
    "retention",
    "sick_leave_rate",
    "turnover_rate",
    "turnover_rate_from_counts",
]

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "turnover_risk.rates._partitioned": (
            "combine_cells",
            "part_cells",
            "part_dates",
            "partitioned_rate",
        ),
        "turnover_risk.rates._sick_leave": ("sick_leave_rate",),
        "turnover_risk.rates._survival": (
            "DAYS_PER_MONTH",
            "EXIT_CAUSES",
            "cumulative_incidence",
            "retention",
        ),
        "turnover_risk.rates._survival_result": ("SurvivalResult",),
        "turnover_risk.rates._turnover": (
            "turnover_rate",
            "turnover_rate_from_counts",
        ),
        "turnover_risk.rates._window": (
            "TRUNCATION_EXPECTED_EVENTS",
            "Truncation",
            "detect_left_truncation",
            "metadata_window",
        ),
    },
)

__doc__ = (__doc__ or "").replace(
    "{definitions_table}", "Definitions\n-----------\n" + DEFINITIONS.to_markdown()
)
