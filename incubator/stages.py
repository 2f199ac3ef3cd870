"""The incubation ladder as data, and the one state machine that enforces it.

Pure domain: this module imports the standard library and `transitions`, nothing else of
the project's stack. Stages, events and their rules are the `TRANSITIONS` table; the
diagram, the CLI's refusal messages, the UI's buttons and the import validator all read it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from incubator.messages import Alternatives, CodedError, Message, message

if TYPE_CHECKING:
    from transitions import Machine


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

    def localised(self, lang: str) -> str:
        """As a message shows it: the value in English (`incubator`), the label in Chinese."""
        return self.label_zh if lang == "zh" else self.value


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

    def localised(self, lang: str) -> str:
        return self.label("zh") if lang == "zh" else self.value


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

    def localised(self, lang: str) -> str:
        return _KIND_LABELS_ZH[self] if lang == "zh" else self.value


_KIND_LABELS_ZH = {EventKind.ADMIT: "入驻", EventKind.ADVANCE: "晋级", EventKind.EXIT: "退出"}

#: The state of a company that has not been admitted yet (it has no events).
NEW = "new"


class _NewState(str):
    """`new` in a message: a company that has no events yet."""

    def localised(self, lang: str) -> str:
        return "未入驻" if lang == "zh" else str(self)


def stage_param(value: str) -> Stage | str:
    """A stage stored as text, as a message value (its Chinese label in Chinese messages)."""
    if value == NEW:
        return _NewState(NEW)
    try:
        return Stage(value)
    except ValueError:
        return value


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


class Sector(str):
    """A sector as a message value: a focus sector shows its Chinese name in Chinese."""

    def localised(self, lang: str) -> str:
        return sector_label(str(self), lang)


@dataclass(frozen=True)
class Move:
    """A move the ladder allows: `advance (to accelerator)`, `exit`, `admit (to seed | ...)`."""

    kind: EventKind
    to: tuple[str, ...] = ()

    def localised(self, lang: str) -> str:
        if self.kind is EventKind.EXIT:
            return message("move.exit").render(lang)
        dests = tuple(stage_param(s) for s in self.to)
        if self.kind is EventKind.ADMIT:
            return message("move.admit", to=Alternatives(dests)).render(lang)
        return message("move.advance", to=list(dests)).render(lang)

    def __str__(self) -> str:
        return self.localised("en")


# --- domain errors -------------------------------------------------------------------------


class DomainError(CodedError):
    """A refused action: a code and its values (`messages.CATALOGUE`), shown as one line meant
    for the person who asked (`str()` in English, `render(lang)` in their language)."""


class InvalidInput(DomainError):
    """A value that is not allowed (unknown stage or reason, bad date, bad USCC, ...)."""


class InvalidTransition(DomainError):
    """The ladder does not allow this move from the company's current stage."""

    def __init__(
        self, key: str, stage: str, allowed: list[Move], wanted: Message | None = None
    ) -> None:
        self.key, self.stage, self.allowed = key, stage, [str(m) for m in allowed]
        shown: Any = allowed or message("moves.none_left")
        if wanted is None:
            super().__init__("transition.refused", key=key, stage=stage_param(stage), allowed=shown)
        else:
            super().__init__(
                "transition.refused_move",
                wanted=wanted,
                key=key,
                stage=stage_param(stage),
                allowed=shown,
            )


def wanted_move(kind: EventKind | str, to: str | None = None) -> Message:
    """What was asked, for "cannot ...": `advance`, `exit`, `admit to seed`."""
    if kind == EventKind.ADMIT and to:
        return message("wanted.admit_to", to=stage_param(to))
    try:
        return message("wanted.kind", kind=EventKind(kind))
    except ValueError:
        return message("wanted.kind", kind=str(kind))


class Conflict(DomainError):
    """The company moved since the actor looked (`--from` no longer matches)."""

    def __init__(self, key: str, seen: str, actual: str, allowed: list[Move]) -> None:
        self.key, self.seen, self.actual = key, seen, actual
        super().__init__(
            "conflict.moved",
            key=key,
            seen=stage_param(seen),
            actual=stage_param(actual),
            allowed=allowed or message("moves.none"),
        )

    @classmethod
    def raced(cls, key: str) -> Conflict:
        """Someone else changed the company in the same moment (a unique key caught it)."""
        return cls.other("conflict.raced", key=key)

    @classmethod
    def other(cls, code: str, /, **params: Any) -> Conflict:
        """A conflict of another kind, with its own message."""
        conflict = cls.__new__(cls)
        conflict.key, conflict.seen, conflict.actual = str(params.get("key", "?")), "?", "?"
        DomainError.__init__(conflict, code, **params)
        return conflict


class UnknownCompany(DomainError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__("company.unknown", key=key)


class AmbiguousKey(DomainError):
    """A key given in another case matches several companies whose keys differ only by case."""

    def __init__(self, key: str, matches: list[str]) -> None:
        self.key, self.matches = key, matches
        super().__init__("company.ambiguous", key=key, matches=matches)


class DuplicateCompany(DomainError):
    """The key is taken; with `other`, by a key that differs from it only by case (keys are
    unique whatever their case)."""

    def __init__(self, key: str, stage: str | Message, *, other: str | None = None) -> None:
        self.key = key
        where = stage if isinstance(stage, Message) else stage_param(stage)
        if other is None:
            super().__init__("company.duplicate", key=key, where=where)
        else:
            super().__init__("company.duplicate_case", key=key, other=other, where=where)


class PermissionDenied(DomainError):
    """The acting user's role or site does not allow this action."""


# --- the machine ---------------------------------------------------------------------------


def _admits_to(stage: Stage) -> Callable[[Any], bool]:
    def condition(event: Any) -> bool:
        return bool(event.kwargs.get("to") == stage)

    condition.__name__ = f"admits_to_{stage}"
    return condition


class Gatekeeper(Protocol):
    """What a move's gate conditions read (`evidence.Evidence`): whether the company may
    enter a stage, and, when it was refused there, why."""

    def passes(self, stage: str) -> bool: ...

    def refusal(self, key: str) -> DomainError | None: ...


def _gate_into(stage: Stage) -> Callable[[Any], bool]:
    """The gate on entering `stage` (DESIGN §8): the policy's criteria, evaluated on the
    company's facts as of the move's date by the `evidence` passed with the trigger. A move
    given no evidence (a history import, `resolve`) is not gated."""

    def condition(event: Any) -> bool:
        evidence: Gatekeeper | None = event.kwargs.get("evidence")
        return evidence is None or evidence.passes(stage.value)

    condition.__name__ = f"gate_into_{stage}"
    return condition


#: Every allowed move, as data. `admit` carries its target stage (`to=`), since a company
#: may enter the ladder at any rung; `advance` is exactly one rung; `exit` leaves from any rung.
#: Entering a stage (admit or advance) passes its gate; leaving the pipeline never is gated.
TRANSITIONS: list[dict[str, Any]] = [
    *(
        {
            "trigger": EventKind.ADMIT.value,
            "source": NEW,
            "dest": s.value,
            "conditions": [_admits_to(s), _gate_into(s)],
        }
        for s in LADDER
    ),
    *(
        {
            "trigger": EventKind.ADVANCE.value,
            "source": a.value,
            "dest": b.value,
            "conditions": [_gate_into(b)],
        }
        for a, b in zip(LADDER, LADDER[1:], strict=False)
    ),
    *(
        {"trigger": EventKind.EXIT.value, "source": s.value, "dest": Stage.EXITED.value}
        for s in LADDER
    ),
]

_MACHINE: Machine | None = None
_MACHINE_LOCK = threading.Lock()


def machine() -> Machine:
    """The one machine that enforces `TRANSITIONS`, built on first use: importing
    `transitions` is start-up time that a command which only reads never needs."""
    global _MACHINE
    if _MACHINE is None:
        with _MACHINE_LOCK:
            if _MACHINE is None:
                from transitions import Machine

                _MACHINE = Machine(
                    model=None,
                    states=[NEW, *(s.value for s in Stage)],
                    transitions=TRANSITIONS,
                    initial=NEW,
                    auto_transitions=False,
                    send_event=True,
                )
    return _MACHINE


def __getattr__(name: str) -> Any:
    """`stages.MACHINE`: the shared machine, built when first asked for."""
    if name == "MACHINE":
        return machine()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        machine().add_model(self, initial=self.company.stage)
        return self

    def __exit__(self, *exc: object) -> None:
        machine().remove_model(self)

    def fire(
        self, kind: EventKind | str, to: str | None = None, evidence: Gatekeeper | None = None
    ) -> str:
        """Fire one event; return the new stage. InvalidTransition when the ladder does not
        allow it; the gate's refusal (`evidence.GateRefused`) when `evidence` is given and the
        gate of the stage it enters refuses it."""
        from transitions import MachineError

        trigger, events = str(kind), machine().events
        try:
            moved = (
                events[trigger].trigger(self, to=to, evidence=evidence)
                if trigger in events
                else False
            )
        except MachineError:
            moved = False
        if not moved:
            refusal = evidence.refusal(self.company.key) if evidence is not None else None
            if refusal is not None:
                raise refusal
            raise InvalidTransition(
                self.company.key,
                self.company.stage,
                allowed_move_list(self.state),
                wanted_move(trigger, to),
            )
        self.company.stage = self.state
        return self.state


_IDLE: list[Lifecycle] = []
_IDLE_LOCK = threading.Lock()


class driving:  # noqa: N801  (used as a function: `with driving(company) as life`)
    """A `Lifecycle` for `company`, taken from a small pool of wrappers the machine already
    knows (adding a model to a Machine costs more than the transition itself); the pool holds
    at most as many wrappers as threads have ever driven companies at once.

        with driving(CompanyState("JM-0042", "incubator")) as life:
            life.fire(EventKind.ADVANCE)

    A class rather than a generator-based context manager: a move uses it once, and
    `contextlib`'s machinery cost more than the pool itself."""

    __slots__ = ("company", "life")

    def __init__(self, company: CompanyState) -> None:
        self.company = company

    def __enter__(self) -> Lifecycle:
        company = self.company
        with _IDLE_LOCK:
            life = _IDLE.pop() if _IDLE else None
        if life is None:
            life = Lifecycle(company)
            machine().add_model(life, initial=company.stage)
        else:
            life.company = company
            machine().set_state(company.stage, model=life)
        self.life = life
        return life

    def __exit__(self, *exc: object) -> None:
        with _IDLE_LOCK:
            _IDLE.append(self.life)


def allowed_move_list(stage: str) -> list[Move]:
    """The moves from `stage`, with where they lead, in table order."""
    return [
        Move(
            EventKind(trigger),
            tuple(str(t.dest) for t in machine().events[trigger].transitions[stage]),
        )
        for trigger in machine().get_triggers(stage)
    ]


def allowed_moves(stage: str) -> list[str]:
    """Human-readable moves from `stage`, e.g. `["advance (to accelerator)", "exit"]`."""
    return [str(m) for m in allowed_move_list(stage)]


def allowed_triggers(stage: str) -> list[EventKind]:
    """The events that may fire from `stage`, in table order."""
    return [EventKind(t) for t in machine().get_triggers(stage)]


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
    exact = _STAGE_VALUES.get(value)  # the common case (a stored or chosen stage), at once
    if exact is not None and not (ladder_only and exact is Stage.EXITED):
        return exact
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
    raise InvalidInput("stage.unknown", value=value, allowed=list(allowed))


_STAGE_VALUES = {stage.value: stage for stage in Stage}


def parse_reason(value: str | None) -> ExitReason:
    """An exit reason from its value (case-insensitive) or its Chinese name; InvalidInput if
    missing or unknown."""
    reason = _REASONS.get((value or "").strip().lower())
    if reason is not None:
        return reason
    allowed = list(ExitReason)
    if value is None or not value.strip():
        raise InvalidInput("reason.missing", allowed=allowed)
    raise InvalidInput("reason.unknown", value=value, allowed=allowed)


#: Exit reasons as typed: their values, and their Chinese names (迁出, 上市, ...).
_REASONS = {r.value: r for r in ExitReason} | {r.label("zh"): r for r in ExitReason}
