"""Lazy namespaces: ``import turnover_risk`` loads no heavy library, every lazy name resolves to
the object its module defines, and the ``TYPE_CHECKING`` imports match what ``__getattr__`` serves.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "turnover_risk"
HEAVY = ("pandas", "scipy", "sklearn", "shap", "matplotlib", "dask", "pyarrow", "statsmodels")


def _fresh(code: str) -> dict:
    """Run ``code`` (which sets ``out``) in a new interpreter and return ``out``."""
    script = f"import json\n{code}\nprint(json.dumps(out))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _type_checking_imports(init: Path) -> dict[str, str]:
    """name -> module of the imports inside ``if TYPE_CHECKING:`` of an ``__init__.py``."""
    out: dict[str, str] = {}
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom), f"{init}: only imports under TYPE_CHECKING"
                out.update({a.asname or a.name: imp.module for a in imp.names})
    return out


LAZY = sorted(
    p
    for p in [PACKAGE / "__init__.py", *PACKAGE.glob("*/__init__.py")]
    if _type_checking_imports(p)
)


def _package(init: Path) -> str:
    rel = init.parent.relative_to(PACKAGE.parent)
    return ".".join(rel.parts)


def test_import_turnover_risk_loads_no_heavy_library_and_registers_dask():
    out = _fresh(
        "import sys, turnover_risk\n"
        "from turnover_risk import _engine\n"
        f"out = {{'heavy': [m for m in {HEAVY!r} if m in sys.modules],\n"
        "       'engines': sorted(_engine._LOADERS)}"
    )
    assert out == {"heavy": [], "engines": ["dask"]}


def test_a_name_loads_only_its_own_modules():
    # the panel needs pandas and the rates' window rules, not SciPy, scikit-learn or the report
    out = _fresh(
        "import sys\n"
        "from turnover_risk import build_panel\n"
        "out = [m for m in ('scipy.stats', 'sklearn', 'shap', 'dask', 'turnover_risk.report',"
        " 'turnover_risk.models') if m in sys.modules]"
    )
    assert out == []


def test_the_root_and_the_heavy_subpackages_are_lazy():
    names = {_package(p) for p in LAZY}
    expected = {"turnover_risk", "turnover_risk.engines", "turnover_risk.models"}
    assert expected | {"turnover_risk.panel", "turnover_risk.scoring"} <= names


@pytest.mark.parametrize("init", LAZY, ids=_package)
def test_type_checking_imports_match_the_lazy_names(init):
    package = importlib.import_module(_package(init))
    declared = _type_checking_imports(init)
    for name, module in declared.items():
        assert getattr(package, name) is getattr(importlib.import_module(module), name), name
    eager = {n for n in vars(package) if not n.startswith("__")} - set(declared)
    assert set(package.__all__) <= set(declared) | eager | {"__version__"}
    assert set(package.__all__) <= set(dir(package))


def test_unknown_names_raise_attribute_error_and_subpackages_load_on_access():
    import turnover_risk as tr

    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        tr.no_such_name  # noqa: B018
    assert tr.rates is importlib.import_module("turnover_risk.rates")
    assert "rates" in dir(tr) and "build_panel" in dir(tr)


def test_pickled_0_1_0_names_resolve_in_models():
    from turnover_risk import models
    from turnover_risk.models import _calibration, _pipeline

    assert models._onehot_name is _pipeline._onehot_name
    assert models._SigmoidCalibrator is _calibration._SigmoidCalibrator
    assert models._IsotonicCalibrator is _calibration._IsotonicCalibrator
