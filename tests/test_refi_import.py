"""REFI-QDA project import (data.refi_import): our own .qdpx coming back with another coder's codings, a foreign
project whose texts are in the archive, and ATLAS.ti's TestProject (../shared/fixtures; its texts are absent)."""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from data import findings as df
from data.refi_import import QdpxError, import_qdpx
from exports import refi, tables
from tests.findings_data import seed

P = f"{{{refi.PROJECT_NS}}}"
NS = {"p": refi.PROJECT_NS}
FIXTURE = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "refi-qda" / "atlasti-TestProject.qdpx"


def counts(db) -> tuple[int, int, int]:
    return tuple(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("responses", "codings", "codes"))


def exported(db, lead) -> tuple[etree._Element, dict[str, bytes]]:
    zf = zipfile.ZipFile(io.BytesIO(refi.qdpx_bytes(tables.build(df.load_frames(db, lead, with_text=True)))))
    return etree.fromstring(zf.read("project.qde")), {n: zf.read(n) for n in zf.namelist() if n != "project.qde"}


def pack(doc: etree._Element, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("project.qde", etree.tostring(doc, xml_declaration=True, encoding="UTF-8"))
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def add_user(doc, name: str) -> str:
    g = str(uuid.uuid4()).upper()  # other tools write upper-case GUIDs
    etree.SubElement(doc.find("p:Users", NS), f"{P}User", {"guid": g, "name": name})
    return g


def add_selection(src, start: int, end: int, user: str, code_guid: str) -> None:
    sel = etree.SubElement(src, f"{P}PlainTextSelection", {"guid": str(uuid.uuid4()), "startPosition": str(start),
                                                            "endPosition": str(end), "creatingUser": user})
    # the schema's order: selections before the source's NoteRefs
    src.remove(sel)
    last = src.findall("p:PlainTextSelection", NS)[-1]
    last.addnext(sel)
    coding = etree.SubElement(sel, f"{P}Coding", {"guid": str(uuid.uuid4()), "creatingUser": user})
    etree.SubElement(coding, f"{P}CodeRef", {"targetGUID": code_guid})


def source_of(doc, qid: str):
    return next(s for s in doc.iterfind("p:Sources/p:TextSource", NS) if s.get("guid") == refi.source_guid(qid))


def test_round_trip_brings_another_coders_codings_back_on_the_same_answers(db, admin, officer, lead):
    seeded = seed(db, admin)
    doc, files = exported(db, lead)
    before = counts(db)
    rid = seeded["answers"][(0, "thrive_stops")]  # "no money at home", the only answer to that question
    src = source_of(doc, "thrive_stops")
    sel = next(s for s in src.findall("p:PlainTextSelection", NS) if s.get("guid") == rid)
    start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
    user = add_user(doc, "nvivo_nia")
    barriers = next(c.get("guid") for c in doc.iter(f"{P}Code") if c.get("name") == "Barriers")
    add_selection(src, start + 3, end - 3, user, barriers)  # a phrase inside the answer, as a coder highlights it
    data = pack(doc, files)

    report = import_qdpx(db, officer, data)
    assert report.ours and report.codings_added == 1, report.lines()
    assert report.codings_present == before[1] == 14 and report.coders == ["nvivo_nia", "olu_officer"]
    assert report.case_links == 14 and report.answers_created == 0
    row = db.execute("SELECT response_id, coder, source FROM codings WHERE coder = 'nvivo_nia'").fetchall()
    assert [tuple(r) for r in row] == [(rid, "nvivo_nia", "import")]
    after = counts(db)
    assert after == (before[0], before[1] + 1, before[2])  # no answer and no code duplicated
    # importing again adds nothing
    again = import_qdpx(db, officer, data)
    assert again.codings_added == 0 and again.codings_present == before[1] + 1 and counts(db) == after


def test_round_trip_after_a_tool_that_renews_every_guid(db, admin, officer, lead):
    """QualCoder writes new GUIDs and keeps only the text and offsets: unique texts still find their answers;
    a selection on one of two identical answers ("friends" twice) is reported, not guessed or dropped."""
    seed(db, admin)
    doc, files = exported(db, lead)
    user = add_user(doc, "qc_quinn")
    poverty = next(c.get("guid") for c in doc.iter(f"{P}Code") if c.get("name") == "Poverty")
    src = source_of(doc, "thrive_helps")
    text = files["sources/" + src.get("plainTextPath").removeprefix("internal://")].decode("utf-8")
    for sel in list(doc.iter(f"{P}PlainTextSelection")):
        sel.set("guid", str(uuid.uuid4()))
        for d in sel.findall("p:Description", NS):
            sel.remove(d)
    a = text.index("family support and a warm home")
    add_selection(src, a, a + len("family support and a warm home"), user, poverty)
    b = text.index("friends", text.index("friends and family") + 20)  # a bare "friends": two answers say it
    add_selection(src, b, b + len("friends"), user, poverty)
    report = import_qdpx(db, officer, pack(doc, files))
    assert report.codings_added == 1, report.lines()
    warm = db.execute("SELECT r.text FROM codings c JOIN responses r ON r.id = c.response_id "
                      "WHERE c.coder = 'qc_quinn'").fetchall()
    assert [w[0] for w in warm] == ["family support and a warm home"]
    assert any("no single answer" in m for m in report.unmapped)
    assert report.unmapped_count >= 1


def test_dry_run_writes_nothing(db, admin, officer, lead):
    seed(db, admin)
    doc, files = exported(db, lead)
    user = add_user(doc, "dry_dee")
    src = source_of(doc, "thrive_stops")
    sel = src.find("p:PlainTextSelection", NS)
    code = next(c.get("guid") for c in doc.iter(f"{P}Code") if c.get("name") == "Barriers")
    add_selection(src, int(sel.get("startPosition")), int(sel.get("endPosition")), user, code)
    before = counts(db)
    report = import_qdpx(db, officer, pack(doc, files), dry_run=True)
    assert report.dry_run and report.codings_added == 1
    assert counts(db) == before
    assert not db.execute("SELECT 1 FROM codings WHERE coder = 'dry_dee'").fetchone()


def test_unknown_code_and_unknown_user_are_reported(db, admin, officer, lead):
    seed(db, admin)
    doc, files = exported(db, lead)
    src = source_of(doc, "thrive_stops")
    sel = src.find("p:PlainTextSelection", NS)
    s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
    add_selection(src, s, e, add_user(doc, "someone"), str(uuid.uuid4()))
    add_selection(src, s, e, str(uuid.uuid4()), next(c.get("guid") for c in doc.iter(f"{P}Code")))
    report = import_qdpx(db, officer, pack(doc, files))
    assert report.codings_added == 0
    assert any("not in the codebook" in m for m in report.unmapped)
    assert any("no creatingUser" in m for m in report.unmapped)


def test_not_a_project_is_refused(db, officer):
    with pytest.raises(QdpxError, match="zip"):
        import_qdpx(db, officer, b"not a zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(QdpxError, match="project.qde"):
        import_qdpx(db, officer, buffer.getvalue())


def test_a_role_without_import_is_refused(db, lead):
    from data.users import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_qdpx(db, lead, b"")


FOREIGN = """<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Youth panel interviews" origin="QualCoder 3.6">
  <Users><User guid="11111111-2222-3333-4444-555555555555" name="Kim"/></Users>
  <CodeBook><Codes>
    <Code guid="aaaaaaaa-0000-0000-0000-000000000001" name="Places" isCodable="false">
      <Code guid="aaaaaaaa-0000-0000-0000-000000000002" name="Parks" isCodable="true"/>
    </Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="bbbbbbbb-0000-0000-0000-000000000001" name="Interview 1" plainTextPath="internal://i1.txt">
      <PlainTextSelection guid="cccccccc-0000-0000-0000-000000000001" startPosition="{start}" endPosition="{end}"
          creatingUser="11111111-2222-3333-4444-555555555555">
        <Coding guid="dddddddd-0000-0000-0000-000000000001" creatingUser="11111111-2222-3333-4444-555555555555">
          <CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000002"/>
        </Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>"""


def test_foreign_project_texts_become_answers_once(db, officer):
    text = "The park by the flats is where we go.\nSchool is fine.\n\nNothing else really."
    start = text.index("The park")
    end = start + len("The park by the flats")
    data = pack(etree.fromstring(FOREIGN.format(start=start, end=end).encode()), {"sources/i1.txt": text.encode()})
    report = import_qdpx(db, officer, data)
    assert report.event == "Youth panel interviews" and report.respondents_created == 1
    rows = db.execute("SELECT text, question_id, source FROM responses ORDER BY position").fetchall()
    # the coded span, then the paragraphs it does not touch
    assert [r[0] for r in rows] == ["The park by the flats", "School is fine.", "Nothing else really."]
    assert {r[1] for r in rows} == {"thrive_helps"} and {r[2] for r in rows} == {"import"}
    coded = db.execute("SELECT r.text, k.name, c.coder FROM codings c JOIN responses r ON r.id = c.response_id "
                       "JOIN codes k ON k.id = c.code_id").fetchall()
    assert [tuple(c) for c in coded] == [("The park by the flats", "parks", "Kim")]
    assert report.codes_created == ["places", "parks"] or set(report.codes_created) == {"places", "parks"}
    assert all(r[0] is not None for r in db.execute("SELECT redacted_text FROM responses"))
    before = counts(db)
    again = import_qdpx(db, officer, data)
    assert again.answers_created == 0 and again.codings_added == 0 and counts(db) == before


def test_foreign_answer_with_a_disclosure_is_flagged(db, officer):
    text = "My step dad hits me when he is drunk.\nThe park is nice."
    data = pack(etree.fromstring(FOREIGN.format(start=text.index("The park"), end=len(text)).encode()),
                {"sources/i1.txt": text.encode()})
    report = import_qdpx(db, officer, data)
    assert report.flags_raised == 1
    flagged = db.execute("SELECT r.text FROM flags f JOIN responses r ON r.id = f.response_id").fetchall()
    assert [f[0] for f in flagged] == ["My step dad hits me when he is drunk."]


def fixture_bytes() -> bytes:
    if not FIXTURE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI: the ATLAS.ti fixture {FIXTURE} is missing")
        pytest.skip(f"ATLAS.ti fixture {FIXTURE} is not present (it lives beside the project, in ../shared)")
    return FIXTURE.read_bytes()


def test_atlasti_project_gives_its_codebook_and_reports_the_rest(db, officer):
    data = fixture_bytes()
    dry = import_qdpx(db, officer, data, dry_run=True)
    assert counts(db) == (0, 0, 0)
    report = import_qdpx(db, officer, data)
    assert report.origin.startswith("ATLAS.ti") and not report.ours
    assert report.answers_created == 0 and report.codings_added == 0
    assert counts(db)[0] == 0 and counts(db)[1] == 0
    codes = db.execute("SELECT COUNT(*) FROM codes").fetchone()[0]
    assert codes == len(report.codes_created) == len(dry.codes_created) == 14
    text = "\n".join(report.lines())
    # every coded text source is named as lacking its text; media and PDF sources are named too
    assert sum("text is not in the archive" in m for m in report.unmapped) == 6
    assert "PictureSource" in text and "VideoSource" in text and "PDFSource" in text
    assert "16 set(s)" in text and "project note(s)" in text
    assert "Coke" in text  # ATLAS.ti's "Coke::diet Coke" path is kept (see the codebook notes)


def test_cli_import_qdpx(db_path, db, admin, lead, tmp_path):
    from cli import cli

    seed(db, admin)
    doc, files = exported(db, lead)
    path = tmp_path / "back.qdpx"
    path.write_bytes(pack(doc, files))
    runner = CliRunner()
    dry = runner.invoke(cli, ["import", "qdpx", str(path), "--dry-run", "--db", str(db_path)])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and "already present 14" in dry.output
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"nope")
    refused = runner.invoke(cli, ["import", "qdpx", str(bad), "--db", str(db_path)])
    assert refused.exit_code == 1 and "zip" in refused.output


def test_cli_export_qdpx_writes_memos_as_notes(db_path, db, admin, tmp_path):
    from cli import cli

    seeded = seed(db, admin)
    rid = seeded["answers"][(0, "thrive_stops")]
    db.execute("INSERT INTO memos (target_type, target_id, author, text, created_at, updated_at) VALUES "
               "('response', ?, 'olu_officer', 'Money worries at home', '2026-11-22T10:00:00+00:00', '')", [rid])
    db.conn.commit()
    out = tmp_path / "p.qdpx"
    result = CliRunner().invoke(cli, ["export", "qdpx", str(out), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    doc = etree.fromstring(zipfile.ZipFile(out).read("project.qde"))
    assert [n.findtext("p:PlainTextContent", namespaces=NS) for n in doc.iterfind("p:Notes/p:Note", NS)] == [
        "Money worries at home"]
