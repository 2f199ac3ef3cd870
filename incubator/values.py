"""Value checks shared by every entrypoint: instants, USCC codes, keys.

Pure standard library, like `stages.py`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from incubator.stages import InvalidInput

#: Characters allowed in a USCC (GB 32100-2015): digits and capitals without I, O, Z, S, V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: How far into the future an `effective_at` may lie (clock skew between machines).
CLOCK_SKEW = timedelta(minutes=5)


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
        raise InvalidInput(f"USCC {value!r} has {len(code)} characters; a USCC has 18")
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise InvalidInput(
            f"USCC {value!r} contains {''.join(bad)!r}; allowed: digits and capitals "
            "except I, O, Z, S, V"
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise InvalidInput(
            f"USCC {value!r} fails the GB 32100-2015 check: last character should be "
            f"{expected!r}, not {code[17]!r}"
        )
    return code


def parse_instant(value: str | datetime | date) -> datetime:
    """Parse an ISO 8601 date or date-time into an aware UTC datetime.

    A date alone means 00:00 UTC; a date-time without an offset is taken as UTC.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = value.strip()
        if not text:
            raise InvalidInput(
                "empty date; use ISO 8601, e.g. 2024-07-01 or 2024-07-01T09:30+08:00"
            )
        try:
            moment = datetime.fromisoformat(text.replace(" ", "T", 1) if len(text) > 10 else text)
        except ValueError:
            raise InvalidInput(
                f"cannot read {value!r} as a date; use ISO 8601, e.g. 2024-07-01 "
                "or 2024-07-01T09:30+08:00"
            ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


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


MAX_KEY_LENGTH = 64
_KEY_RE = re.compile(r"^[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$")


def clean_key(key: str) -> str:
    """A company key without surrounding blanks; InvalidInput if blank or not printable."""
    key = key.strip()
    if not key:
        raise InvalidInput("a company key cannot be blank; e.g. JM-0042")
    if len(key) > MAX_KEY_LENGTH or not _KEY_RE.match(key):
        raise InvalidInput(
            f"company key {key!r} is not allowed: at most {MAX_KEY_LENGTH} printable characters"
        )
    return key


def year_month(moment: datetime) -> int:
    """year * 12 + month - 1 (UTC): months, quarters and years are integer divisions of it."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.year * 12 + moment.month - 1


def clean_text(value: str, what: str) -> str:
    """Free text kept verbatim, except what no database can store: NUL characters and text
    that is not valid Unicode (e.g. stray bytes from a terminal in another encoding)."""
    if "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character, which cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid UTF-8 text") from None
    return value


#: The longest sector, site or actor name the database stores.
MAX_LABEL_LENGTH = 120


def clean_label(value: str, what: str, *, required: bool = False) -> str:
    """A short one-line name (sector, site, actor): trimmed, printable, at most 120 characters."""
    label = clean_text(value, what).strip()
    if required and not label:
        raise InvalidInput(f"{what} cannot be blank")
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidInput(
            f"{what} has {len(label)} characters; at most {MAX_LABEL_LENGTH} are allowed"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in label):
        raise InvalidInput(f"{what} {label!r} contains a control character (e.g. a line break)")
    return label
