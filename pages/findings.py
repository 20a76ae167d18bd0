"""Findings for strategy leads: themes per question and group, co-occurrence, words, quotes, progress, exports.

Session keys (all prefixed "findings_"): the filter widgets, the chart options, and `findings_export` (the last
prepared export: kind, file name, bytes). Heavy work lives in analysis/findings.py and exports/.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import pandas as pd
import streamlit as st

import config
from analysis import findings as af
from data import findings as df
from data import rounds as rounds_db
from data.paths import safe_filename
from data.review import REVIEW_FILTER
from data.users import User
from exports import charts
from ui import session

user = session.guard("findings")
db = session.db()
DB_PATH = str(config.db_path())
APPROVED_ONLY = bool(st.session_state.setdefault("findings_approved_only", False))  # the review toggle
# the data version, then the review toggle: every cached table below is keyed on both
VERSION = (*df.data_version(db), APPROVED_ONLY)

st.session_state.setdefault("findings_export", None)


@st.cache_resource(max_entries=2, show_spinner="Loading answers and codings…")
def prepared(path: str, version: tuple, _user: User) -> af.Prepared:
    """The indexed frames for one data version. A resource, not cache_data: it is read-only, large, and copying
    it on every rerun would cost more than the filter change itself. `version` changes with any edit; its last
    item is the "approved answers only" toggle."""
    # a change of codings reloads only the codings: the answers and their word indexes are kept (data/findings.py)
    return df.load_prepared(db, _user, approved_only=bool(version[-1]))


@st.cache_data(max_entries=64, show_spinner=False)
def tables(path: str, version: tuple, flt: af.Filter, level: str, _user: User) -> dict[str, pd.DataFrame]:
    """Every findings table for one filter (cached on data version + filter, so going back is instant)."""
    sel = af.select(prepared(path, version, _user), flt)
    return {
        "shares": af.theme_shares(sel, level),
        "by_group": af.by_group(sel, level),
        "progress": af.progress(sel),
        "groups": af.respondents_by_group(sel),
        "headline": pd.DataFrame([af.headline(sel)]),
    }


@st.cache_data(max_entries=64, show_spinner=False)
def cooccurrence(path: str, version: tuple, flt: af.Filter, level: str, unit: str, _user: User) -> pd.DataFrame:
    return af.cooccurrence(af.select(prepared(path, version, _user), flt), level, unit)


@st.cache_data(max_entries=64, show_spinner=False)
def words(path: str, version: tuple, flt: af.Filter, question: str, _user: User) -> tuple[pd.DataFrame, pd.DataFrame]:
    return af.words_and_phrases(af.select(prepared(path, version, _user), flt), question)


@st.cache_data(max_entries=64, show_spinner=False)
def quotes_for(path: str, version: tuple, flt: af.Filter, code_id: int, _user: User) -> pd.DataFrame:
    return af.quotes(af.select(prepared(path, version, _user), flt), code_id, 5)


def slug(text: str) -> str:
    """A safe file name part: letters, digits and hyphens only."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "chart"


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """A table for display: suppressed counts ("<5" beside numbers) as text, ids dropped."""
    out = table.drop(columns=[c for c in ("rix", "rsp", "qix", "gix") if c in table])
    for col in ("shown", "shown_a", "shown_b"):
        if col in out:
            out[col] = out[col].astype(str)
    t = config.SMALL_CELL_THRESHOLD
    if "suppressed" in out and "share" in out:  # no share (and so no count) can be worked back for a small cell
        out["share"] = out["share"].where(~out["suppressed"].astype(bool))
        if "respondents" in out and "shown" in out:
            out = out.drop(columns=["respondents"] + (["answers"] if "answers" in out else []))
    if "respondents" in out:  # any other count of people obeys the same small-number rule
        out["respondents"] = [str(af.suppress_count(n, threshold=t)) for n in out["respondents"]]
    if "base_respondents" in out:
        out["base_respondents"] = [f"<{t}" if 0 < int(b) < t else str(int(b)) for b in out["base_respondents"]]
    if "both" in out:  # co-occurrence counts: the same small-number rule
        small = (out["both"] > 0) & (out["both"] < t)
        out["share"] = out["share"].where(~small)
        out["both"] = [f"<{t}" if s else str(int(n)) for n, s in zip(out["both"], small, strict=False)]
    return out


def chart_context(question: str = "", n: int | None = None) -> list[str]:
    """Question, filters, n and date under every chart's title (drawn into the PNG/SVG downloads too)."""
    chosen = {k: v for k, v in flt.describe(prep.questions, prep.groups, event_names, code_labels).items()
              if v != "all"}
    if APPROVED_ONLY:
        chosen["Review"] = "approved answers only"
    n = int(head["coded_respondents"]) if n is None else n
    return charts.context_lines(question, "; ".join(f"{k}: {v}" for k, v in chosen.items()), n,
                                f"{VOICES} with a coded answer", f"{dt.date.today():%d %B %Y}")


@st.cache_data(max_entries=256, show_spinner=False)
def chart_spec(kind: str, data: pd.DataFrame, args: tuple, title: str, context: tuple[str, ...]) -> dict:
    """The titled chart's Vega-Lite spec (exports.charts `kind` over `data`), built and validated by Altair once
    per chart data and title: a rerun that shows the same chart reads the spec, not Altair again (building and
    validating the page's charts cost about half a second of CPU on every rerun)."""
    # validated by tests/test_charts.py and the PNG/SVG tests; at run time Altair's JSON-schema check would cost
    # as much again as building the spec
    return charts.titled(getattr(charts, kind)(data, *args), title, list(context)).to_dict(validate=False)


def _rendered(spec: dict, fmt: str) -> bytes | str:
    """A chart's PNG or SVG from its spec (vl-convert, offline, as exports.charts.to_png/to_svg), when asked."""
    import json

    import vl_convert

    text = json.dumps(spec)
    return vl_convert.vegalite_to_png(text, scale=2.0) if fmt == "png" else vl_convert.vegalite_to_svg(text)


def chart_block(chart: tuple | None, table: pd.DataFrame, name: str, key: str, caption: str = "", title: str = "",
                context: list[str] | None = None) -> None:
    """A chart, its table one click away, and PNG/SVG downloads made only when asked for (table only if no chart).
    `chart` is (exports.charts function name, its data, its other arguments). The chart carries its title,
    question, filters, n and date, on screen and in every download."""
    if chart is None:
        st.dataframe(readable(table), hide_index=True, width="stretch")
        return
    kind, data, args = chart
    spec = chart_spec(kind, data, tuple(args), title or name.replace("-", " ").capitalize(),
                      tuple(context if context is not None else chart_context()))
    # on screen the chart takes the column's width (a fixed width would be scaled down, shrinking the text too)
    # fit-x: the spec's height is the plot's own; Streamlit's default ("fit") squeezed the title, its context lines
    # and the axis into it, leaving a few pixels for the bars at 820 px
    st.vega_lite_chart(spec={**spec, "width": "container", "autosize": {"type": "fit-x", "contains": "padding"}},
                       width="stretch",
                       alt=(caption or name.replace("-", " ")) + " The table behind this chart holds the same figures.")
    if caption:
        st.caption(caption)
    with st.expander("Table behind this chart"):
        st.dataframe(readable(table), hide_index=True, width="stretch")
    left, right = st.columns(2)
    left.download_button("PNG", data=functools.partial(_rendered, spec, "png"),
                         file_name=safe_filename(f"{slug(name)}.png"),
                         mime="image/png", key=f"findings_png_{key}", on_click="ignore", icon=":material/image:")
    right.download_button("SVG", data=functools.partial(_rendered, spec, "svg"),
                          file_name=safe_filename(f"{slug(name)}.svg"),
                          mime="image/svg+xml", key=f"findings_svg_{key}", on_click="ignore",
                          icon=":material/draw:")


prep = prepared(DB_PATH, VERSION, user)
# the level with real content: sub-codes when the themes are the questions themselves, else themes
st.session_state.setdefault("findings_level", "Sub-codes" if af.default_level(prep) == "code" else "Themes")
st.title("Findings")
st.toggle("Approved answers only", key="findings_approved_only",
          help="Count and quote only answers approved in review (the answer or its respondent approved, and "
               "neither marked “has issues”). Exports follow this too.")
if prep.answers.empty:
    st.info("No approved answers yet. An engagement officer approves answers on the Code page or a whole event on "
            "the Events page." if APPROVED_ONLY else
            "No answers yet. Answers appear here once they are collected or imported.")
    st.stop()

# --- filters ----------------------------------------------------------------------------------------------------
events = prep.events
event_names = dict(zip(events["event_id"], events["name"] + " (" + events["date"] + ")", strict=False))
code_labels = {int(r.code_id): (r.label if pd.isna(r.parent_id) else f"— {r.label}")
               for r in prep.codes.itertuples()}
choices = prep.choices  # worked out once per data version, not on every rerun
question_ids = list(choices["questions"])
group_ids = list(choices["groups"])
first_day = choices["first_day"] or dt.date.today()
last_day = choices["last_day"] or dt.date.today()

with st.expander("Filters", expanded=False, icon=":material/filter_list:"):
    c1, c2 = st.columns(2)
    questions = c1.multiselect("Question", question_ids, key="findings_questions",
                               format_func=lambda q: prep.questions.get(q, q), placeholder="All questions")
    groups = c2.multiselect("Respondent group", group_ids, key="findings_groups",
                            format_func=lambda g: prep.groups.get(g, g), placeholder="All groups")
    c3, c4 = st.columns(2)
    chosen_events = c3.multiselect("Event", list(event_names), key="findings_events",
                                   format_func=lambda e: event_names.get(e, e), placeholder="All events")
    codes = c4.multiselect("Answers coded with", list(code_labels), key="findings_codes",
                           format_func=lambda c: code_labels.get(c, str(c)), placeholder="Any code")
    span = st.date_input("Event dates", value=(first_day, last_day), min_value=first_day, max_value=last_day,
                         key="findings_dates", format="DD/MM/YYYY")
    all_rounds = rounds_db.list_rounds(db, user)  # engagement rounds (data/rounds.py): a round is a set of events
    round_titles = {r.id: r.title for r in all_rounds}
    chosen_round = st.selectbox("Engagement round", [None, *round_titles], key="findings_round",
                                format_func=lambda r: "All rounds" if r is None else round_titles.get(r, str(r)),
                                disabled=not round_titles) if round_titles else None
date_from, date_to = (span if isinstance(span, tuple) and len(span) == 2 else (first_day, last_day))
if chosen_round is not None:
    in_round = rounds_db.event_ids(db, chosen_round)
    chosen_events = [e for e in chosen_events if e in in_round] if chosen_events else in_round
    chosen_events = chosen_events or ["(no event)"]  # a round without events (or none of those chosen) shows nothing
flt = af.Filter(tuple(questions), tuple(groups), tuple(chosen_events),
                date_from if date_from > first_day else None, date_to if date_to < last_day else None, tuple(codes))

level_choice = st.segmented_control("Show", ["Themes", "Sub-codes"], key="findings_level",
                                    help="Themes are the codebook's top-level groups of codes; a sub-code counts "
                                         "toward its theme too. Themes and sub-codes are never mixed in one chart."
                                    ) or "Sub-codes"
level = "theme" if level_choice == "Themes" else "code"
result = tables(DB_PATH, VERSION, flt, level, user)
head = result["headline"].iloc[0]
m1, m2, m3, m4 = st.columns(4)
shown_respondents = af.suppress_count(head["respondents"])
m1.metric("Respondents", f"{shown_respondents:,}" if isinstance(shown_respondents, int) else shown_respondents,
          help=f"Respondents recorded on the tablet or imported. {head['flipchart_answers']:,} of the answers came "
               f"from {head['postits']:,} transcribed flipchart post-it(s): anonymous, not counted as people.")
m2.metric("Answers", f"{head['answers']:,}")
m3.metric("Coded", f"{head['coded_answers'] / max(head['answers'], 1):.0%}",
          help=f"{head['coded_answers']:,} of {head['answers']:,} answers have at least one code")
m4.metric("Events", f"{head['events']:,}")
threshold = config.SMALL_CELL_THRESHOLD
# who a share's base counts: each transcribed post-it once, as an anonymous voice beside the people (never a person)
VOICES = "people and post-its" if head["postits"] else "people"

# Only the tab on screen is computed: choosing a tab reruns the page, so a filter change draws one tab's charts, not
# nine (at 550,000 answers building the charts' specs was 46 % of a rerun). AppTests choose a tab through
# st.session_state["findings_tab"] (its label).
tabs = st.tabs(["Themes", "Groups", "Together", "Words", "Quotes", "Progress", "Export"]
               + (["Compare rounds"] if len(all_rounds) >= 2 else []),  # appears once two rounds exist
               key="findings_tab", on_change="rerun")

# --- themes per question ----------------------------------------------------------------------------------------
with tabs[0]:
    if tabs[0].open:  # only the tab on screen is computed
        shares = result["shares"]
        if shares.empty:
            st.info("None of the answers in this selection has been coded yet.")
        for qid in dict.fromkeys(shares["question_id"]):
            q = shares[shares["question_id"] == qid]
            label = prep.questions.get(qid, qid)
            st.subheader(session.md_escape(label))  # a question names the area an admin typed
            base = int(q["base_respondents"].iloc[0])
            # with sub-codes shown, a theme's own bar (always near 100% for its question) says nothing: table only
            plotted = q[~q["code_id"].isin(prep.themes)] if level == "code" else q
            plotted = plotted[~plotted["suppressed"]]
            if plotted.empty:
                st.info(f"Fewer than {threshold} people raised each code here: shown only as “<{threshold}” in the table.")
                plotted = None
            chart_block(("themes_bar", plotted.head(12), ("", VOICES)) if plotted is not None else None,
                        q.drop(columns=["question_id", "code_id"]), f"themes-{qid}",
                        f"themes_{qid}", f"Share of the {base:,} {VOICES} with a coded answer to this question who "
                                         f"raised each {level_choice.lower()[:-1]} (the 12 most raised; all in the "
                                         "table). The thin line on each bar is its 95% confidence interval (Wilson).",
                        title=f"{level_choice}: share of {VOICES} raising each", context=chart_context(label, base))

# --- groups -----------------------------------------------------------------------------------------------------
with tabs[1]:
    if tabs[1].open:  # only the tab on screen is computed
        table = result["by_group"]
        if table.empty:
            st.info("No coded answers in this selection.")
        else:
            rows = table[~table["code_id"].isin(prep.themes)] if level == "code" else table
            top = rows.groupby("code_id")["respondents"].sum().sort_values(ascending=False).head(15).index
            st.subheader("Who raised what")
            shown_cells, folded = charts.fold_small_groups(rows[rows["code_id"].isin(top)])
            lines = chart_context()
            if folded:
                lines.append(charts.folded_line(folded))
            chart_block(("heatmap", shown_cells, ()) if len(shown_cells) else None,
                        table.drop(columns=["code_id", "group_id"]), "themes-by-group", "heatmap",
                        f"Share of each group's respondents (with a coded answer) raising each of the 15 most common "
                        f"{level_choice.lower()}; pale grey cells: fewer than {threshold} people, not shown."
                        + (f" {charts.folded_line(folded)}." if folded else ""),
                        title=f"Who raised what: {level_choice.lower()} by respondent group", context=lines)
            st.subheader("Compare two groups")
            sizes = result["groups"]
            options = list(sizes["group_id"])
            if len(options) < 2:
                st.info("Only one respondent group in this selection.")
            else:
                g1, g2 = st.columns(2)
                a = g1.selectbox("Group", options, index=0, key="findings_group_a",
                                 format_func=lambda g: prep.groups.get(g, g))
                b = g2.selectbox("compared with", options, index=1, key="findings_group_b",
                                 format_func=lambda g: prep.groups.get(g, g))
                if a == b:
                    st.warning("Choose two different groups.")
                else:
                    cmp = af.compare_groups(rows, a, b)  # one level only: never a theme beside sub-codes
                    name_a, name_b = prep.groups.get(a, a), prep.groups.get(b, b)
                    shown = cmp.dropna(subset=["difference"])
                    if shown.empty:
                        st.info(f"Too few people in one of these groups to compare (fewer than {threshold}).")
                    else:
                        for r in shown.head(3).itertuples():
                            more = name_a if r.difference > 0 else name_b
                            gap = (f"difference {r.difference * 100:+.0f} points, 95% CI {r.diff_low * 100:+.0f} to "
                                   f"{r.diff_high * 100:+.0f}")
                            verdict = ("a difference this size could be chance" if r.chance
                                       else f"more often raised by {more}")
                            st.text(f"• {r.label}: {r.share_a:.0%} of {name_a} vs {r.share_b:.0%} of {name_b} "
                                    f"({gap}; {verdict})")
                        chart_block(("comparison", shown.head(15), (name_a, name_b, "", VOICES)), cmp, f"compare-{a}-{b}",
                                    "compare", "Largest differences first; codes with fewer than "
                                               f"{threshold} people in either group are left out.")

# --- co-occurrence ----------------------------------------------------------------------------------------------
with tabs[2]:
    if tabs[2].open:  # only the tab on screen is computed
        unit = st.segmented_control("Raised together in the same", ["answer", "respondent"], default="respondent",
                                    key="findings_unit") or "respondent"
        cooc = cooccurrence(DB_PATH, VERSION, flt, level, unit, user)
        if level == "code":  # sub-code pairs only: a theme beside another theme's sub-code mixes two levels
            cooc = cooc[~cooc["code_id_a"].isin(prep.themes) & ~cooc["code_id_b"].isin(prep.themes)]
        if cooc.empty:
            st.info("No two codes are raised together in this selection.")
        else:
            plotted = cooc[cooc["both"] >= threshold].head(15)
            chart_block(("cooccurrence_map", plotted, ("", unit)) if len(plotted) else None,
                        cooc.drop(columns=["code_id_a", "code_id_b"]),
                        f"together-by-{unit}", "cooc",
                        f"How many {unit}s raise both, the 15 most frequent pairs (all in the table; a code is never "
                        f"paired with its own theme; pairs raised by fewer than {threshold} are not charted).")

# --- words and phrases ------------------------------------------------------------------------------------------
with tabs[3]:
    if tabs[3].open:  # only the tab on screen is computed
        wq = st.selectbox("Question", question_ids, key="findings_words_question",
                          format_func=lambda q: prep.questions.get(q, q))
        word_table, phrases = words(DB_PATH, VERSION, flt, wq, user)
        st.caption("Most frequent words and two-word phrases in the (redacted) answers, before any coding: "
                   "a first look, counted once per answer.")
        w1, w2 = st.columns(2)
        with w1:
            if word_table.empty:
                st.info("No words to count.")
            else:
                chart_block(("words_bar", word_table, ("word", "Words")), word_table, f"words-{wq}", "words")
        with w2:
            if phrases.empty:
                st.info("No phrase is used twice yet.")
            else:
                chart_block(("words_bar", phrases, ("phrase", "Phrases")), phrases, f"phrases-{wq}", "phrases")

# --- quotes -----------------------------------------------------------------------------------------------------
with tabs[4]:
    if tabs[4].open:  # only the tab on screen is computed
        can_pin = user.can("code")
        qcode = st.selectbox("Theme or code", list(code_labels), key="findings_quote_code",
                             format_func=lambda c: code_labels.get(c, str(c)))
        if qcode is None:  # no code at this level yet (an empty or unused codebook)
            st.info("No codes to quote from yet: quotes appear once answers are coded.")
        else:
            quotes = quotes_for(DB_PATH, VERSION, flt, int(qcode), user)
            if quotes.empty:
                st.info("No coded answers for this code in the selection.")
            st.caption("Pinned quotes (chosen by the engagement team) come first; the rest are a default choice of typical "
                       "answers across groups. Personal details are redacted; an answer under a safeguarding flag is never "
                       "quoted or offered for pinning.")
            for i, q in enumerate(quotes.itertuples()):
                with st.container(border=True):
                    st.text(q.text)
                    st.caption(session.md_escape(f"{q.group} · {q.event_name}") + (" · pinned" if q.pinned else ""))
                    if q.translation:
                        st.text(f"Translation: \u201c{q.translation}\u201d")
                    if can_pin:
                        if q.pinned:
                            # one box per pinned quote, keyed by code and answer so another code's box never shows here
                            typed = st.text_input("Translation (shown under the quote in the report and the quotes table)",
                                                  value=q.translation, max_chars=df.MAX_TRANSLATION_CHARS,
                                                  key=f"findings_translation_{int(qcode)}_{q.response_id}",
                                                  placeholder="Type an English translation; leave empty to remove it")
                            if st.button("Save translation", key=f"findings_translation_save_{i}"):
                                try:
                                    df.set_quote_translation(db, user, int(qcode), q.response_id, typed)
                                except df.FindingsError as exc:
                                    st.error(session.md_escape(str(exc)))
                                else:
                                    st.rerun()
                            if st.button("Unpin", key=f"findings_unpin_{i}", icon=":material/keep_off:"):
                                df.unpin_quote(db, user, int(qcode), q.response_id)
                                st.rerun()
                        elif st.button("Pin", key=f"findings_pin_{i}", icon=":material/keep:"):
                            df.pin_quote(db, user, int(qcode), q.response_id)
                            st.rerun()
            if can_pin:
                candidates = af.coded_answers(af.select(prep, flt), int(qcode), limit=300)
                candidates = candidates[~candidates["pinned"]].head(300)
                if len(candidates):
                    with st.expander("Pin another answer"):
                        texts = dict(zip(candidates["response_id"], candidates["text"], strict=False))
                        choice = st.selectbox("Answer", list(texts), key="findings_pin_choice",
                                              format_func=lambda r: texts[r][:120])
                        if st.button("Pin this answer", key="findings_pin_other"):
                            try:
                                df.pin_quote(db, user, int(qcode), choice)
                            except df.FindingsError as exc:
                                st.error(session.md_escape(str(exc)))
                            else:
                                st.rerun()

# --- progress ---------------------------------------------------------------------------------------------------
with tabs[5]:
    if tabs[5].open:  # only the tab on screen is computed
        progress = result["progress"]
        if progress.empty:
            st.info("No answers in this selection.")
        else:
            chart_block(("progress_bars", progress, ()), progress, "progress", "progress",
                        "Answers collected per event and day, and how many have been coded.")

# --- exports ----------------------------------------------------------------------------------------------------
with tabs[6]:
    if tabs[6].open:  # only the tab on screen is computed
        can_export = user.can("export")
        if not can_export:
            st.info("Exports need the export permission; ask an admin.")
        else:
            st.caption("Exports use the filters above. Answer texts are redacted, and an answer under a safeguarding flag "
                       f"is shown as “{df.WITHHELD_TEXT}”; counts of fewer than "
                       f"{threshold} people are shown as “<{threshold}”.")
            originals = False
            if user.can("export_original"):
                originals = st.checkbox("Include original texts (admin only; recorded in the audit log)",
                                        key="findings_originals")
            kinds = {"xlsx": ("Excel workbook", "xlsx",
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                     "csv": ("CSV (answers with codes)", "csv", "text/csv"),
                     "report": ("Word report", "docx",
                                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                     "qdpx": ("REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, QualCoder)", "qdpx", "application/zip"),
                     "qdc": ("REFI-QDA codebook", "qdc", "application/xml")}
            kind = st.radio("Format", list(kinds), key="findings_export_kind", format_func=lambda k: kinds[k][0])
            if st.button("Prepare file", type="primary", key="findings_prepare", icon=":material/download:"):
                from exports import csv_export, refi, report, xlsx
                from exports.tables import build

                with st.status(f"Preparing the {kinds[kind][0].lower()}…", expanded=True) as status:
                    bar = st.progress(0.0, "Reading answers")

                    def report_progress(fraction: float, message: str) -> None:
                        bar.progress(min(1.0, max(0.0, fraction)), message)

                    with_originals = originals and kind in ("xlsx", "csv")
                    frames = df.load_frames(db, user, with_text=True, originals=with_originals,
                                            approved_only=APPROVED_ONLY)
                    review_filter = dict(REVIEW_FILTER) if APPROVED_ONLY else {}
                    if chosen_round is not None:
                        review_filter["Engagement round"] = round_titles[chosen_round]
                    if kind == "qdc":
                        data = refi.codebook_xml(frames.codes) if len(frames.codes) else None
                        rows = len(frames.codes)
                    else:
                        ex = build(frames, flt)
                        ex.filters.update(review_filter)
                        from data import settings as app_settings

                        report_writer = functools.partial(report.report_bytes,
                                                          title=app_settings.get(db, "report_title"),
                                                          author=app_settings.get(db, "report_author"))
                        writer = {"xlsx": xlsx.workbook_bytes, "csv": csv_export.csv_bytes, "report": report_writer,
                                  "qdpx": refi.qdpx_bytes}[kind]
                        data = writer(ex, report_progress)
                        rows = ex.counts["answers"]
                    if data is None:
                        status.update(label="The codebook is empty: nothing to export.", state="error")
                    else:
                        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
                        name = f"thrive-voices-{slug(kind if kind != 'report' else 'findings-report')}-{stamp}"
                        file_name = safe_filename(f"{name}.{kinds[kind][1]}")
                        df.record_export(db, user, kind, originals=with_originals, rows=rows, filename=file_name,
                                         filters={**flt.describe(prep.questions, prep.groups, event_names, code_labels),
                                                  **review_filter})
                        st.session_state["findings_export"] = (kind, file_name, data)
                        status.update(label="Ready to download", state="complete")
            prepared_export = st.session_state["findings_export"]
            if prepared_export and prepared_export[0] == kind:
                _, file_name, data = prepared_export
                st.download_button(f"Download {file_name}", data=data, file_name=file_name, mime=kinds[kind][2],
                                   key="findings_download", on_click="ignore", type="primary",
                                   icon=":material/download:")

# --- engagement rounds compared -----------------------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def compared(path: str, version: tuple, flt_a: af.Filter, flt_b: af.Filter, level: str,
             _user: User) -> tuple[pd.DataFrame, dict, dict]:
    """The rounds compared, and each round's headline (people, post-its, flipchart answers) for the captions."""
    prep_all = prepared(path, version, _user)
    sel_a, sel_b = af.select(prep_all, flt_a), af.select(prep_all, flt_b)
    return af.compare_rounds(sel_a, sel_b, level), af.headline(sel_a), af.headline(sel_b)


def short_name(name: str, limit: int = 24) -> str:
    """A round's name short enough for a column header at 820 px (the full title is in the header's help)."""
    return name if len(name) <= limit else name[:limit - 1].rstrip() + "…"


def who(people: int, postits: int) -> str:
    """'7 people and 12 post-its', '20 people', '12 post-its': post-its are anonymous answers, never people."""
    parts = [f"{people:,} {'person' if people == 1 else 'people'}" if people or not postits else "",
             f"{postits:,} post-it{'' if postits == 1 else 's'}" if postits else ""]
    return " and ".join(p for p in parts if p)


def round_cell(share: float, k: int, n: int) -> str:
    """One round's figure for a theme: '80% (16 of 20)'; a count or base under the threshold says so, no share."""
    if n == 0:
        return "no coded answers"
    if n < threshold:
        return f"too few (<{threshold})"
    if 0 < k < threshold:
        return f"<{threshold} of {n:,}"
    return f"{share:.0%} ({k:,} of {n:,})"


def change_words(r) -> str:
    """The change in points with its 95 % interval, and what it means, in words."""
    if r.status == "not comparable":
        return "not comparable (no coded answers in one round)"
    if r.suppressed:
        return f"not shown (a count under {threshold})"
    said = f"{r.change * 100:+.0f} points ({r.ci_low * 100:+.0f} to {r.ci_high * 100:+.0f})"
    if r.status in ("appeared", "vanished"):
        said = ("new: " if r.status == "appeared" else "gone: ") + said
    return said if r.clear else said + ", could be chance"


def base_line(name: str, n: int, postits: int) -> str:
    if n == 0:
        return f"{name}: no coded answers"
    if n < threshold:
        return f"{name}: fewer than {threshold} with a coded answer"
    return f"{name}: {who(n - postits, postits)} with a coded answer"


if len(tabs) > 7:
    with tabs[7]:
        if tabs[7].open:  # only the tab on screen is computed
            import dataclasses

            import altair as alt

            ids = [r.id for r in all_rounds]  # earliest first
            round_names = {r.id: r.name for r in all_rounds}
            r1, r2 = st.columns(2)
            round_a = r1.selectbox("Round", ids, index=len(ids) - 1, key="findings_compare_a",
                                   format_func=lambda r: round_titles[r])
            round_b = r2.selectbox("compared with", ids, index=len(ids) - 2, key="findings_compare_b",
                                   format_func=lambda r: round_titles[r])
            if round_a == round_b:
                st.warning("Choose two different rounds.")
            else:
                def round_filter(round_id: int) -> af.Filter:  # the page's filters, but the round's events, any date
                    return dataclasses.replace(flt, events=tuple(rounds_db.event_ids(db, round_id)) or ("(no event)",),
                                               date_from=None, date_to=None)

                cmp, head_a, head_b = compared(DB_PATH, VERSION, round_filter(round_a), round_filter(round_b), level,
                                               user)
                name_a, name_b = round_titles[round_a], round_titles[round_b]
                any_postits = bool(head_a["postits"] or head_b["postits"])
                unit = "people and post-its" if any_postits else "people"  # as the Themes tab counts them
                st.caption(f"Share of the {unit} with a coded answer to each question who raised each "
                           f"{level_choice.lower()[:-1]}, in each round; the change ({session.md_escape(name_a)} minus "
                           f"{session.md_escape(name_b)}) in percentage points with its 95 % interval (Newcombe's "
                           f"method). The other filters apply to both rounds; the event and date filters do not. "
                           f"Figures from fewer than {threshold} {unit} are not shown."
                           + (" A transcribed flipchart post-it is an anonymous answer, not a person: each counts once "
                              "in a share, as in the Themes tab." if any_postits else ""))
                for name, head in ((name_a, head_a), (name_b, head_b)):  # how many answers came from flipcharts
                    flip = (f"{head['flipchart_answers']:,} of its {head['answers']:,} answers came from "
                            f"{head['postits']:,} flipchart post-it{'' if head['postits'] == 1 else 's'}"
                            if head["postits"] else "no flipchart post-its")
                    people = who(head["respondents"], 0) if head["respondents"] else "no respondents"
                    st.text(f"{name}: {people} and {flip}.")
                if cmp.empty:
                    st.info("Neither round has coded answers in this selection.")
                else:
                    if level == "code":
                        cmp = cmp[~cmp["code_id"].isin(prep.themes)]  # themes and sub-codes never mixed
                    shown = cmp[~cmp["suppressed"] & (cmp["status"] != "not comparable")]
                    for r in shown[shown["clear"]].head(5).itertuples():
                        way = "more" if r.change > 0 else "fewer"
                        st.text(f"• {r.label}: {r.share_a:.0%} in {name_a} vs {r.share_b:.0%} in {name_b} "
                                f"({abs(r.change) * 100:.0f} points {way}; 95 % interval {r.ci_low * 100:+.0f} to "
                                f"{r.ci_high * 100:+.0f})")
                    if not shown.empty and not shown["clear"].any():
                        st.text("No change is larger than chance alone could explain at this sample size.")
                    elif len(chance := shown[~shown["clear"] & shown["change"].notna()]["label"].unique()):
                        st.text(f"Could be chance (the 95 % interval includes no change): {', '.join(chance)}")
                    appeared = cmp[(cmp["status"] == "appeared") & ~cmp["suppressed"]]["label"].unique()
                    vanished = cmp[(cmp["status"] == "vanished") & ~cmp["suppressed"]]["label"].unique()
                    if len(appeared):
                        st.text(f"New in {name_a} (nobody raised it in {name_b}): {', '.join(appeared)}")
                    if len(vanished):
                        st.text(f"Not raised in {name_a} (raised in {name_b}): {', '.join(vanished)}")
                    col_a, col_b = short_name(round_names[round_a]), short_name(round_names[round_b])
                    if col_a == col_b:
                        col_a, col_b = f"{col_a} (1)", f"{col_b} (2)"
                    what = level_choice[:-1]  # "Theme" or "Sub-code"
                    both = dataclasses.replace(flt, events=(), date_from=None, date_to=None).describe(
                        prep.questions, prep.groups, event_names, code_labels)
                    chosen = [f"{k}: {v}" for k, v in both.items() if v != "all"] + (
                        ["Review: approved answers only"] if APPROVED_ONLY else [])
                    for qid in dict.fromkeys(cmp["question_id"]):
                        q = cmp[cmp["question_id"] == qid]
                        question = prep.questions.get(qid, qid)
                        st.subheader(session.md_escape(question))
                        first = q.iloc[0]
                        n_a, n_b = int(first["base_a"]), int(first["base_b"])
                        st.caption(session.md_escape(
                            f"{base_line(name_a, n_a, int(first['postit_base_a']))}; "
                            f"{base_line(name_b, n_b, int(first['postit_base_b']))}."))
                        plot = q[~q["suppressed"] & (q["status"] != "not comparable")].head(15)
                        if len(plot):
                            # Streamlit's chart theme thins out y labels that it finds too close (labelOverlap), and
                            # with autosize "fit" the axis and title came out of the height: each row gets its own
                            # 34 px and every label is drawn
                            base = alt.Chart(plot).encode(y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(
                                labelLimit=260, labelOverlap=False)))
                            chart = (base.mark_rule(color="#0072B2", strokeWidth=2).encode(
                                         x=alt.X("ci_low:Q", title=f"Change in share ({col_a} minus {col_b})",
                                                 axis=alt.Axis(format="+%")), x2="ci_high:Q")
                                     + base.mark_point(filled=True, size=70, color="#D55E00").encode(
                                         x="change:Q", tooltip=["label:N", alt.Tooltip("change:Q", format="+.0%"),
                                                                alt.Tooltip("ci_low:Q", format="+.0%"),
                                                                alt.Tooltip("ci_high:Q", format="+.0%"), "status:N"])
                                     + alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#555555").encode(x="x:Q"))
                            lines = [question, f"Filters: {'; '.join(chosen) or 'none (every answer)'}",
                                     f"n = {n_a:,} ({col_a}) and {n_b:,} ({col_b}) {unit} with a coded answer · "
                                     f"{dt.date.today():%d %B %Y}"]
                            chart = charts.titled(chart.properties(
                                height=34 * len(plot), width="container",
                                autosize=alt.AutoSizeParams(type="fit-x", contains="padding")),
                                f"Change in share: {col_a} minus {col_b}", lines)
                            st.altair_chart(chart, width="stretch")
                        table = pd.DataFrame({
                            what: q["label"].to_numpy(),
                            col_a: [round_cell(s, int(k), int(n)) for s, k, n in zip(q["share_a"], q["respondents_a"],
                                                                                      q["base_a"], strict=True)],
                            col_b: [round_cell(s, int(k), int(n)) for s, k, n in zip(q["share_b"], q["respondents_b"],
                                                                                      q["base_b"], strict=True)],
                            "Change (95 % interval)": [change_words(r) for r in q.itertuples()],
                        })
                        st.dataframe(table, hide_index=True, width="stretch", column_config={
                            col_a: st.column_config.TextColumn(help=f"{name_a}: share ({unit} raising it of those with "
                                                                    f"a coded answer)"),
                            col_b: st.column_config.TextColumn(help=f"{name_b}: share ({unit} raising it of those with "
                                                                    f"a coded answer)"),
                            "Change (95 % interval)": st.column_config.TextColumn(
                                help=f"{name_a} minus {name_b}, in percentage points; could be chance when the 95 % "
                                     "interval includes no change")})
