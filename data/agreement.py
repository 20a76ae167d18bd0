"""Double-coding samples (stored, so a sample stays the same across sessions) and the agreement between two
coders per code, with their disagreements side by side. The statistics live in analysis/agreement.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from analysis import agreement as stats
from data import audit, coding
from data.codebook import list_codes
from data.db import now_utc, transaction
from data.users import User, require


class AgreementError(ValueError):
    """An agreement request that cannot be met; the message says why in plain words."""


@dataclass(frozen=True)
class Sample:
    id: int
    name: str
    coder_a: str
    coder_b: str
    size: int
    seed: int
    created_by: str
    created_at: str


@dataclass(frozen=True)
class Disagreement:
    """One answer where the two coders' codes differ: each side's codes and the codes only one of them applied.
    A withheld answer (under an unreleased safeguarding flag) has `withheld` set and, for all but the safeguarding
    lead, WITHHELD_TEXT as its text (data.coding.get_answer decides)."""

    response_id: str
    text: str
    question: str
    group: str
    codes_a: tuple[str, ...]
    codes_b: tuple[str, ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    withheld: bool = False


@dataclass(frozen=True)
class Report:
    coder_a: str
    coder_b: str
    n: int
    codes: dict[str, stats.CodeAgreement]
    overall: dict[str, Any]
    sample_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "coders": [self.coder_a, self.coder_b], "sample_id": self.sample_id, "n": self.n,
            "codes": {name: {"kappa": c.kappa, "alpha": c.alpha, "n": c.n, "observed": c.observed,
                             "applied_a": c.applied_a, "applied_b": c.applied_b, "both": c.both,
                             **({"reason": c.reason} if c.reason else {})} for name, c in self.codes.items()},
            "overall": self.overall,
        }


def _check_coders(coder_a: str, coder_b: str) -> tuple[str, str]:
    coder_a, coder_b = (coder_a or "").strip(), (coder_b or "").strip()
    if not coder_a or not coder_b:
        raise AgreementError("Choose two coders.")
    if coder_a == coder_b:
        raise AgreementError("Choose two different coders.")
    return coder_a, coder_b


def draw_sample(db: Database, user: User, *, coder_a: str, coder_b: str, size: int, seed: int | None = None,
                event: str | None = None, name: str = "") -> Sample:
    """Draw and store a random sample of answers, stratified by question, for coder_b (and coder_a) to code.
    The same answers, seed and size give the same sample; the stored sample never changes."""
    require(user, "code")
    coder_a, coder_b = _check_coders(coder_a, coder_b)
    if int(size) < 1:
        raise AgreementError("The sample needs at least one answer.")
    seed = int(seed) if seed is not None else random.SystemRandom().randrange(1, 2**31)
    sql = "SELECT id, question_id FROM responses"
    params: list[Any] = []
    if event:
        sql += " WHERE event_id = ?"
        params.append(event)
    by_question: dict[str, list[str]] = {}
    for rid, qid in db.execute(sql, params):
        by_question.setdefault(qid, []).append(rid)
    if not by_question:
        raise AgreementError("There are no answers to sample yet.")
    chosen = stats.stratified_sample(by_question, int(size), seed)
    with transaction(db):
        sample_id = db.execute(
            "INSERT INTO agreement_samples (name, coder_a, coder_b, size, seed, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [name.strip() or f"{coder_a} / {coder_b}", coder_a, coder_b, len(chosen), seed, user.username, now_utc()],
        ).lastrowid
        db.conn.executemany("INSERT INTO agreement_sample_items (sample_id, response_id, position) VALUES (?, ?, ?)",
                            [(sample_id, rid, i) for i, rid in enumerate(chosen)])
        audit.record(db, user, "agreement_sample_drawn", "agreement_sample", sample_id, coder_a=coder_a,
                     coder_b=coder_b, size=len(chosen), seed=seed, asked=int(size))
    return get_sample(db, user, sample_id)


def get_sample(db: Database, user: User, sample_id: int) -> Sample:
    require(user, "code")
    row = db.execute("SELECT id, name, coder_a, coder_b, size, seed, created_by, created_at FROM agreement_samples "
                     "WHERE id = ?", [int(sample_id)]).fetchone()
    if row is None:
        raise AgreementError("That sample no longer exists.")
    return Sample(*row)


def list_samples(db: Database, user: User) -> list[Sample]:
    require(user, "code")
    return [Sample(*row) for row in db.execute(
        "SELECT id, name, coder_a, coder_b, size, seed, created_by, created_at FROM agreement_samples ORDER BY id DESC")]


def sample_items(db: Database, user: User, sample_id: int) -> list[str]:
    require(user, "code")
    return [row[0] for row in db.execute(
        "SELECT response_id FROM agreement_sample_items WHERE sample_id = ? ORDER BY position", [int(sample_id)])]


def _coded(db: Database, coder: str, sample_id: int | None) -> dict[str, set[str]]:
    sql = "SELECT c.response_id, k.name FROM codings c JOIN codes k ON k.id = c.code_id WHERE c.coder = ?"
    params: list[Any] = [coder]
    if sample_id is not None:
        sql += " AND c.response_id IN (SELECT response_id FROM agreement_sample_items WHERE sample_id = ?)"
        params.append(int(sample_id))
    result: dict[str, set[str]] = {}
    for rid, name in db.execute(sql, params):
        result.setdefault(rid, set()).add(name)
    return result


def report(db: Database, user: User, coder_a: str, coder_b: str, *, sample_id: int | None = None) -> Report:
    """Per code (every code in the codebook, archived included, plus any code either coder used), kappa and
    alpha over the answers both coders coded (within the sample if one is given). An answer counts as coded
    by a coder when they gave it at least one code."""
    require(user, "code")
    coder_a, coder_b = _check_coders(coder_a, coder_b)
    coded_a, coded_b = _coded(db, coder_a, sample_id), _coded(db, coder_b, sample_id)
    names = [c.name for c in list_codes(db, include_archived=True) if c.merged_into is None]
    used = {code for codes in (*coded_a.values(), *coded_b.values()) for code in codes}
    names += sorted(used - set(names))
    table = stats.agreement_table(names, coded_a, coded_b)
    n = len(set(coded_a) & set(coded_b))
    return Report(coder_a, coder_b, n, table, stats.summary(table), sample_id)


def disagreements(db: Database, user: User, coder_a: str, coder_b: str, *, sample_id: int | None = None,
                  ) -> list[Disagreement]:
    """Answers both coders coded where their codes differ, with the redacted text (WITHHELD_TEXT for a withheld
    answer, but for the safeguarding lead), question and group."""
    require(user, "code")
    coder_a, coder_b = _check_coders(coder_a, coder_b)
    coded_a, coded_b = _coded(db, coder_a, sample_id), _coded(db, coder_b, sample_id)
    result = []
    for rid in sorted(set(coded_a) & set(coded_b)):
        a, b = coded_a[rid], coded_b[rid]
        if a == b:
            continue
        answer = coding.get_answer(db, user, rid)
        result.append(Disagreement(rid, answer.text, answer.question, answer.group, tuple(sorted(a)),
                                   tuple(sorted(b)), tuple(sorted(a - b)), tuple(sorted(b - a)), answer.withheld))
    return result


def resolve(db: Database, user: User, response_id: str, code: str, *, apply: bool) -> bool:
    """Resolve a disagreement: the acting coder changes their own coding (applies or removes `code`)."""
    if apply:
        return coding.apply_code(db, user, response_id, code)
    return coding.remove_code(db, user, response_id, code)
