"""Pure table builders for the pages: the board's columns, stage limits, history and audit rows.

Like `charts.py`, nothing here touches Streamlit or the database: rows or views in, small
pandas frames out, so every rule the pages show (what is overdue, what the board caps, what
a CSV download contains) is unit-tested without a browser.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd

from incubator import workbook
from incubator.eventlog import ImportProblem
from incubator.metrics import DAYS_PER_MONTH
from incubator.stages import LADDER, EventKind, allowed_triggers
from ui.i18n import error_text, kind_label, reason_label, sector_label, stage_label, t
from ui.markup import escape_markdown

#: How many companies a board column renders at most (the longest in stage first; the board
#: loader asks the database for no more).
BOARD_CAP = 50
#: Setting under which the stuck-list limits are stored (JSON, see `StageLimits`).
LIMITS_SETTING = "stuck_limits"

COMPANY_COLUMNS = ["key", "name", "site", "sector", "stage", "entered_stage_at", "cohort"]
BOARD_ROW_COLUMNS = ["key", "name", "site", "sector", "stage", "days", "limit_days", "overdue"]


# --- stage limits --------------------------------------------------------------------------


@dataclass(frozen=True)
class StageLimits:
    """How many months a company may stay in a stage before it counts as stuck.

    `months` holds the default per stage (stages without an entry have no limit);
    `sector_months` overrides it for a sector, e.g. `{"biomedicine": {"incubator": 60}}`.
    Stored as JSON: `{"limits": {...}, "sector_limits": {...}}`.
    """

    months: Mapping[str, float] = field(default_factory=dict)
    sector_months: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def months_for(self, stage: str, sector: str = "") -> float | None:
        override = self.sector_months.get(sector, {})
        if stage in override:
            return float(override[stage])
        value = self.months.get(stage)
        return None if value is None else float(value)

    def days_for(self, stage: str, sector: str = "") -> float | None:
        months = self.months_for(stage, sector)
        return None if months is None else months * DAYS_PER_MONTH

    def to_json(self) -> str:
        return json.dumps(
            {
                "limits": {k: self.months[k] for k in sorted(self.months)},
                "sector_limits": {
                    s: {k: v[k] for k in sorted(v)} for s, v in sorted(self.sector_months.items())
                },
            },
            ensure_ascii=False,
            sort_keys=False,
        )

    @classmethod
    def from_json(cls, text: str | None, default: StageLimits) -> StageLimits:
        """Limits from the stored setting; `default` when it is missing or unreadable."""
        if not text:
            return default
        try:
            doc = json.loads(text)
            months = {str(k): float(v) for k, v in dict(doc.get("limits", {})).items()}
            sectors = {
                str(s): {str(k): float(v) for k, v in dict(stages).items()}
                for s, stages in dict(doc.get("sector_limits", {})).items()
            }
        except (ValueError, TypeError, AttributeError):
            return default
        return cls(months, sectors)

    def sector_rows(self) -> list[dict[str, Any]]:
        """The sector overrides as rows (`sector`, `stage`, `months`) for an editable table."""
        return [
            {"sector": sector, "stage": stage, "months": months}
            for sector, stages in sorted(self.sector_months.items())
            for stage, months in stages.items()
        ]

    @classmethod
    def from_rows(
        cls, months: Mapping[str, float | None], rows: Iterable[Mapping[str, Any]]
    ) -> StageLimits:
        """Limits from edited values; raises ValueError for a limit that is not positive."""
        defaults: dict[str, float] = {}
        for stage, value in months.items():
            if value is None:
                continue
            if float(value) <= 0:
                raise ValueError(f"the limit for {stage} must be positive")
            defaults[stage] = float(value)
        sectors: dict[str, dict[str, float]] = {}
        for row in rows:
            sector = str(row.get("sector") or "").strip()
            stage = str(row.get("stage") or "").strip()
            value = row.get("months")
            if not sector or not stage or value is None or value != value:
                continue
            if stage not in {s.value for s in LADDER}:
                raise ValueError(f"unknown stage {stage!r}")
            if float(value) <= 0:
                raise ValueError(f"the limit for {sector} · {stage} must be positive")
            sectors.setdefault(sector, {})[stage] = float(value)
        return cls(defaults, sectors)

    def describe(self, lang: str = "en") -> str:
        parts = [
            f"{stage_label(s.value, lang)} {t('dwell.months_value', lang, n=_num(self.months[s.value]))}"
            for s in LADDER
            if s.value in self.months
        ]
        for sector, stages in sorted(self.sector_months.items()):
            for stage, months in stages.items():
                parts.append(
                    f"{sector_label(sector, lang)} · {stage_label(stage, lang)} "
                    f"{t('dwell.months_value', lang, n=_num(months))}"
                )
        return ("；" if lang == "zh" else "; ").join(parts) if parts else "—"


def _num(value: float) -> str:
    return f"{value:g}"


# --- the board -----------------------------------------------------------------------------


def companies_frame(companies: Iterable[Any]) -> pd.DataFrame:
    """Companies (anything with the `CompanyView` attributes) as a frame for the board."""
    rows = [{column: getattr(c, column) for column in COMPANY_COLUMNS} for c in companies]
    frame = pd.DataFrame(rows, columns=COMPANY_COLUMNS)
    frame["entered_stage_at"] = pd.to_datetime(frame["entered_stage_at"], utc=True)
    frame["cohort"] = frame["cohort"].astype("int64")
    return frame


@dataclass(frozen=True)
class BoardColumn:
    stage: str
    total: int
    rows: pd.DataFrame  # key, name, site, sector, stage, days, limit_days, overdue

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def board_columns(
    loaded: Iterable[tuple[str, int, pd.DataFrame]],
    *,
    now: datetime,
    limits: StageLimits,
) -> list[BoardColumn]:
    """The board's columns from the loaded ones (`loaders.board`: stage, total, and the shown
    companies as a `companies_frame`, longest in stage first), in the same order: each shown
    company with its days in stage, its stage's limit in days (NaN for none) and whether the
    stay is over it at `now`."""
    columns = []
    for stage, total, companies in loaded:
        days = (pd.Timestamp(now) - companies["entered_stage_at"]).dt.total_seconds() / 86_400
        limit_days = [limits.days_for(stage, sector) for sector in companies["sector"]]
        rows = companies.assign(
            days=days.astype("float64"),
            limit_days=pd.Series(
                [float("nan") if d is None else d for d in limit_days],
                index=companies.index,
                dtype="float64",
            ),
        )
        rows = rows.assign(overdue=rows["days"] > rows["limit_days"])
        columns.append(
            BoardColumn(
                stage=stage,
                total=int(total),
                rows=rows[BOARD_ROW_COLUMNS].reset_index(drop=True),
            )
        )
    return columns


def board_count(total: int, lang: str = "en") -> str:
    """A column's head count: "1 company", "1,234 companies" (Chinese has no plural)."""
    if total == 1:
        return t("board.count_one", lang, n=1)
    return t("board.count", lang, n=f"{total:,}")


#: A gate badge (`ui.gates.badge`) by its kind: ready is a short green badge; what is
#: missing is small orange text, which wraps in a narrow column (a badge would cut it).
GATE_BADGE_MARKUP = {"ready": ":green-badge[{}]", "missing": ":small[:orange[{}]]"}


def board_cards(
    column: BoardColumn,
    lang: str = "en",
    *,
    start: int = 0,
    stop: int | None = None,
    gates: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """A board column's companies (`rows[start:stop]`) as Markdown cards: name, then key ·
    site · days, a red overdue badge when the stay is over the stage's limit, and the gate
    badge of the company's next advance (`gates`: key -> (kind, text) from `ui.gates.badge`,
    green when ready, orange with what is missing). Stored text is escaped."""
    cards = []
    for row in column.rows.iloc[start:stop].to_dict("records"):
        days = t("board.days", lang, n=f"{row['days']:,.0f}")
        facts = " · ".join([escape_markdown(row["key"]), escape_markdown(row["site"] or "—"), days])
        badge = (
            f" :red-badge[:material/schedule: {t('board.overdue', lang)}]" if row["overdue"] else ""
        )
        gate = (gates or {}).get(row["key"])
        if gate is not None:
            kind, text = gate
            badge += "  \n" + GATE_BADGE_MARKUP[kind].format(escape_markdown(text))
        cards.append(f"**{escape_markdown(row['name'])}**  \n:gray[{facts}]{badge}")
    return "\n\n".join(cards)


def common_moves(stages: Iterable[str]) -> list[EventKind]:
    """The moves the ladder allows for every one of `stages` (in the machine's order)."""
    stage_list = list(stages)
    if not stage_list:
        return []
    common = allowed_triggers(stage_list[0])
    for stage in stage_list[1:]:
        allowed = set(allowed_triggers(stage))
        common = [k for k in common if k in allowed]
    return [k for k in common if k is not EventKind.ADMIT]


def utc_today() -> date:
    """Today's date in UTC, the calendar of every date the tracker stores (DESIGN §2)."""
    return datetime.now(UTC).date()


def effective_instant(day: date | None, today: date | None = None) -> datetime | None:
    """A picked effective date as 00:00 UTC of that day (DESIGN §2). None for no date and
    for today (UTC): "today" means now, so a move after one made earlier today is allowed."""
    if day is None or day >= (today or utc_today()):
        return None
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def start_of_day(day: date) -> datetime:
    """The first instant of `day` in UTC, whatever day it is: the lower bound of a date
    filter ("from" a day). Unlike `effective_instant`, today is 00:00 UTC today, not now."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def end_of_day(day: date) -> datetime:
    """The last instant of `day` in UTC: the as-of instant for a picked as-of date."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=UTC) - timedelta(
        microseconds=1
    )


# --- stuck list, history, audit ------------------------------------------------------------


#: How a table is laid out on screen: its columns (message ids of the headers) in the order
#: shown, each with a width in pixels (None: sized to its content). The layouts below fit a
#: 1,400-px window beside the sidebar (a table about 940 px wide) without scrolling sideways.
Layout = tuple[tuple[str, int | None], ...]

#: The stuck list: how long overdue next to the stage, the long texts (name, sector) capped.
STUCK_LAYOUT: Layout = (
    ("col.key", None),
    ("col.name", 180),
    ("col.stage", None),
    ("col.overdue", None),
    ("col.days", None),
    ("col.limit", None),
    ("col.since", None),
    ("col.site", None),
    ("col.sector", 180),
)
#: The audit log: when it was recorded and the moment it took effect (they differ for a
#: back-dated move or imported history), which company, the move (admit, advance or exit
#: read from the stages), its gate's outcome (met, or the override's reason), why (reason,
#: note), by whom, and the hash. The site and the full
#: hash are in the download (and the company's history).
AUDIT_LAYOUT: Layout = (
    ("col.recorded", 108),
    ("col.effective", 108),
    ("col.key", 66),
    ("col.name", 112),
    ("col.move", 132),
    ("col.gate", 100),
    ("col.reason", 58),
    ("col.note", 90),
    ("col.actor", 66),
    ("col.hash", 72),
)


def stuck_table(rows: Sequence[Mapping[str, Any]], lang: str = "en") -> pd.DataFrame:
    """The stuck list (already oldest first) with translated headers."""
    return pd.DataFrame(
        {
            t("col.key", lang): [r["key"] for r in rows],
            t("col.name", lang): [r["name"] for r in rows],
            t("col.site", lang): [r["site"] for r in rows],
            t("col.sector", lang): [sector_label(r["sector"], lang) for r in rows],
            t("col.stage", lang): [stage_label(r["stage"], lang) for r in rows],
            t("col.since", lang): [_day(r["entered_stage_at"]) for r in rows],
            t("col.days", lang): [round(float(r["days_in_stage"])) for r in rows],
            t("col.limit", lang): [round(float(r["limit_days"])) for r in rows],
            t("col.overdue", lang): [round(float(r["overdue_days"])) for r in rows],
        }
    )


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d")
    return str(value)[:10]


def _minute(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return str(value)[:16].replace("T", " ")


def history_table(events: Sequence[Any], lang: str = "en") -> pd.DataFrame:
    """A company's events (EventView-like objects), oldest first, for display."""
    return pd.DataFrame(
        {
            t("col.kind", lang): [kind_label(e.kind, lang) for e in events],
            t("col.from", lang): [stage_label(e.from_stage, lang) for e in events],
            t("col.to", lang): [stage_label(e.to_stage, lang) for e in events],
            t("col.effective", lang): [_minute(e.effective_at) for e in events],
            t("col.recorded", lang): [_minute(e.recorded_at) for e in events],
            t("col.actor", lang): [e.actor for e in events],
            t("col.note", lang): [e.note for e in events],
            t("col.reason", lang): [reason_label(e.reason, lang) for e in events],
            t("col.hash", lang): [e.hash[:12] for e in events],
        }
    )


#: Columns of the audit download (machine-readable, the same in both languages).
AUDIT_COLUMNS = [
    "event_id",
    "company_key",
    "company_name",
    "site",
    "kind",
    "from_stage",
    "to_stage",
    "effective_at",
    "recorded_at",
    "actor",
    "note",
    "reason",
    "hash",
    "gate",
]


def audit_xlsx(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """The shown audit rows as an .xlsx workbook: every text a text cell (never a formula),
    times as ISO 8601 text in UTC."""

    def cell(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        return value

    table = ([cell(r.get(c)) for c in AUDIT_COLUMNS] for r in rows)
    return workbook.workbook_bytes([workbook.Sheet("audit log", AUDIT_COLUMNS, table)])


def audit_table(rows: Sequence[Mapping[str, Any]], lang: str = "en") -> pd.DataFrame:
    recorded: dict[Any, str] = {}  # an import records thousands of events at one instant
    return pd.DataFrame(
        {
            t("col.recorded", lang): [
                recorded.get(r["recorded_at"])
                or recorded.setdefault(r["recorded_at"], _minute(r["recorded_at"]))
                for r in rows
            ],
            t("col.effective", lang): [_minute(r["effective_at"]) for r in rows],
            t("col.key", lang): [r["company_key"] for r in rows],
            t("col.name", lang): [r["company_name"] for r in rows],
            t("col.site", lang): [r.get("site", "") for r in rows],
            t("col.kind", lang): [kind_label(r["kind"], lang) for r in rows],
            t("col.from", lang): [stage_label(r["from_stage"], lang) for r in rows],
            t("col.to", lang): [stage_label(r["to_stage"], lang) for r in rows],
            t("col.move", lang): [
                move_label(r["kind"], r["from_stage"], r["to_stage"], lang) for r in rows
            ],
            t("col.actor", lang): [r["actor"] for r in rows],
            t("col.note", lang): [r["note"] for r in rows],
            t("col.reason", lang): [reason_label(r["reason"], lang) for r in rows],
            t("col.hash", lang): [str(r["hash"])[:12] for r in rows],
            t("col.gate", lang): [gate_label(r.get("gate"), lang) for r in rows],
        }
    )


def gate_label(gate: str | Mapping[str, Any] | None, lang: str = "en") -> str:
    """An event's gate outcome (the stored JSON) in a few words: "" for a move without a
    gate, `Met`, or `Overridden: <the reason given>`."""
    if not gate:
        return ""
    outcome = json.loads(gate) if isinstance(gate, str) else gate
    if outcome.get("override"):
        return t("audit.gate.override", lang, reason=outcome["override"])
    return t("audit.gate.met", lang)


def move_label(kind: str, from_stage: str | None, to_stage: str | None, lang: str = "en") -> str:
    """An event in a few words: `Admit → Seed`, `Seed → Nursery` (an advance), `Seed →
    Exited` (an exit)."""
    before = kind_label(kind, lang) if kind == EventKind.ADMIT else stage_label(from_stage, lang)
    return f"{before} → {stage_label(to_stage, lang)}"


def problems_table(problems: Sequence[ImportProblem], lang: str = "en") -> pd.DataFrame:
    """An import's problems for display, by line, each in `lang`."""
    ordered = sorted(problems, key=lambda p: p.line)
    return pd.DataFrame(
        {
            t("audit.line", lang): [p.line for p in ordered],
            t("audit.problem", lang): [error_text(p.error, lang) for p in ordered],
        }
    )
