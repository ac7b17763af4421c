"""The registry of medicine packs: which pack a prescription's product belongs to, and each pack
loaded once.

A pack is a folder ``resources/knowledge/<pack>/`` (the generic name). ``resources/knowledge/
index.json`` lists every pack with the product names its ``products.json`` gives (and its rule-set
ids, for the window's chooser), so that finding the case's pack reads that one small file and then
only the case's own pack; a pack whose products or rule sets differ from the index is refused when
loaded (``scripts/index-packs`` rewrites the index).

Settings' ``rule_effective_dates`` are keyed ``<pack>/<version id>``; a bare version id (the
older form) applies to whichever pack has that version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final

import msgspec

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge.model import KnowledgeBase

INDEX: Final = "index.json"


class _Pack(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    products: dict[str, list[str]]
    """Product id → every name of it (as ``products.json`` gives them)."""
    rule_sets: list[str]
    """The pack's rule-set ids (as ``rule_sets.json`` gives them)."""


class Index(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    default: str
    """The pack used when no medicine is named yet (a new session in the window)."""
    packs: dict[str, _Pack]


@cache
def index() -> Index:
    path = paths.resource("knowledge", INDEX)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"Cannot read the list of medicine packs {path}: {error}") from error
    try:
        found = msgspec.json.decode(data, type=Index)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise UserError(f"The list of medicine packs {path} is damaged: {error}") from error
    if found.default not in found.packs:
        raise UserError(f"{path}: the default pack {found.default!r} is not listed in packs.")
    shared = names_in_two_packs(found.packs)
    if shared:
        raise UserError(f"{path}: a product name must lead to one pack only:", details=shared)
    return found


def names_in_two_packs(packs: Mapping[str, _Pack]) -> list[str]:
    """Product names (any case, punctuation ignored) that two packs both give."""
    from pharmacist_tool.knowledge.matching import words

    owner: dict[tuple[str, ...], str] = {}
    problems: dict[tuple[str, ...], str] = {}
    for pack, entry in packs.items():
        for product_id, product_names in entry.products.items():
            for name in [product_id, *product_names]:
                key = words(name)
                if owner.setdefault(key, pack) != pack:
                    problems.setdefault(
                        key, f"{name!r} is a product of {owner[key]!r} and of {pack!r}"
                    )
    return list(problems.values())


def names() -> list[str]:
    """Every pack, in the index's order."""
    return list(index().packs)


def default_pack() -> str:
    return index().default


def rule_set_ids(first: str | None = None) -> list[str]:
    """Every rule-set id of every pack, each once: those of pack ``first`` first."""
    packs = index().packs
    order = ([first] if first in packs else []) + list(packs)
    return list(dict.fromkeys(r for pack in order for r in packs[pack].rule_sets))


def pack_for(medicine: str) -> str:
    """The pack whose products include the one a prescription names (any case, strengths and
    words such as "capsules" ignored). Refused, naming the packs, when none or two match."""
    from pharmacist_tool.knowledge import match_product_name

    found = [
        pack
        for pack, entry in index().packs.items()
        if match_product_name(list(entry.products.items()), medicine, generic=pack) is not None
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        raise UserError(
            f"prescription.medicine: {medicine!r} is not a product of any medicine pack "
            f"(packs: {', '.join(names())})."
        )
    raise UserError(
        f"prescription.medicine: {medicine!r} names products of more than one medicine "
        f"({', '.join(found)}); write one product."
    )


def dates_for(kb: KnowledgeBase, settings_dates: Mapping[str, dt.date]) -> dict[str, dt.date]:
    """The settings' effective dates that concern one pack, keyed by its version ids.

    ``<pack>/<version>`` keys are this pack's (an unknown version is refused when applied); bare
    version ids (the older form) are kept only where the pack has that version.
    """
    prefix = f"{kb.medicine}/"
    known = {v.id for r in kb.rule_sets for v in r.versions}
    bare = {k: d for k, d in settings_dates.items() if "/" not in k and k in known}
    own = {k.removeprefix(prefix): d for k, d in settings_dates.items() if k.startswith(prefix)}
    return {**bare, **own}


def load(pack: str) -> KnowledgeBase:
    """Load (once per process) and validate one pack, with the effective dates of its data."""
    if pack not in index().packs:
        raise UserError(f"There is no medicine pack {pack!r} (packs: {', '.join(names())}).")
    return _load(pack)


@cache
def _load(pack: str) -> KnowledgeBase:
    from pharmacist_tool.knowledge import load_knowledge_base

    kb = load_knowledge_base(pack)
    listed = index().packs[pack]
    given = {p.id: list(p.names) for p in kb.products}
    if given != listed.products or [r.id for r in kb.rule_sets] != listed.rule_sets:
        raise UserError(
            f"The list of medicine packs (knowledge/{INDEX}) does not match "
            f"{pack}/products.json; run scripts/index-packs to rewrite it."
        )
    return kb


def clear_cache() -> None:
    """Forget loaded packs (after the settings' effective dates change)."""
    _load.cache_clear()
    index.cache_clear()


def build_index(root: Path, default: str) -> bytes:
    """The index for the packs under ``root`` (each folder with a ``products.json``), as
    ``scripts/index-packs`` writes it: packs in name order, products as their files give them."""

    class _Products(msgspec.Struct):
        products: list[dict[str, Any]]

    class _RuleSets(msgspec.Struct):
        rule_sets: list[dict[str, Any]]

    packs: dict[str, Any] = {}
    for folder in sorted(p for p in root.iterdir() if (p / "products.json").is_file()):
        products = msgspec.json.decode((folder / "products.json").read_bytes(), type=_Products)
        rule_sets = msgspec.json.decode((folder / "rule_sets.json").read_bytes(), type=_RuleSets)
        packs[folder.name] = {
            "products": {str(p["id"]): list(p.get("names", [])) for p in products.products},
            "rule_sets": [str(r["id"]) for r in rule_sets.rule_sets],
        }
    if default not in packs:
        raise UserError(f"The default pack {default!r} is not a folder under {root}.")
    typed = msgspec.convert(packs, dict[str, _Pack])
    shared = names_in_two_packs(typed)
    if shared:
        raise UserError("A product name must lead to one pack only:", details=shared)
    body = msgspec.json.encode({"default": default, "packs": packs})
    return msgspec.json.format(body, indent=2) + b"\n"
