"""The site registry and the city's targets (DESIGN §9).

- `site` (name, kind, level) and `site_figures` (a site's floor area, staff, mentors and
  incubation fund for a year); every site a company or a user names becomes a registry
  site of kind `mixed` and level `none`, until an admin edits it;
- `city_target`: the city's target for a metric in a year;
- `registry_record`: every change to those tables (who, when, what), append-only like the
  event log (triggers refuse UPDATE and DELETE, and TRUNCATE on PostgreSQL). The sites this
  migration registers are recorded there too, by the actor `migration`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-20
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from incubator.store import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

APPEND_ONLY_SQLITE = """
CREATE TRIGGER registry_record_no_{op} BEFORE {OP} ON registry_record
BEGIN
    SELECT RAISE(ABORT, 'registry_record is append-only: {OP} refused; record a new change instead');
END
"""

APPEND_ONLY_POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION registry_record_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'registry_record is append-only: % refused; record a new change instead', TG_OP;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER registry_record_no_update_delete BEFORE UPDATE OR DELETE ON registry_record
    FOR EACH ROW EXECUTE FUNCTION registry_record_append_only()
    """,
    """
    CREATE TRIGGER registry_record_no_truncate BEFORE TRUNCATE ON registry_record
    FOR EACH STATEMENT EXECUTE FUNCTION registry_record_append_only()
    """,
]


def _changed() -> list[sa.Column]:
    return [
        sa.Column("changed_by", sa.String(120), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    site = op.create_table(
        "site",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        *_changed(),
    )
    op.create_table(
        "site_figures",
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("floor_area_m2", sa.BigInteger, nullable=True),
        sa.Column("staff", sa.BigInteger, nullable=True),
        sa.Column("mentors", sa.BigInteger, nullable=True),
        sa.Column("incubation_fund", sa.BigInteger, nullable=True),
        *_changed(),
    )
    op.create_table(
        "city_target",
        sa.Column("metric", sa.String(32), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
        *_changed(),
    )
    record = op.create_table(
        "registry_record",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject", sa.String(200), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for statement in APPEND_ONLY_POSTGRES:
            op.execute(statement)
    else:
        for name in ("update", "delete"):
            op.execute(APPEND_ONLY_SQLITE.format(op=name, OP=name.upper()))
    used = {
        str(name)
        for (name,) in bind.execute(
            sa.text(
                "SELECT site FROM company WHERE site <> '' UNION "
                "SELECT site FROM app_user WHERE site IS NOT NULL AND site <> ''"
            )
        )
    }
    now = datetime.now(UTC)
    names = sorted(used)
    if names:
        op.bulk_insert(
            site,
            [
                {"name": n, "kind": "mixed", "level": "none", "changed_by": "migration",
                 "changed_at": now}
                for n in names
            ],
        )  # fmt: skip
        payload = json.dumps({"kind": "mixed", "level": "none"}, sort_keys=True)
        op.bulk_insert(
            record,
            [
                {"subject": f"site:{n}", "kind": "add", "payload": payload,
                 "actor": "migration", "recorded_at": now}
                for n in names
            ],
        )  # fmt: skip


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS registry_record_no_truncate ON registry_record")
        op.execute("DROP TRIGGER IF EXISTS registry_record_no_update_delete ON registry_record")
        op.execute("DROP FUNCTION IF EXISTS registry_record_append_only()")
    for table in ("registry_record", "city_target", "site_figures", "site"):
        op.drop_table(table)
