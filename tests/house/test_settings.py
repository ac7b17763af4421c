"""Per-machine settings: defaults when missing, a faithful round trip, a damaged file reported."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError
from pharmacist_tool.settings import Settings, load_settings, save_settings


def _settings_path(home: Path) -> Path:
    return home / "config" / "settings.json"


def test_no_file_means_the_defaults_and_nothing_is_written(isolated_home: Path) -> None:
    assert load_settings() == Settings()
    assert not _settings_path(isolated_home).exists()


def test_saved_settings_load_back_the_same(isolated_home: Path) -> None:
    chosen = Settings(
        pharmacy_name="Farmacia Núñez & Hijos",
        pharmacy_address="Calle Mayor 3\n28013 Madrid",
        pharmacy_phone="+34 91 000 00 00",
        paper_size="A4",
        default_printer="Counter 2 (HP LaserJet)",
        idle_lock_minutes=12,
        default_rule_set="EU-PPP",
        handout_language="es",
        rule_effective_dates={"US-iPLEDGE@2026.11": dt.date(2026, 11, 15)},
    )
    save_settings(chosen)

    assert paths.settings_file() == _settings_path(isolated_home)
    assert load_settings() == chosen
    stored = json.loads(_settings_path(isolated_home).read_text(encoding="utf-8"))
    assert stored["paper_size"] == "A4"
    assert stored["rule_effective_dates"] == {"US-iPLEDGE@2026.11": "2026-11-15"}


def test_saving_again_replaces_the_file_and_leaves_no_temporary_file(isolated_home: Path) -> None:
    save_settings(Settings(pharmacy_name="First"))
    save_settings(Settings(pharmacy_name="Second"))
    assert load_settings().pharmacy_name == "Second"
    assert sorted(p.name for p in _settings_path(isolated_home).parent.iterdir()) == [
        "settings.json"
    ]


def test_a_file_from_a_newer_version_still_loads(isolated_home: Path) -> None:
    path = _settings_path(isolated_home)
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"pharmacy_name": "Corner Pharmacy", "a_setting_added_later": True}),
        encoding="utf-8",
    )
    loaded = load_settings()
    assert loaded.pharmacy_name == "Corner Pharmacy"
    assert loaded.paper_size == Settings().paper_size


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b'{"pharmacy_name": "Corner Pharmacy", ', "truncated"),
        (b"", "truncated"),
        (b"\xff\xfe not text", "invalid"),
        (b'{"idle_lock_minutes": 0}', "idle_lock_minutes"),
        (b'{"paper_size": "A5"}', "paper_size"),
        (b'{"handout_language": "English"}', "handout_language"),
        (b'{"rule_effective_dates": {"US-iPLEDGE@2026.11": "2026-02-30"}}', "rule_effective_dates"),
        (b'["not", "an", "object"]', "object"),
    ],
    ids=[
        "cut-short",
        "empty",
        "not-text",
        "lock-zero",
        "paper-unknown",
        "language-name",
        "impossible-date",
        "a-list",
    ],
)
def test_a_damaged_file_is_reported_and_left_as_it_is(
    isolated_home: Path, content: bytes, named: str
) -> None:
    path = _settings_path(isolated_home)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)

    with pytest.raises(UserError) as caught:
        load_settings()

    message = str(caught.value)
    assert str(path) in message
    assert named.lower() in message.replace(str(path), "").lower()
    assert "Traceback" not in message
    assert path.read_bytes() == content  # never silently overwritten


def test_a_folder_in_place_of_the_file_is_reported(isolated_home: Path) -> None:
    _settings_path(isolated_home).mkdir(parents=True)
    with pytest.raises(UserError) as caught:
        load_settings()
    assert str(_settings_path(isolated_home)) in str(caught.value)
