"""The database schema, as one forward-only migration set ("thrive") applied at start-up.

Each step is named and never edited once released; a change to the schema is a new step at the end.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("thrive")


def _run(db: Database, statements: list[str]) -> None:
    for statement in statements:
        db.execute(statement)


@migrations(name="0001_capture")
def capture(db: Database) -> None:
    """Question sets, events, respondents, responses, settings and the append-only audit log."""
    _run(
        db,
        [
            """CREATE TABLE question_sets (
                id TEXT PRIMARY KEY,            -- "<key>@<version>", e.g. "thrive@1"
                key TEXT NOT NULL,
                version INTEGER NOT NULL,
                content_hash TEXT NOT NULL,
                definition TEXT NOT NULL,       -- the whole set as JSON, frozen
                created_at TEXT NOT NULL,
                UNIQUE (key, version),
                UNIQUE (key, content_hash)
            )""",
            """CREATE TABLE events (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                venue TEXT NOT NULL DEFAULT '',
                date TEXT NOT NULL,             -- ISO date of the event
                area TEXT NOT NULL DEFAULT '',
                question_set_id TEXT NOT NULL REFERENCES question_sets(id),
                status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
                created_by TEXT,
                created_at TEXT NOT NULL,
                closed_at TEXT
            )""",
            "CREATE INDEX events_name ON events(name)",
            """CREATE TABLE respondents (
                id TEXT PRIMARY KEY,
                event_id TEXT NOT NULL REFERENCES events(id),
                group_id TEXT NOT NULL,
                profile TEXT NOT NULL DEFAULT '{}',   -- optional profile answers as JSON
                language TEXT NOT NULL DEFAULT 'en',
                consent INTEGER NOT NULL DEFAULT 0,
                consent_method TEXT,                  -- tablet, flipchart, import
                source TEXT NOT NULL,                 -- tablet, transcribed, import
                external_ref TEXT,                    -- the respondent column of an imported file
                submission_token TEXT UNIQUE,         -- makes a double-tapped Save store one respondent
                recorded_by TEXT,
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX respondents_event ON respondents(event_id, created_at)",
            """CREATE UNIQUE INDEX respondents_external_ref
                ON respondents(event_id, external_ref) WHERE external_ref IS NOT NULL""",
            """CREATE TABLE responses (
                id TEXT PRIMARY KEY,
                respondent_id TEXT NOT NULL REFERENCES respondents(id),
                event_id TEXT NOT NULL REFERENCES events(id),
                question_id TEXT NOT NULL,
                position INTEGER NOT NULL DEFAULT 0,  -- order of the answer within its question
                text TEXT NOT NULL,                   -- exactly as entered
                redacted_text TEXT,                   -- personal details replaced by placeholders
                external_id TEXT,                     -- the id the row had in an imported file
                source TEXT NOT NULL,
                recorded_by TEXT,
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX responses_respondent ON responses(respondent_id)",
            "CREATE INDEX responses_event_question ON responses(event_id, question_id)",
            "CREATE INDEX responses_question ON responses(question_id)",
            """CREATE UNIQUE INDEX responses_external_id
                ON responses(event_id, external_id) WHERE external_id IS NOT NULL""",
            """CREATE TABLE settings (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated_by TEXT,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                actor TEXT,
                action TEXT NOT NULL,
                target_type TEXT,
                target_id TEXT,
                detail TEXT NOT NULL DEFAULT '{}'
            )""",
            "CREATE INDEX audit_at ON audit(at)",
            """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
            """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        ],
    )


@migrations(name="0002_coding")
def coding(db: Database) -> None:
    """Codebook, codings, memos, dismissed suggestions and pinned quotes."""
    _run(
        db,
        [
            """CREATE TABLE codes (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,          -- short name, e.g. "emotional_neglect"
                label TEXT NOT NULL,
                definition TEXT NOT NULL DEFAULT '',
                include_guidance TEXT NOT NULL DEFAULT '',
                exclude_guidance TEXT NOT NULL DEFAULT '',
                examples TEXT NOT NULL DEFAULT '[]',  -- JSON list of example quotes
                parent_id INTEGER REFERENCES codes(id),
                colour TEXT NOT NULL DEFAULT '',
                keywords TEXT NOT NULL DEFAULT '[]',  -- JSON list
                archived INTEGER NOT NULL DEFAULT 0,
                merged_into INTEGER REFERENCES codes(id),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE codings (
                id INTEGER PRIMARY KEY,
                response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
                code_id INTEGER NOT NULL REFERENCES codes(id),
                coder TEXT NOT NULL,
                source TEXT NOT NULL DEFAULT 'human',  -- human, suggestion, bulk, import, merge
                created_at TEXT NOT NULL,
                UNIQUE (response_id, code_id, coder)
            )""",
            "CREATE INDEX codings_code ON codings(code_id)",
            "CREATE INDEX codings_coder ON codings(coder, response_id)",
            """CREATE TABLE memos (
                id INTEGER PRIMARY KEY,
                target_type TEXT NOT NULL CHECK (target_type IN ('response', 'code')),
                target_id TEXT NOT NULL,
                author TEXT NOT NULL,
                text TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX memos_target ON memos(target_type, target_id)",
            """CREATE TABLE suggestion_dismissals (
                response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
                code_id INTEGER NOT NULL REFERENCES codes(id),
                coder TEXT NOT NULL,
                at TEXT NOT NULL,
                PRIMARY KEY (response_id, code_id, coder)
            )""",
            """CREATE TABLE pinned_quotes (
                code_id INTEGER NOT NULL REFERENCES codes(id),
                response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
                pinned_by TEXT NOT NULL,
                at TEXT NOT NULL,
                PRIMARY KEY (code_id, response_id)
            )""",
        ],
    )


@migrations(name="0003_people_and_flags")
def people_and_flags(db: Database) -> None:
    """Users and their roles, safeguarding flags with their history, and erasure tombstones."""
    _run(
        db,
        [
            """CREATE TABLE users (
                username TEXT PRIMARY KEY,
                display_name TEXT NOT NULL DEFAULT '',
                roles TEXT NOT NULL DEFAULT '[]',     -- JSON list of role names
                secret_hash TEXT NOT NULL,            -- argon2 hash of the password or PIN
                secret_kind TEXT NOT NULL DEFAULT 'password' CHECK (secret_kind IN ('password', 'pin')),
                failed_attempts INTEGER NOT NULL DEFAULT 0,
                locked_until TEXT,
                is_demo INTEGER NOT NULL DEFAULT 0,
                disabled INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                last_sign_in TEXT
            )""",
            """CREATE TABLE flags (
                id TEXT PRIMARY KEY,
                respondent_id TEXT,                   -- kept as text: a flag outlives an erased respondent
                response_id TEXT,
                event_id TEXT,
                kind TEXT NOT NULL CHECK (kind IN ('auto', 'manual')),
                reason TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'reviewed', 'referred', 'no_further_action')),
                raised_by TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX flags_status ON flags(status, created_at)",
            """CREATE TRIGGER flags_no_delete BEFORE DELETE ON flags
                BEGIN SELECT RAISE(ABORT, 'safeguarding flags are never deleted'); END""",
            """CREATE TABLE flag_history (
                id INTEGER PRIMARY KEY,
                flag_id TEXT NOT NULL REFERENCES flags(id),
                status TEXT NOT NULL,
                note TEXT NOT NULL DEFAULT '',
                by TEXT,
                at TEXT NOT NULL
            )""",
            """CREATE TABLE tombstones (
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,                   -- respondent, response, coding, flag
                ref_id TEXT NOT NULL,
                reason TEXT NOT NULL,
                by TEXT,
                at TEXT NOT NULL
            )""",
        ],
    )


@migrations(name="0004_coding_actions")
def coding_actions(db: Database) -> None:
    """Each coder's log of coding actions (so undo survives reruns) and stable double-coding samples."""
    _run(
        db,
        [
            """CREATE TABLE coding_actions (
                id INTEGER PRIMARY KEY,
                coder TEXT NOT NULL,
                kind TEXT NOT NULL,                   -- apply, remove, suggestion, dismiss, bulk
                changes TEXT NOT NULL,                -- JSON list of {op, response_id, code_id, source, created_at}
                summary TEXT NOT NULL DEFAULT '',     -- "Applied Food to 12 answers": shown on the undo button
                at TEXT NOT NULL,
                undone_at TEXT
            )""",
            "CREATE INDEX coding_actions_coder ON coding_actions(coder, undone_at, id)",
            """CREATE TABLE agreement_samples (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                coder_a TEXT NOT NULL,
                coder_b TEXT NOT NULL,
                size INTEGER NOT NULL,
                seed INTEGER NOT NULL,
                created_by TEXT,
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE agreement_sample_items (
                sample_id INTEGER NOT NULL REFERENCES agreement_samples(id) ON DELETE CASCADE,
                response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                PRIMARY KEY (sample_id, response_id)
            )""",
        ],
    )


@migrations(name="0005_privacy_retention")
def privacy_retention(db: Database) -> None:
    """Marks answers whose original text was purged by the retention rule (text now equals the redacted text)."""
    _run(
        db,
        [
            "ALTER TABLE responses ADD COLUMN text_purged_at TEXT",
            "CREATE INDEX responses_created ON responses(created_at)",
            "CREATE INDEX tombstones_ref ON tombstones(kind, ref_id)",
        ],
    )


@migrations(name="0006_coding_queue_order")
def coding_queue_order(db: Database) -> None:
    """Indexes for the coding queue: answers in queue order, respondents by group (fast with 100,000 answers)."""
    _run(
        db,
        [
            "CREATE INDEX IF NOT EXISTS responses_queue_order ON responses(created_at, id)",
            "CREATE INDEX IF NOT EXISTS respondents_group ON respondents(group_id)",
        ],
    )


@migrations(name="0007_drop_redundant_created_index")
def drop_redundant_created_index(db: Database) -> None:
    """responses(created_at, id) serves every lookup responses(created_at) did; one index less on each insert."""
    _run(db, ["DROP INDEX IF EXISTS responses_created"])


@migrations(name="0008_flag_triage")
def flag_triage(db: Database) -> None:
    """Flags carry their category and strength (for triage) and a release: the safeguarding lead's decision that a
    flagged answer may be quoted. Each lead's "last looked at the queue" time, for "new since you last looked"."""
    _run(
        db,
        [
            "ALTER TABLE flags ADD COLUMN category TEXT",        # disclosure category, e.g. "physical"; NULL = manual
            "ALTER TABLE flags ADD COLUMN strength TEXT",        # "strong" / "possible"; NULL = manual ("I'm worried")
            "ALTER TABLE flags ADD COLUMN released_at TEXT",     # set: the answer(s) may be quoted again
            "ALTER TABLE flags ADD COLUMN released_by TEXT",
            "CREATE INDEX flags_response ON flags(response_id)",
            "CREATE INDEX flags_respondent ON flags(respondent_id)",
            """CREATE TABLE flag_queue_seen (
                username TEXT PRIMARY KEY,
                seen_at TEXT NOT NULL
            )""",
        ],
    )


@migrations(name="0009_signin_throttle")
def signin_throttle(db: Database) -> None:
    """The app-wide sign-in throttle: when each checked wrong sign-in happened (pruned past the window), and the
    throttle's state (the earliest time the next checked attempt may run, and since when it is engaged)."""
    _run(
        db,
        [
            "CREATE TABLE signin_failures (at TEXT NOT NULL)",
            "CREATE INDEX signin_failures_at ON signin_failures(at)",
            """CREATE TABLE signin_throttle (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                next_attempt_at TEXT,
                engaged_at TEXT
            )""",
            "INSERT INTO signin_throttle (id) VALUES (1)",
        ],
    )


@migrations(name="0010_bundles")
def bundles(db: Database) -> None:
    """Records that arrived in an event bundle with the same id as a local record but different content: the local
    record is kept as it is, the incoming version waits here (as JSON) for an admin to resolve."""
    _run(
        db,
        [
            """CREATE TABLE bundle_conflicts (
                id INTEGER PRIMARY KEY,
                bundle_id TEXT NOT NULL,              -- manifest bundle_id of the bundle that brought it
                table_name TEXT NOT NULL,             -- responses, respondents, events, codes, flags, ...
                record_id TEXT NOT NULL,              -- the clashing id (a code's name, a coding's key)
                reason TEXT NOT NULL DEFAULT '',
                incoming TEXT NOT NULL,               -- the bundle's version as JSON
                local TEXT,                           -- the local version at the time, as JSON
                found_at TEXT NOT NULL,
                found_by TEXT,
                resolved_at TEXT,
                resolved_by TEXT
            )""",
            "CREATE INDEX bundle_conflicts_record ON bundle_conflicts(table_name, record_id)",
        ],
    )


@migrations(name="0011_respondent_reference")
def respondent_reference(db: Database) -> None:
    """Each respondent saved from the tablet gets a short human reference (data/reference.py), unique in the
    database, for withdrawal. Respondents saved before keep NULL: nobody was given a card for them."""
    _run(
        db,
        [
            "ALTER TABLE respondents ADD COLUMN reference TEXT",
            "CREATE UNIQUE INDEX respondents_reference ON respondents(reference) WHERE reference IS NOT NULL",
        ],
    )


@migrations(name="0012_embeddings")
def embeddings(db: Database) -> None:
    """One sentence vector per answer (data/embeddings.py), computed from its redacted text by the model named in
    `model`. Deleting an answer deletes its vector (foreign keys are on: erasure, bundle erasure); changing its
    redacted text deletes it too, so that a stale vector is never read (it is recomputed at the next top-up)."""
    _run(
        db,
        [
            """CREATE TABLE response_embeddings (
                response_id TEXT PRIMARY KEY REFERENCES responses(id) ON DELETE CASCADE,
                model TEXT NOT NULL,                  -- analysis.embeddings.MODEL_ID
                vector BLOB NOT NULL                  -- DIM little-endian float16 values
            )""",
            """CREATE TRIGGER response_embeddings_stale AFTER UPDATE OF redacted_text ON responses
                WHEN OLD.redacted_text IS NOT NEW.redacted_text
                BEGIN DELETE FROM response_embeddings WHERE response_id = NEW.id; END""",
        ],
    )


@migrations(name="0013_codings_import_index")
def codings_import_index(db: Database) -> None:
    """Answers by external id alone: `codings import` looks each row up by it (the unique index on
    (event_id, external_id) cannot serve a lookup without the event), a full scan per row before (issue 10)."""
    _run(db, ["CREATE INDEX IF NOT EXISTS responses_external_ref ON responses(external_id) WHERE external_id IS NOT NULL"])


@migrations(name="0014_code_guid")
def code_guid(db: Database) -> None:
    """Each code keeps a GUID, the one REFI-QDA exports carry, so a codebook coming back from another tool is matched
    by GUID before name, and a renamed code keeps its GUID. Existing codes get the GUID exports have always given
    them: uuid5 of "code:<lower-cased name>" in our namespace (exports.refi.code_guid; a test checks they agree)."""
    import uuid

    namespace = uuid.UUID("5d0c6a52-3c5e-4d8e-9a57-7f1f3b0c2e11")
    _run(db, ["ALTER TABLE codes ADD COLUMN guid TEXT"])
    for code_id, name in db.execute("SELECT id, name FROM codes").fetchall():
        db.execute("UPDATE codes SET guid = ? WHERE id = ?", [str(uuid.uuid5(namespace, f"code:{name.lower()}")), code_id])
    _run(db, ["CREATE UNIQUE INDEX codes_guid ON codes(guid) WHERE guid IS NOT NULL"])


@migrations(name="0015_review")
def review(db: Database) -> None:
    """Review before analysis (data/review.py): an engagement officer marks a respondent or one answer approved or
    "has issues" (with a comment). Append-only (a trigger forbids UPDATE): a target's current state is its newest
    row (at, then id), the older rows are its history; "received" is the default (no row) and a row with it puts a
    target back. Rows are deleted only with their target (erasure), through the foreign keys."""
    _run(
        db,
        [
            """CREATE TABLE reviews (
                id TEXT PRIMARY KEY,                  -- UUID4: rows from several laptops merge by id
                event_id TEXT NOT NULL,
                respondent_id TEXT REFERENCES respondents(id) ON DELETE CASCADE,
                response_id TEXT REFERENCES responses(id) ON DELETE CASCADE,
                state TEXT NOT NULL CHECK (state IN ('received', 'approved', 'has_issues')),
                comment TEXT NOT NULL DEFAULT '',
                by TEXT NOT NULL,
                at TEXT NOT NULL,
                CHECK ((respondent_id IS NULL) <> (response_id IS NULL)),
                CHECK (state <> 'has_issues' OR length(trim(comment, char(32, 9, 10, 13))) > 0)
            )""",
            "CREATE INDEX reviews_response ON reviews(response_id, at) WHERE response_id IS NOT NULL",
            "CREATE INDEX reviews_respondent ON reviews(respondent_id, at) WHERE respondent_id IS NOT NULL",
            "CREATE INDEX reviews_event ON reviews(event_id)",
            """CREATE TRIGGER reviews_no_update BEFORE UPDATE ON reviews
               BEGIN SELECT RAISE(ABORT, 'reviews are append-only: add a newer row instead'); END""",
        ],
    )


@migrations(name="0016_sessions_drafts")
def sessions_drafts(db: Database) -> None:
    """Sign-in sessions that survive a reload or a server restart (data/sessions.py): the browser holds a random
    token in a cookie, the database only its SHA-256. Drafts (data/drafts.py): the Collect form being typed, per
    user, device (the session) and event, kept until Save or Clear; never in a bundle, purged by age."""
    _run(
        db,
        [
            """CREATE TABLE sessions (
                id TEXT PRIMARY KEY,                  -- UUID4; named in the audit and the admin page (never the token)
                token_hash TEXT NOT NULL UNIQUE,      -- hex SHA-256 of the browser's token
                username TEXT NOT NULL,
                created_at TEXT NOT NULL,
                last_seen TEXT NOT NULL,
                user_agent TEXT NOT NULL DEFAULT '',  -- a short hint ("Chrome on Android"), for the admin list
                revoked_at TEXT,
                revoked_why TEXT
            )""",
            "CREATE INDEX sessions_user_active ON sessions(username) WHERE revoked_at IS NULL",
            """CREATE TABLE drafts (
                username TEXT NOT NULL,
                device TEXT NOT NULL,                 -- the session id the form is being typed in
                event_id TEXT NOT NULL,
                state TEXT NOT NULL,                  -- the form's fields as JSON
                fingerprint TEXT NOT NULL,            -- SHA-256 of state: an identical save is skipped
                updated_at TEXT NOT NULL,
                PRIMARY KEY (username, device, event_id)
            )""",
            "CREATE INDEX drafts_updated ON drafts(updated_at)",
            "CREATE INDEX drafts_event ON drafts(event_id)",
        ],
    )


@migrations(name="0017_import_submission_ids")
def import_submission_ids(db: Database) -> None:
    """Respondents by their imported submission id alone: a survey tool's UUID submission id (KoBo _uuid, ODK
    instanceID) is unique across the whole database, so an import looks it up in every event (data/importer.py)."""
    _run(db, ["CREATE INDEX IF NOT EXISTS respondents_external_ref_any ON respondents(external_ref) "
              "WHERE external_ref IS NOT NULL"])


@migrations(name="0018_event_area_languages")
def event_area_languages(db: Database) -> None:
    """The area named in question 4 per language ({"ur": "ڈڈلی"}), as JSON; NULL: the one `area` in every language
    (data/events.area_for)."""
    _run(db, ["ALTER TABLE events ADD COLUMN area_languages TEXT"])


@migrations(name="0019_rounds_actions")
def rounds_actions(db: Database) -> None:
    """Engagement rounds (data/rounds.py): a named group of events ("Neglect strategy 2019", "2026 refresh"), an
    event in at most one round; actions recorded against a theme for a round ("you said, we did", data/actions.py);
    snapshots of the counts for an impact framework (answers, people, post-its, theme shares per question)."""
    _run(
        db,
        [
            """CREATE TABLE rounds (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                created_by TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE UNIQUE INDEX rounds_name ON rounds(name COLLATE NOCASE)",
            """CREATE TABLE round_events (
                event_id TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,  -- at most one round per event
                round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
                assigned_by TEXT,
                assigned_at TEXT NOT NULL
            )""",
            "CREATE INDEX round_events_round ON round_events(round_id)",
            """CREATE TABLE actions (
                id INTEGER PRIMARY KEY,
                round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
                code_id INTEGER NOT NULL REFERENCES codes(id),  -- the theme (or sub-code) people raised
                what TEXT NOT NULL,                   -- what the partnership will do / did
                owner TEXT NOT NULL DEFAULT '',
                due TEXT,                             -- ISO date
                status TEXT NOT NULL DEFAULT 'planned'
                    CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
                note TEXT NOT NULL DEFAULT '',
                created_by TEXT,
                created_at TEXT NOT NULL,
                updated_by TEXT,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX actions_round ON actions(round_id, code_id)",
            """CREATE TABLE snapshots (
                id INTEGER PRIMARY KEY,
                round_id INTEGER REFERENCES rounds(id) ON DELETE SET NULL,  -- NULL: every event
                label TEXT NOT NULL DEFAULT '',       -- "Q3 2026"
                taken_at TEXT NOT NULL,
                taken_by TEXT,
                answers INTEGER NOT NULL,
                people INTEGER NOT NULL,
                postits INTEGER NOT NULL,
                coded_answers INTEGER NOT NULL,
                shares TEXT NOT NULL                  -- JSON: per question and theme, respondents, base, share
            )""",
            "CREATE INDEX snapshots_round ON snapshots(round_id, taken_at)",
        ],
    )


@migrations(name="0020_bundle_conflict_resolution")
def bundle_conflict_resolution(db: Database) -> None:
    """How an admin resolved a bundle conflict (data/bundle.resolve_conflict): the version kept ('local' or
    'incoming') and their note. resolved_at and resolved_by came with 0010_bundles; a resolved conflict is not open."""
    _run(
        db,
        [
            "ALTER TABLE bundle_conflicts ADD COLUMN resolution TEXT CHECK (resolution IN ('local', 'incoming'))",
            "ALTER TABLE bundle_conflicts ADD COLUMN resolution_note TEXT",
        ],
    )


@migrations(name="0021_findings_speed")
def findings_speed(db: Database) -> None:
    """A counter of the in-place edits and deletions the findings read (data.findings.data_version), kept by
    triggers, so the page's cache key is a few index look-ups instead of summing every answer's text length and
    every coding's code at each rerun (1.5 s at 550,000 answers on a busy machine). Inserts need no trigger (the
    key holds each table's largest rowid), so imports and captures pay nothing for it."""
    bump = "UPDATE findings_edits SET n = n + 1 WHERE id = 1;"
    watched = {  # table: the columns data.findings.load_frames reads (an UPDATE of another column changes nothing)
        "responses": "respondent_id, event_id, question_id, position, created_at, text, redacted_text",
        "respondents": "event_id, group_id, source",
        "codings": "response_id, code_id, coder, source, created_at",
        "events": "name, date, venue, area, status",
    }
    statements = ["CREATE TABLE findings_edits (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)",
                  "INSERT INTO findings_edits (id, n) VALUES (1, 0)"]
    for table, columns in watched.items():
        statements.append(f"CREATE TRIGGER findings_edit_{table} AFTER UPDATE OF {columns} ON {table} "
                          f"BEGIN {bump} END")
        statements.append(f"CREATE TRIGGER findings_delete_{table} AFTER DELETE ON {table} BEGIN {bump} END")
    _run(db, statements)


#: The per-day count upsert of 0024_capture_speed; {event} {created} {people} {postits} {answers} are SQL expressions.
#: data.importer replays it in bulk (one row per event and time) while a big import has the insert triggers dropped.
COUNT_UPSERT = ("INSERT INTO event_day_counts (event_id, day, people, postits, answers) "
                "VALUES ({event}, COALESCE(date({created}, 'localtime'), ''), {people}, {postits}, {answers}) "
                "ON CONFLICT (event_id, day) DO UPDATE SET people = people + excluded.people, "
                "postits = postits + excluded.postits, answers = answers + excluded.answers;")
#: 0024's two insert triggers, as stored in sqlite_master (data.importer drops and restores exactly these).
COUNT_INSERT_TRIGGERS = {
    "respondents_counted": "CREATE TRIGGER respondents_counted AFTER INSERT ON respondents BEGIN " + COUNT_UPSERT.format(
        event="NEW.event_id", created="NEW.created_at", people="(NEW.source IS NOT 'transcribed')",
        postits="(NEW.source IS 'transcribed')", answers="0") + " END",
    "responses_counted": "CREATE TRIGGER responses_counted AFTER INSERT ON responses BEGIN " + COUNT_UPSERT.format(
        event="NEW.event_id", created="NEW.created_at", people="0", postits="0", answers="1") + " END",
}


@migrations(name="0024_capture_speed")
def capture_speed(db: Database) -> None:
    """Counts per event and local calendar day (people, post-its, answers), kept by triggers on every insert, delete
    and move of a respondent or an answer, so the Collect page's counters and the count after Save are a read of a
    few rows whatever the size of the database (data/capture.event_counts). Filled from the rows already there."""
    day = "COALESCE(date({row}.created_at, 'localtime'), '')"  # the server's local day; '' if unreadable
    person = "({row}.source IS NOT 'transcribed')"
    postit = "({row}.source IS 'transcribed')"

    def add(row: str, people: str, postits: str, answers: str) -> str:
        return COUNT_UPSERT.format(event=f"{row}.event_id", created=f"{row}.created_at", people=people,
                                   postits=postits, answers=answers)

    def take(row: str, people: str, postits: str, answers: str) -> str:
        return (f"UPDATE event_day_counts SET people = people - {people}, postits = postits - {postits}, "
                f"answers = answers - {answers} WHERE event_id = {row}.event_id AND day = {day.format(row=row)};")

    def respondent(row: str) -> tuple[str, str, str, str]:
        return row, person.format(row=row), postit.format(row=row), "0"

    def answer(row: str) -> tuple[str, str, str, str]:
        return row, "0", "0", "1"

    _run(
        db,
        [
            """CREATE TABLE event_day_counts (
                event_id TEXT NOT NULL,
                day TEXT NOT NULL,                    -- local calendar day (YYYY-MM-DD) the rows were created on
                people INTEGER NOT NULL DEFAULT 0,    -- respondents that are not transcribed post-its
                postits INTEGER NOT NULL DEFAULT 0,   -- transcribed flipchart post-its
                answers INTEGER NOT NULL DEFAULT 0,   -- responses, post-its included
                PRIMARY KEY (event_id, day)
            ) WITHOUT ROWID""",
            COUNT_INSERT_TRIGGERS["respondents_counted"],
            f"CREATE TRIGGER respondents_uncounted AFTER DELETE ON respondents BEGIN {take(*respondent('OLD'))} END",
            "CREATE TRIGGER respondents_recounted AFTER UPDATE OF event_id, source, created_at ON respondents BEGIN "
            f"{take(*respondent('OLD'))} {add(*respondent('NEW'))} END",
            COUNT_INSERT_TRIGGERS["responses_counted"],
            f"CREATE TRIGGER responses_uncounted AFTER DELETE ON responses BEGIN {take(*answer('OLD'))} END",
            "CREATE TRIGGER responses_recounted AFTER UPDATE OF event_id, created_at ON responses BEGIN "
            f"{take(*answer('OLD'))} {add(*answer('NEW'))} END",
            "CREATE TRIGGER events_uncounted AFTER DELETE ON events BEGIN "
            "DELETE FROM event_day_counts WHERE event_id = OLD.id; END",
            f"""INSERT INTO event_day_counts (event_id, day, people, postits, answers)
                SELECT event_id, day, SUM(people), SUM(postits), SUM(answers) FROM (
                    SELECT r.event_id, {day.format(row='r')} AS day, {person.format(row='r')} AS people,
                           {postit.format(row='r')} AS postits, 0 AS answers FROM respondents r
                    UNION ALL
                    SELECT a.event_id, {day.format(row='a')}, 0, 0, 1 FROM responses a)
                GROUP BY event_id, day""",
        ],
    )


@migrations(name="0025_capture_resume")
def capture_resume(db: Database) -> None:
    """The event a sign-in session is collecting for (data/sessions.capture_event), so that a reload or a server
    restart after Save comes back to that event's empty form instead of the event chooser."""
    _run(db, ["ALTER TABLE sessions ADD COLUMN capture_event_id TEXT"])


@migrations(name="0026_quote_translations")
def quote_translations(db: Database) -> None:
    """A translation of a pinned quote, typed by the engagement team (data.findings.set_quote_translation) and shown
    under the quote in the report and the quotes table. Changing it moves the findings edit counter (0021), so the
    Findings page's cached quotes are reloaded; a save of the same text changes nothing."""
    _run(db, [
        "ALTER TABLE pinned_quotes ADD COLUMN translation TEXT",
        "CREATE TRIGGER findings_edit_pinned_quotes AFTER UPDATE OF translation ON pinned_quotes "
        "WHEN OLD.translation IS NOT NEW.translation BEGIN UPDATE findings_edits SET n = n + 1 WHERE id = 1; END",
    ])


@migrations(name="0027_interface_language")
def interface_language(db: Database) -> None:
    """The interface language a sign-in session chose (on the sign-in page or in the Menu), so that a reload or a
    server restart keeps every page in that language (data/sessions.set_language, ui.session.ui_language)."""
    _run(db, ["ALTER TABLE sessions ADD COLUMN language TEXT"])
