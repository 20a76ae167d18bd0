"""Event bundles: one zip file carrying chosen events and everything under them from one laptop to a hub, and the
merge that brings a bundle into a database (idempotent, order-independent, all or nothing, erasure wins).

A bundle holds one JSON Lines part per table and manifest.json (schema, app version, counts, sha256 of every part).

Merge rules (each keeps "nothing lost, nothing doubled, nothing overwritten"):
- Records with a UUID (question sets, events, respondents, answers, flags) match by id; records with a local
  integer id match by their content key: codings (answer, code name, coder), memos (target, author, created_at),
  pinned quotes (code name, answer), flag history, tombstones and audit rows by their whole content (the audit
  table is append-only with an autoincrement id, so a bundle's audit rows are appended as new rows unless a row
  with the same (at, actor, action, target_id) is already there; they keep their original time and actor).
- Same key, same content: already present. Same key, different content: the local record stays as it is and
  the incoming version is stored in bundle_conflicts for an admin, and reported.
- Three kinds of change are merges, not conflicts: an event closed anywhere is closed (latest closed_at); an
  answer whose original text was purged by retention anywhere is purged; a flag's state (status, release) follows
  its newest change (updated_at), and flag history is the union of both sides, so no decision is lost.
- Codes match by name: a missing code is created (with its parent); the same name with a different definition
  keeps the local code and is reported.
- Erasure wins: a respondent or answer tombstoned here or in the bundle is never inserted; a respondent tombstoned
  in the bundle but present here is erased here with data.erasure.erase_respondent, in the same transaction.
  Flags always arrive (safeguarding records outlive the data), unlinked from erased text.
- Review states (data/review.py) are append-only rows with UUIDs: they match by id like answers, so the history is
  the union of every laptop's and a target's current state is its newest review anywhere (latest `at` wins; two
  officers disagreeing on two laptops is not a conflict, both rows stay in the history). A review whose target is
  erased is not brought in. A bundle made before reviews existed (schema without 0015_review) has no reviews part.
- Removals other than erasure (a coding removed on one laptop) are not carried: the merge is a union.
A bundle is checked whole before anything is written: any missing, extra or altered part, a damaged zip, or a
schema this database does not have refuses it with the reason. The sha256 sums detect damage, not forgery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlite_utils import Database

from data import audit
from data.db import new_id, now_utc, schema_version, transaction
from data.users import User, require

FORMAT = "thrive-voices-bundle"
FORMAT_VERSION = 1
APP_VERSION = "0.13"  # the app has no release number yet; bump with the bundle format or the schema
MANIFEST = "manifest.json"
#: the parts in the order they are written and merged (parents before children)
TABLES = ("question_sets", "events", "respondents", "responses", "codes", "codings", "memos", "pinned_quotes",
          "reviews", "flags", "flag_history", "tombstones", "audit")
#: parts a bundle holds only when its schema has the migration that made the table
OPTIONAL_TABLES = {"reviews": "0015_review"}
MAX_UNPACKED_BYTES = 4 * 1024**3
_CHUNK = 900  # ids per IN (...) lookup

CODE_FIELDS = ("name", "label", "definition", "include_guidance", "exclude_guidance", "examples", "colour",
               "keywords", "archived", "created_at", "updated_at")
CODE_DEFINITION = ("label", "definition", "include_guidance", "exclude_guidance", "parent")
FLAG_STATE = ("status", "updated_at", "released_at", "released_by")
FLAG_LINKS = ("respondent_id", "response_id")


class BundleError(ValueError):
    """The bundle is refused whole (damaged, altered, from another schema, unknown events); the message says why
    and what to do. Nothing was written."""


@dataclass
class TableCounts:
    new: int = 0
    present: int = 0
    conflicts: int = 0
    updated: int = 0      # merged state: event closed, text purged, flag state moved on
    erased: int = 0       # not brought in: erased here or in the bundle

    def as_dict(self) -> dict[str, int]:
        return dict(new=self.new, present=self.present, conflicts=self.conflicts, updated=self.updated,
                    erased=self.erased)


@dataclass
class BundleReport:
    bundle_id: str
    dry_run: bool
    manifest: dict[str, Any]
    tables: dict[str, TableCounts] = field(default_factory=lambda: {t: TableCounts() for t in TABLES})
    conflicts: list[str] = field(default_factory=list)       # one line per conflicting record (first 500)
    codes_created: list[str] = field(default_factory=list)
    code_conflicts: list[str] = field(default_factory=list)
    erased_here: list[str] = field(default_factory=list)     # respondents erased on arrival of the bundle's tombstone
    open_flags_arrived: int = 0                              # new flags, open, now in the safeguarding queue
    open_flags_in_bundle: int = 0
    conflicts_recorded: int = 0                              # conflicts not recorded by an earlier import

    @property
    def added(self) -> int:
        return sum(c.new + c.updated for c in self.tables.values()) + len(self.erased_here)

    @property
    def conflict_count(self) -> int:
        return sum(c.conflicts for c in self.tables.values())

    def summary(self) -> str:
        m = self.manifest
        head = (f"{'Preview of' if self.dry_run else 'Imported'} bundle {self.bundle_id} "
                f"(from {m.get('created_by') or '?'} on {str(m.get('created_at', ''))[:16].replace('T', ' ')} UTC, "
                f"{len(m.get('events', []))} event(s)).")
        lines = [head]
        for table in TABLES:
            c = self.tables[table]
            if any(c.as_dict().values()):
                extra = [f"{c.updated} merged" if c.updated else "", f"{c.erased} erased, not brought back"
                         if c.erased else ""]
                lines.append(f"  {table}: {c.new} new, {c.present} already present, {c.conflicts} conflicting"
                             + "".join(f", {e}" for e in extra if e))
        if self.codes_created:
            lines.append(f"Codes created: {', '.join(self.codes_created)}.")
        if self.code_conflicts:
            lines.append(f"Codes kept as they are here (the bundle defines them differently): "
                         f"{', '.join(self.code_conflicts)}.")
        if self.erased_here:
            lines.append(f"Erased here because the bundle records their erasure: {len(self.erased_here)} respondent(s).")
        if self.conflict_count:
            lines.append(f"{self.conflict_count} conflicting record(s) kept as they are here; the bundle's versions "
                         "wait in bundle_conflicts for an admin.")
        if self.open_flags_arrived:
            lines.append(f"Safeguarding on arrival: {self.open_flags_arrived} open flag(s) "
                         f"{'would arrive' if self.dry_run else 'arrived and are in the safeguarding queue now'}.")
        elif self.open_flags_in_bundle:
            lines.append(f"Safeguarding: the bundle holds {self.open_flags_in_bundle} open flag(s), already here.")
        if self.dry_run:
            lines.append("Nothing was written (preview).")
        elif not self.added and not self.conflict_count:
            lines.append("Nothing new: everything in the bundle is already here.")
        return "\n".join(lines)


# --- export ------------------------------------------------------------------------------------------------------

def _columns(db: Database, table: str) -> list[str]:
    return [r[1] for r in db.execute(f"PRAGMA table_info([{table}])")]


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i:i + _CHUNK]


def _marks(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


def _rows(db: Database, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
    cursor = db.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _rows_in(db: Database, sql: str, values: list[Any]) -> list[dict[str, Any]]:
    """`sql` with one `{marks}` placeholder filled with `values`, run chunk by chunk."""
    out: list[dict[str, Any]] = []
    for chunk in _chunks(values):
        out.extend(_rows(db, sql.format(marks=_marks(chunk)), chunk))
    return out


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
                   for r in rows).encode("utf-8")


def _collect(db: Database, event_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    parts: dict[str, list[dict[str, Any]]] = {}
    parts["events"] = _rows_in(db, "SELECT * FROM events WHERE id IN ({marks}) ORDER BY created_at, id", event_ids)
    qs_ids = sorted({e["question_set_id"] for e in parts["events"]})
    parts["question_sets"] = _rows_in(db, "SELECT * FROM question_sets WHERE id IN ({marks}) ORDER BY id", qs_ids)
    parts["respondents"] = _rows_in(
        db, "SELECT * FROM respondents WHERE event_id IN ({marks}) ORDER BY created_at, id", event_ids)
    parts["responses"] = _rows_in(
        db, "SELECT * FROM responses WHERE event_id IN ({marks}) ORDER BY created_at, id", event_ids)
    parts["codings"] = _rows_in(
        db, "SELECT c.response_id, k.name AS code, c.coder, c.source, c.created_at FROM codings c "
            "JOIN responses r ON r.id = c.response_id JOIN codes k ON k.id = c.code_id "
            "WHERE r.event_id IN ({marks}) ORDER BY c.response_id, k.name, c.coder", event_ids)
    parts["pinned_quotes"] = _rows_in(
        db, "SELECT k.name AS code, p.response_id, p.pinned_by, p.at, p.translation FROM pinned_quotes p "
            "JOIN responses r ON r.id = p.response_id JOIN codes k ON k.id = p.code_id "
            "WHERE r.event_id IN ({marks}) ORDER BY k.name, p.response_id", event_ids)
    # the codes used, with their parents and merge targets
    codes = {c["id"]: c for c in _rows(db, "SELECT * FROM codes")}
    by_name = {c["name"]: c for c in codes.values()}
    wanted = {c["code"] for c in parts["codings"]} | {p["code"] for p in parts["pinned_quotes"]}
    todo = list(wanted)
    while todo:
        code = by_name[todo.pop()]
        for ref in (code["parent_id"], code["merged_into"]):
            if ref is not None and codes[ref]["name"] not in wanted:
                wanted.add(codes[ref]["name"])
                todo.append(codes[ref]["name"])
    parts["codes"] = []
    for name in sorted(wanted):
        code = by_name[name]
        row = {k: code[k] for k in CODE_FIELDS}
        row["parent"] = codes[code["parent_id"]]["name"] if code["parent_id"] is not None else None
        row["merged_into"] = codes[code["merged_into"]]["name"] if code["merged_into"] is not None else None
        parts["codes"].append(row)
    code_ids = [str(by_name[n]["id"]) for n in sorted(wanted)]
    parts["reviews"] = _rows_in(
        db, "SELECT * FROM reviews WHERE event_id IN ({marks}) ORDER BY at, id", event_ids)
    memos = _rows_in(
        db, "SELECT m.target_type, m.target_id, m.author, m.text, m.created_at, m.updated_at FROM memos m "
            "JOIN responses r ON r.id = m.target_id WHERE m.target_type = 'response' AND r.event_id IN ({marks})",
        event_ids)
    for memo in _rows_in(db, "SELECT target_type, target_id, author, text, created_at, updated_at FROM memos "
                             "WHERE target_type = 'code' AND target_id IN ({marks})", code_ids):
        memo["target_id"] = codes[int(memo["target_id"])]["name"]
        memos.append(memo)
    parts["memos"] = sorted(memos, key=lambda m: (m["target_type"], m["target_id"], m["author"], m["created_at"]))
    respondent_ids = {r["id"] for r in parts["respondents"]}
    response_ids = {r["id"] for r in parts["responses"]}
    flags = _rows_in(db, "SELECT * FROM flags WHERE event_id IN ({marks})", event_ids)
    seen = {f["id"] for f in flags}
    flags += [f for f in _rows_in(db, "SELECT * FROM flags WHERE respondent_id IN ({marks})", sorted(respondent_ids))
              if f["id"] not in seen]
    parts["flags"] = sorted(flags, key=lambda f: (f["created_at"], f["id"]))
    flag_ids = [f["id"] for f in parts["flags"]]
    parts["flag_history"] = _rows_in(
        db, "SELECT flag_id, status, note, by, at FROM flag_history WHERE flag_id IN ({marks}) ORDER BY at, id",
        flag_ids)
    # tombstones of the respondents erased from these events (found through the erasure's audit row), with the
    # answer and flag tombstones of the same erasure
    erased = {r["target_id"] for r in _rows_in(
        db, "SELECT target_id FROM audit WHERE action = 'respondent_erased' "
            "AND json_extract(detail, '$.event_id') IN ({marks})", event_ids)}
    stones = _rows_in(db, "SELECT kind, ref_id, reason, by, at FROM tombstones WHERE kind = 'respondent' "
                          "AND ref_id IN ({marks})", sorted(erased))
    batches = {(s["at"], s["by"], s["reason"]) for s in stones}
    all_stones = _rows(db, "SELECT kind, ref_id, reason, by, at FROM tombstones ORDER BY id")
    parts["tombstones"] = [s for s in all_stones if (s["at"], s["by"], s["reason"]) in batches
                           or (s["kind"] == "flag" and s["ref_id"] in seen)]
    targets = set(event_ids) | respondent_ids | response_ids | set(flag_ids) | erased
    parts["audit"] = [a for a in _rows(db, "SELECT at, actor, action, target_type, target_id, detail FROM audit "
                                           "ORDER BY id") if a["target_id"] in targets]
    return parts


def export_bundle(db: Database, user: User, out: str | Path | IO[bytes],
                  event_ids: Iterable[str] | None = None) -> dict[str, Any]:
    """Write a bundle of the chosen events (all events when None) to `out` (a path or a binary file) and return its
    manifest. It holds original answer texts: admins only ("bundle"), and the export is audited."""
    require(user, "bundle")
    with transaction(db):  # one consistent snapshot, and the audit row with it
        known = [r[0] for r in db.execute("SELECT id FROM events ORDER BY created_at, id")]
        if event_ids is None:
            chosen = known
        else:
            chosen = list(dict.fromkeys(event_ids))
            missing = sorted(set(chosen) - set(known))
            if missing:
                raise BundleError(f"No event with id {', '.join(missing)}. Nothing was exported.")
        parts = _collect(db, chosen)
        blobs = {f"{t}.jsonl": _jsonl(parts[t]) for t in TABLES}
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "app_version": APP_VERSION,
            "bundle_id": new_id(), "created_at": now_utc(), "created_by": user.username,
            "schema": schema_version(db), "events": chosen,
            "counts": {t: len(parts[t]) for t in TABLES},
            "parts": {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()},
            "open_flags": sum(1 for f in parts["flags"] if f["status"] == "open"),
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for name, blob in blobs.items():
                archive.writestr(name, blob)
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        audit.record(db, user, "bundle_exported", "bundle", manifest["bundle_id"], events=len(chosen),
                     counts=manifest["counts"])
    data = buffer.getvalue()
    if isinstance(out, str | Path):
        path = Path(out)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    else:
        out.write(data)
    return manifest


# --- reading and checking a bundle --------------------------------------------------------------------------------

@dataclass
class _Bundle:
    manifest: dict[str, Any]
    parts: dict[str, list[dict[str, Any]]]


def _read_bytes(file: str | Path | bytes | IO[bytes]) -> bytes:
    if isinstance(file, bytes | bytearray):
        return bytes(file)
    if isinstance(file, str | Path):
        return Path(file).read_bytes()
    return file.read()


def read_bundle(db: Database, file: str | Path | bytes | IO[bytes]) -> _Bundle:
    """Open and check a bundle whole: zip, manifest, every part's sha256 and row count, schema. Raises BundleError."""
    from data.schema import migrations

    data = _read_bytes(file)
    refuse = "The bundle was refused and nothing was imported: "
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BundleError(refuse + f"it is not a readable bundle (damaged or truncated file: {exc}). "
                          "Export it again on the laptop and copy it once more.") from exc
    with archive:
        names = archive.namelist()
        if MANIFEST not in names:
            raise BundleError(refuse + "it has no manifest.json, so it is not a Thrive Voices bundle.")
        if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED_BYTES:
            raise BundleError(refuse + "it unpacks to more than 4 GB.")
        try:
            manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
        except (zipfile.BadZipFile, zlib.error, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BundleError(refuse + f"its manifest is damaged ({exc}).") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BundleError(refuse + "its manifest does not describe a Thrive Voices bundle.")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise BundleError(refuse + f"it uses bundle format {manifest.get('format_version')!r}; this version of "
                              f"Thrive Voices reads format {FORMAT_VERSION}. Upgrade the hub first.")
        theirs = list(manifest.get("schema") or [])
        mine = set(schema_version(db))
        known = {m.name for m in migrations._migrations}
        unknown = [m for m in theirs if m not in known]
        if unknown:
            raise BundleError(refuse + f"it comes from a newer version of Thrive Voices (database changes "
                              f"{', '.join(unknown)} are unknown here). Upgrade Thrive Voices on the hub first, "
                              "then import the bundle again.")
        lacking = [m for m in theirs if m not in mine]
        if lacking:
            raise BundleError(refuse + f"this database lacks the changes {', '.join(lacking)} that the bundle has. "
                              "Upgrade the hub's database first (python cli.py init), then import again.")
        expected = manifest.get("parts")
        tables = [t for t in TABLES if t not in OPTIONAL_TABLES or OPTIONAL_TABLES[t] in theirs]
        if not isinstance(expected, dict) or set(expected) != {f"{t}.jsonl" for t in tables}:
            raise BundleError(refuse + "its manifest does not list the expected parts.")
        missing = sorted(set(expected) - set(names))
        if missing:
            raise BundleError(refuse + f"the part(s) {', '.join(missing)} are missing.")
        extra = sorted(set(names) - set(expected) - {MANIFEST})
        if extra:
            raise BundleError(refuse + f"it holds files the manifest does not list: {', '.join(extra)}.")
        parts: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        for table in tables:
            name = f"{table}.jsonl"
            try:
                blob = archive.read(name)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
                raise BundleError(refuse + f"the part {name} is damaged ({exc}).") from exc
            if hashlib.sha256(blob).hexdigest() != expected[name]:
                raise BundleError(refuse + f"the part {name} does not match its sha256 in the manifest: the file "
                                  "was altered or damaged after export.")
            rows = []
            try:
                for number, line in enumerate(blob.decode("utf-8").splitlines(), start=1):
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError(f"line {number} is not a record")
                    rows.append(row)
            except (UnicodeDecodeError, ValueError) as exc:
                raise BundleError(refuse + f"the part {name} cannot be read ({exc}).") from exc
            if (manifest.get("counts") or {}).get(table) != len(rows):
                raise BundleError(refuse + f"the part {name} holds {len(rows)} record(s), the manifest says "
                                  f"{(manifest.get('counts') or {}).get(table)}.")
            parts[table] = rows
    return _Bundle(manifest, parts)


# --- merge ---------------------------------------------------------------------------------------------------------

class _Rollback(Exception):
    """Ends a dry run: everything it wrote is rolled back."""


def _canon(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


class _Merge:
    def __init__(self, db: Database, user: User, bundle: _Bundle, report: BundleReport):
        self.db, self.user, self.bundle, self.report = db, user, bundle, report
        self.now = now_utc()
        self.columns = {t: _columns(db, t) for t in ("question_sets", "events", "respondents", "responses", "flags",
                                                     "reviews")}

    # helpers
    def conflict(self, table: str, record_id: str, reason: str, incoming: dict[str, Any],
                 local: dict[str, Any] | None) -> None:
        self.report.tables[table].conflicts += 1
        if len(self.report.conflicts) < 500:
            self.report.conflicts.append(f"{table} {record_id}: {reason}")
        text = _canon(incoming)
        if self.db.execute("SELECT 1 FROM bundle_conflicts WHERE table_name = ? AND record_id = ? AND incoming = ?",
                           [table, record_id, text]).fetchone():
            return  # recorded by an earlier import of the same version
        self.report.conflicts_recorded += 1
        self.db.execute(
            "INSERT INTO bundle_conflicts (bundle_id, table_name, record_id, reason, incoming, local, found_at, "
            "found_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [self.report.bundle_id, table, record_id, reason, text, None if local is None else _canon(local),
             self.now, self.user.username])

    def by_id(self, table: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in _rows_in(self.db, f"SELECT * FROM [{table}] WHERE id IN ({{marks}})", ids)}

    def existing(self, table: str, ids: Iterable[str]) -> set[str]:
        ids = sorted(set(ids))
        found: set[str] = set()
        for chunk in _chunks(ids):
            found.update(r[0] for r in self.db.execute(
                f"SELECT id FROM [{table}] WHERE id IN ({_marks(chunk)})", chunk))
        return found

    def shape(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """The incoming row restricted to this database's columns (a column the bundle lacks keeps its default)."""
        return {c: row[c] for c in self.columns[table] if c in row}

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        by_keys: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for row in rows:
            keys = tuple(row)
            by_keys.setdefault(keys, []).append(tuple(row.values()))
        for keys, values in by_keys.items():
            self.db.conn.executemany(
                f"INSERT INTO [{table}] ({', '.join(f'[{k}]' for k in keys)}) VALUES ({_marks(list(keys))})", values)

    def unique_clashes(self, table: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[dict[str, Any]]:
        """Rows (new ids) whose `columns` values are already held by another local record: conflicts; the rest."""
        if not all(c in self.columns[table] for c in columns):
            return rows
        keyed = [r for r in rows if all(r.get(c) is not None for c in columns)]
        if not keyed:
            return rows
        lead = columns[0]
        local: dict[tuple[Any, ...], dict[str, Any]] = {}
        for r in _rows_in(self.db, f"SELECT * FROM [{table}] WHERE [{lead}] IN ({{marks}})",
                          sorted({r[lead] for r in keyed})):
            local[tuple(r[c] for c in columns)] = r
        seen: set[tuple[Any, ...]] = set()
        kept = []
        for row in rows:
            key = tuple(row.get(c) for c in columns)
            if any(v is None for v in key):
                kept.append(row)
            elif key in local or key in seen:
                self.conflict(table, row["id"], f"another record already has this {' + '.join(columns)}", row,
                              local.get(key))
            else:
                seen.add(key)
                kept.append(row)
        return kept

    def merge_by_id(self, table: str, rows: list[dict[str, Any]], *,
                    merge_state: Any = None, uniques: tuple[tuple[str, ...], ...] = ()) -> None:
        counts = self.report.tables[table]
        local = self.by_id(table, [r["id"] for r in rows])
        new = []
        for incoming in rows:
            row = self.shape(table, incoming)
            mine = local.get(row["id"])
            if mine is None:
                new.append(row)
                continue
            mine = {k: mine[k] for k in row}
            if mine == row:
                counts.present += 1
            elif merge_state is not None and merge_state(row, mine):
                pass  # counted by merge_state
            else:
                differing = sorted(k for k in row if row[k] != mine[k])
                self.conflict(table, row["id"], f"same id, different {', '.join(differing)}", row, mine)
        for columns in uniques:
            new = self.unique_clashes(table, new, columns)
        self.insert(table, new)
        counts.new += len(new)

    # tables
    def run(self) -> None:
        parts = self.bundle.parts
        stones = parts["tombstones"]
        local_erased = {(k, r) for k, r in self.db.execute(
            "SELECT kind, ref_id FROM tombstones WHERE kind IN ('respondent', 'response')")}
        erased = local_erased | {(s["kind"], s["ref_id"]) for s in stones}
        self.erased_respondents = {r for k, r in erased if k == "respondent"}
        self.erased_responses = {r for k, r in erased if k == "response"}

        self.merge_by_id("question_sets", parts["question_sets"], uniques=(("key", "version"), ("key", "content_hash")))
        events = [e for e in parts["events"] if e.get("question_set_id") in
                  self.existing("question_sets", [e.get("question_set_id") for e in parts["events"]])]
        self._orphans("events", parts["events"], events)
        self.merge_by_id("events", events, merge_state=self._event_state)

        present_events = self.existing("events", [e["id"] for e in parts["events"]])
        respondents = self._not_erased("respondents", parts["respondents"], self.erased_respondents)
        kept = [r for r in respondents if r.get("event_id") in present_events]
        self._orphans("respondents", respondents, kept)
        self.merge_by_id("respondents", kept, uniques=(("submission_token",), ("event_id", "external_ref"),
                                                       ("reference",)))
        present_respondents = self.existing("respondents", [r["id"] for r in kept])
        responses = [r for r in parts["responses"] if r.get("respondent_id") not in self.erased_respondents]
        self.report.tables["responses"].erased += len(parts["responses"]) - len(responses)
        responses = self._not_erased("responses", responses, self.erased_responses)
        kept = [r for r in responses if r.get("respondent_id") in present_respondents
                and r.get("event_id") in present_events]
        self._orphans("responses", responses, kept)
        self.merge_by_id("responses", kept, merge_state=self._purge_state, uniques=(("event_id", "external_id"),))
        self.present_responses = self.existing("responses", [r["id"] for r in parts["responses"]])

        self.code_ids = self._codes(parts["codes"])
        self._codings(parts["codings"])
        self._memos(parts["memos"])
        self._pins(parts["pinned_quotes"])
        self._reviews(parts["reviews"])
        self._flags(parts["flags"])
        self._flag_history(parts["flag_history"])
        self._tombstones(stones)
        self._audit(parts["audit"])

    def _not_erased(self, table: str, rows: list[dict[str, Any]], erased: set[str]) -> list[dict[str, Any]]:
        kept = [r for r in rows if r.get("id") not in erased]
        self.report.tables[table].erased += len(rows) - len(kept)
        return kept

    def _orphans(self, table: str, rows: list[dict[str, Any]], kept: list[dict[str, Any]]) -> None:
        kept_ids = {id(r) for r in kept}
        for row in rows:
            if id(row) not in kept_ids:
                self.conflict(table, str(row.get("id")), "its parent record was not imported (it conflicts)", row,
                              None)

    def _event_state(self, row: dict[str, Any], mine: dict[str, Any]) -> bool:
        """An event closed anywhere is closed here (the latest closed_at); other differences are conflicts."""
        if any(row[k] != mine[k] for k in row if k not in ("status", "closed_at")):
            return False
        closed = [e["closed_at"] for e in (row, mine) if e["status"] == "closed" and e["closed_at"]]
        if not closed:
            return False
        target = max(closed)
        if mine["status"] == "closed" and mine["closed_at"] == target:
            self.report.tables["events"].present += 1
        else:
            self.db.execute("UPDATE events SET status = 'closed', closed_at = ? WHERE id = ?", [target, row["id"]])
            self.report.tables["events"].updated += 1
        return True

    def _purge_state(self, row: dict[str, Any], mine: dict[str, Any]) -> bool:
        """An original text purged by retention anywhere stays purged (the redacted text replaces it)."""
        if "text_purged_at" not in row or any(row[k] != mine[k] for k in row if k not in ("text", "text_purged_at")):
            return False
        if mine["text_purged_at"]:
            if row["text_purged_at"] or row["text"] == mine["text"] or mine["text"] == mine.get("redacted_text"):
                self.report.tables["responses"].present += 1
                return True
            return False
        if row["text_purged_at"] and row["text"] == row.get("redacted_text"):
            self.db.execute("UPDATE responses SET text = ?, text_purged_at = ? WHERE id = ?",
                            [row["text"], row["text_purged_at"], row["id"]])
            self.report.tables["responses"].updated += 1
            return True
        return False

    def _codes(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        local = {r["name"]: r for r in _rows(self.db, "SELECT * FROM codes")}
        names = {r["id"]: r["name"] for r in local.values()}
        counts = self.report.tables["codes"]
        # parents before children
        pending = sorted(rows, key=lambda r: (r.get("parent") is not None, r["name"]))
        created: list[dict[str, Any]] = []
        for row in pending:
            mine = local.get(row["name"])
            if mine is not None:
                mine_def = {k: mine.get(k) for k in CODE_DEFINITION if k != "parent"}
                mine_def["parent"] = names.get(mine["parent_id"])
                if all(mine_def[k] == row.get(k) for k in CODE_DEFINITION):
                    counts.present += 1
                else:
                    self.report.code_conflicts.append(row["name"])
                    self.conflict("codes", row["name"], "same name, different definition (the local one is kept)",
                                  row, mine_def)
                continue
            parent_id = local[row["parent"]]["id"] if row.get("parent") in local else None
            values = {k: row.get(k) for k in CODE_FIELDS if k in row}
            values["parent_id"] = parent_id
            cursor = self.db.execute(
                f"INSERT INTO codes ({', '.join(values)}) VALUES ({_marks(list(values))})", list(values.values()))
            local[row["name"]] = {**values, "id": cursor.lastrowid}
            names[cursor.lastrowid] = row["name"]
            created.append(row)
            counts.new += 1
            self.report.codes_created.append(row["name"])
        for row in created:
            if row.get("merged_into") in local:
                self.db.execute("UPDATE codes SET merged_into = ? WHERE name = ?",
                                [local[row["merged_into"]]["id"], row["name"]])
        return {name: r["id"] for name, r in local.items()}

    def _codings(self, rows: list[dict[str, Any]]) -> None:
        counts = self.report.tables["codings"]
        ids = sorted({r["response_id"] for r in rows if r["response_id"] in self.present_responses})
        local = {(r["response_id"], r["code"], r["coder"]): r for r in _rows_in(
            self.db, "SELECT c.response_id, k.name AS code, c.coder, c.source, c.created_at FROM codings c "
                     "JOIN codes k ON k.id = c.code_id WHERE c.response_id IN ({marks})", ids)}
        new = []
        for row in rows:
            if row["response_id"] not in self.present_responses:
                self._not_here("codings", row["response_id"], row)
                continue
            key = (row["response_id"], row["code"], row["coder"])
            mine = local.get(key)
            if mine is None:
                if row["code"] not in self.code_ids:
                    self.conflict("codings", "/".join(key), "its code is unknown here", row, None)
                    continue
                local[key] = row
                new.append((row["response_id"], self.code_ids[row["code"]], row["coder"], row.get("source", "merge"),
                            row["created_at"]))
            elif all(mine.get(k) == row.get(k) for k in ("source", "created_at")):
                counts.present += 1
            else:
                self.conflict("codings", "/".join(key), "same coding, different source or time", row, mine)
        self.db.conn.executemany(
            "INSERT INTO codings (response_id, code_id, coder, source, created_at) VALUES (?, ?, ?, ?, ?)", new)
        counts.new += len(new)

    def _not_here(self, table: str, response_id: str, row: dict[str, Any]) -> None:
        """A record under an answer that is not here: erased (not brought back), or its answer conflicted."""
        if response_id in self.erased_responses or response_id in self.erased_answer_ids:
            self.report.tables[table].erased += 1
        else:
            self.conflict(table, str(response_id), "its answer was not imported (it conflicts)", row, None)

    @property
    def erased_answer_ids(self) -> set[str]:
        if not hasattr(self, "_erased_answer_ids"):
            respondents = self.erased_respondents
            self._erased_answer_ids = {r["id"] for r in self.bundle.parts["responses"]
                                       if r.get("respondent_id") in respondents}
        return self._erased_answer_ids

    def _memos(self, rows: list[dict[str, Any]]) -> None:
        counts = self.report.tables["memos"]
        local = {(r["target_type"], r["target_id"], r["author"], r["created_at"]): r for r in _rows(
            self.db, "SELECT target_type, target_id, author, text, created_at, updated_at FROM memos")}
        new = []
        for row in rows:
            if row["target_type"] == "code":
                if row["target_id"] not in self.code_ids:
                    self.conflict("memos", f"code {row['target_id']}", "its code is unknown here", row, None)
                    continue
                target = str(self.code_ids[row["target_id"]])
            else:
                if row["target_id"] not in self.present_responses:
                    self._not_here("memos", row["target_id"], row)
                    continue
                target = row["target_id"]
            key = (row["target_type"], target, row["author"], row["created_at"])
            mine = local.get(key)
            if mine is None:
                local[key] = row
                new.append((*key[:3], row["text"], row["created_at"], row["updated_at"]))
            elif mine["text"] == row["text"]:
                counts.present += 1
            else:
                self.conflict("memos", "/".join(key), "same memo, different text", row, mine)
        self.db.conn.executemany("INSERT INTO memos (target_type, target_id, author, text, created_at, updated_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?)", new)
        counts.new += len(new)

    def _pins(self, rows: list[dict[str, Any]]) -> None:
        counts = self.report.tables["pinned_quotes"]
        local = {(r["code"], r["response_id"]): r for r in _rows(
            self.db, "SELECT k.name AS code, p.response_id, p.pinned_by, p.at, p.translation FROM pinned_quotes p "
                     "JOIN codes k ON k.id = p.code_id")}
        new, translated = [], []
        for row in rows:
            if row["response_id"] not in self.present_responses:
                self._not_here("pinned_quotes", row["response_id"], row)
                continue
            key = (row["code"], row["response_id"])
            mine = local.get(key)
            if mine is None:
                if row["code"] not in self.code_ids:
                    self.conflict("pinned_quotes", "/".join(key), "its code is unknown here", row, None)
                    continue
                local[key] = row
                new.append((self.code_ids[row["code"]], row["response_id"], row["pinned_by"], row["at"],
                            row.get("translation")))  # a bundle written before 0026 has no translation
            elif mine["pinned_by"] == row["pinned_by"] and mine["at"] == row["at"]:
                # a translation fills a pin that has none; two different ones are a conflict (the local one stays)
                theirs = row.get("translation")
                if theirs is None or theirs == mine["translation"]:
                    counts.present += 1
                elif mine["translation"] is None:
                    translated.append((theirs, self.code_ids[row["code"]], row["response_id"]))
                    counts.updated += 1
                else:
                    self.conflict("pinned_quotes", "/".join(key), "same pin, different translation", row, mine)
            else:
                self.conflict("pinned_quotes", "/".join(key), "same pin, different pinner or time", row, mine)
        self.db.conn.executemany("INSERT INTO pinned_quotes (code_id, response_id, pinned_by, at, translation) "
                                 "VALUES (?, ?, ?, ?, ?)", new)
        self.db.conn.executemany("UPDATE pinned_quotes SET translation = ? WHERE code_id = ? AND response_id = ? "
                                 "AND translation IS NULL", translated)
        counts.new += len(new)

    def _reviews(self, rows: list[dict[str, Any]]) -> None:
        """Reviews match by id (append-only rows: the newest per target is its state, in any merge order); a review
        of an erased respondent or answer is not brought in, one whose target conflicted is reported."""
        counts = self.report.tables["reviews"]
        respondents = self.existing("respondents", [r["respondent_id"] for r in rows if r.get("respondent_id")])
        kept = []
        for row in rows:
            respondent, response = row.get("respondent_id"), row.get("response_id")
            if respondent in self.erased_respondents or response in self.erased_responses \
                    or response in self.erased_answer_ids:
                counts.erased += 1
            elif (respondent is not None and respondent in respondents) or \
                    (response is not None and response in self.present_responses):
                kept.append(row)
            else:
                self.conflict("reviews", str(row.get("id")), "its respondent or answer was not imported (it "
                              "conflicts)", row, None)
        self.merge_by_id("reviews", kept)

    def _unlinked(self, flag: dict[str, Any]) -> dict[str, Any]:
        flag = dict(flag)
        if flag.get("respondent_id") in self.erased_respondents:
            flag["respondent_id"] = None
        if flag.get("response_id") in self.erased_responses or flag.get("response_id") in self.erased_answer_ids:
            flag["response_id"] = None
        return flag

    def _flags(self, rows: list[dict[str, Any]]) -> None:
        counts = self.report.tables["flags"]
        local = self.by_id("flags", [r["id"] for r in rows])
        new = []
        for incoming in rows:
            row = self._unlinked(self.shape("flags", incoming))
            if row.get("status") == "open":
                self.report.open_flags_in_bundle += 1
            mine = local.get(row["id"])
            if mine is None:
                new.append(row)
                if row.get("status") == "open":
                    self.report.open_flags_arrived += 1
                continue
            mine_n = self._unlinked({k: mine[k] for k in row})
            fixed = [k for k in row if k not in FLAG_STATE]
            if any(row[k] != mine_n[k] for k in fixed):
                differing = sorted(k for k in fixed if row[k] != mine_n[k])
                self.conflict("flags", row["id"], f"same flag, different {', '.join(differing)}", row, mine)
                continue
            state_in = tuple(row.get(k) or "" for k in FLAG_STATE)
            state_mine = tuple(mine_n.get(k) or "" for k in FLAG_STATE)
            if state_in == state_mine or (state_in[1], _canon(dict(zip(FLAG_STATE, state_in, strict=True)))) \
                    <= (state_mine[1], _canon(dict(zip(FLAG_STATE, state_mine, strict=True)))):
                counts.present += 1
            else:  # the flag moved on elsewhere: its newest state counts (both histories are kept)
                present = [k for k in FLAG_STATE if k in row]
                self.db.execute(f"UPDATE flags SET {', '.join(f'{k} = ?' for k in present)} WHERE id = ?",
                                [row[k] for k in present] + [row["id"]])
                counts.updated += 1
        self.insert("flags", new)
        counts.new += len(new)

    def _content(self, table: str, rows: list[dict[str, Any]], columns: tuple[str, ...], local_sql: str,
                 lookup: str) -> list[dict[str, Any]]:
        """Append rows whose whole content (`columns`) is not already here; returns the new ones."""
        counts = self.report.tables[table]
        local = {tuple(r[c] for c in columns) for r in _rows_in(
            self.db, local_sql, sorted({r[lookup] for r in rows if r.get(lookup) is not None}))}
        new = []
        for row in rows:
            key = tuple(row.get(c) for c in columns)
            if key in local:
                counts.present += 1
            else:
                local.add(key)
                new.append(row)
        counts.new += len(new)
        return new

    def _flag_history(self, rows: list[dict[str, Any]]) -> None:
        here = self.existing("flags", [r["flag_id"] for r in rows])
        kept = [r for r in rows if r["flag_id"] in here]
        self._orphans("flag_history", rows, kept)
        columns = ("flag_id", "status", "note", "by", "at")
        new = self._content("flag_history", kept, columns,
                            "SELECT flag_id, status, note, by, at FROM flag_history WHERE flag_id IN ({marks})",
                            "flag_id")
        self.db.conn.executemany("INSERT INTO flag_history (flag_id, status, note, by, at) VALUES (?, ?, ?, ?, ?)",
                                 [tuple(r[c] for c in columns) for r in new])

    def _tombstones(self, rows: list[dict[str, Any]]) -> None:
        from data.erasure import erase_respondent

        # erasure wins: a respondent erased on the laptop and still here is erased here, in this transaction
        for stone in rows:
            if stone["kind"] != "respondent":
                continue
            if self.db.execute("SELECT 1 FROM respondents WHERE id = ?", [stone["ref_id"]]).fetchone():
                erase_respondent(self.db, self.user, stone["ref_id"],
                                 f"Erased on another laptop by {stone['by']} at {stone['at']} (bundle "
                                 f"{self.report.bundle_id}): {stone['reason']}")
                self.report.erased_here.append(stone["ref_id"])
        columns = ("kind", "ref_id", "reason", "by", "at")
        new = self._content("tombstones", rows, columns,
                            "SELECT kind, ref_id, reason, by, at FROM tombstones WHERE ref_id IN ({marks})", "ref_id")
        self.db.conn.executemany("INSERT INTO tombstones (kind, ref_id, reason, by, at) VALUES (?, ?, ?, ?, ?)",
                                 [tuple(r[c] for c in columns) for r in new])

    def _audit(self, rows: list[dict[str, Any]]) -> None:
        # audit ids are local autoincrements: a bundle's rows are appended (with their own time and actor) unless a
        # row with the same (at, actor, action, target_id) is already here
        counts = self.report.tables["audit"]
        local = {(r["at"], r["actor"], r["action"], r["target_id"]) for r in _rows_in(
            self.db, "SELECT at, actor, action, target_id FROM audit WHERE at IN ({marks})",
            sorted({r["at"] for r in rows}))}
        new = []
        for row in rows:
            key = (row["at"], row.get("actor"), row["action"], row.get("target_id"))
            if key in local:
                counts.present += 1
            else:
                local.add(key)
                new.append((row["at"], row.get("actor"), row["action"], row.get("target_type"), row.get("target_id"),
                            row.get("detail") or "{}"))
        self.db.conn.executemany(
            "INSERT INTO audit (at, actor, action, target_type, target_id, detail) VALUES (?, ?, ?, ?, ?, ?)", new)
        counts.new += len(new)


def import_bundle(db: Database, user: User, file: str | Path | bytes | IO[bytes], dry_run: bool = False) -> BundleReport:
    """Merge a bundle into this database in one transaction (see the module docstring for the rules); with
    `dry_run`, do the same and roll it back, returning what would happen (the Admin page's preview)."""
    require(user, "bundle")
    bundle = read_bundle(db, file)
    report = BundleReport(str(bundle.manifest.get("bundle_id") or ""), dry_run, bundle.manifest)
    try:
        with transaction(db):
            _Merge(db, user, bundle, report).run()
            if dry_run:
                raise _Rollback
            if report.added or report.conflicts_recorded:
                audit.record(db, user, "bundle_imported", "bundle", report.bundle_id,
                             created_by=bundle.manifest.get("created_by"), events=len(bundle.manifest.get("events", [])),
                             counts={t: c.as_dict() for t, c in report.tables.items()},
                             open_flags_arrived=report.open_flags_arrived, erased_here=len(report.erased_here),
                             codes_created=report.codes_created, code_conflicts=report.code_conflicts)
    except _Rollback:
        pass
    except sqlite3.IntegrityError as exc:
        raise BundleError(f"The bundle was refused and nothing was imported: a record breaks a rule of this "
                          f"database ({exc}).") from exc
    return report


def conflicts(db: Database, user: User, *, unresolved_only: bool = True, limit: int = 500) -> list[dict[str, Any]]:
    """Records that arrived in a bundle and clash with a local one, newest first (admins)."""
    require(user, "bundle")
    sql = ("SELECT id, bundle_id, table_name, record_id, reason, incoming, local, found_at, found_by, resolved_at, "
           "resolved_by, resolution, resolution_note FROM bundle_conflicts")
    if unresolved_only:
        sql += " WHERE resolved_at IS NULL"
    return _rows(db, sql + " ORDER BY id DESC LIMIT ?", [int(limit)])


#: what "keep incoming" may replace, per table: fields whose new value touches no other record
RESOLVABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "responses": ("text", "redacted_text"),    # redacted_text is worked out again, never taken from the bundle
    "respondents": ("group_id", "profile"),
    "events": ("name", "venue", "area"),
    "codes": ("label", "definition"),
}
RESOLUTIONS = ("local", "incoming")


class ConflictError(ValueError):
    """A conflict cannot be resolved as asked; the message says why and what to do. Nothing was written."""


@dataclass
class Resolution:
    conflict_id: int
    keep: str
    table: str
    record_id: str
    fields: list[str]                                            # fields replaced by the incoming version
    flags_raised: list[str] = field(default_factory=list)       # flag ids raised by the re-screening

    def summary(self) -> str:
        if self.keep == "local":
            text = f"Conflict {self.conflict_id} resolved: the local {self.table} record {self.record_id} is kept."
        else:
            text = (f"Conflict {self.conflict_id} resolved: the incoming version replaced "
                    f"{', '.join(self.fields) or 'nothing'} of {self.table} record {self.record_id}.")
        if self.flags_raised:
            text += (f" The new text may be a disclosure: {len(self.flags_raised)} safeguarding flag(s) raised, "
                     "now in the safeguarding queue.")
        return text


def _same(a: Any, b: Any) -> bool:
    return a == b or (a in (None, "") and b in (None, ""))


def resolve_conflict(db: Database, user: User, conflict_id: int, keep: str, note: str) -> Resolution:
    """Resolve one open bundle conflict (admins, "bundle"): `keep="local"` marks it resolved; `keep="incoming"`
    replaces the local record's fields with the bundle's version where that is safe (RESOLVABLE_FIELDS), screening
    a new answer text again (redaction, disclosure check and a flag). One transaction with its audit row."""
    from analysis import privacy, safeguarding
    from data import flags

    require(user, "bundle")
    if keep not in RESOLUTIONS:
        raise ConflictError(f"Choose what to keep: {' or '.join(RESOLUTIONS)}.")
    note = (note or "").strip()
    if not note:
        raise ConflictError("Write a note saying why (it is kept with the conflict and in the audit log).")
    with transaction(db):
        found = _rows(db, "SELECT * FROM bundle_conflicts WHERE id = ?", [int(conflict_id)])
        if not found:
            raise ConflictError(f"There is no bundle conflict {conflict_id}.")
        row = found[0]
        table, record_id = row["table_name"], row["record_id"]
        if row["resolved_at"]:
            raise ConflictError(f"Conflict {conflict_id} was already resolved by {row['resolved_by'] or '?'} at "
                                f"{row['resolved_at'][:16].replace('T', ' ')} UTC.")
        result = Resolution(int(conflict_id), keep, table, record_id, [])
        if keep == "incoming":
            _apply_incoming(db, user, row, result, privacy, safeguarding, flags)
        db.execute("UPDATE bundle_conflicts SET resolved_at = ?, resolved_by = ?, resolution = ?, "
                   "resolution_note = ? WHERE id = ?", [now_utc(), user.username, keep, note, int(conflict_id)])
        audit.record(db, user, "bundle_conflict_resolved", "bundle_conflict", str(conflict_id), keep=keep,
                     table=table, record_id=record_id, fields=result.fields, flags_raised=result.flags_raised,
                     note=note)
    return result


def _apply_incoming(db: Database, user: User, row: dict[str, Any], result: Resolution, privacy: Any,
                    safeguarding: Any, flags: Any) -> None:
    table, record_id = row["table_name"], row["record_id"]
    allowed = RESOLVABLE_FIELDS.get(table)
    if allowed is None:
        raise ConflictError(f"A conflicting {table.replace('_', ' ')} record cannot be replaced by the bundle's "
                            "version here (it would change other records). Keep the local one, or change it by hand.")
    incoming = json.loads(row["incoming"])
    key = "name" if table == "codes" else "id"
    local = _rows(db, f"SELECT * FROM [{table}] WHERE [{key}] = ?", [record_id])
    if not local or incoming.get(key) != record_id:
        raise ConflictError(f"The {table} record {record_id} is not here any more (erased, or the bundle's version "
                            "is a different record): only keeping the local state is possible.")
    mine = local[0]
    if table == "codes":
        parent = _rows(db, "SELECT name FROM codes WHERE id = ?", [mine["parent_id"]]) if mine["parent_id"] else []
        mine = dict(mine, parent=parent[0]["name"] if parent else None)
        compared = CODE_DEFINITION
    else:
        compared = tuple(k for k in incoming if k in mine)
    others = sorted(k for k in compared if k not in allowed and not _same(incoming.get(k), mine.get(k)))
    if table == "responses":
        others = [k for k in others if k != "text_purged_at" or incoming.get("text_purged_at")]
    if others:
        raise ConflictError(f"The bundle's version also differs in {', '.join(others)}, which cannot be replaced "
                            "here. Keep the local one, or change it by hand.")
    if table == "responses" and mine.get("text_purged_at"):
        raise ConflictError("The original text of this answer was purged here by retention; the bundle's text "
                            "cannot bring it back. Keep the local one.")
    changed = [k for k in allowed if k in incoming and k != "redacted_text" and not _same(incoming[k], mine.get(k))]
    if table == "responses":
        if "text" in changed:
            text = incoming["text"]
            db.execute("UPDATE responses SET text = ?, redacted_text = ? WHERE id = ?",
                       [text, privacy.redact(text), record_id])
            changed.append("redacted_text")
            disclosure = safeguarding.check(text, mine.get("question_id"))
            if disclosure:
                flag = flags.raise_flag(db, user, kind="auto", reason=disclosure.reason,
                                        respondent_id=mine.get("respondent_id"), response_id=record_id,
                                        event_id=mine.get("event_id"), category=disclosure.category,
                                        strength=disclosure.strength)
                result.flags_raised.append(flag.id)
    elif changed:
        sets = ", ".join(f"[{k}] = ?" for k in changed)
        values = [incoming[k] for k in changed]
        if table == "codes":
            sets += ", updated_at = ?"
            values.append(now_utc())
        try:
            db.execute(f"UPDATE [{table}] SET {sets} WHERE [{key}] = ?", [*values, record_id])
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"The bundle's version breaks a rule of this database ({exc}). Keep the local "
                                "one, or change it by hand.") from exc
    result.fields = changed


def bundle_filename(when: dt.datetime | None = None) -> str:
    """A file name for a bundle made now: thrive-bundle-YYYYMMDD-HHMM.zip."""
    return f"thrive-bundle-{(when or dt.datetime.now(dt.UTC)).strftime('%Y%m%d-%H%M')}.zip"
