"""What keeps ``turnover-risk report`` quick must not change it: the report written with the
worker process that shares a gbm's bootstrap refits equals the report written without it, and
the help of the command line loads none of the heavy libraries."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import turnover_risk as tr
from turnover_risk.cli import main
from turnover_risk.groups import _refit_worker

HEAVY = ("pandas", "scipy", "sklearn", "skops", "shap", "matplotlib", "numba", "pyarrow")


@pytest.mark.parametrize("argv", [["--help"], ["report", "--help"], ["flag", "--help"]])
def test_help_in_a_fresh_process_loads_no_heavy_library(argv):
    code = (
        "import json, sys\n"
        "from turnover_risk.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


@pytest.fixture(scope="module")
def gbm_files(tmp_path_factory):
    """A small register folder and a gbm trained on it by the command line."""
    folder = tmp_path_factory.mktemp("speed")
    tr.write_register(tr.make_register(n_units=10, years=4, random_state=2), folder / "reg")
    model = folder / "gbm.skops"
    args = ["train", str(folder / "reg"), "--kind", "gbm", "--out", str(model), "--n-splits", "2"]
    assert main(["--quiet", *args]) == 0
    return folder / "reg", model


def _report(reg, model, out, monkeypatch, when):
    monkeypatch.setattr(_refit_worker, "WHEN", when)
    answered = []
    close = _refit_worker._Worker.close

    def counted(self):
        answered.append(self.done)
        close(self)

    monkeypatch.setattr(_refit_worker._Worker, "close", counted)
    argv = ["--quiet", "report", str(reg), "--model", str(model), "--out", str(out)]
    assert main([*argv, "--lang", "en", "--n-boot", "6"]) == 0
    # the date of the run is the one line allowed to differ
    text = re.sub(r'<p class="meta">.*?</p>', "", out.read_text(encoding="utf-8"))
    return text, answered


def test_the_report_with_the_refit_worker_equals_the_report_without(
    gbm_files, tmp_path, monkeypatch
):
    reg, model = gbm_files
    with_worker, answered = _report(reg, model, tmp_path / "a.html", monkeypatch, "always")
    assert len(answered) == 1  # the worker was started and closed once
    without, none = _report(reg, model, tmp_path / "b.html", monkeypatch, "never")
    assert none == []
    assert with_worker == without
    assert "<section" in without and 'id="groups"' in without


def test_the_kind_hint_reads_the_manifest_without_loading_the_model(gbm_files, tmp_path):
    from turnover_risk.cli._model_commands import MANIFEST_ENTRY, _model_kind_hint
    from turnover_risk.models._safe_format import MANIFEST_ENTRY as SAVED_AS

    assert MANIFEST_ENTRY == SAVED_AS
    _, model = gbm_files
    assert _model_kind_hint(str(model)) == "gbm"
    junk = tmp_path / "junk.skops"
    junk.write_bytes(b"not a zip")
    assert _model_kind_hint(str(junk)) is None
    assert _model_kind_hint(None) is None
    assert _model_kind_hint(str(tmp_path / "missing.skops")) is None
