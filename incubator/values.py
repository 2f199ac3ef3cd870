"""Value checks shared by every entrypoint: instants, USCC codes, keys, names and notes,
and how stored text is shown on a terminal.

Pure standard library, like `stages.py`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta

from incubator.messages import Message, message
from incubator.stages import InvalidInput

#: Characters allowed in a USCC (GB 32100-2015): digits and capitals without I, O, Z, S, V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: How far into the future an `effective_at` may lie (clock skew between machines).
CLOCK_SKEW = timedelta(minutes=5)
#: The earliest `effective_at` of an event (China's first incubator opened in 1987).
EARLIEST_EVENT = datetime(1980, 1, 1, tzinfo=UTC)
#: The earliest date of a fact (a founding date, a certificate, a financing round, ...).
EARLIEST_FACT = date(1900, 1, 1)


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a USCC."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: str | None) -> str | None:
    """Return the USCC upper-cased, or None when blank; raise InvalidInput when it is not valid."""
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidInput("uscc.length", value=value, n=len(code))
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise InvalidInput("uscc.characters", value=value, bad="".join(bad))
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise InvalidInput("uscc.check", value=value, expected=expected, got=code[17])
    return code


def parse_instant(value: str | datetime | date) -> datetime:
    """Parse an ISO 8601 date or date-time into an aware UTC datetime.

    A date alone means 00:00 UTC; a date-time without an offset is taken as UTC. A time that
    is not a UTC instant of the years 1 to 9999 (`0001-01-01T00:00+05:00`) is refused.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = value.strip()
        if not text:
            raise InvalidInput("date.empty")
        try:
            moment = datetime.fromisoformat(text.replace(" ", "T", 1) if len(text) > 10 else text)
        except ValueError:
            raise InvalidInput("date.unreadable", value=value) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        shown = value if isinstance(value, str) else value.isoformat()
        raise InvalidInput("date.outside_calendar", value=shown) from None


def check_event_time(
    moment: datetime, now: datetime, what: str | Message = "field.effective_time"
) -> datetime:
    """`moment` if an event may take effect then: not before 1980-01-01 (EARLIEST_EVENT) and
    not in the future (up to CLOCK_SKEW after `now`); InvalidInput otherwise."""
    if moment < EARLIEST_EVENT:
        raise InvalidInput(
            "time.before_earliest",
            what=field(what),
            moment=moment,
            earliest=EARLIEST_EVENT.date(),
            now=now,
        )
    if moment > now + CLOCK_SKEW:
        raise InvalidInput("time.in_future", what=field(what), moment=moment, now=now)
    return moment


def check_fact_date(day: date, now: datetime, what: str | Message = "field.date") -> date:
    """`day` if a fact may be dated then: not before 1900-01-01 (EARLIEST_FACT) and not after
    today in UTC (with CLOCK_SKEW); InvalidInput otherwise."""
    today = (now + CLOCK_SKEW).astimezone(UTC).date()
    if day < EARLIEST_FACT or day > today:
        where = (
            message("date.before", earliest=EARLIEST_FACT)
            if day < EARLIEST_FACT
            else message("date.after_today")
        )
        raise InvalidInput(
            "date.out_of_range",
            what=field(what),
            day=day,
            where=where,
            earliest=EARLIEST_FACT,
            today=today,
        )
    return day


def check_cohort(year: int) -> int:
    """A cohort (a calendar year) the tracker can hold; InvalidInput otherwise."""
    if not 1 <= year <= 9999:
        raise InvalidInput("cohort.invalid", year=year)
    return year


#: The first year a report, a target or site figures may be about (DESIGN §9); the last is
#: the year after the current one (a plan's targets are set ahead).
EARLIEST_REPORT_YEAR = 1990


def check_report_year(year: int, now: datetime | None = None) -> int:
    """A report's, target's or site figures' year: 1990 to next year; InvalidInput otherwise."""
    latest = (now or now_utc()).year + 1
    if (
        isinstance(year, bool)
        or not isinstance(year, int)
        or not (EARLIEST_REPORT_YEAR <= year <= latest)
    ):
        raise InvalidInput(
            "year.out_of_range", year=year, earliest=EARLIEST_REPORT_YEAR, latest=latest
        )
    return year


def now_utc() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """ISO 8601 with an explicit +00:00 offset, as every output of the tracker shows times."""
    return moment.astimezone(UTC).isoformat()


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch: exact, and the same arithmetic in every database."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def year_month(moment: datetime) -> int:
    """year * 12 + month - 1 (UTC): months, quarters and years are integer divisions of it."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.year * 12 + moment.month - 1


# --- text: keys, labels, names and notes (DESIGN §10) -------------------------------------

MAX_KEY_LENGTH = 64
#: The longest sector, site or actor name the database stores.
MAX_LABEL_LENGTH = 120

#: Characters that show as nothing although they are not format characters (Cf): the other
#: default-ignorable code points (combining grapheme joiner, Hangul fillers, Khmer inherent
#: vowels, Mongolian and other variation selectors, tags and the unassigned ones).
_HIDDEN = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2065\u3164\ufe00-\ufe0f\uffa0"
    "\ufff0-\ufff8\U000e0000-\U000e0fff]"
)
#: Bidirectional controls (all of them format characters): they reorder what is shown.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_KEY_PUNCTUATION = frozenset("-_./")
_ASCII_KEY = re.compile(r"[A-Za-z0-9._/-]+")
_CHAR_NAMES = {
    "\x00": "NUL", "\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE", "\x7f": "DELETE", "\x85": "NEXT LINE", "\x9b": "CONTROL SEQUENCE INTRODUCER",
}  # fmt: skip
#: Scripts whose letters join, where a zero-width (non-)joiner changes how a word is written.
_JOINING_SCRIPTS = frozenset({"ARABIC", "SYRIAC", "NKO", "MANDAIC", "MONGOLIAN"})


def _flaw(c: str) -> Message | None:
    """What makes `c` unfit for one line of visible text, or None."""
    category = unicodedata.category(c)
    if category == "Cs":
        return message("char.not_utf8")
    if c in _LINE_BREAKS:
        return message("char.line_break")
    if category == "Cc":
        return message("char.control")
    if c in _BIDI:
        return message("char.bidi")
    if category == "Cf" or _HIDDEN.match(c):
        return message("char.invisible")
    return None


def describe_char(c: str) -> str:
    """`U+200B ZERO WIDTH SPACE`: a character named so that it can be seen."""
    name = _CHAR_NAMES.get(c) or unicodedata.name(c, "")
    return f"U+{ord(c):04X}" + (f" {name}" if name else "")


class Char(str):
    """A character named in a message: `U+200B ZERO WIDTH SPACE` in English (the Unicode
    name), `U+200B` in Chinese."""

    def localised(self, lang: str) -> str:
        return f"U+{ord(self):04X}" if lang == "zh" else describe_char(self)


def field(what: str | Message) -> Message:
    """What a value is (`field.site`, ...), as a message value."""
    return what if isinstance(what, Message) else message(what)


def _joiner_allowed(text: str, i: int) -> bool:
    """A zero-width non-joiner or joiner at `text[i]` that a script needs (as IDNA allows them,
    RFC 5892): after a virama (Indic scripts), or between letters of a joining script."""
    before = text[i - 1] if i else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if before and unicodedata.combining(before) == 9:
        return True
    return bool(before and after) and all(
        unicodedata.name(c, "").split(" ", 1)[0] in _JOINING_SCRIPTS for c in (before, after)
    )


def _refuse_hidden(text: str, what: str | Message, *, joiners: bool = False) -> str:
    """`text` unless it holds an invisible, control, bidirectional or line-separator character
    (InvalidInput naming it). With `joiners`, a joiner a script needs is allowed."""
    if text.isprintable() and not _HIDDEN.search(text):
        return text  # the common case: no format, control, separator or odd space at all
    for i, c in enumerate(text):
        why = _flaw(c)
        if why is None or (joiners and c in "\u200c\u200d" and _joiner_allowed(text, i)):
            continue
        raise InvalidInput("text.hidden_char", what=field(what), text=text, char=Char(c), why=why)
    return text


def clean_text(value: str, what: str | Message) -> str:
    """Text that a database can store: no NUL character and valid Unicode (no stray bytes from
    a terminal in another encoding); InvalidInput otherwise. `what` names the value: a field
    code such as `field.site`, or a message."""
    if "\x00" in value:
        raise InvalidInput("text.nul", what=field(what))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("text.not_utf8", what=field(what), value=value) from None
    return value


def lookup_key(key: str) -> str:
    """A key as given to find a company: trimmed and NFC-normalised; InvalidInput if blank or
    not storable text. (Companies admitted before the key rules keep their keys.)"""
    key = clean_text(key, "field.key").strip()
    if not key:
        raise InvalidInput("key.blank")
    return unicodedata.normalize("NFC", key)


def fold_key(key: str) -> str:
    """A key as compared when case does not matter (Unicode case folding, `casefold`): two keys
    that fold alike name one company."""
    return unicodedata.normalize("NFC", key).casefold()


def clean_key(key: str) -> str:
    """A new company key: trimmed, NFC-normalised, at most 64 characters, made of letters (any
    script, with their combining marks), digits, `-`, `_`, `.` and `/`; InvalidInput naming
    the first character that is not allowed."""
    key = lookup_key(key)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput("key.too_long", key=key, n=len(key), most=MAX_KEY_LENGTH)
    if _ASCII_KEY.fullmatch(key):
        return key
    for i, c in enumerate(key):
        if c in _KEY_PUNCTUATION:
            continue
        category = unicodedata.category(c)
        wide = unicodedata.decomposition(c).startswith("<wide>")
        after_letter = i > 0 and unicodedata.category(key[i - 1])[0] in "LMN"
        if (
            (category[0] == "L" or category == "Nd" or (category[0] == "M" and after_letter))
            and not wide
            and not _HIDDEN.match(c)
        ):
            continue
        why = _flaw(c) or message(
            "char.fullwidth" if wide
            else "char.space" if category == "Zs"
            else "char.lone_mark" if category[0] == "M"
            else "char.not_letter"
        )  # fmt: skip
        raise InvalidInput("key.bad_char", key=key, char=Char(c), why=why)
    return key


def clean_label(
    value: str, what: str | Message, *, required: bool = False, most: int = MAX_LABEL_LENGTH
) -> str:
    """A short one-line name (sector, site, actor): trimmed, NFC-normalised, at most 120
    characters (or `most`), with no invisible, control, bidirectional or line-separator
    character."""
    label = unicodedata.normalize("NFC", clean_text(value, what).strip())
    if required and not label:
        raise InvalidInput("text.blank", what=field(what))
    if len(label) > most:
        raise InvalidInput("text.too_long", what=field(what), n=len(label), most=most)
    return _refuse_hidden(label, what)


def clean_name(value: str, what: str | Message = "field.name") -> str:
    """A company's name (any script): trimmed; one line of visible characters, except that a
    zero-width (non-)joiner may stay where its script needs one (Persian, Hindi, ...)."""
    name = clean_text(value, what).strip()
    if not name:
        raise InvalidInput("name.missing")
    return _refuse_hidden(name, what, joiners=True)


_NOTE_FLAWS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")


def clean_note(value: str, what: str | Message = "field.note") -> str:
    """A note, kept verbatim: it may hold line breaks and tabs, but no other C0 or C1 control
    character (no terminal escape sequences)."""
    clean_text(value, what)
    found = _NOTE_FLAWS.search(value) if value else None
    if found:
        raise InvalidInput("note.control", what=field(what), char=Char(found.group()[0]))
    return value


# --- showing stored text on a terminal ----------------------------------------------------

#: Terminal escape sequences, 7-bit (ESC ...) and 8-bit (C1) forms: CSI (colours, cursor),
#: OSC / DCS / SOS / PM / APC strings (window title, hyperlinks) up to their terminator, and
#: the short ESC sequences.
_ESCAPE_SEQUENCE = re.compile(
    "(?:\x1b\\[|\x9b)[0-?]*[ -/]*[@-~]?"
    "|(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\\\|\x9c)?"
    "|\x1b[ -/]*[0-~]?"
)


def for_terminal(text: str, *, one_line: bool = False) -> str:
    """Stored text made safe to print on a terminal: escape sequences (colours, window title,
    hyperlinks) are removed, and any other control, invisible, bidirectional or line-separator
    character is shown as an escape (`\\u202e`). Tabs and line breaks stay, unless `one_line`
    (then a line break shows as `\\n`)."""
    if text.isprintable() and not _HIDDEN.search(text):
        return text
    text = _ESCAPE_SEQUENCE.sub("", text).replace("\r\n", "\n")
    keep = "\t" if one_line else "\t\n"
    return "".join(c if c in keep or _flaw(c) is None else repr(c)[1:-1] for c in text)


_JSON_UNSAFE = re.compile("[^\n -~]")


def json_for_terminal(document: str) -> str:
    """A JSON document whose strings hold no character a terminal would act on or hide: such
    characters are written as `\\uXXXX` escapes, which every JSON reader decodes to the same
    text."""
    if document.replace("\n", "").isprintable() and not _HIDDEN.search(document):
        return document
    return _JSON_UNSAFE.sub(_json_escape, document)


def _json_escape(found: re.Match[str]) -> str:
    c = found.group()
    if _flaw(c) is None:
        return c
    n = ord(c)
    if n < 0x10000:
        return f"\\u{n:04x}"
    n -= 0x10000
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"
