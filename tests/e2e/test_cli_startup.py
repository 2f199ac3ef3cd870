"""Start-up of the command line: which libraries a start imports, and the console script's
narrowing to the command named (`cli.main`/`cli.app_for`). Tests of imports, not of time:
the time is measured in `bench/`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incubator import cli
from incubator.cli import app, app_for

#: Libraries no start of the program may import before a command needs them.
HEAVY = (
    "sqlalchemy", "sqlmodel", "pydantic", "alembic", "transitions", "numpy", "pandas",
    "openpyxl", "argon2", "psycopg", "streamlit", "altair", "rich",
)  # fmt: skip

#: Run the command line the way the console script does, then name the HEAVY modules loaded.
PROGRAM = """
import atexit, json, sys
heavy = {heavy!r}
atexit.register(lambda: print(json.dumps([m for m in heavy if m in sys.modules]), file=sys.stderr))
sys.argv = ["incubator", *{args!r}]
from incubator.cli import {entry}
{entry}()
"""


def run(args: list[str], entry: str = "main") -> subprocess.CompletedProcess[str]:
    code = PROGRAM.format(heavy=HEAVY, args=args, entry=entry)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def heavy_loaded(result: subprocess.CompletedProcess[str]) -> list[str]:
    loaded: list[str] = json.loads(result.stderr.splitlines()[-1])
    return loaded


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('startup') / 'cli.db'}"
    assert CliRunner().invoke(app, ["init", "--db", url]).exit_code == 0
    return url


def test_importing_the_command_line_imports_no_heavy_library() -> None:
    code = f"import sys, incubator.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_imports_no_heavy_library() -> None:
    result = run(["--help"])
    assert result.returncode == 0 and "funnel" in result.stdout
    assert heavy_loaded(result) == []


@pytest.mark.parametrize(
    ("args", "loaded"),
    [
        (["funnel", "--json"], ["pydantic"]),
        (["throughput", "--json"], ["pydantic"]),
        (["dwell", "--json"], ["pydantic", "numpy"]),
        (["funnel"], ["pydantic", "rich"]),
        (["throughput", "--by", "quarter"], ["pydantic", "rich"]),
    ],
    ids=" ".join,
)
def test_a_metric_imports_the_driver_only(args: list[str], loaded: list[str], db_url: str) -> None:
    """The metric commands read through sqlite3 (`dbapi.Reader`): no SQLAlchemy, SQLModel or
    tables, no state machine, migrations or spreadsheets; numpy for time in stage, rich for a
    table. Typer builds its parameters with pydantic."""
    result = run([*args, "--db", db_url])
    assert result.returncode == 0, result.stderr
    if "--json" in args:
        assert json.loads(result.stdout).keys() & {"stages", "rows"}  # funnel, dwell; throughput
    else:
        assert "Nursery" in result.stdout
    assert heavy_loaded(result) == loaded


def test_a_command_that_writes_imports_the_database_layer(db_url: str) -> None:
    result = run(["company", "list", "--json", "--db", db_url])
    assert result.returncode == 0, result.stderr
    assert heavy_loaded(result)[:3] == ["sqlalchemy", "sqlmodel", "pydantic"]


def test_the_console_script_builds_only_the_command_named() -> None:
    funnel = app_for(["funnel", "--json"])
    assert funnel.registered_groups == []
    assert [c.callback for c in funnel.registered_commands] == [cli.funnel]
    company = app_for(["company", "list"])
    assert company.registered_commands == []
    assert [g.name for g in company.registered_groups] == ["company"]
    assert app_for(["import", "x.csv"]).registered_commands[0].name == "import"
    for whole in ([], ["--help"], ["-h"], ["funnl"], ["--", "funnel"]):
        assert app_for(whole) is app, whole
    assert len(app.registered_commands) > 10  # `app` itself is left whole


@pytest.mark.parametrize(
    "args",
    [
        ["funnel", "--help"],
        ["company", "lst"],  # a group's "No such command", with its suggestion
        ["funnl"],  # an unknown top-level name: the whole app answers
        ["funnel", "--as-of", "not a date"],
        ["company", "list", "--json"],
    ],
    ids=" ".join,
)
def test_the_console_script_answers_as_the_whole_app(args: list[str], db_url: str) -> None:
    if args[-1] != "--help":
        args = [*args, "--db", db_url]
    narrowed, whole = run(args, "main"), run(args, "app")
    assert (narrowed.returncode, narrowed.stdout, narrowed.stderr) == (
        whole.returncode,
        whole.stdout,
        whole.stderr,
    )


def test_the_console_script_is_main() -> None:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'incubator = "incubator.cli:main"' in text
