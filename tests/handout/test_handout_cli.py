"""``pharmacist-tool handout`` as a script would run it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import example_path, run_cli
from tests.handout.conftest import read_pdf, squeeze


def test_writes_the_handout(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "ana.pdf"
    done = run_cli("handout", str(example_path("01")), "-o", str(out))
    assert done.returncode == 0, done.stderr.decode()
    back = read_pdf(out.read_bytes())
    assert squeeze("Ana García") in back.flat
    assert back.pages <= 2
    assert list(folder.iterdir()) == [out]  # no temporary file left


def test_flags_override_the_case(tmp_path: Path) -> None:
    out = tmp_path / "es.pdf"
    done = run_cli(
        "handout", str(example_path("01")), "-o", str(out), "--language", "es", "--paper", "A4"
    )
    assert done.returncode == 0, done.stderr.decode()
    back = read_pdf(out.read_bytes())
    assert squeeze("Su hoja de Claravis") in back.flat
    assert round(float(back.reader.pages[0].mediabox[3])) == 842
    large = tmp_path / "large.pdf"
    assert (
        run_cli("handout", str(example_path("01")), "-o", str(large), "--large-print").returncode
        == 0
    )
    assert read_pdf(large.read_bytes()).pages > 2


def test_language_without_text_prints_english_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "fr.pdf"
    done = run_cli("handout", str(example_path("01")), "-o", str(out), "--language", "fr")
    assert done.returncode == 0
    assert b"English" in done.stderr
    assert squeeze("This sheet is in English.") in read_pdf(out.read_bytes()).flat


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    tmp_path = tmp_path / "work"
    tmp_path.mkdir()
    out = tmp_path / "out.pdf"
    missing = run_cli("handout", str(tmp_path / "nope.json"), "-o", str(out))
    assert missing.returncode == 2 and b"not found" in missing.stderr
    broken = tmp_path / "broken.json"
    data = json.loads(example_path("01").read_text(encoding="utf-8"))
    data["patient"]["weight_kg"] = -3
    broken.write_text(json.dumps(data), encoding="utf-8")
    bad = run_cli("handout", str(broken), "-o", str(out))
    assert bad.returncode == 2 and b"weight_kg" in bad.stderr
    language = run_cli("handout", str(example_path("01")), "-o", str(out), "--language", "e<s")
    assert language.returncode == 2 and b"language" in language.stderr
    folder = run_cli("handout", str(example_path("01")), "-o", str(tmp_path))
    assert folder.returncode == 2 and b"folder" in folder.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.json"]


def test_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    out.write_bytes(b"old")
    assert run_cli("handout", str(example_path("02")), "-o", str(out)).returncode == 0
    assert out.read_bytes().startswith(b"%PDF")
    bad = run_cli("handout", str(tmp_path / "missing.json"), "-o", str(out))
    assert bad.returncode == 2
    assert out.read_bytes().startswith(b"%PDF")  # a failed run leaves the old file alone
