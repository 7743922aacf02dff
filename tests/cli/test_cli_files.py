"""Files that cannot hurt, tried as an attacker and as an unlucky operator would: real signals
sent to a running ``turnover-risk score``, two runs racing for one output, a read-only folder, a
full disk, a folder in the way, an output that is the input through a symlink, a crafted pickle.
"""

from __future__ import annotations

import os
import pickle
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.cli import main
from turnover_risk.privacy import pseudonymise

CLI = [sys.executable, "-m", "turnover_risk", "--quiet"]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A small panel (one file, and a folder of copies for slow runs) and a saved model."""
    root = tmp_path_factory.mktemp("files")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = tr.build_panel(tr.make_register(n_units=4, years=2, random_state=1))
        model = tr.TurnoverRiskModel(random_state=0).fit(panel)
    panel.to_parquet(root / "panel.parquet")
    model.save(root / "model.skops")
    copies = root / "copies"
    copies.mkdir()
    for i in range(12):
        shutil.copy(root / "panel.parquet", copies / f"part-{i:02d}.parquet")
    return root


def _partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def _start(args, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


def _wait_for_partial(folder: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if _partials(folder):
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before writing: {proc.communicate()}")
        time.sleep(0.01)
    proc.kill()
    raise AssertionError("no temporary file appeared")


def _slow_row_level(work: Path, out: Path) -> list:
    return ["score", work / "model.skops", work / "copies", "--out", out, "--row-level",
            "--batch-rows", "4"]  # fmt: skip


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_row_level_scoring_leaves_nothing(work, tmp_path, sig):
    out = tmp_path / "rows.parquet"
    proc = _start(_slow_row_level(work, out))
    _wait_for_partial(tmp_path, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert f"stopped by {sig.name}; temporary files removed" in err
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(work, tmp_path):
    out = tmp_path / "rows.parquet"
    proc = _start(_slow_row_level(work, out))
    _wait_for_partial(tmp_path, proc)
    proc.kill()  # SIGKILL: no handler runs
    proc.wait(timeout=60)
    (leftover,) = _partials(tmp_path)
    assert leftover.startswith(".rows.parquet.") and str(proc.pid) in leftover
    done = subprocess.run(
        [*CLI, "score", work / "model.skops", work / "panel.parquet", "--out", out],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"removed {tmp_path / leftover}" in done.stderr
    notices = [x for x in done.stderr.splitlines() if "left by a stopped run" in x]
    assert len(notices) == 1  # one line for the leftover (the drift warning may follow)
    assert _outputs(tmp_path) == ["rows.parquet"]


def test_two_runs_to_one_output_have_exactly_one_winner(work, tmp_path):
    out = tmp_path / "units.parquet"
    args = ["score", work / "model.skops", work / "copies", "--out", out, "--batch-rows", "64"]
    procs = [_start(args) for _ in range(2)]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 3], results
    loser = next(err for code, err in results if code == 3)
    assert (
        "already exists" in loser
        and "--overwrite" in loser
        and str(out) in loser
        and len(loser.splitlines()) == 1
    )
    assert _outputs(tmp_path) == ["units.parquet"]
    assert len(pd.read_parquet(out)) > 0


def _without_root_privileges() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def test_a_read_only_folder_is_an_environment_error(work, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        done = subprocess.run(
            [*_without_root_privileges(), *CLI, "score", work / "model.skops",
             work / "panel.parquet", "--out", folder / "units.csv"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        folder.chmod(0o755)
    assert done.returncode == 3, done.stderr
    (line,) = done.stderr.splitlines()
    assert "Permission denied" in line and str(folder) in line
    assert list(folder.iterdir()) == []


def test_a_full_disk_is_an_environment_error_and_leaves_nothing(work, tmp_path):
    def limit():  # the child may write files of at most 64 KB: as on a disk that fills up
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    out = tmp_path / "rows.parquet"
    done = subprocess.run(
        [*CLI, "score", work / "model.skops", work / "copies", "--out", out, "--row-level",
         "--batch-rows", "16"],
        capture_output=True, text=True, timeout=300, preexec_fn=limit,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    (line,) = done.stderr.splitlines()
    assert "File too large" in line and "disk or your quota is full" in line
    assert str(out) in line
    assert list(tmp_path.iterdir()) == []


def test_a_folder_in_the_way_is_an_environment_error(work, tmp_path, capsys):
    out = tmp_path / "units.csv"
    out.mkdir()
    assert main(["score", str(work / "model.skops"), str(work / "panel.parquet"),
                 "--out", str(out)]) == 3  # fmt: skip
    err = capsys.readouterr().err
    assert "folder is in the way" in err and str(out) in err
    assert list(out.iterdir()) == []


def test_an_output_that_is_the_input_through_a_symlink_is_refused(work, tmp_path, capsys):
    panel = tmp_path / "panel.parquet"
    shutil.copy(work / "panel.parquet", panel)
    before = panel.read_bytes()
    link = tmp_path / "link.parquet"
    link.symlink_to(panel)
    code = main(["score", str(work / "model.skops"), str(panel), "--out", str(link),
                 "--overwrite"])  # fmt: skip
    assert code == 2
    assert "is the input" in capsys.readouterr().err
    assert panel.read_bytes() == before and link.is_symlink()


def test_an_existing_output_is_kept_without_overwrite(work, tmp_path, capsys):
    out = tmp_path / "units.csv"
    out.write_text("mine\n")
    args = ["score", str(work / "model.skops"), str(work / "panel.parquet"), "--out", str(out)]
    assert main(args) == 3
    assert (
        "already exists; pass overwrite=True (CLI: --overwrite)" in capsys.readouterr().err
        and out.read_text() == "mine\n"
    )
    assert main([*args, "--overwrite"]) == 0
    assert "expected_leavers" in out.read_text()


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path(self.marker).write_text, ("code ran",))


def test_score_never_runs_a_crafted_pickle(work, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "model.joblib"
    evil.write_bytes(pickle.dumps(_Evil(str(marker))))
    done = subprocess.run(
        [*CLI, "score", evil, work / "panel.parquet", "--out", tmp_path / "out.csv"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    assert "it is a pickle" in done.stderr and "migrate-model --trust" in done.stderr
    assert not marker.exists() and not (tmp_path / "out.csv").exists()


def test_migrate_model_rewrites_a_0_1_0_file(tmp_path, capsys):
    import sklearn

    data = Path(__file__).resolve().parents[1] / "models" / "data"
    old = data / "model-0.1.0-logistic.joblib"
    if '"sklearn_version": "' + sklearn.__version__ not in old.with_suffix(".json").read_text():
        pytest.skip("the 0.1.0 pickle was written by another scikit-learn")
    out = tmp_path / "model.skops"
    assert main(["migrate-model", "--trust", str(old), "--out", str(out)]) == 0
    assert "loads without running code" in capsys.readouterr().out
    assert tr.load_model(out).kind == "logistic"  # no trusted=True needed now
    assert main(["migrate-model", "--trust", str(old), "--out", str(out)]) == 3  # exists


# --------------------------------------------------------------------------------------------
# exit codes, problem reports, ids
# --------------------------------------------------------------------------------------------


def test_an_error_inside_pandas_is_internal_with_the_traceback_in_a_file(
    work, tmp_path, capsys, monkeypatch
):
    def broken(*a, **k):
        return pd.DataFrame({"a": [1]}).loc["no such row"]  # KeyError raised inside pandas

    monkeypatch.setattr("turnover_risk.scoring.score_dataset", broken)
    out = tmp_path / "units.csv"
    code = main(["score", str(work / "model.skops"), str(work / "panel.parquet"),
                 "--out", str(out)])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "internal error (KeyError)" in err
    (trace,) = tmp_path.glob("turnover-risk-error-*.txt")
    assert str(trace) in err and stat.S_IMODE(trace.stat().st_mode) == 0o600
    assert "no such row" in trace.read_text() and "Traceback" in trace.read_text()


def test_a_deliberate_library_error_is_bad_input(work, tmp_path, capsys):
    code = main(["score", str(work / "model.skops"), str(work / "panel.parquet"),
                 "--out", str(tmp_path / "u.csv"), "--by", "no_such_column"])  # fmt: skip
    assert code == 2, capsys.readouterr()


EMP = "employee_id,unit_id,start_date,end_date,fte\n"


def test_problem_reports_are_private_unique_and_name_no_ids(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TURNOVER_RISK_KEY", raising=False)
    reg = tmp_path / "reg"
    reg.mkdir()
    (reg / "employment.csv").write_text(EMP + "E000370,u1,2020-01-01,,1\n")
    (reg / "absences.csv").write_text(
        "employee_id,start_date,end_date,certification\nE999999,2020-02-01,2020-02-03,self\n"
    )
    reports = tmp_path / "reports"
    for _ in range(2):  # two runs in the same second
        assert main(["validate", str(reg), "--problems", str(reports)]) == 2
    out = capsys.readouterr().out
    files = sorted(reports.iterdir())
    assert len(files) == 2  # unique names: the second did not overwrite the first
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert "unknown_employee" in out and "E999999" not in out
    report = files[0].read_text()  # names file, line and column; never the id itself
    assert "unknown_employee" in report and "absences" in report and "E999999" not in report
    monkeypatch.setenv("TURNOVER_RISK_KEY", "k")
    assert main(["validate", str(reg), "--problems", str(reports)]) == 2
    assert "E999999" not in capsys.readouterr().out


def test_pseudonymise_replaces_ids_by_keyed_pseudonyms(work, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TURNOVER_RISK_KEY", raising=False)
    model = tr.load_model(work / "model.skops")
    monkeypatch.setenv("TURNOVER_RISK_KEY", "secret")  # with the key set, models must be signed
    model.save(tmp_path / "signed.skops")
    monkeypatch.delenv("TURNOVER_RISK_KEY")
    args = ["score", str(tmp_path / "signed.skops"), str(work / "panel.parquet"), "--row-level"]
    assert main([*args, "--out", str(tmp_path / "p.parquet"), "--pseudonymise"]) == 2
    assert "TURNOVER_RISK_KEY" in capsys.readouterr().err
    monkeypatch.setenv("TURNOVER_RISK_KEY", "secret")
    assert main([*args, "--out", str(tmp_path / "clear.parquet")]) == 0
    assert main([*args, "--out", str(tmp_path / "p.parquet"), "--pseudonymise"]) == 0
    clear = pd.read_parquet(tmp_path / "clear.parquet")
    pseudo = pd.read_parquet(tmp_path / "p.parquet")
    expected = pseudonymise(clear, "employee_id", "secret")
    assert list(pseudo["employee_id"]) == list(expected["employee_id"])
    assert not set(pseudo["employee_id"]) & set(clear["employee_id"])
    pd.testing.assert_series_equal(pseudo["risk"], clear["risk"])
    assert _outputs(tmp_path) == ["clear.parquet", "p.parquet", "signed.skops"]


def _outputs(folder):
    """The outputs in a folder, without the companions a score run writes beside them (the
    drift table, a problem report of out-of-range inputs, a model card)."""
    companion = (".drift.csv", ".card.md", ".card.json")
    return sorted(
        p.name
        for p in folder.iterdir()
        if not p.name.endswith(companion) and not p.name.startswith("turnover-risk-")
    )


def test_help_imports_no_pandas_and_no_library():
    """The CLI modules import only the standard library (the root package is stubbed so that
    only cli/ is measured: making ``import turnover_risk`` itself lazy is a separate job)."""
    src = Path(tr.__file__).parent
    code = (
        "import sys, types\n"
        f"pkg = types.ModuleType('turnover_risk'); pkg.__path__ = [{str(src)!r}]\n"
        "sys.modules['turnover_risk'] = pkg\n"
        "import turnover_risk.cli._main as m\n"
        "parser = m.build_parser()\n"
        "heavy = [n for n in ('pandas', 'numpy', 'sklearn', 'pyarrow', 'turnover_risk.data',"
        " 'turnover_risk.models') if n in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_problems_of_a_parquet_register_are_described_without_line_numbers(tmp_path, capsys):
    emp = pd.DataFrame(
        {
            "employee_id": ["E1", "E2"],
            "unit_id": ["u1", "u1"],
            "start_date": pd.to_datetime(["2020-01-01", "2020-01-01"]),
            "end_date": pd.to_datetime([None, None]),
            "fte": [1.0, 7.0],  # out of range
        }
    )
    reg = tmp_path / "reg"
    reg.mkdir()
    emp.to_parquet(reg / "employment.parquet")
    assert main(["validate", str(reg), "--problems", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "table employment" in out and "row 1, column fte: out_of_range (value '7.0')" in out
