"""The Examples sections of the docstrings run (numpydoc examples are doctests)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import turnover_risk

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(turnover_risk.__path__, prefix="turnover_risk.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
