"""Accounts and sessions (DESIGN §11): account status, last sign-in and password change on
`app_user`; server-side sign-in sessions; failed sign-ins by name for throttling.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from incubator.store import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(name, UTCDateTime(), nullable=nullable, index=index)


def upgrade() -> None:
    # Plain ADD COLUMN of nullable columns: SQLite does it in place, no table rebuild.
    op.add_column("app_user", _when("disabled_at", nullable=True))
    op.add_column("app_user", _when("last_sign_in_at", nullable=True))
    op.add_column("app_user", _when("password_changed_at", nullable=True))
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id"), nullable=False, index=True),
        _when("created_at"),
        _when("last_seen_at"),
        _when("expires_at"),
        _when("ended_at", nullable=True),
    )
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        _when("at", index=True),
    )
    op.create_index("ix_sign_in_failure_name_at", "sign_in_failure", ["name", "at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failure_name_at", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
    op.drop_table("user_session")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("last_sign_in_at")
        batch.drop_column("disabled_at")
