"""Translations of pinned quotes (issue 12 item 3): stored exactly by who may pin, audited without the text, shown
under the quote in the report, in the quotes table and on the Findings page, carried by bundles."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from analysis import findings as af
from data import bundle, flags, open_db
from data import findings as df
from data.capture import save_respondent
from data.users import PermissionDenied
from exports import report, tables, xlsx
from tests.findings_data import run_findings_page as run_page
from tests.findings_data import seed

URDU = "بچوں کو پیار اور وقت دینا سب سے ضروری ہے"
HOSTILE = [
    "Giving children love and time matters most.",
    "خاندان کا ساتھ",                       # right-to-left
    "family 👨‍👩‍👧 and 🏠",                # emoji with zero-width joiners
    "=cmd|' /C calc'!A0",                    # formula-like
    "<script>alert(1)</script><b>bold</b>",  # HTML
    "  spaces kept  \nand a second line",
]


@pytest.fixture
def seeded(db, admin):
    return seed(db, admin)


@pytest.fixture
def pinned(db, seeded, officer) -> str:
    rid = seeded["answers"][(7, "thrive_helps")]  # "family support when things are hard", code 2
    df.pin_quote(db, officer, 2, rid)
    return rid


def stored(db, rid: str, code_id: int = 2):
    row = db.execute("SELECT translation FROM pinned_quotes WHERE code_id = ? AND response_id = ?",
                     [code_id, rid]).fetchone()
    return None if row is None else row[0]


def quotes(db, user, code_id: int = 2):
    frames = df.load_frames(db, user, with_text=True)
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    return af.quotes(af.select(prep, af.Filter()), code_id, 5)


# --- the core -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", HOSTILE)
def test_a_translation_is_stored_exactly(db, pinned, officer, text):
    df.set_quote_translation(db, officer, 2, pinned, text)
    assert stored(db, pinned) == text


def test_empty_or_blank_clears_it(db, pinned, officer):
    df.set_quote_translation(db, officer, 2, pinned, "Family support")
    df.set_quote_translation(db, officer, 2, pinned, "   ")
    assert stored(db, pinned) is None
    df.set_quote_translation(db, officer, 2, pinned, "Family support")
    df.set_quote_translation(db, officer, 2, pinned, "")
    assert stored(db, pinned) is None


def test_who_may_not_pin_may_not_translate(db, pinned, lead, researcher):
    for user in (lead, researcher):
        with pytest.raises(PermissionDenied):
            df.set_quote_translation(db, user, 2, pinned, "Family support")
    assert stored(db, pinned) is None


def test_only_a_pinned_quote_can_carry_one(db, seeded, officer):
    rid = seeded["answers"][(7, "thrive_helps")]
    with pytest.raises(df.FindingsError, match="pin the answer first"):
        df.set_quote_translation(db, officer, 2, rid, "Family support")
    assert db.execute("SELECT COUNT(*) FROM pinned_quotes").fetchone()[0] == 0


def test_too_long_is_refused_and_nothing_written(db, pinned, officer):
    df.set_quote_translation(db, officer, 2, pinned, "kept")
    with pytest.raises(df.FindingsError, match="limit"):
        df.set_quote_translation(db, officer, 2, pinned, "x" * (df.MAX_TRANSLATION_CHARS + 1))
    assert stored(db, pinned) == "kept"
    df.set_quote_translation(db, officer, 2, pinned, "y" * df.MAX_TRANSLATION_CHARS)  # the limit itself is fine
    assert len(stored(db, pinned)) == df.MAX_TRANSLATION_CHARS


def test_a_withheld_answer_cannot_be_translated(db, pinned, officer, admin):
    flags.raise_flag(db, admin, kind="manual", reason="worried", response_id=pinned)
    with pytest.raises(df.FindingsError, match="withheld"):
        df.set_quote_translation(db, officer, 2, pinned, "Family support")
    assert stored(db, pinned) is None


def test_the_audit_names_the_quote_never_the_text(db, pinned, officer):
    secret = "Translation words 7Q9 that must not be audited"
    df.set_quote_translation(db, officer, 2, pinned, secret)
    df.set_quote_translation(db, officer, 2, pinned, "")
    rows = db.execute("SELECT actor, target_id, detail FROM audit WHERE action = 'translate_quote' ORDER BY id").fetchall()
    assert [(a, t) for a, t, _ in rows] == [("olu_officer", pinned), ("olu_officer", pinned)]
    assert [json.loads(d) for _, _, d in rows] == [{"code_id": 2, "cleared": False}, {"code_id": 2, "cleared": True}]
    everything = " ".join(str(v) for row in db.execute("SELECT * FROM audit").fetchall() for v in row)
    assert "7Q9" not in everything


def test_a_change_moves_the_findings_version_and_the_same_text_does_not(db, pinned, officer):
    before = df.data_version(db)
    df.set_quote_translation(db, officer, 2, pinned, "Family support")
    after = df.data_version(db)
    assert after != before  # the page's cached quotes are reloaded
    df.set_quote_translation(db, officer, 2, pinned, "Family support")
    assert df.data_version(db) == after


def test_unpinning_drops_the_translation_and_a_code_merge_keeps_it(db, pinned, officer, admin):
    from data import codebook

    df.set_quote_translation(db, officer, 2, pinned, "Family support")
    df.unpin_quote(db, officer, 2, pinned)
    df.pin_quote(db, officer, 2, pinned)
    assert stored(db, pinned) is None  # a new pin starts without the old one's translation
    df.set_quote_translation(db, officer, 2, pinned, "Family support")
    codebook.merge_codes(db, admin, "family_love", "friends_social")
    assert stored(db, pinned, code_id=3) == "Family support"


# --- the findings table, the report and the spreadsheet -----------------------------------------------------------

def test_quotes_carry_the_pins_translation_and_blank_elsewhere(db, pinned, officer, lead, admin):
    df.set_quote_translation(db, officer, 2, pinned, HOSTILE[3])
    q = quotes(db, lead)
    assert "translation" in q.columns
    by_id = dict(zip(q["response_id"], q["translation"], strict=True))
    assert by_id[pinned] == HOSTILE[3]
    assert len(by_id) > 1 and all(t == "" for r, t in by_id.items() if r != pinned)
    assert q.loc[q["translation"] != "", "pinned"].all()
    # the same answer pinned to another code carries that pin's translation only (none here)
    df.pin_quote(db, officer, 1, pinned)
    q1 = quotes(db, lead, code_id=1)
    assert dict(zip(q1["response_id"], q1["translation"], strict=True))[pinned] == ""
    # withheld: the quote goes, and its translation with it
    flags.raise_flag(db, admin, kind="manual", reason="worried", response_id=pinned)
    q = quotes(db, lead)
    assert pinned not in set(q["response_id"]) and HOSTILE[3] not in set(q["translation"])


def test_quotes_without_a_translation_column_in_the_pins(db, pinned, lead):
    frames = df.load_frames(db, lead, with_text=True)
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins.drop(columns=["translation"]),
                      frames.questions, frames.groups)
    q = af.quotes(af.select(prep, af.Filter()), 2, 5)
    assert (q["translation"] == "").all() and q["pinned"].any()


def test_the_report_shows_the_translation_under_an_urdu_quote(db, seeded, officer, lead, admin):
    event = seeded["events"]["e2"]
    saved = save_respondent(db, admin, event_id=event, group_id="parent_carer", consent=True, language="ur",
                            answers={"thrive_helps": [URDU]})
    (rid,) = [r for (r,) in db.execute("SELECT id FROM responses WHERE respondent_id = ?", [saved.respondent_id])]
    db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, 2, 'olu_officer', '2026-12-01')",
               [rid])
    db.conn.commit()
    df.pin_quote(db, officer, 2, rid)
    df.set_quote_translation(db, officer, 2, rid, "Giving children love and time matters most.")
    doc = Document(io.BytesIO(report.report_bytes(tables.build(df.load_frames(db, lead, with_text=True)))))
    paras = doc.paragraphs
    (i,) = [k for k, p in enumerate(paras) if URDU in p.text]
    quote = paras[i]
    assert quote._p.pPr.find(qn("w:bidi")) is not None  # marked right-to-left
    assert paras[i + 1].text == "Translation: \u201cGiving children love and time matters most.\u201d"
    assert "chosen by the engagement team" in paras[i + 2].text
    # an untranslated quote has no translation line
    body = [p.text for p in paras]
    assert sum(t.startswith("Translation:") for t in body) == 1


def test_the_quotes_sheet_has_a_translation_column_made_inert(db, pinned, officer, lead):
    df.set_quote_translation(db, officer, 2, pinned, HOSTILE[3])
    wb = load_workbook(io.BytesIO(xlsx.workbook_bytes(tables.build(df.load_frames(db, lead, with_text=True)))))
    ws = wb["Quotes"]
    rows = list(ws.iter_rows())
    (header,) = [r for r in rows if any(c.value == "quote_redacted" for c in r)]
    names = [c.value for c in header]
    assert names[-1] == "translation" and names[-2] == "pinned"
    col = names.index("translation")
    (row,) = [r for r in rows[rows.index(header) + 1:] if r[col].value]
    cell = row[col]
    assert cell.value == HOSTILE[3]
    assert cell.data_type == "s" and cell.quotePrefix  # text, never a formula
    assert row[names.index("quote_redacted")].value == "family support when things are hard"


def test_the_csv_quotes_table_rows_carry_the_translation(db, pinned, officer, lead):
    df.set_quote_translation(db, officer, 2, pinned, "Family support")
    table = tables.quotes_table(tables.build(df.load_frames(db, lead, with_text=True)))
    assert table.headers[-1] == "translation" and len(table.widths) == len(table.headers)
    rows = list(table.rows())
    assert [r[-1] for r in rows if r[-1]] == ["Family support"]
    assert all(len(r) == len(table.headers) for r in rows)


# --- the Findings page --------------------------------------------------------------------------------------------



def test_an_officer_saves_and_clears_a_translation_on_the_quotes_tab(db, pinned, officer):
    at = run_page(officer, findings_quote_code=2, findings_tab="Quotes")
    assert len([b for b in at.button if b.label == "Save translation"]) == 1  # the pinned quote only
    box = at.text_input(key=f"findings_translation_2_{pinned}")
    assert box.value == ""
    box.set_value(HOSTILE[4])
    [b for b in at.button if b.label == "Save translation"][0].click().run()
    assert not at.exception, at.exception
    assert stored(db, pinned) == HOSTILE[4]
    assert f"Translation: \u201c{HOSTILE[4]}\u201d" in [t.value for t in at.text]  # plain text, not HTML
    assert not [m for m in at.markdown if "<script>" in m.value]
    at.text_input(key=f"findings_translation_2_{pinned}").set_value("")
    [b for b in at.button if b.label == "Save translation"][0].click().run()
    assert not at.exception, at.exception
    assert stored(db, pinned) is None
    assert not [t for t in at.text if t.value.startswith("Translation:")]


def test_a_lead_sees_the_translation_but_no_box(db, pinned, officer, lead):
    df.set_quote_translation(db, officer, 2, pinned, "Family support")
    at = run_page(lead, findings_quote_code=2, findings_tab="Quotes")
    assert "Translation: \u201cFamily support\u201d" in [t.value for t in at.text]
    assert not [b for b in at.button if b.label == "Save translation"] and not at.text_input


# --- bundles ------------------------------------------------------------------------------------------------------

def _bundle(db, admin) -> bytes:
    out = io.BytesIO()
    bundle.export_bundle(db, admin, out)
    return out.getvalue()


def _without_translations(data: bytes) -> bytes:
    """The same bundle as a version before 0026 wrote it: no translation in its pins, the migration not in its
    schema, the manifest's checksum of the part matching."""
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        items = {name: zin.read(name) for name in zin.namelist()}
    pins = [json.loads(line) for line in items["pinned_quotes.jsonl"].decode().splitlines() if line.strip()]
    for pin in pins:
        pin.pop("translation")
    items["pinned_quotes.jsonl"] = bundle._jsonl(pins)
    manifest = json.loads(items[bundle.MANIFEST])
    manifest["parts"]["pinned_quotes.jsonl"] = hashlib.sha256(items["pinned_quotes.jsonl"]).hexdigest()
    manifest["schema"] = [m for m in manifest["schema"] if m != "0026_quote_translations"]
    items[bundle.MANIFEST] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, blob in items.items():
            zout.writestr(name, blob)
    return out.getvalue()


def _hub_pins(path: Path) -> dict:
    hub = open_db(path)
    try:
        return {rid: t for rid, t in hub.execute("SELECT response_id, translation FROM pinned_quotes").fetchall()}
    finally:
        hub.conn.close()


def _merge(path: Path, data: bytes, admin) -> bundle.BundleReport:
    hub = open_db(path)
    try:
        return bundle.import_bundle(hub, admin, io.BytesIO(data))
    finally:
        hub.conn.close()


def test_a_translation_travels_in_a_bundle(db, pinned, officer, admin, tmp_path):
    df.set_quote_translation(db, officer, 2, pinned, HOSTILE[1])
    with_translation = _bundle(db, admin)
    old = _without_translations(with_translation)
    # an old bundle first: the pin arrives without one, then the new bundle fills it in; twice changes nothing
    hub = tmp_path / "hub.db"
    _merge(hub, old, admin)
    assert _hub_pins(hub) == {pinned: None}
    report_ = _merge(hub, with_translation, admin)
    assert _hub_pins(hub) == {pinned: HOSTILE[1]} and report_.tables["pinned_quotes"].updated == 1
    assert _merge(hub, with_translation, admin).tables["pinned_quotes"].present == 1
    _merge(hub, old, admin)  # a bundle without one never clears it
    assert _hub_pins(hub) == {pinned: HOSTILE[1]}
    # the other order ends the same
    other = tmp_path / "other.db"
    _merge(other, with_translation, admin)
    _merge(other, old, admin)
    assert _hub_pins(other) == {pinned: HOSTILE[1]}


def test_two_different_translations_are_a_conflict_and_the_local_one_stays(db, pinned, officer, admin, tmp_path):
    df.set_quote_translation(db, officer, 2, pinned, "Family support")
    hub = tmp_path / "hub.db"
    _merge(hub, _bundle(db, admin), admin)
    df.set_quote_translation(db, officer, 2, pinned, "Support from family")
    result = _merge(hub, _bundle(db, admin), admin)
    assert result.tables["pinned_quotes"].conflicts == 1
    assert any("different translation" in c for c in result.conflicts)
    assert _hub_pins(hub) == {pinned: "Family support"}


def test_personal_details_typed_into_a_translation_are_never_published(db, pinned, officer, lead):
    """Stored as typed, but published (quotes, report, tables) through the same redaction as every answer: an officer
    who translates the original words instead of the redacted ones must not put a phone number into the report."""
    typed = "Ring my mum on 07700 900123 or write to sam.jones@example.org, she helps"
    df.set_quote_translation(db, officer, 2, pinned, typed)
    assert db.execute("SELECT translation FROM pinned_quotes WHERE response_id = ?", [pinned]).fetchone()[0] == typed
    shown = dict(zip(*[quotes(db, lead)[c] for c in ("response_id", "translation")], strict=True))[pinned]
    assert "07700" not in shown and "example.org" not in shown and "[phone]" in shown and "she helps" in shown
    doc = "\n".join(p.text for p in Document(io.BytesIO(report.report_bytes(
        tables.build(df.load_frames(db, lead, with_text=True))))).paragraphs)
    assert "07700" not in doc and "example.org" not in doc
