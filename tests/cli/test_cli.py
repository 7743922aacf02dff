"""The command line: exit codes, summaries and problem reports."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from turnover_risk import _process
from turnover_risk.cli import build_parser, main

EMP = "employee_id,unit_id,start_date,end_date,fte\n"


def _folder(tmp_path, rows):
    (tmp_path / "employment.csv").write_text(EMP + "".join(rows))
    return str(tmp_path)


def test_validate_clean_folder_exits_0(tmp_path, capsys):
    path = _folder(tmp_path, ["a,u1,2020-01-01,,1\n", "b,u1,2020-01-01,2020-06-30,0.5\n"])
    assert main(["validate", path]) == 0
    out = capsys.readouterr().out
    assert "No problems" in out and "employment" in out


def test_validate_with_problems_exits_2_and_writes_report(tmp_path, capsys):
    path = _folder(tmp_path, ["a,u1,2020-01-01,,1\n", "b,u1,2020-01-01,2019-06-30,1.5\n"])
    report = tmp_path / "problems.csv"
    assert main(["validate", path, "--report", str(report)]) == 2
    out = capsys.readouterr().out
    assert "2 problems" in out and "out_of_range" in out and str(report) in out
    problems = pd.read_csv(report)
    assert sorted(problems["rule"]) == ["end_before_start", "out_of_range"]
    assert problems["line"].tolist() == [3, 3]


def test_missing_folder_is_bad_input(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("turnover-risk: register folder") and "does not exist" in err


def test_unknown_subcommand_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_every_design_subcommand_that_exists_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"validate", "demo"} <= set(sub.choices)
    for name, p in sub.choices.items():
        assert p.description or p.format_help(), name


def test_python_dash_m_runs_the_cli(tmp_path):
    path = _folder(tmp_path, ["a,u1,2020-01-01,,1\n"])
    done = subprocess.run(
        [sys.executable, "-m", "turnover_risk", "validate", path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "No problems" in done.stdout


_PROGRAM = """
import atexit, gc, sys
from turnover_risk.cli import main
def at_exit():
    print("frozen at exit:", gc.get_freeze_count() > 0, file=sys.stderr)
    print("thresholds:", gc.get_threshold(), file=sys.stderr)
atexit.register(at_exit)
sys.argv = ["turnover-risk", *sys.argv[1:]]
sys.exit(main())
"""


@pytest.mark.parametrize("rows, code", [(["a,u1,2020-01-01,,1\n"], 0), (["a,u9,x,,1\n"], 2)])
def test_program_freezes_its_objects_at_the_end_and_keeps_exit_code_and_handlers(
    tmp_path, rows, code
):
    # as the console script runs it (main() without argv): exit handlers run after the
    # freeze, the exit code and every line of output are kept
    path = _folder(tmp_path, rows)
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, "validate", path],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == code, done.stderr
    assert "frozen at exit: True" in done.stderr
    assert f"thresholds: {_process.GC_THRESHOLD}" in done.stderr
    assert ("No problems" in done.stdout) == (code == 0)


def test_main_called_by_a_program_does_not_freeze_its_objects(tmp_path, capsys):
    # a notebook or a user's program calls main(argv): its garbage collector is left alone
    before = gc.get_freeze_count(), gc.get_threshold()
    assert main(["validate", _folder(tmp_path, ["a,u1,2020-01-01,,1\n"])]) == 0
    assert (gc.get_freeze_count(), gc.get_threshold()) == before


def test_rates_on_an_extract_without_metadata_warns_in_one_line_and_takes_start(tmp_path, capsys):
    """The sample's CSV tables without metadata.json look like an HR extract: hires from 1993,
    no exit before 2019. The CLI prints the inference as one line on stderr (no Python file
    and source line) and starts at 2019; --start overrides it without a warning."""
    import shutil

    src = Path(__file__).resolve().parents[2] / "data" / "sample"
    folder = tmp_path / "extract"
    folder.mkdir()
    for f in src.glob("*.csv"):
        shutil.copy(f, folder / f.name)
    out = tmp_path / "rates.csv"
    assert main(["rates", str(folder), "--out", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("turnover-risk: DataQualityWarning: turnover_rate:")
    assert "left-truncated" in err[0]
    assert pd.read_csv(out)["period"].tolist() == [2019, 2020, 2021, 2022, 2023]

    out2 = tmp_path / "rates_from_1993.csv"
    assert main(["rates", str(folder), "--start", "1993-01-01", "--out", str(out2)]) == 0
    assert "Warning" not in capsys.readouterr().err
    assert pd.read_csv(out2)["period"].min() == 1993
