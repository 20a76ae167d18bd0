"""The Admin and Home pages in Urdu (issue 9 item 6): every key they ask for is in every catalogue; with Urdu chosen
at sign-in each opens in strict mode (a missing key raises) and shows its words in Urdu, not English; actions
still work (a submit button's key follows its label) and English stays as it was."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import accounts, erasure, retention, settings
from data.capture import save_respondent
from data.users import ROLES, User
from tests.test_i18n import catalogue_keys_asked_for
from ui import session
from ui.i18n import catalogue, languages, t
from ui.nav import PAGES

ROOT = Path(__file__).resolve().parent.parent
ADMIN, HOME = ROOT / "pages" / "admin.py", ROOT / "pages" / "home.py"
UR = "ur"
PASSWORD = "password-123456"

#: the keys the pages build with an f-string (as ast.unparse writes the key), each with every key it can make;
#: a new pattern fails test_every_key_the_pages_ask_for_is_in_every_language until it is listed here
BUILT = {
    "f'role.{r}'": [f"role.{r}" for r in ROLES],
    "f'role.{role}'": [f"role.{r}" for r in ROLES],
    "f'admin.tab.{tab}'": [f"admin.tab.{x}" for x in ("users", "settings", "erasure", "retention", "bundles", "audit")],
    "f\"{key}.{('pin' if kind == 'pin' else 'password')}\"": [  # kind_done("admin.add.done" / "admin.reset.done")
        f"admin.{x}.done.{k}" for x in ("add", "reset") for k in ("pin", "password")],
    "f\"admin.users.kind.{('pin' if a.secret_kind == 'pin' else 'password')}\"": [
        "admin.users.kind.pin", "admin.users.kind.password"],
    "f\"admin.state.{('disabled' if a.disabled else 'locked' if a.locked_until else 'active')}\"": [
        "admin.state.disabled", "admin.state.locked", "admin.state.active"],
    "f'admin.add.kind.{k}'": ["admin.add.kind.password", "admin.add.kind.pin"],
    "f'admin.reset.kind.{k}'": ["admin.reset.kind.password", "admin.reset.kind.pin"],
    "f'admin.tombstones.col.{c}'": [f"admin.tombstones.col.{c}" for c in ("kind", "ref_id", "reason", "by", "at")],
    "f'admin.conflicts.col.{c}'": [f"admin.conflicts.col.{c}" for c in ("field", "here", "incoming")],
    "f'admin.conflicts.keep.{k}'": ["admin.conflicts.keep.local", "admin.conflicts.keep.incoming"],
    "f'admin.audit.col.{c}'": [f"admin.audit.col.{c}" for c in ("when", "who", "action", "what", "detail")],
}


def keys_asked_for(path: Path) -> tuple[set[str], set[str]]:
    """Every catalogue key the page's t(...) calls ask for, and the f-string keys BUILT does not expand."""
    return catalogue_keys_asked_for(ast.parse(path.read_text(encoding="utf-8")), BUILT)


@pytest.mark.parametrize("page", [ADMIN, HOME], ids=lambda p: p.name)
@pytest.mark.parametrize("lang", languages())
def test_every_key_the_pages_ask_for_is_in_every_language(page, lang):
    keys, unknown = keys_asked_for(page)
    assert unknown == set(), "add these key patterns to BUILT"
    assert len(keys) > (100 if page == ADMIN else 10)
    assert sorted(k for k in keys if k not in catalogue(lang)) == []


def test_the_key_finder_can_fail(tmp_path):
    page = tmp_path / "p.py"
    page.write_text('t("admin.title", lang)\nt("a" if x else "b")\nt(f"admin.{thing}")\n', encoding="utf-8")
    assert keys_asked_for(page) == ({"admin.title", "a", "b"}, {"f'admin.{thing}'"})


def test_the_pin_rule_says_what_the_core_says():
    """The PIN rule is worded in each language; in English it is data/accounts.py's PIN_RULE, word for word."""
    for key in ("admin.pin_rule", "home.pin_rule"):
        assert t(key, "en", low=accounts.PIN_MIN_DIGITS, high=accounts.PIN_MAX_DIGITS) == accounts.PIN_RULE
        urdu = t(key, UR, low=accounts.PIN_MIN_DIGITS, high=accounts.PIN_MAX_DIGITS)
        assert urdu != accounts.PIN_RULE and str(accounts.PIN_MIN_DIGITS) in urdu


# --- what a page shows ---------------------------------------------------------------------------------------------

def shown(at: AppTest) -> list[str]:
    """Every interface string on the page: element bodies, widget and tab labels, options, metric labels, table
    headers (values of tables are mostly stored text and are checked where they are ours)."""
    out: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success", "text"):
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in ("tabs", "expander", "button", "text_input", "text_area", "number_input", "selectbox",
                 "multiselect", "radio", "checkbox", "metric"):
        out += [e.label for e in getattr(at, kind)]
    for kind in ("selectbox", "multiselect", "radio"):
        out += [str(o) for e in getattr(at, kind) for o in e.options]
    out += [str(c) for d in at.dataframe for c in d.value.columns]
    return out


def english_left(at: AppTest, prefixes: tuple[str, ...]) -> list[str]:
    """Shown strings that hold an English text of these pages' keys (an Urdu page should have none). A whole
    string, or a sentence of three words or more inside one (a text with a value filled in)."""
    english, urdu = catalogue("en"), catalogue(UR)
    texts = [v for k, v in english.items() if k.startswith(prefixes) and urdu[k] != v]
    pieces = {p.strip() for v in texts for p in re.split(r"\{\w+\}", v) if len(p.strip().split()) >= 3}
    return sorted({s for s in shown(at) for v in texts if s == v}
                  | {p for s in shown(at) for p in pieces if p in s})


def run(page: Path, user: User, lang: str | None) -> AppTest:
    at = AppTest.from_file(str(page), default_timeout=60)
    at.session_state[session.USER_KEY] = user
    if lang:
        at.session_state[session.LANGUAGE_KEY] = lang
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def boss(db):
    accounts.create_user(db, None, "boss", PASSWORD, ["admin"])
    return User("boss", frozenset({"admin"}))


@pytest.fixture
def world(db, boss, event):
    """A locked strategy lead, a PIN account, a respondent with a thank-you card, and an answer due for purging."""
    accounts.create_user(db, boss, "sam", PASSWORD, ["strategy_lead"])
    accounts.create_user(db, boss, "pia", "749305", ["peer_researcher"], kind="pin")
    for _ in range(accounts.MAX_FAILED_ATTEMPTS):
        with pytest.raises(accounts.SignInError):
            accounts.sign_in(db, "sam", "wrong-wrong-wrong")
    saved = save_respondent(db, boss, event_id=event.id, group_id="resident", consent=True,
                            answers={"thrive_helps": "my number is 07700 900123"})
    settings.put(db, boss, "retention_days", "1")
    db.execute("UPDATE responses SET created_at = '2020-01-01T00:00:00+00:00'")
    db.conn.commit()
    return saved


def test_admin_page_in_urdu_shows_urdu_and_no_english(db, boss, world):
    at = run(ADMIN, boss, UR)
    assert [x.value for x in at.title] == [t("admin.title", UR)] and at.title[0].value != "Admin"
    assert [x.label for x in at.tabs] == [t(f"admin.tab.{x}", UR) for x in
                                          ("users", "settings", "erasure", "retention", "bundles", "audit")]
    users = at.dataframe[0].value
    assert list(users.columns)[:3] == [t("admin.users.col.username", UR), t("admin.users.col.name", UR),
                                       t("admin.users.col.roles", UR)]
    row = users.set_index(t("admin.users.col.username", UR)).to_dict("index")
    assert row["sam"][t("admin.users.col.roles", UR)] == t("role.strategy_lead", UR)
    assert row["sam"][t("admin.users.col.state", UR)] == t("admin.state.locked", UR)
    assert row["pia"][t("admin.users.col.signs_in_with", UR)] == t("admin.users.kind.pin", UR)
    assert [m.label for m in at.metric] == [t("admin.retention.due", UR), t("admin.retention.held", UR),
                                            t("admin.retention.purged", UR)]
    rule = t("admin.pin_rule", UR, low=accounts.PIN_MIN_DIGITS, high=accounts.PIN_MAX_DIGITS)
    assert at.radio(key="admin_new_kind").options == [t("admin.add.kind.password", UR),
                                                      t("admin.add.kind.pin", UR, rule=rule)]
    assert at.selectbox(key="admin_audit_action").options[0] == t("admin.audit.all", UR)
    assert english_left(at, ("admin.", "role.")) == []
    # a locked account chosen: its state line is in Urdu too
    at.selectbox(key="admin_user_chosen").set_value("sam").run()
    assert not at.exception, at.exception
    until = accounts.get_account(db, "sam").locked_until[:16].replace("T", " ")
    assert f"sam: {t('role.strategy_lead', UR)}; {t('admin.state.locked_until', UR, when=until)}" in [
        x.value for x in at.text]
    assert t("admin.sessions.none", UR) in [c.value for c in at.caption]
    assert english_left(at, ("admin.", "role.")) == []


def test_the_english_check_finds_english(db, boss, world):
    """The same page in English: english_left finds the texts the Urdu test says are absent."""
    at = run(ADMIN, boss, None)
    left = english_left(at, ("admin.", "role."))
    assert {"Admin", "Users", "Audit log", "Add account", "Due now", "Strategy lead"} <= set(left)
    assert [x.label for x in at.tabs] == ["Users", "Settings", "Erasure", "Retention", "Bundles", "Audit log"]
    assert "username" in at.dataframe[0].value.columns


def test_erasure_in_urdu_by_the_card_reference(db, boss, world):
    at = run(ADMIN, boss, UR)
    at.text_input(key="admin_erase_ref").input(world.reference)
    at.button(key="admin_erase_find").click().run()
    assert not at.exception, at.exception
    counts = erasure.preview(db, boss, world.respondent_id)
    before, _, after = t("admin.erase.found_card", UR).partition("{card}")
    filled = dict(respondent=session.md_escape(world.respondent_id), answers=counts["answers"],
                  codings=counts["codings"], flags=counts["flags"])
    assert [w.value for w in at.warning] == [f"{before.format(**filled)}**{world.reference}**{after.format(**filled)}"]
    assert "answer(s)" not in at.warning[0].value and counts["answers"] == 1
    erase = f"FormSubmitter:admin_erase_form-{t('admin.erase.button', UR)}"
    at.text_input(key="admin_erase_reason").input("Withdrew at the stall")
    at.button(key=erase).click().run()
    assert [e.value for e in at.error] == [t("admin.erase.tick", UR)]
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1
    at.checkbox(key="admin_erase_sure").check()
    at.button(key=erase).click().run()
    assert not at.exception, at.exception
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0
    tombstones = next(d.value for d in at.dataframe if t("admin.tombstones.col.reason", UR) in d.value.columns)
    assert "Withdrew at the stall" in list(tombstones[t("admin.tombstones.col.reason", UR)])


def test_add_an_account_in_urdu(db, boss):
    at = run(ADMIN, boss, UR)
    at.text_input(key="admin_new_username").input("pia")
    at.multiselect(key="admin_new_roles").set_value(["peer_researcher"])
    at.radio(key="admin_new_kind").set_value("pin")
    at.text_input(key="admin_new_secret").input("749305")
    at.text_input(key="admin_new_again").input("749306")
    add = f"FormSubmitter:admin_add_user-{t('admin.add.button', UR)}"
    at.button(key=add).click().run()
    assert [e.value for e in at.error] == [t("admin.add.differ", UR)]
    at.text_input(key="admin_new_secret").input("749305")
    at.text_input(key="admin_new_again").input("749305")
    at.button(key=add).click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [session.md_escape(t("admin.add.done.pin", UR, name="pia"))]
    assert accounts.sign_in(db, "pia", "749305").roles == {"peer_researcher"}


def test_settings_and_retention_in_urdu(db, boss, world):
    at = run(ADMIN, boss, UR)
    at.number_input(key="admin_idle").set_value(45)
    at.button(key=f"FormSubmitter:admin_settings_form-{t('admin.settings.save', UR)}").click().run()
    assert [s.value for s in at.success] == [session.md_escape(t("admin.settings.saved", UR))]
    assert settings.get_int(db, "idle_timeout_minutes") == 45
    status = retention.status(db, boss)
    assert t("admin.retention.on", UR, cutoff=status.cutoff[:10], days=1) in [m.value for m in at.markdown]
    at.button(key="admin_retention_apply").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [session.md_escape(t("admin.retention.done", UR, count=1))]


# --- home ----------------------------------------------------------------------------------------------------------

def test_home_in_urdu_for_a_safeguarding_lead_with_an_open_flag(db, boss, event):
    accounts.create_user(db, boss, "lee", PASSWORD, ["safeguarding_lead"])
    save_respondent(db, boss, event_id=event.id, group_id="young_person", consent=True,
                    answers={"thrive_helps": "my dad hits me when he's drunk"})
    lead = User("lee", frozenset({"safeguarding_lead"}))
    at = run(HOME, lead, UR)
    assert [x.value for x in at.title] == [t("home.title", UR)] != ["Thrive Voices"]
    assert [w.value for w in at.warning] == [t("home.flags_open", UR, count=1, overdue=0)]
    assert [x.value for x in at.subheader] == [t("home.your_pages", UR)]
    links = [x.value for x in at.text]  # run on its own, the page links are shown as text
    mine = [p for p in PAGES if p.url_path != "home" and (p.permission is None or lead.can(p.permission))]
    assert links == [f"{p.title_in(UR)}: /{p.url_path}" for p in mine] and mine
    assert [e.label for e in at.expander] == [t("home.change.expander", UR)]
    assert english_left(at, ("home.",)) == []
    change = f"FormSubmitter:home_change_secret-{t('home.change.button', UR)}"
    at.text_input(key="home_current_secret").input(PASSWORD)
    at.text_input(key="home_new_secret").input("another-password-1")
    at.text_input(key="home_new_again").input("another-password-2")
    at.button(key=change).click().run()
    assert [e.value for e in at.error] == [t("home.change.differ", UR)]
    at.text_input(key="home_current_secret").input(PASSWORD)
    at.text_input(key="home_new_secret").input("another-password-1")
    at.text_input(key="home_new_again").input("another-password-1")
    at.button(key=change).click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [t("home.change.done", UR)]
    assert accounts.sign_in(db, "lee", "another-password-1").username == "lee"


def test_home_in_english_is_unchanged(db, boss):
    demo = User("boss", frozenset({"admin"}), is_demo=True)
    at = run(HOME, demo, None)
    assert [x.value for x in at.title] == ["Thrive Voices"]
    assert [i.value for i in at.info] == ["You are using a demo account on demo data. Nothing here is real."]
    assert [e.label for e in at.expander] == ["Change your password or PIN"]
    assert f"New password (10+ characters) or PIN ({accounts.PIN_RULE})" in [x.label for x in at.text_input]
    assert {"Thrive Voices", "Your pages"} <= set(english_left(at, ("home.",)))
    urdu = run(HOME, demo, UR)
    assert [i.value for i in urdu.info] == [t("home.demo", UR)]
    assert english_left(urdu, ("home.",)) == []
