"""Suggestions: text normalisation, codebook matching, learning from codings, reasons, the db helper and the CLI."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.suggest import CodeInfo, Suggester, codes_from_rows
from analysis.text import TextProcessor, damerau, fold
from data.users import PermissionDenied

ROOT = Path(__file__).resolve().parent.parent
CODEBOOK = ROOT / "analysis" / "resources" / "starter_codebook.csv"


@pytest.fixture(scope="module")
def codes() -> list[CodeInfo]:
    with CODEBOOK.open(encoding="utf-8", newline="") as handle:
        return codes_from_rows(csv.DictReader(handle))


@pytest.fixture(scope="module")
def starter(codes) -> Suggester:
    return Suggester(codes)


def top(suggester: Suggester, text: str, k: int = 3) -> list[str]:
    return [s.code for s in suggester.suggest(text, top_k=k)]


# --- text processing -----------------------------------------------------------------------------------------------

def test_apostrophes_fold_so_dont_forms_are_one_word():
    p = TextProcessor()
    forms = ["they don't care", "they dont care", "they don\u2019t care", "THEY DON'T CARE"]
    assert {p.normalised(f) for f in forms} == {"they do not care"}
    assert fold("Sooooo boring") == "soo boring"


def test_lexicon_expands_slang_and_text_speak():
    p = TextProcessor()
    assert p.normalised("ma fam n mates") == "my family and friends"
    assert "alcohol" in p.normalised("bevvies every night").split()
    assert p.normalised("the feds r out") == "the police are out"
    assert "home" in p.normalised("back at the gaff").split()


def test_spelling_correction_towards_the_vocabulary_but_not_real_words():
    p = TextProcessor(["hungry", "dinner", "family"])
    assert p.normalised("kids are hungy") == "kids are hungry"
    assert p.normalised("my famly") == "my family"
    # real English words near a vocabulary word are left alone
    assert p.normalised("the winner gets dinner") == "the winner gets dinner"
    assert p.normalised("where they live") == "where they live"


def test_terms_drop_stop_words_and_stem_and_make_bigrams():
    p = TextProcessor()
    assert p.terms("Nothing to do for the young people") == ["noth", "young", "peopl"]
    assert "young peopl" in p.features("Nothing to do for the young people")


def test_damerau_counts_a_swap_as_one_edit():
    assert damerau("freinds", "friends") == 1
    assert damerau("hungy", "hungry") == 1
    assert damerau("abc", "xyz", limit=1) == 2  # capped at limit + 1


# --- codebook matching -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "code"), [
    ("we need more youth clubs round here", "youth_services"),
    ("no breakfast and always hungry", "nutritional_neglect"),
    ("gangs and knife crime", "crime_exploitation"),
    ("dad drinks too much alcohol", "substance_misuse"),
    ("not taken to the dentist", "medical_neglect"),
])
def test_keyword_match_ranks_the_right_code_first(starter, text, code):
    assert top(starter, text, 1) == [code]


@pytest.mark.parametrize(("text", "code", "k"), [
    ("ma fam", "family_love", 1),
    ("im skint", "poverty_money", 2),  # "skint" is a keyword of two codes; both come first
    ("bevvies every weekend", "substance_misuse", 1),
    ("they dont feed them, kids are hungy", "nutritional_neglect", 1),
    ("feds everywhere n bare opps", "crime_exploitation", 1),
    ("gettin bullied on insta", "bullying_online", 1),
])
def test_text_speak_slang_and_misspellings_still_find_the_code(starter, text, code, k):
    assert code in top(starter, text, k)


def test_reasons_name_the_words_that_matched(starter):
    [first] = starter.suggest("parents on the bevvies", top_k=1)
    assert first.code == "substance_misuse"
    assert "bevvies" in first.reason and "keyword" in first.reason
    [first] = starter.suggest("my mates", top_k=1)
    assert "mates" in first.reason


def test_scores_are_between_0_and_1_and_sorted(starter):
    for text in ["", "hello", "skint and hungry and no one listens", "!!!"]:
        scores = [s.score for s in starter.suggest(text, top_k=5)]
        assert all(0.0 < s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)


def test_an_answer_with_no_evidence_gets_no_suggestions(starter):
    assert starter.suggest("xyzzy qwerty") == []


def test_exclude_leaves_out_named_codes(starter):
    assert top(starter, "parents drinking alcohol", 1) == ["substance_misuse"]
    kept = [s.code for s in starter.suggest("parents drinking alcohol", exclude=["substance_misuse"])]
    assert kept and "substance_misuse" not in kept


def test_top_k_must_be_positive(starter):
    with pytest.raises(ValueError):
        starter.suggest("hungry", top_k=0)


def test_duplicate_code_names_are_refused():
    with pytest.raises(ValueError, match="more than once"):
        Suggester([CodeInfo("a", "A"), CodeInfo("a", "Again")])


# --- learning from codings -------------------------------------------------------------------------------------------

TWO_CODES = [CodeInfo("transport", "Getting about"), CodeInfo("housing", "Where people live")]


def test_learning_from_codings_changes_the_ranking():
    suggester = Suggester(TWO_CODES)
    text = "the number 9 only comes twice a day"
    assert top(suggester, text) == []  # nothing in the codebook matches
    coded = [(f"the number {n} bus never comes on time", ["transport"]) for n in range(1, 8)]
    coded += [(f"damp flat number {n} with mould on the walls", ["housing"]) for n in range(1, 8)]
    suggester.fit(coded)
    assert top(suggester, text, 1) == ["transport"]
    assert top(suggester, "mould everywhere in our flat", 1) == ["housing"]


def test_learned_suggestion_reason_names_similar_coded_answers():
    suggester = Suggester(TWO_CODES).fit([("buses stop at six", ["transport"]), ("damp flat", ["housing"])])
    [first] = suggester.suggest("no buses after six", top_k=1)
    assert first.code == "transport"
    assert "resembles coded answers" in first.reason and "buses stop at six" in first.reason


def test_add_updates_the_model_incrementally():
    suggester = Suggester(TWO_CODES)
    base = [(f"bus route {n} cut", ["transport"]) for n in range(30)] + \
        [(f"flat {n} has damp", ["housing"]) for n in range(30)]
    suggester.fit(base)
    suggester.FULL_REFIT_LIMIT = 0  # take the incremental path even on this small set
    before = {s.code: s.score for s in suggester.suggest("potholes on the cycle lane", top_k=2)}
    for _ in range(3):
        suggester.add("potholes on the cycle lane", ["transport"])
    after = {s.code: s.score for s in suggester.suggest("potholes on the cycle lane", top_k=2)}
    assert suggester.n_coded == 63
    assert after["transport"] > before.get("transport", 0.0)
    assert top(suggester, "potholes on the cycle lane", 1) == ["transport"]


def test_first_add_works_before_any_fit():
    suggester = Suggester(TWO_CODES)
    suggester.add("the tram is too dear", ["transport"])
    assert top(suggester, "tram fares", 1) == ["transport"]


@pytest.mark.parametrize("marker", ["[withheld: safeguarding]", " [answer withheld: redaction failed] "])
def test_a_placeholder_is_never_learned_from_or_suggested_for(marker):
    """A withheld answer's marker is not an answer: learning from it, or scoring it, would treat its words
    ("withheld", "safeguarding") as the answer's and make every withheld answer look alike."""
    codes = [*TWO_CODES, CodeInfo("safety", "Safety", keywords=("safeguarding", "withheld"))]
    suggester = Suggester(codes).fit([("buses stop at six", ["transport"]), (marker, ["housing"])])
    assert suggester.n_coded == 1 and suggester.counts.tolist() == [1, 0, 0]
    suggester.add(marker, ["housing"])
    assert suggester.n_coded == 1
    assert suggester.suggest(marker) == [] and suggester.suggest_many([marker, "safeguarding"])[0] == []
    assert top(suggester, "safeguarding matters", 1) == ["safety"]  # real words still match the codebook
    reasons = " ".join(s.reason for s in suggester.suggest("the buses stop", top_k=3))
    assert "withheld" not in reasons


def test_codings_with_unknown_codes_are_ignored():
    suggester = Suggester(TWO_CODES).fit([("bus late", ["transport", "no_such_code"]), ("damp", [])])
    assert suggester.counts.tolist() == [1, 0]


def test_suggestions_are_deterministic(codes):
    coded = [(row["text"], row["codes"].split(";")) for row in
             csv.DictReader((ROOT / "bench" / "data" / "suggest_eval.csv").open(encoding="utf-8"))]
    texts = [t for t, _ in coded[150:]]
    first = Suggester(codes).fit(coded[:150]).suggest_many(texts)
    second = Suggester(codes).fit(coded[:150]).suggest_many(texts)
    assert first == second


def test_suggestions_do_not_depend_on_string_hashing():
    """Sets of words are iterated in places: results must not change with PYTHONHASHSEED (another process)."""
    import os
    import subprocess
    import sys

    script = ("import csv, sys; sys.path.insert(0, '.'); from analysis.suggest import Suggester, codes_from_rows; "
              "codes = codes_from_rows(csv.DictReader(open('analysis/resources/starter_codebook.csv'))); "
              "rows = list(csv.DictReader(open('bench/data/suggest_eval.csv'))); "
              "s = Suggester(codes).fit([(r['text'], r['codes'].split(';')) for r in rows[:100]]); "
              "print(s.suggest_many([r['text'] for r in rows[100:140]]))")
    outputs = {subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1 and "Suggestion(" in outputs.pop()


def test_suggest_many_gives_the_same_in_chunks_as_one_by_one(codes):
    coded = [(row["text"], row["codes"].split(";")) for row in
             csv.DictReader((ROOT / "bench" / "data" / "suggest_eval.csv").open(encoding="utf-8"))]
    suggester = Suggester(codes).fit(coded[:120])
    texts = [t for t, _ in coded[120:160]]
    whole = suggester.suggest_many(texts)
    suggester.CHUNK = 7
    assert suggester.suggest_many(texts) == whole
    assert [suggester.suggest(t) for t in texts] == whole


def test_learned_model_takes_over_from_the_codebook_with_enough_codings(codes):
    """A code whose keywords mislead is corrected by many codings that say otherwise."""
    suggester = Suggester(codes)
    text = "the park is full of broken glass"
    assert top(suggester, text, 1) != ["crime_exploitation"]
    coded = [(f"{thing} in the park", ["crime_exploitation"])
             for thing in ("broken glass", "needles", "smashed bottles", "burnt out bikes", "graffiti")] * 10
    coded += [(f"{thing} at the youth club", ["activities_places"])
              for thing in ("football", "pool table", "dance", "music studio", "cooking")] * 10
    suggester.fit(coded)
    assert top(suggester, text, 1) == ["crime_exploitation"]
    # the same when the codings arrive one at a time, as on the coding page
    one_by_one = Suggester(codes)
    for answer, names in coded:
        one_by_one.add(answer, names)
    assert top(one_by_one, text, 1) == ["crime_exploitation"]


# --- the database helper and the CLI -------------------------------------------------------------------------------

def _answers(db, admin, event, texts: list[str]) -> list[str]:
    from data.capture import add_transcribed

    return [add_transcribed(db, admin, event_id=event.id, question_id="thrive_stops", group_id="resident",
                            text=t).response_id for t in texts]


@pytest.fixture
def coded_db(db, admin, officer, event):
    from data.codebook import load_starter_codebook
    from data.coding import apply_code

    load_starter_codebook(db, admin)
    ids = _answers(db, admin, event, ["parents drinking every night", "no money for food",
                                      "gangs on the estate", "ring the youth club on 07700 900123, nothing to do"])
    # a flagged answer is withheld and gets no suggestions (test_cli_suggest_leaves_out_withheld_answers): none is
    assert db.execute("SELECT count(*) FROM flags").fetchone()[0] == 0
    apply_code(db, officer, ids[0], "substance_misuse")
    apply_code(db, officer, ids[1], "poverty_money")
    return db, ids


def test_build_suggester_needs_the_code_permission(coded_db, researcher, lead):
    from data.suggestions import build_suggester, suggest_uncoded

    db, _ = coded_db
    for user in (researcher, lead):
        with pytest.raises(PermissionDenied):
            build_suggester(db, user)
        with pytest.raises(PermissionDenied):
            suggest_uncoded(db, user, 3)


def test_build_suggester_learns_from_human_codings_of_redacted_text(coded_db, officer):
    from data.suggestions import build_suggester

    db, _ = coded_db
    suggester = build_suggester(db, officer)
    assert suggester.n_coded == 2
    assert suggester.counts[suggester.index["substance_misuse"]] == 1
    assert build_suggester(db, officer, coder="someone_else").n_coded == 0


def test_suggest_uncoded_covers_only_answers_without_human_codings(coded_db, officer):
    from data.suggestions import suggest_uncoded

    db, ids = coded_db
    rows = suggest_uncoded(db, officer, 2)
    assert {r["response_id"] for r in rows} == {ids[2], ids[3]}
    assert Counter(r["response_id"] for r in rows)[ids[2]] == 2
    gang = [r for r in rows if r["response_id"] == ids[2]]
    assert [r["rank"] for r in gang] == [1, 2] and gang[0]["code"] == "crime_exploitation"
    assert gang[0]["score"] >= gang[1]["score"]


def _cli(*args: str):
    from cli import cli

    return CliRunner().invoke(cli, list(args))


def test_cli_suggest_writes_the_csv(coded_db, db_path, tmp_path):
    _, ids = coded_db
    out = tmp_path / "out" / "suggestions.csv"
    result = _cli("suggest", "--top", "3", "--out", str(out), "--db", str(db_path))
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["response_id", "external_id", "code", "rank", "score"]
    assert {r["response_id"] for r in rows} == {ids[2], ids[3]}
    by_answer: dict[str, list[dict]] = {}
    for r in rows:
        by_answer.setdefault(r["response_id"], []).append(r)
    for answer_rows in by_answer.values():
        assert [int(r["rank"]) for r in answer_rows] == list(range(1, len(answer_rows) + 1))
        scores = [float(r["score"]) for r in answer_rows]
        assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert by_answer[ids[2]][0]["code"] == "crime_exploitation"
    assert "suggestion(s)" in result.output


def test_cli_suggest_leaves_out_withheld_answers(coded_db, db_path, tmp_path, officer):
    """An answer under an unreleased flag gets no suggestions (they come from its words) and teaches nothing."""
    from data.flags import raise_flag
    from data.suggestions import build_suggester

    db, ids = coded_db
    raise_flag(db, officer, kind="manual", reason="worried", response_id=ids[2])
    raise_flag(db, officer, kind="auto", reason="possible disclosure", response_id=ids[0])
    assert build_suggester(db, officer).n_coded == 1  # ids[0] is coded but withheld
    out = tmp_path / "s.csv"
    result = _cli("suggest", "--out", str(out), "--db", str(db_path))
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        assert {r["response_id"] for r in csv.DictReader(handle)} == {ids[3]}


@pytest.mark.parametrize("value", ["0", "-1", "21", "three"])
def test_cli_suggest_rejects_bad_top_values(coded_db, db_path, tmp_path, value):
    out = tmp_path / "s.csv"
    result = _cli("suggest", "--top", value, "--out", str(out), "--db", str(db_path))
    assert result.exit_code != 0
    assert "--top" in result.output
    assert not out.exists()
