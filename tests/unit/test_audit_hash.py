"""The canonical JSON and the hash chain."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incubator import audit

BASE = {
    "company_key": "JM-0042",
    "seq": 1,
    "kind": "admit",
    "from_stage": None,
    "to_stage": "seed",
    "effective_at": datetime(2024, 1, 1, tzinfo=UTC),
    "recorded_at": datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    "actor": "wang",
    "note": "",
    "reason": None,
}


def reference(fields: dict[str, object]) -> bytes:
    doc = {
        k: (v.isoformat(timespec="microseconds") if isinstance(v, datetime) else v)
        for k, v in fields.items()
        if k in audit.HASHED_FIELDS
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@given(
    note=st.text(),
    actor=st.text(min_size=1),
    reason=st.none() | st.text(),
    seq=st.integers(min_value=1, max_value=10**9),
)
def test_canonical_json_equals_sorted_compact_json_dumps(
    note: str, actor: str, reason: str | None, seq: int
) -> None:
    fields = {**BASE, "note": note, "actor": actor, "reason": reason, "seq": seq}
    assert audit.canonical(fields) == reference(fields)


@pytest.mark.parametrize(
    "change",
    [
        {"note": "edited"},
        {"actor": "li"},
        {"effective_at": datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC)},
        {"seq": 2},
        {"to_stage": "nursery"},
    ],
)
def test_any_change_to_a_hashed_field_changes_the_hash(change: dict[str, object]) -> None:
    assert audit.chain_hash(audit.GENESIS, BASE) != audit.chain_hash(
        audit.GENESIS, {**BASE, **change}
    )


def test_hash_depends_on_the_previous_link_and_on_the_key() -> None:
    plain = audit.chain_hash(audit.GENESIS, BASE)
    assert plain != audit.chain_hash("1" * 64, BASE)
    assert plain != audit.chain_hash(audit.GENESIS, BASE, b"secret")
    assert len(plain) == 64 and int(plain, 16) >= 0


def test_fields_outside_the_business_record_are_ignored() -> None:
    assert audit.chain_hash(audit.GENESIS, {**BASE, "event_id": 99}) == audit.chain_hash(
        audit.GENESIS, BASE
    )
