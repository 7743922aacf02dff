"""Page one's line on how many newly qualified staff stay: its numbers are
``tr.retention(..., cohort="newly_qualified", times=(12, 24))``'s, in bokmål and English;
suppressed cells show no number; a register without ``qualified_year`` gets no line."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import turnover_risk as tr
from turnover_risk.report._page_one import _page_one, _retention_line
from turnover_risk.report._phrases import PHRASES
from turnover_risk.report._results import _Results, _retention


@pytest.fixture(scope="module")
def sample():
    return tr.load_sample()


class _Flags:
    table = pd.DataFrame(
        {
            "unit_id": ["A"],
            "n_persons": [6],
            "ratio": [1.0],
            "flag": ["as expected"],
            "suppressed": [False],
        }
    )
    period = pd.Timestamp("2025-01-01")
    min_group_size = 5


def _res(retention: dict) -> _Results:
    return _Results(
        by="unit_id",
        horizon=12,
        min_group_size=5,
        flags=_Flags(),
        retro=None,
        evaluation=None,
        metrics={},
        service={},
        backtest={},
        drivers=pd.DataFrame(),
        retention=retention,
    )


def _line(data, lang, scope="service", min_group_size=5):
    return _retention_line(_res(_retention(data, scope, min_group_size)), PHRASES[lang], lang)


def _cells(table: pd.DataFrame, newly_qualified: bool) -> pd.DataFrame:
    cohort = (table["newly_qualified"].astype("boolean") == newly_qualified).fillna(False)
    shown = cohort.to_numpy(bool) & ~table["suppressed"].to_numpy(bool)
    return table[shown].sort_values("time_months")


def _expected_numbers(table: pd.DataFrame) -> list[int]:
    """The integers the line must show, in order, written from the retention table
    independently of the report: newly qualified share, 95, low, high (first time), then share,
    low, high per later time; then the experienced shares."""
    new, old = _cells(table, True), _cells(table, False)
    out = []
    for i, r in enumerate(new.itertuples(index=False)):
        out += [r.retention] + ([0.95] if i == 0 else []) + [r.ci_low, r.ci_high]
    out += list(old["retention"])
    return [int(f"{100 * x:.0f}") for x in out]


def _numbers(line: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", line)]


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_retention_line_shows_tr_retention_numbers(sample, lang):
    table = tr.retention(sample, cohort="newly_qualified", times=(12, 24)).table
    line = _line(sample, lang)
    assert _numbers(line) == _expected_numbers(table)
    assert len(_numbers(line)) == 9  # 2 times x (share, low, high) + 95 + 2 experienced
    if lang == "nb":
        assert line.startswith("Av nyutdannede som begynte, er <b>")
        assert (
            'fortsatt i tjenesten etter ett år (<span class="nowrap">95\u00a0%-intervall ' in line
        )
        assert " etter to år (" in line and "; for erfarne er tallene " in line
        assert "\u00a0%" in line and "," not in line.split("begynte,")[1]  # whole percents
    else:
        assert line.startswith("Of newly qualified staff who started, <b>")
        assert 'are still in the service after one year (<span class="nowrap">95% interval ' in line
        assert " after two years (" in line and "; for experienced staff the figures are " in line
    assert line.endswith(".")


def test_retention_line_by_hand_on_the_sample(sample):
    # the shares of tr.retention on the sample (docstring-checked numbers): newly qualified
    # 55.9 % after one year (47.9-63.2 %) and 41.4 % after two (33.7-48.9 %); experienced
    # 75.4 % and 57.0 %
    assert _line(sample, "nb") == (
        "Av nyutdannede som begynte, er <b>56\u00a0%</b> fortsatt i tjenesten etter ett år "
        '(<span class="nowrap">95\u00a0%-intervall 48–63\u00a0%</span>) og <b>41\u00a0%</b> '
        'etter to år (<span class="nowrap">34–49\u00a0%</span>); '
        "for erfarne er tallene 75\u00a0% og 57\u00a0%."
    )


def test_retention_line_follows_the_model_scope(sample):
    table = tr.retention(sample, cohort="newly_qualified", times=(12, 24), scope="unit").table
    line = _line(sample, "en", scope="unit")
    assert "still in the same unit after one year" in line
    assert _numbers(line) == _expected_numbers(table)


def test_suppressed_cells_show_no_number(sample):
    # 70 at risk: the two-year cells (65 newly qualified at risk, and its partner) are hidden
    table = tr.retention(sample, cohort="newly_qualified", times=(12, 24), min_group_size=70).table
    assert table["suppressed"].any() and not table["suppressed"].all()
    for lang in ("nb", "en"):
        line = _line(sample, lang, min_group_size=70)
        assert _numbers(line) == _expected_numbers(table)
        assert "to år" not in line and "two years" not in line
    # 100 at risk: every cell hidden -> "too few to say", no number at all
    for lang in ("nb", "en"):
        line = _line(sample, lang, min_group_size=100)
        assert line == PHRASES[lang]["retention_too_few"]
        assert not re.search(r"\d", line)


def test_no_line_without_qualified_year(sample):
    employment = sample.employment.drop(columns="qualified_year")
    assert _retention(employment, "service", 5) == {}
    assert _line(employment, "nb") is None
    page = _page_one(_res({}), "nb")
    assert "nyutdannede" not in page


def test_page_one_lists_the_retention_line(sample):
    res = _res(_retention(sample, "service", 5))
    res.L = {}
    page = _page_one(res, "en")
    lead = re.search(r'<ul class="lead">(.*?)</ul>', page, re.S).group(1)
    assert "<li>Of newly qualified staff who started, <b>56%</b>" in lead
