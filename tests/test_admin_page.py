"""The admin page under AppTest: add an account with a PIN, change roles, switch off, unlock, settings,
erasure of a respondent, retention, and the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import accounts, settings
from data.capture import save_respondent
from data.users import User
from ui import session

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "admin.py")
PASSWORD = "password-123456"


@pytest.fixture
def boss(db):
    accounts.create_user(db, None, "boss", PASSWORD, ["admin"])
    return User("boss", frozenset({"admin"}))


def _page(user) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state[session.USER_KEY] = user
    at.run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest, form: str, label: str) -> AppTest:
    at.button(key=f"FormSubmitter:{form}-{label}").click().run()
    assert not at.exception, at.exception
    return at


def test_add_a_peer_researcher_with_a_pin(db, boss):
    at = _page(boss)
    at.text_input(key="admin_new_username").input("pia")
    at.multiselect(key="admin_new_roles").set_value(["peer_researcher"])
    at.radio(key="admin_new_kind").set_value("pin")
    at.text_input(key="admin_new_secret").input("749305")
    at.text_input(key="admin_new_again").input("749305")
    _submit(at, "admin_add_user", "Add account")
    assert any("Added pia" in s.value for s in at.success)
    assert at.text_input(key="admin_new_secret").value == "" and at.text_input(key="admin_new_again").value == ""
    assert accounts.sign_in(db, "pia", "749305").roles == {"peer_researcher"}


def test_a_weak_pin_is_refused_on_the_page(db, boss):
    at = _page(boss)
    at.text_input(key="admin_new_username").input("pia")
    at.multiselect(key="admin_new_roles").set_value(["peer_researcher"])
    at.radio(key="admin_new_kind").set_value("pin")
    at.text_input(key="admin_new_secret").input("123456")
    at.text_input(key="admin_new_again").input("123456")
    _submit(at, "admin_add_user", "Add account")
    assert any("too easy" in e.value for e in at.error)
    with pytest.raises(accounts.AccountError):
        accounts.get_account(db, "pia")


def test_roles_disable_and_unlock(db, boss):
    accounts.create_user(db, boss, "sam", PASSWORD, ["strategy_lead"])
    for _ in range(accounts.MAX_FAILED_ATTEMPTS):
        with pytest.raises(accounts.SignInError):
            accounts.sign_in(db, "sam", "wrong-wrong-wrong")
    at = _page(boss)
    at.selectbox(key="admin_user_chosen").set_value("sam").run()
    at.multiselect(key="admin_roles_sam").set_value(["strategy_lead", "safeguarding_lead"])
    _submit(at, "admin_roles_form", "Save roles")
    assert accounts.get_account(db, "sam").roles == ("safeguarding_lead", "strategy_lead")
    at.button(key="admin_unlock").click().run()
    assert accounts.get_account(db, "sam").locked_until is None
    at.button(key="admin_disable").click().run()
    assert accounts.get_account(db, "sam").disabled


def test_settings_are_saved_and_bad_values_refused(db, boss):
    at = _page(boss)
    at.text_area(key="admin_procedure").input("Call Jo on 0300 555 0101")
    at.number_input(key="admin_retention_days").set_value(365)
    _submit(at, "admin_settings_form", "Save settings")
    assert settings.get(db, "safeguarding_procedure") == "Call Jo on 0300 555 0101"
    assert settings.get_int(db, "retention_days") == 365
    at.text_area(key="admin_procedure").input("   ")
    _submit(at, "admin_settings_form", "Save settings")
    assert any("cannot be empty" in e.value for e in at.error)
    assert settings.get(db, "safeguarding_procedure") == "Call Jo on 0300 555 0101"


def test_erase_a_respondent_from_the_page(db, boss, event):
    saved = save_respondent(db, boss, event_id=event.id, group_id="resident", consent=True,
                            answers={"thrive_helps": "my number is 07700 900123"})
    at = _page(boss)
    at.text_input(key="admin_erase_ref").input(saved.respondent_id)
    at.button(key="admin_erase_find").click().run()
    assert any("1 answer(s)" in w.value for w in at.warning)
    at.text_input(key="admin_erase_reason").input("Withdrew consent")
    _submit(at, "admin_erase_form", "Erase")  # not confirmed yet
    assert any("Tick the box" in e.value for e in at.error)
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1
    at.checkbox(key="admin_erase_sure").check()
    _submit(at, "admin_erase_form", "Erase")
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0
    assert db.execute("SELECT reason FROM tombstones WHERE kind = 'respondent'").fetchone()[0] == "Withdrew consent"


def test_unknown_respondent_reference(db, boss):
    at = _page(boss)
    at.text_input(key="admin_erase_ref").input("R-404")
    at.button(key="admin_erase_find").click().run()
    assert any("No respondent" in e.value for e in at.error)


def test_retention_button_purges_due_originals(db, boss, event):
    save_respondent(db, boss, event_id=event.id, group_id="resident", consent=True,
                    answers={"thrive_helps": "my number is 07700 900123"})
    settings.put(db, boss, "retention_days", "1")
    db.execute("UPDATE responses SET created_at = '2020-01-01T00:00:00+00:00'")
    db.conn.commit()
    at = _page(boss)
    assert [m.value for m in at.metric][:1] == ["1"]
    at.button(key="admin_retention_apply").click().run()
    assert "07700" not in db.execute("SELECT text FROM responses").fetchone()[0]


def test_audit_log_is_shown_and_filtered(db, boss):
    with pytest.raises(accounts.SignInError):
        accounts.sign_in(db, "boss", "wrong-wrong-wrong")
    at = _page(boss)
    frame = at.dataframe[-1].value
    assert list(frame["action"]) == ["sign_in_failed", "user_created"]
    at.selectbox(key="admin_audit_action").set_value("user_created").run()
    assert list(at.dataframe[-1].value["action"]) == ["user_created"]


def test_a_four_digit_pin_is_refused_for_a_new_account(db, boss):
    at = _page(boss)
    at.text_input(key="admin_new_username").input("pia")
    at.multiselect(key="admin_new_roles").set_value(["peer_researcher"])
    at.radio(key="admin_new_kind").set_value("pin")
    at.text_input(key="admin_new_secret").input("7493")
    at.text_input(key="admin_new_again").input("7493")
    _submit(at, "admin_add_user", "Add account")
    assert any(accounts.PIN_RULE in e.value for e in at.error), [e.value for e in at.error]
    with pytest.raises(accounts.AccountError):
        accounts.get_account(db, "pia")
