"""Screening answers as they arrive: each answer's redacted text and any possible disclosure.

Big imports screen on a helper process, so the checks run on a second core while the file is validated.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from analysis import privacy, safeguarding
from analysis.safeguarding import Disclosure

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent

Screened = tuple[str, Disclosure | None]
#: An answer to screen: its text and the id of the question it answers (None when unknown).
Answer = tuple[str, str | None]

#: Below this many answers a helper process costs more (start-up, copying texts) than it saves.
BACKGROUND_MIN_ANSWERS = 5_000


def screen(text: str, question_id: str | None = None) -> Screened:
    """(redacted text, possible disclosure or None) for one answer given to `question_id` (None when unknown)."""
    return privacy.redact(text), safeguarding.check(text, question_id)


def screen_many(answers: Sequence[Answer]) -> list[Screened]:
    """screen() for every (text, question id), in order; repeated answers (post-its repeat a lot) are screened once."""
    seen: dict[Answer, Screened] = {}
    out = []
    for answer in answers:
        result = seen.get(answer)
        if result is None:
            result = seen[answer] = screen(*answer)
        out.append(result)
    return out


CHUNK = 5_000

_HELPER, _HERE = "helper", "here"


class BackgroundScreening:
    """Screens answers in a helper process, chunk by chunk, while the caller gets on with other work.

    `get(i)` returns answer i's result, waiting only for the chunk that holds it, so a caller that writes rows in
    order overlaps its writing with the screening of later rows. The helper is a plain
    `python -m analysis.screening` child fed through pipes (not multiprocessing, whose start methods re-run the
    parent's main module or fork a multi-threaded Streamlit server). Each chunk is claimed once, by the helper
    (from the front, one chunk at a time) or by this process (from the back, while it waits), so no chunk is
    screened twice and `close()` never interrupts work anybody still needs. Small batches, one-core machines and any
    failure of the helper fall back to screening in this process, so every answer is always screened. The helper
    writes nothing; if the parent is killed the helper's pipe closes and it exits.
    """

    def __init__(self, answers: Sequence[Answer], *, min_answers: int | None = None):
        self._answers = list(answers)
        if min_answers is None:
            min_answers = BACKGROUND_MIN_ANSWERS
        self._chunk = CHUNK  # read once: a caller that changes CHUNK later cannot split a chunk two ways
        self._count = (len(self._answers) + self._chunk - 1) // self._chunk
        self._chunks: dict[int, list[Screened]] = {}
        self._owner: dict[int, str] = {}  # chunk number -> who screens it
        self._front, self._back = 0, self._count - 1
        #: chunk numbers in the order they were screened, by whom: (number, "helper" | "here")
        self.screened: list[tuple[int, str]] = []
        self._ready = threading.Condition()
        self._helper_alive = False
        self._closing = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        if self._count and len(self._answers) >= min_answers and (os.cpu_count() or 1) > 1:
            try:
                env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
                self._proc = subprocess.Popen([sys.executable, "-m", "analysis.screening"], cwd=ROOT, env=env,
                                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                self._helper_alive = True
                self._thread = threading.Thread(target=self._talk, name="screening-helper", daemon=True)
                self._thread.start()
            except Exception:  # noqa: BLE001 - screening in-process is always possible
                log.warning("could not start a screening helper process; screening in-process", exc_info=True)
                self._helper_alive = False
                self._proc = None

    @property
    def in_background(self) -> bool:
        return self._proc is not None

    def _slice(self, number: int) -> list[Answer]:
        return self._answers[number * self._chunk:(number + 1) * self._chunk]

    def _claim(self, *, from_back: bool, after: int = -1) -> int | None:
        """The next chunk nobody has claimed, from the front (helper) or from the back (this process, only chunks
        after `after`); call with the lock held."""
        if from_back:
            while self._back > after and self._back in self._owner:
                self._back -= 1
            if self._back <= after:
                return None
            number = self._back
        else:
            while self._front < self._count and self._front in self._owner:
                self._front += 1
            if self._front >= self._count:
                return None
            number = self._front
        self._owner[number] = _HERE if from_back else _HELPER
        return number

    def _talk(self) -> None:
        """Feeds the helper one chunk at a time and stores what comes back, until no chunk is left or close()."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        number = None
        try:
            while True:
                with self._ready:
                    number = None if self._closing else self._claim(from_back=False)
                if number is None:
                    break
                proc.stdin.write(pickle.dumps(self._slice(number), protocol=pickle.HIGHEST_PROTOCOL))
                proc.stdin.flush()
                chunk = pickle.load(proc.stdout)
                with self._ready:
                    self._chunks[number] = chunk
                    self.screened.append((number, _HELPER))
                    number = None
                    self._ready.notify_all()
        except Exception:  # noqa: BLE001 - get() screens in-process whatever did not arrive
            with self._ready:
                closing = self._closing
            if not closing:  # after close() the helper was stopped on purpose: nothing to report
                log.warning("the screening helper stopped early; screening the rest in-process", exc_info=True)
        finally:
            with self._ready:
                if number is not None and number not in self._chunks:
                    del self._owner[number]  # never answered: this process screens it if it is needed
                self._helper_alive = False
                self._ready.notify_all()
            try:
                proc.stdin.close()  # the helper reads end-of-input and exits
            except OSError:
                pass

    def get(self, index: int) -> Screened:
        """Answer `index`'s (redacted text, disclosure or None).

        While the chunk holding it is with the helper, this process screens the last chunk nobody has claimed yet
        (the helper works from the front), so both cores screen and the two meet in the middle.
        """
        number = index // self._chunk
        while True:
            with self._ready:
                chunk = self._chunks.get(number)
                if chunk is not None:
                    return chunk[index - number * self._chunk]
                owner = self._owner.get(number)
                if owner is None:
                    self._owner[number] = _HERE
                    todo = number
                elif owner == _HELPER and self._helper_alive:
                    todo = self._claim(from_back=True, after=number)
                    if todo is None:
                        self._ready.wait()
                        continue
                else:  # cannot happen with one caller; waiting is the safe answer
                    self._ready.wait(0.1)
                    continue
            result = screen_many(self._slice(todo))
            with self._ready:
                self._chunks[todo] = result
                self.screened.append((todo, _HERE))
                self._ready.notify_all()

    def close(self) -> None:
        """Stop the helper: at once if it is screening a chunk (nobody will ask for it now), else by end of input."""
        proc = self._proc
        if proc is None:
            return
        with self._ready:
            self._closing = True
            busy = any(owner == _HELPER and number not in self._chunks for number, owner in self._owner.items())
            self._ready.notify_all()
        if busy and proc.poll() is None:
            proc.kill()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self._proc = None


def _serve() -> None:
    """The helper process: reads pickled chunks of (text, question id) on stdin until end of input, and answers each
    with a pickled list of results on stdout."""
    source, out = sys.stdin.buffer, sys.stdout.buffer
    try:
        while True:
            try:
                answers = pickle.load(source)
            except EOFError:
                return  # the parent closed its end: every chunk it wanted is done
            pickle.dump(screen_many(answers), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
    except (BrokenPipeError, pickle.UnpicklingError, KeyboardInterrupt):
        os._exit(0)  # the parent went away mid-message: nobody is left to tell


if __name__ == "__main__":
    _serve()
