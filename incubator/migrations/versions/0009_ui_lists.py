"""Indexes for the web app's lists at a province's scale (issue 12): the newest events and
company records first (the audit log), each board column longest in stage first, and the
cohorts present (the cohort filter).

- `ix_stage_event_recorded_at` (recorded_at, id) and `ix_company_fact_recorded_at` (recorded_at,
  id): the audit log reads the newest 5,000 rows by walking an index backwards instead of
  sorting the whole log.
- `ix_company_stage_entered` (stage, entered_stage_at, key): a board column's first companies
  without sorting every company in the stage.
- `ix_company_cohort` (cohort): the cohorts present, as the sites and sectors are, by a few
  index lookups (`UnitOfWork.sites_and_sectors`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_stage_event_recorded_at": "stage_event (recorded_at, id)",
    "ix_company_fact_recorded_at": "company_fact (recorded_at, id)",
    "ix_company_stage_entered": "company (stage, entered_stage_at, key)",
    "ix_company_cohort": "company (cohort)",
}


def upgrade() -> None:
    for name, on in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {on}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
