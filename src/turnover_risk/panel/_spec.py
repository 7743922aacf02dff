"""Column roles of a person-period panel (shared by features, models and groups).

``build_panel`` returns a plain DataFrame and stores a :class:`PanelSpec` as a dict in
``panel.attrs["panel_spec"]`` (a dict, so it survives ``to_parquet``/``read_parquet``).
Models and group functions read it with :func:`panel_spec`, so ids never enter ``X``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

ATTRS_KEY = "panel_spec"


@dataclass(frozen=True)
class PanelSpec:
    """Roles of the columns of a panel.

    Parameters
    ----------
    id_cols : tuple of str
        Identifier columns (never model inputs), e.g. ``("employee_id",)``.
    group_cols : tuple of str
        Grouping columns for summaries (``unit_id``, ``municipality``, ``service``); not inputs.
    period_col : str
        The period column (a ``datetime64`` period start).
    label_col : str
        Binary label (1 = left within horizon, 0 = stayed, NaN = censored).
    feature_cols : tuple of str
        Model inputs.
    survival_cols : tuple of str
        ``periods_to_exit`` and ``exit_observed``.
    freq, horizon, outcome, scope : str, int, str, str
        How the panel was built.
    absent_features : tuple of str
        Features not built because their source table was missing.
    """

    id_cols: tuple[str, ...] = ("employee_id",)
    group_cols: tuple[str, ...] = ("unit_id", "municipality", "service")
    period_col: str = "period"
    label_col: str = "left_within_horizon"
    feature_cols: tuple[str, ...] = ()
    survival_cols: tuple[str, ...] = ("periods_to_exit", "exit_observed")
    freq: str = "M"
    horizon: int = 12
    outcome: str = "voluntary"
    scope: str = "service"
    absent_features: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """Plain-dict form (lists instead of tuples) for ``DataFrame.attrs`` and JSON."""
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> PanelSpec:
        """Inverse of :meth:`to_dict`."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known}
        )

    @property
    def non_feature_cols(self) -> tuple[str, ...]:
        """Every column that must never be a model input."""
        return (
            *self.id_cols,
            *self.group_cols,
            self.period_col,
            self.label_col,
            *self.survival_cols,
        )


def attach_spec(panel: pd.DataFrame, spec: PanelSpec) -> pd.DataFrame:
    """Store ``spec`` in ``panel.attrs`` and return the panel."""
    panel.attrs[ATTRS_KEY] = spec.to_dict()
    return panel


def panel_spec(panel: pd.DataFrame) -> PanelSpec:
    """Return the :class:`PanelSpec` of a panel built by ``build_panel``.

    Raises
    ------
    TypeError
        If ``panel`` is not a DataFrame.
    ValueError
        If the frame carries no spec (it was not built by ``build_panel``, or the attrs were
        lost, e.g. by ``pd.concat`` of frames with different attrs).
    """
    if not isinstance(panel, pd.DataFrame):
        raise TypeError(f"panel must be a pandas DataFrame; got {type(panel).__name__}.")
    raw = panel.attrs.get(ATTRS_KEY)
    if raw is None:
        raise ValueError(
            "this DataFrame carries no panel spec (panel.attrs['panel_spec'] is missing): "
            "build it with tr.build_panel(...), or pass X and y explicitly, e.g. "
            "model.fit(X, y)."
        )
    return raw if isinstance(raw, PanelSpec) else PanelSpec.from_dict(raw)
