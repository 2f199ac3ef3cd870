"""Both languages: every message in English and Chinese, and every message the app asks for."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from incubator.access import USER_ROLES
from incubator.stages import EventKind, ExitReason, Stage
from ui import i18n
from ui.i18n import TEXT, t

UI = Path(__file__).resolve().parents[2] / "ui"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(TEXT))
def test_every_message_has_both_languages_with_the_same_placeholders(key: str) -> None:
    en, zh = TEXT[key]
    assert en.strip() and zh.strip(), key
    assert placeholders(en) == placeholders(zh), key


def test_every_message_the_app_asks_for_exists() -> None:
    literal = re.compile(r"""\b(?:t|md)\(\s*["']([a-z_.]+)["']\s*[,)]""")
    used = {
        key
        for path in UI.rglob("*.py")
        for key in literal.findall(path.read_text(encoding="utf-8"))
    }
    assert used, "no t() calls found"
    missing = sorted(used - set(TEXT))
    assert not missing, f"messages without a translation: {missing}"


def test_message_families_built_at_run_time_are_complete() -> None:
    families = {
        "board.action": [EventKind.ADVANCE.value, EventKind.EXIT.value],
        "funnel.by": ["month", "quarter", "year"],
        "funnel.outcome": ["advanced", "current", "exited"],
        "kind": [k.value for k in EventKind],
        "ladder": [k.value for k in EventKind],
        "role": [r.value for r in USER_ROLES],
        "users.status": ["active", "disabled", "locked"],
    }
    for family, members in families.items():
        for member in members:
            assert f"{family}.{member}" in TEXT


def test_t_fills_placeholders_in_the_chosen_language() -> None:
    assert t("board.count", "en", n=3) == "3 companies"
    assert t("board.count", "zh", n=3) == "3 家企业"
    assert t("board.count_one", "en", n=1) == "1 company"
    assert t("board.count_one", "zh", n=1) == "1 家企业"
    assert t("no.such.message", "zh") == "no.such.message"


def test_stage_reason_and_kind_labels_come_from_the_domain() -> None:
    for stage in Stage:
        assert i18n.stage_label(stage.value, "zh") == stage.label_zh
        assert i18n.stage_label(stage.value, "en") == stage.label_en
    assert i18n.stage_label(None, "en") == "—"
    assert i18n.reason_label(ExitReason.LISTED.value, "zh") == "上市"
    assert i18n.reason_label(None, "zh") == ""
    assert i18n.kind_label("advance", "zh") == "晋级"


def test_percent_is_readable_and_handles_undefined_values() -> None:
    assert i18n.percent(0.345) == "34%"
    assert i18n.percent(0.091) == "9.1%"
    assert i18n.percent(0.0) == "0%"
    assert i18n.percent(None) == "—"
    assert i18n.percent(float("nan")) == "—"


@pytest.mark.parametrize(
    ("value", "english", "chinese"),
    [
        (0, "0", "0"),
        (9_999, "9,999", "9,999"),
        (10_000, "10k", "1万"),
        (12_345, "12.3k", "1.23万"),
        (612_345, "612k", "61.2万"),
        (999_999, "1M", "100万"),  # rounds up into the next unit, not "1000k"
        (1_234_567, "1.23M", "123万"),
        (99_999_999, "100M", "1亿"),
        (123_456_789, "123M", "1.23亿"),
        (-54_321, "-54.3k", "-5.43万"),
    ],
)
def test_compact_counts_fit_a_metric_card_in_each_language(
    value: int, english: str, chinese: str
) -> None:
    assert i18n.compact_count(value, "en") == english
    assert i18n.compact_count(value, "zh") == chinese


def test_unknown_languages_fall_back_to_english() -> None:
    assert i18n.normalize_language("fr") == "en"
    assert i18n.normalize_language(None) == "en"
    assert i18n.normalize_language("zh") == "zh"


def test_managers_are_incubation_managers_not_administrators_in_chinese() -> None:
    assert t("role.manager", "zh") == "孵化经理"
    assert t("role.admin", "zh") == "系统管理员"
    bare = [k for k, (_, zh) in TEXT.items() if "管理员" in zh.replace("系统管理员", "")]
    assert not bare, bare


def test_the_browsers_language_is_chinese_when_it_prefers_any_chinese() -> None:
    from ui.i18n import preferred_language

    assert [preferred_language(h) for h in ("zh-CN,zh;q=0.9", "zh-Hans", "ZH-tw", " zh")] == [
        "zh"
    ] * 4
    assert [preferred_language(h) for h in ("en-US,zh;q=0.8", "fr", "", None)] == ["en"] * 4
