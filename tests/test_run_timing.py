"""ui/run_timing: off by default (nothing written, nothing patched); on, one valid JSON line per script run, the
Save run marked, and no token, cookie or typed value in the file."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from ui import run_timing

SECRET = "tok-5e3c7a9b1d-very-secret"


def script() -> None:
    import streamlit as st

    from ui import run_timing as rt

    rt.install()
    st.session_state.setdefault("session_token", "tok-5e3c7a9b1d-very-secret")
    st.text_input("Name", key="name")
    if st.button("Save", key="collect_save"):
        st.write("saved")


@pytest.fixture
def timing_file(tmp_path, monkeypatch):
    path = tmp_path / "runs.jsonl"
    monkeypatch.setenv(run_timing.ENV, str(path))
    return path


def test_off_by_default_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(run_timing.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert run_timing.install() is False
    at = AppTest.from_function(script).run()
    at.button(key="collect_save").click().run()
    assert not at.exception
    assert list(tmp_path.iterdir()) == []


def test_on_writes_one_valid_line_per_run_without_secrets(timing_file):
    at = AppTest.from_function(script).run()  # the first run installs the wrapper; later runs are timed
    at.text_input(key="name").input("Ayesha Khan").run()
    at.button(key="collect_save").click().run()
    assert not at.exception
    lines = timing_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 2
    records = [json.loads(line) for line in lines]
    for r in records:
        assert set(r) == {"page", "session", "start", "duration", "cpu", "callbacks", "save_db", "save", "fragment"}
        assert r["duration"] >= 0 and r["cpu"] >= 0 and r["start"] > 1.6e9
        assert len(r["session"]) == 12
    assert records[-1]["save"] is True
    assert records[-2]["save"] is False
    text = timing_file.read_text(encoding="utf-8")
    assert SECRET not in text and "Ayesha" not in text
    # the session id itself is not written either, only its hash
    assert len({r["session"] for r in records}) == 1


def test_turned_off_again_stops_writing(timing_file, monkeypatch):
    at = AppTest.from_function(script).run()
    at.button(key="collect_save").click().run()
    before = timing_file.read_text(encoding="utf-8")
    assert before
    monkeypatch.delenv(run_timing.ENV)
    at.button(key="collect_save").click().run()
    assert timing_file.read_text(encoding="utf-8") == before


def test_write_keeps_lines_whole(tmp_path):
    path = tmp_path / "r.jsonl"
    for i in range(3):
        run_timing.write(str(path), {"i": i, "page": "collect"})
    assert [json.loads(line)["i"] for line in path.read_text().splitlines()] == [0, 1, 2]
