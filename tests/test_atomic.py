"""The writing of every output (turnover_risk._atomic): complete or absent, never clobbering,
never an input, leftovers of killed runs swept."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from turnover_risk._atomic import (
    atomic_output,
    check_target,
    publish,
    refuse_inputs,
    sweep_leftovers,
    temp_path,
)
from turnover_risk._errors import TurnoverRiskInputError


def test_temporary_name_is_hidden_in_the_target_folder(tmp_path):
    tmp = temp_path(tmp_path / "risk.parquet")
    assert tmp.parent == tmp_path
    name, rest = tmp.name[1:].split(".parquet.", 1)
    assert tmp.name.startswith(".") and name == "risk" and rest.endswith(".partial")
    pid, rand = rest.removesuffix(".partial").split("-")
    assert int(pid) == os.getpid() and len(rand) == 8
    assert temp_path(tmp_path / "risk.parquet") != tmp


def test_publish_never_replaces_without_overwrite(tmp_path):
    out = tmp_path / "a.csv"
    out.write_text("first")
    tmp = temp_path(out)
    tmp.write_text("second")
    with pytest.raises(FileExistsError, match="already exists"):
        publish(tmp, out)
    assert out.read_text() == "first" and not tmp.exists()
    tmp = temp_path(out)
    tmp.write_text("second")
    publish(tmp, out, overwrite=True)
    assert out.read_text() == "second" and sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_publish_folder_never_replaces_without_overwrite(tmp_path):
    out = tmp_path / "rows"
    for content, overwrite in (("one", False), ("two", True)):
        tmp = temp_path(out)
        tmp.mkdir()
        (tmp / "part-0.parquet").write_text(content)
        publish(tmp, out, overwrite=overwrite)
        assert (out / "part-0.parquet").read_text() == content
    tmp = temp_path(out)
    tmp.mkdir()
    with pytest.raises(FileExistsError):
        publish(tmp, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows"]


def test_many_threads_publishing_one_name_have_one_winner(tmp_path):
    out = tmp_path / "x.txt"
    results: list[str] = []

    def run(i: int) -> None:
        tmp = temp_path(out)
        tmp.write_text(str(i))
        try:
            publish(tmp, out)
            results.append("won")
        except FileExistsError:
            results.append("lost")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["lost"] * 15 + ["won"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]


def test_atomic_output_leaves_nothing_on_error(tmp_path):
    out = tmp_path / "t.csv"
    with pytest.raises(RuntimeError), atomic_output(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("stopped")
    assert list(tmp_path.iterdir()) == []


def test_an_input_is_refused_by_any_name(tmp_path):
    src = tmp_path / "panel.parquet"
    src.write_text("data")
    (tmp_path / "hard.parquet").hardlink_to(src)
    (tmp_path / "soft.parquet").symlink_to(src)
    for out in ("panel.parquet", "hard.parquet", "soft.parquet", "./sub/../panel.parquet"):
        with pytest.raises(TurnoverRiskInputError, match="is the input"):
            refuse_inputs(tmp_path / out, [src])
    folder = tmp_path / "panels"
    folder.mkdir()
    (folder / "p.parquet").write_text("x")
    with pytest.raises(TurnoverRiskInputError, match="read back"):
        refuse_inputs(folder / "new.parquet", [folder])
    with pytest.raises(TurnoverRiskInputError, match="replace a file"):
        refuse_inputs(folder / "p.parquet", [folder])
    refuse_inputs(folder / "rates.csv", [folder])  # a new CSV beside the inputs is fine
    refuse_inputs(tmp_path / "other.parquet", [src, folder, None])


def test_check_target(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match="folder is in the way"):
        check_target(tmp_path / "d")
    assert check_target(tmp_path / "d", overwrite=True, folder_ok=True) == tmp_path / "d"
    (tmp_path / "f.csv").write_text("x")
    with pytest.raises(FileExistsError, match="already exists"):
        check_target(tmp_path / "f.csv")
    assert check_target(tmp_path / "new" / "g.csv").parent.is_dir()


def test_leftovers_of_dead_processes_are_removed_and_live_ones_kept(tmp_path, caplog):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(done.stdout)  # a process that has ended
    stale = tmp_path / f".out.csv.{dead}-0123abcd.partial"
    stale.write_text("half")
    stale_dir = tmp_path / f".rows.{dead}-89abcdef.partial"
    stale_dir.mkdir()
    (stale_dir / "part-0.parquet").write_text("x")
    live = tmp_path / f".out.csv.{os.getpid()}-0123abcd.partial"
    live.write_text("mine")
    other = tmp_path / ".notes.partial"  # not our pattern
    other.write_text("keep")
    with caplog.at_level("WARNING", logger="turnover_risk"):
        removed = sweep_leftovers(tmp_path)
    assert sorted(removed) == sorted([stale, stale_dir])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])
    assert len(caplog.records) == 2 and "left by a stopped run" in caplog.records[0].message
