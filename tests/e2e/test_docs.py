"""The project documents itself: the README and docs/ say what the code does, and point only at
files a clone has."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from incubator.cli import DEMO_USERS
from tests.e2e.test_cli import all_commands

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
#: Directories that are never the project's own files (for a copy without git).
NOT_OURS = {".git", ".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
            "__pycache__", "build", "dist", "screenshots"}  # fmt: skip


def project_files() -> list[Path]:
    """The repository's files: git's list (tracked, and new files not ignored), or a walk."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT, capture_output=True, check=True, timeout=60,
        ).stdout  # fmt: skip
        names = [name for name in listed.decode().split("\0") if name]
        return [ROOT / name for name in names if (ROOT / name).is_file()]
    except (OSError, subprocess.CalledProcessError):
        pass
    return [
        path
        for path in ROOT.rglob("*")
        if path.is_file()
        and not any(
            part in NOT_OURS or part.endswith(".egg-info")
            for part in path.relative_to(ROOT).parts[:-1]
        )
    ]


def test_no_file_of_the_project_points_outside_the_repository() -> None:
    outside = "../" + "shared"  # the design notes a clone does not have
    offenders = [
        str(path.relative_to(ROOT))
        for path in project_files()
        if outside in path.read_bytes().decode("utf-8", errors="replace")
    ]
    assert offenders == []
    assert "DESIGN.md" not in README.read_text(encoding="utf-8")


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_of_the_documentation_reaches_a_file_and_heading(page: Path) -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue  # http(s), mailto
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{link} in {page.name}"
        assert ROOT in path.parents or path == ROOT, f"{link} leaves the repository"
        if anchor:
            assert anchor in anchors(path), f"{link} in {page.name}: no such heading"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_incubator_command_the_documentation_shows_exists(page: Path) -> None:
    known = {name for name, _ in all_commands()}
    text = page.read_text(encoding="utf-8")
    for phrase in re.findall(r"^\s*(?:\$ )?incubator ((?:[a-z]+)(?: [a-z]+)?)", text, flags=re.M):
        assert phrase in known or phrase.split()[0] in known, phrase


@pytest.mark.parametrize(("name", "command"), all_commands(), ids=lambda v: str(v))
def test_the_command_line_reference_covers_every_command_and_option(
    name: str, command: object
) -> None:
    reference = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"### `incubator {name}`" in reference, name
    section = reference.split(f"### `incubator {name}`", 1)[1].split("\n### ", 1)[0]
    for option in [o for p in getattr(command, "params", []) for o in p.opts]:
        if option.startswith("--") and option != "--help":
            assert option in section, f"{option} of incubator {name}"


def test_the_docs_cover_the_metric_csv_and_audit_definitions() -> None:
    metrics = (DOCS / "metrics.md").read_text(encoding="utf-8")
    for term in ("entered", "advanced", "exited", "current", "conversion", "Kaplan–Meier",
                 "right-censored", "percentile_cont", "86,400"):  # fmt: skip
        assert term in metrics, term
    csv_page = (DOCS / "event-log-csv.md").read_text(encoding="utf-8")
    from incubator.eventlog import EXPORT_COLUMNS

    for column in EXPORT_COLUMNS:
        assert f"`{column}`" in csv_page, column
    audit = (DOCS / "audit.md").read_text(encoding="utf-8")
    for term in ("HMAC-SHA-256", "fingerprint", "checkpoint", "audit verify", "profile record"):
        assert term in audit, term


def test_the_readme_says_where_incubator_lives_and_how_to_pick_a_port() -> None:
    readme = README.read_text(encoding="utf-8")
    for phrase in (".venv/bin/incubator", "make shell", "source .venv/bin/activate",
                   "make run PORT=8600"):  # fmt: skip
        assert phrase in readme, phrase
    assert "make run PORT=8600" in (DOCS / "running.md").read_text(encoding="utf-8")


def test_the_readme_lists_the_demo_accounts_as_demo_only() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## Demo accounts", 1)[1].split("\n## ", 1)[0]
    assert "## Demo accounts (demo only)" in readme and "never keep them" in section
    for name, _role, _site, password in DEMO_USERS:
        assert re.search(rf"^\| `{name}` \| `{re.escape(password)}` \|", section, flags=re.M), name
    assert "user passwd" in section and "user add" in section
    access = (DOCS / "access.md").read_text(encoding="utf-8")
    for _name, _role, _site, password in DEMO_USERS:
        assert password in access
