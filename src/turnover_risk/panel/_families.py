"""Families and cause categories of the panel features (private; read through ``FEATURES``).

A *family* groups the variants of one measure (the caseload of the latest month, its 3-month
mean, trend and ratio to the unit median are one family, ``caseload``) so that a report can
merge their drivers into one line; each family belongs to one of the five *cause categories*
leaders and Bufdir sort reasons for leaving into. ``Feature.family`` and ``Feature.cause``
name keys of :data:`FAMILIES` and :data:`CAUSES`, which hold the English and bokmål labels.
"""

from __future__ import annotations

CAUSES: dict[str, tuple[str, str]] = {
    # key: (English, bokmål) -- the five cause categories of leaving, in reading order
    "working_conditions": ("working conditions", "arbeidsvilkår"),
    "leadership": ("leadership", "ledelse"),
    "professional_environment": ("professional environment", "faglig miljø"),
    "psychosocial_environment": ("psychosocial environment", "psykososialt miljø"),
    "individual": ("individual factors", "individuelle forhold"),
}
"""The five cause categories (key: English and bokmål label) that ``Feature.cause`` names."""

FAMILIES: dict[str, tuple[str, str]] = {
    # key: (English, bokmål) -- a family groups the variants of one measure
    "tenure": ("tenure and newly qualified", "ansiennitet og nyutdannet"),
    "age": ("age", "alder"),
    "position_share": ("position share", "stillingsprosent"),
    "role": ("job role", "stillingstype"),
    "caseload": ("caseload", "saksmengde"),
    "case_mix": ("share of care-order cases", "andel omsorgssaker"),
    "deadline_breaches": ("deadline breaches", "fristbrudd"),
    "supervision": ("supervision", "veiledning"),
    "onboarding": ("weekly supervision for new staff", "ukentlig veiledning for nyansatte"),
    "supervision_coverage": ("supervision coverage in the unit", "veiledningsdekning i enheten"),
    "burnout": ("burnout", "utbrenthet"),
    "compassion_satisfaction": ("satisfaction with helping", "glede ved å hjelpe"),
    "secondary_stress": ("secondary traumatic stress", "sekundær traumatisk stress"),
    "survey_response": ("survey answered or not", "svar på spørreundersøkelse"),
    "sick_leave": ("own sick leave", "eget sykefravær"),
    "unit_sick_leave": ("sick leave in the unit", "sykefravær i enheten"),
    "colleagues_left": ("colleagues who left", "kolleger som har sluttet"),
    "unit_size": ("unit size", "enhetens størrelse"),
}
"""Feature families (key: English and bokmål label) that ``Feature.family`` names."""

_BAT = ("exhaustion", "mental_distance", "cognitive_impairment", "emotional_impairment", "total")
_WC, _LEAD, _PROF, _PSY, _IND = (
    "working_conditions",
    "leadership",
    "professional_environment",
    "psychosocial_environment",
    "individual",
)
_FAMILY_CAUSE: dict[str, tuple[str, str]] = {
    # feature: (family, cause category); every feature of a family has the same category
    "tenure_service_months": ("tenure", _IND),
    "tenure_unit_months": ("tenure", _IND),
    "rehired": ("tenure", _IND),
    "newly_qualified": ("tenure", _IND),
    "age": ("age", _IND),
    "fte": ("position_share", _WC),
    "role": ("role", _IND),
    "caseload_last": ("caseload", _WC),
    "caseload_3m_mean": ("caseload", _WC),
    "caseload_6m_trend": ("caseload", _WC),
    "caseload_ratio_unit_median": ("caseload", _WC),
    "unit_caseload_mean": ("caseload", _WC),
    "care_order_share": ("case_mix", _WC),
    "deadline_breaches_3m": ("deadline_breaches", _WC),
    "supervision_sessions_3m": ("supervision", _PROF),
    "supervision_minutes_3m": ("supervision", _PROF),
    "months_since_supervision": ("supervision", _PROF),
    "supervision_process_group_share": ("supervision", _PROF),
    "new_staff_weekly_supervision": ("onboarding", _LEAD),
    "unit_supervision_coverage_3m": ("supervision_coverage", _LEAD),
    **{f"cbi_{s}": ("burnout", _PSY) for s in ("personal", "work", "client")},
    **{f"bat_{s}": ("burnout", _PSY) for s in _BAT},
    "proqol_burnout": ("burnout", _PSY),
    "proqol_compassion_satisfaction": ("compassion_satisfaction", _PSY),
    "proqol_secondary_traumatic_stress": ("secondary_stress", _PSY),
    **{
        f"{p}_{s}": ("survey_response", _IND)
        for p in ("cbi", "proqol", "bat")
        for s in ("age_months", "missing")
    },
    "unit_cbi_work_mean": ("burnout", _PSY),
    "unit_proqol_burnout_mean": ("burnout", _PSY),
    "unit_bat_total_mean": ("burnout", _PSY),
    "sick_days_12m": ("sick_leave", _IND),
    "sick_spells_12m": ("sick_leave", _IND),
    "sick_long_spell_12m": ("sick_leave", _IND),
    "unit_sick_leave_pct_12m": ("unit_sick_leave", _PSY),
    "colleagues_left_3m": ("colleagues_left", _PSY),
    "colleagues_left_12m": ("colleagues_left", _PSY),
    "colleagues_left_share_3m": ("colleagues_left", _PSY),
    "colleagues_left_share_12m": ("colleagues_left", _PSY),
    "unit_exit_share_12m": ("colleagues_left", _PSY),
    "unit_headcount": ("unit_size", _WC),
    "unit_headcount_change_12m": ("unit_size", _WC),
}
