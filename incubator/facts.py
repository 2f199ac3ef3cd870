"""Evidence use cases (DESIGN §8): record a company's facts, read them as of a day, ask
whether its next move would pass its gate, and show or change the gate policy.

The rules are in `evidence` (pure): what a valid record is, what a company's records say
(`fold`), the criteria and gates. Here each use case runs in one unit of work: a record is
appended to the company's record chain and the derived tables (`qualification`,
`financing_round`, `milestone`, `annual_figures`, `company.founded_on`) follow in the same
transaction, so a refused record writes nothing. Entrypoints call these through `services`.

    services.record_qualification(db, "JM-0042", "high_tech", granted_on="2025-03-01",
                                  actor=actor, number="GR202542000123")
    services.gate_check(db, "JM-0042")          # would the next advance pass?
    services.facts(db, "JM-0042", as_of="2025-12-31")
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from incubator import audit
from incubator.access import Actor
from incubator.access import read_company as _read_company
from incubator.access import read_found as _read_found
from incubator.auditing import writing_key
from incubator.chains import actor_name, append_record, commit, find_company, lock_company
from incubator.evidence import (
    FACT_KINDS,
    FIGURES,
    FINANCING,
    FOUNDED,
    MILESTONE,
    QUALIFICATION,
    REVOCATION,
    BadRecord,
    CompanyFacts,
    Evidence,
    GateOutcome,
    GateRefused,
    Payload,
    Policy,
    fold,
    new_figures,
    new_financing,
    new_founding,
    new_milestone,
    new_qualification,
    new_revocation,
    parse_payload,
    parse_policy,
    policy_json,
    stored_policy,
)
from incubator.messages import message
from incubator.stages import CompanyState, EventKind, InvalidInput, InvalidTransition, driving
from incubator.store import CompanyRecord, Database, FactRecord, StoreError, UnitOfWork
from incubator.values import clean_note, isoformat, lookup_key, now_utc, parse_instant

#: The setting that holds the gate policy (its `policy_json`); none: `DEFAULT_POLICY`.
POLICY_SETTING = "gate_policy"
#: Who last changed the policy, and when (`{"by": ..., "at": ...}`).
POLICY_CHANGED_SETTING = "gate_policy_changed"


# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordView:
    """One record of a company's chain: its number (`seq`), kind, business fields (the
    hashed payload), who recorded it, when, and the note."""

    key: str
    seq: int
    kind: str
    fields: Mapping[str, Any]
    actor: str
    recorded_at: datetime
    note: str

    @classmethod
    def of(cls, key: str, row: FactRecord) -> RecordView:
        return cls(
            key, row.seq, row.kind, json.loads(row.payload), row.actor, row.recorded_at, row.note
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "record": self.seq,
            "kind": self.kind,
            "fields": dict(self.fields),
            "actor": self.actor,
            "recorded_at": isoformat(self.recorded_at),
            "note": self.note,
        }


@dataclass(frozen=True)
class FactsView:
    """Everything known about a company at `as_of` (DESIGN §8): its facts as of that day, by
    each fact's own date, and the records they come from (by seq), for who recorded what."""

    key: str
    as_of: datetime
    facts: CompanyFacts
    records: Mapping[int, RecordView]

    @property
    def day(self) -> date:
        return self.as_of.astimezone(UTC).date()

    def to_json(self) -> dict[str, Any]:
        """`{"key", "as_of", "uscc", "founded_on", "qualifications": [...], "financing":
        [...], "financing_total", "milestones": [...], "figures": [{"year", <field>: n}]}`;
        every item names its `record` (seq), `evidence`, `actor` and `recorded_at`."""
        f, day = self.facts, self.day
        return {
            "key": self.key,
            "as_of": isoformat(self.as_of),
            "uscc": f.uscc,
            "founded_on": _iso(f.founded_on),
            "qualifications": [
                {
                    "kind": q.kind.value,
                    "level": q.level.value if q.level else None,
                    "number": q.number,
                    "granted_on": q.granted_on.isoformat(),
                    "expires_on": q.expires_on.isoformat(),
                    "revoked_on": _iso(q.revoked_on),
                    "revoke_reason": q.revoke_reason,
                    "status": q.status_on(day),
                    **self._source(q.seq, q.evidence),
                }
                for q in f.qualifications
            ],
            "financing": [
                {
                    "on": r.on.isoformat(),
                    "amount": r.amount,
                    "round": r.round_name,
                    "investor": r.investor,
                    **self._source(r.seq, r.evidence),
                }
                for r in f.financing
            ],
            "financing_total": f.financing_total,
            "milestones": [
                {"kind": m.kind.value, "on": m.on.isoformat(), **self._source(m.seq, m.evidence)}
                for m in f.milestones
            ],
            "figures": [{"year": y.year, **y.values} for y in f.figures],
        }

    def _source(self, seq: int, evidence: str | None) -> dict[str, Any]:
        record = self.records.get(seq)
        return {
            "evidence": evidence,
            "record": seq,
            "actor": record.actor if record else None,
            "recorded_at": isoformat(record.recorded_at) if record else None,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


@dataclass(frozen=True)
class GateView:
    """Would the company's next advance pass its gate at `at`? `outcome` is None when the
    step has no gate (then it passes)."""

    key: str
    stage: str
    to: str
    at: datetime
    outcome: GateOutcome | None

    @property
    def passed(self) -> bool:
        return self.outcome is None or self.outcome.passed

    def to_json(self) -> dict[str, Any]:
        """`{"key", "stage", "to", "mode", "passed", "met", "unmet"}` (DESIGN §8)."""
        outcome = self.outcome
        return {
            "key": self.key,
            "stage": self.stage,
            "to": self.to,
            "mode": outcome.mode.value if outcome else None,
            "passed": self.passed,
            "met": [r.to_json() for r in outcome.met] if outcome else [],
            "unmet": [r.to_json() for r in outcome.unmet] if outcome else [],
        }


@dataclass(frozen=True)
class PolicyView:
    """The gate policy in force: the database's, or the default when none was set."""

    policy: Policy
    default: bool
    changed_by: str | None = None
    changed_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """Exactly what `policy set` accepts: `{"gates": [...]}`."""
        return self.policy.to_json()


# --- reading facts and the policy inside a unit of work --------------------------------------


def company_facts(uow: UnitOfWork, company: CompanyRecord) -> CompanyFacts:
    """Everything recorded about the company (not cut to a day): one indexed read of its
    evidence records, folded."""
    return _fold(company, uow.evidence_records(company.id))


def _fold(company: CompanyRecord, records: Sequence[tuple[int, str, str]]) -> CompanyFacts:
    try:
        return fold(
            company.key,
            company.uscc,
            [(seq, kind, parse_payload(payload)) for seq, kind, payload in records],
        )
    except BadRecord:
        raise StoreError("facts.unreadable", key=company.key) from None


def facts_of_companies(
    uow: UnitOfWork, companies: Sequence[CompanyRecord]
) -> dict[str, CompanyFacts]:
    """`company_facts` of several companies in one read (e.g. a board's gate badges)."""
    records = uow.evidence_records_of([c.id for c in companies])
    return {c.key: _fold(c, records.get(c.id, [])) for c in companies}


def current_policy(uow: UnitOfWork) -> Policy:
    return stored_policy(uow.setting(POLICY_SETTING))


def move_evidence(
    uow: UnitOfWork, company: CompanyRecord, moment: datetime, override: str | None
) -> Evidence:
    """What the gate conditions of a move at `moment` read: the policy, the move's UTC date,
    and the company's facts (read only if the step has a gate)."""
    return Evidence(
        current_policy(uow),
        moment.astimezone(UTC).date(),
        lambda: company_facts(uow, company),
        override,
    )


# --- reads ---------------------------------------------------------------------------------


def facts(
    db: Database, key: str, *, actor: Actor | None = None, as_of: str | datetime | None = None
) -> FactsView:
    """Everything known about the company at `as_of` (default now), by each fact's date."""
    _read_company(actor, key)
    moment = parse_instant(as_of) if as_of else now_utc()
    with db.unit() as uow:
        row = find_company(uow, key)
        _read_found(actor, row.key)
        records = [r for r in uow.facts_of(row.id) if r.kind != audit.PROFILE]
    everything = _fold(row, [(r.seq, r.kind, r.payload) for r in records])
    return FactsView(
        row.key,
        moment,
        everything.as_of(moment.astimezone(UTC).date()),
        {r.seq: RecordView.of(row.key, r) for r in records},
    )


def records(db: Database, key: str, *, actor: Actor | None = None) -> list[RecordView]:
    """Every record of the company's chain (profile and evidence), oldest first."""
    _read_company(actor, key)
    with db.unit() as uow:
        row = find_company(uow, key)
        _read_found(actor, row.key)
        return [RecordView.of(row.key, r) for r in uow.facts_of(row.id)]


def gate_check(
    db: Database, key: str, *, actor: Actor | None = None, at: str | datetime | None = None
) -> GateView:
    """Would the company's next advance pass its gate at `at` (default now)? Writes nothing.
    A company with no next stage (industrial park, exited) is refused like an advance."""
    _read_company(actor, key)
    moment = parse_instant(at) if at else now_utc()
    with db.unit() as uow:
        row = find_company(uow, key)
        _read_found(actor, row.key)
        evidence = move_evidence(uow, row, moment, None)
        try:
            with driving(CompanyState(row.key, row.stage)) as life:
                dest = life.fire(EventKind.ADVANCE, evidence=evidence)
        except GateRefused as refused:
            dest = refused.outcome.stage.value
    return GateView(row.key, row.stage, dest, moment, evidence.outcome)


def gate_checks(
    db: Database, keys: Sequence[str], *, at: str | datetime | None = None
) -> dict[str, GateView]:
    """`gate_check` of several companies in two reads (for a board's badges); companies
    that cannot advance (industrial park, exited) or do not exist are left out."""
    moment = parse_instant(at) if at else now_utc()
    day = moment.astimezone(UTC).date()
    found: dict[str, GateView] = {}
    with db.unit() as uow:
        policy = current_policy(uow)
        rows = list(uow.company_states(keys).values())
        known = facts_of_companies(uow, rows)
    for row in rows:
        evidence = Evidence(policy, day, known[row.key])
        try:
            with driving(CompanyState(row.key, row.stage)) as life:
                dest = life.fire(EventKind.ADVANCE, evidence=evidence)
        except GateRefused as refused:
            dest = refused.outcome.stage.value
        except InvalidTransition:  # no next stage
            continue
        found[row.key] = GateView(row.key, row.stage, dest, moment, evidence.outcome)
    return found


def policy_show(db: Database) -> PolicyView:
    """The gate policy in force (DESIGN §8's table unless an admin set another)."""
    with db.unit() as uow:
        text = uow.setting(POLICY_SETTING)
        changed = uow.setting(POLICY_CHANGED_SETTING)
    by, at = None, None
    if changed:
        meta = json.loads(changed)
        by, at = meta.get("by"), datetime.fromisoformat(meta["at"]) if meta.get("at") else None
    return PolicyView(stored_policy(text), text is None, by, at)


# --- writes --------------------------------------------------------------------------------


def policy_set(
    db: Database,
    document: str | Mapping[str, Any],
    *,
    actor: Actor,
    source: str = "the policy",
    fmt: str | None = None,
) -> PolicyView:
    """Replace the gate policy (admins only): `document` is the JSON of `policy show --json`
    or TOML text (`fmt` "json"/"toml", else guessed), or that JSON as a mapping. A bad
    document is refused naming the line and entry that is wrong (`evidence.PolicyError`)."""
    actor.require_admin(message("action.set_policy"))
    by = actor_name(actor)
    if isinstance(document, Mapping):
        document, fmt = json.dumps(document, ensure_ascii=False, indent=2), "json"
    policy = parse_policy(document, source=source, fmt=fmt)
    now = now_utc()
    with db.unit(write=True) as uow:
        uow.put_setting(POLICY_SETTING, policy_json(policy))
        uow.put_setting(
            POLICY_CHANGED_SETTING, json.dumps({"by": by, "at": isoformat(now)}, ensure_ascii=False)
        )
        uow.commit()
    return PolicyView(policy, False, by, now)


def record_founding(
    db: Database,
    key: str,
    *,
    founded_on: str | date,
    actor: Actor,
    evidence: str | None = None,
    note: str = "",
) -> RecordView:
    """Record the date the company's business was registered (a later record replaces it)."""
    return _write(
        db, key, FOUNDED, actor, note,
        lambda facts, now: new_founding(founded_on, evidence=evidence, now=now),
    )  # fmt: skip


def record_qualification(
    db: Database,
    key: str,
    kind: str,
    *,
    granted_on: str | date,
    actor: Actor,
    expires_on: str | date | None = None,
    level: str | None = None,
    number: str | None = None,
    evidence: str | None = None,
    note: str = "",
) -> RecordView:
    """Record a qualification grant (`expires_on` defaults from the kind, DESIGN §8)."""
    return _write(
        db, key, QUALIFICATION, actor, note,
        lambda facts, now: new_qualification(
            kind, granted_on=granted_on, expires_on=expires_on, level=level, number=number,
            evidence=evidence, now=now,
        ),
    )  # fmt: skip


def revoke_qualification(
    db: Database,
    key: str,
    kind: str,
    *,
    revoked_on: str | date,
    reason: str,
    actor: Actor,
    evidence: str | None = None,
    note: str = "",
) -> RecordView:
    """Revoke the latest unrevoked grant of `kind` (by grant date) from `revoked_on` on."""
    return _write(
        db, key, REVOCATION, actor, note,
        lambda facts, now: new_revocation(
            facts, kind, revoked_on=revoked_on, reason=reason, evidence=evidence, now=now
        ),
    )  # fmt: skip


def record_financing(
    db: Database,
    key: str,
    *,
    amount: str | int,
    on: str | date,
    actor: Actor,
    round_name: str | None = None,
    investor: str | None = None,
    evidence: str | None = None,
    note: str = "",
) -> RecordView:
    """Record a financing round (yuan); not dated before the company's founding date."""
    return _write(
        db, key, FINANCING, actor, note,
        lambda facts, now: new_financing(
            facts, amount=amount, on=on, round_name=round_name, investor=investor,
            evidence=evidence, now=now,
        ),
    )  # fmt: skip


def record_milestone(
    db: Database,
    key: str,
    kind: str,
    *,
    on: str | date,
    actor: Actor,
    evidence: str | None = None,
    note: str = "",
) -> RecordView:
    """Record that the company was listed or acquired on a day."""
    return _write(
        db, key, MILESTONE, actor, note,
        lambda facts, now: new_milestone(facts, kind, on=on, evidence=evidence, now=now),
    )  # fmt: skip


def record_figures(
    db: Database,
    key: str,
    *,
    year: str | int,
    values: Mapping[str, str | int | None],
    actor: Actor,
    evidence: str | None = None,
    note: str = "",
) -> RecordView:
    """Record annual figures for a calendar year (`values` by `evidence.FIGURE_NAMES`; None
    or "" for a field not given): a later record for the same year replaces the fields it
    gives."""
    return _write(
        db, key, FIGURES, actor, note,
        lambda facts, now: new_figures(year=year, values=values, evidence=evidence, now=now),
    )  # fmt: skip


def _write(
    db: Database,
    key: str,
    kind: str,
    actor: Actor,
    note: str,
    build: Callable[[CompanyFacts, datetime], Payload],
) -> RecordView:
    """Append one evidence record, built from the company's facts so far, and bring the
    derived tables in step; all in one unit of work. Managers write facts of companies of
    their own site, admins of all; any company may get facts, exited or not."""
    given = lookup_key(key)
    try:
        clean_note(note)
        by = actor_name(actor)
    except InvalidInput as exc:
        raise _refused(kind, given, exc) from None
    # A company user is refused another company's key before it is looked up (whether it
    # exists is none of their business).
    actor.require_company(given, message("action.record_fact", key=given))
    with db.unit(write=True) as uow:
        hmac_key = writing_key(uow)
        row = lock_company(uow, given)
        _read_found(actor, row.key)
        actor.require_fact_write(
            row.key, row.site, kind, message("action.record_fact", key=row.key)
        )
        now = now_utc()
        known = company_facts(uow, row)
        try:
            payload = build(known, now)
        except InvalidInput as exc:
            raise _refused(kind, row.key, exc) from None
        seq = write_record(uow, row, kind, payload, by, note, now, hmac_key)
        commit(uow, row.key)
    return RecordView(row.key, seq, kind, payload, by, now, note)


def write_record(
    uow: UnitOfWork,
    row: CompanyRecord,
    kind: str,
    payload: Payload,
    actor: str,
    note: str,
    now: datetime,
    hmac_key: bytes | None,
) -> int:
    """Append an evidence record to the company's chain and update the derived table it
    changes; its seq. Runs under the company's lock, inside the caller's unit of work."""
    assert kind in FACT_KINDS
    seq = append_record(uow, row, kind, payload, actor, note, now, hmac_key)
    company = row.id
    if kind == FOUNDED:
        founded = date.fromisoformat(payload["founded_on"])
        uow.update_company(company, {"founded_on": founded})
        row.founded_on = founded
    elif kind == QUALIFICATION:
        uow.insert_qualification(
            {
                "company_id": company, "seq": seq, "kind": payload["kind"],
                "level": payload["level"], "number": payload["number"],
                "granted_on": date.fromisoformat(payload["granted_on"]),
                "expires_on": date.fromisoformat(payload["expires_on"]),
            }
        )  # fmt: skip
    elif kind == REVOCATION:
        uow.revoke_qualification(
            company, payload["grant"], date.fromisoformat(payload["revoked_on"]), payload["reason"]
        )
    elif kind == FINANCING:
        uow.insert_financing(
            {
                "company_id": company, "seq": seq, "financed_on": date.fromisoformat(payload["on"]),
                "amount": payload["amount"], "round_name": payload["round"],
                "investor": payload["investor"],
            }
        )  # fmt: skip
    elif kind == MILESTONE:
        uow.insert_milestone(
            {
                "company_id": company, "seq": seq, "kind": payload["kind"],
                "achieved_on": date.fromisoformat(payload["on"]),
            }
        )  # fmt: skip
    else:  # FIGURES: the year's merged values
        year = payload["year"]
        merged = company_facts(uow, row).figures_of(year)
        assert merged is not None
        uow.put_figures(company, year, dict(merged.values))
    return seq


def _refused(kind: str, key: str, cause: InvalidInput) -> InvalidInput:
    return InvalidInput("fact.refused", what=message(f"fact.{kind}"), key=key, cause=cause)
