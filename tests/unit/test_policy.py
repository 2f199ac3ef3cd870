"""The gate policy as data (DESIGN §8): JSON as `policy show --json` prints it, or TOML; a
bad file is refused naming the line and the entry that is wrong."""

from __future__ import annotations

import json

import pytest

from incubator.evidence import (
    DEFAULT_POLICY,
    FinancingOver,
    GateMode,
    Policy,
    PolicyError,
    parse_policy,
    policy_json,
    stored_policy,
)
from incubator.stages import Stage

DEFAULT_TOML = """\
# The national rules (DESIGN §8)
[[gates]]
stage = "incubator"
mode = "all"

[[gates.criteria]]
id = "registered"

[[gates.criteria]]
id = "founded_within_months"
months = 24

[[gates]]
stage = "accelerator"
mode = "any"
criteria = [
  { id = "qualification", kind = "high_tech" },
  { id = "financing_over", amount = 5_000_000 },
  { id = "revenue_two_years_over", amount = 10_000_000 },
  { id = "milestone", kinds = ["listed", "acquired"] },
]

[[gates]]
stage = "industrial_park"
mode = "any"

[[gates.criteria]]
id = "revenue_last_year_at_least"
amount = 20_000_000
"""


def refusal(text: str, fmt: str | None = None) -> str:
    with pytest.raises(PolicyError) as refused:
        parse_policy(text, source="policy.file", fmt=fmt)
    line = str(refused.value)
    assert "\n" not in line
    assert refused.value.render("zh").startswith("policy.file 不是有效的门槛规则：")
    return line


def test_the_default_policy_is_the_national_rules_and_round_trips_through_json() -> None:
    doc = json.loads(policy_json(DEFAULT_POLICY))
    assert [(g["stage"], g["mode"]) for g in doc["gates"]] == [
        ("incubator", "all"), ("accelerator", "any"), ("industrial_park", "any"),
    ]  # fmt: skip
    assert doc["gates"][1]["criteria"] == [
        {"id": "qualification", "kind": "high_tech"},
        {"id": "financing_over", "amount": 5_000_000},
        {"id": "revenue_two_years_over", "amount": 10_000_000},
        {"id": "milestone", "kinds": ["listed", "acquired"]},
    ]
    assert parse_policy(json.dumps(doc, indent=2)) == DEFAULT_POLICY
    assert stored_policy(None) == DEFAULT_POLICY


def test_a_toml_file_gives_the_same_policy() -> None:
    assert parse_policy(DEFAULT_TOML, fmt="toml") == DEFAULT_POLICY
    assert parse_policy(DEFAULT_TOML) == DEFAULT_POLICY  # not JSON: read as TOML


def test_no_gates_turns_gates_off_in_either_format() -> None:
    assert parse_policy('{"gates": []}') == Policy(())
    assert parse_policy("gates = []\n") == Policy(())


def test_gates_are_kept_in_ladder_order_whatever_the_file_order() -> None:
    text = json.dumps(
        {
            "gates": [
                {"stage": "industrial_park", "mode": "all",
                 "criteria": [{"id": "financing_over", "amount": 1}]},
                {"stage": "nursery", "mode": "any", "criteria": [{"id": "registered"}]},
            ]
        }
    )  # fmt: skip
    policy = parse_policy(text)
    assert [g.stage for g in policy.gates] == [Stage.NURSERY, Stage.INDUSTRIAL_PARK]
    gate = policy.gate_into("industrial_park")
    assert gate is not None and gate.mode is GateMode.ALL
    assert gate.criteria == (FinancingOver(1),)


BAD_JSON = """{
  "gates": [
    {
      "stage": "accelerator",
      "mode": "any",
      "criteria": [
        {"id": "financing_over", "amount": 5000000},
        {"id": "%s"}
      ]
    }
  ]
}"""


def test_an_unknown_criterion_is_refused_naming_its_line() -> None:
    assert refusal(BAD_JSON % "charisma") == (
        "policy.file is not a valid gate policy: line 8 (gate 1, criterion 2): unknown criterion "
        "'charisma'; allowed: registered, founded_within_months, qualification, financing_over, "
        "revenue_two_years_over, revenue_last_year_at_least, milestone"
    )


def test_an_unknown_stage_is_refused_naming_its_line() -> None:
    toml = DEFAULT_TOML.replace('stage = "accelerator"', 'stage = "graduated"')
    assert refusal(toml) == (
        "policy.file is not a valid gate policy: line 14 (gate 2): unknown stage 'graduated'; "
        "allowed: seed, nursery, incubator, accelerator, industrial_park"
    )
    assert "unknown stage 'exited'" in refusal(toml.replace("graduated", "exited"))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("months = 24", "weeks = 24"),
         "line 11 (gate 1, criterion 2): unknown key 'weeks'; allowed: id, months"),
        (("months = 24", ""),
         "line 9 (gate 1, criterion 2): criterion founded_within_months needs 'months'"),
        (("months = 24", 'months = "24"'),
         "line 11 (gate 1, criterion 2): 'months' must be a whole number >= 0, not \"24\""),
        (("months = 24", "months = -1"),
         "line 11 (gate 1, criterion 2): 'months' must be a whole number >= 0, not -1"),
        (("amount = 20_000_000", "amount = 2.5e7"),
         "line 29 (gate 3, criterion 1): 'amount' must be a whole number >= 0, not 25000000.0"),
        (('mode = "all"', 'mode = "most"'),
         "line 4 (gate 1): unknown mode 'most'; allowed: all, any"),
        (('kind = "high_tech"', 'kind = "unicorn"'),
         "gate 2, criterion 1: unknown qualification kind \"unicorn\"; allowed: tech_sme, "),
        (('kinds = ["listed", "acquired"]', 'kinds = ["bought"]'),
         "gate 2, criterion 4: unknown milestone \"bought\"; allowed: listed, acquired"),
        (('kinds = ["listed", "acquired"]', "kinds = []"),
         "gate 2, criterion 4: 'kinds' must be a non-empty list, not []"),
        (('stage = "industrial_park"', 'stage = "incubator"'),
         "line 24 (gate 3): a second gate into incubator; one gate per stage"),
        (('mode = "all"\n', 'mode = "all"\ncolour = "red"\n'),
         "line 5 (gate 1): unknown key 'colour'; allowed: stage, mode, criteria"),
        (('[[gates]]\nstage = "incubator"\nmode = "all"\n', '[[gates]]\nstage = "incubator"\n'),
         "line 2 (gate 1): 'mode' is missing"),
        (("months = 24", "months = 24\n[oops"),
         "line 12: Expected ']' at the end of a table declaration"),
    ],
)  # fmt: skip
def test_each_kind_of_mistake_in_a_toml_file_names_its_line_and_entry(
    change: tuple[str, str], problem: str
) -> None:
    old, new = change
    assert old in DEFAULT_TOML
    line = refusal(DEFAULT_TOML.replace(old, new, 1))
    assert line.startswith("policy.file is not a valid gate policy: ")
    assert problem in line, line


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"gates": [', "line 1: Expecting value"),
        ('{"gates": {}}', "line 1: 'gates' must be a list, not table"),
        ('{"rules": []}', "line 1: unknown key 'rules'; allowed: gates"),
        ("{}", "line 1: 'gates' is missing"),
        ('{"gates": [{"stage": "incubator", "mode": "all", "criteria": []}]}',
         "line 1 (gate 1): a gate needs at least one criterion"),
        ('{"gates": [{"stage": "incubator", "mode": "all", "criteria": ["registered"]}]}',
         "gate 1, criterion 1: expected a table, not text"),
        ('{"gates": [{"stage": "incubator", "mode": "all", "criteria": [{"id": "registered",'
         ' "strict": true}]}]}',
         "line 1 (gate 1, criterion 1): unknown key 'strict'; allowed: id"),
    ],
)  # fmt: skip
def test_each_kind_of_mistake_in_a_json_file_is_named(text: str, problem: str) -> None:
    assert problem in refusal(text, "json")
