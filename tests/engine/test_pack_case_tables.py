"""The case tables of the acitretin and valproate packs: each rule in both directions, in every
rule set and version the pack has, through ``assess`` and the real pack files.

To add a pack: give it base cases in ``BASES`` (one per rule set, both patient categories) and
rows below. ``test_every_rule_set_version_of_the_packs_is_in_a_table`` fails until every version
of the new pack appears in some row.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from pharmacist_tool.case import case_from_dict
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_knowledge_base, load_pack
from pharmacist_tool.knowledge.packs import pack_for

PACKS = ("acitretin", "valproate")


def _case(rule_set: str, medicine: str, strength: float, **patient: Any) -> dict[str, Any]:
    return {
        "format": "pharmacist-tool/case@1",
        "rule_set": rule_set,
        "counselled_on": "2026-11-25",
        "patient": {
            "name": "Robin Patel",
            "date_of_birth": "1994-05-17",
            "weight_kg": 45,
            "can_get_pregnant": True,
        }
        | patient,
        "prescription": {
            "medicine": medicine,
            "strength_mg": strength,
            "units_per_dose": 1,
            "doses_per_day": 1,
            "days_supply": 30,
            "quantity": 30,
            "prescribed_on": "2026-11-23",
            "prescriber": "Dr L. Okafor",
        },
        "pregnancy_tests": [{"date": "2026-11-22", "result": "negative"}],
        "contraception": ["copper IUD", "male condom"],
        "medicines": [],
        "alcohol": "none",
    }


def _cannot(case: dict[str, Any], **patient: Any) -> dict[str, Any]:
    out = copy.deepcopy(case)
    out["patient"] |= {"can_get_pregnant": False} | patient
    out["pregnancy_tests"] = []
    out["contraception"] = []
    return out


ACI_US = _case("US-label", "Soriatane 25 mg", 25)
ACI_UK = _case("UK-PPP", "Neotigason 25mg capsules", 25)
ACI_EU = _case("EU-PPP", "acitretin", 25)
VAL_UK = _case("UK-PPP", "Epilim Chrono 500", 500) | {"pregnancy_tests": []}
VAL_UK["prescription"] |= {"doses_per_day": 2, "quantity": 60}
VAL_US = copy.deepcopy(VAL_UK) | {"rule_set": "US-label"}
VAL_US["prescription"]["medicine"] = "Depakote 500 mg"

BASES: dict[str, dict[str, Any]] = {
    "ACI_US": ACI_US,
    "ACI_US_NO": _cannot(ACI_US),
    "ACI_UK": ACI_UK,
    "ACI_UK_NO": _cannot(ACI_UK),
    "ACI_EU": ACI_EU,
    "ACI_EU_NO": _cannot(ACI_EU),
    "VAL_UK": VAL_UK,
    "VAL_UK_MAN": _cannot(VAL_UK, sex="male"),
    "VAL_UK_NO": _cannot(VAL_UK),
    "VAL_US": VAL_US,
    "VAL_US_NO": _cannot(VAL_US, sex="male"),
}


@dataclass
class Row:
    id: str
    base: str
    changes: dict[str, Any] = field(default_factory=dict)
    has: list[tuple[str, str]] = field(default_factory=list)
    """(code, severity) that must be found."""
    none: list[str] = field(default_factory=list)
    """Codes that must not be found; ``*:warn`` — nothing of warn or above."""
    dispense: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    checklist_has: list[str] = field(default_factory=list)
    checklist_none: list[str] = field(default_factory=list)
    programme_rule: dict[str, bool] = field(default_factory=dict)


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


TEST = "pregnancy_tests"
MEDS = "medicines"
METHODS = "contraception"
NEG = [{"date": "2026-11-22", "result": "negative"}]
POS = [{"date": "2026-11-24", "result": "positive"}]
ACI = ("ACI_US", "ACI_UK", "ACI_EU")
ACI_NO = ("ACI_US_NO", "ACI_UK_NO", "ACI_EU_NO")

ROWS: list[Row] = []
# -- acitretin: every rule set ------------------------------------------------------------------
for b in ACI + ACI_NO:
    ROWS += [
        Row(f"{b}-routine", b, has=[("counselling.take-with-main-meal", "info")], none=["*:warn"]),
        Row(
            f"{b}-doxycycline",
            b,
            {MEDS: ["Doxy 100mg"]},
            has=[("interaction.tetracyclines", "block")],
            dispense="do-not-dispense",
        ),
        Row(f"{b}-cetirizine", b, {MEDS: ["cetirizine 10 mg"]}, none=["category:interaction"]),
        Row(
            f"{b}-methotrexate",
            b,
            {MEDS: ["methotrexate 15 mg weekly"]},
            has=[("interaction.methotrexate", "block")],
        ),
        Row(
            f"{b}-vitamin-a",
            b,
            {MEDS: ["vitamin A 10000 IU"]},
            has=[("interaction.vitamin-a", "block")],
        ),
        Row(f"{b}-retinol-cream", b, {MEDS: ["retinol cream"]}, none=["interaction.vitamin-a"]),
        Row(
            f"{b}-isotretinoin",
            b,
            {MEDS: ["isotretinoin 20 mg"]},
            has=[("interaction.other-retinoids", "block")],
        ),
        Row(
            f"{b}-tretinoin-cream",
            b,
            {MEDS: ["tretinoin cream"]},
            none=["interaction.other-retinoids"],
        ),
        Row(
            f"{b}-dose-75",
            b,
            {"prescription.units_per_dose": 3, "prescription.quantity": 90},
            has=[("dose.above-usual", "warn")],
            none=["dose.above-max"],
        ),
        Row(
            f"{b}-dose-100",
            b,
            {"prescription.units_per_dose": 4, "prescription.quantity": 120},
            has=[("dose.above-max", "block")],
        ),
        Row(
            f"{b}-dose-10", b, {"prescription.strength_mg": 10}, has=[("dose.below-usual", "info")]
        ),
        Row(
            f"{b}-twice-daily",
            b,
            {"prescription.doses_per_day": 2, "prescription.quantity": 60},
            has=[("dose.more-than-once-daily", "warn")],
        ),
        Row(
            f"{b}-age-16",
            b,
            {"patient.date_of_birth": "2010-05-17"},
            has=[("safety.child", "warn")],
        ),
        Row(f"{b}-age-18", b, {"patient.date_of_birth": "2008-11-25"}, none=["safety.child"]),
        Row(f"{b}-blood-donation", b, checklist_has=["blood-donation", "never-share"]),
    ]
for b in ACI:
    ROWS += [
        Row(
            f"{b}-alcohol-occasional",
            b,
            {"alcohol": "occasional"},
            has=[("counselling.alcohol-forbidden", "warn")],
            dispense="needs-action",
            checklist_has=["no-alcohol", "contraception"],
        ),
        Row(
            f"{b}-alcohol-resolved",
            b,
            {
                "alcohol": "occasional",
                "resolutions": {"counselling.alcohol-forbidden": "Agreed: none"},
            },
            dispense="ok",
        ),
        Row(
            f"{b}-positive",
            b,
            {TEST: NEG + POS},
            has=[("pregnancy-test.positive", "block")],
            dispense="do-not-dispense",
        ),
        Row(
            f"{b}-condom-only",
            b,
            {METHODS: ["condoms"]},
            has=[("contraception.rule-not-met", "block")],
        ),
        Row(
            f"{b}-implant-and-condom",
            b,
            {METHODS: ["Nexplanon", "condoms"]},
            none=["contraception.rule-not-met"],
        ),
        Row(
            f"{b}-days-31",
            b,
            {"prescription.days_supply": 31, "prescription.quantity": 31},
            has=[("prescription.days-supply-over-limit", "block")],
        ),
        Row(
            f"{b}-refill",
            b,
            {"prescription.refills": 1},
            has=[("prescription.refills-not-allowed", "block")],
        ),
        Row(
            f"{b}-st-johns-wort",
            b,
            {METHODS: ["the pill", "condoms"], MEDS: ["St John's wort"]},
            has=[("interaction.st-johns-wort", "warn"), ("contraception.weakened", "block")],
        ),
    ]
for b in ACI_NO:
    ROWS += [
        Row(
            f"{b}-alcohol-occasional",
            b,
            {"alcohol": "occasional"},
            none=["category:counselling:warn"],
            checklist_none=["no-alcohol", "contraception", "pregnancy-tests"],
        ),
        Row(
            f"{b}-alcohol-regular",
            b,
            {"alcohol": "regular"},
            has=[("counselling.alcohol-regular", "info")],
        ),
        Row(f"{b}-no-test-needed", b, none=["category:pregnancy-prevention"], dispense="ok"),
        Row(
            f"{b}-days-60",
            b,
            {"prescription.days_supply": 60, "prescription.quantity": 60},
            none=["prescription.days-supply-over-limit"],
        ),
        Row(
            f"{b}-refills-allowed",
            b,
            {"prescription.refills": 2},
            none=["prescription.refills-not-allowed"],
        ),
    ]
ROWS += [
    # US label: two methods (one primary) or abstinence; a monthly test; not a programme (blocks
    # clear with a resolution)
    Row(
        "ACI_US-version",
        "ACI_US",
        fields={
            "rules_version": "acitretin-us-label",
            "pick_up_by": None,
            "next_pregnancy_test_due": "2026-12-22",
        },
        checklist_has=["medication-guide"],
        checklist_none=["patient-card"],
    ),
    Row(
        "ACI_US-iud-alone",
        "ACI_US",
        {METHODS: ["copper IUD"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "ACI_US-abstinence",
        "ACI_US",
        {METHODS: ["abstinence"]},
        none=["contraception.rule-not-met"],
    ),
    Row(
        "ACI_US-no-test",
        "ACI_US",
        {TEST: []},
        has=[("pregnancy-test.missing", "block")],
        programme_rule={"pregnancy-test.missing": False},
        dispense="do-not-dispense",
    ),
    Row(
        "ACI_US-no-test-resolved",
        "ACI_US",
        {
            TEST: [],
            "resolutions": {"pregnancy-test.missing": "Prescriber: negative test 2026-11-21"},
        },
        dispense="ok",
    ),
    Row(
        "ACI_US-old-test-ok",
        "ACI_US",
        {TEST: [{"date": "2026-11-01", "result": "negative"}]},
        none=["pregnancy-test.too-old"],
    ),
    Row(
        "ACI_US-no-window",
        "ACI_US",
        {"prescription.prescribed_on": "2026-10-30"},
        none=["prescription.pick-up-window-closed"],
    ),
    # UK and EU: the oral-retinoid PPP
    Row(
        "ACI_UK-version",
        "ACI_UK",
        fields={
            "rules_version": "acitretin-uk-ppp-2018",
            "pick_up_by": "2026-11-29",
            "next_pregnancy_test_due": "2026-12-20",
        },
        checklist_has=["patient-card"],
        checklist_none=["medication-guide"],
    ),
    Row("ACI_EU-version", "ACI_EU", fields={"rules_version": "acitretin-eu-ppp-2018"}),
    Row(
        "ACI_UK-iud-alone", "ACI_UK", {METHODS: ["copper IUD"]}, none=["contraception.rule-not-met"]
    ),
    Row(
        "ACI_EU-abstinence",
        "ACI_EU",
        {METHODS: ["abstinence"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "ACI_UK-no-test",
        "ACI_UK",
        {TEST: [], "resolutions": {"pregnancy-test.missing": "x"}},
        has=[("pregnancy-test.missing", "block")],
        programme_rule={"pregnancy-test.missing": True},
        dispense="do-not-dispense",
    ),
    Row(
        "ACI_UK-test-5-days",
        "ACI_UK",
        {TEST: [{"date": "2026-11-18", "result": "negative"}]},
        has=[("pregnancy-test.too-old", "block")],
    ),
    Row(
        "ACI_EU-test-3-days",
        "ACI_EU",
        {TEST: [{"date": "2026-11-20", "result": "negative"}]},
        none=["pregnancy-test.too-old"],
    ),
    Row(
        "ACI_UK-day-8",
        "ACI_UK",
        {"counselled_on": "2026-11-30"},
        has=[("prescription.pick-up-window-closed", "block")],
    ),
    Row(
        "ACI_EU-day-7",
        "ACI_EU",
        {"counselled_on": "2026-11-29"},
        none=["prescription.pick-up-window-closed"],
    ),
    Row(
        "ACI_UK_NO-no-window",
        "ACI_UK_NO",
        {"counselled_on": "2026-12-20"},
        none=["prescription.pick-up-window-closed"],
    ),
]
# -- valproate ----------------------------------------------------------------------------------
ROWS += [
    Row(
        "VAL_UK-routine",
        "VAL_UK",
        none=["*:warn"],
        dispense="ok",
        fields={
            "rules_version": "valproate-uk-ppp-2018",
            "pick_up_by": None,
            "next_pregnancy_test_due": None,
        },
        checklist_has=[
            "risk-acknowledgement",
            "whole-pack",
            "patient-card",
            "contraception",
            "if-pregnant",
        ],
        checklist_none=["men-contraception", "medication-guide"],
    ),
    Row(
        "VAL_US-routine",
        "VAL_US",
        none=["*:warn"],
        fields={"rules_version": "valproate-us-label"},
        checklist_has=["medication-guide", "contraception"],
        checklist_none=["risk-acknowledgement", "whole-pack"],
    ),
    Row("VAL_UK-no-test-needed", "VAL_UK", {TEST: []}, none=["category:pregnancy-prevention"]),
    Row(
        "VAL_UK-positive",
        "VAL_UK",
        {TEST: POS},
        has=[("pregnancy-test.positive", "warn")],
        dispense="needs-action",
    ),
    Row(
        "VAL_US-positive",
        "VAL_US",
        {TEST: POS},
        has=[("pregnancy-test.positive", "warn")],
        none=["*:block"],
    ),
    Row(
        "VAL_UK-no-contraception",
        "VAL_UK",
        {METHODS: []},
        has=[("contraception.rule-not-met", "warn")],
        none=["*:block"],
        dispense="needs-action",
    ),
    Row(
        "VAL_UK-referred",
        "VAL_UK",
        {METHODS: [], "resolutions": {"contraception.rule-not-met": "Referred to GP"}},
        dispense="ok",
    ),
    Row(
        "VAL_UK-condoms-only",
        "VAL_UK",
        {METHODS: ["condoms"]},
        has=[("contraception.rule-not-met", "warn")],
    ),
    Row("VAL_UK-coil", "VAL_UK", {METHODS: ["Mirena"]}, none=["contraception.rule-not-met"]),
    Row("VAL_US-no-contraception", "VAL_US", {METHODS: []}, none=["category:pregnancy-prevention"]),
    Row(
        "VAL_UK-pill-and-condoms",
        "VAL_UK",
        {METHODS: ["combined pill", "condoms"]},
        has=[("interaction.oestrogens", "warn")],
        none=["contraception.rule-not-met"],
    ),
    Row(
        "VAL_UK-copper-coil-no-oestrogen",
        "VAL_UK",
        {METHODS: ["copper coil"]},
        none=["interaction.oestrogens"],
    ),
    Row(
        "VAL_UK_NO-hrt",
        "VAL_UK_NO",
        {MEDS: ["Evorel patch"]},
        has=[("interaction.oestrogens", "warn")],
    ),
    Row(
        "VAL_UK-meropenem",
        "VAL_UK",
        {MEDS: ["meropenem 1 g"]},
        has=[("interaction.carbapenems", "warn")],
        none=["*:block"],
    ),
    Row(
        "VAL_US_NO-ertapenem",
        "VAL_US_NO",
        {MEDS: ["Invanz"]},
        has=[("interaction.carbapenems", "warn")],
    ),
    Row(
        "VAL_UK-amoxicillin",
        "VAL_UK",
        {MEDS: ["amoxicillin 500 mg"]},
        none=["category:interaction"],
    ),
    Row(
        "VAL_UK_MAN-lamotrigine",
        "VAL_UK_MAN",
        {MEDS: ["Lamictal 100mg"]},
        has=[("interaction.lamotrigine", "warn")],
    ),
    Row(
        "VAL_US-carbamazepine",
        "VAL_US",
        {MEDS: ["carbamazepine 200 mg"]},
        has=[("interaction.enzyme-inducing-antiepileptics", "warn")],
    ),
    Row(
        "VAL_UK-carbamazepine-pill",
        "VAL_UK",
        {METHODS: ["the pill", "condoms"], MEDS: ["Tegretol"]},
        has=[("contraception.weakened", "warn")],
        none=["*:block"],
    ),
    Row(
        "VAL_UK-duplicate",
        "VAL_UK",
        {MEDS: ["sodium valproate 200 mg"]},
        has=[("interaction.duplicate-valproate", "warn")],
    ),
    Row(
        "VAL_UK_NO-90-days",
        "VAL_UK_NO",
        {"prescription.days_supply": 90, "prescription.quantity": 180, "prescription.refills": 3},
        none=["category:prescription:warn"],
    ),
    Row(
        "VAL_UK-dose-high",
        "VAL_UK",
        {"prescription.units_per_dose": 2, "prescription.quantity": 120},
        has=[("dose.above-usual", "warn")],
    ),
    Row(
        "VAL_UK-dose-max",
        "VAL_UK",
        {
            "prescription.units_per_dose": 3,
            "prescription.doses_per_day": 2,
            "prescription.quantity": 180,
        },
        has=[("dose.above-max", "block")],
    ),
    Row(
        "VAL_UK-four-times",
        "VAL_UK",
        {
            "prescription.doses_per_day": 4,
            "prescription.quantity": 120,
            "prescription.strength_mg": 200,
        },
        has=[("dose.more-doses-than-usual", "warn")],
    ),
    Row(
        "VAL_UK-once-daily",
        "VAL_UK",
        {
            "prescription.doses_per_day": 1,
            "prescription.quantity": 30,
            "prescription.units_per_dose": 2,
        },
        none=["dose.fewer-doses-than-usual", "dose.more-doses-than-usual"],
    ),
    # advice for men: shown for a man, and when sex is not given for a patient who cannot get
    # pregnant; never for a woman
    Row(
        "VAL_UK_MAN-advice",
        "VAL_UK_MAN",
        checklist_has=["men-contraception", "do-not-stop"],
        checklist_none=["contraception", "risk-acknowledgement"],
    ),
    Row("VAL_UK_NO-advice-sex-unknown", "VAL_UK_NO", checklist_has=["men-contraception"]),
    Row(
        "VAL_UK_NO-woman-no-advice",
        "VAL_UK_NO",
        {"patient.sex": "female"},
        checklist_none=["men-contraception"],
    ),
    Row("VAL_UK-woman-no-advice", "VAL_UK", checklist_none=["men-contraception"]),
    Row("VAL_US_NO-man-advice", "VAL_US_NO", checklist_has=["men-contraception"]),
]

RANK = {"info": 0, "warn": 1, "block": 2}


def _problems(row: Row, assessment: Assessment) -> list[str]:
    problems = []
    by_code = {f.code: f for f in assessment.findings}
    for code, severity in row.has:
        if code not in by_code:
            problems.append(f"missing {code}")
        elif by_code[code].severity != severity:
            problems.append(f"{code} is {by_code[code].severity}, wanted {severity}")
    for absent in row.none:
        if absent.startswith("*:"):
            extra = [f.code for f in assessment.findings if RANK[f.severity] >= RANK[absent[2:]]]
        elif absent.startswith("category:"):
            _, category, *floor = absent.split(":")
            extra = [
                f.code
                for f in assessment.findings
                if f.category == category and (not floor or RANK[f.severity] >= RANK[floor[0]])
            ]
        else:
            extra = [absent] if absent in by_code else []
        if extra:
            problems.append(f"unexpected {absent}: {extra}")
    if row.dispense and assessment.dispense != row.dispense:
        problems.append(f"dispense {assessment.dispense}, wanted {row.dispense}")
    for name, wanted in row.fields.items():
        got: Any = (
            assessment.knowledge_base.rules_version
            if name == "rules_version"
            else getattr(assessment, name)
        )
        got = got.isoformat() if hasattr(got, "isoformat") else got
        if got != wanted:
            problems.append(f"{name} = {got!r}, wanted {wanted!r}")
    items = {c.id for c in assessment.checklist}
    problems += [f"checklist lacks {i}" for i in row.checklist_has if i not in items]
    problems += [f"checklist has {i}" for i in row.checklist_none if i in items]
    for code, wanted_rule in row.programme_rule.items():
        if code in by_code and by_code[code].programme_rule != wanted_rule:
            problems.append(f"{code}.programme_rule is {by_code[code].programme_rule}")
    return problems


def _assess(row: Row) -> Assessment:
    data = build(row.base, row.changes)
    data["checklist"] = dict.fromkeys([i.id for p in PACKS for i in load_pack(p).checklist], True)
    case = case_from_dict(data, source=row.id)
    return assess(case, load_pack(pack_for(case.prescription.medicine)))


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_pack_case_table(row: Row) -> None:
    assessment = _assess(row)
    summary = [f"{f.code}/{f.severity}/{f.subject}" for f in assessment.findings]
    assert not (problems := _problems(row, assessment)), f"{problems}\nfindings: {summary}"


def test_every_rule_set_version_of_the_packs_is_in_a_table() -> None:
    assert len({r.id for r in ROWS}) == len(ROWS)
    seen = {(a.knowledge_base.medicine, a.knowledge_base.rules_version) for a in map(_assess, ROWS)}
    wanted = {(p, v.id) for p in PACKS for r in load_pack(p).rule_sets for v in r.versions}
    assert seen == wanted


@pytest.mark.parametrize(
    ("pack", "medicine", "rule_set", "has"),
    [
        ("acitretin", "Soriatane", "US-iPLEDGE", "US-label, UK-PPP, EU-PPP"),
        ("valproate", "Epilim", "EU-PPP", "UK-PPP, US-label"),
    ],
)
def test_a_rule_set_the_pack_lacks_is_refused_naming_those_it_has(
    pack: str, medicine: str, rule_set: str, has: str
) -> None:
    data = build("ACI_US", {"rule_set": rule_set, "prescription.medicine": medicine})
    case = case_from_dict(data)
    with pytest.raises(UserError, match=rf"{rule_set}.*{pack} pack \(known: {has}\)"):
        assess(case, load_pack(pack_for(medicine)))


def test_the_assessment_names_the_pack() -> None:
    for base, pack in [("ACI_UK", "acitretin"), ("VAL_US", "valproate")]:
        assessment = _assess(Row("x", base))
        assert assessment.knowledge_base.medicine == pack
        assert assessment.knowledge_base.version == load_knowledge_base(pack).version
