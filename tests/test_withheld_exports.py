"""Nothing flagged is published: a flagged answer's words reach no export, quote, pin or phrase table until the
safeguarding lead releases it, while every count still includes it (issue 8, item 1).

Releases go through data.flags.release (and back through data.flags.unrelease), as the safeguarding lead's do.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from analysis import findings as af
from data import findings as df
from data import flags
from data.capture import save_respondent
from data.db import now_utc
from data.flags import WITHHELD_TEXT
from exports import csv_export, refi, report, tables, xlsx
from tests.findings_data import seed

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "findings.py")

#: A disclosure written for this test, typical of the codes it carries (so it would be the obvious quote), with
#: words no other answer uses. Redaction leaves all of it (no name, number or place).
DISCLOSURE = "family support is what we need, my dad hits me when he is drunk and i hide in the shed with my family"
MARKS = ("hits me when he is drunk", "hide in the shed")
#: The words of a second respondent who is the subject of a manual "I'm worried" flag.
WORRIED = {"thrive_helps": "family support and my nan looks after us most weekends now",
           "thrive_stops": "no money for the electric meter since the winter started"}
WORRIED_MARKS = ("my nan looks after us", "electric meter since")


def flags_naming(db, response_id: str | None = None, respondent_id: str | None = None) -> list[str]:
    return [fid for (fid,) in db.execute(
        "SELECT id FROM flags WHERE response_id = ? OR (response_id IS NULL AND respondent_id = ?)",
        [response_id, respondent_id]).fetchall()]


def release(db, user, flag_ids: list[str]) -> None:
    """The safeguarding lead's release ("no further action, may be quoted") of each flag."""
    assert flag_ids
    for flag_id in flag_ids:
        flags.release(db, user, flag_id, "No further action; the young person is safe and may be quoted.")


def code(db, response_id: str, *code_ids: int) -> None:
    for code_id in code_ids:
        db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, ?, 'olu_officer', ?)",
                   [response_id, code_id, now_utc()])
    db.conn.commit()


@pytest.fixture
def world(db, admin):
    """The hand-worked findings data, a flagged disclosure coded under two themes, and a respondent with a manual
    flag on two coded answers."""
    seeded = seed(db, admin)
    e2 = seeded["events"]["e2"]
    saved = save_respondent(db, admin, event_id=e2, group_id="parent_carer", consent=True,
                            answers={"thrive_helps": [DISCLOSURE]}, submission_token="disclosure")
    (rid,) = db.execute("SELECT id FROM responses WHERE respondent_id = ?", [saved.respondent_id]).fetchone()
    code(db, rid, 2, 5)  # "Loving family" and "Poverty": two themes, so it would be quoted twice
    if not flags_naming(db, rid):  # capture's own check usually raises it; the test must not depend on that
        flags.raise_flag(db, admin, kind="auto", reason="possible disclosure (test)", respondent_id=saved.respondent_id,
                         response_id=rid, event_id=e2, category="physical", strength="strong")
    worried = save_respondent(db, admin, event_id=e2, group_id="parent_carer", consent=True,
                              answers={q: [t] for q, t in WORRIED.items()}, submission_token="worried")
    wids = dict(db.execute("SELECT question_id, id FROM responses WHERE respondent_id = ?",
                           [worried.respondent_id]).fetchall())
    code(db, wids["thrive_helps"], 2)
    code(db, wids["thrive_stops"], 5)
    flags.raise_flag(db, admin, kind="manual", reason="I'm worried about this family",
                     respondent_id=worried.respondent_id, event_id=e2)
    return {**seeded, "disclosure": rid, "worried": worried.respondent_id, "worried_answers": wids}


def export_set(db, user, originals=False) -> tables.ExportSet:
    return tables.build(df.load_frames(db, user, with_text=True, originals=originals))


# --- reading every piece of text out of each export -----------------------------------------------------------

def xlsx_texts(data: bytes) -> dict[str, list[str]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
            for ws in wb.worksheets}


def csv_texts(data: bytes) -> list[str]:
    return [field for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for field in row]


def qdpx_texts(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "\n".join(zf.read(name).decode("utf-8") for name in zf.namelist())


def docx_texts(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    parts += [doc.core_properties.comments or "", doc.core_properties.title or ""]
    return "\n".join(parts)


def leaks(text: str, marks=MARKS + WORRIED_MARKS) -> list[str]:
    return [m for m in marks if m in text]


# --- exports --------------------------------------------------------------------------------------------------

def test_no_export_of_a_strategy_lead_holds_a_flagged_answer_until_it_is_released(db, world, lead,
                                                                                    safeguarding_lead):
    ex = export_set(db, lead)
    sheets = xlsx_texts(xlsx.workbook_bytes(ex))
    assert not leaks("\n".join(v for cells in sheets.values() for v in cells))
    assert sheets["Responses"].count(WITHHELD_TEXT) == 3  # the disclosure and both answers of the worried family
    assert WITHHELD_TEXT not in sheets["Quotes"]  # never quoted, not even as the marker
    csv_fields = csv_texts(csv_export.csv_bytes(ex))
    assert not leaks("\n".join(csv_fields)) and csv_fields.count(WITHHELD_TEXT) == 3
    assert not leaks(qdpx_texts(refi.qdpx_bytes(ex)))
    assert not leaks(docx_texts(report.report_bytes(ex)))

    release(db, safeguarding_lead, flags_naming(db, world["disclosure"]))
    ex = export_set(db, lead)
    quotes = xlsx_texts(xlsx.workbook_bytes(ex))["Quotes"]
    assert quotes.count(DISCLOSURE) == 2  # released: quoted again, under both of its themes
    assert not leaks("\n".join(quotes), WORRIED_MARKS)  # the other flag still holds
    assert DISCLOSURE in csv_texts(csv_export.csv_bytes(ex))
    assert all(m in qdpx_texts(refi.qdpx_bytes(ex)) for m in MARKS)
    assert DISCLOSURE in docx_texts(report.report_bytes(ex))


def test_qdpx_selections_point_at_their_own_answer_with_the_marker(db, world, lead):
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(refi.qdpx_bytes(export_set(db, lead)))) as zf:
        root = etree.fromstring(zf.read("project.qde"))
        sources = {n: zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("sources/")}
    ns = {"q": refi.PROJECT_NS}
    texts = dict(db.execute("SELECT id, redacted_text FROM responses").fetchall())
    withheld = {world["disclosure"], *world["worried_answers"].values()}
    seen = set()
    for src in root.iterfind(".//q:TextSource", ns):
        body = sources["sources/" + src.get("plainTextPath").removeprefix("internal://")]
        for sel in src.iterfind("q:PlainTextSelection", ns):
            rid = sel.get("guid")
            piece = body[int(sel.get("startPosition")):int(sel.get("endPosition"))]
            assert piece == (WITHHELD_TEXT if rid in withheld else texts[rid]), rid
            seen.add(rid)
            if rid in withheld:
                assert sel.find("q:Coding", ns) is not None  # its codings stay: it still counts
    assert withheld <= seen


def test_admin_originals_withhold_too(db, world, admin):
    ex = export_set(db, admin, originals=True)
    assert ex.originals
    sheets = xlsx_texts(xlsx.workbook_bytes(ex))
    assert not leaks("\n".join(v for cells in sheets.values() for v in cells))
    fields = csv_texts(csv_export.csv_bytes(ex))
    assert not leaks("\n".join(fields))
    assert fields.count(WITHHELD_TEXT) == 6  # redacted and original columns, three answers
    assert "no money at home" in fields  # an ordinary answer's original is still there


def test_cli_export_withholds(db, db_path, world, tmp_path):
    """The command line's operator holds every role, the safeguarding lead's included: a file is still a
    publication, so it withholds too."""
    from click.testing import CliRunner

    from cli import cli

    out = tmp_path / "answers.csv"
    result = CliRunner().invoke(cli, ["export", "csv", "--db", str(db_path), str(out)])
    assert result.exit_code == 0, result.output
    fields = csv_texts(out.read_bytes())
    assert not leaks("\n".join(fields)) and WITHHELD_TEXT in fields


# --- counts ---------------------------------------------------------------------------------------------------

def test_withholding_changes_no_count(db, world, lead, safeguarding_lead):
    def figures():
        ex = export_set(db, lead)
        sheets = xlsx_texts(xlsx.workbook_bytes(ex))
        counts = {k: v for k, v in ex.counts.items() if k != "answers withheld for safeguarding"}
        frames = (af.theme_shares(ex.sel, "code"), af.by_group(ex.sel, "code"), af.progress(ex.sel))
        return (counts, af.headline(ex.sel), sheets["Summary"], sheets["By group"], sheets["Codings"],
                ex.counts["answers withheld for safeguarding"]), frames

    (*withheld, n_withheld), withheld_frames = figures()
    assert n_withheld == 3
    release(db, safeguarding_lead, flags_naming(db, world["disclosure"]))
    release(db, safeguarding_lead, flags_naming(db, respondent_id=world["worried"]))
    (*released, n_released), released_frames = figures()
    assert n_released == 0
    assert withheld == released
    for a, b in zip(withheld_frames, released_frames, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert withheld[0]["answers"] == 14 + 3 and withheld[0]["respondents"] == 13 + 2


# --- quotes, pins, words --------------------------------------------------------------------------------------

def test_quotes_never_pick_a_withheld_answer_even_the_most_typical(db, world, lead, safeguarding_lead):
    def quote_ids():
        ex = export_set(db, lead)
        return {c: set(af.quotes(ex.sel, c, 3)["response_id"]) for c in (1, 2, 4, 5)}

    withheld = {world["disclosure"], *world["worried_answers"].values()}
    assert not set().union(*quote_ids().values()) & withheld
    assert all(af.quotes(export_set(db, lead).sel, c, 1)["response_id"].tolist() != [world["disclosure"]]
               for c in (4, 5))
    release(db, safeguarding_lead, flags_naming(db, world["disclosure"]))
    after = quote_ids()
    # released, it is the single most typical quote for Poverty and its theme: the withholding above was no luck
    sel = export_set(db, lead).sel
    assert [af.quotes(sel, c, 1)["response_id"].tolist() for c in (4, 5)] == [[world["disclosure"]]] * 2
    assert not set().union(*after.values()) & set(world["worried_answers"].values())


def test_a_pinned_answer_that_is_then_flagged_leaves_the_pins(db, world, officer, lead, admin, safeguarding_lead):
    pinned = world["answers"][(7, "thrive_helps")]  # "family support when things are hard"
    df.pin_quote(db, officer, 2, pinned)
    q = af.quotes(export_set(db, lead).sel, 2, 3)
    assert q.loc[q["pinned"], "response_id"].tolist() == [pinned]

    flags.raise_flag(db, admin, kind="manual", reason="worried", response_id=pinned)
    sel = export_set(db, lead).sel
    q = af.quotes(sel, 2, 3)
    assert pinned not in set(q["response_id"]) and not q["pinned"].any()
    assert pinned not in set(af.coded_answers(sel, 2)["response_id"])  # not offered for pinning either
    assert not [t for t in xlsx_texts(xlsx.workbook_bytes(export_set(db, lead)))["Quotes"]
                if t == "family support when things are hard"]
    with pytest.raises(df.FindingsError, match="withheld"):
        df.pin_quote(db, officer, 2, pinned)
    assert db.execute("SELECT COUNT(*) FROM pinned_quotes").fetchone()[0] == 1  # kept for when it is released

    release(db, safeguarding_lead, flags_naming(db, pinned))
    q = af.quotes(export_set(db, lead).sel, 2, 3)
    assert q.loc[q["pinned"], "response_id"].tolist() == [pinned]


def test_a_manual_flag_on_a_respondent_withholds_all_their_answers(db, world, lead):
    answers = df.load_frames(db, lead, with_text=True).answers.set_index("response_id")
    for rid in world["worried_answers"].values():
        assert answers.loc[rid, "withheld"] and answers.loc[rid, "text"] == WITHHELD_TEXT
    others = answers.drop(index=[world["disclosure"], *world["worried_answers"].values()])
    assert not others["withheld"].any() and WITHHELD_TEXT not in set(others["text"])


def test_frequent_words_and_phrases_leave_withheld_answers_out(db, world, lead, safeguarding_lead):
    def words():
        sel = export_set(db, lead).sel
        w, p = af.words_and_phrases(sel, "thrive_helps", n=500, min_count=1)
        return set(w["word"]), set(p["phrase"])

    w, p = words()
    assert not {"drunk", "shed", "hits"} & w and not {"withheld", "safeguarding"} & w
    assert "hide shed" not in p and not any("withheld" in x for x in p)
    release(db, safeguarding_lead, flags_naming(db, world["disclosure"]))
    w, p = words()
    assert {"drunk", "shed"} <= w  # released, its words count again


# --- caching --------------------------------------------------------------------------------------------------

def test_data_version_changes_when_a_flag_is_raised_or_released(db, world, admin, safeguarding_lead):
    before = df.data_version(db)
    rid = world["answers"][(2, "thrive_helps")]
    (flag_id,) = [flags.raise_flag(db, admin, kind="manual", reason="worried", response_id=rid).id]
    raised = df.data_version(db)
    assert raised != before
    release(db, safeguarding_lead, [flag_id])
    released = df.data_version(db)
    assert released not in (raised, before)
    flags.unrelease(db, safeguarding_lead, flag_id, "Withheld again: the family asked us not to quote it.")
    assert df.data_version(db) not in (released, raised, before)


def test_an_unreleased_answer_is_withheld_again(db, world, lead, safeguarding_lead):
    (flag_id, *_) = flags_naming(db, world["disclosure"])
    release(db, safeguarding_lead, flags_naming(db, world["disclosure"]))
    assert DISCLOSURE in csv_texts(csv_export.csv_bytes(export_set(db, lead)))
    flags.unrelease(db, safeguarding_lead, flag_id, "Withheld again: the family asked us not to quote it.")
    ex = export_set(db, lead)
    assert not leaks("\n".join(csv_texts(csv_export.csv_bytes(ex))))
    assert world["disclosure"] not in set(af.quotes(ex.sel, 5, 3)["response_id"])


def test_findings_page_drops_a_newly_flagged_quote_from_its_cache(db, world, officer, admin):
    """The page caches its frames per data version: a flag raised after the first view must still hide the
    answer on the next run, pinned or not."""
    pinned = world["answers"][(7, "thrive_helps")]
    df.pin_quote(db, officer, 2, pinned)

    def run():
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.session_state["auth_user"] = officer
        at.session_state["findings_quote_code"] = 2
        at.session_state["findings_tab"] = "Quotes"  # the page's tabs are lazy
        at.run()
        assert not at.exception, at.exception
        return at

    def shown(at):
        return [t.value for t in at.text]

    at = run()
    assert "family support when things are hard" in shown(at)
    assert not leaks("\n".join(shown(at)))
    flags.raise_flag(db, admin, kind="manual", reason="worried", response_id=pinned)
    at = run()  # same process: the cached frames of the old version must not be used
    assert "family support when things are hard" not in shown(at)
    assert not [s for s in at.selectbox if s.key == "findings_pin_choice"
                and any("when things are hard" in o for o in s.options)]


# --- the demo data --------------------------------------------------------------------------------------------

def test_demo_flagged_answers_reach_no_quote_of_a_lead(tmp_path, lead):
    from data import open_db
    from data.demo import load_demo

    db = open_db(tmp_path / "demo.db")
    try:
        load_demo(db)
        flagged = {t for (t,) in db.execute(
            f"SELECT r.redacted_text FROM responses r WHERE {flags.withheld_sql('r')}").fetchall()}
        quotable = {t for (t,) in db.execute(
            f"SELECT r.redacted_text FROM responses r WHERE NOT {flags.withheld_sql('r')}").fetchall()}
        assert flagged, "the demo holds flagged answers"
        only_flagged = flagged - quotable  # a text also typed by someone unflagged may be quoted for them
        ex = export_set(db, lead)
        sheets = xlsx_texts(xlsx.workbook_bytes(ex))
        assert not only_flagged & set(sheets["Quotes"])
        assert not only_flagged & set(sheets["Responses"])
        assert not only_flagged & set(csv_texts(csv_export.csv_bytes(ex)))
        n = db.execute(f"SELECT COUNT(*) FROM responses r WHERE {flags.withheld_sql('r')}").fetchone()[0]
        assert sheets["Responses"].count(WITHHELD_TEXT) == n == ex.counts["answers withheld for safeguarding"]
    finally:
        db.conn.close()
