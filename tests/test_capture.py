"""Recording answers in the core: save, double save, consent, closed events, limits, flags, transcription."""

from __future__ import annotations

import pytest

import config
from data.capture import (
    CaptureError,
    add_transcribed,
    event_counts,
    flag_respondent,
    save_respondent,
    split_answers,
    undo_transcribed,
)
from data.events import close_event
from data.users import PermissionDenied


def answers_in(db) -> list[tuple[str, int, str]]:
    return [tuple(r) for r in db.execute("SELECT question_id, position, text FROM responses ORDER BY question_id, position")]


def test_split_answers_one_per_line_exactly_as_typed():
    assert split_answers("fam\n\n  \nmates \r\nschool") == ["fam", "mates ", "school"]
    assert split_answers("") == []


def test_save_stores_respondent_answers_and_counts(db, event, researcher):
    result = save_respondent(db, researcher, event_id=event.id, group_id="young_person", consent=True,
                             answers={"thrive_helps": ["fam", "mates", "youth club"], "neglect_is": ["no food"],
                                      "thrive_stops": []},
                             profile={"age_band": "age_14_17", "ward": "Netherton"})
    assert result.created and result.answers_saved == 4 and result.count_today == 1
    assert answers_in(db) == [("neglect_is", 0, "no food"), ("thrive_helps", 0, "fam"), ("thrive_helps", 1, "mates"),
                              ("thrive_helps", 2, "youth club")]
    respondent = db.execute("SELECT group_id, consent, recorded_by, source, profile FROM respondents").fetchone()
    assert respondent[:4] == ("young_person", 1, researcher.username, "tablet")
    assert "Netherton" in respondent[4]
    counts = event_counts(db, researcher, event.id)
    assert (counts.respondents, counts.respondents_today, counts.answers) == (1, 1, 4)


def test_double_save_with_the_same_token_stores_one_respondent(db, event, researcher):
    kwargs = dict(event_id=event.id, group_id="resident", consent=True, answers={"thrive_helps": ["parks"]},
                  submission_token="form-123")
    first = save_respondent(db, researcher, **kwargs)
    second = save_respondent(db, researcher, **kwargs)
    assert first.created and not second.created
    assert second.respondent_id == first.respondent_id
    assert db.execute("SELECT COUNT(*) FROM respondents").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1


def test_consent_group_and_some_answer_are_required_and_nothing_is_written(db, event, researcher):
    with pytest.raises(CaptureError) as info:
        save_respondent(db, researcher, event_id=event.id, group_id="", consent=False, answers={"thrive_helps": ["x"]})
    text = " ".join(info.value.problems)
    assert "consent" in text and "group" in text
    with pytest.raises(CaptureError, match="no answers"):
        save_respondent(db, researcher, event_id=event.id, group_id="resident", consent=True, answers={})
    assert db.execute("SELECT COUNT(*) FROM respondents").fetchone()[0] == 0


def test_closed_event_unknown_question_and_overlong_answer_are_refused(db, event, researcher, admin):
    too_long = "z" * (config.MAX_ANSWER_CHARS + 1)
    with pytest.raises(CaptureError) as info:
        save_respondent(db, researcher, event_id=event.id, group_id="resident", consent=True,
                        answers={"thrive_helps": [too_long], "favourite_colour": ["blue"]})
    text = " ".join(info.value.problems)
    assert f"{config.MAX_ANSWER_CHARS:,}" in text and "favourite_colour" in text
    close_event(db, admin, event.id)
    with pytest.raises(CaptureError, match="closed"):
        save_respondent(db, researcher, event_id=event.id, group_id="resident", consent=True,
                        answers={"thrive_helps": ["ok"]})
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0


def test_a_disclosure_raises_a_flag_and_worried_raises_a_manual_one(db, event, researcher):
    result = save_respondent(db, researcher, event_id=event.id, group_id="young_person", consent=True,
                             answers={"thrive_stops": ["my dad hits me when he's drunk"]}, worried=True,
                             worried_note="looked scared")
    kinds = sorted(f.kind for f in result.flags)
    assert kinds == ["auto", "manual"]
    stored = db.execute("SELECT kind, status, raised_by, reason FROM flags ORDER BY kind").fetchall()
    assert [r[:3] for r in stored] == [("auto", "open", researcher.username), ("manual", "open", researcher.username)]
    assert "looked scared" in stored[1][3]


def test_worried_flag_can_be_raised_after_saving(db, event, researcher):
    result = save_respondent(db, researcher, event_id=event.id, group_id="resident", consent=True,
                             answers={"thrive_helps": ["community"]})
    flag = flag_respondent(db, researcher, result.respondent_id, "quiet, wanted to say more")
    assert flag.kind == "manual" and flag.respondent_id == result.respondent_id


def test_redacted_text_is_stored_beside_the_original(db, event, researcher):
    save_respondent(db, researcher, event_id=event.id, group_id="parent_carer", consent=True,
                    answers={"thrive_local": ["email me at jo.bloggs@example.org"]})
    text, redacted = db.execute("SELECT text, redacted_text FROM responses").fetchone()
    assert text == "email me at jo.bloggs@example.org"
    assert "jo.bloggs" not in redacted and "[email]" in redacted


def test_strategy_leads_and_safeguarding_leads_cannot_record(db, event, lead, safeguarding_lead):
    for user in (lead, safeguarding_lead):
        with pytest.raises(PermissionDenied):
            save_respondent(db, user, event_id=event.id, group_id="resident", consent=True,
                            answers={"thrive_helps": ["x"]})
        with pytest.raises(PermissionDenied):
            event_counts(db, user, event.id)


def test_transcribe_then_undo_the_last_post_it(db, event, researcher, officer):
    first = add_transcribed(db, researcher, event_id=event.id, question_id="thrive_helps", group_id="resident",
                            text="more buses")
    second = add_transcribed(db, researcher, event_id=event.id, question_id="thrive_helps", group_id="resident",
                             text="more buses to the park")
    assert db.execute("SELECT COUNT(*) FROM respondents WHERE source = 'transcribed'").fetchone()[0] == 2
    with pytest.raises(CaptureError, match="Only the person"):
        undo_transcribed(db, officer, second.response_id)
    assert undo_transcribed(db, researcher, second.response_id) == "more buses to the park"
    assert [r[0] for r in db.execute("SELECT id FROM responses")] == [first.response_id]
    assert db.execute("SELECT COUNT(*) FROM respondents").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'transcription_undone'").fetchone()[0] == 1


def test_undo_refuses_a_flagged_post_it(db, event, researcher):
    flagged = add_transcribed(db, researcher, event_id=event.id, question_id="thrive_stops", group_id="young_person",
                              text="im scared to go home")
    assert flagged.flag is not None
    with pytest.raises(CaptureError, match="safeguarding"):
        undo_transcribed(db, researcher, flagged.response_id)
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1


def test_transcribe_rejects_empty_text_and_choice_questions(db, event, researcher):
    with pytest.raises(CaptureError):
        add_transcribed(db, researcher, event_id=event.id, question_id="thrive_helps", group_id="resident", text="  ")
    with pytest.raises(CaptureError, match="group"):
        add_transcribed(db, researcher, event_id=event.id, question_id="thrive_helps", group_id="martians", text="x")


def test_post_its_are_counted_apart_from_people_in_findings_and_exports(db, researcher, officer, lead, event):
    import io

    from docx import Document

    from analysis import findings as af
    from data import findings as df
    from data.capture import add_transcribed, event_counts, save_respondent
    from exports import report, tables

    save_respondent(db, researcher, event_id=event.id, group_id="young_person", consent=True,
                    answers={"thrive_helps": ["parks", "youth club"]})
    save_respondent(db, researcher, event_id=event.id, group_id="resident", consent=True,
                    answers={"thrive_helps": "buses"})
    for text in ("more buses", "safe parks", "free wifi"):
        add_transcribed(db, officer, event_id=event.id, question_id="thrive_helps", group_id="resident", text=text)
    counts = event_counts(db, researcher, event.id)
    assert (counts.respondents, counts.respondents_today, counts.postits, counts.answers) == (2, 2, 3, 6)
    frames = df.load_frames(db, lead)
    assert frames.answers["flipchart"].tolist().count(True) == 3
    ex = tables.build(frames)
    head = af.headline(ex.sel)
    assert (head["respondents"], head["postits"], head["flipchart_answers"], head["answers"]) == (2, 3, 3, 6)
    assert ex.counts["respondents"] == 2 and ex.counts["flipchart post-its (anonymous, not respondents)"] == 3
    assert ex.counts["answers from flipchart post-its"] == 3
    text = "\n".join(p.text for p in Document(io.BytesIO(report.report_bytes(ex))).paragraphs)
    assert "2 people gave 3 answers and 3 answers came from 3 flipchart post-it(s)" in text
