"""A case file's home pregnancy test in the window: the test list says where it was done, the
findings say why it does not count, and the setting is kept when the session is collected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES


def test_a_home_test_from_a_case_file_is_shown_and_kept(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    (source,) = EXAMPLES.glob("01*.json")
    data = json.loads(source.read_text(encoding="utf-8"))
    data["pregnancy_tests"][-1]["setting"] = "home"  # first fill, 2026 rules: not accepted
    path = tmp_path / "home-test.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert window.open_case_file(path)
    qtbot.waitUntil(lambda: window.assessment is not None)
    tests = window.pages[2].tests
    shown = [tests.item(i).text() for i in range(tests.count())]
    assert shown[-1].endswith("— negative (home test)") and "(home test)" not in shown[0]
    codes = {f.code for f in window.assessment.findings}
    assert "pregnancy-test.home-not-accepted" in codes
    assert window.case.pregnancy_tests[-1].setting == "home"
