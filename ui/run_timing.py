"""Server-side timing of every script run, for the concurrency benchmark (issue 14 item 1). Off unless the
environment variable THRIVE_RUN_TIMING names a file; then each finished script run appends one JSON line:

    {"page": "collect", "session": "3f9a0c1b2d4e", "start": 1764639000.123, "duration": 0.412, "cpu": 0.188,
     "callbacks": 0.161, "save_db": 0.052, "save": true, "fragment": false}

`session` is a short hash of Streamlit's session id (never a sign-in token, cookie or anything typed); `start` is
the epoch time the server's script thread began the run (before the widget callbacks, where Save does its work);
`cpu` the script thread's own CPU seconds in the run (the rest of `duration` is waiting: for the GIL, SQLite's lock,
I/O); `callbacks` the seconds in widget callbacks (on_click/on_change); `save_db` the seconds inside
data.capture.save_respondent (the transaction that stores a respondent); `save` whether the run was triggered by
the Collect page's Save button (widget key `collect_save`).

app.py calls install() once per run; with the variable unset it returns at once and nothing is patched. With it
set, ScriptRunner._run_script and SessionState.on_script_will_rerun are wrapped once per process (Streamlit 1.67
internals: if they move, install() leaves Streamlit as it is and says so in the log).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
import time

ENV = "THRIVE_RUN_TIMING"
SAVE_KEY = "collect_save"

log = logging.getLogger(__name__)
_lock = threading.Lock()
_local = threading.local()
_installed = False


def target() -> str | None:
    """The file to append to, or None (timing off)."""
    return os.environ.get(ENV) or None


def session_hash(session_id: str) -> str:
    return hashlib.sha256(f"thrive-run-timing:{session_id}".encode()).hexdigest()[:12]


def write(path: str, record: dict) -> None:
    """Append one record as a JSON line (one write under a lock: lines from concurrent runs never interleave)."""
    line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as out:
        out.write(line)


def _triggered_save(rerun_data) -> bool:
    states = getattr(rerun_data, "widget_states", None)
    if states is None:
        return False
    for w in states.widgets:
        # widget ids are "$$ID-<hash>-<user key>"; a button's tap arrives as trigger_value
        if w.id.endswith("-" + SAVE_KEY) and w.WhichOneof("value") == "trigger_value" and w.trigger_value:
            return True
    return False


def _page_of(ctx) -> str:
    try:
        info = ctx.pages_manager.get_pages().get(ctx.page_script_hash) or {}
        return str(info.get("url_pathname") or "") or "home"
    except Exception:  # noqa: BLE001 - a label only
        return "?"


def _add(name: str, seconds: float) -> None:
    acc = getattr(_local, "acc", None)
    if acc is not None:
        acc[name] = acc.get(name, 0.0) + seconds


def _timed(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if getattr(_local, "acc", None) is None:
            return fn(*args, **kwargs)
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _add(name, time.perf_counter() - started)

    wrapper.__run_timing__ = True
    return wrapper


def _wrap_run_script(original):
    @functools.wraps(original)
    def _run_script(self, rerun_data):
        path = target()
        if path is None:
            return original(self, rerun_data)
        _local.acc = {}
        start, wall, cpu = time.time(), time.perf_counter(), time.thread_time()
        save = _triggered_save(rerun_data)
        fragment = bool(getattr(rerun_data, "fragment_id_queue", None))
        try:
            return original(self, rerun_data)
        finally:
            acc, _local.acc = _local.acc, None
            record = {"page": "?", "session": session_hash(str(getattr(self, "_session_id", ""))),
                      "start": round(start, 4), "duration": round(time.perf_counter() - wall, 4),
                      "cpu": round(time.thread_time() - cpu, 4), "callbacks": round(acc.get("callbacks", 0.0), 4),
                      "save_db": round(acc.get("save_db", 0.0), 4), "save": save, "fragment": fragment}
            try:
                from streamlit.runtime.scriptrunner import get_script_run_ctx

                ctx = get_script_run_ctx(suppress_warning=True)
                if ctx is not None:
                    record["page"] = _page_of(ctx)
                write(path, record)
            except Exception:  # noqa: BLE001 - timing must never break a run
                log.exception("run timing: could not write a record")

    _run_script.__run_timing__ = True
    return _run_script


def install() -> bool:
    """Wrap Streamlit's script runner once per process when THRIVE_RUN_TIMING is set; True when timing is on."""
    global _installed
    if target() is None:
        return False
    if _installed:
        return True
    with _lock:
        if _installed:
            return True
        try:
            from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
            from streamlit.runtime.state.session_state import SessionState

            from data import capture
        except ImportError:
            log.warning("run timing: Streamlit internals not found; timing stays off")
            return False
        if not getattr(ScriptRunner._run_script, "__run_timing__", False):
            ScriptRunner._run_script = _wrap_run_script(ScriptRunner._run_script)
        if not getattr(SessionState.on_script_will_rerun, "__run_timing__", False):
            SessionState.on_script_will_rerun = _timed("callbacks", SessionState.on_script_will_rerun)
        if not getattr(capture.save_respondent, "__run_timing__", False):
            capture.save_respondent = _timed("save_db", capture.save_respondent)
        _installed = True
    log.info("run timing on: one JSON line per script run in %s", target())
    return True
