"""The one list of pages: file, stable URL path, the permission each needs and its section; titles come from the
interface catalogue (ui/i18n, keys nav.<url_path> and nav.section.<section>).

app.py builds st.navigation from it; the menu shows a user only the pages their roles allow,
and every page still guards itself, so opening a URL directly without the role shows a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from ui.i18n import t


@dataclass(frozen=True)
class PageSpec:
    file: str
    icon: str
    url_path: str
    permission: str | None  # None: any signed-in user
    section: str  # a key: nav.section.<section> in the catalogue

    def title_in(self, lang: str | None) -> str:
        return t(f"nav.{self.url_path}", lang)

    @property
    def title(self) -> str:
        """The English title (tests and the CLI)."""
        return self.title_in(None)


def section_title(section: str, lang: str | None) -> str:
    return t(f"nav.section.{section}", lang)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/home.py", ":material/home:", "home", None, "home"),
    PageSpec("pages/collect.py", ":material/edit_note:", "collect", "collect", "capture"),
    PageSpec("pages/transcribe.py", ":material/sticky_note_2:", "transcribe", "transcribe", "capture"),
    PageSpec("pages/import_answers.py", ":material/upload_file:", "import", "import", "capture"),
    PageSpec("pages/events.py", ":material/event:", "events", "manage_events", "capture"),
    PageSpec("pages/code.py", ":material/label:", "code", "code", "coding"),
    PageSpec("pages/codebook.py", ":material/menu_book:", "codebook", "codebook", "coding"),
    PageSpec("pages/agreement.py", ":material/group:", "agreement", "code", "coding"),
    PageSpec("pages/findings.py", ":material/insights:", "findings", "findings", "findings"),
    PageSpec("pages/rounds.py", ":material/timeline:", "rounds", "findings", "findings"),
    PageSpec("pages/safeguarding.py", ":material/shield_person:", "safeguarding", "safeguarding", "safeguarding"),
    PageSpec("pages/admin.py", ":material/admin_panel_settings:", "admin", "manage_users", "admin"),
)
