"""The demo's evidence (`incubator demo`): the event log, the companies' facts and a few
graduations replayed with an override. On the loaded demo, the demo manager's site (钟祥) has
companies in the incubator that are ready to graduate and some that are not, the audit shows
the overrides, and the history's graduations are backed by evidence as of their dates."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixtures.generate_demo import (
    DEFAULT_FACTS_OUT,
    DEFAULT_OUT,
    DEFAULT_OVERRIDES_OUT,
    FACT_COLUMNS,
    OVERRIDE_COLUMNS,
    generate_facts,
    generate_rows,
    pick_overrides,
)
from incubator import cli, facts, services
from incubator.cli import app
from incubator.evidence import evaluate
from incubator.store import Database

ROOT = Path(__file__).resolve().parents[2]
#: The 钟祥 companies docs/running.md names: ready to graduate, and missing a certificate.
READY, NOT_READY = "JM-0001", "JM-0073"


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


@pytest.fixture
def demo(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The demo loaded by `incubator demo` into an empty database of each backend."""
    opened: list[Database] = []  # the commands' databases, closed as a process would on exit

    def open_db(*args: object, **kwargs: object) -> Database:
        opened.append(real_open_db(*args, **kwargs))  # type: ignore[arg-type]
        return opened[-1]

    real_open_db = cli.open_db
    monkeypatch.setattr(cli, "open_db", open_db)
    out = run("demo", "--db", db.url)
    assert re.fullmatch(
        r"loaded 300 companies, 675 events, \d+ facts of \d+ companies; "
        r"4 graduations replayed with a gate override\n",
        out,
    ), out
    try:
        yield db
    finally:
        for database in opened:
            database.dispose()


def overrides_file() -> list[dict[str, str]]:
    with DEFAULT_OVERRIDES_OUT.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_demo_loads_events_facts_and_overrides_and_the_audit_verifies(
    demo: Database,
) -> None:
    verified = run("audit", "verify", "--db", demo.url)
    assert verified.startswith("OK: 675 events in 300 companies verified"), verified
    assert services.verify_audit(demo).ok
    # every registered company has its founding date and evidence; the others have none
    companies = services.list_companies(demo)
    registered = [c for c in companies if c.uscc]
    assert all(facts.facts(demo, c.key).facts.founded_on for c in registered)
    assert not any(facts.records(demo, c.key)[1:] for c in companies if not c.uscc)
    # every company that ever reached the incubator is registered
    reached = {
        c.key
        for c in companies
        for e in services.history(demo, c.key)
        if e.to_stage in ("incubator", "accelerator", "industrial_park")
    }
    assert reached and all(c.uscc for c in companies if c.key in reached)
    kinds = json.loads(run("facts", READY, "--json", "--db", demo.url))
    assert kinds["founded_on"] and kinds["qualifications"] and kinds["figures"]


def test_zhongxiang_has_incubator_companies_ready_to_graduate_and_not_ready(
    demo: Database,
) -> None:
    in_incubator = services.list_companies(demo, stage="incubator", site="钟祥")
    gates = {c.key: facts.gate_check(demo, c.key) for c in in_incubator}
    assert {g.to for g in gates.values()} == {"accelerator"}
    ready = sorted(k for k, g in gates.items() if g.passed)
    not_ready = sorted(k for k, g in gates.items() if not g.passed)
    assert ready and not_ready, (ready, not_ready)
    # the two that docs/running.md names
    assert READY in ready and NOT_READY in not_ready
    met = gates[READY].outcome
    assert met is not None and [r.criterion.id for r in met.met] == ["qualification"]
    unmet = gates[NOT_READY].outcome
    assert unmet is not None and not unmet.met
    # its high-tech certificate expired, and was not renewed
    certificate = next(r for r in unmet.unmet if r.criterion.id == "qualification")
    today = gates[NOT_READY].at.astimezone(UTC).date().isoformat()
    assert certificate.check.value["expires_on"] <= today
    assert certificate.check.value["revoked_on"] is None
    # about a third of all incubator companies are ready
    everywhere = services.list_companies(demo, stage="incubator")
    share = sum(facts.gate_check(demo, c.key).passed for c in everywhere) / len(everywhere)
    assert 0.25 <= share <= 0.45, share


def test_the_audit_shows_the_graduations_replayed_with_an_override(demo: Database) -> None:
    overridden = services.audit_log(demo, overrides_only=True)
    expected = overrides_file()
    assert len(overridden) == len(expected) == 4
    assert {(e["company_key"], e["to_stage"]) for e in overridden} == {
        (r["company_key"], r["to_stage"]) for r in expected
    }
    assert "钟祥" in {e["site"] for e in overridden}  # the demo manager sees one
    for event in overridden:
        gate = json.loads(event["gate"])
        assert gate["passed"] is False and gate["stage"] == event["to_stage"]
        reason = next(r["override"] for r in expected if r["company_key"] == event["company_key"])
        assert gate["override"] == reason and len(reason) >= 10
        assert event["actor"] not in ("demo", "import")  # the site's manager, as in the log
    # the replayed moves keep the log's times, so the history is the log's
    for row in expected:
        last = services.history(demo, row["company_key"])[-1]
        assert last.effective_at.astimezone(UTC).isoformat() == row["effective_at"]
    assert services.audit_log(demo, overrides_only=True, company="JM-0090")  # 钟祥's


def test_most_graduations_of_the_history_are_backed_by_evidence_as_of_their_date(
    demo: Database,
) -> None:
    """Each graduation (into the accelerator or the industrial park) evaluated against the
    default gate on the move's date, with the facts known that day: the overridden ones are
    the only ones not backed, and they are a small share."""
    policy = facts.policy_show(demo).policy
    backed, unbacked = [], []
    admitted_in, admitted_out = 0, 0
    for company in services.list_companies(demo):
        known = facts.facts(demo, company.key).facts
        for event in services.history(demo, company.key):
            day = event.effective_at.astimezone(UTC).date()
            gate = policy.gate_into(event.to_stage) if event.to_stage else None
            if gate is None:
                continue
            outcome = evaluate(gate, known, day)
            if event.to_stage == "incubator":
                admitted_in += outcome.passed
                admitted_out += not outcome.passed
            elif event.kind == "advance":
                (backed if outcome.passed else unbacked).append((company.key, event))
    total = len(backed) + len(unbacked)
    assert total >= 25
    assert len(backed) / total >= 0.8, (len(backed), total)
    assert all(event.gate and event.gate["override"] for _, event in unbacked)
    assert {key for key, _ in unbacked} == {r["company_key"] for r in overrides_file()}
    # entries into the incubator: registered and young, but for a few older companies
    # taken over when the pipeline opened in 2019
    assert admitted_in / (admitted_in + admitted_out) >= 0.9


def test_the_committed_demo_files_are_the_generators_output(tmp_path: Path) -> None:
    rows = list(generate_rows())
    with DEFAULT_OUT.open(encoding="utf-8", newline="") as handle:
        assert list(csv.DictReader(handle)) == rows
    expected = [{c: r.get(c, "") for c in FACT_COLUMNS} for r in generate_facts(rows)]
    with DEFAULT_FACTS_OUT.open(encoding="utf-8", newline="") as handle:
        assert list(csv.DictReader(handle)) == expected
    picked = [{c: r[c] for c in OVERRIDE_COLUMNS} for r in pick_overrides(rows)]
    assert overrides_file() == picked
    assert list(generate_facts(rows)) == list(generate_facts(rows))  # seeded, no wall clock


def test_the_docs_name_the_companies_to_try() -> None:
    running = (ROOT / "docs" / "running.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = running[running.index("## The demo data") :]
    for key in (READY, NOT_READY, *(r["company_key"] for r in overrides_file())):
        assert f"`{key}`" in section
    assert f"`{READY}`" in readme and f"`{NOT_READY}`" in readme


def test_a_demo_company_user_sends_last_years_figures_and_the_missing_list_shrinks_by_one(
    demo: Database,
) -> None:
    """The yearly collection, as the demo tells it: three 钟祥 companies have not sent 2025's
    figures; JM-0073's own account submits them and JM-0073 leaves the Torch report's list."""
    from incubator.access import cli_owner

    def missing() -> set[str]:
        report = services.torch_report(demo, 2025)
        return {c.key for c in report.checks if c.check == "missing_figures"}

    assert {"JM-0073", "JM-0178", "JM-0200"} <= missing()
    before = len(missing())
    services.add_user(
        demo, "jm0073", role="company", company="jm-0073", password="company-demo-2026",
        actor=cli_owner("demo"),
    )  # fmt: skip
    token = services.sign_in(demo, "jm0073", "company-demo-2026").token
    company_user = services.session_actor(demo, token)
    assert company_user is not None
    services.record_figures(
        demo, "JM-0073", year=2025, actor=company_user,
        values={"revenue": 470_000, "employees": 3, "rd_spend": 60_000},
    )  # fmt: skip
    assert "JM-0073" not in missing() and len(missing()) == before - 1
    assert services.records(demo, "JM-0073")[-1].actor == "jm0073"
