"""A pipeline whose stored text is hostile Markdown, HTML and LaTeX (DESIGN §10).

Shared by the AppTest and the real-browser escaping tests. Every payload points at
127.0.0.1:`port`, so a browser that rendered one would fetch from a listener the test owns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from incubator import services
from incubator.access import cli_owner
from incubator.store import Database
from ui.frames import LIMITS_SETTING, StageLimits

T0 = datetime(2024, 1, 10, tzinfo=UTC)
T1 = datetime(2024, 6, 3, tzinfo=UTC)
#: The signed-in users (admin; a manager of the first company's hostile site).
PASSWORDS = {"admin": "admin-password-1", "ma": "manager-password-1"}
STAGES = ["industrial_park", "seed", "incubator", "nursery"]


def payloads(port: int) -> list[str]:
    """Markdown image and link, raw HTML, LaTeX with a link, Streamlit directives and icons,
    a heading and bold text."""
    url = f"http://127.0.0.1:{port}"
    return [
        f"![s]({url}/x.png)",
        f"[click]({url}/y)",
        f"<img src={url}/z>",
        "$\\href{" + url + "/w}{x}$",
        ":red[alert]",
        ":material/warning:",
        "# heading",
        "**bold**",
    ]


@dataclass(frozen=True)
class Company:
    key: str
    name: str
    site: str
    sector: str
    note: str
    actor: str
    stage: str


def companies(port: int) -> list[Company]:
    """Four companies; each of name, site, sector, note and actor holds two payloads, and
    across the four every field holds all eight."""
    p = payloads(port)

    def value(c: int, f: int) -> str:
        return f"{p[(c + f) % 8]} {p[(c + f + 4) % 8]}"

    return [
        Company(
            key=f"JM-{c + 1:04d}",
            name=value(c, 0),
            site=value(c, 1),
            sector=value(c, 2),
            note=value(c, 3),
            actor=value(c, 4),
            stage=stage,
        )
        for c, stage in enumerate(STAGES)
    ]


def populate(db: Database, port: int) -> list[Company]:
    """The companies (admitted, one of them advanced, by hostile actors with hostile notes),
    a stuck-list rule for a hostile sector, an admin and a manager of a hostile site."""
    made = companies(port)
    owner = cli_owner("setup")
    services.register_sites(db, [(c.site, "mixed", "none") for c in made], actor=owner)
    for c in made:
        services.admit(
            db, c.key, name=c.name, stage=c.stage, actor=cli_owner(c.actor), at=T0,
            site=c.site, sector=c.sector, note=c.note,
        )  # fmt: skip
    third = made[2]
    services.advance(
        db, third.key, actor=cli_owner(third.actor), seen=third.stage, at=T1, note=made[3].note
    )
    limits = StageLimits({"nursery": 6}, {made[1].sector: {"seed": 1}})
    services.put_setting(db, LIMITS_SETTING, limits.to_json(), actor=owner)
    services.add_user(db, "admin", role="admin", password=PASSWORDS["admin"], actor=owner)
    services.add_user(
        db, "ma", role="manager", site=made[0].site, password=PASSWORDS["ma"], actor=owner
    )
    return made
