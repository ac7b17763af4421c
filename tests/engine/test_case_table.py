"""The case table: rules from the facts file, both directions, in every rule set and version.

Each row starts from a base case (an example from ``tests/fixtures/examples``), applies a few
changes and states what must be found, what must not, and the verdict. Codes name findings; a
``none`` entry may also be ``category:<name>`` (no finding of that category at all).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from pharmacist_tool.case import case_from_dict
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.knowledge import KnowledgeBase, load_knowledge_base
from tests.conftest import EXAMPLES

KB = load_knowledge_base()

ALL_CHECKS_DONE = {
    item.id: True for item in KB.checklist
}  # more ids than any one case needs: harmless


def _example(prefix: str) -> dict[str, Any]:
    (path,) = EXAMPLES.glob(f"{prefix}*.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


US = _example("01")  # US iPLEDGE, can get pregnant, counselled 2026-11-25, test 2026-11-21
US_NO = _example("02") | {"medicines": ["cetirizine 10 mg"]}  # cannot get pregnant
UK = _example("06")  # UK PPP, can get pregnant, prescribed 2026-11-23, test 2026-11-22
UK_NO = copy.deepcopy(UK)
UK_NO["patient"]["can_get_pregnant"] = False
UK_NO["pregnancy_tests"] = []
UK_NO["contraception"] = []
EU = UK | {"rule_set": "EU-PPP"}
EU_NO = UK_NO | {"rule_set": "EU-PPP"}

BASES = {"US": US, "US_NO": US_NO, "UK": UK, "UK_NO": UK_NO, "EU": EU, "EU_NO": EU_NO}


@dataclass
class Row:
    id: str
    base: str
    changes: dict[str, Any] = field(default_factory=dict)
    has: list[tuple[str, str] | tuple[str, str, str]] = field(default_factory=list)
    none: list[str] = field(default_factory=list)
    dispense: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    effective_dates: dict[str, dt.date] = field(default_factory=dict)


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

ROWS = [
    # -- US iPLEDGE, 2026 modification in force (counselled 2026-11-25) ---------------------------
    Row(
        "us-routine",
        "US",
        none=["*:warn"],
        dispense="needs-action",
        fields={
            "pick_up_by": "2026-11-27",
            "next_pregnancy_test_due": "2026-12-21",
            "dose_mg_per_kg_per_day": 0.65,
            "daily_dose_mg": 40,
            "rules_version": "us-ipledge-2026",
        },
    ),
    Row("us-routine-checklist-done", "US", {"checklist": ALL_CHECKS_DONE}, dispense="ok"),
    Row(
        "us-authorization-missing",
        "US",
        {"prescription.authorization": ...},
        has=[("prescription.authorization-missing", "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "us-authorization-blank",
        "US",
        {"prescription.authorization": "   "},
        has=[("prescription.authorization-missing", "block")],
    ),
    Row(
        "us-authorization-block-not-cleared-by-resolution",
        "US",
        {
            "prescription.authorization": ...,
            "checklist": ALL_CHECKS_DONE,
            "resolutions": {"prescription.authorization-missing": "patient says it is fine"},
        },
        has=[("prescription.authorization-missing", "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "us-window-closed",
        "US",
        {TEST: [{"date": "2026-11-18", "result": "negative"}]},
        has=[("prescription.pick-up-window-closed", "block")],
        dispense="do-not-dispense",
        fields={"pick_up_by": "2026-11-24"},
    ),
    Row(
        "us-home-test-before-first-fill",
        "US",
        {TEST: [{"date": "2026-11-21", "result": "negative", "setting": "home"}]},
        has=[
            ("pregnancy-test.home-not-accepted", "warn"),
            ("pregnancy-test.missing", "block"),
        ],
        dispense="do-not-dispense",
    ),
    Row(
        "us-home-test-at-a-later-fill",
        "US",
        {
            TEST: [{"date": "2026-11-21", "result": "negative", "setting": "home"}],
            "course": {"fill_number": 2, "previous_fill_on": "2026-10-22"},
        },
        none=["pregnancy-test.home-not-accepted", "pregnancy-test.missing"],
        fields={"pick_up_by": "2026-11-27"},
    ),
    Row(
        "us-window-last-day-still-open",
        "US",
        {TEST: [{"date": "2026-11-19", "result": "negative"}]},
        none=["prescription.pick-up-window-closed"],
        fields={"pick_up_by": "2026-11-25"},
    ),
    Row(
        "us-days-supply-over-30",
        "US",
        {"prescription.days_supply": 31, "prescription.quantity": 62},
        has=[
            ("prescription.days-supply-over-limit", "block"),
            ("prescription.quantity-over-limit", "block"),
        ],
    ),
    Row(
        "us-days-supply-30-ok",
        "US",
        {"prescription.days_supply": 28, "prescription.quantity": 56},
        none=["prescription.days-supply-over-limit", "prescription.quantity-mismatch"],
    ),
    Row(
        "us-refills-not-allowed",
        "US",
        {"prescription.refills": 1},
        has=[("prescription.refills-not-allowed", "block")],
    ),
    Row(
        "us-quantity-over-limit",
        "US",
        {"prescription.quantity": 70},
        has=[
            ("prescription.quantity-over-limit", "block"),
            ("prescription.quantity-mismatch", "warn"),
        ],
    ),
    Row(
        "us-quantity-mismatch-only",
        "US",
        {"prescription.quantity": 50},
        has=[("prescription.quantity-mismatch", "warn")],
        none=["prescription.quantity-over-limit"],
    ),
    Row(
        "us-quantity-absent",
        "US",
        {"prescription.quantity": ...},
        none=["prescription.quantity-mismatch", "prescription.quantity-over-limit"],
    ),
    Row(
        "us-strength-not-made",
        "US",
        {"prescription.strength_mg": 15, "prescription.quantity": 60},
        has=[("prescription.strength-not-made", "warn")],
    ),
    Row(
        "us-absorica-ld",
        "US",
        {"prescription.medicine": "Absorica LD", "prescription.strength_mg": 16},
        has=[("prescription.not-substitutable", "info")],
        none=["counselling.take-with-food", "prescription.strength-not-made"],
        fields={"product": "Absorica LD"},
    ),
    Row(
        "us-absorica-ld-strength-40-not-made",
        "US",
        {"prescription.medicine": "absorica ld", "prescription.strength_mg": 40},
        has=[("prescription.strength-not-made", "warn"), ("dose.above-usual", "warn")],
    ),
    Row(
        "us-absorica",
        "US",
        {"prescription.medicine": "ABSORICA"},
        has=[("prescription.not-substitutable", "info")],
        none=["counselling.take-with-food"],
        fields={"product": "Absorica"},
    ),
    Row(
        "us-generic-take-with-food",
        "US",
        {"prescription.medicine": "Isotretinoin"},
        has=[("counselling.take-with-food", "info")],
        none=["prescription.not-substitutable"],
    ),
    Row(
        "us-under-12",
        "US",
        {"patient.date_of_birth": "2015-01-01"},
        has=[("safety.under-12", "warn")],
    ),
    Row(
        "us-age-13-no-under-12",
        "US",
        {"patient.date_of_birth": "2013-06-01"},
        none=["safety.under-12", "prescription.second-prescriber"],
    ),
    Row(
        "us-no-pregnancy-test",
        "US",
        {TEST: []},
        has=[("pregnancy-test.missing", "block")],
        fields={"pick_up_by": None, "next_pregnancy_test_due": None},
    ),
    Row(
        "us-positive-test",
        "US",
        {
            TEST: [
                {"date": "2026-10-20", "result": "negative"},
                {"date": "2026-11-21", "result": "positive"},
            ],
            "resolutions": {"pregnancy-test.positive": "patient says it was a mistake"},
        },
        has=[("pregnancy-test.positive", "block")],
        dispense="do-not-dispense",
        fields={"next_pregnancy_test_due": None},
    ),
    Row(
        # a positive then a negative: the prescriber must explain it (silent before December 2026)
        "us-old-positive-then-negative",
        "US",
        {
            TEST: [
                {"date": "2026-09-01", "result": "positive"},
                {"date": "2026-11-21", "result": "negative"},
            ]
        },
        has=[("pregnancy-test.positive-then-negative", "warn")],
        none=["pregnancy-test.positive"],
        dispense="needs-action",
    ),
    Row(
        "us-same-day-positive-wins",
        "US",
        {
            TEST: [
                {"date": "2026-11-21", "result": "negative"},
                {"date": "2026-11-21", "result": "positive"},
            ]
        },
        has=[("pregnancy-test.positive", "block")],
    ),
    Row("us-no-contraception", "US", {METHODS: []}, has=[("contraception.rule-not-met", "block")]),
    Row(
        "us-one-primary-only",
        "US",
        {METHODS: ["copper IUD"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "us-two-secondary",
        "US",
        {METHODS: ["condoms", "diaphragm with spermicide"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "us-same-method-twice-is-one",
        "US",
        {METHODS: ["condoms", "male condom"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "us-the-pill-and-condoms",
        "US",
        {METHODS: ["the pill", "condoms"]},
        has=[("contraception.confirm-method", "info", "the pill")],
        none=["contraception.rule-not-met"],
    ),
    Row(
        "us-yaz-and-condoms",
        "US",
        {METHODS: ["Yaz", "Trojan condoms"]},
        none=["contraception.rule-not-met", "contraception.confirm-method"],
    ),
    Row(
        "us-abstinence",
        "US",
        {METHODS: ["Committed abstinence"]},
        none=["category:pregnancy-prevention"],
    ),
    Row(
        "us-100-percent-abstinent",
        "US",
        {METHODS: ["100% abstinent"]},
        none=["contraception.rule-not-met"],
    ),
    Row(
        "us-minipill-and-condoms",
        "US",
        {METHODS: ["Slynd", "condoms"]},
        has=[
            ("contraception.rule-not-met", "block"),
            ("contraception.method-not-accepted", "warn", "Slynd"),
        ],
    ),
    Row(
        "us-female-condom-and-iud",
        "US",
        {METHODS: ["female condom", "Paragard"]},
        has=[
            ("contraception.rule-not-met", "block"),
            ("contraception.method-not-accepted", "warn"),
        ],
    ),
    Row(
        "us-withdrawal-and-implant",
        "US",
        {METHODS: ["withdrawal", "Nexplanon"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "us-emergency-pill-not-a-method",
        "US",
        {METHODS: ["Plan B", "condoms"]},
        has=[
            ("contraception.rule-not-met", "block"),
            ("contraception.method-not-accepted", "warn", "Plan B"),
        ],
    ),
    Row(
        "us-unrecognised-method",
        "US",
        {METHODS: ["copper IUD", "condoms", "herbal tea"]},
        has=[("contraception.unrecognised", "warn", "herbal tea")],
        none=["contraception.rule-not-met"],
    ),
    Row(
        "us-no-risk-agreement-not-in-us",
        "US",
        {METHODS: ["no pregnancy risk agreement"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "us-minipill-extra-to-a-valid-pair-is-info",
        "US",
        {METHODS: ["Mirena", "condoms", "minipill"]},
        has=[("contraception.method-not-accepted", "info", "minipill")],
        none=["contraception.rule-not-met", "contraception.method-not-accepted:warn"],
    ),
    Row(
        "us-two-names-for-one-pill-are-one-method",
        "US",
        {METHODS: ["the pill", "Yaz"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "us-coil-named-twice-is-one-method",
        "US",
        {METHODS: ["the coil", "Mirena"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "us-ring-and-sponge",
        "US",
        {METHODS: ["NuvaRing", "sponge"]},
        none=["contraception.rule-not-met"],
    ),
    Row(
        "us-depo-and-cap",
        "US",
        {METHODS: ["Depo-Provera", "cervical cap"]},
        none=["contraception.rule-not-met"],
    ),
    Row(
        "us-patch-and-vasectomy",
        "US",
        {METHODS: ["Xulane patch", "partner's vasectomy"]},
        none=["contraception.rule-not-met"],
    ),
    Row(
        "us-sjw-implant-condoms-fails-without-hormones",
        "US",
        {METHODS: ["Nexplanon", "condoms"], MEDS: ["St. John’s Wort 300 mg"]},
        has=[("interaction.st-johns-wort", "warn"), ("contraception.weakened", "block")],
        dispense="do-not-dispense",
    ),
    Row(
        # the facts block it: a typed resolution never clears it (it did before December 2026)
        "us-sjw-weakened-block-not-cleared-by-resolution",
        "US",
        {
            METHODS: ["Nexplanon", "condoms"],
            MEDS: ["St John's wort"],
            "checklist": ALL_CHECKS_DONE,
            "resolutions": {
                "contraception.weakened": "Stopped SJW; prescriber informed",
                "interaction.st-johns-wort": "Stopped",
            },
        },
        has=[("contraception.weakened", "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "us-sjw-weakened-cleared-by-stopping-it",
        "US",
        {METHODS: ["Nexplanon", "condoms"], MEDS: [], "checklist": ALL_CHECKS_DONE},
        none=["contraception.weakened", "category:pregnancy-prevention:warn"],
        dispense="ok",
    ),
    Row(
        "us-sjw-weakened-cleared-by-adding-a-method",
        "US",
        {
            METHODS: ["Nexplanon", "condoms", "copper IUD"],
            MEDS: ["St John's wort"],
            "checklist": ALL_CHECKS_DONE,
            "resolutions": {
                "contraception.weakened": "Relies on the copper IUD and condoms",
                "interaction.st-johns-wort": "Stopped",
            },
        },
        has=[("contraception.weakened", "warn")],
        dispense="ok",
    ),
    Row(
        "us-sjw-two-non-hormonal-methods",
        "US",
        {METHODS: ["copper IUD", "condoms"], MEDS: ["hypericum"]},
        has=[("interaction.st-johns-wort", "warn")],
        none=["contraception.weakened"],
    ),
    Row(
        "us-sjw-iud-pill-condoms-still-met",
        "US",
        {METHODS: ["copper IUD", "Yaz", "condoms"], MEDS: ["St Johns Wort"]},
        has=[("contraception.weakened", "warn")],
        none=["contraception.rule-not-met"],
    ),
    Row(
        "us-carbamazepine-weakens-pill",
        "US",
        {METHODS: ["Microgynon", "condoms"], MEDS: ["Tegretol 200mg"]},
        has=[("interaction.anticonvulsants-bone", "warn"), ("contraception.weakened", "block")],
    ),
    Row(
        "us-rifampin-weakens-pill",
        "US",
        {METHODS: ["combined pill", "condoms"], MEDS: ["rifampin 600 mg"]},
        has=[("interaction.enzyme-inducers", "info"), ("contraception.weakened", "block")],
    ),
    Row(
        "us-dose-below-usual",
        "US",
        {"prescription.strength_mg": 10, "prescription.quantity": 60},
        has=[("dose.below-usual", "info")],
        fields={"dose_mg_per_kg_per_day": 0.32},
    ),
    Row(
        "us-dose-above-usual",
        "US",
        {"prescription.strength_mg": 40},
        has=[("dose.above-usual", "warn")],
        none=["dose.above-max"],
        fields={"dose_mg_per_kg_per_day": 1.29},
    ),
    Row(
        "us-dose-at-max-is-warn",
        "US",
        {"prescription.strength_mg": 40, "patient.weight_kg": 40},
        has=[("dose.above-usual", "warn")],
        none=["dose.above-max"],
        fields={"dose_mg_per_kg_per_day": 2.0},
    ),
    Row(
        "us-dose-above-max",
        "US",
        {
            "prescription.strength_mg": 40,
            "prescription.units_per_dose": 2,
            "prescription.quantity": 120,
        },
        has=[("dose.above-max", "block")],
        fields={"dose_mg_per_kg_per_day": 2.58, "daily_dose_mg": 160},
    ),
    Row(
        "us-absorica-ld-above-usual",
        "US",
        {"prescription.medicine": "Absorica LD", "prescription.strength_mg": 32},
        has=[("dose.above-usual", "warn")],
        fields={"dose_mg_per_kg_per_day": 1.03},
    ),
    Row(
        "us-absorica-ld-usual",
        "US",
        {"prescription.medicine": "Absorica LD", "prescription.strength_mg": 24},
        none=["category:dose"],
        fields={"dose_mg_per_kg_per_day": 0.77},
    ),
    Row(
        "us-once-daily",
        "US",
        {
            "prescription.doses_per_day": 1,
            "prescription.strength_mg": 40,
            "prescription.quantity": 30,
        },
        has=[("dose.once-daily", "warn")],
        none=["prescription.quantity-mismatch"],
    ),
    Row(
        "us-three-times-daily",
        "US",
        {
            "prescription.doses_per_day": 3,
            "prescription.strength_mg": 10,
            "prescription.quantity": 90,
        },
        has=[("dose.more-than-twice-daily", "warn")],
    ),
    Row(
        "us-twice-daily-no-dosing-finding",
        "US",
        none=["dose.once-daily", "dose.more-than-twice-daily"],
    ),
    Row(
        "us-alcohol-regular",
        "US",
        {"alcohol": "regular"},
        has=[("counselling.alcohol-regular", "warn")],
    ),
    Row(
        "us-alcohol-occasional",
        "US",
        {"alcohol": "occasional"},
        has=[("counselling.alcohol-occasional", "info")],
        none=["counselling.alcohol-regular"],
    ),
    Row(
        "us-alcohol-none",
        "US",
        {"alcohol": "none"},
        none=["counselling.alcohol-regular", "counselling.alcohol-occasional"],
    ),
    Row(
        "us-doxy-abbreviation",
        "US",
        {MEDS: ["Doxy 100mg tabs"]},
        has=[("interaction.tetracyclines", "block", "Doxy")],
        dispense="do-not-dispense",
    ),
    Row(
        "us-minocin-brand",
        "US",
        {MEDS: ["Minocin 50"]},
        has=[("interaction.tetracyclines", "block")],
    ),
    Row(
        "us-misspelt-doxycycline",
        "US",
        {MEDS: ["doxycyclin 100"]},
        has=[("interaction.tetracyclines", "block")],
    ),
    Row(
        "us-tetracycline-resolved",
        "US",
        {
            MEDS: ["doxycycline 100 mg"],
            "checklist": ALL_CHECKS_DONE,
            "resolutions": {"interaction.tetracyclines": "Prescriber stopped doxycycline"},
        },
        has=[("interaction.tetracyclines", "block")],
        dispense="ok",
    ),
    Row(
        "us-vitamin-a",
        "US",
        {MEDS: ["vitamin A 10,000 IU"]},
        has=[("interaction.vitamin-a", "warn")],
    ),
    Row(
        "us-multivitamin",
        "US",
        {MEDS: ["Centrum multivitamin"]},
        has=[("interaction.multivitamins", "warn")],
    ),
    Row(
        "us-oral-steroid",
        "US",
        {MEDS: ["prednisolone 5mg"]},
        has=[("interaction.corticosteroids", "warn")],
    ),
    Row(
        "us-steroid-cream-and-eye-drops-quiet",
        "US",
        {MEDS: ["hydrocortisone cream 1%", "prednisolone eye drops", "fluticasone nasal spray"]},
        none=["category:interaction"],
    ),
    Row(
        "us-phenytoin",
        "US",
        {MEDS: ["Dilantin 100 mg"]},
        has=[("interaction.anticonvulsants-bone", "warn")],
    ),
    Row(
        "us-oral-retinoid",
        "US",
        {MEDS: ["acitretin 25 mg"]},
        has=[("interaction.oral-retinoids", "block")],
    ),
    Row(
        "us-isotretinoin-also-among-other-medicines",
        "US",
        {MEDS: ["Accutane 20mg from abroad"]},
        has=[("interaction.duplicate-isotretinoin", "warn", "Accutane")],
    ),
    Row(
        "us-topical-isotretinoin-is-no-duplicate",
        "US",
        {MEDS: ["isotretinoin gel 0.05%"]},
        none=["interaction.duplicate-isotretinoin"],
    ),
    Row(
        "us-topical-retinoid",
        "US",
        {MEDS: ["tretinoin cream 0.05%", "Differin gel"]},
        has=[
            ("interaction.topical-retinoids", "warn", "tretinoin"),
            ("interaction.topical-retinoids", "warn", "Differin"),
        ],
    ),
    Row(
        "us-keratolytic-info",
        "US",
        {MEDS: ["benzoyl peroxide wash 5%"]},
        has=[("interaction.keratolytics", "info")],
        none=["category:interaction:warn"],
    ),
    Row(
        "us-low-confidence-info",
        "US",
        {MEDS: ["warfarin 5mg", "orlistat", "ciprofloxacin 500"]},
        has=[
            ("interaction.warfarin", "info"),
            ("interaction.orlistat", "info"),
            ("interaction.photosensitising", "info"),
        ],
        none=["category:interaction:warn"],
    ),
    Row(
        "us-everyday-medicines-quiet",
        "US",
        {
            MEDS: [
                "ibuprofen 200 mg",
                "paracetamol",
                "Tylenol",
                "cetirizine",
                "loratadine",
                "omeprazole",
                "metformin 500mg",
                "levothyroxine 50 mcg",
                "sertraline",
                "salbutamol inhaler",
                "amoxicillin 500",
                "vitamin D3 1000 IU",
                "fish oil",
                "melatonin",
            ]
        },
        none=["category:interaction"],
    ),
    Row(
        "us-two-findings-stable-order",
        "US",
        {MEDS: ["vitamin A", "doxycycline"], "prescription.authorization": ...},
        has=[("interaction.tetracyclines", "block"), ("interaction.vitamin-a", "warn")],
    ),
    # -- US iPLEDGE before the 2026 modification ------------------------------------------------
    Row(
        "us2021-cannot-get-pregnant-visit-window-closed",
        "US_NO",
        {"counselled_on": "2026-11-10", "prescription.prescribed_on": "2026-10-01"},
        has=[("prescription.visit-window-closed", "block")],
        fields={"rules_version": "us-ipledge-2021", "pick_up_by": "2026-10-30"},
    ),
    Row(
        "us2021-cannot-get-pregnant-inside-window",
        "US_NO",
        {"counselled_on": "2026-11-10", "prescription.prescribed_on": "2026-11-01"},
        none=["prescription.visit-window-closed"],
        fields={"pick_up_by": "2026-11-30"},
    ),
    Row(
        "us2021-can-get-pregnant-7-day-window",
        "US",
        {
            "counselled_on": "2026-11-10",
            "prescription.prescribed_on": "2026-11-02",
            TEST: [{"date": "2026-11-02", "result": "negative"}],
        },
        has=[("prescription.pick-up-window-closed", "block")],
        fields={"rules_version": "us-ipledge-2021", "pick_up_by": "2026-11-08"},
    ),
    Row(
        "us2026-cannot-get-pregnant-no-window",
        "US_NO",
        {"prescription.prescribed_on": "2026-10-01"},
        none=["prescription.visit-window-closed"],
        fields={"pick_up_by": None, "next_pregnancy_test_due": None},
    ),
    Row(
        "us2026-date-moved-later-by-pharmacy",
        "US_NO",
        {"prescription.prescribed_on": "2026-10-01"},
        has=[("prescription.visit-window-closed", "block")],
        fields={"rules_version": "us-ipledge-2021"},
        effective_dates={"us-ipledge-2026": dt.date(2026, 12, 1)},
    ),
    Row(
        "us2026-date-moved-earlier-by-pharmacy",
        "US_NO",
        {"counselled_on": "2026-09-01", "prescription.prescribed_on": "2026-07-01"},
        none=["prescription.visit-window-closed"],
        fields={"rules_version": "us-ipledge-2026"},
        effective_dates={"us-ipledge-2026": dt.date(2026, 8, 8)},
    ),
    Row(
        "us-cannot-get-pregnant-quiet-on-pregnancy",
        "US_NO",
        {METHODS: [], TEST: []},
        none=["category:pregnancy-prevention"],
    ),
    Row(
        "us-cannot-get-pregnant-sjw-interaction-only",
        "US_NO",
        {MEDS: ["St John's wort"]},
        has=[("interaction.st-johns-wort", "warn")],
        none=["category:pregnancy-prevention"],
    ),
    Row(
        "us-cannot-get-pregnant-enzyme-inducer-quiet",
        "US_NO",
        {MEDS: ["rifampicin"]},
        none=["category:interaction"],
    ),
    Row(
        "us-cannot-get-pregnant-authorization-still-needed",
        "US_NO",
        {"prescription.authorization": ...},
        has=[("prescription.authorization-missing", "block")],
    ),
    Row(
        "us-cannot-get-pregnant-refills",
        "US_NO",
        {"prescription.refills": 2},
        has=[("prescription.refills-not-allowed", "block")],
    ),
    # -- UK PPP -----------------------------------------------------------------------------------
    Row(
        "uk-home-test-not-accepted",
        "UK",
        {TEST: [{"date": "2026-11-22", "result": "negative", "setting": "home"}]},
        has=[
            ("pregnancy-test.home-not-accepted", "warn"),
            ("pregnancy-test.missing", "block"),
        ],
        dispense="do-not-dispense",
    ),
    Row(
        "uk-routine",
        "UK",
        none=["*:block", "prescription.authorization-missing"],
        fields={
            "pick_up_by": "2026-11-29",
            "next_pregnancy_test_due": "2026-12-20",
            "rules_version": "uk-ppp-2026",
        },
    ),
    Row("uk-checklist-done-ok", "UK", {"checklist": ALL_CHECKS_DONE}, dispense="ok"),
    Row(
        "uk-prescription-expired",
        "UK",
        {
            "prescription.prescribed_on": "2026-11-17",
            TEST: [{"date": "2026-11-16", "result": "negative"}],
        },
        has=[("prescription.pick-up-window-closed", "block")],
        fields={"pick_up_by": "2026-11-23"},
    ),
    Row(
        "uk-prescription-last-valid-day",
        "UK",
        {
            "prescription.prescribed_on": "2026-11-19",
            TEST: [{"date": "2026-11-18", "result": "negative"}],
        },
        none=["prescription.pick-up-window-closed", "pregnancy-test.too-old"],
    ),
    Row(
        "uk-test-too-old",
        "UK",
        {TEST: [{"date": "2026-11-18", "result": "negative"}]},
        has=[("pregnancy-test.too-old", "block")],
    ),
    Row(
        "uk-test-3-days-before-ok",
        "UK",
        {TEST: [{"date": "2026-11-20", "result": "negative"}]},
        none=["pregnancy-test.too-old"],
    ),
    Row("uk-no-test", "UK", {TEST: []}, has=[("pregnancy-test.missing", "block")]),
    Row(
        "uk-positive-test",
        "UK",
        {TEST: [{"date": "2026-11-22", "result": "positive"}]},
        has=[("pregnancy-test.positive", "block")],
    ),
    Row(
        "uk-days-supply-over",
        "UK",
        {"prescription.days_supply": 31, "prescription.quantity": 62},
        has=[("prescription.days-supply-over-limit", "block")],
    ),
    Row(
        "uk-refills",
        "UK",
        {"prescription.refills": 1},
        has=[("prescription.refills-not-allowed", "block")],
    ),
    Row(
        "uk-cannot-get-pregnant-60-days-ok",
        "UK_NO",
        {"prescription.days_supply": 60, "prescription.quantity": 120, "prescription.refills": 2},
        none=["*:block"],
        fields={"pick_up_by": None, "next_pregnancy_test_due": None},
    ),
    Row(
        "uk-cannot-get-pregnant-quiet-on-pregnancy", "UK_NO", none=["category:pregnancy-prevention"]
    ),
    Row(
        "uk-copper-iud-alone", "UK", {METHODS: ["copper coil"]}, none=["contraception.rule-not-met"]
    ),
    Row("uk-implant-alone", "UK", {METHODS: ["Nexplanon"]}, none=["contraception.rule-not-met"]),
    Row(
        "uk-injection-alone-not-enough",
        "UK",
        {METHODS: ["Depo-Provera"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "uk-injection-and-condoms",
        "UK",
        {METHODS: ["Sayana Press", "condoms"]},
        none=["contraception.rule-not-met"],
    ),
    Row(
        "uk-pill-and-condoms",
        "UK",
        {METHODS: ["Microgynon", "condoms"]},
        none=["contraception.rule-not-met"],
    ),
    Row(
        "uk-condoms-alone",
        "UK",
        {METHODS: ["condoms"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        "uk-abstinence-alone-not-accepted",
        "UK",
        {METHODS: ["abstinence"]},
        has=[
            ("contraception.rule-not-met", "block"),
            ("contraception.method-not-accepted", "warn"),
        ],
    ),
    Row(
        "uk-no-risk-agreement",
        "UK",
        {METHODS: ["No pregnancy risk agreement"]},
        none=["contraception.rule-not-met", "contraception.method-not-accepted"],
    ),
    Row(
        # two complementary user-dependent methods under the UK programme (FSRH, MHRA 2019);
        # blocked before December 2026, when the US label's minipill rule was applied everywhere
        "uk-minipill-and-condoms",
        "UK",
        {METHODS: ["Cerazette", "condoms"], "checklist": ALL_CHECKS_DONE},
        none=["category:pregnancy-prevention"],
        dispense="ok",
    ),
    Row(
        "uk-sjw-implant-alone",
        "UK",
        {METHODS: ["Nexplanon"], MEDS: ["St John's wort"]},
        has=[("contraception.weakened", "block")],
    ),
    Row(
        "uk-sjw-copper-iud-and-pill",
        "UK",
        {METHODS: ["copper IUD", "the pill"], MEDS: ["St John's wort"]},
        has=[("contraception.weakened", "warn")],
    ),
    Row(
        "uk-keratolytic-warn",
        "UK",
        {MEDS: ["salicylic acid face wash"]},
        has=[("interaction.keratolytics", "warn")],
    ),
    Row(
        "uk-tetracycline-block",
        "UK",
        {MEDS: ["lymecycline 408mg"]},
        has=[("interaction.tetracyclines", "block")],
    ),
    Row(
        "uk-us-brand-product-market",
        "UK",
        {"prescription.medicine": "Claravis"},
        has=[("prescription.product-market", "info")],
    ),
    Row(
        "uk-roaccutane-is-known",
        "UK",
        {"prescription.medicine": "Roaccutane"},
        none=["prescription.product-market"],
    ),
    Row(
        "uk2023-under-18-second-prescriber",
        "UK",
        {
            "counselled_on": "2025-06-02",
            "prescription.prescribed_on": "2025-06-01",
            "patient.date_of_birth": "2009-01-01",
            TEST: [{"date": "2025-05-30", "result": "negative"}],
        },
        has=[("prescription.second-prescriber", "warn")],
        fields={"rules_version": "uk-ppp-2023"},
    ),
    Row(
        "uk2023-adult-no-second-prescriber",
        "UK",
        {
            "counselled_on": "2025-06-02",
            "prescription.prescribed_on": "2025-06-01",
            TEST: [{"date": "2025-05-30", "result": "negative"}],
        },
        none=["prescription.second-prescriber"],
    ),
    Row(
        "uk2026-under-18-no-second-prescriber",
        "UK",
        {"patient.date_of_birth": "2010-01-01"},
        none=["prescription.second-prescriber"],
    ),
    Row(
        "uk2018-under-18-no-second-prescriber",
        "UK",
        {
            "counselled_on": "2019-01-10",
            "prescription.prescribed_on": "2019-01-09",
            "patient.date_of_birth": "2003-01-01",
            TEST: [{"date": "2019-01-08", "result": "negative"}],
        },
        none=["prescription.second-prescriber"],
        fields={"rules_version": "uk-ppp-2018"},
    ),
    # -- EU PPP -----------------------------------------------------------------------------------
    Row(
        "eu-routine",
        "EU",
        none=["*:block", "prescription.authorization-missing"],
        fields={"rules_version": "eu-ppp-2018", "pick_up_by": "2026-11-29"},
    ),
    Row(
        "eu-prescription-expired",
        "EU",
        {
            "prescription.prescribed_on": "2026-11-10",
            TEST: [{"date": "2026-11-09", "result": "negative"}],
        },
        has=[("prescription.pick-up-window-closed", "block")],
    ),
    Row(
        "eu-test-too-old",
        "EU",
        {TEST: [{"date": "2026-11-01", "result": "negative"}]},
        has=[("pregnancy-test.too-old", "block")],
    ),
    Row(
        "eu-abstinence-alone",
        "EU",
        {METHODS: ["not sexually active"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row("eu-ius-alone", "EU", {METHODS: ["Kyleena"]}, none=["category:pregnancy-prevention"]),
    Row(
        "eu-days-supply-over",
        "EU",
        {"prescription.days_supply": 60, "prescription.quantity": 120},
        has=[("prescription.days-supply-over-limit", "block")],
    ),
    Row(
        "eu-keratolytic-warn",
        "EU",
        {MEDS: ["Epiduo gel"]},
        has=[("interaction.keratolytics", "warn"), ("interaction.topical-retinoids", "warn")],
    ),
    Row("eu-cannot-get-pregnant-quiet", "EU_NO", none=["*:block", "category:pregnancy-prevention"]),
    Row("eu-vitamin-a", "EU", {MEDS: ["cod liver oil"]}, has=[("interaction.vitamin-a", "warn")]),
    Row(
        "eu-refills",
        "EU",
        {"prescription.refills": 1},
        has=[("prescription.refills-not-allowed", "block")],
    ),
    Row(
        "eu-cannot-get-pregnant-refills-ok",
        "EU_NO",
        {"prescription.refills": 1},
        none=["prescription.refills-not-allowed"],
    ),
    Row("eu-no-test", "EU", {TEST: []}, has=[("pregnancy-test.missing", "block")]),
    Row(
        "eu-positive-test",
        "EU",
        {TEST: [{"date": "2026-11-22", "result": "positive"}]},
        has=[("pregnancy-test.positive", "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "eu-pill-and-condoms",
        "EU",
        {METHODS: ["Yasmin", "condoms"]},
        none=["category:pregnancy-prevention"],
    ),
    Row(
        "eu-condoms-alone",
        "EU",
        {METHODS: ["male condoms"]},
        has=[("contraception.rule-not-met", "block")],
    ),
    Row(
        # a user-dependent method: counted, but never enough alone
        "eu-minipill-alone",
        "EU",
        {METHODS: ["desogestrel"]},
        has=[("contraception.rule-not-met", "block")],
        none=["contraception.method-not-accepted"],
    ),
    Row(
        "eu-no-risk-agreement",
        "EU",
        {METHODS: ["no risk of pregnancy agreement"]},
        none=["contraception.rule-not-met"],
    ),
    Row(
        "eu-quantity-over-limit",
        "EU",
        {"prescription.quantity": 90},
        has=[("prescription.quantity-over-limit", "block")],
    ),
    Row(
        "uk-quantity-over-limit",
        "UK",
        {"prescription.quantity": 62},
        has=[
            ("prescription.quantity-over-limit", "block"),
            ("prescription.quantity-mismatch", "warn"),
        ],
    ),
    Row(
        "uk-dose-above-max",
        "UK",
        {
            "prescription.strength_mg": 40,
            "prescription.units_per_dose": 2,
            "prescription.quantity": 120,
        },
        has=[("dose.above-max", "block")],
    ),
    Row(
        "uk-alcohol-regular",
        "UK",
        {"alcohol": "regular"},
        has=[("counselling.alcohol-regular", "warn")],
    ),
    Row(
        "uk-under-12",
        "UK",
        {"patient.date_of_birth": "2015-03-01"},
        has=[("safety.under-12", "warn")],
    ),
    # -- every medicine line is screened or named as not screened (contract, December 2026) ------
    Row(
        "us-unknown-line-in-medicines-named-as-not-screened",
        "US",
        {MEDS: ["grandma's herbal tea", "aloe vera gel"], "checklist": ALL_CHECKS_DONE},
        has=[("medicine.unrecognised", "warn", "grandma's herbal tea")],
        dispense="needs-action",
    ),
    Row(
        "us-unknown-line-cleared-by-a-resolution",
        "US",
        {
            MEDS: ["Xyzzy"],
            "checklist": ALL_CHECKS_DONE,
            "resolutions": {"medicine.unrecognised": "Checked the pack: a herbal tea, no retinoid"},
        },
        has=[("medicine.unrecognised", "warn", "Xyzzy")],
        dispense="ok",
    ),
    Row(
        "uk-unknown-line-named-as-not-screened",
        "UK",
        {MEDS: ["unknown pill from Mexico", "Zoloft 50 mg"]},
        has=[("medicine.unrecognised", "warn", "unknown pill from Mexico")],
    ),
    Row(
        "us-issue-example-never-dispense-ok",
        "US",
        {
            MEDS: ["unknown pill from Mexico", "carbamezapine", "Nuzyra"],
            "checklist": ALL_CHECKS_DONE,
        },
        has=[
            ("medicine.unrecognised", "warn", "unknown pill from Mexico"),
            ("interaction.anticonvulsants-bone", "warn", "carbamezapine"),
            ("interaction.tetracyclines", "block", "Nuzyra"),
        ],
        dispense="do-not-dispense",
    ),
    Row(
        "eu-close-spelling-says-so",
        "EU",
        {MEDS: ["doxicilin 100"]},
        has=[("interaction.tetracyclines", "block", "doxicilin")],
        none=["medicine.unrecognised"],
    ),
    Row(
        "us-class-ending-backstop",
        "US_NO",
        {MEDS: ["Zorcycline 50 mg"]},
        has=[("interaction.tetracyclines", "block", "Zorcycline")],
        none=["medicine.unrecognised"],
    ),
    Row(
        "uk-everyday-lines-recognised-and-quiet",
        "UK",
        {MEDS: ["Cortizone-10", "clotrimazole cream", "Movicol", "Night Nurse", "Lemsip"]},
        none=["category:interaction"],
    ),
    # -- the course across visits (guidance, never a block) --------------------------------------
    Row(
        "us-course-fill-3",
        "US",
        {"course": {"fill_number": 3, "cumulative_mg_before": 2400}, "checklist": ALL_CHECKS_DONE},
        has=[("course.cumulative-dose", "info")],
        none=["course.after-course"],
        dispense="ok",
        fields={"cumulative_mg": 3600, "cumulative_mg_per_kg": 58.06},
    ),
    Row(
        "us-course-last-fill",
        "US",
        {"course": {"fill_number": 6, "cumulative_mg_before": 7200, "last_fill": True}},
        has=[("course.cumulative-dose", "info"), ("course.after-course", "info")],
        fields={"cumulative_mg": 8400, "cumulative_mg_per_kg": 135.48},
    ),
    Row(
        "uk-no-course-last-fill",
        "UK_NO",
        {"course": {"fill_number": 2, "cumulative_mg_before": 1200, "last_fill": True}},
        has=[("course.after-course", "info")],
    ),
]

# -- December 2026: rules put right, both ways, in every rule set they touch ---------------------
US2021 = {
    "counselled_on": "2026-11-10",
    "prescription.prescribed_on": "2026-11-08",
    TEST: [{"date": "2026-11-08", "result": "negative"}],
}
UK2023 = {
    "counselled_on": "2025-06-02",
    "prescription.prescribed_on": "2025-06-01",
    TEST: [{"date": "2025-05-30", "result": "negative"}],
}
UK2018 = {
    "counselled_on": "2019-01-10",
    "prescription.prescribed_on": "2019-01-09",
    TEST: [{"date": "2019-01-08", "result": "negative"}],
}
WEAKENED = "contraception.weakened"
NOT_MET = "contraception.rule-not-met"
POSITIVE = "pregnancy-test.positive"
THEN_NEGATIVE = "pregnancy-test.positive-then-negative"
AFTER_RX = "pregnancy-test.after-prescription"
EVERY_CODE_OK = {
    code: "ok"
    for code in [
        NOT_MET,
        WEAKENED,
        "contraception.method-not-accepted",
        "interaction.st-johns-wort",
        "interaction.enzyme-inducers",
    ]
}

ROWS += [
    # enzyme inducers weaken pills, patches, rings, implants; not DMPA, an IUD or an IUS
    Row(
        "us-rifampin-depo-and-condoms-not-weakened",
        "US",
        {METHODS: ["Depo-Provera", "condoms"], MEDS: ["rifampin 600 mg"]},
        has=[("interaction.enzyme-inducers", "info")],
        none=[WEAKENED, NOT_MET],
    ),
    Row(
        "us-rifampin-mirena-and-condoms-not-weakened",
        "US",
        {METHODS: ["Mirena", "condoms"], MEDS: ["rifampin"], "checklist": ALL_CHECKS_DONE},
        none=[WEAKENED, "*:warn"],
        dispense="ok",
    ),
    Row(
        "us-rifampin-patch-and-condoms-weakened",
        "US",
        {METHODS: ["Xulane patch", "condoms"], MEDS: ["rifampin"]},
        has=[(WEAKENED, "block")],
    ),
    Row(
        "us-rifampin-ring-and-condoms-weakened",
        "US",
        {METHODS: ["NuvaRing", "condoms"], MEDS: ["Rifadin"]},
        has=[(WEAKENED, "block")],
    ),
    Row(
        "us-sjw-depo-and-cap-not-weakened",
        "US",
        {METHODS: ["Depo-Provera", "cervical cap"], MEDS: ["St John's wort"]},
        has=[("interaction.st-johns-wort", "warn")],
        none=[WEAKENED, NOT_MET],
    ),
    Row(
        "us-sjw-norethisterone-injection-weakened-safe-choice",
        "US",
        {METHODS: ["Noristerat", "condoms"], MEDS: ["St John's wort"]},
        has=[(WEAKENED, "block")],
    ),
    Row(
        "us-coil-unspecified-not-weakened",
        "US",
        {METHODS: ["the coil", "condoms"], MEDS: ["carbamazepine"]},
        has=[("contraception.confirm-method", "info")],
        none=[WEAKENED, NOT_MET],
    ),
    Row(
        "us2021-rifampin-depo-and-condoms-not-weakened",
        "US",
        US2021 | {METHODS: ["Depo-Provera", "condoms"], MEDS: ["rifampin"]},
        none=[WEAKENED, NOT_MET],
        fields={"rules_version": "us-ipledge-2021"},
    ),
    Row(
        "us2021-rifampin-pill-and-condoms-weakened",
        "US",
        US2021 | {METHODS: ["Yaz", "condoms"], MEDS: ["rifampin"]},
        has=[(WEAKENED, "block")],
        fields={"rules_version": "us-ipledge-2021"},
    ),
    Row(
        "uk-rifampin-mirena-alone-not-weakened",
        "UK",
        {METHODS: ["Mirena"], MEDS: ["rifampicin"]},
        none=[WEAKENED, NOT_MET],
    ),
    Row(
        "uk-rifampin-implant-alone-weakened",
        "UK",
        {METHODS: ["Nexplanon"], MEDS: ["rifampicin 600 mg"]},
        has=[(WEAKENED, "block")],
    ),
    Row(
        "uk-carbamazepine-depo-and-condoms-not-weakened",
        "UK",
        {METHODS: ["Sayana Press", "condoms"], MEDS: ["carbamazepine 200 mg"]},
        none=[WEAKENED, NOT_MET],
    ),
    Row(
        "uk2023-carbamazepine-kyleena-not-weakened",
        "UK",
        UK2023 | {METHODS: ["Kyleena"], MEDS: ["Tegretol"]},
        none=[WEAKENED, NOT_MET],
        fields={"rules_version": "uk-ppp-2023"},
    ),
    Row(
        "uk2023-sjw-implant-weakened",
        "UK",
        UK2023 | {METHODS: ["Nexplanon"], MEDS: ["St John's wort"]},
        has=[(WEAKENED, "block")],
        fields={"rules_version": "uk-ppp-2023"},
    ),
    Row(
        "uk2018-rifampin-copper-iud-not-weakened",
        "UK",
        UK2018 | {METHODS: ["copper IUD"], MEDS: ["rifampicin"]},
        none=[WEAKENED, NOT_MET],
        fields={"rules_version": "uk-ppp-2018"},
    ),
    Row(
        "uk2018-sjw-implant-weakened",
        "UK",
        UK2018 | {METHODS: ["Nexplanon"], MEDS: ["St John's wort"]},
        has=[(WEAKENED, "block")],
        fields={"rules_version": "uk-ppp-2018"},
    ),
    Row(
        "eu-sjw-depo-and-condoms-not-weakened",
        "EU",
        {METHODS: ["Depo-Provera", "condoms"], MEDS: ["St John's wort"]},
        none=[WEAKENED, NOT_MET],
    ),
    Row(
        "eu-sjw-minipill-and-condoms-weakened",
        "EU",
        {METHODS: ["Cerazette", "condoms"], MEDS: ["St John's wort"]},
        has=[(WEAKENED, "block")],
    ),
    # topiramate weakens them only from 200 mg a day
    Row(
        "us-topiramate-25-mg-combined-pill-not-weakened",
        "US",
        {
            METHODS: ["combined pill", "condoms"],
            MEDS: ["topiramate 25 mg"],
            "checklist": ALL_CHECKS_DONE,
        },
        has=[("interaction.topiramate", "info")],
        none=[WEAKENED, "*:warn"],
        dispense="ok",
    ),
    Row(
        "us-topiramate-100-mg-twice-daily-weakens-pill",
        "US",
        {METHODS: ["combined pill", "condoms"], MEDS: ["Topamax 100 mg twice daily"]},
        has=[(WEAKENED, "block")],
    ),
    Row(
        "us-topiramate-dose-unknown-weakens-pill-safe-choice",
        "US",
        {METHODS: ["combined pill", "condoms"], MEDS: ["topiramate"]},
        has=[(WEAKENED, "block")],
    ),
    Row(
        "us-topiramate-50-mg-bd-and-iud-quiet",
        "US",
        {METHODS: ["Paragard", "condoms"], MEDS: ["topiramate 50 mg bd"]},
        none=[WEAKENED],
    ),
    Row(
        "us2021-topiramate-25-mg-pill-not-weakened",
        "US",
        US2021 | {METHODS: ["Yaz", "condoms"], MEDS: ["topiramate 25mg"]},
        none=[WEAKENED, NOT_MET],
    ),
    Row(
        "us2021-topiramate-200-mg-daily-weakens-pill",
        "US",
        US2021 | {METHODS: ["Yaz", "condoms"], MEDS: ["topiramate 200 mg daily"]},
        has=[(WEAKENED, "block")],
    ),
    Row(
        "uk-topiramate-25-mg-implant-not-weakened",
        "UK",
        {METHODS: ["Nexplanon"], MEDS: ["topiramate 25 mg"]},
        none=[WEAKENED, NOT_MET],
    ),
    Row(
        "uk-topiramate-400-mg-a-day-weakens-implant",
        "UK",
        {METHODS: ["Nexplanon"], MEDS: ["topiramate 200 mg bd"]},
        has=[(WEAKENED, "block")],
    ),
    Row(
        "uk2023-topiramate-25-mg-implant-not-weakened",
        "UK",
        UK2023 | {METHODS: ["Nexplanon"], MEDS: ["topiramate 25 mg"]},
        none=[WEAKENED, NOT_MET],
    ),
    Row(
        "uk2018-topiramate-unknown-dose-weakens-implant",
        "UK",
        UK2018 | {METHODS: ["Nexplanon"], MEDS: ["Topamax"]},
        has=[(WEAKENED, "block")],
    ),
    Row(
        "eu-topiramate-25-mg-pill-and-condoms-not-weakened",
        "EU",
        {METHODS: ["Microgynon", "condoms"], MEDS: ["topiramate 25 mg"]},
        none=[WEAKENED, NOT_MET],
    ),
    Row(
        "eu-topiramate-300-mg-day-weakens-pill",
        "EU",
        {METHODS: ["Microgynon", "condoms"], MEDS: ["topiramate 300 mg/day"]},
        has=[(WEAKENED, "block")],
    ),
    # a method's status follows the rule set: the minipill rule is the US label's
    Row(
        "us2021-minipill-and-condoms-not-met",
        "US",
        US2021 | {METHODS: ["Cerazette", "condoms"]},
        has=[(NOT_MET, "block"), ("contraception.method-not-accepted", "warn", "Cerazette")],
    ),
    Row(
        "uk-desogestrel-pill-alone-not-enough",
        "UK",
        {METHODS: ["desogestrel 75 microgram"]},
        has=[(NOT_MET, "block")],
        none=["contraception.method-not-accepted"],
    ),
    Row(
        "uk2023-minipill-and-condoms-met",
        "UK",
        UK2023 | {METHODS: ["Cerelle", "male condoms"]},
        none=["category:pregnancy-prevention"],
    ),
    Row(
        "uk2018-minipill-and-condoms-met",
        "UK",
        UK2018 | {METHODS: ["Cerazette", "condoms"]},
        none=["category:pregnancy-prevention"],
    ),
    Row(
        "eu-minipill-and-condoms-met",
        "EU",
        {METHODS: ["desogestrel", "condoms"], "checklist": ALL_CHECKS_DONE},
        none=["category:pregnancy-prevention"],
        dispense="ok",
    ),
    # any positive test blocks, whatever the risk category says
    Row(
        "us-cannot-get-pregnant-positive-test-blocks",
        "US_NO",
        {TEST: [{"date": "2026-11-20", "result": "positive"}]},
        has=[(POSITIVE, "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "us2021-positive-test-blocks",
        "US",
        US2021 | {TEST: [{"date": "2026-11-08", "result": "positive"}]},
        has=[(POSITIVE, "block")],
    ),
    Row(
        "us2021-cannot-get-pregnant-positive-test-blocks",
        "US_NO",
        {"counselled_on": "2026-11-10", "prescription.prescribed_on": "2026-11-01"}
        | {TEST: [{"date": "2026-11-02", "result": "positive"}]},
        has=[(POSITIVE, "block")],
        fields={"rules_version": "us-ipledge-2021"},
    ),
    Row(
        "uk-cannot-get-pregnant-positive-test-blocks",
        "UK_NO",
        {TEST: [{"date": "2026-11-22", "result": "positive"}]},
        has=[(POSITIVE, "block")],
    ),
    Row(
        "uk2023-positive-test-blocks",
        "UK",
        UK2023 | {TEST: [{"date": "2025-05-30", "result": "positive"}]},
        has=[(POSITIVE, "block")],
    ),
    Row(
        "uk2018-positive-test-blocks",
        "UK",
        UK2018 | {TEST: [{"date": "2019-01-08", "result": "positive"}]},
        has=[(POSITIVE, "block")],
    ),
    Row(
        "eu-cannot-get-pregnant-positive-test-blocks",
        "EU_NO",
        {TEST: [{"date": "2026-11-22", "result": "positive"}]},
        has=[(POSITIVE, "block")],
    ),
    Row(
        "us-cannot-get-pregnant-negative-test-quiet",
        "US_NO",
        {TEST: [{"date": "2026-11-20", "result": "negative"}]},
        none=["category:pregnancy-prevention"],
    ),
    # a positive followed by a negative: a warning asking for the prescriber's explanation
    Row(
        "us-positive-then-negative-cleared-by-explanation",
        "US",
        {
            TEST: [
                {"date": "2026-10-20", "result": "positive"},
                {"date": "2026-11-21", "result": "negative"},
            ],
            "checklist": ALL_CHECKS_DONE,
            "resolutions": {THEN_NEGATIVE: "Prescriber: false positive, confirmed by blood test"},
        },
        has=[(THEN_NEGATIVE, "warn")],
        none=[POSITIVE],
        dispense="ok",
    ),
    Row(
        "us-cannot-get-pregnant-positive-then-negative-warns",
        "US_NO",
        {
            TEST: [
                {"date": "2026-10-01", "result": "positive"},
                {"date": "2026-11-20", "result": "negative"},
            ]
        },
        has=[(THEN_NEGATIVE, "warn")],
        none=[POSITIVE],
    ),
    Row(
        "us2021-positive-then-negative-warns",
        "US",
        US2021
        | {
            TEST: [
                {"date": "2026-10-01", "result": "positive"},
                {"date": "2026-11-08", "result": "negative"},
            ]
        },
        has=[(THEN_NEGATIVE, "warn")],
        none=[POSITIVE],
    ),
    Row(
        "us-negatives-only-no-positive-then-negative",
        "US",
        none=[THEN_NEGATIVE, POSITIVE],
    ),
    Row(
        "uk-positive-then-negative-warns",
        "UK",
        {
            TEST: [
                {"date": "2026-10-01", "result": "positive"},
                {"date": "2026-11-22", "result": "negative"},
            ]
        },
        has=[(THEN_NEGATIVE, "warn")],
        none=[POSITIVE],
    ),
    Row(
        "uk2023-positive-then-negative-warns",
        "UK",
        UK2023
        | {
            TEST: [
                {"date": "2025-04-01", "result": "positive"},
                {"date": "2025-05-30", "result": "negative"},
            ]
        },
        has=[(THEN_NEGATIVE, "warn")],
    ),
    Row(
        "eu-positive-then-negative-warns",
        "EU",
        {
            TEST: [
                {"date": "2026-10-01", "result": "positive"},
                {"date": "2026-11-22", "result": "negative"},
            ]
        },
        has=[(THEN_NEGATIVE, "warn")],
        none=[POSITIVE],
    ),
    # UK/EU: a test after the prescription date, with none in the 3 days before it, warns
    Row(
        "uk-test-after-prescription-none-before-warns",
        "UK",
        {TEST: [{"date": "2026-11-24", "result": "negative"}]},
        has=[(AFTER_RX, "warn")],
        none=["pregnancy-test.too-old", "pregnancy-test.missing"],
    ),
    Row(
        "uk-test-after-prescription-and-one-before-quiet",
        "UK",
        {
            TEST: [
                {"date": "2026-11-21", "result": "negative"},
                {"date": "2026-11-24", "result": "negative"},
            ]
        },
        none=[AFTER_RX, "pregnancy-test.too-old"],
    ),
    Row(
        "uk-test-after-prescription-old-one-before-warns",
        "UK",
        {
            TEST: [
                {"date": "2026-11-01", "result": "negative"},
                {"date": "2026-11-24", "result": "negative"},
            ]
        },
        has=[(AFTER_RX, "warn")],
        none=["pregnancy-test.too-old"],
    ),
    Row(
        "uk-test-on-prescription-day-quiet",
        "UK",
        {TEST: [{"date": "2026-11-23", "result": "negative"}]},
        none=[AFTER_RX, "pregnancy-test.too-old"],
    ),
    Row(
        "uk2023-test-after-prescription-warns",
        "UK",
        UK2023 | {TEST: [{"date": "2025-06-02", "result": "negative"}]},
        has=[(AFTER_RX, "warn")],
        fields={"rules_version": "uk-ppp-2023"},
    ),
    Row(
        "uk2018-test-after-prescription-warns",
        "UK",
        UK2018 | {TEST: [{"date": "2019-01-10", "result": "negative"}]},
        has=[(AFTER_RX, "warn")],
        fields={"rules_version": "uk-ppp-2018"},
    ),
    Row(
        "eu-test-after-prescription-warns",
        "EU",
        {TEST: [{"date": "2026-11-25", "result": "negative"}]},
        has=[(AFTER_RX, "warn")],
    ),
    Row(
        "eu-test-in-3-days-before-quiet",
        "EU",
        {TEST: [{"date": "2026-11-20", "result": "negative"}]},
        none=[AFTER_RX, "pregnancy-test.too-old"],
    ),
    Row(
        "us-test-after-prescription-no-uk-rule",
        "US",
        {TEST: [{"date": "2026-11-22", "result": "negative"}]},
        none=[AFTER_RX],
    ),
    Row(
        "uk-cannot-get-pregnant-no-test-rule",
        "UK_NO",
        {TEST: [{"date": "2026-11-24", "result": "negative"}]},
        none=["category:pregnancy-prevention"],
    ),
    # a block from the facts is cleared by changing the facts, never by typing "ok"
    Row(
        "us-condoms-alone-ok-typed-still-blocked",
        "US",
        {METHODS: ["condoms"], "checklist": ALL_CHECKS_DONE, "resolutions": EVERY_CODE_OK},
        has=[(NOT_MET, "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "us-weakened-ok-typed-still-blocked",
        "US",
        {
            METHODS: ["Yaz", "condoms"],
            MEDS: ["St John's wort"],
            "checklist": ALL_CHECKS_DONE,
            "resolutions": EVERY_CODE_OK,
        },
        has=[(WEAKENED, "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "us2021-condoms-alone-ok-typed-still-blocked",
        "US",
        US2021 | {METHODS: ["condoms"], "checklist": ALL_CHECKS_DONE, "resolutions": EVERY_CODE_OK},
        has=[(NOT_MET, "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "uk-condoms-alone-ok-typed-still-blocked",
        "UK",
        {METHODS: ["condoms"], "checklist": ALL_CHECKS_DONE, "resolutions": EVERY_CODE_OK},
        has=[(NOT_MET, "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "uk-weakened-implant-ok-typed-still-blocked",
        "UK",
        {
            METHODS: ["Nexplanon"],
            MEDS: ["rifampicin"],
            "checklist": ALL_CHECKS_DONE,
            "resolutions": EVERY_CODE_OK,
        },
        has=[(WEAKENED, "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "uk-weakened-implant-cleared-by-adding-a-copper-iud",
        "UK",
        {
            METHODS: ["Nexplanon", "copper IUD"],
            MEDS: ["rifampicin"],
            "checklist": ALL_CHECKS_DONE,
            "resolutions": {WEAKENED: "Relies on the copper IUD"},
        },
        has=[(WEAKENED, "warn")],
        dispense="ok",
    ),
    Row(
        "eu-condoms-alone-ok-typed-still-blocked",
        "EU",
        {METHODS: ["condoms"], "checklist": ALL_CHECKS_DONE, "resolutions": EVERY_CODE_OK},
        has=[(NOT_MET, "block")],
        dispense="do-not-dispense",
    ),
    # a refill's finding blocks, and its action says so
    Row(
        "us2021-refills-not-allowed",
        "US",
        US2021 | {"prescription.refills": 1},
        has=[("prescription.refills-not-allowed", "block")],
        dispense="do-not-dispense",
    ),
    Row(
        "uk2023-refills-not-allowed",
        "UK",
        UK2023 | {"prescription.refills": 2},
        has=[("prescription.refills-not-allowed", "block")],
    ),
    Row(
        "uk2018-refills-not-allowed",
        "UK",
        UK2018 | {"prescription.refills": 1},
        has=[("prescription.refills-not-allowed", "block")],
    ),
    Row(
        "us-no-refills-quiet",
        "US",
        {"prescription.refills": 0},
        none=["prescription.refills-not-allowed"],
    ),
    Row(
        "uk2018-positive-then-negative-warns",
        "UK",
        UK2018
        | {
            TEST: [
                {"date": "2018-12-01", "result": "positive"},
                {"date": "2019-01-08", "result": "negative"},
            ]
        },
        has=[(THEN_NEGATIVE, "warn")],
        none=[POSITIVE],
        fields={"rules_version": "uk-ppp-2018"},
    ),
    Row(
        "uk2023-test-in-3-days-before-quiet",
        "UK",
        UK2023,
        none=[AFTER_RX, "pregnancy-test.too-old"],
        fields={"rules_version": "uk-ppp-2023"},
    ),
    Row(
        "uk2018-test-in-3-days-before-quiet",
        "UK",
        UK2018,
        none=[AFTER_RX, "pregnancy-test.too-old"],
    ),
    Row(
        "uk2023-condoms-alone-ok-typed-still-blocked",
        "UK",
        UK2023 | {METHODS: ["condoms"], "checklist": ALL_CHECKS_DONE, "resolutions": EVERY_CODE_OK},
        has=[(NOT_MET, "block")],
        dispense="do-not-dispense",
        fields={"rules_version": "uk-ppp-2023"},
    ),
    Row(
        "uk2018-weakened-ok-typed-still-blocked",
        "UK",
        UK2018
        | {
            METHODS: ["Nexplanon"],
            MEDS: ["St John's wort"],
            "checklist": ALL_CHECKS_DONE,
            "resolutions": EVERY_CODE_OK,
        },
        has=[(WEAKENED, "block")],
        dispense="do-not-dispense",
        fields={"rules_version": "uk-ppp-2018"},
    ),
    Row(
        "eu-weakened-cleared-by-stopping-it",
        "EU",
        {METHODS: ["Cerazette", "condoms"], MEDS: [], "checklist": ALL_CHECKS_DONE},
        none=[WEAKENED, "category:pregnancy-prevention"],
        dispense="ok",
    ),
    Row(
        "us2026-minipill-and-condoms-ok-typed-still-blocked",
        "US",
        {METHODS: ["Slynd", "condoms"], "checklist": ALL_CHECKS_DONE, "resolutions": EVERY_CODE_OK},
        has=[(NOT_MET, "block")],
        dispense="do-not-dispense",
        fields={"rules_version": "us-ipledge-2026"},
    ),
]


def _check_row(row: Row, assessment: Assessment) -> list[str]:
    problems: list[str] = []
    rank = {"info": 0, "warn": 1, "block": 2}
    findings = assessment.findings
    for wanted in row.has:
        code, severity, *text = wanted
        hits = [
            f
            for f in findings
            if f.code == code
            and f.severity == severity
            and (not text or text[0].lower() in (f.subject or "").lower())
        ]
        if not hits:
            problems.append(f"missing {wanted}")
    for absent in row.none:
        if absent.startswith("category:"):
            _, category, *sev = absent.split(":")
            extra = [
                f.code
                for f in findings
                if f.category == category and (not sev or rank[f.severity] >= rank[sev[0]])
            ]
        elif absent.startswith("*:"):
            floor = rank[absent[2:]]
            extra = [f.code for f in findings if rank[f.severity] >= floor]
        else:
            code, _, floor_name = absent.partition(":")
            extra = [
                f.code
                for f in findings
                if f.code == code and (not floor_name or rank[f.severity] >= rank[floor_name])
            ]
        if extra:
            problems.append(f"unexpected {absent}: {extra}")
    if row.dispense and assessment.dispense != row.dispense:
        problems.append(f"dispense {assessment.dispense}, wanted {row.dispense}")
    for name, wanted_value in row.fields.items():
        if name == "rules_version":
            got: Any = assessment.knowledge_base.rules_version
        else:
            got = getattr(assessment, name)
        if isinstance(got, dt.date):
            got = got.isoformat()
        if got != wanted_value:
            problems.append(f"{name} = {got!r}, wanted {wanted_value!r}")
    return problems


def _kb_for(row: Row) -> KnowledgeBase:
    return load_knowledge_base(effective_dates=row.effective_dates) if row.effective_dates else KB


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_case_table(row: Row) -> None:
    case = case_from_dict(build(row.base, row.changes), source=row.id)
    assessment = assess(case, _kb_for(row))
    problems = _check_row(row, assessment)
    summary = [f"{f.code}/{f.severity}/{f.subject}" for f in assessment.findings]
    assert not problems, f"{problems}\nfindings: {summary}"


def test_the_table_is_large_and_covers_every_rule_set_and_version() -> None:
    assert len(ROWS) >= 60
    assert len({r.id for r in ROWS}) == len(ROWS)
    versions = set()
    for row in ROWS:
        case = case_from_dict(build(row.base, row.changes), source=row.id)
        versions.add(assess(case, _kb_for(row)).knowledge_base.rules_version)
    assert versions == {v.id for r in KB.rule_sets for v in r.versions}


def _longest_literal(template: str) -> str:
    return max(re.split(r"\{[^}]*\}", template), key=len)


def test_every_finding_code_in_the_wording_is_exercised_by_the_table() -> None:
    seen: set[str] = set()
    messages = ""
    for row in ROWS:
        case = case_from_dict(build(row.base, row.changes), source=row.id)
        findings = assess(case, _kb_for(row)).findings
        seen |= {f.code for f in findings}
        messages += "\n".join(f.message for f in findings)
    wording = {m.code for m in KB.messages}
    # a finding may have one wording per outcome ("contraception.weakened-rule-not-met")
    unused = {w for w in wording if not any(w == c or w.startswith(c + "-") for c in seen)}
    # wording that is a part of another finding's message ("medicine.matched-close")
    unused -= {m.code for m in KB.messages if _longest_literal(m.message) in messages}
    assert unused == set()
    interaction_codes = {f"interaction.{r.id}" for r in KB.interactions}
    assert interaction_codes - seen == set()


def test_window_wording_follows_the_version_in_force() -> None:
    before = build(
        "US",
        {
            "counselled_on": "2026-11-10",
            "prescription.prescribed_on": "2026-11-01",
            TEST: [{"date": "2026-11-01", "result": "negative"}],
        },
    )
    after = build("US", {TEST: [{"date": "2026-11-10", "result": "negative"}]})
    actions = {}
    for name, data in (("2021", before), ("2026", after)):
        a = assess(case_from_dict(data), KB)
        (window,) = [f for f in a.findings if f.code == "prescription.pick-up-window-closed"]
        actions[name] = window.action
    assert "at least 19 days" in actions["2021"]
    assert "no 19-day wait" in actions["2026"]
