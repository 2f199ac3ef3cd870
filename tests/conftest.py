"""Shared fixtures: real databases (a temporary SQLite file, and a throwaway PostgreSQL
schema when INCUBATOR_TEST_DATABASE_URL is set) and one-line factories."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from incubator import services
from incubator.access import Actor, cli_owner
from incubator.stages import LADDER
from incubator.store import Database

PG_URL = os.environ.get("INCUBATOR_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def make_database(tmp_path: Path) -> Iterator[Callable[[str], Database]]:
    """Make an empty, migrated database of the given backend (at the newest schema, or at
    `revision`); cleaned up after the test."""
    made: list[tuple[Database, str | None]] = []

    def make(backend: str = "sqlite", revision: str = "head") -> Database:
        if backend == "sqlite":
            db = Database(f"sqlite:///{tmp_path / f'test-{len(made)}.db'}", check_schema=False)
            made.append((db, None))
        else:
            if not PG_URL:
                pytest.skip("set INCUBATOR_TEST_DATABASE_URL to run the PostgreSQL tests")
            schema = f"t_{uuid.uuid4().hex[:12]}"
            admin = Database(PG_URL, check_schema=False)
            with admin.engine.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            admin.dispose()
            db = Database(_pg_schema_url(PG_URL, schema), check_schema=False)
            made.append((db, schema))
        db.upgrade(revision)
        return db

    yield make
    for db, schema in made:
        db.dispose()
        if schema:
            admin = Database(PG_URL, check_schema=False)
            with admin.engine.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()


#: The sites the tests' companies and managers name (the demo's four). Every database a test
#: brings to the newest schema (`make_database`, `incubator init` run in the test's process)
#: has them in its site registry, as if an admin had added them first (DESIGN §9: an unknown
#: site is refused).
#: A test about that refusal names a site not in this list; a test with other sites
#: registers them with `register_sites`.
TEST_SITES = ("高新区", "钟祥", "京山", "沙洋")


def register_sites(db: Database, *names: str) -> None:
    """Register each site (kind mixed, level none) that is not registered yet."""
    from incubator import sites

    sites.register_sites(db, [(n, "mixed", "none") for n in names], actor=cli_owner("tester"))


@pytest.fixture(autouse=True)
def _test_sites_registered(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """See `TEST_SITES`: registered right after a database is brought to the newest schema
    (not for a test marked `empty_registry`)."""
    from incubator.store import SCHEMA_HEAD

    if request.node.get_closest_marker("empty_registry"):
        return
    upgrade = Database.upgrade

    def upgrade_and_register(self: Database, revision: str = "head") -> tuple[str | None, str]:
        before, after = upgrade(self, revision)
        if before != after == SCHEMA_HEAD:
            register_sites(self, *TEST_SITES)
        return before, after

    monkeypatch.setattr(Database, "upgrade", upgrade_and_register)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, make_database: Callable[[str], Database]) -> Database:
    """An empty migrated database, once on SQLite and once on PostgreSQL (when configured)."""
    return make_database(request.param)


@pytest.fixture
def sqlite_db(make_database: Callable[[str], Database]) -> Database:
    return make_database("sqlite")


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its lowest cost, so that tests that sign in often stay quick; a test marked
    `real_password_hashing` (timing) keeps the production cost."""
    if request.node.get_closest_marker("real_password_hashing"):
        return
    from argon2 import PasswordHasher

    from incubator import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", lambda: cheap)


OWNER = cli_owner("tester")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
#: The gate policy that turns every gate off (DESIGN §8: `{"gates": []}`).
NO_GATES: dict[str, Any] = {"gates": []}


def ungate(db: Database) -> Database:
    """Turn the stage gates off on `db` (policy `{"gates": []}`), for a test about the
    ladder, the audit, the metrics or the UI rather than evidence; the gates themselves are
    tested with the default policy (tests/*/test_evidence*.py, test_gates*.py)."""
    services.policy_set(db, NO_GATES, actor=OWNER)
    return db


@pytest.fixture(autouse=True)
def _ungated(request: pytest.FixtureRequest) -> None:
    """`@pytest.mark.ungated`: the test's `db` runs with the stage gates off (`ungate`)."""
    if request.node.get_closest_marker("ungated") and "db" in request.fixturenames:
        ungate(request.getfixturevalue("db"))


@pytest.fixture
def make_company(db: Database) -> Callable[..., services.CompanyView]:
    """`make_company(stage="incubator")`: admit a company (keys JM-0001, JM-0002, ...)."""
    counter = iter(range(1, 1_000_000))

    def make(
        stage: str = "seed",
        *,
        key: str | None = None,
        name: str | None = None,
        site: str = "钟祥",
        sector: str = "biomedicine",
        at: datetime = T0,
        actor: Actor = OWNER,
        **extra: Any,
    ) -> services.CompanyView:
        key = key or f"JM-{next(counter):04d}"
        services.admit(
            db,
            key,
            name=name or f"Company {key}",
            stage=stage,
            actor=actor,
            at=at,
            site=site,
            sector=sector,
            **extra,
        )
        return services.show(db, key)

    return make


assert LADDER  # the ladder is importable without a database


#: The benchmark scripts (`bench/`), which the tests of their baselines import.
BENCH = Path(__file__).resolve().parent.parent / "bench"


def bench_module(name: str) -> ModuleType:
    """`bench/<name>.py` imported as the module `bench_<name>`, with `bench/` on the path while
    it loads (the scripts import one another by name)."""
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module
