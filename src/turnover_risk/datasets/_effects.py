"""The true effects of the simulator's voluntary exit hazard, and the panel features behind them.

:data:`EFFECT_FEATURES` maps each effect to the ``build_panel`` features that proxy it,
``_EFFECT_INFO`` gives each effect its knob, scale, description and whether a leader can move it,
and :func:`effects_frame` turns the knobs into the ``effects`` table of ``SimulationTruth``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from turnover_risk.datasets._knobs import SimulationKnobs

__all__ = ["EFFECT_FEATURES", "effects_frame"]

EFFECT_FEATURES: dict[str, tuple[str, ...]] = {
    "newly_qualified": ("newly_qualified",),
    "first_year": ("tenure_service_months",),
    "caseload": ("caseload_3m_mean",),
    "burnout": ("cbi_work", "proqol_burnout", "bat_total"),
    "supervision": ("supervision_sessions_3m",),
    "colleagues_left": ("colleagues_left_3m",),
    "age": ("age",),
    "part_time": ("fte",),
}
"""Panel features (``build_panel``) that proxy each true effect of the simulator."""

_EFFECT_INFO: dict[str, tuple[str, str, str, bool]] = {
    # effect: (knob, scale of the covariate, description, lever)
    "newly_qualified": (
        "newly_qualified_exit_effect",
        "1 if within two calendar years of qualifying",
        "newly qualified staff leave more",
        True,
    ),
    "first_year": (
        "first_year_exit_effect",
        "1 in the first 12 months in the service",
        "first year in the service",
        False,
    ),
    "caseload": (
        "caseload_exit_effect",
        "per open case of the 3-month mean caseload above caseload_norm",
        "high caseload",
        True,
    ),
    "burnout": (
        "burnout_exit_effect",
        "per SD of latent burnout",
        "burnout (surfaced by CBI/ProQOL/BAT-12)",
        False,
    ),
    "supervision": (
        "supervision_exit_effect",
        "per supervision session in the last 3 months",
        "supervision protects",
        True,
    ),
    "colleagues_left": (
        "colleagues_left_exit_effect",
        "per colleague who left the unit in the last 3 months",
        "good colleagues have left",
        True,
    ),
    "age": ("age_exit_effect", "per 10 years above age 40", "the young move more", False),
    "part_time": ("part_time_exit_effect", "1 if fte < 1", "part-time staff leave more", False),
}


def effects_frame(knobs: SimulationKnobs) -> pd.DataFrame:
    """The true log-hazard effects of the voluntary exit hazard, one row per effect."""
    rows = [
        {
            "effect": "intercept",
            "coefficient": float(np.log(knobs.base_exit_hazard)),
            "scale": "log of base_exit_hazard (reference person)",
            "knob": "base_exit_hazard",
            "features": "",
            "lever": False,
            "description": "monthly voluntary exit hazard of the reference person",
        }
    ]
    for effect, (knob, scale, desc, lever) in _EFFECT_INFO.items():
        rows.append(
            {
                "effect": effect,
                "coefficient": float(getattr(knobs, knob)),
                "scale": scale,
                "knob": knob,
                "features": ", ".join(EFFECT_FEATURES[effect]),
                "lever": lever,
                "description": desc,
            }
        )
    rows.append(
        {
            "effect": "frailty",
            "coefficient": float(knobs.frailty_sd),
            "scale": "SD of the person's unobserved log-hazard frailty",
            "knob": "frailty_sd",
            "features": "",
            "lever": False,
            "description": "unobserved person heterogeneity",
        }
    )
    return pd.DataFrame(rows)
