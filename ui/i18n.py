"""The app's two languages: English and Simplified Chinese.

One dictionary, `TEXT`, maps a message id to its English and Chinese text; `t()` looks a
message up and fills in its `{placeholders}`. Stage and exit-reason names come from
`incubator.stages` (`Stage.label(lang)`, `ExitReason.label(lang)`), not from here, and so do
refusals: a refusal carries a code and its values, and `error_text` renders it from the
domain's catalogue (`incubator.messages`) in the reader's language.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from incubator.messages import text_of
from incubator.stages import EventKind, ExitReason, Stage
from incubator.stages import sector_label as _sector_label

#: Language codes and how each one names itself in the language picker.
LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"

TEXT: dict[str, tuple[str, str]] = {
    # app and navigation
    "app.title": ("Incubation pipeline", "孵化管线"),
    "app.subtitle": (
        "Jingmen graded incubation: seed → nursery → incubator → accelerator → industrial park",
        "荆门梯级孵化体系：种子—苗圃—孵化器—加速器—产业园",
    ),
    "nav.funnel": ("Funnel", "漏斗总览"),
    "nav.dwell": ("Time in stage", "阶段停留"),
    "nav.board": ("Pipeline board", "管线看板"),
    "nav.company": ("Company", "企业档案"),
    "nav.audit": ("Audit log", "审计日志"),
    "nav.users": ("Users", "用户管理"),
    "nav.account": ("My account", "我的账号"),
    "nav.my_company": ("My company", "我的企业"),
    "mycompany.caption": (
        "Your company as the incubator records it: its stage, facts and timeline. Submit "
        "your annual figures below.",
        "孵化器记录的本企业情况：所处阶段、企业材料和时间线。请在下方填报年度经营数据。",
    ),
    "mycompany.none": (
        "Your account is not bound to a company; ask an administrator.",
        "您的账号尚未绑定企业，请联系系统管理员。",
    ),
    "mycompany.figures_title": ("Annual figures for {year}", "{year} 年度经营数据"),
    "mycompany.figures_hint": (
        "Give the figures of {year} that you know; a later submission for the same year "
        "replaces the fields it gives. The incubation manager sees who has not submitted.",
        "请填写已知的 {year} 年度数据；同一年度再次填报时，以新填的字段为准。"
        "孵化经理可以看到哪些企业尚未填报。",
    ),
    "nav.section.pipeline": ("Pipeline", "管线"),
    "nav.section.records": ("Records", "记录"),
    # sign-in
    "signin.ended_before_write": (
        "Your session had ended, so nothing was saved. Sign in again and repeat the change.",
        "您的会话已结束，未保存任何更改。请重新登录后再操作。",
    ),
    "signin.title": ("Sign in", "登录"),
    "signin.intro": (
        "Sign in with the account your administrator gave you.",
        "请使用系统管理员为您分配的账号登录。",
    ),
    "signin.user": ("User name", "用户名"),
    "signin.password": ("Password", "密码"),
    "signin.submit": ("Sign in", "登录"),
    "signin.failed": ("Wrong user name or password.", "用户名或密码错误。"),
    "signin.missing": ("Enter your user name and password.", "请输入用户名和密码。"),
    "signin.as": ("Signed in as **{name}**", "当前用户：**{name}**"),
    "signin.role": ("{role}", "{role}"),
    "signin.role_site": ("{role} · site {site}", "{role} · 站点 {site}"),
    "signin.locked": (
        "Too many failed sign-ins for this user name: it is locked until {until}. Try again "
        "then, or ask an administrator to unlock it.",
        "该用户名登录失败次数过多，已锁定至 {until}。请届时再试，或请系统管理员解锁。",
    ),
    "signin.disabled": (
        "This account is disabled. Ask an administrator to enable it.",
        "该账号已停用，请联系系统管理员启用。",
    ),
    "signin.expired": (
        "The sign-in form had expired. Please sign in again.",
        "登录表单已过期，请重新登录。",
    ),
    "signin.ended": (
        "Your session has ended. Please sign in again.",
        "您的登录已失效，请重新登录。",
    ),
    "signin.ended_here": (
        "You are signed out: you signed out (here or in another tab), your account was "
        "changed, or the session expired.",
        "您已退出登录：您在此处或其他标签页中退出了登录，账号发生了变更，或登录已过期。",
    ),
    "signin.needed": ("Sign in to see this page.", "请登录后查看此页面。"),
    "signin.signed_out": (
        "You have signed out, in every tab of this browser.",
        "您已退出登录（本浏览器的所有标签页均已退出）。",
    ),
    "signout": ("Sign out", "退出登录"),
    "role.viewer": ("Viewer (read only)", "查看者（只读）"),
    "role.manager": ("Manager", "孵化经理"),
    "role.admin": ("Administrator", "系统管理员"),
    "role.owner": ("Owner", "所有者"),
    "role.company": ("Company user", "企业用户"),
    # database
    "db.unavailable": (
        "The database is not available: {error}",
        "数据库不可用：{error}",
    ),
    "db.hint": (
        "Create it with `incubator init` (and `incubator demo --users` for demo data), "
        "or point INCUBATOR_DATABASE_URL at an existing one.",
        "请运行 `incubator init` 创建数据库（演示数据：`incubator demo --users`），"
        "或将 INCUBATOR_DATABASE_URL 指向已有数据库。",
    ),
    # filters
    "filters.title": ("Filters", "筛选"),
    "filters.site": ("Site", "站点"),
    "filters.sector": ("Sector", "行业"),
    "filters.cohort": ("Intake cohort", "入驻批次"),
    "filters.as_of": ("As of", "截至日期"),
    "filters.as_of_help": (
        "Count only events before this day begins (00:00 UTC), like the command line's "
        "--as-of. Empty or today: now.",
        "只统计该日 00:00（UTC）之前的事件，与命令行 --as-of 相同。留空或今天表示当前。",
    ),
    "filters.all": ("All", "全部"),
    "filters.reset": ("Clear filters", "清除筛选"),
    "filters.summary": ("As of {as_of} · {scope}", "截至 {as_of} · {scope}"),
    "filters.everything": ("all sites, sectors and cohorts", "全部站点、行业和批次"),
    "filters.now": ("now", "当前"),
    "filters.cohort_value": ("cohort {cohort}", "{cohort} 批次"),
    "filters.bookmark": (
        "Filters are part of the address: bookmark the page to keep this view.",
        "筛选条件保存在网址中，收藏本页即可保留此视图。",
    ),
    # common
    "common.none": ("—", "—"),
    "common.days": ("{n} days", "{n} 天"),
    "common.no_data": ("No data for these filters yet.", "当前筛选条件下暂无数据。"),
    "common.read_only": (
        "You have read-only access: moving companies needs a manager account.",
        "您只有查看权限：移动企业需要孵化经理账号。",
    ),
    "common.download_xlsx": ("Download Excel (.xlsx)", "下载 Excel（.xlsx）"),
    "common.no_results": ("No results", "无匹配结果"),
    "common.skip_to_content": ("Skip to main content", "跳到主要内容"),
    "common.date_year": ("yyyy", "年"),
    "common.date_month": ("mm", "月"),
    "common.date_day": ("dd", "日"),
    "common.stage": ("Stage", "阶段"),
    "common.period": ("Period", "时期"),
    "common.companies": ("Companies", "企业数"),
    "common.reason": ("Reason", "原因"),
    "common.days_label": ("Days", "天数"),
    # funnel page
    "funnel.title": ("Funnel", "漏斗总览"),
    "funnel.current": ("In the pipeline now", "当前在孵企业"),
    "funnel.current_at": ("At {date}", "截至 {date} 在孵企业"),
    "funnel.current_help": (
        "Companies whose current stay is in this stage at the as-of time.",
        "截至所选时间仍停留在该阶段的企业数。",
    ),
    "funnel.in_pipeline": ("In the pipeline", "在孵合计"),
    "funnel.exited_total": ("Exited", "已退出"),
    "funnel.chart_title": (
        "Funnel: what happened to each stage's entrants",
        "漏斗：各阶段入驻企业的去向",
    ),
    "funnel.outcome.advanced": ("Moved on", "已晋级"),
    "funnel.outcome.exited": ("Exited", "已退出"),
    "funnel.outcome.current": ("Still in stage", "仍在本阶段"),
    "funnel.entered": ("Entered", "进入"),
    "funnel.advanced": ("Moved on", "晋级"),
    "funnel.exited": ("Exited", "退出"),
    "funnel.conversion": ("Conversion", "转化率"),
    "funnel.drop_off": ("Drop-off", "流失率"),
    "funnel.bar_label": (
        "{entered} entered · {conversion} on · {drop_off} out",
        "进入 {entered} · 晋级 {conversion} · 流失 {drop_off}",
    ),
    "funnel.bar_label_top": (
        "{entered} entered · {drop_off} out",
        "进入 {entered} · 流失 {drop_off}",
    ),
    "funnel.explain": (
        "Conversion = moved on ÷ entered; drop-off = exited ÷ entered. A stage's "
        "entrants include companies admitted directly into it.",
        "转化率 = 晋级数 ÷ 进入数；流失率 = 退出数 ÷ 进入数。各阶段进入数包含直接入驻该阶段的企业。",
    ),
    "funnel.table": ("Funnel figures", "漏斗数据"),
    "funnel.throughput": ("Entries per stage over time", "各阶段进入量趋势"),
    "funnel.by": ("Period", "统计周期"),
    "funnel.by.month": ("Month", "月"),
    "funnel.by.quarter": ("Quarter", "季度"),
    "funnel.by.year": ("Year", "年"),
    "funnel.exits": ("Exits by reason", "按原因统计的退出"),
    "funnel.ladder": ("The ladder: allowed moves", "孵化阶梯：允许的流转"),
    "funnel.ladder_caption": (
        "Drawn from the state machine's transition table: a company may be admitted at any "
        "rung, advances one rung at a time, and may exit from any rung.",
        "根据状态机的流转表绘制：企业可从任一阶段入驻，每次只能晋级一级，可从任一阶段退出。",
    ),
    "ladder.new": ("Admitted", "入驻"),
    "ladder.admit": ("admit", "入驻"),
    "ladder.advance": ("advance", "晋级"),
    "ladder.exit": ("exit", "退出"),
    # dwell page
    "dwell.title": ("Time in stage", "阶段停留时间"),
    "dwell.chart_title": ("Days in stage (completed stays)", "阶段停留天数（已结束的停留）"),
    "dwell.chart_caption": (
        "Boxes span the middle half of completed stays (25th–75th percentile), the white tick "
        "is the median, whiskers reach the shortest and longest stay, the diamond is the "
        "Kaplan–Meier median that also counts companies still in the stage.",
        "箱体为已结束停留的中间一半（第 25–75 百分位），白色刻度为中位数，须线为最短和最长停留，"
        "菱形为同时计入仍在阶段内企业的 Kaplan–Meier 中位数。",
    ),
    "dwell.table": ("Stay statistics", "停留统计"),
    "dwell.completed": ("Completed stays", "已结束停留"),
    "dwell.median": ("Median (days)", "中位数（天）"),
    "dwell.p90": ("90th percentile (days)", "第 90 百分位（天）"),
    "dwell.km_median": ("KM median (days)", "KM 中位数（天）"),
    "dwell.open": ("Open stays", "进行中停留"),
    "dwell.open_median": ("Open: median age (days)", "进行中：中位时长（天）"),
    "dwell.min": ("Shortest", "最短"),
    "dwell.q1": ("25th percentile", "第 25 百分位"),
    "dwell.q3": ("75th percentile", "第 75 百分位"),
    "dwell.max": ("Longest", "最长"),
    "dwell.stuck": ("Stuck companies", "滞留企业"),
    "dwell.stuck_caption": (
        "Companies in a stage longer than its limit, longest overdue first. Limits: {limits}.",
        "在某阶段停留超过期限的企业，按超期时长排序。期限：{limits}。",
    ),
    "dwell.stuck_none": ("No company is over its stage's limit. 🎉", "没有超期滞留的企业。🎉"),
    "dwell.stuck_count": ("{n} companies over the limit", "{n} 家企业超期"),
    "dwell.stuck_capped": ("Showing the {n} longest overdue.", "仅显示超期最久的 {n} 家。"),
    "dwell.limits": ("Stage limits", "阶段期限"),
    "dwell.limits_help": (
        "How long a company may stay in a stage before it counts as stuck, in months. "
        "Sector rules override the default for that sector.",
        "企业在某阶段停留多久算作滞留（单位：月）。行业规则优先于默认期限。",
    ),
    "dwell.limit_for": ("{stage} (months)", "{stage}（月）"),
    "dwell.sector_rules": ("Sector rules", "行业规则"),
    "dwell.sector_rules_help": (
        "One row per sector and stage, e.g. biomedicine · Incubator · 60.",
        "每行一个行业和阶段，例如：生物医药 · 孵化器 · 60。",
    ),
    "dwell.pick_sector": ("Choose a sector", "选择行业"),
    "dwell.pick_stage": ("Choose a stage", "选择阶段"),
    "dwell.months": ("Months", "月数"),
    "dwell.save_limits": ("Save limits", "保存期限"),
    "dwell.limits_saved": ("Stage limits saved.", "阶段期限已保存。"),
    "dwell.limits_bad": ("Limits must be positive numbers of months.", "期限必须为正的月数。"),
    "dwell.months_value": ("{n} months", "{n} 个月"),
    "col.key": ("Key", "编号"),
    "col.name": ("Name", "名称"),
    "col.site": ("Site", "站点"),
    "col.sector": ("Sector", "行业"),
    "col.stage": ("Stage", "阶段"),
    "col.since": ("In stage since", "进入本阶段"),
    "col.days": ("Days in stage", "停留天数"),
    "col.limit": ("Limit (days)", "期限（天）"),
    "col.overdue": ("Overdue (days)", "超期（天）"),
    "col.kind": ("Event", "事件"),
    "col.from": ("From", "原阶段"),
    "col.to": ("To", "新阶段"),
    "col.move": ("Move", "流转"),
    "col.effective": ("Effective (UTC)", "生效时间（UTC）"),
    "col.recorded": ("Recorded (UTC)", "记录时间（UTC）"),
    "col.actor": ("By", "操作人"),
    "col.note": ("Note", "备注"),
    "col.reason": ("Reason", "原因"),
    "col.hash": ("Hash", "哈希"),
    "col.role": ("Role", "角色"),
    "col.created": ("Created (UTC)", "创建时间（UTC）"),
    "col.start": ("From", "开始"),
    "col.end": ("To", "结束"),
    # board
    "board.title": ("Pipeline board", "管线看板"),
    "board.caption": (
        "Companies where they stand now (the as-of date does not apply here), longest in "
        "stage first; a red badge marks a stay over the stage's limit.",
        "企业当前所在阶段（不受截至日期影响），按停留时间从长到短排列；红色标记表示停留超过阶段期限。",
    ),
    "board.search": ("Search companies", "搜索企业"),
    "board.search_placeholder": (
        "Key or name, e.g. JM-0042 or 钟祥",
        "编号或名称，如 JM-0042 或 钟祥",
    ),
    "board.more": ("… and {n} more (search to narrow down)", "……另有 {n} 家（可搜索缩小范围）"),
    "board.show_more": ("+{n} more", "展开其余 {n} 家"),
    "board.empty_column": ("No companies", "暂无企业"),
    "board.count": ("{n} companies", "{n} 家企业"),
    "board.count_one": ("{n} company", "{n} 家企业"),
    "board.move_title": ("Move companies", "企业流转"),
    "board.select": ("Companies", "选择企业"),
    "board.select_help": (
        "Companies shown on the board that you may move. Search to find others.",
        "看板中您有权操作的企业。可通过搜索查找其他企业。",
    ),
    "board.select_placeholder": ("Choose one or more companies", "选择一家或多家企业"),
    "board.action": ("Action", "操作"),
    "board.action.advance": ("Advance one stage", "晋级一级"),
    "board.action.exit": ("Exit the pipeline", "退出管线"),
    "board.reason": ("Exit reason", "退出原因"),
    "board.reason_placeholder": ("Choose a reason", "请选择原因"),
    "board.note": ("Note", "备注"),
    "board.note_placeholder": (
        "Why, e.g. signed incubation agreement",
        "原因说明，如：签署孵化协议",
    ),
    "board.effective": ("Effective date (optional)", "生效日期（可选）"),
    "board.effective_help": (
        "Leave empty for now; a past date backdates the move (00:00 UTC of that day).",
        "留空表示当前时间；选择过去的日期表示补录（当天 00:00 UTC）。",
    ),
    "board.effective_now": (
        "Takes effect now. Dates from {earliest} to today only: another typed date is not kept.",
        "将以当前时间生效。仅可选择 {earliest} 至今天的日期，输入其他日期不会被采用。",
    ),
    "board.effective_on": (
        "Takes effect on {date}, 00:00 UTC (backdated).",
        "将于 {date} 00:00（UTC）生效（补录）。",
    ),
    "board.apply": ("Apply", "确认执行"),
    "board.no_selection": ("Choose at least one company first.", "请先选择至少一家企业。"),
    "board.reason_needed": (
        "Choose an exit reason to apply the exit.",
        "请选择退出原因后再执行退出。",
    ),
    "board.no_common_move": (
        "The selected companies have no move in common: {detail}",
        "所选企业没有共同可执行的操作：{detail}",
    ),
    "board.top_of_ladder": (
        "{name} is in the industrial park, the top of the ladder: it can only exit.",
        "{name} 已在产业园（最高阶段），只能退出。",
    ),
    "board.moved": ("{n} moved: {names}", "已流转 {n} 家：{names}"),
    "board.moved_one": ("{name}: {from_stage} → {to_stage}", "{name}：{from_stage} → {to_stage}"),
    "board.conflict": (
        "{name} was not moved: someone else moved it since you loaded the board. {detail}",
        "{name} 未流转：在您加载看板后已被他人移动。{detail}",
    ),
    "board.refused": ("{name} was not moved: {detail}", "{name} 未流转：{detail}"),
    "board.days": ("{n}\u00a0d", "{n}\u00a0天"),
    "board.overdue": ("over limit", "超期"),
    "board.not_shown": (
        "it is no longer on the board; reload and try again.",
        "它已不在看板上，请刷新后重试。",
    ),
    "board.open_profile": ("Open {name}", "查看 {name}"),
    "board.no_writable": (
        "None of the companies shown belongs to your site ({site}), so there is nothing you "
        "can move here.",
        "看板中没有属于您站点（{site}）的企业，暂无可操作的企业。",
    ),
    "board.admit_title": ("Admit a company", "企业入驻"),
    "board.admit.key": ("Key", "企业编号"),
    "board.admit.key_placeholder": ("e.g. JM-0042", "如 JM-0042"),
    "board.admit.name": ("Name", "企业名称"),
    "board.admit.stage": ("Entry stage", "入驻阶段"),
    "board.admit.sector": ("Sector", "行业"),
    "board.admit.sector_placeholder": ("Choose or type a sector", "选择或输入行业"),
    "board.admit.site": ("Site", "站点"),
    "board.admit.site_placeholder": ("Choose or type a site", "选择或输入站点"),
    "board.admit.uscc": ("USCC (统一社会信用代码, optional)", "统一社会信用代码（可选）"),
    "board.admit.date": ("Admitted on (optional)", "入驻日期（可选）"),
    "board.admit.note": ("Note", "备注"),
    "board.admit.submit": ("Admit", "确认入驻"),
    "board.admit.done": ("{key} admitted into {stage}.", "{key} 已入驻{stage}。"),
    "board.admit.refused": ("Not admitted: {detail}", "未能入驻：{detail}"),
    "board.admit.site_fixed": ("You manage site {site}.", "您管理的站点：{site}。"),
    # company page
    "company.title": ("Company", "企业档案"),
    "company.find": ("Find a company", "查找企业"),
    "company.find_placeholder": ("Key or name", "编号或名称"),
    "company.pick": ("Company", "企业"),
    "company.pick_placeholder": ("Choose a company", "请选择企业"),
    "company.matches": (
        "{n} matches; showing the first {shown}.",
        "共 {n} 条匹配，显示前 {shown} 条。",
    ),
    "company.no_match": ("No company matches “{query}”.", "没有与“{query}”匹配的企业。"),
    "company.choose": (
        "Search by key or name to open a company's profile and history.",
        "按编号或名称搜索，查看企业档案与历史记录。",
    ),
    "company.empty": (
        "No company chosen yet: type part of a key or name on the left, then pick the "
        "company. You can also bookmark a profile: its key is part of the address.",
        "尚未选择企业：请在左侧输入编号或名称的一部分，然后选择企业。企业编号会写入网址，可收藏该档案。",
    ),
    "company.unknown": ("No company with key {key}.", "不存在编号为 {key} 的企业。"),
    "company.stage": ("Stage", "当前阶段"),
    "company.in_stage": ("In stage", "本阶段停留"),
    "company.admitted": ("Admitted", "入驻时间"),
    "company.events": ("Events", "事件数"),
    "company.site": ("Site", "站点"),
    "company.sector": ("Sector", "行业"),
    "company.uscc": ("USCC", "统一社会信用代码"),
    "company.cohort": ("Cohort", "批次"),
    "company.next": ("Allowed next: {moves}", "可执行操作：{moves}"),
    "company.next_none": ("The company has left the pipeline.", "该企业已退出管线。"),
    "company.timeline": ("Stays in each stage", "各阶段停留时间线"),
    "company.history": ("Event history", "事件历史"),
    # audit page
    "audit.title": ("Audit log", "审计日志"),
    "audit.caption": (
        "Every stage change, newest first; events are append-only and hash-chained per company.",
        "全部阶段变更记录（最新在前）；事件只可追加，且按企业形成哈希链。",
    ),
    "audit.company": ("Company", "企业"),
    "audit.company_placeholder": ("Key or name, e.g. 0184", "编号或名称，如 0184"),
    "audit.actor": ("Actor", "操作人"),
    "audit.kind": ("Event", "事件类型"),
    "audit.since": ("From date", "开始日期"),
    "audit.until": ("To date", "结束日期"),
    "audit.shown": ("Events shown: {n}", "显示事件：{n} 条"),
    "audit.capped": (
        "Events shown: the newest {n}; narrow the filters to see older ones.",
        "显示最新的 {n} 条事件；缩小筛选范围可查看更早的事件。",
    ),
    "audit.empty": ("No events match these filters.", "没有符合筛选条件的事件。"),
    "audit.table_hint": (
        "Click a cell to read it in full. Effective is when the move took effect, Recorded when "
        "it was written. The Excel download adds the site, the full hash and the event id.",
        "点击单元格可查看完整内容。生效时间为流转实际发生的时间，记录时间为写入日志的时间。"
        "下载的 Excel 另含站点、完整哈希和事件编号。",
    ),
    "audit.verify": ("Verify chain", "校验哈希链"),
    "audit.verify_help": (
        "Recompute every company's hash chain and compare it with the stored one.",
        "重新计算每家企业的哈希链并与存储值比对。",
    ),
    "audit.verified": (
        "Chain intact: {events} event(s) in {companies} companies verified.",
        "哈希链完整：已校验 {companies} 家企业的 {events} 条事件。",
    ),
    "audit.broken": ("Chain broken: {detail}", "哈希链异常：{detail}"),
    "audit.admin": ("Import and export (administrators)", "导入与导出（系统管理员）"),
    "audit.import": ("Import an event log or facts (CSV)", "导入事件日志或企业材料（CSV）"),
    "audit.import_help": (
        "UTF-8 CSV. An event log has the columns company_key, company_name, event, "
        "from_stage, to_stage, effective_at, actor, note, reason, sector, site, uscc. A facts "
        "file has a fact column (founded, qualification, revocation, financing, milestone, "
        "figures) and company_key, date, kind, level, number, expires_on, reason, amount, "
        "round, investor, year, one column per annual figure, evidence, note, actor; import "
        "it after the events of its companies. All rows or none are imported.",
        "UTF-8 编码 CSV。事件日志的列为 company_key, company_name, event, from_stage, to_stage, "
        "effective_at, actor, note, reason, sector, site, uscc。企业材料文件有 fact 列（成立日期、"
        "资质认定、资质撤销、融资、里程碑、年度数据），以及 company_key, date, kind, level, "
        "number, expires_on, reason, amount, round, investor, year、每项年度数据一列、evidence, "
        "note, actor；请在导入其企业的事件之后导入。全部导入或全部不导入。",
    ),
    "audit.import_button": ("Import", "导入"),
    "audit.import_limits": ("One CSV file, up to {mb} MB.", "一个 CSV 文件，不超过 {mb} MB。"),
    "audit.choose_file": ("Choose file", "选择文件"),
    "audit.drop_file": ("Drop the file here", "将文件拖放到此处"),
    "audit.import_none": ("Choose a CSV file first.", "请先选择 CSV 文件。"),
    "audit.imported": (
        "Import done: {events} event(s); {new} new and {updated} updated companies.",
        "已导入 {events} 条事件：新增 {new} 家企业，更新 {updated} 家。",
    ),
    "audit.imported_facts": (
        "Import done: {records} fact record(s) for {companies} companies.",
        "已导入 {companies} 家企业的 {records} 条企业材料。",
    ),
    "audit.rejected": (
        "The file was rejected and nothing was imported: {n} bad rows.",
        "文件被拒绝，未导入任何数据：共 {n} 行有误。",
    ),
    "audit.line": ("Line", "行号"),
    "audit.problem": ("Problem", "问题"),
    "audit.export": ("Export the event log and facts", "导出事件日志和企业材料"),
    "audit.export_help": (
        "The whole log, or every company fact, as an Excel workbook (.xlsx), with "
        "recorded_at and hash; every value stays text, never a formula. For CSV files to "
        "import into another tracker, run `incubator export events.csv` and `incubator "
        "export facts.csv --facts`.",
        "完整事件日志或全部企业材料的 Excel 工作簿（.xlsx），包含 recorded_at 和 hash；所有内容均为"
        "文本，不会作为公式执行。如需可导入其他系统的 CSV，请运行 `incubator export events.csv` 和 "
        "`incubator export facts.csv --facts`。",
    ),
    "audit.export_button": ("Download event log", "下载事件日志"),
    "audit.export_facts_button": ("Download facts", "下载企业材料"),
    # users page
    "users.title": ("Users", "用户管理"),
    "users.add": ("Add a user", "新增用户"),
    "users.name": ("User name", "用户名"),
    "users.role": ("Role", "角色"),
    "users.site": (
        "Site (managers: leave empty for all sites)",
        "站点（孵化经理留空表示全部站点）",
    ),
    "users.password": ("Password (at least 10 characters)", "密码（至少 10 位）"),
    "users.submit": ("Add user", "添加用户"),
    "users.added": ("User {name} added.", "已添加用户 {name}。"),
    "users.refused": ("Not added: {detail}", "未能添加：{detail}"),
    "users.admins_only": (
        "Only administrators manage users. To change your own password, open My account.",
        "仅系统管理员可管理用户。如需修改自己的密码，请打开“我的账号”。",
    ),
    "users.all_sites": ("All sites", "全部站点"),
    "users.status": ("Status", "状态"),
    "users.status.active": ("Active", "正常"),
    "users.status.disabled": ("Disabled", "已停用"),
    "users.status.locked": ("Locked", "已锁定"),
    "users.status.locked_until": ("Locked until {until} UTC", "锁定至 {until}（UTC）"),
    "users.last_sign_in": ("Last sign-in (UTC)", "最近登录（UTC）"),
    "users.manage": ("Manage a user", "管理用户"),
    "users.pick": ("User", "用户"),
    "users.role_site": ("Role and site", "角色与站点"),
    "users.company": ("Company key (company users)", "所属企业编号（企业用户）"),
    "users.company_placeholder": ("e.g. JM-0042", "例如 JM-0042"),
    "users.no_company": ("—", "—"),
    "users.save": ("Save", "保存"),
    "users.saved": ("Saved the role and site of {name}.", "已保存 {name} 的角色与站点。"),
    "users.reset": ("Reset the password", "重置密码"),
    "users.new_password": ("New password (at least 10 characters)", "新密码（至少 10 位）"),
    "users.reset_submit": ("Set the new password", "设置新密码"),
    "users.password_reset": (
        "New password set for {name}; {n} of their sessions ended.",
        "已为 {name} 设置新密码；其 {n} 个登录会话已结束。",
    ),
    "users.disable": ("Disable", "停用"),
    "users.enable": ("Enable", "启用"),
    "users.unlock": ("Unlock sign-in", "解除登录锁定"),
    "users.disabled": (
        "{name} is disabled; their sessions have ended.",
        "已停用 {name}，其登录会话已全部结束。",
    ),
    "users.enabled": ("{name} is enabled again.", "已重新启用 {name}。"),
    "users.unlocked": ("{name} can sign in again.", "{name} 已解锁，可以再次登录。"),
    "users.action_refused": ("Not done: {detail}", "未能完成：{detail}"),
    # my account
    "account.title": ("My account", "我的账号"),
    "account.last_sign_in": ("Last sign-in: {when}", "最近登录：{when}"),
    "account.change_password": ("Change my password", "修改我的密码"),
    "account.password_rules": (
        "At least 10 characters, not only spaces, and not your user name. Your sessions in "
        "other browsers end; this one stays signed in.",
        "至少 10 个字符，不能全是空格，也不能与用户名相同。修改后，您在其他浏览器中的登录将结束，"
        "当前登录保持不变。",
    ),
    "account.current_password": ("Current password", "当前密码"),
    "account.new_password": ("New password", "新密码"),
    "account.repeat_password": ("New password again", "再次输入新密码"),
    "account.change_submit": ("Change password", "修改密码"),
    "account.mismatch": (
        "The two new passwords differ; nothing was changed.",
        "两次输入的新密码不一致，未作修改。",
    ),
    "account.refused": ("Not changed: {detail}", "未能修改：{detail}"),
    "account.changed": (
        "Password changed; {n} other session(s) ended.",
        "密码已修改；其他 {n} 个登录会话已结束。",
    ),
    "users.site_placeholder": ("All sites", "全部站点"),
    # event kinds
    "kind.admit": ("Admit", "入驻"),
    "kind.advance": ("Advance", "晋级"),
    "kind.exit": ("Exit", "退出"),
    # gates on the board, policy page (gate-board)
    "nav.policy": ("Gate policy", "门槛规则"),
    "company.exited_on": ("Exited on", "退出日期"),
    "company.gate_ready": (
        "{badge}: its next advance, into {stage}, meets the gate today.",
        "{badge}：下一步晋级（进入{stage}）今日满足门槛。",
    ),
    "company.gate_how": (
        "Record the missing evidence below, or give an override reason when moving it on the "
        "board.",
        "可在下方记录缺少的材料，或在管线看板流转时填写强制通过理由。",
    ),
    "gate.ready": ("✓ ready", "✓ 满足门槛"),
    "gate.ready_graduate": ("✓ ready to graduate", "✓ 可毕业"),
    "gate.missing": ("✗ {items}", "✗ {items}"),
    "gate.missing_any": ("✗ needs one of: {items}", "✗ 须满足其一：{items}"),
    "gate.or": (" or ", "或"),
    "gate.short.registered": ("no USCC", "无统一社会信用代码"),
    "gate.short.founded_unknown": ("founding date unknown", "成立日期未知"),
    "gate.short.founded_too_long": (
        "founded {n} months ago (limit {months})",
        "成立已 {n} 个月（上限 {months} 个月）",
    ),
    "gate.short.qualification_none": ("no {kind} certificate", "无{kind}资质"),
    "gate.short.qualification_revoked": ("{kind} revoked", "{kind}资质已撤销"),
    "gate.short.qualification_expired": ("{kind} expired", "{kind}资质已过期"),
    "gate.short.financing_none": ("no financing", "无融资"),
    "gate.short.financing_over": (
        "financing {value} (needs over {amount})",
        "融资 {value}（须超过 {amount}）",
    ),
    "gate.short.no_revenue": ("no revenue figures", "无营业收入数据"),
    "gate.short.no_revenue_year": ("no {year} revenue", "无 {year} 年营业收入"),
    "gate.short.revenue_two_years_over": (
        "two-year revenue {value} (needs over {amount})",
        "两年营收 {value}（须超过 {amount}）",
    ),
    "gate.short.revenue_last_year_at_least": (
        "{year} revenue {value} (needs {amount})",
        "{year} 年营收 {value}（须达 {amount}）",
    ),
    "gate.short.milestone": ("not {kinds}", "未{kinds}"),
    "gate.fails": (
        "{name} ({key}) does not meet the gate into {stage} ({mode}):",
        "{name}（{key}）不满足进入{stage}的门槛（{mode}）：",
    ),
    "gate.override": ("Override reason", "强制通过理由"),
    "gate.override_placeholder": (
        "Why these companies move although their gate is not met, e.g. the approval that allows it",
        "说明不满足门槛仍要流转的原因，如批准文件",
    ),
    "gate.override_help": (
        "At least {least} characters. It is recorded in the event of each company listed "
        "above; companies that meet their gate move without it.",
        "不少于 {least} 个字符。该理由将记入上列每家企业的流转事件；满足门槛的企业无需理由，照常流转。",
    ),
    "gate.override_needed": (
        "{names}: the gate is not met. Give an override reason of at least {least} characters, "
        "or remove them from the selection.",
        "{names}：不满足门槛。请填写不少于 {least} 个字符的强制通过理由，或将其移出所选企业。",
    ),
    "gate.override_short": (
        "The override reason needs at least {least} characters ({n} given).",
        "强制通过理由不少于 {least} 个字符（当前 {n} 个）。",
    ),
    "gate.override_refused": (
        "Nothing was moved: {names} do not meet their gate and no override reason of at least "
        "{least} characters was given.",
        "未流转任何企业：{names} 不满足门槛，且未填写不少于 {least} 个字符的强制通过理由。",
    ),
    "gate.overridden": (" (gate overridden)", "（强制通过门槛）"),
    "gate.policy_all": ("Into {stage}: all of", "进入{stage}：须全部满足"),
    "gate.policy_any": ("Into {stage}: any one of", "进入{stage}：满足其一即可"),
    "gate.admit_founded": ("Founded on (optional)", "成立日期（可选）"),
    "gate.admit_founded_help": (
        "The date the business was registered (营业执照), recorded as a fact. The gate into "
        "the incubator reads it (see the Gate policy page).",
        "营业执照上的成立日期，记为企业材料。进入孵化器的门槛会核验该日期（见门槛规则页）。",
    ),
    "gate.admit_override": ("Override reason (optional)", "强制通过理由（可选）"),
    "gate.admit_override_help": (
        "Only to admit into a gated stage whose gate the company does not meet: at least "
        "{least} characters, recorded in the admission.",
        "仅在入驻设有门槛的阶段且不满足门槛时填写：不少于 {least} 个字符，记入入驻事件。",
    ),
    "policy.title": ("Gate policy", "门槛规则"),
    "policy.caption": (
        "What a company must show to enter a stage (科技企业孵化器管理办法). Every move into a "
        "gated stage is checked on the company's facts as of the move's date; a manager may "
        "override a failed gate with a reason.",
        "企业进入各阶段须具备的条件（依据《科技企业孵化器管理办法》）。流转至设有门槛的阶段时，"
        "按流转当日的企业材料核验；孵化经理可填写理由强制通过。",
    ),
    "policy.ungated": ("No gate: {stages}", "无门槛：{stages}"),
    "policy.none": (
        "No gates: every move is ungated.",
        "未设门槛：所有流转均不核验。",
    ),
    "policy.default": (
        "The default policy (the national rules).",
        "默认规则（国家规定）。",
    ),
    "policy.changed": ("Set by {by} on {when}.", "由 {by} 于 {when} 设置。"),
    "policy.replace": ("Replace the policy", "替换门槛规则"),
    "policy.replace_help": (
        "A TOML or JSON file as `incubator policy show --json` prints it (see the documentation "
        "on evidence and gates). A bad file is refused with the line that is wrong, and the "
        "policy stays as it is.",
        "TOML 或 JSON 文件，格式同 `incubator policy show --json` 的输出（见材料与门槛说明文档）。"
        "文件有误时会被拒绝并指出出错的行，门槛规则保持不变。",
    ),
    "policy.limits": (
        "One TOML or JSON file, up to {mb} MB.",
        "一个 TOML 或 JSON 文件，不超过 {mb} MB。",
    ),
    "policy.upload_button": ("Replace", "确认替换"),
    "policy.upload_none": ("Choose a TOML or JSON file first.", "请先选择 TOML 或 JSON 文件。"),
    "policy.replaced": (
        "The gate policy was replaced: {n} gate(s).",
        "门槛规则已替换：共 {n} 道门槛。",
    ),
    "policy.refused": ("Not replaced: {detail}", "未替换：{detail}"),
    "policy.download": ("Download the policy (JSON)", "下载门槛规则（JSON）"),
    # facts panel and forms (facts-ui)
    "facts.title": ("Facts and evidence", "企业材料"),
    "facts.caption": (
        "What is known today, by each fact's own date. Records are only ever added, never "
        "changed, and each one is chained into the company's hash chain.",
        "截至今天、按各项材料自身日期所知的情况。材料只增不改，每条记录都串入该企业的哈希链。",
    ),
    "facts.founded": ("Founded", "成立日期"),
    "facts.founded_none": ("No founding date recorded.", "尚未记录成立日期。"),
    "facts.valid_count": ("Qualifications valid today", "今日有效资质"),
    "facts.financing_sum": ("Financing in all (yuan)", "融资合计（元）"),
    "facts.qualifications": ("Qualifications", "资质认定"),
    "facts.qualifications_none": ("No qualifications recorded.", "尚未记录资质认定。"),
    "facts.financing": ("Financing rounds", "融资记录"),
    "facts.financing_none": ("No financing recorded.", "尚未记录融资。"),
    "facts.financing_total": (
        "Total: {amount} yuan in {n} round(s).",
        "合计：{amount} 元，共 {n} 轮。",
    ),
    "facts.milestones": ("Milestones", "里程碑"),
    "facts.milestones_none": ("No milestones recorded.", "尚未记录里程碑。"),
    "facts.figures": ("Annual figures", "年度数据"),
    "facts.figures_none": ("No annual figures recorded.", "尚未记录年度数据。"),
    "facts.figures_all": ("Show every field", "显示全部数据项"),
    "facts.figures_units": (
        "Money in yuan; people, intellectual property and contracts as counts.",
        "金额单位为元；人员、知识产权和合同为数量。",
    ),
    "facts.chart_title": ("Revenue and R&D spend (yuan)", "营业收入与研发投入（元）"),
    "facts.chart_measure": ("Figure", "数据项"),
    "facts.yes": ("Yes", "是"),
    "facts.no": ("No", "否"),
    "facts.col.kind": ("Qualification", "资质类型"),
    "facts.col.level": ("Level", "级别"),
    "facts.col.number": ("Certificate No.", "证书编号"),
    "facts.col.granted": ("Granted", "认定日期"),
    "facts.col.expires": ("Expires", "到期日期"),
    "facts.col.valid": ("Valid today", "今日有效"),
    "facts.col.revoked": ("Revoked on", "撤销日期"),
    "facts.col.revoke_reason": ("Revocation reason", "撤销原因"),
    "facts.col.evidence": ("Evidence", "证明材料"),
    "facts.col.date": ("Date", "日期"),
    "facts.col.amount": ("Amount (yuan)", "金额（元）"),
    "facts.col.round": ("Round", "轮次"),
    "facts.col.investor": ("Investor", "投资方"),
    "facts.col.milestone": ("Milestone", "里程碑"),
    "facts.col.year": ("Year", "年份"),
    "facts.qualification.tech_sme": ("Tech-based SME", "科技型中小企业"),
    "facts.qualification.high_tech": ("High-tech enterprise", "高新技术企业"),
    "facts.qualification.specialized": ("Specialized SME", "专精特新中小企业"),
    "facts.qualification.little_giant": ("Little giant", "专精特新“小巨人”"),
    "facts.qualification.gazelle": ("Gazelle", "瞪羚企业"),
    "facts.qualification.hidden_champion": ("Hidden champion", "隐形冠军"),
    "facts.level.national": ("National", "国家级"),
    "facts.level.provincial": ("Provincial", "省级"),
    "facts.level.municipal": ("Municipal", "市级"),
    "facts.milestone.listed": ("Listed", "上市/挂牌"),
    "facts.milestone.acquired": ("Acquired", "被并购"),
    "facts.figure.revenue": ("Revenue", "营业收入"),
    "facts.figure.net_profit": ("Net profit", "净利润"),
    "facts.figure.taxes": ("Taxes paid", "上缴税费"),
    "facts.figure.rd_spend": ("R&D spend", "研发投入"),
    "facts.figure.exports": ("Exports", "出口额"),
    "facts.figure.employees": ("Employees", "从业人员"),
    "facts.figure.employees_college": ("College graduates", "大专以上学历人员"),
    "facts.figure.employees_phd": ("PhDs", "博士"),
    "facts.figure.returnees": ("Returnees", "留学归国人员"),
    "facts.figure.new_graduates": ("New graduates hired", "吸纳应届毕业生"),
    "facts.figure.ip_applied": ("IP applied for", "知识产权申请数"),
    "facts.figure.ip_granted": ("IP granted", "知识产权授权数"),
    "facts.figure.ip_valid": ("Valid IP", "有效知识产权数"),
    "facts.figure.invention_patents_valid": ("Valid invention patents", "有效发明专利数"),
    "facts.figure.tech_contracts": ("Tech contracts", "技术合同数"),
    "facts.figure.tech_contract_value": ("Tech contract value", "技术合同成交额"),
    "facts.figure.floor_area_m2": ("Floor area (m²)", "场地面积（平方米）"),
    "facts.figure_yuan": ("{label} (yuan)", "{label}（元）"),
    "facts.kind.profile": ("Profile", "企业信息"),
    "facts.kind.founded": ("Founding date", "成立日期"),
    "facts.kind.qualification": ("Qualification", "资质认定"),
    "facts.kind.revocation": ("Revocation", "资质撤销"),
    "facts.kind.financing": ("Financing round", "融资"),
    "facts.kind.milestone": ("Milestone", "里程碑"),
    "facts.kind.figures": ("Annual figures", "年度数据"),
    "facts.forms": ("Record a fact", "记录企业材料"),
    "facts.forms_hint": (
        "Each record is added to {key}'s hash chain and cannot be changed: a later founding "
        "date replaces the earlier one, later figures for a year replace the fields they give.",
        "每条记录都加入 {key} 的哈希链，不可修改：后记录的成立日期替换先前的，同一年度后记录的"
        "年度数据替换其填写的数据项。",
    ),
    "facts.field.founded_on": ("Founding date (business registration)", "成立日期（工商登记）"),
    "facts.field.kind": ("Qualification", "资质类型"),
    "facts.field.kind_placeholder": ("Choose a qualification", "请选择资质类型"),
    "facts.field.level": ("Level (optional)", "级别（可选）"),
    "facts.field.level_placeholder": ("Not given", "未填写"),
    "facts.field.number": ("Certificate No. (optional)", "证书编号（可选）"),
    "facts.field.granted_on": ("Granted on", "认定日期"),
    "facts.field.expires_on": ("Expires on (optional)", "到期日期（可选）"),
    "facts.field.expires_help": (
        "The first day it is no longer valid. Left empty, it follows from the kind: a "
        "tech-based SME on 1 January of the next year, a gazelle one year after the grant, "
        "the others three years after.",
        "资质失效的第一天。留空则按类型确定：科技型中小企业为次年 1 月 1 日，瞪羚企业为认定后"
        "一年，其他资质为认定后三年。",
    ),
    "facts.field.revoke_kind": ("Qualification to revoke", "要撤销的资质"),
    "facts.field.revoked_on": ("Revoked from", "撤销日期"),
    "facts.field.revoke_reason": ("Reason", "撤销原因"),
    "facts.field.revoke_help": (
        "Revokes the latest grant of this kind that is not revoked yet.",
        "撤销该类型中尚未撤销的最近一次认定。",
    ),
    "facts.field.no_open_grant": (
        "No qualification of this company can be revoked.",
        "该企业没有可撤销的资质。",
    ),
    "facts.field.financed_on": ("Date of the round", "融资日期"),
    "facts.field.amount": ("Amount (yuan)", "金额（元）"),
    "facts.field.amount_placeholder": ("e.g. 6,000,000", "如 6,000,000"),
    "facts.field.round": ("Round (optional)", "轮次（可选）"),
    "facts.field.round_placeholder": ("e.g. angel, A, B", "如 天使轮、A 轮"),
    "facts.field.investor": ("Investor (optional)", "投资方（可选）"),
    "facts.field.milestone": ("Milestone", "里程碑"),
    "facts.field.milestone_placeholder": ("Choose a milestone", "请选择里程碑"),
    "facts.field.milestone_on": ("Date", "日期"),
    "facts.field.year": ("Year", "年份"),
    "facts.field.figures_hint": (
        "Fill in the fields you know, as whole numbers (1,200,000 or 1200000). A later record "
        "for the same year replaces only the fields it gives.",
        "只需填写已知的数据项，均为整数（1,200,000 或 1200000）。同一年度的后续记录只替换其填写"
        "的数据项。",
    ),
    "facts.field.evidence": ("Evidence reference (optional)", "证明材料（可选）"),
    "facts.field.evidence_placeholder": (
        "Document number, file name or link",
        "文件编号、文件名或链接",
    ),
    "facts.field.note": ("Note (optional)", "备注（可选）"),
    "facts.submit": ("Record", "记录"),
    "facts.recorded": (
        "{what} recorded for {key} (record #{seq}).",
        "已为 {key} 记录{what}（第 {seq} 条记录）。",
    ),
    "facts.refused": ("Not recorded: {detail}", "未能记录：{detail}"),
    "facts.kind_needed": ("choose the qualification first", "请先选择资质类型"),
    "facts.milestone_needed": ("choose the milestone first", "请先选择里程碑"),
    "facts.sum.founded": ("founded on {day}", "成立于 {day}"),
    "facts.sum.number": ("certificate {number}", "证书编号 {number}"),
    "facts.sum.granted": ("granted {day}", "认定日期 {day}"),
    "facts.sum.expires": ("expires {day}", "到期日期 {day}"),
    "facts.sum.revoked": (
        "{kind} (record #{grant}) revoked from {day}: {reason}",
        "{kind}（第 {grant} 条记录）自 {day} 起撤销：{reason}",
    ),
    "facts.sum.amount": ("{amount} yuan on {day}", "{day} 融资 {amount} 元"),
    "facts.sum.round": ("round {round}", "轮次 {round}"),
    "facts.sum.investor": ("investor {investor}", "投资方 {investor}"),
    "facts.sum.milestone": ("{kind} on {day}", "{day} {kind}"),
    "facts.sum.figures": ("{year}: {values}", "{year} 年：{values}"),
    "facts.sum.evidence": ("evidence {evidence}", "证明材料 {evidence}"),
    # the audit page: gate outcomes and company records (facts-ui)
    "audit.overrides_only": ("Overrides only", "仅看强制通过"),
    "audit.overrides_help": (
        "Only the moves that entered a stage whose gate they did not meet, with the reason "
        "given for passing it anyway.",
        "只显示未满足门槛、填写理由后强制通过的流转。",
    ),
    "audit.gate.met": ("Met", "已满足"),
    "audit.gate.override": ("Overridden: {reason}", "强制通过：{reason}"),
    "audit.view": ("Show", "查看"),
    "audit.view.events": ("Stage events", "阶段事件"),
    "audit.view.records": ("Company records", "企业记录"),
    "audit.record_kind": ("Record", "记录类型"),
    "audit.records_caption": (
        "Every change of a company's profile and every fact recorded, newest first; records "
        "are append-only and hash-chained per company.",
        "企业信息的每次变更和记录的每项企业材料（最新在前）；记录只可追加，且按企业形成哈希链。",
    ),
    "audit.records_shown": ("Records shown: {n}", "显示记录：{n} 条"),
    "audit.records_capped": (
        "Showing the newest {n} records; narrow the filters to see older ones.",
        "仅显示最新的 {n} 条记录；请缩小筛选范围以查看更早的记录。",
    ),
    "audit.records_empty": (
        "No company records match these filters.",
        "没有符合筛选条件的企业记录。",
    ),
    "col.gate": ("Gate", "门槛"),
    "col.record_kind": ("Record", "记录类型"),
    "col.summary": ("Details", "内容"),
    # reports page (reports-page)
    "nav.reports": ("Reports", "统计报表"),
    "reports.title": ("Reports", "统计报表"),
    "reports.caption": (
        "The annual Torch statistics and the city's targets for a calendar year (UTC); the "
        "same figures as `incubator report torch` and `incubator kpi`.",
        "某一日历年度（UTC）的火炬统计和城市目标完成情况；数据与 `incubator report torch`、"
        "`incubator kpi` 相同。",
    ),
    "reports.year": ("Year", "年度"),
    "reports.year_help": (
        "A calendar year; companies and stays are counted as at its end.",
        "日历年度；企业和在孵情况按年末状态统计。",
    ),
    "reports.site": ("Site", "站点"),
    "reports.all_sites": ("All sites", "全部站点"),
    "reports.site_help": (
        "One registry site, or every site with a total.",
        "选择一个站点，或查看全部站点及合计。",
    ),
    "reports.kpi": ("The city's targets {year}", "{year} 年城市目标完成情况"),
    "reports.kpi_help": (
        "Each metric's actual value for the year against the target an administrator set "
        "(`incubator target set`). The KPIs count every company, whatever the site picked.",
        "各项指标的年度实际值与系统管理员设定的目标（`incubator target set`）对比。"
        "城市目标统计全部企业，不受所选站点限制。",
    ),
    "reports.kpi_chart_title": ("Actual against target", "实际值与目标对比"),
    "reports.kpi_progress": ("Share of the target", "目标完成率"),
    "reports.kpi_target": ("Target", "目标"),
    "reports.kpi_actual": ("Actual", "实际"),
    "reports.kpi_metric": ("Metric", "指标"),
    "reports.kpi_label": (
        "{actual} of {target} ({progress})",
        "{actual} / 目标 {target}（{progress}）",
    ),
    "reports.kpi_no_target": ("{actual} · no target", "{actual} · 未设目标"),
    "reports.no_target": ("no target", "未设目标"),
    "reports.kpi_trend_title": ("The last five years", "近五年趋势"),
    "reports.kpi_caption": (
        "Bars: the actual value as a share of the target (the dark tick is the target). "
        "Lines: the actual value per year; diamonds: that year's target.",
        "条形：实际值占目标的比例（深色刻度为目标）。折线：各年度实际值；菱形：当年目标。",
    ),
    "reports.kpi_none": (
        "No targets are set for {year}; an administrator sets them with `incubator target set`.",
        "{year} 年尚未设定目标；系统管理员可用 `incubator target set` 设定。",
    ),
    "reports.metric.high_tech": ("High-tech enterprises", "高新技术企业"),
    "reports.metric.tech_sme": ("Tech SMEs registered in the year", "当年入库科技型中小企业"),
    "reports.metric.hidden_champion": ("Hidden champions", "隐形冠军企业"),
    "reports.metric.little_giant": ("Little giants", "专精特新“小巨人”企业"),
    "reports.metric.specialized": ("Specialised and sophisticated SMEs", "专精特新中小企业"),
    "reports.metric.achievements": (
        "Achievements transferred",
        "科技成果转化（技术合同数）",
    ),
    "reports.metric.tech_contract_value": ("Technology contract value", "技术合同成交额"),
    "reports.metric.graduated": ("Graduations", "毕业企业数"),
    "reports.money_unit": ("million yuan", "亿元"),
    "reports.metric_in": ("{metric} ({unit})", "{metric}（{unit}）"),
    "reports.yuan_large": ("{value} million yuan", "{value} 亿元"),
    "reports.yuan_small": ("{value} yuan", "{value} 元"),
    "reports.yuan_medium": ("{value} thousand yuan", "{value} 万元"),
    "reports.torch": ("Torch statistics {year}", "{year} 年火炬统计"),
    "reports.torch_help": (
        "Indicators per site at the end of the year and in total (火炬中心 科技企业孵化器统计). "
        "Money in yuan; shares of the incubated companies.",
        "各站点年末指标及合计（火炬中心 科技企业孵化器统计）。金额单位为元；占比为占在孵企业的比例。",
    ),
    "reports.total": ("Total", "合计"),
    "reports.no_site": ("(no site)", "（未指定站点）"),
    "reports.money_header": ("{label} (yuan)", "{label}（元）"),
    "reports.download": ("Download the Torch workbook (.xlsx)", "下载火炬统计表（.xlsx）"),
    "reports.download_help": (
        "The workbook `incubator report torch --out` writes: the summary, the incubated and "
        "graduated companies and the checks, money in thousand yuan.",
        "与 `incubator report torch --out` 生成的工作簿相同：综合情况、在孵企业、毕业企业和逻辑"
        "检查，金额单位为千元。",
    ),
    "reports.checks": ("Logic checks", "逻辑检查"),
    "reports.checks_help": (
        "What to fix before filing: each finding names the company and the field.",
        "报送前需要核实的问题：每条都列出企业和字段。",
    ),
    "reports.checks_none": ("No findings for {year}.", "{year} 年没有发现问题。"),
    "reports.checks_count": ("{n} findings", "共 {n} 条"),
    "reports.check_group": ("{label} · {n}", "{label} · {n} 条"),
    "reports.check_line": (
        "{name} ({key}) · {field}: {detail}",
        "{name}（{key}）· {field}：{detail}",
    ),
    "reports.checks_more": (
        "and {n} more: the workbook's checks sheet lists them all.",
        "另有 {n} 条：请在工作簿的逻辑检查表中查看全部。",
    ),
    "reports.copy_keys": (
        "The keys of these companies, one a line (copy them with the button at the right):",
        "这些企业的编号，每行一个（可用右侧按钮复制）：",
    ),
    "reports.check.missing_figures": ("No annual figures", "缺少年度数据"),
    "reports.check.missing_figure": ("A required figure is missing", "年度数据缺项"),
    "reports.check.phd_above_employees": ("More PhDs than employees", "博士人数大于从业人员数"),
    "reports.check.rd_above_revenue": ("R&D spend above revenue", "研发投入大于总收入"),
    "reports.check.graduated_without_gate": (
        "Graduated without a met gate or an override",
        "毕业时既未满足门槛也无强制通过理由",
    ),
    "reports.check.overstayed": ("Beyond the stay limit", "超过在孵期限"),
    # sites page (sites-page)
    "nav.sites": ("Sites", "站点名录"),
    "sites.title": ("Site registry", "站点名录"),
    "sites.caption": (
        "Every site a company or a manager may name: its kind, its level and its figures by "
        "year. Add a site here before a company or a manager names it.",
        "企业和孵化经理可选用的全部站点：类型、级别及各年度数据。企业或孵化经理选用新站点前，"
        "请先在此添加。",
    ),
    "sites.admins_only": (
        "Only administrators manage the site registry.",
        "只有系统管理员可以管理站点名录。",
    ),
    "sites.empty": (
        "No site is registered yet: add the first one below.",
        "尚未登记任何站点：请在下方添加第一个站点。",
    ),
    "sites.name": ("Site", "站点名称"),
    "sites.kind": ("Kind", "类型"),
    "sites.level": ("Level", "级别"),
    "sites.year": ("Year", "年度"),
    "sites.floor_area": ("Floor area (m²)", "场地面积（平方米）"),
    "sites.staff": ("Staff", "管理人员"),
    "sites.mentors": ("Mentors", "创业导师"),
    "sites.fund": ("Incubation fund (yuan)", "孵化基金（元）"),
    "sites.changed_by": ("Changed by", "修改人"),
    "sites.changed_at": ("Changed (UTC)", "修改时间（UTC）"),
    "sites.table_help": (
        "Figures of each site's latest year; — where none is recorded.",
        "各站点最近一个年度的数据；未填报的显示为 —。",
    ),
    "sites.kind.makerspace": ("Makerspace", "众创空间"),
    "sites.kind.incubator": ("Incubator", "孵化器"),
    "sites.kind.accelerator": ("Accelerator", "加速器"),
    "sites.kind.park": ("Industrial park", "产业园"),
    "sites.kind.mixed": ("Mixed", "综合"),
    "sites.level.national": ("National", "国家级"),
    "sites.level.provincial": ("Provincial", "省级"),
    "sites.level.municipal": ("Municipal", "市级"),
    "sites.level.none": ("Not accredited", "未认定"),
    "sites.manage": ("Manage a site", "管理站点"),
    "sites.pick": ("Site", "站点"),
    "sites.kind_level": ("Kind and level", "类型与级别"),
    "sites.save": ("Save", "保存"),
    "sites.saved": ("Saved the kind and level of {name}.", "已保存 {name} 的类型与级别。"),
    "sites.set_refused": ("Not saved: {detail}", "未能保存：{detail}"),
    "sites.figures": ("Figures of a year", "年度数据"),
    "sites.figures_help": (
        "Whole numbers, none negative. A field left empty keeps the value recorded for that year.",
        "填写非负整数。留空的项保留该年度已填报的数值。",
    ),
    "sites.figures_submit": ("Record the figures", "保存年度数据"),
    "sites.figures_saved": (
        "Recorded the {year} figures of {name}.",
        "已保存 {name} 的 {year} 年度数据。",
    ),
    "sites.figures_refused": ("Not recorded: {detail}", "未能保存：{detail}"),
    "sites.add": ("Add a site", "新增站点"),
    "sites.add_submit": ("Add site", "添加站点"),
    "sites.added": ("Site {name} added.", "已添加站点 {name}。"),
    "sites.add_refused": ("Not added: {detail}", "未能添加：{detail}"),
}


def error_text(error: object, lang: str = DEFAULT_LANGUAGE) -> str:
    """A refusal (a domain or store error, an import problem, an audit finding) as plain text
    in `lang`: rendered from its code and values; any other error as its English text."""
    return text_of(error, lang)


def refusal_text(
    error: object, lang: str = DEFAULT_LANGUAGE, key: str | None = None, /, **values: Any
) -> str:
    """A refusal as plain text in `lang`, alone or as the `{detail}` of the message `key`
    (e.g. `board.refused`: "{name} was not moved: {detail}")."""
    detail = error_text(error, lang)
    return t(key, lang, detail=detail, **values) if key else detail


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **values: Any) -> str:
    """The message `key` in `lang`, with `{placeholders}` filled from `values`.

    An unknown key is returned as is, so a missing translation shows up on screen instead of
    breaking the page.
    """
    pair = TEXT.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "zh" else pair[0]
    return text.format(**values) if values else text


def preferred_language(accept_language: str | None) -> str:
    """The browser's language, from its Accept-Language header: Chinese when it prefers any
    Chinese (zh, zh-CN, zh-Hans...), else English. The sign-in form and the app agree on it."""
    return "zh" if (accept_language or "").strip().lower().startswith("zh") else DEFAULT_LANGUAGE


def normalize_language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


@cache  # a long table names the same few values thousands of times
def stage_label(stage: str | Stage | None, lang: str) -> str:
    """A stage's name in `lang` (`—` for none; unknown values are shown as they are)."""
    if stage is None or stage == "":
        return TEXT["common.none"][0]
    try:
        return Stage(stage).label(lang)
    except ValueError:
        return str(stage)


def sector_label(sector: str | None, lang: str) -> str:
    """A sector's name in `lang` (focus sectors are translated; others shown as stored)."""
    return _sector_label(sector or "", lang)


@cache  # a long table names the same few values thousands of times
def reason_label(reason: str | ExitReason | None, lang: str) -> str:
    if reason is None or reason == "":
        return ""
    try:
        return ExitReason(reason).label(lang)
    except ValueError:
        return str(reason)


@cache  # a long table names the same few values thousands of times
def kind_label(kind: str | EventKind, lang: str) -> str:
    return t(f"kind.{kind}", lang) if f"kind.{kind}" in TEXT else str(kind)


def role_label(role: str, lang: str) -> str:
    return t(f"role.{role}", lang) if f"role.{role}" in TEXT else role


def percent(value: float | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """`38%` (one decimal below 10%), or `—` when the value is undefined."""
    if value is None or value != value:  # None or NaN
        return TEXT["common.none"][0]
    pct = 100 * value
    return f"{pct:.1f}%" if 0 < pct < 10 else f"{pct:.0f}%"


def compact_count(value: int, lang: str = DEFAULT_LANGUAGE) -> str:
    """A count short enough for a metric card: exact below 10,000 (`9,876`); above it,
    three significant figures in the reader's units: `12.3k`, `612k`, `1.23M` in English,
    `1.23万`, `61.2万`, `1.23亿` in Chinese (which counts in ten-thousands)."""
    if abs(value) < 10_000:
        return f"{value:,}"
    units = (("万", 10**4), ("亿", 10**8)) if lang == "zh" else (("k", 10**3), ("M", 10**6))
    for i, (suffix, size) in enumerate(units):
        scaled = abs(value) / size
        places = max(0, 3 - len(str(int(scaled))))
        rounded = round(scaled, places)
        last = i == len(units) - 1
        if last or rounded < units[i + 1][1] // size:  # else: 999,999 is 1M, not 1000k
            text = f"{rounded:.{places}f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return ("-" if value < 0 else "") + text + suffix
    raise AssertionError("unreachable")  # the last unit always returns
