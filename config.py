"""Configuration for Thrive Voices: one place for every setting.

Values come from environment variables (then `.streamlit/secrets.toml` is never needed for a laptop);
every default works on a laptop with no set-up.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent

#: SQLite database file. The CLI's --db wins over this.
DEFAULT_DB_PATH = ROOT / "data" / "thrive.db"


def db_path() -> Path:
    """The database path: env THRIVE_DB, else data/thrive.db beside the code."""
    return Path(os.environ.get("THRIVE_DB") or DEFAULT_DB_PATH)


#: Longest answer accepted, in characters (a post-it holds far less; this stops pasted essays
#: and runaway imports while leaving room for a long transcribed comment).
MAX_ANSWER_CHARS = int(os.environ.get("THRIVE_MAX_ANSWER_CHARS", "2000"))

#: Longest answer an import accepts, in characters: survey tools and NHS comment files hold long answers
#: (real comments of 2,178 and 3,967 characters), so an import is not bound by the capture limit above.
IMPORT_MAX_ANSWER_CHARS = int(os.environ.get("THRIVE_IMPORT_MAX_ANSWER_CHARS", "20000"))

#: The area named in question 4 ("...thrive in our area?"), unless an event sets its own.
AREA_NAME = os.environ.get("THRIVE_AREA", "our area")

#: Default local safeguarding procedure, shown to a peer researcher when a flag is raised.
#: An admin can replace it in the app (stored in the settings table).
DEFAULT_SAFEGUARDING_PROCEDURE = os.environ.get(
    "THRIVE_SAFEGUARDING_PROCEDURE",
    "Stay calm and listen. Do not promise to keep a secret and do not ask leading questions.\n"
    "Tell the event lead or the designated safeguarding lead straight away, before the person leaves if you can.\n"
    "If a child is in immediate danger, call 999.\n"
    "Children's Services front door (multi-agency safeguarding hub): 0300 555 0050 (office hours).\n"
    "Emergency duty team (evenings and weekends): 0300 555 8574.\n"
    "Write down what was said, in their words, as soon as you can.",
)

#: Minutes of inactivity after which a signed-in user is signed out (shared tablets).
IDLE_TIMEOUT_MINUTES = int(os.environ.get("THRIVE_IDLE_TIMEOUT_MINUTES", "15"))

#: Days after which original answer texts are purged, leaving only the redacted text (0: keep originals).
#: An admin can change it in the app (settings table); `python cli.py retention apply` or the admin page applies it.
RETENTION_DAYS = int(os.environ.get("THRIVE_RETENTION_DAYS", "730"))

#: Statistical disclosure control: cells with fewer respondents than this are shown as "<N".
SMALL_CELL_THRESHOLD = int(os.environ.get("THRIVE_SMALL_CELL_THRESHOLD", "5"))

#: SQLite busy timeout, milliseconds: how long a writer waits for another to finish.
BUSY_TIMEOUT_MS = int(os.environ.get("THRIVE_BUSY_TIMEOUT_MS", "10000"))

#: Import limits (data/importer.py), checked before a file is read whole, so that no upload can exhaust the laptop
#: that serves every tablet. Rows: answer rows after the header (the Big Ask, the largest consultation so far, had
#: 550,000 answers). Size: a CSV's bytes, or everything inside an .xlsx once unpacked (an .xlsx is a zip file).
IMPORT_MAX_ROWS = int(os.environ.get("THRIVE_IMPORT_MAX_ROWS", "600000"))
IMPORT_MAX_MB = int(os.environ.get("THRIVE_IMPORT_MAX_MB", "400"))
