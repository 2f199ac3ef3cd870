"""Who may do what (DESIGN §6). Pure domain: roles, the acting user, and the rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from incubator.stages import PermissionDenied


class Role(StrEnum):
    VIEWER = "viewer"
    MANAGER = "manager"
    ADMIN = "admin"
    #: The command line acting as the database owner: it holds the database file already.
    OWNER = "owner"


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

    def require_write(self, site: str, what: str) -> None:
        if self.role is Role.VIEWER:
            raise PermissionDenied(f"{self.name} is a viewer and cannot {what}; viewers only read")
        if not self.may_write_site(site):
            raise PermissionDenied(
                f"{self.name} manages site {self.site} and cannot {what} at site {site or '(none)'}"
            )

    def require_admin(self, what: str) -> None:
        if not self.is_admin:
            raise PermissionDenied(
                f"{self.name} is a {self.role} and cannot {what}; only admins can"
            )


def cli_owner(name: str) -> Actor:
    """The command line's actor: named by `--by`, unrestricted like the database owner."""
    return Actor(name=name, role=Role.OWNER)
