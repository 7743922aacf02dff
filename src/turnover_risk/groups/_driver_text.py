"""Drivers of flagged groups and the words they are shown in.

The top features of each flagged group by the difference of its mean SHAP value from the
population's (:func:`turnover_risk.group_drivers`), the short English and bokmål
feature labels (:func:`feature_label`) and the one-line driver texts (:func:`driver_text`).
Both functions are re-exported by :mod:`turnover_risk.groups`.

A driver's difference is in log-odds (what the model adds up); it is shown in percentage
points of risk (:func:`_risk_points`, also used by the report): for a group with predicted
share ``s`` and a difference ``d``, ``s - expit(logit(s) - d)`` — how much lower the group's
share would be if that feature's contribution were at the population's level, everything
else as it is. A HazardModel's drivers are log-hazard differences, in percentage points of the
group's cumulative incidence at the horizon (``_hazard_drivers``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from turnover_risk.groups._common import _with_spec

_FEATURE_LABELS: dict[str, tuple[str, str]] = {
    # name: (English, bokmål) -- short labels for tables and driver texts
    "tenure_service_months": ("tenure in the service", "ansiennitet i tjenesten"),
    "tenure_unit_months": ("tenure in the unit", "ansiennitet i enheten"),
    "rehired": ("re-hired", "gjenansatt"),
    "newly_qualified": ("newly qualified", "nyutdannet"),
    "age": ("age", "alder"),
    "fte": ("position share", "stillingsprosent"),
    "role": ("role", "rolle"),
    "caseload_last": ("caseload, latest month", "saksmengde, siste måned"),
    "caseload_3m_mean": ("caseload 3-month mean", "saksmengde, snitt 3 mnd."),
    "caseload_6m_trend": ("caseload 6-month trend", "saksmengde, trend 6 mnd."),
    "caseload_ratio_unit_median": ("caseload vs. unit median", "saksmengde mot enhetens median"),
    "care_order_share": ("share of care-order cases", "andel omsorgssaker"),
    "deadline_breaches_3m": ("deadline breaches, 3 months", "fristbrudd, 3 mnd."),
    "supervision_sessions_3m": ("supervision sessions, 3 months", "veiledningsøkter, 3 mnd."),
    "supervision_minutes_3m": ("supervision minutes, 3 months", "veiledningsminutter, 3 mnd."),
    "months_since_supervision": ("months since supervision", "måneder siden veiledning"),
    "supervision_process_group_share": (
        "share of process/group supervision",
        "andel prosess-/gruppeveiledning",
    ),
    "new_staff_weekly_supervision": (
        "weekly supervision for new staff",
        "ukentlig veiledning for nyansatte",
    ),
    "cbi_personal": ("personal burnout (CBI)", "personlig utbrenthet (CBI)"),
    "cbi_work": ("work-related burnout (CBI)", "arbeidsrelatert utbrenthet (CBI)"),
    "cbi_client": ("client-related burnout (CBI)", "klientrelatert utbrenthet (CBI)"),
    "cbi_age_months": ("age of CBI survey", "alder på CBI-svar"),
    "cbi_missing": ("no CBI survey", "mangler CBI-svar"),
    "proqol_compassion_satisfaction": (
        "compassion satisfaction (ProQOL)",
        "medfølelsestilfredshet (ProQOL)",
    ),
    "proqol_burnout": ("burnout (ProQOL)", "utbrenthet (ProQOL)"),
    "proqol_secondary_traumatic_stress": (
        "secondary traumatic stress (ProQOL)",
        "sekundær traumatisk stress (ProQOL)",
    ),
    "proqol_age_months": ("age of ProQOL survey", "alder på ProQOL-svar"),
    "proqol_missing": ("no ProQOL survey", "mangler ProQOL-svar"),
    "bat_exhaustion": ("exhaustion (BAT)", "utmattelse (BAT)"),
    "bat_mental_distance": ("mental distance (BAT)", "mental distanse (BAT)"),
    "bat_cognitive_impairment": ("cognitive impairment (BAT)", "kognitiv svikt (BAT)"),
    "bat_emotional_impairment": ("emotional impairment (BAT)", "emosjonell svikt (BAT)"),
    "bat_total": ("burnout total (BAT)", "utbrenthet totalt (BAT)"),
    "bat_age_months": ("age of BAT survey", "alder på BAT-svar"),
    "bat_missing": ("no BAT survey", "mangler BAT-svar"),
    "sick_days_12m": ("sick-leave days, 12 months", "sykefraværsdager, 12 mnd."),
    "sick_spells_12m": ("sick-leave spells, 12 months", "sykefraværstilfeller, 12 mnd."),
    "sick_long_spell_12m": ("long sick-leave spell, 12 months", "langt sykefravær, 12 mnd."),
    "colleagues_left_3m": ("colleagues who left, 3 months", "kolleger som sluttet, 3 mnd."),
    "colleagues_left_12m": ("colleagues who left, 12 months", "kolleger som sluttet, 12 mnd."),
    "colleagues_left_share_3m": (
        "share of colleagues who left, 3 months",
        "andel kolleger som sluttet, 3 mnd.",
    ),
    "colleagues_left_share_12m": (
        "share of colleagues who left, 12 months",
        "andel kolleger som sluttet, 12 mnd.",
    ),
    "unit_headcount": ("unit headcount", "antall ansatte i enheten"),
    "unit_headcount_change_12m": (
        "change in unit headcount, 12 months",
        "endring i antall ansatte, 12 mnd.",
    ),
    "unit_exit_share_12m": ("unit exit share, 12 months", "enhetens avgangsandel, 12 mnd."),
    "unit_caseload_mean": ("unit mean caseload", "enhetens gjennomsnittlige saksmengde"),
    "unit_sick_leave_pct_12m": ("unit sick-leave %, 12 months", "enhetens sykefravær %, 12 mnd."),
    "unit_supervision_coverage_3m": (
        "unit supervision coverage, 3 months",
        "enhetens veiledningsdekning, 3 mnd.",
    ),
    "unit_cbi_work_mean": (
        "unit work-related burnout (CBI)",
        "enhetens arbeidsrelaterte utbrenthet (CBI)",
    ),
    "unit_proqol_burnout_mean": ("unit burnout (ProQOL)", "enhetens utbrenthet (ProQOL)"),
    "unit_bat_total_mean": ("unit burnout total (BAT)", "enhetens utbrenthet totalt (BAT)"),
}

_GROUP_NOUNS = {
    "unit_id": "units",
    "unit": "units",
    "municipality": "municipalities",
    "service": "services",
    "team": "teams",
}

_GROUP_NOUNS_NB = {
    "unit_id": "enheter",
    "unit": "enheter",
    "municipality": "kommuner",
    "service": "tjenester",
    "team": "team",
}


def feature_label(name: str, lang: str = "en") -> str:
    """Short readable label of a feature, e.g. ``"caseload 3-month mean"``.

    Known features have a short English and bokmål label (``lang="en"|"nb"``). Other names use
    their ``tr.FEATURES`` description when it is short (up to 40 characters, cut at the first
    sentence end), else the name with spaces for underscores.

    Examples
    --------
    >>> feature_label("caseload_3m_mean"), feature_label("caseload_3m_mean", "nb")
    ('caseload 3-month mean', 'saksmengde, snitt 3 mnd.')
    >>> feature_label("my_custom_score")
    'my custom score'
    """
    if name in _FEATURE_LABELS:
        return _FEATURE_LABELS[name][1 if lang == "nb" else 0]
    try:
        from turnover_risk.panel._build import FEATURES
    except ImportError:  # pragma: no cover - features is part of the package
        FEATURES = {}
    feat = FEATURES.get(name) if hasattr(FEATURES, "get") else None
    text = (getattr(feat, "description", "") or "").split(". ")[0].rstrip(".").strip()
    if text and len(text) <= 40:
        return text[0].lower() + text[1:] if not text[1:2].isupper() else text
    return name.replace("_", " ")


def driver_text(
    feature: str, difference: float, by: str, lang: str = "en", *, points: float | None = None
) -> str:
    """One driver as a sentence, e.g. ``"caseload 3-month mean, +0.31 log-odds vs. all units"``.

    Parameters
    ----------
    feature : str
        Feature name.
    difference : float
        The group's mean attribution minus the population's, in log-odds.
    by : str
        The group column (names the groups compared with).
    lang : {"en", "nb"}
        Language (bokmål with a decimal comma).
    points : float, optional
        The same difference in percentage points of risk (e.g. ``1.8``); when given, the
        sentence states it instead of the log-odds (as the flags table does).

    Examples
    --------
    >>> driver_text("caseload_3m_mean", 0.314, "unit_id")
    'caseload 3-month mean, +0.31 log-odds vs. all units'
    >>> driver_text("caseload_3m_mean", -0.2, "municipality", lang="nb")
    'saksmengde, snitt 3 mnd., -0.20 log-odds mot alle kommuner'
    >>> driver_text("caseload_3m_mean", 0.314, "unit_id", points=4.06)
    'caseload 3-month mean, +4.1 percentage points vs. all units'
    >>> driver_text("caseload_3m_mean", 0.314, "unit_id", lang="nb", points=4.06)
    'saksmengde, snitt 3 mnd., +4,1 prosentpoeng mot alle enheter'
    """
    if lang == "nb":
        noun = _GROUP_NOUNS_NB.get(by, "grupper")
        if points is not None:
            value = f"{points:+.1f}".replace(".", ",")
            return f"{feature_label(feature, 'nb')}, {value} prosentpoeng mot alle {noun}"
        return f"{feature_label(feature, 'nb')}, {difference:+.2f} log-odds mot alle {noun}"
    noun = _GROUP_NOUNS.get(by, "groups")
    if points is not None:
        return f"{feature_label(feature)}, {points:+.1f} percentage points vs. all {noun}"
    return f"{feature_label(feature)}, {difference:+.2f} log-odds vs. all {noun}"


def _risk_points(share, difference):
    """A driver's log-odds ``difference`` as a difference of risk for a group whose predicted
    share is ``share``: ``share - expit(logit(share) - difference)`` (a share difference;
    times 100 for percentage points). ``share`` is clipped to ``[1e-9, 1 - 1e-9]``. Works on
    numbers and arrays.

    Examples
    --------
    >>> round(float(_risk_points(0.2, 0.5)), 4)  # 0.2 - expit(logit(0.2) - 0.5)
    0.0683
    """
    s = np.clip(np.asarray(share, dtype=float), 1e-9, 1 - 1e-9)
    d = np.asarray(difference, dtype=float)
    out = s - 1.0 / (1.0 + np.exp(-(np.log(s / (1 - s)) - d)))
    return float(out) if out.ndim == 0 else out


def _empty_drivers(by_cols) -> pd.DataFrame:
    return pd.DataFrame(
        {
            **{c: pd.Series(dtype="object") for c in by_cols},
            "rank": pd.Series(dtype="int64"),
            "feature": pd.Series(dtype="str"),
            "label": pd.Series(dtype="str"),
            "difference": pd.Series(dtype=float),
            "difference_pp": pd.Series(dtype=float),
            "se": pd.Series(dtype=float),
            "text": pd.Series(dtype="str"),
        }
    )


def _top_drivers(model, rows, spec, by_cols, flagged, n_drivers, rng) -> pd.DataFrame:
    """The ``n_drivers`` largest drivers of each flagged group; ``flagged`` holds the group
    column(s) and ``share``, the group's predicted share (for percentage points). A
    HazardModel's flags (``model`` its :class:`~turnover_risk.scoring._hazard.HazardRisk`) get
    log-hazard drivers in points of the risk at the horizon (``_hazard_drivers``)."""
    from turnover_risk.groups._group_drivers import group_drivers
    from turnover_risk.scoring._hazard import HazardRisk

    if isinstance(model, HazardRisk):
        from turnover_risk.groups._hazard_drivers import hazard_top_drivers

        return hazard_top_drivers(model, rows, list(by_cols), flagged, n_drivers)

    X = _with_spec(rows.reset_index(drop=True), rows)
    d = group_drivers(model, X, list(by_cols) if len(by_cols) > 1 else by_cols[0], random_state=rng)
    d = d.merge(flagged.drop_duplicates(list(by_cols)), on=list(by_cols), how="inner")
    if d.empty:
        return _empty_drivers(by_cols)
    d = d.assign(_abs=d["difference"].abs()).sort_values(
        [*by_cols, "_abs"], ascending=[True] * len(by_cols) + [False]
    )
    d["rank"] = d.groupby(list(by_cols), sort=False).cumcount() + 1
    d = d[d["rank"] <= n_drivers].copy()
    d["label"] = [feature_label(f) for f in d["feature"]]
    d["difference_pp"] = 100 * _risk_points(d["share"].to_numpy(), d["difference"].to_numpy())
    d["text"] = [
        driver_text(f, diff, by_cols[-1], points=pp)
        for f, diff, pp in zip(d["feature"], d["difference"], d["difference_pp"], strict=True)
    ]
    cols = [*by_cols, "rank", "feature", "label", "difference", "difference_pp", "se", "text"]
    return d[cols].reset_index(drop=True)
