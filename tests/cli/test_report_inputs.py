"""The register and panel the report worker sends (cli/_report_inputs.py) come back as read:
every table, dtype, value, the metadata and the panel's attrs; anything else is refused."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.cli import _report_inputs, _report_worker
from turnover_risk.cli._common import load_register


@pytest.fixture(scope="module", params=["csv", "parquet"])
def folder(tmp_path_factory, request):
    path = tmp_path_factory.mktemp("inputs") / "reg"
    register = tr.make_register(n_units=6, years=3, random_state=4)
    tr.write_register(register, path, format=request.param)
    return path


def _same(register, panel, back_register, back_panel) -> None:
    assert back_register.table_names == register.table_names
    for name, df in register:
        pd.testing.assert_frame_equal(getattr(back_register, name), df, check_exact=True)
        assert list(getattr(back_register, name).dtypes) == list(df.dtypes)
    meta, back = dict(register.metadata), dict(back_register.metadata)
    sources, back_sources = meta.pop("sources"), back.pop("sources")
    assert back == meta and list(back_sources) == list(sources)
    for name, info in sources.items():
        assert back_sources[name] == info  # file, csv, problems, reject_all
        if info.lines is None:
            assert back_sources[name].lines is None
        else:
            np.testing.assert_array_equal(back_sources[name].lines, info.lines)
            assert back_sources[name].lines.dtype == info.lines.dtype
    if panel is None:
        assert back_panel is None
    else:
        pd.testing.assert_frame_equal(back_panel, panel, check_exact=True)
        assert back_panel.attrs == panel.attrs and back_panel.attrs


def _round_trip(register, panel):
    head, body = _report_inputs.encode(register, panel)
    assert head["ok"] and head["job"] == _report_inputs.JOB
    return _report_inputs.decode(head, body)


def test_register_and_panel_come_back_as_read(folder):
    register = load_register(str(folder))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = tr.build_panel(register)
    _same(register, panel, *_round_trip(register, panel))
    _same(register, None, *_round_trip(register, None))


def test_rows_over_several_lines_keep_their_lines(folder, tmp_path):
    # a quoted cell with a newline: employment's rows are no longer on line i + 2
    if not (folder / "employment.csv").exists():
        pytest.skip("a CSV register")
    emp = (folder / "employment.csv").read_text(encoding="utf-8").splitlines()
    header = emp[0].split(",")
    at = header.index("education")
    row = emp[1].split(",")
    row[at] = '"two\nlines"'
    (tmp_path / "employment.csv").write_text(
        "\n".join([emp[0], ",".join(row), *emp[2:]]) + "\n", encoding="utf-8"
    )
    register = load_register(str(tmp_path))
    lines = register.metadata["sources"]["employment"].lines
    assert lines[1] == 4  # the second row starts after the cell's second line
    _same(register, None, *_round_trip(register, None))


def test_what_cannot_be_sent_exactly_is_refused(folder):
    register = load_register(str(folder))
    odd = register.replace()
    object.__setattr__(odd, "metadata", {**register.metadata, "when": pd.Timestamp("2024-01-01")})
    with pytest.raises(ValueError, match="metadata"):
        _report_inputs.encode(odd, None)
    shuffled = register.replace(units=register.units.iloc[::-1])
    with pytest.raises(ValueError, match="index"):
        _report_inputs.encode(shuffled, None)


def test_a_frame_that_is_not_what_it_says_is_refused(folder):
    register = load_register(str(folder))
    head, body = _report_inputs.encode(register, None)
    head["frames"][0]["dtypes"][0] = "employee_id: dtype('int64')"
    with pytest.raises(ValueError, match="other dtypes"):
        _report_inputs.decode(head, body)
    head, body = _report_inputs.encode(register, None)
    with pytest.raises(ValueError, match="bytes"):
        _report_inputs.decode(head, body + b"\0")


def test_the_worker_sends_nothing_when_reading_warned(folder, monkeypatch):
    # the report's process would have printed the warning: it reads the folder itself
    from turnover_risk.cli import _common

    load = _common.load_register

    def warned(path):
        warnings.warn("a note on the data", UserWarning, stacklevel=2)
        return load(path)

    monkeypatch.setattr(_common, "load_register", warned)
    request = {"path": str(folder), "build": None}
    register, panel, (head, body) = _report_worker._inputs(request)
    assert register is not None and panel is None
    assert not head["ok"] and "warned" in head["error"] and body == b""
