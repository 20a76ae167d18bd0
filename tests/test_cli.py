"""The command line: init, import, events and stats, each with --db; THRIVE_DB as the fallback; a database that
is busy, full, read-only or damaged ends a command with one plain line."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from cli import cli


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_init_creates_and_is_idempotent(tmp_path):
    path = tmp_path / "x.db"
    first = run("init", "--db", str(path))
    assert first.exit_code == 0 and "0001_capture" in first.output
    second = run("init", "--db", str(path))
    assert second.exit_code == 0
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0] >= 3


def test_db_option_wins_over_environment(tmp_path):
    env_db, option_db = tmp_path / "env.db", tmp_path / "option.db"
    run("events", "create", "From env", "--date", "2026-11-01", env={"THRIVE_DB": str(env_db)})
    run("events", "create", "From option", "--date", "2026-11-02", "--db", str(option_db),
        env={"THRIVE_DB": str(env_db)})
    names = lambda p: [r[0] for r in sqlite3.connect(p).execute("SELECT name FROM events")]  # noqa: E731
    assert names(env_db) == ["From env"] and names(option_db) == ["From option"]


def test_import_then_stats_and_events(tmp_path):
    path = tmp_path / "x.db"
    source = tmp_path / "answers.csv"
    source.write_text("id,question,group,text\n1,thrive_helps,young_person,fam\n2,thrive_helps,resident,parks\n"
                      "3,neglect_is,resident,no food\n", encoding="utf-8")
    result = run("import", "responses", str(source), "--event", "Market day", "--db", str(path))
    assert result.exit_code == 0 and "3 answers added" in result.output
    again = run("import", "responses", str(source), "--event", "Market day", "--db", str(path))
    assert "0 answers added" in again.output and "3 already imported" in again.output
    stats = json.loads(run("stats", "--json", "--db", str(path)).output)
    assert stats["rows"]["thrive_helps"] == {"young_person": 1, "resident": 1}
    assert stats["answers"] == 3
    listed = json.loads(run("events", "list", "--json", "--db", str(path)).output)
    assert [e["name"] for e in listed] == ["Market day"]
    closed = run("events", "close", "Market day", "--db", str(path))
    assert closed.exit_code == 0
    assert json.loads(run("events", "list", "--json", "--db", str(path)).output)[0]["status"] == "closed"


def test_bad_import_exits_non_zero_naming_rows(tmp_path):
    path = tmp_path / "x.db"
    source = tmp_path / "bad.csv"
    source.write_text("id,question,group,text\n1,thrive_helps,young_person,fine\n2,nope,young_person,x\n",
                      encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "responses", str(source), "--db", str(path)])
    assert result.exit_code == 1
    assert "row 3, column 'question'" in result.output
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0


# --- a database that is busy, full, read-only or damaged: one plain line on stderr, exit 1, no traceback ---------

def _connect_then(monkeypatch, *pragmas_for):
    """Make every connection the CLI opens run extra statements (as a full disk or a read-only mount would act)."""
    import data.db

    real = data.db.connect

    def connect(path):
        db = real(path)
        for make in pragmas_for:
            db.execute(make(db))
        return db

    monkeypatch.setattr(data.db, "connect", connect)


def _assert_one_plain_line(result, *words):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert "Traceback" not in result.output and "sqlite3" not in result.output and ".py" not in result.output
    assert result.stdout == ""


def _csv(tmp_path, rows: int):
    source = tmp_path / "many.csv"
    source.write_text("id,question,group,text\n" + "".join(
        f"{i},thrive_helps,young_person,the youth club on friday number {i} with a longer answer\n"
        for i in range(rows)), encoding="utf-8")
    return source


def test_cli_on_a_locked_database(tmp_path, monkeypatch):
    import config

    path = tmp_path / "x.db"
    assert run("init", "--db", str(path)).exit_code == 0
    monkeypatch.setattr(config, "BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")  # an import in another window holds the write lock
    try:
        result = CliRunner().invoke(cli, ["events", "create", "Fair", "--date", "2026-11-01", "--db", str(path)],
                                    catch_exceptions=False)
    finally:
        holder.rollback()
    _assert_one_plain_line(result, "busy", "try again")
    assert str(path) not in result.output


def test_cli_on_a_full_database(tmp_path, monkeypatch):
    path = tmp_path / "x.db"
    assert run("init", "--db", str(path)).exit_code == 0
    # the file may not grow by a single page: what SQLite reports when the disk is full
    _connect_then(monkeypatch, lambda db: f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    result = CliRunner().invoke(cli, ["import", "responses", str(_csv(tmp_path, 500)), "--event", "Fair",
                                      "--db", str(path)], catch_exceptions=False)
    _assert_one_plain_line(result, "full")
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0


def test_cli_on_a_read_only_database(tmp_path, monkeypatch):
    path = tmp_path / "x.db"
    assert run("init", "--db", str(path)).exit_code == 0
    _connect_then(monkeypatch, lambda db: "PRAGMA query_only = 1")  # refuses writes even to root, unlike chmod
    result = CliRunner().invoke(cli, ["events", "create", "Fair", "--date", "2026-11-01", "--db", str(path)],
                                catch_exceptions=False)
    _assert_one_plain_line(result, "read-only")
    monkeypatch.undo()
    assert json.loads(run("events", "list", "--json", "--db", str(path)).output) == []


def test_cli_on_a_read_only_file(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes to a 0444 file anyway; test_cli_on_a_read_only_database covers this case as root")
    path = tmp_path / "x.db"
    assert run("init", "--db", str(path)).exit_code == 0
    for p in tmp_path.glob("x.db*"):
        p.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        result = CliRunner().invoke(cli, ["events", "create", "Fair", "--date", "2026-11-01", "--db", str(path)],
                                    catch_exceptions=False)
    finally:
        tmp_path.chmod(0o755)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


def test_cli_on_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("shopping list: " * 200, encoding="utf-8")
    _assert_one_plain_line(run("stats", "--db", str(path)), "not a Thrive Voices database")


def test_cli_other_errors_are_not_hidden(tmp_path, monkeypatch):
    import data.stats

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("no such column: answer")

    monkeypatch.setattr(data.stats, "answers_by_question_and_group", broken)
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        run("stats", "--db", str(tmp_path / "x.db"))


def test_events_create_refuses_a_duplicate_of_an_open_event(tmp_path):
    path = str(tmp_path / "x.db")
    assert run("events", "create", "Summer fair", "--date", "2026-07-04", "--db", path).exit_code == 0
    twin = run("events", "create", " summer  fair ", "--date", "2026-07-04", "--db", path)
    assert twin.exit_code == 1 and "already an open event called “Summer fair”" in twin.output
    assert run("events", "create", "Summer fair", "--date", "2026-07-05", "--db", path).exit_code == 0
    names = [r[0] for r in sqlite3.connect(path).execute("SELECT date FROM events ORDER BY date")]
    assert names == ["2026-07-04", "2026-07-05"]
    # a closed event's name and date may be used again
    event_id = sqlite3.connect(path).execute("SELECT id FROM events WHERE date = '2026-07-04'").fetchone()[0]
    assert run("events", "close", event_id, "--db", path).exit_code == 0
    assert run("events", "create", "Summer fair", "--date", "2026-07-04", "--db", path).exit_code == 0


def test_stats_counts_post_its_apart_from_people(db, db_path, researcher, officer, event):
    from data import capture

    capture.save_respondent(db, researcher, event_id=event.id, group_id="young_person", consent=True,
                            answers={"thrive_helps": ["parks", "youth club"]})
    for text in ("more buses", "safe parks", "free wifi"):
        capture.add_transcribed(db, officer, event_id=event.id, question_id="thrive_helps", group_id="resident",
                                text=text)
    table = json.loads(run("stats", "--json", "--db", str(db_path)).output)
    assert (table["respondents"], table["postits"], table["answers"]) == (1, 3, 5)
    assert table["rows"]["thrive_helps"] == {"young_person": 2, "resident": 3}
    text = run("stats", "--db", str(db_path)).output
    assert "1 person, 3 transcribed post-it(s) (anonymous, not people), 5 answers" in text
    counts = capture.event_counts(db, researcher, event.id)
    assert (counts.respondents, counts.postits, counts.answers, counts.respondents_today) == (1, 3, 5, 1)


def test_report_takes_its_title_and_author_from_the_settings(tmp_path, admin):
    from docx import Document

    from data import open_db
    from data import settings as app_settings

    path = tmp_path / "x.db"
    db = open_db(path)
    app_settings.put(db, admin, "report_title", "Dudley voices 2026")
    app_settings.put(db, admin, "report_author", "Dudley Safeguarding Children Partnership")
    db.conn.close()
    out = tmp_path / "report.docx"
    result = run("report", str(out), "--db", str(path))
    assert result.exit_code == 0, result.output
    props = Document(str(out)).core_properties
    assert props.title == "Dudley voices 2026"
    assert props.author == "Dudley Safeguarding Children Partnership"


def test_export_qdpx_with_a_filter_carries_only_the_kept_answers_memos(tmp_path):
    import zipfile

    from data import open_db

    path = tmp_path / "x.db"
    source = tmp_path / "answers.csv"
    source.write_text("id,question,group,text\n1,thrive_helps,young_person,the youth club on fridays\n"
                      "2,neglect_is,resident,nobody checks they have eaten\n", encoding="utf-8")
    assert run("import", "responses", str(source), "--event", "Market day", "--db", str(path)).exit_code == 0
    db = open_db(path)
    ids = dict(db.execute("SELECT question_id, id FROM responses").fetchall())
    with db.conn:
        for question, note in (("thrive_helps", "memo on the club answer"), ("neglect_is", "memo on the food answer")):
            db.execute("INSERT INTO memos (target_type, target_id, author, text, created_at, updated_at) VALUES "
                       "('response', ?, 'olu', ?, '2026-11-30T10:00:00', '2026-11-30T10:00:00')", [ids[question], note])
    db.conn.close()
    out = tmp_path / "p.qdpx"
    result = run("export", "qdpx", str(out), "--question", "thrive_helps", "--db", str(path))
    assert result.exit_code == 0, result.output
    qde = zipfile.ZipFile(out).read("project.qde").decode("utf-8")
    assert "memo on the club answer" in qde and "memo on the food answer" not in qde
