"""The registry of medicine packs: a product finds its pack, only that pack is read, each pack is
loaded once, and the settings' effective dates are keyed by pack and version."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_for_counter, load_pack, rules_in_force
from pharmacist_tool.knowledge.packs import INDEX, build_index, default_pack, names, pack_for
from pharmacist_tool.settings import Settings, save_settings
from tests.conftest import EXAMPLES

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "resources" / "knowledge"
PACK_CASES = REPO / "tests" / "fixtures" / "packs"


def test_the_index_is_what_the_packs_products_give() -> None:
    index = KNOWLEDGE / INDEX
    default = msgspec.json.decode(index.read_bytes())["default"]
    assert index.read_bytes() == build_index(KNOWLEDGE, default), "run scripts/index-packs"
    assert set(names()) == {p.name for p in KNOWLEDGE.iterdir() if (p / "products.json").exists()}
    assert default_pack() in names()


@pytest.mark.parametrize(
    ("medicine", "pack"),
    [
        ("Claravis", "isotretinoin"),
        ("ISOTRETINOIN 20 mg capsules", "isotretinoin"),
        ("absorica ld", "isotretinoin"),
        ("Soriatane 25 mg", "acitretin"),
        ("neotigason", "acitretin"),
        ("Acitretin capsules", "acitretin"),
        ("Epilim Chrono 500", "valproate"),
        ("sodium valproate 200mg", "valproate"),
        ("DEPAKOTE ER", "valproate"),
        ("valproic acid", "valproate"),
    ],
)
def test_a_generic_or_brand_name_in_any_case_finds_its_pack(medicine: str, pack: str) -> None:
    assert pack_for(medicine) == pack
    assert load_for_counter(medicine).medicine == pack


@pytest.mark.parametrize("medicine", ["Xyzzy 10 mg", "Soriatane XR", "Epilim and Claravis"])
def test_a_name_of_no_pack_or_of_two_is_refused(medicine: str) -> None:
    with pytest.raises(UserError, match=r"prescription\.medicine"):
        pack_for(medicine)


def test_assess_refuses_an_unknown_product_naming_the_packs(tmp_path: Path) -> None:
    case = json.loads((PACK_CASES / "valproate-uk-ppp-routine.json").read_text(encoding="utf-8"))
    case["prescription"]["medicine"] = "Valpro-Xyzzy"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    out = tmp_path / "out.json"
    result = subprocess.run(
        [sys.executable, "-m", "pharmacist_tool", "assess", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 2
    assert "prescription.medicine" in result.stderr
    assert ", ".join(sorted(names())) in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("case", sorted(PACK_CASES.glob("*.json")), ids=lambda p: p.stem)
def test_assess_names_the_pack_of_each_case(case: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pharmacist_tool", "assess", str(case)],
        capture_output=True,
        cwd=REPO,
        check=True,
    )
    assessment = json.loads(result.stdout)
    assert assessment["knowledge_base"]["medicine"] == case.stem.split("-")[0]


_OPENED = textwrap.dedent(
    """
    import sys
    opened = []
    sys.addaudithook(lambda event, args: opened.append(str(args[0]))
                     if event == "open" and args and isinstance(args[0], str) else None)
    from pharmacist_tool.cli import main
    status = main(["assess", sys.argv[1]])
    sys.stdout.flush()
    sys.stderr.write("\\n".join(opened))
    raise SystemExit(status)
    """
)


@pytest.mark.parametrize(
    ("case", "pack"),
    [
        (EXAMPLES / "01-routine-can-get-pregnant.json", "isotretinoin"),
        (PACK_CASES / "valproate-uk-ppp-routine.json", "valproate"),
    ],
)
def test_assess_reads_only_the_case_pack(case: Path, pack: str) -> None:
    """Every file the process opens is recorded (Python's audit hook, in a real run of the
    command): of the packs, only the case's own is read, besides the index."""
    result = subprocess.run(
        [sys.executable, "-c", _OPENED, str(case)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    opened = [Path(p).resolve() for p in result.stderr.splitlines() if p]
    packs_read = {p.parent.name for p in opened if p.parent.parent == KNOWLEDGE}
    assert packs_read == {pack}
    assert KNOWLEDGE / INDEX in opened
    assert json.loads(result.stdout)["knowledge_base"]["medicine"] == pack


def test_each_pack_is_loaded_once_per_process() -> None:
    assert load_pack("acitretin") is load_pack("acitretin")
    assert load_for_counter("Soriatane") is load_for_counter("acitretin")


def test_a_pack_that_is_not_installed_is_refused() -> None:
    with pytest.raises(UserError, match=r"no medicine pack 'thalidomide'.*acitretin"):
        load_pack("thalidomide")


def test_effective_dates_are_keyed_by_pack_and_version_and_bare_ids_still_work() -> None:
    settings = Settings(
        rule_effective_dates={
            "us-ipledge-2026": dt.date(2027, 1, 4),  # the older, bare form
            "acitretin/acitretin-uk-ppp-2018": dt.date(2026, 12, 1),
        }
    )
    save_settings(settings)
    iso = load_for_counter("Claravis")
    assert rules_in_force(iso, "US-iPLEDGE", dt.date(2027, 1, 3)).id == "us-ipledge-2021"
    aci = load_for_counter("Neotigason")
    assert rules_in_force(aci, "UK-PPP", dt.date(2026, 12, 1)).effective_from == dt.date(
        2026, 12, 1
    )
    with pytest.raises(UserError, match="no UK-PPP rules are in force on 2026-11-30"):
        rules_in_force(aci, "UK-PPP", dt.date(2026, 11, 30))
    # the pack itself is unchanged: the dates are applied to a copy
    assert rules_in_force(load_pack("acitretin"), "UK-PPP", dt.date(2026, 11, 30))


def test_a_pack_key_naming_an_unknown_version_is_refused() -> None:
    save_settings(
        Settings(rule_effective_dates={"valproate/valproate-uk-ppp-2030": dt.date(2030, 1, 1)})
    )
    with pytest.raises(UserError, match="unknown rule-set version: valproate-uk-ppp-2030"):
        load_for_counter("Epilim")
    assert paths.settings_file().exists()


def test_rule_set_version_ids_are_unique_across_packs() -> None:
    """The settings may key a date by a bare version id: it must name one pack's version."""
    ids = [v.id for pack in names() for r in load_pack(pack).rule_sets for v in r.versions]
    assert len(ids) == len(set(ids))
