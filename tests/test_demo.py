"""The demo data set: its corpus, what load_demo puts in a database, idempotence, determinism and `cli.py demo`."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter, defaultdict

import pytest
from click.testing import CliRunner

from cli import cli
from data import open_db
from data.accounts import SignInError, create_user, sign_in
from data.demo import ANSWERS_CSV, DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_PIN, EVENTS, DemoError, load_demo, read_answers
from data.users import PermissionDenied, User
from surveys import bundled

STARTER = {r["code"]: r["parent"] for r in csv.DictReader(
    (ANSWERS_CSV.parent.parent.parent / "analysis" / "resources" / "starter_codebook.csv").open(encoding="utf-8"))}
#: Plain first-person disclosures in the corpus that any disclosure check must send to the safeguarding queue.
CLEAR_DISCLOSURES = (
    "my dad hits me when hes drunk",
    "sometimes im scared to go home",
    "my mums boyfriend hurts me n my sister when shes out",
    "i cut myself when its bad at home, the school nurse helps me",
)


def snapshot(db) -> list[tuple]:
    """Everything about the loaded answers that must not depend on random ids."""
    codes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for response_id, coder, name in db.execute(
            "SELECT c.response_id, c.coder, k.name FROM codings c JOIN codes k ON k.id = c.code_id"):
        codes[(response_id, coder)].append(name)
    rows = db.execute(
        "SELECT r.id, e.name, r.question_id, p.group_id, r.text, r.redacted_text, r.created_at, p.profile, p.language, "
        "p.created_at FROM responses r JOIN respondents p ON p.id = r.respondent_id JOIN events e ON e.id = r.event_id"
    ).fetchall()
    return sorted((*row[1:], tuple(sorted(codes[(row[0], "demo_officer")])),
                   tuple(sorted(codes[(row[0], "demo_officer2")]))) for row in rows)


def counts(db) -> dict[str, int]:
    tables = ("events", "respondents", "responses", "codes", "codings", "flags", "flag_history", "users", "memos",
              "pinned_quotes", "agreement_samples", "agreement_sample_items", "audit", "settings")
    return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """One database with the demo loaded, shared by the read-only tests below."""
    database = open_db(tmp_path_factory.mktemp("demo") / "demo.db")
    result = load_demo(database)
    yield database, result
    database.conn.close()


# --- the corpus ---------------------------------------------------------------------------------------------------

def test_corpus_rows_are_valid_post_its_coded_with_starter_sub_codes():
    qs = bundled("thrive")
    answers = read_answers()
    assert 450 <= len(answers) <= 600
    assert {a.question for a in answers} == {q.id for q in qs.questions}
    assert {a.group for a in answers} == {g.id for g in qs.groups}
    for a in answers:
        assert 1 <= len(a.codes) <= 3, a
        assert all(STARTER.get(c) for c in a.codes), f"{a.text!r}: {a.codes} are not all starter sub-codes"
        assert 1 <= len(a.text.split()) <= 25 and a.text == a.text.strip(), a.text
    # Codes fit the question: "what is neglect" answers mostly name a neglect category of the definition...
    used = [c for a in answers if a.question == "neglect_is" for c in a.codes]
    assert sum(c.endswith("_neglect") for c in used) / len(used) >= 0.7
    # ...and the themes are not the questions: most themes are raised in answers to two questions or more.
    questions_of = defaultdict(set)
    for a in answers:
        for c in a.codes:
            questions_of[STARTER[c]].add(a.question)
    assert sum(len(qs) >= 2 for qs in questions_of.values()) >= len(questions_of) / 2
    assert sum(a.language == "ur" for a in answers) >= 5
    assert all(t in {a.text for a in answers} for t in CLEAR_DISCLOSURES)


# --- what load_demo stores ----------------------------------------------------------------------------------------

def test_demo_loads_events_respondents_and_answers(demo_db):
    db, result = demo_db
    assert result.loaded and result.answers == len(read_answers())
    events = db.execute("SELECT name, venue, date, status FROM events ORDER BY date").fetchall()
    assert [e[0] for e in events] == [e.name for e in EVENTS]
    assert all(e[1] and e[2].startswith("2026-1") for e in events)
    assert [e[3] for e in events] == ["closed"] * 4 + ["open"]  # the last one is open so Collect has an event
    per_respondent = [n for (n,) in db.execute("SELECT COUNT(*) FROM responses GROUP BY respondent_id")]
    assert 200 <= len(per_respondent) <= 400 and min(per_respondent) >= 1 and max(per_respondent) <= 4
    cells = Counter(db.execute("SELECT r.question_id, p.group_id FROM responses r "
                               "JOIN respondents p ON p.id = r.respondent_id").fetchall())
    assert len({q for q, _ in cells}) == 4 and len({g for _, g in cells}) == 9
    assert any(n < 5 for n in cells.values()), "some cells must be small so '<5' suppression shows"
    # Urdu answers belong to respondents recorded in Urdu; some respondents gave profile answers.
    for language, text in db.execute("SELECT p.language, r.text FROM responses r "
                                     "JOIN respondents p ON p.id = r.respondent_id"):
        assert (language == "ur") == any("\u0600" <= ch <= "\u06ff" for ch in text), text
    profiles = [json.loads(p) for (p,) in db.execute("SELECT profile FROM respondents")]
    assert any("age_band" in p for p in profiles) and any("ward" in p for p in profiles)
    # Timestamps are on the event days, not the moment of loading.
    for date, created in db.execute("SELECT e.date, r.created_at FROM responses r JOIN events e ON e.id = r.event_id"):
        assert dt.datetime.fromisoformat(created).date().isoformat() == date


def test_demo_answers_went_through_redaction(demo_db):
    db, _ = demo_db
    text, redacted = db.execute("SELECT text, redacted_text FROM responses WHERE text LIKE '%07700 900461%'").fetchone()
    assert "07700 900461" in text and "07700 900461" not in redacted and "[phone]" in redacted
    text, redacted = db.execute("SELECT text, redacted_text FROM responses WHERE text LIKE '%DY5 3QT%'").fetchone()
    assert "DY5 3QT" not in redacted


def test_demo_codebook_and_two_coders(demo_db):
    db, result = demo_db
    names = {n for (n,) in db.execute("SELECT name FROM codes")}
    assert set(STARTER) <= names
    total = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    coded = {c: n for c, n in db.execute("SELECT coder, COUNT(DISTINCT response_id) FROM codings GROUP BY coder")}
    assert set(coded) == {"demo_officer", "demo_officer2"}
    assert 0.70 <= coded["demo_officer"] / total <= 0.80
    assert 50 <= coded["demo_officer2"] <= 70
    assert {s for (s,) in db.execute("SELECT DISTINCT source FROM codings")} == {"human"}
    # The officer's codes are the corpus labels.
    labels = {(a.question, a.text): set(a.codes) for a in read_answers()}
    officer: dict[str, set[str]] = defaultdict(set)
    texts = {}
    for rid, question, text, name in db.execute(
            "SELECT r.id, r.question_id, r.text, k.name FROM codings c JOIN codes k ON k.id = c.code_id "
            "JOIN responses r ON r.id = c.response_id WHERE c.coder = 'demo_officer'"):
        officer[rid].add(name)
        texts[rid] = (question, text)
    assert all(officer[rid] == labels[texts[rid]] for rid in officer)
    # The second coder's answers are a stored sample the officer also coded, spread over all four questions,
    # and the two mostly agree but not always.
    sample = [rid for (rid,) in db.execute("SELECT response_id FROM agreement_sample_items")]
    second: dict[str, set[str]] = defaultdict(set)
    for rid, name in db.execute("SELECT c.response_id, k.name FROM codings c JOIN codes k ON k.id = c.code_id "
                                "WHERE c.coder = 'demo_officer2'"):
        second[rid].add(name)
    assert set(sample) == set(second) and set(second) <= set(officer)
    assert len({texts[rid][0] for rid in second}) == 4
    same = sum(second[rid] == officer[rid] for rid in second)
    assert 0.5 * len(second) <= same < len(second)
    assert result.double_coded == len(sample)


def test_demo_flags_raised_through_the_save_path(demo_db):
    db, result = demo_db
    flagged = {text for (text,) in db.execute(
        "SELECT r.text FROM flags f JOIN responses r ON r.id = f.response_id WHERE f.kind = 'auto'")}
    for text in CLEAR_DISCLOSURES:
        assert text in flagged, f"{text!r} did not reach the safeguarding queue"
    manual = db.execute("SELECT reason, respondent_id FROM flags WHERE kind = 'manual'").fetchall()
    assert len(manual) == 1 and "worried" in manual[0][0]
    assert result.flags_auto == len(db.execute("SELECT id FROM flags WHERE kind = 'auto'").fetchall())
    assert db.execute("SELECT COUNT(*) FROM flag_history").fetchone()[0] >= result.flags_auto + 1


def test_demo_pins_memos_and_accounts(demo_db):
    db, result = demo_db
    pinned = db.execute("SELECT p.code_id, p.response_id FROM pinned_quotes p").fetchall()
    assert len(pinned) >= 2
    for code_id, response_id in pinned:  # a pinned quote is an answer coded with that code
        assert db.execute("SELECT 1 FROM codings WHERE code_id = ? AND response_id = ?", [code_id, response_id]).fetchone()
    assert db.execute("SELECT COUNT(*) FROM memos").fetchone()[0] >= 1
    users = {u: (json.loads(roles), is_demo, display) for u, roles, is_demo, display in
             db.execute("SELECT username, roles, is_demo, display_name FROM users")}
    assert set(users) == {a.username for a in DEMO_ACCOUNTS} == set(result.accounts_created)
    assert all(is_demo == 1 and display.startswith("Demo ") for _, is_demo, display in users.values())
    assert users["demo_officer2"][0] == ["engagement_officer"] and users["demo_safeguarding"][0] == ["safeguarding_lead"]
    assert sign_in(db, "demo_lead", DEMO_PASSWORD).roles == {"strategy_lead"}
    assert sign_in(db, "demo_researcher", DEMO_PIN).is_demo
    with pytest.raises(SignInError):
        sign_in(db, "demo_admin", "not-the-password")


# --- idempotent and deterministic -----------------------------------------------------------------------------------

def test_loading_twice_adds_nothing(db):
    first = load_demo(db)
    before = counts(db)
    second = load_demo(db)
    assert first.loaded and not second.loaded
    assert any("demo data already loaded" in note for note in second.notes)
    assert counts(db) == before
    assert second.answers == first.answers and second.codings == first.codings


def test_same_seed_same_data_in_two_fresh_databases(tmp_path):
    one, two, other = (open_db(tmp_path / f"{name}.db") for name in ("one", "two", "other"))
    load_demo(one)
    load_demo(two)
    load_demo(other, seed=7)
    assert snapshot(one) == snapshot(two)
    ids = lambda d: {r for (r,) in d.execute("SELECT id FROM responses")}  # noqa: E731
    assert not ids(one) & ids(two)  # fresh UUIDs each time: the equality above is about content
    # Another seed: the same answers and labels, gathered into different respondents and times.
    assert sorted(r[1:5] for r in snapshot(one)) == sorted(r[1:5] for r in snapshot(other))
    assert snapshot(one) != snapshot(other)


# --- real accounts and permissions ----------------------------------------------------------------------------------

def test_database_with_real_accounts_gets_data_but_no_demo_accounts_unless_asked(db):
    create_user(db, None, "ruth_admin", "password123456", ["admin"])
    with pytest.raises(DemoError):
        load_demo(db)  # nobody acting, but the database has accounts
    with pytest.raises(PermissionDenied):
        load_demo(db, User("olu", frozenset({"engagement_officer"})))
    admin = User("ruth_admin", frozenset({"admin"}))
    result = load_demo(db, admin)
    assert result.loaded and result.accounts_created == [] and "real account" in result.accounts_note
    assert db.execute("SELECT COUNT(*) FROM users WHERE is_demo = 1").fetchone()[0] == 0
    answers = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    again = load_demo(db, admin, accounts_wanted=True)
    assert not again.loaded and len(again.accounts_created) == len(DEMO_ACCOUNTS)
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == answers
    assert db.execute("SELECT is_demo FROM users WHERE username = 'ruth_admin'").fetchone()[0] == 0


# --- the command line -----------------------------------------------------------------------------------------------

def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_demo_loads_prints_sign_in_and_is_idempotent(tmp_path):
    path = tmp_path / "cli.db"
    first = run("demo", "--db", str(path))
    assert first.exit_code == 0, first.output
    assert "Loaded the demo data set" in first.output and "for demonstrations only" in first.output
    assert "demo_researcher" in first.output and DEMO_PIN in first.output and DEMO_PASSWORD in first.output
    second = run("demo", "--db", str(path))
    assert second.exit_code == 0 and "already loaded" in second.output.lower()
    quiet = run("demo", "--if-empty", "--db", str(path))
    assert quiet.exit_code == 0 and quiet.output == ""
    database = open_db(path)
    assert database.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == len(read_answers())
    database.conn.close()


def test_cli_demo_if_empty_loads_an_empty_database_and_no_accounts_flag(tmp_path):
    path = tmp_path / "empty.db"
    result = run("demo", "--if-empty", "--no-accounts", "--db", str(path))
    assert result.exit_code == 0 and "Loaded the demo data set" in result.output
    assert "demo-password-1" not in result.output
    database = open_db(path)
    assert database.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    assert database.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == len(read_answers())
    database.conn.close()
