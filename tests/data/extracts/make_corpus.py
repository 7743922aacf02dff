"""Write the extract corpus: one small file per case of issue 17 (run from the repository root).

    python tests/data/extracts/make_corpus.py

Each case is a folder holding the one file the case is about; the test
(``tests/data/test_extracts.py``) copies it over the base register in ``_base/`` (employment,
units, metadata) and reads the result. ``cases.toml`` says what each case must give. The files
are committed; this script documents how they were made (CSV bytes are written exactly).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent

EMP = "employee_id;unit_id;start_date;end_date;fte;exit_reason\n"
BASE_ROWS = (
    "E000101;U12;01.03.2015;;1;\n"
    "E000102;U12;01.08.2018;31.05.2021;0,8;voluntary\n"
    "E000103;U14;15.01.2020;;0,5;\n"
)


def _csv(case: str, name: str, text: str, encoding: str = "utf-8") -> None:
    folder = HERE / case
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))


def _raw(case: str, name: str, data: bytes) -> None:
    folder = HERE / case
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def _parquet(case: str, name: str, table: pa.Table) -> None:
    folder = HERE / case
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / name)


def _emp_table(start: pa.Array, end: pa.Array, **extra: pa.Array) -> pa.Table:
    n = len(start)
    cols = {
        "employee_id": pa.array([f"E00010{i + 1}" for i in range(n)]),
        "unit_id": pa.array(["U12"] * n),
        "start_date": start,
        "end_date": end,
        "fte": pa.array([1.0] * n),
    }
    cols.update(extra)
    return pa.table(cols)


def main() -> None:
    _csv("_base", "employment.csv", EMP + BASE_ROWS)
    _csv(
        "_base",
        "units.csv",
        "unit_id;unit_name;municipality\nU12;Barnevern øst;Tromsø\nU12A;Barnevern øst og sentrum;"
        "Tromsø\nU14;Barnevern vest;Tromsø\n",
    )
    _csv("_base", "metadata.json", '{"observation_end": "2024-12-31"}\n')

    # ---- open sentinels --------------------------------------------------------------------
    _csv("open_sentinel_iso", "employment.csv", EMP + BASE_ROWS.replace(";;1;", ";9999-12-31;1;"))
    _csv(
        "open_sentinel_dotted", "employment.csv", EMP + BASE_ROWS.replace(";;1;", ";31.12.9999;1;")
    )
    _parquet(
        "open_sentinel_parquet_us",
        "employment.parquet",
        _emp_table(
            pa.array([dt.datetime(2015, 3, 1), dt.datetime(2018, 8, 1)], pa.timestamp("us")),
            pa.array([dt.datetime(9999, 12, 31), dt.datetime(2021, 5, 31)], pa.timestamp("us")),
            exit_reason=pa.array([None, "voluntary"]),
        ),
    )
    day = np.datetime64("1970-01-01", "D")
    _parquet(
        "open_sentinel_epoch_days",
        "employment.parquet",
        _emp_table(
            pa.array(
                [
                    int((np.datetime64("2015-03-01") - day).astype(np.int64)),
                    int((np.datetime64("2018-08-01") - day).astype(np.int64)),
                ]
            ),
            pa.array(
                [
                    int((np.datetime64("9999-12-31") - day).astype(np.int64)),
                    int((np.datetime64("2021-05-31") - day).astype(np.int64)),
                ]
            ),
            exit_reason=pa.array([None, "voluntary"]),
        ),
    )
    # ---- time zones -------------------------------------------------------------------------
    _csv(
        "offsets",
        "employment.csv",
        "employee_id,unit_id,start_date,end_date,fte,exit_reason\n"
        "E000101,U12,2015-03-01T00:00:00+01:00,,1,\n"
        "E000102,U12,2018-08-01T00:00:00+02:00,2021-05-31T00:00:00+02:00,0.8,voluntary\n"
        "E000103,U14,2020-01-15T00:00:00+01:00,,0.5,\n",
    )
    utc = pa.timestamp("us", tz="UTC")
    _parquet(
        "utc_midnights_aware",
        "employment.parquet",
        _emp_table(
            pa.array([dt.datetime(2015, 2, 28, 23), dt.datetime(2018, 7, 31, 22)], utc),
            pa.array([None, dt.datetime(2021, 5, 30, 22)], utc),
            exit_reason=pa.array([None, "voluntary"]),
        ),
    )
    _parquet(
        "utc_midnights_naive",
        "employment.parquet",
        _emp_table(
            pa.array(
                [dt.datetime(2015, 2, 28, 23), dt.datetime(2018, 7, 31, 22)], pa.timestamp("us")
            ),
            pa.array([None, dt.datetime(2021, 5, 30, 22)], pa.timestamp("us")),
            exit_reason=pa.array([None, "voluntary"]),
        ),
    )
    # ---- Parquet that pandas cannot take as it is ------------------------------------------------
    _parquet(
        "list_column",
        "employment.parquet",
        _emp_table(
            pa.array([dt.date(2015, 3, 1), dt.date(2018, 8, 1)], pa.date32()),
            pa.array([None, dt.date(2021, 5, 31)], pa.date32()),
            exit_reason=pa.array([None, "voluntary"]),
            role=pa.array([["caseworker"], ["caseworker", "team_leader"]]),
        ),
    )
    _raw("corrupt_parquet", "employment.parquet", b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02" * 3)
    good = HERE / "open_sentinel_parquet_us" / "employment.parquet"
    _raw("half_written_parquet", "employment.parquet", good.read_bytes()[:-40])
    # ---- numbers ------------------------------------------------------------------------------
    _csv(
        "dot_thousands_ambiguous",
        "caseload.csv",
        "employee_id;month;open_cases\nE000101;01.01.2019;1.000\nE000101;01.02.2019;14\n",
    )
    _csv(
        "dot_thousands_minutes",
        "supervision.csv",
        "employee_id;date;kind;minutes\nE000101;04.02.2019;group;1.200\n"
        "E000101;11.02.2019;individual;60\n",
    )
    _csv(
        "dot_thousands_column_says",
        "supervision.csv",
        "employee_id;date;kind;minutes\nE000101;04.02.2019;group;1.200\n"
        "E000101;11.02.2019;individual;45,5\n",
    )
    _csv(
        "fte_percent",
        "employment.csv",
        EMP + BASE_ROWS.replace(";0,8;", ";80 %;").replace(";0,5;", ";50%;"),
    )
    _csv("fte_hundred", "employment.csv", EMP + BASE_ROWS.replace(";0,8;", ";80;"))
    # ---- encodings and lines ------------------------------------------------------------------
    _csv(
        "cp1252_file",
        "units.csv",
        "unit_id;unit_name;municipality\nU12;Barnevern øst;Tromsø\nU14;Barnevern vest;Bodø\n",
        encoding="cp1252",
    )
    mixed = (
        "unit_id;unit_name;municipality\nU12;Barnevern øst;Tromsø\n".encode()
        + "U14;Barnevern vest;Bodø\n".encode("cp1252")
    )
    _raw("mixed_encoding", "units.csv", mixed)
    _csv(
        "blank_lines_quoted_newlines",
        "employment.csv",
        "employee_id,unit_id,start_date,end_date,fte,exit_reason,role\n"
        "\n"
        'E000101,U12,2015-03-01,,1,,"case-\nworker"\n'
        "\n"
        "E000102,U12,2018-08-01,2021-05-31,0.8,voluntary,caseworker\n"
        "E000103,U14,2020-01-15,,1.5,,caseworker\n",
    )
    _csv(
        "truncated_csv",
        "employment.csv",
        EMP + BASE_ROWS + "E000104;U14;01.02.2021;",
    )
    _csv(
        "duplicate_fte_header",
        "employment.csv",
        "employee_id;unit_id;start_date;end_date;fte;exit_reason;fte\n"
        "E000101;U12;01.03.2015;;1;;0,5\n",
    )
    _csv(
        "extra_cells",
        "employment.csv",
        EMP + BASE_ROWS + "E000104;U14;01.02.2021;;0,5;;Troms;extra\n",
    )
    _csv(
        "unclosed_quote",
        "employment.csv",
        EMP + BASE_ROWS + 'E000104;U14;"01.02.2021;;0,5;\n',
    )
    # ---- dates --------------------------------------------------------------------------------
    _csv("two_digit_year", "employment.csv", EMP + BASE_ROWS.replace("01.03.2015", "12.10.65"))
    _csv(
        "two_digit_year_recent",
        "employment.csv",
        EMP + BASE_ROWS.replace("15.01.2020", "15.01.20"),
    )
    _csv("start_1900", "employment.csv", EMP + BASE_ROWS.replace("01.03.2015", "01.01.1900"))
    _csv("start_2099", "employment.csv", EMP + BASE_ROWS.replace("15.01.2020", "01.03.2099"))
    _csv("bare_year", "employment.csv", EMP + BASE_ROWS.replace("01.08.2018", "1993"))
    _csv(
        "ambiguous_slash",
        "employment.csv",
        EMP + BASE_ROWS.replace("15.01.2020", "01/03/2020"),
    )
    _csv(
        "slash_column_says",
        "employment.csv",
        EMP
        + BASE_ROWS.replace("15.01.2020", "01/03/2020")
        .replace("01.08.2018", "13/08/2018")
        .replace("31.05.2021", "31/05/2021"),
    )
    _csv(
        "caseload_two_dates_in_month",
        "caseload.csv",
        "employee_id;month;open_cases\nE000101;2019-01-01;12\nE000101;2019-01-15;14\n",
    )
    # ---- spells -------------------------------------------------------------------------------
    _csv(
        "open_with_exit_reason",
        "employment.csv",
        EMP + BASE_ROWS.replace("01.03.2015;;1;", "01.03.2015;;1;voluntary"),
    )
    _csv(
        "closed_without_exit_reason",
        "employment.csv",
        EMP + BASE_ROWS + "E000104;U14;01.02.2016;31.12.2019;1;\n",
    )
    _csv(
        "fte_total_two",
        "employment.csv",
        EMP + BASE_ROWS + "E000101;U14;01.06.2019;;1;\n",
    )
    # ---- the contract's additions and ids in messages -----------------------------------------
    _csv(
        "open_absence",
        "absences.csv",
        "employee_id;start_date;end_date;certification;grade\n"
        "E000101;02.12.2024;;doctor;1\nE000103;04.03.2024;08.03.2024;self;\n",
    )
    _csv(
        "unknown_employee",
        "absences.csv",
        "employee_id;start_date;end_date;certification\n"
        "E000101;04.03.2024;08.03.2024;self\nE000370;04.03.2024;08.03.2024;self\n",
    )
    _csv("unit_change", "unit_changes.csv", "old_unit_id;new_unit_id;date\nU12;U12A;01.09.2022\n")
    _csv(
        "unit_change_loop",
        "unit_changes.csv",
        "old_unit_id;new_unit_id;date\nU12;U12A;01.09.2022\nU12A;U12;01.09.2023\n",
    )


if __name__ == "__main__":
    main()
