"""What keeps ``turnover-risk report`` quick must not change it: the report written with the
worker process (``cli/_report_worker.py``: the register's sections, then a gbm's bootstrap
refits) equals the report written without it, also when
the worker fails or answers nothing, and the help of the command line loads none of the heavy
libraries."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import turnover_risk as tr
from turnover_risk.cli import _report_worker, main
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
def register_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speed")
    tr.write_register(tr.make_register(n_units=10, years=4, random_state=2), folder / "reg")
    return folder / "reg"


def _train(folder, kind, *extra, name=None):
    model = folder.parent / f"{name or kind}.skops"
    args = ["train", str(folder), "--kind", kind, "--out", str(model), "--n-splits", "2"]
    assert main(["--quiet", *args, *extra]) == 0
    return model


@pytest.fixture(scope="module")
def gbm_files(register_folder):
    """A small register folder and a gbm trained on it by the command line."""
    return register_folder, _train(register_folder, "gbm")


@pytest.fixture(scope="module")
def logistic_files(register_folder):
    """The same register folder and a logistic model trained on it by the command line."""
    return register_folder, _train(register_folder, "logistic")


@pytest.fixture(scope="module")
def logistic_without(logistic_files, tmp_path_factory):
    """The logistic model's report written without a worker (the page to compare with)."""
    reg, model = logistic_files
    with pytest.MonkeyPatch.context() as mp:
        out = tmp_path_factory.mktemp("without") / "b.html"
        return _report(reg, model, out, mp, "never")[0]


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


def _read_here(monkeypatch):
    """Record when the report's process reads the register or builds the panel itself (it
    waits for the worker's as long as it takes: this process has imported everything)."""
    from turnover_risk.cli import _model_commands

    monkeypatch.setattr(_report_worker, "INPUTS_WAIT", 120.0)

    read = []
    load, panel_of = _model_commands.load_register, _model_commands._panel_of

    def loaded(path):
        read.append("register")
        return load(path)

    def built(reg, model):
        read.append("panel")
        return panel_of(reg, model)

    monkeypatch.setattr(_model_commands, "load_register", loaded)
    monkeypatch.setattr(_model_commands, "_panel_of", built)
    return read


def _answers(monkeypatch, method: str):
    """Record what ``ReportWorker.<method>`` returns, once per report, in the returned list."""
    got = []
    call = getattr(_report_worker.ReportWorker, method)

    def recorded(self):
        got.append(call(self))
        return got[-1]

    monkeypatch.setattr(_report_worker.ReportWorker, method, recorded)
    return got


def _figures_drawn(monkeypatch):
    """The funnel plots the report worker drew (name -> HTML), per report."""
    return _answers(monkeypatch, "figures")


def _sections_answered(monkeypatch):
    """What the report worker answers (None: failed), per report."""
    return _answers(monkeypatch, "result")


def test_the_logistic_report_with_the_worker_equals_the_report_without(
    logistic_files, tmp_path, monkeypatch
):
    reg, model = logistic_files
    got = _sections_answered(monkeypatch)
    read = _read_here(monkeypatch)
    drawn = _figures_drawn(monkeypatch)
    with_worker, answered = _report(reg, model, tmp_path / "a.html", monkeypatch, "always")
    assert read == []  # the worker's register and panel were used
    assert len(drawn) == 1 and sorted(drawn[0]) == ["funnel", "retro"]  # and its plots
    assert len(answered) == 1  # one worker, closed once
    # it wrote the register's sections and the audit (and no refits for a logistic model)
    assert len(got) == 1 and sorted(got[0]) == ["audit", "rates", "tables"]
    assert answered == [0]
    without, none = _report(reg, model, tmp_path / "b.html", monkeypatch, "never")
    assert none == [] and len(got) == 1  # no worker: nothing asked
    assert read == ["register", "panel"]  # read here
    assert with_worker == without
    # the worker's pieces are in the page, in their places
    assert got[0]["tables"] in without and got[0]["rates"] in without
    assert len(got[0]["audit"]) >= 3 and "\n".join(got[0]["audit"]) in without
    assert 'id="funnel"' in drawn[0]["funnel"] and drawn[0]["funnel"] in without
    assert 'id="funnel-retrospective"' in drawn[0]["retro"] and drawn[0]["retro"] in without
    assert 'id="fairness-audit"' in without and 'id="fairness-plot"' in without


@pytest.mark.parametrize(
    "code",
    [
        "import sys; sys.exit(3)",  # dies at once: no answer
        # answers, but with no section (as when it cannot read a file)
        "import turnover_risk.cli._report_worker as w\n"
        "w._sections = lambda request, register: {}; w._serve()",
        # fails in the middle: an error answer
        "import turnover_risk.cli._report_worker as w\n"
        "def boom(request, register): raise OSError('disk')\n"
        "w._sections = boom; w._serve()",
        # cannot read the register: no register, panel, sections or audit
        "import turnover_risk.cli._common as c\n"
        "def boom(path): raise OSError('disk')\n"
        "c.load_register = boom\n"
        "from turnover_risk.cli._report_worker import _serve; _serve()",
        # cannot draw the funnel plots: the report draws them
        "import turnover_risk.report._group_sections as g\n"
        "def boom(*args): raise MemoryError('no room for a figure')\n"
        "g._funnel_part = g._retro_part = boom\n"
        "from turnover_risk.cli._report_worker import _serve; _serve()",
        # its panel's labelled rows differ from the report's: the audit is not used
        "import turnover_risk.cli._report_worker as w\n"
        "key = w._labelled\n"
        "w._labelled = lambda panel: (key(panel)[0], 'other rows'); w._serve()",
    ],
    ids=["dies", "answers-nothing", "error", "no-register", "no-figures", "other-rows"],
)
def test_a_failing_worker_leaves_the_report_as_without(
    logistic_files, logistic_without, tmp_path, monkeypatch, code, request
):
    reg, model = logistic_files
    got = _sections_answered(monkeypatch)
    monkeypatch.setattr(_report_worker, "CODE", code)
    with_failed, answered = _report(reg, model, tmp_path / "a.html", monkeypatch, "always")
    assert len(answered) == 1
    # what the worker wrote (None: nothing)
    expected = {
        "dies": None,
        "answers-nothing": ["audit"],  # the register was read: the audit could be written
        "error": None,
        "no-register": None,
        "no-figures": ["audit", "rates", "tables"],
        "other-rows": ["rates", "tables"],
    }[request.node.callspec.id]
    assert len(got) == 1 and (got[0] if got[0] is None else sorted(got[0])) == expected
    assert with_failed == logistic_without


def test_a_register_the_worker_cannot_send_is_read_here(
    logistic_files, logistic_without, tmp_path, monkeypatch
):
    # the worker still writes its sections and the audit; the report reads the folder itself
    reg, model = logistic_files
    got = _sections_answered(monkeypatch)
    read = _read_here(monkeypatch)
    code = (
        "import turnover_risk.cli._report_inputs as i\n"
        "def refuse(register, panel): raise ValueError('cannot be sent exactly')\n"
        "i.encode = refuse\n"
        "from turnover_risk.cli._report_worker import _serve; _serve()"
    )
    monkeypatch.setattr(_report_worker, "CODE", code)
    page, answered = _report(reg, model, tmp_path / "a.html", monkeypatch, "always")
    assert read == ["register", "panel"] and len(answered) == 1
    assert sorted(got[0]) == ["audit", "rates", "tables"]
    assert page == logistic_without


def test_a_worker_too_slow_with_the_register_leaves_it_to_the_report(
    logistic_files, logistic_without, tmp_path, monkeypatch
):
    # the report reads the folder itself; the worker's frame is read (and dropped) later
    reg, model = logistic_files
    got = _sections_answered(monkeypatch)
    read = _read_here(monkeypatch)
    monkeypatch.setattr(_report_worker, "INPUTS_WAIT", 0.0)
    code = (
        "import time\n"
        "import turnover_risk.cli._report_inputs as i\n"
        "encode = i.encode\n"
        "def slow(register, panel):\n"
        "    time.sleep(3)\n"
        "    return encode(register, panel)\n"
        "i.encode = slow\n"
        "from turnover_risk.cli._report_worker import _serve; _serve()"
    )
    monkeypatch.setattr(_report_worker, "CODE", code)
    page, answered = _report(reg, model, tmp_path / "a.html", monkeypatch, "always")
    assert read == ["register", "panel"]
    assert sorted(got[0]) == ["audit", "rates", "tables"]
    assert page == logistic_without


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


def test_an_answer_larger_than_the_pipe_neither_blocks_nor_changes_the_report(
    logistic_files, logistic_without, tmp_path, monkeypatch
):
    # the sections' answer waits in the pipe until the report reads it, at its end; the
    # worker meanwhile builds the panel and takes the risks for the audit
    reg, model = logistic_files
    got = _sections_answered(monkeypatch)
    code = (
        "import turnover_risk.cli._report_worker as w\n"
        "sections = w._sections\n"
        "def padded(request, register):\n"
        "    return {**sections(request, register), 'padding': 'x' * 1_000_000}\n"
        "w._sections = padded; w._serve()"
    )
    monkeypatch.setattr(_report_worker, "CODE", code)
    with_worker, _ = _report(reg, model, tmp_path / "a.html", monkeypatch, "always")
    assert len(got[0]["padding"]) == 1_000_000 and "audit" in got[0]
    assert with_worker == logistic_without


def test_a_gbm_with_its_refits_kept_reports_as_one_that_refits(gbm_files, tmp_path, monkeypatch):
    # 'train' keeps a gbm's refits (groups/_refit_store.py); the report then makes none, and
    # its worker writes the audit as for a logistic model. The page is the one of the same
    # gbm refitting (gbm_files keeps 10 refits, the report asks for 6: it refits).
    from turnover_risk.groups import _refit_store

    reg, refitting = gbm_files
    kept = _train(reg, "gbm", "--refits", "6", name="gbm-kept")
    without, _ = _report(reg, refitting, tmp_path / "b.html", monkeypatch, "never")
    got = _sections_answered(monkeypatch)
    drawn = _figures_drawn(monkeypatch)
    with_kept, answered = _report(reg, kept, tmp_path / "a.html", monkeypatch, "always")
    assert answered == [0] and sorted(got[0]) == ["audit", "rates", "tables"]
    assert sorted(drawn[0]) == ["funnel", "retro"]
    assert with_kept == without
    # kept refits that are not these (another register, say): the worker refits after the
    # audit, between the funnel plots it is asked to draw, and the page is still the same
    monkeypatch.setattr(_refit_store, "refit_key", lambda *args: "other refits")
    got.clear()
    drawn.clear()
    missed, answered = _report(reg, kept, tmp_path / "c.html", monkeypatch, "always")
    assert answered[0] >= 1 and "audit" in got[0] and sorted(drawn[0]) == ["funnel", "retro"]
    assert missed == without


def test_train_keeps_the_refits_asked_for(register_folder, tmp_path, capsys):
    from turnover_risk.cli._model_commands import _manifest_hint

    args = ["train", str(register_folder), "--kind", "gbm", "--n-splits", "2"]
    assert main(["--quiet", *args, "--out", str(tmp_path / "m.skops"), "--refits", "1"]) == 2
    assert not (tmp_path / "m.skops").exists()
    capsys.readouterr()
    assert main(["--quiet", *args, "--out", str(tmp_path / "m.skops"), "--refits", "0"]) == 0
    assert _manifest_hint(str(tmp_path / "m.skops"))["stored_refits"] is None
    assert "bootstrap refits" not in capsys.readouterr().out
    assert main(["--quiet", *args, "--out", str(tmp_path / "k.skops"), "--refits", "3"]) == 0
    stored = _manifest_hint(str(tmp_path / "k.skops"))["stored_refits"]
    assert stored == {"n_boot": 3, "random_state": 0, "refits": 3}
    assert "with 3 bootstrap refits" in capsys.readouterr().out
