"""Use cases against real databases (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from incubator import services
from incubator.access import Actor, Role
from incubator.stages import (
    Conflict,
    DuplicateCompany,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
    UnknownCompany,
)
from incubator.store import Database
from tests.conftest import OWNER, T0

#: About the ladder, the audit or the metrics, not evidence: the stage gates are off.
pytestmark = pytest.mark.ungated

MakeCompany = Callable[..., services.CompanyView]


def snapshot(db: Database) -> tuple[list[services.CompanyView], int, list[tuple[object, ...]]]:
    """Everything a refused action must leave untouched."""
    with db.engine.connect() as conn:
        spells = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM spell ORDER BY id")]
        events = conn.exec_driver_sql("SELECT count(*) FROM stage_event").scalar() or 0
    return services.list_companies(db), events, spells


def test_admit_records_the_first_event_and_the_company(db: Database) -> None:
    event = services.admit(
        db, "JM-0042", name="荆门智造", stage="seed", actor=OWNER, at="2024-03-01",
        sector="biomedicine", site="钟祥", uscc="91350100M000100Y43", note="pitch day",
    )  # fmt: skip
    assert (event.kind, event.from_stage, event.to_stage) == ("admit", None, "seed")
    company = services.show(db, "JM-0042")
    assert company.to_json() == {
        "key": "JM-0042",
        "name": "荆门智造",
        "stage": "seed",
        "sector": "biomedicine",
        "site": "钟祥",
        "uscc": "91350100M000100Y43",
        "entered_stage_at": "2024-03-01T00:00:00+00:00",
        "admitted_at": "2024-03-01T00:00:00+00:00",
        "cohort": 2024,
        "events": 1,
        "founded_on": None,
    }
    [only] = services.history(db, "JM-0042")
    assert only.actor == "tester" and only.note == "pitch day"


def test_a_company_climbs_the_whole_ladder_and_exits(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001")
    for months, expected in enumerate(
        ["nursery", "incubator", "accelerator", "industrial_park"], 1
    ):
        moved = services.advance(db, "JM-0001", actor=OWNER, at=T0 + timedelta(days=30 * months))
        assert moved.to_stage == expected
    services.exit_company(db, "JM-0001", reason="listed", actor=OWNER, at=T0 + timedelta(days=200))
    kinds = [(e.kind, e.from_stage, e.to_stage, e.reason) for e in services.history(db, "JM-0001")]
    assert kinds == [
        ("admit", None, "seed", None),
        ("advance", "seed", "nursery", None),
        ("advance", "nursery", "incubator", None),
        ("advance", "incubator", "accelerator", None),
        ("advance", "accelerator", "industrial_park", None),
        ("exit", "industrial_park", "exited", "listed"),
    ]
    assert services.show(db, "JM-0001").stage == "exited"


def test_advance_from_industrial_park_is_refused_and_writes_nothing(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("industrial_park", key="JM-0042")
    before = snapshot(db)
    with pytest.raises(InvalidTransition, match="JM-0042 is in industrial_park; allowed: exit"):
        services.advance(db, "JM-0042", actor=OWNER)
    assert snapshot(db) == before


def test_an_exited_company_cannot_move_again(db: Database, make_company: MakeCompany) -> None:
    make_company("nursery", key="JM-0042")
    services.exit_company(db, "JM-0042", reason="failed", actor=OWNER, at=T0 + timedelta(days=3))
    with pytest.raises(InvalidTransition, match="JM-0042 is in exited; allowed: nothing"):
        services.advance(db, "JM-0042", actor=OWNER)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda db: services.advance(db, "JM-9999", actor=OWNER), UnknownCompany, "JM-9999"),
        (
            lambda db: services.exit_company(db, "JM-0001", reason="", actor=OWNER),
            InvalidInput,
            "an exit needs a reason; allowed: failed, withdrew, relocated, acquired, listed, other",
        ),
        (
            lambda db: services.exit_company(db, "JM-0001", reason="bored", actor=OWNER),
            InvalidInput,
            "unknown exit reason 'bored'",
        ),
        (
            lambda db: services.advance(db, "JM-0001", actor=OWNER, at="2023-12-31"),
            InvalidInput,
            "cannot advance JM-0001 (in seed): effective time 2023-12-31T00:00:00+00:00 is "
            "before the previous event at 2024-01-01",
        ),
        (
            lambda db: services.advance(
                db, "JM-0001", actor=OWNER, at=datetime.now(UTC) + timedelta(hours=1)
            ),
            InvalidInput,
            "lies in the future",
        ),
        (
            lambda db: services.advance(db, "JM-0001", actor=OWNER, at="yesterday"),
            InvalidInput,
            "cannot read 'yesterday' as a date",
        ),
        (
            lambda db: services.admit(db, "JM-0001", name="again", stage="seed", actor=OWNER),
            DuplicateCompany,
            "company key 'JM-0001' is already taken",
        ),
        (
            lambda db: services.admit(db, "JM-0002", name="x", stage="garage", actor=OWNER),
            InvalidInput,
            "unknown stage 'garage'",
        ),
        (
            lambda db: services.advance(db, "JM-0001", actor=OWNER, note="a\x00b"),
            InvalidInput,
            "NUL character",
        ),
        (
            lambda db: services.admit(db, "JM-0002", name="  ", stage="seed", actor=OWNER),
            InvalidInput,
            "needs a name",
        ),
        (
            lambda db: services.admit(
                db, "JM-0002", name="x", stage="seed", actor=OWNER, uscc="91350100M000100Y44"
            ),
            InvalidInput,
            "last character should be '3'",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_writes_nothing(
    db: Database,
    make_company: MakeCompany,
    call: Callable[[Database], object],
    error: type[Exception],
    message: str,
) -> None:
    make_company("seed", key="JM-0001")
    before = snapshot(db)
    with pytest.raises(error, match=re.escape(message)):
        call(db)
    assert snapshot(db) == before


def test_a_small_clock_skew_is_tolerated(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0001")
    ahead = datetime.now(UTC) + timedelta(minutes=4)
    assert services.advance(db, "JM-0001", actor=OWNER, at=ahead).effective_at == ahead
    # A move "now" right after it is not refused as earlier than that event.
    assert services.advance(db, "JM-0001", actor=OWNER).effective_at == ahead


@pytest.mark.parametrize(
    ("actor", "extra", "message"),
    [
        (Actor("  ", Role.OWNER), {}, "the actor's name cannot be blank"),
        (Actor("x" * 121, Role.OWNER), {}, "the actor's name has 121 characters; at most 120"),
        (Actor("wang\nli", Role.OWNER), {}, "contains U+000A LINE FEED, a line break"),
        (OWNER, {"sector": "s" * 130}, "the sector has 130 characters"),
        (OWNER, {"site": "钟祥\n"}, None),
        (OWNER, {"note": "bad \udcff byte"}, "the note is not valid UTF-8"),
    ],
)
def test_actors_sectors_and_sites_are_short_one_line_labels(
    db: Database, actor: Actor, extra: dict[str, str], message: str | None
) -> None:
    if message is None:  # a trailing line break is trimmed, like other blanks
        services.admit(db, "JM-0001", name="A", stage="seed", actor=actor, **extra)
        assert services.show(db, "JM-0001").site == "钟祥"
        return
    with pytest.raises(InvalidInput, match=f"cannot admit JM-0001: .*{re.escape(message)}"):
        services.admit(db, "JM-0001", name="A", stage="seed", actor=actor, **extra)
    assert services.list_companies(db) == []


def test_actor_names_are_recorded_trimmed(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0001")
    assert services.advance(db, "JM-0001", actor=Actor(" wang ", Role.OWNER)).actor == "wang"


def test_backdated_moves_are_allowed_after_the_previous_event(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", at=T0)
    moved = services.advance(db, "JM-0001", actor=OWNER, at="2024-01-01")  # same instant: fine
    assert moved.effective_at == T0
    assert moved.recorded_at > T0  # recorded_at is the system's clock, not the effective time


def test_from_stage_turns_a_stale_action_into_a_conflict(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("nursery", key="JM-0001")
    services.advance(db, "JM-0001", actor=OWNER, seen="nursery")
    before = snapshot(db)
    with pytest.raises(Conflict, match="JM-0001 is no longer in nursery; it is in incubator now"):
        services.advance(db, "JM-0001", actor=OWNER, seen="nursery")
    with pytest.raises(Conflict):
        services.exit_company(db, "JM-0001", reason="failed", actor=OWNER, seen="nursery")
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "name",
    [
        'Robert"); DROP TABLE company;--',
        "O'Brien & Sons, Ltd.",
        '荆门"银鹤"机器人有限公司',
        "emoji 🚀 inside",
    ],
)
def test_names_and_notes_are_stored_verbatim(db: Database, name: str) -> None:
    services.admit(db, "JM-0001", name=name, stage="seed", actor=OWNER, at=T0, note=name)
    assert services.show(db, "JM-0001").name == name
    assert services.history(db, "JM-0001")[0].note == name


def test_notes_keep_their_tabs_and_line_breaks(db: Database) -> None:
    note = "first line\n\tindented\r\nwindows line"
    services.admit(db, "JM-0001", name="A", stage="seed", actor=OWNER, at=T0, note=note)
    assert services.history(db, "JM-0001")[0].note == note


def test_list_filters_and_orders_by_key(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0003", site="京山")
    make_company("incubator", key="JM-0001", site="钟祥")
    make_company("incubator", key="JM-0002", site="京山")
    assert [c.key for c in services.list_companies(db)] == ["JM-0001", "JM-0002", "JM-0003"]
    assert [c.key for c in services.list_companies(db, stage="incubator")] == ["JM-0001", "JM-0002"]
    assert [c.key for c in services.list_companies(db, site="京山")] == ["JM-0002", "JM-0003"]


def test_spells_follow_every_move(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0001", at=T0)
    services.advance(db, "JM-0001", actor=OWNER, at=T0 + timedelta(days=10))
    services.exit_company(db, "JM-0001", reason="withdrew", actor=OWNER, at=T0 + timedelta(days=20))
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT stage, end_us - start_us, end_kind, exit_reason FROM spell ORDER BY start_us"
        ).all()
    day = 86_400 * 10**6
    assert [tuple(r) for r in rows] == [
        ("seed", 10 * day, "advance", None),
        ("nursery", 10 * day, "exit", "withdrew"),
    ]


# --- access --------------------------------------------------------------------------------

MANAGER_ZX = Actor("li.na", Role.MANAGER, "钟祥")
MANAGER_ALL = Actor("zhao", Role.MANAGER, None)
VIEWER = Actor("guest", Role.VIEWER, None)
ADMIN = Actor("root", Role.ADMIN, None)


def test_a_manager_of_one_site_cannot_move_another_sites_company(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", site="京山")
    before = snapshot(db)
    with pytest.raises(
        PermissionDenied, match="li.na manages site 钟祥 and cannot advance JM-0001"
    ):
        services.advance(db, "JM-0001", actor=MANAGER_ZX)
    with pytest.raises(PermissionDenied):
        services.admit(db, "JM-0002", name="x", stage="seed", site="京山", actor=MANAGER_ZX)
    assert snapshot(db) == before


def test_managers_write_their_own_site_and_site_less_managers_write_all(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", site="钟祥")
    make_company("seed", key="JM-0002", site="京山")
    assert services.advance(db, "JM-0001", actor=MANAGER_ZX).actor == "li.na"
    assert services.advance(db, "JM-0002", actor=MANAGER_ALL).actor == "zhao"


def test_a_viewer_cannot_write_anything(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0001")
    before = snapshot(db)
    with pytest.raises(PermissionDenied, match="guest is a viewer"):
        services.admit(db, "JM-0002", name="x", stage="seed", actor=VIEWER)
    with pytest.raises(PermissionDenied):
        services.exit_company(db, "JM-0001", reason="failed", actor=VIEWER)
    assert snapshot(db) == before


def test_only_admins_import_and_manage_users(db: Database) -> None:
    csv_text = (
        "company_key,company_name,event,to_stage,effective_at\nJM-1,A,admit,seed,2024-01-01\n"
    )
    with pytest.raises(PermissionDenied, match="only admins"):
        services.import_events(db, csv_text, actor=MANAGER_ALL)
    with pytest.raises(PermissionDenied):
        services.add_user(db, "x", role="viewer", password="long-enough-pw", actor=MANAGER_ALL)
    assert services.list_companies(db) == [] and services.list_users(db) == []
    services.import_events(db, csv_text, actor=ADMIN)
    assert services.history(db, "JM-1")[0].actor == "root"


# --- users ---------------------------------------------------------------------------------


def test_users_sign_in_with_their_password_only(db: Database, make_company: MakeCompany) -> None:
    make_company(site="钟祥")
    services.add_user(
        db, "li.na", role="manager", site="钟祥", password="correct horse", actor=OWNER
    )
    actor = services.sign_in(db, "li.na", "correct horse").actor
    assert actor == Actor("li.na", Role.MANAGER, "钟祥")
    with pytest.raises(services.AuthenticationFailed, match="wrong user name or password"):
        services.sign_in(db, "li.na", "wrong password")
    with pytest.raises(services.AuthenticationFailed, match="wrong user name or password"):
        services.sign_in(db, "nobody", "correct horse")


def test_passwords_are_stored_as_argon2_hashes(db: Database) -> None:
    services.add_user(db, "li.na", role="viewer", password="correct horse", actor=OWNER)
    with db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM app_user").scalar()
    assert stored.startswith("$argon2") and "correct horse" not in stored
    assert "password" not in services.list_users(db)[0].to_json()


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("a'; DROP TABLE app_user;--", "viewer", "long-enough-pw", "user name"),
        ("li", "superuser", "long-enough-pw", "unknown role 'superuser'; allowed: viewer"),
        ("li", "owner", "long-enough-pw", "unknown role"),
        ("li", "viewer", "short", "at least 10"),
    ],
)
def test_bad_user_input_is_refused(
    db: Database, name: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        services.add_user(db, name, role=role, password=password, actor=OWNER)
    assert services.list_users(db) == []


def test_user_names_are_unique(db: Database) -> None:
    services.add_user(db, "li", role="viewer", password="long-enough-pw", actor=OWNER)
    with pytest.raises(InvalidInput, match="already exists"):
        services.add_user(db, "li", role="admin", password="long-enough-pw", actor=OWNER)


# --- board and search ----------------------------------------------------------------------


def test_the_board_counts_every_stage_and_lists_the_longest_stays_first(
    db: Database, make_company: MakeCompany
) -> None:
    for day, key in enumerate(["JM-0003", "JM-0001", "JM-0002"]):
        make_company("incubator", key=key, at=T0 + timedelta(days=day))
    make_company("seed", key="JM-0009", site="京山")
    columns = services.board(db, per_stage=2)
    assert [c.stage.value for c in columns] == [
        "seed", "nursery", "incubator", "accelerator", "industrial_park",
    ]  # fmt: skip
    incubator = columns[2]
    assert (incubator.total, incubator.more) == (3, 1)
    assert [c.key for c in incubator.companies] == ["JM-0003", "JM-0001"]
    assert [c.total for c in services.board(db, site="京山")] == [1, 0, 0, 0, 0]


def test_search_matches_key_or_name_case_insensitively_and_literally(
    db: Database, make_company: MakeCompany
) -> None:
    make_company(key="JM-0001", name="Jingmen Bioworks")
    make_company(key="JM-0002", name="荆门智造 100%")
    make_company(key="XY-0003", name="bio_tech")
    found, total = services.search_companies(db, "BIO")
    assert ([c.key for c in found], total) == (["JM-0001", "XY-0003"], 2)
    assert [c.key for c in services.search_companies(db, "智造")[0]] == ["JM-0002"]
    assert [c.key for c in services.search_companies(db, "0%")[0]] == ["JM-0002"]
    assert [c.key for c in services.search_companies(db, "i_w")[0]] == []  # _ is no wildcard
    assert [c.key for c in services.search_companies(db, "o_t")[0]] == ["XY-0003"]
    assert services.search_companies(db, "jm-", limit=1)[1] == 2


def test_a_move_reads_the_company_as_every_other_read_does(
    db: Database, make_company: MakeCompany
) -> None:
    """A move reads its company through the driver (`company_to_move`): the same record,
    aware UTC times and a date included, as `company()` reads through SQLAlchemy."""
    make_company("seed", key="JM-0042", founded="2023-05-04")
    services.advance(db, "JM-0042", actor=OWNER, at=T0 + timedelta(days=3, microseconds=7))
    with db.unit(write=True) as uow:
        moved = uow.company_to_move("JM-0042")
        read = uow.company("JM-0042")
        assert uow.company_to_move("jm-0042") is None  # exactly this key; `_locked` folds
    assert moved == read
    assert moved is not None and moved.founded_on is not None
    assert moved.entered_stage_at == T0 + timedelta(days=3, microseconds=7)
    assert moved.entered_stage_at.tzinfo == UTC and moved.admitted_at.tzinfo == UTC


def test_a_move_records_the_event_spells_and_company_in_step(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0042")
    services.advance(db, "jm-0042", actor=OWNER, at=T0 + timedelta(days=1), note="a")
    services.exit_company(db, "JM-0042", reason="other", actor=OWNER, at=T0 + timedelta(days=2))
    with db.engine.connect() as conn:
        spells = [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT stage, end_kind, exit_reason FROM spell ORDER BY id"
            )
        ]
    assert spells == [("seed", "advance", None), ("nursery", "exit", "other")]
    company = services.show(db, "JM-0042")
    assert (company.stage, company.events) == ("exited", 3)
    assert company.entered_stage_at == T0 + timedelta(days=2)
    assert services.verify_audit(db).ok  # the chain, the company row and the spells agree
