"""The Collect page's counters read event_day_counts (kept by triggers, migration 0024_capture_speed) instead of
counting answers. Every way rows arrive, move or go must keep that table equal to a count of the tables themselves:
a random mix of saves, post-its, undos, erasures, imports, moves and an event deletion, checked after each step."""

from __future__ import annotations

import random

from data import capture, erasure, events, importer
from data.users import User

RECOUNT = """
    SELECT event_id, day, SUM(people), SUM(postits), SUM(answers) FROM (
        SELECT event_id, COALESCE(date(created_at, 'localtime'), '') AS day,
               source IS NOT 'transcribed' AS people, source IS 'transcribed' AS postits, 0 AS answers
        FROM respondents
        UNION ALL
        SELECT event_id, COALESCE(date(created_at, 'localtime'), ''), 0, 0, 1 FROM responses)
    GROUP BY event_id, day"""


def _kept(db) -> dict:
    return {(e, d): (p, t, a) for e, d, p, t, a in db.execute(
        "SELECT event_id, day, people, postits, answers FROM event_day_counts") if (p, t, a) != (0, 0, 0)}


def _recounted(db) -> dict:
    return {(e, d): (p, t, a) for e, d, p, t, a in db.execute(RECOUNT)}


def test_counts_follow_every_change(db, admin, researcher, officer):
    rng = random.Random(20261201)
    transcriber = User("tom_transcriber", frozenset({"peer_researcher", "engagement_officer"}), "Tom")
    opened = [events.create_event(db, admin, name=f"Event {i}", date=f"2026-11-{10 + i}") for i in range(3)]
    saved: list[str] = []
    postits: list[str] = []
    for step in range(60):
        event = rng.choice(opened)
        action = rng.choice(["save", "save", "postit", "undo", "erase", "import", "move"])
        if action == "save":
            result = capture.save_respondent(
                db, researcher, event_id=event.id, group_id="young_person", consent=True,
                answers={"thrive_helps": [f"answer {step} a", f"answer {step} b"][: rng.randint(1, 2)]})
            saved.append(result.respondent_id)
        elif action == "postit":
            postits.append(capture.add_transcribed(db, transcriber, event_id=event.id, question_id="thrive_stops",
                                                   group_id="young_person", text=f"post-it {step}").response_id)
        elif action == "undo" and postits:
            capture.undo_transcribed(db, transcriber, postits.pop())
        elif action == "erase" and saved:
            erasure.erase_respondent(db, admin, saved.pop(rng.randrange(len(saved))), "asked to withdraw")
        elif action == "import":
            rows = "".join(f"imp{step}-{i},thrive_helps,resident,imported {step} {i}\n" for i in range(3))
            importer.import_responses(db, officer, f"id,question,group,text\n{rows}".encode(), "a.csv",
                                      event=event.name)
        elif action == "move" and saved:
            who = rng.choice(saved)
            with db.conn:
                db.execute("UPDATE respondents SET event_id = ?, created_at = '2026-10-01T09:00:00+00:00' "
                           "WHERE id = ?", [event.id, who])
                db.execute("UPDATE responses SET event_id = ? WHERE respondent_id = ?", [event.id, who])
        assert _kept(db) == _recounted(db), f"after step {step} ({action})"
    assert sum(p for p, _, _ in _kept(db).values()) > 0 and sum(t for _, t, _ in _kept(db).values()) > 0
    # the page's reading of the table equals a plain count
    for event in opened:
        counts = capture.event_counts(db, researcher, event.id)
        people = db.execute("SELECT COUNT(*) FROM respondents WHERE event_id = ? AND source IS NOT 'transcribed'",
                            [event.id]).fetchone()[0]
        answers = db.execute("SELECT COUNT(*) FROM responses WHERE event_id = ?", [event.id]).fetchone()[0]
        assert (counts.respondents, counts.answers) == (people, answers)
    # an event deleted with its rows leaves no count behind
    gone = opened[0].id
    with db.conn:
        ids = [r[0] for r in db.execute("SELECT id FROM responses WHERE event_id = ?", [gone])]
        for table in ("codings", "flags", "flag_history"):
            columns = {c[1] for c in db.execute(f"PRAGMA table_info({table})")}
            if "response_id" in columns and ids:
                db.execute(f"DELETE FROM {table} WHERE response_id IN ({','.join('?' * len(ids))})", ids)
        db.execute("DELETE FROM flags WHERE event_id = ?", [gone])
        db.execute("DELETE FROM responses WHERE event_id = ?", [gone])
        db.execute("DELETE FROM respondents WHERE event_id = ?", [gone])
        db.execute("DELETE FROM events WHERE id = ?", [gone])
    assert _kept(db) == _recounted(db)
    assert not [k for k in _kept(db) if k[0] == gone]
