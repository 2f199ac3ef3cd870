"""Chained company records (facts), the fact chain head on the company row, the audit key mode.

Adds the append-only `company_fact` table (triggers refuse UPDATE and DELETE, and TRUNCATE
on PostgreSQL, as for `stage_event`) and `company.fact_count` / `company.fact_head`. Every
existing company gets one profile record of its current name, sector, site and USCC
(actor "migration"), chained like the events: with the audit key when the database's events
were written with one. The `audit_key` setting records which (`none` or the key's
fingerprint, never the key); a database without events decides at its first write.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from incubator import audit
from incubator.messages import message
from incubator.store import StoreError, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: The setting that records the audit key mode (as `incubator.auditing.KEY_SETTING`).
KEY_SETTING = "audit_key"
BATCH = 5000

APPEND_ONLY_SQLITE = """
CREATE TRIGGER company_fact_no_{op} BEFORE {OP} ON company_fact
BEGIN
    SELECT RAISE(ABORT, 'company_fact is append-only: {OP} refused; record a new fact instead');
END
"""

APPEND_ONLY_POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION company_fact_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'company_fact is append-only: % refused; record a new fact instead', TG_OP;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER company_fact_no_update_delete BEFORE UPDATE OR DELETE ON company_fact
    FOR EACH ROW EXECUTE FUNCTION company_fact_append_only()
    """,
    """
    CREATE TRIGGER company_fact_no_truncate BEFORE TRUNCATE ON company_fact
    FOR EACH STATEMENT EXECUTE FUNCTION company_fact_append_only()
    """,
]

company = sa.table(
    "company",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("name", sa.Text),
    sa.column("sector", sa.String),
    sa.column("site", sa.String),
    sa.column("uscc", sa.String),
    sa.column("fact_count", sa.Integer),
    sa.column("fact_head", sa.String),
)
stage_event = sa.table(
    "stage_event",
    sa.column("id", sa.Integer),
    sa.column("company_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("from_stage", sa.String),
    sa.column("to_stage", sa.String),
    sa.column("effective_at", UTCDateTime()),
    sa.column("recorded_at", UTCDateTime()),
    sa.column("actor", sa.String),
    sa.column("note", sa.Text),
    sa.column("reason", sa.String),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
company_fact = sa.table(
    "company_fact",
    sa.column("company_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("payload", sa.Text),
    sa.column("recorded_at", UTCDateTime()),
    sa.column("actor", sa.String),
    sa.column("note", sa.Text),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
setting = sa.table("setting", sa.column("key", sa.String), sa.column("value", sa.Text))


def upgrade() -> None:
    op.create_table(
        "company_fact",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("company_id", sa.Integer, sa.ForeignKey("company.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("company_id", "seq", name="uq_company_fact_company_seq"),
    )
    op.add_column(
        "company", sa.Column("fact_count", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column(
        "company",
        sa.Column("fact_head", sa.String(64), nullable=False, server_default=audit.GENESIS),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for statement in APPEND_ONLY_POSTGRES:
            op.execute(statement)
    else:
        for name in ("update", "delete"):
            op.execute(APPEND_ONLY_SQLITE.format(op=name, OP=name.upper()))
    key = _key_of_existing_events(bind)
    if key is not None:
        _record_profiles(bind, key or None)


def _key_of_existing_events(bind: sa.Connection) -> bytes | None:
    """The key the database's events are chained with (b"" for none), recorded in the
    `audit_key` setting; None when there are no events yet (the first write decides).
    Refuses (StoreError) when INCUBATOR_AUDIT_KEY does not reproduce the stored hashes."""
    first = bind.execute(sa.select(stage_event).order_by(stage_event.c.id).limit(1)).first()
    if first is None:
        return None
    fields = dict(first._mapping)
    fields["company_key"] = bind.execute(
        sa.select(company.c.key).where(company.c.id == fields["company_id"])
    ).scalar()
    key = audit.audit_key()
    if audit.chain_hash(fields["prev_hash"], fields) == fields["hash"]:
        found = b""
    elif key and audit.chain_hash(fields["prev_hash"], fields, key) == fields["hash"]:
        found = key
    else:
        given = "upgrade.given_key" if key else "upgrade.no_key"
        raise StoreError("store.upgrade_key_mismatch", id=fields["id"], given=message(given))
    bind.execute(sa.delete(setting).where(setting.c.key == KEY_SETTING))
    bind.execute(sa.insert(setting).values(key=KEY_SETTING, value=audit.key_mode(found or None)))
    return found


def _record_profiles(bind: sa.Connection, key: bytes | None) -> None:
    """One profile record per company (its current values), in batches by id."""
    now = datetime.now(UTC)
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                company.c.id,
                company.c.key,
                company.c.name,
                company.c.sector,
                company.c.site,
                company.c.uscc,
            )  # fmt: skip
            .where(company.c.id > last)
            .order_by(company.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        facts, heads = [], []
        for company_id, company_key, name, sector, site, uscc in rows:
            payload = audit.payload_json(
                {"name": name, "sector": sector, "site": site, "uscc": uscc}
            )
            digest = audit.fact_hash(
                audit.GENESIS, company_key, 1, audit.PROFILE, payload, now, "migration", "", key
            )
            facts.append(
                {
                    "company_id": company_id, "seq": 1, "kind": audit.PROFILE,
                    "payload": payload, "recorded_at": now, "actor": "migration", "note": "",
                    "prev_hash": audit.GENESIS, "hash": digest,
                }
            )  # fmt: skip
            heads.append({"b_id": company_id, "fact_count": 1, "fact_head": digest})
        bind.execute(sa.insert(company_fact), facts)
        bind.execute(
            sa.update(company).where(company.c.id == sa.bindparam("b_id")),
            heads,
        )
        last = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS company_fact_no_truncate ON company_fact")
        op.execute("DROP TRIGGER IF EXISTS company_fact_no_update_delete ON company_fact")
        op.execute("DROP FUNCTION IF EXISTS company_fact_append_only()")
    op.drop_table("company_fact")
    for column in ("fact_head", "fact_count"):  # SQLite 3.35+ drops a plain column in place
        op.execute(f"ALTER TABLE company DROP COLUMN {column}")
    op.execute(sa.delete(setting).where(setting.c.key == KEY_SETTING))
