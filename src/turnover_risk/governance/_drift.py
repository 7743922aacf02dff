"""Is the model still valid for these data? Input drift against the model's reference profile.

:func:`check_drift` compares a panel with the profile a model stored at fit
(``model.input_profile_``, see ``models/_profile.py``), feature by feature:

* **PSI** (population stability index) over the profile's bins plus a missing bin (and an
  unseen bin for new categories), on *person-weighted* shares: each person counts once, spread
  over their rows, so a person observed for 30 months does not weigh ten times more than one
  observed for 3. Bands: under 0.01 negligible (less than a 0.1 SD shift of everyone); 0.01 to
  0.1 small but material (a 1 SD caseload shift for the staff of a fifth of the units gives
  about 0.025); 0.1 to 0.25 moderate and 0.25 and over major (the usual credit-scoring bands:
  made for score distributions, they would let a real shift in part of the organisation pass).
* **Tests** on the same person-weighted counts: a chi-square test of homogeneity over all bins
  (missing included) and, for a numeric feature, a Mann-Whitney rank test over the ordered
  value bins (far more power for a shift of level); ``p_value`` is the smaller of the two,
  doubled (Bonferroni). The sample size is the number of persons, not of person-months, so the
  clustering of months within persons does not make every trivial shift "significant" (a
  person's weight 1 spread over bins varies less than one draw, so the tests are, if anything,
  conservative). A *unit-level* feature (constant within each unit and period of the panel,
  e.g. ``unit_caseload_mean``, ``colleagues_left_3m``) has the units as its clusters: its test
  counts are scaled by units per person. The p-values are Holm-adjusted over the features
  (``p_adjusted``), so the chance of any false alarm in a check is at most ``alpha``.
* ``missing_change`` (current minus training share of missing rows; missingness is also a bin
  of the PSI and the test), ``unseen`` (rows with a category the model never saw) and
  ``out_of_range`` (rows outside the plausible range of the profile).

A feature has ``drift`` when its PSI is at least small (``psi_threshold``, 0.01) **and** its
adjusted p-value is under ``alpha`` (0.05): an effect that is both material and not noise. With
many persons the test rejects trivial shifts and the PSI gate keeps them out; with few persons
the PSI is noisy and the test keeps chance out. A feature also has ``drift`` when at least
``max_invalid_share`` (1 %) of its rows are unseen or out of range. ``benchmarks/
bench_governance.py`` shows the rule's error rates on simulated registers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk import _dist
from turnover_risk.models._profile import bin_codes
from turnover_risk.panel._spec import ATTRS_KEY, panel_spec

__all__ = [
    "ALPHA",
    "MAX_INVALID_SHARE",
    "PSI_MAJOR",
    "PSI_MODERATE",
    "PSI_SMALL",
    "DriftResult",
    "check_drift",
    "compare_counts",
    "decide",
    "holm",
    "reference_profile",
]

PSI_SMALL = 0.01
"""PSI from which a shift counts as material (if the test also rejects): a 0.1 SD shift of
everyone's value; a 1 SD shift for a sixth of the staff gives about 0.025."""
PSI_MODERATE = 0.1
PSI_MAJOR = 0.25
ALPHA = 0.05
"""Family-wise level of the tests over all features (Holm)."""
MAX_INVALID_SHARE = 0.01
"""Share of rows unseen or out of range from which a feature counts as drifted."""
DRIFT_COLUMNS = (
    "feature", "kind", "psi", "band", "chi2", "df", "rank_z", "p_value", "p_adjusted",
    "missing_change", "unseen",
    "out_of_range", "n_rows", "n_persons", "cluster", "drift",
)  # fmt: skip
DECIDED = ("p_adjusted", "drift")


def reference_profile(model: Any) -> dict[str, Any]:
    """The model's input profile, or a clear error for models without one (0.1.0 files)."""
    prof = getattr(model, "input_profile_", None)
    if prof is None:
        raise ValueError(
            "this model has no reference profile of its training inputs, so drift cannot be "
            "checked: it was fitted by turnover_risk 0.1.0 (before profiles were stored). "
            "Refit it with this version (tr.TurnoverRiskModel(...).fit(panel)) and save it "
            "again."
        )
    return prof


def _band(psi: float) -> str:
    if not math.isfinite(psi):
        return ""
    if psi >= PSI_MAJOR:
        return "major"
    return "moderate" if psi >= PSI_MODERATE else "small" if psi >= PSI_SMALL else "negligible"


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of two count vectors (0.5 added to every cell).

    Examples
    --------
    >>> round(psi(np.array([50, 50]), np.array([50, 50])), 6)
    0.0
    >>> round(psi(np.array([50, 50]), np.array([80, 20])), 3)
    0.406
    """
    ref = np.asarray(reference, dtype=float) + 0.5
    cur = np.asarray(current, dtype=float) + 0.5
    p, q = ref / ref.sum(), cur / cur.sum()
    return float(np.sum((q - p) * np.log(q / p)))


def _chi2(reference: np.ndarray, current: np.ndarray) -> tuple[float, int, float]:
    table = np.vstack([reference, current]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) <= 0).any():
        return 0.0, 0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    df = table.shape[1] - 1
    return stat, df, float(_dist.chi2_sf(stat, df))


def _rank_z(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Mann-Whitney z (current above reference > 0) and two-sided p on ordered binned counts.

    Mid-ranks per bin with the tie correction of grouped data; counts may be fractional
    (person-weighted). Examples: identical counts give z = 0.

    Examples
    --------
    >>> z, p = _rank_z(np.array([30.0, 40, 30]), np.array([30.0, 40, 30]))
    >>> round(z, 6), round(p, 6)
    (0.0, 1.0)
    """
    r, c = np.asarray(reference, dtype=float), np.asarray(current, dtype=float)
    n1, n2 = r.sum(), c.sum()
    n = n1 + n2
    if n1 <= 0 or n2 <= 0 or n < 3:
        return float("nan"), float("nan")
    t = r + c
    ranks = np.cumsum(t) - t + (t + 1) / 2
    w = float(np.sum(c * ranks))
    var = n1 * n2 / 12 * ((n + 1) - np.sum(t**3 - t) / (n * (n - 1)))
    if var <= 0:
        return 0.0, 1.0
    z = (w - n2 * (n + 1) / 2) / np.sqrt(var)
    return float(z), float(2 * _dist.norm_sf(abs(z)))


def compare_counts(
    name: str,
    feature: dict[str, Any],
    current: np.ndarray,
    *,
    n_rows: int,
    n_persons: float,
    cluster_ratio: float = 1.0,
    missing_rows: int,
    unseen: int,
    out_of_range: int,
) -> dict[str, Any]:
    """One row of the drift table from current counts over the profile's bins.

    ``current`` holds person-weighted counts over ``feature["labels"]`` plus one unseen bin
    (they should sum to ``n_persons``; row counts are rescaled to it). ``cluster_ratio``
    scales both samples for the test: clusters per person (units per person for a unit-level
    feature, about ``1 / rows per person`` for row counts of a stream without identifiers).
    """
    ref = np.asarray([*feature["counts"], 0.0], dtype=float)
    cur = np.zeros(len(ref))
    cur[: len(current)] = np.asarray(current, dtype=float)
    if cur.sum() > 0:
        cur *= n_persons / cur.sum()
    value = psi(ref, cur) if cur.sum() > 0 else float("nan")
    z = float("nan")
    if cur.sum() > 0:
        chi2, df, p = _chi2(ref * cluster_ratio, cur * cluster_ratio)
        if feature["kind"] == "numeric":  # ordered value bins (not missing, not unseen)
            z, p_rank = _rank_z(ref[:-2] * cluster_ratio, cur[:-2] * cluster_ratio)
            if math.isfinite(p_rank):
                p = min(1.0, 2 * min(p, p_rank))
    else:
        chi2, df, p = float("nan"), 0, float("nan")
    ref_missing = feature["rows"][-1] / max(1, sum(feature["rows"]))
    return {
        "feature": name,
        "kind": feature["kind"],
        "psi": value,
        "band": _band(value),
        "chi2": chi2,
        "df": df,
        "rank_z": z,
        "p_value": p,
        "missing_change": (missing_rows / n_rows - ref_missing) if n_rows else float("nan"),
        "unseen": int(unseen),
        "out_of_range": int(out_of_range),
        "n_rows": int(n_rows),
        "n_persons": float(n_persons),
        "cluster": "unit" if cluster_ratio < 1 else "person",
    }


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (family-wise error control; NaN stays NaN).

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adj = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out[order] = np.minimum(adj, 1.0)
    return out


def decide(
    rows: list[dict[str, Any]],
    *,
    alpha: float = ALPHA,
    psi_threshold: float = PSI_SMALL,
    max_invalid_share: float = MAX_INVALID_SHARE,
) -> pd.DataFrame:
    """The drift table: Holm-adjusted p-values and the ``drift`` decision per feature."""
    table = pd.DataFrame(rows, columns=[c for c in DRIFT_COLUMNS if c not in DECIDED])
    table.insert(table.columns.get_loc("p_value") + 1, "p_adjusted", holm(table["p_value"]))
    invalid = (table["unseen"] + table["out_of_range"]) / table["n_rows"].clip(lower=1)
    material = (table["psi"] >= psi_threshold) & (table["p_adjusted"] < alpha)
    table["drift"] = (material | (invalid >= max_invalid_share)).astype(bool)
    return table


@dataclass(eq=False)
class DriftResult:
    """What :func:`check_drift` found.

    Attributes
    ----------
    table : DataFrame
        One row per feature: ``feature``, ``kind``, ``psi``, ``band`` (stable / moderate /
        major), ``chi2``, ``df``, ``rank_z``, ``p_value`` (the person-weighted tests),
        ``p_adjusted`` (Holm over features), ``missing_change``,
        ``unseen``, ``out_of_range`` (rows), ``n_rows``, ``n_persons`` and ``drift``.
    reference : dict
        Rows and persons behind the model's profile.
    settings : dict
        ``alpha``, ``psi_threshold``, ``max_invalid_share`` used.
    """

    table: pd.DataFrame
    reference: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    @property
    def drifted(self) -> list[str]:
        """Features with ``drift``."""
        return self.table.loc[self.table["drift"], "feature"].tolist()

    @property
    def any_drift(self) -> bool:
        return bool(self.table["drift"].any())

    def summary(self) -> str:
        """One line: how many features drifted, which, and the unseen/out-of-range counts."""
        t = self.table
        parts = [f"{len(self.drifted)} of {len(t)} features drifted"]
        if self.drifted:
            top = t[t["drift"]].sort_values("psi", ascending=False)
            parts[0] += ": " + ", ".join(
                f"{r.feature} (PSI {r.psi:.2f})" for r in top.head(5).itertuples()
            )
        bad = t[(t["unseen"] > 0) | (t["out_of_range"] > 0)]
        if len(bad):
            parts.append(
                "values not seen in training: "
                + ", ".join(
                    f"{r.feature} {r.unseen + r.out_of_range} rows" for r in bad.itertuples()
                )
            )
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"DriftResult({self.summary()})"

    def plot(self, ax: Any = None, top: int = 20) -> Any:
        """Horizontal bars of the largest PSIs with the band lines; drifted features in red."""
        import matplotlib.pyplot as plt

        t = self.table.dropna(subset=["psi"]).sort_values("psi", ascending=False).head(top)
        t = t.iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.3 * len(t) + 1.2))
        colours = ["#c0392b" if d else "#7f8c8d" for d in t["drift"]]
        ax.barh(t["feature"], t["psi"], color=colours)
        for x, label in ((PSI_MODERATE, "moderate"), (PSI_MAJOR, "major")):
            ax.axvline(x, ls="--", lw=0.8, color="black")
            ax.text(x, len(t) - 0.5, f" {label}", fontsize=8, va="bottom")
        ax.set_xlabel("population stability index (person-weighted)")
        ax.set_title("Input drift against the training data")
        return ax


def _unit_level(panel: pd.DataFrame, features: list[str]) -> tuple[set[str], int]:
    """Features constant within each unit and period of a panel, and the number of units."""
    if ATTRS_KEY not in panel.attrs:
        return set(), 0
    spec = panel_spec(panel)
    keys = [c for c in (*spec.group_cols[:1], spec.period_col) if c in panel.columns]
    if len(keys) < 2 or not len(panel):
        return set(), 0
    n_units = int(panel[keys[0]].nunique())
    varying = panel.groupby(keys, observed=True, sort=False)[features].nunique(dropna=False).max()
    return {c for c in features if varying[c] <= 1}, n_units


def _persons(panel: pd.DataFrame, persons: Any) -> np.ndarray | None:
    if persons is None and ATTRS_KEY in panel.attrs:
        spec = panel_spec(panel)
        if spec.id_cols and spec.id_cols[0] in panel.columns:
            persons = spec.id_cols[0]
    if persons is None:
        return None
    if isinstance(persons, str):
        return panel[persons].to_numpy()
    return np.asarray(persons)


def check_drift(
    model: Any,
    panel: pd.DataFrame,
    *,
    persons: str | Any = None,
    alpha: float = ALPHA,
    psi_threshold: float = PSI_SMALL,
    max_invalid_share: float = MAX_INVALID_SHARE,
) -> DriftResult:
    """Compare a panel's inputs with the profile the model stored at fit.

    Parameters
    ----------
    model : TurnoverRiskModel
        A model fitted by this version (it holds ``input_profile_``).
    panel : DataFrame
        A panel from :func:`~turnover_risk.build_panel` (persons from its id column) or any
        frame with the model's feature columns.
    persons : str or array-like, optional
        Person of each row (column name or values). Default: the panel spec's id column; a
        frame without one counts each row as a person.
    alpha : float
        Family-wise level of the person-weighted chi-square tests (Holm over features).
    psi_threshold : float
        PSI from which a shift is material (default 0.01, the "small" band).
    max_invalid_share : float
        Share of rows unseen or out of range that counts as drift by itself.

    Returns
    -------
    DriftResult

    Raises
    ------
    ValueError
        If the model has no profile (fitted by 0.1.0) or the panel lacks its features.

    Examples
    --------
    >>> import warnings
    >>> import turnover_risk as tr
    >>> warnings.simplefilter("ignore")
    >>> panel = tr.build_panel(tr.load_sample())
    >>> model = tr.TurnoverRiskModel(random_state=0).fit(panel)
    >>> res = tr.check_drift(model, panel)
    >>> res.any_drift, list(res.table.columns[:4])
    (False, ['feature', 'kind', 'psi', 'band'])
    """
    prof = reference_profile(model)
    missing = [c for c in prof["features"] if c not in panel.columns]
    if missing:
        raise ValueError(
            f"the panel lacks {len(missing)} feature column(s) of the model: {missing[:5]}; "
            "build it with the model's panel options (model.spec_)."
        )
    who = _persons(panel, persons)
    n = len(panel)
    codes_p = (
        pd.factorize(pd.Series(who, dtype=object), use_na_sentinel=False)[0]
        if who is not None
        else np.arange(n)
    )
    n_persons = int(codes_p.max()) + 1 if n else 0
    weight = 1.0 / np.bincount(codes_p, minlength=n_persons)[codes_p] if n else np.zeros(0)
    unit_level, n_units = _unit_level(panel, list(prof["features"]))
    unit_ratio = min(1.0, n_units / n_persons) if n_persons else 1.0
    rows = []
    for name, feature in prof["features"].items():
        codes, oor, unseen = bin_codes(feature, panel[name])
        n_bins = len(feature["labels"]) + 1
        current = np.bincount(codes, weights=weight, minlength=n_bins)
        rows.append(
            compare_counts(
                name,
                feature,
                current,
                n_rows=n,
                n_persons=n_persons,
                cluster_ratio=unit_ratio if name in unit_level else 1.0,
                missing_rows=int((codes == len(feature["labels"]) - 1).sum()),
                unseen=int(unseen.sum()),
                out_of_range=int(oor.sum()),
            )
        )
    settings = {"alpha": alpha, "psi_threshold": psi_threshold}
    table = decide(rows, max_invalid_share=max_invalid_share, **settings)
    return DriftResult(
        table=table,
        reference={"n_rows": prof["n_rows"], "n_persons": prof["n_persons"]},
        settings={**settings, "max_invalid_share": max_invalid_share},
    )
