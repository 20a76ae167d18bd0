"""Tablet helpers for the capture pages: static CSS (touch targets, text size, the action bar that stays on screen),
tiny static scripts (scroll to the top or to a field, the PIN keypad), and the safeguarding alert with tap-to-call.

Every CSS and script body here is a constant or built from our own widget keys and a counter; user text never goes
into HTML. Procedure text is rendered as escaped markdown; the only links are tel: links built from numbers that
`phonenumbers` parsed and validated.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass

import phonenumbers
import streamlit as st
from phonenumbers import shortnumberinfo

from ui import session
from ui.i18n import t

#: Base text size and touch targets for every page (a tablet in a bright hall).
BASE_CSS = """<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 16px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stWidgetLabel"] p, label p { font-size: max(1rem, 16px); }
.stButton button, .stPopover button, [data-testid="stFormSubmitButton"] button, [data-testid="stButtonGroup"] button,
[data-testid="stLinkButton"] a, [data-testid="stPageLink"] a, [data-baseweb="select"] > div, input {
  min-height: 48px !important; }
[data-testid="stCaptionContainer"] { font-size: 16px; }
.st-key-topbar { border-bottom: 1px solid rgba(49, 51, 63, 0.2); padding-bottom: 0.4rem; margin-bottom: 0.4rem; }
.st-key-topbar [data-testid="stCaptionContainer"] { margin: 0; }
/* the chosen option of pills and segmented controls is unmistakable: filled, with a tick */
[data-testid="stButtonGroup"] button[data-selected="true"] {
  background: #1f5fa8 !important; color: #fff !important; border: 2px solid #1f5fa8 !important; font-weight: 700; }
[data-testid="stButtonGroup"] button[data-selected="true"] p { color: #fff !important; font-weight: 700; }
[data-testid="stButtonGroup"] button[data-selected="true"]::before { content: "\\2713"; font-weight: 700;
  margin-right: 0.4rem; }
</style>"""

#: The action bar (a keyed container) is fixed to the bottom of the screen; the page leaves room for it.
ACTION_BAR_CSS = """<style>
.st-key-{key} {{ position: fixed; left: 0; right: 0; bottom: 0; z-index: 999990; background: #ffffff;
  border-top: 2px solid #1f5fa8; box-shadow: 0 -4px 12px rgba(0,0,0,0.12);
  padding: 0.5rem max(0.75rem, calc((100vw - 736px) / 2)) calc(0.5rem + env(safe-area-inset-bottom)); }}
.st-key-{key} button {{ min-height: 56px; }}
[data-testid="stMainBlockContainer"] {{ padding-bottom: 12rem; }}
</style>"""

HIGHLIGHT_CSS = """<style>
.st-key-{key} {{ outline: 3px solid #b3261e; outline-offset: 6px; border-radius: 0.5rem; }}
</style>"""

_SCROLL_SCRIPT = """<script>(function(){{
  var target = {target};
  function go() {{
    var el = target ? document.querySelector(target) : null;
    if (el) {{ el.scrollIntoView({{block: 'center'}}); return; }}
    window.scrollTo(0, 0);
    document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"], section.main')
      .forEach(function(m) {{ m.scrollTop = 0; }});
  }}
  go(); setTimeout(go, 150); setTimeout(go, 600);
  if (document.currentScript) {{ document.currentScript.remove(); }}
}})();</script><!-- {nonce} -->"""

#: Sets inputmode="numeric" on the text input inside the widget container `key` (the sign-in secret field:
#: Streamlit's text_input has no such parameter). Found by its key, so it works whatever language the label is in.
_INPUTMODE_SCRIPT = """<script>(function(){{
  var key = {key}, mode = {mode}, tries = 0;
  function apply() {{
    var el = document.querySelector('.st-key-' + key + ' input');
    if (el) {{ if (mode) {{ el.setAttribute('inputmode', mode); }} else {{ el.removeAttribute('inputmode'); }} }}
    if (tries++ < 40) {{ setTimeout(apply, 250); }}
  }}
  apply();
}})();</script>"""

#: Streamlit sends a text box's value to the server only when the box loses focus. Two safety nets, installed once
#: per browser page (a constant script; the only value put into it is a hex scope, see `box_scope`):
#: - before the page goes away (tab hidden or discarded, reload, close) the focused text box is blurred, so that its
#:   words are sent and kept in the server-side draft. That message travels on a WebSocket the unloading page is
#:   closing, and the new page may read the draft before the old session has stored it: a race, lost about 1 in 4.
#: - so every keystroke of a box in the form is also kept in this tab's sessionStorage (per scope: sign-in session,
#:   user and event; never localStorage, so nothing outlives the tab). After a reload each box is looked at once: if
#:   its kept words differ from what the server put back, they go into the box and are committed through the widget
#:   itself (native value setter, input event, blur), as if typed. Tapping Save or Clear (the `forget` buttons),
#:   Enter in a one-line box of a form that Enter submits (`enter`), signing out, or another scope of the same form
#:   forgets them; each form (Collect, Transcribe) keeps its own entries. When the page says so (`keep`, a fresh
#:   nonce: the submit failed and the words are still in the box) the form's boxes are kept again as they are.
_COMMIT_ON_LEAVE_SCRIPT = """<script>(function(){
  var PREFIX = 'thrive.box.';
  window.__thriveBoxScope = '%(scope)s';
  window.__thriveBoxForm = '%(form)s';
  window.__thriveBoxForget = %(forget)s;
  window.__thriveBoxEnter = %(enter)s;
  function store() {  // no sign-in session (scope 'none'): nothing is kept
    if (window.__thriveBoxScope === 'none') { return null; }
    try { return window.sessionStorage; } catch (e) { return null; }
  }
  function sweep() {  // this form's entries of any other scope (another person, event or sign-in) go
    var s = null, form = PREFIX + window.__thriveBoxForm + '.', gone = [];
    try { s = window.sessionStorage; } catch (e) { return; }
    for (var i = 0; i < s.length; i++) {
      var k = s.key(i);
      if (k && k.indexOf(form) === 0 && k.indexOf(form + window.__thriveBoxScope + '.') !== 0) { gone.push(k); }
    }
    gone.forEach(function(k) { s.removeItem(k); });
  }
  sweep();
  if (window.__thriveCommitOnLeave) {
    if (window.__thriveBoxKeepAll) { window.__thriveBoxKeepAll('%(keep)s'); }
    if (window.__thriveBoxScan) { window.__thriveBoxScan(); }
    return;
  }
  window.__thriveCommitOnLeave = true;
  var checked = {};
  function isBox(el) {
    return !!el && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && /^(text|search|email|tel|url|number|)$/
        .test((el.getAttribute('type') || '').toLowerCase())));
  }
  function boxKey(el) {  // the widget key of a text box inside the form, or null
    if (!isBox(el) || !el.closest('.st-key-' + window.__thriveBoxForm)) { return null; }
    var holder = el.closest('[class*="st-key-"]');
    var m = holder && /(?:^|\\s)st-key-([A-Za-z0-9_]+)/.exec(holder.className);
    return m && m[1] !== window.__thriveBoxForm ? m[1] : null;
  }
  function slot(key) { return PREFIX + window.__thriveBoxForm + '.' + window.__thriveBoxScope + '.' + key; }
  function forget() {
    var s = store(), scope = PREFIX + window.__thriveBoxForm + '.' + window.__thriveBoxScope + '.', gone = [];
    if (!s) { return; }
    for (var i = 0; i < s.length; i++) { var k = s.key(i); if (k && k.indexOf(scope) === 0) { gone.push(k); } }
    gone.forEach(function(k) { s.removeItem(k); });
  }
  function keep(el) {
    var key = boxKey(el), s = store();
    if (key && s) { try { s.setItem(slot(key), JSON.stringify({v: el.value})); } catch (err) {} }
  }
  document.addEventListener('input', function(e) { keep(e.target); }, true);
  var keptFor = null;
  window.__thriveBoxKeepAll = function(nonce) {  // once per nonce: the form's boxes as they are now
    var form = document.querySelector('.st-key-' + window.__thriveBoxForm);
    if (!nonce || nonce === keptFor || !form) { return; }
    keptFor = nonce;
    form.querySelectorAll('textarea, input').forEach(function(el) { if (el.value) { keep(el); } });
  };
  document.addEventListener('keydown', function(e) {  // Enter submits the form: it is done with, as on Save
    var el = e.target;
    if (window.__thriveBoxEnter && e.key === 'Enter' && !e.isComposing && el && el.tagName === 'INPUT'
        && boxKey(el)) { forget(); }
  }, true);
  document.addEventListener('click', function(e) {  // Save or Clear: the form is done with
    var keys = window.__thriveBoxForget || [];
    for (var i = 0; i < keys.length; i++) {
      if (e.target.closest && e.target.closest('.st-key-' + keys[i] + ' button')) { forget(); return; }
    }
  }, true);
  function put(el, text) {  // as if typed: React sees the change, then the blur commits it to the server
    var proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, text);
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.focus({preventScroll: true});
    el.blur();
  }
  function scan() {
    var s = store(), form = document.querySelector('.st-key-' + window.__thriveBoxForm);
    if (!s || !form) { return; }
    form.querySelectorAll('textarea, input').forEach(function(el) {
      var key = boxKey(el);
      if (!key || checked[slot(key)]) { return; }
      checked[slot(key)] = true;  // once per page load: after that the box itself is the truth
      var kept = null;
      try { kept = JSON.parse(s.getItem(slot(key)) || 'null'); } catch (err) { kept = null; }
      if (kept && typeof kept.v === 'string' && kept.v !== el.value && !el.disabled) { put(el, kept.v); }
    });
  }
  window.__thriveBoxScan = scan;
  function commit() {
    var el = document.activeElement;
    if (isBox(el)) { el.blur(); }
  }
  document.addEventListener('visibilitychange', function() {
    if (document.visibilityState === 'hidden') { commit(); }
  });
  window.addEventListener('pagehide', commit);
  window.addEventListener('beforeunload', commit);
  new MutationObserver(scan).observe(document.body, {childList: true, subtree: true});
  scan();
  window.__thriveBoxKeepAll('%(keep)s');
})();</script>"""

#: Forgets every text box kept in this tab (nobody is signed in: the tablet may pass to someone else).
FORGET_BOXES_SCRIPT = """<script>(function(){ try { var s = window.sessionStorage, gone = [];
  for (var i = 0; i < s.length; i++) { var k = s.key(i); if (k && k.indexOf('thrive.box.') === 0) { gone.push(k); } }
  gone.forEach(function(k) { s.removeItem(k); }); } catch (e) {}
  if (document.currentScript) { document.currentScript.remove(); } })();</script>"""

_KEY_SHAPE = re.compile(r"^[a-z0-9_]+$")
_SCOPE_SHAPE = re.compile(r"^[0-9a-f]{32}$")


def _hidden(key: str) -> st.delta_generator.DeltaGenerator:
    st.html(f"<style>.st-key-{key} {{ display: none; }}</style>")
    return st.container(key=key)


def base_css() -> None:
    st.html(BASE_CSS)


def action_bar_css(key: str) -> None:
    if not _KEY_SHAPE.match(key):
        raise ValueError(f"not a widget key: {key!r}")
    st.html(ACTION_BAR_CSS.format(key=key))


def highlight(key: str) -> None:
    """Outline the field whose container or widget key is `key` (a problem with it)."""
    if not _KEY_SHAPE.match(key):
        raise ValueError(f"not a widget key: {key!r}")
    st.html(HIGHLIGHT_CSS.format(key=key))


def scroll(nonce: int, *, to_key: str | None = None, name: str = "scroll") -> None:
    """Scroll the page to the top (or the widget keyed `to_key` into view) once per new `nonce`."""
    if to_key is not None and not _KEY_SHAPE.match(to_key):
        raise ValueError(f"not a widget key: {to_key!r}")
    target = f"'.st-key-{to_key}'" if to_key else "null"
    with _hidden(f"{name}_script"):
        st.html(_SCROLL_SCRIPT.format(target=target, nonce=int(nonce)), unsafe_allow_javascript=True)


def input_mode(key: str, mode: str | None) -> None:
    """Give the text input keyed `key` the keypad `mode` ('numeric'), or none."""
    if not _KEY_SHAPE.match(key) or mode not in (None, "numeric"):
        raise ValueError("input_mode takes a widget key and 'numeric' or None")
    with _hidden("inputmode_script"):
        st.html(_INPUTMODE_SCRIPT.format(key=repr(key), mode=repr(mode) if mode else "null"),
                unsafe_allow_javascript=True)


def box_scope(device: str, username: str, event_id: str) -> str:
    """The hex name under which this tab keeps the form's boxes: one per sign-in session, user and event (or page:
    any string naming what the words belong to; a hash, so no name or id is written into the page)."""
    return hashlib.sha256("\n".join([device, username, event_id]).encode("utf-8")).hexdigest()[:32]


def commit_on_leave(scope: str | None, *, form_key: str = "collect_form",
                    forget_on: tuple[str, ...] = ("collect_save", "collect_clear"), forget_on_enter: bool = False,
                    keep_again: bool = False) -> None:
    """Keep the text boxes inside the container `form_key` safe across a reload (see the script): the focused box
    is sent when the page goes away, and every box is kept in this tab under `scope` (`box_scope`; None when
    there is no sign-in session: nothing kept) until a button keyed in `forget_on` is tapped or, with
    `forget_on_enter` (an st.form that Enter submits), Enter is pressed in one of its one-line boxes.
    `keep_again`: the submit that forgot them failed and the words are still in the boxes: keep them again."""
    if scope is not None and not _SCOPE_SHAPE.match(scope):
        raise ValueError("a box scope is 32 hex digits")
    if not _KEY_SHAPE.match(form_key) or not all(_KEY_SHAPE.match(k) for k in forget_on):
        raise ValueError("not a widget key")
    with _hidden("commit_on_leave_script"):
        st.html(_COMMIT_ON_LEAVE_SCRIPT % {"scope": scope or "none", "form": form_key,
                                           "forget": json.dumps(list(forget_on)),
                                           "enter": json.dumps(forget_on_enter),
                                           "keep": secrets.token_hex(8) if keep_again else ""},
                unsafe_allow_javascript=True)


def forget_boxes() -> None:
    """Forget every text box this tab kept (called while nobody is signed in)."""
    with _hidden("forget_boxes_script"):
        st.html(FORGET_BOXES_SCRIPT, unsafe_allow_javascript=True)


@dataclass(frozen=True)
class Piece:
    text: str
    tel: str | None = None  # +E164 digits when this piece is a phone number


_EMERGENCY = re.compile(r"(?<!\d)(999|112)(?!\d)")


def phone_pieces(line: str, region: str = "GB") -> list[Piece]:
    """`line` cut into text and validated phone numbers (including the emergency numbers 999 and 112)."""
    found: list[tuple[int, int, str]] = []
    for match in phonenumbers.PhoneNumberMatcher(line, region, leniency=phonenumbers.Leniency.VALID):
        found.append((match.start, match.end,
                      phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)))
    for m in _EMERGENCY.finditer(line):
        if shortnumberinfo.is_emergency_number(m.group(1), region) and not any(
                s <= m.start() < e for s, e, _ in found):
            found.append((m.start(), m.end(), m.group(1)))
    pieces: list[Piece] = []
    at = 0
    for start, end, number in sorted(found):
        if start > at:
            pieces.append(Piece(line[at:start]))
        pieces.append(Piece(line[start:end], number))
        at = end
    if at < len(line):
        pieces.append(Piece(line[at:]))
    return pieces


_TEL = re.compile(r"^\+?\d{3,15}$")


def procedure_numbers(procedure: str, region: str = "GB") -> list[tuple[str, str]]:
    """Each distinct validated number in the procedure: (as written, tel: target built from its digits)."""
    seen: dict[str, str] = {}
    for line in procedure.splitlines():
        for piece in phone_pieces(line, region):
            if piece.tel and _TEL.match(piece.tel) and piece.tel not in seen.values():
                seen[piece.text.strip()] = piece.tel
    return list(seen.items())


def safeguarding_alert(title: str, body: str, procedure: str, key: str, call_label: str):
    """The unmistakable guidance: a red alert (role="alert", announced) with the procedure, then one tap-to-call
    button per number in it. `title`, `body` and `call_label` ("Call {number}") are catalogue texts; everything is
    escaped here. Returns the container, for the caller to add the note field and the "I've read this" button."""
    lines = [session.md_escape(x.strip()) for x in procedure.splitlines() if x.strip()]
    box = st.container(key=key)
    with box:
        st.error(f"**{session.md_escape(title)}**  \n{session.md_escape(body)}\n\n"
                 + "\n".join("- " + x for x in lines), icon=":material/warning:")  # one list item per line
        numbers = procedure_numbers(procedure)
        if numbers:
            with st.container(horizontal=True, key=f"{key}_calls"):
                for written, tel in numbers:
                    st.link_button(session.md_escape(call_label.format(number=written)), f"tel:{tel}", icon=":material/call:",
                                   type="primary")
    return box


def status(kind: str, text: str, key: str) -> None:
    """The page's one status area (a new message replaces the previous one; the caller draws only one)."""
    icons = {"success": ":material/check_circle:", "error": ":material/error:", "info": ":material/info:",
             "warning": ":material/warning:"}
    with st.container(key=key):
        getattr(st, kind)(text, icon=icons[kind])


__all__ = ["t", "base_css", "action_bar_css", "highlight", "scroll", "input_mode", "commit_on_leave",
           "box_scope", "forget_boxes",
           "phone_pieces", "procedure_numbers", "safeguarding_alert", "status"]
