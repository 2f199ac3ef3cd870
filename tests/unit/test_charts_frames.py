"""The pages' pure table builders: board columns, stage limits, audit and history rows."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from openpyxl import load_workbook

from incubator import metrics
from incubator.eventlog import ImportProblem
from incubator.stages import LADDER, EventKind, InvalidInput
from ui import frames
from ui.frames import StageLimits
from ui.i18n import t

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DEFAULTS = StageLimits(
    dict(metrics.DEFAULT_LIMITS_MONTHS),
    {s: dict(v) for s, v in metrics.SECTOR_LIMITS_MONTHS.items()},
)


@dataclass(frozen=True)
class FakeCompany:
    key: str
    name: str
    site: str
    sector: str
    stage: str
    entered_stage_at: datetime
    cohort: int


def company(key: str, stage: str, days: float, *, sector: str = "organic food", site: str = "钟祥",
            name: str | None = None) -> FakeCompany:  # fmt: skip
    return FakeCompany(
        key, name or f"Company {key}", site, sector, stage, NOW - timedelta(days=days), 2020
    )


def loaded(
    *companies: FakeCompany, totals: dict[str, int] | None = None
) -> list[tuple[str, int, pd.DataFrame]]:
    """What `loaders.board` hands over: per ladder stage its total (by default the companies
    given) and the shown companies as a `companies_frame`, in the order given."""
    return [
        (
            stage.value,
            (totals or {}).get(stage.value, sum(c.stage == stage.value for c in companies)),
            frames.companies_frame([c for c in companies if c.stage == stage.value]),
        )
        for stage in LADDER
    ]


def board(
    *companies: FakeCompany, totals: dict[str, int] | None = None
) -> dict[str, frames.BoardColumn]:
    columns = frames.board_columns(loaded(*companies, totals=totals), now=NOW, limits=DEFAULTS)
    return {c.stage: c for c in columns}


# --- stage limits --------------------------------------------------------------------------


def test_limits_round_trip_through_the_setting_json() -> None:
    text = DEFAULTS.to_json()
    assert json.loads(text) == {
        "limits": {"accelerator": 60, "incubator": 48, "nursery": 24},
        "sector_limits": {"biomedicine": {"incubator": 60}},
    }
    assert StageLimits.from_json(text, StageLimits()) == DEFAULTS


@pytest.mark.parametrize("stored", [None, "", "not json", "[1, 2]", '{"limits": {"seed": "x"}}'])
def test_unreadable_limits_fall_back_to_the_defaults(stored: str | None) -> None:
    assert StageLimits.from_json(stored, DEFAULTS) is DEFAULTS


def test_a_sector_limit_overrides_the_stage_default() -> None:
    assert DEFAULTS.months_for("incubator", "biomedicine") == 60
    assert DEFAULTS.months_for("incubator", "organic food") == 48
    assert DEFAULTS.months_for("seed") is None
    assert DEFAULTS.days_for("nursery") == pytest.approx(24 * metrics.DAYS_PER_MONTH)


def test_limits_from_edited_rows_skip_blanks_and_refuse_non_positive_values() -> None:
    limits = StageLimits.from_rows(
        {"seed": None, "nursery": 12},
        [
            {"sector": "biomedicine", "stage": "incubator", "months": 72},
            {"sector": "", "stage": "nursery", "months": 3},
            {"sector": "x", "stage": "nursery", "months": float("nan")},
        ],
    )
    assert limits == StageLimits({"nursery": 12.0}, {"biomedicine": {"incubator": 72.0}})
    with pytest.raises(ValueError, match="positive"):
        StageLimits.from_rows({"nursery": 0}, [])
    with pytest.raises(ValueError, match="unknown stage"):
        StageLimits.from_rows({}, [{"sector": "x", "stage": "moon", "months": 3}])


def test_limits_describe_themselves_in_both_languages() -> None:
    assert DEFAULTS.describe("en").startswith("Nursery 24 months; Incubator 48 months")
    assert DEFAULTS.describe("en").endswith("; biomedicine · Incubator 60 months")
    assert DEFAULTS.describe("zh").endswith("；生物医药 · 孵化器 60 个月")  # no raw sector
    assert StageLimits().describe() == "—"


# --- the board -----------------------------------------------------------------------------


def test_board_has_a_column_per_stage_with_its_total() -> None:
    columns = board(company("A", "seed", 3), company("B", "seed", 5), company("C", "incubator", 9))
    assert list(columns) == [s.value for s in LADDER]
    assert columns["seed"].total == 2 and columns["incubator"].total == 1
    assert columns["nursery"].total == 0 and columns["nursery"].rows.empty
    assert list(columns["seed"].rows.columns) == frames.BOARD_ROW_COLUMNS


def test_board_shows_the_loaded_companies_in_order_and_counts_the_rest() -> None:
    shown = [company(f"K{i:03d}", "nursery", days=i) for i in range(119, 69, -1)]  # 50 longest
    column = board(*shown, totals={"nursery": 120})["nursery"]
    assert column.total == 120 and len(column.rows) == 50 and column.more == 70
    assert column.rows["key"].tolist()[:3] == ["K119", "K118", "K117"]
    assert column.rows["days"].tolist()[:3] == pytest.approx([119, 118, 117])
    assert column.rows["days"].is_monotonic_decreasing
    assert (column.rows["stage"] == "nursery").all()


def test_board_counts_companies_in_english_with_a_plural_and_in_chinese_without() -> None:
    assert frames.board_count(0, "en") == "0 companies"
    assert frames.board_count(1, "en") == "1 company"
    assert frames.board_count(2, "en") == "2 companies"
    assert frames.board_count(12_345, "en") == "12,345 companies"
    assert frames.board_count(1, "zh") == "1 家企业"
    assert frames.board_count(12_345, "zh") == "12,345 家企业"


def test_board_marks_stays_over_the_limit_with_sector_overrides() -> None:
    columns = board(
        company("OLD", "incubator", 50 * 30.4375),  # 50 months: over the default 48
        company("BIO", "incubator", 50 * 30.4375, sector="biomedicine"),  # under its own 60
        company("NEW", "incubator", 10),
        company("SEED", "seed", 5000),  # seed has no limit
    )
    overdue = dict(
        zip(columns["incubator"].rows["key"], columns["incubator"].rows["overdue"], strict=True)
    )
    assert overdue == {"OLD": True, "BIO": False, "NEW": False}
    limit_days = columns["incubator"].rows["limit_days"].tolist()
    assert limit_days == pytest.approx([48 * 30.4375, 60 * 30.4375, 48 * 30.4375])
    assert columns["seed"].rows["limit_days"].isna().all()
    assert not columns["seed"].rows["overdue"].any()


def test_board_cards_escape_names_and_show_the_overdue_badge() -> None:
    column = board(company("K1", "incubator", 2000, name="*Evil* [link](x)"))["incubator"]
    cards = frames.board_cards(column, "en")
    assert r"\*Evil\* \[link\]\(x\)" in cards
    assert ":red-badge[" in cards and "over limit" in cards
    assert "2,000\u00a0d" in cards
    assert "超期" in frames.board_cards(column, "zh")


def test_common_moves_are_the_moves_every_selected_stage_allows() -> None:
    assert frames.common_moves(["seed", "incubator"]) == [EventKind.ADVANCE, EventKind.EXIT]
    assert frames.common_moves(["seed", "industrial_park"]) == [EventKind.EXIT]
    assert frames.common_moves(["exited"]) == []
    assert frames.common_moves([]) == []


def test_picked_dates_become_utc_instants() -> None:
    today = date(2026, 11, 26)
    assert frames.effective_instant(None, today) is None
    assert frames.effective_instant(date(2024, 7, 1), today) == datetime(2024, 7, 1, tzinfo=UTC)
    assert frames.effective_instant(today, today) is None  # today means now
    assert frames.utc_today() == datetime.now(UTC).date()


def test_a_from_date_filter_starts_at_midnight_utc_even_today() -> None:
    today = frames.utc_today()
    assert frames.start_of_day(today) == datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    assert frames.start_of_day(date(2024, 7, 1)) == datetime(2024, 7, 1, tzinfo=UTC)
    future = date(2999, 1, 1)
    assert frames.start_of_day(future) == datetime(2999, 1, 1, tzinfo=UTC)


def test_the_as_of_date_means_midnight_utc_like_the_command_line() -> None:
    from incubator.values import parse_instant
    from ui.app_context import Scope

    scope = Scope(as_of=date(2025, 12, 31))
    assert scope.as_of_instant(date(2026, 11, 26)) == parse_instant("2025-12-31")
    assert Scope(as_of=date(2026, 11, 26)).as_of_instant(date(2026, 11, 26)) is None
    assert frames.end_of_day(date(2024, 7, 1)) == datetime(
        2024, 7, 1, 23, 59, 59, 999_999, tzinfo=UTC
    )


def test_companies_frame_has_the_board_columns_even_when_empty() -> None:
    frame = frames.companies_frame([])
    assert list(frame.columns) == frames.COMPANY_COLUMNS and frame.empty
    (column,) = frames.board_columns([("seed", 0, frame)], now=NOW, limits=DEFAULTS)
    assert (column.stage, column.total, column.more) == ("seed", 0, 0) and column.rows.empty
    assert list(column.rows.columns) == frames.BOARD_ROW_COLUMNS


# --- stuck, history, audit -----------------------------------------------------------------


def test_stuck_table_rounds_days_and_translates_stages() -> None:
    rows = [
        {"key": "K1", "name": "N", "site": "钟祥", "sector": "biomedicine", "stage": "incubator",
         "entered_stage_at": "2019-02-07T01:00:00+00:00", "days_in_stage": 2850.4,
         "limit_days": 1461.0, "overdue_days": 1389.4},
    ]  # fmt: skip
    table = frames.stuck_table(rows, "zh")
    assert table.iloc[0].tolist() == [
        "K1",
        "N",
        "钟祥",
        "生物医药",
        "孵化器",
        "2019-02-07",
        2850,
        1461,
        1389,
    ]


AUDIT_ROW = {
    "event_id": 7,
    "company_key": "JM-1",
    "company_name": '荆门, "quoted" Ltd',
    "site": "钟祥",
    "kind": "exit",
    "from_stage": "seed",
    "to_stage": "exited",
    "effective_at": datetime(2024, 7, 1, 8, 30, tzinfo=UTC),
    "recorded_at": datetime(2024, 7, 2, tzinfo=UTC),
    "actor": "wang",
    "note": "line one",
    "reason": "failed",
    "hash": "ab" * 32,
}


def test_the_audit_download_is_a_workbook_with_iso_times_and_text_cells() -> None:
    hostile = {**AUDIT_ROW, "company_name": "=HYPERLINK(\"http://x\")", "actor": "@SUM(1+1)",
               "note": "+cmd|' /C calc'!A0", "site": "-1+1"}  # fmt: skip
    sheet = load_workbook(io.BytesIO(frames.audit_xlsx([AUDIT_ROW, hostile]))).active
    header, first, second = ([c.value for c in row] for row in sheet.iter_rows())
    assert header == frames.AUDIT_COLUMNS
    row = dict(zip(header, first, strict=True))
    assert row["company_name"] == '荆门, "quoted" Ltd'
    assert row["effective_at"] == "2024-07-01T08:30:00+00:00"
    assert row["reason"] == "failed" and row["hash"] == "ab" * 32
    row = dict(zip(header, second, strict=True))
    assert (row["company_name"], row["actor"], row["note"], row["site"]) == (
        '=HYPERLINK("http://x")',
        "@SUM(1+1)",
        "+cmd|' /C calc'!A0",
        "-1+1",
    )
    assert {c.data_type for c in sheet[3] if isinstance(c.value, str)} == {"s"}


def test_audit_table_translates_kinds_stages_and_reasons() -> None:
    table = frames.audit_table([AUDIT_ROW], "zh")
    row = table.iloc[0]
    assert (row["事件"], row["原阶段"], row["新阶段"], row["原因"]) == (
        "退出",
        "种子",
        "退出",
        "经营失败",
    )
    assert row["生效时间（UTC）"] == "2024-07-01 08:30"
    assert row["哈希"] == "ab" * 6


def test_history_table_lists_events_oldest_first() -> None:
    @dataclass
    class Event:
        kind: str
        from_stage: str | None
        to_stage: str
        effective_at: datetime
        recorded_at: datetime
        actor: str
        note: str
        reason: str | None
        hash: str

    events = [
        Event("admit", None, "seed", NOW, NOW, "wang", "", None, "a" * 64),
        Event("advance", "seed", "nursery", NOW, NOW, "li", "ok", None, "b" * 64),
    ]
    table = frames.history_table(events, "en")
    assert table["Event"].tolist() == ["Admit", "Advance"]
    assert table["From"].tolist() == ["—", "Seed"]


def test_problems_table_lists_every_bad_line_in_order() -> None:
    problems = [
        ImportProblem(9, InvalidInput("import.no_rows")),
        ImportProblem(2, InvalidInput("stage.unknown", value="moon", allowed=list(LADDER))),
    ]
    table = frames.problems_table(problems, "en")
    assert isinstance(table, pd.DataFrame)
    assert table.values.tolist() == [
        [
            2,
            "unknown stage 'moon'; allowed: seed, nursery, incubator, accelerator, industrial_park",
        ],
        [9, "the file has a header but no rows"],
    ]
    assert frames.problems_table(problems, "zh").values.tolist() == [
        [2, "未知阶段 “moon”；可选：种子、苗圃、孵化器、加速器、产业园"],
        [9, "文件只有表头，没有数据行"],
    ]


def test_the_audit_table_reads_each_event_as_a_move() -> None:
    rows = [
        {**AUDIT_ROW, "kind": "admit", "from_stage": None, "to_stage": "seed", "reason": None},
        {**AUDIT_ROW, "kind": "advance", "from_stage": "seed", "to_stage": "nursery",
         "reason": None},
        AUDIT_ROW,  # an exit from the seed stage
    ]  # fmt: skip
    assert frames.audit_table(rows, "en")["Move"].tolist() == [
        "Admit → Seed",
        "Seed → Nursery",
        "Seed → Exited",
    ]
    assert frames.audit_table(rows, "zh")["流转"].tolist()[0] == "入驻 → 种子"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_table_layouts_name_the_tables_columns(lang: str) -> None:
    stuck = frames.stuck_table([], lang)
    audit = frames.audit_table([AUDIT_ROW], lang)
    for layout, table in [(frames.STUCK_LAYOUT, stuck), (frames.AUDIT_LAYOUT, audit)]:
        headers = [t(header, lang) for header, _ in layout]
        assert set(headers) <= set(table.columns)
        assert len(set(headers)) == len(headers)


def test_the_stuck_list_shows_the_overdue_days_next_to_the_stage() -> None:
    order = [header for header, _ in frames.STUCK_LAYOUT]
    assert order[order.index("col.stage") + 1] == "col.overdue"


def test_the_audit_log_keeps_note_reason_and_hash_within_a_1400_px_window() -> None:
    # Beside the sidebar, a 1,400-px window leaves the table about 940 px: every column has
    # a width, and together they fit.
    shown = dict(frames.AUDIT_LAYOUT)
    assert {"col.note", "col.reason", "col.hash", "col.actor", "col.move", "col.effective"} <= set(
        shown
    )
    assert all(width is not None for width in shown.values())
    assert sum(w for w in shown.values() if w is not None) <= 930
