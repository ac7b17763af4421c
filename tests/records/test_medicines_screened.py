"""A signed record keeps how each medicine line was screened, as the assessment said it."""

from __future__ import annotations

import json

import msgspec

from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.records import reading, service, writing
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.helpers import finished_case, handout_for


def test_a_signed_record_keeps_medicines_screened(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    kb = load_knowledge_base()
    case = finished_case()
    case = msgspec.structs.replace(
        case,
        medicines=["Zoloft 50 mg", "Xyzzy", "carbamezapine"],
        checklist={item.id: True for item in kb.checklist},
        resolutions={
            "medicine.unrecognised": "Checked the pack: a herbal tea",
            "interaction.anticonvulsants-bone": "Prescriber aware; bone health advice given",
        },
    )
    assessment = assess(case, kb)
    summary = writing.sign_record(db, pharmacist, case, assessment, handout_for(case))
    record = reading.get_record(db, summary.id)
    stored = json.loads(record.assessment_json)["medicines_screened"]
    assert stored == [
        {"line": "Zoloft 50 mg", "recognised_as": "sertraline", "codes": []},
        {"line": "Xyzzy", "recognised_as": None, "codes": ["medicine.unrecognised"]},
        {
            "line": "carbamezapine",
            "recognised_as": "carbamazepine",
            "codes": ["interaction.anticonvulsants-bone"],
        },
    ]
    assert record.facts.medicines_screened == (
        "Zoloft 50 mg: screened as sertraline",
        "Xyzzy: not recognised, not screened (check by hand)",
        "carbamezapine: screened as carbamazepine",
    )
    assert service.verify(db).intact
