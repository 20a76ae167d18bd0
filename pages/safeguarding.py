"""Safeguarding queue: possible disclosures and "I'm worried" flags, newest first, with the original words.

Only safeguarding leads reach it. Texts are shown with st.text (never as markdown or HTML). Flags are never deleted.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import flags
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


for item in items:
    label = flags.STATUS_LABELS[item.status]
    kind = "Possible disclosure" if item.kind == "auto" else "Raised by hand"
    with st.container(border=True):
        st.text(f"{label} · {kind} · {_when(item.created_at)}")
        st.text(f"Event: {item.event or '-'}{f' ({item.event_date})' if item.event_date else ''}   "
                f"Recorded by: {item.recorded_by or item.raised_by or '-'}   Group: {item.group_id or '-'}"
                + (f"   Ref: {item.external_id}" if item.external_id else ""))
        st.text(f"Why flagged: {item.reason}")
        if item.erased:
            st.warning("The respondent was erased: this flag is kept but their words have been deleted.")
        elif not item.answers:
            st.caption("No answer text is linked to this flag.")
        for answer in item.answers:
            st.caption(("Flagged answer · " if answer.flagged else "") + answer.question_id)
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
