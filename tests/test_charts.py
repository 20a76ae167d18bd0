"""Charts fit for print and tablet: text sizes, title/question/filters/n/date drawn into PNG and SVG, a colour scale
white at 0, groups with every cell suppressed folded into one line, Wilson intervals drawn on share bars."""

from __future__ import annotations

import json

import pandas as pd

from exports import charts


def shares() -> pd.DataFrame:
    return pd.DataFrame({"label": ["Family and relationships", "Safety"], "share": [0.5, 0.2],
                         "answers": [10, 4], "respondents": [10, 4], "base_respondents": [20, 20]})


def test_titled_chart_carries_its_context_into_svg_and_png():
    lines = charts.context_lines("What helps children and young people thrive?", "Events: Market day", 20,
                                 "people with a coded answer", "01 December 2026")
    chart = charts.titled(charts.themes_bar(shares()), "Themes: share of people raising each", lines)
    svg = charts.to_svg(chart)
    for text in ("Themes: share of people raising each", "What helps children and young people thrive?",
                 "Filters: Events: Market day", "n = 20 people with a coded answer", "01 December 2026"):
        assert text in svg, text
    assert charts.to_png(chart).startswith(b"\x89PNG")
    spec = json.loads(chart.to_json())
    assert spec["config"]["axis"]["labelFontSize"] >= 13 and spec["config"]["title"]["subtitleFontSize"] >= 13
    assert "Filters: none (every answer)" in charts.context_lines(n=3)


def test_share_bars_draw_wilson_intervals():
    spec = json.loads(charts.themes_bar(shares()).to_json())
    data = next(iter(spec["datasets"].values()))
    family = next(r for r in data if r["label"] == "Family and relationships")
    assert 0.29 < family["ci_low"] < 0.5 < family["ci_high"] < 0.71
    assert any(layer["mark"]["type"] == "rule" for layer in spec["layer"] if isinstance(layer["mark"], dict))


def by_group() -> pd.DataFrame:
    rows = []
    for group, base in (("Parents", 40), ("Young people", 30), ("Faith groups", 3), ("Decision makers", 2)):
        for label, n in (("Safety", 12), ("School", 0)):
            small = base < 5
            rows.append({"label": label, "group": group, "share": None if small else n / base, "shown": "<5" if small
                         else n, "base_respondents": base, "suppressed": small})
    return pd.DataFrame(rows)


def test_fully_suppressed_groups_fold_into_one_line_and_zero_is_white():
    kept, folded = charts.fold_small_groups(by_group())
    assert folded == ["Decision makers", "Faith groups"] and set(kept["group"]) == {"Parents", "Young people"}
    assert charts.folded_line(folded).startswith("2 groups with fewer than 5 people each")
    assert charts.folded_line([]) == ""
    spec = json.loads(charts.heatmap(kept).to_json())
    colour = spec["layer"][0]["encoding"]["color"]
    assert colour["scale"]["range"][0].upper() == "#FFFFFF" and colour["scale"]["domain"] == [0, 1]
    svg = charts.to_svg(charts.style(charts.heatmap(kept)))
    assert "Faith groups" not in svg and "Parents" in svg
