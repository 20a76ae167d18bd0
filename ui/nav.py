"""The one list of pages: file, title, stable URL path and the permission each needs.

app.py builds st.navigation from it; the menu shows a user only the pages their roles allow,
and every page still guards itself, so opening a URL directly without the role shows a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    url_path: str
    permission: str | None  # None: any signed-in user
    section: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/home.py", "Home", ":material/home:", "home", None, "Thrive Voices"),
    PageSpec("pages/collect.py", "Collect answers", ":material/edit_note:", "collect", "collect", "Capture"),
    PageSpec("pages/transcribe.py", "Transcribe post-its", ":material/sticky_note_2:", "transcribe", "transcribe", "Capture"),
    PageSpec("pages/import_answers.py", "Import answers", ":material/upload_file:", "import", "import", "Capture"),
    PageSpec("pages/events.py", "Events", ":material/event:", "events", "manage_events", "Capture"),
    PageSpec("pages/code.py", "Code answers", ":material/label:", "code", "code", "Coding"),
    PageSpec("pages/codebook.py", "Codebook", ":material/menu_book:", "codebook", "codebook", "Coding"),
    PageSpec("pages/agreement.py", "Coder agreement", ":material/group:", "agreement", "code", "Coding"),
    PageSpec("pages/findings.py", "Findings", ":material/insights:", "findings", "findings", "Findings"),
    PageSpec("pages/rounds.py", "Rounds and actions", ":material/timeline:", "rounds", "findings", "Findings"),
    PageSpec("pages/safeguarding.py", "Safeguarding", ":material/shield_person:", "safeguarding", "safeguarding", "Safeguarding"),
    PageSpec("pages/admin.py", "Admin", ":material/admin_panel_settings:", "admin", "manage_users", "Admin"),
)
