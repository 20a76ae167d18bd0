"""The findings report as an editable Word document (python-docx): the engagement in numbers, each question's top
themes with a chart and quotes, group differences, and the method (questions, codebook, counting, agreement).

Plain data in (an exports.tables.ExportSet), a .docx out; charts are PNGs rendered offline by vl-convert.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import IO, Any

import pandas as pd
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from analysis import findings as af
from exports import charts
from exports.tables import ExportSet, Progress, no_progress

TOP_CODES = 8
QUOTES_PER_CODE = 2


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


def _chart(doc: Any, chart: Any, caption: str, width_cm: float = 16) -> None:
    doc.add_picture(io.BytesIO(charts.to_png(chart, scale=2)), width=Cm(width_cm))
    para = doc.add_paragraph(caption)
    para.style = "Caption"


def _pct(value: float | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.0%}"


def write_report(ex: ExportSet, target: str | Path | IO[bytes], progress: Progress = no_progress,
                 title: str = "What children, families and communities told us") -> None:
    """Write the report to a path or binary file object."""
    prep, sel, t = ex.prep, ex.sel, ex.threshold
    doc = Document()
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(11)
    doc.add_heading(title, level=0)
    intro = doc.add_paragraph(f"Thrive Voices findings, generated {ex.generated_at:%d %B %Y} (UTC). ")
    filters = [f"{k}: {v}" for k, v in ex.filters.items() if v != "all"]
    intro.add_run("Filters: " + ("; ".join(filters) if filters else "none (every answer)") + ".")
    doc.add_paragraph("This document is yours to edit: charts are pictures and tables are ordinary Word tables. "
                      f"Counts of fewer than {t} people are shown as “<{t}” so that nobody can be identified.")

    # --- the engagement in numbers ---
    progress(0.05, "The engagement in numbers")
    head = af.headline(sel)
    doc.add_heading("The engagement in numbers", level=1)
    people = f"{head['respondents']:,} people gave {head['answers'] - head['flipchart_answers']:,} answers"
    if head["postits"]:  # post-its are anonymous answers, not people
        people += (f" and {head['flipchart_answers']:,} answers came from {head['postits']:,} flipchart post-it(s) "
                   "(anonymous, not counted as people)")
    doc.add_paragraph(f"{people} at {head['events']:,} event(s); {head['coded_answers']:,} answers have been coded "
                      "so far.")
    groups = af.respondents_by_group(sel, threshold=t)
    _table(doc, ["Respondent group", "People", "Answers"],
           [[g.group, g.shown, g.answers if g.respondents >= t else f"<{t}"] for g in groups.itertuples()])
    events = sel.answers.groupby(["event_name", "event_date"]).agg(
        respondents=("rsp", "nunique"), answers=("rix", "size")).reset_index().sort_values("event_date")
    doc.add_paragraph()
    _table(doc, ["Event", "Date", "People", "Answers"],
           [[e.event_name, e.event_date, af.suppress_count(e.respondents, threshold=t), e.answers]
            for e in events.itertuples()])

    # --- each question ---
    shares = af.theme_shares(sel, level="code")
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
        doc.add_paragraph(f"Based on {base:,} people whose answers to this question have been coded. "
                          "Each bar is the share of them who raised the theme.")
        visible = q[q["respondents"] >= t]
        if len(visible):
            _chart(doc, charts.themes_bar(visible, ""), f"Top themes: {label}")
        _table(doc, ["Theme", "People", "Share"],
               [[r.label, af.suppress_count(r.respondents, threshold=t),
                 _pct(r.share) if r.respondents >= t else ""] for r in q.itertuples()])
        doc.add_heading("In their words", level=2)
        q_sel = af.select(prep, af.Filter(**{**ex.flt.__dict__, "questions": (qid,)}))
        quoted = 0
        for r in q.head(3).itertuples():
            quotes = af.quotes(q_sel, int(r.code_id), QUOTES_PER_CODE)
            for quote in quotes.itertuples():
                para = doc.add_paragraph(style="Intense Quote")
                para.add_run(f"“{quote.text}”")
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
        _chart(doc, charts.heatmap(table[table["code_id"].isin(top)]),
               f"Share of each group raising the twelve most common themes; grey cells: fewer than {t} people.")
        sizes = groups.sort_values("respondents", ascending=False)
        if len(sizes) >= 2:
            a, b = sizes.iloc[0], sizes.iloc[1]
            cmp = af.compare_groups(table[~table["code_id"].isin(prep.themes)], a.group_id, b.group_id)
            cmp = cmp.dropna(subset=["difference"]).head(5)
            doc.add_paragraph(f"The largest differences between the two largest groups, {a.group} and {b.group}:")
            for r in cmp.itertuples():
                more = a.group if r.difference > 0 else b.group
                doc.add_paragraph(f"{r.label}: {_pct(r.share_a)} of {a.group.lower()} and {_pct(r.share_b)} of "
                                  f"{b.group.lower()} (more often raised by {more.lower()}).", style="List Bullet")
    else:
        doc.add_paragraph("Not enough coded answers yet to compare groups.")

    # --- method ---
    progress(0.85, "Method")
    doc.add_heading("Method", level=1)
    doc.add_heading("Questions asked", level=2)
    for label in prep.questions.values():
        doc.add_paragraph(label, style="List Number")
    doc.add_paragraph("Young peer researchers recorded answers at community events, one idea per answer, with each "
                      "person's consent. Personal details are removed from every quoted answer.")
    doc.add_heading("How answers were coded", level=2)
    doc.add_paragraph("Engagement officers coded each answer with one or more themes from the codebook below. "
                      "An answer coded with a sub-code counts toward its theme too. A person raises a theme when any "
                      "of their answers does; shares are of the people with at least one coded answer.")
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
    progress(0.97, "Saving the document")
    doc.core_properties.title = title
    doc.core_properties.comments = json.dumps(ex.counts)
    doc.save(target)
    progress(1.0, "Report ready")


def report_bytes(ex: ExportSet, progress: Progress = no_progress) -> bytes:
    buffer = io.BytesIO()
    write_report(ex, buffer, progress)
    return buffer.getvalue()
