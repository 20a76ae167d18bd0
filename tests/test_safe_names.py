"""Safe names and safe text: export file names cannot escape their folder (data.paths.safe_filename / safe_path),
and stored text put into Streamlit markdown (ui.session.md_escape) keeps its characters but can make no link, image
or formatting. What Chromium then shows is checked in tests/test_browser_remote.py."""

from __future__ import annotations

import ast
import random
import re
import textwrap
from pathlib import Path

import pytest

from data.paths import safe_filename, safe_path
from ui.session import WORD_JOINER, md_escape

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", [
    "../../etc/passwd", "..\\..\\windows\\system32\\cmd.exe", "/etc/passwd", "C:\\Users\\x\\a.xlsx", "..", ".", "",
    "a\x00b.xlsx", "evil\n.csv", "~/.bashrc", "CON", "con.xlsx", "NUL.txt", "com1", "LPT9.docx", "aux .csv",
    "report?:*.docx", "x" * 500 + ".xlsx", " .hidden ", "....", "dir/sub/../../../x.qdpx",
])
def test_names_stay_in_their_folder(tmp_path, name):
    clean = safe_filename(name)
    assert clean and "/" not in clean and "\\" not in clean and "\x00" not in clean and "\n" not in clean
    assert not clean.startswith(".") and clean not in {".", ".."}
    assert len(clean) <= 120
    assert clean.split(".")[0].strip().upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT9"}
    assert not any(c in clean for c in '<>:"|?*')
    path = safe_path(tmp_path, name)
    assert path.parent == tmp_path.resolve()
    path.write_text("x")  # a real file can be written under that name
    assert path.exists()


def test_ordinary_names_are_kept():
    assert safe_filename("Thrive findings 2026-11-23.xlsx") == "Thrive findings 2026-11-23.xlsx"
    assert safe_filename("Marché d'automne (Brierley Hill).csv") == "Marché d'automne (Brierley Hill).csv"


def test_specific_cleanings():
    assert safe_filename("../../etc/passwd") == "etc_passwd"
    assert safe_filename("/etc/passwd") == "etc_passwd"
    assert safe_filename("a\x00b.csv") == "a_b.csv"
    assert safe_filename("CON") == "_CON"
    assert safe_filename("con.xlsx") == "_con.xlsx"
    assert safe_filename("", default="findings") == "findings"
    long = safe_filename("x" * 500 + ".xlsx")
    assert long.endswith(".xlsx") and len(long) == 120


# --- md_escape ----------------------------------------------------------------------------------------------------

HOSTILE_TEXT = [
    "![x](http://203.0.113.5/x.png)", "[click](http://203.0.113.5/)", "<img src=http://203.0.113.5/y.png>",
    "http://203.0.113.5/z", "www.example.com", "WWW.Example.COM/path", "see HTTPS://example.org/a?b=1 now",
    "<http://203.0.113.5/a>", "kai@example.com", "mailto:kai@example.com", "[r]\n\n[r]: http://203.0.113.5/ref",
    "I :heart: it", "a :material/home: b", ":red[danger]", "$x^2$ and $5", "**bold** _it_ ~~del~~ `code`",
    "# heading", "> quote", "1. list", "- item", "a | b", "&amp; &#58; &lt;", "back\\slash", "",
]


def decoded(text: str) -> str:
    """The text node markdown makes of md_escape's output (read left to right: escapes and the colon reference
    decoded); GFM looks for autolinks in this."""
    return re.sub(r"\\(.)|&#58;", lambda m: m.group(1) or ":", text)


def unescape(text: str) -> str:
    """What a reader sees: the decoded text without the invisible word joiners."""
    return decoded(text).replace(WORD_JOINER, "")


def no_markdown_left(escaped: str) -> bool:
    """Every markdown-significant character is escaped, and nothing GFM would autolink remains."""
    bare = re.sub(r"\\.|&#58;", "", escaped)
    return (not re.search(r"[\\`*_{}\[\]()#+\-.!|<>~$:&]", bare)
            and not re.search(r"(?i)www\.|[a-z]://|[-.\w+]@", decoded(escaped)))


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_md_escape_keeps_the_characters_and_leaves_no_markdown(text):
    escaped = md_escape(text)
    assert unescape(escaped) == text
    assert no_markdown_left(escaped), escaped


def test_md_escape_breaks_autolinks_only_where_they_start():
    assert md_escape("http://203.0.113.5/z") == "http&#58;" + WORD_JOINER + "//203\\.0\\.113\\.5/z"
    assert md_escape("www.example.com") == "www" + WORD_JOINER + "\\.example\\.com"
    assert md_escape("kai@example.com") == "kai" + WORD_JOINER + "@example\\.com"
    assert WORD_JOINER not in md_escape("Brierley Hill, 5 the Green: @ the hall")
    assert md_escape("Sandwell") == "Sandwell"  # ordinary words are untouched


def test_md_escape_on_random_text_round_trips():
    rng = random.Random(20261201)
    alphabet = "ab w.:/@&#58;\\`*_{}[]()+-!|<>~$^=\"'\n\tхé中"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        escaped = md_escape(text)
        assert unescape(escaped) == text, (text, escaped)
        assert no_markdown_left(escaped), (text, escaped)


def test_unescape_and_the_checker_can_fail():
    """The helpers above would catch a weaker escape (the one this module replaced)."""
    old = re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])", r"\\\1", "www.example.com")
    assert not no_markdown_left(old)
    assert not no_markdown_left("![x](y)")
    assert unescape("a\\*b&#58;" + WORD_JOINER) == "a*b:"


# --- every markdown-reading Streamlit call escapes the stored text it interpolates ---------------------------------

#: Streamlit calls whose body, label or help is read as markdown (checked in Chromium: tests/test_browser_remote.py).
#: selectbox/multiselect options, dataframes, st.text and st.code are plain text and need no escaping.
MARKDOWN_CALLS = {
    "markdown", "caption", "info", "warning", "error", "success", "toast", "title", "header", "subheader", "write",
    "button", "radio", "pills", "segmented_control", "checkbox", "toggle", "expander", "tabs", "metric", "popover",
    "status", "download_button", "form_submit_button", "page_link", "select_slider", "text_input", "text_area",
    "number_input", "date_input", "selectbox", "multiselect", "progress", "spinner", "file_uploader", "color_picker",
    "link_button", "slider", "data_editor", "dialog",
}
OPTIONS_ARE_MARKDOWN = {"radio", "pills", "segmented_control", "select_slider"}
#: Words that name stored or typed text (an event's name, a code's label, an answer, a username, an error...).
STORED_WORDS = re.compile(
    r"(?<![A-Za-z])(name|label|venue|area|title|text|question|group|event|reason|note|author|summary|definition"
    r"|user|coder|message|exc|procedure|target|payload|search|problem|card|reference)s?(?![a-z])")
#: Interpolations that look like stored text but are not, each with the reason (file, source text).
NOT_STORED = {
    ("pages/admin.py", "card"),  # the thank-you card reference the app generates (erasure.reference_of)
    ("pages/collect.py", "last['reference']"),  # the same, just issued
    ("pages/code.py", "label"), ("pages/code.py", "button_label"),  # memo_editor's labels: literals from the page
    ("pages/collect.py", "qs.text(qs.group(gid).label, lang)"),  # shipped question-set YAML (surveys/sets/)
    ("pages/collect.py", "names.get"), ("pages/collect.py", "chosen.note"), ("pages/collect.py", "label"),
    ("pages/collect.py", "target"),  # FLAG_TARGET: one of the page's own phrases
    ("pages/home.py", "spec.title"),  # ui/nav.py's page titles
    ("pages/findings.py", "file_name"),  # safe_filename of a slug and a time stamp
    ("ui/session.py", "message"),  # describe_db_error's fixed sentences
    ("pages/code.py", "review_label(status.state)"),  # the catalogue's word for a review state
    ("pages/code.py", '{"answer": t("code.review.target_answer", lang),\n                                  '
                      '"respondent": t("code.review.target_person", lang)}.get'),  # catalogue words
}
SAFE_CALLS = {"md_escape", "md", "len", "int", "float", "round", "min", "max"}  # md: pages/findings.py's md_escape


def _unescaped(node: ast.AST):
    """Sub-expressions interpolated into markdown without md_escape (constants and formatted numbers are fine)."""
    if isinstance(node, ast.Constant):
        return
    if isinstance(node, ast.JoinedStr):
        for value in node.values:
            if isinstance(value, ast.FormattedValue) and not (
                    value.format_spec is not None
                    and not any(isinstance(x, ast.FormattedValue) for x in value.format_spec.values)):
                yield from _unescaped(value.value)
        return
    parts = {ast.BinOp: lambda n: [n.left, n.right], ast.IfExp: lambda n: [n.body, n.orelse],
             ast.BoolOp: lambda n: n.values, ast.List: lambda n: n.elts, ast.Tuple: lambda n: n.elts,
             ast.Lambda: lambda n: [n.body], ast.GeneratorExp: lambda n: [n.elt]}
    if type(node) in parts:
        for part in parts[type(node)](node):
            yield from _unescaped(part)
        return
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in SAFE_CALLS:
            return
        if name == "t" and isinstance(func, ast.Name):  # ui.i18n.t: the key and language are the app's own words,
            for keyword in node.keywords:  # what is filled into the text may be stored text
                yield from _unescaped(keyword.value)
            return
        if name == "format" and isinstance(func, ast.Attribute):  # TEMPLATE.format(label=md_escape(x)): the parts
            yield from _unescaped(func.value)
            for part in [*node.args, *(k.value for k in node.keywords)]:
                yield from _unescaped(part)
            return
        if name == "join" and isinstance(func, ast.Attribute):  # ", ".join(md_escape(x) for x in ...)
            yield from _unescaped(func.value)
            for arg in node.args:
                yield from _unescaped(arg)
            return
    yield node


def markdown_interpolations(source: str):
    """(line, call, source text) of everything a markdown-reading call interpolates without md_escape."""
    tree = ast.parse(source)
    modules = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names} - {"st"}
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr in MARKDOWN_CALLS):
            continue
        if isinstance(call.func.value, ast.Name) and call.func.value.id in modules:
            continue  # a core function of the same name (retention.status, af.progress), not Streamlit
        read = call.args[:1] + [kw.value for kw in call.keywords if kw.arg in ("label", "body", "help")]
        if call.func.attr in OPTIONS_ARE_MARKDOWN:
            read += [kw.value for kw in call.keywords if kw.arg == "format_func"]
        for arg in read:
            for node in _unescaped(arg):
                yield call.lineno, call.func.attr, ast.get_source_segment(source, node)


UI_FILES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_text_in_markdown_goes_through_md_escape(path):
    rel = str(path.relative_to(ROOT))
    found = [f"{rel}:{line} st.{call}(... {text} ...)"
             for line, call, text in markdown_interpolations(path.read_text(encoding="utf-8"))
             if STORED_WORDS.search(text) and (rel, text) not in NOT_STORED]
    assert found == [], "wrap these in session.md_escape (or, standing alone, use st.text):\n" + "\n".join(found)


def test_the_markdown_lint_finds_unescaped_text():
    source = textwrap.dedent('''
        import streamlit as st
        from data import retention
        st.caption(f"{event.name} · {count:,}")
        st.radio("Question", qs, format_func=questions.get)
        st.button("Go", help=f"Apply {label_of(code)}")
        st.expander("Event: " + session.md_escape(event.name))
        st.pills("Group", groups, format_func=lambda g: session.md_escape(groups[g]))
        st.selectbox("Event", ids, format_func=titles.get)
        retention.status(db, user)
        st.caption(t("events.title", lang, name=event.name))
        st.caption(t("events.title", lang, name=session.md_escape(event.name), count=3))
        st.markdown(ROW.format(label=session.md_escape(code.label), reason=s.reason))
    ''')
    found = [(line, text) for line, _, text in markdown_interpolations(source) if STORED_WORDS.search(text)]
    assert found == [(4, "event.name"), (5, "questions.get"), (6, "label_of(code)"), (11, "event.name"),
                     (13, "s.reason")]
