"""The result of :func:`~turnover_risk.audit`: the group table, the tests, a plot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk.governance._bootstrap import METRICS
from turnover_risk.privacy import suppress_small_groups

__all__ = ["AuditResult"]

_TESTED = ("oe", "auc", "flagged_share", "tpr", "fpr")
_DIFF_COLUMNS = (
    "by", "group", "metric", "value", "rest", "diff", "diff_low", "diff_high", "p_value",
)  # fmt: skip
_LABELS = {
    "observed_rate": "observed rate",
    "mean_risk": "mean predicted risk",
    "oe": "observed / expected",
    "auc": "ROC-AUC",
    "flagged_share": "share flagged",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
}


def _bh(p: np.ndarray) -> np.ndarray:
    from turnover_risk.governance._audit import benjamini_hochberg

    return benjamini_hochberg(p)


@dataclass(eq=False)
class AuditResult:
    """What :func:`~turnover_risk.audit` found.

    Attributes
    ----------
    table : DataFrame
        One row per group of each grouping: ``by``, ``group``, ``n_persons``, ``n_rows``; per
        metric (``observed_rate``, ``mean_risk``, ``oe``, ``auc``, ``flagged_share``, ``tpr``,
        ``fpr``) its value and ``_low``/``_high`` interval (bootstrap percentiles for ``oe`` and
        ``auc``, Korn-Graubard for the shares); for the tested metrics
        (``oe``, ``auc``, ``flagged_share``, ``tpr``, ``fpr``) ``<metric>_diff`` (group minus
        the rest of its grouping) and ``<metric>_q`` (Benjamini-Hochberg adjusted p-value);
        ``differs`` (the metrics with ``q < alpha``, comma-separated) and ``suppressed``
        (groups under the minimum size: every number blanked, ``n_persons`` included).
    differences : DataFrame
        One row per shown group and tested metric: ``value``, ``rest``, ``diff`` with its
        bootstrap interval, ``p_value``, ``q_value`` and ``differs``.
    threshold : float
        Risk from which a row counts as flagged.
    settings : dict
        The options used, and the rows and persons audited.
    """

    table: pd.DataFrame
    differences: pd.DataFrame
    threshold: float
    settings: dict = field(default_factory=dict)

    @classmethod
    def build(cls, rows: list[dict], diffs: list[tuple], *, threshold: float, settings: dict):
        """Assemble the tables: FDR over all tests, then suppression of small groups."""
        alpha = settings["alpha"]
        d = pd.DataFrame(diffs, columns=list(_DIFF_COLUMNS))
        # with two groups, "a against the rest" and "b against the rest" are one test: count it
        # once in the FDR and give both rows its q-value
        two = d.groupby(["by", "metric"])["group"].transform("nunique") == 2
        mirror = two & d.duplicated(["by", "metric"], keep="first")
        d["q_value"] = np.nan
        if len(d):
            d.loc[~mirror, "q_value"] = _bh(d.loc[~mirror, "p_value"].to_numpy())
            first = d[~mirror].set_index(["by", "metric"])["q_value"]
            d.loc[mirror, "q_value"] = [
                first[(b, m)]
                for b, m in zip(d.loc[mirror, "by"], d.loc[mirror, "metric"], strict=True)
            ]
        d["differs"] = d["q_value"] < alpha
        cols = ["by", "group", "n_persons", "n_rows"]
        for m in METRICS:
            cols += [m, f"{m}_low", f"{m}_high"]
        t = pd.DataFrame(rows).reindex(columns=cols)
        for m in _TESTED:
            sub = d[d["metric"] == m].set_index(["by", "group"])
            key = pd.MultiIndex.from_frame(t[["by", "group"]])
            t[f"{m}_diff"] = sub["diff"].reindex(key).to_numpy(dtype=float)
            t[f"{m}_q"] = sub["q_value"].reindex(key).to_numpy(dtype=float)
        hits = d[d["differs"]].groupby(["by", "group"], sort=False)["metric"].agg(", ".join)
        t["differs"] = [hits.get((b, g), "") for b, g in zip(t["by"], t["group"], strict=True)]
        min_size = settings["min_group_size"]
        t = suppress_small_groups(t, count_col="n_persons", min_group_size=min_size)
        t["n_persons"] = t["n_persons"].astype("Int64").mask(t["suppressed"])
        t.loc[t["suppressed"], "differs"] = ""
        return cls(table=t, differences=d, threshold=threshold, settings=settings)

    def summary(self) -> str:
        """One line: groups audited and where the model differs from the rest."""
        d = self.differences
        hits = d[d["differs"]]
        n = int((~self.table["suppressed"]).sum())
        head = (
            f"{n} groups audited ({int(self.table['suppressed'].sum())} suppressed), {len(d)} tests"
        )
        if hits.empty:
            return head + f"; no group differs from the rest (FDR {self.settings['alpha']:.0%})"
        return (
            head
            + "; differs from the rest: "
            + "; ".join(f"{r.by}={r.group} {r.metric} {r.diff:+.3f}" for r in hits.itertuples())
        )

    def __repr__(self) -> str:
        return f"AuditResult({self.summary()})"

    def plot(
        self,
        metrics: tuple[str, ...] = ("oe", "auc", "tpr", "fpr"),
        axes: Any = None,
        *,
        labels: Any = None,
        titles: Any = None,
    ):
        """One panel per metric: each shown group's value and interval; the overall line.

        ``labels`` (one per shown group, in table order) and ``titles`` (``{metric: text}``)
        replace the default English labels, e.g. for a report in another language.
        """
        import matplotlib.pyplot as plt

        t = self.table[~self.table["suppressed"]]
        if axes is None:
            _, axes = plt.subplots(
                1, len(metrics), figsize=(3.2 * len(metrics), 0.35 * len(t) + 1.5), sharey=True
            )
        axes = np.atleast_1d(axes)
        if labels is None:
            labels = [f"{b}: {g}" for b, g in zip(t["by"], t["group"], strict=True)]
        titles = {**_LABELS, **dict(titles or {})}
        ypos = np.arange(len(t))[::-1]
        for ax, m in zip(axes, metrics, strict=True):
            err = np.vstack([t[m] - t[f"{m}_low"], t[f"{m}_high"] - t[m]]).clip(min=0)
            diff = t["differs"].str.contains(rf"\b{m}\b", regex=True)
            ax.errorbar(t[m], ypos, xerr=err, fmt="none", ecolor="#7f8c8d", lw=1)
            ax.scatter(t[m], ypos, c=np.where(diff, "#c0392b", "#2c3e50"), zorder=3, s=18)
            if m == "oe":
                ax.axvline(1.0, ls="--", lw=0.8, color="black")
            ax.set_title(titles[m], fontsize=9)
        axes[0].set_yticks(ypos, labels)
        return axes
