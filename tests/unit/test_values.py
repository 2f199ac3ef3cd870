"""USCC check digits (GB 32100-2015), instants and keys."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incubator.stages import InvalidInput
from incubator.values import (
    USCC_ALPHABET,
    clean_key,
    from_micros,
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
