"""Each person's signing key: an Ed25519 key pair, the private half usable only at sign-in.

21 CFR Part 11 §11.70 asks that a signature be linked to its record so that it cannot be
copied or forged. The hash chain proves order, not authorship: anyone who can write to the
database can run the chain code and append a row naming anyone. So every row a person makes
(a record, an amendment, a change to a user) also carries that person's Ed25519 signature over
the row's canonical bytes, the same bytes the chain hashes (``chain.canonical_bytes``).

- The private key is kept in the user's row (``users.signing_key``), encrypted with
  AES-256-GCM under a key derived from the user's password by argon2id (RFC 9106; a salt of its
  own, so the stored password hash does not open it). It is decrypted when the user signs in
  (``users.authenticate``) and lives only in that sign-in's memory.
- The public key is registered in the chain by the event that adds the user (signed by the
  administrator who adds them; the first user of an empty database signs their own), or by a
  ``key-registered`` event the user's first sign-in with no key makes (a user from before
  signatures, or after a password reset): that one is signed by the new key itself and
  ``verify`` names it as self-registered until an administrator countersigns it
  (``key-countersigned``).
- ``verify`` checks each signature against the key in force for its signer at its position.

An attacker with the database alone can still append rows, but not rows that verify as
someone's: that needs the person's password (to open their key) or their unlocked sign-in.
"""

from __future__ import annotations

import base64
import json
import os

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

KEY_FORMAT = 1
# OWASP's argon2id minimum (m=19 MiB, t=2, p=1): the password hash beside it already costs the
# full RFC 9106 work at every sign-in, and this runs once more per sign-in.
KDF_TIME_COST = 2
KDF_MEMORY_KIB = 19 * 1024
KDF_PARALLELISM = 1


class SigningKeyError(Exception):
    """The stored key cannot be opened with this password, or is damaged."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def public_key_text(key: Ed25519PublicKey) -> str:
    """The public key as it is registered in the chain (base64 of its 32 raw bytes)."""
    return _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def load_public_key(text: str) -> Ed25519PublicKey | None:
    try:
        return Ed25519PublicKey.from_public_bytes(_unb64(text))
    except (ValueError, TypeError):
        return None


def _derive(password: str, salt: bytes, time_cost: int, memory_kib: int, lanes: int) -> bytes:
    return hash_secret_raw(
        password.encode("utf-8"),
        salt,
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=lanes,
        hash_len=32,
        type=Type.ID,
    )


def seal(private: Ed25519PrivateKey, password: str) -> str:
    """The private key encrypted under ``password`` (what ``users.signing_key`` stores)."""
    salt, nonce = os.urandom(16), os.urandom(12)
    public = public_key_text(private.public_key())
    secret = _derive(password, salt, KDF_TIME_COST, KDF_MEMORY_KIB, KDF_PARALLELISM)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    sealed = AESGCM(secret).encrypt(nonce, raw, public.encode("ascii"))
    return json.dumps(
        {
            "format": KEY_FORMAT,
            "kdf": "argon2id",
            "t": KDF_TIME_COST,
            "m": KDF_MEMORY_KIB,
            "p": KDF_PARALLELISM,
            "salt": _b64(salt),
            "cipher": "AES-256-GCM",
            "nonce": _b64(nonce),
            "sealed": _b64(sealed),
            "public_key": public,
        },
        sort_keys=True,
    )


def stored_public_key(stored: str | None) -> str | None:
    """The public key a stored key says it holds (unchecked until it is opened)."""
    if not stored:
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    found = data.get("public_key") if isinstance(data, dict) else None
    return found if isinstance(found, str) else None


def open_sealed(stored: str, password: str) -> Ed25519PrivateKey:
    """The private key, decrypted with ``password``; ``SigningKeyError`` when it cannot be."""
    try:
        data = json.loads(stored)
        t, m, p = int(data["t"]), int(data["m"]), int(data["p"])
        if data.get("format") != KEY_FORMAT or not (1 <= t <= 10 and 8 <= m <= 1 << 21):
            raise SigningKeyError("unknown key format")
        secret = _derive(password, _unb64(data["salt"]), t, m, max(1, min(p, 16)))
        public = str(data["public_key"])
        raw = AESGCM(secret).decrypt(_unb64(data["nonce"]), _unb64(data["sealed"]), public.encode())
        private = Ed25519PrivateKey.from_private_bytes(raw)
    except (ValueError, TypeError, KeyError, InvalidTag) as error:
        raise SigningKeyError("the signing key cannot be opened") from error
    if public_key_text(private.public_key()) != public:
        raise SigningKeyError("the signing key does not match its public key")
    return private


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def sign(private: Ed25519PrivateKey, data: bytes) -> str:
    return _b64(private.sign(data))


def signature_valid(public: Ed25519PublicKey, signature: str, data: bytes) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
