"""The site registry (DESIGN §9): use cases.

Sites are records: a name, a kind (`makerspace` 众创空间, `incubator` 孵化器, `accelerator`
加速器, `park` 产业园, `mixed` 综合) and a level (`national`, `provincial`, `municipal`,
`none`), with per-year figures (floor area in m², staff, mentors, incubation fund in yuan).
Companies and managers name a registry site (or none); an unknown site is refused with the
list of known ones — an admin adds a site first. Only admins change the registry; every
change is also appended to the append-only `registry_record` table (who, when, what).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from incubator.access import Actor
from incubator.chains import actor_name
from incubator.evidence import parse_whole
from incubator.messages import message
from incubator.stages import InvalidInput
from incubator.store import (
    SITE_FIGURE_COLUMNS,
    Database,
    KeyTaken,
    SiteFiguresRecord,
    SiteRecord,
    UnitOfWork,
)
from incubator.values import check_report_year, clean_label, isoformat, now_utc


class SiteKind(StrEnum):
    MAKERSPACE = "makerspace"
    INCUBATOR = "incubator"
    ACCELERATOR = "accelerator"
    PARK = "park"
    MIXED = "mixed"

    def localised(self, lang: str) -> str:
        return _KIND_ZH[self] if lang == "zh" else self.value


_KIND_ZH = {
    SiteKind.MAKERSPACE: "众创空间",
    SiteKind.INCUBATOR: "孵化器",
    SiteKind.ACCELERATOR: "加速器",
    SiteKind.PARK: "产业园",
    SiteKind.MIXED: "综合",
}


class SiteLevel(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    NONE = "none"

    def localised(self, lang: str) -> str:
        return _LEVEL_ZH[self] if lang == "zh" else self.value


_LEVEL_ZH = {
    SiteLevel.NATIONAL: "国家级",
    SiteLevel.PROVINCIAL: "省级",
    SiteLevel.MUNICIPAL: "市级",
    SiteLevel.NONE: "未认定",
}

#: How many known sites a refusal lists before "and N more".
SHOWN_SITES = 30


@dataclass(frozen=True)
class SiteFigures:
    """A site's figures for a year (None: not given)."""

    site: str
    year: int
    floor_area_m2: int | None = None
    staff: int | None = None
    mentors: int | None = None
    incubation_fund: int | None = None
    changed_by: str | None = None
    changed_at: datetime | None = None

    @classmethod
    def of(cls, row: SiteFiguresRecord) -> SiteFigures:
        return cls(
            row.site, row.year, row.floor_area_m2, row.staff, row.mentors,
            row.incubation_fund, row.changed_by, row.changed_at,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "year": self.year,
            **{name: getattr(self, name) for name in SITE_FIGURE_COLUMNS},
            "changed_by": self.changed_by,
            "changed_at": isoformat(self.changed_at) if self.changed_at else None,
        }


@dataclass(frozen=True)
class SiteView:
    """A registry site, with its figures by year (oldest first)."""

    name: str
    kind: SiteKind
    level: SiteLevel
    changed_by: str
    changed_at: datetime
    figures: tuple[SiteFigures, ...] = ()

    @classmethod
    def of(cls, row: SiteRecord, figures: Sequence[SiteFigures] = ()) -> SiteView:
        return cls(
            row.name,
            SiteKind(row.kind),
            SiteLevel(row.level),
            row.changed_by,
            row.changed_at,
            tuple(figures),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "level": self.level.value,
            "changed_by": self.changed_by,
            "changed_at": isoformat(self.changed_at),
            "figures": [
                {k: v for k, v in f.to_json().items() if k != "site"} for f in self.figures
            ],
        }


# --- checks other use cases call ----------------------------------------------------------


def parse_kind(kind: str) -> SiteKind:
    try:
        return SiteKind(kind.strip().lower())
    except ValueError:
        raise InvalidInput(
            "site.bad_kind", kind=kind, allowed=[k.value for k in SiteKind]
        ) from None


def parse_level(level: str) -> SiteLevel:
    try:
        return SiteLevel(level.strip().lower())
    except ValueError:
        raise InvalidInput(
            "site.bad_level", level=level, allowed=[v.value for v in SiteLevel]
        ) from None


def unknown_site(site: str, known: Sequence[str]) -> InvalidInput:
    """The refusal of a site that is not in the registry, listing the known ones."""
    if not known:
        return InvalidInput("site.unknown_none_yet", site=site)
    shown: list[Any] = list(known[:SHOWN_SITES])
    if len(known) > SHOWN_SITES:
        shown.append(message("list.more", n=len(known) - SHOWN_SITES))
    return InvalidInput("site.unknown", site=site, known=shown)


def require_registered(uow: UnitOfWork, site: str) -> None:
    """Refuse a (non-empty) site that is not in the registry: an admin adds a site first."""
    if site and uow.site(site) is None:
        raise unknown_site(site, uow.site_names())


# --- reads ----------------------------------------------------------------------------------


def list_sites(db: Database) -> list[SiteView]:
    """Every registry site with its figures, ordered by name."""
    with db.unit() as uow:
        rows = uow.sites()
        figures = uow.site_figures()
    by_site: dict[str, list[SiteFigures]] = {}
    for f in figures:
        by_site.setdefault(f.site, []).append(SiteFigures.of(f))
    return [SiteView.of(row, by_site.get(row.name, ())) for row in rows]


def site_names(db: Database) -> list[str]:
    with db.unit() as uow:
        return uow.site_names()


def figures_of_year(uow: UnitOfWork, year: int) -> dict[str, SiteFigures]:
    """Every site's figures for `year`, by site name (sites without figures are absent)."""
    return {f.site: SiteFigures.of(f) for f in uow.site_figures(year=year)}


# --- writes (admins only) -------------------------------------------------------------------


def _record(uow: UnitOfWork, subject: str, kind: str, payload: dict[str, Any], by: str,
            now: datetime) -> None:  # fmt: skip
    uow.append_registry_record(
        {
            "subject": subject,
            "kind": kind,
            "payload": json.dumps(payload, sort_keys=True, ensure_ascii=False),
            "actor": by,
            "recorded_at": now,
        }
    )


def _site_name(name: str) -> str:
    return clean_label(name, "field.site_name", required=True)


def add_site(
    db: Database,
    name: str,
    *,
    actor: Actor,
    kind: str = SiteKind.MIXED.value,
    level: str = SiteLevel.NONE.value,
    exist_ok: bool = False,
) -> SiteView:
    """Register a site (admins only). `exist_ok`: a site registered already is left as it is
    (and returned) instead of refused."""
    actor.require_admin(message("action.manage_sites"))
    name = _site_name(name)
    kind_value, level_value = parse_kind(kind), parse_level(level)
    by = actor_name(actor)
    now = now_utc()
    with db.unit(write=True) as uow:
        existing = uow.site(name)
        if existing is not None:
            if exist_ok:
                return SiteView.of(existing)
            raise InvalidInput("site.exists", site=name)
        values: dict[str, Any] = {
            "name": name,
            "kind": kind_value.value,
            "level": level_value.value,
            "changed_by": by,
            "changed_at": now,
        }
        try:
            site_id = uow.insert_site(values)
        except KeyTaken:
            raise InvalidInput("site.exists", site=name) from None
        _record(uow, f"site:{name}", "add", {"kind": kind_value, "level": level_value}, by, now)
        uow.commit()
    return SiteView.of(SiteRecord(site_id, **values))


def set_site(
    db: Database,
    name: str,
    *,
    actor: Actor,
    kind: str | None = None,
    level: str | None = None,
) -> SiteView:
    """Change a site's kind or level (admins only)."""
    actor.require_admin(message("action.manage_sites"))
    name = _site_name(name)
    changes: dict[str, str] = {}
    if kind is not None:
        changes["kind"] = parse_kind(kind).value
    if level is not None:
        changes["level"] = parse_level(level).value
    if not changes:
        raise InvalidInput("site.nothing")
    by = actor_name(actor)
    now = now_utc()
    with db.unit(write=True) as uow:
        row = uow.site(name, lock=True)
        if row is None:
            raise unknown_site(name, uow.site_names())
        changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
        if not changed:
            raise InvalidInput("site.unchanged", site=name)
        uow.update_site(row.id, {**changed, "changed_by": by, "changed_at": now})
        _record(uow, f"site:{name}", "set", changed, by, now)
        for k, v in changed.items():
            setattr(row, k, v)
        row.changed_by, row.changed_at = by, now
        figures = [SiteFigures.of(f) for f in uow.site_figures(site=name)]
        uow.commit()
    return SiteView.of(row, figures)


FIGURE_FIELDS = {
    "floor_area_m2": "field.floor_area",
    "staff": "field.staff",
    "mentors": "field.mentors",
    "incubation_fund": "field.incubation_fund",
}


def set_figures(
    db: Database,
    name: str,
    *,
    year: int,
    actor: Actor,
    now: datetime | None = None,
    **given: int | str | None,
) -> SiteFigures:
    """Record a site's figures for a year (admins only): floor_area_m2, staff, mentors,
    incubation_fund (yuan); whole numbers, not negative. Fields not given keep their values."""
    actor.require_admin(message("action.manage_sites"))
    name = _site_name(name)
    now = now or now_utc()
    check_report_year(year, now)
    unknown = set(given) - set(FIGURE_FIELDS)
    assert not unknown, unknown
    values = {k: parse_whole(v, FIGURE_FIELDS[k]) for k, v in given.items() if v is not None}
    if not values:
        raise InvalidInput("site.no_figures")
    by = actor_name(actor)
    with db.unit(write=True) as uow:
        row = uow.site(name, lock=True)
        if row is None:
            raise unknown_site(name, uow.site_names())
        before = uow.site_figures(year=year, site=name)
        merged = {k: getattr(before[0], k) if before else None for k in SITE_FIGURE_COLUMNS}
        merged.update(values)
        uow.put_site_figures(row.id, year, {**merged, "changed_by": by, "changed_at": now})
        _record(uow, f"site:{name}", "figures", {"year": year, **values}, by, now)
        uow.commit()
    return SiteFigures(name, year, **merged, changed_by=by, changed_at=now)


def register_sites(
    db: Database, sites: Sequence[tuple[str, str, str]], *, actor: Actor
) -> list[SiteView]:
    """Register each (name, kind, level) not registered yet (the demo's set-up)."""
    return [add_site(db, n, kind=k, level=lv, actor=actor, exist_ok=True) for n, k, lv in sites]
