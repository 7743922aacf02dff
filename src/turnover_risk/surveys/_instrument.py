"""The :class:`Instrument` and :class:`Cutoffs` definitions (private; import them from
:mod:`turnover_risk.surveys`).

An instrument holds item numbers and scoring rules only, never item texts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CUTOFF_STATUSES: tuple[str, ...] = ("confirmed", "secondary", "unconfirmed")
"""How sure we are of a cut-off (see ``docs/sources.md``): read in the source, third-party copy, or not found."""

_METHODS = ("mean", "sum")


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
        >>> from turnover_risk.surveys import get_instrument
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
        >>> from turnover_risk.surveys import get_instrument
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
