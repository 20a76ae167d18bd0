"""The database side of suggestions: builds a Suggester from the codebook and the codings made so far, and
suggests codes for every answer that nobody has coded yet (the `suggest` command).

Withheld answers (under an unreleased safeguarding flag, data.flags.withheld_sql) are never read here: the model
does not learn from their words, so no reason ever quotes them as a similar coded answer, and they get no
suggestions (a suggestion's reason would quote the answer's own words; the coder codes it from its banner).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence

import numpy as np
from sqlite_utils import Database

from analysis.suggest import CodeInfo, Suggester, bounded_sample, is_placeholder, stable_key
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
    return _coding_weight(tuple(sources), coders)


@functools.lru_cache(maxsize=256)
def _coding_weight(sources: tuple[str, ...], coders: int) -> float:
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
    ids: list[str] = []
    rows: list[tuple] = []
    current: str | None = None
    text = question = None
    codes: dict[str, tuple[set[str], set[str]]] = {}

    def flush() -> None:
        ids.append(current)
        names = sorted(codes)
        rows.append((text, names, question,
                     {n: _coding_weight(tuple(sorted(codes[n][0])), len(codes[n][1])) for n in names}))

    # streamed in answer order (one answer's codings are consecutive): no whole result set in memory at once
    for response_id, answer_text, answer_question, name, source, who in db.execute(sql, params):
        if response_id != current:
            if current is not None:
                flush()
            current, text, question, codes = response_id, answer_text, answer_question, {}
        sources, coders = codes.setdefault(name, (set(), set()))
        sources.add(source)
        coders.add(who)
    if current is not None:
        flush()
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


#: at most this many answers without a stored vector are embedded on the fly by one build or one `suggest` (a few
#: seconds of CPU); with more missing, meaning is left out of that build and the reason says to run `cli.py embed`
#: (about 130 answers a second of CPU here: 550,000 answers would take over an hour inside a command)
EMBED_MISSING_MAX = 2_000


def _stored_vectors(db: Database, ids: list[str]) -> tuple[np.ndarray | None, np.ndarray]:
    """(vectors, found) of the embeddings stored for these answers (data.embeddings): float32 rows, zeros where
    `found` is False; (None, all False) where the store cannot be read."""
    found = np.zeros(len(ids), dtype=bool)
    if not ids:
        return None, found
    try:
        from data.embeddings import load_embeddings

        vectors, found = load_embeddings(db, ids, with_mask=True)
        vectors = np.asarray(vectors, dtype=np.float32)
    except Exception:  # noqa: BLE001 - fall back to computing them
        return None, np.zeros(len(ids), dtype=bool)
    if vectors.ndim != 2 or vectors.shape[0] != len(ids):
        return None, np.zeros(len(ids), dtype=bool)
    found = np.asarray(found, dtype=bool) & np.isfinite(vectors).all(axis=1) & (np.abs(vectors).sum(axis=1) > 0)
    return vectors, found


def _fill_missing(vectors: np.ndarray | None, found: np.ndarray, texts: Sequence[str], embed) -> np.ndarray:
    """The vectors with the missing rows computed by `embed`."""
    if vectors is None or not found.any():  # none stored: all computed (in the embedding's own width)
        return np.asarray(embed(list(texts)), dtype=np.float32) if len(texts) else np.zeros((0, 0), np.float32)
    missing = np.flatnonzero(~found)
    if len(missing):
        vectors[missing] = np.asarray(embed([texts[i] for i in missing]), dtype=np.float32)
    return vectors


def training_rows(db: Database, user: User, coder: str | None = None) -> tuple[list[str], list[tuple], int]:
    """The coded answers a model learns from (ids, rows as _coded_answers, how many coded answers there are): at scale the deterministic sample
    stratified by code that the engine would take itself (analysis.suggest.bounded_sample), taken here so that
    only the sample's vectors are read."""
    require(user, "code")
    ids, rows = _coded_answers(db, coder)
    if len(rows) <= Suggester.TRAIN_MAX:
        return ids, rows, len(rows)
    known = {c.name for c in list_codes(db)}
    order = sorted((i for i in range(len(rows)) if not is_placeholder(rows[i][0])),
                   key=lambda i: stable_key(rows[i][0], rows[i][1], rows[i][2]))
    keep = sorted(order[k] for k in bounded_sample([[n for n in rows[i][1] if n in known] for i in order],
                                                   Suggester.TRAIN_MAX))
    return [ids[i] for i in keep], [rows[i] for i in keep], len(rows)


def build_suggester(db: Database, user: User, coder: str | None = None, *, also_missing: int = 0) -> Suggester:
    """A Suggester over the current codebook, trained on the human codings (of one coder, or all; at scale a
    bounded sample, see training_rows), with the sentence-embedding runtime where it is available and the
    answers' vectors are stored (`meaning_reason` says why not otherwise). `also_missing`: answers to be suggested
    for that have no stored vector (suggest_uncoded), counted against EMBED_MISSING_MAX with the training ones."""
    require(user, "code")
    embed, reason = meaning()
    ids, rows, population = training_rows(db, user, coder)
    vectors = None
    if embed is not None:
        vectors, found = _stored_vectors(db, ids)
        missing = int((~found).sum()) + also_missing
        if missing > EMBED_MISSING_MAX:
            have = len(ids) - int((~found).sum())
            embed, reason = None, (f"sentence vectors are stored for only {have:,} of the {len(ids):,} coded answers "
                                   f"learned from ({missing:,} answers lack one): run `python cli.py embed`; "
                                   "suggestions use words only until then")
        else:
            vectors = _fill_missing(vectors, found, [r[0] for r in rows], embed)
    model = Suggester(codebook_for_suggestions(db), embed=embed, meaning_reason=reason).fit(rows, vectors=vectors)
    model.n_population = population
    return model


def suggest_uncoded(db: Database, user: User, top_k: int = 3, *,
                    response_ids: Collection[str] | None = None, notes: list[str] | None = None) -> list[dict]:
    """For every answer without a human coding, its top_k codes: dicts response_id, external_id, code, rank, score.

    Rank 1 is the best; answers for which no code scores above zero get no rows, nor do withheld answers.
    `response_ids` limits the answers suggested for (the benchmark's test answers); the model still learns from
    every coded answer (at scale a bounded sample of them, see training_rows). `notes`, where given, receives one
    line saying why meaning was not used (no runtime, or too few stored vectors) and how many coded answers were
    learned from when that was a sample.
    """
    require(user, "code")
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
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
    vectors, found = (_stored_vectors(db, [row[0] for row in rows]) if meaning()[0] is not None
                      else (None, np.zeros(len(rows), dtype=bool)))
    suggester = build_suggester(db, user, also_missing=int((~found).sum()))
    if notes is not None:
        if suggester.meaning_reason:
            notes.append(suggester.meaning_reason)
        if suggester.n_coded < suggester.n_population:
            notes.append(f"learned from a sample of {suggester.n_coded:,} of the {suggester.n_population:,} coded "
                         "answers, stratified by code")
    if suggester.embed is not None:
        vectors = _fill_missing(vectors, found, [row[2] for row in rows], suggester.embed)
    else:
        vectors = None
    ranked = suggester.suggest_many([row[2] for row in rows], top_k=top_k, reasons=False,
                                    questions=[row[3] for row in rows], vectors=vectors)
    for (response_id, external_id, _, _), suggestions in zip(rows, ranked, strict=True):
        for rank, s in enumerate(suggestions, start=1):
            out.append({"response_id": response_id, "external_id": external_id or "", "code": s.code,
                        "rank": rank, "score": round(s.score, 4)})
    return out
