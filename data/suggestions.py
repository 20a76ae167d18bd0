"""The database side of suggestions: builds a Suggester from the codebook and the codings made so far, and
suggests codes for every answer that nobody has coded yet (the `suggest` command).

Withheld answers (under an unreleased safeguarding flag, data.flags.withheld_sql) are never read here: the model
does not learn from their words, so no reason ever quotes them as a similar coded answer, and they get no
suggestions (a suggestion's reason would quote the answer's own words; the coder codes it from its banner).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlite_utils import Database

from analysis.suggest import CodeInfo, Suggester
from data.codebook import list_codes
from data.flags import withheld_sql
from data.users import User, require

#: codings that a person made or confirmed: they teach the model, and an answer with one counts as coded
HUMAN_SOURCES = ("human", "suggestion", "bulk", "import", "merge")
_MARKS = ", ".join("?" for _ in HUMAN_SOURCES)


def codebook_for_suggestions(db: Database) -> list[CodeInfo]:
    """The codes that may be suggested: every code not archived, with its words."""
    return [CodeInfo(name=c.name, label=c.label, definition=c.definition, keywords=tuple(c.keywords),
                     examples=tuple(c.examples), include=c.include_guidance, exclude=c.exclude_guidance)
            for c in list_codes(db)]


def _coded_answers(db: Database, coder: str | None = None) -> list[tuple[str, list[str]]]:
    """(redacted text, [code names]) for every answer with a human coding (by `coder` if given), oldest first;
    withheld answers left out.

    Private: callers go through build_suggester, which checks the "code" permission first.
    """
    sql = (f"SELECT r.id, r.redacted_text, k.name FROM codings c JOIN codes k ON k.id = c.code_id "
           f"JOIN responses r ON r.id = c.response_id "
           f"WHERE c.source IN ({_MARKS}) AND k.archived = 0 AND r.redacted_text IS NOT NULL "
           f"AND NOT {withheld_sql('r')}"
           + (" AND c.coder = ?" if coder else "")
           + " ORDER BY r.created_at, r.id, k.name")
    params: list[str] = list(HUMAN_SOURCES) + ([coder] if coder else [])
    by_answer: dict[str, tuple[str, list[str]]] = {}
    for response_id, text, name in db.execute(sql, params).fetchall():
        entry = by_answer.setdefault(response_id, (text, []))
        if name not in entry[1]:
            entry[1].append(name)
    return list(by_answer.values())


def build_suggester(db: Database, user: User, coder: str | None = None) -> Suggester:
    """A Suggester over the current codebook, trained on the human codings (of one coder, or all)."""
    require(user, "code")
    return Suggester(codebook_for_suggestions(db)).fit(_coded_answers(db, coder))


def suggest_uncoded(db: Database, user: User, top_k: int = 3, *,
                    response_ids: Collection[str] | None = None) -> list[dict]:
    """For every answer without a human coding, its top_k codes: dicts response_id, external_id, code, rank, score.

    Rank 1 is the best; answers for which no code scores above zero get no rows, nor do withheld answers.
    `response_ids` limits the answers suggested for (the benchmark's test answers); the model still learns from
    every coded answer.
    """
    require(user, "code")
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
    suggester = build_suggester(db, user)
    rows = db.execute(
        f"SELECT r.id, r.external_id, coalesce(r.redacted_text, '') FROM responses r "
        f"WHERE NOT EXISTS (SELECT 1 FROM codings c WHERE c.response_id = r.id AND c.source IN ({_MARKS})) "
        f"AND NOT {withheld_sql('r')} "
        f"ORDER BY r.created_at, r.id", list(HUMAN_SOURCES)).fetchall()
    if response_ids is not None:
        wanted = set(response_ids)
        rows = [row for row in rows if row[0] in wanted]
    out: list[dict] = []
    if not rows:
        return out
    ranked = suggester.suggest_many([text for _, _, text in rows], top_k=top_k, reasons=False)
    for (response_id, external_id, _), suggestions in zip(rows, ranked, strict=True):
        for rank, s in enumerate(suggestions, start=1):
            out.append({"response_id": response_id, "external_id": external_id or "", "code": s.code,
                        "rank": rank, "score": round(s.score, 4)})
    return out
