"""Write the notebooks in ``notebooks/`` from the cell texts below (the source of truth).

The notebooks are written without outputs; execute them afterwards so the committed files
carry their outputs and read well on a code host:

    python scripts/build_notebooks.py      # after editing a cell text here
    make notebooks                          # = python scripts/run_notebooks.py

Every notebook only imports ``turnover_risk`` (plus pandas and matplotlib for display) and
calls its public API: no logic of its own, no ``sys.path`` changes.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(textwrap.dedent(text).strip("\n"))


# ----------------------------------------------------------------------------------------------
# 02: reproduce turnover statistics (researchers)
# ----------------------------------------------------------------------------------------------


def notebook_02() -> list[nbformat.NotebookNode]:
    return [
        md(
            """
            # Reproducing turnover and sick-leave statistics

            Published turnover figures for Norwegian child-welfare services range from about
            11 % to over 30 %. Most of that spread is **definition**, not reality: who counts as
            having left, measured when, against which denominator. This notebook computes every
            definition that `turnover_risk` names on the same register and the same years, shows
            the arithmetic for one unit, and then varies one choice at a time: the scope of
            "leaving", the snapshot date, headcount versus FTE. It ends with rates from
            published aggregate counts, the SSB/NAV sick-leave percentage, and the intervals and
            small-cell suppression that come with every number.

            Every number below comes from a `turnover_risk` function; the notebook only selects,
            pivots and prints the library's own output columns.

            **Data.** The shipped sample register (`tr.load_sample()`): 40 units in 10
            municipalities, 2019-2024, about 750 people. It is **synthetic**; its levels say
            nothing about any real service. Use it to learn what each definition does, then run
            the same calls on your own register (`tr.read_register(folder)`).
            """
        ),
        code(
            """
            import matplotlib.pyplot as plt
            import pandas as pd

            import turnover_risk as tr

            pd.set_option("display.precision", 3)
            pd.set_option("display.width", 120)
            print("turnover_risk", tr.__version__)

            reg = tr.load_sample()
            tr.validate(reg)  # every problem would be one row of this report; the sample is clean
            """
        ),
        md(
            """
            ## 1. The named definitions

            `tr.DEFINITIONS` is the registry: each entry says what is counted, against what,
            when, how its interval is computed and where the definition comes from (with how
            sure we are of the source). `print(tr.DEFINITIONS[key])` gives one in full.
            """
        ),
        code(
            """
            tr.DEFINITIONS.to_frame()[["key", "kind", "formula", "denominator", "interval"]]
            """
        ),
        code(
            """
            print(tr.DEFINITIONS["bufdir"])
            """
        ),
        md(
            """
            ## 2. Every definition side by side

            Same register, same years, default scope: `scope="service"` for `exit_share`,
            `separation` and `hire` (moving to another unit of the same service is not leaving),
            while `bufdir` is always counted per unit (establishment level, as SSB: a move to
            another unit is a separation there and a hire in the new unit). Two label
            conventions to keep in mind:

            * `exit_share` compares two snapshots; its period `"2021"` means 1 December 2021 ->
              1 December 2022 (KS would write 2021-22). The rows carry `snapshot` and
              `next_snapshot`, so this is never implicit.
            * the flow definitions (`separation`, `hire`, `bufdir`) count events during the
              calendar year and divide by the average of the headcount at its start and end
              (`annual="sum_of_months"` gives SHRM's annual rate instead: the sum of the twelve
              monthly rates).
            """
        ),
        code(
            """
            YEARS = ["2019", "2020", "2021", "2022", "2023"]
            runs = {key: tr.turnover_rate(reg, definition=key, period=YEARS) for key in tr.DEFINITIONS}
            runs["bufdir, divisor='replacement'"] = tr.turnover_rate(
                reg, definition="bufdir", divisor="replacement", period=YEARS
            )
            runs["separation, annual='sum_of_months'"] = tr.turnover_rate(
                reg, definition="separation", annual="sum_of_months", period=YEARS
            )
            side_by_side = pd.DataFrame({name: r.set_index("period")["rate"] for name, r in runs.items()})
            side_by_side.style.format("{:.1%}")
            """
        ),
        code(
            """
            ax = side_by_side.plot(marker="o", figsize=(7, 3.5))
            ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
            ax.set(xlabel="period", ylabel="rate", title="One register, five turnover figures")
            ax.legend(fontsize=8, loc="upper right")
            plt.show()
            """
        ),
        md(
            """
            **Reading it.** `bufdir` ("gjennomtrekk", churn) counts each replacement twice (a
            leaver *and* a hire) and counts at the unit, so internal transfers are part of it:
            with the default divisor it can reach twice the unit-level separation rate (exactly
            twice when every unit replaces all its leavers within the year); with
            `divisor="replacement"` it is `min(H, S) / average headcount`, never above the
            unit-level separation or hire rate. SHRM's sum of monthly separation rates moves
            away from the yearly rate when the headcount swings during the year. `exit_share`
            counts persons present at one snapshot
            and gone at the next, so someone hired and gone between two snapshots is invisible to
            it, while the flow definitions count them. None of these is "the" turnover: a figure
            is only comparable with another figure of the same definition.
            """
        ),
        md(
            """
            ## 3. The arithmetic for one unit

            The same four definitions for one unit and one year, with the counts the library
            returns next to each rate (`hires`, `separations`, `headcount_start`,
            `headcount_end`).
            """
        ),
        code(
            """
            UNIT, YEAR = "U06", "2021"
            one_unit = pd.concat(
                [tr.turnover_rate(reg, definition=key, by="unit_id", period=YEAR) for key in tr.DEFINITIONS]
            ).query("unit_id == @UNIT")
            one_unit[
                [
                    "definition",
                    "numerator",
                    "denominator",
                    "rate",
                    "hires",
                    "separations",
                    "headcount_start",
                    "headcount_end",
                    "n_persons",
                ]
            ]
            """
        ),
        code(
            """
            row = one_unit.set_index("definition")
            es, sep, hire, buf = (row.loc[k] for k in ["exit_share", "separation", "hire", "bufdir"])
            H, S, E0, E1 = (
                int(sep.hires),
                int(sep.separations),
                int(sep.headcount_start),
                int(sep.headcount_end),
            )

            print(
                f"exit_share  {es.headcount_start} persons in {UNIT} on {es.snapshot:%d %b %Y}; "
                f"{es.separations} of them in no unit of the service on {es.next_snapshot:%d %b %Y}"
            )
            print(
                f"            rate = {es.separations} / {es.headcount_start} = {es.separations / es.headcount_start:.4f}"
                f"   (library: {es.rate:.4f})"
            )
            print(
                f"flows       H = {H} hires, S = {S} separations during {YEAR}; "
                f"headcount {E0} at the start, {E1} at the end"
            )
            print(
                f"            average headcount = ({E0} + {E1}) / 2 = {(E0 + E1) / 2}   (library denominator: {sep.denominator})"
            )
            print(
                f"separation  S / avg = {S} / {(E0 + E1) / 2} = {S / ((E0 + E1) / 2):.4f}   (library: {sep.rate:.4f})"
            )
            print(
                f"hire        H / avg = {H} / {(E0 + E1) / 2} = {H / ((E0 + E1) / 2):.4f}   (library: {hire.rate:.4f})"
            )
            Hu, Su = int(buf.hires), int(buf.separations)  # bufdir counts at the unit
            print(
                f"bufdir      unit-level H = {Hu}, S = {Su}: C = H + S - |E_end - E_start| = "
                f"{Hu} + {Su} - {abs(E1 - E0)} = {Hu + Su - abs(E1 - E0)}   (library numerator: {buf.numerator:g})"
            )
            print(f"            rate = C / avg = {buf.numerator:g} / {buf.denominator:g} = {buf.rate:.4f}")
            """
        ),
        md(
            """
            `bufdir` takes its hires and separations at the unit, so a transfer into or out of
            the unit counts as one; then `E_end - E_start = H - S` holds exactly and
            `C = H + S - |E_end - E_start| = 2 x min(H, S)`. The `separation` and `hire` rows
            count at service scope, so their H and S are smaller than the unit-level ones
            whenever the unit had internal transfers. Asking for `bufdir` at a wider scope is
            refused with an explanation: a transfer would change the unit's headcount without
            being a hire or a separation, and `C` would stop measuring churn.
            """
        ),
        md(
            """
            ## 4. Scope: unit, service, or the whole sector

            `scope` decides what counts as leaving. `"unit"`: any move out of the unit.
            `"service"` (default): leaving the municipality's child-welfare service; an internal
            transfer is not an exit. `"municipality"`: leaving the municipality's units.
            `"any"`: leaving every unit in the register (KS measures leaving the whole municipal
            sector this way).
            """
        ),
        code(
            """
            by_scope = pd.DataFrame(
                {
                    s: tr.turnover_rate(reg, scope=s, period=YEARS).set_index("period")["rate"]
                    for s in ["unit", "service", "municipality", "any"]
                }
            )
            by_scope.style.format("{:.1%}")
            """
        ),
        code(
            """
            reg.employment["exit_reason"].value_counts(dropna=False)
            """
        ),
        md(
            """
            In the sample the unit rate is higher than the service rate: the gap is the
            `internal_transfer` spells. Service, municipality and any-scope agree here because
            each simulated municipality runs exactly one service and nobody moves between
            municipalities or comes back. To see those effects, here is a register small enough
            to check on paper (typed in by hand; two municipalities, seven people, unit A1 is
            the one we measure):

            | person | what happens in 2021 | exit at unit | at service | at any |
            |---|---|---|---|---|
            | p1, p2 | stay in A1 | no | no | no |
            | p3 | internal transfer A1 -> A2 (same service) on 1 June | yes | no | no |
            | p4 | moves to municipality B on 1 September, no gap | yes | yes | no |
            | p5 | leaves A1 31 March, re-hired in A1 on 1 September | snapshot: no; flow: separation + hire | same | same |
            | p6 | leaves for good 30 June | yes | yes | yes |
            | p7 | new hire in A1 on 1 August | - | - | - |
            """
        ),
        code(
            """
            units = pd.DataFrame(
                {
                    "unit_id": ["A1", "A2", "B1"],
                    "municipality": ["Aby", "Aby", "Bby"],
                    "service": ["Barnevernet Aby", "Barnevernet Aby", "Barnevernet Bby"],
                }
            )
            employment = pd.DataFrame(
                [
                    ("p1", "A1", "2018-01-01", None, 1.0, None),
                    ("p2", "A1", "2018-01-01", None, 1.0, None),
                    ("p3", "A1", "2018-01-01", "2021-05-31", 1.0, "internal_transfer"),
                    ("p3", "A2", "2021-06-01", None, 1.0, None),
                    ("p4", "A1", "2018-01-01", "2021-08-31", 0.5, "voluntary"),
                    ("p4", "B1", "2021-09-01", None, 0.5, None),
                    ("p5", "A1", "2018-01-01", "2021-03-31", 1.0, "voluntary"),
                    ("p5", "A1", "2021-09-01", None, 1.0, None),
                    ("p6", "A1", "2018-01-01", "2021-06-30", 0.6, "voluntary"),
                    ("p7", "A1", "2021-08-01", None, 1.0, None),
                ],
                columns=["employee_id", "unit_id", "start_date", "end_date", "fte", "exit_reason"],
            ).astype({"start_date": "datetime64[ns]", "end_date": "datetime64[ns]"})
            toy = tr.Register(
                employment=employment,
                units=units,
                metadata={"observation_start": "2020-01-01", "observation_end": "2022-12-31"},
            )
            tr.validate(toy)
            """
        ),
        code(
            """
            toy_runs = pd.concat(
                [
                    tr.turnover_rate(
                        toy,
                        definition=key,
                        scope=scope,
                        by="unit_id",
                        period="2020" if key == "exit_share" else "2021",
                    ).assign(scope=scope)
                    for scope in ["unit", "service", "any"]
                    for key in ["exit_share", "separation", "hire"]
                ]
            )
            toy_bufdir = tr.turnover_rate(toy, definition="bufdir", by="unit_id", period="2021")
            print(
                "bufdir (always per unit), A1:",
                toy_bufdir.query("unit_id == 'A1'")[
                    ["hires", "separations", "headcount_start", "headcount_end", "numerator"]
                ].to_dict("records")[0],
            )
            toy_runs.query("unit_id == 'A1'").pivot(index="definition", columns="scope", values="numerator")[
                ["unit", "service", "any"]
            ]
            """
        ),
        md(
            """
            Numerators for unit A1 (exit share: 1 Dec 2020 -> 1 Dec 2021 over 6 persons;
            flows: calendar 2021 over an average headcount of (6 + 4) / 2 = 5):

            * **exit_share** 3 -> 2 -> 1: p3, p4 and p6 are gone from A1; p3 is still in the
              service, p4 is still in the sector. p5 is present at both snapshots, so the
              re-hire is invisible to a snapshot measure at every scope.
            * **separation** 4 -> 3 -> 2: p5's re-hire counts as a separation *and* a hire at every
              scope - flows see everything that happens between snapshots.
            * **bufdir** counts at the unit: H = 2 (p5's return, p7), S = 4 (p3, p4, p5, p6),
              `C = 2 + 4 - |4 - 6| = 4 = 2 x min(H, S)`. Churn asks how much replacing a team
              went through, wherever the leavers went.

            Rows of A2 and B1 (one person each) come back suppressed: below.
            """
        ),
        code(
            """
            toy_runs.query("unit_id != 'A1'")[
                ["scope", "definition", "unit_id", "n_persons", "rate", "suppressed"]
            ].head(4)
            """
        ),
        md(
            """
            ## 5. Snapshot date, headcount vs FTE, excluded exit reasons

            KS counts persons on 1 December (`snapshot="12-01"`, the default); SSB counts jobs
            active in the third week of November (approximately `snapshot="11-15"`). A snapshot
            in summer sees a different staff (temporary summer cover, vacancies not yet filled).
            `weight="fte"` counts position shares instead of persons, so part-time leavers weigh
            less. KS counts leaving an ordinary post for retirement as turnover; it leaves people
            employed on pensioner terms out of the population altogether (drop their spells before
            computing). `exclude_reasons=("retirement",)` asks another question, turnover other
            than retirement: retirees stay in the headcount but not among the leavers.
            """
        ),
        code(
            """
            variants = {
                "1 Dec, headcount (KS)": {},
                "15 Nov (SSB-like)": {"snapshot": "11-15"},
                "1 Jun": {"snapshot": "06-01"},
                "1 Dec, FTE-weighted": {"weight": "fte"},
                "1 Dec, retirements excluded": {"exclude_reasons": ("retirement",)},
            }
            snapshot_table = pd.DataFrame(
                {
                    name: tr.turnover_rate(reg, definition="exit_share", period=YEARS, **kw).set_index(
                        "period"
                    )["rate"]
                    for name, kw in variants.items()
                }
            )
            snapshot_table.style.format("{:.1%}")
            """
        ),
        code(
            """
            fte = tr.turnover_rate(reg, period=YEARS, weight="fte")
            fte[["period", "snapshot", "numerator", "denominator", "rate", "headcount_start", "separations"]]
            """
        ),
        md(
            """
            With `weight="fte"` the numerator and denominator are sums of position shares (the
            FTE of the leavers over the FTE present at the snapshot), while `headcount_start`
            and `separations` still count persons. The columns of the table above differ by up
            to several percentage points in a year - as much as the year-to-year movement, which
            is why a definition must be stated with every published figure.
            """
        ),
        md(
            """
            ## 6. Rates from published aggregate counts

            Often only a published table exists: hires, separations and headcounts per unit or
            municipality. `tr.turnover_rate_from_counts` evaluates the same definitions per row
            and then sums to the requested groups (for `bufdir` with
            `C = H + S - |E_end - E_start|` per row). First a round trip: the unit-level counts
            the register gives for 2021 (`scope="unit"`), fed back as if they were published.
            Rows suppressed for small numbers carry no counts, so they cannot be used.
            """
        ),
        code(
            """
            from_register = tr.turnover_rate(reg, definition="bufdir", scope="unit", by="unit_id", period=YEAR)
            published = from_register.loc[
                ~from_register["suppressed"],
                ["unit_id", "period", "hires", "separations", "headcount_start", "headcount_end"],
            ]
            from_counts = tr.turnover_rate_from_counts(published, definition="bufdir", by="unit_id")
            comparison = from_register.merge(
                from_counts, on=["unit_id", "period"], suffixes=("_register", "_counts")
            )
            comparison[
                ["unit_id", "numerator_register", "numerator_counts", "rate_register", "rate_counts"]
            ].head(8)
            """
        ),
        code(
            """
            print(
                "units compared:",
                len(comparison),
                "| identical rates:",
                bool((comparison["rate_register"] - comparison["rate_counts"]).abs().max() < 1e-12),
            )
            """
        ),
        md(
            """
            Counts must be published **per unit** for this to work: churn is computed per unit
            and then summed, never netted at a higher level. If a table only gives totals per
            municipality, hires into one unit cancel separations from another and the churn
            comes out lower. The same call on a municipality-level table (the illustrative
            numbers below are typed in, not a real publication) shows what such a table can
            still give - an exit share with its interval:
            """
        ),
        code(
            """
            illustrative = pd.DataFrame(
                {
                    "municipality": ["Municipality A", "Municipality B"],
                    "period": ["2021", "2021"],
                    "headcount_start": [412, 57],
                    "separations": [49, 11],
                }
            )
            tr.turnover_rate_from_counts(
                illustrative, definition="exit_share", by="municipality", margins=True
            )[["municipality", "period", "numerator", "denominator", "rate", "ci_low", "ci_high"]]
            """
        ),
        md(
            """
            ## 7. Sick-leave percentage (SSB/NAV definition)

            `sick leave % = lost person-days x 100 / agreed person-days`, where

            * lost person-days = absence **working days** x position share (fte) x sick-leave
              grade; self-certified absence always counts with grade 1;
            * agreed person-days = working days in employment x fte;
            * working days are Monday-Friday minus Norwegian public holidays; vacation is not
              subtracted (as SSB and NAV since Q4 2018).

            `certification="split"` returns the total and its self- and doctor-certified parts;
            the denominator is the same for all three, so the parts add up to the total.
            """
        ),
        code(
            """
            sick = tr.sick_leave_rate(reg, period="year", certification="split")
            sick_pct = sick.pivot(index="period", columns="certification", values="percent")[
                ["self", "doctor", "all"]
            ]
            sick_pct["self + doctor"] = sick_pct["self"] + sick_pct["doctor"]
            sick_pct.round(3)
            """
        ),
        code(
            """
            ax = sick_pct[["self", "doctor"]].plot.bar(stacked=True, figsize=(7, 3.2), rot=0)
            ax.set(ylabel="sick-leave %", title="Sick-leave percentage: self- and doctor-certified parts")
            plt.show()
            """
        ),
        md("The arithmetic for the same unit and year as in section 3:"),
        code(
            """
            unit_sick = tr.sick_leave_rate(reg, by="unit_id", period=YEAR, certification="split").query(
                "unit_id == @UNIT"
            )
            for r in unit_sick.itertuples():
                print(
                    f"{r.certification:>6}: {r.numerator:8.2f} lost person-days x 100 / {r.denominator:8.2f} "
                    f"agreed person-days = {100 * r.numerator / r.denominator:5.2f} %   (library: {r.percent:5.2f} %)"
                )
            """
        ),
        md(
            """
            ### The 16-day cut

            Norway's employer period is 16 days: longer spells are paid by NAV, which makes 16
            calendar days the natural line between short and long spells. `long_spell_share` is
            the share of lost days that fall in spells longer than `long_spell_days` (default
            16). Self-certified spells are short by rule, so their long share is zero; nearly all
            doctor-certified days come from long spells. Moving the cut shows how sensitive that
            split is.
            """
        ),
        code(
            """
            cuts = pd.DataFrame(
                {
                    f"> {d} days": tr.sick_leave_rate(
                        reg, period="year", certification="split", long_spell_days=d
                    ).pivot(index="period", columns="certification", values="long_spell_share")["all"]
                    for d in [8, 16, 56]
                }
            )
            cuts.style.format("{:.0%}")
            """
        ),
        md(
            """
            ## 8. Intervals and suppression

            Every row has `ci_low`/`ci_high` (95 % by default, `confidence=` to change):

            | quantity | interval |
            |---|---|
            | `exit_share` | Wilson score interval for a binomial share, n = headcount at the snapshot |
            | `separation`, `hire`, `bufdir` | exact Poisson (Garwood) interval on the event count, scaled to the rate |
            | sick-leave % | delta method for a ratio estimator with persons as clusters |

            The intervals describe the variation a process with this rate would produce in a
            unit of this size; they are not a margin of error for a survey sample. For a unit of
            ten people they are very wide - a unit's one bad year is mostly noise.
            """
        ),
        code(
            """
            units_2021 = tr.turnover_rate(reg, by="unit_id", period=YEAR).sort_values("rate")
            shown = units_2021[~units_2021["suppressed"]]
            overall = tr.turnover_rate(reg, period=YEAR)["rate"].iloc[0]

            fig, ax = plt.subplots(figsize=(8, 3.5))
            ax.errorbar(
                shown["unit_id"],
                shown["rate"],
                yerr=[(shown["rate"] - shown["ci_low"]).clip(lower=0), shown["ci_high"] - shown["rate"]],
                fmt="o",
                ms=4,
                capsize=2,
            )
            ax.axhline(overall, color="grey", ls="--", label=f"all units: {overall:.1%}")
            ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
            ax.set(title=f"Exit share {YEAR} by unit with 95 % Wilson intervals", ylabel="exit share")
            ax.tick_params(axis="x", labelrotation=90, labelsize=7)
            ax.legend()
            plt.show()
            print(
                f"{int(units_2021['suppressed'].sum())} of {len(units_2021)} units suppressed (fewer than 5 persons)"
            )
            """
        ),
        code(
            """
            pd.DataFrame(
                {
                    f"{c:.0%}": tr.turnover_rate(reg, by="unit_id", period=YEAR, confidence=c)
                    .set_index("unit_id")
                    .loc[UNIT, ["rate", "ci_low", "ci_high"]]
                    for c in [0.80, 0.95, 0.99]
                }
            ).T
            """
        ),
        md(
            """
            **Suppression.** Every aggregate that leaves the library hides rows with fewer than
            `min_group_size` persons (default 5, never below 3): the values become empty and
            `suppressed` is `True`. With `margins=True` the totals are added and *complementary*
            suppression hides a second cell wherever a hidden cell could be recovered by
            subtracting the shown ones from the total. Below: exit share by service and role
            for 2021. Where a service has fewer than five team leaders, their row is hidden - and
            so is the caseworker row, because `All - caseworker` would reveal it.
            """
        ),
        code(
            """
            by_role = tr.turnover_rate(reg, by=["service", "role"], period=YEAR, margins=True)
            by_role[["service", "role", "numerator", "denominator", "rate", "n_persons", "suppressed"]].head(12)
            """
        ),
        md(
            """
            ## Time to exit: retention by hire cohort

            Rates count leavers per period; research on the workforce often asks about *time*:
            how many of those hired are still in post after one, two and three years, and what
            the median tenure is. `tr.retention` gives the Kaplan-Meier share still in the
            service after `t` months of tenure (one month = 365.25 / 12 days). The extract holds
            staff hired long before recording began: they enter the risk set at their tenure on
            the first day of the window (*delayed entry*), so the survivors of earlier years do
            not inflate the curve. Intervals are log-log; rows with fewer than five stays at risk
            are suppressed. Definitions: `docs/survival.md`.
            """
        ),
        code(
            """
            ret = tr.retention(reg, cohort="newly_qualified", times=(6, 12, 24, 36))
            ret.table
            """
        ),
        code(
            """
            ret.median[["newly_qualified", "n_stays", "exits", "median_months", "median_ci_low", "median_ci_high"]]
            """
        ),
        code(
            """
            ax = ret.plot()
            ax.set_title("Still in the service, by newly qualified at hire (log-log 95 % bands)")
            plt.show()
            """
        ),
        md(
            """
            **Hire years.** `cohort="year"` splits by the year the stay began; only the cohorts
            hired inside the window are followed from their first day, so compare those.
            """
        ),
        code(
            """
            by_year = tr.retention(reg, cohort="year", times=(12, 24))
            by_year.table[by_year.table["hire_year"] >= 2019].pivot(
                index="hire_year", columns="time_months", values="retention"
            ).round(3)
            """
        ),
        md(
            """
            **Competing exits.** A person who moves to another service cannot also resign from
            this one. `tr.cumulative_incidence` gives the Aalen-Johansen probability of having
            left for each reason by tenure `t`; the reasons add up to `1 - retention`. At
            service scope a move between units of the same service is not an exit, so
            `internal_transfer` counts only moves out of the service.
            """
        ),
        code(
            """
            cif = tr.cumulative_incidence(reg, times=(12, 24, 36))
            cif.table.pivot(index="cause", columns="time_months", values="cumulative_incidence").round(3)
            """
        ),
        code(
            """
            ax = cif.plot()
            ax.set_ylim(0, 0.6)
            ax.set_title("Cumulative incidence of leaving the service, by reason")
            plt.show()
            """
        ),
        md(
            """
            ## What this notebook shows, and what it does not

            * It shows that the library's figures follow their stated definitions exactly, and
              how much each definitional choice moves a turnover figure on one register.
            * It does **not** say which definition is right: they answer different questions
              (people lost to the sector, to the service, or disruption inside a team).
            * The data are synthetic, so none of the levels describe real services; the KS and
              SSB reference levels in `docs/sources.md` come from their own registers and definitions.
            * Rates describe what happened; they do not explain why. For risk factors and levers
              see `01_quickstart.ipynb`, and read its caveats too.
            """
        ),
    ]


# ----------------------------------------------------------------------------------------------
# 01: quickstart (analysts)
# ----------------------------------------------------------------------------------------------


def notebook_01() -> list[nbformat.NotebookNode]:
    return [
        md(
            """
            # Quickstart: turnover risk by unit, for analysts

            The question behind `turnover_risk`: **which staff groups are at elevated risk of
            leaving, and which levers a leader holds** - caseload, supervision, support for the
            newly qualified, keeping good colleagues - go together with that risk. The library
            answers at group level (unit, municipality); individual scores stay inside the
            pipeline, and every table that leaves it hides groups under 5 persons.

            The steps: load and validate a register, turnover and sick-leave rates by unit and
            year, the person-month panel, two models trained and evaluated honestly (split by
            time), explanations, units flagged on a funnel plot, two what-if questions, and the
            HTML report for a leader.

            **Two caveats that hold for every output below.** The data are the shipped
            **synthetic** sample (40 units, 2019-2024), made by a simulator with known causes, so
            nothing here describes a real service. And a risk model finds **associations**: a
            feature that goes with leaving is not shown to cause it, and a what-if is the
            model's answer, not the effect of an intervention.
            """
        ),
        code(
            """
            import tempfile
            import warnings
            from pathlib import Path

            import matplotlib.pyplot as plt
            import pandas as pd

            import turnover_risk as tr

            # shap (used for explanations) imports tqdm's notebook progress bar, which asks for
            # ipywidgets; nothing here shows progress bars, so that notice is only noise
            warnings.filterwarnings("ignore", message="IProgress not found")
            pd.set_option("display.precision", 3)
            pd.set_option("display.width", 120)
            pd.set_option("display.max_columns", 20)
            out = Path(tempfile.mkdtemp(prefix="turnover_risk_quickstart_"))  # files we write go here
            print("turnover_risk", tr.__version__)
            """
        ),
        md(
            """
            ## 1. Load and validate

            A register is a set of long, effective-dated tables (employment spells, units,
            sick-leave spells, monthly caseload, supervision sessions, survey answers). With your
            own data use `tr.read_register("folder")`, which validates while reading; here we
            load the sample and validate it explicitly. A problem would be one row in
            `report.problems` (table, row, column, value, rule, message) - nothing is dropped
            silently.
            """
        ),
        code(
            """
            reg = tr.load_sample()
            report = tr.validate(reg)
            print(reg)
            print(report)
            report.counts
            """
        ),
        md(
            """
            ## 2. Turnover and sick leave by unit and year

            `tr.turnover_rate` defaults to the KS-style **exit share**: persons in a unit on
            1 December who are no longer in the service a year later (moving to another unit of
            the same service is not leaving). Notebook `02_reproduce_turnover_statistics` shows
            every other definition and why the figures differ. `tr.sick_leave_rate` is the
            SSB/NAV sick-leave percentage. Both return one tidy row per group and period with an
            interval and a `suppressed` flag.
            """
        ),
        code(
            """
            turnover = tr.turnover_rate(reg, by="unit_id", period="year")
            sick = tr.sick_leave_rate(reg, by="unit_id", period="year")
            turnover[
                ["unit_id", "period", "numerator", "denominator", "rate", "ci_low", "ci_high", "suppressed"]
            ].head()
            """
        ),
        code(
            """
            fig, axes = plt.subplots(1, 2, figsize=(10, 7), sharey=True)
            for ax, table, value, title in [
                (axes[0], turnover, "rate", "Exit share (1 Dec to 1 Dec)"),
                (axes[1], sick, "percent", "Sick-leave %"),
            ]:
                grid = table.pivot(index="unit_id", columns="period", values=value)
                im = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="viridis")
                ax.set_xticks(range(grid.shape[1]), grid.columns)
                ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=6)
                ax.set_title(title)
                fig.colorbar(im, ax=ax, shrink=0.6)
            fig.suptitle("By unit and year (blank: suppressed, fewer than 5 persons)")
            plt.show()
            """
        ),
        code(
            """
            by_municipality = tr.turnover_rate(reg, by="municipality", period="year")
            ax = by_municipality.pivot(index="period", columns="municipality", values="rate").plot(
                marker="o", figsize=(8, 3.5)
            )
            ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
            ax.set(ylabel="exit share", title="Exit share by municipality")
            ax.legend(fontsize=7, ncol=2, loc="upper right")
            plt.show()
            """
        ),
        md(
            """
            A unit of eight people that loses three has an exit share of 38 %; losing one is
            13 %. Year-to-year swings of that size in small units are mostly chance - look at
            `ci_low`/`ci_high` before reading a pattern into one cell, and prefer the funnel plot
            in section 6 for comparing units.
            """
        ),
        md(
            """
            ## 3. The person-month panel

            `tr.build_panel` turns the register into one row per person and month with
            **point-in-time** features (only what was known at the start of the month: tenure,
            caseload, supervision, survey scores, sick leave, what happened to colleagues and to
            the unit) and a label: did the person leave the service voluntarily within the next
            12 months? Rows whose outcome is not yet known are `NaN`, not 0. The column roles
            travel with the panel (`tr.panel_spec(panel)`), and `tr.FEATURES` documents every
            feature and whether a leader can move it (`lever`).
            """
        ),
        code(
            """
            panel = tr.build_panel(reg, freq="M", horizon=12, outcome="voluntary")
            spec = tr.panel_spec(panel)
            print(
                f"{len(panel)} person-months, {panel['employee_id'].nunique()} persons, "
                f"{len(spec.feature_cols)} features; label missing (outcome not yet known) in "
                f"{panel[spec.label_col].isna().mean():.0%} of the rows"
            )
            panel[
                [
                    "employee_id",
                    "unit_id",
                    "period",
                    "left_within_horizon",
                    "tenure_service_months",
                    "caseload_3m_mean",
                    "supervision_sessions_3m",
                    "cbi_work",
                ]
            ].tail(3)
            """
        ),
        code(
            """
            tr.FEATURES.to_frame().query("lever")[["name", "unit", "description"]]
            """
        ),
        md(
            """
            ## 4. Train and evaluate both model kinds

            `kind="logistic"` is a regularised logistic regression, `kind="gbm"` gradient-boosted
            trees. `tr.evaluate` refits a copy per fold on **earlier** periods and tests on
            **later** ones, with a 12-month gap so no training label overlaps the test period,
            and keeps each person on one side. It compares each model with two baselines: the
            overall base rate, and the unit's own recent exit share. ROC-AUC and PR-AUC say how
            well the model ranks people; Brier score and the calibration slope (1 is ideal) say
            whether the predicted probabilities can be taken at face value.
            """
        ),
        code(
            """
            models = {kind: tr.TurnoverRiskModel(kind=kind, random_state=0) for kind in ["logistic", "gbm"]}
            evaluations = {kind: tr.evaluate(model, panel) for kind, model in models.items()}
            metrics = ["model", "roc_auc", "pr_auc", "brier", "calibration_slope", "precision_top10"]
            pd.concat(
                {kind: ev.table.query("fold == 'pooled'")[metrics] for kind, ev in evaluations.items()},
                names=["kind"],
            ).droplevel(1)
            """
        ),
        code(
            """
            fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
            for ax, (kind, ev) in zip(axes, evaluations.items(), strict=True):
                ev.plot_calibration(ax=ax)
                ax.set_title(f"{kind}: calibration (out-of-fold)")
            plt.show()
            """
        ),
        md(
            """
            The warnings name the columns each fit left out and why: `rehired` never changes in
            the sample, and the ProQOL scores come from one municipality only, so they would
            stand for that municipality rather than for burnout (`min_feature_groups`, see
            `docs/models.md`).

            Read the pooled rows against the baselines: a model is only worth using where it
            beats the unit's own exit share. A calibration slope well below 1 means the predicted
            risks are more spread out than the outcomes (over-fitting, or later staff differing
            from earlier staff): use such predictions to rank units, not as probabilities, or
            refit with `calibrate="sigmoid"` and evaluate again. A slope above 1 means they are
            too cautious, as in the early folds here, which train on 9-16 months only; look at
            the per-fold rows of `ev.table` (the later folds are the ones that resemble using
            the model next year). On public attrition data a well-regularised
            logistic regression is often as good as boosting; we continue with the logistic
            model because its explanations are exact and easy to show. These are out-of-fold
            numbers on one synthetic register - they do not promise the same accuracy on yours.
            """
        ),
        code(
            """
            logistic = models["logistic"].fit(panel)
            gbm = models["gbm"].fit(panel)
            current = panel[panel["period"] == panel["period"].max()]  # staff in the latest month
            print(
                f"latest month {current['period'].iloc[0]:%B %Y}: {len(current)} persons; "
                f"mean predicted 12-month risk {logistic.predict_proba(current)[:, 1].mean():.1%} (logistic), "
                f"{gbm.predict_proba(current)[:, 1].mean():.1%} (gbm)"
            )
            """
        ),
        md(
            """
            ## 5. Explanations

            `model.explain(rows)` splits each row's predicted log-odds into one contribution per
            feature (SHAP values; exact for the logistic model, TreeSHAP for boosting). Averaged
            over people they show what the model leans on overall; averaged within a group and
            compared with everyone, what sets that group apart (`tr.group_drivers`).
            """
        ),
        code(
            """
            explanation = logistic.explain(current)
            fig, axes = plt.subplots(1, 2, figsize=(12, 5))
            explanation.plot_summary(ax=axes[0], max_display=12)
            axes[0].set_title("logistic")
            gbm.explain(current).plot_summary(ax=axes[1], max_display=12)
            axes[1].set_title("gbm")
            fig.tight_layout()
            plt.show()
            explanation.importance().head(10).to_frame()
            """
        ),
        md(
            """
            **What this does not say.** A large contribution means the model *uses* the feature,
            not that the feature *causes* leaving: burnout scores, for example, may stand in for
            workload, and a feature can be important because of who gets it (new staff get more
            supervision *and* leave more often). Correlated features - the three CBI burnout
            scales measure overlapping things - can split their weight between them, even with
            opposite signs, so read them together; and two models can lean on different but
            correlated features and predict equally well.

            One group's drivers: the features that push unit U01's predicted risk above (or
            below) the risk of all current staff, in log-odds, with a standard error.
            """
        ),
        code(
            """
            drivers = tr.group_drivers(logistic, current, "unit_id", random_state=0)
            drivers.query("unit_id == 'U01'").head(8)
            """
        ),
        md(
            """
            ## 6. Flag units with a funnel plot

            `tr.flag_groups` compares each unit with all units, allowing for its size:

            * **prospective** (default): the predicted exit share of the unit's current staff
              over the next 12 months against the mean of all units; a unit is `elevated` only
              when its predicted share is credibly more than `margin` (1.25 x) the reference,
              given the model's own uncertainty (bootstrap refits) and a false-discovery-rate
              correction across units;
            * **retrospective**: in the latest month whose outcomes are known, observed leavers
              against the leavers the model expected (O/E) - the classic funnel plot with 95 %
              and 99.8 % limits (Spiegelhalter 2005), over-dispersion tested.

            Units under 5 persons are suppressed everywhere, drivers included.
            """
        ),
        code(
            """
            flags = tr.flag_groups(logistic, panel, by="unit_id", random_state=0)
            retro = tr.flag_groups(logistic, panel, by="unit_id", mode="retrospective", random_state=0)
            print(flags)
            print(retro)
            fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
            flags.plot_funnel(ax=axes[0])
            axes[0].set_title("Prospective: predicted exit share, next 12 months")
            retro.plot_funnel(ax=axes[1])
            axes[1].set_title(f"Retrospective: observed / expected, from {retro.period:%b %Y}")
            fig.tight_layout()
            plt.show()
            """
        ),
        code(
            """
            flags.table.sort_values("exit_share", ascending=False)[
                [
                    "unit_id",
                    "n_persons",
                    "exit_share",
                    "ratio",
                    "ratio_ci_low",
                    "ratio_ci_high",
                    "q_value",
                    "flag",
                ]
            ].head(8)
            """
        ),
        code(
            """
            flags.drivers[["unit_id", "rank", "label", "difference", "text"]]
            """
        ),
        md(
            """
            A flag is a reason to **talk with the unit**, not a verdict: the drivers describe the
            unit's staff as the model sees them (caseload, tenure, survey scores...), and a unit
            can be flagged because it recently hired many new people. The retrospective view
            checks whether the model's expectations held up in the past; a unit far outside the
            99.8 % limits there has something the model does not see.
            """
        ),
        md(
            """
            ## 7. What if...?

            `tr.what_if` changes features for the current staff and re-predicts, per unit. Two
            questions leaders ask:

            1. **Weekly supervision for new staff**: everyone in their first six months in the
               service gets weekly supervision (`new_staff_weekly_supervision` = 1, at least 13
               sessions a quarter).
            2. **Caseload cap**: nobody carries more than 15 open cases (the union's ask).
            """
        ),
        code(
            """
            supervision = tr.what_if(
                logistic,
                panel,
                by="unit_id",
                change={
                    "new_staff_weekly_supervision": ("set", 1),
                    "supervision_sessions_3m": ("at_least", 13),
                },
                where=lambda rows: rows["tenure_service_months"] < 6,
            )
            caseload = tr.what_if(
                logistic,
                panel,
                by="unit_id",
                change={"caseload_3m_mean": ("at_most", 15), "caseload_last": ("at_most", 15)},
            )
            pd.DataFrame(
                {"new staff supervised weekly": supervision.overall, "caseload at most 15": caseload.overall}
            ).T
            """
        ),
        code(
            """
            fig, axes = plt.subplots(1, 2, figsize=(12, 7))
            supervision.plot(ax=axes[0])
            axes[0].set_title("Weekly supervision for new staff")
            caseload.plot(ax=axes[1])
            axes[1].set_title("Caseload at most 15")
            fig.tight_layout()
            plt.show()
            print(caseload.note)
            """
        ),
        md(
            """
            Only units with new staff can move in the first scenario, and only units with high
            caseloads in the second. Whatever the size and sign of the change, it is the model's
            **association** with everything else held fixed - not the effect of the policy.
            People who get more supervision may differ in ways the model does not see, and a
            real change would move other things too (a caseload cap needs more staff). Use
            what-ifs to choose what to try and to measure, not to promise results.
            """
        ),
        md(
            """
            ## 8. The report for a leader

            `tr.write_report` writes one self-contained HTML file (Norwegian by default,
            `lang="en"` for English) with the rates, the model validation, the funnel plots and
            flagged units with their drivers, the what-if panel and a plain-language section on
            what the numbers can and cannot say. Passing the panel, evaluation and flags computed
            above avoids recomputing them.
            """
        ),
        code(
            """
            html = tr.write_report(
                reg,
                logistic,
                out / "report.html",
                panel=panel,
                evaluation=evaluations["logistic"],
                flags=flags,
                lang="en",
            )
            print(
                f"{html.name}: {html.stat().st_size / 1e3:.0f} kB, self-contained HTML (open it in a browser)"
            )
            """
        ),
        md(
            """
            ## Next

            * `02_reproduce_turnover_statistics.ipynb` - every turnover definition, step by step.
            * `03_batch_scoring.ipynb` - train once, save, load with an integrity check, score
              large registers in batch.
            * The same pipeline from the shell: `turnover-risk demo --out demo-output`.
            """
        ),
    ]


# ----------------------------------------------------------------------------------------------
# 03: batch scoring (data teams)
# ----------------------------------------------------------------------------------------------


def notebook_03() -> list[nbformat.NotebookNode]:
    return [
        md(
            """
            # Batch scoring: train once, score many

            For a municipal data team running a monthly batch. The model is trained once,
            saved with a manifest, loaded with an integrity check, and then used to score
            registers far larger than the training data - streaming on one machine with
            constant memory, or on a Dask cluster. The output is **group level** by default
            (persons, expected leavers and mean risk per unit and month, small groups
            suppressed); row-level risks are written only when asked for.

            Everything runs in a temporary folder. The registers are **synthetic**
            (`tr.load_sample()` for training, `tr.make_register(...)` for the large one); the
            risks describe associations the model found, not causes.
            """
        ),
        code(
            """
            import tempfile
            from pathlib import Path

            import matplotlib.pyplot as plt
            import pandas as pd

            import turnover_risk as tr

            pd.set_option("display.precision", 3)
            pd.set_option("display.width", 120)
            work = Path(tempfile.mkdtemp(prefix="turnover_risk_batch_"))
            print("turnover_risk", tr.__version__)
            """
        ),
        md(
            """
            ## 1. Train once, evaluate, save

            `tr.evaluate` records its pooled metrics on the model, so `model.save` writes them
            into the manifest next to the library and scikit-learn versions, the feature names
            and dtypes, the training periods, the horizon and the outcome.
            """
        ),
        code(
            """
            train_reg = tr.load_sample()
            panel = tr.build_panel(train_reg, freq="M", horizon=12, outcome="voluntary")
            model = tr.TurnoverRiskModel(kind="logistic", random_state=0)
            evaluation = tr.evaluate(model, panel)
            model.fit(panel)
            model_path = model.save(work / "model" / "model.skops")
            sorted(p.name for p in model_path.parent.iterdir())
            """
        ),
        code(
            """
            loaded = tr.load_model(model_path)  # the manifest is inside the file
            manifest = loaded.manifest()
            print(
                "pooled out-of-fold ROC-AUC recorded in the manifest:",
                round(manifest["evaluation"]["model"]["roc_auc"], 3),
            )
            {
                key: manifest[key]
                for key in [
                    "library_version",
                    "sklearn_version",
                    "kind",
                    "horizon",
                    "outcome",
                    "freq",
                    "scope",
                    "training_periods",
                    "n_train_rows",
                ]
            }
            """
        ),
        md(
            """
            The model file holds the fitted pipeline only: category levels, medians, scaling
            moments and coefficients - no employee identifiers and no training rows.

            ## 2. Load without running code

            The file is a `skops.io` archive, not a pickle: `tr.load_model` rebuilds the model
            from an explicit list of allowed types, so a file that names anything else is refused
            and nothing in it runs. It then checks the manifest against the model (kind,
            features, horizon) and warns when the file was written by another library,
            scikit-learn or numpy version. A pickle - the format of turnover_risk 0.1.0, and of
            anything that wants to run code on this machine - is refused with the reason:
            """
        ),
        code(
            """
            latest = panel[panel["period"] == panel["period"].max()]
            print(
                "same predictions as the trained model:",
                bool((loaded.predict_proba(latest) == model.predict_proba(latest)).all()),
            )

            stranger = work / "model_from_elsewhere.skops"
            latest.head(3).to_pickle(stranger)  # a pickle under a model's name
            try:
                tr.load_model(stranger)
            except ValueError as err:
                print("refused:", err)
            """
        ),
        md(
            """
            The manifest check catches a file mixed up or edited by mistake. Whoever can write
            the file can also rewrite its manifest consistently, so for provenance set a secret
            key in `TURNOVER_RISK_KEY`: `model.save` then signs the file (HMAC-SHA256) and
            `tr.load_model` refuses any file whose signature does not match the key
            (`docs/operations.md`).

            ## 3. A large register

            The simulator makes a register of any size; 300 units over three years (about 4 000
            employment spells and 80 000 person-months) keeps this notebook quick, and the same
            calls serve a national register of about 500 000 employees. It is written to a
            folder of Parquet files, the way an HR extract would arrive.
            """
        ),
        code(
            """
            big = tr.make_register(n_units=300, years=3, start_year=2022, random_state=1)
            tr.write_register(big, work / "register", format="parquet")
            print(big)
            sorted(p.name for p in (work / "register").iterdir())
            """
        ),
        md(
            """
            ## 4. Streaming on one machine

            `tr.score_dataset(model, source, out)` reads and validates the register folder, builds
            the panel one partition of employees at a time with the model's own horizon, outcome
            and scope, scores each batch and adds it to the group totals. Memory grows with
            `batch_rows`, not with the register. The result counts every row
            (`rows_read == rows_scored + rows_rejected`) and names the first rejected ones.
            """
        ),
        code(
            """
            streamed = tr.score_dataset(
                loaded, work / "register", work / "risk_by_unit.parquet", batch_rows=50_000, progress=False
            )
            print(streamed)
            print("batches:", streamed.info.get("batches"), "| scorer:", streamed.info.get("scorer"))
            """
        ),
        md(
            """
            A panel that was already built and stored as Parquet (for example by a nightly
            feature job) is read in record batches instead; the group table is the same.
            """
        ),
        code(
            """
            tr.build_panel(big).to_parquet(work / "panel.parquet", row_group_size=20_000)
            from_panel = tr.score_dataset(
                loaded,
                work / "panel.parquet",
                work / "risk_from_panel.parquet",
                batch_rows=20_000,
                progress=False,
            )
            print(from_panel)
            """
        ),
        md(
            """
            ## 5. The same on a Dask cluster

            With `engine="dask"` the partitions of employees are built and scored on the
            workers; the shared state (period grid, unit-level features) is computed once and
            sent to each worker once, and the group sums are combined on the cluster. Here a
            small local cluster (two worker processes, one thread each); for a real cluster pass
            its address, e.g. `scheduler="tcp://10.0.0.5:8786"`.
            """
        ),
        code(
            """
            from dask.distributed import Client, LocalCluster

            with (
                LocalCluster(
                    n_workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                on_dask = tr.score_dataset(
                    loaded,
                    work / "register",
                    work / "risk_by_unit_dask.parquet",
                    engine="dask",
                    scheduler=client,
                    batch_rows=50_000,
                    progress=False,
                )
            print(on_dask)
            both = streamed.table.merge(on_dask.table, on=["unit_id", "period"], suffixes=("_stream", "_dask"))
            print(
                f"{len(both)} unit-months in both outputs; largest difference in expected leavers: "
                f"{(both['expected_leavers_stream'] - both['expected_leavers_dask']).abs().max():.1e}"
            )
            """
        ),
        md(
            """
            On two cores a cluster is slower than streaming - starting workers and shipping
            state cost more than they save. It pays off when the data or the work no longer
            fit one machine.

            ## 6. Reading the group-level output

            One row per unit and month: `n_persons`, `expected_leavers` (the sum of the
            persons' predicted risks of leaving within 12 months) and `mean_risk`. Units under
            5 persons in a month are suppressed (values blank, `suppressed` true).
            """
        ),
        code(
            """
            risk = pd.read_parquet(work / "risk_by_unit.parquet")
            print(
                f"{len(risk)} rows, {risk['unit_id'].nunique()} units, "
                f"{risk['period'].min():%Y-%m} to {risk['period'].max():%Y-%m}; "
                f"{risk['suppressed'].mean():.1%} of the rows suppressed"
            )
            newest = risk[(risk["period"] == risk["period"].max()) & ~risk["suppressed"]]
            newest.sort_values("mean_risk", ascending=False).head(8)
            """
        ),
        code(
            """
            fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
            newest["mean_risk"].plot.hist(bins=30, ax=axes[0])
            axes[0].set(
                xlabel="mean predicted 12-month risk",
                ylabel="units",
                title=f"Units in {newest['period'].iloc[0]:%B %Y}",
            )
            axes[1].scatter(newest["n_persons"], newest["mean_risk"], s=10)
            axes[1].set(
                xlabel="persons in the unit", ylabel="mean predicted risk", title="Small units scatter more"
            )
            plt.show()
            """
        ),
        md(
            """
            What to do with it: a unit's mean risk is a screening number. Before acting on a
            high one, compare the unit with the others allowing for its size and the model's
            uncertainty - `tr.flag_groups` with the funnel plot, as in `01_quickstart.ipynb`.
            The model was trained on one (synthetic) register and scores staff of another: check
            its calibration on your own outcomes (`tr.evaluate`) before trusting the levels.
            Row-level risks (`row_level=True`) are personal data; keep them inside the
            organisation.
            """
        ),
    ]


NOTEBOOK_BUILDERS = {
    "01_quickstart.ipynb": notebook_01,
    "02_reproduce_turnover_statistics.ipynb": notebook_02,
    "03_batch_scoring.ipynb": notebook_03,
}


def build(name: str) -> Path:
    """Write one notebook (without outputs) and return its path."""
    nb = new_notebook(cells=NOTEBOOK_BUILDERS[name]())
    for i, cell in enumerate(nb.cells):  # stable ids keep diffs small between rebuilds
        cell.id = f"{name[:2]}-{i:03d}"
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python"}
    path = NOTEBOOKS / name
    NOTEBOOKS.mkdir(exist_ok=True)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


def main(argv: list[str]) -> int:
    names = [Path(a).name for a in argv] or list(NOTEBOOK_BUILDERS)
    unknown = [n for n in names if n not in NOTEBOOK_BUILDERS]
    if unknown:
        print(
            f"unknown notebooks {unknown}; choose from {list(NOTEBOOK_BUILDERS)}", file=sys.stderr
        )
        return 2
    for name in names:
        print(f"wrote {build(name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
