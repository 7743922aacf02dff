"""The report's parts on small, hand-checked inputs: number formats, the service's range, the
flag limit of the funnel plot, percentage points of a family, and page one written only from
the results it is given."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from turnover_risk.groups import benjamini_hochberg
from turnover_risk.report._format import THIN, _date, _int, _num, _pct, _pp, _tick_formatter
from turnover_risk.report._funnels import _flag_threshold
from turnover_risk.report._labels import LABELS
from turnover_risk.report._page_one import _page_one
from turnover_risk.report._results import _poisson_binomial_interval, _Results


def test_numbers_in_bokmal_and_english():
    assert _num(1234.5, "nb", 1) == f"1{THIN}234,5"
    assert _num(1234.5, "en", 1) == "1,234.5"
    assert _num(-0.25, "nb", 2) == "−0,25"
    assert _num(-0.001, "nb", 1) == "0,0"  # no negative zero
    assert _num(0.05, "nb", 1, signed=True) == "+0,1"
    assert _int(752.0, "nb") == "752" and _int(12345, "nb") == f"12{THIN}345"
    assert _pct(0.183, "nb") == "18,3\u00a0%" and _pct(0.183, "en") == "18.3%"
    assert _pp(0.095, "nb") == "+9,5\u00a0prosentpoeng"
    assert _num(float("nan"), "nb") == "–" and _int(None, "en") == "–"
    assert _date("2025-01-01", "nb", long=True) == "1. januar 2025"
    assert _date("2025-01-01", "en", long=True) == "1 January 2025"


def test_tick_labels_follow_the_language():
    assert _tick_formatter("nb")(0.5) == "0,5"
    assert _tick_formatter("nb")(2000) == f"2{THIN}000"
    assert _tick_formatter("nb", "pct")(0.25) == "25\u00a0%"
    assert _tick_formatter("en", "pct")(0.125) == "12.5%"
    assert _tick_formatter("nb")(-1.5) == "−1,5"


def test_service_range_is_the_poisson_binomial_interval():
    # four persons at 0.5: Binomial(4, 0.5), P(X <= 0) = 1/16 > 0.025 so the interval is 0..4
    assert _poisson_binomial_interval(np.full(4, 0.5)) == (0, 4)
    # 100 persons at 0.2: the binomial 2.5 % and 97.5 % quantiles
    from scipy import stats

    lo, hi = _poisson_binomial_interval(np.full(100, 0.2))
    assert (lo, hi) == (
        int(stats.binom.ppf(0.025, 100, 0.2)),
        int(stats.binom.ppf(0.975, 100, 0.2)),
    )
    assert _poisson_binomial_interval(np.zeros(3)) == (0, 0)


@pytest.mark.parametrize("seed", range(30))
def test_flag_threshold_flags_exactly_what_benjamini_hochberg_flags(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=20), rng.uniform(0, 0.01, size=rng.integers(0, 5))])
    table = pd.DataFrame({"p_value": p})
    star = _flag_threshold(table, 0.05, fdr=True)
    assert ((p <= star) == (benjamini_hochberg(p) < 0.05)).all()
    assert _flag_threshold(table, 0.05, fdr=False) == 0.05


def test_percentage_points_of_a_family_by_hand():
    # share 0.40 and a family pushing +0.5 log-odds: without it the share would be
    # expit(logit(0.4) - 0.5) = 0.287929, so the family adds 11.2 percentage points; the
    # report and the flags table share this one conversion
    from turnover_risk.groups._driver_text import _risk_points

    assert math.isclose(_risk_points(0.4, 0.5), 0.112071, abs_tol=1e-6)
    # vectorised, and a share at 0 or 1 is clipped rather than giving NaN
    got = _risk_points(np.array([0.4, 0.0, 1.0]), np.array([0.5, 0.5, -0.5]))
    assert np.allclose(got, [0.112071, 0.0, 0.0], atol=1e-6)


class _Flags:
    def __init__(self, table):
        self.table = table
        self.period = pd.Timestamp("2025-01-01")
        self.min_group_size = 5


def _results(drivers=None, whatif=None, metrics=None):
    table = pd.DataFrame(
        {
            "unit_id": ["A", "B", "C"],
            "n_persons": [6, 9, pd.NA],
            "expected_leavers": [2.7, 1.0, np.nan],
            "leavers_pi_low": [1.0, 0.0, np.nan],
            "leavers_pi_high": [5.0, 3.0, np.nan],
            "ratio": [2.5, 0.6, np.nan],
            "flag": ["elevated", "as expected", "suppressed"],
            "suppressed": [False, False, True],
        }
    )
    cols = ["group", "family", "cause", "lever", "difference", "pp", "lead", "group_value"]
    res = _Results(
        by="unit_id",
        horizon=12,
        min_group_size=5,
        flags=_Flags(table),
        retro=None,
        evaluation=None,
        metrics=metrics or {},
        service={},
        backtest={},
        drivers=drivers if drivers is not None else pd.DataFrame(columns=[*cols, "service_value"]),
        whatif=whatif or {},
    )
    res.L = LABELS["nb"]
    return res


def test_page_one_writes_only_what_the_results_hold():
    html = _page_one(_results(), "nb")
    assert "1–5 av de 6 kan slutte de neste 12 månedene (forventet 2,7)" in html
    assert "2,5 ganger snittet" in html
    assert "1 enhet</b> har forhøyet risiko: <b>A</b>" in html
    assert "1 enhet vises ikke: de har under 5 ansatte" in html
    # no service totals, no evaluation, no drivers, no what-if given: none of their sentences
    for absent in (
        "De neste 12 månedene kan mellom",
        "Året før",
        "ganger av 100",
        "færre",
        "Det som trekker opp",
        "Ingen enkeltfaktor",
    ):
        assert absent not in html
    assert "Modellen viser sammenhenger" in html  # association, not cause: always said
    # the suppressed unit's count appears nowhere
    assert "C" not in html.replace("class", "").replace("cannot", "")


def test_page_one_drivers_and_levers_from_the_results():
    drivers = pd.DataFrame(
        {
            "group": ["A", "A", "A", "A"],
            "family": ["caseload", "age", "tenure", "supervision"],
            "cause": ["working_conditions", "individual", "individual", "professional_environment"],
            "lever": [True, False, False, True],
            "difference": [0.5, 0.2, 0.1, -0.3],
            "pp": [0.112, 0.04, 0.02, -0.05],
            "lead": ["caseload_3m_mean", "age", "newly_qualified", "supervision_sessions_3m"],
            "group_value": [24.0, np.nan, 1 / 3, 1.0],
            "service_value": [15.0, np.nan, 0.05, 2.0],
        }
    )
    html = _page_one(_results(drivers=drivers, metrics={"model": {"roc_auc": 0.639}}), "nb")
    assert "<i>Arbeidsvilkår</i>: saksmengde (+11,2\u00a0prosentpoeng)" in html
    assert "24,0\u00a0saker i enheten mot 15,0 i tjenesten" in html
    assert "Noe lederen kan påvirke." in html
    assert "<i>Individuelle forhold</i>: alder (+4,0\u00a0prosentpoeng)" in html
    assert "33\u00a0% i enheten mot 5\u00a0% i tjenesten" in html
    assert "veiledning" not in html.split("Det som trekker opp")[1].split("</ul>")[0]
    assert "64 ganger av 100" in html
    en = _page_one(_results(drivers=drivers), "en")
    assert "<i>Working conditions</i>: caseload (+11.2\u00a0percentage points)" in en
    assert "A lever you hold." in en and "Context, not something a leader sets." in en


@pytest.mark.parametrize("after", [1.2, 1.97, 2.3])
def test_what_if_sentence_says_fewer_none_or_more(after):
    before = 2.0
    from turnover_risk.report._page_one import _whatif_sentence
    from turnover_risk.report._phrases import PHRASES

    class W:
        table = pd.DataFrame(
            {
                "unit_id": ["A"],
                "expected_leavers_before": [before],
                "expected_leavers_after": [after],
                "suppressed": [False],
                "n_persons": [6],
            }
        )

    res = _results(whatif={"sc_caseload": W()})
    s = _whatif_sentence(res, "sc_caseload", "A", PHRASES["nb"], "nb")
    if after == 1.2:
        assert s == (
            "Hvis saksmengden var høyst 15, ville omtrent <b>0,8 færre</b> av de 6 forventes "
            "å slutte."
        )
    elif after == 1.97:
        assert "knapt endre seg" in s
    else:
        assert "omtrent 0,3 flere av de 6" in s
    assert _whatif_sentence(res, "sc_supervision", "A", PHRASES["nb"], "nb") is None


def test_feature_names_are_replaced_as_whole_words_only():
    """'fte' (position share) is a feature; the word 'drifted' must survive the naming."""
    from turnover_risk.report._fairness import _named

    text = "3 of 36 input features have drifted from the training data: fte (PSI 0.2)."
    out = _named(text, "en")
    assert "have drifted from" in out
    assert "fte (PSI" not in out and out.endswith("(PSI 0.2).")


@pytest.mark.parametrize(
    "cell",
    ["27,5\u00a0% (20,5 %-35,4 %)", "27.5% (20.5%-35.4%)", "1,03 (0,84-1,20)", "0 % (0 %-12 %)"],
)
def test_audit_cells_wrap_only_before_their_interval(cell):
    """The audit table may wrap (it is wider than the page), but never inside a value or its
    interval: the value and the interval are each one unbreakable span; the text is the same."""
    import html
    import re

    from turnover_risk.report._fairness import _value_then_interval

    out = _value_then_interval(cell)
    spans = re.findall(r'<span class="nowrap">(.*?)</span>', out)
    value, interval = cell.split(" (", 1)
    assert [html.unescape(x) for x in spans] == [value, "(" + interval]
    assert html.unescape(re.sub(r"<[^>]+>", "", out)) == cell


def test_audit_cells_without_an_interval_are_escaped_text():
    from turnover_risk.report._fairness import _value_then_interval

    assert _value_then_interval("aldersgruppe: <30") == "aldersgruppe: &lt;30"
    assert _value_then_interval(160) == "160"
