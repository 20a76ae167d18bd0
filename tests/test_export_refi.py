"""REFI-QDA: .qdc and .qdpx validated against the standard's schemas, and .qdc import (ours and other tools').

The schemas live beside the project in ../shared/refi-qda/ (never copied in); without them these validations skip
with the reason, unless THRIVE_REQUIRE_REFI=1 (CI), where a missing schema fails the run.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from data import findings as df
from data.importer import InvalidFile
from exports import refi, tables
from tests.findings_data import CODES, seed

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT.parent / "shared" / "refi-qda"
NS = {"p": refi.PROJECT_NS, "c": refi.CODEBOOK_NS}


def schema(name: str) -> etree.XMLSchema:
    path = SCHEMAS / name
    if not path.exists():
        if os.environ.get("THRIVE_REQUIRE_REFI") == "1":
            pytest.fail(f"REFI-QDA schema required (THRIVE_REQUIRE_REFI=1) but {path} is missing")
        pytest.skip(f"REFI-QDA schema {path} is not present (it lives beside the project, in ../shared/refi-qda)")
    return etree.XMLSchema(etree.parse(str(path)))


@pytest.fixture
def ex(db, admin, lead):
    seeded = seed(db, admin)
    db.execute("UPDATE codes SET colour = '#abc' WHERE id = 4")
    db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, 2, 'ada_admin', "
               "'2026-11-21T10:00:00+00:00')", [seeded["answers"][(1, "thrive_helps")]])
    db.conn.commit()
    return tables.build(df.load_frames(db, lead, with_text=True))


def test_qdc_is_valid_and_nested(ex):
    xml = refi.codebook_xml(ex.prep.codes)
    doc = etree.fromstring(xml)
    schema("Codebook.xsd").assertValid(doc)
    top = doc.findall("c:Codes/c:Code", NS)
    assert [c.get("name") for c in top] == ["Thrive factors", "Barriers"]
    assert [c.get("name") for c in top[0].findall("c:Code", NS)] == ["Loving family", "Friends"]
    assert top[0].get("color") == "#0072B2" and top[1].get("color") == "#AABBCC"
    assert top[0].find("c:Description", NS).text == "About thrive factors"
    assert top[0].get("guid") == refi.code_guid("thrive")


def test_qdpx_is_valid_with_offsets_codings_users_and_cases(ex):
    data = refi.qdpx_bytes(ex)
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    assert "project.qde" in names
    doc = etree.fromstring(zf.read("project.qde"))
    schema("Project.xsd").assertValid(doc)
    users = {u.get("name"): u.get("guid") for u in doc.findall("p:Users/p:User", NS)}
    assert set(users) == {"olu_officer", "ada_admin", refi.EXPORT_USER}
    sources = doc.findall("p:Sources/p:TextSource", NS)
    assert len(sources) == 2  # one per question answered
    selections = 0
    for src in sources:
        path = src.get("plainTextPath")
        assert path.startswith("internal://")
        text = zf.read("sources/" + path.removeprefix("internal://")).decode("utf-8")
        for sel in src.findall("p:PlainTextSelection", NS):
            selections += 1
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            answer = text[start:end]
            assert answer and answer == answer.strip()
            assert sel.get("name") == answer[:60]
    assert selections == 15  # 14 answers, one of them coded by two coders: one selection per coder
    case_guids = {c.get("guid") for c in doc.findall("p:Cases/p:Case", NS)}
    all_codings = doc.findall(".//p:PlainTextSelection/p:Coding", NS)
    codings = [c for c in all_codings if c.find("p:CodeRef", NS).get("targetGUID") not in case_guids]
    assert len(codings) == 15  # 14 by the officer + 1 by the admin
    assert len(all_codings) - len(codings) == 14  # each answer coded once with its case's code
    code_guids = {c.get("guid") for c in doc.findall(".//p:CodeBook//p:Code", NS)}
    assert case_guids <= code_guids
    assert all(c.find("p:CodeRef", NS).get("targetGUID") in code_guids for c in all_codings)
    assert {c.get("creatingUser") for c in codings} == {users["olu_officer"], users["ada_admin"]}
    # QualCoder credits a coding to its selection's creatingUser: every coding's is its selection's
    for c in all_codings:
        assert c.get("creatingUser") == c.getparent().get("creatingUser")
    cases = {c.get("name"): len(c.findall("p:SelectionRef", NS)) for c in doc.findall("p:Cases/p:Case", NS)}
    assert cases == {"Young person": 7, "Parent or carer": 5, "Front-line practitioner": 2}
    # the same data exported twice gets the same GUIDs (analysts can re-import without duplicates)
    again = etree.fromstring(zipfile.ZipFile(io.BytesIO(refi.qdpx_bytes(ex))).read("project.qde"))
    assert [s.get("guid") for s in again.iter(f"{{{refi.PROJECT_NS}}}PlainTextSelection")] == [
        s.get("guid") for s in doc.iter(f"{{{refi.PROJECT_NS}}}PlainTextSelection")]


def test_qdpx_offsets_count_code_points_not_bytes(db, admin, lead, event):
    from data.capture import save_respondent

    texts = ["Ein Café für alle 😊", "ماں باپ کا پیار", "plain"]
    save_respondent(db, admin, event_id=event.id, group_id="resident", consent=True,
                    answers={"thrive_helps": texts})
    db.execute("INSERT INTO codes (name, label, created_at, updated_at) VALUES ('x', 'X', '', '')")
    db.conn.commit()
    ex = tables.build(df.load_frames(db, lead, with_text=True))
    zf = zipfile.ZipFile(io.BytesIO(refi.qdpx_bytes(ex)))
    doc = etree.fromstring(zf.read("project.qde"))
    schema("Project.xsd").assertValid(doc)
    src = doc.find("p:Sources/p:TextSource", NS)
    text = zf.read("sources/" + src.get("plainTextPath").removeprefix("internal://")).decode("utf-8")
    got = [text[int(s.get("startPosition")):int(s.get("endPosition"))] for s in src.findall("p:PlainTextSelection",
                                                                                            NS)]
    assert sorted(got) == sorted(texts)


def test_parse_our_own_qdc_round_trips(ex):
    specs = refi.parse_qdc(io.BytesIO(refi.codebook_xml(ex.prep.codes)), known_names=[n for n, _, _ in
                                                                                        CODES.values()])
    by_code = {s["code"]: s for s in specs}
    assert set(by_code) == {name for name, _, _ in CODES.values()}  # our short names recognised by GUID
    assert by_code["family_love"]["parent"] == "thrive" and by_code["thrive"]["parent"] == ""
    assert by_code["family_love"]["label"] == "Loving family"
    assert by_code["barriers"]["colour"] == "#aabbcc"
    assert by_code["poverty_money"]["definition"] == "About poverty"


THIRD_PARTY = b"""<?xml version="1.0" encoding="utf-8"?>
<!-- written the way another tool might: braces in GUIDs, 3 levels, no descriptions, odd colours -->
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="SomeQDA 2024">
  <Codes>
    <Code guid="{11111111-1111-4111-8111-111111111111}" name="Family &amp; home" isCodable="true" color="#f0a">
      <Code guid="22222222-2222-4222-8222-222222222222" name="Parents" isCodable="true">
        <Description>Mum, dad, carers</Description>
        <Code guid="33333333-3333-4333-8333-333333333333" name="Step-parents" isCodable="true" color="red"/>
      </Code>
      <Code guid="44444444-4444-4444-8444-444444444444" name="parents" isCodable="false"/>
    </Code>
    <Code guid="55555555-5555-4555-8555-555555555555" name="  Money   worries " isCodable="true"/>
  </Codes>
</CodeBook>
"""


def test_parse_third_party_qdc():
    specs = refi.parse_qdc(io.BytesIO(THIRD_PARTY))
    assert [(s["code"], s["label"], s["parent"]) for s in specs] == [
        ("family_home", "Family & home", ""),
        ("parents", "Parents", "family_home"),
        ("step_parents", "Step-parents", "family_home"),  # third level attached to its theme
        ("parents_2", "parents", "family_home"),  # same short name in one file: made unique
        ("money_worries", "Money worries", ""),
    ]
    assert specs[0]["colour"] == "#ff00aa"
    assert "colour" not in specs[2]  # "red" is not a colour we can store
    assert specs[1]["definition"] == "Mum, dad, carers" and specs[0]["definition"] == ""


def test_third_party_qdc_imports_into_the_codebook(db, officer, lead):
    result = df.import_qdc(db, officer, io.BytesIO(THIRD_PARTY))
    assert sorted(result.created) == sorted(["family_home", "parents", "step_parents", "parents_2", "money_worries"])
    parent = db.execute("SELECT p.name FROM codes c JOIN codes p ON p.id = c.parent_id WHERE c.name = 'step_parents'"
                        ).fetchone()[0]
    assert parent == "family_home"
    from data.users import PermissionDenied

    with pytest.raises(PermissionDenied):
        df.import_qdc(db, lead, io.BytesIO(THIRD_PARTY))


@pytest.mark.parametrize("content, message", [
    (b"<CodeBook", "not a readable XML file"),
    (b"<Project xmlns='urn:QDA-XML:project:1.0' name='x'/>", "no CodeBook"),
    (b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes/></CodeBook>", "holds no codes"),
    (b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes><Code guid='x' isCodable='true'/></Codes></CodeBook>",
     "has no name"),
    (b"<html/>", "expected a REFI-QDA CodeBook"),
])
def test_parse_qdc_rejects_bad_files(content, message):
    with pytest.raises(InvalidFile) as err:
        refi.parse_qdc(io.BytesIO(content))
    assert message in str(err.value)


def test_parse_qdc_does_not_expand_entities():
    evil = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes><Code guid='1' name='a&x;' isCodable='true'/>"
            b"</Codes></CodeBook>")
    try:
        specs = refi.parse_qdc(io.BytesIO(evil))
    except InvalidFile:
        return
    assert "root:" not in specs[0]["label"]


def test_cli_qdc_export_and_import(db_path, db, admin, tmp_path):
    from click.testing import CliRunner

    from cli import cli

    seed(db, admin)
    out = tmp_path / "codebook.qdc"
    result = CliRunner().invoke(cli, ["export", "qdc", str(out), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    schema("Codebook.xsd").assertValid(etree.parse(str(out)))
    again = CliRunner().invoke(cli, ["codebook", "import-qdc", str(out), "--db", str(db_path)])
    assert again.exit_code == 0, again.output
    assert "0 new code(s), 5 unchanged, 0 existing" in again.output  # our own codebook comes back unchanged
    assert "0 code(s) created, 0 updated, 5 unchanged" in again.output
    bad = tmp_path / "bad.qdc"
    bad.write_bytes(b"<CodeBook")
    failed = CliRunner().invoke(cli, ["codebook", "import-qdc", str(bad), "--db", str(db_path)])
    assert failed.exit_code == 1 and "not a readable XML file" in failed.output
    qdpx = tmp_path / "project.qdpx"
    assert CliRunner().invoke(cli, ["export", "qdpx", str(qdpx), "--db", str(db_path)]).exit_code == 0
    schema("Project.xsd").assertValid(etree.fromstring(zipfile.ZipFile(qdpx).read("project.qde")))


def test_qdpx_with_a_withheld_answer_stays_valid(db, admin, lead):
    """A withheld answer is written as the marker, with its codings, and the project still validates."""
    from data import flags

    seeded = seed(db, admin)
    rid = seeded["answers"][(1, "thrive_helps")]  # "friends and family"
    flags.raise_flag(db, admin, kind="manual", reason="worried", response_id=rid)
    zf = zipfile.ZipFile(io.BytesIO(refi.qdpx_bytes(tables.build(df.load_frames(db, lead, with_text=True)))))
    doc = etree.fromstring(zf.read("project.qde"))
    schema("Project.xsd").assertValid(doc)
    sel = next(s for s in doc.iterfind(".//p:PlainTextSelection", NS) if s.get("guid") == rid)
    src = sel.getparent()
    body = zf.read("sources/" + src.get("plainTextPath").removeprefix("internal://")).decode("utf-8")
    assert body[int(sel.get("startPosition")):int(sel.get("endPosition"))] == flags.WITHHELD_TEXT
    assert "friends and family" not in body and sel.get("name") == flags.WITHHELD_TEXT
    assert "withheld for safeguarding" in sel.find("p:Description", NS).text
    assert len(sel.findall("p:Coding", NS)) == 3  # its two codes and its case's code


def test_project_writes_each_codes_stored_guid_after_a_rename(db, admin, lead):
    from data import codebook as cb

    seed(db, admin)
    code = cb.get_code(db, "family_love")
    cb.rename_code(db, admin, code, "family_warmth")
    ex = tables.build(df.load_frames(db, lead, with_text=True))
    doc = etree.fromstring(zipfile.ZipFile(io.BytesIO(refi.qdpx_bytes(ex))).read("project.qde"))
    guids = {el.get("guid") for el in doc.iter(f"{{{refi.PROJECT_NS}}}Code")}
    assert code.guid == refi.code_guid("family_love") and code.guid in guids
    assert refi.code_guid("family_warmth") not in guids
    refs = {r.get("targetGUID") for r in doc.iter(f"{{{refi.PROJECT_NS}}}CodeRef")}
    assert refs <= guids
    # the codebook of that export is matched back to our codes by GUID: nothing new, nothing different
    plan = cb.plan_codebook_file(db, refi.codebook_xml(ex.prep.codes), "ours.qdc")
    assert plan.new == [] and plan.differences == []


def test_two_coders_on_the_same_answer_and_code_each_keep_a_selection(db, admin, lead):
    """QualCoder keeps one coding per code, coder and span and credits it to the selection's creatingUser: two
    coders' codings of the same answer with the same code must sit on two selections with different users."""
    seeded = seed(db, admin)
    rid = seeded["answers"][(0, "thrive_helps")]  # "my family", coded family_love (2) by olu_officer
    db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, 2, 'ada_admin', "
               "'2026-11-21T10:00:00+00:00')", [rid])
    db.conn.commit()
    doc = etree.fromstring(zipfile.ZipFile(io.BytesIO(refi.qdpx_bytes(
        tables.build(df.load_frames(db, lead, with_text=True))))).read("project.qde"))
    schema("Project.xsd").assertValid(doc)
    users = {u.get("guid"): u.get("name") for u in doc.findall("p:Users/p:User", NS)}
    family = refi.code_guid("family_love")
    mine = [s for s in doc.iterfind(".//p:PlainTextSelection", NS)
            if s.get("guid") in (rid, refi.selection_guid(rid, "ada_admin"), refi.selection_guid(rid, "olu_officer"))]
    assert len(mine) == 2 and len({(s.get("startPosition"), s.get("endPosition")) for s in mine}) == 1
    by_user = {users[s.get("creatingUser")]: [c.find("p:CodeRef", NS).get("targetGUID")
                                               for c in s.findall("p:Coding", NS)] for s in mine}
    assert set(by_user) == {"ada_admin", "olu_officer"}
    assert all(family in codes for codes in by_user.values())
    assert all(s.get("creatingUser") for s in doc.iterfind(".//p:Sources//p:PlainTextSelection", NS))


def test_cases_are_linked_by_selection_ref_and_by_a_code_of_the_same_guid(ex):
    doc = etree.fromstring(zipfile.ZipFile(io.BytesIO(refi.qdpx_bytes(ex))).read("project.qde"))
    selections = {s.get("guid"): s for s in doc.iterfind("p:Sources//p:PlainTextSelection", NS)}
    codes = {c.get("guid"): c for c in doc.iterfind(".//p:CodeBook//p:Code", NS)}
    for case in doc.findall("p:Cases/p:Case", NS):
        assert codes[case.get("guid")].get("name") == refi.CASE_CODE_PREFIX + case.get("name")
        refs = [r.get("targetGUID") for r in case.findall("p:SelectionRef", NS)]
        assert refs and all(r in selections for r in refs)
        for r in refs:  # each answer's first selection carries its case's code
            assert case.get("guid") in [c.find("p:CodeRef", NS).get("targetGUID")
                                        for c in selections[r].findall("p:Coding", NS)]
    coded_by_case = [c for c in doc.iterfind(".//p:Coding/p:CodeRef", NS)
                     if c.get("targetGUID") in {k.get("guid") for k in doc.findall("p:Cases/p:Case", NS)}]
    assert len(coded_by_case) == len(ex.sel.answers)  # once per answer, never per coder


def test_memos_and_pinned_quotes_become_notes(db, admin, lead):
    from data.refi_import import memos_for_export

    seeded = seed(db, admin)
    rid = seeded["answers"][(1, "thrive_helps")]
    db.execute("INSERT INTO memos (target_type, target_id, author, text, created_at, updated_at) VALUES "
               "('response', ?, 'olu_officer', 'Says friends first', '2026-11-22T10:00:00+00:00', '')", [rid])
    db.execute("INSERT INTO memos (target_type, target_id, author, text, created_at, updated_at) VALUES "
               "('code', '5', 'ada_admin', 'Watch for benefits talk', '2026-11-22T10:00:00+00:00', '')")
    db.execute("INSERT INTO pinned_quotes (code_id, response_id, pinned_by, at) VALUES (3, ?, 'sam_lead', "
               "'2026-11-22T11:00:00+00:00')", [rid])
    db.conn.commit()
    ex = tables.build(df.load_frames(db, lead, with_text=True))
    zf = zipfile.ZipFile(io.BytesIO(refi.qdpx_bytes(ex, memos=memos_for_export(db, lead))))
    doc = etree.fromstring(zf.read("project.qde"))
    schema("Project.xsd").assertValid(doc)
    notes = {n.get("guid"): n for n in doc.findall("p:Notes/p:Note", NS)}
    texts = {n.findtext("p:PlainTextContent", namespaces=NS) for n in notes.values()}
    assert "Says friends first" in texts and "Watch for benefits talk" in texts
    assert any("Pinned as a quote" in t for t in texts)
    sel = next(s for s in doc.iterfind(".//p:PlainTextSelection", NS) if s.get("guid") == rid)
    refs = [r.get("targetGUID") for r in sel.findall("p:NoteRef", NS)]
    assert len(refs) == 2 and all(r in notes for r in refs)
    # QualCoder reads annotations from the source's NoteRef and the note's own PlainTextSelection
    src_refs = [r.get("targetGUID") for r in sel.getparent().findall("p:NoteRef", NS)]
    assert set(refs) <= set(src_refs)
    inner = notes[refs[0]].find("p:PlainTextSelection", NS)
    assert (inner.get("startPosition"), inner.get("endPosition")) == (sel.get("startPosition"),
                                                                      sel.get("endPosition"))
    poverty = next(c for c in doc.iterfind(".//p:CodeBook//p:Code", NS) if c.get("name") == "Poverty")
    assert notes[poverty.find("p:NoteRef", NS).get("targetGUID")].findtext("p:PlainTextContent", namespaces=NS) \
        == "Watch for benefits talk"


def test_hand_escaped_project_reads_back_every_character(db, admin, lead, event):
    """project.qde is written as text (not through lxml): every character an answer, a memo or a coder's name may
    hold must parse back exactly (a bare & breaks the file; an unescaped CR in text or LF/TAB in an attribute is
    normalised away by any XML parser)."""
    from data.capture import save_respondent
    from data.refi_import import memos_for_export

    hostile = 'a & b < c > d "q" \'s ]]> line\nbreak\r\nand\rcr\ttab \x01ctrl ünï 😀 مرحبا'
    seed(db, admin)
    save_respondent(db, admin, event_id=event.id, group_id="resident", consent=True,
                    answers={"thrive_local": [hostile]})
    db.execute("UPDATE responses SET redacted_text = text WHERE question_id = 'thrive_local'")
    rid = db.execute("SELECT id FROM responses WHERE question_id = 'thrive_local'").fetchone()[0]
    code = 2
    db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, ?, 'zed & <co\"der>', "
               "'2026-11-21T10:00:00+01:00')", [rid, code])
    db.execute("INSERT INTO memos (target_type, target_id, author, text, created_at, updated_at) VALUES "
               "('response', ?, 'olu_officer', ?, '2026-11-22T10:00:00+00:00', '')", [rid, hostile])
    db.conn.commit()
    ex = tables.build(df.load_frames(db, lead, with_text=True))
    zf = zipfile.ZipFile(io.BytesIO(refi.qdpx_bytes(ex, memos=memos_for_export(db, lead))))
    doc = etree.fromstring(zf.read("project.qde"))
    schema("Project.xsd").assertValid(doc)
    clean = refi._xml_text(hostile)
    sels = [s for s in doc.iterfind(".//p:PlainTextSelection", NS) if s.get("guid") == rid]
    assert len(sels) == 1 and sels[0].get("name") == clean[:60]
    assert rid in sels[0].find("p:Description", NS).text
    coding = sels[0].find("p:Coding", NS)
    users = {u.get("guid"): u.get("name") for u in doc.findall("p:Users/p:User", NS)}
    assert users[coding.get("creatingUser")] == 'zed & <co"der>'
    assert coding.get("creationDateTime") == "2026-11-21T09:00:00Z"  # another offset, converted to UTC
    memo = next(n for n in doc.findall("p:Notes/p:Note", NS) if n.findtext("p:PlainTextContent", namespaces=NS)
                == clean)
    assert memo is not None
    body = zf.read("sources/" + sels[0].getparent().get("plainTextPath").removeprefix("internal://")).decode()
    assert body[int(sels[0].get("startPosition")):int(sels[0].get("endPosition"))] == clean
