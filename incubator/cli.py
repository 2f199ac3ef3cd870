"""The `incubator` command line: a thin Typer layer over `incubator.services`.

Heavy libraries (SQLAlchemy, Alembic, Streamlit) are imported inside the commands, so that
`incubator --help` starts fast. Every refusal is one line on stderr and a non-zero exit.

No `from __future__ import annotations` here: Typer reads every command's annotations each
time the program starts, and evaluating them from strings cost more than building the rest.
"""

import copy
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from incubator.dbapi import Readable
    from incubator.store import Database

app = typer.Typer(
    help="Incubation pipeline tracker: seed → nursery → incubator → accelerator → industrial park.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
company_app = typer.Typer(help="Admit, list, show and change companies.", no_args_is_help=True)
audit_app = typer.Typer(help="Check the tamper-evident history.", no_args_is_help=True)
user_app = typer.Typer(help="Manage the accounts of the web app.", no_args_is_help=True)
policy_app = typer.Typer(
    help="Show or change the gate policy: which evidence each stage asks for.",
    no_args_is_help=True,
)
app.add_typer(company_app, name="company")
app.add_typer(audit_app, name="audit")
app.add_typer(user_app, name="user")
app.add_typer(policy_app, name="policy")
site_app = typer.Typer(
    help="The site registry: each site's kind, level and yearly figures (admins change it).",
    no_args_is_help=True,
)
app.add_typer(site_app, name="site")
report_app = typer.Typer(
    help="Annual reports: the Torch Centre statistics (科技企业孵化器统计).", no_args_is_help=True
)
app.add_typer(report_app, name="report")
target_app = typer.Typer(help="The city's targets, by metric and year (admins set them).",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(target_app, name="target")

T = TypeVar("T")
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="INCUBATOR_DATABASE_URL",
        help="Database URL (default sqlite:///incubator.db; PostgreSQL: postgresql+psycopg://user@host/db).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Every value in full, wider than the terminal if need be (default: one line a "
        "row at the terminal's width).",
    ),
]
ByOption = Annotated[str, typer.Option("--by", help="Who does this (recorded as the actor).")]
NoteOption = Annotated[str, typer.Option("--note", help="Free-text note kept verbatim.")]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at", help="When it happened (ISO 8601; a date alone means 00:00 UTC). Default: now."
    ),
]
FromOption = Annotated[
    str | None,
    typer.Option(
        "--from", help="The stage you saw; refused as a conflict if the company has moved."
    ),
]
OverrideOption = Annotated[
    str | None,
    typer.Option(
        "--override",
        help="Move even though the gate of the stage it enters is not met, for this reason "
        "(at least 10 characters; recorded in the event).",
    ),
]
FoundedOption = Annotated[
    str | None,
    typer.Option("--founded", help="The date the business was registered (YYYY-MM-DD)."),
]
EvidenceOption = Annotated[
    str | None,
    typer.Option("--evidence", help="Evidence reference: a document number, file name or URL."),
]


def fail(message: str, code: int = 1) -> NoReturn:
    say(f"error: {message}", err=True)
    raise typer.Exit(code)


def say(line: str, *, err: bool = False) -> None:
    """Echo one line that may quote stored text: terminal escape sequences are removed and
    invisible or control characters shown as escapes (DESIGN §10)."""
    from incubator.values import for_terminal

    typer.echo(for_terminal(line, one_line=True), err=err)


@contextmanager
def refusals() -> Iterator[None]:
    """Turn domain and store errors into one line on stderr and exit code 1 (3: conflict)."""
    from incubator.dbapi import StoreError
    from incubator.stages import Conflict, DomainError

    try:
        yield
    except Conflict as exc:
        fail(str(exc), 3)
    except (DomainError, StoreError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; nothing was written by the unfinished action", 130)


def open_db(url: str | None, *, check_schema: bool = True) -> "Database":
    from incubator.store import Database

    return Database(url, check_schema=check_schema)


@contextmanager
def metrics_source(url: str | None) -> "Iterator[Readable]":
    """The database a metric command reads: through the driver alone when it can
    (`dbapi.Reader`: SQLAlchemy, SQLModel and the tables' classes are not imported, which took
    longer than the funnel's own query at 1,000,000 companies), else the store's `Database`,
    which also says why a database cannot be read."""
    from incubator.dbapi import Reader

    reader = Reader.open(url)
    if reader is None:
        yield open_db(url)
        return
    try:
        yield reader
    finally:
        reader.close()


def guarded(fn: Callable[[], T]) -> T:
    with refusals():
        return fn()
    raise AssertionError("unreachable")  # pragma: no cover


def require_free_port(address: str, port: int) -> None:
    """Refuse in one line, before the web server starts, when it could not listen on
    `address`:`port` (busy, privileged, not this machine's address)."""
    from incubator.ports import port_problem

    problem = port_problem(address, port)
    if problem:
        fail(problem)


def print_json(doc: Any) -> None:
    from incubator.values import json_for_terminal

    typer.echo(json_for_terminal(json.dumps(doc, ensure_ascii=False, indent=2)))


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar fed by the services' progress(phase, done, total) callback."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def report(phase: str, done: int, total: int) -> None:
            bar.update(task, description=phase, completed=done, total=total)

        yield report


# --- set-up --------------------------------------------------------------------------------


@app.command()
def init(db: DbOption = None) -> None:
    """Create or upgrade the database schema (Alembic migrations). Safe to run twice.

    Example: incubator init --db sqlite:///incubator.db
    """
    with refusals():
        database = open_db(db, check_schema=False)
        before, after = database.upgrade()
        if before == after:
            typer.echo(f"{database.describe()}: schema already at {after}")
        else:
            typer.echo(f"{database.describe()}: schema {before or 'none'} → {after}")


def demo_csv() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures" / "demo_events.csv"


def demo_files() -> tuple[Path, Path, Path]:
    """The demo's event log, its facts, and the moves it replays with an override."""
    events = demo_csv()
    return (
        events,
        events.with_name("demo_facts.csv"),
        events.with_name("demo_overrides.csv"),
    )


def _demo_split(events: Path, overrides: Path) -> tuple[bytes, list[dict[str, str]]]:
    """The event log without the moves that `demo` replays with an override, and those
    moves (their event row and `override` reason), in file order."""
    import csv
    import io

    with overrides.open(encoding="utf-8", newline="") as handle:
        reasons = {
            (r["company_key"], r["to_stage"], r["effective_at"]): r["override"]
            for r in csv.DictReader(handle)
        }
    with events.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    kept = io.StringIO()
    writer = csv.DictWriter(kept, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    replayed = []
    for row in rows:
        reason = reasons.get((row["company_key"], row["to_stage"], row["effective_at"]))
        if row["event"] == "advance" and reason:
            replayed.append({**row, "override": reason})
        else:
            writer.writerow(row)
    return kept.getvalue().encode("utf-8"), replayed


@app.command()
def demo(
    db: DbOption = None,
    users: Annotated[
        bool, typer.Option("--users/--no-users", help="Also create the demo accounts.")
    ] = False,
) -> None:
    """Load the demo companies (about 300, four sites) and their facts into an empty database.

    Loads the event log, then the companies' evidence (founding dates, qualifications,
    financing, milestones, annual figures), then replays a few recent graduations that no
    evidence backs, with an override, as a manager would. Creates the schema first if
    needed. With --users, also creates demo accounts and prints their passwords once.

    Example: incubator demo --users
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        database = open_db(db, check_schema=False)
        database.upgrade()
        with database.unit() as uow:
            if uow.count_companies():
                fail(
                    f"{database.describe()} already has companies; demo data loads only into an empty database"
                )
        seed_demo_registry(database)  # sites (and targets) before the companies that name them
        events_path, facts_path, overrides_path = demo_files()
        for path in (events_path, facts_path, overrides_path):
            if not path.exists():
                fail(f"demo data not found at {path}; run python fixtures/generate_demo.py")
        events, replayed = _demo_split(events_path, overrides_path)
        with progress_bar() as progress:
            result = services.import_events(
                database, events, actor=cli_owner("demo"), source=str(events_path),
                progress=progress,
            )  # fmt: skip
            facts = services.import_facts(
                database, facts_path, actor=cli_owner("demo"), source=str(facts_path),
                progress=progress,
            )  # fmt: skip
            for done, row in enumerate(replayed):
                if progress:
                    progress("overrides", done, len(replayed))
                services.advance(
                    database, row["company_key"], actor=cli_owner(row["actor"] or "demo"),
                    seen=row["from_stage"] or None, note=row["note"], at=row["effective_at"],
                    override=row["override"],
                )  # fmt: skip
        typer.echo(
            f"loaded {result.companies_new} companies, {result.events + len(replayed)} events, "
            f"{facts.records} facts of {facts.companies} companies; "
            f"{len(replayed)} graduations replayed with a gate override"
        )
        if users:
            taken = {u.name for u in services.list_users(database)}
            typer.echo(
                "demo accounts (shown once; for real use, change them with "
                "`incubator user passwd NAME`):"
            )
            for name, role, site, password in DEMO_USERS:
                if name in taken:
                    typer.echo(f"  {name:<10} (exists already; left as it is)")
                    continue
                company = DEMO_COMPANY_OF.get(name)
                services.add_user(
                    database,
                    name,
                    role=role,
                    site=site,
                    company=company,
                    password=password,
                    actor=cli_owner("demo"),
                )
                where = f", site {site}" if site else ""
                what = f"company user of {company}" if company else f"{role}{where}"
                typer.echo(f"  {name:<10} {password:<18} {what}")


#: The demo's sites: (name, kind, level, floor area m² in 2021 growing 8% a year, staff,
#: mentors, incubation fund yuan).
DEMO_SITES = (
    ("高新区", "incubator", "national", 42_000, 26, 48, 30_000_000),
    ("钟祥", "incubator", "provincial", 18_000, 14, 22, 8_000_000),
    ("京山", "makerspace", "municipal", 6_500, 8, 15, 2_000_000),
    ("沙洋", "mixed", "none", 9_000, 9, 12, 3_000_000),
)


#: The seed plan's targets for 2021 (360 high-tech enterprises, 450 tech SMEs registered in
#: the year, 50 hidden champions, 150 achievements transferred, 3.5 billion yuan of
#: technology contracts, graduations); later years grow by 10% a year.
DEMO_TARGETS = {
    "high_tech": 360, "tech_sme": 450, "hidden_champion": 50, "achievements": 150,
    "tech_contract_value": 3_500_000_000, "graduated": 20,
}  # fmt: skip


def seed_demo_registry(database: "Database") -> None:
    """Register the demo's sites with their figures for 2021-2025, and the city's targets
    for 2021-2026 (DESIGN §9)."""
    from incubator import reports, sites
    from incubator.access import cli_owner

    owner = cli_owner("demo")
    for i, year in enumerate(range(2021, 2027)):
        for metric, value in DEMO_TARGETS.items():
            reports.set_target(database, metric, round(value * 1.1**i), year=year, actor=owner)
    sites.register_sites(database, [(n, k, lv) for n, k, lv, *_ in DEMO_SITES], actor=owner)
    for name, _, _, area, staff, mentors, fund in DEMO_SITES:
        for i, year in enumerate(range(2021, 2026)):
            sites.set_figures(
                database, name, year=year, actor=owner, floor_area_m2=round(area * 1.08**i),
                staff=staff + i, mentors=mentors + 2 * i, incubation_fund=fund + 500_000 * i,
            )  # fmt: skip


DEMO_USERS = (
    ("admin", "admin", None, "admin-demo-2026"),
    ("manager", "manager", "钟祥", "manager-demo-2026"),
    ("viewer", "viewer", None, "viewer-demo-2026"),
    ("jm0073", "company", None, "company-demo-2026"),
)
#: The company each demo company user speaks for: JM-0073, in the incubator at 钟祥.
DEMO_COMPANY_OF = {"jm0073": "JM-0073"}


@app.command()
def ui(
    db: DbOption = None,
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8501,
    address: Annotated[
        str, typer.Option("--address", help="Address to bind (0.0.0.0 exposes the app).")
    ] = "127.0.0.1",
    headless: Annotated[bool, typer.Option("--headless", help="Do not open a browser.")] = False,
) -> None:
    """Start the web app: Streamlit behind a sign-in form, with server-side sessions.

    Example: incubator ui --port 8501
    """
    require_free_port(address, port)
    from incubator.dbapi import database_url

    env = dict(os.environ, INCUBATOR_DATABASE_URL=database_url(db))
    cmd = ui_command(port=port, address=address, headless=headless)
    if os.name == "posix":  # become the server: Ctrl-C and signals reach it directly
        sys.stdout.flush()
        os.execve(sys.executable, cmd, env)
    import subprocess

    raise typer.Exit(subprocess.call(cmd, env=env))


def ui_command(
    *, port: int = 8501, address: str = "127.0.0.1", headless: bool = False
) -> list[str]:
    """The command that serves the web app: `streamlit run ui/server.py`, whose `st.App`
    adds the sign-in routes to the Streamlit app."""
    server = Path(__file__).resolve().parent.parent / "ui" / "server.py"
    if not server.exists():
        fail(f"the web app is not installed ({server} is missing)")
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(server),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--browser.gatherUsageStats",
        "false",
    ]
    if headless:
        cmd += ["--server.headless", "true"]
    return cmd


# --- companies -----------------------------------------------------------------------------


@company_app.command("add")
def company_add(
    key: Annotated[str, typer.Argument(help="Unique company key, e.g. JM-0042.")],
    name: Annotated[str, typer.Option("--name", help="Company or team name (any language).")],
    stage: Annotated[
        str,
        typer.Option(
            "--stage", help="Entry stage: seed, nursery, incubator, accelerator or industrial_park."
        ),
    ],
    by: ByOption,
    at: AtOption = None,
    sector: Annotated[str, typer.Option("--sector", help="Sector, e.g. biomedicine.")] = "",
    site: Annotated[str, typer.Option("--site", help="Site, e.g. 钟祥.")] = "",
    uscc: Annotated[
        str | None,
        typer.Option("--uscc", help="统一社会信用代码 (18 characters, check digit verified)."),
    ] = None,
    founded: FoundedOption = None,
    override: OverrideOption = None,
    note: NoteOption = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Admit a company into the pipeline at any stage.

    Entering a gated stage (by default the incubator: a USCC and founded no more than 24
    months before) passes its gate on the --uscc and --founded given, or takes --override.

    Example: incubator company add JM-0042 --name "荆门智造科技" --stage seed --site 钟祥 --by wang
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        database = open_db(db)
        event = services.admit(
            database,
            key,
            name=name,
            stage=stage,
            actor=cli_owner(by),
            at=at,
            sector=sector,
            site=site,
            uscc=uscc,
            note=note,
            founded=founded,
            override=override,
        )
    if as_json:
        print_json(event.to_json())
    else:
        say(f"admitted {event.company_key} to {event.to_stage}{_gate_note(event.gate)}")


def _gate_note(gate: dict[str, Any] | None) -> str:
    """` (gate met)` or ` (gate overridden: REASON)` after a move, "" when ungated."""
    if gate is None:
        return ""
    if gate["passed"]:
        return " (gate met)"
    return f" (gate overridden: {gate['override']})"


@company_app.command("set")
def company_set(
    key: Annotated[str, typer.Argument(help="Company key.")],
    by: ByOption,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    sector: Annotated[str | None, typer.Option("--sector", help="New sector.")] = None,
    site: Annotated[
        str | None,
        typer.Option("--site", help="New site (a manager needs both the old and the new site)."),
    ] = None,
    uscc: Annotated[
        str | None,
        typer.Option("--uscc", help='New USCC (check digit verified); --uscc "" clears it.'),
    ] = None,
    founded: FoundedOption = None,
    note: NoteOption = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a company's name, sector, site or USCC, or record its founding date: chained
    records, kept with who and when; the company and its spells (metrics) follow.

    Example: incubator company set JM-0042 --founded 2025-03-18 --uscc 91420881MA4R0QMA42 --by wang
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        company = services.set_profile(
            open_db(db),
            key,
            actor=cli_owner(by),
            name=name,
            sector=sector,
            site=site,
            uscc=uscc,
            note=note,
            founded=founded,
        )
    if as_json:
        print_json(company.to_json())
    else:
        say(
            f"changed {company.key}: {company.name}, site {company.site or '—'}, "
            f"sector {company.sector or '—'}, USCC {company.uscc or '—'}, "
            f"founded {company.founded_on or '—'}"
        )


@company_app.command("list")
def company_list(
    stage: Annotated[
        str | None, typer.Option("--stage", help="Only this stage (or exited).")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
    sector: Annotated[str | None, typer.Option("--sector", help="Only this sector.")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Also the companies that have exited the pipeline.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List the companies in the pipeline (--all: exited ones too), ordered by key.

    The table shows the days each company has been in its stage; --wide adds the USCC and
    shows names and sectors in full.

    Example: incubator company list --stage incubator --site 钟祥
    """
    from incubator import services

    with refusals():
        rows = services.list_companies(open_db(db), stage=stage, site=site, sector=sector)
    shown = rows if stage or all_ else [c for c in rows if c.stage != "exited"]
    if as_json:
        print_json([c.to_json() for c in shown])
        return
    from incubator.tables import Col, print_table, stage_label
    from incubator.values import now_utc

    now = now_utc()
    columns = [
        Col("key"),
        Col("name", shrinks_to=16),
        Col("stage"),
        Col("days", numeric=True),
        Col("site", shrinks_to=6),
        Col("sector", shrinks_to=12),
    ]
    if wide:
        columns.append(Col("USCC"))
    table = [
        [
            c.key,
            c.name,
            stage_label(c.stage),
            "" if c.stage == "exited" else f"{c.days_in_stage(now):.0f}",
            c.site,
            c.sector,
            *([c.uscc or ""] if wide else []),
        ]
        for c in shown
    ]
    if table:
        print_table(columns, table, wide=wide, gives_way=("sector", "name", "site"))
    count = _count_line(
        shown,
        stage=stage,
        all_=all_ and not stage,
        exited=len(rows) - len(shown),
        site=site,
        sector=sector,
    )
    say(count)


def _count_line(
    rows: list[Any],
    *,
    stage: str | None,
    all_: bool,
    exited: int,
    site: str | None,
    sector: str | None,
) -> str:
    """What `company list` counted: `262 companies in the pipeline, site 钟祥`."""
    from incubator.stages import parse_stage
    from incubator.tables import stage_label

    n = len(rows)
    noun = "company" if n == 1 else "companies"
    filters = [f"{name} {value}" for name, value in (("site", site), ("sector", sector)) if value]
    left_out = ""
    if stage and parse_stage(stage, ladder_only=False).value == "exited":
        what = f"{n} exited {noun}"
    elif stage:
        what = f"{n} {noun} in {stage_label(parse_stage(stage).value)}"
    elif all_:
        gone = sum(c.stage == "exited" for c in rows)
        what = f"{n} {noun}: {n - gone} in the pipeline, {gone} exited"
    else:
        what = f"{n} {noun} in the pipeline"
        left_out = f"; {exited} exited not listed (--all lists them)" if exited else ""
    return ", ".join([what, *filters]) + left_out


@company_app.command("show")
def company_show(
    key: Annotated[str, typer.Argument(help="Company key.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one company and what may happen to it next.

    Example: incubator company show JM-0042 --json
    """
    from incubator import services
    from incubator.stages import allowed_moves
    from incubator.tables import minute, stage_label

    with refusals():
        c = services.show(open_db(db), key)
    if as_json:
        print_json(c.to_json())
        return
    for label, value in [
        ("key", c.key),
        ("name", c.name),
        ("stage", stage_label(c.stage)),
        ("since", minute(c.entered_stage_at)),
        ("site", c.site),
        ("sector", c.sector),
        ("USCC", c.uscc or "—"),
        ("founded", c.founded_on or "—"),
        ("cohort", c.cohort),
        ("events", c.events),
        ("allowed", ", ".join(allowed_moves(c.stage)) or "nothing (exited)"),
    ]:
        say(f"{label:>8}: {value}")


# --- moves ---------------------------------------------------------------------------------


@app.command()
def advance(
    key: Annotated[str, typer.Argument(help="Company key.")],
    by: ByOption,
    seen: FromOption = None,
    note: NoteOption = "",
    at: AtOption = None,
    override: OverrideOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a company exactly one stage forward.

    A stage with a gate (see `incubator policy show`) is entered only when the company's
    facts as of the move's date meet it, or with --override; `incubator gate KEY` says
    beforehand whether it would pass.

    Example: incubator advance JM-0042 --by wang --from nursery --note "registered company"
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        event = services.advance(
            open_db(db), key, actor=cli_owner(by), seen=seen, note=note, at=at, override=override
        )
    if as_json:
        print_json(event.to_json())
    else:
        say(
            f"advanced {event.company_key}: {event.from_stage} → {event.to_stage}"
            f"{_gate_note(event.gate)}"
        )


@app.command("exit")
def exit_(
    key: Annotated[str, typer.Argument(help="Company key.")],
    reason: Annotated[
        str,
        typer.Option("--reason", help="failed, withdrew, relocated, acquired, listed or other."),
    ],
    by: ByOption,
    seen: FromOption = None,
    note: NoteOption = "",
    at: AtOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take a company out of the pipeline, with a reason.

    Example: incubator exit JM-0042 --reason relocated --by wang --note "moved to Wuhan"
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        event = services.exit_company(
            open_db(db), key, reason=reason, actor=cli_owner(by), seen=seen, note=note, at=at
        )
    if as_json:
        print_json(event.to_json())
    else:
        say(f"exited {event.company_key} from {event.from_stage} ({event.reason})")


@app.command()
def history(
    key: Annotated[str, typer.Argument(help="Company key.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """A company's events, oldest first: the date each took effect (UTC), the stage it moved
    the company to, who recorded it and why.

    --wide adds the stage it came from and when it was recorded, with times, and shows notes
    in full.

    Example: incubator history JM-0042 --json
    """
    from incubator import services

    with refusals():
        events = services.history(open_db(db), key)
    if as_json:
        print_json([e.to_json() for e in events])
        return
    from incubator.tables import Col, day, print_table, reason_label, second, stage_label

    reasons = any(e.reason for e in events)
    gates = any(e.gate for e in events)
    columns = [
        Col("#", numeric=True),
        Col("effective" if wide else "date"),
        *([Col("recorded")] if wide else []),
        Col("event"),
        *([Col("from")] if wide else []),
        Col("to"),
        Col("actor", shrinks_to=8),
        *([Col("reason")] if reasons else []),
        *([Col("gate")] if gates else []),
        Col("note", shrinks_to=12),
    ]
    rows = [
        [
            e.seq,
            second(e.effective_at) if wide else day(e.effective_at),
            *([second(e.recorded_at)] if wide else []),
            e.kind,
            *([stage_label(e.from_stage)] if wide else []),
            stage_label(e.to_stage),
            e.actor,
            *([reason_label(e.reason)] if reasons else []),
            *([_gate_cell(e.gate)] if gates else []),
            e.note if not (wide and e.override) else f"{e.note}\n(override: {e.override})",
        ]
        for e in events
    ]
    print_table(columns, rows, wide=wide, gives_way=("note", "actor"))


def _gate_cell(gate: dict[str, Any] | None) -> str:
    """`met`, `override` or empty (no gate), for the history table."""
    if gate is None:
        return ""
    return "met" if gate["passed"] else "override"


# --- evidence and gates --------------------------------------------------------------------

KeyArgument = Annotated[str, typer.Argument(help="Company key.")]
DayOption = Annotated[str, typer.Option("--on", help="The date it happened (YYYY-MM-DD).")]


def _recorded(record: Any, what: str) -> None:
    """The line a fact command prints: `recorded ... for KEY (record #N)`."""
    say(f"recorded {what} for {record.key} (record #{record.seq})")


@app.command()
def qualify(
    key: KeyArgument,
    kind: Annotated[
        str,
        typer.Argument(
            help="tech_sme, high_tech, specialized, little_giant, gazelle or hidden_champion."
        ),
    ],
    by: ByOption,
    granted: Annotated[
        str | None, typer.Option("--granted", help="The date it was granted (YYYY-MM-DD).")
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            help="The first day it is no longer valid. Default by kind: tech_sme 1 January "
            "of the next year, gazelle one year, the others three years after --granted.",
        ),
    ] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="national, provincial or municipal.")
    ] = None,
    number: Annotated[str | None, typer.Option("--number", help="Certificate number.")] = None,
    revoke: Annotated[
        str | None,
        typer.Option(
            "--revoke",
            help="Revoke instead, from this date: the latest unrevoked grant of KIND.",
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why it was revoked (with --revoke).")
    ] = None,
    evidence: EvidenceOption = None,
    note: NoteOption = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a qualification (资质认定) a company was granted, or revoke one.

    Valid from --granted up to the day before --expires, unless revoked on or before a day.

    Example: incubator qualify JM-0042 high_tech --granted 2025-03-01 --level national --number GR202542000123 --by wang
    """
    from incubator import services
    from incubator.access import cli_owner

    if (granted is None) == (revoke is None):
        fail("give either --granted (record a grant) or --revoke (revoke one), not both")
    if revoke is not None and (expires or level or number):
        fail("--expires, --level and --number describe a grant; not with --revoke")
    if revoke is None and reason is not None:
        fail("--reason goes with --revoke")
    with refusals():
        database = open_db(db)
        if revoke is not None:
            record = services.revoke_qualification(
                database, key, kind, revoked_on=revoke, reason=reason or "",
                actor=cli_owner(by), evidence=evidence, note=note,
            )  # fmt: skip
        else:
            record = services.record_qualification(
                database, key, kind, granted_on=granted or "", actor=cli_owner(by),
                expires_on=expires, level=level, number=number, evidence=evidence, note=note,
            )  # fmt: skip
    if as_json:
        print_json(record.to_json())
        return
    fields = record.fields
    if revoke is not None:
        _recorded(record, f"the revocation of {fields['kind']} from {fields['revoked_on']}")
    else:
        _recorded(
            record,
            f"{fields['kind']} granted {fields['granted_on']}, valid until {fields['expires_on']}",
        )


@app.command()
def financing(
    key: KeyArgument,
    amount: Annotated[str, typer.Option("--amount", help="Amount in yuan (whole number).")],
    on: DayOption,
    by: ByOption,
    round_name: Annotated[
        str | None, typer.Option("--round", help="Round: angel, A, B, ...")
    ] = None,
    investor: Annotated[str | None, typer.Option("--investor", help="The investor.")] = None,
    evidence: EvidenceOption = None,
    note: NoteOption = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a financing round: its date and amount in yuan (not before the founding date).

    Example: incubator financing JM-0042 --amount 6000000 --on 2025-06-01 --round A --investor "湖北高投" --by wang
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        record = services.record_financing(
            open_db(db), key, amount=amount, on=on, actor=cli_owner(by), round_name=round_name,
            investor=investor, evidence=evidence, note=note,
        )  # fmt: skip
    if as_json:
        print_json(record.to_json())
        return
    _recorded(record, f"a round of {record.fields['amount']:,} yuan on {record.fields['on']}")


@app.command()
def milestone(
    key: KeyArgument,
    kind: Annotated[str, typer.Argument(help="listed (上市/挂牌) or acquired (被并购).")],
    on: DayOption,
    by: ByOption,
    evidence: EvidenceOption = None,
    note: NoteOption = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record that a company was listed or acquired, on a date.

    Example: incubator milestone JM-0042 listed --on 2026-01-10 --evidence "新三板 874321" --by wang
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        record = services.record_milestone(
            open_db(db), key, kind, on=on, actor=cli_owner(by), evidence=evidence, note=note
        )
    if as_json:
        print_json(record.to_json())
        return
    _recorded(record, f"{record.fields['kind']} on {record.fields['on']}")


def _figure(name: str, help: str) -> Any:
    return typer.Option("--" + name.replace("_", "-"), help=help, show_default=False)


@app.command()
def figures(
    key: KeyArgument,
    year: Annotated[str, typer.Option("--year", help="The calendar year (not a future one).")],
    by: ByOption,
    revenue: Annotated[str | None, _figure("revenue", "Revenue, yuan.")] = None,
    net_profit: Annotated[
        str | None, _figure("net_profit", "Net profit, yuan (negative for a loss).")
    ] = None,
    taxes: Annotated[str | None, _figure("taxes", "Taxes paid, yuan.")] = None,
    rd_spend: Annotated[str | None, _figure("rd_spend", "R&D spending, yuan.")] = None,
    exports: Annotated[str | None, _figure("exports", "Exports, yuan.")] = None,
    employees: Annotated[str | None, _figure("employees", "Employees.")] = None,
    employees_college: Annotated[
        str | None, _figure("employees_college", "Employees with a college degree or more.")
    ] = None,
    employees_phd: Annotated[str | None, _figure("employees_phd", "Employees with a PhD.")] = None,
    returnees: Annotated[
        str | None, _figure("returnees", "Employees who studied abroad (留学归国).")
    ] = None,
    new_graduates: Annotated[
        str | None, _figure("new_graduates", "Graduates of the year hired.")
    ] = None,
    ip_applied: Annotated[
        str | None, _figure("ip_applied", "Intellectual property applied for.")
    ] = None,
    ip_granted: Annotated[
        str | None, _figure("ip_granted", "Intellectual property granted.")
    ] = None,
    ip_valid: Annotated[
        str | None, _figure("ip_valid", "Intellectual property held and valid.")
    ] = None,
    invention_patents_valid: Annotated[
        str | None, _figure("invention_patents_valid", "Valid invention patents.")
    ] = None,
    tech_contracts: Annotated[
        str | None, _figure("tech_contracts", "Technology contracts (count).")
    ] = None,
    tech_contract_value: Annotated[
        str | None, _figure("tech_contract_value", "Technology contract value, yuan.")
    ] = None,
    floor_area_m2: Annotated[
        str | None, _figure("floor_area_m2", "Floor area used, m² (whole number).")
    ] = None,
    evidence: EvidenceOption = None,
    note: NoteOption = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a company's figures for a calendar year (年度数据): one option per field.

    A later record for the same year replaces the fields it gives; the others keep their
    values. Employees with a degree, PhDs, returnees and new graduates cannot exceed the
    employees given in the same record.

    Example: incubator figures JM-0042 --year 2025 --revenue 12000000 --rd-spend 900000 --employees 48 --by wang
    """
    from incubator import services
    from incubator.access import cli_owner

    values = {
        "revenue": revenue, "net_profit": net_profit, "taxes": taxes, "rd_spend": rd_spend,
        "exports": exports, "employees": employees, "employees_college": employees_college,
        "employees_phd": employees_phd, "returnees": returnees, "new_graduates": new_graduates,
        "ip_applied": ip_applied, "ip_granted": ip_granted, "ip_valid": ip_valid,
        "invention_patents_valid": invention_patents_valid, "tech_contracts": tech_contracts,
        "tech_contract_value": tech_contract_value, "floor_area_m2": floor_area_m2,
    }  # fmt: skip
    with refusals():
        record = services.record_figures(
            open_db(db), key, year=year, values=values, actor=cli_owner(by), evidence=evidence,
            note=note,
        )  # fmt: skip
    if as_json:
        print_json(record.to_json())
        return
    given = ", ".join(f"{k} {v:,}" for k, v in record.fields["values"].items())
    _recorded(record, f"{record.fields['year']} figures ({given})")


@app.command()
def facts(
    key: KeyArgument,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="What was known on this date, by each fact's own date (default: now).",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Everything known about a company at a date: USCC, founding date, qualifications,
    financing rounds, milestones and annual figures.

    --wide shows every annual figure (by default: revenue, net profit, R&D, employees, valid
    IP and technology contract value).

    Example: incubator facts JM-0042 --as-of 2025-12-31 --json
    """
    from incubator import services

    with refusals():
        view = services.facts(open_db(db), key, as_of=as_of)
    if as_json:
        print_json(view.to_json())
        return
    _print_facts(view, wide)


def _print_facts(view: Any, wide: bool) -> None:
    from incubator.evidence import FIGURE_NAMES
    from incubator.tables import Col, print_table

    doc = view.to_json()
    say(
        f"{doc['key']} as of {view.day}: USCC {doc['uscc'] or '—'}, "
        f"founded {doc['founded_on'] or '—'}"
    )
    say("")
    say("qualifications" if doc["qualifications"] else "qualifications: none")
    if doc["qualifications"]:
        print_table(
            [Col("kind"), Col("level"), Col("number", shrinks_to=8), Col("granted"),
             Col("until"), Col("status")],
            [
                [q["kind"], q["level"] or "", q["number"] or "", q["granted_on"],
                 q["expires_on"], q["status"] if not q["revoked_on"] else
                 f"revoked {q['revoked_on']}"]
                for q in doc["qualifications"]
            ],
            wide=wide, gives_way=("number",),
        )  # fmt: skip
    total = f"{doc['financing_total']:,}"
    say(f"financing: {total} yuan" if doc["financing"] else "financing: none")
    if doc["financing"]:
        print_table(
            [Col("date"), Col("amount", numeric=True), Col("round", shrinks_to=6),
             Col("investor", shrinks_to=10)],
            [[r["on"], f"{r['amount']:,}", r["round"] or "", r["investor"] or ""]
             for r in doc["financing"]],
            wide=wide, gives_way=("investor", "round"),
        )  # fmt: skip
    milestones = ", ".join(f"{m['kind']} {m['on']}" for m in doc["milestones"])
    say(f"milestones: {milestones or 'none'}")
    say("annual figures" if doc["figures"] else "annual figures: none")
    if doc["figures"]:
        names = FIGURE_NAMES if wide else (
            "revenue", "net_profit", "rd_spend", "employees", "ip_valid", "tech_contract_value",
        )  # fmt: skip
        headers = {"net_profit": "profit", "rd_spend": "R&D", "tech_contract_value": "contracts"}
        print_table(
            [Col("year"), *(Col(headers.get(n, n), numeric=True) for n in names)],
            [
                [f["year"], *("" if f.get(n) is None else f"{f[n]:,}" for n in names)]
                for f in doc["figures"]
            ],
            wide=wide,
        )


@app.command()
def gate(
    key: KeyArgument,
    at: Annotated[
        str | None,
        typer.Option("--at", help="The date of the move to check (default: now)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Would the company's next advance pass its gate? Lists every criterion, met or not,
    with the company's own figure. Writes nothing.

    Example: incubator gate JM-0042 --json
    """
    from incubator import services

    with refusals():
        view = services.gate_check(open_db(db), key, at=at)
    if as_json:
        print_json(view.to_json())
        return
    day = view.at.date()
    outcome = view.outcome
    if outcome is None:
        say(f"{view.key}: {view.stage} → {view.to} on {day}: no gate; the advance may go ahead")
        return
    verdict = "met" if outcome.passed else "not met"
    say(f"{view.key}: {view.stage} → {view.to} on {day}, gate {outcome.mode.localised('en')}: {verdict}")  # fmt: skip
    for label, results in (("met", outcome.met), ("unmet", outcome.unmet)):
        for result in results:
            say(f"  {label:<6} {result.describe(day)}")
    if not outcome.passed:
        say("(to advance: record the missing evidence, or give --override REASON)")


@policy_app.command("show")
def policy_show(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The gate policy: for each gated stage, its criteria and whether all or any must hold.

    --json prints the document `incubator policy set` accepts.

    Example: incubator policy show --json > policy.json
    """
    from incubator import services
    from incubator.tables import minute

    with refusals():
        view = services.policy_show(open_db(db))
    if as_json:
        print_json(view.to_json())
        return
    if not view.policy.gates:
        say("no gates: every move is ungated")
    for g in view.policy.gates:
        say(f"into {g.stage.value}: {g.mode.localised('en')}")
        for criterion in g.criteria:
            say(f"  - {criterion.describe(None)}")
    if view.default:
        say("(the default policy; `incubator policy set FILE` replaces it)")
    elif view.changed_by:
        when = minute(view.changed_at) if view.changed_at else "?"
        say(f"(set by {view.changed_by} on {when})")


@policy_app.command("set")
def policy_set(
    file: Annotated[Path, typer.Argument(help="The policy: JSON (as policy show --json) or TOML.")],
    by: ByOption,
    db: DbOption = None,
) -> None:
    """Replace the gate policy with a JSON or TOML file (admins). A bad file is refused with
    the line and entry that is wrong; {"gates": []} turns every gate off.

    Example: incubator policy set policy.toml --by admin
    """
    from incubator import services
    from incubator.access import cli_owner
    from incubator.stages import InvalidInput

    fmt = {".json": "json", ".toml": "toml"}.get(file.suffix.lower())
    with refusals():
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput("file.unreadable", path=str(file), reason=exc.strerror) from None
        except UnicodeDecodeError:
            raise InvalidInput("file.unreadable", path=str(file), reason="not UTF-8") from None
        view = services.policy_set(
            open_db(db), text, actor=cli_owner(by), source=str(file), fmt=fmt
        )
    stages = ", ".join(g.stage.value for g in view.policy.gates)
    say(f"gate policy set: gates into {stages}" if stages else "gate policy set: no gates")


# --- import / export -----------------------------------------------------------------------


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Event-log CSV or facts CSV (UTF-8).", exists=False)],
    by: Annotated[str, typer.Option("--by", help="Actor for rows without one.")] = "import",
    db: DbOption = None,
) -> None:
    """Import an event-log CSV, or a facts CSV (a file whose header has a `fact` column):
    every row or none; a rejected file lists each bad line.

    Example: incubator import events.csv  (then: incubator import facts.csv)
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        database = open_db(db)
        # A bar for files of more than a few thousand rows (about 120 bytes a row).
        large = file.exists() and file.stat().st_size > 400_000
        try:
            with progress_bar(large) as progress:
                result = services.import_file(
                    database, file, actor=cli_owner(by), source=str(file), progress=progress
                )
        except services.ImportRejected as exc:
            say(f"error: {exc}", err=True)
            for problem in exc.problems:
                say(f"  {problem}", err=True)
            raise typer.Exit(1) from None
    if isinstance(result, services.FactImportResult):
        kinds = ", ".join(f"{kind} {n}" for kind, n in result.kinds.items())
        companies = "company" if result.companies == 1 else "companies"
        typer.echo(f"imported {result.records} facts for {result.companies} {companies} ({kinds})")
        return
    typer.echo(
        f"imported {result.rows} events: {result.companies_new} new companies, "
        f"{result.companies_updated} existing companies extended"
    )


#: Formats `incubator export` writes, and the file-name endings that pick one when --format is
#: not given (any other name: csv).
EXPORT_FORMATS = ("csv", "xlsx", "xes", "ocel")
FORMAT_BY_SUFFIX = {".xlsx": "xlsx", ".xes": "xes", ".json": "ocel", ".jsonocel": "ocel"}
#: What each format is, for --bom's refusal and the summary line.
FORMAT_NAMES = {"xlsx": "an xlsx workbook", "xes": "an XES log", "ocel": "an OCEL log"}


@app.command()
def export(
    file: Annotated[Path, typer.Argument(help="Where to write ('-' for stdout).")],
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="csv: byte-exact, for import (a spreadsheet may run =, +, -, @ values as "
            "formulas); xlsx: for spreadsheets, every text a text cell; xes: XES (IEEE "
            "1849-2016) for process mining, a trace per company; ocel: OCEL 2.0 JSON, company "
            "and site objects. Default: from the file name (*.xlsx, *.xes, *.json or "
            "*.jsonocel), else csv.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace FILE if it exists (never the database).")
    ] = False,
    bom: Annotated[
        bool,
        typer.Option("--bom", help="Start the CSV with a UTF-8 byte-order mark (for Excel)."),
    ] = False,
    facts: Annotated[
        bool,
        typer.Option(
            "--facts",
            help="Export the company facts (qualifications, financing, milestones, annual "
            "figures, founding dates) instead of the events: CSV or xlsx.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Export the whole event log, with recorded_at, event_id and hash, as CSV or xlsx; or
    for process mining as XES or OCEL 2.0; or, with --facts, every company fact.

    The file is written to a temporary file and renamed when complete; an existing file is
    replaced only with --force, and the database's own files never.

    Example: incubator export events.xlsx --format xlsx --force

    For process mining: incubator export pipeline.xes (or pipeline.json for OCEL).

    Facts, to import into another database after its events: incubator export facts.csv --facts
    """
    from incubator import services
    from incubator.outfiles import replacing

    to_stdout = str(file) == "-"
    kind = (format_ or "").strip().lower() or (
        "csv" if to_stdout else FORMAT_BY_SUFFIX.get(file.suffix.lower(), "csv")
    )
    if kind not in EXPORT_FORMATS:
        fail(f"unknown format {format_!r}; allowed: {', '.join(EXPORT_FORMATS)}")
    if facts and kind not in ("csv", "xlsx"):
        fail(f"--facts exports CSV or xlsx; {FORMAT_NAMES[kind]} holds events only")
    if bom and kind != "csv":
        fail(f"--bom applies to CSV only; {FORMAT_NAMES[kind]} needs none")
    if to_stdout and kind == "xlsx" and sys.stdout.isatty():
        fail("an xlsx workbook is binary; give a file name or redirect the output")
    write_workbook = services.export_facts_workbook if facts else services.export_workbook
    write_csv = services.export_facts if facts else services.export_events
    what = "facts" if facts else "events"
    with refusals():
        database = open_db(db)
        if to_stdout:
            if kind == "xlsx":  # packed in a temporary file: a zip cannot stream into a pipe
                import shutil
                import tempfile

                with tempfile.TemporaryFile() as temp:
                    write_workbook(database, temp)
                    temp.seek(0)
                    sys.stdout.flush()
                    try:
                        shutil.copyfileobj(temp, sys.stdout.buffer)
                        sys.stdout.buffer.flush()
                    except BrokenPipeError:  # the reader stopped early (| head)
                        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
                        raise typer.Exit(1) from None
            elif kind == "xes":
                sys.stdout.flush()
                services.export_xes(database, sys.stdout.buffer)
                sys.stdout.buffer.flush()
            elif kind == "ocel":  # JSON is UTF-8, whatever the terminal's encoding
                import io

                sys.stdout.flush()
                utf8 = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
                try:
                    services.export_ocel(database, utf8)
                    utf8.flush()
                finally:
                    utf8.detach()
            else:
                write_csv(database, sys.stdout, bom=bom)
            return
        with (
            replacing(
                file,
                force=force,
                protect=database.files(),
                mode="binary" if kind in ("xlsx", "xes") else "text",
            ) as out,
            progress_bar() as progress,
        ):
            note = ""
            if kind == "xlsx":
                n = write_workbook(database, out, progress=progress)
            elif kind in ("xes", "ocel"):
                write = services.export_xes if kind == "xes" else services.export_ocel
                summary = write(database, out, progress=progress)
                n, note = summary.events, process_note(kind, summary)
            else:
                n = write_csv(database, out, progress=progress, bom=bom)
        typer.echo(f"exported {n} {what} to {file}{note or sheets_note(kind, n, what)}")


def process_note(kind: str, summary: Any) -> str:
    """' (300 traces)' after an XES export, ' (300 companies, 4 sites)' after an OCEL one."""

    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    if kind == "xes":
        return f" ({count(summary.companies, 'trace', 'traces')})"
    companies = count(summary.companies, "company", "companies")
    return f" ({companies}, {count(summary.sites, 'site', 'sites')})"


def sheets_note(kind: str, rows: int, what: str = "events") -> str:
    """' (3 sheets: …)' when an xlsx export spilled over Excel's rows per sheet."""
    if kind != "xlsx":
        return ""
    from incubator.workbook import MAX_ROWS

    sheets = max(1, -(-rows // (MAX_ROWS - 1)))
    if sheets == 1:
        return ""
    return f" ({sheets} sheets: a sheet holds {MAX_ROWS - 1:,} {what})"


# --- audit and users -----------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="Also check against a checkpoint written earlier by `incubator audit checkpoint`.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Recompute every company's hash chains and check the company rows and spells against
    them; exit 1 naming the first company that fails.

    With --checkpoint, also fail when a company of the checkpoint is missing, has fewer
    events, or a history that no longer contains the checkpoint's head.

    Example: INCUBATOR_AUDIT_KEY=… incubator audit verify --checkpoint audit-2026-11.json
    """
    from incubator import services

    with refusals(), progress_bar() as progress:
        result = services.verify_audit(open_db(db), checkpoint=checkpoint, progress=progress)
    if not result.ok:
        fail(str(result))
    typer.echo(str(result))


@audit_app.command("checkpoint")
def audit_checkpoint(
    out: Annotated[
        Path, typer.Option("--out", help="The checkpoint file to write (keep it elsewhere).")
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    db: DbOption = None,
) -> None:
    """Verify the database, then write a signed statement of every company's event and
    record counts and chain heads (HMAC with INCUBATOR_AUDIT_KEY; without a key a SHA-256
    digest, which protects only as well as the file is kept).

    Example: INCUBATOR_AUDIT_KEY=… incubator audit checkpoint --out audit-2026-11.json
    """
    from incubator import services

    with refusals(), progress_bar() as progress:
        result = services.write_checkpoint(open_db(db), out, force=force, progress=progress)
    typer.echo(f"wrote {out}: {result.events} events of {result.companies} companies")


def read_password(password_stdin: bool, prompt: str = "Password") -> str:
    """A password from one line of standard input, or typed twice at a hidden prompt."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]
UserName = Annotated[str, typer.Argument(help="User name.")]


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ + -).")],
    role: Annotated[str, typer.Option("--role", help="viewer, manager, admin or company.")],
    site: Annotated[
        str | None, typer.Option("--site", help="Restrict a manager to one site.")
    ] = None,
    company: Annotated[
        str | None,
        typer.Option("--company", help="A company user's company (its key; any letter case)."),
    ] = None,
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Create an account for the web app (password: prompt, or --password-stdin).

    A password has at least 10 characters, not only blanks, and is not the user name. A
    company user (--role company --company KEY) sees only that company in the web app and
    submits its annual figures.

    Example: echo 'long-secret-pass' | incubator user add li.na --role manager --site 钟祥 --password-stdin

    Example: incubator user add jm0073 --role company --company JM-0073
    """
    from incubator import services
    from incubator.access import cli_owner

    password = read_password(password_stdin)
    with refusals():
        user = services.add_user(
            open_db(db),
            name,
            role=role,
            site=site,
            company=company,
            password=password,
            actor=cli_owner("cli"),
        )
    where = f" at {user.site}" if user.site else ""
    if user.company:
        say(f"created company user {user.name} of {user.company}")
        return
    say(f"created {user.role} {user.name}{where}")


@user_app.command("passwd")
def user_passwd(name: UserName, password_stdin: PasswordStdin = False, db: DbOption = None) -> None:
    """Give a user a new password (prompt, or --password-stdin); their sessions end.

    Example: echo 'a-new-long-secret' | incubator user passwd li.na --password-stdin
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        database = open_db(db)
        services.get_user(database, name)  # an unknown user is refused before the prompt
    password = read_password(password_stdin, "New password")
    with refusals():
        ended = services.reset_password(database, name, password, actor=cli_owner("cli"))
    say(f"changed the password of {name.strip()}; {_sessions_ended(ended)}")


def _sessions_ended(n: int) -> str:
    return "no session was open" if n == 0 else f"{n} session{'s' * (n != 1)} ended"


@user_app.command("set")
def user_set(
    name: UserName,
    role: Annotated[
        str | None,
        typer.Option("--role", help="New role: viewer, manager, admin or company."),
    ] = None,
    site: Annotated[
        str | None,
        typer.Option("--site", help="New site (a site some company uses; '' for all sites)."),
    ] = None,
    all_sites: Annotated[
        bool, typer.Option("--all-sites", help="No site: a manager of every site.")
    ] = False,
    company: Annotated[
        str | None,
        typer.Option("--company", help="A company user's company (its key; any letter case)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Change a user's role, site or company. The last enabled admin cannot be demoted.

    Example: incubator user set li.na --role manager --site 京山

    Example: incubator user set jm0073 --role company --company JM-0073
    """
    from incubator import services
    from incubator.access import cli_owner

    if all_sites and site is not None:
        fail("give either --site or --all-sites, not both")
    with refusals():
        user = services.set_user(
            open_db(db),
            name,
            role=role,
            site="" if all_sites else site,
            company=company,
            actor=cli_owner("cli"),
        )
    if user.company:
        say(f"{user.name}: company user of {user.company}")
    else:
        say(f"{user.name}: {user.role}, {f'site {user.site}' if user.site else 'all sites'}")


@user_app.command("disable")
def user_disable(name: UserName, db: DbOption = None) -> None:
    """Disable an account: it can no longer sign in and its sessions end now.

    The last enabled admin cannot be disabled. `incubator user enable` undoes it.

    Example: incubator user disable li.na
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        ended = services.disable_user(open_db(db), name, actor=cli_owner("cli"))
    say(f"disabled {name.strip()}; {_sessions_ended(ended)}")


@user_app.command("enable")
def user_enable(name: UserName, db: DbOption = None) -> None:
    """Enable a disabled account again.

    Example: incubator user enable li.na
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        user = services.enable_user(open_db(db), name, actor=cli_owner("cli"))
    say(f"enabled {user.name}")


@user_app.command("unlock")
def user_unlock(
    name: Annotated[str, typer.Argument(help="User name (any name that was locked).")],
    db: DbOption = None,
) -> None:
    """Lift the lock after too many failed sign-ins (5 within 15 minutes lock a name).

    Example: incubator user unlock li.na
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        was_locked = services.unlock_user(open_db(db), name, actor=cli_owner("cli"))
    say(f"unlocked {name.strip()}" if was_locked else f"{name.strip()} was not locked")


@user_app.command("list")
def user_list(db: DbOption = None, as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List accounts: role, site (a company user's company), status (active, disabled, or
    locked after too many failed sign-ins) and last sign-in; never password hashes.

    Example: incubator user list --json
    """
    from incubator import services

    with refusals():
        users = services.list_users(open_db(db))
    if as_json:
        print_json([u.to_json() for u in users])
        return
    from incubator.tables import Col, day, print_table, second

    def when(moment: Any) -> str:
        if moment is None:
            return "never"
        return second(moment) if wide else day(moment)

    def status(user: Any) -> str:
        if user.status != "locked":
            return str(user.status)
        until = second(user.locked_until) if wide else f"{user.locked_until:%H:%M} UTC"
        return f"locked until {until}"

    def where(user: Any) -> str:
        if user.company:
            return f"company {user.company}"
        return str(user.site or "all")

    rows = [
        [u.name, u.role, where(u), status(u), when(u.last_sign_in_at), when(u.created_at)]
        for u in users
    ]
    columns = [
        Col("name", shrinks_to=12),
        Col("role"),
        Col("site", shrinks_to=8),
        Col("status"),
        Col("last sign-in"),
        Col("created"),
    ]
    print_table(columns, rows, wide=wide)


# --- metrics ---

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The instant to look at (ISO 8601; a date alone means 00:00 UTC). Default: now.",
    ),
]
SiteFilter = Annotated[str | None, typer.Option("--site", help="Only companies of this site.")]
SectorFilter = Annotated[
    str | None, typer.Option("--sector", help="Only companies of this sector.")
]
CohortFilter = Annotated[
    int | None,
    typer.Option("--cohort", help="Only companies admitted in this calendar year (UTC)."),
]


def _metric_args(
    as_of: str | None, site: str | None, sector: str | None, cohort: int | None
) -> dict[str, Any]:
    """The `as_of` and `filters` keyword arguments of the metric functions."""
    from incubator.metrics import Filters
    from incubator.values import parse_instant

    return {
        "as_of": parse_instant(as_of) if as_of else None,
        "filters": Filters(site=site, sector=sector, cohort=cohort),
    }


def _fmt(value: float | None, pattern: str = "{:.1f}") -> str:
    return "—" if value is None else pattern.format(value)


def _filter_caption(
    doc_as_of: str | None, site: str | None, sector: str | None, cohort: int | None
) -> str:
    """The line under a metric table: `as of 2026-11-27 09:30 UTC, site 钟祥`."""
    from incubator.tables import minute

    parts = [f"as of {minute(doc_as_of)}"] if doc_as_of else []
    parts += [
        f"{name} {value}"
        for name, value in (("site", site), ("sector", sector), ("cohort", cohort))
        if value
    ]
    return ", ".join(parts)


@app.command()
def funnel(
    as_of: AsOfOption = None,
    site: SiteFilter = None,
    sector: SectorFilter = None,
    cohort: CohortFilter = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """The funnel per stage: spells entered, advanced, exited, still there, and conversion.

    Conversion is advanced / entered ("→ next": the share that moved one rung up);
    drop-off is exited / entered (the share that left the pipeline from that stage).

    Example: incubator funnel --as-of 2025-12-31 --site 钟祥 --json
    """
    from incubator import metrics

    with refusals(), metrics_source(db) as source:
        doc = metrics.funnel(source, **_metric_args(as_of, site, sector, cohort))
    if as_json:
        print_json(doc)
        return
    from incubator.tables import Col, print_table, stage_label

    columns = [Col("stage")] + [
        Col(h, numeric=True)
        for h in ("entered", "advanced", "exited", "current", "→ next", "drop-off")
    ]
    rows = []
    for row in doc["stages"]:
        rate, entered = row["conversion"], row["entered"]
        rows.append(
            [
                stage_label(row["stage"]),
                entered,
                row["advanced"],
                row["exited"],
                row["current"],
                "" if rate is None else f"{rate:.0%}",
                f"{row['exited'] / entered:.0%}" if entered else "",
            ]
        )
    print_table(columns, rows, wide=wide)
    say(_filter_caption(doc["as_of"], site, sector, cohort))


@app.command()
def dwell(
    as_of: AsOfOption = None,
    site: SiteFilter = None,
    sector: SectorFilter = None,
    cohort: CohortFilter = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Time in stage, in days: completed stays (mean, median, p90), open stays (median age),
    and the Kaplan–Meier median that counts open stays as censored.

    Example: incubator dwell --sector biomedicine --cohort 2023 --json
    """
    from incubator import metrics

    with refusals(), metrics_source(db) as source:
        doc = metrics.dwell(source, **_metric_args(as_of, site, sector, cohort))
    if as_json:
        print_json(doc)
        return
    from incubator.tables import Col, print_table, stage_label

    headers = ("completed", "mean", "median", "p90", "open", "open median", "KM median")
    rows = [
        [
            stage_label(row["stage"]),
            row["completed"],
            _fmt(row["mean_days"]),
            _fmt(row["median_days"]),
            _fmt(row["p90_days"]),
            row["open"],
            _fmt(row["open_median_days"]),
            _fmt(row["km_median_days"]),
        ]
        for row in doc["stages"]
    ]
    print_table([Col("stage"), *(Col(h, numeric=True) for h in headers)], rows, wide=wide)
    say(f"days; {_filter_caption(doc['as_of'], site, sector, cohort)}")


@app.command()
def throughput(
    by: Annotated[str, typer.Option("--by", help="Period: month, quarter or year.")] = "month",
    as_of: AsOfOption = None,
    site: SiteFilter = None,
    sector: SectorFilter = None,
    cohort: CohortFilter = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Entries into each stage per period, and exits per period by reason.

    Example: incubator throughput --by quarter --site 高新区 --json
    """
    from incubator import metrics
    from incubator.stages import LADDER, ExitReason

    with refusals(), metrics_source(db) as source:
        doc = metrics.throughput(source, by=by, **_metric_args(as_of, site, sector, cohort))
    if as_json:
        print_json(doc)
        return
    from incubator.tables import Col, print_table, reason_label, stage_label

    entered: dict[str, dict[str, int]] = {}
    for row in doc["rows"]:
        entered.setdefault(row["period"], {})[row["stage"]] = row["entered"]
    exited: dict[str, dict[str, int]] = {}
    for row in doc["exits"]:
        exited.setdefault(row["period"], {})[row["reason"]] = row["n"]
    reasons = [r.value for r in ExitReason if any(r.value in e for e in exited.values())]
    periods = sorted(entered.keys() | exited.keys())
    shown = _filter_caption(None, site, sector, cohort)
    say(f"entries{f' ({shown})' if shown else ''}")
    entries = [
        [period, *(entered.get(period, {}).get(s.value, 0) for s in LADDER),
         sum(exited.get(period, {}).values())]
        for period in periods
    ]  # fmt: skip
    columns = [Col(doc["by"]), *(Col(stage_label(s), numeric=True) for s in LADDER)]
    print_table([*columns, Col("exits", numeric=True)], entries, wide=wide)
    if reasons:
        say("")
        say(f"exits by reason{f' ({shown})' if shown else ''}")
        leaving = [
            [period, *(exited[period].get(r, 0) for r in reasons)]
            for period in periods
            if period in exited
        ]
        columns = [Col(doc["by"]), *(Col(reason_label(r), numeric=True) for r in reasons)]
        print_table(columns, leaving, wide=wide)


# --- the site registry (DESIGN §9) -----------------------------------------------------------

SiteName = Annotated[str, typer.Argument(help="The site's name, as companies name it.")]
KindOption = Annotated[
    str | None,
    typer.Option(
        "--kind", help="makerspace, incubator, accelerator, park or mixed.", show_default=False
    ),
]
LevelOption = Annotated[
    str | None,
    typer.Option("--level", help="national, provincial, municipal or none.", show_default=False),
]
YearOption = Annotated[int, typer.Option("--year", help="The calendar year (1990 to next year).")]


def _site_figure(name: str, help: str) -> Any:
    return typer.Option(name, help=help, show_default=False)


@site_app.command("list")
def site_list(db: DbOption = None, as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List the registry sites: kind, level, and their latest figures.

    Example: incubator site list --json
    """
    from incubator import services

    with refusals():
        sites = services.list_sites(open_db(db))
    if as_json:
        print_json([s.to_json() for s in sites])
        return
    from incubator.tables import Col, print_table

    def latest(site: Any, field: str) -> str:
        f = site.figures[-1] if site.figures else None
        value = getattr(f, field) if f is not None else None
        return "" if value is None else f"{value:,}"

    rows = [
        [
            s.name, s.kind.value, s.level.value,
            str(s.figures[-1].year) if s.figures else "",
            latest(s, "floor_area_m2"), latest(s, "staff"), latest(s, "mentors"),
            latest(s, "incubation_fund"),
        ]
        for s in sites
    ]  # fmt: skip
    columns = [
        Col("site"),
        Col("kind"),
        Col("level"),
        Col("figures of", numeric=True),
        Col("floor m²", numeric=True),
        Col("staff", numeric=True),
        Col("mentors", numeric=True),
        Col("fund (yuan)", numeric=True),
    ]
    print_table(columns, rows, wide=wide)
    if not sites:
        say("no site registered yet; an admin adds one: incubator site add NAME --by admin")


@site_app.command("add")
def site_add(
    name: SiteName,
    by: ByOption,
    kind: KindOption = "mixed",
    level: LevelOption = "none",
    db: DbOption = None,
) -> None:
    """Register a site (admins), so that companies and managers may name it.

    Example: incubator site add 钟祥 --kind incubator --level provincial --by admin
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        site = services.add_site(
            open_db(db), name, kind=kind or "mixed", level=level or "none", actor=cli_owner(by)
        )
    say(f"registered site {site.name} ({site.kind.value}, level {site.level.value})")


@site_app.command("set")
def site_set(
    name: SiteName,
    by: ByOption,
    kind: KindOption = None,
    level: LevelOption = None,
    db: DbOption = None,
) -> None:
    """Change a site's kind or level (admins).

    Example: incubator site set 京山 --level national --by admin
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        site = services.set_site(open_db(db), name, kind=kind, level=level, actor=cli_owner(by))
    say(f"site {site.name}: {site.kind.value}, level {site.level.value}")


@site_app.command("figures")
def site_figures(
    name: SiteName,
    year: YearOption,
    by: ByOption,
    floor_area: Annotated[
        str | None, _site_figure("--floor-area", "Floor area in m² (incubation space).")
    ] = None,
    staff: Annotated[str | None, _site_figure("--staff", "Management staff (people).")] = None,
    mentors: Annotated[str | None, _site_figure("--mentors", "Start-up mentors (people).")] = None,
    incubation_fund: Annotated[
        str | None, _site_figure("--incubation-fund", "Incubation fund in yuan.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Record a site's figures for a year (admins); figures not given keep their values.

    Example: incubator site figures 钟祥 --year 2025 --floor-area 12000 --staff 14 --mentors 30 --incubation-fund 5000000 --by admin
    """
    from incubator import services
    from incubator.access import cli_owner

    with refusals():
        f = services.set_figures(
            open_db(db), name, year=year, actor=cli_owner(by), floor_area_m2=floor_area,
            staff=staff, mentors=mentors, incubation_fund=incubation_fund,
        )  # fmt: skip
    shown = ", ".join(
        f"{label} {value:,}"
        for label, value in (
            ("floor area m²", f.floor_area_m2), ("staff", f.staff), ("mentors", f.mentors),
            ("incubation fund yuan", f.incubation_fund),
        )
        if value is not None
    )  # fmt: skip
    say(f"site {f.site}, {f.year}: {shown}")


# --- reports (DESIGN §9) ---------------------------------------------------------------------


def _share_cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@report_app.command("torch")
def report_torch(
    year: YearOption,
    site: Annotated[
        str | None, typer.Option("--site", help="Only this registry site (the total is its).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Also write the workbook (.xlsx): summary, incubated companies, graduated "
            "companies and checks, Chinese and English headers, money in 千元.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace the --out file if it exists (never the database)."),
    ] = False,
    as_json: JsonOption = False,
    wide: WideOption = False,
    db: DbOption = None,
) -> None:
    """The annual Torch statistics of a year: per site and in total, with the logic checks.

    Year Y runs from Y-01-01T00:00Z up to (not including) (Y+1)-01-01T00:00Z; "at year end"
    is the state just before that instant.

    Example: incubator report torch --year 2025 --out torch-2025.xlsx
    """
    from incubator import reports
    from incubator.outfiles import replacing

    with refusals():
        database = open_db(db)
        report = reports.torch_report(database, year, site=site)
        if out is not None:
            with replacing(out, force=force, protect=database.files(), mode="binary") as handle:
                reports.write_torch_workbook(report, handle)
    if as_json:
        print_json(report.to_json())
        if out is not None:
            say(f"wrote {out}", err=True)
        return
    from incubator.tables import Col, print_table

    columns = [
        Col("site"), Col("incubated", numeric=True), Col("new", numeric=True),
        Col("graduated", numeric=True), Col("total grad.", numeric=True),
        Col("exited", numeric=True), Col("overstayed", numeric=True),
        Col("high-tech", numeric=True), Col("tech SME", numeric=True),
        Col("financed", numeric=True), Col("revenue k¥", numeric=True),
        Col("per 1,000 m²", numeric=True),
    ]  # fmt: skip

    def line(label: str, r: dict[str, Any]) -> list[Any]:
        density = r[reports.DENSITY]
        return [
            label, r["incubated"], r["new"], r["graduated"], r["graduated_total"], r["exited"],
            r["overstayed"], r["high_tech"], r["tech_sme"], r["financed"],
            f"{r['revenue'] / 1000:,.0f}", "—" if density is None else f"{density:.2f}",
        ]  # fmt: skip

    rows = [line(r["site"] or "(none)", r) for r in report.sites]
    rows.append(line("total", report.total))
    say(f"Torch statistics {year}" + (f", site {site}" if site else "") + " (at year end)")
    print_table(columns, rows, wide=wide)
    if report.checks:
        say(f"{len(report.checks)} checks:")
        for c in report.checks:
            say(f"  {c.message.render('en')}")
    else:
        say("checks: none")
    if out is not None:
        say(f"wrote {out}")


@target_app.command("set", context_settings={"ignore_unknown_options": True})
def target_set(
    metric: Annotated[
        str,
        typer.Argument(
            help="high_tech, tech_sme, hidden_champion, little_giant, specialized, "
            "achievements, tech_contract_value (yuan) or graduated."
        ),
    ],
    value: Annotated[str, typer.Argument(help="The target: a whole number, not negative.")],
    year: YearOption,
    by: ByOption,
    db: DbOption = None,
) -> None:
    """Set the city's target for a metric in a year (admins); replaces an earlier one.

    Example: incubator target set high_tech 360 --year 2021 --by admin
    """
    from incubator import reports
    from incubator.access import cli_owner

    with refusals():
        t = reports.set_target(open_db(db), metric, value, year=year, actor=cli_owner(by))
    say(f"target {t.metric} {t.year}: {t.value:,}")


@target_app.command("list")
def target_list(
    year: Annotated[int | None, typer.Option("--year", help="Only this year.")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List the city's targets by year and metric.

    Example: incubator target list --year 2025 --json
    """
    from incubator import reports

    with refusals():
        targets = reports.list_targets(open_db(db), year=year)
    if as_json:
        print_json([t.to_json() for t in targets])
        return
    from incubator.tables import Col, day, print_table

    rows = [[t.year, t.metric, f"{t.value:,}", t.changed_by, day(t.changed_at)] for t in targets]
    print_table(
        [Col("year"), Col("metric"), Col("target", numeric=True), Col("set by", shrinks_to=8),
         Col("on")],
        rows,
    )  # fmt: skip
    if not targets:
        say(
            "no target set; an admin sets one: incubator target set METRIC VALUE --year Y --by NAME"
        )


@app.command()
def kpi(year: YearOption, as_json: JsonOption = False, db: DbOption = None) -> None:
    """The city's KPIs of a year against their targets.

    high_tech, hidden_champion, little_giant, specialized: companies with that qualification
    valid on Y-12-31 and not exited before the end of Y; tech_sme: tech SME qualifications
    granted in Y and not revoked by Y-12-31; achievements and tech_contract_value: sums of
    the year-Y technology contracts and their value; graduated: graduations in Y.

    Example: incubator kpi --year 2025 --json
    """
    from incubator import reports

    with refusals():
        doc = reports.kpi(open_db(db), year)
    if as_json:
        print_json(doc)
        return
    from incubator.tables import Col, print_table

    def progress(row: dict[str, Any]) -> str:
        return "—" if not row["target"] else f"{row['actual'] / row['target']:.0%}"

    rows = [
        [r["metric"], "—" if r["target"] is None else f"{r['target']:,}", f"{r['actual']:,}",
         progress(r)]
        for r in doc["rows"]
    ]  # fmt: skip
    say(f"KPIs {year}")
    print_table(
        [Col("metric"), Col("target", numeric=True), Col("actual", numeric=True),
         Col("of target", numeric=True)],
        rows,
    )  # fmt: skip


def main() -> None:
    """The console script `incubator`.

    Typer builds every command from its signature before it parses the command line: some
    forty commands, the largest part of a start after importing Typer itself. A command line
    that names a top-level command or group runs a group that holds only that one; anything
    else (`--help`, no arguments, an unknown name) runs the whole app, so the full help and
    Typer's "No such command" with its suggestions are unchanged. `app` itself is untouched.
    """
    narrowed = app_for(sys.argv[1:])
    if narrowed is app:
        app()
    else:
        # What app() does for a group (pretty exceptions are off: no hook of Typer's to set).
        typer.main.get_group(narrowed)()


def app_for(args: list[str]) -> typer.Typer:
    """`app`, or a copy of it that holds only the top-level command or group `args` start with."""
    if not args or args[0].startswith("-"):
        return app
    commands = [
        info
        for info in app.registered_commands
        if args[0]
        == (info.name or (info.callback and typer.main.get_command_name(info.callback.__name__)))
    ]
    groups = [info for info in app.registered_groups if info.name == args[0]]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands, narrowed.registered_groups = commands, groups
    return narrowed


if __name__ == "__main__":
    main()
