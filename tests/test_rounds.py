"""Engagement rounds (issue 12 item 4): rounds and their events, the round filter, rounds compared (shares, change
and its Newcombe interval, appeared/vanished), actions, the "you said, we did" sheet, snapshots, the CLI, the
Rounds page and the Findings "Compare rounds" tab.

The comparison's numbers are worked out by hand below from tests/findings_data.py's answers.
"""

from __future__ import annotations

import io
import math
import os
import re

import pytest
from click.testing import CliRunner
from docx import Document

from analysis import findings as af
from data import actions, rounds
from data.capture import save_respondent
from data.findings import load_frames
from data.flags import WITHHELD_TEXT
from data.users import PermissionDenied
from tests.findings_data import run_page, seed


def wilson_interval(k, n):
    lo, hi = af.wilson_interval(k, n)
    return float(lo), float(hi)


def newcombe_difference(k1, n1, k2, n2):
    lo, hi = af.newcombe_interval(k1, n1, k2, n2)
    return k1 / n1 - k2 / n2 if n1 and n2 else math.nan, float(lo), float(hi)


def sel_of(db, user, round_id):
    f = load_frames(db, user, with_text=True, round_id=round_id)
    prep = af.prepare(f.answers, f.codings, f.codes, f.pins, f.questions, f.groups)
    return af.select(prep, af.Filter())


@pytest.fixture
def two_rounds(db, admin):
    """Round "2019" = the youth club night (6 young people), "2026 refresh" = the family centre drop-in (7)."""
    ids = seed(db, admin)
    old = rounds.create_round(db, admin, "Neglect strategy 2019")
    new = rounds.create_round(db, admin, "2026 refresh")
    rounds.assign_events(db, admin, old.id, [ids["events"]["e1"]])
    rounds.assign_events(db, admin, new.id, [ids["events"]["e2"]])
    return ids, old, new


# --- intervals ------------------------------------------------------------------------------------------------

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score without continuity
# correction): published limits for his worked examples.
NEWCOMBE_EXAMPLES = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
]


@pytest.mark.parametrize("counts,published", NEWCOMBE_EXAMPLES)
def test_newcombe_interval_matches_the_published_examples(counts, published):
    d, low, high = newcombe_difference(*counts)
    assert d == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (round(low, 4), round(high, 4)) == published


@pytest.mark.parametrize("k,n", [(0, 1), (1, 7), (6, 7), (5, 5), (7, 20), (50, 120), (0, 30)])
def test_wilson_interval_matches_scipy(k, n):
    scipy_stats = pytest.importorskip("scipy.stats")
    ref = scipy_stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(ref.low, abs=1e-12) and high == pytest.approx(ref.high, abs=1e-12)


def test_interval_edges():
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
    assert all(math.isnan(x) for x in newcombe_difference(1, 0, 1, 5))
    assert wilson_interval(0, 7)[0] == 0.0 and wilson_interval(7, 7)[1] == 1.0


# --- rounds ---------------------------------------------------------------------------------------------------

def test_rounds_crud_and_one_round_per_event(db, admin, officer, lead):
    ids = seed(db, admin)
    e1, e2 = ids["events"]["e1"], ids["events"]["e2"]
    r = rounds.create_round(db, officer, "  Neglect   strategy 2019 ")
    assert r.name == "Neglect strategy 2019" and r.events == 0
    with pytest.raises(rounds.RoundError, match="already a round"):
        rounds.create_round(db, officer, "neglect strategy 2019")
    with pytest.raises(rounds.RoundError, match="name"):
        rounds.create_round(db, officer, "   ")
    assert rounds.assign_events(db, officer, r.id, [e1, e2]) == 2
    assert rounds.assign_events(db, officer, r.id, [e1]) == 0  # already there: nothing changes
    other = rounds.create_round(db, officer, "2026 refresh")
    with pytest.raises(rounds.RoundError, match="already in another round"):
        rounds.assign_events(db, officer, other.id, [e2])
    assert rounds.event_ids(db, r.id) == sorted([e1, e2])
    assert rounds.assign_events(db, officer, other.id, [e2], move=True) == 1
    assert rounds.event_ids(db, r.id) == [e1] and rounds.event_ids(db, other.id) == [e2]
    assert rounds.round_of_events(db, lead) == {e1: r.id, e2: other.id}
    with pytest.raises(rounds.RoundError, match="no longer exist"):
        rounds.assign_events(db, officer, r.id, ["not-an-event"])
    renamed = rounds.rename_round(db, officer, r.id, "2019 strategy")
    assert renamed.name == "2019 strategy"
    with pytest.raises(rounds.RoundError, match="already a round"):
        rounds.rename_round(db, officer, r.id, "2026 REFRESH")
    listed = rounds.list_rounds(db, lead)
    assert [x.name for x in listed] == ["2019 strategy", "2026 refresh"]  # earliest events first
    assert listed[0].first_date == "2026-11-20" and listed[1].first_date == "2026-12-01"
    assert rounds.get_round(db, lead, "2026 Refresh").id == other.id
    assert rounds.get_round(db, lead, str(other.id)).id == other.id
    with pytest.raises(rounds.RoundError):
        rounds.get_round(db, lead, "no such round")
    assert rounds.unassign_events(db, officer, other.id, [e2]) == 1 and rounds.event_ids(db, other.id) == []
    audit = [a for (a,) in db.execute("SELECT action FROM audit WHERE action LIKE 'round%'")]
    assert {"round_created", "round_renamed", "round_events_assigned", "round_events_removed"} <= set(audit)


def test_strategy_leads_read_rounds_but_do_not_manage_them(db, admin, lead, researcher):
    ids = seed(db, admin)
    r = rounds.create_round(db, admin, "2026 refresh")
    for call in (lambda: rounds.create_round(db, lead, "x"), lambda: rounds.rename_round(db, lead, r.id, "y"),
                 lambda: rounds.assign_events(db, lead, r.id, [ids["events"]["e1"]]),
                 lambda: rounds.take_snapshot(db, lead, r.id),
                 lambda: actions.add_action(db, lead, r.id, "family_love", "do it")):
        with pytest.raises(PermissionDenied):
            call()
    assert [x.name for x in rounds.list_rounds(db, lead)] == ["2026 refresh"]
    with pytest.raises(PermissionDenied):
        rounds.list_rounds(db, researcher)


def test_round_filter_loads_only_its_events(db, admin, two_rounds):
    ids, old, new = two_rounds
    every = load_frames(db, admin, with_text=True)
    f_new = load_frames(db, admin, with_text=True, round_id=new.id)
    assert len(every.answers) == 14 and len(f_new.answers) == 7
    assert set(f_new.answers["event_id"]) == {ids["events"]["e2"]}
    assert set(f_new.codings["response_id"]) <= set(f_new.answers["response_id"])
    assert list(f_new.events["event_id"]) == [ids["events"]["e2"]]
    empty = rounds.create_round(db, admin, "Empty")
    assert load_frames(db, admin, round_id=empty.id).answers.empty


# --- comparison -----------------------------------------------------------------------------------------------

def test_comparison_numbers_against_a_hand_computation(db, admin, two_rounds):
    _, old, new = two_rounds
    cmp = af.compare_rounds(sel_of(db, admin, new.id), sel_of(db, admin, old.id), "code", threshold=5)
    row = cmp[(cmp["question_id"] == "thrive_helps") & (cmp["code"] == "family_love")].iloc[0]
    # 2026 (e2): 7 people with a coded thrive_helps answer, 5 say family (4 parents' "family support..." + 1
    # practitioner). 2019 (e1): 5 coded young people (6th said "dunno", uncoded), 3 say family.
    assert (row.respondents_a, row.base_a, row.respondents_b, row.base_b) == (5, 7, 3, 5)
    assert row.share_a == pytest.approx(5 / 7) and row.share_b == pytest.approx(3 / 5)
    d, low, high = newcombe_difference(5, 7, 3, 5)
    assert row.change == pytest.approx(5 / 7 - 3 / 5) == pytest.approx(d)
    # by hand: Wilson limits, then d -/+ sqrt(...)
    l1, u1 = wilson_interval(5, 7)
    l2, u2 = wilson_interval(3, 5)
    assert row.ci_low == pytest.approx(d - math.sqrt((5 / 7 - l1) ** 2 + (u2 - 3 / 5) ** 2))
    assert row.ci_high == pytest.approx(d + math.sqrt((u1 - 5 / 7) ** 2 + (3 / 5 - l2) ** 2))
    assert row.ci_low < 0 < row.ci_high and not row.clear  # 7 against 5 people: could be chance
    assert row.status == "both" and bool(row.suppressed)  # 3 of 5 in 2019 is under the threshold
    theme = cmp[(cmp["question_id"] == "thrive_helps") & (cmp["code"] == "thrive")].iloc[0]
    assert (theme.respondents_a, theme.respondents_b, theme.status, bool(theme.suppressed)) == (6, 5, "both", False)


def test_appeared_vanished_and_not_comparable(db, admin, two_rounds):
    _, old, new = two_rounds
    cmp = af.compare_rounds(sel_of(db, admin, new.id), sel_of(db, admin, old.id), "code", threshold=1)
    status = {(r.question_id, r.code): r.status for r in cmp.itertuples()}
    # "money" (poverty) is raised for thrive_helps only at the family centre; nobody at the youth club
    assert status[("thrive_helps", "poverty_money")] == "appeared"
    assert status[("thrive_helps", "barriers")] == "appeared"
    # thrive_stops was answered (and coded) only at the youth club: nothing to compare with
    assert status[("thrive_stops", "poverty_money")] == "not comparable"
    reverse = af.compare_rounds(sel_of(db, admin, old.id), sel_of(db, admin, new.id), "code", threshold=1)
    assert {(r.question_id, r.code): r.status for r in reverse.itertuples()}[("thrive_helps", "poverty_money")] \
        == "vanished"
    appeared = cmp[(cmp["code"] == "poverty_money") & (cmp["question_id"] == "thrive_helps")].iloc[0]
    assert appeared.respondents_b == 0 and appeared.share_b == 0.0 and appeared.shown_b == 0
    assert appeared.change == pytest.approx(1 / 7)


def test_comparison_counts_post_its_as_post_its(db, admin, two_rounds):
    """A post-it is one anonymous voice in a share (as in the Themes view), and the comparison says how many of
    each count and base are post-its, so the page can name them apart from people (issue 9 item 7).
    2026 at thrive_helps: 7 people (6 raise "Thrive factors") and 12 post-its (6 on "Friends", so Thrive factors
    too; 4 on "Poverty"; 2 not coded yet). 2019: 5 coded young people, no post-its."""
    ids, old, new = two_rounds
    _postits(db, admin, ids["events"]["e2"], [[3]] * 6 + [[5]] * 4 + [[]] * 2)
    cmp = af.compare_rounds(sel_of(db, admin, new.id), sel_of(db, admin, old.id), "code", threshold=5)
    rows = {(r.question_id, r.code): r for r in cmp.itertuples()}
    thrive = rows[("thrive_helps", "thrive")]
    assert (thrive.respondents_a, thrive.base_a, thrive.postits_a, thrive.postit_base_a) == (12, 17, 6, 10)
    assert (thrive.respondents_b, thrive.base_b, thrive.postits_b, thrive.postit_base_b) == (5, 5, 0, 0)
    assert thrive.share_a == pytest.approx(12 / 17)
    friends = rows[("thrive_helps", "friends_social")]
    assert (friends.postits_a, friends.respondents_a) == (6, 6 + 1)  # one of the 7 people said friends too
    poverty = rows[("thrive_helps", "poverty_money")]
    assert (poverty.postits_a, poverty.postit_base_a, poverty.postits_b) == (4, 10, 0)
    # thrive_stops: nobody wrote a post-it to it in either round
    assert all(r.postit_base_a == 0 == r.postit_base_b for r in cmp.itertuples() if r.question_id == "thrive_stops")
    # the Compare sheet of the workbook names them: people and post-its, and how many are post-its
    from exports.xlsx import compare_sheet

    sheet = compare_sheet(cmp, "2026", "2019", 5)
    assert sheet.headers[4] == "people and post-its 2026" and len(sheet.headers) == len(sheet.widths)
    row = next(r for r in sheet.rows() if r[0] == "thrive_helps" and r[2] == "thrive")
    assert len(row) == len(sheet.headers)
    assert dict(zip(sheet.headers[15:], row[15:], strict=True)) == {
        "of them post-its 2026": 6, "post-its in base 2026": 10, "of them post-its 2019": 0,
        "post-its in base 2019": 0}
    poverty_row = next(r for r in sheet.rows() if r[0] == "thrive_helps" and r[2] == "poverty_money")
    assert poverty_row[15] == "<5"  # 4 post-its: under the small-number threshold, like any count
    # without post-its the post-it columns are all zero
    plain = af.compare_rounds(sel_of(db, admin, old.id), sel_of(db, admin, old.id), "theme")
    assert (plain[["postits_a", "postit_base_a", "postits_b", "postit_base_b"]] == 0).all().all()


def test_a_clear_change_is_called_clear(db, admin, event):
    """Twenty people in each round; 18 against 6 raising a code: the interval leaves out 0."""
    from data.db import now_utc
    from data.events import create_event
    from tests.findings_data import CODES

    later = create_event(db, admin, name="Second", date="2027-01-10")
    now = now_utc()
    for code_id, (name, label, parent) in CODES.items():
        db.execute("INSERT INTO codes (id, name, label, definition, parent_id, colour, created_at, updated_at) "
                   "VALUES (?, ?, ?, '', ?, '', ?, ?)", [code_id, name, label, parent, now, now])
    for i in range(40):
        ev = event.id if i < 20 else later.id
        raised = (i < 6) if i < 20 else (i < 38)
        res = save_respondent(db, admin, event_id=ev, group_id="resident", consent=True,
                              answers={"thrive_helps": ["the park"]}, submission_token=f"c{i}")
        rid = db.execute("SELECT id FROM responses WHERE respondent_id = ?", [res.respondent_id]).fetchone()[0]
        db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, ?, 'x', ?)",
                   [rid, 2 if raised else 3, now])
    db.conn.commit()
    a, b = rounds.create_round(db, admin, "A"), rounds.create_round(db, admin, "B")
    rounds.assign_events(db, admin, a.id, [later.id])
    rounds.assign_events(db, admin, b.id, [event.id])
    cmp = af.compare_rounds(sel_of(db, admin, a.id), sel_of(db, admin, b.id), "code")
    row = cmp[cmp["code"] == "family_love"].iloc[0]
    assert (row.respondents_a, row.base_a, row.respondents_b, row.base_b) == (18, 20, 6, 20)
    assert row.clear and row.ci_low > 0 and not row.suppressed
    assert (row.ci_low, row.ci_high) == pytest.approx(newcombe_difference(18, 20, 6, 20)[1:])


# --- actions and the feedback sheet ---------------------------------------------------------------------------

def test_actions_add_update_list(db, admin, officer, lead, two_rounds):
    _, old, new = two_rounds
    a = actions.add_action(db, officer, new.id, "family_love", "More family centre sessions", owner="Early help",
                           due="2027-03-31")
    assert (a.label, a.status, a.due, a.owner) == ("Loving family", "planned", "2027-03-31", "Early help")
    b = actions.add_action(db, officer, new.id, "poverty_money", "Benefits advice at the centre", status="in progress")
    assert b.status == "in_progress"
    for bad in (dict(code="nope", what="x"), dict(code="family_love", what="  "),
                dict(code="family_love", what="x", due="31/03/2027"),
                dict(code="family_love", what="x", status="finished")):
        with pytest.raises(actions.ActionError):
            actions.add_action(db, officer, new.id, bad.pop("code"), bad.pop("what"), **bad)
    done = actions.update_action(db, officer, a.id, status="done", note="Started in January")
    assert done.status == "done" and done.note == "Started in January"
    with pytest.raises(actions.ActionError):
        actions.update_action(db, officer, a.id, round_id=old.id)
    with pytest.raises(PermissionDenied):
        actions.update_action(db, lead, a.id, status="dropped")
    assert [x.what for x in actions.list_actions(db, lead, new.id)] == ["More family centre sessions",
                                                                        "Benefits advice at the centre"]
    assert actions.list_actions(db, lead, old.id) == []


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    return "\n".join(p.text for p in doc.paragraphs)


def test_feedback_sheet_never_quotes_a_withheld_answer_and_covers_the_languages(db, admin, officer, two_rounds):
    from exports import feedback

    ids, old, new = two_rounds
    # every "family support" answer in 2026 but one is withheld: a disclosure flag on its respondent
    texts = {rid: t for (rid, t) in db.execute("SELECT id, text FROM responses")}
    withheld = [rid for (i, q), rid in ids["answers"].items() if 6 <= i <= 9]
    from data.flags import raise_flag

    for rid in withheld[:3]:
        raise_flag(db, admin, kind="manual", reason="worried", event_id=ids["events"]["e2"], response_id=rid)
    actions.add_action(db, officer, new.id, "family_love", "More family centre sessions", owner="Early help",
                       due="2027-03-31", status="in_progress")
    sheet = actions.feedback_sheet(db, officer, new.id)
    assert [lang.code for lang in sheet.languages] == ["en", "ur"]
    ur = sheet.languages[1]
    assert ur.direction == "rtl" and not ur.reviewed and not ur.is_default
    assert ur.questions == ("بچوں اور نوجوانوں کو پھلنے پھولنے میں کیا چیز مدد دیتی ہے؟",)
    themes = {t.label: t for t in sheet.themes}
    assert "Thrive factors" in themes  # 6 of 7 people: the top theme
    assert themes["Thrive factors"].actions[0].what == "More family centre sessions"  # sub-code action rolls up
    assert all(t.respondents >= 5 for t in sheet.themes)  # "Barriers" (1 person) is not on the sheet
    data = feedback.feedback_bytes(sheet)
    text = _docx_text(data)
    for rid in withheld[:3]:
        assert f"“{texts[rid]}”" not in text  # never quoted (unflagged, "...when things are hard" is chosen)
    assert WITHHELD_TEXT not in text
    quote = themes["Thrive factors"].quote
    assert quote and f"You said: “{quote}”" in text and quote not in [texts[r] for r in withheld[:3]]
    assert "We are doing: More family centre sessions (Early help, by 2027-03-31)" in text
    assert "بچوں اور نوجوانوں کو پھلنے پھولنے میں کیا چیز مدد دیتی ہے؟" in text
    assert "اردو: Only the questions are written in اردو on this page; the rest is in English" in text
    assert "draft translation" in text
    assert text.count("You said, we did") == 2  # one page per language
    doc = Document(io.BytesIO(data))
    section = doc.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    urdu = next(p for p in doc.paragraphs if "بچوں" in p.text and "•" in p.text)
    assert urdu._p.pPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}bidi") is not None
    sizes = {r.font.size.pt for p in doc.paragraphs for r in p.runs if r.font.size}
    assert min(sizes) >= 11 and max(sizes) >= 24  # plain, large text


def _postits(db, admin, event_id, codes_per_postit):
    """Transcribed flipchart post-its at an event, each coded with the given code ids (none: left uncoded)."""
    from data.capture import add_transcribed
    from data.db import now_utc

    for i, codes in enumerate(codes_per_postit):
        made = add_transcribed(db, admin, event_id=event_id, question_id="thrive_helps", group_id="parent_carer",
                               text=f"post-it number {i}")
        for code_id in codes:
            db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, ?, 'olu', ?)",
                       [made.response_id, code_id, now_utc()])
    db.conn.commit()


def test_feedback_sheet_counts_post_its_apart_from_people(db, admin, officer, two_rounds, tmp_path):
    """Post-its are anonymous answers, not people (issue 9 item 7): the sheet never adds them to a count of people.
    2026: 7 people (6 raise "Thrive factors", 1 "Barriers"); 12 post-its, 6 on friends (Thrive factors), 4 on
    money (Barriers), 2 not coded yet."""
    from exports import feedback

    ids, _, new = two_rounds
    _postits(db, admin, ids["events"]["e2"], [[3]] * 6 + [[5]] * 4 + [[]] * 2)
    sheet = actions.feedback_sheet(db, officer, new.id)
    assert (sheet.people, sheet.postits, sheet.coded_people, sheet.coded_postits) == (7, 12, 7, 10)
    themes = {t.label: t for t in sheet.themes}
    thrive, barriers = themes["Thrive factors"], themes["Barriers"]
    assert (thrive.respondents, thrive.base, thrive.postits, thrive.postit_base) == (6, 7, 6, 10)
    assert (barriers.respondents, barriers.postits, barriers.voices) == (1, 4, 5)  # on the sheet: 5 voices in all
    reach = actions.reach(db, officer, new.id)  # beside the actions on the Rounds page: the same counts
    assert (reach[1].respondents, reach[1].base, reach[1].postits, reach[1].postit_base) == (6, 7, 6, 10)
    assert (reach[3].respondents, reach[3].postits) == (1, 6)  # the sub-code "Friends": 1 person, 6 post-its
    path = tmp_path / "sheet.docx"
    feedback.write_feedback(sheet, path)
    text = _docx_text(path.read_bytes())
    assert "Thank you: 7 people and 12 post-it notes told us" in text
    assert "Thrive factors — raised by 6 of 7 people (86%) and on 6 of 10 post-its (60%)" in text
    # 1 person and 4 post-its: both under the small-number threshold, so neither count (nor a share) is given
    assert "Barriers — raised by fewer than 5 of 7 people and on fewer than 5 of 10 post-its" in text
    assert "what 7 of the 7 people and 10 of the 12 post-its said has been sorted into themes" in text
    assert "counted apart from people" in text
    # every count of people is out of the people, every count of post-its out of the post-its: never 17 "people"
    assert set(re.findall(r"of (?:the )?([\d,]+) people", text)) == {"7"}
    assert set(re.findall(r"of (?:the )?([\d,]+) post-its", text)) <= {"10", "12"}
    assert "17 people" not in text and "19 people" not in text


def test_feedback_sheet_of_post_its_only_and_of_people_only(db, admin, officer, two_rounds):
    from exports import feedback

    ids, old, new = two_rounds
    sheet = actions.feedback_sheet(db, officer, old.id)  # the 2019 youth club: people, no post-its
    text = _docx_text(feedback.feedback_bytes(sheet))
    assert "post-it" not in text  # no post-its: nothing said about them
    assert "Thrive factors — raised by 5 of 5 people (100%)" in text  # "dunno" was not coded: 5 of the 6
    assert "what 5 of the 6 people said has been sorted into themes" in text
    only = rounds.create_round(db, admin, "Flipchart only")
    from data.events import create_event

    wall = create_event(db, admin, name="Library wall", date="2026-12-05")
    rounds.assign_events(db, admin, only.id, [wall.id])
    _postits(db, admin, wall.id, [[2]] * 6 + [[3]])
    text = _docx_text(feedback.feedback_bytes(actions.feedback_sheet(db, officer, only.id)))
    assert "Thank you: 7 post-it notes told us" in text and "0 people" not in text
    assert "Thrive factors — raised on 7 of 7 post-its (100%)" in text and not re.search(r"\d+ people", text)


@pytest.mark.parametrize("n,base,pn,pbase,expected", [
    (30, 80, 11, 66, "raised by 30 of 80 people (38%) and on 11 of 66 post-its (17%)"),
    (30, 80, 0, 66, "raised by 30 of 80 people (38%) and on none of the 66 post-its"),
    (4, 80, 0, 0, "raised by fewer than 5 of 80 people"),
    (2, 3, 9, 40, "raised by some of the 3 people and on 9 of 40 post-its (22%)"),
    (0, 0, 9, 40, "raised on 9 of 40 post-its (22%)"),
])
def test_theme_counts_wording(n, base, pn, pbase, expected):
    from exports import feedback

    theme = actions.FeedbackTheme(1, "Theme", n, base, None, (), pn, pbase)
    assert feedback.theme_counts(theme, threshold=5) == expected


def test_feedback_sheet_of_a_round_without_codings(db, admin, event):
    r = rounds.create_round(db, admin, "Just started")
    rounds.assign_events(db, admin, r.id, [event.id])
    save_respondent(db, admin, event_id=event.id, group_id="resident", consent=True,
                    answers={"thrive_helps": ["the library"]})
    from exports import feedback

    sheet = actions.feedback_sheet(db, admin, r.id)
    assert sheet.themes == [] and sheet.people == 1
    assert "still reading what people said" in _docx_text(feedback.feedback_bytes(sheet))


def _require_lo() -> str:
    from exports import feedback

    program = feedback.soffice()
    if program is None:
        if os.environ.get("THRIVE_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("LibreOffice required (THRIVE_REQUIRE_LIBREOFFICE=1) but soffice is not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    return program


def test_feedback_sheet_renders_one_pdf_page_per_language(db, admin, officer, two_rounds, tmp_path):
    _require_lo()
    from exports import feedback

    _, _, new = two_rounds
    for code in ("family_love", "poverty_money", "friends_social"):
        actions.add_action(db, officer, new.id, code, "A longer description of what the partnership will do " * 2,
                           owner="Early help", due="2027-03-31")
    path = tmp_path / "sheet.docx"
    feedback.write_feedback(actions.feedback_sheet(db, officer, new.id), path)
    pdf = feedback.convert(path, "pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
    assert len(pages) == 2  # English and Urdu, one page each
    try:
        png = feedback.convert(path, "png")
    except feedback.FeedbackError as exc:
        if os.environ.get("THRIVE_REQUIRE_LIBREOFFICE_PNG") == "1":
            raise
        pytest.skip(f"PDF checked; PNG not possible here: {exc}")
    assert png.read_bytes().startswith(b"\x89PNG")


# --- snapshots ------------------------------------------------------------------------------------------------

def test_snapshots_store_counts_and_give_chart_data(db, admin, officer, lead, two_rounds):
    _, old, new = two_rounds
    first = rounds.take_snapshot(db, officer, new.id, "Q3 2026")
    assert (first.answers, first.people, first.postits, first.coded_answers) == (7, 7, 0, 7)
    shares = {(s["question_id"], s["code"]): s for s in first.shares}
    assert shares[("thrive_helps", "thrive")]["respondents"] == 6 and shares[("thrive_helps", "thrive")]["base"] == 7
    # more people later: a post-it and a respondent
    from data.capture import add_transcribed

    e2 = rounds.event_ids(db, new.id)[0]
    add_transcribed(db, admin, event_id=e2, question_id="thrive_helps", group_id="resident", text="parks")
    save_respondent(db, admin, event_id=e2, group_id="resident", consent=True, answers={"thrive_helps": ["buses"]})
    second = rounds.take_snapshot(db, officer, new.id, "Q4 2026")
    everything = rounds.take_snapshot(db, officer, None, "all")
    assert (second.answers, second.people, second.postits) == (9, 8, 1)
    assert everything.answers == 16
    stored = rounds.list_snapshots(db, lead, new.id)
    assert [s.label for s in stored] == ["Q3 2026", "Q4 2026"]
    assert [s.label for s in rounds.list_snapshots(db, lead)] == ["all"]
    counts, share_frame = rounds.snapshot_frame(stored, {"thrive_helps": "What helps?"})
    people = counts[counts["measure"] == "People"]
    assert list(people["value"]) == [7, 8] and list(people["label"]) == ["Q3 2026", "Q4 2026"]
    thrive = share_frame[share_frame["theme"] == "Thrive factors"]
    assert list(thrive["share"]) == pytest.approx([6 / 7, 6 / 7]) and set(thrive["question"]) == {"What helps?"}
    assert "Barriers" not in set(share_frame["theme"])  # 1 person: under the threshold, never charted
    assert counts["taken_at"].is_monotonic_increasing


# --- CLI --------------------------------------------------------------------------------------------------------

def run_cli(*args):
    import cli

    result = CliRunner().invoke(cli.cli, [str(a) for a in args], catch_exceptions=False)
    return result


def test_cli_rounds_actions_snapshot_and_exports(db_path, db, admin, tmp_path):
    seed(db, admin)
    D = ("--db", db_path)
    assert run_cli("rounds", "create", "Neglect strategy 2019", "--event", "Youth club night", *D).exit_code == 0
    assert run_cli("rounds", "create", "2026 refresh", *D).exit_code == 0
    assert run_cli("rounds", "assign", "2026 refresh", "Family centre drop-in", *D).exit_code == 0
    refused = run_cli("rounds", "assign", "2026 refresh", "Youth club night", *D)
    assert refused.exit_code == 1 and "already in another round" in refused.output
    listed = run_cli("rounds", "list", *D).output
    assert "Neglect strategy 2019  1 event(s)  2026-11-20" in listed
    added = run_cli("actions", "add", "--round", "2026 refresh", "--theme", "family_love", "--what",
                    "More family centre sessions", "--owner", "Early help", "--due", "2027-03-31", *D)
    assert added.exit_code == 0, added.output
    assert "[Planned] Loving family: More family centre sessions (Early help, due 2027-03-31)" in \
        run_cli("actions", "list", "--round", "2026 refresh", *D).output
    bad = run_cli("actions", "add", "--round", "2026 refresh", "--theme", "nope", "--what", "x", *D)
    assert bad.exit_code == 1 and "No theme or code" in bad.output
    snap = run_cli("snapshot", "--round", "2026 refresh", "--label", "Q3 2026", *D)
    assert snap.exit_code == 0 and "7 answers, 7 people, 0 post-its" in snap.output
    assert "Q3 2026" in run_cli("snapshot", "--list", "--round", "2026 refresh", *D).output

    from openpyxl import load_workbook

    out = tmp_path / "x.xlsx"
    r = run_cli("export", "xlsx", out, "--round", "2026 refresh", "--compare", "Neglect strategy 2019", *D)
    assert r.exit_code == 0, r.output
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames[-1] == "Compare"
    rows = list(wb["Compare"].iter_rows(values_only=True))
    head = rows[0]
    assert head[4] == "people and post-its 2026 refresh" and head[7] == "people and post-its Neglect strategy 2019"
    assert head[15:] == ("of them post-its 2026 refresh", "post-its in base 2026 refresh",
                         "of them post-its Neglect strategy 2019", "post-its in base Neglect strategy 2019")
    theme = next(row for row in rows if row[2] == "thrive" and row[0] == "thrive_helps")
    assert theme[4:7] == (6, 7, pytest.approx(6 / 7)) and theme[13] == "both" and theme[14] == "yes"
    family = next(row for row in rows if row[2] == "family_love")
    assert family[7] == "<5" and family[9] is None and family[10] is None  # suppressed: no share, no change
    readme = {row[0]: row[1] for row in wb["README"].iter_rows(values_only=True)}
    assert readme["  Engagement round"] == "2026 refresh"
    assert readme["  Compared with round"] == "Neglect strategy 2019"
    assert readme["  answers"] == 7

    rep = tmp_path / "r.docx"
    assert run_cli("report", rep, "--round", "2026 refresh", "--compare", "Neglect strategy 2019", *D).exit_code == 0
    text = "\n".join(p.text for p in Document(str(rep)).paragraphs)
    assert "2026 refresh compared with Neglect strategy 2019" in text
    csv_out = tmp_path / "c.csv"
    assert run_cli("export", "csv", csv_out, "--round", "2026 refresh", "--compare", "1", *D).exit_code == 0
    compare_csv = (tmp_path / "c-compare.csv").read_text(encoding="utf-8-sig")
    assert "Thrive factors,86% (6 of 7),100% (5 of 5),-14 points" in compare_csv
    assert compare_csv.splitlines()[0].startswith(
        "question,theme,2026 refresh (share of people),Neglect strategy 2019 (share of people),change")
    assert "Share of the people with a coded answer" in text and "post-it" not in text.split("compared with")[-1]
    assert len(csv_out.read_text(encoding="utf-8-sig").strip().splitlines()) == 1 + 7
    qdpx = tmp_path / "p.qdpx"
    assert run_cli("export", "qdpx", qdpx, "--round", "Neglect strategy 2019", *D).exit_code == 0
    nocompare = run_cli("export", "xlsx", out, "--compare", "2026 refresh", *D)
    assert nocompare.exit_code == 1 and "--compare needs --round" in nocompare.output
    same = run_cli("export", "xlsx", out, "--round", "2026 refresh", "--compare", "2026 refresh", *D)
    assert same.exit_code == 1
    unknown = run_cli("report", rep, "--round", "2031", *D)
    assert unknown.exit_code == 1 and "No round is called" in unknown.output
    fb = tmp_path / "fb.docx"
    made = run_cli("feedback", "2026 refresh", fb, *D)
    assert made.exit_code == 0 and "2 language(s) (en, ur)" in made.output and fb.exists()


# --- pages ------------------------------------------------------------------------------------------------------

def test_rounds_page_for_an_officer(db, admin, officer, two_rounds):
    _, old, new = two_rounds
    actions.add_action(db, officer, new.id, "family_love", "More family centre sessions", owner="Early help")
    rounds.take_snapshot(db, officer, new.id, "Q3 2026")
    rounds.take_snapshot(db, officer, new.id, "Q4 2026")
    at = run_page("rounds.py", officer)
    assert [t.label for t in at.tabs] == ["Events", "You said, we did", "Feedback sheet", "Snapshots"]
    assert next(s for s in at.selectbox if s.label == "Round").value == new.id  # the latest round
    assert at.session_state["rounds_choice"] == new.id
    tables = [d.value for d in at.dataframe]
    assert any("Family centre drop-in" in set(t.get("Event", [])) for t in tables)
    assert any("More family centre sessions" in set(t.get("Action", [])) for t in tables)
    said = next(t for t in tables if "People said" in t)
    assert list(said["People said"]) == ["raised by 5 of 7 people (71%)"]  # "Loving family": 5 of the 7
    assert any(list(t.get("Label", [])) == ["Q3 2026", "Q4 2026"] for t in tables)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2  # counts over time, theme shares over time
    assert "2026 refresh: counts over time" in charts[0].proto.spec
    # record an action through the form
    at.text_area(key="rounds_action_what").input("Benefits advice at the centre")
    at.selectbox(key="rounds_action_theme").select(5)
    next(b for b in at.button if b.label == "Record action").click().run()
    assert not at.exception
    assert [a.what for a in actions.list_actions(db, officer, new.id)][-1] == "Benefits advice at the centre"
    # prepare the feedback sheet
    at.button(key="rounds_sheet_go").click().run()
    assert not at.exception and at.session_state["rounds_sheet"][0] == new.id
    assert "You said, we did" in _docx_text(at.session_state["rounds_sheet"][2])


def test_rounds_page_for_a_lead_reads_only(db, admin, lead, two_rounds):
    at = run_page("rounds.py", lead)
    assert not [b for b in at.button if b.label in ("Add to this round", "Record action", "Take a snapshot now")]
    assert not at.text_input  # no forms
    assert [t.label for t in at.tabs] == ["Events", "You said, we did", "Feedback sheet", "Snapshots"]


def test_rounds_page_refuses_a_peer_researcher(db, researcher):
    at = run_page("rounds.py", researcher)
    assert not at.dataframe and not at.tabs


def unescaped(captions) -> str:
    """The captions' text as a person reads it (round names and questions are markdown-escaped on the page)."""
    return " ".join(re.sub(r"\\(.)", r"\1", c.value).replace("&#58;", ":") for c in captions)


def test_findings_compare_tab(db, admin, lead, two_rounds):
    _, old, new = two_rounds
    at = run_page("findings.py", lead, findings_level="Themes", findings_tab="Compare rounds")
    assert [t.label for t in at.tabs][-1] == "Compare rounds"
    assert at.selectbox(key="findings_compare_a").value == new.id
    assert at.selectbox(key="findings_compare_b").value == old.id
    # short headers (the round's name, not its dates), n and share of both rounds first, the change in words
    table = next(d.value for d in at.dataframe if "2026 refresh" in d.value)
    assert list(table.columns) == ["Theme", "2026 refresh", "Neglect strategy 2019", "Change (95 % interval)"]
    rows = {r["Theme"]: r for r in table.to_dict("records")}
    low, high = (float(x) * 100 for x in af.newcombe_interval(6, 7, 5, 5))
    assert rows["Thrive factors"] == {"Theme": "Thrive factors", "2026 refresh": "86% (6 of 7)",
                                      "Neglect strategy 2019": "100% (5 of 5)",
                                      "Change (95 % interval)": f"-14 points ({low:+.0f} to {high:+.0f}), "
                                                                "could be chance"}
    # one person raised "Barriers" in 2026 and nobody in 2019: no share, no change
    assert rows["Barriers"]["2026 refresh"] == "<5 of 7" and rows["Barriers"]["Neglect strategy 2019"] == "0% (0 of 5)"
    assert rows["Barriers"]["Change (95 % interval)"] == "not shown (a count under 5)"
    assert any("No change is larger than chance" in t.value for t in at.text)
    texts = [t.value for t in at.text]
    assert "2026 refresh (2026-12-01): 7 people and no flipchart post-its." in texts
    captions = unescaped(at.caption)
    assert "Share of the people with a coded answer" in captions and "post-it" not in captions
    assert "2026 refresh (2026-12-01): 7 people with a coded answer; Neglect strategy 2019" in captions
    # the change chart: one row per theme shown, every label drawn, with its title and n
    spec = next(c.proto.spec for c in at.get("vega_lite_chart") if "Change in share: 2026" in c.proto.spec)
    assert '"labelOverlap": false' in spec and "n = 7 (2026 refresh) and 5 (Neglect strategy 2019) people" in spec
    assert '"height": 34,' in spec  # 34 px for the one theme plotted (Barriers: too few to show a change)
    # the round filter: only the 2019 round's answers
    at.selectbox(key="findings_round").select(old.id).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Answers"] == "7"


def test_findings_compare_tab_names_post_its_apart(db, admin, lead, two_rounds):
    """Post-its in a round (issue 9 item 7): the bases are named "people and post-its", each question says how
    many of its base are post-its, and each round how many of its answers came from flipcharts."""
    ids, old, new = two_rounds
    _postits(db, admin, ids["events"]["e2"], [[3]] * 6 + [[5]] * 4 + [[]] * 2)
    at = run_page("findings.py", lead, findings_level="Themes", findings_tab="Compare rounds")
    texts = [t.value for t in at.text]
    assert "2026 refresh (2026-12-01): 7 people and 12 of its 19 answers came from 12 flipchart post-its." in texts
    assert "Neglect strategy 2019 (2026-11-20): 6 people and no flipchart post-its." in texts
    captions = unescaped(at.caption)
    assert "Share of the people and post-its with a coded answer" in captions
    assert "2026 refresh (2026-12-01): 7 people and 10 post-its with a coded answer" in captions
    table = next(d.value for d in at.dataframe if "2026 refresh" in d.value)
    thrive = table[table["Theme"] == "Thrive factors"].iloc[0]
    assert thrive["2026 refresh"] == "71% (12 of 17)"  # 6 people and 6 post-its of 7 people and 10 post-its
    # the Themes tab names its base the same way
    at.session_state["findings_tab"] = "Themes"  # the page's tabs are lazy
    at.run()
    assert not at.exception, at.exception
    assert any("people and post-its with a coded answer to this question" in c.value for c in at.caption)
    themes = next(c.proto.spec for c in at.get("vega_lite_chart") if "Themes: share of people and post-its" in
                  c.proto.spec)
    # on screen the chart's height is its plot's (Streamlit's default "fit" squeezed the title and axis into it)
    assert '"autosize": {"type": "fit-x", "contains": "padding"}' in themes


def test_findings_has_no_compare_tab_with_one_round(db, admin, lead):
    seed(db, admin)
    rounds.create_round(db, admin, "Only one")
    at = run_page("findings.py", lead)
    assert "Compare rounds" not in [t.label for t in at.tabs]


def test_comparison_base_names_post_its_where_a_round_has_them():
    import pandas as pd

    from exports.feedback import comparison_base

    assert comparison_base(pd.DataFrame({"postit_base_a": [0, 0], "postit_base_b": [0, 0]})) == "people"
    assert comparison_base(pd.DataFrame({"postit_base_a": [0, 0], "postit_base_b": [0, 3]})) == "people and post-its"
    assert comparison_base(pd.DataFrame({"share_a": [0.5]})) == "people"  # a table from before post-its were counted
