"""Real browser, tablet viewport (issue 12 item 4): engagement rounds and one round compared with the last.

Two rounds are seeded through the data layer (events, answers, codings, an action against a theme). An engagement
officer creates a third round on the Rounds page, puts an event in it and records an action; a strategy lead sees
the rounds, the events and the action, then opens Findings > Compare rounds and finds what a board paper needs:
each theme's share in both rounds with its n, the change with its interval said in words (a clear change and one
that could be chance), a theme that appeared; and downloads the feedback sheet, whose counts are read from the .docx.

Numbers (20 people in each round, one answer each to "What helps children and young people thrive?"; in 2019
also 10 transcribed flipchart post-its, anonymous answers that count once each in a share and never as people):
  "Family and relationships": 6 of 20 people + 0 of 10 post-its in 2019, 16 of 20 in 2026 (+60 points; clear);
  "Things to do and places": 8 + 4 of 30 in 2019, 10 of 20 (+10 points; the interval includes 0: could be chance);
  "Money and housing": nobody in 2019, 6 of 20 in 2026 (appeared);
  "Being listened to" (whoever raised none of those): 12 + 6 of 30, 4 of 20 (under 5: shown as "<5", no share).
The tablet (820 px) shows the comparison table without a sideways swipe, and the change chart labels every row.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document

from data import accounts, actions, codebook, coding, open_db, rounds
from data.capture import add_transcribed, save_respondent
from data.events import create_event
from data.users import User
from tests.browser_support import require_browser, screenshot, sign_in, streamlit_server, tablet_page, wait_for_app

pytestmark = pytest.mark.browser

WAIT_MS = 30_000
PASSWORD = "password123456"
OLD, NEW = "Neglect strategy 2019", "2026 refresh"
OLD_T, NEW_T = f"{OLD} (2019-10-12)", f"{NEW} (2026-11-20)"
ACTION = "Saturday family sessions at the library"
# theme name -> (label, people raising it in 2019, in 2026)
THEMES = {
    "family": ("Family and relationships", 6, 16),
    "places": ("Things to do and places", 8, 10),
    "money": ("Money and housing", 0, 6),
    "listened": ("Being listened to", 12, 4),  # everyone who raises none of the others: everyone has a coded answer
}
POSTITS_2019 = {"places": 4, "listened": 6}  # 10 flipchart post-its at the 2019 forum, one theme each


def _event_with_answers(db, admin, name: str, date: str, which: int) -> str:
    """An event with 20 young people, each with one answer coded with the themes THEMES gives them (index 1 for
    2019, 2 for 2026): person i raises a theme when i < its count."""
    event = create_event(db, admin, name=name, date=date, venue="Youth club")
    pairs = []
    for i in range(20):
        raised = [code for code, counts in THEMES.items() if code != "listened" and i < counts[which]]
        raised = raised or ["listened"]
        saved = save_respondent(db, admin, event_id=event.id, group_id="young_person", consent=True,
                                answers={"thrive_helps": [f"answer {i} at {name}"]}, submission_token=f"{date}-{i}")
        response_id = db.execute("SELECT id FROM responses WHERE respondent_id = ?",
                                 [saved.respondent_id]).fetchone()[0]
        pairs += [(response_id, code) for code in raised]
    coding.apply_many(db, admin, pairs)
    return event.id


def seed_rounds(path: Path) -> None:
    """Accounts (admin, the engagement officer olu, the strategy lead sam), a codebook of three themes, two rounds
    of 20 people each, an action against a theme in the 2026 round, and one event in no round yet."""
    db = open_db(path)
    try:
        accounts.create_user(db, None, "admin", PASSWORD, ["admin"])
        admin = User("admin", frozenset({"admin"}))
        accounts.create_user(db, admin, "olu", PASSWORD, ["engagement_officer"], display_name="Olu")
        accounts.create_user(db, admin, "sam", PASSWORD, ["strategy_lead"], display_name="Sam")
        for name, (label, _, _) in THEMES.items():
            codebook.create_code(db, admin, name, label, definition=f"What people said about {label.lower()}")
        old_event = _event_with_answers(db, admin, "Youth forum", "2019-10-12", 1)
        for code, count in POSTITS_2019.items():
            for i in range(count):
                made = add_transcribed(db, admin, event_id=old_event, question_id="thrive_helps",
                                       group_id="young_person", text=f"post-it {code} {i}")
                coding.apply_many(db, admin, [(made.response_id, code)])
        new_event = _event_with_answers(db, admin, "Family fun day", "2026-11-20", 2)
        create_event(db, admin, name="Spring fair", date="2027-04-18", venue="Town park")
        old = rounds.create_round(db, admin, OLD)
        new = rounds.create_round(db, admin, NEW)
        rounds.assign_events(db, admin, old.id, [old_event])
        rounds.assign_events(db, admin, new.id, [new_event])
        actions.add_action(db, admin, new.id, "family", ACTION, owner="Early help", due="2027-03-31",
                           status="in_progress")
    finally:
        db.conn.close()


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "rounds.db"
    seed_rounds(path)
    return path


def grid(page, index: int = -1) -> list[dict[str, str]]:
    """The rows of a st.dataframe as a person sees them, swiping it sideways on a tablet: the grid draws on a
    canvas and keeps an accessible table of only the columns in view, so this reads it at each scroll position."""
    frame = page.locator('[data-testid="stDataFrame"]:visible').nth(index)
    frame.scroll_into_view_if_needed()
    scroller = frame.locator(".dvn-scroller").first
    headers: dict[int, str] = {}
    cells: dict[tuple[int, int], str] = {}
    for _ in range(20):
        wait_for_app(page)
        for th in frame.locator("th[role=columnheader]").all():
            headers[int(th.get_attribute("aria-colindex"))] = th.inner_text().strip()
        for td in frame.locator("td[role=gridcell]").all():
            row = int(td.locator("xpath=..").get_attribute("aria-rowindex"))
            cells[(row, int(td.get_attribute("aria-colindex")))] = td.inner_text().strip()
        done = scroller.evaluate("s => { const end = s.scrollLeft + s.clientWidth >= s.scrollWidth - 1;"
                                 " s.scrollLeft += s.clientWidth * 0.8; return end; }")
        if done:
            break
    rows = sorted({r for r, _ in cells})
    return [{headers.get(c, str(c)): cells.get((r, c), "") for c in sorted(headers)} for r in rows]


def choose(page, key: str, option: str) -> None:
    """Open the select box or multiselect with this key and tap an option, as a person would."""
    page.locator(f".st-key-{key} input").first.tap()
    page.get_by_role("option", name=option).tap()
    page.keyboard.press("Escape")  # a multiselect stays open after a choice, over what follows it
    wait_for_app(page)


def round_box(page):
    """The Rounds page's round chooser (while the page reruns, the one being replaced is marked stale)."""
    return page.locator('.st-key-rounds_choice_box [data-stale="false"] input[role=combobox]')


def tall(page, name: str) -> Path:
    """A screenshot of the whole page: the app scrolls inside its own container, so the viewport is made tall for
    the picture and put back to the tablet's size afterwards."""
    page.set_viewport_size({"width": 820, "height": 2400})
    wait_for_app(page)
    path = screenshot(page, name)
    page.set_viewport_size({"width": 820, "height": 1180})
    wait_for_app(page)
    return path


def test_an_officer_creates_a_round_puts_an_event_in_it_and_records_an_action(seeded):
    from playwright.sync_api import expect

    executable = require_browser()
    with streamlit_server(seeded) as url, tablet_page(executable) as page:
        sign_in(page, url, "olu", PASSWORD, "rounds")
        expect(page.get_by_role("heading", name="Engagement rounds")).to_be_visible(timeout=WAIT_MS)
        expect(round_box(page)).to_have_value(NEW_T, timeout=WAIT_MS)  # the latest round
        page.get_by_text("New round").tap()
        page.get_by_label("Name").fill("2027 follow-up")
        page.get_by_role("button", name="Create round").tap()
        expect(round_box(page)).to_have_value("2027 follow-up", timeout=WAIT_MS)
        expect(page.get_by_text("No events in this round yet.")).to_be_visible(timeout=WAIT_MS)
        choose(page, "rounds_add_events", "Spring fair (2027-04-18)")
        page.get_by_role("button", name="Add to this round").tap()
        expect(round_box(page)).to_have_value("2027 follow-up (2027-04-18)", timeout=WAIT_MS)
        expect(page.locator('[data-testid="stDataFrame"] td[role=gridcell]').first).to_have_text(
            "Spring fair", timeout=WAIT_MS)
        tall(page, "rounds_officer_events")
        page.get_by_role("tab", name="You said, we did").tap()
        expect(page.get_by_text("No actions recorded for this round yet.")).to_be_visible(timeout=WAIT_MS)
        choose(page, "rounds_action_theme", "Things to do and places")
        page.get_by_label("What the partnership will do").fill("A youth bus in the town park on Fridays")
        page.get_by_label("Owner").fill("Youth service")
        page.get_by_role("button", name="Record action").tap()
        expect(page.get_by_text("No actions recorded for this round yet.")).to_have_count(0, timeout=WAIT_MS)
        tall(page, "rounds_officer_action")
        rows = grid(page, 0)
        assert rows == [{"Theme": "Things to do and places", "People said": "nobody in this round",  # no answers yet
                         "Action": "A youth bus in the town park on Fridays", "Status": "Planned",
                         "Who, by when": "Youth service"}]
    db = open_db(seeded)
    try:
        admin = User("admin", frozenset({"admin"}))
        made = rounds.get_round(db, admin, "2027 follow-up")
        assert [e.name for e in rounds.round_events(db, admin, made.id)] == ["Spring fair"]
        assert [(a.label, a.owner) for a in actions.list_actions(db, admin, made.id)] == [
            ("Things to do and places", "Youth service")]
    finally:
        db.conn.close()


def test_a_strategy_lead_sees_the_rounds_and_compares_this_round_with_the_last(seeded):
    from playwright.sync_api import expect

    from analysis.findings import newcombe_interval

    executable = require_browser()
    with streamlit_server(seeded) as url, tablet_page(executable) as page:
        sign_in(page, url, "sam", PASSWORD, "rounds")
        expect(page.get_by_role("heading", name="Engagement rounds")).to_be_visible(timeout=WAIT_MS)
        expect(round_box(page)).to_have_value(NEW_T, timeout=WAIT_MS)  # the latest round first
        expect(page.get_by_text("New round")).to_have_count(0)  # a lead reads rounds; officers make them
        expect(page.get_by_role("button", name="Add to this round")).to_have_count(0)
        expect(page.locator('[data-testid="stDataFrame"]:visible td[role=gridcell]').first).to_have_text(
            "Family fun day", timeout=WAIT_MS)
        page.get_by_role("tab", name="You said, we did").tap()
        expect(page.get_by_text(ACTION)).to_have_count(1, timeout=WAIT_MS)
        tall(page, "rounds_lead_actions")
        action = grid(page, 0)
        assert action == [{"Theme": "Family and relationships", "People said": "raised by 16 of 20 people (80%)",
                           "Action": ACTION, "Status": "In progress", "Who, by when": "Early help, by 2027-03-31"}]
        expect(page.get_by_role("button", name="Record action")).to_have_count(0)
        choose(page, "rounds_choice_box", OLD_T)
        expect(round_box(page)).to_have_value(OLD_T, timeout=WAIT_MS)
        expect(page.get_by_text("No actions recorded for this round yet.")).to_be_visible(timeout=WAIT_MS)

        # the feedback sheet of this round, as the lead downloads it
        choose(page, "rounds_choice_box", NEW_T)
        expect(round_box(page)).to_have_value(NEW_T, timeout=WAIT_MS)
        page.get_by_role("tab", name="Feedback sheet").tap()
        page.get_by_role("button", name="Prepare the feedback sheet (Word)").tap()
        download_button = page.get_by_role("button", name="Download the feedback sheet")
        expect(download_button).to_be_visible(timeout=WAIT_MS)
        with page.expect_download() as download:
            download_button.tap()
        doc = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
        sheet = "\n".join(p.text for p in doc.paragraphs)
        assert "Thank you: 20 people told us" in sheet and "post-it" not in sheet
        assert "Family and relationships — raised by 16 of 20 people (80%)" in sheet
        assert f"We are doing: {ACTION} (Early help, by 2027-03-31)" in sheet

        # Findings > Compare rounds: this round against the last
        page.goto(f"{url}/findings")
        expect(page.get_by_role("heading", name="Findings")).to_be_visible(timeout=WAIT_MS)
        # the Themes tab counts each post-it once beside the people, and says so (40 people, 10 post-its)
        expect(page.get_by_text("Share of the 50 people and post-its with a coded answer to this question",
                                exact=False)).to_be_visible(timeout=WAIT_MS)
        tall(page, "rounds_lead_themes")
        page.get_by_role("tab", name="Compare rounds").tap()
        panel = page.locator("[role=tabpanel]:visible")
        expect(panel.get_by_role("combobox", name="Round")).to_have_value(NEW_T, timeout=WAIT_MS)
        expect(panel.get_by_role("combobox", name="compared with")).to_have_value(OLD_T)
        postits = sum(POSTITS_2019.values())
        old_n = 20 + postits  # people and post-its with a coded answer in 2019
        low, high = (float(x) for x in newcombe_interval(16, 20, 6, old_n))
        said = (f"• Family and relationships: 80% in {NEW_T} vs 20% in {OLD_T} (60 points more; 95 % interval "
                f"{low * 100:+.0f} to {high * 100:+.0f})")
        expect(panel.get_by_text(said, exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(panel.get_by_text("Could be chance (the 95 % interval includes no change): Things to do and places",
                                 exact=True)).to_be_visible()
        expect(panel.get_by_text(f"New in {NEW_T} (nobody raised it in {OLD_T}): Money and housing",
                                 exact=True)).to_be_visible()
        # post-its are named as post-its, never people; how many answers came from flipcharts is said
        expect(panel.get_by_text(f"{OLD_T}: 20 people and {postits} of its {20 + postits} answers came from "
                                 f"{postits} flipchart post-its.", exact=True)).to_be_visible()
        expect(panel.get_by_text(f"{NEW_T}: 20 people and no flipchart post-its.", exact=True)).to_be_visible()
        expect(panel.get_by_text(f"{OLD_T}: 20 people and {postits} post-its with a coded answer",
                                 exact=False)).to_be_visible()
        expect(panel.get_by_text("Share of the people and post-its with a coded answer", exact=False)).to_be_visible()
        tall(page, "rounds_lead_compare")
        # at 820 px the whole table is in view: no sideways swipe, every column read at the first position
        frame = panel.locator('[data-testid="stDataFrame"]').last
        frame.scroll_into_view_if_needed()
        wait_for_app(page)
        scroller = frame.locator(".dvn-scroller").first
        assert scroller.evaluate("s => s.scrollWidth <= s.clientWidth + 1"), "the table needs a sideways swipe"
        box, view = frame.bounding_box(), page.viewport_size
        assert box["x"] >= 0 and box["x"] + box["width"] <= view["width"]
        screenshot(page, "rounds_lead_compare_table")
        headers = [th.inner_text().strip() for th in frame.locator("th[role=columnheader]").all()]
        assert headers == ["Theme", NEW, OLD, "Change (95 % interval)"]
        table = {r["Theme"]: r for r in grid(page, -1)}
        assert set(table) == {label for label, _, _ in THEMES.values()}

        def cell(k: int, n: int) -> str:
            return f"<5 of {n}" if 0 < k < 5 else f"{k / n:.0%} ({k} of {n})"

        for code, (label, n_old, n_new) in THEMES.items():
            row = table[label]
            k_old = n_old + POSTITS_2019.get(code, 0)
            assert (row[NEW], row[OLD]) == (cell(n_new, 20), cell(k_old, old_n)), label
            if n_new < 5:  # too few: no change
                assert row["Change (95 % interval)"] == "not shown (a count under 5)", label
                continue
            lo, hi = (float(x) * 100 for x in newcombe_interval(n_new, 20, k_old, old_n))
            words = f"{(n_new / 20 - k_old / old_n) * 100:+.0f} points ({lo:+.0f} to {hi:+.0f})"
            if code == "money":
                words = "new: " + words
            if lo <= 0 <= hi:
                words += ", could be chance"
            assert row["Change (95 % interval)"] == words, label
        assert table["Things to do and places"]["Change (95 % interval)"].endswith("could be chance")
        assert "could be chance" not in table["Family and relationships"]["Change (95 % interval)"]
