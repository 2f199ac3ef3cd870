"""The administrators' import and export of company facts on the audit page (AppTest): the
same uploader as the event log's (a facts file is told by its `fact` column), the same
line-by-line report, in English and in 简体中文, and the facts as an xlsx download."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from incubator import services
from incubator.access import cli_owner
from incubator.store import Database
from tests.e2e.test_ui import app_db, open_page, shown, sign_in, texts  # noqa: F401  (fixture)
from tests.e2e.test_ui_downloads import XLSX, downloads, served  # noqa: F401  (fixture)

GOOD = (
    "company_key,fact,date,kind,number,amount,round,investor,year,revenue,employees\n"
    "JM-0002,qualification,2024-03-01,high_tech,GR202442000123,,,,,,\n"
    'jm-0002,financing,2024-06-01,,,"6,000,000",A,湖北高投,,,\n'
    "JM-0003,figures,,,,,,,2024,8000000,35\n"
)
BAD = (
    "company_key,fact,date,kind,amount\n"
    "JM-0002,qualification,2024-03-01,unicorn,\n"  # 2: unknown kind
    "JM-0002,award,2024-03-01,,\n"  # 3: unknown fact
    "JM-0003,financing,2024-06-01,,-5\n"  # 4: negative money
    "JM-0099,founded,2020-01-01,,\n"  # 5: unknown company
    "JM-0001,founded,2020-01-01,,\n"  # good, but the file is rejected
)


def upload(at: Any, name: str, text: str) -> None:
    at.file_uploader(key="audit_import_file").upload(name, text.encode(), "text/csv")
    at.button(key="audit_import_button").click().run()
    assert not at.exception, [e.message for e in at.exception]


def test_an_admin_imports_a_facts_file(app_db: Database) -> None:  # noqa: F811
    at = open_page(sign_in("admin"), "audit")
    upload(at, "facts.csv", GOOD)
    assert any(
        "Import done: 3 fact record(s) for 2 companies." in toast for toast in texts(at.toast)
    ), texts(at.toast)
    facts = services.facts(app_db, "JM-0002").to_json()
    assert facts["qualifications"][0]["number"] == "GR202442000123"
    assert facts["financing"][0]["amount"] == 6_000_000
    assert services.records(app_db, "JM-0002")[-1].actor == "admin"  # the signed-in admin
    assert services.facts(app_db, "JM-0003").to_json()["figures"][0]["revenue"] == 8_000_000
    assert services.verify_audit(app_db).ok


def test_a_rejected_facts_file_lists_every_bad_line_and_writes_nothing(
    app_db: Database,  # noqa: F811
) -> None:
    at = open_page(sign_in("admin"), "audit")
    upload(at, "bad-facts.csv", BAD)
    assert any("nothing was imported: 4 bad rows" in e for e in texts(at.error)), texts(at.error)
    (problems,) = at.table
    assert problems.value["Line"].tolist() == [2, 3, 4, 5]
    reported = [shown(p) for p in problems.value["Problem"].tolist()]
    assert reported[0].startswith("cannot record qualification for JM-0002: unknown qualification")
    assert reported[1].startswith("unknown fact 'award'; allowed: founded, qualification")
    assert "cannot be negative (-5)" in reported[2]
    assert reported[3] == "no company with key 'JM-0099'"
    assert services.facts(app_db, "JM-0001").to_json()["founded_on"] is None


def test_a_rejected_facts_file_is_reported_in_chinese(app_db: Database) -> None:  # noqa: F811
    at = open_page(sign_in("admin", lang="zh"), "audit")
    upload(at, "bad-facts.csv", BAD)
    assert any("文件被拒绝，未导入任何数据：共 4 行有误" in e for e in texts(at.error)), texts(
        at.error
    )
    (problems,) = at.table
    assert problems.value["行号"].tolist() == [2, 3, 4, 5]
    reported = [shown(p) for p in problems.value["问题"].tolist()]
    assert reported == [
        "无法为 JM-0002 记录资质认定：未知资质类型 “unicorn”；可选：科技型中小企业、高新技术企业、"
        "专精特新中小企业、专精特新“小巨人”、瞪羚企业、隐形冠军",
        "未知材料类型 “award”；可选：成立日期、资质认定、资质撤销、融资、里程碑、年度数据",
        "无法为 JM-0003 记录融资：金额不能为负数（-5）",
        "没有编号为 “JM-0099” 的企业",
    ]
    upload(at, "facts.csv", GOOD)
    assert any("已导入 2 家企业的 3 条企业材料。" in toast for toast in texts(at.toast))


def test_a_manager_sees_no_import_and_no_facts_download(app_db: Database) -> None:  # noqa: F811
    at = open_page(sign_in("wang"), "audit")
    assert "audit_import_button" not in {b.key for b in at.button}
    assert "audit_export_facts" not in {b.key for b in at.get("download_button")}


def test_the_facts_download_is_a_workbook_where_text_stays_text(
    app_db: Database,  # noqa: F811
    downloads: dict[str, dict[str, Any]],  # noqa: F811
) -> None:
    services.import_facts(app_db, GOOD, actor=cli_owner("setup"))
    services.record_milestone(app_db, "JM-0004", "listed", on="2024-05-01",
                              actor=cli_owner("=cmd|' /C calc'!A0"),
                              evidence="=HYPERLINK(\"http://evil.example\")")  # fmt: skip
    at = open_page(sign_in("admin"), "audit")
    file_name, mime, data = served(at, "audit_export_facts", downloads)
    assert (file_name, mime) == ("incubator-facts.xlsx", XLSX)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "facts"
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [(r["company_key"].value, r["fact"].value) for r in rows] == [
        ("JM-0002", "qualification"), ("JM-0002", "financing"), ("JM-0003", "figures"),
        ("JM-0004", "milestone"),
    ]  # fmt: skip
    assert rows[1]["amount"].value == 6_000_000 and rows[1]["amount"].data_type == "n"
    listed = rows[3]
    for column in ("actor", "evidence"):
        assert listed[column].value.startswith("="), column
        assert listed[column].data_type == "s", column
