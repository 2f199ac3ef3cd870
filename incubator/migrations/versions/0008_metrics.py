"""Covering indexes for the metrics (issue 12): funnel, throughput and time in stage read an
index instead of the whole `spell` table.

`ix_spell_metrics` holds every column the funnel, the entries per period and the time in stage
read, the filters included, in the order they group by (stage, then month of the start): the
scan needs no row lookup and no sort. `ix_spell_exits` does the same for the exits per period
(partial: spells ended by an exit only, by reason, then month of the end).

SQLite only: PostgreSQL reads the table (a parallel sequential scan and a hash aggregate, as
fast as the index would be and with no index to keep up on every write), and without
statistics (right after an import) its planner took the partial index for a few rows and
sorted them on disk.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

METRICS_COLUMNS = [
    "stage",
    "start_ym",
    "start_us",
    "end_us",
    "end_kind",
    "site",
    "sector",
    "cohort",
]
EXITS_COLUMNS = [
    "exit_reason",
    "end_ym",
    "end_us",
    "start_us",
    "end_kind",
    "site",
    "sector",
    "cohort",
]
EXITS_WHERE = sa.text("end_kind = 'exit'")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_index("ix_spell_metrics", "spell", METRICS_COLUMNS)
    op.create_index(
        "ix_spell_exits",
        "spell",
        EXITS_COLUMNS,
        sqlite_where=EXITS_WHERE,
        postgresql_where=EXITS_WHERE,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index("ix_spell_exits", table_name="spell")
    op.drop_index("ix_spell_metrics", table_name="spell")
