"""The pack contract: what every pack must hold, checked when it is loaded.

A pack that breaks it is refused at load with a message naming what is missing, never at assess
time on a patient's line. The contract:

- every interaction names its shared class or its substances (``classes.resolve``);
- every finding code the engine can raise for this pack has wording in ``messages.json`` (the
  pharmacist's findings are in English; the patient's languages are the handout's);
- every rule set says which findings never clear, a positive pregnancy test in all;
- each contraception method's note names the rule-set families where it does not count, when it
  counts in another (a note that says "does not count" everywhere while a family counts it
  contradicts the status);
- a pack that requires contraception knows the wording of a weakened method;
- staff training (``staff_training``) is asked only by a programme, at most every three years
  where it is checked before signing;
- an effective date marked unconfirmed says why (the version's ``unconfirmed``).
- every programme duty has its words in every language the pack has, and a form seen with its
  date says how long the form is valid (only such a duty does).

``WORDING_ALWAYS`` and ``wording_needed`` list the codes the engine raises (a test reads the
engine's source and fails when a code is raised that is not listed here).
"""

from __future__ import annotations

from pharmacist_tool.knowledge.model import KnowledgeBase, RuleSetVersion

NEVER_CLEARS = "pregnancy-test.positive"
MAX_TRAINING_DAYS = 3 * 366
"""The longest interval between trainings a signature may rest on."""
"""Listed in every rule set's ``never_clear``."""

WORDING_ALWAYS: frozenset[str] = frozenset(
    {
        "medicine.unrecognised",
        "medicine.matched-close",
        "medicine.matched-stem",
        "pregnancy-test.positive",
        "pregnancy-test.positive-cannot-get-pregnant",
        "pregnancy-test.positive-then-negative",
        "pregnancy-test.home-not-accepted",
        "prescription.quantity-mismatch",
        "prescription.strength-not-made",
        "prescription.product-market",
        "dose.above-max",
        "dose.above-usual",
        "dose.below-usual",
        "contraception.weakened-dose-unknown",
        "contraception.weakened-frequency-assumed",
        "course.after-course",
        "course.after-course-can-get-pregnant",
    }
)
"""Codes any pack can raise, whatever its rule sets say."""

CONTRACEPTION = frozenset(
    {
        "contraception.unrecognised",
        "contraception.method-not-accepted",
        "contraception.rule-not-met",
        "contraception.weakened-rule-still-met",
        "contraception.weakened-rule-not-met",
    }
)
"""Codes of a pack with a contraception rule."""

FAMILY_WORDS: dict[str, tuple[str, ...]] = {
    "US": ("US", "iPLEDGE", "United States"),
    "UK": ("UK", "United Kingdom", "MHRA"),
    "EU": ("EU", "European", "Europe"),
}
"""How a method's note names a family of rule sets."""


def checks_test_interval(rules: RuleSetVersion) -> bool:
    """The counter checks the latest negative test against the rule set's interval itself: a
    test is required and due every ``test_interval_days``, and neither a pick-up window that
    runs from the test nor a limit before the prescription already judges its age."""
    window = rules.window_can_get_pregnant
    return (
        rules.test_interval_days is not None
        and rules.pregnancy_test == "required"
        and rules.test_max_days_before_prescription is None
        and (window is None or window.anchor != "latest-pregnancy-test")
    )


def wording_needed(kb: KnowledgeBase) -> set[str]:
    """Every finding code the engine can raise for this pack, by what its data holds."""
    versions = [v for r in kb.rule_sets for v in r.versions]
    needed = set(WORDING_ALWAYS)
    needed.add(kb.counter.dose_frequency.fewer)
    needed.add(kb.counter.dose_frequency.more)
    needed.update(limit.code for limit in kb.counter.age_limits)
    needed.update(rule.code for rule in kb.counter.alcohol)
    needed.add(
        "course.cumulative-dose-no-target"
        if kb.course.cumulative_target is None
        else "course.cumulative-dose-within"
    )
    if kb.course.cumulative_target is not None:
        needed.update({"course.cumulative-dose-below", "course.cumulative-dose-above"})
    conditional = {
        "prescription.authorization-missing": any(v.requires_authorization for v in versions),
        "prescription.pick-up-window-closed": any(v.window_can_get_pregnant for v in versions),
        "prescription.visit-window-closed": any(v.window_cannot_get_pregnant for v in versions),
        "prescription.days-supply-over-limit": any(v.max_days_supply for v in versions),
        "prescription.quantity-over-limit": any(v.max_days_supply for v in versions),
        "prescription.refills-not-allowed": any(not v.refills_allowed for v in versions),
        "prescription.second-prescriber": any(
            v.under_18_second_prescriber or v.second_prescriber_below_age for v in versions
        ),
        "prescription.not-substitutable": any(p.not_substitutable for p in kb.products),
        "counselling.take-with-food": any(p.with_food == "with-food" for p in kb.products),
        "counselling.take-with-main-meal": any(
            p.with_food == "with-main-meal" for p in kb.products
        ),
        "pregnancy-test.missing": any(v.pregnancy_test == "required" for v in versions),
        "pregnancy-test.after-prescription": any(
            v.test_max_days_before_prescription is not None for v in versions
        ),
        "pregnancy-test.too-old": any(
            v.test_max_days_before_prescription is not None for v in versions
        ),
        "pregnancy-test.overdue": any(checks_test_interval(v) for v in versions),
        "contraception.confirm-method": any(m.confirm for m in kb.contraception),
        # the medicine that weakens contraception itself, the indication, a product's own
        # programme (knowledge.json / products.json)
        "contraception.weakened-own-medicine": bool(kb.weakens_contraception),
        "prescription.indication-not-given": bool(kb.indications),
        "prescription.indication-unrecognised": bool(kb.indications),
        "prescription.indication-not-licensed": any(p.indications for p in kb.products),
        "prescription.product-programme": any(p.programme for p in kb.products),
        "prescription.programme-product": any(p.programme for p in kb.products),
    }
    needed.update(code for code, raised in conditional.items() if raised)
    if any(v.contraception_rule != "none" for v in versions):
        needed.update(CONTRACEPTION)
    return needed


def contract_problems(kb: KnowledgeBase) -> list[str]:
    """What the pack lacks of the contract (empty when it holds)."""
    problems = []
    worded = {m.code for m in kb.messages}
    for code in sorted(wording_needed(kb) - worded):
        problems.append(f"messages.json: no wording for finding {code!r}, which the engine raises")
    for r in kb.rule_sets:
        for v in r.versions:
            if NEVER_CLEARS not in v.never_clear:
                problems.append(
                    f"rule_sets.json: {v.id!r} must list {NEVER_CLEARS} in never_clear "
                    "(a positive pregnancy test never clears, programme or label)"
                )
    problems += staff_training_problems(kb)
    problems += method_note_problems(kb)
    problems += duty_problems(kb)
    return problems


def duty_problems(kb: KnowledgeBase) -> list[str]:
    """Each duty worded in every language of the pack; a form's validity where, and only where,
    a form is seen."""
    problems = []
    for r in kb.rule_sets:
        for v in r.versions:
            for duty in v.duties:
                where = f"rule_sets.json: {v.id!r} duty {duty.id!r}"
                for language in kb.languages:
                    if not duty.words.get(language, "").strip():
                        problems.append(f"{where} has no words in {language!r}")
                form = duty.kind == "seen-with-date"
                if form and duty.form_valid_days is None:
                    problems.append(f"{where} is a form seen with its date: give form_valid_days")
                if not form and duty.form_valid_days is not None:
                    problems.append(f"{where} gives form_valid_days, but is no form seen")
    return problems


def staff_training_problems(kb: KnowledgeBase) -> list[str]:
    """Staff training is a programme's demand on the pharmacy (a label asks none), and training
    checked before signing must come back within a year or so to mean anything. (An effective
    date marked unconfirmed says why, too: the pharmacy reads it before confirming.)"""
    problems = []
    for r in kb.rule_sets:
        for v in r.versions:
            if v.effective_from_unconfirmed and not v.unconfirmed:
                problems.append(
                    f"rule_sets.json: {v.id!r} marks its effective date unconfirmed, but its "
                    "'unconfirmed' does not say why"
                )
            training = v.staff_training
            if training is None:
                continue
            if not v.programme:
                problems.append(
                    f"rule_sets.json: {v.id!r} asks for staff training, but it is a label's "
                    "requirements, not a programme (staff_training belongs to a programme)"
                )
            if training.required_before_signing and training.every_days > MAX_TRAINING_DAYS:
                problems.append(
                    f"rule_sets.json: {v.id!r}.staff_training: every_days "
                    f"{training.every_days} is more than {MAX_TRAINING_DAYS} for training "
                    "checked before signing"
                )
    return problems


def method_note_problems(kb: KnowledgeBase) -> list[str]:
    """A method that counts in one family and not in another must say, in its note, where it
    does not count (its note is shown there as the reason)."""
    problems = []
    families = {r.family for r in kb.rule_sets}
    for m in kb.contraception:
        counts = {f for f in families if m.status.get(f) in ("primary", "secondary")}
        if not counts or counts == families:
            continue
        for family in sorted(families - counts):
            if not any(word in m.note for word in FAMILY_WORDS[family]):
                problems.append(
                    f"contraception.json: {m.id!r} counts in {', '.join(sorted(counts))} but not "
                    f"in {family}; its note must say where it does not count"
                )
    return problems
