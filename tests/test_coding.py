"""Coding answers: the queue and its filters, apply/remove, suggestions accepted and dismissed, bulk coding with
preview, undo across connections, memos, coder separation, audit rows, and codings CSV import/export."""

from __future__ import annotations

import json

import pytest

from data import codebook as cb
from data import coding
from data.coding import Filters
from data.importer import InvalidFile, import_responses
from data.users import PermissionDenied
from tests.conftest import make_user

ANSWERS = (
    "id,question,group,text,event\n"
    "a1,thrive_helps,young_person,my mates and my fam,Drop-in\n"
    "a2,thrive_helps,parent_carer,a warm home and food on the table,Drop-in\n"
    "a3,thrive_stops,young_person,no money for food,Drop-in\n"
    "a4,neglect_is,practitioner,no breakfast before school,Drop-in\n"
    "a5,thrive_stops,resident,Call me on 07700 900123 about 100% of the food bank,Drop-in\n"
    "a1,thrive_local,young_person,more youth clubs,Summer fair\n"
)


@pytest.fixture
def answers(db, admin, officer):
    import_responses(db, admin, ANSWERS.encode(), "answers.csv")
    for name, label in (("food", "Food"), ("friends", "Friends"), ("money", "Money")):
        cb.create_code(db, officer, name, label)
    rows = db.execute("SELECT r.external_id, e.name, r.id FROM responses r JOIN events e ON e.id = r.event_id")
    return {(ext if event == "Drop-in" else f"{ext}@fair"): rid for ext, event, rid in rows}


def my_codes(db, coder):
    return sorted(db.execute("SELECT c.response_id, k.name, c.source FROM codings c JOIN codes k ON k.id = c.code_id "
                             "WHERE coder = ?", [coder]).fetchall())


def test_queue_filters_and_redaction(db, officer, answers):
    page = coding.queue(db, officer, Filters(), page_size=4)
    assert page.total == 6 and page.pages == 2 and len(page.answers) == 4
    assert coding.queue(db, officer, Filters(), page=1, page_size=4).answers[-1].id not in {a.id for a in page.answers}
    only = coding.queue(db, officer, Filters(question="thrive_stops")).answers
    assert {a.id for a in only} == {answers["a3"], answers["a5"]}
    assert only[0].question == "What stops children and young people from thriving?"
    assert {a.group for a in coding.queue(db, officer, Filters(group="young_person")).answers} == {"Young person"}
    phone = coding.queue(db, officer, Filters(search="food bank")).answers
    assert len(phone) == 1 and "07700" not in phone[0].text  # redacted text only
    assert len(coding.queue(db, officer, Filters(search="100%")).answers) == 1  # % is literal, not a wildcard
    assert coding.queue(db, officer, Filters(search="_")).total == 0
    fair = coding.queue(db, officer, Filters(event=db.execute("SELECT id FROM events WHERE name = 'Summer fair'")
                                                 .fetchone()[0])).answers
    assert [a.id for a in fair] == [answers["a1@fair"]]
    assert "{area}" not in fair[0].question and "our area" in fair[0].question  # question 4 names the area


def test_apply_remove_and_coded_state(db, officer, answers):
    assert coding.apply_code(db, officer, answers["a2"], "food")
    assert not coding.apply_code(db, officer, answers["a2"], "food")  # already applied: no second row
    coding.apply_code(db, officer, answers["a2"], "money")
    assert coding.get_answer(db, officer, answers["a2"]).codes == ("food", "money")
    counts = coding.counts(db, officer)
    assert (counts.total, counts.coded, counts.remaining) == (6, 1, 5)
    assert [a.id for a in coding.queue(db, officer, Filters(state="coded")).answers] == [answers["a2"]]
    assert answers["a2"] not in {a.id for a in coding.queue(db, officer, Filters(state="uncoded")).answers}
    assert coding.remove_code(db, officer, answers["a2"], "food")
    assert not coding.remove_code(db, officer, answers["a2"], "food")
    assert my_codes(db, officer.username) == [(answers["a2"], "money", "human")]
    with pytest.raises(coding.CodingError, match="no code"):
        coding.apply_code(db, officer, answers["a2"], "nonsense")
    with pytest.raises(coding.CodingError, match="no longer exists"):
        coding.apply_code(db, officer, "not-an-answer", "food")


def test_coders_are_kept_separate(db, officer, answers):
    other = make_user("admin", name="kim_admin")
    coding.apply_code(db, officer, answers["a3"], "money")
    coding.apply_code(db, other, answers["a3"], "food")
    assert coding.get_answer(db, officer, answers["a3"]).codes == ("money",)
    assert coding.get_answer(db, other, answers["a3"]).codes == ("food",)
    coding.remove_code(db, other, answers["a3"], "money")  # not theirs: nothing happens to the officer's
    assert my_codes(db, officer.username) == [(answers["a3"], "money", "human")]
    assert coding.counts(db, other).coded == 1 and coding.coders(db, officer) == ["kim_admin", "olu_officer"]
    assert coding.undo(db, other).kind == "apply"
    assert my_codes(db, officer.username) == [(answers["a3"], "money", "human")]  # undo is per coder


def test_permissions(db, lead, researcher, answers):
    for user in (lead, researcher):
        with pytest.raises(PermissionDenied):
            coding.queue(db, user)
        with pytest.raises(PermissionDenied):
            coding.apply_code(db, user, answers["a1"], "food")


def test_suggestion_accept_and_dismiss(db, officer, answers):
    assert coding.accept_suggestion(db, officer, answers["a3"], "money", score=0.8123456)
    assert my_codes(db, officer.username) == [(answers["a3"], "money", "suggestion")]
    assert coding.dismiss_suggestion(db, officer, answers["a3"], "food")
    assert coding.dismissed(db, officer, answers["a3"]) == {"food"}
    assert coding.dismissed(db, make_user("admin", name="x"), answers["a3"]) == set()
    detail = json.loads(db.execute("SELECT detail FROM audit WHERE action = 'suggestion_accepted'").fetchone()[0])
    assert detail == {"code": "money", "source": "suggestion", "score": 0.8123}
    assert db.execute("SELECT count(*) FROM audit WHERE action = 'suggestion_dismissed'").fetchone()[0] == 1
    coding.undo(db, officer)  # undoes the dismissal
    assert coding.dismissed(db, officer, answers["a3"]) == set()
    coding.undo(db, officer)  # then the accepted suggestion
    assert my_codes(db, officer.username) == []


def test_bulk_preview_then_apply_then_undo(db, officer, answers):
    coding.apply_code(db, officer, answers["a2"], "food")
    preview = coding.bulk_preview(db, officer, "food", Filters(search="FOOD"))
    assert (preview.matching, preview.to_code) == (3, 2)
    assert {a.id for a in preview.sample} == {answers["a3"], answers["a5"]}
    assert coding.bulk_preview(db, officer, "food", Filters(search="food", question="thrive_helps")).to_code == 0
    assert my_codes(db, officer.username) == [(answers["a2"], "food", "human")]  # preview wrote nothing
    assert coding.bulk_apply(db, officer, "food", Filters(search="food")) == 2
    assert sorted(r[0] for r in my_codes(db, officer.username)) == sorted([answers["a2"], answers["a3"], answers["a5"]])
    assert coding.last_action(db, officer).summary == "Bulk-applied Food to 2 answer(s)"
    audit_row = json.loads(db.execute("SELECT detail FROM audit WHERE action = 'bulk_coded'").fetchone()[0])
    assert audit_row["answers"] == 2 and audit_row["search"] == "food"
    undone = coding.undo(db, officer)
    assert undone.kind == "bulk"
    assert my_codes(db, officer.username) == [(answers["a2"], "food", "human")]  # the earlier coding survives
    with pytest.raises(coding.CodingError, match="at least"):
        coding.bulk_apply(db, officer, "food", Filters(search=" "))


def test_undo_survives_a_new_connection_and_walks_back(db_path, db, officer, answers):
    from data import open_db

    coding.apply_code(db, officer, answers["a1"], "friends")
    coding.apply_code(db, officer, answers["a4"], "food")
    coding.remove_code(db, officer, answers["a1"], "friends")
    fresh = open_db(db_path)  # a rerun or a new session: the log is in the database
    assert coding.last_action(fresh, officer).summary == "Removed Friends"
    coding.undo(fresh, officer)
    row = fresh.execute("SELECT source FROM codings c JOIN codes k ON k.id = c.code_id WHERE k.name = 'friends'").fetchone()
    assert row == ("human",)  # the removed coding came back as it was
    coding.undo(fresh, officer)
    coding.undo(fresh, officer)
    assert my_codes(fresh, officer.username) == []
    assert coding.undo(fresh, officer) is None
    assert fresh.execute("SELECT count(*) FROM audit WHERE action = 'coding_undone'").fetchone()[0] == 3
    fresh.conn.close()


def test_every_coding_action_is_audited_with_who(db, officer, answers):
    coding.apply_code(db, officer, answers["a1"], "friends")
    coding.remove_code(db, officer, answers["a1"], "friends")
    coding.accept_suggestion(db, officer, answers["a3"], "money")
    coding.bulk_apply(db, officer, "food", Filters(search="food"))
    coding.undo(db, officer)
    cb.merge_codes(db, officer, "money", "food")
    rows = db.execute("SELECT action, actor, at FROM audit WHERE action IN ('code_applied', 'code_removed', "
                      "'suggestion_accepted', 'bulk_coded', 'coding_undone', 'codes_merged') ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["code_applied", "code_removed", "suggestion_accepted", "bulk_coded",
                                    "coding_undone", "codes_merged"]
    assert {r[1] for r in rows} == {officer.username} and all(r[2] for r in rows)


def test_memos_on_answers_and_codes(db, officer, answers):
    other = make_user("engagement_officer", name="kim_officer")
    coding.save_memo(db, officer, "response", answers["a4"], "Is this about school or food?")
    coding.save_memo(db, other, "response", answers["a4"], "Food, I think")
    coding.save_memo(db, officer, "response", answers["a4"], "School AND food")  # edits own memo
    assert [(m.author, m.text) for m in coding.memos(db, officer, "response", answers["a4"])] == [
        ("olu_officer", "School AND food"), ("kim_officer", "Food, I think")]
    food = cb.get_code(db, "food")
    coding.save_memo(db, officer, "code", food.id, "Includes hunger")
    assert [m.text for m in coding.memos(db, officer, "code", food.id)] == ["Includes hunger"]
    coding.save_memo(db, officer, "response", answers["a4"], "  ")  # empty deletes own memo
    assert [m.author for m in coding.memos(db, officer, "response", answers["a4"])] == ["kim_officer"]
    with pytest.raises(coding.CodingError):
        coding.save_memo(db, officer, "code", 9999, "x")


def test_codings_import_by_id_and_external_id(db, officer, answers):
    csv_text = (
        "response_id,code,coder\n"
        f"{answers['a2']},food,sam\n"
        "a4,food,sam\n"
        "a3,Money,\n"
    )
    result = coding.import_codings_csv(db, officer, csv_text.encode())
    assert (result.added, result.already_present) == (3, 0)
    assert my_codes(db, "sam") == sorted([(answers["a2"], "food", "import"), (answers["a4"], "food", "import")])
    assert my_codes(db, officer.username) == [(answers["a3"], "money", "import")]
    again = coding.import_codings_csv(db, officer, csv_text.encode())
    assert (again.added, again.already_present) == (0, 3)


def test_codings_import_names_unknown_rows_and_writes_nothing(db, officer, answers):
    csv_text = (
        "response_id,code,coder\n"
        "a2,food,sam\n"
        "zz9,food,sam\n"
        "a3,nonsense,sam\n"
        "a1,food,sam\n"          # a1 is the external id of answers in two events: ambiguous
        ",food,sam\n"
    )
    with pytest.raises(InvalidFile) as caught:
        coding.import_codings_csv(db, officer, csv_text.encode())
    problems = {(p.row, p.column) for p in caught.value.problems}
    assert problems == {(3, "response_id"), (4, "code"), (5, "response_id"), (6, "response_id")}
    assert "zz9" in str(caught.value) and "nonsense" in str(caught.value)
    assert db.execute("SELECT count(*) FROM codings").fetchone()[0] == 0


def test_codings_export_import_round_trip(db, officer, answers, tmp_path):
    coding.apply_code(db, officer, answers["a1"], "friends")
    coding.accept_suggestion(db, officer, answers["a3"], "money")
    exported = coding.export_codings_csv(db, officer)
    before = db.execute("SELECT response_id, code_id, coder, source, created_at FROM codings ORDER BY id").fetchall()
    db.execute("DELETE FROM codings")
    db.conn.commit()
    coding.import_codings_csv(db, officer, exported)
    after = db.execute("SELECT response_id, code_id, coder, source, created_at FROM codings ORDER BY id").fetchall()
    assert after == before


def test_bulk_ignores_the_coded_state_view(db, officer, answers):
    coding.apply_code(db, officer, answers["a3"], "money")  # a3 is now "coded by me"
    preview = coding.bulk_preview(db, officer, "food", Filters(search="food", state="uncoded"))
    assert (preview.matching, preview.to_code) == (3, 3)  # every answer matching the search, coded or not
