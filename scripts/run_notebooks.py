"""Execute the notebooks top to bottom in a fresh kernel and keep their outputs in the files.

Run it after changing the library or a notebook, so the committed notebooks read well on a code
host without running:

    make notebooks            # or: python scripts/run_notebooks.py [notebooks/01_quickstart.ipynb ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def execute(path: Path, *, timeout: int = 600, write: bool = True) -> float:
    """Run one notebook in a fresh kernel with the notebook's folder as working directory."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    if write:
        nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for p in paths:
        secs = execute(p)
        print(f"{p.name}: executed in {secs:.1f} s, outputs saved")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
