"""Code answers: one answer at a time from a filtered queue; one tap per code, suggested codes with their reason
(accept or dismiss in one tap), memos, bulk coding of a search with a preview, and undo. Counts always on top.
"""

from __future__ import annotations

import contextlib
import logging

import streamlit as st

import config
from data import codebook, coding, review
from data.agreement import list_samples
from data.coding import Filters
from ui import session
from ui.i18n import t

try:  # the suggestion engine (issue 3, B1); the page works without it
    from data import model_service
    from data.suggestions import build_suggester
except ImportError:  # pragma: no cover - only while the engine is not there
    build_suggester = None

log = logging.getLogger(__name__)

# Session keys owned by this page (all prefixed code_).
QUESTION, GROUP, EVENT, STATE, SEARCH, SAMPLE = ("code_question", "code_group", "code_event", "code_state",
                                                 "code_search", "code_sample")
CURRENT = "code_current"     # id of the answer on screen
GEN = "code_gen"             # bumped after actions that change codes behind the pills (re-initialises them)
FLASH = "code_flash"         # one line of feedback from the last action
PREVIEW = "code_bulk_preview"  # (code, filters) of the preview shown, so Apply applies exactly that
BULK_CODE = "code_bulk_code"
SUGGESTER = "code_suggester"  # {"version": key, "model": Suggester or None, "state": str, "error": str}
CODE_MEMO_TARGET = "code_memo_code"
CACHE = "code_cache"  # {name: (key, value)}: counts and filter choices kept between reruns while the data is the same
TOP_K = 3
SUGGESTION_ROW = "**{label}** · {score:.2f}  \n:gray[{reason}]"  # Markdown layout only: no words to translate

CSS = """<style>
[class*="st-key-code_pills_"] button { min-height: 2.8rem; font-size: 1rem; }
.st-key-code_answer p { font-size: 1.3rem; }
[class*="st-key-code_accept_"] button, [class*="st-key-code_dismiss_"] button { min-height: 2.8rem; }
</style>"""

user = session.guard("code")
lang = session.ui_language()
db = session.db()
# "" stands for "all" in the filter boxes (a None value would show as an empty box).
for key, default in ((QUESTION, ""), (GROUP, ""), (EVENT, ""), (STATE, "uncoded"), (SEARCH, ""),
                     (SAMPLE, ""), (CURRENT, None), (GEN, 0), (FLASH, None), (PREVIEW, None), (BULK_CODE, None),
                     (SUGGESTER, None), (CODE_MEMO_TARGET, None), (CACHE, None)):
    st.session_state.setdefault(key, default)

st.markdown(CSS, unsafe_allow_html=True)  # static CSS only, never user text
st.title(t("code.title", lang))

codes = codebook.list_codes(db)
if not codes:
    st.info(t("code.empty_codebook", lang))
    st.stop()
by_name = {c.name: c for c in codes}
for key in (BULK_CODE, CODE_MEMO_TARGET):  # a code chosen earlier may have been archived or merged since
    if st.session_state[key] not in by_name:
        st.session_state[key] = codes[0].name


def label_of(name: str) -> str:
    code = by_name.get(name)
    return code.label if code else name


def review_label(state: str) -> str:
    """A review state's name (received, approved, has issues) in this session's language."""
    return t(f"code.review.state.{state}", lang)


def minute(stamp: str) -> str:
    """A stored UTC timestamp to the minute, as people read it ("2026-11-20 10:04")."""
    return stamp[:16].replace("T", " ")


def filters() -> Filters:
    return Filters(question=st.session_state[QUESTION] or None, group=st.session_state[GROUP] or None,
                   event=st.session_state[EVENT] or None, state=st.session_state[STATE] or "all",
                   search=st.session_state[SEARCH] or "", sample_id=st.session_state[SAMPLE] or None)


@contextlib.contextmanager
def fresh_db():
    """Callbacks run at the start of the next script run (maybe in another thread): they use their own
    connection rather than the one this run opened."""
    conn = session.db()
    try:
        yield conn
    finally:
        conn.conn.close()


def cached(name: str, key, compute):
    """compute() once per key: counts over 550,000 answers cost a few hundred ms, and most taps change nothing
    they depend on (the key holds data.coding.data_version, which moves with every change to answers or codings)."""
    store = st.session_state[CACHE] = st.session_state[CACHE] or {}
    hit = store.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = compute()
    store[name] = (key, value)
    return value


def scope_of(f: Filters) -> Filters:
    """What coding.counts depends on (not the state or the search)."""
    return Filters(question=f.question, group=f.group, event=f.event, sample_id=f.sample_id)


def counted_after_own_coding(cdb, answer_id: str, version_before, had_codes: bool) -> None:
    """After this coder's own coding of one answer: move the cached counts by it rather than counting all the
    answers again, where nothing else changed since they were counted (their version is the one before)."""
    store = st.session_state.get(CACHE) or {}
    hit = store.get("counts")
    if hit is None or hit[0][1] != version_before:
        return
    (scope, _), counted = hit
    has_codes = bool(coding.get_answer(cdb, user, answer_id).codes)
    delta = int(has_codes) - int(had_codes)
    if delta and coding.matches(cdb, user, scope, answer_id):
        counted = coding.Counts(counted.total, counted.coded + delta)
    store["counts"] = ((scope, coding.data_version(cdb)), counted)


def bump(message: str | None = None) -> None:
    st.session_state[GEN] += 1
    if message:
        st.session_state[FLASH] = message


# --- suggestions ---------------------------------------------------------------------------------------------------

def suggester():
    """The project's shared suggestion model (data/model_service.py: one per database and server process, built
    in the background); None while none is ready. The model in use never changes under this run. The page waits
    (a few seconds, once) only when no usable model exists: on first open, or after an answer was flagged."""
    if build_suggester is None:
        return None
    previous = st.session_state[SUGGESTER] or {}
    try:
        service = model_service.service_for(config.db_path())
        waited = previous.get("state") in ("preparing", "error")  # waited last time: never again until ready
        got = service.view(user, codebook.version(db), coding.withheld_version(db, user),
                           wait=0.0 if waited else model_service.PAGE_WAIT_SECONDS)
        state = {"version": got.key, "model": got.model, "state": got.state, "error": got.error}
    except Exception as exc:  # noqa: BLE001 - suggestions are a help; coding goes on without them
        log.exception("suggestions unavailable")
        state = {"version": None, "model": None, "state": "error", "error": str(exc)}
    st.session_state[SUGGESTER] = state
    return state["model"]


def learn(cdb=None, answer_id: str = "") -> None:
    """Codings changed: tell the shared model's worker, which rebuilds in the background (never in this tap)."""
    if build_suggester is None:
        return
    try:
        model_service.service_for(config.db_path()).notify()
    except Exception:  # noqa: BLE001
        log.exception("could not tell the suggestion model about a coding")


# --- actions (callbacks run before the page is drawn again) ----------------------------------------------------------

def on_pills(answer_id: str, key: str, group: list[str]) -> None:
    chosen = set(st.session_state.get(key) or [])
    with fresh_db() as cdb:
        version = coding.data_version(cdb)
        all_had = set(coding.get_answer(cdb, user, answer_id).codes)
        had = all_had & set(group)
        try:
            for name in sorted(chosen - had):
                coding.apply_code(cdb, user, answer_id, name)
            for name in sorted(had - chosen):
                coding.remove_code(cdb, user, answer_id, name)
        except coding.CodingError as exc:
            bump(f"⚠️ {exc}")
            return
        if chosen or had:
            counted_after_own_coding(cdb, answer_id, version, bool(all_had))
            learn(cdb, answer_id)
    if chosen - had:
        st.session_state[FLASH] = t("code.flash.applied", lang, codes=", ".join(label_of(n) for n in sorted(chosen - had)))
    elif had - chosen:
        st.session_state[FLASH] = t("code.flash.removed", lang, codes=", ".join(label_of(n) for n in sorted(had - chosen)))


def on_accept(answer_id: str, name: str, score: float) -> None:
    with fresh_db() as cdb:
        version = coding.data_version(cdb)
        had = bool(coding.get_answer(cdb, user, answer_id).codes)
        try:
            coding.accept_suggestion(cdb, user, answer_id, name, score=score)
        except coding.CodingError as exc:
            bump(f"⚠️ {exc}")
            return
        counted_after_own_coding(cdb, answer_id, version, had)
        learn(cdb, answer_id)
    bump(t("code.flash.accepted", lang, label=label_of(name)))


def on_dismiss(answer_id: str, name: str) -> None:
    with fresh_db() as cdb:
        coding.dismiss_suggestion(cdb, user, answer_id, name)
    bump(t("code.flash.dismissed", lang, label=label_of(name)))


def on_undo() -> None:
    with fresh_db() as cdb:
        action = coding.undo(cdb, user)
    if action:
        learn()
    bump(t("code.flash.undone", lang, summary=action.summary) if action else t("code.flash.nothing_to_undo", lang))


def on_move(forward: bool) -> None:
    with fresh_db() as cdb:
        nxt = coding.neighbour(cdb, user, filters(), st.session_state[CURRENT], forward=forward)
    if nxt is None:
        st.session_state[FLASH] = t("code.flash.last" if forward else "code.flash.first", lang)
    else:
        st.session_state[CURRENT] = nxt


def on_filters_changed() -> None:
    st.session_state[CURRENT] = None
    st.session_state[PREVIEW] = None


def memo_editor(target_type: str, target_id: str | int, notes: list, key: str, label: str, button_key: str,
                button_label: str, *, with_time: bool) -> None:
    """Others' memos as plain text, then this coder's own memo to edit and save (one memo per author)."""
    for m in notes:
        if m.author != user.username:
            st.caption(session.md_escape(f"{m.author}, {minute(m.updated_at)}" if with_time else m.author))
            st.text(m.text)
    own = next((m.text for m in notes if m.author == user.username), "")
    st.text_area(label, value=own, key=key, height=90)
    if st.button(button_label, key=button_key):
        coding.save_memo(db, user, target_type, target_id, st.session_state[key])
        st.session_state[FLASH] = t("code.flash.memo_saved", lang)
        st.rerun()


def on_bulk_apply() -> None:
    preview = st.session_state[PREVIEW]
    if not preview:
        return
    try:
        with fresh_db() as cdb:
            done = coding.bulk_apply(cdb, user, preview["code"], preview["filters"])
    except coding.CodingError as exc:
        st.session_state[FLASH] = f"⚠️ {exc}"
        return
    st.session_state[PREVIEW] = None
    learn()
    bump(t("code.flash.bulk_done", lang, count=done, label=label_of(preview["code"])))


def on_review(answer_id: str, state: str, target_key: str, comment_key: str) -> None:
    """Review the answer on screen, or everything its respondent said (data/review.py)."""
    whole = st.session_state.get(target_key) == "respondent"
    try:
        with fresh_db() as cdb:
            respondent_id = review.answer_review(cdb, user, answer_id).respondent_id
            target = {"respondent_id": respondent_id} if whole else {"response_id": answer_id}
            review.set_review(cdb, user, state=state, comment=st.session_state.get(comment_key) or "", **target)
    except review.ReviewError as exc:
        st.session_state[FLASH] = f"⚠️ {exc}"
        return
    st.session_state.pop(comment_key, None)
    bump(t("code.flash.reviewed_person" if whole else "code.flash.reviewed_answer", lang,
           state=review_label(state).lower()))


# --- counts, undo, filters -------------------------------------------------------------------------------------------

current_filters = filters()
version = coding.data_version(db)
counts = cached("counts", (scope_of(current_filters), version), lambda: coding.counts(db, user, current_filters))
c1, c2, c3, c4 = st.columns([1, 1, 1, 1.6], vertical_alignment="bottom")
c1.metric(t("code.metric.coded", lang), f"{counts.coded:,}")
c2.metric(t("code.metric.remaining", lang), f"{counts.remaining:,}")
c3.metric(t("code.metric.answers", lang), f"{counts.total:,}")
last = coding.last_action(db, user)
c4.button(t("code.undo.button_last", lang, summary=session.md_escape(last.summary)) if last
          else t("code.undo.button", lang), key="code_undo", on_click=on_undo,
          disabled=last is None, width="stretch", help=t("code.undo.help", lang))
if counts.total:
    st.progress(counts.coded / counts.total)
if st.session_state[FLASH]:
    message = st.session_state[FLASH]
    (st.warning if message.startswith("⚠️") else st.success)(session.md_escape(message.removeprefix("⚠️ ")))
    st.session_state[FLASH] = None

choices = cached("choices", (version.responses, version.tombstones, version.events),
                 lambda: coding.filter_choices(db, user))
with st.expander(t("code.filter.title", lang), expanded=False):
    f1, f2 = st.columns(2)
    questions = dict(choices["questions"])
    for key, known in ((QUESTION, questions), (GROUP, dict(choices["groups"])), (EVENT, dict(choices["events"]))):
        if st.session_state[key] not in known:
            st.session_state[key] = ""
    f1.selectbox(t("code.filter.question", lang), ["", *questions],
                 format_func=lambda q: questions.get(q, t("code.filter.all_questions", lang)),
                 key=QUESTION, on_change=on_filters_changed)
    groups = dict(choices["groups"])
    f2.selectbox(t("code.filter.group", lang), ["", *groups],
                 format_func=lambda g: groups.get(g, t("code.filter.all_groups", lang)),
                 key=GROUP, on_change=on_filters_changed)
    events = dict(choices["events"])
    f1.selectbox(t("code.filter.event", lang), ["", *events],
                 format_func=lambda e: events.get(e, t("code.filter.all_events", lang)),
                 key=EVENT, on_change=on_filters_changed)
    samples = {s.id: t("code.filter.sample_option", lang, name=s.name, size=s.size) for s in list_samples(db, user)}
    if st.session_state[SAMPLE] not in samples:
        st.session_state[SAMPLE] = ""
    f2.selectbox(t("code.filter.sample", lang), ["", *samples],
                 format_func=lambda s: samples.get(s, t("code.filter.all_answers", lang)),
                 key=SAMPLE, on_change=on_filters_changed)
st.segmented_control(t("code.show.label", lang), ["uncoded", "coded", "all"], key=STATE, on_change=on_filters_changed,
                     format_func=lambda s: t(f"code.show.{s}", lang))
st.text_input(t("code.search.label", lang), key=SEARCH, on_change=on_filters_changed,
              placeholder=t("code.search.placeholder", lang))
current_filters = filters()

# --- bulk coding of a search -------------------------------------------------------------------------------------------

if len(current_filters.search.strip()) >= coding.MIN_BULK_SEARCH:
    with st.expander(t("code.bulk.title", lang, search=session.md_escape(current_filters.search.strip()))):
        names = [c.name for c in codes]
        st.selectbox(t("code.bulk.code", lang), names, format_func=label_of, key=BULK_CODE)
        if st.button(t("code.bulk.preview", lang), key="code_bulk_preview_button"):
            try:
                preview = coding.bulk_preview(db, user, st.session_state[BULK_CODE], current_filters)
            except coding.CodingError as exc:
                st.warning(session.md_escape(str(exc)))
            else:
                st.session_state[PREVIEW] = {"code": preview.code, "filters": current_filters,
                                             "matching": preview.matching, "to_code": preview.to_code,
                                             "sample": [a.id for a in preview.sample]}
        preview = st.session_state[PREVIEW]
        if preview and (preview["filters"] != current_filters or preview["code"] != st.session_state[BULK_CODE]):
            preview = None  # the search or the code changed since: preview again before applying
        if preview:
            if preview["matching"] == 0:
                st.write(t("code.bulk.none", lang))
            else:
                st.write(t("code.bulk.matching", lang, matching=f"{preview['matching']:,}",
                           to_code=f"{preview['to_code']:,}", label=session.md_escape(label_of(preview["code"]))))
            for sample_id in preview["sample"]:  # read afresh: an answer may have been flagged since the preview
                with contextlib.suppress(coding.CodingError):
                    st.text(f"• {coding.get_answer(db, user, sample_id).text}")
            st.button(t("code.bulk.apply", lang, count=f"{preview['to_code']:,}"), key="code_bulk_apply", type="primary",
                      on_click=on_bulk_apply, disabled=preview["to_code"] == 0)

# --- the current answer ---------------------------------------------------------------------------------------------

current_id = st.session_state[CURRENT]
answer = None
if current_id:
    try:
        answer = coding.get_answer(db, user, current_id)
    except coding.CodingError:
        answer = None
if answer is None:
    first = coding.neighbour(db, user, current_filters, None)
    if first is None:
        st.info(t("code.queue.none_match" if counts.total else "code.queue.no_answers", lang))
        st.stop()
    st.session_state[CURRENT] = first
    answer = coding.get_answer(db, user, first)

if current_filters.search.strip():
    matching = cached("matching", (current_filters, version),
                      lambda: coding.queue(db, user, current_filters, page_size=1).total)
else:  # the same number as the queue's count, from the counts above
    matching = {"uncoded": counts.remaining, "coded": counts.coded}.get(current_filters.state, counts.total)
place = coding.position(db, user, current_filters, answer.id)
nav1, nav2, nav3 = st.columns([1, 2, 1], vertical_alignment="center")
nav1.button(t("code.nav.previous", lang), key="code_prev", on_click=on_move, args=(False,), width="stretch")
nav2.caption(t("code.nav.position", lang, place=f"{place + 1:,}", matching=f"{matching:,}")
             if coding.matches(db, user, current_filters, answer.id)
             else t("code.nav.no_longer", lang, matching=f"{matching:,}"))
nav3.button(t("code.nav.next", lang), key="code_next", on_click=on_move, args=(True,), width="stretch", type="primary")

gen = st.session_state[GEN]
with st.container(border=True, key="code_card"):
    st.caption(session.md_escape(f"{answer.question} · {answer.group} · {answer.event}"))
    if answer.withheld and not coding.sees_withheld(user):
        st.warning(t("code.withheld.hidden", lang), icon=":material/shield_person:")
    elif answer.withheld:
        st.info(t("code.withheld.lead", lang), icon=":material/shield_person:")
    with st.container(key="code_answer"):
        st.markdown(session.md_escape(answer.text) if answer.text else t("code.answer.no_text", lang))

    model = suggester()
    if answer.withheld:
        st.caption(t("code.suggest.withheld", lang))
    elif model is not None:
        hidden = set(answer.codes) | coding.dismissed(db, user, answer.id)
        try:
            suggestions = [s for s in model.suggest(answer.text, top_k=TOP_K, exclude=hidden) if s.code in by_name]
        except Exception:  # noqa: BLE001
            log.exception("suggestion failed")
            suggestions = []
        if suggestions:
            st.markdown(t("code.suggest.heading", lang))
        for s in suggestions:
            row = st.columns([5, 1, 1], vertical_alignment="center")
            row[0].markdown(SUGGESTION_ROW.format(label=session.md_escape(label_of(s.code)), score=float(s.score),
                                                  reason=session.md_escape(s.reason)))
            row[1].button("✓", key=f"code_accept_{s.code}", on_click=on_accept, type="primary",
                          args=(answer.id, s.code, float(s.score)), width="stretch",
                          help=t("code.suggest.accept_help", lang, label=session.md_escape(label_of(s.code))))
            row[2].button("✕", key=f"code_dismiss_{s.code}", on_click=on_dismiss,
                          args=(answer.id, s.code), width="stretch", help=t("code.suggest.dismiss_help", lang))
    elif build_suggester is None:
        st.caption(t("code.suggest.not_installed", lang))
    if not answer.withheld and build_suggester is not None:
        model_state = (st.session_state[SUGGESTER] or {}).get("state")
        if model_state in ("preparing", "updating", "error"):  # none yet, these are from the last model, or none
            st.caption(session.md_escape(t(f"code.suggest.{model_state}", lang)))

    groups_of_codes: dict[str, list[str]] = {}
    for c in codes:
        theme = c.name if c.parent_id is None else (c.parent if c.parent in by_name else "")
        groups_of_codes.setdefault(theme, []).append(c.name)
    for theme, names in groups_of_codes.items():
        key = f"code_pills_{theme or 'other'}_{answer.id}_{gen}"
        # pill labels render Markdown: code labels are typed text, so escape them
        st.pills(session.md_escape(label_of(theme)) if theme else t("code.other_codes", lang), names,
                 selection_mode="multi",
                 format_func=lambda n: session.md_escape(label_of(n)),
                 default=[n for n in names if n in answer.codes], key=key, on_change=on_pills,
                 args=(answer.id, key, names))

    mine = coding.memos(db, user, "response", answer.id)
    with st.expander(t("code.memo.answer_title_count", lang, count=len(mine)) if mine
                     else t("code.memo.answer_title", lang)):
        memo_editor("response", answer.id, mine, f"code_memo_{answer.id}_{gen}", t("code.memo.yours", lang),
                    "code_memo_save", t("code.memo.save", lang), with_time=True)

    if user.can("review"):  # review before analysis: approved answers are what "approved only" findings count
        status = review.answer_review(db, user, answer.id)
        with st.expander(t("code.review.title", lang, state=review_label(status.state)), icon=":material/fact_check:"):
            for key, row in (("code.review.by_answer", status.answer), ("code.review.by_person", status.respondent)):
                if row is not None:
                    st.caption(session.md_escape(t(key, lang, state=review_label(row.state), by=row.by,
                                                   at=minute(row.at))))
                    if row.comment:
                        st.text(row.comment)
            target_key, comment_key = "code_review_target", f"code_review_comment_{answer.id}"
            st.radio(t("code.review.target", lang), ["answer", "respondent"], key=target_key, horizontal=True,
                     format_func={"answer": t("code.review.target_answer", lang),
                                  "respondent": t("code.review.target_person", lang)}.get)
            st.text_input(t("code.review.comment", lang), key=comment_key,
                          placeholder=t("code.review.comment_placeholder", lang))
            r1, r2, r3 = st.columns(3)
            r1.button(t("code.review.approve", lang), key="code_review_approve", on_click=on_review, width="stretch",
                      args=(answer.id, review.APPROVED, target_key, comment_key), icon=":material/check:")
            r2.button(t("code.review.issues", lang), key="code_review_issues", on_click=on_review, width="stretch",
                      args=(answer.id, review.HAS_ISSUES, target_key, comment_key), icon=":material/report:")
            r3.button(t("code.review.reset", lang), key="code_review_reset", on_click=on_review, width="stretch",
                      args=(answer.id, review.RECEIVED, target_key, comment_key),
                      disabled=status.answer is None and status.respondent is None)

# --- memo on a code ----------------------------------------------------------------------------------------------------

with st.expander(t("code.memo.code_title", lang)):
    target = st.selectbox(t("code.memo.code", lang), [c.name for c in codes], format_func=label_of,
                          key=CODE_MEMO_TARGET)
    code_obj = by_name[target]
    memo_editor("code", code_obj.id, coding.memos(db, user, "code", code_obj.id), f"code_codememo_{code_obj.id}_{gen}",
                t("code.memo.yours_code", lang), "code_codememo_save", t("code.memo.save_code", lang), with_time=False)
