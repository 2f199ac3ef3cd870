"""The tamper-evident hash chain over each company's events (DESIGN §6). Pure standard library.

    hash = SHA-256(prev_hash ‖ canonical JSON of the event's business fields)

or HMAC-SHA-256 keyed with `INCUBATOR_AUDIT_KEY` when it is set, so that someone who can
write to the database but does not hold the key cannot forge a consistent chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

#: The `prev_hash` of a company's first event.
GENESIS = "0" * 64

#: The fields that a hash covers, in the order of the canonical JSON.
HASHED_FIELDS = (
    "company_key",
    "seq",
    "kind",
    "from_stage",
    "to_stage",
    "effective_at",
    "recorded_at",
    "actor",
    "note",
    "reason",
)


def audit_key() -> bytes | None:
    key = os.environ.get("INCUBATOR_AUDIT_KEY")
    return key.encode() if key else None


def canonical(fields: Mapping[str, Any]) -> bytes:
    """Canonical JSON: the hashed fields only, sorted keys, no spaces, UTF-8, UTC times."""
    doc = {}
    for name in HASHED_FIELDS:
        value = fields.get(name)
        if isinstance(value, datetime):
            value = value.isoformat(timespec="microseconds")
        doc[name] = value
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, fields: Mapping[str, Any], key: bytes | None = None) -> str:
    message = prev_hash.encode() + canonical(fields)
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()
