"""Transcribe post-its: after an event, type a flipchart of post-its in fast, one answer + Enter at a time.

Event, question and group are chosen once; each post-it is stored as its own respondent; Undo removes the last.
"""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from data import capture, events, settings
from ui import session, tablet
from ui.i18n import t

log = logging.getLogger(__name__)

# Session keys owned by this page (all prefixed transcribe_).
EVENT = "transcribe_event"
QUESTION = "transcribe_question"
GROUP = "transcribe_group"
CHOICE_PARAMS = {EVENT: "event", QUESTION: "question", GROUP: "group"}  # kept in the address across a reload
TEXT = "transcribe_text"
ADDED = "transcribe_added"  # this session's post-its, oldest first: dicts with response_id, text, question, group
MESSAGE = "transcribe_message"  # (kind, text) shown once after an add or an undo
OWNER = "transcribe_owner"  # username whose session list this is
FLAGGED = "transcribe_flagged"  # True when the last post-it raised a safeguarding flag
KEEP_AGAIN = "transcribe_keep_again"  # True when the box holds words the tab forgot on Add (it failed) or Undo

CSS = """<style>
.st-key-transcribe_group button, .st-key-transcribe_question button { min-height: 2.8rem; }
.st-key-transcribe_box input { font-size: 1.2rem; min-height: 3rem; unicode-bidi: plaintext; }
</style>"""


def on_add(labels: dict[str, str]) -> None:
    state = st.session_state
    text = state.get(TEXT) or ""
    state[FLAGGED] = False
    if not text.strip():
        state[MESSAGE] = ("warning", t("transcribe.type_first", session.ui_language()))
        return
    try:
        result = capture.add_transcribed(session.db(), session.current_user(), event_id=state[EVENT],
                                         question_id=state.get(QUESTION) or "", group_id=state.get(GROUP) or "",
                                         text=text)
    except capture.CaptureError as exc:
        state[MESSAGE] = ("error", t("transcribe.not_added", session.ui_language(), problems=" ".join(
            session.problem_text(p, session.ui_language()) for p in exc.problems)))
        state[KEEP_AGAIN] = True
        return
    except Exception:  # noqa: BLE001 - keep the typed post-it whatever went wrong
        log.exception("adding a transcribed post-it failed")
        state[MESSAGE] = ("error", t("transcribe.busy", session.ui_language()))
        state[KEEP_AGAIN] = True
        return
    state[ADDED].append({"response_id": result.response_id, "text": text,
                         "question": labels.get(state[QUESTION], state[QUESTION]),
                         "group": labels.get(state[GROUP], state[GROUP]), "flagged": result.flag is not None})
    state[TEXT] = ""
    state[FLAGGED] = result.flag is not None
    state[MESSAGE] = ("success", t("transcribe.added", session.ui_language(), count=len(state[ADDED])))


def on_undo() -> None:
    state = st.session_state
    state[FLAGGED] = False
    if not state[ADDED]:
        state[MESSAGE] = ("warning", t("transcribe.nothing_to_undo", session.ui_language()))
        return
    last = state[ADDED][-1]
    try:
        text = capture.undo_transcribed(session.db(), session.current_user(), last["response_id"])
    except capture.CaptureError as exc:
        state[MESSAGE] = ("error", " ".join(session.problem_text(p, session.ui_language()) for p in exc.problems))
        return
    except Exception:  # noqa: BLE001
        log.exception("undoing a transcribed post-it failed")
        state[MESSAGE] = ("error", t("transcribe.undo_busy", session.ui_language()))
        return
    state[ADDED].pop()
    state[TEXT] = text  # offered back for retyping
    state[KEEP_AGAIN] = True  # and kept in the tab again, like typed words
    state[MESSAGE] = ("info", t("transcribe.undone", session.ui_language()))


def show_message() -> None:
    message = st.session_state[MESSAGE]
    if message:
        kind, text = message
        getattr(st, kind)(session.md_escape(text))
        st.session_state[MESSAGE] = None


def main() -> None:
    user = session.guard("transcribe")
    db = session.db()
    state = st.session_state
    if state.get(OWNER, user.username) != user.username:  # another person signed in on this browser: start them afresh
        for key in [k for k in state if str(k).startswith("transcribe_")]:
            del state[key]
    state[OWNER] = user.username
    # A reload or a server restart starts a new Streamlit session: the chosen event, question and group come back
    # from the address (ids only, nothing personal), so words this tab kept are never added under another question
    for key, param in CHOICE_PARAMS.items():
        if key not in state and st.query_params.get(param):
            state[key] = st.query_params[param]
    for key, default in ((ADDED, []), (MESSAGE, None), (FLAGGED, False), (KEEP_AGAIN, False)):
        state.setdefault(key, default)
    tablet.base_css()
    st.html(CSS)
    st.title(session.md_escape(t("transcribe.title", session.ui_language())))
    open_events = events.list_events(db, status="open")
    if not open_events:
        show_message()
        st.info(session.md_escape(t("transcribe.no_event", session.ui_language())))
        return
    titles = {e.id: e.title for e in open_events}
    if state.get(EVENT) not in titles:
        state[EVENT] = open_events[0].id
    st.selectbox(session.md_escape(t("transcribe.event", session.ui_language())), list(titles), format_func=titles.get, key=EVENT, persist_state="session")
    event = next(e for e in open_events if e.id == state[EVENT])
    qs = events.question_set(db, event.question_set_id)
    # the questions and groups in the interface language where the question set has it (ids are what is stored)
    lang = session.ui_language()
    area = events.area_for(db, event, lang)
    questions = {q.id: qs.text(q.label, lang, area=area) for q in qs.questions if q.type == "free_text"}
    groups = {g.id: qs.text(g.label, lang) for g in qs.groups}
    if state.get(QUESTION) not in questions:
        state[QUESTION] = next(iter(questions))
    if state.get(GROUP) is not None and state[GROUP] not in groups:  # an address naming a group not in this set
        state[GROUP] = None
    # radio and pill labels are markdown, and a question names the area an admin typed: escaped
    st.radio(session.md_escape(t("transcribe.question", session.ui_language())), list(questions), format_func=lambda q: session.md_escape(questions[q]),
             key=QUESTION, persist_state="session")
    st.pills(session.md_escape(t("transcribe.group", session.ui_language())), list(groups), format_func=lambda g: session.md_escape(groups[g]), key=GROUP,
             persist_state="session")

    with st.container(key="transcribe_box"):  # an st.form has no key class of its own
        with st.form("transcribe_entry", border=True):
            # not md_escape'd: the label is also the box's accessible name (a catalogue text, our own words)
            st.text_input(t("transcribe.entry", session.ui_language()), key=TEXT,
                          placeholder=t("transcribe.placeholder", session.ui_language()), persist_state="session")
            st.form_submit_button(session.md_escape(t("transcribe.add", session.ui_language())), type="primary", width="stretch", key="transcribe_add",
                                  on_click=on_add, args=({**questions, **groups},))
    # A reload straight from the box (pull-to-refresh while typing) keeps the words: this tab keeps the box until
    # the post-it is added (Add or Enter), undone, or the person signs out (the same script as on Collect)
    device = session.session_id()
    for key, param in CHOICE_PARAMS.items():
        if state.get(key) and st.query_params.get(param) != state[key]:
            st.query_params[param] = state[key]
        elif not state.get(key) and param in st.query_params:
            del st.query_params[param]
    # the tab's copy belongs to this event and question: it is never put back under another one
    scope = f"transcribe\n{event.id}\n{state[QUESTION]}"
    tablet.commit_on_leave(tablet.box_scope(device, user.username, scope) if device else None,
                           form_key="transcribe_box", forget_on=("transcribe_add", "transcribe_undo"),
                           forget_on_enter=True, keep_again=state[KEEP_AGAIN])
    state[KEEP_AGAIN] = False

    show_message()
    if state[FLAGGED]:
        tablet.safeguarding_alert(t("guidance.postit_title", session.ui_language()), t("guidance.postit_body", session.ui_language()),
                                  settings.get(db, "safeguarding_procedure"), key="transcribe_guidance",
                                  call_label=t("guidance.call", session.ui_language()))

    added = state[ADDED]
    st.button(session.md_escape(t("transcribe.undo", session.ui_language())), key="transcribe_undo", on_click=on_undo, disabled=not added,
              icon=":material/undo:")
    st.subheader(session.md_escape(t("transcribe.added_count", session.ui_language(), count=len(added))))
    if added:
        table = pd.DataFrame([{t("transcribe.col_postit", session.ui_language()): a["text"], t("transcribe.col_question", session.ui_language()): a["question"],
                               t("transcribe.col_group", session.ui_language()): a["group"],
                               t("transcribe.col_flagged", session.ui_language()): t("transcribe.yes", session.ui_language()) if a["flagged"] else ""}
                              for a in reversed(added)])
        st.dataframe(table, hide_index=True, width="stretch")
    counts = capture.event_counts(db, user, event.id) if user.can("collect") else None
    if counts is not None:
        key = "transcribe.counts_one" if counts.respondents == 1 else "transcribe.counts_many"
        st.caption(session.md_escape(t(key, answers=f"{counts.answers:,}", postits=f"{counts.postits:,}",
                                       people=f"{counts.respondents:,}")))


main()
