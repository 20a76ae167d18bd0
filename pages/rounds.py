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
from ui import i18n, session
from ui.i18n import t

user = session.guard("findings")
db = session.db()
# Widget labels take the catalogue's text as it is (it is also the accessible name); texts that fill in stored
# words, and every text rendered as markdown on its own, are escaped.
lang = session.ui_language()
can_manage = user.can("manage_rounds")
st.session_state.setdefault("rounds_sheet", None)


def status_words(status: str) -> str:
    """An action's or event's status in words of the interface language; a status the catalogue lacks, as stored."""
    for key in (f"rounds.status.{status}", f"events.status.{status}"):
        if key in i18n.catalogue(i18n.BASE):
            return t(key, lang)
    return status


def people_said(theme, threshold: int) -> str:
    """How many raised a theme, people and post-its apart, with the small-number rule: the words of
    exports.feedback.theme_counts, in the interface language ("" where nobody in it has a coded answer)."""
    def part(noun: str, n: int, base: int) -> str:
        kind = "none" if n == 0 else "some" if base < threshold else "fewer" if n < threshold else "share"
        return t(f"rounds.said.{noun}.{kind}", lang, n=f"{n:,}", base=f"{base:,}", threshold=threshold,
                 share=f"{n / base:.0%}" if base else "")

    people = part("people", theme.respondents, theme.base) if theme.base else ""
    postits = part("postits", theme.postits, theme.postit_base) if theme.postit_base else ""
    if people and postits:
        return t("rounds.said.both", lang, people=people, postits=postits)
    if people:
        return t("rounds.said.people", lang, people=people)
    return t("rounds.said.postits", lang, postits=postits) if postits else ""


st.title(session.md_escape(t("rounds.title", lang)))
st.caption(session.md_escape(t("rounds.intro", lang)))

if can_manage:
    if st.session_state.pop("rounds_new_done", False):
        st.session_state["rounds_new_box"] = False  # the round is made: fold the form away again
    with st.expander(t("rounds.new.expander", lang), icon=":material/add:", key="rounds_new_box", on_change="rerun"):
        with st.form("rounds_new_form", clear_on_submit=True):
            new_name = st.text_input(t("rounds.new.name", lang), key="rounds_new_name", max_chars=rounds.NAME_MAX)
            if st.form_submit_button(t("rounds.new.button", lang), type="primary"):
                try:
                    made = rounds.create_round(db, user, new_name)
                except rounds.RoundError as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    st.session_state["rounds_choice"] = made.id
                    st.session_state["rounds_new_done"] = True
                    st.toast(session.md_escape(t("rounds.new.created", lang, name=made.name)))
                    st.rerun()

all_rounds = rounds.list_rounds(db, user)
if not all_rounds:
    st.info(session.md_escape(t("rounds.none_manage" if can_manage else "rounds.none_read", lang)))
    st.stop()
titles = {r.id: r.title for r in all_rounds}
if st.session_state.get("rounds_choice") not in titles:
    st.session_state["rounds_choice"] = all_rounds[-1].id
# The browser keeps a select box's shown label while its value stays the same, so a round renamed or given its
# first event would still show its old title: the widget's key changes with the titles, the choice is kept apart.
titles_key = "rounds_choice_" + hashlib.sha1("\n".join(titles.values()).encode()).hexdigest()[:10]
with st.container(key="rounds_choice_box"):
    chosen_id = st.selectbox(t("rounds.choice", lang), list(titles), index=list(titles).index(st.session_state["rounds_choice"]),
                             key=titles_key, format_func=lambda r: titles[r])
st.session_state["rounds_choice"] = chosen_id
chosen = next(r for r in all_rounds if r.id == chosen_id)

tab_events, tab_actions, tab_sheet, tab_snapshots = st.tabs([t("rounds.tab.events", lang), t("rounds.tab.actions", lang),
                                                             t("rounds.tab.sheet", lang),
                                                             t("rounds.tab.snapshots", lang)])

# --- events in the round ----------------------------------------------------------------------------------------
with tab_events:
    in_round = rounds.round_events(db, user, chosen.id)
    if in_round:
        st.dataframe(pd.DataFrame([{t("rounds.events.col.event", lang): e.name, t("rounds.events.col.date", lang): e.date,
                                    t("rounds.events.col.venue", lang): e.venue,
                                    t("rounds.events.col.status", lang): status_words(e.status)}
                                   for e in in_round]), hide_index=True, width="stretch")
    else:
        st.info(session.md_escape(t("rounds.events.none", lang)))
    if can_manage:
        every = list_events(db)
        where = rounds.round_of_events(db, user)
        others = {e.id: e for e in every if where.get(e.id) != chosen.id}
        round_names = {r.id: r.name for r in all_rounds}

        def event_label(event_id: str) -> str:
            e = others[event_id]
            if event_id in where:
                return t("rounds.events.option_elsewhere", lang, name=e.name, date=e.date,
                         round=round_names[where[event_id]])
            return f"{e.name} ({e.date})"

        add = st.multiselect(t("rounds.events.add", lang), list(others), key="rounds_add_events",
                             format_func=event_label, placeholder=t("rounds.events.choose", lang))
        move = st.checkbox(t("rounds.events.move", lang), key="rounds_move")
        if st.button(t("rounds.events.add_button", lang), key="rounds_add", disabled=not add):
            try:
                n = rounds.assign_events(db, user, chosen.id, add, move=move)
            except rounds.RoundError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                if n:
                    added = t("rounds.events.added_one" if n == 1 else "rounds.events.added_many", lang, count=n,
                              round=chosen.name)
                else:
                    added = t("rounds.events.unchanged", lang)
                st.toast(session.md_escape(added))
                st.rerun()
        if in_round:
            names = {e.id: f"{e.name} ({e.date})" for e in in_round}
            drop = st.multiselect(t("rounds.events.drop", lang), list(names), key="rounds_drop_events",
                                  format_func=lambda e: names[e], placeholder=t("rounds.events.choose", lang))
            if st.button(t("rounds.events.drop_button", lang), key="rounds_drop", disabled=not drop):
                rounds.unassign_events(db, user, chosen.id, drop)
                st.rerun()
        with st.popover(t("rounds.rename.popover", lang), icon=":material/edit:"):
            renamed = st.text_input(t("rounds.rename.name", lang), value=chosen.name, key=f"rounds_rename_{chosen.id}")
            if st.button(t("rounds.rename.button", lang), key="rounds_rename_go"):
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
    st.caption(session.md_escape(t("rounds.actions.caption", lang)))
    found = round_actions.list_actions(db, user, chosen.id)
    if found:
        said = reach(str(config.db_path()), data_version(db), chosen.id, user)  # what people said, beside it

        def said_of(code_id: int) -> str:
            theme = said.get(code_id)
            return people_said(theme, config.SMALL_CELL_THRESHOLD) if theme else t("rounds.actions.nobody", lang)

        def who_when(a: round_actions.Action) -> str:
            return ", ".join(x for x in (a.owner, t("rounds.actions.by", lang, due=a.due) if a.due else "") if x)

        # status before owner and date, the note only where one is written: the status stays in view on a tablet
        note_column = t("rounds.actions.col.note", lang)
        table = pd.DataFrame([{t("rounds.actions.col.theme", lang): a.label,
                               t("rounds.actions.col.people_said", lang): said_of(a.code_id),
                               t("rounds.actions.col.action", lang): a.what,
                               t("rounds.actions.col.status", lang): status_words(a.status),
                               t("rounds.actions.col.who", lang): who_when(a), note_column: a.note}
                              for a in found])
        if not table[note_column].astype(bool).any():
            table = table.drop(columns=note_column)
        st.dataframe(table, hide_index=True, width="stretch")
    else:
        st.info(session.md_escape(t("rounds.actions.none", lang)))
    if can_manage:
        codes = list_codes(db)
        code_names = {c.id: (c.label if c.parent_id is None else f"— {c.label}") for c in codes}
        if not codes:
            st.info(session.md_escape(t("rounds.actions.no_codes", lang)))
        else:
            with st.form("rounds_action_form", clear_on_submit=True):
                theme = st.selectbox(t("rounds.actions.theme", lang), list(code_names), key="rounds_action_theme",
                                     format_func=lambda c: code_names[c])
                what = st.text_area(t("rounds.actions.what", lang), key="rounds_action_what",
                                    max_chars=round_actions.WHAT_MAX)
                c1, c2, c3 = st.columns(3)
                owner = c1.text_input(t("rounds.actions.owner", lang), key="rounds_action_owner")
                due = c2.date_input(t("rounds.actions.due", lang), value=None, key="rounds_action_due",
                                    format="DD/MM/YYYY")
                status = c3.selectbox(t("rounds.actions.status", lang), round_actions.STATUSES,
                                      key="rounds_action_status", format_func=status_words)
                note = st.text_input(t("rounds.actions.note", lang), key="rounds_action_note")
                if st.form_submit_button(t("rounds.actions.record", lang), type="primary"):
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
                pick = c1.selectbox(t("rounds.actions.update", lang), list(labels), key="rounds_update_action",
                                    format_func=lambda a: labels[a])
                new_status = c2.selectbox(t("rounds.actions.new_status", lang), round_actions.STATUSES,
                                          key="rounds_update_status", format_func=status_words)
                if st.button(t("rounds.actions.save_status", lang), key="rounds_update_go"):
                    round_actions.update_action(db, user, pick, status=new_status)
                    st.rerun()

# --- feedback sheet ---------------------------------------------------------------------------------------------
with tab_sheet:
    st.caption(session.md_escape(t("rounds.sheet.caption", lang)))
    if not user.can("export"):
        st.info(session.md_escape(t("rounds.sheet.no_permission", lang)))
    elif st.button(t("rounds.sheet.prepare", lang), key="rounds_sheet_go", icon=":material/description:"):
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
        st.text(t("rounds.sheet.prepared", lang, count=n_themes,
                  languages=", ".join(languages) or t("rounds.sheet.english", lang)))
        st.download_button(t("rounds.sheet.download", lang), data=data, file_name=file_name,
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           key="rounds_sheet_download", on_click="ignore", type="primary",
                           icon=":material/download:")
        st.caption(session.md_escape(t("rounds.sheet.pdf", lang)))

# --- snapshots over time ----------------------------------------------------------------------------------------
with tab_snapshots:
    st.caption(session.md_escape(t("rounds.snapshots.caption", lang)))
    if can_manage:
        c1, c2 = st.columns([3, 1])
        label = c1.text_input(t("rounds.snapshots.label", lang), key="rounds_snapshot_label",
                              placeholder=t("rounds.snapshots.label_placeholder", lang,
                                            quarter=(dt.date.today().month - 1) // 3 + 1, year=dt.date.today().year))
        c2.write("")
        if c2.button(t("rounds.snapshots.take", lang), key="rounds_snapshot_go", icon=":material/photo_camera:"):
            rounds.take_snapshot(db, user, chosen.id, label)
            st.rerun()
    shots = rounds.list_snapshots(db, user, chosen.id)
    if not shots:
        st.info(session.md_escape(t("rounds.snapshots.none_manage" if can_manage else "rounds.snapshots.none_read",
                                    lang)))
    else:
        questions = rounds.question_labels(db)
        counts, shares = rounds.snapshot_frame(shots, questions)
        # the lines are named by data.rounds.snapshot_frame's English measure names: shown in the interface language
        measures = {"Answers": "answers", "People": "people", "Post-its": "postits", "Coded answers": "coded"}
        counts["measure"] = [t(f"rounds.chart.measure.{measures[m]}", lang) if m in measures else m
                             for m in counts["measure"]]
        count_chart = alt.Chart(counts).mark_line(point=True).encode(
            x=alt.X("taken_at:T", title=t("rounds.chart.taken", lang)),
            y=alt.Y("value:Q", title=t("rounds.chart.count", lang)),
            # each measure keeps its colour (and the legend its order) in every language: the English names' order
            color=alt.Color("measure:N", title=None, scale=alt.Scale(
                domain=[t(f"rounds.chart.measure.{m}", lang) for m in ("answers", "coded", "people", "postits")],
                range=["#0072B2", "#E69F00", "#009E73", "#CC79A7"])),
            tooltip=[alt.Tooltip("label:N", title=t("rounds.chart.tip.label", lang)),
                     alt.Tooltip("measure:N", title=t("rounds.chart.tip.measure", lang)),
                     alt.Tooltip("value:Q", title=t("rounds.chart.tip.value", lang)),
                     alt.Tooltip("taken_at:T", title=t("rounds.chart.tip.taken", lang))],
        ).properties(title=t("rounds.chart.counts_title", lang, name=chosen.name), height=260)
        st.altair_chart(count_chart.configure_axis(labelFontSize=13, titleFontSize=13)
                        .configure_legend(labelFontSize=13).configure_title(fontSize=15), width="stretch")
        if not shares.empty:
            qids = list(dict.fromkeys(shares["question_id"]))
            qid = st.selectbox(t("rounds.snapshots.question", lang), qids, key="rounds_snapshot_question",
                               format_func=lambda q: questions.get(q, q))
            part = shares[shares["question_id"] == qid]
            share_chart = alt.Chart(part).mark_line(point=True).encode(
                x=alt.X("taken_at:T", title=t("rounds.chart.taken", lang)),
                y=alt.Y("share:Q", title=t("rounds.chart.share", lang), axis=alt.Axis(format="%")),
                color=alt.Color("theme:N", title=t("rounds.chart.theme", lang)),
                tooltip=[alt.Tooltip("label:N", title=t("rounds.chart.tip.label", lang)),
                         alt.Tooltip("theme:N", title=t("rounds.chart.tip.theme", lang)),
                         alt.Tooltip("share:Q", format=".0%", title=t("rounds.chart.tip.share", lang)),
                         alt.Tooltip("respondents:Q", title=t("rounds.chart.tip.respondents", lang)),
                         alt.Tooltip("base:Q", title=t("rounds.chart.tip.base", lang))],
            ).properties(title=t("rounds.chart.shares_title", lang), height=260)
            st.altair_chart(share_chart.configure_axis(labelFontSize=13, titleFontSize=13)
                            .configure_legend(labelFontSize=13).configure_title(fontSize=15), width="stretch")
            st.caption(session.md_escape(t("rounds.snapshots.small", lang, threshold=config.SMALL_CELL_THRESHOLD)))
        st.dataframe(pd.DataFrame([{t("rounds.snapshots.col.label", lang): s.label,
                                    t("rounds.snapshots.col.taken", lang): s.taken_at[:16].replace("T", " "),
                                    t("rounds.snapshots.col.answers", lang): s.answers,
                                    t("rounds.snapshots.col.people", lang): s.people,
                                    t("rounds.snapshots.col.postits", lang): s.postits,
                                    t("rounds.snapshots.col.coded", lang): s.coded_answers} for s in shots]),
                     hide_index=True, width="stretch")
