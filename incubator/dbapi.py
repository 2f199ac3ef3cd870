"""What needs the database's driver alone, not SQLAlchemy: the metric queries as plain SQL, and
a read-only connection that runs them straight through the driver (PEP 249, "DB-API").

`incubator funnel`, `dwell` and `throughput` read one aggregate over `spell` and print it.
Importing SQLAlchemy and SQLModel (and building the tables' classes) took longer than the
funnel's query itself at 1,000,000 companies: these commands open a `Reader` here instead,
and fall back to the store's `Database` for anything a `Reader` does not take on (a URL in a
form of its own, a database without the current schema, which the store then explains).

The metric queries are written once, here, as SQL text. The store runs the same text inside
its units of work (`UnitOfWork.query`), so the UI, the services and the tests read exactly
what the commands read; their query plans are checked in tests/integration/test_metrics.py.

Also here, because both kinds of connection need them: where the database is
(`database_url`), the schema revision the code expects (`SCHEMA_HEAD`) and the store's
error (`StoreError`). `incubator.store` re-exports all of them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from incubator.messages import CodedError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

DEFAULT_URL = "sqlite:///incubator.db"

#: The newest migration; the schema check compares the database against it.
SCHEMA_HEAD = "0009"


def database_url(explicit: str | None = None) -> str:
    """`--db`, else `INCUBATOR_DATABASE_URL`, else `incubator.db` in the working directory."""
    return explicit or os.environ.get("INCUBATOR_DATABASE_URL") or DEFAULT_URL


def first_line(error: object) -> str:
    """An error's text in one line, for a one-line message (its type's name if it has none)."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class StoreError(CodedError):
    """The database cannot be used as asked (missing schema, unreachable server, ...): a code
    and its values (`messages.CATALOGUE`), one line in English as `str()`."""


# --- what a metric query runs on -------------------------------------------------------------


class Rows(Protocol):
    """A transaction to read in: the store's `UnitOfWork`, or a `Reader`'s."""

    dialect: str

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of `sql`, written with `placeholder(dialect)` for each of `params`."""
        ...


class Readable(Protocol):
    """A database to read from: the store's `Database`, or a `Reader`."""

    def unit(self) -> AbstractContextManager[Rows]: ...


def placeholder(dialect: str) -> str:
    """How the dialect's driver marks a parameter: sqlite3's qmark, psycopg's format."""
    return "?" if dialect == "sqlite" else "%s"


class _Sql:
    """Parameters collected while a statement's text is written: `bind(value)` returns the
    placeholder and keeps the value, so the text must be written in its reading order (an
    f-string evaluates its fields left to right)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.mark = placeholder(dialect)
        self.params: list[Any] = []

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return self.mark

    def spell(self, index: str | None) -> str:
        """`spell` read through one of the metrics' covering indexes on SQLite."""
        return f"spell INDEXED BY {index}" if index and self.dialect == "sqlite" else "spell"

    def scope(self, as_of_us: int, site: str | None, sector: str | None, cohort: int | None) -> str:
        """Spells that started by T, of the filtered companies."""
        conditions = [f"spell.start_us <= {self.bind(as_of_us)}"]
        if site:
            conditions.append(f"spell.site = {self.bind(site)}")
        if sector:
            conditions.append(f"spell.sector = {self.bind(sector)}")
        if cohort is not None:
            conditions.append(f"spell.cohort = {self.bind(cohort)}")
        return " AND ".join(conditions)


# --- metric queries --------------------------------------------------------------------------
#
# Read-only aggregates over `spell` for `incubator.metrics` (DESIGN §3). The instant T is given
# as microseconds since the epoch (`as_of_us`): a spell counts when `start_us <= T`; it is
# completed at T when `end_us <= T`, else open at T. The optional filters match the columns
# that `spell` copies from its company (site, sector, cohort); None or "" means no filter.
# Periods are integer divisions of `year * 12 + month - 1` by a literal (1, 3 or 12): integer
# by integer truncates in SQLite and PostgreSQL alike, and the values are never negative.
# Constants are written into the SQL: `end_kind = 'exit'` so that SQLite sees that the partial
# index `ix_spell_exits` (WHERE end_kind = 'exit') applies.

#: Months per period, for `entries_by_period` and `exits_by_period`.
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}

#: The covering indexes the metric queries read on SQLite (created there only, migration
#: 0008): every column a metric reads or filters on, in the order it groups by, so that the
#: scan is one pass over the index with no row lookup and no sort (a GROUP BY over the table
#: sorted every spell). Left to itself, SQLite walks the (stage, start_us) index with a row
#: lookup per spell, several times slower for a metric that reads most rows. PostgreSQL has
#: no such index: it scans the table in parallel and aggregates in a hash table.
METRICS_INDEX = "ix_spell_metrics"  # stage, start_ym, start_us, end_us, end_kind, filters
EXITS_INDEX = "ix_spell_exits"  # exit_reason, end_ym, ...; spells ended by an exit only


class StageLimit(NamedTuple):
    """An open spell in `stage` is overdue once it is older than `limit_us` microseconds.

    `sector` restricts the rule to one sector; `except_sectors` excludes sectors that have a
    rule of their own for the same stage.
    """

    stage: str
    limit_us: int
    sector: str | None = None
    except_sectors: tuple[str, ...] = ()


def funnel_counts(
    rows: Rows,
    as_of_us: int,
    *,
    site: str | None = None,
    sector: str | None = None,
    cohort: int | None = None,
) -> dict[str, tuple[int, int, int, int]]:
    """Per stage with spells: (entered, advanced, exited, current) at T, in one GROUP BY."""
    q = _Sql(rows.dialect)
    sql = (
        "SELECT spell.stage, count(*),"
        f" sum(CASE WHEN spell.end_us <= {q.bind(as_of_us)}"
        " AND spell.end_kind = 'advance' THEN 1 ELSE 0 END),"
        f" sum(CASE WHEN spell.end_us <= {q.bind(as_of_us)}"
        " AND spell.end_kind = 'exit' THEN 1 ELSE 0 END),"
        f" sum(CASE WHEN spell.end_us <= {q.bind(as_of_us)} THEN 1 ELSE 0 END)"
        f" FROM {q.spell(METRICS_INDEX)} WHERE {q.scope(as_of_us, site, sector, cohort)}"
        " GROUP BY spell.stage"
    )
    return {
        stage: (int(entered), int(advanced), int(exited), int(entered) - int(ended))
        for stage, entered, advanced, exited, ended in rows.query(sql, q.params)
    }


def _by_period(rows: Iterable[tuple[Any, ...]], period: str) -> list[tuple[int, Any, int]]:
    """(key, month index, n) rows summed per (period index, key): the index is `year * 12 +
    month - 1` integer-divided by the months of `period`."""
    months = PERIOD_MONTHS[period]
    totals: dict[tuple[int, Any], int] = {}
    for key, ym, n in rows:
        at = (int(ym) // months, key)
        totals[at] = totals.get(at, 0) + int(n)
    return [(index, key, n) for (index, key), n in totals.items()]


def entries_by_period(
    rows: Rows,
    as_of_us: int,
    period: str,
    *,
    site: str | None = None,
    sector: str | None = None,
    cohort: int | None = None,
) -> list[tuple[int, str, int]]:
    """(period index, stage, spells started) for every non-empty pair; the index is
    `year * 12 + month - 1` integer-divided by the months of `period`. The database counts
    per stage and month, in the covering index's order; the months are summed into periods
    here."""
    q = _Sql(rows.dialect)
    sql = (
        "SELECT spell.stage, spell.start_ym, count(*)"
        f" FROM {q.spell(METRICS_INDEX)} WHERE {q.scope(as_of_us, site, sector, cohort)}"
        " GROUP BY spell.stage, spell.start_ym"
    )
    return _by_period(rows.query(sql, q.params), period)


def exits_by_period(
    rows: Rows,
    as_of_us: int,
    period: str,
    *,
    site: str | None = None,
    sector: str | None = None,
    cohort: int | None = None,
) -> list[tuple[int, str, int]]:
    """(period index, exit reason, exits) for every non-empty pair, by the exit's time."""
    q = _Sql(rows.dialect)
    sql = (
        "SELECT spell.exit_reason, spell.end_ym, count(*)"
        f" FROM {q.spell(EXITS_INDEX)} WHERE {q.scope(as_of_us, site, sector, cohort)}"
        f" AND spell.end_us <= {q.bind(as_of_us)} AND spell.end_kind = 'exit'"
        " GROUP BY spell.exit_reason, spell.end_ym"
    )
    return _by_period(rows.query(sql, q.params), period)


def spell_durations(
    rows: Rows,
    as_of_us: int,
    *,
    site: str | None = None,
    sector: str | None = None,
    cohort: int | None = None,
) -> dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Per stage with spells that started by T: (lengths of the spells completed at T, ages
    at T of the open ones), microseconds, in no particular order.

    One row per stage, not per spell: the database writes each spell as one signed integer
    (the length when completed, >= 0; else -1 - its age, < 0) into one comma-separated text
    per stage (`group_concat` / `string_agg`), which numpy parses in C. Python never holds a
    row, or an int, per spell.
    """
    import numpy as np

    q = _Sql(rows.dialect)
    value = (
        f"CASE WHEN spell.end_us <= {q.bind(as_of_us)} THEN spell.end_us - spell.start_us"
        f" ELSE spell.start_us - {q.bind(as_of_us)} - 1 END"
    )
    joined = (
        f"string_agg(CAST({value} AS TEXT), ',')"
        if rows.dialect == "postgresql"
        else f"group_concat({value})"
    )
    sql = (
        f"SELECT spell.stage, count(*), {joined}"
        f" FROM {q.spell(METRICS_INDEX)} WHERE {q.scope(as_of_us, site, sector, cohort)}"
        " GROUP BY spell.stage"
    )
    result = {}
    for stage, n, text_ in rows.query(sql, q.params):
        values = np.fromstring(text_, dtype=np.int64, sep=",")
        if values.size != n:  # never: every spell is one integer
            raise RuntimeError(f"spell_durations: {values.size} of {n} spells parsed")
        done = values >= 0
        result[stage] = (values[done], -1 - values[~done])
    return result


def overdue_spells(
    rows: Rows,
    as_of_us: int,
    limits: Sequence[StageLimit],
    *,
    site: str | None = None,
    sector: str | None = None,
    cohort: int | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Spells open at T that are older than their `StageLimit`, oldest first (then by key).

    Each row: key, name, site, sector, stage, start_us.
    """
    if not limits or limit <= 0:
        return []
    q = _Sql(rows.dialect)
    scope = q.scope(as_of_us, site, sector, cohort)
    still_open = f"(spell.end_us IS NULL OR spell.end_us > {q.bind(as_of_us)})"
    rules = []
    for rule in limits:
        condition = (
            f"spell.stage = {q.bind(rule.stage)}"
            f" AND spell.start_us < {q.bind(as_of_us - rule.limit_us)}"
        )
        if rule.sector is not None:
            condition += f" AND spell.sector = {q.bind(rule.sector)}"
        if rule.except_sectors:
            marks = ", ".join(q.bind(s) for s in rule.except_sectors)
            condition += f" AND spell.sector NOT IN ({marks})"
        rules.append(f"({condition})")
    sql = (
        "SELECT company.key, company.name, spell.site, spell.sector, spell.stage,"
        " spell.start_us FROM spell JOIN company ON company.id = spell.company_id"
        f" WHERE {scope} AND {still_open} AND ({' OR '.join(rules)})"
        f" ORDER BY spell.start_us, company.key LIMIT {q.bind(limit)}"
    )
    names = ("key", "name", "site", "sector", "stage", "start_us")
    return [dict(zip(names, row, strict=True)) for row in rows.query(sql, q.params)]


# --- a read-only connection through the driver -------------------------------------------------

#: `sqlite:///PATH`: a file, named without a query string or percent-escapes (which the store's
#: URL parsing would read otherwise: those URLs go to the store).
_SQLITE_FILE = re.compile(r"sqlite:///(?P<path>[^?%]+)")
#: `user:password@` in a URL, to show it without the password.
_PASSWORD = re.compile(r"(?<=://)(?P<user>[^:/@]*):[^@/]*@")

#: SQLite: how long a read waits on a locked database (as the store's connections).
_SQLITE_TIMEOUT_S = 30


def shown_url(url: str) -> str:
    """`url` as messages show it: its password, if any, as `***` (as the store shows it)."""
    return _PASSWORD.sub(r"\g<user>:***@", url)


class Reader:
    """One read-only connection, opened straight through the driver: `Reader.open(url)`, or
    None when the store should open this database instead. `unit()` is a read transaction
    (one snapshot), as the store's read units of work are; its `query` runs on the driver."""

    def __init__(
        self, dialect: str, connection: Any, shown: str, errors: tuple[type[Exception], ...]
    ) -> None:
        self.dialect = dialect
        self._conn = connection
        self._shown = shown
        #: The driver's refusals that become a one-line StoreError (as in the store's units).
        self._errors = errors

    @classmethod
    def open(cls, url: str | None) -> Reader | None:
        """A reader of the database at `url` (`database_url`) when it is a SQLite file or a
        `postgresql+psycopg://` server that can be opened and holds the current schema; else
        None (the store then opens it, or says why it cannot). A server that refuses the
        connection (or cannot be reached) raises the store's StoreError at once."""
        url = database_url(url)
        try:
            if url.startswith("sqlite"):
                reader = cls._sqlite(url)
            elif url.startswith("postgresql+psycopg://"):
                reader = cls._postgresql(url)
            else:
                return None
        except StoreError:
            raise
        except Exception:  # the store opens it again and explains what is wrong
            return None
        if reader is None:
            return None
        try:
            with reader.unit() as rows:
                version = rows.query("SELECT version_num FROM alembic_version", ())
        except Exception:  # no schema at all, a file that is not a database, ...
            version = []
        if version != [(SCHEMA_HEAD,)]:
            reader.close()
            return None
        return reader

    @classmethod
    def _sqlite(cls, url: str) -> Reader | None:
        import sqlite3

        match = _SQLITE_FILE.fullmatch(url)
        if match is None or match["path"] == ":memory:" or not Path(match["path"]).is_file():
            return None  # never create a file just by reading
        conn = sqlite3.connect(match["path"], timeout=_SQLITE_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {_SQLITE_TIMEOUT_S * 1000}")
            conn.execute("PRAGMA cache_size = -65536")  # the store's page cache (64 MiB)
            conn.execute("PRAGMA query_only = ON")  # a reader never writes
        except BaseException:
            conn.close()
            raise
        return cls("sqlite", conn, url, (sqlite3.OperationalError, sqlite3.InternalError))

    @classmethod
    def _postgresql(cls, url: str) -> Reader:
        import psycopg

        conninfo = "postgresql://" + url.removeprefix("postgresql+psycopg://")
        try:
            conn = psycopg.connect(conninfo, autocommit=True, prepare_threshold=None)
        except psycopg.OperationalError as exc:
            # the server's refusal, as the store words it (and without a second wait for a
            # server that does not answer)
            raise StoreError(
                "store.cannot_open", db=shown_url(url), detail=first_line(exc)
            ) from None
        try:
            conn.execute("SET TIME ZONE 'UTC'")  # as the store's sessions
        except BaseException:
            conn.close()
            raise
        errors = (psycopg.OperationalError, psycopg.InternalError)
        return cls("postgresql", conn, shown_url(url), errors)

    @contextmanager
    def unit(self) -> Iterator[_ReadUnit]:
        """A read transaction, rolled back at the end (nothing in it writes)."""
        try:
            if self.dialect == "sqlite":
                self._conn.execute("BEGIN")
            else:
                self._conn.execute(
                    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )  # one snapshot for the whole read, as the store's read units of work
            try:
                yield _ReadUnit(self.dialect, self._conn)
            finally:
                self._conn.execute("ROLLBACK")
        except self._errors as exc:  # a lost connection, a disk error, ...
            raise StoreError("store.read_failed", db=self._shown, detail=first_line(exc)) from None

    def close(self) -> None:
        self._conn.close()


class _ReadUnit:
    def __init__(self, dialect: str, connection: Any) -> None:
        self.dialect = dialect
        self._conn = connection

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(sql, tuple(params)).fetchall())
