"""Simple counts over the store: answers by question and respondent group (the CLI's `stats`).

Counts carry no answer text, so they need only the findings or collect permission.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from data.capture import POSTIT_SQL
from data.users import User, require


def answers_by_question_and_group(db: Database, user: User) -> dict[str, Any]:
    """{"questions": [...], "groups": [...], "rows": {question: {group: answers}}, totals...}.

    "respondents" counts people (tablet and imported respondents); transcribed flipchart post-its are anonymous
    answers, not people: they are counted in "postits" (and their answers in "answers" and the rows)."""
    require(user, "findings")
    rows: dict[str, dict[str, int]] = {}
    groups: set[str] = set()
    for question_id, group_id, count in db.execute(
        "SELECT r.question_id, p.group_id, COUNT(*) FROM responses r JOIN respondents p ON p.id = r.respondent_id "
        "GROUP BY r.question_id, p.group_id"
    ):
        rows.setdefault(question_id, {})[group_id] = count
        groups.add(group_id)
    respondents, postits, answers, events = db.execute(
        f"SELECT (SELECT COUNT(*) FROM respondents WHERE NOT ({POSTIT_SQL})), "  # noqa: S608 - fixed SQL
        f"(SELECT COUNT(*) FROM respondents WHERE {POSTIT_SQL}), "
        "(SELECT COUNT(*) FROM responses), (SELECT COUNT(*) FROM events)"
    ).fetchone()
    order = ["thrive_helps", "thrive_stops", "neglect_is", "thrive_local"]
    questions = [q for q in order if q in rows] + sorted(q for q in rows if q not in order)
    return {"questions": questions, "groups": sorted(groups), "rows": rows, "respondents": respondents,
            "postits": postits, "answers": answers, "events": events}
