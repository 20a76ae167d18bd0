"""Safe names and safe text: export file names cannot escape their folder (data.paths.safe_filename / safe_path),
and stored text put into Streamlit markdown (ui.session.md_escape) keeps its characters but can make no link, image
or formatting. What Chromium then shows is checked in tests/test_browser_remote.py."""

from __future__ import annotations

import random
import re

import pytest

from data.paths import safe_filename, safe_path
from ui.session import WORD_JOINER, md_escape


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
