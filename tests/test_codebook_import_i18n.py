"""The Codebook and Import answers pages in Urdu (issue 9 item 6): every interface text comes from the catalogue
(ui/i18n/<lang>/codebook.yaml and import.yaml), no English text of those catalogues is left on the page, and the
summaries the pages now word themselves say in English exactly what the data layer's summary() says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import codebook as cb
from data import coding, open_db
from data.importer import InvalidFile, import_responses
from tests.test_i18n import _string_args_of_streamlit_calls
from ui import session
from ui.i18n import catalogue, t

ROOT = Path(__file__).resolve().parent.parent
CODEBOOK = str(ROOT / "pages" / "codebook.py")
IMPORT = str(ROOT / "pages" / "import_answers.py")
SURVEY = ROOT / "tests" / "fixtures" / "survey"


def page(path: str, user, lang: str) -> AppTest:
    at = AppTest.from_file(path, default_timeout=30)
    at.session_state["auth_user"] = user
    at.session_state[session.LANGUAGE_KEY] = lang
    return at


def plain(markdown: str) -> str:
    return markdown.replace("\\", "")


def shown(at: AppTest, cells: bool = True) -> list[str]:
    """Every text the page shows: messages, labels, placeholders, options, tab and expander names, table headers
    and (unless `cells` is False) cells; markdown escapes removed."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success", "text"):
        out += [plain(str(e.value)) for e in getattr(at, kind)]
    for kind in ("button", "checkbox", "toggle", "selectbox", "multiselect", "text_input", "text_area", "radio",
                 "color_picker", "tabs", "expander"):
        for e in getattr(at, kind):
            out.append(plain(e.label))
            out += [plain(str(o)) for o in getattr(e, "options", [])]
            out += [str(getattr(e, "placeholder", "") or "")]
    for kind in ("download_button", "file_uploader"):
        out += [plain(e.proto.label) for e in at.get(kind)]
    for frame in at.dataframe:
        out += [str(c) for c in frame.value.columns]
        if cells:
            out += [str(v) for v in frame.value.astype(str).to_numpy().ravel()]
    return [s for s in out if s]


def english_left(at: AppTest, prefix: str, cells: bool = True) -> list[str]:
    """Shown texts that are an English text of the catalogue keys under `prefix` (a template: with anything in its
    placeholders), or that contain one of three words or more (a fragment such as a risk in a checkbox label).
    Templates with fewer than 4 letters of their own ("{parts}.") cannot tell and are left out."""
    patterns = []
    for key, text in catalogue("en").items():
        own = re.sub(r"\{\w*\}", " ", text.replace("**", ""))
        if not key.startswith(prefix) or sum(c.isalpha() for c in own) < 4:
            continue
        body = ".*".join(re.escape(part) for part in re.split(r"\{\w*\}", text.replace("**", "")))
        anywhere = ".*" if len(own.split()) >= 3 else ""
        patterns.append((key, re.compile(f"{anywhere}{body}{anywhere}", re.S)))
    return [f"{key}: {s!r}" for s in shown(at, cells) for key, pattern in patterns
            if pattern.fullmatch(s.replace("**", ""))]


def test_the_leftover_finder_can_fail(db, officer):
    """In English the same finder finds the page's own English texts: so an empty result in Urdu means something."""
    at = page(CODEBOOK, officer, "en").run()
    found = english_left(at, "codebook.")
    assert any(f.startswith("codebook.title:") for f in found) and any("codebook.tab.merge" in f for f in found)


@pytest.mark.parametrize("rel", ["pages/codebook.py", "pages/import_answers.py"])
def test_the_pages_hand_streamlit_no_english_literal(rel):
    assert _string_args_of_streamlit_calls(ROOT / rel) == []


def test_field_words_are_the_data_layers_in_english():
    """The file differences name a field in the page's words; in English they are codebook.FIELD_WORDS."""
    assert {f: t(f"codebook.field.{f}", "en") for f in cb.FIELD_WORDS} == cb.FIELD_WORDS


@pytest.mark.parametrize("name", ["codebook", "import"])
def test_urdu_uses_markdown_as_english_does(name):
    """The pages render these texts as markdown without escaping them (English stays as it was): a translation may
    not add emphasis, code, links, formulae or headings the English does not have."""
    english, urdu = catalogue("en"), catalogue("ur")
    odd = {k: ch for k in english if k.startswith(f"{name}.") for ch in "*_`$[]<>#~|&"
           if urdu[k].count(ch) != english[k].count(ch)}
    assert odd == {}


def codebook_db(db, officer):
    """Question-named themes (so the restructure is offered), a coded sub-code, an archived one, a merged one."""
    cb.import_codebook_csv(db, officer, (
        b"code,label,definition,parent,keywords\n"
        b"thrive,What helps children thrive,,,\n"
        b"family_love,Loving family,,thrive,\n"
        b"barriers,What stops children thriving,,,\n"
        b"our_idea,Our idea,,barriers,\n"
        b"home,Home life,Things at home,,\n"
        b"food,Meals,Food at home,home,meals; dinner\n"
        b"money,Money worries,,home,\n"
        b"old,Old code,,home,\n"))
    import_responses(db, officer, b"id,question,group,text\na1,thrive_helps,young_person,food\n", "a.csv",
                     event="Fair")
    (rid,) = db.execute("SELECT id FROM responses").fetchone()
    coding.apply_code(db, officer, rid, "food")
    cb.archive_code(db, officer, cb.get_code(db, "old"))


DIFFERENT = b"code,label,definition,parent\nfood,Meals,,barriers\nnewbie,Newbie,Brand new,home\n"


def test_codebook_page_in_urdu(db, officer):
    codebook_db(db, officer)
    at = page(CODEBOOK, officer, "ur").run()
    assert not at.exception, at.exception
    at.toggle(key="codebook_show_archived").set_value(True).run()
    at.file_uploader(key="codebook_upload").set_value(("cb.csv", DIFFERENT, "text/csv")).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "کوڈ بک" and "Codebook" not in [e.value for e in at.title]
    assert [tab.label for tab in at.tabs][:3] == ["شامل کریں", "ترمیم یا نیا نام", "ضم کریں"]
    assert "sub-code" not in shown(at) and "ذیلی کوڈ" in shown(at)  # the restructure's mapping table
    overview = at.dataframe[1].value
    assert list(overview.columns) == ["کوڈ", "لیبل", "تھیم", "تعریف", "کلیدی الفاظ", "جوابات", "حالت"]
    assert "آرکائیو شدہ" in set(overview["حالت"])
    boxes = [plain(b.label) for b in at.checkbox]
    assert any(b.startswith("food کو اپ ڈیٹ کریں ⚠") and "کسی اور تھیم میں چلا جائے گا" in b for b in boxes), boxes
    diff = next(f.value for f in at.dataframe if "خانہ" in f.value.columns)
    assert "تعریف" in set(diff["خانہ"]) and "آپ کا خانہ خالی" in set(diff["کیا ہو گا"])
    assert english_left(at, "codebook.") == []
    # the import, then a merge: their messages are Urdu too, with the numbers in them
    at.button(key="codebook_import").click().run()
    assert not at.exception and "1 کوڈ بنے" in plain(at.success[0].value), at.success
    assert english_left(at, "codebook.") == []
    at.selectbox(key="codebook_merge_source").set_value("food").run()
    at.selectbox(key="codebook_merge_target").set_value("money").run()
    assert any("1 کوڈنگز" in m.value for m in at.markdown)
    at.button(key="codebook_merge_button").click().run()
    assert not at.exception
    message = plain(at.success[0].value)
    assert "food کو money میں ضم کر دیا گیا" in message and "Merged" not in message
    assert english_left(at, "codebook.") == []


def test_codebook_file_refused_in_urdu_keeps_the_data_layers_problems(db, officer):
    at = page(CODEBOOK, officer, "ur").run()
    at.file_uploader(key="codebook_upload").set_value(
        ("bad.csv", b"code,label,definition\nok,Fine,\n,Missing name,\n", "text/csv")).run()
    assert not at.exception
    assert "کچھ بھی نہیں بدلا" in at.error[0].value and "nothing was changed" not in at.error[0].value
    problems = at.dataframe[-1].value
    assert list(problems.columns) == ["قطار", "کالم", "مسئلہ"] and list(problems["قطار"]) == [3]
    with pytest.raises(InvalidFile) as caught:
        cb.plan_codebook_file(db, b"code,label,definition\nok,Fine,\n,Missing name,\n", "bad.csv")
    assert list(problems["مسئلہ"]) == [p.message for p in caught.value.problems]  # the data layer's words
    assert english_left(at, "codebook.", cells=False) == []  # the cells name the file's columns ("code")


def test_codebook_import_summary_in_english_is_the_data_layers(db, officer, tmp_path):
    """The page words the import's summary itself now; in English it is CodesImported.summary() exactly, also
    with more than five codes held back."""
    existing = b"code,label,definition\n" + b"".join(b"c%d,Code %d,\n" % (i, i) for i in range(7))
    changed = b"code,label,definition\n" + b"".join(b"c%d,Other %d,\n" % (i, i) for i in range(7)) + b"n,New,\n"
    twin = open_db(tmp_path / "twin.db")
    try:
        for database in (db, twin):
            cb.import_codebook_csv(database, officer, existing)
        expected = cb.apply_codebook_import(twin, officer, cb.plan_codebook_file(twin, changed, "x.csv")).summary()
    finally:
        twin.conn.close()
    assert ", ..." in expected  # the case with the list cut short
    at = page(CODEBOOK, officer, "en").run()
    at.file_uploader(key="codebook_upload").set_value(("x.csv", changed, "text/csv")).run()
    at.button(key="codebook_import").click().run()
    assert not at.exception
    assert at.success[0].value == session.md_escape(expected)


def test_import_page_in_urdu(db, officer):
    at = page(IMPORT, officer, "ur").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "جوابات درآمد کریں" and "Import answers" not in [e.value for e in at.title]
    at.file_uploader(key="import_file").upload("kobo.csv", (SURVEY / "kobo_semicolon.csv").read_bytes(), "text/csv")
    at.run()
    assert not at.exception, at.exception
    assert any("پہچانا گیا" in i.value and "KoBoToolbox" in i.value for i in at.info)
    boxes = {s.key: s for s in at.selectbox}
    assert boxes["import_col_13"].value == "personal"  # the options are codes: the logic is the same in Urdu
    assert "ہٹا دیں (ذاتی معلومات)" in boxes["import_col_13"].options
    assert "سوال thrive_helps" in boxes["import_col_3"].options
    assert at.radio(key="import_dates").options == ["پہلے دن (برطانیہ)", "پہلے مہینہ (امریکہ)"]
    assert english_left(at, "import.") == []
    at.button(key="import_check").click().run()
    checked = next(i.value for i in at.info if "جانچ ہو گئی" in i.value)
    assert "جوابات شامل ہوں گے" in checked and "آزمائشی جانچ" in checked and "would be added" not in checked
    assert english_left(at, "import.") == []
    at.button(key="import_go").click().run()
    assert not at.exception, at.exception
    assert any("درآمد ہو گیا" in s.value and "10 جوابات شامل ہوئے" in s.value for s in at.success), [
        s.value for s in at.success]
    assert db.execute("SELECT count(*) FROM responses").fetchone()[0] == 10
    assert english_left(at, "import.") == []


def test_import_problems_in_urdu(db, officer):
    at = page(IMPORT, officer, "ur").run()
    rows = b"".join(b"%d,nope,aliens,x\n" % i for i in range(300))  # two problems a row: 600
    at.file_uploader(key="import_file").upload("bad.csv", b"id,question,group,text\n" + rows, "text/csv")
    at.run()
    at.button(key="import_go").click().run()
    assert not at.exception, at.exception
    assert any("600 مسائل" in e.value and "nothing was written" not in e.value for e in at.error)
    assert any("200" in w.value and "400 مزید" in w.value for w in at.warning)
    assert list(at.dataframe[0].value.columns) == ["قطار", "کالم", "مسئلہ"]
    assert english_left(at, "import.") == []


def test_import_summary_in_english_is_the_data_layers(db, officer):
    """The Check only message is ImportResult.summary() exactly, with the personal columns and blanks in it."""
    data = (SURVEY / "kobo_semicolon.csv").read_bytes()
    at = page(IMPORT, officer, "en").run()
    at.file_uploader(key="import_file").upload("kobo.csv", data, "text/csv")
    at.run()
    at.button(key="import_check").click().run()
    assert not at.exception, at.exception
    expected = import_responses(db, officer, data, "kobo.csv", dry_run=True).summary()
    assert "personal data dropped" in expected and "dry run" in expected
    assert [i.value for i in at.info if i.value.startswith("Checked")] == [
        "Checked, nothing written: " + session.md_escape(expected)]
