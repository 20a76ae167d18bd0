"""The Word report opened with python-docx: its headings, numbers, quotes, small-cell rule and charts."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from docx import Document

from analysis import findings as af
from data import findings as df
from exports import report, tables
from tests.findings_data import seed


def build(db, user, flt=None, threshold=None):
    return tables.build(df.load_frames(db, user, with_text=True), flt, threshold=threshold)


def open_doc(data: bytes):
    return Document(io.BytesIO(data))


def test_report_headings_and_content(db, admin, lead, officer):
    seeded = seed(db, admin)
    df.pin_quote(db, officer, 2, seeded["answers"][(7, "thrive_helps")])
    seen = []
    doc = open_doc(report.report_bytes(build(db, lead), lambda f, m: seen.append(m)))
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    texts = [t for _, t in headings]
    assert texts[0] == "What children, families and communities told us"
    assert texts[1:4] == ["Contents", "Executive summary", "The engagement in numbers"]
    assert "What helps children and young people thrive?" in texts
    assert "What stops children and young people from thriving?" in texts
    for heading in ("Differences between groups", "Method", "Questions asked", "How answers were coded",
                    "Agreement between coders", "Small numbers", "In their words"):
        assert heading in texts, heading
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "13 people gave 14 answers at 2 event(s)" in body
    assert "“family support when things are hard”" in body  # the pinned quote
    assert "chosen by the engagement team" in body
    assert len(doc.inline_shapes) >= 1  # charts are embedded pictures
    # here every group's cells are under 5 people: no all-grey heat map, one sentence says why
    assert "no comparison between groups here" in body
    group_table = doc.tables[0]
    rows = {r.cells[0].text: r.cells[1].text for r in group_table.rows[1:]}
    assert rows == {"Young person": "6", "Parent or carer": "5", "Front-line practitioner": "<5"}
    assert seen[-1] == "Report ready"


def test_report_reports_agreement_when_two_people_coded(db, admin, lead):
    seeded = seed(db, admin)
    for rid in seeded["answers"].values():
        codes = [c for c in db.execute("SELECT code_id FROM codings WHERE response_id = ?", [rid]).fetchall()]
        for (code,) in codes:
            db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, ?, 'ada_admin', '')",
                       [rid, code])
    db.conn.commit()
    body = "\n".join(p.text for p in open_doc(report.report_bytes(build(db, lead))).paragraphs)
    assert "ada_admin and olu_officer both coded 13 answers" in body  # "dunno" is uncoded
    assert "Mean Cohen's kappa" in body


def _second_coder(db):
    """ada_admin codes every coded answer as olu_officer did, so the agreement paragraph has two coders."""
    for (rid, code) in db.execute("SELECT response_id, code_id FROM codings").fetchall():
        db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, ?, 'ada_admin', '')",
                   [rid, code])
    db.conn.commit()


#: Run in a fresh interpreter: the report as the CLI writes it, then which nltk / scipy modules got imported.
_FRESH_REPORT = """
import json, sys
from data import open_db, findings as df
from data.users import User
from exports import report, tables
db = open_db(sys.argv[1])
ex = tables.build(df.load_frames(db, User("sam_lead", frozenset({"strategy_lead"})), with_text=True))
data = report.report_bytes(ex)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("nltk", "scipy"))
import io
from docx import Document
body = "\\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
print(json.dumps({"heavy": heavy, "agreement": "Mean Cohen's kappa" in body, "quotes": body.count("\u201c")}))
"""


def test_the_report_never_imports_nltk_or_scipy(db_path, db, admin):
    """nltk imports scipy.stats under it: seconds of CPU the board report paid for its quotes' tokens (issue 12:
    the report within 15 s). Quotes, intervals and agreement are all computed without them."""
    seed(db, admin)
    _second_coder(db)
    db.conn.close()
    done = subprocess.run([sys.executable, "-c", _FRESH_REPORT, str(db_path)], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["agreement"] and result["quotes"] >= 3  # the paragraphs that used to need nltk are there
    assert result["heavy"] == []


def test_report_on_an_empty_selection(db, admin, lead):
    seed(db, admin)
    doc = open_doc(report.report_bytes(build(db, lead, af.Filter(groups=("decision_maker",)))))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "0 people gave 0 answers" in body
    assert "Not enough coded answers yet to compare groups." in body
    assert "No answers have been coded by two people yet" in body


def test_report_never_quotes_a_withheld_pin_and_says_how_many_are_withheld(db, admin, lead, officer):
    from data import flags

    seeded = seed(db, admin)
    pinned = seeded["answers"][(7, "thrive_helps")]  # "family support when things are hard"
    df.pin_quote(db, officer, 2, pinned)
    body = "\n".join(p.text for p in open_doc(report.report_bytes(build(db, lead))).paragraphs)
    assert "“family support when things are hard”" in body and "answer(s) in this selection are withheld" not in body
    flags.raise_flag(db, admin, kind="manual", reason="worried", response_id=pinned)
    doc = open_doc(report.report_bytes(build(db, lead)))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "family support when things are hard" not in body and flags.WITHHELD_TEXT not in body
    assert "chosen by the engagement team" not in body
    assert "1 answer(s) in this selection are withheld." in body
    assert "13 people gave 14 answers at 2 event(s)" in body  # counts unchanged


def test_report_names_post_its_in_every_base_that_counts_them(db, admin, lead, officer, researcher):
    """A flipchart post-it is an anonymous voice, never a person (issue 9 item 7): where a share's base includes
    post-its the report says "people and post-its"; without post-its it says "people"."""
    from data import capture, coding

    seed(db, admin)
    body = "\n".join(p.text for p in open_doc(report.report_bytes(build(db, lead))).paragraphs)
    assert "people whose answers to this question have been coded" in body
    assert "people and post-its whose" not in body and "people and post-its with a" not in body
    event = db.execute("SELECT id FROM events ORDER BY name LIMIT 1").fetchone()[0]
    added = capture.add_transcribed(db, researcher, event_id=event, question_id="thrive_helps",
                                    group_id="young_person", text="a safe park with lights")
    code = db.execute("SELECT name FROM codes WHERE archived = 0 AND parent_id IS NOT NULL LIMIT 1").fetchone()[0]
    coding.apply_code(db, officer, added.response_id, code)
    body = "\n".join(p.text for p in open_doc(report.report_bytes(build(db, lead))).paragraphs)
    assert "people and post-its whose answers to this question have been coded" in body
    doc = open_doc(report.report_bytes(build(db, lead)))
    assert any(t.rows[0].cells[1].text == "People and post-its" for t in doc.tables)  # the themes table's header
    assert "1 answers came from 1 flipchart post-it(s)" in body
