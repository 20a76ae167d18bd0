"""Sign-in sessions (data/sessions.py, ui/session.py): the token is never stored in clear, a live cookie signs the
person back in after a reload or restart, and a revoked, idle, unknown or disabled one does not; disabling, a role
change and a PIN reset revoke; an admin lists and revokes; the cookie script has the right attributes."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from data import accounts, drafts, sessions
from data.users import PermissionDenied, User
from ui import session

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PASSWORD = "correct-horse-battery"
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
UA = "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


@pytest.fixture
def first_admin(db):
    accounts.create_user(db, None, "ada", PASSWORD, ["admin"], display_name="Ada")
    return User("ada", frozenset({"admin"}), "Ada")


@pytest.fixture
def pia(db, first_admin):
    accounts.create_user(db, first_admin, "pia", "258013", ["peer_researcher"], kind="pin")
    return User("pia", frozenset({"peer_researcher"}))


def _every_text(db) -> str:
    texts = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        for row in db.execute(f'SELECT * FROM "{table}"').fetchall():
            texts.extend(str(v) for v in row if v is not None)
    return "\n".join(texts)


def test_token_is_random_and_only_its_hash_is_stored(db, db_path, pia):
    token, record = sessions.start(db, "pia", user_agent=UA, now=T0)
    other, _ = sessions.start(db, "pia", user_agent=UA, now=T0)
    assert token != other and len(token) >= 40
    stored = db.execute("SELECT token_hash, user_agent FROM sessions WHERE id = ?", [record.id]).fetchone()
    assert stored[0] == hashlib.sha256(token.encode()).hexdigest()
    assert stored[1] == "Chrome on Android"
    sessions.revoke(db, "pia", record.id, why="signed out")
    db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    assert token not in _every_text(db)
    raw = db_path.read_bytes() + (db_path.parent / (db_path.name + "-wal")).read_bytes() \
        if (db_path.parent / (db_path.name + "-wal")).exists() else db_path.read_bytes()
    assert token.encode() not in raw


def test_resume_live_revoked_unknown_and_idle(db, pia):
    token, record = sessions.start(db, "pia", now=T0)
    live = sessions.resume(db, token, idle_seconds=900, now=T0 + dt.timedelta(minutes=10))
    assert live.session is not None and live.session.id == record.id and live.session.username == "pia"
    assert live.session.last_seen.startswith("2026-11-23T10:10")  # resuming is activity
    # 14 minutes after that activity: still live
    assert sessions.resume(db, token, idle_seconds=900, now=T0 + dt.timedelta(minutes=24)).session is not None
    # idle: refused and revoked, so it stays refused even if the clock were wound back
    idle = sessions.resume(db, token, idle_seconds=900, now=T0 + dt.timedelta(minutes=40))
    assert idle.session is None and idle.refused == "idle"
    assert sessions.resume(db, token, idle_seconds=900, now=T0 + dt.timedelta(minutes=25)).refused == "revoked"
    assert sessions.resume(db, "not-a-token", idle_seconds=900).refused == "unknown"
    assert sessions.resume(db, None, idle_seconds=900).refused == "unknown"
    assert sessions.resume(db, "x" * 5000, idle_seconds=900).refused == "unknown"


def test_sign_out_revokes_and_check_says_why(db, pia):
    token, record = sessions.start(db, "pia")
    assert sessions.check(db, record.id, idle_seconds=900) is None
    assert sessions.revoke(db, "pia", record.id, why="signed out")
    assert not sessions.revoke(db, "pia", record.id, why="signed out")  # once only
    assert sessions.check(db, record.id, idle_seconds=900) == "revoked"
    assert sessions.resume(db, token, idle_seconds=900).session is None
    assert sessions.check(db, "no-such-session", idle_seconds=900) == "unknown"


@pytest.mark.parametrize("change", ["disable", "roles", "reset"])
def test_disabling_a_role_change_or_a_reset_revokes_every_session_and_its_drafts(db, first_admin, event, change):
    accounts.create_user(db, first_admin, "sam", PASSWORD, ["engagement_officer"])
    sam = User("sam", frozenset({"engagement_officer"}))
    tablet, one = sessions.start(db, "sam")
    laptop, two = sessions.start(db, "sam")
    admin_token, admin_session = sessions.start(db, "ada")
    drafts.save_draft(db, sam, one.id, event.id, {"collect_answer_q1": "half typed"})
    if change == "disable":
        accounts.set_disabled(db, first_admin, "sam")
    elif change == "roles":
        accounts.set_roles(db, first_admin, "sam", ["strategy_lead", "engagement_officer"])
    else:
        accounts.reset_secret(db, first_admin, "sam", "another-long-password")
    for token in (tablet, laptop):
        assert sessions.resume(db, token, idle_seconds=900).refused == "revoked"
    assert sessions.resume(db, admin_token, idle_seconds=900).session.id == admin_session.id  # others untouched
    assert drafts.load_draft(db, sam, one.id, event.id) is None
    row = db.execute("SELECT detail FROM audit WHERE action = 'sessions_revoked' AND target_id = 'sam'").fetchone()
    assert row is not None and '"count": 2' in row[0]
    assert tablet not in _every_text(db) and laptop not in _every_text(db)


def test_same_roles_again_does_not_sign_out(db, first_admin, pia):
    token, _ = sessions.start(db, "pia")
    accounts.set_roles(db, first_admin, "pia", ["peer_researcher"])
    assert sessions.resume(db, token, idle_seconds=900).session is not None


def test_admin_lists_and_revokes_sessions(db, first_admin, pia):
    _, one = sessions.start(db, "pia", now=T0)
    _, two = sessions.start(db, "pia", now=T0 + dt.timedelta(minutes=5))
    sessions.start(db, "ada", now=T0)
    with pytest.raises(PermissionDenied):
        sessions.list_active(db, pia, "pia")
    with pytest.raises(PermissionDenied):
        sessions.admin_revoke(db, pia, username="ada")
    assert [s.id for s in sessions.list_active(db, first_admin, "pia")] == [two.id, one.id]
    assert sessions.list_active(db, first_admin, "pia", idle_seconds=900, now=T0 + dt.timedelta(minutes=16)) \
        == [sessions.get(db, two.id)]
    assert sessions.admin_revoke(db, first_admin, session_id=one.id) == 1
    assert [s.id for s in sessions.list_active(db, first_admin, "pia")] == [two.id]
    assert sessions.admin_revoke(db, first_admin, username="pia") == 1
    assert sessions.list_active(db, first_admin, "pia") == []
    assert len(sessions.list_active(db, first_admin)) == 1  # ada's


def test_cli_lists_and_revokes_sessions(db, db_path, first_admin, pia):
    from cli import cli

    token, record = sessions.start(db, "pia", user_agent=UA)
    runner = CliRunner()
    listed = runner.invoke(cli, ["users", "sessions", "pia", "--db", str(db_path)])
    assert listed.exit_code == 0, listed.output
    assert record.id in listed.output and "Chrome on Android" in listed.output and token not in listed.output
    revoked = runner.invoke(cli, ["users", "revoke-sessions", "pia", "--db", str(db_path)])
    assert revoked.exit_code == 0, revoked.output
    assert "1 session" in revoked.output
    assert sessions.resume(db, token, idle_seconds=900).refused == "revoked"
    for command in ("sessions", "revoke-sessions"):
        missing = runner.invoke(cli, ["users", command, "nobody", "--db", str(db_path)])
        assert missing.exit_code != 0 and "nobody" in missing.output, missing.output


# --- the app: the first run of a new Streamlit session reads the cookie --------------------------------------------

def _app(monkeypatch, token: str | None) -> AppTest:
    # AppTest cannot send cookies (st.context.cookies comes from the browser's websocket handshake)
    monkeypatch.setattr(session, "_cookie_token", lambda: token)
    return AppTest.from_file(APP, default_timeout=30)


def test_a_live_cookie_signs_the_person_back_in_without_the_form(db, monkeypatch, pia):
    token, record = sessions.start(db, "pia")
    at = _app(monkeypatch, token)
    at.run()
    assert not at.exception
    assert at.session_state[session.USER_KEY].username == "pia"
    assert at.session_state[session.SESSION_ID_KEY] == record.id
    assert not any(b.label == "Sign in" for b in at.button)
    assert any(b.label == "Sign out" for b in at.sidebar.button)


@pytest.mark.parametrize("why", ["revoked", "unknown", "idle", "disabled"])
def test_a_dead_cookie_shows_the_sign_in_form(db, monkeypatch, first_admin, pia, why):
    token, record = sessions.start(db, "pia", now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30))
    if why == "revoked":
        sessions.revoke(db, "pia", record.id, why="signed out")
    elif why == "unknown":
        token = "A" * 43
    elif why == "disabled":
        db.execute("UPDATE users SET disabled = 1 WHERE username = 'pia'")  # behind the app's back
        sessions.touch(db, record.id)
    else:
        assert why == "idle"  # last seen 30 minutes ago, idle limit 15
    at = _app(monkeypatch, token)
    at.run()
    assert not at.exception
    assert session.USER_KEY not in at.session_state
    assert [b.label for b in at.button] == ["Sign in"]
    assert any("inactivity" in i.value for i in at.info) == (why == "idle")
    if why != "unknown":
        assert sessions.get(db, record.id).revoked_at is not None


def test_sign_in_opens_a_session_and_sign_out_revokes_it(db, monkeypatch, pia):
    at = _app(monkeypatch, None)
    at.run()
    at.text_input[0].input("pia")
    at.text_input[1].input("258013")
    at.button[0].click().run()
    assert not at.exception
    sid = at.session_state[session.SESSION_ID_KEY]
    record = sessions.get(db, sid)
    assert record.username == "pia" and record.active
    token = at.session_state[session.SESSION_TOKEN_KEY]
    assert sessions.resume(db, token, idle_seconds=900).session.id == sid
    # Sign out (AppTest cannot click the frame's sidebar button across its page reruns: call what it calls)
    state = {k: at.session_state[k] for k in (session.USER_KEY, session.SESSION_ID_KEY, session.SESSION_TOKEN_KEY)}
    monkeypatch.setattr(session.st, "session_state", state)
    session.sign_out(db=db)
    assert session.USER_KEY not in state and state[session.FORGET_COOKIE_KEY] is True
    assert sessions.get(db, sid).revoked_at is not None and sessions.get(db, sid).revoked_why == "signed out"
    assert sessions.resume(db, token, idle_seconds=900).refused == "revoked"


def test_a_session_revoked_elsewhere_signs_this_tab_out(db, monkeypatch, first_admin, pia):
    token, record = sessions.start(db, "pia")
    at = _app(monkeypatch, token)
    at.run()
    assert at.session_state[session.USER_KEY].username == "pia"
    sessions.admin_revoke(db, first_admin, username="pia")
    # the same Streamlit session, next run (AppTest does not rerun file pages, so a fresh run carries the state)
    again = _app(monkeypatch, token)
    for key in (session.USER_KEY, session.LAST_SEEN_KEY, session.SESSION_ID_KEY, session.SESSION_TOKEN_KEY):
        again.session_state[key] = at.session_state[key]
    again.run()
    assert session.USER_KEY not in again.session_state
    assert [b.label for b in again.button] == ["Sign in"]


def test_the_page_carries_a_script_that_sets_the_cookie(db, monkeypatch, pia):
    token, record = sessions.start(db, "pia")
    at = _app(monkeypatch, token)
    at.run()
    scripts = [h.proto.body for h in at.get("html") if "document.cookie" in h.proto.body]
    assert len(scripts) == 1
    body = scripts[0]
    assert f"{sessions.COOKIE_NAME}={token}; Max-Age=900" in body
    assert "Path=/" in body and "SameSite=Strict" in body and "'https:'?'; Secure'" in body


def test_cookie_script_refuses_a_malformed_token_and_deletes_after_sign_out(db, monkeypatch):
    state: dict = {session.USER_KEY: User("pia"), session.SESSION_TOKEN_KEY: "x'; alert(1)//" + "a" * 30}
    monkeypatch.setattr(session.st, "session_state", state)
    monkeypatch.setattr(session, "_cookie_token", lambda: None)
    assert session.cookie_script(db) is None
    state[session.SESSION_TOKEN_KEY] = "a" * 43
    assert "thrive_session=" + "a" * 43 in session.cookie_script(db)
    state.clear()
    state[session.FORGET_COOKIE_KEY] = True
    assert session.cookie_script(db) is None  # nothing to delete: the browser sent no cookie
    monkeypatch.setattr(session, "_cookie_token", lambda: "a" * 43)
    forget = session.cookie_script(db)
    assert "thrive_session=; Max-Age=0" in forget and "a" * 43 not in forget


def test_admin_page_lists_a_users_sessions_and_signs_them_out_everywhere(db, first_admin, pia):
    token, record = sessions.start(db, "pia", user_agent=UA)
    at = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=30)
    at.session_state[session.USER_KEY] = first_admin
    at.run()
    at.selectbox(key="admin_user_chosen").set_value("pia").run()
    assert not at.exception, at.exception
    assert any("Signed-in sessions** (1)" in m.value for m in at.markdown)
    table = next(d.value for d in at.dataframe if "browser" in d.value.columns)
    assert list(table["browser"]) == ["Chrome on Android"]
    assert token not in table.to_string()
    at.button(key="admin_revoke_sessions").click().run()
    assert not at.exception, at.exception
    assert sessions.get(db, record.id).revoked_why == "revoked by an admin"
    assert sessions.resume(db, token, idle_seconds=900).refused == "revoked"
    assert any("Not signed in anywhere" in c.value for c in at.caption)


# --- the sign-in page in the person's language ----------------------------------------------------------------------

def _signin_texts(at) -> str:
    parts = [e.value for kind in (at.title, at.markdown, at.info, at.error) for e in kind]
    parts += [w.label for kind in (at.text_input, at.button, at.toggle) for w in kind]
    return "\n".join(parts).replace("\\", "")


def test_the_sign_in_page_speaks_the_chosen_language(db, monkeypatch, pia):
    from ui.i18n import catalogue, t

    at = _app(monkeypatch, None)
    at.run()
    choice = at.segmented_control(key="signin_language")
    assert choice.value == "en" and [o.replace("\\", "") for o in choice.options[:2]] == ["English", "اردو (مسودہ)"]
    assert "Language" in choice.label and "زبان" in choice.label  # the choice is readable before it is made
    assert [w.label for w in at.text_input] == ["Username", "Password or PIN"]
    choice.set_value("ur").run()
    assert not at.exception, at.exception
    assert [w.label for w in at.text_input] == [t("signin.username", "ur"), t("signin.secret", "ur")]
    assert [b.label for b in at.button] == [t("signin.button", "ur")]
    shown = _signin_texts(at)
    for key in ("signin.title", "signin.intro", "signin.letters"):
        assert t(key, "ur") in shown
    english = {v for k, v in catalogue("en").items() if k.startswith("signin.") and len(v) > 3}
    assert [v for v in english if v in shown] == []  # no English interface text left
    css = [h.proto.body for h in at.get("html")]
    assert any(".st-key-signin_box { direction: rtl" in b for b in css)
    # the PIN field still opens the numeric keypad: the script finds it by its key, whatever its label says
    keypad = [b for b in css if "setAttribute('inputmode'" in b]
    assert len(keypad) == 1 and "'signin_secret'" in keypad[0] and "'numeric'" in keypad[0]


def test_english_sign_in_is_left_to_right_and_keeps_the_keypad(db, monkeypatch, pia):
    at = _app(monkeypatch, None)
    at.run()
    css = [h.proto.body for h in at.get("html")]
    assert not any("direction: rtl" in b for b in css)
    assert any("inputmode" in b and "'numeric'" in b for b in css)
    at.toggle(key="signin_letters").set_value(True).run()  # a password with letters: the full keyboard
    assert any("inputmode" in b and "null" in b and "'numeric'" not in b for b in (h.proto.body for h in at.get("html")))


def _sign_in_through_the_form(monkeypatch, lang: str, name: str, secret: str) -> AppTest:
    """The sign-in page in `lang`, the name and secret typed and Sign in tapped (no cookie); no exception."""
    at = _app(monkeypatch, None)
    at.run()
    at.segmented_control(key="signin_language").set_value(lang).run()
    at.text_input(key="signin_username").input(name)
    at.text_input(key="signin_secret").input(secret)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_a_refused_sign_in_is_told_in_the_chosen_language(db, monkeypatch, pia):
    from ui.i18n import t

    at = _sign_in_through_the_form(monkeypatch, "ur", "pia", "000000")
    assert [e.value.replace("\\", "") for e in at.error] == [t("signin.refused", "ur")]
    assert session.USER_KEY not in at.session_state
    at.segmented_control(key="signin_language").set_value("en").run()
    at.text_input(key="signin_secret").input("000001")
    at.button[0].click().run()
    assert any("don't match" in e.value for e in at.error)  # English: the core's own words


@pytest.mark.parametrize(("message", "key"), [
    ("This account is switched off. Ask an admin.", "signin.disabled"),
    ("Too many wrong tries: this account is locked for about 3 more minute(s), or until an admin unlocks it.",
     "signin.locked"),
    ("There have been many wrong sign-ins ... so sign-in is slowed down for everyone. Try again in 4 second(s).",
     "signin.throttled"),
    ("That name and password or PIN don't match. Check them and try again.", "signin.refused"),
])
def test_sign_in_refusal_names_the_kind_in_urdu_and_keeps_the_core_words_in_english(message, key):
    from ui.i18n import t

    error = accounts.SignInError(message)
    assert session.sign_in_refusal(error, "ur") == t(key, "ur")
    assert session.sign_in_refusal(error, "en") == session.sign_in_refusal(error) == message


def test_the_text_boxes_kept_in_the_tab_are_forgotten_while_nobody_is_signed_in(db, monkeypatch, pia):
    at = _app(monkeypatch, None)
    at.run()
    assert any("thrive.box." in h.proto.body and "removeItem" in h.proto.body for h in at.get("html"))
    token, _ = sessions.start(db, "pia")
    signed_in = _app(monkeypatch, token)
    signed_in.run()
    assert session.USER_KEY in signed_in.session_state
    assert not any("thrive.box." in h.proto.body for h in signed_in.get("html"))


# --- the interface language of the whole sign-in (issue 9 item 6) ---------------------------------------------------

def _session_language(db, session_id: str):
    return db.execute("SELECT language FROM sessions WHERE id = ?", [session_id]).fetchone()[0]


def test_the_sign_in_language_is_every_pages_language_and_survives_a_reload(db, monkeypatch, pia):
    from ui.i18n import t

    at = _sign_in_through_the_form(monkeypatch, "ur", "pia", "258013")
    assert at.session_state[session.USER_KEY].username == "pia"
    assert at.session_state[session.LANGUAGE_KEY] == "ur"
    sid = at.session_state[session.SESSION_ID_KEY]
    assert _session_language(db, sid) == "ur"
    assert [b.label.replace("\\", "") for b in at.sidebar.button] == [t("menu.sign_out", "ur")]
    assert t("role.peer_researcher", "ur") in [c.value.replace("\\", "") for c in at.sidebar.caption]
    rtl = [h.proto.body for h in at.get("html") if "direction: rtl" in h.proto.body]
    assert rtl and "stMainBlockContainer" in rtl[0]  # the staff page is laid out right to left

    # a reload: a new Streamlit session signed in from the cookie keeps the language
    token = at.session_state[session.SESSION_TOKEN_KEY]
    again = _app(monkeypatch, token)
    again.run()
    assert not again.exception, again.exception
    assert again.session_state[session.LANGUAGE_KEY] == "ur"
    choice = next(c for c in again.segmented_control if c.key.startswith("topbar_language_"))  # in the Menu
    assert choice.value == "ur"

    # the Menu's choice changes it back, for this session and the next reload
    choice.set_value("en").run()
    assert not again.exception, again.exception
    assert again.session_state[session.LANGUAGE_KEY] is None and _session_language(db, sid) is None
    assert [b.label for b in again.sidebar.button] == ["Sign out"]
    assert not any("direction: rtl" in h.proto.body for h in again.get("html"))
    third = _app(monkeypatch, token)
    third.run()
    assert third.session_state[session.LANGUAGE_KEY] is None
    assert [b.label for b in third.sidebar.button] == ["Sign out"]


def test_a_session_language_belongs_to_that_live_session_only(db, pia):
    _, mine = sessions.start(db, "pia")
    _, other = sessions.start(db, "pia")
    assert sessions.set_language(db, mine.id, "pia", "ur")
    assert sessions.language(db, mine.id, "pia") == "ur" and sessions.language(db, other.id, "pia") is None
    assert sessions.language(db, mine.id, "someone_else") is None
    assert not sessions.set_language(db, other.id, "someone_else", "ur")
    sessions.revoke(db, "pia", mine.id, why="signed out")
    assert sessions.language(db, mine.id, "pia") is None
    assert not sessions.set_language(db, mine.id, "pia", "en")


def test_an_unknown_language_is_the_default(monkeypatch):
    monkeypatch.setattr(session.st, "session_state", {session.LANGUAGE_KEY: "xx"})
    assert session.ui_language() == "en"
    monkeypatch.setattr(session.st, "session_state", {session.LANGUAGE_KEY: "ur"})
    assert session.ui_language() == "ur"
