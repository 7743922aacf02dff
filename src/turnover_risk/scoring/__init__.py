"""Batch scoring: :func:`score_dataset` streams a panel or register through a model."""

from turnover_risk.scoring._score_dataset import DEFAULT_BATCH_ROWS, ScoreResult, score_dataset
from turnover_risk.scoring._scorer import ScoringFallbackWarning

__all__ = ["DEFAULT_BATCH_ROWS", "ScoreResult", "ScoringFallbackWarning", "score_dataset"]
