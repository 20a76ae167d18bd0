"""The codebook: codes (themes and their sub-codes), and every change to them (create, edit, rename, merge,
split, archive), the starter codebook and CSV import/export. Every change is audited.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlite_utils import Database

from data import audit
from data.db import now_utc, transaction
from data.importer import InvalidFile, RowProblem, read_table
from data.paths import csv_export
from data.users import User, require

STARTER_CODEBOOK = Path(__file__).resolve().parent.parent / "analysis" / "resources" / "starter_codebook.csv"
CSV_COLUMNS = ("code", "label", "definition", "parent", "keywords")
REQUIRED_CSV_COLUMNS = ("code", "label", "definition")
MAX_NAME_CHARS = 60
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class CodebookError(ValueError):
    """A codebook change was refused; the message says why in plain words. Nothing was written."""


@dataclass(frozen=True)
class Code:
    """One code. `parent` is the parent's name (None for a theme); two levels only: theme, sub-code."""

    id: int
    name: str
    label: str
    definition: str = ""
    include_guidance: str = ""
    exclude_guidance: str = ""
    examples: tuple[str, ...] = ()
    parent_id: int | None = None
    parent: str | None = None
    colour: str = ""
    keywords: tuple[str, ...] = ()
    archived: bool = False
    merged_into: int | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def is_theme(self) -> bool:
        return self.parent_id is None


@dataclass
class CodesImported:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.created)} code(s) created, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged.")


@dataclass(frozen=True)
class MergeResult:
    survivor: str
    merged: str
    codings_moved: int
    duplicates_collapsed: int


_SELECT = """SELECT c.*, p.name AS parent_name FROM codes c LEFT JOIN codes p ON p.id = c.parent_id"""


def _code(row: Mapping[str, Any]) -> Code:
    return Code(
        id=row["id"], name=row["name"], label=row["label"], definition=row["definition"],
        include_guidance=row["include_guidance"], exclude_guidance=row["exclude_guidance"],
        examples=tuple(json.loads(row["examples"] or "[]")), parent_id=row["parent_id"],
        parent=row["parent_name"], colour=row["colour"], keywords=tuple(json.loads(row["keywords"] or "[]")),
        archived=bool(row["archived"]), merged_into=row["merged_into"], created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def list_codes(db: Database, *, include_archived: bool = False) -> list[Code]:
    """Codes in codebook order: each theme followed by its sub-codes, by name. Archived codes only if asked."""
    sql = _SELECT + ("" if include_archived else " WHERE c.archived = 0")
    codes = [_code(r) for r in db.query(sql)]
    themes = sorted((c for c in codes if c.parent_id is None), key=lambda c: c.name)
    children: dict[int, list[Code]] = {}
    for c in codes:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    ordered: list[Code] = []
    for theme in themes:
        ordered.append(theme)
        ordered.extend(sorted(children.pop(theme.id, []), key=lambda c: c.name))
    for orphans in children.values():  # sub-codes whose theme is archived (and hidden here)
        ordered.extend(sorted(orphans, key=lambda c: c.name))
    return ordered


def get_code(db: Database, code: str | int | Code) -> Code:
    """A code by id, name or Code; raises CodebookError if there is none."""
    if isinstance(code, Code):
        code = code.id
    if isinstance(code, int):
        rows = list(db.query(_SELECT + " WHERE c.id = ?", [code]))
    else:
        rows = list(db.query(_SELECT + " WHERE c.name = ?", [str(code).strip()]))
        if not rows:
            rows = list(db.query(_SELECT + " WHERE lower(c.name) = lower(?)", [str(code).strip()]))
    if not rows:
        raise CodebookError(f"There is no code called {code!r}.")
    return _code(rows[0])


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise CodebookError("A code needs a short name.")
    if len(name) > MAX_NAME_CHARS:
        raise CodebookError(f"The code name {name[:20]!r}... is {len(name)} characters; keep it to {MAX_NAME_CHARS}.")
    if _CONTROL.search(name):
        raise CodebookError("A code name cannot contain line breaks or tabs.")
    return name


def _name_taken(db: Database, name: str, except_id: int | None = None) -> str | None:
    row = db.execute("SELECT name FROM codes WHERE lower(name) = lower(?) AND id IS NOT ?", [name, except_id]).fetchone()
    return row[0] if row else None


def _keywords(value: Iterable[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(";")
    seen: list[str] = []
    for word in value:
        word = str(word).strip()
        if word and word not in seen:
            seen.append(word)
    return seen


def _examples(value: Iterable[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split("\n")
    return [str(v).strip() for v in value if str(v).strip()]


def _colour(value: str | None) -> str:
    value = (value or "").strip()
    if value and not _COLOUR.match(value):
        raise CodebookError(f"Colour {value!r} is not a colour like #1f77b4.")
    return value.lower()


def _resolve_parent(db: Database, parent: str | int | Code | None, code_id: int | None) -> int | None:
    """The parent's id after checking the two-level rule: a parent is a theme, and a theme with sub-codes
    cannot itself become a sub-code."""
    if parent in (None, ""):
        return None
    target = get_code(db, parent)
    if code_id is not None and target.id == code_id:
        raise CodebookError("A code cannot be its own parent.")
    if target.parent_id is not None:
        raise CodebookError(f"{target.name!r} is itself a sub-code of {target.parent!r}; the codebook has two levels "
                            "only (theme, sub-code), so choose a theme as the parent.")
    if code_id is not None:
        child = db.execute("SELECT name FROM codes WHERE parent_id = ? LIMIT 1", [code_id]).fetchone()
        if child:
            raise CodebookError(f"This code is a theme with sub-codes (e.g. {child[0]!r}); it cannot become a sub-code. "
                                "Move or merge its sub-codes first.")
    return target.id


def create_code(db: Database, user: User, name: str, label: str = "", *, definition: str = "",
                include_guidance: str = "", exclude_guidance: str = "", examples: Iterable[str] | str | None = None,
                parent: str | int | Code | None = None, colour: str = "", keywords: Iterable[str] | str | None = None,
                ) -> Code:
    """Add a code (a theme, or a sub-code when `parent` names a theme)."""
    require(user, "codebook")
    name = _check_name(name)
    label = (label or "").strip() or name
    colour = _colour(colour)
    with transaction(db):
        taken = _name_taken(db, name)
        if taken:
            raise CodebookError(f"There is already a code called {taken!r}; code names are unique.")
        parent_id = _resolve_parent(db, parent, None)
        now = now_utc()
        cursor = db.execute(
            "INSERT INTO codes (name, label, definition, include_guidance, exclude_guidance, examples, parent_id, "
            "colour, keywords, archived, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            [name, label, definition or "", include_guidance or "", exclude_guidance or "",
             json.dumps(_examples(examples), ensure_ascii=False), parent_id, colour,
             json.dumps(_keywords(keywords), ensure_ascii=False), now, now],
        )
        code_id = cursor.lastrowid
        audit.record(db, user, "code_created", "code", code_id, name=name, parent_id=parent_id)
    return get_code(db, code_id)


_EDITABLE = ("label", "definition", "include_guidance", "exclude_guidance", "examples", "parent", "colour", "keywords")


def update_code(db: Database, user: User, code: str | int | Code, **changes: Any) -> Code:
    """Edit a code's fields (any of label, definition, include_guidance, exclude_guidance, examples, parent,
    colour, keywords). Rename with `rename_code`."""
    require(user, "codebook")
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise CodebookError(f"Cannot edit {', '.join(sorted(unknown))} here.")
    with transaction(db):
        current = get_code(db, code)
        values: dict[str, Any] = {}
        if "label" in changes:
            label = (changes["label"] or "").strip()
            if not label:
                raise CodebookError("A code needs a label.")
            values["label"] = label
        for key in ("definition", "include_guidance", "exclude_guidance"):
            if key in changes:
                values[key] = changes[key] or ""
        if "examples" in changes:
            values["examples"] = json.dumps(_examples(changes["examples"]), ensure_ascii=False)
        if "keywords" in changes:
            values["keywords"] = json.dumps(_keywords(changes["keywords"]), ensure_ascii=False)
        if "colour" in changes:
            values["colour"] = _colour(changes["colour"])
        if "parent" in changes:
            values["parent_id"] = _resolve_parent(db, changes["parent"], current.id)
        if not values:
            return current
        values["updated_at"] = now_utc()
        db.table("codes").update(current.id, values)
        audit.record(db, user, "code_edited", "code", current.id, name=current.name,
                     fields=sorted(k for k in values if k != "updated_at"))
    return get_code(db, current.id)


def rename_code(db: Database, user: User, code: str | int | Code, new_name: str) -> Code:
    """Give a code a new short name; its codings, memos and history follow it (they refer to its id)."""
    require(user, "codebook")
    new_name = _check_name(new_name)
    with transaction(db):
        current = get_code(db, code)
        if new_name == current.name:
            return current
        taken = _name_taken(db, new_name, current.id)
        if taken:
            raise CodebookError(f"There is already a code called {taken!r}; code names are unique.")
        db.execute("UPDATE codes SET name = ?, updated_at = ? WHERE id = ?", [new_name, now_utc(), current.id])
        audit.record(db, user, "code_renamed", "code", current.id, old_name=current.name, new_name=new_name)
    return get_code(db, current.id)


def set_archived(db: Database, user: User, code: str | int | Code, archived: bool = True) -> Code:
    """Archive (hide from coding, keep codings in history and findings) or bring a code back."""
    require(user, "codebook")
    with transaction(db):
        current = get_code(db, code)
        if current.merged_into is not None and not archived:
            raise CodebookError(f"{current.name!r} was merged into another code; it cannot be brought back.")
        db.execute("UPDATE codes SET archived = ?, updated_at = ? WHERE id = ?", [int(archived), now_utc(), current.id])
        audit.record(db, user, "code_archived" if archived else "code_unarchived", "code", current.id, name=current.name)
    return get_code(db, current.id)


def archive_code(db: Database, user: User, code: str | int | Code) -> Code:
    return set_archived(db, user, code, True)


def unarchive_code(db: Database, user: User, code: str | int | Code) -> Code:
    return set_archived(db, user, code, False)


def _move_codings(db: Database, from_id: int, to_id: int, response_ids: list[str] | None = None) -> tuple[int, int]:
    """Move codings from one code to another; a coding the coder already has on the target collapses into it.
    Returns (moved, collapsed)."""
    where = "code_id = ?"
    params: list[Any] = [from_id]
    rows = list(db.execute(f"SELECT id, response_id, coder FROM codings WHERE {where}", params))
    if response_ids is not None:
        wanted = set(response_ids)
        rows = [r for r in rows if r[1] in wanted]
    moved = collapsed = 0
    for coding_id, response_id, coder in rows:
        exists = db.execute("SELECT 1 FROM codings WHERE response_id = ? AND code_id = ? AND coder = ?",
                            [response_id, to_id, coder]).fetchone()
        if exists:
            db.execute("DELETE FROM codings WHERE id = ?", [coding_id])
            collapsed += 1
        else:
            db.execute("UPDATE codings SET code_id = ? WHERE id = ?", [to_id, coding_id])
            moved += 1
    return moved, collapsed


def merge_codes(db: Database, user: User, merged: str | int | Code, survivor: str | int | Code) -> MergeResult:
    """Merge one code into another: its codings move to the survivor (a coder's duplicate collapses into one),
    so nothing is lost; the merged code stays, archived, with merged_into pointing at the survivor."""
    require(user, "codebook")
    with transaction(db):
        source = get_code(db, merged)
        target = get_code(db, survivor)
        if source.id == target.id:
            raise CodebookError("Choose two different codes to merge.")
        if target.merged_into is not None:
            raise CodebookError(f"{target.name!r} was itself merged into another code; merge into that one instead.")
        has_children = db.execute("SELECT count(*) FROM codes WHERE parent_id = ?", [source.id]).fetchone()[0]
        if has_children and target.parent_id is not None:
            raise CodebookError(f"{source.name!r} is a theme with sub-codes; merge it into another theme, "
                                f"not into the sub-code {target.name!r}.")
        if target.parent_id == source.id:
            raise CodebookError(f"{target.name!r} is a sub-code of {source.name!r}; move it out of that theme first.")
        moved, collapsed = _move_codings(db, source.id, target.id)
        db.execute("UPDATE codes SET parent_id = ?, updated_at = ? WHERE parent_id = ?", [target.id, now_utc(), source.id])
        db.execute("INSERT OR IGNORE INTO suggestion_dismissals (response_id, code_id, coder, at) "
                   "SELECT response_id, ?, coder, at FROM suggestion_dismissals WHERE code_id = ?", [target.id, source.id])
        db.execute("DELETE FROM suggestion_dismissals WHERE code_id = ?", [source.id])
        db.execute("INSERT OR IGNORE INTO pinned_quotes (code_id, response_id, pinned_by, at) "
                   "SELECT ?, response_id, pinned_by, at FROM pinned_quotes WHERE code_id = ?", [target.id, source.id])
        db.execute("DELETE FROM pinned_quotes WHERE code_id = ?", [source.id])
        db.execute("UPDATE memos SET target_id = ? WHERE target_type = 'code' AND target_id = ?",
                   [str(target.id), str(source.id)])
        db.execute("UPDATE codes SET archived = 1, merged_into = ?, updated_at = ? WHERE id = ?",
                   [target.id, now_utc(), source.id])
        audit.record(db, user, "codes_merged", "code", target.id, merged=source.name, merged_id=source.id,
                     survivor=target.name, codings_moved=moved, duplicates_collapsed=collapsed)
    return MergeResult(target.name, source.name, moved, collapsed)


def split_code(db: Database, user: User, code: str | int | Code, new_name: str, label: str = "", *,
               response_ids: Iterable[str] = (), definition: str = "", parent: str | int | Code | None = "same",
               ) -> tuple[Code, int]:
    """Split off a new code from `code`: the codings of `code` on the chosen answers (every coder's) move to
    the new code. The new code sits under the same theme unless `parent` says otherwise. Returns (new code,
    codings moved)."""
    require(user, "codebook")
    with transaction(db):
        source = get_code(db, code)
        if parent == "same":
            parent = source.parent_id if source.parent_id is not None else None
        created = create_code(db, user, new_name, label, definition=definition, parent=parent)
        moved, collapsed = _move_codings(db, source.id, created.id, list(response_ids))
        audit.record(db, user, "code_split", "code", source.id, name=source.name, new_code=created.name,
                     codings_moved=moved + collapsed)
    return created, moved + collapsed


def usage(db: Database) -> dict[int, dict[str, int]]:
    """Per code id: number of codings and of distinct answers coded with it."""
    return {row[0]: {"codings": row[1], "answers": row[2]} for row in db.execute(
        "SELECT code_id, count(*), count(DISTINCT response_id) FROM codings GROUP BY code_id")}


# --- import / export --------------------------------------------------------------------------------------------

def _spec_value(spec: Mapping[str, Any], key: str) -> Any:
    value = spec.get(key)
    return "" if value is None else value


def import_codes(db: Database, user: User, specs: list[dict[str, Any]], *, source: str = "") -> CodesImported:
    """Create or update codes from dicts with keys code, label, definition and optional parent, keywords (a list
    or a ';'-separated string), colour. All or nothing: raises InvalidFile naming each spec (row = position + 2,
    as if row 1 were a header) and field at fault. A code already present is updated to match its spec."""
    require(user, "codebook")
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    rows: list[tuple[int, dict[str, Any]]] = []
    for index, spec in enumerate(specs):
        row = index + 2
        name = str(_spec_value(spec, "code")).strip()
        try:
            _check_name(name)
        except CodebookError as exc:
            problems.append(RowProblem(row, "code", str(exc)))
            continue
        if name.lower() in seen:
            problems.append(RowProblem(row, "code", f"{name!r} appears again (first on row {seen[name.lower()]})"))
            continue
        seen[name.lower()] = row
        label = str(_spec_value(spec, "label")).strip()
        if not label:
            problems.append(RowProblem(row, "label", "is empty; every code needs a label"))
        colour = str(_spec_value(spec, "colour")).strip()
        if colour and not _COLOUR.match(colour):
            problems.append(RowProblem(row, "colour", f"{colour!r} is not a colour like #1f77b4"))
        if _CONTROL.search(label):
            problems.append(RowProblem(row, "label", "contains a line break or tab"))
        rows.append((row, {"name": name, "label": label, "definition": str(_spec_value(spec, "definition")),
                           "parent": str(_spec_value(spec, "parent")).strip(), "colour": colour.lower(),
                           "keywords": _keywords(spec.get("keywords")), "has_colour": "colour" in spec,
                           "has_keywords": "keywords" in spec}))
    existing = {c.name.lower(): c for c in list_codes(db, include_archived=True)}
    in_file = {r["name"].lower(): r for _, r in rows}
    for row, r in rows:
        parent = r["parent"]
        if not parent:
            continue
        key = parent.lower()
        if key == r["name"].lower():
            problems.append(RowProblem(row, "parent", "a code cannot be its own parent"))
            continue
        parent_spec = in_file.get(key)
        parent_code = existing.get(key)
        if parent_spec is None and parent_code is None:
            problems.append(RowProblem(row, "parent", f"unknown code {parent!r}; a parent must be in the file or the codebook"))
            continue
        grandparent = parent_spec["parent"] if parent_spec is not None else (parent_code.parent or "")
        if grandparent:
            problems.append(RowProblem(row, "parent", f"{parent!r} is itself a sub-code (of {grandparent!r}); the codebook "
                                                      "has two levels only, theme and sub-code"))
        children_in_file = [s["name"] for s in in_file.values() if s["parent"].lower() == r["name"].lower()]
        current = existing.get(r["name"].lower())
        has_children_in_db = current is not None and any(
            c.parent_id == current.id and c.name.lower() not in in_file for c in existing.values())
        if children_in_file or has_children_in_db:
            problems.append(RowProblem(row, "parent", f"{r['name']!r} has sub-codes, so it is a theme and cannot have a parent"))
    if problems:
        raise InvalidFile(problems)
    result = CodesImported()
    with transaction(db):
        # Themes first so that sub-codes can point at them.
        for _, r in sorted(rows, key=lambda item: bool(item[1]["parent"])):
            current = existing.get(r["name"].lower())
            parent_id = None
            if r["parent"]:
                parent_id = db.execute("SELECT id FROM codes WHERE lower(name) = lower(?)", [r["parent"]]).fetchone()[0]
            keywords = json.dumps(r["keywords"], ensure_ascii=False)
            if current is None:
                now = now_utc()
                db.execute(
                    "INSERT INTO codes (name, label, definition, parent_id, colour, keywords, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [r["name"], r["label"], r["definition"], parent_id, r["colour"], keywords, now, now])
                result.created.append(r["name"])
                continue
            values: dict[str, Any] = {"label": r["label"], "definition": r["definition"], "parent_id": parent_id}
            if r["has_keywords"]:
                values["keywords"] = keywords
            if r["has_colour"] and r["colour"]:
                values["colour"] = r["colour"]
            before = {"label": current.label, "definition": current.definition, "parent_id": current.parent_id,
                      "keywords": json.dumps(list(current.keywords), ensure_ascii=False), "colour": current.colour}
            if all(before[k] == v for k, v in values.items()):
                result.unchanged.append(current.name)
                continue
            values["updated_at"] = now_utc()
            db.table("codes").update(current.id, values)
            result.updated.append(current.name)
        audit.record(db, user, "codebook_imported", "file", source or None, created=len(result.created),
                     updated=len(result.updated), unchanged=len(result.unchanged))
    return result


def read_codebook_csv(source: IO[bytes] | bytes, filename: str = "codebook.csv") -> list[dict[str, Any]]:
    """Parse a codebook CSV (columns code,label,definition and optional parent,keywords,colour) into specs for
    `import_codes`; raises InvalidFile naming every row and column at fault."""
    header, body = read_table(source, filename)
    problems: list[RowProblem] = []
    allowed = CSV_COLUMNS + ("colour",)
    for column in REQUIRED_CSV_COLUMNS:
        if column not in header:
            problems.append(RowProblem(1, column, "required column is missing (need code, label, definition)"))
    for column in header:
        if column not in allowed:
            problems.append(RowProblem(1, column or "(blank)", f"unknown column; allowed: {', '.join(allowed)}"))
        elif header.count(column) > 1:
            problems.append(RowProblem(1, column, "column appears twice"))
    if problems:
        raise InvalidFile(sorted(set(problems), key=lambda p: (p.row, p.column)))
    specs: list[dict[str, Any]] = []
    row_numbers: list[int] = []
    for number, row in body:
        spec: dict[str, Any] = {}
        for i, column in enumerate(header):
            if not column:
                continue
            value = row[i] if i < len(row) else None
            spec[column] = "" if value is None else str(value)
        specs.append(spec)
        row_numbers.append(number)
    try:
        validate_specs(specs)
    except InvalidFile as exc:
        # Map positions back to the spreadsheet's row numbers (blank lines are skipped).
        raise InvalidFile([RowProblem(row_numbers[p.row - 2] if p.row >= 2 else p.row, p.column, p.message)
                           for p in exc.problems]) from None
    for spec, number in zip(specs, row_numbers, strict=True):
        spec["_row"] = number
    return specs


def validate_specs(specs: list[dict[str, Any]]) -> None:
    """The checks of `import_codes` that need no database (used while parsing a file)."""
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for index, spec in enumerate(specs):
        row = index + 2
        name = str(spec.get("code") or "").strip()
        try:
            _check_name(name)
        except CodebookError as exc:
            problems.append(RowProblem(row, "code", str(exc)))
        else:
            if name.lower() in seen:
                problems.append(RowProblem(row, "code", f"{name!r} appears again (first on row {seen[name.lower()]})"))
            seen.setdefault(name.lower(), row)
        if not str(spec.get("label") or "").strip():
            problems.append(RowProblem(row, "label", "is empty; every code needs a label"))
    if problems:
        raise InvalidFile(problems)


def import_codebook_csv(db: Database, user: User, source: IO[bytes] | bytes, filename: str = "codebook.csv") -> CodesImported:
    """Import a codebook CSV, all rows or none."""
    require(user, "codebook")
    specs = read_codebook_csv(source, filename)
    numbers = [spec.pop("_row") for spec in specs]
    try:
        return import_codes(db, user, specs, source=filename)
    except InvalidFile as exc:
        raise InvalidFile([RowProblem(numbers[p.row - 2] if p.row >= 2 else p.row, p.column, p.message)
                           for p in exc.problems]) from None


def export_codebook_csv(db: Database, *, include_archived: bool = False, target: IO[bytes] | Path | None = None) -> bytes:
    """The codebook as CSV (code,label,definition,parent,keywords), themes before their sub-codes; written to
    `target` if given, and returned as UTF-8 bytes. Importing it back reproduces the same codebook."""
    return csv_export(CSV_COLUMNS, ([c.name, c.label, c.definition, c.parent or "", ";".join(c.keywords)]
                                    for c in list_codes(db, include_archived=include_archived)), target)


def load_starter_codebook(db: Database, user: User) -> CodesImported:
    """Add the starter codebook (neglect categories, thrive factors, barriers, local asks) on request.
    Idempotent: codes already present (by name) are left exactly as they are, including your edits."""
    require(user, "codebook")
    specs = read_codebook_csv(STARTER_CODEBOOK.read_bytes(), STARTER_CODEBOOK.name)
    for spec in specs:
        spec.pop("_row", None)
    present = {c.name.lower() for c in list_codes(db, include_archived=True)}
    new = [s for s in specs if s["code"].strip().lower() not in present]
    if not new:
        result = CodesImported(unchanged=[s["code"] for s in specs])
        return result
    result = import_codes(db, user, new, source="starter codebook")
    result.unchanged = [s["code"] for s in specs if s["code"].strip().lower() in present]
    return result


def version(db: Database) -> str:
    """A token that changes whenever the codebook changes (to know when cached suggestions are stale)."""
    count, latest = db.execute("SELECT count(*), max(updated_at) FROM codes").fetchone()
    return f"{count}:{latest}"
