"""Benchmark: what one capture tap costs the server (issue 14 item 2), on a copy of a big database.

Two measurements of the Collect page, each repeated --repeat times:
- in-process (AppTest, cProfile): CPU of the page script for a keystroke commit (one answer box sent) and for a
  Save (the respondent stored, the form cleared, the counters redrawn), with the top functions by own time;
- a real server (`streamlit run app.py`, Chromium 820x1180 touch): the server process's CPU (utime+stime from
  /proc) and the wall time per keystroke commit and per Save, which is where fragments show (AppTest always runs
  the whole script).

Run: python bench/bench_capture_rerun.py --db /tmp/me/db550k.db [--repeat 10] [--skip-browser]
The database is copied first and never written (opening applies migrations to the copy). Loopback only.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data import accounts, events, open_db, sessions  # noqa: E402
from data.users import User  # noqa: E402

RESEARCHER, PIN = "bench_researcher", "482193"
QUESTIONS = ("thrive_helps", "thrive_stops", "neglect_is", "thrive_local")


def prepare(source: Path, folder: Path) -> tuple[Path, str]:
    """Copy the database, add a researcher, and return (path, the open event with the most respondents)."""
    path = folder / "thrive.db"
    shutil.copyfile(source, path)
    db = open_db(path)
    try:
        if not accounts.has_admin(db):
            accounts.create_user(db, None, "bench_admin", "bench-password-1", ["admin"])
        admin = accounts.sign_in(db, "bench_admin", "bench-password-1") if db.execute(
            "SELECT 1 FROM users WHERE username = 'bench_admin'").fetchone() else None
        if not db.execute("SELECT 1 FROM users WHERE username = ?", [RESEARCHER]).fetchone():
            accounts.create_user(db, admin, RESEARCHER, PIN, ["peer_researcher"], kind="pin", display_name="Pia")
        row = db.execute("SELECT e.id FROM events e JOIN respondents r ON r.event_id = e.id WHERE e.status = 'open' "
                         "GROUP BY e.id ORDER BY COUNT(*) DESC LIMIT 1").fetchone()
        event_id = row[0] if row else events.list_events(db, status="open")[0].id
    finally:
        db.conn.close()
    return path, event_id


def _top(profile: cProfile.Profile, n: int = 12) -> str:
    """The functions of this project (and sqlite) taking the most time, inclusive."""
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(f"{ROOT}|sqlite3", n)
    lines = [x for x in out.getvalue().splitlines() if x.strip()]
    start = next((i for i, x in enumerate(lines) if x.lstrip().startswith("ncalls")), 0)
    return "\n".join("    " + x for x in lines[start:start + n + 1])


class ScriptProfile:
    """cProfile of the script threads AppTest starts (one per run), while enabled."""

    def __init__(self) -> None:
        self.profile = cProfile.Profile(time.thread_time)  # CPU of the script thread, not wall under load

    def _hook(self, *_args) -> None:
        sys.setprofile(None)
        self.profile.enable()

    def __enter__(self) -> ScriptProfile:
        threading.setprofile(self._hook)
        return self

    def __exit__(self, *_exc) -> None:
        threading.setprofile(None)


def in_process(path: Path, event_id: str, repeat: int) -> None:
    from streamlit.testing.v1 import AppTest

    os.environ["THRIVE_DB"] = str(path)
    db = open_db(path, migrate=False)
    user = User(RESEARCHER, frozenset({"peer_researcher"}), "Pia")
    device = sessions.start(db, RESEARCHER)[1].id
    db.conn.close()
    at = AppTest.from_file(str(ROOT / "pages" / "collect.py"), default_timeout=120)
    at.session_state["auth_user"] = user
    at.session_state["auth_session_id"] = device
    at.session_state["collect_event_id"] = event_id
    at.run()
    assert not at.exception, at.exception
    results: dict[str, list[float]] = {"keystroke commit": [], "Save": []}
    profiles = {name: ScriptProfile() for name in results}
    for k in range(repeat):
        at.pills(key="collect_group").set_value("young_person")
        at.checkbox(key="collect_consent").set_value(True)
        at.run()
        for q in QUESTIONS:
            at.text_area(key=f"collect_answer_{q}").input(f"bench {k} {q} a youth club")
            started = time.process_time()
            with profiles["keystroke commit"]:
                at.run()
            results["keystroke commit"].append(time.process_time() - started)
        started = time.process_time()
        with profiles["Save"]:
            at.button(key="collect_save").click().run()
        results["Save"].append(time.process_time() - started)
        assert not at.exception, at.exception
        assert at.text_area(key="collect_answer_thrive_helps").value == "", "the Save did not clear the form"
    print("in-process (AppTest, whole script each run), CPU ms per run:")
    for name, values in results.items():
        print(f"  {name:>16}: median {1000 * statistics.median(values):.1f} ms, max {1000 * max(values):.1f} ms "
              f"({len(values)} runs)")
        print(_top(profiles[name].profile))


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_browser(path: Path, event_id: str, repeat: int) -> None:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        print("real server: skipped (Debian's chromium is not installed)")
        return
    from playwright.sync_api import sync_playwright

    from tests.browser_support import CHROMIUM_FLAGS, TABLET, streamlit_server

    def settle(page) -> None:
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
                               " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText"
                               ".includes('Running')", timeout=120_000)
        page.wait_for_timeout(150)  # a rerun that has not shown its status yet

    with streamlit_server(path) as url, sync_playwright() as pw:
        port = url.rsplit(":", 1)[1]
        pids = [int(p) for p in os.popen(f"pgrep -f server.port={port}").read().split()]
        pid = pids[0]
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_context(viewport=TABLET, has_touch=True).new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{url}/collect")
        settle(page)
        page.get_by_label("Username").fill(RESEARCHER)
        page.get_by_label("Password or PIN").fill(PIN)
        page.get_by_role("button", name="Sign in").tap()
        page.get_by_text("Signed in as").first.wait_for()
        select = page.locator(".st-key-collect_event_choice")
        if select.count():
            title = open_db(path, migrate=False).execute("SELECT name FROM events WHERE id = ?",
                                                        [event_id]).fetchone()[0]
            select.click()
            page.get_by_role("option", name=title).first.click()
            page.get_by_role("button", name="Start collecting").tap()
        page.get_by_text("Who is this person?").wait_for()
        settle(page)
        results: dict[str, list[tuple[float, float]]] = {"keystroke commit": [], "Save": []}
        for k in range(repeat):
            page.locator(".st-key-collect_group").get_by_role("radio", name="Young person").tap()
            settle(page)
            consent = page.locator(".st-key-collect_consent input")
            if not consent.is_checked():
                page.locator(".st-key-collect_consent").get_by_text("They agree to take part").tap()
                settle(page)
            for q in QUESTIONS:
                box = page.locator(f".st-key-collect_answer_{q} textarea")
                box.tap()
                settle(page)
                box.fill(f"bench {k} {q} a youth club")
                cpu, wall = _cpu(pid), time.perf_counter()
                page.locator('[data-testid="stMainBlockContainer"] h4').first.click()  # leaving the box sends it
                settle(page)
                results["keystroke commit"].append((_cpu(pid) - cpu, time.perf_counter() - wall))
            cpu, wall = _cpu(pid), time.perf_counter()
            page.locator(".st-key-collect_save button").tap()
            page.wait_for_function(
                "() => { const t = document.querySelector('.st-key-collect_answer_thrive_helps textarea');"
                " return t && t.value === '' && document.body.innerText.includes('Saved. Thank you!'); }")
            settle(page)
            results["Save"].append((_cpu(pid) - cpu, time.perf_counter() - wall))
        browser.close()
    print("real server (streamlit run app.py, Chromium), per tap; server CPU includes 150 ms of settling idle:")
    for name, values in results.items():
        cpus, walls = [c for c, _ in values], [w for _, w in values]
        print(f"  {name:>16}: server CPU median {1000 * statistics.median(cpus):.0f} ms, "
              f"wall to settled median {1000 * statistics.median(walls):.0f} ms ({len(values)} taps)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a database to copy (never written)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    try:
        path, event_id = prepare(args.db, folder)
        db = open_db(path, migrate=False)
        people, answers = db.execute("SELECT (SELECT COUNT(*) FROM respondents WHERE event_id = ?), "
                                     "(SELECT COUNT(*) FROM responses)", [event_id, ]).fetchone()
        db.conn.close()
        print(f"database: {answers:,} answers; the event used holds {people:,} respondents; load "
              f"{os.getloadavg()[0]:.1f}")
        in_process(path, event_id, args.repeat)
        if not args.skip_browser:
            in_browser(path, event_id, args.repeat)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
