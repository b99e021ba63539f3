"""The confusion matrix as a plotly heatmap that reads from 2 to 100 classes.

Pure: class names and counts in, a ``plotly.graph_objects.Figure`` out (no Streamlit).

How it stays legible, whatever the number of classes:

- from :data:`FULL_WIDTH_FROM` classes the Results page draws it across the page's width
  (:func:`full_width`), below it the "most confused pairs" table; with fewer, the two sit
  side by side;
- the height follows the cells, which are about square (:func:`cell_geometry`), between
  :data:`MIN_CELL_PX` (a class label still reads) and :data:`MAX_CELL_PX`;
- a cell shows its value only where the text fits the cell at the width the app gives
  the chart in a 1280 px window (:func:`fits`): small cells are left blank and say so
  in the title, and every cell's hover text always has its rows and share;
- the colour bar reads in the cells' unit: rows for counts, 0-100 % for shares.

Class names come from files: every one goes through :func:`ui.core.text.plotly_text`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from pipeline.core.names import unique_display_names
from ui.core.numbers import format_count, format_share
from ui.core.text import plotly_text
from ui.figures.style import (
    COUNT_FORMAT,
    MARGINS,
    SHARE_AXIS_FORMAT,
    every_category,
)

#: From this many classes the matrix takes the page's whole width (its table goes below).
FULL_WIDTH_FROM = 10
#: Pixels the Results page gives the chart in a 1280 px wide window with the sidebar
#: open (measured in Chromium): the content's whole width, or one of two columns.
FULL_WIDTH_PX, HALF_WIDTH_PX = 820, 400
#: Pixels of the chart's width that are neither cells nor class labels: margins, the
#: axis title, the colour bar and its ticks (measured: 70 left, 88 right).
SIDE_CHROME_PX = 165
#: Pixels of the chart's height that are neither cells nor class labels: title, axis
#: title, margins.
TOP_CHROME_PX = 110
#: Smallest and largest cell side in pixels: a 10 px class label still reads at the
#: smallest; a few classes do not make a wall of the largest.
MIN_CELL_PX, MAX_CELL_PX = 14, 48
#: Narrowest cell that shows any value: below it (about 50 classes and more) a grid of
#: single digits would be noise, and the hover text says every value.
MIN_TEXT_CELL_PX = 16
#: Smallest height of the whole chart.
MIN_HEIGHT_PX = 300
#: Width of characters in ems in the font Streamlit gives plotly (Source Sans, measured
#: in Chromium: digits 0.50, "," 0.25, "%" 0.82), rounded up: digits and the rest.
_CHAR_EM = {",": 0.27, ".": 0.27, "%": 0.86}
_DIGIT_EM = 0.52
#: Width of a class label's characters in ems, on average (rounded up).
_LABEL_EM = 0.5
#: The matrix's subtitle when some cells were too small for their value.
HIDDEN_VALUES_NOTE = "Cells too small for their value are blank: hover for every value."


def full_width(n_classes: int) -> bool:
    """Whether a matrix of ``n_classes`` is drawn across the page (not beside its table)."""
    return n_classes >= FULL_WIDTH_FROM


def text_px(text: str, font_px: float) -> float:
    """About how many pixels ``text`` takes at a font of ``font_px`` pixels."""
    return sum(_CHAR_EM.get(char, _DIGIT_EM) for char in text) * font_px


def tick_font_px(n_classes: int) -> int:
    """The class labels' font size: 12 px up to 20 classes, 10 px beyond."""
    return 12 if n_classes <= 20 else 10


@dataclass(frozen=True)
class CellGeometry:
    """One cell of the matrix as drawn in a 1280 px window.

    Attributes
    ----------
    width, height : float
        The cell's size in pixels.
    font : int
        The cell text's font size in pixels.
    x_labels : float
        Pixels below the cells the predicted classes' labels take.
    tick_angle : int
        The predicted classes' labels: level (0) when the longest fits under its
        column, else upright (-90), never overlapping.
    """

    width: float
    height: float
    font: int
    x_labels: float
    tick_angle: int = 0


def _label_chars(names: Sequence[str]) -> int:
    return max((len(name) for name in names), default=1)


def cell_geometry(n_classes: int, label_chars: int = 12) -> CellGeometry:
    """The size of one cell of a matrix of ``n_classes`` whose longest class name has
    ``label_chars`` characters, at the chart width the Results page gives it in a 1280 px
    window (:data:`FULL_WIDTH_PX` or :data:`HALF_WIDTH_PX`).

    The columns share what the class labels and :data:`SIDE_CHROME_PX` leave; rows are
    as tall as the columns are wide, within :data:`MIN_CELL_PX` and :data:`MAX_CELL_PX`.
    """
    n = max(int(n_classes), 1)
    tick_font = tick_font_px(n)
    labels_px = label_chars * _LABEL_EM * tick_font
    chart_px = FULL_WIDTH_PX if full_width(n) else HALF_WIDTH_PX
    width = max(chart_px - SIDE_CHROME_PX - labels_px, 1.0) / n
    height = min(max(width, MIN_CELL_PX), MAX_CELL_PX)
    level = labels_px + 8 <= width  # every predicted class's label fits under its column
    x_labels = tick_font + 4 if level else labels_px + 6
    font = 12 if height >= 30 else 11 if height >= 22 else 10
    return CellGeometry(
        width=width, height=height, font=font, x_labels=x_labels, tick_angle=0 if level else -90
    )


def confusion_matrix_height(n_classes: int, label_chars: int = 12) -> int:
    """Height in pixels of a confusion matrix of ``n_classes`` (see :func:`cell_geometry`):
    the cells, the predicted classes' labels and :data:`TOP_CHROME_PX`."""
    cell = cell_geometry(n_classes, label_chars)
    cells = cell.height * max(int(n_classes), 1)
    return max(MIN_HEIGHT_PX, round(TOP_CHROME_PX + cell.x_labels + cells))


def fits(text: str, cell: CellGeometry) -> bool:
    """Whether ``text`` reads inside ``cell`` at its font (2 px to spare each way); never
    in a cell narrower than :data:`MIN_TEXT_CELL_PX`."""
    return (
        cell.width >= MIN_TEXT_CELL_PX
        and text_px(text, cell.font) + 4 <= cell.width
        and cell.font + 4 <= cell.height
    )


def _largest_font_that_fits(cell: CellGeometry, texts: Sequence[str]) -> CellGeometry:
    """``cell`` with the largest font from its own down to 10 px at which every one of
    ``texts`` :func:`fits` (10 px when none does: then the widest are left out)."""
    for font in range(cell.font, 9, -1):
        smaller = dataclasses.replace(cell, font=font)
        if all(fits(text, smaller) for text in texts):
            return smaller
    return dataclasses.replace(cell, font=10)


def confusion_matrix_heatmap(
    labels: Sequence[str],
    matrix: Sequence[Sequence[float]],
    *,
    normalize: bool = False,
) -> go.Figure:
    """Heatmap of a confusion matrix: rows = true class, columns = predicted class.

    Parameters
    ----------
    labels : sequence of str
        The classes' display names, in the matrix's order (escaped here).
    matrix : sequence of sequences of numbers
        ``matrix[i][j]``: test rows of class ``i`` predicted as class ``j``.
    normalize : bool
        Colour and label each cell by its share of the true class's rows (the diagonal
        is each class's recall) instead of its rows.

    Every class has its own labelled tick on both axes and the height follows the
    number of classes. A cell shows its value (``"1,234"``, or ``"87%"`` normalised:
    ``"87"`` across the page, where the colour bar's 0-100 % says the unit) where it
    :func:`fits`; zeros are blank from 10 classes; the subtitle says when small cells
    were left blank. The hover text always has the cell's rows and share of the true class
    (``"12 rows, 4.8% of the true class"``); the colour bar reads rows or 0-100 %.
    """
    names = list(unique_display_names(list(labels)).values())
    names = [plotly_text(name) for name in names]
    counts = pd.DataFrame(matrix, dtype="float64")
    totals = counts.sum(axis=1).replace(0, 1)
    shares = counts.div(totals, axis=0)
    values = shares if normalize else counts
    n = len(names)
    cell = cell_geometry(n, _label_chars(list(labels)))
    blank_zeros = n >= FULL_WIDTH_FROM
    values_text = [
        [
            ""
            if blank_zeros and counts.iat[i, j] == 0
            else format_share(shares.iat[i, j], 0).removesuffix("%" if blank_zeros else "")
            if normalize
            else format_count(counts.iat[i, j])
            for j in range(n)
        ]
        for i in range(n)
    ]
    cell = _largest_font_that_fits(cell, [t for row in values_text for t in row if t])
    text = [[t if t and fits(t, cell) else "" for t in row] for row in values_text]
    hidden = sum(
        1
        for row, shown in zip(values_text, text, strict=True)
        for a, b in zip(row, shown, strict=True)
        if a and not b
    )
    hover = [
        [
            f"{format_count(counts.iat[i, j])} rows, "
            f"{format_share(shares.iat[i, j])} of the true class"
            for j in range(n)
        ]
        for i in range(n)
    ]
    colorbar: dict = {"thickness": 12}
    if normalize:
        colorbar.update(
            title={"text": "share of the true class", "side": "right"},
            tickformat=SHARE_AXIS_FORMAT,
        )
    else:
        colorbar.update(title={"text": "rows", "side": "right"}, tickformat=COUNT_FORMAT)
    fig = go.Figure(
        go.Heatmap(
            z=values.to_numpy(),
            x=names,
            y=names,
            zmin=0,
            zmax=1 if normalize else None,
            text=text,
            texttemplate="%{text}",
            textfont={"size": cell.font},
            customdata=hover,
            hovertemplate="true: %{y}<br>predicted: %{x}<br>%{customdata}<extra></extra>",
            colorscale="Blues",
            colorbar=colorbar,
        )
    )
    tick_font = {"size": tick_font_px(n)}
    title: dict = {
        "text": "Confusion matrix" + (" (share of each true class)" if normalize else " (rows)")
    }
    if hidden:
        title["subtitle"] = {"text": HIDDEN_VALUES_NOTE}
    fig.update_layout(
        title=title,
        height=confusion_matrix_height(n, _label_chars(list(labels))),
        xaxis=every_category(
            names,
            title="predicted",
            side="bottom",
            tickangle=cell.tick_angle,
            tickfont=tick_font,
            constrain="domain",
        ),
        yaxis=every_category(names, title="true", autorange="reversed", tickfont=tick_font),
        margin={**MARGINS, "t": 70 if hidden else MARGINS["t"]},
    )
    return fig
