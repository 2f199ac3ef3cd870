"""Evidence and gates (DESIGN §8): the founding date on the company row, the gate outcome on
each event, and the derived tables of a company's evidence records.

- `company.founded_on` (NULL: not known) and `stage_event.gate` (NULL: no gate applied; a
  gate outcome is hashed only when present, so every existing event keeps its hash);
- `qualification`, `financing_round`, `milestone` and `annual_figures`: typed, indexed rows
  kept in step with the `company_fact` records of those kinds, for reports over many
  companies (`audit verify` checks them against the chain).

No record of these kinds exists before this schema, so the new tables start empty. Plain
ADD COLUMN of nullable columns: SQLite and PostgreSQL do it in place, without rewriting the
tables (or firing their append-only triggers).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FIGURE_COLUMNS = (
    "revenue", "net_profit", "taxes", "rd_spend", "exports", "employees", "employees_college",
    "employees_phd", "returnees", "new_graduates", "ip_applied", "ip_granted", "ip_valid",
    "invention_patents_valid", "tech_contracts", "tech_contract_value", "floor_area_m2",
)  # fmt: skip


def _company_id() -> sa.Column:
    return sa.Column("company_id", sa.Integer, sa.ForeignKey("company.id"), nullable=False)


def upgrade() -> None:
    op.add_column("company", sa.Column("founded_on", sa.Date, nullable=True))
    op.add_column("stage_event", sa.Column("gate", sa.Text, nullable=True))
    op.create_table(
        "qualification",
        sa.Column("id", sa.Integer, primary_key=True),
        _company_id(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("level", sa.String(16), nullable=True),
        sa.Column("number", sa.String(120), nullable=True),
        sa.Column("granted_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
        sa.Column("revoked_on", sa.Date, nullable=True),
        sa.Column("revoke_reason", sa.Text, nullable=True),
        sa.UniqueConstraint("company_id", "seq", name="uq_qualification_company_seq"),
    )
    op.create_index("ix_qualification_kind_granted", "qualification", ["kind", "granted_on"])
    op.create_index("ix_qualification_company", "qualification", ["company_id"])
    op.create_table(
        "financing_round",
        sa.Column("id", sa.Integer, primary_key=True),
        _company_id(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("financed_on", sa.Date, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("round_name", sa.String(120), nullable=True),
        sa.Column("investor", sa.String(120), nullable=True),
        sa.UniqueConstraint("company_id", "seq", name="uq_financing_round_company_seq"),
    )
    op.create_index("ix_financing_round_on", "financing_round", ["financed_on"])
    op.create_index("ix_financing_round_company", "financing_round", ["company_id"])
    op.create_table(
        "milestone",
        sa.Column("id", sa.Integer, primary_key=True),
        _company_id(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("achieved_on", sa.Date, nullable=False),
        sa.UniqueConstraint("company_id", "seq", name="uq_milestone_company_seq"),
    )
    op.create_index("ix_milestone_kind_on", "milestone", ["kind", "achieved_on"])
    op.create_index("ix_milestone_company", "milestone", ["company_id"])
    op.create_table(
        "annual_figures",
        sa.Column(
            "company_id", sa.Integer, sa.ForeignKey("company.id"), primary_key=True, nullable=False
        ),
        sa.Column("year", sa.Integer, primary_key=True, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=True) for name in FIGURE_COLUMNS),
    )
    op.create_index("ix_annual_figures_year", "annual_figures", ["year"])


def downgrade() -> None:
    for table in ("annual_figures", "milestone", "financing_round", "qualification"):
        op.drop_table(table)
    # SQLite 3.35+ and PostgreSQL drop a plain column in place
    op.execute("ALTER TABLE stage_event DROP COLUMN gate")
    op.execute("ALTER TABLE company DROP COLUMN founded_on")
