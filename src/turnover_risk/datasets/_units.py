"""The units of a simulated register: municipalities, services, teams and their fixed traits.

:class:`_Units` draws, once before the first month, how the units group into municipalities
(one child-welfare service each), their names, positions, supervision practice, case intake and
care-order share, the planted high-risk units, and each municipality's survey plan (instrument,
month and day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from turnover_risk.datasets._knobs import SimulationKnobs

__all__ = ["_Units"]

_MUN_PREFIX = (
    "Fjell", "Nord", "Sør", "Vest", "Øst", "Elve", "Sjø", "Skog", "Berg", "Lund", "Stein",
    "Bjørke", "Ås", "Dal", "Vik", "Strand", "Myr", "Haug", "Holm", "Bakke", "Fure", "Eike",
    "Rype", "Laks", "Mo", "Ny", "Gran", "Kvit", "Svart", "Tinde",
)  # fmt: skip
_MUN_SUFFIX = (
    "dal", "vik", "by", "nes", "heim", "stad", "fjord", "sund", "øy", "berg", "land", "rud",
    "våg", "moen", "haug", "strand", "li", "set", "ås", "voll",
)  # fmt: skip
_TEAMS = (
    "Mottak", "Undersøkelse", "Tiltak", "Omsorg", "Fosterhjem", "Ettervern", "Familieteam",
    "Akutt", "Ungdom", "Småbarn",
)  # fmt: skip


def _municipality_names(n: int, rng: np.random.Generator) -> list[str]:
    combos = [p + s for p in _MUN_PREFIX for s in _MUN_SUFFIX if not p.lower().endswith(s)]
    order = rng.permutation(len(combos))
    names = [combos[i] for i in order[: min(n, len(combos))]]
    k = 2
    while len(names) < n:
        names += [f"{combos[i]} {k}" for i in order[: min(n - len(names), len(combos))]]
        k += 1
    return names


class _Units:
    """The units, their municipalities and their fixed traits (one row per unit or municipality).

    Parameters
    ----------
    n : int
        Number of units.
    k : SimulationKnobs
        The knobs (``units_per_municipality``, ``unit_positions_mean``, high-risk units, ...).
    rng : numpy.random.Generator
        The simulation's generator; the draws are the first of the simulation.
    """

    def __init__(self, n: int, k: SimulationKnobs, rng: np.random.Generator) -> None:
        self.n_units = n
        self.cause = k.high_risk_cause
        n_mun = int(min(n, max(1, round(n / k.units_per_municipality))))
        weights = rng.gamma(1.5, size=n_mun)
        sizes = 1 + rng.multinomial(n - n_mun, weights / weights.sum())
        self.unit_mun = np.repeat(np.arange(n_mun), sizes)
        self.mun_first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.mun_size = sizes
        self.n_mun = n_mun
        self.mun_names = _municipality_names(n_mun, rng)
        width = max(2, len(str(n)))
        self.unit_ids = np.array([f"U{i + 1:0{width}d}" for i in range(n)], dtype=object)
        local = np.arange(n) - self.mun_first[self.unit_mun]
        self.unit_local = local
        self.unit_names = [
            f"{self.mun_names[m]} {_TEAMS[j % len(_TEAMS)]}"
            + (f" {j // len(_TEAMS) + 1}" if j >= len(_TEAMS) else "")
            for m, j in zip(self.unit_mun, local, strict=True)
        ]
        self.positions = np.maximum(3, 1 + rng.poisson(k.unit_positions_mean - 1, size=n))
        self.structured = rng.random(n) < k.structured_supervision_share
        sd = k.unit_intake_sd
        self.intake_factor = np.exp(rng.normal(-0.5 * sd * sd, sd, size=n))
        self.care_share = np.clip(rng.normal(k.care_order_share, 0.05, size=n), 0.02, 0.8)
        # planted high-risk units
        hr = k.high_risk_units
        if isinstance(hr, int):
            if hr > n:
                raise ValueError(
                    f"high_risk_units={hr} is more than n_units={n}; choose at most {n}"
                )
            chosen = np.sort(rng.choice(n, size=hr, replace=False)) if hr else np.zeros(0, int)
        else:
            lookup = {u: i for i, u in enumerate(self.unit_ids)}
            unknown = [u for u in hr if u not in lookup]
            if unknown:
                raise ValueError(
                    f"high_risk_units contains unknown unit id(s) {unknown[:5]}; unit ids of this "
                    f"register run {self.unit_ids[0]}..{self.unit_ids[-1]}"
                )
            chosen = np.array(sorted({lookup[u] for u in hr}), dtype=int)
        self.high_risk = np.zeros(n, dtype=bool)
        self.high_risk[chosen] = True
        self.no_supervision = np.zeros(n, dtype=bool)
        if k.high_risk_cause == "caseload":
            self.intake_factor[chosen] *= k.high_risk_intake_factor
        else:
            self.no_supervision[chosen] = True
        self.service_multi = self.mun_size[self.unit_mun] > 1
        # survey plan: one instrument, month and day per municipality
        shares = np.asarray(k.instrument_shares, dtype=float)
        self.mun_instrument = rng.choice(3, size=n_mun, p=shares / shares.sum())
        self.mun_survey_moy = rng.integers(2, 11, size=n_mun)  # March..November
        self.mun_survey_day = rng.integers(1, 15, size=n_mun)

    def high_risk_frame(self) -> pd.DataFrame:
        idx = np.flatnonzero(self.high_risk)
        return pd.DataFrame(
            {
                "unit_id": pd.Series(self.unit_ids[idx], dtype=pd.StringDtype()),
                "cause": pd.Series([self.cause] * len(idx), dtype=pd.StringDtype()),
            }
        )
