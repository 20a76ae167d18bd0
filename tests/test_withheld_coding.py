"""Nothing flagged is shown in the coding workspace: a withheld answer (an unreleased safeguarding flag on it, or a
manual flag on its respondent) reads "[withheld: safeguarding]" in the coding queue, the current answer, coded-answer
lists, bulk-search previews, suggestion reasons and agreement disagreements, on the Code and Agreement pages too,
while counts still include it; the safeguarding lead still reads it; after release everyone does."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import agreement, coding, flags
from data import codebook as cb
from data.coding import Filters
from data.flags import WITHHELD_TEXT
from data.importer import import_responses
from data.suggestions import build_suggester, suggest_uncoded
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parent.parent

#: words only the flagged answer holds, written for this test
SECRET = "locks me in the cold garage"
#: words only the answers of the respondent under a manual flag hold
ALLOTMENT, TRAMPOLINE = "grandads allotment shed", "trampoline park fees"

ANSWERS = (  # created_at fixes the queue order
    "id,question,group,text,respondent,created_at\n"
    f"w1,thrive_stops,young_person,he {SECRET} at night,,2026-11-20T10:00:01Z\n"
    "o1,thrive_stops,young_person,cold house at night and no food,,2026-11-20T10:00:02Z\n"
    f"m1,thrive_helps,young_person,my {ALLOTMENT},p7,2026-11-20T10:00:03Z\n"
    f"m2,thrive_stops,young_person,the {TRAMPOLINE},p7,2026-11-20T10:00:04Z\n"
    "o2,thrive_helps,parent_carer,a warm home and food on the table,,2026-11-20T10:00:05Z\n"
    "o3,thrive_stops,young_person,the cold garage at home,,2026-11-20T10:00:06Z\n"
)


@pytest.fixture
def sue_coder():
    """Someone who both codes and is the safeguarding lead."""
    return make_user("engagement_officer", "safeguarding_lead", name="sue_lead_coder")


@pytest.fixture
def answers(db, admin, officer):
    import_responses(db, admin, ANSWERS.encode(), "answers.csv", event="Drop-in")
    for name, label in (("home", "Home"), ("food", "Food"), ("money", "Money")):
        cb.create_code(db, officer, name, label)
    ids = dict(db.execute("SELECT external_id, id FROM responses").fetchall())
    # the importer may have flagged some answers itself; release those, so that only the flags below withhold
    release_all(db)
    flags.raise_flag(db, officer, kind="auto", reason="possible disclosure", response_id=ids["w1"],
                     category="physical", strength="strong")
    respondent = db.execute("SELECT respondent_id FROM responses WHERE id = ?", [ids["m1"]]).fetchone()[0]
    flags.raise_flag(db, officer, kind="manual", reason="Peer researcher is worried about this person",
                     respondent_id=respondent)
    return ids


def release_all(db) -> None:
    """The safeguarding lead releases every open flag ("no further action, may be quoted")."""
    lead = make_user("safeguarding_lead", name="sue_safeguarding")
    for (flag_id,) in db.execute("SELECT id FROM flags WHERE released_at IS NULL").fetchall():
        flags.release(db, lead, flag_id, "Checked with the family centre: no further action, may be quoted.")


WITHHELD = {"w1", "m1", "m2"}


def plain(text: str) -> str:
    """Text with Markdown escapes (backslashes, "&#58;" for a colon) undone, so escaped words are still found."""
    return html.unescape(text.replace("\\", ""))


def leaked(text: str) -> list[str]:
    return [words for words in (SECRET, ALLOTMENT, TRAMPOLINE) if words in plain(text)]


# --- the core ------------------------------------------------------------------------------------------------------

def test_queue_and_current_answer_show_the_marker_and_counts_include_them(db, officer, answers):
    page = coding.queue(db, officer, Filters(), page_size=50)
    assert page.total == 6 and coding.counts(db, officer).total == 6
    by_id = {a.id: a for a in page.answers}
    for ext, rid in answers.items():
        answer = by_id[rid]
        assert answer.withheld == (ext in WITHHELD)
        assert (answer.text == WITHHELD_TEXT) == (ext in WITHHELD)
        assert coding.get_answer(db, officer, rid) == answer
    assert not leaked(" ".join(a.text for a in page.answers))
    # a withheld answer can still be coded (from its banner) and then counts as coded
    assert coding.apply_code(db, officer, answers["w1"], "home")
    assert coding.counts(db, officer).coded == 1
    assert [a.id for a in coding.queue(db, officer, Filters(state="coded")).answers] == [answers["w1"]]
    listed = coding.answers_with_code(db, officer, "home")
    assert listed == [(answers["w1"], WITHHELD_TEXT, officer.username)]


def test_a_manual_flag_on_a_respondent_withholds_all_their_answers_only(db, officer, answers):
    shown = {a.id: a.text for a in coding.queue(db, officer, Filters(), page_size=50).answers}
    assert shown[answers["m1"]] == shown[answers["m2"]] == WITHHELD_TEXT
    assert shown[answers["o1"]] == "cold house at night and no food"  # another respondent, same event


def test_a_search_never_finds_a_withheld_answer(db, officer, answers):
    for term in ("cold garage", "allotment", "trampoline", "withheld", "safeguarding"):
        assert coding.queue(db, officer, Filters(search=term)).total == (1 if term == "cold garage" else 0), term
    found = coding.queue(db, officer, Filters(search="cold garage")).answers
    assert [a.id for a in found] == [answers["o3"]]  # only the answer that is not withheld
    preview = coding.bulk_preview(db, officer, "home", Filters(search="garage"))
    assert (preview.matching, preview.to_code) == (1, 1) and [a.id for a in preview.sample] == [answers["o3"]]
    assert coding.bulk_preview(db, officer, "home", Filters(search="trampoline")).matching == 0
    assert coding.bulk_apply(db, officer, "home", Filters(search="garage")) == 1
    assert coding.get_answer(db, officer, answers["w1"]).codes == ()  # never bulk-coded from words nobody sees
    # position and neighbour (the page's navigation) follow the same rule
    assert coding.neighbour(db, officer, Filters(search="garage"), None) == answers["o3"]
    assert not coding.matches(db, officer, Filters(search="garage"), answers["w1"])


def test_after_release_the_text_is_shown_and_searchable(db, officer, answers):
    release_all(db)
    answer = coding.get_answer(db, officer, answers["w1"])
    assert not answer.withheld and SECRET in answer.text
    assert coding.queue(db, officer, Filters(search="cold garage")).total == 2
    assert coding.queue(db, officer, Filters(search="trampoline")).total == 1


def test_another_unreleased_flag_still_withholds_after_one_is_released(db, officer, answers):
    flags.raise_flag(db, officer, kind="auto", reason="second look", response_id=answers["w1"])
    lead = make_user("safeguarding_lead", name="sue_safeguarding")
    first = db.execute("SELECT id FROM flags WHERE response_id = ? AND reason = 'possible disclosure'",
                       [answers["w1"]]).fetchone()[0]
    flags.release(db, lead, first, "No further action.")
    assert coding.get_answer(db, officer, answers["w1"]).text == WITHHELD_TEXT


def test_the_safeguarding_lead_still_reads_a_withheld_answer(db, sue_coder, answers):
    answer = coding.get_answer(db, sue_coder, answers["w1"])
    assert answer.withheld and SECRET in answer.text
    assert coding.queue(db, sue_coder, Filters(search="cold garage")).total == 2


# --- suggestions ---------------------------------------------------------------------------------------------------

@pytest.fixture
def coded(db, officer, answers):
    coding.apply_many(db, officer, [(answers["w1"], "home"), (answers["o2"], "home"), (answers["m1"], "money"),
                                    (answers["o1"], "food")])
    return answers


def reasons(db, user, text: str) -> str:
    model = build_suggester(db, user)
    return " ".join(s.reason for s in model.suggest(text, top_k=3))


def test_suggestions_never_learn_from_or_quote_a_withheld_answer(db, officer, coded):
    model = build_suggester(db, officer)
    assert model.n_coded == 2  # w1 and m1 are coded but withheld: not learned from
    assert not leaked(" ".join(model._corpus.texts))
    assert not leaked(reasons(db, officer, "the cold garage at home at night"))
    rows = suggest_uncoded(db, officer)
    assert not {r["response_id"] for r in rows} & {coded["m2"]}  # uncoded, withheld: no suggestions


def test_after_release_suggestions_may_quote_it(db, officer, coded):
    release_all(db)
    assert build_suggester(db, officer).n_coded == 4
    assert SECRET in reasons(db, officer, "the cold garage at home at night")  # the check above can fail
    assert coded["m2"] in {r["response_id"] for r in suggest_uncoded(db, officer)}


def test_the_marker_is_never_scored_or_learned(db, officer, coded):
    model = build_suggester(db, officer)
    assert model.suggest(WITHHELD_TEXT) == []
    before = model.n_coded
    model.add(WITHHELD_TEXT, ["home"])
    assert model.n_coded == before


# --- agreement -----------------------------------------------------------------------------------------------------

@pytest.fixture
def kim():
    return make_user("engagement_officer", name="kim_officer")


@pytest.fixture
def disagreeing(db, officer, kim, answers):
    coding.apply_many(db, officer, [(answers["w1"], "home"), (answers["o1"], "food")])
    coding.apply_many(db, kim, [(answers["w1"], "money"), (answers["o1"], "home")])
    return answers


def test_disagreements_show_the_marker(db, officer, kim, disagreeing):
    found = {d.response_id: d for d in agreement.disagreements(db, officer, officer.username, kim.username)}
    assert set(found) == {disagreeing["w1"], disagreeing["o1"]}
    assert found[disagreeing["w1"]].withheld and found[disagreeing["w1"]].text == WITHHELD_TEXT
    assert not found[disagreeing["o1"]].withheld
    release_all(db)
    again = {d.response_id: d for d in agreement.disagreements(db, officer, officer.username, kim.username)}
    assert SECRET in again[disagreeing["w1"]].text and not again[disagreeing["w1"]].withheld


# --- the pages -----------------------------------------------------------------------------------------------------

def page_text(at: AppTest) -> str:
    """Everything the page's element tree holds: every element's protobuf (bodies, labels, values, options,
    help) and every widget's value."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for attr in ("value", "body", "label", "options", "help", "placeholder"):
            try:
                parts.append(str(getattr(node, attr)))
            except Exception:  # noqa: BLE001 - not every node has every attribute
                pass
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def code_page(user, current: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "code.py"), default_timeout=60)
    at.session_state["auth_user"] = user
    if current:
        at.session_state["code_current"] = current
    return at


def test_code_page_shows_a_banner_and_no_withheld_words(db, officer, coded):
    at = code_page(officer, coded["w1"]).run()
    assert not at.exception
    assert at.session_state["code_current"] == coded["w1"]
    banner = [w for w in at.warning if "withheld pending the safeguarding lead's review" in w.value]
    assert banner and banner[0].icon == ":material/shield_person:"
    assert "code it" in banner[0].value and "skip it" in banner[0].value and "safeguarding lead" in banner[0].value
    assert WITHHELD_TEXT in plain(page_text(at))
    assert at.metric[2].value == "6"  # the count includes the withheld answers
    assert not leaked(page_text(at))
    assert not [b for b in at.button if b.key and b.key.startswith("code_accept_")]  # no suggestions for it
    # the model held in the session never learned the withheld words either
    assert not leaked(" ".join(at.session_state["code_suggester"]["model"]._corpus.texts))
    # the coder can still code it with one tap
    pills = next(p for p in at.pills if p.key.startswith("code_pills_home_"))
    pills.set_value(["home"]).run()
    assert coding.get_answer(db, officer, coded["w1"]).codes == ("home",)
    assert not leaked(page_text(at))


def test_code_page_suggestions_and_search_for_other_answers_never_quote_it(db, officer, coded):
    at = code_page(officer, coded["o3"]).run()  # "the cold garage at home": most like the withheld answer
    assert not at.exception and not at.warning
    assert [b for b in at.button if b.key and b.key.startswith("code_accept_")]  # suggestions are shown
    assert not leaked(page_text(at))
    at.text_input(key="code_search").set_value("garage").run()
    at.selectbox(key="code_bulk_code").set_value("home").run()
    at.button(key="code_bulk_preview_button").click().run()
    assert [t.value for t in at.text if t.value.startswith("•")] == ["• the cold garage at home"]
    assert not leaked(page_text(at))


def test_code_page_after_release_shows_the_words(db, officer, coded):
    release_all(db)
    at = code_page(officer, coded["w1"]).run()
    assert not at.exception and not at.warning
    assert SECRET in plain(page_text(at))


def test_code_page_for_the_safeguarding_lead_shows_the_words_with_a_note(db, sue_coder, coded):
    at = code_page(sue_coder, coded["w1"]).run()
    assert not at.exception and not at.warning
    assert any("safeguarding lead" in i.value for i in at.info)
    assert SECRET in plain(page_text(at))


def test_agreement_page_shows_a_banner_and_no_withheld_words(db, officer, kim, disagreeing):
    at = AppTest.from_file(str(ROOT / "pages" / "agreement.py"), default_timeout=30)
    at.session_state["auth_user"] = officer
    at.run()
    assert not at.exception
    assert at.selectbox(key="agreement_coder_b").value == kim.username
    assert any("withheld pending the safeguarding lead's review" in w.value for w in at.warning)
    assert WITHHELD_TEXT in [plain(m.value) for m in at.markdown]
    assert "cold house at night and no food" in [m.value for m in at.markdown]
    assert not leaked(page_text(at))
    release_all(db)
    at.run()
    assert not at.warning and SECRET in plain(page_text(at))


def test_code_page_forgets_words_flagged_after_it_read_them(db, officer, coded):
    """The page keeps a suggestion model and a bulk preview between reruns: an answer flagged meanwhile must
    vanish from both at the next rerun."""
    release_all(db)
    at = code_page(officer, coded["o3"]).run()
    at.text_input(key="code_search").set_value("garage").run()
    at.selectbox(key="code_bulk_code").set_value("money").run()  # nobody gave w1 or o3 "money" yet
    at.button(key="code_bulk_preview_button").click().run()
    assert f"• he {SECRET} at night" in [t.value for t in at.text]  # released: in the preview
    assert any(SECRET in t for t in at.session_state["code_suggester"]["model"]._corpus.texts)
    flags.raise_flag(db, officer, kind="manual", reason="Worried again", respondent_id=db.execute(
        "SELECT respondent_id FROM responses WHERE id = ?", [coded["w1"]]).fetchone()[0])
    at.run()
    assert not at.exception
    assert SECRET not in plain(page_text(at))  # (the respondent of m1, m2 stays released)
    assert not any(SECRET in t for t in at.session_state["code_suggester"]["model"]._corpus.texts)
    assert f"• {WITHHELD_TEXT}" in [t.value for t in at.text]  # the preview's sample is read afresh
