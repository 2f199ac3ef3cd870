"""Refusals as data (incubator/messages.py): every code has an English and a Chinese text
naming the same values, every refusal the package raises uses a known code, and each kind of
value reads naturally in both languages."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from incubator.access import Actor, Role
from incubator.messages import CATALOGUE, Alternatives, Message, message, placeholders, render
from incubator.stages import (
    Conflict,
    DuplicateCompany,
    EventKind,
    ExitReason,
    InvalidInput,
    InvalidTransition,
    Move,
    PermissionDenied,
    Sector,
    Stage,
    allowed_move_list,
    parse_reason,
    parse_stage,
    wanted_move,
)
from incubator.values import Char, clean_key, clean_name, normalize_uscc, parse_instant

PACKAGE = Path(__file__).resolve().parents[2] / "incubator"

#: Calls whose first argument is a message code (`_problem` and `_not_a_checkpoint` take it
#: second, `_Failed` after the company).
CODE_FIRST = {
    "InvalidInput", "PermissionDenied", "DomainError", "StoreError", "AuditKeyMismatch",
    "AuditFailed", "AuthenticationFailed", "message", "Message", "other", "refuse",
    "_policy_error", "PolicyError",
}  # fmt: skip
CODE_SECOND = {"problem", "_not_a_checkpoint", "_Failed"}
#: Codes built at run time from a family name and a member.
FAMILIES = {
    "field.filter": ["site", "sector", "search", "company", "actor"],
    "auditkey.doing": ["write", "verify", "sign"],
    "audit.column": [
        "admitted_at", "entered_stage_at", "last_event_at", "cohort", "name", "sector", "site",
        "uscc", "founded_on",
    ],
    "audit.source": ["admit", "last", "year", "profile", "founding"],
    "audit.rows": [
        "events", "records", "spells", "qualifications", "financing", "milestones", "figures",
    ],
    "audit.table": ["qualification", "financing_round", "milestone", "annual_figures"],
    "fact": [
        "profile", "founded", "qualification", "revocation", "financing", "milestone", "figures",
    ],
    "check": [
        "missing_figures", "missing_figure", "phd_above_employees", "rd_above_revenue",
        "overstayed",
    ],
    "criterion": [
        "registered", "founded_within_months", "qualification", "financing_over",
        "revenue_two_years_over", "revenue_last_year_at_least", "milestone",
    ],
}  # fmt: skip
#: Codes an error class picks itself, or that are chosen by a conditional expression.
CHOSEN = {
    "transition.refused", "transition.refused_move", "conflict.moved", "company.unknown",
    "company.ambiguous", "company.duplicate", "company.duplicate_case", "store.key_taken", "import.rejected",
    "import.rejected_one", "import.column_missing", "import.columns_missing", "char.space",
    "char.lone_mark", "char.not_letter", "char.fullwidth", "where.admitted_in_file", "where.admitted_in_database",
    "upgrade.given_key", "upgrade.no_key", "audit.deleted", "audit.added", "auth.failed",
    "auth.locked", "auth.disabled", "user.unknown", "field.key",
    "field.name", "field.note", "field.sector", "field.site", "field.company", "field.actor", "field.importer",
    "field.user_name", "field.effective_time", "field.date", "field.amount", "field.certificate",
    "field.evidence", "field.expires_on", "field.financed_on", "field.founded_on",
    "field.granted_on", "field.investor", "field.milestone_on", "field.override", "field.policy",
    "field.revoke_reason", "field.revoked_on", "field.round", "field.year", "gate.refused",
    "revocation.all_revoked", "revocation.no_grant", "field.site_name", "field.floor_area",
    "field.staff", "field.mentors", "field.incubation_fund", "field.target",
}  # fmt: skip
#: Latin-letter words a Chinese template may hold: file-format and standard names, the CSV
#: file's column names, environment variables, and command-line options and commands.
ZH_ALLOWED = {
    "CSV", "UTF", "ISO", "UTC", "GB", "SQLite", "INCUBATOR_AUDIT_KEY", "company_key",
    "company_name", "effective_at", "from_stage", "to_stage", "recorded_at", "event_id",
    "hash", "audit_key", "I", "O", "Z", "S", "V", "JM", "T",
}  # fmt: skip


def codes_in_source() -> dict[str, str]:
    """Every literal message code in the package, with where it is."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            index = 0 if name in CODE_FIRST else 1 if name in CODE_SECOND else None
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found[arg.value] = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
    return found


def test_every_code_has_both_languages_naming_the_same_values() -> None:
    for code, (en, zh) in CATALOGUE.items():
        assert en.strip() and zh.strip(), code
        assert placeholders(en) == placeholders(zh), code


def test_every_refusal_the_package_raises_uses_a_known_code() -> None:
    used = codes_in_source()
    assert len(used) > 150, "the scan found too few codes"
    unknown = {code: where for code, where in used.items() if code not in CATALOGUE}
    assert not unknown, unknown
    built = {f"{family}.{m}" for family, members in FAMILIES.items() for m in members}
    assert not (built | CHOSEN) - set(CATALOGUE)
    # Every code in the catalogue is used somewhere (no dead messages).
    unused = set(CATALOGUE) - set(used) - built - CHOSEN
    assert not unused, unused


def test_no_refusal_is_raised_with_a_written_out_sentence() -> None:
    """A coded error takes a code, never an f-string or a sentence."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in CODE_FIRST:
                first = node.args[0] if node.args else None
                parts = first.values if isinstance(first, ast.JoinedStr) else [first]
                for part in parts:  # a family's code may be built: f"field.filter.{what}"
                    if isinstance(part, ast.Constant):
                        assert " " not in str(part.value), f"{path}:{node.lineno}"


def test_chinese_templates_hold_no_english_words() -> None:
    for code, (_, zh) in CATALOGUE.items():
        text = re.sub(r"\{[^}]*\}|`[^`]*`|--?[a-z]+|[a-z]+:///\S+|\S+@\S+|U\+[0-9A-F]+", " ", zh)
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z_]*", text) if w not in ZH_ALLOWED]
        assert not words, (code, words)


def test_str_of_a_refusal_is_its_english_line() -> None:
    with pytest.raises(InvalidTransition) as refused:
        from incubator.stages import CompanyState, driving

        with driving(CompanyState("JM-0042", "incubator")) as life:
            life.fire(EventKind.ADMIT, "seed")
    assert str(refused.value) == (
        "cannot admit to seed: JM-0042 is in incubator; allowed: advance (to accelerator), exit"
    )
    assert refused.value.code == "transition.refused_move"
    assert refused.value.params["key"] == "JM-0042"
    assert refused.value.render("zh") == (
        "无法入驻种子阶段：JM-0042 当前处于孵化器；允许的操作：晋级（至加速器）、退出"
    )


def test_stages_reasons_and_kinds_show_their_labels_in_chinese() -> None:
    refusal = InvalidInput("reason.missing", allowed=list(ExitReason))
    assert str(refusal).endswith("allowed: failed, withdrew, relocated, acquired, listed, other")
    assert (
        refusal.render("zh") == "退出须注明原因；可选：经营失败、主动退出、迁出、被并购、上市、其他"
    )
    with pytest.raises(InvalidInput) as unknown:
        parse_stage("moon")
    assert unknown.value.render("zh") == "未知阶段 “moon”；可选：种子、苗圃、孵化器、加速器、产业园"
    assert render(message("wanted.kind", kind=EventKind.ADVANCE), "zh") == "晋级"
    assert render(message("limit.sector_stage", sector=Sector("biomedicine"), stage=Stage.INCUBATOR), "zh") == "生物医药在孵化器阶段"  # fmt: skip
    assert (
        render(message("limit.sector_stage", sector=Sector("芯片"), stage=Stage.SEED))
        == "芯片 in seed"
    )


def test_moves_read_naturally_in_both_languages() -> None:
    moves = allowed_move_list("incubator")
    assert [str(m) for m in moves] == ["advance (to accelerator)", "exit"]
    assert [m.localised("zh") for m in moves] == ["晋级（至加速器）", "退出"]
    admit = Move(EventKind.ADMIT, ("seed", "nursery"))
    assert str(admit) == "admit (to seed | nursery)"
    assert admit.localised("zh") == "入驻（至种子 | 苗圃）"
    assert Alternatives(["a", "b"]) == ("a", "b")
    exited = InvalidTransition("JM-1", "exited", [], wanted_move("advance"))
    assert str(exited) == (
        "cannot advance: JM-1 is in exited; allowed: nothing (the company has left the pipeline)"
    )
    assert exited.render("zh") == "无法晋级：JM-1 当前处于退出；允许的操作：无（该企业已退出管线）"
    moved = Conflict("JM-1", "seed", "nursery", allowed_move_list("nursery"))
    assert (
        moved.render("zh")
        == "冲突：JM-1 已不在种子，现处于苗圃；允许的操作：晋级（至孵化器）、退出"
    )
    assert Conflict.raced("JM-1").key == "JM-1"


def test_a_wrapped_cause_is_rendered_in_the_same_language() -> None:
    try:
        normalize_uscc("91420881MA4R0QMA43")
    except InvalidInput as cause:
        wrapped = InvalidInput("admit.refused", key="JM-0100", cause=cause)
    assert str(wrapped) == (
        "cannot admit JM-0100: USCC '91420881MA4R0QMA43' fails the GB 32100-2015 check: last "
        "character should be '2', not '3'"
    )
    assert wrapped.render("zh") == (
        "无法办理 JM-0100 的入驻：统一社会信用代码 “91420881MA4R0QMA43” 未通过 GB 32100-2015 "
        "校验：最后一位应为 “2”，而不是 “3”"
    )


def test_hidden_characters_are_named_and_quoted_as_escapes() -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_name("隐形\u200b公司")
    assert "contains U+200B ZERO WIDTH SPACE, an invisible character" in str(refused.value)
    assert refused.value.render("zh") == (
        "企业名称 “隐形\\u200b公司” 含有 U+200B（不可见字符）；只允许可见字符"
    )
    assert Char("\u200b").localised("zh") == "U+200B"
    with pytest.raises(InvalidInput) as key:
        clean_key("JM 1")
    assert key.value.render("zh").endswith(
        "含有 U+0020（空格）；编号只能由字母、数字和 -、_、.、/ 组成"
    )


def test_times_and_dates_are_iso_in_both_languages() -> None:
    later = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    refusal = InvalidInput("time.in_future", what=message("field.effective_time"), moment=later, now=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
    assert str(refusal) == (
        "effective time 2030-01-02T03:04:00+00:00 lies in the future; allowed: up to now "
        "(2026-01-01T00:00:00+00:00)"
    )
    assert refusal.render("zh") == (
        "生效时间 2030-01-02T03:04:00+00:00 晚于当前时间；允许范围：不晚于现在（2026-01-01T00:00:00+00:00）"
    )
    assert render(message("date.before", earliest=date(1900, 1, 1)), "zh") == "早于 1900-01-01"
    with pytest.raises(InvalidInput) as unreadable:
        parse_instant("yesterday")
    assert unreadable.value.render("zh").startswith("无法把 “yesterday” 识别为日期")


def test_roles_and_permissions_name_the_manager_as_an_incubation_manager() -> None:
    manager = Actor("li", Role.MANAGER, "京山")
    with pytest.raises(PermissionDenied) as refused:
        manager.require_write("钟祥", message("action.move", kind=EventKind.EXIT, key="JM-1"))
    assert str(refused.value) == "li manages site 京山 and cannot exit JM-1 at site 钟祥"
    assert refused.value.render("zh") == "li 负责站点 京山，不能在站点 钟祥 对 JM-1 执行退出"
    with pytest.raises(PermissionDenied) as admin_only:
        manager.require_admin(message("action.manage_users"))
    assert admin_only.value.render("zh") == "li 的角色是孵化经理，不能管理用户；只有系统管理员可以"


def test_a_duplicate_key_says_where_the_company_is() -> None:
    taken = DuplicateCompany("JM-1", "seed")
    assert str(taken) == "company key 'JM-1' is already taken (JM-1 is in seed); keys are unique"
    assert taken.render("zh") == "企业编号 “JM-1” 已被占用（JM-1 当前处于种子）；编号不能重复"


def test_chinese_names_of_exit_reasons_are_accepted_as_typed() -> None:
    assert parse_reason("迁出") is ExitReason.RELOCATED
    assert parse_reason(" Listed ") is ExitReason.LISTED


def test_an_unknown_code_shows_itself_instead_of_failing() -> None:
    assert render(Message("no.such.code", {"key": "JM-1"})) == "no.such.code key='JM-1'"
