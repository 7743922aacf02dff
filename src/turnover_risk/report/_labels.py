"""Labels of the report's evidence sections in bokmål (``nb``) and English (``en``).

No code name reaches the page: metrics, model kinds, definitions and flags all have a label in
both languages here (the words of page one and the glossary live in ``_phrases``).
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("nb", "en")

LABELS: dict[str, dict[str, str]] = {
    "nb": {
        "title": "Turnover og risiko for at ansatte slutter",
        "generated": "Laget {date} med turnover_risk {version}",
        "toc": "Innhold",
        "evidence": "Grunnlaget",
        "privacy": "Rapporten inneholder ingen ansatt-ID-er. Tall vises bare for grupper med "
        "minst {min_size} personer; mindre grupper står som «skjult», og det samme gjør de få "
        "gruppene som ellers ville avslørt dem ved å trekke tall fra hverandre.",
        # rates
        "rates": "Turnover og sykefravær over tid",
        "def_exit_share": "Avgangsandel (KS): andelen av de ansatte 1. desember som ikke er i "
        "tjenesten ett år senere.",
        "def_bufdir": "Gjennomtrekk (SSB/Bufdir): tilganger pluss avganger minus netto endring "
        "i antall ansatte per enhet, delt på gjennomsnittlig antall ansatte; bytte av enhet "
        "teller med.",
        "def_separation": "Avgangsrate: avganger fra tjenesten i året delt på gjennomsnittlig "
        "antall ansatte.",
        "name_exit_share": "avgangsandel (KS)",
        "name_bufdir": "gjennomtrekk (SSB/Bufdir)",
        "name_separation": "avgangsrate",
        "not_complete": "ikke klar",
        "not_complete_note": "«Ikke klar»: avgangsandelen for et år kan først regnes når året "
        "etter telledatoen er over.",
        "turnover_plot": "Turnover per år etter definisjon, med 95 % konfidensintervall",
        "turnover_alt": "Linjediagram over turnover per år, {years}, for tre definisjoner. "
        "Siste tall: {last}.",
        "sick_plot": "Sykefraværsprosent per kvartal (SSB/NAV-definisjon)",
        "sick_alt": "Linjediagram over sykefraværsprosent per kvartal fra {first} til {last}, "
        "totalt og fordelt på egenmeldt og legemeldt.",
        "sick_def": "Sykefraværsprosent (SSB/NAV): tapte dagsverk i prosent av avtalte "
        "dagsverk, egenmeldt og legemeldt.",
        "sick_all": "totalt",
        "sick_self": "egenmeldt",
        "sick_doctor": "legemeldt",
        "period": "periode",
        "year": "år",
        "rates_table": "Turnover per år (tabell)",
        # model
        "model": "Hvor godt treffer modellen?",
        "model_intro": "Modellen ({kind}) anslår for hver ansatt sannsynligheten for å slutte "
        "({outcome}) innen {horizon} måneder. Den er prøvd på senere perioder enn den ble "
        "laget på, slik den brukes i praksis.",
        "kind_logistic": "logistisk regresjon",
        "kind_gbm": "gradient boosting med beslutningstrær",
        "outcome_voluntary": "frivillig avgang",
        "outcome_any": "all avgang",
        "outcome_other": "valgte avgangsårsaker",
        "q_auc": "Den rangerer en som slutter over en som blir <b>{auc} ganger av 100</b> "
        "(tilfeldig gjetning: 50; enhetens egen avgang siste år: {auc_unit}).",
        "q_auc_only": "Den rangerer en som slutter over en som blir <b>{auc} ganger av 100</b> "
        "(tilfeldig gjetning: 50).",
        "q_brier": "Anslagene bommer {better} enn om alle fikk samme risiko (Brier-skår "
        "{brier} mot {brier_base}).",
        "better": "mindre",
        "worse": "mer",
        "q_ece": "I snitt avviker anslått og faktisk avgang med {ece} (kalibreringsavvik).",
        "model_table": "Alle mål (tabell)",
        "no_evaluation": "Modellen er ikke prøvd på senere perioder i denne kjøringen.",
        "calibration_plot": "Kalibrering: anslått mot faktisk avgang, utenfor treningsdata",
        "calibration_alt": "Punktdiagram: anslått sannsynlighet for å slutte mot andelen som "
        "faktisk sluttet, i ti like store grupper.",
        "cal_x": "anslått sannsynlighet for å slutte",
        "cal_y": "andel som faktisk sluttet",
        "cal_perfect": "perfekt kalibrering",
        "m_model": "modellen",
        "m_base_rate": "samme risiko for alle",
        "m_unit_exit_share": "enhetens avgang siste år",
        "metric_roc_auc": "rangering (AUC)",
        "metric_pr_auc": "presisjon–treff (PR-AUC)",
        "metric_brier": "Brier-skår",
        "metric_log_loss": "logaritmisk tap",
        "metric_calibration_intercept": "kalibrering, nivå",
        "metric_calibration_slope": "kalibrering, stigning",
        "metric_ece": "kalibreringsavvik",
        "metric_precision_top10": "treff blant 10 % høyest",
        "metric_recall_top10": "andel funnet blant 10 % høyest",
        "what": "mål",
        # groups
        "groups": "Enheter med forhøyet risiko",
        "groups_intro": "Per {date}: hver enhets forventede avgang de neste {horizon} "
        "månedene er summen av de ansattes anslåtte risiko. En enhet er <b>forhøyet</b> når "
        "anslaget tydelig er mer enn {margin} ganger snittet i tjenesten ({reference}), også "
        "når modellens usikkerhet og mange sammenligninger er tatt med.",
        "funnel_plot": "Traktplott av det som testes: hver enhets risiko i forhold til snittet "
        "mot hvor sikkert anslaget er",
        "funnel_alt": "Traktplott med {n} enheter. {k} ligger utenfor grensen som brukes for "
        "flagget: {names}.",
        "funnel_x": "hvor sikkert anslaget er (1 / standardfeil)",
        "funnel_y": "risiko i forhold til snittet (ganger)",
        "l_reference": "snittet i tjenesten (1)",
        "l_margin": "terskel ({m} og 1/{m})",
        "l_nominal": "95 % grense uten korreksjon",
        "l_flag": "grense for flagget (korrigert for mange sammenligninger)",
        "l_elevated": "forhøyet",
        "l_low": "lav",
        "l_as expected": "som forventet",
        "no_funnel": "Uten modellusikkerhet (ingen gjentatte tilpasninger) kan enhetene ikke "
        "testes, og traktplottet vises ikke.",
        "flagged_table": "Flaggede enheter",
        "all_groups_table": "Alle enheter (tabell)",
        "no_flags": "Ingen enheter er flagget.",
        "flag_elevated": "forhøyet risiko",
        "flag_low": "lav risiko",
        "flag_as expected": "som forventet",
        "flag_suppressed": "for liten til å vises",
        "flag_not assessed": "ikke vurdert",
        "col_group": "enhet",
        "col_n": "ansatte",
        "col_expected": "forventet antall som slutter",
        "col_share": "anslått andel",
        "col_ratio": "ganger snittet",
        "col_ratio_ci": "95 % intervall (modell)",
        "col_pi": "kan slutte (95 % spenn)",
        "col_q": "q-verdi",
        "col_flag": "vurdering",
        "col_drivers": "det som trekker mest opp",
        "col_observed": "sluttet",
        "col_oe": "sluttet / forventet",
        "col_oe_ci": "95 % intervall",
        # backtest
        "backtest": "Tilbakeblikk: stemte det?",
        "backtest_intro": "Per {date}, der utfallet er kjent: {observed} av {n} ansatte "
        "sluttet innen {horizon} måneder; modellen ventet {expected}. Per enhet sammenlignes "
        "faktisk med forventet antall, gitt de ansattes kjennetegn.",
        "od_none": "Enhetene varierer ikke mer enn tilfeldigheter tilsier.",
        "od_applied": "Enhetene varierer mer enn tilfeldigheter alene tilsier; grensene er "
        "gjort videre for det.",
        "retro_plot": "Traktplott for tilbakeblikket: sluttet / forventet mot forventet antall",
        "retro_alt": "Traktplott med {n} enheter: faktisk delt på forventet avgang mot "
        "forventet antall. Flagget: {names}.",
        "retro_x": "forventet antall som slutter",
        "retro_y": "sluttet / forventet",
        "l_95": "95 % grenser",
        "l_998": "99,8 % grenser",
        "l_expected_line": "som forventet (1)",
        "retro_note": "Flaggene bruker en eksakt test og korrigerer for mange "
        "sammenligninger; en prikk like utenfor 95 %-grensen er derfor ikke alltid flagget.",
        "retro_table": "Tilbakeblikk per enhet (tabell)",
        "none": "ingen",
        # drivers
        "drivers": "Hva som trekker risikoen opp",
        "drivers_intro": "Per flagget enhet: hvor mange prosentpoeng risikoen ville vært lavere "
        "om denne gruppen av kjennetegn lå på snittet i tjenesten. Varianter av samme mål "
        "(for eksempel saksmengde siste måned og snitt siste tre måneder) er slått sammen.",
        "levers": "Spaker lederen har",
        "context": "Bakgrunn (ikke spaker)",
        "col_family": "kjennetegn",
        "col_cause": "årsaksområde",
        "col_pp": "prosentpoeng",
        "no_drivers": "Ingen flaggede enheter å forklare.",
        # what-if
        "whatif": "Hva om? Spakene i antall personer",
        "whatif_intro": "Forventet antall som slutter før minus etter en endring, alt annet "
        "likt. <b>Dette er modellens sammenheng, ikke bevist effekt.</b>",
        "scenario": "endring",
        "service": "hele tjenesten",
        "sc_caseload": "Saksmengde høyst 15",
        "sc_supervision": "Veiledning minst én gang i måneden",
        "sc_onboarding": "Ukentlig veiledning for alle nyansatte",
        "sc_coverage": "Veiledning for alle i enheten",
        "if_sc_caseload": "Hvis saksmengden var høyst 15",
        "if_sc_supervision": "Hvis alle fikk veiledning minst én gang i måneden",
        "if_sc_onboarding": "Hvis alle nyansatte fikk ukentlig veiledning",
        "if_sc_coverage": "Hvis alle i enheten fikk veiledning",
        "no_levers": "Modellen bruker ingen av spakene saksmengde eller veiledning.",
        "fewer": "Færre som forventes å slutte (personer)",
        # tables, glossary
        "tables": "Fulle tabeller",
        "data_table": "Data og validering (tabell)",
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
        "glossary": "Ordliste",
    },
    "en": {
        "title": "Turnover and risk of leaving",
        "generated": "Generated {date} with turnover_risk {version}",
        "toc": "Contents",
        "evidence": "The evidence",
        "privacy": "This report contains no employee ids. Figures are shown only for groups of "
        "at least {min_size} persons; smaller groups read “hidden”, and so do the few groups "
        "that would otherwise reveal them by subtraction.",
        "rates": "Turnover and sick leave over time",
        "def_exit_share": "Exit share (KS): the share of staff on 1 December who are not in the "
        "service a year later.",
        "def_bufdir": "Churn (SSB/Bufdir): joiners plus leavers minus the net change in "
        "headcount per unit, over the average headcount; moves between units count.",
        "def_separation": "Separation rate: leavers in the year over the average headcount.",
        "name_exit_share": "exit share (KS)",
        "name_bufdir": "churn (SSB/Bufdir)",
        "name_separation": "separation rate",
        "not_complete": "not yet",
        "not_complete_note": "“Not yet”: a year's exit share can only be counted once the "
        "year after its snapshot date is over.",
        "turnover_plot": "Turnover per year by definition, with 95 % confidence interval",
        "turnover_alt": "Line chart of turnover per year, {years}, under three definitions. "
        "Latest figures: {last}.",
        "sick_plot": "Sick-leave percentage per quarter (SSB/NAV definition)",
        "sick_alt": "Line chart of the sick-leave percentage per quarter from {first} to "
        "{last}, overall and split into self-certified and doctor-certified.",
        "sick_def": "Sick-leave percentage (SSB/NAV): lost working days as a percentage of "
        "agreed working days, self- and doctor-certified.",
        "sick_all": "all",
        "sick_self": "self-certified",
        "sick_doctor": "doctor-certified",
        "period": "period",
        "year": "year",
        "rates_table": "Turnover per year (table)",
        "model": "How good is the model?",
        "model_intro": "The model ({kind}) estimates for each employee the probability of "
        "leaving ({outcome}) within {horizon} months. It is tested on periods later than the "
        "ones it was built on, as it is used in practice.",
        "kind_logistic": "logistic regression",
        "kind_gbm": "gradient boosting with decision trees",
        "outcome_voluntary": "voluntary exit",
        "outcome_any": "any exit",
        "outcome_other": "chosen exit reasons",
        "q_auc": "It ranks a leaver above a stayer <b>{auc} times in 100</b> (a coin: 50; the "
        "unit's own exit share last year: {auc_unit}).",
        "q_auc_only": "It ranks a leaver above a stayer <b>{auc} times in 100</b> (a coin: 50).",
        "q_brier": "Its predictions miss {better} than giving everyone the same risk (Brier "
        "score {brier} against {brier_base}).",
        "better": "less",
        "worse": "more",
        "q_ece": "On average predicted and actual leaving differ by {ece} (calibration error).",
        "model_table": "All metrics (table)",
        "no_evaluation": "The model was not tested on later periods in this run.",
        "calibration_plot": "Calibration: predicted against actual leaving, out of sample",
        "calibration_alt": "Scatter chart: predicted probability of leaving against the share "
        "who actually left, in ten equal-sized groups.",
        "cal_x": "predicted probability of leaving",
        "cal_y": "share who actually left",
        "cal_perfect": "perfect calibration",
        "m_model": "the model",
        "m_base_rate": "same risk for everyone",
        "m_unit_exit_share": "unit's exit share last year",
        "metric_roc_auc": "ranking (AUC)",
        "metric_pr_auc": "precision–recall (PR-AUC)",
        "metric_brier": "Brier score",
        "metric_log_loss": "log loss",
        "metric_calibration_intercept": "calibration, level",
        "metric_calibration_slope": "calibration, slope",
        "metric_ece": "calibration error",
        "metric_precision_top10": "hits among top 10 %",
        "metric_recall_top10": "share found among top 10 %",
        "what": "metric",
        "groups": "Units at elevated risk",
        "groups_intro": "As of {date}: each unit's expected leavers over the next {horizon} "
        "months are the sum of its staff's predicted risks. A unit is <b>elevated</b> when "
        "the estimate is clearly more than {margin} times the service average ({reference}), "
        "allowing for the model's uncertainty and for many comparisons.",
        "funnel_plot": "Funnel plot of what is tested: each unit's risk relative to the "
        "average against how certain the estimate is",
        "funnel_alt": "Funnel plot of {n} units. {k} lie beyond the limit used for the flag: "
        "{names}.",
        "funnel_x": "how certain the estimate is (1 / standard error)",
        "funnel_y": "risk relative to the average (times)",
        "l_reference": "service average (1)",
        "l_margin": "threshold ({m} and 1/{m})",
        "l_nominal": "95 % limit, uncorrected",
        "l_flag": "limit for the flag (corrected for many comparisons)",
        "l_elevated": "elevated",
        "l_low": "low",
        "l_as expected": "as expected",
        "no_funnel": "Without model uncertainty (no refits) the units cannot be tested, so the "
        "funnel plot is not shown.",
        "flagged_table": "Flagged units",
        "all_groups_table": "All units (table)",
        "no_flags": "No unit is flagged.",
        "flag_elevated": "elevated risk",
        "flag_low": "low risk",
        "flag_as expected": "as expected",
        "flag_suppressed": "too small to show",
        "flag_not assessed": "not assessed",
        "col_group": "unit",
        "col_n": "staff",
        "col_expected": "expected leavers",
        "col_share": "predicted share",
        "col_ratio": "times average",
        "col_ratio_ci": "95 % interval (model)",
        "col_pi": "may leave (95 % range)",
        "col_q": "q-value",
        "col_flag": "assessment",
        "col_drivers": "what pushes it up most",
        "col_observed": "left",
        "col_oe": "left / expected",
        "col_oe_ci": "95 % interval",
        "backtest": "Looking back: was it right?",
        "backtest_intro": "As of {date}, whose outcomes are known: {observed} of {n} staff left "
        "within {horizon} months; the model expected {expected}. Per unit, actual leavers are "
        "compared with the number expected given the staff's characteristics.",
        "od_none": "The units vary no more than chance allows.",
        "od_applied": "The units vary more than chance alone allows; the limits are widened "
        "for it.",
        "retro_plot": "Funnel plot looking back: left / expected against expected number",
        "retro_alt": "Funnel plot of {n} units: actual over expected leavers against the "
        "expected number. Flagged: {names}.",
        "retro_x": "expected leavers",
        "retro_y": "left / expected",
        "l_95": "95 % limits",
        "l_998": "99.8 % limits",
        "l_expected_line": "as expected (1)",
        "retro_note": "The flags use an exact test corrected for many comparisons, so a dot "
        "just beyond the 95 % limit is not always flagged.",
        "retro_table": "Looking back per unit (table)",
        "none": "none",
        "drivers": "What pushes the risk up",
        "drivers_intro": "Per flagged unit: how many percentage points lower its risk would be "
        "if this group of characteristics were at the service's level. Variants of one measure "
        "(such as the caseload of the latest month and its 3-month mean) are merged.",
        "levers": "Levers a leader holds",
        "context": "Context (not levers)",
        "col_family": "characteristic",
        "col_cause": "cause category",
        "col_pp": "percentage points",
        "no_drivers": "No flagged unit to explain.",
        "whatif": "What if? The levers in persons",
        "whatif_intro": "Expected leavers before minus after a change, everything else held "
        "fixed. <b>This is the model's association, not a proven effect.</b>",
        "scenario": "change",
        "service": "whole service",
        "sc_caseload": "Caseload at most 15",
        "sc_supervision": "Supervision at least once a month",
        "sc_onboarding": "Weekly supervision for all new staff",
        "sc_coverage": "Supervision for everyone in the unit",
        "if_sc_caseload": "With caseloads at most 15",
        "if_sc_supervision": "If everyone had supervision at least once a month",
        "if_sc_onboarding": "If all new staff had weekly supervision",
        "if_sc_coverage": "If everyone in the unit had supervision",
        "no_levers": "The model uses none of the caseload or supervision levers.",
        "fewer": "Fewer expected to leave (persons)",
        "tables": "Full tables",
        "data_table": "Data and validation (table)",
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
        "glossary": "Glossary",
    },
}
