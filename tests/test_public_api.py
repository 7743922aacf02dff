"""The public API: every name in __all__ exists, and the names of the documented contract are importable."""

import turnover_risk as tr


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
