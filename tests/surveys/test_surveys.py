"""Tests of turnover_risk.surveys: instruments, scoring by hand, bad input, properties, summaries.

Every expected number below is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import turnover_risk as tr
from turnover_risk import Cutoffs, Instrument, get_instrument, score_survey
from turnover_risk._warnings import DataQualityWarning
from turnover_risk.surveys import summarise_scores, survey_problems

NAN = math.nan
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(
    n_items: int, answers: dict[int, object], n_rows: int = 1, **extra: object
) -> pd.DataFrame:
    """Wide responses: every item missing unless given in ``answers`` (item -> value or list)."""
    data: dict[str, object] = dict(extra)
    for i in range(1, n_items + 1):
        value = answers.get(i, NAN)
        data[f"item_{i:02d}"] = value if isinstance(value, list) else [value] * n_rows
    return pd.DataFrame(data)


def items(numbers, value) -> dict[int, object]:
    return dict.fromkeys(numbers, value)


# --------------------------------------------------------------------------------------------
# Instrument definitions and the shared contract
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("CBI", "CBI"),
        ("cbi", "CBI"),
        ("ProQOL", "ProQOL"),
        ("ProQOL5", "ProQOL"),
        ("proqol-5", "ProQOL"),
        ("BAT12", "BAT12"),
        ("BAT-12", "BAT12"),
        ("bat", "BAT12"),
        ("mbi", "MBI"),
    ],
)
def test_get_instrument_aliases(alias, canonical):
    assert get_instrument(alias).name == canonical
    assert get_instrument(alias) is tr.INSTRUMENTS[canonical]


def test_builtins_match_domain():
    cbi, proqol, bat = (get_instrument(n) for n in ("CBI", "ProQOL", "BAT12"))
    assert cbi.n_items == 19
    assert cbi.subscales == {
        "personal": (1, 2, 3, 4, 5, 6),
        "work": (7, 8, 9, 10, 11, 12, 13),
        "client": (14, 15, 16, 17, 18, 19),
    }
    assert cbi.reverse == (13,)  # the last work item (PUMA scoring document)
    assert cbi.min_items == {"personal": 3, "work": 4, "client": 3}
    assert not cbi.has_total
    assert proqol.n_items == 30
    assert proqol.subscales["compassion_satisfaction"] == (3, 6, 12, 16, 18, 20, 22, 24, 27, 30)
    assert proqol.subscales["burnout"] == (1, 4, 8, 10, 15, 17, 19, 21, 26, 29)
    assert proqol.subscales["secondary_traumatic_stress"] == (2, 5, 7, 9, 11, 13, 14, 23, 25, 28)
    assert proqol.reverse == (1, 4, 15, 17, 29)
    assert proqol.cutoffs["burnout"].status == "confirmed"
    assert list(bat.subscales) == [
        "exhaustion",
        "mental_distance",
        "cognitive_impairment",
        "emotional_impairment",
        "total",
    ]
    assert bat.subscales["cognitive_impairment"] == (7, 8, 9)
    assert bat.subscales["total"] == tuple(range(1, 13))
    assert bat.has_total and bat.total == "total"
    assert bat.cutoffs["total"].thresholds == (2.54, 2.96)
    assert bat.cutoffs["total"].status == "secondary"
    # every built-in: items 1..n all used, codes 1..5
    for inst in (cbi, proqol):
        used = sorted(i for sub in inst.subscales.values() for i in sub)
        assert used == list(range(1, inst.n_items + 1))
    for inst in (cbi, proqol, bat):
        assert (inst.response_min, inst.response_max) == (1, 5)
        assert inst.item_columns()[0] == "item_01"


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("Always", 5),
        ("Alltid", 5),
        ("Altid", 5),
        ("Often", 4),
        ("Ofte", 4),
        ("Sometimes", 3),
        ("Noen ganger", 3),
        ("Somme tider", 3),
        ("Seldom", 2),
        ("Sjelden", 2),
        ("Never/almost never", 1),
        ("  NEVER /  almost never ", 1),
        ("Aldri/nesten aldri", 1),
        ("Aldrig/næsten aldrig", 1),
        ("To a very high degree", 5),
        ("I svært høy grad", 5),
        ("To a very low degree", 1),
    ],
)
def test_cbi_labels_map_to_codes(label, code):
    # item 1 alone, personal needs 3: give items 2 and 3 code 1 (value 0) so the mean is
    # (value of the label + 0 + 0) / 3 = 25 * (code - 1) / 3.
    out = score_survey(frame(19, {1: label, 2: 1, 3: 1}), "CBI")
    assert out.loc[0, "personal"] == pytest.approx(25 * (code - 1) / 3)


def test_instrument_is_frozen_and_hashable():
    cbi = get_instrument("CBI")
    with pytest.raises(AttributeError):
        cbi.n_items = 20  # type: ignore[misc]
    assert hash(cbi) == hash(get_instrument("cbi"))
    assert "CBI" in repr(cbi) and "work(7)" in repr(cbi)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"subscales": {"a": (1, 7)}},
            ValueError,
            r"subscale 'a' lists items \[7\] outside 1\.\.6",
        ),
        ({"subscales": {"a": (1, 1)}}, ValueError, "repeats an item"),
        ({"subscales": {"a b": (1,)}}, ValueError, "must be an identifier"),
        ({"subscales": {}}, ValueError, "subscales must be a non-empty mapping"),
        ({"reverse": (9,)}, ValueError, r"reverse items \[9\] are outside 1\.\.6"),
        ({"response_min": 5, "response_max": 1}, ValueError, "must be below"),
        ({"labels": {"yes": 9}}, ValueError, "label 'yes' maps to 9, outside the response range"),
        ({"labels": {"Yes": 1, "yes ": 2}}, ValueError, "maps to both 1 and 2"),
        ({"method": "median"}, ValueError, "method='median' for subscale 'a' is not known"),
        ({"min_items": {"a": 4}}, ValueError, r"min_items\['a'\]=4 must be an int in 1\.\.3"),
        ({"min_items": {"zz": 1}}, ValueError, "unknown subscales"),
        ({"item_values": {1: 0, 2: 1}}, ValueError, "item_values must map exactly the codes"),
        ({"cutoffs": {"zz": Cutoffs((1.0,), ("lo", "hi"))}}, ValueError, "unknown subscale 'zz'"),
        ({"cutoffs": {"a": (3.0,)}}, TypeError, "must be a Cutoffs object"),
        ({"total": "zz"}, ValueError, "total='zz' is not one of its subscales"),
        ({"n_items": 2.5}, TypeError, "n_items must be an int"),
    ],
)
def test_instrument_validation(kwargs, error, match):
    base = {"name": "Local", "n_items": 6, "subscales": {"a": (1, 2, 3), "b": (4, 5, 6)}}
    with pytest.raises(error, match=match):
        Instrument(**{**base, **kwargs})


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (((2.0, 1.0), ("a", "b", "c")), "strictly increasing"),
        (((1.0,), ("a",)), r"needs len\(thresholds\) \+ 1 = 2 labels"),
        (((1.0,), ("a", "a")), "labels must be distinct"),
        (((math.inf,), ("a", "b")), "must be finite"),
    ],
)
def test_cutoffs_validation(args, match):
    with pytest.raises(ValueError, match=match):
        Cutoffs(*args)


def test_cutoffs_status_must_be_known():
    with pytest.raises(ValueError, match="status='guess' is not known; choose one of: confirmed"):
        Cutoffs((1.0,), ("a", "b"), status="guess")


@pytest.mark.parametrize(
    ("score", "band"),
    [(22.0, "low"), (22.5, "low"), (23.0, "moderate"), (41.9, "moderate"), (42.0, "high")],
)
def test_cutoffs_lower_bound_semantics(score, band):
    # ProQOL: <= 22 low, 23-41 moderate, >= 42 high; a threshold is the next band's lower bound
    assert get_instrument("ProQOL").cutoffs["burnout"].categorise([score]).tolist() == [band]


def test_with_rules_overrides_and_keeps_the_rest():
    proqol = get_instrument("ProQOL")
    strict = proqol.with_rules(min_items={"burnout": 10}, cutoffs={"burnout": (20, 40)})
    assert strict.min_items == {**proqol.min_items, "burnout": 10}
    assert strict.cutoffs["burnout"].thresholds == (20.0, 40.0)
    assert strict.cutoffs["burnout"].labels == ("low", "moderate", "high")
    assert strict.cutoffs["burnout"].status == "unconfirmed"
    assert strict.cutoffs["compassion_satisfaction"] == proqol.cutoffs["compassion_satisfaction"]
    assert proqol.min_items["burnout"] == 8  # the built-in is unchanged
    assert "burnout" not in proqol.with_rules(cutoffs={"burnout": None}).cutoffs
    with pytest.raises(ValueError, match="gives thresholds only"):
        proqol.with_rules(cutoffs={"burnout": (30,)})
    with pytest.raises(ValueError, match="unknown subscale 'energy'"):
        proqol.with_rules(cutoffs={"energy": (30,)})


# --------------------------------------------------------------------------------------------
# Worked examples by hand
# --------------------------------------------------------------------------------------------


def test_cbi_all_answered_with_reverse_item():
    answers = {
        # personal 1-6: codes 5,4,3,2,1,1 -> 100,75,50,25,0,0 -> 250/6 = 41.67 (low)
        **dict(zip(range(1, 7), [5, 4, 3, 2, 1, 1], strict=True)),
        # work 7-13 all 5; item 13 reversed -> 1 -> 0: (6*100 + 0)/7 = 85.71 (high)
        **items(range(7, 14), 5),
        # client 14-19 all 3 -> 50, exactly at the cut-off -> high
        **items(range(14, 20), 3),
    }
    out = score_survey(frame(19, answers, employee_id="e1"), "CBI")
    row = out.iloc[0]
    assert row["personal"] == pytest.approx(250 / 6)
    assert row["work"] == pytest.approx(600 / 7)
    assert row["client"] == 50.0
    assert (row["personal_category"], row["work_category"], row["client_category"]) == (
        "low",
        "high",
        "high",
    )
    assert (row["personal_n_items"], row["work_n_items"], row["client_n_items"]) == (6, 7, 6)
    assert list(out.columns) == [
        "employee_id",
        *(f"{s}{x}" for s in ("personal", "work", "client") for x in ("", "_n_items", "_category")),
    ]


def test_cbi_reverse_item_never_counts_as_full_burnout():
    # work items 7-13 all "Never/almost never" (1 -> 0) except reversed item 13: 1 -> 5 -> 100
    out = score_survey(frame(19, items(range(7, 14), "Never/almost never")), "CBI")
    assert out.loc[0, "work"] == pytest.approx(100 / 7)


def test_cbi_reversed_item_is_the_last_work_item():
    # PUMA scoring order: items 7-12 burnout statements, 13 "energy for family and friends"
    # (reversed). Items 7-12 "Always" (5 -> 100) and item 13 "Never" (1 -> reversed 5 -> 100)
    # is maximal work burnout: 700 / 7 = 100. Reversing item 10 instead would give
    # (5 * 100 + 0 (item 10: 5 -> 1) + 0 (item 13: 1)) / 7 = 71.43.
    answers = {**items(range(1, 20), 3), **items(range(7, 13), 5), 13: 1}
    out = score_survey(frame(19, answers), "CBI")
    assert out.loc[0, "work"] == pytest.approx(100.0)
    assert out.loc[0, "personal"] == out.loc[0, "client"] == 50.0


@pytest.mark.parametrize(
    ("sub", "answers", "expected"),
    [
        # personal: exactly 3 answered -> (100 + 100 + 0) / 3; 2 answered -> NaN
        ("personal", {1: 5, 2: 5, 3: 1}, 200 / 3),
        ("personal", {1: 5, 2: 5}, NAN),
        # work: exactly 4 answered (7, 8, 9 code 1 -> 0; 13 code 1 reversed -> 100) -> 25
        ("work", {7: 1, 8: 1, 9: 1, 13: 1}, 25.0),
        ("work", {7: 1, 8: 1, 9: 1}, NAN),
        # client: exactly 3 -> (75 + 75 + 75)/3; 2 -> NaN
        ("client", {17: 4, 18: 4, 19: 4}, 75.0),
        ("client", {18: 4, 19: 4}, NAN),
    ],
)
def test_cbi_missing_item_threshold(sub, answers, expected):
    out = score_survey(frame(19, answers), "CBI")
    assert out.loc[0, f"{sub}_n_items"] == len(answers)
    if math.isnan(expected):
        assert math.isnan(out.loc[0, sub])
        assert pd.isna(out.loc[0, f"{sub}_category"])
    else:
        assert out.loc[0, sub] == pytest.approx(expected)


def test_proqol_all_answered_reverse_items_and_sums():
    # all 5: CS = 50 (high); burnout = 5 items * 5 + 5 reversed items * (6 - 5) = 30 (moderate);
    # STS = 50 (high)
    out = score_survey(frame(30, items(range(1, 31), 5)), "ProQOL")
    row = out.iloc[0]
    assert row["compassion_satisfaction"] == 50.0
    assert row["burnout"] == 30.0
    assert row["secondary_traumatic_stress"] == 50.0
    assert row["burnout_category"] == "moderate"
    assert row["compassion_satisfaction_category"] == "high"


@pytest.mark.parametrize(
    ("codes", "total", "band"),
    [
        ([2] * 8 + [3] * 2, 22, "low"),
        ([2] * 7 + [3] * 3, 23, "moderate"),
        ([4] * 9 + [5], 41, "moderate"),
        ([4] * 8 + [5] * 2, 42, "high"),
    ],
)
def test_proqol_cutoff_boundaries(codes, total, band):
    cs_items = get_instrument("ProQOL").subscales["compassion_satisfaction"]
    out = score_survey(frame(30, dict(zip(cs_items, codes, strict=True))), "ProQOL")
    assert out.loc[0, "compassion_satisfaction"] == total
    assert out.loc[0, "compassion_satisfaction_category"] == band


@pytest.mark.parametrize(
    ("answers", "n", "expected"),
    [
        # 8 of 10 burnout items: 8, 10, 19, 21, 26 at 4; reversed 1, 4, 15 at 2 -> 6 - 2 = 4:
        # mean 4 -> prorated 4 * 10 = 40
        ({8: 4, 10: 4, 19: 4, 21: 4, 26: 4, 1: 2, 4: 2, 15: 2}, 8, 40.0),
        # 9 answered summing to 20 -> 20 * 10 / 9 = 22.22 (prorated, low)
        ({8: 3, 10: 3, 19: 2, 21: 2, 26: 2, 1: 4, 4: 4, 15: 4, 17: 4}, 9, 200 / 9),
        # 7 answered -> below the rule -> NaN
        ({8: 4, 10: 4, 19: 4, 21: 4, 26: 4, 1: 2, 4: 2}, 7, NAN),
    ],
)
def test_proqol_missing_rule_prorates(answers, n, expected):
    out = score_survey(frame(30, answers), "ProQOL")
    assert out.loc[0, "burnout_n_items"] == n
    if math.isnan(expected):
        assert math.isnan(out.loc[0, "burnout"])
    else:
        assert out.loc[0, "burnout"] == pytest.approx(expected)


def test_proqol_missing_rule_is_a_parameter():
    answers = {8: 4, 10: 4, 19: 4, 21: 4, 26: 4, 1: 2, 4: 2, 15: 2, 17: 2}  # 9 answered
    assert score_survey(frame(30, answers), "ProQOL").loc[0, "burnout"] == pytest.approx(40.0)
    strict = score_survey(frame(30, answers), "ProQOL", min_items={"burnout": 10})
    assert math.isnan(strict.loc[0, "burnout"])


def test_bat12_all_answered():
    codes = [4, 4, 5, 1, 1, 1, 2, 3, 4, 5, 5, 5]
    out = score_survey(frame(12, dict(enumerate(codes, start=1))), "BAT12")
    row = out.iloc[0]
    assert row["exhaustion"] == pytest.approx(13 / 3)
    assert row["mental_distance"] == 1.0
    assert row["cognitive_impairment"] == 3.0
    assert row["emotional_impairment"] == 5.0
    assert row["total"] == pytest.approx(40 / 12)  # (13 + 3 + 9 + 15) / 12 = 3.33 -> severe
    assert row["total_category"] == "severe"
    assert pd.isna(row["exhaustion_category"])  # no cut-offs for the dimensions


@pytest.mark.parametrize(
    ("n_threes", "total", "band"),
    [
        # 12 items: n_threes items at 3, the rest at 2 -> (24 + n_threes) / 12
        (0, 24 / 12, "low"),  # 2.0
        (6, 30 / 12, "low"),  # 2.5 < 2.54
        (7, 31 / 12, "at_risk"),  # 2.583 >= 2.54
        (11, 35 / 12, "at_risk"),  # 2.917 < 2.96
        (12, 36 / 12, "severe"),  # 3.0 >= 2.96
    ],
)
def test_bat12_total_bands(n_threes, total, band):
    codes = [3] * n_threes + [2] * (12 - n_threes)
    out = score_survey(frame(12, dict(enumerate(codes, start=1))), "BAT12")
    assert out.loc[0, "total"] == pytest.approx(total)
    assert out.loc[0, "total_category"] == band


@pytest.mark.parametrize(
    ("answered", "exhaustion", "total"),
    [
        # items 1, 2 answered (2 of 3 = the rule) + all others: total over 11 items
        ([1, 2, *range(4, 13)], 4.0, (4 * 2 + 3 * 9) / 11),
        # item 1 only for exhaustion (1 of 3) -> NaN; total 10 answered -> still scored
        ([1, *range(4, 13)], NAN, (4 + 3 * 9) / 10),
        # 9 answered -> total NaN (rule: 10 of 12); exhaustion complete
        ([1, 2, 3, *range(7, 13)], 4.0, NAN),
    ],
)
def test_bat12_missing_rule(answered, exhaustion, total):
    answers = {i: (4 if i <= 3 else 3) for i in answered}
    out = score_survey(frame(12, answers), "BAT12")
    assert out.loc[0, "total_n_items"] == len(answered)
    for col, expected in (("exhaustion", exhaustion), ("total", total)):
        if math.isnan(expected):
            assert math.isnan(out.loc[0, col])
        else:
            assert out.loc[0, col] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("on_missing", "expected_personal"),
    [("rule", 200 / 3), ("nan", NAN)],
)
def test_on_missing_modes(on_missing, expected_personal):
    answers = {1: 5, 2: 5, 3: 1, **items(range(7, 20), 3)}  # personal 3 of 6 answered
    out = score_survey(frame(19, answers), "CBI", on_missing=on_missing)
    assert out.loc[0, "work"] == 50.0  # complete scale scored in both modes
    if math.isnan(expected_personal):
        assert math.isnan(out.loc[0, "personal"])
    else:
        assert out.loc[0, "personal"] == pytest.approx(expected_personal)


def test_on_missing_raise_names_rows_and_subscale():
    df = frame(19, {**items(range(1, 20), [3, 3]), 4: [3, NAN]})
    df.index = ["r1", "r2"]
    with pytest.raises(ValueError, match=r"missing CBI answers.*personal in 1 row\(s\).*'r2'"):
        score_survey(df, "CBI", on_missing="raise")


def test_user_defined_factor_instrument():
    # KS 10-FAKTOR-like: two factor means on a 1..5 agreement scale, item 3 reverse-coded
    local = Instrument(
        name="LocalWE",
        n_items=6,
        subscales={"role_clarity": (1, 2, 3), "autonomy": (4, 5, 6)},
        reverse=(3,),
        labels={"Helt uenig": 1, "Uenig": 2, "Nøytral": 3, "Enig": 4, "Helt enig": 5},
        min_items={"role_clarity": 2, "autonomy": 3},
        cutoffs={"autonomy": Cutoffs((3.0,), ("low", "ok"), source="local", status="unconfirmed")},
    )
    df = pd.DataFrame(
        {
            "employee_id": ["a", "b"],
            "instrument": ["localwe", "LocalWE"],
            "item_01": ["Helt enig", 4],
            "item_02": [4, NAN],
            "item_03": ["helt uenig", NAN],  # 1 -> reversed 5
            "item_04": [3, 2],
            "item_05": [3, 2],
            "item_06": ["Enig", NAN],
        }
    )
    out = score_survey(df, local)
    # a: role clarity (5 + 4 + 5) / 3; autonomy (3 + 3 + 4) / 3 = 3.33 -> ok
    # b: role clarity has only item 1 answered (rule needs 2) -> NaN
    assert out.loc[0, "role_clarity"] == pytest.approx(14 / 3)
    assert out.loc[0, "autonomy"] == pytest.approx(10 / 3)
    assert out.loc[0, "autonomy_category"] == "ok"
    assert math.isnan(out.loc[1, "role_clarity"])
    assert math.isnan(out.loc[1, "autonomy"])  # 2 of 3 answered, rule needs 3
    assert out.loc[1, "autonomy_n_items"] == 2


def test_precomputed_mbi_passes_scores_through():
    df = pd.DataFrame(
        {
            "employee_id": ["a", "b"],
            "emotional_exhaustion": [30.0, NAN],
            "depersonalisation": [5, 7],
            "personal_accomplishment": ["40", 35],
        }
    )
    out = score_survey(df, "MBI")
    assert out["emotional_exhaustion"].tolist()[0] == 30.0
    assert math.isnan(out["emotional_exhaustion"].tolist()[1])
    assert out["personal_accomplishment"].tolist() == [40.0, 35.0]
    assert out["depersonalisation_n_items"].isna().all()
    assert list(out.columns[:1]) == ["employee_id"]


def test_precomputed_range_and_missing_column():
    mbi = Instrument.precomputed("MBIsum", {"emotional_exhaustion": (0, 54), "cynicism": None})
    df = pd.DataFrame({"emotional_exhaustion": [60.0], "cynicism": [1.0]})
    with pytest.raises(tr.SurveyInputError, match=r"row 0: emotional_exhaustion=60\.0 is outside"):
        score_survey(df, mbi)
    with pytest.raises(tr.SurveyInputError, match="column 'cynicism' with precomputed MBIsum"):
        score_survey(df[["emotional_exhaustion"]].assign(emotional_exhaustion=3.0), mbi)
    with pytest.raises(tr.SurveyInputError, match="cynicism='high' is not a number"):
        score_survey(df.assign(emotional_exhaustion=3.0, cynicism="high"), mbi)


# --------------------------------------------------------------------------------------------
# Frames holding several instruments, carried columns, Register input
# --------------------------------------------------------------------------------------------


def mixed_frame() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "employee_id": ["a", "b", "c", "d"],
            "date": pd.to_datetime(["2021-01-01", "2021-02-01", "2021-03-01", "2021-04-01"]),
            "instrument": ["CBI", "proqol5", "BAT-12", "cbi"],
        },
        index=[10, 11, 12, 13],
    )
    for i in range(1, 31):
        df[f"item_{i:02d}"] = [
            3 if i <= 19 else NAN,
            2,
            4 if i <= 12 else NAN,
            5 if i <= 19 else NAN,
        ]
    return df


@pytest.mark.parametrize(
    ("name", "index", "column", "values"),
    [
        ("CBI", [10, 13], "personal", [50.0, 100.0]),
        ("ProQOL", [11], "burnout", [30.0]),  # 5 * 2 + 5 * (6 - 2)
        ("BAT12", [12], "total", [4.0]),
    ],
)
def test_scores_only_rows_of_the_requested_instrument(name, index, column, values):
    out = score_survey(mixed_frame(), name)
    assert out.index.tolist() == index
    assert out[column].tolist() == values
    assert {"employee_id", "date", "instrument"} <= set(out.columns)
    assert not any(c.startswith("item_") for c in out.columns)
    assert out["date"].dtype == mixed_frame()["date"].dtype


def test_no_rows_of_instrument_warns():
    df = mixed_frame().query("instrument != 'BAT-12'")
    with pytest.warns(DataQualityWarning, match="no rows of instrument 'BAT12'"):
        out = score_survey(df, "BAT12")
    assert len(out) == 0 and "total" in out.columns


def test_register_input_uses_surveys_table():
    emp = pd.DataFrame({"employee_id": ["a"], "unit_id": ["u"]})
    reg = tr.Register(employment=emp, surveys=mixed_frame())
    assert score_survey(reg, "CBI")["personal"].tolist() == [50.0, 100.0]
    with pytest.raises(ValueError, match="the Register has no surveys table"):
        score_survey(tr.Register(employment=emp), "CBI")


def test_unpadded_item_columns_are_read():
    df = pd.DataFrame({f"item_{i}": [3] for i in range(1, 13)})
    assert score_survey(df, "BAT12").loc[0, "total"] == 3.0
    with pytest.raises(ValueError, match="columns 'item_1' and 'item_01' both hold item 1"):
        score_survey(df.assign(item_01=3), "BAT12")


def test_custom_item_prefix():
    df = pd.DataFrame({f"q{i:02d}": [2] for i in range(1, 13)})
    assert score_survey(df, "BAT12", item_prefix="q").loc[0, "total"] == 2.0


def test_output_column_clash_is_refused():
    df = frame(12, items(range(1, 13), 3), total=[1.0])
    with pytest.raises(ValueError, match=r"already has column\(s\) \['total'\]"):
        score_survey(df, "BAT12")


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (7, r"row 'r2': item_05=7 is outside the CBI answer range 1\.\.5"),
        (0, r"row 'r2': item_05=0 is outside the CBI answer range 1\.\.5"),
        (-1, r"item_05=-1 is outside"),
        (2.5, r"row 'r2': item_05=2\.5 is not a whole answer code"),
        (
            "Allways",
            r"row 'r2': item_05='Allways' is not an answer label of CBI; use a code 1\.\.5",
        ),
        ("6", r"row 'r2': item_05='6' is outside the CBI answer range"),
        (True, r"row 'r2': item_05=True has type bool"),
    ],
)
def test_invalid_answers_raise_naming_row_item_value(value, match):
    df = frame(19, items(range(1, 20), [3, 3, 3]))
    df["item_05"] = pd.Series([3, value, 3], dtype=object)
    df.index = ["r1", "r2", "r3"]
    with pytest.raises(tr.SurveyInputError, match=match) as info:
        score_survey(df, "CBI")
    problems = info.value.problems
    assert problems[["row", "column"]].values.tolist() == [["r2", "item_05"]]
    assert problems.loc[0, "value"] == value


def test_numeric_out_of_range_in_numeric_column():
    df = frame(19, items(range(1, 20), [3, 3]))
    df["item_05"] = [3, 6]
    with pytest.raises(tr.SurveyInputError, match=r"row 1: item_05=6 is outside"):
        score_survey(df, "CBI")


def test_missing_item_column_raises():
    df = frame(19, items(range(1, 20), 3)).drop(columns="item_19")
    with pytest.raises(tr.SurveyInputError, match="item column 'item_19' is missing; CBI needs"):
        score_survey(df, "CBI")


def test_answer_in_item_the_instrument_lacks_raises():
    df = frame(12, items(range(1, 13), 3)).assign(item_13=[4.0])
    with pytest.raises(tr.SurveyInputError, match="row 0: item_13=4.0: BAT12 has only 12 items"):
        score_survey(df, "BAT12")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"instrument": "CBl"},
            ValueError,
            "instrument='CBl' is not a known instrument; choose one of: CBI, ProQOL, BAT12, MBI",
        ),
        ({"instrument": 3}, TypeError, "instrument must be a name"),
        ({"on_missing": "drop"}, ValueError, "on_missing='drop' is not known; choose one of"),
        ({"on_invalid": "coerce"}, ValueError, "on_invalid='coerce' is not known"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        score_survey(frame(19, items(range(1, 20), 3)), **kwargs)


def test_responses_must_be_a_frame():
    with pytest.raises(TypeError, match="responses must be a pandas DataFrame"):
        score_survey([[1, 2, 3]], "CBI")


def test_on_invalid_nan_reports_and_scores_the_rest():
    df = frame(12, items(range(1, 13), [3, 3]))
    df["item_02"] = pd.Series([9, "sometimes"], dtype=object)
    df = df.drop(columns="item_12")
    with pytest.warns(
        DataQualityWarning, match=r"2 invalid BAT12 answer\(s\) were treated as missing"
    ):
        out = score_survey(df, "BAT12", on_invalid="nan")
    # row 0: item 2 invalid -> missing; exhaustion 2 of 3 -> (3 + 3)/2; total 10 answered -> 3
    assert out.loc[0, "exhaustion_n_items"] == 2
    assert out.loc[0, "total_n_items"] == 10
    assert out.loc[0, "total"] == 3.0
    assert out.loc[1, "total_n_items"] == 11  # "sometimes" is a valid label (3)
    problems = survey_problems(out)
    assert problems["rule"].tolist() == ["missing_column", "out_of_range"]
    assert problems["row"].tolist() == [None, 0]
    assert problems["column"].tolist() == ["item_12", "item_02"]


def test_survey_problems_needs_score_survey_output():
    assert survey_problems(score_survey(frame(12, items(range(1, 13), 3)), "BAT12")).empty
    with pytest.raises(ValueError, match="carries no problem report"):
        survey_problems(pd.DataFrame({"a": [1]}))


def test_error_lists_at_most_five_and_counts_the_rest():
    df = frame(12, items(range(1, 13), [9] * 7))
    with pytest.raises(tr.SurveyInputError, match=r"84 problem\(s\).*\(and 79 more\)") as info:
        score_survey(df, "BAT12")
    assert len(info.value.problems) == 84


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

BUILTINS = ["CBI", "ProQOL", "BAT12"]


@st.composite
def responses(draw, name: str):
    inst = get_instrument(name)
    n_rows = draw(st.integers(1, 12))
    cells = st.one_of(st.just(NAN), st.integers(inst.response_min, inst.response_max))
    data = {
        col: draw(st.lists(cells, min_size=n_rows, max_size=n_rows)) for col in inst.item_columns()
    }
    return pd.DataFrame({"rid": range(n_rows), **data}, dtype=float)


@pytest.mark.parametrize("name", BUILTINS)
@PROPS
@given(data=st.data())
def test_row_permutation_changes_nothing(name, data):
    df = data.draw(responses(name))
    perm = data.draw(st.permutations(range(len(df))))
    a = score_survey(df, name)
    b = score_survey(df.iloc[list(perm)], name).loc[a.index]
    pd.testing.assert_frame_equal(a, b)


@PROPS
@given(name=st.sampled_from(BUILTINS), code=st.integers(1, 5))
def test_reversing_twice_is_identity(name, code):
    inst = get_instrument(name)
    assert inst.reverse_code(inst.reverse_code(code)) == code
    assert inst.response_min <= inst.reverse_code(code) <= inst.response_max


@pytest.mark.parametrize("name", ["CBI", "ProQOL"])
@PROPS
@given(data=st.data())
def test_reverse_coding_equals_pre_reversed_answers(name, data):
    # scoring with reverse items == reversing those answers by hand (6 - x) and scoring with an
    # instrument that reverses nothing; reversing the data twice gives the original scores
    inst = get_instrument(name)
    df = data.draw(responses(name))
    flipped = df.copy()
    for i in inst.reverse:
        col = inst.item_columns()[i - 1]
        flipped[col] = inst.reverse_code(df[col])
    plain = dataclasses.replace(inst, reverse=())
    pd.testing.assert_frame_equal(score_survey(df, inst), score_survey(flipped, plain))
    twice = flipped.copy()
    for i in inst.reverse:
        col = inst.item_columns()[i - 1]
        twice[col] = inst.reverse_code(flipped[col])
    pd.testing.assert_frame_equal(score_survey(twice, inst), score_survey(df, inst))


@pytest.mark.parametrize("name", BUILTINS)
@PROPS
@given(data=st.data())
def test_scores_in_range_and_nan_exactly_below_rule(name, data):
    inst = get_instrument(name)
    df = data.draw(responses(name))
    out = score_survey(df, name)
    for sub, sub_items in inst.subscales.items():
        lo, hi = inst.score_range(sub)
        scores, n = out[sub].to_numpy(), out[f"{sub}_n_items"].to_numpy()
        expected_n = df[[inst.item_columns()[i - 1] for i in sub_items]].notna().sum(axis=1)
        np.testing.assert_array_equal(n, expected_n.to_numpy())
        np.testing.assert_array_equal(np.isnan(scores), n < inst.min_items[sub])
        ok = scores[~np.isnan(scores)]
        assert ((ok >= lo - 1e-9) & (ok <= hi + 1e-9)).all()


@PROPS
@given(data=st.data())
def test_labels_score_like_codes(data):
    df = data.draw(responses("CBI"))
    words = {1: "Aldri/nesten aldri", 2: "SJELDEN", 3: " noen  ganger", 4: "Often", 5: "altid"}
    labelled = df.copy()
    for col in get_instrument("CBI").item_columns():
        labelled[col] = pd.Series([None if math.isnan(v) else words[int(v)] for v in df[col]])
    pd.testing.assert_frame_equal(score_survey(df, "CBI"), score_survey(labelled, "CBI"))


# --------------------------------------------------------------------------------------------
# Team-level summaries
# --------------------------------------------------------------------------------------------


def team_scores() -> pd.DataFrame:
    # u1: persons a-e, total codes 1..5 -> totals 1, 2, 3, 4, 5 (mean 3; severe: 3, 4, 5 -> 0.6)
    # u2: persons f, g -> suppressed (2 < 5)
    # person a answered twice; the later answer (code 1) is the one kept with per_person="latest"
    df = pd.DataFrame(
        {
            "employee_id": ["a", "a", "b", "c", "d", "e", "f", "g"],
            "unit_id": ["u1"] * 6 + ["u2"] * 2,
            "date": pd.to_datetime(
                ["2021-06-01", "2021-01-01", *["2021-03-01"] * 6]
            ),  # a's first row is the later one
        }
    )
    codes = [1, 5, 2, 3, 4, 5, 5, 5]
    for i in range(1, 13):
        df[f"item_{i:02d}"] = codes
    return score_survey(df, "BAT12")


def test_summarise_scores_by_hand():
    out = summarise_scores(team_scores(), by="unit_id")
    u1 = out.set_index("unit_id").loc["u1"]
    assert u1["n_persons"] == 5
    assert u1["n_responses"] == 5  # latest response per person
    assert u1["total_mean"] == pytest.approx(3.0)  # (1 + 2 + 3 + 4 + 5) / 5
    assert u1["total_share_severe"] == pytest.approx(0.6)  # 3, 4, 5 >= 2.96
    assert u1["total_share_at_risk"] == pytest.approx(0.0)
    assert u1["total_share_low"] == pytest.approx(0.4)
    assert not u1["suppressed"]
    u2 = out.set_index("unit_id").loc["u2"]
    assert u2["suppressed"] and u2["total_suppressed"]
    assert math.isnan(u2["total_mean"])
    assert u2["n_persons"] == 2


def test_summarise_all_responses_counts_persons_once():
    out = summarise_scores(team_scores(), by="unit_id", per_person="all")
    u1 = out.set_index("unit_id").loc["u1"]
    assert (u1["n_responses"], u1["n_persons"]) == (6, 5)
    assert u1["total_mean"] == pytest.approx((1 + 5 + 2 + 3 + 4 + 5) / 6)


def test_summarise_suppresses_subscale_with_few_scored_persons():
    scored = team_scores()
    scored.loc[scored["employee_id"].isin(["b", "c"]), "exhaustion"] = NAN
    u1 = summarise_scores(scored, by="unit_id").set_index("unit_id").loc["u1"]
    assert u1["exhaustion_n_persons"] == 3
    assert u1["exhaustion_suppressed"] and math.isnan(u1["exhaustion_mean"])
    assert not u1["total_suppressed"] and u1["total_mean"] == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"by": "team"}, ValueError, r"no column\(s\) \['team'\]"),
        ({"min_group_size": 2}, ValueError, "below the library's floor of 3"),
        ({"per_person": "first"}, ValueError, "per_person='first' is not known"),
    ],
)
def test_summarise_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        summarise_scores(team_scores(), **{"by": "unit_id", **kwargs})


def test_summarise_needs_instrument_when_attrs_lost():
    scored = pd.DataFrame(team_scores())
    scored.attrs = {}
    with pytest.raises(ValueError, match="pass instrument="):
        summarise_scores(scored, by="unit_id")
    out = summarise_scores(scored, by="unit_id", instrument="BAT12", min_group_size=3)
    assert out["total_mean"].notna().tolist() == [True, False]


def test_public_names_exist():
    for name in ("Instrument", "score_survey", "get_instrument", "INSTRUMENTS", "summarise_scores"):
        assert name in tr.__all__ and hasattr(tr, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score_survey(frame(19, items(range(1, 20), 3)), "CBI")  # clean input: no warnings
