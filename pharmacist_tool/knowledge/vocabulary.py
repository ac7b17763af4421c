"""The general vocabulary of medicines: every name of every substance, read on demand.

The names come from public vocabularies (the FDA's UNII names list, the DrugBank open vocabulary
and MeSH) and from hand-added, cited names (``resources/vocabulary/added.json``);
``scripts/build-vocabulary`` writes them under ``resources/vocabulary/`` (see ``PROVENANCE.md``
there). Two keyed text files, each with a hash table beside it:

- ``names.txt``: ``name<TAB>substance ids<TAB>form`` sorted by name. The name is in the
  matcher's normalised words (``words()``, joined by one space); the ids are comma-separated
  (several for a combination product such as Pylera); ``form`` is the product's form where it is
  known ("cream" for Cortizone-10), else empty. A line with no ids is a word that occurs in some
  name but is not a name on its own (so a misspelling check knows it is a real word).
- ``substances.txt``: ``id<TAB>base id<TAB>display name<TAB>names<TAB>salts`` sorted by id. The
  base is the parent substance of a salt or ester (minocycline for minocycline hydrochloride);
  ``names`` are the ``|``-separated names that lead to this substance, ``salts`` the
  comma-separated ids of the salts and esters whose base it is.

The ``.idx`` file of each is an open-addressing hash table of byte offsets (``zlib.crc32`` of the
key, linear probing), so one lookup reads a few bytes of a memory-mapped file and nothing is
parsed at start-up: opening the vocabulary costs two ``mmap`` calls whatever its size.
"""

from __future__ import annotations

import mmap
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pharmacist_tool import paths

if TYPE_CHECKING:
    from pharmacist_tool.knowledge.model import InteractionRule, SubstanceRef

MAGIC = b"PTVOCAB1"
_HEADER = struct.Struct("<8sII")
"""Magic, number of slots, number of keys."""
EMPTY = 0
"""A free slot (offsets are stored plus one)."""


def build_table(text: bytes) -> bytes:
    """The hash table of a keyed text file (``key<TAB>…`` lines, keys unique)."""
    starts = [0]
    find = text.find
    while True:
        at = find(b"\n", starts[-1])
        if at < 0 or at + 1 >= len(text):
            break
        starts.append(at + 1)
    if not text:
        starts = []
    slots = max(8, 2 * len(starts) + 1)
    table = [EMPTY] * slots
    for start in starts:
        end = text.index(b"\t", start)
        slot = zlib.crc32(text[start:end]) % slots
        while table[slot] != EMPTY:
            slot = (slot + 1) % slots
        table[slot] = start + 1
    return _HEADER.pack(MAGIC, slots, len(starts)) + struct.pack(f"<{slots}I", *table)


class KeyedFile:
    """A ``key<TAB>value`` text file and its hash table, memory-mapped and read on demand."""

    def __init__(self, text_path: Path, table_path: Path) -> None:
        self.path = text_path
        self._text = _map(text_path)
        self._table_bytes = _map(table_path)
        magic, self._slots, self.keys = _HEADER.unpack_from(self._table_bytes, 0)
        if magic != MAGIC or len(self._table_bytes) != _HEADER.size + 4 * self._slots:
            raise ValueError(f"{table_path.name} is not a vocabulary index (rebuild it)")
        self._table = memoryview(self._table_bytes)[_HEADER.size :].cast("I")

    def get(self, key: str) -> str | None:
        """The value of a key (the rest of its line), or None."""
        raw = key.encode()
        want = raw + b"\t"
        text, table, slots = self._text, self._table, self._slots
        slot = zlib.crc32(raw) % slots
        while True:
            offset = table[slot]
            if offset == EMPTY:
                return None
            start = offset - 1
            if text[start : start + len(want)] == want:
                end = text.find(b"\n", start)
                return text[start + len(want) : end if end >= 0 else len(text)].decode()
            slot = (slot + 1) % slots

    def items(self) -> Iterator[tuple[str, str]]:
        """Every key and value, in file order (for tests and review, not for screening)."""
        for line in bytes(self._text).decode().splitlines():
            key, _, value = line.partition("\t")
            yield key, value


def _map(path: Path) -> mmap.mmap | bytes:
    with path.open("rb") as file:
        try:
            return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            return b""


class Name:
    """What a name in the vocabulary stands for."""

    __slots__ = ("form", "substances")

    def __init__(self, substances: tuple[str, ...], form: str) -> None:
        self.substances = substances
        self.form = form
        """The product's form where the name implies one ("cream"), else empty."""


class Substance:
    __slots__ = ("base", "display", "id")

    def __init__(self, substance_id: str, base: str, display: str) -> None:
        self.id = substance_id
        self.base = base
        """The parent substance of a salt or ester (itself when it has none)."""
        self.display = display


class Vocabulary:
    """The names and substances files of a vocabulary folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names = KeyedFile(folder / "names.txt", folder / "names.idx")
        self.substances = KeyedFile(folder / "substances.txt", folder / "substances.idx")
        self._substance_cache: dict[str, Substance | None] = {}

    def name(self, key: str) -> Name | None:
        """The entry of a normalised name, or None (also for a word that is no name alone)."""
        value = self.names.get(key)
        if not value:
            return None
        ids, _, form = value.partition("\t")
        return Name(tuple(ids.split(",")), form) if ids else None

    def is_word(self, word: str) -> bool:
        """The word occurs in some name (a real word of the vocabulary, not a misspelling)."""
        return self.names.get(word) is not None

    def substance(self, substance_id: str) -> Substance | None:
        if substance_id in self._substance_cache:
            return self._substance_cache[substance_id]
        value = self.substances.get(substance_id)
        found = None
        if value is not None:
            base, display, _ = value.split("\t", 2)
            found = Substance(substance_id, base or substance_id, display)
        self._substance_cache[substance_id] = found
        return found

    def names_of(self, substance_id: str) -> list[str]:
        """Every name that leads to a substance itself (not to its salts)."""
        value = self.substances.get(substance_id)
        if not value:
            return []
        names = value.split("\t")[2]
        return [n for n in names.split("|") if n]

    def salts_of(self, substance_id: str) -> list[str]:
        """The ids of the salts and esters whose parent the substance is."""
        value = self.substances.get(substance_id)
        if not value:
            return []
        return [i for i in value.split("\t")[3].split(",") if i]


_OPEN: dict[Path, Vocabulary] = {}
_DEFAULT: list[Vocabulary] = []


def vocabulary(folder: Path | None = None) -> Vocabulary:
    """The vocabulary under ``resources/vocabulary/`` (opened once per process)."""
    if folder is None:
        if _DEFAULT:
            return _DEFAULT[0]
        _DEFAULT.append(vocabulary(paths.resource("vocabulary")))
        return _DEFAULT[0]
    found = _OPEN.get(folder)
    if found is None:
        try:
            found = Vocabulary(folder)
        except (OSError, ValueError, struct.error) as error:
            from pharmacist_tool.errors import UserError

            raise UserError(
                f"The vocabulary of medicine names in {folder} is missing or damaged ({error}); "
                "reinstall the tool or run scripts/build-vocabulary."
            ) from error
        _OPEN[folder] = found
    return found


def check_substances(interactions: list[InteractionRule]) -> list[str]:
    """Problems with the substances the interaction rules name: each must be in the vocabulary,
    under the name given (so a mistyped UNII cannot slip in unnoticed)."""
    problems = []
    for rule in interactions:
        if rule.class_ is None:  # a class's substances are checked with the class
            refs = [*rule.substances, *rule.not_substances]
            problems += check_refs(f"interactions.json: {rule.id!r}", refs)
    return problems


def check_refs(where: str, refs: Sequence[SubstanceRef]) -> list[str]:
    """Problems with substances named by id and name: each must be in the vocabulary, under the
    name given."""
    vocab = vocabulary()
    problems = []
    for ref in refs:
        found = vocab.substance(ref.id)
        if found is None:
            problems.append(
                f"{where} names substance {ref.id} ({ref.name}), "
                "which the vocabulary of medicine names does not have"
            )
        elif found.display != ref.name:
            problems.append(
                f"{where} names substance {ref.id} as {ref.name!r}; "
                f"the vocabulary calls it {found.display!r}"
            )
    return problems
