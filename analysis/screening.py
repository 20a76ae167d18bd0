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

#: Below this many answers a helper process costs more (start-up, copying texts) than it saves.
BACKGROUND_MIN_ANSWERS = 5_000


def screen(text: str, question_id: str | None = None) -> Screened:
    """(redacted text, possible disclosure or None) for one answer given to `question_id` (None when unknown)."""
    return privacy.redact(text), safeguarding.check(text, question_id)


def screen_many(texts: Sequence[str]) -> list[Screened]:
    """screen() for every text, in order; identical texts (post-its repeat a lot) are screened once."""
    seen: dict[str, Screened] = {}
    out = []
    for text in texts:
        result = seen.get(text)
        if result is None:
            result = seen[text] = screen(text)
        out.append(result)
    return out


CHUNK = 5_000


class BackgroundScreening:
    """Screens texts in a helper process, chunk by chunk, while the caller gets on with other work.

    `get(i)` returns text i's result, waiting only for the chunk that holds it, so a caller that writes rows in
    order overlaps its writing with the screening of later rows. The helper is a plain
    `python -m analysis.screening` child fed through a pipe (not multiprocessing, whose start methods re-run the
    parent's main module or fork a multi-threaded Streamlit server). Small batches, one-core machines and any
    failure of the helper fall back to screening in this process, so every answer is always screened. The helper
    writes nothing; if the parent is killed the helper's pipe closes and it exits.
    """

    def __init__(self, texts: Sequence[str], *, min_answers: int | None = None):
        self._texts = list(texts)
        if min_answers is None:
            min_answers = BACKGROUND_MIN_ANSWERS
        self._chunks: dict[int, list[Screened]] = {}
        self._steal_next = (len(self._texts) + CHUNK - 1) // CHUNK - 1  # the last chunk this process may take
        self._ready = threading.Condition()
        self._reader_done = True
        self._proc: subprocess.Popen[bytes] | None = None
        if len(self._texts) >= min_answers and (os.cpu_count() or 1) > 1:
            try:
                env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
                self._proc = subprocess.Popen([sys.executable, "-m", "analysis.screening"], cwd=ROOT, env=env,
                                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                self._reader_done = False
                threading.Thread(target=self._talk, daemon=True).start()
            except Exception:  # noqa: BLE001 - screening in-process is always possible
                log.warning("could not start a screening helper process; screening in-process", exc_info=True)
                self.close()

    @property
    def in_background(self) -> bool:
        return self._proc is not None

    def _talk(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(pickle.dumps(self._texts, protocol=pickle.HIGHEST_PROTOCOL))
            proc.stdin.close()
            for number in range((len(self._texts) + CHUNK - 1) // CHUNK):
                chunk = pickle.load(proc.stdout)
                with self._ready:
                    self._chunks.setdefault(number, chunk)
                    self._ready.notify_all()
        except Exception:  # noqa: BLE001 - get() screens in-process whatever did not arrive
            log.warning("the screening helper stopped early; screening the rest in-process", exc_info=True)
        finally:
            with self._ready:
                self._reader_done = True
                self._ready.notify_all()

    def get(self, index: int) -> Screened:
        """Text `index`'s (redacted text, disclosure or None).

        While the chunk holding it is not back from the helper, this process screens the last chunk nobody has
        yet (the helper works from the front), so both cores screen and the two meet in the middle.
        """
        number = index // CHUNK
        while True:
            with self._ready:
                chunk = self._chunks.get(number)
                if chunk is not None or self._reader_done:
                    break
                while self._steal_next > number and self._steal_next in self._chunks:
                    self._steal_next -= 1
                if self._steal_next <= number:
                    self._ready.wait()
                    continue
                stolen = self._steal_next
                self._steal_next -= 1
            result = screen_many(self._texts[stolen * CHUNK:(stolen + 1) * CHUNK])
            with self._ready:
                self._chunks.setdefault(stolen, result)
        if chunk is None:
            chunk = self._chunks.setdefault(number, screen_many(self._texts[number * CHUNK:(number + 1) * CHUNK]))
        return chunk[index - number * CHUNK]

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


def _serve() -> None:
    """The helper process: a pickled list of texts on stdin; pickled chunks of results on stdout, in order."""
    texts = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    for start in range(0, len(texts), CHUNK):
        pickle.dump(screen_many(texts[start:start + CHUNK]), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()


if __name__ == "__main__":
    _serve()
