"""Findings tables over plain frames: themes per question, by group, co-occurrence, words, quotes, progress.

Pure pandas (no database, no Streamlit): data.findings.load_frames gives the input, pages and exports render it.

Counting rules (documented for the method section of the report):
- An answer *raises* a code when any coder applied it (codings from several coders are pooled, not voted).
- A sub-code counts toward its parent theme too: an answer coded "emotional_neglect" raises "neglect".
  At the "theme" level only top-level codes are reported; at the "code" level every code, parents included.
- A respondent raises a code for a question when any of their answers to it raises it.
- The base of a share is the respondents with at least one coded answer in the selection (per question, or per
  group): uncoded answers say nothing yet about themes, so they are reported separately as progress.
- Small cells: a count of 1 to threshold-1 respondents is shown as "<threshold"; when a group's whole base is
  under the threshold, every cell of that group is suppressed (zeros included), since they would disclose it.
- An answer withheld for safeguarding (column `withheld`, set by data.findings) counts like any other, but is never
  quoted or pinned and its words are left out of the frequent words and phrases.
- A transcribed flipchart post-it (column `flipchart`) is an anonymous answer, not a person: headline counts it
  apart from the people. In shares and group bases each post-it is one anonymous voice (the unit is "respondents
  or post-its"), so the flipchart answers still count toward the themes.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import config

#: Colour-blind safe palette (Okabe & Ito, 2008), used for categorical charts and default code colours.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]

#: Words every answer to these questions uses, which therefore say nothing in a frequency list; added to the
#: shipped stop words of analysis/text.py (whose tokeniser is reused, so the two lists never drift apart).
QUESTION_WORDS = frozenset("""
kids kid children child childrens young people person peoples help helps helping thrive thriving things thing
lot lots really get got yeah need needs want like just make way ways not out more too own
""".split())


@dataclass(frozen=True)
class Filter:
    """What the strategy lead has chosen to look at. Empty tuples mean "all"."""

    questions: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    codes: tuple[int, ...] = ()  # answers raising any of these codes (or their sub-codes)

    def describe(self, questions: dict[str, str] | None = None, groups: dict[str, str] | None = None,
                 events: dict[str, str] | None = None, codes: dict[int, str] | None = None) -> dict[str, str]:
        """The filter in words, for a README sheet or a caption."""
        def names(values: Iterable[Any], labels: dict[Any, str] | None) -> str:
            values = list(values)
            return ", ".join((labels or {}).get(v, str(v)) for v in values) if values else "all"

        return {
            "Questions": names(self.questions, questions),
            "Respondent groups": names(self.groups, groups),
            "Events": names(self.events, events),
            "Event dates": (f"{self.date_from or 'any'} to {self.date_to or 'any'}"
                            if self.date_from or self.date_to else "all"),
            "Codes": names(self.codes, codes),
        }


@dataclass
class Prepared:
    """Frames indexed for fast filtering: built once per data version, then filtered per request.

    `answers` is indexed 0..n-1 (column `rix` = that position) with `rsp` an integer respondent id;
    `pairs` holds (rix, code_id) for every code an answer raises, sub-codes expanded to their ancestors.
    """

    answers: pd.DataFrame
    pairs: pd.DataFrame
    codes: pd.DataFrame
    theme_of: dict[int, int]
    coded: np.ndarray  # bool per answer: at least one coding
    pins: pd.DataFrame = field(default_factory=pd.DataFrame)
    lineage: frozenset[tuple[int, int]] = frozenset()  # (ancestor, descendant) pairs, in both orders
    questions: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    q_values: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))  # qix -> question_id
    g_values: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))  # gix -> group_id
    _tokens: np.ndarray | None = None  # memo: rix -> token list, filled on first use
    events: pd.DataFrame | None = None  # the events table, for filter choices (set by the caller)
    _index: _Index | None = None  # memo: the integer arrays behind the aggregations (Prepared.index)
    _texts: dict[int, _TextIndex] = field(default_factory=dict)  # memo: qix -> word and phrase counts per answer
    _quote_memo: np.ndarray | None = None  # memo: rix -> content words if it may be quoted, -2 if not, -1 unknown
    _quote_terms: np.ndarray | None = None  # memo: rix -> its distinct content words (quote scores)
    #: per row of the codings frame given to prepare: the position of its answer (-1: unknown), for the exports
    coding_rix: np.ndarray | None = None

    @property
    def index(self) -> _Index:
        """Integer arrays for the aggregations (_Index), built on first use and kept with this data version."""
        if self._index is None:
            self._index = _Index.build(self)
        return self._index

    def text_index(self, qix: int) -> _TextIndex:
        """Per-answer word and phrase counts of one question's answers (_TextIndex; -1: every answer), built on
        first use."""
        if qix not in self._texts:
            rows = (np.arange(len(self.answers)) if qix < 0
                    else np.flatnonzero(self.answers["qix"].to_numpy() == qix))
            self._texts[qix] = _TextIndex.build(rows, self.tokens(rows), len(self.answers))
        return self._texts[qix]

    def quote_checks(self, rix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(may be quoted, content words beside placeholders) per answer in `rix` (_quote_check), remembered."""
        if self._quote_memo is None:
            # the terms first, then the marks: another session's thread reading a mark finds its terms set
            self._quote_terms = np.empty(len(self.answers), dtype=object)
            self._quote_memo = np.full(len(self.answers), -1, dtype=np.int32)  # -1 not yet checked, -2 noise
        memo, terms = self._quote_memo, self._quote_terms
        missing = rix[memo[rix] == -1]
        if missing.size:
            texts = self.answers["text"].take(missing).tolist()
            stop = stop_words()
            for i, text, tokens in zip(missing, texts, self.tokens(missing), strict=True):
                problem, words = _quote_check(text, tokens)
                terms[i] = frozenset(w for w in tokens if len(w) >= 3 and w not in stop and not w.isdigit())
                memo[i] = -2 if problem else words
        values = memo[rix]
        return values >= 0, np.maximum(values, 0)

    def quote_terms(self, rix: np.ndarray) -> list[frozenset[str]]:
        """The distinct content words of answers already checked by quote_checks (for the typical-words score)."""
        return self._quote_terms[rix].tolist()

    @functools.cached_property
    def choices(self) -> dict[str, Any]:
        """The filter widgets' options: question ids (questionnaire order), group ids, first and last event day."""
        from data.findings import ordered_questions

        dates = pd.to_datetime(pd.Series(pd.unique(self.answers["event_date"])), errors="coerce").dropna()
        return {"questions": ordered_questions(self.q_values), "groups": sorted(self.g_values,
                                                                              key=lambda g: self.groups.get(g, g)),
                "first_day": dates.min().date() if len(dates) else None,
                "last_day": dates.max().date() if len(dates) else None}

    def tokens(self, rix: np.ndarray) -> list[list[str]]:
        """Token lists of these answers' texts, tokenised once per answer and remembered (append-only)."""
        if self._tokens is None:
            self._tokens = np.empty(len(self.answers), dtype=object)
        memo = self._tokens
        missing = [i for i in rix if memo[i] is None]
        if missing:  # only the missing texts become Python strings (to_numpy of the whole column cost ~0.3 s)
            for i, text in zip(missing, self.answers["text"].take(missing).tolist(), strict=True):
                memo[i] = tokenise(text)
        return memo[rix].tolist()

    @property
    def withheld(self) -> np.ndarray:
        """bool per answer: withheld for safeguarding (never quoted; its words never counted)."""
        if "withheld" not in self.answers:
            return np.zeros(len(self.answers), dtype=bool)
        return self.answers["withheld"].to_numpy(dtype=bool)

    @property
    def code_labels(self) -> dict[int, str]:
        return dict(zip(self.codes["code_id"], self.codes["label"], strict=False))

    @property
    def themes(self) -> list[int]:
        return [int(c) for c, p in zip(self.codes["code_id"], self.codes["parent_id"], strict=False) if pd.isna(p)]


def _ancestors(codes: pd.DataFrame) -> tuple[dict[int, list[int]], dict[int, int]]:
    """code -> [code, parent, grandparent...] and code -> top-level theme (cycles cut defensively)."""
    parent = {int(c): (None if pd.isna(p) else int(p)) for c, p in zip(codes["code_id"], codes["parent_id"],
                                                                      strict=False)}
    chains: dict[int, list[int]] = {}
    for code in parent:
        chain = [code]
        while parent.get(chain[-1]) is not None and parent[chain[-1]] not in chain:
            chain.append(parent[chain[-1]])
        chains[code] = chain
    return chains, {code: chain[-1] for code, chain in chains.items()}


def prepare(answers: pd.DataFrame, codings: pd.DataFrame, codes: pd.DataFrame, pins: pd.DataFrame | None = None,
            questions: dict[str, str] | None = None, groups: dict[str, str] | None = None) -> Prepared:
    """Index the loaded frames for filtering (see Prepared). Codings of unknown answers are dropped."""
    answers = answers.reset_index(drop=True).copy()
    answers["rix"] = np.arange(len(answers), dtype=np.int64)
    answers["rsp"] = pd.factorize(answers["respondent_id"])[0].astype(np.int64)
    qix, q_values = pd.factorize(answers["question_id"])
    gix, g_values = pd.factorize(answers["group_id"])
    answers["qix"], answers["gix"] = qix.astype(np.int64), gix.astype(np.int64)
    return Prepared(answers, **_coded(answers, codings, codes),
                    questions=questions or {}, groups=groups or {}, q_values=np.asarray(q_values, dtype=object),
                    g_values=np.asarray(g_values, dtype=object),
                    pins=pins if pins is not None else pd.DataFrame(columns=["code_id", "response_id"]))


def recode(prev: Prepared, codings: pd.DataFrame, codes: pd.DataFrame, pins: pd.DataFrame | None = None) -> Prepared:
    """`prev` with new codings, codebook and pins, its answers unchanged: equal to prepare() over the same answers,
    without factorising them again, and keeping the memos that depend on the answers alone (tokens, word and
    phrase indexes, quote checks), shared with `prev`. The aggregation index is rebuilt on first use."""
    if prev._tokens is None:  # made now, so that both share whatever either tokenises later
        prev._tokens = np.empty(len(prev.answers), dtype=object)
    if prev._quote_memo is None:  # the terms first, then the marks (as quote_checks)
        prev._quote_terms = np.empty(len(prev.answers), dtype=object)
        prev._quote_memo = np.full(len(prev.answers), -1, dtype=np.int32)
    out = Prepared(prev.answers, **_coded(prev.answers, codings, codes), questions=prev.questions,
                   groups=prev.groups, q_values=prev.q_values, g_values=prev.g_values,
                   pins=pins if pins is not None else pd.DataFrame(columns=["code_id", "response_id"]))
    out._tokens, out._texts = prev._tokens, prev._texts
    out._quote_terms, out._quote_memo = prev._quote_terms, prev._quote_memo
    out.events = prev.events
    return out


def _coded(answers: pd.DataFrame, codings: pd.DataFrame, codes: pd.DataFrame) -> dict[str, Any]:
    """The codings side of a Prepared (pairs, codes, theme_of, coded, lineage, coding_rix) over prepared answers."""
    codes = codes.copy()
    if "merged_into" not in codes:
        codes["merged_into"] = pd.array([pd.NA] * len(codes), dtype="Int64")
    chains, theme_of = _ancestors(codes)
    merged = {int(c): int(m) for c, m in zip(codes["code_id"], codes["merged_into"], strict=False) if not pd.isna(m)}

    index = pd.Index(answers["response_id"])
    rix = index.get_indexer(codings["response_id"])
    coding_rix = rix.astype(np.int64)
    code_ids = codings["code_id"].to_numpy(dtype=np.int64)
    if merged:
        code_ids = np.array([merged.get(int(c), int(c)) for c in code_ids], dtype=np.int64)
    keep = (rix >= 0) & np.isin(code_ids, np.fromiter(chains.keys(), dtype=np.int64, count=len(chains)))
    rix, code_ids = rix[keep], code_ids[keep]
    depth = max((len(c) for c in chains.values()), default=1)
    parts_r, parts_c = [rix], [code_ids]
    level = code_ids
    parent_of = np.full(max(chains, default=0) + 1, -1, dtype=np.int64)  # code id -> parent id, or -1
    for code, chain in chains.items():
        if len(chain) > 1:
            parent_of[code] = chain[1]
    for _ in range(depth - 1):
        up = parent_of[level]
        has = up >= 0
        parts_r.append(parts_r[-1][has])
        parts_c.append(up[has])
        level = up[has]
    pairs = pd.DataFrame({"rix": np.concatenate(parts_r), "code_id": np.concatenate(parts_c)})
    pairs = pairs.drop_duplicates(ignore_index=True)
    coded = np.zeros(len(answers), dtype=bool)
    coded[rix] = True
    lineage = frozenset(p for chain in chains.values() for up in chain[1:] for p in ((chain[0], up), (up, chain[0])))
    return {"pairs": pairs, "codes": codes, "theme_of": theme_of, "coded": coded, "lineage": lineage,
            "coding_rix": coding_rix}


# --- filtering --------------------------------------------------------------------------------------------------

def _first_of_groups(sorted_keys: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal values in a sorted array."""
    if sorted_keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


@dataclass
class _Grouping:
    """Rows grouped by an int64 key: `order` sorts them, `starts` begins each group, `keys` each group's key."""

    order: np.ndarray
    starts: np.ndarray
    keys: np.ndarray
    rows: np.ndarray  # the answer (rix) of each sorted row, int32: a filter's mask is gathered through it once

    @classmethod
    def of(cls, key: np.ndarray, rix: np.ndarray) -> _Grouping:
        order = np.argsort(key, kind="stable")
        sorted_keys = key[order]
        starts = _first_of_groups(sorted_keys)
        return cls(order, starts, sorted_keys[starts], rix[order].astype(np.int32))

    def any(self, mask: np.ndarray) -> np.ndarray:
        """Per group: is any of its rows' answers in `mask` (a bool per answer)?"""
        if self.starts.size == 0:
            return np.zeros(0, dtype=bool)
        return np.logical_or.reduceat(mask[self.rows], self.starts)


@dataclass
class _Index:
    """Integer arrays behind the aggregations, built once per data version (Prepared.index).

    Every table is a count of distinct units (respondents, answers) per key; with the pairs (answer, code) sorted
    once by (question, code, respondent), (code, respondent) and (question, respondent), a filter costs one gather
    of its answer mask and one `logical_or.reduceat` per grouping ("does any selected answer of this respondent
    raise this code for this question?"), then `bincount`s: no sort, groupby or nunique per filter change.
    Questions, groups and events are dense indexes with one spare slot (the last) for a missing value.
    """

    n_rsp: int
    n_q: int  # questions + 1 spare
    n_g: int  # groups + 1 spare
    n_c: int
    code_values: np.ndarray  # cix -> code id, ascending
    is_theme: np.ndarray  # bool per cix
    a_rsp: np.ndarray
    a_q: np.ndarray
    a_g: np.ndarray
    a_e: np.ndarray
    e_values: np.ndarray  # eix -> event id
    e_dates: pd.Series  # eix -> event date (ISO text)
    rsp_g: np.ndarray  # respondent -> group index
    flip: np.ndarray  # bool per answer: a transcribed flipchart post-it
    p_rix: np.ndarray  # per pair: answer
    p_c: np.ndarray  # per pair: cix
    p_qc: np.ndarray  # per pair: question * n_c + cix
    qcr: _Grouping  # pairs by (question, code, respondent)
    cr: _Grouping  # pairs by (code, respondent)
    qr: _Grouping  # pairs by (question, respondent)
    a_pix: np.ndarray  # per answer: progress row (event name, date, day), -1 if any is missing
    progress_keys: pd.DataFrame  # pix -> event_name, event_date, day
    pr: _Grouping  # answers with a progress row by (progress row, respondent); order indexes those answers
    pr_rows: np.ndarray  # the answers `pr` orders
    qcr_qc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per qcr group: question * n_c + cix
    qr_q: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per qr group: question
    cr_c: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per cr group: cix
    cr_r: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per cr group: respondent
    cr_cg: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per cr group: cix * n_g + group
    cr_by_r: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # cr groups in respondent order
    p_by_rix: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # pairs in answer order

    @classmethod
    def build(cls, prep: Prepared) -> _Index:
        a = prep.answers
        n = len(a)
        a_rsp = a["rsp"].to_numpy(dtype=np.int64)
        n_rsp = int(a_rsp.max()) + 1 if n else 0
        n_q, n_g = len(prep.q_values) + 1, len(prep.g_values) + 1
        a_q = a["qix"].to_numpy(dtype=np.int64).copy()
        a_q[a_q < 0] = n_q - 1
        a_g = a["gix"].to_numpy(dtype=np.int64).copy()
        a_g[a_g < 0] = n_g - 1
        eix, e_values = pd.factorize(a["event_id"])
        e_values = np.asarray(e_values, dtype=object)
        eix = eix.astype(np.int64)
        eix[eix < 0] = len(e_values)
        present, first = np.unique(eix, return_index=True)  # each event's first answer
        e_dates = pd.Series([None] * len(e_values), dtype=object)
        known = present < len(e_values)
        e_dates.iloc[present[known]] = a["event_date"].to_numpy()[first[known]]
        rsp_g = np.full(max(n_rsp, 1), n_g - 1, dtype=np.int64)
        rsp_g[a_rsp] = a_g
        flip = a["flipchart"].to_numpy(dtype=bool) if "flipchart" in a else np.zeros(n, dtype=bool)
        code_values = np.sort(prep.codes["code_id"].to_numpy(dtype=np.int64))
        n_c = len(code_values)
        themes = set(prep.themes)
        is_theme = np.array([int(c) in themes for c in code_values], dtype=bool)
        p_rix = prep.pairs["rix"].to_numpy(dtype=np.int64)
        p_c = np.searchsorted(code_values, prep.pairs["code_id"].to_numpy(dtype=np.int64)).astype(np.int64)
        p_rsp = a_rsp[p_rix]
        p_qc = a_q[p_rix] * n_c + p_c
        r = max(n_rsp, 1)
        cols = ["event_name", "event_date", "day"]
        if n and all(c in a for c in cols):
            grouped = a.groupby(cols, sort=True, dropna=True)
            a_pix = grouped.ngroup().to_numpy()
            a_pix = np.where(np.isnan(a_pix), -1, a_pix).astype(np.int64) if a_pix.dtype.kind == "f" else \
                a_pix.astype(np.int64)
            progress_keys = grouped.size().index.to_frame(index=False)
        else:
            a_pix, progress_keys = np.full(n, -1, dtype=np.int64), pd.DataFrame(columns=cols)
        pr_rows = np.flatnonzero(a_pix >= 0)
        pr = _Grouping.of(a_pix[pr_rows] * r + a_rsp[pr_rows], pr_rows)
        qcr = _Grouping.of(p_qc * r + p_rsp, p_rix)
        cr = _Grouping.of(p_c * r + p_rsp, p_rix)
        qr = _Grouping.of(a_q[p_rix] * r + p_rsp, p_rix)
        cr_c, cr_r = cr.keys // r, cr.keys % r
        return cls(n_rsp, n_q, n_g, n_c, code_values, is_theme, a_rsp, a_q, a_g, eix, e_values, e_dates, rsp_g,
                   flip, p_rix, p_c, p_qc, qcr, cr, qr, a_pix, progress_keys, pr, pr_rows,
                   qcr.keys // r, qr.keys // r, cr_c, cr_r, cr_c * n_g + rsp_g[cr_r],
                   np.argsort(cr_r, kind="stable"), np.argsort(p_rix, kind="stable"))

    @functools.cached_property
    def by_answer(self) -> tuple[np.ndarray, np.ndarray]:
        """(answer, cix) of every pair, in answer order (co-occurrence by answer)."""
        return self.p_rix[self.p_by_rix], self.p_c[self.p_by_rix]

    @functools.cached_property
    def by_respondent(self) -> tuple[np.ndarray, np.ndarray]:
        """(respondent, cix) of every distinct (code, respondent), in respondent order (co-occurrence by person)."""
        return self.cr_r[self.cr_by_r], self.cr_c[self.cr_by_r]

    def level_codes(self, level: str) -> np.ndarray:
        """bool per cix: the codes reported at this level."""
        if level == "theme":
            return self.is_theme
        if level == "code":
            return np.ones(self.n_c, dtype=bool)
        raise ValueError(f"level must be 'theme' or 'code', not {level!r}")


@dataclass
class Selection:
    """One filter applied: the answers kept (`mask` over Prepared.answers); their code pairs on demand."""

    prep: Prepared
    mask: np.ndarray

    @functools.cached_property
    def pairs(self) -> pd.DataFrame:
        """rix, code_id, qix, gix, rsp of every kept answer's codes (qix/gix index prep.q_values/g_values)."""
        a, pr = self.prep.answers, self.prep.pairs
        kept = pr[self.pair_mask]
        krix = kept["rix"].to_numpy()
        return pd.DataFrame({
            "rix": krix,
            "code_id": kept["code_id"].to_numpy(),
            "qix": a["qix"].to_numpy()[krix],
            "gix": a["gix"].to_numpy()[krix],
            "rsp": a["rsp"].to_numpy()[krix],
        })

    @functools.cached_property
    def pair_mask(self) -> np.ndarray:
        """bool per pair of Prepared.pairs: its answer is selected."""
        return self.mask[self.prep.index.p_rix]

    @functools.cached_property
    def kept_qcr(self) -> np.ndarray:
        """bool per (question, code, respondent) of the index: a selected answer raises it."""
        return self.prep.index.qcr.any(self.mask)

    @functools.cached_property
    def kept_cr(self) -> np.ndarray:
        """bool per (code, respondent): a selected answer of that respondent raises the code."""
        return self.prep.index.cr.any(self.mask)

    @functools.cached_property
    def kept_qr(self) -> np.ndarray:
        """bool per (question, respondent): a selected coded answer."""
        return self.prep.index.qr.any(self.mask)

    def code_rix(self, code_id: int) -> np.ndarray:
        """The selected answers raising a code (sub-codes included), ascending."""
        ix = self.prep.index
        c = int(np.searchsorted(ix.code_values, code_id))
        if c >= ix.n_c or ix.code_values[c] != code_id:
            return np.zeros(0, dtype=np.int64)
        rix = ix.p_rix[ix.p_c == c]
        return np.unique(rix[self.mask[rix]])

    @property
    def answers(self) -> pd.DataFrame:
        return self.prep.answers[self.mask]

    @property
    def n_answers(self) -> int:
        return int(self.mask.sum())

    @property
    def n_respondents(self) -> int:
        ix = self.prep.index
        return int(np.count_nonzero(np.bincount(ix.a_rsp[self.mask], minlength=ix.n_rsp)))

    @property
    def n_coded(self) -> int:
        return int((self.mask & self.prep.coded).sum())


def select(prep: Prepared, flt: Filter) -> Selection:
    """Apply a filter: the code filter keeps answers that raise any chosen code (sub-codes included).
    Questions, groups, events and dates are looked up through the dense indexes (Prepared.index)."""
    ix = prep.index
    mask = np.ones(len(prep.answers), dtype=bool)
    if flt.questions:
        mask &= np.append(np.isin(prep.q_values, list(flt.questions)), False)[ix.a_q]
    if flt.groups:
        mask &= np.append(np.isin(prep.g_values, list(flt.groups)), False)[ix.a_g]
    if flt.events:
        mask &= np.append(np.isin(ix.e_values, list(flt.events)), False)[ix.a_e]
    if flt.date_from or flt.date_to:
        allowed = np.ones(len(ix.e_values), dtype=bool)
        if flt.date_from:
            allowed &= (ix.e_dates >= flt.date_from.isoformat()).to_numpy(dtype=bool)
        if flt.date_to:
            allowed &= (ix.e_dates <= flt.date_to.isoformat()).to_numpy(dtype=bool)
        mask &= np.append(allowed, False)[ix.a_e]
    if flt.codes:
        chosen = np.isin(ix.code_values, np.asarray(flt.codes, dtype=np.int64))
        with_code = np.zeros(len(prep.answers), dtype=bool)
        with_code[ix.p_rix[chosen[ix.p_c]]] = True
        mask &= with_code
    return Selection(prep, mask)


def _level(sel: Selection, level: str) -> pd.DataFrame:
    if level == "theme":
        return sel.pairs[sel.pairs["code_id"].isin(sel.prep.themes)]
    if level == "code":
        return sel.pairs
    raise ValueError(f"level must be 'theme' or 'code', not {level!r}")


def _label_codes(frame: pd.DataFrame, prep: Prepared, column: str = "code_id", prefix: str = "") -> pd.DataFrame:
    info = prep.codes.set_index("code_id")
    frame[prefix + "code"] = frame[column].map(info["name"])
    frame[prefix + "label"] = frame[column].map(info["label"])
    return frame


# --- uncertainty ------------------------------------------------------------------------------------------------

#: 95 % intervals: the normal quantile for a two-sided 95 % interval.
Z95 = 1.959963984540054


def wilson_interval(k: Any, n: Any, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a share k/n (arrays or scalars); NaN where n is 0. It stays inside [0, 1] and
    behaves at 0 % and 100 %, where the textbook interval p +/- z*sqrt(p(1-p)/n) collapses to a point."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    lo, hi = np.where(k == 0, 0.0, lo), np.where(k == n, 1.0, hi)  # exact at the ends (no rounding residue)
    bad = ~(n > 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def newcombe_interval(k1: Any, n1: Any, k2: Any, n2: Any, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (1998, method 10) for the difference of two independent shares
    k1/n1 - k2/n2, built from each share's Wilson interval. NaN where either base is 0 (nothing to compare)."""
    with np.errstate(invalid="ignore", divide="ignore"):  # a base of 0 gives NaN, said by the caller
        p1 = np.asarray(k1, dtype=float) / np.asarray(n1, dtype=float)
        p2 = np.asarray(k2, dtype=float) / np.asarray(n2, dtype=float)
    l1, u1 = wilson_interval(k1, n1, z)
    l2, u2 = wilson_interval(k2, n2, z)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lo, hi


def could_be_chance(low: float, high: float) -> bool:
    """A difference whose 95 % interval includes 0 could be chance (or NaN: not known)."""
    return bool(pd.isna(low) or pd.isna(high) or (low <= 0 <= high))


def pct_interval(share: float, low: float, high: float) -> str:
    """ "42 % (95 % CI 35-49 %)" for a caption, a table or the report."""
    if pd.isna(share):
        return ""
    return f"{share:.0%} (95% CI {low * 100:.0f}–{high * 100:.0f}%)"


# --- themes per question ----------------------------------------------------------------------------------------

def theme_shares(sel: Selection, level: str = "theme", threshold: int | None = None) -> pd.DataFrame:
    """Per question and code: answers and respondents raising it, the base, and the share of that base.

    Columns: question_id, question, code_id, code, label, answers, respondents, base_respondents, share,
    suppressed, shown (as in by_group: a filtered selection can be one small group, so the same rule applies
    before a figure is shown or published). Sorted by question (questionnaire order) then share, largest first.
    """
    threshold = config.SMALL_CELL_THRESHOLD if threshold is None else threshold
    ix = sel.prep.index
    cols = ["question_id", "question", "code_id", "code", "label", "answers", "respondents", "base_respondents",
            "share", "suppressed", "shown", "ci_low", "ci_high"]
    size = ix.n_q * ix.n_c
    answers = np.bincount(ix.p_qc[sel.pair_mask], minlength=size)
    qc = np.flatnonzero((answers > 0) & np.tile(ix.level_codes(level), ix.n_q))
    qc = qc[qc // ix.n_c < ix.n_q - 1]  # the spare slot (a missing question) is never reported
    if qc.size == 0:
        return pd.DataFrame(columns=cols)
    respondents = np.bincount(ix.qcr_qc[sel.kept_qcr], minlength=size)
    base = np.bincount(ix.qr_q[sel.kept_qr], minlength=ix.n_q)
    qix = qc // ix.n_c
    out = pd.DataFrame({"qix": qix, "code_id": ix.code_values[qc % ix.n_c],
                        "answers": answers[qc].astype(np.int64), "respondents": respondents[qc].astype(np.int64),
                        "base_respondents": base[qix].astype(np.int64)})
    out["question_id"] = sel.prep.q_values[qix]
    out["share"] = out["respondents"] / out["base_respondents"]
    out["question"] = out["question_id"].map(lambda q: sel.prep.questions.get(q, q))
    _label_codes(out, sel.prep)
    from data.findings import ordered_questions  # the order is a fact about the questionnaire

    order = {q: i for i, q in enumerate(ordered_questions(out["question_id"]))}
    out["_q"] = out["question_id"].map(order)
    out = out.sort_values(["_q", "share", "label"], ascending=[True, False, True]).drop(columns="_q")
    out["suppressed"] = ((out["respondents"] > 0) & (out["respondents"] < threshold)) | (
        out["base_respondents"] < threshold)
    out["shown"] = [f"<{threshold}" if s else int(n) for n, s in zip(out["respondents"], out["suppressed"],
                                                                    strict=False)]
    out["ci_low"], out["ci_high"] = wilson_interval(out["respondents"], out["base_respondents"])
    return out[cols].reset_index(drop=True)


# --- groups -----------------------------------------------------------------------------------------------------

def suppress_count(n: int | float, base: int | float | None = None,
                   threshold: int | None = None) -> int | str:
    """A respondent count as shown in group breakdowns: "<5" for 1..4 (or when its base is under 5)."""
    threshold = config.SMALL_CELL_THRESHOLD if threshold is None else threshold
    n = int(n)
    if (base is not None and int(base) < threshold) or 0 < n < threshold:
        return f"<{threshold}"
    return n


def by_group(sel: Selection, level: str = "theme", threshold: int | None = None) -> pd.DataFrame:
    """Code x respondent group: respondents raising each code, the group's base, share, and suppression.

    Every code and every group present in the selection appear (zeros included) so a heatmap has no holes.
    Columns: code_id, code, label, group_id, group, respondents, base_respondents, share, suppressed, shown
    (`shown` is the count as it may be published: an int or "<5"; `share` is NaN where suppressed).
    """
    threshold = config.SMALL_CELL_THRESHOLD if threshold is None else threshold
    ix = sel.prep.index
    cols = ["code_id", "code", "label", "group_id", "group", "respondents", "base_respondents", "share",
            "suppressed", "shown", "ci_low", "ci_high"]
    kept = sel.kept_cr
    coded_rsp = np.zeros(max(ix.n_rsp, 1), dtype=bool)
    coded_rsp[ix.cr_r[kept]] = True
    base = np.bincount(ix.rsp_g[coded_rsp], minlength=ix.n_g)
    groups = np.flatnonzero(base[:-1] > 0)
    if groups.size == 0:
        return pd.DataFrame(columns=cols)
    counts = np.bincount(ix.cr_cg[kept], minlength=ix.n_c * ix.n_g).reshape(ix.n_c, ix.n_g)
    codes = np.flatnonzero((counts.sum(axis=1) > 0) & ix.level_codes(level))
    out = pd.DataFrame({"code_id": np.repeat(ix.code_values[codes], groups.size),
                        "gix": np.tile(groups, codes.size),
                        "respondents": counts[np.ix_(codes, groups)].reshape(-1).astype(np.int64)})
    out["base_respondents"] = base[out["gix"].to_numpy()].astype("int64")
    out["group_id"] = sel.prep.g_values[out["gix"].to_numpy()]
    out["suppressed"] = ((out["respondents"] > 0) & (out["respondents"] < threshold)) | (
        out["base_respondents"] < threshold)
    out["share"] = (out["respondents"] / out["base_respondents"]).where(~out["suppressed"])
    out["shown"] = [f"<{threshold}" if s else int(n) for n, s in zip(out["respondents"], out["suppressed"],
                                                                    strict=False)]
    out["group"] = out["group_id"].map(lambda g: sel.prep.groups.get(g, g))
    lo, hi = wilson_interval(out["respondents"], out["base_respondents"])
    out["ci_low"] = pd.Series(lo, index=out.index).where(~out["suppressed"])
    out["ci_high"] = pd.Series(hi, index=out.index).where(~out["suppressed"])
    _label_codes(out, sel.prep)
    return out[cols]


def compare_groups(table: pd.DataFrame, group_a: str, group_b: str) -> pd.DataFrame:
    """Two groups side by side from a by_group table, largest difference first (suppressed cells last).

    Columns: code_id, code, label, share_a, share_b, shown_a, shown_b, difference (a - b, NaN if suppressed),
    diff_low, diff_high (Newcombe's 95 % interval for the difference) and chance (True when that interval holds
    0: a difference this size could be chance).
    """
    cols = ["code_id", "code", "label", "share_a", "share_b", "shown_a", "shown_b", "difference", "diff_low",
            "diff_high", "chance"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    a = table[table["group_id"] == group_a].set_index("code_id")
    b = table[table["group_id"] == group_b].set_index("code_id")
    idx = a.index.union(b.index)
    out = pd.DataFrame(index=idx)
    meta = table.drop_duplicates("code_id").set_index("code_id")
    out["code"] = meta["code"].reindex(idx)
    out["label"] = meta["label"].reindex(idx)
    out["share_a"] = a["share"].reindex(idx)
    out["share_b"] = b["share"].reindex(idx)
    out["shown_a"] = a["shown"].reindex(idx)
    out["shown_b"] = b["shown"].reindex(idx)
    out["difference"] = out["share_a"] - out["share_b"]
    lo, hi = newcombe_interval(a["respondents"].reindex(idx), a["base_respondents"].reindex(idx),
                               b["respondents"].reindex(idx), b["base_respondents"].reindex(idx))
    known = out["difference"].notna().to_numpy()
    out["diff_low"] = np.where(known, lo, np.nan)
    out["diff_high"] = np.where(known, hi, np.nan)
    out["chance"] = [could_be_chance(x, y) for x, y in zip(out["diff_low"], out["diff_high"], strict=False)]
    out["_abs"] = out["difference"].abs()
    out = out.sort_values(["_abs", "label"], ascending=[False, True], na_position="last").drop(columns="_abs")
    return out.reset_index()[cols]


# --- co-occurrence ----------------------------------------------------------------------------------------------

#: Cells of one dense block of the units x codes incidence matrix (float32: 64 MB).
_GRAM_BLOCK_CELLS = 16_000_000


def _gram(rows: np.ndarray, cix: np.ndarray, n_codes: int) -> np.ndarray:
    """codes x codes: for every pair of codes, the units raising both (the diagonal: units raising each). `rows`
    (ascending unit numbers) and `cix` are the distinct (unit, code) incidences. The units x codes 0/1 matrix is
    built densely in blocks of units and multiplied through BLAS (exact: float32 holds every count of a block, the
    sum is kept in float64)."""
    gram = np.zeros((n_codes, n_codes), dtype=np.float64)
    block = max(1, _GRAM_BLOCK_CELLS // max(n_codes, 1))
    start = 0
    while start < rows.size:
        first = rows[start]
        end = int(np.searchsorted(rows, first + block, side="left"))
        dense = np.zeros((int(rows[end - 1] - first) + 1, n_codes), dtype=np.float32)
        dense[rows[start:end] - first, cix[start:end]] = 1.0
        gram += (dense.T @ dense).astype(np.float64)
        start = end
    return np.rint(gram).astype(np.int64)



def cooccurrence(sel: Selection, level: str = "theme", unit: str = "answer") -> pd.DataFrame:
    """How often two codes are raised together, by the same answer or by the same respondent.

    A code and its own theme (or sub-code) are never paired: every sub-code answer raises its theme too.

    Columns: code_a, label_a, code_b, label_b (code ids in code_id_a < code_id_b), both (units raising both),
    units (units raising at least one code) and share (both / units). Largest first.
    """
    if unit not in ("answer", "respondent"):
        raise ValueError("unit must be 'answer' or 'respondent'")
    cols = ["code_id_a", "code_a", "label_a", "code_id_b", "code_b", "label_b", "both", "units", "share"]
    ix = sel.prep.index
    at_level = ix.level_codes(level)
    if unit == "answer":  # the pairs are distinct (answer, code) already; taken in answer order
        rows, cix = ix.by_answer
        keep = sel.mask[rows] & at_level[cix]
    else:  # distinct (respondent, code) units, taken in respondent order
        rows, cix = ix.by_respondent
        keep = sel.kept_cr[ix.cr_by_r] & at_level[cix]
    rows, cix = rows[keep], cix[keep]
    if rows.size == 0:
        return pd.DataFrame(columns=cols)
    n_units = int(np.count_nonzero(np.r_[True, rows[1:] != rows[:-1]]))
    gram = np.triu(_gram(rows, cix, ix.n_c), k=1)  # k=1: each pair once, a before b in id order
    a_ix, b_ix = np.nonzero(gram)
    out = pd.DataFrame({"code_id_a": ix.code_values[a_ix], "code_id_b": ix.code_values[b_ix],
                        "both": gram[a_ix, b_ix].astype(np.int64)})
    out = out[out["both"] > 0]
    if sel.prep.lineage and not out.empty:  # a sub-code always "co-occurs" with its theme: not news
        related = pd.MultiIndex.from_tuples(list(sel.prep.lineage))
        out = out[~pd.MultiIndex.from_frame(out[["code_id_a", "code_id_b"]]).isin(related)]
    if out.empty:
        return pd.DataFrame(columns=cols)
    out = out.reset_index(drop=True)
    out["units"] = n_units
    out["share"] = out["both"] / n_units
    _label_codes(out, sel.prep, "code_id_a", "")
    out = out.rename(columns={"code": "code_a", "label": "label_a"})
    _label_codes(out, sel.prep, "code_id_b", "")
    out = out.rename(columns={"code": "code_b", "label": "label_b"})
    return out.sort_values(["both", "label_a", "label_b"], ascending=[False, True, True])[cols].reset_index(drop=True)


# --- words and phrases ------------------------------------------------------------------------------------------

def tokenise(text: str) -> list[str]:
    """Folded word tokens (analysis.text.tokens), stop words kept: phrases need them as gaps."""
    return _text_tokens()(text)


@functools.cache
def _text_tokens() -> Any:
    """analysis.text.tokens, imported on first use: nltk (and scipy under it) cost seconds and ~100 MB, and the
    exports and the report never tokenise."""
    from analysis.text import tokens

    return tokens


@functools.cache
def stop_words() -> frozenset[str]:
    from analysis.text import stopwords as text_stopwords

    return text_stopwords() | QUESTION_WORDS


def _word_table(docs: Iterable[list[str]], n: int) -> pd.DataFrame:
    stop = stop_words()
    # each answer's distinct words counted in C (Counter over a chain), stop words dropped once per word after
    counts: Counter[str] = Counter(itertools.chain.from_iterable(map(set, docs)))
    rows = sorted(((w, c) for w, c in counts.items() if len(w) > 2 and w not in stop and not w.isdigit()),
                  key=lambda kv: (-kv[1], kv[0]))[:n]
    return pd.DataFrame(rows, columns=["word", "count"])


def _phrase_table(docs: Iterable[list[str]], n: int, min_count: int) -> pd.DataFrame:
    """Bigram counts within each answer, through nltk's BigramCollocationFinder (so its association measures
    stay available); the frequency distributions are counted directly, which is several times faster than
    from_documents, and pairs with a stop word are dropped once per distinct pair after counting."""
    from nltk.collocations import BigramCollocationFinder
    from nltk.probability import FreqDist

    stop = stop_words()
    docs = docs if isinstance(docs, list) else list(docs)
    # counted in C over chains; pairs with a stop word are dropped once per distinct pair afterwards
    words: Counter[str] = Counter(itertools.chain.from_iterable(docs))
    every: Counter[tuple[str, str]] = Counter(
        itertools.chain.from_iterable(zip(ws, ws[1:], strict=False) for ws in docs))
    content = {w for w in words if len(w) > 2 and w not in stop and not w.isdigit()}
    pairs = Counter({pair: c for pair, c in every.items() if pair[0] in content and pair[1] in content})
    finder = BigramCollocationFinder(FreqDist(words), FreqDist(pairs))
    finder.apply_freq_filter(min_count)
    rows = sorted(finder.ngram_fd.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return pd.DataFrame([(" ".join(bigram), count) for bigram, count in rows], columns=["phrase", "count"])


def top_words(texts: Iterable[str], n: int = 20) -> pd.DataFrame:
    """The n most frequent content words: columns word, count (answers using it at least once), ordered."""
    return _word_table((tokenise(t) for t in texts), n)


def top_phrases(texts: Iterable[str], n: int = 20, min_count: int = 2) -> pd.DataFrame:
    """The n most frequent two-word phrases (nltk BigramCollocationFinder over each answer separately, so a
    phrase never spans two answers). Phrases with a stop word or a very short word are dropped."""
    return _phrase_table([tokenise(t) for t in texts], n, min_count)


def words_and_phrases(sel: Selection, question_id: str | None = None, n: int = 15,
                      min_count: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(top words, top phrases) of the selected answers (to one question, if given), from remembered tokens.
    Withheld answers are left out."""
    if "text" not in sel.prep.answers:
        return _word_table([], n), _phrase_table([], n, min_count)
    mask = sel.mask & ~sel.prep.withheld  # a disclosure's words must not surface in a phrase table
    if question_id is None:
        return sel.prep.text_index(-1).tables(mask, n, min_count)
    q_ix = np.flatnonzero(sel.prep.q_values == question_id)  # the integer question index, not a string compare
    if not len(q_ix):
        return _word_table([], n), _phrase_table([], n, min_count)
    return sel.prep.text_index(int(q_ix[0])).tables(mask, n, min_count)


@dataclass
class _TextIndex:
    """Word and phrase counts per answer for one question's answers (or every answer), built once per data
    version: `presence` (answers x content words, 1 where an answer uses the word) and `phrase_counts` (answers x
    two-word phrases of content words within one answer, how often). A selection's tables are then one sparse
    product with its answer mask, exact (the same counts as _word_table and _phrase_table over the tokens)."""

    rows: np.ndarray  # the answers (rix), in matrix row order
    words: list[str]
    word_rank: np.ndarray  # position of each word in text order (ties in a count are broken alphabetically)
    presence: Any  # scipy.sparse.csr_matrix
    phrases: list[tuple[str, str]]
    phrase_rank: np.ndarray
    phrase_counts: Any

    @classmethod
    def build(cls, rows: np.ndarray, docs: list[list[str]], n_answers: int) -> _TextIndex:
        from scipy import sparse

        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        flat = np.fromiter(itertools.chain.from_iterable(docs), dtype=object, count=int(lengths.sum()))
        ids, vocab = pd.factorize(flat) if flat.size else (np.zeros(0, dtype=np.int64), [])
        vocab = [str(w) for w in vocab]
        stop = stop_words()
        content = np.array([len(w) > 2 and w not in stop and not w.isdigit() for w in vocab], dtype=bool)
        compact = np.full(len(vocab), -1, dtype=np.int64)
        compact[content] = np.arange(int(content.sum()))
        words = [w for w, keep in zip(vocab, content, strict=True) if keep]
        n_words = len(words)
        is_content = content[ids] if ids.size else np.zeros(0, dtype=bool)
        presence = sparse.csr_matrix((np.ones(int(is_content.sum()), dtype=np.float64),
                                      (doc_of[is_content], compact[ids[is_content]])), shape=(len(docs), n_words))
        presence.sum_duplicates()
        presence.data[:] = 1.0  # counted once per answer
        both = (doc_of[1:] == doc_of[:-1]) & is_content[1:] & is_content[:-1] if ids.size else np.zeros(0, bool)
        key = compact[ids[:-1][both]] * max(n_words, 1) + compact[ids[1:][both]]
        pix, pvalues = pd.factorize(key) if key.size else (np.zeros(0, dtype=np.int64), np.zeros(0, np.int64))
        pvalues = np.asarray(pvalues, dtype=np.int64)
        phrase_counts = sparse.csr_matrix((np.ones(pix.size, dtype=np.float64), (doc_of[:-1][both], pix)),
                                          shape=(len(docs), len(pvalues)))
        phrase_counts.sum_duplicates()
        word_rank = np.empty(n_words, dtype=np.int64)
        word_rank[sorted(range(n_words), key=words.__getitem__)] = np.arange(n_words)
        first, second = pvalues // max(n_words, 1), pvalues % max(n_words, 1)
        phrase_rank = np.empty(len(pvalues), dtype=np.int64)
        phrase_rank[np.lexsort((word_rank[second], word_rank[first]))] = np.arange(len(pvalues))
        phrases = [(words[a], words[b]) for a, b in zip(first.tolist(), second.tolist(), strict=True)]
        return cls(rows, words, word_rank, presence, phrases, phrase_rank, phrase_counts)

    def tables(self, mask: np.ndarray, n: int, min_count: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(top words, top phrases) of the answers in `mask` (a bool per answer of Prepared.answers)."""
        weights = mask[self.rows].astype(np.float64)
        word_counts = np.rint(self.presence.T @ weights).astype(np.int64)
        phrase_counts = np.rint(self.phrase_counts.T @ weights).astype(np.int64)
        top_w = self._top(word_counts, self.word_rank, 1, n)
        top_p = self._top(phrase_counts, self.phrase_rank, max(min_count, 1), n)
        return (pd.DataFrame([(self.words[i], int(word_counts[i])) for i in top_w], columns=["word", "count"]),
                pd.DataFrame([(" ".join(self.phrases[i]), int(phrase_counts[i])) for i in top_p],
                             columns=["phrase", "count"]))

    @staticmethod
    def _top(counts: np.ndarray, rank: np.ndarray, least: int, n: int) -> np.ndarray:
        cand = np.flatnonzero(counts >= least)
        return cand[np.lexsort((rank[cand], -counts[cand]))][:n]


def words_by_question(sel: Selection, n: int = 15) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """question_id -> (top words, top phrases) over the selected answers' (redacted) texts."""
    from data.findings import ordered_questions

    return {q: words_and_phrases(sel, q, n) for q in ordered_questions(sel.answers["question_id"].unique())}


# --- quotes -----------------------------------------------------------------------------------------------------

QUOTE_MIN_CHARS = 30
QUOTE_MAX_CHARS = 240
_QUOTE_CANDIDATES = 1500
#: Content words (3+ letters, not a stop word or a number) an answer holding a redaction placeholder needs outside
#: its placeholders to be quoted: below this, what the answer says is the redacted detail ("...I'm on [phone]").
QUOTE_MIN_WORDS_BESIDE_REDACTION = 3
#: Content words that make an answer stand alone as a quote; shorter answers are chosen only when no such answer is
#: left (a two-word answer such as "my family" can still be what people said, in reply to the question).
QUOTE_STANDALONE_WORDS = 3
#: Whole answers that say nothing (compared folded, punctuation ignored).
NON_ANSWERS = frozenset({"dunno", "idk", "dont know", "don t know", "not sure", "no idea", "no comment", "nothing",
                         "none", "na", "n a", "pass", "no", "yes", "ok", "okay", "same", "same as above", "as above",
                         "see above"})


@functools.cache
def _placeholder_pattern() -> Any:
    """The redaction placeholders (analysis.privacy) and the safeguarding withholding text, as one pattern."""
    import re

    from analysis.privacy import PLACEHOLDERS
    from data.flags import WITHHELD_TEXT

    marks = sorted({*PLACEHOLDERS.values(), WITHHELD_TEXT}, key=len, reverse=True)
    return re.compile("|".join(re.escape(m) for m in marks), re.IGNORECASE)


@functools.cache
def _text_stop() -> frozenset[str]:
    from analysis.text import stopwords as text_stopwords

    return text_stopwords()


def _content_count(tokens: Iterable[str]) -> int:
    stop = _text_stop()
    return sum(1 for w in tokens if len(w) >= 3 and w not in stop and not w.isdigit())


@functools.lru_cache(maxsize=64)
def _placeholder_words(mark: str) -> int:
    """Content words the tokeniser finds inside one placeholder ("[phone]" -> "phone")."""
    return _content_count(tokenise(mark))


def quote_problem(text: str) -> str | None:
    """Why an answer cannot be a representative quote, or None when it can.

    A quote must be a finding, not noise: never an answer that is mostly redaction placeholders, one whose
    meaningful content is a redacted detail (a fragment such as "...I'm on [phone]", fewer than
    QUOTE_MIN_WORDS_BESIDE_REDACTION content words beside its placeholders), one with no content word at all, or a
    non-answer ("dunno", "not sure")."""
    return _quote_check(text)[0]


def _quote_check(text: str, tokens: list[str] | None = None) -> tuple[str | None, int]:
    """(quote_problem, content words outside placeholders); `tokens`: the text's tokenise(), when known."""
    text = str(text or "")
    tokens = tokenise(text) if tokens is None else tokens
    marks = _placeholder_pattern().findall(text)
    words = _content_count(tokens) - sum(_placeholder_words(m) for m in marks)
    if marks:
        stripped = _placeholder_pattern().sub(" ", text)
        if len(marks) >= words or len(stripped.strip(" .…,;:-")) < len(text) * 0.5:
            return "mostly redacted details", words
        if words < QUOTE_MIN_WORDS_BESIDE_REDACTION:
            return "its meaningful content is a redacted detail", words
        return None, words
    if not words:
        return "too short to stand alone", 0
    if " ".join(tokens) in NON_ANSWERS:
        return "not an answer", words
    return None, words


def quotes(sel: Selection, code_id: int, n: int = 3) -> pd.DataFrame:
    """Representative answers for a code: the officer's pins first, then a default choice.

    The default never takes an answer quote_problem rejects (mostly redaction placeholders, a fragment whose
    meaningful content is a redacted detail, no content word, a non-answer); it takes answers in turn from different
    respondent groups (so one voice does not dominate), and within a group prefers answers that stand alone (at least
    QUOTE_STANDALONE_WORDS content words), then moderate length (30-240 characters), then the words most typical of
    the code's answers. Pins are the engagement team's choice and are kept as pinned.
    An answer withheld for safeguarding is never chosen, even when pinned (a release brings the pin back), and so
    neither is its translation.
    Columns: response_id, text, question_id, group_id, group, event_name, pinned, translation (the pin's
    translation, data.findings.set_quote_translation; '' where none is given and for every quote not pinned).
    """
    cols = ["response_id", "text", "question_id", "group_id", "group", "event_name", "pinned", "translation"]
    prep = sel.prep
    if "text" not in prep.answers:
        return pd.DataFrame(columns=cols)
    rix = sel.code_rix(code_id)
    rix = rix[~prep.withheld[rix]]  # withheld for safeguarding: never a quote, pinned or not
    if rix.size == 0:
        return pd.DataFrame(columns=cols)
    pinned_ids = set(prep.pins.loc[prep.pins["code_id"] == code_id, "response_id"]) if len(prep.pins) else set()
    is_pin = (prep.answers["response_id"].take(rix).isin(pinned_ids).to_numpy(dtype=bool) if pinned_ids
              else np.zeros(rix.size, dtype=bool))
    pinned = prep.answers.iloc[rix[is_pin]].assign(pinned=True)
    chosen = [pinned]
    need = max(0, n - len(pinned))
    rest = rix[~is_pin]
    if need and rest.size:
        if rest.size > _QUOTE_CANDIDATES:  # evenly spaced, deterministic sample keeps this fast
            rest = rest[np.linspace(0, rest.size - 1, _QUOTE_CANDIDATES).astype(int)]
        ok, words = prep.quote_checks(rest)
        pool = prep.answers.iloc[rest[ok]]  # a finding, not noise
        standalone = (words[ok] >= QUOTE_STANDALONE_WORDS).astype(int)
        length = pool["text"].str.len()
        moderate = ((length >= QUOTE_MIN_CHARS) & (length <= QUOTE_MAX_CHARS)).astype(int)
        tokens = prep.quote_terms(rest[ok])
        freq: Counter[str] = Counter()
        for ws in tokens:
            freq.update(ws)
        scores = [sum(freq[w] for w in ws) / (len(ws) + 3) for ws in tokens]
        pool = pool.assign(_moderate=standalone * 2 + moderate.to_numpy(),
                           _score=scores).sort_values(["_moderate", "_score", "response_id"],
                                                      ascending=[False, False, True])
        picked: list[int] = []
        seen_text: set[str] = set()
        by_group = {g: list(idx) for g, idx in pool.groupby("group_id", sort=False).groups.items()}
        group_order = sorted(by_group, key=lambda g: (-pool.loc[by_group[g][0], "_moderate"],
                                                      -pool.loc[by_group[g][0], "_score"], g))
        while len(picked) < need and any(by_group.values()):
            for g in group_order:
                while by_group[g]:
                    i = by_group[g].pop(0)
                    key = pool.loc[i, "text"].strip().lower()
                    if key not in seen_text:
                        seen_text.add(key)
                        picked.append(i)
                        break
                if len(picked) >= need:
                    break
        chosen.append(pool.loc[picked].drop(columns=["_score", "_moderate"]).assign(pinned=False))
    out = pd.concat(chosen, ignore_index=True) if any(len(c) for c in chosen) else pd.DataFrame(columns=cols)
    out["group"] = out["group_id"].map(lambda g: prep.groups.get(g, g))
    translated = {}
    if len(prep.pins) and "translation" in prep.pins:  # pins loaded before 0026 (or built by hand) carry none
        mine = prep.pins[prep.pins["code_id"] == code_id]
        translated = {r: t for r, t in zip(mine["response_id"], mine["translation"], strict=True)
                      if isinstance(t, str) and t.strip()}
    out["translation"] = [translated.get(r, "") if p else ""
                          for r, p in zip(out["response_id"], out["pinned"], strict=True)]
    return out[cols].reset_index(drop=True)


def coded_answers(sel: Selection, code_id: int, limit: int | None = None) -> pd.DataFrame:
    """Every selected answer raising a code that may be quoted (for choosing pins; withheld answers are left out):
    response_id, text, group, pinned. With `limit`, every pinned one and the first `limit` that are not."""
    prep = sel.prep
    rix = sel.code_rix(code_id)
    rix = rix[~prep.withheld[rix]]
    pinned_ids = set(prep.pins.loc[prep.pins["code_id"] == code_id, "response_id"]) if len(prep.pins) else set()
    ids = prep.answers["response_id"].take(rix)
    pinned = ids.isin(pinned_ids).to_numpy(dtype=bool) if pinned_ids else np.zeros(rix.size, dtype=bool)
    if limit is not None:  # only the rows asked for become a frame (a theme's answers can be most of them)
        keep = pinned | (np.cumsum(~pinned) <= limit)
        rix, pinned = rix[keep], pinned[keep]
    out = prep.answers.iloc[rix][["response_id", "text", "question_id", "group_id"]].copy()
    out["pinned"] = pinned
    out["group"] = out["group_id"].map(prep.groups).fillna(out["group_id"])
    return out.reset_index(drop=True)


# --- progress ---------------------------------------------------------------------------------------------------

def progress(sel: Selection) -> pd.DataFrame:
    """Answers collected per event and day, coded and uncoded. Columns: event_name, event_date, day, answers,
    respondents, coded, uncoded, coded_share."""
    cols = ["event_name", "event_date", "day", "answers", "respondents", "coded", "uncoded", "coded_share"]
    ix = sel.prep.index
    rows = ix.progress_keys
    in_row = sel.mask & (ix.a_pix >= 0)
    answers = np.bincount(ix.a_pix[in_row], minlength=len(rows))
    present = np.flatnonzero(answers > 0)
    if present.size == 0:
        return pd.DataFrame(columns=cols)
    kept = ix.pr.any(sel.mask)
    respondents = np.bincount(ix.pr.keys // max(ix.n_rsp, 1), weights=kept, minlength=len(rows))
    coded = np.bincount(ix.a_pix[in_row & sel.prep.coded], minlength=len(rows))
    out = rows.iloc[present].reset_index(drop=True)
    out["answers"] = answers[present].astype("int64")
    out["respondents"] = respondents[present].astype("int64")
    out["coded"] = coded[present].astype("int64")
    out["uncoded"] = out["answers"] - out["coded"]
    out["coded_share"] = out["coded"] / out["answers"]
    return out.sort_values(["event_date", "event_name", "day"])[cols].reset_index(drop=True)


def default_level(prep: Prepared) -> str:
    """The level whose figures mean something: "code" (sub-codes) when the themes are named after the questions
    (each theme's share for its own question is then near 100 %, telling a board nothing), else "theme"."""
    from data.codebook import looks_question_named

    labels = list(prep.questions.values())
    themes = prep.codes[prep.codes["parent_id"].isna()]
    if "archived" in themes:
        themes = themes[themes["archived"] == 0]
    parents = set(prep.codes["parent_id"].dropna().astype(int))
    named = [looks_question_named(str(r.name), str(r.label), labels) for r in themes.itertuples()
             if int(r.code_id) in parents]
    if not named:
        return "theme"
    return "code" if sum(named) * 2 >= len(named) else "theme"


def headline(sel: Selection) -> dict[str, int]:
    """The numbers behind every figure: answers, respondents, coded answers, events, in the selection.

    "respondents" counts people: a transcribed flipchart post-it (answers column `flipchart`) is an anonymous
    answer, counted in "postits", its answers in "flipchart_answers" (they are part of "answers")."""
    ix = sel.prep.index
    mask = sel.mask

    def distinct(values: np.ndarray, among: np.ndarray, size: int) -> int:
        return int(np.count_nonzero(np.bincount(values[among], minlength=size)))

    coded = mask & sel.prep.coded
    return {
        "answers": int(mask.sum()),
        "respondents": distinct(ix.a_rsp, mask & ~ix.flip, ix.n_rsp),
        "postits": distinct(ix.a_rsp, mask & ix.flip, ix.n_rsp),
        "flipchart_answers": int((mask & ix.flip).sum()),
        "coded_answers": int(coded.sum()),
        "coded_respondents": distinct(ix.a_rsp, coded, ix.n_rsp),
        "events": distinct(ix.a_e, mask, len(ix.e_values) + 1),
    }


def respondents_by_group(sel: Selection, threshold: int | None = None) -> pd.DataFrame:
    """Respondents per group in the selection, with the publishable count. Columns: group_id, group,
    respondents, answers, shown."""
    ix = sel.prep.index
    present = np.bincount(ix.a_rsp[sel.mask], minlength=ix.n_rsp) > 0
    respondents = np.bincount(ix.rsp_g[:ix.n_rsp][present], minlength=ix.n_g)
    answers = np.bincount(ix.a_g[sel.mask], minlength=ix.n_g)
    gix = np.flatnonzero(answers[:-1] > 0)
    out = pd.DataFrame({"group_id": sel.prep.g_values[gix], "respondents": respondents[gix].astype("int64"),
                        "answers": answers[gix].astype("int64")})
    out = out.sort_values("group_id", ignore_index=True)  # as a groupby on the id would give them
    out["group"] = out["group_id"].map(lambda g: sel.prep.groups.get(g, g))
    out["shown"] = [suppress_count(n, threshold=threshold) for n in out["respondents"]]
    return out.sort_values("respondents", ascending=False)[["group_id", "group", "respondents", "answers", "shown"]]


# --- coder agreement (for the method section) -------------------------------------------------------------------

def agreement_overview(codings: pd.DataFrame, codes: pd.DataFrame) -> dict[str, Any] | None:
    """Agreement between the two coders who double-coded the most answers (analysis.agreement's kappa/alpha),
    or None when no answer was coded by two people. Keys: coder_a, coder_b, n, mean_kappa, mean_alpha,
    codes_with_values. Counted over the frame by analysis.agreement.overview (same figures, no per-coder
    dictionaries: ~1.5 s of the report at 100,000 answers)."""
    from analysis import agreement

    return agreement.overview(codings, codes)


# --- engagement rounds compared ---------------------------------------------------------------------------------

def compare_rounds(sel_a: Selection, sel_b: Selection, level: str = "theme",
                   threshold: int | None = None) -> pd.DataFrame:
    """Theme shares of two rounds side by side (round A, e.g. this refresh, against round B, the last one), per
    question and code, with the change A - B and its 95 % interval (Newcombe's hybrid score interval from each
    share's Wilson interval, newcombe_interval above: the rounds' respondents are different people).

    `status`: "both" (raised in both rounds), "appeared" (raised in A; nobody in B, where the question had coded
    answers), "vanished" (raised in B; nobody in A), "not comparable" (the question has no coded answers in one of
    the rounds). `suppressed` is true when either count (or base) is under the small-number threshold: the shares
    and the change are then not to be shown (they would give the count away). `clear` is true when the interval
    leaves out 0: a change that is unlikely to be chance alone. Sorted by question, then the largest change.

    Counted as theme_shares counts: "respondents_*" and "base_*" are people *and* transcribed flipchart post-its,
    each post-it one anonymous voice; "postits_*" (post-its raising the code) and "postit_base_*" (post-its with a
    coded answer to the question) say how many of those are post-its, so a page can name them apart.
    """
    threshold = config.SMALL_CELL_THRESHOLD if threshold is None else threshold
    cols = ["question_id", "question", "code_id", "code", "label", "respondents_a", "base_a", "share_a", "shown_a",
            "ci_a_low", "ci_a_high", "respondents_b", "base_b", "share_b", "shown_b", "ci_b_low", "ci_b_high",
            "change", "ci_low", "ci_high", "status", "suppressed", "clear", "postits_a", "postit_base_a",
            "postits_b", "postit_base_b"]

    def postit_counts(sel: Selection, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per row of `frame` (question_id, code_id): the selection's post-its raising the code for the question,
        and its post-its with a coded answer to the question."""
        ix = sel.prep.index
        r = max(ix.n_rsp, 1)
        is_postit = np.zeros(r, dtype=bool)
        is_postit[ix.a_rsp[ix.flip]] = True
        raised = np.bincount(ix.qcr_qc[sel.kept_qcr & is_postit[ix.qcr.keys % r]], minlength=ix.n_q * ix.n_c)
        base = np.bincount(ix.qr_q[sel.kept_qr & is_postit[ix.qr.keys % r]], minlength=ix.n_q)
        qix = pd.Index(sel.prep.q_values).get_indexer(frame["question_id"])
        cix = np.searchsorted(ix.code_values, frame["code_id"].to_numpy(dtype=np.int64))
        known = (qix >= 0) & (cix < ix.n_c)
        known[known] &= ix.code_values[cix[known]] == frame["code_id"].to_numpy(dtype=np.int64)[known]
        qc = np.where(known, qix * ix.n_c + np.minimum(cix, ix.n_c - 1), 0)
        return (np.where(known, raised[qc], 0).astype(np.int64),
                np.where(qix >= 0, base[np.maximum(qix, 0)], 0).astype(np.int64))
    a = theme_shares(sel_a, level, threshold)
    b = theme_shares(sel_b, level, threshold)
    if a.empty and b.empty:
        return pd.DataFrame(columns=cols)
    key = ["question_id", "code_id"]
    base_a = a.groupby("question_id")["base_respondents"].first().to_dict()
    base_b = b.groupby("question_id")["base_respondents"].first().to_dict()
    a, b = (frame.drop(columns=["answers", "suppressed", "shown"]) for frame in (a, b))
    out = a.merge(b, on=key, how="outer", suffixes=("_a", "_b"))
    for col in ("question", "code", "label"):
        out[col] = out[f"{col}_a"].combine_first(out[f"{col}_b"])
    out["base_a"] = out["question_id"].map(base_a).fillna(0).astype("int64")
    out["base_b"] = out["question_id"].map(base_b).fillna(0).astype("int64")
    out["respondents_a"] = out["respondents_a"].fillna(0).astype("int64")
    out["respondents_b"] = out["respondents_b"].fillna(0).astype("int64")
    ka, na = out["respondents_a"].to_numpy(float), out["base_a"].to_numpy(float)
    kb, nb = out["respondents_b"].to_numpy(float), out["base_b"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_a"], out["share_b"] = np.where(na > 0, ka / na, np.nan), np.where(nb > 0, kb / nb, np.nan)
    out["ci_a_low"], out["ci_a_high"] = wilson_interval(ka, na)
    out["ci_b_low"], out["ci_b_high"] = wilson_interval(kb, nb)
    out["change"] = out["share_a"] - out["share_b"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["ci_low"], out["ci_high"] = newcombe_interval(ka, na, kb, nb)  # NaN where either base is 0

    def small(k: pd.Series, n: pd.Series) -> pd.Series:
        return ((k > 0) & (k < threshold)) | ((n > 0) & (n < threshold))

    small_a, small_b = small(out["respondents_a"], out["base_a"]), small(out["respondents_b"], out["base_b"])
    out["shown_a"] = [f"<{threshold}" if s else ("" if n == 0 else int(k))
                      for k, n, s in zip(out["respondents_a"], out["base_a"], small_a, strict=True)]
    out["shown_b"] = [f"<{threshold}" if s else ("" if n == 0 else int(k))
                      for k, n, s in zip(out["respondents_b"], out["base_b"], small_b, strict=True)]
    out["suppressed"] = small_a | small_b
    comparable = (out["base_a"] > 0) & (out["base_b"] > 0)
    out["status"] = np.select(
        [~comparable, (out["respondents_a"] > 0) & (out["respondents_b"] > 0), out["respondents_a"] > 0],
        ["not comparable", "both", "appeared"], "vanished")
    out["clear"] = comparable & ((out["ci_low"] > 0) | (out["ci_high"] < 0))
    out["postits_a"], out["postit_base_a"] = postit_counts(sel_a, out)
    out["postits_b"], out["postit_base_b"] = postit_counts(sel_b, out)
    from data.findings import ordered_questions

    order = {q: i for i, q in enumerate(ordered_questions(out["question_id"]))}
    out["_q"] = out["question_id"].map(order)
    out["_abs"] = out["change"].abs()
    out = out.sort_values(["_q", "_abs", "label"], ascending=[True, False, True], na_position="last")
    return out[cols].reset_index(drop=True)
