"""REFI-QDA exchange: the codebook as .qdc (urn:QDA-XML:codebook:1.0), the project as .qdpx, and .qdc import.

In the .qdpx each question is one plain-text source (sources/<guid>.txt, UTF-8): its answers (redacted) one after
another, separated by a blank line; each answer is a PlainTextSelection at its Unicode code-point offsets
(startPosition = first character, endPosition = one past the last, as QualCoder and NVivo read them), one
per coder (each with creatingUser, as QualCoder reads it) carrying that coder's Codings. Coders are Users;
respondent groups are Cases holding their answers' selections, and also codes of the same GUID (how QualCoder and
NVivo link cases to text). Answer and code memos and pinned quotes are Notes. Written streaming (see write_qdpx).
GUIDs are stable (uuid5 of our ids), so exporting twice gives the same GUIDs for the same codes and answers.
An answer withheld for safeguarding is written as data.flags.WITHHELD_TEXT (the offsets are those of the marker,
so every selection still points at its own answer) and keeps its codings, as it keeps its place in the counts.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd
from lxml import etree

from data.flags import WITHHELD_TEXT
from exports.tables import ExportSet, Progress, no_progress

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
#: Namespace of our deterministic GUIDs (any fixed UUID would do; this one is ours).
THRIVE_NS = uuid.UUID("5d0c6a52-3c5e-4d8e-9a57-7f1f3b0c2e11")
ORIGIN = "Thrive Voices"
SEPARATOR = "\n\n"
_HEX6 = re.compile(r"^#[0-9a-fA-F]{6}$")
_HEX3 = re.compile(r"^#[0-9a-fA-F]{3}$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def guid(kind: str, key: Any) -> str:
    """A stable GUID for one of our things (kind: code, user, source, coding, case, project)."""
    return str(uuid.uuid5(THRIVE_NS, f"{kind}:{key}"))


def code_guid(name: str) -> str:
    """The GUID a code of this name was exported with before codes kept their own (codes.guid); new codes and
    the migration store this same value, so exports stay stable."""
    return guid("code", name.lower())


def _xml_text(value: Any) -> str:
    """Text XML 1.0 can carry: characters it forbids become U+FFFD (the rest is kept exactly)."""
    return _XML_ILLEGAL.sub("\ufffd", "" if value is None else str(value))


def _colour(value: Any) -> str | None:
    value = str(value or "").strip()
    if _HEX6.match(value):
        return value.upper()
    if _HEX3.match(value):
        return "#" + "".join(c * 2 for c in value[1:]).upper()
    return None


def _codes_tree(parent: etree._Element, codes: pd.DataFrame, ns: str) -> dict[int, str]:
    """Append <Codes> with nested <Code> elements (themes holding their sub-codes); return code id -> GUID."""
    holder = etree.SubElement(parent, f"{{{ns}}}Codes")
    stored = codes["guid"] if "guid" in codes else [None] * len(codes)
    ids = {int(r.code_id): (g if isinstance(g, str) and g else code_guid(r.name))
           for r, g in zip(codes.itertuples(), stored, strict=False)}
    children: dict[int | None, list[Any]] = {}
    known = set(ids)
    for r in codes.itertuples():
        p = None if pd.isna(r.parent_id) or int(r.parent_id) not in known else int(r.parent_id)
        children.setdefault(p, []).append(r)

    def add(into: etree._Element, r: Any, seen: set[int]) -> None:
        attrs = {"guid": ids[int(r.code_id)], "name": _xml_text(r.label or r.name), "isCodable": "true"}
        colour = _colour(r.colour)
        if colour:
            attrs["color"] = colour
        el = etree.SubElement(into, f"{{{ns}}}Code", attrs)
        if str(r.definition or "").strip():
            etree.SubElement(el, f"{{{ns}}}Description").text = _xml_text(r.definition)
        for child in children.get(int(r.code_id), []):
            if int(child.code_id) not in seen:
                add(el, child, seen | {int(child.code_id)})

    for r in children.get(None, []):
        add(holder, r, {int(r.code_id)})
    if not len(holder):
        raise ValueError("the codebook is empty: REFI-QDA needs at least one code")
    return ids


def codebook_xml(codes: pd.DataFrame) -> bytes:
    """The codebook as a .qdc document (UTF-8 XML)."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": ORIGIN}, nsmap={None: CODEBOOK_NS})
    _codes_tree(root, codes, CODEBOOK_NS)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_qdc(codes: pd.DataFrame, target: str | Path | IO[bytes]) -> None:
    data = codebook_xml(codes)
    if isinstance(target, (str, Path)):
        Path(target).write_bytes(data)
    else:
        target.write(data)


def _iso(value: Any) -> str | None:
    text = str(value or "")
    if not text:
        return None
    try:  # datetime's parser first: pd.Timestamp per selection was a third of a 100,000-answer export
        parsed = pd.Timestamp(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        try:
            parsed = pd.Timestamp(text)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.tz_localize("UTC")
    return parsed.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


#: The user credited with selections no coder has coded yet (QualCoder reads a selection's creatingUser).
EXPORT_USER = f"{ORIGIN} export"
#: Prefix of the codes that carry cases (QualCoder and NVivo link a case to text through a code of the same GUID).
CASE_CODE_PREFIX = "Case: "


def selection_guid(response_id: str, coder: str | None = None) -> str:
    """The GUID of an answer's selection: the answer's own id for its first selection, one per further coder."""
    if coder is None:
        return str(uuid.UUID(response_id)) if _is_uuid(response_id) else guid("answer", response_id)
    return guid("selection", f"{response_id}:{coder}")


def source_guid(question_id: str) -> str:
    return guid("source", question_id)


def case_guid(group_id: str) -> str:
    return guid("case", group_id)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class _Codings:
    """Each answer's codings grouped by coder, held as sorted arrays (a dict of lists cost ~1 GB at 550,000)."""

    def __init__(self, codings: pd.DataFrame, code_ids: dict[int, str]):
        if len(codings):
            codings = codings[codings["code_id"].astype("int64").isin(list(code_ids))]
        codings = codings.sort_values(["response_id", "coder", "code_id"], kind="stable") if len(codings) else codings
        self.rid = codings["response_id"].to_numpy(dtype=object) if len(codings) else []
        self.coder = codings["coder"].to_numpy(dtype=object) if len(codings) else []
        self.code = codings["code_id"].to_numpy(dtype="int64") if len(codings) else []
        self.cid = codings["coding_id"].to_numpy(dtype="int64") if len(codings) else []
        self.at = codings["created_at"].to_numpy(dtype=object) if len(codings) else []
        self.span: dict[str, tuple[int, int]] = {}
        start = 0
        for i in range(1, len(self.rid) + 1):
            if i == len(self.rid) or self.rid[i] != self.rid[start]:
                self.span[self.rid[start]] = (start, i)
                start = i

    def by_coder(self, rid: str) -> list[tuple[str, list[int]]]:
        """[(coder, [row positions])] in coder order."""
        a, b = self.span.get(rid, (0, 0))
        out: list[tuple[str, list[int]]] = []
        for i in range(a, b):
            if out and out[-1][0] == self.coder[i]:
                out[-1][1].append(i)
            else:
                out.append((self.coder[i], [i]))
        return out


def _answer_rows(answers: pd.DataFrame, qid: str) -> Iterator[tuple[str, str, str, str, Any, bool]]:
    rows = answers[answers["question_id"] == qid]
    withheld = rows["withheld"] if "withheld" in rows else [False] * len(rows)
    for rid, text, gid, event, created, held in zip(rows["response_id"], rows["text"], rows["group_id"],
                                                    rows["event_name"], rows["created_at"], withheld, strict=False):
        yield rid, WITHHELD_TEXT if held else _xml_text(text), gid, event, created, bool(held)


def _memo_frame(memos: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["memo_id", "target_type", "target_id", "author", "text", "created_at"]
    if memos is None or not len(memos):
        return pd.DataFrame(columns=cols)
    return memos


def write_qdpx(ex: ExportSet, target: str | Path | IO[bytes], progress: Progress = no_progress, *,
               memos: pd.DataFrame | None = None) -> None:
    """Write the project as a .qdpx (zip: sources/*.txt, then project.qde), streaming both: the source texts go
    straight into the zip and project.qde is written element by element (lxml.etree.xmlfile), so memory does not
    grow with the XML (550,000 answers: bench/bench_export.py --qdpx).

    Every PlainTextSelection carries creatingUser (QualCoder credits a coding to its selection's creatingUser and
    keeps one coding per code, coder and span), so an answer coded by two coders has one selection per coder.
    Cases are <Case> elements with a SelectionRef per answer (the standard), and each case is also a code of the
    same GUID coded on the answer's first selection: QualCoder (refi.py clean_up_case_codes_and_case_text) and
    NVivo exports link case to text that way. `memos` (target_type, target_id, author, text, created_at; from
    data.refi_import.memos_for_export) and pinned quotes become <Notes>, referred to from their selection (NoteRef)
    and their text source (where QualCoder reads annotations), or from their code (code memos).
    """
    answers = ex.sel.answers
    codings = ex.codings if ex.codings is not None and len(ex.codings) else pd.DataFrame(
        columns=["coding_id", "response_id", "code_id", "coder", "created_at"])
    memos = _memo_frame(memos)
    from data.findings import ordered_questions

    questions = ordered_questions(answers["question_id"].unique()) if len(answers) else []
    many = len(answers) > 200_000
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        # 1. the source texts, with each answer's offsets (code points) kept as two int arrays per question
        spans: dict[str, tuple[array, array]] = {}
        for qi, qid in enumerate(questions):
            starts, ends = array("q"), array("q")
            offset = 0
            with zf.open(f"sources/{source_guid(qid)}.txt", "w", force_zip64=many) as fh:
                buffer: list[str] = []
                size = 0
                for n, (_rid, text, *_rest) in enumerate(_answer_rows(answers, qid)):
                    if n:
                        buffer.append(SEPARATOR)
                        offset += len(SEPARATOR)
                    starts.append(offset)
                    offset += len(text)
                    ends.append(offset)
                    buffer.append(text)
                    size += len(text)
                    if size > 1 << 20:
                        fh.write("".join(buffer).encode("utf-8"))
                        buffer, size = [], 0
                fh.write("".join(buffer).encode("utf-8"))
            spans[qid] = (starts, ends)
            progress(0.05 + 0.25 * (qi + 1) / max(len(questions), 1), f"Source text {qi + 1} written")
        # 2. project.qde
        with zf.open("project.qde", "w", force_zip64=many) as fh:
            _write_project(ex, fh, answers, codings, memos, questions, spans, progress)
    progress(1.0, "Project ready")


def _write_project(ex: ExportSet, fh: IO[bytes], answers: pd.DataFrame, codings: pd.DataFrame,
                   memos: pd.DataFrame, questions: list[str], spans: dict[str, tuple[array, array]],
                   progress: Progress) -> None:
    P = f"{{{PROJECT_NS}}}"
    now = ex.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    coders = sorted(set(codings["coder"]))
    users = {c: guid("user", c) for c in coders}
    export_user = guid("user", EXPORT_USER)
    note_authors = sorted(set(memos["author"]) | set(ex.prep.pins["pinned_by"] if len(ex.prep.pins) else []))
    for name in note_authors:
        users.setdefault(name, guid("user", name))
    groups = sorted(set(answers["group_id"])) if len(answers) else []
    has_codes = len(ex.prep.codes) > 0 or bool(groups)

    # the codebook (small): built as a tree, then written whole
    codebook = etree.Element(f"{P}CodeBook", nsmap={None: PROJECT_NS})
    code_ids = _codes_tree(codebook, ex.prep.codes, PROJECT_NS) if len(ex.prep.codes) else {}
    codes_el = codebook.find(f"{P}Codes")
    if codes_el is None:
        codes_el = etree.SubElement(codebook, f"{P}Codes")
    for gid in groups:
        label = ex.prep.groups.get(gid, gid)
        el = etree.SubElement(codes_el, f"{P}Code", {"guid": case_guid(gid), "name": _xml_text(
            CASE_CODE_PREFIX + str(label)), "isCodable": "true"})
        etree.SubElement(el, f"{P}Description").text = _xml_text(
            f"Case (respondent group) {label}: coded on each of its answers, so tools that read cases as codes "
            "of the same GUID (QualCoder, NVivo) link the case to its text.")
    # notes: answer memos, pinned quotes (on selections) and code memos (on codes)
    guid_of_code = {int(k): v for k, v in code_ids.items()}
    answer_notes: dict[str, list[str]] = {}
    notes: list[tuple[str, str, str, Any, str | None, str]] = []  # guid, name, text, author, when, answer id
    kept = set(answers["response_id"]) if len(answers) else set()
    withheld = set(answers.loc[answers["withheld"], "response_id"]) if "withheld" in answers and len(answers) \
        else set()
    for mid, kind, tid, author, text, created in zip(memos["memo_id"], memos["target_type"], memos["target_id"],
                                                    memos["author"], memos["text"], memos["created_at"],
                                                    strict=False):
        g = guid("memo", mid)
        if kind == "response":
            if tid not in kept or tid in withheld:
                continue  # an answer not exported, or withheld for safeguarding: its memo may quote it
            answer_notes.setdefault(tid, []).append(g)
            notes.append((g, f"Memo on answer {tid}", text, author, _iso(created), tid))
        elif kind == "code":
            try:
                code_el = codes_el.find(f".//{P}Code[@guid='{guid_of_code[int(tid)]}']")
            except (KeyError, ValueError):
                continue
            if code_el is None:
                continue
            ref = etree.Element(f"{P}NoteRef", {"targetGUID": g})
            desc = code_el.find(f"{P}Description")
            if desc is not None:
                desc.addnext(ref)
            else:
                code_el.insert(0, ref)
            notes.append((g, f"Memo on code {code_el.get('name')}", text, author, _iso(created), ""))
    if len(ex.prep.pins):
        labels = ex.prep.code_labels if hasattr(ex.prep, "code_labels") else {}
        for code, rid, by, at in zip(ex.prep.pins["code_id"], ex.prep.pins["response_id"], ex.prep.pins["pinned_by"],
                                     ex.prep.pins["at"], strict=False):
            if rid not in kept or rid in withheld or int(code) not in guid_of_code:
                continue
            g = guid("pin", f"{code}:{rid}")
            label = labels.get(int(code), code) if isinstance(labels, dict) else code
            answer_notes.setdefault(rid, []).append(g)
            notes.append((g, f"Pinned quote for {label}", f"Pinned as a quote for the code {label} by {by}.", by,
                          _iso(at), rid))
    progress(0.35, "Codebook written")

    cod = _Codings(codings, guid_of_code)
    rows_by_q = {qid: answers[answers["question_id"] == qid] for qid in questions}
    answer_at: dict[str, tuple[str, int, int]] = {}  # answers with notes -> (source, start, end)

    with etree.xmlfile(fh, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(f"{P}Project", {"name": "Thrive Voices", "origin": ORIGIN, "creationDateTime": now},
                        nsmap={None: PROJECT_NS}):
            users_el = etree.Element(f"{P}Users", nsmap={None: PROJECT_NS})
            for name, g in list(users.items()) + [(EXPORT_USER, export_user)]:
                etree.SubElement(users_el, f"{P}User", {"guid": g, "name": _xml_text(name), "id": _xml_text(name)})
            xf.write(users_el)
            if has_codes:
                xf.write(codebook)
            if groups:
                with xf.element(f"{P}Cases"):
                    for gid in groups:
                        with xf.element(f"{P}Case", {"guid": case_guid(gid),
                                                       "name": _xml_text(ex.prep.groups.get(gid, gid))}):
                            with xf.element(f"{P}Description"):
                                xf.write("Respondent group")
                            for rid in answers.loc[answers["group_id"] == gid, "response_id"]:
                                xf.write(etree.Element(f"{P}SelectionRef", {"targetGUID": selection_guid(rid)},
                                                       nsmap={None: PROJECT_NS}))
            if questions:
                with xf.element(f"{P}Sources"):
                    for qi, qid in enumerate(questions):
                        starts, ends = spans[qid]
                        src_guid = source_guid(qid)
                        label = ex.prep.questions.get(qid, qid)
                        with xf.element(f"{P}TextSource", {"guid": src_guid, "name": _xml_text(label),
                                                           "plainTextPath": f"internal://{src_guid}.txt",
                                                           "creationDateTime": now}):
                            with xf.element(f"{P}Description"):
                                xf.write(_xml_text(f"Answers to “{label}” ({qid}), one per selection, separated by "
                                                   "a blank line."))
                            source_notes: list[str] = []
                            for n, (rid, text, gid, event, created, held) in enumerate(_answer_rows(rows_by_q[qid],
                                                                                                   qid)):
                                start, end = starts[n], ends[n]
                                desc = (f"{ex.prep.groups.get(gid, gid)} at {event}; answer {rid}"
                                        + ("; text withheld for safeguarding" if held else ""))
                                per_coder = cod.by_coder(rid) or [(None, [])]
                                mine = answer_notes.get(rid, [])
                                if mine:
                                    answer_at[rid] = (src_guid, start, end)
                                    source_notes += mine
                                for k, (coder, rows) in enumerate(per_coder):
                                    attrs = {"guid": selection_guid(rid, None if k == 0 else coder),
                                             "name": _xml_text(text[:60]), "startPosition": str(start),
                                             "endPosition": str(end),
                                             "creatingUser": users[coder] if coder is not None else export_user}
                                    when = _iso(created)
                                    if when:
                                        attrs["creationDateTime"] = when
                                    with xf.element(f"{P}PlainTextSelection", attrs):
                                        with xf.element(f"{P}Description"):
                                            xf.write(_xml_text(desc))
                                        for i in rows:
                                            cattrs = {"guid": guid("coding", int(cod.cid[i])),
                                                      "creatingUser": users[coder]}
                                            when = _iso(cod.at[i])
                                            if when:
                                                cattrs["creationDateTime"] = when
                                            with xf.element(f"{P}Coding", cattrs):
                                                xf.write(etree.Element(f"{P}CodeRef", {
                                                    "targetGUID": guid_of_code[int(cod.code[i])]},
                                                    nsmap={None: PROJECT_NS}))
                                        if k == 0:
                                            with xf.element(f"{P}Coding", {"guid": guid("case-coding", rid),
                                                                           "creatingUser": attrs["creatingUser"]}):
                                                xf.write(etree.Element(f"{P}CodeRef", {"targetGUID": case_guid(gid)},
                                                                       nsmap={None: PROJECT_NS}))
                                            for g in mine:
                                                xf.write(etree.Element(f"{P}NoteRef", {"targetGUID": g},
                                                                       nsmap={None: PROJECT_NS}))
                            for g in source_notes:
                                xf.write(etree.Element(f"{P}NoteRef", {"targetGUID": g}, nsmap={None: PROJECT_NS}))
                        progress(0.35 + 0.6 * (qi + 1) / max(len(questions), 1),
                                 f"Source {qi + 1} of {len(questions)} written")
            if notes:
                with xf.element(f"{P}Notes"):
                    for g, name, text, author, when, rid in notes:
                        attrs = {"guid": g, "name": _xml_text(name), "creatingUser": users.get(author, export_user)}
                        if when:
                            attrs["creationDateTime"] = when
                        with xf.element(f"{P}Note", attrs):
                            with xf.element(f"{P}PlainTextContent"):
                                xf.write(_xml_text(text))
                            if rid and rid in answer_at:
                                _src, start, end = answer_at[rid]
                                xf.write(etree.Element(f"{P}PlainTextSelection", {
                                    "guid": guid("note-selection", g), "startPosition": str(start),
                                    "endPosition": str(end)}, nsmap={None: PROJECT_NS}))
            with xf.element(f"{P}Description"):
                xf.write(_xml_text("Exported from Thrive Voices. Filters: "
                                   + "; ".join(f"{k}: {v}" for k, v in ex.filters.items())))


def qdpx_bytes(ex: ExportSet, progress: Progress = no_progress, *, memos: pd.DataFrame | None = None) -> bytes:
    buffer = io.BytesIO()
    write_qdpx(ex, buffer, progress, memos=memos)
    return buffer.getvalue()


# --- import -----------------------------------------------------------------------------------------------------

def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def slug(name: str) -> str:
    """A code's short name from a tool's display name: "Family & friends" -> "family_friends"."""
    from data.codebook import short_name

    return short_name(name)


@dataclass
class QdcCodebook:
    """A REFI-QDA codebook read into code specs (for data.codebook.plan_codebook_import), with notes saying what
    was kept in another form (nesting deeper than theme/sub-code, sets, notes) or not used, and why."""

    specs: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    sets: dict[str, list[str]] = field(default_factory=dict)  # set name -> our names of its member codes


def _parse_xml(data: bytes) -> Any:
    from data.importer import InvalidFile, RowProblem

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidFile([RowProblem(exc.lineno or 0, "", f"not a readable XML file: {exc.msg}")]) from exc


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if _local(c.tag) == name]


def _text_of(el: Any, name: str) -> str:
    found = next(iter(_children(el, name)), None)
    return (found.text or "").strip() if found is not None else ""


def read_qdc(fileobj: IO[bytes] | bytes, known_names: Iterable[str] = ()) -> QdcCodebook:
    """Read a REFI-QDA codebook (.qdc, or the CodeBook of a project .qde) into specs: code, label, definition,
    parent, guid and, when given, colour.

    Our codebook has two levels (theme, sub-code), so a code nested deeper, or named with ATLAS.ti's path
    ("Coke::diet Coke"), is attached to its theme and its full path is kept in its definition; sets of codes
    (ATLAS.ti code groups) are kept as a "Sets:" line in each member's definition; a code's <Description> and
    the project notes it refers to (<NoteRef>) become its definition. Everything else is named in `notes`:
    sets of documents, empty sets, notes on no code. A code we exported keeps its short name (by its GUID).
    Raises data.importer.InvalidFile listing every problem (with the XML line).
    """
    from data.codebook import name_guid, normal_guid
    from data.importer import InvalidFile, RowProblem

    data = fileobj if isinstance(fileobj, bytes) else fileobj.read()
    root = _parse_xml(data)
    project = None
    if _local(root.tag) == "Project":
        project = root
        root = next(iter(_children(project, "CodeBook")), None)
        if root is None:
            raise InvalidFile([RowProblem(0, "", "this project holds no CodeBook")])
    if _local(root.tag) != "CodeBook":
        raise InvalidFile([RowProblem(root.sourceline or 0, "", f"expected a REFI-QDA CodeBook, found "
                                                                 f"<{_local(root.tag)}>")])
    codes_el = next(iter(_children(root, "Codes")), None)
    if codes_el is None:
        raise InvalidFile([RowProblem(root.sourceline or 0, "", "the codebook has no <Codes> element")])
    by_guid = {name_guid(n): n for n in known_names}
    problems: list[RowProblem] = []
    notes: list[str] = []
    taken: set[str] = set()

    def unique(base: str) -> str:
        # Within the file names must differ (matching with our codebook happens later, by GUID then name).
        name, i = base, 2
        while name.lower() in taken:
            suffix = f"_{i}"
            name, i = base[: 60 - len(suffix)] + suffix, i + 1
        taken.add(name.lower())
        return name

    # First every code with its nesting (a "theme::code" name may come before its theme in the file).
    items: list[dict[str, Any]] = []

    def collect(el: Any, ancestors: list[int]) -> None:
        label = " ".join((el.get("name") or "").split())
        if not label:
            problems.append(RowProblem(el.sourceline or 0, "name", "a Code has no name"))
            return
        parts = [p.strip() for p in label.split("::") if p.strip()] if "::" in label else [label]
        items.append({"el": el, "label": label, "leaf": parts[-1], "prefix": parts[:-1], "ancestors": ancestors,
                      "guid": (el.get("guid") or "").strip(), "definition": _text_of(el, "Description"),
                      "extra": [], "sets": []})
        index = len(items) - 1
        for child in _children(el, "Code"):
            collect(child, [*ancestors, index])

    for el in _children(codes_el, "Code"):
        collect(el, [])
    for item in items:
        known = by_guid.get(normal_guid(item["guid"]))
        item["name"] = known if known and known.lower() not in taken else unique(slug(item["leaf"]))
        taken.add(item["name"].lower())

    tops = {i["label"].lower(): i for i in items if not i["ancestors"] and not i["prefix"]}
    synthetic: list[dict[str, Any]] = []
    for item in items:
        item["parent"] = ""
        if item["ancestors"]:
            chain = [items[a]["label"] for a in item["ancestors"]] + [item["label"]]
            item["parent"] = items[item["ancestors"][0]]["name"]
            if len(chain) > 2:
                path = " > ".join(chain)
                item["extra"].append(f"Path: {path}")
                notes.append(f"{path!r} is {len(chain)} levels deep: kept as {item['name']!r} under the theme "
                             f"{item['parent']!r}, with its full path in its definition.")
        elif item["prefix"]:
            top = tops.get(item["prefix"][0].lower())
            if top is None:
                top = next((s for s in synthetic if s["label"].lower() == item["prefix"][0].lower()), None)
            if top is None:
                top = {"name": unique(slug(item["prefix"][0])), "label": item["prefix"][0]}
                synthetic.append(top)
                notes.append(f"{item['prefix'][0]!r} is named only in the path {item['label']!r}: created as the "
                             f"theme {top['name']!r}.")
            item["parent"] = top["name"]
            if len(item["prefix"]) > 1:
                item["extra"].append(f"Path: {item['label']}")
                notes.append(f"{item['label']!r} is {len(item['prefix']) + 1} levels deep: kept as "
                             f"{item['name']!r} under the theme {top['name']!r}, with its full path in its definition.")
            else:
                notes.append(f"{item['label']!r} (a path in the name) kept as {item['leaf']!r} ({item['name']}) "
                             f"under the theme {top['name']!r}.")
    # A "theme::code" whose theme is itself a sub-code has three levels: attach to the top theme.
    names = {i["name"]: i for i in items}
    for item in items:
        parent = names.get(item["parent"])
        if parent is not None and parent["parent"]:
            item["parent"] = parent["parent"]
            if not any(x.startswith("Path: ") for x in item["extra"]):
                item["extra"].append(f"Path: {parent['label']} > {item['label']}")
            notes.append(f"{item['label']!r} sits under a sub-code: attached to the theme {item['parent']!r}, "
                         "with its path in its definition.")

    # Notes the codes refer to become part of their definitions; other notes are named, not imported.
    project_notes = {normal_guid(n.get("guid")): n for holder in
                     (_children(project, "Notes") if project is not None else []) for n in _children(holder, "Note")}
    used_notes: set[str] = set()
    for item in items:
        for ref in _children(item["el"], "NoteRef"):
            note = project_notes.get(normal_guid(ref.get("targetGUID")))
            if note is None:
                notes.append(f"{item['label']!r} refers to a note that is not in the file: nothing to keep.")
                continue
            used_notes.add(normal_guid(note.get("guid")))
            text = _text_of(note, "PlainTextContent") or _text_of(note, "Description")
            item["extra"].append(f"Note “{note.get('name') or 'untitled'}”: {text}")
    unattached = [n.get("name") or "untitled" for g, n in project_notes.items() if g not in used_notes]
    if unattached:
        notes.append(f"{len(unattached)} project note(s) are attached to no code ({'; '.join(unattached)}): not part "
                     "of a codebook, so not imported here (a project import may keep them as memos).")

    # Sets of codes are kept on each member; sets of documents are named.
    by_code_guid = {normal_guid(i["guid"]): i for i in items if i["guid"]}
    sets: dict[str, list[str]] = {}
    source_sets: list[str] = []
    empty_sets: list[str] = []
    holders = _children(root, "Sets") + (_children(project, "Sets") if project is not None else [])
    for holder in holders:
        for set_el in _children(holder, "Set"):
            set_name = " ".join((set_el.get("name") or "").split()) or "untitled"
            members = [normal_guid(m.get("targetGUID")) for m in _children(set_el, "MemberCode")]
            sources = _children(set_el, "MemberSource")
            if members:
                found = [by_code_guid[g] for g in members if g in by_code_guid]
                for member in found:
                    member["sets"].append(set_name)
                sets[set_name] = [m["name"] for m in found]
                missing = len(members) - len(found)
                if missing:
                    notes.append(f"Set {set_name!r} names {missing} code(s) that are not in the codebook.")
            elif sources:
                source_sets.append(set_name)
            else:
                empty_sets.append(set_name)
    if sets:
        notes.append(f"{len(sets)} set(s) of codes kept as a “Sets:” line in each member's definition: "
                     + "; ".join(f"{n} ({len(m)} code(s))" for n, m in sets.items()) + ".")
    if source_sets:
        notes.append(f"{len(source_sets)} set(s) group documents, not codes ({'; '.join(source_sets)}): not part of "
                     "a codebook, so not imported here.")
    if empty_sets:
        notes.append(f"{len(empty_sets)} empty set(s) ({'; '.join(empty_sets)}): nothing to keep.")

    specs: list[dict[str, Any]] = [{"code": s["name"], "label": s["label"][:200], "definition": "", "parent": ""}
                                   for s in synthetic]
    for item in items:
        extra = list(item["extra"])
        if item["sets"]:
            extra.append("Sets: " + "; ".join(item["sets"]))
        definition = "\n\n".join(p for p in [item["definition"], *extra] if p)
        spec: dict[str, Any] = {"code": item["name"], "label": item["leaf"][:200], "definition": definition,
                                "parent": item["parent"]}
        if item["guid"]:
            spec["guid"] = item["guid"]
        colour = _colour(item["el"].get("color"))
        if colour:
            spec["colour"] = colour.lower()
        specs.append(spec)
    if not specs and not problems:
        problems.append(RowProblem(codes_el.sourceline or 0, "", "the codebook holds no codes"))
    if problems:
        raise InvalidFile(problems)
    return QdcCodebook(specs, notes, sets)


def read_qdpx_codebook(data: bytes, known_names: Iterable[str] = ()) -> QdcCodebook:
    """The codebook of a REFI-QDA project archive (.qdpx: a zip holding project.qde)."""
    from data.importer import InvalidFile, RowProblem

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            member = next((n for n in zf.namelist() if n.lower() == "project.qde"), None) or next(
                (n for n in zf.namelist() if n.lower().endswith(".qde")), None)
            if member is None:
                raise InvalidFile([RowProblem(0, "", "this .qdpx holds no project.qde")])
            xml = zf.read(member)
    except zipfile.BadZipFile as exc:
        raise InvalidFile([RowProblem(0, "", "not a readable .qdpx (zip) file")]) from exc
    parsed = read_qdc(xml, known_names)
    parsed.notes.insert(0, f"Read the codebook of the project in {member}; its sources and codings are not part "
                           "of a codebook import.")
    return parsed


def parse_qdc(fileobj: IO[bytes] | bytes, known_names: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The code specs of a REFI-QDA codebook (see read_qdc, which also says what it kept in another form)."""
    return read_qdc(fileobj, known_names).specs
