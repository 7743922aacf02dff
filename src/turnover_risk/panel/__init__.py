"""The person-period panel: point-in-time features, honest labels, and the feature registry.

:func:`build_panel` turns a register into one row per person and period; :data:`FEATURES`
documents every feature (what it measures, its source and unit, whether a leader can change
it, what it needs).
:func:`prepare_context` and :func:`build_partition` are the per-partition steps an engine runs;
:func:`prepare_base`, :func:`employee_codes`, :func:`split_person_rows`,
:func:`build_person_part`,
:func:`finish_context` and :func:`partition_context` split the context itself by employees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnover_risk import _lazy

if TYPE_CHECKING:
    from turnover_risk.panel._build import (
        SCOPES,
        build_panel,
        build_partition,
        context_spec,
        prepare_base,
        prepare_context,
    )
    from turnover_risk.panel._context import (
        PanelContext,
        PersonPart,
        build_person_part,
        employee_codes,
        finish_context,
        partition_context,
        person_tables,
        split_person_rows,
    )
    from turnover_risk.panel._registry import FEATURES, Feature, FeatureRegistry
    from turnover_risk.panel._spec import PanelSpec, attach_spec, panel_spec

__all__ = [
    "FEATURES",
    "SCOPES",
    "Feature",
    "FeatureRegistry",
    "PanelContext",
    "PanelSpec",
    "PersonPart",
    "attach_spec",
    "build_panel",
    "build_partition",
    "build_person_part",
    "context_spec",
    "employee_codes",
    "finish_context",
    "panel_spec",
    "partition_context",
    "person_tables",
    "prepare_base",
    "prepare_context",
    "split_person_rows",
]

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "turnover_risk.panel._build": (
            "SCOPES",
            "build_panel",
            "build_partition",
            "context_spec",
            "prepare_base",
            "prepare_context",
        ),
        "turnover_risk.panel._context": (
            "PanelContext",
            "PersonPart",
            "build_person_part",
            "employee_codes",
            "finish_context",
            "partition_context",
            "person_tables",
            "split_person_rows",
        ),
        "turnover_risk.panel._registry": (
            "FEATURES",
            "Feature",
            "FeatureRegistry",
        ),
        "turnover_risk.panel._spec": (
            "PanelSpec",
            "attach_spec",
            "panel_spec",
        ),
    },
)
