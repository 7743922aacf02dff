"""The notebooks run top to bottom in a fresh kernel and use only the public API.

Each notebook is executed with nbclient in a new ``python3`` kernel of the interpreter running
the tests (ipykernel's native kernel) with a temporary folder as working directory; the committed file is not changed. A
failing cell fails the test with the cell's source and traceback. The static checks are cheap:
the notebooks import nothing private, touch no ``sys.path``, are in sync with their generator
(``scripts/build_notebooks.py``) and carry their outputs (``make notebooks``).
"""

from __future__ import annotations

import ast
import re
import runpy
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import turnover_risk as tr

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = [
    "01_quickstart.ipynb",
    "02_reproduce_turnover_statistics.ipynb",
    "03_batch_scoring.ipynb",
]
# Modules a notebook may import: the library, display tools, the standard library for files,
# and dask.distributed to start the local cluster of the batch-scoring notebook.
ALLOWED_IMPORTS = {
    "turnover_risk",
    "pandas",
    "matplotlib",
    "matplotlib.pyplot",
    "json",
    "shutil",
    "tempfile",
    "warnings",
    "pathlib",
    "dask.distributed",
}
CELL_TIMEOUT = 600  # seconds per cell; the whole notebook takes well under a minute


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def _code(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_a_fresh_kernel(name, tmp_path, monkeypatch):
    nb = _read(name)
    # One OpenMP thread: on a shared 2-core machine gradient boosting with a thread per core
    # is many times slower (same results).
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    # The native "python3" kernel of the interpreter running the tests (ipykernel's own spec),
    # never a same-named kernel registered in the user's Jupyter folders for another Python.
    km = AsyncKernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[])
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT,
        record_timing=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    try:
        client.execute(cleanup_kc=True)  # shut the kernel down afterwards
    except CellExecutionError as err:
        pytest.fail(f"{name}: a cell failed\n{err}", pytrace=False)
    elapsed = time.perf_counter() - start
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors, f"{name}: error outputs {[e.ename for e in errors]}"
    assert all(c.execution_count is not None for c in nb.cells if c.cell_type == "code")
    assert elapsed < 180, f"{name} took {elapsed:.0f} s; a notebook must run in under 3 minutes"
    assert not list(tmp_path.iterdir()), "a notebook wrote into its working directory"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_imports_only_public_modules(name):
    for source in _code(_read(name)):
        assert "sys.path" not in source, f"{name}: no sys.path changes in notebooks"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                assert module in ALLOWED_IMPORTS, f"{name} imports {module!r}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_calls_only_public_names(name):
    used = set()
    for source in _code(_read(name)):
        used |= set(re.findall(r"\btr\.([A-Za-z_]\w*)", source))
    assert used, f"{name} does not use turnover_risk"
    private = sorted(n for n in used if n not in tr.__all__)
    assert not private, f"{name} uses names that are not in turnover_risk.__all__: {private}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_matches_generator_and_has_outputs(name):
    builders = runpy.run_path(str(ROOT / "scripts" / "build_notebooks.py"))["NOTEBOOK_BUILDERS"]
    expected = [(c.cell_type, c.source) for c in builders[name]()]
    nb = _read(name)
    assert [(c.cell_type, c.source) for c in nb.cells] == expected, (
        f"{name} differs from scripts/build_notebooks.py; edit the generator, then run "
        "`python scripts/build_notebooks.py && make notebooks`"
    )
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells), (
        f"{name} is committed without outputs; run `make notebooks`"
    )
    assert not [o for c in code_cells for o in c.outputs if o.output_type == "error"]
    assert (NOTEBOOK_DIR / name).stat().st_size < 1_500_000, f"{name} outputs are too large"
