"""The command line: init, import, events and stats, each with --db; THRIVE_DB as the fallback."""

from __future__ import annotations

import json
import sqlite3

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
