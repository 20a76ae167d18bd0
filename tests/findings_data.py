"""A small hand-worked dataset for the findings and export tests (numbers worked out in test_findings.py).

Inserts codes and codings directly so these tests do not depend on the codebook module's API.
"""

from __future__ import annotations

from data.capture import save_respondent
from data.db import now_utc
from data.events import create_event

# code id -> (name, label, parent id)
CODES = {
    1: ("thrive", "Thrive factors", None),
    2: ("family_love", "Loving family", 1),
    3: ("friends_social", "Friends", 1),
    4: ("barriers", "Barriers", None),
    5: ("poverty_money", "Poverty", 4),
}

# (event key, group, {question: (text, [code ids])})
RESPONDENTS = [
    ("e1", "young_person", {"thrive_helps": ("my family", [2]), "thrive_stops": ("no money at home", [5])}),
    ("e1", "young_person", {"thrive_helps": ("friends and family", [2, 3])}),
    ("e1", "young_person", {"thrive_helps": ("friends", [3])}),
    ("e1", "young_person", {"thrive_helps": ("my mates", [3])}),
    ("e1", "young_person", {"thrive_helps": ("my mum", [2])}),
    ("e1", "young_person", {"thrive_helps": ("dunno", [])}),
    ("e2", "parent_carer", {"thrive_helps": ("family support from the centre", [2])}),
    ("e2", "parent_carer", {"thrive_helps": ("family support when things are hard", [2])}),
    ("e2", "parent_carer", {"thrive_helps": ("family support", [2])}),
    ("e2", "parent_carer", {"thrive_helps": ("family support and a warm home", [2])}),
    ("e2", "parent_carer", {"thrive_helps": ("money", [5])}),
    ("e2", "practitioner", {"thrive_helps": ("family", [2])}),
    ("e2", "practitioner", {"thrive_helps": ("friends", [3])}),
]


def seed(db, admin, coder: str = "olu_officer") -> dict:
    """Create two events, the codes above and the respondents above; return ids for the tests."""
    e1 = create_event(db, admin, name="Youth club night", date="2026-11-20", venue="Youth club")
    e2 = create_event(db, admin, name="Family centre drop-in", date="2026-12-01", venue="Family centre")
    events = {"e1": e1.id, "e2": e2.id}
    now = now_utc()
    # colours in lower case, as data.codebook stores them
    for code_id, (name, label, parent) in CODES.items():
        db.execute("INSERT INTO codes (id, name, label, definition, parent_id, colour, created_at, updated_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [code_id, name, label, f"About {label.lower()}", parent,
                                                       "#0072b2" if parent is None else "", now, now])
    db.conn.commit()
    answers = {}
    for i, (event_key, group, qa) in enumerate(RESPONDENTS):
        result = save_respondent(db, admin, event_id=events[event_key], group_id=group, consent=True,
                                 answers={q: [text] for q, (text, _) in qa.items()}, submission_token=f"t{i}")
        rows = db.execute("SELECT id, question_id FROM responses WHERE respondent_id = ?",
                          [result.respondent_id]).fetchall()
        for response_id, question_id in rows:
            text, codes = qa[question_id]
            answers[(i, question_id)] = response_id
            for code_id in codes:
                db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, ?, ?, ?)",
                           [response_id, code_id, coder, now])
    db.conn.commit()
    return {"events": events, "answers": answers}


def open_tab(at, label: str):
    """Show one tab of the Findings page (its tabs are lazy: only the chosen one is computed) and rerun."""
    at.session_state["findings_tab"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def run_page(path: str, user, **state):
    """pages/`path` under AppTest as `user`, with `state` put in session_state first (e.g. findings_tab), run once
    without an exception."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "pages" / path), default_timeout=60)
    at.session_state["auth_user"] = user
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def run_findings_page(user, **state):
    """The Findings page under AppTest as `user`, with `state` put in session_state first (e.g. findings_tab)."""
    return run_page("findings.py", user, **state)
