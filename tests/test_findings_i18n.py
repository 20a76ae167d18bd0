"""The Findings page in Urdu (issue 9 item 6): every key it asks for is in every catalogue, and with Urdu chosen at
sign-in each tab opens (strict mode: a missing key raises) and shows its words in Urdu, not English."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests.findings_data import open_tab, seed
from tests.findings_data import run_findings_page as run_page
from tests.test_i18n import catalogue_keys_asked_for
from ui import session
from ui.i18n import catalogue, languages, t

PAGE = Path(__file__).resolve().parent.parent / "pages" / "findings.py"
UR = "ur"


def _tree() -> ast.Module:
    return ast.parse(PAGE.read_text(encoding="utf-8"))


def _page_constant(name: str):
    """A module-level constant of the page (a tuple or list of literals), read from its source."""
    for node in _tree().body:
        if isinstance(node, ast.Assign) and any(getattr(x, "id", None) == name for x in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not a literal constant of pages/findings.py any more: update this test")


#: the keys the page builds with an f-string, each pattern (as ast.unparse writes it) with every key it can make;
#: a new pattern fails test_every_key_the_page_asks_for_is_in_every_language until it is listed here
def _built_keys() -> dict[str, list[str]]:
    tabs = ["themes", "groups", "together", "words", "quotes", "progress", "export", "compare"]
    kinds = ["xlsx", "csv", "report", "qdpx", "qdc"]
    return {
        "f'findings.col.{c}'": [f"findings.col.{c}" for c in _page_constant("COLUMNS")],
        "FILTER_NAMES[k]": list(_page_constant("FILTER_NAMES").values()),
        "f'findings.tab.{k}'": [f"findings.tab.{k}" for k in tabs],
        "f'findings.export.kind.{k}'": [f"findings.export.kind.{k}" for k in kinds],
        "f'findings.export.preparing.{kind}'": [f"findings.export.preparing.{k}" for k in kinds],
        "f\"findings.level.{('theme' if v == 'Themes' else 'code')}\"": ["findings.level.theme", "findings.level.code"],
        "f'findings.level.{level}' + ('' if form == 'name' else f'.{form}')": [
            f"findings.level.{level}{form}" for level in ("theme", "code")
            for form in ("", ".plural", ".one", ".header")],
        "f'findings.together.{unit}'": ["findings.together.answer", "findings.together.respondent"],
        "f'findings.together.{u}'": ["findings.together.answer", "findings.together.respondent"],
        "f'findings.together.{unit}s'": ["findings.together.answers", "findings.together.respondents"],
    }


def keys_the_page_asks_for() -> tuple[set[str], set[str]]:
    """Every catalogue key the page's t(...) calls ask for, and the f-string patterns this test cannot expand."""
    return catalogue_keys_asked_for(_tree(), _built_keys())


@pytest.mark.parametrize("lang", languages())
def test_every_key_the_page_asks_for_is_in_every_language(lang):
    keys, unknown = keys_the_page_asks_for()
    assert unknown == set(), "a key built in a way this test cannot expand: list it in _built_keys"
    assert len(keys) > 150  # the finder found the page's calls (it would find none if t were renamed)
    assert sorted(k for k in keys if k not in catalogue(lang)) == []


def test_the_page_keys_are_its_own_and_none_is_unused():
    """Every key of findings.yaml is asked for by the page (a stale key would be translated for nothing)."""
    keys, _ = keys_the_page_asks_for()
    assert all(k.startswith("findings.") for k in keys)
    ours = {k for k in catalogue("en") if k.startswith("findings.")}
    assert sorted(ours - keys) == []


# --- the page in Urdu ---------------------------------------------------------------------------------------------

@pytest.fixture
def seeded(db, admin):
    return seed(db, admin)


def urdu_page(user, **state):
    return run_page(user, **{session.LANGUAGE_KEY: UR, **state})


def _english_texts() -> set[str]:
    """The page's English texts that an Urdu page must not show (long enough not to be a product name)."""
    english, urdu = catalogue("en"), catalogue(UR)
    return {v for k, v in english.items() if k.startswith("findings.") and len(v) > 3 and "{" not in v
            and urdu[k] != v}


def shown_words(at) -> list[str]:
    """Every text of the page a person reads: headings, messages, widget labels and help, tabs, metrics."""
    words = [e.value for kind in ("title", "subheader", "caption", "info", "warning", "error", "text")
             for e in getattr(at, kind)]
    words += [tab.label for tab in at.tabs] + [e.label for e in at.expander]
    for kind in ("button", "selectbox", "multiselect", "radio", "checkbox", "toggle", "text_input", "date_input",
                 "metric"):
        for widget in getattr(at, kind):
            words.append(widget.label)
            words.append(getattr(widget.proto, "help", "") or "")
    for kind in ("selectbox", "multiselect", "radio"):
        for widget in getattr(at, kind):
            words += [str(o) for o in widget.options]
    for group in at.get("button_group"):  # segmented controls
        words += [group.proto.label, group.proto.help] + [o.content for o in group.proto.options]
    return [w for w in words if w]


def english_left_in(at) -> list[str]:
    unescaped = [session_unescape(w) for w in shown_words(at)]
    english = _english_texts()
    return sorted({w for w in unescaped if w in english or any(len(e) > 20 and e in w for e in english)})


def session_unescape(text: str) -> str:
    import re

    return re.sub(r"\\(.)", r"\1", text).replace("&#58;", ":")


def test_the_urdu_page_shows_urdu_words_and_no_english_ones(seeded, lead):
    at = urdu_page(lead)
    assert [x.value for x in at.title] == [t("findings.title", UR)] and t("findings.title", UR) != "Findings"
    assert [tab.label for tab in at.tabs] == [t(f"findings.tab.{k}", UR) for k in
                                              ("themes", "groups", "together", "words", "quotes", "progress",
                                               "export")]
    assert {m.label: m.value for m in at.metric} == {t("findings.metric.respondents", UR): "13",
                                                     t("findings.metric.answers", UR): "14",
                                                     t("findings.metric.coded", UR): "93%",
                                                     t("findings.metric.events", UR): "2"}
    assert "Respondents" not in [m.label for m in at.metric]
    # the question is stored text: it stays as the question set has it
    assert "What helps children and young people thrive?" in [s.value for s in at.subheader]
    # sub-codes by default here; 12 of the 13 people have a coded answer to the first question
    assert t("findings.themes.caption", UR, base="12", voices="لوگ", level="ذیلی کوڈ") in [c.value for c in at.caption]
    assert english_left_in(at) == []
    # the chart carries its title and context lines in Urdu too
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["title"]["text"] == t("findings.themes.chart_title", UR, level=t("findings.level.theme", UR),
                                      voices=t("findings.voices.people", UR)) or \
        spec["title"]["text"] == t("findings.themes.chart_title", UR, level=t("findings.level.code", UR),
                                   voices=t("findings.voices.people", UR))
    assert any(line.startswith("فلٹر: ") for line in spec["title"]["subtitle"])
    assert not any("Filters:" in line or "with a coded answer" in line for line in spec["title"]["subtitle"])


@pytest.mark.parametrize("tab", ["groups", "together", "words", "quotes", "progress", "export"])
def test_every_tab_opens_in_urdu(seeded, lead, tab):
    at = open_tab(urdu_page(lead), t(f"findings.tab.{tab}", UR))
    assert not at.exception
    assert english_left_in(at) == []
    expected = {"groups": t("findings.groups.who", UR), "together": t("findings.together.unit", UR),
                "words": t("findings.words.question", UR), "quotes": t("findings.quotes.code", UR),
                "progress": t("findings.progress.caption", UR), "export": t("findings.export.format", UR)}[tab]
    assert expected in [session_unescape(w) for w in shown_words(at)]


def test_the_urdu_tables_have_urdu_headers_and_the_same_figures(seeded, lead):
    at = open_tab(urdu_page(lead), t("findings.tab.groups", UR))
    heat = next(d for d in at.dataframe if "base_respondents" in d.value and "group" in d.value)
    assert set(heat.value["group"]) == {"Young person", "Parent or carer", "Front-line practitioner"}  # the frame is unchanged
    config = json.loads(heat.proto.columns)
    assert config["share"]["label"] == t("findings.col.share", UR) != "share"
    assert config["base_respondents"]["label"] == t("findings.col.base_respondents", UR)


def test_an_officer_pins_and_an_admin_exports_in_urdu(seeded, officer, admin):
    at = urdu_page(officer, findings_quote_code=2, findings_tab=t("findings.tab.quotes", UR))
    pins = [b for b in at.button if b.label == t("findings.quotes.pin", UR)]
    assert pins and not [b for b in at.button if b.label == "Pin"]
    pins[0].click().run()
    assert not at.exception
    assert [b for b in at.button if b.label == t("findings.quotes.unpin", UR)]
    assert any(c.value.endswith(t("findings.quotes.pinned", UR)) for c in at.caption)

    at = urdu_page(admin, findings_tab=t("findings.tab.export", UR))
    radio = at.radio(key="findings_export_kind")
    assert radio.options[:2] == [t("findings.export.kind.xlsx", UR), t("findings.export.kind.csv", UR)]
    radio.set_value("csv")
    next(b for b in at.button if b.key == "findings_prepare").click().run()
    assert not at.exception
    assert [s for s in at.status if s.label == t("findings.export.ready", UR)]
    labels = [b.proto.label for b in at.get("download_button")]
    assert any(label.startswith("thrive-voices-csv-") and label.endswith(" ڈاؤن لوڈ کریں") for label in labels)
    assert english_left_in(at) == []


def test_an_english_tab_name_left_in_the_session_opens_the_first_tab(seeded, lead):
    """Tabs are found by position, their labels are the session's language: a label from another language (the
    person switched language since) is not a crash, just the first tab."""
    at = urdu_page(lead, findings_tab="Quotes")
    assert not at.exception
    assert at.session_state["findings_tab"] == t("findings.tab.themes", UR)


def test_the_compare_rounds_tab_in_urdu(seeded, db, admin, lead):
    from data import rounds

    old = rounds.create_round(db, admin, "Neglect strategy 2019")
    new = rounds.create_round(db, admin, "2026 refresh")
    rounds.assign_events(db, admin, old.id, [seeded["events"]["e1"]])
    rounds.assign_events(db, admin, new.id, [seeded["events"]["e2"]])
    at = urdu_page(lead, findings_level="Themes", findings_tab=t("findings.tab.compare", UR))
    assert [tab.label for tab in at.tabs][-1] == t("findings.tab.compare", UR)
    assert at.selectbox(key="findings_compare_a").label == t("findings.compare.round", UR)
    table = next(d.value for d in at.dataframe if "2026 refresh" in d.value)
    assert list(table.columns) == [t("findings.level.theme.header", UR), "2026 refresh", "Neglect strategy 2019",
                                   t("findings.compare.change_column", UR)]
    rows = {r[t("findings.level.theme.header", UR)]: r for r in table.to_dict("records")}
    assert rows["Thrive factors"]["2026 refresh"] == "86% (7 میں سے 6)"
    assert rows["Barriers"][t("findings.compare.change_column", UR)] == t("findings.compare.not_shown", UR,
                                                                          threshold=5)
    texts = [x.value for x in at.text]
    assert "2026 refresh (2026-12-01): 7 لوگ اور کوئی فلپ چارٹ پوسٹ اِٹ نہیں۔" in texts
    assert english_left_in(at) == []
