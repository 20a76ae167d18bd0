"""REFI-QDA projects (.qdpx) into the database: codebook, coders and codings from NVivo, ATLAS.ti, MAXQDA, QualCoder
or a project this app exported; foreign text sources become answers. Also loads the memos the .qdpx export writes.

What is read, and how (all or nothing, in one transaction; everything that cannot be mapped is reported):
- the codebook through exports.refi.read_qdc + data.codebook.plan/apply_codebook_import (new codes are created, an
  existing code is never changed; deep nesting and ATLAS.ti sets are kept as read_qdc says in the plan's notes).
  The "Case: ..." codes our export adds (a Case of the same GUID) are case links, not codes, and are skipped.
- users as coders: a coding is credited to its <Coding>'s creatingUser, else its <PlainTextSelection>'s, else
  the selection's modifyingUser (QualCoder's order), by User name; without one it is reported, not guessed.
- our own export coming back (the same tool or after NVivo/ATLAS.ti/QualCoder): each selection is matched to an
  answer by (1) its GUID (our answer id), (2) the "answer <id>" in its Description (QualCoder keeps it as the
  coding memo), (3) its offsets inside an answer's span in the source text, the spans found from (1)/(2) and by
  finding each answer's text (unique among that question's answers) between blank lines. No answer is created.
- a foreign project with its texts in the archive (sources/*.txt or PlainTextContent): one event named after the
  project; per text source one respondent (group "resident": a document's speaker is a member of the public as
  far as we know), and as answers to the question set's first free-text question: each distinct coded span
  (with its codings) and each paragraph that no coded span touches. Answers are screened like any import.
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import re
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from data import audit
from data.db import Database, new_ids, now_utc, transaction
from data.users import User, require

_RID_IN_TEXT = re.compile(r"answer ([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
MAX_LISTED = 20
FOREIGN_GROUP = "resident"


@dataclass
class QdpxReport:
    """What an import did (or, with dry_run, would do)."""

    file: str
    dry_run: bool
    project: str = ""
    origin: str = ""
    ours: bool = False
    codebook: list[str] = field(default_factory=list)  # the codebook plan in words
    codes_created: list[str] = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    codings_added: int = 0
    codings_present: int = 0
    answers_matched: int = 0
    answers_created: int = 0
    respondents_created: int = 0
    event: str | None = None
    flags_raised: int = 0
    case_links: int = 0
    unmapped: list[str] = field(default_factory=list)  # each thing not imported, and why
    unmapped_count: int = 0
    notes: list[str] = field(default_factory=list)

    def unmappable(self, message: str) -> None:
        self.unmapped_count += 1
        if len(self.unmapped) < MAX_LISTED:
            self.unmapped.append(message)

    def lines(self) -> list[str]:
        verb = "would add" if self.dry_run else "added"
        out = [f"{self.file}: project {self.project!r} from {self.origin or 'an unnamed tool'}"
               + (" (exported by Thrive Voices)" if self.ours else "") + (" — dry run, nothing written"
                                                                            if self.dry_run else "")]
        out += [f"Codebook: {line}" for line in self.codebook[:1]] + [f"  {line}" for line in self.codebook[1:]]
        out.append(f"Coders: {', '.join(self.coders) or '(none)'}")
        out.append(f"Codings: {verb} {self.codings_added}, already present {self.codings_present}, on "
                   f"{self.answers_matched} existing answer(s); {self.case_links} case link(s) read as cases.")
        if self.event or self.answers_created:
            out.append(f"Answers: {verb} {self.answers_created} from {self.respondents_created} source(s) at event "
                       f"{self.event!r}; {self.flags_raised} flagged for the safeguarding lead.")
        if self.unmapped_count:
            out.append(f"Not imported ({self.unmapped_count}):")
            out += [f"  - {m}" for m in self.unmapped]
            if self.unmapped_count > len(self.unmapped):
                out.append(f"  ... and {self.unmapped_count - len(self.unmapped)} more")
        out += [f"Note: {n}" for n in self.notes]
        return out


class QdpxError(ValueError):
    """A file that is not a readable REFI-QDA project."""


def _local(tag: Any) -> str:
    from lxml import etree

    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _kids(el: Any, name: str) -> list[Any]:
    return [c for c in el if _local(c.tag) == name]


def _norm(g: str | None) -> str:
    return str(g or "").strip().strip("{}").strip().lower()


def _read_archive(data: bytes) -> tuple[bytes, dict[str, bytes]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise QdpxError("not a readable .qdpx (zip) file") from exc
    with zf:
        names = zf.namelist()
        member = next((n for n in names if n.lower() == "project.qde"), None) or next(
            (n for n in names if n.lower().endswith(".qde")), None)
        if member is None:
            raise QdpxError("this .qdpx holds no project.qde")
        files = {n.split("/", 1)[1].lower(): n for n in names if n.lower().startswith("sources/") and "/" in n}
        texts = {}
        for key, name in files.items():
            if key.endswith(".txt"):
                texts[key] = zf.read(name)
        return zf.read(member), texts


def _source_text(src: Any, texts: dict[str, bytes]) -> str | None:
    content = next(iter(_kids(src, "PlainTextContent")), None)
    if content is not None and content.text is not None:
        return content.text
    path = src.get("plainTextPath") or ""
    if path.startswith("internal://"):
        raw = texts.get(path.removeprefix("internal://").lower())
        if raw is not None:
            return raw.decode("utf-8-sig", errors="replace")
    return None


def _when(value: str | None) -> str:
    if not value:
        return now_utc()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return now_utc()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _answer_spans(text: str, answers: list[tuple[str, str]], known: dict[str, tuple[int, int]]
                  ) -> list[tuple[int, int, str]]:
    """Answer spans in one of our exported source texts: those known from selections, plus each piece between
    blank lines (or run of pieces) whose text is that of exactly one of the question's answers."""
    from exports.refi import SEPARATOR

    by_text: dict[str, list[str]] = {}
    for rid, t in answers:
        by_text.setdefault(t, []).append(rid)
    spans = {rid: s for rid, s in known.items()}
    taken = set(spans.values())
    pieces: list[tuple[int, int]] = []
    pos = 0
    for part in text.split(SEPARATOR):
        pieces.append((pos, pos + len(part)))
        pos += len(part) + len(SEPARATOR)
    longest = max((len(t) for t in by_text), default=0)
    i = 0
    while i < len(pieces):
        matched = False
        for j in range(i, len(pieces)):
            start, end = pieces[i][0], pieces[j][1]
            if end - start > longest:
                break
            rids = by_text.get(text[start:end])
            if rids:
                free = [r for r in rids if r not in spans]
                if len(rids) == 1 and free and (start, end) not in taken:
                    spans[free[0]] = (start, end)
                    taken.add((start, end))
                i, matched = j + 1, True
                break
        if not matched:
            i += 1
    return sorted((s, e, rid) for rid, (s, e) in spans.items())


def _find(spans: list[tuple[int, int, str]], start: int, end: int) -> str | None:
    k = bisect.bisect_right(spans, (start, float("inf"), "")) - 1
    if k >= 0 and spans[k][0] <= start and end <= spans[k][1]:
        return spans[k][2]
    return None


def _paragraphs(text: str) -> list[tuple[int, int]]:
    out = []
    for m in re.finditer(r"[^\r\n]+", text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def _import_qdpx(db: Database, user: User, file: str | Path | IO[bytes] | bytes, *, dry_run: bool = False
                 ) -> QdpxReport:
    require(user, "import")
    require(user, "code")
    from lxml import etree

    from data import codebook as cb
    from exports import refi

    if isinstance(file, (str, Path)):
        name, data = Path(file).name, Path(file).read_bytes()
    elif isinstance(file, bytes):
        name, data = "project.qdpx", file
    else:
        name, data = getattr(file, "name", "project.qdpx"), file.read()
    name = Path(str(name)).name
    xml, texts = _read_archive(data)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise QdpxError(f"project.qde is not readable XML: {exc.msg}") from exc
    if _local(root.tag) != "Project":
        raise QdpxError(f"expected a REFI-QDA <Project>, found <{_local(root.tag)}>")
    report = QdpxReport(file=name, dry_run=dry_run, project=root.get("name") or Path(name).stem,
                        origin=root.get("origin") or "")
    report.ours = report.origin == refi.ORIGIN
    users = {_norm(u.get("guid")): (u.get("name") or u.get("id") or "").strip()
             for holder in _kids(root, "Users") for u in _kids(holder, "User")}
    case_guids = {_norm(c.get("guid")) for holder in _kids(root, "Cases") for c in _kids(holder, "Case")}

    from data.findings import _labels

    questions, _groups = _labels(db)
    known_qids = {qid for (qid,) in db.execute("SELECT DISTINCT question_id FROM responses")} | set(questions)
    qid_by_source = {_norm(refi.source_guid(q)): q for q in known_qids}
    qid_by_label = {label.strip(): q for q, label in questions.items()}

    with transaction(db):
        # 1. codebook
        codebook_specs: list[dict[str, Any]] = []
        plan_notes: list[str] = []
        if _kids(root, "CodeBook"):
            existing = [c.name for c in cb.list_codes(db, include_archived=True)]
            parsed = refi.read_qdc(xml, existing)
            codebook_specs = [s for s in parsed.specs if _norm(s.get("guid")) not in case_guids]
            plan_notes = parsed.notes
            skipped = len(parsed.specs) - len(codebook_specs)
            if skipped:
                report.notes.append(f"{skipped} code(s) share their GUID with a Case (how QualCoder, NVivo and our "
                                    "export link cases to text): read as case links, not as codes.")
        plan = cb.plan_codebook_import(db, codebook_specs, source=name, notes=plan_notes,
                                       format="qdpx") if codebook_specs else None
        if plan is not None:
            report.codebook = plan.lines()
            if not dry_run:
                done = cb.apply_codebook_import(db, user, plan)
                report.codes_created = done.created
            else:
                report.codes_created = [n.name for n in plan.new]
        else:
            report.notes.append("The project has no codebook.")
        code_of: dict[str, int | None] = {}  # file's code GUID -> our code id (None: would be created)
        renamed = {d.incoming.lower(): d.name for d in (plan.differences if plan else [])}
        for spec in codebook_specs:
            g = _norm(spec.get("guid"))
            row = db.execute("SELECT id FROM codes WHERE lower(guid) = ?", [g]).fetchone() if g else None
            if row is None:
                ours = renamed.get(spec["code"].lower(), spec["code"])
                row = db.execute("SELECT id FROM codes WHERE lower(name) = lower(?)", [ours]).fetchone()
            code_of[g] = int(row[0]) if row else None

        # 2. sources
        foreign: list[tuple[Any, str, str]] = []  # (TextSource, text, source guid) to become answers
        touched: set[str] = set()
        coders: set[str] = set()
        new_codings: list[tuple[str, int, str, str]] = []
        seen_codings: set[tuple[str, int, str]] = set()

        def coder_of(sel: Any, coding: Any) -> str | None:
            for g in (coding.get("creatingUser"), sel.get("creatingUser"), sel.get("modifyingUser")):
                if g and users.get(_norm(g)):
                    return users[_norm(g)]
            return None

        def add_coding(rid: str, sel: Any, where: str) -> None:
            for coding in _kids(sel, "Coding"):
                ref = next(iter(_kids(coding, "CodeRef")), None)
                target = _norm(ref.get("targetGUID") if ref is not None else "")
                if target in case_guids:
                    report.case_links += 1
                    continue
                if target not in code_of:
                    report.unmappable(f"{where}: a coding refers to code {target or '(none)'}, not in the codebook")
                    continue
                coder = coder_of(sel, coding)
                if not coder:
                    report.unmappable(f"{where}: a coding has no creatingUser that names a User")
                    continue
                code_id = code_of[target]
                key = (rid, code_id if code_id is not None else -hash(target), coder)
                if key in seen_codings:
                    continue
                seen_codings.add(key)
                coders.add(coder)
                present = code_id is not None and db.execute(
                    "SELECT 1 FROM codings WHERE response_id = ? AND code_id = ? AND coder = ?",
                    [rid, code_id, coder]).fetchone()
                if present:
                    report.codings_present += 1
                else:
                    report.codings_added += 1
                    if code_id is not None:
                        new_codings.append((rid, code_id, coder, _when(coding.get("creationDateTime"))))
                touched.add(rid)

        for holder in _kids(root, "Sources"):
            for src in holder:
                kind = _local(src.tag)
                sname = src.get("name") or src.get("guid") or "(unnamed)"
                sels = [s for s in src.iter() if _local(s.tag).endswith("Selection")]
                if kind != "TextSource":
                    coded = sum(1 for s in sels if _kids(s, "Coding"))
                    report.unmappable(f"{kind} {sname!r}: not text ({coded} coded selection(s) not imported)")
                    continue
                text = _source_text(src, texts)
                sguid = _norm(src.get("guid"))
                qid = qid_by_source.get(sguid) or (qid_by_label.get(sname.strip()) if report.ours or any(
                    _RID_IN_TEXT.search(d.text or "") for s in sels for d in _kids(s, "Description")) else None)
                text_sels = _kids(src, "PlainTextSelection")
                if qid is None:
                    if text is None:
                        coded = sum(len(_kids(s, "Coding")) for s in text_sels)
                        report.unmappable(f"TextSource {sname!r}: its text is not in the archive "
                                          f"({src.get('plainTextPath') or 'no path'}), so its {coded} coding(s) "
                                          "cannot be placed on answers")
                    else:
                        foreign.append((src, text, sguid))
                    continue
                # one of our sources: match each selection to an answer of that question
                rows = db.execute("SELECT id, COALESCE(redacted_text, text), text FROM responses "
                                  "WHERE question_id = ?", [qid]).fetchall()
                ids = {r[0].lower(): r[0] for r in rows}
                known: dict[str, tuple[int, int]] = {}
                for sel in text_sels:
                    rid = ids.get(_norm(sel.get("guid")))
                    if rid is None:
                        desc = " ".join(d.text or "" for d in _kids(sel, "Description"))
                        m = _RID_IN_TEXT.search(desc)
                        rid = ids.get(m.group(1).lower()) if m else None
                    if rid is not None:
                        known.setdefault(rid, (int(sel.get("startPosition")), int(sel.get("endPosition"))))
                spans: list[tuple[int, int, str]] = []
                if text is not None:
                    candidates = [(r[0], r[1]) for r in rows] + [(r[0], r[2]) for r in rows if r[2] != r[1]]
                    spans = _answer_spans(text, candidates, known)
                else:
                    spans = sorted((s, e, rid) for rid, (s, e) in known.items())
                for sel in text_sels:
                    if not _kids(sel, "Coding"):
                        continue
                    start, end = int(sel.get("startPosition") or 0), int(sel.get("endPosition") or 0)
                    rid = ids.get(_norm(sel.get("guid")))
                    if rid is None:
                        m = _RID_IN_TEXT.search(" ".join(d.text or "" for d in _kids(sel, "Description")))
                        rid = ids.get(m.group(1).lower()) if m else None
                    if rid is None:
                        rid = _find(spans, start, end)
                    if rid is None:
                        report.unmappable(f"{sname!r} {start}-{end}: no single answer holds this selection "
                                          "(its text is not, or not uniquely, one answer's)")
                        continue
                    add_coding(rid, sel, f"{sname!r} {start}-{end}")
        report.answers_matched = len(touched)

        # 3. foreign text sources become answers
        if foreign:
            _foreign_answers(db, user, report, foreign, add_coding, touched, dry_run)

        report.coders = sorted(coders)
        if not dry_run:
            db.conn.executemany("INSERT OR IGNORE INTO codings (response_id, code_id, coder, source, created_at) "
                                "VALUES (?, ?, ?, 'import', ?)", new_codings)
            audit.record(db, user, "qdpx_imported", "file", name, origin=report.origin, ours=report.ours,
                         codes_created=len(report.codes_created), codings_added=report.codings_added,
                         answers_created=report.answers_created, unmapped=report.unmapped_count)
        for holder in _kids(root, "Sets"):
            report.notes.append(f"{len(_kids(holder, 'Set'))} set(s): code sets are kept as the codebook notes say; "
                                "sets of documents are not imported (we have no document groups).")
        notes = [n for holder in _kids(root, "Notes") for n in _kids(holder, "Note")]
        if notes:
            report.notes.append(f"{len(notes)} project note(s): those on codes are kept in the codes' definitions "
                                "(see the codebook notes); the others are not imported.")
        for other in ("Graphs", "Links", "Variables"):
            if _kids(root, other):
                report.notes.append(f"<{other}> is not imported (nothing of ours holds it).")
        if dry_run:
            raise _DryRun(report)
    return report


class _DryRun(Exception):
    def __init__(self, report: QdpxReport):
        self.report = report


def _foreign_answers(db: Database, user: User, report: QdpxReport, foreign: list[tuple[Any, str, str]],
                     add_coding: Any, touched: set[str], dry_run: bool) -> None:
    from analysis.screening import screen
    from data import flags
    from data.events import create_event, events_named, question_set

    event = next(iter(events_named(db, report.project)), None)
    if event is None:
        event = create_event(db, user, name=report.project, date=dt.date.today())
    report.event = event.name
    qs = question_set(db, event.question_set_id)
    question = next((q for q in qs.questions if q.type == "free_text"), None)
    if question is None:
        raise QdpxError(f"the event {event.name!r} has no free-text question to hold the texts")
    group = FOREIGN_GROUP if any(g.id == FOREIGN_GROUP for g in qs.groups) else qs.groups[0].id
    report.notes.append(f"Texts became answers to {question.id!r} from group {group!r} at event {event.name!r}: "
                        "each distinct coded span, and each paragraph no coded span touches.")
    existing = {ext: rid for ext, rid in db.execute(
        "SELECT external_id, id FROM responses WHERE event_id = ? AND external_id IS NOT NULL", [event.id])}
    refs = {ref: rid for ref, rid in db.execute(
        "SELECT external_ref, id FROM respondents WHERE event_id = ? AND external_ref IS NOT NULL", [event.id])}
    now = now_utc()
    for src, text, sguid in foreign:
        sname = src.get("name") or sguid
        sels = [s for s in _kids(src, "PlainTextSelection")]
        spans: dict[tuple[int, int], list[Any]] = {}
        for sel in sels:
            start, end = int(sel.get("startPosition") or 0), int(sel.get("endPosition") or 0)
            if not (0 <= start < end <= len(text)):
                report.unmappable(f"{sname!r} {start}-{end}: outside its text ({len(text)} characters)")
                continue
            if _kids(sel, "Coding"):
                spans.setdefault((start, end), []).append(sel)
        pieces = [(s, e, spans[(s, e)]) for s, e in sorted(spans)]
        pieces += [(s, e, []) for s, e in _paragraphs(text)
                   if not any(s < b and a < e for a, b in spans)]
        respondent = refs.get(sguid)
        if respondent is None:
            respondent = str(uuid.uuid4())
            refs[sguid] = respondent
            report.respondents_created += 1
            if not dry_run:
                db.execute("INSERT INTO respondents (id, event_id, group_id, profile, language, consent, "
                           "consent_method, source, external_ref, recorded_by, created_at) VALUES "
                           "(?, ?, ?, '{}', 'en', 1, 'import', 'import', ?, ?, ?)",
                           [respondent, event.id, group, sguid, user.username, now])
        fresh = iter(new_ids(len(pieces)))
        position = db.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM responses WHERE respondent_id = ?",
                              [respondent]).fetchone()[0]
        for start, end, coded in sorted(pieces):
            ext = f"{sguid}:{start}-{end}"
            rid = existing.get(ext)
            if rid is None:
                rid = next(fresh)
                existing[ext] = rid
                body = text[start:end]
                report.answers_created += 1
                if not dry_run:
                    redacted, disclosure = screen(body, question.id)
                    db.execute("INSERT INTO responses (id, respondent_id, event_id, question_id, position, text, "
                               "redacted_text, external_id, source, recorded_by, created_at) VALUES "
                               "(?, ?, ?, ?, ?, ?, ?, ?, 'import', ?, ?)",
                               [rid, respondent, event.id, question.id, position, body, redacted, ext,
                                user.username, now])
                    position += 1
                    if disclosure:
                        flags.raise_flag(db, user, kind="auto", reason=disclosure.reason, respondent_id=respondent,
                                         response_id=rid, event_id=event.id, category=disclosure.category,
                                         strength=disclosure.strength)
                        report.flags_raised += 1
            for sel in coded:
                add_coding(rid, sel, f"{sname!r} {start}-{end}")


def import_qdpx(db: Database, user: User, file: str | Path | IO[bytes] | bytes, *, dry_run: bool = False
                ) -> QdpxReport:
    """Import a REFI-QDA project (see the module docstring), all or nothing in one transaction. With dry_run the
    same work is done and rolled back, and the report says what would be added."""
    try:
        return _import_qdpx(db, user, file, dry_run=dry_run)
    except _DryRun as done:
        return done.report


def memos_for_export(db: Database, user: User, response_ids: Iterable[str] | None = None) -> Any:
    """Memos on answers and codes, as a frame for exports.refi.write_qdpx (memo_id, target_type, target_id,
    author, text, created_at). Answer memos only for `response_ids` when given."""
    import pandas as pd

    require(user, "export")
    rows = db.execute("SELECT id, target_type, target_id, author, text, created_at FROM memos ORDER BY id").fetchall()
    frame = pd.DataFrame(rows, columns=["memo_id", "target_type", "target_id", "author", "text", "created_at"])
    if response_ids is not None and len(frame):
        keep = set(response_ids)
        frame = frame[(frame["target_type"] != "response") | frame["target_id"].isin(keep)]
    return frame.reset_index(drop=True)
