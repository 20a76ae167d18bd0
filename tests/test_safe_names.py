"""Export file names cannot escape their folder: data.paths.safe_filename / safe_path."""

from __future__ import annotations

import pytest

from data.paths import safe_filename, safe_path


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
