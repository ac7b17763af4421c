"""A pack with no approved handout wording yet (acitretin, valproate) gets no sheet: the handout
is refused with a message that says what to give instead, never a sheet made of another
medicine's facts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PACK_CASES = Path(__file__).parents[1] / "fixtures" / "packs"
REPO = Path(__file__).parents[2]


@pytest.mark.parametrize("case", sorted(PACK_CASES.glob("*.json")), ids=lambda p: p.stem)
def test_a_pack_without_handout_wording_is_refused_naming_what_to_give(
    case: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sheet.pdf"
    result = subprocess.run(
        [sys.executable, "-m", "pharmacist_tool", "handout", str(case), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 2
    assert f"no approved handout for {case.stem.split('-')[0]}" in result.stderr
    assert "leaflet in the box" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
