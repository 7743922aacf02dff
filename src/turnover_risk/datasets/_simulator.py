"""Month-by-month simulation of municipal child-welfare units (the engine of ``make_register``).

Every month, vectorised over the employees present:

1. the monthly exit hazards are computed from last month's state (caseload, burnout,
   supervision, colleagues who left, newly qualified, first year, age, fte) and one exit reason
   or none is drawn per person (``internal_transfer`` moves the person to another unit of the
   same service and is not an exit from the service);
2. replacements whose vacancy delay is over start;
3. sick-leave spells start (rate rises with burnout; self-certified 1-3 days, doctor-certified
   log-normal length, sometimes graded);
4. the unit's case intake (which arrives whether or not positions are filled) and the cases left
   behind by leavers are shared among the caseworkers present, weighted by presence (sick leave)
   and a ramp-up for new staff -- so short-staffing raises everybody's caseload;
5. supervision sessions follow the unit's practice (weekly for new staff in structured units);
6. surveys are answered in the municipality's survey month (item answers from the latent
   burnout, with non-response and missing items);
7. latent burnout moves towards a target set by caseload, client strain, supervision and being
   newly qualified;
8. exits are applied and vacancies posted.

The simulation starts ``burn_in_months`` before ``start_year`` so the state is in equilibrium
when recording starts. Dates are handled as integer day numbers (days since 1970-01-01).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from turnover_risk.data._schema import EXIT_REASONS, SCHEMAS, SUPERVISION_KINDS, pandas_dtype
from turnover_risk.datasets._knobs import SimulationKnobs

__all__ = ["EFFECT_FEATURES", "simulate"]

INSTRUMENT_NAMES: tuple[str, ...] = ("CBI", "ProQOL", "BAT12")
N_ITEM_COLUMNS = 30
EDUCATIONS: tuple[str, ...] = ("child_welfare", "social_work", "social_education", "other")
EDUCATION_P = (0.52, 0.30, 0.10, 0.08)
GENDERS: tuple[str, ...] = ("female", "male")
ROLES: tuple[str, ...] = ("caseworker", "team_leader")
PART_TIME_FTE = np.array([0.5, 0.6, 0.8])
SICK_GRADES = np.array([0.2, 0.4, 0.5, 0.6, 0.8])
SESSION_MINUTES = np.array([60.0, 90.0, 120.0, 90.0, 30.0])  # in SUPERVISION_KINDS order
# kind probabilities (individual, group, process, external, debrief) per practice group
KIND_P = np.array(
    [
        [0.80, 0.05, 0.10, 0.00, 0.05],  # structured unit, new staff (weekly individual)
        [0.40, 0.30, 0.20, 0.05, 0.05],  # structured unit, others
        [0.30, 0.15, 0.05, 0.10, 0.40],  # sporadic unit (many ad-hoc debriefs)
    ]
)
ITEM_THRESHOLDS = np.array([-1.6, -0.5, 0.6, 1.7])
# answer level per instrument (shift of every item's latent) so that mean scores sit near the
# published norms: CBI ~ 40, ProQOL burnout sum ~ 25, BAT-12 mean ~ 2.3
_INSTRUMENT_LEVEL = {"CBI": 0.0, "ProQOL": 0.0, "BAT12": -0.6}
_SATISFACTION_LEVEL = 0.6  # satisfaction items (ProQOL compassion satisfaction) answered high

R_VOLUNTARY, R_RETIREMENT, R_DISMISSAL, R_CONTRACT, R_TRANSFER, R_DEATH, R_OTHER = range(7)
assert EXIT_REASONS[R_TRANSFER] == "internal_transfer"

EFFECT_FEATURES: dict[str, tuple[str, ...]] = {
    "newly_qualified": ("newly_qualified",),
    "first_year": ("tenure_service_months",),
    "caseload": ("caseload_3m_mean",),
    "burnout": ("cbi_work", "proqol_burnout", "bat_total"),
    "supervision": ("supervision_sessions_3m",),
    "colleagues_left": ("colleagues_left_3m",),
    "age": ("age",),
    "part_time": ("fte",),
}
"""Panel features (``build_panel``) that proxy each true effect of the simulator."""

_EFFECT_INFO: dict[str, tuple[str, str, str, bool]] = {
    # effect: (knob, scale of the covariate, description, lever)
    "newly_qualified": (
        "newly_qualified_exit_effect",
        "1 if within two calendar years of qualifying",
        "newly qualified staff leave more",
        True,
    ),
    "first_year": (
        "first_year_exit_effect",
        "1 in the first 12 months in the service",
        "first year in the service",
        False,
    ),
    "caseload": (
        "caseload_exit_effect",
        "per open case of the 3-month mean caseload above caseload_norm",
        "high caseload",
        True,
    ),
    "burnout": (
        "burnout_exit_effect",
        "per SD of latent burnout",
        "burnout (surfaced by CBI/ProQOL/BAT-12)",
        False,
    ),
    "supervision": (
        "supervision_exit_effect",
        "per supervision session in the last 3 months",
        "supervision protects",
        True,
    ),
    "colleagues_left": (
        "colleagues_left_exit_effect",
        "per colleague who left the unit in the last 3 months",
        "good colleagues have left",
        True,
    ),
    "age": ("age_exit_effect", "per 10 years above age 40", "the young move more", False),
    "part_time": ("part_time_exit_effect", "1 if fte < 1", "part-time staff leave more", False),
}

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

_NEVER = np.iinfo(np.int64).min // 4  # "no day" sentinel (sick_until of a person never sick)
_OPEN = np.iinfo(np.int64).max // 4  # open end of a spell


@dataclass
class _Buffer:
    """Growable column store (one numpy array per column)."""

    cols: dict[str, np.ndarray]
    n: int = 0

    @classmethod
    def make(cls, spec: dict[str, object], capacity: int) -> _Buffer:
        return cls({k: np.zeros(capacity, dtype=v) for k, v in spec.items()})

    def reserve(self, extra: int) -> None:
        cap = len(next(iter(self.cols.values())))
        if self.n + extra <= cap:
            return
        new_cap = max(2 * cap, self.n + extra)
        for k, a in self.cols.items():
            b = np.zeros((new_cap, *a.shape[1:]), dtype=a.dtype)
            b[: self.n] = a[: self.n]
            self.cols[k] = b

    def append(self, **values: np.ndarray) -> np.ndarray:
        m = len(next(iter(values.values())))
        self.reserve(m)
        idx = np.arange(self.n, self.n + m)
        for k, v in values.items():
            self.cols[k][idx] = v
        self.n += m
        return idx

    def __getitem__(self, key: str) -> np.ndarray:
        return self.cols[key]


class _Chunks:
    """Per-month record chunks concatenated at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **cols: np.ndarray) -> None:
        for k, v in cols.items():
            self.parts.setdefault(k, []).append(np.asarray(v))

    def get(self, key: str, dtype: object) -> np.ndarray:
        parts = self.parts.get(key)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _municipality_names(n: int, rng: np.random.Generator) -> list[str]:
    combos = [p + s for p in _MUN_PREFIX for s in _MUN_SUFFIX if not p.lower().endswith(s)]
    order = rng.permutation(len(combos))
    names = [combos[i] for i in order[: min(n, len(combos))]]
    k = 2
    while len(names) < n:
        names += [f"{combos[i]} {k}" for i in order[: min(n - len(names), len(combos))]]
        k += 1
    return names


def _weekday(day: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday for day numbers since 1970-01-01 (a Thursday)."""
    return (day + 3) % 7


def _days_to_ns(days: np.ndarray) -> np.ndarray:
    out = days.astype("datetime64[D]").astype("datetime64[ns]")
    return out


class _Simulation:
    def __init__(
        self,
        n_units: int,
        years: int,
        start_year: int,
        knobs: SimulationKnobs,
        rng: np.random.Generator,
        record_truth: bool,
    ) -> None:
        self.k = knobs
        self.rng = rng
        self.record_truth = record_truth
        self.n_units = n_units
        self.burn_in = int(knobs.burn_in_months)
        first = np.datetime64(f"{start_year}-01", "M") - self.burn_in
        months = first + np.arange(self.burn_in + 12 * years)
        self.n_months = len(months)
        self.ms = months.astype("datetime64[D]").astype(np.int64)
        self.me = (months + 1).astype("datetime64[D]").astype(np.int64) - 1
        self.year = months.astype(np.int64) // 12 + 1970
        self.moy = months.astype(np.int64) % 12  # 0 = January
        self.window_start = int(self.ms[self.burn_in])
        self._instruments = None
        self._build_structure()

    # ------------------------------------------------------------------ structure
    def _build_structure(self) -> None:
        k, rng, n = self.k, self.rng, self.n_units
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

    # ------------------------------------------------------------------ people
    def _new_people(
        self, units: np.ndarray, roles: np.ndarray, t: int, start_day: np.ndarray, initial: bool
    ) -> np.ndarray:
        k, rng, P = self.k, self.rng, self.people
        m = len(units)
        year = int(self.year[t])
        if initial:
            age = np.clip(np.round(rng.normal(k.mean_age, 10.0, size=m)), 24, 66).astype(np.int64)
            nq = np.zeros(m, dtype=bool)
        else:
            nq = (rng.random(m) < k.newly_qualified_hire_share) & (roles == 0)
            age = np.where(
                nq,
                23 + rng.integers(0, 6, size=m),
                np.clip(np.round(rng.normal(40.0, 9.0, size=m)), 27, 63),
            ).astype(np.int64)
        birth = year - age
        qual_age = rng.integers(22, 30, size=m)
        qual = np.minimum(birth + qual_age, year - 2)
        if initial:
            qual = np.minimum(birth + qual_age, year)
        qual = np.where(nq, year - (rng.random(m) < 0.5), qual)
        qual = np.maximum(qual, birth + 20)
        if initial:
            # service tenure: exponential (mean 5 years), not before qualifying
            max_days = np.maximum((year - qual) * 365, 30)
            tenure = np.minimum(rng.exponential(5 * 365.25, size=m).astype(np.int64), max_days)
            svc_start = start_day - tenure
            svc_t = t - (tenure // 30)
        else:
            svc_start = start_day
            svc_t = np.full(m, t)
        fte = np.where(
            (rng.random(m) < k.part_time_share) & (roles == 0),
            PART_TIME_FTE[rng.integers(0, 3, size=m)],
            1.0,
        )
        temp = (not initial) & (rng.random(m) < k.temporary_hire_share)
        temp_end = np.where(temp, t + int(k.temporary_contract_months), -1)
        trait = rng.normal(0.0, k.burnout_trait_sd, size=m)
        # initial caseworkers start near the steady state; hires start with no cases
        cases = np.where(roles == 0, rng.poisson(k.caseload_norm * 0.95, size=m), 0) * initial
        idx = P.append(
            unit=units,
            active=np.ones(m, dtype=bool),
            role=roles,
            fte=fte,
            birth=birth,
            gender=(rng.random(m) >= k.female_share).astype(np.int8),
            edu=rng.choice(len(EDUCATIONS), size=m, p=EDUCATION_P),
            qual=qual,
            svc_start=svc_start,
            svc_t=svc_t,
            unit_start=svc_start,
            unit_t=svc_t,
            temp_end=temp_end,
            trait=trait,
            frail=rng.normal(0.0, k.frailty_sd, size=m),
            burn=trait + rng.normal(0.0, 0.4, size=m),
            cases=cases,
            sick_start=np.full(m, _NEVER),
            sick_until=np.full(m, _NEVER),
            sick_grade=np.ones(m),
            backlog=np.zeros(m),
        )
        P["sup_hist"][idx] = 0.0
        P["case_hist"][idx] = np.nan
        if initial:
            P["case_hist"][idx] = np.where(roles == 0, cases, np.nan)[:, None]
            P["sup_hist"][idx] = 1.0
        spells = self.spells.append(
            emp=idx,
            unit=units,
            start=svc_start,
            end=np.full(m, _OPEN),
            fte=fte,
            role=roles,
            reason=np.full(m, -1, dtype=np.int8),
        )
        P["spell"][idx] = spells
        return idx

    # ------------------------------------------------------------------ run
    def run(self) -> None:
        n_pos = int(self.positions.sum())
        cap = int(n_pos * (1.6 + 0.4 * self.n_months / 12))
        self.people = _Buffer.make(
            {
                "unit": np.int64, "active": bool, "role": np.int8, "fte": float,
                "birth": np.int64, "gender": np.int8, "edu": np.int8, "qual": np.int64,
                "svc_start": np.int64, "svc_t": np.int64, "unit_start": np.int64,
                "unit_t": np.int64, "temp_end": np.int64, "trait": float, "frail": float,
                "burn": float, "cases": np.int64, "sick_start": np.int64,
                "sick_until": np.int64, "sick_grade": float, "backlog": float,
                "spell": np.int64,
            },
            cap,
        )  # fmt: skip
        for name in ("sup_hist", "case_hist"):
            self.people.cols[name] = np.zeros((cap, 3))
        self.spells = _Buffer.make(
            {"emp": np.int64, "unit": np.int64, "start": np.int64, "end": np.int64,
             "fte": float, "role": np.int8, "reason": np.int8},
            int(cap * 1.2),
        )  # fmt: skip
        self.unit_exit_hist = np.zeros((self.n_units, 3))
        self.backlog = np.zeros(self.n_units)
        self.pend_unit = np.zeros(0, dtype=np.int64)
        self.pend_t = np.zeros(0, dtype=np.int64)
        self.pend_role = np.zeros(0, dtype=np.int8)
        self.absences = _Buffer.make(
            {"emp": np.int64, "start": np.int64, "end": np.int64, "cert": np.int8,
             "grade": float},
            max(1024, n_pos),
        )  # fmt: skip
        self.caseload = _Chunks()
        self.supervision = _Chunks()
        self.surveys = _Chunks()
        self.truth = _Chunks()
        # initial staff: every position filled, one team leader per unit
        units = np.repeat(np.arange(self.n_units), self.positions)
        first_of_unit = np.concatenate([[0], np.cumsum(self.positions)[:-1]])
        roles = np.zeros(len(units), dtype=np.int8)
        roles[first_of_unit] = 1
        self._new_people(units, roles, 0, np.full(len(units), self.ms[0]), initial=True)
        # item structure of the instruments (read from turnover_risk.surveys)
        self._prepare_instruments()
        for t in range(self.n_months):
            self._step(t)

    def _prepare_instruments(self) -> None:
        from turnover_risk.surveys._score import get_instrument

        self._instruments = []
        for name in INSTRUMENT_NAMES:
            inst = get_instrument(name)
            n_items = int(inst.n_items)
            sign = np.ones(n_items)
            client = np.zeros(n_items)
            loading = np.full(n_items, 0.5)
            for sub, items in inst.subscales.items():
                if sub == "total":
                    continue
                pos = np.asarray(items, dtype=int) - 1
                loading[pos] = 1.0
                if "satisfaction" in sub:
                    sign[pos] = -1.0
                if "client" in sub or "traumatic" in sub:
                    client[pos] = 1.0
            reverse = np.zeros(n_items, dtype=bool)
            reverse[np.asarray(inst.reverse, dtype=int) - 1] = True
            offset = self.rng.normal(0.0, 0.3, size=n_items) + _INSTRUMENT_LEVEL.get(inst.name, 0.0)
            offset[sign < 0] += _SATISFACTION_LEVEL
            lo, hi = int(inst.response_min), int(inst.response_max)
            self._instruments.append(
                (inst.name, n_items, sign * loading, client, reverse, offset, lo, hi)
            )

    # ------------------------------------------------------------------ one month
    def _step(self, t: int) -> None:
        k, rng, P = self.k, self.rng, self.people
        ms, me = int(self.ms[t]), int(self.me[t])
        ndays = me - ms + 1
        year = int(self.year[t])
        record = t >= self.burn_in
        A = np.flatnonzero(P["active"][: P.n])
        uA = P["unit"][A]
        roleA = P["role"][A]

        # ---- 1. hazards from last month's state
        ch = P["case_hist"][A]
        n_c = (~np.isnan(ch)).sum(axis=1)
        c3 = np.where(n_c > 0, np.nansum(ch, axis=1) / np.maximum(n_c, 1), np.nan)
        has_c = (roleA == 0) & (n_c > 0)
        sup3 = P["sup_hist"][A].sum(axis=1)
        coll3 = self.unit_exit_hist[uA].sum(axis=1)
        nq = (year - P["qual"][A]) < 2
        fy = (t - P["svc_t"][A]) < 12
        age = year - P["birth"][A]
        part = P["fte"][A] < 1.0
        burn = P["burn"][A]
        terms = {
            "intercept": np.full(len(A), np.log(k.base_exit_hazard)),
            "newly_qualified": k.newly_qualified_exit_effect * nq,
            "first_year": k.first_year_exit_effect * fy,
            "caseload": np.where(has_c, k.caseload_exit_effect * (c3 - k.caseload_norm), 0.0),
            "burnout": k.burnout_exit_effect * burn,
            "supervision": k.supervision_exit_effect * sup3,
            "colleagues_left": k.colleagues_left_exit_effect * coll3,
            "age": k.age_exit_effect * (age - 40) / 10.0,
            "part_time": k.part_time_exit_effect * part,
            "frailty": P["frail"][A],
        }
        eta = np.sum(list(terms.values()), axis=0)
        h_vol = -np.expm1(-np.exp(eta))
        H = np.zeros((len(A), len(EXIT_REASONS)))
        H[:, R_VOLUNTARY] = h_vol
        H[:, R_RETIREMENT] = np.select(
            [age >= 70, age >= 67, age >= k.retirement_age], [1.0, 0.08, 0.012], 0.0
        )
        H[:, R_DISMISSAL] = k.dismissal_rate
        contract_due = P["temp_end"][A] == t
        H[:, R_CONTRACT] = np.where(contract_due, 1.0 - k.temporary_conversion_prob, 0.0)
        H[:, R_TRANSFER] = np.where(
            self.service_multi[uA] & (roleA == 0) & (P["sick_until"][A] < ms),
            k.internal_transfer_rate,
            0.0,
        )
        H[:, R_DEATH] = 2e-5 * np.exp(0.09 * (age - 40))
        H[:, R_OTHER] = k.other_exit_rate
        cum = np.cumsum(H, axis=1)
        cum /= np.maximum(cum[:, -1:], 1.0)
        u = rng.random(len(A))
        reason = (u[:, None] >= cum).sum(axis=1)  # len(EXIT_REASONS) = stays
        P["temp_end"][A[contract_due & (reason == len(EXIT_REASONS))]] = -1
        leaving = reason < len(EXIT_REASONS)
        lo_A = np.maximum(ms, P["unit_start"][A])
        last_day = np.where(reason == R_TRANSFER, me - 1, me)
        exit_day = lo_A + np.floor(rng.random(len(A)) * (last_day - lo_A + 1)).astype(np.int64)
        at_month_end = (reason == R_RETIREMENT) | (reason == R_CONTRACT)
        exit_day = np.where(at_month_end, me, exit_day)
        # transfers need a unit of the same service with an open position
        dest = np.full(len(A), -1)
        tr = np.flatnonzero(reason == R_TRANSFER)
        if len(tr):
            headcount = np.bincount(uA, minlength=self.n_units)
            free = self.positions - headcount
            mun = self.unit_mun[uA[tr]]
            size = self.mun_size[mun]
            r = np.floor(rng.random(len(tr)) * (size - 1)).astype(np.int64)
            local = self.unit_local[uA[tr]]
            d = self.mun_first[mun] + np.where(r < local, r, r + 1)
            ok = free[d] > 0
            dest[tr[ok]] = d[ok]
            stay = tr[~ok]
            reason[stay] = len(EXIT_REASONS)
            leaving[stay] = False
        hi_A = np.where(leaving, exit_day, me)

        if record and self.record_truth:
            self.truth.add(
                emp=A, t=np.full(len(A), t), unit=uA, hazard=h_vol, eta=eta,
                caseload_3m_mean=np.where(roleA == 0, c3, np.nan), burnout=burn,
                supervision_sessions_3m=sup3, colleagues_left_3m=coll3,
                newly_qualified=nq.astype(float), first_year=fy.astype(float),
                age=age.astype(float), fte=P["fte"][A],
                **{f"lp_{name}": v for name, v in terms.items()},
            )  # fmt: skip

        # ---- 2. hires whose vacancy delay is over
        arrive = self.pend_t == t
        if arrive.any():
            hu, hr_ = self.pend_unit[arrive], self.pend_role[arrive]
            self.pend_unit, self.pend_t = self.pend_unit[~arrive], self.pend_t[~arrive]
            self.pend_role = self.pend_role[~arrive]
            on_first = rng.random(len(hu)) < 0.5
            sday = np.where(on_first, ms, ms + rng.integers(0, ndays, size=len(hu)))
            H_idx = self._new_people(hu, hr_, t, sday, initial=False)
        else:
            H_idx = np.zeros(0, dtype=np.int64)
        W = np.concatenate([A, H_idx])
        lo = np.concatenate([lo_A, P["unit_start"][H_idx]])
        hi = np.concatenate([hi_A, np.full(len(H_idx), me)])
        cap_day = np.concatenate([np.where(leaving, exit_day, _OPEN), np.full(len(H_idx), _OPEN)])
        uW = P["unit"][W]
        roleW = P["role"][W]
        burnW = P["burn"][W]

        # ---- 3. sick leave
        su = P["sick_until"][W]
        s_lo = np.maximum(lo, su + 1)
        L = hi - s_lo + 1
        elig = L > 0
        frac = np.where(elig, L, 0) / ndays
        p_doc = -np.expm1(-k.doctor_spell_rate * np.exp(k.sick_burnout_effect * burnW) * frac)
        p_self = -np.expm1(-k.self_spell_rate * frac)
        u = rng.random(len(W))
        doc = elig & (u < p_doc)
        slf = elig & ~doc & (u < p_doc + p_self)
        new = doc | slf
        if new.any():
            j = np.flatnonzero(new)
            start = s_lo[j] + np.floor(rng.random(len(j)) * L[j]).astype(np.int64)
            is_doc = doc[j]
            wd = _weekday(start)
            shift = np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
            start = np.where(start + shift <= hi[j], start + shift, start)
            dur_doc = np.clip(
                np.round(rng.lognormal(np.log(k.doctor_spell_median_days), k.doctor_spell_sigma,
                                       size=len(j))), 1, 365,
            ).astype(np.int64)  # fmt: skip
            dur_self = rng.integers(1, 4, size=len(j))
            dur = np.where(is_doc, dur_doc, dur_self)
            graded = is_doc & (rng.random(len(j)) < k.graded_share)
            grade = np.where(graded, SICK_GRADES[rng.integers(0, len(SICK_GRADES), len(j))], 1.0)
            end = start + dur - 1
            end = np.minimum(end, cap_day[j])
            rec_grade = np.where(
                ~is_doc & (rng.random(len(j)) < k.self_grade_missing_share), np.nan, grade
            )
            self.absences.append(
                emp=W[j], start=start, end=end, cert=(is_doc).astype(np.int8), grade=rec_grade
            )
            P["sick_start"][W[j]] = start
            P["sick_until"][W[j]] = end
            P["sick_grade"][W[j]] = grade
        ss, su = P["sick_start"][W], P["sick_until"][W]
        overlap = np.maximum(0, np.minimum(hi, su) - np.maximum(lo, ss) + 1)
        presence = np.clip((hi - lo + 1 - overlap * P["sick_grade"][W]) / ndays, 0.0, 1.0)

        # ---- 4. caseload
        cw = roleW == 0
        ramp = np.minimum(1.0, (t - P["unit_t"][W] + 1) / max(k.new_staff_ramp_months, 1))
        weight = np.where(cw, presence * ramp * P["fte"][W], 0.0)
        capacity = np.bincount(uW, weights=weight, minlength=self.n_units)
        n_cw_pos = self.positions - 1
        intake = k.intake_per_position * n_cw_pos * self.intake_factor
        share = weight / np.maximum(capacity[uW], 0.5)
        new_cases = rng.poisson(intake[uW] * share)
        inherited = rng.poisson(self.backlog[uW] * share)
        self.backlog = np.where(capacity > 0, 0.0, self.backlog)
        cases = P["cases"][W]
        closed = rng.binomial(cases, np.clip(k.case_close_rate * (0.5 + 0.5 * presence), 0, 1))
        cases = np.where(cw, cases - closed + new_cases + inherited, 0)
        P["cases"][W] = cases
        snap = cw & (P["unit_start"][W] <= ms)
        if record and snap.any():
            j = np.flatnonzero(snap)
            oc = cases[j]
            care = rng.binomial(oc, self.care_share[uW[j]])
            over = np.maximum(oc - k.caseload_norm, 0.0)
            breaches = rng.poisson(k.deadline_breach_rate * over)
            self.caseload.add(
                emp=W[j], t=np.full(len(j), t), open=oc, new=new_cases[j], care=care,
                breaches=breaches,
            )  # fmt: skip

        # ---- 5. supervision
        new_staff = (t - P["svc_t"][W]) < k.new_staff_months
        structured = self.structured[uW]
        group = np.where(structured, np.where(new_staff & cw, 0, 1), 2)
        rate = np.where(
            group == 0,
            k.new_staff_sessions_per_month,
            np.where(group == 1, k.structured_sessions_per_month, k.sporadic_sessions_per_month),
        )
        rate = np.where(self.no_supervision[uW], 0.0, rate) * presence
        Lw = hi - lo + 1
        n_sess = np.minimum(rng.poisson(rate), (Lw + 2) // 3)
        if record and n_sess.any():
            j = np.repeat(np.arange(len(W)), n_sess)
            first = np.cumsum(n_sess) - n_sess
            slot = np.arange(len(j)) - first[j]
            off = rng.random(len(W))
            day = lo[j] + np.floor((slot + off[j]) * Lw[j] / n_sess[j]).astype(np.int64)
            wd = _weekday(day)
            day = np.clip(day + np.where(wd == 5, -1, np.where(wd == 6, 1, 0)), lo[j], hi[j])
            cp = np.cumsum(KIND_P[group[j]], axis=1)
            kind = (rng.random(len(j))[:, None] >= cp[:, :-1]).sum(axis=1).astype(np.int8)
            minutes = np.maximum(
                15.0, 5.0 * np.round((SESSION_MINUTES[kind] + rng.normal(0, 10, len(j))) / 5.0)
            )
            self.supervision.add(emp=W[j], day=day, kind=kind, minutes=minutes)
        # ---- 6. surveys
        if record:
            self._surveys(t, W, uW, lo, hi, burnW)

        # ---- 7. burnout
        caseload_term = np.where(cw, k.burnout_caseload_effect * (cases - k.caseload_norm), 0.0)
        target = (
            P["trait"][W]
            + caseload_term
            + k.burnout_client_effect * (self.care_share[uW] - k.care_order_share)
            - k.burnout_supervision_effect * n_sess
            + k.burnout_newly_qualified_effect * ((year - P["qual"][W]) < 2)
        )
        rho = k.burnout_persistence
        P["burn"][W] = rho * burnW + (1 - rho) * target + rng.normal(0, k.burnout_noise_sd, len(W))

        # ---- histories
        sh = P["sup_hist"]
        sh[W, :2] = sh[W, 1:]
        sh[W, 2] = n_sess
        chh = P["case_hist"]
        chh[W, :2] = chh[W, 1:]
        chh[W, 2] = np.where(snap, cases, np.nan)

        # ---- 8. exits and transfers
        self.unit_exit_hist[:, :2] = self.unit_exit_hist[:, 1:]
        self.unit_exit_hist[:, 2] = 0.0
        if leaving.any():
            li = np.flatnonzero(leaving)
            who = A[li]
            np.add.at(self.unit_exit_hist[:, 2], uA[li], 1.0)
            self.backlog += np.bincount(uA[li], weights=P["cases"][who], minlength=self.n_units)
            P["cases"][who] = 0
            sp = P["spell"][who]
            self.spells["end"][sp] = exit_day[li]
            self.spells["reason"][sp] = reason[li]
            moved = reason[li] == R_TRANSFER
            gone = who[~moved]
            P["active"][gone] = False
            mv = who[moved]
            if len(mv):
                d = dest[li[moved]]
                start = exit_day[li[moved]] + 1
                P["unit"][mv] = d
                P["unit_start"][mv] = start
                P["unit_t"][mv] = t + 1
                P["spell"][mv] = self.spells.append(
                    emp=mv, unit=d, start=start, end=np.full(len(mv), _OPEN),
                    fte=P["fte"][mv], role=P["role"][mv],
                    reason=np.full(len(mv), -1, dtype=np.int8),
                )  # fmt: skip
                # the mover fills one of the destination's pending vacancies
                for unit in d:
                    hit = np.flatnonzero((self.pend_unit == unit) & (self.pend_role == 0))
                    if len(hit):
                        drop = hit[np.argmax(self.pend_t[hit])]
                        keep = np.ones(len(self.pend_unit), dtype=bool)
                        keep[drop] = False
                        self.pend_unit = self.pend_unit[keep]
                        self.pend_t = self.pend_t[keep]
                        self.pend_role = self.pend_role[keep]

        # ---- 9. vacancies
        act = np.flatnonzero(P["active"][: P.n])
        ua, ra = P["unit"][act], P["role"][act]
        headcount = np.bincount(ua, minlength=self.n_units)
        pending = np.bincount(self.pend_unit, minlength=self.n_units)
        deficit = self.positions - headcount - pending
        if (deficit > 0).any():
            units = np.repeat(np.arange(self.n_units), np.maximum(deficit, 0))
            has_tl = (np.bincount(ua, weights=ra == 1, minlength=self.n_units) > 0) | (
                np.bincount(self.pend_unit, weights=self.pend_role == 1, minlength=self.n_units) > 0
            )
            _, first_idx = np.unique(units, return_index=True)
            roles = np.zeros(len(units), dtype=np.int8)
            roles[first_idx[~has_tl[units[first_idx]]]] = 1
            delay = rng.geometric(1.0 / k.vacancy_delay_months, size=len(units))
            self.pend_unit = np.concatenate([self.pend_unit, units])
            self.pend_t = np.concatenate([self.pend_t, t + delay])
            self.pend_role = np.concatenate([self.pend_role, roles])

    # ------------------------------------------------------------------ surveys
    def _surveys(self, t, W, uW, lo, hi, burnW) -> None:
        k, rng = self.k, self.rng
        mun = self.unit_mun[uW]
        in_wave = self.mun_survey_moy[mun] == self.moy[t]
        if not in_wave.any():
            return
        j = np.flatnonzero(in_wave)
        day = self.ms[t] + self.mun_survey_day[mun[j]] - 1 + rng.integers(0, 14, size=len(j))
        ok = (day >= lo[j]) & (day <= hi[j])
        logit = np.log(k.survey_response_rate / max(1e-9, 1 - k.survey_response_rate))
        if k.survey_response_rate >= 1.0:
            p = np.ones(len(j))
        else:
            p = 1.0 / (1.0 + np.exp(-(logit - k.nonresponse_burnout_effect * burnW[j])))
        answer = ok & (rng.random(len(j)) < p)
        j, day = j[answer], day[answer]
        if not len(j):
            return
        inst_of = self.mun_instrument[mun[j]]
        for i_inst, (_name, n_items, load, client, rev, offset, lo_c, hi_c) in enumerate(
            self._instruments
        ):
            sel = inst_of == i_inst
            if not sel.any():
                continue
            r = j[sel]
            m = len(r)
            strain = self.care_share[uW[r]] - k.care_order_share
            y = (
                k.item_loading * burnW[r][:, None] * load[None, :]
                + 3.0 * strain[:, None] * client[None, :]
                + offset[None, :]
                + rng.normal(0, 0.3, size=(m, 1))
                + rng.normal(0, 1.0, size=(m, n_items))
            )
            code = lo_c + np.searchsorted(ITEM_THRESHOLDS, y).astype(float)
            code = np.clip(code, lo_c, hi_c)
            code = np.where(rev[None, :], lo_c + hi_c - code, code)
            code[rng.random((m, n_items)) < k.item_missing_prob] = np.nan
            brk = rng.random(m) < k.survey_breakoff_prob
            cut = rng.integers(1, n_items, size=m)
            code[brk[:, None] & (np.arange(n_items)[None, :] >= cut[:, None])] = np.nan
            items = np.full((m, N_ITEM_COLUMNS), np.nan)
            items[:, :n_items] = code
            self.surveys.add(emp=W[r], day=day[sel], inst=np.full(m, i_inst), items=items)

    # ------------------------------------------------------------------ output
    def tables(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
        S = self.spells
        n = S.n
        keep = (S["end"][:n] >= self.window_start) & (S["start"][:n] <= self.me[-1])
        sp_emp = S["emp"][:n][keep]
        sp_start = S["start"][:n][keep]
        # employee ids in order of first kept spell start
        order = np.lexsort((sp_emp, sp_start))
        _, first = np.unique(sp_emp[order], return_index=True)
        kept_people = sp_emp[order][np.sort(first)]
        new_id = np.full(self.people.n, -1)
        new_id[kept_people] = np.arange(len(kept_people))
        width = max(6, len(str(len(kept_people))))
        id_str = np.array([f"E{i + 1:0{width}d}" for i in range(len(kept_people))], dtype=object)

        def ids(emp_idx: np.ndarray) -> pd.Series:
            codes = new_id[emp_idx]
            return pd.Series(id_str[codes], dtype=pd.StringDtype())

        P = self.people
        e = sp_emp
        end = S["end"][:n][keep]
        reason = S["reason"][:n][keep]
        emp = pd.DataFrame(
            {
                "employee_id": ids(e),
                "unit_id": pd.Series(self.unit_ids[S["unit"][:n][keep]], dtype=pd.StringDtype()),
                "start_date": _days_to_ns(sp_start),
                "end_date": np.where(end == _OPEN, np.datetime64("NaT"), _days_to_ns(np.where(
                    end == _OPEN, 0, end))).astype("datetime64[ns]"),
                "fte": S["fte"][:n][keep],
                "role": np.array(ROLES, dtype=object)[S["role"][:n][keep]],
                "exit_reason": pd.Categorical.from_codes(
                    reason.astype(np.int64), categories=list(EXIT_REASONS)
                ),
                "birth_year": P["birth"][e],
                "gender": np.array(GENDERS, dtype=object)[P["gender"][e]],
                "education": np.array(EDUCATIONS, dtype=object)[P["edu"][e]],
                "qualified_year": P["qual"][e],
            }
        )  # fmt: skip
        emp = emp.sort_values(["employee_id", "start_date"], kind="stable")

        units = pd.DataFrame(
            {
                "unit_id": self.unit_ids,
                "unit_name": self.unit_names,
                "municipality": np.array(self.mun_names, dtype=object)[self.unit_mun],
                "service": [f"Barnevernet {self.mun_names[m]}" for m in self.unit_mun],
            }
        )

        # absences: clip to the spell they start in, drop those before the window
        A = self.absences
        a_emp, a_start, a_end = A["emp"][: A.n], A["start"][: A.n], A["end"][: A.n]
        all_emp, all_start, all_end = S["emp"][:n], S["start"][:n], S["end"][:n]
        o = np.lexsort((all_start, all_emp))
        key_sp = all_emp[o].astype(np.float64) * 1e6 + all_start[o]
        key_ab = a_emp.astype(np.float64) * 1e6 + a_start
        pos = np.searchsorted(key_sp, key_ab, side="right") - 1
        spell_end = all_end[o][pos]
        # the extract covers the recorded window only: clip spells to it
        a_end = np.minimum(np.minimum(a_end, spell_end), self.me[-1])
        ka = (a_end >= self.window_start) & (new_id[a_emp] >= 0) & (a_start <= self.me[-1])
        a_start = np.maximum(a_start, self.window_start)
        absences = pd.DataFrame(
            {
                "employee_id": ids(a_emp[ka]),
                "start_date": _days_to_ns(a_start[ka]),
                "end_date": _days_to_ns(a_end[ka]),
                "certification": pd.Categorical.from_codes(
                    A["cert"][: A.n][ka].astype(np.int64), categories=["self", "doctor"]
                ),
                "grade": A["grade"][: A.n][ka],
            }
        ).sort_values(["employee_id", "start_date"], kind="stable")

        C = self.caseload
        c_emp = C.get("emp", np.int64)
        caseload = pd.DataFrame(
            {
                "employee_id": ids(c_emp),
                "month": _days_to_ns(self.ms[C.get("t", np.int64)]),
                "open_cases": C.get("open", np.int64),
                "new_cases": C.get("new", np.int64),
                "care_order_cases": C.get("care", np.int64),
                "deadline_breaches": C.get("breaches", np.int64),
            }
        ).sort_values(["employee_id", "month"], kind="stable")

        V = self.supervision
        supervision = pd.DataFrame(
            {
                "employee_id": ids(V.get("emp", np.int64)),
                "date": _days_to_ns(V.get("day", np.int64)),
                "kind": pd.Categorical.from_codes(
                    V.get("kind", np.int8).astype(np.int64), categories=list(SUPERVISION_KINDS)
                ),
                "minutes": V.get("minutes", float),
            }
        )
        supervision = supervision.drop_duplicates(["employee_id", "date", "kind"]).sort_values(
            ["employee_id", "date"], kind="stable"
        )

        Q = self.surveys
        items = np.concatenate(Q.parts["items"]) if "items" in Q.parts else np.zeros((0, 30))
        surveys = pd.DataFrame(
            {
                "employee_id": ids(Q.get("emp", np.int64)),
                "date": _days_to_ns(Q.get("day", np.int64)),
                "instrument": np.array(INSTRUMENT_NAMES, dtype=object)[Q.get("inst", np.int64)],
            }
        )
        for c in range(N_ITEM_COLUMNS):
            surveys[f"item_{c + 1:02d}"] = items[:, c]
        surveys = surveys.sort_values(["employee_id", "date"], kind="stable")

        out = {
            "employment": emp,
            "units": units,
            "absences": absences,
            "caseload": caseload,
            "supervision": supervision,
            "surveys": surveys,
        }
        out = {name: conform(name, df) for name, df in out.items()}

        truth = None
        if self.record_truth:
            T = self.truth
            t_emp = T.get("emp", np.int64)
            truth = pd.DataFrame(
                {
                    "employee_id": ids(t_emp),
                    "unit_id": pd.Series(
                        self.unit_ids[T.get("unit", np.int64)], dtype=pd.StringDtype()
                    ),
                    "month": _days_to_ns(self.ms[T.get("t", np.int64)]),
                }
            )
            for c in ("hazard", "eta"):
                truth[c] = T.get(c, float)
            for c in T.parts:
                if c.startswith("lp_"):
                    truth[c] = T.get(c, float)
            for c in (
                "newly_qualified", "first_year", "caseload_3m_mean", "burnout",
                "supervision_sessions_3m", "colleagues_left_3m", "age", "fte",
            ):  # fmt: skip
                truth[c] = T.get(c, float)
            truth = truth.sort_values(["employee_id", "month"], kind="stable").reset_index(
                drop=True
            )
        return out, truth

    def high_risk_frame(self) -> pd.DataFrame:
        idx = np.flatnonzero(self.high_risk)
        return pd.DataFrame(
            {
                "unit_id": pd.Series(self.unit_ids[idx], dtype=pd.StringDtype()),
                "cause": pd.Series([self.k.high_risk_cause] * len(idx), dtype=pd.StringDtype()),
            }
        )


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Cast every column to the dtype of the data contract and reset the index."""
    schema = SCHEMAS[name]
    df = df.reset_index(drop=True)
    out = {}
    for c in df.columns:
        if schema.matches_pattern(c) and c not in schema.names:
            out[c] = df[c].astype("float64")
        else:
            out[c] = df[c].astype(pandas_dtype(schema.column(c)))
    return pd.DataFrame(out)


def effects_frame(knobs: SimulationKnobs) -> pd.DataFrame:
    """The true log-hazard effects of the voluntary exit hazard, one row per effect."""
    rows = [
        {
            "effect": "intercept",
            "coefficient": float(np.log(knobs.base_exit_hazard)),
            "scale": "log of base_exit_hazard (reference person)",
            "knob": "base_exit_hazard",
            "features": "",
            "lever": False,
            "description": "monthly voluntary exit hazard of the reference person",
        }
    ]
    for effect, (knob, scale, desc, lever) in _EFFECT_INFO.items():
        rows.append(
            {
                "effect": effect,
                "coefficient": float(getattr(knobs, knob)),
                "scale": scale,
                "knob": knob,
                "features": ", ".join(EFFECT_FEATURES[effect]),
                "lever": lever,
                "description": desc,
            }
        )
    rows.append(
        {
            "effect": "frailty",
            "coefficient": float(knobs.frailty_sd),
            "scale": "SD of the person's unobserved log-hazard frailty",
            "knob": "frailty_sd",
            "features": "",
            "lever": False,
            "description": "unobserved person heterogeneity",
        }
    )
    return pd.DataFrame(rows)


def simulate(
    n_units: int,
    years: int,
    start_year: int,
    knobs: SimulationKnobs,
    rng: np.random.Generator,
    record_truth: bool,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None, pd.DataFrame]:
    """Run the simulation; return the tables, the truth hazard frame and the high-risk units."""
    sim = _Simulation(n_units, years, start_year, knobs, rng, record_truth)
    sim.run()
    tables, truth = sim.tables()
    return tables, truth, sim.high_risk_frame()
