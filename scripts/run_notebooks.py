"""Execute the notebooks top to bottom in a fresh kernel and keep their outputs in the files.

Run it after changing the library or a notebook, so the committed notebooks read well on a code
host without running:

    make notebooks            # or: python scripts/run_notebooks.py [notebooks/01_quickstart.ipynb ...]

The cell texts live in ``scripts/build_notebooks.py``; after editing one there, run
``python scripts/build_notebooks.py`` first, then this script.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def execute(path: Path, *, timeout: int = 600, write: bool = True) -> float:
    """Run one notebook in a fresh kernel with the notebook's folder as working directory.

    The kernel is ipykernel's native ``python3`` kernel of the interpreter running this script
    (the project's virtual environment), never a same-named kernel registered for another
    Python in the user's Jupyter folders.
    """
    nb = nbformat.read(path, as_version=4)
    km = AsyncKernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[])
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        record_timing=False,  # no per-cell timestamps: a re-run only changes what really changed
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute(cleanup_kc=True)  # shut the kernel down afterwards
    elapsed = time.perf_counter() - start
    if write:
        nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    # One OpenMP thread per kernel: on a busy machine, scikit-learn's gradient boosting with
    # one thread per core is many times slower than with one thread (the results are the same).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    paths = [Path(a) for a in argv] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for p in paths:
        secs = execute(p)
        print(f"{p.name}: executed in {secs:.1f} s, outputs saved")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
