"""Question sets as data: YAML files in surveys/sets/ and the loader that validates them.

Use `bundled("thrive")` for the shipped participatory-appraisal set, `load_question_set` for any other.
"""

from surveys.model import (
    Group,
    Language,
    Option,
    Problem,
    ProfileField,
    Question,
    QuestionSet,
    QuestionSetError,
    bundled,
    bundled_keys,
    load_question_set,
)

__all__ = [
    "Group",
    "Language",
    "Option",
    "Problem",
    "ProfileField",
    "Question",
    "QuestionSet",
    "QuestionSetError",
    "bundled",
    "bundled_keys",
    "load_question_set",
]
