"""Accounts: argon2 hashing (no clear secret anywhere in the database file), lock-out with an injected clock and
under concurrent guessing, the app-wide throttle, PIN rules, admin unlock/reset/disable/roles, changing one's own
password, idle sign-out, first-run screen."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from data import accounts, open_db, settings
from data.accounts import AccountError, SignInError
from data.users import PermissionDenied, User
from ui import session

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PASSWORD = "correct-horse-battery"
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def first_admin(db):
    accounts.create_user(db, None, "ada", PASSWORD, ["admin"], display_name="Ada")
    return User("ada", frozenset({"admin"}), "Ada")


def _audit(db, action):
    return [dict(r) for r in db.query("SELECT * FROM audit WHERE action = ? ORDER BY id", [action])]


def test_secrets_are_hashed_and_never_in_the_database_file(db, db_path, first_admin):
    accounts.create_user(db, first_admin, "pia", "258013", ["peer_researcher"], kind="pin")
    for wrong in ("not-the-password-1", PASSWORD + "x"):
        with pytest.raises(SignInError):
            accounts.sign_in(db, "ada", wrong)
    with pytest.raises(SignInError):
        accounts.sign_in(db, PASSWORD, PASSWORD)  # password typed into the name box
    accounts.sign_in(db, "ada", PASSWORD)
    accounts.sign_in(db, "pia", "258013")
    hashes = [r[0] for r in db.execute("SELECT secret_hash FROM users")]
    assert all(h.startswith("$argon2id$") for h in hashes)
    db.conn.commit()
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    for secret in (PASSWORD, "not-the-password-1", PASSWORD + "x"):
        assert secret.encode() not in raw
    # a 4-digit PIN could occur by chance inside uuids or timestamps in the raw file: check every stored value
    for table in db.table_names():
        for row in db.execute(f"SELECT * FROM [{table}]"):
            assert "258013" not in [str(v) for v in row], table
    # nothing in the audit log carries a secret
    for (detail, target) in db.execute("SELECT detail, target_id FROM audit"):
        assert PASSWORD not in detail and PASSWORD not in (target or "")


def test_sign_in_returns_the_user_with_roles_and_audits(db, first_admin):
    user = accounts.sign_in(db, " ADA ", PASSWORD)
    assert user.username == "ada" and user.roles == {"admin"} and user.display_name == "Ada"
    assert _audit(db, "signed_in")[-1]["actor"] == "ada"


def test_wrong_secret_and_unknown_user_get_the_same_message(db, first_admin):
    with pytest.raises(SignInError) as wrong:
        accounts.sign_in(db, "ada", "nope-nope-nope")
    with pytest.raises(SignInError) as unknown:
        accounts.sign_in(db, "nobody", "nope-nope-nope")
    assert str(wrong.value) == str(unknown.value)
    failures = _audit(db, "sign_in_failed")
    assert [json.loads(f["detail"])["why"] for f in failures] == ["wrong secret", "unknown user"]


def test_lockout_after_five_failures_and_it_expires(db, first_admin):
    for i in range(accounts.MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(SignInError, match="don't match"):
            accounts.sign_in(db, "ada", "wrong-wrong-wrong", now=T0 + dt.timedelta(seconds=i))
    with pytest.raises(SignInError, match="locked"):
        accounts.sign_in(db, "ada", "wrong-wrong-wrong", now=T0 + dt.timedelta(seconds=10))
    # the right password does not help while locked
    with pytest.raises(SignInError, match="locked"):
        accounts.sign_in(db, "ada", PASSWORD, now=T0 + dt.timedelta(minutes=14))
    # after the lock-out period it works again, and the counter starts afresh
    user = accounts.sign_in(db, "ada", PASSWORD, now=T0 + dt.timedelta(minutes=16))
    assert user.username == "ada"
    assert accounts.get_account(db, "ada").locked_until is None


def test_success_resets_the_failure_count(db, first_admin):
    for _ in range(accounts.MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(SignInError):
            accounts.sign_in(db, "ada", "wrong-wrong-wrong", now=T0)
    accounts.sign_in(db, "ada", PASSWORD, now=T0)
    with pytest.raises(SignInError, match="don't match"):  # one more failure is not a lock-out
        accounts.sign_in(db, "ada", "wrong-wrong-wrong", now=T0)


def test_admin_unlocks_a_locked_account(db, first_admin):
    for _ in range(accounts.MAX_FAILED_ATTEMPTS):
        with pytest.raises(SignInError):
            accounts.sign_in(db, "ada", "wrong-wrong-wrong", now=T0)
    accounts.create_user(db, User("cli", frozenset({"admin"})), "bob", PASSWORD, ["admin"])
    accounts.unlock(db, User("bob", frozenset({"admin"})), "ada")
    assert accounts.sign_in(db, "ada", PASSWORD, now=T0).username == "ada"
    assert _audit(db, "user_unlocked")[-1]["target_id"] == "ada"


class CountingHasher(PasswordHasher):
    """The real argon2 hasher, counting how many secrets it checks (thread-safe)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.checks = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):  # noqa: A002 - argon2's own parameter name
        with self._lock:
            self.checks += 1
        return super().verify(hash, password)


def test_parallel_guesses_share_the_five_tries(db, db_path, first_admin, monkeypatch):
    """16 sessions (each its own connection) guessing one account at once: at most 5 secrets are checked."""
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", hasher)
    threads, guesses = 16, 4
    start = threading.Barrier(threads)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def guess(worker: int) -> None:
        conn = open_db(db_path, migrate=False)
        try:
            start.wait()
            for i in range(guesses):
                try:
                    accounts.sign_in(conn, "ada", f"wrong-guess-{worker}-{i}")
                    outcomes.append("signed in")
                except SignInError as exc:
                    outcomes.append("locked" if "more minute" in str(exc) else "wrong")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.conn.close()

    workers = [threading.Thread(target=guess, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    assert len(outcomes) == threads * guesses
    assert hasher.checks == accounts.MAX_FAILED_ATTEMPTS
    assert outcomes.count("wrong") == accounts.MAX_FAILED_ATTEMPTS
    assert outcomes.count("locked") == threads * guesses - accounts.MAX_FAILED_ATTEMPTS
    failures = [json.loads(f["detail"]) for f in _audit(db, "sign_in_failed")]
    assert sum(f["why"] == "wrong secret" for f in failures) == accounts.MAX_FAILED_ATTEMPTS
    assert accounts.get_account(db, "ada").locked_until is not None
    # and the right password is refused too until the lock-out ends
    with pytest.raises(SignInError, match="locked"):
        accounts.sign_in(db, "ada", PASSWORD)


def test_the_attempt_that_reaches_the_limit_locks_before_it_is_checked(db, first_admin, monkeypatch):
    """While the fifth guess is being verified, a sixth (another session) is already refused unchecked."""
    for i in range(accounts.MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(SignInError):
            accounts.sign_in(db, "ada", "wrong-wrong-wrong", now=T0 + dt.timedelta(seconds=i))
    seen: list[str | None] = []
    real_verify = accounts._verify

    def verify_while_another_session_tries(secret_hash, secret):
        seen.append(accounts.get_account(db, "ada").locked_until)
        with pytest.raises(SignInError, match="more minute"):
            accounts.sign_in(db, "ada", "another-guess-99", now=T0 + dt.timedelta(seconds=10))
        return real_verify(secret_hash, secret)

    monkeypatch.setattr(accounts, "_verify", verify_while_another_session_tries)
    user = accounts.sign_in(db, "ada", PASSWORD, now=T0 + dt.timedelta(seconds=10))
    assert seen and seen[0] is not None  # locked while in flight...
    assert user.username == "ada" and accounts.get_account(db, "ada").locked_until is None  # ...lifted by success


@pytest.fixture
def cheap_hashes(monkeypatch):
    """Fast argon2 parameters for tests that make dozens of attempts (the logic under test is the same)."""
    hasher = CountingHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    return hasher


def _fail(db, name, at, secret="wrong-wrong-wrong"):
    with pytest.raises(SignInError) as refused:
        accounts.sign_in(db, name, secret, now=at)
    return str(refused.value)


def test_throttle_across_accounts_slows_everyone_and_lifts_by_itself(db, first_admin, cheap_hashes):
    accounts.create_user(db, first_admin, "sam", PASSWORD, ["strategy_lead"])
    at = T0
    # a spray over many names (unknown ones count too), never more than 4 per account so no account locks
    for i in range(accounts.THROTTLE_THRESHOLD):
        at += dt.timedelta(seconds=1)
        assert "don't match" in _fail(db, f"user{i}", at)
    assert not _audit(db, "sign_in_throttled")
    assert accounts.sign_in(db, "sam", PASSWORD, now=at).username == "sam"  # 20 failures: not yet
    at += dt.timedelta(seconds=1)
    assert "don't match" in _fail(db, "nobody", at)  # the 21st engages the throttle
    engaged = _audit(db, "sign_in_throttled")
    assert len(engaged) == 1
    detail = json.loads(engaged[0]["detail"])
    assert detail["failures_in_window"] == accounts.THROTTLE_THRESHOLD + 1
    assert detail["delay_seconds"] == accounts.THROTTLE_BASE_DELAY_SECONDS
    # the right password on another account now waits its turn, and is not checked meanwhile
    checks = cheap_hashes.checks
    message = _fail(db, "sam", at + dt.timedelta(seconds=1), PASSWORD)
    assert "slowed down for everyone" in message and "1 second" in message
    assert cheap_hashes.checks == checks
    assert accounts.get_account(db, "sam").locked_until is None  # a throttled attempt costs the account nothing
    assert accounts.sign_in(db, "sam", PASSWORD, now=at + dt.timedelta(seconds=3)).username == "sam"
    # each further failure doubles the spacing: 22 failures -> 4 s
    at += dt.timedelta(seconds=10)
    _fail(db, "nobody", at)
    assert "4 second" in _fail(db, "sam", at, PASSWORD)
    assert "don't match" in _fail(db, "sam", at + dt.timedelta(seconds=4))
    assert len(_audit(db, "sign_in_throttled")) == 1  # engaging is audited once, not per attempt
    assert any(json.loads(f["detail"])["why"] == "throttled" for f in _audit(db, "sign_in_failed"))
    # an hour after the last failure the window is empty: no wait at all, and the lifting is audited
    later = at + dt.timedelta(minutes=accounts.THROTTLE_WINDOW_MINUTES, seconds=5)
    assert accounts.sign_in(db, "sam", PASSWORD, now=later).username == "sam"
    assert len(_audit(db, "sign_in_throttle_lifted")) == 1


def test_throttle_wait_is_capped_so_nobody_is_locked_out_for_good(db, first_admin, cheap_hashes):
    at = T0
    for i in range(accounts.THROTTLE_THRESHOLD + 12):  # 12 doublings would be 2**12 s uncapped
        at += dt.timedelta(seconds=accounts.THROTTLE_MAX_DELAY_SECONDS)
        _fail(db, f"user{i}", at)
    message = _fail(db, "ada", at, PASSWORD)
    assert f"{accounts.THROTTLE_MAX_DELAY_SECONDS} second" in message
    later = at + dt.timedelta(seconds=accounts.THROTTLE_MAX_DELAY_SECONDS)
    assert accounts.sign_in(db, "ada", PASSWORD, now=later).username == "ada"


def test_locked_and_throttled_refusals_do_not_feed_the_throttle(db, first_admin, cheap_hashes):
    for _ in range(accounts.MAX_FAILED_ATTEMPTS):
        _fail(db, "ada", T0)
    for _ in range(accounts.THROTTLE_THRESHOLD * 2):
        assert "locked" in _fail(db, "ada", T0)
    assert db.execute("SELECT COUNT(*) FROM signin_failures").fetchone()[0] == accounts.MAX_FAILED_ATTEMPTS
    assert not _audit(db, "sign_in_throttled")


def test_a_four_digit_pin_issued_before_keeps_working(db, first_admin):
    accounts.create_user(db, first_admin, "pia", "258013", ["peer_researcher"], kind="pin")
    db.execute("UPDATE users SET secret_hash = ? WHERE username = 'pia'", [PasswordHasher().hash("2580")])
    db.conn.commit()
    assert accounts.sign_in(db, "pia", "2580").username == "pia"
    assert json.loads(_audit(db, "signed_in")[-1]["detail"]) == {"short_pin": True}  # admins can see whom to re-issue
    with pytest.raises(AccountError, match="6 to 12 digits"):
        accounts.reset_secret(db, first_admin, "pia", "4826")
    assert accounts.reset_secret(db, first_admin, "pia", "48261937").secret_kind == "pin"  # longer PINs allowed
    assert accounts.sign_in(db, "pia", "48261937").username == "pia"
    assert json.loads(_audit(db, "signed_in")[-1]["detail"]) == {}


@pytest.mark.parametrize("pin", ["123456", "000000", "654321", "9876543", "121212", "123123", "505050", "112233",
                                 "159753", "2580", "12345", "1234567890123", "12a456", "", "48 2193"])
def test_weak_or_malformed_pins_are_refused(db, first_admin, pin):
    with pytest.raises(AccountError):
        accounts.create_user(db, first_admin, "pia", pin, ["peer_researcher"], kind="pin")
    assert db.execute("SELECT COUNT(*) FROM users WHERE username = 'pia'").fetchone()[0] == 0


def test_pin_only_for_peer_researchers(db, first_admin):
    with pytest.raises(AccountError, match="PIN can only"):
        accounts.create_user(db, first_admin, "olu", "258013", ["peer_researcher", "engagement_officer"], kind="pin")
    accounts.create_user(db, first_admin, "pia", "258013", ["peer_researcher"], kind="pin")
    with pytest.raises(AccountError, match="PIN can only"):
        accounts.set_roles(db, first_admin, "pia", ["strategy_lead"])
    assert accounts.sign_in(db, "pia", "258013").roles == {"peer_researcher"}


def test_the_first_account_must_be_an_admin(db):
    with pytest.raises(AccountError, match="first account"):
        accounts.create_user(db, None, "sam", PASSWORD, ["strategy_lead"])
    assert not accounts.has_admin(db)


def test_short_password_refused(db):
    with pytest.raises(AccountError, match="10 characters"):
        accounts.create_user(db, None, "ada", "short", ["admin"])


def test_only_the_first_admin_may_be_created_without_an_actor(db, first_admin):
    with pytest.raises(PermissionDenied):
        accounts.create_user(db, None, "eve", PASSWORD, ["admin"])
    with pytest.raises(PermissionDenied):
        accounts.create_user(db, User("olu", frozenset({"engagement_officer"})), "eve", PASSWORD, ["admin"])
    with pytest.raises(AccountError, match="taken"):
        accounts.create_user(db, first_admin, "ADA", PASSWORD, ["admin"])


def test_disable_stops_sign_in_and_enable_restores_it(db, first_admin):
    accounts.create_user(db, first_admin, "sam", PASSWORD, ["strategy_lead"])
    accounts.set_disabled(db, first_admin, "sam", True)
    with pytest.raises(SignInError, match="switched off"):
        accounts.sign_in(db, "sam", PASSWORD)
    assert accounts.current_user(db, User("sam", frozenset({"strategy_lead"}))) is None
    accounts.set_disabled(db, first_admin, "sam", False)
    assert accounts.sign_in(db, "sam", PASSWORD).username == "sam"


def test_the_last_admin_cannot_be_disabled_or_demoted(db, first_admin):
    with pytest.raises(AccountError, match="only enabled admin"):
        accounts.set_disabled(db, first_admin, "ada", True)
    with pytest.raises(AccountError, match="only enabled admin"):
        accounts.set_roles(db, first_admin, "ada", ["strategy_lead"])
    accounts.create_user(db, first_admin, "bob", PASSWORD, ["admin"])
    accounts.set_roles(db, first_admin, "ada", ["strategy_lead", "safeguarding_lead"])
    assert accounts.get_account(db, "ada").roles == ("safeguarding_lead", "strategy_lead")
    assert accounts.current_user(db, User("ada", frozenset({"admin"}))).roles == {"strategy_lead", "safeguarding_lead"}
    detail = json.loads(_audit(db, "roles_changed")[-1]["detail"])
    assert detail == {"before": ["admin"], "after": ["safeguarding_lead", "strategy_lead"]}


def test_reset_secret_issues_a_new_one_and_unlocks(db, first_admin):
    accounts.create_user(db, first_admin, "pia", "258013", ["peer_researcher"], kind="pin")
    for _ in range(accounts.MAX_FAILED_ATTEMPTS):
        with pytest.raises(SignInError):
            accounts.sign_in(db, "pia", "999999")
    accounts.reset_secret(db, first_admin, "pia", "864213")
    with pytest.raises(SignInError):
        accounts.sign_in(db, "pia", "258013")
    assert accounts.sign_in(db, "pia", "864213").username == "pia"
    assert "864213" not in json.dumps(_audit(db, "secret_reset"))


def test_account_management_needs_an_admin(db, first_admin, officer, lead):
    accounts.create_user(db, first_admin, "sam", PASSWORD, ["strategy_lead"])
    before = db.execute("SELECT * FROM users ORDER BY username").fetchall()
    for actor in (officer, lead, None):
        for call in (lambda a: accounts.unlock(db, a, "sam"), lambda a: accounts.set_disabled(db, a, "sam"),
                     lambda a: accounts.set_roles(db, a, "sam", ["admin"]),
                     lambda a: accounts.reset_secret(db, a, "sam", "another-password-1"),
                     lambda a: accounts.list_accounts(db, a)):
            with pytest.raises(PermissionDenied):
                call(actor)
    assert db.execute("SELECT * FROM users ORDER BY username").fetchall() == before


def test_change_own_password(db, first_admin):
    with pytest.raises(AccountError, match="not right"):
        accounts.change_own_secret(db, first_admin, "wrong-current-1", "brand-new-password")
    with pytest.raises(AccountError, match="10 characters"):
        accounts.change_own_secret(db, first_admin, PASSWORD, "short")
    accounts.change_own_secret(db, first_admin, PASSWORD, "brand-new-password")
    with pytest.raises(SignInError):
        accounts.sign_in(db, "ada", PASSWORD)
    assert accounts.sign_in(db, "ada", "brand-new-password").username == "ada"


def test_is_idle():
    assert session.is_idle(1000.0, 1000.0 + 15 * 60 + 1, 15 * 60)
    assert not session.is_idle(1000.0, 1000.0 + 15 * 60 - 1, 15 * 60)
    assert not session.is_idle(None, 5000.0, 60)


def _app(user: User, last_seen: float) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state[session.USER_KEY] = user
    at.session_state[session.LAST_SEEN_KEY] = last_seen
    return at


def test_idle_session_is_signed_out(db, first_admin):
    at = _app(first_admin, time.time() - 16 * 60)  # default idle time is 15 minutes
    at.run()
    assert not at.exception
    assert session.USER_KEY not in at.session_state
    assert any("inactivity" in i.value for i in at.info)
    assert [b.label for b in at.button] == ["Sign in"]


def test_active_session_stays_signed_in_and_idle_time_is_configurable(db, first_admin):
    at = _app(first_admin, time.time() - 10 * 60)
    at.run()
    assert at.session_state[session.USER_KEY].username == "ada"
    assert any(b.label == "Sign out" for b in at.sidebar.button)
    settings.put(db, first_admin, "idle_timeout_minutes", "5")
    at = _app(first_admin, time.time() - 6 * 60)
    at.run()
    assert session.USER_KEY not in at.session_state


def test_disabled_account_is_signed_out_on_next_run(db, first_admin):
    accounts.create_user(db, first_admin, "sam", PASSWORD, ["strategy_lead"])
    at = _app(User("sam", frozenset({"strategy_lead"})), time.time())
    at.run()
    assert at.session_state[session.USER_KEY].username == "sam"
    accounts.set_disabled(db, first_admin, "sam")
    # the same signed-in session, next run (AppTest does not rerun file pages, so a fresh run carries the state)
    at = _app(at.session_state[session.USER_KEY], at.session_state[session.LAST_SEEN_KEY])
    at.run()
    assert session.USER_KEY not in at.session_state
    assert [b.label for b in at.button] == ["Sign in"]


def test_first_run_screen_creates_the_first_admin(db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert any("no admin account" in m.value for m in at.markdown)
    inputs = at.text_input
    inputs[0].input("ada")
    inputs[2].input("short")
    inputs[3].input("short")
    at.button[0].click().run()
    assert any("10 characters" in e.value for e in at.error)
    assert not accounts.has_admin(db)
    inputs = at.text_input
    inputs[0].input("ada")
    inputs[2].input(PASSWORD)
    inputs[3].input(PASSWORD)
    at.button[0].click().run()
    assert accounts.has_admin(db)
    assert accounts.get_account(db, "ada").roles == ("admin",)
    # now the sign-in form shows, and signing in works through it
    assert [b.label for b in at.button] == ["Sign in"]
    at.text_input[0].input("ada")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state[session.USER_KEY].username == "ada"


def test_sign_in_form_refuses_a_wrong_password(db, first_admin):
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.text_input[0].input("ada")
    at.text_input[1].input("wrong-wrong-wrong")
    at.button[0].click().run()
    assert session.USER_KEY not in at.session_state
    assert any("don't match" in e.value for e in at.error)


def _cli(db_path, *args, input=None):
    from cli import cli

    return CliRunner().invoke(cli, [*args, "--db", str(db_path)], input=input, catch_exceptions=False)


def test_cli_users_commands(db, db_path, first_admin):
    result = _cli(db_path, "users", "add", "pia", "--role", "peer_researcher", "--pin", input="258013\n258013\n")
    assert result.exit_code == 0, result.output
    listing = json.loads(_cli(db_path, "users", "list", "--json").output)
    assert {a["username"]: a["roles"] for a in listing} == {"ada": ["admin"], "pia": ["peer_researcher"]}
    assert "hash" not in json.dumps(listing)
    assert _cli(db_path, "users", "set-roles", "pia", "--role", "strategy_lead").exit_code == 1  # PIN account
    _cli(db_path, "users", "add", "sam", "--role", "strategy_lead", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert _cli(db_path, "users", "set-roles", "sam", "--role", "strategy_lead", "--role", "safeguarding_lead"
                ).exit_code == 0
    assert accounts.get_account(db, "sam").roles == ("safeguarding_lead", "strategy_lead")
    for _ in range(accounts.MAX_FAILED_ATTEMPTS):
        with pytest.raises(SignInError):
            accounts.sign_in(db, "sam", "wrong-wrong-wrong")
    assert "locked" in _cli(db_path, "users", "list").output
    assert _cli(db_path, "users", "unlock", "sam").exit_code == 0
    assert accounts.get_account(db, "sam").locked_until is None
    assert _cli(db_path, "users", "disable", "sam").exit_code == 0
    assert accounts.get_account(db, "sam").disabled
    assert _cli(db_path, "users", "disable", "sam", "--enable").exit_code == 0
    assert not accounts.get_account(db, "sam").disabled
    assert _cli(db_path, "users", "reset", "pia", input="864213\n864213\n").exit_code == 0
    assert accounts.sign_in(db, "pia", "864213").username == "pia"
    weak = _cli(db_path, "users", "reset", "pia", input="111111\n111111\n")
    assert weak.exit_code == 1 and "too easy" in weak.output
    missing = _cli(db_path, "users", "unlock", "nobody")
    assert missing.exit_code == 1 and "No account" in missing.output
