"""The README's Python tour runs as written (on the embedded sample)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.slow
def test_readme_tour_runs(tmp_path, monkeypatch):
    blocks = _python_blocks()
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(tmp_path)
    code = "\n".join(blocks)
    # the tour reads a folder of the user's; here it is the sample written to disk
    import turnover_risk as tr

    tr.write_register(tr.load_sample(), tmp_path / "path" / "to" / "folder", format="csv")
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert (tmp_path / "report.html").stat().st_size > 10_000
    assert (tmp_path / "model.skops").exists()
