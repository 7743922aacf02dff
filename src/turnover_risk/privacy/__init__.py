"""Disclosure control: one layer every aggregated output passes, and pseudonymisation.

* :class:`LinkedSuppressor` decides which cells to hide over the *lattice* of tables a user can
  request from the same data (units within municipality within service; months within quarters
  within years; categories within totals), so no hidden cell is the difference of shown ones -
  in one table or across tables (see ``docs/privacy.md``).
* The primary rules: fewer than ``min_group_size`` persons (:data:`DEFAULT_MIN_GROUP_SIZE`,
  never below :data:`ABSOLUTE_MIN_GROUP_SIZE`), and for magnitudes such as sick days the
  dominance rule :func:`dominated`.
* :func:`suppress_small_groups` and :func:`complementary_suppression` protect one table with its
  margins (for tables the library did not compute, e.g. published counts).
* :func:`pseudonymise` replaces identifiers by keyed hashes (HMAC-SHA256).
"""

from turnover_risk.privacy._groups import IDENTIFIER_COLUMNS, check_grouping, protect_groups
from turnover_risk.privacy._linked import ORG_CHAIN, TIME_LEVELS, Hierarchy, LinkedSuppressor
from turnover_risk.privacy._pseudonym import KEY_ENV, pseudonymise
from turnover_risk.privacy._suppression import (
    ABSOLUTE_MIN_GROUP_SIZE,
    DEFAULT_MIN_GROUP_SIZE,
    DOMINANCE_SHARE,
    MIN_CONTRIBUTORS,
    TOTAL_LABEL,
    blank_suppressed,
    check_min_group_size,
    complementary_suppression,
    derivable_cells,
    dominated,
    margin_constraints,
    suppress_small_groups,
)

__all__ = [
    "ABSOLUTE_MIN_GROUP_SIZE",
    "DEFAULT_MIN_GROUP_SIZE",
    "DOMINANCE_SHARE",
    "IDENTIFIER_COLUMNS",
    "KEY_ENV",
    "MIN_CONTRIBUTORS",
    "ORG_CHAIN",
    "TIME_LEVELS",
    "TOTAL_LABEL",
    "Hierarchy",
    "LinkedSuppressor",
    "blank_suppressed",
    "check_grouping",
    "check_min_group_size",
    "complementary_suppression",
    "derivable_cells",
    "dominated",
    "margin_constraints",
    "protect_groups",
    "pseudonymise",
    "suppress_small_groups",
]
