"""Changing a company's name, sector, site or USCC: a chained profile record, with the
company row and its spells kept in step (`incubator company set`)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from incubator import metrics, services
from incubator.access import Actor, Role
from incubator.metrics import Filters
from incubator.stages import InvalidInput, PermissionDenied, UnknownCompany
from incubator.store import Database
from tests.conftest import OWNER

MakeCompany = Callable[..., services.CompanyView]
WANG = Actor("wang", Role.MANAGER, "钟祥")


def records(db: Database, key: str) -> list[tuple[int, str, dict[str, object], str, str]]:
    with db.unit() as uow:
        company = uow.company(key)
        assert company is not None
        return [
            (f.seq, f.kind, json.loads(f.payload), f.actor, f.note)
            for f in uow.facts_of(company.id)
        ]


def spell_sites(db: Database, key: str) -> set[tuple[str, str]]:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT site, sector FROM spell WHERE company_id = "
            f"(SELECT id FROM company WHERE key = '{key}')"
        )
        return {(site, sector) for site, sector in rows}


def test_admit_writes_the_first_profile_record(db: Database) -> None:
    services.admit(
        db, "JM-0042", name="荆门智造", stage="seed", actor=OWNER, sector="biomedicine",
        site="钟祥", uscc="91350100M000100Y43",
    )  # fmt: skip
    assert records(db, "JM-0042") == [
        (
            1,
            "profile",
            {
                "name": "荆门智造",
                "sector": "biomedicine",
                "site": "钟祥",
                "uscc": "91350100M000100Y43",
            },
            "tester",
            "",
        )
    ]


def test_an_import_writes_a_profile_record_for_each_new_company(db: Database) -> None:
    services.import_events(
        db,
        "company_key,company_name,event,to_stage,effective_at,actor,sector,site\n"
        "JM-1,Alpha,admit,seed,2024-01-01,wang,biomedicine,钟祥\n"
        "JM-1,,advance,nursery,2024-02-01,wang,,\n",
        actor=OWNER,
    )
    assert records(db, "JM-1") == [
        (1, "profile", {"name": "Alpha", "sector": "biomedicine", "site": "钟祥", "uscc": None}, "wang", "")
    ]  # fmt: skip
    # extending an existing company adds events, not profile records
    services.import_events(
        db,
        "company_key,event,to_stage,effective_at\nJM-1,advance,incubator,2024-03-01\n",
        actor=OWNER,
    )
    assert len(records(db, "JM-1")) == 1
    assert services.verify_audit(db).ok


def test_a_site_change_is_recorded_and_the_metrics_follow(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", site="钟祥")
    services.advance(db, "JM-0001", actor=OWNER)
    view = services.set_profile(
        db, "JM-0001", site="京山", sector="organic food", actor=OWNER, note="moved"
    )
    assert (view.site, view.sector) == ("京山", "organic food")
    assert services.show(db, "JM-0001").site == "京山"
    assert records(db, "JM-0001")[1] == (
        2, "profile", {"sector": "organic food", "site": "京山"}, "tester", "moved"
    )  # fmt: skip
    assert spell_sites(db, "JM-0001") == {("京山", "organic food")}
    funnel = metrics.funnel(db, filters=Filters(site="京山"))
    assert [s["entered"] for s in funnel["stages"]][:2] == [1, 1]
    assert all(
        s["entered"] == 0 for s in metrics.funnel(db, filters=Filters(site="钟祥"))["stages"]
    )
    assert services.verify_audit(db).ok


def test_only_the_fields_that_change_are_recorded(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0001", site="钟祥", name="Alpha")
    services.set_profile(db, "JM-0001", name="Beta", site="钟祥", actor=OWNER)
    assert records(db, "JM-0001")[-1][2] == {"name": "Beta"}
    with pytest.raises(InvalidInput, match="^cannot change JM-0001: it has these values already"):
        services.set_profile(db, "JM-0001", name="Beta", actor=OWNER)
    assert len(records(db, "JM-0001")) == 2


def test_a_uscc_is_checked_and_can_be_cleared(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0001")
    with pytest.raises(
        InvalidInput, match="^cannot change JM-0001: USCC .* fails the GB 32100-2015"
    ):
        services.set_profile(db, "JM-0001", uscc="91350100M000100Y44", actor=OWNER)
    services.set_profile(db, "JM-0001", uscc="91350100m000100y43", actor=OWNER)
    assert services.show(db, "JM-0001").uscc == "91350100M000100Y43"
    services.set_profile(db, "JM-0001", uscc="", actor=OWNER)
    assert services.show(db, "JM-0001").uscc is None
    assert records(db, "JM-0001")[-1][2] == {"uscc": None}
    assert services.verify_audit(db).ok


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {},
            "cannot change JM-0001: nothing to change; give --name, --sector, --site, --uscc or --founded",
        ),
        ({"name": "  "}, "cannot change JM-0001: a company needs a name"),
        (
            {"site": "a\nb"},
            "cannot change JM-0001: the site 'a\\nb' contains U+000A LINE FEED, a line break",
        ),
        (
            {"name": "RT\u202e1"},
            "cannot change JM-0001: the name 'RT\\u202e1' contains U+202E",
        ),
    ],
)
def test_bad_changes_are_refused_in_one_line_and_write_nothing(
    db: Database, make_company: MakeCompany, changes: dict[str, str], message: str
) -> None:
    make_company("seed", key="JM-0001")
    with pytest.raises(InvalidInput) as refused:
        services.set_profile(db, "JM-0001", actor=OWNER, **changes)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)
    assert len(records(db, "JM-0001")) == 1


def test_an_unknown_company_is_refused(db: Database) -> None:
    with pytest.raises(UnknownCompany):
        services.set_profile(db, "JM-9999", name="x", actor=OWNER)


def test_a_manager_changes_only_companies_of_their_site(
    db: Database, make_company: MakeCompany
) -> None:
    make_company("seed", key="JM-0001", site="钟祥")
    make_company("seed", key="JM-0002", site="京山")
    services.set_profile(db, "JM-0001", name="Renamed by wang", actor=WANG)
    with pytest.raises(PermissionDenied, match="wang manages site 钟祥 and cannot change JM-0002"):
        services.set_profile(db, "JM-0002", name="x", actor=WANG)
    with pytest.raises(PermissionDenied, match="cannot move JM-0001 to site 京山"):
        services.set_profile(db, "JM-0001", site="京山", actor=WANG)
    viewer = Actor("li", Role.VIEWER)
    with pytest.raises(PermissionDenied, match="li is a viewer"):
        services.set_profile(db, "JM-0001", name="x", actor=viewer)
    assert services.show(db, "JM-0001").site == "钟祥"
    assert len(records(db, "JM-0001")) == 2 and len(records(db, "JM-0002")) == 1
    # a manager of no particular site (all sites) may move a company between sites
    services.set_profile(db, "JM-0001", site="京山", actor=Actor("zhao", Role.MANAGER))
    assert services.show(db, "JM-0001").site == "京山"


def test_an_exited_company_can_still_be_corrected(db: Database, make_company: MakeCompany) -> None:
    make_company("seed", key="JM-0001")
    services.exit_company(db, "JM-0001", reason="failed", actor=OWNER)
    services.set_profile(db, "JM-0001", name="Its real name", actor=OWNER)
    assert services.show(db, "JM-0001").name == "Its real name"
    assert services.verify_audit(db).ok
