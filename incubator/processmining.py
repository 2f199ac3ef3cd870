"""The event log for process-mining tools: XES (IEEE 1849-2016) and OCEL 2.0 JSON (DESIGN §9).

Both writers read the log as `LogEvent`s, company by company in chain order (what
`eventlog.event_log_rows` yields), and write each company as they reach it: a million
events are never held in memory as a document.

- XES: one trace per company (`concept:name` = the company key; `name`, `site`, `sector`),
  one event per move with `concept:name` = its activity (`activity()`), `time:timestamp` =
  effective_at, `org:resource` = the actor, `lifecycle:transition` = complete, and `kind`,
  `from_stage`, `to_stage`, `reason` and `note` as string attributes; UTF-8 bytes, as the
  XML declaration says, whatever the terminal's encoding.
- OCEL 2.0 JSON: object types `company` (name, site, sector, and stage, which changes at
  each event) and `site`; one event type per activity, with the attributes kind, from_stage,
  to_stage, reason, note and actor; each event relates to its company ("moved") and the
  company's site ("at site"); each company to its site ("located at"). The company objects
  are kept in a temporary file while the events are written, and appended after them.

Attributes without a value (no `from_stage` on an admit, `reason` only on an exit, an empty
note, site or sector) are left out. Pure standard library.

    with open("events.xes", "wb") as out:
        write_xes(out, events)
    with open("events.json", "w", encoding="utf-8", newline="") as out:
        write_ocel(out, events)
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import IO, Any, NamedTuple


class LogEvent(NamedTuple):
    """One event of the log with its company's current profile: the columns of the CSV
    export (`eventlog.EXPORT_COLUMNS`), in that order; times as ISO 8601 text with offset."""

    company_key: str
    company_name: str
    event: str  # the kind: admit, advance, exit
    from_stage: str
    to_stage: str
    effective_at: str
    actor: str
    note: str
    reason: str
    sector: str
    site: str
    uscc: str
    recorded_at: str
    event_id: Any
    hash: str


@dataclass(frozen=True)
class Summary:
    """What an export wrote."""

    events: int
    companies: int
    sites: int


def activity(kind: str, to_stage: str, reason: str) -> str:
    """The name a process map shows for a move: `admit → seed`, `advance → nursery`, and
    `exit (failed)` (an exit always goes to `exited`; its reason tells the outcomes apart,
    and the stage it left is the activity before it)."""
    if kind == "exit":
        return f"exit ({reason})" if reason else "exit"
    return f"{kind} → {to_stage}"


def _company_events(events: Iterable[LogEvent]) -> Iterator[tuple[str, list[LogEvent]]]:
    """The log as (company key, its events), one company at a time."""
    for key, group in groupby(events, key=_key):
        yield key, list(group)


def _key(event: LogEvent) -> str:
    return event.company_key


# --- XES -----------------------------------------------------------------------------------

XES_NAMESPACE = "http://www.xes-standard.org/"
#: The standard extensions the log uses: (name, prefix, URI).
XES_EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
)
#: Classifiers: (name, the attribute keys that make an event's class).
XES_CLASSIFIERS = (
    ("Activity", "concept:name"),
    ("Stage", "to_stage"),
    ("Resource", "org:resource"),
)

#: Characters XML 1.0 cannot hold at all: written as U+FFFD (the input rules refuse them, so
#: none should reach a log; this is the last line of defence).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Characters escaped in an attribute value: markup, and whitespace and controls that a parser
#: would otherwise normalise (a line break in a note stays a line break).
_ESCAPED = re.compile('[&<>"\t\n\r\x7f-\x9f\u2028\u2029]')
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _entity(match: re.Match[str]) -> str:
    char = match[0]
    return _ENTITIES.get(char) or f"&#{ord(char)};"


def xml_attribute(value: str) -> str:
    """`value` as the text between the quotes of an XML attribute: any Unicode text, escaped."""
    value = _NOT_XML.sub("\ufffd", value)
    return _ESCAPED.sub(_entity, value)


def _string(key: str, value: str, indent: str) -> str:
    return f'{indent}<string key="{key}" value="{xml_attribute(value)}"/>\n'


def _xes_head() -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!-- Incubation pipeline event log: one trace per company, one event per move. -->",
        f'<log xes.version="1849-2016" xmlns="{XES_NAMESPACE}">',
    ]
    lines += [
        f'  <extension name="{name}" prefix="{prefix}" uri="{uri}"/>'
        for name, prefix, uri in XES_EXTENSIONS
    ]
    lines += [
        '  <global scope="trace">',
        '    <string key="concept:name" value="__INVALID__"/>',
        '    <string key="name" value=""/>',
        "  </global>",
        '  <global scope="event">',
        '    <string key="concept:name" value="__INVALID__"/>',
        '    <date key="time:timestamp" value="1970-01-01T00:00:00+00:00"/>',
        '    <string key="org:resource" value="__INVALID__"/>',
        '    <string key="lifecycle:transition" value="complete"/>',
        '    <string key="kind" value="__INVALID__"/>',
        '    <string key="to_stage" value="__INVALID__"/>',
        "  </global>",
    ]
    lines += [f'  <classifier name="{name}" keys="{keys}"/>' for name, keys in XES_CLASSIFIERS]
    lines += [
        '  <string key="concept:name" value="incubation pipeline"/>',
        '  <string key="lifecycle:model" value="standard"/>',
    ]
    return "\n".join(lines) + "\n"


def _xes_trace(key: str, events: list[LogEvent]) -> str:
    first = events[0]
    parts = ["  <trace>\n", _string("concept:name", key, "    ")]
    parts.append(_string("name", first.company_name, "    "))
    if first.site:
        parts.append(_string("site", first.site, "    "))
    if first.sector:
        parts.append(_string("sector", first.sector, "    "))
    for e in events:
        parts += [
            "    <event>\n",
            _string("concept:name", activity(e.event, e.to_stage, e.reason), "      "),
            f'      <date key="time:timestamp" value="{xml_attribute(e.effective_at)}"/>\n',
            _string("org:resource", e.actor, "      "),
            '      <string key="lifecycle:transition" value="complete"/>\n',
            _string("kind", e.event, "      "),
        ]
        if e.from_stage:
            parts.append(_string("from_stage", e.from_stage, "      "))
        parts.append(_string("to_stage", e.to_stage, "      "))
        if e.reason:
            parts.append(_string("reason", e.reason, "      "))
        if e.note:
            parts.append(_string("note", e.note, "      "))
        parts.append("    </event>\n")
    parts.append("  </trace>\n")
    return "".join(parts)


def write_xes(out: IO[bytes], events: Iterable[LogEvent]) -> Summary:
    """Write the log as an XES document (UTF-8), one trace per company, its events in chain
    order."""
    out.write(_xes_head().encode())
    n = companies = 0
    sites: set[str] = set()
    for key, company_events in _company_events(events):
        out.write(_xes_trace(key, company_events).encode())
        n += len(company_events)
        companies += 1
        if company_events[0].site:
            sites.add(company_events[0].site)
    out.write(b"</log>\n")
    return Summary(n, companies, len(sites))


# --- OCEL 2.0 ------------------------------------------------------------------------------

#: The time OCEL 2.0 gives an object attribute's value that holds from the start.
OCEL_ALWAYS = "1970-01-01T00:00:00Z"
#: Object ids of sites: a prefix no company key can have (keys hold no colon).
SITE_PREFIX = "site:"
OCEL_EVENT_ATTRIBUTES = ("kind", "from_stage", "to_stage", "reason", "note", "actor")
OCEL_OBJECT_TYPES = [
    {
        "name": "company",
        "attributes": [
            {"name": name, "type": "string"} for name in ("name", "site", "sector", "stage")
        ],
    },
    {"name": "site", "attributes": [{"name": "name", "type": "string"}]},
]
#: Qualifiers of the relationships.
MOVED, AT_SITE, LOCATED_AT = "moved", "at site", "located at"
#: A JSON string literal, quotes included (the json module's own encoder, Unicode kept).
_string_literal = json.encoder.encode_basestring


def _json(value: Any) -> str:
    """One JSON value on one line, Unicode as it is. (Text read from the database holds no
    lone surrogate: neither SQLite nor PostgreSQL stores one.)"""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def site_id(site: str) -> str:
    return f"{SITE_PREFIX}{site}"


def _ocel_event(e: LogEvent, type_: str) -> str:
    """The event (of activity `type_`) as one line of JSON, formatted directly: the export's
    hot path."""
    q = _string_literal
    values = (e.event, e.from_stage, e.to_stage, e.reason, e.note, e.actor)
    attributes = ",".join(
        f'{{"name":"{name}","value":{q(value)}}}'
        for name, value in zip(OCEL_EVENT_ATTRIBUTES, values, strict=True)
        if value
    )
    relationships = f'{{"objectId":{q(e.company_key)},"qualifier":"{MOVED}"}}'
    if e.site:
        relationships += f',{{"objectId":{q(site_id(e.site))},"qualifier":"{AT_SITE}"}}'
    return (
        f'{{"id":{q(str(e.event_id))},"type":{q(type_)},'
        f'"time":{q(e.effective_at)},"attributes":[{attributes}],'
        f'"relationships":[{relationships}]}}'
    )


def _ocel_company(key: str, events: list[LogEvent]) -> dict[str, Any]:
    first = events[0]
    profile = (("name", first.company_name), ("site", first.site), ("sector", first.sector))
    attributes = [
        {"name": name, "value": value, "time": OCEL_ALWAYS} for name, value in profile if value
    ]
    attributes += [{"name": "stage", "value": e.to_stage, "time": e.effective_at} for e in events]
    company: dict[str, Any] = {"id": key, "type": "company", "attributes": attributes}
    if first.site:
        company["relationships"] = [{"objectId": site_id(first.site), "qualifier": LOCATED_AT}]
    return company


def _ocel_site(site: str) -> dict[str, Any]:
    return {
        "id": site_id(site),
        "type": "site",
        "attributes": [{"name": "name", "value": site, "time": OCEL_ALWAYS}],
    }


def _ocel_event_type(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "attributes": [{"name": a, "type": "string"} for a in OCEL_EVENT_ATTRIBUTES],
    }


def write_ocel(out: IO[str], events: Iterable[LogEvent]) -> Summary:
    """Write the log as an OCEL 2.0 JSON document.

    The events go out as they are read; each company's object (its stage at every event) goes
    to a temporary file and is copied after the events, followed by the sites and the event
    types that occurred (a JSON object's members have no order: readers find them wherever
    they are).
    """
    out.write('{\n"objectTypes":' + _json(OCEL_OBJECT_TYPES) + ',\n"events":[')
    n = companies = 0
    sites: dict[str, None] = {}
    types: dict[str, None] = {}
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as objects:
        for key, company_events in _company_events(events):
            for e in company_events:
                type_ = activity(e.event, e.to_stage, e.reason)
                types.setdefault(type_)
                out.write(("\n" if n == 0 else ",\n") + _ocel_event(e, type_))
                n += 1
            company = _json(_ocel_company(key, company_events))
            objects.write(("\n" if companies == 0 else ",\n") + company)
            companies += 1
            if company_events[0].site:
                sites.setdefault(company_events[0].site)
        out.write('\n],\n"objects":[')
        objects.seek(0)
        while chunk := objects.read(1 << 14):
            out.write(chunk)
    for site in sites:  # a site comes with a company, so after one
        out.write(",\n" + _json(_ocel_site(site)))
    out.write('\n],\n"eventTypes":[')
    out.write(",".join("\n" + _json(_ocel_event_type(name)) for name in types))
    out.write("\n]\n}\n")
    return Summary(n, companies, len(sites))
