"""Real-browser test support: start `streamlit run app.py` on a free port and drive Debian's Chromium.

Where Chromium or Playwright is missing the browser tests skip with the reason; with
THRIVE_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails the run instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TABLET = {"width": 820, "height": 1180}
#: The server log of each running test server, by base URL (read by tests that check the log).
LOGS: dict[str, Path] = {}


def require_browser() -> str:
    """The Chromium executable, or skip (fail under THRIVE_REQUIRE_BROWSER=1) with the reason."""
    problem = None
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        problem = "Debian's chromium is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if problem:
        if os.environ.get("THRIVE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser test required but {problem}")
        pytest.skip(f"browser test skipped: {problem}")
    return executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_streamlit(script: Path, *, port: int | None = None, env: dict[str, str] | None = None,
                  log_path: Path | None = None, cwd: Path = ROOT) -> Iterator[str]:
    """`streamlit run script` headless on a loopback port (a free one unless given, so that a restart can come back
    where the page expects it); yield its base URL once it answers its health check; stop it afterwards."""
    port = port or free_port()
    log_path = log_path or script.parent / f"streamlit-{port}.log"
    environment = {**os.environ, **(env or {})}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless=true",
             f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
             "--server.fileWatcherType=none"],
            cwd=cwd, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            LOGS[url] = log_path
            deadline = time.time() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"streamlit did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@contextlib.contextmanager
def streamlit_server(db_path: Path, env: dict[str, str] | None = None, *, port: int | None = None,
                     log_name: str | None = None) -> Iterator[str]:
    """Run the app against `db_path` on a loopback port (free unless given); yield its base URL; stop it afterwards."""
    port = port or free_port()
    with run_streamlit(ROOT / "app.py", port=port, env={"THRIVE_DB": str(db_path), **(env or {})},
                       log_path=db_path.parent / (log_name or f"streamlit-{port}.log")) as url:
        yield url


@contextlib.contextmanager
def tablet_page(executable: str) -> Iterator[object]:
    """A Playwright page in Chromium at the tablet viewport (820x1180, touch)."""
    from playwright.sync_api import expect, sync_playwright

    # every expect(...) waits up to 20 s for its condition (Playwright's default is 5 s): CI is a busy 2-core machine
    expect.set_options(timeout=20_000)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport=TABLET, has_touch=True, device_scale_factor=1)
            page = context.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            browser.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot under test-artifacts/ (git-ignored) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_app(page) -> None:
    """Wait until Streamlit has finished running the script (no 'Running...' status)."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')"
    )
    time.sleep(0.3)


def sign_in(page, url: str, name: str, secret: str, path: str = "") -> None:
    """Open `url/path` and sign in through the real form, as a person would; the page asked for opens after."""
    page.goto(f"{url}/{path}" if path else url)
    wait_for_app(page)
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password or PIN").fill(secret)
    page.get_by_role("button", name="Sign in").tap()
    page.get_by_text("Signed in as").first.wait_for()
    wait_for_app(page)


def start_collecting(page) -> None:
    """On the Collect page's event chooser: start collecting at the chosen event."""
    page.get_by_role("button", name="Start collecting").tap()
    page.get_by_text("Who is this person?").wait_for()
    wait_for_app(page)


def choose_group_and_consent(page, group: str) -> None:
    """Tap the respondent's group, then the consent tick, as a peer researcher would."""
    page.locator(".st-key-collect_group").get_by_role("radio", name=group).tap()
    wait_for_app(page)
    page.locator(".st-key-collect_consent").get_by_text("They agree to take part").tap()
    wait_for_app(page)


def server_log(url: str) -> str:
    """What the server started by streamlit_server at `url` has logged so far."""
    return LOGS[url].read_text(errors="replace")


def open_page(page, title: str) -> None:
    """Open a page through the top bar's Menu, as a person on a tablet would (the sidebar starts collapsed)."""
    link = page.locator('[data-testid="stPopoverBody"]').get_by_role("link", name=title).first
    if not link.is_visible():  # the menu may still be open from the last page
        page.locator('[class*="st-key-topbar_menu"] button').first.tap()
    link.tap()
    wait_for_app(page)


def seed_event_db(path: Path, *, procedure: str | None = None):
    """A database at `path` with an admin (password123456), the peer researcher pia (PIN 482193) and one open event
    ("Family fun day"); with `procedure`, the local safeguarding procedure. Returns the event."""
    from data import accounts, open_db, settings
    from data.events import create_event

    db = open_db(path)
    try:
        accounts.create_user(db, None, "admin", "password123456", ["admin"])
        admin = accounts.sign_in(db, "admin", "password123456")
        accounts.create_user(db, admin, "pia", "482193", ["peer_researcher"], kind="pin", display_name="Pia")
        if procedure is not None:
            settings.put(db, admin, "safeguarding_procedure", procedure)
        return create_event(db, admin, name="Family fun day", date="2026-11-20", venue="Stourbridge library")
    finally:
        db.conn.close()


def answer_box(page, question_id: str):
    """The Collect page's text box for one question."""
    return page.locator(f".st-key-collect_answer_{question_id} textarea")
