"""The topiramate pack's case table: every rule set (UK-PPP, EU-PPP, US-label, the Qsymia
US-REMS) in both directions, through ``assess`` and the real pack files.

What this pack adds to the engine is checked here as data: the medicine that weakens
contraception itself (any dose in the UK and EU, from 200 mg a day in the US), the indication
(a positive test blocks for migraine and weight management, warns for epilepsy), and a product
with its own programme (Qsymia only under its REMS, the REMS only for Qsymia). The cross-medicine
rows: a patient of another pack with topiramate on the medicine list, and a topiramate patient
with an inducer on the list.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pharmacist_tool.case import case_from_dict
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.knowledge import load_pack
from pharmacist_tool.knowledge.packs import names, pack_for
from tests.engine.test_pack_case_tables import Row, _problems

PACK = "topiramate"


def _case(rule_set: str, medicine: str, strength: float, doses: int, **rx: Any) -> dict[str, Any]:
    return {
        "format": "pharmacist-tool/case@1",
        "rule_set": rule_set,
        "counselled_on": "2026-11-25",
        "patient": {
            "name": "Sam Reid",
            "date_of_birth": "1996-02-10",
            "weight_kg": 64,
            "can_get_pregnant": True,
            "sex": "female",
        },
        "prescription": {
            "medicine": medicine,
            "strength_mg": strength,
            "units_per_dose": 1,
            "doses_per_day": doses,
            "days_supply": 30,
            "quantity": 30 * doses,
            "prescribed_on": "2026-11-23",
            "prescriber": "Dr A. Khan",
        }
        | rx,
        "pregnancy_tests": [],
        "contraception": ["copper IUD"],
        "medicines": [],
        "alcohol": "none",
    }


def _cannot(case: dict[str, Any], **patient: Any) -> dict[str, Any]:
    out = copy.deepcopy(case)
    out["patient"] |= {"can_get_pregnant": False} | patient
    out["contraception"] = []
    return out


UK = _case("UK-PPP", "Topamax 50 mg", 50, 2, indication="migraine")
EU = _case("EU-PPP", "topiramate", 25, 2, indication="epilepsy")
US = _case("US-label", "Topamax 100 mg", 100, 2, indication="epilepsy")
REMS = _case("US-REMS", "Qsymia 7.5/46", 46, 1)
REMS["pregnancy_tests"] = [{"date": "2026-11-20", "result": "negative"}]

BASES: dict[str, dict[str, Any]] = {
    "UK": UK,
    "UK_NO": _cannot(UK),
    "UK_MAN": _cannot(UK, sex="male"),
    "EU": EU,
    "EU_NO": _cannot(EU),
    "US": US,
    "US_NO": _cannot(US),
    "REMS": REMS,
    "REMS_NO": _cannot(REMS),
}


def build(base: str, changes: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(BASES[base])
    for dotted, value in changes.items():
        target = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            target = target[key]
        if value is ...:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return data


MEDS, METHODS, TESTS = "medicines", "contraception", "pregnancy_tests"
POS = [{"date": "2026-11-24", "result": "positive"}]
PILL = ["combined pill", "condoms"]
STRENGTH, DOSES, QTY = (
    "prescription.strength_mg",
    "prescription.doses_per_day",
    ("prescription.quantity"),
)
INDICATION = "prescription.indication"


def daily(mg: float) -> dict[str, Any]:
    """The prescription changed to ``mg`` a day, given as two doses."""
    return {STRENGTH: mg / 2, DOSES: 2, QTY: 60}


ROWS: list[Row] = []
# -- every rule set: a routine case passes with only its checklist ----------------------------
for b in BASES:
    ROWS.append(Row(f"{b}-routine", b, none=["*:warn"], dispense="ok"))

# -- the medicine weakens contraception itself: UK and EU at any dose, US from 200 mg a day ----
for b, low, high in [("UK", 25, 100), ("EU", 25, 400), ("US", 200, 400)]:
    for mg in (low, high):
        ROWS += [
            Row(
                f"{b}-{mg}mg-pill-weakened",
                b,
                {METHODS: PILL, **daily(mg)},
                has=[("contraception.weakened", "warn")],
            ),
            Row(f"{b}-{mg}mg-iud-not-weakened", b, daily(mg), none=["contraception.weakened"]),
            Row(
                f"{b}-{mg}mg-injection-not-weakened",
                b,
                {METHODS: ["Depo-Provera injection", "condoms"], **daily(mg)},
                none=["contraception.weakened", "contraception.rule-not-met"],
            ),
            Row(
                f"{b}-{mg}mg-implant-weakened",
                b,
                {METHODS: ["Nexplanon"], **daily(mg)},
                has=[("contraception.weakened", "warn")],
                programme_rule={"contraception.weakened": False},
            ),
            Row(
                f"{b}-{mg}mg-pop-weakened",
                b,
                {METHODS: ["progestogen-only pill", "condoms"], **daily(mg)},
                has=[("contraception.weakened", "warn")],
            ),
        ]
ROWS += [
    # below the US label's 200 mg a day, the prescribed medicine weakens nothing
    Row("US-100mg-pill-not-weakened", "US", {METHODS: PILL, **daily(100)}, none=["*:warn"]),
    Row(
        "US-199mg-pill-not-weakened",
        "US",
        {METHODS: PILL, **daily(199)},
        none=["contraception.weakened"],
    ),
    # Qsymia's topiramate (at most 92 mg) stays below the US threshold
    Row(
        "REMS-92mg-pill-not-weakened",
        "REMS",
        {METHODS: PILL, STRENGTH: 92},
        none=["contraception.weakened"],
    ),
    # a patient who cannot get pregnant is not re-checked
    Row("UK_NO-no-recheck", "UK_NO", {METHODS: PILL}, none=["contraception.weakened"]),
]

# -- an inducer on the list re-checks even where the prescribed dose does not ---------------------
ROWS += [
    Row(
        "US-100mg-carbamazepine-weakens",
        "US",
        {METHODS: PILL, MEDS: ["carbamazepine 200 mg twice daily"], **daily(100)},
        has=[
            ("contraception.weakened", "warn"),
            ("interaction.enzyme-inducing-antiepileptics", "warn"),
        ],
    ),
    Row(
        "US-100mg-rifampicin-weakens",
        "US",
        {METHODS: ["Nexplanon"], MEDS: ["rifampicin 600mg"], **daily(100)},
        has=[("contraception.weakened", "warn")],
    ),
    Row(
        "US-100mg-carbamazepine-iud",
        "US",
        {MEDS: ["Tegretol"], **daily(100)},
        has=[("interaction.enzyme-inducing-antiepileptics", "warn")],
        none=["contraception.weakened"],
    ),
]

# -- contraception: missing or not highly effective is a referral, never a refusal (UK/EU) -----
for b in ("UK", "EU", "US", "REMS"):
    ROWS += [
        Row(
            f"{b}-no-contraception",
            b,
            {METHODS: []},
            has=[("contraception.rule-not-met", "warn")],
            dispense="needs-action",
        ),
        Row(
            f"{b}-condoms-only",
            b,
            {METHODS: ["condoms"]},
            has=[("contraception.rule-not-met", "warn")],
        ),
        Row(f"{b}-sterilised", b, {METHODS: ["tubal ligation"]}, none=["*:warn"]),
    ]

# -- the indication ----------------------------------------------------------------------------
for b in ("UK", "EU", "US"):
    ROWS += [
        Row(
            f"{b}-migraine-positive-blocks",
            b,
            {INDICATION: "migraine prevention", TESTS: POS},
            has=[("pregnancy-test.positive", "block")],
            programme_rule={"pregnancy-test.positive": True},
            dispense="do-not-dispense",
        ),
        Row(
            f"{b}-epilepsy-positive-warns",
            b,
            {INDICATION: "epilepsy", TESTS: POS},
            has=[("pregnancy-test.positive", "warn")],
            programme_rule={"pregnancy-test.positive": True},
            dispense="needs-action",
        ),
        Row(
            f"{b}-no-indication-asks",
            b,
            {INDICATION: ...},
            has=[("prescription.indication-not-given", "info")],
        ),
        Row(
            f"{b}-no-indication-positive-warns",
            b,
            {INDICATION: ..., TESTS: POS},
            has=[("pregnancy-test.positive", "warn")],
            dispense="needs-action",
        ),
        Row(
            f"{b}-unknown-indication",
            b,
            {INDICATION: "back pain"},
            has=[("prescription.indication-unrecognised", "warn")],
        ),
        Row(
            f"{b}-weight-not-licensed",
            b,
            {INDICATION: "weight loss"},
            has=[("prescription.indication-not-licensed", "warn")],
        ),
        Row(
            f"{b}-seizures-is-epilepsy",
            b,
            {INDICATION: "Seizures", TESTS: POS},
            has=[("pregnancy-test.positive", "warn")],
            none=["prescription.indication-unrecognised"],
        ),
    ]
ROWS += [
    # the dose band follows the indication: 400 mg a day is usual for epilepsy, too much for
    # migraine (at most 200 mg)
    Row(
        "UK-epilepsy-400mg",
        "UK",
        {INDICATION: "epilepsy", **daily(400)},
        none=["category:dose:warn"],
    ),
    Row(
        "UK-migraine-400mg",
        "UK",
        {INDICATION: "migraine", **daily(400)},
        has=[("dose.above-max", "block")],
    ),
    Row("UK-migraine-100mg", "UK", {INDICATION: "migraine", **daily(100)}, none=["category:dose"]),
    Row(
        "UK-epilepsy-50mg",
        "UK",
        {INDICATION: "epilepsy", **daily(50)},
        has=[("dose.below-usual", "info")],
    ),
    # Qsymia is for weight management only: no question asked, and a positive test blocks
    Row("REMS-indication-implied", "REMS", none=["prescription.indication-not-given"]),
    Row(
        "REMS-positive-blocks",
        "REMS",
        {TESTS: POS},
        has=[("pregnancy-test.positive", "block")],
        programme_rule={"pregnancy-test.positive": True},
        dispense="do-not-dispense",
    ),
    Row(
        "REMS_NO-positive-blocks",
        "REMS_NO",
        {TESTS: POS},
        has=[("pregnancy-test.positive", "block")],
        dispense="do-not-dispense",
    ),
    Row("REMS-next-test-monthly", "REMS", fields={"next_pregnancy_test_due": "2026-12-20"}),
    Row("UK-no-test-due", "UK", fields={"next_pregnancy_test_due": None}),
    Row(
        "UK-resolution-does-not-clear-positive",
        "UK",
        {INDICATION: "epilepsy", TESTS: POS, "resolutions": {"pregnancy-test.positive": "GP told"}},
        has=[("pregnancy-test.positive", "warn")],
        dispense="needs-action",
    ),
]

# -- a product with a programme of its own ----------------------------------------------------
ROWS += [
    Row(
        "US-qsymia-under-label-refused",
        "US",
        {"prescription.medicine": "Qsymia", INDICATION: ..., **{STRENGTH: 46, DOSES: 1, QTY: 30}},
        has=[("prescription.product-programme", "block")],
        programme_rule={"prescription.product-programme": True},
        dispense="do-not-dispense",
    ),
    Row(
        "REMS-topamax-under-qsymia-rems-refused",
        "REMS",
        {"prescription.medicine": "Topamax", INDICATION: "migraine", **daily(100)},
        has=[("prescription.programme-product", "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "REMS-qsymia-under-its-rems",
        "REMS",
        none=["prescription.product-programme", "prescription.programme-product"],
    ),
    Row(
        "UK-qsymia-market-and-programme",
        "UK",
        {"prescription.medicine": "Qsymia", INDICATION: ..., **{STRENGTH: 46, DOSES: 1, QTY: 30}},
        has=[("prescription.product-programme", "block"), ("prescription.product-market", "info")],
    ),
]

# -- the card, the form, the REMS materials -----------------------------------------------------
for b in ("UK", "EU"):
    ROWS += [
        Row(
            f"{b}-card-form-pack",
            b,
            checklist_has=["patient-card", "risk-awareness-form", "original-pack", "contraception"],
            checklist_none=["medication-guide", "rems-brochure"],
        ),
        Row(
            f"{b}_NO-card-no-form",
            f"{b}_NO",
            checklist_has=["patient-card", "original-pack"],
            checklist_none=["risk-awareness-form", "contraception"],
        ),
    ]
ROWS += [
    Row("UK_MAN-no-card", "UK_MAN", checklist_none=["patient-card", "risk-awareness-form"]),
    Row(
        "US-medication-guide",
        "US",
        checklist_has=["medication-guide", "contraception"],
        checklist_none=["patient-card", "risk-awareness-form", "rems-brochure"],
    ),
    Row(
        "REMS-materials",
        "REMS",
        checklist_has=[
            "medication-guide",
            "rems-certified-pharmacy",
            "rems-brochure",
            "rems-monthly-test",
        ],
        checklist_none=["patient-card", "risk-awareness-form"],
    ),
    Row(
        "REMS_NO-materials",
        "REMS_NO",
        checklist_has=["rems-certified-pharmacy", "rems-brochure"],
        checklist_none=["rems-monthly-test"],
    ),
]

# -- interactions that matter at the counter ------------------------------------------------
ROWS += [
    Row(
        "UK-valproate-ammonia",
        "UK",
        {MEDS: ["Epilim Chrono 500mg"]},
        has=[("interaction.valproate", "warn")],
    ),
    Row(
        "UK-zonisamide",
        "UK",
        {MEDS: ["zonisamide 100mg"]},
        has=[("interaction.carbonic-anhydrase-inhibitors", "warn")],
    ),
    Row(
        "UK-acetazolamide",
        "UK",
        {MEDS: ["Diamox"]},
        has=[("interaction.carbonic-anhydrase-inhibitors", "warn")],
    ),
    Row("UK-lithium", "UK", {MEDS: ["Priadel 400mg"]}, has=[("interaction.lithium", "warn")]),
    Row("UK-metformin", "UK", {MEDS: ["metformin 500mg"]}, has=[("interaction.metformin", "info")]),
    Row(
        "UK-hctz",
        "UK",
        {MEDS: ["hydrochlorothiazide"]},
        has=[("interaction.hydrochlorothiazide", "info")],
    ),
    Row(
        "UK-diazepam", "UK", {MEDS: ["diazepam 2mg"]}, has=[("interaction.cns-depressants", "info")]
    ),
    Row("UK-sjw", "UK", {MEDS: ["St John's wort"]}, has=[("interaction.st-johns-wort", "warn")]),
    Row(
        "UK-second-topiramate-product",
        "UK",
        {MEDS: ["Trokendi XR 100mg"]},
        has=[("interaction.duplicate-topiramate", "warn")],
    ),
    Row("UK-paracetamol-nothing", "UK", {MEDS: ["paracetamol 500mg"]}, none=["*:warn"]),
    Row("UK-unknown-line", "UK", {MEDS: ["blorptex"]}, has=[("medicine.unrecognised", "warn")]),
    Row(
        "UK-alcohol-regular",
        "UK",
        {"alcohol": "regular"},
        has=[("counselling.alcohol-regular", "warn")],
    ),
]

CHECKLIST_DONE = {i.id: True for i in load_pack(PACK).checklist}


def _assess(row: Row) -> Assessment:
    data = build(row.base, row.changes)
    data["checklist"] = dict(CHECKLIST_DONE)
    case = case_from_dict(data, source=row.id)
    return assess(case, load_pack(pack_for(case.prescription.medicine)))


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_topiramate_case_table(row: Row) -> None:
    assessment = _assess(row)
    summary = [f"{f.code}/{f.severity}/{f.subject}" for f in assessment.findings]
    assert not (problems := _problems(row, assessment)), f"{problems}\nfindings: {summary}"


def test_every_rule_set_version_of_the_pack_is_in_the_table() -> None:
    assert len({r.id for r in ROWS}) == len(ROWS)
    seen = {a.knowledge_base.rules_version for a in map(_assess, ROWS)}
    assert seen == {v.id for r in load_pack(PACK).rule_sets for v in r.versions}


def test_the_weakened_finding_names_the_prescribed_medicine_and_its_dose() -> None:
    found = _assess(Row("x", "UK", {METHODS: PILL}))
    weakened = next(f for f in found.findings if f.code == "contraception.weakened")
    assert weakened.subject == "Topamax 100 mg a day (the medicine prescribed)"
    assert "condoms" in weakened.action


# -- another pack's patient with topiramate on the medicine list (the shared substance class) --

OTHER_PACK_CASES: dict[str, dict[str, Any]] = {
    "isotretinoin": _case("UK-PPP", "Roaccutane 20mg", 20, 1)
    | {
        "pregnancy_tests": [{"date": "2026-11-22", "result": "negative"}],
    },
    "acitretin": _case("UK-PPP", "Neotigason 25mg capsules", 25, 1)
    | {
        "pregnancy_tests": [{"date": "2026-11-22", "result": "negative"}],
    },
    "valproate": _case("UK-PPP", "Epilim Chrono 500", 500, 2),
}


def _other(pack: str, methods: list[str], medicines: list[str]) -> Assessment:
    data = copy.deepcopy(OTHER_PACK_CASES[pack])
    data["prescription"].pop("indication", None)
    data["contraception"] = methods
    data["medicines"] = medicines
    case = case_from_dict(data, source=pack)
    kb = load_pack(pack_for(case.prescription.medicine))
    assert kb.medicine == pack
    return assess(case, kb)


@pytest.mark.parametrize("pack", sorted(set(names()) - {PACK}))
def test_another_packs_patient_on_topiramate_is_rechecked(pack: str) -> None:
    """Topiramate 200 mg a day on the medicine list weakens the implant and the pill for every
    pack's patient (the shared class's threshold); 50 mg a day does not; an IUD is untouched."""
    if pack not in OTHER_PACK_CASES:
        pytest.skip(f"no base case for the {pack} pack here")
    methods = ["Nexplanon", "condoms"]
    high = _other(pack, methods, ["Topamax 100mg twice daily"])
    assert "contraception.weakened" in {f.code for f in high.findings}, pack
    low = _other(pack, methods, ["topiramate 25mg twice daily"])
    assert "contraception.weakened" not in {f.code for f in low.findings}, pack
    iud = _other(pack, ["copper IUD"], ["Topamax 100mg twice daily"])
    assert "contraception.weakened" not in {f.code for f in iud.findings}, pack
