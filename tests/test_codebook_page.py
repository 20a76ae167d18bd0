"""The codebook page under AppTest: load the starter codebook, add, edit and rename, merge, split, archive,
CSV import with errors shown by row, export, and the refusal for roles without the codebook permission."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from data import codebook as cb
from data import coding
from data.importer import import_responses
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "codebook.py")


def plain(markdown: str) -> str:
    """Messages are Markdown-escaped on screen; the words a person reads are without the backslashes."""
    return markdown.replace("\\", "")


def app(user) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = user
    return at


def test_starter_codebook_on_demand(db, officer):
    at = app(officer).run()
    assert not at.exception and "codebook is empty" in at.info[0].value
    assert db.execute("SELECT count(*) FROM codes").fetchone()[0] == 0  # never forced
    at.button(key="codebook_starter").click().run()
    assert db.execute("SELECT count(*) FROM codes").fetchone()[0] == 49
    assert "49 code(s) added" in plain(at.success[0].value)
    at.button(key="codebook_starter").click().run()
    assert "0 code(s) added, 49 already there" in plain(at.success[0].value)
    assert len(at.dataframe[0].value) == 49
    assert "named after the questions" not in " ".join(m.value for m in at.markdown)


def test_question_named_themes_are_offered_a_restructure(db, officer):
    cb.import_codebook_csv(db, officer, (
        b"code,label,definition,parent,keywords\n"
        b"thrive,What helps children thrive,,,\n"
        b"family_love,Loving family,,thrive,\n"
        b"barriers,What stops children thriving,,,\n"
        b"our_idea,Our idea,,barriers,\n"))
    at = app(officer).run()
    assert not at.exception
    assert "named after the questions" in plain(" ".join(m.value for m in at.markdown))
    at.selectbox(key="codebook_restructure_our_idea").set_value("money_housing").run()
    at.button(key="codebook_restructure").click().run()
    assert not at.exception and "Codebook restructured. 2 sub-code(s) moved" in plain(at.success[0].value)
    assert cb.get_code(db, "family_love").parent == "family" and cb.get_code(db, "our_idea").parent == "money_housing"
    assert cb.get_code(db, "thrive").archived and cb.get_code(db, "barriers").archived
    assert "named after the questions" not in " ".join(m.value for m in at.markdown)


def test_add_then_edit_and_rename(db, officer):
    at = app(officer).run()
    at.text_input(key="codebook_add_name").set_value("thrive")
    at.text_input(key="codebook_add_label").set_value("What helps")
    at.button[0].click().run()  # the form's submit button
    assert cb.get_code(db, "thrive").label == "What helps"
    at.text_input(key="codebook_add_name").set_value("thrive")
    at.text_input(key="codebook_add_label").set_value("Again")
    at.button[0].click().run()
    assert "already a code" in plain(at.error[0].value)
    edit_name = next(t for t in at.text_input if t.key.endswith("_name") and t.key.startswith("codebook_edit_"))
    edit_name.set_value("thrive_factors")
    next(t for t in at.text_input if t.key.startswith("codebook_edit_") and t.key.endswith("_label")).set_value(
        "What helps children thrive")
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert not at.exception
    code = cb.get_code(db, "thrive_factors")
    assert code.label == "What helps children thrive"
    assert code.colour == ""  # an untouched colour picker does not give the code a colour


def test_merge_split_and_archive(db, admin, officer):
    import_responses(db, admin, b"id,question,group,text\na1,thrive_helps,young_person,food\n"
                                b"a2,thrive_helps,young_person,money\n", "a.csv", event="Fair")
    ids = dict(db.execute("SELECT external_id, id FROM responses").fetchall())
    for name in ("food", "money", "basics"):
        cb.create_code(db, officer, name, name.title())
    coding.apply_code(db, officer, ids["a1"], "food")
    coding.apply_code(db, officer, ids["a2"], "money")
    at = app(officer).run()
    at.selectbox(key="codebook_merge_source").set_value("food").run()
    at.selectbox(key="codebook_merge_target").set_value("basics").run()
    assert any("1 coding(s)" in m.value for m in at.markdown)
    at.button(key="codebook_merge_button").click().run()
    assert "Merged food into basics" in plain(at.success[0].value)
    assert cb.get_code(db, "food").merged_into == cb.get_code(db, "basics").id
    # split: money's coding on a2 moves to a new code
    at.selectbox(key="codebook_split_source").set_value("money").run()
    at.multiselect(key="codebook_split_answers").set_value([ids["a2"]])
    at.text_input(key="codebook_split_name").set_value("debt")
    at.text_input(key="codebook_split_label").set_value("Debt")
    at.button(key="codebook_split_button").click().run()
    assert coding.answers_with_code(db, officer, "debt")[0][0] == ids["a2"]
    # archive
    at.selectbox(key="codebook_archive_code").set_value("money").run()
    at.button(key="codebook_archive_button").click().run()
    assert cb.get_code(db, "money").archived
    assert "money" not in [c.name for c in cb.list_codes(db)]


def test_import_shows_problems_by_row_then_imports(db, officer):
    at = app(officer).run()
    at.file_uploader(key="codebook_upload").set_value(
        ("bad.csv", b"code,label,definition\nok,Fine,\n,Missing name,\nok,Twice,\n", "text/csv")).run()
    assert "nothing was changed" in plain(at.error[0].value)  # shown as soon as the file is read
    assert at.button(key="codebook_import").disabled
    problems = at.dataframe[-1].value
    assert list(problems["row"]) == [3, 4] and list(problems["column"]) == ["code", "code"]
    assert db.execute("SELECT count(*) FROM codes").fetchone()[0] == 0
    at.file_uploader(key="codebook_upload").set_value(
        ("good.csv", b"code,label,definition,parent\nthrive,Thrive,,\nfam,Family,Love at home,thrive\n",
         "text/csv")).run()
    at.button(key="codebook_import").click().run()
    assert "2 code(s) created" in plain(at.success[0].value)
    assert cb.get_code(db, "fam").parent == "thrive"


THIRD_PARTY_QDC = b"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Another QDA tool">
  <Codes>
    <Code guid="0f9b2a8e-2d54-4b8e-9a51-6c1f0d7c9e11" name="Family &amp; home" isCodable="true" color="#A1B">
      <Description>Things about home life</Description>
      <Code guid="4c1d7e2a-8f3b-4a6e-b0c9-2e5f7a9d1c33" name="Love" isCodable="true"/>
    </Code>
  </Codes>
</CodeBook>
"""


def test_import_a_refi_qda_codebook_from_another_tool(db, officer):
    at = app(officer).run()
    at.file_uploader(key="codebook_upload").set_value(("other-tool.qdc", THIRD_PARTY_QDC, "application/xml")).run()
    at.button(key="codebook_import").click().run()
    assert not at.exception and not at.error
    codes = {c.name: c for c in cb.list_codes(db)}
    theme = next(c for c in codes.values() if c.label == "Family & home")
    child = next(c for c in codes.values() if c.label == "Love")
    assert child.parent == theme.name and theme.definition == "Things about home life"
    at.file_uploader(key="codebook_upload").set_value(("broken.qdc", b"<CodeBook><Codes>", "application/xml")).run()
    assert "nothing was changed" in plain(at.error[0].value) and at.button(key="codebook_import").disabled


def test_export_download(db, officer):
    cb.load_starter_codebook(db, officer)
    at = app(officer).run()
    assert not at.exception
    downloads = at.get("download_button")
    assert downloads, "the export is offered as a download"


def test_refused_without_permission(db, lead):
    for user in (lead, make_user("peer_researcher")):
        at = app(user).run()
        assert at.error and "don't have access" in plain(at.error[0].value)
        assert not at.dataframe


def test_import_preview_then_accept_per_code(db, officer, lead):
    from tests.test_codebook_import import qualcoder_style

    cb.load_starter_codebook(db, officer)
    data = qualcoder_style(db, lead, keep_guids=True)
    definition = cb.get_code(db, "poverty_money").definition
    at = app(officer).run()
    at.file_uploader(key="codebook_upload").set_value(("qualcoder.qdc", data, "application/xml")).run()
    assert not at.exception
    boxes = {plain(b.label): b for b in at.checkbox}  # labels are Markdown-escaped (code names hold "_")
    poverty = next(label for label in boxes if label.startswith("Update poverty_money"))
    assert "moves to another theme" in poverty and "empties its definition" in poverty
    assert any(label.startswith("Update family") for label in boxes)
    frames = [f.value for f in at.dataframe if "field" in f.value.columns]
    assert any(list(f["what"]) == ["re-parent", "blanks yours"] or set(f["what"]) == {"re-parent", "blanks yours"}
               for f in frames)
    assert cb.get_code(db, "poverty_money").parent == "money_housing"  # a preview writes nothing
    # tick only family: its label changes, poverty_money stays as it is
    next(b for b in at.checkbox if plain(b.label).startswith("Update family")).check().run()
    at.button(key="codebook_import").click().run()
    assert not at.exception and "1 updated" in plain(at.success[0].value)
    assert cb.get_code(db, "family").label == "Protective factors"
    poverty_code = cb.get_code(db, "poverty_money")
    assert (poverty_code.parent, poverty_code.definition) == ("money_housing", definition)
