"""The database side of suggestions: builds a Suggester from the codebook and the codings made so far, and
suggests codes for every answer that nobody has coded yet (the `suggest` command).

Withheld answers (under an unreleased safeguarding flag, data.flags.withheld_sql) are never read here: the model
does not learn from their words, so no reason ever quotes them as a similar coded answer, and they get no
suggestions (a suggestion's reason would quote the answer's own words; the coder codes it from its banner).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np
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


def coding_weight(sources: Sequence[str], coders: int) -> float:
    """How much one answer's code counts when learning: by the strongest source that gave it (an accepted
    suggestion is weaker than a code given by hand) and by how many coders gave it (agreement counts more)."""
    base = max((Suggester.SOURCE_WEIGHTS.get(source, 1.0) for source in sources), default=1.0)
    return base * min(1.5, 1.0 + 0.25 * (max(coders, 1) - 1))


def _coded_answers(db: Database, coder: str | None = None) -> tuple[list[str], list[tuple]]:
    """Answer ids and (redacted text, [code names], question id, {code: weight}) for every answer with a human
    coding (by `coder` if given); withheld answers left out. The engine sorts them by content itself.

    Private: callers go through build_suggester, which checks the "code" permission first.
    """
    sql = (f"SELECT r.id, r.redacted_text, r.question_id, k.name, c.source, c.coder FROM codings c "
           f"JOIN codes k ON k.id = c.code_id JOIN responses r ON r.id = c.response_id "
           f"WHERE c.source IN ({_MARKS}) AND k.archived = 0 AND r.redacted_text IS NOT NULL "
           f"AND NOT {withheld_sql('r')}"
           + (" AND c.coder = ?" if coder else "")
           + " ORDER BY r.id, k.name")
    params: list[str] = list(HUMAN_SOURCES) + ([coder] if coder else [])
    by_answer: dict[str, tuple[str, str, dict[str, tuple[set[str], set[str]]]]] = {}
    for response_id, text, question, name, source, who in db.execute(sql, params).fetchall():
        entry = by_answer.setdefault(response_id, (text, question, {}))
        sources, coders = entry[2].setdefault(name, (set(), set()))
        sources.add(source)
        coders.add(who)
    ids, rows = [], []
    for response_id, (text, question, codes) in by_answer.items():
        ids.append(response_id)
        names = sorted(codes)
        rows.append((text, names, question,
                     {n: coding_weight(sorted(codes[n][0]), len(codes[n][1])) for n in names}))
    return ids, rows


def meaning() -> tuple[Callable[[list[str]], np.ndarray] | None, str]:
    """The sentence-embedding function, or None with the reason it is unavailable (shown on the page)."""
    try:
        from analysis import embeddings
    except Exception as exc:  # noqa: BLE001 - the runtime is optional: any failure means "not available"
        return None, f"sentence embeddings are not installed ({exc.__class__.__name__}); suggestions use words only"
    try:
        if embeddings.available():
            return embeddings.embed, ""
        return None, f"sentence embeddings unavailable: {embeddings.unavailable_reason()}; suggestions use words only"
    except Exception as exc:  # noqa: BLE001
        return None, f"sentence embeddings failed to load ({exc}); suggestions use words only"


def _stored_vectors(db: Database, ids: list[str]) -> np.ndarray | None:
    """Embeddings stored for these answers (data.embeddings), or None where any is missing or the store is absent."""
    if not ids:
        return None
    try:
        from data.embeddings import load_embeddings

        vectors = np.asarray(load_embeddings(db, ids), dtype=np.float32)
    except Exception:  # noqa: BLE001 - fall back to computing them
        return None
    if vectors.ndim != 2 or vectors.shape[0] != len(ids) or not np.isfinite(vectors).all() \
            or (np.abs(vectors).sum(axis=1) == 0).any():
        return None
    return vectors


def build_suggester(db: Database, user: User, coder: str | None = None) -> Suggester:
    """A Suggester over the current codebook, trained on the human codings (of one coder, or all), with the
    sentence-embedding runtime where it is available (`meaning_reason` says why not otherwise)."""
    require(user, "code")
    embed, reason = meaning()
    ids, rows = _coded_answers(db, coder)
    vectors = _stored_vectors(db, ids) if embed is not None else None
    return Suggester(codebook_for_suggestions(db), embed=embed, meaning_reason=reason).fit(rows, vectors=vectors)


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
        f"SELECT r.id, r.external_id, coalesce(r.redacted_text, ''), r.question_id FROM responses r "
        f"WHERE NOT EXISTS (SELECT 1 FROM codings c WHERE c.response_id = r.id AND c.source IN ({_MARKS})) "
        f"AND NOT {withheld_sql('r')} "
        f"ORDER BY r.created_at, r.id", list(HUMAN_SOURCES)).fetchall()
    if response_ids is not None:
        wanted = set(response_ids)
        rows = [row for row in rows if row[0] in wanted]
    out: list[dict] = []
    if not rows:
        return out
    vectors = _stored_vectors(db, [row[0] for row in rows]) if suggester.embed is not None else None
    ranked = suggester.suggest_many([row[2] for row in rows], top_k=top_k, reasons=False,
                                    questions=[row[3] for row in rows], vectors=vectors)
    for (response_id, external_id, _, _), suggestions in zip(rows, ranked, strict=True):
        for rank, s in enumerate(suggestions, start=1):
            out.append({"response_id": response_id, "external_id": external_id or "", "code": s.code,
                        "rank": rank, "score": round(s.score, 4)})
    return out
