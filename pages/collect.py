"""Collect answers: a peer researcher records one respondent at a time on a tablet at a community event.

Save stores the respondent in one go, confirms with today's count and clears the form in the same tap.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass

import streamlit as st

from data import capture, events, flags, settings
from data.users import PermissionDenied
from surveys import QuestionSet
from ui import collect_draft, session

log = logging.getLogger(__name__)

# Session keys owned by this page (all prefixed collect_).
EVENT = "collect_event_id"
LANGUAGE = "collect_language"
TOKEN = "collect_token"  # one filled-in form; renewed only after a successful save
LAST = "collect_last"  # the confirmation of the last save (dict), kept until the next one
ERROR = "collect_error"  # list of plain-words problems from the last failed save
WORRIED = "collect_worried"  # the "I'm worried" action was tapped while this form was being filled
GUIDANCE = "collect_guidance"  # why the safeguarding procedure is on screen, or None
GUIDANCE_TOASTED = "collect_guidance_toasted"  # the guidance reason already announced with a toast
NOTICE = "collect_notice"  # a short info line (e.g. a repeated tap was ignored)
OWNER = "collect_owner"  # username whose form this is
FLAG_TARGET = "collect_flag_target"  # what the last "I'm worried" flag was attached to, in words
GROUP = "collect_group"
CONSENT = "collect_consent"
AGE_BAND = "collect_profile_age_band"
WORRY_NOTE = "collect_worry_note"

#: A second Save with exactly the same form within this many seconds is the same respondent tapped twice: the
#: browser sends the old form once more if it has not yet received the cleared one (seen in Chromium on a tablet).
#: Short, so that two real people giving identical answers one after the other are both stored; a notice says
#: when a tap was ignored, so a genuine identical respondent can be entered again.
DOUBLE_TAP_SECONDS = 5
#: "I'm worried" on an empty form flags the respondent saved last if that was this recently; otherwise the person
#: in front of the peer researcher is someone new, and the flag goes on the event.
LAST_RESPONDENT_SECONDS = 10 * 60

CSS = """<style>
.st-key-collect_group button, .st-key-collect_language button, .st-key-collect_profile_age_band button {
  min-height: 3rem; padding: 0.4rem 1.1rem; font-size: 1.05rem; }
.st-key-collect_save button { min-height: 4.5rem; }
.st-key-collect_save button p { font-size: 1.5rem; font-weight: 700; }
.st-key-collect_worry button { min-height: 3.2rem; }
.st-key-collect_consent label { padding: 0.5rem 0; align-items: center; }
.st-key-collect_consent label > div:nth-child(2) { transform: scale(1.6); margin: 0 0.9rem 0 0.4rem; }
.st-key-collect_consent p { font-size: 1.15rem; font-weight: 600; }
.st-key-collect_form [data-testid="stWidgetLabel"] p { font-size: 1.05rem; }
.st-key-collect_form p { unicode-bidi: plaintext; }
.st-key-collect_confirmation p { font-size: 1.2rem; }
.st-key-collect_form [data-testid="InputInstructions"] { display: none; }
.st-key-collect_form textarea, .st-key-collect_form input { unicode-bidi: plaintext; font-size: 1.1rem; }
</style>"""
RTL_CSS = "<style>.st-key-collect_form { direction: rtl; text-align: right; }</style>"


def answer_key(question_id: str) -> str:
    return f"collect_answer_{question_id}"


def profile_key(field_id: str) -> str:
    return f"collect_profile_{field_id}"


@dataclass(frozen=True)
class Form:
    group: str | None
    consent: bool
    answers: dict[str, list[str] | str]
    profile: dict[str, str]

    @property
    def untouched(self) -> bool:
        return (not self.group and not self.consent and not self.profile
                and not any(v.strip() if isinstance(v, str) else v for v in self.answers.values()))

    def fingerprint(self, event_id: str) -> str:
        data = [event_id, self.group, self.consent, sorted(self.answers.items()), sorted(self.profile.items())]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False, default=str).encode()).hexdigest()


def read_form(qs: QuestionSet) -> Form:
    state = st.session_state
    answers: dict[str, list[str] | str] = {}
    for q in qs.questions:
        value = state.get(answer_key(q.id))
        if q.type == "free_text":
            lines = capture.split_answers(value or "")
            if lines:
                answers[q.id] = lines
        elif q.type == "single_choice" and value:
            answers[q.id] = value
        elif q.type == "multiple_choice" and value:
            answers[q.id] = list(value)
    profile = {}
    for p in qs.profile:
        value = state.get(profile_key(p.id))
        if isinstance(value, str) and value.strip():
            profile[p.id] = value.strip() if p.type == "short_text" else value
    return Form(state.get(GROUP), bool(state.get(CONSENT)), answers, profile)


def clear_form(qs: QuestionSet) -> None:
    """Empty every field for the next respondent (called from callbacks, before the widgets are drawn)."""
    state = st.session_state
    for q in qs.questions:
        state[answer_key(q.id)] = "" if q.type == "free_text" else ([] if q.type == "multiple_choice" else None)
    for p in qs.profile:
        state[profile_key(p.id)] = "" if p.type == "short_text" else None
    state[GROUP] = None
    state[CONSENT] = False
    state[WORRIED] = False
    state[WORRY_NOTE] = ""
    collect_draft.forget()  # saved or cleared: its server-side draft goes too


def on_save(event_id: str, qs: QuestionSet) -> None:
    state = st.session_state
    state[ERROR] = None
    state[NOTICE] = None
    form = read_form(qs)
    last = state.get(LAST)
    if last and last["event_id"] == event_id and not state.get(WORRIED):
        if form.untouched:
            # A second tap after the form was cleared: nothing to do, keep the confirmation on screen.
            return
        if form.fingerprint(event_id) == last["fingerprint"] and time.time() - last["at"] < DOUBLE_TAP_SECONDS:
            clear_form(qs)
            state[NOTICE] = ("Your second tap on Save was ignored: these answers were saved a moment ago. "
                             "If this really is another person with exactly the same answers, enter them again.")
            return
    user = session.current_user()
    try:
        result = capture.save_respondent(
            session.db(), user, event_id=event_id, group_id=form.group or "", consent=form.consent,
            answers=form.answers, profile=form.profile, language=state.get(LANGUAGE) or qs.default_language,
            submission_token=state[TOKEN], worried=bool(state.get(WORRIED)), worried_note=state.get(WORRY_NOTE) or "",
        )
    except capture.CaptureError as exc:
        state[ERROR] = exc.problems
        return
    except PermissionDenied as exc:
        state[ERROR] = [str(exc)]
        return
    except Exception:  # noqa: BLE001 - any failure (e.g. a locked database) must keep the typed answers
        log.exception("saving a respondent failed")
        state[ERROR] = ["The answers could not be saved just now (the database was busy or unavailable). "
                        "Nothing is lost: everything you typed is still here. Wait a moment, then tap Save again. "
                        "If it keeps happening, tell the event lead."]
        return
    state[LAST] = {"event_id": event_id, "respondent_id": result.respondent_id, "answers": result.answers_saved,
                   "count_today": result.count_today, "fingerprint": form.fingerprint(event_id), "at": time.time(),
                   "flagged": bool(result.flags), "reference": result.reference}
    if result.flags:
        manual = any(f.kind == "manual" for f in result.flags)
        state[GUIDANCE] = "worried" if manual else "auto"
        state.pop(GUIDANCE_TOASTED, None)  # announce this new flag
        state[FLAG_TARGET] = "the person you just saved"
    state[TOKEN] = str(uuid.uuid4())
    clear_form(qs)


def on_worried(event_id: str, qs: QuestionSet) -> None:
    """Raise the alarm now if nothing is being typed; otherwise the flag goes with this respondent's Save."""
    state = st.session_state
    state[ERROR] = None
    form = read_form(qs)
    last = state.get(LAST)
    user = session.current_user()
    db = session.db()
    try:
        if not form.untouched:
            state[WORRIED] = True
            state[GUIDANCE] = "pending"
            return
        if last and last["event_id"] == event_id and time.time() - last["at"] < LAST_RESPONDENT_SECONDS:
            capture.flag_respondent(db, user, last["respondent_id"])
            last["flagged"] = True
            state[FLAG_TARGET] = "the person you just saved"
        else:
            flags.raise_flag(db, user, kind="manual", event_id=event_id,
                             reason="Peer researcher is worried about a person (no answers recorded)")
            state[FLAG_TARGET] = "this event (no answers are linked to it)"
    except Exception:  # noqa: BLE001 - the person must still see what to do
        log.exception("raising a worried flag failed")
        state[ERROR] = ["The flag could not be stored just now. Tell the event lead or the safeguarding lead in "
                        "person straight away, then tap the button again."]
    state[GUIDANCE] = "worried"
    state.pop(GUIDANCE_TOASTED, None)  # announce this new flag


def on_flag_without_saving(event_id: str) -> None:
    state = st.session_state
    note = (state.get(WORRY_NOTE) or "").strip()
    try:
        flags.raise_flag(session.db(), session.current_user(), kind="manual", event_id=event_id,
                         reason="Peer researcher is worried about a person (answers not saved)"
                         + (f": {note}" if note else ""))
    except Exception:  # noqa: BLE001
        log.exception("raising a worried flag failed")
        state[ERROR] = ["The flag could not be stored just now. Tell the event lead or the safeguarding lead in person."]
        return
    state[WORRIED] = False
    state[FLAG_TARGET] = "this event (their answers were not saved)"
    state[GUIDANCE] = "worried"
    state.pop(GUIDANCE_TOASTED, None)  # announce this new flag


def on_guidance_ok() -> None:
    st.session_state[GUIDANCE] = None


def on_clear(qs: QuestionSet) -> None:
    clear_form(qs)
    st.session_state[ERROR] = None
    st.session_state[NOTICE] = "The form was cleared; nothing was saved."


def choose_event(db, user) -> None:
    st.title("Collect answers")
    open_events = events.list_events(db, status="open")
    if not open_events:
        st.info("There is no open event to collect answers for. Ask your engagement officer to open one.")
        if user.can("manage_events"):
            st.page_link("pages/events.py", label="Open or create an event", icon=":material/event:")
        st.stop()
    st.write("Choose the event you are at. You only do this once per shift.")
    titles = {e.id: e.title for e in open_events}
    choice = st.selectbox("Event", list(titles), format_func=titles.get, key="collect_event_choice")
    if st.button("Start collecting", type="primary", use_container_width=True, key="collect_start"):
        st.session_state[EVENT] = choice
        st.session_state[LAST] = None
        st.rerun()
    st.stop()


def show_guidance(db) -> None:
    reason = st.session_state.get(GUIDANCE)
    if not reason:
        return
    procedure = settings.get(db, "safeguarding_procedure")
    if reason != "pending" and st.session_state.get(GUIDANCE_TOASTED) != reason:
        # a toast shows in view wherever the page is scrolled; the full guidance is right under Save
        st.toast("Flagged for the safeguarding lead. Read the guidance under Save.", icon=":material/shield_person:")
        st.session_state[GUIDANCE_TOASTED] = reason
    with st.container(border=True, key="collect_guidance_box"):
        if reason == "auto":
            st.markdown("### :material/shield_person: Something in these answers may need a safeguarding check")
            st.write("It has been flagged for the safeguarding lead. You have done the right thing. What to do now:")
        elif reason == "pending":
            st.markdown("### :material/shield_person: Thank you for speaking up")
            st.write("This person will be flagged for the safeguarding lead when you tap Save. "
                     "If they will not take part, use the button below instead. What to do now:")
        else:
            st.markdown("### :material/shield_person: The safeguarding lead has been told")
            target = st.session_state.get(FLAG_TARGET)
            st.write((f"A flag was raised for {target}. " if target else "")
                     + "Thank you for speaking up. What to do now:")
        for line in procedure.splitlines():
            if line.strip():
                st.markdown("- " + session.md_escape(line.strip()))
        if reason == "pending":
            st.text_input("Anything the safeguarding lead should know (optional)", key=WORRY_NOTE,
                          persist_state="session")
        st.button("OK, I know what to do", key="collect_guidance_ok", on_click=on_guidance_ok)


def main() -> None:
    user = session.guard("collect")
    db = session.db()
    state = st.session_state
    if state.get(OWNER, user.username) != user.username:
        # A shared tablet: someone else signed in on this browser (e.g. after an idle sign-out). Their event,
        # half-typed answers and confirmation are not this person's to see.
        for key in [k for k in state if str(k).startswith("collect_")]:
            del state[key]
    state[OWNER] = user.username
    collect_draft.restore(db, user)  # after a reload or restart: this device's form as it was being typed
    for key, default in ((EVENT, None), (TOKEN, str(uuid.uuid4())), (LAST, None), (ERROR, None), (WORRIED, False),
                         (GUIDANCE, None), (NOTICE, None), (WORRY_NOTE, ""), (FLAG_TARGET, None)):
        state.setdefault(key, default)
    st.html(CSS)

    event = None
    if state[EVENT]:
        try:
            event = events.get_event(db, state[EVENT])
        except events.EventError:
            event = None
        if event is not None and not event.is_open:
            st.warning(f"The event “{session.md_escape(event.name)}” has been closed. Choose an open event to carry on.")
            event = None
    if event is None:
        choose_event(db, user)
        return
    qs = events.question_set(db, event.question_set_id)
    area = events.area_for(db, event)

    head, change = st.columns([3, 1], vertical_alignment="center")
    head.markdown(f"#### {session.md_escape(event.name)}" + (f"  \n{session.md_escape(event.venue)}" if event.venue else ""))
    if change.button("Change event", key="collect_change_event", use_container_width=True):
        state[EVENT] = None
        state[LAST] = None
        st.rerun()
    counts = capture.event_counts(db, user, event.id)
    c1, c2, c3 = st.columns(3)
    c1.metric("People today", counts.respondents_today)
    c2.metric("People at this event", counts.respondents)
    c3.metric("Answers at this event", counts.answers)
    if counts.postits:
        st.caption(f"The answers include {counts.postits:,} transcribed flipchart post-it(s); post-its are "
                   "anonymous answers, not people, so they are not in the people counts.")


    languages = qs.languages
    lang = state.get(LANGUAGE) or qs.default_language
    if len(languages) > 1:
        names = {x.code: x.native_name + (" (draft)" if x.status == "draft" else "") for x in languages}
        lang = st.segmented_control("Language", list(names), format_func=names.get, key=LANGUAGE,
                                    default=qs.default_language, required=True, persist_state="session") \
            or qs.default_language
        chosen = qs.language(lang)
        if chosen is not None and chosen.status == "draft":
            st.caption(f"Draft translation, not yet checked by a native speaker. {chosen.note}")
    if qs.language(lang) is not None and qs.language(lang).direction == "rtl":
        st.html(RTL_CSS)

    with st.container(key="collect_form"):
        st.pills("Who is this person?", [g.id for g in qs.groups],
                 format_func=lambda gid: qs.text(qs.group(gid).label, lang), key=GROUP, persist_state="session")
        if qs.profile:
            with st.expander("About them (optional)"):
                for p in qs.profile:
                    label = qs.text(p.label, lang)
                    if p.type == "single_choice":
                        options = {o.id: qs.text(o.label, lang) for o in p.options}
                        st.pills(label, list(options), format_func=options.get, key=profile_key(p.id),
                                 persist_state="session")
                    else:
                        st.text_input(label, key=profile_key(p.id), max_chars=200, persist_state="session")
        with st.container(border=True):
            st.markdown(session.md_escape(qs.text(qs.consent, lang)))
            st.checkbox("They agree to take part", key=CONSENT, persist_state="session")
        for q in qs.questions:
            label = f"**{session.md_escape(qs.text(q.label, lang, area=area))}**"
            helptext = qs.text(q.help, lang) if q.help else "One answer per line."
            if q.type == "free_text":
                st.text_area(label, key=answer_key(q.id), height=130, persist_state="session",
                             placeholder=helptext)
            else:
                options = {o.id: qs.text(o.label, lang) for o in q.options}
                st.pills(label, list(options), format_func=options.get, key=answer_key(q.id),
                         selection_mode="multi" if q.type == "multiple_choice" else "single",
                         persist_state="session")

    if state[ERROR]:
        with st.container(key="collect_error_box"):
            st.error("**Not saved yet.** Everything you typed is still here.  \n"
                     + "  \n".join(session.md_escape(p) for p in state[ERROR]), icon=":material/error:")
    if state[WORRIED] and state[GUIDANCE] is None:
        st.warning("This person will be flagged for the safeguarding lead when you tap Save.",
                   icon=":material/shield_person:")
    st.button("Save", type="primary", use_container_width=True, key="collect_save", icon=":material/save:",
              on_click=on_save, args=(event.id, qs))
    # The guidance and the confirmation sit right under Save: that is where the eyes and the finger are.
    show_guidance(db)
    last = state[LAST]
    if last and last["event_id"] == event.id:
        people = "person" if last["count_today"] == 1 else "people"
        with st.container(key="collect_confirmation"):
            st.success(f"**Saved. Thank you!** {last['answers']} answer(s) stored. That's **{last['count_today']} "
                       f"{people}** at this event today. The form is ready for the next person.",
                       icon=":material/check_circle:")
            if last.get("reference"):
                # write it on their thank-you card: the only way they can later ask for their answers to go
                st.markdown(f"Reference **{last['reference']}** — give this to them if they want to withdraw "
                            "(write it on their thank-you card).")
    if state[NOTICE]:
        st.info(state[NOTICE])
    left, right = st.columns(2)
    left.button("I'm worried about this person", key="collect_worry", use_container_width=True,
                icon=":material/shield_person:", on_click=on_worried, args=(event.id, qs))
    right.button("Clear the form", key="collect_clear", use_container_width=True, type="tertiary",
                 on_click=on_clear, args=(qs,))
    if state[WORRIED]:
        st.button("They won't take part: tell the safeguarding lead now, without saving answers",
                  key="collect_flag_now", use_container_width=True, on_click=on_flag_without_saving,
                  args=(event.id,))
    collect_draft.keep(db, user, event.id)  # the form as typed so far, kept server-side (data/drafts.py)


main()
