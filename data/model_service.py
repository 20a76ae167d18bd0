"""One suggestion model per database and server process: built and refreshed by a background worker thread, kept
on disk beside the database between server starts, and read by every officer's session without waiting.

Why a module-level registry (a departure from DESIGN.md's "no module-level mutable state"): the model is derived,
read-only state keyed on the database path and the data versions it was built from; one per session cost each
officer minutes of liblinear and gigabytes of memory at scale (issue 14 item 3). The registry holds only services
keyed on the resolved path; connections are never shared (the worker opens its own).

Consistency: a published model is never changed again. The worker is the only writer: it builds a NEW model from
the database inside one read transaction (so the model and the versions it is labelled with describe the same
codings), then swaps the reference under a lock. Readers take the reference and use it; two codings can never
overlap inside one model (the failure of issue 14: `add()` from two sessions at once). A tap only tells the worker
that codings changed (`notify`); it never fits anything.

When a model is stale: after codings changed, the last model stays in use while a newer one is built (the page
says so). After an answer is flagged or released, or an erasure, the last model may hold words that must no longer
be quoted, so it is not used at all until rebuilt. After a codebook change it is used, its suggestions limited by
the page to codes that still exist. A rebuild that only codings asked for waits at least REBUILD_GAP_FACTOR times
the last build's duration after the previous one, so a big project's builds take at most a third of one core.

On disk: `<database file>.model/` holds `suggester.pkl` and `meta.json` (the versions, the engine fingerprint);
a file that fails to load, or was built by other engine code, is ignored and rebuilt. The pickle holds the redacted
texts of coded answers, as the database does; it is deleted and never used after an erasure or a flag changes.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import hashlib
import importlib
import json
import logging
import os
import pickle
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from data.users import User, cli_user, require

log = logging.getLogger(__name__)

#: seconds between the worker's own checks of the database for codings made elsewhere (CLI imports, other servers)
POLL_SECONDS = float(os.environ.get("THRIVE_MODEL_POLL_SECONDS", "3"))
#: after codings only, wait this long after a tap before rebuilding (taps come in bursts)
DEBOUNCE_SECONDS = 0.5
#: after codings only, the next build starts no sooner than this many times the last build's duration after it
REBUILD_GAP_FACTOR = 2.0
#: how long a page waits for a model when none is usable (first open, or after a flag): then it says "preparing"
PAGE_WAIT_SECONDS = float(os.environ.get("THRIVE_SUGGEST_WAIT_SECONDS", "4"))
#: the page waits for a build only where it is likely to be ready within the wait: at most this many codings, or
#: the last build took no longer than the wait; a model being read from disk is always waited for. At scale a
#: first open says "being prepared" at once rather than after the wait (issue 14: first open within 5 s)
QUICK_BUILD_CODINGS = 2_000
FORMAT = 1
_ENGINE_FILES = ("analysis/suggest.py", "analysis/text.py", "data/suggestions.py")
_ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def engine_fingerprint() -> str:
    """Changes whenever the suggestion engine's code changes: a model pickled by other code is rebuilt."""
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for name in _ENGINE_FILES:
        with contextlib.suppress(OSError):
            digest.update((_ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class ModelKey:
    """The data a model was built from. `codings` changes with every coding added or removed; `erasure` with
    every tombstone; `withheld` with every flag raised or released; `codebook` with every code change."""

    engine: str
    codebook: str
    withheld: tuple
    erasure: tuple
    codings: tuple

    def usable_for(self, codebook: str, withheld: tuple) -> bool:
        """Whether a model built from this key may serve a page that sees these versions: never when a flag
        changed since (it may quote a now-withheld answer); a newer codebook or more codings only make it stale."""
        return self.engine == engine_fingerprint() and tuple(self.withheld) == tuple(withheld)

    def as_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ModelKey:
        return cls(engine=str(data["engine"]), codebook=str(data["codebook"]), withheld=tuple(data["withheld"]),
                   erasure=tuple(data["erasure"]), codings=tuple(data["codings"]))


def current_key(db) -> ModelKey:
    """The versions of everything a model learns from, read now (cheap: small tables and O(1) maxima, plus one
    count over the codings index)."""
    from data import codebook, coding

    system = cli_user()
    codings = tuple(db.execute("SELECT count(*), coalesce(max(id), 0) FROM codings").fetchone())
    erasure = tuple(db.execute("SELECT coalesce(max(id), 0) FROM tombstones").fetchone())
    return ModelKey(engine=engine_fingerprint(), codebook=codebook.version(db),
                    withheld=tuple(coding.withheld_version(db, system)), erasure=erasure, codings=codings)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """A published model and what it was built from. Never changed after publication."""

    model: Any
    key: ModelKey
    built_at: float
    build_seconds: float
    source: str  # "built" or "disk"


@dataclasses.dataclass(frozen=True)
class View:
    """What a page gets: the latest usable model (or None), and whether a newer one is on its way."""

    model: Any
    key: ModelKey | None
    state: str  # "ready", "updating" (a model is shown, a newer one is being built), "preparing", "error"
    error: str = ""

    @property
    def message(self) -> str:
        return {"updating": "Suggestions are being updated with the latest codings…",
                "preparing": "Suggestions are being prepared…",
                "error": "Suggestions are unavailable just now; coding works as usual."}.get(self.state, "")


def cache_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".model")


class ModelService:
    """The suggestion model of one database file in this process (see the module docstring)."""

    def __init__(self, db_path: Path):
        self.db_path = Path(db_path)
        self._cond = threading.Condition()
        self._snapshot: Snapshot | None = None
        self._wanted: ModelKey | None = None  # the newest key a reader or the worker has seen
        self._poked = False
        self._urgent = False
        self._building = False
        self._loading = True  # until the worker's first step has looked for a model on disk
        self._last_build_seconds = 0.0
        self._saving = False  # writing the newest model to disk (wait_idle waits for it)
        self._error = ""
        self._stopped = False
        self._next_allowed = 0.0
        self._last_notify = 0.0
        self._wake_at: float | None = None
        self.builds = 0
        self.loads = 0
        self._thread = threading.Thread(target=self._run, name=f"model-service:{self.db_path.name}", daemon=True)
        self._thread.start()

    # -- readers -----------------------------------------------------------------------------------------------------

    def view(self, user: User, codebook_version: str, withheld_version: tuple, *, wait: float = 0.0) -> View:
        """The latest model usable for a page that sees these versions. Waits up to `wait` seconds only when no
        usable model exists (first open, or a flag changed); otherwise returns at once."""
        require(user, "code")
        withheld_version = tuple(withheld_version)
        deadline = time.monotonic() + max(wait, 0.0)
        with self._cond:
            while True:
                snap = self._snapshot
                usable = snap is not None and snap.key.usable_for(codebook_version, withheld_version)
                if not usable or snap.key.codebook != codebook_version:
                    self._poke_locked(urgent=True)
                if usable:
                    current = snap.key.codebook == codebook_version and not self._building \
                        and (self._wanted is None or self._wanted == snap.key)
                    return View(snap.model, snap.key, "ready" if current else "updating")
                remaining = deadline - time.monotonic()
                if self._error and not self._building and not self._poked:
                    return View(None, None, "error", self._error)
                if remaining > 0 and not self._worth_waiting(wait):
                    remaining = 0.0
                if remaining <= 0 or self._stopped:
                    return View(None, None, "error" if self._error else "preparing", self._error)
                self._cond.wait(timeout=min(remaining, 0.5))

    def _worth_waiting(self, wait: float) -> bool:
        """Whether a model is likely to be usable within `wait` seconds (see QUICK_BUILD_CODINGS); under the lock."""
        if self._loading or self._wanted is None:
            return True
        if self._last_build_seconds:
            return self._last_build_seconds <= wait
        return self._wanted.codings[0] <= QUICK_BUILD_CODINGS

    def snapshot(self) -> Snapshot | None:
        with self._cond:
            return self._snapshot

    def notify(self) -> None:
        """Codings changed (a tap): the worker rebuilds when it may. Returns at once."""
        with self._cond:
            self._last_notify = time.monotonic()
            self._poke_locked(urgent=False)

    def _poke_locked(self, urgent: bool) -> None:
        self._poked = True
        self._urgent = self._urgent or urgent
        self._cond.notify_all()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until the published model matches the database and nothing is building (tests, benchmarks).
        Ignores the rebuild gap: asks for a build at once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                self._poke_locked(urgent=True)
                if self._building or self._saving:  # no need to read the database meanwhile (a count over the
                    self._cond.wait(timeout=min(1.0, max(deadline - time.monotonic(), 0.0)))  # codings: ~80 ms at 1 M)
                    continue
            try:
                with _connect(self.db_path) as db:
                    key = current_key(db)
            except Exception:  # noqa: BLE001 - the database may be busy for a moment
                key = None
            with self._cond:
                snap = self._snapshot
                if key is not None and snap is not None and snap.key == key and not self._building \
                        and not self._saving:
                    return True
                if self._error and not self._building and not self._poked:
                    return False
                self._cond.wait(timeout=0.2)
        return False

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=30)

    # -- the worker ------------------------------------------------------------------------------------------------------

    def _run(self) -> None:
        with contextlib.suppress(Exception):  # lower this thread's CPU priority below the serving threads (Linux)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        first = True
        while True:
            with self._cond:
                if not first and not self._poked:
                    timeout = POLL_SECONDS if self._wake_at is None else max(0.0, self._wake_at - time.monotonic())
                    self._cond.wait(timeout=min(POLL_SECONDS, timeout))
                if self._stopped:
                    return
                urgent, self._poked, self._urgent, self._wake_at = self._urgent, False, False, None
            try:
                self._step(first, urgent)
            except Exception as exc:  # noqa: BLE001 - never let the worker die; say so on the page
                log.exception("suggestion model worker failed")
                with self._cond:
                    self._error = str(exc) or exc.__class__.__name__
                    self._building = False
                    self._loading = False
                    self._cond.notify_all()
                time.sleep(1.0)
            first = False

    def _step(self, first: bool, urgent: bool) -> None:
        if not self.db_path.exists():  # the database went away (a test's folder, a moved file): stop polling it
            with self._cond:
                self._stopped = True
                self._error = "the database file is missing"
                self._cond.notify_all()
            return
        with _connect(self.db_path) as db:
            key = current_key(db)
            with self._cond:
                self._wanted = key
                self._cond.notify_all()
            if first:
                try:
                    self._load_from_disk(key)
                finally:
                    with self._cond:
                        self._loading = False
                        self._cond.notify_all()
            snap = self.snapshot()
            if snap is not None and snap.key == key:
                return
            must = snap is None or snap.key.withheld != key.withheld or snap.key.erasure != key.erasure \
                or snap.key.engine != key.engine
            if must and snap is not None:
                with self._cond:  # it may quote words now withheld or erased: stop serving it at once
                    self._snapshot = None
                self._forget_disk()
            if not (must or urgent or snap.key.codebook != key.codebook):
                allowed = max(self._next_allowed, self._last_notify + DEBOUNCE_SECONDS)
                if time.monotonic() < allowed:
                    with self._cond:  # only codings changed: come back when a rebuild is allowed
                        self._wake_at = allowed
                    return
            self._build(db)

    def _build(self, db) -> None:
        with self._cond:
            self._building = True
            self._cond.notify_all()
        started = time.monotonic()
        build_suggester = importlib.import_module("data.suggestions").build_suggester
        # one read transaction: the key and the codings learned describe the same state of the database
        db.conn.execute("BEGIN")
        try:
            key = current_key(db)
            model = build_suggester(db, cli_user())
        finally:
            db.conn.rollback()
        seconds = time.monotonic() - started
        with self._cond:
            self._snapshot = Snapshot(model, key, time.time(), seconds, "built")
            self._building = False
            self._saving = True
            self._error = ""
            self.builds += 1
            self._next_allowed = time.monotonic() + REBUILD_GAP_FACTOR * seconds
            self._last_build_seconds = seconds
            self._cond.notify_all()
        log.info("suggestion model built from %s codings in %.1f s", key.codings[0], seconds)
        try:
            self._save_to_disk(model, key)
        finally:
            with self._cond:
                self._saving = False
                self._cond.notify_all()

    # -- on disk ---------------------------------------------------------------------------------------------------------

    def _load_from_disk(self, key: ModelKey) -> None:
        folder = cache_dir(self.db_path)
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            stored = ModelKey.from_json(meta["key"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if stored.engine != key.engine or stored.withheld != key.withheld or stored.erasure != key.erasure:
            self._forget_disk()  # built by other code, or may hold words since withheld or erased
            return
        try:
            started = time.monotonic()
            with open(folder / "suggester.pkl", "rb") as f:
                model = pickle.load(f)  # written by this service beside the database it describes  # noqa: S301
        except Exception:  # noqa: BLE001 - damaged or half-written: rebuild
            log.warning("ignoring an unreadable suggestion model in %s", folder, exc_info=True)
            self._forget_disk()
            return
        with self._cond:
            self._snapshot = Snapshot(model, stored, time.time(), time.monotonic() - started, "disk")
            self.loads += 1
            self._cond.notify_all()

    def _save_to_disk(self, model, key: ModelKey) -> None:
        folder = cache_dir(self.db_path)
        try:
            folder.mkdir(exist_ok=True)
            tmp = folder / f"suggester.pkl.tmp-{os.getpid()}"
            with open(tmp, "wb") as f:
                pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
            (folder / "meta.json").unlink(missing_ok=True)  # never a new meta beside an old pickle
            os.replace(tmp, folder / "suggester.pkl")
            meta_tmp = folder / "meta.json.tmp"
            meta_tmp.write_text(json.dumps({"format": FORMAT, "key": key.as_json()}), encoding="utf-8")
            os.replace(meta_tmp, folder / "meta.json")
        except Exception:  # noqa: BLE001 - the cache is an optimisation; the model in memory still serves
            log.warning("could not keep the suggestion model on disk in %s", folder, exc_info=True)
            with contextlib.suppress(OSError):
                tmp.unlink()  # type: ignore[possibly-undefined]

    def _forget_disk(self) -> None:
        folder = cache_dir(self.db_path)
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _connect(path: Path):
    from data import open_db

    db = open_db(path, migrate=False)
    try:
        yield db
    finally:
        db.conn.close()


_REGISTRY: dict[str, ModelService] = {}
_REGISTRY_LOCK = threading.Lock()


def service_for(db_path: str | Path) -> ModelService:
    """The one model service of this database file in this process (started on first use)."""
    key = str(Path(db_path).resolve())
    with _REGISTRY_LOCK:
        service = _REGISTRY.get(key)
        if service is None or service._stopped:
            service = _REGISTRY[key] = ModelService(Path(key))
        return service


def shutdown_all() -> None:
    """Stop every worker (tests; a server ends its daemon threads by itself)."""
    with _REGISTRY_LOCK:
        services = list(_REGISTRY.values())
        _REGISTRY.clear()
    for service in services:
        service.stop()


# a daemon thread killed inside onnxruntime or liblinear at interpreter exit aborts the process ("terminate called
# without an active exception"): let a build in progress finish first
atexit.register(shutdown_all)
