"""Labels of the HTML report in Norwegian bokmål (``nb``) and English (``en``)."""

from __future__ import annotations

LANGS: tuple[str, ...] = ("nb", "en")

LABELS: dict[str, dict[str, str]] = {
    "nb": {
        "title": "Turnover og risiko for avgang",
        "generated": "Laget {date} med turnover_risk {version}",
        "toc": "Innhold",
        "data": "Data og validering",
        "data_intro": "Registeret som rapporten bygger på. Antall personer er telt, ingen "
        "enkeltpersoner vises.",
        "table": "tabell",
        "rows": "rader",
        "persons": "personer",
        "first_date": "første dato",
        "last_date": "siste dato",
        "validation_ok": "Valideringen fant ingen feil: alle {rows} rader følger datakontrakten.",
        "validation_bad": "Valideringen fant {n} problemer (telt per tabell og regel under). "
        "Kjør <code>turnover-risk validate</code> for full liste.",
        "rule": "regel",
        "problems": "problemer",
        "rates": "Turnover og sykefravær over tid",
        "rates_intro": "Turnover etter de viktigste definisjonene. Tallene er ikke like fordi "
        "definisjonene måler ulike ting: <b>exit_share</b> er andelen av de ansatte ved en "
        "telledato (1. desember) som ikke er i tjenesten ett år senere (KS); <b>bufdir</b> "
        "(gjennomtrekk) teller både avganger og tilganger; <b>separation</b> er avganger delt "
        "på gjennomsnittlig antall ansatte.",
        "definition": "definisjon",
        "period": "periode",
        "rate": "rate",
        "ci": "95 % KI",
        "turnover_plot": "Turnover per år etter definisjon (med 95 % konfidensintervall)",
        "sick_plot": "Sykefraværsprosent per kvartal (SSB/NAV-definisjon)",
        "sick_all": "totalt",
        "sick_self": "egenmeldt",
        "sick_doctor": "legemeldt",
        "model": "Modellen og hvor godt den treffer",
        "model_intro": "Modellen ({kind}) anslår for hver ansatt sannsynligheten for å slutte "
        "frivillig innen {horizon} måneder. Den er testet på senere perioder enn den ble "
        "trent på (tidsdelt kryssvalidering). Tabellen sammenligner med to enkle "
        "referanser: samme risiko for alle (base_rate) og enhetens egen avgang siste år.",
        "calibration_plot": "Kalibrering: anslått mot faktisk avgang (utenfor treningsdata)",
        "metric": "mål",
        "groups": "Grupper med forhøyet risiko",
        "groups_intro": "For {period}: hver enhets forventede avgang de neste {horizon} "
        "månedene, summen av de ansattes anslåtte risiko. En gruppe er <b>forhøyet</b> når "
        "anslaget er tydelig (med modellusikkerhet og korreksjon for mange sammenligninger) "
        "mer enn {margin} ganger referansen for alle ({reference}). Grupper med færre enn "
        "{min_size} personer vises ikke.",
        "funnel_plot": "Traktplott: anslått avgangsandel mot gruppestørrelse",
        "retro_plot": "Traktplott for {period}: observert/forventet avgang mot forventet "
        "antall (95 % og 99,8 % grenser)",
        "retro_intro": "Tilbakeblikk på {period}, der utfallet er kjent: observert mot "
        "forventet avgang gitt de ansattes kjennetegn. Overspredning: {od}.",
        "flagged_table": "Flaggede grupper",
        "all_groups_table": "Alle grupper",
        "no_flags": "Ingen grupper er flagget.",
        "flag_elevated": "forhøyet",
        "flag_low": "lav",
        "flag_as expected": "som forventet",
        "flag_suppressed": "skjult (for få)",
        "flag_not assessed": "ikke vurdert",
        "col_group": "gruppe",
        "col_n": "personer",
        "col_expected": "forventet avgang",
        "col_share": "anslått avgangsandel",
        "col_ratio": "forhold til alle",
        "col_ratio_ci": "95 % KI (modell)",
        "col_pi": "forventet antall som slutter (95 % PI)",
        "col_q": "q-verdi",
        "col_flag": "vurdering",
        "col_drivers": "viktigste forklaringer",
        "col_observed": "observert",
        "col_oe": "O/F",
        "whatif": "Hva om? Modellens svar for de viktigste spakene",
        "whatif_intro": "Hvordan den anslåtte avgangsandelen endres om en spak endres, alt "
        "annet likt. <b>Dette er modellens sammenheng, ikke bevist effekt.</b>",
        "scenario": "scenario",
        "changed": "ansatte berørt",
        "before": "før",
        "after": "etter",
        "difference": "endring (prosentpoeng)",
        "sc_caseload": "Saksmengde høyst 15",
        "sc_supervision_new": "To veiledningsøkter mer per kvartal for ansatte i sine første "
        "seks måneder",
        "sc_weekly": "Ukentlig veiledning for alle nyansatte",
        "sc_colleagues": "Ingen kolleger sluttet siste 3 måneder (ikke en spak – til "
        "sammenligning)",
        "whatif_plot": "Anslått avgangsandel før og etter: {scenario}",
        "no_levers": "Modellen bruker ingen av spakene saksmengde eller veiledning.",
        "limits": "Hva tallene kan og ikke kan si",
        "limits_body": """
<ul>
<li><b>Risiko er ikke skjebne.</b> En anslått avgangsandel på 30 % betyr at omtrent 3 av 10
med slike kjennetegn har sluttet før – ikke hvem som kommer til å slutte.</li>
<li><b>Sammenheng, ikke årsak.</b> Modellen ser at høy saksmengde og lite veiledning henger
sammen med avgang. Den kan ikke bevise at endring av spakene gir den effekten
«hva om»-tallene viser; ansatte og enheter kan skille seg fra hverandre på måter modellen ikke
ser.</li>
<li><b>Små grupper er usikre.</b> I en enhet med 8 ansatte er én avgang 12,5 prosentpoeng.
Intervallene viser usikkerheten; grupper under minstestørrelsen vises ikke av
personvernhensyn.</li>
<li><b>Flagget er et signal, ikke en dom.</b> Bruk det til å stille spørsmål og snakke med
enheten, og se forklaringene: de viser hva som skiller gruppen fra resten, i modellens
log-odds-skala.</li>
<li><b>Definisjoner betyr mye.</b> Turnover på 20 % og 35 % kan beskrive samme virkelighet med
ulike definisjoner; sammenlign bare tall med samme definisjon.</li>
<li><b>Modellen er ikke bedre enn dataene.</b> Manglende registreringer (veiledning,
saksmengde, spørreundersøkelser) svekker anslagene.</li>
</ul>""",
        "privacy": "Rapporten inneholder ingen ansatt-ID-er; alle tall gjelder grupper med "
        "minst {min_size} personer.",
    },
    "en": {
        "title": "Turnover and risk of leaving",
        "generated": "Generated {date} with turnover_risk {version}",
        "toc": "Contents",
        "data": "Data and validation",
        "data_intro": "The register this report is built on. Persons are counted; no individual "
        "is shown.",
        "table": "table",
        "rows": "rows",
        "persons": "persons",
        "first_date": "first date",
        "last_date": "last date",
        "validation_ok": "Validation found no problems: all {rows} rows follow the data contract.",
        "validation_bad": "Validation found {n} problems (counted by table and rule below). "
        "Run <code>turnover-risk validate</code> for the full list.",
        "rule": "rule",
        "problems": "problems",
        "rates": "Turnover and sick leave over time",
        "rates_intro": "Turnover under the main definitions. The figures differ because the "
        "definitions measure different things: <b>exit_share</b> is the share of staff at a "
        "snapshot (1 December) who are not in the service a year later (KS); <b>bufdir</b> "
        "(churn, 'gjennomtrekk') counts leavers and joiners; <b>separation</b> is leavers over "
        "average headcount.",
        "definition": "definition",
        "period": "period",
        "rate": "rate",
        "ci": "95 % CI",
        "turnover_plot": "Turnover per year by definition (with 95 % confidence interval)",
        "sick_plot": "Sick-leave percentage per quarter (SSB/NAV definition)",
        "sick_all": "all",
        "sick_self": "self-certified",
        "sick_doctor": "doctor-certified",
        "model": "The model and how well it predicts",
        "model_intro": "The model ({kind}) estimates for each employee the probability of "
        "leaving voluntarily within {horizon} months. It is tested on periods later than the "
        "ones it was trained on (temporal cross-validation). The table compares it with two "
        "simple references: the same risk for everyone (base_rate) and the unit's own exit "
        "share over the last year.",
        "calibration_plot": "Calibration: predicted against observed leaving (out of sample)",
        "metric": "metric",
        "groups": "Groups at elevated risk",
        "groups_intro": "For {period}: each unit's expected leavers over the next {horizon} "
        "months, the sum of its staff's predicted risks. A group is <b>elevated</b> when the "
        "estimate is credibly (allowing for model uncertainty and many comparisons) more than "
        "{margin} times the reference for everyone ({reference}). Groups with fewer than "
        "{min_size} persons are not shown.",
        "funnel_plot": "Funnel plot: predicted exit share against group size",
        "retro_plot": "Funnel plot for {period}: observed/expected leavers against expected "
        "count (95 % and 99.8 % limits)",
        "retro_intro": "Looking back at {period}, whose outcomes are known: observed against "
        "expected leavers given the staff's characteristics. Over-dispersion: {od}.",
        "flagged_table": "Flagged groups",
        "all_groups_table": "All groups",
        "no_flags": "No group is flagged.",
        "flag_elevated": "elevated",
        "flag_low": "low",
        "flag_as expected": "as expected",
        "flag_suppressed": "suppressed (too few)",
        "flag_not assessed": "not assessed",
        "col_group": "group",
        "col_n": "persons",
        "col_expected": "expected leavers",
        "col_share": "predicted exit share",
        "col_ratio": "ratio to all",
        "col_ratio_ci": "95 % CI (model)",
        "col_pi": "expected number leaving (95 % PI)",
        "col_q": "q-value",
        "col_flag": "assessment",
        "col_drivers": "main drivers",
        "col_observed": "observed",
        "col_oe": "O/E",
        "whatif": "What if? The model's answer for the main levers",
        "whatif_intro": "How the predicted exit share moves when a lever moves, everything "
        "else held fixed. <b>This is the model's association, not a proven effect.</b>",
        "scenario": "scenario",
        "changed": "staff affected",
        "before": "before",
        "after": "after",
        "difference": "change (percentage points)",
        "sc_caseload": "Caseload at most 15",
        "sc_supervision_new": "Two more supervision sessions per quarter for staff in their "
        "first six months",
        "sc_weekly": "Weekly supervision for all new staff",
        "sc_colleagues": "No colleague left in the last 3 months (not a lever – for comparison)",
        "whatif_plot": "Predicted exit share before and after: {scenario}",
        "no_levers": "The model uses none of the caseload or supervision levers.",
        "limits": "What the numbers can and cannot say",
        "limits_body": """
<ul>
<li><b>Risk is not fate.</b> A predicted exit share of 30 % means that about 3 in 10 people
with such characteristics left in the past – not who will leave.</li>
<li><b>Association, not cause.</b> The model sees that high caseloads and little supervision go
with leaving. It cannot prove that moving the levers has the effect the what-if figures show;
staff and units may differ in ways the model does not see.</li>
<li><b>Small groups are uncertain.</b> In a unit of 8, one leaver is 12.5 percentage points.
The intervals show the uncertainty; groups under the minimum size are hidden for privacy.</li>
<li><b>A flag is a signal, not a verdict.</b> Use it to ask questions and talk with the unit,
and read the drivers: they show what sets the group apart, on the model's log-odds scale.</li>
<li><b>Definitions matter.</b> Turnover of 20 % and 35 % can describe the same reality under
different definitions; compare only figures with the same definition.</li>
<li><b>The model is only as good as the data.</b> Missing records (supervision, caseload,
surveys) weaken the estimates.</li>
</ul>""",
        "privacy": "This report contains no employee ids; every figure covers a group of at "
        "least {min_size} persons.",
    },
}


PLOT_TEXT_NB: dict[str, str] = {
    # English texts drawn by the library's .plot_* methods -> bokmål (prefix match)
    "predicted probability of leaving": "anslått sannsynlighet for å slutte",
    "observed share who left": "observert andel som sluttet",
    "Calibration (out-of-fold, pooled)": "Kalibrering (utenfor treningsdata, samlet)",
    "model": "modell",
    "unit exit share": "enhetens avgangsandel",
    "observed rate": "observert andel",
    "perfect calibration": "perfekt kalibrering",
    "95 % limits": "95 % grenser",
    "99.8 % limits": "99,8 % grenser",
    "expected leavers": "forventet antall avganger",
    "observed / expected leavers": "observert / forventet avgang",
    "persons": "personer",
    "predicted exit share (model association, not a proven effect)": "anslått avgangsandel (modellens sammenheng, ikke bevist effekt)",
    "predicted exit share": "anslått avgangsandel",
    "before": "før",
    "after": "etter",
}
"""Translations of plot texts for ``lang="nb"`` (longest match first)."""
