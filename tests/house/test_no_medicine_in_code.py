"""Knowledge is data: no medicine's name in the tool's code, no programme wording in the window.

The names are read from every pack's ``products.json`` (each product's id, display name and every
name a case may use), so a new pack is covered the day it is added. Comments and docstrings count
too: an example in a docstring is how a medicine creeps back into code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CODE = REPO / "pharmacist_tool"
WINDOW = CODE / "gui"
PACKS = sorted(
    p for p in (REPO / "resources" / "knowledge").iterdir() if (p / "products.json").is_file()
)


def _pack_names() -> dict[str, str]:
    """Every product or generic name of every pack → the pack it belongs to."""
    names: dict[str, str] = {}
    for pack in PACKS:
        names[pack.name.casefold()] = pack.name
        for product in json.loads((pack / "products.json").read_text(encoding="utf-8"))["products"]:
            for name in [product["id"], product["name"], *product["names"]]:
                names[name.replace("-", " ").casefold()] = pack.name
    return names


def _programme_words() -> set[str]:
    """Wording that belongs to a programme: authorization labels, contacts, rule-set names,
    checklist titles and scripts, as the packs give them."""
    words: set[str] = set()
    for pack in PACKS:
        for rule_set in json.loads((pack / "rule_sets.json").read_text(encoding="utf-8"))[
            "rule_sets"
        ]:
            words.add(rule_set["name"])
            for version in rule_set["versions"]:
                words.update(
                    v for v in (version.get("authorization_label"), version.get("contact")) if v
                )
                words.add(version["title"])
        for item in json.loads((pack / "checklist.json").read_text(encoding="utf-8"))["checklist"]:
            words.update([item["title"], item["script"]])
    return {w for w in words if len(w) >= 12}


def _sources(folder: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.py"))}


def _pattern(names: list[str]) -> re.Pattern[str]:
    """Any of the names as whole words, any case, with spaces, dashes or underscores between."""
    alternatives = (
        r"[\s_-]*".join(re.escape(part) for part in name.split())
        for name in sorted(names, key=len, reverse=True)
    )
    return re.compile(
        r"(?<![A-Za-z0-9])(?:" + "|".join(alternatives) + r")(?![A-Za-z])", re.IGNORECASE
    )


def test_the_packs_are_read() -> None:
    names = _pack_names()
    assert len(PACKS) >= 3
    assert {names[n] for n in names} == {p.name for p in PACKS}


def test_no_product_or_generic_name_of_any_pack_appears_in_the_code() -> None:
    found = []
    pattern = _pattern(list(_pack_names()))
    for path, text in _sources(CODE).items():
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(REPO)}:{line}: {match.group(0)!r}")
    assert not found, "medicine names in code (move them to resources/knowledge):\n" + "\n".join(
        found
    )


def test_no_programme_wording_in_the_window() -> None:
    words = _programme_words()
    found = [
        f"{path.relative_to(REPO)}: {word[:60]!r}"
        for path, text in _sources(WINDOW).items()
        for word in words
        if word in text
    ]
    # a programme's own name, outside the rule-set ids of the contract (US-iPLEDGE)
    brand = re.compile(r"(?<![A-Za-z-])iPLEDGE(?![A-Za-z-])|\bRMA\b|P\.A\.R\.T\.")
    for path, text in _sources(WINDOW).items():
        for match in brand.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(REPO)}:{line}: {match.group(0)!r}")
    assert not found, "programme wording in the window's code (move it to the pack):\n" + "\n".join(
        found
    )
