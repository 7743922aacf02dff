"""The turnover definition registry and the option tuples of the rate functions (private).

:class:`Definition` describes one named definition (formula, numerator, denominator, snapshot,
interval, source), :class:`DefinitionRegistry` is the read-only mapping that prints as a table,
and :data:`DEFINITIONS` holds the four definitions; the constants list the allowed values of
``scope``, ``weight``, ``divisor``, ``annual`` and ``certification``. The conventions they share
are documented in the package docstring (:mod:`turnover_risk.rates`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

__all__ = [
    "ANNUAL_CONVENTIONS",
    "BUFDIR_DIVISORS",
    "DEFINITIONS",
    "Definition",
    "DefinitionRegistry",
    "LONG_SPELL_DAYS",
    "SCOPES",
    "SICK_CERTIFICATIONS",
    "WEIGHTS",
]

LONG_SPELL_DAYS: int = 16
"""Norway's employer period (arbeidsgiverperioden): spells longer than this are paid by NAV."""

SCOPES: tuple[str, ...] = ("unit", "service", "municipality", "any")

WEIGHTS: tuple[str, ...] = ("headcount", "fte")

BUFDIR_DIVISORS: tuple[str, ...] = ("churn", "replacement")

ANNUAL_CONVENTIONS: tuple[str, ...] = ("average_headcount", "sum_of_months")

SICK_CERTIFICATIONS: tuple[str, ...] = ("all", "self", "doctor", "split")


@dataclass(frozen=True)
class Definition:
    """One named rate definition.

    Attributes
    ----------
    key : str
        Name passed as ``definition=``.
    title : str
        Short human name.
    kind : {"share", "flow"}
        ``share``: a proportion of a stock (in [0, 1]); ``flow``: events over average headcount.
    formula, numerator, denominator, snapshot : str
        What is computed, in words.
    interval : str
        How ``ci_low``/``ci_high`` are computed.
    source : str
        Where the definition comes from and how sure we are of it.
    counts : tuple of str
        The definition's own count columns in the output.
    parameters : mapping
        Extra parameters the definition takes (name -> description).
    """

    key: str
    title: str
    kind: Literal["share", "flow"]
    formula: str
    numerator: str
    denominator: str
    snapshot: str
    interval: str
    source: str
    counts: tuple[str, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.key}: {self.title}", f"  formula:     {self.formula}"]
        for name in ("numerator", "denominator", "snapshot", "interval", "source"):
            lines.append(f"  {name + ':':<12} {getattr(self, name)}")
        for p, d in self.parameters.items():
            lines.append(f"  parameter {p}: {d}")
        return "\n".join(lines)


class DefinitionRegistry(Mapping[str, Definition]):
    """Read-only mapping ``key -> Definition`` that prints as a table.

    Examples
    --------
    >>> from turnover_risk import DEFINITIONS
    >>> sorted(DEFINITIONS)
    ['bufdir', 'exit_share', 'hire', 'separation']
    >>> DEFINITIONS["bufdir"].parameters["divisor"][:40]
    "'churn' (default): C / average headcount"
    """

    def __init__(self, definitions: Sequence[Definition]) -> None:
        self._defs = {d.key: d for d in definitions}

    def __getitem__(self, key: str) -> Definition:
        try:
            return self._defs[key]
        except KeyError:
            raise KeyError(_unknown_definition(key)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._defs)

    def __len__(self) -> int:
        return len(self._defs)

    def to_frame(self) -> pd.DataFrame:
        """One row per definition: key, title, kind, formula, numerator, denominator,
        snapshot, interval, source."""
        cols = ["key", "title", "kind", "formula", "numerator", "denominator", "snapshot"]
        cols += ["interval", "source"]
        return pd.DataFrame([{c: getattr(d, c) for c in cols} for d in self._defs.values()])

    def to_markdown(self) -> str:
        """The registry as a Markdown table (used in the docs and docstrings)."""
        cols = ["key", "formula", "snapshot", "interval", "source"]
        head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
        body = "".join(
            "| " + " | ".join(getattr(d, c).replace("|", "/") for c in cols) + " |\n"
            for d in self._defs.values()
        )
        return head + body

    def __repr__(self) -> str:
        width = max(len(k) for k in self._defs)
        lines = [f"DEFINITIONS ({len(self)} turnover definitions; DEFINITIONS[key] for details)"]
        for d in self._defs.values():
            lines.append(f"  {d.key:<{width}}  {d.kind:<5}  {d.formula}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def _unknown_definition(key: object) -> str:
    names = ", ".join(sorted(DEFINITIONS._defs)) if "DEFINITIONS" in globals() else ""
    return f"definition={key!r} is not a known turnover definition; choose one of: {names}"


_ANNUAL_DOC = (
    "'average_headcount' (default): events in the year (quarter) / average of its start and "
    "end headcount; 'sum_of_months': SHRM's annual rate, the sum of the monthly rates"
)

DEFINITIONS = DefinitionRegistry(
    [
        Definition(
            key="exit_share",
            title="Exit share between two snapshots (KS/PAI style)",
            kind="share",
            formula="persons in scope at snapshot t and not in scope at t+1 / persons in scope at t",
            numerator="persons present in a unit at snapshot t who are in no unit of the same "
            "scope at snapshot t+1 (not counted when the job that ends their presence in scope "
            "has an exit_reason in exclude_reasons)",
            denominator="persons present in the unit at snapshot t (a person with two jobs in "
            "the unit counts once; weight='fte': their total fte there, capped at 1)",
            snapshot="snapshot='12-01' (1 December, KS) of year t and t+1; quarters and months "
            "use the first day of the period and of the next one; label = period of t",
            interval="Wilson score interval for a binomial share (n = persons at t)",
            source="KS (PAI register), 1 December, scope = municipal sector: confirmed. KS "
            "counts leaving an ordinary post for retirement as turnover and leaves staff on "
            "pensioner terms out of the population altogether (drop those spells before "
            "computing); exclude_reasons=('retirement',) answers 'turnover other than "
            "retirement', not the KS figure.",
            counts=("headcount_start", "separations"),
            parameters={
                "scope": "unit | service | municipality | any (default service)",
                "exclude_reasons": "exit reasons not counted as exits (e.g. retirement; not the KS figure)",
            },
        ),
        Definition(
            key="bufdir",
            title="Gjennomtrekk (churning), SSB/Bufdir",
            kind="flow",
            formula="C = H + S - |E_end - E_start| per unit; rate = C / divisor",
            numerator="C summed over units: hires plus separations minus the net headcount "
            "change, all counted at the unit (scope='unit' always: a move to another unit is "
            "a separation there and a hire in the new unit); no exclude_reasons",
            denominator="divisor='churn' (default): average headcount (E_start + E_end) / 2; "
            "divisor='replacement': 2 x average headcount, i.e. min(H, S) / average headcount",
            snapshot="flows during the period; headcount at its start and end",
            interval="exact Poisson (Garwood) interval on min(H, S), scaled to the rate",
            source="numerator: SSB Rapporter 2014/18 (confirmed; that Bufdir itself computes it "
            "this way is not confirmed); denominator: "
            "unconfirmed - labour-economics convention (Burgess, Lane and Stevens 2000)",
            counts=("hires", "separations", "headcount_start", "headcount_end"),
            parameters={
                "divisor": "'churn' (default): C / average headcount; 'replacement': "
                "C / (2 x average headcount) = min(H, S) / average headcount"
            },
        ),
        Definition(
            key="separation",
            title="Separation rate (SHRM / BLS JOLTS)",
            kind="flow",
            formula="separations in period / average headcount",
            numerator="spells ending in the period whose person is not in scope the next day",
            denominator="average headcount (E_start + E_end) / 2",
            snapshot="flows during the period; headcount at its start and end",
            interval="exact Poisson (Garwood) interval on the separation count",
            source="SHRM and US BLS JOLTS convention: confirmed",
            counts=("hires", "separations", "headcount_start", "headcount_end"),
            parameters={"annual": _ANNUAL_DOC},
        ),
        Definition(
            key="hire",
            title="Hire rate (SHRM / BLS JOLTS)",
            kind="flow",
            formula="hires in period / average headcount",
            numerator="spells starting in the period whose person was not in scope the day before",
            denominator="average headcount (E_start + E_end) / 2",
            snapshot="flows during the period; headcount at its start and end",
            interval="exact Poisson (Garwood) interval on the hire count",
            source="SHRM and US BLS JOLTS convention: confirmed",
            counts=("hires", "separations", "headcount_start", "headcount_end"),
            parameters={"annual": _ANNUAL_DOC},
        ),
    ]
)
