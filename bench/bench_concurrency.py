"""Benchmark: ten tablets on one laptop (issue 14 item 5). Starts `streamlit run app.py` on a generated database,
drives N browser sessions at once (Playwright + Debian Chromium, one context each, signed in as the demo peer
researcher), each recording respondents as a researcher would (group, consent, one answer per question, Save, wait
for the confirmation), and prints save-to-confirmation p50/p95/max per N beside the single-session figure of the
same run, sent against stored (nothing lost or doubled), the Code page's first open and tap times for one officer,
and the server log's model errors.

Run: python bench/bench_concurrency.py --answers 20000 --sessions 1,5,10,20 [--saves 3] [--profile prof.txt]
Targets (issue 14): 10 sessions p95 <= 1.0 s, 20 sessions p95 <= 2.0 s, 1 session p95 <= 0.3 s; Code page first
open <= 5 s, a tap <= 300 ms; no model errors. Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_findings import build  # noqa: E402
from data import accounts, open_db  # noqa: E402
from data.demo import DEMO_PASSWORD, DEMO_PIN  # noqa: E402
from tests.browser_support import CHROMIUM_FLAGS, TABLET, streamlit_server  # noqa: E402

QUESTIONS = ("thrive_helps", "thrive_stops", "neglect_is", "thrive_local")
GROUPS = ("Young person", "Parent or carer")
RESEARCHER, OFFICER = "demo_researcher", "demo_officer"
MODEL_ERRORS = re.compile(r"inconsistent numbers of samples|IndexError|suggestion model worker failed|"
                          r"suggestions unavailable|suggestion failed|Traceback")
WAIT_MS = 60_000


def make_database(path: Path, answers: int, codings: int, source: Path | None = None) -> float:
    """Build the bench database at `path`, or copy `source` there (a database built before, e.g. by bench_export
    at 550,000 answers; never written itself), and add the bench's accounts."""
    started = time.perf_counter()
    if source is not None:
        shutil.copyfile(source, path)
    else:
        build(path, answers=answers, respondents=max(1, answers // 3), codings=codings)
    db = open_db(path)
    taken = {name for (name,) in db.execute("SELECT username FROM users")}
    if "bench_admin" in taken:
        db.conn.close()
        return time.perf_counter() - started
    accounts.create_user(db, None, "bench_admin", "bench-password-1", ["admin"])
    admin = accounts.sign_in(db, "bench_admin", "bench-password-1")
    accounts.create_user(db, admin, RESEARCHER, DEMO_PIN, ["peer_researcher"], kind="pin", display_name="Researcher")
    accounts.create_user(db, admin, OFFICER, DEMO_PASSWORD, ["engagement_officer"], display_name="Officer")
    db.conn.close()
    return time.perf_counter() - started


async def settle(page) -> None:
    """Wait until Streamlit has finished the script run (no 'Running...' status)."""
    await page.wait_for_selector('[data-testid="stApp"]')
    await page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=WAIT_MS)


async def sign_in(page, url: str, name: str, secret: str, path: str = "") -> None:
    await page.goto(f"{url}/{path}" if path else url)
    await settle(page)
    await page.get_by_label("Username").fill(name)
    await page.get_by_label("Password or PIN").fill(secret)
    await page.get_by_role("button", name="Sign in").tap()
    await page.get_by_text("Signed in as").first.wait_for(timeout=WAIT_MS)
    await settle(page)


async def open_collect(page, url: str) -> None:
    await sign_in(page, url, RESEARCHER, DEMO_PIN, path="collect")  # signing in opens the page asked for
    await page.get_by_role("button", name="Start collecting").tap()
    await page.get_by_text("Who is this person?").wait_for(timeout=WAIT_MS)
    await settle(page)


async def record(page, marker: str, k: int) -> float:
    """One respondent as a researcher records them; seconds from the Save tap to the confirmation."""
    await page.locator(".st-key-collect_group").get_by_role("radio", name=GROUPS[k % 2]).tap()
    await settle(page)
    await page.locator(".st-key-collect_consent").get_by_text("They agree to take part").tap()
    await settle(page)
    for question in QUESTIONS:
        box = page.locator(f".st-key-collect_answer_{question} textarea")
        await box.tap()
        await box.fill(f"{marker} {question} a youth club and someone to talk to")
    await page.locator(".st-key-collect_group").tap()  # leaving the last box commits it, as a finger would
    await settle(page)
    started = time.perf_counter()
    await page.locator(".st-key-collect_save button").tap()
    await page.wait_for_function(
        "() => { const t = document.querySelector('.st-key-collect_answer_thrive_helps textarea');"
        " return t && t.value === '' && document.body.innerText.includes('Saved. Thank you!'); }", timeout=WAIT_MS)
    return time.perf_counter() - started


async def researchers(browser, url: str, n: int, saves: int, tag: str) -> tuple[list[float], int, list[str]]:
    contexts = [await browser.new_context(viewport=TABLET, has_touch=True) for _ in range(n)]
    pages = [await c.new_page() for c in contexts]
    problems: list[str] = []
    for page in pages:
        page.set_default_timeout(WAIT_MS)
    ready = []
    for i, page in enumerate(pages):  # one after another: N PIN checks (argon2) at once is not what is measured
        try:
            await open_collect(page, url)
            ready.append((i, page))
        except Exception as exc:  # noqa: BLE001 - reported; its saves count as not sent
            problems.append(f"session {i} could not sign in: {exc.__class__.__name__}: {str(exc)[:120]}")

    async def one(i: int, page) -> list[float]:
        out = []
        for k in range(saves):
            try:
                out.append(await record(page, f"{tag}-s{i}-r{k}", k))
            except Exception as exc:  # noqa: BLE001 - counted as lost below, reported
                problems.append(f"session {i} save {k}: {exc.__class__.__name__}: {str(exc)[:120]}")
        return out

    times = [t for ts in await asyncio.gather(*(one(i, p) for i, p in ready)) for t in ts]
    for c in contexts:
        await c.close()
    return times, len(ready) * saves, problems


async def officer(browser, url: str, taps: int) -> dict[str, float]:
    """First open of the Code page (from the Sign in tap) until the answer card shows, then `taps` pill taps."""
    context = await browser.new_context(viewport=TABLET, has_touch=True)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    await page.goto(f"{url}/code")  # signing in opens the page asked for
    await settle(page)
    await page.get_by_label("Username").fill(OFFICER)
    await page.get_by_label("Password or PIN").fill(DEMO_PASSWORD)
    started = time.perf_counter()
    await page.get_by_role("button", name="Sign in").tap()
    await page.locator(".st-key-code_card").wait_for(timeout=WAIT_MS * 10)
    await settle(page)
    first_open = time.perf_counter() - started
    prepared = await page.get_by_text("Suggestions are being prepared").count() > 0
    tap_times = []
    for _ in range(taps):
        pill = page.locator('[class*="st-key-code_pills_"] button').first
        started = time.perf_counter()
        await pill.tap()
        await page.wait_for_timeout(50)
        await settle(page)
        tap_times.append(time.perf_counter() - started)
        await page.get_by_role("button", name="Next ▶").tap()
        await settle(page)
    await context.close()
    return {"first_open": first_open, "prepared_shown": float(prepared),
            "tap_p50": statistics.median(tap_times) if tap_times else float("nan"),
            "tap_max": max(tap_times) if tap_times else float("nan")}


def summarise_profile(path: Path, top: int = 12) -> None:
    """Top costs in py-spy's raw collapsed stacks: per page script (and the model worker), the share of that
    page's samples spent in each function of this project (inclusive), biggest first."""
    pages = {f.name for f in (ROOT / "pages").glob("*.py")}
    ours = ("analysis/", "data/", "ui/", "exports/", "surveys/", "app.py", *pages)
    groups: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    all_samples = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        all_samples += n
        frames = [(f.partition(" (")[0], f.partition(" (")[2].rsplit(":", 1)[0]) for f in stack.split(";")]
        where = next((file for _, file in frames if file in pages or file.endswith("model_service.py")), None)
        if where is None:
            continue
        totals[where] = totals.get(where, 0) + n
        seen = set()
        for name, file in frames:
            if file.startswith(ours) and file not in pages and file != "app.py":
                key = f"{file}:{name}"
                if key not in seen:
                    seen.add(key)
                    groups.setdefault(where, {})[key] = groups.setdefault(where, {}).get(key, 0) + n
    print(f"profile: {all_samples} samples of the server's threads")
    for where, total in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {where}: {total} samples ({100 * total / max(all_samples, 1):.0f} %); inside it:")
        for key, n in sorted(groups.get(where, {}).items(), key=lambda kv: -kv[1])[:top]:
            print(f"    {100 * n / total:5.1f} %  {key}")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def stored(path: Path, tag: str) -> tuple[int, int]:
    """(respondents, answers) stored under this run's marker."""
    db = open_db(path, migrate=False)
    try:
        like = f"{tag}-%"
        answers = db.execute("SELECT count(*) FROM responses WHERE text LIKE ?", [like]).fetchone()[0]
        people = db.execute("SELECT count(DISTINCT respondent_id) FROM responses WHERE text LIKE ?",
                            [like]).fetchone()[0]
        return people, answers
    finally:
        db.conn.close()


def server_pid(port_url: str) -> int | None:
    port = port_url.rsplit(":", 1)[1]
    out = subprocess.run(["pgrep", "-f", f"server.port={port}"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--codings", type=int, default=None, help="default: twice the answers")
    parser.add_argument("--sessions", default="1,5,10,20")
    parser.add_argument("--saves", type=int, default=3, help="respondents recorded by each session per round")
    parser.add_argument("--taps", type=int, default=5, help="officer taps on the Code page (0: skip)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="record the server with py-spy during the largest round (raw collapsed stacks)")
    parser.add_argument("--model-wait", type=float, default=1800,
                        help="seconds to wait for the model before the second officer probe")
    parser.add_argument("--db", type=Path, default=None,
                        help="copy this database instead of building one (--answers/--codings are then ignored)")
    parser.add_argument("--no-post-script-gc", action="store_true",
                        help="run the server with runner.postScriptGC off (Streamlit's full gc.collect() after "
                             "every script run, the largest cost in the profile under many sessions)")
    args = parser.parse_args()
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        print("Debian's chromium is not installed (apt-get install chromium)")
        return 2
    from playwright.async_api import async_playwright

    sizes = [int(s) for s in args.sessions.split(",") if s.strip()]
    codings = args.codings if args.codings is not None else 2 * args.answers
    folder = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    path = folder / "thrive.db"
    built = make_database(path, args.answers, codings, args.db)
    if args.db is not None:
        db = open_db(path)
        args.answers = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        codings = db.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
        db.conn.close()
    print(f"database: {args.answers:,} answers, {codings:,} codings, {'copied' if args.db else 'built'} in "
          f"{built:.1f} s")

    async def run(url: str) -> int:
        failures = 0
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
            print(f"{'sessions':>8} {'saves':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'p95/1':>6} "
                  f"{'sent':>5} {'stored':>6} {'answers':>7}")
            single = None
            for n in [1, *[s for s in sizes if s != 1]]:  # the single-session figure always first
                tag = f"bench{n}x{int(time.time())}"
                spy = None
                if args.profile and n == max(sizes):
                    pid = server_pid(url)
                    if pid and shutil.which("py-spy"):
                        spy = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--format", "raw", "--gil",
                                                "--rate", "50", "-o", str(args.profile), "--duration", "600"],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times, sent, problems = await researchers(browser, url, n, args.saves, tag)
                if spy is not None:
                    spy.send_signal(2)  # SIGINT: py-spy writes what it has
                    spy.wait(timeout=60)
                people, answers = stored(path, tag)
                p95 = pct(times, 0.95)
                if n == 1:
                    single = p95
                ratio = p95 / single if single else float("nan")
                print(f"{n:>8} {len(times):>6} {statistics.median(times) if times else float('nan'):>7.2f} "
                      f"{p95:>7.2f} {max(times) if times else float('nan'):>7.2f} {ratio:>6.1f} "
                      f"{sent:>5} {people:>6} {answers:>7}")
                if people != sent or answers != 4 * sent or len(times) != sent:
                    failures += 1
                    print(f"  LOST OR DOUBLED: sent {sent} respondents ({4 * sent} answers), stored {people} "
                          f"({answers})")
                for p in problems[:5]:
                    print(f"  problem: {p}")
            if args.taps:
                from data.model_service import cache_dir

                for label in ("no model yet", "model ready"):
                    if label == "model ready":  # wait (bounded) for the worker's model to be on disk
                        deadline = time.time() + args.model_wait
                        while not (cache_dir(path) / "meta.json").exists() and time.time() < deadline:
                            await asyncio.sleep(2)
                    o = await officer(browser, url, args.taps)
                    print(f"Code page, one officer ({label}): first open {o['first_open']:.2f} s"
                          f"{' (said: suggestions being prepared)' if o['prepared_shown'] else ''}; "
                          f"tap p50 {o['tap_p50'] * 1000:.0f} ms, max {o['tap_max'] * 1000:.0f} ms")
            await browser.close()
        return failures

    env = {"STREAMLIT_RUNNER_POST_SCRIPT_GC": "false"} if args.no_post_script_gc else None
    configured = "postScriptGC = false" in (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    print(f"server: runner.postScriptGC {'off' if args.no_post_script_gc or configured else 'on'}"
          f"{' (.streamlit/config.toml)' if configured and not args.no_post_script_gc else ''}")
    try:
        with streamlit_server(path, env=env) as url:
            failures = asyncio.run(run(url))
            log = path.parent / f"streamlit-{url.rsplit(':', 1)[1]}.log"
        return report(args, log, failures)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(args, log: Path, failures: int) -> int:
    errors = [line for line in log.read_text(errors="replace").splitlines() if MODEL_ERRORS.search(line)]
    print(f"server log: {len(errors)} model/traceback lines" + (":" if errors else ""))
    for line in errors[:10]:
        print(f"  {line[:160]}")
    if args.profile and args.profile.exists():
        print(f"py-spy profile (raw collapsed stacks) in {args.profile}")
        summarise_profile(args.profile)
    return 1 if failures or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
