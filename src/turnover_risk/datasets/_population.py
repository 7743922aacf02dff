"""The staff of a simulated register: hires, careers and exits.

:class:`_Workforce` holds every person ever employed (a :class:`_Buffer` of people) and their
employment spells, the colleagues who left each unit in the last three months, and the pending
vacancies. Each month it draws the exits of the staff present at its start from their hazards
(:meth:`_Workforce.draw_exits`; ``internal_transfer`` moves a person to another unit of the same
service), brings in the hires whose vacancy delay is over (:meth:`_Workforce.hire`), applies the
exits at the end of the month (:meth:`_Workforce.apply_exits`) and posts the vacancies
(:meth:`_Workforce.post_vacancies`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from turnover_risk.data._schema import EXIT_REASONS
from turnover_risk.datasets._buffers import _NEVER, _OPEN, _Buffer, _Chunks, _Month
from turnover_risk.datasets._knobs import SimulationKnobs
from turnover_risk.datasets._units import _Units

__all__ = ["EDUCATIONS", "GENDERS", "ROLES", "_Exits", "_Staff", "_Workforce"]

EDUCATIONS: tuple[str, ...] = ("child_welfare", "social_work", "social_education", "other")
EDUCATION_P = (0.52, 0.30, 0.10, 0.08)
GENDERS: tuple[str, ...] = ("female", "male")
ROLES: tuple[str, ...] = ("caseworker", "team_leader")
PART_TIME_FTE = np.array([0.5, 0.6, 0.8])

R_VOLUNTARY, R_RETIREMENT, R_DISMISSAL, R_CONTRACT, R_TRANSFER, R_DEATH, R_OTHER = range(7)
assert EXIT_REASONS[R_TRANSFER] == "internal_transfer"


@dataclass(frozen=True)
class _Exits:
    """The exit draws of one month for the staff active at its start (``idx``)."""

    idx: np.ndarray
    unit: np.ndarray
    reason: np.ndarray  # code in EXIT_REASONS; len(EXIT_REASONS) = stays
    leaving: np.ndarray
    exit_day: np.ndarray
    dest: np.ndarray  # destination unit of an internal transfer, -1 otherwise
    lo: np.ndarray  # first day in the unit this month
    hi: np.ndarray  # last day in the unit this month


@dataclass(frozen=True)
class _Staff:
    """The staff of one month: those active at its start, then this month's hires (``idx``)."""

    idx: np.ndarray
    unit: np.ndarray
    role: np.ndarray
    burn: np.ndarray  # latent burnout at the start of the month
    lo: np.ndarray  # first day present
    hi: np.ndarray  # last day present
    cap_day: np.ndarray  # a sick-leave spell ends by this day (the exit day, or _OPEN)


class _Workforce:
    """People, employment spells, colleagues who left and pending vacancies.

    Parameters
    ----------
    units : _Units
        The units the staff work in.
    k : SimulationKnobs
        The knobs.
    rng : numpy.random.Generator
        The simulation's generator.
    n_months : int
        Number of simulated months (sizes the buffers).
    """

    def __init__(
        self, units: _Units, k: SimulationKnobs, rng: np.random.Generator, n_months: int
    ) -> None:
        self.units, self.k, self.rng = units, k, rng
        self.n_units = units.n_units
        n_pos = int(units.positions.sum())
        cap = int(n_pos * (1.6 + 0.4 * n_months / 12))
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
        self.pend_unit = np.zeros(0, dtype=np.int64)
        self.pend_t = np.zeros(0, dtype=np.int64)
        self.pend_role = np.zeros(0, dtype=np.int8)

    def fill_all_positions(self, year: int, day: np.int64) -> None:
        """Initial staff: every position filled, one team leader per unit."""
        units = np.repeat(np.arange(self.n_units), self.units.positions)
        first_of_unit = np.concatenate([[0], np.cumsum(self.units.positions)[:-1]])
        roles = np.zeros(len(units), dtype=np.int8)
        roles[first_of_unit] = 1
        self._new_people(units, roles, 0, year, np.full(len(units), day), initial=True)

    def _new_people(
        self,
        units: np.ndarray,
        roles: np.ndarray,
        t: int,
        year: int,
        start_day: np.ndarray,
        initial: bool,
    ) -> np.ndarray:
        """Add people (initial staff or hires) with their first spell; return their indices."""
        k, rng, P = self.k, self.rng, self.people
        m = len(units)
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

    def draw_exits(self, month: _Month, truth: _Chunks | None) -> _Exits:
        """Draw one exit reason or none per person active at the start of the month.

        The hazards come from last month's state; ``truth`` (when given) records them.
        """
        k, rng, P, U = self.k, self.rng, self.people, self.units
        t, ms, me, year = month.t, month.ms, month.me, month.year
        A = np.flatnonzero(P["active"][: P.n])
        uA = P["unit"][A]
        roleA = P["role"][A]

        # hazards from last month's state
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
            U.service_multi[uA] & (roleA == 0) & (P["sick_until"][A] < ms),
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
            free = U.positions - headcount
            mun = U.unit_mun[uA[tr]]
            size = U.mun_size[mun]
            r = np.floor(rng.random(len(tr)) * (size - 1)).astype(np.int64)
            local = U.unit_local[uA[tr]]
            d = U.mun_first[mun] + np.where(r < local, r, r + 1)
            ok = free[d] > 0
            dest[tr[ok]] = d[ok]
            stay = tr[~ok]
            reason[stay] = len(EXIT_REASONS)
            leaving[stay] = False
        hi_A = np.where(leaving, exit_day, me)

        if truth is not None:
            truth.add(
                emp=A, t=np.full(len(A), t), unit=uA, hazard=h_vol, eta=eta,
                caseload_3m_mean=np.where(roleA == 0, c3, np.nan), burnout=burn,
                supervision_sessions_3m=sup3, colleagues_left_3m=coll3,
                newly_qualified=nq.astype(float), first_year=fy.astype(float),
                age=age.astype(float), fte=P["fte"][A],
                **{f"lp_{name}": v for name, v in terms.items()},
            )  # fmt: skip

        return _Exits(A, uA, reason, leaving, exit_day, dest, lo_A, hi_A)

    def hire(self, month: _Month, exits: _Exits) -> _Staff:
        """Bring in the hires whose vacancy delay is over; return the staff of the month."""
        rng, P = self.rng, self.people
        t, ms, me, ndays = month.t, month.ms, month.me, month.ndays
        A, leaving, exit_day = exits.idx, exits.leaving, exits.exit_day
        lo_A, hi_A = exits.lo, exits.hi
        arrive = self.pend_t == t
        if arrive.any():
            hu, hr_ = self.pend_unit[arrive], self.pend_role[arrive]
            self.pend_unit, self.pend_t = self.pend_unit[~arrive], self.pend_t[~arrive]
            self.pend_role = self.pend_role[~arrive]
            on_first = rng.random(len(hu)) < 0.5
            sday = np.where(on_first, ms, ms + rng.integers(0, ndays, size=len(hu)))
            H_idx = self._new_people(hu, hr_, t, month.year, sday, initial=False)
        else:
            H_idx = np.zeros(0, dtype=np.int64)
        W = np.concatenate([A, H_idx])
        lo = np.concatenate([lo_A, P["unit_start"][H_idx]])
        hi = np.concatenate([hi_A, np.full(len(H_idx), me)])
        cap_day = np.concatenate([np.where(leaving, exit_day, _OPEN), np.full(len(H_idx), _OPEN)])
        uW = P["unit"][W]
        roleW = P["role"][W]
        burnW = P["burn"][W]
        return _Staff(W, uW, roleW, burnW, lo, hi, cap_day)

    def apply_exits(self, month: _Month, exits: _Exits, backlog: np.ndarray) -> None:
        """End the spells of the leavers; movers start a spell in their new unit.

        The open cases of the leavers are added to their unit's ``backlog`` (in place).
        """
        P, t = self.people, month.t
        A, uA, reason, exit_day = exits.idx, exits.unit, exits.reason, exits.exit_day
        leaving, dest = exits.leaving, exits.dest
        self.unit_exit_hist[:, :2] = self.unit_exit_hist[:, 1:]
        self.unit_exit_hist[:, 2] = 0.0
        if leaving.any():
            li = np.flatnonzero(leaving)
            who = A[li]
            np.add.at(self.unit_exit_hist[:, 2], uA[li], 1.0)
            backlog += np.bincount(uA[li], weights=P["cases"][who], minlength=self.n_units)
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

    def post_vacancies(self, month: _Month) -> None:
        """Post a vacancy for every position neither filled nor pending (one team leader each)."""
        k, rng, P, U, t = self.k, self.rng, self.people, self.units, month.t
        act = np.flatnonzero(P["active"][: P.n])
        ua, ra = P["unit"][act], P["role"][act]
        headcount = np.bincount(ua, minlength=self.n_units)
        pending = np.bincount(self.pend_unit, minlength=self.n_units)
        deficit = U.positions - headcount - pending
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
