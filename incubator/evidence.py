"""Evidence: company facts, their validity, and the gates that decide a move (DESIGN §8).

Pure domain, beside `stages.py`: the standard library and the project's other pure modules
(`stages`, `values`, `messages`), nothing else. How graduation is decided is in this file:

- **Facts** are records of a company's chain (`company_fact`), one kind each (`FACT_KINDS`):
  its founding date, qualifications and their revocations, financing rounds, milestones and
  annual figures. `new_*` validate what a person gives and return the record's payload (its
  business fields, hashed in the chain); `fold` reads a company's records back into a
  `CompanyFacts`, everything known about it, which `CompanyFacts.as_of(day)` cuts to what was
  known on a day, by each fact's own date.
- **Criteria** (`Registered`, `FoundedWithinMonths`, `HasQualification`, `FinancingOver`,
  `RevenueTwoYearsOver`, `RevenueLastYearAtLeast`, `MilestoneReached`) look at a company's
  facts on the day D of a move; a **gate** combines criteria with `all` or `any`; the
  **policy** says which gate guards entering which stage (`DEFAULT_POLICY` is §8's table).
  `evaluate(gate, facts, day)` evaluates every criterion and names, for each, the company's
  own figure.
- **Gates in the machine**: the ladder's transitions carry gate conditions
  (`stages.TRANSITIONS`); an `Evidence` passed with a move is what those conditions read.

Dates are calendar days (`datetime.date`); D is the UTC date of a move's `effective_at`.
Money is integer yuan.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, ClassVar

from incubator.messages import Message, message
from incubator.stages import LADDER, DomainError, InvalidInput, Stage
from incubator.values import (
    EARLIEST_FACT,
    check_fact_date,
    clean_label,
    clean_note,
    clean_text,
)

# --- kinds -------------------------------------------------------------------------------


class QualificationKind(StrEnum):
    """A qualification (资质认定) a company may hold, with its default validity."""

    TECH_SME = "tech_sme"
    HIGH_TECH = "high_tech"
    SPECIALIZED = "specialized"
    LITTLE_GIANT = "little_giant"
    GAZELLE = "gazelle"
    HIDDEN_CHAMPION = "hidden_champion"

    def label(self, lang: str = "en") -> str:
        """Its name for people: `high-tech`, `高新技术企业`."""
        return _QUALIFICATION_LABELS[self][1 if lang == "zh" else 0]

    def localised(self, lang: str) -> str:
        """As a message shows a value to type: `high_tech` (Chinese: its name)."""
        return self.label("zh") if lang == "zh" else self.value

    def default_expiry(self, granted_on: date) -> date:
        """The first day it is no longer valid, when the certificate gives none: 1 January
        of the next year for `tech_sme` (registered for the calendar year), one year later
        for `gazelle`, three years later for the others (29 February + 3 years = 28 February).
        """
        if self is QualificationKind.TECH_SME:
            return date(granted_on.year + 1, 1, 1)
        years = 1 if self is QualificationKind.GAZELLE else 3
        return add_months(granted_on, 12 * years)


_QUALIFICATION_LABELS = {
    QualificationKind.TECH_SME: ("tech-based SME", "科技型中小企业"),
    QualificationKind.HIGH_TECH: ("high-tech", "高新技术企业"),
    QualificationKind.SPECIALIZED: ("specialized SME", "专精特新中小企业"),
    QualificationKind.LITTLE_GIANT: ("little giant", "专精特新“小巨人”"),
    QualificationKind.GAZELLE: ("gazelle", "瞪羚企业"),
    QualificationKind.HIDDEN_CHAMPION: ("hidden champion", "隐形冠军"),
}


class Level(StrEnum):
    """Who granted a qualification."""

    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"

    def localised(self, lang: str) -> str:
        return _LEVEL_LABELS[self] if lang == "zh" else self.value


_LEVEL_LABELS = {Level.NATIONAL: "国家级", Level.PROVINCIAL: "省级", Level.MUNICIPAL: "市级"}


class MilestoneKind(StrEnum):
    LISTED = "listed"
    ACQUIRED = "acquired"

    def localised(self, lang: str) -> str:
        return _MILESTONE_LABELS[self] if lang == "zh" else self.value


_MILESTONE_LABELS = {MilestoneKind.LISTED: "上市/挂牌", MilestoneKind.ACQUIRED: "被并购"}


class GateMode(StrEnum):
    ALL = "all"
    ANY = "any"

    def localised(self, lang: str) -> str:
        if lang == "zh":
            return "须全部满足" if self is GateMode.ALL else "满足其一即可"
        return f"{self.value} of"


#: The kinds of records a company's chain holds besides its profile (`audit.PROFILE`).
FOUNDED = "founded"
QUALIFICATION = "qualification"
REVOCATION = "revocation"
FINANCING = "financing"
MILESTONE = "milestone"
FIGURES = "figures"
FACT_KINDS = (FOUNDED, QUALIFICATION, REVOCATION, FINANCING, MILESTONE, FIGURES)


@dataclass(frozen=True)
class Figure:
    """A field of the annual figures: money in yuan, a count, or an area in m²."""

    name: str
    unit: str  # "yuan", "count" or "m2"
    label_zh: str
    #: May be negative (a loss).
    signed: bool = False

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def localised(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.name


#: The annual figures (年度数据) of §8, in its order.
FIGURES_FIELDS: tuple[Figure, ...] = (
    Figure("revenue", "yuan", "营业收入"),
    Figure("net_profit", "yuan", "净利润", signed=True),
    Figure("taxes", "yuan", "上缴税费"),
    Figure("rd_spend", "yuan", "研发投入"),
    Figure("exports", "yuan", "出口额"),
    Figure("employees", "count", "从业人员"),
    Figure("employees_college", "count", "大专以上学历人员"),
    Figure("employees_phd", "count", "博士"),
    Figure("returnees", "count", "留学归国人员"),
    Figure("new_graduates", "count", "吸纳应届毕业生"),
    Figure("ip_applied", "count", "知识产权申请数"),
    Figure("ip_granted", "count", "知识产权授权数"),
    Figure("ip_valid", "count", "有效知识产权数"),
    Figure("invention_patents_valid", "count", "有效发明专利数"),
    Figure("tech_contracts", "count", "技术合同数"),
    Figure("tech_contract_value", "yuan", "技术合同成交额"),
    Figure("floor_area_m2", "m2", "场地面积（平方米）"),
)
FIGURE_NAMES: tuple[str, ...] = tuple(f.name for f in FIGURES_FIELDS)
_FIGURES_BY_NAME = {f.name: f for f in FIGURES_FIELDS}
#: Counts of people that are part of `employees`: none may exceed it in the same record.
EMPLOYEE_SUBSETS = ("employees_college", "employees_phd", "returnees", "new_graduates")

#: The largest amount or count the database stores (a signed 64-bit integer).
MAX_NUMBER = 2**63 - 1
#: The longest evidence reference (document number, file name or URL).
MAX_REFERENCE = 500
#: An override reason has at least this many characters (DESIGN §8).
MIN_OVERRIDE = 10


# --- small values --------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """`day` plus calendar months; a day the month lacks becomes its last day
    (31 August + 6 months = 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _days_in_month(year, month)
    return date(year, month, min(day.day, last))


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


def months_between(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end` (negative when `end` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and add_months(start, months) > end:
        months -= 1
    elif months < 0 and add_months(start, months) < end:
        months += 1
    return months


class Yuan(int):
    """An amount of money in a message: `5,000,000` (Chinese: `5,000,000 元`)."""

    def localised(self, lang: str) -> str:
        return f"{int(self):,} 元" if lang == "zh" else f"{int(self):,}"


class Year(int):
    """A calendar year in a message: `2025` (Chinese: `2025 年`)."""

    def localised(self, lang: str) -> str:
        return f"{int(self)} 年" if lang == "zh" else str(int(self))


class KindName(str):
    """A qualification kind named for people in a message: `high-tech`, `高新技术企业`."""

    def localised(self, lang: str) -> str:
        return QualificationKind(self).label(lang)


class Number(int):
    """A count or area in a message: `1,200`."""

    def localised(self, lang: str) -> str:
        return f"{int(self):,}"


def parse_day(value: str | date, what: str | Message = "field.date") -> date:
    """A calendar day from ISO 8601 text (`2024-07-01`) or a date; InvalidInput otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = clean_text(value, what).strip()
    if not text:
        raise InvalidInput("day.empty", what=_field(what))
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInput("day.unreadable", what=_field(what), value=value)


def parse_whole(
    value: str | int, what: str | Message, *, signed: bool = False, positive: bool = False
) -> int:
    """A whole number of yuan, people or m² from digits (`1200000`, `1,200,000`,
    `1_200_000`) or an int; negative only when `signed`, above zero when `positive`."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput("number.not_whole", what=_field(what), value=str(value))
    if isinstance(value, str):
        text = clean_text(value, what).strip()
        if not re.fullmatch(r"[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]{1,3}(_[0-9]{3})+|[0-9]+)", text):
            raise InvalidInput("number.not_whole", what=_field(what), value=value)
        number = int(text.replace(",", "").replace("_", ""))
    else:
        number = value
    if abs(number) > MAX_NUMBER:
        raise InvalidInput("number.too_large", what=_field(what), value=str(value))
    if number < 0 and not signed:
        raise InvalidInput("number.negative", what=_field(what), value=str(value))
    if positive and number <= 0:
        raise InvalidInput("number.not_positive", what=_field(what), value=str(value))
    return number


def clean_reference(value: str | None) -> str | None:
    """An evidence reference (document number, file name or URL): one line of visible
    characters, at most 500; None when blank."""
    if value is None or not value.strip():
        return None
    return clean_label(value, "field.evidence", most=MAX_REFERENCE)


def clean_override(value: str | None) -> str | None:
    """An override reason: None when not given; refused when shorter than 10 characters."""
    if value is None or not value.strip():
        return None
    reason = clean_note(value.strip(), "field.override")
    if len(reason) < MIN_OVERRIDE:
        raise InvalidInput("override.too_short", n=len(reason), least=MIN_OVERRIDE)
    return reason


def _field(what: str | Message) -> Message:
    return message(what) if isinstance(what, str) else what


def _optional_label(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    return clean_label(value, what)


def parse_qualification_kind(value: str | QualificationKind) -> QualificationKind:
    text = str(value).strip()
    for kind in QualificationKind:
        if text.lower().replace("-", "_") == kind.value or text == kind.label("zh"):
            return kind
    raise InvalidInput("qualification.unknown_kind", value=value, allowed=list(QualificationKind))


def parse_level(value: str | Level | None) -> Level | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    for level in Level:
        if text.lower() == level.value or text == level.localised("zh"):
            return level
    raise InvalidInput("qualification.unknown_level", value=value, allowed=list(Level))


def parse_milestone_kind(value: str | MilestoneKind) -> MilestoneKind:
    text = str(value).strip()
    for kind in MilestoneKind:
        if text.lower() == kind.value or text in kind.localised("zh").split("/"):
            return kind
    raise InvalidInput("milestone.unknown_kind", value=value, allowed=list(MilestoneKind))


# --- facts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Qualification:
    """A grant of a qualification (record `seq` of the company's chain), and its revocation
    when one is known."""

    seq: int
    kind: QualificationKind
    granted_on: date
    expires_on: date
    level: Level | None = None
    number: str | None = None
    evidence: str | None = None
    revoked_on: date | None = None
    revoke_reason: str | None = None
    revoke_seq: int | None = None

    def valid_on(self, day: date) -> bool:
        """granted_on <= day < expires_on, and no revocation dated on or before `day`."""
        if not self.granted_on <= day < self.expires_on:
            return False
        return self.revoked_on is None or self.revoked_on > day

    def status_on(self, day: date) -> str:
        """`valid`, `revoked`, `expired` or `not_yet` on `day`."""
        if self.revoked_on is not None and self.revoked_on <= day:
            return "revoked"
        if day < self.granted_on:
            return "not_yet"
        return "valid" if day < self.expires_on else "expired"


@dataclass(frozen=True)
class FinancingRound:
    seq: int
    on: date
    amount: int
    round_name: str | None = None
    investor: str | None = None
    evidence: str | None = None


@dataclass(frozen=True)
class Milestone:
    seq: int
    kind: MilestoneKind
    on: date
    evidence: str | None = None


@dataclass(frozen=True)
class AnnualFigures:
    """A calendar year's figures: the fields given so far (a later record for the same year
    replaces the fields it gives), as `{name: value}`; a field never given is absent."""

    year: int
    values: Mapping[str, int]

    def get(self, name: str) -> int | None:
        return self.values.get(name)

    @property
    def revenue(self) -> int | None:
        return self.values.get("revenue")


@dataclass(frozen=True)
class CompanyFacts:
    """Everything known about a company: as recorded (`fold`), or as of a day (`as_of`)."""

    key: str
    uscc: str | None = None
    founded_on: date | None = None
    qualifications: tuple[Qualification, ...] = ()
    financing: tuple[FinancingRound, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    figures: tuple[AnnualFigures, ...] = ()  # by year
    #: The day these facts were cut to (`as_of`); None: everything recorded.
    day: date | None = None

    def as_of(self, day: date) -> CompanyFacts:
        """What was known on `day`, by each fact's own date: the founding date if on or before
        it, grants from `granted_on` (a revocation from its date), rounds and milestones from
        their dates, and the figures of years up to `day`'s year."""
        return CompanyFacts(  # every field given: dataclasses.replace costs more than this
            key=self.key,
            uscc=self.uscc,
            founded_on=self.founded_on if self.founded_on and self.founded_on <= day else None,
            qualifications=tuple(
                q
                if q.revoked_on is None or q.revoked_on <= day
                else replace(q, revoked_on=None, revoke_reason=None, revoke_seq=None)
                for q in self.qualifications
                if q.granted_on <= day
            ),  # fmt: skip
            financing=tuple(r for r in self.financing if r.on <= day),
            milestones=tuple(m for m in self.milestones if m.on <= day),
            figures=tuple(f for f in self.figures if f.year <= day.year),
            day=day,
        )

    def revenue(self, year: int) -> int | None:
        for figures in self.figures:
            if figures.year == year:
                return figures.revenue
        return None

    def figures_of(self, year: int) -> AnnualFigures | None:
        return next((f for f in self.figures if f.year == year), None)

    @property
    def financing_total(self) -> int:
        return sum(r.amount for r in self.financing)

    def valid(self, kind: QualificationKind, day: date) -> Qualification | None:
        """A grant of `kind` valid on `day` (the one that lasts longest), or None."""
        valid = [q for q in self.qualifications if q.kind is kind and q.valid_on(day)]
        return max(valid, key=lambda q: (q.expires_on, q.seq)) if valid else None

    def latest(self, kind: QualificationKind) -> Qualification | None:
        """The latest grant of `kind` (by granted_on, then record order)."""
        grants = [q for q in self.qualifications if q.kind is kind]
        return max(grants, key=lambda q: (q.granted_on, q.seq)) if grants else None


# --- records: what a person gives, and reading it back ---------------------------------------

#: A record's business fields as stored in the chain (`audit.payload_json` of it).
Payload = dict[str, Any]


def new_founding(founded_on: str | date, *, evidence: str | None, now: datetime) -> Payload:
    """The payload of a `founded` record: the date the business was registered."""
    day = check_fact_date(parse_day(founded_on, "field.founded_on"), now, "field.founded_on")
    return {"founded_on": day.isoformat(), "evidence": clean_reference(evidence)}


def new_qualification(
    kind: str | QualificationKind,
    *,
    granted_on: str | date,
    expires_on: str | date | None = None,
    level: str | Level | None = None,
    number: str | None = None,
    evidence: str | None = None,
    now: datetime,
) -> Payload:
    """The payload of a `qualification` record; `expires_on` defaults from the kind."""
    which = parse_qualification_kind(kind)
    granted = check_fact_date(parse_day(granted_on, "field.granted_on"), now, "field.granted_on")
    if expires_on is None or (isinstance(expires_on, str) and not expires_on.strip()):
        expires = which.default_expiry(granted)
    else:
        expires = parse_day(expires_on, "field.expires_on")
        if expires <= granted:
            raise InvalidInput("qualification.expires_first", expires=expires, granted=granted)
    grade = parse_level(level)
    return {
        "kind": which.value,
        "level": grade.value if grade is not None else None,
        "number": _optional_label(number, "field.certificate"),
        "granted_on": granted.isoformat(),
        "expires_on": expires.isoformat(),
        "evidence": clean_reference(evidence),
    }


def new_revocation(
    facts: CompanyFacts,
    kind: str | QualificationKind,
    *,
    revoked_on: str | date,
    reason: str,
    evidence: str | None = None,
    now: datetime,
) -> Payload:
    """The payload of a `revocation` record: it applies to the latest grant of that kind
    (by granted_on) that is not revoked yet, and may not be dated before that grant."""
    which = parse_qualification_kind(kind)
    day = check_fact_date(parse_day(revoked_on, "field.revoked_on"), now, "field.revoked_on")
    why = clean_label(reason or "", "field.revoke_reason", required=True, most=MAX_REFERENCE)
    grants = [q for q in facts.qualifications if q.kind is which]
    open_grants = [q for q in grants if q.revoked_on is None]
    if not open_grants:
        code = "revocation.all_revoked" if grants else "revocation.no_grant"
        raise InvalidInput(code, kind=which, key=facts.key)
    grant = max(open_grants, key=lambda q: (q.granted_on, q.seq))
    if day < grant.granted_on:
        raise InvalidInput("revocation.before_grant", day=day, kind=which, granted=grant.granted_on)
    return {
        "kind": which.value,
        "grant": grant.seq,
        "revoked_on": day.isoformat(),
        "reason": why,
        "evidence": clean_reference(evidence),
    }


def _not_before_founding(facts: CompanyFacts, day: date, what: str) -> None:
    if facts.founded_on is not None and day < facts.founded_on:
        raise InvalidInput(
            "fact.before_founding", what=message(what), day=day, founded=facts.founded_on
        )


def new_financing(
    facts: CompanyFacts,
    *,
    amount: str | int,
    on: str | date,
    round_name: str | None = None,
    investor: str | None = None,
    evidence: str | None = None,
    now: datetime,
) -> Payload:
    """The payload of a `financing` record: a round's date and amount (yuan, above zero)."""
    day = check_fact_date(parse_day(on, "field.financed_on"), now, "field.financed_on")
    _not_before_founding(facts, day, "field.financed_on")
    return {
        "on": day.isoformat(),
        "amount": parse_whole(amount, "field.amount", positive=True),
        "round": _optional_label(round_name, "field.round"),
        "investor": _optional_label(investor, "field.investor"),
        "evidence": clean_reference(evidence),
    }


def new_milestone(
    facts: CompanyFacts,
    kind: str | MilestoneKind,
    *,
    on: str | date,
    evidence: str | None = None,
    now: datetime,
) -> Payload:
    """The payload of a `milestone` record: listed or acquired, on a day."""
    which = parse_milestone_kind(kind)
    day = check_fact_date(parse_day(on, "field.milestone_on"), now, "field.milestone_on")
    _not_before_founding(facts, day, "field.milestone_on")
    return {"kind": which.value, "on": day.isoformat(), "evidence": clean_reference(evidence)}


def new_figures(
    *,
    year: str | int,
    values: Mapping[str, str | int | None],
    evidence: str | None = None,
    now: datetime,
) -> Payload:
    """The payload of a `figures` record: the fields given for a calendar year (not a year
    after the current one). Amounts and counts are whole numbers, not negative (net profit
    may be); employees with a degree, PhDs, returnees and new graduates are part of the
    employees and cannot exceed them in the same record."""
    the_year = parse_whole(year, "field.year")
    current = now.year
    if the_year < EARLIEST_FACT.year:
        raise InvalidInput("figures.year_too_early", year=the_year, earliest=EARLIEST_FACT.year)
    if the_year > current:
        raise InvalidInput("figures.future_year", year=the_year, current=current)
    unknown = sorted(set(values) - set(FIGURE_NAMES))
    if unknown:
        raise InvalidInput("figures.unknown_field", name=unknown[0], allowed=list(FIGURE_NAMES))
    given: dict[str, int] = {}
    for figure in FIGURES_FIELDS:
        value = values.get(figure.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        what = message("field.figure", name=figure)
        given[figure.name] = parse_whole(value, what, signed=figure.signed)
    if not given:
        raise InvalidInput("figures.nothing", year=the_year)
    employees = given.get("employees")
    if employees is not None:
        for name in EMPLOYEE_SUBSETS:
            if given.get(name, 0) > employees:
                raise InvalidInput(
                    "figures.above_employees",
                    what=_FIGURES_BY_NAME[name],
                    n=Number(given[name]),
                    employees=Number(employees),
                )
    return {"year": the_year, "values": given, "evidence": clean_reference(evidence)}


class BadRecord(ValueError):
    """A record whose payload is not one this version writes (found by the audit); `seq`
    names the record."""

    def __init__(self, why: str, seq: int | None = None) -> None:
        super().__init__(why)
        self.seq = seq


def _day(payload: Mapping[str, Any], name: str, *, optional: bool = False) -> date | None:
    value = payload.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise BadRecord(f"{name} is not a date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRecord(f"{name} is not a date") from None


def _text(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord(f"{name} is not text")
    return value


def _required(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str):
        raise BadRecord(f"{name} is not text")
    return value


def _int(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRecord(f"{name} is not a whole number")
    return value


_PAYLOAD_KEYS = {
    FOUNDED: {"founded_on", "evidence"},
    QUALIFICATION: {"kind", "level", "number", "granted_on", "expires_on", "evidence"},
    REVOCATION: {"kind", "grant", "revoked_on", "reason", "evidence"},
    FINANCING: {"on", "amount", "round", "investor", "evidence"},
    MILESTONE: {"kind", "on", "evidence"},
    FIGURES: {"year", "values", "evidence"},
}


def fold(
    key: str, uscc: str | None, records: Iterable[tuple[int, str, Mapping[str, Any]]]
) -> CompanyFacts:
    """Everything a company's records say: `records` are (seq, kind, payload) in chain
    order (the profile records left out). A later `founded` record replaces the founding
    date; a revocation applies to the grant it names; a later `figures` record for a year
    replaces the fields it gives. BadRecord (with the record's seq) when a payload is not
    one this version writes, or a revocation names no open grant of its kind."""
    founded: date | None = None
    grants: dict[int, Qualification] = {}
    rounds: list[FinancingRound] = []
    milestones: list[Milestone] = []
    years: dict[int, dict[str, int]] = {}
    for seq, kind, payload in records:
        try:
            if kind not in _PAYLOAD_KEYS:
                raise BadRecord(f"unknown kind {kind!r}")
            if not isinstance(payload, Mapping) or set(payload) != _PAYLOAD_KEYS[kind]:
                raise BadRecord("not the fields of its kind")
            evidence = _text(payload, "evidence")
            if kind == FOUNDED:
                founded = _day(payload, "founded_on")
            elif kind == QUALIFICATION:
                granted, expires = _day(payload, "granted_on"), _day(payload, "expires_on")
                assert granted is not None and expires is not None
                if expires <= granted:
                    raise BadRecord("expires before it is granted")
                level = _text(payload, "level")
                grants[seq] = Qualification(
                    seq, QualificationKind(_required(payload, "kind")), granted,
                    expires, Level(level) if level is not None else None,
                    _text(payload, "number"), evidence,
                )  # fmt: skip
            elif kind == REVOCATION:
                target = grants.get(_int(payload.get("grant"), "grant"))
                which = QualificationKind(_required(payload, "kind"))
                if target is None or target.kind is not which or target.revoked_on is not None:
                    raise BadRecord("revokes no open grant of its kind")
                revoked = _day(payload, "revoked_on")
                assert revoked is not None
                grants[target.seq] = replace(
                    target,
                    revoked_on=revoked,
                    revoke_reason=_required(payload, "reason"),
                    revoke_seq=seq,
                )
            elif kind == FINANCING:
                on = _day(payload, "on")
                assert on is not None
                rounds.append(
                    FinancingRound(
                        seq, on, _int(payload.get("amount"), "amount"),
                        _text(payload, "round"), _text(payload, "investor"), evidence,
                    )
                )  # fmt: skip
            elif kind == MILESTONE:
                on = _day(payload, "on")
                assert on is not None
                which_m = MilestoneKind(_required(payload, "kind"))
                milestones.append(Milestone(seq, which_m, on, evidence))
            else:  # FIGURES
                year = _int(payload.get("year"), "year")
                values = payload.get("values")
                if not isinstance(values, Mapping) or not values:
                    raise BadRecord("no values")
                for name, value in values.items():
                    if name not in _FIGURES_BY_NAME:
                        raise BadRecord(f"unknown figure {name!r}")
                    _int(value, name)
                years.setdefault(year, {}).update(values)
        except (BadRecord, ValueError) as exc:
            raise BadRecord(f"record #{seq}: {exc}", seq) from None
    return CompanyFacts(
        key=key,
        uscc=uscc,
        founded_on=founded,
        qualifications=tuple(grants[s] for s in sorted(grants)),
        financing=tuple(rounds),
        milestones=tuple(milestones),
        figures=tuple(AnnualFigures(y, dict(years[y])) for y in sorted(years)),
    )


#: The derived tables' rows as `derive` gives them: their column names, in order.
QUALIFICATION_COLUMNS = (
    "seq", "kind", "level", "number", "granted_on", "expires_on", "revoked_on", "revoke_reason",
)  # fmt: skip
FINANCING_COLUMNS = ("seq", "financed_on", "amount", "round_name", "investor")
MILESTONE_COLUMNS = ("seq", "kind", "achieved_on")
FIGURES_COLUMNS = ("year", *FIGURE_NAMES)


def qualification_row(q: Qualification) -> tuple[Any, ...]:
    return (
        q.seq, q.kind.value, q.level.value if q.level else None, q.number, q.granted_on,
        q.expires_on, q.revoked_on, q.revoke_reason,
    )  # fmt: skip


def financing_row(r: FinancingRound) -> tuple[Any, ...]:
    return (r.seq, r.on, r.amount, r.round_name, r.investor)


def milestone_row(m: Milestone) -> tuple[Any, ...]:
    return (m.seq, m.kind.value, m.on)


def figures_row(f: AnnualFigures) -> tuple[Any, ...]:
    return (f.year, *(f.values.get(name) for name in FIGURE_NAMES))


@dataclass(frozen=True)
class Derived:
    """What a company's facts put in the derived tables (`qualification`, `financing_round`,
    `milestone`, `annual_figures`, each by record seq or year, and `company.founded_on`), as
    rows of the `*_COLUMNS` above."""

    founded_on: date | None
    qualifications: tuple[tuple[Any, ...], ...]
    financing: tuple[tuple[Any, ...], ...]
    milestones: tuple[tuple[Any, ...], ...]
    figures: tuple[tuple[Any, ...], ...]


def derive(facts: CompanyFacts) -> Derived:
    """The derived rows of everything recorded about a company (`fold`)."""
    return Derived(
        facts.founded_on,
        tuple(qualification_row(q) for q in facts.qualifications),
        tuple(financing_row(r) for r in facts.financing),
        tuple(milestone_row(m) for m in facts.milestones),
        tuple(figures_row(f) for f in facts.figures),
    )


def parse_payload(text: str) -> Mapping[str, Any]:
    """A record's stored payload (JSON text) as a mapping; BadRecord when unreadable."""
    try:
        value = json.loads(text)
    except ValueError:
        raise BadRecord("unreadable payload") from None
    if not isinstance(value, dict):
        raise BadRecord("payload is not an object")
    return value


# --- criteria ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A criterion's verdict on a company: met or not, and the company's own figure
    (JSON-ready: a number, a date's ISO text, a small object, or None for "none")."""

    met: bool
    value: Any = None
    #: More about the figure, merged into the entry (e.g. the years of a revenue pair).
    extra: Mapping[str, Any] = field(default_factory=dict)


class Criterion:
    """A rule about a company's facts on a day. Subclasses are frozen dataclasses whose
    fields are the criterion's parameters, as in the policy file."""

    id: ClassVar[str]
    #: Parameter name -> "whole" (a whole number >= 0), "positive", "kind" (a qualification
    #: kind) or "kinds" (a list of milestone kinds).
    PARAMS: ClassVar[dict[str, str]] = {}

    def check(self, facts: CompanyFacts, day: date) -> Check:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.PARAMS:
            value = getattr(self, name)
            out[name] = [str(v) for v in value] if isinstance(value, tuple) else value
        return out

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **self.params()}

    def describe(self, day: date | None) -> Message:
        """What the criterion asks, on `day` (None: as the policy states it)."""
        shown: Any = day if day is not None else message("criterion.the_move")
        return message(f"criterion.{self.id}", day=shown, **self._shown_params(day))

    def _shown_params(self, day: date | None) -> dict[str, Any]:
        return {}

    def shown_value(self, check: Check, day: date) -> Message:
        """The company's own figure, for a message."""
        raise NotImplementedError


@dataclass(frozen=True)
class Registered(Criterion):
    id: ClassVar[str] = "registered"

    def check(self, facts: CompanyFacts, day: date) -> Check:
        return Check(facts.uscc is not None, facts.uscc)

    def shown_value(self, check: Check, day: date) -> Message:
        if check.value is None:
            return message("value.no_uscc")
        return message("value.uscc", uscc=check.value)


@dataclass(frozen=True)
class FoundedWithinMonths(Criterion):
    months: int = 24
    id: ClassVar[str] = "founded_within_months"
    PARAMS: ClassVar[dict[str, str]] = {"months": "whole"}

    def check(self, facts: CompanyFacts, day: date) -> Check:
        founded = facts.founded_on
        if founded is None:
            return Check(False, None)
        return Check(day <= add_months(founded, self.months), founded.isoformat())

    def _shown_params(self, day: date | None) -> dict[str, Any]:
        return {"months": self.months}

    def shown_value(self, check: Check, day: date) -> Message:
        if check.value is None:
            return message("value.founding_unknown")
        founded = date.fromisoformat(check.value)
        return message("value.founded", day=founded, months=months_between(founded, day))


@dataclass(frozen=True)
class HasQualification(Criterion):
    kind: QualificationKind = QualificationKind.HIGH_TECH
    id: ClassVar[str] = "qualification"
    PARAMS: ClassVar[dict[str, str]] = {"kind": "kind"}

    def check(self, facts: CompanyFacts, day: date) -> Check:
        valid = facts.valid(self.kind, day)
        shown = valid or facts.latest(self.kind)
        if shown is None:
            return Check(False, None)
        value = {
            "granted_on": shown.granted_on.isoformat(),
            "expires_on": shown.expires_on.isoformat(),
            "revoked_on": shown.revoked_on.isoformat() if shown.revoked_on else None,
        }
        return Check(valid is not None, value)

    def params(self) -> dict[str, Any]:
        return {"kind": self.kind.value}

    def _shown_params(self, day: date | None) -> dict[str, Any]:
        return {"kind": KindName(self.kind.value)}

    def shown_value(self, check: Check, day: date) -> Message:
        value = check.value
        if value is None:
            return message("value.none")
        if value["revoked_on"] is not None:
            return message("value.revoked", day=date.fromisoformat(value["revoked_on"]))
        expires = date.fromisoformat(value["expires_on"])
        if check.met:
            return message("value.valid_until", day=expires)
        return message("value.expired", day=expires)


@dataclass(frozen=True)
class FinancingOver(Criterion):
    amount: int = 5_000_000
    id: ClassVar[str] = "financing_over"
    PARAMS: ClassVar[dict[str, str]] = {"amount": "whole"}

    def check(self, facts: CompanyFacts, day: date) -> Check:
        total = sum(r.amount for r in facts.financing if r.on <= day)
        return Check(total > self.amount, total)

    def _shown_params(self, day: date | None) -> dict[str, Any]:
        return {"amount": Yuan(self.amount)}

    def shown_value(self, check: Check, day: date) -> Message:
        return message("value.amount", amount=Yuan(check.value))


@dataclass(frozen=True)
class RevenueTwoYearsOver(Criterion):
    amount: int = 10_000_000
    id: ClassVar[str] = "revenue_two_years_over"
    PARAMS: ClassVar[dict[str, str]] = {"amount": "whole"}

    def check(self, facts: CompanyFacts, day: date) -> Check:
        """Some pair of completed years (y-1, y), y < day's year, whose revenues sum to more
        than `amount`; a year without figures (or without revenue) has no revenue. The figure
        is the best pair's sum."""
        revenue = {f.year: f.revenue or 0 for f in facts.figures if f.year < day.year}
        best: tuple[int, int] | None = None
        for year in sorted(revenue):
            for pair_end in (year, year + 1):
                if pair_end >= day.year:
                    continue
                total = revenue.get(pair_end - 1, 0) + revenue.get(pair_end, 0)
                if best is None or total > best[0]:
                    best = (total, pair_end)
        if best is None:
            return Check(False, None)
        total, last = best
        return Check(total > self.amount, total, {"years": [last - 1, last]})

    def _shown_params(self, day: date | None) -> dict[str, Any]:
        return {"amount": Yuan(self.amount)}

    def shown_value(self, check: Check, day: date) -> Message:
        if check.value is None:
            return message("value.no_figures")
        first, last = check.extra["years"]
        return message("value.pair", amount=Yuan(check.value), first=first, last=last)


@dataclass(frozen=True)
class RevenueLastYearAtLeast(Criterion):
    amount: int = 20_000_000
    id: ClassVar[str] = "revenue_last_year_at_least"
    PARAMS: ClassVar[dict[str, str]] = {"amount": "whole"}

    def check(self, facts: CompanyFacts, day: date) -> Check:
        year = day.year - 1
        revenue = facts.revenue(year)
        return Check(revenue is not None and revenue >= self.amount, revenue, {"year": year})

    def describe(self, day: date | None) -> Message:
        year: Any = Year(day.year - 1) if day is not None else message("criterion.last_year")
        return message(f"criterion.{self.id}", year=year, amount=Yuan(self.amount))

    def shown_value(self, check: Check, day: date) -> Message:
        if check.value is None:
            return message("value.no_figures")
        return message("value.amount", amount=Yuan(check.value))


@dataclass(frozen=True)
class MilestoneReached(Criterion):
    kinds: tuple[MilestoneKind, ...] = (MilestoneKind.LISTED, MilestoneKind.ACQUIRED)
    id: ClassVar[str] = "milestone"
    PARAMS: ClassVar[dict[str, str]] = {"kinds": "kinds"}

    def check(self, facts: CompanyFacts, day: date) -> Check:
        reached = sorted(
            (m for m in facts.milestones if m.kind in self.kinds and m.on <= day),
            key=lambda m: (m.on, m.seq),
        )
        if not reached:
            return Check(False, None)
        first = reached[0]
        return Check(True, {"kind": first.kind.value, "on": first.on.isoformat()})

    def _shown_params(self, day: date | None) -> dict[str, Any]:
        return {"kinds": _Either(self.kinds)}

    def shown_value(self, check: Check, day: date) -> Message:
        if check.value is None:
            return message("value.none")
        value = check.value
        return message(
            "value.milestone",
            kind=MilestoneKind(value["kind"]),
            day=date.fromisoformat(value["on"]),
        )


class _Either(tuple[Any, ...]):
    """`listed or acquired` (Chinese: `上市/挂牌或被并购`)."""

    def localised(self, lang: str) -> str:
        parts = [v.localised(lang) for v in self]
        return ("或" if lang == "zh" else " or ").join(parts)


#: Every criterion a policy may name, by id (DESIGN §8).
CRITERIA: dict[str, type[Criterion]] = {
    c.id: c
    for c in (
        Registered,
        FoundedWithinMonths,
        HasQualification,
        FinancingOver,
        RevenueTwoYearsOver,
        RevenueLastYearAtLeast,
        MilestoneReached,
    )
}


# --- gates and their outcome ---------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """The criteria for entering `stage`, combined with `all` or `any`."""

    stage: Stage
    mode: GateMode
    criteria: tuple[Criterion, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage.value,
            "mode": self.mode.value,
            "criteria": [c.to_json() for c in self.criteria],
        }


@dataclass(frozen=True)
class Result:
    """One criterion evaluated: met or not, with the company's own figure."""

    criterion: Criterion
    check: Check

    @property
    def met(self) -> bool:
        return self.check.met

    def to_json(self) -> dict[str, Any]:
        """`{"id": ..., <parameters>, "value": <the company's figure>, ...}`"""
        return {**self.criterion.to_json(), "value": self.check.value, **self.check.extra}

    def describe(self, day: date) -> Message:
        """`financing > 5,000,000 — 1,200,000`"""
        return message(
            "gate.criterion",
            criterion=self.criterion.describe(day),
            value=self.criterion.shown_value(self.check, day),
        )


@dataclass(frozen=True)
class GateOutcome:
    """A gate evaluated on a company's facts on `day`: every criterion is listed, in `met`
    or in `unmet` (in `any` mode too); `override` is the reason a failed gate was passed
    anyway."""

    stage: Stage
    mode: GateMode
    passed: bool
    met: tuple[Result, ...]
    unmet: tuple[Result, ...]
    day: date
    override: str | None = None

    @property
    def allowed(self) -> bool:
        """Whether the move may go ahead: passed, or overridden."""
        return self.passed or self.override is not None

    def to_json(self) -> dict[str, Any]:
        """As recorded in the event (inside its hash) and shown by `history --json`."""
        return {
            "stage": self.stage.value,
            "mode": self.mode.value,
            "passed": self.passed,
            "met": [r.to_json() for r in self.met],
            "unmet": [r.to_json() for r in self.unmet],
            "override": self.override,
        }

    def unmet_messages(self) -> list[Message]:
        return [r.describe(self.day) for r in self.unmet]

    def met_messages(self) -> list[Message]:
        return [r.describe(self.day) for r in self.met]


def evaluate(
    gate: Gate, facts: CompanyFacts, day: date, override: str | None = None
) -> GateOutcome:
    """Evaluate every criterion of `gate` on what was known about the company on `day`; a
    failed gate records `override` (the reason it is passed anyway), when one is given."""
    known = facts if facts.day == day else facts.as_of(day)
    results = [Result(c, c.check(known, day)) for c in gate.criteria]
    met = tuple(r for r in results if r.met)
    unmet = tuple(r for r in results if not r.met)
    passed = not unmet if gate.mode is GateMode.ALL else bool(met)
    return GateOutcome(gate.stage, gate.mode, passed, met, unmet, day, None if passed else override)


class GateRefused(DomainError):
    """A move that fails its gate: it names each unmet criterion with the company's own
    figure. `outcome` holds the evaluation as data (criterion ids and figures)."""

    def __init__(self, key: str, outcome: GateOutcome) -> None:
        self.key, self.outcome = key, outcome
        super().__init__(
            "gate.refused",
            key=key,
            stage=outcome.stage,
            mode=outcome.mode,
            unmet=_Clauses(outcome.unmet_messages()),
            least=MIN_OVERRIDE,
        )


class _Clauses(tuple[Any, ...]):
    """Criteria in a message, joined with "; " (Chinese "；")."""

    def localised(self, lang: str) -> str:
        from incubator.messages import text_of

        return ("；" if lang == "zh" else "; ").join(text_of(v, lang) for v in self)


@dataclass
class Evidence:
    """What the machine's gate conditions read when a company moves (`stages.Lifecycle.fire`):
    the policy, the day of the move, the company's facts (a callable is called once, when a
    gate needs them), and an override reason. After the move, `outcome` is the gate's
    outcome (None when no gate applied)."""

    policy: Policy
    day: date
    facts: CompanyFacts | Callable[[], CompanyFacts]
    override: str | None = None
    outcome: GateOutcome | None = None

    def passes(self, stage: str) -> bool:
        """The condition on entering `stage`: no gate, the gate passes, or an override."""
        gate = self.policy.gate_into(stage)
        if gate is None:
            self.outcome = None
            return True
        if callable(self.facts):
            self.facts = self.facts()
        outcome = evaluate(gate, self.facts, self.day, self.override)
        self.outcome = outcome
        return outcome.allowed

    def refusal(self, key: str) -> DomainError | None:
        """Why the last move was refused, when its gate refused it."""
        if self.outcome is not None and not self.outcome.allowed:
            return GateRefused(key, self.outcome)
        return None

    def recorded(self) -> dict[str, Any] | None:
        """The outcome as the event records it (`"gate"`), or None when no gate applied."""
        return self.outcome.to_json() if self.outcome is not None else None


# --- the policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """Which gate guards entering which stage. `{"gates": []}` turns gates off."""

    gates: tuple[Gate, ...]

    def gate_into(self, stage: str) -> Gate | None:
        for gate in self.gates:
            if gate.stage == stage:
                return gate
        return None

    def to_json(self) -> dict[str, Any]:
        return {"gates": [g.to_json() for g in self.gates]}


#: DESIGN §8's table (the national rules).
DEFAULT_POLICY = Policy(
    (
        Gate(Stage.INCUBATOR, GateMode.ALL, (Registered(), FoundedWithinMonths(24))),
        Gate(
            Stage.ACCELERATOR,
            GateMode.ANY,
            (
                HasQualification(QualificationKind.HIGH_TECH),
                FinancingOver(5_000_000),
                RevenueTwoYearsOver(10_000_000),
                MilestoneReached((MilestoneKind.LISTED, MilestoneKind.ACQUIRED)),
            ),
        ),
        Gate(Stage.INDUSTRIAL_PARK, GateMode.ANY, (RevenueLastYearAtLeast(20_000_000),)),
    )
)


class PolicyError(InvalidInput):
    """A policy file that cannot be used: it names the line (when known) and the entry."""


def parse_policy(text: str, *, source: str = "the policy", fmt: str | None = None) -> Policy:
    """A policy from its JSON (`policy show --json`) or TOML text; `fmt` is "json" or "toml"
    (None: JSON when the text starts with `{`, else TOML). PolicyError naming the line and
    the entry (gate n, criterion m) that is wrong: a syntax error, an unknown key, criterion,
    stage, mode or kind, a missing parameter, a value of the wrong type."""
    clean_text(text, "field.policy")
    kind = fmt or ("json" if text.lstrip().startswith("{") else "toml")
    lines: _Lines
    try:
        if kind == "json":
            doc, lines = _json_with_lines(text)
        else:
            doc = tomllib.loads(text)
            lines = _TomlLines(text)
    except json.JSONDecodeError as exc:
        raise _policy_error("policy.syntax", source, exc.lineno, None, detail=exc.msg) from None
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        line = int(found.group(1)) if found else None
        raise _policy_error("policy.syntax", source, line, None, detail=detail) from None
    return _PolicyReader(source, lines).policy(doc)


@lru_cache(maxsize=16)
def stored_policy(text: str | None) -> Policy:
    """The policy a database holds (`policy_json` text), or the default when it holds none;
    parsed once per distinct text."""
    if text is None:
        return DEFAULT_POLICY
    return parse_policy(text, source="the stored policy", fmt="json")


def policy_json(policy: Policy) -> str:
    """The policy as stored: compact JSON, keys in a fixed order."""
    return json.dumps(policy.to_json(), ensure_ascii=False, separators=(",", ":"))


def _policy_error(
    code: str, source: str, line: int | None, entry: Message | None, /, **params: Any
) -> PolicyError:
    where: Message
    if line is not None and entry is not None:
        where = message("policy.line_entry", line=line, entry=entry)
    elif line is not None:
        where = message("policy.line", line=line)
    else:
        where = entry or message("policy.entry_document")
    return PolicyError(
        "policy.invalid", source=source, where=where, problem=message(code, **params)
    )


class _Lines:
    """Where an entry of a policy file starts: path -> line (None when unknown)."""

    def line(self, path: tuple[Any, ...], key: str | None = None) -> int | None:
        return None


class _Located(dict[str, Any]):
    line: int = 0


class _JsonLines(_Lines):
    def __init__(self, text: str, doc: Any) -> None:
        self.text_lines = text.splitlines()
        self.doc = doc

    def line(self, path: tuple[Any, ...], key: str | None = None) -> int | None:
        node = self.doc
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return None
        start = getattr(node, "line", None)
        if start is None or key is None:
            return start
        pattern = re.compile(rf'"{re.escape(key)}"\s*:')
        for number in range(start, len(self.text_lines) + 1):
            if pattern.search(self.text_lines[number - 1]):
                return number
        return start


def _json_with_lines(text: str) -> tuple[Any, _Lines]:
    """Parse JSON, noting the line on which each object starts (the pure-Python scanner of
    the standard library, with its object parser wrapped)."""
    import json.decoder
    import json.scanner

    base = getattr(json.decoder, "JSONObject")  # noqa: B009  (not in the type stubs)

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        s, end = s_and_end
        obj, new_end = base(s_and_end, *args)
        located = _Located(obj)
        located.line = s.count("\n", 0, end) + 1
        return located, new_end

    decoder = json.JSONDecoder()
    setattr(decoder, "parse_object", parse_object)  # noqa: B010  (not in the type stubs)
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    doc = decoder.decode(text)
    return doc, _JsonLines(text, doc)


class _TomlLines(_Lines):
    """Lines of `[[gates]]` and `[[gates.criteria]]` tables (the form `policy show` and the
    documentation use); other layouts name the entry without a line."""

    def __init__(self, text: str) -> None:
        self.text_lines = text.splitlines()
        self.gates: list[int] = []
        self.criteria: list[list[int]] = []
        for number, raw in enumerate(self.text_lines, 1):
            header = raw.split("#", 1)[0].strip().replace(" ", "")
            if header == "[[gates]]":
                self.gates.append(number)
                self.criteria.append([])
            elif header == "[[gates.criteria]]" and self.criteria:
                self.criteria[-1].append(number)

    def line(self, path: tuple[Any, ...], key: str | None = None) -> int | None:
        start: int | None = None
        if len(path) >= 2 and path[0] == "gates":
            gate = path[1]
            if isinstance(gate, int) and gate < len(self.gates):
                start = self.gates[gate]
                if len(path) >= 4 and path[2] == "criteria":
                    crit = path[3]
                    found = self.criteria[gate]
                    start = found[crit] if isinstance(crit, int) and crit < len(found) else None
        elif not path:
            start = 1
        if start is None or key is None:
            return start
        pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
        for number in range(start, len(self.text_lines) + 1):
            if pattern.search(self.text_lines[number - 1]):
                return number
        return start


class _PolicyReader:
    def __init__(self, source: str, lines: _Lines) -> None:
        self.source, self.lines = source, lines

    def refuse(
        self, code: str, path: tuple[Any, ...], key: str | None, /, **params: Any
    ) -> PolicyError:
        entry: Message | None = None
        if len(path) >= 2:
            entry = message("policy.entry_gate", gate=path[1] + 1)
        if len(path) >= 4:
            entry = message("policy.entry_criterion", gate=path[1] + 1, n=path[3] + 1)
        return _policy_error(code, self.source, self.lines.line(path, key), entry, **params)

    def keys(self, obj: Any, path: tuple[Any, ...], allowed: Sequence[str]) -> None:
        if not isinstance(obj, dict):
            raise self.refuse("policy.not_table", path, None, got=_type_name(obj))
        for key in obj:
            if key not in allowed:
                raise self.refuse("policy.unknown_key", path, key, key=key, allowed=list(allowed))

    def policy(self, doc: Any) -> Policy:
        self.keys(doc, (), ["gates"])
        if "gates" not in doc:
            raise self.refuse("policy.missing_key", (), None, key="gates")
        gates = doc["gates"]
        if not isinstance(gates, list):
            raise self.refuse("policy.not_list", (), "gates", key="gates", got=_type_name(gates))
        read: list[Gate] = []
        for i, entry in enumerate(gates):
            gate = self.gate(entry, ("gates", i))
            if any(g.stage is gate.stage for g in read):
                raise self.refuse("policy.duplicate_stage", ("gates", i), "stage", stage=gate.stage)
            read.append(gate)
        return Policy(tuple(sorted(read, key=lambda g: LADDER.index(g.stage))))

    def gate(self, entry: Any, path: tuple[Any, ...]) -> Gate:
        self.keys(entry, path, ["stage", "mode", "criteria"])
        for key in ("stage", "mode", "criteria"):
            if key not in entry:
                raise self.refuse("policy.missing_key", path, None, key=key)
        stage_text = entry["stage"]
        stages = {s.value: s for s in LADDER}
        if not isinstance(stage_text, str) or stage_text not in stages:
            raise self.refuse("policy.unknown_stage", path, "stage", value=str(stage_text),
                allowed=[s.value for s in LADDER],
            )  # fmt: skip
        mode_text = entry["mode"]
        if mode_text not in ("all", "any"):
            raise self.refuse(
                "policy.unknown_mode",
                path,
                "mode",
                value=str(mode_text),
                allowed=[m.value for m in GateMode],
            )
        criteria = entry["criteria"]
        if not isinstance(criteria, list):
            raise self.refuse(
                "policy.not_list", path, "criteria", key="criteria", got=_type_name(criteria)
            )
        if not criteria:
            raise self.refuse("policy.no_criteria", path, "criteria")
        read = tuple(self.criterion(c, (*path, "criteria", j)) for j, c in enumerate(criteria))
        return Gate(stages[stage_text], GateMode(mode_text), read)

    def criterion(self, entry: Any, path: tuple[Any, ...]) -> Criterion:
        if not isinstance(entry, dict):
            raise self.refuse("policy.not_table", path, None, got=_type_name(entry))
        if "id" not in entry:
            raise self.refuse("policy.missing_key", path, None, key="id")
        cls = CRITERIA.get(entry["id"]) if isinstance(entry["id"], str) else None
        if cls is None:
            raise self.refuse("policy.unknown_criterion", path, "id", value=str(entry["id"]),
                allowed=list(CRITERIA),
            )  # fmt: skip
        self.keys(entry, path, ["id", *cls.PARAMS])
        values: dict[str, Any] = {}
        for name, spec in cls.PARAMS.items():
            if name not in entry:
                raise self.refuse("policy.missing_param", path, None, key=name, criterion=cls.id)
            values[name] = self.param(entry[name], spec, path, name)
        return cls(**values)

    def param(self, value: Any, spec: str, path: tuple[Any, ...], name: str) -> Any:
        if spec == "whole":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise self.refuse("policy.not_whole", path, name, key=name, got=_shown(value))
            if value > MAX_NUMBER:
                raise self.refuse("policy.not_whole", path, name, key=name, got=_shown(value))
            return value
        if spec == "kind":
            if not isinstance(value, str) or value not in set(QualificationKind):
                raise self.refuse("policy.unknown_kind", path, name, value=_shown(value),
                    allowed=[k.value for k in QualificationKind],
                )  # fmt: skip
            return QualificationKind(value)
        # "kinds": a non-empty list of milestone kinds
        if not isinstance(value, list) or not value:
            raise self.refuse("policy.not_kinds", path, name, key=name, got=_shown(value))
        kinds = []
        for item in value:
            if not isinstance(item, str) or item not in set(MilestoneKind):
                raise self.refuse("policy.unknown_milestone", path, name, value=_shown(item),
                    allowed=[k.value for k in MilestoneKind],
                )  # fmt: skip
            if MilestoneKind(item) not in kinds:
                kinds.append(MilestoneKind(item))
        return tuple(kinds)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
