"""Engagement rounds: which events make up each round, what the partnership does about each theme ("you said, we
did"), the feedback sheet for the communities, and the snapshots of the counts over time.

Session keys (all prefixed "rounds_"): `rounds_choice` (the chosen round's id; its select box's key changes with the
round titles), `rounds_new_box` / `rounds_new_done` (the New round form, folded after a round is made), the forms'
widgets, `rounds_sheet` (the prepared feedback sheet: round id, file name, bytes). Officers and admins manage ("manage_rounds"); strategy leads read.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import altair as alt
import pandas as pd
import streamlit as st

import config
from data import actions as round_actions
from data import rounds
from data.codebook import list_codes
from data.events import list_events
from data.findings import data_version
from data.paths import safe_filename
from data.users import User
from ui import session

user = session.guard("findings")
db = session.db()
can_manage = user.can("manage_rounds")
st.session_state.setdefault("rounds_sheet", None)

st.title("Engagement rounds")
st.caption("A round groups the events of one engagement (for example “Neglect strategy 2019” or “2026 refresh”), "
           "so that Findings can compare one round with another. An event belongs to one round at most.")

if can_manage:
    if st.session_state.pop("rounds_new_done", False):
        st.session_state["rounds_new_box"] = False  # the round is made: fold the form away again
    with st.expander("New round", icon=":material/add:", key="rounds_new_box", on_change="rerun"):
        with st.form("rounds_new_form", clear_on_submit=True):
            new_name = st.text_input("Name", key="rounds_new_name", max_chars=rounds.NAME_MAX)
            if st.form_submit_button("Create round", type="primary"):
                try:
                    made = rounds.create_round(db, user, new_name)
                except rounds.RoundError as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    st.session_state["rounds_choice"] = made.id
                    st.session_state["rounds_new_done"] = True
                    st.toast(f"Round “{session.md_escape(made.name)}” created: now put its events in it.")
                    st.rerun()

all_rounds = rounds.list_rounds(db, user)
if not all_rounds:
    st.info("No rounds yet." + (" Create one above, then put events in it." if can_manage else
                                " An engagement officer creates them."))
    st.stop()
titles = {r.id: r.title for r in all_rounds}
if st.session_state.get("rounds_choice") not in titles:
    st.session_state["rounds_choice"] = all_rounds[-1].id
# The browser keeps a select box's shown label while its value stays the same, so a round renamed or given its
# first event would still show its old title: the widget's key changes with the titles, the choice is kept apart.
titles_key = "rounds_choice_" + hashlib.sha1("\n".join(titles.values()).encode()).hexdigest()[:10]
with st.container(key="rounds_choice_box"):
    chosen_id = st.selectbox("Round", list(titles), index=list(titles).index(st.session_state["rounds_choice"]),
                             key=titles_key, format_func=lambda r: titles[r])
st.session_state["rounds_choice"] = chosen_id
chosen = next(r for r in all_rounds if r.id == chosen_id)

tab_events, tab_actions, tab_sheet, tab_snapshots = st.tabs(["Events", "You said, we did", "Feedback sheet",
                                                             "Snapshots"])

# --- events in the round ----------------------------------------------------------------------------------------
with tab_events:
    in_round = rounds.round_events(db, user, chosen.id)
    if in_round:
        st.dataframe(pd.DataFrame([{"Event": e.name, "Date": e.date, "Venue": e.venue, "Status": e.status}
                                   for e in in_round]), hide_index=True, width="stretch")
    else:
        st.info("No events in this round yet.")
    if can_manage:
        every = list_events(db)
        where = rounds.round_of_events(db, user)
        others = {e.id: e for e in every if where.get(e.id) != chosen.id}
        round_names = {r.id: r.name for r in all_rounds}

        def event_label(event_id: str) -> str:
            e = others[event_id]
            elsewhere = f" — in {round_names[where[event_id]]}" if event_id in where else ""
            return f"{e.name} ({e.date}){elsewhere}"

        add = st.multiselect("Add events", list(others), key="rounds_add_events", format_func=event_label,
                             placeholder="Choose events")
        move = st.checkbox("Move events that are in another round", key="rounds_move")
        if st.button("Add to this round", key="rounds_add", disabled=not add):
            try:
                n = rounds.assign_events(db, user, chosen.id, add, move=move)
            except rounds.RoundError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                added = f"{n} event{'s' if n != 1 else ''} added to {session.md_escape(chosen.name)}"
                st.toast(added if n else "Nothing changed: those events were in this round already.")
                st.rerun()
        if in_round:
            names = {e.id: f"{e.name} ({e.date})" for e in in_round}
            drop = st.multiselect("Take events out", list(names), key="rounds_drop_events",
                                  format_func=lambda e: names[e], placeholder="Choose events")
            if st.button("Take out of this round", key="rounds_drop", disabled=not drop):
                rounds.unassign_events(db, user, chosen.id, drop)
                st.rerun()
        with st.popover("Rename round", icon=":material/edit:"):
            renamed = st.text_input("New name", value=chosen.name, key=f"rounds_rename_{chosen.id}")
            if st.button("Rename", key="rounds_rename_go"):
                try:
                    rounds.rename_round(db, user, chosen.id, renamed)
                except rounds.RoundError as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    st.rerun()

# --- actions per theme ------------------------------------------------------------------------------------------

@st.cache_data(max_entries=8, show_spinner=False)
def reach(path: str, version: tuple, round_id: int, _user: User) -> dict:
    """People and post-its raising each code in the round (data.actions.reach), once per data version."""
    return round_actions.reach(db, _user, round_id)


with tab_actions:
    st.caption("What the partnership will do about what people raised in this round: an owner, a due date and a "
               "status for each action. The feedback sheet shows them beside what people said.")
    found = round_actions.list_actions(db, user, chosen.id)
    if found:
        from exports.feedback import theme_counts

        said = reach(str(config.db_path()), data_version(db), chosen.id, user)  # what people said, beside it

        def people_said(code_id: int) -> str:
            theme = said.get(code_id)
            return theme_counts(theme) if theme else "nobody in this round"

        def who_when(a: round_actions.Action) -> str:
            return ", ".join(x for x in (a.owner, f"by {a.due}" if a.due else "") if x)

        # status before owner and date, the note only where one is written: the status stays in view on a tablet
        table = pd.DataFrame([{"Theme": a.label, "People said": people_said(a.code_id), "Action": a.what,
                               "Status": a.status_label, "Who, by when": who_when(a), "Note": a.note}
                              for a in found])
        if not table["Note"].astype(bool).any():
            table = table.drop(columns="Note")
        st.dataframe(table, hide_index=True, width="stretch")
    else:
        st.info("No actions recorded for this round yet.")
    if can_manage:
        codes = list_codes(db)
        code_names = {c.id: (c.label if c.parent_id is None else f"— {c.label}") for c in codes}
        if not codes:
            st.info("The codebook is empty: load or create codes before recording actions.")
        else:
            with st.form("rounds_action_form", clear_on_submit=True):
                theme = st.selectbox("Theme people raised", list(code_names), key="rounds_action_theme",
                                     format_func=lambda c: code_names[c])
                what = st.text_area("What the partnership will do", key="rounds_action_what",
                                    max_chars=round_actions.WHAT_MAX)
                c1, c2, c3 = st.columns(3)
                owner = c1.text_input("Owner", key="rounds_action_owner")
                due = c2.date_input("Due", value=None, key="rounds_action_due", format="DD/MM/YYYY")
                status = c3.selectbox("Status", round_actions.STATUSES, key="rounds_action_status",
                                      format_func=lambda s: round_actions.STATUS_LABELS[s])
                note = st.text_input("Note", key="rounds_action_note")
                if st.form_submit_button("Record action", type="primary"):
                    try:
                        round_actions.add_action(db, user, chosen.id, theme, what, owner=owner, due=due,
                                                 status=status, note=note)
                    except round_actions.ActionError as exc:
                        st.error(session.md_escape(str(exc)))
                    else:
                        st.rerun()
            if found:
                labels = {a.id: f"{a.label}: {a.what[:80]}" for a in found}
                c1, c2 = st.columns([3, 1])
                pick = c1.selectbox("Update an action", list(labels), key="rounds_update_action",
                                    format_func=lambda a: labels[a])
                new_status = c2.selectbox("New status", round_actions.STATUSES, key="rounds_update_status",
                                          format_func=lambda s: round_actions.STATUS_LABELS[s])
                if st.button("Save status", key="rounds_update_go"):
                    round_actions.update_action(db, user, pick, status=new_status)
                    st.rerun()

# --- feedback sheet ---------------------------------------------------------------------------------------------
with tab_sheet:
    st.caption("A one-page “you said, we did” sheet for the communities who took part: the main themes, one "
               "person's words for each (never an answer under a safeguarding flag), and the actions. One page per "
               "language the round's question sets use; only the questions are translated, and the sheet says so.")
    if not user.can("export"):
        st.info("Making the sheet needs the export permission; ask an admin.")
    elif st.button("Prepare the feedback sheet (Word)", key="rounds_sheet_go", icon=":material/description:"):
        from exports import feedback

        sheet = round_actions.feedback_sheet(db, user, chosen.id)
        data = feedback.feedback_bytes(sheet)
        file_name = safe_filename(f"you-said-we-did-{chosen.name}.docx", default="you-said-we-did.docx")
        from data.findings import record_export

        record_export(db, user, "feedback", rows=len(sheet.themes), filename=file_name,
                      filters={"Engagement round": chosen.name})
        st.session_state["rounds_sheet"] = (chosen.id, file_name, data, len(sheet.themes),
                                            [lang.name for lang in sheet.languages])
    prepared_sheet = st.session_state["rounds_sheet"]
    if prepared_sheet and prepared_sheet[0] == chosen.id:
        _, file_name, data, n_themes, languages = prepared_sheet
        st.text(f"{n_themes} theme(s); pages in: {', '.join(languages) or 'English'}")
        st.download_button("Download the feedback sheet", data=data, file_name=file_name,
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           key="rounds_sheet_download", on_click="ignore", type="primary",
                           icon=":material/download:")
        st.caption("For a PDF or PNG: python cli.py feedback ROUND FILE --pdf --png (needs LibreOffice).")

# --- snapshots over time ----------------------------------------------------------------------------------------
with tab_snapshots:
    st.caption("A snapshot stores the counts at a moment (answers, people, post-its, and the share raising each "
               "theme per question) for the quarterly impact framework report.")
    if can_manage:
        c1, c2 = st.columns([3, 1])
        label = c1.text_input("Label", key="rounds_snapshot_label",
                              placeholder=f"Q{(dt.date.today().month - 1) // 3 + 1} {dt.date.today().year}")
        c2.write("")
        if c2.button("Take a snapshot now", key="rounds_snapshot_go", icon=":material/photo_camera:"):
            rounds.take_snapshot(db, user, chosen.id, label)
            st.rerun()
    shots = rounds.list_snapshots(db, user, chosen.id)
    if not shots:
        st.info("No snapshots of this round yet." + (" Take one above, or: python cli.py snapshot --round NAME"
                                                     if can_manage else ""))
    else:
        questions = rounds.question_labels(db)
        counts, shares = rounds.snapshot_frame(shots, questions)
        count_chart = alt.Chart(counts).mark_line(point=True).encode(
            x=alt.X("taken_at:T", title="Snapshot taken"),
            y=alt.Y("value:Q", title="Count"),
            color=alt.Color("measure:N", title=None, scale=alt.Scale(range=["#0072B2", "#E69F00", "#009E73",
                                                                           "#CC79A7"])),
            tooltip=["label:N", "measure:N", "value:Q", alt.Tooltip("taken_at:T", title="taken")],
        ).properties(title=f"{chosen.name}: counts over time", height=260)
        st.altair_chart(count_chart.configure_axis(labelFontSize=13, titleFontSize=13)
                        .configure_legend(labelFontSize=13).configure_title(fontSize=15), width="stretch")
        if not shares.empty:
            qids = list(dict.fromkeys(shares["question_id"]))
            qid = st.selectbox("Question", qids, key="rounds_snapshot_question",
                               format_func=lambda q: questions.get(q, q))
            part = shares[shares["question_id"] == qid]
            share_chart = alt.Chart(part).mark_line(point=True).encode(
                x=alt.X("taken_at:T", title="Snapshot taken"),
                y=alt.Y("share:Q", title="Share of people with a coded answer", axis=alt.Axis(format="%")),
                color=alt.Color("theme:N", title="Theme"),
                tooltip=["label:N", "theme:N", alt.Tooltip("share:Q", format=".0%"), "respondents:Q", "base:Q"],
            ).properties(title="Theme shares over time", height=260)
            st.altair_chart(share_chart.configure_axis(labelFontSize=13, titleFontSize=13)
                            .configure_legend(labelFontSize=13).configure_title(fontSize=15), width="stretch")
            st.caption(f"Shares from fewer than {config.SMALL_CELL_THRESHOLD} people are left out.")
        st.dataframe(pd.DataFrame([{"Label": s.label, "Taken (UTC)": s.taken_at[:16].replace("T", " "),
                                    "Answers": s.answers, "People": s.people, "Post-its": s.postits,
                                    "Coded answers": s.coded_answers} for s in shots]),
                     hide_index=True, width="stretch")
