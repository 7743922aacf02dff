"""Disclosure control: the minimum group size, small-cell suppression and pseudonymisation.

Every aggregated output of the library passes :func:`suppress_small_groups`, so one rule decides
what is shown; :func:`pseudonymise` replaces identifiers by keyed hashes (HMAC-SHA256).
"""

from turnover_risk.privacy._pseudonym import KEY_ENV, pseudonymise
from turnover_risk.privacy._suppression import (
    ABSOLUTE_MIN_GROUP_SIZE,
    DEFAULT_MIN_GROUP_SIZE,
    TOTAL_LABEL,
    check_min_group_size,
    complementary_suppression,
    derivable_cells,
    margin_constraints,
    suppress_small_groups,
)

__all__ = [
    "ABSOLUTE_MIN_GROUP_SIZE",
    "DEFAULT_MIN_GROUP_SIZE",
    "KEY_ENV",
    "TOTAL_LABEL",
    "check_min_group_size",
    "complementary_suppression",
    "derivable_cells",
    "margin_constraints",
    "pseudonymise",
    "suppress_small_groups",
]
