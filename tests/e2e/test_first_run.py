"""A new user's first hour: a quiet install, `make run PORT=…`, `make shell`, and demo data
in one language per company."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo_events.csv"
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


# --- the install ---------------------------------------------------------------------------


def test_the_licence_metadata_is_an_spdx_string_with_its_file() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    for pattern in project["project"]["license-files"]:
        assert list(ROOT.glob(pattern)), pattern
    (backend,) = project["build-system"]["requires"]
    lower = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", backend)
    assert lower and int(lower.group(1)) >= 77  # the first to read an SPDX `license`


def test_building_the_package_prints_no_deprecation_warning(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--quiet",
         "--disable-pip-version-check", str(ROOT)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    if result.returncode != 0 and "setuptools" in result.stderr:
        pytest.skip(f"pip cannot fetch the build backend here: {result.stderr.strip()[-200:]}")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    warnings = [
        line
        for line in output.splitlines()
        if re.search(r"deprecat|BuildBackendWarning", line, re.I)
    ]
    assert warnings == []


# --- make ----------------------------------------------------------------------------------


def make_dry_run(*args: str) -> str:
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", *args],
        capture_output=True, text=True, cwd=ROOT, check=True, timeout=60,
    )  # fmt: skip
    return result.stdout


@needs_make
def test_make_run_serves_on_8501_unless_port_is_given() -> None:
    assert re.search(r"incubator ui --port 8501$", make_dry_run("run"), flags=re.M)
    assert re.search(r"incubator ui --port 8600$", make_dry_run("run", "PORT=8600"), flags=re.M)


@needs_make
def test_make_shell_puts_the_virtualenv_first_on_path(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("needs `make install` to have run in this checkout")
    env = {**os.environ, "SHELL": "/bin/sh"}
    result = subprocess.run(
        ["make", "--no-print-directory", "--old-file", ".venv/.installed", "shell"],
        input="command -v incubator\n", capture_output=True, text=True, cwd=ROOT, env=env,
        check=True, timeout=120,
    )  # fmt: skip
    assert result.stdout.splitlines()[-1] == str(ROOT / ".venv" / "bin" / "incubator")


# --- the demo data -------------------------------------------------------------------------


def demo_companies() -> dict[str, str]:
    with DEMO.open(encoding="utf-8", newline="") as handle:
        return {row["company_key"]: row["company_name"] for row in csv.DictReader(handle)}


def test_every_demo_company_has_a_chinese_name() -> None:
    names = demo_companies()
    assert len(names) == 300 and len(set(names.values())) == 300
    latin = [name for name in names.values() if re.search(r"[A-Za-z]", name)]
    assert latin == []
    assert all(re.search(r"[\u4e00-\u9fff]{4,}", name) for name in names.values())


def test_the_demo_names_still_exercise_csv_quoting() -> None:
    names = demo_companies().values()
    for character in ('"', ",", "'"):
        assert any(character in name for name in names), character


def test_the_committed_demo_file_is_what_the_generator_writes(tmp_path: Path) -> None:
    from fixtures.generate_demo import generate_rows, write_csv

    write_csv(tmp_path / "demo.csv", generate_rows())
    assert (tmp_path / "demo.csv").read_bytes() == DEMO.read_bytes()
