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
import json
import os
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
    tapped, started = time.time(), time.perf_counter()
    await page.locator(".st-key-collect_save button").tap()
    await page.wait_for_function(
        "() => { const t = document.querySelector('.st-key-collect_answer_thrive_helps textarea');"
        " return t && t.value === '' && document.body.innerText.includes('Saved. Thank you!'); }", timeout=WAIT_MS)
    taken = time.perf_counter() - started
    SAVES.setdefault(page, []).append((tapped, tapped + taken))
    return taken


#: per page of the running round: (epoch of the Save tap, epoch the confirmation was seen), for the server match
SAVES: dict = {}


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

    SAVES.clear()
    before = cpu_snapshot()
    times = [t for ts in await asyncio.gather(*(one(i, p) for i, p in ready)) for t in ts]
    CPU.update(cpu_delta(before, cpu_snapshot()))
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


CPU: dict[str, float] = {}
SERVER: dict[str, int] = {}
TICK = os.sysconf("SC_CLK_TCK")


def _procs() -> dict[int, tuple[str, int, float]]:
    """pid -> (name, parent pid, CPU seconds user+sys) for every process (/proc; psutil is not installed)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = raw[raw.index("(") + 1:raw.rindex(")")], raw[raw.rindex(")") + 2:].split()
        out[int(entry.name)] = (name, int(rest[1]), (int(rest[11]) + int(rest[12])) / TICK)
    return out


def _tree(procs: dict, root: int) -> set[int]:
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in procs and pid not in found:
            found.add(pid)
            todo += [child for child, (_, parent, _) in procs.items() if parent == pid]
    return found


KINDS = ("server", "chromium", "driver", "bench", "py-spy")


def cpu_snapshot() -> dict:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return {"procs": _procs(), "wall": time.perf_counter(), "machine": (sum(fields) - fields[3] - fields[4]) / TICK}


def cpu_delta(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds used between two snapshots by the server (and its children), Chromium (every browser process
    under this bench), Playwright's driver, this bench, and the whole machine (other people's work included).
    A process that ended in between is not counted (none should: contexts close after the second snapshot)."""
    procs = after["procs"]
    server = _tree(procs, SERVER.get("pid", -1))
    ours = _tree(procs, os.getpid()) - server
    used = {"server": 0.0, "chromium": 0.0, "driver": 0.0, "bench": 0.0, "py-spy": 0.0}
    for pid in server | ours:
        name, _, cpu = procs[pid]
        spent = cpu - before["procs"][pid][2] if pid in before["procs"] and before["procs"][pid][0] == name else cpu
        kind = ("server" if pid in server else "bench" if pid == os.getpid() else "driver" if name == "node"
                else "py-spy" if name == "py-spy" else "chromium")
        used[kind] += spent
    used["machine"] = after["machine"] - before["machine"]
    used["wall"] = after["wall"] - before["wall"]
    return used


def server_breakdown(runs: Path, since: float) -> dict[str, list[float]]:
    """Match every client save (tap, confirmation) to the server's Save run of the same session (ui/run_timing's
    lines; sessions are matched as a whole, one browser page to one server session, by least total gap) and split
    the wait: tap -> run start (queueing: websocket, Tornado, waiting for the script thread), the Save run itself,
    the rest of that session's runs until the confirmation, and last run's end -> confirmation (delivery and
    Chromium rendering, plus the bench's 100 ms-ish polling)."""
    from scipy.optimize import linear_sum_assignment

    records = []
    if runs.exists():
        for line in runs.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r["start"] >= since:
                records.append(r)
    by_session: dict[str, list[dict]] = {}
    for r in sorted(records, key=lambda r: r["start"]):
        by_session.setdefault(r["session"], []).append(r)
    groups = [(h, [r for r in rs if r["save"]]) for h, rs in by_session.items() if any(r["save"] for r in rs)]
    clients = list(SAVES.values())
    out = {k: [] for k in ("queue", "run", "cpu", "callbacks", "save_db", "more_runs", "to_screen", "unmatched")}
    if not groups or not clients:
        return out
    cost = [[sum(max(0.0, r["start"] - tap) if tap - 0.05 <= r["start"] <= done else 1e6
                 for (tap, done), r in zip(saves, rs, strict=False)) + 1e3 * abs(len(saves) - len(rs))
             for _, rs in groups] for saves in clients]
    for ci, gi in zip(*linear_sum_assignment(cost), strict=True):
        hash_, saves_runs = groups[gi]
        for (tap, done), r in zip(clients[ci], saves_runs, strict=False):
            if not tap - 0.05 <= r["start"] <= done:
                out["unmatched"].append(1.0)
                continue
            end = r["start"] + r["duration"]
            later = [x for x in by_session[hash_] if end - 0.001 <= x["start"] <= done and x is not r]
            last_end = max([end, *[x["start"] + x["duration"] for x in later if x["start"] + x["duration"] <= done]])
            out["queue"].append(r["start"] - tap)
            out["run"].append(r["duration"])
            out["cpu"].append(r["cpu"])
            out["callbacks"].append(r["callbacks"])
            out["save_db"].append(r["save_db"])
            out["more_runs"].append(last_end - end)
            out["to_screen"].append(done - last_end)
    return out


def print_breakdown(parts: dict[str, list[float]], used: dict[str, float]) -> None:
    def q(key: str) -> str:
        v = parts[key]
        return f"{statistics.median(v):.2f}/{pct(v, 0.95):.2f}" if v else "-"

    print(f"  server (p50/p95 s, {len(parts['run'])} Save runs matched, {len(parts['unmatched'])} not): "
          f"tap->run start {q('queue')}; Save run {q('run')} (its thread CPU {q('cpu')}, callbacks {q('callbacks')}, "
          f"save_respondent {q('save_db')}); later runs {q('more_runs')}; last run end->on screen {q('to_screen')}")
    if used:
        wall = used["wall"]
        print(f"  CPU over the round ({wall:.1f} s wall, {2 * wall:.1f} core-s on 2 cores): server "
              f"{used['server']:.1f} s ({100 * used['server'] / wall:.0f} % of a core), Chromium "
              f"{used['chromium']:.1f} s ({100 * used['chromium'] / wall:.0f} %), Playwright driver "
              f"{used['driver']:.1f} s, bench {used['bench']:.1f} s, py-spy {used['py-spy']:.1f} s; whole machine "
              f"{used['machine']:.1f} s (other people {used['machine'] - sum(used[k] for k in KINDS):.1f} s);"
              f" load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def top_cumulative(path: Path, top: int = 15) -> None:
    """The top functions by inclusive ('cumulative') share of py-spy's samples, any module (Streamlit, SQLite,
    this project), from its raw collapsed stacks."""
    plumbing = ("(threading.py", "(streamlit/runtime/scriptrunner/", "(ui/run_timing.py",
                "(streamlit/runtime/metrics_util.py", "(<frozen runpy>", "(click/", "(asyncio/runners.py",
                "(asyncio/base_events.py", "(streamlit/web/bootstrap.py", "(streamlit/web/cli.py",
                "(streamlit/__main__.py", "(asyncio/events.py")
    outer = ("<module> (app.py", "main (app.py")
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        for key in {f.rsplit(":", 1)[0] for f in stack.split(";")}:  # the function, any line of it, once a stack
            if key in outer or any(p in key for p in plumbing):
                continue  # threads, Streamlit's runner, this timing wrapper: in every stack, so say nothing
            inclusive[key] = inclusive.get(key, 0) + n
    print(f"py-spy: top {top} functions by cumulative share of {total} samples (GIL-holding threads)")
    for key, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {100 * n / max(total, 1):5.1f} %  {key[:150]})")


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
                        help="record the server with py-spy during one round (raw collapsed stacks)")
    parser.add_argument("--profile-at", type=int, default=None,
                        help="the round py-spy records (default: 10 sessions if asked for, else the largest)")
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

    async def run(url: str, runs: Path) -> int:
        failures = 0
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
            print(f"{'sessions':>8} {'saves':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'p95/1':>6} "
                  f"{'sent':>5} {'stored':>6} {'answers':>7}")
            single = None
            SERVER["pid"] = server_pid(url) or -1
            profile_at = args.profile_at or (10 if 10 in sizes else max(sizes))
            for n in [1, *[s for s in sizes if s != 1]]:  # the single-session figure always first
                tag = f"bench{n}x{int(time.time())}"
                spy = None
                round_start = time.time()
                CPU.clear()
                if args.profile and n == profile_at:
                    pid = SERVER["pid"]
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
                print_breakdown(server_breakdown(runs, round_start), dict(CPU))
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

    runs = folder / "runs.jsonl"  # ui/run_timing: one JSON line per server script run
    env = {"THRIVE_RUN_TIMING": str(runs)}
    if args.no_post_script_gc:
        env["STREAMLIT_RUNNER_POST_SCRIPT_GC"] = "false"
    configured = "postScriptGC = false" in (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    print(f"server: runner.postScriptGC {'off' if args.no_post_script_gc or configured else 'on'}"
          f"{' (.streamlit/config.toml)' if configured and not args.no_post_script_gc else ''}")
    try:
        with streamlit_server(path, env=env) as url:
            failures = asyncio.run(run(url, runs))
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
        top_cumulative(args.profile)
    return 1 if failures or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
