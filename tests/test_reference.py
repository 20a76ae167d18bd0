"""Withdrawal references: the format, uniqueness in the database, what Save returns, and erasure by a reference
typed back from a thank-you card (core and CLI), forgiving about case, spaces, hyphens and look-alikes."""

from __future__ import annotations

import itertools
import random
import re

import pytest
from click.testing import CliRunner

from data import erasure, reference
from data.capture import add_transcribed, save_respondent
from data.erasure import ErasureError

CONFUSABLE = set("0O1IL2Z5S8B6GV")


def _save(db, user, event, text="the park", token=None):
    return save_respondent(db, user, event_id=event.id, group_id="young_person", consent=True,
                           answers={"thrive_helps": text}, submission_token=token)


def _ref_of(db, respondent_id):
    return db.execute("SELECT reference FROM respondents WHERE id = ?", [respondent_id]).fetchone()[0]


def test_alphabet_leaves_out_look_alikes_and_format_is_three_hyphen_three():
    assert not CONFUSABLE & set(reference.ALPHABET)
    assert len(set(reference.ALPHABET)) == len(reference.ALPHABET) >= 20
    rng = random.Random(7)
    for _ in range(500):
        ref = reference.generate(rng.choice)
        assert re.fullmatch(r"[A-Z0-9]{3}-[A-Z0-9]{3}", ref), ref
        assert reference.is_reference(ref)
        assert not CONFUSABLE & set(ref)
    assert not reference.is_reference("K0M-3QP") and not reference.is_reference("K7M3QP")


def test_reading_back_is_forgiving_but_only_where_unambiguous():
    assert reference.candidates("k7m 3qp") == ["K7M-3QP"]
    assert reference.candidates(" K7M–3QP ") == ["K7M-3QP"]  # an en dash from a phone keyboard
    assert reference.candidates("K7M3QP") == ["K7M-3QP"]
    assert sorted(reference.candidates("K7M-3OP")) == ["K7M-3DP", "K7M-3QP"]
    assert reference.candidates("K7M-3Q") == []  # too short
    assert reference.candidates("K7M-3QPP") == []
    assert reference.candidates("K7M-3SP") == []  # S has no look-alike in the alphabet


def test_save_gives_each_respondent_its_own_reference_and_a_double_tap_the_same(db, researcher, event):
    first = _save(db, researcher, event, token="form-1")
    again = _save(db, researcher, event, token="form-1")
    second = _save(db, researcher, event, token="form-2")
    assert reference.is_reference(first.reference)
    assert again.created is False and again.reference == first.reference
    assert second.reference != first.reference
    assert _ref_of(db, first.respondent_id) == first.reference


def test_a_colliding_reference_is_retried_and_the_database_refuses_duplicates(db, researcher, event, monkeypatch):
    taken = _save(db, researcher, event).reference
    fresh = "KKK-KKK" if taken != "KKK-KKK" else "MMM-MMM"
    offered = iter([taken, taken, fresh])
    monkeypatch.setattr(reference, "generate", lambda *a: next(offered))
    result = _save(db, researcher, event, text="buses")
    assert result.reference == fresh
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE respondents SET reference = ? WHERE id = ?", [taken, result.respondent_id])
    monkeypatch.setattr(reference, "generate", lambda *a: taken)
    with pytest.raises(RuntimeError, match="No free respondent reference"):
        _save(db, researcher, event, text="youth club")
    assert db.execute("SELECT COUNT(*) FROM respondents").fetchone()[0] == 2  # the failed save stored nothing


def test_post_its_get_no_reference(db, researcher, admin, event):
    from data.users import User

    transcriber = User("tom", frozenset({"engagement_officer"}), "Tom")
    added = add_transcribed(db, transcriber, event_id=event.id, question_id="thrive_helps", group_id="young_person",
                            text="more buses")
    assert _ref_of(db, added.respondent_id) is None


@pytest.mark.parametrize("typed", ["{ref}", "{lower}", "{nohyphen}", " {spaced} "])
def test_erase_by_reference_as_typed(db, researcher, admin, event, typed):
    gone = _save(db, researcher, event, text="my nan")
    kept = _save(db, researcher, event, text="parks")
    ref = gone.reference
    text = typed.format(ref=ref, lower=ref.lower(), nohyphen=ref.replace("-", ""), spaced=ref.replace("-", " "))
    result = erasure.erase(db, admin, text, "withdrew at the stall")
    assert result.respondent_id == gone.respondent_id and result.reference == ref
    assert ref in result.summary()
    remaining = [r[0] for r in db.execute("SELECT id FROM respondents")]
    assert remaining == [kept.respondent_id]


def _force_refs(monkeypatch, refs):
    offered = iter(refs)
    monkeypatch.setattr(reference, "generate", lambda *a: next(offered))


def test_look_alike_is_used_only_when_one_reference_fits(db, researcher, admin, event, monkeypatch):
    _force_refs(monkeypatch, ["K7M-3QP", "A4D-7XY", "A4Q-7XY"])
    one = _save(db, researcher, event, text="a")
    _save(db, researcher, event, text="b")
    _save(db, researcher, event, text="c")
    # "O" for "Q": only K7M-3QP exists among K7M-3DP / K7M-3QP
    assert erasure.find_respondent(db, admin, "k7m-3op") == one.respondent_id
    # "O" could be the D or the Q of two stored references: refused, naming both, nothing erased
    with pytest.raises(ErasureError, match="A4D-7XY, A4Q-7XY"):
        erasure.erase(db, admin, "A4O-7XY", "asked")
    assert db.execute("SELECT COUNT(*) FROM respondents").fetchone()[0] == 3
    with pytest.raises(ErasureError, match="No respondent"):
        erasure.find_respondent(db, admin, "K7M-3QQ")


def test_erasing_the_same_card_twice_says_already_erased(db, researcher, admin, event):
    ref = _save(db, researcher, event).reference
    erasure.erase(db, admin, ref, "withdrew")
    with pytest.raises(ErasureError, match=f"{ref} was already erased"):
        erasure.erase(db, admin, ref.lower(), "withdrew again")
    stones = db.execute("SELECT ref_id FROM tombstones WHERE kind = 'reference'").fetchall()
    assert stones == [(ref,)]


def test_an_imported_reference_typed_exactly_is_not_read_as_a_card(db, researcher, admin, event, monkeypatch):
    from data.importer import import_responses

    _force_refs(monkeypatch, ["K7M-3QP"])
    card = _save(db, researcher, event)
    # an imported file whose own respondent column happens to look like a card reference
    import_responses(db, admin, __import__("io").BytesIO(
        b"id,question,group,text,respondent,event\n"
        b"x1,thrive_helps,young_person,buses,K7M3QP,Family centre drop-in\n"), "answers.csv")
    imported = db.execute("SELECT id FROM respondents WHERE external_ref = 'K7M3QP'").fetchone()[0]
    assert erasure.find_respondent(db, admin, "K7M3QP") == imported
    assert erasure.find_respondent(db, admin, "K7M-3QP") == card.respondent_id


def test_cli_erase_by_reference(db, db_path, researcher, admin, event):
    from cli import cli

    ref = _save(db, researcher, event).reference
    other = _save(db, researcher, event, text="buses").respondent_id
    runner = CliRunner()
    missing = runner.invoke(cli, ["erase", "XXX-XXX" if ref != "XXX-XXX" else "YYY-YYY", "--reason", "asked",
                                  "--db", str(db_path), "--yes"])
    assert missing.exit_code == 1 and "No respondent" in missing.output
    aborted = runner.invoke(cli, ["erase", ref.lower(), "--reason", "asked", "--db", str(db_path)], input="n\n")
    assert aborted.exit_code != 0 and f"(reference {ref})" in aborted.output
    done = runner.invoke(cli, ["erase", ref.replace("-", " ").lower(), "--reason", "withdrew", "--db", str(db_path),
                               "--yes"])
    assert done.exit_code == 0, done.output
    assert ref in done.output
    assert [r[0] for r in db.execute("SELECT id FROM respondents")] == [other]
    again = runner.invoke(cli, ["erase", ref, "--reason", "withdrew", "--db", str(db_path), "--yes"])
    assert again.exit_code == 1 and "already erased" in again.output


def test_references_spread_over_the_alphabet():
    # every character and position is reachable (a broken generator repeating one character would fail)
    seen = [set() for _ in range(6)]
    rng = random.Random(1)
    for _ in range(2000):
        for i, ch in enumerate(reference.generate(rng.choice).replace("-", "")):
            seen[i].add(ch)
    assert all(s == set(reference.ALPHABET) for s in seen)
    assert len(list(itertools.islice(reference.candidates("KKKKKK"), 3))) == 1


def test_admin_page_erases_by_the_card_reference(db, admin, researcher, event):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from ui import session

    gone = _save(db, researcher, event, text="my nan")
    kept = _save(db, researcher, event, text="parks")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "pages" / "admin.py"), default_timeout=30)
    at.session_state[session.USER_KEY] = admin
    at.run()
    at.text_input(key="admin_erase_ref").input(gone.reference.lower().replace("-", " ")).run()
    at.button(key="admin_erase_find").click().run()
    assert not at.exception, at.exception
    assert any(f"reference **{gone.reference}**" in w.value and "1 answer(s)" in w.value for w in at.warning)
    at.text_input(key="admin_erase_reason").input("Withdrew at the stall")
    at.checkbox(key="admin_erase_sure").check()
    at.button(key="FormSubmitter:admin_erase_form-Erase").click().run()
    assert not at.exception, at.exception
    assert [r[0] for r in db.execute("SELECT id FROM respondents")] == [kept.respondent_id]
    at.text_input(key="admin_erase_ref").input(gone.reference).run()
    at.button(key="admin_erase_find").click().run()
    assert any("already erased" in e.value for e in at.error)
