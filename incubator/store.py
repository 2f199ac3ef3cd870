"""Persistence: tables, the engine factory, the unit of work and every SQL query.

The only module that imports SQLModel/SQLAlchemy. Services and metrics call the unit of
work's methods and never write SQL themselves. The metric queries over `spell` are plain SQL
in `incubator.dbapi`, which the units of work run (`UnitOfWork.query`) as the metric
commands' driver-only `dbapi.Reader` does.

Tables
- `company`: one row per company, with its current stage, profile (name, sector, site, USCC)
  and the heads of its two hash chains. Every column is derived from the chained logs, and
  `audit verify` checks it against them.
- `stage_event`: the append-only event log (database triggers refuse UPDATE and DELETE).
- `company_fact`: append-only records about a company (profile changes now, evidence later),
  in a second hash chain per company; triggers refuse UPDATE and DELETE here too.
- `spell`: one row per stay in a stage, kept in step with every event in the same
  transaction. It is derived data (it can be rebuilt from the events) and lets every metric
  be one indexed scan instead of a window function over the whole log.
- `app_user`: accounts for the UI, with argon2 password hashes, status and last sign-in, and
  (schema 0007) the company a `company` user is bound to.
- `user_session`: sign-in sessions of the web app (only a hash of each token is stored).
- `sign_in_failure`: recent failed sign-ins by user name, for throttling.
- `setting`: small JSON settings (e.g. the stuck-list limits, the gate policy).
- `qualification`, `financing_round`, `milestone`, `annual_figures` and `company.founded_on`:
  the evidence in a company's record chain (DESIGN §8) as typed, indexed rows, kept in step
  with every record in the same transaction, for reports over many companies. Derived data
  like the spells: `audit verify` checks them against the chain.
- `site`, `site_figures`, `city_target` (schema 0006): the site registry with its per-year
  figures, and the city's targets (DESIGN §9); every change to them is also appended to
  `registry_record` (append-only, like the event log), naming who changed what and when.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar
from urllib.parse import unquote, urlparse

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    any_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError, IntegrityError, InternalError, OperationalError
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, Session, SQLModel

from incubator.audit import GENESIS, PROFILE
from incubator.dbapi import SCHEMA_HEAD, StoreError, database_url, first_line


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive UTC text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


# --- tables --------------------------------------------------------------------------------


class CompanyRow(SQLModel, table=True):
    __tablename__ = "company"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    sector: str = Field(default="", sa_column=Column(String(120), nullable=False, index=True))
    site: str = Field(default="", sa_column=Column(String(120), nullable=False, index=True))
    uscc: str | None = Field(default=None, sa_column=Column(String(18), nullable=True))
    stage: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    entered_stage_at: datetime = _when()
    admitted_at: datetime = _when()
    last_event_at: datetime = _when()
    cohort: int = Field(sa_column=Column(Integer, nullable=False))
    event_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    head_hash: str = Field(sa_column=Column(String(64), nullable=False))
    fact_count: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    fact_head: str = Field(
        default=GENESIS, sa_column=Column(String(64), nullable=False, server_default=GENESIS)
    )
    #: Schema 0005: the founding date its `founded` records give (None: not known).
    founded_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))


class EventRow(SQLModel, table=True):
    __tablename__ = "stage_event"
    __table_args__ = (
        UniqueConstraint("company_id", "seq", name="uq_stage_event_company_seq"),
        Index("ix_stage_event_effective_at", "effective_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=Column(Integer, ForeignKey("company.id"), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    from_stage: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    to_stage: str = Field(sa_column=Column(String(32), nullable=False))
    effective_at: datetime = _when()
    recorded_at: datetime = _when()
    actor: str = Field(sa_column=Column(String(120), nullable=False))
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))
    #: Schema 0005: the gate's outcome (DESIGN §8) as canonical JSON, inside the hash; None
    #: when no gate applied (ungated moves, exits, history imports).
    gate: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class FactRow(SQLModel, table=True):
    """A chained record about a company (DESIGN §8, §10): `kind` says what it records and
    `payload` holds its business fields as canonical JSON (`audit.payload_json`)."""

    __tablename__ = "company_fact"
    __table_args__ = (UniqueConstraint("company_id", "seq", name="uq_company_fact_company_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=Column(Integer, ForeignKey("company.id"), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    recorded_at: datetime = _when()
    actor: str = Field(sa_column=Column(String(120), nullable=False))
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))


class SpellRow(SQLModel, table=True):
    """A stay in one stage. Times are microseconds since the epoch, so that durations and
    periods are plain integer arithmetic, identical in SQLite and PostgreSQL. `start_ym` is
    year * 12 + month - 1 of the start (month, quarter and year are integer divisions)."""

    __tablename__ = "spell"
    __table_args__ = (
        Index("ix_spell_stage_start", "stage", "start_us"),
        # The metrics' covering indexes, on SQLite only (migration 0008; "metric queries").
        Index(
            "ix_spell_metrics",
            "stage",
            "start_ym",
            "start_us",
            "end_us",
            "end_kind",
            "site",
            "sector",
            "cohort",
        ),
        Index(
            "ix_spell_exits",
            "exit_reason",
            "end_ym",
            "end_us",
            "start_us",
            "end_kind",
            "site",
            "sector",
            "cohort",
            sqlite_where=text("end_kind = 'exit'"),
            postgresql_where=text("end_kind = 'exit'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(
        sa_column=Column(Integer, ForeignKey("company.id"), nullable=False, index=True)
    )
    stage: str = Field(sa_column=Column(String(32), nullable=False))
    start_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    start_ym: int = Field(sa_column=Column(Integer, nullable=False))
    end_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    end_ym: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    end_kind: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    exit_reason: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    site: str = Field(sa_column=Column(String(120), nullable=False))
    sector: str = Field(sa_column=Column(String(120), nullable=False))
    cohort: int = Field(sa_column=Column(Integer, nullable=False))


class QualificationRow(SQLModel, table=True):
    """A qualification grant (record `seq` of the company's chain) with its revocation."""

    __tablename__ = "qualification"
    __table_args__ = (
        UniqueConstraint("company_id", "seq", name="uq_qualification_company_seq"),
        Index("ix_qualification_kind_granted", "kind", "granted_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=Column(Integer, ForeignKey("company.id"), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    level: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    number: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    granted_on: date = Field(sa_column=Column(Date, nullable=False))
    expires_on: date = Field(sa_column=Column(Date, nullable=False))
    revoked_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    revoke_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class FinancingRoundRow(SQLModel, table=True):
    """A financing round (record `seq` of the company's chain)."""

    __tablename__ = "financing_round"
    __table_args__ = (
        UniqueConstraint("company_id", "seq", name="uq_financing_round_company_seq"),
        Index("ix_financing_round_on", "financed_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=Column(Integer, ForeignKey("company.id"), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    financed_on: date = Field(sa_column=Column(Date, nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    round_name: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    investor: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))


class MilestoneRow(SQLModel, table=True):
    """A milestone (listed, acquired; record `seq` of the company's chain)."""

    __tablename__ = "milestone"
    __table_args__ = (
        UniqueConstraint("company_id", "seq", name="uq_milestone_company_seq"),
        Index("ix_milestone_kind_on", "kind", "achieved_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=Column(Integer, ForeignKey("company.id"), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    achieved_on: date = Field(sa_column=Column(Date, nullable=False))


#: The columns of `annual_figures` that hold figures, in `evidence.FIGURE_NAMES` order.
FIGURE_COLUMNS = (
    "revenue", "net_profit", "taxes", "rd_spend", "exports", "employees", "employees_college",
    "employees_phd", "returnees", "new_graduates", "ip_applied", "ip_granted", "ip_valid",
    "invention_patents_valid", "tech_contracts", "tech_contract_value", "floor_area_m2",
)  # fmt: skip


def _figure() -> Any:
    return Field(default=None, sa_column=Column(BigInteger, nullable=True))


class AnnualFiguresRow(SQLModel, table=True):
    """A company's figures for a calendar year: the merged current values of its `figures`
    records (NULL: never given)."""

    __tablename__ = "annual_figures"
    __table_args__ = (Index("ix_annual_figures_year", "year"),)

    company_id: int = Field(
        sa_column=Column(Integer, ForeignKey("company.id"), primary_key=True, nullable=False)
    )
    year: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    revenue: int | None = _figure()
    net_profit: int | None = _figure()
    taxes: int | None = _figure()
    rd_spend: int | None = _figure()
    exports: int | None = _figure()
    employees: int | None = _figure()
    employees_college: int | None = _figure()
    employees_phd: int | None = _figure()
    returnees: int | None = _figure()
    new_graduates: int | None = _figure()
    ip_applied: int | None = _figure()
    ip_granted: int | None = _figure()
    ip_valid: int | None = _figure()
    invention_patents_valid: int | None = _figure()
    tech_contracts: int | None = _figure()
    tech_contract_value: int | None = _figure()
    floor_area_m2: int | None = _figure()


class SiteRow(SQLModel, table=True):
    """A registry site (DESIGN §9): its kind and level, and who last changed it."""

    __tablename__ = "site"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    level: str = Field(sa_column=Column(String(16), nullable=False))
    changed_by: str = Field(sa_column=Column(String(120), nullable=False))
    changed_at: datetime = _when()


#: The columns of `site_figures` that hold figures.
SITE_FIGURE_COLUMNS = ("floor_area_m2", "staff", "mentors", "incubation_fund")


class SiteFiguresRow(SQLModel, table=True):
    """A site's figures for a calendar year (NULL: not given)."""

    __tablename__ = "site_figures"

    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("site.id"), primary_key=True, nullable=False)
    )
    year: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    floor_area_m2: int | None = _figure()
    staff: int | None = _figure()
    mentors: int | None = _figure()
    incubation_fund: int | None = _figure()
    changed_by: str = Field(sa_column=Column(String(120), nullable=False))
    changed_at: datetime = _when()


class TargetRow(SQLModel, table=True):
    """The city's target for a metric in a year (DESIGN §9)."""

    __tablename__ = "city_target"

    metric: str = Field(sa_column=Column(String(32), primary_key=True, nullable=False))
    year: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    value: int = Field(sa_column=Column(BigInteger, nullable=False))
    changed_by: str = Field(sa_column=Column(String(120), nullable=False))
    changed_at: datetime = _when()


class RegistryRecordRow(SQLModel, table=True):
    """One change to the site registry or the targets: what (`subject`, `kind`), the values
    it set (`payload`, canonical JSON), who and when. Append-only (triggers)."""

    __tablename__ = "registry_record"

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(sa_column=Column(String(120), nullable=False))
    recorded_at: datetime = _when()


class UserRow(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    site: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _when()
    disabled_at: datetime | None = _when(nullable=True)
    last_sign_in_at: datetime | None = _when(nullable=True)
    password_changed_at: datetime | None = _when(nullable=True)
    #: Schema 0007: the key of the company a `company` user speaks for (None otherwise).
    company: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))


class SessionRow(SQLModel, table=True):
    """A sign-in session: the SHA-256 of its token (the browser holds the token), its user,
    when it was last used, when it expires at the latest, and when it was ended."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=False, index=True)
    )
    created_at: datetime = _when()
    last_seen_at: datetime = _when()
    expires_at: datetime = _when()
    ended_at: datetime | None = _when(nullable=True)


class SignInFailureRow(SQLModel, table=True):
    """One failed (or not yet finished) sign-in for a user name, whether or not it exists."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_name_at", "name", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(120), nullable=False))
    at: datetime = _when(index=True)


class SettingRow(SQLModel, table=True):
    __tablename__ = "setting"

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))


@dataclass(slots=True)
class CompanyRecord:
    """A company as read by the unit of work: plain data, in the `company` column order."""

    id: int
    key: str
    name: str
    sector: str
    site: str
    uscc: str | None
    stage: str
    entered_stage_at: datetime
    admitted_at: datetime
    last_event_at: datetime
    cohort: int
    event_count: int
    head_hash: str
    fact_count: int
    fact_head: str
    founded_on: date | None = None

    def version(self) -> tuple[Any, ...]:
        """What changes whenever the company changes (see `VERSION_COLUMNS`)."""
        return (
            self.id, self.event_count, self.head_hash, self.fact_count, self.fact_head,
            self.stage, self.site, self.sector, self.cohort,
        )  # fmt: skip


#: The company columns of `CompanyRecord.version()`: an event or a company record changes a
#: count and a chain head, and what a bulk import copies from the company into its rows is
#: there too.
VERSION_COLUMNS = (
    "id", "event_count", "head_hash", "fact_count", "fact_head", "stage", "site", "sector",
    "cohort",
)  # fmt: skip


@dataclass(slots=True)
class EventRecord:
    """An event as read by the unit of work, in the `stage_event` column order."""

    id: int
    company_id: int
    seq: int
    kind: str
    from_stage: str | None
    to_stage: str
    effective_at: datetime
    recorded_at: datetime
    actor: str
    note: str
    reason: str | None
    prev_hash: str
    hash: str
    gate: str | None = None


@dataclass(slots=True)
class FactRecord:
    """A record of a company's fact chain, in the `company_fact` column order."""

    id: int
    company_id: int
    seq: int
    kind: str
    payload: str
    recorded_at: datetime
    actor: str
    note: str
    prev_hash: str
    hash: str


@dataclass(slots=True)
class SpellRecord:
    """A spell as stored, in the `spell` column order."""

    id: int
    company_id: int
    stage: str
    start_us: int
    start_ym: int
    end_us: int | None
    end_ym: int | None
    end_kind: str | None
    exit_reason: str | None
    site: str
    sector: str
    cohort: int


@dataclass(slots=True)
class QualificationRecord:
    """A `qualification` row, in its column order."""

    id: int
    company_id: int
    seq: int
    kind: str
    level: str | None
    number: str | None
    granted_on: date
    expires_on: date
    revoked_on: date | None
    revoke_reason: str | None


@dataclass(slots=True)
class FinancingRecord:
    """A `financing_round` row, in its column order."""

    id: int
    company_id: int
    seq: int
    financed_on: date
    amount: int
    round_name: str | None
    investor: str | None


@dataclass(slots=True)
class MilestoneRecord:
    """A `milestone` row, in its column order."""

    id: int
    company_id: int
    seq: int
    kind: str
    achieved_on: date


@dataclass(slots=True)
class FiguresRecord:
    """An `annual_figures` row: company, year and the figures in `FIGURE_COLUMNS` order."""

    company_id: int
    year: int
    values: tuple[int | None, ...]


@dataclass(slots=True)
class SiteRecord:
    """A `site` row, in its column order."""

    id: int
    name: str
    kind: str
    level: str
    changed_by: str
    changed_at: datetime


@dataclass(slots=True)
class SiteFiguresRecord:
    """A site's figures for a year, with the site's name."""

    site: str
    year: int
    floor_area_m2: int | None
    staff: int | None
    mentors: int | None
    incubation_fund: int | None
    changed_by: str
    changed_at: datetime


@dataclass(slots=True)
class TargetRecord:
    """A `city_target` row, in its column order."""

    metric: str
    year: int
    value: int
    changed_by: str
    changed_at: datetime


@dataclass(slots=True)
class UserRecord:
    """An account as read by the unit of work, in the `app_user` column order."""

    id: int
    name: str
    role: str
    site: str | None
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None
    last_sign_in_at: datetime | None
    password_changed_at: datetime | None
    company: str | None = None


@dataclass(slots=True)
class SessionRecord:
    """A sign-in session with the account it belongs to."""

    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    name: str
    role: str
    site: str | None
    disabled_at: datetime | None
    company: str | None = None


COMPANY = CompanyRow.__table__  # type: ignore[attr-defined]
#: Schema 0004: finds a key given in another case (`UnitOfWork.keys_ignoring_case`).
Index("ix_company_key_lower", func.lower(COMPANY.c.key))
EVENT = EventRow.__table__  # type: ignore[attr-defined]
SPELL = SpellRow.__table__  # type: ignore[attr-defined]
FACT = FactRow.__table__  # type: ignore[attr-defined]
USER = UserRow.__table__  # type: ignore[attr-defined]
USER_SESSION = SessionRow.__table__  # type: ignore[attr-defined]
SIGN_IN_FAILURE = SignInFailureRow.__table__  # type: ignore[attr-defined]
SETTING = SettingRow.__table__  # type: ignore[attr-defined]
QUALIFICATION = QualificationRow.__table__  # type: ignore[attr-defined]
FINANCING = FinancingRoundRow.__table__  # type: ignore[attr-defined]
MILESTONE = MilestoneRow.__table__  # type: ignore[attr-defined]
FIGURES = AnnualFiguresRow.__table__  # type: ignore[attr-defined]
SITE = SiteRow.__table__  # type: ignore[attr-defined]
SITE_FIGURES = SiteFiguresRow.__table__  # type: ignore[attr-defined]
TARGET = TargetRow.__table__  # type: ignore[attr-defined]
REGISTRY_RECORD = RegistryRecordRow.__table__  # type: ignore[attr-defined]
#: Schema 0005: a company's qualifications, rounds and milestones without a scan.
Index("ix_qualification_company", QUALIFICATION.c.company_id)
Index("ix_financing_round_company", FINANCING.c.company_id)
Index("ix_milestone_company", MILESTONE.c.company_id)
metadata = SQLModel.metadata


#: The tables `audit verify` reads side by side (`UnitOfWork.audit_batches`), with the
#: position of the company id in their rows (the company's own id for `companies`).
AUDIT_TABLES: dict[str, int] = {
    "companies": 0, "events": 1, "facts": 1, "spells": 1, "qualifications": 1,
    "financing": 1, "milestones": 1, "figures": 0,
}  # fmt: skip


def _audit_select(table: str, ids: tuple[int | None, int | None] = (None, None)) -> Select[Any]:
    """One of `AUDIT_TABLES`, every column in its record's order, by company id and then chain
    order (events, records), start (spells: ties in the order written), seq or year; of the
    company ids from `ids[0]` (inclusive) to `ids[1]` (exclusive) when they are given."""
    stmt = _audit_select_all(table)
    low, high = ids
    column = stmt.selected_columns[AUDIT_TABLES[table]]  # the company id
    if low is not None:
        stmt = stmt.where(column >= low)
    if high is not None:
        stmt = stmt.where(column < high)
    return stmt


@lru_cache(maxsize=64)
def _record_converter(table: str, dialect: Any) -> Callable[[tuple[Any, ...]], Any]:
    """`UnitOfWork.audit_converter`, made once per table and dialect (a move converts the
    company it reads with it: building one costs more than using it)."""
    processors = [
        (i, proc)
        for i, column in enumerate(_audit_select(table).selected_columns)
        if (proc := column.type._cached_result_processor(dialect, None)) is not None
    ]
    make = _AUDIT_RECORDS[table]

    def convert(row: tuple[Any, ...]) -> Any:
        values = list(row)
        for i, proc in processors:
            values[i] = proc(values[i])
        return make(values)

    return convert


def _audit_select_all(table: str) -> Select[Any]:
    if table == "companies":
        return select(*COMPANY.c).order_by(COMPANY.c.id)
    if table == "events":
        return select(*EVENT.c).order_by(EVENT.c.company_id, EVENT.c.seq)
    if table == "facts":
        return select(*FACT.c).order_by(FACT.c.company_id, FACT.c.seq)
    if table == "spells":
        return select(*SPELL.c).order_by(SPELL.c.company_id, SPELL.c.start_us, SPELL.c.id)
    if table == "figures":
        columns = [FIGURES.c[name] for name in FIGURE_COLUMNS]
        return select(FIGURES.c.company_id, FIGURES.c.year, *columns).order_by(
            FIGURES.c.company_id, FIGURES.c.year
        )
    derived = {"qualifications": QUALIFICATION, "financing": FINANCING, "milestones": MILESTONE}
    return select(*derived[table].c).order_by(derived[table].c.company_id, derived[table].c.seq)


_AUDIT_RECORDS: dict[str, Callable[[list[Any]], Any]] = {
    "companies": lambda v: CompanyRecord(*v),
    "events": lambda v: EventRecord(*v),
    "facts": lambda v: FactRecord(*v),
    "spells": lambda v: SpellRecord(*v),
    "qualifications": lambda v: QualificationRecord(*v),
    "financing": lambda v: FinancingRecord(*v),
    "milestones": lambda v: MilestoneRecord(*v),
    "figures": lambda v: FiguresRecord(v[0], v[1], tuple(v[2:])),
}


# --- errors --------------------------------------------------------------------------------


class KeyTaken(StoreError):
    """A unique key (company key, user name) is already in use."""

    def __init__(self, detail: str) -> None:
        super().__init__("store.key_taken", detail=detail)


# --- engine --------------------------------------------------------------------------------

#: How long a SQLite writer waits for the write lock before giving up with "database is
#: locked". Every write unit of work takes the lock at its start (`BEGIN IMMEDIATE`), which
#: waits; a bulk import holds the lock only to copy rows it prepared beforehand (`BulkLoad`).
SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url`, set up for safe concurrent writers.

    SQLite: WAL, foreign keys, a busy timeout of `SQLITE_BUSY_TIMEOUT_S`, and `BEGIN IMMEDIATE`
    for write units of work, so two writers queue instead of failing with "database is
    locked" (a transaction that began as a read and then writes could not wait: SQLite
    refuses such an upgrade at once when another writer holds the lock).
    PostgreSQL: a pooled engine; writers lock the company row (`SELECT … FOR UPDATE`).
    """
    url = database_url(url)
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError("store.url_not_utf8", url=url) from None
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            raise StoreError("store.in_memory")
        # No rollback when a connection goes back to the pool: every unit of work ends its
        # transaction itself, and one that cannot invalidates its connection (`__exit__`)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, pool_reset_on_return=None
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA cache_size = -65536")  # 64 MiB: bulk imports and metric scans
            # Fold the WAL into the database every 10,000 pages (40 MB), not SQLite's 1,000:
            # a move dirties some 15 pages, mostly the same index pages as the moves before
            # it, and a commit that crosses the mark copies them all back and syncs the file.
            # Ten times fewer, larger checkpoints write each hot page once instead of ten
            # times (one process's moves: 1,906 -> 2,585 a second at 100,000 companies).
            cur.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            options = conn.get_execution_options()
            if options.get("incubator_begun", False):
                return  # a unit of work's connection, in the transaction it began itself
            driver = conn.connection.driver_connection
            assert driver is not None
            try:  # on the driver: every unit of work begins, and this is all it needs
                _sqlite_begin(driver, write=options.get("incubator_write", False))
            except driver.OperationalError as exc:  # e.g. locked past the busy timeout
                raise OperationalError("BEGIN", None, exc) from None

        return engine
    if url.startswith("postgresql"):
        # psycopg's own automatic prepared statements are off: it deallocates every prepared
        # statement of the session (its own and ours) at each rollback, and a move runs its
        # statements prepared by name (`_PgMoves`).
        engine = create_engine(url, connect_args={"prepare_threshold": None})

        @event.listens_for(engine, "checkin")
        def _idle_from(_dbapi_conn: Any, record: Any) -> None:
            record.info["idle_since"] = time.monotonic()

        @event.listens_for(engine, "checkout")
        def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
            # A pooled connection may have been closed by the server (a restart, an idle
            # timeout) while it waited: ping it before use, as `pool_pre_ping` would, but only
            # after PING_AFTER_IDLE_S idle, so that back-to-back units of work (a run of moves)
            # do not pay a round trip each. A failed ping makes the pool connect anew.
            since = record.info.get("idle_since")
            if since is not None and time.monotonic() - since < PING_AFTER_IDLE_S:
                return
            try:
                engine.dialect.do_ping(dbapi_conn)
            except engine.dialect.loaded_dbapi.Error as exc:
                raise DisconnectionError(first_line(exc)) from None

        @event.listens_for(engine, "connect", insert=True)
        def _utc_session(dbapi_conn: Any, _record: Any) -> None:
            # Sessions run in UTC, whatever PGTZ or the database's default says: times are
            # read back exactly, and never as a date another time zone cannot represent.
            autocommit = dbapi_conn.autocommit
            dbapi_conn.autocommit = True
            try:
                cur = dbapi_conn.cursor()
                cur.execute("SET TIME ZONE 'UTC'")
                cur.close()
            finally:
                dbapi_conn.autocommit = autocommit

        return engine
    raise StoreError("store.unsupported_url", url=url)


#: SQLite: a commit that leaves the WAL this many pages long folds it into the database.
WAL_AUTOCHECKPOINT_PAGES = 10_000

#: What `pg_export_snapshot()` returns (e.g. `00000003-0000001B-1`).
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")

#: PostgreSQL: a pooled connection idle this long (seconds) is pinged before it is used.
PING_AFTER_IDLE_S = 1.0


def _sqlite_begin(driver: Any, *, write: bool) -> None:
    """Begin a SQLite transaction on the driver: a write takes the write lock at once
    (`BEGIN IMMEDIATE`), waiting for another writer's in SQLite's busy handler up to the
    connection's busy timeout (`SQLITE_BUSY_TIMEOUT_S`)."""
    driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")


def describe(engine: Engine) -> str:
    shown = engine.url.render_as_string(hide_password=True)
    return unquote(shown) if engine.dialect.name == "sqlite" else shown  # file:PATH, not file%3A


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite database's file, also when the URL is a URI
    (`sqlite:///file:PATH?mode=ro&uri=true`); None for other databases."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if engine.url.query.get("uri") == "true" and database.startswith("file:"):
        return Path(unquote(urlparse(database).path))
    return Path(database)


def _database_failure(exc: BaseException, dbapi: Any) -> str | None:
    """The first line of the database's own refusal (a read-only file, a full disk, a lost
    connection, ...), or None when `exc` is not one."""
    if isinstance(exc, OperationalError | InternalError):
        return first_line(exc.orig)
    if dbapi is not None and isinstance(exc, dbapi.OperationalError | dbapi.InternalError):
        return first_line(exc)  # raised by the driver itself (bulk inserts)
    return None


# --- schema --------------------------------------------------------------------------------


def schema_version(engine: Engine) -> str | None:
    path = sqlite_file(engine)
    if path is not None and not path.exists():
        return None  # do not create an empty file just by looking
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as exc:
        raise StoreError(
            "store.cannot_open", db=describe(engine), detail=first_line(exc.orig)
        ) from None


def require_schema(engine: Engine) -> None:
    version = schema_version(engine)
    if version is None:
        raise StoreError("store.no_schema", db=describe(engine), head=SCHEMA_HEAD)
    if version != SCHEMA_HEAD:
        raise StoreError(
            "store.other_schema", db=describe(engine), version=version, head=SCHEMA_HEAD
        )


def upgrade_schema(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Create or upgrade the schema with the packaged Alembic migrations (to `revision`,
    normally the newest). Idempotent. A migration may refuse with a StoreError; then the
    database is left as it was."""
    from alembic import command
    from alembic.config import Config

    before = schema_version(engine)
    path = sqlite_file(engine)
    if path is not None and not path.parent.is_dir():
        raise StoreError("store.no_directory", db=describe(engine), directory=str(path.parent))
    config = Config()
    config.set_main_option("script_location", os.path.join(os.path.dirname(__file__), "migrations"))
    try:
        # a write transaction from the start (SQLite: BEGIN IMMEDIATE), so that an upgrade
        # waits for a busy database instead of failing
        with engine.connect() as conn, conn.execution_options(incubator_write=True).begin():
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    except (OperationalError, InternalError) as exc:
        raise StoreError(
            "store.setup_failed", db=describe(engine), detail=first_line(exc.orig)
        ) from None
    return before, SCHEMA_HEAD if revision == "head" else revision


# --- unit of work --------------------------------------------------------------------------


class UnitOfWork:
    """A transaction that rolls back unless `commit()` is called.

        with UnitOfWork(engine, write=True) as uow:
            company = uow.company("JM-0042", lock=True)
            ...
            uow.commit()

    Most methods run Core statements on `connection`; an ORM `session` on the same
    connection is made only when a method needs one. A unit of work opens its own
    connection, or runs on a given one that it leaves open (see `BulkLoad`).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        write: bool = False,
        connection: Connection | None = None,
        snapshot: str | None = None,
    ) -> None:
        self.engine = engine
        self.write = write
        #: A read's PostgreSQL snapshot to share (`export_snapshot` of another transaction).
        self.snapshot = snapshot
        self.dialect = engine.dialect.name
        self._committed = False
        self._session: Session | None = None
        self._settings: dict[str, str] | None = None
        #: Evidence records read together with a company to move (`company_to_move`).
        self._evidence: dict[int, list[tuple[int, str, str]]] = {}
        self._given = connection
        self._connection: Connection | None = None
        #: A lean unit's (`_enter_lean`): the pool's connection and its driver connection.
        self._pooled: Any = None
        self._drv: Any = None

    def __enter__(self) -> UnitOfWork:
        if self._given is None and (self.dialect == "sqlite" or self.write):
            return self._enter_lean()
        conn = self._given or self.engine.connect()
        if self.dialect == "sqlite":  # what its BEGIN listener reads (make_engine)
            conn.execution_options(incubator_write=self.write)
        self._connection = conn
        try:
            conn.begin()
            if not self.write and self.dialect == "postgresql":
                # One snapshot for the whole read (SQLite's read transactions have one anyway),
                # so e.g. `audit verify` never sees a company's head without its new event.
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if self.snapshot is not None:  # SET takes no parameters: a checked literal
                    if not _SNAPSHOT_ID.fullmatch(self.snapshot):
                        raise ValueError(f"not a snapshot id: {self.snapshot!r}")
                    conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
        except OperationalError as exc:
            if self._given is None:
                conn.close()
            raise StoreError(
                "store.cannot_open", db=describe(self.engine), detail=first_line(exc.orig)
            ) from None
        return self

    def _enter_lean(self) -> UnitOfWork:
        """The pool's connection, with a SQLAlchemy `Connection` made on it only when a
        method needs one (`connection`). A move needs none: its few statements run on the
        driver, and SQLAlchemy's connection, transaction and event machinery cost more than
        the move's own Python (a third of it on SQLite). SQLite: the transaction is begun on
        the driver here; PostgreSQL (writes; a read sets its snapshot through SQLAlchemy):
        it begins with the first statement (psycopg's, or `_PgMoves`' own BEGIN)."""
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            pooled = self.engine.raw_connection()
        except dbapi.Error as exc:
            raise StoreError(
                "store.cannot_open", db=describe(self.engine), detail=first_line(exc)
            ) from None
        driver: Any = pooled.driver_connection
        try:
            if self.dialect == "sqlite":
                _sqlite_begin(driver, write=self.write)
        except BaseException as exc:
            pooled.close()
            if isinstance(exc, dbapi.OperationalError):  # e.g. locked past the busy timeout
                raise StoreError(
                    "store.cannot_open", db=describe(self.engine), detail=first_line(exc)
                ) from None
            raise
        self._pooled, self._drv = pooled, driver
        return self

    @property
    def connection(self) -> Connection:
        """The unit's SQLAlchemy connection, inside its transaction (in a lean unit made when
        first asked for, on the pool's connection the unit holds)."""
        if self._connection is None:
            assert self._pooled is not None, "the unit of work is not open"
            conn = Connection(self.engine, connection=self._pooled)
            if self.dialect == "sqlite":
                # The driver's transaction is begun already: the BEGIN listener (make_engine)
                # does nothing, and SQLAlchemy's transaction (which an ORM session joins) is
                # bookkeeping over it.
                conn.execution_options(incubator_begun=True)
            conn.begin()  # PostgreSQL: joins the driver's transaction, if one is open
            self._connection = conn
        return self._connection

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of `sql` (driver SQL, written with `dbapi.placeholder`), in this unit's
        transaction: how the metric queries of `incubator.dbapi` run here."""
        return [tuple(row) for row in self.connection.exec_driver_sql(sql, tuple(params))]

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection, autoflush=False, expire_on_commit=False)
        return self._session

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        """Roll back unless committed; a refusal by the database itself (a read-only file, a
        full disk, a lost connection) becomes a one-line StoreError."""
        dbapi = self.engine.dialect.loaded_dbapi
        failure = _database_failure(exc, dbapi) if exc is not None else None
        try:
            if not self._committed:
                if self._session is not None:
                    self._session.expunge_all()  # loaded rows stay readable, not expired
                    self._session.rollback()
                self._rollback()
        except Exception as error:
            if failure is None and _database_failure(error, dbapi) is None:
                raise
            failure = failure or _database_failure(error, dbapi)
        finally:
            if self._session is not None:
                self._session.close()
            if self._given is None:
                # SQLite's pool does not roll back a connection that comes back to it
                pooled = self._pool_connection_if_open() if self.dialect == "sqlite" else None
                if pooled is not None and pooled.driver_connection.in_transaction:
                    pooled.invalidate()  # never back into the pool inside a transaction
                if self._connection is not None:
                    self._connection.close()  # and so the pool's connection (SQLite's too)
                else:
                    self._pooled.close()
        if failure is not None:
            if self.write:
                raise StoreError(
                    "store.write_failed", db=describe(self.engine), detail=failure
                ) from None
            raise StoreError(
                "store.read_failed", db=describe(self.engine), detail=failure
            ) from None

    def commit(self) -> None:
        try:
            if self._session is not None:
                self._session.flush()
            if self._connection is not None and self._connection.in_transaction():
                self._connection.commit()
            elif self._drv is not None:  # a lean unit where no SQLAlchemy statement ran
                self._drv.commit()  # (PostgreSQL: nothing to do after `_PgMoves`' COMMIT)
        except IntegrityError as exc:
            self._rollback()
            raise KeyTaken(str(exc.orig)) from None
        except self.engine.dialect.loaded_dbapi.IntegrityError as exc:
            self._rollback()
            raise KeyTaken(first_line(exc)) from None
        self._committed = True

    def _rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            self._connection.rollback()
        if self._drv is not None:  # a lean unit's (nothing to do outside a transaction)
            self._drv.rollback()

    def _pool_connection_if_open(self) -> Any:
        """The pool's connection this unit holds, if any (never one made anew)."""
        if self._pooled is not None:
            return self._pooled
        conn = self._connection
        if conn is not None and not conn.closed and not conn.invalidated:
            return conn.connection
        return None

    def _pool_connection(self) -> Any:
        """The pool's connection this unit runs on (its `info` outlives the unit)."""
        return self._pooled if self._pooled is not None else self.connection.connection

    # companies ------------------------------------------------------------------------

    def company(self, key: str, *, lock: bool = False) -> CompanyRecord | None:
        """The company; with `lock`, its row stays locked until the unit of work ends
        (PostgreSQL: `SELECT … FOR UPDATE`; on SQLite the write transaction already holds the
        database's write lock)."""
        stmt = _COMPANY_FOR_UPDATE if lock and self.dialect == "postgresql" else _COMPANY_BY_KEY
        row = self.connection.execute(stmt, {"b_key": key}).first()
        return CompanyRecord(*row) if row is not None else None

    def _driver(self) -> Any:
        """The driver's own connection, inside this unit of work's transaction: the write
        path of a move runs its few fixed statements on it, as SQLAlchemy's execution
        machinery costs more than the statements themselves."""
        if self._drv is not None:
            return self._drv
        driver = self._pool_connection().driver_connection
        assert driver is not None
        return driver

    def company_to_move(self, key: str) -> CompanyRecord | None:
        """The company of exactly this key, locked as by `company(key, lock=True)`, or None.

        Reads in the same go what a move reads next: the settings (`setting`) and, on
        PostgreSQL, the company's evidence records (`evidence_records`), all in one round
        trip with the transaction's BEGIN (`_PgMoves`; the records are read after the lock
        is granted). On SQLite the write transaction holds the database's lock already."""
        driver = self._driver()
        if self.dialect != "postgresql":
            cur = driver.cursor()
            try:
                if self._settings is None:
                    self._settings = dict(cur.execute(_SQL_SETTINGS).fetchall())
                row = cur.execute(_SQL_COMPANY_SQLITE, (key,)).fetchone()
            finally:
                cur.close()
            return self.audit_converter("companies")(row) if row is not None else None
        moves = _PgMoves.of(self._pool_connection())
        calls: list[tuple[str, tuple[str, ...]]] = [
            ("incubator_company", (key,)),
            ("incubator_evidence", (key,)),
        ]
        if self._settings is None:
            calls.insert(0, ("incubator_settings", ()))
        *settings, rows, facts = moves.run(calls)
        if settings:
            self._settings = dict(settings[0])
        if not rows:
            return None
        company = self.audit_converter("companies")(rows[0])  # as a SQLAlchemy read gives it
        self._evidence[company.id] = [(int(a), str(b), str(c)) for a, b, c in facts]
        return company

    def record_event(
        self,
        event: dict[str, Any],
        close: dict[str, Any] | None,
        spell: dict[str, Any] | None,
        company: dict[str, Any],
        *,
        commit: bool = False,
    ) -> None:
        """Append one event and keep the rest in step, in one go: end the company's open
        spell (`close`: end_us, end_ym, end_kind, exit_reason), start the next one (`spell`:
        stage, start_us, start_ym, site, sector, cohort) and move the company row (`company`:
        stage, entered_stage_at, last_event_at, event_count, head_hash). `event` has the
        `stage_event` columns but the id. KeyTaken if the event's (company, seq) exists
        already. SQLite: four statements on the driver; PostgreSQL: one (a CTE, `_PgMoves`).
        With `commit`, the unit of work commits too (PostgreSQL: the COMMIT goes with the
        statement, in one round trip)."""
        if self.dialect == "postgresql":
            params = {**event, **(close or {}), **(spell or {})}
            params.update({f"c_{k}": v for k, v in company.items()})
            params["start_stage"] = spell["stage"] if spell is not None else None
            name, names = _PG_RECORD_EVENT[close is not None, spell is not None]
            try:
                _PgMoves.of(self._pool_connection()).run(
                    [(name, tuple(params[n] for n in names))], commit=commit
                )
            except self.engine.dialect.loaded_dbapi.IntegrityError as exc:
                if commit:
                    self._rollback()  # the failed transaction's (and SQLAlchemy's bookkeeping)
                raise KeyTaken(first_line(exc)) from None
            if commit:
                self.commit()  # the driver's transaction is over: bookkeeping only
            return
        cid, at = event["company_id"], _sqlite_time
        # A move's times are mostly one moment: its text is made once
        effective = event["effective_at"]
        effective_text = at(effective)

        def text(moment: datetime) -> str:
            return effective_text if moment is effective else at(moment)

        cur = self._driver().cursor()
        try:
            cur.execute(
                _SQL_INSERT_EVENT_SQLITE,
                (
                    cid, event["seq"], event["kind"], event["from_stage"], event["to_stage"],
                    effective_text, text(event["recorded_at"]), event["actor"],
                    event["note"], event["reason"], event["prev_hash"], event["hash"],
                    event["gate"],
                ),
            )  # fmt: skip
            if close is not None:
                cur.execute(
                    _SQL_CLOSE_SPELL_SQLITE,
                    (close["end_us"], close["end_ym"], close["end_kind"], close["exit_reason"], cid),
                )  # fmt: skip
            if spell is not None:
                cur.execute(
                    _SQL_OPEN_SPELL_SQLITE,
                    (
                        cid, spell["stage"], spell["start_us"], spell["start_ym"], spell["site"],
                        spell["sector"], spell["cohort"],
                    ),
                )  # fmt: skip
            cur.execute(
                _SQL_MOVE_COMPANY_SQLITE,
                (
                    company["stage"], text(company["entered_stage_at"]),
                    text(company["last_event_at"]), company["event_count"], company["head_hash"],
                    cid,
                ),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise KeyTaken(first_line(exc)) from None
        finally:
            cur.close()
        if commit:
            self.commit()

    def keys_ignoring_case(self, key: str) -> list[str]:
        """The keys that may equal `key` but for case: at least every key whose ASCII letters
        differ from it only by case (through the `lower(key)` index). SQL's lower() folds
        only ASCII letters on SQLite (and depends on the collation on PostgreSQL), so when
        `key` holds other cased letters they are matched by position (`_`); the caller
        compares the candidates with Python's casefold()."""
        if all(c.isascii() or c.lower() == c.upper() for c in key):
            stmt = _KEYS_BY_LOWER
            value = key.lower()
        else:
            stmt = _KEYS_LIKE
            value = "".join(
                "_" if not c.isascii() and c.lower() != c.upper()
                else "\\" + c if c in "\\%_" else c.lower()
                for c in key
            )  # fmt: skip
        return [str(k) for k in self.connection.execute(stmt, {"b_key": value}).scalars()]

    def companies(
        self,
        *,
        stage: str | None = None,
        site: str | None = None,
        sector: str | None = None,
        cohort: int | None = None,
        keys: Sequence[str] | None = None,
        search: str | None = None,
        longest_in_stage_first: bool = False,
        limit: int | None = None,
    ) -> list[CompanyRecord]:
        """Companies ordered by key (or longest in their stage first), optionally filtered;
        `search` matches key or name, case-insensitively, as plain text."""
        order = (
            (COMPANY.c.entered_stage_at, COMPANY.c.key)
            if longest_in_stage_first
            else (COMPANY.c.key,)
        )
        stmt = _filtered(select(*COMPANY.c), stage, site, sector, cohort, keys, search)
        stmt = stmt.order_by(*order).limit(limit)
        return [CompanyRecord(*row) for row in self.connection.execute(stmt)]

    def count_by_stage(
        self,
        *,
        site: str | None = None,
        sector: str | None = None,
        cohort: int | None = None,
        search: str | None = None,
    ) -> dict[str, int]:
        """How many companies are in each stage now (same filters as `companies`)."""
        stmt = _filtered(
            select(COMPANY.c.stage, func.count()), None, site, sector, cohort, None, search
        ).group_by(COMPANY.c.stage)
        return {stage: int(n) for stage, n in self.connection.execute(stmt)}

    def company_states(
        self, keys: Iterable[str], *, lock: bool = False
    ) -> dict[str, CompanyRecord]:
        """The companies of the given keys that exist, by key (queried in chunks). With `lock`
        on PostgreSQL their rows stay locked, in key order, until the unit of work ends."""
        keys = sorted(keys)
        found: dict[str, CompanyRecord] = {}
        if self.dialect == "postgresql":  # one statement, the keys as one array parameter
            stmt = select(*COMPANY.c).where(COMPANY.c.key == any_(_text_array(keys)))
            if lock:
                stmt = stmt.order_by(COMPANY.c.key).with_for_update()
            found.update((r.key, CompanyRecord(*r)) for r in self.connection.execute(stmt))
            return found
        for i in range(0, len(keys), 900):  # SQLite: at most 999 parameters a statement
            stmt = _filtered(select(*COMPANY.c), None, None, None, None, keys[i : i + 900], None)
            for row in self.connection.execute(stmt):
                record = CompanyRecord(*row)
                found[record.key] = record
        return found

    def keys_lowered_in(self, lowered: Iterable[str]) -> list[str]:
        """The keys whose SQL `lower(key)` is one of `lowered` (queried in chunks, through the
        `lower(key)` index): the candidates for keys that differ from new ones only by case.
        SQL's lower() may fold only ASCII letters; callers compare with Python's casefold()."""
        values = sorted(set(lowered))
        found: list[str] = []
        if self.dialect == "postgresql":  # one statement, the values as one array parameter
            stmt = select(COMPANY.c.key).where(
                func.lower(COMPANY.c.key) == any_(_text_array(values))
            )
            return [str(k) for k in self.connection.execute(stmt).scalars()]
        for i in range(0, len(values), 900):
            stmt = select(COMPANY.c.key).where(func.lower(COMPANY.c.key).in_(values[i : i + 900]))
            found.extend(str(k) for k in self.connection.execute(stmt).scalars())
        return found

    def company_versions(
        self, keys: Iterable[str], *, lock: bool = False
    ) -> dict[str, tuple[Any, ...]]:
        """`CompanyRecord.version()` of the companies of the given keys that exist, by key: a
        lean read for a check under the write lock. With `lock` on PostgreSQL their rows stay
        locked, in key order, until the unit of work ends."""
        keys = sorted(keys)
        driver = self._driver()
        columns = ", ".join(VERSION_COLUMNS)
        found: dict[str, tuple[Any, ...]] = {}
        cur = driver.cursor()
        try:
            if self.dialect == "postgresql":
                stmt = f"SELECT key, {columns} FROM company WHERE key = ANY(%s) ORDER BY key"
                cur.execute(stmt + (" FOR UPDATE" if lock else ""), (keys,))
                found.update((row[0], tuple(row[1:])) for row in cur.fetchall())
                return found
            for i in range(0, len(keys), 900):
                chunk = keys[i : i + 900]
                marks = ", ".join("?" * len(chunk))
                cur.execute(f"SELECT key, {columns} FROM company WHERE key IN ({marks})", chunk)
                found.update((row[0], tuple(row[1:])) for row in cur.fetchall())
        finally:
            cur.close()
        return found

    def insert_company(self, values: dict[str, Any]) -> int:
        """Insert one company; its id. KeyTaken if the key is in use."""
        try:
            result = self.connection.execute(insert(COMPANY), values)
        except IntegrityError as exc:
            raise KeyTaken(str(exc.orig)) from None
        return _new_id(result)

    def update_company(self, company_id: int, values: dict[str, Any]) -> None:
        self.connection.execute(_UPDATE_COMPANY, {"b_id": company_id, **values})

    def insert_event(self, values: dict[str, Any]) -> int:
        """Append one event; its id. KeyTaken if its (company, seq) exists already."""
        try:
            result = self.connection.execute(insert(EVENT), values)
        except IntegrityError as exc:
            raise KeyTaken(str(exc.orig)) from None
        return _new_id(result)

    def open_spell_of(self, values: dict[str, Any]) -> None:
        """Start a spell (a stay in a stage)."""
        self.connection.execute(insert(SPELL), values)

    def close_spell(self, company_id: int, values: dict[str, Any]) -> None:
        """End the company's open spell (if any) with the given end values."""
        self.connection.execute(_CLOSE_SPELL, {"b_company_id": company_id, **values})

    def events_of(self, company_id: int) -> list[EventRecord]:
        stmt = select(*EVENT.c).where(EVENT.c.company_id == company_id).order_by(EVENT.c.seq)
        return [EventRecord(*row) for row in self.connection.execute(stmt)]

    def insert_fact(self, values: dict[str, Any]) -> int:
        """Append one record to the company's fact chain; its id. KeyTaken if its (company,
        seq) exists already."""
        self._evidence.pop(values["company_id"], None)
        try:
            result = self.connection.execute(insert(FACT), values)
        except IntegrityError as exc:
            raise KeyTaken(str(exc.orig)) from None
        return _new_id(result)

    def facts_of(self, company_id: int) -> list[FactRecord]:
        stmt = select(*FACT.c).where(FACT.c.company_id == company_id).order_by(FACT.c.seq)
        return [FactRecord(*row) for row in self.connection.execute(stmt)]

    # evidence: the derived tables of the record chain (DESIGN §8) -------------------------

    def evidence_records(self, company_id: int) -> list[tuple[int, str, str]]:
        """(seq, kind, payload) of the company's records other than its profile, in chain
        order: everything a gate needs, in one indexed read."""
        if company_id in self._evidence:  # read with the company (`company_to_move`)
            return list(self._evidence[company_id])
        sql = _SQL_EVIDENCE_PG if self.dialect == "postgresql" else _SQL_EVIDENCE_SQLITE
        cur = self._driver().cursor()
        try:
            cur.execute(sql, (company_id,))
            return [(int(seq), str(kind), str(payload)) for seq, kind, payload in cur]
        finally:
            cur.close()

    def evidence_records_of(
        self, company_ids: Sequence[int]
    ) -> dict[int, list[tuple[int, str, str]]]:
        """`evidence_records` of several companies at once (in chunks), by company id."""
        found: dict[int, list[tuple[int, str, str]]] = {cid: [] for cid in company_ids}
        ids = list(company_ids)
        for i in range(0, len(ids), 900):
            stmt = (
                select(FACT.c.company_id, FACT.c.seq, FACT.c.kind, FACT.c.payload)
                .where(FACT.c.company_id.in_(ids[i : i + 900]), FACT.c.kind != PROFILE)
                .order_by(FACT.c.company_id, FACT.c.seq)
            )
            for cid, seq, kind, payload in self.connection.execute(stmt):
                found[int(cid)].append((int(seq), str(kind), str(payload)))
        return found

    def insert_qualification(self, values: dict[str, Any]) -> None:
        self.connection.execute(insert(QUALIFICATION), values)

    def revoke_qualification(
        self, company_id: int, seq: int, revoked_on: date, reason: str
    ) -> None:
        """Record the revocation on the grant that record `seq` of the company made."""
        self.connection.execute(
            update(QUALIFICATION)
            .where(QUALIFICATION.c.company_id == company_id, QUALIFICATION.c.seq == seq)
            .values(revoked_on=revoked_on, revoke_reason=reason)
        )

    def insert_financing(self, values: dict[str, Any]) -> None:
        self.connection.execute(insert(FINANCING), values)

    def insert_milestone(self, values: dict[str, Any]) -> None:
        self.connection.execute(insert(MILESTONE), values)

    def put_figures(self, company_id: int, year: int, values: dict[str, int | None]) -> None:
        """Set the company's figures for `year` (every figure column: None for not given)."""
        row = {name: values.get(name) for name in FIGURE_COLUMNS}
        where = (FIGURES.c.company_id == company_id, FIGURES.c.year == year)
        result = self.connection.execute(update(FIGURES).where(*where).values(**row))
        if not result.rowcount:
            self.connection.execute(insert(FIGURES).values(company_id=company_id, year=year, **row))

    def relabel_spells(self, company_id: int, *, site: str, sector: str) -> None:
        """Give every spell of the company its company's (new) site and sector."""
        self.connection.execute(
            update(SPELL).where(SPELL.c.company_id == company_id).values(site=site, sector=sector)
        )

    def count_companies(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(COMPANY)) or 0)

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def sites_and_sectors(self) -> tuple[list[str], list[str], list[int]]:
        """The sites, sectors and cohorts of the companies, each sorted and without repeats
        (as `SELECT DISTINCT … ORDER BY`), each read by hopping along the column's index: a
        lookup per value present (`_DISTINCT_VALUES`), not a pass over every company."""
        conn = self.connection
        sites, sectors, cohorts = (
            [row[0] for row in conn.exec_driver_sql(_DISTINCT_VALUES[column])]
            for column in ("site", "sector", "cohort")
        )
        return sites, sectors, [int(c) for c in cohorts]

    # events and spells ------------------------------------------------------------------

    def iter_event_rows(self, *, batch: int = 5000) -> Generator[dict[str, Any], None, None]:
        """Every event joined with its company, ordered by company key then chain order."""
        stmt = (
            select(
                COMPANY.c.key.label("company_key"),
                COMPANY.c.name.label("company_name"),
                COMPANY.c.sector,
                COMPANY.c.site,
                COMPANY.c.uscc,
                COMPANY.c.head_hash,
                EVENT.c.id.label("event_id"),
                EVENT.c.seq,
                EVENT.c.kind,
                EVENT.c.from_stage,
                EVENT.c.to_stage,
                EVENT.c.effective_at,
                EVENT.c.recorded_at,
                EVENT.c.actor,
                EVENT.c.note,
                EVENT.c.reason,
                EVENT.c.prev_hash,
                EVENT.c.hash,
            )
            .join(COMPANY, COMPANY.c.id == EVENT.c.company_id)
            .order_by(COMPANY.c.key, EVENT.c.seq)
            .execution_options(yield_per=batch)
        )
        result = self.session.execute(stmt)
        try:
            for row in result:
                yield row._asdict()
        finally:
            result.close()  # a server-side cursor on PostgreSQL

    def count_events(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(EVENT)) or 0)

    def count_facts(self) -> int:
        return int(self.connection.scalar(select(func.count()).select_from(FACT)) or 0)

    def count_evidence_records(self) -> int:
        """The company records other than profile records (the facts)."""
        stmt = select(func.count()).select_from(FACT).where(FACT.c.kind != PROFILE)
        return int(self.connection.scalar(stmt) or 0)

    def iter_evidence_rows(
        self, *, batch: int = 5000
    ) -> Generator[tuple[str, FactRecord], None, None]:
        """Every company record other than a profile record (the facts) with its company's
        key, ordered by company key then chain order."""
        stmt = (
            select(COMPANY.c.key, *FACT.c)
            .join(COMPANY, COMPANY.c.id == FACT.c.company_id)
            .where(FACT.c.kind != PROFILE)
            .order_by(COMPANY.c.key, FACT.c.seq)
        )
        for row in self._stream(stmt, batch):
            yield row[0], FactRecord(*row[1:])

    def _stream(self, stmt: Select[Any], batch: int) -> Generator[Any, None, None]:
        """The rows of `stmt`, fetched `batch` at a time (a server-side cursor on PostgreSQL)."""
        result = self.connection.execute(stmt, execution_options={"yield_per": batch})
        try:
            yield from result
        finally:
            result.close()

    # streams for the audit: every table in company-id order, one pass each ---------------

    def audit_batches(
        self, table: str, *, batch: int = 10_000, ids: tuple[int | None, int | None] = (None, None)
    ) -> Generator[list[tuple[Any, ...]], None, None]:
        """Every row of one of `AUDIT_TABLES` in company-id order (`_audit_select`), as the
        driver reads them: plain tuples of unconverted values (SQLite gives times as their
        stored text; `audit_converter` turns a row into its record), `batch` rows at a time
        (a server-side cursor on PostgreSQL), so that several tables can be read side by side
        in bounded memory, in this unit of work's transaction (one snapshot). `ids` limits the
        rows to company ids from its first (inclusive) to its second (exclusive); None: no
        bound."""
        stmt = _audit_select(table, ids)
        sql = str(  # the bounds are integers: written into the text
            stmt.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True})
        )
        driver = self._driver()
        if self.dialect == "postgresql":
            cursor = driver.cursor(name=f"audit_{table}")
            cursor.itersize = batch
        else:
            cursor = driver.cursor()
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()

    def company_id_bounds(self) -> tuple[int, int] | None:
        """The least and the greatest company id (None: no company)."""
        low, high = self.connection.execute(
            select(func.min(COMPANY.c.id), func.max(COMPANY.c.id))
        ).one()
        return None if low is None else (int(low), int(high))

    def export_snapshot(self) -> str | None:
        """This read's snapshot, for other transactions to share (`Database.unit(snapshot=)`):
        PostgreSQL's `pg_export_snapshot()`, valid while this transaction lasts; None on
        SQLite, which cannot share one."""
        if self.dialect != "postgresql":
            return None
        return str(self.connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar())

    def audit_converter(self, table: str) -> Callable[[tuple[Any, ...]], Any]:
        """The record (`CompanyRecord`, `EventRecord`, ...) of a raw row of `audit_batches`,
        with every value converted exactly as a SQLAlchemy read converts it."""
        return _record_converter(table, self.engine.dialect)

    def audit_time(self) -> Callable[[Any], datetime | None]:
        """A stored time as the driver reads it, converted as a SQLAlchemy read converts it
        (an aware UTC datetime)."""
        proc = COMPANY.c.admitted_at.type._cached_result_processor(self.engine.dialect, None)
        return proc if proc is not None else (lambda value: value)

    def _audit_stream(self, table: str, batch: int) -> Generator[Any, None, None]:
        convert = self.audit_converter(table)
        for rows in self.audit_batches(table, batch=batch):
            for row in rows:
                yield convert(row)

    def stream_companies(self, *, batch: int = 5000) -> Generator[CompanyRecord, None, None]:
        """Every company, by id."""
        yield from self._audit_stream("companies", batch)

    def stream_events(self, *, batch: int = 5000) -> Generator[EventRecord, None, None]:
        """Every event, by company id and then chain order."""
        yield from self._audit_stream("events", batch)

    def stream_facts(self, *, batch: int = 5000) -> Generator[FactRecord, None, None]:
        """Every company record (fact), by company id and then chain order."""
        yield from self._audit_stream("facts", batch)

    def stream_qualifications(
        self, *, batch: int = 5000
    ) -> Generator[QualificationRecord, None, None]:
        """Every qualification row, by company id and then record seq."""
        yield from self._audit_stream("qualifications", batch)

    def stream_financing(self, *, batch: int = 5000) -> Generator[FinancingRecord, None, None]:
        """Every financing round row, by company id and then record seq."""
        yield from self._audit_stream("financing", batch)

    def stream_milestones(self, *, batch: int = 5000) -> Generator[MilestoneRecord, None, None]:
        """Every milestone row, by company id and then record seq."""
        yield from self._audit_stream("milestones", batch)

    def stream_figures(self, *, batch: int = 5000) -> Generator[FiguresRecord, None, None]:
        """Every annual figures row, by company id and then year."""
        yield from self._audit_stream("figures", batch)

    def stream_spells(self, *, batch: int = 5000) -> Generator[SpellRecord, None, None]:
        """Every spell, by company id and then start (ties in the order they were written)."""
        yield from self._audit_stream("spells", batch)

    def audit_events(
        self,
        *,
        company_key: str | None = None,
        company: str | None = None,
        actor: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        overrides_only: bool = False,
        limit: int = 5000,
    ) -> list[dict[str, Any]]:
        """The newest events matching the filters, newest first. `company_key` is one key
        exactly; `company` matches part of a key or name, case-insensitively, as plain text;
        `overrides_only`: moves whose gate was overridden. `gate` is the stored gate outcome
        (JSON text) or None."""
        stmt = (
            select(
                COMPANY.c.key.label("company_key"),
                COMPANY.c.name.label("company_name"),
                COMPANY.c.site,
                EVENT.c.id.label("event_id"),
                EVENT.c.kind,
                EVENT.c.from_stage,
                EVENT.c.to_stage,
                EVENT.c.effective_at,
                EVENT.c.recorded_at,
                EVENT.c.actor,
                EVENT.c.note,
                EVENT.c.reason,
                EVENT.c.hash,
                EVENT.c.gate,
            )
            .join(COMPANY, COMPANY.c.id == EVENT.c.company_id)
            .order_by(EVENT.c.recorded_at.desc(), EVENT.c.id.desc())
            .limit(limit)
        )
        stmt = _log_filters(stmt, EVENT, company_key, company, actor, kind)
        if since:
            stmt = stmt.where(EVENT.c.effective_at >= since)
        if until:
            stmt = stmt.where(EVENT.c.effective_at <= until)
        if overrides_only:
            # the canonical JSON writes `"override":null` when the gate was not overridden
            stmt = stmt.where(EVENT.c.gate.like('%"override":"%'))
        return [row._asdict() for row in self.connection.execute(stmt)]

    def audit_records(
        self,
        *,
        company_key: str | None = None,
        company: str | None = None,
        actor: str | None = None,
        kind: str | None = None,
        limit: int = 5000,
    ) -> list[dict[str, Any]]:
        """The newest company records (profile changes and evidence) matching the filters,
        newest first: company key, name and site, record id and seq, kind, payload (JSON
        text), recorded_at, actor, note, hash. Filters as `audit_events`."""
        stmt = (
            select(
                COMPANY.c.key.label("company_key"),
                COMPANY.c.name.label("company_name"),
                COMPANY.c.site,
                FACT.c.id.label("record_id"),
                FACT.c.seq,
                FACT.c.kind,
                FACT.c.payload,
                FACT.c.recorded_at,
                FACT.c.actor,
                FACT.c.note,
                FACT.c.hash,
            )
            .join(COMPANY, COMPANY.c.id == FACT.c.company_id)
            .order_by(FACT.c.recorded_at.desc(), FACT.c.id.desc())
            .limit(limit)
        )
        stmt = _log_filters(stmt, FACT, company_key, company, actor, kind)
        return [row._asdict() for row in self.connection.execute(stmt)]

    # users and settings -------------------------------------------------------------------

    def user(self, name: str) -> UserRow | None:
        return self.session.scalars(select(UserRow).where(USER.c.name == name)).first()

    def users(self) -> list[UserRecord]:
        stmt = select(*USER.c).order_by(USER.c.name)
        return [UserRecord(*row) for row in self.connection.execute(stmt)]

    def user_record(self, name: str, *, lock: bool = False) -> UserRecord | None:
        """The account, as plain data; with `lock` its row stays locked until the unit of
        work ends (PostgreSQL; on SQLite the write transaction holds the database)."""
        stmt = select(*USER.c).where(USER.c.name == name)
        if lock and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = self.connection.execute(stmt).first()
        return UserRecord(*row) if row is not None else None

    def update_user(self, user_id: int, values: dict[str, Any]) -> None:
        self.connection.execute(update(USER).where(USER.c.id == user_id).values(**values))

    def enabled_admins(self, *, lock: bool = False) -> list[str]:
        """Names of the enabled admin accounts. With `lock` (PostgreSQL) every admin row is
        locked first, so that two admins demoting each other at once are serialized."""
        if lock and self.dialect == "postgresql":
            self.connection.execute(
                select(USER.c.id)
                .where(USER.c.role == "admin")
                .order_by(USER.c.id)
                .with_for_update()
            ).all()
        stmt = (
            select(USER.c.name)
            .where(USER.c.role == "admin", USER.c.disabled_at.is_(None))
            .order_by(USER.c.name)
        )
        return [r[0] for r in self.connection.execute(stmt)]

    # sessions -----------------------------------------------------------------------------

    def insert_session(self, values: dict[str, Any]) -> None:
        self.connection.execute(insert(USER_SESSION), values)

    def session_of(self, token_hash: str) -> SessionRecord | None:
        """The session with this token hash and its account, or None."""
        stmt = (
            select(
                USER_SESSION.c.id,
                USER_SESSION.c.user_id,
                USER_SESSION.c.created_at,
                USER_SESSION.c.last_seen_at,
                USER_SESSION.c.expires_at,
                USER_SESSION.c.ended_at,
                USER.c.name,
                USER.c.role,
                USER.c.site,
                USER.c.disabled_at,
                USER.c.company,
            )
            .join(USER, USER.c.id == USER_SESSION.c.user_id)
            .where(USER_SESSION.c.token_hash == token_hash)
        )
        row = self.connection.execute(stmt).first()
        return SessionRecord(**row._asdict()) if row is not None else None

    def touch_session(self, session_id: int, moment: datetime) -> None:
        self.connection.execute(
            update(USER_SESSION)
            .where(USER_SESSION.c.id == session_id, USER_SESSION.c.ended_at.is_(None))
            .values(last_seen_at=moment)
        )

    def end_sessions(
        self,
        moment: datetime,
        *,
        token_hash: str | None = None,
        user_id: int | None = None,
        keep_hash: str | None = None,
    ) -> int:
        """End the open sessions with this token hash, or of this user (but the one with
        `keep_hash`); how many were ended."""
        conditions: list[ColumnElement[bool]] = [USER_SESSION.c.ended_at.is_(None)]
        if token_hash is not None:
            conditions.append(USER_SESSION.c.token_hash == token_hash)
        if user_id is not None:
            conditions.append(USER_SESSION.c.user_id == user_id)
        if keep_hash is not None:
            conditions.append(USER_SESSION.c.token_hash != keep_hash)
        if token_hash is None and user_id is None:
            raise ValueError("end_sessions needs a token hash or a user")
        result = self.connection.execute(
            update(USER_SESSION).where(*conditions).values(ended_at=moment)
        )
        return int(result.rowcount or 0)

    def open_sessions_by_user(self, moment: datetime) -> dict[int, int]:
        """How many sessions each user has that are not ended and not past their
        absolute expiry at `moment` (idle ones included), by user id."""
        stmt = (
            select(USER_SESSION.c.user_id, func.count())
            .where(USER_SESSION.c.ended_at.is_(None), USER_SESSION.c.expires_at > moment)
            .group_by(USER_SESSION.c.user_id)
        )
        return {int(user_id): int(n) for user_id, n in self.connection.execute(stmt)}

    # sign-in throttling -------------------------------------------------------------------

    def lock_sign_in_name(self, name: str) -> None:
        """Serialize sign-in attempts for one name until the unit of work ends (PostgreSQL:
        a transaction-level advisory lock; SQLite's write transaction is exclusive anyway)."""
        if self.dialect == "postgresql":
            digest = hashlib.sha256(name.encode("utf-8")).digest()
            key = int.from_bytes(digest[:8], "big", signed=True)
            self.connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def sign_in_failures(self, names: Sequence[str], since: datetime) -> dict[str, list[datetime]]:
        """The failed sign-ins for these names at or after `since`, oldest first, by name."""
        found: dict[str, list[datetime]] = {}
        names = list(names)
        for i in range(0, len(names), 900):
            stmt = (
                select(SIGN_IN_FAILURE.c.name, SIGN_IN_FAILURE.c.at)
                .where(
                    SIGN_IN_FAILURE.c.name.in_(names[i : i + 900]), SIGN_IN_FAILURE.c.at >= since
                )
                .order_by(SIGN_IN_FAILURE.c.at, SIGN_IN_FAILURE.c.id)
            )
            for name, at in self.connection.execute(stmt):
                found.setdefault(name, []).append(at)
        return found

    def add_sign_in_failure(self, name: str, moment: datetime) -> None:
        self.connection.execute(insert(SIGN_IN_FAILURE).values(name=name, at=moment))

    def clear_sign_in_failures(self, name: str) -> int:
        result = self.connection.execute(
            delete(SIGN_IN_FAILURE).where(SIGN_IN_FAILURE.c.name == name)
        )
        return int(result.rowcount or 0)

    def prune_sign_in_failures(self, before: datetime) -> None:
        """Forget failures older than `before` (they no longer count towards a lock)."""
        self.connection.execute(delete(SIGN_IN_FAILURE).where(SIGN_IN_FAILURE.c.at < before))

    # the site registry and the city's targets (DESIGN §9) ---------------------------------

    def sites(self) -> list[SiteRecord]:
        """Every registry site, ordered by name."""
        stmt = select(*SITE.c).order_by(SITE.c.name)
        return [SiteRecord(*row) for row in self.connection.execute(stmt)]

    def site(self, name: str, *, lock: bool = False) -> SiteRecord | None:
        stmt = select(*SITE.c).where(SITE.c.name == name)
        if lock and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = self.connection.execute(stmt).first()
        return SiteRecord(*row) if row is not None else None

    def site_names(self) -> list[str]:
        stmt = select(SITE.c.name).order_by(SITE.c.name)
        return [str(n) for n in self.connection.execute(stmt).scalars()]

    def insert_site(self, values: dict[str, Any]) -> int:
        """Register a site; its id. KeyTaken if the name is registered already."""
        try:
            result = self.connection.execute(insert(SITE), values)
        except IntegrityError as exc:
            raise KeyTaken(str(exc.orig)) from None
        return _new_id(result)

    def update_site(self, site_id: int, values: dict[str, Any]) -> None:
        self.connection.execute(update(SITE).where(SITE.c.id == site_id).values(**values))

    def site_figures(
        self, *, year: int | None = None, site: str | None = None
    ) -> list[SiteFiguresRecord]:
        """Site figures (of one year, of one site), ordered by site name then year."""
        stmt = select(
            SITE.c.name,
            SITE_FIGURES.c.year,
            *(SITE_FIGURES.c[name] for name in SITE_FIGURE_COLUMNS),
            SITE_FIGURES.c.changed_by,
            SITE_FIGURES.c.changed_at,
        ).join(SITE, SITE.c.id == SITE_FIGURES.c.site_id)
        if year is not None:
            stmt = stmt.where(SITE_FIGURES.c.year == year)
        if site is not None:
            stmt = stmt.where(SITE.c.name == site)
        stmt = stmt.order_by(SITE.c.name, SITE_FIGURES.c.year)
        return [SiteFiguresRecord(*row) for row in self.connection.execute(stmt)]  # type: ignore[call-arg]

    def put_site_figures(self, site_id: int, year: int, values: dict[str, Any]) -> None:
        """Set a site's figures for `year` (every figure column, and changed_by/at)."""
        where = (SITE_FIGURES.c.site_id == site_id, SITE_FIGURES.c.year == year)
        result = self.connection.execute(update(SITE_FIGURES).where(*where).values(**values))
        if not result.rowcount:
            self.connection.execute(
                insert(SITE_FIGURES).values(site_id=site_id, year=year, **values)
            )

    def targets(self, *, year: int | None = None) -> list[TargetRecord]:
        """The city's targets (of one year), ordered by year then metric."""
        stmt = select(*TARGET.c)
        if year is not None:
            stmt = stmt.where(TARGET.c.year == year)
        stmt = stmt.order_by(TARGET.c.year, TARGET.c.metric)
        return [TargetRecord(*row) for row in self.connection.execute(stmt)]

    def put_target(self, metric: str, year: int, values: dict[str, Any]) -> None:
        """Set the target of `metric` in `year` (value, changed_by, changed_at)."""
        where = (TARGET.c.metric == metric, TARGET.c.year == year)
        result = self.connection.execute(update(TARGET).where(*where).values(**values))
        if not result.rowcount:
            self.connection.execute(insert(TARGET).values(metric=metric, year=year, **values))

    def append_registry_record(self, values: dict[str, Any]) -> None:
        """Append one change of the registry or the targets to `registry_record`."""
        self.connection.execute(insert(REGISTRY_RECORD), values)

    def registry_records(self, subject: str | None = None) -> list[dict[str, Any]]:
        """The changes to the registry and the targets (of one subject), oldest first."""
        stmt = select(*REGISTRY_RECORD.c).order_by(REGISTRY_RECORD.c.id)
        if subject is not None:
            stmt = stmt.where(REGISTRY_RECORD.c.subject == subject)
        return [row._asdict() for row in self.connection.execute(stmt)]

    def setting(self, key: str) -> str | None:
        """A setting's value, or None. The (few, small) settings are read together once per
        unit of work: a move reads the audit key mode and the gate policy in one query."""
        if self._settings is None:
            self._settings = {k: v for k, v in self.connection.execute(_SETTINGS)}
        return self._settings.get(key)

    def claim_setting(self, key: str, value: str) -> str:
        """Store `value` under `key` unless the key has a value already; the stored value.
        Of two writers claiming at once, the first to commit wins and the other reads its
        value (PostgreSQL waits for it; SQLite's write transactions run one at a time)."""
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if self.dialect == "postgresql" else sqlite
        claim = dialect.insert(SETTING).values(key=key, value=value)
        self.connection.execute(claim.on_conflict_do_nothing(index_elements=["key"]))
        self._settings = None  # read again: another writer's value may have won
        stored = self.setting(key)
        assert stored is not None
        return stored

    def put_setting(self, key: str, value: str) -> None:
        if self.setting(key) is None:
            self.connection.execute(insert(SETTING).values(key=key, value=value))
        else:
            self.connection.execute(update(SETTING).where(SETTING.c.key == key).values(value=value))
        if self._settings is not None:
            self._settings[key] = value


def _filtered(
    stmt: Select[Any],
    stage: str | None,
    site: str | None,
    sector: str | None,
    cohort: int | None,
    keys: Sequence[str] | None,
    search: str | None,
) -> Select[Any]:
    if stage:
        stmt = stmt.where(COMPANY.c.stage == stage)
    if site:
        stmt = stmt.where(COMPANY.c.site == site)
    if sector:
        stmt = stmt.where(COMPANY.c.sector == sector)
    if cohort is not None:
        stmt = stmt.where(COMPANY.c.cohort == cohort)
    if keys is not None:
        stmt = stmt.where(COMPANY.c.key.in_(list(keys)))
    if search and search.strip():
        stmt = stmt.where(_key_or_name(search.strip()))
    return stmt


def _text_array(values: Sequence[str]) -> Any:
    """PostgreSQL: a list of texts bound as ONE array parameter (`col = ANY(:values)`), not
    one placeholder per value: a statement of thousands of placeholders is long to send and
    to parse on both sides (the driver does not cache statements that long)."""
    return bindparam(None, list(values), type_=ARRAY(String), unique=True)


def _key_or_name(needle: str) -> ColumnElement[bool]:
    """Key or name contains `needle`, ignoring case, as plain text (no wildcards)."""
    return or_(
        COMPANY.c.key.icontains(needle, autoescape=True),
        COMPANY.c.name.icontains(needle, autoescape=True),
    )


# Statements of the write path, built once (building one costs more than running it).
_COMPANY_BY_KEY = select(*COMPANY.c).where(COMPANY.c.key == bindparam("b_key"))
_COMPANY_FOR_UPDATE = _COMPANY_BY_KEY.with_for_update()
#: Through the expression index `ix_company_key_lower` (schema 0004).
_KEYS_BY_LOWER = select(COMPANY.c.key).where(func.lower(COMPANY.c.key) == bindparam("b_key"))
_KEYS_LIKE = select(COMPANY.c.key).where(
    func.lower(COMPANY.c.key).like(bindparam("b_key"), escape="\\")
)
_UPDATE_COMPANY = update(COMPANY).where(COMPANY.c.id == bindparam("b_id"))
_SETTINGS = select(SETTING.c.key, SETTING.c.value)
_CLOSE_SPELL = update(SPELL).where(
    and_(SPELL.c.company_id == bindparam("b_company_id"), SPELL.c.end_us.is_(None))
)


# The write path of a move on the driver itself (`UnitOfWork.company_to_move`,
# `record_event`): fixed SQL text, cached by the driver (sqlite3's statement cache,
# PostgreSQL's prepared statements).
_COMPANY_COLUMNS = ", ".join(c.name for c in COMPANY.c)
_SQL_SETTINGS = "SELECT key, value FROM setting"
_SQL_COMPANY_SQLITE = f"SELECT {_COMPANY_COLUMNS} FROM company WHERE key = ?"
_SQL_COMPANY_PG = f"SELECT {_COMPANY_COLUMNS} FROM company WHERE key = %s FOR UPDATE"
_SQL_EVIDENCE_BY_KEY_PG = (
    "SELECT f.seq, f.kind, f.payload FROM company_fact f JOIN company c ON c.id = f.company_id"
    f" WHERE c.key = %s AND f.kind <> '{PROFILE}' ORDER BY f.seq"
)
_SQL_EVIDENCE_SQLITE = (
    f"SELECT seq, kind, payload FROM company_fact WHERE company_id = ? AND kind <> '{PROFILE}'"
    " ORDER BY seq"
)
_SQL_EVIDENCE_PG = _SQL_EVIDENCE_SQLITE.replace("?", "%s")
_EVENT_COLUMNS = (
    "company_id, seq, kind, from_stage, to_stage, effective_at, recorded_at, actor, note,"
    " reason, prev_hash, hash, gate"
)
_SQL_INSERT_EVENT_SQLITE = (
    f"INSERT INTO stage_event ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQL_CLOSE_SPELL_SQLITE = (
    "UPDATE spell SET end_us = ?, end_ym = ?, end_kind = ?, exit_reason = ?"
    " WHERE company_id = ? AND end_us IS NULL"
)
_SPELL_COLUMNS = "company_id, stage, start_us, start_ym, site, sector, cohort"
_SQL_OPEN_SPELL_SQLITE = f"INSERT INTO spell ({_SPELL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_SQL_MOVE_COMPANY_SQLITE = (
    "UPDATE company SET stage = ?, entered_stage_at = ?, last_event_at = ?, event_count = ?,"
    " head_hash = ? WHERE id = ?"
)
_PG_INSERT_EVENT = (
    f"INSERT INTO stage_event ({_EVENT_COLUMNS}) VALUES (%(company_id)s, %(seq)s, %(kind)s,"
    " %(from_stage)s, %(to_stage)s, %(effective_at)s, %(recorded_at)s, %(actor)s, %(note)s,"
    " %(reason)s, %(prev_hash)s, %(hash)s, %(gate)s)"
)
_PG_CLOSE_SPELL = (
    "UPDATE spell SET end_us = %(end_us)s, end_ym = %(end_ym)s, end_kind = %(end_kind)s,"
    " exit_reason = %(exit_reason)s WHERE company_id = %(company_id)s AND end_us IS NULL"
)
_PG_OPEN_SPELL = (
    f"INSERT INTO spell ({_SPELL_COLUMNS}) VALUES (%(company_id)s, %(start_stage)s,"
    " %(start_us)s, %(start_ym)s, %(site)s, %(sector)s, %(cohort)s)"
)
_PG_MOVE_COMPANY = (
    "UPDATE company SET stage = %(c_stage)s, entered_stage_at = %(c_entered_stage_at)s,"
    " last_event_at = %(c_last_event_at)s, event_count = %(c_event_count)s,"
    " head_hash = %(c_head_hash)s WHERE id = %(company_id)s"
)


def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `%(name)s` placeholders numbered (`$1`, `$2` …, a name used twice
    gets one number), and the names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql), tuple(names)


def _pg_record_event(close: bool, spell: bool) -> tuple[str, tuple[str, ...]]:
    """`record_event`'s one statement on PostgreSQL: the event, the spells and the company
    row in one CTE (one round trip), with its parameters' names in order. Its parts see one
    snapshot: the spell that is closed is the one open before the statement, never the one
    it opens."""
    parts = [_PG_INSERT_EVENT] + [_PG_CLOSE_SPELL] * close + [_PG_OPEN_SPELL] * spell
    ctes = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(parts))
    return _positional(f"WITH {ctes} {_PG_MOVE_COMPANY}")


#: A PostgreSQL move's statements (`_PgMoves`), by the name each is prepared under on a
#: connection: what `company_to_move` reads and each `record_event` variant, by whether it
#: closes a spell and whether it opens one.
_PG_MOVE_STATEMENTS: dict[str, str] = {
    "incubator_settings": _SQL_SETTINGS,
    "incubator_company": _SQL_COMPANY_PG.replace("%s", "$1"),
    "incubator_evidence": _SQL_EVIDENCE_BY_KEY_PG.replace("%s", "$1"),
}
_PG_RECORD_EVENT: dict[tuple[bool, bool], tuple[str, tuple[str, ...]]] = {}
for _close in (False, True):
    for _spell in (False, True):
        _name = f"incubator_record_event_{int(_close)}{int(_spell)}"
        _PG_MOVE_STATEMENTS[_name], _names = _pg_record_event(_close, _spell)
        _PG_RECORD_EVENT[_close, _spell] = (_name, _names)


class _PgMoves:
    """A move's statements on one PostgreSQL connection, run with the least client work.

    Each statement is prepared once per connection under its name (`_PG_MOVE_STATEMENTS`),
    and a move's round trip sends its few `EXECUTE`s as one query, their values quoted as
    literals by psycopg (the simple query protocol: one message, one result each). That is
    the same two round trips a move made in psycopg's pipeline mode, with some 40% less of
    the client's CPU (the pipeline machinery runs in Python for every statement) and 15%
    less of the server's (`bench/move_cpu.py` measures a move's)."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.prepared: set[str] = set()
        self._psycopg = _psycopg()
        self._literals = self._psycopg.Transformer.from_context(driver)
        self._loader = self._psycopg.Transformer.from_context(driver)

    @classmethod
    def of(cls, pooled: Any) -> _PgMoves:
        """The pool's connection's own (made on first use; a new driver connection gets new
        ones: its prepared statements are gone)."""
        info = pooled.info
        driver = pooled.driver_connection
        moves = info.get("incubator_moves")
        if moves is None or moves.driver is not driver:
            moves = info["incubator_moves"] = cls(driver)
        return moves

    def run(
        self, calls: Sequence[tuple[str, Sequence[Any]]], *, commit: bool = False
    ) -> list[list[tuple[Any, ...]]]:
        """Execute each (name, values) in one round trip, preparing first every statement
        when this connection has not (all of them at once, so that they are there or gone
        together); BEGIN first if no transaction is open, COMMIT last with `commit`. Each
        call's rows; the database's first refusal is raised as psycopg raises it (the
        statements after it are not run, and the transaction is aborted).

        Statements found gone (a `DEALLOCATE ALL` or `DISCARD ALL` by someone else) when the
        round trip began the transaction are prepared again and the round trip repeated,
        once; inside an open transaction that is the caller's error to handle."""
        psycopg = self._psycopg
        began = self.driver.pgconn.transaction_status == psycopg.IDLE
        try:
            return self._run(calls, commit, began)
        except psycopg.StatementGone:
            if not began:
                raise
            self.driver.rollback()
            self.prepared.clear()
            return self._run(calls, commit, began)

    def _run(
        self, calls: Sequence[tuple[str, Sequence[Any]]], commit: bool, begin: bool
    ) -> list[list[tuple[Any, ...]]]:
        psycopg, quote = self._psycopg, self._literals.as_literal
        prepare = [] if self.prepared else list(_PG_MOVE_STATEMENTS)
        sql = [f"PREPARE {n} AS {_PG_MOVE_STATEMENTS[n]}".encode() for n in prepare]
        if prepare:  # what a round trip that failed half-way prepared (ours alone: psycopg's
            sql.insert(0, b"DEALLOCATE ALL")  # automatic preparing is off, see make_engine)
        prepared = len(sql) - 1 if prepare else -1  # the last PREPARE's result
        if begin:
            sql.append(b"BEGIN")
        first = len(sql)
        for name, values in calls:
            args = b", ".join(quote(v) for v in values)
            sql.append(b"EXECUTE " + name.encode() + (b"(" + args + b")" if values else b""))
        if commit:
            sql.append(b"COMMIT")
        pgconn, loader = self.driver.pgconn, self._loader
        pgconn.send_query(b"; ".join(sql))
        results = self.driver.wait(psycopg.execute(pgconn))
        rows: list[list[tuple[Any, ...]]] = []
        for i, result in enumerate(results):
            if result.status == psycopg.FATAL_ERROR:
                raise psycopg.error_from_result(result, encoding=self.driver.info.encoding)
            if i == prepared:
                self.prepared.update(prepare)
            elif first <= i < first + len(calls):
                loader.set_pgresult(result)
                rows.append(loader.load_rows(0, result.ntuples, tuple))
        return rows


class _Psycopg(NamedTuple):
    """What `_PgMoves` uses of psycopg, imported once, when first needed."""

    Transformer: Any
    execute: Callable[[Any], Any]
    error_from_result: Callable[..., Exception]
    StatementGone: type[Exception]
    IDLE: Any
    FATAL_ERROR: Any


@lru_cache(maxsize=1)
def _psycopg() -> _Psycopg:
    from psycopg import errors, generators, pq
    from psycopg.adapt import Transformer

    return _Psycopg(
        Transformer, generators.execute, errors.error_from_result,
        errors.InvalidSqlStatementName, pq.TransactionStatus.IDLE, pq.ExecStatus.FATAL_ERROR,
    )  # fmt: skip


def _sqlite_time(moment: datetime) -> str:
    """An aware datetime as `UTCDateTime` stores it on SQLite (naive UTC text)."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.isoformat(" ", "microseconds")[:26]


def _loose_scan(column: str) -> str:
    """The distinct values of `company.<column>`, sorted, by a loose index scan: the least
    value, then again and again the least value greater than the last, one index lookup each
    (SQLite and PostgreSQL both answer `min(c) … WHERE c > ?` from the index on `c`; checked
    by a plan test). The final sort orders a handful of values with the database's collation,
    as `SELECT DISTINCT … ORDER BY` did."""
    return (
        f"WITH RECURSIVE v(x) AS (SELECT min({column}) FROM company UNION ALL "
        f"SELECT (SELECT min({column}) FROM company WHERE {column} > v.x) "
        f"FROM v WHERE v.x IS NOT NULL) "
        f"SELECT x FROM v WHERE x IS NOT NULL ORDER BY x"
    )


#: The filter pickers' values, through `ix_company_site`, `ix_company_sector` and (schema
#: 0009) `ix_company_cohort`.
_DISTINCT_VALUES = {column: _loose_scan(column) for column in ("site", "sector", "cohort")}


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class Database:
    """One database: its engine and units of work on it. Services take a `Database`."""

    def __init__(self, url: str | None = None, *, check_schema: bool = True) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        if check_schema:
            try:
                require_schema(self.engine)
            except BaseException:
                self.engine.dispose()  # no pooled connection left open behind the refusal
                raise

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def unit(self, *, write: bool = False, snapshot: str | None = None) -> UnitOfWork:
        """A unit of work (a transaction). SQLite: a writing one takes the database's write
        lock as it begins, waiting for another writer's (SQLite's busy handler, up to
        `SQLITE_BUSY_TIMEOUT_S`)."""
        return UnitOfWork(self.engine, write=write, snapshot=snapshot)

    def bulk_load(self) -> BulkLoad:
        return BulkLoad(self)

    def db_time(self, moment: datetime, iso: str | None = None) -> Any:
        """An aware UTC datetime as this database stores it, for `BulkLoad` rows. `iso`,
        when given, is `moment.isoformat(timespec="microseconds")` computed already."""
        if self.dialect != "sqlite":
            return moment
        if iso is None or not iso.endswith("+00:00"):
            iso = moment.astimezone(UTC).isoformat(timespec="microseconds")
        return f"{iso[:10]} {iso[11:26]}"  # naive UTC, as UTCDateTime stores it on SQLite

    def db_date(self, day: date | None) -> Any:
        """A calendar day as this database stores it, for `BulkLoad` rows (SQLite: its ISO
        text, as SQLAlchemy's Date stores it)."""
        if day is None or self.dialect != "sqlite":
            return day
        return day.isoformat()

    def upgrade(self, revision: str = "head") -> tuple[str | None, str]:
        return upgrade_schema(self.engine, revision)

    def describe(self) -> str:
        return describe(self.engine)

    def files(self) -> list[Path]:
        """The database's file on disk (SQLite), which no output file may replace."""
        path = sqlite_file(self.engine)
        return [path] if path is not None else []

    def dispose(self) -> None:
        self.engine.dispose()


# --- bulk loads ----------------------------------------------------------------------------


@dataclass(eq=False)
class Staged:
    """Rows staged for one table by `BulkLoad.stage`."""

    table: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]  # PostgreSQL: rows given to `stage`, kept in memory
    match: tuple[str, ...]  # empty: the rows are inserted; else they update matching rows
    open_only: bool  # update only spells that are still open
    name: str  # SQLite: the temporary table that holds the rows
    count: int = 0  # rows staged
    spool: IO[bytes] | None = None  # PostgreSQL: rows given to `append`, pickled in chunks

    def spooled(self) -> Iterator[tuple[Any, ...]]:
        """PostgreSQL: every staged row, in the order staged."""
        yield from self.rows
        if self.spool is None:
            return
        self.spool.seek(0)
        while True:
            try:
                chunk = pickle.load(self.spool)
            except EOFError:
                return
            yield from chunk


def _company_id_column(table: str, columns: Sequence[str]) -> int | None:
    """The position of the column that holds a company id (`company.id`, `*.company_id`)."""
    name = "id" if table == "company" else "company_id"
    return columns.index(name) if name in columns else None


#: SQLite's page cache of a bulk load's connection (KiB).
BULK_CACHE_KIB = 256 * 1024


#: A bulk load on PostgreSQL analyzes each table it added this many rows to (`checkpoint`).
ANALYZE_FROM = 10_000


class BulkLoad:
    """A bulk write whose write transaction covers only copying rows prepared beforehand.

        with db.bulk_load() as load:
            with load.unit() as uow:
                before = uow.company_states(keys)       # what the new rows build on
            ...                                          # check and lay out every row
            events = load.stage("stage_event", EVENT_COLUMNS, rows)
            with load.unit(write=True) as uow:           # SQLite: the write lock from here
                ... check that what was read is unchanged ...
                load.reserve_company_ids(uow, n)
                load.copy(uow, events)
                uow.commit()
            load.checkpoint()

    Every unit of work runs on the load's one connection. A new company is named in staged
    rows by a placeholder id, -1 for the first id `reserve_company_ids` hands out, -2 for the
    second, ...: ids are the one thing decided under the lock.

    SQLite: staged rows go into temporary tables of the load's connection, which takes no lock
    on the database, and each `copy` is a single INSERT … SELECT (or UPDATE … FROM), so the
    write lock covers no per-row work in Python. The connection is closed afterwards rather
    than pooled, and with it go its temporary tables. PostgreSQL has no database-wide write
    lock: rows given to `stage` stay in memory, rows given to `append` are pickled to a
    temporary file a chunk at a time, and both are COPY'd in the write transaction.

    `append` stages more rows for a table staged already, so that a large import stages a
    batch at a time and holds none of it.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.dialect = db.dialect
        self._staged = 0
        self._base = 0  # SQLite: placeholder -k stands for id base + k
        self._ids: list[int] = []  # PostgreSQL: placeholder -k stands for _ids[k - 1]
        self._spools: list[IO[bytes]] = []  # PostgreSQL: `append`'s temporary files
        self._copied: dict[str, int] = {}  # rows copied into each table

    def __enter__(self) -> BulkLoad:
        try:
            self.connection = self.db.engine.connect()
        except OperationalError as exc:
            raise StoreError(
                "store.cannot_open", db=self.db.describe(), detail=first_line(exc.orig)
            ) from None
        if self.dialect == "sqlite":
            # The WAL is folded into the database by `checkpoint`, after the lock is released,
            # not inside the COMMIT that ends the write.
            self._driver().execute("PRAGMA wal_autocheckpoint = 0")
            # A page cache as large as the indexes the copy inserts into at a province's
            # scale (the spells' covering indexes, the audit log's): the connection is
            # closed afterwards, and its cache with it.
            self._driver().execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        return self

    def __exit__(self, *exc: object) -> None:
        for spool in self._spools:
            spool.close()
        if self.dialect == "sqlite":
            self.connection.invalidate()  # its temporary tables go with it
        self.connection.close()

    def unit(self, *, write: bool = False) -> UnitOfWork:
        return UnitOfWork(self.db.engine, write=write, connection=self.connection)

    def _driver(self) -> Any:
        driver = self.connection.connection.driver_connection
        assert driver is not None
        return driver

    def stage(
        self,
        table: str,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
        *,
        match: Sequence[str] = (),
        open_only: bool = False,
    ) -> Staged:
        """Stage rows for `table`, in database form (see `Database.db_time`), outside any
        write transaction. With `match`, each row updates the rows whose `match` columns
        equal its own (`open_only`: spells not ended yet) instead of being inserted."""
        if table not in metadata.tables or not set(columns) <= set(metadata.tables[table].c.keys()):
            raise ValueError(f"unknown table or columns: {table} {columns}")
        self._staged += 1
        staged = Staged(table, tuple(columns), [], tuple(match), open_only, f"bulk_{self._staged}")
        staged.count = len(rows)
        if self.dialect != "sqlite":
            staged.rows = rows
            return staged
        names = ", ".join(columns)
        marks = ", ".join("?" * len(columns))
        with self.unit() as uow:  # BEGIN (deferred): it writes only the temporary table
            cur = self._driver().cursor()
            cur.execute(f"CREATE TEMP TABLE {staged.name} ({names})")
            cur.executemany(f"INSERT INTO temp.{staged.name} ({names}) VALUES ({marks})", rows)
            cur.close()
            uow.commit()
        return staged

    def append(self, staged: Staged, rows: Sequence[tuple[Any, ...]]) -> None:
        """Stage more rows for `staged`, after those staged already, outside any write
        transaction: an import stages its rows a batch at a time and holds none of them
        (SQLite: into the temporary table; PostgreSQL: pickled to a temporary file)."""
        if not rows:
            return
        staged.count += len(rows)
        if self.dialect != "sqlite":
            if staged.spool is None:
                staged.spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by `__exit__`
                self._spools.append(staged.spool)
            pickle.dump(rows, staged.spool, protocol=pickle.HIGHEST_PROTOCOL)
            return
        names = ", ".join(staged.columns)
        marks = ", ".join("?" * len(staged.columns))
        with self.unit() as uow:
            cur = self._driver().cursor()
            cur.executemany(f"INSERT INTO temp.{staged.name} ({names}) VALUES ({marks})", rows)
            cur.close()
            uow.commit()

    def reserve_company_ids(self, uow: UnitOfWork, n: int) -> None:
        """Decide the ids of the `n` new companies the placeholders -1 … -n stand for. Call
        inside the write unit of work, before copying rows that name them."""
        if n == 0:
            return
        if self.dialect == "postgresql":
            rows = uow.connection.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('company', 'id')) "
                f"FROM generate_series(1, {int(n)})"
            )
            self._ids = sorted(r[0] for r in rows)
        else:
            # the write transaction holds the database's write lock, so max(id) is stable
            self._base = uow.connection.execute(select(func.max(COMPANY.c.id))).scalar() or 0

    def copy(self, uow: UnitOfWork, staged: Staged) -> None:
        """Insert (or apply) staged rows inside the write unit of work. KeyTaken if a unique
        key is in use already."""
        assert uow.connection is self.connection
        self._copied[staged.table] = self._copied.get(staged.table, 0) + staged.count
        try:
            if self.dialect == "postgresql":
                self._copy_postgresql(staged)
            else:
                self._copy_sqlite(staged)
        except Exception as exc:
            if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
                raise KeyTaken(str(exc)) from None
            raise

    def _copy_sqlite(self, staged: Staged) -> None:
        table, columns = staged.table, staged.columns
        cur = self._driver().cursor()
        if staged.match:
            sets = ", ".join(f"{c} = s.{c}" for c in columns if c not in staged.match)
            where = " AND ".join(f"{table}.{c} = s.{c}" for c in staged.match)
            if staged.open_only:
                where += f" AND {table}.end_us IS NULL"
            cur.execute(
                f"UPDATE main.{table} SET {sets} FROM temp.{staged.name} AS s WHERE {where}"
            )
        else:
            values = list(columns)
            at = _company_id_column(table, columns)
            if at is not None:
                c = columns[at]
                values[at] = f"CASE WHEN {c} < 0 THEN {int(self._base)} - {c} ELSE {c} END"
            cur.execute(
                f"INSERT INTO main.{table} ({', '.join(columns)}) "
                f"SELECT {', '.join(values)} FROM temp.{staged.name} ORDER BY rowid"
            )
        cur.close()

    def _copy_postgresql(self, staged: Staged) -> None:
        table, columns, rows = staged.table, staged.columns, staged.spooled()
        if not staged.count:
            return
        with self._driver().cursor() as cur:
            if staged.match:
                sets = [c for c in columns if c not in staged.match]
                where = " AND ".join(f"{c} = %s" for c in staged.match)
                if staged.open_only:
                    where += " AND end_us IS NULL"
                order = [columns.index(c) for c in (*sets, *staged.match)]
                cur.executemany(
                    f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in sets)} WHERE {where}",
                    (tuple(row[i] for i in order) for row in rows),
                )
                return
            at = _company_id_column(table, columns)
            ids = self._ids
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    if at is not None and row[at] < 0:
                        row = (*row[:at], ids[-row[at] - 1], *row[at + 1 :])
                    copy.write_row(row)

    def checkpoint(self) -> None:
        """After the load's commit. SQLite: copy the load's pages from the WAL into the
        database now, outside the write lock (a passive checkpoint neither waits for nor
        blocks other connections), rather than in the commit of whichever writer comes next.
        PostgreSQL: gather the planner's statistics of each table the load added
        `ANALYZE_FROM` rows or more to, rather than leave the next queries to plan without
        them until autovacuum comes round."""
        if self.dialect == "sqlite":
            self._driver().execute("PRAGMA wal_checkpoint(PASSIVE)")
            return
        grown = sorted(t for t, n in self._copied.items() if n >= ANALYZE_FROM)
        if grown:
            with self.unit(write=True) as uow:
                for table in grown:
                    uow.connection.exec_driver_sql(f"ANALYZE {table}")
                uow.commit()


# --- event log filters -------------------------------------------------------------------


_Query = TypeVar("_Query", bound=Select[Any])


def _log_filters(
    stmt: _Query,
    log: Table,
    company_key: str | None,
    company: str | None,
    actor: str | None,
    kind: str | None,
) -> _Query:
    """The filters the event log and the company records share: one company by its key, part
    of a key or name in any case, one actor, one kind (of `log`'s rows)."""
    if company_key:
        stmt = stmt.where(COMPANY.c.key == company_key)
    if company and company.strip():
        stmt = stmt.where(_key_or_name(company.strip()))
    if actor:
        stmt = stmt.where(log.c.actor == actor)
    if kind:
        stmt = stmt.where(log.c.kind == kind)
    return stmt


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


# --- reports: the annual Torch statistics and the city's targets (DESIGN §9) ---------------
# A year is the half-open window [start_us, end_us) of UTC microseconds; "at year end" is the
# state just before end_us, so a spell ending at exactly end_us is still open then, and one
# starting at end_us belongs to the next year. Dates ("valid on Y-12-31") are `year_end`.

INCUBATOR = "incubator"


def _incubated_at(end_us: int, site: str | None) -> list[ColumnElement[bool]]:
    """Incubator spells open just before `end_us` (of the site)."""
    conditions: list[ColumnElement[bool]] = [
        SPELL.c.stage == INCUBATOR,
        SPELL.c.start_us < end_us,
        or_(SPELL.c.end_us.is_(None), SPELL.c.end_us >= end_us),
    ]
    if site is not None:
        conditions.append(SPELL.c.site == site)
    return conditions


def incubator_spell_counts(
    uow: UnitOfWork, start_us: int, end_us: int, *, site: str | None = None
) -> dict[str, tuple[int, int, int, int]]:
    """Per site: incubator spells (started in the year, ended by advance in the year, ended
    by advance before the year's end, ended by exit in the year), in one GROUP BY."""

    def in_year(column: Any) -> ColumnElement[bool]:
        return and_(column >= start_us, column < end_us)

    advanced, exited = SPELL.c.end_kind == "advance", SPELL.c.end_kind == "exit"
    stmt = select(
        SPELL.c.site,
        _count_if(in_year(SPELL.c.start_us)),
        _count_if(and_(advanced, in_year(SPELL.c.end_us))),
        _count_if(and_(advanced, SPELL.c.end_us < end_us)),
        _count_if(and_(exited, in_year(SPELL.c.end_us))),
    ).where(SPELL.c.stage == INCUBATOR, SPELL.c.start_us < end_us)
    if site is not None:
        stmt = stmt.where(SPELL.c.site == site)
    stmt = stmt.group_by(SPELL.c.site)
    return {
        str(s): (int(a or 0), int(b or 0), int(c or 0), int(d or 0))
        for s, a, b, c, d in uow.connection.execute(stmt)
    }


def incubated_companies(
    uow: UnitOfWork, end_us: int, *, site: str | None = None
) -> list[tuple[int, str, str, str, str, str | None, int]]:
    """The companies in the incubator just before `end_us`, ordered by site then key:
    (company id, key, name, site, sector, USCC, start of their incubator spell in µs)."""
    stmt = (
        select(
            SPELL.c.company_id,
            COMPANY.c.key,
            COMPANY.c.name,
            SPELL.c.site,
            SPELL.c.sector,
            COMPANY.c.uscc,
            SPELL.c.start_us,
        )  # fmt: skip
        .join(COMPANY, COMPANY.c.id == SPELL.c.company_id)
        .where(*_incubated_at(end_us, site))
        .order_by(SPELL.c.site, COMPANY.c.key)
    )
    return [tuple(row) for row in uow.connection.execute(stmt)]  # type: ignore[misc]


def _incubated_ids(end_us: int, site: str | None) -> Select[Any]:
    return select(SPELL.c.company_id).where(*_incubated_at(end_us, site))


def incubated_qualifications(
    uow: UnitOfWork, end_us: int, day: date, *, site: str | None = None
) -> list[tuple[int, str]]:
    """(company id, kind) of the qualifications valid on `day` of the incubated companies."""
    stmt = (
        select(QUALIFICATION.c.company_id, QUALIFICATION.c.kind)
        .where(
            QUALIFICATION.c.company_id.in_(_incubated_ids(end_us, site)),
            *_valid_on(day),
        )
        .distinct()
    )
    return [(int(c), str(k)) for c, k in uow.connection.execute(stmt)]


def _valid_on(day: date) -> list[ColumnElement[bool]]:
    return [
        QUALIFICATION.c.granted_on <= day,
        QUALIFICATION.c.expires_on > day,
        or_(QUALIFICATION.c.revoked_on.is_(None), QUALIFICATION.c.revoked_on > day),
    ]


def incubated_financing(
    uow: UnitOfWork, end_us: int, day: date, *, site: str | None = None
) -> dict[int, int]:
    """Financing up to `day` (inclusive) of the incubated companies that have any, by id."""
    stmt = (
        select(FINANCING.c.company_id, func.sum(FINANCING.c.amount))
        .where(
            FINANCING.c.company_id.in_(_incubated_ids(end_us, site)),
            FINANCING.c.financed_on <= day,
        )
        .group_by(FINANCING.c.company_id)
    )
    return {int(c): int(total) for c, total in uow.connection.execute(stmt)}


def incubated_figures(
    uow: UnitOfWork, end_us: int, year: int, *, site: str | None = None
) -> dict[int, tuple[int | None, ...]]:
    """The year's figures (in `FIGURE_COLUMNS` order) of the incubated companies, by id."""
    stmt = select(FIGURES.c.company_id, *(FIGURES.c[name] for name in FIGURE_COLUMNS)).where(
        FIGURES.c.year == year, FIGURES.c.company_id.in_(_incubated_ids(end_us, site))
    )
    return {int(row[0]): tuple(row[1:]) for row in uow.connection.execute(stmt)}


def graduations(
    uow: UnitOfWork, start: datetime, end: datetime, *, site: str | None = None
) -> list[tuple[str, str, str, str, datetime, str | None]]:
    """Moves from the incubator to the accelerator in [start, end), by time then key:
    (key, name, site, sector, effective_at, the gate's outcome as JSON or None)."""
    stmt = (
        select(
            COMPANY.c.key,
            COMPANY.c.name,
            COMPANY.c.site,
            COMPANY.c.sector,
            EVENT.c.effective_at,
            EVENT.c.gate,
        )  # fmt: skip
        .join(COMPANY, COMPANY.c.id == EVENT.c.company_id)
        .where(
            EVENT.c.kind == "advance",
            EVENT.c.from_stage == INCUBATOR,
            EVENT.c.effective_at >= start,
            EVENT.c.effective_at < end,
        )
        .order_by(EVENT.c.effective_at, COMPANY.c.key)
    )
    if site is not None:
        stmt = stmt.where(COMPANY.c.site == site)
    return [tuple(row) for row in uow.connection.execute(stmt)]  # type: ignore[misc]


def qualified_companies(uow: UnitOfWork, kind: str, day: date, end: datetime) -> int:
    """Companies with a `kind` qualification valid on `day` that had not exited before
    `end` (an exit is a company's last event)."""
    exited_before = and_(COMPANY.c.stage == "exited", COMPANY.c.last_event_at < end)
    stmt = (
        select(func.count(func.distinct(QUALIFICATION.c.company_id)))
        .select_from(QUALIFICATION.join(COMPANY, COMPANY.c.id == QUALIFICATION.c.company_id))
        .where(QUALIFICATION.c.kind == kind, *_valid_on(day), ~exited_before)
    )
    return int(uow.connection.execute(stmt).scalar() or 0)


def qualifications_granted(uow: UnitOfWork, kind: str, first: date, last: date) -> int:
    """Companies granted a `kind` qualification from `first` to `last` (inclusive) whose
    grant was not revoked on or before `last`."""
    stmt = select(func.count(func.distinct(QUALIFICATION.c.company_id))).where(
        QUALIFICATION.c.kind == kind,
        QUALIFICATION.c.granted_on >= first,
        QUALIFICATION.c.granted_on <= last,
        or_(QUALIFICATION.c.revoked_on.is_(None), QUALIFICATION.c.revoked_on > last),
    )
    return int(uow.connection.execute(stmt).scalar() or 0)


def figures_sum(uow: UnitOfWork, name: str, year: int) -> int:
    """The sum of one figure over every company's figures of `year` (missing counts 0)."""
    assert name in FIGURE_COLUMNS, name
    stmt = select(func.coalesce(func.sum(FIGURES.c[name]), 0)).where(FIGURES.c.year == year)
    return int(uow.connection.execute(stmt).scalar() or 0)


def graduations_count(uow: UnitOfWork, start: datetime, end: datetime) -> int:
    """Moves from the incubator to the accelerator in [start, end)."""
    stmt = select(func.count()).where(
        EVENT.c.kind == "advance",
        EVENT.c.from_stage == INCUBATOR,
        EVENT.c.effective_at >= start,
        EVENT.c.effective_at < end,
    )
    return int(uow.connection.execute(stmt).scalar() or 0)
