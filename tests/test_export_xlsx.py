"""The Excel and CSV exports read back: sheets, types, frozen header, filters, formula safety, LibreOffice."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess

import pytest
from openpyxl import Workbook, load_workbook

from analysis import findings as af
from data import findings as df
from data.capture import save_respondent
from exports import csv_export, tables, xlsx
from tests.findings_data import seed

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\tleading tab",
    "\rleading carriage return",
    "'=already quoted",
    "#N/A",  # openpyxl would store this as an error value, not text
]


@pytest.fixture
def hostile_db(db, admin, event):
    seed(db, admin)
    for text in HOSTILE:
        save_respondent(db, admin, event_id=event.id, group_id="resident", consent=True,
                        answers={"thrive_local": [text]})
    # The writer is under test here, not redaction (which reads "@SUM" as a social handle): keep texts as typed.
    db.execute("UPDATE responses SET redacted_text = text WHERE question_id = 'thrive_local'")
    db.conn.commit()
    return db


def export_set(db, user, flt=None, originals=False, threshold=None):
    frames = df.load_frames(db, user, with_text=True, originals=originals)
    return tables.build(frames, flt, threshold=threshold)


def read(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_sheets_headers_types_and_layout(hostile_db, lead):
    ex = export_set(hostile_db, lead)
    wb = read(xlsx.workbook_bytes(ex))
    assert wb.sheetnames == list(xlsx.SHEETS)
    responses = wb["Responses"]
    headers = [c.value for c in responses[1]]
    assert headers[:3] == ["response_id", "respondent_id", "event"] and "codes" in headers
    assert "answer_original" not in headers
    assert responses.freeze_panes == "A2"
    assert responses.auto_filter.ref == f"A1:{responses.cell(1, len(headers)).column_letter}{responses.max_row}"
    assert responses.max_row == 1 + ex.counts["answers"] == 1 + 14 + len(HOSTILE)
    assert responses.column_dimensions["H"].width >= 40  # the answer column is wide enough to read
    row = {h: c.value for h, c in zip(headers, responses[2], strict=True)}
    assert isinstance(row["event_date"], dt.datetime) and row["event_date"].date() == dt.date(2026, 11, 20)
    assert isinstance(row["recorded_at_utc"], dt.datetime)
    texts_codes = {r[7].value: r[8].value for r in responses.iter_rows(min_row=2)}
    assert texts_codes["friends and family"] == "family_love; friends_social"
    assert texts_codes["dunno"] is None or texts_codes["dunno"] == ""
    codings = wb["Codings"]
    assert codings.max_row == 1 + 14  # one per coding in findings_data.RESPONDENTS
    assert isinstance(codings["A2"].value, int)
    summary = wb["Summary"]
    cells = {(r[0].value, r[2].value): [c.value for c in r] for r in summary.iter_rows(min_row=2)}
    family = cells[("thrive_helps", "family_love")]
    assert family[5:9] == [8, 8, 12, pytest.approx(8 / 12)]  # answers, respondents, base, share as numbers
    assert cells[("thrive_stops", "barriers")][6] == "<5"  # 1 respondent: suppressed
    assert summary.cell(2, 9).number_format == "0.0%"
    by_group = {(r[0].value, r[2].value): r[4].value for r in wb["By group"].iter_rows(min_row=2)}
    assert by_group[("thrive", "young_person")] == 5
    assert by_group[("thrive", "parent_carer")] == "<5"
    assert by_group[("thrive", "practitioner")] == "<5"
    readme = {r[0].value: r[1].value for r in wb["README"].iter_rows(min_row=2) if r[0].value}
    assert readme["  answers"] == ex.counts["answers"]
    assert "Redacted" in readme["Answer texts"]
    assert "[withheld: safeguarding]" in readme["Safeguarding"]
    assert readme["  answers withheld for safeguarding"] == 0
    assert "Quotes" in " ".join(str(k) for k in readme)
    quotes = wb["Quotes"]
    assert quotes.max_row > 1


def test_hostile_text_is_stored_as_inert_text(hostile_db, lead):
    wb = read(xlsx.workbook_bytes(export_set(hostile_db, lead)))
    found = {}
    for row in wb["Responses"].iter_rows(min_row=2):
        cell = row[7]
        if cell.value in HOSTILE:
            found[cell.value] = cell
    assert set(found) == set(HOSTILE)  # every original recovered exactly, including a leading tab and CR
    for text, cell in found.items():
        assert cell.data_type == "s", text
        if text[0] in xlsx.FORMULA_TRIGGERS or text == "#N/A":
            assert cell.quotePrefix, text


def test_without_the_safety_openpyxl_would_write_a_formula():
    # guards the test above: the hostile input really is dangerous when written naively
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    ws.append([HOSTILE[0]])
    buffer = io.BytesIO()
    wb.save(buffer)
    assert load_workbook(buffer)["x"]["A1"].data_type == "f"


def test_control_characters_do_not_break_the_workbook():
    assert xlsx.clean_text("a\x00b\x07c\td\ne") == "a\ufffdb\ufffdc\td\ne"


def test_filters_and_threshold_reach_the_workbook(hostile_db, lead):
    ex = export_set(hostile_db, lead, af.Filter(groups=("parent_carer",)), threshold=2)
    wb = read(xlsx.workbook_bytes(ex))
    assert wb["Responses"].max_row == 1 + 5
    readme = {r[0].value: r[1].value for r in wb["README"].iter_rows(min_row=2) if r[0].value}
    assert readme["  Respondent groups"] == "Parent or carer"
    by_group = {(r[0].value, r[2].value): r[4].value for r in wb["By group"].iter_rows(min_row=2)}
    assert by_group[("thrive", "parent_carer")] == 4  # threshold 2: shown


def test_originals_only_for_admins(hostile_db, lead, admin):
    from data.users import PermissionDenied

    with pytest.raises(PermissionDenied):
        export_set(hostile_db, lead, originals=True)
    wb = read(xlsx.workbook_bytes(export_set(hostile_db, admin, originals=True)))
    assert "answer_original" in [c.value for c in wb["Responses"][1]]


def test_progress_is_reported(hostile_db, lead):
    seen = []
    xlsx.workbook_bytes(export_set(hostile_db, lead), lambda f, m: seen.append(f))
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_csv_has_bom_codes_and_reversible_formula_safety(hostile_db, lead):
    data = csv_export.csv_bytes(export_set(hostile_db, lead))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == 14 + len(HOSTILE)
    by_text = {csv_export.unescape_field(r["answer_redacted"]): r for r in rows}
    for text in HOSTILE[:-1]:
        written = by_text[text]["answer_redacted"]
        assert written == "'" + text  # inert in a spreadsheet...
        assert csv_export.unescape_field(written) == text  # ...and the original recoverable
    assert by_text["friends and family"]["codes"] == "family_love; friends_social"
    assert by_text["friends and family"]["answer_redacted"] == "friends and family"  # untouched
    assert rows[0]["event_date"] == "2026-11-20"


def _reference_csv(ex) -> bytes:
    """The CSV as csv.writer writes tables.responses' rows cell by cell (what write_csv must equal)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    table = tables.responses(ex)
    writer.writerow(table.headers)
    for row in table.rows():
        writer.writerow([csv_export.escape_field(csv_export._plain(v)) for v in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


CSV_HOSTILE = ['a "quoted" word', "comma, inside", "line\nbreak", "cr\rinside", "both\r\nends", '"', ",", "",
               "'", "-", "ünïcödé 😀 مرحبا", "trailing space ", " leading space", "tab\tinside"]


@pytest.mark.parametrize("originals", [False, True])
def test_csv_equals_csv_writer_cell_by_cell(hostile_db, admin, event, originals):
    for text in CSV_HOSTILE:
        save_respondent(hostile_db, admin, event_id=event.id, group_id="resident", consent=True,
                        answers={"thrive_stops": [text or "x"]})
    hostile_db.execute("UPDATE responses SET redacted_text = text WHERE question_id = 'thrive_stops'")
    empty = hostile_db.execute("SELECT id FROM responses WHERE text = 'x'").fetchone()[0]
    hostile_db.execute("UPDATE responses SET redacted_text = '' WHERE id = ?", [empty])
    # timestamps off the common form take the slow path, and must come out as tables._datetimes makes them
    ids = [r[0] for r in hostile_db.execute("SELECT id FROM responses ORDER BY rowid LIMIT 4").fetchall()]
    for rid, stamp in zip(ids, ["2026-11-20T14:05:12+01:00", "2026-11-20 09:00:00", "not a time",
                                "2026-02-30T10:00:00+00:00"], strict=True):
        hostile_db.execute("UPDATE responses SET created_at = ? WHERE id = ?", [stamp, rid])
    hostile_db.conn.commit()
    ex = export_set(hostile_db, admin, originals=originals)
    data = csv_export.csv_bytes(ex)
    assert data.split(b"\r\n") == _reference_csv(ex).split(b"\r\n")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    stamps = {r[-1] for r in rows[1:]}
    assert "2026-11-20 13:05:12" in stamps and "2026-11-20 09:00:00" in stamps and "" in stamps
    assert {csv_export.unescape_field(r[7]) for r in rows[1:]} >= set(CSV_HOSTILE) - {""}
    filtered = export_set(hostile_db, admin, af.Filter(questions=("thrive_stops",)), originals=originals)
    assert csv_export.csv_bytes(filtered) == _reference_csv(filtered)
    assert len(csv_export.csv_bytes(filtered).decode("utf-8-sig").split("\r\n")) > len(CSV_HOSTILE)


def _soffice() -> str | None:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("THRIVE_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("LibreOffice required (THRIVE_REQUIRE_LIBREOFFICE=1) but soffice is not installed")
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc")
    return found


def test_libreoffice_opens_the_workbook(hostile_db, lead, tmp_path):
    soffice = _soffice()
    path = tmp_path / "thrive.xlsx"
    xlsx.write_workbook(export_set(hostile_db, lead), path)
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "csv:Text - txt - csv "
         "(StarCalc):44,34,76,1,,0,false,true,false,false,false,2",  # sheet 2: Responses
         "--outdir", str(tmp_path / "out"), str(path)],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    converted = sorted(out.glob("*.csv"))
    assert converted, f"no CSV produced: {result.stdout} {result.stderr}"
    responses = next(p for p in converted if "Responses" in p.name)
    cells = {value for row in csv.reader(io.StringIO(responses.read_text(encoding="utf-8"))) for value in row}
    # LibreOffice reads the hostile text as text: not evaluated (no "y", no 1, no error), shown as typed
    for text in HOSTILE[:4]:
        assert text in cells, text
    assert "y" not in cells and "1" not in cells and "Err:508" not in cells
    assert "family_love; friends_social" in cells


def test_cli_exports_with_filters(db_path, db, admin, tmp_path):
    from click.testing import CliRunner

    from cli import cli

    seed(db, admin)
    out = tmp_path / "young.xlsx"
    result = CliRunner().invoke(cli, ["export", "xlsx", str(out), "--db", str(db_path), "--group", "young_person"])
    assert result.exit_code == 0, result.output
    assert "7 answers from 6 respondents" in result.output
    assert load_workbook(out)["Responses"].max_row == 1 + 7
    csv_out = tmp_path / "barriers.csv"
    result = CliRunner().invoke(cli, ["export", "csv", str(csv_out), "--db", str(db_path), "--code", "barriers"])
    assert result.exit_code == 0, result.output
    assert len(csv_out.read_text(encoding="utf-8-sig").splitlines()) == 1 + 2
    bad = CliRunner().invoke(cli, ["export", "xlsx", str(out), "--db", str(db_path), "--code", "nope"])
    assert bad.exit_code == 1 and "Unknown code(s): nope" in bad.output
    actions = db.execute("SELECT target_id, detail FROM audit WHERE action = 'export' ORDER BY id").fetchall()
    assert [a[0] for a in actions] == ["xlsx", "csv"] and '"filename": "young.xlsx"' in actions[0][1]


def test_a_flagged_answer_is_withheld_in_the_workbook_and_the_csv(hostile_db, admin, lead):
    """The README counts it, Responses and the CSV carry the marker in its place, Quotes never shows it."""
    from data import flags

    rid, text = hostile_db.execute("SELECT id, redacted_text FROM responses WHERE redacted_text = 'friends and family'"
                                   ).fetchone()
    flags.raise_flag(hostile_db, admin, kind="manual", reason="worried", response_id=rid)
    ex = export_set(hostile_db, lead)
    wb = read(xlsx.workbook_bytes(ex))
    readme = {r[0].value: r[1].value for r in wb["README"].iter_rows(min_row=2) if r[0].value}
    assert readme["  answers withheld for safeguarding"] == 1
    assert readme["  answers"] == 14 + len(HOSTILE)  # still counted
    headers = [c.value for c in wb["Responses"][1]]
    rows = {r[0]: r for r in wb["Responses"].iter_rows(min_row=2, values_only=True)}
    assert rows[rid][headers.index("answer_redacted")] == flags.WITHHELD_TEXT
    assert rows[rid][headers.index("codes")] == "family_love; friends_social"  # its codes stay
    assert text not in [c.value for row in wb["Quotes"].iter_rows() for c in row]
    assert flags.WITHHELD_TEXT not in [c.value for row in wb["Quotes"].iter_rows() for c in row]
    fields = [f for row in csv.reader(io.StringIO(csv_export.csv_bytes(ex).decode("utf-8-sig"))) for f in row]
    assert text not in fields and fields.count(flags.WITHHELD_TEXT) == 1
