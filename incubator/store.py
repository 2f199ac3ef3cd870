"""Persistence: tables, the engine factory, the unit of work and every SQL query.

The only module that imports SQLModel/SQLAlchemy. Services and metrics call the unit of
work's methods and never write SQL themselves.

Tables
- `company`: one row per company, with its current stage and the head of its hash chain.
- `stage_event`: the append-only event log (database triggers refuse UPDATE and DELETE).
- `spell`: one row per stay in a stage, kept in step with every event in the same
  transaction. It is derived data (it can be rebuilt from the events) and lets every metric
  be one indexed scan instead of a window function over the whole log.
- `app_user`: accounts for the UI, with argon2 password hashes.
- `setting`: small JSON settings (e.g. the stuck-list limits).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Field, Session, SQLModel

DEFAULT_URL = "sqlite:///incubator.db"


def database_url(explicit: str | None = None) -> str:
    """`--db`, else `INCUBATOR_DATABASE_URL`, else `incubator.db` in the working directory."""
    return explicit or os.environ.get("INCUBATOR_DATABASE_URL") or DEFAULT_URL


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
    actor: str = Field(sa_column=Column(String(120), nullable=False, index=True))
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))


class SpellRow(SQLModel, table=True):
    """A stay in one stage. Times are microseconds since the epoch, so that durations and
    periods are plain integer arithmetic, identical in SQLite and PostgreSQL. `start_ym` is
    year * 12 + month - 1 of the start (month, quarter and year are integer divisions)."""

    __tablename__ = "spell"
    __table_args__ = (Index("ix_spell_stage_start", "stage", "start_us"),)

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


class UserRow(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    site: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _when()


class SettingRow(SQLModel, table=True):
    __tablename__ = "setting"

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))


COMPANY = CompanyRow.__table__  # type: ignore[attr-defined]
EVENT = EventRow.__table__  # type: ignore[attr-defined]
SPELL = SpellRow.__table__  # type: ignore[attr-defined]
USER = UserRow.__table__  # type: ignore[attr-defined]
SETTING = SettingRow.__table__  # type: ignore[attr-defined]
metadata = SQLModel.metadata


# --- errors --------------------------------------------------------------------------------


class StoreError(Exception):
    """The database cannot be used as asked (missing schema, unreachable server, ...)."""


class KeyTaken(StoreError):
    """A unique key (company key, user name) is already in use."""


# --- engine --------------------------------------------------------------------------------

SQLITE_BUSY_TIMEOUT_S = 60


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url`, set up for safe concurrent writers.

    SQLite: WAL, foreign keys, a long busy timeout, and `BEGIN IMMEDIATE` for write units
    of work, so two writers queue instead of failing with "database is locked".
    PostgreSQL: a pooled engine; writers lock the company row (`SELECT … FOR UPDATE`).
    """
    url = database_url(url)
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            raise StoreError("an in-memory SQLite database cannot be shared; give a file path")
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("incubator_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True)
    raise StoreError(
        f"unsupported database URL {url!r}; use sqlite:///path.db or postgresql+psycopg://user@host/db"
    )


def describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


# --- schema --------------------------------------------------------------------------------

#: The newest migration; the schema check compares the database against it.
SCHEMA_HEAD = "0001"


def schema_version(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as exc:
        raise StoreError(f"cannot open {describe(engine)}: {exc.orig}") from None


def require_schema(engine: Engine) -> None:
    version = schema_version(engine)
    if version != SCHEMA_HEAD:
        state = "has no tracker schema" if version is None else f"is at schema {version}"
        raise StoreError(
            f"{describe(engine)} {state}, the tracker needs {SCHEMA_HEAD}; run `incubator init`"
        )


def upgrade_schema(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema with the packaged Alembic migrations. Idempotent."""
    from alembic import command
    from alembic.config import Config

    before = schema_version(engine)
    config = Config()
    config.set_main_option("script_location", os.path.join(os.path.dirname(__file__), "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, SCHEMA_HEAD


# --- unit of work --------------------------------------------------------------------------


class UnitOfWork:
    """A transaction that rolls back unless `commit()` is called.

    with UnitOfWork(engine, write=True) as uow:
        row = uow.company_for_update("JM-0042")
        ...
        uow.commit()
    """

    def __init__(self, engine: Engine, *, write: bool = False) -> None:
        self.engine = engine
        self.write = write
        self.dialect = engine.dialect.name
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        conn = self.engine.connect()
        if self.write:
            conn = conn.execution_options(incubator_write=True)
        self.connection = conn
        self.session = Session(bind=conn, autoflush=False, expire_on_commit=False)
        try:
            self.connection.begin()
        except OperationalError as exc:
            conn.close()
            raise StoreError(f"cannot open {describe(self.engine)}: {exc.orig}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if not self._committed:
                self.session.rollback()
                if self.connection.in_transaction():
                    self.connection.rollback()
        finally:
            self.session.close()
            self.connection.close()

    def commit(self) -> None:
        try:
            self.session.flush()
            self.connection.commit()
        except IntegrityError as exc:
            self.connection.rollback()
            raise KeyTaken(str(exc.orig)) from None
        self._committed = True

    def flush(self) -> None:
        try:
            self.session.flush()
        except IntegrityError as exc:
            raise KeyTaken(str(exc.orig)) from None

    # companies ------------------------------------------------------------------------

    def company(self, key: str, *, lock: bool = False) -> CompanyRow | None:
        """The company row; with `lock`, held until the unit of work ends (PostgreSQL row lock;
        on SQLite the write transaction already holds the database's write lock)."""
        stmt = select(CompanyRow).where(COMPANY.c.key == key)
        if lock and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()

    def companies(
        self,
        *,
        stage: str | None = None,
        site: str | None = None,
        sector: str | None = None,
        keys: Sequence[str] | None = None,
    ) -> list[CompanyRow]:
        stmt = select(CompanyRow).order_by(COMPANY.c.key)
        if stage:
            stmt = stmt.where(COMPANY.c.stage == stage)
        if site:
            stmt = stmt.where(COMPANY.c.site == site)
        if sector:
            stmt = stmt.where(COMPANY.c.sector == sector)
        if keys is not None:
            stmt = stmt.where(COMPANY.c.key.in_(list(keys)))
        return list(self.session.scalars(stmt))

    def company_states(self, keys: Iterable[str]) -> dict[str, CompanyRow]:
        """Rows of the given keys that exist, in chunks (for bulk import)."""
        found: dict[str, CompanyRow] = {}
        keys = list(keys)
        for i in range(0, len(keys), 900):
            chunk = keys[i : i + 900]
            for row in self.session.scalars(select(CompanyRow).where(COMPANY.c.key.in_(chunk))):
                found[row.key] = row
        return found

    def count_companies(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(COMPANY)) or 0)

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def sites_and_sectors(self) -> tuple[list[str], list[str], list[int]]:
        conn = self.connection
        sites = [
            r[0] for r in conn.execute(select(COMPANY.c.site).distinct().order_by(COMPANY.c.site))
        ]
        sectors = [
            r[0]
            for r in conn.execute(select(COMPANY.c.sector).distinct().order_by(COMPANY.c.sector))
        ]
        cohorts = [
            r[0]
            for r in conn.execute(select(COMPANY.c.cohort).distinct().order_by(COMPANY.c.cohort))
        ]
        return sites, sectors, cohorts

    # events and spells ------------------------------------------------------------------

    def events_of(self, company_id: int) -> list[EventRow]:
        stmt = select(EventRow).where(EVENT.c.company_id == company_id).order_by(EVENT.c.seq)
        return list(self.session.scalars(stmt))

    def open_spell(self, company_id: int) -> SpellRow | None:
        stmt = select(SpellRow).where(
            and_(SPELL.c.company_id == company_id, SPELL.c.end_us.is_(None))
        )
        return self.session.scalars(stmt).first()

    def iter_event_rows(self, *, batch: int = 5000) -> Iterator[dict[str, Any]]:
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
        for row in self.session.execute(stmt):
            yield row._asdict()

    def count_events(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(EVENT)) or 0)

    def audit_events(
        self,
        *,
        company_key: str | None = None,
        actor: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 5000,
    ) -> list[dict[str, Any]]:
        """The newest events matching the filters, newest first."""
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
            )
            .join(COMPANY, COMPANY.c.id == EVENT.c.company_id)
            .order_by(EVENT.c.recorded_at.desc(), EVENT.c.id.desc())
            .limit(limit)
        )
        if company_key:
            stmt = stmt.where(COMPANY.c.key == company_key)
        if actor:
            stmt = stmt.where(EVENT.c.actor == actor)
        if kind:
            stmt = stmt.where(EVENT.c.kind == kind)
        if since:
            stmt = stmt.where(EVENT.c.effective_at >= since)
        if until:
            stmt = stmt.where(EVENT.c.effective_at <= until)
        return [row._asdict() for row in self.connection.execute(stmt)]

    # bulk writes (import) -----------------------------------------------------------------

    def insert_companies(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert companies in bulk; return their ids by key."""
        ids: dict[str, int] = {}
        if not rows:
            return ids
        stmt = insert(COMPANY).returning(COMPANY.c.id, COMPANY.c.key, sort_by_parameter_order=True)
        try:
            for row in self.connection.execute(stmt, rows):
                ids[row.key] = row.id
        except IntegrityError as exc:
            raise KeyTaken(str(exc.orig)) from None
        return ids

    def insert_events(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.connection.execute(insert(EVENT), rows)

    def insert_spells(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.connection.execute(insert(SPELL), rows)

    def update_companies(self, rows: list[dict[str, Any]]) -> None:
        """Bulk update of existing companies' state; each dict has `b_id` and the new values."""
        if not rows:
            return
        stmt = (
            update(COMPANY)
            .where(COMPANY.c.id == _bind("b_id"))
            .values(
                stage=_bind("stage"),
                entered_stage_at=_bind("entered_stage_at", UTCDateTime()),
                last_event_at=_bind("last_event_at", UTCDateTime()),
                event_count=_bind("event_count"),
                head_hash=_bind("head_hash"),
            )
        )
        self.connection.execute(stmt, rows)

    def close_spells(self, rows: list[dict[str, Any]]) -> None:
        """Close open spells in bulk; each dict has `b_company_id` and the end values."""
        if not rows:
            return
        stmt = (
            update(SPELL)
            .where(and_(SPELL.c.company_id == _bind("b_company_id"), SPELL.c.end_us.is_(None)))
            .values(
                end_us=_bind("end_us"),
                end_ym=_bind("end_ym"),
                end_kind=_bind("end_kind"),
                exit_reason=_bind("exit_reason"),
            )
        )
        self.connection.execute(stmt, rows)

    # users and settings -------------------------------------------------------------------

    def user(self, name: str) -> UserRow | None:
        return self.session.scalars(select(UserRow).where(USER.c.name == name)).first()

    def users(self) -> list[UserRow]:
        return list(self.session.scalars(select(UserRow).order_by(USER.c.name)))

    def setting(self, key: str) -> str | None:
        return self.connection.execute(select(SETTING.c.value).where(SETTING.c.key == key)).scalar()

    def put_setting(self, key: str, value: str) -> None:
        if self.setting(key) is None:
            self.connection.execute(insert(SETTING).values(key=key, value=value))
        else:
            self.connection.execute(update(SETTING).where(SETTING.c.key == key).values(value=value))


def _bind(name: str, type_: Any = None) -> Any:
    return bindparam(name, type_=type_)


class Database:
    """One database: its engine and units of work on it. Services take a `Database`."""

    def __init__(self, url: str | None = None, *, check_schema: bool = True) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        if check_schema:
            require_schema(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def unit(self, *, write: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, write=write)

    def upgrade(self) -> tuple[str | None, str]:
        return upgrade_schema(self.engine)

    def describe(self) -> str:
        return describe(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
