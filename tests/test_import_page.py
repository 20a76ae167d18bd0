"""The Import page under AppTest: a good file imports, a bad file lists every row problem and writes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "import_answers.py")

GOOD = (b"id,question,group,text,respondent\n"
        b"1,thrive_helps,young_person,Youth club,a\n"
        b"2,thrive_stops,young_person,\"Phones, all the time\",a\n"
        b"3,neglect_is,parent_carer,No clean clothes,b\n")
BAD = (b"id,question,group,text\n"
       b"1,thrive_helps,young_person,Youth club\n"
       b"2,thrive_nope,young_person,Something\n"
       b"3,thrive_stops,aliens,Other\n"
       b"3,neglect_is,parent_carer,\n")


def count(db, table):
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.fixture
def app(db, officer):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = officer
    at.run()
    assert not at.exception, at.exception
    return at


def upload(at, name, data, event=""):
    at.file_uploader(key="import_file").upload(name, data, "text/csv")
    at.run()
    if event:
        at.text_input(key="import_event").input(event)
    at.button(key="import_go").click().run()
    assert not at.exception, at.exception
    return at


def test_import_button_waits_for_a_file(app):
    assert app.button(key="import_go").disabled


def test_good_csv_imports_into_the_named_event(app, db):
    upload(app, "answers.csv", GOOD, event="Market day")
    assert count(db, "responses") == 3
    assert count(db, "respondents") == 2
    assert db.execute("SELECT name FROM events").fetchall() == [("Market day",)]
    assert any("3 answers added" in s.value for s in app.success)
    assert not app.error


def test_reimport_adds_nothing_and_says_so(app, db):
    upload(app, "answers.csv", GOOD, event="Market day")
    upload(app, "answers.csv", GOOD, event="Market day")
    assert count(db, "responses") == 3
    assert any("already imported" in s.value for s in app.success)


def test_bad_csv_lists_every_row_problem_and_writes_nothing(app, db):
    upload(app, "bad.csv", BAD)
    assert count(db, "responses") == 0 and count(db, "events") == 0
    assert any("nothing was written" in e.value for e in app.error)
    table = app.dataframe[0].value
    problems = {(int(r.Row), r.Column) for r in table.itertuples()}
    # row 5's answer is blank: skipped and counted, so its repeated id is no longer a problem
    assert problems == {(3, "question"), (4, "group")}


def test_xlsx_upload(app, db):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "question", "group", "text"])
    sheet.append(["x1", "thrive_local", "resident", "=1+1 more parks"])
    buffer = io.BytesIO()
    book.save(buffer)
    app.file_uploader(key="import_file").upload("answers.xlsx", buffer.getvalue(),
                                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    app.run()
    app.button(key="import_go").click().run()
    assert db.execute("SELECT text FROM responses").fetchall() == [("=1+1 more parks",)]


def test_not_a_spreadsheet_is_rejected_in_plain_words(app, db):
    upload(app, "photo.xlsx", b"PK\x03\x04 this is not really a workbook")
    assert count(db, "responses") == 0
    assert any("nothing was written" in e.value for e in app.error)
    assert "xlsx" in " ".join(app.dataframe[0].value["Problem"])


def test_peer_researcher_cannot_import(db, researcher):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.run()
    assert not at.file_uploader
    assert any("don't have access" in e.value for e in at.error)


def test_many_problems_list_200_and_say_how_many_more(app, db):
    rows = b"".join(b"%d,nope,aliens,x\n" % i for i in range(300))  # two problems a row: 600
    upload(app, "bad.csv", b"id,question,group,text\n" + rows)
    assert count(db, "responses") == 0
    assert any("Fix the 600 problem(s) in the file" in e.value for e in app.error)
    assert any("first 200 problems are listed, and 400 more were found" in w.value for w in app.warning)
    assert len(app.dataframe[0].value) == 200


def test_a_file_over_the_row_limit_is_refused_in_plain_words(app, db, monkeypatch):
    import config

    monkeypatch.setattr(config, "IMPORT_MAX_ROWS", 5)
    rows = b"".join(b"%d,thrive_helps,resident,parks\n" % i for i in range(8))
    upload(app, "big.csv", b"id,question,group,text\n" + rows)
    assert count(db, "responses") == 0
    assert any("nothing was written" in e.value for e in app.error)
    assert not app.warning
    (problem,) = app.dataframe[0].value.itertuples()
    assert int(problem.Row) == 7
    assert "more than 5 rows of answers" in problem.Problem and "Split it into smaller files" in problem.Problem


def test_an_unclosed_quote_is_refused_naming_its_row(app, db):
    upload(app, "quote.csv", b'id,question,group,text\n1,thrive_helps,resident,"my mum\n2,thrive_helps,resident,x\n')
    assert count(db, "responses") == 0
    (problem,) = app.dataframe[0].value.itertuples()
    assert int(problem.Row) == 2 and "no closing quote" in problem.Problem


FIXTURES = ROOT / "tests" / "fixtures" / "survey"


def test_survey_export_previews_its_mapping_editable_per_column_then_imports(app, db):
    app.file_uploader(key="import_file").upload("kobo.csv", (FIXTURES / "kobo_semicolon.csv").read_bytes(), "text/csv")
    app.run()
    assert not app.exception, app.exception
    assert any("KoBoToolbox" in i.value for i in app.info)
    boxes = {s.key: s for s in app.selectbox}
    assert boxes["import_col_8"].value == "id"  # _uuid
    assert boxes["import_col_2"].value == "group"
    assert boxes["import_col_3"].value == "question thrive_helps"
    assert boxes["import_col_13"].value == "personal"  # _submitted_by: dropped
    assert count(db, "responses") == 0  # a preview writes nothing
    # the person decides question 2 is not to be imported
    boxes["import_col_4"].set_value("ignore")
    app.run()
    saved = app.get("download_button")[0]
    assert saved.proto.label == "Save mapping"
    app.button(key="import_check").click().run()
    assert count(db, "responses") == 0 and count(db, "events") == 0
    assert any("would be added" in i.value for i in app.info)
    app.button(key="import_go").click().run()
    assert not app.exception, app.exception
    questions = {q for (q,) in db.execute("SELECT DISTINCT question_id FROM responses")}
    assert questions == {"thrive_helps", "neglect_is", "thrive_local"}
    assert count(db, "responses") == 7
    assert any("7 answers added" in s.value for s in app.success)


def test_a_saved_mapping_file_reads_the_next_export(app, db):
    from data.importer import preview

    import_user = app.session_state["auth_user"]
    found, _ = preview(db, import_user, (FIXTURES / "qualtrics.csv").read_bytes(), "q.csv")
    mapping = found.to_yaml().replace("question thrive_stops", "ignore")
    app.file_uploader(key="import_file").upload("q.csv", (FIXTURES / "qualtrics.csv").read_bytes(), "text/csv")
    app.file_uploader(key="import_map_file").upload("m.yaml", mapping.encode(), "application/x-yaml")
    app.run()
    assert {s.key: s.value for s in app.selectbox}["import_col_19"] == "ignore"
    app.button(key="import_go").click().run()
    assert not app.exception, app.exception
    assert count(db, "responses") == 5
    assert db.execute("SELECT COUNT(*) FROM responses WHERE question_id = 'thrive_stops'").fetchone()[0] == 0
