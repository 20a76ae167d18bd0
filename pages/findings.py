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
from ui.i18n import t

user = session.guard("findings")
lang = session.ui_language()  # this sign-in session's interface language: every word below is t(key, lang)
md = session.md_escape
db = session.db()
DB_PATH = str(config.db_path())
APPROVED_ONLY = bool(st.session_state.setdefault("findings_approved_only", False))  # the review toggle
# the data version, then the review toggle: every cached table below is keyed on both
VERSION = (*df.data_version(db), APPROVED_ONLY)

st.session_state.setdefault("findings_export", None)


@st.cache_resource(max_entries=2, show_spinner=t("findings.loading", lang))
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
    small = config.SMALL_CELL_THRESHOLD
    if "suppressed" in out and "share" in out:  # no share (and so no count) can be worked back for a small cell
        out["share"] = out["share"].where(~out["suppressed"].astype(bool))
        if "respondents" in out and "shown" in out:
            out = out.drop(columns=["respondents"] + (["answers"] if "answers" in out else []))
    if "respondents" in out:  # any other count of people obeys the same small-number rule
        out["respondents"] = [str(af.suppress_count(n, threshold=small)) for n in out["respondents"]]
    if "base_respondents" in out:
        out["base_respondents"] = [f"<{small}" if 0 < int(b) < small else str(int(b)) for b in out["base_respondents"]]
    if "both" in out:  # co-occurrence counts: the same small-number rule
        few = (out["both"] > 0) & (out["both"] < small)
        out["share"] = out["share"].where(~few)
        out["both"] = [f"<{small}" if s else str(int(n)) for n, s in zip(out["both"], few, strict=False)]
    return out


#: the findings tables' columns that have a header in the catalogue (findings.col.<name>); the frames keep their
#: own column names (tests and exports read those), only the header shown on the page is translated
COLUMNS = ("question", "code", "code_id", "label", "group", "base_respondents", "respondents", "answers", "share",
           "suppressed", "shown", "ci_low", "ci_high", "code_a", "label_a", "code_b", "label_b", "both", "units",
           "word", "phrase", "count", "event_name", "event_date", "day", "coded", "uncoded", "coded_share",
           "share_a", "share_b", "shown_a", "shown_b", "difference", "diff_low", "diff_high", "chance")


def headers(table: pd.DataFrame) -> dict:
    """column_config giving each known column its header in the interface language."""
    return {c: st.column_config.Column(t(f"findings.col.{c}", lang)) for c in table.columns if c in COLUMNS}


def shown_table(table: pd.DataFrame) -> None:
    """A findings table as readable() makes it, with its headers in the interface language."""
    view = readable(table)
    st.dataframe(view, hide_index=True, width="stretch", column_config=headers(view))


#: analysis.findings.Filter.describe's names, in the catalogue
FILTER_NAMES = {"Questions": "findings.filter.questions", "Respondent groups": "findings.filter.groups",
                "Events": "findings.filter.events", "Event dates": "findings.filter.dates",
                "Codes": "findings.filter.codes"}
NO_EVENT = "(no event)"  # the event id of an empty round's filter: it matches no answer


def filter_words(f: af.Filter) -> list[str]:
    """The chosen filters ("Events: Youth club night (2026-11-20)") in the interface language, for a chart's
    context lines; the review toggle too. Exports record Filter.describe's English (a strategy document)."""
    names = {**event_names, NO_EVENT: t("findings.filter.no_event", lang)}
    chosen = {"Questions": [prep.questions.get(q, q) for q in f.questions],
              "Respondent groups": [prep.groups.get(g, g) for g in f.groups],
              "Events": [names.get(e, e) for e in f.events],
              "Event dates": [t("findings.filter.date_span", lang,
                                start=str(f.date_from) if f.date_from else t("findings.filter.any", lang),
                                end=str(f.date_to) if f.date_to else t("findings.filter.any", lang))]
              if f.date_from or f.date_to else [],
              "Codes": [code_labels.get(c, str(c)) for c in f.codes]}
    words = [f"{t(FILTER_NAMES[k], lang)}: {', '.join(v)}" for k, v in chosen.items() if v]
    if APPROVED_ONLY:
        words.append(f"{t('findings.filter.review', lang)}: {t('findings.filter.approved', lang)}")
    return words


def today() -> str:
    return t("findings.date", lang, date=dt.date.today())


def chart_context(question: str = "", n: int | None = None) -> list[str]:
    """Question, filters, n and date under every chart's title (drawn into the PNG/SVG downloads too)."""
    # as exports.charts.context_lines (which the report's English charts use), in the interface language
    n = int(head["coded_respondents"]) if n is None else n
    filters = "; ".join(filter_words(flt)) or t("findings.chart.no_filters", lang)
    return [line for line in (question, t("findings.chart.filters", lang, filters=filters),
                              t("findings.chart.n", lang, n=f"{n:,}", voices=VOICES, date=today())) if line]


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


def chart_block(chart: tuple | None, table: pd.DataFrame, name: str, key: str, caption: str = "", *, title: str,
                context: list[str] | None = None) -> None:
    """A chart, its table one click away, and PNG/SVG downloads made only when asked for (table only if no chart).
    `chart` is (exports.charts function name, its data, its other arguments). The chart carries its title,
    question, filters, n and date, on screen and in every download."""
    if chart is None:
        shown_table(table)
        return
    kind, data, args = chart
    spec = chart_spec(kind, data, tuple(args), title, tuple(context if context is not None else chart_context()))
    # on screen the chart takes the column's width (a fixed width would be scaled down, shrinking the text too)
    # fit-x: the spec's height is the plot's own; Streamlit's default ("fit") squeezed the title, its context lines
    # and the axis into it, leaving a few pixels for the bars at 820 px
    st.vega_lite_chart(spec={**spec, "width": "container", "autosize": {"type": "fit-x", "contains": "padding"}},
                       width="stretch",
                       alt=t("findings.chart.alt", lang, caption=caption or title))
    if caption:  # made of catalogue words and numbers only (group names escaped where they are filled in)
        st.caption(caption)
    with st.expander(md(t("findings.chart.table", lang))):
        shown_table(table)
    left, right = st.columns(2)
    left.download_button(t("findings.chart.png", lang), data=functools.partial(_rendered, spec, "png"),
                         file_name=safe_filename(f"{slug(name)}.png"),
                         mime="image/png", key=f"findings_png_{key}", on_click="ignore", icon=":material/image:")
    right.download_button(t("findings.chart.svg", lang), data=functools.partial(_rendered, spec, "svg"),
                          file_name=safe_filename(f"{slug(name)}.svg"),
                          mime="image/svg+xml", key=f"findings_svg_{key}", on_click="ignore",
                          icon=":material/draw:")


prep = prepared(DB_PATH, VERSION, user)
# the level with real content: sub-codes when the themes are the questions themselves, else themes
st.session_state.setdefault("findings_level", "Sub-codes" if af.default_level(prep) == "code" else "Themes")
st.title(md(t("findings.title", lang)))
st.toggle(md(t("findings.approved_only", lang)), key="findings_approved_only",
          help=md(t("findings.approved_only.help", lang)))
if prep.answers.empty:
    st.info(md(t("findings.none_approved" if APPROVED_ONLY else "findings.none", lang)))
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

with st.expander(md(t("findings.filters", lang)), expanded=False, icon=":material/filter_list:"):
    c1, c2 = st.columns(2)
    questions = c1.multiselect(md(t("findings.filters.question", lang)), question_ids, key="findings_questions",
                               format_func=lambda q: prep.questions.get(q, q),
                               placeholder=t("findings.filters.all_questions", lang))
    groups = c2.multiselect(md(t("findings.filters.group", lang)), group_ids, key="findings_groups",
                            format_func=lambda g: prep.groups.get(g, g),
                            placeholder=t("findings.filters.all_groups", lang))
    c3, c4 = st.columns(2)
    chosen_events = c3.multiselect(md(t("findings.filters.event", lang)), list(event_names), key="findings_events",
                                   format_func=lambda e: event_names.get(e, e),
                                   placeholder=t("findings.filters.all_events", lang))
    codes = c4.multiselect(md(t("findings.filters.codes", lang)), list(code_labels), key="findings_codes",
                           format_func=lambda c: code_labels.get(c, str(c)),
                           placeholder=t("findings.filters.any_code", lang))
    span = st.date_input(md(t("findings.filters.dates", lang)), value=(first_day, last_day), min_value=first_day,
                         max_value=last_day, key="findings_dates", format="DD/MM/YYYY")
    all_rounds = rounds_db.list_rounds(db, user)  # engagement rounds (data/rounds.py): a round is a set of events
    round_titles = {r.id: r.title for r in all_rounds}
    chosen_round = st.selectbox(md(t("findings.filters.round", lang)), [None, *round_titles], key="findings_round",
                                format_func=lambda r: (t("findings.filters.all_rounds", lang) if r is None
                                                       else round_titles.get(r, str(r))),
                                disabled=not round_titles) if round_titles else None
date_from, date_to = (span if isinstance(span, tuple) and len(span) == 2 else (first_day, last_day))
if chosen_round is not None:
    in_round = rounds_db.event_ids(db, chosen_round)
    chosen_events = [e for e in chosen_events if e in in_round] if chosen_events else in_round
    chosen_events = chosen_events or [NO_EVENT]  # a round without events (or none of those chosen) shows nothing
flt = af.Filter(tuple(questions), tuple(groups), tuple(chosen_events),
                date_from if date_from > first_day else None, date_to if date_to < last_day else None, tuple(codes))

# the options are codes (the English words the session state has always held), shown in the interface language
level_choice = st.segmented_control(md(t("findings.show", lang)), ["Themes", "Sub-codes"], key="findings_level",
                                    format_func=lambda v: t(f"findings.level.{'theme' if v == 'Themes' else 'code'}",
                                                            lang),
                                    help=md(t("findings.show.help", lang))) or "Sub-codes"
level = "theme" if level_choice == "Themes" else "code"


def level_words(form: str) -> str:
    """The chosen level in words: form "plural" ("themes"), "one" ("theme"), "header" ("Theme"), "name" ("Themes")."""
    return t(f"findings.level.{level}" + ("" if form == "name" else f".{form}"), lang)


result = tables(DB_PATH, VERSION, flt, level, user)
head = result["headline"].iloc[0]
m1, m2, m3, m4 = st.columns(4)
shown_respondents = af.suppress_count(head["respondents"])
m1.metric(md(t("findings.metric.respondents", lang)),
          f"{shown_respondents:,}" if isinstance(shown_respondents, int) else shown_respondents,
          help=md(t("findings.metric.respondents.help", lang, flipchart=f"{head['flipchart_answers']:,}",
                    postits=f"{head['postits']:,}")))
m2.metric(md(t("findings.metric.answers", lang)), f"{head['answers']:,}")
m3.metric(md(t("findings.metric.coded", lang)), f"{head['coded_answers'] / max(head['answers'], 1):.0%}",
          help=md(t("findings.metric.coded.help", lang, coded=f"{head['coded_answers']:,}",
                    answers=f"{head['answers']:,}")))
m4.metric(md(t("findings.metric.events", lang)), f"{head['events']:,}")
threshold = config.SMALL_CELL_THRESHOLD
# who a share's base counts: each transcribed post-it once, as an anonymous voice beside the people (never a person)
VOICES = t("findings.voices.postits" if head["postits"] else "findings.voices.people", lang)
# exports.charts draws its axes and tooltips in English for now (the report's charts): it gets the English words
VOICES_EN = t("findings.voices.postits" if head["postits"] else "findings.voices.people")

# Only the tab on screen is computed: choosing a tab reruns the page, so a filter change draws one tab's charts, not
# nine (at 550,000 answers building the charts' specs was 46 % of a rerun). AppTests choose a tab through
# st.session_state["findings_tab"] (its label).
# The tabs are found by position below, never by label, so their labels can be in any language.
TAB_KEYS = ["themes", "groups", "together", "words", "quotes", "progress", "export"] + (
    ["compare"] if len(all_rounds) >= 2 else [])  # Compare rounds appears once two rounds exist
tabs = st.tabs([t(f"findings.tab.{k}", lang) for k in TAB_KEYS], key="findings_tab", on_change="rerun")

# --- themes per question ----------------------------------------------------------------------------------------
with tabs[0]:
    if tabs[0].open:  # only the tab on screen is computed
        shares = result["shares"]
        if shares.empty:
            st.info(md(t("findings.themes.none_coded", lang)))
        for qid in dict.fromkeys(shares["question_id"]):
            q = shares[shares["question_id"] == qid]
            label = prep.questions.get(qid, qid)
            st.subheader(session.md_escape(label))  # a question names the area an admin typed
            base = int(q["base_respondents"].iloc[0])
            # with sub-codes shown, a theme's own bar (always near 100% for its question) says nothing: table only
            plotted = q[~q["code_id"].isin(prep.themes)] if level == "code" else q
            plotted = plotted[~plotted["suppressed"]]
            if plotted.empty:
                st.info(md(t("findings.themes.all_small", lang, threshold=threshold)))
                plotted = None
            chart_block(("themes_bar", plotted.head(12), ("", VOICES_EN)) if plotted is not None else None,
                        q.drop(columns=["question_id", "code_id"]), f"themes-{qid}", f"themes_{qid}",
                        t("findings.themes.caption", lang, base=f"{base:,}", voices=VOICES, level=level_words("one")),
                        title=t("findings.themes.chart_title", lang, level=level_words("name"), voices=VOICES),
                        context=chart_context(label, base))

# --- groups -----------------------------------------------------------------------------------------------------
with tabs[1]:
    if tabs[1].open:  # only the tab on screen is computed
        table = result["by_group"]
        if table.empty:
            st.info(md(t("findings.groups.none_coded", lang)))
        else:
            rows = table[~table["code_id"].isin(prep.themes)] if level == "code" else table
            top = rows.groupby("code_id")["respondents"].sum().sort_values(ascending=False).head(15).index
            st.subheader(md(t("findings.groups.who", lang)))
            shown_cells, folded = charts.fold_small_groups(rows[rows["code_id"].isin(top)])

            def folded_line(names: list[str]) -> str:  # as exports.charts.folded_line, in the interface language
                return t("findings.groups.folded_one" if len(names) == 1 else "findings.groups.folded_many", lang,
                         count=len(names), threshold=threshold, names=", ".join(names))

            lines = chart_context()
            if folded:
                lines.append(folded_line(folded))
            chart_block(("heatmap", shown_cells, ()) if len(shown_cells) else None,
                        table.drop(columns=["code_id", "group_id"]), "themes-by-group", "heatmap",
                        t("findings.groups.caption", lang, level=level_words("plural"), threshold=threshold)
                        + (" " + t("findings.groups.folded_sentence", lang,
                                   line=folded_line([md(g) for g in folded])) if folded else ""),
                        title=t("findings.groups.chart_title", lang, level=level_words("plural")), context=lines)
            st.subheader(md(t("findings.groups.compare", lang)))
            sizes = result["groups"]
            options = list(sizes["group_id"])
            if len(options) < 2:
                st.info(md(t("findings.groups.only_one", lang)))
            else:
                g1, g2 = st.columns(2)
                a = g1.selectbox(md(t("findings.groups.group", lang)), options, index=0, key="findings_group_a",
                                 format_func=lambda g: prep.groups.get(g, g))
                b = g2.selectbox(md(t("findings.compared_with", lang)), options, index=1, key="findings_group_b",
                                 format_func=lambda g: prep.groups.get(g, g))
                if a == b:
                    st.warning(md(t("findings.groups.same", lang)))
                else:
                    cmp = af.compare_groups(rows, a, b)  # one level only: never a theme beside sub-codes
                    name_a, name_b = prep.groups.get(a, a), prep.groups.get(b, b)
                    shown = cmp.dropna(subset=["difference"])
                    if shown.empty:
                        st.info(md(t("findings.groups.too_few", lang, threshold=threshold)))
                    else:
                        for r in shown.head(3).itertuples():
                            st.text(t("findings.groups.line_chance" if r.chance else "findings.groups.line_more",
                                      lang, label=r.label, share_a=f"{r.share_a:.0%}", name_a=name_a,
                                      share_b=f"{r.share_b:.0%}", name_b=name_b,
                                      difference=f"{r.difference * 100:+.0f}", low=f"{r.diff_low * 100:+.0f}",
                                      high=f"{r.diff_high * 100:+.0f}", more=name_a if r.difference > 0 else name_b))
                        chart_block(("comparison", shown.head(15), (name_a, name_b, "", VOICES_EN)), cmp,
                                    f"compare-{a}-{b}", "compare", t("findings.groups.compare_caption", lang,
                                                                     threshold=threshold),
                                    title=t("findings.groups.compare_title", lang, a=name_a, b=name_b))

# --- co-occurrence ----------------------------------------------------------------------------------------------
with tabs[2]:
    if tabs[2].open:  # only the tab on screen is computed
        unit = st.segmented_control(md(t("findings.together.unit", lang)), ["answer", "respondent"],
                                    default="respondent", key="findings_unit",
                                    format_func=lambda u: t(f"findings.together.{u}", lang)) or "respondent"
        cooc = cooccurrence(DB_PATH, VERSION, flt, level, unit, user)
        if level == "code":  # sub-code pairs only: a theme beside another theme's sub-code mixes two levels
            cooc = cooc[~cooc["code_id_a"].isin(prep.themes) & ~cooc["code_id_b"].isin(prep.themes)]
        if cooc.empty:
            st.info(md(t("findings.together.none", lang)))
        else:
            plotted = cooc[cooc["both"] >= threshold].head(15)
            chart_block(("cooccurrence_map", plotted, ("", unit)) if len(plotted) else None,
                        cooc.drop(columns=["code_id_a", "code_id_b"]),
                        f"together-by-{unit}", "cooc",
                        t("findings.together.caption", lang, units=t(f"findings.together.{unit}s", lang),
                          threshold=threshold),
                        title=t("findings.together.chart_title", lang, unit=t(f"findings.together.{unit}", lang)))

# --- words and phrases ------------------------------------------------------------------------------------------
with tabs[3]:
    if tabs[3].open:  # only the tab on screen is computed
        wq = st.selectbox(md(t("findings.words.question", lang)), question_ids, key="findings_words_question",
                          format_func=lambda q: prep.questions.get(q, q))
        word_table, phrases = words(DB_PATH, VERSION, flt, wq, user)
        st.caption(md(t("findings.words.caption", lang)))
        w1, w2 = st.columns(2)
        with w1:
            if word_table.empty:
                st.info(md(t("findings.words.none", lang)))
            else:
                chart_block(("words_bar", word_table, ("word", "")), word_table, f"words-{wq}", "words",
                            title=t("findings.words.chart_title", lang, question=prep.questions.get(wq, wq)))
        with w2:
            if phrases.empty:
                st.info(md(t("findings.words.no_phrases", lang)))
            else:
                chart_block(("words_bar", phrases, ("phrase", "")), phrases, f"phrases-{wq}", "phrases",
                            title=t("findings.words.phrases_title", lang, question=prep.questions.get(wq, wq)))

# --- quotes -----------------------------------------------------------------------------------------------------
with tabs[4]:
    if tabs[4].open:  # only the tab on screen is computed
        can_pin = user.can("code")
        qcode = st.selectbox(md(t("findings.quotes.code", lang)), list(code_labels), key="findings_quote_code",
                             format_func=lambda c: code_labels.get(c, str(c)))
        if qcode is None:  # no code at this level yet (an empty or unused codebook)
            st.info(md(t("findings.quotes.no_codes", lang)))
        else:
            quotes = quotes_for(DB_PATH, VERSION, flt, int(qcode), user)
            if quotes.empty:
                st.info(md(t("findings.quotes.none", lang)))
            st.caption(md(t("findings.quotes.caption", lang)))
            for i, q in enumerate(quotes.itertuples()):
                with st.container(border=True):
                    st.text(q.text)
                    st.caption(session.md_escape(f"{q.group} · {q.event_name}")
                               + (md(t("findings.quotes.pinned", lang)) if q.pinned else ""))
                    if q.translation:
                        st.text(t("findings.quotes.translation", lang, text=q.translation))
                    if can_pin:
                        if q.pinned:
                            # one box per pinned quote, keyed by code and answer so another code's box never shows here
                            typed = st.text_input(md(t("findings.quotes.translation_box", lang)),
                                                  value=q.translation, max_chars=df.MAX_TRANSLATION_CHARS,
                                                  key=f"findings_translation_{int(qcode)}_{q.response_id}",
                                                  placeholder=t("findings.quotes.translation_hint", lang))
                            if st.button(md(t("findings.quotes.save_translation", lang)),
                                         key=f"findings_translation_save_{i}"):
                                try:
                                    df.set_quote_translation(db, user, int(qcode), q.response_id, typed)
                                except df.FindingsError as exc:
                                    st.error(session.md_escape(str(exc)))
                                else:
                                    st.rerun()
                            if st.button(md(t("findings.quotes.unpin", lang)), key=f"findings_unpin_{i}",
                                         icon=":material/keep_off:"):
                                df.unpin_quote(db, user, int(qcode), q.response_id)
                                st.rerun()
                        elif st.button(md(t("findings.quotes.pin", lang)), key=f"findings_pin_{i}",
                                       icon=":material/keep:"):
                            df.pin_quote(db, user, int(qcode), q.response_id)
                            st.rerun()
            if can_pin:
                candidates = af.coded_answers(af.select(prep, flt), int(qcode), limit=300)
                candidates = candidates[~candidates["pinned"]].head(300)
                if len(candidates):
                    with st.expander(md(t("findings.quotes.pin_another", lang))):
                        texts = dict(zip(candidates["response_id"], candidates["text"], strict=False))
                        choice = st.selectbox(md(t("findings.quotes.answer", lang)), list(texts),
                                              key="findings_pin_choice", format_func=lambda r: texts[r][:120])
                        if st.button(md(t("findings.quotes.pin_this", lang)), key="findings_pin_other"):
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
            st.info(md(t("findings.progress.none", lang)))
        else:
            chart_block(("progress_bars", progress, ()), progress, "progress", "progress",
                        t("findings.progress.caption", lang), title=t("findings.progress.chart_title", lang))

# --- exports ----------------------------------------------------------------------------------------------------
with tabs[6]:
    if tabs[6].open:  # only the tab on screen is computed
        can_export = user.can("export")
        if not can_export:
            st.info(md(t("findings.export.no_permission", lang)))
        else:
            # the withheld text is what the files hold (they are English strategy documents)
            st.caption(md(t("findings.export.caption", lang, withheld=df.WITHHELD_TEXT, threshold=threshold)))
            originals = False
            if user.can("export_original"):
                originals = st.checkbox(md(t("findings.export.originals", lang)), key="findings_originals")
            # kind: (file extension, MIME type); its name is findings.export.kind.<kind>
            kinds = {"xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                     "csv": ("csv", "text/csv"),
                     "report": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                     "qdpx": ("qdpx", "application/zip"),
                     "qdc": ("qdc", "application/xml")}
            kind = st.radio(md(t("findings.export.format", lang)), list(kinds), key="findings_export_kind",
                            format_func=lambda k: t(f"findings.export.kind.{k}", lang))
            if st.button(md(t("findings.export.prepare", lang)), type="primary", key="findings_prepare",
                         icon=":material/download:"):
                from exports import csv_export, refi, report, xlsx
                from exports.tables import build

                with st.status(md(t(f"findings.export.preparing.{kind}", lang)), expanded=True) as status:
                    bar = st.progress(0.0, md(t("findings.export.reading", lang)))

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
                        status.update(label=md(t("findings.export.empty_codebook", lang)), state="error")
                    else:
                        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
                        name = f"thrive-voices-{slug(kind if kind != 'report' else 'findings-report')}-{stamp}"
                        file_name = safe_filename(f"{name}.{kinds[kind][0]}")
                        df.record_export(db, user, kind, originals=with_originals, rows=rows, filename=file_name,
                                         filters={**flt.describe(prep.questions, prep.groups, event_names, code_labels),
                                                  **review_filter})
                        st.session_state["findings_export"] = (kind, file_name, data)
                        status.update(label=md(t("findings.export.ready", lang)), state="complete")
            prepared_export = st.session_state["findings_export"]
            if prepared_export and prepared_export[0] == kind:
                _, file_name, data = prepared_export
                st.download_button(t("findings.export.download", lang, name=file_name), data=data,  # a safe file name
                                   file_name=file_name, mime=kinds[kind][1],
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
    said_people = t("findings.who.person" if people == 1 else "findings.who.people", lang, n=f"{people:,}")
    said_postits = t("findings.who.postit" if postits == 1 else "findings.who.postits", lang, n=f"{postits:,}")
    if not postits:
        return said_people
    return t("findings.who.both", lang, people=said_people, postits=said_postits) if people else said_postits


def round_cell(share: float, k: int, n: int) -> str:
    """One round's figure for a theme: '80% (16 of 20)'; a count or base under the threshold says so, no share."""
    if n == 0:
        return t("findings.compare.cell_none", lang)
    if n < threshold:
        return t("findings.compare.cell_too_few", lang, threshold=threshold)
    if 0 < k < threshold:
        return t("findings.compare.cell_small", lang, threshold=threshold, n=f"{n:,}")
    return t("findings.compare.cell", lang, share=f"{share:.0%}", k=f"{k:,}", n=f"{n:,}")


def change_words(r) -> str:
    """The change in points with its 95 % interval, and what it means, in words."""
    if r.status == "not comparable":
        return t("findings.compare.not_comparable", lang)
    if r.suppressed:
        return t("findings.compare.not_shown", lang, threshold=threshold)
    said = t("findings.compare.change", lang, change=f"{r.change * 100:+.0f}", low=f"{r.ci_low * 100:+.0f}",
             high=f"{r.ci_high * 100:+.0f}")
    if r.status in ("appeared", "vanished"):
        said = t("findings.compare.new" if r.status == "appeared" else "findings.compare.gone", lang, said=said)
    return said if r.clear else t("findings.compare.chance", lang, said=said)


def base_line(name: str, n: int, postits: int) -> str:
    if n == 0:
        return t("findings.compare.base_none", lang, name=name)
    if n < threshold:
        return t("findings.compare.base_few", lang, name=name, threshold=threshold)
    return t("findings.compare.base", lang, name=name, who=who(n - postits, postits))


if len(tabs) > 7:
    with tabs[7]:
        if tabs[7].open:  # only the tab on screen is computed
            import dataclasses

            import altair as alt

            ids = [r.id for r in all_rounds]  # earliest first
            round_names = {r.id: r.name for r in all_rounds}
            r1, r2 = st.columns(2)
            round_a = r1.selectbox(md(t("findings.compare.round", lang)), ids, index=len(ids) - 1,
                                   key="findings_compare_a", format_func=lambda r: round_titles[r])
            round_b = r2.selectbox(md(t("findings.compared_with", lang)), ids, index=len(ids) - 2,
                                   key="findings_compare_b", format_func=lambda r: round_titles[r])
            if round_a == round_b:
                st.warning(md(t("findings.compare.same", lang)))
            else:
                def round_filter(round_id: int) -> af.Filter:  # the page's filters, but the round's events, any date
                    return dataclasses.replace(flt, events=tuple(rounds_db.event_ids(db, round_id)) or (NO_EVENT,),
                                               date_from=None, date_to=None)

                cmp, head_a, head_b = compared(DB_PATH, VERSION, round_filter(round_a), round_filter(round_b), level,
                                               user)
                name_a, name_b = round_titles[round_a], round_titles[round_b]
                any_postits = bool(head_a["postits"] or head_b["postits"])
                # as the Themes tab counts them
                unit = t("findings.voices.postits" if any_postits else "findings.voices.people", lang)
                st.caption(md(t("findings.compare.caption", lang, unit=unit, level=level_words("one"), a=name_a,
                                b=name_b, threshold=threshold)
                              + (" " + t("findings.compare.caption_postits", lang) if any_postits else "")))
                for name, head in ((name_a, head_a), (name_b, head_b)):  # how many answers came from flipcharts
                    flip = (t("findings.compare.flip_one" if head["postits"] == 1 else "findings.compare.flip_many",
                              lang, flipchart=f"{head['flipchart_answers']:,}", answers=f"{head['answers']:,}",
                              postits=f"{head['postits']:,}")
                            if head["postits"] else t("findings.compare.flip_none", lang))
                    people = who(head["respondents"], 0) if head["respondents"] else t("findings.compare.nobody",
                                                                                        lang)
                    st.text(t("findings.compare.heads", lang, name=name, people=people, flip=flip))
                if cmp.empty:
                    st.info(md(t("findings.compare.none", lang)))
                else:
                    if level == "code":
                        cmp = cmp[~cmp["code_id"].isin(prep.themes)]  # themes and sub-codes never mixed
                    shown = cmp[~cmp["suppressed"] & (cmp["status"] != "not comparable")]
                    for r in shown[shown["clear"]].head(5).itertuples():
                        st.text(t("findings.compare.line_more" if r.change > 0 else "findings.compare.line_fewer",
                                  lang, label=r.label, share_a=f"{r.share_a:.0%}", a=name_a, share_b=f"{r.share_b:.0%}",
                                  b=name_b, points=f"{abs(r.change) * 100:.0f}", low=f"{r.ci_low * 100:+.0f}",
                                  high=f"{r.ci_high * 100:+.0f}"))
                    if not shown.empty and not shown["clear"].any():
                        st.text(t("findings.compare.no_clear_change", lang))
                    elif len(chance := shown[~shown["clear"] & shown["change"].notna()]["label"].unique()):
                        st.text(t("findings.compare.could_be_chance", lang, labels=", ".join(chance)))
                    appeared = cmp[(cmp["status"] == "appeared") & ~cmp["suppressed"]]["label"].unique()
                    vanished = cmp[(cmp["status"] == "vanished") & ~cmp["suppressed"]]["label"].unique()
                    if len(appeared):
                        st.text(t("findings.compare.appeared", lang, a=name_a, b=name_b, labels=", ".join(appeared)))
                    if len(vanished):
                        st.text(t("findings.compare.vanished", lang, a=name_a, b=name_b, labels=", ".join(vanished)))
                    col_a, col_b = short_name(round_names[round_a]), short_name(round_names[round_b])
                    if col_a == col_b:
                        col_a, col_b = f"{col_a} (1)", f"{col_b} (2)"
                    what = level_words("header")  # "Theme" or "Sub-code"
                    change_col = t("findings.compare.change_column", lang)
                    chosen = filter_words(dataclasses.replace(flt, events=(), date_from=None, date_to=None))
                    for qid in dict.fromkeys(cmp["question_id"]):
                        q = cmp[cmp["question_id"] == qid]
                        question = prep.questions.get(qid, qid)
                        st.subheader(session.md_escape(question))
                        first = q.iloc[0]
                        n_a, n_b = int(first["base_a"]), int(first["base_b"])
                        bases = (base_line(name_a, n_a, int(first["postit_base_a"])),
                                 base_line(name_b, n_b, int(first["postit_base_b"])))
                        st.caption(md(t("findings.compare.bases", lang, a=bases[0], b=bases[1])))
                        plot = q[~q["suppressed"] & (q["status"] != "not comparable")].head(15)
                        if len(plot):
                            # Streamlit's chart theme thins out y labels that it finds too close (labelOverlap), and
                            # with autosize "fit" the axis and title came out of the height: each row gets its own
                            # 34 px and every label is drawn
                            base = alt.Chart(plot).encode(y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(
                                labelLimit=260, labelOverlap=False)))
                            chart = (base.mark_rule(color="#0072B2", strokeWidth=2).encode(
                                         x=alt.X("ci_low:Q", title=t("findings.compare.axis", lang, a=col_a, b=col_b),
                                                 axis=alt.Axis(format="+%")), x2="ci_high:Q")
                                     + base.mark_point(filled=True, size=70, color="#D55E00").encode(
                                         x="change:Q", tooltip=[
                                             alt.Tooltip("label:N", title=t("findings.col.label", lang)),
                                             alt.Tooltip("change:Q", format="+.0%",
                                                         title=t("findings.col.change", lang)),
                                             alt.Tooltip("ci_low:Q", format="+.0%", title=t("findings.col.ci_low", lang)),
                                             alt.Tooltip("ci_high:Q", format="+.0%",
                                                         title=t("findings.col.ci_high", lang)),
                                             alt.Tooltip("status:N", title=t("findings.col.status", lang))])
                                     + alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#555555").encode(x="x:Q"))
                            lines = [question, t("findings.chart.filters", lang,
                                                 filters="; ".join(chosen) or t("findings.chart.no_filters", lang)),
                                     t("findings.compare.n", lang, n_a=f"{n_a:,}", a=col_a, n_b=f"{n_b:,}", b=col_b,
                                       unit=unit, date=today())]
                            chart = charts.titled(chart.properties(
                                height=34 * len(plot), width="container",
                                autosize=alt.AutoSizeParams(type="fit-x", contains="padding")),
                                t("findings.compare.chart_title", lang, a=col_a, b=col_b), lines)
                            st.altair_chart(chart, width="stretch")
                        table = pd.DataFrame({
                            what: q["label"].to_numpy(),
                            col_a: [round_cell(s, int(k), int(n)) for s, k, n in zip(q["share_a"], q["respondents_a"],
                                                                                      q["base_a"], strict=True)],
                            col_b: [round_cell(s, int(k), int(n)) for s, k, n in zip(q["share_b"], q["respondents_b"],
                                                                                      q["base_b"], strict=True)],
                            change_col: [change_words(r) for r in q.itertuples()],
                        })
                        st.dataframe(table, hide_index=True, width="stretch", column_config={
                            col_a: st.column_config.TextColumn(help=md(t("findings.compare.share_help", lang,
                                                                         name=name_a, unit=unit))),
                            col_b: st.column_config.TextColumn(help=md(t("findings.compare.share_help", lang,
                                                                         name=name_b, unit=unit))),
                            change_col: st.column_config.TextColumn(help=md(t("findings.compare.change_help", lang,
                                                                              a=name_a, b=name_b)))})
