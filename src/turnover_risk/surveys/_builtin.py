"""The built-in instruments CBI, ProQOL 5, BAT-12 and the MBI pass-through (private; use
:func:`turnover_risk.surveys.get_instrument`). Item numbers, answer labels and cut-offs as in
``docs/instruments.md`` and ``docs/sources.md``; no item texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from turnover_risk.surveys._instrument import Cutoffs, Instrument

_FREQ_EN = {
    "always": 5,
    "often": 4,
    "sometimes": 3,
    "seldom": 2,
    "never/almost never": 1,
    "never or almost never": 1,
}

_FREQ_NO = {"alltid": 5, "ofte": 4, "noen ganger": 3, "sjelden": 2, "aldri/nesten aldri": 1}

_FREQ_DA = {"altid": 5, "somme tider": 3, "sjældent": 2, "aldrig/næsten aldrig": 1}

_DEGREE_EN = {
    "to a very high degree": 5,
    "to a high degree": 4,
    "somewhat": 3,
    "to a low degree": 2,
    "to a very low degree": 1,
}

_DEGREE_NO = {
    "i svært høy grad": 5,
    "i høy grad": 4,
    "i noen grad": 3,
    "delvis": 3,
    "i liten grad": 2,
    "i lav grad": 2,
    "i svært liten grad": 1,
    "i svært lav grad": 1,
}

_DEGREE_DA = {
    "i meget høj grad": 5,
    "i høj grad": 4,
    "delvist": 3,
    "i lav grad": 2,
    "i meget lav grad": 1,
}

CBI = Instrument(
    name="CBI",
    n_items=19,
    subscales={
        "personal": (1, 2, 3, 4, 5, 6),
        "work": (7, 8, 9, 10, 11, 12, 13),
        "client": (14, 15, 16, 17, 18, 19),
    },
    # work items in the order of the PUMA scoring document: 7 emotionally exhausting, 8 burnt
    # out, 9 frustrating, 10 worn out at the end of the day, 11 exhausted in the morning,
    # 12 every working hour tiring, 13 energy for family and friends ("reversed score for
    # last question"). A form with another item order needs its own Instrument.
    reverse=(13,),
    labels={**_FREQ_EN, **_FREQ_NO, **_FREQ_DA, **_DEGREE_EN, **_DEGREE_NO, **_DEGREE_DA},
    method="mean",
    item_values={1: 0.0, 2: 25.0, 3: 50.0, 4: 75.0, 5: 100.0},
    min_items={"personal": 3, "work": 4, "client": 3},
    cutoffs={
        sub: Cutoffs(
            (50.0,),
            ("low", "high"),
            source="Kristensen et al. 2005, Work & Stress 19(3); >= 50 'high' as quoted in "
            "secondary literature",
            status="secondary",
        )
        for sub in ("personal", "work", "client")
    },
    total=None,
    description="Copenhagen Burnout Inventory: personal, work-related and client-related "
    "burnout, each 0-100 (mean of answered items; 100 = always / to a very high degree).",
    source="Kristensen, Borritz, Villadsen & Christensen 2005, Work & Stress 19(3):192-207; "
    "item order and the reversed item 13 (the last work item): PUMA CBI scoring document, "
    "confirmed (also PMC9358756, Table 1)",
    missing_rule="A scale is NaN when fewer than 3 (personal), 4 (work) or 3 (client) items are "
    "answered. Personal and work: CBI scoring instructions (docs/sources.md); client: "
    "unconfirmed (library default, override with with_rules(min_items=...)).",
)

_PROQOL_LABELS = {
    "never": 1,
    "rarely": 2,
    "sometimes": 3,
    "often": 4,
    "very often": 5,
    "aldri": 1,
    "sjelden": 2,
    "noen ganger": 3,
    "ofte": 4,
    "svært ofte": 5,
}

_PROQOL_CUTS = Cutoffs(
    (23.0, 42.0),
    ("low", "moderate", "high"),
    source="Stamm 2010, The Concise ProQOL Manual (raw sums: <= 22 low, 23-41 moderate, "
    ">= 42 high)",
    status="confirmed",
)

PROQOL = Instrument(
    name="ProQOL",
    n_items=30,
    subscales={
        "compassion_satisfaction": (3, 6, 12, 16, 18, 20, 22, 24, 27, 30),
        "burnout": (1, 4, 8, 10, 15, 17, 19, 21, 26, 29),
        "secondary_traumatic_stress": (2, 5, 7, 9, 11, 13, 14, 23, 25, 28),
    },
    reverse=(1, 4, 15, 17, 29),
    labels=_PROQOL_LABELS,
    method="sum",
    min_items={"compassion_satisfaction": 8, "burnout": 8, "secondary_traumatic_stress": 8},
    cutoffs=dict.fromkeys(
        ("compassion_satisfaction", "burnout", "secondary_traumatic_stress"), _PROQOL_CUTS
    ),
    description="Professional Quality of Life Scale version 5: three raw sums of 10 items "
    "(10-50). Reverse items 1, 4, 15, 17, 29 (6 - x) enter the burnout sum.",
    source="Stamm 2010, The Concise ProQOL Manual; reverse items: secondary",
    missing_rule="A scale needs at least 8 of its 10 items; a scale with 8 or 9 answered is "
    "prorated (mean of answered items x 10). Library default, unconfirmed: the manual gives no "
    "rule. Override with with_rules(min_items=...) (10 = no missing allowed).",
)

_BAT_LABELS = {
    "never": 1,
    "rarely": 2,
    "sometimes": 3,
    "often": 4,
    "always": 5,
    "aldri": 1,
    "sjelden": 2,
    "noen ganger": 3,
    "ofte": 4,
    "alltid": 5,
}

BAT12 = Instrument(
    name="BAT12",
    n_items=12,
    subscales={
        "exhaustion": (1, 2, 3),
        "mental_distance": (4, 5, 6),
        "cognitive_impairment": (7, 8, 9),
        "emotional_impairment": (10, 11, 12),
        "total": tuple(range(1, 13)),
    },
    labels=_BAT_LABELS,
    method="mean",
    min_items={
        "exhaustion": 2,
        "mental_distance": 2,
        "cognitive_impairment": 2,
        "emotional_impairment": 2,
        "total": 10,
    },
    cutoffs={
        "total": Cutoffs(
            (2.54, 2.96),
            ("low", "at_risk", "severe"),
            source="Schaufeli, De Witte, Hakanen, Kaltiainen & Kok 2023, SJWEH 49(4)",
            status="secondary",
        )
    },
    total="total",
    description="Burnout Assessment Tool, 12-item version: four dimension means (1-5) and the "
    "total (mean of all answered items).",
    source="Schaufeli, De Witte & Desart 2020, BAT manual; cut-offs Schaufeli et al. 2023",
    missing_rule="A dimension needs 2 of its 3 items, the total 10 of 12. Library default, "
    "unconfirmed; override with with_rules(min_items=...).",
)

MBI = Instrument.precomputed(
    "MBI",
    ("emotional_exhaustion", "depersonalisation", "personal_accomplishment"),
    description="Maslach Burnout Inventory (proprietary): bring precomputed subscale scores in "
    "columns emotional_exhaustion, depersonalisation, personal_accomplishment.",
    source="Maslach, Jackson & Leiter; items and norm tables are licensed and not shipped",
)

INSTRUMENTS: Mapping[str, Instrument] = MappingProxyType(
    {i.name: i for i in (CBI, PROQOL, BAT12, MBI)}
)
"""Built-in instruments by canonical name (read-only): CBI, ProQOL, BAT12, MBI (pass-through)."""

_ALIASES: dict[str, str] = {
    "cbi": "CBI",
    "copenhagenburnoutinventory": "CBI",
    "proqol": "ProQOL",
    "proqol5": "ProQOL",
    "proqolv5": "ProQOL",
    "bat12": "BAT12",
    "bat": "BAT12",
    "mbi": "MBI",
}
