"""The Code answers and Coder agreement pages in Urdu (issue 9 item 6): every interface word comes from the
catalogue (ui/i18n/<lang>/code.yaml, agreement.yaml), so a session signed in in Urdu sees no English text of these
pages, section by section and after each action; stored text (answers, code labels, usernames) stays as typed; the
English texts are unchanged. The suite runs in strict mode (tests/conftest.py), so a missing Urdu key raises."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import codebook as cb
from data import coding, flags
from data.importer import import_responses
from tests import test_agreement_page, test_code_page
from tests.conftest import make_user
from tests.test_i18n import _string_args_of_streamlit_calls
from ui.i18n import catalogue, t
from ui.session import LANGUAGE_KEY

ROOT = Path(__file__).resolve().parent.parent
CODE_PAGE = str(ROOT / "pages" / "code.py")
AGREEMENT_PAGE = str(ROOT / "pages" / "agreement.py")

# the pages' own fixtures, shared rather than copied: the Code page's four answers and stand-in suggestion engine,
# the Agreement page's two coders with their codings
answers, fake_engine = test_code_page.answers, test_code_page.fake_engine
coded, kim = test_agreement_page.coded, test_agreement_page.kim


def page(path: str, user, lang: str | None = "ur", **state) -> AppTest:
    at = AppTest.from_file(path, default_timeout=60)
    at.session_state["auth_user"] = user
    if lang:
        at.session_state[LANGUAGE_KEY] = lang
    for key, value in state.items():
        at.session_state[key] = value
    return at


def plain(text: str) -> str:
    """Markdown escapes undone (backslashes, "&#58;"), so escaped words are still found."""
    return html.unescape(text.replace("\\", ""))


def shown(at: AppTest) -> list[str]:
    """Every text the page shows: bodies, labels, values, options, help, placeholders and table headings."""
    found: list[str] = []

    def walk(node) -> None:
        for attr in ("value", "body", "label", "options", "help", "placeholder"):
            try:
                value = getattr(node, attr)
            except Exception:  # noqa: BLE001 - not every node has every attribute
                continue
            if isinstance(value, str):
                found.append(plain(value))
            elif isinstance(value, list | tuple):
                found.extend(plain(v) for v in value if isinstance(v, str))
        proto = getattr(node, "proto", None)
        if getattr(proto, "columns", None):  # a dataframe's column headings and their help
            for config in json.loads(proto.columns).values():
                found.extend(config[k] for k in ("label", "help") if config.get(k))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^{}]*\}", template)
    return re.compile(".*".join(re.escape(p) for p in parts), re.S)


def english_left(at: AppTest, prefix: str) -> list[str]:
    """The English texts of the page's keys (where Urdu differs) that the page shows: a text without placeholders
    anywhere in a shown text, a text with placeholders as the whole of one (the rest of a shown text may be
    stored English, e.g. an undo summary)."""
    english, urdu = catalogue("en"), catalogue("ur")
    texts = shown(at)
    left = []
    for key, text in english.items():
        if not key.startswith(prefix) or urdu[key] == text:
            continue
        if "{" in text:
            pattern = _pattern(text)
            left += [text for s in texts if pattern.fullmatch(s)]
        elif len(text) > 4:
            left += [text for s in texts if text in s]
    return sorted(set(left))


def check(at: AppTest, prefix: str) -> AppTest:
    assert not at.exception
    assert english_left(at, prefix) == []
    return at


# --- Code answers ------------------------------------------------------------------------------------------------

def test_code_page_in_urdu_section_by_section(db, officer, answers, fake_engine):
    at = check(page(CODE_PAGE, officer).run(), "code.")
    assert at.title[0].value == t("code.title", "ur") != t("code.title", "en")
    assert [m.label for m in at.metric] == [t(f"code.metric.{k}", "ur") for k in ("coded", "remaining", "answers")]
    assert at.button(key="code_next").label == t("code.nav.next", "ur")
    assert at.selectbox(key="code_question").options[0] == t("code.filter.all_questions", "ur")
    assert at.segmented_control(key="code_state").options == [t(f"code.show.{k}", "ur")
                                                              for k in ("uncoded", "coded", "all")]
    assert any(t("code.nav.position", "ur", place="1", matching="4") == c.value for c in at.caption)
    assert at.radio(key="code_review_target").options == [t("code.review.target_answer", "ur"),
                                                         t("code.review.target_person", "ur")]

    next(p for p in at.pills if p.key.startswith("code_pills_food_")).set_value(["food"]).run()
    check(at, "code.")
    assert [plain(s.value) for s in at.success] == [t("code.flash.applied", "ur", codes="Food")]
    assert any(t("code.nav.no_longer", "ur", matching="3") == c.value for c in at.caption)
    assert coding.get_answer(db, officer, answers["a1"]).codes == ("food",)
    undo = at.button(key="code_undo")
    assert undo.label == t("code.undo.button_last", "ur", summary="Applied Food")  # the summary is stored English
    undo.click().run()
    check(at, "code.")
    assert [plain(s.value) for s in at.success] == [t("code.flash.undone", "ur", summary="Applied Food")]
    assert coding.get_answer(db, officer, answers["a1"]).codes == ()

    at.button(key="code_accept_food").click().run()
    check(at, "code.")
    assert plain(at.success[0].value) == t("code.flash.accepted", "ur", label="Food")
    at.button(key="code_prev").click().run()
    check(at, "code.")
    assert plain(at.success[0].value) == t("code.flash.first", "ur")

    at.text_input(key="code_search").set_value("food").run()
    check(at, "code.")
    at.button(key="code_bulk_preview_button").click().run()
    check(at, "code.")
    assert at.button(key="code_bulk_apply").label == t("code.bulk.apply", "ur", count="2")
    at.button(key="code_bulk_apply").click().run()
    check(at, "code.")
    assert plain(at.success[0].value) == t("code.flash.bulk_done", "ur", count=2, label="Food")

    at.text_input(key="code_search").set_value("").run()
    memo = next(x for x in at.text_area if x.key.startswith("code_memo_"))
    assert memo.label == t("code.memo.yours", "ur")
    memo.set_value("یاد رکھیں").run()
    at.button(key="code_memo_save").click().run()
    check(at, "code.")
    assert plain(at.success[0].value) == t("code.flash.memo_saved", "ur")

    comment = next(x for x in at.text_input if x.key.startswith("code_review_comment_"))
    comment.set_value("two answers run together").run()
    at.button(key="code_review_issues").click().run()
    check(at, "code.")
    state = t("code.review.state.has_issues", "ur")
    assert plain(at.success[0].value) == t("code.flash.reviewed_answer", "ur", state=state.lower())
    assert t("code.review.title", "ur", state=state) in [plain(e.label) for e in at.expander]

    for _ in range(4):  # to the end of the queue, and one more
        at.button(key="code_next").click().run()
    check(at, "code.")
    assert plain(at.success[0].value) == t("code.flash.last", "ur")


def test_code_page_in_urdu_withheld_answer(db, officer, answers, fake_engine):
    flags.raise_flag(db, officer, kind="auto", reason="possible disclosure", response_id=answers["a1"],
                     category="physical", strength="strong")
    at = check(page(CODE_PAGE, officer, code_current=answers["a1"]).run(), "code.")
    assert [w.value for w in at.warning] == [t("code.withheld.hidden", "ur")]
    assert t("code.suggest.withheld", "ur") in [c.value for c in at.caption]
    lead_coder = make_user("engagement_officer", "safeguarding_lead", name="sue_lead_coder")
    at = check(page(CODE_PAGE, lead_coder, code_current=answers["a1"]).run(), "code.")
    assert [i.value for i in at.info] == [t("code.withheld.lead", "ur")]


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_suggestions_unavailable_is_said_in_the_session_language(db, officer, answers, fake_engine, monkeypatch,
                                                                 lang):
    from data import model_service

    def broken(path):
        raise RuntimeError("no model service here")

    monkeypatch.setattr(model_service, "service_for", broken)
    at = page(CODE_PAGE, officer, lang=lang).run()
    assert not at.exception
    assert t("code.suggest.error", lang) in [plain(c.value) for c in at.caption]
    assert not [b for b in at.button if b.key and b.key.startswith("code_accept_")]
    if lang == "en":
        assert "Suggestions are unavailable just now; coding works as usual." in [plain(c.value) for c in at.caption]
    else:
        check(at, "code.")


def test_code_page_in_urdu_without_codebook_or_answers(db, officer, admin):
    at = check(page(CODE_PAGE, officer).run(), "code.")
    assert [i.value for i in at.info] == [t("code.empty_codebook", "ur")]
    cb.create_code(db, officer, "food", "Food")
    at = check(page(CODE_PAGE, officer).run(), "code.")
    assert [i.value for i in at.info] == [t("code.queue.no_answers", "ur")]


def test_the_check_finds_english_on_the_english_page(db, officer, answers, fake_engine):
    """english_left can fail: on the same page in English it finds the page's words."""
    at = page(CODE_PAGE, officer, lang=None).run()
    assert not at.exception
    left = english_left(at, "code.")
    assert {"Code answers", "Coded by you", "Filter the queue", "Answer {place} of {matching} matching"} <= set(left)
    assert at.title[0].value == "Code answers"


# --- Coder agreement ---------------------------------------------------------------------------------------------

COLUMNS = {"code": "code", "kappa": "kappa", "alpha": "alpha", "n": "n", "same decision": "same",
           "A applied": "a_applied", "B applied": "b_applied", "both": "both", "note": "note"}


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_agreement_table_headings_in_the_session_language_over_fixed_columns(db, officer, coded, lang):
    at = page(AGREEMENT_PAGE, officer, lang=lang).run()
    assert not at.exception
    table = at.dataframe[0]
    assert list(table.value.columns) == list(COLUMNS)  # what the code (and tests) read never changes
    config = json.loads(table.proto.columns)
    assert {name: config[name]["label"] for name in COLUMNS} == {
        name: t(f"agreement.col.{key}", lang) for name, key in COLUMNS.items()}
    if lang == "en":  # the English headings are the column names, as before
        assert all(config[name]["label"] == name for name in COLUMNS)


def test_agreement_page_in_urdu(db, officer, coded):
    at = check(page(AGREEMENT_PAGE, officer).run(), "agreement.")
    assert at.title[0].value == t("agreement.title", "ur") != t("agreement.title", "en")
    assert [m.label for m in at.metric] == [t(f"agreement.metric.{k}", "ur") for k in ("both", "kappa", "alpha")]
    assert at.subheader[0].value == t("agreement.disagreements", "ur")
    assert any(c.value == t("agreement.differ_mine", "ur", count="2") for c in at.caption)
    remove = at.button(key=f"agreement_remove_{coded['r1']}_friends")
    assert remove.label == t("agreement.remove", "ur", label="Friends")
    remove.click().run()
    check(at, "agreement.")
    assert plain(at.success[0].value) == t("agreement.removed", "ur", label="Friends")

    at.number_input(key="agreement_size").set_value(4)
    at.number_input(key="agreement_seed").set_value(11)
    at.button(key="agreement_draw").click().run()
    check(at, "agreement.")
    assert plain(at.success[0].value).startswith("4 جوابات کا نمونہ نکالا گیا (سیڈ 11)")
    sample = at.selectbox(key="agreement_sample")
    assert sample.options[0] == t("agreement.over.all", "ur")
    assert sample.options[1].startswith("نمونہ “") and "سیڈ 11" in sample.options[1]


def test_agreement_page_in_urdu_two_coders_with_nothing_in_common(db, officer, coded):
    lee = make_user("engagement_officer", name="lee_officer")
    coding.apply_many(db, lee, [(coded["r9"], "food")])
    at = check(page(AGREEMENT_PAGE, officer, agreement_coder_b="lee_officer").run(), "agreement.")
    assert at.selectbox(key="agreement_coder_b").value == "lee_officer"
    assert [plain(i.value) for i in at.info] == [t("agreement.none_shared", "ur", a="olu_officer", b="lee_officer")]


def test_agreement_page_in_urdu_alone(db, officer, admin):
    import_responses(db, admin, b"id,question,group,text\nr1,thrive_helps,young_person,answer 1\n", "a.csv",
                     event="Fair")
    at = check(page(AGREEMENT_PAGE, officer).run(), "agreement.")
    assert at.selectbox(key="agreement_coder_b").options == [t("agreement.nobody_else", "ur")]
    assert [i.value for i in at.info] == [t("agreement.needs_two", "ur")]


def test_agreement_page_in_english_alone_keeps_its_words(db, officer, admin):
    import_responses(db, admin, b"id,question,group,text\nr1,thrive_helps,young_person,answer 1\n", "a.csv",
                     event="Fair")
    at = page(AGREEMENT_PAGE, officer, lang=None).run()
    assert not at.exception
    assert at.selectbox(key="agreement_coder_b").options == ["(nobody else has coded yet)"]
    assert "needs two people" in at.info[0].value


# --- the catalogue files -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rel", ["pages/code.py", "pages/agreement.py"])
def test_the_pages_hand_streamlit_no_english_literal(rel):
    assert _string_args_of_streamlit_calls(ROOT / rel) == []


MARKDOWN = "*_`[]#<>$~|"


@pytest.mark.parametrize("prefix", ["code.", "agreement."])
def test_urdu_texts_carry_the_markdown_of_the_english_and_no_other(prefix):
    """The page hands these texts to Streamlit as Markdown: a translation must not add emphasis, links or
    formulas the English has not (or drop the bold the English has)."""
    english, urdu = catalogue("en"), catalogue("ur")
    keys = [k for k in english if k.startswith(prefix)]
    assert len(keys) > 40
    wrong = {k: urdu[k] for k in keys if [urdu[k].count(c) for c in MARKDOWN] != [english[k].count(c) for c in MARKDOWN]}
    assert wrong == {}
