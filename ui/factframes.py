"""Pure table builders for a company's facts (DESIGN §8): its qualifications, financing
rounds, milestones and annual figures as the company page shows them, and the company
records (profile and facts) as the audit page lists them.

Nothing here touches Streamlit or the database: `CompanyFacts` (or record rows) in, pandas
frames and plain text out, with headers and labels in the reader's language. Stored values
(certificate numbers, investors, evidence references, notes) are left as written: the frames
are shown as tables, whose cells are plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from incubator.evidence import FIGURES_FIELDS, AnnualFigures, CompanyFacts
from ui.i18n import TEXT, sector_label, t

#: The annual figures the company page shows by default (the rest behind "every field").
MAIN_FIGURES: tuple[str, ...] = (
    "revenue",
    "net_profit",
    "rd_spend",
    "employees",
    "employees_phd",
    "ip_granted",
    "tech_contract_value",
)
ALL_FIGURES: tuple[str, ...] = tuple(f.name for f in FIGURES_FIELDS)
_UNITS = {f.name: f.unit for f in FIGURES_FIELDS}
NONE = "—"


# --- labels --------------------------------------------------------------------------------


def _label(family: str, value: Any, lang: str) -> str:
    """`family.value` in `lang`, or the value as stored when the app has no name for it."""
    if value is None or value == "":
        return ""
    key = f"{family}.{value}"
    return t(key, lang) if key in TEXT else str(value)


def qualification_label(kind: Any, lang: str) -> str:
    return _label("facts.qualification", kind, lang)


def level_label(level: Any, lang: str) -> str:
    return _label("facts.level", level, lang)


def milestone_label(kind: Any, lang: str) -> str:
    return _label("facts.milestone", kind, lang)


def record_kind_label(kind: Any, lang: str) -> str:
    """`founded` → "Founding date" / "成立日期"; `profile` → "Profile" / "企业信息"."""
    return _label("facts.kind", kind, lang)


def figure_label(name: str, lang: str, *, unit: bool = False) -> str:
    """A figure's name in `lang`; with `unit`, money says it is in yuan."""
    label = _label("facts.figure", name, lang)
    return (
        t("facts.figure_yuan", lang, label=label) if unit and _UNITS.get(name) == "yuan" else label
    )


def yuan(amount: int | None) -> str:
    """`12,000,000` (thousands separated), `—` for none."""
    return NONE if amount is None else f"{amount:,}"


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# --- the company page ----------------------------------------------------------------------


def qualifications_table(facts: CompanyFacts, day: date, lang: str = "en") -> pd.DataFrame:
    """One row per grant, oldest record first: whether it is valid on `day`, and its
    revocation when there is one."""
    rows = facts.qualifications
    return pd.DataFrame(
        {
            t("facts.col.kind", lang): [qualification_label(q.kind.value, lang) for q in rows],
            t("facts.col.level", lang): [
                level_label(q.level.value if q.level else None, lang) for q in rows
            ],
            t("facts.col.number", lang): [_text(q.number) for q in rows],
            t("facts.col.granted", lang): [_day(q.granted_on) for q in rows],
            t("facts.col.expires", lang): [_day(q.expires_on) for q in rows],
            t("facts.col.valid", lang): [
                t("facts.yes" if q.valid_on(day) else "facts.no", lang) for q in rows
            ],
            t("facts.col.revoked", lang): [_day(q.revoked_on) for q in rows],
            t("facts.col.revoke_reason", lang): [_text(q.revoke_reason) for q in rows],
            t("facts.col.evidence", lang): [_text(q.evidence) for q in rows],
        }
    )


def financing_table(facts: CompanyFacts, lang: str = "en") -> pd.DataFrame:
    """The financing rounds by date, the amounts with thousands separators."""
    rows = sorted(facts.financing, key=lambda r: (r.on, r.seq))
    return pd.DataFrame(
        {
            t("facts.col.date", lang): [_day(r.on) for r in rows],
            t("facts.col.amount", lang): [yuan(r.amount) for r in rows],
            t("facts.col.round", lang): [_text(r.round_name) for r in rows],
            t("facts.col.investor", lang): [_text(r.investor) for r in rows],
            t("facts.col.evidence", lang): [_text(r.evidence) for r in rows],
        }
    )


def milestones_table(facts: CompanyFacts, lang: str = "en") -> pd.DataFrame:
    rows = sorted(facts.milestones, key=lambda m: (m.on, m.seq))
    return pd.DataFrame(
        {
            t("facts.col.milestone", lang): [milestone_label(m.kind.value, lang) for m in rows],
            t("facts.col.date", lang): [_day(m.on) for m in rows],
            t("facts.col.evidence", lang): [_text(m.evidence) for m in rows],
        }
    )


def figures_table(
    figures: Sequence[AnnualFigures], lang: str = "en", names: Iterable[str] = MAIN_FIGURES
) -> pd.DataFrame:
    """One row per year, newest first; a field never given is `—`. The year is text, so a
    table does not print it as `2,025`."""
    rows = sorted(figures, key=lambda f: f.year, reverse=True)
    table: dict[str, list[str]] = {t("facts.col.year", lang): [str(f.year) for f in rows]}
    for name in names:
        table[figure_label(name, lang)] = [yuan(f.get(name)) for f in rows]
    return pd.DataFrame(table)


# --- the audit page: company records -------------------------------------------------------


def _join(parts: Iterable[str], lang: str) -> str:
    return ("；" if lang == "zh" else "; ").join(p for p in parts if p)


def record_summary(kind: str, fields: Mapping[str, Any], lang: str = "en") -> str:
    """A record's business fields in a few words, in `lang`: `High-tech enterprise;
    National; certificate GR…; granted 2025-03-01; expires 2028-03-01`."""
    if kind == "profile":
        names = {"name": "col.name", "sector": "col.sector", "site": "col.site"}
        names["uscc"] = "company.uscc"
        shown = {**fields}
        if shown.get("sector"):
            shown["sector"] = sector_label(str(shown["sector"]), lang)
        return _join(
            (f"{t(names[k], lang)} {_text(v) or NONE}" for k, v in shown.items() if k in names),
            lang,
        )
    parts: list[str] = []
    if kind == "founded":
        parts.append(t("facts.sum.founded", lang, day=fields.get("founded_on")))
    elif kind == "qualification":
        number = fields.get("number")
        parts += [
            qualification_label(fields.get("kind"), lang),
            level_label(fields.get("level"), lang),
            t("facts.sum.number", lang, number=number) if number else "",
            t("facts.sum.granted", lang, day=fields.get("granted_on")),
            t("facts.sum.expires", lang, day=fields.get("expires_on")),
        ]
    elif kind == "revocation":
        parts.append(
            t(
                "facts.sum.revoked",
                lang,
                kind=qualification_label(fields.get("kind"), lang),
                grant=fields.get("grant"),
                day=fields.get("revoked_on"),
                reason=fields.get("reason"),
            )
        )
    elif kind == "financing":
        amount = fields.get("amount")
        shown = yuan(amount) if isinstance(amount, int) else _text(amount)
        parts.append(t("facts.sum.amount", lang, amount=shown, day=fields.get("on")))
        if fields.get("round"):
            parts.append(t("facts.sum.round", lang, round=fields["round"]))
        if fields.get("investor"):
            parts.append(t("facts.sum.investor", lang, investor=fields["investor"]))
    elif kind == "milestone":
        parts.append(
            t(
                "facts.sum.milestone",
                lang,
                kind=milestone_label(fields.get("kind"), lang),
                day=fields.get("on"),
            )
        )
    elif kind == "figures":
        values = fields.get("values") or {}
        # In the order of §8's table (the stored payload's keys are sorted by name).
        names = [n for n in ALL_FIGURES if n in values] + sorted(set(values) - set(ALL_FIGURES))
        given = ("，" if lang == "zh" else ", ").join(
            f"{figure_label(n, lang)} {yuan(v) if isinstance(v, int) else _text(v)}"
            for n in names
            if (v := values[n]) is not None
        )
        parts.append(t("facts.sum.figures", lang, year=fields.get("year"), values=given))
    else:  # a kind this version does not know: its fields as stored
        parts.append(", ".join(f"{k} {v}" for k, v in fields.items()))
    if fields.get("evidence"):
        parts.append(t("facts.sum.evidence", lang, evidence=fields["evidence"]))
    return _join(parts, lang)


def _minute(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return str(value)[:16].replace("T", " ")


#: The company records table on screen: when, which company, what kind of record, what it
#: says, by whom, the note and the hash (widths fit a 1,400-px window, as the audit log's).
RECORDS_LAYOUT: tuple[tuple[str, int | None], ...] = (
    ("col.recorded", 112),
    ("col.key", 70),
    ("col.name", 125),
    ("col.record_kind", 105),
    ("col.summary", 260),
    ("col.actor", 75),
    ("col.note", 80),
    ("col.hash", 72),
)


def records_table(rows: Sequence[Mapping[str, Any]], lang: str = "en") -> pd.DataFrame:
    """Rows of `services.record_log` (newest first) for display."""
    return pd.DataFrame(
        {
            t("col.recorded", lang): [_minute(r["recorded_at"]) for r in rows],
            t("col.key", lang): [r["company_key"] for r in rows],
            t("col.name", lang): [r["company_name"] for r in rows],
            t("col.record_kind", lang): [record_kind_label(r["kind"], lang) for r in rows],
            t("col.summary", lang): [record_summary(r["kind"], r["fields"], lang) for r in rows],
            t("col.actor", lang): [r["actor"] for r in rows],
            t("col.note", lang): [r["note"] for r in rows],
            t("col.hash", lang): [str(r["hash"])[:12] for r in rows],
        }
    )
