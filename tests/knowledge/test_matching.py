"""Matching what patients say to agents, classes and contraception methods."""

from __future__ import annotations

import pytest

from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.knowledge.matching import (
    explain_medicine,
    match_medicine,
    match_method,
    words,
)

KB = load_knowledge_base()


def test_words_normalise_case_accents_apostrophes_and_units() -> None:
    assert words("St. John’s Wort 300 mg") == ("st", "johns", "wort", "300", "mg")
    assert words("Doxy 100mg tabs") == ("doxy", "100", "mg", "tabs")
    assert words("VITAMINE A") == ("vitamine", "a")
    assert words("Isotrétinoïne") == ("isotretinoine",)
    assert words("Multi-Vitamin") == ("multi", "vitamin")
    assert words("Claravis 20 mg capsules", drop_doses=True) == ("claravis",)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Doxy 100mg tabs", "tetracyclines"),
        ("doxycycline 100 mg once a day", "tetracyclines"),
        ("DOXYCYCLINE", "tetracyclines"),
        ("Vibramycin", "tetracyclines"),
        ("Minocin", "tetracyclines"),
        ("minocycline ER 90", "tetracyclines"),
        ("Solodyn", "tetracyclines"),
        ("Seysara 100", "tetracyclines"),
        ("lymecycline (Tetralysal)", "tetracyclines"),
        ("doxycyclin", "tetracyclines"),
        ("tetracylcine", "tetracyclines"),
        ("minocyclene", "tetracyclines"),
        ("vitamin A 10,000 IU", "vitamin-a"),
        ("Vit. A", "vitamin-a"),
        ("retinyl palmitate", "vitamin-a"),
        ("cod liver oil capsules", "vitamin-a"),
        ("Centrum", "multivitamins"),
        ("one-a-day women's", "multivitamins"),
        ("prenatal vitamins", "multivitamins"),
        ("multi-vitamin", "multivitamins"),
        ("prednisone 10 mg", "corticosteroids"),
        ("Medrol dose pack", "corticosteroids"),
        ("dexamethasone 4mg", "corticosteroids"),
        ("Dilantin", "anticonvulsants-bone"),
        ("phenytoin 100mg", "anticonvulsants-bone"),
        ("carbamazepine", "anticonvulsants-bone"),
        ("St. John’s Wort 300 mg", "st-johns-wort"),
        ("St Johns Wort", "st-johns-wort"),
        ("saint john's wort", "st-johns-wort"),
        ("Hypericum perforatum", "st-johns-wort"),
        ("acitretin", "oral-retinoids"),
        ("Soriatane 25mg", "oral-retinoids"),
        ("Toctino", "oral-retinoids"),
        ("tretinoin capsules 10 mg", "oral-retinoids"),
        ("Retin-A 0.025% cream", "topical-retinoids"),
        ("adapalene gel", "topical-retinoids"),
        ("Aklief", "topical-retinoids"),
        ("tazarotene", "topical-retinoids"),
        ("benzoyl peroxide 5% gel", "keratolytics"),
        ("salicylic acid cleanser", "keratolytics"),
        ("resorcinol", "keratolytics"),
        ("Coumadin", "warfarin"),
        ("Xenical", "orlistat"),
        ("rifampicin", "enzyme-inducers"),
        ("Topamax 200 mg", "topiramate"),
        ("ciprofloxacin", "photosensitising"),
    ],
)
def test_medicines_match_their_agent(text: str, rule: str) -> None:
    assert rule in [r.id for r in match_medicine(KB, text)]


def test_fuzzy_matches_are_marked() -> None:
    (match,) = explain_medicine(KB, "doxicyclin 100")
    assert match.fuzzy and match.rule.id == "tetracyclines"
    (exact,) = explain_medicine(KB, "doxycycline")
    assert not exact.fuzzy and exact.term == "doxycycline"


def test_a_line_can_name_two_agents() -> None:
    ids = {r.id for r in match_medicine(KB, "multivitamin with vitamin A and doxycycline")}
    assert ids == {"multivitamins", "vitamin-a", "tetracyclines"}


@pytest.mark.parametrize(
    "text",
    [
        "hydrocortisone cream 1%",
        "prednisolone eye drops",
        "budesonide inhaler",
        "betamethasone cream",
        "retinol serum",
        "tretinoin capsules",  # the oral form is not the topical rule
    ],
)
def test_forms_excluded_by_their_rule_do_not_match_it(text: str) -> None:
    ids = {r.id for r in match_medicine(KB, text)}
    assert "corticosteroids" not in ids and "vitamin-a" not in ids
    assert "topical-retinoids" not in ids


EVERYDAY = [
    "ibuprofen",
    "ibuprofen 200 mg as needed",
    "Advil",
    "Motrin",
    "naproxen",
    "Aleve",
    "aspirin",
    "paracetamol",
    "paracetamol 500mg",
    "acetaminophen",
    "Tylenol",
    "co-codamol",
    "codeine",
    "cetirizine",
    "Zyrtec",
    "loratadine",
    "Claritin",
    "fexofenadine",
    "Allegra",
    "diphenhydramine",
    "Benadryl",
    "chlorphenamine",
    "hydroxyzine",
    "omeprazole",
    "Prilosec",
    "esomeprazole",
    "Nexium",
    "pantoprazole",
    "lansoprazole",
    "famotidine",
    "Pepcid",
    "ranitidine",
    "Gaviscon",
    "Tums",
    "loperamide",
    "metformin",
    "metformin 500mg twice daily",
    "Glucophage",
    "insulin",
    "semaglutide",
    "Ozempic",
    "levothyroxine",
    "levothyroxine 50 mcg",
    "Synthroid",
    "sertraline",
    "Zoloft",
    "fluoxetine",
    "Prozac",
    "escitalopram",
    "Lexapro",
    "citalopram",
    "bupropion",
    "Wellbutrin",
    "venlafaxine",
    "duloxetine",
    "mirtazapine",
    "trazodone",
    "salbutamol",
    "salbutamol inhaler",
    "albuterol",
    "Ventolin",
    "montelukast",
    "fluticasone nasal spray",
    "Flonase",
    "mometasone",
    "amoxicillin",
    "amoxicillin 500",
    "Augmentin",
    "azithromycin",
    "cephalexin",
    "clindamycin gel",
    "erythromycin",
    "metronidazole",
    "nitrofurantoin",
    "trimethoprim",
    "fluconazole",
    "aciclovir",
    "valacyclovir",
    "spironolactone",
    "lisinopril",
    "amlodipine",
    "losartan",
    "metoprolol",
    "propranolol",
    "atorvastatin",
    "simvastatin",
    "rosuvastatin",
    "lamotrigine",
    "levetiracetam",
    "gabapentin",
    "pregabalin",
    "sumatriptan",
    "methylphenidate",
    "Adderall",
    "lisdexamfetamine",
    "doxylamine",
    "dextromethorphan",
    "pseudoephedrine",
    "guaifenesin",
    "ondansetron",
    "melatonin",
    "vitamin D",
    "vitamin D3 1000 IU",
    "vitamin C",
    "vitamin B12",
    "vitamin E",
    "biotin",
    "folic acid",
    "iron",
    "ferrous sulfate",
    "zinc",
    "magnesium",
    "calcium",
    "fish oil",
    "omega-3",
    "probiotic",
    "collagen",
    "glucosamine",
    "niacinamide serum",
    "azelaic acid",
    "minoxidil",
    "finasteride",
    "tranexamic acid",
    "ketoconazole shampoo",
    "moisturiser",
    "sunscreen SPF 50",
    "EpiPen",
    "cromolyn",
    "desloratadine",
    "levocetirizine",
    "prednisolone eye drops",
]


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_medicines_never_match(text: str) -> None:
    assert match_medicine(KB, text) == [], text


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("copper IUD", "copper-iud"),
        ("Paragard", "copper-iud"),
        ("Mirena coil", "hormonal-ius"),
        ("Kyleena", "hormonal-ius"),
        ("the coil", "iud-unspecified"),
        ("the pill", "pill-unspecified"),
        ("combined pill", "combined-pill"),
        ("Yaz", "combined-pill"),
        ("Microgynon 30", "combined-pill"),
        ("COC", "combined-pill"),
        ("Xulane patch", "patch"),
        ("Evra", "patch"),
        ("Depo-Provera shot", "injection"),
        ("the shot", "injection"),
        ("Nexplanon implant", "implant"),
        ("Nexplanon", "implant"),
        ("Nexplannon", "implant"),
        ("NuvaRing", "vaginal-ring"),
        ("male condoms", "male-condom"),
        ("condoms", "male-condom"),
        ("condom with spermicide", "male-condom"),
        ("female condom", "female-condom"),
        ("diaphragm with spermicide", "diaphragm"),
        ("cervical cap", "cervical-cap"),
        ("sponge", "sponge"),
        ("progestin-only pill", "progestin-only-pill"),
        ("minipill", "progestin-only-pill"),
        ("Slynd", "progestin-only-pill"),
        ("norethindrone 0.35 mg", "progestin-only-pill"),
        ("norethindrone/ethinyl estradiol", "combined-pill"),
        ("Cerazette", "progestin-only-pill"),
        ("tubes tied", "tubal-sterilisation"),
        ("partner's vasectomy", "partner-vasectomy"),
        ("abstinence", "abstinence"),
        ("100% abstinent", "abstinence"),
        ("withdrawal", "withdrawal"),
        ("rhythm method", "fertility-awareness"),
        ("spermicide", "spermicide-alone"),
        ("morning after pill", "emergency-contraception"),
        ("No pregnancy risk agreement", "no-risk-agreement"),
    ],
)
def test_methods_match(text: str, method: str) -> None:
    found = match_method(KB, text)
    assert found is not None and found.id == method


@pytest.mark.parametrize("text", ["", "herbal tea", "prayer", "ibuprofen", "careful"])
def test_unknown_methods_do_not_match(text: str) -> None:
    assert match_method(KB, text) is None
