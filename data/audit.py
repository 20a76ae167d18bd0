"""The append-only audit log: who did what, when (triggers forbid updates and deletes).

Write with `record` inside the same transaction as the action it describes.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from data.db import now_utc
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
