"""Screening at import scale: the helper process gives exactly what in-process screening gives (question included),
screens each chunk once, ends without a traceback, and any failure of the helper falls back to screening in-process
(every answer is always screened)."""

from __future__ import annotations

import csv
import io
import logging
import time
from collections import Counter

import pytest

from analysis import screening
from analysis.screening import BackgroundScreening, screen

ANSWERS = [
    ("my dad hits me when he's drunk", "thrive_stops"),
    ("ring me on 07700 900123 or jo@example.org", "thrive_helps"),
    ("youth clubs and parks", "thrive_local"),
    ("house is freezing", "neglect_is"),  # a definition of neglect, not a disclosure
    ("house is freezing", "thrive_stops"),  # the same words about the respondent's own home
    ("im scared 2 go home", "thrive_stops"),
    ("DY1 1HF is where we live", None),
] * 7 + [("family", "thrive_helps")] * 5


def expected() -> list:
    return [screen(text, question) for text, question in ANSWERS]


def results(background: BackgroundScreening) -> list:
    try:
        return [background.get(i) for i in range(len(ANSWERS))]
    finally:
        background.close()


def test_the_question_changes_the_disclosure_check():
    """The fixture's premise: the same words flag under one question and not under another."""
    assert screen("house is freezing", "neglect_is")[1] is None
    assert screen("house is freezing", "thrive_stops")[1] is not None


def test_helper_process_matches_in_process_screening(monkeypatch):
    monkeypatch.setattr(screening, "CHUNK", 4)  # several chunks, delivered in order
    background = BackgroundScreening(ANSWERS, min_answers=1)
    assert background.in_background
    got = results(background)
    assert got == expected()
    assert got[3][1] is None and got[4][1] is not None  # the helper weighed the question too
    assert any("[phone]" in redacted for redacted, _ in got)


def test_each_chunk_is_screened_once_and_the_end_is_quiet(monkeypatch, caplog, capfd):
    monkeypatch.setattr(screening, "CHUNK", 3)
    caplog.set_level(logging.DEBUG, logger="analysis.screening")
    background = BackgroundScreening(ANSWERS, min_answers=1)
    assert background.in_background
    got = results(background)
    assert got == expected()
    chunks = (len(ANSWERS) + 2) // 3
    assert sorted(number for number, _ in background.screened) == list(range(chunks))
    assert {who for _, who in background.screened} <= {"helper", "here"}
    assert not caplog.records
    assert "Traceback" not in capfd.readouterr().err


def test_close_while_the_helper_is_working_is_quiet(monkeypatch, caplog, capfd):
    monkeypatch.setattr(screening, "CHUNK", 2)
    caplog.set_level(logging.DEBUG, logger="analysis.screening")
    background = BackgroundScreening(ANSWERS * 20, min_answers=1)
    deadline = time.monotonic() + 60
    while not background.screened and time.monotonic() < deadline:
        time.sleep(0.01)
    assert background.screened, "the helper never answered"
    background.close()  # the helper has taken its next chunk and is screening it
    assert not caplog.records
    err = capfd.readouterr().err
    assert "Traceback" not in err and "EOFError" not in err and "UnpicklingError" not in err
    counts = Counter(number for number, _ in background.screened)
    assert all(n == 1 for n in counts.values())
    assert len(counts) < len(ANSWERS) * 20 // 2  # it was stopped with work left: close() did not wait for it all


def test_small_batches_screen_in_process():
    background = BackgroundScreening(ANSWERS)
    assert not background.in_background
    assert results(background) == expected()


def test_helper_that_cannot_start_falls_back(monkeypatch):
    monkeypatch.setattr(screening.sys, "executable", "/nonexistent/python")
    background = BackgroundScreening(ANSWERS, min_answers=1)
    assert not background.in_background
    assert results(background) == expected()


def test_helper_closed_mid_way_still_screens_everything(monkeypatch):
    monkeypatch.setattr(screening, "CHUNK", 2)
    background = BackgroundScreening(ANSWERS, min_answers=1)
    background.close()  # stops the helper before (or while) it answers
    assert [background.get(i) for i in range(len(ANSWERS))] == expected()


def test_helper_that_dies_is_reported_and_replaced(monkeypatch, caplog):
    monkeypatch.setattr(screening, "CHUNK", 2)
    background = BackgroundScreening(ANSWERS * 20, min_answers=1)
    background._proc.kill()  # a crash, not close(): worth a warning in the log
    try:
        assert [background.get(i) for i in range(len(ANSWERS))] == expected()
    finally:
        background.close()
    counts = Counter(number for number, _ in background.screened)
    assert all(n == 1 for n in counts.values())
    assert any("stopped early" in r.getMessage() for r in caplog.records)


def _csv(answers: list[tuple[str, str | None]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["id", "question", "group", "text"])
    for i, (text, question) in enumerate(answers):
        writer.writerow([i, question or "thrive_stops", "young_person", text])
    return out.getvalue().encode()


def _spy(monkeypatch) -> list[tuple[BackgroundScreening, bool]]:
    """Every BackgroundScreening the import makes, with whether it started a helper."""
    made: list[tuple[BackgroundScreening, bool]] = []
    real_init = BackgroundScreening.__init__

    def spy(self, answers, **kwargs):
        real_init(self, answers, **kwargs)
        made.append((self, self.in_background))

    monkeypatch.setattr(BackgroundScreening, "__init__", spy)
    return made


@pytest.mark.parametrize("threshold", [1, 10**9], ids=["helper", "in-process"])
def test_import_stores_the_same_screening_either_way(db, officer, monkeypatch, threshold):
    from data.importer import import_responses

    monkeypatch.setattr(screening, "BACKGROUND_MIN_ANSWERS", threshold)
    monkeypatch.setattr(screening, "CHUNK", 5)
    answers = [(text, question or "thrive_stops") for text, question in ANSWERS]
    made = _spy(monkeypatch)
    result = import_responses(db, officer, _csv(answers), "a.csv")
    assert [started for _, started in made] == [threshold == 1]
    want = [screen(text, question) for text, question in answers]
    stored = dict(db.execute("SELECT CAST(external_id AS INTEGER), redacted_text FROM responses").fetchall())
    assert [stored[i] for i in range(len(answers))] == [redacted for redacted, _ in want]
    assert result.flags_raised == sum(1 for _, disclosure in want if disclosure)
    assert db.execute("SELECT COUNT(*) FROM flags").fetchone()[0] == result.flags_raised
    flagged = {r[0] for r in db.execute("SELECT CAST(x.external_id AS INTEGER) FROM flags f "
                                        "JOIN responses x ON x.id = f.response_id")}
    assert 3 not in flagged and 4 in flagged  # "house is freezing": the question was weighed on the helper too


def test_big_import_screens_each_chunk_once_without_a_traceback(db, officer, monkeypatch, caplog, capfd):
    from data.importer import import_responses

    caplog.set_level(logging.DEBUG, logger="analysis.screening")
    monkeypatch.setattr(screening, "CHUNK", 500)
    rows = 6_000
    answers = [(ANSWERS[i % len(ANSWERS)][0] + f" {i}", ANSWERS[i % len(ANSWERS)][1]) for i in range(rows)]
    made = _spy(monkeypatch)
    import_responses(db, officer, _csv(answers), "big.csv")
    ((background, started),) = made
    assert started  # 6,000 rows >= BACKGROUND_MIN_ANSWERS: a helper screened
    numbers = Counter(number for number, _ in background.screened)
    assert sorted(numbers) == list(range(rows // 500)) and set(numbers.values()) == {1}
    assert any(who == "helper" for _, who in background.screened)
    assert db.execute("SELECT COUNT(*) FROM responses WHERE redacted_text IS NOT NULL").fetchone()[0] == rows
    assert not caplog.records
    err = capfd.readouterr().err
    assert "Traceback" not in err and "EOFError" not in err and "UnpicklingError" not in err
