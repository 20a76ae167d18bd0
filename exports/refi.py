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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from data.flags import WITHHELD_TEXT
from exports import tables
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


def _escape_text(text: str) -> str:
    """Element text as libxml2 (lxml) serialises it: & < > and CR escaped."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


_ATTR_SPECIAL = re.compile('[&<>"\n\r\t]')
_ATTR_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _escape_attr(value: str) -> str:
    """An attribute value as libxml2 serialises it (double quotes; & < > " LF CR TAB escaped)."""
    return _ATTR_SPECIAL.sub(lambda m: _ATTR_ESCAPES[m.group()], value) if _ATTR_SPECIAL.search(value) else value


#: XML 1.0's forbidden characters (_XML_ILLEGAL) in RE2 syntax, for pyarrow.
_XML_ILLEGAL_RE2 = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x{fffe}\\x{ffff}]"


def _iso_list(values: pa.Array) -> list[str | None]:
    """_iso of every value, the stored UTC form by slicing (checked: it must print back as itself), the rest
    through _iso itself."""
    values, stamp, slow = tables.utc_stamps(values)
    out = pc.binary_join_element_wise(stamp, pa.scalar("Z", pa.large_string()), pa.scalar("", pa.large_string()))
    cells = out.to_pylist()
    if len(slow):
        for i, value in zip(slow.tolist(), values.take(pa.array(slow)).to_pylist(), strict=True):
            cells[i] = _iso(value)
    return cells


class _CodingIndex:
    """The kept codings as integer arrays sorted by (answer position, coder, code, stored order): each answer's
    codings are one run, found by binary search; strings are made only for the chunk being written."""

    def __init__(self, ex: ExportSet, code_guids: dict[int, str], coders: list[str]):
        codings = ex.codings if ex.codings is not None else pd.DataFrame()
        rix = ex.coding_rix
        if len(codings) and (rix is None or len(rix) != len(codings)):
            rix = pd.Index(ex.prep.answers["response_id"]).get_indexer(codings["response_id"]).astype(np.int64)
        if not len(codings):
            rix = np.zeros(0, dtype=np.int64)
        code = codings["code_id"].to_numpy(dtype=np.int64) if len(codings) else np.zeros(0, dtype=np.int64)
        keep = np.isin(code, np.fromiter(code_guids, dtype=np.int64, count=len(code_guids))) & (rix >= 0)
        rows = np.flatnonzero(keep)
        coder = np.zeros(0, dtype=np.int64)
        if len(rows):  # each coding's coder as its index in `coders`, in pyarrow (no Python string per coding)
            names = tables.arrow(codings["coder"]).take(pa.array(rows))
            coder = pc.index_in(names, value_set=pa.array(coders, pa.large_string())).to_numpy(
                zero_copy_only=False).astype(np.int64)
        order = np.lexsort((rows, code[rows], coder, rix[rows]))
        self.rix, self.coder, self.code = rix[rows][order], coder[order], code[rows][order]
        self.row = rows[order]  # position in ex.codings, for its id and time
        self.cid = codings["coding_id"].to_numpy(dtype=np.int64)[self.row] if len(rows) else self.row
        self.created = tables.arrow(codings["created_at"]) if len(codings) else pa.array([], pa.large_string())
        self.coders = coders
        self.code_guids = code_guids

    def chunk(self, positions: np.ndarray) -> tuple[np.ndarray, list[int], list[int], list[str], list[str | None]]:
        """For answers at `positions` (ascending): offsets into the flattened runs, and per coding of the runs its
        coder index, id, code GUID and _iso time."""
        a = np.searchsorted(self.rix, positions, "left")
        b = np.searchsorted(self.rix, positions, "right")
        lens = b - a
        offsets = np.concatenate([[0], np.cumsum(lens)])
        idx = np.arange(offsets[-1], dtype=np.int64) + np.repeat(a - offsets[:-1], lens)
        at = _iso_list(self.created.take(pa.array(self.row[idx]))) if len(idx) else []
        return (offsets, self.coder[idx].tolist(), self.cid[idx].tolist(),
                [self.code_guids[c] for c in self.code[idx].tolist()], at)


def _memo_frame(memos: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["memo_id", "target_type", "target_id", "author", "text", "created_at"]
    if memos is None or not len(memos):
        return pd.DataFrame(columns=cols)
    return memos


def _question_positions(ex: ExportSet, questions: list[str]) -> dict[str, np.ndarray]:
    """Each question's kept answers as positions in prep.answers, in the answers' order."""
    qcol = tables.arrow(ex.prep.answers["question_id"])
    mask = ex.sel.mask
    return {q: np.flatnonzero(mask & pc.fill_null(pc.equal(qcol, q), False).to_numpy(zero_copy_only=False))
            for q in questions}


def _texts(ex: ExportSet, positions: np.ndarray) -> list[str]:
    """The answers' texts as written to the sources: XML-safe, WITHHELD_TEXT where withheld."""
    a = ex.prep.answers
    take = pa.array(positions)
    text = pc.fill_null(pc.cast(tables.arrow(a["text"]).take(take), pa.large_string()), "")
    text = pc.replace_substring_regex(text, _XML_ILLEGAL_RE2, "\ufffd")
    held = ex.prep.withheld[positions]
    if held.any():
        text = pc.if_else(pa.array(held), pa.scalar(WITHHELD_TEXT, pa.large_string()), text)
    return text.to_pylist()


class _Out:
    """Strings gathered and written to the zip entry a megabyte at a time."""

    def __init__(self, fh: IO[bytes]):
        self.fh, self.parts, self.size = fh, [], 0

    def __call__(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 1 << 20:
            self.flush()

    def flush(self) -> None:
        self.fh.write("".join(self.parts).encode("utf-8"))
        self.parts, self.size = [], 0


def write_qdpx(ex: ExportSet, target: str | Path | IO[bytes], progress: Progress = no_progress, *,
               memos: pd.DataFrame | None = None) -> None:
    """Write the project as a .qdpx (zip: sources/*.txt, then project.qde), streaming both: the source texts and
    project.qde go into the zip entries a megabyte at a time, written from the answers chunk by chunk (the
    XML escaped as libxml2 does), so neither the document nor all codings as Python objects are ever held
    (550,000 answers: bench/bench_export.py --kinds qdpx).

    Every PlainTextSelection carries creatingUser (QualCoder credits a coding to its selection's creatingUser and
    keeps one coding per code, coder and span), so an answer coded by two coders has one selection per coder.
    Cases are <Case> elements with a SelectionRef per answer (the standard), and each case is also a code of the
    same GUID coded on the answer's first selection: QualCoder (refi.py clean_up_case_codes_and_case_text) and
    NVivo exports link case to text that way. `memos` (target_type, target_id, author, text, created_at; from
    data.refi_import.memos_for_export) and pinned quotes become <Notes>, referred to from their selection (NoteRef)
    and their text source (where QualCoder reads annotations), or from their code (code memos).
    """
    memos = _memo_frame(memos)
    from data.findings import ordered_questions

    mask = ex.sel.mask
    kept_q = tables.arrow(ex.prep.answers["question_id"]).filter(pa.array(mask))
    questions = ordered_questions(pc.unique(kept_q).to_pylist()) if len(kept_q) else []
    positions = _question_positions(ex, questions)
    many = int(mask.sum()) > 200_000
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        # 1. the source texts, with each answer's offsets (code points) kept as two int arrays per question
        spans: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for qi, qid in enumerate(questions):
            rows = positions[qid]
            starts, ends = np.zeros(len(rows), dtype=np.int64), np.zeros(len(rows), dtype=np.int64)
            offset = 0
            with zf.open(f"sources/{source_guid(qid)}.txt", "w", force_zip64=many) as fh:
                for c in range(0, len(rows), tables.CHUNK_ROWS):
                    texts = _texts(ex, rows[c:c + tables.CHUNK_ROWS])
                    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + len(SEPARATOR)
                    if c:
                        fh.write(SEPARATOR.encode("utf-8"))
                    s = offset + np.concatenate([[0], np.cumsum(lengths)[:-1]])
                    starts[c:c + len(texts)] = s
                    ends[c:c + len(texts)] = s + lengths - len(SEPARATOR)
                    offset = int(s[-1] + lengths[-1])
                    fh.write(SEPARATOR.join(texts).encode("utf-8"))
            spans[qid] = (starts, ends)
            progress(0.05 + 0.25 * (qi + 1) / max(len(questions), 1), f"Source text {qi + 1} written")
        # 2. project.qde
        with zf.open("project.qde", "w", force_zip64=many) as fh:
            _write_project(ex, fh, memos, questions, positions, spans, progress)
    progress(1.0, "Project ready")


def _write_project(ex: ExportSet, fh: IO[bytes], memos: pd.DataFrame, questions: list[str],
                   positions: dict[str, np.ndarray], spans: dict[str, tuple[np.ndarray, np.ndarray]],
                   progress: Progress) -> None:
    P = f"{{{PROJECT_NS}}}"
    NS = f' xmlns="{PROJECT_NS}"'
    now = ex.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    a, mask = ex.prep.answers, ex.sel.mask
    codings = ex.codings if ex.codings is not None and len(ex.codings) else pd.DataFrame(
        columns=["coding_id", "response_id", "code_id", "coder", "created_at"])
    coders = sorted(set(pc.unique(tables.arrow(codings["coder"])).to_pylist())) if len(codings) else []
    users = {c: guid("user", c) for c in coders}
    export_user = guid("user", EXPORT_USER)
    note_authors = sorted(set(memos["author"]) | set(ex.prep.pins["pinned_by"] if len(ex.prep.pins) else []))
    for name in note_authors:
        users.setdefault(name, guid("user", name))
    gcol = tables.arrow(a["group_id"])
    groups = sorted(set(pc.unique(gcol.filter(pa.array(mask))).to_pylist())) if mask.any() else []
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
    asked = [t for k, t in zip(memos["target_type"], memos["target_id"], strict=False) if k == "response"]
    asked += list(ex.prep.pins["response_id"]) if len(ex.prep.pins) else []
    kept: set[str] = set()
    withheld: set[str] = set()
    if asked:  # only the answers notes point at are looked up (never a set of every answer id)
        pos = pd.Index(a["response_id"]).get_indexer(pd.Index(list(dict.fromkeys(asked)), dtype=object))
        ids = list(dict.fromkeys(asked))
        held = ex.prep.withheld
        kept = {r for r, p in zip(ids, pos.tolist(), strict=True) if p >= 0 and mask[p]}
        withheld = {r for r, p in zip(ids, pos.tolist(), strict=True) if p >= 0 and mask[p] and held[p]}
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

    cod = _CodingIndex(ex, guid_of_code, coders)
    coder_guids = [users[c] for c in coders]
    answer_at: dict[str, tuple[str, int, int]] = {}  # answers with notes -> (source, start, end)
    out = _Out(fh)
    out("<?xml version='1.0' encoding='UTF-8'?>\n")
    out(f'<Project{NS} name="Thrive Voices" origin="{_escape_attr(ORIGIN)}" creationDateTime="{now}">')
    users_el = etree.Element(f"{P}Users", nsmap={None: PROJECT_NS})
    for name, g in list(users.items()) + [(EXPORT_USER, export_user)]:
        etree.SubElement(users_el, f"{P}User", {"guid": g, "name": _xml_text(name), "id": _xml_text(name)})
    out(etree.tostring(users_el, encoding="UTF-8").decode("utf-8"))
    if has_codes:
        out(etree.tostring(codebook, encoding="UTF-8").decode("utf-8"))
    rid_col = tables.arrow(a["response_id"])
    if groups:
        out("<Cases>")
        kept_rows = np.flatnonzero(mask)
        kept_groups = gcol.take(pa.array(kept_rows))
        for gid in groups:
            out(f'<Case guid="{case_guid(gid)}" name="{_escape_attr(_xml_text(ex.prep.groups.get(gid, gid)))}">'
                "<Description>Respondent group</Description>")
            rows = kept_rows[pc.fill_null(pc.equal(kept_groups, gid), False).to_numpy(zero_copy_only=False)]
            for c in range(0, len(rows), tables.CHUNK_ROWS):
                out("".join(f'<SelectionRef{NS} targetGUID="{selection_guid(rid)}"/>'
                            for rid in rid_col.take(pa.array(rows[c:c + tables.CHUNK_ROWS])).to_pylist()))
            out("</Case>")
        out("</Cases>")
    if questions:
        out("<Sources>")
        glabel = ex.prep.groups
        for qi, qid in enumerate(questions):
            starts, ends = spans[qid]
            src_guid = source_guid(qid)
            label = ex.prep.questions.get(qid, qid)
            out(f'<TextSource guid="{src_guid}" name="{_escape_attr(_xml_text(label))}" '
                f'plainTextPath="internal://{src_guid}.txt" creationDateTime="{now}"><Description>'
                + _escape_text(_xml_text(f"Answers to “{label}” ({qid}), one per selection, separated by a blank "
                                         "line.")) + "</Description>")
            source_notes: list[str] = []
            rows_q = positions[qid]
            for c in range(0, len(rows_q), tables.CHUNK_ROWS):
                rows = rows_q[c:c + tables.CHUNK_ROWS]
                take = pa.array(rows)
                texts = _texts(ex, rows)
                rids = rid_col.take(take).to_pylist()
                gids = gcol.take(take).to_pylist()
                events = tables.arrow(a["event_name"]).take(take).to_pylist()
                created = _iso_list(tables.arrow(a["created_at"]).take(take))
                held = ex.prep.withheld[rows].tolist()
                offsets, c_coder, c_id, c_code, c_at = cod.chunk(rows)
                offsets = offsets.tolist()
                for j, rid in enumerate(rids):
                    n = c + j
                    start, end = int(starts[n]), int(ends[n])
                    gid, text = gids[j], texts[j]
                    desc = _escape_text(_xml_text(f"{glabel.get(gid, gid)} at {events[j]}; answer {rid}"
                                                  + ("; text withheld for safeguarding" if held[j] else "")))
                    name = _escape_attr(text[:60])
                    when = created[j]
                    stamp = f' creationDateTime="{when}"' if when else ""
                    mine = answer_notes.get(rid, [])
                    if mine:
                        answer_at[rid] = (src_guid, start, end)
                        source_notes += mine
                    lo, hi = offsets[j], offsets[j + 1]
                    k = 0
                    i = lo
                    while True:  # one selection per coder (the first: the answer's own GUID)
                        if i < hi:
                            coder = c_coder[i]
                            stop = i
                            while stop < hi and c_coder[stop] == coder:
                                stop += 1
                            user = coder_guids[coder]
                            sel = selection_guid(rid) if k == 0 else guid("selection", f"{rid}:{coders[coder]}")
                        else:
                            stop, user, sel = i, export_user, selection_guid(rid)
                        parts = [f'<PlainTextSelection guid="{sel}" name="{name}" startPosition="{start}" '
                                 f'endPosition="{end}" creatingUser="{user}"{stamp}><Description>{desc}</Description>']
                        for r in range(i, stop):
                            at = f' creationDateTime="{c_at[r]}"' if c_at[r] else ""
                            parts.append(f'<Coding guid="{guid("coding", c_id[r])}" creatingUser="{user}"{at}>'
                                         f'<CodeRef{NS} targetGUID="{c_code[r]}"/></Coding>')
                        if k == 0:
                            parts.append(f'<Coding guid="{guid("case-coding", rid)}" creatingUser="{user}">'
                                         f'<CodeRef{NS} targetGUID="{case_guid(gid)}"/></Coding>')
                            parts += [f'<NoteRef{NS} targetGUID="{g}"/>' for g in mine]
                        parts.append("</PlainTextSelection>")
                        out("".join(parts))
                        k += 1
                        i = stop
                        if i >= hi:
                            break
            out("".join(f'<NoteRef{NS} targetGUID="{g}"/>' for g in source_notes) + "</TextSource>")
            progress(0.35 + 0.6 * (qi + 1) / max(len(questions), 1), f"Source {qi + 1} of {len(questions)} written")
        out("</Sources>")
    if notes:
        out("<Notes>")
        for g, name, text, author, when, rid in notes:
            stamp = f' creationDateTime="{when}"' if when else ""
            parts = [f'<Note guid="{g}" name="{_escape_attr(_xml_text(name))}" '
                     f'creatingUser="{users.get(author, export_user)}"{stamp}><PlainTextContent>'
                     f"{_escape_text(_xml_text(text))}</PlainTextContent>"]
            if rid and rid in answer_at:
                _src, start, end = answer_at[rid]
                parts.append(f'<PlainTextSelection{NS} guid="{guid("note-selection", g)}" startPosition="{start}" '
                             f'endPosition="{end}"/>')
            out("".join(parts) + "</Note>")
        out("</Notes>")
    out("<Description>" + _escape_text(_xml_text("Exported from Thrive Voices. Filters: "
                                                  + "; ".join(f"{k}: {v}" for k, v in ex.filters.items())))
        + "</Description></Project>")
    out.flush()


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
