"""The words of page one and of the glossary, in bokmål (``nb``) and English (``en``).

Page one answers a leader's three questions in order — how many may leave, where, what can I
do — and then says what the numbers cannot say. Each phrase with a ``{placeholder}`` is filled
from the results; a phrase whose numbers the run did not produce is left out, never filled with
a default.
"""

from __future__ import annotations

PHRASES: dict[str, dict[str, str]] = {
    "nb": {
        "page_one": "Kort fortalt",
        "as_of": "per {date}",
        "service_range": "De neste {months} månedene kan mellom <b>{lo} og {hi}</b> av "
        "{n} ansatte komme til å slutte (forventet {expected}, {share}).",
        "backtest_line": "Året før ({date}) sluttet {observed} av {n} ansatte innen "
        "{months} måneder ({share}); modellen hadde ventet {expected}.",
        "flag_line_one": "<b>1 {noun_one}</b> har forhøyet risiko: {names}.",
        "flag_line_many": "<b>{k} {noun}</b> har forhøyet risiko: {names}.",
        "flag_line_none": "Ingen {noun} har tydelig forhøyet risiko.",
        "low_line": "Lavere risiko enn snittet: {names}.",
        "expected_line": "{k} {noun} ligger som forventet.",
        "suppressed_line": "{k} {noun} vises ikke: de har under {min_size} ansatte, eller tallene "
        "deres kunne avsløre en slik enhet.",
        "not_assessed_line": "{k} {noun} kunne ikke vurderes.",
        "and": "og",
        "group_head": "{name} — {n} ansatte — {flag}",
        "group_range": "{lo}–{hi} av de {n} kan slutte de neste {months} månedene "
        "(forventet {expected}). Det er {ratio} ganger snittet i tjenesten.",
        "pushes_up": "Det som trekker opp:",
        "no_push": "Ingen enkeltfaktor trekker tydelig opp; risikoen er summen av mange små "
        "forskjeller.",
        "driver_line": "<i>{cause}</i>: {family} ({pp})",
        "driver_values": " — {label}: {group} i {unit_word} mot {service} i tjenesten",
        "lever_yes": "Noe lederen kan påvirke.",
        "lever_no": "Bakgrunn, ikke noe lederen styrer.",
        "whatif_fewer": "{scenario}, ville omtrent <b>{x} færre</b> av de {n} forventes å slutte.",
        "whatif_more": "{scenario}, ville omtrent {x} flere av de {n} forventes å slutte "
        "(modellen ser ingen lettelse her).",
        "whatif_none": "{scenario}, ville forventet antall som slutter knapt endre seg (under "
        "0,1 person).",
        "service_whatif": "{scenario} i hele tjenesten, ville omtrent <b>{x} færre</b> av "
        "{n} forventes å slutte.",
        "cannot_say": "Hva tallene ikke kan si",
        "cannot_say_body": "Modellen viser sammenhenger i dataene, ikke bevist årsak: ansatte "
        "og enheter kan skille seg fra hverandre på måter modellen ikke ser.",
        "auc_line": " Den rangerer en som slutter over en som blir {auc} ganger av 100 "
        "(tilfeldig gjetning: 50).",
        "use_line": " Bruk tallene til å spørre og følge opp i enheten — aldri til beslutninger "
        "om enkeltpersoner.",
        "unit_word": "enheten",
        "group_word": "gruppen",
        "retention_first": "Av nyutdannede som begynte, er <b>{share}</b> fortsatt {place} "
        '{after} (<span class="nowrap">{level}-intervall {lo}–{hi}</span>)',
        "retention_more": ' og <b>{share}</b> {after} (<span class="nowrap">{lo}–{hi}</span>)',
        "retention_experienced": "; for erfarne er tallene {values}",
        "retention_too_few": "Det er for få nyutdannede til å si hvor mange av dem som blir.",
        "interval_level": "{level}\u00a0%",
    },
    "en": {
        "page_one": "In short",
        "as_of": "as of {date}",
        "service_range": "In the next {months} months between <b>{lo} and {hi}</b> of {n} "
        "staff may leave (expected {expected}, {share}).",
        "backtest_line": "The year before ({date}) {observed} of {n} staff left within "
        "{months} months ({share}); the model expected {expected}.",
        "flag_line_one": "<b>1 {noun_one}</b> is at elevated risk: {names}.",
        "flag_line_many": "<b>{k} {noun}</b> are at elevated risk: {names}.",
        "flag_line_none": "No {noun_one} is clearly at elevated risk.",
        "low_line": "Lower risk than average: {names}.",
        "expected_line": "{k} {noun} are as expected.",
        "suppressed_line": "{k} {noun} are not shown: they have fewer than {min_size} staff, or "
        "their numbers could reveal such a unit.",
        "not_assessed_line": "{k} {noun} could not be assessed.",
        "and": "and",
        "group_head": "{name} — {n} staff — {flag}",
        "group_range": "{lo}–{hi} of the {n} may leave in the next {months} months "
        "(expected {expected}): {ratio} times the service average.",
        "pushes_up": "What pushes it up:",
        "no_push": "No single factor clearly pushes it up; the risk is the sum of many small "
        "differences.",
        "driver_line": "<i>{cause}</i>: {family} ({pp})",
        "driver_values": " — {label}: {group} in the {unit_word} against {service} in the service",
        "lever_yes": "A lever you hold.",
        "lever_no": "Context, not something a leader sets.",
        "whatif_fewer": "{scenario}, about <b>{x} fewer</b> of the {n} would be expected to leave.",
        "whatif_more": "{scenario}, about {x} more of the {n} would be expected to leave (the "
        "model sees no relief here).",
        "whatif_none": "{scenario}, the expected number of leavers would barely change (under "
        "0.1 person).",
        "service_whatif": "{scenario} across the service, about <b>{x} fewer</b> of {n} would "
        "be expected to leave.",
        "cannot_say": "What the numbers cannot say",
        "cannot_say_body": "The model shows associations in the data, not proven causes: staff "
        "and units may differ in ways the model does not see.",
        "auc_line": " It ranks a leaver above a stayer {auc} times in 100 (a coin: 50).",
        "use_line": " Use the numbers to ask and follow up in the unit — never for decisions "
        "about individual employees.",
        "unit_word": "unit",
        "group_word": "group",
        "retention_first": "Of newly qualified staff who started, <b>{share}</b> are still "
        '{place} {after} (<span class="nowrap">{level} interval {lo}–{hi}</span>)',
        "retention_more": ' and <b>{share}</b> {after} (<span class="nowrap">{lo}–{hi}</span>)',
        "retention_experienced": "; for experienced staff the figures are {values}",
        "retention_too_few": "There are too few newly qualified staff to say how many of them "
        "stay.",
        "interval_level": "{level}%",
    },
}

GROUP_NOUNS: dict[str, dict[str, tuple[str, str]]] = {
    # by column -> (singular, plural)
    "nb": {
        "unit_id": ("enhet", "enheter"),
        "municipality": ("kommune", "kommuner"),
        "service": ("tjeneste", "tjenester"),
    },
    "en": {
        "unit_id": ("unit", "units"),
        "municipality": ("municipality", "municipalities"),
        "service": ("service", "services"),
    },
}
OTHER_GROUP = {"nb": ("gruppe", "grupper"), "en": ("group", "groups")}

RETENTION_PLACE: dict[str, dict[str, str]] = {
    # the model's scope (what counts as leaving) -> where a person who stays still is
    "nb": {
        "service": "i tjenesten",
        "unit": "i samme enhet",
        "municipality": "i kommunen",
        "any": "ansatt",
    },
    "en": {
        "service": "in the service",
        "unit": "in the same unit",
        "municipality": "in the municipality",
        "any": "employed",
    },
}

AFTER_MONTHS: dict[str, dict[int, str]] = {
    # months of tenure -> "after ..." (other months: the "after_months" phrase)
    "nb": {12: "etter ett år", 24: "etter to år", 36: "etter tre år"},
    "en": {12: "after one year", 24: "after two years", 36: "after three years"},
}
AFTER_OTHER = {"nb": "etter {months} måneder", "en": "after {months} months"}

GLOSSARY: dict[str, tuple[tuple[str, str], ...]] = {
    "nb": (
        (
            "Forventet antall",
            "Summen av de ansattes anslåtte sannsynlighet for å slutte. 0,3 + 0,2 + 0,5 gir "
            "1 forventet avgang.",
        ),
        (
            "Spenn (intervall)",
            "Antallet som kan slutte med 95 % sannsynlighet etter modellen. For enhetene er "
            "både tilfeldighet og usikkerhet i modellen regnet med, for hele tjenesten bare "
            "tilfeldigheten.",
        ),
        (
            "Prosentpoeng",
            "Forskjell mellom to prosenter: fra 20 % til 25 % er 5 prosentpoeng.",
        ),
        (
            "Forhøyet risiko",
            "Enhetens anslåtte avgangsandel er tydelig høyere enn tjenestens snitt ganger "
            "terskelen, også når modellens usikkerhet og mange sammenligninger er tatt med.",
        ),
        (
            "q-verdi",
            "Sannsynlighetsverdi justert for at mange enheter sammenlignes samtidig "
            "(Benjamini–Hochberg). Under 0,05 regnes som tydelig.",
        ),
        (
            "Rangering (AUC)",
            "Hvor ofte modellen gir en som slutter høyere risiko enn en som blir. 0,5 er "
            "tilfeldig gjetning, 1 er perfekt.",
        ),
        (
            "Brier-skår",
            "Gjennomsnittlig kvadrert avvik mellom anslått sannsynlighet og det som skjedde. "
            "Lavere er bedre; sammenlign med samme risiko for alle.",
        ),
        (
            "Kalibrering",
            "Om anslagene stemmer i snitt: blant dem med anslått 20 % risiko bør omtrent 20 % "
            "slutte. Gjennomsnittlig kalibreringsavvik måler bommen i prosentpoeng.",
        ),
        (
            "Traktplott",
            "Hver prikk er en enhet. Grensene viser hvor langt fra snittet en enhet kan ligge "
            "av ren usikkerhet; prikker utenfor er flagget.",
        ),
        (
            "Nyutdannet",
            "Begynte i tjenesten mindre enn to år etter fullført utdanning. Andelen som blir, "
            "er regnet fra ansettelsen (Kaplan–Meier); de som alt var ansatt da registreringen "
            "startet, telles fra den ansienniteten de hadde da.",
        ),
        (
            "Sammenheng og årsak",
            "At to ting følger hverandre i dataene, betyr ikke at det ene fører til det andre.",
        ),
    ),
    "en": (
        (
            "Expected number",
            "The sum of the staff's predicted probabilities of leaving. 0.3 + 0.2 + 0.5 makes "
            "1 expected leaver.",
        ),
        (
            "Range (interval)",
            "The number who may leave with 95 % probability under the model. For the units "
            "both chance and the model's own uncertainty count, for the whole service chance "
            "only.",
        ),
        (
            "Percentage points",
            "The difference between two percentages: from 20 % to 25 % is 5 percentage points.",
        ),
        (
            "Elevated risk",
            "The unit's predicted exit share is clearly above the service average times the "
            "threshold, allowing for the model's uncertainty and for many comparisons.",
        ),
        (
            "q-value",
            "A p-value adjusted for comparing many units at once (Benjamini–Hochberg). Below "
            "0.05 counts as clear.",
        ),
        (
            "Ranking (AUC)",
            "How often the model gives a leaver a higher risk than a stayer. 0.5 is a coin, "
            "1 is perfect.",
        ),
        (
            "Brier score",
            "Mean squared gap between predicted probability and what happened. Lower is "
            "better; compare with the same risk for everyone.",
        ),
        (
            "Calibration",
            "Whether the predictions are right on average: of those given 20 % risk, about "
            "20 % should leave. The mean calibration error measures the miss in percentage "
            "points.",
        ),
        (
            "Funnel plot",
            "Each dot is a unit. The limits show how far from the average a unit can fall by "
            "uncertainty alone; dots outside are flagged.",
        ),
        (
            "Newly qualified",
            "Started in the service less than two years after completing their education. The "
            "share who stay is counted from hire (Kaplan–Meier); staff already employed when "
            "recording began count from the tenure they had then.",
        ),
        (
            "Association and cause",
            "Two things going together in the data does not mean one leads to the other.",
        ),
    ),
}
"""Short explanations of the report's terms (term, explanation), shown at the end."""
