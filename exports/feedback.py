"""The "you said, we did" feedback sheet for a round's communities: one A4 page per language the round used, in
plain large text (python-docx), and PDF/PNG through LibreOffice headless where it is installed.

Plain data in (data.actions.FeedbackSheet), a .docx out. Also `append_comparison`, which adds a round comparison
(analysis.findings.compare_rounds) to a finished Word report.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

import config

BODY_PT = 14
HEADING_PT = 24
ENGLISH_NOTE = ("Only the questions are written in {name} on this page; the rest is in English, because no "
                "translation of it exists yet.")
DRAFT_NOTE = "The {name} wording of the questions is a draft translation that a native speaker has not yet checked."
POSTIT_NOTE = ("Post-it notes are anonymous, so they are counted apart from people (one person may have written "
               "several, or talked to us as well).")
QUOTE_NOTE = "Quotes are people's own words (personal details removed), in the language they used."
WE_SAID = {"done": "We did", "in_progress": "We are doing", "planned": "We will", "dropped": "We decided not to"}


class FeedbackError(RuntimeError):
    """The sheet could not be converted (LibreOffice missing or failing), with a message for the person."""


def _rtl(paragraph: Any) -> None:
    """Mark a paragraph (and its runs) right-to-left, so Word and LibreOffice lay Urdu or Arabic out correctly."""
    ppr = paragraph._p.get_or_add_pPr()
    bidi = OxmlElement("w:bidi")
    ppr.insert(0, bidi)
    for run in paragraph.runs:
        rpr = run._r.get_or_add_rPr()
        rpr.append(OxmlElement("w:rtl"))


def _lang(run: Any, code: str) -> None:
    rpr = run._r.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), code)
    lang.set(qn("w:bidi"), code)
    rpr.append(lang)


def _para(doc: Any, text: str, *, size: int = BODY_PT, bold: bool = False, lang: str = "en", rtl: bool = False,
          space_after: int = 6) -> Any:
    para = doc.add_paragraph()
    run = para.add_run(text)
    run.bold = bold
    run.font.size = Pt(size)
    _lang(run, lang)
    para.paragraph_format.space_after = Pt(space_after)
    if rtl:
        _rtl(para)
    return para


def _part(n: int, base: int, noun: str, threshold: int) -> str:
    """"30 of 80 people (38%)"; a count under the small-number threshold as "fewer than 5 of 80 people" (no share);
    out of a base under the threshold, "some of the 3 people"."""
    if n == 0:
        return f"none of the {base:,} {noun}"
    if base < threshold:
        return f"some of the {base:,} {noun}"
    if n < threshold:
        return f"fewer than {threshold} of {base:,} {noun}"
    return f"{n:,} of {base:,} {noun} ({n / base:.0%})"


def theme_counts(theme: Any, threshold: int | None = None) -> str:
    """How many raised a theme, people and post-its apart (a post-it is an anonymous answer, not a person):
    "raised by 30 of 80 people (38%) and on 11 of 66 post-its (17%)". Bases are those with a coded answer."""
    t = config.SMALL_CELL_THRESHOLD if threshold is None else threshold
    parts = []
    if theme.base:
        parts.append("raised by " + _part(theme.respondents, theme.base, "people", t))
    if theme.postit_base:
        parts.append(("and on " if parts else "raised on ") + _part(theme.postits, theme.postit_base, "post-its", t))
    return " ".join(parts)


def coded_line(sheet: Any) -> str:
    """What the theme counts are out of, when not everyone's answers could be sorted into themes (yet)."""
    if sheet.coded_people >= sheet.people and sheet.coded_postits >= sheet.postits:
        return ""
    whom = f"{sheet.coded_people:,} of the {sheet.people:,} people"
    if sheet.postits:
        whom += f" and {sheet.coded_postits:,} of the {sheet.postits:,} post-its"
    return f"So far, what {whom} said has been sorted into themes; each count below is out of those."


def write_feedback(sheet: Any, target: str | Path | IO[bytes], threshold: int | None = None) -> None:
    """Write the sheet: one page per language (the default language first). Counts under `threshold` (the
    small-number rule, config.SMALL_CELL_THRESHOLD) are said as "fewer than"."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    section.top_margin = section.bottom_margin = Cm(1.8)
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(BODY_PT)
    doc.core_properties.title = f"You said, we did: {sheet.round_name}"
    doc.core_properties.author = "Thrive Voices"
    when = ""
    if sheet.first_date:
        when = sheet.first_date if sheet.first_date == sheet.last_date else f"{sheet.first_date} to {sheet.last_date}"
    languages = sheet.languages or [None]
    for i, lang in enumerate(languages):
        if i:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        code = lang.code if lang else "en"
        rtl = bool(lang and lang.direction == "rtl")
        _para(doc, "You said, we did", size=HEADING_PT, bold=True, space_after=2)
        if lang and not lang.is_default:
            _para(doc, lang.title, size=BODY_PT + 2, bold=True, lang=code, rtl=rtl)
            _para(doc, f"{lang.name}: " + ENGLISH_NOTE.format(name=lang.name), size=BODY_PT - 2)
            if not lang.reviewed:
                _para(doc, DRAFT_NOTE.format(name=lang.name), size=BODY_PT - 2)
        people = " and ".join(x for x in (f"{sheet.people:,} people" if sheet.people or not sheet.postits else "",
                                          f"{sheet.postits:,} post-it notes" if sheet.postits else "") if x)
        _para(doc, f"{sheet.round_name}{' · ' + when if when else ''}. Thank you: {people} told us what helps "
                   f"children{' in ' + sheet.area if sheet.area else ''} thrive.", size=BODY_PT)
        sorted_so_far = coded_line(sheet)
        if sheet.postits or sorted_so_far:
            _para(doc, " ".join(x for x in (POSTIT_NOTE if sheet.postits else "", sorted_so_far) if x),
                  size=BODY_PT - 2)
        if lang:
            _para(doc, "We asked:", bold=True, space_after=2)
            for text in lang.questions:
                _para(doc, f"• {text}", lang=code, rtl=rtl, space_after=2)
        if not sheet.themes:
            _para(doc, "We are still reading what people said; this sheet will show the main themes soon.")
        for theme in sheet.themes:
            _para(doc, f"{theme.label} — {theme_counts(theme, threshold)}",
                  size=BODY_PT + 2, bold=True, space_after=2)
            if theme.quote:
                _para(doc, f"You said: “{theme.quote}”", space_after=2)
            actions = [a for a in theme.actions]
            if actions:
                for action in actions:
                    owner = f" ({action.owner}" + (f", by {action.due}" if action.due else "") + ")" \
                        if action.owner or action.due else ""
                    _para(doc, f"{WE_SAID.get(action.status, 'We will')}: {action.what}{owner}", space_after=2)
            else:
                _para(doc, "We will: the partnership is deciding what to do about this.", space_after=2)
        _para(doc, QUOTE_NOTE, size=BODY_PT - 3)
    doc.save(target)


def feedback_bytes(sheet: Any) -> bytes:
    import io

    buffer = io.BytesIO()
    write_feedback(sheet, buffer)
    return buffer.getvalue()


def soffice() -> str | None:
    """The LibreOffice program, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(docx: Path, fmt: str, out_dir: Path | None = None, timeout: float = 180) -> Path:
    """Convert a .docx to "pdf" or "png" (the first page) with LibreOffice headless; the converted file's path.

    Each call uses its own LibreOffice profile, so two conversions at once (or an open LibreOffice) do not clash."""
    if fmt not in ("pdf", "png"):
        raise ValueError("fmt must be 'pdf' or 'png'")
    program = soffice()
    if program is None:
        raise FeedbackError("LibreOffice is not installed here, so only the Word file can be made. Install "
                            "LibreOffice (apt-get install libreoffice-writer) for PDF and PNG.")
    out_dir = Path(out_dir or docx.parent)
    with tempfile.TemporaryDirectory(prefix="thrive-lo-") as profile:
        try:
            subprocess.run([program, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                            "--outdir", str(out_dir), str(docx)], check=True, capture_output=True, timeout=timeout)
        except (subprocess.SubprocessError, OSError) as exc:
            raise FeedbackError(f"LibreOffice could not convert the sheet to {fmt.upper()}.") from exc
    result = out_dir / (docx.stem + "." + fmt)
    if not result.exists():
        if fmt == "png":  # Writer's PNG export needs a graphics build; Debian's -nogui packages have none
            return _first_page_png(convert(docx, "pdf", out_dir, timeout), result, timeout)
        raise FeedbackError(f"LibreOffice made no {fmt.upper()} file (is libreoffice-writer installed?).")
    return result


def _first_page_png(pdf: Path, result: Path, timeout: float) -> Path:
    """The PDF's first page as a PNG through poppler's pdftoppm, for a LibreOffice without graphics."""
    program = shutil.which("pdftoppm")
    if program is None:
        raise FeedbackError("This LibreOffice cannot draw PNG pictures (a build without graphics, such as "
                            "libreoffice-writer-nogui) and pdftoppm is not installed; use the PDF, or install "
                            "poppler-utils.")
    try:
        subprocess.run([program, "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(result.with_suffix(""))], check=True, capture_output=True, timeout=timeout)
    except (subprocess.SubprocessError, OSError) as exc:
        raise FeedbackError("The sheet's PDF could not be turned into a PNG picture.") from exc
    if not result.exists():
        raise FeedbackError("pdftoppm made no PNG file.")
    return result


# --- a round comparison added to the Word report ------------------------------------------------------------------

def _share(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"


def comparison_base(cmp: pd.DataFrame) -> str:
    """What the comparison's shares are out of: "people", or "people and post-its" where either round has
    flipchart post-its (each counted once, as an anonymous voice; analysis.findings.compare_rounds)."""
    postits = sum(int(pd.to_numeric(cmp[c], errors="coerce").fillna(0).sum())
                  for c in ("postit_base_a", "postit_base_b") if c in cmp)
    return "people and post-its" if postits else "people"


def comparison_rows(cmp: pd.DataFrame, threshold: int) -> list[list[str]]:
    """The comparison as text rows (question, theme, A, B, change, 95 % interval, status); a suppressed row shows
    "<threshold" counts and no shares."""
    rows = []
    for r in cmp.itertuples():
        if r.suppressed:
            a, b, change, ci = str(r.shown_a), str(r.shown_b), "", ""  # no share: it would give a count away
        else:
            a = f"{_share(r.share_a)} ({r.respondents_a} of {r.base_a})" if r.base_a else "not asked"
            b = f"{_share(r.share_b)} ({r.respondents_b} of {r.base_b})" if r.base_b else "not asked"
            change = "" if pd.isna(r.change) else f"{r.change * 100:+.0f} points"
            ci = "" if pd.isna(r.ci_low) else f"{r.ci_low * 100:+.0f} to {r.ci_high * 100:+.0f}"
            if change and not r.clear:
                ci += " (could be chance)"
        rows.append([str(r.question), str(r.label), str(a), str(b), change, ci, str(r.status)])
    return rows


def append_comparison(path: Path, cmp: pd.DataFrame, name_a: str, name_b: str, threshold: int) -> None:
    """Add a "Compared with <round B>" section to the end of a Word report at `path`."""
    doc = Document(str(path))
    doc.add_heading(f"{name_a} compared with {name_b}", level=1)
    doc.add_paragraph(
        f"Share of the {comparison_base(cmp)} with a coded answer to each question who raised each theme"
        f"{' (each flipchart post-it counted once, as an anonymous voice)' if comparison_base(cmp) != 'people' else ''}"
        f", in {name_a} and in "
        f"{name_b}, the change in percentage points and its 95 % interval (Newcombe's method from Wilson "
        "intervals). A change whose interval includes 0 could be chance. \"Appeared\": nobody raised it in "
        f"{name_b}; \"vanished\": nobody raised it in {name_a}. Counts under {threshold} are not shown.")
    headers = ["Question", "Theme", name_a, name_b, "Change", "95 % interval", "Status"]
    rows = comparison_rows(cmp, threshold)
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = value
    doc.save(str(path))
