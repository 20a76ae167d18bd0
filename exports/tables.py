"""The tables every export shares: responses with their codes, codings, codebook, summary, by group, quotes.

Plain data in (data.findings.Frames + an analysis.findings.Filter), rows of Python values out (dates as dates).
An answer withheld for safeguarding arrives with its text already replaced by data.flags.WITHHELD_TEXT (so every
writer carries the marker) and counts in every figure; analysis.findings.quotes never picks it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import config
from analysis import findings as af
from data.flags import WITHHELD_TEXT

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:  # noqa: ARG001 - the default reporter says nothing
    return None


@dataclass
class Table:
    """A sheet's worth of rows: column headers, suggested widths (characters), and the rows themselves."""

    name: str
    description: str
    headers: list[str]
    widths: list[int]
    rows: Callable[[], Iterator[tuple[Any, ...]]]
    count: int = 0
    formats: dict[int, str] = field(default_factory=dict)  # column index -> number format (small sheets only)


@dataclass
class ExportSet:
    """Everything an export writes, computed once from the frames and a filter."""

    prep: af.Prepared
    sel: af.Selection
    flt: af.Filter
    filters: dict[str, str]
    generated_at: dt.datetime
    originals: bool
    threshold: int
    counts: dict[str, int] = field(default_factory=dict)
    codings: pd.DataFrame | None = None
    codes: pd.DataFrame | None = None
    #: each row of `codings`: the position of its answer in prep.answers (computed once in build)
    coding_rix: np.ndarray | None = None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _datetimes(values: pd.Series) -> list[dt.datetime | None]:
    """Stored UTC ISO timestamps as naive UTC datetimes to the second, vectorised (the per-row parse was slow)."""
    parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    parsed = parsed.dt.tz_convert(None).dt.floor("s")
    missing = parsed.isna().to_numpy()
    out = parsed.dt.to_pydatetime().tolist()
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out


def build(frames: Any, flt: af.Filter | None = None, *, threshold: int | None = None) -> ExportSet:
    """Prepare the export of `frames` (from data.findings.load_frames with_text=True) under a filter."""
    flt = flt or af.Filter()
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    sel = af.select(prep, flt)
    events = dict(zip(frames.events["event_id"], frames.events["name"], strict=False)) if frames.events is not None \
        else {}
    filters = flt.describe(frames.questions, frames.groups, events, prep.code_labels)
    codings = frames.codings
    rix = np.zeros(0, dtype=np.int64)
    if len(codings):
        # the kept answers' codings through the answers' index (isin over a large set of Arrow strings is slow)
        pos = prep.coding_rix  # prepare looked every coding's answer up already
        if pos is None or len(pos) != len(codings):
            pos = pd.Index(prep.answers["response_id"]).get_indexer(codings["response_id"])
        kept = (pos >= 0) & sel.mask[np.maximum(pos, 0)]
        codings, rix = codings[kept], pos[kept].astype(np.int64)
    out = ExportSet(prep, sel, flt, filters, dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
                    "original_text" in frames.answers, config.SMALL_CELL_THRESHOLD if threshold is None else threshold,
                    codings=codings, codes=frames.codes, coding_rix=rix)
    head = af.headline(sel)
    out.counts = {"answers": sel.n_answers, "respondents": head["respondents"],
                  "flipchart post-its (anonymous, not respondents)": head["postits"],
                  "answers from flipchart post-its": head["flipchart_answers"], "coded answers": sel.n_coded,
                  "codings": int(len(codings)), "codes": int(len(frames.codes)),
                  "events": int(sel.answers["event_id"].nunique()),
                  "answers withheld for safeguarding": int((sel.mask & prep.withheld).sum())}
    return out


def _objects(values: Any) -> np.ndarray:
    """A column as an object array of Python values (fast for Arrow-backed strings, unlike iterating them)."""
    return np.asarray(values.to_numpy(dtype=object) if hasattr(values, "to_numpy") else values, dtype=object)


def arrow(values: Any) -> pa.Array:
    """A text column as one pyarrow string array (zero-copy for pandas' Arrow-backed strings); None stays null."""
    if isinstance(values, pd.Series):
        values = values.array
    try:
        out = pa.array(values)
    except (TypeError, pa.ArrowInvalid):
        out = pa.array(np.asarray(values, dtype=object), from_pandas=True)
    if isinstance(out, pa.ChunkedArray):
        out = out.combine_chunks()
    if not (pa.types.is_string(out.type) or pa.types.is_large_string(out.type)):
        out = pa.array([None if v is None else str(v) for v in out.to_pylist()], type=pa.large_string())
    return out


def codes_column(ex: ExportSet) -> pa.Array:
    """Per row of prep.answers, its code names (all coders pooled, each once), sorted and joined with "; " ("" for
    none). Vectorised: (answer, name rank) pairs made unique with numpy, then one list<string> join in pyarrow."""
    n = len(ex.prep.answers)
    codings = ex.codings
    if codings is None or not len(codings):
        return pa.array([""] * n, type=pa.large_string())
    rix = ex.coding_rix
    if rix is None or len(rix) != len(codings):  # an ExportSet not made by build()
        rix = pd.Index(ex.prep.answers["response_id"]).get_indexer(codings["response_id"]).astype(np.int64)
    known = dict(zip(ex.prep.codes["code_id"].astype("int64").tolist(), ex.prep.codes["name"].tolist(), strict=False))
    code_ids = codings["code_id"].to_numpy(dtype=np.int64)
    # a code id missing from the codebook showed as "nan" (str of a missing name): kept so
    labels = {int(c): "nan" if (v := known.get(int(c))) is None or v != v else str(v) for c in np.unique(code_ids)}
    names = sorted(set(labels.values()))
    rank_of = {name: i for i, name in enumerate(names)}
    codes = np.fromiter(labels, dtype=np.int64, count=len(labels))
    ranks = np.fromiter((rank_of[labels[int(c)]] for c in codes), dtype=np.int64, count=len(codes))
    rank = ranks[np.searchsorted(codes, code_ids)]
    ok = rix >= 0
    keys = np.unique(rix[ok] * len(names) + rank[ok])  # sorted by answer, then name; each pair once
    offsets = np.searchsorted(keys // len(names), np.arange(n + 1, dtype=np.int64)).astype(np.int64)
    values = pa.array(names, type=pa.large_string()).take(pa.array(keys % len(names)))
    return pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets), values), pa.scalar("; ", pa.large_string()))


#: Rows per chunk when the Responses table is built column-wise (bounds the Python objects alive at once).
CHUNK_ROWS = 50_000


def response_chunks(ex: ExportSet, size: int = CHUNK_ROWS) -> Iterator[list[list[Any]]]:
    """The Responses table's columns (in `responses(ex).headers` order) as Python lists, `size` rows at a time."""
    a, mask = ex.prep.answers, ex.sel.mask  # the kept rows taken chunk by chunk: never a copy of the whole frame
    codes = codes_column(ex)
    qlabels, glabels = ex.prep.questions, ex.prep.groups
    date_cache: dict[Any, Any] = {}
    for start in range(0, len(a), size):
        kept = mask[start:start + size]
        part = a.iloc[start:start + size][kept]
        if not len(part):
            continue
        rid = _objects(part["response_id"]).tolist()
        edates = []
        for value in _objects(part["event_date"]).tolist():
            if value not in date_cache:
                date_cache[value] = _date(value)
            edates.append(date_cache[value])
        qids = _objects(part["question_id"]).tolist()
        cols = [rid, _objects(part["respondent_id"]).tolist(), _objects(part["event_name"]).tolist(), edates, qids,
                [qlabels.get(q, q) for q in qids],
                [glabels.get(g, g) for g in _objects(part["group_id"]).tolist()], _objects(part["text"]).tolist()]
        if ex.originals:
            cols.append(_objects(part["original_text"]).tolist())
        cols.append(codes.slice(start, len(kept)).filter(pa.array(kept)).to_pylist())
        cols.append(_datetimes(part["created_at"]))
        yield cols


def responses(ex: ExportSet) -> Table:
    """One row per answer: ids, event, date, question, group, text, its codes (all coders pooled)."""
    headers = ["response_id", "respondent_id", "event", "event_date", "question_id", "question", "group",
               "answer_redacted"] + (["answer_original"] if ex.originals else []) + ["codes", "recorded_at_utc"]
    widths = [38, 38, 28, 12, 14, 40, 22, 60] + ([60] if ex.originals else []) + [40, 20]

    def rows() -> Iterator[tuple[Any, ...]]:
        for cols in response_chunks(ex):
            yield from zip(*cols, strict=True)

    return Table("Responses", "One row per answer: ids, event and its date, question, respondent group, the answer "
                 "(personal details redacted" + ("; the original as entered beside it" if ex.originals else "")
                 + f"; {WITHHELD_TEXT} where a safeguarding flag withholds it), and its codes from all coders.", headers, widths, rows,
                 ex.sel.n_answers)


def codings_table(ex: ExportSet) -> Table:
    """One row per coding: which answer, which code (and its theme), who coded it, how and when."""
    codings = ex.codings if ex.codings is not None else pd.DataFrame()
    info = ex.prep.codes.set_index("code_id")
    theme_of = ex.prep.theme_of
    headers = ["coding_id", "response_id", "code", "label", "theme", "coder", "source", "coded_at_utc"]

    def rows() -> Iterator[tuple[Any, ...]]:
        name, label = info["name"].to_dict(), info["label"].to_dict()
        for start in range(0, len(codings), CHUNK_ROWS):
            part = codings.iloc[start:start + CHUNK_ROWS]
            for cid, rid, code, coder, source, created in zip(
                    part["coding_id"].tolist(), _objects(part["response_id"]).tolist(), part["code_id"].tolist(),
                    _objects(part["coder"]).tolist(), _objects(part["source"]).tolist(),
                    _datetimes(part["created_at"]), strict=False):
                yield (cid, rid, name.get(code, ""), label.get(code, ""), name.get(theme_of.get(code, code), ""),
                       coder, source, created)

    return Table("Codings", "One row per coding: the answer, the code, its theme, the coder, how it was applied "
                 "(human, accepted suggestion, bulk...) and when.", headers, [10, 38, 24, 32, 20, 18, 12, 20], rows,
                 len(codings))


def codebook(ex: ExportSet) -> Table:
    codes = ex.prep.codes
    used = ex.sel.pairs.groupby("code_id")["rix"].nunique().to_dict() if len(ex.sel.pairs) else {}
    name = dict(zip(codes["code_id"], codes["name"], strict=False))
    headers = ["code", "label", "parent", "definition", "keywords", "colour", "archived", "answers_in_export"]

    def rows() -> Iterator[tuple[Any, ...]]:
        import json

        for r in codes.itertuples():
            try:
                keywords = "; ".join(json.loads(r.keywords or "[]"))
            except (TypeError, ValueError):
                keywords = str(r.keywords or "")
            parent = "" if pd.isna(r.parent_id) else name.get(int(r.parent_id), "")
            yield (r.name, r.label, parent, r.definition, keywords, r.colour, bool(r.archived),
                   int(used.get(r.code_id, 0)))

    return Table("Codebook", "The codes: short name, label, parent theme, definition, keywords, colour, whether "
                 "archived, and how many exported answers raise each (sub-codes count toward their theme).",
                 headers, [24, 34, 18, 70, 40, 10, 10, 18], rows, len(codes))


def _shown(n: int, threshold: int) -> int | str:
    return f"<{threshold}" if 0 < n < threshold else int(n)


def summary(ex: ExportSet) -> Table:
    """Question x code: answers, respondents, base and share (small counts shown as "<5")."""
    table = af.theme_shares(ex.sel, level="code")
    theme_ids = set(ex.prep.themes)
    t = ex.threshold
    headers = ["question_id", "question", "code", "label", "level", "answers", "respondents", "base_respondents",
               "share"]

    def rows() -> Iterator[tuple[Any, ...]]:
        for r in table.itertuples():
            small = 0 < r.respondents < t or r.base_respondents < t
            yield (r.question_id, r.question, r.code, r.label, "theme" if r.code_id in theme_ids else "sub-code",
                   _shown(r.answers, t) if small else int(r.answers), f"<{t}" if small else int(r.respondents),
                   int(r.base_respondents) if r.base_respondents >= t else f"<{t}",
                   None if small else float(r.share))

    return Table("Summary", f"Per question and code: answers and respondents raising it, the base (respondents with "
                 f"a coded answer to that question) and the share of that base. Counts under {t} are shown as "
                 f"\"<{t}\" and their share left blank.", headers, [14, 40, 24, 34, 10, 10, 12, 16, 8], rows,
                 len(table), {8: "0.0%"})


def by_group_table(ex: ExportSet) -> Table:
    table = af.by_group(ex.sel, level="code", threshold=ex.threshold)
    t = ex.threshold
    headers = ["code", "label", "group_id", "group", "respondents", "base_respondents", "share"]

    def rows() -> Iterator[tuple[Any, ...]]:
        for r in table.itertuples():
            base = int(r.base_respondents) if r.base_respondents >= t else f"<{t}"
            yield (r.code, r.label, r.group_id, r.group, r.shown, base,
                   None if r.suppressed else float(r.share))

    return Table("By group", f"Per code and respondent group: respondents raising it, the group's base (respondents "
                 f"with a coded answer) and the share. Cells under {t} respondents, and every cell of a group with "
                 f"fewer than {t}, are shown as \"<{t}\" (statistical disclosure control).", headers,
                 [24, 34, 20, 24, 12, 16, 8], rows, len(table), {6: "0.0%"})


def quotes_table(ex: ExportSet, per_code: int = 3) -> Table:
    headers = ["theme", "code", "label", "question", "group", "event", "quote_redacted", "pinned", "translation"]
    codes = ex.prep.codes
    theme_of = ex.prep.theme_of
    name = dict(zip(codes["code_id"], codes["name"], strict=False))
    frames = []
    for r in codes.itertuples():
        if r.archived:
            continue
        q = af.quotes(ex.sel, int(r.code_id), per_code)
        if len(q):
            frames.append(q.assign(code_id=int(r.code_id), label=r.label))
    quotes = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def rows() -> Iterator[tuple[Any, ...]]:
        for r in quotes.itertuples():
            yield (name.get(theme_of.get(r.code_id, r.code_id), ""), name.get(r.code_id, ""), r.label,
                   ex.prep.questions.get(r.question_id, r.question_id), r.group, r.event_name, r.text, bool(r.pinned),
                   r.translation)

    return Table("Quotes", f"Up to {per_code} representative answers per code (redacted): those pinned by an "
                 "engagement officer first, then a default choice across respondent groups; a pinned quote's translation "
                 "where the engagement team gave one. Answers withheld for safeguarding are never quoted.", headers,
                 [18, 24, 32, 40, 22, 26, 80, 8, 80], rows, len(quotes))


def all_tables(ex: ExportSet) -> list[Table]:
    return [responses(ex), codings_table(ex), codebook(ex), summary(ex), by_group_table(ex), quotes_table(ex)]


#: A stored UTC timestamp as the app writes it (seconds, optional fraction, optional +00:00 or Z).
UTC_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(\+00:00|Z)?$"


def utc_stamps(values: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """(values as large strings, each one's first 19 characters "YYYY-MM-DDTHH:MM:SS", the positions of the values
    that are NOT such a stored UTC stamp): the writers format the common form by slicing and send only the rest
    through their per-value path. A stamp counts only if pyarrow's parser prints it back as itself (pyarrow rolls
    2026-02-30 over into March)."""
    values = pc.cast(values, pa.large_string())
    plain = pc.fill_null(pc.match_substring_regex(values, UTC_ISO), False)
    stamp = pc.utf8_slice_codeunits(values, 0, 19)
    parsed = pc.strptime(pc.if_else(plain, stamp, pa.scalar(None, pa.large_string())), format="%Y-%m-%dT%H:%M:%S",
                         unit="s", error_is_null=True)
    fast = pc.fill_null(pc.equal(pc.strftime(parsed, format="%Y-%m-%dT%H:%M:%S"), stamp), False)
    return values, stamp, np.flatnonzero(~fast.to_numpy(zero_copy_only=False))
