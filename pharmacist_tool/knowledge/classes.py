"""Shared substance classes: defined once under ``resources/classes/<id>.json``, by substance.

A class (tetracyclines, enzyme inducers, oestrogens, carbapenems …) lists its substances by FDA
UNII, the salts or esters that are not its form, its endings and the words that say a line is
another form, each cited to the class's own source register. What belongs to a substance rather
than to a pack is said once here: a substance that weakens hormonal contraception says so (and
from what daily dose), and every pack that requires contraception applies it.

A pack's interaction refers to a class by id (``"class": "tetracyclines"``) and keeps its own
severity per rule set, wording, action and sources; ``resolve`` gives the rule the class's
substances, stems and forms, so the matcher sees one kind of rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge.model import (
    InteractionRule,
    SubstanceClass,
    SubstanceRef,
    WeakensContraception,
)

FOLDER = "classes"

_LOADED: dict[Path, dict[str, SubstanceClass]] = {}


def classes_folder(pack_folder: Path | None = None) -> Path:
    """The classes beside a pack's ``knowledge`` folder (a copied tree under review), else the
    bundled ones."""
    if pack_folder is not None:
        beside = pack_folder.parent.parent / FOLDER
        if beside.is_dir():
            return beside
    return paths.resource(FOLDER)


def load_classes(folder: Path) -> dict[str, SubstanceClass]:
    """Every class of a folder by id, validated (once per process per folder)."""
    found = _LOADED.get(folder)
    if found is not None:
        return found
    decoder = msgspec.json.Decoder(SubstanceClass)
    found = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.json")):
        try:
            entry = decoder.decode(path.read_bytes())
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            raise UserError(f"The substance class {path.name} is damaged: {error}") from error
        if entry.id != path.stem:
            problems.append(f"classes/{path.name}: id {entry.id!r} differs from the file name")
        problems += _check_class(path.name, entry)
        found[entry.id] = entry
    if problems:
        raise UserError("The shared substance classes are inconsistent:", details=problems)
    _LOADED[folder] = found
    return found


def _check_class(name: str, entry: SubstanceClass) -> list[str]:
    problems = []
    cited = [*entry.sources]
    for ref in entry.substances:
        if ref.weakens_contraception is not None:
            cited += ref.weakens_contraception.sources
    for key in cited:
        if key not in entry.register:
            problems.append(f"classes/{name}: cites source {key!r}, not in its register")
    return problems


_NAMES_CHECKED: set[tuple[Path, str]] = set()


def substance_problems(folder: Path, ids: Iterable[str]) -> list[str]:
    """The classes' substances are in the vocabulary under the names given (each class checked
    once per process: a pack checks the classes it refers to when it loads; the conformance
    suite checks every class)."""
    from pharmacist_tool.knowledge.vocabulary import check_refs

    found = load_classes(folder)
    problems = []
    for class_id in ids:
        entry = found.get(class_id)
        if entry is None or (folder, class_id) in _NAMES_CHECKED:
            continue
        where = f"classes/{class_id}.json:"
        refs = check_refs(where, [*entry.substances, *entry.not_substances])
        if not refs:
            _NAMES_CHECKED.add((folder, class_id))
        problems += refs
    return problems


def weakeners(
    classes: dict[str, SubstanceClass],
) -> tuple[dict[str, WeakensContraception], list[str]]:
    """Substance id → how it weakens contraception, from every class; a substance given
    different facts in two classes is a problem."""
    table: dict[str, WeakensContraception] = {}
    where: dict[str, str] = {}
    problems = []
    for entry in classes.values():
        for ref in entry.substances:
            fact = ref.weakens_contraception
            if fact is None:
                continue
            known = table.get(ref.id)
            if known is not None and (known.from_mg_per_day, known.methods) != (
                fact.from_mg_per_day,
                fact.methods,
            ):
                problems.append(
                    f"classes/{entry.id}.json: {ref.name} weakens contraception differently "
                    f"in classes/{where[ref.id]}.json"
                )
            table.setdefault(ref.id, fact)
            where.setdefault(ref.id, entry.id)
    return table, problems


def resolve(
    rules: list[InteractionRule], classes: dict[str, SubstanceClass]
) -> tuple[list[InteractionRule], list[str]]:
    """The pack's rules with their classes' substances, stems and forms; problems name a class
    that does not exist or a rule that names neither a class nor substances."""
    resolved = []
    problems = []
    table, _ = weakeners(classes)
    for rule in rules:
        if rule.class_ is None:
            if not rule.substances:
                problems.append(
                    f"interactions.json: {rule.id!r} names neither a class nor substances "
                    "(typed terms are only additions to a class)"
                )
            resolved.append(rule)
            continue
        entry = classes.get(rule.class_)
        if entry is None:
            problems.append(
                f"interactions.json: {rule.id!r} refers to class {rule.class_!r}, which is not "
                f"in resources/{FOLDER}/ (known: {', '.join(sorted(classes))})"
            )
            resolved.append(rule)
            continue
        left_out = {ref.id for ref in rule.without}
        for ref in rule.without:
            if ref.id not in {s.id for s in entry.substances}:
                problems.append(
                    f"interactions.json: {rule.id!r} leaves out {ref.name}, which is not a "
                    f"substance of class {entry.id!r}"
                )
        members = [
            SubstanceRef(id=ref.id, name=ref.name, salts=ref.salts)
            for ref in entry.substances
            if ref.id not in left_out
        ]
        substances = members + [r for r in rule.substances if r.id not in {m.id for m in members}]
        weakening = [table[s.id] for s in substances if s.id in table]
        weakens = rule.weakens_hormonal_contraception or bool(weakening)
        threshold = rule.weakens_contraception_from_mg_per_day
        if weakening and threshold is None and not rule.weakens_hormonal_contraception:
            thresholds = [w.from_mg_per_day for w in weakening]
            # a line matched by a class word, not a substance: the strictest fact applies
            threshold = None if None in thresholds else min(t for t in thresholds if t)
        resolved.append(
            msgspec.structs.replace(
                rule,
                agent=rule.agent or entry.agent,
                substances=substances,
                not_substances=[*entry.not_substances, *rule.not_substances, *rule.without],
                stems=list(dict.fromkeys([*entry.stems, *rule.stems])),
                terms=list(dict.fromkeys([*entry.terms, *rule.terms])),
                exclude_terms=list(dict.fromkeys([*entry.exclude_terms, *rule.exclude_terms])),
                weakens_hormonal_contraception=weakens,
                weakens_contraception_from_mg_per_day=threshold,
                assumed_doses_per_day=max(
                    [rule.assumed_doses_per_day, *(w.assumed_doses_per_day for w in weakening)]
                ),
            )
        )
    return resolved, problems
