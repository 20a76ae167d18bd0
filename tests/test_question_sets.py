"""Question sets: the bundled set, validation errors for people, translation and frozen versions."""

from __future__ import annotations

import io

import pytest
import yaml

from surveys import QuestionSetError, bundled, bundled_keys, load_question_set
from surveys.model import SETS_DIR

GROUPS = ["young_person", "parent_carer", "practitioner", "school_staff", "family_centre_staff",
          "community_volunteer", "faith_group", "resident", "decision_maker"]


def test_bundled_thrive_set_has_the_four_questions_and_nine_groups():
    qs = bundled("thrive")
    assert "thrive" in bundled_keys()
    assert [q.id for q in qs.questions] == ["thrive_helps", "thrive_stops", "neglect_is", "thrive_local"]
    assert qs.text(qs.question("thrive_helps").label) == "What helps children and young people thrive?"
    assert qs.text(qs.question("neglect_is").label) == "What is child / young person neglect?"
    assert [g.id for g in qs.groups] == GROUPS
    assert {p.id for p in qs.profile} == {"age_band", "ward"}
    assert qs.consent["en"]


def test_area_name_is_filled_in_question_four_in_every_language():
    qs = bundled("thrive")
    q4 = qs.question("thrive_local")
    assert qs.text(q4.label, area="Dudley") == "What do you think would help children and young people thrive in Dudley?"
    assert "Dudley" in qs.text(q4.label, "ur", area="Dudley")
    assert "{area}" not in qs.text(q4.label, "ur", area="Dudley")


def test_second_language_is_a_right_to_left_draft():
    qs = bundled("thrive")
    urdu = qs.language("ur")
    assert urdu.status == "draft" and urdu.direction == "rtl" and "native" in urdu.note
    for question in qs.questions:
        assert question.label["ur"] != question.label["en"]


def _definition() -> dict:
    return yaml.safe_load((SETS_DIR / "thrive.yaml").read_text(encoding="utf-8"))


def _problems(definition) -> list[str]:
    with pytest.raises(QuestionSetError) as info:
        load_question_set(definition)
    return [str(p) for p in info.value.problems]


def test_duplicate_question_ids_are_rejected():
    definition = _definition()
    definition["questions"][1]["id"] = "thrive_helps"
    assert any("duplicate id 'thrive_helps'" in p for p in _problems(definition))


def test_unknown_question_type_is_rejected():
    definition = _definition()
    definition["questions"][0]["type"] = "essay"
    problems = _problems(definition)
    assert any(p.startswith("questions[0].type") and "essay" in p for p in problems)


def test_missing_label_in_a_declared_language_is_rejected():
    definition = _definition()
    del definition["questions"][2]["label"]["ur"]
    assert any(p.startswith("questions[2].label") and "missing label in 'ur'" in p for p in _problems(definition))
    definition = _definition()
    del definition["groups"][0]["label"]
    assert any(p.startswith("groups[0].label") and "missing label" in p for p in _problems(definition))


def test_unknown_language_is_rejected_everywhere_it_appears():
    definition = _definition()
    definition["languages"].append({"code": "xx", "status": "draft"})
    assert any("unknown language 'xx'" in p for p in _problems(definition))
    definition = _definition()
    definition["questions"][0]["label"]["zz"] = "?"
    assert any("unknown language 'zz'" in p for p in _problems(definition))


def test_every_problem_is_reported_not_only_the_first():
    definition = _definition()
    definition["questions"][0]["type"] = "essay"
    definition["groups"][1]["id"] = "young_person"
    definition["default_language"] = "fr"
    assert len(_problems(definition)) >= 3


def test_choice_questions_need_options_and_free_text_takes_none():
    definition = _definition()
    definition["questions"].append({"id": "heard_of", "type": "single_choice",
                                    "label": {"en": "Heard of us?", "ur": "کیا آپ نے سنا؟"}})
    assert any("at least two options" in p for p in _problems(definition))
    definition = _definition()
    definition["questions"][0]["options"] = [{"id": "a", "label": {"en": "A", "ur": "ا"}},
                                             {"id": "b", "label": {"en": "B", "ur": "ب"}}]
    assert any("takes no options" in p for p in _problems(definition))


def test_choice_questions_load_from_a_file_object():
    definition = _definition()
    definition["questions"].append({"id": "where_heard", "type": "multiple_choice",
                                    "label": {"en": "Where did you hear of this?", "ur": "آپ نے کہاں سنا؟"},
                                    "options": [{"id": "school", "label": {"en": "School", "ur": "اسکول"}},
                                                {"id": "friend", "label": {"en": "A friend", "ur": "ایک دوست"}}]})
    qs = load_question_set(io.BytesIO(yaml.safe_dump(definition, allow_unicode=True).encode("utf-8")))
    assert qs.question("where_heard").option("friend").label["en"] == "A friend"


def test_invalid_yaml_gives_a_clear_error():
    with pytest.raises(QuestionSetError, match="not valid YAML"):
        load_question_set("key: [unclosed")


def test_question_set_is_frozen_per_distinct_content(db, admin):
    from data.events import create_event, question_set

    first = create_event(db, admin, name="One", date="2026-10-01")
    second = create_event(db, admin, name="Two", date="2026-10-02")
    assert first.question_set_id == second.question_set_id == "thrive@1"
    definition = _definition()
    definition["questions"][0]["label"]["en"] = "What helps children and young people do well?"
    edited = load_question_set(definition)
    third = create_event(db, admin, name="Three", date="2026-10-03", question_set=edited)
    assert third.question_set_id == "thrive@2"
    # the first event still means what it meant when its answers were collected
    frozen = question_set(db, first.question_set_id)
    assert frozen.text(frozen.question("thrive_helps").label) == "What helps children and young people thrive?"


def test_direction_is_derived_from_the_script_not_typed_per_language():
    from surveys.languages import LANGUAGES, RTL_SCRIPTS, direction, script, script_direction

    assert script("pa-Guru") == "Guru" and direction("pa-Guru") == "ltr"
    assert script("pa-Arab") == "Arab" and direction("pa-Arab") == "rtl"
    assert script("ur") == "Arab" and direction("ur") == "rtl"  # no subtag: the language's own script
    assert direction("ar") == "rtl" and direction("he") == "rtl" and direction("pa") == "ltr"
    assert direction("en") == "ltr" and direction("pl") == "ltr" and direction("ro") == "ltr"
    # a code the table does not know still reads right to left when its script says so
    assert direction("sd-Arab") == "rtl" and direction("dv-Thaa") == "rtl" and direction("syr-Syrc") == "rtl"
    assert direction("xx") == "ltr" and direction("ur-Latn") == "ltr"  # romanised Urdu reads left to right
    assert script_direction("arab") == "rtl" and script_direction("Latn") == "ltr"
    assert {"Arab", "Hebr", "Thaa", "Syrc"} <= RTL_SCRIPTS
    for info in LANGUAGES.values():
        assert info.direction == ("rtl" if info.script in RTL_SCRIPTS else "ltr"), info


def test_punjabi_in_either_script_is_a_known_language_of_a_question_set():
    definition = _definition()
    definition["languages"] += [{"code": "pa-Guru", "status": "draft"}, {"code": "pa-Arab", "status": "draft"}]

    def translate(node):  # every text given per language gets a (placeholder) Gurmukhi and Shahmukhi text
        if isinstance(node, dict):
            if isinstance(node.get("en"), str) and "ur" in node:
                node["pa-Guru"], node["pa-Arab"] = "ਸਵਾਲ", "سوال"
            for value in node.values():
                translate(value)
        elif isinstance(node, list):
            for value in node:
                translate(value)

    translate(definition)
    qs = load_question_set(definition)
    assert qs.language("pa-Arab").direction == "rtl" and qs.language("pa-Guru").direction == "ltr"
    assert qs.language("ur").direction == "rtl"
