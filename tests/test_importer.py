"""Importing answers: good files, bad files that name every row and write nothing, re-imports, hostile text."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

import config
from data.importer import InvalidFile, import_responses

HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\tleading tab",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "مجھے اپنے خاندان کی مدد چاہیے",  # Urdu, right to left
    "family 👨‍👩‍👧 & friends 💜",
    'she said "it\'s fine", it isn\'t',
    "line one\nline two\r\nline three",
    "  spaces kept  ",
    "x" * config.MAX_ANSWER_CHARS,
]


def csv_bytes(rows: list[list[str]], header=("id", "question", "group", "text")) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def counts(db) -> tuple[int, int]:
    return (db.execute("SELECT COUNT(*) FROM respondents").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def test_good_csv_imports_every_row_with_external_ids(db, officer):
    data = csv_bytes([["a1", "thrive_helps", "young_person", "my mates"],
                      ["a2", "thrive_stops", "Parent or carer", "no money"],
                      ["a3", "What is child / young person neglect?", "resident", "kids left alone"]])
    result = import_responses(db, officer, data, "answers.csv", event="Market day")
    assert (result.added, result.respondents_added, result.events_created) == (3, 3, ["Market day"])
    rows = {r["external_id"]: r for r in db.query(
        "SELECT r.external_id, r.question_id, p.group_id, r.text, r.source FROM responses r "
        "JOIN respondents p ON p.id = r.respondent_id")}
    assert rows["a2"]["group_id"] == "parent_carer"
    assert rows["a3"]["question_id"] == "neglect_is"
    assert {r["source"] for r in rows.values()} == {"import"}


def test_rows_sharing_a_respondent_belong_to_one_respondent(db, officer):
    data = csv_bytes([["1", "thrive_helps", "young_person", "fam", "P1"],
                      ["2", "thrive_stops", "young_person", "bullying", "P1"],
                      ["3", "thrive_helps", "resident", "parks", ""]],
                     header=("id", "question", "group", "text", "respondent"))
    result = import_responses(db, officer, data, "a.csv")
    assert result.respondents_added == 2
    assert counts(db) == (2, 3)


def test_bad_file_names_every_offending_row_and_column_and_writes_nothing(db, officer):
    data = csv_bytes([["1", "thrive_helps", "young_person", "ok"],
                      ["2", "what_is_love", "young_person", "fine"],
                      ["3", "thrive_helps", "aliens", "hmm"],
                      ["", "thrive_helps", "resident", "no id"],
                      ["1", "thrive_stops", "resident", "duplicate id"],
                      ["6", "thrive_stops", "resident", ""],
                      ["7", "thrive_stops", "resident", "y" * (config.IMPORT_MAX_ANSWER_CHARS + 1)]])
    with pytest.raises(InvalidFile) as info:
        import_responses(db, officer, data, "bad.csv")
    found = {(p.row, p.column) for p in info.value.problems}
    # row 7's blank answer is skipped and counted, not an error; row 8 is past the import's own limit
    assert found == {(3, "question"), (4, "group"), (5, "id"), (6, "id"), (8, "text")}
    message = str(info.value)
    assert "row 3, column 'question'" in message and "nothing was written" in message
    assert counts(db) == (0, 0)
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0


def test_missing_and_unknown_columns_are_rejected(db, officer):
    with pytest.raises(InvalidFile) as info:
        import_responses(db, officer, b"id,question,text,notes\n1,thrive_helps,hi,x\n", "a.csv")
    columns = {p.column for p in info.value.problems}
    assert {"group", "notes"} <= columns
    assert counts(db) == (0, 0)


def test_non_utf8_csv_is_rejected_with_advice(db, officer):
    data = "id,question,group,text\n1,thrive_helps,resident,café\n".encode("cp1252")
    with pytest.raises(InvalidFile, match="CSV UTF-8") as info:
        import_responses(db, officer, data, "a.csv")
    assert info.value.problems[0].row == 2


def test_reimporting_the_same_file_adds_nothing(db, officer):
    data = csv_bytes([["1", "thrive_helps", "young_person", "fam"], ["2", "thrive_stops", "resident", "drugs"]])
    import_responses(db, officer, data, "a.csv", event="Fair")
    again = import_responses(db, officer, data, "a.csv", event="Fair")
    assert (again.added, again.already_present) == (0, 2)
    assert counts(db) == (2, 2)
    # a changed text under a known id is not silently overwritten, and the result says so
    changed = csv_bytes([["1", "thrive_helps", "young_person", "family"]])
    result = import_responses(db, officer, changed, "a.csv", event="Fair")
    assert result.changed_rows_not_updated == [2]
    assert db.execute("SELECT text FROM responses WHERE external_id = '1'").fetchone()[0] == "fam"


def test_same_ids_in_another_event_are_separate_answers(db, officer):
    data = csv_bytes([["1", "thrive_helps", "young_person", "fam"]])
    import_responses(db, officer, data, "a.csv", event="Fair")
    import_responses(db, officer, data, "a.csv", event="Market")
    assert counts(db) == (2, 2)


def test_hostile_text_round_trips_exactly_through_csv(db, officer):
    data = csv_bytes([[str(i), "thrive_helps", "resident", text] for i, text in enumerate(HOSTILE)])
    import_responses(db, officer, data, "hostile.csv")
    stored = {r[0]: r[1] for r in db.execute("SELECT external_id, text FROM responses")}
    assert [stored[str(i)] for i in range(len(HOSTILE))] == HOSTILE


def test_xlsx_import_keeps_text_and_reads_dates(db, officer):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "question", "group", "text", "created_at", "event"])
    ws.append([101, "thrive_helps", "school_staff", "breakfast club", "21/11/2026 10:30", "School fair"])
    ws.append([102, "neglect_is", "practitioner", HOSTILE[5], "2026-11-21T11:00:00Z", "School fair"])
    ws.append([None] * 6)  # a blank row is skipped, not an error
    ws.append(["103", "thrive_local", "resident", "+44 7700 900123 call me", None, "School fair"])
    buffer = io.BytesIO()
    wb.save(buffer)
    result = import_responses(db, officer, buffer.getvalue(), "answers.xlsx")
    assert result.added == 3 and result.events_created == ["School fair"]
    rows = {r[0]: r[1:] for r in db.execute("SELECT external_id, text, created_at FROM responses")}
    assert rows["101"] == ("breakfast club", "2026-11-21T10:30:00.000000+00:00")
    assert rows["102"][0] == HOSTILE[5]
    assert rows["103"][0] == "+44 7700 900123 call me"


def test_bad_dates_and_broken_workbooks_are_named(db, officer):
    data = csv_bytes([["1", "thrive_helps", "resident", "x", "yesterday"]],
                     header=("id", "question", "group", "text", "created_at"))
    with pytest.raises(InvalidFile) as info:
        import_responses(db, officer, data, "a.csv")
    assert (info.value.problems[0].row, info.value.problems[0].column) == (2, "created_at")
    with pytest.raises(InvalidFile, match="not a readable .xlsx"):
        import_responses(db, officer, b"PK\x03\x04 definitely not a workbook", "broken.xlsx")
    assert counts(db) == (0, 0)


def test_one_respondent_cannot_span_two_groups(db, officer):
    data = csv_bytes([["1", "thrive_helps", "young_person", "a", "P"], ["2", "thrive_stops", "resident", "b", "P"]],
                     header=("id", "question", "group", "text", "respondent"))
    with pytest.raises(InvalidFile) as info:
        import_responses(db, officer, data, "a.csv")
    assert (info.value.problems[0].row, info.value.problems[0].column) == (3, "group")


def test_import_redacts_and_flags_as_capture_does(db, officer):
    data = csv_bytes([["1", "thrive_stops", "young_person", "my dad hits me. call 07700 900123"]])
    result = import_responses(db, officer, data, "a.csv")
    assert result.flags_raised == 1
    redacted = db.execute("SELECT redacted_text FROM responses").fetchone()[0]
    assert "07700" not in redacted and "[phone]" in redacted
    flag = db.execute("SELECT kind, status, response_id FROM flags").fetchone()
    assert flag[:2] == ("auto", "open") and flag[2] is not None


def test_import_needs_the_import_permission(db, researcher, lead):
    from data.users import PermissionDenied

    data = csv_bytes([["1", "thrive_helps", "young_person", "fam"]])
    for user in (researcher, lead):
        with pytest.raises(PermissionDenied):
            import_responses(db, user, data, "a.csv")
    assert counts(db) == (0, 0)


def test_values_under_no_header_are_refused_not_dropped(db, officer):
    data = b"id,question,group,text\n1,thrive_helps,resident,parks,and more\n2,thrive_helps,resident,clubs,\n"
    with pytest.raises(InvalidFile) as info:
        import_responses(db, officer, data, "a.csv")
    assert [(p.row, p.column) for p in info.value.problems] == [(2, "")]
    assert "no header" in str(info.value)
    assert counts(db) == (0, 0)


def test_a_repeated_answer_is_screened_once_and_every_copy_gets_its_result(db, officer, monkeypatch):
    import data.importer as importer

    seen = []
    real = importer.BackgroundScreening
    monkeypatch.setattr(importer, "BackgroundScreening", lambda answers: seen.append(list(answers)) or real(answers))
    text = "my dad hits me. call 07700 900123"
    data = csv_bytes([["1", "thrive_stops", "young_person", text], ["2", "thrive_stops", "resident", text],
                      ["3", "thrive_helps", "resident", text], ["4", "thrive_helps", "resident", "parks"]])
    result = import_responses(db, officer, data, "a.csv")
    assert seen == [[(text, "thrive_stops"), (text, "thrive_helps"), ("parks", "thrive_helps")]]
    assert result.flags_raised == 3
    redacted = [r for (r,) in db.execute("SELECT redacted_text FROM responses ORDER BY external_id")]
    assert all("07700" not in r for r in redacted[:3]) and redacted[3] == "parks"


def _day_counts(db) -> list[tuple]:
    return [tuple(r) for r in db.execute(
        "SELECT e.name, c.day, c.people, c.postits, c.answers FROM event_day_counts c JOIN events e ON e.id = c.event_id "
        "ORDER BY e.name, c.day").fetchall()]


def _triggers(db) -> list[tuple]:
    return [tuple(r) for r in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")]


def _big_file(rows: int, times: bool) -> bytes:
    when = ["2026-11-23 10:00:00", "2026-11-24 23:30:00", "", "23/11/2026 14:05"]
    return csv_bytes([[f"r{i}", "thrive_helps", "young_person", f"answer {i % 7}", f"p{i // 3}",
                       "Big day" if i % 5 else "Other day", when[i % 4] if times else ""] for i in range(rows)],
                     header=("id", "question", "group", "text", "respondent", "event", "created_at"))


@pytest.mark.parametrize("times", [True, False])
def test_a_big_import_counts_per_day_exactly_as_the_triggers_do(db, officer, tmp_path, monkeypatch, times):
    """A big import drops the two count triggers in its transaction and adds the counts in bulk: the counts, and
    the triggers afterwards, are the same as a row-by-row import's."""
    import data.importer as importer
    from data import open_db

    if "event_day_counts" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}:
        pytest.skip("this schema keeps no per-day counts")
    data = _big_file(3_000, times)
    before = _triggers(db)
    import_responses(db, officer, data, "big.csv", event="Big day")
    assert _triggers(db) == before
    row_by_row = open_db(tmp_path / "row_by_row.db")
    monkeypatch.setattr(importer, "_BULK_COUNT_MIN", 10 ** 9)
    import_responses(row_by_row, officer, data, "big.csv", event="Big day")
    assert _day_counts(db) == _day_counts(row_by_row)
    # what the counts say is what the tables hold
    people, answers = counts(db)
    assert answers == 3_000 and people > 1_000
    assert sum(r[4] for r in _day_counts(db)) == answers and sum(r[2] for r in _day_counts(db)) == people
    assert len(_day_counts(db)) == (6 if times else 2)  # 3 days and "today" x 2 events, or today only
    # and the triggers still count what comes after (a small import goes row by row)
    import_responses(db, officer, csv_bytes([["x1", "thrive_helps", "young_person", "one more"]]), "one.csv",
                     event="Big day")
    assert sum(r[4] for r in _day_counts(db)) == 3_001


def test_a_failed_big_import_keeps_the_triggers_and_the_counts(db, officer, monkeypatch):
    import data.importer as importer

    if not {"responses_counted", "respondents_counted"} <= {t[0] for t in _triggers(db)}:
        pytest.skip("this schema keeps no per-day counts")
    before_triggers, before_counts = _triggers(db), _day_counts(db)

    real, calls = importer._insert_responses, []

    def fails_on_the_second_batch(db_, rows):  # the triggers are dropped by then, the counts not yet added
        calls.append(len(rows))
        if len(calls) == 2:
            assert not {"responses_counted", "respondents_counted"} & {t[0] for t in _triggers(db_)}
            raise RuntimeError("disk full")
        real(db_, rows)

    monkeypatch.setattr(importer, "_insert_responses", fails_on_the_second_batch)
    data = _big_file(2_500 + importer.WRITE_BATCH, True)
    with pytest.raises(RuntimeError, match="disk full"):
        import_responses(db, officer, data, "big.csv", event="Big day")
    assert _triggers(db) == before_triggers and _day_counts(db) == before_counts
    assert counts(db) == (0, 0)
