"""The append-only audit log: who did what, when (triggers forbid updates and deletes).

Write with `record` inside the same transaction as the action it describes. Exports call
`authorize_export` before building a file and `record_export` once it is written.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from data.db import now_utc, transaction
from data.users import User, require


def record(db: Database, actor: User | str | None, action: str, target_type: str | None = None,
           target_id: str | None = None, **detail: Any) -> None:
    """Append one audit row. Never put passwords, PINs or answer texts in `detail`."""
    name = actor.username if isinstance(actor, User) else actor
    db.execute(
        "INSERT INTO audit (at, actor, action, target_type, target_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
        [now_utc(), name, action, target_type, None if target_id is None else str(target_id),
         json.dumps(detail, ensure_ascii=False, default=str)],
    )


def entries(db: Database, user: User, *, limit: int = 500, action: str | None = None) -> list[dict[str, Any]]:
    """The newest audit rows first (admins only)."""
    require(user, "audit")
    sql = "SELECT id, at, actor, action, target_type, target_id, detail FROM audit"
    params: list[Any] = []
    if action:
        sql += " WHERE action = ?"
        params.append(action)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(int(limit))
    rows = [dict(r) for r in db.query(sql, params)]
    for row in rows:
        row["detail"] = json.loads(row["detail"] or "{}")
    return rows


def actions(db: Database, user: User) -> list[str]:
    """The distinct actions in the log (for the admin page's filter)."""
    require(user, "audit")
    return [r[0] for r in db.execute("SELECT DISTINCT action FROM audit ORDER BY action")]


def authorize_export(user: User | None, *, with_originals: bool = False) -> User:
    """Check, before building an export, that `user` may make it: redacted exports need "export",
    exports holding the original answer texts need "export_original" (admins only)."""
    require(user, "export")
    if with_originals:
        require(user, "export_original")
    return user


def record_export(db: Database, user: User, what: str, *, with_originals: bool = False, filename: str | None = None,
                  rows: int | None = None, **detail: Any) -> None:
    """Check the permission and append the audit row for one export: who, what, with or without originals.

    `what` names the export ("xlsx", "csv", "qdpx", "qdc", "report"...); `detail` may hold filters (never texts).
    """
    authorize_export(user, with_originals=with_originals)
    with transaction(db):
        record(db, user, "export", "export", what, with_originals=bool(with_originals), filename=filename, rows=rows,
               **detail)
