"""Imports that cannot take the server down: limits checked before a file is read whole, bounded problem lists, and
CSV quotes that are never closed.

The hostile workbooks are written here with zipfile, streaming, so that a six-million-row sheet costs seconds and
little memory to build. Time and peak memory of the refusals are measured in bench/bench_import_limits.py, not here.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import openpyxl
import pytest

import config
from data.importer import MAX_PROBLEMS, InvalidFile, import_responses, iter_rows

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADER = ("id", "question", "group", "text")


def _cell(column: str, row: int, value: object) -> str:
    if isinstance(value, int):
        return f'<c r="{column}{row}"><v>{value}</v></c>'
    return f'<c r="{column}{row}" t="inlineStr"><is><t>{value}</t></is></c>'


def header_row() -> str:
    return "<row r=\"1\">" + "".join(_cell("ABCD"[i], 1, name) for i, name in enumerate(HEADER)) + "</row>"


def answer_row(row: int, text: str = "youth club") -> str:
    cells = (row, "thrive_helps", "resident", text)
    return f'<row r="{row}">' + "".join(_cell("ABCD"[i], row, value) for i, value in enumerate(cells)) + "</row>"


def write_xlsx(path: Path, rows: Iterable[str], *, dimension: str | None = None,
               shared_strings: Iterable[str] | None = None, compresslevel: int = 1) -> Path:
    """A minimal .xlsx whose first sheet holds `rows` (row XML strings), written as a stream in batches."""
    strings_rel = strings_type = ""
    if shared_strings is not None:
        strings_rel = ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       'relationships/sharedStrings" Target="sharedStrings.xml"/>')
        strings_type = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                        'officedocument.spreadsheetml.sharedStrings+xml"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as book:
        book.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
            'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            f'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{strings_type}</Types>'))
        book.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        book.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Answers" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>'))
        book.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>{strings_rel}</Relationships>'))
        if shared_strings is not None:
            with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
                out.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode())
                _write_batched(out, (f"<si><t>{text}</t></si>" for text in shared_strings))
                out.write(b"</sst>")
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'.encode())
            if dimension:
                out.write(f'<dimension ref="{dimension}"/>'.encode())
            out.write(b"<sheetData>")
            _write_batched(out, rows)
            out.write(b"</sheetData></worksheet>")
    return path


def _write_batched(out, parts: Iterable[str], batch: int = 20_000) -> None:
    pending: list[str] = []
    for part in parts:
        pending.append(part)
        if len(pending) >= batch:
            out.write("".join(pending).encode())
            pending.clear()
    out.write("".join(pending).encode())


def tiny_rows(count: int) -> Iterator[str]:
    """The header, then `count` rows of one small number each: about 45 bytes of XML a row."""
    yield header_row()
    for row in range(2, count + 2):
        yield f'<row r="{row}"><c r="A{row}"><v>{row % 97}</v></c></row>'


SIX_MILLION = 6_000_000


@pytest.fixture(scope="module")
def six_million_rows(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("limits")
    return {"with dimension": write_xlsx(folder / "sized.xlsx", tiny_rows(SIX_MILLION),
                                         dimension=f"A1:D{SIX_MILLION + 1}"),
            "without dimension": write_xlsx(folder / "unsized.xlsx", tiny_rows(SIX_MILLION))}


def counts(db) -> tuple[int, int, int]:
    return db.execute("SELECT (SELECT COUNT(*) FROM responses), (SELECT COUNT(*) FROM respondents), "
                      "(SELECT COUNT(*) FROM events)").fetchone()


def refusal(db, officer, data: bytes, name: str) -> InvalidFile:
    with pytest.raises(InvalidFile) as info:
        import_responses(db, officer, data, name)
    assert counts(db) == (0, 0, 0)
    return info.value


@pytest.fixture
def no_openpyxl_parsing(monkeypatch):
    """Fails the test if openpyxl starts parsing the shared strings or a sheet (the refusal must come first)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._reader import WorkSheetParser

    def forbidden(*args, **kwargs):
        raise AssertionError("openpyxl was asked to parse the workbook before the limits were checked")

    monkeypatch.setattr(ExcelReader, "read_strings", forbidden)
    monkeypatch.setattr(WorkSheetParser, "parse", forbidden)


# --- the fixture writer makes real workbooks ---------------------------------------------------------------------

def test_the_fixture_writer_makes_a_workbook_that_imports(tmp_path, db, officer):
    path = write_xlsx(tmp_path / "ok.xlsx", [header_row()] + [answer_row(r) for r in range(2, 7)],
                      dimension="A1:D6")
    result = import_responses(db, officer, path.read_bytes(), "ok.xlsx")
    assert (result.added, counts(db)[0]) == (5, 5)


# --- rows --------------------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("variant", ["with dimension", "without dimension"])
def test_six_million_row_workbook_is_refused_before_parsing(six_million_rows, variant, db, officer,
                                                            no_openpyxl_parsing):
    assert config.IMPORT_MAX_ROWS == 600_000  # the stated default
    error = refusal(db, officer, six_million_rows[variant].read_bytes(), "big.xlsx")
    (problem,) = error.problems
    assert problem.row == 600_002  # the first row past 600,000 answers after the header
    assert "more than 600,000 rows" in problem.message and "Split it" in problem.message
    if variant == "with dimension":
        assert f"reaches row {SIX_MILLION + 1:,}" in problem.message


def test_row_limit_is_exact(tmp_path, db, officer, monkeypatch):
    monkeypatch.setattr(config, "IMPORT_MAX_ROWS", 10)
    at_limit = [header_row()] + [answer_row(r) for r in range(2, 12)]  # 10 answers
    assert import_responses(db, officer, write_xlsx(tmp_path / "a.xlsx", at_limit).read_bytes(), "a.xlsx").added == 10
    over = [header_row()] + [answer_row(r) for r in range(2, 13)]
    for name, dimension in (("b.xlsx", "A1:D12"), ("c.xlsx", None)):
        with pytest.raises(InvalidFile) as info:
            import_responses(db, officer, write_xlsx(tmp_path / name, over, dimension=dimension).read_bytes(), name)
        assert [p.row for p in info.value.problems] == [12]


def test_a_dimension_that_says_too_few_rows_does_not_drop_rows(tmp_path, db, officer):
    rows = [header_row()] + [answer_row(r) for r in range(2, 32)]
    path = write_xlsx(tmp_path / "lies.xlsx", rows, dimension="A1:D3")  # openpyxl alone would stop at row 3
    assert import_responses(db, officer, path.read_bytes(), "lies.xlsx").added == 30


def test_a_row_numbered_past_the_limit_is_refused(tmp_path, db, officer):
    # one answer claiming row 9,000,000: openpyxl's own row iterator would make 9 million empty rows before it
    rows = [header_row(), answer_row(2), answer_row(9_000_000)]
    error = refusal(db, officer, write_xlsx(tmp_path / "jump.xlsx", rows).read_bytes(), "jump.xlsx")
    assert error.problems[0].row == config.IMPORT_MAX_ROWS + 2


def test_csv_row_limit(db, officer, monkeypatch):
    monkeypatch.setattr(config, "IMPORT_MAX_ROWS", 10)
    lines = ["id,question,group,text"] + [f"{i},thrive_helps,resident,parks" for i in range(11)]
    error = refusal(db, officer, "\n".join(lines).encode(), "a.csv")
    assert [p.row for p in error.problems] == [12]
    assert import_responses(db, officer, "\n".join(lines[:11]).encode(), "a.csv").added == 10


def test_csv_of_six_million_rows_is_refused_without_keeping_them(db, officer, monkeypatch):
    import data.importer as importer

    kept = []
    real = importer._check_and_write
    monkeypatch.setattr(importer, "_check_and_write", lambda *args: kept.append(args) or real(*args))
    data = b"id,question,group,text\n" + b"1,a,b,c\n" * SIX_MILLION
    error = refusal(db, officer, data, "big.csv")
    assert [p.row for p in error.problems] == [600_002]
    assert not kept  # refused by the counting pass, before any row was kept


# --- size and zip bombs ------------------------------------------------------------------------------------------

def test_workbook_that_unpacks_past_the_size_limit_is_refused(tmp_path, db, officer, monkeypatch,
                                                             no_openpyxl_parsing):
    monkeypatch.setattr(config, "IMPORT_MAX_MB", 2)
    rows = [header_row()] + [answer_row(r, text=f"answer number {r}") for r in range(2, 40_000)]
    error = refusal(db, officer, write_xlsx(tmp_path / "big.xlsx", rows).read_bytes(), "big.xlsx")
    assert "unpacked, the workbook is" in error.problems[0].message and "2 MB" in error.problems[0].message


def test_zip_bomb_is_refused_from_the_zip_directory(tmp_path, db, officer, no_openpyxl_parsing):
    cell = "<c><v>1</v></c>" * 1_000
    rows = [header_row()] + ["<row>" + cell + "</row>"] * 12_000  # 180 MB of one repeated row
    path = write_xlsx(tmp_path / "bomb.xlsx", rows, compresslevel=9)
    assert path.stat().st_size < 1_000_000
    error = refusal(db, officer, path.read_bytes(), "bomb.xlsx")
    assert "zip bomb" in error.problems[0].message


def test_huge_shared_string_table_is_refused_before_openpyxl_loads_it(tmp_path, db, officer, no_openpyxl_parsing):
    many = (f"s{i}" for i in range(4 * config.IMPORT_MAX_ROWS + 2_000))  # one more than a full file could use
    path = write_xlsx(tmp_path / "strings.xlsx", [header_row()], shared_strings=many)
    error = refusal(db, officer, path.read_bytes(), "strings.xlsx")
    assert "different texts" in error.problems[0].message


def test_one_enormous_shared_string_is_refused(tmp_path, db, officer, no_openpyxl_parsing):
    import hashlib

    text = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(100_000))  # 6.4 MB, not compressible
    path = write_xlsx(tmp_path / "long.xlsx", [header_row()], shared_strings=["short", text])
    error = refusal(db, officer, path.read_bytes(), "long.xlsx")
    assert "a text of more than 1 MB" in error.problems[0].message


def test_row_of_millions_of_cells_is_refused(tmp_path, db, officer, no_openpyxl_parsing):
    row = "<row>" + "".join(f"<c><v>{i}</v></c>" for i in range(2_000_000)) + "</row>"
    error = refusal(db, officer, write_xlsx(tmp_path / "wide.xlsx", [header_row(), row]).read_bytes(), "wide.xlsx")
    assert "more than 16,384 cells" in error.problems[0].message


def test_csv_past_the_size_limit_is_refused(db, officer, monkeypatch):
    monkeypatch.setattr(config, "IMPORT_MAX_MB", 1)
    data = b"id,question,group,text\n" + b"1,thrive_helps,resident," + b"y" * 1_000_001 + b"\n"
    assert "the most one import takes is 1 MB" in refusal(db, officer, data, "a.csv").problems[0].message


def test_csv_with_one_100_mb_line_is_refused_naming_the_row(db, officer):
    data = b"id,question,group,text\n1,thrive_helps,resident,ok\n2,thrive_helps,resident," + b"x" * 100_000_000
    error = refusal(db, officer, data, "long.csv")
    assert [(p.row, p.column) for p in error.problems] == [(3, "")]
    assert "line 3 is longer than 1,000,000 characters" in error.problems[0].message


# --- quotes ------------------------------------------------------------------------------------------------------

def test_unterminated_quote_is_refused_naming_the_row_where_it_starts(db, officer):
    data = (b"id,question,group,text\n"
            b"1,thrive_helps,young_person,youth club\n"
            b"2,thrive_stops,young_person,phones\n"
            b'3,thrive_stops,young_person,"my mum\n'
            b"4,thrive_helps,young_person,parks\n"
            b"5,thrive_local,resident,buses\n")
    error = refusal(db, officer, data, "quote.csv")
    (problem,) = error.problems
    assert problem.row == 4  # the third data row
    assert "no closing quote" in problem.message and "line 4" in problem.message


def test_unterminated_quote_in_a_long_file_names_its_row(db, officer):
    lines = ["id,question,group,text"] + [f"{i},thrive_helps,resident,parks" for i in range(20)]
    lines[6] = '5,thrive_helps,resident,"she said'
    lines += [f"{i},thrive_helps,resident,{'word ' * 20}" for i in range(20, 20_000)]  # past csv's field limit
    error = refusal(db, officer, "\n".join(lines).encode(), "long.csv")
    assert [p.row for p in error.problems] == [7]
    assert "never closed" in error.problems[0].message


def test_text_after_a_closing_quote_is_refused(db, officer):
    data = b'id,question,group,text\n1,thrive_helps,resident,"parks" and clubs\n'
    error = refusal(db, officer, data, "a.csv")
    assert error.problems[0].row == 2 and "double every quote" in error.problems[0].message


def test_quoted_line_breaks_and_doubled_quotes_still_import(db, officer):
    out = io.StringIO(newline="")
    csv.writer(out).writerows([HEADER, ["1", "thrive_helps", "resident", 'line one\nshe said "hi"'],
                               ["2", "thrive_helps", "resident", "plain"]])
    import_responses(db, officer, out.getvalue().encode(), "a.csv")
    assert db.execute("SELECT text FROM responses WHERE external_id = '1'").fetchone()[0] == 'line one\nshe said "hi"'


# --- problems are capped, and counted --------------------------------------------------------------------------

def test_problems_stop_at_200_and_the_rest_are_counted(db, officer):
    lines = ["id,question,group,text"] + [f"{i},nope,aliens,x" for i in range(1_000)]  # two problems a row
    error = refusal(db, officer, "\n".join(lines).encode(), "bad.csv")
    assert len(error.problems) == MAX_PROBLEMS == 200
    assert (error.more, error.total) == (1_800, 2_000)
    assert {(p.row, p.column) for p in error.problems[:2]} == {(2, "question"), (2, "group")}
    assert "and 1,950 more" in str(error)  # the message lists 50


def test_row_source_streams_rows_with_their_numbers():
    rows = iter_rows(b"id,text\n\n1,a\n2,b\n", "a.csv")
    assert next(rows) == (1, ["id", "text"])
    assert list(rows) == [(3, ["1", "a"]), (4, ["2", "b"])]  # the blank row 2 is skipped, not renumbered


def test_workbook_row_source_matches_openpyxl(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "text", "created_at"])
    sheet.append([1, "=1+1 more", "21/11/2026"])
    sheet.append([None, None, None])
    sheet.append([2.5, True, None])
    path = tmp_path / "b.xlsx"
    book.save(path)
    assert list(iter_rows(path.read_bytes(), "b.xlsx")) == [
        (1, ["id", "text", "created_at"]), (2, [1, "=1+1 more", "21/11/2026"]), (4, [2.5, True])]


def test_a_file_object_is_read_no_further_than_the_limit(db, officer, monkeypatch):
    monkeypatch.setattr(config, "IMPORT_MAX_MB", 1)

    class Endless(io.RawIOBase):
        """A file that never ends: reading it whole would never finish."""

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            buffer[:] = b"x" * len(buffer)
            return len(buffer)

    with pytest.raises(InvalidFile, match="bigger than 1 MB"):
        import_responses(db, officer, io.BufferedReader(Endless()), "endless.csv")
