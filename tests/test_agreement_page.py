"""The agreement page under AppTest: per-code kappa/alpha for two coders, drawing a stored sample, the
disagreements side by side and resolving one, and the refusal for roles that may not code."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import agreement, coding
from data import codebook as cb
from data.importer import import_responses
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "agreement.py")
ANSWERS = "id,question,group,text\n" + "".join(
    f"r{k},{q},young_person,answer {k}\n" for k, q in enumerate(["thrive_helps"] * 6 + ["thrive_stops"] * 4))


def app(user) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = user
    return at


@pytest.fixture
def kim():
    return make_user("engagement_officer", name="kim_officer")


@pytest.fixture
def coded(db, admin, officer, kim):
    import_responses(db, admin, ANSWERS.encode(), "a.csv", event="Fair")
    for name in ("food", "friends", "unused"):
        cb.create_code(db, officer, name, name.title())
    ids = dict(db.execute("SELECT external_id, id FROM responses").fetchall())
    a = {"r0": ["food"], "r1": ["food", "friends"], "r2": ["friends"], "r3": ["food"], "r4": ["friends"]}
    b = {"r0": ["food"], "r1": ["food"], "r2": ["friends"], "r3": ["friends"], "r4": ["friends"]}
    coding.apply_many(db, officer, [(ids[r], c) for r, codes in a.items() for c in codes])
    coding.apply_many(db, kim, [(ids[r], c) for r, codes in b.items() for c in codes])
    return ids


def test_figures_and_disagreements(db, officer, coded):
    at = app(officer).run()
    assert not at.exception
    assert at.selectbox(key="agreement_coder_a").value == "olu_officer"
    assert at.selectbox(key="agreement_coder_b").value == "kim_officer"
    assert at.metric[0].value == "5"
    table = at.dataframe[0].value
    food = table[table["code"] == "Food"].iloc[0]
    assert food["kappa"] == pytest.approx(8 / 13) and food["alpha"] == pytest.approx(0.64) and food["n"] == 5
    assert "Unused" not in list(table["code"])  # codes nobody used are hidden until asked for
    at.toggle(key="agreement_show_all").set_value(True).run()
    assert "Unused" in list(at.dataframe[0].value["code"])
    texts = [m.value for m in at.markdown]
    assert "answer 1" in texts and "answer 3" in texts and "answer 0" not in texts


def test_resolve_a_disagreement(db, officer, coded):
    at = app(officer).run()
    at.button(key=f"agreement_remove_{coded['r1']}_friends").click().run()
    assert coding.get_answer(db, officer, coded["r1"]).codes == ("food",)
    assert "Removed Friends" in at.success[0].value
    at.button(key=f"agreement_add_{coded['r3']}_friends").click().run()
    at.button(key=f"agreement_remove_{coded['r3']}_food").click().run()
    assert agreement.disagreements(db, officer, "olu_officer", "kim_officer") == []
    assert any("No disagreements" in s.value for s in at.success)
    # the other coder's codings were never touched
    assert coding.get_answer(db, make_user("engagement_officer", name="kim_officer"), coded["r3"]).codes == ("friends",)


def test_draw_a_sample(db, officer, coded):
    at = app(officer).run()
    at.number_input(key="agreement_size").set_value(4)
    at.number_input(key="agreement_seed").set_value(11)
    at.button(key="agreement_draw").click().run()
    samples = agreement.list_samples(db, officer)
    assert len(samples) == 1 and samples[0].size == 4 and samples[0].seed == 11
    assert at.selectbox(key="agreement_sample").value == samples[0].id
    assert "Drew a sample of 4 answers" in at.success[0].value
    assert not at.exception


def test_alone_a_coder_is_told_what_to_do(db, officer, admin):
    import_responses(db, admin, ANSWERS.encode(), "a.csv", event="Fair")
    at = app(officer).run()
    assert not at.exception and "needs two people" in at.info[0].value


def test_refused_without_permission(db, lead, coded):
    at = app(lead).run()
    assert at.error and "don't have access" in at.error[0].value and not at.dataframe
