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

This module runs the months in that order and turns the records into the register's tables;
the steps live by job in ``_units`` (units and municipalities), ``_population`` (hires, careers,
exits: steps 1, 2, 8), ``_absences`` (3), ``_work`` (4, 5, 7), ``_survey_answers`` (6),
``_buffers`` (record stores and day helpers) and ``_effects`` (the true effects).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from turnover_risk.data._schema import EXIT_REASONS, SCHEMAS, SUPERVISION_KINDS, pandas_dtype
from turnover_risk.datasets._absences import take_sick_leave
from turnover_risk.datasets._buffers import _OPEN, _Buffer, _Chunks, _days_to_ns, _Month
from turnover_risk.datasets._knobs import SimulationKnobs
from turnover_risk.datasets._population import EDUCATIONS, GENDERS, ROLES, _Workforce
from turnover_risk.datasets._survey_answers import (
    INSTRUMENT_NAMES,
    N_ITEM_COLUMNS,
    answer_surveys,
    prepare_instruments,
)
from turnover_risk.datasets._units import _Units
from turnover_risk.datasets._work import assign_cases, shift_histories, supervise, update_burnout

__all__ = ["conform", "simulate"]


class _Simulation:
    """The state of one simulation: calendar, units, staff and the records of every month."""

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
        self.units = _Units(n_units, knobs, rng)

    # ------------------------------------------------------------------ run
    def run(self) -> None:
        """Simulate every month (burn-in included)."""
        k, rng = self.k, self.rng
        self.workforce = _Workforce(self.units, k, rng, self.n_months)
        self.people, self.spells = self.workforce.people, self.workforce.spells
        self.backlog = np.zeros(self.n_units)
        self.absences = _Buffer.make(
            {"emp": np.int64, "start": np.int64, "end": np.int64, "cert": np.int8,
             "grade": float},
            max(1024, int(self.units.positions.sum())),
        )  # fmt: skip
        self.caseload = _Chunks()
        self.supervision = _Chunks()
        self.surveys = _Chunks()
        self.truth = _Chunks()
        self.workforce.fill_all_positions(int(self.year[0]), self.ms[0])
        # item structure of the instruments (read from turnover_risk.surveys)
        self.instruments = prepare_instruments(rng)
        for t in range(self.n_months):
            self._step(t)

    # ------------------------------------------------------------------ one month
    def _step(self, t: int) -> None:
        """One month: the numbered steps of the module docstring, in order."""
        k, rng, P, U, workforce = self.k, self.rng, self.people, self.units, self.workforce
        ms, me = int(self.ms[t]), int(self.me[t])
        month = _Month(
            t, ms, me, me - ms + 1, int(self.year[t]), int(self.moy[t]), t >= self.burn_in
        )
        truth = self.truth if month.record and self.record_truth else None
        exits = workforce.draw_exits(month, truth)  # 1. exit hazards from last month's state
        staff = workforce.hire(month, exits)  # 2. hires whose vacancy delay is over
        presence = take_sick_leave(k, rng, month, P, staff, self.absences)  # 3. sick leave
        cases, snap = assign_cases(  # 4. caseload
            k, rng, month, P, staff, presence, U, self.backlog, self.caseload
        )
        n_sess = supervise(k, rng, month, P, staff, presence, U, self.supervision)  # 5.
        if month.record:  # 6. surveys
            answer_surveys(k, rng, month, staff, U, self.instruments, self.surveys)
        update_burnout(k, rng, month, P, staff, cases, n_sess, U)  # 7. burnout
        shift_histories(P, staff, n_sess, snap, cases)  # what next month's hazards read
        workforce.apply_exits(month, exits, self.backlog)  # 8. exits and transfers,
        workforce.post_vacancies(month)  # then vacancies

    # ------------------------------------------------------------------ output
    def tables(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
        """The six tables of the recorded window, and the truth hazard frame (or None)."""
        S, U = self.spells, self.units
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
                "unit_id": pd.Series(U.unit_ids[S["unit"][:n][keep]], dtype=pd.StringDtype()),
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
                "unit_id": U.unit_ids,
                "unit_name": U.unit_names,
                "municipality": np.array(U.mun_names, dtype=object)[U.unit_mun],
                "service": [f"Barnevernet {U.mun_names[m]}" for m in U.unit_mun],
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
                        U.unit_ids[T.get("unit", np.int64)], dtype=pd.StringDtype()
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
        """The planted high-risk units: ``unit_id`` and ``cause``."""
        return self.units.high_risk_frame()


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
