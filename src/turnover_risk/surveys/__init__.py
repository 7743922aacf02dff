"""Survey instruments (CBI, ProQOL, BAT-12, MBI pass-through) and the scoring of raw answers."""

from turnover_risk.surveys._score import (
    CUTOFF_STATUSES,
    INSTRUMENTS,
    Cutoffs,
    Instrument,
    SurveyInputError,
    get_instrument,
    score_survey,
    summarise_scores,
    survey_problems,
)

__all__ = [
    "CUTOFF_STATUSES",
    "INSTRUMENTS",
    "Cutoffs",
    "Instrument",
    "SurveyInputError",
    "get_instrument",
    "score_survey",
    "summarise_scores",
    "survey_problems",
]
