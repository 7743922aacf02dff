"""Groups at elevated risk: flags with FDR control and funnel limits, what-if, and drivers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnover_risk import _lazy

if TYPE_CHECKING:
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
    from turnover_risk.groups._refit_store import store_refits
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
    "store_refits",
    "what_if",
]

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "turnover_risk.groups._common": ("MAX_CENSORED_SHARE",),
        "turnover_risk.groups._flag": (
            "FLAGS",
            "FUNNEL_LEVELS",
            "FlagResult",
            "benjamini_hochberg",
            "driver_text",
            "estimate_overdispersion",
            "feature_label",
            "flag_groups",
            "funnel_limits",
            "poisson_ratio_ci",
        ),
        "turnover_risk.groups._group_drivers": ("group_drivers",),
        "turnover_risk.groups._refit_store": ("store_refits",),
        "turnover_risk.groups._whatif": (
            "ASSOCIATION_NOTE",
            "WhatIfResult",
            "what_if",
        ),
    },
)
