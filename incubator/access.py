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
    #: The command line acting as the database owner: it holds the database file already.
    OWNER = "owner"

    def localised(self, lang: str) -> str:
        return _ROLES_ZH[self] if lang == "zh" else self.value


#: A manager is a 孵化经理 (incubation manager), never 管理员, which reads as administrator.
_ROLES_ZH = {
    Role.VIEWER: "查看者",
    Role.MANAGER: "孵化经理",
    Role.ADMIN: "系统管理员",
    Role.OWNER: "数据库所有者",
}


#: Roles that can be given to a user account.
USER_ROLES: tuple[Role, ...] = (Role.VIEWER, Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class Actor:
    """The person (or command line) on whose behalf a use case runs."""

    name: str
    role: Role = Role.OWNER
    site: str | None = None

    @property
    def can_write(self) -> bool:
        return self.role is not Role.VIEWER

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
        if not self.may_write_site(site):
            raise PermissionDenied(
                "access.other_site",
                name=self.name,
                mine=self.site,
                what=what,
                site=site or message("site.none"),
            )

    def require_admin(self, what: Message) -> None:
        if not self.is_admin:
            raise PermissionDenied("access.admin_only", name=self.name, role=self.role, what=what)


def cli_owner(name: str) -> Actor:
    """The command line's actor: named by `--by`, unrestricted like the database owner."""
    return Actor(name=name, role=Role.OWNER)
