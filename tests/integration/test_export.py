"""Exports on both backends: the xlsx workbook holds the CSV's values with every text as a
text cell, and the CSV's optional BOM re-imports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from openpyxl import load_workbook

from incubator import services
from incubator.store import Database
from tests.conftest import OWNER, register_sites

HOSTILE_CSV = (
    "company_key,company_name,event,from_stage,to_stage,effective_at,actor,note,reason,sector,site,uscc\n"
    'JM-1,"=HYPERLINK(""http://x"",""y"")",admit,,seed,2024-01-01,@SUM(1+1),"+cmd|\' /C calc\'!A0",,biomedicine,-1+1,\n'
    "JM-1,,advance,seed,nursery,2024-03-01,wang,=1+1 第二行,,,,\n"
    "JM-2,荆门智造科技,admit,,incubator,2024-02-01T09:30:00+08:00,li,,,green chemicals,京山,91350100M000100Y43\n"
)


def csv_rows(db: Database, *, bom: bool = False) -> tuple[str, list[list[str]]]:
    out = io.StringIO()
    services.export_events(db, out, bom=bom)
    text = out.getvalue()
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_workbook_holds_the_csv_values_as_text_cells(db: Database) -> None:
    register_sites(db, "-1+1")  # an admin adds a site first
    services.import_events(db, HOSTILE_CSV.encode(), actor=OWNER, source="hostile.csv")
    _, expected = csv_rows(db)
    out = io.BytesIO()
    heard: list[str] = []
    n = services.export_workbook(db, out, progress=lambda phase, done, total: heard.append(phase))
    assert n == 3 and heard[-1] == "saving"
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    got = [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows()]
    assert got == expected
    text_cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert {c.data_type for c in text_cells} == {"s"}
    assert '=HYPERLINK("http://x","y")' in [c.value for c in text_cells]


def test_a_csv_with_a_bom_imports_into_an_empty_database_as_the_same_log(
    db: Database, make_database: Callable[[str], Database]
) -> None:
    register_sites(db, "-1+1")  # an admin adds a site first
    services.import_events(db, HOSTILE_CSV.encode(), actor=OWNER, source="hostile.csv")
    text, first = csv_rows(db, bom=True)
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbfcompany_key,")
    other = make_database("sqlite" if db.dialect == "sqlite" else "postgresql")
    register_sites(other, "-1+1")
    services.import_events(other, text.encode("utf-8"), actor=OWNER, source="bom.csv")
    _, second = csv_rows(other)
    assert [r[:12] for r in second] == [r[:12] for r in first]
