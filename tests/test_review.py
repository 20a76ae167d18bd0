"""Review before analysis (issue 13 item 4): states and history, the comment a "has issues" needs, audit, the
effective state of an answer (its own review and its respondent's), approved-only findings and exports, counts per
event, bulk approval, permissions, erasure, bundles merged in any order, and the page controls under AppTest."""

from __future__ import annotations

import csv
import itertools
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from data import bundle, capture, codebook, coding, erasure, events, findings, open_db, review
from data.users import PermissionDenied
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parent.parent
OFFICER = make_user("engagement_officer", name="olu_officer")
OTHER_OFFICER = make_user("engagement_officer", name="kim_officer")
ADMIN = make_user("admin", name="ada_admin")
RESEARCHER = make_user("peer_researcher", name="pia_researcher")
LEAD = make_user("strategy_lead", name="sam_lead")


def _people(db, event_id: str, n: int = 3) -> list[dict]:
    """n respondents with two answers each, every answer coded; returns [{respondent, answers: [id, id]}]."""
    out = []
    for i in range(n):
        saved = capture.save_respondent(db, RESEARCHER, event_id=event_id, group_id="young_person", consent=True,
                                        answers={"thrive_helps": [f"the park {i}", f"youth club {i}"]})
        ids = [r[0] for r in db.execute("SELECT id FROM responses WHERE respondent_id = ? ORDER BY position",
                                        [saved.respondent_id])]
        out.append({"respondent": saved.respondent_id, "answers": ids})
    return out


@pytest.fixture
def people(db, event):
    codebook.create_code(db, OFFICER, "parks", "Parks")
    found = _people(db, event.id)
    for p in found:
        for rid in p["answers"]:
            coding.apply_code(db, OFFICER, rid, "parks")
    return found


def _rows(db) -> int:
    return db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]


# --- states, comments, history, audit -----------------------------------------------------------------------------

def test_states_and_history(db, people):
    rid = people[0]["answers"][0]
    assert review.review_state(db, OFFICER, response_id=rid) == "received"
    review.set_review(db, OFFICER, response_id=rid, state="approved")
    assert review.review_state(db, OFFICER, response_id=rid) == "approved"
    review.set_review(db, OTHER_OFFICER, response_id=rid, state="has_issues", comment="two answers run together")
    assert review.review_state(db, OFFICER, response_id=rid) == "has_issues"
    # a double tap writes nothing more
    review.set_review(db, OTHER_OFFICER, response_id=rid, state="has_issues", comment="two answers run together")
    steps = review.history(db, OFFICER, response_id=rid)
    assert [(s.state, s.by) for s in steps] == [("has_issues", "kim_officer"), ("approved", "olu_officer")]
    assert steps[0].comment == "two answers run together"
    review.set_review(db, OFFICER, response_id=rid, state="received")
    assert review.review_state(db, OFFICER, response_id=rid) == "received"
    assert len(review.history(db, OFFICER, response_id=rid)) == 3
    # the respondent's own state is separate
    assert review.review_state(db, OFFICER, respondent_id=people[0]["respondent"]) == "received"


@pytest.mark.parametrize("comment", ["", "   \n "])
def test_has_issues_needs_a_comment(db, people, comment):
    with pytest.raises(review.ReviewError, match="comment is required"):
        review.set_review(db, OFFICER, response_id=people[0]["answers"][0], state="has_issues", comment=comment)
    assert _rows(db) == 0
    with pytest.raises(sqlite3.IntegrityError):  # the table itself refuses it too
        db.execute("INSERT INTO reviews (id, event_id, response_id, state, comment, by, at) "
                   "VALUES ('x', 'e', ?, 'has_issues', ?, 'me', 'now')", [people[0]["answers"][0], comment])


def test_bad_requests_write_nothing(db, people):
    p = people[0]
    for kwargs, match in (({"state": "approved"}, "either one respondent or one answer"),
                          ({"respondent_id": p["respondent"], "response_id": p["answers"][0], "state": "approved"},
                           "either one respondent or one answer"),
                          ({"response_id": p["answers"][0], "state": "edited"}, "Unknown review state"),
                          ({"response_id": "no-such-answer", "state": "approved"}, "No answer with id"),
                          ({"respondent_id": "no-such-person", "state": "approved"}, "No respondent with id"),
                          ({"response_id": p["answers"][0], "state": "received"}, "Nothing to undo"),
                          ({"response_id": p["answers"][0], "state": "has_issues", "comment": "x" * 2001},
                           "too long")):
        with pytest.raises(review.ReviewError, match=match):
            review.set_review(db, OFFICER, **kwargs)
    assert _rows(db) == 0


def test_reviews_are_append_only(db, people):
    review.set_review(db, OFFICER, response_id=people[0]["answers"][0], state="approved")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE reviews SET state = 'has_issues', comment = 'sneaky'")


def test_every_review_is_audited_without_the_comment(db, people):
    rid = people[0]["answers"][0]
    review.set_review(db, OFFICER, response_id=rid, state="has_issues", comment="names a teacher: check redaction")
    review.set_review(db, OFFICER, respondent_id=people[1]["respondent"], state="approved")
    rows = db.execute("SELECT actor, action, target_type, target_id, detail FROM audit WHERE action = 'review_set' "
                      "ORDER BY id").fetchall()
    assert [(r[0], r[2], r[3]) for r in rows] == [("olu_officer", "response", rid),
                                                 ("olu_officer", "respondent", people[1]["respondent"])]
    first = json.loads(rows[0][4])
    assert first["state"] == "has_issues" and first["previous"] == "received" and first["with_comment"] is True
    assert "teacher" not in rows[0][4]


@pytest.mark.parametrize("user", [LEAD, RESEARCHER, make_user("safeguarding_lead"), None], ids=repr)
def test_only_officers_and_admins_review(db, people, user):
    for call in (lambda: review.set_review(db, user, response_id=people[0]["answers"][0], state="approved"),
                 lambda: review.bulk_approve(db, user, event_id=db.execute("SELECT id FROM events").fetchone()[0]),
                 lambda: review.counts(db, user)):
        with pytest.raises(PermissionDenied):
            call()
    assert _rows(db) == 0
    for ok in (OFFICER, ADMIN):
        review.set_review(db, ok, response_id=people[0]["answers"][0], state="approved")


# --- the effective state, approved-only findings -----------------------------------------------------------------

def test_effective_state_combines_answer_and_respondent(db, people):
    a, b, c = people
    review.set_review(db, OFFICER, respondent_id=a["respondent"], state="approved")       # both answers approved
    review.set_review(db, OFFICER, respondent_id=b["respondent"], state="approved")
    review.set_review(db, OFFICER, response_id=b["answers"][1], state="has_issues", comment="garbled")  # one out
    review.set_review(db, OFFICER, response_id=c["answers"][0], state="approved")
    review.set_review(db, OFFICER, respondent_id=c["respondent"], state="has_issues", comment="not from here")
    expected = {a["answers"][0]: "approved", a["answers"][1]: "approved", b["answers"][0]: "approved",
                b["answers"][1]: "has_issues", c["answers"][0]: "has_issues", c["answers"][1]: "has_issues"}
    assert {rid: review.answer_review(db, OFFICER, rid).state for rid in expected} == expected
    assert review.approved_answer_ids(db) == {r for r, s in expected.items() if s == "approved"}
    status = review.answer_review(db, OFFICER, b["answers"][1])
    assert status.answer.state == "has_issues" and status.respondent.state == "approved"


def test_approved_only_findings_exclude_received_and_has_issues(db, people):
    a, b, c = people
    review.set_review(db, OFFICER, respondent_id=a["respondent"], state="approved")
    review.set_review(db, OFFICER, response_id=b["answers"][0], state="has_issues", comment="duplicate")
    review.set_review(db, OFFICER, response_id=b["answers"][1], state="approved")
    everything = findings.load_frames(db, LEAD, with_text=True)
    assert len(everything.answers) == 6 and len(everything.codings) == 6
    approved = findings.load_frames(db, LEAD, with_text=True, approved_only=True)
    kept = {a["answers"][0], a["answers"][1], b["answers"][1]}
    assert set(approved.answers["response_id"]) == kept
    assert set(approved.codings["response_id"]) == kept
    assert approved.answers["position"].dtype == "int64" and not approved.answers["withheld"].any()


def test_findings_version_changes_with_a_review(db, people):
    before = findings.data_version(db)
    review.set_review(db, OFFICER, response_id=people[0]["answers"][0], state="approved")
    middle = findings.data_version(db)
    assert middle != before
    review.set_review(db, OFFICER, response_id=people[0]["answers"][0], state="has_issues", comment="no")
    assert findings.data_version(db) != middle


def _cli(*args: str):
    from cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_exports_approved_only(db, db_path, people, tmp_path):
    a, b, _ = people
    review.set_review(db, OFFICER, respondent_id=a["respondent"], state="approved")
    review.set_review(db, OFFICER, response_id=a["answers"][1], state="has_issues", comment="check the form")
    review.set_review(db, OFFICER, response_id=b["answers"][0], state="approved")
    kept = {a["answers"][0], b["answers"][0]}

    def ids(path: Path) -> set[str]:
        with path.open(encoding="utf-8-sig", newline="") as f:
            return {row["response_id"] for row in csv.DictReader(f)}

    result = _cli("export", "csv", str(tmp_path / "all.csv"), "--db", str(db_path))
    assert result.exit_code == 0, result.output
    assert len(ids(tmp_path / "all.csv")) == 6
    result = _cli("export", "csv", str(tmp_path / "approved.csv"), "--approved-only", "--db", str(db_path))
    assert result.exit_code == 0, result.output
    assert ids(tmp_path / "approved.csv") == kept
    assert "2 answers" in result.output
    result = _cli("export", "xlsx", str(tmp_path / "approved.xlsx"), "--approved-only", "--db", str(db_path))
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "approved.xlsx", read_only=True)
    readme = " ".join(str(c) for row in book["README"].iter_rows(values_only=True) for c in row if c)
    assert "approved answers only" in readme
    responses = list(book["Responses"].iter_rows(values_only=True))
    assert {r[0] for r in responses[1:] if r[0]} == kept
    for kind, name in (("qdpx", "approved.qdpx"),):
        assert _cli("export", kind, str(tmp_path / name), "--approved-only", "--db", str(db_path)).exit_code == 0
    with zipfile.ZipFile(tmp_path / "approved.qdpx") as z:
        project = z.read("project.qde").decode()
    assert all(rid in project for rid in kept) and a["answers"][1] not in project
    assert _cli("report", str(tmp_path / "r.docx"), "--approved-only", "--db", str(db_path)).exit_code == 0
    audits = [json.loads(d) for (d,) in db.execute("SELECT detail FROM audit WHERE action LIKE 'export%' ORDER BY id")]
    assert audits and audits[-1]["filters"].get("Review") == "approved answers only"


# --- bulk approval and counts -------------------------------------------------------------------------------------

def test_bulk_approve_leaves_issues_and_counts_per_event(db, people, admin):
    event_id = db.execute("SELECT id FROM events").fetchone()[0]
    other = events.create_event(db, admin, name="School", date="2026-11-21")
    elsewhere = _people(db, other.id, n=1)
    a, b, _ = people
    review.set_review(db, OFFICER, response_id=a["answers"][0], state="has_issues", comment="half missing")
    review.set_review(db, OFFICER, respondent_id=b["respondent"], state="has_issues", comment="a test entry")
    review.set_review(db, OFFICER, response_id=a["answers"][1], state="approved")
    assert review.counts(db, OFFICER, event_id) == {event_id: {"received": 2, "approved": 1, "has_issues": 3}}
    assert review.bulk_approve(db, OFFICER, event_id=event_id) == 2
    assert review.counts(db, OFFICER) == {event_id: {"received": 0, "approved": 3, "has_issues": 3},
                                          other.id: {"received": 2, "approved": 0, "has_issues": 0}}
    assert review.bulk_approve(db, OFFICER, event_id=event_id) == 0  # nothing left to approve
    assert review.answer_review(db, OFFICER, a["answers"][0]).state == "has_issues"
    assert review.answer_review(db, OFFICER, elsewhere[0]["answers"][0]).state == "received"
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'review_bulk_approve'").fetchone()[0] == 1
    assert review.counts(db, OFFICER, "nowhere") == {"nowhere": {"received": 0, "approved": 0, "has_issues": 0}}
    with pytest.raises(review.ReviewError, match="No event"):
        review.bulk_approve(db, OFFICER, event_id="nowhere")


def test_erasure_takes_the_reviews_with_it(db, people):
    a = people[0]
    review.set_review(db, OFFICER, respondent_id=a["respondent"], state="has_issues", comment="asked to withdraw")
    review.set_review(db, OFFICER, response_id=a["answers"][0], state="approved")
    review.set_review(db, OFFICER, response_id=people[1]["answers"][0], state="approved")
    erasure.erase_respondent(db, ADMIN, a["respondent"], "withdrew consent")
    left = db.execute("SELECT respondent_id, response_id FROM reviews").fetchall()
    assert left == [(None, people[1]["answers"][0])]


# --- bundles: three laptops, any order --------------------------------------------------------------------------

def _checkpoint_copy(db, src: Path, dst: Path) -> None:
    with db.ensure_autocommit_on():
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(src, dst)


def _state(path: Path) -> dict:
    db = open_db(path)
    try:
        return {
            "rows": set(map(tuple, db.execute("SELECT id, event_id, respondent_id, response_id, state, comment, by, at "
                                              "FROM reviews").fetchall())),
            "effective": set(map(tuple, db.execute(f"SELECT id, state FROM ({review.EFFECTIVE_SQL})").fetchall())),
            "conflicts": db.execute("SELECT COUNT(*) FROM bundle_conflicts").fetchone()[0],
        }
    finally:
        db.conn.close()


@pytest.fixture
def laptops(tmp_path, admin):
    """One event copied to three laptops; each reviews overlapping answers, in time order A, B, C, so that B
    overrules A on one answer and C puts back one that B had marked."""
    base = tmp_path / "base.db"
    db = open_db(base)
    event = events.create_event(db, admin, name="Market", date="2026-11-22")
    people = _people(db, event.id)
    paths = [tmp_path / f"laptop{i}.db" for i in range(3)]
    for path in paths:
        _checkpoint_copy(db, base, path)
    db.conn.close()
    x, y, z = people[0]["answers"][0], people[1]["answers"][0], people[2]["respondent"]
    steps = [
        (0, dict(response_id=x, state="approved")),
        (0, dict(respondent_id=z, state="approved")),
        (1, dict(response_id=x, state="has_issues", comment="duplicate of another answer")),
        (1, dict(response_id=y, state="has_issues", comment="off topic")),
        (2, dict(response_id=y, state="received")),
        (2, dict(respondent_id=people[1]["respondent"], state="approved")),
    ]
    for laptop, kwargs in steps:
        ldb = open_db(paths[laptop])
        if kwargs.get("state") == "received":  # on laptop C the same issue is marked again, then cleared
            review.set_review(ldb, OTHER_OFFICER, response_id=y, state="has_issues", comment="off topic")
        review.set_review(ldb, OFFICER if laptop != 1 else OTHER_OFFICER, **kwargs)
        with ldb.ensure_autocommit_on():
            ldb.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        ldb.conn.close()
    files = []
    for i, path in enumerate(paths):
        ldb = open_db(path)
        out = tmp_path / f"laptop{i}.zip"
        bundle.export_bundle(ldb, admin, out)
        ldb.conn.close()
        files.append(out)
    return dict(files=files, x=x, y=y, z=z, people=people, tmp=tmp_path)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=lambda o: "-".join(map(str, o)))
def test_reviews_merge_to_the_same_result_in_any_order(laptops, tmp_path, order, admin):
    hub = tmp_path / f"hub-{'-'.join(map(str, order))}.db"
    open_db(hub).conn.close()
    for i in order:
        db = open_db(hub)
        report = bundle.import_bundle(db, admin, laptops["files"][i])
        db.conn.close()
        assert report.tables["reviews"].conflicts == 0
    got = _state(hub)
    # a reference: every laptop merged in the order 0, 1, 2 into its own hub
    ref = tmp_path / "ref.db"
    if not ref.exists():
        open_db(ref).conn.close()
        for i in range(3):
            db = open_db(ref)
            bundle.import_bundle(db, admin, laptops["files"][i])
            db.conn.close()
    assert got == _state(ref)
    assert got["conflicts"] == 0
    assert len(got["rows"]) == 7  # every laptop's history kept: A 2, B 2, C 3 (its own copy of B's issue too)
    effective = dict(got["effective"])
    assert effective[laptops["x"]] == "has_issues"  # B's issue came after A's approval
    assert effective[laptops["y"]] == "approved"     # C cleared the issue, then approved the person
    z_answers = laptops["people"][2]["answers"]
    assert all(effective[a] == "approved" for a in z_answers)
    # importing a bundle again adds nothing
    db = open_db(hub)
    again = bundle.import_bundle(db, admin, laptops["files"][order[0]])
    db.conn.close()
    assert again.tables["reviews"].new == 0 and again.tables["reviews"].present > 0
    assert _state(hub) == got


def _rezip(src: Path, dst: Path, change) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        items = {name: zin.read(name) for name in zin.namelist()}
        for name, data in change(items).items():
            zout.writestr(name, data)


def test_bundle_from_before_reviews_is_read_and_one_missing_its_part_is_refused(laptops, tmp_path, admin):
    def old(items):
        manifest = json.loads(items["manifest.json"])
        manifest["schema"] = [m for m in manifest["schema"] if m != "0015_review"]
        del manifest["parts"]["reviews.jsonl"], manifest["counts"]["reviews"]
        rest = {k: v for k, v in items.items() if k != "reviews.jsonl"}
        return {**rest, "manifest.json": json.dumps(manifest).encode()}

    _rezip(laptops["files"][0], tmp_path / "old.zip", old)
    hub = tmp_path / "hub-old.db"
    db = open_db(hub)
    report = bundle.import_bundle(db, admin, tmp_path / "old.zip")
    assert report.tables["responses"].new == 6 and report.tables["reviews"].new == 0
    _rezip(laptops["files"][0], tmp_path / "lacking.zip",
           lambda items: {k: v for k, v in items.items() if k != "reviews.jsonl"})
    with pytest.raises(bundle.BundleError, match="reviews.jsonl are missing"):
        bundle.import_bundle(db, admin, tmp_path / "lacking.zip")
    db.conn.close()


def test_review_of_an_answer_erased_at_the_hub_is_not_brought_back(laptops, tmp_path, admin):
    hub = tmp_path / "hub-erased.db"
    db = open_db(hub)
    bundle.import_bundle(db, admin, laptops["files"][0])
    erasure.erase_respondent(db, admin, laptops["z"], "withdrew")
    report = bundle.import_bundle(db, admin, laptops["files"][0])
    assert report.tables["reviews"].erased == 1 and report.tables["reviews"].new == 0
    assert db.execute("SELECT COUNT(*) FROM reviews WHERE respondent_id = ?", [laptops["z"]]).fetchone()[0] == 0
    db.conn.close()


# --- pages ------------------------------------------------------------------------------------------------------

def _page(name: str, user) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    at.session_state["auth_user"] = user
    return at


def test_code_page_review_control(db, people):
    at = _page("code", OFFICER)
    at.session_state["code_state"] = "all"  # every answer is coded already
    at.run()
    assert not at.exception
    current = at.session_state["code_current"]
    respondent = review.answer_review(db, OFFICER, current).respondent_id
    comment_key = f"code_review_comment_{current}"
    at.button(key="code_review_issues").click().run()
    assert any("comment is required" in w.value for w in at.warning)
    assert _rows(db) == 0
    at.text_input(key=comment_key).set_value("two answers <b>run</b> together").run()
    at.button(key="code_review_issues").click().run()
    assert review.review_state(db, OFFICER, response_id=current) == "has_issues"
    assert review.history(db, OFFICER, response_id=current)[0].comment == "two answers <b>run</b> together"
    assert "two answers <b>run</b> together" in [t.value for t in at.text]  # shown as plain text
    assert any(e.label.startswith("Review: Has issues") for e in at.expander)
    at.radio(key="code_review_target").set_value("respondent").run()
    at.button(key="code_review_approve").click().run()
    assert review.review_state(db, OFFICER, respondent_id=respondent) == "approved"
    assert review.answer_review(db, OFFICER, current).state == "has_issues"  # the answer's own issue still counts
    at.radio(key="code_review_target").set_value("answer").run()
    at.button(key="code_review_reset").click().run()
    assert review.answer_review(db, OFFICER, current).state == "approved"
    assert not at.exception


def test_code_page_hides_the_control_without_the_permission(db, people, monkeypatch):
    from data import users

    monkeypatch.setitem(users.PERMISSIONS, "review", frozenset({"admin"}))
    at = _page("code", OFFICER)
    at.session_state["code_state"] = "all"
    at.run()
    assert not at.exception
    assert at.session_state["code_current"] and at.button(key="code_next")  # an answer is on screen
    assert not [b for b in at.button if b.key and b.key.startswith("code_review_")]


def test_events_page_approves_all_received_answers(db, people):
    a = people[0]
    review.set_review(db, OFFICER, response_id=a["answers"][0], state="has_issues", comment="blank")
    at = _page("events", OFFICER).run()
    assert not at.exception
    approve = at.button(key="events_review_approve")
    assert approve.disabled and "5" in approve.label  # nothing can be done without the tick
    event_id = db.execute("SELECT id FROM events").fetchone()[0]
    at.checkbox(key=f"events_review_looked_{event_id}").check().run()
    at.button(key="events_review_approve").click().run()
    assert len(review.approved_answer_ids(db)) == 5
    assert review.answer_review(db, OFFICER, a["answers"][0]).state == "has_issues"
    assert any("Approved 5 answer(s)" in s.value.replace("\\", "") for s in at.success)  # Markdown-escaped
    table = at.dataframe[0].value
    assert list(table["Approved"]) == [5] and list(table["Has issues"]) == [1]


def test_findings_page_toggle_counts_approved_answers_only(db, people):
    review.set_review(db, OFFICER, respondent_id=people[0]["respondent"], state="approved")
    review.set_review(db, OFFICER, response_id=people[1]["answers"][0], state="approved")
    at = _page("findings", LEAD).run()
    assert not at.exception
    answers = {m.label: m.value for m in at.metric}["Answers"]
    assert answers == "6"
    at.toggle(key="findings_approved_only").set_value(True).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Answers"] == "3"
    # a review made now shows at once (the cache key moves with the reviews)
    review.set_review(db, OFFICER, response_id=people[0]["answers"][0], state="has_issues", comment="wrong event")
    at.run()
    assert {m.label: m.value for m in at.metric}["Answers"] == "2"


def test_findings_page_says_when_nothing_is_approved(db, people):
    at = _page("findings", LEAD).run()
    at.toggle(key="findings_approved_only").set_value(True).run()
    assert any("No approved answers yet" in i.value for i in at.info)
    assert at.toggle(key="findings_approved_only").value is True  # the way back is still on screen
