"""Writing a company's chains: the primitives every write use case shares.

Finding the company a key names (in any case), appending a record to its record chain, the
actor's name, and committing with a concurrent writer turned into a conflict. `services`
(moves, profiles) and `facts` (evidence) both build on these; SQL stays in `store`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incubator import audit
from incubator.access import Actor
from incubator.stages import AmbiguousKey, Conflict, UnknownCompany
from incubator.store import CompanyRecord, KeyTaken, UnitOfWork
from incubator.values import clean_label, fold_key, lookup_key


def actor_name(actor: Actor) -> str:
    return clean_label(actor.name, "field.actor", required=True)


def find_company(uow: UnitOfWork, key: str, *, lock: bool = False) -> CompanyRecord:
    """The company `key` names: the one with exactly this key, else the one whose key is the
    same ignoring case (`jm-0042` finds `JM-0042`). UnknownCompany when none; AmbiguousKey,
    naming them, when several keys differ from it only by case."""
    given = lookup_key(key)
    row = uow.company(given, lock=lock)
    if row is not None:
        return row
    folded = fold_key(given)
    matches = sorted(k for k in uow.keys_ignoring_case(given) if fold_key(k) == folded)
    if not matches:
        raise UnknownCompany(given)
    if len(matches) > 1:
        raise AmbiguousKey(given, matches)
    row = uow.company(matches[0], lock=lock)
    if row is None:  # deleted in between (a read unit of work sees one snapshot)
        raise UnknownCompany(given)
    return row


def lock_company(uow: UnitOfWork, key: str) -> CompanyRecord:
    """`find_company`, with the company's row locked until the unit of work ends."""
    return find_company(uow, key, lock=True)


def append_record(
    uow: UnitOfWork,
    company: CompanyRecord,
    kind: str,
    fields: dict[str, Any],
    actor: str,
    note: str,
    now: datetime,
    key: bytes | None,
) -> int:
    """Append one record to the company's record chain and move the row's record head (the
    caller updates what the record changes); its seq. Runs under the company's lock; `key`
    is the audit key checked by `auditing.writing_key`."""
    seq = company.fact_count + 1
    payload = audit.payload_json(fields)
    digest = audit.fact_hash(
        company.fact_head, company.key, seq, kind, payload, now, actor, note, key
    )
    try:
        uow.insert_fact(
            {
                "company_id": company.id, "seq": seq, "kind": kind, "payload": payload,
                "recorded_at": now, "actor": actor, "note": note,
                "prev_hash": company.fact_head, "hash": digest,
            }
        )  # fmt: skip
    except KeyTaken:
        raise raced(company.key) from None
    uow.update_company(company.id, {"fact_count": seq, "fact_head": digest})
    company.fact_count, company.fact_head = seq, digest
    return seq


def commit(uow: UnitOfWork, key: str) -> None:
    try:
        uow.commit()
    except KeyTaken:
        raise raced(key) from None


def raced(key: str) -> Conflict:
    """A unique constraint caught a concurrent writer that the lock did not stop."""
    return Conflict.raced(key)
