"""The process-mining writers on a small log: XES that any XML parser reads back exactly, in
the order IEEE 1849-2016's schema wants; OCEL 2.0 JSON valid against the standard's schema
and consistent (every relation names an object, every type is declared); hostile text kept
as typed; and a large log written without holding it in memory."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from incubator import processmining
from incubator.processmining import (
    LogEvent,
    Summary,
    activity,
    write_ocel,
    write_xes,
    xml_attribute,
)

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "ocel20-schema-json.json"
NS = "{http://www.xes-standard.org/}"
#: Text a process-mining file must carry as typed: markup, quotes, Chinese, line breaks.
NOTE = "a <b> & \"c\" 'd'\n第二行\r\n\tend ]]> =1+1 荆门"
NAME = '湖北"银鹤"<机器人>&有限公司'


def event(
    key: str, n: int, kind: str, from_stage: str, to_stage: str, day: str, **kw: str
) -> LogEvent:
    values = {
        "company_name": "荆门智造科技有限公司", "actor": "wang", "note": "", "reason": "",
        "sector": "biomedicine", "site": "钟祥", "uscc": "",
    } | kw  # fmt: skip
    return LogEvent(
        key, values["company_name"], kind, from_stage, to_stage, f"{day}T01:30:00+00:00",
        values["actor"], values["note"], values["reason"], values["sector"], values["site"],
        values["uscc"], f"{day}T02:00:00+00:00", n, f"hash{n}",
    )  # fmt: skip


def small_log() -> list[LogEvent]:
    """Three companies: one with hostile text that exits, one that advances, one without a
    site or sector."""
    return [
        event("JM-0001", 1, "admit", "", "seed", "2024-01-02", company_name=NAME,
              actor="li&<na>", note=NOTE, sector="green <chemicals>", site='高新区 "东"'),
        event("JM-0001", 2, "advance", "seed", "nursery", "2024-06-03", company_name=NAME,
              sector="green <chemicals>", site='高新区 "东"'),
        event("JM-0001", 3, "exit", "nursery", "exited", "2025-01-01", company_name=NAME,
              reason="listed", note="上市\n", sector="green <chemicals>", site='高新区 "东"'),
        event("JM-0002", 4, "admit", "", "incubator", "2024-03-01"),
        event("JM-0002", 5, "advance", "incubator", "accelerator", "2025-03-01"),
        event("JM-0003", 6, "admit", "", "industrial_park", "2024-05-05", site="", sector=""),
    ]  # fmt: skip


def xes_of(events: list[LogEvent]) -> tuple[bytes, Summary]:
    out = io.BytesIO()
    summary = write_xes(out, events)
    return out.getvalue(), summary


def ocel_of(events: list[LogEvent]) -> tuple[dict[str, Any], Summary]:
    out = io.StringIO()
    summary = write_ocel(out, events)
    return json.loads(out.getvalue()), summary


def attributes(element: ET.Element) -> dict[str, str]:
    """An XES element's own attributes, key → value (the value of a date as written)."""
    return {child.get("key", ""): child.get("value", "") for child in element
            if child.tag != f"{NS}event"}  # fmt: skip


# --- activities ----------------------------------------------------------------------------


def test_an_activity_names_the_move_and_the_stage_it_leads_to_or_the_exit_reason() -> None:
    assert activity("admit", "seed", "") == "admit → seed"
    assert activity("advance", "industrial_park", "") == "advance → industrial_park"
    assert activity("exit", "exited", "failed") == "exit (failed)"


# --- XES -----------------------------------------------------------------------------------


def test_xes_has_one_trace_per_company_with_its_events_in_chain_order() -> None:
    data, summary = xes_of(small_log())
    assert summary == Summary(events=6, companies=3, sites=2)
    log = ET.fromstring(data)
    traces = log.findall(f"{NS}trace")
    assert [attributes(t)["concept:name"] for t in traces] == ["JM-0001", "JM-0002", "JM-0003"]
    first = traces[0]
    assert attributes(first) == {
        "concept:name": "JM-0001", "name": NAME, "site": '高新区 "东"',
        "sector": "green <chemicals>",
    }  # fmt: skip
    events = [attributes(e) for e in first.findall(f"{NS}event")]
    assert [e["concept:name"] for e in events] == [
        "admit → seed", "advance → nursery", "exit (listed)",
    ]  # fmt: skip
    assert events[0] == {
        "concept:name": "admit → seed", "time:timestamp": "2024-01-02T01:30:00+00:00",
        "org:resource": "li&<na>", "lifecycle:transition": "complete", "kind": "admit",
        "to_stage": "seed", "note": NOTE,
    }  # fmt: skip
    assert events[2] == {
        "concept:name": "exit (listed)", "time:timestamp": "2025-01-01T01:30:00+00:00",
        "org:resource": "wang", "lifecycle:transition": "complete", "kind": "exit",
        "from_stage": "nursery", "to_stage": "exited", "reason": "listed", "note": "上市\n",
    }  # fmt: skip
    assert attributes(traces[2]) == {"concept:name": "JM-0003", "name": "荆门智造科技有限公司"}


def test_xes_values_are_typed_and_the_timestamps_are_dates_with_an_offset() -> None:
    log = ET.fromstring(xes_of(small_log())[0])
    for element in log.iter(f"{NS}event"):
        (stamp,) = element.findall(f"{NS}date")
        assert stamp.get("key") == "time:timestamp"
        assert datetime.fromisoformat(stamp.get("value", "")).utcoffset() is not None
        assert {child.tag for child in element} == {f"{NS}string", f"{NS}date"}


def test_xes_follows_the_standards_element_order_and_declares_extensions_and_classifiers() -> None:
    """IEEE 1849-2016's schema: a log holds extensions, globals, classifiers, its attributes,
    then traces; every prefix used is declared by a standard extension."""
    data = xes_of(small_log())[0]
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    log = ET.fromstring(data)
    assert log.tag == f"{NS}log" and log.get("xes.version") == "1849-2016"
    order = ["extension", "global", "classifier", "string", "trace"]
    tags = [child.tag.removeprefix(NS) for child in log]
    assert tags == sorted(tags, key=order.index)
    extensions = {e.get("prefix"): e.get("uri") for e in log.findall(f"{NS}extension")}
    assert extensions == {
        prefix: f"http://www.xes-standard.org/{prefix}.xesext"
        for prefix in ("concept", "time", "org", "lifecycle")
    }
    used = {key.split(b":")[0] for key in re.findall(rb'key="([^"]+)"', data) if b":" in key}
    assert {p.decode() for p in used} <= set(extensions)
    classifiers = {c.get("name"): c.get("keys") for c in log.findall(f"{NS}classifier")}
    assert classifiers == {"Activity": "concept:name", "Stage": "to_stage",
                           "Resource": "org:resource"}  # fmt: skip
    scopes = {g.get("scope"): attributes(g) for g in log.findall(f"{NS}global")}
    assert set(scopes["event"]) == {"concept:name", "time:timestamp", "org:resource",
                                    "lifecycle:transition", "kind", "to_stage"}  # fmt: skip
    for element in log.iter(f"{NS}event"):  # every event has what the globals promise
        assert set(scopes["event"]) <= set(attributes(element))
    for trace in log.iter(f"{NS}trace"):
        assert set(scopes["trace"]) <= set(attributes(trace))


@pytest.mark.parametrize(
    "text",
    [NOTE, NAME, "\t lead and trail \n", "\r", "\u2028\u2029\x85", "&amp; is text", "'\"'",
     "😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "]]>", ""],
)  # fmt: skip
def test_any_text_reads_back_exactly_from_an_xml_attribute(text: str) -> None:
    element = ET.fromstring(f'<string key="note" value="{xml_attribute(text)}"/>')
    assert element.get("value") == text


def test_characters_xml_cannot_hold_are_written_as_the_replacement_character() -> None:
    """None should reach a log (the input rules refuse them); if one did, the file stays XML."""
    text = "a\x00b\x1bc\ud800d\uffffe"
    element = ET.fromstring(f'<string key="note" value="{xml_attribute(text)}"/>')
    assert element.get("value") == "a\ufffdb\ufffdc\ufffdd\ufffde"
    data, _ = xes_of([event("JM-9", 1, "admit", "", "seed", "2024-01-01", note=text)])
    ET.fromstring(data)


def test_an_empty_log_is_an_xes_log_without_traces() -> None:
    data, summary = xes_of([])
    assert summary == Summary(0, 0, 0)
    assert ET.fromstring(data).findall(f"{NS}trace") == []


# --- OCEL 2.0 ------------------------------------------------------------------------------


def validate_ocel(document: dict[str, Any]) -> None:
    """The OCEL 2.0 JSON schema (vendored from ocel-standard.org), timestamps as RFC 3339
    with an offset, and the references the schema cannot check."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(document))
    assert errors == [], errors[0].message
    times = [e["time"] for e in document["events"]] + [
        a["time"] for o in document["objects"] for a in o.get("attributes", [])
    ]
    for time in times:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", time)
    event_types = {t["name"]: {a["name"] for a in t["attributes"]} for t in document["eventTypes"]}
    object_types = {t["name"]: {a["name"] for a in t["attributes"]}
                    for t in document["objectTypes"]}  # fmt: skip
    objects = {o["id"]: o["type"] for o in document["objects"]}
    assert len(objects) == len(document["objects"])
    assert len({e["id"] for e in document["events"]}) == len(document["events"])
    for e in document["events"]:
        assert {a["name"] for a in e["attributes"]} <= event_types[e["type"]]
        assert all(r["objectId"] in objects for r in e["relationships"])
    for o in document["objects"]:
        assert {a["name"] for a in o["attributes"]} <= object_types[o["type"]]
        assert all(r["objectId"] in objects for r in o.get("relationships", []))
    assert {e["type"] for e in document["events"]} == set(event_types)


def test_ocel_is_valid_against_the_ocel_2_json_schema() -> None:
    document, summary = ocel_of(small_log())
    assert summary == Summary(events=6, companies=3, sites=2)
    validate_ocel(document)
    assert [t["name"] for t in document["objectTypes"]] == ["company", "site"]


def test_ocel_events_carry_their_activity_attributes_and_relations() -> None:
    document, _ = ocel_of(small_log())
    first, *_, last = document["events"]
    assert first == {
        "id": "1", "type": "admit → seed", "time": "2024-01-02T01:30:00+00:00",
        "attributes": [{"name": "kind", "value": "admit"}, {"name": "to_stage", "value": "seed"},
                       {"name": "note", "value": NOTE}, {"name": "actor", "value": "li&<na>"}],
        "relationships": [{"objectId": "JM-0001", "qualifier": "moved"},
                          {"objectId": 'site:高新区 "东"', "qualifier": "at site"}],
    }  # fmt: skip
    assert last["relationships"] == [{"objectId": "JM-0003", "qualifier": "moved"}]
    exit_ = document["events"][2]
    assert exit_["type"] == "exit (listed)"
    assert {"name": "reason", "value": "listed"} in exit_["attributes"]
    assert {"name": "from_stage", "value": "nursery"} in exit_["attributes"]
    assert [t["name"] for t in document["eventTypes"]] == [
        "admit → seed", "advance → nursery", "exit (listed)", "admit → incubator",
        "advance → accelerator", "admit → industrial_park",
    ]  # fmt: skip


def test_ocel_companies_carry_their_profile_and_their_stage_at_every_event() -> None:
    document, _ = ocel_of(small_log())
    objects = {o["id"]: o for o in document["objects"]}
    assert set(objects) == {"JM-0001", "JM-0002", "JM-0003", 'site:高新区 "东"', "site:钟祥"}
    assert objects["JM-0001"] == {
        "id": "JM-0001", "type": "company",
        "attributes": [
            {"name": "name", "value": NAME, "time": "1970-01-01T00:00:00Z"},
            {"name": "site", "value": '高新区 "东"', "time": "1970-01-01T00:00:00Z"},
            {"name": "sector", "value": "green <chemicals>", "time": "1970-01-01T00:00:00Z"},
            {"name": "stage", "value": "seed", "time": "2024-01-02T01:30:00+00:00"},
            {"name": "stage", "value": "nursery", "time": "2024-06-03T01:30:00+00:00"},
            {"name": "stage", "value": "exited", "time": "2025-01-01T01:30:00+00:00"},
        ],
        "relationships": [{"objectId": 'site:高新区 "东"', "qualifier": "located at"}],
    }  # fmt: skip
    assert "relationships" not in objects["JM-0003"]
    assert objects["site:钟祥"] == {
        "id": "site:钟祥", "type": "site",
        "attributes": [{"name": "name", "value": "钟祥", "time": "1970-01-01T00:00:00Z"}],
    }  # fmt: skip


def test_ocel_writes_unicode_as_it_is_and_escapes_what_json_must() -> None:
    out = io.StringIO()
    note = '汉江 "q" \\ \n\t\x01 \u2028 😀'
    write_ocel(out, [event("JM-9", 1, "admit", "", "seed", "2024-01-01", note=note)])
    text = out.getvalue()
    assert "汉江" in text and "😀" in text and "\\u6c49" not in text
    (first,) = json.loads(text)["events"]
    assert {"name": "note", "value": note} in first["attributes"]


def test_an_empty_log_is_a_valid_ocel_log_without_events() -> None:
    document, summary = ocel_of([])
    assert summary == Summary(0, 0, 0)
    validate_ocel(document)
    assert document["events"] == document["objects"] == document["eventTypes"] == []


# --- streaming -----------------------------------------------------------------------------


def synthetic(companies: int) -> Iterator[LogEvent]:
    """A log made on the fly: three events a company, across four sites."""
    n = 0
    for c in range(companies):
        key = f"JM-{c:07d}"
        site = ("钟祥", "京山", "沙洋", "高新区")[c % 4]
        for kind, from_stage, to_stage in (("admit", "", "seed"), ("advance", "seed", "nursery"),
                                           ("exit", "nursery", "exited")):  # fmt: skip
            n += 1
            reason = "failed" if kind == "exit" else ""
            yield event(key, n, kind, from_stage, to_stage, "2024-01-01", site=site,
                        reason=reason, note="跟踪服务" * 5)  # fmt: skip


class Sink(io.RawIOBase):
    """A file that keeps only how much was written."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)


class TextSink(io.TextIOBase):
    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        return len(text)


def peak_memory(write: Any, companies: int) -> tuple[int, int]:
    """(peak bytes allocated while writing, bytes written)."""
    sink = Sink() if write is write_xes else TextSink()
    tracemalloc.start()
    try:
        write(sink, synthetic(companies))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, sink.size


@pytest.mark.parametrize("write", [write_xes, write_ocel], ids=["xes", "ocel"])
def test_a_large_log_is_written_without_holding_it_in_memory(write: Any) -> None:
    """Ten times the events take no more memory: the writers stream (a few hundred kB of
    buffers, whatever the size of the log)."""
    small_peak, small_size = peak_memory(write, 300)
    large_peak, large_size = peak_memory(write, 3_000)
    assert large_size > 9 * small_size > 4_000_000
    assert large_peak < small_peak + 128 * 1024
    assert large_peak < 1024 * 1024


def test_log_events_have_the_columns_of_the_csv_export() -> None:
    from incubator.eventlog import EXPORT_COLUMNS

    assert LogEvent._fields == EXPORT_COLUMNS
    assert processmining.LogEvent._make(range(len(EXPORT_COLUMNS))).event_id == 13
