"""Synthetic child-welfare registers with known causal structure, and the shipped sample.

:func:`make_register` simulates municipal child-welfare units month by month (see
:class:`SimulationKnobs` for every mechanism and its strength); :func:`load_sample` returns the
fixed sample shipped with the package (``make_register(**SAMPLE_ARGS)``).
"""

from __future__ import annotations

from turnover_risk.datasets._effects import EFFECT_FEATURES
from turnover_risk.datasets._knobs import HIGH_RISK_CAUSES, SimulationKnobs
from turnover_risk.datasets._make import SimulationTruth, make_register
from turnover_risk.datasets._sample import SAMPLE_ARGS, load_sample

__all__ = [
    "EFFECT_FEATURES",
    "HIGH_RISK_CAUSES",
    "SAMPLE_ARGS",
    "SimulationKnobs",
    "SimulationTruth",
    "load_sample",
    "make_register",
]
