"""The extract corpus (``tests/data/extracts``): every case through read_register and the CLI.

Each case is one small file shaped like an export of an HR, case-management or survey system;
``cases.toml`` says what it must give: a value, or a problem whose sentence names the file,
the physical line (or row), the column, the value and the fix. Nothing may crash with a pandas
or pyarrow message, no message may show an employee id, and the CLI exits with 2 on bad input.
"""

from __future__ import annotations

import shutil
import tomllib
import warnings
from pathlib import Path

import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.cli._main import main

HERE = Path(__file__).parent / "extracts"
CASES = tomllib.loads((HERE / "cases.toml").read_text(encoding="utf-8"))["case"]
FOREIGN = (
    "Traceback",
    "OutOfBounds",
    "Out of bounds",
    "Arrow",
    "pyarrow",
    "ParserError",
    "Error tokenizing",
    "C error",
    "unhashable",
    "Mixed timezones",
    "internal error",
    "UnicodeDecodeError",
    "codec can't decode",
)


def _folder(case: dict, tmp_path: Path) -> Path:
    """The base register with the case's file in place of the base table of that name."""
    folder = tmp_path / case["name"]
    shutil.copytree(HERE / "_base", folder)
    for f in (HERE / case["name"]).iterdir():
        for other in folder.glob(f"{f.stem}.*"):
            other.unlink()
        shutil.copy(f, folder / f.name)
    return folder


def _value(reg: tr.Register, check: dict) -> object:
    v = getattr(reg, check["table"])[check["column"]].iloc[check["row"]]
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if v is pd.NaT or (check["value"] == "open" and pd.isna(v)):
        return "open"
    return v


def _clean(text: str) -> None:
    for marker in FOREIGN:
        assert marker not in text, f"{marker!r} leaked into: {text}"
    assert "E000" not in text, f"an employee id is shown in: {text}"


def test_every_case_folder_is_in_the_manifest() -> None:
    folders = {p.name for p in HERE.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    assert folders == {c["name"] for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_through_read_register(case: dict, tmp_path: Path) -> None:
    folder = _folder(case, tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = tr.read_register(folder, errors="quarantine")
    said = [str(w.message) for w in caught]
    for text in said:
        _clean(text)
    if "warns" in case:
        assert any(case["warns"] in s for s in said), said
    else:
        assert not said, said
    counts = result.report.counts
    assert (counts["rows_read"] == counts["rows_kept"] + counts["rows_rejected"]).all()
    if case["outcome"] == "ok":
        assert result.report.ok, result.report.first(3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reg = tr.read_register(folder)
        for key in ("check", "also"):
            if key in case:
                assert _value(reg, case[key]) == case[key]["value"], case[key]
        return
    problems = result.report.problems
    hit = problems[problems["rule"] == case["rule"]]
    if "line" in case:
        hit = hit[hit["line"] == case["line"]]
    if "row" in case:
        hit = hit[hit["row"] == case["row"]]
    if "column" in case:
        hit = hit[hit["column"] == case["column"]]
    assert len(hit), problems.to_string()
    sentence = tr.data._validation._describe(next(hit.itertuples(index=False)))
    for part in case["says"]:
        assert part in sentence, (part, sentence)
    _clean(sentence)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(tr.DataValidationError) as err:
            tr.read_register(folder)
    _clean(str(err.value))
    assert case["rule"] in str(err.value)
    assert "E000" not in problems.to_csv()  # the full report shows no id either


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_through_the_cli(case: dict, tmp_path: Path, capsys) -> None:
    folder = _folder(case, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["--quiet", "validate", str(folder), "--report", str(tmp_path / "p.csv")])
    out = capsys.readouterr()
    _clean(out.out + out.err)
    assert code == (0 if case["outcome"] == "ok" else 2), out.out + out.err
    if case["outcome"] == "problem":
        assert case["rule"] in out.out


def test_an_in_memory_table_naming_a_column_twice_is_refused() -> None:
    emp = pd.DataFrame(
        [["E000101", "U12", "2020-01-01", None, 1.0, 0.5]],
        columns=["employee_id", "unit_id", "start_date", "end_date", "fte", "fte"],
    )
    res = tr.data.clean_register(tr.Register(employment=emp), "quarantine")
    assert res.report.problems["rule"].tolist() == ["duplicate_column"]
    assert res.report.counts["rows_rejected"].tolist() == [1]
