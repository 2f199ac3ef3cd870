"""The ladder machine: every stage reachable, no skipping, refusals that say what is allowed."""

from __future__ import annotations

import pytest

from incubator.stages import (
    LADDER,
    MACHINE,
    NEW,
    TRANSITIONS,
    CompanyState,
    EventKind,
    ExitReason,
    InvalidInput,
    InvalidTransition,
    Lifecycle,
    Stage,
    allowed_moves,
    allowed_triggers,
    driving,
    next_stage,
    parse_reason,
    parse_stage,
    resolve,
)


@pytest.mark.parametrize("stage", LADDER)
def test_admit_can_enter_every_stage_of_the_ladder(stage: Stage) -> None:
    company = CompanyState("JM-0001")
    with Lifecycle(company) as life:
        assert life.fire(EventKind.ADMIT, stage.value) == stage.value
    assert company.stage == stage.value


def test_every_stage_is_reachable_from_seed_by_advancing_one_step_at_a_time() -> None:
    company = CompanyState("JM-0001", Stage.SEED.value)
    visited = [company.stage]
    with Lifecycle(company) as life:
        while EventKind.ADVANCE in allowed_triggers(company.stage):
            visited.append(life.fire(EventKind.ADVANCE))
    assert visited == [s.value for s in LADDER]


@pytest.mark.parametrize(("here", "there"), list(zip(LADDER, LADDER[1:], strict=False)))
def test_advance_goes_exactly_one_step(here: Stage, there: Stage) -> None:
    assert resolve(here.value, "advance") == there.value
    assert next_stage(here) is there


def test_advance_from_industrial_park_is_refused_and_lists_what_is_allowed() -> None:
    company = CompanyState("JM-0042", Stage.INDUSTRIAL_PARK.value)
    with Lifecycle(company) as life, pytest.raises(InvalidTransition) as refused:
        life.fire(EventKind.ADVANCE)
    assert "JM-0042 is in industrial_park; allowed: exit" in str(refused.value)
    assert company.stage == Stage.INDUSTRIAL_PARK.value


def test_refusal_message_has_the_contract_shape() -> None:
    with (
        Lifecycle(CompanyState("JM-0042", "incubator")) as life,
        pytest.raises(InvalidTransition) as e,
    ):
        life.fire(EventKind.ADMIT, "seed")
    assert "JM-0042 is in incubator; allowed: advance (to accelerator), exit" in str(e.value)


@pytest.mark.parametrize("stage", LADDER)
def test_exit_is_allowed_from_every_stage(stage: Stage) -> None:
    assert resolve(stage.value, "exit") == Stage.EXITED.value


def test_nothing_follows_an_exit() -> None:
    assert allowed_moves(Stage.EXITED.value) == []
    for kind in EventKind:
        assert resolve(Stage.EXITED.value, kind.value, "seed") is None


def test_admit_is_only_for_new_companies_and_only_onto_the_ladder() -> None:
    assert resolve(NEW, "admit", "exited") is None
    assert resolve(NEW, "admit", None) is None
    assert resolve(NEW, "advance") is None
    assert resolve("seed", "admit", "nursery") is None


def test_unknown_trigger_is_refused_not_crashed() -> None:
    with Lifecycle(CompanyState("X", "seed")) as life, pytest.raises(InvalidTransition):
        life.fire("teleport")


def test_the_shared_machine_forgets_each_wrapper() -> None:
    before = len(MACHINE.models)
    for stage in LADDER:
        with Lifecycle(CompanyState("X", stage.value)) as life:
            life.fire(EventKind.EXIT)
    assert len(MACHINE.models) == before


def test_transitions_table_is_the_single_source_of_the_ladder() -> None:
    advances = [(t["source"], t["dest"]) for t in TRANSITIONS if t["trigger"] == "advance"]
    assert advances == [(a.value, b.value) for a, b in zip(LADDER, LADDER[1:], strict=False)]
    exits = {t["source"] for t in TRANSITIONS if t["trigger"] == "exit"}
    assert exits == {s.value for s in LADDER}


def test_stages_have_english_and_chinese_labels() -> None:
    assert [s.label_zh for s in LADDER] == ["种子", "苗圃", "孵化器", "加速器", "产业园"]
    assert Stage.INDUSTRIAL_PARK.label("en") == "Industrial park"
    assert Stage.EXITED.label("zh") == "退出"


@pytest.mark.parametrize("text", ["incubator", "Incubator", " INCUBATOR ", "孵化器"])
def test_parse_stage_accepts_values_and_labels(text: str) -> None:
    assert parse_stage(text) is Stage.INCUBATOR


def test_parse_stage_names_the_allowed_stages() -> None:
    with pytest.raises(InvalidInput, match="unknown stage 'garage'; allowed: seed, nursery"):
        parse_stage("garage")
    with pytest.raises(InvalidInput):
        parse_stage("exited")
    assert parse_stage("exited", ladder_only=False) is Stage.EXITED


def test_parse_reason_requires_one_of_six() -> None:
    assert parse_reason(" Listed ") is ExitReason.LISTED
    with pytest.raises(InvalidInput, match="needs a reason; allowed: failed, withdrew"):
        parse_reason("")
    with pytest.raises(InvalidInput, match="unknown exit reason 'bored'"):
        parse_reason("bored")


def test_pooled_wrappers_drive_each_company_from_its_own_stage() -> None:
    first, second = CompanyState("A", "seed"), CompanyState("B", "accelerator")
    with driving(first) as life:
        life.fire(EventKind.ADVANCE)
    with driving(second) as life:  # the same wrapper, now pointed at B
        life.fire(EventKind.ADVANCE)
    assert (first.stage, second.stage) == ("nursery", "industrial_park")
    before = len(MACHINE.models)
    for _ in range(50):
        with driving(CompanyState("C", "seed")):
            pass
    assert len(MACHINE.models) == before  # reused, not added again


def test_a_refused_move_leaves_a_pooled_wrapper_usable() -> None:
    with driving(CompanyState("A", "industrial_park")) as life, pytest.raises(InvalidTransition):
        life.fire(EventKind.ADVANCE)
    with driving(CompanyState("B", "seed")) as life:
        assert life.fire(EventKind.ADVANCE) == "nursery"


def test_focus_sectors_have_chinese_names_and_other_sectors_show_as_stored() -> None:
    from incubator.stages import FOCUS_SECTORS, sector_label

    assert [sector_label(s, "zh") for s in FOCUS_SECTORS] == [
        "高端装备", "绿色化工", "新能源新材料", "生物医药", "柔性电子", "有机食品",
    ]  # fmt: skip
    assert sector_label("biomedicine", "en") == "biomedicine"
    assert sector_label("quantum widgets", "zh") == "quantum widgets"
