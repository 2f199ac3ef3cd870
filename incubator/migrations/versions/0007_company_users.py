"""Company users (DESIGN §6, issue 9): a user account may be bound to one company.

`app_user.company` holds the key of the company a `company` user speaks for (NULL for every
other role). It names the company's key as stored (the accounts use case checks that it
exists, in any letter case, before writing it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("company", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("company")
