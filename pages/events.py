"""Events: create an event, see every event with its counts, name its area in each language, close or reopen one.

A closed event takes no new answers (Collect, Transcribe and Import all refuse it). Question 4 names the area
("... thrive in {area}?"); the capture pages show it in the language chosen for the respondent.
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import streamlit as st

from data import capture, events, review
from surveys import QuestionSet, QuestionSetError, bundled, bundled_keys
from ui import session

# Session keys owned by this page (all prefixed events_).
MESSAGE = "events_message"  # (kind, text) shown once
LAST_CREATED = "events_last_created"  # {"title", "name", "date", "at"} of the event this session created last

#: A second "Create event" within this many seconds, on the cleared form or with the same name and date, is the
#: same tap twice: it repeats the confirmation instead of an error (the core refuses the duplicate in any case).
DOUBLE_TAP_SECONDS = 10


def _is_second_tap(name: str, date: dt.date) -> bool:
    last = st.session_state.get(LAST_CREATED)
    if not last or time.time() - last["at"] > DOUBLE_TAP_SECONDS:
        return False
    return not (name or "").strip() or (events.same_name(name, last["name"]) and date.isoformat() == last["date"])


def area_key(code: str, event_id: str | None = None) -> str:
    """The widget key of the area name in language `code` (on the create form, or for an event being edited)."""
    return f"events_area_{code}" if event_id is None else f"events_area_{event_id}_{code}"


def _other_languages(qs: QuestionSet) -> list:
    """The languages of a question set besides its default one (whose area name is the event's own area)."""
    return [x for x in qs.languages if x.code != qs.default_language]


def _area_prompt(language) -> str:
    """The field's label, in plain words that md_escape leaves as they are (so it is also the accessible name)."""
    return f"Area in question 4 in {language.native_name}, optional"


def _create_languages() -> list:
    """Every language besides the default of the shipped question sets, once each (the create form is one
    st.form, so it cannot follow the question set chosen in it; a name for a language the chosen set lacks is
    refused by the core)."""
    seen: dict[str, object] = {}
    for key in bundled_keys():
        try:
            for language in _other_languages(bundled(key)):
                seen.setdefault(language.code, language)
        except QuestionSetError:
            continue
    return list(seen.values())


def main() -> None:
    user = session.guard("manage_events")
    db = session.db()
    state = st.session_state
    state.setdefault(MESSAGE, None)
    state.setdefault(LAST_CREATED, None)
    st.title("Events")

    with st.expander("Create an event", expanded=not events.list_events(db)):
        with st.form("events_create", clear_on_submit=False):
            name = st.text_input("Name", key="events_name", placeholder="e.g. Family fun day")
            date = st.date_input("Date", key="events_date", value=dt.date.today(), format="DD/MM/YYYY")
            venue = st.text_input("Venue (optional)", key="events_venue")
            area = st.text_input("Area named in question 4 (optional)", key="events_area",
                                 help="Leave empty to use the partnership's area setting.")
            create_languages = _create_languages()
            for language in create_languages:
                st.text_input(session.md_escape(_area_prompt(language)), key=area_key(language.code), max_chars=100,
                              help="What question 4 says in this language. Empty: the area above.")
            keys = bundled_keys()
            question_set = st.selectbox("Question set", keys, key="events_question_set",
                                        index=keys.index("thrive") if "thrive" in keys else 0)
            if st.form_submit_button("Create event", type="primary", width="stretch"):
                if _is_second_tap(name, date):
                    state[MESSAGE] = ("success", f"Created “{state[LAST_CREATED]['title']}”. It is open for answers.")
                    st.rerun()
                try:
                    event = events.create_event(db, user, name=name, date=date, venue=venue, area=area,
                                                question_set=question_set)
                except (events.EventError, QuestionSetError) as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    state[MESSAGE] = ("success", f"Created “{event.title}”. It is open for answers.")
                    state[LAST_CREATED] = {"title": event.title, "name": event.name, "date": event.date,
                                           "at": time.time()}
                    names = {x.code: state.get(area_key(x.code)) or "" for x in create_languages}
                    if any(v.strip() for v in names.values()):
                        try:
                            events.set_area_languages(db, user, event.id, names)
                        except events.EventError as exc:  # the event stands; the names are corrected below
                            state[MESSAGE] = ("warning", f"Created “{event.title}”, but its area names were not "
                                              f"kept: {exc} Give them under “Area name in each language”.")
                    for key in ("events_name", "events_venue", "events_area",
                                *(area_key(x.code) for x in create_languages)):
                        state.pop(key, None)
                    st.rerun()

    message = state[MESSAGE]
    if message:
        getattr(st, message[0])(session.md_escape(message[1]))
        state[MESSAGE] = None

    all_events = events.list_events(db)
    if not all_events:
        st.info("No events yet. Create the first one above.")
        return
    rows = []
    reviewed = review.counts(db, user) if user.can("review") else {}
    for e in all_events:
        counts = capture.event_counts(db, user, e.id)
        rows.append({"Event": e.name, "Date": e.date, "Venue": e.venue, "Status": e.status,
                     "People": counts.respondents, "Post-its": counts.postits, "Answers": counts.answers,
                     "People today": counts.respondents_today,
                     "Question set": e.question_set_id})
        if user.can("review"):
            states = reviewed.get(e.id, {})
            rows[-1].update({"Approved": states.get(review.APPROVED, 0), "Has issues": states.get(review.HAS_ISSUES, 0)})
    st.subheader("All events")
    st.caption("People: respondents recorded on the tablet or imported. Post-its: transcribed flipchart answers, "
               "anonymous and not counted as people. Answers include both.")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    st.subheader("Close or reopen an event")
    titles = {e.id: f"{e.title} — {e.status}" for e in all_events}
    chosen_id = st.selectbox("Event", list(titles), format_func=titles.get, key="events_chosen")
    chosen = next(e for e in all_events if e.id == chosen_id)
    if chosen.is_open:
        st.caption("Closing stops new answers being collected, transcribed or imported for this event.")
        if st.button("Close this event", key="events_close", width="stretch"):
            events.close_event(db, user, chosen.id)
            state[MESSAGE] = ("success", f"Closed “{chosen.title}”.")
            st.rerun()
    else:
        if st.button("Reopen this event", key="events_reopen", width="stretch"):
            try:
                events.set_status(db, user, chosen.id, "open")
            except events.EventError as exc:  # another open event has its name and date
                st.error(session.md_escape(str(exc)))
            else:
                state[MESSAGE] = ("success", f"Reopened “{chosen.title}”.")
                st.rerun()

    _area_names(db, user, chosen)
    if user.can("review"):
        _review_event(db, user, chosen)


def _area_names(db, user, chosen) -> None:
    """Name the chosen event's area in each language of its question set (question 4 in that language)."""
    qs = events.question_set(db, chosen.question_set_id)
    others = _other_languages(qs)
    st.subheader("Area name in each language")
    if not others:
        st.caption("This event's question set has one language only.")
        return
    st.caption(session.md_escape(
        f"Question 4 names the area. In the event's own language it says “{events.area_for(db, chosen)}”; give "
        "the name as people say it in each other language (empty: that name is used)."))
    named = events.area_languages(db, chosen.id)
    with st.form(f"events_area_form_{chosen.id}"):
        for language in others:
            st.text_input(session.md_escape(_area_prompt(language)), value=named.get(language.code, ""),
                          key=area_key(language.code, chosen.id), max_chars=100)
        if st.form_submit_button("Save area names", key="events_area_save", width="stretch"):
            names = {x.code: st.session_state.get(area_key(x.code, chosen.id)) or "" for x in others}
            try:
                events.set_area_languages(db, user, chosen.id, names)
            except events.EventError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                st.session_state[MESSAGE] = ("success", f"Saved the area names of “{chosen.title}”.")
                st.rerun()


def _review_event(db, user, chosen) -> None:
    """Approve every answer of the chosen event still "received", once the officer has looked through them."""
    st.subheader("Review this event's answers")
    states = review.counts(db, user, chosen.id)[chosen.id]
    st.caption(f"{states[review.RECEIVED]:,} received (not reviewed), {states[review.APPROVED]:,} approved, "
               f"{states[review.HAS_ISSUES]:,} with issues. Findings and exports can be limited to approved answers. "
               "Mark single answers or people on the Code page.")
    if not states[review.RECEIVED]:
        return
    looked = st.checkbox("I have looked through these answers", key=f"events_review_looked_{chosen.id}")
    if st.button(f"Approve all {states[review.RECEIVED]:,} received answers", key="events_review_approve",
                 disabled=not looked, width="stretch"):
        done = review.bulk_approve(db, user, event_id=chosen.id)
        st.session_state.pop(f"events_review_looked_{chosen.id}", None)
        st.session_state[MESSAGE] = ("success", f"Approved {done:,} answer(s) of “{chosen.title}”. Answers with "
                                                "issues were left as they are.")
        st.rerun()


main()
