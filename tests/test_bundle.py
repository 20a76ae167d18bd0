"""Event bundles: a data set split across three laptops and merged in random orders equals the single database;
twice adds nothing; damaged, altered, truncated and newer-schema bundles are refused whole; conflicts keep the
local version; erasure wins both ways; a merge killed with SIGKILL leaves the hub as before.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from data import bundle, capture, codebook, coding, erasure, events, findings, flags, importer, open_db, review
from data.db import connect
from data.schema import migrations
from data.users import User

ROOT = Path(__file__).resolve().parent.parent
ADMIN = User("ada_admin", frozenset({"admin"}))
HUB_ADMIN = User("hub_admin", frozenset({"admin"}))
RESEARCHER = User("pia_researcher", frozenset({"peer_researcher"}))
OFFICERS = [User("olu_officer", frozenset({"engagement_officer"})), User("kim_officer", frozenset({"engagement_officer"}))]
LEAD = User("sue_safeguarding", frozenset({"safeguarding_lead"}))
QUESTIONS = ["thrive_helps", "thrive_stops", "neglect_is", "thrive_local"]
GROUPS = ["young_person", "parent_carer", "resident", "practitioner"]
WORDS = ("youth club parks family time money worries phones bullying school support trusted adult food housing "
         "cold house safe places sport music library free activities buses after school clubs").split()
DISCLOSURES = ["my dad hits me when he's drunk", "my step dad hurts me at home", "i get sent to sell stuff for older lads"]


def _checkpoint(db) -> None:
    with db.ensure_autocommit_on():
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _copy(src_db, src: Path, dst: Path) -> None:
    _checkpoint(src_db)
    shutil.copyfile(src, dst)


def _answer(rng: random.Random) -> str:
    if rng.random() < 0.06:
        return rng.choice(DISCLOSURES)
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 7)))


def build_master(path: Path, snapshot: Path, seed: int) -> dict:
    """The single-database result: six events, a few hundred answers (tablet and imported), codings by two coders,
    memos, pins, flags (some reviewed), then a snapshot copy, then an erasure and a later flag decision."""
    rng = random.Random(seed)
    db = open_db(path)
    evs = [events.create_event(db, ADMIN, name=f"Event {i}", date=f"2026-11-{10 + i:02d}") for i in range(6)]
    for ev in evs:
        for _ in range(rng.randint(8, 14)):
            answers = {q: [_answer(rng) for _ in range(rng.randint(0, 2))] for q in rng.sample(QUESTIONS, 2)}
            if not any(answers.values()):
                answers[QUESTIONS[0]] = [_answer(rng)]
            capture.save_respondent(db, RESEARCHER, event_id=ev.id, group_id=rng.choice(GROUPS), consent=True,
                                    answers=answers, worried=rng.random() < 0.05)
    for ev in evs[:3]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "question", "group", "text", "respondent"])
        for i in range(rng.randint(25, 40)):
            writer.writerow([f"x{i}", rng.choice(QUESTIONS), GROUPS[(i // 3) % 4], _answer(rng), f"p{i // 3}"])
        importer.import_responses(db, OFFICERS[0], out.getvalue().encode(), "sheet.csv", event=ev.id)
    codebook.load_starter_codebook(db, ADMIN)
    subcodes = [c for c in codebook.list_codes(db) if c.parent_id is not None]
    response_ids = [r[0] for r in db.execute("SELECT id FROM responses ORDER BY created_at, id")]
    for rid in response_ids:
        for officer in OFFICERS:
            if rng.random() < 0.4:
                for code in rng.sample(subcodes, rng.randint(1, 2)):
                    coding.apply_code(db, officer, rid, code.name)
    for rid in rng.sample(response_ids, 8):
        coding.save_memo(db, OFFICERS[0], "response", rid, f"memo {rng.randint(0, 999)}")
    withheld = {r[0] for r in db.execute(f"SELECT r.id FROM responses r WHERE {flags.withheld_sql('r')}")}
    pinned = 0
    for rid, code_id in db.execute("SELECT response_id, code_id FROM codings ORDER BY response_id").fetchall():
        if rid not in withheld and pinned < 5:
            findings.pin_quote(db, OFFICERS[0], code_id, rid)
            pinned += 1
    # reviews: respondents approved, answers with issues, a changed mind (history), a whole event approved
    respondent_ids = [r[0] for r in db.execute("SELECT id FROM respondents ORDER BY created_at, id")]
    for pid in rng.sample(respondent_ids, 10):
        review.set_review(db, OFFICERS[0], respondent_id=pid, state="approved")
    for rid in rng.sample(response_ids, 10):
        review.set_review(db, OFFICERS[1], response_id=rid, state="has_issues", comment="garbled in transcription")
        if rng.random() < 0.5:
            review.set_review(db, OFFICERS[0], response_id=rid, state="approved")
    review.bulk_approve(db, OFFICERS[0], event_id=evs[4].id)
    all_flags = [r[0] for r in db.execute("SELECT id FROM flags ORDER BY created_at")]
    assert len(all_flags) >= 3, "the seed must raise a few flags"
    for flag_id in all_flags[::3]:
        flags.set_status(db, LEAD, flag_id, "reviewed", "seen")
    # the respondent to erase: one with a flag and a coding
    victim = db.execute("SELECT f.respondent_id FROM flags f JOIN responses r ON r.respondent_id = f.respondent_id "
                        "JOIN codings c ON c.response_id = r.id WHERE f.status = 'open' LIMIT 1").fetchone()[0]
    victim_event = db.execute("SELECT event_id FROM respondents WHERE id = ?", [victim]).fetchone()[0]
    victim_flags = [r[0] for r in db.execute("SELECT id FROM flags WHERE respondent_id = ?", [victim])]
    review.set_review(db, OFFICERS[0], respondent_id=victim, state="approved")  # erased with them later
    _copy(db, path, snapshot)
    time.sleep(0.01)
    erasure.erase_respondent(db, ADMIN, victim, "withdrew consent")
    flags.set_status(db, LEAD, victim_flags[0], "referred", "passed to children's services")  # after the erasure
    _checkpoint(db)
    db.conn.close()
    return dict(events=[e.id for e in evs], victim=victim, victim_event=victim_event)


def prune(path: Path, keep: list[str]) -> None:
    """Leave only the chosen events in a laptop's copy (test set-up: triggers dropped in the copy only)."""
    db = open_db(path)
    marks = ", ".join("?" for _ in keep)
    db.execute("DROP TRIGGER flags_no_delete")
    gone = f"(SELECT id FROM responses WHERE event_id NOT IN ({marks}))"
    with db.conn:
        for sql in (f"DELETE FROM codings WHERE response_id IN {gone}",
                    f"DELETE FROM memos WHERE target_type = 'response' AND target_id IN {gone}",
                    f"DELETE FROM pinned_quotes WHERE response_id IN {gone}",
                    f"DELETE FROM suggestion_dismissals WHERE response_id IN {gone}",
                    f"DELETE FROM flag_history WHERE flag_id IN (SELECT id FROM flags WHERE event_id NOT IN ({marks}))",
                    f"DELETE FROM flags WHERE event_id NOT IN ({marks})",
                    f"DELETE FROM responses WHERE event_id NOT IN ({marks})",
                    f"DELETE FROM respondents WHERE event_id NOT IN ({marks})",
                    f"DELETE FROM events WHERE id NOT IN ({marks})"):
            db.execute(sql, keep * sql.count("NOT IN"))
    _checkpoint(db)
    db.conn.close()


def picture(path: Path) -> dict[str, set]:
    """What must be equal between the single database and the merged hub."""
    db = open_db(path)
    try:
        def rows(sql: str) -> set:
            return set(map(tuple, db.execute(sql).fetchall()))

        return {
            "events": rows("SELECT id, name, venue, date, area, question_set_id, status, created_by, created_at, "
                           "closed_at FROM events"),
            "respondents": rows("SELECT id, event_id, group_id, profile, language, consent, consent_method, source, "
                                "external_ref, submission_token, recorded_by, created_at FROM respondents"),
            "responses": rows("SELECT id, respondent_id, event_id, question_id, position, text, redacted_text, "
                              "external_id, source, recorded_by, created_at, text_purged_at FROM responses"),
            "codings": rows("SELECT c.response_id, k.name, c.coder, c.source, c.created_at FROM codings c "
                            "JOIN codes k ON k.id = c.code_id"),
            "memos": rows("SELECT target_id, author, text, created_at FROM memos WHERE target_type = 'response'"),
            "pins": rows("SELECT k.name, p.response_id, p.pinned_by, p.at FROM pinned_quotes p "
                         "JOIN codes k ON k.id = p.code_id"),
            # updated_at is left out: an erasure applied on the hub stamps its own time
            "flags": rows("SELECT id, respondent_id, response_id, event_id, kind, reason, status, raised_by, "
                          "created_at, category, strength, released_at FROM flags"),
            "flag_history": rows("SELECT flag_id, status, note, by, at FROM flag_history"),
            "tombstones": rows("SELECT DISTINCT kind, ref_id FROM tombstones"),
            "reviews": rows("SELECT id, event_id, respondent_id, response_id, state, comment, by, at FROM reviews"),
            "review_counts": rows(f"SELECT event_id, state, COUNT(*) FROM ({review.EFFECTIVE_SQL}) "
                                  "GROUP BY event_id, state"),
        }
    finally:
        db.conn.close()


def dump(path: Path) -> dict[str, list]:
    db = open_db(path)
    try:
        return {t: sorted(map(tuple, db.execute(f"SELECT * FROM [{t}]").fetchall()), key=repr)
                for t in db.table_names()}
    finally:
        db.conn.close()


def export(path: Path, out: Path, event_ids=None) -> dict:
    db = open_db(path)
    try:
        return bundle.export_bundle(db, ADMIN, out, event_ids)
    finally:
        db.conn.close()


def merge(hub: Path, file, dry_run: bool = False) -> bundle.BundleReport:
    db = open_db(hub)
    try:
        return bundle.import_bundle(db, HUB_ADMIN, file, dry_run=dry_run)
    finally:
        db.conn.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The master database, three laptops holding overlapping parts of it (the erased respondent's event on a laptop
    copied before the erasure and on one copied after), and each laptop's bundle."""
    base = tmp_path_factory.mktemp("bundle")
    rng = random.Random(13)
    info = build_master(base / "master.db", base / "snapshot.db", seed=13)
    assignment = {0: set(), 1: set(), 2: set()}
    for ev in info["events"]:
        for laptop in rng.sample(range(3), rng.choice([1, 1, 2, 3])):
            assignment[laptop].add(ev)
    assignment[0].add(info["victim_event"])  # laptop 0 was copied before the erasure
    assignment[1].add(info["victim_event"])
    bundles = []
    for laptop, keep in assignment.items():
        path = base / f"laptop{laptop}.db"
        shutil.copyfile(base / ("snapshot.db" if laptop == 0 else "master.db"), path)
        prune(path, sorted(keep))
        out = base / f"laptop{laptop}.zip"
        export(path, out)
        bundles.append(out)
    return dict(base=base, master=base / "master.db", bundles=bundles, assignment=assignment, **info)


def _hub(tmp_path: Path, name: str = "hub.db") -> Path:
    path = tmp_path / name
    open_db(path).conn.close()
    return path


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=lambda o: "-".join(map(str, o)))
def test_merge_in_any_order_equals_the_single_database(world, tmp_path, order):
    rng = random.Random(sum(order) * 7 + order[0])
    order = [world["bundles"][i] for i in order]
    order.insert(rng.randint(1, 3), rng.choice(order))  # a laptop re-sends its bundle
    hub = _hub(tmp_path)
    for file in order:
        merge(hub, file)
    master, merged = picture(world["master"]), picture(hub)
    assert len(master["responses"]) >= 200
    for table in ("events", "respondents", "responses", "codings", "memos", "pins", "flags", "tombstones",
                  "reviews", "review_counts"):
        assert merged[table] == master[table], table
    assert {s for _, s, _ in master["review_counts"]} == {"received", "approved", "has_issues"}
    assert world["victim"] not in {r[2] for r in merged["reviews"]}, "an erased respondent's review came back"
    assert master["flag_history"] <= merged["flag_history"]
    extra = merged["flag_history"] - master["flag_history"]
    # the only extra history: the hub's own erasure, when the copy made before the erasure arrived first
    assert all(by == HUB_ADMIN.username and "Erased on another laptop" in note for _, _, note, by, _ in extra)
    assert world["victim"] not in {r[0] for r in merged["respondents"]}
    referred = [f for f in merged["flags"] if f[6] == "referred"]
    assert len(referred) == 1 and referred[0][1] is None, "the decision made after the erasure arrives, unlinked"
    # nothing in conflict when every laptop holds copies of the same records
    db = open_db(hub)
    assert db.execute("SELECT COUNT(*) FROM bundle_conflicts").fetchone()[0] == 0
    db.conn.close()


def test_twice_adds_nothing(world, tmp_path):
    hub = _hub(tmp_path)
    first = merge(hub, world["bundles"][1])
    assert first.tables["responses"].new > 0
    before = dump(hub)
    again = merge(hub, world["bundles"][1])
    assert again.added == 0 and again.conflict_count == 0
    assert sum(c.present for c in again.tables.values()) == sum(c.new for c in first.tables.values())
    assert dump(hub) == before
    assert "Nothing new" in again.summary()


def test_dry_run_writes_nothing_and_previews(world, tmp_path):
    hub = _hub(tmp_path)
    before = dump(hub)
    preview = merge(hub, world["bundles"][2], dry_run=True)
    assert dump(hub) == before
    real = merge(hub, world["bundles"][2])
    assert {t: c.as_dict() for t, c in preview.tables.items()} == {t: c.as_dict() for t, c in real.tables.items()}
    assert "Nothing was written" in preview.summary()


def test_open_flags_arrive_in_the_queue_with_their_times(world, tmp_path):
    hub = _hub(tmp_path)
    report = merge(hub, world["bundles"][1])
    laptop = open_db(world["base"] / "laptop1.db")
    expected = set(map(tuple, laptop.execute(
        "SELECT id, created_at, raised_by FROM flags WHERE status = 'open'").fetchall()))
    laptop.conn.close()
    assert report.open_flags_arrived == len(expected) > 0
    assert f"Safeguarding on arrival: {len(expected)} open flag(s)" in report.summary()
    db = open_db(hub)
    queued = {(item.id, item.created_at, item.raised_by)
              for item in flags.queue(db, LEAD, statuses=("open",))}
    db.conn.close()
    assert queued == expected


def test_export_of_chosen_events_only(world, tmp_path):
    one = world["events"][4]
    out = tmp_path / "one.zip"
    manifest = export(world["master"], out, [one])
    assert manifest["events"] == [one]
    hub = _hub(tmp_path)
    merge(hub, out)
    assert {r[2] for r in picture(hub)["responses"]} == {one}
    assert manifest["schema"] == [m.name for m in migrations.applied(open_db(world["master"]))]
    with pytest.raises(bundle.BundleError, match="No event"):
        export(world["master"], tmp_path / "x.zip", ["not-an-event"])


# --- refused bundles ------------------------------------------------------------------------------------------------

def _rezip(src: Path, dst: Path, change) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        items = {name: zin.read(name) for name in zin.namelist()}
        for name, data in change(items).items():
            zout.writestr(name, data)


def _refused(hub: Path, file, match: str) -> None:
    before = dump(hub)
    with pytest.raises(bundle.BundleError, match=match):
        merge(hub, file)
    assert dump(hub) == before, "a refused bundle wrote to the database"


def test_tampered_part_is_refused_whole(world, tmp_path):
    hub = _hub(tmp_path)
    merge(hub, world["bundles"][0])  # the hub holds something already

    def flip(items):
        blob = bytearray(items["responses.jsonl"])
        at = blob.index(b'"text":"') + 9
        blob[at] = ord("Z") if blob[at] != ord("Z") else ord("Y")
        return {**items, "responses.jsonl": bytes(blob)}

    _rezip(world["bundles"][1], tmp_path / "tampered.zip", flip)
    _refused(hub, tmp_path / "tampered.zip", "responses.jsonl does not match its sha256")


def test_byte_changed_in_the_file_is_refused(world, tmp_path):
    hub = _hub(tmp_path)
    data = bytearray(world["bundles"][1].read_bytes())
    with zipfile.ZipFile(world["bundles"][1]) as archive:
        info = archive.getinfo("responses.jsonl")
    data[info.header_offset + 30 + len(info.filename) + 40] ^= 0x55  # inside the compressed part
    _refused(hub, bytes(data), "refused")


def test_truncated_file_is_refused(world, tmp_path):
    hub = _hub(tmp_path)
    data = world["bundles"][1].read_bytes()
    _refused(hub, data[: len(data) // 2], "damaged or truncated")
    _refused(hub, b"", "damaged or truncated")


def test_missing_or_extra_part_is_refused(world, tmp_path):
    hub = _hub(tmp_path)
    _rezip(world["bundles"][1], tmp_path / "missing.zip", lambda items: {k: v for k, v in items.items()
                                                                          if k != "codings.jsonl"})
    _refused(hub, tmp_path / "missing.zip", "codings.jsonl are missing")
    _rezip(world["bundles"][1], tmp_path / "extra.zip", lambda items: {**items, "evil.jsonl": b"{}\n"})
    _refused(hub, tmp_path / "extra.zip", "evil.jsonl")


def _with_schema(src: Path, dst: Path, schema) -> None:
    import json

    def change(items):
        manifest = json.loads(items["manifest.json"])
        manifest["schema"] = schema(manifest["schema"])
        return {**items, "manifest.json": json.dumps(manifest).encode()}

    _rezip(src, dst, change)


def test_newer_schema_is_refused(world, tmp_path):
    hub = _hub(tmp_path)
    _with_schema(world["bundles"][1], tmp_path / "newer.zip", lambda s: [*s, "0099_future_change"])
    _refused(hub, tmp_path / "newer.zip", "newer version of Thrive Voices.*0099_future_change.*Upgrade")


def test_hub_lacking_a_migration_is_asked_to_upgrade(world, tmp_path):
    path = tmp_path / "old-hub.db"
    old = connect(path)
    migrations.apply(old, stop_before="0010_bundles")
    before = {t: old.execute(f"SELECT COUNT(*) FROM [{t}]").fetchone()[0] for t in old.table_names()}
    with pytest.raises(bundle.BundleError, match="lacks the changes 0010_bundles.*Upgrade the hub"):
        bundle.import_bundle(old, HUB_ADMIN, world["bundles"][1])
    assert {t: old.execute(f"SELECT COUNT(*) FROM [{t}]").fetchone()[0] for t in old.table_names()} == before
    old.conn.close()


# --- conflicts and erasure ------------------------------------------------------------------------------------------

def _laptop_copy(world, tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"copy{n}.db"
    shutil.copyfile(world["base"] / f"laptop{n}.db", path)
    return path


def test_conflicting_answer_is_reported_and_local_text_kept(world, tmp_path):
    hub = _hub(tmp_path)
    merge(hub, world["bundles"][1])
    laptop = _laptop_copy(world, tmp_path, 1)
    db = open_db(laptop)
    rid, text = db.execute("SELECT id, text FROM responses ORDER BY id LIMIT 1").fetchone()
    with db.conn:
        db.execute("UPDATE responses SET text = 'changed on the laptop' WHERE id = ?", [rid])
    db.conn.close()
    export(laptop, tmp_path / "changed.zip")
    report = merge(hub, tmp_path / "changed.zip")
    assert report.tables["responses"].conflicts == 1 and report.tables["responses"].new == 0
    assert any(rid in line and "text" in line for line in report.conflicts)
    hub_db = open_db(hub)
    assert hub_db.execute("SELECT text FROM responses WHERE id = ?", [rid]).fetchone()[0] == text
    stored = hub_db.execute("SELECT table_name, record_id, incoming FROM bundle_conflicts").fetchall()
    assert len(stored) == 1 and stored[0][:2] == ("responses", rid) and "changed on the laptop" in stored[0][2]
    assert bundle.conflicts(hub_db, HUB_ADMIN)[0]["record_id"] == rid
    hub_db.conn.close()
    before = dump(hub)
    again = merge(hub, tmp_path / "changed.zip")
    assert again.conflict_count == 1 and dump(hub) == before, "a conflict is recorded once"


def test_code_with_another_definition_keeps_the_local_one(world, tmp_path):
    hub = _hub(tmp_path)
    laptop = open_db(world["base"] / "laptop1.db")
    name = laptop.execute("SELECT k.name FROM codes k JOIN codings c ON c.code_id = k.id LIMIT 1").fetchone()[0]
    laptop.conn.close()
    db = open_db(hub)
    codebook.create_code(db, ADMIN, name, "Local label", definition="what it means here")
    db.conn.close()
    report = merge(hub, world["bundles"][1])
    assert name in report.code_conflicts and name not in report.codes_created
    db = open_db(hub)
    assert codebook.get_code(db, name).definition == "what it means here"
    coded = db.execute("SELECT COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id WHERE k.name = ?",
                       [name]).fetchone()[0]
    db.conn.close()
    assert coded > 0, "codings match the local code by name"


def test_erased_here_is_not_brought_back(world, tmp_path):
    hub = _hub(tmp_path)
    merge(hub, world["bundles"][2])
    db = open_db(hub)
    victim = db.execute("SELECT respondent_id FROM responses r JOIN codings c ON c.response_id = r.id "
                        "LIMIT 1").fetchone()[0]
    answers = db.execute("SELECT COUNT(*) FROM responses WHERE respondent_id = ?", [victim]).fetchone()[0]
    erasure.erase_respondent(db, HUB_ADMIN, victim, "withdrew at the hub")
    db.conn.close()
    report = merge(hub, world["bundles"][2])
    assert report.tables["respondents"].erased == 1 and report.tables["responses"].erased == answers
    assert report.tables["codings"].erased > 0 and report.added == 0
    db = open_db(hub)
    assert db.execute("SELECT COUNT(*) FROM respondents WHERE id = ?", [victim]).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM responses WHERE respondent_id = ?", [victim]).fetchone()[0] == 0
    db.conn.close()


def test_erasure_in_the_bundle_erases_here(world, tmp_path):
    hub = _hub(tmp_path)
    merge(hub, world["bundles"][0])  # copied before the erasure: the victim is here now
    db = open_db(hub)
    assert db.execute("SELECT 1 FROM respondents WHERE id = ?", [world["victim"]]).fetchone()
    db.conn.close()
    report = merge(hub, world["bundles"][1])
    assert report.erased_here == [world["victim"]]
    db = open_db(hub)
    assert not db.execute("SELECT 1 FROM respondents WHERE id = ?", [world["victim"]]).fetchone()
    assert not db.execute("SELECT 1 FROM responses WHERE respondent_id = ?", [world["victim"]]).fetchone()
    kept = db.execute("SELECT COUNT(*) FROM flags WHERE respondent_id IS NULL AND event_id = ?",
                      [world["victim_event"]]).fetchone()[0]
    assert kept >= 1, "the victim's flags stay, unlinked"
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'respondent_erased' AND actor = ?",
                      [HUB_ADMIN.username]).fetchone()[0] == 1
    db.conn.close()


def test_refused_without_the_permission(world, tmp_path):
    hub = _hub(tmp_path)
    db = open_db(hub)
    from data.users import PermissionDenied

    for role in ("engagement_officer", "safeguarding_lead", "strategy_lead", "peer_researcher"):
        with pytest.raises(PermissionDenied):
            bundle.import_bundle(db, User("x", frozenset({role})), world["bundles"][0])
        with pytest.raises(PermissionDenied):
            bundle.export_bundle(db, User("x", frozenset({role})), io.BytesIO())
    db.conn.close()


# --- command line ---------------------------------------------------------------------------------------------------

def test_cli_export_and_import(world, tmp_path):
    from cli import cli

    runner = CliRunner()
    one = world["events"][1]
    out = tmp_path / "cli.zip"
    done = runner.invoke(cli, ["bundle", "export", str(out), "--event", one, "--db", str(world["master"])])
    assert done.exit_code == 0, done.output
    assert "Wrote" in done.output and out.exists()
    hub = _hub(tmp_path)
    preview = runner.invoke(cli, ["bundle", "import", str(out), "--dry-run", "--db", str(hub)])
    assert preview.exit_code == 0 and "Nothing was written" in preview.output
    assert picture(hub)["responses"] == set()
    done = runner.invoke(cli, ["bundle", "import", str(out), "--db", str(hub)])
    assert done.exit_code == 0 and "Imported bundle" in done.output
    assert {r[2] for r in picture(hub)["responses"]} == {one}
    (tmp_path / "bad.zip").write_bytes(out.read_bytes()[:100])
    bad = runner.invoke(cli, ["bundle", "import", str(tmp_path / "bad.zip"), "--db", str(hub)])
    assert bad.exit_code == 1 and "refused" in bad.output
    unknown = runner.invoke(cli, ["bundle", "export", str(out), "--event", "No such event", "--db", str(hub)])
    assert unknown.exit_code == 1


# --- kill -9 during a merge -----------------------------------------------------------------------------------------

ROWS = 24_000


@pytest.fixture(scope="module")
def big_bundle(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("bigbundle")
    rng = random.Random(5)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "question", "group", "text", "respondent"])
    for i in range(ROWS):
        writer.writerow([f"k{i}", QUESTIONS[i % 4], "resident", " ".join(rng.sample(WORDS, 6)), f"p{i // 4}"])
    db = open_db(base / "laptop.db")
    importer.import_responses(db, ADMIN, out.getvalue().encode(), "big.csv", event="Big event")
    db.conn.close()
    export(base / "laptop.db", base / "big.zip")
    return base / "big.zip"


def _wal(path: Path) -> int:
    try:
        return os.path.getsize(f"{path}-wal")
    except OSError:
        return 0


@pytest.mark.slow
def test_sigkill_during_a_merge_leaves_the_hub_as_before(world, big_bundle, tmp_path):
    hub = _hub(tmp_path)
    merge(hub, world["bundles"][2])
    db = open_db(hub)
    _checkpoint(db)
    db.conn.close()
    before = dump(hub)
    baseline = _wal(hub)
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "bundle", "import", str(big_bundle),
                             "--db", str(hub)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    outcome = "timeout"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            outcome = "finished"
            break
        if _wal(hub) > baseline + 3_000_000:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            outcome = "killed"
            break
        time.sleep(0.002)
    else:
        proc.kill()
        proc.wait()
    assert outcome == "killed", f"the merge {outcome} before it could be killed mid-write: make the bundle bigger"
    assert dump(hub) == before, "a merge killed before COMMIT left something behind"
    report = merge(hub, big_bundle)
    assert report.tables["responses"].new == ROWS


# --- the Admin page -------------------------------------------------------------------------------------------------

def test_admin_page_previews_then_imports(world, db_path):
    from streamlit.testing.v1 import AppTest

    from data import accounts

    db = open_db(db_path)
    accounts.create_user(db, None, "boss", "password-123456", ["admin"])
    db.conn.close()
    at = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=60)
    at.session_state["auth_user"] = User("boss", frozenset({"admin"}))
    at.run()
    assert not at.exception, at.exception
    at.file_uploader(key="admin_bundle_upload").upload("laptop1.zip", world["bundles"][1].read_bytes(),
                                                       "application/zip")
    at.run()
    assert not [b for b in at.button if b.key == "admin_bundle_import"], "Import is offered only after a preview"
    at.button(key="admin_bundle_preview_button").click().run()
    assert not at.exception, at.exception
    assert any("Nothing was written" in t.value for t in at.text)
    assert picture(db_path)["responses"] == set()
    at.button(key="admin_bundle_import").click().run()
    assert not at.exception, at.exception
    laptop = picture(world["base"] / "laptop1.db")
    assert picture(db_path)["responses"] == laptop["responses"]
    assert any("Imported bundle" in s.value for s in at.success)
    # a damaged upload is refused with the reason
    at.file_uploader(key="admin_bundle_upload").upload("bad.zip", b"PK\x03\x04 broken", "application/zip")
    at.run()
    at.button(key="admin_bundle_preview_button").click().run()
    assert any("refused" in e.value for e in at.error)


# --- resolving conflicts (an admin keeps the local or the incoming version) ---------------------------------------

def _pair(tmp_path: Path) -> dict:
    """A laptop with one event and one respondent, merged once into a hub: later changes on the laptop conflict."""
    laptop, hub = tmp_path / "laptop.db", tmp_path / "hub.db"
    db = open_db(laptop)
    ev = events.create_event(db, ADMIN, name="Park day", date="2026-11-21")
    saved = capture.save_respondent(db, RESEARCHER, event_id=ev.id, group_id="young_person", consent=True,
                                    answers={"thrive_helps": ["the youth club on fridays"]})
    rid = db.execute("SELECT id FROM responses WHERE respondent_id = ?", [saved.respondent_id]).fetchone()[0]
    db.conn.close()
    open_db(hub).conn.close()
    export(laptop, tmp_path / "first.zip")
    merge(hub, tmp_path / "first.zip")
    return dict(laptop=laptop, hub=hub, event_id=ev.id, respondent_id=saved.respondent_id, response_id=rid,
                tmp=tmp_path)


def _conflicting(pair: dict, sql: str, params: list) -> list[dict]:
    """Change the laptop with `sql`, carry a bundle to the hub, and return the hub's open conflicts."""
    db = open_db(pair["laptop"])
    with db.conn:
        db.execute(sql, params)
    db.conn.close()
    out = pair["tmp"] / f"change{len(list(pair['tmp'].glob('change*.zip')))}.zip"
    export(pair["laptop"], out)
    report = merge(pair["hub"], out)
    assert report.conflict_count >= 1
    db = open_db(pair["hub"])
    try:
        return bundle.conflicts(db, HUB_ADMIN)
    finally:
        db.conn.close()


def _answer_conflict(pair: dict, text: str) -> int:
    found = _conflicting(pair, "UPDATE responses SET text = ? WHERE id = ?", [text, pair["response_id"]])
    (row,) = [c for c in found if c["table_name"] == "responses"]
    return row["id"]


def _resolutions(db) -> list[dict]:
    return [json.loads(r[0]) for r in db.execute(
        "SELECT detail FROM audit WHERE action = 'bundle_conflict_resolved' ORDER BY id")]


def test_keep_local_marks_it_resolved_and_changes_nothing_else(tmp_path):
    pair = _pair(tmp_path)
    cid = _answer_conflict(pair, "ring me on 07700 900123")
    db = open_db(pair["hub"])
    before = db.execute("SELECT text, redacted_text FROM responses WHERE id = ?", [pair["response_id"]]).fetchone()
    result = bundle.resolve_conflict(db, HUB_ADMIN, cid, "local", "the hub's text is the one typed at the event")
    assert result.keep == "local" and result.fields == [] and "kept" in result.summary()
    assert db.execute("SELECT text, redacted_text FROM responses WHERE id = ?",
                      [pair["response_id"]]).fetchone() == before
    assert bundle.conflicts(db, HUB_ADMIN) == [], "a resolved conflict is not open"
    (row,) = bundle.conflicts(db, HUB_ADMIN, unresolved_only=False)
    assert (row["resolution"], row["resolved_by"], row["resolution_note"]) == (
        "local", HUB_ADMIN.username, "the hub's text is the one typed at the event")
    assert row["resolved_at"]
    (detail,) = _resolutions(db)
    assert detail["keep"] == "local" and detail["table"] == "responses" and detail["record_id"] == pair["response_id"]
    with pytest.raises(bundle.ConflictError, match="already resolved"):
        bundle.resolve_conflict(db, HUB_ADMIN, cid, "incoming", "changed my mind")
    assert len(_resolutions(db)) == 1
    db.conn.close()


def test_keep_incoming_replaces_the_text_and_redacts_it_again(tmp_path):
    pair = _pair(tmp_path)
    cid = _answer_conflict(pair, "ring me on 07700 900123 about the club")
    db = open_db(pair["hub"])
    result = bundle.resolve_conflict(db, HUB_ADMIN, cid, "incoming", "the laptop corrected a typo")
    assert result.fields == ["text", "redacted_text"] and result.flags_raised == []
    text, redacted = db.execute("SELECT text, redacted_text FROM responses WHERE id = ?",
                                [pair["response_id"]]).fetchone()
    assert text == "ring me on 07700 900123 about the club"
    assert "07700" not in redacted and "[phone]" in redacted, "the redacted text is worked out again"
    assert db.execute("SELECT COUNT(*) FROM flags").fetchone()[0] == 0
    (detail,) = _resolutions(db)
    assert detail["keep"] == "incoming" and detail["fields"] == ["text", "redacted_text"]
    assert "07700" not in json.dumps(detail), "no answer text in the audit log"
    db.conn.close()


def test_incoming_disclosure_is_screened_and_flagged(tmp_path):
    pair = _pair(tmp_path)
    cid = _answer_conflict(pair, "my dad hits me when he's drunk")
    db = open_db(pair["hub"])
    assert db.execute("SELECT COUNT(*) FROM flags").fetchone()[0] == 0, "the conflict itself raised nothing here"
    result = bundle.resolve_conflict(db, HUB_ADMIN, cid, "incoming", "laptop text is right")
    assert len(result.flags_raised) == 1 and "safeguarding" in result.summary()
    flag = db.execute("SELECT response_id, respondent_id, status, category, kind FROM flags WHERE id = ?",
                      result.flags_raised).fetchone()
    assert flag == (pair["response_id"], pair["respondent_id"], "open", "physical", "auto")
    assert _resolutions(db)[0]["flags_raised"] == result.flags_raised
    db.conn.close()


def test_note_is_required_and_nothing_is_written_without_it(tmp_path):
    pair = _pair(tmp_path)
    cid = _answer_conflict(pair, "changed on the laptop")
    db = open_db(pair["hub"])
    for note in ("", "   ", None):
        with pytest.raises(bundle.ConflictError, match="note"):
            bundle.resolve_conflict(db, HUB_ADMIN, cid, "incoming", note)
    with pytest.raises(bundle.ConflictError, match="local or incoming"):
        bundle.resolve_conflict(db, HUB_ADMIN, cid, "both", "a note")
    assert [c["id"] for c in bundle.conflicts(db, HUB_ADMIN)] == [cid]
    assert db.execute("SELECT text FROM responses WHERE id = ?", [pair["response_id"]]).fetchone()[0] == \
        "the youth club on fridays"
    assert _resolutions(db) == []
    db.conn.close()


def test_other_roles_are_refused(tmp_path):
    from data.users import PermissionDenied

    pair = _pair(tmp_path)
    cid = _answer_conflict(pair, "changed on the laptop")
    db = open_db(pair["hub"])
    for role in ("engagement_officer", "safeguarding_lead", "strategy_lead", "peer_researcher"):
        with pytest.raises(PermissionDenied):
            bundle.resolve_conflict(db, User("x", frozenset({role})), cid, "incoming", "a note")
    assert [c["id"] for c in bundle.conflicts(db, HUB_ADMIN)] == [cid] and _resolutions(db) == []
    db.conn.close()


def test_incoming_respondent_and_event_fields(tmp_path):
    pair = _pair(tmp_path)
    _conflicting(pair, "UPDATE respondents SET group_id = 'parent_carer' WHERE id = ?", [pair["respondent_id"]])
    found = _conflicting(pair, "UPDATE events SET name = 'Park day (north)', venue = 'North park' WHERE id = ?",
                         [pair["event_id"]])
    by_table = {c["table_name"]: c["id"] for c in found}
    db = open_db(pair["hub"])
    assert bundle.resolve_conflict(db, HUB_ADMIN, by_table["respondents"], "incoming", "group fixed").fields == \
        ["group_id"]
    assert bundle.resolve_conflict(db, HUB_ADMIN, by_table["events"], "incoming", "renamed").fields == \
        ["name", "venue"]
    assert db.execute("SELECT group_id FROM respondents WHERE id = ?",
                      [pair["respondent_id"]]).fetchone()[0] == "parent_carer"
    assert db.execute("SELECT name, venue FROM events WHERE id = ?", [pair["event_id"]]).fetchone() == \
        ("Park day (north)", "North park")
    db.conn.close()


def test_incoming_refused_where_it_is_not_safe(tmp_path):
    pair = _pair(tmp_path)
    # an answer moved to another question as well: only its text may be taken from a bundle
    found = _conflicting(pair, "UPDATE responses SET text = 'moved', question_id = 'thrive_stops' WHERE id = ?",
                         [pair["response_id"]])
    (cid,) = [c["id"] for c in found if c["table_name"] == "responses"]
    db = open_db(pair["hub"])
    with pytest.raises(bundle.ConflictError, match="question_id"):
        bundle.resolve_conflict(db, HUB_ADMIN, cid, "incoming", "a note")
    assert db.execute("SELECT text, question_id FROM responses WHERE id = ?", [pair["response_id"]]).fetchone() == \
        ("the youth club on fridays", "thrive_helps")
    # a table whose records cannot be replaced (a coding's key) is refused in plain words
    with db.conn:
        db.execute("INSERT INTO bundle_conflicts (bundle_id, table_name, record_id, reason, incoming, found_at) "
                   "VALUES ('b', 'codings', 'r/code/coder', 'same coding, different source or time', '{}', 'now')")
    coding_id = db.execute("SELECT MAX(id) FROM bundle_conflicts").fetchone()[0]
    with pytest.raises(bundle.ConflictError, match="cannot be replaced"):
        bundle.resolve_conflict(db, HUB_ADMIN, coding_id, "incoming", "a note")
    assert {c["id"] for c in bundle.conflicts(db, HUB_ADMIN)} == {cid, coding_id} and _resolutions(db) == []
    # keeping the local state is always possible
    bundle.resolve_conflict(db, HUB_ADMIN, coding_id, "local", "the hub's coding stands")
    assert [c["id"] for c in bundle.conflicts(db, HUB_ADMIN)] == [cid]
    with pytest.raises(bundle.ConflictError, match="no bundle conflict"):
        bundle.resolve_conflict(db, HUB_ADMIN, 999_999, "local", "a note")
    db.conn.close()


def test_admin_page_resolves_a_conflict(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    pair = _pair(tmp_path)
    cid = _answer_conflict(pair, "the youth club on fridays and saturdays")
    monkeypatch.setenv("THRIVE_DB", str(pair["hub"]))
    from data import accounts

    db = open_db(pair["hub"])
    accounts.create_user(db, None, HUB_ADMIN.username, "password-123456", ["admin"])
    db.conn.close()
    at = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=60)
    at.session_state["auth_user"] = HUB_ADMIN
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="admin_conflict_chosen").value == cid
    rows = [r for df in at.dataframe if "field" in df.value.columns for r in df.value.to_dict("records")]
    assert {"field": "text", "here": "the youth club on fridays",
            "in the bundle": "the youth club on fridays and saturdays"} in rows
    at.radio(key="admin_conflict_keep").set_value("incoming")
    at.button(key="FormSubmitter:admin_conflict_form-Resolve").click().run()
    assert any("note" in e.value for e in at.error), "a note is required"
    at.text_input(key="admin_conflict_note").input("laptop has the full answer")
    at.button(key="FormSubmitter:admin_conflict_form-Resolve").click().run()
    assert not at.exception, at.exception
    assert any("incoming version replaced" in s.value for s in at.success)
    db = open_db(pair["hub"])
    assert db.execute("SELECT text FROM responses WHERE id = ?", [pair["response_id"]]).fetchone()[0] == \
        "the youth club on fridays and saturdays"
    assert bundle.conflicts(db, HUB_ADMIN) == []
    db.conn.close()


def test_incoming_code_label_and_definition_and_a_refused_reparent(tmp_path):
    """A code edited on the laptop after the first merge: its label and definition can be taken from the bundle; a
    version that also moves it under another theme is refused (moving it would move its codings)."""
    pair = _pair(tmp_path)
    laptop = open_db(pair["laptop"])
    codebook.create_code(laptop, ADMIN, "club_nights", "Club nights", definition="Youth clubs in the evening")
    codebook.create_code(laptop, ADMIN, "places_theme", "Places")
    coding.apply_code(laptop, User("olu", frozenset({"engagement_officer"})), pair["response_id"], "club_nights")
    laptop.conn.close()
    export(pair["laptop"], tmp_path / "codes.zip")
    merge(pair["hub"], tmp_path / "codes.zip")
    found = _conflicting(pair, "UPDATE codes SET label = 'Youth club nights', definition = 'Clubs after school' "
                         "WHERE name = 'club_nights'", [])
    (cid,) = [c["id"] for c in found if c["table_name"] == "codes"]
    hub = open_db(pair["hub"])
    result = bundle.resolve_conflict(hub, HUB_ADMIN, cid, "incoming", "the laptop's wording was agreed")
    assert result.fields == ["label", "definition"]
    assert hub.execute("SELECT label, definition FROM codes WHERE name = 'club_nights'").fetchone() == \
        ("Youth club nights", "Clubs after school")
    hub.conn.close()
    parent = "(SELECT id FROM codes WHERE name = 'places_theme')"
    found = _conflicting(pair, f"UPDATE codes SET label = 'Club nights again', parent_id = {parent} "
                         "WHERE name = 'club_nights'", [])
    (cid,) = [c["id"] for c in found if c["table_name"] == "codes"]
    hub = open_db(pair["hub"])
    with pytest.raises(bundle.ConflictError, match="parent"):
        bundle.resolve_conflict(hub, HUB_ADMIN, cid, "incoming", "a note")
    assert hub.execute("SELECT label, parent_id FROM codes WHERE name = 'club_nights'").fetchone() == \
        ("Youth club nights", None), "a refused resolution writes nothing"
    hub.conn.close()


def test_incoming_respondent_profile(tmp_path):
    pair = _pair(tmp_path)
    found = _conflicting(pair, "UPDATE respondents SET profile = ? WHERE id = ?",
                         [json.dumps({"age_band": "16-17"}), pair["respondent_id"]])
    (cid,) = [c["id"] for c in found if c["table_name"] == "respondents"]
    hub = open_db(pair["hub"])
    assert bundle.resolve_conflict(hub, HUB_ADMIN, cid, "incoming", "age band added at the event").fields == \
        ["profile"]
    assert json.loads(hub.execute("SELECT profile FROM respondents WHERE id = ?",
                                  [pair["respondent_id"]]).fetchone()[0]) == {"age_band": "16-17"}
    hub.conn.close()
