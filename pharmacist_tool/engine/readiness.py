"""What still stands between a session and its signature, by outcome.

- handed over: no finding may stand (programme blocks cannot be cleared, everything else needs a
  recorded resolution) and every required counselling point is confirmed;
- not handed over: a reason is enough; the findings are recorded as they stand;
- counselling declined: a reason, and nothing may block handing the medicine over.
"""

from __future__ import annotations

from pharmacist_tool.case import Case
from pharmacist_tool.engine.assessment import Assessment


def missing_for_signing(case: Case, assessment: Assessment) -> list[str]:
    outcome = case.outcome
    if outcome is None:
        return ["Choose the outcome: handed over, not handed over, or counselling declined"]
    if outcome.status == "not-handed-over":
        return (
            [] if outcome.reason.strip() else ["Give the reason the medicine was not handed over"]
        )
    missing = [
        f"{f.severity.upper()} {f.code}: {f.message}" for f in assessment.findings if f.stands
    ]
    if outcome.status == "declined":
        if not outcome.reason.strip():
            missing.insert(0, "Give the reason counselling was declined")
        return [m for m in missing if m.startswith("BLOCK")]
    missing += [
        f"Counselling point not confirmed: {item.title} ({item.id})"
        for item in assessment.checklist
        if item.required and not item.done
    ]
    return missing
