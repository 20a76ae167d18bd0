"""The board report read back as a .docx (A4, footer PAGE field, contents, alt text on every picture, author,
title, sections, right-to-left quotes) and rendered by LibreOffice Writer to PDF and PNG pages (looked at by eye
when the report changes: the PNGs are kept in test-artifacts/report-render/)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from data import findings as df
from data import settings
from data.demo import load_demo
from exports import report, tables

ROOT = Path(__file__).resolve().parents[1]
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    from data import open_db
    from tests.conftest import make_user

    db = open_db(tmp_path_factory.mktemp("report") / "demo.db")
    load_demo(db)
    admin = make_user("admin")
    settings.put(db, admin, "report_author", "Dudley Safeguarding Children Partnership")
    lead = make_user("strategy_lead")
    ex = tables.build(df.load_frames(db, lead, with_text=True))
    author = settings.get(db, "report_author")
    data = report.report_bytes(ex, title="Neglect strategy refresh: what people told us", author=author)
    db.conn.close()
    return data, author


def test_docx_is_a4_with_page_numbers_contents_alt_text_and_author(demo_report):
    data, author = demo_report
    doc = Document(io.BytesIO(data))
    section = doc.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
    footer_xml = section.footer._element.xml
    assert "PAGE" in "".join(t.text or "" for t in section.footer._element.iter(qn("w:instrText")))
    assert 'w:fldCharType="begin"' in footer_xml
    instr = " ".join(t.text or "" for t in doc.element.body.iter(qn("w:instrText")))
    assert "TOC" in instr
    assert doc.core_properties.author == author and author
    assert doc.core_properties.title == "Neglect strategy refresh: what people told us"
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for name in report.SECTIONS:
        assert name in headings, name
    assert headings.index("Executive summary") < headings.index("The engagement in numbers")
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "95% CI" in body and "self-selected" in body and "not coded yet" in body
    pictures = list(doc.element.body.iter(f"{{{WP_NS}}}docPr"))
    assert pictures and len(pictures) == len(doc.inline_shapes)
    for pic in pictures:
        assert len(pic.get("descr") or "") > 30, pic.get("name")
    # the fallback contents list names every question heading
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert "Limitations" in bullets and "Executive summary" in bullets


def test_rtl_quote_is_marked_and_upright():
    doc = Document()
    report._quote(doc, "بچوں کو پیار اور وقت دینا سب سے ضروری ہے", "Giving children love and time matters most.")
    report._quote(doc, "open the youth club", "")
    rtl, ltr, translation = doc.paragraphs[0], doc.paragraphs[2], doc.paragraphs[1]
    assert rtl._p.pPr.find(qn("w:bidi")) is not None
    assert all(r._r.rPr.find(qn("w:rtl")) is not None and r.italic is False for r in rtl.runs)
    assert rtl.text.startswith("\u201d") and rtl.text.endswith("\u201c")
    assert translation.text == "Translation: \u201cGiving children love and time matters most.\u201d"
    assert ltr._p.pPr is None or ltr._p.pPr.find(qn("w:bidi")) is None
    assert ltr.text == "\u201copen the youth club\u201d"
    assert report.is_rtl("بچوں") and not report.is_rtl("open") and not report.is_rtl("123")


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("THRIVE_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("LibreOffice required (THRIVE_REQUIRE_LIBREOFFICE=1) but soffice is not installed")
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")
    return found


def test_libreoffice_writer_renders_the_report(demo_report, tmp_path):
    soffice = _soffice()
    data, _ = demo_report
    path = tmp_path / "report.docx"
    path.write_bytes(data)
    result = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless",
                             "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                            capture_output=True, text=True, timeout=240)
    pdf = tmp_path / "report.pdf"
    assert result.returncode == 0 and pdf.exists(), result.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        if os.environ.get("THRIVE_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("pdftoppm (poppler-utils) required to render pages")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    out = ROOT / "test-artifacts" / "report-render"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("page-*.png"):
        old.unlink()
    subprocess.run([pdftoppm, "-png", "-r", "60", str(pdf), str(out / "page")], check=True, timeout=240)
    pages = sorted(out.glob("page-*.png"))
    assert len(pages) >= 4
    # A4 at 60 dpi: 496 x 702 pixels
    from PIL import Image

    with Image.open(pages[0]) as first:
        assert abs(first.width - 496) <= 2 and abs(first.height - 702) <= 2
