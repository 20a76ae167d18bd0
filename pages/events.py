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
from ui.i18n import BASE, catalogue, t

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


def _area_prompt(language, lang: str) -> str:
    """The field's label, in plain words that md_escape leaves as they are (so it is also the accessible name)."""
    return t("events.area_prompt", lang, language=language.native_name)


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
    # Widget labels take the catalogue's text as it is (it is also the accessible name); texts that fill in stored
    # words, and every text rendered as markdown on its own, are escaped.
    lang = session.ui_language()
    st.title(session.md_escape(t("events.title", lang)))

    with st.expander(t("events.create.expander", lang), expanded=not events.list_events(db)):
        with st.form("events_create", clear_on_submit=False):
            name = st.text_input(t("events.create.name", lang), key="events_name",
                                 placeholder=t("events.create.name_placeholder", lang))
            date = st.date_input(t("events.create.date", lang), key="events_date", value=dt.date.today(),
                                 format="DD/MM/YYYY")
            venue = st.text_input(t("events.create.venue", lang), key="events_venue")
            area = st.text_input(t("events.create.area", lang), key="events_area",
                                 help=session.md_escape(t("events.create.area_help", lang)))
            create_languages = _create_languages()
            for language in create_languages:
                st.text_input(session.md_escape(_area_prompt(language, lang)), key=area_key(language.code),
                              max_chars=100, help=session.md_escape(t("events.create.area_language_help", lang)))
            keys = bundled_keys()
            question_set = st.selectbox(t("events.create.question_set", lang), keys, key="events_question_set",
                                        index=keys.index("thrive") if "thrive" in keys else 0)
            if st.form_submit_button(t("events.create.button", lang), type="primary", width="stretch"):
                if _is_second_tap(name, date):
                    state[MESSAGE] = ("success", t("events.created", lang, title=state[LAST_CREATED]["title"]))
                    st.rerun()
                try:
                    event = events.create_event(db, user, name=name, date=date, venue=venue, area=area,
                                                question_set=question_set)
                except (events.EventError, QuestionSetError) as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    state[MESSAGE] = ("success", t("events.created", lang, title=event.title))
                    state[LAST_CREATED] = {"title": event.title, "name": event.name, "date": event.date,
                                           "at": time.time()}
                    names = {x.code: state.get(area_key(x.code)) or "" for x in create_languages}
                    if any(v.strip() for v in names.values()):
                        try:
                            events.set_area_languages(db, user, event.id, names)
                        except events.EventError as exc:  # the event stands; the names are corrected below
                            state[MESSAGE] = ("warning", t("events.created_names_not_kept", lang,
                                                           title=event.title, error=exc))
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
        st.info(session.md_escape(t("events.none", lang)))
        return
    rows = []
    reviewed = review.counts(db, user) if user.can("review") else {}
    for e in all_events:
        counts = capture.event_counts(db, user, e.id)
        rows.append({t("events.col.event", lang): e.name, t("events.col.date", lang): e.date,
                     t("events.col.venue", lang): e.venue, t("events.col.status", lang): _status(e.status, lang),
                     t("events.col.people", lang): counts.respondents, t("events.col.postits", lang): counts.postits,
                     t("events.col.answers", lang): counts.answers,
                     t("events.col.people_today", lang): counts.respondents_today,
                     t("events.col.question_set", lang): e.question_set_id})
        if user.can("review"):
            states = reviewed.get(e.id, {})
            rows[-1].update({t("events.col.approved", lang): states.get(review.APPROVED, 0),
                             t("events.col.has_issues", lang): states.get(review.HAS_ISSUES, 0)})
    st.subheader(session.md_escape(t("events.list.subheader", lang)))
    st.caption(session.md_escape(t("events.list.caption", lang)))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    st.subheader(session.md_escape(t("events.close.subheader", lang)))
    titles = {e.id: t("events.close.option", lang, title=e.title, status=_status(e.status, lang)) for e in all_events}
    chosen_id = st.selectbox(t("events.close.event", lang), list(titles), format_func=titles.get, key="events_chosen")
    chosen = next(e for e in all_events if e.id == chosen_id)
    if chosen.is_open:
        st.caption(session.md_escape(t("events.close.caption", lang)))
        if st.button(t("events.close.button", lang), key="events_close", width="stretch"):
            events.close_event(db, user, chosen.id)
            state[MESSAGE] = ("success", t("events.close.done", lang, title=chosen.title))
            st.rerun()
    else:
        if st.button(t("events.reopen.button", lang), key="events_reopen", width="stretch"):
            try:
                events.set_status(db, user, chosen.id, "open")
            except events.EventError as exc:  # another open event has its name and date
                st.error(session.md_escape(str(exc)))
            else:
                state[MESSAGE] = ("success", t("events.reopen.done", lang, title=chosen.title))
                st.rerun()

    _area_names(db, user, chosen, lang)
    if user.can("review"):
        _review_event(db, user, chosen, lang)


def _status(status: str, lang: str) -> str:
    """An event's status ("open", "closed") in words of `lang`; a status the catalogue does not know, as stored."""
    key = f"events.status.{status}"
    return t(key, lang) if key in catalogue(BASE) else status


def _area_names(db, user, chosen, lang: str) -> None:
    """Name the chosen event's area in each language of its question set (question 4 in that language)."""
    qs = events.question_set(db, chosen.question_set_id)
    others = _other_languages(qs)
    st.subheader(session.md_escape(t("events.area.subheader", lang)))
    if not others:
        st.caption(session.md_escape(t("events.area.one_language", lang)))
        return
    st.caption(session.md_escape(t("events.area.caption", lang, area=events.area_for(db, chosen))))
    named = events.area_languages(db, chosen.id)
    with st.form(f"events_area_form_{chosen.id}"):
        for language in others:
            st.text_input(session.md_escape(_area_prompt(language, lang)), value=named.get(language.code, ""),
                          key=area_key(language.code, chosen.id), max_chars=100)
        if st.form_submit_button(t("events.area.save", lang), key="events_area_save", width="stretch"):
            names = {x.code: st.session_state.get(area_key(x.code, chosen.id)) or "" for x in others}
            try:
                events.set_area_languages(db, user, chosen.id, names)
            except events.EventError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                st.session_state[MESSAGE] = ("success", t("events.area.saved", lang, title=chosen.title))
                st.rerun()


def _review_event(db, user, chosen, lang: str) -> None:
    """Approve every answer of the chosen event still "received", once the officer has looked through them."""
    st.subheader(session.md_escape(t("events.review.subheader", lang)))
    states = review.counts(db, user, chosen.id)[chosen.id]
    st.caption(session.md_escape(t("events.review.caption", lang, received=f"{states[review.RECEIVED]:,}",
                                   approved=f"{states[review.APPROVED]:,}",
                                   issues=f"{states[review.HAS_ISSUES]:,}")))
    if not states[review.RECEIVED]:
        return
    looked = st.checkbox(t("events.review.looked", lang), key=f"events_review_looked_{chosen.id}")
    if st.button(t("events.review.approve", lang, count=f"{states[review.RECEIVED]:,}"), key="events_review_approve",
                 disabled=not looked, width="stretch"):
        done = review.bulk_approve(db, user, event_id=chosen.id)
        st.session_state.pop(f"events_review_looked_{chosen.id}", None)
        st.session_state[MESSAGE] = ("success", t("events.review.approved", lang, count=f"{done:,}",
                                                  title=chosen.title))
        st.rerun()


main()
