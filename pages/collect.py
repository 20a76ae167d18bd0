"""Collect answers: a peer researcher records one respondent at a time on a tablet at a community event.

Save stores the respondent in one go, confirms with today's count and clears the form in the same tap. Save, "I'm
worried" and Clear sit in an action bar fixed to the bottom of the screen; the one status area and any safeguarding
guidance sit at the top, where the view returns after Save. Every interface word comes from ui/i18n (t()).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass

import streamlit as st

from data import capture, events, flags, settings
from data.users import PermissionDenied
from surveys import QuestionSet
from ui import collect_draft, session, tablet
from ui.i18n import t

log = logging.getLogger(__name__)

# Session keys owned by this page (all prefixed collect_).
EVENT = "collect_event_id"
LANGUAGE = "collect_language"
TOKEN = "collect_token"  # one filled-in form; renewed only after a successful save
LAST = "collect_last"  # the confirmation of the last save (dict), kept until the next one
ERROR = "collect_error"  # list of plain-words problems from the last failed save
ERROR_FIELD = "collect_error_field"  # the widget key of the field the first problem is about, or None
SCROLL = "collect_scroll"  # (counter, widget key or None): scroll there once per new counter (None: the top)
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

# Not a fragment (issue 14 item 2 looked at): in Streamlit 1.67 a keyed rerun of the form (st.rerun("key") from
# Save) leaves an emptied text box showing its old words in the browser, and with the form and the bar as one
# fragment a tap outside it (Sign out, Menu, the language) made straight after typing is lost, because the box's
# own fragment rerun swallows it (tests/test_browser_focused_box.py). So every tap reruns the page; what a rerun
# costs was made small instead: counters from a few rows, the draft compared in memory, screening loaded early.

#: A second Save with exactly the same form within this many seconds is the same respondent tapped twice: the
#: browser sends the old form once more if it has not yet received the cleared one (seen in Chromium on a tablet).
#: Short, so that two real people giving identical answers one after the other are both stored; a notice says
#: when a tap was ignored, so a genuine identical respondent can be entered again.
DOUBLE_TAP_SECONDS = 5
#: A tap on the cleared form this soon after a save is the rest of a double tap, however long the first save's rerun
#: took on a busy laptop: the confirmation stays on screen instead of "Nothing to save yet".
EMPTY_AFTER_SAVE_SECONDS = 60
#: "I'm worried" on an empty form flags the respondent saved last if that was this recently; otherwise the person
#: in front of the peer researcher is someone new, and the flag goes on the event.
LAST_RESPONDENT_SECONDS = 10 * 60

CSS = """<style>
.st-key-collect_group button, .st-key-collect_language button, .st-key-collect_profile_age_band button {
  min-height: 3rem; padding: 0.4rem 1.1rem; font-size: 1.05rem; }
.st-key-collect_group button p, .st-key-collect_profile_age_band button p { font-size: 1.05rem; }
.st-key-collect_save button { min-height: 4rem; }
.st-key-collect_save button p { font-size: 1.5rem; font-weight: 700; }
.st-key-collect_worry button { min-height: 4rem; border: 2px solid #b3261e; color: #b3261e; }
.st-key-collect_worry button p { font-size: 1.1rem; font-weight: 700; color: #b3261e; }
.st-key-collect_clear button { min-height: 4rem; }
.st-key-collect_guidance_box [data-testid="stAlert"] p { font-size: 1.1rem; }
.st-key-collect_consent label { padding: 0.5rem 0; align-items: center; }
.st-key-collect_consent label > div:nth-child(2) { transform: scale(1.6); margin: 0 0.9rem 0 0.4rem; }
.st-key-collect_consent p { font-size: 1.15rem; font-weight: 600; }
.st-key-collect_form [data-testid="stWidgetLabel"] p { font-size: 1.05rem; }
.st-key-collect_form p { unicode-bidi: plaintext; }
.st-key-collect_confirmation p { font-size: 1.2rem; }
.st-key-collect_form [data-testid="InputInstructions"] { display: none; }
.st-key-collect_form textarea, .st-key-collect_form input { unicode-bidi: plaintext; font-size: 1.1rem; }
</style>"""
#: Fewer taps per respondent (issue 9), installed once per browser page; a constant with no user text in it.
#: Ticking consent moves into the first answer box (the consent itself stays a tap of its own, never pre-ticked);
#: choosing a group does the same once consent is given, and otherwise brings the consent into view. In an answer
#: box, Enter on an empty line (a second Enter after an answer, or Enter in an empty box) moves to the next
#: question instead of adding a blank line; in the last box it leaves the box, which sends it.
FLOW_SCRIPT = """<script>(function(){
  if (window.__thriveCollectFlow) { return; }
  window.__thriveCollectFlow = true;
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('.st-key-collect_form textarea'));
  }
  function intoFirstBox() {
    var all = boxes();
    if (all.length && all.every(function(b) { return !b.value.trim(); })) {
      all[0].focus({preventScroll: true}); all[0].scrollIntoView({block: 'center'});
      return true;
    }
    return false;
  }
  document.addEventListener('click', function(e) {
    var box = e.target && e.target.closest && e.target.closest('.st-key-collect_consent');
    if (!box) { return; }
    // after the tap's own focus on the tick box has landed (still within the tap's user activation)
    setTimeout(function() {
      var tick = box.querySelector('input[type=checkbox]');
      if (tick && tick.checked) { intoFirstBox(); }
    }, 80);
  }, true);
  document.addEventListener('click', function(e) {
    var pill = e.target && e.target.closest && e.target.closest('.st-key-collect_group button');
    if (!pill) { return; }
    var consent = document.querySelector('.st-key-collect_consent input[type=checkbox]');
    if (consent && consent.checked) { setTimeout(intoFirstBox, 60); }
    else if (consent) { consent.closest('.st-key-collect_consent').scrollIntoView({block: 'center'}); }
  }, true);
  document.addEventListener('keydown', function(e) {
    var box = e.target;
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || !box || box.tagName !== 'TEXTAREA'
        || !box.closest('.st-key-collect_form')) { return; }
    var before = box.value.slice(0, box.selectionStart), after = box.value.slice(box.selectionEnd);
    if (after.trim() || !(before === '' || before.slice(-1) === '\\n')) { return; }
    e.preventDefault();
    var all = boxes(), next = all[all.indexOf(box) + 1];
    if (next) { next.focus({preventScroll: true}); next.scrollIntoView({block: 'center'}); } else { box.blur(); }
  }, true);
})();</script>"""

RTL_CSS = ("<style>.st-key-collect_form, .st-key-collect_status, .st-key-collect_guidance_box, .st-key-collect_actions"
           " { direction: rtl; text-align: right; }</style>")


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
    state[LANGUAGE] = qs.default_language  # the next person starts in the event's language
    collect_draft.forget()  # saved or cleared: its server-side draft goes too


def _lang(qs: QuestionSet) -> str:
    return st.session_state.get(LANGUAGE) or qs.default_language


def _scroll_to(field: str | None) -> None:
    """Ask for the view to move (to the widget keyed `field`, or to the top) on the next run."""
    count = (st.session_state.get(SCROLL) or (0, None))[0]
    st.session_state[SCROLL] = (count + 1, field)


def _problem(messages: list[str], field: str | None) -> None:
    st.session_state[ERROR] = messages
    st.session_state[ERROR_FIELD] = field
    _scroll_to(field)


def form_problems(form: Form, qs: QuestionSet, lang: str, worried: bool) -> tuple[list[str], str | None]:
    """The problems with a form that can be named on the page, in `lang`, and the key of the first field."""
    if form.untouched and not worried:
        return [t("collect.empty", lang)], GROUP
    problems: list[tuple[str, str]] = []
    if not form.group:
        problems.append((t("collect.need_group", lang), GROUP))
    if not form.consent:
        problems.append((t("collect.need_consent", lang), CONSENT))
    if not form.answers and not worried and qs.questions:
        problems.append((t("collect.need_answer", lang), answer_key(qs.questions[0].id)))
    return [m for m, _ in problems], (problems[0][1] if problems else None)


def on_save(event_id: str, qs: QuestionSet) -> None:
    state = st.session_state
    state[ERROR] = None
    state[ERROR_FIELD] = None
    state[NOTICE] = None
    lang = _lang(qs)
    form = read_form(qs)
    last = state.get(LAST)
    if last and last["event_id"] == event_id and not state.get(WORRIED):
        if form.untouched and time.time() - last["at"] < EMPTY_AFTER_SAVE_SECONDS:
            # A second tap after the form was cleared: nothing to do, keep the confirmation on screen.
            return
        if form.fingerprint(event_id) == last["fingerprint"] and time.time() - last["at"] < DOUBLE_TAP_SECONDS:
            clear_form(qs)
            state[NOTICE] = t("collect.double_tap", lang)
            _scroll_to(None)
            return
    problems, field = form_problems(form, qs, lang, bool(state.get(WORRIED)))
    if problems:
        _problem(problems, field)
        return
    user = session.current_user()
    try:
        result = capture.save_respondent(
            session.db(), user, event_id=event_id, group_id=form.group or "", consent=form.consent,
            answers=form.answers, profile=form.profile, language=lang,
            submission_token=state[TOKEN], worried=bool(state.get(WORRIED)), worried_note=state.get(WORRY_NOTE) or "",
        )
    except capture.CaptureError as exc:  # e.g. the event was closed meanwhile: said in the form's language
        _problem([session.problem_text(p, lang) for p in exc.problems], None)
        return
    except PermissionDenied as exc:
        _problem([str(exc)], None)
        return
    except Exception:  # noqa: BLE001 - any failure (e.g. a locked database) must keep the typed answers
        log.exception("saving a respondent failed")
        _problem([t("collect.busy", lang)], None)
        return
    state[LAST] = {"event_id": event_id, "respondent_id": result.respondent_id, "answers": result.answers_saved,
                   "count_today": result.count_today, "fingerprint": form.fingerprint(event_id), "at": time.time(),
                   "flagged": bool(result.flags), "reference": result.reference, "lang": lang}
    if result.flags:
        manual = any(f.kind == "manual" for f in result.flags)
        state[GUIDANCE] = "worried" if manual else "auto"
        state.pop(GUIDANCE_TOASTED, None)  # announce this new flag
        state[FLAG_TARGET] = "target_last"
    state[TOKEN] = str(uuid.uuid4())
    clear_form(qs)
    _scroll_to(None)  # back to the top: the next person's group and consent
    return None


def _event_open(event_id: str) -> bool:
    db = session.db()
    try:
        return events.get_event(db, event_id).is_open
    except events.EventError:
        return False
    finally:
        db.conn.close()


def on_worried(event_id: str, qs: QuestionSet) -> None:
    """Raise the alarm now if nothing is being typed; otherwise the flag goes with this respondent's Save."""
    state = st.session_state
    state[ERROR] = None
    state[ERROR_FIELD] = None
    form = read_form(qs)
    last = state.get(LAST)
    user = session.current_user()
    db = session.db()
    _scroll_to(None)  # the guidance is at the top
    try:
        if not form.untouched:
            state[WORRIED] = True
            state[GUIDANCE] = "pending"
            return
        if last and last["event_id"] == event_id and time.time() - last["at"] < LAST_RESPONDENT_SECONDS:
            capture.flag_respondent(db, user, last["respondent_id"])
            last["flagged"] = True
            state[FLAG_TARGET] = "target_last"
        else:
            flags.raise_flag(db, user, kind="manual", event_id=event_id,
                             reason="Peer researcher is worried about a person (no answers recorded)")
            state[FLAG_TARGET] = "target_event"
    except Exception:  # noqa: BLE001 - the person must still see what to do
        log.exception("raising a worried flag failed")
        state[ERROR] = [t("collect.flag_failed", _lang(qs))]
    state[GUIDANCE] = "worried"
    state.pop(GUIDANCE_TOASTED, None)  # announce this new flag


def on_flag_without_saving(event_id: str, qs: QuestionSet) -> None:
    state = st.session_state
    note = (state.get(WORRY_NOTE) or "").strip()
    try:
        flags.raise_flag(session.db(), session.current_user(), kind="manual", event_id=event_id,
                         reason="Peer researcher is worried about a person (answers not saved)"
                         + (f": {note}" if note else ""))
    except Exception:  # noqa: BLE001
        log.exception("raising a worried flag failed")
        state[ERROR] = [t("collect.flag_failed_unsaved", _lang(qs))]
        return
    state[WORRIED] = False
    state[FLAG_TARGET] = "target_unsaved"
    state[GUIDANCE] = "worried"
    state.pop(GUIDANCE_TOASTED, None)  # announce this new flag
    _scroll_to(None)


def on_guidance_ok() -> None:
    st.session_state[GUIDANCE] = None


def on_clear(qs: QuestionSet) -> None:
    lang = _lang(qs)
    clear_form(qs)
    st.session_state[ERROR] = None
    st.session_state[ERROR_FIELD] = None
    st.session_state[NOTICE] = t("collect.cleared", lang)
    _scroll_to(None)


def choose_event(db, user) -> None:
    st.title(session.md_escape(t("collect.title")))
    open_events = events.list_events(db, status="open")
    if not open_events:
        st.info(session.md_escape(t("collect.no_event")))
        if user.can("manage_events"):
            st.page_link("pages/events.py", label=session.md_escape(t("collect.open_or_create")), icon=":material/event:")
        st.stop()
    st.write(session.md_escape(t("collect.choose_event")))
    titles = {e.id: e.title for e in open_events}
    choice = st.selectbox(session.md_escape(t("collect.event")), list(titles), format_func=titles.get, key="collect_event_choice")
    if st.button(session.md_escape(t("collect.start")), type="primary", width="stretch", key="collect_start"):
        st.session_state[EVENT] = choice
        st.session_state[LAST] = None
        st.rerun()
    st.stop()


def show_guidance(db, event_id: str, qs: QuestionSet, lang: str) -> None:
    """The safeguarding guidance, at the top of the form, until the researcher taps "I've read this"."""
    reason = st.session_state.get(GUIDANCE)
    if not reason:
        return
    procedure = settings.get(db, "safeguarding_procedure")
    if reason != "pending" and st.session_state.get(GUIDANCE_TOASTED) != reason:
        st.toast(session.md_escape(t("guidance.toast", lang)), icon=":material/shield_person:")
        st.session_state[GUIDANCE_TOASTED] = reason
    if reason == "auto":
        title, body = t("guidance.auto_title", lang), t("guidance.auto_body", lang)
    elif reason == "pending":
        title, body = t("guidance.pending_title", lang), t("guidance.pending_body", lang)
    else:
        target = st.session_state.get(FLAG_TARGET) or "target_event"
        title = t("guidance.worried_title", lang)
        body = t("guidance.worried_body", lang, target=t(f"guidance.{target}", lang))
    box = tablet.safeguarding_alert(title, body, procedure,
                                    key="collect_guidance_box", call_label=t("guidance.call", lang))
    with box:
        if reason == "pending":
            st.text_input(t("guidance.extra", lang), key=WORRY_NOTE, persist_state="session")  # its accessible name
            st.button(session.md_escape(t("collect.flag_now", lang)), key="collect_flag_now", width="stretch",
                      on_click=on_flag_without_saving, args=(event_id, qs))
        else:
            st.button(session.md_escape(t("guidance.read", lang)), key="collect_guidance_ok", on_click=on_guidance_ok, type="primary",
                      icon=":material/check:", width="stretch")


def show_status(event_id: str, lang: str) -> None:
    """The one status area: the newest message only (a problem, a notice, or the last save's confirmation)."""
    state = st.session_state
    last = state[LAST]
    if state[ERROR]:
        tablet.status("error", f"**{session.md_escape(t('collect.not_saved', lang))}**  \n"
                      + "  \n".join(session.md_escape(p) for p in state[ERROR]), key="collect_status")
    elif state[NOTICE]:
        tablet.status("info", session.md_escape(state[NOTICE]), key="collect_status")
    elif state[WORRIED] and state[GUIDANCE] is None:
        tablet.status("warning", session.md_escape(t("collect.will_flag", lang)), key="collect_status")
    elif last and last["event_id"] == event_id:
        key = "collect.saved_one" if last["count_today"] == 1 else "collect.saved_many"
        text = session.md_escape(t(key, lang, answers=last["answers"], count=last["count_today"]))
        if last.get("reference"):
            # write it on their thank-you card: the only way they can later ask for their answers to go
            before, _, after = t("collect.reference", lang).partition("{reference}")
            text += (f"  \n{session.md_escape(before)}**{session.md_escape(last['reference'])}**"
                     f"{session.md_escape(after)}")
        with st.container(key="collect_confirmation"):
            tablet.status("success", text, key="collect_status")


def counters(db, event_id: str, lang: str) -> None:
    counts = capture.event_counts(db, session.current_user(), event_id)
    c1, c2, c3 = st.columns(3)
    c1.metric(session.md_escape(t("collect.people_today", lang)), counts.respondents_today)
    c2.metric(session.md_escape(t("collect.people_event", lang)), counts.respondents)
    c3.metric(session.md_escape(t("collect.answers_event", lang)), counts.answers)
    if counts.postits:
        st.caption(session.md_escape(t("collect.postits", lang, count=f"{counts.postits:,}")))


def top(db, event_id: str, qs: QuestionSet, lang: str) -> None:
    """Safeguarding guidance first, then the one status area: both at the top, where the view returns."""
    state = st.session_state
    show_guidance(db, event_id, qs, lang)
    show_status(event_id, lang)
    if state[ERROR_FIELD]:
        tablet.highlight(state[ERROR_FIELD])
    if state[SCROLL]:
        count, field = state[SCROLL]
        tablet.scroll(count, to_key=field, name="collect_scroll")


def form(qs: QuestionSet, lang: str, area: str) -> None:
    with st.container(key="collect_form"):
        st.pills(session.md_escape(t("collect.group", lang)), [g.id for g in qs.groups],
                 format_func=lambda gid: qs.text(qs.group(gid).label, lang), key=GROUP, persist_state="session")
        if qs.profile:
            with st.expander(session.md_escape(t("collect.about", lang))):
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
            st.checkbox(session.md_escape(t("collect.consent_tick", lang)), key=CONSENT, persist_state="session")
        for q in qs.questions:
            label = f"**{session.md_escape(qs.text(q.label, lang, area=area))}**"
            helptext = qs.text(q.help, lang) if q.help else t("collect.one_per_line", lang)
            helptext = f"{helptext} {t('collect.enter_next', lang)}"
            if q.type == "free_text":
                st.text_area(label, key=answer_key(q.id), height=130, persist_state="session",
                             placeholder=helptext)
            else:
                options = {o.id: qs.text(o.label, lang) for o in q.options}
                st.pills(label, list(options), format_func=options.get, key=answer_key(q.id),
                         selection_mode="multi" if q.type == "multiple_choice" else "single",
                         persist_state="session")


def actions(event_id: str, qs: QuestionSet, lang: str) -> None:
    """The action bar: fixed to the bottom of the screen, whatever the scroll position."""
    with st.container(key="collect_actions"):
        save, worry, clear = st.columns([2, 1.4, 1], vertical_alignment="center")
        save.button(session.md_escape(t("collect.save", lang)), type="primary", width="stretch", key="collect_save",
                    icon=":material/save:", on_click=on_save, args=(event_id, qs))
        worry.button(session.md_escape(t("collect.worried", lang)), key="collect_worry", width="stretch",
                     icon=":material/shield_person:", on_click=on_worried, args=(event_id, qs))
        clear.button(session.md_escape(t("collect.clear", lang)), key="collect_clear", width="stretch",
                     on_click=on_clear, args=(qs,))


def capture_area(event_id: str, qs: QuestionSet, lang: str, area: str, counts_slot, top_slot) -> None:
    """The counters and the top (drawn into their slots higher up the page), the form and the action bar."""
    db = session.db()
    try:
        with counts_slot.container():
            counters(db, event_id, lang)
        with top_slot.container():
            top(db, event_id, qs, lang)
        form(qs, lang, area)
        actions(event_id, qs, lang)
        collect_draft.keep(db, session.current_user(), event_id)  # the form as typed so far (data/drafts.py)
    finally:
        db.conn.close()


@st.cache_resource(show_spinner=False)
def _screening_warmed() -> threading.Thread:
    """Once per server process, in the background: load and compile the redaction and disclosure rules (about a
    second), so that the first Save after a server start does not wait for them (data/capture imports them late)."""

    def warm() -> None:
        try:
            from analysis import privacy, safeguarding

            privacy.redact("warm up 07700 900123")
            safeguarding.check("warm up", "thrive_helps")
        except Exception:  # noqa: BLE001 - only a head start: the first Save loads them itself if this failed
            log.exception("warming the screening rules failed")

    thread = threading.Thread(target=warm, name="thrive-warm-screening", daemon=True)
    thread.start()
    return thread


def main() -> None:
    user = session.guard("collect")
    _screening_warmed()
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
                         (GUIDANCE, None), (NOTICE, None), (WORRY_NOTE, ""), (FLAG_TARGET, None),
                         (ERROR_FIELD, None), (SCROLL, None)):
        state.setdefault(key, default)
    st.html(CSS)

    event = None
    if state[EVENT]:
        try:
            event = events.get_event(db, state[EVENT])
        except events.EventError:
            event = None
        if event is not None and not event.is_open:
            st.warning(session.md_escape(t("collect.event_closed", name=event.name)))
            event = None
    # the sign-in session remembers the event, so a reload or a restart after Save reopens its empty form
    collect_draft.remember_event(db, user, event.id if event is not None else None)
    if event is None:
        choose_event(db, user)
        return
    qs = events.question_set(db, event.question_set_id)
    languages = qs.languages
    if state.get(LANGUAGE) not in {x.code for x in languages}:
        state[LANGUAGE] = qs.default_language
    lang = _lang(qs)
    area = events.area_for(db, event, lang)  # the area as named in this language, if the event names it
    db.conn.close()  # capture_area opens its own

    head, change = st.columns([3, 1], vertical_alignment="center")
    head.markdown(f"#### {session.md_escape(event.name)}" + (f"  \n{session.md_escape(event.venue)}" if event.venue else ""))
    if change.button(session.md_escape(t("collect.change_event", lang)), key="collect_change_event", width="stretch"):
        state[EVENT] = None
        state[LAST] = None
        st.rerun()
    counts_slot = st.container(key="collect_counts")  # filled by capture_area
    top_slot = st.container(key="collect_top")

    if len(languages) > 1:
        names = {x.code: x.native_name + (" " + t("collect.draft", lang) if x.status == "draft" else "")
                 for x in languages}
        lang = st.segmented_control(session.md_escape(t("collect.language", lang)), list(names), format_func=names.get, key=LANGUAGE,
                                    required=True, persist_state="session") or qs.default_language
        chosen = qs.language(lang)
        if chosen is not None and chosen.status == "draft":
            st.caption(session.md_escape(t("collect.draft_note", lang)))
    if qs.language(lang) is not None and qs.language(lang).direction == "rtl":
        st.html(RTL_CSS)

    tablet.action_bar_css("collect_actions")
    # the focused box is sent before the page goes away, and this tab keeps every box until Save or Clear
    device = session.session_id()
    tablet.commit_on_leave(tablet.box_scope(device, user.username, event.id) if device else None)
    with st.container(key="collect_flow_script"):
        st.html("<style>.st-key-collect_flow_script { display: none; }</style>")
        st.html(FLOW_SCRIPT, unsafe_allow_javascript=True)
    capture_area(event.id, qs, lang, area, counts_slot, top_slot)


main()
