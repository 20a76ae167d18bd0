"""The fast loading of data/findings.py: one group_concat string per column equals the row-by-row fetch (and falls
back to it when a value holds a separator), and the Findings page's prepared data after a change of codings
(answers kept, codings reloaded: load_prepared / analysis.findings.recode) equals a full rebuild."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import findings as af
from data import coding
from data import findings as df
from tests.findings_data import seed


@pytest.fixture
def seeded(db, admin):
    df._PREPARED.clear()
    yield seed(db, admin)
    df._PREPARED.clear()


def _row_by_row(monkeypatch, db, user, **options):
    with monkeypatch.context() as m:
        m.setattr(df, "_columns", lambda *a, **k: None)
        return df.load_frames(db, user, **options)


def _assert_frames_equal(fast, slow):
    for name in ("answers", "codings", "codes", "pins", "events"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(slow, name), check_exact=True, obj=name)
    assert fast.questions == slow.questions and fast.groups == slow.groups


@pytest.mark.parametrize("options", [{}, {"with_text": True}, {"with_text": True, "coding_details": False},
                                     {"with_text": True, "originals": True}])
def test_fast_load_equals_row_by_row(monkeypatch, db, admin, seeded, options):
    fast = df.load_frames(db, admin, **options)
    assert len(fast.answers) and len(fast.codings)
    _assert_frames_equal(fast, _row_by_row(monkeypatch, db, admin, **options))


def test_fast_path_is_taken_and_keeps_key_order(db, admin, seeded):
    got = df._columns(db, "responses", "rowid", ["id", "position"], ["id", "position"], ints=("position",))
    rows = db.execute("SELECT id, position FROM responses ORDER BY rowid").fetchall()
    assert got is not None
    assert got["id"].to_pylist() == [r[0] for r in rows]
    assert got["position"].tolist() == [r[1] for r in rows]
    # rows aggregated in another order than the key's are put in key order
    back = df._columns(db, "responses", "-rowid", ["id"], ["id"])
    assert back["id"].to_pylist() == [r[0] for r in reversed(rows)]


@pytest.mark.parametrize("value", ["a\x1fb", "\x1e", "x\x1ey", "line\nbreak, comma; \u0627\u0631\u062f\u0648 \U0001F600"])
def test_values_with_separators_fall_back_and_load_exactly(monkeypatch, db, admin, seeded, value):
    rid = db.execute("SELECT id FROM responses ORDER BY rowid LIMIT 1").fetchone()[0]
    db.execute("UPDATE responses SET redacted_text = ?, text = ? WHERE id = ?", [value, value, rid])
    db.conn.commit()
    fast = df.load_frames(db, admin, with_text=True, originals=True)
    row = fast.answers[fast.answers["response_id"] == rid].iloc[0]
    assert row["text"] == value and row["original_text"] == value
    _assert_frames_equal(fast, _row_by_row(monkeypatch, db, admin, with_text=True, originals=True))
    taken = df._columns(db, "responses", "rowid", ["redacted_text"], ["text"])
    assert (taken is None) == ("\x1f" in value)


def test_an_int_column_that_is_not_an_integer_falls_back(db, seeded):
    assert df._columns(db, "responses", "rowid", ["id"], ["id"], ints=("id",)) is None
    assert df._columns(db, "responses", "rowid", ["id"], ["id"]) is not None
    assert df._columns(db, "pinned_quotes", "rowid", ["code_id"], ["code_id"]) is None  # empty: row by row


def _tables(prep):
    sel = af.select(prep, af.Filter())
    sel_q = af.select(prep, af.Filter(questions=("thrive_helps",)))
    out = {"shares_theme": af.theme_shares(sel), "shares_code": af.theme_shares(sel, "code"),
           "by_group": af.by_group(sel, "code"), "progress": af.progress(sel),
           "groups": af.respondents_by_group(sel), "headline": pd.DataFrame([af.headline(sel)]),
           "cooc": af.cooccurrence(sel, "code", "respondent"), "words": af.words_and_phrases(sel)[0],
           "phrases": af.words_and_phrases(sel)[1], "words_q": af.words_and_phrases(sel_q, "thrive_helps")[0]}
    for code_id in prep.codes["code_id"]:
        out[f"quotes_{code_id}"] = af.quotes(sel, int(code_id), 3)
    return out


def _assert_same(prep, fresh):
    a, b = _tables(prep), _tables(fresh)
    assert a.keys() == b.keys()
    for key in a:
        pd.testing.assert_frame_equal(a[key].reset_index(drop=True), b[key].reset_index(drop=True), obj=key)
    assert (prep.coded == fresh.coded).all()
    pd.testing.assert_frame_equal(prep.pairs, fresh.pairs)


def _full(db, user, approved_only=False):
    frames = df.load_frames(db, user, with_text=True, coding_details=False, approved_only=approved_only)
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    prep.events = frames.events
    return prep


def _count_answer_loads(monkeypatch):
    calls = []
    real = df._answers

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(df, "_answers", counting)
    return calls


def test_a_new_coding_reloads_only_the_codings_and_equals_a_full_rebuild(monkeypatch, db, lead, officer, seeded):
    loads = _count_answer_loads(monkeypatch)
    first = df.load_prepared(db, lead)
    _tables(first)  # the memos (tokens, word indexes, quote checks) filled before the change
    assert df.load_prepared(db, lead) is first and len(loads) == 1  # nothing changed: nothing loaded
    uncoded = db.execute("SELECT id FROM responses WHERE id NOT IN (SELECT response_id FROM codings) "
                         "ORDER BY rowid LIMIT 1").fetchone()[0]
    coded = db.execute("SELECT response_id FROM codings ORDER BY id LIMIT 1").fetchone()[0]
    coding.apply_code(db, officer, uncoded, "family_love")
    coding.apply_code(db, officer, coded, "poverty_money")
    second = df.load_prepared(db, lead)
    assert second is not first and len(loads) == 1  # the answers were kept
    assert second.answers is first.answers and second._tokens is first._tokens
    assert second.coded[second.answers.index[second.answers["response_id"] == uncoded][0]]
    _assert_same(second, _full(db, lead))
    # a pinned quote is a codings-side change too
    code_id = int(db.execute("SELECT id FROM codes WHERE name = 'family_love'").fetchone()[0])
    df.pin_quote(db, officer, code_id, uncoded)
    before = len(loads)
    third = df.load_prepared(db, lead)
    assert len(loads) == before and len(third.pins) == len(first.pins) + 1
    _assert_same(third, _full(db, lead))


def test_a_removed_coding_or_a_new_answer_reloads_everything_and_stays_equal(monkeypatch, db, lead, officer,
                                                                             admin, seeded):
    loads = _count_answer_loads(monkeypatch)
    first = df.load_prepared(db, lead)
    response_id, code_name = db.execute(
        "SELECT c.response_id, k.name FROM codings c JOIN codes k ON k.id = c.code_id WHERE c.coder = ? "
        "ORDER BY c.id LIMIT 1", [officer.username]).fetchone()
    assert coding.remove_code(db, officer, response_id, code_name)
    second = df.load_prepared(db, lead)  # a deletion moves the edit counter every table shares
    assert len(loads) == 2 and second is not first
    _assert_same(second, _full(db, lead))
    before = len(loads)
    from data.capture import save_respondent

    save_respondent(db, admin, event_id=seeded["events"]["e1"], group_id="parent_carer", consent=True,
                    answers={"thrive_helps": ["A warm home and friends nearby"]}, submission_token="reload-1")
    third = df.load_prepared(db, lead)
    assert len(loads) == before + 1 and len(third.answers) == len(second.answers) + 1
    _assert_same(third, _full(db, lead))


def test_approved_only_keeps_its_own_entry_and_its_codings(monkeypatch, db, lead, officer, seeded):
    everything = df.load_prepared(db, lead)
    approved = df.load_prepared(db, lead, approved_only=True)
    assert approved is not everything
    uncoded = db.execute("SELECT id FROM responses WHERE id NOT IN (SELECT response_id FROM codings) "
                         "ORDER BY rowid LIMIT 1").fetchone()[0]
    coding.apply_code(db, officer, uncoded, "family_love")
    _assert_same(df.load_prepared(db, lead, approved_only=True), _full(db, lead, approved_only=True))
    _assert_same(df.load_prepared(db, lead), _full(db, lead))


def test_load_prepared_needs_the_findings_permission(db, researcher, seeded):
    from data.users import PermissionDenied

    with pytest.raises(PermissionDenied):
        df.load_prepared(db, researcher)
