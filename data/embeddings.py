"""Stored sentence vectors of answers (table response_embeddings, migration 0012_embeddings).

Owns computing the missing ones (`ensure_embeddings`, also in a background thread after an import, and
`python cli.py embed`), reading them back in a given order (`load_embeddings`) and counting them.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from data.db import Database, connect, transaction

if TYPE_CHECKING:
    import numpy

log = logging.getLogger(__name__)

#: Vectors are stored as float16 (768 bytes an answer rather than 1,536: 420 MB at 550,000 answers, not 840 MB).
#: Measured by bench/bench_embeddings.py: cosine between answers moves by at most ~3e-4 against float32, far
#: below the int8 model's own difference from fp32 (pairwise cosine ~9e-3).
STORE_DTYPE = "<f2"

# The text a vector is computed from: the redacted text, never the original. Answers withheld by a safeguarding
# flag (data.flags.withheld_sql) get a vector from their redacted text too: a vector shows no text to anyone, and
# the suggester decides whether a withheld answer takes part. An answer with no redacted text yet (NULL) is left
# without a vector rather than embedding what was typed.
_MISSING_SQL = """
    SELECT r.id, r.redacted_text FROM responses r
    LEFT JOIN response_embeddings e ON e.response_id = r.id AND e.model = ?
    WHERE r.id > ? AND e.response_id IS NULL AND r.redacted_text IS NOT NULL
    ORDER BY r.id LIMIT ?
"""


def _model():
    from analysis import embeddings

    return embeddings


def _pack(vectors: numpy.ndarray) -> list[bytes]:
    import numpy as np

    half = np.asarray(vectors, dtype=np.float32).astype(STORE_DTYPE)
    return [row.tobytes() for row in half]


def ensure_embeddings(db: Database, *, limit: int | None = None, batch: int = 256,
                      progress: Callable[[int], None] | None = None) -> int:
    """Compute and store the vectors that answers lack for the current model; returns how many were stored.

    Each batch commits on its own, so a long top-up can be stopped (or the laptop closed) and resumed: running it
    again only does what is left. An answer deleted or re-redacted meanwhile is not written (its vector would be
    orphaned or stale). `progress` is called with the count stored so far after each batch. Raises
    analysis.embeddings.EmbeddingsUnavailable when the model cannot be used.
    """
    emb = _model()
    if not emb.available():
        raise emb.EmbeddingsUnavailable(emb.unavailable_reason() or "sentence embeddings unavailable")
    stored, seen, after = 0, 0, ""
    batch = max(1, int(batch))
    while limit is None or seen < limit:
        size = batch if limit is None else min(batch, limit - seen)
        # Keyset pages by id: memory stays one batch whatever the number of answers.
        chunk = db.execute(_MISSING_SQL, [emb.MODEL_ID, after, size]).fetchall()
        if not chunk:
            break
        seen += len(chunk)
        after = chunk[-1][0]
        blobs = _pack(emb.embed([text for _, text in chunk]))
        with transaction(db):
            for (response_id, text), blob in zip(chunk, blobs, strict=True):
                # Written only if the answer still has the text the vector was computed from.
                cur = db.execute(
                    "INSERT OR REPLACE INTO response_embeddings (response_id, model, vector) "
                    "SELECT id, ?, ? FROM responses WHERE id = ? AND redacted_text IS ?",
                    [emb.MODEL_ID, blob, response_id, text],
                )
                stored += cur.rowcount
        if progress is not None:
            progress(stored)
    return stored


def load_embeddings(db: Database, response_ids: Sequence[str], *, with_mask: bool = False):
    """The stored vectors of `response_ids`, in that order, as float32 (len(ids), DIM); a row of zeros where an
    answer has no vector for the current model. With `with_mask`, returns (vectors, mask) where mask[i] is True
    when row i was found."""
    import numpy as np

    emb = _model()
    ids = list(response_ids)
    out = np.zeros((len(ids), emb.DIM), dtype=np.float32)
    mask = np.zeros(len(ids), dtype=bool)
    where: dict[str, list[int]] = {}
    for i, response_id in enumerate(ids):
        where.setdefault(response_id, []).append(i)
    if len(where) > 5000:
        # Many answers (the suggester over a whole project): one scan of the table beats thousands of lookups.
        # Iterated, not fetched whole: only the asked-for vectors are kept (the table is 420 MB at 550,000).
        found = db.execute("SELECT response_id, vector FROM response_embeddings WHERE model = ?", [emb.MODEL_ID])
    else:
        unique, found = list(where), []
        for start in range(0, len(unique), 500):  # well under SQLite's limit on bound parameters
            part = unique[start : start + 500]
            found += db.execute(
                f"SELECT response_id, vector FROM response_embeddings WHERE model = ? "
                f"AND response_id IN ({', '.join('?' for _ in part)})", [emb.MODEL_ID, *part]).fetchall()
    blobs, src, dst = [], [], []
    for response_id, blob in found:
        positions = where.get(response_id)
        if positions is None or len(blob) != emb.DIM * 2:  # not asked for, or not a vector of this shape
            continue
        src.extend([len(blobs)] * len(positions))
        dst.extend(positions)
        blobs.append(blob)
    if blobs:
        matrix = np.frombuffer(b"".join(blobs), dtype=STORE_DTYPE).reshape(len(blobs), emb.DIM)
        out[dst] = matrix[src]
        mask[dst] = True
    return (out, mask) if with_mask else out


def embedding_coverage(db: Database) -> tuple[int, int]:
    """(answers with a vector for the current model, answers that could have one: those with a redacted text)."""
    emb = _model()
    have = db.execute(
        "SELECT COUNT(*) FROM response_embeddings e JOIN responses r ON r.id = e.response_id WHERE e.model = ?",
        [emb.MODEL_ID],
    ).fetchone()[0]
    total = db.execute("SELECT COUNT(*) FROM responses WHERE redacted_text IS NOT NULL").fetchone()[0]
    return have, total


# --------------------------------------------------------------------------------------------- background top-up

_running: dict[str, threading.Thread] = {}
_running_lock = threading.Lock()


def _db_file(db: Database) -> str | None:
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return file or None
    return None


_no_background: contextvars.ContextVar[bool] = contextvars.ContextVar("thrive_no_embed_background", default=False)


@contextlib.contextmanager
def no_background() -> Iterator[None]:
    """Within this block no background top-up starts (the CLI: a short-lived process embeds with `cli.py embed`)."""
    token = _no_background.set(True)
    try:
        yield
    finally:
        _no_background.reset(token)


def background_enabled() -> bool:
    """False inside no_background(); else env THRIVE_EMBED_BACKGROUND: "0"/"false"/"no"/"" off, anything else or
    unset on. The test suite sets it to "0" in tests/conftest.py (tests that want it set "1")."""
    if _no_background.get():
        return False
    value = os.environ.get("THRIVE_EMBED_BACKGROUND")
    if value is not None:
        return value.strip() not in ("", "0", "false", "no")
    return True


def top_up_in_background(db: Database, *, batch: int = 256) -> threading.Thread | None:
    """Start computing missing vectors in a daemon thread with its own connection, unless one is already running
    for this database file, the model is unavailable, background work is switched off, or the database is in
    memory. Returns the thread (tests join it) or None. Never raises: a failure is logged and the next top-up
    (another import, the Code page, `cli.py embed`) starts again where it stopped."""
    try:
        if not background_enabled():
            return None
        path = _db_file(db)
        if not path or not _model().available():
            return None
        with _running_lock:
            running = _running.get(path)
            if running is not None and running.is_alive():
                return None
            thread = threading.Thread(target=_top_up, args=(path, batch), name="thrive-embed", daemon=True)
            _running[path] = thread
            thread.start()
        return thread
    except Exception:  # noqa: BLE001 - a background nicety must never break the import that called it
        log.exception("could not start the background embedding top-up")
        return None


def _top_up(path: str, batch: int) -> None:
    try:
        if not Path(path).exists():
            return
        db = connect(path)
        try:
            stored = ensure_embeddings(db, batch=batch)
            log.info("background embedding top-up stored %d vectors in %s", stored, path)
        finally:
            db.close()
    except Exception:  # noqa: BLE001 - logged; the next top-up resumes
        log.exception("background embedding top-up failed for %s", path)
