"""The interface catalogues (ui/i18n): every shipped language has every key with the same placeholders, missing
keys raise in tests, and the capture pages' words all come from the catalogue."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from ui import i18n
from ui.i18n import InvalidCatalogue, MissingText, catalogue, languages, placeholders, t, validate

ROOT = Path(__file__).resolve().parent.parent


def test_english_and_urdu_are_shipped_and_urdu_is_marked_draft():
    assert languages()[0] == "en" and "ur" in languages()
    assert i18n.meta("ur")["status"] == "draft" and "native" in i18n.meta("ur")["note"]


@pytest.mark.parametrize("lang", languages())
def test_every_language_has_every_key_with_the_same_placeholders(lang):
    english, other = catalogue("en"), catalogue(lang)
    assert sorted(set(english) - set(other)) == [], f"{lang} lacks these keys"
    assert sorted(set(other) - set(english)) == [], f"{lang} has keys English does not"
    wrong = {k: (placeholders(english[k]), placeholders(v)) for k, v in other.items()
             if placeholders(v) != placeholders(english[k])}
    assert wrong == {}


@pytest.mark.parametrize("lang", [x for x in languages() if x != "en"])
def test_a_translation_is_not_the_english_left_in(lang):
    english, other = catalogue("en"), catalogue(lang)
    same = [k for k, v in other.items() if v == english[k] and len(v) > 3]
    assert same == []


def test_missing_key_raises_in_tests_and_english_always():
    with pytest.raises(MissingText):
        t("collect.no_such_key", "ur")
    with pytest.raises(MissingText):
        t("collect.no_such_key")


def test_missing_key_falls_back_to_english_outside_tests(monkeypatch):
    monkeypatch.delenv("THRIVE_I18N_STRICT", raising=False)
    monkeypatch.delitem(catalogue("ur"), "collect.save")
    assert t("collect.save", "ur") == "Save"


def test_placeholders_are_filled_and_a_missing_one_fails():
    assert t("collect.saved_many", "en", answers=3, count=2).startswith("Saved. Thank you! 3 answer(s)")
    with pytest.raises(KeyError):
        t("collect.saved_many", "en", answers=3)


def test_validate_names_every_bad_entry():
    with pytest.raises(InvalidCatalogue) as caught:
        validate({"a": "", "b": 3, "c": "fine {x", "d": "ok"}, "xx")
    problems = caught.value.problems
    assert len(problems) == 3 and any("'a'" in p for p in problems) and any("c:" in p for p in problems)
    with pytest.raises(InvalidCatalogue):
        validate(["not", "a", "mapping"], "xx")


def test_shipped_files_are_valid_yaml_mappings():
    paths = sorted((ROOT / "ui" / "i18n").glob("*/*.yaml"))
    assert len(paths) >= 2
    for path in paths:
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict), path


def _string_args_of_streamlit_calls(path: Path) -> list[tuple[int, str]]:
    """Plain English string literals handed straight to a Streamlit call (label, body, placeholder)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {
                "title", "header", "subheader", "markdown", "write", "caption", "info", "warning", "error",
                "success", "toast", "button", "form_submit_button", "text_input", "text_area", "checkbox",
                "pills", "radio", "selectbox", "segmented_control", "expander", "metric", "popover", "toggle",
                "number_input", "date_input", "time_input", "file_uploader", "multiselect", "download_button",
                "link_button", "page_link", "slider", "select_slider", "tabs", "status", "spinner", "dialog",
                "text", "exception", "Page", "TextColumn", "NumberColumn", "CheckboxColumn", "SelectboxColumn",
                "LinkColumn", "ProgressColumn", "DateColumn", "DatetimeColumn", "ListColumn", "Column"} \
                and not _is_logger(node.func.value):
            first = node.args[:1]
            if node.func.attr == "page_link":  # its first argument is the page (a file), its words are label=
                first = []
            elif node.func.attr == "status" and getattr(node.func.value, "id", None) == "tablet":
                first = node.args[1:2]  # ui.tablet.status(kind, text): the kind is a word for the code
            args = first + [k.value for k in node.keywords
                            if k.arg in ("label", "placeholder", "help", "title", "body")]
            for arg in args:
                found += [(node.lineno, text) for text in _literals(arg)]
    return found


def _is_logger(node: ast.AST) -> bool:
    """log.warning("...") and friends write the server log (English, for the person running it), not the page."""
    return isinstance(node, ast.Name) and node.id in {"log", "logger", "logging", "LOG"}


def _literals(node: ast.AST):
    """String constants with letters in `node`, except inside a catalogue look-up t(...)."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t":
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if any(c.isalpha() for c in node.value.replace(":material/", "")):
            yield node.value
        return
    for child in ast.iter_child_nodes(node):
        yield from _literals(child)


INTERFACE_FILES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py")) + [
    "app.py", "ui/session.py", "ui/tablet.py", "ui/collect_draft.py", "ui/nav.py"]


@pytest.mark.parametrize("rel", INTERFACE_FILES)
def test_every_page_hands_streamlit_no_english_literal(rel):
    """Every page and the frame around it take their words from the catalogue (issue 9 item 6)."""
    assert _string_args_of_streamlit_calls(ROOT / rel) == []


def test_every_page_file_is_checked():
    assert len([r for r in INTERFACE_FILES if r.startswith("pages/")]) == 12


def test_the_literal_finder_can_fail(tmp_path):
    page = tmp_path / "p.py"
    page.write_text('import streamlit as st\nst.button("Save")\nst.caption(t("x"))\nlog.warning("x %s", 1)\n'
                    'st.tabs(["Themes", t("y")])\nst.column_config.TextColumn("Theme")\n')
    assert _string_args_of_streamlit_calls(page) == [(2, "Save"), (5, "Themes"), (6, "Theme")]


def catalogue_keys_asked_for(tree: ast.AST, built: dict[str, list[str]]) -> tuple[set[str], set[str]]:
    """Every catalogue key in the t(...) calls of `tree` (both sides of a conditional; an f-string key through
    `built`, its source text -> the keys it can make), and the key expressions `built` does not expand."""
    keys, unknown = set(), set()

    def collect(node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            keys.add(node.value)
        elif isinstance(node, ast.IfExp):
            collect(node.body)
            collect(node.orelse)
        elif ast.unparse(node) in built:
            keys.update(built[ast.unparse(node)])
        else:
            unknown.add(ast.unparse(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t" and node.args:
            collect(node.args[0])
    return keys, unknown


def _function(path: Path, names: set[str]) -> list[ast.AST]:
    return [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.FunctionDef) and n.name in names]


def test_the_sign_in_page_and_top_bar_hand_streamlit_no_english_literal(tmp_path):
    functions = _function(ROOT / "app.py", {"sign_in_form", "_sign_in_box", "top_bar"})
    assert len(functions) == 3  # renamed or moved: this test must follow them
    page = tmp_path / "signin.py"
    page.write_text("\n\n".join(ast.unparse(f) for f in functions), encoding="utf-8")
    assert _string_args_of_streamlit_calls(page) == []


@pytest.mark.parametrize("lang", languages())
def test_the_sign_in_page_has_every_text_in_every_language(lang):
    keys = ("signin.language", "signin.title", "signin.intro", "signin.username", "signin.secret", "signin.button",
            "signin.letters", "signin.idle", "signin.demo", "signin.refused", "signin.locked", "signin.disabled",
            "signin.throttled")
    assert [k for k in keys if k not in catalogue(lang)] == []


def test_the_frames_database_errors_say_what_the_cli_says():
    """Every database failure kind has a catalogue text, and the English is data/db.py's sentence (the CLI's)."""
    from data.db import _DB_ERROR_MESSAGES

    assert {k: t(f"db_error.{k}") for k in _DB_ERROR_MESSAGES} == _DB_ERROR_MESSAGES
    for lang in languages():
        assert all(f"db_error.{k}" in catalogue(lang) for k in _DB_ERROR_MESSAGES), lang


def test_page_titles_and_sections_come_from_the_catalogue():
    from ui.nav import PAGES, section_title

    assert [p.title for p in PAGES][:2] == ["Home", "Collect answers"]
    assert PAGES[1].title_in("ur") == catalogue("ur")["nav.collect"] != "Collect answers"
    assert {section_title(p.section, "en") for p in PAGES} == {
        "Thrive Voices", "Capture", "Coding", "Findings", "Safeguarding", "Admin"}


def test_the_cores_capture_problems_are_in_every_language_and_the_english_is_the_cores():
    from data.capture import PROBLEMS, Problem
    from ui.session import problem_text

    assert {k: t(f"capture_error.{k}") for k in PROBLEMS} == PROBLEMS
    long = Problem("answer_too_long", question="What helps?", length=12345, limit=10000)
    assert long == problem_text(long, "en") and "12,345" in long  # a str: callers joining English still work
    urdu = problem_text(long, "ur")
    assert urdu == t("capture_error.answer_too_long", "ur", question="What helps?", length=12345, limit=10000)
    assert "12,345" in urdu and urdu != long
    assert problem_text("Unknown group 'x'.", "ur") == "Unknown group 'x'."  # a problem with no text: the core's



def test_the_language_status_is_read_once_not_per_rerun(monkeypatch):
    """meta() is called for every language option on every rerun; it must not parse the catalogue files each time
    (it did, and it was 89 % of the server's time with ten tablets saving: bench/bench_concurrency.py)."""
    calls = []
    real = i18n._load
    monkeypatch.setattr(i18n, "_load", lambda lang: calls.append(lang) or real(lang))
    i18n.meta.cache_clear()
    try:
        for _ in range(50):
            assert i18n.meta("ur")["status"] == "draft"
        assert calls == ["ur"]
    finally:
        i18n.meta.cache_clear()
