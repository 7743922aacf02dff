"""The public API: every name in __all__ exists, the names of 0.1.0 still import, and the module
paths of 0.1.0 still work (with a deprecation warning) until 0.3."""

from __future__ import annotations

import importlib
import re
import sys

import pytest

import turnover_risk as tr

# The compatibility contract: turnover_risk.__all__ as released in 0.1.0. Written out, not read
# from the package, so removing or renaming a public name fails here.
ALL_0_1_0 = (
    "DEFINITIONS",
    "SCHEMAS",
    "TABLE_NAMES",
    "DataQualityWarning",
    "FEATURES",
    "Feature",
    "Cutoffs",
    "DataValidationError",
    "EvaluationResult",
    "Explanation",
    "FlagResult",
    "INSTRUMENTS",
    "Instrument",
    "PanelSpec",
    "Register",
    "ScoreResult",
    "SimulationKnobs",
    "SimulationTruth",
    "SurveyInputError",
    "TurnoverRiskModel",
    "TurnoverRiskDeprecationWarning",
    "TurnoverRiskWarning",
    "ValidationReport",
    "WhatIfResult",
    "__version__",
    "build_panel",
    "evaluate",
    "flag_groups",
    "get_instrument",
    "group_drivers",
    "load_model",
    "load_sample",
    "make_register",
    "panel_spec",
    "read_register",
    "score_dataset",
    "score_survey",
    "sick_leave_rate",
    "summarise_scores",
    "survey_problems",
    "turnover_rate",
    "turnover_rate_from_counts",
    "validate",
    "what_if",
    "write_register",
    "write_report",
)

# Module paths of 0.1.0 that moved in 0.2: the __all__ each had in 0.1.0, and the public
# subpackage that now holds those names.
OLD_MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "turnover_risk.schema": (
        "turnover_risk.data",
        (
            "CERTIFICATIONS",
            "EXIT_REASONS",
            "SUPERVISION_KINDS",
            "SCHEMAS",
            "TABLE_NAMES",
            "Column",
            "Register",
            "TableSchema",
            "pandas_dtype",
            "schema_table",
        ),
    ),
    "turnover_risk.io": ("turnover_risk.data", ("read_register", "read_table", "write_register")),
    "turnover_risk.validation": (
        "turnover_risk.data",
        (
            "RULES",
            "DataValidationError",
            "QuarantineResult",
            "ValidationReport",
            "clean_register",
            "validate",
        ),
    ),
    "turnover_risk.calendar": (
        "turnover_risk.data",
        ("WorkdayIndex", "holiday_dates", "is_working_day", "norwegian_holidays", "working_days"),
    ),
    "turnover_risk.features": (
        "turnover_risk.panel",
        (
            "FEATURES",
            "SCOPES",
            "Feature",
            "FeatureRegistry",
            "PanelContext",
            "build_panel",
            "build_partition",
            "prepare_context",
        ),
    ),
    "turnover_risk.evaluation": (
        "turnover_risk.models",
        (
            "CV_SCHEMES",
            "EvaluationResult",
            "LabelOverlapWarning",
            "calibration_metrics",
            "evaluable_periods",
            "evaluate",
        ),
    ),
    "turnover_risk.explain": (
        "turnover_risk.groups",  # Explanation: checked against turnover_risk.Explanation
        (
            "ADDITIVITY_TOLERANCE",
            "AUTO_MIN_ROWS",
            "AUTO_ONE_IN",
            "Explanation",
            "auto_sample_sizes",
            "group_drivers",
        ),
    ),
    "turnover_risk.distributed": (
        "turnover_risk.engines",
        (
            "DEFAULT_CONNECT_TIMEOUT",
            "ENGINES",
            "build_panel",
            "check_engine",
            "compute_panel",
            "connect",
            "flag_groups",
            "is_dask_collection",
            "score_dataset",
            "sick_leave_rate",
            "turnover_rate",
            "uses_dask",
        ),
    ),
    # private in 0.1.0, but model files pickled by 0.1.0 name turnover_risk._spec.PanelSpec
    "turnover_risk._spec": ("turnover_risk.panel", ("PanelSpec", "panel_spec")),
}


def _forget(old: str) -> None:
    """Undo an earlier import of an old path, so importing it again goes through the hook."""
    sys.modules.pop(old, None)
    parent, _, child = old.rpartition(".")
    if child in vars(sys.modules[parent]):
        delattr(sys.modules[parent], child)


def test_every_name_in_all_exists():
    missing = [n for n in tr.__all__ if not hasattr(tr, n)]
    assert missing == []


def test_all_has_no_duplicates():
    assert len(tr.__all__) == len(set(tr.__all__))


def test_design_contract_names_present():
    expected = {
        "Register",
        "read_register",
        "write_register",
        "validate",
        "DataValidationError",
        "ValidationReport",
    }
    assert expected <= set(tr.__all__)


def test_data_validation_error_is_a_value_error():
    assert issubclass(tr.DataValidationError, ValueError)


def test_every_name_of_0_1_0_still_imports_from_turnover_risk():
    namespace: dict = {}
    exec("from turnover_risk import *", namespace)  # star import follows __all__
    assert [n for n in ALL_0_1_0 if n not in namespace] == []
    assert [n for n in ALL_0_1_0 if n not in tr.__all__] == []


def test_the_old_module_list_matches_the_legacy_hook():
    from turnover_risk._legacy import MOVED

    assert set(OLD_MODULES) == set(MOVED)


@pytest.mark.parametrize("old", sorted(OLD_MODULES))
def test_old_module_path_warns_and_gives_the_same_objects(old):
    home_name, names = OLD_MODULES[old]
    _forget(old)
    with pytest.warns(tr.TurnoverRiskDeprecationWarning, match=rf"{re.escape(old)} moved in"):
        module = importlib.import_module(old)
    assert [n for n in names if not hasattr(module, n)] == [], f"{old} lost names of 0.1.0"
    home = importlib.import_module(home_name)
    for name in names:
        if name in home.__all__:
            assert getattr(module, name) is getattr(home, name), f"{old}.{name}"
        # distributed.build_panel etc. are the Dask engine's own functions (as in 0.1.0)
        if name in tr.__all__ and old != "turnover_risk.distributed":
            assert getattr(module, name) is getattr(tr, name), f"{old}.{name}"
    with pytest.raises(AttributeError, match="moved in 0.2"):
        module.no_such_name  # noqa: B018


def test_old_module_names_give_the_top_level_objects():
    _forget("turnover_risk.features")
    with pytest.warns(tr.TurnoverRiskDeprecationWarning, match=r"import from turnover_risk\.panel"):
        import turnover_risk.features
    assert turnover_risk.features.build_panel is tr.build_panel
    assert turnover_risk.features.FEATURES is tr.FEATURES


@pytest.mark.parametrize("name", ["explain", "schema", "evaluation"])
def test_from_turnover_risk_import_an_old_module_warns(name):
    _forget(f"turnover_risk.{name}")
    with pytest.warns(tr.TurnoverRiskDeprecationWarning, match=rf"turnover_risk\.{name} moved"):
        exec(f"from turnover_risk import {name}", {})
