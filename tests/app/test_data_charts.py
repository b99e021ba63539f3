"""The Data page's Vega-Lite charts: every class labelled, biggest first, numbers for
people, names shown as given (Vega draws text, not markup), and specs Vega-Lite accepts.

Why Vega-Lite there: see ``ui.figures.data`` (plotly's bundle costs a new tab ~0.7 s).
"""

from __future__ import annotations

import json

import pytest

from ui.figures import data as data_charts
from ui.figures.style import BAR_PX, COUNT_FORMAT


def _classes(n: int) -> dict[str, int]:
    """``{code: rows}`` of ``n`` classes of different sizes (codes c0.., c0 the biggest)."""
    return {f"c{i}": 10 * (n - i) + 3 for i in range(n)}


def _bars(spec: dict) -> list[tuple[str, int]]:
    rows = spec["data"]["values"]
    name = spec["encoding"]["y"]["field"]
    return [(row[name], row["rows"]) for row in rows]


@pytest.mark.parametrize("n", [2, 4, 27, 30])
def test_class_distribution_labels_every_class_biggest_first(n: int) -> None:
    """Up to ``MAX_CLASS_BARS`` (30) classes; more fold into "others" (test_many_classes)."""
    counts = _classes(n)
    names = {code: f"class {code[1:]} name" for code in counts}
    spec = data_charts.class_distribution(counts, names)
    assert [name for name, _ in _bars(spec)] == [f"class {i} name" for i in range(n)]
    y = spec["encoding"]["y"]
    assert y["sort"] is None  # the data's order: biggest first, top to bottom
    assert y["axis"]["labelLimit"] == 0 and y["axis"]["labelOverlap"] is False  # no skipped
    assert spec["height"] == {"step": BAR_PX}  # the height grows with the classes
    color = spec["layer"][0]["encoding"]["color"]
    assert len(set(color["scale"]["range"])) == min(n, 11) and color["legend"] is None


def test_class_distribution_uses_display_names_and_keeps_two_codes_apart() -> None:
    spec = data_charts.class_distribution(
        {"b": 10, "e": 30, "x": 5}, {"b": "business", "e": "entertainment", "x": "business"}
    )
    assert _bars(spec) == [("entertainment", 30), ("business (b)", 10), ("business (x)", 5)]
    row = spec["data"]["values"][1]
    assert row["code"] == "b" and row["share"] == "22.2%"


def test_counts_read_with_thousands_separators() -> None:
    spec = data_charts.class_distribution({"b": 152_828, "m": 1_000})
    assert [row["label"] for row in spec["data"]["values"]] == ["152,828", "1,000"]
    assert spec["encoding"]["x"]["axis"]["format"] == COUNT_FORMAT == ",d"
    publishers = data_charts.top_items([{"publisher": "Reuters", "count": 3904}])
    assert [row["label"] for row in publishers["data"]["values"]] == ["3,904"]
    assert publishers["encoding"]["x"]["axis"]["format"] == ",d"  # like the bars' numbers
    assert "title" not in publishers  # the page's subheader names it once


@pytest.mark.parametrize("n", [2, 30, 100])
def test_top_items_label_every_item_sorted(n: int) -> None:
    items = [{"publisher": f"pub {i}", "count": i + 1} for i in range(n)]
    spec = data_charts.top_items(items)
    assert [name for name, _ in _bars(spec)] == [f"pub {i}" for i in reversed(range(n))]


def test_word_length_histogram_accepts_binned_counts_and_raw_lengths() -> None:
    binned = data_charts.word_length_histogram({3: 2, 1: 5})
    assert [(r["words"], r["texts"]) for r in binned["data"]["values"]] == [(1, 5), (3, 2)]
    raw = data_charts.word_length_histogram([1, 1, 3])
    assert [(r["words"], r["texts"]) for r in raw["data"]["values"]] == [(1, 2), (3, 1)]
    assert binned["encoding"]["y"]["axis"]["format"] == ",d"


def test_names_from_data_stay_as_given_in_data_values_only() -> None:
    """Vega draws labels as SVG text and its tooltips escape HTML: a name goes in as
    typed (escaping it would show "&lt;b&gt;"), and only ever as a data value."""
    markup = ["<b>bold</b>", '<a href="https://example.com">x</a>', "a&b"]
    counts = {f"c{i}": i + 1 for i in range(len(markup))}
    spec = data_charts.class_distribution(counts, dict(zip(counts, markup, strict=True)))
    assert sorted(row["class"] for row in spec["data"]["values"]) == sorted(markup)
    publishers = data_charts.top_items(dict.fromkeys(markup, 3))
    assert sorted(row["name"] for row in publishers["data"]["values"]) == sorted(markup)
    for built in (spec, publishers):
        outside_data = {key: value for key, value in built.items() if key != "data"}
        text = json.dumps(outside_data)
        # the colour scale's domain repeats the class names; nothing else may
        domain = outside_data["layer"][0]["encoding"]["color"].get("scale", {}).get("domain", [])
        for name in markup:
            assert json.dumps(name)[1:-1] not in text or name in domain
