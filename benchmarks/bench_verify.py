"""``verify`` of 100,000 signed records beside its floors: goal <= 2x, <= 3x with signatures.

- ours: ``records.service.verify`` (one read snapshot; every row's hash recomputed over its
  canonical bytes, every handout's SHA-256, the links, ids, references and users checked);
- floor: a raw ``sqlite3`` cursor over the same columns of the same rows (records and audit
  events, handout bytes included), hashing the same amount of bytes with ``hashlib`` (each
  handout, and each row's values joined) and nothing else;
- floor with signatures: the same, plus one Ed25519 verification (``cryptography``) of each
  row's stored signature over the bytes hashed (the goal of issue 21: verify within 3x of it).

The 100,000 records (and their 100,000 audit events) are bulk-inserted with their real hash
chain, as ``bench_records.py`` builds them.

    .venv/bin/python benchmarks/bench_verify.py [--records 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from benchmarks.bench_records import build
from benchmarks.common import Comparison, paired_call_medians, report
from pharmacist_tool.records import signing
from pharmacist_tool.records.models import CHAINED_TABLES
from pharmacist_tool.records.service import verify


def raw_floor(path: Path, public: Ed25519PublicKey | None = None) -> int:
    """Read every chained row raw and hash its bytes: what any check must at least do; with
    ``public``, verify each row's signature over those bytes too."""
    conn = sqlite3.connect(path)
    hashed = 0
    try:
        for table, model in CHAINED_TABLES.items():
            columns = [c.name for c in model.__table__.columns]
            pdf_at = columns.index("handout_pdf") if "handout_pdf" in columns else -1
            signature_at = columns.index("signature")
            cursor = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")
            sha256 = hashlib.sha256
            for row in cursor:
                if pdf_at >= 0:
                    sha256(row[pdf_at]).digest()
                text = "\x1f".join(
                    str(value) for i, value in enumerate(row) if i != pdf_at and value is not None
                )
                data = text.encode()
                sha256(data).digest()
                if public is not None and row[signature_at] is not None:
                    with contextlib.suppress(InvalidSignature):  # same work either way
                        public.verify(base64.b64decode(row[signature_at]), data)
                hashed += 1
    finally:
        conn.close()
    return hashed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    path = folder / "records.sqlite3"
    began = time.perf_counter()
    db = build(f"sqlite:///{path}", args.records)
    print(f"built {args.records:,} signed records in {time.perf_counter() - began:.1f} s: {path}")

    first = verify(db)
    assert first.intact, first.problems[:3]
    assert first.counts["records"] == args.records

    def ours() -> object:
        return verify(db)

    def floor() -> object:
        return raw_floor(path)

    public = _signer_public_key(path)

    def signed_floor() -> object:
        return raw_floor(path, public)

    ours_s, floor_s = paired_call_medians(ours, floor, runs=args.runs, warmup=0)
    ours_signed_s, signed_floor_s = paired_call_medians(
        ours, signed_floor, runs=args.runs, warmup=0
    )
    db.close()
    return report(
        [
            Comparison(
                f"records: verify of {args.records:,}",
                ours_s,
                floor_s,
                "raw sqlite3 + hashlib, same rows and bytes",
                "s",
                2.0,
            ),
            Comparison(
                f"records: verify of {args.records:,}, signatures included",
                ours_signed_s,
                signed_floor_s,
                "raw sqlite3 + hashlib + Ed25519 verify, same rows and bytes",
                "s",
                3.0,
            ),
        ]
    )


def _signer_public_key(path: Path) -> Ed25519PublicKey:
    conn = sqlite3.connect(path)
    try:
        (sealed,) = conn.execute("SELECT signing_key FROM users WHERE id = 1").fetchone()
    finally:
        conn.close()
    found = signing.load_public_key(str(signing.stored_public_key(sealed)))
    assert found is not None
    return found


if __name__ == "__main__":
    raise SystemExit(main())
