"""The Safeguarding page in another language (issue 9 item 6): every word of the queue from the catalogue, in Urdu
with no English left, the same actions working (status change, refusal, release), the core's status, urgency,
category and strength words kept equal to the catalogue's English, and a code the catalogue does not know yet shown
in the core's words instead of breaking the queue."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis import safeguarding as detect
from data import flags
from data.capture import save_respondent
from ui import i18n, session

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "safeguarding.py")
DISCLOSURE = "my dad hits me when he's drunk"
SELF_HARM = "i want to kill myself"
MILD = "mum always on her phone"
EN, UR = i18n.catalogue("en"), i18n.catalogue("ur")


def _page(user, lang: str = "ur", **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state[session.USER_KEY] = user
    at.session_state[session.LANGUAGE_KEY] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _alerts(at) -> list:
    return [*at.error, *at.warning, *at.info]


def _age(db, flag_id: str, hours: float) -> None:
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).isoformat(timespec="microseconds")
    db.execute("UPDATE flags SET created_at = ?, updated_at = ? WHERE id = ?", [when, when, flag_id])


def _unescape(text: str) -> str:
    """What a reader sees of md_escape's output."""
    return re.sub(r"\\(.)|&#58;", lambda m: m.group(1) or ":", text).replace(session.WORD_JOINER, "")


def _shown(at) -> list[str]:
    """Every interface text on the page as a reader sees it: bodies, labels, options, placeholders, table headers.
    Answers (st.code) and table cells (history notes, typed by people or written by the core) are left out."""
    found: list[str] = []

    def walk(node):
        if type(node).__name__ != "Code":
            for attr in ("value", "label", "options", "placeholder", "help"):
                value = getattr(node, attr, None)
                if isinstance(value, str):
                    found.append(value)
                elif isinstance(value, (list, tuple)):
                    found.extend(v for v in value if isinstance(v, str))
                elif hasattr(value, "columns"):  # a dataframe: its headers are interface text
                    found.extend(str(c) for c in value.columns)
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else []):
            walk(child)

    walk(at._tree)
    return [_unescape(text) for text in found if text]


def _english_pieces() -> list[str]:
    """The page's English texts, cut at their {placeholders}, long enough not to be a word Urdu text may hold."""
    pieces = []
    for key, text in EN.items():
        if key.startswith("safeguarding."):
            pieces += [p.strip(" .:·()") for p in re.split(r"\{\w+\}", text)]
    return sorted({p for p in pieces if len(p) > 3})


@pytest.fixture
def queue(db, researcher, event, safeguarding_lead):
    """An overdue self-harm flag, a mild one, and a hit raised together with an "I'm worried" flag (the auto one
    released, so the other still withholds the answer): every kind of line the queue shows."""
    def save(answers, **kw):
        return save_respondent(db, researcher, event_id=event.id, group_id="young_person", consent=True,
                               answers=answers, **kw).flags
    harm = save({"neglect_is": SELF_HARM, "thrive_helps": "more buses"})[0]
    mild = save({"thrive_helps": MILD})[0]
    both = save({"thrive_helps": DISCLOSURE}, worried=True, worried_note="bruises")
    auto = next(f for f in both if f.kind == "auto")
    _age(db, harm.id, 30)
    _age(db, mild.id, 80)
    flags.release(db, safeguarding_lead, auto.id, "Quote agreed")
    return {"harm": harm, "mild": mild, "auto": auto, "manual": next(f for f in both if f.kind == flags.MANUAL)}


def test_the_queue_in_urdu_has_no_english_left(queue, safeguarding_lead):
    at = _page(safeguarding_lead, safeguarding_statuses=list(flags.STATUSES))
    assert [t.value for t in at.title] == [UR["safeguarding.title"]]
    assert [m.label for m in at.metric] == [session.md_escape(UR[f"safeguarding.status.{s}"]) for s in flags.STATUSES]
    assert [m.value for m in at.metric] == ["3", "0", "0", "1"]  # harm, mild, the worried one; auto
    shown = _shown(at)
    text = "\n".join(shown)
    assert UR["safeguarding.badge.new"] in text and UR["safeguarding.badge.released"] in text
    assert "تاخیر" in text and "30 گھنٹے" in text  # the overdue badge, in Urdu with its number
    assert UR["safeguarding.category.self_harm"] in text and UR["safeguarding.urgency.0"] in text
    assert UR["safeguarding.history.when"] in shown  # a table header
    assert "نوجوان" in text  # the question set's Urdu name of the group
    # nothing of the page's own English: neither whole texts nor the words around a placeholder
    why = UR["safeguarding.item.why"].split("{reason}")[0]
    left = [piece for piece in _english_pieces() if any(piece in s for s in shown if not s.startswith(why))]
    assert left == []
    # the reasons are the core's words about the answer (English, like the answers themselves): shown as they are
    assert any(s.startswith(f"{why}possible disclosure") for s in shown)


def test_the_english_finder_can_fail(queue, safeguarding_lead):
    at = _page(safeguarding_lead, lang="en", safeguarding_statuses=list(flags.STATUSES))
    shown = _shown(at)
    assert [t.value for t in at.title] == ["Safeguarding"]
    left = [piece for piece in _english_pieces() if any(piece in s for s in shown)]
    assert "Mark all as seen" in left and "Released by" in left and "Overdue: open for" in left and len(left) > 40


def test_status_change_refusal_and_release_work_in_urdu(db, queue, safeguarding_lead):
    harm, mild = queue["harm"].id, queue["mild"].id
    at = _page(safeguarding_lead)
    # closing without a reason: refused, the chosen status kept; the core's reason is its own English sentence
    at.selectbox(key=f"safeguarding_status_{mild}").set_value("no_further_action")
    at.button(key=f"FormSubmitter:safeguarding_form_{mild}-{UR['safeguarding.form.save']}").click().run()
    assert not at.exception
    assert flags.get(db, safeguarding_lead, mild).status == "open"
    assert at.selectbox(key=f"safeguarding_status_{mild}").value == "no_further_action"
    assert any("reason" in e.value for e in at.error)
    # a change with a note: stored, and said in Urdu
    at.selectbox(key=f"safeguarding_status_{harm}").set_value("referred")
    at.text_area(key=f"safeguarding_note_{harm}").input("Referred to the MASH")
    at.button(key=f"FormSubmitter:safeguarding_form_{harm}-{UR['safeguarding.form.save']}").click().run()
    assert not at.exception
    assert flags.get(db, safeguarding_lead, harm).status == "referred"
    notices = [_unescape(s.value) for s in at.success]
    assert len(notices) == 1 and notices[0].endswith(f"{UR['safeguarding.status.referred']} ہے۔")
    # release: the button's Urdu label, a reason required, then released and said so in Urdu
    release = f"FormSubmitter:safeguarding_release_form_{mild}-{session.md_escape(UR['safeguarding.release.button'])}"
    at.button(key=release).click().run()
    assert flags.get(db, safeguarding_lead, mild).released_at is None and at.error
    at.text_area(key=f"safeguarding_release_note_{mild}").input("Fine to quote")
    at.button(key=release).click().run()
    assert not at.exception
    assert flags.get(db, safeguarding_lead, mild).released
    assert any(UR["safeguarding.notice.released"].split("{when}")[1] in _unescape(s.value) for s in at.success)


def test_the_filters_offer_urdu_words_for_the_same_codes(queue, safeguarding_lead):
    at = _page(safeguarding_lead)
    categories = at.multiselect(key="safeguarding_categories")
    assert categories.options[:2] == [UR["safeguarding.category.manual"], UR["safeguarding.category.physical"]]
    categories.set_value(["self_harm"]).run()
    assert [c.value for c in at.code][:1] == [SELF_HARM]
    at = _page(safeguarding_lead, safeguarding_statuses=["referred"])
    assert not at.code and [i.value for i in at.info] == [session.md_escape(UR["safeguarding.empty.filtered"])]


def test_the_catalogue_english_is_the_cores_words():
    """The page shows the catalogue's words for the core's codes: in English they must be the core's labels."""
    assert {s: EN[f"safeguarding.status.{s}"] for s in flags.STATUSES} == flags.STATUS_LABELS
    assert {u: EN[f"safeguarding.urgency.{u}"] for u in flags.URGENCY_LABELS} == flags.URGENCY_LABELS
    assert {c: EN[f"safeguarding.category.{c}"] for c in detect.CATEGORY_LABELS} == detect.CATEGORY_LABELS


def test_the_item_labels_match_the_catalogue(db, queue, safeguarding_lead):
    item = flags.get(db, safeguarding_lead, queue["harm"].id)
    cases = {
        "category": [(item, item.category), (dataclasses.replace(item, kind=flags.MANUAL), "manual"),
                     (dataclasses.replace(item, category=None), "not_recorded")],
        "strength": [(item, item.strength), (dataclasses.replace(item, strength="possible"), "possible"),
                     (dataclasses.replace(item, kind=flags.MANUAL), "manual"),
                     (dataclasses.replace(item, strength=None), "not_recorded")],
    }
    for kind, pairs in cases.items():
        for one, code in pairs:
            assert getattr(one, f"{kind}_label") == EN[f"safeguarding.{kind}.{code}"], (kind, code)


def test_a_code_the_catalogue_lacks_shows_the_cores_words(db, monkeypatch, researcher, event, safeguarding_lead):
    """A category added to the core before the catalogue: the queue still opens (strict mode too), in its words."""
    flag = save_respondent(db, researcher, event_id=event.id, group_id="young_person", consent=True,
                           answers={"thrive_helps": DISCLOSURE}).flags[0]
    monkeypatch.setitem(detect.CATEGORY_LABELS, "brand_new", "a category added to the core")
    db.execute("UPDATE flags SET category = 'brand_new' WHERE id = ?", [flag.id])
    for lang in ("ur", "en"):
        at = _page(safeguarding_lead, lang=lang)
        assert any("a category added to the core" in a.value for a in _alerts(at)), lang
        assert "a category added to the core" in at.multiselect(key="safeguarding_categories").options
    db.execute("UPDATE flags SET category = 'never_heard_of' WHERE id = ?", [flag.id])
    at = _page(safeguarding_lead)
    assert any("never\\_heard\\_of" in a.value for a in _alerts(at))  # an unknown stored category: its code, as today
