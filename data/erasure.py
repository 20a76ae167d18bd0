"""Erasure: delete a respondent and everything derived from them, leaving tombstones and an audit row.

Safeguarding flags are kept (a safeguarding record must outlive the data) but lose their link to the erased text.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from data import audit, reference
from data.db import now_utc, transaction
from data.events import events_named
from data.users import User, require


class ErasureError(ValueError):
    """The respondent to erase could not be found unambiguously, or no reason was given."""


@dataclass(frozen=True)
class Erased:
    respondent_id: str
    event_id: str
    answers: int
    codings: int
    memos: int
    dismissals: int
    pinned_quotes: int
    flags_unlinked: int
    reference: str | None = None

    def summary(self) -> str:
        ref = f" (reference {self.reference})" if self.reference else ""
        return (f"Erased respondent {self.respondent_id}{ref}: {self.answers} answer(s), {self.codings} coding(s), "
                f"{self.memos} memo(s), {self.dismissals} dismissed suggestion(s), {self.pinned_quotes} pinned "
                f"quote(s); {self.flags_unlinked} safeguarding flag(s) kept without their text.")


def find_respondent(db: Database, user: User, respondent: str, *, event: str | None = None) -> str:
    """The respondent id for `respondent`: a respondent id; the reference on a thank-you card (respondents.reference,
    e.g. "K7M-3QP", read forgivingly: see data.reference); or a respondent reference from an imported file
    (respondents.external_ref), narrowed by `event` (event id or name) when it is used at several events."""
    require(user, "erase")
    respondent = (respondent or "").strip()
    if not respondent:
        raise ErasureError("Give a respondent id or reference.")
    if db.execute("SELECT 1 FROM respondents WHERE id = ?", [respondent]).fetchone():
        return respondent
    # an imported file's own reference, typed exactly, wins over a look-alike reading of a card's reference
    exact_import = db.execute("SELECT 1 FROM respondents WHERE external_ref = ? LIMIT 1", [respondent]).fetchone()
    if not exact_import:
        try:
            found = reference.resolve(db, respondent)
        except reference.AmbiguousReference as exc:
            raise ErasureError(str(exc)) from exc
        if found:
            return found
        erased = _erased_reference(db, respondent)
        if erased:
            raise ErasureError(f"The respondent with reference {erased[0]} was already erased on {erased[1][:10]}. "
                               "Nothing more to erase.")
    sql = "SELECT id, event_id FROM respondents WHERE external_ref = ?"
    params = [respondent]
    if event:
        matches = events_named(db, event)
        if not matches:
            raise ErasureError(f"No event called {event!r}.")
        sql += f" AND event_id IN ({', '.join('?' for _ in matches)})"
        params.extend(e.id for e in matches)
    rows = db.execute(sql, params).fetchall()
    if not rows:
        raise ErasureError(f"No respondent with id or reference {respondent!r}"
                           + (f" at {event!r}." if event else ".") + " Nothing was erased.")
    if len(rows) > 1:
        raise ErasureError(f"The reference {respondent!r} is used at {len(rows)} events: say which event. "
                           "Nothing was erased.")
    return rows[0][0]


def _erased_reference(db: Database, text: str) -> tuple[str, str] | None:
    """(reference, when) if a respondent holding a reference `text` could be was erased (its tombstone)."""
    options = reference.candidates(text)
    if not options:
        return None
    marks = _marks(options)
    row = db.execute(f"SELECT ref_id, at FROM tombstones WHERE kind = 'reference' AND ref_id IN ({marks}) "  # noqa: S608
                     "ORDER BY id DESC LIMIT 1", options).fetchone()
    return (row[0], row[1]) if row else None


def reference_of(db: Database, user: User, respondent_id: str) -> str | None:
    """The withdrawal reference of a respondent (None for post-its, imported and older respondents)."""
    require(user, "erase")
    row = db.execute("SELECT reference FROM respondents WHERE id = ?", [respondent_id]).fetchone()
    return row[0] if row else None


def preview(db: Database, user: User, respondent_id: str) -> dict[str, int]:
    """How much erasing this respondent would remove (admins), without changing anything."""
    require(user, "erase")
    ids = _response_ids(db, respondent_id)
    marks = _marks(ids)
    return {
        "answers": len(ids),
        "codings": db.execute(f"SELECT COUNT(*) FROM codings WHERE response_id IN ({marks})", ids).fetchone()[0],
        "flags": db.execute(f"SELECT COUNT(*) FROM flags WHERE respondent_id = ? OR response_id IN ({marks})",
                            [respondent_id, *ids]).fetchone()[0],
    }


def _response_ids(db: Database, respondent_id: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT id FROM responses WHERE respondent_id = ?", [respondent_id])]


def _marks(ids: list[str]) -> str:
    return ", ".join("?" for _ in ids) or "NULL"


def erase_respondent(db: Database, user: User, respondent_id: str, reason: str) -> Erased:
    """Delete the respondent, their answers, codings, memos on those answers, dismissed suggestions, pinned quotes
    and their places in agreement samples, in one transaction. Flags stay, unlinked, with a tombstone each."""
    require(user, "erase")
    reason = (reason or "").strip()
    if not reason:
        raise ErasureError("Give the reason for erasing (for example: the person withdrew consent on 3 Dec).")
    row = db.execute("SELECT event_id, reference FROM respondents WHERE id = ?", [respondent_id]).fetchone()
    if row is None:
        raise ErasureError("That respondent is not in the database (perhaps already erased). Nothing was erased.")
    event_id, ref = row
    now = now_utc()
    with transaction(db):
        ids = _response_ids(db, respondent_id)
        marks = _marks(ids)

        def delete(sql: str, params: list[str]) -> int:
            return db.execute(sql, params).rowcount

        memos = delete(f"DELETE FROM memos WHERE target_type = 'response' AND target_id IN ({marks})", ids)
        dismissals = delete(f"DELETE FROM suggestion_dismissals WHERE response_id IN ({marks})", ids)
        pinned = delete(f"DELETE FROM pinned_quotes WHERE response_id IN ({marks})", ids)
        codings = delete(f"DELETE FROM codings WHERE response_id IN ({marks})", ids)
        if db["agreement_sample_items"].exists():
            delete(f"DELETE FROM agreement_sample_items WHERE response_id IN ({marks})", ids)
        flag_ids = [r[0] for r in db.execute(
            f"SELECT id FROM flags WHERE respondent_id = ? OR response_id IN ({marks})", [respondent_id, *ids])]
        for flag_id in flag_ids:
            status = db.execute("SELECT status FROM flags WHERE id = ?", [flag_id]).fetchone()[0]
            db.execute("UPDATE flags SET respondent_id = NULL, response_id = NULL, updated_at = ? WHERE id = ?",
                       [now, flag_id])
            db.execute("INSERT INTO flag_history (flag_id, status, note, by, at) VALUES (?, ?, ?, ?, ?)",
                       [flag_id, status, f"Respondent erased; the flagged text was deleted. Reason: {reason}",
                        user.username, now])
        answers = delete("DELETE FROM responses WHERE respondent_id = ?", [respondent_id])
        delete("DELETE FROM respondents WHERE id = ?", [respondent_id])
        stones = [("respondent", respondent_id)] + [("response", i) for i in ids] + [("flag", f) for f in flag_ids]
        if ref:  # so that the same card brought back later is answered "already erased", not "not found"
            stones.append(("reference", ref))
        db.conn.executemany("INSERT INTO tombstones (kind, ref_id, reason, by, at) VALUES (?, ?, ?, ?, ?)",
                            [(kind, ref, reason, user.username, now) for kind, ref in stones])
        result = Erased(respondent_id, event_id, answers, codings, memos, dismissals, pinned, len(flag_ids), ref)
        audit.record(db, user, "respondent_erased", "respondent", respondent_id, reason=reason, event_id=event_id,
                     answers=answers, codings=codings, memos=memos, dismissals=dismissals, pinned_quotes=pinned,
                     flags_unlinked=len(flag_ids))
    return result


def erase(db: Database, user: User, respondent: str, reason: str, *, event: str | None = None) -> Erased:
    """Erase by respondent id or reference (see find_respondent): what the admin page and the CLI call."""
    return erase_respondent(db, user, find_respondent(db, user, respondent, event=event), reason)


def tombstones(db: Database, user: User, *, limit: int = 200) -> list[dict[str, str]]:
    """The newest tombstones (admins)."""
    require(user, "erase")
    return [dict(r) for r in db.query("SELECT kind, ref_id, reason, by, at FROM tombstones ORDER BY id DESC LIMIT ?",
                                      [int(limit)])]


def erase_drafts(db: Database, user: User, *, username: str | None = None, event_id: str | None = None,
                 reason: str = "") -> int:
    """Half-typed Collect forms have no respondent id yet: they are erased by the user who typed them and/or the
    event (data/drafts.py; audited there). Returns how many were deleted."""
    from data import drafts

    return drafts.purge(db, user, username=username, event_id=event_id, reason=reason)
