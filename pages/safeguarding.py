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
from ui.i18n import BASE, catalogue, t

user = session.guard("safeguarding")
db = session.db()
lang = session.ui_language()

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


def _core_words(kind: str, code: object, english: str) -> str:
    """The catalogue's words for one of the core's codes (a status, urgency tier, category or strength), or the
    core's own English where the catalogue has no key for it: a code added to the core must never break the queue.
    tests/test_safeguarding_i18n.py checks that every code has a key whose English is the core's label."""
    key = f"safeguarding.{kind}.{code}"
    return t(key, lang) if key in catalogue(BASE) else english


def _status_words(status: str) -> str:
    return _core_words("status", status, flags.STATUS_LABELS.get(status, status))


def _category_words(item: flags.QueueItem) -> str:
    """QueueItem.category_label in this session's language."""
    if item.kind == flags.MANUAL:
        return _core_words("category", flags.MANUAL, item.category_label)
    if item.category in CATEGORY_LABELS:
        return _core_words("category", item.category, item.category_label)
    return item.category or _core_words("category", "not_recorded", item.category_label)


def _strength_words(item: flags.QueueItem) -> str:
    """QueueItem.strength_label in this session's language."""
    code = flags.MANUAL if item.kind == flags.MANUAL else item.strength if item.strength in STRENGTHS else "not_recorded"
    return _core_words("strength", code, item.strength_label)


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
    state[NOTICE] = t("safeguarding.notice.status", lang, when=_when(created_at), status=_status_words(new_status))


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
        state[NOTICE] = t("safeguarding.notice.withheld_again", lang, when=_when(created_at))
    elif item.withheld_by:
        state[NOTICE] = t("safeguarding.notice.released_still_withheld", lang, when=_when(created_at),
                          count=len(item.withheld_by))
    else:
        state[NOTICE] = t("safeguarding.notice.released", lang, when=_when(created_at))


def on_mark_seen() -> None:
    with fresh_db() as cdb:
        flags.mark_seen(cdb, user)
        state[SEEN_BEFORE] = flags.last_seen(cdb, user)


st.title(session.md_escape(t("safeguarding.title", lang)))
st.caption(session.md_escape(t("safeguarding.intro", lang)))

if state[NOTICE]:
    st.success(session.md_escape(state[NOTICE]))
    state[NOTICE] = None

counts = flags.counts(db, user)
columns = st.columns(len(flags.STATUSES))
for column, status in zip(columns, flags.STATUSES, strict=True):
    column.metric(session.md_escape(_status_words(status)), counts[status])

overdue_hours = settings.get_int(db, flags.OVERDUE_SETTING)
overdue = flags.overdue_count(db, user)
if overdue:
    st.error(session.md_escape(t("safeguarding.overdue", lang, count=overdue, hours=overdue_hours)),
             icon=":material/schedule:")

seen_before = state[SEEN_BEFORE]
seen_line, seen_button = st.columns([4, 1], vertical_alignment="center")
seen_line.caption(session.md_escape(t("safeguarding.seen.never", lang) if seen_before is None
                                    else t("safeguarding.seen.last", lang, when=_when(seen_before))))
seen_button.button(session.md_escape(t("safeguarding.seen.button", lang)), key="safeguarding_mark_seen",
                   on_click=on_mark_seen)

event_names = {"": t("safeguarding.filter.any_event", lang)} | {eid: f"{name} ({date})" if date else name
                                                               for eid, name, date in flags.flagged_events(db, user)}
if state[EVENT] not in event_names:
    state[EVENT] = ""
category_names = {code: _core_words("category", code, english)
                  for code, english in ({flags.MANUAL: "raised by hand (a person is worried)"} | CATEGORY_LABELS).items()}
strength_names = {code: _core_words("strength", code, english)
                  for code, english in {"strong": "strong evidence", "possible": "possible"}.items()}

chosen = st.pills(session.md_escape(t("safeguarding.filter.show", lang)), options=list(flags.STATUSES),
                  format_func=lambda s: session.md_escape(_status_words(s)), selection_mode="multi", key=STATUSES)
filter_event, filter_category, filter_strength = st.columns([2, 3, 2])
event_id = filter_event.selectbox(session.md_escape(t("safeguarding.filter.event", lang)), options=list(event_names),
                                  format_func=event_names.get, key=EVENT)
categories = filter_category.multiselect(session.md_escape(t("safeguarding.filter.category", lang)),
                                         options=list(category_names), format_func=category_names.get,
                                         key=CATEGORIES, placeholder=t("safeguarding.filter.any_category", lang))
strengths = filter_strength.pills(session.md_escape(t("safeguarding.filter.strength", lang)), options=list(STRENGTHS),
                                  format_func=lambda s: session.md_escape(strength_names.get(s, s)),
                                  selection_mode="multi", key=STRENGTH)
items = flags.queue(db, user, statuses=chosen or list(flags.STATUSES), event_id=event_id or None,
                    categories=categories, strengths=strengths, seen_before=seen_before)
if not items:
    empty = "safeguarding.empty.none" if counts["open"] == 0 else "safeguarding.empty.filtered"
    st.info(session.md_escape(t(empty, lang)))


_question_sets: dict[str, object] = {}


def _labels(event_id: str | None, question_id: str | None, group_id: str | None) -> tuple[str, str]:
    """The question's and the group's wording at that event (falls back to the ids)."""
    try:
        if event_id not in _question_sets:
            event = events.get_event(db, event_id)
            _question_sets[event_id] = (events.question_set(db, event.question_set_id),
                                        events.area_for(db, event, lang))
        qs, area = _question_sets[event_id]
        question = qs.question(question_id) if question_id else None
        group = qs.group(group_id) if group_id else None
        return (qs.text(question.label, lang, area=area) if question else question_id or "-",
                qs.text(group.label, lang) if group else group_id or "-")
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
    return (t("safeguarding.waited.days", lang, days=f"{hours / 24:.0f}") if hours >= 48
            else t("safeguarding.waited.hours", lang, hours=f"{hours:.0f}"))


for item in items:
    label = _status_words(item.status)
    kind = t("safeguarding.kind.auto" if item.kind == "auto" else "safeguarding.kind.manual", lang)
    triage = (f"{_core_words('urgency', item.urgency, item.urgency_label)} · {_category_words(item)}"
              f" · {_strength_words(item)}")
    with st.container(border=True):
        if item.closed:
            st.text(f"{label} · {triage}")
        else:
            alert, icon = TIER_STYLE[item.urgency]
            alert(session.md_escape(triage), icon=icon)
        badges = []
        if item.overdue:
            overdue_words = t("safeguarding.badge.overdue", lang, waited=_waited(item.created_at), hours=overdue_hours)
            badges.append(f":red-badge[:material/schedule: {session.md_escape(overdue_words)}]")
        if item.new:
            badges.append(f":blue-badge[:material/fiber_new: {session.md_escape(t('safeguarding.badge.new', lang))}]")
        if item.released:
            badges.append(f":green-badge[:material/check: {session.md_escape(t('safeguarding.badge.released', lang))}]")
        if badges:
            st.markdown(" ".join(badges))
        st.text(f"{label} · {kind} · {_when(item.created_at)}")
        group_label = _labels(item.event_id, None, item.group_id)[1]
        event_words = f"{item.event or '-'}{f' ({item.event_date})' if item.event_date else ''}"
        recorded = [t("safeguarding.item.recorded", lang, who=item.recorded_by or item.raised_by or "-",
                      group=group_label)]
        if item.external_id:
            recorded.append(t("safeguarding.item.ref", lang, ref=item.external_id))
        st.text(t("safeguarding.item.event", lang, event=event_words) + "\n" + " · ".join(recorded))
        st.text(t("safeguarding.item.why", lang, reason=item.reason))
        if item.released:
            st.text(t("safeguarding.item.released", lang, who=item.released_by or "-", when=_when(item.released_at)))
            if item.withheld_by:
                st.warning(session.md_escape(t("safeguarding.item.withheld_by", lang, count=len(item.withheld_by))),
                           icon=":material/lock:")
        if item.erased:
            st.warning(session.md_escape(t("safeguarding.item.erased", lang)))
        elif not item.answers:
            st.caption(session.md_escape(t("safeguarding.item.no_answer", lang)))
        # the flagged answer first, then the person's other answers
        for answer in sorted(item.answers, key=lambda a: not a.flagged):
            question = _labels(item.event_id, answer.question_id, None)[0]
            words = [t("safeguarding.answer.flagged" if answer.flagged else "safeguarding.answer.also_said", lang),
                     question] + ([t("safeguarding.answer.withheld", lang)] if answer.withheld else [])
            st.caption(session.md_escape(" · ".join(words)))
            st.code(answer.text, language=None, wrap_lines=True)
        with st.expander(session.md_escape(t("safeguarding.history.title", lang)), expanded=error_key(item.id) in state):
            history = flags.history(db, user, item.id)
            st.dataframe(
                pd.DataFrame([{t("safeguarding.history.when", lang): _when(h.at),
                               t("safeguarding.history.status", lang): _status_words(h.status),
                               t("safeguarding.history.by", lang): h.by or "",
                               t("safeguarding.history.note", lang): h.note} for h in history]),
                hide_index=True,
            )
            if error_key(item.id) in state:
                st.error(state[error_key(item.id)])
            state.setdefault(status_key(item.id), item.status)
            with st.form(f"safeguarding_form_{item.id}"):
                st.selectbox(session.md_escape(t("safeguarding.form.new_status", lang)), options=list(flags.STATUSES),
                             format_func=_status_words, key=status_key(item.id))
                st.text_area(session.md_escape(t("safeguarding.form.note", lang)), key=note_key(item.id))
                st.form_submit_button(session.md_escape(t("safeguarding.form.save", lang)), type="primary",
                                      on_click=on_save_status, args=(item.id, item.created_at))
            with st.form(f"safeguarding_release_form_{item.id}"):
                if item.released:
                    st.caption(session.md_escape(t("safeguarding.release.withhold_help", lang)))
                else:
                    st.caption(session.md_escape(t("safeguarding.release.help", lang)))
                    if item.withheld_by:
                        st.caption(session.md_escape(t("safeguarding.release.others", lang,
                                                       count=len(item.withheld_by))))
                st.text_area(session.md_escape(t("safeguarding.release.reason", lang)), key=release_note_key(item.id))
                st.form_submit_button(
                    session.md_escape(t("safeguarding.release.withhold" if item.released else "safeguarding.release.button",
                                        lang)),
                    on_click=on_release, args=(item.id, item.created_at, not item.released))
