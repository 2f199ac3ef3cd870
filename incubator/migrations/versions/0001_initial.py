"""Initial schema: companies, the append-only event log, spells, users, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from incubator.store import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(name, UTCDateTime(), nullable=nullable, index=index)


APPEND_ONLY_SQLITE = """
CREATE TRIGGER stage_event_no_{op} BEFORE {OP} ON stage_event
BEGIN
    SELECT RAISE(ABORT, 'stage_event is append-only: {OP} refused; record a new event instead');
END
"""

APPEND_ONLY_POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION stage_event_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'stage_event is append-only: % refused; record a new event instead', TG_OP;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER stage_event_no_update_delete BEFORE UPDATE OR DELETE ON stage_event
    FOR EACH ROW EXECUTE FUNCTION stage_event_append_only()
    """,
    """
    CREATE TRIGGER stage_event_no_truncate BEFORE TRUNCATE ON stage_event
    FOR EACH STATEMENT EXECUTE FUNCTION stage_event_append_only()
    """,
]


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sector", sa.String(120), nullable=False, index=True),
        sa.Column("site", sa.String(120), nullable=False, index=True),
        sa.Column("uscc", sa.String(18), nullable=True),
        sa.Column("stage", sa.String(32), nullable=False, index=True),
        _when("entered_stage_at"),
        _when("admitted_at"),
        _when("last_event_at"),
        sa.Column("cohort", sa.Integer, nullable=False),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "stage_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("company_id", sa.Integer, sa.ForeignKey("company.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_stage", sa.String(32), nullable=True),
        sa.Column("to_stage", sa.String(32), nullable=False),
        _when("effective_at"),
        _when("recorded_at"),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("company_id", "seq", name="uq_stage_event_company_seq"),
    )
    op.create_index("ix_stage_event_effective_at", "stage_event", ["effective_at"])
    op.create_table(
        "spell",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "company_id", sa.Integer, sa.ForeignKey("company.id"), nullable=False, index=True
        ),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("start_us", sa.BigInteger, nullable=False),
        sa.Column("start_ym", sa.Integer, nullable=False),
        sa.Column("end_us", sa.BigInteger, nullable=True),
        sa.Column("end_ym", sa.Integer, nullable=True),
        sa.Column("end_kind", sa.String(16), nullable=True),
        sa.Column("exit_reason", sa.String(32), nullable=True),
        sa.Column("site", sa.String(120), nullable=False),
        sa.Column("sector", sa.String(120), nullable=False),
        sa.Column("cohort", sa.Integer, nullable=False),
    )
    op.create_index("ix_spell_stage_start", "spell", ["stage", "start_us"])
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("site", sa.String(120), nullable=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        _when("created_at"),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in APPEND_ONLY_POSTGRES:
            op.execute(statement)
    else:
        for name in ("update", "delete"):
            op.execute(APPEND_ONLY_SQLITE.format(op=name, OP=name.upper()))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS stage_event_no_truncate ON stage_event")
        op.execute("DROP TRIGGER IF EXISTS stage_event_no_update_delete ON stage_event")
        op.execute("DROP FUNCTION IF EXISTS stage_event_append_only()")
    for name in ("setting", "app_user", "spell", "stage_event", "company"):
        op.drop_table(name)
