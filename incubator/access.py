"""Who may do what (DESIGN §6). Pure domain: roles, the acting user, and the rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from incubator.messages import Message, message
from incubator.stages import PermissionDenied


class Role(StrEnum):
    VIEWER = "viewer"
    MANAGER = "manager"
    ADMIN = "admin"
    #: A company's own person: reads only their company and records only its annual figures.
    COMPANY = "company"
    #: The command line acting as the database owner: it holds the database file already.
    OWNER = "owner"

    def localised(self, lang: str) -> str:
        return _ROLES_ZH[self] if lang == "zh" else self.value


#: A manager is a 孵化经理 (incubation manager), never 管理员, which reads as administrator.
_ROLES_ZH = {
    Role.VIEWER: "查看者",
    Role.MANAGER: "孵化经理",
    Role.ADMIN: "系统管理员",
    Role.COMPANY: "企业用户",
    Role.OWNER: "数据库所有者",
}


#: Roles that can be given to a user account.
USER_ROLES: tuple[Role, ...] = (Role.VIEWER, Role.MANAGER, Role.ADMIN, Role.COMPANY)

#: The one kind of fact a company user records (for their own company): `figures`.
COMPANY_FACT = "figures"


@dataclass(frozen=True)
class Actor:
    """The person (or command line) on whose behalf a use case runs."""

    name: str
    role: Role = Role.OWNER
    site: str | None = None
    #: The key of the company a `company` user speaks for (None for every other role).
    company: str | None = None

    @property
    def can_write(self) -> bool:
        """Whether this actor may admit, move and record facts (a company user records only
        its own company's figures: `require_fact_write`)."""
        return self.role not in (Role.VIEWER, Role.COMPANY)

    @property
    def is_company(self) -> bool:
        return self.role is Role.COMPANY

    def owns_company(self, key: str) -> bool:
        """Whether `key` (any letter case) is this company user's own company."""
        return self.is_company and (self.company or "").casefold() == key.strip().casefold()

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.ADMIN, Role.OWNER)

    def may_write_site(self, site: str) -> bool:
        if not self.can_write:
            return False
        return self.is_admin or not self.site or self.site == site

    def require_write(self, site: str, what: Message) -> None:
        """PermissionDenied unless this actor may write at `site`; `what` names the action
        (`message("action.admit", key=...)`)."""
        if self.role is Role.VIEWER:
            raise PermissionDenied("access.viewer", name=self.name, what=what)
        if self.role is Role.COMPANY:
            raise PermissionDenied("access.company_figures", name=self.name, what=what)
        if not self.may_write_site(site):
            raise PermissionDenied(
                "access.other_site",
                name=self.name,
                mine=self.site,
                what=what,
                site=site or message("site.none"),
            )

    def require_fact_write(self, key: str, site: str, kind: str, what: Message) -> None:
        """PermissionDenied unless this actor may record a fact of `kind` for the company
        `key` at `site`: a company user only `figures` of their own company; everyone else
        as `require_write`."""
        if self.role is not Role.COMPANY:
            self.require_write(site, what)
            return
        self.require_company(key, what)
        if kind != COMPANY_FACT:
            raise PermissionDenied("access.company_figures", name=self.name, what=what)

    def require_company(self, key: str, what: Message) -> None:
        """PermissionDenied when a company user asks for a company other than their own
        (any other role may read every company)."""
        if self.role is Role.COMPANY and not self.owns_company(key):
            self.refuse_company(what)

    def refuse_company(self, what: Message) -> None:
        """PermissionDenied: `what` concerns a company other than this company user's."""
        raise PermissionDenied(
            "access.company_other",
            name=self.name,
            mine=self.company or message("site.none"),
            what=what,
        )

    def require_read_all(self, what: Message) -> None:
        """PermissionDenied for a company user: lists, metrics, reports, the audit log and
        the accounts read more than their own company."""
        if self.role is Role.COMPANY:
            raise PermissionDenied(
                "access.company_only",
                name=self.name,
                mine=self.company or message("site.none"),
                what=what,
            )

    def require_admin(self, what: Message) -> None:
        if not self.is_admin:
            raise PermissionDenied("access.admin_only", name=self.name, role=self.role, what=what)


def read_all(actor: Actor | None, what: Message) -> None:
    """A read of more than one company (lists, metrics, the audit log): refused to a company
    user; None (the command line, a caller that checked already) reads everything."""
    if actor is not None:
        actor.require_read_all(what)


def read_company(actor: Actor | None, key: str) -> None:
    """A read of the company `key`: a company user reads only their own."""
    if actor is not None:
        actor.require_company(key, message("action.read_company", key=key.strip()))


def read_found(actor: Actor | None, key: str) -> None:
    """After the lookup: the company found is exactly a company user's own (not a twin whose
    key differs only in letter case)."""
    if actor is not None and actor.is_company and key != actor.company:
        actor.refuse_company(message("action.read_company", key=key))


def cli_owner(name: str) -> Actor:
    """The command line's actor: named by `--by`, unrestricted like the database owner."""
    return Actor(name=name, role=Role.OWNER)
