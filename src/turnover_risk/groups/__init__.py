"""Groups at elevated risk: flags with FDR control and funnel limits, what-if, and drivers."""

from turnover_risk.groups._common import MAX_CENSORED_SHARE
from turnover_risk.groups._flag import (
    FLAGS,
    FUNNEL_LEVELS,
    FlagResult,
    benjamini_hochberg,
    driver_text,
    estimate_overdispersion,
    feature_label,
    flag_groups,
    funnel_limits,
    poisson_ratio_ci,
)
from turnover_risk.groups._group_drivers import group_drivers
from turnover_risk.groups._whatif import ASSOCIATION_NOTE, WhatIfResult, what_if

__all__ = [
    "ASSOCIATION_NOTE",
    "FLAGS",
    "FUNNEL_LEVELS",
    "MAX_CENSORED_SHARE",
    "FlagResult",
    "WhatIfResult",
    "benjamini_hochberg",
    "driver_text",
    "estimate_overdispersion",
    "feature_label",
    "flag_groups",
    "funnel_limits",
    "group_drivers",
    "poisson_ratio_ci",
    "what_if",
]
