"""Survey instruments (burnout and work-environment questionnaires) and their scoring.

An :class:`Instrument` says everything needed to score raw item answers: which items form which
subscale, which items are reverse-coded, the response range and answer labels, how answer codes
become item values, whether a subscale is a mean or a sum, how many items must be answered, and
the cut-offs (with their source and status). Three instruments are built in (see
``docs/instruments.md``): the Copenhagen Burnout Inventory (``"CBI"``), ProQOL 5 (``"ProQOL"``)
and the Burnout Assessment Tool BAT-12 (``"BAT12"``); ``"MBI"`` is a pass-through for
precomputed Maslach scores (the MBI is proprietary). Item texts are never shipped.

:func:`score_survey` turns wide responses (``item_01`` ... ``item_NN``) into subscale scores;
:func:`summarise_scores` aggregates scores per team under the minimum-group-size rule.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.privacy import DEFAULT_MIN_GROUP_SIZE, suppress_small_groups
from turnover_risk.schema import Register

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

CUTOFF_STATUSES: tuple[str, ...] = ("confirmed", "secondary", "unconfirmed")
"""How sure we are of a cut-off (see DOMAIN.md): read in the source, third-party copy, or not found."""

_METHODS = ("mean", "sum")


# --------------------------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cutoffs:
    """Category bands of one subscale score, with where they come from.

    A score gets ``labels[i]`` where ``i`` is the number of thresholds that are ``<= score``:
    each threshold is the *lower bound* of the next band (``score >= threshold`` moves up).

    Parameters
    ----------
    thresholds : tuple of float
        Strictly increasing lower bounds of the bands after the first.
    labels : tuple of str
        One label per band: ``len(thresholds) + 1`` labels, lowest band first.
    source : str
        Publication or document the cut-offs come from.
    status : {"confirmed", "secondary", "unconfirmed"}
        ``confirmed``: read in the source; ``secondary``: from a third-party copy;
        ``unconfirmed``: not found in a source (a library default; override it).

    Examples
    --------
    >>> c = Cutoffs((50.0,), ("low", "high"), source="Kristensen et al. 2005", status="secondary")
    >>> c.categorise([49.9, 50.0, float("nan")]).tolist()
    ['low', 'high', nan]
    """

    thresholds: tuple[float, ...]
    labels: tuple[str, ...]
    source: str = ""
    status: str = "unconfirmed"

    def __post_init__(self) -> None:
        thresholds = tuple(float(t) for t in self.thresholds)
        labels = tuple(str(label) for label in self.labels)
        if any(not math.isfinite(t) for t in thresholds):
            raise ValueError(f"Cutoffs thresholds must be finite numbers; got {thresholds}.")
        if any(b <= a for a, b in zip(thresholds, thresholds[1:], strict=False)):
            raise ValueError(
                f"Cutoffs thresholds must be strictly increasing; got {thresholds}. "
                "List the lower bound of each band after the first, lowest first."
            )
        if len(labels) != len(thresholds) + 1:
            raise ValueError(
                f"Cutoffs needs len(thresholds) + 1 = {len(thresholds) + 1} labels (one per band); "
                f"got {len(labels)}: {labels}."
            )
        if len(set(labels)) != len(labels):
            raise ValueError(f"Cutoffs labels must be distinct; got {labels}.")
        if self.status not in CUTOFF_STATUSES:
            raise ValueError(
                f"Cutoffs status={self.status!r} is not known; choose one of: "
                f"{', '.join(CUTOFF_STATUSES)}."
            )
        object.__setattr__(self, "thresholds", thresholds)
        object.__setattr__(self, "labels", labels)

    def categorise(self, scores: object) -> pd.Series:
        """Band labels of ``scores`` (NaN where the score is NaN), as a ``str`` Series."""
        values = np.asarray(scores, dtype=float)
        idx = np.searchsorted(np.asarray(self.thresholds), values, side="right")
        out = np.asarray(self.labels, dtype=object)[np.minimum(idx, len(self.labels) - 1)]
        out[np.isnan(values)] = np.nan
        index = scores.index if isinstance(scores, pd.Series) else None
        return pd.Series(out, index=index, dtype="str")


def _normalise_label(label: str) -> str:
    """Case-fold, collapse whitespace and drop spaces around '/' (so 'Never / almost never' works)."""
    text = " ".join(str(label).casefold().split())
    return re.sub(r"\s*/\s*", "/", text)


def _key(name: str) -> str:
    """Lookup key of an instrument name: case-folded, without spaces, '-' and '_'."""
    return re.sub(r"[\s\-_]", "", str(name).casefold())


@dataclass(frozen=True)
class Instrument:
    """Definition of a questionnaire: items, subscales, coding, missing rule and cut-offs.

    Parameters
    ----------
    name : str
        Canonical name (matched case-insensitively against an ``instrument`` column).
    n_items : int
        Number of items; item columns are ``item_01`` ... (see :meth:`item_columns`).
    subscales : mapping of str to tuple of int
        Subscale name -> its 1-based item numbers. An item may belong to several subscales
        (e.g. a total).
    reverse : tuple of int
        Reverse-coded items: code ``x`` becomes ``response_min + response_max - x`` before
        item values are looked up (see :meth:`reverse_code`).
    response_min, response_max : int
        Range of the integer answer codes (both built-ins and ProQOL/BAT use 1..5).
    labels : mapping of str to int
        Answer labels -> codes, matched case-, whitespace- and ``/``-spacing-insensitively.
    method : {"mean", "sum"} or mapping of subscale to it
        ``mean``: mean of the answered items. ``sum``: sum over the subscale's items; if some are
        missing (and the missing rule allows scoring) the sum is prorated:
        ``mean of answered items * number of items``.
    item_values : mapping of int to float, optional
        Code -> item value (e.g. the CBI's 1..5 -> 0/25/50/75/100); default: the code itself.
    min_items : mapping of str to int, optional
        Minimum answered items per subscale; fewer gives NaN. Default: all items of the subscale.
    cutoffs : mapping of str to Cutoffs, optional
        Category bands per subscale; a subscale without cut-offs gets a NaN category.
    total : str, optional
        Name of the subscale that is the instrument's total, if it has one.
    description, source, missing_rule : str
        Free text: what the instrument is, the scoring source, and where the missing rule
        comes from (with its status).
    is_precomputed : bool
        True for pass-through instruments built with :meth:`precomputed` (no items; the
        subscale scores are read from columns named like the subscales).
    score_limits : mapping of str to (float, float), optional
        Only for precomputed instruments: allowed range of each subscale score.

    Examples
    --------
    A local work-environment survey with two factor means (KS 10-FAKTOR style):

    >>> local = Instrument(
    ...     name="LocalWE",
    ...     n_items=6,
    ...     subscales={"role_clarity": (1, 2, 3), "autonomy": (4, 5, 6)},
    ...     reverse=(3,),
    ...     min_items={"role_clarity": 2, "autonomy": 2},
    ... )
    >>> local.score_range("autonomy")
    (1.0, 5.0)
    >>> local.reverse_code(5)
    1
    """

    name: str
    n_items: int
    subscales: Mapping[str, tuple[int, ...]]
    reverse: tuple[int, ...] = ()
    response_min: int = 1
    response_max: int = 5
    labels: Mapping[str, int] = field(default_factory=dict)
    method: str | Mapping[str, str] = "mean"
    item_values: Mapping[int, float] | None = None
    min_items: Mapping[str, int] = field(default_factory=dict)
    cutoffs: Mapping[str, Cutoffs] = field(default_factory=dict)
    total: str | None = None
    description: str = ""
    source: str = ""
    missing_rule: str = ""
    is_precomputed: bool = False
    score_limits: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"Instrument {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip():
            raise TypeError(f"Instrument name must be a non-empty string; got {self.name!r}.")
        if isinstance(self.n_items, bool) or not isinstance(self.n_items, int | np.integer):
            raise TypeError(f"{where}: n_items must be an int; got {self.n_items!r}.")
        if self.n_items < (0 if self.is_precomputed else 1):
            raise ValueError(f"{where}: n_items must be >= 1; got {self.n_items}.")
        for attr in ("response_min", "response_max"):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise TypeError(f"{where}: {attr} must be an int; got {value!r}.")
        if self.response_min >= self.response_max:
            raise ValueError(
                f"{where}: response_min={self.response_min} must be below "
                f"response_max={self.response_max}."
            )
        if not isinstance(self.subscales, Mapping) or not self.subscales:
            raise ValueError(
                f"{where}: subscales must be a non-empty mapping of name -> item numbers; "
                f"got {self.subscales!r}."
            )
        subscales: dict[str, tuple[int, ...]] = {}
        for sub, items in self.subscales.items():
            if not isinstance(sub, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", sub):
                raise ValueError(
                    f"{where}: subscale name {sub!r} must be an identifier "
                    "(letters, digits, '_'; starting with a letter); it becomes a column name."
                )
            items_t = tuple(int(i) for i in items)
            if any(i != j for i, j in zip(items_t, items, strict=True)):
                raise TypeError(f"{where}: subscale {sub!r} items must be ints; got {items!r}.")
            if self.is_precomputed:
                if items_t:
                    raise ValueError(f"{where}: a precomputed instrument has no items.")
            else:
                if not items_t:
                    raise ValueError(f"{where}: subscale {sub!r} has no items.")
                bad = [i for i in items_t if not 1 <= i <= self.n_items]
                if bad:
                    raise ValueError(
                        f"{where}: subscale {sub!r} lists items {bad} outside 1..{self.n_items}."
                    )
                if len(set(items_t)) != len(items_t):
                    raise ValueError(f"{where}: subscale {sub!r} repeats an item: {items_t}.")
            subscales[sub] = items_t
        object.__setattr__(self, "subscales", subscales)

        reverse = tuple(sorted({int(i) for i in self.reverse}))
        bad = [i for i in reverse if not 1 <= i <= self.n_items]
        if bad:
            raise ValueError(f"{where}: reverse items {bad} are outside 1..{self.n_items}.")
        object.__setattr__(self, "reverse", reverse)

        codes = range(self.response_min, self.response_max + 1)
        labels: dict[str, int] = {}
        for label, code in dict(self.labels).items():
            if code not in codes:
                raise ValueError(
                    f"{where}: label {label!r} maps to {code!r}, outside the response range "
                    f"{self.response_min}..{self.response_max}."
                )
            key = _normalise_label(label)
            if key in labels and labels[key] != code:
                raise ValueError(
                    f"{where}: label {label!r} maps to both {labels[key]} and {code} "
                    "(labels are matched case- and whitespace-insensitively)."
                )
            labels[key] = int(code)
        object.__setattr__(self, "labels", labels)

        if isinstance(self.method, str):
            method = dict.fromkeys(subscales, self.method)
        else:
            method = {sub: dict(self.method).get(sub, "mean") for sub in subscales}
            unknown = set(dict(self.method)) - set(subscales)
            if unknown:
                raise ValueError(f"{where}: method names unknown subscales {sorted(unknown)}.")
        for sub, m in method.items():
            if m not in _METHODS:
                raise ValueError(
                    f"{where}: method={m!r} for subscale {sub!r} is not known; choose one of: "
                    f"{', '.join(_METHODS)}."
                )
        object.__setattr__(self, "method", method)

        if self.item_values is not None:
            item_values = {int(k): float(v) for k, v in dict(self.item_values).items()}
            missing = [c for c in codes if c not in item_values]
            if missing or set(item_values) - set(codes):
                raise ValueError(
                    f"{where}: item_values must map exactly the codes "
                    f"{self.response_min}..{self.response_max}; got keys {sorted(item_values)}."
                )
            object.__setattr__(self, "item_values", item_values)

        min_items: dict[str, int] = {}
        for sub, items in subscales.items():
            k = dict(self.min_items).get(sub, len(items))
            if self.is_precomputed:
                continue
            if (
                isinstance(k, bool)
                or not isinstance(k, int | np.integer)
                or not 1 <= k <= len(items)
            ):
                raise ValueError(
                    f"{where}: min_items[{sub!r}]={k!r} must be an int in 1..{len(items)} "
                    "(the subscale's number of items)."
                )
            min_items[sub] = int(k)
        unknown = set(dict(self.min_items)) - set(subscales)
        if unknown:
            raise ValueError(f"{where}: min_items names unknown subscales {sorted(unknown)}.")
        object.__setattr__(self, "min_items", min_items)

        cutoffs = dict(self.cutoffs)
        for sub, c in cutoffs.items():
            if sub not in subscales:
                raise ValueError(
                    f"{where}: cutoffs for unknown subscale {sub!r}; subscales are: "
                    f"{', '.join(subscales)}."
                )
            if not isinstance(c, Cutoffs):
                raise TypeError(
                    f"{where}: cutoffs[{sub!r}] must be a Cutoffs object; got {type(c).__name__}."
                )
        object.__setattr__(self, "cutoffs", cutoffs)

        if self.total is not None and self.total not in subscales:
            raise ValueError(f"{where}: total={self.total!r} is not one of its subscales.")

        limits = {sub: (float(lo), float(hi)) for sub, (lo, hi) in dict(self.score_limits).items()}
        if limits and not self.is_precomputed:
            raise ValueError(
                f"{where}: score_limits is only for precomputed instruments; the range of an "
                "item-based subscale follows from its items (see score_range)."
            )
        for sub, (lo, hi) in limits.items():
            if sub not in subscales or not lo < hi:
                raise ValueError(f"{where}: score_limits[{sub!r}]=({lo}, {hi}) is not valid.")
        object.__setattr__(self, "score_limits", limits)

    def __hash__(self) -> int:
        return hash((self.name, self.n_items, tuple(self.subscales.items()), self.reverse))

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}({len(i)})" if i else s for s, i in self.subscales.items())
        kind = "precomputed" if self.is_precomputed else f"{self.n_items} items"
        return f"Instrument({self.name!r}, {kind}, subscales: {parts})"

    # -- convenience ------------------------------------------------------------------------

    @property
    def has_total(self) -> bool:
        """Whether the instrument has a total score (``total`` names that subscale)."""
        return self.total is not None

    @property
    def subscale_names(self) -> tuple[str, ...]:
        """Subscale names in output order."""
        return tuple(self.subscales)

    def item_columns(self, item_prefix: str = "item_") -> tuple[str, ...]:
        """Expected item column names: ``item_01`` ... (two digits at least)."""
        width = max(2, len(str(self.n_items)))
        return tuple(f"{item_prefix}{i:0{width}d}" for i in range(1, self.n_items + 1))

    def reverse_code(self, code: object) -> object:
        """Reverse an answer code: ``response_min + response_max - code`` (works on arrays).

        Applying it twice gives the code back.
        """
        return self.response_min + self.response_max - code  # type: ignore[operator]

    def _value_table(self) -> np.ndarray:
        """Item value of each code, indexed by ``code - response_min``."""
        codes = np.arange(self.response_min, self.response_max + 1)
        if self.item_values is None:
            return codes.astype(float)
        return np.array([self.item_values[int(c)] for c in codes], dtype=float)

    def score_range(self, subscale: str) -> tuple[float, float]:
        """Smallest and largest possible score of ``subscale``.

        Examples
        --------
        >>> get_instrument("ProQOL").score_range("burnout")
        (10.0, 50.0)
        """
        if subscale not in self.subscales:
            raise ValueError(
                f"subscale={subscale!r} is not a subscale of {self.name}; choose one of: "
                f"{', '.join(self.subscales)}."
            )
        if self.is_precomputed:
            return self.score_limits.get(subscale, (-math.inf, math.inf))
        values = self._value_table()
        lo, hi = float(values.min()), float(values.max())
        if self.method[subscale] == "sum":
            k = len(self.subscales[subscale])
            return lo * k, hi * k
        return lo, hi

    def with_rules(
        self,
        *,
        cutoffs: Mapping[str, Cutoffs | Sequence[float] | None] | None = None,
        min_items: Mapping[str, int] | None = None,
    ) -> Instrument:
        """A copy with some cut-offs or minimum-item rules replaced (others kept).

        Parameters
        ----------
        cutoffs : mapping, optional
            Subscale -> :class:`Cutoffs`, or a sequence of thresholds (keeping the current
            labels, the source becomes "user override" with status "unconfirmed"), or None to
            drop the subscale's cut-offs.
        min_items : mapping, optional
            Subscale -> minimum answered items.

        Examples
        --------
        >>> strict = get_instrument("ProQOL").with_rules(min_items={"burnout": 10})
        >>> strict.min_items["burnout"], get_instrument("ProQOL").min_items["burnout"]
        (10, 8)
        """
        new_cutoffs = dict(self.cutoffs)
        for sub, c in dict(cutoffs or {}).items():
            if sub not in self.subscales:
                raise ValueError(
                    f"cutoffs names unknown subscale {sub!r} of {self.name}; subscales are: "
                    f"{', '.join(self.subscales)}."
                )
            if c is None:
                new_cutoffs.pop(sub, None)
            elif isinstance(c, Cutoffs):
                new_cutoffs[sub] = c
            else:
                old = self.cutoffs.get(sub)
                thresholds = tuple(c)
                if old is None or len(old.thresholds) != len(thresholds):
                    raise ValueError(
                        f"cutoffs[{sub!r}]={thresholds} gives thresholds only; that works when "
                        f"the subscale already has as many thresholds. Pass a Cutoffs object "
                        f"with labels instead."
                    )
                new_cutoffs[sub] = Cutoffs(thresholds, old.labels, "user override", "unconfirmed")
        new_min = dict(self.min_items)
        new_min.update(dict(min_items or {}))
        return _replace(self, cutoffs=new_cutoffs, min_items=new_min)

    @classmethod
    def precomputed(
        cls,
        name: str,
        subscales: Sequence[str] | Mapping[str, tuple[float, float] | None],
        *,
        cutoffs: Mapping[str, Cutoffs] | None = None,
        description: str = "",
        source: str = "",
    ) -> Instrument:
        """A pass-through instrument for scores computed elsewhere (e.g. the proprietary MBI).

        :func:`score_survey` then reads one numeric column per subscale (named like the
        subscale), checks it against the optional range, and adds ``s_n_items`` (NA, unknown)
        and ``s_category`` (from ``cutoffs``, if any).

        Parameters
        ----------
        name : str
            Instrument name.
        subscales : sequence of str, or mapping of str to (min, max) or None
            Subscale (column) names, optionally with their allowed score range.
        cutoffs : mapping of str to Cutoffs, optional
            Bands, if the user has licensed ones.

        Examples
        --------
        >>> mbi = Instrument.precomputed("MBI", {"emotional_exhaustion": (0, 54)})
        >>> mbi.score_range("emotional_exhaustion")
        (0.0, 54.0)
        """
        if isinstance(subscales, Mapping):
            names = list(subscales)
            limits = {s: r for s, r in subscales.items() if r is not None}
        else:
            names = [subscales] if isinstance(subscales, str) else list(subscales)
            limits = {}
        return cls(
            name=name,
            n_items=0,
            subscales={s: () for s in names},
            cutoffs=dict(cutoffs or {}),
            description=description,
            source=source,
            missing_rule="precomputed: a missing score stays missing",
            is_precomputed=True,
            score_limits=limits,
        )


def _replace(instrument: Instrument, **changes: object) -> Instrument:
    fields = {f: getattr(instrument, f) for f in instrument.__dataclass_fields__}
    fields.update(changes)
    return Instrument(**fields)


# --------------------------------------------------------------------------------------------
# Built-in instruments (DOMAIN.md). Item numbers and rules only; no item texts.
# --------------------------------------------------------------------------------------------

_FREQ_EN = {
    "always": 5,
    "often": 4,
    "sometimes": 3,
    "seldom": 2,
    "never/almost never": 1,
    "never or almost never": 1,
}
_FREQ_NO = {"alltid": 5, "ofte": 4, "noen ganger": 3, "sjelden": 2, "aldri/nesten aldri": 1}
_FREQ_DA = {"altid": 5, "somme tider": 3, "sjældent": 2, "aldrig/næsten aldrig": 1}
_DEGREE_EN = {
    "to a very high degree": 5,
    "to a high degree": 4,
    "somewhat": 3,
    "to a low degree": 2,
    "to a very low degree": 1,
}
_DEGREE_NO = {
    "i svært høy grad": 5,
    "i høy grad": 4,
    "i noen grad": 3,
    "delvis": 3,
    "i liten grad": 2,
    "i lav grad": 2,
    "i svært liten grad": 1,
    "i svært lav grad": 1,
}
_DEGREE_DA = {
    "i meget høj grad": 5,
    "i høj grad": 4,
    "delvist": 3,
    "i lav grad": 2,
    "i meget lav grad": 1,
}

CBI = Instrument(
    name="CBI",
    n_items=19,
    subscales={
        "personal": (1, 2, 3, 4, 5, 6),
        "work": (7, 8, 9, 10, 11, 12, 13),
        "client": (14, 15, 16, 17, 18, 19),
    },
    reverse=(10,),
    labels={**_FREQ_EN, **_FREQ_NO, **_FREQ_DA, **_DEGREE_EN, **_DEGREE_NO, **_DEGREE_DA},
    method="mean",
    item_values={1: 0.0, 2: 25.0, 3: 50.0, 4: 75.0, 5: 100.0},
    min_items={"personal": 3, "work": 4, "client": 3},
    cutoffs={
        sub: Cutoffs(
            (50.0,),
            ("low", "high"),
            source="Kristensen et al. 2005, Work & Stress 19(3); >= 50 'high' as quoted in "
            "secondary literature",
            status="secondary",
        )
        for sub in ("personal", "work", "client")
    },
    total=None,
    description="Copenhagen Burnout Inventory: personal, work-related and client-related "
    "burnout, each 0-100 (mean of answered items; 100 = always / to a very high degree).",
    source="Kristensen, Borritz, Villadsen & Christensen 2005, Work & Stress 19(3):192-207",
    missing_rule="A scale is NaN when fewer than 3 (personal), 4 (work) or 3 (client) items are "
    "answered. Personal and work: CBI scoring instructions as quoted in DOMAIN.md; client: "
    "unconfirmed (library default, override with with_rules(min_items=...)).",
)

_PROQOL_LABELS = {
    "never": 1,
    "rarely": 2,
    "sometimes": 3,
    "often": 4,
    "very often": 5,
    "aldri": 1,
    "sjelden": 2,
    "noen ganger": 3,
    "ofte": 4,
    "svært ofte": 5,
}
_PROQOL_CUTS = Cutoffs(
    (23.0, 42.0),
    ("low", "moderate", "high"),
    source="Stamm 2010, The Concise ProQOL Manual (raw sums: <= 22 low, 23-41 moderate, "
    ">= 42 high)",
    status="confirmed",
)
PROQOL = Instrument(
    name="ProQOL",
    n_items=30,
    subscales={
        "compassion_satisfaction": (3, 6, 12, 16, 18, 20, 22, 24, 27, 30),
        "burnout": (1, 4, 8, 10, 15, 17, 19, 21, 26, 29),
        "secondary_traumatic_stress": (2, 5, 7, 9, 11, 13, 14, 23, 25, 28),
    },
    reverse=(1, 4, 15, 17, 29),
    labels=_PROQOL_LABELS,
    method="sum",
    min_items={"compassion_satisfaction": 8, "burnout": 8, "secondary_traumatic_stress": 8},
    cutoffs=dict.fromkeys(
        ("compassion_satisfaction", "burnout", "secondary_traumatic_stress"), _PROQOL_CUTS
    ),
    description="Professional Quality of Life Scale version 5: three raw sums of 10 items "
    "(10-50). Reverse items 1, 4, 15, 17, 29 (6 - x) enter the burnout sum.",
    source="Stamm 2010, The Concise ProQOL Manual; reverse items: secondary",
    missing_rule="A scale needs at least 8 of its 10 items; a scale with 8 or 9 answered is "
    "prorated (mean of answered items x 10). Library default, unconfirmed: the manual gives no "
    "rule. Override with with_rules(min_items=...) (10 = no missing allowed).",
)

_BAT_LABELS = {
    "never": 1,
    "rarely": 2,
    "sometimes": 3,
    "often": 4,
    "always": 5,
    "aldri": 1,
    "sjelden": 2,
    "noen ganger": 3,
    "ofte": 4,
    "alltid": 5,
}
BAT12 = Instrument(
    name="BAT12",
    n_items=12,
    subscales={
        "exhaustion": (1, 2, 3),
        "mental_distance": (4, 5, 6),
        "cognitive_impairment": (7, 8, 9),
        "emotional_impairment": (10, 11, 12),
        "total": tuple(range(1, 13)),
    },
    labels=_BAT_LABELS,
    method="mean",
    min_items={
        "exhaustion": 2,
        "mental_distance": 2,
        "cognitive_impairment": 2,
        "emotional_impairment": 2,
        "total": 10,
    },
    cutoffs={
        "total": Cutoffs(
            (2.54, 2.96),
            ("low", "at_risk", "severe"),
            source="Schaufeli, De Witte, Hakanen, Kaltiainen & Kok 2023, SJWEH 49(4)",
            status="secondary",
        )
    },
    total="total",
    description="Burnout Assessment Tool, 12-item version: four dimension means (1-5) and the "
    "total (mean of all answered items).",
    source="Schaufeli, De Witte & Desart 2020, BAT manual; cut-offs Schaufeli et al. 2023",
    missing_rule="A dimension needs 2 of its 3 items, the total 10 of 12. Library default, "
    "unconfirmed; override with with_rules(min_items=...).",
)

MBI = Instrument.precomputed(
    "MBI",
    ("emotional_exhaustion", "depersonalisation", "personal_accomplishment"),
    description="Maslach Burnout Inventory (proprietary): bring precomputed subscale scores in "
    "columns emotional_exhaustion, depersonalisation, personal_accomplishment.",
    source="Maslach, Jackson & Leiter; items and norm tables are licensed and not shipped",
)

INSTRUMENTS: Mapping[str, Instrument] = MappingProxyType(
    {i.name: i for i in (CBI, PROQOL, BAT12, MBI)}
)
"""Built-in instruments by canonical name (read-only): CBI, ProQOL, BAT12, MBI (pass-through)."""

_ALIASES: dict[str, str] = {
    "cbi": "CBI",
    "copenhagenburnoutinventory": "CBI",
    "proqol": "ProQOL",
    "proqol5": "ProQOL",
    "proqolv5": "ProQOL",
    "bat12": "BAT12",
    "bat": "BAT12",
    "mbi": "MBI",
}


def get_instrument(name: str | Instrument) -> Instrument:
    """Look up a built-in instrument by name (case-insensitive, with aliases).

    Parameters
    ----------
    name : str or Instrument
        ``"CBI"``, ``"ProQOL"`` (also ``"ProQOL5"``, ``"ProQOL-5"``), ``"BAT12"`` (also
        ``"BAT-12"``, ``"BAT"``) or ``"MBI"``; an :class:`Instrument` is returned unchanged.

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For anything but a string or an Instrument.

    Examples
    --------
    >>> get_instrument("bat-12").name
    'BAT12'
    >>> get_instrument("CBI").subscales["work"]
    (7, 8, 9, 10, 11, 12, 13)
    """
    if isinstance(name, Instrument):
        return name
    if not isinstance(name, str):
        raise TypeError(
            f"instrument must be a name (str) or an Instrument; got {type(name).__name__}."
        )
    canonical = _ALIASES.get(_key(name))
    if canonical is None:
        raise ValueError(
            f"instrument={name!r} is not a known instrument; choose one of: "
            f"{', '.join(INSTRUMENTS)} (aliases: ProQOL5, BAT-12, BAT), or pass your own "
            "Instrument(...)."
        )
    return INSTRUMENTS[canonical]


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------

PROBLEM_COLUMNS: tuple[str, ...] = ("row", "column", "value", "rule", "message")
"""Columns of a survey problem report (``row`` is the index label of the response)."""

_ON_MISSING = ("rule", "nan", "raise")
_ON_INVALID = ("raise", "nan")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_MAX_SHOWN = 5


class SurveyInputError(ValueError):
    """Survey answers that cannot be scored; ``.problems`` holds the full problem report.

    The report is a DataFrame with the columns of :data:`PROBLEM_COLUMNS`.
    """

    def __init__(self, message: str, problems: pd.DataFrame) -> None:
        super().__init__(message)
        self.problems = problems


def _problem_frame(records: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    data = {
        col: pd.Series(
            [r[col] for r in records], dtype=object if col in ("row", "value") else "str"
        )
        for col in PROBLEM_COLUMNS
    }
    return pd.DataFrame(data, columns=list(PROBLEM_COLUMNS))


def _py(value: object) -> object:
    """A plain Python scalar for the problem report (numpy scalars unwrapped)."""
    return value.item() if isinstance(value, np.generic) else value


def _label_hint(inst: Instrument) -> str:
    labels = sorted(inst.labels, key=lambda k: (-inst.labels[k], k))
    shown = ", ".join(repr(label) for label in labels[:8])
    more = f" ... ({len(labels) - 8} more, see get_instrument({inst.name!r}).labels)"
    return shown + (more if len(labels) > 8 else "")


def _parse_unique(value: object, labels: Mapping[str, int]) -> tuple[float, str | None]:
    """Parse one distinct answer: (number or NaN, problem rule or None)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return math.nan, None
    if isinstance(value, bool | np.bool_):
        return math.nan, "wrong_type"
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value), None
    if isinstance(value, str):
        text = _normalise_label(value)
        if text == "":
            return math.nan, None
        if text in labels:
            return float(labels[text]), None
        if _NUMBER.fullmatch(text):
            return float(text), None
        return math.nan, "unknown_label"
    return math.nan, "wrong_type"


def _parse_column(col: pd.Series, labels: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of one answer column and the problem rule per row ('' = none)."""
    n = len(col)
    rules = np.full(n, "", dtype=object)
    if pd.api.types.is_bool_dtype(col):
        values = np.full(n, np.nan)
        rules[col.notna().to_numpy()] = "wrong_type"
        return values, rules
    if pd.api.types.is_numeric_dtype(col):
        return np.array(col.to_numpy(dtype=float, na_value=np.nan), copy=True), rules
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    parsed = [_parse_unique(u, labels) for u in uniques]
    u_values = np.array([p[0] for p in parsed] + [np.nan], dtype=float)
    u_rules = np.array([p[1] or "" for p in parsed] + [""], dtype=object)
    return u_values[codes], u_rules[codes]


def _check_codes(values: np.ndarray, rules: np.ndarray, inst: Instrument) -> None:
    """Flag non-integer and out-of-range codes in place (and blank them)."""
    finite = ~np.isnan(values)
    not_int = finite & (~np.isfinite(values) | (values != np.round(values)))
    out = finite & ~not_int & ((values < inst.response_min) | (values > inst.response_max))
    rules[not_int & (rules == "")] = "not_integer"
    rules[out & (rules == "")] = "out_of_range"
    values[not_int | out] = np.nan


def _message(rule: str, row: object, column: str, value: object, inst: Instrument) -> str:
    where = f"row {row!r}: {column}={value!r}"
    rng = f"{inst.response_min}..{inst.response_max}"
    if rule == "out_of_range":
        return f"{where} is outside the {inst.name} answer range {rng}"
    if rule == "not_integer":
        return f"{where} is not a whole answer code ({inst.name} codes are the integers {rng})"
    if rule == "unknown_label":
        return (
            f"{where} is not an answer label of {inst.name}; use a code {rng} or one of: "
            f"{_label_hint(inst)}"
        )
    if rule == "wrong_type":
        return f"{where} has type {type(value).__name__}; answers are codes {rng} or labels"
    if rule == "unexpected_answer":
        return f"{where}: {inst.name} has only {inst.n_items} items, so this column must be empty"
    if rule == "out_of_score_range":
        return f"{where} is outside the allowed score range of {inst.name}"
    if rule == "not_a_number":
        return f"{where} is not a number (precomputed {inst.name} scores must be numeric)"
    raise AssertionError(rule)  # pragma: no cover - every rule above is handled


def _collect(
    records: list[dict[str, object]],
    rules: np.ndarray,
    raw: pd.Series,
    column: str,
    inst: Instrument,
) -> None:
    for pos in np.flatnonzero(rules != ""):
        row = _py(raw.index[pos])
        value = _py(raw.iloc[pos])
        rule = str(rules[pos])
        records.append(
            {
                "row": row,
                "column": column,
                "value": value,
                "rule": rule,
                "message": _message(rule, row, column, value, inst),
            }
        )


def _item_columns(
    columns: Iterable[Hashable], item_prefix: str
) -> tuple[dict[int, str], list[Hashable]]:
    """Item number -> column, and the non-item columns (in input order)."""
    pattern = re.compile(re.escape(item_prefix) + r"(\d+)")
    items: dict[int, str] = {}
    others: list[Hashable] = []
    for c in columns:
        m = pattern.fullmatch(c) if isinstance(c, str) else None
        if m is None:
            others.append(c)
            continue
        number = int(m.group(1))
        if number in items:
            raise ValueError(
                f"columns {items[number]!r} and {c!r} both hold item {number}; keep one "
                f"(item columns are {item_prefix}01, {item_prefix}02, ...)."
            )
        items[number] = c
    return items, others


def _matches_instrument(values: pd.Series, inst: Instrument) -> np.ndarray:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    target = _key(inst.name)

    def resolves(u: object) -> bool:
        key = _key(str(u))
        canonical = _ALIASES.get(key)
        return _key(canonical) == target if canonical is not None else key == target

    hit = np.array([resolves(u) for u in uniques] + [False], dtype=bool)
    return hit[codes]


def _select_rows(
    responses: pd.DataFrame, inst: Instrument, instrument_col: str | None
) -> pd.DataFrame:
    if instrument_col is None or instrument_col not in responses.columns:
        return responses
    mask = _matches_instrument(responses[instrument_col], inst)
    if len(responses) and not mask.any():
        present = sorted({str(v) for v in responses[instrument_col].dropna().unique()})
        warnings.warn(
            f"no rows of instrument {inst.name!r} in column {instrument_col!r} (values present: "
            f"{', '.join(present) or 'none'}); the result is empty. Pass the instrument these "
            "rows hold, or instrument_col=None to score every row.",
            DataQualityWarning,
            stacklevel=3,
        )
    return responses.loc[mask]


def _raise_or_warn(records: list[dict[str, object]], inst: Instrument, on_invalid: str) -> None:
    if not records:
        return
    shown = "; ".join(str(r["message"]) for r in records[:_MAX_SHOWN])
    more = f" (and {len(records) - _MAX_SHOWN} more)" if len(records) > _MAX_SHOWN else ""
    if on_invalid == "raise":
        raise SurveyInputError(
            f"{len(records)} problem(s) in the {inst.name} responses: {shown}{more}. Fix the "
            "answers, or pass on_invalid='nan' to score the rest (invalid answers become "
            "missing and are listed by survey_problems(result)). The full list is in the "
            "error's .problems.",
            _problem_frame(records),
        )
    warnings.warn(
        f"{len(records)} invalid {inst.name} answer(s) were treated as missing "
        f"(on_invalid='nan'): {shown}{more}. See survey_problems(result).",
        DataQualityWarning,
        stacklevel=3,
    )


def _score_precomputed(
    rows: pd.DataFrame, inst: Instrument, records: list[dict[str, object]]
) -> dict[str, np.ndarray]:
    scores: dict[str, np.ndarray] = {}
    for sub in inst.subscales:
        if sub not in rows.columns:
            records.append(
                {
                    "row": None,
                    "column": sub,
                    "value": None,
                    "rule": "missing_column",
                    "message": f"column {sub!r} with precomputed {inst.name} scores is missing; "
                    f"{inst.name} needs columns {', '.join(inst.subscales)} (rename yours)",
                }
            )
            scores[sub] = np.full(len(rows), np.nan)
            continue
        values, rules = _parse_column(rows[sub], {})
        rules[rules != ""] = "not_a_number"
        lo, hi = inst.score_range(sub)
        finite = ~np.isnan(values)
        outside = finite & ~((values >= lo) & (values <= hi))
        rules[outside & (rules == "")] = "out_of_score_range"
        values[outside] = np.nan
        _collect(records, rules, rows[sub], sub, inst)
        scores[sub] = values
    return scores


def _score_items(
    rows: pd.DataFrame,
    inst: Instrument,
    items: Mapping[int, str],
    item_prefix: str,
    records: list[dict[str, object]],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    n = len(rows)
    codes = np.full((n, inst.n_items), np.nan)
    expected = inst.item_columns(item_prefix)
    missing = [expected[i - 1] for i in range(1, inst.n_items + 1) if i not in items]
    for col in missing:
        records.append(
            {
                "row": None,
                "column": col,
                "value": None,
                "rule": "missing_column",
                "message": f"item column {col!r} is missing; {inst.name} needs "
                f"{expected[0]}..{expected[-1]} ({inst.n_items} items)",
            }
        )
    for number, col in items.items():
        raw = rows[col]
        values, rules = _parse_column(raw, inst.labels)
        if number > inst.n_items:
            rules[~np.isnan(values) | (rules != "")] = "unexpected_answer"
        else:
            _check_codes(values, rules, inst)
            values[rules != ""] = np.nan
            codes[:, number - 1] = values
        _collect(records, rules, raw, col, inst)

    if inst.reverse:
        rev = np.asarray(inst.reverse) - 1
        codes[:, rev] = inst.reverse_code(codes[:, rev])
    values = np.full(codes.shape, np.nan)
    answered = ~np.isnan(codes)
    values[answered] = inst._value_table()[(codes[answered] - inst.response_min).astype(int)]

    scores: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    for sub, sub_items in inst.subscales.items():
        block = values[:, np.asarray(sub_items) - 1]
        n_answered = (~np.isnan(block)).sum(axis=1)
        total = np.nansum(block, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            if inst.method[sub] == "sum":
                score = total * len(sub_items) / n_answered
            else:
                score = total / n_answered
        scores[sub] = score
        counts[sub] = n_answered.astype(np.int64)
    return scores, counts


def score_survey(
    responses: pd.DataFrame | Register,
    instrument: str | Instrument = "CBI",
    *,
    item_prefix: str = "item_",
    on_missing: Literal["rule", "nan", "raise"] = "rule",
    on_invalid: Literal["raise", "nan"] = "raise",
    instrument_col: str | None = "instrument",
    cutoffs: Mapping[str, Cutoffs | Sequence[float] | None] | None = None,
    min_items: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Score wide survey responses: one row per response with every subscale score.

    Parameters
    ----------
    responses : DataFrame or Register
        One row per respondent and date, answers in ``item_01`` ... ``item_NN``; answers are
        integer codes (``1`` ... ``5`` for the built-ins; numbers written as text such as
        ``"3"`` are accepted) or the instrument's answer labels (case- and
        whitespace-insensitive, e.g. ``"Alltid"``, ``"always"``). Empty cells and empty strings
        are missing. A Register is replaced by its ``surveys`` table.
    instrument : str or Instrument
        Built-in name (see :func:`get_instrument`) or your own :class:`Instrument`.
    item_prefix : str
        Prefix of the item columns (``item_01`` and ``item_1`` are both read).
    on_missing : {"rule", "nan", "raise"}
        ``rule``: a subscale is NaN when fewer than the instrument's ``min_items`` are answered
        (otherwise the mean, or the prorated sum, of the answered items). ``nan``: NaN as soon
        as one item of the subscale is missing. ``raise``: a ValueError naming the rows and
        subscales with missing items.
    on_invalid : {"raise", "nan"}
        What to do with an answer outside the scale, a non-integer code, an unknown label, an
        answer in an item the instrument does not have, or a missing item column.
        ``raise`` (default): :class:`SurveyInputError` naming row (index label), column and
        value, with the full report in ``.problems``. ``nan``: the answer counts as missing
        (a missing item column as all missing), a :class:`DataQualityWarning` says so, and
        :func:`survey_problems` returns the report (kept in ``result.attrs["problems"]``).
    instrument_col : str or None
        If ``responses`` has this column, only rows whose value names ``instrument``
        (case-insensitive, aliases allowed) are scored; the others are left out, so a
        ``surveys`` table holding several instruments can be scored one instrument at a time.
        ``None`` scores every row.
    cutoffs, min_items : mapping, optional
        Overrides of the instrument's cut-offs and minimum answered items, per subscale
        (see :meth:`Instrument.with_rules`).

    Returns
    -------
    DataFrame
        The non-item columns of the scored rows (same index), then per subscale ``s``:
        ``s`` (float score), ``s_n_items`` (int, items answered; NA for precomputed scores) and
        ``s_category`` (str band from the cut-offs; NaN where the score is NaN or the subscale
        has no cut-offs). ``attrs`` holds ``instrument``, ``subscales``, ``categories`` and
        ``problems``.

    Raises
    ------
    SurveyInputError
        Invalid answers or missing item columns with ``on_invalid="raise"``.
    ValueError
        Unknown instrument, option value, or (``on_missing="raise"``) missing answers.
    TypeError
        ``responses`` is not a DataFrame or Register.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = {f"item_{i:02d}": [5, 3] for i in range(1, 13)}
    >>> df = pd.DataFrame({"employee_id": ["a", "b"], **answers})
    >>> out = score_survey(df, "BAT12")
    >>> out[["employee_id", "total", "total_n_items", "total_category"]]
      employee_id  total  total_n_items total_category
    0           a    5.0             12         severe
    1           b    3.0             12         severe
    >>> cbi = pd.DataFrame({f"item_{i:02d}": ["Alltid"] for i in range(1, 20)})
    >>> score_survey(cbi, "CBI")[["personal", "work", "client"]].round(2)
       personal   work  client
    0     100.0  85.71   100.0
    """
    if isinstance(responses, Register):
        if responses.surveys is None:
            raise ValueError(
                "the Register has no surveys table; add one (employee_id, date, instrument, "
                "item_01 ...) or pass a DataFrame of responses."
            )
        responses = responses.surveys
    if not isinstance(responses, pd.DataFrame):
        raise TypeError(
            f"responses must be a pandas DataFrame (or a Register); got {type(responses).__name__}."
        )
    if on_missing not in _ON_MISSING:
        raise ValueError(
            f"on_missing={on_missing!r} is not known; choose one of: {', '.join(_ON_MISSING)}."
        )
    if on_invalid not in _ON_INVALID:
        raise ValueError(
            f"on_invalid={on_invalid!r} is not known; choose one of: {', '.join(_ON_INVALID)}."
        )
    inst = get_instrument(instrument)
    if cutoffs or min_items:
        inst = inst.with_rules(cutoffs=cutoffs, min_items=min_items)

    rows = _select_rows(responses, inst, instrument_col)
    items, others = _item_columns(rows.columns, item_prefix)
    if inst.is_precomputed:
        others = [c for c in others if c not in inst.subscales]
    out_names = [f"{s}{suffix}" for s in inst.subscales for suffix in ("", "_n_items", "_category")]
    clash = [c for c in out_names if c in others]
    if clash:
        raise ValueError(
            f"responses already has column(s) {clash}, which score_survey writes; rename or "
            "drop them first."
        )

    records: list[dict[str, object]] = []
    if inst.is_precomputed:
        scores = _score_precomputed(rows, inst, records)
        counts = {s: None for s in inst.subscales}
    else:
        scores, counts = _score_items(rows, inst, items, item_prefix, records)
    _raise_or_warn(records, inst, on_invalid)

    if not inst.is_precomputed:
        incomplete = []
        for sub, sub_items in inst.subscales.items():
            k = len(sub_items)
            need = inst.min_items[sub] if on_missing == "rule" else k
            short = counts[sub] < need
            scores[sub][short] = np.nan
            if on_missing == "raise" and short.any():
                labels = [_py(x) for x in rows.index[short][:_MAX_SHOWN]]
                incomplete.append(f"{sub} in {int(short.sum())} row(s) (e.g. rows {labels})")
        if incomplete:
            raise ValueError(
                f"missing {inst.name} answers (on_missing='raise'): {'; '.join(incomplete)}. "
                "Use on_missing='rule' to apply the instrument's missing-item rule "
                f"({inst.missing_rule or 'all items required'})."
            )

    new: dict[str, pd.Series] = {}
    for sub in inst.subscales:
        score = pd.Series(scores[sub], index=rows.index, dtype="float64")
        new[sub] = score
        if counts[sub] is None:
            new[f"{sub}_n_items"] = pd.Series(pd.NA, index=rows.index, dtype="Int64")
        else:
            new[f"{sub}_n_items"] = pd.Series(counts[sub], index=rows.index, dtype="int64")
        cut = inst.cutoffs.get(sub)
        if cut is None:
            new[f"{sub}_category"] = pd.Series(np.nan, index=rows.index, dtype="str")
        else:
            new[f"{sub}_category"] = cut.categorise(score)
    result = pd.concat([rows[others], pd.DataFrame(new, index=rows.index)], axis=1)
    result.attrs = {
        "instrument": inst.name,
        "subscales": list(inst.subscales),
        "categories": {s: list(c.labels) for s, c in inst.cutoffs.items()},
        "problems": records,
    }
    return result


def survey_problems(scored: pd.DataFrame) -> pd.DataFrame:
    """The problem report of a :func:`score_survey` result (empty when there were none).

    One row per invalid answer or missing column: ``row`` (index label of the response, None
    for a whole column), ``column``, ``value``, ``rule`` (``out_of_range``, ``not_integer``,
    ``unknown_label``, ``wrong_type``, ``unexpected_answer``, ``missing_column``,
    ``not_a_number``, ``out_of_score_range``) and ``message``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({f"item_{i:02d}": [3] for i in range(1, 13)}).assign(item_05=7)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out = score_survey(df, "BAT12", on_invalid="nan")
    >>> survey_problems(out)[["row", "column", "value", "rule"]]
      row   column value          rule
    0   0  item_05     7  out_of_range
    """
    if "problems" not in scored.attrs:
        raise ValueError(
            "this frame carries no problem report: pass the DataFrame returned by "
            "score_survey (some pandas operations drop .attrs; take the report first)."
        )
    return _problem_frame(scored.attrs["problems"])


# --------------------------------------------------------------------------------------------
# Team-level summaries
# --------------------------------------------------------------------------------------------


def summarise_scores(
    scored: pd.DataFrame,
    by: str | Sequence[str] = "unit_id",
    *,
    instrument: str | Instrument | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    person_col: str = "employee_id",
    date_col: str = "date",
    per_person: Literal["latest", "all"] = "latest",
) -> pd.DataFrame:
    """Mean scores and category shares per group, with small groups suppressed.

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`score_survey`, with the grouping columns added (e.g. merge ``unit_id``
        from the employment table as of the response date).
    by : str or sequence of str
        Grouping columns.
    instrument : str or Instrument, optional
        Default: the instrument recorded in ``scored.attrs`` by :func:`score_survey`.
    min_group_size : int
        Minimum distinct persons behind a shown number (default 5, never below 3); applied to
        the whole row (``n_persons``) and to each subscale (``s_n_persons``) through
        :func:`turnover_risk.privacy.suppress_small_groups`.
    person_col, date_col : str
        Person identifier and response date.
    per_person : {"latest", "all"}
        ``latest``: each person counts once per group, with their latest response (by
        ``date_col``, or the last row without one). ``all``: every response counts (persons
        with several responses weigh more; ``n_persons`` still counts persons).

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, ``n_responses``, ``n_persons``, then per
        subscale ``s``: ``s_mean``, ``s_n_persons`` (persons with a score), ``s_share_<band>``
        per cut-off band; then ``suppressed`` (the group has fewer than ``min_group_size``
        persons: every value but ``n_persons`` is blanked) and ``s_suppressed`` per subscale
        (fewer scored persons than ``min_group_size``: ``s_mean`` and shares blanked). Count
        columns other than ``n_persons`` are nullable ``Int64``. No totals over groups are
        returned, so no complementary suppression is needed.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"employee_id": list("abcdefg"), "unit_id": ["u1"] * 5 + ["u2"] * 2})
    >>> df = df.assign(**{f"item_{i:02d}": [1, 2, 3, 4, 5, 5, 5] for i in range(1, 13)})
    >>> out = summarise_scores(score_survey(df, "BAT12"), by="unit_id")
    >>> out[["unit_id", "n_persons", "total_mean", "total_share_severe", "suppressed"]]
      unit_id  n_persons  total_mean  total_share_severe  suppressed
    0      u1          5         3.0                 0.6       False
    1      u2          2         NaN                 NaN        True
    """
    if not isinstance(scored, pd.DataFrame):
        raise TypeError(
            f"scored must be a DataFrame from score_survey; got {type(scored).__name__}."
        )
    if per_person not in ("latest", "all"):
        raise ValueError(f"per_person={per_person!r} is not known; choose one of: latest, all.")
    if instrument is None:
        name = scored.attrs.get("instrument")
        if name is None:
            raise ValueError(
                "cannot tell which instrument 'scored' holds (its attrs were lost); pass "
                "instrument=..."
            )
        subscales = list(scored.attrs.get("subscales") or get_instrument(name).subscales)
        categories = dict(scored.attrs.get("categories") or {})
    else:
        inst = get_instrument(instrument)
        subscales = list(inst.subscales)
        categories = {s: list(c.labels) for s, c in inst.cutoffs.items()}
    by_cols = [by] if isinstance(by, str) else list(by)
    needed = [*by_cols, person_col, *subscales]
    missing = [c for c in needed if c not in scored.columns]
    if missing:
        raise ValueError(
            f"scored has no column(s) {missing}; by= columns must be merged in first (e.g. "
            "unit_id from the employment table), and the subscale scores come from score_survey."
        )
    df = scored
    if per_person == "latest":
        if date_col in df.columns:
            df = df.sort_values(date_col, kind="stable")
        df = df.groupby([*by_cols, person_col], dropna=False, sort=False).tail(1)

    grouped = df.groupby(by_cols, dropna=False, sort=True, observed=True)
    parts: dict[str, pd.Series] = {
        "n_responses": grouped.size(),
        "n_persons": grouped[person_col].nunique(),
    }
    for sub in subscales:
        has = df[sub].notna()
        parts[f"{sub}_mean"] = grouped[sub].mean()
        parts[f"{sub}_n_persons"] = (
            df[person_col]
            .where(has)
            .groupby([df[c] for c in by_cols], dropna=False, sort=True, observed=True)
            .nunique()
        )
        cat_col = f"{sub}_category"
        if sub in categories and cat_col in df.columns:
            n_scored = has.groupby([df[c] for c in by_cols], dropna=False, observed=True).sum()
            for label in categories[sub]:
                hit = (df[cat_col] == label).fillna(False)
                count = hit.groupby([df[c] for c in by_cols], dropna=False, observed=True).sum()
                parts[f"{sub}_share_{label}"] = (count / n_scored.where(n_scored > 0)).astype(float)
    table = pd.DataFrame(parts).reset_index()
    table["n_responses"] = table["n_responses"].astype("int64")
    table["n_persons"] = table["n_persons"].astype("int64")
    for sub in subscales:
        table[f"{sub}_n_persons"] = table[f"{sub}_n_persons"].fillna(0).astype("int64")
    table = suppress_small_groups(
        table,
        count_col="n_persons",
        value_cols=[c for c in table.columns if c not in (*by_cols, "n_persons")],
        min_group_size=min_group_size,
    )
    for sub in subscales:
        values = [c for c in table.columns if c == f"{sub}_mean" or c.startswith(f"{sub}_share_")]
        table = suppress_small_groups(
            table,
            count_col=f"{sub}_n_persons",
            value_cols=values,
            min_group_size=min_group_size,
            flag_col=f"{sub}_suppressed",
        )
        table[f"{sub}_suppressed"] = table[f"{sub}_suppressed"] | table["suppressed"]
    counts = ["n_responses", *(f"{sub}_n_persons" for sub in subscales)]
    return table.astype(dict.fromkeys(counts, "Int64"))
