"""Roles enforced in the core: every permission-guarded core action, called by each role.

A user without the permission gets PermissionDenied and nothing at all is written (every table compared before
and after); a user with it succeeds.
Parametrised over actions x roles (plus nobody signed in).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from data import (
    accounts,
    agreement,
    audit,
    bundle,
    capture,
    codebook,
    coding,
    erasure,
    events,
    findings,
    flags,
    importer,
    open_db,
    retention,
    review,
    rounds,
    settings,
    stats,
    suggestions,
)
from data import actions as round_actions
from data.users import PERMISSIONS, ROLES, PermissionDenied, User

DISCLOSURE = "my dad hits me when he's drunk"


@dataclass(frozen=True)
class Action:
    name: str
    permissions: tuple[str, ...]  # the caller needs all of them
    call: Callable[[SimpleNamespace, User | None], object]


def _csv(text: str) -> bytes:
    return text.encode()


ANSWERS_CSV = _csv("id,question,group,text\nx-1,thrive_helps,resident,the library\n")
CODEBOOK_CSV = _csv("code,label,definition\nnew_code_csv,New code,From a file\n")
QDC = _csv('<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="t">'
           '<Codes><Code guid="11111111-2222-3333-4444-555555555555" name="from_qdc" isCodable="true"/></Codes>'
           '</CodeBook>')

ACTIONS: list[Action] = [
    # capture
    Action("save_respondent", ("collect",), lambda c, u: capture.save_respondent(
        c.db, u, event_id=c.event.id, group_id="resident", consent=True, answers={"thrive_helps": "the park"})),
    Action("flag_respondent", ("collect",), lambda c, u: capture.flag_respondent(c.db, u, c.respondent_id, "worried")),
    Action("respondents_today", ("collect",), lambda c, u: capture.respondents_today(c.db, u, c.event.id)),
    Action("event_counts", ("collect",), lambda c, u: capture.event_counts(c.db, u, c.event.id)),
    Action("add_transcribed", ("transcribe",), lambda c, u: capture.add_transcribed(
        c.db, u, event_id=c.event.id, question_id="thrive_helps", group_id="resident", text="buses")),
    Action("undo_transcribed", ("transcribe",), lambda c, u: capture.undo_transcribed(c.db, u, c.postit_id)),
    Action("import_responses", ("import",), lambda c, u: importer.import_responses(
        c.db, u, ANSWERS_CSV, "a.csv", event=c.event.id)),
    Action("create_event", ("manage_events",), lambda c, u: events.create_event(c.db, u, name="New", date="2026-12-01")),
    Action("close_event", ("manage_events",), lambda c, u: events.set_status(c.db, u, c.event.id, "closed")),
    Action("stats", ("findings",), lambda c, u: stats.answers_by_question_and_group(c.db, u)),
    # codebook
    Action("create_code", ("codebook",), lambda c, u: codebook.create_code(c.db, u, "brand_new", "Brand new")),
    Action("update_code", ("codebook",), lambda c, u: codebook.update_code(c.db, u, c.code, definition="changed")),
    Action("rename_code", ("codebook",), lambda c, u: codebook.rename_code(c.db, u, c.code, "renamed_code")),
    Action("archive_code", ("codebook",), lambda c, u: codebook.set_archived(c.db, u, c.code, True)),
    Action("merge_codes", ("codebook",), lambda c, u: codebook.merge_codes(c.db, u, c.code, c.other_code)),
    Action("split_code", ("codebook",), lambda c, u: codebook.split_code(c.db, u, c.code, "split_off", "Split off")),
    Action("import_codes", ("codebook",), lambda c, u: codebook.import_codes(
        c.db, u, [{"code": "imported_x", "label": "Imported", "definition": ""}])),
    Action("import_codebook_csv", ("codebook",), lambda c, u: codebook.import_codebook_csv(c.db, u, CODEBOOK_CSV)),
    Action("load_starter_codebook", ("codebook",), lambda c, u: codebook.load_starter_codebook(c.db, u)),
    Action("import_qdc", ("codebook",), lambda c, u: findings.import_qdc(c.db, u, io.BytesIO(QDC))),
    # coding (reads redacted answer text, writes codings)
    Action("coding_queue", ("code",), lambda c, u: coding.queue(c.db, u)),
    Action("get_answer", ("code",), lambda c, u: coding.get_answer(c.db, u, c.response_id)),
    Action("coding_counts", ("code",), lambda c, u: coding.counts(c.db, u)),
    Action("coders", ("code",), lambda c, u: coding.coders(c.db, u)),
    Action("filter_choices", ("code",), lambda c, u: coding.filter_choices(c.db, u)),
    Action("neighbour", ("code",), lambda c, u: coding.neighbour(c.db, u, coding.Filters(), c.response_id)),
    Action("position", ("code",), lambda c, u: coding.position(c.db, u, coding.Filters(), c.response_id)),
    Action("matches", ("code",), lambda c, u: coding.matches(c.db, u, coding.Filters(), c.response_id)),
    Action("dismissed", ("code",), lambda c, u: coding.dismissed(c.db, u, c.response_id)),
    Action("apply_code", ("code",), lambda c, u: coding.apply_code(c.db, u, c.response_id, c.other_code)),
    Action("accept_suggestion", ("code",), lambda c, u: coding.accept_suggestion(c.db, u, c.response_id, c.other_code)),
    Action("remove_code", ("code",), lambda c, u: coding.remove_code(c.db, u, c.response_id, c.code)),
    Action("dismiss_suggestion", ("code",), lambda c, u: coding.dismiss_suggestion(c.db, u, c.response_id, c.code)),
    Action("bulk_preview", ("code",), lambda c, u: coding.bulk_preview(c.db, u, c.code, coding.Filters(search="park"))),
    Action("bulk_apply", ("code",), lambda c, u: coding.bulk_apply(c.db, u, c.code, coding.Filters(search="park"))),
    Action("apply_many", ("code",), lambda c, u: coding.apply_many(c.db, u, [(c.response_id, c.other_code)])),
    Action("last_action", ("code",), lambda c, u: coding.last_action(c.db, u)),
    Action("undo", ("code",), lambda c, u: coding.undo(c.db, u)),
    Action("memos", ("code",), lambda c, u: coding.memos(c.db, u, "response", c.response_id)),
    Action("save_memo", ("code",), lambda c, u: coding.save_memo(c.db, u, "response", c.response_id, "a memo")),
    Action("import_codings_csv", ("code",), lambda c, u: coding.import_codings_csv(
        c.db, u, _csv(f"response_id,code,coder\n{c.response_id},{c.other_code},someone\n"))),
    Action("export_codings_csv", ("code",), lambda c, u: coding.export_codings_csv(c.db, u)),
    Action("draw_sample", ("code",), lambda c, u: agreement.draw_sample(
        c.db, u, coder_a="olu_officer", coder_b="second", size=1, seed=1)),
    Action("list_samples", ("code",), lambda c, u: agreement.list_samples(c.db, u)),
    Action("agreement_report", ("code",), lambda c, u: agreement.report(c.db, u, "olu_officer", "second")),
    Action("disagreements", ("code",), lambda c, u: agreement.disagreements(c.db, u, "olu_officer", "second")),
    Action("resolve", ("code",), lambda c, u: agreement.resolve(c.db, u, c.response_id, c.code, apply=False)),
    Action("build_suggester", ("code",), lambda c, u: suggestions.build_suggester(c.db, u)),
    Action("suggest_uncoded", ("code",), lambda c, u: suggestions.suggest_uncoded(c.db, u, top_k=2)),
    Action("pin_quote", ("code",), lambda c, u: findings.pin_quote(c.db, u, c.code_id, c.response_id)),
    # findings and exports
    Action("load_frames", ("findings",), lambda c, u: findings.load_frames(c.db, u, with_text=True)),
    Action("load_frames_originals", ("findings", "export_original"),
           lambda c, u: findings.load_frames(c.db, u, with_text=True, originals=True)),
    Action("findings_record_export", ("export",), lambda c, u: findings.record_export(c.db, u, "xlsx")),
    Action("findings_record_export_originals", ("export", "export_original"),
           lambda c, u: findings.record_export(c.db, u, "xlsx", originals=True)),
    Action("audit_record_export", ("export",), lambda c, u: audit.record_export(c.db, u, "csv")),
    Action("audit_record_export_originals", ("export", "export_original"),
           lambda c, u: audit.record_export(c.db, u, "csv", with_originals=True)),
    # safeguarding queue (original texts)
    Action("flag_queue", ("safeguarding",), lambda c, u: flags.queue(c.db, u)),
    Action("flag_get", ("safeguarding",), lambda c, u: flags.get(c.db, u, c.flag_id)),
    Action("flag_history", ("safeguarding",), lambda c, u: flags.history(c.db, u, c.flag_id)),
    Action("flag_counts", ("safeguarding",), lambda c, u: flags.counts(c.db, u)),
    Action("open_flags_as_dicts", ("safeguarding",), lambda c, u: flags.open_flags_as_dicts(c.db, u)),
    Action("flag_set_status", ("safeguarding",), lambda c, u: flags.set_status(c.db, u, c.flag_id, "reviewed", "seen")),
    Action("flag_release", ("safeguarding",), lambda c, u: flags.release(c.db, u, c.flag_id, "may be quoted")),
    Action("flag_overdue_count", ("safeguarding",), lambda c, u: flags.overdue_count(c.db, u)),
    Action("flagged_events", ("safeguarding",), lambda c, u: flags.flagged_events(c.db, u)),
    Action("flag_queue_mark_seen", ("safeguarding",), lambda c, u: flags.mark_seen(c.db, u)),
    # raising a flag: whoever records or imports answers, and the safeguarding lead
    Action("raise_flag", ("raise_flag",), lambda c, u: flags.raise_flag(
        c.db, u, kind="manual", reason="worried about a person", event_id=c.event.id)),
    # accounts, settings, audit log
    Action("create_user", ("manage_users",), lambda c, u: accounts.create_user(
        c.db, u, "newbie", "password-123456", ["strategy_lead"])),
    Action("list_accounts", ("manage_users",), lambda c, u: accounts.list_accounts(c.db, u)),
    Action("unlock", ("manage_users",), lambda c, u: accounts.unlock(c.db, u, "sam")),
    Action("reset_secret", ("manage_users",), lambda c, u: accounts.reset_secret(c.db, u, "sam", "another-pass-99")),
    Action("set_disabled", ("manage_users",), lambda c, u: accounts.set_disabled(c.db, u, "sam", True)),
    Action("set_roles", ("manage_users",), lambda c, u: accounts.set_roles(c.db, u, "sam", ["admin"])),
    Action("settings_put", ("settings",), lambda c, u: settings.put(c.db, u, "area_name", "Dudley")),
    Action("audit_entries", ("audit",), lambda c, u: audit.entries(c.db, u)),
    Action("audit_actions", ("audit",), lambda c, u: audit.actions(c.db, u)),
    # erasure and retention
    Action("find_respondent", ("erase",), lambda c, u: erasure.find_respondent(c.db, u, c.respondent_id)),
    Action("erase_preview", ("erase",), lambda c, u: erasure.preview(c.db, u, c.respondent_id)),
    Action("erase_respondent", ("erase",), lambda c, u: erasure.erase_respondent(c.db, u, c.respondent_id, "asked")),
    Action("tombstones", ("erase",), lambda c, u: erasure.tombstones(c.db, u)),
    Action("retention_status", ("erase",), lambda c, u: retention.status(c.db, u)),
    Action("retention_apply", ("erase",), lambda c, u: retention.apply(c.db, u)),
    # event bundles (original texts between laptops and the hub)
    Action("export_bundle", ("bundle",), lambda c, u: bundle.export_bundle(c.db, u, io.BytesIO())),
    Action("import_bundle", ("bundle",), lambda c, u: bundle.import_bundle(c.db, u, c.bundle)),
    Action("preview_bundle", ("bundle",), lambda c, u: bundle.import_bundle(c.db, u, c.bundle, dry_run=True)),
    Action("bundle_conflicts", ("bundle",), lambda c, u: bundle.conflicts(c.db, u)),
    Action("resolve_bundle_conflict", ("bundle",), lambda c, u: bundle.resolve_conflict(
        c.db, u, c.conflict_id, "local", "kept the hub's version")),
    # review before analysis (engagement officers and admins)
    Action("set_review_answer", ("review",), lambda c, u: review.set_review(
        c.db, u, response_id=c.response_id, state="has_issues", comment="half the answer is missing")),
    Action("set_review_respondent", ("review",), lambda c, u: review.set_review(
        c.db, u, respondent_id=c.respondent_id, state="approved")),
    Action("review_state", ("review",), lambda c, u: review.review_state(c.db, u, response_id=c.response_id)),
    Action("review_history", ("review",), lambda c, u: review.history(c.db, u, respondent_id=c.respondent_id)),
    Action("answer_review", ("review",), lambda c, u: review.answer_review(c.db, u, c.response_id)),
    Action("bulk_approve", ("review",), lambda c, u: review.bulk_approve(c.db, u, event_id=c.event.id)),
    Action("review_counts", ("review",), lambda c, u: review.counts(c.db, u)),
    Action("load_frames_approved_only", ("findings",),
           lambda c, u: findings.load_frames(c.db, u, with_text=True, approved_only=True)),
    # engagement rounds, actions and snapshots: officers and admins manage, strategy leads read
    Action("create_round", ("manage_rounds",), lambda c, u: rounds.create_round(c.db, u, "2026 refresh")),
    Action("rename_round", ("manage_rounds",), lambda c, u: rounds.rename_round(c.db, u, c.round_id, "Renamed")),
    Action("assign_events", ("manage_rounds",), lambda c, u: rounds.assign_events(
        c.db, u, c.round_id, [c.other_event_id])),
    Action("unassign_events", ("manage_rounds",), lambda c, u: rounds.unassign_events(
        c.db, u, c.round_id, [c.event.id])),
    Action("list_rounds", ("findings",), lambda c, u: rounds.list_rounds(c.db, u)),
    Action("get_round", ("findings",), lambda c, u: rounds.get_round(c.db, u, "Neglect strategy 2019")),
    Action("round_events", ("findings",), lambda c, u: rounds.round_events(c.db, u, c.round_id)),
    Action("round_languages", ("findings",), lambda c, u: rounds.round_languages(c.db, u, c.round_id)),
    Action("load_frames_round", ("findings",), lambda c, u: findings.load_frames(c.db, u, round_id=c.round_id)),
    Action("take_snapshot", ("manage_rounds",), lambda c, u: rounds.take_snapshot(c.db, u, c.round_id, "Q3 2026")),
    Action("list_snapshots", ("findings",), lambda c, u: rounds.list_snapshots(c.db, u, c.round_id)),
    Action("add_action", ("manage_rounds",), lambda c, u: round_actions.add_action(
        c.db, u, c.round_id, c.code, "More youth club nights", owner="Early help", due="2027-03-31")),
    Action("update_action", ("manage_rounds",), lambda c, u: round_actions.update_action(
        c.db, u, c.action_id, status="done")),
    Action("list_actions", ("findings",), lambda c, u: round_actions.list_actions(c.db, u, c.round_id)),
    Action("feedback_sheet", ("export",), lambda c, u: round_actions.feedback_sheet(c.db, u, c.round_id)),
]

ROLE_PARAMS = [*ROLES, None]


def _build_world(db) -> dict[str, object]:
    """An event with a respondent (one flagged answer), the starter codebook, a coding, a transcribed post-it,
    a second account; built by users who hold every role so the set-up itself is never refused."""
    everyone = User("olu_officer", frozenset(ROLES))
    event = events.create_event(db, everyone, name="Family centre drop-in", date="2026-11-20")
    saved = capture.save_respondent(db, everyone, event_id=event.id, group_id="young_person", consent=True,
                                    answers={"thrive_helps": ["the park", DISCLOSURE]})
    response_id = db.execute("SELECT id FROM responses WHERE respondent_id = ? AND text = 'the park'",
                             [saved.respondent_id]).fetchone()[0]
    codebook.load_starter_codebook(db, everyone)
    codes = [c.name for c in codebook.list_codes(db) if c.parent_id is not None]
    coding.apply_code(db, everyone, response_id, codes[0])
    postit = capture.add_transcribed(db, everyone, event_id=event.id, question_id="neglect_is", group_id="resident",
                                     text="no one listens")
    accounts.create_user(db, None, "ada", "password-123456", ["admin"])
    accounts.create_user(db, User("ada", frozenset({"admin"})), "sam", "password-123456", ["strategy_lead"])
    own_bundle = io.BytesIO()
    bundle.export_bundle(db, everyone, own_bundle)
    # the venue changed after the export: its own bundle brings back a conflict for an admin to resolve
    with db.conn:
        db.execute("UPDATE events SET venue = 'Moved to the library' WHERE id = ?", [event.id])
    bundle.import_bundle(db, everyone, own_bundle.getvalue())
    conflict_id = bundle.conflicts(db, everyone)[0]["id"]
    round_ = rounds.create_round(db, everyone, "Neglect strategy 2019")
    rounds.assign_events(db, everyone, round_.id, [event.id])
    other_event = events.create_event(db, everyone, name="Youth club night", date="2026-12-02")
    action = round_actions.add_action(db, everyone, round_.id, codes[0], "Open the youth club on Fridays")
    return dict(round_id=round_.id, other_event_id=other_event.id, action_id=action.id, event=event, respondent_id=saved.respondent_id, response_id=response_id, code=codes[0],
                other_code=codes[1], code_id=codebook.get_code(db, codes[0]).id, flag_id=saved.flags[0].id,
                postit_id=postit.response_id, bundle=own_bundle.getvalue(), conflict_id=conflict_id)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The world is built once per module; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("permissions") / "template.db"
    db = open_db(path)
    ids = _build_world(db)
    with db.ensure_autocommit_on():
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path, ids


@pytest.fixture
def world(template, db_path):
    path, ids = template
    shutil.copyfile(path, db_path)
    db = open_db(db_path)
    yield SimpleNamespace(db=db, **ids)
    db.conn.close()


def _snapshot(db) -> dict[str, list[tuple]]:
    return {t: sorted(map(tuple, db.execute(f"SELECT * FROM [{t}]").fetchall()), key=repr) for t in db.table_names()}


def _user(role: str | None) -> User | None:
    # one name for every role, matching the fixture's coder, so "own work" checks do not hide the permission check
    return None if role is None else User("olu_officer", frozenset({role}))


def _allowed(action: Action, role: str | None) -> bool:
    return role is not None and all(role in PERMISSIONS[p] for p in action.permissions)


def test_every_permission_is_exercised():
    assert {p for a in ACTIONS for p in a.permissions} >= set(PERMISSIONS) - {"read_answers"}
    assert len({a.name for a in ACTIONS}) == len(ACTIONS)


@pytest.mark.parametrize("role", ROLE_PARAMS, ids=lambda r: r or "nobody")
@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_role_checks(world, action, role):
    user = _user(role)
    if _allowed(action, role):
        action.call(world, user)  # the world is set up so that every action succeeds for a permitted user
        return
    before = _snapshot(world.db)
    with pytest.raises(PermissionDenied):
        action.call(world, user)
    assert _snapshot(world.db) == before, "a refused action wrote to the database"


def test_peer_researcher_cannot_read_answers_but_sees_counts(world):
    researcher = User("pia", frozenset({"peer_researcher"}))
    counts = capture.event_counts(world.db, researcher, world.event.id)
    # one person saved on the tablet, one transcribed post-it: the post-it is counted as a post-it, not a person
    assert counts.answers == 3 and counts.respondents == 1 and counts.postits == 1
    for read in (lambda: coding.queue(world.db, researcher), lambda: findings.load_frames(world.db, researcher),
                 lambda: flags.queue(world.db, researcher), lambda: stats.answers_by_question_and_group(world.db, researcher)):
        with pytest.raises(PermissionDenied):
            read()
    # a peer researcher may undo only their own post-it, and gets back only its text
    with pytest.raises(capture.CaptureError):
        capture.undo_transcribed(world.db, researcher, world.postit_id)


def test_strategy_lead_sees_redacted_text_only(db, admin, researcher, event):
    capture.save_respondent(db, researcher, event_id=event.id, group_id="parent_carer", consent=True,
                            answers={"thrive_helps": "call me on 07700 900123"})
    lead = User("sam", frozenset({"strategy_lead"}))
    frames = findings.load_frames(db, lead, with_text=True)
    texts = " ".join(frames.answers["text"])
    assert "07700" not in texts and "[phone]" in texts
    assert "original_text" not in frames.answers.columns
    with pytest.raises(PermissionDenied):
        findings.load_frames(db, lead, with_text=True, originals=True)
    admin_frames = findings.load_frames(db, admin, with_text=True, originals=True)
    assert "07700" in " ".join(admin_frames.answers["original_text"])
