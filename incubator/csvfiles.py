"""What the CSV files share (the event log, `eventlog`; company facts, `factlog`).

Reading a strict CSV file: UTF-8 with or without a byte-order mark, a header that names
known columns only, each once, in any order and case (DESIGN §10), records of the header's
width; every problem is an `ImportProblem` that names its line, and a file with any is an
`ImportRejected` that lists them all. The bulk write (`store.BulkLoad`): staging the rows
laid out before the write lock, the last check under it (the companies an import builds on
must be as they were read, else the import is a conflict that writes nothing), and copying
the rows in. And writing an export, byte-exact.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from incubator.messages import CodedError, Message, message
from incubator.stages import Conflict, DomainError, InvalidInput
from incubator.store import BulkLoad, CompanyRecord, Staged, UnitOfWork

T = TypeVar("T")

#: Called as progress(phase, done, total) during long work.
Progress = Callable[[str, int, int], None]

#: The longest field an import reads (notes can be long; the csv module's default is 128 KiB).
MAX_FIELD = 16 * 1024 * 1024
#: Records read between two progress reports.
PROGRESS_EVERY = 20_000


@dataclass
class ImportProblem:
    """A bad line of an import file and what is wrong with it (a refusal, as data: the web
    app shows it in the reader's language)."""

    line: int
    error: CodedError

    @property
    def message(self) -> str:
        """What is wrong, in English."""
        return str(self.error)

    def localised(self, lang: str) -> str:
        return message("import.line", line=self.line, problem=self.error).render(lang)

    def __str__(self) -> str:
        return self.localised("en")


def problem(line: int, code: str, /, **params: Any) -> ImportProblem:
    return ImportProblem(line, InvalidInput(code, **params))


class ImportRejected(DomainError):
    """A file with bad rows: nothing was written. `problems` lists every bad line."""

    def __init__(self, source: str | Message, problems: list[ImportProblem]) -> None:
        self.problems = problems
        n = len(problems)
        super().__init__(
            "import.rejected_one" if n == 1 else "import.rejected",
            source=source,
            n=n,
            first=problems[0] if problems else "",
        )


def read_bytes(data: bytes | str | Path | IO[bytes]) -> bytes:
    if isinstance(data, Path):
        try:
            return data.read_bytes()
        except OSError as exc:
            raise InvalidInput("file.unreadable", path=str(data), reason=exc.strerror) from None
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, bytes):
        return data
    return data.read()


def name_of_source(data: bytes | str | Path | IO[bytes], source: str | None) -> str | Message:
    """How a report names the file: `source`, the path, or "the file"."""
    return source or (str(data) if isinstance(data, Path) else message("import.the_file"))


def binary(data: bytes | str | Path | IO[bytes]) -> Callable[[], IO[bytes]]:
    """Opens the data to read from its start, as often as asked: a file is opened again (so
    an import reads it in pieces and never holds it whole), anything else is held as bytes."""
    if isinstance(data, Path):

        def reopen() -> IO[bytes]:
            try:
                return data.open("rb")
            except OSError as exc:
                raise InvalidInput("file.unreadable", path=str(data), reason=exc.strerror) from None

        return reopen
    held = read_bytes(data)
    return lambda: io.BytesIO(held)


#: How much of a file `scan` reads at a time.
SCAN_CHUNK = 1 << 20


def scan(stream: IO[bytes], source: str | Message) -> int:
    """Check, reading the file in pieces, what `decode` checks of it whole (UTF-8, no NUL,
    not blank), and count its lines; the stream is left at its start. A file that fails a
    check is read whole by `decode`, which names the problem exactly as it always has."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    lines, blank = 0, True
    try:
        while chunk := stream.read(SCAN_CHUNK):
            decoder.decode(chunk)
            if b"\x00" in chunk:
                raise ValueError("NUL")
            lines += chunk.count(b"\n")
            blank = blank and not chunk.strip()
        decoder.decode(b"", final=True)
        if blank:
            raise ValueError("blank")
    except ValueError:  # UnicodeDecodeError included
        stream.seek(0)
        decode(stream.read(), source)  # raises ImportRejected
        raise  # not reached: decode refuses whatever was found here
    stream.seek(0)
    return lines


def decode(data: bytes, source: str | Message) -> str:
    if not data.strip():
        raise ImportRejected(source, [problem(1, "import.empty_no_header")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = problem(line, "import.not_utf8", byte=f"0x{data[exc.start]:02x}", offset=exc.start)
        raise ImportRejected(source, [bad]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRejected(source, [problem(line, "import.nul")])
    return text


def column(name: str) -> Message:
    """A CSV column named in a message: `site` (Chinese: `site 列`)."""
    return message("field.column", column=name)


class _CsvError:
    """The csv module's complaint, as a message value: its own words in English; in Chinese
    what it means (an unclosed or stray quote, a field over the size limit)."""

    def __init__(self, error: csv.Error) -> None:
        self.text = str(error)

    def localised(self, lang: str) -> str:
        if lang != "zh":
            return self.text
        if "unexpected end of data" in self.text:
            return message("csv.unclosed_quote").render(lang)
        if "expected after" in self.text:
            return message("csv.stray_quote").render(lang)
        if "field larger than field limit" in self.text:
            return message("csv.field_too_large").render(lang)
        return message("csv.malformed").render(lang)


def header_names(data: bytes) -> list[str]:
    """The column names of a file's header row, trimmed and lower-cased ([] when the file
    has none that can be read): enough to tell which kind of file it is."""
    first = data[: 64 * 1024].decode("utf-8-sig", errors="replace")
    try:
        row = next(csv.reader(io.StringIO(first, newline="")), [])
    except csv.Error:
        return []
    return [name.strip().lower() for name in row]


class CsvRecords:
    """The records of a strict CSV file whose header names `columns` (the import's),
    `ignored` (an export's own, accepted and not read) and at least `required`.

        records = CsvRecords(text, source, columns=..., ignored=..., required=...)
        at = records.positions(COLUMNS)
        for line, record in records:        # record + [""]: a missing column reads ""
            ...                             # a bad row: records.problems.append(...)

    The header is checked when the object is made (ImportRejected listing every header
    problem at line 1). Iterating yields each record of the header's width with its first
    line; a record of another width, and a stray or unclosed quote (which ends the reading),
    go to `problems`; blank lines are skipped. A file with no record at all is ImportRejected.
    """

    def __init__(
        self,
        text: str | IO[str],
        source: str | Message,
        *,
        columns: Sequence[str],
        ignored: Sequence[str] = (),
        required: Sequence[str] = (),
        progress: Progress | None = None,
        lines: int | None = None,
    ) -> None:
        """`text`: the decoded file, or a stream of it (opened with newline=""), whose number
        of `lines` progress reports are measured against."""
        csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD))
        self.source = source
        self.progress = progress
        if isinstance(text, str):
            lines = text.count("\n") if progress else 0  # about one record a line
            text = io.StringIO(text, newline="")
        self.lines = lines or 0
        self.problems: list[ImportProblem] = []
        # strict: a stray or unclosed quote is an error, not a field that swallows later lines
        self.reader = csv.reader(text, strict=True)
        try:
            raw = next(self.reader)
        except StopIteration:
            raise ImportRejected(source, [problem(1, "import.empty")]) from None
        except csv.Error as exc:
            raise ImportRejected(
                source, [problem(1, "import.bad_header", detail=_CsvError(exc))]
            ) from None
        self.header = [h.strip().lower() for h in raw]
        self.width = len(self.header)
        problems = _header_problems(raw, self.header, columns, ignored, required)
        if problems:
            raise ImportRejected(source, problems)

    def positions(self, columns: Sequence[str]) -> list[int]:
        """Where each column is in a record: its index, or `width` (the "" every record gets
        appended) for a column the header leaves out."""
        return [self.header.index(c) if c in self.header else self.width for c in columns]

    def parse(self, row: Callable[[int, list[str]], T]) -> tuple[list[T], list[ImportProblem]]:
        """`row(line, record)` of every record, and a problem for each record it refuses
        (DomainError) besides the file's own (`problems`)."""
        rows: list[T] = []
        problems = self.problems
        for line, record in self:
            try:
                rows.append(row(line, record))
            except DomainError as exc:
                problems.append(ImportProblem(line, exc))
        return rows, problems

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        reader, progress, width = self.reader, self.progress, self.width
        end = reader.line_num
        n = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self.problems.append(problem(end + 1, "import.unreadable", detail=_CsvError(exc)))
                break
            start, end = end + 1, reader.line_num
            if len(record) != width:
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue  # blank line
                self.problems.append(
                    problem(start, "import.field_count", n=len(record), width=width)
                )
                continue
            n += 1
            record.append("")
            yield start, record
            if progress and n % PROGRESS_EVERY == 0:
                progress("reading", start, self.lines)
        if n == 0 and not self.problems:
            raise ImportRejected(self.source, [problem(1, "import.no_rows")])


def _header_problems(
    raw: list[str],
    header: list[str],
    columns: Sequence[str],
    ignored: Sequence[str],
    required: Sequence[str],
) -> list[ImportProblem]:
    """The header names known columns only (DESIGN §10), each once, in any order and case;
    an export's own columns (`ignored`) are known and not read."""
    known_names = (*columns, *ignored)
    known = message("import.known_columns", columns=list(columns), ignored=list(ignored))
    problems: list[ImportProblem] = []
    first: dict[str, int] = {}
    for number, (shown, name) in enumerate(zip(raw, header, strict=True), start=1):
        if not name:
            problems.append(problem(1, "import.column_unnamed", number=number, known=known))
        elif name not in known_names:
            problems.append(
                problem(1, "import.column_unknown", name=shown.strip(), number=number, known=known)
            )
        elif name in first:
            problems.append(
                problem(1, "import.column_twice", name=name, first=first[name], number=number)
            )
        else:
            first[name] = number
    missing = [c for c in required if c not in first]
    if missing:
        problems.append(
            problem(
                1,
                "import.columns_missing" if len(missing) > 1 else "import.column_missing",
                missing=missing,
                expected=list(columns),
            )
        )
    return problems


# --- the write ------------------------------------------------------------------------------

#: Rows for one table, as `BulkLoad.stage` takes them: the table, its columns, the rows, the
#: columns an update matches on (none: the rows are inserted), and whether it updates open
#: spells only.
Batch = tuple[str, Sequence[str], list[tuple[Any, ...]], Sequence[str], bool]


def stage(load: BulkLoad, batches: Sequence[Batch], progress: Progress | None) -> list[Staged]:
    """Stage the batches that have rows, in the order they are to be written, outside any
    write transaction."""
    staged = []
    for done, (table, columns, rows, match, open_only) in enumerate(batches):
        if progress:
            progress("staging", done, len(batches))
        if rows:
            staged.append(load.stage(table, columns, rows, match=match, open_only=open_only))
    return staged


_paused = 0  # imports running with full collections held off (`young_garbage_only`)
_paused_lock = threading.Lock()
_thresholds = gc.get_threshold()


@contextmanager
def young_garbage_only() -> Iterator[None]:
    """Hold off the garbage collector's full collections while an import runs.

    An import keeps what it must check across the whole file (every key it has read, to
    refuse one twice or twinned by case): a million keys at a province's scale, and each
    full collection walks them all. At 1,000,000 companies those collections took half of
    the reading (61 s of reading -> 33 s without them). Young objects are still collected
    as usual, so short-lived cycles are freed; the thresholds are restored when the last
    import running in the process ends."""
    global _paused, _thresholds
    with _paused_lock:
        if _paused == 0:
            _thresholds = gc.get_threshold()
            gc.set_threshold(_thresholds[0], _thresholds[1], 1_000_000_000)
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0:
                gc.set_threshold(*_thresholds)


def copy(
    load: BulkLoad, uow: UnitOfWork, staged: Sequence[Staged], progress: Progress | None
) -> None:
    """Copy the staged rows in, inside the write unit of work (KeyTaken if a unique key is
    in use already); the caller commits."""
    if progress:
        progress("writing", 0, len(staged))
    for done, batch in enumerate(staged, 1):
        load.copy(uow, batch)
        if progress and done < len(staged):
            progress("writing", done, len(staged))


def still_as_read(
    uow: UnitOfWork, existing: dict[str, CompanyRecord], source: str | Message
) -> None:
    """Under the write lock: Conflict unless the companies the import builds on are as they
    were read (PostgreSQL: and lock them, in key order, until the import commits)."""
    now = uow.company_versions(existing, lock=True)
    for key in sorted(existing):
        if now.get(key) != existing[key].version():
            raise conflict(source, message("conflict.changed", key=key))


def conflict(source: str | Message, what: Message | None) -> Conflict:
    return Conflict.other(
        "conflict.import", what=what or message("conflict.someone_moved"), source=source
    )


# --- exports ---------------------------------------------------------------------------------


def write_csv(
    out: IO[str], columns: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = False
) -> int:
    """Write a header and the rows as CSV, values as they are (None: empty), so that the
    file imports again byte for byte; `bom` starts it with a UTF-8 byte-order mark, which
    Excel needs to read UTF-8 (the imports accept it). The number of rows."""
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
    return n
