"""The Findings page under AppTest: numbers behind the figures, filters, pins for officers, exports, refusals."""

from __future__ import annotations

import pytest

from tests.findings_data import open_tab, seed
from tests.findings_data import run_findings_page as run_page


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def seeded(db, admin):
    return seed(db, admin)


def test_lead_sees_the_numbers_behind_the_figures(seeded, lead):
    at = run_page(lead)
    assert metrics(at) == {"Respondents": "13", "Answers": "14", "Coded": "93%", "Events": "2"}
    assert [t.label for t in at.tabs] == ["Themes", "Groups", "Together", "Words", "Quotes", "Progress", "Export"]
    subheaders = [s.value for s in at.subheader]
    assert "What helps children and young people thrive?" in subheaders
    # every chart has its table and PNG + SVG downloads (tabs are lazy: each is opened in turn)
    downloads = len(at.get("download_button"))
    for label in ("Groups", "Together", "Words", "Progress"):
        downloads += len(open_tab(at, label).get("download_button"))
    assert downloads >= 2 * 5
    open_tab(at, "Quotes")
    assert not [b for b in at.button if b.label in ("Pin", "Unpin")]  # leads do not choose quotes
    # quotes are shown as plain text
    assert any("family" in t.value for t in at.text)


def test_group_filter_changes_every_figure(seeded, lead):
    at = run_page(lead)
    at.multiselect(key="findings_groups").select("young_person").run()
    assert not at.exception
    assert metrics(at)["Respondents"] == "6" and metrics(at)["Answers"] == "7"
    open_tab(at, "Groups")
    heat_table = next(d.value for d in at.dataframe if "base_respondents" in d.value and "group" in d.value)
    assert set(heat_table["group"]) == {"Young person"}


def test_code_and_date_filters(seeded, lead):
    import datetime as dt

    at = run_page(lead)
    at.multiselect(key="findings_codes").select(4).run()  # Barriers theme: its sub-code's answers too
    assert metrics(at)["Answers"] == "2"
    at.multiselect(key="findings_codes").unselect(4).run()
    at.date_input(key="findings_dates").set_value((dt.date(2026, 12, 1), dt.date(2026, 12, 1))).run()
    assert not at.exception
    assert metrics(at)["Respondents"] == "7" and metrics(at)["Events"] == "1"


def test_small_groups_are_suppressed_on_the_page(seeded, lead):
    at = run_page(lead, findings_tab="Groups")
    heat = next(d.value for d in at.dataframe if "shown" in d.value and "group" in d.value)
    practitioners = heat[heat["group"] == "Front-line practitioner"]
    assert set(practitioners["shown"]) == {"<5"}


def test_a_small_group_shows_no_counts(seeded, lead):
    at = run_page(lead)
    at.multiselect(key="findings_groups").select("practitioner").run()
    assert not at.exception
    assert any("Fewer than 5 people" in i.value for i in at.info)
    assert metrics(at)["Respondents"] == "<5"
    for frame in (d.value for d in at.dataframe):
        if "respondents" in frame:
            assert set(frame["respondents"]) <= {"<5", "0"}, frame
        if "base_respondents" in frame:
            assert set(frame["base_respondents"]) == {"<5"}


def test_officer_pins_and_unpins_a_quote(db, seeded, officer):
    at = run_page(officer, findings_quote_code=2, findings_tab="Quotes")
    pins = [b for b in at.button if b.label == "Pin"]
    assert pins
    pins[0].click().run()
    assert not at.exception
    assert db.execute("SELECT COUNT(*) FROM pinned_quotes WHERE code_id = 2").fetchone()[0] == 1
    unpin = [b for b in at.button if b.label == "Unpin"]
    assert len(unpin) == 1
    unpin[0].click().run()
    assert db.execute("SELECT COUNT(*) FROM pinned_quotes").fetchone()[0] == 0


def test_export_is_prepared_with_progress_and_audited(db, seeded, lead):
    at = run_page(lead, findings_tab="Export")
    assert not [c for c in at.checkbox if "original" in c.label.lower()]  # only admins may export originals
    at.radio(key="findings_export_kind").set_value("xlsx")
    at.button(key="findings_prepare").click().run()
    assert not at.exception
    assert at.session_state["findings_export"][1].endswith(".xlsx")
    assert at.session_state["findings_export"][2][:2] == b"PK"
    labels = [b.label for b in at.get("download_button")]
    assert any(label.startswith("Download thrive-voices-xlsx-") for label in labels)
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'export' AND actor = 'sam_lead'").fetchone()[0] == 1


def test_admin_may_include_originals(db, seeded, admin):
    at = run_page(admin, findings_tab="Export")
    at.checkbox(key="findings_originals").check()
    at.radio(key="findings_export_kind").set_value("csv")
    at.button(key="findings_prepare").click().run()
    assert not at.exception
    assert b"answer_original" in at.session_state["findings_export"][2]
    detail = db.execute("SELECT detail FROM audit WHERE action = 'export'").fetchone()[0]
    assert '"with_originals": true' in detail


@pytest.mark.parametrize("role", ["peer_researcher", "safeguarding_lead"])
def test_other_roles_are_refused(seeded, role):
    from data.users import User

    at = run_page(User("someone", frozenset({role})))
    assert at.error and "don't have access" in at.error[0].value
    assert not at.metric and not at.dataframe


def test_empty_database(db_path, lead):
    at = run_page(lead)
    assert "No answers yet" in at.info[0].value


def test_every_chart_renders_to_png_and_svg(db, seeded, lead):
    """The page's PNG/SVG buttons call these (offline, vl-convert) only when clicked; check they all work."""
    from analysis import findings as af
    from data import findings as df
    from exports import charts

    frames = df.load_frames(db, lead, with_text=True)
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    sel = af.select(prep, af.Filter())
    table = af.by_group(sel, "code", threshold=2)
    words, phrases = af.words_and_phrases(sel, "thrive_helps", min_count=1)
    built = [charts.themes_bar(af.theme_shares(sel, "code")), charts.heatmap(table),
             charts.comparison(af.compare_groups(table, "young_person", "parent_carer"), "Young", "Parents"),
             charts.cooccurrence_map(af.cooccurrence(sel, "code", "respondent")), charts.words_bar(words),
             charts.words_bar(phrases, "phrase"), charts.progress_bars(af.progress(sel))]
    for chart in built:
        assert charts.to_png(chart, scale=1).startswith(b"\x89PNG")
        svg = charts.to_svg(chart)
        assert svg.lstrip().startswith("<svg") and "</svg>" in svg
    assert "Friends" in charts.to_svg(built[0])  # labels are in the picture


def test_a_flagged_answer_is_counted_but_neither_quoted_nor_in_the_words(db, seeded, admin, lead):
    from data import flags

    target = seeded["answers"][(6, "thrive_helps")]  # "family support from the centre", quoted when not flagged
    flags.raise_flag(db, admin, kind="manual", reason="worried", response_id=target)
    at = run_page(lead, findings_quote_code=2, findings_tab="Quotes")
    assert metrics(at) == {"Respondents": "13", "Answers": "14", "Coded": "93%", "Events": "2"}  # still counted
    texts = [t.value for t in at.text]
    assert "family support when things are hard" in texts  # the other quotes are there
    assert "family support from the centre" not in texts and flags.WITHHELD_TEXT not in texts
    open_tab(at, "Words")
    for frame in (d.value for d in at.dataframe):
        for col in ("word", "phrase"):
            if col in frame:
                assert not {"centre", "withheld", "safeguarding"} & set(frame[col]), frame
    assert [d for d in at.dataframe if "word" in d.value]  # the words table was there to check


def test_answers_without_any_codebook_yet(db, admin, lead):
    """Answers collected, nothing coded and no codebook: every tab renders; Quotes says why it has none."""
    from data.capture import save_respondent
    from data.events import create_event

    event = create_event(db, admin, name="Family fun day", date="2026-11-20")
    save_respondent(db, admin, event_id=event.id, group_id="young_person", consent=True,
                    answers={"thrive_helps": ["Youth club on Fridays"]})
    at = run_page(lead)
    for label in ("Groups", "Together", "Words", "Progress", "Export"):  # every tab renders
        open_tab(at, label)
    open_tab(at, "Quotes")
    assert any("No codes to quote from yet" in i.value for i in at.info)


def test_chart_specs_carry_title_and_context_and_follow_a_filter(seeded, lead):
    """The charts are drawn from cached Vega-Lite specs (built once per chart data): each still carries its title
    and context lines, fits the column, and a filter change gives the new figures, not the cached ones."""
    import json

    at = run_page(lead)
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    for label in ("Groups", "Together", "Words", "Progress"):
        specs += [json.loads(c.proto.spec) for c in open_tab(at, label).get("vega_lite_chart")]
    open_tab(at, "Themes")
    assert len(specs) >= 5
    assert all(s["width"] == "container" and s["title"]["text"].strip() for s in specs)
    themes = next(s for s in specs if "share of people raising each" in s["title"]["text"])
    assert any("What helps children and young people thrive?" in line for line in themes["title"]["subtitle"])
    at.multiselect(key="findings_groups").select("young_person").run()
    assert not at.exception
    filtered = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    filtered += [json.loads(c.proto.spec) for c in open_tab(at, "Progress").get("vega_lite_chart")]
    lines = [line for s in filtered for line in s["title"]["subtitle"]]
    assert any("Young person" in line for line in lines)  # the filter is in the chart, so the spec is new
