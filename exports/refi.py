"""REFI-QDA exchange: the codebook as .qdc (urn:QDA-XML:codebook:1.0), the project as .qdpx, and .qdc import.

In the .qdpx each question is one plain-text source (sources/<guid>.txt, UTF-8): its answers (redacted) one after
another, separated by a blank line; each answer is a PlainTextSelection at its Unicode code-point offsets
(startPosition = first character, endPosition = one past the last, as QualCoder and NVivo read them), carrying
one Coding per coder and code. Coders are Users; respondent groups are Cases holding their answers' selections.
GUIDs are stable (uuid5 of our ids), so exporting twice gives the same GUIDs for the same codes and answers.
An answer withheld for safeguarding is written as data.flags.WITHHELD_TEXT (the offsets are those of the marker,
so every selection still points at its own answer) and keeps its codings, as it keeps its place in the counts.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterable
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
    ids = {int(r.code_id): code_guid(r.name) for r in codes.itertuples()}
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
    try:
        parsed = pd.Timestamp(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.tz_localize("UTC")
    return parsed.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def project_xml(ex: ExportSet, progress: Progress = no_progress) -> tuple[bytes, dict[str, str]]:
    """The project.qde document and the source texts it refers to ({file name in sources/: text})."""
    P = f"{{{PROJECT_NS}}}"
    now = ex.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    root = etree.Element(f"{P}Project", {"name": "Thrive Voices", "origin": ORIGIN, "creationDateTime": now},
                         nsmap={None: PROJECT_NS})
    answers = ex.sel.answers
    codings = ex.codings if ex.codings is not None else pd.DataFrame(columns=["response_id", "code_id", "coder"])
    coders = sorted(set(codings["coder"]))
    users = {c: guid("user", c) for c in coders}
    if users:
        users_el = etree.SubElement(root, f"{P}Users")
        for name, g in users.items():
            etree.SubElement(users_el, f"{P}User", {"guid": g, "name": _xml_text(name), "id": _xml_text(name)})
    codebook = etree.SubElement(root, f"{P}CodeBook")
    code_ids = _codes_tree(codebook, ex.prep.codes, PROJECT_NS) if len(ex.prep.codes) else {}
    if not len(ex.prep.codes):
        root.remove(codebook)
    progress(0.1, "Codebook written")

    by_answer: dict[str, list[tuple[int, int, str, str]]] = {}
    for cid, rid, code, coder, created in zip(codings["coding_id"], codings["response_id"], codings["code_id"],
                                              codings["coder"], codings["created_at"], strict=False):
        if int(code) in code_ids:
            by_answer.setdefault(rid, []).append((int(cid), int(code), coder, created))

    from data.findings import ordered_questions

    files: dict[str, str] = {}
    cases: dict[str, list[str]] = {}
    sources_el = etree.SubElement(root, f"{P}Sources") if len(answers) else None
    questions = ordered_questions(answers["question_id"].unique()) if len(answers) else []
    for qi, qid in enumerate(questions):
        rows = answers[answers["question_id"] == qid]
        source_guid = guid("source", qid)
        file_name = f"{source_guid}.txt"
        src = etree.SubElement(sources_el, f"{P}TextSource", {
            "guid": source_guid, "name": _xml_text(ex.prep.questions.get(qid, qid)),
            "plainTextPath": f"internal://{file_name}", "creationDateTime": now})
        etree.SubElement(src, f"{P}Description").text = _xml_text(
            f"Answers to “{ex.prep.questions.get(qid, qid)}” ({qid}), one per selection, separated by a blank line.")
        parts: list[str] = []
        offset = 0
        flags = rows["withheld"] if "withheld" in rows else [False] * len(rows)
        for rid, text, gid, event, created, withheld in zip(rows["response_id"], rows["text"], rows["group_id"],
                                                            rows["event_name"], rows["created_at"], flags,
                                                            strict=False):
            text = WITHHELD_TEXT if withheld else _xml_text(text)
            if parts:
                parts.append(SEPARATOR)
                offset += len(SEPARATOR)
            start, end = offset, offset + len(text)
            parts.append(text)
            offset = end
            sel_guid = str(uuid.UUID(rid)) if _is_uuid(rid) else guid("answer", rid)
            attrs = {"guid": sel_guid, "name": _xml_text(text[:60]), "startPosition": str(start),
                     "endPosition": str(end)}
            when = _iso(created)
            if when:
                attrs["creationDateTime"] = when
            sel = etree.SubElement(src, f"{P}PlainTextSelection", attrs)
            etree.SubElement(sel, f"{P}Description").text = _xml_text(
                f"{ex.prep.groups.get(gid, gid)} at {event}; answer {rid}"
                + ("; text withheld for safeguarding" if withheld else ""))
            for cid, code, coder, coded_at in by_answer.get(rid, []):
                cattrs = {"guid": guid("coding", cid), "creatingUser": users[coder]}
                when = _iso(coded_at)
                if when:
                    cattrs["creationDateTime"] = when
                coding = etree.SubElement(sel, f"{P}Coding", cattrs)
                etree.SubElement(coding, f"{P}CodeRef", {"targetGUID": code_ids[code]})
            cases.setdefault(gid, []).append(sel_guid)
        files[file_name] = "".join(parts)
        progress(0.1 + 0.8 * (qi + 1) / max(len(questions), 1), f"Source {qi + 1} of {len(questions)} written")
    if cases:
        # Cases must come before Sources in the schema's sequence.
        cases_el = etree.Element(f"{P}Cases")
        for gid, selections in sorted(cases.items()):
            case = etree.SubElement(cases_el, f"{P}Case", {"guid": guid("case", gid),
                                                            "name": _xml_text(ex.prep.groups.get(gid, gid))})
            etree.SubElement(case, f"{P}Description").text = "Respondent group"
            for sel_guid in selections:
                etree.SubElement(case, f"{P}SelectionRef", {"targetGUID": sel_guid})
        sources_el.addprevious(cases_el)
    etree.SubElement(root, f"{P}Description").text = _xml_text(
        "Exported from Thrive Voices. Filters: " + "; ".join(f"{k}: {v}" for k, v in ex.filters.items()))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True), files


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def write_qdpx(ex: ExportSet, target: str | Path | IO[bytes], progress: Progress = no_progress) -> None:
    """Write the project as a .qdpx (zip: project.qde + sources/*.txt)."""
    xml, files = project_xml(ex, progress)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", xml)
        for name, text in files.items():
            zf.writestr(f"sources/{name}", text.encode("utf-8"))
    progress(1.0, "Project ready")


def qdpx_bytes(ex: ExportSet, progress: Progress = no_progress) -> bytes:
    buffer = io.BytesIO()
    write_qdpx(ex, buffer, progress)
    return buffer.getvalue()


# --- import -----------------------------------------------------------------------------------------------------

def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def slug(name: str) -> str:
    """A code's short name from a tool's display name: "Family & friends" -> "family_friends"."""
    text = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    return (text or "code")[:60].rstrip("_") or "code"


def parse_qdc(fileobj: IO[bytes] | bytes, known_names: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Read a REFI-QDA codebook (.qdc, or the CodeBook inside a project .qde) into code specs for
    data.codebook.import_codes: dicts with code, label, definition, parent and, when given, colour.

    Written for files from other tools too: nested codes deeper than theme/sub-code are attached to their theme
    (our codebook has two levels), missing descriptions become empty definitions, 3-digit colours are widened,
    invalid colours are dropped, and a code we exported keeps its short name (recognised by its GUID).
    Raises data.importer.InvalidFile listing every problem (with the XML line).
    """
    from data.importer import InvalidFile, RowProblem

    data = fileobj if isinstance(fileobj, bytes) else fileobj.read()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidFile([RowProblem(exc.lineno or 0, "", f"not a readable XML file: {exc.msg}")]) from exc
    if _local(root.tag) == "Project":
        root = next((el for el in root if _local(el.tag) == "CodeBook"), None)
        if root is None:
            raise InvalidFile([RowProblem(0, "", "this project holds no CodeBook")])
    if _local(root.tag) != "CodeBook":
        raise InvalidFile([RowProblem(root.sourceline or 0, "", f"expected a REFI-QDA CodeBook, found "
                                                                 f"<{_local(root.tag)}>")])
    codes_el = next((el for el in root if _local(el.tag) == "Codes"), None)
    if codes_el is None:
        raise InvalidFile([RowProblem(root.sourceline or 0, "", "the codebook has no <Codes> element")])
    by_guid = {code_guid(n): n for n in known_names}
    problems: list[RowProblem] = []
    specs: list[dict[str, Any]] = []
    taken: set[str] = set()

    def unique(base: str) -> str:
        # Within the file names must differ; a name already in our codebook is updated, as a CSV import would.
        name, i = base, 2
        while name.lower() in taken:
            suffix = f"_{i}"
            name, i = base[: 60 - len(suffix)] + suffix, i + 1
        taken.add(name.lower())
        return name

    def visit(el: Any, theme: str | None, depth: int) -> None:
        label = (el.get("name") or "").strip()
        if not label:
            problems.append(RowProblem(el.sourceline or 0, "name", "a Code has no name"))
            return
        g = (el.get("guid") or "").strip().strip("{}").lower()
        name = by_guid.get(g)
        if name is None or name.lower() in taken:
            name = unique(slug(label))
        else:
            taken.add(name.lower())
        desc = next((c for c in el if _local(c.tag) == "Description"), None)
        spec: dict[str, Any] = {"code": name, "label": " ".join(label.split())[:200],
                                "definition": (desc.text or "").strip() if desc is not None else "",
                                "parent": theme or ""}
        colour = _colour(el.get("color"))
        if colour:
            spec["colour"] = colour.lower()
        specs.append(spec)
        for child in el:
            if _local(child.tag) == "Code":
                visit(child, theme or name, depth + 1)

    for el in codes_el:
        if _local(el.tag) == "Code":
            visit(el, None, 0)
    if not specs and not problems:
        problems.append(RowProblem(codes_el.sourceline or 0, "", "the codebook holds no codes"))
    if problems:
        raise InvalidFile(problems)
    return specs
