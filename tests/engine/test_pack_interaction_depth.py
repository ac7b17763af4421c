"""The acitretin and valproate packs at isotretinoin's depth (issue 18): every rule added or
changed, in both directions, in every rule set it touches, through ``assess`` and the real pack
files (the rows use the bases and checks of ``test_pack_case_tables``)."""

from __future__ import annotations

from typing import Any

import pytest

from pharmacist_tool.knowledge import load_pack
from pharmacist_tool.knowledge.model import KnowledgeBase
from pharmacist_tool.knowledge.packs import pack_for
from tests.conformance.checks import Setting, base_case, run, settings
from tests.engine.test_pack_case_tables import (
    ACI,
    MEDS,
    METHODS,
    POS,
    TEST,
    Row,
    _assess,
    _problems,
)

VAL = ("VAL_UK", "VAL_US")
IMPLANT = ["Nexplanon implant", "male condom"]
"""A method enzyme inducers weaken, and a second method: the rule is met only with both."""

ROWS: list[Row] = []
for b in ACI:
    ROWS += [
        # methotrexate, other retinoids and phenytoin by substance: every name of the substance
        Row(
            f"{b}-mtx-sodium",
            b,
            {MEDS: ["methotrexate sodium 2.5mg"]},
            has=[("interaction.methotrexate", "block")],
        ),
        Row(
            f"{b}-mtx-spanish",
            b,
            {MEDS: ["metotrexato 10 mg"]},
            has=[("interaction.methotrexate", "block")],
        ),
        Row(
            f"{b}-mtx-brand", b, {MEDS: ["Rheumatrex"]}, has=[("interaction.methotrexate", "block")]
        ),
        Row(f"{b}-folic-acid", b, {MEDS: ["folic acid 5 mg"]}, none=["category:interaction"]),
        Row(
            f"{b}-sotret",
            b,
            {MEDS: ["Sotret 20 mg"]},
            has=[("interaction.other-retinoids", "block")],
        ),
        Row(
            f"{b}-absorica-ld",
            b,
            {MEDS: ["Absorica LD"]},
            has=[("interaction.other-retinoids", "block")],
        ),
        Row(
            f"{b}-own-acitretin",
            b,
            {MEDS: ["Neotigason 10 mg"]},
            none=["interaction.other-retinoids"],
        ),
        Row(f"{b}-adapalene", b, {MEDS: ["adapalene gel"]}, none=["interaction.other-retinoids"]),
        Row(
            f"{b}-phenytoin-sodium",
            b,
            {MEDS: ["phenytoin sodium 100 mg"]},
            has=[("interaction.phenytoin", "info")],
        ),
        # anticonvulsant inducers re-check contraception; a method they do not weaken stands
        Row(
            f"{b}-carbamazepine-implant",
            b,
            {METHODS: IMPLANT, MEDS: ["carbamazepine 200 mg"]},
            has=[
                ("interaction.anticonvulsant-inducers", "info"),
                ("contraception.weakened", "block"),
            ],
        ),
        Row(
            f"{b}-carbamazepine-iud",
            b,
            {MEDS: ["Tegretol 200 mg"]},
            has=[("interaction.anticonvulsant-inducers", "info")],
            none=["contraception.weakened"],
        ),
        Row(
            f"{b}-phenobarbital-implant",
            b,
            {METHODS: IMPLANT, MEDS: ["Gardenal"]},
            has=[("contraception.weakened", "block")],
        ),
        # inducers no pack knew: ritonavir, perampanel (12 mg), cenobamate, aprepitant, lumacaftor
        Row(
            f"{b}-paxlovid",
            b,
            {METHODS: IMPLANT, MEDS: ["Paxlovid"]},
            has=[("contraception.weakened", "block")],
        ),
        Row(
            f"{b}-perampanel-12",
            b,
            {METHODS: IMPLANT, MEDS: ["Fycompa 12 mg once daily"]},
            has=[("contraception.weakened", "block")],
        ),
        Row(
            f"{b}-perampanel-4",
            b,
            {METHODS: IMPLANT, MEDS: ["Fycompa 4 mg once daily"]},
            none=["contraception.weakened"],
        ),
        Row(
            f"{b}-cenobamate",
            b,
            {METHODS: IMPLANT, MEDS: ["Xcopri 200 mg"]},
            has=[("contraception.weakened", "block")],
        ),
        Row(
            f"{b}-aprepitant",
            b,
            {METHODS: IMPLANT, MEDS: ["Emend 125 mg"]},
            has=[("contraception.weakened", "block")],
        ),
        Row(
            f"{b}-orkambi",
            b,
            {METHODS: IMPLANT, MEDS: ["Orkambi"]},
            has=[("contraception.weakened", "block")],
        ),
        Row(
            f"{b}-cetirizine-implant",
            b,
            {METHODS: IMPLANT, MEDS: ["cetirizine"]},
            none=["contraception.weakened"],
        ),
        # a line the tool does not know, or no medicine at all, never refuses the case
        Row(f"{b}-unknown", b, {MEDS: ["Xqzvorpilax"]}, has=[("medicine.unrecognised", "warn")]),
        Row(f"{b}-none", b, {MEDS: ["none"]}, none=["*:warn"]),
        Row(f"{b}-nothing-else", b, {MEDS: ["Nothing else"]}, none=["*:warn"]),
        Row(f"{b}-the-pill", b, {MEDS: ["the pill"]}, none=["medicine.unrecognised"]),
        # the minipill counts in no rule set, as its note says
        Row(
            f"{b}-minipill",
            b,
            {METHODS: ["minipill", "male condom"]},
            has=[
                ("contraception.method-not-accepted", "warn"),
                ("contraception.rule-not-met", "block"),
            ],
        ),
        # a positive test never clears, even on the US label
        Row(
            f"{b}-positive-resolved",
            b,
            {
                TEST: POS,
                "resolutions": {"pregnancy-test.positive": "Prescriber says false positive"},
            },
            has=[("pregnancy-test.positive", "block")],
            dispense="do-not-dispense",
            programme_rule={"pregnancy-test.positive": True},
        ),
    ]
ROWS += [
    # the US label's monthly test: too old is a finding; within the month is not
    Row(
        "ACI_US-test-40-days",
        "ACI_US",
        {TEST: [{"date": "2026-10-16", "result": "negative"}]},
        has=[("pregnancy-test.overdue", "block")],
    ),
    Row(
        "ACI_US-test-20-days",
        "ACI_US",
        {TEST: [{"date": "2026-11-05", "result": "negative"}]},
        none=["pregnancy-test.overdue"],
    ),
    Row(
        "ACI_UK-test-40-days",
        "ACI_UK",
        {TEST: [{"date": "2026-10-16", "result": "negative"}]},
        has=[("pregnancy-test.too-old", "block")],
        none=["pregnancy-test.overdue"],
    ),
]
VALPROATE = [
    ("carbapenems", "warn", "Merrem", "amoxicillin 500 mg"),
    ("carbapenems", "warn", "ertapenem sodium 1 g", "cefalexin 500 mg"),
    ("oestrogens", "warn", "Oestrogel 2 pumps", "Vagifem 10 mcg vaginal tablet"),
    ("oestrogens", "warn", "estradiol 2 mg tablets", "estradiol vaginal cream"),
    ("enzyme-inducing-antiepileptics", "warn", "oxcarbazepine 300 mg", "levetiracetam 500 mg"),
    ("enzyme-inducing-antiepileptics", "warn", "Carbatrol", "gabapentin 300 mg"),
    ("lamotrigine", "warn", "lamotrigina 50 mg", "lacosamide 50 mg"),
    ("topiramate", "warn", "Topamax 50 mg", "zonisamide 100 mg"),
    ("topiramate", "warn", "Diamox 250 mg", "furosemide 20 mg"),
    ("aspirin", "info", "aspirin 300 mg", "salicylic acid cream"),
    ("duplicate-valproate", "warn", "semisodium valproate 250 mg", "levetiracetam"),
    ("duplicate-valproate", "warn", "valproic acid 250 mg", "lamivudine"),
    ("warfarin", "warn", "warfarin 5 mg", "apixaban 5 mg"),
    ("warfarin", "warn", "Sintrom 1 mg", "rivaroxaban 20 mg"),
    ("cannabidiol", "warn", "Epidyolex", "melatonin 2 mg"),
    ("mefloquine", "warn", "Lariam", "Malarone"),
    ("hiv-protease-boosters", "warn", "Kaletra", "tenofovir"),
    ("hiv-protease-boosters", "warn", "Paxlovid", "molnupiravir"),
    ("felbamate", "warn", "Felbatol", "ethosuximide"),
    ("methotrexate", "warn", "methotrexate 10 mg weekly", "folic acid 5 mg"),
    ("zidovudine", "info", "Retrovir", "abacavir"),
    ("nimodipine", "info", "nimodipine 60 mg", "amlodipine 5 mg"),
    ("cholestyramine", "info", "Questran", "atorvastatin 20 mg"),
    ("rufinamide", "info", "Inovelon", "brivaracetam"),
    ("quetiapine-olanzapine", "info", "Seroquel 100 mg", "sertraline 50 mg"),
    ("metamizole", "info", "metamizole 500 mg", "paracetamol 500 mg"),
]
for b in VAL:
    for rule, severity, line, other in VALPROATE:
        code = f"interaction.{rule}"
        slug = "".join(ch if ch.isalnum() else "-" for ch in line.lower())
        ROWS += [
            Row(f"{b}-{rule}-{slug}", b, {MEDS: [line]}, has=[(code, severity)]),
            Row(f"{b}-{rule}-not-{slug}", b, {MEDS: [other]}, none=[code]),
        ]
    ROWS += [
        Row(f"{b}-unknown", b, {MEDS: ["Xqzvorpilax"]}, has=[("medicine.unrecognised", "warn")]),
        Row(f"{b}-none", b, {MEDS: ["nil"]}, none=["medicine.unrecognised"]),
        Row(
            f"{b}-positive-resolved",
            b,
            {
                TEST: POS,
                "resolutions": {"pregnancy-test.positive": "Prescriber says false positive"},
            },
            has=[("pregnancy-test.positive", "warn")],
            dispense="needs-action",
            programme_rule={"pregnancy-test.positive": True},
        ),
    ]
ROWS += [
    # UK: the implant is weakened by carbamazepine (a warning there: the pharmacist refers)
    Row(
        "VAL_UK-carbamazepine-implant",
        "VAL_UK",
        {METHODS: ["Nexplanon implant"], MEDS: ["carbamazepine 200 mg"]},
        has=[("contraception.weakened", "warn")],
    ),
    Row(
        "VAL_UK-carbamazepine-iud",
        "VAL_UK",
        {METHODS: ["copper IUD"], MEDS: ["carbamazepine 200 mg"]},
        none=["contraception.weakened"],
    ),
    Row(
        "VAL_UK-perampanel-implant",
        "VAL_UK",
        {METHODS: ["Nexplanon implant"], MEDS: ["perampanel 12 mg daily"]},
        has=[("contraception.weakened", "warn")],
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_pack_depth(row: Row) -> None:
    assessment = _assess(row)
    summary = [f"{f.code}/{f.severity}/{f.subject}" for f in assessment.findings]
    assert not (problems := _problems(row, assessment)), f"{problems}\nfindings: {summary}"


def test_a_medicine_line_that_names_birth_control_is_recorded_as_such() -> None:
    assessment = _assess(Row("x", "ACI_UK", {MEDS: ["the pill", "none"]}))
    shown = [(s.line, s.recognised_as, s.codes) for s in assessment.medicines_screened]
    assert shown[0][1] is not None and shown[0][1].startswith("birth control: ")
    assert shown[1] == ("none", "no other medicines", [])


ISOTRETINOIN_INDUCERS = [
    ("Paxlovid", True),
    ("Fycompa 12 mg once daily", True),
    ("Fycompa 4 mg once daily", False),
    ("Xcopri 200 mg", True),
    ("Emend 125 mg", True),
    ("Orkambi", True),
    ("pitolisant 18 mg", True),
    ("cetirizine 10 mg", False),
]


@pytest.mark.parametrize(("line", "weakens"), ISOTRETINOIN_INDUCERS)
def test_inducers_no_pack_knew_recheck_isotretinoin_contraception_in_every_rule_set(
    line: str, weakens: bool
) -> None:
    kb = load_pack("isotretinoin")
    for s in settings(kb):
        case = base_case_with(kb, s, line)
        codes = {f.code: f.severity for f in run(kb, case).findings}
        assert ("contraception.weakened" in codes) == weakens, (s.version.id, codes)
        assert ("interaction.enzyme-inducers" in codes) == (line != "cetirizine 10 mg"), codes


def base_case_with(kb: KnowledgeBase, s: Setting, line: str) -> dict[str, Any]:
    """A routine case of the pack's rule set with one medicine line and a weakened method."""
    return base_case(kb, s, medicines=[line], contraception=["Nexplanon implant", "male condom"])


@pytest.mark.parametrize("line", ["Aknenormin 20 mg", "Isdiben", "Curacné 10 mg"])
def test_eu_isotretinoin_brands_are_isotretinoin_never_a_tetracycline(line: str) -> None:
    assert pack_for(line) == "isotretinoin"
    for pack, code in [
        ("isotretinoin", "duplicate-isotretinoin"),
        ("acitretin", "other-retinoids"),
    ]:
        kb = load_pack(pack)
        s = next(iter(settings(kb)))
        found = run(kb, base_case_with(kb, s, line))
        codes = {f.code for f in found.findings}
        assert f"interaction.{code}" in codes and "interaction.tetracyclines" not in codes
