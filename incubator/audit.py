"""The tamper-evident hash chains (DESIGN §6, §8, §10). Pure standard library.

Each company has two chains: its events, and its records (facts: the profile of name,
sector, site and USCC, and later qualifications, financing, ...). Every link is

    hash = SHA-256(prev_hash ‖ canonical JSON of the record's business fields)

or HMAC-SHA-256 keyed with `INCUBATOR_AUDIT_KEY` when it is set, so that someone who can
write to the database but does not hold the key cannot forge a consistent chain. The
database keeps a fingerprint of the key (`key_fingerprint`), never the key.
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
    "gate",
)


def audit_key() -> bytes | None:
    key = os.environ.get("INCUBATOR_AUDIT_KEY")
    return key.encode() if key else None


#: How the database records that its chains have no key (the `audit_key` setting).
UNKEYED = "none"
_FINGERPRINT_PREFIX = "hmac-sha256:"


def key_mode(key: bytes | None) -> str:
    """What the database stores about the key its chains are written with: `none`, or
    `hmac-sha256:` and the key's fingerprint (an HMAC of a fixed text: it identifies the key
    without revealing it)."""
    if not key:
        return UNKEYED
    digest = hmac.new(key, b"incubator audit key fingerprint", hashlib.sha256).hexdigest()
    return _FINGERPRINT_PREFIX + digest


def is_keyed(mode: str) -> bool:
    return mode.startswith(_FINGERPRINT_PREFIX)


def short_fingerprint(mode: str) -> str:
    """The first hex digits of a keyed mode's fingerprint, for messages."""
    return mode.removeprefix(_FINGERPRINT_PREFIX)[:12]


def canonical(fields: Mapping[str, Any]) -> bytes:
    """Canonical JSON of an event: the hashed fields only, keys sorted, no spaces, UTF-8,
    times as ISO 8601 UTC with microseconds. Byte for byte what
    `json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` gives;
    written out by hand because an import hashes every event.

    `gate` (the gate's outcome, DESIGN §8) is the event's stored `payload_json` text, and is
    hashed only when the event has one: events without a gate hash as they always have."""
    values: list[Any] = [fields.get(name) for name in HASHED_FIELDS]
    return canonical_event(*values)


def canonical_event(
    company_key: str,
    seq: int,
    kind: str,
    from_stage: str | None,
    to_stage: str,
    effective_at: datetime | str,
    recorded_at: datetime | str,
    actor: str,
    note: str,
    reason: str | None,
    gate: str | None = None,
) -> bytes:
    """`canonical` with the fields as arguments (times as datetimes or their ISO text;
    `gate` as its stored JSON text, or None)."""
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise TypeError(f"seq must be an int, not {seq!r}")
    gated = "" if gate is None else f'"gate":{gate},'
    effective = _s(_iso(effective_at))
    recorded = effective if recorded_at is effective_at else _s(_iso(recorded_at))
    return (
        f'{{"actor":{_s(actor)},"company_key":{_s(company_key)},'
        f'"effective_at":{effective},"from_stage":{_s(from_stage)},{gated}'
        f'"kind":{_s(kind)},"note":{_s(note)},"reason":{_s(reason)},'
        f'"recorded_at":{recorded},"seq":{seq},"to_stage":{_s(to_stage)}}}'
    ).encode()


def _iso(value: datetime | str) -> str:
    return value.isoformat("T", "microseconds") if isinstance(value, datetime) else value


def _s(value: str | None) -> str:
    return "null" if value is None else _encode_str(value)


_encode_str = json.encoder.encode_basestring  # json.dumps' C encoder for ensure_ascii=False


def chain_hash(prev_hash: str, fields: Mapping[str, Any], key: bytes | None = None) -> str:
    return link(prev_hash, canonical(fields), key)


def link(prev_hash: str, document: bytes, key: bytes | None = None) -> str:
    """The hash of one chain link: SHA-256 (or HMAC-SHA-256) of prev_hash ‖ document."""
    message = prev_hash.encode() + document
    if key:
        return hmac.digest(key, message, "sha256").hex()
    return hashlib.sha256(message).hexdigest()


# --- records (facts) -----------------------------------------------------------------------

#: The kind of the record that holds a company's name, sector, site and USCC.
PROFILE = "profile"
#: The fields a profile record may give; the first record of a company gives them all, a
#: later one those that changed (`fold` applies them in order).
PROFILE_FIELDS = ("name", "sector", "site", "uscc")


def payload_json(fields: Mapping[str, Any]) -> str:
    """The canonical JSON text of a record's business fields, as stored and hashed: keys
    sorted, no spaces, UTF-8."""
    return json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_fact(
    company_key: str,
    seq: int,
    kind: str,
    payload: str,
    recorded_at: datetime | str,
    actor: str,
    note: str,
) -> bytes:
    """Canonical JSON of a record: the same bytes as `json.dumps` of
    {"actor", "company_key", "kind", "note", "payload": <the payload object>, "recorded_at",
    "seq"} with sorted keys, when `payload` is `payload_json` text (it is hashed as stored)."""
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise TypeError(f"seq must be an int, not {seq!r}")
    return (
        f'{{"actor":{_s(actor)},"company_key":{_s(company_key)},"kind":{_s(kind)},'
        f'"note":{_s(note)},"payload":{payload},"recorded_at":{_s(_iso(recorded_at))},'
        f'"seq":{seq}}}'
    ).encode()


def fact_hash(
    prev_hash: str,
    company_key: str,
    seq: int,
    kind: str,
    payload: str,
    recorded_at: datetime | str,
    actor: str,
    note: str,
    key: bytes | None = None,
) -> str:
    document = canonical_fact(company_key, seq, kind, payload, recorded_at, actor, note)
    return link(prev_hash, document, key)
