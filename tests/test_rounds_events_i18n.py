"""The Engagement rounds and Events pages in a second interface language (issue 9 item 6): every text from the
catalogue (ui/i18n/<code>/rounds.yaml and events.yaml), shown in Urdu when the sign-in chose Urdu, English words
left out; the words the pages make themselves (action statuses, "People said", chart measures) follow the data
layer's English where the interface is English. conftest sets THRIVE_I18N_STRICT=1: a missing Urdu key raises."""

from __future__ import annotations

import ast
import datetime as dt
import io
import itertools
import json
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from data import actions, capture, rounds
from data.events import create_event, get_event
from exports import feedback
from tests.findings_data import seed
from ui import session
from ui.i18n import catalogue, languages, t

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = str(ROOT / "pages" / "rounds.py")
EVENTS = str(ROOT / "pages" / "events.py")
UR = "ur"


def run(page: str, user, lang: str | None = UR, **state) -> AppTest:
    at = AppTest.from_file(page, default_timeout=60)
    at.session_state["auth_user"] = user
    if lang:
        at.session_state[session.LANGUAGE_KEY] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def ur(key: str, **fmt) -> str:
    return t(key, UR, **fmt)


def en(key: str, **fmt) -> str:
    return t(key, "en", **fmt)


def shown(at: AppTest) -> str:
    """Every text of the page a person can read: titles, captions, messages, labels, tabs, options, placeholders."""
    parts = []
    for kind in ("title", "subheader", "caption", "info", "success", "warning", "error", "text", "markdown",
                 "toast"):
        parts += [str(x.value) for x in at.get(kind)]
    for kind in ("button", "text_input", "text_area", "selectbox", "multiselect", "checkbox", "date_input",
                 "tabs", "expander"):
        for x in at.get(kind):
            parts.append(str(getattr(x, "label", "") or ""))
            parts.append(str(getattr(x.proto, "placeholder", "") or ""))
            parts.append(str(getattr(x.proto, "help", "") or ""))
    return "\n".join(parts)


@pytest.fixture
def two_rounds(db, admin, officer):
    ids = seed(db, admin)
    old = rounds.create_round(db, admin, "Neglect strategy 2019")
    new = rounds.create_round(db, admin, "2026 refresh")
    rounds.assign_events(db, admin, old.id, [ids["events"]["e1"]])
    rounds.assign_events(db, admin, new.id, [ids["events"]["e2"]])
    actions.add_action(db, officer, new.id, "family_love", "More family centre sessions", owner="Early help",
                       due=dt.date(2027, 3, 31), status="in_progress")
    rounds.take_snapshot(db, officer, new.id, "Q3 2026")
    rounds.take_snapshot(db, officer, new.id, "Q4 2026")
    return ids, old, new


# --- Engagement rounds ------------------------------------------------------------------------------------------

def test_rounds_page_in_urdu_for_an_officer(db, officer, two_rounds):
    at = run(ROUNDS, officer)
    assert [x.value for x in at.title] == [ur("rounds.title")]
    assert [x.label for x in at.tabs] == [ur("rounds.tab.events"), ur("rounds.tab.actions"), ur("rounds.tab.sheet"),
                                          ur("rounds.tab.snapshots")]
    text = shown(at)
    for english in ("Engagement rounds", "You said, we did", "Feedback sheet", "Snapshots", "Record action",
                    "Add to this round", "Take a snapshot now", "Theme people raised", "No events", "Owner"):
        assert english not in text, english
    assert ur("rounds.actions.record") in text and ur("rounds.events.add_button") in text

    tables = [d.value for d in at.dataframe]
    said = next(x for x in tables if ur("rounds.actions.col.people_said") in x)
    assert "People said" not in said and "Theme" not in said
    row = said.iloc[0]
    assert row[ur("rounds.actions.col.status")] == ur("rounds.status.in_progress") != "In progress"
    assert row[ur("rounds.actions.col.who")] == f"Early help, {ur('rounds.actions.by', due='2027-03-31')}"
    # 5 of the 7 people at the family centre raised "Loving family": Urdu words, the same numbers
    assert row[ur("rounds.actions.col.people_said")] == ur(
        "rounds.said.people", people=ur("rounds.said.people.share", n="5", base="7", share="71%"))
    events_table = next(x for x in tables if ur("rounds.events.col.event") in x)
    assert list(events_table[ur("rounds.events.col.status")]) == [ur("events.status.open")]
    snaps = next(x for x in tables if ur("rounds.snapshots.col.taken") in x)
    assert list(snaps[ur("rounds.snapshots.col.label")]) == ["Q3 2026", "Q4 2026"]  # stored labels as typed

    counts_spec, shares_spec = (json.loads(c.proto.spec) for c in at.get("vega_lite_chart"))
    assert counts_spec["title"] == ur("rounds.chart.counts_title", name="2026 refresh")
    assert counts_spec["encoding"]["x"]["title"] == ur("rounds.chart.taken")
    assert shares_spec["title"] == ur("rounds.chart.shares_title")
    assert shares_spec["encoding"]["color"]["title"] == ur("rounds.chart.theme")
    assert {x["title"] for x in counts_spec["encoding"]["tooltip"]} == {
        ur(f"rounds.chart.tip.{k}") for k in ("label", "measure", "value", "taken")}


def _chart_measures(at: AppTest) -> tuple[list[str], set[str]]:
    """The counts chart's colour domain, and the measure names in its data."""
    chart = at.get("vega_lite_chart")[0].proto
    domain = json.loads(chart.spec)["encoding"]["color"]["scale"]["domain"]
    data = pa.ipc.open_stream(io.BytesIO(chart.datasets[0].data.data)).read_all()
    return domain, set(data.column("measure").to_pylist())


@pytest.mark.parametrize("lang", languages())
def test_every_measure_of_the_counts_chart_is_named_in_the_language_with_its_own_colour(db, officer, two_rounds,
                                                                                         lang):
    domain, measures = _chart_measures(run(ROUNDS, officer, lang))
    # every line is in the colour domain (a measure the page could not name would be drawn in no colour of it)
    assert measures == set(domain) and len(domain) == 4
    assert domain == [t(f"rounds.chart.measure.{m}", lang) for m in ("answers", "coded", "people", "postits")]
    if lang != "en":
        assert not measures & {"Answers", "People", "Post-its", "Coded answers"}
    else:  # the English names are the data layer's own, in the order Altair sorted them before
        assert domain == sorted(measures) == ["Answers", "Coded answers", "People", "Post-its"]


def test_rounds_page_in_urdu_prepares_the_feedback_sheet_and_says_so_in_urdu(db, officer, two_rounds):
    at = run(ROUNDS, officer)
    next(b for b in at.button if b.label == ur("rounds.sheet.prepare")).click().run()
    assert not at.exception, at.exception
    _, _, _, n_themes, names = at.session_state["rounds_sheet"]
    assert [x.value for x in at.text] == [ur("rounds.sheet.prepared", count=n_themes, languages=", ".join(names))]
    assert "theme(s)" not in at.text[0].value
    assert at.get("download_button")[0].label == ur("rounds.sheet.download")


def test_rounds_page_in_urdu_for_a_lead_and_with_no_rounds(db, lead, officer, two_rounds, tmp_path, monkeypatch):
    at = run(ROUNDS, lead)
    text = shown(at)
    assert ur("rounds.title") in text and ur("rounds.sheet.prepare") in [b.label for b in at.button]
    assert "Prepare the feedback sheet" not in text and ur("rounds.new.expander") not in text  # leads read only

    fresh = tmp_path / "empty.db"
    monkeypatch.setenv("THRIVE_DB", str(fresh))
    for user, key in ((officer, "rounds.none_manage"), (lead, "rounds.none_read")):
        at = run(ROUNDS, user)
        assert [x.value for x in at.info] == [session.md_escape(ur(key))]
        assert "No rounds yet" not in shown(at)


def test_rounds_page_in_urdu_records_an_action_with_an_urdu_status_and_adds_events(db, officer, two_rounds):
    _, _, new = two_rounds
    at = run(ROUNDS, officer)
    status = at.selectbox(key="rounds_action_status")
    assert status.options == [ur(f"rounds.status.{s}") for s in actions.STATUSES]  # the value stays the code
    at.text_area(key="rounds_action_what").input("Benefits advice at the centre")
    status.set_value("done")
    next(b for b in at.button if b.label == ur("rounds.actions.record")).click().run()
    assert not at.exception, at.exception
    assert ("Benefits advice at the centre", "done") in [(a.what, a.status)
                                                           for a in actions.list_actions(db, officer, new.id)]

    extra = create_event(db, officer, name="Spare event", date="2026-12-01")
    at = run(ROUNDS, officer)
    at.multiselect(key="rounds_add_events").select(extra.id).run()
    at.button(key="rounds_add").click().run()
    assert not at.exception, at.exception
    assert [x.value for x in at.toast] == [session.md_escape(ur("rounds.events.added_one", count=1,
                                                                round="2026 refresh"))]
    assert extra.id in {e.id for e in rounds.round_events(db, officer, new.id)}


def test_an_action_status_word_in_english_is_the_data_layers_label(db):
    assert {s: en(f"rounds.status.{s}") for s in actions.STATUSES} == actions.STATUS_LABELS
    for lang in languages():
        assert all(f"rounds.status.{s}" in catalogue(lang) for s in actions.STATUSES)


def _people_said():
    """pages/rounds.py's people_said, lifted out of the page (which runs Streamlit at import)."""
    tree = ast.parse(Path(ROUNDS).read_text(encoding="utf-8"))
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "people_said"]
    assert len(found) == 1  # renamed or moved: this test must follow it
    spaces: dict[str, dict] = {}

    def make(lang: str):
        namespace = spaces.setdefault(lang, {"t": t, "lang": lang})
        exec(compile(ast.Module(found, []), ROUNDS, "exec"), namespace)  # noqa: S102 (our own page's function)
        return namespace["people_said"]

    return make


#: people raising it, people with a coded answer, post-its, coded post-its: around the threshold (5) and past 1,000
CASES = list(itertools.product((0, 1, 4, 5, 6, 7, 1234), (0, 3, 4, 5, 6, 7, 80, 1500), (0, 2, 5, 9), (0, 4, 5, 40)))


def test_people_said_in_english_is_word_for_word_the_feedback_sheets_theme_counts():
    said = _people_said()("en")
    checked = 0
    for n, base, pn, pbase in CASES:
        if n > base or pn > pbase:
            continue
        theme = actions.FeedbackTheme(1, "Theme", n, base, None, (), pn, pbase)
        assert said(theme, 5) == feedback.theme_counts(theme, threshold=5), (n, base, pn, pbase)
        checked += 1
    assert checked > 300
    assert said(actions.FeedbackTheme(1, "T", 1234, 1500, None), 5) == "raised by 1,234 of 1,500 people (82%)"


def test_people_said_in_urdu_keeps_the_numbers_and_the_small_number_rule():
    said = _people_said()(UR)
    theme = actions.FeedbackTheme(1, "Theme", 30, 80, None, (), 11, 66)
    text = said(theme, 5)
    assert "raised" not in text and "people" not in text
    assert all(x in text for x in ("30", "80", "38%", "11", "66", "17%"))
    few = said(actions.FeedbackTheme(1, "Theme", 4, 80, None), 5)
    assert few == ur("rounds.said.people", people=ur("rounds.said.people.fewer", threshold=5, base="80"))
    assert "4" not in few  # a count under the threshold is not shown, in Urdu either
    assert said(actions.FeedbackTheme(1, "Theme", 0, 0, None), 5) == ""


# --- Events -----------------------------------------------------------------------------------------------------

def test_events_page_in_urdu_creates_closes_and_reopens(db, officer):
    at = run(EVENTS, officer)
    assert [x.value for x in at.title] == [ur("events.title")]
    text = shown(at)
    for english in ("Events", "Create an event", "Venue (optional)", "Question set", "Create event",
                    "No events yet", "e.g. Family fun day", "partnership's area setting"):
        assert english not in text, english
    assert at.text_input(key="events_area_ur").label == ur("events.area_prompt", language="اردو")

    at.text_input(key="events_name").input("Summer fair")
    at.date_input(key="events_date").set_value(dt.date(2026, 7, 4))
    next(b for b in at.button if b.label == ur("events.create.button")).click().run()
    assert not at.exception, at.exception
    event_id, title = db.execute("SELECT id, name FROM events").fetchone()
    title = get_event(db, event_id).title
    assert [x.value for x in at.success] == [session.md_escape(ur("events.created", title=title))]
    table = at.dataframe[0].value
    assert list(table.columns[:4]) == [ur("events.col.event"), ur("events.col.date"), ur("events.col.venue"),
                                       ur("events.col.status")]
    assert list(table[ur("events.col.status")]) == [ur("events.status.open")]
    assert at.selectbox(key="events_chosen").options == [ur("events.close.option", title=title,
                                                            status=ur("events.status.open"))]
    text = shown(at)
    assert ur("events.area.subheader") in text and "Area name in each language" not in text

    next(b for b in at.button if b.label == ur("events.close.button")).click().run()
    assert get_event(db, event_id).status == "closed"
    assert list(at.dataframe[0].value[ur("events.col.status")]) == [ur("events.status.closed")]
    assert [x.value for x in at.success] == [session.md_escape(ur("events.close.done", title=title))]
    next(b for b in at.button if b.label == ur("events.reopen.button")).click().run()
    assert get_event(db, event_id).status == "open"


def test_events_page_in_urdu_for_an_admin_shows_the_review_section_in_urdu(db, admin, researcher, event):
    capture.save_respondent(db, researcher, event_id=event.id, group_id="resident", consent=True,
                            answers={"thrive_helps": ["Parks", "Libraries"]})
    at = run(EVENTS, admin)
    text = shown(at)
    assert ur("events.review.subheader") in text and "Review this event" not in text
    assert ur("events.col.approved") in at.dataframe[0].value and "Approved" not in at.dataframe[0].value
    approve = next(b for b in at.button if b.label == ur("events.review.approve", count="2"))
    assert approve.disabled
    at.checkbox(key=f"events_review_looked_{event.id}").check().run()
    next(b for b in at.button if b.label == ur("events.review.approve", count="2")).click().run()
    assert not at.exception, at.exception
    assert [x.value for x in at.success] == [session.md_escape(ur("events.review.approved", count="2",
                                                                  title=event.title))]


def test_events_page_in_english_is_unchanged_when_no_language_was_chosen(db, officer, event):
    at = run(EVENTS, officer, lang=None)
    assert [x.value for x in at.title] == ["Events"]
    assert list(at.dataframe[0].value.columns[:4]) == ["Event", "Date", "Venue", "Status"]
    assert ur("events.title") not in shown(at)
