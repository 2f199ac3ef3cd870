"""An expression index on lower(company.key): a key given in another case (`jm-0042`) finds
its company without a scan.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain SQL: SQLite and PostgreSQL both index an expression this way.
    op.execute("CREATE INDEX ix_company_key_lower ON company (lower(key))")


def downgrade() -> None:
    op.execute("DROP INDEX ix_company_key_lower")
