"""Floors the benchmarks measure in the same run: the cost of writing rows with nothing but raw sqlite3.

Shared by bench_redaction.py and bench_safeguarding.py (the whole import's floor is in bench_capture.py).
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path


def responses_executemany(texts: Sequence[str]) -> float:
    """Wall time of one executemany of `texts` into an on-disk table shaped like `responses` (WAL, like the app)."""
    with tempfile.TemporaryDirectory() as folder:
        conn = sqlite3.connect(Path(folder) / "bench.db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE responses (id TEXT PRIMARY KEY, respondent_id TEXT, event_id TEXT, "
                     "question_id TEXT, position INTEGER, text TEXT, redacted_text TEXT, external_id TEXT, "
                     "source TEXT, recorded_by TEXT, created_at TEXT)")
        rows = [(str(uuid.uuid4()), "r", "e", "thrive_helps", 0, t, t, None, "import", "bench", "2026-01-01")
                for t in texts]
        start = time.perf_counter()
        with conn:
            conn.executemany("INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        elapsed = time.perf_counter() - start  # wall time: the floor includes writing to disk
        conn.close()
    return elapsed
