"""``verify``'s check of every signature against the key in force for its signer there.

The keys come from the chain itself, read in position order: the event that adds a user
(``user-added``) registers their public key, signed by the administrator who added them (the
first user of an empty database signs their own); a ``key-registered`` event registers a new
one, signed by the user's previous key (a new key at a password change) or, when they had none
usable (a user from before signatures, or after a password reset), by the new key itself: that
one is *self-registered*, named in a warning until an administrator countersigns it
(``key-countersigned``).

Rows from before signatures (before the ``signatures-begin`` event that schema 0007 appended)
stay valid unsigned; after it, every record, amendment and every event a person makes
(``SIGNED_ACTIONS``) must carry a signature that verifies against its signer's key at that
position. A database made with signatures from the start has no such event: every row of it is
held to that. Events nobody can sign (a failed log-in, a lock-out after five of them) may be
unsigned; a signature they carry is checked all the same.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pharmacist_tool.records import signing

SIGNATURES_BEGIN = "signatures-begin"
KEY_REGISTERED = "key-registered"
KEY_COUNTERSIGNED = "key-countersigned"
TRAINING_RECORDED = "training-recorded"
"""An administrator records a person's training on a programme (``records.training``)."""
REGISTERING_ACTIONS = frozenset({"user-added", KEY_REGISTERED})
SIGNED_ACTIONS = frozenset(
    {
        "sign",
        "amend",
        "user-added",
        "role-changed",
        "admin-rights-changed",
        "password-changed",
        "account-unlocked",
        "user-deactivated",
        "printed-name-changed",
        "settings-changed",
        "restore",
        KEY_REGISTERED,
        KEY_COUNTERSIGNED,
        TRAINING_RECORDED,
    }
)
"""Audit events a person makes, who must sign them (from signatures on)."""

STATE_ACTIONS = frozenset(
    {
        "user-added",
        "user-recorded",
        "role-changed",
        "admin-rights-changed",
        "password-changed",
        "account-unlocked",
        "user-deactivated",
        "printed-name-changed",
    }
)

_LABELS = {"records": "record", "amendments": "amendment", "audit_events": "audit event"}


@dataclass(frozen=True)
class _Key:
    seq: int
    public: Ed25519PublicKey
    text: str
    how: str
    """``admin`` (registered by an administrator's signature), ``first`` (the first user of an
    empty database), ``rotated`` (signed by the user's previous key), ``self`` (signed only by
    itself)."""
    event_id: int


@dataclass
class LedgerFindings:
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _detail(values: Mapping[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(str(values.get("detail") or "{}"))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


class SignatureLedger:
    """Fed every chained row (audit events first, in id order), then ``finish``."""

    def __init__(self) -> None:
        self._keys: dict[int, list[_Key]] = {}
        self._names: dict[int, str] = {}
        self._countersigned: set[tuple[int, str]] = set()
        self._signed_under: dict[tuple[int, str], int] = {}
        self._begin: list[int] = []
        self._unsigned: list[tuple[str, int, int]] = []
        self._first_signed_event: int | None = None
        self._users_added = 0
        self._states: dict[int, dict[str, Any]] = {}
        self.findings = LedgerFindings()

    # -- keys -----------------------------------------------------------------------------

    def _in_force(self, user_id: int, seq: int) -> _Key | None:
        keys = self._keys.get(user_id)
        if not keys:
            return None
        at = bisect.bisect_left([k.seq for k in keys], seq)
        return keys[at - 1] if at else None

    def _register(self, user_id: int, key: _Key) -> None:
        keys = self._keys.setdefault(user_id, [])
        keys.append(key)
        keys.sort(key=lambda k: k.seq)

    def _problem(self, table: str, rid: int | None, message: str) -> None:
        self.findings.problems.append((table, rid, message))

    # -- rows -----------------------------------------------------------------------------

    def check(
        self, table: str, values: Mapping[str, Any], signature: str | None, data: bytes
    ) -> None:
        seq, rid = int(values["seq"]), int(values["id"])
        signer = values.get("user_id")
        if table == "audit_events":
            self._event(seq, rid, values, signature, data)
            return
        name = str(values.get("signer_username"))
        if signer is not None:
            self._names.setdefault(int(signer), name)
        if signature is None:
            self._unsigned.append((table, rid, seq))
            return
        self._check_by(
            table, rid, seq, int(signer) if signer is not None else None, signature, data
        )

    def _check_by(
        self, table: str, rid: int, seq: int, signer: int | None, signature: str, data: bytes
    ) -> _Key | None:
        name = self._names.get(signer, f"user {signer}") if signer is not None else "nobody"
        key = self._in_force(signer, seq) if signer is not None else None
        if key is None:
            self._problem(
                table,
                rid,
                f"signed in the name of {name!r}, who had no registered signing key at "
                f"position {seq}: forged",
            )
            return None
        if not signing.signature_valid(key.public, signature, data):
            self._problem(
                table,
                rid,
                f"its signature is not {name!r}'s (it does not verify against their key in "
                f"force at position {seq}): forged or altered",
            )
            return None
        assert signer is not None
        self._signed_under[(signer, key.text)] = self._signed_under.get((signer, key.text), 0) + 1
        return key

    def _event(
        self,
        seq: int,
        rid: int,
        values: Mapping[str, Any],
        signature: str | None,
        data: bytes,
    ) -> None:
        action = str(values.get("action"))
        actor = values.get("user_id")
        actor_id = int(actor) if actor is not None else None
        if actor_id is not None and values.get("username"):
            self._names.setdefault(actor_id, str(values["username"]))
        if action == SIGNATURES_BEGIN:
            self._begin.append(seq)
            return
        if action == "user-added":
            self._users_added += 1
        if action == "account-locked" and values.get("subject_user_id") is not None:
            self._check_lock(rid, int(values["subject_user_id"]), _detail(values))
        elif action in STATE_ACTIONS and values.get("subject_user_id") is not None:
            state = _detail(values).get("state")
            self._states[int(values["subject_user_id"])] = state if isinstance(state, dict) else {}
        if signature is None:
            if action in SIGNED_ACTIONS:
                self._unsigned.append(("audit_events", rid, seq))
            return
        if self._first_signed_event is None or seq < self._first_signed_event:
            self._first_signed_event = seq
        subject = values.get("subject_user_id")
        detail = _detail(values) if action in REGISTERING_ACTIONS | {KEY_COUNTERSIGNED} else {}
        public_text = detail.get("public_key")
        registers = (
            action in REGISTERING_ACTIONS and subject is not None and isinstance(public_text, str)
        )
        if registers and actor_id == subject:
            assert isinstance(public_text, str) and subject is not None
            if self._self_registration(
                seq, rid, int(subject), public_text, detail, signature, data
            ):
                return
        key = self._check_by("audit_events", rid, seq, actor_id, signature, data)
        if key is None:
            return
        if action == TRAINING_RECORDED and not self._was_admin(actor_id):
            self._problem(
                "audit_events",
                rid,
                "it records training, but its signer had no administrator rights then: "
                "made outside pharmacist-tool",
            )
        if registers:
            assert isinstance(public_text, str) and subject is not None
            how = "rotated" if actor_id == subject else "admin"
            self._add_key(seq, rid, int(subject), public_text, how)
        if action == KEY_COUNTERSIGNED and subject is not None and isinstance(public_text, str):
            self._countersigned.add((int(subject), public_text))

    def _was_admin(self, user_id: int | None) -> bool:
        """Whether the user's newest chained state so far grants administrator rights."""
        state = self._states.get(user_id) if user_id is not None else None
        return bool(state and state.get("is_admin"))

    def _check_lock(self, rid: int, subject: int, detail: Mapping[str, Any]) -> None:
        """A lock-out is made by failed log-ins, so nobody signs it: it may set a lock, and
        change nothing else the user's row grants."""
        state = detail.get("state")
        state = state if isinstance(state, dict) else {}
        before = self._states.get(subject)
        self._states[subject] = state
        if before is None or "password_hash_sha256" not in before:
            return  # from before signatures: its digest was checked by the chain as it is
        changed = sorted(
            key
            for key in set(before) | set(state) - {"locked_until"}
            if key != "locked_until" and before.get(key) != state.get(key)
        )
        if changed or not state.get("locked_until"):
            self._problem(
                "audit_events",
                rid,
                "an unsigned lock-out that changes what the user's row grants "
                f"({', '.join(changed) or 'no lock'}): made outside pharmacist-tool",
            )

    def _self_registration(
        self,
        seq: int,
        rid: int,
        subject: int,
        public_text: str,
        detail: Mapping[str, Any],
        signature: str,
        data: bytes,
    ) -> bool:
        """A key signed by itself (the first user, or no usable key before): ``True`` when it
        was (registered then), ``False`` to check it as signed by the key in force."""
        public = signing.load_public_key(public_text)
        if public is None or not signing.signature_valid(public, signature, data):
            return False
        first = bool(detail.get("first_user")) and self._users_added == 1 and not self._keys
        self._add_key(seq, rid, subject, public_text, "first" if first else "self")
        self._signed_under[(subject, public_text)] = 1
        return True

    def _add_key(self, seq: int, rid: int, subject: int, public_text: str, how: str) -> None:
        public = signing.load_public_key(public_text)
        if public is None:
            self._problem("audit_events", rid, "it registers a signing key that is not one")
            return
        self._register(subject, _Key(seq, public, public_text, how, rid))

    # -- the end --------------------------------------------------------------------------

    def finish(self) -> LedgerFindings:
        begin = self._era_start()
        for table, rid, seq in self._unsigned:
            if seq > begin:
                self._problem(
                    table,
                    rid,
                    f"not signed: every {_LABELS[table]} since signatures began carries its "
                    "signer's signature (made outside pharmacist-tool)",
                )
        for user_id, keys in sorted(self._keys.items()):
            for key in keys:
                if key.how == "self" and (user_id, key.text) not in self._countersigned:
                    name = self._names.get(user_id, f"user {user_id}")
                    used = self._signed_under.get((user_id, key.text), 0)
                    self.findings.warnings.append(
                        f"{name}'s signing key (audit event {key.event_id}) was registered by "
                        f"{name} alone, at their first sign-in after signatures began or after "
                        f"a password reset; {used} signed entr{'y' if used == 1 else 'ies'} "
                        "rest on it. An administrator confirms it with `pharmacist-tool users "
                        f"countersign {name} --admin ADMIN --password-stdin`."
                    )
        return self.findings

    def _era_start(self) -> int:
        """The position after which every row must be signed: the ``signatures-begin``
        event, or 0 (a database with signatures from its start)."""
        if not self._begin:
            return 0
        first = min(self._begin)
        for extra in sorted(self._begin)[1:]:
            self._problem("chain_head", None, f"a second start of signatures at position {extra}")
        if self._first_signed_event is not None and self._first_signed_event < first:
            self._problem(
                "chain_head",
                None,
                f"signatures are said to begin at position {first}, after signed entries: "
                "the event was added outside pharmacist-tool",
            )
            return 0
        return first
