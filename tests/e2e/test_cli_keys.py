"""Every command that takes a company KEY finds it in any case (`jm-0001` is JM-0001), and
refuses, naming them, a key that matches several companies differing only by case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from incubator import services
from incubator.cli import app


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(app, [*args, "--db", url], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    run("init")
    for key, site in [("JM-0001", "钟祥"), ("JM-0002", "京山")]:
        run("company", "add", key, "--name", f"公司 {key}", "--stage", "seed", "--site", site,
            "--by", "wang", "--at", "2024-01-01")  # fmt: skip
    return run


def test_company_show_finds_a_key_typed_in_lower_case(cli) -> None:  # type: ignore[no-untyped-def]
    shown = json.loads(cli("company", "show", "jm-0001", "--json").stdout)
    assert shown["key"] == "JM-0001" and shown["name"] == "公司 JM-0001"


def test_advance_exit_history_and_set_take_a_key_in_any_case(cli) -> None:  # type: ignore[no-untyped-def]
    cli("advance", "jm-0001", "--by", "wang", "--from", "seed", "--at", "2024-02-01")
    cli("exit", "Jm-0001", "--reason", "relocated", "--by", "wang", "--at", "2024-03-01")
    cli("company", "set", "jM-0002", "--site", "钟祥", "--by", "wang")
    history = json.loads(cli("history", "jm-0001", "--json").stdout)
    assert [e["kind"] for e in history] == ["admit", "advance", "exit"]
    assert json.loads(cli("company", "show", "JM-0002", "--json").stdout)["site"] == "钟祥"


def test_an_unknown_key_is_still_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("advance", "jm-9999", "--by", "wang", ok=False)
    assert result.exit_code == 1
    assert result.stderr == "error: no company with key 'jm-9999'\n"


def test_a_key_matching_two_companies_that_differ_only_by_case_is_refused(  # type: ignore[no-untyped-def]
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Twins can no longer be admitted; a database from before that rule may hold some.
    monkeypatch.setattr(services, "_refuse_case_twin", lambda uow, key: None)
    cli("company", "add", "jm-0001", "--name", "小写公司", "--stage", "nursery", "--by", "wang")
    monkeypatch.undo()
    result = cli("advance", "Jm-0001", "--by", "wang", ok=False)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: 'Jm-0001' matches several companies whose keys differ only in case: "
        "JM-0001, jm-0001; give the key exactly as it is written\n"
    )
    # Nothing was written, and each company is still found by its exact key.
    assert json.loads(cli("company", "show", "JM-0001", "--json").stdout)["stage"] == "seed"
    assert json.loads(cli("company", "show", "jm-0001", "--json").stdout)["stage"] == "nursery"
    cli("advance", "jm-0001", "--by", "wang", "--override", "no evidence in this test")
    assert json.loads(cli("company", "show", "jm-0001", "--json").stdout)["stage"] == "incubator"
    assert json.loads(cli("company", "show", "JM-0001", "--json").stdout)["stage"] == "seed"
