"""The findings report as an editable Word document (python-docx): the engagement in numbers, each question's top
themes with a chart and quotes, group differences, and the method (questions, codebook, counting, agreement).

Plain data in (an exports.tables.ExportSet), a .docx out; charts are PNGs rendered offline by vl-convert.
"""

from __future__ import annotations

import io
import json
import unicodedata
from pathlib import Path
from typing import IO, Any

import pandas as pd
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from analysis import findings as af
from exports import charts
from exports.tables import ExportSet, Progress, no_progress

TOP_CODES = 8
QUOTES_PER_CODE = 2
DEFAULT_AUTHOR = "Safeguarding Children Partnership"
DEFAULT_TITLE = "What children, families and communities told us"


def is_rtl(text: str) -> bool:
    """True when the first strongly directional character is right-to-left (Urdu, Arabic, Hebrew...)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _field(paragraph: Any, instruction: str, placeholder: str = "") -> None:
    """A Word field (PAGE, TOC...) in a paragraph: begin, instruction, separate, cached text, end."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), ("instr", instruction), ("separate", None), ("text", placeholder),
                       ("end", None)):
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {text} "
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = text or ""
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        run._r.append(el)


def _bidi(paragraph: Any) -> None:
    """Mark a paragraph and its runs right-to-left (w:bidi, w:rtl) and align it to the right."""
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(OxmlElement("w:bidi"))
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for run in paragraph.runs:
        rpr = run._r.get_or_add_rPr()
        rpr.append(OxmlElement("w:rtl"))
        run.italic = False


def _quote(doc: Any, text: str, translation: str = "") -> None:
    """A quote: right-to-left text marked as such, upright, its quote marks in reading order; a translation beside
    it when one is given."""
    para = doc.add_paragraph(style="Intense Quote")
    if is_rtl(text):
        # in a right-to-left paragraph the opening mark comes first in logical order and shows on the right
        para.add_run(f"\u201d{text}\u201c")
        _bidi(para)
        for run in para.runs:
            run.font.italic = False
    else:
        para.add_run(f"\u201c{text}\u201d")
    if translation:
        doc.add_paragraph(f"Translation: \u201c{translation}\u201d")


def _table(doc: Any, headers: list[str], rows: list[list[Any]], widths: list[float] | None = None) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = str(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = "" if value is None else str(value)
    if widths:
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = Cm(width)


REPORT_CHART_WIDTH = 330  # plot area in CSS px: with labels and the title the picture fits 17 cm at 96 px/inch


def _chart(doc: Any, chart: Any, caption: str, width_cm: float = 17, alt_text: str = "",
           lines: list[str] | None = None) -> None:
    """A chart picture with its title and context drawn in, alt text (wp:docPr descr) and a caption."""
    chart = charts.titled(chart.properties(width=REPORT_CHART_WIDTH), caption, lines or [])
    png = charts.to_png(chart, scale=2)
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        css_px = image.width / 2
    # placed at 96 CSS px per inch, so 13 px text prints at 9.75 pt; never wider than the text column (17 cm)
    doc.add_picture(io.BytesIO(png), width=Cm(min(width_cm, css_px / 96 * 2.54)))
    inline = doc.inline_shapes[-1]._inline
    inline.docPr.set("descr", alt_text or caption)
    inline.docPr.set("title", caption)
    para = doc.add_paragraph(caption)
    para.style = "Caption"


def _alt(table: pd.DataFrame, what: str) -> str:
    parts = [f"{r.label} {r.share:.0%}" for r in table.itertuples() if not pd.isna(r.share)]
    return f"Bar chart of {what}: " + "; ".join(parts) + ". The table below gives the same figures."


def _pct(value: float | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.0%}"


SECTIONS = ("Contents", "Executive summary", "The engagement in numbers", "Differences between groups", "Method",
            "Limitations")


def write_report(ex: ExportSet, target: str | Path | IO[bytes], progress: Progress = no_progress,
                 title: str = "", author: str = "") -> None:
    """Write the report to a path or binary file object: A4, page numbers, contents, executive summary, each
    question, group differences, method and limitations. `title` and `author` come from the admin settings
    report_title and report_author (their defaults when not given)."""
    title = title or DEFAULT_TITLE
    author = author or DEFAULT_AUTHOR
    prep, sel, t = ex.prep, ex.sel, ex.threshold
    doc = Document()
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(11)
    for section in doc.sections:  # A4 portrait, 2 cm margins
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Cm(2)
        section.top_margin = section.bottom_margin = Cm(2)
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        footer.add_run(f"{title} · page ")
        _field(footer, "PAGE", "1")
    doc.add_heading(title, level=0)
    intro = doc.add_paragraph(f"{author}. Thrive Voices findings, generated {ex.generated_at:%d %B %Y} (UTC). ")
    filters = [f"{k}: {v}" for k, v in ex.filters.items() if v != "all"]
    filter_text = "; ".join(filters) if filters else "none (every answer)"
    intro.add_run("Filters: " + filter_text + ".")
    doc.add_paragraph("This document is yours to edit: charts are pictures and tables are ordinary Word tables. "
                      f"Counts of fewer than {t} people are shown as “<{t}” so that nobody can be identified.")
    date_text = f"{ex.generated_at:%d %B %Y}"

    # --- contents: a TOC field Word fills on opening (F9 updates it), and the headings as a plain list ---
    doc.add_heading("Contents", level=1)
    _field(doc.add_paragraph(), 'TOC \\o "1-2" \\h \\z \\u', "Right-click and choose Update field to fill in "
                                                                  "the page numbers.")
    shares = af.theme_shares(sel, level="code")  # one table for the contents and the questions' sections
    questions_all = list(dict.fromkeys(shares["question_id"]))
    contents = ["Executive summary", "The engagement in numbers",
                *[prep.questions.get(q, q) for q in questions_all], "Differences between groups", "Method",
                "Limitations"]
    for heading in contents:
        doc.add_paragraph(heading, style="List Bullet")

    # --- executive summary ---
    head = af.headline(sel)
    level = af.default_level(prep)
    doc.add_heading("Executive summary", level=1)
    groups = af.respondents_by_group(sel, threshold=t)  # for the summary and the engagement in numbers
    # who a share's base counts: each flipchart post-it once, as an anonymous voice beside the people (never a person)
    voices = "people and post-its" if head["postits"] else "people"
    doc.add_paragraph(
        f"{head['respondents']:,} people from {len(groups):,} respondent group(s) answered at "
        f"{head['events']:,} event(s), giving {head['answers']:,} answers; {head['coded_answers']:,} "
        f"({head['coded_answers'] / max(head['answers'], 1):.0%}) have been coded. Young peer researchers asked "
        "the questions using participatory appraisal. The most raised "
        + ("sub-codes" if level == "code" else "themes") + f" for each question, as the share of the {voices} with a "
        "coded answer to it, with a 95% confidence interval:")
    summary = af.theme_shares(sel, level=level, threshold=t)
    if level == "code":
        summary = summary[~summary["code_id"].isin(prep.themes)]
    for qid in dict.fromkeys(summary["question_id"]):
        q = summary[(summary["question_id"] == qid) & ~summary["suppressed"]].head(3)
        if q.empty:
            continue
        base = int(q["base_respondents"].iloc[0])
        items = "; ".join(f"{r.label} {af.pct_interval(r.share, r.ci_low, r.ci_high)}" for r in q.itertuples())
        doc.add_paragraph(f"{prep.questions.get(qid, qid)} (n = {base:,}): {items}.", style="List Bullet")

    # --- the engagement in numbers ---
    progress(0.05, "The engagement in numbers")
    doc.add_heading("The engagement in numbers", level=1)
    people = f"{head['respondents']:,} people gave {head['answers'] - head['flipchart_answers']:,} answers"
    if head["postits"]:  # post-its are anonymous answers, not people
        people += (f" and {head['flipchart_answers']:,} answers came from {head['postits']:,} flipchart post-it(s) "
                   "(anonymous, not counted as people)")
    doc.add_paragraph(f"{people} at {head['events']:,} event(s); {head['coded_answers']:,} answers have been coded "
                      "so far.")
    _table(doc, ["Respondent group", "People", "Answers"],
           [[g.group, g.shown, g.answers if g.respondents >= t else f"<{t}"] for g in groups.itertuples()])
    events = sel.answers.groupby(["event_name", "event_date"]).agg(
        respondents=("rsp", "nunique"), answers=("rix", "size")).reset_index().sort_values("event_date")
    doc.add_paragraph()
    _table(doc, ["Event", "Date", "People", "Answers"],
           [[e.event_name, e.event_date, af.suppress_count(e.respondents, threshold=t), e.answers]
            for e in events.itertuples()])

    # --- each question ---
    sub_codes = shares[~shares["code_id"].isin(prep.themes)]
    questions = list(dict.fromkeys(shares["question_id"]))
    for i, qid in enumerate(questions):
        progress(0.1 + 0.6 * i / max(len(questions), 1), f"Question {i + 1} of {len(questions)}")
        label = prep.questions.get(qid, qid)
        q = sub_codes[sub_codes["question_id"] == qid].head(TOP_CODES)
        if q.empty:
            q = shares[shares["question_id"] == qid].head(TOP_CODES)
        doc.add_heading(label, level=1)
        base = int(q["base_respondents"].iloc[0]) if len(q) else 0
        doc.add_paragraph(f"Based on {base:,} {voices} whose answers to this question have been coded. "
                          "Each bar is the share of them who raised the theme.")
        visible = q[q["respondents"] >= t]
        if len(visible):
            _chart(doc, charts.themes_bar(visible, "", voices), f"Top themes: {label}",
                   alt_text=_alt(visible, f"the share of {base:,} {voices} raising each theme, {label}"),
                   lines=charts.context_lines(label, filter_text, base, f"{voices} with a coded answer", date_text))
        _table(doc, ["Theme", voices.capitalize(), "Share"],
               [[r.label, af.suppress_count(r.respondents, threshold=t),
                 _pct(r.share) if r.respondents >= t else ""] for r in q.itertuples()])
        doc.add_heading("In their words", level=2)
        q_sel = af.select(prep, af.Filter(**{**ex.flt.__dict__, "questions": (qid,)}))
        quoted = 0
        for r in q.head(3).itertuples():
            quotes = af.quotes(q_sel, int(r.code_id), QUOTES_PER_CODE)
            for quote in quotes.itertuples():
                _quote(doc, quote.text, str(getattr(quote, "translation", "") or ""))
                note = doc.add_paragraph(f"{quote.group}, on {r.label.lower()}"
                                         + (" (chosen by the engagement team)" if quote.pinned else ""))
                note.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                quoted += 1
        if not quoted:
            doc.add_paragraph("No coded answers to quote yet.")

    # --- group differences ---
    progress(0.75, "Group differences")
    doc.add_heading("Differences between groups", level=1)
    table = af.by_group(sel, level="code", threshold=t)
    top = list(sub_codes.groupby("code_id")["respondents"].sum().sort_values(ascending=False).head(12).index)
    if not table.empty and top:
        cells, folded = charts.fold_small_groups(table[table["code_id"].isin(top)])
        lines = charts.context_lines("All questions", filter_text, head["coded_respondents"],
                                     f"{voices} with a coded answer", date_text)
        if folded:
            lines.append(charts.folded_line(folded))
        if cells["group"].nunique() >= 2:
            _chart(doc, charts.heatmap(cells), "Who raised what, by respondent group",
                   alt_text=(f"Heat map of the share of each respondent group raising the twelve most common themes "
                             f"({', '.join(sorted(cells['group'].unique()))}); pale grey cells: fewer than {t} "
                             "people. " + (charts.folded_line(folded) + "." if folded else "")),
                   lines=lines)
            doc.add_paragraph(f"Share of each group raising the twelve most common themes; pale grey cells: fewer "
                              f"than {t} people." + (f" {charts.folded_line(folded)}." if folded else ""))
        else:
            doc.add_paragraph("Only one respondent group has enough people in this selection to be shown, so there "
                              "is no comparison between groups here.")
        sizes = groups.sort_values("respondents", ascending=False)
        if len(sizes) >= 2:
            a, b = sizes.iloc[0], sizes.iloc[1]
            cmp = af.compare_groups(table[~table["code_id"].isin(prep.themes)], a.group_id, b.group_id)
            cmp = cmp.dropna(subset=["difference"]).head(5)
            doc.add_paragraph(f"The largest differences between the two largest groups, {a.group} and {b.group}, "
                              "with a 95% confidence interval for each difference (Newcombe's method):")
            for r in cmp.itertuples():
                more = a.group if r.difference > 0 else b.group
                verdict = ("a difference this size could be chance" if r.chance
                           else f"more often raised by {more.lower()}")
                doc.add_paragraph(f"{r.label}: {_pct(r.share_a)} of {a.group.lower()} and {_pct(r.share_b)} of "
                                  f"{b.group.lower()}, a difference of {r.difference * 100:+.0f} points (95% CI "
                                  f"{r.diff_low * 100:+.0f} to {r.diff_high * 100:+.0f}): {verdict}.",
                                  style="List Bullet")
    else:
        doc.add_paragraph("Not enough coded answers yet to compare groups.")

    # --- method ---
    progress(0.85, "Method")
    doc.add_heading("Method", level=1)
    doc.add_heading("Questions asked", level=2)
    for label in prep.questions.values():
        doc.add_paragraph(label, style="List Number")
    doc.add_heading("Participatory appraisal", level=2)
    doc.add_paragraph("The questions were asked using participatory appraisal: trained young peer researchers met "
                      "children, families, residents and practitioners where they are (family centres, schools, "
                      "fairs, markets), and people answered in their own words, one idea per answer, with each "
                      "person's consent. Personal details are removed from every quoted answer.")
    doc.add_heading("How answers were coded", level=2)
    doc.add_paragraph("Engagement officers coded each answer with one or more themes from the codebook below. "
                      "An answer coded with a sub-code counts toward its theme too. A person raises a theme when any "
                      "of their answers does; shares are of the people with at least one coded answer. A "
                      "transcribed flipchart post-it is anonymous: it is counted once, as a voice of its own, "
                      "beside the people (never as a person), and the report says \"people and post-its\" "
                      "wherever a base includes post-its.")
    codes = prep.codes[prep.codes["archived"] == 0]
    names = dict(zip(codes["code_id"], codes["label"], strict=False))
    _table(doc, ["Theme", "Code", "Definition"],
           [[names.get(int(r.parent_id), "") if not pd.isna(r.parent_id) else r.label,
             r.label if not pd.isna(r.parent_id) else "(theme)", r.definition] for r in codes.itertuples()],
           widths=[4, 4.5, 8.5])
    doc.add_heading("Agreement between coders", level=2)
    agreement = None
    try:
        agreement = af.agreement_overview(ex.codings if ex.codings is not None else pd.DataFrame(), prep.codes)
    except Exception:  # noqa: BLE001 - the report still helps without this paragraph
        agreement = None
    if agreement and agreement.get("mean_kappa") is not None:
        doc.add_paragraph(
            f"{agreement['coder_a']} and {agreement['coder_b']} both coded {agreement['n']:,} answers. Mean Cohen's "
            f"kappa over {agreement['codes_with_values']} codes: {agreement['mean_kappa']:.2f}; mean Krippendorff's "
            f"alpha: {agreement['mean_alpha']:.2f} (1 is perfect agreement, 0 is chance).")
    else:
        doc.add_paragraph("No answers have been coded by two people yet, so agreement cannot be reported.")
    withheld = int(ex.counts.get("answers withheld for safeguarding", 0))
    doc.add_heading("Safeguarding", level=2)
    doc.add_paragraph("An answer that raised a safeguarding concern is passed to the safeguarding lead and is never "
                      "quoted in this report unless they release it; it still counts in every figure."
                      + (f" {withheld:,} answer(s) in this selection are withheld." if withheld else ""))
    doc.add_heading("Small numbers", level=2)
    doc.add_paragraph(f"Any count of fewer than {t} people is shown as “<{t}”, and a group with fewer than {t} "
                      "coded respondents is not broken down at all (statistical disclosure control).")
    # --- limitations ---
    doc.add_heading("Limitations", level=1)
    uncoded = head["answers"] - head["coded_answers"]
    for text in (
        "The people who answered chose to stop and take part at the events: a self-selected sample, not a random "
        "one. The shares describe these people and cannot be read as the share of the whole community.",
        f"{uncoded:,} of {head['answers']:,} answers ({uncoded / max(head['answers'], 1):.0%}) are not coded yet and "
        "are left out of every share.",
        "The only statements of uncertainty in this report are the 95% confidence intervals given (Wilson for a "
        "share, Newcombe for a difference). They allow for chance alone, not for who came or how answers were "
        "coded; a difference whose interval includes zero could be chance.",
        "Answers that raised a safeguarding concern are withheld: never quoted, though counted"
        + (f" ({withheld:,} in this selection)." if withheld else "."),
        f"Counts of fewer than {t} people are not shown, so small groups are not described.",
    ):
        doc.add_paragraph(text, style="List Bullet")
    progress(0.97, "Saving the document")
    doc.core_properties.title = title
    doc.core_properties.author = author
    doc.core_properties.last_modified_by = author
    doc.core_properties.comments = json.dumps(ex.counts)
    doc.save(target)
    progress(1.0, "Report ready")


def report_bytes(ex: ExportSet, progress: Progress = no_progress, *, title: str = "", author: str = "") -> bytes:
    buffer = io.BytesIO()
    write_report(ex, buffer, progress, title=title, author=author)
    return buffer.getvalue()
