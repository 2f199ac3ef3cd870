"""Gates in the reader's language: the board's badges, why a move fails, the policy.

Everything here is rendered from structured data — a gate's outcome (`facts.GateView`:
criterion ids, parameters and the company's own figures) and the policy's criteria — through
`ui.i18n.t` and the domain's message catalogue (`incubator.messages`), never from an English
sentence. Pure functions returning plain text: the views escape it for Markdown.

    badge(view, "zh")              # ("missing", "✗ 须满足其一：无有效高新技术企业资质 · ...")
    unmet_lines(view, "en")        # ["financing > 5,000,000 — 1,200,000", ...]
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from incubator.evidence import Criterion, Gate, MilestoneKind, QualificationKind, months_between
from incubator.facts import GateView
from incubator.messages import text_of
from ui.i18n import stage_label, t

BadgeKind = Literal["ready", "missing"]

#: The stage a company graduates into (毕业): its ready badge says so.
GRADUATION = "accelerator"


def short_yuan(amount: int, lang: str) -> str:
    """Money in a badge, cut (never rounded) so a figure below a threshold never reads as
    reaching it: `1.2M`, `4.99M`, `800k` (Chinese: `120万`, `1000万`, `1.2亿`, `800元`)."""
    n = int(amount)
    sign, n = ("-" if n < 0 else ""), abs(n)
    if lang == "zh":
        for unit, size in (("亿", 100_000_000), ("万", 10_000)):
            if n >= size:
                return f"{sign}{_cut(n, size, grouped=False)}{unit}"
        return f"{sign}{n}元"
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return f"{sign}{_cut(n, size)}{unit}"
    return f"{sign}{n}"


def _cut(n: int, size: int, *, grouped: bool = True) -> str:
    """n / size with at most two decimals, cut toward zero, trailing zeros dropped; the
    whole part with thousands separators (`1,250M`) unless not `grouped` (`1000万`)."""
    hundredths = n * 100 // size
    whole, rest = divmod(hundredths, 100)
    head = f"{whole:,}" if grouped else str(whole)
    return head if rest == 0 else f"{head}.{rest:02d}".rstrip("0")


def _kind(value: str, lang: str) -> str:
    try:
        return QualificationKind(value).label(lang)
    except ValueError:
        return value


def _kinds(values: list[str], lang: str) -> str:
    names = []
    for value in values:
        try:
            names.append(MilestoneKind(value).localised(lang))
        except ValueError:
            names.append(value)
    return t("gate.or", lang).join(names)


def short_unmet(
    criterion: Criterion, value: Any, extra: dict[str, Any], day: date, lang: str
) -> str:
    """An unmet criterion in a few words, with the company's figure where it helps:
    `no USCC`, `financing 1.2M/5M`, `founded 30 months ago (limit 24)`."""
    params = criterion.params()
    cid = criterion.id
    if cid == "registered":
        return t("gate.short.registered", lang)
    if cid == "founded_within_months":
        if value is None:
            return t("gate.short.founded_unknown", lang)
        since = months_between(date.fromisoformat(value), day)
        return t("gate.short.founded_too_long", lang, n=since, months=params["months"])
    if cid == "qualification":
        kind = _kind(params["kind"], lang)
        if value is None:
            return t("gate.short.qualification_none", lang, kind=kind)
        if value.get("revoked_on"):
            return t("gate.short.qualification_revoked", lang, kind=kind)
        return t("gate.short.qualification_expired", lang, kind=kind)
    if cid == "financing_over":
        if not value:
            return t("gate.short.financing_none", lang)
        return t(
            "gate.short.financing_over",
            lang,
            value=short_yuan(value, lang),
            amount=short_yuan(params["amount"], lang),
        )
    if cid == "revenue_two_years_over":
        if value is None:
            return t("gate.short.no_revenue", lang)
        return t(
            "gate.short.revenue_two_years_over",
            lang,
            value=short_yuan(value, lang),
            amount=short_yuan(params["amount"], lang),
        )
    if cid == "revenue_last_year_at_least":
        year = extra.get("year", day.year - 1)
        if value is None:
            return t("gate.short.no_revenue_year", lang, year=year)
        return t(
            "gate.short.revenue_last_year_at_least",
            lang,
            year=year,
            value=short_yuan(value, lang),
            amount=short_yuan(params["amount"], lang),
        )
    if cid == "milestone":
        return t("gate.short.milestone", lang, kinds=_kinds(params["kinds"], lang))
    return text_of(criterion.describe(day), lang)  # a criterion this module does not know yet


def badge(view: GateView | None, lang: str) -> tuple[BadgeKind, str] | None:
    """The gate badge of a company's next advance: ("ready", "✓ ready to graduate") into
    the accelerator, ("ready", "✓ ready") into another gated stage, ("missing", "✗ <the
    unmet criteria, short>") when the gate fails, None when the step has no gate (or the
    company cannot advance)."""
    if view is None or view.outcome is None:
        return None
    outcome = view.outcome
    if view.passed:
        return "ready", t("gate.ready_graduate" if view.to == GRADUATION else "gate.ready", lang)
    items = " · ".join(
        short_unmet(r.criterion, r.check.value, dict(r.check.extra), outcome.day, lang)
        for r in outcome.unmet
    )
    several = outcome.mode.value == "any" and len(outcome.unmet) > 1
    return "missing", t("gate.missing_any" if several else "gate.missing", lang, items=items)


def unmet_lines(view: GateView, lang: str) -> list[str]:
    """Each unmet criterion in full, with the company's figure, from the domain's catalogue:
    `financing > 5,000,000 — 1,200,000` (Chinese: `融资总额 > 5,000,000 元——1,200,000 元`)."""
    if view.outcome is None:
        return []
    return [text_of(m, lang) for m in view.outcome.unmet_messages()]


def failing_heading(view: GateView, name: str, lang: str) -> str:
    """`Jade Hill (JM-0002) does not meet the gate into Accelerator (any of):`"""
    mode = view.outcome.mode.localised(lang) if view.outcome else ""
    return t(
        "gate.fails",
        lang,
        name=name,
        key=view.key,
        stage=stage_label(view.to, lang),
        mode=mode,
    )


def gate_heading(gate: Gate, lang: str) -> str:
    """`Into Accelerator — any of these:` for the policy page."""
    which = "gate.policy_all" if gate.mode.value == "all" else "gate.policy_any"
    return t(which, lang, stage=stage_label(gate.stage.value, lang))


def criterion_lines(gate: Gate, lang: str) -> list[str]:
    """A gate's criteria as the policy states them (`financing > 5,000,000`), in `lang`."""
    return [text_of(c.describe(None), lang) for c in gate.criteria]
