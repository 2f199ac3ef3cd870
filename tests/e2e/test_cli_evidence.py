"""The evidence commands through the CLI (DESIGN §8): every command with its JSON shape, the
gate on advance and admit with --override, the policy file, and every bad input of the issue
as one line on stderr with exit 1 that writes nothing. Tables fit 80 columns."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from incubator.cli import app

Run = Callable[..., Any]
USCC = "91420881MA4R0QMA42"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'evidence.db'}"


@pytest.fixture
def cli(url: str) -> Run:
    runner = CliRunner(env={"COLUMNS": "80"})

    def run(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(app, [*args, "--db", url], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    run("init")
    return run


@pytest.fixture
def company(cli: Run) -> str:
    """JM-0042: admitted to the nursery, registered, founded in 2024."""
    cli("company", "add", "JM-0042", "--name", "荆门智造科技", "--stage", "nursery",
        "--site", "钟祥", "--by", "wang", "--at", "2025-01-06", "--uscc", USCC,
        "--founded", "2024-05-01")  # fmt: skip
    return "JM-0042"


def fits(text: str, width: int = 80) -> None:
    for line in text.splitlines():
        assert cell_len(line) <= width, line


def test_each_fact_command_records_and_prints_its_record(cli: Run, company: str) -> None:
    out = cli("qualify", company, "high_tech", "--granted", "2025-03-01", "--level", "national",
              "--number", "GR202542000123", "--evidence", "高企证书.pdf", "--by", "wang").stdout  # fmt: skip
    assert out == (
        "recorded high_tech granted 2025-03-01, valid until 2028-03-01 for JM-0042 (record #3)\n"
    )
    revoked = cli("qualify", company, "high_tech", "--revoke", "2025-09-01", "--reason",
                  "省科技厅撤销", "--by", "li", "--json").stdout  # fmt: skip
    doc = json.loads(revoked)
    assert doc["kind"] == "revocation" and doc["record"] == 4 and doc["actor"] == "li"
    assert doc["fields"] == {
        "kind": "high_tech", "grant": 3, "revoked_on": "2025-09-01", "reason": "省科技厅撤销",
        "evidence": None,
    }  # fmt: skip
    out = cli("financing", company, "--amount", "6,000,000", "--on", "2025-06-01", "--round",
              "A", "--investor", "湖北高投", "--by", "wang").stdout  # fmt: skip
    assert out == "recorded a round of 6,000,000 yuan on 2025-06-01 for JM-0042 (record #5)\n"
    out = cli("milestone", company, "listed", "--on", "2026-01-10", "--by", "wang").stdout
    assert out == "recorded listed on 2026-01-10 for JM-0042 (record #6)\n"
    out = cli("figures", company, "--year", "2025", "--revenue", "12000000", "--rd-spend",
              "900000", "--employees", "48", "--employees-phd", "3", "--floor-area-m2", "350",
              "--net-profit", "-20000", "--by", "wang").stdout  # fmt: skip
    assert out.startswith("recorded 2025 figures (revenue 12,000,000, net_profit -20,000, ")
    facts = json.loads(cli("facts", company, "--json").stdout)
    assert set(facts) == {
        "key", "as_of", "uscc", "founded_on", "qualifications", "financing", "financing_total",
        "milestones", "figures",
    }  # fmt: skip
    assert facts["qualifications"][0]["status"] == "revoked"
    assert facts["qualifications"][0]["evidence"] == "高企证书.pdf"
    assert facts["financing_total"] == 6_000_000
    assert facts["milestones"] == [
        {"kind": "listed", "on": "2026-01-10", "evidence": None, "record": 6, "actor": "wang",
         "recorded_at": facts["milestones"][0]["recorded_at"]},
    ]  # fmt: skip
    assert facts["figures"] == [
        {"year": 2025, "revenue": 12_000_000, "net_profit": -20_000, "rd_spend": 900_000,
         "employees": 48, "employees_phd": 3, "floor_area_m2": 350},
    ]  # fmt: skip
    table = cli("facts", company).stdout
    fits(table)
    assert "JM-0042 as of " in table and f"USCC {USCC}, founded 2024-05-01" in table
    assert "revoked 2025-09-01" in table and "financing: 6,000,000 yuan" in table
    assert "12,000,000" in table and "milestones: listed 2026-01-10" in table
    assert "floor_area_m2" in cli("facts", company, "--wide").stdout
    early = json.loads(cli("facts", company, "--as-of", "2025-02-01", "--json").stdout)
    assert early["qualifications"] == [] and early["financing"] == []
    assert cli("audit", "verify").stdout.startswith("OK: 1 events in 1 companies verified")


def test_company_add_and_set_take_the_founding_date(cli: Run) -> None:
    cli("company", "add", "JM-1", "--name", "A", "--stage", "seed", "--by", "w",
        "--founded", "2024-02-29")  # fmt: skip
    shown = json.loads(cli("company", "show", "JM-1", "--json").stdout)
    assert shown["founded_on"] == "2024-02-29"
    out = cli("company", "set", "JM-1", "--founded", "2024-03-01", "--uscc", USCC, "--by", "w")
    assert out.stdout.endswith(f"USCC {USCC}, founded 2024-03-01\n")
    assert "founded: 2024-03-01" in cli("company", "show", "JM-1").stdout


def test_gate_says_whether_the_next_advance_would_pass(cli: Run, company: str) -> None:
    doc = json.loads(cli("gate", company, "--at", "2026-05-01", "--json").stdout)
    assert doc == {
        "key": "JM-0042", "stage": "nursery", "to": "incubator", "mode": "all", "passed": True,
        "met": [{"id": "registered", "value": USCC},
                {"id": "founded_within_months", "months": 24, "value": "2024-05-01"}],
        "unmet": [],
    }  # fmt: skip
    late = cli("gate", company, "--at", "2026-05-02").stdout
    assert late.splitlines() == [
        "JM-0042: nursery → incubator on 2026-05-02, gate all of: not met",
        f"  met    registered (has a USCC) — {USCC}",
        "  unmet  founded no more than 24 months before 2026-05-02 — founded 2024-05-01, 24 "
        "months before",
        "(to advance: record the missing evidence, or give --override REASON)",
    ]
    cli("company", "add", "JM-1", "--name", "A", "--stage", "seed", "--by", "w")
    assert "no gate; the advance may go ahead" in cli("gate", "JM-1").stdout
    ungated = json.loads(cli("gate", "JM-1", "--json").stdout)
    assert (ungated["mode"], ungated["passed"], ungated["to"]) == (None, True, "nursery")


def test_advance_passes_its_gate_or_is_refused_or_overridden(cli: Run, company: str) -> None:
    out = cli("advance", company, "--by", "wang", "--at", "2025-03-03").stdout
    assert out == "advanced JM-0042: nursery → incubator (gate met)\n"
    before = cli("export", "-").stdout
    refused = cli("advance", company, "--by", "wang", ok=False)
    assert refused.exit_code == 1 and len(refused.stderr.splitlines()) == 1
    assert refused.stderr.startswith(
        "error: JM-0042 does not meet the gate into accelerator (any of): high-tech certificate "
        "valid on "
    )
    assert "financing > 5,000,000 — 0; " in refused.stderr
    assert cli("export", "-").stdout == before
    out = cli("advance", company, "--by", "wang", "--override", "省科技厅特批，提前毕业入园").stdout
    assert (
        out
        == "advanced JM-0042: incubator → accelerator (gate overridden: 省科技厅特批，提前毕业入园)\n"
    )
    history = json.loads(cli("history", company, "--json").stdout)
    assert [e["gate"] and e["gate"]["override"] for e in history] == [
        None,
        None,
        "省科技厅特批，提前毕业入园",
    ]
    assert list(history[2]["gate"]) == ["stage", "mode", "passed", "met", "unmet", "override"]
    table = cli("history", company).stdout
    fits(table)
    assert [line.split()[-2:] for line in table.splitlines()[2:]][1:] == [
        ["wang", "met"], ["wang", "override"],
    ]  # fmt: skip
    assert "(override: 省科技厅特批，提前毕业入园)" in cli("history", company, "--wide").stdout


def test_an_admission_into_a_gated_stage_takes_evidence_or_an_override(cli: Run) -> None:
    refused = cli("company", "add", "JM-1", "--name", "A", "--stage", "incubator", "--by", "w",
                  ok=False)  # fmt: skip
    assert refused.exit_code == 1
    assert "JM-1 does not meet the gate into incubator (all of)" in refused.stderr
    assert json.loads(cli("company", "list", "--json").stdout) == []
    out = cli("company", "add", "JM-1", "--name", "A", "--stage", "accelerator", "--by", "w",
              "--override", "transferred from Wuhan with its certificates").stdout  # fmt: skip
    assert out == (
        "admitted JM-1 to accelerator (gate overridden: transferred from Wuhan with its "
        "certificates)\n"
    )


def test_the_policy_is_shown_and_replaced_from_json_or_toml(cli: Run, tmp_path: Path) -> None:
    shown = cli("policy", "show").stdout
    assert shown.splitlines()[:3] == [
        "into incubator: all of",
        "  - registered (has a USCC)",
        "  - founded no more than 24 months before the move's date",
    ]
    assert "  - revenue of the last completed year >= 20,000,000" in shown
    assert shown.endswith("(the default policy; `incubator policy set FILE` replaces it)\n")
    document = json.loads(cli("policy", "show", "--json").stdout)
    document["gates"][1]["criteria"][1]["amount"] = 3_000_000
    saved = tmp_path / "policy.json"
    saved.write_text(json.dumps(document), encoding="utf-8")
    out = cli("policy", "set", str(saved), "--by", "admin").stdout
    assert out == "gate policy set: gates into incubator, accelerator, industrial_park\n"
    assert "  - financing > 3,000,000" in cli("policy", "show").stdout
    assert "(set by admin on " in cli("policy", "show").stdout
    toml = tmp_path / "policy.toml"
    toml.write_text(
        '[[gates]]\nstage = "accelerator"\nmode = "any"\n\n'
        '[[gates.criteria]]\nid = "qualification"\nkind = "gazelle"\n',
        encoding="utf-8",
    )
    assert cli("policy", "set", str(toml), "--by", "admin").stdout.endswith("accelerator\n")
    off = tmp_path / "off.json"
    off.write_text('{"gates": []}', encoding="utf-8")
    assert cli("policy", "set", str(off), "--by", "admin").stdout == "gate policy set: no gates\n"
    assert cli("policy", "show").stdout.startswith("no gates: every move is ungated")


BAD_POLICY = """\
[[gates]]
stage = "accelerator"
mode = "any"

[[gates.criteria]]
id = "{criterion}"
"""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["qualify", "JM-0042", "unicorn", "--granted", "2025-01-01", "--by", "w"],
         "error: cannot record qualification for JM-0042: unknown qualification kind 'unicorn'; "
         "allowed: tech_sme, high_tech, specialized, little_giant, gazelle, hidden_champion"),
        (["qualify", "JM-0042", "high_tech", "--granted", "2025-01-01", "--level", "county",
          "--by", "w"],
         "unknown level 'county'; allowed: national, provincial, municipal"),
        (["qualify", "JM-0042", "high_tech", "--granted", "2025-01-01", "--expires", "2024-12-01",
          "--by", "w"],
         "the expiry date 2024-12-01 is not after the grant date 2025-01-01"),
        (["qualify", "JM-0042", "gazelle", "--revoke", "2025-01-01", "--reason", "r", "--by", "w"],
         "error: cannot record revocation for JM-0042: JM-0042 has no gazelle qualification to "
         "revoke"),
        (["qualify", "JM-0042", "tech_sme", "--revoke", "2025-06-01", "--reason", "again",
          "--by", "w"],
         "every tech_sme qualification of JM-0042 is revoked already; nothing to revoke"),
        (["qualify", "JM-0042", "high_tech", "--by", "w"],
         "error: give either --granted (record a grant) or --revoke (revoke one), not both"),
        (["financing", "JM-0042", "--amount", "-5", "--on", "2025-01-01", "--by", "w"],
         "the amount cannot be negative (-5)"),
        (["financing", "JM-0042", "--amount", "1.5", "--on", "2025-01-01", "--by", "w"],
         "the amount '1.5' is not a whole number"),
        (["financing", "JM-0042", "--amount", "5", "--on", "2999-01-01", "--by", "w"],
         "the financing date 2999-01-01 is after today"),
        (["financing", "JM-0042", "--amount", "5", "--on", "2024-04-30", "--by", "w"],
         "the financing date 2024-04-30 is before the company was founded (2024-05-01)"),
        (["milestone", "JM-0042", "listed", "--on", "2999-01-01", "--by", "w"],
         "the milestone date 2999-01-01 is after today"),
        (["milestone", "JM-0042", "acquired", "--on", "2024-01-01", "--by", "w"],
         "the milestone date 2024-01-01 is before the company was founded (2024-05-01)"),
        (["milestone", "JM-0042", "bankrupt", "--on", "2025-01-01", "--by", "w"],
         "unknown milestone 'bankrupt'; allowed: listed, acquired"),
        (["figures", "JM-0042", "--year", "2999", "--revenue", "1", "--by", "w"],
         "figures for 2999 lie in the future; allowed: years up to "),
        (["figures", "JM-0042", "--year", "2025", "--employees", "-3", "--by", "w"],
         "employees cannot be negative (-3)"),
        (["figures", "JM-0042", "--year", "2025", "--revenue", "lots", "--by", "w"],
         "revenue 'lots' is not a whole number"),
        (["figures", "JM-0042", "--year", "2025", "--employees", "10", "--employees-phd", "11",
          "--by", "w"],
         "employees_phd (11) cannot exceed employees (10) in the same record"),
        (["figures", "JM-0042", "--year", "2025", "--employees", "10", "--employees-college",
          "12", "--by", "w"],
         "employees_college (12) cannot exceed employees (10) in the same record"),
        (["figures", "JM-0042", "--year", "2025", "--by", "w"],
         "no figures given for 2025"),
        (["advance", "JM-0042", "--by", "w", "--override", "too short"],
         "an override needs a reason of at least 10 characters (9 given)"),
        (["company", "add", "JM-9", "--name", "x", "--stage", "incubator", "--by", "w",
          "--override", "short"],
         "error: cannot admit JM-9: an override needs a reason of at least 10 characters"),
        (["company", "add", "JM-9", "--name", "x", "--stage", "seed", "--by", "w",
          "--founded", "2999-01-01"],
         "error: cannot admit JM-9: the founding date 2999-01-01 is after today"),
        (["facts", "JM-9999"], "error: no company with key 'JM-9999'"),
        (["gate", "JM-9999"], "error: no company with key 'JM-9999'"),
        (["financing", "JM-9999", "--amount", "5", "--on", "2025-01-01", "--by", "w"],
         "error: no company with key 'JM-9999'"),
        (["policy", "set", "{criterion:charisma}", "--by", "w"],
         "policy.toml is not a valid gate policy: line 6 (gate 1, criterion 1): unknown "
         "criterion 'charisma'; allowed: registered, "),
        (["policy", "set", "{stage:graduation}", "--by", "w"],
         "policy.toml is not a valid gate policy: line 2 (gate 1): unknown stage 'graduation'; "
         "allowed: seed, nursery, incubator, accelerator, industrial_park"),
        (["policy", "set", "missing.toml", "--by", "w"], "error: cannot read "),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_on_stderr_and_writes_nothing(
    cli: Run, company: str, tmp_path: Path, args: list[str], message: str
) -> None:
    cli("qualify", company, "tech_sme", "--granted", "2025-01-01", "--by", "w")
    cli("qualify", company, "tech_sme", "--revoke", "2025-02-01", "--reason", "r", "--by", "w")
    if args[:2] == ["policy", "set"] and args[2].startswith("{"):
        kind, value = args[2].strip("{}").split(":")
        text = BAD_POLICY.format(criterion=value if kind == "criterion" else "registered")
        if kind == "stage":
            text = text.replace('"accelerator"', f'"{value}"')
        path = tmp_path / "policy.toml"
        path.write_text(text, encoding="utf-8")
        args = [*args[:2], str(path), *args[3:]]
        message = message.replace("policy.toml", str(path))
    elif args[:2] == ["policy", "set"]:
        args = [*args[:2], str(tmp_path / args[2]), *args[3:]]
    before = (cli("export", "-").stdout, cli("facts", company, "--json").stdout,
              cli("policy", "show", "--json").stdout)  # fmt: skip
    result = cli(*args, ok=False)
    assert result.exit_code == 1, result.stdout
    assert message in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    after = (cli("export", "-").stdout, cli("facts", company, "--json").stdout,
             cli("policy", "show", "--json").stdout)  # fmt: skip
    strip = [json.loads(after[1]) | {"as_of": None}, json.loads(before[1]) | {"as_of": None}]
    assert (after[0], after[2]) == (before[0], before[2]) and strip[0] == strip[1]
