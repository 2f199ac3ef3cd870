"""The annual Torch statistics (DESIGN §9): indicators per site and in total, logic checks.

Two halves. The pure half (`Basis` → `compute`) turns plain rows into indicators and checks,
with no database: it is what the tests compare against a brute-force reference. The use-case
half (`torch_report`) reads those rows for a year with the queries of `store.py`.

Year Y is the half-open UTC window [Y-01-01T00:00Z, (Y+1)-01-01T00:00Z); "at year end" is
the state just before (Y+1)-01-01T00:00Z, so an event at exactly that instant belongs to Y+1.
A qualification "valid at year end" is valid on Y-12-31; financing "before year end" is dated
on or before Y-12-31. Money is in yuan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from incubator.messages import Message, message
from incubator.stages import InvalidInput
from incubator.values import check_report_year, isoformat, now_utc

if TYPE_CHECKING:
    from incubator.access import Actor
    from incubator.store import Database

#: The setting that holds the stuck-list limits (the web app's time-in-stage page edits it;
#: `ui/frames.LIMITS_SETTING`): `{"limits": {stage: months}, "sector_limits": {sector:
#: {stage: months}}}`.
STUCK_LIMITS_SETTING = "stuck_limits"
#: The stuck-list defaults (`metrics.DEFAULT_LIMITS_MONTHS`, `SECTOR_LIMITS_MONTHS`) for the
#: incubator: 48 months, 60 for biomedicine.
DEFAULT_INCUBATOR_MONTHS = 48.0
DEFAULT_SECTOR_MONTHS = {"biomedicine": 60.0}
DAYS_PER_MONTH = 30.4375
US_PER_DAY = 86_400_000_000

#: The counting indicators, then the sums of year-Y figures, in the order reports show them.
COUNTS = (
    "incubated", "new", "graduated", "graduated_total", "exited", "overstayed", "high_tech",
    "tech_sme", "financed", "ip_holders",
)  # fmt: skip
SUMS = ("revenue", "rd_spend", "employees", "tech_contract_value")
#: Shares of the incubated companies (null when none is incubated).
SHARES = {
    "share_high_tech": "high_tech",
    "share_tech_sme": "tech_sme",
    "share_financed": "financed",
    "share_ip_holders": "ip_holders",
}
SITE_FIGURES = ("floor_area_m2", "staff", "mentors", "incubation_fund")
DENSITY = "incubated_per_1000_m2"
INDICATORS = (*COUNTS, *SUMS, *SHARES, *SITE_FIGURES, DENSITY)
#: Money indicators (yuan in JSON; 千元 in the workbook).
MONEY = ("revenue", "rd_spend", "tech_contract_value", "incubation_fund")

#: The figures the incubated companies' sheet shows, and those a complete filing must give.
FIGURE_NAMES = (
    "revenue", "net_profit", "taxes", "rd_spend", "exports", "employees", "employees_college",
    "employees_phd", "returnees", "new_graduates", "ip_applied", "ip_granted", "ip_valid",
    "invention_patents_valid", "tech_contracts", "tech_contract_value", "floor_area_m2",
)  # fmt: skip
REQUIRED_FIGURES = ("revenue", "employees")


def year_window(year: int) -> tuple[datetime, datetime]:
    """[Y-01-01T00:00Z, (Y+1)-01-01T00:00Z)."""
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch (the spells' time unit), exact."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# --- the pure half -------------------------------------------------------------------------


@dataclass(frozen=True)
class Incubated:
    """A company in the incubator at year end."""

    company_id: int
    key: str
    name: str
    site: str
    sector: str
    uscc: str | None
    start_us: int


@dataclass(frozen=True)
class Graduation:
    """A move from the incubator to the accelerator in the year."""

    key: str
    name: str
    site: str
    sector: str
    at: datetime
    gate: str | None  # the gate's outcome as JSON (None: no gate was applied)

    def outcome(self) -> dict[str, Any] | None:
        return json.loads(self.gate) if self.gate else None

    def criterion(self) -> str | None:
        """The criteria the gate found met (ids, comma-separated), or None."""
        doc = self.outcome()
        if not doc or not doc.get("passed"):
            return None
        met = [str(m.get("id", m)) if isinstance(m, dict) else str(m) for m in doc.get("met", [])]
        return ", ".join(met) or None

    def override(self) -> str | None:
        doc = self.outcome()
        return doc.get("override") if doc else None


@dataclass(frozen=True)
class Limits:
    """The incubator's stay limit in months, with sector overrides (the stuck list's)."""

    months: float | None = DEFAULT_INCUBATOR_MONTHS
    sector_months: Mapping[str, float] = field(default_factory=lambda: DEFAULT_SECTOR_MONTHS)

    def limit_us(self, sector: str) -> int | None:
        months = self.sector_months.get(sector, self.months)
        return None if months is None else round(months * DAYS_PER_MONTH * US_PER_DAY)

    @classmethod
    def from_setting(cls, text: str | None) -> Limits:
        """The stored stuck-list limits' incubator entries; the defaults when none is stored
        or it cannot be read."""
        if not text:
            return cls()
        try:
            doc = json.loads(text)
            limits = dict(doc.get("limits", {}))
            months = float(limits["incubator"]) if "incubator" in limits else None
            sectors = {
                str(s): float(stages["incubator"])
                for s, stages in dict(doc.get("sector_limits", {})).items()
                if "incubator" in dict(stages)
            }
        except (ValueError, TypeError, AttributeError):
            return cls()
        return cls(months, sectors)


@dataclass(frozen=True)
class Basis:
    """Everything the indicators and checks of a year are computed from."""

    year: int
    sites: Sequence[str]  # the registry sites listed (every one, or the one asked for)
    spell_counts: Mapping[str, tuple[int, int, int, int]]  # new, graduated, total, exited
    incubated: Sequence[Incubated]
    qualifications: Mapping[int, frozenset[str]]  # valid at year end, by company id
    financing: Mapping[int, int]  # yuan up to year end, by company id (only those with any)
    figures: Mapping[int, Mapping[str, int | None]]  # year-Y figures, by company id
    graduations: Sequence[Graduation]
    site_figures: Mapping[str, Mapping[str, int | None]]  # year-Y site figures, by site
    limits: Limits = field(default_factory=Limits)

    @property
    def end_us(self) -> int:
        return micros(year_window(self.year)[1])


@dataclass(frozen=True)
class Check:
    """A logic check that failed: which, for which company, which field, and the values."""

    check: str
    key: str
    name: str
    site: str
    field: str
    message: Message

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "key": self.key,
            "name": self.name,
            "site": self.site,
            "field": self.field,
            "message": self.message.render("en"),
        }


@dataclass(frozen=True)
class TorchReport:
    year: int
    site: str | None
    sites: list[dict[str, Any]]
    total: dict[str, Any]
    checks: list[Check]
    incubated: list[dict[str, Any]]  # one row per incubated company (the workbook's sheet)
    graduated: list[dict[str, Any]]  # one row per graduation in the year

    def to_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "sites": self.sites,
            "total": self.total,
            "checks": [c.to_json() for c in self.checks],
        }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    """Add the shares and the density to a row of counts, sums and site figures."""
    for share, count in SHARES.items():
        row[share] = _share(row[count], row["incubated"])
    area = row.get("floor_area_m2")
    row[DENSITY] = row["incubated"] * 1000 / area if area else None
    return {k: row.get(k) for k in INDICATORS}


def stay_us(company: Incubated, end_us: int) -> int:
    return end_us - company.start_us


def compute(basis: Basis) -> TorchReport:
    """The indicators per site and in total, and the checks (pure)."""
    end_us = basis.end_us
    rows: dict[str, dict[str, Any]] = {}

    def row_of(site: str) -> dict[str, Any]:
        if site not in rows:
            rows[site] = {k: 0 for k in (*COUNTS, *SUMS)}
        return rows[site]

    for site in basis.sites:
        row_of(site)
    for site, (new, ended_up, up_to_end, left) in basis.spell_counts.items():
        row = row_of(site)
        row["new"] += new
        row["graduated"] += ended_up
        row["graduated_total"] += up_to_end
        row["exited"] += left
    checks: list[Check] = []
    detail: list[dict[str, Any]] = []
    for c in basis.incubated:
        row = row_of(c.site)
        row["incubated"] += 1
        limit = basis.limits.limit_us(c.sector)
        stay = stay_us(c, end_us)
        if limit is not None and stay > limit:
            row["overstayed"] += 1
            checks.append(
                _check("overstayed", c, "stay", days=stay // US_PER_DAY, limit=limit // US_PER_DAY)
            )
        kinds = basis.qualifications.get(c.company_id, frozenset())
        row["high_tech"] += "high_tech" in kinds
        row["tech_sme"] += "tech_sme" in kinds
        row["financed"] += c.company_id in basis.financing
        figures = basis.figures.get(c.company_id)
        if figures is None:
            checks.append(_check("missing_figures", c, "figures", year=basis.year))
            figures = {}
        else:
            checks.extend(
                _check("missing_figure", c, name, year=basis.year)
                for name in REQUIRED_FIGURES
                if figures.get(name) is None
            )
            checks.extend(_figure_checks(c, figures))
        row["ip_holders"] += (figures.get("ip_valid") or 0) > 0
        for name in SUMS:
            row[name] += figures.get(name) or 0
        detail.append(
            {
                "key": c.key, "name": c.name, "site": c.site, "sector": c.sector,
                "uscc": c.uscc, "since": c.start_us, "stay_days": round(stay / US_PER_DAY, 1),
                "qualifications": sorted(kinds), "financing": basis.financing.get(c.company_id),
                **{name: figures.get(name) for name in FIGURE_NAMES},
            }
        )  # fmt: skip
    graduated: list[dict[str, Any]] = []
    for g in basis.graduations:
        criterion, override = g.criterion(), g.override()
        if criterion is None and override is None:
            checks.append(
                Check(
                    "graduated_without_gate", g.key, g.name, g.site, "gate",
                    message("check.graduated_without_gate", key=g.key, at=g.at),
                )
            )  # fmt: skip
        graduated.append(
            {
                "key": g.key, "name": g.name, "site": g.site, "sector": g.sector,
                "graduated_at": g.at, "criterion": criterion, "override": override,
            }
        )  # fmt: skip
    for site, row in rows.items():
        figures = basis.site_figures.get(site, {})
        for name in SITE_FIGURES:
            row[name] = figures.get(name)
    listed = [s for s in basis.sites] + sorted(s for s in rows if s not in basis.sites)
    sites = [{"site": s, **_finish(dict(rows[s]))} for s in listed]
    total: dict[str, Any] = {k: sum(rows[s][k] for s in listed) for k in (*COUNTS, *SUMS)}
    for name in SITE_FIGURES:
        given = [rows[s][name] for s in listed if rows[s].get(name) is not None]
        total[name] = sum(given) if given else None
    checks.sort(key=lambda c: (c.key, c.check, c.field))
    return TorchReport(basis.year, None, sites, _finish(total), checks, detail, graduated)


class FieldName(str):
    """A field a check names: its id in English, its label in Chinese."""

    def localised(self, lang: str) -> str:
        return LABELS[self][0] if lang == "zh" and self in LABELS else str(self)


def _check(kind: str, c: Incubated, field_name: str, **values: Any) -> Check:
    return Check(
        kind, c.key, c.name, c.site, field_name,
        message(f"check.{kind}", key=c.key, field=FieldName(field_name), **values),
    )  # fmt: skip


def _figure_checks(c: Incubated, figures: Mapping[str, int | None]) -> list[Check]:
    found = []
    phd, employees = figures.get("employees_phd"), figures.get("employees")
    if phd is not None and employees is not None and phd > employees:
        found.append(_check("phd_above_employees", c, "employees_phd", phd=phd, n=employees))
    rd, revenue = figures.get("rd_spend"), figures.get("revenue")
    if rd is not None and revenue is not None and rd > revenue:
        found.append(_check("rd_above_revenue", c, "rd_spend", rd=rd, revenue=revenue))
    return found


# --- the use case ----------------------------------------------------------------------------


def torch_report(
    db: Database, year: int, *, site: str | None = None, now: datetime | None = None
) -> TorchReport:
    """The Torch statistics of `year` (1990 to next year) for every registry site, or for
    `site` (then `total` is that site's). An unknown site is refused with the known ones."""
    from incubator import store
    from incubator.sites import unknown_site

    check_report_year(year, now or now_utc())
    start, end = year_window(year)
    start_us, end_us = micros(start), micros(end)
    day = date(year, 12, 31)
    with db.unit() as uow:
        names = uow.site_names()
        if site is not None and site not in names:
            raise unknown_site(site, names)
        basis = Basis(
            year=year,
            sites=[site] if site is not None else names,
            spell_counts=store.incubator_spell_counts(uow, start_us, end_us, site=site),
            incubated=[Incubated(*r) for r in store.incubated_companies(uow, end_us, site=site)],
            qualifications=_by_company(store.incubated_qualifications(uow, end_us, day, site=site)),
            financing=store.incubated_financing(uow, end_us, day, site=site),
            figures={
                cid: dict(zip(store.FIGURE_COLUMNS, values, strict=True))
                for cid, values in store.incubated_figures(uow, end_us, year, site=site).items()
            },
            graduations=[Graduation(*g) for g in store.graduations(uow, start, end, site=site)],
            site_figures={
                f.site: {n: getattr(f, n) for n in SITE_FIGURES}
                for f in uow.site_figures(year=year)
            },
            limits=Limits.from_setting(uow.setting(STUCK_LIMITS_SETTING)),
        )
    return replace(compute(basis), site=site)


def _by_company(pairs: Sequence[tuple[int, str]]) -> dict[int, frozenset[str]]:
    found: dict[int, set[str]] = {}
    for cid, kind in pairs:
        found.setdefault(cid, set()).add(kind)
    return {cid: frozenset(kinds) for cid, kinds in found.items()}


def iso_micros(us: int) -> str:
    """An instant in µs as ISO 8601 in UTC."""
    return isoformat(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us))


# --- the workbook ----------------------------------------------------------------------------

#: Each indicator's header: Chinese, English.
LABELS: dict[str, tuple[str, str]] = {
    "site": ("站点", "Site"),
    "incubated": ("在孵企业数", "Incubated companies"),
    "new": ("当年新增在孵企业", "New in the year"),
    "graduated": ("当年毕业企业", "Graduated in the year"),
    "graduated_total": ("累计毕业企业", "Graduated to date"),
    "exited": ("当年退出企业", "Exited in the year"),
    "overstayed": ("超期在孵企业", "Beyond the stay limit"),
    "high_tech": ("高新技术企业", "High-tech enterprises"),
    "tech_sme": ("科技型中小企业", "Tech SMEs"),
    "financed": ("获得投融资企业", "Financed companies"),
    "ip_holders": ("拥有有效知识产权企业", "Holding valid IP"),
    "revenue": ("总收入", "Revenue"),
    "rd_spend": ("研发投入", "R&D spend"),
    "employees": ("从业人员", "Employees"),
    "tech_contract_value": ("技术合同交易额", "Technology contract value"),
    "share_high_tech": ("高新技术企业占比", "Share high-tech"),
    "share_tech_sme": ("科技型中小企业占比", "Share tech SMEs"),
    "share_financed": ("获投融资企业占比", "Share financed"),
    "share_ip_holders": ("有效知识产权企业占比", "Share holding IP"),
    "floor_area_m2": ("孵化场地面积（平方米）", "Floor area (m²)"),
    "staff": ("管理机构从业人员", "Staff"),
    "mentors": ("创业导师", "Mentors"),
    "incubation_fund": ("孵化基金", "Incubation fund"),
    DENSITY: ("每千平方米在孵企业数", "Incubated per 1,000 m²"),
    "key": ("企业编号", "Key"),
    "name": ("企业名称", "Name"),
    "sector": ("行业", "Sector"),
    "uscc": ("统一社会信用代码", "USCC"),
    "since": ("入孵时间（UTC）", "In the incubator since (UTC)"),
    "stay_days": ("在孵天数", "Days in the incubator"),
    "qualifications": ("年末有效资质", "Qualifications valid at year end"),
    "financing": ("累计融资", "Financing to date"),
    "net_profit": ("净利润", "Net profit"),
    "taxes": ("上缴税费", "Taxes"),
    "exports": ("出口总额", "Exports"),
    "employees_college": ("大专以上人员", "College-educated"),
    "employees_phd": ("博士", "PhDs"),
    "returnees": ("留学归国人员", "Returnees"),
    "new_graduates": ("应届毕业生", "New graduates"),
    "ip_applied": ("知识产权申请数", "IP applied"),
    "ip_granted": ("知识产权授权数", "IP granted"),
    "ip_valid": ("有效知识产权数", "IP valid"),
    "invention_patents_valid": ("有效发明专利", "Valid invention patents"),
    "tech_contracts": ("技术合同数", "Technology contracts"),
    "graduated_at": ("毕业时间（UTC）", "Graduated at (UTC)"),
    "criterion": ("毕业依据（满足的条件）", "Criterion met"),
    "override": ("强制通过理由", "Override reason"),
    "check": ("检查项", "Check"),
    "figures": ("年度数据", "Annual figures"),
    "stay": ("在孵时间", "Stay"),
    "gate": ("毕业门槛", "Graduation gate"),
    "field": ("字段", "Field"),
    "message": ("说明", "Finding"),
    "message_zh": ("说明（中文）", "Finding (Chinese)"),
}
#: Money in the workbook: thousands of yuan (千元), as the Torch forms want.
WORKBOOK_MONEY = (*MONEY, "net_profit", "taxes", "exports", "financing")
SUMMARY_COLUMNS = ("site", *INDICATORS)
INCUBATED_COLUMNS = (
    "site", "key", "name", "sector", "uscc", "since", "stay_days", "qualifications",
    "financing", *FIGURE_NAMES,
)  # fmt: skip
GRADUATED_COLUMNS = (
    "site", "key", "name", "sector", "graduated_at", "criterion", "override",
)  # fmt: skip
CHECK_COLUMNS = ("site", "key", "name", "check", "field", "message", "message_zh")
TOTAL_LABEL = "合计 Total"
SHEET_TITLES = ("孵化器综合情况 summary", "在孵企业 incubated", "毕业企业 graduated",
                "逻辑检查 checks")  # fmt: skip


def header(column: str) -> str:
    """`在孵企业数 Incubated companies`; money columns say 千元 (thousand yuan)."""
    zh, en = LABELS[column]
    if column in WORKBOOK_MONEY:
        return f"{zh}（千元） {en} (thousand yuan)"
    return f"{zh} {en}"


def _cell(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in WORKBOOK_MONEY:
        return value / 1000
    if column == "since":  # to the minute, in UTC (the header says so), as people read it
        return _minute(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value))
    if column == "graduated_at":
        return _minute(value)
    if column == "qualifications":
        return ", ".join(value)
    return value


def _minute(moment: datetime) -> str:
    """`2025-02-24 09:10`: an instant in UTC to the minute, for the workbook's readers."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def torch_sheets(report: TorchReport) -> list[Any]:
    """The workbook's four sheets: the incubator summary (a row per site and the total), the
    incubated companies with their year-Y figures and qualifications, the graduated
    companies with the criterion or override, and the logic checks."""
    from incubator.workbook import Sheet

    def rows(columns: Sequence[str], items: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        return [[_cell(c, item.get(c)) for c in columns] for item in items]

    summary = rows(SUMMARY_COLUMNS, [*report.sites, {**report.total, "site": TOTAL_LABEL}])
    checks = [{**c.to_json(), "message_zh": c.message.render("zh")} for c in report.checks]
    return [
        Sheet(SHEET_TITLES[0], [header(c) for c in SUMMARY_COLUMNS], summary),
        Sheet(SHEET_TITLES[1], [header(c) for c in INCUBATED_COLUMNS],
              rows(INCUBATED_COLUMNS, report.incubated)),
        Sheet(SHEET_TITLES[2], [header(c) for c in GRADUATED_COLUMNS],
              rows(GRADUATED_COLUMNS, report.graduated)),
        Sheet(SHEET_TITLES[3], [header(c) for c in CHECK_COLUMNS], rows(CHECK_COLUMNS, checks)),
    ]  # fmt: skip


def write_torch_workbook(report: TorchReport, out: Any) -> int:
    """Write the report's workbook to a binary file; the number of data rows."""
    from incubator.workbook import write_rows

    return write_rows(out, torch_sheets(report))


# --- the city's targets and KPIs --------------------------------------------------------------

#: The KPI metrics, in the order `kpi` lists them: qualifications valid at year end, tech SMEs
#: registered in the year, achievements transferred (technology contracts), the value of
#: technology contracts (yuan), graduations.
METRICS = (
    "high_tech", "tech_sme", "hidden_champion", "little_giant", "specialized", "achievements",
    "tech_contract_value", "graduated",
)  # fmt: skip
#: Metrics counted as companies with that qualification valid on Y-12-31, not exited by then.
VALID_AT_YEAR_END = ("high_tech", "hidden_champion", "little_giant", "specialized")


def parse_metric(metric: str) -> str:
    value = metric.strip().lower()
    if value not in METRICS:
        raise InvalidInput("target.bad_metric", metric=metric, allowed=list(METRICS))
    return value


@dataclass(frozen=True)
class Target:
    metric: str
    year: int
    value: int
    changed_by: str
    changed_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "year": self.year,
            "value": self.value,
            "changed_by": self.changed_by,
            "changed_at": isoformat(self.changed_at),
        }


def set_target(
    db: Database,
    metric: str,
    value: int | str,
    *,
    year: int,
    actor: Actor,
    now: datetime | None = None,
) -> Target:
    """Set the city's target for a metric in a year (admins only): a whole number, not
    negative (yuan for tech_contract_value). Recorded in `registry_record`."""
    from incubator.chains import actor_name
    from incubator.evidence import parse_whole

    actor.require_admin(message("action.set_target"))
    now = now or now_utc()
    metric = parse_metric(metric)
    check_report_year(year, now)
    amount = parse_whole(value, "field.target")
    by = actor_name(actor)
    with db.unit(write=True) as uow:
        uow.put_target(metric, year, {"value": amount, "changed_by": by, "changed_at": now})
        uow.append_registry_record(
            {
                "subject": f"target:{metric}:{year}",
                "kind": "target",
                "payload": json.dumps({"value": amount}, sort_keys=True),
                "actor": by,
                "recorded_at": now,
            }
        )
        uow.commit()
    return Target(metric, year, amount, by, now)


def list_targets(db: Database, *, year: int | None = None) -> list[Target]:
    """The targets set (of one year), ordered by year, then in `METRICS` order."""
    with db.unit() as uow:
        rows = uow.targets(year=year)
    found = [Target(r.metric, r.year, r.value, r.changed_by, r.changed_at) for r in rows]
    order = {m: i for i, m in enumerate(METRICS)}
    return sorted(found, key=lambda t: (t.year, order.get(t.metric, len(order)), t.metric))


def kpi(db: Database, year: int, *, now: datetime | None = None) -> dict[str, Any]:
    """`{"year", "rows": [{"metric", "target", "actual"}, ...]}`, a row per metric of
    `METRICS` (target null when none is set)."""
    from incubator import store

    check_report_year(year, now or now_utc())
    start, end = year_window(year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    with db.unit() as uow:
        targets = {t.metric: t.value for t in uow.targets(year=year)}
        actual: dict[str, int] = {
            kind: store.qualified_companies(uow, kind, last, end) for kind in VALID_AT_YEAR_END
        }
        actual["tech_sme"] = store.qualifications_granted(uow, "tech_sme", first, last)
        actual["achievements"] = store.figures_sum(uow, "tech_contracts", year)
        actual["tech_contract_value"] = store.figures_sum(uow, "tech_contract_value", year)
        actual["graduated"] = store.graduations_count(uow, start, end)
    return {
        "year": year,
        "rows": [{"metric": m, "target": targets.get(m), "actual": actual[m]} for m in METRICS],
    }
