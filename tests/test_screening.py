"""Screening at import scale: the helper process gives exactly what in-process screening gives, and any failure
of the helper falls back to screening in-process (every answer is always screened)."""

from __future__ import annotations

import csv
import io

import pytest

from analysis import screening
from analysis.screening import BackgroundScreening, screen

TEXTS = [
    "my dad hits me when he's drunk",
    "ring me on 07700 900123 or jo@example.org",
    "youth clubs and parks",
    "children left on their own is neglect",
    "im scared 2 go home",
    "DY1 1HF is where we live",
] * 7 + ["family"] * 5


def expected() -> list:
    return [screen(text) for text in TEXTS]


def results(background: BackgroundScreening) -> list:
    try:
        return [background.get(i) for i in range(len(TEXTS))]
    finally:
        background.close()


def test_helper_process_matches_in_process_screening(monkeypatch):
    monkeypatch.setattr(screening, "CHUNK", 4)  # several chunks, delivered in order
    background = BackgroundScreening(TEXTS, min_answers=1)
    assert background.in_background
    got = results(background)
    assert got == expected()
    assert any(disclosure for _, disclosure in got) and any("[phone]" in redacted for redacted, _ in got)


def test_small_batches_screen_in_process():
    background = BackgroundScreening(TEXTS)
    assert not background.in_background
    assert results(background) == expected()


def test_helper_that_cannot_start_falls_back(monkeypatch):
    monkeypatch.setattr(screening.sys, "executable", "/nonexistent/python")
    background = BackgroundScreening(TEXTS, min_answers=1)
    assert not background.in_background
    assert results(background) == expected()


def test_helper_killed_mid_way_still_screens_everything(monkeypatch):
    monkeypatch.setattr(screening, "CHUNK", 2)
    background = BackgroundScreening(TEXTS, min_answers=1)
    background.close()  # kills the helper before (or while) it answers
    assert [background.get(i) for i in range(len(TEXTS))] == expected()


@pytest.mark.parametrize("threshold", [1, 10**9], ids=["helper", "in-process"])
def test_import_stores_the_same_screening_either_way(db, officer, monkeypatch, threshold):
    from data.importer import import_responses

    monkeypatch.setattr(screening, "BACKGROUND_MIN_ANSWERS", threshold)
    monkeypatch.setattr(screening, "CHUNK", 5)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["id", "question", "group", "text"])
    for i, text in enumerate(TEXTS):
        writer.writerow([i, "thrive_stops", "young_person", text])
    started = []
    real_init = BackgroundScreening.__init__

    def spy(self, texts, **kwargs):
        real_init(self, texts, **kwargs)
        started.append(self.in_background)

    monkeypatch.setattr(BackgroundScreening, "__init__", spy)
    result = import_responses(db, officer, out.getvalue().encode(), "a.csv")
    assert started == [threshold == 1]
    stored = dict(db.execute("SELECT CAST(external_id AS INTEGER), redacted_text FROM responses").fetchall())
    assert [stored[i] for i in range(len(TEXTS))] == [redacted for redacted, _ in expected()]
    assert result.flags_raised == sum(1 for _, disclosure in expected() if disclosure)
    assert db.execute("SELECT COUNT(*) FROM flags").fetchone()[0] == result.flags_raised
