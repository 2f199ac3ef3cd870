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


# --- company records (facts) ---------------------------------------------------------------


@given(
    name=st.text(),
    site=st.text(),
    uscc=st.none() | st.text(max_size=18),
    note=st.text(),
    actor=st.text(min_size=1),
    seq=st.integers(min_value=1, max_value=10**9),
)
def test_a_record_is_hashed_as_sorted_compact_json_with_its_payload_inside(
    name: str, site: str, uscc: str | None, note: str, actor: str, seq: int
) -> None:
    fields = {"name": name, "site": site, "uscc": uscc}
    payload = audit.payload_json(fields)
    recorded = datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    doc = {
        "actor": actor,
        "company_key": "JM-0042",
        "kind": "profile",
        "note": note,
        "payload": fields,
        "recorded_at": recorded.isoformat(timespec="microseconds"),
        "seq": seq,
    }
    expected = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert audit.canonical_fact("JM-0042", seq, "profile", payload, recorded, actor, note) == (
        expected.encode()
    )
    assert json.loads(payload) == fields


def test_a_record_hash_covers_every_field_and_the_key() -> None:
    recorded = datetime(2024, 1, 2, tzinfo=UTC)
    args = ("JM-0042", 1, "profile", '{"site":"钟祥"}', recorded, "wang", "")
    plain = audit.fact_hash(audit.GENESIS, *args)
    for i, other in enumerate(
        ("JM-0043", 2, "other", '{"site":"京山"}', datetime(2024, 1, 3, tzinfo=UTC), "li", "x")
    ):
        changed = list(args)
        changed[i] = other
        assert audit.fact_hash(audit.GENESIS, *changed) != plain  # type: ignore[arg-type]
    assert audit.fact_hash(audit.GENESIS, *args, key=b"secret") != plain


def test_the_key_mode_names_a_key_by_its_fingerprint_only() -> None:
    assert audit.key_mode(None) == audit.UNKEYED == "none"
    mode = audit.key_mode(b"kept-in-the-vault")
    assert audit.is_keyed(mode) and not audit.is_keyed(audit.UNKEYED)
    assert mode == audit.key_mode(b"kept-in-the-vault") != audit.key_mode(b"another")
    assert "kept-in-the-vault" not in mode and len(audit.short_fingerprint(mode)) == 12


def test_a_gate_outcome_is_hashed_as_part_of_the_event_and_only_when_there_is_one() -> None:
    gate = {
        "stage": "accelerator", "mode": "any", "passed": False, "met": [],
        "unmet": [{"id": "financing_over", "amount": 5000000, "value": 1200000}],
        "override": "提前毕业：董事会决议",
    }  # fmt: skip
    text = audit.payload_json(gate)
    gated = {**BASE, "gate": text}
    expected = json.dumps(
        {**json.loads(reference(BASE)), "gate": gate},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()  # fmt: skip
    assert audit.canonical(gated) == expected
    assert audit.canonical({**BASE, "gate": None}) == audit.canonical(BASE) == reference(BASE)
    overridden = audit.chain_hash(audit.GENESIS, gated)
    other = audit.payload_json({**gate, "override": "another reason"})
    assert overridden != audit.chain_hash(audit.GENESIS, {**BASE, "gate": other})
    assert overridden != audit.chain_hash(audit.GENESIS, BASE)
