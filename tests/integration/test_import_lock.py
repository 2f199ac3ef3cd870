"""A long import never makes interactive writers fail (DESIGN §10): they wait for the write
lock, which an import takes only to copy rows it has checked and laid out beforehand."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from incubator import eventlog, services, store
from incubator.stages import Conflict, UnknownCompany
from incubator.store import Database
from tests.conftest import OWNER, T0

#: About the ladder, the audit or the metrics, not evidence: the stage gates are off.
pytestmark = pytest.mark.ungated

ROOT = Path(__file__).resolve().parents[2]
HEADER = "company_key,company_name,event,from_stage,to_stage,effective_at,actor,note,reason,sector,site,uscc\n"
GOOD = (
    HEADER
    + "JM-1,Alpha,admit,,seed,2024-01-01,wang,,,biomedicine,钟祥,\n"
    + "JM-1,,advance,seed,nursery,2024-03-01,wang,first pitch,,,,\n"
    + "JM-2,Beta,admit,,incubator,2024-02-01,li,,,green chemicals,京山,\n"
)
MORE = (
    HEADER
    + "JM-1,,advance,nursery,incubator,2024-09-01,wang,,,,,\n"
    + "JM-3,Gamma,admit,,seed,2024-05-01,wang,,,biomedicine,钟祥,\n"
)


def counts(db: Database) -> tuple[int, int, int]:
    with db.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("company", "stage_event", "spell")
        )


def sqlite_path(db: Database) -> str:
    path = db.engine.url.database
    assert db.dialect == "sqlite" and path
    return path


@contextmanager
def write_lock_held(path: str | Path, seconds: float) -> Iterator[threading.Event]:
    """Another connection takes the SQLite write lock now and gives it up after `seconds`;
    the event is set just before it does."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN IMMEDIATE")
    releasing = threading.Event()

    def release() -> None:
        time.sleep(seconds)
        releasing.set()
        holder.execute("COMMIT")

    thread = threading.Thread(target=release)
    thread.start()
    try:
        yield releasing
    finally:
        thread.join()
        holder.close()


def after_chaining(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], Any]) -> None:
    """Run `meanwhile` once the import has checked and chained its rows, before it writes."""
    chain = eventlog._chain

    def chain_then(*args: Any, **kwargs: Any) -> Any:
        plan = chain(*args, **kwargs)
        meanwhile()
        return plan

    monkeypatch.setattr(eventlog, "_chain", chain_then)


# --- SQLite: writers wait ------------------------------------------------------------------


def test_sqlite_writers_wait_up_to_30_seconds_for_the_write_lock(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store.SQLITE_BUSY_TIMEOUT_S == 30
    with sqlite_db.unit() as uow:  # SQLite's own busy handler, for reads
        assert uow.connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    # A writer waits until the timeout (here shortened, for connections made after), then
    # gives up.
    monkeypatch.setattr(store, "SQLITE_BUSY_TIMEOUT_S", 0.4)
    db = Database(str(sqlite_db.engine.url))
    try:
        with write_lock_held(sqlite_path(sqlite_db), 3.0):
            began = time.monotonic()
            with pytest.raises(store.StoreError, match="locked"), db.unit(write=True):
                pass
            waited = time.monotonic() - began
    finally:
        db.dispose()
    assert 0.4 <= waited < 2.5


@pytest.mark.parametrize("action", ["admit", "advance", "exit"])
def test_an_interactive_write_waits_for_a_held_write_lock_instead_of_failing(
    sqlite_db: Database, action: str
) -> None:
    services.admit(sqlite_db, "JM-1", name="A", stage="seed", actor=OWNER, at=T0)
    with write_lock_held(sqlite_path(sqlite_db), 1.0) as releasing:
        if action == "admit":
            services.admit(sqlite_db, "JM-2", name="B", stage="seed", actor=OWNER)
        elif action == "advance":
            services.advance(sqlite_db, "JM-1", actor=OWNER)
        else:
            services.exit_company(sqlite_db, "JM-1", reason="withdrew", actor=OWNER)
        assert releasing.is_set()  # it waited for the lock, and then succeeded
    assert services.verify_audit(sqlite_db).events == 2


def test_a_schema_upgrade_waits_for_a_busy_database_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    db = Database(f"sqlite:///{path}", check_schema=False)
    with write_lock_held(path, 1.0) as releasing:
        # it reads the schema first: begun as a read, it could not wait for the lock to write
        db.upgrade()
        assert releasing.is_set()
    assert store.schema_version(db.engine) == store.SCHEMA_HEAD
    db.dispose()


def test_an_import_checks_and_lays_out_its_rows_before_taking_the_write_lock(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = sqlite_path(sqlite_db)
    seen: list[str] = []

    def probing(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def probe(*args: Any, **kwargs: Any) -> Any:
            result = fn(*args, **kwargs)
            other = sqlite3.connect(path, timeout=0, isolation_level=None)  # no waiting
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                seen.append(f"{name}: the write lock is free")
            except sqlite3.OperationalError as exc:
                seen.append(f"{name}: {exc}")
            finally:
                other.close()
            return result

        return probe

    for name in ("replay", "_chain", "_stage"):
        if hasattr(eventlog, name):
            monkeypatch.setattr(eventlog, name, probing(name, getattr(eventlog, name)))
    services.import_events(sqlite_db, GOOD, actor=OWNER)
    assert seen == [
        "replay: the write lock is free",
        "replay: the write lock is free",
        "_chain: the write lock is free",
        "_stage: the write lock is free",
    ]
    assert counts(sqlite_db) == (2, 3, 3)


# --- a file that changed under the import ----------------------------------------------------


def test_a_company_advanced_while_the_file_was_being_checked_makes_a_conflict_that_writes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.import_events(db, GOOD, actor=OWNER)
    after_chaining(monkeypatch, lambda: services.advance(db, "JM-1", actor=OWNER, note="meanwhile"))
    with pytest.raises(Conflict) as conflict:
        services.import_events(db, MORE, actor=OWNER, source="more.csv")
    assert str(conflict.value) == (
        "conflict: JM-1 changed while more.csv was being imported; nothing was imported; "
        "import the file again"
    )
    assert counts(db) == (2, 4, 4)  # the first file's 3 events and spells, and the advance's
    assert [e.note for e in services.history(db, "JM-1")][-1] == "meanwhile"
    with pytest.raises(UnknownCompany):
        services.show(db, "JM-3")
    assert services.verify_audit(db).ok
    monkeypatch.undo()  # importing again checks the file against the new state
    with pytest.raises(services.ImportRejected, match="JM-1's previous event"):
        services.import_events(db, MORE, actor=OWNER)


def test_a_company_moved_to_another_site_while_the_file_was_being_checked_makes_a_conflict(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.import_events(db, GOOD, actor=OWNER)
    # the import's new spell would carry the old site
    after_chaining(monkeypatch, lambda: services.set_profile(db, "JM-1", actor=OWNER, site="京山"))
    with pytest.raises(Conflict, match="conflict: JM-1 changed while"):
        services.import_events(db, MORE, actor=OWNER)
    assert counts(db) == (2, 3, 3)
    assert services.show(db, "JM-1").site == "京山"
    assert services.verify_audit(db).ok


def test_a_key_admitted_while_the_file_was_being_checked_makes_a_conflict_that_writes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    after_chaining(
        monkeypatch, lambda: services.admit(db, "JM-2", name="Other", stage="seed", actor=OWNER)
    )
    with pytest.raises(Conflict) as conflict:
        services.import_events(db, GOOD, actor=OWNER, source="good.csv")
    assert str(conflict.value) == (
        "conflict: JM-2 was admitted while good.csv was being imported; nothing was imported; "
        "import the file again"
    )
    assert counts(db) == (1, 1, 1)
    assert services.show(db, "JM-2").name == "Other"
    assert services.verify_audit(db).ok


def test_a_company_outside_the_file_may_change_while_the_file_is_being_checked(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.import_events(db, GOOD, actor=OWNER)
    after_chaining(monkeypatch, lambda: services.advance(db, "JM-2", actor=OWNER))
    result = services.import_events(db, MORE, actor=OWNER)
    assert (result.companies_new, result.companies_updated, result.events) == (1, 1, 2)
    assert services.show(db, "JM-1").stage == "incubator"
    assert services.show(db, "JM-2").stage == "accelerator"
    assert services.verify_audit(db).ok


# --- a long import beside a busy interactive writer -------------------------------------------


def write_file(path: Path, companies: int) -> int:
    """Companies IMP-000001 … each admitted, advanced and advanced again: 3 rows each."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(1, companies + 1):
            key, day = f"IMP-{i:06d}", 1 + i % 28
            out.write(
                f"{key},Company {i},admit,,seed,2021-01-{day:02d},a,,,biomedicine,钟祥,\n"
                f"{key},,advance,seed,nursery,2022-02-{day:02d}T10:00:00Z,a,note {i},,,,\n"
                f"{key},,advance,nursery,incubator,2023-03-{day:02d},a,,,,,\n"
            )
    return 3 * companies


@pytest.mark.slow
def test_a_300000_row_import_never_makes_a_concurrent_writer_fail(
    db: Database, tmp_path: Path
) -> None:
    rows = write_file(tmp_path / "big.csv", 100_000)
    stop, log = tmp_path / "stop", tmp_path / "writer.log"
    url = db.engine.url.render_as_string(hide_password=False)
    with log.open("w") as out:  # a file, not a pipe that could fill up and stall the writer
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.steady_writer", url, str(stop), "LIVE"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        while writer.poll() is None and not log.read_text():
            time.sleep(0.05)  # the writer is at work before the import starts
        write_phase: list[float] = []

        def progress(phase: str, done: int, total: int) -> None:
            if phase == "writing" and done in (0, total):
                write_phase.append(time.time())

        result = services.import_events(db, tmp_path / "big.csv", actor=OWNER, progress=progress)
    finally:
        stop.touch()
        writer.wait(timeout=240)
    lines = log.read_text().splitlines()
    assert writer.returncode == 0 and all(line.startswith("ok ") for line in lines), lines
    assert result.events == rows and result.companies_new == rows // 3
    # the writer worked on while the import held the write lock (on SQLite, it waited): an
    # action of its was under way during the write phase. (Not necessarily one that began
    # in it: the writer acts one action at a time, so an action begun just before the lock
    # was taken waits out the whole phase, and no other can begin meanwhile.)
    lock_taken, committed = write_phase
    spans = [(float(line.split()[3]), float(line.split()[4])) for line in lines]
    assert any(start <= committed and end >= lock_taken for start, end in spans)
    admits = sum(line.startswith("ok admit") for line in lines)
    advances = sum(line.startswith("ok advance") for line in lines)
    audit = services.verify_audit(db)
    assert audit.ok, audit
    assert (audit.companies, audit.events) == (rows // 3 + admits, rows + admits + advances)


def test_running_out_of_space_while_staging_is_a_one_line_refusal_that_writes_nothing(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = store.BulkLoad.stage

    def stage_on_a_full_disk(load: store.BulkLoad, *args: Any, **kwargs: Any) -> Any:
        load.connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            "PRAGMA temp.max_page_count = 2"
        )
        return stage(load, *args, **kwargs)

    monkeypatch.setattr(store.BulkLoad, "stage", stage_on_a_full_disk)
    with pytest.raises(store.StoreError) as refused:
        services.import_events(sqlite_db, GOOD, actor=OWNER)
    assert "database or disk is full" in str(refused.value)
    assert len(str(refused.value).splitlines()) == 1
    assert counts(sqlite_db) == (0, 0, 0)
