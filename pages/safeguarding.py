"""Safeguarding queue: possible disclosures and "I'm worried" flags, newest first, with the original words.

Only safeguarding leads reach it. Texts are shown with st.text (never as markdown or HTML). Flags are never deleted.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import events, flags
from ui import session

user = session.guard("safeguarding")
db = session.db()

st.session_state.setdefault("safeguarding_statuses", ["open", "reviewed"])
st.session_state.setdefault("safeguarding_notice", None)

st.title("Safeguarding")
st.caption("Possible disclosures found at save or import time, and flags raised by peer researchers. "
           "Each change of status needs a note; a flag is never deleted.")

if st.session_state["safeguarding_notice"]:
    st.success(st.session_state["safeguarding_notice"])
    st.session_state["safeguarding_notice"] = None

counts = flags.counts(db, user)
columns = st.columns(len(flags.STATUSES))
for column, status in zip(columns, flags.STATUSES, strict=True):
    column.metric(flags.STATUS_LABELS[status], counts[status])

chosen = st.pills("Show", options=list(flags.STATUSES), format_func=flags.STATUS_LABELS.get, selection_mode="multi",
                  key="safeguarding_statuses")
items = flags.queue(db, user, statuses=chosen or list(flags.STATUSES))
if not items:
    st.info("No flags with these statuses." if counts["open"] == 0 else "No flags match this filter.")


def _when(stamp: str | None) -> str:
    return (stamp or "")[:16].replace("T", " ") + " UTC" if stamp else "-"


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


for item in items:
    label = flags.STATUS_LABELS[item.status]
    kind = "Possible disclosure" if item.kind == "auto" else "Raised by hand"
    with st.container(border=True):
        st.text(f"{label} · {kind} · {_when(item.created_at)}")
        group_label = _labels(item.event_id, None, item.group_id)[1]
        st.text(f"Event: {item.event or '-'}{f' ({item.event_date})' if item.event_date else ''}\n"
                f"Recorded by: {item.recorded_by or item.raised_by or '-'} · Group: {group_label}"
                + (f" · Ref: {item.external_id}" if item.external_id else ""))
        st.text(f"Why flagged: {item.reason}")
        if item.erased:
            st.warning("The respondent was erased: this flag is kept but their words have been deleted.")
        elif not item.answers:
            st.caption("No answer text is linked to this flag.")
        # the flagged answer first, then the person's other answers
        for answer in sorted(item.answers, key=lambda a: not a.flagged):
            question = _labels(item.event_id, answer.question_id, None)[0]
            st.caption(session.md_escape(("Flagged answer · " if answer.flagged else "Also said · ") + question))
            st.code(answer.text, language=None, wrap_lines=True)
        with st.expander("History and status"):
            history = flags.history(db, user, item.id)
            st.dataframe(
                pd.DataFrame([{"when": _when(h.at), "status": flags.STATUS_LABELS.get(h.status, h.status),
                               "by": h.by or "", "note": h.note} for h in history]),
                hide_index=True,
            )
            with st.form(f"safeguarding_form_{item.id}", clear_on_submit=True):
                new_status = st.selectbox("New status", options=list(flags.STATUSES),
                                          index=list(flags.STATUSES).index(item.status),
                                          format_func=flags.STATUS_LABELS.get, key=f"safeguarding_status_{item.id}")
                note = st.text_area("Note (what you did or decided; for Referred / No further action, the reason)",
                                    key=f"safeguarding_note_{item.id}")
                if st.form_submit_button("Save status", type="primary"):
                    try:
                        flags.set_status(db, user, item.id, new_status, note)
                    except flags.FlagError as exc:
                        st.error(str(exc))
                    else:
                        st.session_state["safeguarding_notice"] = (
                            f"Flag from {_when(item.created_at)} is now {flags.STATUS_LABELS[new_status]}.")
                        st.rerun()
