"""The table layout's arithmetic: which columns give way, and the time formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from incubator.tables import GAP, NARROWEST, Col, day, fit, minute, second, table_width

COLUMNS = [
    Col("key"),
    Col("name", shrinks_to=10),
    Col("days", numeric=True),
    Col("note", shrinks_to=6),
]


def test_a_table_that_fits_keeps_its_natural_widths() -> None:
    natural = [7, 20, 4, 12]
    assert fit(natural, COLUMNS, table_width(natural)) == natural
    assert table_width(natural) == sum(natural) + GAP * 3


def test_the_columns_named_first_give_way_first_and_the_others_never() -> None:
    natural = [7, 30, 4, 30]
    limit = table_width(natural) - 20
    assert fit(natural, COLUMNS, limit, order=[3, 1]) == [7, 30, 4, 10]
    assert fit(natural, COLUMNS, limit) == [7, 10, 4, 30]  # left to right by default
    assert fit(natural, COLUMNS, table_width(natural) - 40, order=[3, 1]) == [7, 14, 4, 6]


def test_a_cut_column_keeps_room_for_its_header() -> None:
    columns = [Col("a long header", shrinks_to=3), Col("note", shrinks_to=5)]
    assert fit([40, 40], columns, 13 + GAP + 20) == [13, 20]  # then the next one gives way


def test_on_a_terminal_too_narrow_cut_columns_give_way_again_and_the_rest_stay() -> None:
    widths = fit([7, 30, 4, 30], COLUMNS, 20, order=[3, 1])
    assert widths == [7, NARROWEST, 4, NARROWEST]
    assert table_width(widths) > 20  # wider than the terminal rather than cut a key or number


def test_times_are_shown_in_utc_without_microseconds() -> None:
    moment = datetime(2026, 11, 27, 17, 30, 5, 123456, tzinfo=timezone(timedelta(hours=8)))
    assert day(moment) == "2026-11-27"
    assert minute(moment) == "2026-11-27 09:30 UTC"
    assert second(moment) == "2026-11-27 09:30:05 UTC"
    assert minute("2026-01-01T00:00:00+00:00") == "2026-01-01 00:00 UTC"
    assert day(datetime(2024, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))) == "2024-01-02"
    assert day(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01"
