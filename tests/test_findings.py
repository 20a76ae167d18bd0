"""Findings computations checked against a small hand-worked dataset (tests/findings_data.py).

Worked by hand: 13 respondents; thrive_helps has 12 respondents with a coded answer (the 6th young person's
"dunno" is uncoded); sub-codes count toward their theme; cells of 1-4 respondents are suppressed.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from analysis import findings as af
from data import findings as df
from data.users import PermissionDenied
from tests.findings_data import seed


@pytest.fixture
def seeded(db, admin):
    return seed(db, admin)


@pytest.fixture
def prep(db, lead, seeded):
    frames = df.load_frames(db, lead, with_text=True)
    return af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)


def share(table, question, code):
    row = table[(table["question_id"] == question) & (table["code"] == code)]
    assert len(row) == 1, f"{question}/{code} missing from\n{table}"
    return row.iloc[0]


def test_theme_shares_count_subcodes_toward_their_theme(prep):
    table = af.theme_shares(af.select(prep, af.Filter()), level="theme")
    thrive = share(table, "thrive_helps", "thrive")
    # 11 of the 12 respondents with a coded answer raised a thrive factor; "friends and family" counts once.
    assert (thrive.respondents, thrive.answers, thrive.base_respondents) == (11, 11, 12)
    assert thrive.share == pytest.approx(11 / 12)
    assert share(table, "thrive_helps", "barriers").respondents == 1
    stops = share(table, "thrive_stops", "barriers")
    assert (stops.respondents, stops.base_respondents, stops.share) == (1, 1, 1.0)
    # themes only at this level, largest share first within a question
    assert set(table["code"]) == {"thrive", "barriers"}
    helps = table[table["question_id"] == "thrive_helps"]
    assert list(helps["share"]) == sorted(helps["share"], reverse=True)
    assert list(table["question_id"].drop_duplicates()) == ["thrive_helps", "thrive_stops"]


def test_theme_shares_flag_small_numbers(prep):
    table = af.theme_shares(af.select(prep, af.Filter()), level="theme")
    assert share(table, "thrive_helps", "thrive").shown == 11
    assert share(table, "thrive_helps", "barriers").shown == "<5" and share(table, "thrive_helps", "barriers").suppressed
    # filtered to one small group, every figure is small
    small = af.theme_shares(af.select(prep, af.Filter(groups=("practitioner",))), level="theme")
    assert small["suppressed"].all() and set(small["shown"]) == {"<5"}


def test_code_level_shares(prep):
    table = af.theme_shares(af.select(prep, af.Filter()), level="code")
    assert share(table, "thrive_helps", "family_love").respondents == 8
    assert share(table, "thrive_helps", "friends_social").share == pytest.approx(4 / 12)
    assert share(table, "thrive_helps", "thrive").respondents == 11  # the parent is reported too


def test_by_group_suppresses_small_cells(prep):
    table = af.by_group(af.select(prep, af.Filter()), level="theme")
    cell = {(r.group_id, r.code): r for r in table.itertuples()}
    yp = cell[("young_person", "thrive")]
    assert (yp.respondents, yp.base_respondents, yp.shown, yp.suppressed, yp.share) == (5, 5, 5, False, 1.0)
    assert cell[("young_person", "barriers")].shown == "<5"
    assert math.isnan(cell[("young_person", "barriers")].share)
    assert cell[("parent_carer", "thrive")].shown == "<5"  # 4 of 5
    # practitioners: only 2 coded respondents, so even their zero is hidden
    assert cell[("practitioner", "barriers")].respondents == 0
    assert cell[("practitioner", "barriers")].shown == "<5"
    assert cell[("practitioner", "thrive")].shown == "<5"
    assert len(table) == 2 * 3  # every theme x every group, zeros included


def test_threshold_is_configurable(prep, monkeypatch):
    sel = af.select(prep, af.Filter())
    table = af.by_group(sel, level="theme", threshold=2)
    cell = {(r.group_id, r.code): r.shown for r in table.itertuples()}
    assert cell[("parent_carer", "thrive")] == 4
    assert cell[("practitioner", "thrive")] == 2
    assert cell[("young_person", "barriers")] == "<2"
    monkeypatch.setattr("config.SMALL_CELL_THRESHOLD", 10)
    assert af.by_group(sel)["shown"].eq("<10").all()
    assert af.suppress_count(0) == 0 and af.suppress_count(3) == "<10" and af.suppress_count(12) == 12


def test_two_group_comparison_orders_by_largest_difference(prep):
    table = af.by_group(af.select(prep, af.Filter()), level="code", threshold=2)
    cmp = af.compare_groups(table, "young_person", "parent_carer")
    first = cmp.iloc[0]
    assert first.code == "friends_social"  # 3/5 young people vs 0/5 parents
    assert (first.share_a, first.share_b) == (pytest.approx(0.6), 0.0)
    assert first.difference == pytest.approx(0.6)
    family = cmp[cmp["code"] == "family_love"].iloc[0]
    assert family.difference == pytest.approx(0.6 - 0.8)
    # suppressed comparisons come last and carry no difference
    assert cmp.iloc[-1]["code"] in {"poverty_money", "barriers"} and math.isnan(cmp.iloc[-1]["difference"])


def test_cooccurrence_by_answer_and_by_respondent(prep):
    sel = af.select(prep, af.Filter())
    themes_by_answer = af.cooccurrence(sel, "theme", "answer")
    assert themes_by_answer.empty  # no single answer raises both a thrive factor and a barrier
    themes_by_resp = af.cooccurrence(sel, "theme", "respondent")
    assert list(themes_by_resp[["code_a", "code_b", "both"]].itertuples(index=False, name=None)) == [
        ("thrive", "barriers", 1)]
    codes_by_answer = af.cooccurrence(sel, "code", "answer")
    pairs = {(r.code_a, r.code_b): r.both for r in codes_by_answer.itertuples()}
    assert pairs == {("family_love", "friends_social"): 1}  # parent-child pairs are not co-occurrence
    codes_by_resp = {(r.code_a, r.code_b): r.both for r in af.cooccurrence(sel, "code", "respondent").itertuples()}
    assert codes_by_resp[("family_love", "poverty_money")] == 1
    assert codes_by_resp[("family_love", "friends_social")] == 1


def test_filters(prep, seeded):
    everything = af.select(prep, af.Filter())
    assert (everything.n_answers, everything.n_respondents) == (14, 13)
    young = af.select(prep, af.Filter(groups=("young_person",)))
    assert (young.n_answers, young.n_respondents, young.n_coded) == (7, 6, 6)
    e2 = af.select(prep, af.Filter(events=(seeded["events"]["e2"],)))
    assert e2.n_respondents == 7
    late = af.select(prep, af.Filter(date_from=dt.date(2026, 11, 25)))
    assert late.n_respondents == 7
    early = af.select(prep, af.Filter(date_to=dt.date(2026, 11, 20)))
    assert early.n_respondents == 6
    stops = af.select(prep, af.Filter(questions=("thrive_stops",)))
    assert stops.n_answers == 1
    poverty = af.select(prep, af.Filter(codes=(5,)))
    assert poverty.n_answers == 2
    barriers_theme = af.select(prep, af.Filter(codes=(4,)))  # a theme filter includes its sub-codes
    assert sorted(barriers_theme.answers["text"]) == ["money", "no money at home"]
    nothing = af.select(prep, af.Filter(groups=("decision_maker",)))
    assert nothing.n_answers == 0
    assert af.theme_shares(nothing).empty and af.by_group(nothing).empty and af.progress(nothing).empty
    assert af.cooccurrence(nothing).empty


def test_group_filter_changes_shares(prep):
    table = af.theme_shares(af.select(prep, af.Filter(groups=("parent_carer",))), level="code")
    assert share(table, "thrive_helps", "family_love").share == pytest.approx(4 / 5)


def test_progress_counts_coded_and_uncoded(prep):
    table = af.progress(af.select(prep, af.Filter()))
    rows = {r.event_name: r for r in table.itertuples()}
    assert (rows["Youth club night"].answers, rows["Youth club night"].coded, rows["Youth club night"].uncoded) == (
        7, 6, 1)
    assert rows["Family centre drop-in"].uncoded == 0
    assert list(table["event_name"]) == ["Youth club night", "Family centre drop-in"]


def test_words_and_phrases():
    texts = ["Family support from the centre", "family support", "FAMILY support and a warm home", "my mates"]
    words = af.top_words(texts, 3)
    assert list(words.itertuples(index=False, name=None))[:2] == [("family", 3), ("support", 3)]
    phrases = af.top_phrases(texts, 5)
    assert list(phrases.itertuples(index=False, name=None)) == [("family support", 3)]
    # a phrase is not formed across two answers
    assert af.top_phrases(["warm", "home"], min_count=1).empty


def test_quotes_prefer_pins_then_diverse_defaults(db, lead, officer, seeded, researcher):
    family_answer = seeded["answers"][(6, "thrive_helps")]  # "family support from the centre"
    df.pin_quote(db, officer, 2, family_answer)
    frames = df.load_frames(db, lead, with_text=True)
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    sel = af.select(prep, af.Filter())
    quotes = af.quotes(sel, 2, n=3)
    assert quotes.iloc[0]["response_id"] == family_answer and bool(quotes.iloc[0]["pinned"])
    assert len(quotes) == 3 and not quotes.iloc[1:]["pinned"].any()
    assert quotes["response_id"].is_unique
    # the two defaults come from different groups when more than one group raised the code
    assert quotes.iloc[1:]["group_id"].nunique() == 2
    # a theme's quotes include its sub-codes' answers
    assert len(af.quotes(sel, 1, n=5)) == 5
    with pytest.raises(df.FindingsError):
        df.pin_quote(db, officer, 5, family_answer)  # not coded "poverty"
    with pytest.raises(PermissionDenied):
        df.pin_quote(db, lead, 2, family_answer)
    df.unpin_quote(db, officer, 2, family_answer)
    assert db.execute("SELECT COUNT(*) FROM pinned_quotes").fetchone()[0] == 0
    actions = [r[0] for r in db.execute("SELECT action FROM audit WHERE action LIKE '%pin%' ORDER BY id")]
    assert actions == ["pin_quote", "unpin_quote"]


def test_quotes_are_redacted(db, admin, lead, event):
    from data.capture import save_respondent

    save_respondent(db, admin, event_id=event.id, group_id="resident", consent=True,
                    answers={"thrive_helps": ["Call me on 07700 900123 about the youth club"]})
    frames = df.load_frames(db, lead, with_text=True)
    assert "07700" not in " ".join(frames.answers["text"])
    assert "original_text" not in frames.answers
    with pytest.raises(PermissionDenied):
        df.load_frames(db, lead, with_text=True, originals=True)
    originals = df.load_frames(db, admin, with_text=True, originals=True)
    assert "07700 900123" in originals.answers["original_text"].iloc[0]


def test_question_labels_name_the_area(db, lead, seeded):
    labels = df.load_frames(db, lead).questions
    assert "{area}" not in labels["thrive_local"] and labels["thrive_local"].endswith("?")


def test_roles_enforced_in_core(db, researcher, safeguarding_lead):
    for user in (researcher, safeguarding_lead):
        with pytest.raises(PermissionDenied):
            df.load_frames(db, user)


def test_data_version_changes_when_codings_change(db, lead, seeded):
    before = df.data_version(db)
    db.execute("DELETE FROM codings WHERE id = (SELECT MAX(id) FROM codings)")
    db.conn.commit()
    assert df.data_version(db) != before
    before = df.data_version(db)
    db.execute("UPDATE codings SET code_id = 5 WHERE code_id = 2")  # a merge moves codings in place
    db.conn.commit()
    assert df.data_version(db) != before
    before = df.data_version(db)
    db.execute("UPDATE responses SET redacted_text = '[name] ' || redacted_text WHERE rowid = 1")  # re-redaction
    db.conn.commit()
    assert df.data_version(db) != before
    assert df.data_version(db) == df.data_version(db)


def test_frames_mark_withheld_answers_and_analysis_honours_the_mark(db, admin, lead, seeded):
    """load_frames marks an answer under an unreleased flag; the pure analysis then keeps it in every count but
    never quotes it and never counts its words (the column alone decides: no database needed past loading)."""
    from data import flags

    frames = df.load_frames(db, lead, with_text=True)
    assert frames.answers["withheld"].dtype == bool and not frames.answers["withheld"].any()
    target = seeded["answers"][(9, "thrive_helps")]  # "family support and a warm home", coded family_love
    flags.raise_flag(db, admin, kind="manual", reason="worried", response_id=target)
    frames = df.load_frames(db, lead, with_text=True)
    row = frames.answers.set_index("response_id").loc[target]
    assert row["withheld"] and row["text"] == flags.WITHHELD_TEXT
    assert frames.answers["withheld"].sum() == 1
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    sel = af.select(prep, af.Filter())
    assert af.headline(sel)["coded_answers"] == 13  # still counted
    assert share(af.theme_shares(sel, "code"), "thrive_helps", "family_love")["respondents"] == 8
    assert target not in set(af.quotes(sel, 2, n=20)["response_id"])
    assert target not in set(af.coded_answers(sel, 2)["response_id"])
    words, phrases = af.words_and_phrases(sel, "thrive_helps", n=100, min_count=1)
    assert "warm" not in set(words["word"]) and "withheld" not in set(words["word"])
    assert "warm home" not in set(phrases["phrase"])
    # the same frames without the mark: the answer is an ordinary quote again (the mark is what withholds it)
    unmarked = frames.answers.assign(withheld=False)
    # (with its words back: the placeholder text alone is no quote either, see quote_problem)
    unmarked.loc[unmarked["response_id"] == target, "text"] = "family support and a warm home"
    prep = af.prepare(unmarked, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    assert target in set(af.quotes(af.select(prep, af.Filter()), 2, n=20)["response_id"])


@pytest.mark.parametrize("edit", [
    "UPDATE respondents SET group_id = 'resident' WHERE rowid = 2",  # a group corrected: every share moves
    "DELETE FROM responses WHERE rowid = 3",  # not the largest rowid: only the edit counter sees it
    "DELETE FROM codings WHERE id = 2",
    "UPDATE responses SET question_id = 'thrive_stops' WHERE rowid = 4",
    "UPDATE events SET date = '2027-01-01'",
    "INSERT INTO codings (response_id, code_id, coder, created_at) SELECT id, 3, 'x', '' FROM responses LIMIT 1",
])
def test_data_version_sees_edits_and_deletions_through_the_counter(db, lead, seeded, edit):
    before = df.data_version(db)
    assert before[0] == "edits"  # the 0021_findings_speed counter, not a scan over every answer
    db.execute(edit)
    db.conn.commit()
    assert df.data_version(db) != before


def test_data_version_ignores_columns_findings_do_not_read(db, lead, seeded):
    before = df.data_version(db)
    db.execute("UPDATE responses SET recorded_by = 'someone_else'")
    db.conn.commit()
    assert df.data_version(db) == before


def test_data_version_without_the_counter_scans(db, lead, seeded):
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'findings_%'"
                              ).fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DROP TABLE findings_edits")  # as a database from before 0021_findings_speed
    before = df.data_version(db)
    assert before[0] != "edits"
    db.execute("UPDATE responses SET redacted_text = redacted_text || '!' WHERE rowid = 1")
    db.conn.commit()
    assert df.data_version(db) != before


def test_data_version_changes_when_a_flag_is_raised(db, admin, lead, seeded):
    from data import flags

    before = df.data_version(db)
    flags.raise_flag(db, admin, kind="manual", reason="worried", response_id=seeded["answers"][(1, "thrive_helps")])
    assert df.data_version(db) != before


def test_default_level_follows_the_codebook(prep):
    # findings_data's themes are named "thrive" and "barriers", the first starter's question themes: sub-codes
    assert af.default_level(prep) == "code"
    codes = prep.codes.copy()
    codes["name"] = codes["name"].replace({"thrive": "family", "barriers": "money_housing"})
    subjects = af.prepare(prep.answers.drop(columns=["rix", "rsp", "qix", "gix"]),
                          pd.DataFrame({"response_id": [], "code_id": []}), codes, questions=prep.questions)
    assert af.default_level(subjects) == "theme"
    codes.loc[codes["name"] == "family", "label"] = "What helps children and young people thrive?"
    codes.loc[codes["name"] == "money_housing", "label"] = "What stops children thriving"
    asked = af.prepare(prep.answers.drop(columns=["rix", "rsp", "qix", "gix"]),
                       pd.DataFrame({"response_id": [], "code_id": []}), codes, questions=prep.questions)
    assert af.default_level(asked) == "code"


# --- quotes are findings, not noise (issue 12) -------------------------------------------------------------------

def _frames(rows, codes=None):
    """Plain frames for prepare(): rows of (text, group, [code ids]); one respondent per answer, one question."""
    answers = pd.DataFrame({
        "response_id": [f"a{i}" for i in range(len(rows))], "respondent_id": [f"r{i}" for i in range(len(rows))],
        "event_id": "e1", "question_id": "thrive_helps", "position": 0, "group_id": [g for _, g, _ in rows],
        "created_at": "2026-11-20T10:00:00+00:00", "day": "2026-11-20", "event_name": "Fair",
        "event_date": "2026-11-20", "text": [t for t, _, _ in rows], "withheld": False, "flipchart": False})
    codings = pd.DataFrame([(f"a{i}", c) for i, (_, _, cs) in enumerate(rows) for c in cs],
                           columns=["response_id", "code_id"])
    codes = codes if codes is not None else pd.DataFrame({
        "code_id": [1, 2], "name": ["places", "youth_club"], "label": ["Places", "Youth club"],
        "parent_id": pd.array([pd.NA, 1], dtype="Int64")})
    return af.prepare(answers, codings, codes)


NOISE = ["...I'm on [phone]", "[name] [name]", "Ring [name] on [phone] or [email]", "My neighbour [name] at [address]",
         "… and then", "ok", "Dunno!", "not sure", "[withheld: safeguarding]"]
GOOD = ["My nan [name] picks us up from school and cooks a proper tea every night",
        "The youth club on Friday nights keeps us off the streets",
        "No one listens to us"]


@pytest.mark.parametrize("text", NOISE)
def test_noise_is_never_a_quote(text):
    assert af.quote_problem(text) is not None


@pytest.mark.parametrize("text", GOOD + ["my family", "Text me on [phone] if you want to talk about the food bank"])
def test_findings_can_be_quotes(text):
    assert af.quote_problem(text) is None


def test_quotes_skip_noise_and_still_choose_good_answers():
    rows = [(t, "young_person", [2]) for t in NOISE] + [(t, "parent_carer", [2]) for t in GOOD]
    prep = _frames(rows)
    chosen = af.quotes(af.select(prep, af.Filter()), 2, n=len(rows))  # room for every answer: noise must stay out
    assert sorted(chosen["text"]) == sorted(GOOD)
    assert list(af.quotes(af.select(prep, af.Filter()), 1, n=1)["text"])[0] in GOOD  # the theme, through its sub-code


def test_only_noise_gives_no_quote_and_short_answers_come_after_standalone_ones():
    assert af.quotes(af.select(_frames([(t, "resident", [2]) for t in NOISE]), af.Filter()), 2, n=5).empty
    rows = [("my family", "resident", [2]), ("family", "young_person", [2]),
            ("My family is always there for me when school gets hard", "resident", [2])]
    chosen = af.quotes(af.select(_frames(rows), af.Filter()), 2, n=2)
    assert chosen["text"].iloc[0] == "My family is always there for me when school gets hard"
    assert len(chosen) == 2  # a short answer is still what people said, when nothing better is left


def test_a_pinned_quote_stays_the_teams_choice():
    prep = _frames([("...I'm on [phone]", "resident", [2]), (GOOD[1], "resident", [2])])
    prep.pins = pd.DataFrame({"code_id": [2], "response_id": ["a0"]})
    chosen = af.quotes(af.select(prep, af.Filter()), 2, n=2)
    assert list(chosen["pinned"]) == [True, False] and chosen["text"].iloc[1] == GOOD[1]
