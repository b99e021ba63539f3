"""The Data page's three bar charts as Vega-Lite specs, for ``st.vega_lite_chart``.

Data in (counts), a spec dict out; no Streamlit, no plotly. The Data page is the first
page a visitor opens, and these are plain bar charts: Streamlit draws Vega-Lite with a
0.8 MB bundle where plotly's is 4.7 MB, which a new tab takes about 0.7 s to evaluate
before its first plotly chart shows (measured in Chromium on two cores: the same three
bar charts drawn 1.3 s after navigation with Vega-Lite, 2.1-2.4 s with plotly). The
other pages' figures, which need plotly's subplots, heatmaps and hover, are the other
modules of :mod:`ui.figures`.

Names from the data go into the specs' data values only, never into a format string:
Vega draws them as SVG text and its tooltips escape them, so nothing a file supplies is
read as markup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.core.names import unique_display_names
from ui.core.numbers import format_count, format_share
from ui.figures.style import BAR_PX, COUNT_FORMAT, TRAIN_COLOR, color_map

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
#: Most bars a class chart draws (30 bars are about 720 px): a file with more classes shows
#: its biggest ``MAX_CLASS_BARS - 1`` and one bar for all the others, and the page lists
#: every class in a scrollable table beside it.
MAX_CLASS_BARS = 30
#: The code of the "others" bar (no label a file supplies holds a NUL character).
OTHERS_CODE = "\x00others"


def fold_classes(
    panels: Sequence[Mapping[str, int]],
    label_names: Mapping[str, str] | None = None,
    *,
    max_bars: int = MAX_CLASS_BARS,
) -> tuple[list[dict[str, int]], dict[str, str]]:
    """Class counts cut to at most ``max_bars`` bars: the biggest classes (by the first
    panel's counts, ties by code) and one :data:`OTHERS_CODE` bar summing the rest.

    ``panels`` are ``{code: rows}`` mappings drawn side by side (e.g. before and after
    preparing), folded alike; a panel where none of the others has a row gets no others
    bar. Returns the folded panels and the display names with the others bar's
    ("470 other classes"). With ``max_bars`` classes or fewer, both come back unchanged.
    """
    names = dict(label_names or {})
    codes = list(dict.fromkeys(code for panel in panels for code in panel))
    if len(codes) <= max_bars:
        return [dict(panel) for panel in panels], names
    first = panels[0] if panels else {}
    ranked = sorted(codes, key=lambda code: (-int(first.get(code, 0)), code))
    kept, rest = ranked[: max_bars - 1], ranked[max_bars - 1 :]
    folded = []
    for panel in panels:
        part = {code: int(panel[code]) for code in kept if code in panel}
        others = [int(panel[code]) for code in rest if code in panel]
        if others:
            part[OTHERS_CODE] = sum(others)
        folded.append(part)
    names[OTHERS_CODE] = f"{len(rest):,} other classes"
    return folded, names


def _horizontal_bars(
    rows: list[dict[str, Any]],
    *,
    name_field: str,
    count_field: str,
    color: dict[str, Any],
    tooltip: list[dict[str, Any]],
    title: str | None,
) -> dict[str, Any]:
    """Horizontal bars in the rows' order (biggest first), every name on its own tick,
    the count written beside each bar; the height grows with the number of bars."""
    spec: dict[str, Any] = {
        "$schema": VEGA_LITE_SCHEMA,
        "data": {"values": rows},
        "height": {"step": BAR_PX},
        "encoding": {
            "y": {
                "field": name_field,
                "type": "nominal",
                "sort": None,  # the rows' own order: biggest first
                "axis": {"title": None, "labelLimit": 0, "labelOverlap": False},
            },
            "x": {
                "field": count_field,
                "type": "quantitative",
                "axis": {"title": "rows", "format": COUNT_FORMAT, "tickMinStep": 1},
                "scale": {"zero": True, "nice": True},
            },
            "tooltip": tooltip,
        },
        "layer": [
            {"mark": {"type": "bar"}, "encoding": {"color": color}},
            {
                "mark": {"type": "text", "align": "left", "baseline": "middle", "dx": 4},
                "encoding": {"text": {"field": "label"}},
            },
        ],
    }
    if title:
        spec["title"] = title
    return spec


def class_distribution(
    counts: Mapping[str, int],
    label_names: Mapping[str, str] | None = None,
    *,
    title: str = "Class distribution",
) -> dict[str, Any]:
    """Vega-Lite spec: rows per class as horizontal bars, biggest first, named by display
    name, each class in its stable colour; the tooltip adds its share and its code. Past
    :data:`MAX_CLASS_BARS` classes the smallest share one "others" bar, last
    (:func:`fold_classes`).

    ``counts``: ``{label code: rows}``; ``label_names``: ``{code: display name}``.
    """
    (counts,), label_names = fold_classes([counts], label_names)
    names = unique_display_names(list(counts), label_names)
    ordered = sorted(
        counts, key=lambda code: (code == OTHERS_CODE, -int(counts[code]), names[code])
    )
    total = max(sum(int(n) for n in counts.values()), 1)
    colors = color_map(sorted(names.values()))
    rows = [
        {
            "class": names[code],
            "rows": int(counts[code]),
            "label": format_count(counts[code]),
            "share": format_share(int(counts[code]) / total),
            "code": "" if code == OTHERS_CODE else code,
        }
        for code in ordered
    ]
    domain = [row["class"] for row in rows]
    return _horizontal_bars(
        rows,
        name_field="class",
        count_field="rows",
        color={
            "field": "class",
            "type": "nominal",
            "scale": {"domain": domain, "range": [colors[name] for name in domain]},
            "legend": None,
        },
        tooltip=[
            {"field": "class", "type": "nominal"},
            {"field": "rows", "type": "quantitative", "format": COUNT_FORMAT},
            {"field": "share", "type": "nominal"},
            {"field": "code", "type": "nominal"},
        ],
        title=title,
    )


def top_items(
    items: Sequence[Mapping[str, Any]] | Mapping[str, int],
    *,
    name_key: str = "publisher",
    count_key: str = "count",
    title: str | None = None,
) -> dict[str, Any]:
    """Vega-Lite spec: the most frequent values (publishers by default) as horizontal
    bars, biggest first, one colour. ``items`` is a list of ``{name_key: ...,
    count_key: ...}`` dicts or a plain ``{name: count}`` mapping; ``title=None`` leaves
    the title to the page (a subheader)."""
    if isinstance(items, Mapping):
        pairs = [(str(k), int(v)) for k, v in items.items()]
    else:
        pairs = [(str(item[name_key]), int(item[count_key])) for item in items]
    unique = unique_display_names([name for name, _ in pairs])
    pairs = sorted(pairs, key=lambda pair: -pair[1])
    rows = [
        {"name": unique[name], "rows": count, "label": format_count(count)} for name, count in pairs
    ]
    return _horizontal_bars(
        rows,
        name_field="name",
        count_field="rows",
        color={"value": TRAIN_COLOR},
        tooltip=[
            {"field": "name", "type": "nominal", "title": name_key},
            {"field": "rows", "type": "quantitative", "format": COUNT_FORMAT},
        ],
        title=title,
    )


def word_length_histogram(
    length_counts: Mapping[int, int] | Sequence[int],
    *,
    title: str = "Headline length (words)",
) -> dict[str, Any]:
    """Vega-Lite spec: a histogram of words per text, one bar per word count.

    ``length_counts`` is a binned mapping ``{number of words: number of texts}`` or
    one word count per text.
    """
    if not isinstance(length_counts, Mapping):
        length_counts = Counter(int(words) for words in length_counts)
    rows = [
        {"words": int(words), "next": int(words) + 1, "texts": int(texts)}
        for words, texts in sorted(length_counts.items())
    ]
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title,
        "data": {"values": rows},
        "mark": {"type": "bar", "color": TRAIN_COLOR, "binSpacing": 1},
        "encoding": {
            "x": {
                "field": "words",
                "bin": {"binned": True, "step": 1},
                "type": "quantitative",
                "axis": {"title": "words per headline", "format": "d", "tickMinStep": 1},
            },
            "x2": {"field": "next"},
            "y": {
                "field": "texts",
                "type": "quantitative",
                "axis": {"title": "headlines", "format": COUNT_FORMAT},
            },
            "tooltip": [
                {"field": "words", "type": "quantitative", "title": "words"},
                {"field": "texts", "type": "quantitative", "format": COUNT_FORMAT},
            ],
        },
    }
