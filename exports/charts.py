"""Altair charts of the findings tables, shared by the Findings page and the Word report, and their PNG/SVG.

Colours are colour-blind safe: Okabe-Ito for categories, viridis for shares; every chart has a table behind it.
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

import config
from analysis.findings import OKABE_ITO

BLUE, ORANGE, GREY = "#0072B2", "#E69F00", "#BBBBBB"
SUPPRESSED_FILL = "#F0F0F0"  # a suppressed cell: paler than any share, so never read as one
WIDTH = 560
#: Text sizes in pixels. A PNG drawn WIDTH px wide is placed 16 cm wide in the report, so 13 px prints at about
#: 10.5 pt (at least 9 pt in documents) and is at least 13 px in the app.
FONT, TITLE_FONT = 13, 15
INK = "#222222"


def style(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Readable text everywhere: axes, legends, titles and subtitles at least FONT px, dark ink."""
    return (chart.configure_axis(labelFontSize=FONT, titleFontSize=FONT, labelColor=INK, titleColor=INK)
            .configure_legend(labelFontSize=FONT, titleFontSize=FONT, labelColor=INK, titleColor=INK)
            .configure_title(fontSize=TITLE_FONT, subtitleFontSize=FONT, color=INK, subtitleColor=INK,
                             anchor="start")
            .configure_text(fontSize=FONT)
            .configure_view(stroke=None))


def context_lines(question: str = "", filters: str = "", n: int | None = None, unit: str = "people",
                  date: str = "") -> list[str]:
    """The lines under a chart's title: question, filters, n and date (every chart carries them)."""
    lines = []
    if question:
        lines.append(question)
    lines.append(f"Filters: {filters or 'none (every answer)'}")
    lines.append((f"n = {n:,} {unit}" if n is not None else "") + (f" · {date}" if date else ""))
    return [line for line in lines if line]


def titled(chart: alt.TopLevelMixin, title: str, lines: list[str]) -> alt.TopLevelMixin:
    """The chart with its title and context lines (question, filters, n, date) drawn into it, so a PNG or SVG
    carries them wherever it goes; text styled by `style`."""
    return style(chart.properties(title=alt.TitleParams(text=title or " ", subtitle=lines, anchor="start")))


def fold_small_groups(by_group: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop the groups whose every cell is suppressed (they would be a column of "<5"); return the rest and the
    dropped groups' names, for one line such as "4 groups with fewer than 5 people each"."""
    if by_group.empty:
        return by_group, []
    all_small = by_group.groupby("group")["suppressed"].all()
    folded = sorted(all_small[all_small].index)
    return by_group[~by_group["group"].isin(folded)], folded


def folded_line(folded: list[str]) -> str:
    t = config.SMALL_CELL_THRESHOLD
    if not folded:
        return ""
    return (f"{len(folded)} group{'s' if len(folded) != 1 else ''} with fewer than {t} people each, not shown: "
            + ", ".join(folded))


def _height(rows: int) -> int:
    # generous rows: on a tablet Streamlit's theme uses a larger font, and a hidden label hides a finding
    return max(140, min(1100, 34 * rows + 40))


def themes_bar(shares: pd.DataFrame, title: str = "", voices: str = "people") -> alt.Chart:
    """Sorted horizontal bars: share of `voices` ("people", or "people and post-its" where the base counts each
    flipchart post-it once, as an anonymous voice) raising each theme (one question)."""
    shares = shares.copy()
    if "ci_low" not in shares:
        from analysis.findings import wilson_interval

        shares["ci_low"], shares["ci_high"] = wilson_interval(shares["respondents"], shares["base_respondents"])
    data = shares.assign(share_pct=(shares["share"] * 100).round(1))[
        ["label", "share", "share_pct", "answers", "respondents", "base_respondents", "ci_low", "ci_high"]]
    bars = alt.Chart(data).mark_bar(color=BLUE, opacity=0.85).encode(
        x=alt.X("share:Q", title=f"Share of {voices}", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260, labelOverlap=False)),
        tooltip=[alt.Tooltip("label:N", title="Theme"), alt.Tooltip("share:Q", format=".0%", title="Share"),
                 alt.Tooltip("respondents:Q", title=voices.capitalize()), alt.Tooltip("answers:Q", title="Answers"),
                 alt.Tooltip("base_respondents:Q", title=f"Base ({voices})"),
                 alt.Tooltip("ci_low:Q", format=".0%", title="95% CI from"),
                 alt.Tooltip("ci_high:Q", format=".0%", title="95% CI to")],
    )
    # the Wilson 95 % interval as a thin dark line across each bar's end
    whisker = alt.Chart(data).mark_rule(color=INK, strokeWidth=1.5).encode(
        x="ci_low:Q", x2="ci_high:Q", y=alt.Y("label:N", sort=alt.EncodingSortField("share", order="descending")))
    text = alt.Chart(data).mark_text(align="left", dx=4, color=INK, fontSize=FONT).encode(
        x="ci_high:Q", y=alt.Y("label:N", sort=alt.EncodingSortField("share", order="descending")),
        text=alt.Text("share:Q", format=".0%"))
    return (bars + whisker + text).properties(width=WIDTH, height=_height(len(data)), title=title)


def heatmap(by_group: pd.DataFrame, title: str = "") -> alt.Chart:
    """Theme x respondent group: share of each group's respondents; suppressed cells grey and labelled "<5"."""
    data = by_group.assign(
        cell=[s if isinstance(s, str) else f"{v:.0%}" for s, v in zip(by_group["shown"], by_group["share"],
                                                                   strict=False)],
        shown_text=by_group["shown"].astype(str),
        # a null share would drop the cell (Vega filters invalid values); suppressed cells are painted grey instead
        share_fill=by_group["share"].fillna(0.0),
        base_text=[f"<{config.SMALL_CELL_THRESHOLD}" if int(b) < config.SMALL_CELL_THRESHOLD else str(int(b))
                   for b in by_group["base_respondents"]],
    )[["label", "group", "share", "share_fill", "cell", "shown_text", "base_text", "suppressed"]]
    base = alt.Chart(data).encode(
        x=alt.X("group:N", title=None, axis=alt.Axis(labelAngle=-60, labelLimit=220, labelOverlap=False)),
        y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=260, labelOverlap=False)),
    )
    rect = base.mark_rect(stroke="white").encode(
        # sequential blues from white at 0 %: no share reads darker than a larger one; suppressed cells pale grey
        color=alt.condition("datum.suppressed", alt.value(SUPPRESSED_FILL),
                            alt.Color("share_fill:Q", title="Share", scale=alt.Scale(
                                range=["#FFFFFF", "#08306B"], domain=[0, 1], interpolate="lab"),
                                      legend=alt.Legend(format="%", orient="bottom", gradientLength=160))),
        tooltip=[alt.Tooltip("label:N", title="Theme"), alt.Tooltip("group:N", title="Group"),
                 alt.Tooltip("cell:N", title="Share"), alt.Tooltip("shown_text:N", title="Count"),
                 alt.Tooltip("base_text:N", title="Base")],
    )
    text = base.mark_text(fontSize=FONT).encode(
        text="cell:N",
        color=alt.condition("datum.share_fill < 0.5 || datum.suppressed", alt.value("#000000"),
                            alt.value("#FFFFFF")),
    )
    groups = data["group"].nunique()
    return (rect + text).properties(width=max(240, min(WIDTH, 70 * groups)),
                                    height=_height(data["label"].nunique()), title=title)


def comparison(cmp: pd.DataFrame, name_a: str, name_b: str, title: str = "", voices: str = "people") -> alt.Chart:
    """Two groups side by side per theme (dots joined by a line), ordered by the size of the difference; shares of
    `voices` (as in themes_bar)."""
    cmp = cmp.dropna(subset=["difference"])
    order = list(cmp["label"])
    long = pd.concat([
        pd.DataFrame({"label": cmp["label"], "group": name_a, "share": cmp["share_a"]}),
        pd.DataFrame({"label": cmp["label"], "group": name_b, "share": cmp["share_b"]}),
    ])
    base = alt.Chart(long).encode(y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=260, labelOverlap=False)))
    rule = base.mark_rule(color=GREY).encode(x="min(share):Q", x2="max(share):Q")
    dots = base.mark_point(filled=True, size=110).encode(
        x=alt.X("share:Q", title=f"Share of {voices}", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("group:N", title="Group", scale=alt.Scale(domain=[name_a, name_b], range=[ORANGE, BLUE])),
        shape=alt.Shape("group:N", scale=alt.Scale(domain=[name_a, name_b], range=["circle", "diamond"])),
        tooltip=[alt.Tooltip("label:N", title="Theme"), alt.Tooltip("group:N", title="Group"),
                 alt.Tooltip("share:Q", format=".0%", title="Share")],
    )
    return (rule + dots).properties(width=WIDTH, height=_height(len(order)), title=title)


def cooccurrence_map(cooc: pd.DataFrame, title: str = "", unit: str = "respondent") -> alt.Chart:
    """Pairs of themes raised together, most frequent first (ranked bars read better than a matrix on a tablet)."""
    data = cooc.assign(pair=cooc["label_a"] + "  +  " + cooc["label_b"])[["pair", "label_a", "label_b", "both",
                                                                             "share"]]
    bars = alt.Chart(data).mark_bar(color=OKABE_ITO[6]).encode(
        x=alt.X("both:Q", title=f"{unit.capitalize()}s raising both"),
        y=alt.Y("pair:N", sort="-x", title=None, axis=alt.Axis(labelLimit=340, labelOverlap=False)),
        tooltip=[alt.Tooltip("label_a:N", title="Theme"), alt.Tooltip("label_b:N", title="and"),
                 alt.Tooltip("both:Q", title="Together"), alt.Tooltip("share:Q", format=".1%", title="Share")],
    )
    text = bars.mark_text(align="left", dx=3, color=INK, fontSize=FONT).encode(text="both:Q")
    return (bars + text).properties(width=WIDTH, height=_height(len(data)), title=title)


def words_bar(table: pd.DataFrame, column: str = "word", title: str = "") -> alt.Chart:
    """Most frequent words or phrases: counts of answers using each."""
    return alt.Chart(table).mark_bar(color=OKABE_ITO[2]).encode(
        x=alt.X("count:Q", title="Answers"),
        y=alt.Y(f"{column}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False)),
        tooltip=[alt.Tooltip(f"{column}:N"), alt.Tooltip("count:Q", title="Answers")],
    ).properties(width=260, height=_height(len(table)), title=title)


def progress_bars(progress: pd.DataFrame, title: str = "") -> alt.Chart:
    """Answers per event and day, stacked coded / not yet coded."""
    data = progress.assign(when=progress["event_name"] + " · " + progress["day"].astype(str))[
        ["when", "coded", "uncoded"]]
    long = data.melt(id_vars=["when"], value_vars=["coded", "uncoded"], var_name="status", value_name="answers")
    long["status"] = long["status"].map({"coded": "Coded", "uncoded": "Not yet coded"})
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("answers:Q", title="Answers", stack="zero"),
        y=alt.Y("when:N", title=None, sort=list(data["when"]), axis=alt.Axis(labelLimit=300, labelOverlap=False)),
        color=alt.Color("status:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=["Coded", "Not yet coded"], range=[BLUE, ORANGE])),
        tooltip=["when:N", "status:N", "answers:Q"],
    ).properties(width=WIDTH, height=_height(len(data)), title=title)


def to_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """The chart as PNG (vl-convert, offline)."""
    import vl_convert

    # the spec unvalidated at run time (tests/test_charts.py and the PNG/SVG tests validate it): Altair's
    # JSON-schema check cost about as much as drawing the picture
    return vl_convert.vegalite_to_png(json.dumps(chart.to_dict(validate=False)), scale=scale)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as SVG text (vl-convert, offline)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(json.dumps(chart.to_dict(validate=False)))
