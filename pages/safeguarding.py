"""Safeguarding queue: possible disclosures and "I'm worried" flags in triage order, with the original words.

Only safeguarding leads reach it. Texts are shown with st.text / st.code (never as markdown or HTML). Flags are never
deleted. Order, tiers and overdue time are decided in data/flags.py (`queue`); this page only shows them.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pandas as pd
import streamlit as st

from analysis.safeguarding import CATEGORY_LABELS, STRENGTHS
from data import events, flags, settings
from ui import session

user = session.guard("safeguarding")
db = session.db()

STATUSES = "safeguarding_statuses"
EVENT = "safeguarding_event"
CATEGORIES = "safeguarding_categories"
STRENGTH = "safeguarding_strengths"
NOTICE = "safeguarding_notice"
#: When this lead had last looked before this session (None: never): flags raised after it are "new". Read and
#: replaced in the database once per session, so reruns and filter changes keep the same markers.
SEEN_BEFORE = "safeguarding_seen_before"


def status_key(flag_id: str) -> str:
    return f"safeguarding_status_{flag_id}"


def note_key(flag_id: str) -> str:
    return f"safeguarding_note_{flag_id}"


def release_note_key(flag_id: str) -> str:
    return f"safeguarding_release_note_{flag_id}"


def error_key(flag_id: str) -> str:
    return f"safeguarding_error_{flag_id}"


state = st.session_state
state.setdefault(STATUSES, ["open", "reviewed"])
state.setdefault(EVENT, "")
state.setdefault(CATEGORIES, [])
state.setdefault(STRENGTH, [])
state.setdefault(NOTICE, None)
if SEEN_BEFORE not in state:
    state[SEEN_BEFORE] = flags.mark_seen(db, user)


@contextlib.contextmanager
def fresh_db():
    """Callbacks run at the start of the next script run: they use their own connection."""
    conn = session.db()
    try:
        yield conn
    finally:
        conn.conn.close()


def _when(stamp: str | None) -> str:
    return (stamp or "")[:16].replace("T", " ") + " UTC" if stamp else "-"


def on_save_status(flag_id: str, created_at: str) -> None:
    # a callback, so that a refused change keeps the chosen status and note (a form cleared on submit lost them)
    new_status = state.get(status_key(flag_id))
    try:
        with fresh_db() as cdb:
            flags.set_status(cdb, user, flag_id, new_status, state.get(note_key(flag_id), ""))
    except flags.FlagError as exc:
        state[error_key(flag_id)] = str(exc)
        return
    state.pop(error_key(flag_id), None)
    state[note_key(flag_id)] = ""
    state.pop(status_key(flag_id), None)  # the chooser starts again from the flag's new status
    state[NOTICE] = f"Flag from {_when(created_at)} is now {flags.STATUS_LABELS[new_status]}."


def on_release(flag_id: str, created_at: str, release: bool) -> None:
    try:
        with fresh_db() as cdb:
            change = flags.release if release else flags.unrelease
            item = change(cdb, user, flag_id, state.get(release_note_key(flag_id), ""))
    except flags.FlagError as exc:
        state[error_key(flag_id)] = str(exc)
        return
    state.pop(error_key(flag_id), None)
    state[release_note_key(flag_id)] = ""
    state.pop(status_key(flag_id), None)
    if not release:
        state[NOTICE] = f"Flag from {_when(created_at)}: its answer is withheld again."
    elif item.withheld_by:
        state[NOTICE] = (f"Flag from {_when(created_at)} released, but {len(item.withheld_by)} other flag(s) still "
                         "withhold this answer: it stays out of quotes and exports until they are released too.")
    else:
        state[NOTICE] = f"Flag from {_when(created_at)} released: its answer may now be quoted."


def on_mark_seen() -> None:
    with fresh_db() as cdb:
        flags.mark_seen(cdb, user)
        state[SEEN_BEFORE] = flags.last_seen(cdb, user)


st.title("Safeguarding")
st.caption("Possible disclosures found at save or import time, and flags raised by peer researchers. Most urgent "
           "first: immediate-risk categories and flags a person raised, strong before possible evidence, then the "
           "longest waiting. Each change of status needs a note; a flag is never deleted.")

if state[NOTICE]:
    st.success(state[NOTICE])
    state[NOTICE] = None

counts = flags.counts(db, user)
columns = st.columns(len(flags.STATUSES))
for column, status in zip(columns, flags.STATUSES, strict=True):
    column.metric(flags.STATUS_LABELS[status], counts[status])

overdue_hours = settings.get_int(db, flags.OVERDUE_SETTING)
overdue = flags.overdue_count(db, user)
if overdue:
    st.error(f"{overdue} open flag(s) have waited more than {overdue_hours} hours.", icon=":material/schedule:")

seen_before = state[SEEN_BEFORE]
seen_line, seen_button = st.columns([4, 1], vertical_alignment="center")
seen_line.caption("You have not looked at this queue before: every flag is new to you." if seen_before is None
                  else f"You last looked at {_when(seen_before)}. Flags raised since then are marked New.")
seen_button.button("Mark all as seen", key="safeguarding_mark_seen", on_click=on_mark_seen)

event_names = {"": "Any event"} | {eid: f"{name} ({date})" if date else name
                                   for eid, name, date in flags.flagged_events(db, user)}
if state[EVENT] not in event_names:
    state[EVENT] = ""
category_names = {flags.MANUAL: "raised by hand (a person is worried)"} | CATEGORY_LABELS
strength_names = {"strong": "strong evidence", "possible": "possible"}

chosen = st.pills("Show", options=list(flags.STATUSES), format_func=flags.STATUS_LABELS.get, selection_mode="multi",
                  key=STATUSES)
filter_event, filter_category, filter_strength = st.columns([2, 3, 2])
event_id = filter_event.selectbox("Event", options=list(event_names), format_func=event_names.get, key=EVENT)
categories = filter_category.multiselect("Category", options=list(category_names), format_func=category_names.get,
                                         key=CATEGORIES, placeholder="Any category")
strengths = filter_strength.pills("Strength", options=list(STRENGTHS), format_func=strength_names.get,
                                  selection_mode="multi", key=STRENGTH)
items = flags.queue(db, user, statuses=chosen or list(flags.STATUSES), event_id=event_id or None,
                    categories=categories, strengths=strengths, seen_before=seen_before)
if not items:
    st.info("No flags with these statuses." if counts["open"] == 0 else "No flags match this filter.")


_question_sets: dict[str, object] = {}


def _labels(event_id: str | None, question_id: str | None, group_id: str | None) -> tuple[str, str]:
    """The question's and the group's wording at that event (falls back to the ids)."""
    try:
        if event_id not in _question_sets:
            event = events.get_event(db, event_id)
            _question_sets[event_id] = (events.question_set(db, event.question_set_id), events.area_for(db, event))
        qs, area = _question_sets[event_id]
        question = qs.question(question_id) if question_id else None
        group = qs.group(group_id) if group_id else None
        return (qs.text(question.label, area=area) if question else question_id or "-",
                qs.text(group.label) if group else group_id or "-")
    except events.EventError:
        return question_id or "-", group_id or "-"


#: How each urgency tier of an unresolved flag is shown: the alert, and its icon (words and icon, not colour alone).
TIER_STYLE = {
    0: (st.error, ":material/emergency:"),
    1: (st.error, ":material/priority_high:"),
    2: (st.warning, ":material/report:"),
    3: (st.info, ":material/help:"),
}


def _waited(created_at: str) -> str:
    try:
        hours = (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(created_at)).total_seconds() / 3600
    except ValueError:
        return ""
    return f"{hours / 24:.0f} days" if hours >= 48 else f"{hours:.0f} hours"


for item in items:
    label = flags.STATUS_LABELS[item.status]
    kind = "Possible disclosure" if item.kind == "auto" else "Raised by hand"
    triage = f"{item.urgency_label} · {item.category_label} · {item.strength_label}"
    with st.container(border=True):
        if item.closed:
            st.text(f"{label} · {triage}")
        else:
            alert, icon = TIER_STYLE[item.urgency]
            alert(session.md_escape(triage), icon=icon)
        badges = []
        if item.overdue:
            badges.append(f":red-badge[:material/schedule: Overdue: open for {session.md_escape(_waited(item.created_at))}"
                          f" (more than {overdue_hours} hours)]")
        if item.new:
            badges.append(":blue-badge[:material/fiber_new: New since you last looked]")
        if item.released:
            badges.append(":green-badge[:material/check: Released: may be quoted]")
        if badges:
            st.markdown(" ".join(badges))
        st.text(f"{label} · {kind} · {_when(item.created_at)}")
        group_label = _labels(item.event_id, None, item.group_id)[1]
        st.text(f"Event: {item.event or '-'}{f' ({item.event_date})' if item.event_date else ''}\n"
                f"Recorded by: {item.recorded_by or item.raised_by or '-'} · Group: {group_label}"
                + (f" · Ref: {item.external_id}" if item.external_id else ""))
        st.text(f"Why flagged: {item.reason}")
        if item.released:
            st.text(f"Released by {item.released_by or '-'} at {_when(item.released_at)}: no further action, "
                    "may be quoted.")
            if item.withheld_by:
                st.warning(f"Another flag still withholds this answer ({len(item.withheld_by)} open or unreleased): "
                           "it stays out of quotes and exports until that flag is released too.",
                           icon=":material/lock:")
        if item.erased:
            st.warning("The respondent was erased: this flag is kept but their words have been deleted.")
        elif not item.answers:
            st.caption("No answer text is linked to this flag.")
        # the flagged answer first, then the person's other answers
        for answer in sorted(item.answers, key=lambda a: not a.flagged):
            question = _labels(item.event_id, answer.question_id, None)[0]
            st.caption(session.md_escape(("Flagged answer · " if answer.flagged else "Also said · ") + question
                                         + (" · withheld from quotes and exports" if answer.withheld else "")))
            st.code(answer.text, language=None, wrap_lines=True)
        with st.expander("History and status", expanded=error_key(item.id) in state):
            history = flags.history(db, user, item.id)
            st.dataframe(
                pd.DataFrame([{"when": _when(h.at), "status": flags.STATUS_LABELS.get(h.status, h.status),
                               "by": h.by or "", "note": h.note} for h in history]),
                hide_index=True,
            )
            if error_key(item.id) in state:
                st.error(state[error_key(item.id)])
            state.setdefault(status_key(item.id), item.status)
            with st.form(f"safeguarding_form_{item.id}"):
                st.selectbox("New status", options=list(flags.STATUSES), format_func=flags.STATUS_LABELS.get,
                             key=status_key(item.id))
                st.text_area("Note (what you did or decided; for Referred / No further action, the reason)",
                             key=note_key(item.id))
                st.form_submit_button("Save status", type="primary", on_click=on_save_status,
                                      args=(item.id, item.created_at))
            with st.form(f"safeguarding_release_form_{item.id}"):
                if item.released:
                    st.caption("Withhold again: the answer goes back out of quotes and exports.")
                else:
                    st.caption("Release: no further action, the answer may be quoted (closes the flag as No further "
                               "action unless it is already closed).")
                    if item.withheld_by:
                        st.caption(f"{len(item.withheld_by)} other flag(s) also withhold this answer: releasing "
                                   "this one alone will not make it quotable.")
                st.text_area("Reason (required)", key=release_note_key(item.id))
                st.form_submit_button("Withhold again" if item.released else "Release: may be quoted",
                                      on_click=on_release, args=(item.id, item.created_at, not item.released))
