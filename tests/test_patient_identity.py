"""Who the patient is: the name folding and the key, over the ways one name gets typed."""

from __future__ import annotations

import datetime as dt
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from pharmacist_tool.patient_identity import (
    PatientKey,
    fold_name,
    patient_of,
    same_patient,
)

BORN = dt.date(1990, 5, 17)
WORDS = [
    "Lucía", "García", "José", "Müller", "Zoë", "Núñez", "François", "Ångström", "Çelik",
    "Hélène", "Añón", "Ana", "Smith", "O'Connor", "García-López", "Łukasz", "Ørsted",
]  # fmt: skip
PLAIN = str.maketrans("áéíóúàèâêôüöëïçñåÁÉÍÓÚÀÈÂÊÔÜÖËÏÇÑÅ", "aeiouaeaeouoeicnaAEIOUAEAEOUOEICNA")
"""Accents as a keyboard without them drops them (Ł and Ø are letters, not accented ones)."""
SPACES = [" ", "  ", "\u00a0", " \u00a0 "]
CASINGS = [str, str.lower, str.upper, str.title, str.swapcase]
FORMS = ["NFC", "NFD"]


@st.composite
def typed(draw: st.DrawFn, words: list[str]) -> str:
    """One way a person may type ``words``: accents or not, any letter case, any spacing, the
    accents composed or not."""
    out = []
    for word in words:
        out.append(word.translate(PLAIN) if draw(st.booleans()) else word)
        out.append(draw(st.sampled_from(SPACES)))
    lead = draw(st.sampled_from(["", " ", "  "]))
    text = draw(st.sampled_from(CASINGS))(lead + "".join(out))
    return unicodedata.normalize(draw(st.sampled_from(FORMS)), text)


names = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4)


@given(st.data(), names)
def test_every_way_of_typing_a_name_is_one_patient(data: st.DataObject, words: list[str]) -> None:
    one, other = data.draw(typed(words)), data.draw(typed(words))
    a, b = PatientKey.typed(one, BORN), PatientKey.typed(other, BORN)
    assert a == b
    assert a.text == b.text and a.public_id == b.public_id
    assert same_patient(a, b)
    assert fold_name(fold_name(one)) == fold_name(one)


@given(st.data(), names, names)
def test_other_words_are_another_patient(
    data: st.DataObject, words: list[str], others: list[str]
) -> None:
    if [w.translate(PLAIN).casefold() for w in words] == [
        w.translate(PLAIN).casefold() for w in others
    ]:
        return
    a = PatientKey.typed(data.draw(typed(words)), BORN)
    b = PatientKey.typed(data.draw(typed(others)), BORN)
    assert a.text != b.text and a.public_id != b.public_id
    assert not same_patient(a, b)


@given(st.data(), names)
def test_the_date_of_birth_is_part_of_the_patient(data: st.DataObject, words: list[str]) -> None:
    a = PatientKey.typed(data.draw(typed(words)), BORN)
    b = PatientKey.typed(data.draw(typed(words)), BORN + dt.timedelta(days=1))
    assert not same_patient(a, b)


@given(st.data(), names)
def test_a_record_without_the_programme_id_joins_the_one_its_name_carries(
    data: st.DataObject, words: list[str]
) -> None:
    numbered = PatientKey.typed(data.draw(typed(words)), BORN, " IP-7 ")
    bare = PatientKey.typed(data.draw(typed(words)), BORN)
    assert patient_of(bare, [numbered]).text == numbered.text == "id:IP-7"
    assert same_patient(bare, numbered, [numbered, bare])
    # Two programme ids under one name and date of birth: the record with none is its own.
    twin = PatientKey.typed(data.draw(typed(words)), BORN, "IP-8")
    assert patient_of(bare, [numbered, twin]) == bare
    assert not same_patient(bare, numbered, [numbered, twin])


def test_the_stored_forms_do_not_change() -> None:
    """The folded name is stored with every record and the key with every due row: existing
    databases keep their patients only while these stay as they were."""
    assert fold_name("  GARCÍA  Ana") == "garcia ana"
    assert fold_name("Zoë O'Brien-Núñez") == "zoe o'brien-nunez"
    assert PatientKey.typed("Lucía García", BORN).text == "name:lucia garcia|1990-05-17"
    assert PatientKey.typed("Lucía García", BORN, "IP-1").text == "id:IP-1"
    assert PatientKey.typed("Lucía García", BORN, "  ") == PatientKey.typed("Lucia Garcia", BORN)
