"""USCC check digits (GB 32100-2015), instants and their bounds, keys, labels, names and
notes (DESIGN §10), and text shown on a terminal."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incubator.stages import InvalidInput
from incubator.values import (
    EARLIEST_EVENT,
    EARLIEST_FACT,
    USCC_ALPHABET,
    check_cohort,
    check_event_time,
    check_fact_date,
    clean_key,
    clean_label,
    clean_name,
    clean_note,
    for_terminal,
    from_micros,
    json_for_terminal,
    lookup_key,
    normalize_uscc,
    parse_instant,
    to_micros,
    uscc_check_char,
    year_month,
)

# Published examples of valid codes.
VALID = ["91350100M000100Y43", "91110000600037341L"]


@pytest.mark.parametrize("code", VALID)
def test_valid_uscc_is_accepted(code: str) -> None:
    assert normalize_uscc(code) == code


def test_uscc_is_upper_cased_and_trimmed() -> None:
    assert normalize_uscc(" 91110000600037341l ") == "91110000600037341L"


def test_blank_uscc_means_none() -> None:
    assert normalize_uscc("") is None
    assert normalize_uscc(None) is None


@pytest.mark.parametrize("code", VALID)
def test_uscc_with_a_wrong_check_digit_is_refused(code: str) -> None:
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(code[-1]) + 1) % 31]
    with pytest.raises(InvalidInput, match="fails the GB 32100-2015 check"):
        normalize_uscc(code[:-1] + wrong)


def test_uscc_length_and_alphabet_are_checked() -> None:
    with pytest.raises(InvalidInput, match="has 17 characters"):
        normalize_uscc("91350100M000100Y4")
    with pytest.raises(InvalidInput, match="contains 'IO'"):
        normalize_uscc("91350100M0001IOY43")


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_any_single_character_change_breaks_the_check(first17: str) -> None:
    code = first17 + uscc_check_char(first17)
    assert normalize_uscc(code) == code
    changed = USCC_ALPHABET[(USCC_ALPHABET.index(code[5]) + 7) % 31]
    with pytest.raises(InvalidInput):
        normalize_uscc(code[:5] + changed + code[6:])


def test_a_date_alone_means_midnight_utc() -> None:
    assert parse_instant("2024-07-01") == datetime(2024, 7, 1, tzinfo=UTC)
    assert parse_instant(date(2024, 7, 1)) == datetime(2024, 7, 1, tzinfo=UTC)


def test_offsets_are_converted_to_utc() -> None:
    moment = parse_instant("2024-07-01T09:30:00+08:00")
    assert moment == datetime(2024, 7, 1, 1, 30, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(0)
    cst = timezone(timedelta(hours=8))
    assert parse_instant(datetime(2024, 7, 1, 9, 30, tzinfo=cst)).hour == 1


def test_unreadable_dates_say_what_is_expected() -> None:
    with pytest.raises(InvalidInput, match="cannot read '31/12/2024' as a date; use ISO 8601"):
        parse_instant("31/12/2024")


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)))
def test_micros_round_trip_exactly(naive: datetime) -> None:
    moment = naive.replace(tzinfo=UTC)
    assert from_micros(to_micros(moment)) == moment


def test_year_month_counts_months_from_year_zero() -> None:
    assert year_month(datetime(2024, 7, 31, 23, 0, tzinfo=UTC)) == 2024 * 12 + 6
    assert year_month(parse_instant("2024-08-01T01:00+08:00")) == 2024 * 12 + 6


@pytest.mark.parametrize("bad", ["", "   ", "JM\n1", "x" * 65])
def test_bad_company_keys_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        clean_key(bad)


def test_keys_may_be_any_printable_text() -> None:
    assert clean_key(" 荆门-0042 ") == "荆门-0042"


# --- dates: the bounds of DESIGN §10 -------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T04:59+05:00"]
)
def test_a_time_outside_the_utc_calendar_is_a_refusal_not_an_overflow(text: str) -> None:
    with pytest.raises(InvalidInput, match="outside the calendar in UTC"):
        parse_instant(text)


def test_the_last_and_first_instants_of_the_calendar_are_still_readable() -> None:
    assert parse_instant("9999-12-31T23:59:59") == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert parse_instant("0001-01-01") == datetime(1, 1, 1, tzinfo=UTC)


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "message"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), "is before 1980-01-01; allowed: from 1980-01-01 up to now"),
        (EARLIEST_EVENT - timedelta(microseconds=1), "is before 1980-01-01"),
        (NOW + timedelta(minutes=6), "lies in the future"),
    ],
)
def test_an_event_time_before_1980_or_in_the_future_is_refused(
    moment: datetime, message: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        check_event_time(moment, NOW)


@pytest.mark.parametrize(
    "moment", [datetime(1980, 1, 1, tzinfo=UTC), NOW, NOW + timedelta(minutes=4)]
)
def test_event_times_from_1980_up_to_the_clock_skew_are_accepted(moment: datetime) -> None:
    assert check_event_time(moment, NOW) == moment


def test_fact_dates_run_from_1900_to_today() -> None:
    assert check_fact_date(date(1900, 1, 1), NOW) == date(1900, 1, 1)
    assert check_fact_date(NOW.date(), NOW) == NOW.date()
    with pytest.raises(InvalidInput, match="1899-12-31 is before 1900-01-01"):
        check_fact_date(date(1899, 12, 31), NOW)
    with pytest.raises(InvalidInput, match="2026-03-02 is after today"):
        check_fact_date(date(2026, 3, 2), NOW)
    assert date(1900, 1, 1) == EARLIEST_FACT


@pytest.mark.parametrize("year", [0, -5, 10_000, 99_999_999_999])
def test_a_cohort_outside_the_calendar_is_refused(year: int) -> None:
    with pytest.raises(InvalidInput, match=f"cohort {year} is not a calendar year"):
        check_cohort(year)


# --- keys, labels, names and notes ---------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "JM-0042",
        "荆门-0042",
        "JM/2024.1_a",
        "Ключ-1",
        "كلمة-٣",
        "कंपनी-१",  # Devanagari letters with their combining vowel signs and a digit
        "会社ー1",
    ],
)
def test_keys_in_any_script_are_accepted(key: str) -> None:
    assert clean_key(key) == key


def test_keys_are_nfc_normalised() -> None:
    decomposed = "Cafe\u0301-1"  # e + COMBINING ACUTE ACCENT, as macOS may type it
    assert clean_key(decomposed) == "Café-1" == unicodedata.normalize("NFC", decomposed)
    assert lookup_key(f" {decomposed} ") == "Café-1"


HIDDEN = [
    ("\u200b", "U+200B ZERO WIDTH SPACE, an invisible character"),
    ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE, a bidirectional control"),
    ("\u2067", "U+2067 RIGHT-TO-LEFT ISOLATE, a bidirectional control"),
    ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE, an invisible character"),
    ("\u00ad", "U+00AD SOFT HYPHEN, an invisible character"),
    ("\u3164", "U+3164 HANGUL FILLER, an invisible character"),
    ("\ufe0f", "U+FE0F VARIATION SELECTOR-16, an invisible character"),
    ("\U000e0041", "U+E0041 TAG LATIN CAPITAL LETTER A, an invisible character"),
    ("\x85", "U+0085 NEXT LINE, a line break"),
    ("\x9b", "U+009B CONTROL SEQUENCE INTRODUCER, a control character"),
    ("\u2028", "U+2028 LINE SEPARATOR, a line break"),
    ("\u2029", "U+2029 PARAGRAPH SEPARATOR, a line break"),
    ("\n", "U+000A LINE FEED, a line break"),
    ("\x1b", "U+001B ESCAPE, a control character"),
    ("\t", "U+0009 TAB, a control character"),
    ("\x7f", "U+007F DELETE, a control character"),
]


@pytest.mark.parametrize(("char", "named"), HIDDEN, ids=lambda v: repr(v))
def test_each_kind_of_hidden_character_is_refused_in_keys(char: str, named: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(f"contains {named}; a key is made of")):
        clean_key(f"RT{char}1")


@pytest.mark.parametrize(
    ("key", "named"),
    [
        ("RT 1", "U+0020 SPACE, a space"),
        ("RT#1", "U+0023 NUMBER SIGN, not a letter or digit"),
        ("x²", "U+00B2 SUPERSCRIPT TWO, not a letter or digit"),
        ("\u0301x", "U+0301 COMBINING ACUTE ACCENT, a combining mark with no letter before it"),
        ("RT-\u0301", "U+0301 COMBINING ACUTE ACCENT, a combining mark with no letter before it"),
        (
            "\uff32\uff34-1",
            "U+FF32 FULLWIDTH LATIN CAPITAL LETTER R, a full-width character that looks like an "
            "ASCII one; type it half-width",
        ),
        ("JM-\uff10\uff11", "U+FF10 FULLWIDTH DIGIT ZERO, a full-width character"),
    ],
)
def test_keys_hold_only_letters_digits_and_four_punctuation_marks(key: str, named: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(f"contains {named}")):
        clean_key(key)


def test_a_stray_byte_from_the_terminal_is_refused_in_keys_and_lookups() -> None:
    for check in (clean_key, lookup_key):
        with pytest.raises(InvalidInput, match="not valid UTF-8 text"):
            check("JM-\udcff")


@pytest.mark.parametrize(("char", "named"), HIDDEN, ids=lambda v: repr(v))
def test_each_kind_of_hidden_character_is_refused_in_labels_and_names(
    char: str, named: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(f"contains {named}")):
        clean_label(f"钟{char}祥", "the site")
    with pytest.raises(InvalidInput, match=re.escape(f"contains {named}")):
        clean_name(f"荆门{char}科技")


def test_labels_are_trimmed_and_nfc_normalised_and_keep_inner_spaces() -> None:
    assert clean_label("  high-end equipment\n", "the sector") == "high-end equipment"
    assert clean_label("Cafe\u0301", "the site") == "Café"
    assert clean_name(" 荆门\u3000智造 ") == "荆门\u3000智造"


@pytest.mark.parametrize(
    "name",
    [
        "می\u200cخواهم",  # Persian: a zero-width non-joiner between Arabic-script letters
        "क्\u200dष",  # Devanagari: a zero-width joiner after a virama
        "Jade Hill Foods Ltd.",
        "荆门智造科技有限公司",
    ],
)
def test_names_keep_the_joiners_their_script_needs(name: str) -> None:
    assert clean_name(name) == name


@pytest.mark.parametrize("name", ["RT\u200c1", "荆\u200d门"])
def test_joiners_elsewhere_in_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="an invisible character"):
        clean_name(name)


def test_notes_keep_line_breaks_and_tabs() -> None:
    note = "line 1\n\tline 2\r\nline 3 \u200b 🚀"
    assert clean_note(note) == note


@pytest.mark.parametrize(
    ("note", "named"),
    [
        ("red \x1b[31m", "U+001B ESCAPE"),
        ("over\rwrite", "U+000D CARRIAGE RETURN"),
        ("bell\x07", "U+0007"),
        ("c1 \x9b31m", "U+009B CONTROL SEQUENCE INTRODUCER"),
        ("nul \x00", "NUL"),
    ],
)
def test_notes_refuse_other_control_characters(note: str, named: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(named)):
        clean_note(note)


@given(st.text())
def test_any_text_is_either_refused_or_a_valid_key(text: str) -> None:
    try:
        key = clean_key(text)
    except InvalidInput:
        return
    assert key == unicodedata.normalize("NFC", key) and 0 < len(key) <= 64
    for c in key:
        assert c in "-_./" or unicodedata.category(c)[0] in "LM" or c.isdecimal(), repr(c)


# --- terminal output -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b]0;pwned\x07title", "title"),
        ("\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\", "click"),
        ("\x9b31mc1\x9b0m", "c1"),
        ("a\x1bcb", "ab"),
        ("RT-1\u200b", "RT-1\\u200b"),
        ("abc\u202edef", "abc\\u202edef"),
        ("bell\x07", "bell\\x07"),
        ("two\nlines\ttab", "two\nlines\ttab"),
        ("crlf\r\nline", "crlf\nline"),
        ("荆门 Jade Hill [bold]x[/bold]", "荆门 Jade Hill [bold]x[/bold]"),
    ],
)
def test_terminal_output_strips_escape_sequences_and_shows_hidden_characters(
    stored: str, shown: str
) -> None:
    assert for_terminal(stored) == shown


def test_one_line_terminal_output_shows_line_breaks_as_escapes() -> None:
    assert for_terminal("x\ny\u2028z", one_line=True) == "x\\ny\\u2028z"


@given(st.text())
def test_terminal_output_never_holds_a_control_or_invisible_character(text: str) -> None:
    shown = for_terminal(text)
    assert "\x1b" not in shown
    for c in shown:
        assert c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp"), repr(c)


@given(st.dictionaries(st.text(), st.text()))
def test_json_for_the_terminal_decodes_to_the_same_document(doc: dict[str, str]) -> None:
    text = json_for_terminal(json.dumps(doc, ensure_ascii=False, indent=2))
    assert json.loads(text) == doc
    assert all(c == "\n" or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") for c in text)
