"""Company users (issue 9 item 5) on SQLite and PostgreSQL: an account bound to one company
reads only that company and records only its annual figures; the service layer refuses
everything else. Schema 0007 adds the binding to a database in use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from incubator import accounts, metrics, services, store
from incubator.access import Actor, Role, cli_owner
from incubator.stages import InvalidInput, PermissionDenied, UnknownCompany
from incubator.store import SCHEMA_HEAD, Database, schema_version
from tests.conftest import BACKENDS, register_sites, ungate

pytestmark = pytest.mark.ungated
OWNER = cli_owner("tester")
PASSWORD = "company-pass-2026"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def admit(db: Database, key: str, site: str = "钟祥", stage: str = "incubator") -> None:
    services.admit(db, key, name=f"企业 {key}", stage=stage, site=site, actor=OWNER, at=T0)


@pytest.fixture
def bound(db: Database) -> Actor:
    """Two companies of 钟祥 (JM-0001, JM-0002) and the company user `c1` of JM-0001, as
    signing in makes them."""
    admit(db, "JM-0001")
    admit(db, "JM-0002")
    services.add_user(db, "c1", role="company", company="jm-0001", password=PASSWORD, actor=OWNER)
    return services.sign_in(db, "c1", PASSWORD).actor


def test_a_company_user_is_bound_to_an_existing_company_found_in_any_case(
    db: Database, bound: Actor
) -> None:
    assert bound == Actor("c1", Role.COMPANY, None, "JM-0001")
    (user,) = [u for u in services.list_users(db) if u.name == "c1"]
    assert (user.role, user.site, user.company) == ("company", None, "JM-0001")
    assert user.to_json()["company"] == "JM-0001"
    with pytest.raises(UnknownCompany, match="no company with key 'JM-9999'"):
        services.add_user(db, "c2", role="company", company="JM-9999", password=PASSWORD,
                          actor=OWNER)  # fmt: skip
    with pytest.raises(InvalidInput, match="needs the key of their company"):
        services.add_user(db, "c2", role="company", password=PASSWORD, actor=OWNER)
    with pytest.raises(InvalidInput, match="only a company user is bound to a company"):
        services.add_user(db, "c2", role="manager", company="JM-0001", password=PASSWORD,
                          actor=OWNER)  # fmt: skip
    with pytest.raises(InvalidInput, match="a company user has no site"):
        services.add_user(db, "c2", role="company", company="JM-0001", site="钟祥",
                          password=PASSWORD, actor=OWNER)  # fmt: skip
    assert "c2" not in {u.name for u in services.list_users(db)}


def test_set_user_rebinds_unbinds_with_another_role_and_refuses_unknown_companies(
    db: Database, bound: Actor
) -> None:
    assert services.set_user(db, "c1", company="jm-0002", actor=OWNER).company == "JM-0002"
    with pytest.raises(UnknownCompany):
        services.set_user(db, "c1", company="JM-0404", actor=OWNER)
    with pytest.raises(InvalidInput, match="needs the key"):
        services.set_user(db, "c1", company="", actor=OWNER)
    viewer = services.set_user(db, "c1", role="viewer", actor=OWNER)
    assert (viewer.role, viewer.company) == ("viewer", None)
    with pytest.raises(InvalidInput, match="only a company user"):
        services.set_user(db, "c1", company="JM-0001", actor=OWNER)
    with pytest.raises(InvalidInput, match="needs the key"):
        services.set_user(db, "c1", role="company", actor=OWNER)
    back = services.set_user(db, "c1", role="company", company="JM-0001", actor=OWNER)
    assert (back.role, back.company) == ("company", "JM-0001")


def test_the_session_carries_the_binding_as_it_is_now(db: Database, bound: Actor) -> None:
    token = services.sign_in(db, "c1", PASSWORD).token
    services.set_user(db, "c1", company="JM-0002", actor=OWNER)
    actor = services.session_actor(db, token)
    assert actor is not None and actor.company == "JM-0002"


def test_a_company_user_reads_their_own_company_in_any_case(db: Database, bound: Actor) -> None:
    assert services.show(db, "jm-0001", actor=bound).key == "JM-0001"
    assert [e.kind for e in services.history(db, "JM-0001", actor=bound)] == ["admit"]
    assert services.facts(db, "JM-0001", actor=bound).key == "JM-0001"
    assert services.records(db, "JM-0001", actor=bound)
    assert services.gate_check(db, "JM-0001", actor=bound).key == "JM-0001"


@pytest.mark.parametrize(
    "read",
    [
        lambda db, a: services.show(db, "JM-0002", actor=a),
        lambda db, a: services.history(db, "JM-0002", actor=a),
        lambda db, a: services.facts(db, "JM-0002", actor=a),
        lambda db, a: services.records(db, "JM-0002", actor=a),
        lambda db, a: services.gate_check(db, "JM-0002", actor=a),
        # a key that does not exist is refused the same way: no hint whether it exists
        lambda db, a: services.show(db, "JM-0404", actor=a),
    ],
    ids=["show", "history", "facts", "records", "gate_check", "unknown_key"],
)
def test_a_company_user_cannot_read_another_company(
    db: Database, bound: Actor, read: Callable[[Database, Actor], object]
) -> None:
    with pytest.raises(PermissionDenied, match="c1 is the company user of JM-0001 and cannot"):
        read(db, bound)


@pytest.mark.parametrize(
    "read",
    [
        lambda db, a: services.list_companies(db, actor=a),
        lambda db, a: services.board(db, actor=a),
        lambda db, a: services.search_companies(db, "JM", actor=a),
        lambda db, a: services.filter_options(db, actor=a),
        lambda db, a: services.audit_log(db, reader=a),
        lambda db, a: services.record_log(db, reader=a),
        lambda db, a: metrics.funnel(db, actor=a),
        lambda db, a: metrics.dwell(db, actor=a),
        lambda db, a: metrics.dwell_quantiles(db, actor=a),
        lambda db, a: metrics.throughput(db, actor=a),
        lambda db, a: metrics.stuck(db, actor=a),
        lambda db, a: services.list_users(db, actor=a),
    ],
    ids=[
        "list", "board", "search", "filter_options", "audit_log", "record_log", "funnel",
        "dwell", "dwell_quantiles", "throughput", "stuck", "users",
    ],
)  # fmt: skip
def test_a_company_user_cannot_read_lists_metrics_the_audit_or_users(
    db: Database, bound: Actor, read: Callable[[Database, Actor], object]
) -> None:
    with pytest.raises(PermissionDenied, match="company users see only their own company"):
        read(db, bound)


def test_a_company_user_records_their_figures_as_the_actor(db: Database, bound: Actor) -> None:
    record = services.record_figures(
        db, "jm-0001", year=2025, values={"revenue": "1200000", "employees": 12}, actor=bound
    )
    assert (record.key, record.kind, record.actor) == ("JM-0001", "figures", "c1")
    figures = services.facts(db, "JM-0001").facts.figures_of(2025)
    assert figures is not None and dict(figures.values) == {"revenue": 1_200_000, "employees": 12}
    # validated as the CLI's `incubator figures`: PhDs above employees, nothing written
    before = len(services.records(db, "JM-0001"))
    with pytest.raises(InvalidInput, match="cannot exceed employees"):
        services.record_figures(
            db, "JM-0001", year=2025, values={"employees": 3, "employees_phd": 5}, actor=bound
        )
    assert len(services.records(db, "JM-0001")) == before


@pytest.mark.parametrize(
    "write",
    [
        lambda db, a: services.record_figures(db, "JM-0002", year=2025,
                                              values={"revenue": 1}, actor=a),
        lambda db, a: services.record_financing(db, "JM-0001", amount=100, on="2025-01-02",
                                                actor=a),
        lambda db, a: services.record_founding(db, "JM-0001", founded_on="2020-01-02", actor=a),
        lambda db, a: services.record_milestone(db, "JM-0001", "listed", on="2025-01-02",
                                                actor=a),
        lambda db, a: services.advance(db, "JM-0001", actor=a),
        lambda db, a: services.exit_company(db, "JM-0001", reason="relocated", actor=a),
        lambda db, a: services.set_profile(db, "JM-0001", name="新名字", actor=a),
        lambda db, a: services.admit(db, "JM-0003", name="x", stage="seed", site="钟祥",
                                     actor=a),
        lambda db, a: services.add_user(db, "c9", role="viewer", password=PASSWORD, actor=a),
        lambda db, a: services.put_setting(db, "stuck_limits", "{}", actor=a),
    ],
    ids=[
        "other_company_figures", "financing", "founding", "milestone", "advance", "exit",
        "profile", "admit", "add_user", "setting",
    ],
)  # fmt: skip
def test_a_company_user_writes_nothing_but_their_own_figures(
    db: Database, bound: Actor, write: Callable[[Database, Actor], object]
) -> None:
    before = services.audit_log(db), services.record_log(db)
    with pytest.raises(PermissionDenied, match="c1 is "):
        write(db, bound)
    assert (services.audit_log(db), services.record_log(db)) == before


def test_a_company_users_figures_take_it_off_the_missing_figures_checks(
    db: Database, bound: Actor
) -> None:
    def missing(year: int) -> set[str]:
        report = services.torch_report(db, year)
        return {c.key for c in report.checks if c.check == "missing_figures"}

    assert missing(2025) == {"JM-0001", "JM-0002"}
    services.record_figures(db, "JM-0001", year=2025, values={"revenue": 900_000}, actor=bound)
    assert missing(2025) == {"JM-0002"}
    assert missing(2024) == {"JM-0001", "JM-0002"}  # another year's figures are still missing


@pytest.mark.parametrize("backend", BACKENDS)
def test_schema_0007_adds_the_company_binding_to_a_database_in_use(
    make_database: Callable[..., Database], backend: str
) -> None:
    db = make_database(backend, "0006")
    assert schema_version(db.engine) == "0006"
    register_sites(db, "钟祥")
    ungate(db)
    admit(db, "JM-0001")
    # an account as schema 0006 wrote it (the model of today has the new column)
    with db.engine.begin() as conn:
        conn.execute(
            insert(store.USER).values(
                name="li", role="manager", site="钟祥", created_at=T0,
                password_hash=accounts._hasher().hash(PASSWORD),
            )
        )  # fmt: skip
    assert db.upgrade() == ("0006", SCHEMA_HEAD) and SCHEMA_HEAD >= "0007"
    (user,) = services.list_users(db)
    assert (user.name, user.role, user.site, user.company) == ("li", "manager", "钟祥", None)
    services.add_user(db, "c1", role="company", company="JM-0001", password=PASSWORD,
                      actor=OWNER)  # fmt: skip
    assert services.sign_in(db, "c1", PASSWORD).actor.company == "JM-0001"
    assert services.sign_in(db, "li", PASSWORD).actor.site == "钟祥"
    db.upgrade("0006")  # and back: the column goes, the accounts stay
    with db.engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM app_user")}
    assert names == {"li", "c1"}
