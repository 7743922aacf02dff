"""How the commands print: aligned tables with whole counts and no NaN, flag counts as a table,
why features are absent, and help texts without stray format characters."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from turnover_risk.cli import main
from turnover_risk.cli._print import _absent_text, _print_aligned, _print_flag_result, _tidy


def test_tidy_prints_counts_as_integers_and_missing_as_a_dash():
    df = pd.DataFrame(
        {
            "table": ["employment", "units"],
            "rows": [775, 40],
            "persons": [752.0, np.nan],
            "rate": [0.254839, np.nan],
            "first_date": pd.to_datetime(["1993-10-12", None]),
            "suppressed": [False, True],
        }
    )
    t = _tidy(df)
    assert t["persons"].tolist() == ["752", "–"]
    assert t["rate"].tolist() == ["0.255", "–"]
    assert t["first_date"].tolist() == ["1993-10-12", "–"]
    assert t["suppressed"].tolist() == ["no", "yes"]
    buf = io.StringIO()
    _print_aligned(df, file=buf)
    text = buf.getvalue()
    assert "752.0" not in text and "NaN" not in text and "NaT" not in text
    head, first, second = text.splitlines()
    # text left-aligned, numbers right-aligned under their header
    assert first.index("775") + 3 == head.index("rows") + 4 == second.index("40") + 2
    assert head.index("rows") > first.index("employment") + len("employment")


def test_flag_result_prints_a_table_not_a_dict():
    table = pd.DataFrame(
        {
            "unit_id": ["U1", "U2", "U3"],
            "n_persons": [7.0, 9.0, np.nan],
            "exit_share": [0.4, 0.1, np.nan],
            "q_value": [0.01, 0.8, np.nan],
            "flag": ["elevated", "as expected", "suppressed"],
        }
    )
    res = SimpleNamespace(
        table=table,
        flagged=table[table["flag"] == "elevated"],
        mode="prospective",
        by=("unit_id",),
        period=pd.Timestamp("2025-01-01"),
        min_group_size=5,
        overdispersion={},
    )
    buf = io.StringIO()
    _print_flag_result(res, "units", file=buf)
    text = buf.getvalue()
    assert "{" not in text and "7.0" not in text and "NaN" not in text
    assert "3 units (prospective, period 2025-01-01):" in text
    assert "suppressed (under 5 persons)" in text
    assert re.search(r"^  U1 +7 +0\.400 +0\.010  elevated$", text, re.M)


def test_absent_features_say_why():
    bat = [
        "bat_exhaustion",
        "bat_mental_distance",
        "bat_cognitive_impairment",
        "bat_emotional_impairment",
        "bat_total",
        "bat_age_months",
        "bat_missing",
        "unit_bat_total_mean",
    ]
    assert _absent_text(bat) == "; 8 features not built: no BAT12 survey answers (8)"
    assert _absent_text(()) == ""
    text = _absent_text(["care_order_share", "caseload_last"])
    assert text == (
        "; 2 features not built: no care_order_cases column in caseload (1), no caseload table (1)"
    )


@pytest.mark.parametrize("command", ["evaluate", "train", "flag", "report", "demo", "features"])
def test_help_has_no_doubled_percent(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "%%" not in capsys.readouterr().out


def test_step_bars_count_whole_steps_and_are_off_when_not_a_terminal(capsys):
    from turnover_risk._progress import bar
    from turnover_risk.cli._print import _steps

    b = bar(total=2, desc="report", unit="steps", show=True, unit_scale=False)
    b.update(1)
    b.refresh()
    b.close()
    err = capsys.readouterr().err
    assert "1/2" in err and "1.00" not in err
    quiet = _steps(2, "report")  # pytest's stderr is not a terminal: a silent stand-in
    quiet.update(1)
    quiet.close()
    assert capsys.readouterr().err == ""
