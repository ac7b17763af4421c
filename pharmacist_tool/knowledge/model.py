"""The schema of the knowledge base.

Clinical and programme facts live as JSON under ``resources/knowledge/<medicine>/``; these types
are the schema they are validated against when loaded. Every entry carries its sources and the
date it was last reviewed; an entry whose facts are unconfirmed says so in ``unconfirmed`` and
encodes the safe choice.
"""

# No ``from __future__ import annotations`` here: msgspec reads these annotations when it first
# decodes the files, and real objects are read twice as fast as strings it must evaluate (the
# knowledge base loads on every ``assess``).
import datetime as dt
from typing import Annotated, Literal

import msgspec

Severity = Literal["info", "warn", "block"]
PatientCategory = Literal["all", "can-get-pregnant", "cannot-get-pregnant"]
Sex = Literal["any", "male", "female"]
Step = Literal["patient", "prescription", "pregnancy", "medicines", "counselling", "storage"]
"""The window's steps a finding or checklist item is shown on."""
Category = Literal[
    "interaction", "pregnancy-prevention", "prescription", "dose", "safety", "counselling"
]
Id = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9.-]*$", max_length=80)]
Family = Literal["US", "UK", "EU"]
SourceKeys = Annotated[list[str], msgspec.Meta(min_length=1)]


class Entry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields every knowledge-base entry carries."""

    sources: SourceKeys
    last_reviewed: dt.date
    unconfirmed: str = ""
    """Empty when confirmed; otherwise what is unconfirmed and which safe choice is encoded."""


class Source(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: str
    issuer: str
    date: str
    url: str = ""
    confidence: Literal["primary", "secondary", "unconfirmed"] = "secondary"


class DoseRange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The usual and highest daily dose, in mg per kg a day or in mg a day (``kind``)."""

    kind: Literal["mg-per-kg-per-day", "mg-per-day"] = "mg-per-kg-per-day"
    usual_min_mg_per_kg: float = 0
    usual_max_mg_per_kg: float = 0
    max_mg_per_kg: float = 0
    usual_min_mg: float = 0
    usual_max_mg: float = 0
    max_mg: float = 0
    doses_per_day: int = 2
    """The most doses a day the label gives."""
    min_doses_per_day: int | None = None
    """The fewest doses a day the label gives (``doses_per_day`` when not given)."""

    @property
    def fewest_doses_per_day(self) -> int:
        return self.doses_per_day if self.min_doses_per_day is None else self.min_doses_per_day


class Product(Entry, kw_only=True, forbid_unknown_fields=True):
    id: Id
    name: str
    """How the product is shown (the brand, or the generic name for the generic)."""
    names: list[str]
    """Every name the case may use for it: brand, generic, common misspellings (any case)."""
    strengths_mg: list[float]
    dose: DoseRange
    with_food: Literal["with-food", "with-main-meal", "with-or-without-food"]
    substitution_group: str
    """Products in the same group may replace each other; others may not (a brand and its
    differently absorbed form)."""
    markets: list[Literal["US", "UK", "EU"]]
    note: str = ""
    not_substitutable: bool = False
    """Must never be swapped for another product (different bioavailability): an info finding."""
    indications: list[str] = msgspec.field(default_factory=list)
    """The pack's indication ids the product is licensed for (empty: any); with one, a case that
    gives none is read as that one."""
    dose_by_indication: dict[str, DoseRange] = msgspec.field(default_factory=dict)
    """Indication id → the dose band for it (``dose`` when the case's indication is not here)."""
    programme: str = ""
    """The id of a rule set that is this product's own programme (a REMS for one product of the
    medicine): the product is dispensed under that rule set only, and that rule set only for the
    products that name it."""


class Severities(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Severity of a rule in each rule set (``default`` where a set is not named)."""

    default: Severity
    by_rule_set: dict[str, Severity] = msgspec.field(default_factory=dict)

    def for_rule_set(self, rule_set: str) -> Severity:
        return self.by_rule_set.get(rule_set, self.default)


class SubstanceRef(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A substance of an interaction class, by its id in the vocabulary of medicine names."""

    id: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9:]{4,20}$")]
    """The FDA UNII (``PT:`` for a substance added by hand, ``DB:`` for a DrugBank id)."""
    name: str
    """Its name, for the reader (checked against the vocabulary when loaded)."""
    salts: bool = True
    """Its salts and esters belong to the class too (not for corticosteroid esters used only on
    the skin: those are listed one by one when systemic)."""


class WeakensContraception(Entry, kw_only=True, forbid_unknown_fields=True):
    """A substance makes hormonal contraception unreliable (an enzyme inducer): the methods a
    pack marks ``weakened_by_enzyme_inducers`` (pills, patches, rings, implants)."""

    methods: Literal["weakened-by-enzyme-inducers"] = "weakened-by-enzyme-inducers"
    """Which methods: those ``contraception.json`` marks ``weakened_by_enzyme_inducers``."""
    from_mg_per_day: float | None = None
    """Only from this daily dose, read from the patient's line (a threshold some substances have);
    an unreadable dose counts as weakening (the safe choice)."""
    assumed_doses_per_day: Annotated[int, msgspec.Meta(ge=1, le=6)] = 1
    """Doses a day to assume when a line gives a strength but no frequency."""


class ClassSubstance(SubstanceRef, kw_only=True, forbid_unknown_fields=True):
    """A substance of a shared class, with the facts that belong to it."""

    weakens_contraception: WeakensContraception | None = None


class SubstanceClass(Entry, kw_only=True, forbid_unknown_fields=True):
    """A class of substances defined once under ``resources/classes/<id>.json`` and referred to
    by the packs' interactions (``"class": "<id>"``)."""

    id: Id
    agent: str
    """The class in the pharmacist's words ("tetracycline antibiotics")."""
    substances: Annotated[list[ClassSubstance], msgspec.Meta(min_length=1)]
    not_substances: list[SubstanceRef] = msgspec.field(default_factory=list)
    """Salts or esters of a member that are not the class's form (a skin ester)."""
    stems: list[str] = msgspec.field(default_factory=list)
    terms: list[str] = msgspec.field(default_factory=list)
    """Names the vocabulary lacks (cited additions), matched as whole words."""
    exclude_terms: list[str] = msgspec.field(default_factory=list)
    """Words that say a line is another route or form, not this class's ("vaginal cream")."""
    register: dict[str, Source]
    """The sources the class and its substances cite (``sources`` keys)."""


class InteractionRule(Entry, kw_only=True, forbid_unknown_fields=True):
    id: Id
    """The finding code is ``interaction.<id>``."""
    agent: str = ""
    """The agent or class, in the pharmacist's words ("tetracycline antibiotics"); the class's
    when empty."""
    class_: str | None = msgspec.field(default=None, name="class")
    """The shared class (``resources/classes/<id>.json``) whose substances, stems and forms this
    rule screens for; the rule adds its own severity, wording, action and sources."""
    without: list[SubstanceRef] = msgspec.field(default_factory=list)
    """Members of the class this pack leaves out (its own medicine, screened by its own rule)."""
    terms: list[str] = msgspec.field(default_factory=list)
    """Generic and brand names, spellings, abbreviations the vocabulary lacks (cited additions);
    matched as whole words, any case."""
    severity: Severities
    message: str
    action: str
    weakens_hormonal_contraception: bool = False
    """Makes the methods marked ``weakened_by_enzyme_inducers`` unreliable (an enzyme inducer)."""
    weakens_contraception_from_mg_per_day: float | None = None
    """Weakens them only from this daily dose, read from the patient's line; a line whose daily
    dose cannot be read counts as weakening (the safe choice)."""
    assumed_doses_per_day: Annotated[int, msgspec.Meta(ge=1, le=6)] = 1
    """Doses a day to assume when a line gives a strength but no frequency."""
    patient: PatientCategory = "all"
    exclude_terms: list[str] = msgspec.field(default_factory=list)
    """Words that mean a line is not this agent's form ("cream" for a systemic steroid)."""
    substances: list[SubstanceRef] = msgspec.field(default_factory=list)
    """The substances of the class: every name the vocabulary holds for them matches."""
    not_substances: list[SubstanceRef] = msgspec.field(default_factory=list)
    """Salts or esters of a member that are not this agent's form (betamethasone valerate is a
    skin ester): a name that stands for one of them does not match."""
    stems: list[str] = msgspec.field(default_factory=list)
    """Word endings that name the class whatever the word ("cycline"): a backstop for names
    the vocabulary does not hold yet."""
    contraception_methods: list[str] = msgspec.field(default_factory=list)
    """Contraception method ids that raise this rule when the patient names them as birth
    control (an oestrogen-containing pill lowers another medicine's level)."""


class ContraceptionMethod(Entry, kw_only=True, forbid_unknown_fields=True):
    id: Id
    label: str
    terms: list[str]
    hormonal: bool
    weakened_by_enzyme_inducers: bool
    """Enzyme inducers (St John's wort, rifampicin …) make it unreliable: combined pills, patches,
    rings, progestogen-only pills and implants; not the DMPA injection, an IUD or an IUS."""
    status: dict[str, Literal["primary", "secondary", "not-acceptable", "abstinence", "agreement"]]
    """Status of the method per rule-set family (``US``, ``UK``, ``EU``).

    ``agreement``: the UK/EU prescriber-and-patient agreement that there is no risk of pregnancy.
    """
    user_independent: bool = False
    """Highly effective without daily action (IUD, implant, sterilisation): the UK/EU rule."""
    note: str = ""
    """Why the method does or does not count (shown when it does not)."""
    confirm: str = ""
    """When not empty, the words were vague ("the pill"): an info finding asks to confirm this."""
    group: str = ""
    """Methods of one group are one method however many are named ("the pill" and "Yaz")."""
    names: dict[str, str] = msgspec.field(default_factory=dict)
    """The method in the patient's words, per handout language (``{"en": …, "es": …}``)."""


class SelfWeakening(Entry, kw_only=True, forbid_unknown_fields=True):
    """The pack's own medicine weakens the methods marked ``weakened_by_enzyme_inducers``, in
    these markets, from this prescribed daily dose (0: at any dose)."""

    families: Annotated[list[Family], msgspec.Meta(min_length=1)]
    from_mg_per_day: Annotated[float, msgspec.Meta(ge=0)] = 0


class Indication(Entry, kw_only=True, forbid_unknown_fields=True):
    """What the medicine is prescribed for (``prescription.indication``), when the pack's rules
    depend on it: the window asks for it only for a pack that lists indications."""

    id: Id
    label: str
    terms: Annotated[list[str], msgspec.Meta(min_length=1)]
    """Words that name it, any case ("migraine", "seizures")."""
    severities: dict[str, Severity] = msgspec.field(default_factory=dict)
    """Finding code → its severity for this indication, over the rule set's (a positive test
    blocks where the medicine is contraindicated in pregnancy for this indication)."""


class Window(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The last day to hand over: ``anchor`` date + ``days`` - 1 (the anchor day is day 1)."""

    anchor: Literal["latest-pregnancy-test", "prescribed-on"]
    days: int


class AfterCourse(Entry, kw_only=True, forbid_unknown_fields=True):
    """What the rule set says about the time after the last dose, in days after it.

    Contraception continues ``contraception_after_last_dose_days`` (the rule set's own field);
    these are the other periods. ``None``: the rule set says nothing the tool can count on.
    """

    pregnancy_test_days: int | None
    """The pregnancy test after the course: due this many days after the last dose."""
    blood_donation_days: int | None
    """No blood donation until this many days after the last dose (from the day after)."""
    cosmetic_procedures_days: int | None
    """No waxing, dermabrasion or laser until this many days after the last dose."""
    no_alcohol_days: int | None = None
    """Patients who can get pregnant drink no alcohol until this many days after the last dose."""
    male_contraception_days: int | None = None
    """Male patients use condoms (and their partner contraception) this many days after."""
    sperm_donation_days: int | None = None
    """Male patients donate no sperm until this many days after the last dose."""


class TestSettingRule(Entry, kw_only=True, forbid_unknown_fields=True):
    """Which pregnancy tests must be done in a medical setting under a rule version."""

    home_tests: Literal["never", "after-first-fill"]
    """``never``: every test in a medical setting; ``after-first-fill``: the tests before
    treatment and the repeat test before the first fill in a medical setting, a later test may be
    a home test where the prescriber allows it."""


class StaffTraining(Entry, kw_only=True, forbid_unknown_fields=True):
    """Training the programme asks of the pharmacy's staff under a rule version, with records
    (the staff-training register: ``pharmacist-tool training``)."""

    every_days: Annotated[int, msgspec.Meta(ge=1, le=3660)]
    """A person's training lapses this many days after the day they were trained."""
    required_before_signing: bool
    """A pharmacist whose training has lapsed (or was never recorded) may not sign under it."""


DutyKind = Literal["given", "seen-with-date", "referral", "asked"]
"""``given``: something handed to the patient (a card, a leaflet, the whole original pack);
``seen-with-date``: a signed form seen, with the date it bears; ``referral``: a referral made;
``asked``: a question asked, with the patient's answer."""
DutyWhen = Literal["every-supply", "follow-up", "after-never-clear-warning"]
"""``follow-up``: at visits after the first fill of a course; ``after-never-clear-warning``:
when the medicine is handed over with a warning that never clears standing on the record."""


class Duty(Entry, kw_only=True, forbid_unknown_fields=True):
    """What a programme asks the pharmacy to do at the counter on each supply, recorded as a fact
    with its value (given or not and why; a form's date), never as a tick."""

    id: Id
    kind: DutyKind
    words: dict[str, str]
    """The duty in words per language of the pack (``{"en": "Patient card given", …}``)."""
    patient: PatientCategory = "all"
    when: DutyWhen = "every-supply"
    form_valid_days: Annotated[int, msgspec.Meta(ge=1, le=3660)] | None = None
    """``seen-with-date``: the form is valid this many days from its date (its date is day 1)."""


class RuleSetVersion(Entry, kw_only=True, forbid_unknown_fields=True):
    id: Id
    title: str
    effective_from: dt.date
    """The day these rules take effect; a pharmacy may confirm or change it in its settings."""
    effective_from_unconfirmed: bool = False
    """The sources disagree on ``effective_from``: the window shows the date as unconfirmed until
    the pharmacy confirms it in its settings (``confirmed_rule_dates``)."""
    requires_authorization: bool
    authorization_label: str = ""
    max_days_supply: int | None
    """None: the rule set limits no supply."""
    supply_limit_applies_to: PatientCategory
    refills_allowed: bool
    refill_rule_applies_to: PatientCategory
    window_can_get_pregnant: Window | None
    window_cannot_get_pregnant: Window | None
    test_max_days_before_prescription: int | None = None
    """UK/EU: the negative test must be dated at most this many days before the prescription."""
    test_interval_days: int | None
    """Days from the latest negative test to the next one due (None: none due at the counter)."""
    test_setting: TestSettingRule | None = None
    """Which tests must be in a medical setting (``None``: every test, the safe reading)."""
    pregnancy_test: Literal["required", "if-reported"] = "required"
    """``required``: a negative test must be reported before hand-over; ``if-reported``: the
    counter checks only a test the patient reports (the prescriber tests)."""
    contraception_rule: Literal["two-methods-one-primary", "one-highly-effective-or-two", "none"]
    """``none``: the counter checks no contraception rule (it counsels)."""
    abstinence_accepted: bool
    contraception_after_last_dose_days: int
    under_18_second_prescriber: bool = False
    second_prescriber_below_age: int | None = None
    """A second prescriber is needed for patients younger than this (``under_18_second_prescriber``
    is the same with 18)."""
    programme: bool = True
    """A pregnancy prevention programme (its blocks cannot be overridden); False for a label's own
    requirements, whose blocks a recorded resolution clears."""
    never_clear: list[str] = msgspec.field(default_factory=list)
    """Finding codes that no resolution clears in this rule set, programme or label (every rule
    set lists ``pregnancy-test.positive``): they stand until the facts change."""
    severities: dict[str, Severity] = msgspec.field(default_factory=dict)
    """Finding code → the severity this rule set gives it, where it differs from the engine's
    (a programme that dispenses and refers gives ``warn`` where another withholds)."""
    contact: str = ""
    """Who to call about the programme (shown to the pharmacist and on the handout)."""
    after_course: AfterCourse | None = None
    """The dates after the last fill of a course (``None``: not known for this rule set)."""
    staff_training: StaffTraining | None = None
    """The staff training this version asks for (``None``: none the tool checks)."""
    duties: list[Duty] = msgspec.field(default_factory=list)
    """What the programme asks at the counter on each supply (recorded in ``supply_duties``)."""


class RuleSet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    """As in the case file: ``US-iPLEDGE``, ``UK-PPP``, ``EU-PPP``."""
    family: Family
    name: str
    versions: list[RuleSetVersion]


class ChecklistItem(Entry, kw_only=True, forbid_unknown_fields=True):
    id: Id
    title: str
    script: str
    """A short script the pharmacist can read aloud."""
    required: bool = True
    patient: PatientCategory = "all"
    sex: Sex = "any"
    """``male``: advice for male patients (shown when ``patient.sex`` is male, or not given for a
    patient who cannot get pregnant)."""
    step: Step = "counselling"
    """The window's step that shows the item."""
    rule_sets: list[str] = msgspec.field(default_factory=list)
    """Empty: every rule set."""
    kind: Literal["point", "teach-back"] = "point"
    """``teach-back``: a question the pharmacist asks; ticked when the patient answered it."""


class Message(Entry, kw_only=True, forbid_unknown_fields=True):
    """The wording of a finding the engine raises (``{name}`` placeholders are filled in)."""

    code: str
    message: str
    action: str
    rule_sets: list[str] = msgspec.field(default_factory=list)
    """Empty: every rule set; otherwise this wording is for these rule sets (``US-iPLEDGE``) or
    rule-set versions (``us-ipledge-2021``) only. A version's wording wins over its rule set's."""
    indications: list[str] = msgspec.field(default_factory=list)
    """Empty: every indication; otherwise the wording for cases with one of these indications
    (it wins over the wording for every indication, at the same rule-set level)."""


class CumulativeTarget(Entry, kw_only=True, forbid_unknown_fields=True):
    """The cumulative dose over a course that guidance usually aims for (never a rule)."""

    min_mg_per_kg: float
    max_mg_per_kg: float


class CourseFacts(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``course.json``: facts about a whole course of the medicine (optional in a pack)."""

    cumulative_target: CumulativeTarget | None = None


class AgeLimit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A finding for patients younger than ``below`` years on the counselling date."""

    below: int
    code: str
    category: Category = "safety"
    severity: Severity = "warn"


class AlcoholRule(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A finding for the patient's answer about alcohol."""

    answer: Literal["none", "occasional", "regular"]
    code: str
    severity: Severity
    patient: PatientCategory = "all"


class DoseFrequencyCodes(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The finding codes for fewer and for more doses a day than the product's label gives."""

    fewer: str
    more: str


class Counter(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The pack's rules the engine follows that belong to no one product or rule set."""

    age_limits: list[AgeLimit] = msgspec.field(default_factory=list)
    alcohol: list[AlcoholRule] = msgspec.field(default_factory=list)
    dose_frequency: DoseFrequencyCodes
    steps: dict[str, Step] = msgspec.field(default_factory=dict)
    """Finding code, or the part of a code before its first dot, or a category → the window's
    step that shows the finding (the code wins over its prefix, the prefix over the category)."""
    sources: SourceKeys


class KnowledgeBase(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    medicine: str
    version: str
    last_reviewed: dt.date
    sources: dict[str, Source]
    products: list[Product]
    interactions: list[InteractionRule]
    contraception: list[ContraceptionMethod]
    rule_sets: list[RuleSet]
    checklist: list[ChecklistItem]
    counter: Counter
    messages: list[Message] = msgspec.field(default_factory=list)

    course: CourseFacts = msgspec.field(default_factory=CourseFacts)
    """From the pack's optional ``course.json``."""
    weakens_contraception: list[SelfWeakening] = msgspec.field(default_factory=list)
    """Where the pack's own medicine weakens hormonal contraception (``knowledge.json``)."""
    indications: list[Indication] = msgspec.field(default_factory=list)
    """What the medicine may be prescribed for, where the rules depend on it."""
    languages: list[str] = msgspec.field(default_factory=lambda: ["en"])
    """The languages the pack's handout offers (its ``handout/<xx>.json`` files)."""

    def indication(self, said: str | None) -> Indication | None:
        """The indication a case's words name (any case, whole words), or None."""
        from pharmacist_tool.knowledge.matching import contains, words

        wanted = words(said or "")
        if not wanted:
            return None
        for indication in self.indications:
            if any(contains(wanted, words(term)) >= 0 for term in indication.terms):
                return indication
        return None

    def weakens_contraception_at(self, family: str, daily_mg: float) -> bool:
        """The pack's own medicine weakens hormonal contraception in this market at this
        prescribed daily dose (``weakens_contraception``)."""
        return any(
            family in w.families and daily_mg >= w.from_mg_per_day
            for w in self.weakens_contraception
        )

    def own_programme_products(self, rule_set_id: str) -> list[Product]:
        """The products whose own programme this rule set is (empty: it is no product's own)."""
        return [p for p in self.products if p.programme == rule_set_id]

    weakeners: dict[str, WeakensContraception] = msgspec.field(default_factory=dict)
    """Substance id → how it weakens hormonal contraception, from every shared class: applied
    to every pack whatever interactions it lists."""

    def step_of(self, code: str, category: str) -> Step:
        """The window's step that shows a finding (``counselling`` when the pack does not say)."""
        steps = self.counter.steps
        return (
            steps.get(code)
            or steps.get(code.split(".", 1)[0])
            or steps.get(category)
            or "counselling"
        )
