"""Every page in ui/nav.py, under AppTest, for every role (DESIGN habit 8): a permitted role gets the page with
no exception; any other role gets the refusal and no data. Pages are opened through app.py's navigation, as a
URL would open them, with real accounts in the database (app.py re-reads roles from it on every run)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import accounts, capture, codebook, coding, events, open_db
from data.users import ROLES, User
from ui import session
from ui.nav import PAGES

ROOT = Path(__file__).resolve().parent.parent
SECRET_WORDS = "my dad hits me when he's drunk"
REDACTED_ONLY = "ring 07700 900123 about the park"
REFUSAL = "don't have access"


def _world(db) -> None:
    everyone = User("setup", frozenset(ROLES))
    event = events.create_event(db, everyone, name="Family centre drop-in", date="2026-11-20")
    for group, answers in (("young_person", {"thrive_helps": [SECRET_WORDS, "youth club"]}),
                           ("parent_carer", {"thrive_helps": REDACTED_ONLY, "neglect_is": "no food in the house"})):
        capture.save_respondent(db, everyone, event_id=event.id, group_id=group, consent=True, answers=answers)
    codebook.load_starter_codebook(db, everyone)
    first_code = next(c.name for c in codebook.list_codes(db) if c.parent_id is not None)
    for (response_id,) in db.execute("SELECT id FROM responses").fetchall():
        coding.apply_code(db, everyone, response_id, first_code)
    accounts.create_user(db, None, "role_admin", "password-123456", ["admin"])
    admin = User("role_admin", frozenset({"admin"}))
    for role in ROLES:
        if role != "admin":
            accounts.create_user(db, admin, f"role_{role}", "password-123456", [role])


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "template.db"
    db = open_db(path)
    _world(db)
    with db.ensure_autocommit_on():
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


@pytest.fixture
def seeded(template, db_path):
    shutil.copyfile(template, db_path)
    return db_path


def _all_text(at: AppTest) -> str:
    """Every value a user could read on the page (main area and sidebar)."""
    parts: list[str] = []
    for kind in ("markdown", "text", "code", "caption", "title", "header", "subheader", "info", "warning", "error",
                 "success", "metric", "json", "table", "dataframe", "text_area", "text_input", "selectbox"):
        for element in getattr(at, kind, []):
            value = getattr(element, "value", None)
            parts.append(value.to_csv() if hasattr(value, "to_csv") else str(value))
    return "\n".join(parts)


def _open(page: str, role: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state[session.USER_KEY] = User(f"role_{role}", frozenset({role}))
    at.session_state[session.LAST_SEEN_KEY] = time.time()
    at.run()
    assert not at.exception, at.exception
    if page != "pages/home.py":
        at.switch_page(page)
        at.run()
    return at


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
def test_page_for_role(seeded, spec, role):
    at = _open(spec.file, role)
    allowed = spec.permission is None or User("x", frozenset({role})).can(spec.permission)
    assert not at.exception, f"{spec.url_path} raised for {role}: {at.exception}"
    text = _all_text(at)
    if allowed:
        assert REFUSAL not in text, f"{role} was refused {spec.url_path}"
        if spec.url_path != "home":
            assert "Your pages" not in text, f"{role} got the home page instead of {spec.url_path}"
        assert at.session_state[session.USER_KEY].username == f"role_{role}"
    else:
        assert REFUSAL in text, f"{role} opened {spec.url_path} without a refusal"
        assert len(at.dataframe) == 0 and len(at.code) == 0 and len(at.table) == 0
        for words in (SECRET_WORDS, "youth club", "[phone]", "no food in the house", "Family centre drop-in"):
            assert words not in text, f"{role} saw {words!r} on {spec.url_path}"
    # original texts (here: the phone number redaction removes) appear only to the safeguarding lead on the queue
    assert "07700 900123" not in text or (spec.url_path == "safeguarding" and role == "safeguarding_lead")


@pytest.mark.parametrize("spec", [p for p in PAGES if p.permission], ids=lambda s: s.url_path)
def test_page_without_sign_in_shows_only_the_sign_in_request(seeded, spec):
    at = AppTest.from_file(str(ROOT / spec.file), default_timeout=90)
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["Please sign in to use this page."]
    text = _all_text(at)
    for words in (SECRET_WORDS, "youth club", "[phone]", "Family centre drop-in"):
        assert words not in text


def test_signed_out_app_shows_the_sign_in_form_only(seeded):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]
    assert SECRET_WORDS not in _all_text(at)


def test_safeguarding_lead_sees_the_original_words_on_the_queue(seeded):
    text = _all_text(_open("pages/safeguarding.py", "safeguarding_lead"))
    assert SECRET_WORDS in text and "youth club" in text and "Family centre drop-in" in text
    assert "07700" not in text  # an answer that raised no flag is not on the queue


def test_admin_page_lists_accounts_and_the_audit_log(seeded):
    at = _open("pages/admin.py", "admin")
    text = _all_text(at)
    assert "role_strategy_lead" in text and "user_created" in text


def test_home_tells_the_safeguarding_lead_about_open_flags(seeded):
    at = _open("pages/home.py", "safeguarding_lead")
    assert any("1 safeguarding flag(s) are open" in w.value for w in at.warning)
    assert not any("safeguarding flag" in w.value for w in _open("pages/home.py", "strategy_lead").warning)


def test_a_core_refusal_inside_a_page_becomes_a_message(seeded, monkeypatch):
    from data import flags
    from data.users import PermissionDenied

    def refuse(db, user):
        raise PermissionDenied(user, "safeguarding")

    monkeypatch.setattr(flags, "counts", refuse)
    at = _open("pages/home.py", "safeguarding_lead")
    assert not at.exception
    assert any("You don't have access to this" in e.value for e in at.error)
