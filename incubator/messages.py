"""Refusals and reports as data: a code, the values it names, and its text in two languages.

Every refusal the tracker writes (`stages.DomainError` and its kinds, `store.StoreError`) and
every audit finding carries a `Message`: a code such as `transition.refused` and its params
(the company key, the stage, the allowed moves, the offending value, ...). `CATALOGUE` holds
each code's English and Chinese template; `render(message, lang)` fills one in. `str()` of an
error is its English text, the one line the command line prints; the web app renders the same
message in the reader's language.

Values are shown by kind, so one message reads naturally in both languages:

- an object with a `localised(lang)` method (stages, exit reasons, event kinds, moves, roles,
  sectors: see `stages.py` and `access.py`) shows its English value or its Chinese label;
- a `Message` (or an error carrying one, e.g. the cause of "cannot admit KEY: ...") is rendered
  recursively in the same language;
- a list or tuple is joined with ", " in English and "、" in Chinese (`Alternatives` with " | ");
- a datetime is ISO 8601 in UTC, a date ISO 8601; anything else is shown as `str()` of it.

Templates are `str.format` templates. `{value!r}` quotes a value as Python does (the English
wording the CLI has always printed); `{value!q}` quotes it with Chinese quotation marks, with
any invisible or control character shown as an escape such as `\\u200b`.

Pure standard library: the domain modules import this one, never the other way round.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol, runtime_checkable

LANGUAGES = ("en", "zh")


@runtime_checkable
class Localised(Protocol):
    """A value that names itself in a language (a stage, an exit reason, a move, ...)."""

    def localised(self, lang: str) -> str: ...


@dataclass(frozen=True)
class Message:
    """A code from `CATALOGUE` and the values its templates name."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str = "en") -> str:
        return render(self, lang)

    def localised(self, lang: str) -> str:
        return render(self, lang)

    def __str__(self) -> str:
        return render(self, "en")


def message(code: str, /, **params: Any) -> Message:
    """`Message(code, params)`, written as a call: `message("field.site")`."""
    return Message(code, params)


class CodedError(Exception):
    """An error whose text is a `Message`: `str(error)` is its English text; `render(lang)`
    gives it in another language; `code` and `params` say what was wrong, as data."""

    def __init__(self, code: str, /, **params: Any) -> None:
        self.message = Message(code, params)
        super().__init__(render(self.message, "en"))

    @property
    def code(self) -> str:
        return self.message.code

    @property
    def params(self) -> Mapping[str, Any]:
        return self.message.params

    def render(self, lang: str = "en") -> str:
        return render(self.message, lang)

    def localised(self, lang: str) -> str:
        return render(self.message, lang)


class Alternatives(tuple[Any, ...]):
    """Values of which one is meant (`seed | nursery`): joined with " | " in every language."""


def text_of(value: Any, lang: str = "en") -> str:
    """`value` as it is shown inside a message in `lang` (see the module's docstring)."""
    if isinstance(value, Message):
        return render(value, lang)
    if isinstance(value, CodedError):
        return render(value.message, lang)
    if isinstance(value, Localised) and not isinstance(value, type):
        return value.localised(lang)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Alternatives):
        return " | ".join(text_of(v, lang) for v in value)
    if isinstance(value, list | tuple):
        return ("、" if lang == "zh" else ", ").join(text_of(v, lang) for v in value)
    return str(value)


def quoted(text: str) -> str:
    """“text” with Chinese quotation marks; characters that would not show (invisible,
    control, line or paragraph separators) are written as escapes, as `repr` does."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f"“{shown}”"


class _Formatter(string.Formatter):
    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "q":
            return quoted(str(value))
        return super().convert_field(value, conversion)


_FORMATTER = _Formatter()


def render(msg: Message, lang: str = "en") -> str:
    """The message's template in `lang` (English unless "zh") filled with its values shown
    in that language. An unknown code shows as the code and its values, never an error."""
    pair = CATALOGUE.get(msg.code)
    values = {name: text_of(value, lang) for name, value in msg.params.items()}
    if pair is None:
        return msg.code + "".join(f" {k}={v!r}" for k, v in values.items())
    return _FORMATTER.vformat(pair[1] if lang == "zh" else pair[0], (), values)


def placeholders(template: str) -> set[str]:
    """The names a template fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


#: code -> (English, Chinese). The English text is what the command line prints and what the
#: README quotes; keep its wording when a test or the README relies on it. Both templates name
#: the same values (a unit test checks it).
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- the ladder (stages.py) ------------------------------------------------------------
    "transition.refused": (
        "{key} is in {stage}; allowed: {allowed}",
        "{key} 当前处于{stage}；允许的操作：{allowed}",
    ),
    "transition.refused_move": (
        "cannot {wanted}: {key} is in {stage}; allowed: {allowed}",
        "无法{wanted}：{key} 当前处于{stage}；允许的操作：{allowed}",
    ),
    "wanted.kind": ("{kind}", "{kind}"),
    "wanted.admit_to": ("admit to {to}", "入驻{to}阶段"),
    "wanted.kind_to": ("{kind} to {to}", "{kind}至{to}"),
    "moves.none_left": ("nothing (the company has left the pipeline)", "无（该企业已退出管线）"),
    "moves.none": ("nothing", "无"),
    "move.exit": ("exit", "退出"),
    "move.advance": ("advance (to {to})", "晋级（至{to}）"),
    "move.admit": ("admit (to {to})", "入驻（至{to}）"),
    "conflict.moved": (
        "conflict: {key} is no longer in {seen}; it is in {actual} now; allowed: {allowed}",
        "冲突：{key} 已不在{seen}，现处于{actual}；允许的操作：{allowed}",
    ),
    "conflict.raced": (
        "conflict: {key} was changed by someone else at the same moment; nothing was written; "
        "look again and retry",
        "冲突：{key} 在同一时刻被他人修改；未写入任何内容；请刷新后重试",
    ),
    "conflict.import": (
        "conflict: {what} while {source} was being imported; nothing was imported; import the "
        "file again",
        "冲突：导入 {source} 期间{what}；未导入任何数据；请重新导入该文件",
    ),
    "conflict.someone_moved": (
        "someone admitted or moved a company of the file",
        "有人为文件中的企业办理了入驻或流转",
    ),
    "conflict.changed": ("{key} changed", "{key} 被修改"),
    "conflict.was_admitted": ("{key} was admitted", "{key} 被他人办理了入驻"),
    "company.unknown": ("no company with key {key!r}", "没有编号为 {key!q} 的企业"),
    "company.ambiguous": (
        "{key!r} matches several companies whose keys differ only in case: {matches}; give "
        "the key exactly as it is written",
        "{key!q} 与多家企业的编号只有大小写不同：{matches}；请按原样输入编号",
    ),
    "company.duplicate": (
        "company key {key!r} is already taken ({key} is in {where}); keys are unique",
        "企业编号 {key!q} 已被占用（{key} 当前处于{where}）；编号不能重复",
    ),
    "company.duplicate_case": (
        "company key {key!r} differs only in case from {other} ({other} is in {where}); keys "
        "are unique whatever their case",
        "企业编号 {key!q} 与已有编号 {other} 只有大小写不同（{other} 当前处于{where}）；"
        "编号不区分大小写，不能重复",
    ),
    "where.in_file_line": ("line {line} of this file", "本文件第 {line} 行"),
    "where.in_database": ("the database", "数据库中"),
    "where.pipeline": ("the pipeline", "管线中"),
    "where.admitted_in_file": (
        "{stage}, admitted earlier in this file",
        "{stage}，已在本文件前面入驻",
    ),
    "where.admitted_in_database": (
        "{stage}, admitted in the database",
        "{stage}，已在数据库中入驻",
    ),
    "stage.unknown": (
        "unknown stage {value!r}; allowed: {allowed}",
        "未知阶段 {value!q}；可选：{allowed}",
    ),
    "reason.missing": (
        "an exit needs a reason; allowed: {allowed}",
        "退出须注明原因；可选：{allowed}",
    ),
    "reason.unknown": (
        "unknown exit reason {value!r}; allowed: {allowed}",
        "未知退出原因 {value!q}；可选：{allowed}",
    ),
    # --- values (values.py) ----------------------------------------------------------------
    "uscc.length": (
        "USCC {value!r} has {n} characters; a USCC has 18",
        "统一社会信用代码 {value!q} 有 {n} 位；应为 18 位",
    ),
    "uscc.characters": (
        "USCC {value!r} contains {bad!r}; allowed: digits and capitals except I, O, Z, S, V",
        "统一社会信用代码 {value!q} 含有 {bad!q}；只允许数字和除 I、O、Z、S、V 以外的大写字母",
    ),
    "uscc.check": (
        "USCC {value!r} fails the GB 32100-2015 check: last character should be "
        "{expected!r}, not {got!r}",
        "统一社会信用代码 {value!q} 未通过 GB 32100-2015 校验：最后一位应为 {expected!q}，"
        "而不是 {got!q}",
    ),
    "date.empty": (
        "empty date; use ISO 8601, e.g. 2024-07-01 or 2024-07-01T09:30+08:00",
        "日期为空；请使用 ISO 8601 格式，如 2024-07-01 或 2024-07-01T09:30+08:00",
    ),
    "date.unreadable": (
        "cannot read {value!r} as a date; use ISO 8601, e.g. 2024-07-01 or 2024-07-01T09:30+08:00",
        "无法把 {value!q} 识别为日期；请使用 ISO 8601 格式，如 2024-07-01 或 "
        "2024-07-01T09:30+08:00",
    ),
    "date.outside_calendar": (
        "{value!r} lies outside the calendar in UTC (years 1 to 9999); use a date such as "
        "2024-07-01",
        "{value!q} 换算为 UTC 后超出日历范围（1 至 9999 年）；请使用如 2024-07-01 的日期",
    ),
    "time.before_earliest": (
        "{what} {moment} is before {earliest}; allowed: from {earliest} up to now ({now})",
        "{what} {moment} 早于 {earliest}；允许范围：{earliest} 至今（{now}）",
    ),
    "time.as_of_before": (
        "the as-of time {moment} is before {earliest}, when the earliest event may lie; "
        "allowed: from {earliest} on",
        "截至时间 {moment} 早于 {earliest}（最早的事件日期）；允许范围：{earliest} 起",
    ),
    "time.in_future": (
        "{what} {moment} lies in the future; allowed: up to now ({now})",
        "{what} {moment} 晚于当前时间；允许范围：不晚于现在（{now}）",
    ),
    "time.previous_in_future": (
        "its previous event is recorded at {previous}, in the future: the company row was "
        "changed outside the tracker; run `incubator audit verify`",
        "其上一事件的时间为 {previous}，晚于当前时间：企业记录在系统之外被修改过；"
        "请运行 `incubator audit verify`",
    ),
    "time.before_previous": (
        "effective time {at} is before the previous event at {previous}; allowed: from then "
        "up to now ({now})",
        "生效时间 {at} 早于上一事件（{previous}）；允许范围：上一事件之后至今（{now}）",
    ),
    "date.out_of_range": (
        "{what} {day} is {where}; allowed: {earliest} to {today}",
        "{what} {day} {where}；允许范围：{earliest} 至 {today}",
    ),
    "date.before": ("before {earliest}", "早于 {earliest}"),
    "date.after_today": ("after today", "晚于今天"),
    "cohort.invalid": (
        "cohort {year} is not a calendar year; allowed: 1 to 9999, e.g. 2024",
        "批次 {year} 不是有效年份；允许 1 至 9999，如 2024",
    ),
    "text.nul": (
        "{what} contains a NUL character, which cannot be stored",
        "{what}含有空字符（U+0000），无法保存",
    ),
    "text.not_utf8": (
        "{what} is not valid UTF-8 text: {value!r} holds a byte the terminal or file did not "
        "decode; check its encoding",
        "{what}不是有效的 UTF-8 文本：{value!q} 含有终端或文件未能解码的字节；请检查编码",
    ),
    "text.hidden_char": (
        "{what} {text!r} contains {char}, {why}; only visible characters are allowed",
        "{what} {text!q} 含有 {char}（{why}）；只允许可见字符",
    ),
    "text.blank": ("{what} cannot be blank", "{what}不能为空"),
    "text.too_long": (
        "{what} has {n} characters; at most {most} are allowed",
        "{what}有 {n} 个字符；最多允许 {most} 个",
    ),
    "char.not_utf8": (
        "a byte that is not UTF-8; check the encoding of the terminal or file",
        "非 UTF-8 字节，请检查终端或文件的编码",
    ),
    "char.line_break": ("a line break", "换行符"),
    "char.control": ("a control character", "控制字符"),
    "char.bidi": ("a bidirectional control", "双向文本控制符"),
    "char.invisible": ("an invisible character", "不可见字符"),
    "char.space": ("a space", "空格"),
    "char.lone_mark": ("a combining mark with no letter before it", "前面没有字母的组合符号"),
    "char.not_letter": ("not a letter or digit", "既不是字母也不是数字"),
    "char.fullwidth": (
        "a full-width character that looks like an ASCII one; type it half-width",
        "与半角字符外观相同的全角字符，请用半角输入",
    ),
    "key.blank": ("a company key cannot be blank; e.g. JM-0042", "企业编号不能为空，例如 JM-0042"),
    "key.too_long": (
        "company key {key!r} has {n} characters; at most {most} are allowed",
        "企业编号 {key!q} 有 {n} 个字符；最多允许 {most} 个",
    ),
    "key.bad_char": (
        "company key {key!r} is not allowed: it contains {char}, {why}; a key is made of "
        "letters, digits, -, _, . and /",
        "企业编号 {key!q} 不可用：含有 {char}（{why}）；编号只能由字母、数字和 -、_、.、/ 组成",
    ),
    "name.missing": ("a company needs a name", "企业名称不能为空"),
    "note.control": (
        "{what} contains {char}, a control character; a note may hold line breaks and tabs, "
        "but no other control characters",
        "{what}含有 {char}（控制字符）；备注可以包含换行和制表符，但不能包含其他控制字符",
    ),
    # what a value is, inside other messages
    "field.key": ("the company key", "企业编号"),
    "field.name": ("the name", "企业名称"),
    "field.note": ("the note", "备注"),
    "field.sector": ("the sector", "行业"),
    "field.site": ("the site", "站点"),
    "field.company": ("the company", "所属企业"),
    "field.actor": ("the actor's name", "操作人姓名"),
    "field.importer": ("the importing actor's name", "导入人姓名"),
    "field.user_name": ("the user name", "用户名"),
    "field.effective_time": ("effective time", "生效时间"),
    "field.date": ("the date", "日期"),
    "field.column": ("{column}", "{column} 列"),
    "field.filter.site": ("the site filter", "站点筛选条件"),
    "field.filter.sector": ("the sector filter", "行业筛选条件"),
    "field.filter.search": ("the search filter", "搜索条件"),
    "field.filter.company": ("the company filter", "企业筛选条件"),
    "field.filter.actor": ("the actor filter", "操作人筛选条件"),
    "list.more": ("… ({n} more)", "……（另有 {n} 个）"),
    # --- who may do what (access.py) -------------------------------------------------------
    "access.viewer": (
        "{name} is a viewer and cannot {what}; viewers only read",
        "{name} 是查看者，不能{what}；查看者只能查看",
    ),
    "access.other_site": (
        "{name} manages site {mine} and cannot {what} at site {site}",
        "{name} 负责站点 {mine}，不能在站点 {site} {what}",
    ),
    "access.admin_only": (
        "{name} is a {role} and cannot {what}; only admins can",
        "{name} 的角色是{role}，不能{what}；只有系统管理员可以",
    ),
    "access.company_figures": (
        "{name} is a company user and cannot {what}; company users only record their "
        "company's annual figures",
        "{name} 是企业用户，不能{what}；企业用户只能填报本企业的年度经营数据",
    ),
    "access.company_other": (
        "{name} is the company user of {mine} and cannot {what}",
        "{name} 是企业 {mine} 的企业用户，不能{what}",
    ),
    "access.company_only": (
        "{name} is the company user of {mine} and cannot {what}; company users see only "
        "their own company",
        "{name} 是企业 {mine} 的企业用户，不能{what}；企业用户只能查看本企业",
    ),
    "site.none": ("(none)", "（无）"),
    "action.admit": ("admit {key}", "办理 {key} 的入驻"),
    "action.move": ("{kind} {key}", "对 {key} 执行{kind}"),
    "action.change": ("change {key}", "修改 {key}"),
    "action.move_site": ("move {key} to site {site}", "将 {key} 迁至站点 {site}"),
    "action.manage_users": ("manage users", "管理用户"),
    "action.read_company": ("see {key}", "查看 {key}"),
    "action.list_companies": ("list the companies", "查看企业列表"),
    "action.read_metrics": ("see the metrics", "查看统计指标"),
    "action.read_audit": ("read the audit log", "查看审计日志"),
    "action.list_users": ("see the user accounts", "查看用户账号"),
    "action.make_role": ("make {name} a {role}", "将 {name} 设为{role}"),
    "action.disable_user": ("disable {name}", "停用 {name}"),
    "action.import": ("import event logs", "导入事件日志"),
    "action.change_setting": ("change the setting {setting}", "修改设置 {setting}"),
    # --- use cases (services.py) -----------------------------------------------------------
    "admit.refused": ("cannot admit {key}: {cause}", "无法办理 {key} 的入驻：{cause}"),
    "move.refused": (
        "cannot {kind} {key} (in {stage}): {cause}",
        "无法对 {key}（当前：{stage}）执行{kind}：{cause}",
    ),
    "profile.refused": ("cannot change {key}: {cause}", "无法修改 {key}：{cause}"),
    "profile.nothing": (
        "nothing to change; give --name, --sector, --site, --uscc or --founded",
        "没有要修改的内容；请给出 --name、--sector、--site、--uscc 或 --founded",
    ),
    "profile.unchanged": (
        "cannot change {key}: it has these values already; nothing to record",
        "无法修改 {key}：这些值与现有值相同，无需记录",
    ),
    "user.bad_name": (
        "user name {name!r} is not allowed; use 1–120 letters, digits and . _ @ + -",
        "用户名 {name!q} 不可用；请使用 1–120 个字母、数字或 . _ @ + -",
    ),
    "user.unknown_role": (
        "unknown role {role!r}; allowed: {allowed}",
        "未知角色 {role!q}；可选：{allowed}",
    ),
    "user.company_needed": (
        "a company user needs the key of their company (--company KEY)",
        "企业用户须用 --company 指定所属企业的编号",
    ),
    "user.company_not_company_role": (
        "only a company user is bound to a company; {company!r} was given for the role {role}",
        "只有企业用户才绑定企业；角色{role}不能指定企业 {company!q}",
    ),
    "user.company_site": (
        "a company user has no site (their company's site applies); {site!r} was given",
        "企业用户没有站点（以所属企业的站点为准）；不能指定站点 {site!q}",
    ),
    "user.exists": (
        "user {name!r} already exists; user names are unique",
        "用户 {name!q} 已存在；用户名不能重复",
    ),
    "password.not_utf8": (
        "the password is not valid UTF-8 text; check the terminal's encoding",
        "密码不是有效的 UTF-8 文本；请检查终端编码",
    ),
    "password.too_short": (
        "the password is too short ({n} characters); at least {least} are required",
        "密码太短（{n} 个字符）；至少需要 {least} 个",
    ),
    "site.unknown_none_yet": (
        "unknown site {site!r}: no site is registered yet; an admin adds a site first "
        "(incubator site add NAME), or leave the site empty",
        "未知站点 {site!q}：站点名录中还没有站点；请系统管理员先添加站点"
        "（`incubator site add NAME`），或将站点留空",
    ),
    "site.unknown": (
        "unknown site {site!r}; known sites: {known}; an admin adds a site first "
        "(incubator site add NAME)",
        "未知站点 {site!q}；已登记的站点：{known}；请系统管理员先添加站点"
        "（`incubator site add NAME`）",
    ),
    "site.exists": (
        "site {site!r} is registered already; change it with incubator site set",
        "站点 {site!q} 已登记；如需修改请用 `incubator site set`",
    ),
    "site.bad_kind": (
        "unknown site kind {kind!r}; allowed: {allowed}",
        "未知站点类型 {kind!q}；可选：{allowed}",
    ),
    "site.bad_level": (
        "unknown site level {level!r}; allowed: {allowed}",
        "未知站点级别 {level!q}；可选：{allowed}",
    ),
    "site.nothing": (
        "nothing to change; give --kind or --level",
        "没有要修改的内容；请给出 --kind 或 --level",
    ),
    "site.unchanged": (
        "site {site!r} is already so; nothing changed",
        "站点 {site!q} 已是如此；未作修改",
    ),
    "site.no_figures": (
        "no figures given; give --floor-area, --staff, --mentors or --incubation-fund",
        "没有给出数据；请给出 --floor-area、--staff、--mentors 或 --incubation-fund",
    ),
    "year.out_of_range": (
        "year {year} is out of range: from {earliest} to {latest} (next year)",
        "年份 {year} 超出范围：应在 {earliest} 至 {latest}（明年）之间",
    ),
    "action.manage_sites": ("change the site registry", "修改站点名录"),
    "action.set_target": ("set the city's targets", "设定城市目标"),
    "field.target": ("the target", "目标值"),
    "target.bad_metric": (
        "unknown metric {metric!r}; allowed: {allowed}",
        "未知指标 {metric!q}；可选：{allowed}",
    ),
    "check.missing_figures": (
        "{key}: no annual figures for {year} ({field})",
        "{key}：缺少 {year} 年度数据（{field}）",
    ),
    "check.missing_figure": (
        "{key}: the figures for {year} do not give {field}",
        "{key}：{year} 年度数据缺少 {field}",
    ),
    "check.phd_above_employees": (
        "{key}: {field} {phd} is above employees {n}",
        "{key}：{field} {phd} 大于从业人员数 {n}",
    ),
    "check.rd_above_revenue": (
        "{key}: {field} {rd} is above revenue {revenue}",
        "{key}：{field} {rd} 大于营业收入 {revenue}",
    ),
    "check.graduated_without_gate": (
        "{key}: graduated on {at} without a met gate or an override",
        "{key}：于 {at} 毕业，但既未满足毕业门槛，也没有强制通过理由",
    ),
    "check.overstayed": (
        "{key}: {field} of {days} days in the incubator is beyond its limit of {limit} days",
        "{key}：{field} {days} 天，超过 {limit} 天的在孵期限",
    ),
    "field.site_name": ("the site's name", "站点名称"),
    "field.floor_area": ("the floor area", "场地面积"),
    "field.staff": ("the staff", "管理人员数"),
    "field.mentors": ("the mentors", "创业导师数"),
    "field.incubation_fund": ("the incubation fund", "孵化基金"),
    "auth.failed": ("wrong user name or password", "用户名或密码错误"),
    "auth.locked": (
        "too many failed sign-ins for {name!r}; the name is locked until {until} (an "
        "administrator can unlock it: incubator user unlock NAME)",
        "{name!q} 登录失败次数过多；该用户名已锁定至 {until}（系统管理员可以解锁："
        "`incubator user unlock NAME`）",
    ),
    "auth.disabled": (
        "the account {name!r} is disabled; an administrator can enable it",
        "账号 {name!q} 已停用；系统管理员可以重新启用",
    ),
    "auth.not_signed_in": ("not signed in", "尚未登录"),
    "auth.session_ended": ("the session has ended; sign in again", "登录已失效，请重新登录"),
    "user.unknown": (
        "no user named {name!r}; see `incubator user list`",
        "没有名为 {name!q} 的用户；请查看 `incubator user list`",
    ),
    "user.last_admin": (
        "cannot {what}: {name} is the last enabled admin; make another user an admin first",
        "无法{what}：{name} 是最后一位启用中的系统管理员；请先让另一位用户成为系统管理员",
    ),
    "user.nothing_to_change": (
        "nothing to change; give a role or a site (empty: all sites)",
        "没有要修改的内容；请给出角色或站点（留空表示全部站点）",
    ),
    "user.disabled_already": (
        "{name} is disabled already; allowed: enable",
        "{name} 已停用；可执行：启用",
    ),
    "user.enabled_already": (
        "{name} is enabled already; allowed: disable",
        "{name} 已启用；可执行：停用",
    ),
    "password.nul": (
        "the password contains a NUL character; use printable characters",
        "密码含有空字符（U+0000）；请使用可打印字符",
    ),
    "password.too_long": (
        "the password is too long ({n} characters); at most {most} are allowed",
        "密码太长（{n} 个字符）；最多允许 {most} 个",
    ),
    "password.blank": (
        "the password is only blanks; use at least {least} characters of text",
        "密码只有空格；请至少使用 {least} 个非空白字符",
    ),
    "password.is_name": (
        "the password is the user name; choose something else",
        "密码与用户名相同；请换一个",
    ),
    "password.wrong_current": (
        "the current password is wrong; the password was not changed",
        "当前密码错误；密码未修改",
    ),
    "password.unchanged": (
        "the new password is the current one; choose another",
        "新密码与当前密码相同；请换一个",
    ),
    # --- metrics (metrics.py) --------------------------------------------------------------
    "period.unknown": (
        "unknown period {value!r}; allowed: {allowed}",
        "未知统计周期 {value!q}；可选：{allowed}",
    ),
    "limit.invalid": (
        "limit for {what} is {months}; allowed: a number of months >= 0",
        "{what}的期限为 {months}；应为不小于 0 的月数",
    ),
    "limit.sector_stage": ("{sector} in {stage}", "{sector}在{stage}阶段"),
    # --- import (eventlog.py) --------------------------------------------------------------
    "import.line": ("line {line}: {problem}", "第 {line} 行：{problem}"),
    "import.rejected": (
        "{source} rejected, nothing imported: {n} bad rows (first: {first})",
        "{source} 被拒绝，未导入任何数据：{n} 行有误（第一处：{first}）",
    ),
    "import.rejected_one": (
        "{source} rejected, nothing imported: {n} bad row (first: {first})",
        "{source} 被拒绝，未导入任何数据：{n} 行有误（{first}）",
    ),
    "import.the_file": ("the file", "该文件"),
    "import.empty_no_header": (
        "the file is empty; expected a header row",
        "文件为空；应有一行表头",
    ),
    "import.empty": ("the file is empty", "文件为空"),
    "import.no_rows": ("the file has a header but no rows", "文件只有表头，没有数据行"),
    "import.not_utf8": (
        "not UTF-8 (byte {byte} at offset {offset}); save the file as UTF-8 CSV",
        "不是 UTF-8 编码（偏移 {offset} 处的字节 {byte}）；请将文件另存为 UTF-8 编码的 CSV",
    ),
    "import.nul": (
        "contains a NUL character, which cannot be stored; is this really a CSV file?",
        "含有空字符（U+0000），无法保存；请确认这是 CSV 文件",
    ),
    "import.bad_header": ("not a readable CSV header: {detail}", "无法读取 CSV 表头：{detail}"),
    "import.unreadable": (
        "not readable as CSV ({detail}); nothing after this line was read",
        "无法按 CSV 读取（{detail}）；此行之后的内容均未读取",
    ),
    "csv.unclosed_quote": ("a quoted field does not end", "引号内的字段没有结束引号"),
    "csv.stray_quote": ("a quote inside a field", "字段中间出现了引号"),
    "csv.field_too_large": ("a field is too large", "字段过长"),
    "csv.malformed": ("the quotes or separators do not match", "引号或分隔符不匹配"),
    "import.field_count": (
        "{n} fields where the header has {width}",
        "有 {n} 个字段，而表头有 {width} 列",
    ),
    "import.known_columns": (
        "known columns: {columns} (an export's {ignored} are ignored)",
        "可用的列：{columns}（导出文件中的 {ignored} 列会被忽略）",
    ),
    "import.column_unnamed": (
        "column {number} has no name; {known}",
        "第 {number} 列没有列名；{known}",
    ),
    "import.column_unknown": (
        "unknown column {name!r} (column {number}); {known}",
        "未知列 {name!q}（第 {number} 列）；{known}",
    ),
    "import.column_twice": (
        "duplicate column {name!r} (columns {first} and {number}); a column may appear only once",
        "重复的列 {name!q}（第 {first} 列和第 {number} 列）；每列只能出现一次",
    ),
    "import.column_missing": (
        "missing column {missing}; expected columns: {expected}",
        "缺少 {missing} 列；应有的列：{expected}",
    ),
    "import.columns_missing": (
        "missing columns {missing}; expected columns: {expected}",
        "缺少 {missing} 列；应有的列：{expected}",
    ),
    "import.unknown_event": (
        "unknown event {value!r}; allowed: {allowed}",
        "未知事件 {value!q}；可选：{allowed}",
    ),
    "import.before_earliest": (
        "effective_at {at} is before {earliest}; allowed: from {earliest} up to now",
        "effective_at 列的时间 {at} 早于 {earliest}；允许范围：{earliest} 至今",
    ),
    "import.from_exited": (
        "from_stage cannot be exited: nothing follows an exit",
        "from_stage 列不能是“退出”：退出之后不能再有事件",
    ),
    "import.exit_to": (
        "an exit goes to exited, not {value!r}",
        "退出事件的 to_stage 只能是“退出”，不能是 {value!q}",
    ),
    "import.to_required": ("to_stage is required on {kind}", "{kind}事件必须填写 to_stage 列"),
    "import.reason_not_exit": (
        "a reason is only allowed on exit, not on {kind}",
        "只有退出事件可以填写原因，{kind}事件不能填写",
    ),
    "import.name_required": (
        "company_name is required on admit ({key})",
        "入驻事件必须填写 company_name 列（{key}）",
    ),
    "import.admit_from": (
        "an admit has no from_stage; leave it empty",
        "入驻事件没有 from_stage，请将该列留空",
    ),
    "import.in_future": (
        "effective_at {at} lies in the future",
        "effective_at 列的时间 {at} 晚于当前时间",
    ),
    "import.before_previous": (
        "effective_at {at} is before {key}'s previous event at {last}",
        "effective_at 列的时间 {at} 早于 {key} 的上一事件（{last}）",
    ),
    "import.not_admitted": (
        "{key} is not in the database and has no earlier admit row in this file",
        "{key} 不在数据库中，本文件中也没有更早的入驻行",
    ),
    "import.from_mismatch": (
        "from_stage is {from_stage} but {key} is in {stage} at that point",
        "from_stage 为{from_stage}，但此时 {key} 处于{stage}",
    ),
    "import.other_site": (
        "{name} cannot write companies of site {site} ({key})",
        "{name} 不能写入站点 {site} 的企业（{key}）",
    ),
    "file.unreadable": ("cannot read {path}: {reason}", "无法读取 {path}：{reason}"),
    # --- files the command line writes (outfiles.py) ---------------------------------------
    "file.is_database": (
        "refusing to write {path}: it is the database (or one of its -wal, -shm, -journal "
        "files); choose another file name",
        "拒绝写入 {path}：它是数据库文件（或其 -wal、-shm、-journal 文件）；请换一个文件名",
    ),
    "file.is_directory": (
        "cannot write {path}: it is a directory; give a file name",
        "无法写入 {path}：这是一个目录；请给出文件名",
    ),
    "file.no_directory": (
        "cannot write {path}: the directory {directory} does not exist",
        "无法写入 {path}：目录 {directory} 不存在",
    ),
    "file.exists": (
        "{path} exists already; add --force to replace it",
        "{path} 已存在；加 --force 可替换",
    ),
    "file.unwritable": ("cannot write {path}: {reason}", "无法写入 {path}：{reason}"),
    # --- the database (store.py) -----------------------------------------------------------
    "store.key_taken": ("{detail}", "{detail}"),
    "store.url_not_utf8": (
        "the database URL {url!r} is not valid UTF-8 text; check the terminal's encoding",
        "数据库地址 {url!q} 不是有效的 UTF-8 文本；请检查终端编码",
    ),
    "store.in_memory": (
        "an in-memory SQLite database cannot be shared; give a file path",
        "内存中的 SQLite 数据库无法共享；请给出文件路径",
    ),
    "store.unsupported_url": (
        "unsupported database URL {url!r}; use sqlite:///path.db or "
        "postgresql+psycopg://user@host/db",
        "不支持的数据库地址 {url!q}；请使用 sqlite:///path.db 或 postgresql+psycopg://user@host/db",
    ),
    "store.cannot_open": ("cannot open {db}: {detail}", "无法打开 {db}：{detail}"),
    "store.no_schema": (
        "{db} has no tracker schema, the tracker needs {head}; run `incubator init`",
        "{db} 中没有本系统的数据表（需要 {head} 版）；请运行 `incubator init`",
    ),
    "store.other_schema": (
        "{db} is at schema {version}, the tracker needs {head}; run `incubator init`",
        "{db} 的数据表为 {version} 版，本系统需要 {head} 版；请运行 `incubator init`",
    ),
    "store.no_directory": (
        "cannot create {db}: the directory {directory} does not exist",
        "无法创建 {db}：目录 {directory} 不存在",
    ),
    "store.setup_failed": (
        "cannot set up {db}: {detail}; nothing was changed",
        "无法初始化 {db}：{detail}；未做任何修改",
    ),
    "store.write_failed": (
        "cannot write to {db}: {detail}; nothing was written",
        "无法写入 {db}：{detail}；未写入任何内容",
    ),
    "store.read_failed": ("cannot read {db}: {detail}", "无法读取 {db}：{detail}"),
    "store.upgrade_key_mismatch": (
        "cannot upgrade: the audit hash of event id {id} does not match with {given}; set "
        "INCUBATOR_AUDIT_KEY to the key this database was written with and run `incubator "
        "init` again (if the event was tampered with, `incubator audit verify` of the previous "
        "version names it)",
        "无法升级：事件（内部编号 {id}）的审计哈希在{given}时不符；请将 INCUBATOR_AUDIT_KEY 设为"
        "写入该数据库时使用的密钥，再运行 `incubator init`（如果事件被篡改过，旧版本的 "
        "`incubator audit verify` 会指出它）",
    ),
    "upgrade.given_key": ("the INCUBATOR_AUDIT_KEY given", "使用所给的 INCUBATOR_AUDIT_KEY"),
    "upgrade.no_key": ("no key", "不使用密钥"),
    # --- evidence and gates (evidence.py, facts.py) -----------------------------------------
    "day.empty": (
        "{what} is empty; give a date such as 2024-07-01",
        "{what}为空；请填写如 2024-07-01 的日期",
    ),
    "day.unreadable": (
        "cannot read {value!r} as {what}; give a date such as 2024-07-01",
        "无法把 {value!q} 识别为{what}；请填写如 2024-07-01 的日期",
    ),
    "number.not_whole": (
        "{what} {value!r} is not a whole number; give digits, e.g. 1200000 or 1,200,000",
        "{what} {value!q} 不是整数；请填写数字，如 1200000 或 1,200,000",
    ),
    "number.too_large": ("{what} {value} is too large", "{what} {value} 过大"),
    "number.negative": ("{what} cannot be negative ({value})", "{what}不能为负数（{value}）"),
    "number.not_positive": (
        "{what} must be above zero ({value})",
        "{what}必须大于零（{value}）",
    ),
    "override.too_short": (
        "an override needs a reason of at least {least} characters ({n} given)",
        "强制通过须填写至少 {least} 个字符的理由（当前 {n} 个）",
    ),
    "qualification.unknown_kind": (
        "unknown qualification kind {value!r}; allowed: {allowed}",
        "未知资质类型 {value!q}；可选：{allowed}",
    ),
    "qualification.unknown_level": (
        "unknown level {value!r}; allowed: {allowed}",
        "未知级别 {value!q}；可选：{allowed}",
    ),
    "qualification.expires_first": (
        "the expiry date {expires} is not after the grant date {granted}; a qualification "
        "expires after it is granted",
        "到期日期 {expires} 不晚于认定日期 {granted}；到期日期应晚于认定日期",
    ),
    "milestone.unknown_kind": (
        "unknown milestone {value!r}; allowed: {allowed}",
        "未知里程碑 {value!q}；可选：{allowed}",
    ),
    "revocation.no_grant": (
        "{key} has no {kind} qualification to revoke",
        "{key} 没有可撤销的{kind}资质",
    ),
    "revocation.all_revoked": (
        "every {kind} qualification of {key} is revoked already; nothing to revoke",
        "{key} 的{kind}资质均已撤销；没有可撤销的资质",
    ),
    "revocation.before_grant": (
        "the revocation date {day} is before the {kind} grant of {granted}; allowed: from "
        "{granted}",
        "撤销日期 {day} 早于该{kind}资质的认定日期 {granted}；应不早于 {granted}",
    ),
    "fact.before_founding": (
        "{what} {day} is before the company was founded ({founded})",
        "{what} {day} 早于企业成立日期（{founded}）",
    ),
    "figures.year_too_early": (
        "year {year} is before {earliest}",
        "年份 {year} 早于 {earliest} 年",
    ),
    "figures.future_year": (
        "figures for {year} lie in the future; allowed: years up to {current}",
        "{year} 年尚未到来；只能填写 {current} 年及以前的年度数据",
    ),
    "figures.unknown_field": (
        "unknown figure {name!r}; allowed: {allowed}",
        "未知数据项 {name!q}；可选：{allowed}",
    ),
    "figures.nothing": (
        "no figures given for {year}; give at least one, e.g. --revenue",
        "没有填写 {year} 年的任何数据；请至少填写一项，如 --revenue",
    ),
    "figures.above_employees": (
        "{what} ({n}) cannot exceed employees ({employees}) in the same record",
        "{what}（{n}）不能多于同一记录中的从业人员（{employees}）",
    ),
    "field.evidence": ("the evidence reference", "证明材料"),
    "field.override": ("the override reason", "强制通过理由"),
    "field.founded_on": ("the founding date", "成立日期"),
    "field.granted_on": ("the grant date", "认定日期"),
    "field.expires_on": ("the expiry date", "到期日期"),
    "field.revoked_on": ("the revocation date", "撤销日期"),
    "field.revoke_reason": ("the revocation reason", "撤销原因"),
    "field.certificate": ("the certificate number", "证书编号"),
    "field.financed_on": ("the financing date", "融资日期"),
    "field.amount": ("the amount", "金额"),
    "field.round": ("the round", "轮次"),
    "field.investor": ("the investor", "投资方"),
    "field.milestone_on": ("the milestone date", "里程碑日期"),
    "field.year": ("the year", "年份"),
    "field.figure": ("{name}", "{name}"),
    "field.policy": ("the policy file", "门槛规则文件"),
    "criterion.registered": ("registered (has a USCC)", "已登记（有统一社会信用代码）"),
    "criterion.founded_within_months": (
        "founded no more than {months} months before {day}",
        "成立不超过 {months} 个月（截至 {day}）",
    ),
    "criterion.qualification": (
        "{kind} certificate valid on {day}",
        "{kind}资质在 {day} 有效",
    ),
    "criterion.financing_over": ("financing > {amount}", "融资总额 > {amount}"),
    "criterion.revenue_two_years_over": (
        "revenue of two consecutive completed years > {amount}",
        "连续两个完整年度营业收入合计 > {amount}",
    ),
    "criterion.revenue_last_year_at_least": (
        "revenue of {year} >= {amount}",
        "{year}营业收入 >= {amount}",
    ),
    "criterion.milestone": ("{kinds} by {day}", "截至 {day} 已{kinds}"),
    "criterion.the_move": ("the move's date", "流转当日"),
    "criterion.last_year": ("the last completed year", "上一完整年度"),
    "value.none": ("none", "无"),
    "value.no_uscc": ("no USCC", "无统一社会信用代码"),
    "value.uscc": ("{uscc}", "{uscc}"),
    "value.founding_unknown": ("founding date unknown", "成立日期未知"),
    "value.founded": ("founded {day}, {months} months before", "成立于 {day}，已 {months} 个月"),
    "value.revoked": ("revoked {day}", "已于 {day} 撤销"),
    "value.valid_until": ("valid until {day}", "有效期至 {day}"),
    "value.expired": ("expired {day}", "已于 {day} 到期"),
    "value.amount": ("{amount}", "{amount}"),
    "value.no_figures": ("no figures", "无年度数据"),
    "value.pair": ("{amount} ({first}–{last})", "{amount}（{first}—{last} 年）"),
    "value.milestone": ("{kind} {day}", "{day} {kind}"),
    "gate.criterion": ("{criterion} — {value}", "{criterion}——{value}"),
    "gate.refused": (
        "{key} does not meet the gate into {stage} ({mode}): {unmet}; allowed: record the "
        "missing facts, or override with a reason of at least {least} characters",
        "{key} 不满足进入{stage}的门槛（{mode}）：{unmet}；可补录所缺的材料，或填写不少于 "
        "{least} 个字符的理由强制通过",
    ),
    "policy.invalid": (
        "{source} is not a valid gate policy: {where}: {problem}",
        "{source} 不是有效的门槛规则：{where}：{problem}",
    ),
    "policy.line_entry": ("line {line} ({entry})", "第 {line} 行（{entry}）"),
    "policy.line": ("line {line}", "第 {line} 行"),
    "policy.entry_document": ("the document", "文档"),
    "policy.entry_gate": ("gate {gate}", "第 {gate} 道门槛"),
    "policy.entry_criterion": ("gate {gate}, criterion {n}", "第 {gate} 道门槛的第 {n} 项条件"),
    "policy.syntax": ("{detail}", "语法错误：{detail}"),
    "policy.not_table": ("expected a table, not {got}", "应为表，而不是 {got}"),
    "policy.unknown_key": (
        "unknown key {key!r}; allowed: {allowed}",
        "未知的键 {key!q}；可用：{allowed}",
    ),
    "policy.missing_key": ("{key!r} is missing", "缺少 {key!q}"),
    "policy.not_list": ("{key!r} must be a list, not {got}", "{key!q} 应为列表，而不是 {got}"),
    "policy.duplicate_stage": (
        "a second gate into {stage}; one gate per stage",
        "进入{stage}的门槛重复；每个阶段只能有一道门槛",
    ),
    "policy.unknown_stage": (
        "unknown stage {value!r}; allowed: {allowed}",
        "未知阶段 {value!q}；可选：{allowed}",
    ),
    "policy.unknown_mode": (
        "unknown mode {value!r}; allowed: {allowed}",
        "未知组合方式 {value!q}；可选：{allowed}",
    ),
    "policy.no_criteria": ("a gate needs at least one criterion", "门槛至少需要一项条件"),
    "policy.unknown_criterion": (
        "unknown criterion {value!r}; allowed: {allowed}",
        "未知条件 {value!q}；可选：{allowed}",
    ),
    "policy.missing_param": (
        "criterion {criterion} needs {key!r}",
        "条件 {criterion} 缺少参数 {key!q}",
    ),
    "policy.not_whole": (
        "{key!r} must be a whole number >= 0, not {got}",
        "{key!q} 应为不小于 0 的整数，而不是 {got}",
    ),
    "policy.unknown_kind": (
        "unknown qualification kind {value}; allowed: {allowed}",
        "未知资质类型 {value}；可选：{allowed}",
    ),
    "policy.not_kinds": (
        "{key!r} must be a non-empty list, not {got}",
        "{key!q} 应为非空列表，而不是 {got}",
    ),
    "policy.unknown_milestone": (
        "unknown milestone {value}; allowed: {allowed}",
        "未知里程碑 {value}；可选：{allowed}",
    ),
    "facts.unreadable": (
        "the records of {key} cannot be read; run `incubator audit verify`",
        "无法读取 {key} 的企业记录；请运行 `incubator audit verify`",
    ),
    "fact.refused": ("cannot record {what} for {key}: {cause}", "无法为 {key} 记录{what}：{cause}"),
    "action.record_fact": ("record facts of {key}", "记录 {key} 的企业材料"),
    "action.import_facts": ("import facts", "导入企业材料"),
    # --- the facts CSV (factlog.py) ---------------------------------------------------------
    "factimport.unknown_fact": (
        "unknown fact {value!r}; allowed: {allowed}",
        "未知材料类型 {value!q}；可选：{allowed}",
    ),
    "factimport.duplicate": (
        "{key} has the same {fact} already ({where}); importing it again would record it twice",
        "{key} 已有相同的{fact}（{where}）；再次导入会重复记录",
    ),
    "factimport.record": ("record #{seq}", "第 {seq} 条记录"),
    "factimport.not_applicable": (
        "column {column} does not apply to a {fact} row; leave it empty (a {fact} row uses {uses})",
        "{fact}行不使用 {column} 列，请留空（{fact}行使用：{uses}）",
    ),
    "action.set_policy": ("change the gate policy", "修改门槛规则"),
    # --- the audit (auditing.py) -----------------------------------------------------------
    "auditkey.refused": ("{problem}", "{problem}"),
    "auditkey.missing": (
        "this database's audit chain is keyed (INCUBATOR_AUDIT_KEY); set the same key to {doing}",
        "该数据库的审计链使用了密钥（INCUBATOR_AUDIT_KEY）；请设置相同的密钥后再{doing}",
    ),
    "auditkey.other": (
        "the INCUBATOR_AUDIT_KEY given does not match this database's audit key (fingerprint "
        "{fingerprint}…); set the key it was written with to {doing}",
        "所给的 INCUBATOR_AUDIT_KEY 与该数据库的审计密钥不符（指纹 {fingerprint}…）；"
        "请设置写入时使用的密钥后再{doing}",
    ),
    "auditkey.unexpected": (
        "this database's audit chain has no key, but INCUBATOR_AUDIT_KEY is set; unset it to "
        "{doing} (if this database was written with a key, its key record was changed outside "
        "the tracker)",
        "该数据库的审计链没有密钥，但设置了 INCUBATOR_AUDIT_KEY；请取消设置后再{doing}"
        "（如果该数据库写入时使用了密钥，说明其密钥记录在系统之外被修改过）",
    ),
    "auditkey.doing.write": ("write", "写入"),
    "auditkey.doing.verify": ("verify", "校验"),
    "auditkey.doing.sign": ("sign a checkpoint", "签署检查点"),
    "audit.cannot_verify": ("cannot verify: {problem}", "无法校验：{problem}"),
    "audit.ok": (
        "OK: {events} events in {companies} companies verified (with {facts} company records, "
        "the company rows, the spells and the evidence tables)",
        "通过：已校验 {companies} 家企业的 {events} 条事件（以及 {facts} 条企业记录、企业表、"
        "阶段停留表和企业材料表）",
    ),
    "audit.ok_checkpoint": (
        "OK: {events} events in {companies} companies verified (with {facts} company records, "
        "the company rows, the spells and the evidence tables); {checkpoint}",
        "通过：已校验 {companies} 家企业的 {events} 条事件（以及 {facts} 条企业记录、企业表、"
        "阶段停留表和企业材料表）；{checkpoint}",
    ),
    "audit.checkpoint_holds": (
        "the checkpoint of {created} ({companies} companies) holds",
        "与 {created} 的检查点（{companies} 家企业）一致",
    ),
    "audit.failed": ("FAILED: {where}: {problem}", "未通过：{where}：{problem}"),
    "audit.where": ("{subject}", "{subject}"),
    "audit.where_event": ("{subject} event #{seq}", "{subject} 第 {seq} 条事件"),
    "audit.the_database": ("the database", "数据库"),
    "audit.company_id": ("(company id {id})", "（企业内部编号 {id}）"),
    "audit.rows.events": ("events in the log", "条日志事件"),
    "audit.rows.records": ("company records", "条企业记录"),
    "audit.rows.spells": ("spells", "条阶段停留记录"),
    "audit.rows.qualifications": ("qualification rows", "条资质记录"),
    "audit.rows.financing": ("financing rows", "条融资记录"),
    "audit.rows.milestones": ("milestone rows", "条里程碑记录"),
    "audit.rows.figures": ("annual figures rows", "条年度数据记录"),
    "audit.rows.company": ("the company row", "企业表中的该企业"),
    "audit.unreadable": (
        "a stored value cannot be read ({what}): {detail}",
        "有存储值无法读取（{what}）：{detail}",
    ),
    "audit.orphans": (
        "{n} {what} belong to no recorded company (company id {id} is not in the company table)",
        "{n} {what}不属于任何已登记的企业（企业内部编号 {id} 不在企业表中）",
    ),
    "audit.checkpoint_replaced": (
        "is in the checkpoint of {created} but missing from the database (its company id {id} "
        "now holds {key})",
        "在 {created} 的检查点中，但数据库中已没有（其内部编号 {id} 现在属于 {key}）",
    ),
    "audit.checkpoint_missing": (
        "is in the checkpoint of {created} (with {events} events) but missing from the "
        "database (deleted outside the tracker)",
        "在 {created} 的检查点中（有 {events} 条事件），但数据库中已没有（在系统之外被删除）",
    ),
    "audit.event_chain": (
        "event id {id} breaks the chain (expected event #{expected} after the previous hash); "
        "an event was removed or reordered",
        "事件（内部编号 {id}）使哈希链断开（上一哈希之后应为第 {expected} 条事件）；"
        "有事件被删除或调换了顺序",
    ),
    "audit.event_hash": (
        "event id {id} ({kind} at {at}) does not match its hash: its recorded fields were changed",
        "事件（内部编号 {id}，{at} 的{kind}）与其哈希不符：其记录的字段被修改过",
    ),
    "audit.event_move": (
        "event id {id} ({kind} {from_stage} → {to_stage}) is not a move the ladder allows from "
        "{stage}",
        "事件（内部编号 {id}，{kind} {from_stage} → {to_stage}）不是从{stage}允许的流转",
    ),
    "audit.no_events": (
        "the company records {n} events but the log has none",
        "企业记录有 {n} 条事件，但日志中没有",
    ),
    "audit.fewer_events": (
        "has {n} events, fewer than the {anchored} in the checkpoint of {created} (events "
        "were removed outside the tracker)",
        "只有 {n} 条事件，少于 {created} 检查点中的 {anchored} 条（有事件在系统之外被删除）",
    ),
    "audit.event_rewritten": (
        "its event #{n} is not the one in the checkpoint of {created} (its history was "
        "rewritten outside the tracker)",
        "其第 {n} 条事件与 {created} 检查点中的不同（其历史在系统之外被改写）",
    ),
    "audit.event_head": (
        "chain head does not match: the company records {recorded} events ending in "
        "{recorded_head}…, the log has {n} ending in {head}… (an event was deleted or added "
        "outside the tracker)",
        "链头不符：企业记录有 {recorded} 条事件，末尾哈希为 {recorded_head}…；日志中有 {n} 条，"
        "末尾哈希为 {head}…（有事件在系统之外被删除或添加）",
    ),
    "audit.record": (
        "record #{seq} (id {id}, {kind})",
        "第 {seq} 条企业记录（内部编号 {id}，{kind}）",
    ),
    "fact.profile": ("profile", "企业信息"),
    "fact.founded": ("founding date", "成立日期"),
    "fact.qualification": ("qualification", "资质认定"),
    "fact.revocation": ("revocation", "资质撤销"),
    "fact.financing": ("financing round", "融资"),
    "fact.milestone": ("milestone", "里程碑"),
    "fact.figures": ("annual figures", "年度数据"),
    "audit.fact_invalid": ("{what} is not a valid record of its kind", "{what}的内容不符合其类型"),
    "audit.event_gate": (
        "event id {id} ({kind} at {at}) records a gate outcome that does not fit the move",
        "事件（内部编号 {id}，{at} 的{kind}）记录的门槛结果与该流转不符",
    ),
    "audit.derived_count": (
        "the {table} table has {n} rows for the company, its records give {expected} (a row "
        "was {change} outside the tracker)",
        "{table}表中该企业有 {n} 行，其记录给出 {expected} 行（有行在系统之外被{change}）",
    ),
    "audit.derived_field": (
        "the {table} table's {row} records {name} {got}, but its records give {expected} (the "
        "table was changed outside the tracker)",
        "{table}表中{row}记录的 {name} 为 {got}，但其记录给出的是 {expected}（该表在系统之外被"
        "修改过）",
    ),
    "audit.table.qualification": ("qualification", "资质"),
    "audit.table.financing_round": ("financing_round", "融资"),
    "audit.table.milestone": ("milestone", "里程碑"),
    "audit.table.annual_figures": ("annual_figures", "年度数据"),
    "audit.row_record": ("row of record #{seq}", "第 {seq} 条记录对应的行"),
    "audit.row_year": ("row for {year}", "{year} 年的行"),
    "audit.record_chain": (
        "{what} breaks the record chain (expected record #{expected} after the previous "
        "hash); a record was removed or reordered",
        "{what}使记录链断开（上一哈希之后应为第 {expected} 条记录）；有记录被删除或调换了顺序",
    ),
    "audit.record_hash": (
        "{what} does not match its hash: its fields were changed",
        "{what}与其哈希不符：其字段被修改过",
    ),
    "audit.record_kind": (
        "{what} is of a kind this version cannot check",
        "{what}的类型本版本无法校验",
    ),
    "audit.record_invalid": (
        "{what} is not a valid profile record",
        "{what}不是有效的企业信息记录",
    ),
    "audit.fewer_records": (
        "has {n} company records, fewer than the {anchored} in the checkpoint of {created} "
        "(records were removed outside the tracker)",
        "只有 {n} 条企业记录，少于 {created} 检查点中的 {anchored} 条（有记录在系统之外被删除）",
    ),
    "audit.record_rewritten": (
        "its company record #{n} is not the one in the checkpoint of {created} (its records "
        "were rewritten outside the tracker)",
        "其第 {n} 条企业记录与 {created} 检查点中的不同（其记录在系统之外被改写）",
    ),
    "audit.record_head": (
        "record chain head does not match: the company records {recorded} records ending in "
        "{recorded_head}…, the log has {n} ending in {head}… (a record was deleted or added "
        "outside the tracker)",
        "记录链头不符：企业记录有 {recorded} 条记录，末尾哈希为 {recorded_head}…；日志中有 {n} 条，"
        "末尾哈希为 {head}…（有记录在系统之外被删除或添加）",
    ),
    "audit.no_profile": (
        "the company has no profile record (name, sector, site, USCC)",
        "该企业没有企业信息记录（名称、行业、站点、统一社会信用代码）",
    ),
    "audit.row_stage": (
        "the company is recorded in {stage}, but its last event moved it to {moved} (the "
        "company row was changed outside the tracker)",
        "企业表记录其处于{stage}，但其最后一条事件将其移至{moved}（企业表在系统之外被修改过）",
    ),
    "audit.row_field": (
        "the company row records {name} {stored}, but {source} {expected} (the company row was "
        "changed outside the tracker)",
        "企业表记录的{name}为 {stored}，但{source} {expected}（企业表在系统之外被修改过）",
    ),
    "audit.column.admitted_at": ("admitted_at", "入驻时间"),
    "audit.column.entered_stage_at": ("entered_stage_at", "进入当前阶段的时间"),
    "audit.column.last_event_at": ("last_event_at", "最后事件时间"),
    "audit.column.cohort": ("cohort", "批次"),
    "audit.column.name": ("name", "名称"),
    "audit.column.sector": ("sector", "行业"),
    "audit.column.site": ("site", "站点"),
    "audit.column.uscc": ("uscc", "统一社会信用代码"),
    "audit.column.founded_on": ("founded_on", "成立日期"),
    "audit.source.admit": ("its admit event gives", "其入驻事件给出的是"),
    "audit.source.last": ("its last event gives", "其最后一条事件给出的是"),
    "audit.source.year": ("the year of its admit event is", "其入驻事件的年份是"),
    "audit.source.profile": ("its profile records give", "其企业信息记录给出的是"),
    "audit.source.founding": ("its founding records give", "其成立日期记录给出的是"),
    "audit.none": ("(none)", "（无）"),
    "audit.open": ("(open)", "（未结束）"),
    "audit.quoted": ("{text!r}", "{text!q}"),
    "audit.deleted": ("deleted", "删除"),
    "audit.added": ("added", "添加"),
    "audit.spell_count": (
        "the spell table has {n} spells, its events give {expected} (a spell was {change} "
        "outside the tracker)",
        "阶段停留表有 {n} 条记录，其事件给出 {expected} 条（有记录在系统之外被{change}）",
    ),
    "audit.spell_field": (
        "spell {number} ({stage} from {start}) records {name} {got}, but its events give "
        "{expected} (the spell table was changed outside the tracker)",
        "第 {number} 段停留（{stage}，自 {start} 起）记录的 {name} 为 {got}，但其事件给出的是 "
        "{expected}（阶段停留表在系统之外被修改过）",
    ),
    "audit.no_key_mode": (
        "the database has {n} events but no record of its audit key mode (the audit_key "
        "setting was removed outside the tracker)",
        "数据库中有 {n} 条事件，但没有审计密钥模式的记录（audit_key 设置在系统之外被删除）",
    ),
    "checkpoint.invalid": (
        "{path} is not an audit checkpoint written by `incubator audit checkpoint` ({why})",
        "{path} 不是由 `incubator audit checkpoint` 写出的审计检查点（{why}）",
    ),
    "checkpoint.no_signature": ("it does not end with a signature", "结尾没有签名"),
    "checkpoint.signature_unreadable": ("its signature line cannot be read", "签名行无法读取"),
    "checkpoint.no_company_list": ("line 2 is not the company list", "第 2 行不是企业列表"),
    "checkpoint.line_unreadable": ("line {number} cannot be read", "第 {number} 行无法读取"),
    "checkpoint.out_of_order": ("line {number} is out of order", "第 {number} 行顺序错误"),
    "checkpoint.no_end": ("its company list does not end", "企业列表没有结尾"),
    "checkpoint.no_statement": ("it does not start with a statement", "开头没有声明"),
    "checkpoint.statement_unreadable": ("its statement cannot be read", "声明无法读取"),
    "checkpoint.other_format": ("its format is not {format}", "格式不是 {format}"),
    "checkpoint.other_version": ("version {version} is not supported", "不支持 {version} 版"),
    "checkpoint.unkeyed": (
        "{path} has no keyed signature, but this database is keyed; use a checkpoint written "
        "with its key",
        "{path} 没有带密钥的签名，但该数据库使用了密钥；请使用以其密钥写出的检查点",
    ),
    "checkpoint.needs_key": (
        "{path} is signed with an audit key; set INCUBATOR_AUDIT_KEY to verify it",
        "{path} 使用审计密钥签名；请设置 INCUBATOR_AUDIT_KEY 后再校验",
    ),
    "checkpoint.other_key": (
        "{path} was signed with another audit key (fingerprint {fingerprint}…) than the "
        "INCUBATOR_AUDIT_KEY given",
        "{path} 的签名密钥（指纹 {fingerprint}…）与所给的 INCUBATOR_AUDIT_KEY 不同",
    ),
    "checkpoint.signature": (
        "the checkpoint's signature does not verify: the file was changed after it was written",
        "检查点的签名校验未通过：文件在写出后被修改过",
    ),
    "checkpoint.audit_fails": (
        "no checkpoint written: the audit fails: {result}",
        "未写出检查点：审计未通过：{result}",
    ),
}
