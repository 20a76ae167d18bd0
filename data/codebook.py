"""The codebook: codes (themes and their sub-codes), and every change to them (create, edit, rename, merge,
split, archive), the starter codebook and CSV import/export. Every change is audited.
"""

from __future__ import annotations

import json
import re
import uuid
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


#: Namespace of the GUIDs our REFI-QDA exports have always given codes (exports.refi uses the same).
GUID_NAMESPACE = uuid.UUID("5d0c6a52-3c5e-4d8e-9a57-7f1f3b0c2e11")


def name_guid(name: str) -> str:
    """The GUID a code of this name has been exported with (stored in codes.guid since 0014_code_guid)."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"code:{name.lower()}"))


def normal_guid(value: Any) -> str:
    """A GUID as we compare them: no braces, lower case ("{ABC-...}" from another tool matches "abc-...")."""
    return str(value or "").strip().strip("{}").strip().lower()


def short_name(text: str) -> str:
    """A code's short name from a display name: "Family & home" -> "family_home" (also how names are matched)."""
    slug = re.sub(r"[^0-9a-z]+", "_", str(text).lower()).strip("_")
    return (slug or "code")[:MAX_NAME_CHARS].rstrip("_") or "code"


def _new_guid(db: Database, name: str, preferred: str = "") -> str:
    """The GUID for a new code: the file's (a code from another tool keeps its GUID), else the one its name has
    always been exported with, else a random one (when a renamed code took that one with it)."""
    for candidate in (str(preferred or "").strip().strip("{}").strip(), name_guid(name)):
        if candidate and not db.execute("SELECT 1 FROM codes WHERE lower(guid) = lower(?)", [candidate]).fetchone():
            return candidate  # kept as the other tool wrote it (some compare GUIDs case-sensitively)
    return str(uuid.uuid4())


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
    guid: str = ""

    @property
    def is_theme(self) -> bool:
        return self.parent_id is None


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
        updated_at=row["updated_at"], guid=row.get("guid") or name_guid(row["name"]),
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
            "colour, keywords, archived, created_at, updated_at, guid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
            [name, label, definition or "", include_guidance or "", exclude_guidance or "",
             json.dumps(_examples(examples), ensure_ascii=False), parent_id, colour,
             json.dumps(_keywords(keywords), ensure_ascii=False), now, now, _new_guid(db, name)],
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
        # the GUID stays: a renamed code is still the same code in a REFI-QDA file exported before the rename
        db.execute("UPDATE codes SET name = ?, updated_at = ?, guid = COALESCE(guid, ?) WHERE id = ?",
                   [new_name, now_utc(), current.guid, current.id])
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
        db.execute("INSERT OR IGNORE INTO pinned_quotes (code_id, response_id, pinned_by, at, translation) "
                   "SELECT ?, response_id, pinned_by, at, translation FROM pinned_quotes WHERE code_id = ?",
                   [target.id, source.id])
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


# --- import: plan (what would change), then apply (only what was asked) ---------------------------------------

#: The fields an import compares, in the order a plan lists them.
PLAN_FIELDS = ("label", "definition", "parent", "include_guidance", "exclude_guidance", "keywords", "colour",
               "examples")
FIELD_WORDS = {"label": "label", "definition": "definition", "parent": "theme", "include_guidance": "include when",
               "exclude_guidance": "exclude when", "keywords": "keywords", "colour": "colour", "examples": "examples"}
CSV_EXTRA_COLUMNS = ("colour", "include_guidance", "exclude_guidance", "examples", "guid")
TAGUETTE_COLUMNS = ("tag", "parent", "description")


@dataclass(frozen=True)
class FieldChange:
    """One field of an existing code that the file would change. `kind` is "change", "blank" (the file is empty
    where we have text) or "reparent" (the code would move to another theme, or become a theme); `problem` says
    why it can never be applied as it stands (it would break the two levels)."""

    field: str
    before: Any
    after: Any
    kind: str = "change"
    problem: str = ""

    @property
    def risky(self) -> bool:
        return self.kind in ("blank", "reparent")

    def describe(self) -> str:
        def show(value: Any) -> str:
            if self.field == "parent":
                return repr(value) if value else "(a theme)"
            if isinstance(value, tuple):
                value = "; ".join(value)
            text = str(value)
            return repr(text if len(text) <= 70 else text[:67] + "...") if text else "(empty)"
        word = {"blank": "BLANKS ", "reparent": "RE-PARENTS: "}.get(self.kind, "")
        line = f"{word}{FIELD_WORDS[self.field]}: {show(self.before)} -> {show(self.after)}"
        return line + (f"  [cannot apply: {self.problem}]" if self.problem else "")


@dataclass
class CodeDifference:
    """An existing code that the file describes differently, field by field."""

    name: str
    code_id: int
    matched_by: str  # "guid", "name" or "label"
    incoming: str  # the code's name (or label) in the file
    row: int
    changes: list[FieldChange]

    @property
    def risky(self) -> list[FieldChange]:
        return [c for c in self.changes if c.risky]


@dataclass(frozen=True)
class NewCode:
    name: str
    label: str
    definition: str = ""
    parent: str = ""
    include_guidance: str = ""
    exclude_guidance: str = ""
    keywords: tuple[str, ...] = ()
    colour: str = ""
    examples: tuple[str, ...] = ()
    guid: str = ""
    row: int = 0


@dataclass
class ImportPlan:
    """What importing a codebook file would do: codes to create, codes already the same, and for every other
    existing code each differing field (before and after). Notes say what the reader kept in another form
    (deep nesting, sets, notes) or could not use. Nothing is written until `apply_codebook_import`."""

    source: str
    new: list[NewCode] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    differences: list[CodeDifference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    format: str = "csv"

    def difference(self, name: str) -> CodeDifference | None:
        return next((d for d in self.differences if d.name.lower() == name.lower()), None)

    def lines(self) -> list[str]:
        """The plan in words, for the command line (the page shows the same as tables)."""
        out = [f"{self.source}: {len(self.new)} new code(s), {len(self.unchanged)} unchanged, "
               f"{len(self.differences)} existing code(s) that the file describes differently."]
        if self.new:
            out.append("New codes:")
            out += [f"  + {c.name} ({c.label})" + (f", under {c.parent}" if c.parent else ", a theme")
                    for c in self.new]
        if self.differences:
            out.append("Differences (existing code: ours -> the file's):")
            for d in self.differences:
                how = "" if d.matched_by == "name" and d.incoming.lower() == d.name.lower() else \
                    f" (matched by {d.matched_by} to {d.incoming!r} in the file)"
                out.append(f"  ~ {d.name}{how}")
                out += [f"      {c.describe()}" for c in d.changes]
        warnings = [(d.name, c) for d in self.differences for c in d.changes if c.risky]
        if warnings:
            out.append("Warnings:")
            for name, c in warnings:
                what = "would move to another theme" if c.kind == "reparent" else \
                    f"would lose its {FIELD_WORDS[c.field]}"
                out.append(f"  ! {name} {what} ({c.describe()})")
        if self.notes:
            out.append("Notes on the file:")
            out += [f"  * {n}" for n in self.notes]
        return out


@dataclass
class CodesImported:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # existing codes whose differences were not applied
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"{len(self.created)} code(s) created, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged.")
        if self.held:
            text += (f" {len(self.held)} existing code(s) differ from the file and were left as they are "
                     f"({', '.join(self.held[:5])}{', ...' if len(self.held) > 5 else ''}).")
        return text


def _spec_text(spec: Mapping[str, Any], key: str) -> str:
    value = spec.get(key)
    return "" if value is None else str(value)


def _given(spec: Mapping[str, Any], key: str) -> bool:
    """A field the file gives (an absent column or attribute leaves ours unchanged)."""
    return key in spec and spec[key] is not None


def _code_value(code: Code, key: str) -> Any:
    if key == "parent":
        return code.parent or ""
    return getattr(code, key)


def _same(key: str, before: Any, after: Any) -> bool:
    if key in ("keywords", "examples"):
        return tuple(before) == tuple(after)
    if key == "parent":
        return str(before).lower() == str(after).lower()
    return str(before).strip() == str(after).strip()


def _empty(value: Any) -> bool:
    return not (value if isinstance(value, tuple) else str(value or "").strip())


def plan_codebook_import(db: Database, specs: list[dict[str, Any]], *, source: str = "",
                         notes: Iterable[str] = (), format: str = "csv") -> ImportPlan:
    """Compare code specs (dicts with `code` and any of label, definition, parent, include_guidance,
    exclude_guidance, keywords, colour, examples, guid; a key that is absent leaves that field alone) with the
    codebook. Matching: by GUID first, then by name (case-insensitive, or the same short name: "Family & home"
    matches family_home), then by the same short label. Raises InvalidFile (row = `_row` or position + 2) for a
    file that cannot be imported at all: bad names, duplicates, an unknown parent, new codes breaking the two
    levels. Writes nothing."""
    problems: list[RowProblem] = []
    existing = list_codes(db, include_archived=True)
    by_id = {c.id: c for c in existing}
    by_guid = {(c.guid or name_guid(c.name)).lower(): c for c in existing}
    by_name = {c.name.lower(): c for c in existing}
    by_short = {short_name(c.name): c for c in existing}
    label_keys: dict[str, list[Code]] = {}
    for c in existing:
        label_keys.setdefault(short_name(c.label), []).append(c)
    by_label = {k: v[0] for k, v in label_keys.items() if len(v) == 1}

    entries: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    claimed: dict[int, int] = {}
    for index, spec in enumerate(specs):
        row = int(spec.get("_row") or index + 2)
        name = _spec_text(spec, "code").strip()
        try:
            _check_name(name)
        except CodebookError as exc:
            problems.append(RowProblem(row, "code", str(exc)))
            continue
        if name.lower() in seen:
            problems.append(RowProblem(row, "code", f"{name!r} appears again (first on row {seen[name.lower()]})"))
            continue
        seen[name.lower()] = row
        label = " ".join(_spec_text(spec, "label").split())
        if _CONTROL.search(_spec_text(spec, "label")):
            problems.append(RowProblem(row, "label", "contains a line break or tab"))
        colour = _spec_text(spec, "colour").strip()
        if colour and not _COLOUR.match(colour):
            problems.append(RowProblem(row, "colour", f"{colour!r} is not a colour like #1f77b4"))
        guid = normal_guid(spec.get("guid"))
        match, how = None, ""
        if guid and guid in by_guid:
            match, how = by_guid[guid], "guid"
        elif name.lower() in by_name:
            match, how = by_name[name.lower()], "name"
        elif short_name(name) in by_short:
            match, how = by_short[short_name(name)], "name"
        elif label and short_name(label) in by_label:
            match, how = by_label[short_name(label)], "label"
        if match is not None and match.id in claimed:
            if how == "guid":
                problems.append(RowProblem(row, "code", f"{name!r} and row {claimed[match.id]} both describe our code "
                                                        f"{match.name!r}"))
                continue
            match, how = None, ""  # a weaker match taken already: this entry is a new code
        if match is not None:
            claimed[match.id] = row
        values: dict[str, Any] = {}
        if label:
            values["label"] = label
        for key in ("definition", "include_guidance", "exclude_guidance"):
            if _given(spec, key):
                values[key] = _spec_text(spec, key)
        if _given(spec, "keywords"):
            values["keywords"] = tuple(_keywords(spec.get("keywords")))
        if _given(spec, "examples"):
            values["examples"] = tuple(_examples(spec.get("examples")))
        if colour:
            values["colour"] = colour.lower()
        entries.append({"row": row, "name": name, "values": values, "match": match, "how": how,
                        "guid": _spec_text(spec, "guid").strip(),
                        "parent": _spec_text(spec, "parent").strip() if _given(spec, "parent") else None,
                        "new_label": label or _spec_text(spec, "_label").strip() or name})

    # Names for new codes: the file's, unless one of our codes (matched to another entry) already has it.
    taken = {c.name.lower() for c in existing}
    for e in entries:
        if e["match"] is None:
            base, name, i = e["name"], e["name"], 2
            while name.lower() in taken:
                suffix = f"_{i}"
                name, i = base[: MAX_NAME_CHARS - len(suffix)] + suffix, i + 1
            if name != base:
                notes = [*notes, f"{base!r} (row {e['row']}) is a new code, but one of ours already has that name; "
                                 f"it will be created as {name!r}."]
            e["target"] = name
            taken.add(name.lower())
        else:
            e["target"] = e["match"].name
    in_file: dict[str, dict[str, Any]] = {}
    for e in entries:
        in_file.setdefault(e["name"].lower(), e)
        in_file.setdefault(short_name(e["name"]), e)

    def resolve(parent: str) -> tuple[str, dict[str, Any] | None, Code | None] | None:
        """The parent's final name, its entry in the file (if any) and our code (if any)."""
        e = in_file.get(parent.lower()) or in_file.get(short_name(parent))
        if e is not None:
            return e["target"], e, e["match"]
        c = by_name.get(parent.lower()) or by_short.get(short_name(parent))
        return (c.name, None, c) if c is not None else None

    for e in entries:
        e["parent_target"] = None
        if e["parent"] is None or e["parent"] == "":
            e["parent_target"] = e["parent"]
            continue
        found = resolve(e["parent"])
        if found is None:
            problems.append(RowProblem(e["row"], "parent", f"unknown code {e['parent']!r}; a parent must be in the "
                                                            "file or the codebook"))
            continue
        if found[0].lower() == e["target"].lower():
            problems.append(RowProblem(e["row"], "parent", "a code cannot be its own parent"))
            continue
        e["parent_target"] = found
    new_children = {}
    for e in entries:
        if e["match"] is None and isinstance(e["parent_target"], tuple):
            new_children.setdefault(e["parent_target"][0].lower(), []).append(e["target"])

    plan = ImportPlan(source=source, format=format)
    for e in entries:
        target = e["parent_target"]
        parent_name = target[0] if isinstance(target, tuple) else target
        if e["match"] is None:
            if isinstance(target, tuple):
                _, pentry, pcode = target
                grand = ""
                if pentry is not None and pentry["match"] is None:
                    grand = pentry["parent"] or ""
                elif pcode is not None:
                    grand = pcode.parent or ""
                if grand:
                    problems.append(RowProblem(e["row"], "parent", f"{e['parent']!r} is itself a sub-code (of "
                                                                    f"{grand!r}); the codebook has two levels only, "
                                                                    "theme and sub-code"))
                if e["target"].lower() in new_children:
                    problems.append(RowProblem(e["row"], "parent", f"{e['name']!r} has sub-codes, so it is a theme "
                                                                    "and cannot have a parent"))
            v = e["values"]
            plan.new.append(NewCode(
                name=e["target"], label=v.get("label") or e["new_label"], definition=v.get("definition", ""),
                parent=parent_name or "", include_guidance=v.get("include_guidance", ""),
                exclude_guidance=v.get("exclude_guidance", ""), keywords=v.get("keywords", ()),
                colour=v.get("colour", ""), examples=v.get("examples", ()), guid=e["guid"], row=e["row"]))
            continue
        code: Code = e["match"]
        changes: list[FieldChange] = []
        incoming = dict(e["values"])
        if parent_name is not None:
            incoming["parent"] = parent_name
        for key in PLAN_FIELDS:
            if key not in incoming:
                continue
            before, after = _code_value(code, key), incoming[key]
            if _same(key, before, after):
                continue
            if key == "parent":
                problem = ""
                if after:
                    pcode = target[2] if isinstance(target, tuple) else None
                    if pcode is not None and pcode.parent:
                        problem = f"{after!r} is a sub-code of {pcode.parent!r}; only a theme can hold sub-codes"
                    elif any(c.parent_id == code.id for c in by_id.values()) or code.name.lower() in new_children:
                        problem = f"{code.name!r} is a theme with sub-codes; it cannot become a sub-code"
                    elif pcode is None and isinstance(target, tuple) and target[1] is not None \
                            and target[1]["parent"]:
                        problem = f"{after!r} is itself a sub-code in the file"
                changes.append(FieldChange(key, before, after, "reparent", problem))
            elif _empty(after):
                changes.append(FieldChange(key, before, after, "blank"))
            else:
                changes.append(FieldChange(key, before, after))
        if changes:
            plan.differences.append(CodeDifference(code.name, code.id, e["how"], e["name"], e["row"], changes))
        else:
            plan.unchanged.append(code.name)
    if problems:
        raise InvalidFile(sorted(problems, key=lambda p: (p.row, p.column)))
    plan.notes = list(notes)
    return plan


def _column_value(key: str, value: Any) -> Any:
    if key in ("keywords", "examples"):
        return json.dumps(list(value), ensure_ascii=False)
    return value


def apply_codebook_import(db: Database, user: User, plan: ImportPlan, *, update: bool = False,
                          accept: Iterable[str] | None = None) -> CodesImported:
    """Create the plan's new codes and, only with `update`, change existing codes. With `update` and no `accept`,
    the plain changes are applied but no code is re-parented or blanked; with `accept` (our code names), only
    those codes change, each with every difference listed for it, re-parenting and blanking included. A change
    the plan marks as impossible is never applied. All or nothing, in one transaction, audited with every
    difference applied or left. Raises CodebookError if a code changed since the plan was made."""
    require(user, "codebook")
    accepted = None if accept is None else {a.strip().lower() for a in accept if a.strip()}
    if accepted:
        unknown = accepted - {d.name.lower() for d in plan.differences}
        if unknown:
            raise CodebookError(f"Nothing to accept for {', '.join(sorted(unknown))}: the file describes "
                                f"{'that code' if len(unknown) == 1 else 'those codes'} no differently (or not at "
                                "all). Nothing was changed.")
    result = CodesImported(unchanged=list(plan.unchanged), notes=list(plan.notes))
    applied: dict[str, dict[str, list[Any]]] = {}
    left: dict[str, list[str]] = {}
    with transaction(db):
        for new in sorted(plan.new, key=lambda c: bool(c.parent)):
            if _name_taken(db, new.name):
                raise CodebookError(f"A code called {new.name!r} was added since the file was checked; check it "
                                    "again. Nothing was changed.")
            parent_id = _resolve_parent(db, new.parent, None) if new.parent else None
            now = now_utc()
            db.execute(
                "INSERT INTO codes (name, label, definition, include_guidance, exclude_guidance, examples, parent_id, "
                "colour, keywords, archived, created_at, updated_at, guid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
                [new.name, new.label, new.definition, new.include_guidance, new.exclude_guidance,
                 json.dumps(list(new.examples), ensure_ascii=False), parent_id, new.colour,
                 json.dumps(list(new.keywords), ensure_ascii=False), now, now, _new_guid(db, new.name, new.guid)])
            result.created.append(new.name)
        for diff in plan.differences:
            chosen: list[FieldChange] = []
            if update:
                if accepted is None:
                    chosen = [c for c in diff.changes if not c.risky and not c.problem]
                elif diff.name.lower() in accepted:
                    chosen = [c for c in diff.changes if not c.problem]
            not_chosen = [c.field for c in diff.changes if c not in chosen]
            if not_chosen:
                left[diff.name] = not_chosen
                result.held.append(diff.name)
            if not chosen:
                continue
            current = get_code(db, diff.code_id)
            values: dict[str, Any] = {}
            for change in chosen:
                if not _same(change.field, _code_value(current, change.field), change.before):
                    raise CodebookError(f"{current.name!r} was edited since the file was checked; check the file "
                                        "again. Nothing was changed.")
                if change.field == "parent":
                    values["parent_id"] = _resolve_parent(db, change.after or None, current.id)
                elif change.field == "label":
                    values["label"] = change.after
                elif change.field == "colour":
                    values["colour"] = _colour(change.after)
                else:
                    values[change.field] = _column_value(change.field, change.after)
            values["updated_at"] = now_utc()
            db.table("codes").update(current.id, values)
            applied[diff.name] = {c.field: [_plain(c.before), _plain(c.after)] for c in chosen}
            result.updated.append(diff.name)
        audit.record(db, user, "codebook_imported", "file", plan.source or None, format=plan.format,
                     created=result.created, updated=applied, left_unchanged=left,
                     unchanged=len(result.unchanged), update=update,
                     accepted=None if accepted is None else sorted(accepted))
    return result


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def import_codes(db: Database, user: User, specs: list[dict[str, Any]], *, source: str = "", update: bool = False,
                 accept: Iterable[str] | None = None, notes: Iterable[str] = ()) -> CodesImported:
    """Plan and apply in one step: new codes are created; an existing code (matched by GUID, then name) is changed
    only with `update` (see apply_codebook_import); otherwise its differences are reported in `held`."""
    require(user, "codebook")
    plan = plan_codebook_import(db, specs, source=source, notes=notes)
    return apply_codebook_import(db, user, plan, update=update, accept=accept)


def read_codebook_csv(source: IO[bytes] | bytes, filename: str = "codebook.csv") -> list[dict[str, Any]]:
    """Parse a codebook CSV (columns code,label,definition and optional parent,keywords,colour,include_guidance,
    exclude_guidance,examples,guid) into specs for `plan_codebook_import`; a column that is absent leaves that
    field of existing codes alone. Raises InvalidFile naming every row and column at fault."""
    header, body = read_table(source, filename)
    problems: list[RowProblem] = []
    allowed = CSV_COLUMNS + CSV_EXTRA_COLUMNS
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


def read_taguette_csv(source: IO[bytes] | bytes, filename: str = "codebook.csv") -> list[dict[str, Any]]:
    """Parse Taguette's codebook CSV (tag, and optionally parent, description, number of highlights; Taguette
    also accepts `name` or `path` for the tag) into specs. Taguette has no labels, so an existing code keeps its
    label; a new tag becomes a code named after it (a short name if the tag has spaces or signs), labelled with
    the tag."""
    header, body = read_table(source, filename)
    tag_columns = [c for c in ("tag", "name", "path") if c in header]
    if len(tag_columns) != 1:
        raise InvalidFile([RowProblem(1, "tag", "need exactly one of the columns tag, name or path (Taguette's "
                                                "codebook CSV)")])
    tag_col = header.index(tag_columns[0])
    desc_col = header.index("description") if "description" in header else None
    parent_col = header.index("parent") if "parent" in header else None
    specs: list[dict[str, Any]] = []
    problems: list[RowProblem] = []

    def cell(row: list[Any], i: int | None) -> str | None:
        if i is None:
            return None
        value = row[i] if i < len(row) else None
        return "" if value is None else str(value).strip()

    for number, row in body:
        tag = cell(row, tag_col) or ""
        if not tag:
            problems.append(RowProblem(number, tag_columns[0], "is empty; every tag needs a name"))
            continue
        name = tag if re.fullmatch(r"[\w.-]+", tag) else short_name(tag)
        spec: dict[str, Any] = {"code": name, "_label": tag, "_row": number}
        if desc_col is not None:
            spec["definition"] = cell(row, desc_col)
        if parent_col is not None:
            parent = cell(row, parent_col) or ""
            spec["parent"] = parent if not parent or re.fullmatch(r"[\w.-]+", parent) else short_name(parent)
        specs.append(spec)
    if problems:
        raise InvalidFile(problems)
    return specs


def export_codebook_taguette(db: Database, *, include_archived: bool = False,
                             target: IO[bytes] | Path | None = None) -> bytes:
    """The codebook as Taguette reads it (its own codebook export's columns tag, parent, description): the tag
    is our short name, so importing the file back matches every code by name and changes nothing."""
    return csv_export(TAGUETTE_COLUMNS, ([c.name, c.parent or "", c.definition]
                                         for c in list_codes(db, include_archived=include_archived)), target)


@dataclass
class CodebookFile:
    """A codebook file read into specs, with what the reader noticed (kept in another form, or not used)."""

    specs: list[dict[str, Any]]
    format: str  # "csv", "taguette", "qdc", "qdpx"
    notes: list[str] = field(default_factory=list)


def read_codebook_file(data: bytes, filename: str = "codebook.csv") -> CodebookFile:
    """Read a codebook in any format we know, by content (extension as a hint): our CSV (a `code` column),
    Taguette's CSV (a `tag` column), a REFI-QDA .qdc, a project's .qde, or a .qdpx (its project.qde's CodeBook).
    Raises InvalidFile."""
    from exports import refi

    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    lower = filename.lower()
    if data[:2] == b"PK" or lower.endswith(".qdpx"):
        parsed = refi.read_qdpx_codebook(data)
        return CodebookFile(parsed.specs, "qdpx", parsed.notes)
    if head.startswith(b"<") or lower.endswith((".qdc", ".qde", ".xml")):
        parsed = refi.read_qdc(data)
        return CodebookFile(parsed.specs, "qdc", parsed.notes)
    header, _ = read_table(data, filename)
    if "code" not in header and any(c in header for c in ("tag", "name", "path")):
        return CodebookFile(read_taguette_csv(data, filename), "taguette")
    return CodebookFile(read_codebook_csv(data, filename), "csv")


def plan_codebook_file(db: Database, data: bytes, filename: str = "codebook.csv") -> ImportPlan:
    """Read a codebook file (read_codebook_file) and plan its import."""
    parsed = read_codebook_file(data, filename)
    return plan_codebook_import(db, parsed.specs, source=filename, notes=parsed.notes, format=parsed.format)


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


def import_codebook_csv(db: Database, user: User, source: IO[bytes] | bytes, filename: str = "codebook.csv", *,
                        update: bool = False, accept: Iterable[str] | None = None) -> CodesImported:
    """Import a codebook CSV (ours or Taguette's), all rows or none: new codes are created, existing ones change
    only with `update`."""
    require(user, "codebook")
    data = source if isinstance(source, bytes) else source.read()
    plan = plan_codebook_file(db, data, filename)
    return apply_codebook_import(db, user, plan, update=update, accept=accept)


def export_codebook_csv(db: Database, *, include_archived: bool = False, target: IO[bytes] | Path | None = None) -> bytes:
    """The codebook as CSV (code,label,definition,parent,keywords), themes before their sub-codes; written to
    `target` if given, and returned as UTF-8 bytes. Importing it back reproduces the same codebook."""
    return csv_export(CSV_COLUMNS, ([c.name, c.label, c.definition, c.parent or "", ";".join(c.keywords)]
                                    for c in list_codes(db, include_archived=include_archived)), target)


def load_starter_codebook(db: Database, user: User) -> CodesImported:
    """Add the starter codebook (cross-question themes: the neglect categories, family, safety, places, school,
    services, money and housing, being listened to, each with sub-codes) on request.
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


# --- restructuring a codebook whose themes are the questions ----------------------------------------------------

#: The theme names of the first starter codebook, whose four themes were the four questions (neglect = "What
#: neglect is", thrive = "What helps children thrive", barriers = "What stops children thriving", local_help =
#: "What would help here"). A theme named after a question tells a board nothing ("What stops children thriving
#: 75 %"); restructure_codebook moves their sub-codes under the cross-question themes of the starter codebook.
LEGACY_QUESTION_THEMES = ("neglect", "thrive", "barriers", "local_help")
_INTERROGATIVE = ("what", "how", "why", "who", "where", "when")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", (text or "").lower())


def looks_question_named(name: str, label: str, question_labels: Iterable[str] = ()) -> bool:
    """True when a theme is named after a question rather than a subject: one of the first starter codebook's
    question themes, a label equal to a question's wording, or a label that is a question's opening ("What
    helps children thrive" for "What helps children and young people thrive?")."""
    if (name or "").lower() in LEGACY_QUESTION_THEMES:
        return True
    words = _words(label)
    if not words:
        return False
    for question in question_labels:
        q = _words(question)
        if words == q:
            return True
        if words[0] in _INTERROGATIVE and len(words) >= 3 and q[:2] == words[:2] and set(words) <= set(q) | {
                "children", "child", "young", "people", "here", "area"}:
            return True
    return False


def starter_mapping() -> dict[str, str]:
    """The documented mapping used by restructure_codebook: sub-code name -> cross-question theme name, read
    from the starter codebook (each sub-code's parent there)."""
    specs = read_codebook_csv(STARTER_CODEBOOK.read_bytes(), STARTER_CODEBOOK.name)
    return {s["code"]: s["parent"] for s in specs if (s.get("parent") or "").strip()}


def _question_labels(db: Database) -> list[str]:
    from data.findings import _labels

    labels = list(_labels(db)[0].values())
    try:
        from surveys.model import bundled, bundled_keys  # the bundled sets, for a codebook made before any event

        for key in bundled_keys():
            qs = bundled(key)
            labels += [qs.text(q.label) for q in qs.questions]
    except Exception:  # noqa: BLE001 - the events' own questions are enough
        pass
    return labels


def question_named_themes(db: Database) -> list[Code]:
    """Themes (not archived) named after a question, each still holding sub-codes or codings."""
    labels = _question_labels(db)
    codes = list_codes(db)
    parents = {c.parent_id for c in codes if c.parent_id is not None}
    used = usage(db)
    return [c for c in codes if c.is_theme and looks_question_named(c.name, c.label, labels)
            and (c.id in parents or used.get(c.id, {}).get("answers", 0))]


@dataclass
class RestructurePlan:
    """What restructure_codebook would do: moves (sub-code, old theme, new theme), themes to archive, codes the
    starter codebook adds, and sub-codes with no theme in the mapping (which block the restructure)."""

    moves: list[tuple[str, str, str]] = field(default_factory=list)
    archive: list[str] = field(default_factory=list)
    add: list[str] = field(default_factory=list)
    unmapped: list[tuple[str, str]] = field(default_factory=list)  # (sub-code, old theme)


def plan_restructure(db: Database, mapping: Mapping[str, str] | None = None) -> RestructurePlan:
    """The restructure as a plan, nothing written. `mapping` (sub-code -> new theme name) adds to or overrides the
    starter mapping, for sub-codes the partnership added itself."""
    full = {**starter_mapping(), **dict(mapping or {})}
    starter_names = [s["code"] for s in read_codebook_csv(STARTER_CODEBOOK.read_bytes(), STARTER_CODEBOOK.name)]
    present = {c.name.lower() for c in list_codes(db, include_archived=True)}
    old = question_named_themes(db)
    old_ids = {c.id for c in old}
    plan = RestructurePlan(archive=[c.name for c in old], add=[n for n in starter_names if n.lower() not in present])
    theme_names = {c.name for c in old}
    for code in list_codes(db):
        if code.parent_id in old_ids:
            target = full.get(code.name, "")
            if not target or target in theme_names:
                plan.unmapped.append((code.name, code.parent or ""))
            else:
                plan.moves.append((code.name, code.parent or "", target))
    return plan


@dataclass(frozen=True)
class RestructureResult:
    moved: list[tuple[str, str, str]]
    archived: list[str]
    added: list[str]


def restructure_codebook(db: Database, user: User, mapping: Mapping[str, str] | None = None) -> RestructureResult:
    """Put the sub-codes of question-named themes under the starter codebook's cross-question themes, all or
    nothing: the starter's themes (and any of its codes missing) are added, every sub-code moves to its theme in
    the mapping (starter_mapping, plus `mapping`), and the emptied question themes are archived. Codings stay on
    their codes (ids do not change), so every coding is preserved and now counts toward the new theme.
    Refused, with nothing written, when a sub-code has no theme in the mapping or nothing is question-named."""
    require(user, "codebook")
    with transaction(db):
        plan = plan_restructure(db, mapping)
        if not plan.archive:
            raise CodebookError("No theme is named after a question; there is nothing to restructure.")
        if plan.unmapped:
            names = ", ".join(f"{code!r} (under {theme!r})" for code, theme in plan.unmapped)
            raise CodebookError(f"Choose a new theme for {names}; nothing was changed.")
        added = load_starter_codebook(db, user).created
        for name, _old, target in plan.moves:
            theme = get_code(db, target)  # raises CodebookError for a theme that does not exist
            if not theme.is_theme or theme.archived:
                raise CodebookError(f"{target!r} is not an active theme; nothing was changed.")
            update_code(db, user, name, parent=theme.id)
        for name in plan.archive:
            set_archived(db, user, name, True)
        audit.record(db, user, "codebook_restructured", "codebook", None, moved=plan.moves,
                     archived=plan.archive, added=added)
    return RestructureResult(plan.moves, plan.archive, added)
