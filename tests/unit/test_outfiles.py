"""Files the command line writes: never the database, never half-written, never replaced
without --force."""

from __future__ import annotations

from pathlib import Path

import pytest

from incubator.outfiles import replacing
from incubator.stages import InvalidInput


def test_a_new_file_appears_only_when_the_writing_succeeded(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with replacing(target, force=False) as out:
        out.write("a,b\n")
        assert not target.exists()
    assert target.read_text() == "a,b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target, force=True) as out:
        out.write("new, half")
        raise RuntimeError("disk on fire")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_an_existing_file_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with (
        pytest.raises(InvalidInput, match="exists already; add --force"),
        replacing(target, force=False) as out,
    ):
        out.write("new")
    assert target.read_text() == "old"
    with replacing(target, force=True) as out:
        out.write("new")
    assert target.read_text() == "new"


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_the_database_and_its_companions_are_never_replaced(tmp_path: Path, suffix: str) -> None:
    db = tmp_path / "live.db"
    victim = Path(f"{db}{suffix}")
    victim.write_bytes(b"precious")
    with (
        pytest.raises(InvalidInput, match="it is the database"),
        replacing(victim, force=True, protect=[db]) as out,
    ):
        out.write("x")
    assert victim.read_bytes() == b"precious"


def test_the_database_is_recognised_through_a_symlink(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    db.write_bytes(b"precious")
    link = tmp_path / "link.csv"
    link.symlink_to(db)
    with (
        pytest.raises(InvalidInput, match="it is the database"),
        replacing(link, force=True, protect=[db]) as out,
    ):
        out.write("x")
    assert db.read_bytes() == b"precious"


def test_a_missing_directory_is_a_clear_refusal(tmp_path: Path) -> None:
    with (
        pytest.raises(InvalidInput, match="does not exist"),
        replacing(tmp_path / "nowhere" / "out.csv", force=False) as out,
    ):
        out.write("x")


def test_binary_mode_writes_bytes(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    with replacing(target, force=False, mode="binary") as out:
        out.write(b"PK\x03\x04")
    assert target.read_bytes() == b"PK\x03\x04"
