"""The documented registry of panel features (private module; re-exported by ``features``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pandas as pd

from turnover_risk.panel._families import _FAMILY_CAUSE, CAUSES, FAMILIES

WEEKLY_SUPERVISION_RATE: float = 0.8
"""Sessions per completed week that count as "weekly supervision" for new staff (unconfirmed
threshold: one missed week in five, e.g. a holiday week, still counts as weekly)."""

NEW_STAFF_MONTHS: int = 6
"""New staff = fewer than this many completed months in the service (``docs/sources.md``: weekly
supervision for the first six months)."""

LONG_SPELL_DAYS: int = 16
"""A sick-leave spell longer than this many calendar days passes Norway's employer period
(arbeidsgiverperioden, confirmed)."""

UNIT_SURVEY_MAX_AGE_MONTHS: int = 12
"""Only responses at most this many months old enter a unit's survey mean."""


@dataclass(frozen=True)
class Feature:
    """One feature of the person-period panel.

    Parameters
    ----------
    name : str
        Column name in the panel.
    description : str
        What the value means and exactly which records it uses (always dated before the
        period start ``t``).
    source : str
        Table it is computed from (``employment``, ``caseload``, ``supervision``, ``surveys``,
        ``absences``).
    unit : str
        Unit of measurement (``months``, ``cases``, ``share``, ``0/1``, ...).
    lever : bool
        Whether a leader can move it directly (caseload, supervision); used by ``what_if``
        and reports to separate levers from risk markers.
    requires : tuple of str
        What must be present for the feature to be built: a table (``caseload``), a column
        (``caseload.care_order_cases``) or a survey instrument (``surveys[CBI]``). When it is
        missing the feature is absent from the panel and listed in the spec's
        ``absent_features`` (never filled with zeros).
    family : str
        The family of features that measure the same thing (a key of ``FEATURES.families``,
        e.g. ``"caseload"`` for the caseload variants); reports merge a family's drivers.
    cause : str
        Its cause category (a key of ``FEATURES.causes``): one of the five categories leaders
        and Bufdir sort reasons for leaving into.
    """

    name: str
    description: str
    source: str
    unit: str
    lever: bool = False
    requires: tuple[str, ...] = ()
    family: str = ""
    cause: str = ""


class FeatureRegistry(Mapping[str, Feature]):
    """Read-only mapping ``name -> Feature`` in panel column order, with :meth:`to_frame`."""

    def __init__(self, features: tuple[Feature, ...]) -> None:
        self._features = {f.name: f for f in features}

    def __getitem__(self, name: str) -> Feature:
        try:
            return self._features[name]
        except KeyError:
            raise KeyError(
                f"{name!r} is not a panel feature; see tr.FEATURES.to_frame() for the list"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._features)

    def __len__(self) -> int:
        return len(self._features)

    def __repr__(self) -> str:
        return f"FeatureRegistry({len(self)} features: {', '.join(list(self)[:4])}, ...)"

    @property
    def levers(self) -> tuple[str, ...]:
        """Names of the features a leader can move."""
        return tuple(n for n, f in self._features.items() if f.lever)

    @property
    def families(self) -> dict[str, tuple[str, str]]:
        """Family key -> (English, bokmål) label."""
        return dict(FAMILIES)

    @property
    def causes(self) -> dict[str, tuple[str, str]]:
        """Cause-category key -> (English, bokmål) label, in reading order."""
        return dict(CAUSES)

    def to_frame(self) -> pd.DataFrame:
        """One row per feature: name, description, source, unit, lever, requires, family,
        cause."""
        return pd.DataFrame(
            [
                {
                    "name": f.name,
                    "description": f.description,
                    "source": f.source,
                    "unit": f.unit,
                    "lever": f.lever,
                    "requires": ", ".join(f.requires),
                    "family": f.family,
                    "cause": f.cause,
                }
                for f in self._features.values()
            ]
        )


def _f(name, description, source, unit, lever=False, requires=None) -> Feature:
    family, cause = _FAMILY_CAUSE[name]
    return Feature(
        name, description, source, unit, lever, tuple(requires or (source,)), family, cause
    )


_W = "Records in the 3 calendar months before t"
_SURVEY = {
    "cbi": ("CBI", ("personal", "work", "client"), "score 0-100"),
    "proqol": (
        "ProQOL",
        ("compassion_satisfaction", "burnout", "secondary_traumatic_stress"),
        "raw sum 10-50",
    ),
    "bat": (
        "BAT12",
        ("exhaustion", "mental_distance", "cognitive_impairment", "emotional_impairment", "total"),
        "mean 1-5",
    ),
}


def _survey_features() -> list[Feature]:
    out = []
    for prefix, (instrument, subscales, unit) in _SURVEY.items():
        req = (f"surveys[{instrument}]",)
        for s in subscales:
            out.append(
                _f(
                    f"{prefix}_{s}",
                    f"{instrument} subscale '{s}' of the person's latest {instrument} response "
                    "dated before t, carried forward (scored with score_survey).",
                    "surveys",
                    unit,
                    requires=req,
                )
            )
        out.append(
            _f(
                f"{prefix}_age_months",
                f"Completed months between the latest {instrument} response and t "
                "(NaN when there is none).",
                "surveys",
                "months",
                requires=req,
            )
        )
        out.append(
            _f(
                f"{prefix}_missing",
                f"1 when the person has no {instrument} response dated before t.",
                "surveys",
                "0/1",
                requires=req,
            )
        )
    return out


_FEATURE_LIST: tuple[Feature, ...] = (
    _f(
        "tenure_service_months",
        "Completed months since the start of the current continuous episode in the service "
        "(spells in units of the same service with no gap; a re-hire after a gap restarts it).",
        "employment",
        "months",
    ),
    _f(
        "tenure_unit_months",
        "Completed months since the start of the current continuous episode in the unit.",
        "employment",
        "months",
    ),
    _f(
        "rehired",
        "1 when the person had an earlier episode in the service that ended before the "
        "current one began (a re-hire after a gap).",
        "employment",
        "0/1",
    ),
    _f(
        "newly_qualified",
        "1 when fewer than `newly_qualified_years` (default 2) calendar years separate "
        "qualified_year from the year of t; without qualified_year, when tenure_service_months "
        "is under 12 x newly_qualified_years.",
        "employment",
        "0/1",
    ),
    _f(
        "age",
        "Year of t minus birth_year.",
        "employment",
        "years",
        requires=("employment.birth_year",),
    ),
    _f("fte", "Position share of the spell covering t (0 < fte <= 1).", "employment", "share"),
    _f(
        "role",
        "Job role of the spell covering t (categorical).",
        "employment",
        "category",
        requires=("employment.role",),
    ),
    _f(
        "caseload_last",
        "open_cases of the latest monthly snapshot before t, if it is at most 3 months old "
        "(a longer gap in reporting gives NaN, never a stale or zero value).",
        "caseload",
        "cases",
        lever=True,
    ),
    _f(
        "caseload_3m_mean",
        f"Mean open_cases over the snapshots reported in the 3 months before t (missing "
        f"months are skipped, not zero). {_W}; NaN when none.",
        "caseload",
        "cases",
        lever=True,
    ),
    _f(
        "caseload_6m_trend",
        "Least-squares slope of open_cases against month over the snapshots of the 6 months "
        "before t; NaN with fewer than 3 snapshots.",
        "caseload",
        "cases per month",
        lever=True,
    ),
    _f(
        "caseload_ratio_unit_median",
        "caseload_last divided by the median open_cases of the unit's staff (members on the "
        "day before t) in the month before t.",
        "caseload",
        "ratio",
        lever=True,
    ),
    _f(
        "care_order_share",
        "care_order_cases / open_cases of the snapshot used for caseload_last (portfolio "
        "composition is allocated by the leader, hence a lever).",
        "caseload",
        "share",
        lever=True,
        requires=("caseload.care_order_cases",),
    ),
    _f(
        "deadline_breaches_3m",
        f"Sum of deadline_breaches. {_W}; NaN when none were reported. A symptom of workload, "
        "not something a leader sets directly, hence not a lever.",
        "caseload",
        "count",
        requires=("caseload.deadline_breaches",),
    ),
    _f(
        "supervision_sessions_3m",
        f"Number of supervision sessions of any kind. {_W}.",
        "supervision",
        "sessions",
        lever=True,
    ),
    _f(
        "supervision_minutes_3m",
        f"Total minutes of supervision (sessions without minutes add 0). {_W}.",
        "supervision",
        "minutes",
        lever=True,
        requires=("supervision.minutes",),
    ),
    _f(
        "months_since_supervision",
        "Days since the latest session before t divided by 30.4375; NaN when the person never "
        "had one.",
        "supervision",
        "months",
        lever=True,
    ),
    _f(
        "supervision_process_group_share",
        "Share of the sessions of the 12 months before t that were process or group "
        "supervision; NaN without sessions.",
        "supervision",
        "share",
        lever=True,
    ),
    _f(
        "new_staff_weekly_supervision",
        "For staff with at least one completed week and fewer than 6 completed months in the "
        "service: 1 when sessions since the episode start reach 0.8 per completed week (weekly "
        "supervision, one missed week in five allowed), else 0. NaN for everyone else (not "
        "applicable).",
        "supervision",
        "0/1",
        lever=True,
    ),
    *_survey_features(),
    _f(
        "sick_days_12m",
        "Sick-leave working days in the 12 months before t, times the sick-leave grade "
        "(self-certified counts with grade 1); ongoing spells count up to the day before t.",
        "absences",
        "working days",
    ),
    _f(
        "sick_spells_12m",
        "Sick-leave spells overlapping the 12 months before t.",
        "absences",
        "spells",
    ),
    _f(
        "sick_long_spell_12m",
        "1 when a spell overlapping the 12 months before t had lasted more than 16 calendar "
        "days by the day before t (past the employer period).",
        "absences",
        "0/1",
    ),
    _f(
        "colleagues_left_3m",
        "Persons whose last day in the unit fell in the 3 months before t and who were not "
        "back in the unit on the day before t, whatever the reason (transfers out count). "
        "Counted per unit, so a person who left the row's unit and came back exactly on t "
        "would count among their own colleagues (a rare edge case).",
        "employment",
        "persons",
    ),
    _f(
        "colleagues_left_12m",
        "As colleagues_left_3m, over the 12 months before t.",
        "employment",
        "persons",
    ),
    _f(
        "colleagues_left_share_3m",
        "colleagues_left_3m / (colleagues_left_3m + unit_headcount).",
        "employment",
        "share",
    ),
    _f(
        "colleagues_left_share_12m",
        "colleagues_left_12m / (colleagues_left_12m + unit_headcount).",
        "employment",
        "share",
    ),
    _f(
        "unit_headcount",
        "Persons employed in the unit on the day before t.",
        "employment",
        "persons",
    ),
    _f(
        "unit_headcount_change_12m",
        "unit_headcount minus the unit's headcount on the day before t - 12 months; NaN when "
        "that day precedes the register's first employment record.",
        "employment",
        "persons",
    ),
    _f(
        "unit_exit_share_12m",
        "Of the persons in the unit on the day before t - 12 months, the share no longer in the "
        "panel's scope (e.g. the same service) on the day before t (KS exit_share, per unit).",
        "employment",
        "share",
    ),
    _f(
        "unit_caseload_mean",
        "Mean open_cases of the unit's staff (members on the day before t) in the month before t.",
        "caseload",
        "cases",
    ),
    _f(
        "unit_sick_leave_pct_12m",
        "SSB/NAV sick-leave percentage of the unit over the 12 months before t: lost "
        "person-days (working days x fte x grade) x 100 / agreed person-days (working days "
        "employed in the unit x fte).",
        "absences",
        "percent",
    ),
    _f(
        "unit_supervision_coverage_3m",
        "Share of the unit's members (day before t) with at least one supervision session in "
        "the 3 months before t.",
        "supervision",
        "share",
        lever=True,
    ),
    _f(
        "unit_cbi_work_mean",
        "Mean cbi_work of the unit's members (day before t) over responses at most 12 months "
        "old; NaN unless at least min_group_size members answered.",
        "surveys",
        "score 0-100",
        requires=("surveys[CBI]",),
    ),
    _f(
        "unit_proqol_burnout_mean",
        "Mean proqol_burnout of the unit's members, as unit_cbi_work_mean.",
        "surveys",
        "raw sum 10-50",
        requires=("surveys[ProQOL]",),
    ),
    _f(
        "unit_bat_total_mean",
        "Mean bat_total of the unit's members, as unit_cbi_work_mean.",
        "surveys",
        "mean 1-5",
        requires=("surveys[BAT12]",),
    ),
)

FEATURES: FeatureRegistry = FeatureRegistry(_FEATURE_LIST)
"""Every feature ``build_panel`` can produce, in panel column order."""

SURVEY_FEATURES = _SURVEY
