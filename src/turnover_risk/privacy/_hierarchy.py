"""The declared organisation chain of a register (private): which levels nest, and which add
nothing (:class:`Hierarchy`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["ORG_CHAIN", "Hierarchy"]

ORG_CHAIN: tuple[str, ...] = ("unit_id", "municipality", "service")
"""Declared organisation levels, finest first."""


@dataclass(frozen=True)
class Hierarchy:
    """The declared hierarchies of one register.

    Parameters
    ----------
    chain : tuple of str
        Organisation columns that nest, finest first (a prefix of :data:`ORG_CHAIN` the data
        supports).
    parents : DataFrame
        One row per finest-level value with the coarser levels' values (as strings).
    totals : mapping
        Extra columns with a total value of their own, e.g. ``{"certification": "all"}``.
    aliases : mapping
        Organisation levels that add nothing, mapped to the level with the same cells: a
        level with one value to ``None`` (everybody), a level one-to-one with a finer one to
        that level. Their tables are protected as the level they equal, so equal cells are
        decided once.
    """

    chain: tuple[str, ...] = ()
    parents: pd.DataFrame = field(default_factory=pd.DataFrame)
    totals: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_units(
        cls, units: pd.DataFrame | None, *, totals: Mapping[str, str] | None = None
    ) -> Hierarchy:
        """Read the organisation chain from a units table (``unit_id``, ``municipality``,
        ``service``), keeping only the levels that nest.

        Examples
        --------
        >>> u = pd.DataFrame({"unit_id": ["a", "b", "c", "d"],
        ...                   "municipality": ["m", "m", "n", "o"],
        ...                   "service": ["s", "s", "s", "t"]})
        >>> Hierarchy.from_units(u).chain
        ('unit_id', 'municipality', 'service')

        One service adds nothing to everybody; it is protected as everybody:

        >>> h = Hierarchy.from_units(u.assign(service="s"))
        >>> h.chain, h.aliases
        (('unit_id', 'municipality'), {'service': None})
        """
        totals = dict(totals or {})
        if units is None or "unit_id" not in getattr(units, "columns", ()):
            return cls(("unit_id",), pd.DataFrame({"unit_id": pd.Series(dtype="string")}), totals)
        chain = ["unit_id"]
        frame = units.drop_duplicates("unit_id")
        aliases: dict[str, str | None] = {}
        nested = ["unit_id"]
        for col in ORG_CHAIN[1:]:
            if col not in frame.columns or frame[col].isna().any():
                break
            if frame.groupby(nested[-1], observed=True)[col].nunique().max() > 1:
                break
            nested.append(col)
            kept = chain[-1]
            if frame[col].nunique() == 1:  # one value: the same cells as everybody
                aliases[col] = None
            elif frame.groupby(col, observed=True)[kept].nunique().max() == 1:
                aliases[col] = kept  # one-to-one with the finer level kept: the same cells
            else:
                chain.append(col)
        parents = frame[nested].astype("string").reset_index(drop=True)
        return cls(tuple(chain), parents, totals, aliases)

    def alias(self, column: str) -> str | None:
        """The chain level whose cells a grouping column gives (``None``: everybody)."""
        return self.aliases.get(column, column)
