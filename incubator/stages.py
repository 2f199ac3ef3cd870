"""The incubation ladder as data, and the one state machine that enforces it.

Pure domain: this module imports the standard library and `transitions`, nothing else of
the project's stack. Stages, events and their rules are the `TRANSITIONS` table; the
diagram, the CLI's refusal messages, the UI's buttons and the import validator all read it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from transitions import Machine, MachineError


class Stage(StrEnum):
    SEED = "seed"
    NURSERY = "nursery"
    INCUBATOR = "incubator"
    ACCELERATOR = "accelerator"
    INDUSTRIAL_PARK = "industrial_park"
    EXITED = "exited"

    @property
    def label_en(self) -> str:
        return _LABELS[self][0]

    @property
    def label_zh(self) -> str:
        return _LABELS[self][1]

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en


_LABELS = {
    Stage.SEED: ("Seed", "种子"),
    Stage.NURSERY: ("Nursery", "苗圃"),
    Stage.INCUBATOR: ("Incubator", "孵化器"),
    Stage.ACCELERATOR: ("Accelerator", "加速器"),
    Stage.INDUSTRIAL_PARK: ("Industrial park", "产业园"),
    Stage.EXITED: ("Exited", "退出"),
}

#: The five stages of the ladder, in order. `EXITED` is an outcome, not a rung.
LADDER: tuple[Stage, ...] = (
    Stage.SEED,
    Stage.NURSERY,
    Stage.INCUBATOR,
    Stage.ACCELERATOR,
    Stage.INDUSTRIAL_PARK,
)


class ExitReason(StrEnum):
    FAILED = "failed"
    WITHDREW = "withdrew"
    RELOCATED = "relocated"
    ACQUIRED = "acquired"
    LISTED = "listed"
    OTHER = "other"

    def label(self, lang: str = "en") -> str:
        return _REASON_LABELS[self][1 if lang == "zh" else 0]


_REASON_LABELS = {
    ExitReason.FAILED: ("Failed", "经营失败"),
    ExitReason.WITHDREW: ("Withdrew", "主动退出"),
    ExitReason.RELOCATED: ("Relocated", "迁出"),
    ExitReason.ACQUIRED: ("Acquired", "被并购"),
    ExitReason.LISTED: ("Listed", "上市"),
    ExitReason.OTHER: ("Other", "其他"),
}


class EventKind(StrEnum):
    ADMIT = "admit"
    ADVANCE = "advance"
    EXIT = "exit"


#: The state of a company that has not been admitted yet (it has no events).
NEW = "new"

#: Focus sectors of the city plan, with their Chinese names; other sectors are allowed too.
_FOCUS_SECTORS_ZH = {
    "high-end equipment": "高端装备",
    "green chemicals": "绿色化工",
    "new energy & new materials": "新能源新材料",
    "biomedicine": "生物医药",
    "flexible electronics": "柔性电子",
    "organic food": "有机食品",
}
FOCUS_SECTORS: tuple[str, ...] = tuple(_FOCUS_SECTORS_ZH)


def sector_label(sector: str, lang: str = "en") -> str:
    """A sector's name in `lang`: the focus sectors have Chinese names; others are shown as
    stored."""
    return _FOCUS_SECTORS_ZH.get(sector, sector) if lang == "zh" else sector


# --- domain errors -------------------------------------------------------------------------


class DomainError(Exception):
    """A refused action: its message is one line meant for the person who asked."""


class InvalidInput(DomainError):
    """A value that is not allowed (unknown stage or reason, bad date, bad USCC, ...)."""


class InvalidTransition(DomainError):
    """The ladder does not allow this move from the company's current stage."""

    def __init__(self, key: str, stage: str, allowed: list[str], wanted: str = "") -> None:
        self.key, self.stage, self.allowed = key, stage, allowed
        shown = ", ".join(allowed) if allowed else "nothing (the company has left the pipeline)"
        prefix = f"cannot {wanted}: " if wanted else ""
        super().__init__(f"{prefix}{key} is in {stage}; allowed: {shown}")


class Conflict(DomainError):
    """The company moved since the actor looked (`--from` no longer matches)."""

    def __init__(
        self, key: str, seen: str, actual: str, allowed: list[str], message: str = ""
    ) -> None:
        self.key, self.seen, self.actual = key, seen, actual
        shown = ", ".join(allowed) if allowed else "nothing"
        super().__init__(
            message
            or f"conflict: {key} is no longer in {seen}; it is in {actual} now; allowed: {shown}"
        )

    @classmethod
    def raced(cls, key: str) -> Conflict:
        return cls(
            key, "?", "?", [],
            f"conflict: {key} was changed by someone else at the same moment; nothing was "
            "written; look again and retry",
        )  # fmt: skip


class UnknownCompany(DomainError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no company with key {key!r}")


class DuplicateCompany(DomainError):
    def __init__(self, key: str, stage: str) -> None:
        self.key = key
        super().__init__(
            f"company key {key!r} is already taken ({key} is in {stage}); keys are unique"
        )


class PermissionDenied(DomainError):
    """The acting user's role or site does not allow this action."""


# --- the machine ---------------------------------------------------------------------------


def _admits_to(stage: Stage) -> Callable[[Any], bool]:
    def condition(event: Any) -> bool:
        return bool(event.kwargs.get("to") == stage)

    condition.__name__ = f"admits_to_{stage}"
    return condition


#: Every allowed move, as data. `admit` carries its target stage (`to=`), since a company
#: may enter the ladder at any rung; `advance` is exactly one rung; `exit` leaves from any rung.
TRANSITIONS: list[dict[str, Any]] = [
    *(
        {
            "trigger": EventKind.ADMIT.value,
            "source": NEW,
            "dest": s.value,
            "conditions": _admits_to(s),
        }
        for s in LADDER
    ),
    *(
        {"trigger": EventKind.ADVANCE.value, "source": a.value, "dest": b.value}
        for a, b in zip(LADDER, LADDER[1:], strict=False)
    ),
    *(
        {"trigger": EventKind.EXIT.value, "source": s.value, "dest": Stage.EXITED.value}
        for s in LADDER
    ),
]

MACHINE = Machine(
    model=None,
    states=[NEW, *(s.value for s in Stage)],
    transitions=TRANSITIONS,
    initial=NEW,
    auto_transitions=False,
    send_event=True,
)


@dataclass
class CompanyState:
    """The plain domain object the machine drives: a company's key and where it stands."""

    key: str
    stage: str = NEW


class Lifecycle:
    """A light wrapper that lets the shared machine drive one `CompanyState`.

    Use it as a context manager, so the machine forgets the wrapper afterwards:

        with Lifecycle(CompanyState("JM-0042", "incubator")) as life:
            life.advance()          # life.company.stage == "accelerator"
    """

    state: str

    def __init__(self, company: CompanyState) -> None:
        self.company = company

    def __enter__(self) -> Lifecycle:
        MACHINE.add_model(self, initial=self.company.stage)
        return self

    def __exit__(self, *exc: object) -> None:
        MACHINE.remove_model(self)

    def fire(self, kind: EventKind | str, to: str | None = None) -> str:
        """Fire one event; return the new stage or raise InvalidTransition."""
        trigger = str(kind)
        try:
            moved = (
                MACHINE.events[trigger].trigger(self, to=to) if trigger in MACHINE.events else False
            )
        except MachineError:
            moved = False
        if not moved:
            wanted = f"{trigger} to {to}" if trigger == EventKind.ADMIT and to else trigger
            raise InvalidTransition(
                self.company.key, self.company.stage, allowed_moves(self.state), wanted
            )
        self.company.stage = self.state
        return self.state


_IDLE: list[Lifecycle] = []
_IDLE_LOCK = threading.Lock()


@contextmanager
def driving(company: CompanyState) -> Iterator[Lifecycle]:
    """A `Lifecycle` for `company`, taken from a small pool of wrappers the machine already
    knows (adding a model to a Machine costs more than the transition itself); the pool holds
    at most as many wrappers as threads have ever driven companies at once.

        with driving(CompanyState("JM-0042", "incubator")) as life:
            life.fire(EventKind.ADVANCE)
    """
    with _IDLE_LOCK:
        life = _IDLE.pop() if _IDLE else None
    if life is None:
        life = Lifecycle(company)
        MACHINE.add_model(life, initial=company.stage)
    else:
        life.company = company
        MACHINE.set_state(company.stage, model=life)
    try:
        yield life
    finally:
        with _IDLE_LOCK:
            _IDLE.append(life)


def allowed_moves(stage: str) -> list[str]:
    """Human-readable moves from `stage`, e.g. `["advance (to accelerator)", "exit"]`."""
    moves: list[str] = []
    for trigger in MACHINE.get_triggers(stage):
        dests = [str(t.dest) for t in MACHINE.events[trigger].transitions[stage]]
        if trigger == EventKind.EXIT:
            moves.append("exit")
        elif trigger == EventKind.ADMIT:
            moves.append(f"admit (to {' | '.join(dests)})")
        else:
            moves.append(f"{trigger} (to {', '.join(dests)})")
    return moves


def allowed_triggers(stage: str) -> list[EventKind]:
    """The events that may fire from `stage`, in table order."""
    return [EventKind(t) for t in MACHINE.get_triggers(stage)]


@cache
def resolve(stage: str, kind: str, to: str | None = None) -> str | None:
    """Where `kind` (with target `to` for admit) takes a company in `stage`; None if refused.

    The machine's callbacks are pure, so its answer depends on these three values only:
    bulk import asks once per distinct triple, through the same machine, instead of once
    per event.
    """
    with driving(CompanyState("?", stage)) as life:
        try:
            return life.fire(kind, to)
        except InvalidTransition:
            return None


def next_stage(stage: Stage) -> Stage | None:
    """The rung above `stage`, or None at the top of the ladder (and for `exited`)."""
    dest = resolve(stage.value, EventKind.ADVANCE.value)
    return Stage(dest) if dest else None


def parse_stage(value: str, *, ladder_only: bool = True) -> Stage:
    """A stage from its value (case-insensitive; also accepts the labels); InvalidInput if unknown."""
    text = value.strip().lower().replace(" ", "_").replace("-", "_")
    for stage in Stage:
        if (
            text in (stage.value, stage.label_en.lower().replace(" ", "_"))
            or value.strip() == stage.label_zh
        ):
            if ladder_only and stage is Stage.EXITED:
                break
            return stage
    allowed = LADDER if ladder_only else tuple(Stage)
    raise InvalidInput(f"unknown stage {value!r}; allowed: {', '.join(s.value for s in allowed)}")


def parse_reason(value: str | None) -> ExitReason:
    """An exit reason from its value (case-insensitive); InvalidInput if missing or unknown."""
    reason = _REASONS.get((value or "").strip().lower())
    if reason is not None:
        return reason
    allowed = ", ".join(_REASONS)
    if value is None or not value.strip():
        raise InvalidInput(f"an exit needs a reason; allowed: {allowed}")
    raise InvalidInput(f"unknown exit reason {value!r}; allowed: {allowed}")


_REASONS = {r.value: r for r in ExitReason}
