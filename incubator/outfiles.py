"""Files the command line writes (DESIGN §10): never the database, never half-written.

Every file goes to a temporary file in the target's directory and is renamed over the
target only when the writing succeeded, so an error, a full disk or an interrupt leaves
the old file (or nothing) behind, never a truncated one. An existing file is replaced only
with `force`; the database's own files (`x.db`, `x.db-wal`, `x.db-shm`, `x.db-journal`)
are never replaced, not even with `force`. Pure standard library.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal

from incubator.stages import InvalidInput

#: Suffixes SQLite adds to a database's path for its companion files.
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def protected_paths(database_files: Iterable[Path]) -> set[Path]:
    """The resolved paths of the database files and their SQLite companions."""
    found: set[Path] = set()
    for path in database_files:
        for suffix in SQLITE_COMPANIONS:
            found.add(Path(os.path.realpath(f"{path}{suffix}")))
    return found


def check_target(path: Path, *, force: bool, protect: Iterable[Path] = ()) -> Path:
    """Refuse (InvalidInput) a target that must not be written; return it resolved."""
    target = Path(os.path.realpath(path))
    if target in protected_paths(protect):
        raise InvalidInput("file.is_database", path=str(path))
    if target.is_dir():
        raise InvalidInput("file.is_directory", path=str(path))
    if not target.parent.is_dir():
        raise InvalidInput("file.no_directory", path=str(path), directory=str(target.parent))
    if target.exists() and not force:
        raise InvalidInput("file.exists", path=str(path))
    return target


@contextmanager
def replacing(
    path: Path,
    *,
    force: bool,
    protect: Iterable[Path] = (),
    mode: Literal["text", "binary"] = "text",
    encoding: str = "utf-8",
) -> Iterator[IO[Any]]:
    """A file object whose content becomes `path` only if the block ends without an error.

    with replacing(Path("events.csv"), force=False, protect=db.files()) as out:
        out.write(...)
    """
    target = check_target(path, force=force, protect=protect)
    try:
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as exc:
        raise InvalidInput("file.unwritable", path=str(path), reason=exc.strerror) from None
    temp = Path(temp_name)
    try:
        if mode == "binary":
            out: IO[Any] = os.fdopen(fd, "wb")
        else:
            out = os.fdopen(fd, "w", encoding=encoding, newline="")
        with out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        if target.exists() and not force:  # appeared while we were writing
            raise InvalidInput("file.exists", path=str(path))
        os.chmod(temp, 0o644 & ~_umask())
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InvalidInput("file.unwritable", path=str(path), reason=exc.strerror or exc) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
