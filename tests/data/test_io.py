"""Reading and writing registers, including the files a new user really has."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.data import SCHEMAS, pandas_dtype

EMP_HEADER = "employee_id,unit_id,start_date,end_date,fte,exit_reason,birth_year\n"


def _full_register() -> tr.Register:
    """A small typed register with every table and every optional column kind."""
    emp = pd.DataFrame(
        {
            "employee_id": ["a", "b", "c"],
            "unit_id": ["u1", "u1", "u2"],
            "start_date": pd.to_datetime(["2020-01-01", "2020-03-01", "2021-01-01"]),
            "end_date": pd.to_datetime(["2020-12-31", None, None]),
            "fte": [1.0, 0.5, 0.8],
            "role": ["caseworker", "caseworker", "team_leader"],
            "exit_reason": ["voluntary", None, None],
            "birth_year": [1980, 1990, None],
            "qualified_year": [2005, 2019, 2000],
        }
    )
    units = pd.DataFrame(
        {
            "unit_id": ["u1", "u2"],
            "unit_name": ["Øst", "Vest"],
            "municipality": ["Tromsø", "Tromsø"],
            "service": ["s1", "s1"],
        }
    )
    absences = pd.DataFrame(
        {
            "employee_id": ["a", "b"],
            "start_date": pd.to_datetime(["2020-02-03", "2020-05-04"]),
            "end_date": pd.to_datetime(["2020-02-05", "2020-05-20"]),
            "certification": ["self", "doctor"],
            "grade": [None, 0.5],
        }
    )
    caseload = pd.DataFrame(
        {
            "employee_id": ["a", "b"],
            "month": pd.to_datetime(["2020-06-01", "2020-06-01"]),
            "open_cases": [12, 17],
            "care_order_cases": [3, None],
        }
    )
    supervision = pd.DataFrame(
        {
            "employee_id": ["b"],
            "date": pd.to_datetime(["2020-04-02"]),
            "kind": ["individual"],
            "minutes": [60.0],
        }
    )
    surveys = pd.DataFrame(
        {
            "employee_id": ["b"],
            "date": pd.to_datetime(["2020-09-01"]),
            "instrument": ["CBI"],
            "item_01": [3.0],
            "item_02": [np.nan],
        }
    )
    raw = tr.Register(
        employment=emp,
        units=units,
        absences=absences,
        caseload=caseload,
        supervision=supervision,
        surveys=surveys,
    )
    from turnover_risk.data import clean_register

    return clean_register(raw)


def _assert_contract_dtypes(reg: tr.Register) -> None:
    for name, df in reg:
        for c in df.columns:
            schema = SCHEMAS[name]
            if c in schema.names:
                spec = schema.column(c)
                if spec.kind == "category":
                    assert list(df[c].cat.categories) == list(spec.allowed), (name, c)
                else:
                    assert df[c].dtype == pandas_dtype(spec), (name, c, df[c].dtype)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_keeps_values_and_dtypes(tmp_path, fmt):
    reg = _full_register()
    _assert_contract_dtypes(reg)
    tr.write_register(reg, tmp_path, format=fmt)
    back = tr.read_register(tmp_path)
    assert back.table_names == reg.table_names
    for name, df in reg:
        got = back.tables()[name]
        if fmt == "csv" and name == "surveys":
            got = got.astype({"item_01": "float64", "item_02": "float64"})
        pd.testing.assert_frame_equal(got, df, check_dtype=True)


def test_write_replaces_the_other_format(tmp_path):
    reg = _full_register()
    tr.write_register(reg, tmp_path, format="csv")
    tr.write_register(reg, tmp_path, format="parquet")
    assert not (tmp_path / "employment.csv").exists()
    assert (tmp_path / "employment.parquet").exists()


def test_semicolon_comma_decimal_bom_latin1_and_norwegian_dates(tmp_path):
    text = (
        "employee_id;unit_id;start_date;end_date;fte;exit_reason\n"
        "1;Enhet Øst;01.01.2020;31.12.2020;0,8;voluntary\n"
        "2;Enhet Øst;15.02.2020;;1;\n"
    )
    (tmp_path / "employment.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "units.csv").write_bytes("unit_id;municipality\nEnhet Øst;Bodø\n".encode("latin-1"))
    reg = tr.read_register(tmp_path)
    emp = reg.employment
    assert emp["employee_id"].tolist() == ["1", "2"]
    assert emp["fte"].tolist() == [0.8, 1.0]
    assert emp["start_date"].tolist() == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-15")]
    assert reg.units["municipality"].tolist() == ["Bodø"]
    assert reg.units["unit_id"].tolist() == ["Enhet Øst"]


def test_missing_employment_table_names_files_found(tmp_path):
    (tmp_path / "units.csv").write_text("unit_id\nu1\n")
    with pytest.raises(FileNotFoundError, match=r"no employment table .* Files found: units.csv"):
        tr.read_register(tmp_path)


def test_optional_tables_may_be_absent(tmp_path):
    (tmp_path / "employment.csv").write_text(EMP_HEADER + "a,u1,2020-01-01,,1,,\n")
    reg = tr.read_register(tmp_path)
    assert reg.table_names == ("employment",)
    assert reg.absences is None


def test_empty_file_is_a_clear_problem(tmp_path):
    (tmp_path / "employment.csv").write_text(EMP_HEADER + "a,u1,2020-01-01,,1,,\n")
    (tmp_path / "absences.csv").write_text("")
    with pytest.raises(
        tr.DataValidationError,
        match=r"absences.csv \[empty_file\]: the file has "
        r"no header row; expected columns: employee_id, start_date",
    ):
        tr.read_register(tmp_path)


def test_parquet_with_wrong_dtype_reports_cell(tmp_path):
    emp = pd.DataFrame(
        {
            "employee_id": ["a", "b"],
            "unit_id": ["u1", "u1"],
            "start_date": ["2020-01-01", "2020-01-01"],
            "end_date": [None, None],
            "fte": ["1.0", "full time"],
        }
    )
    emp.to_parquet(tmp_path / "employment.parquet")
    with pytest.raises(
        tr.DataValidationError,
        match=r"employment.parquet row 1, column 'fte', value 'full time' "
        r"\[wrong_type\]",
    ):
        tr.read_register(tmp_path)


def test_ten_thousand_rows_three_bad_nothing_lost(tmp_path):
    n = 10_000
    rng = np.random.default_rng(0)
    emp = pd.DataFrame(
        {
            "employee_id": [f"E{i:05d}" for i in range(n)],
            "unit_id": rng.choice(["u1", "u2", "u3"], n),
            "start_date": "2020-01-01",
            "end_date": "",
            "fte": np.round(rng.uniform(0.2, 1.0, n), 2).astype(str),
        }
    )
    emp.loc[17, "fte"] = "1,7"
    emp.loc[4242, "start_date"] = "2020-02-30"
    emp.loc[9999, "unit_id"] = ""
    emp.to_csv(tmp_path / "employment.csv", index=False)
    res = tr.read_register(tmp_path, errors="quarantine")
    assert len(res.register.employment) == n - 3
    assert res.rejected["employment"]["row"].tolist() == [17, 4242, 9999]
    p = res.report.problems
    assert p[["line", "column", "value", "rule"]].astype(str).values.tolist() == [
        ["19", "fte", "1,7", "out_of_range"],
        ["4244", "start_date", "2020-02-30", "bad_date"],
        ["10001", "unit_id", "", "null_value"],
    ]
    c = res.report.counts.iloc[0]
    assert c["rows_read"] == c["rows_kept"] + c["rows_rejected"] == n


def test_single_column_header_hints_at_separator(tmp_path):
    (tmp_path / "employment.csv").write_text(
        "employee_id:unit_id:start_date:end_date:fte\na:u1:2020-01-01::1\n"
    )
    with pytest.raises(tr.DataValidationError, match="one column holding separators"):
        tr.read_register(tmp_path, sep=",")


def test_both_formats_for_one_table_is_ambiguous(tmp_path):
    reg = _full_register()
    tr.write_register(reg, tmp_path, format="csv")
    reg.employment.to_parquet(tmp_path / "employment.parquet")
    with pytest.raises(ValueError, match="holds both employment.parquet and employment.csv"):
        tr.read_register(tmp_path)


def test_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tr.read_register(tmp_path / "nope")
    f = tmp_path / "employment.csv"
    f.write_text(EMP_HEADER)
    with pytest.raises(NotADirectoryError, match="read_register takes a folder"):
        tr.read_register(f)
    with pytest.raises(ValueError, match="format='xlsx' is not supported"):
        tr.write_register(_full_register(), tmp_path, format="xlsx")


# ------------------------------------------------------------------ metadata.json


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_metadata_round_trip(tmp_path, fmt):
    meta = {
        "observation_start": pd.Timestamp("2019-01-01"),
        "observation_end": np.datetime64("2022-12-31"),
        "extracted_at": pd.Timestamp("2023-01-05 14:30"),
        "source_system": "HR-Øst",
        "n_units": np.int64(2),
        "share": 0.25,
        "missing_share": float("nan"),
        "pseudonymised": True,
        "random_state": None,
        "sources": {"employment": object()},  # not JSON: left out
        "tags": ["a", "b"],  # not a scalar: left out
    }
    reg = tr.Register(**_full_register().tables(), metadata=meta)
    tr.write_register(reg, tmp_path, format=fmt)
    back = tr.read_register(tmp_path)
    expected = {
        "observation_start": "2019-01-01",
        "observation_end": "2022-12-31",
        "extracted_at": "2023-01-05T14:30:00",
        "source_system": "HR-Øst",
        "n_units": 2,
        "share": 0.25,
        "missing_share": None,
        "pseudonymised": True,
        "random_state": None,
    }
    assert {k: v for k, v in back.metadata.items() if k != "sources"} == expected
    assert set(back.metadata["sources"]) == set(reg.table_names)  # read_register's own record
    # the written metadata round-trips again unchanged
    tr.write_register(back, tmp_path / "again", format=fmt)
    again = tr.read_register(tmp_path / "again")
    assert {k: v for k, v in again.metadata.items() if k != "sources"} == expected


def test_metadata_sets_the_rate_window(tmp_path):
    reg = tr.Register(**_full_register().tables(), metadata={"observation_start": "2020-06-01"})
    tr.write_register(reg, tmp_path, format="csv")
    with pytest.warns(tr.DataQualityWarning, match="every one of the 2 rows is suppressed"):
        rates = tr.turnover_rate(  # three people: too few to show, but the window is there
            tr.read_register(tmp_path), definition="hire", scope="unit", min_group_size=3
        )
    window = rates.attrs["observation_window"]
    assert window["start"] == "2020-06-01" and window["start_source"] == "metadata"
    assert rates["period_start"].min() == pd.Timestamp("2020-06-01")


def test_no_metadata_writes_no_file_and_removes_a_stale_one(tmp_path):
    reg = _full_register()
    tr.write_register(reg, tmp_path, format="csv")
    assert not (tmp_path / "metadata.json").exists()
    assert tr.read_register(tmp_path).metadata.keys() == {"sources"}
    tr.write_register(reg.replace(metadata={"observation_start": "2020-01-01"}), tmp_path)
    assert (tmp_path / "metadata.json").exists()
    tr.write_register(reg, tmp_path)  # a register without metadata replaces the folder's
    assert not (tmp_path / "metadata.json").exists()
    only_sources = tr.read_register(tmp_path)  # its metadata holds only `sources`
    tr.write_register(only_sources, tmp_path / "copy")
    assert not (tmp_path / "copy" / "metadata.json").exists()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"observation_start": "2019-01-01",}', "metadata.json is not valid JSON"),
        ('["2019-01-01"]', "metadata.json holds a JSON list; it should hold one object"),
    ],
)
def test_bad_metadata_file_is_a_clear_error(tmp_path, text, match):
    tr.write_register(_full_register(), tmp_path, format="csv")
    (tmp_path / "metadata.json").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        tr.read_register(tmp_path)


def test_shipped_csv_sample_carries_the_sample_metadata():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "data" / "sample"
    meta = tr.read_register(folder).metadata
    sample = tr.load_sample().metadata
    assert {k: v for k, v in meta.items() if k != "sources"} == dict(sample)
