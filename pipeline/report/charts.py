"""The report's charts as static SVG (matplotlib), so the report file opens anywhere,
offline and without JavaScript: training curves, the class distribution, the scores
against the baseline, the confusion matrix and accuracy per slice.

Every function takes plain values and returns one ``<svg>`` element as text. Labels from
a user's file (class names, publishers) are drawn as SVG text, which matplotlib escapes
for XML, and with ``text.parse_math`` off, so a ``$`` in a name is never read as
mathtext. Charts are drawn with the object-oriented API (``Figure``, no ``pyplot``) under
one lock: matplotlib's settings are process-wide, and an app server draws for several
visitors at once.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from pipeline.evaluation.slice_scores import SliceRow, SliceTable
from pipeline.report.colors import TRAIN_COLOR, VAL_COLOR
from pipeline.runs.history import EpochRow

#: The baseline's colour, and the colour of what a chart marks (the best epoch, zero).
BASELINE_COLOR, MARK_COLOR = "#7f8c8d", "#555555"
#: Names longer than this are cut with "…" on an axis (tables give them whole).
MAX_LABEL_CHARS = 28
#: Classes a distribution chart shows at most (the largest ones; the table lists all).
MAX_CHART_CLASSES = 60
#: Classes up to which the confusion matrix writes each cell's count.
MAX_ANNOTATED_CLASSES = 30
_SETTINGS = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, searchable
    "svg.hashsalt": "headline-lab",  # the same run gives the same file
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ScoreBar:
    """One metric of the scores chart: the model's and the baseline's value (0 to 1)."""

    metric: str
    model: float
    baseline: float | None


def short_label(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with "…" when longer."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def short_labels(texts: Sequence[str], limit: int = MAX_LABEL_CHARS) -> list[str]:
    """:func:`short_label` of each text, the limit raised until no two cut labels are
    alike (two long names sharing their start stay told apart)."""
    longest = max((len(" ".join(str(text).split())) for text in texts), default=0)
    while True:
        labels = [short_label(text, limit) for text in texts]
        if len(set(labels)) == len(set(texts)) or limit >= longest:
            return labels
        limit += 4


@contextmanager
def _figure(width: float, height: float) -> Iterator[Figure]:
    with _LOCK, matplotlib.rc_context(_SETTINGS):
        figure = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasSVG(figure)
        yield figure


def _svg(figure: Figure) -> str:
    """The figure as one ``<svg>`` element (no XML prolog, doctype or creation date)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def training_curves(history: Sequence[EpochRow], best_epoch: int | None) -> str:
    """Accuracy and loss per epoch, training and validation side by side, the best epoch
    marked (the epoch whose weights the run keeps)."""
    rows = [row for row in history if not row.partial]
    epochs = [row.epoch for row in rows]
    with _figure(9.0, 3.0) as figure:
        axes = figure.subplots(1, 2)
        for ax, (title, train_key, val_key) in zip(
            axes,
            (("Accuracy", "accuracy", "val_accuracy"), ("Loss", "loss", "val_loss")),
            strict=True,
        ):
            for key, label, color in (
                (train_key, "training", TRAIN_COLOR),
                (val_key, "validation", VAL_COLOR),
            ):
                points = [(e, r.metric(key)) for e, r in zip(epochs, rows, strict=True)]
                points = [(e, v) for e, v in points if v is not None and math.isfinite(v)]
                if points:
                    ax.plot(*zip(*points, strict=True), marker="o", ms=3, color=color, label=label)
            if best_epoch is not None and best_epoch in epochs:
                ax.axvline(best_epoch, color=MARK_COLOR, ls="--", lw=1, label="best epoch")
            ax.set_title(title, loc="left")
            ax.set_xlabel("epoch")
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.grid(alpha=0.3)
        axes[0].legend(frameon=False)
        return _svg(figure)


def class_distribution(
    names: Sequence[str], before: Sequence[int], after: Sequence[int | None]
) -> str:
    """Rows per class as loaded and as trained on (after cleaning and balancing), one pair
    of horizontal bars per class, largest first (at most :data:`MAX_CHART_CLASSES`);
    ``None`` after: a class dropped by the preparation."""
    order = sorted(range(len(names)), key=lambda i: (-before[i], names[i]))[:MAX_CHART_CLASSES]
    height = 1.0 + 0.32 * len(order)
    with _figure(7.5, height) as figure:
        ax = figure.subplots()
        positions = list(range(len(order)))
        ax.barh(
            [p - 0.2 for p in positions],
            [before[i] for i in order],
            height=0.4,
            color=BASELINE_COLOR,
            label="as loaded",
        )
        ax.barh(
            [p + 0.2 for p in positions],
            [after[i] or 0 for i in order],
            height=0.4,
            color=TRAIN_COLOR,
            label="used (after preparation)",
        )
        ax.set_yticks(positions, short_labels([names[i] for i in order]))
        ax.set_ylim(len(order) - 0.5, -0.5)  # biggest on top; no empty rows at either end
        ax.set_xlabel("rows")
        ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        # Above the axes: inside them it covered the bars of a balanced file.
        ax.legend(frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2)
        ax.grid(axis="x", alpha=0.3)
        return _svg(figure)


def scores_against_baseline(bars: Sequence[ScoreBar]) -> str:
    """The model's and the baseline's test scores side by side, one group per metric."""
    with _figure(5.5, 2.8) as figure:
        ax = figure.subplots()
        positions = list(range(len(bars)))
        models = ax.bar([p - 0.2 for p in positions], [b.model for b in bars], 0.4, label="model")
        ax.bar_label(models, fmt="%.3f", fontsize=8)
        baselines = [b.baseline if b.baseline is not None else 0.0 for b in bars]
        drawn = ax.bar(
            [p + 0.2 for p in positions],
            baselines,
            0.4,
            color=BASELINE_COLOR,
            label="TF-IDF baseline",
        )
        ax.bar_label(
            drawn,
            labels=[f"{b.baseline:.3f}" if b.baseline is not None else "n/a" for b in bars],
            fontsize=8,
        )
        for bar in models:
            bar.set_color(TRAIN_COLOR)
        low = min([b.model for b in bars] + [v for v in baselines if v > 0])
        ax.set_ylim(max(0.0, low - 0.1), 1.0)
        ax.set_xticks(positions, [b.metric for b in bars])
        ax.legend(frameon=False, loc="upper left", ncols=2, bbox_to_anchor=(0, 1.15))
        ax.grid(axis="y", alpha=0.3)
        return _svg(figure)


def confusion_matrix(names: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """The confusion matrix, coloured by the share of each true class (row), with every
    cell's count written up to :data:`MAX_ANNOTATED_CLASSES` classes; it grows with the
    class count so every class keeps a readable label."""
    n = len(names)
    shares = [[c / (sum(row) or 1) for c in row] for row in matrix]
    side = min(max(3.5, 0.42 * n + 2.5), 26.0)
    font = 8 if n <= 12 else 7 if n <= 40 else 5
    with _figure(side + 1.2, side) as figure:
        ax = figure.subplots()
        image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, aspect="equal")
        labels = short_labels(names, 22)
        ax.set_xticks(range(n), labels, rotation=90 if n > 6 else 0, fontsize=font)
        ax.set_yticks(range(n), labels, fontsize=font)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.spines[:].set_visible(False)
        if n <= MAX_ANNOTATED_CLASSES:
            for i, row in enumerate(matrix):
                for j, count in enumerate(row):
                    if not count and n > 10:
                        continue  # blank, not a sea of zeros
                    color = "white" if shares[i][j] > 0.6 else "black"
                    ax.text(j, i, f"{int(count):,}", ha="center", va="center", color=color,
                            fontsize=font)  # fmt: skip
        figure.colorbar(image, ax=ax, shrink=0.6, label="share of the true class's rows")
        return _svg(figure)


def slice_accuracy(table: SliceTable) -> str:
    """Accuracy per slice with its Wilson 95 % interval and the overall accuracy: bars,
    worst first, for a categorical column; a line with its band over time or bins for a
    time or numeric column."""
    slices = [row for row in table.slices if row.rows > 0]
    overall = table.overall.accuracy
    if table.column.kind == "categorical":
        height = 1.0 + 0.28 * len(slices)
        with _figure(7.5, height) as figure:
            ax = figure.subplots()
            positions = list(range(len(slices)))
            accuracy = [row.accuracy for row in slices]
            errors = [
                [row.accuracy - row.ci_low for row in slices],
                [row.ci_high - row.accuracy for row in slices],
            ]
            colors = [BASELINE_COLOR if row.small or row.other else TRAIN_COLOR for row in slices]
            ax.barh(positions, accuracy, xerr=errors, color=colors, ecolor=MARK_COLOR, capsize=2)
            ax.set_yticks(positions, short_labels([slice_name(row) for row in slices]))
            ax.invert_yaxis()
            ax.axvline(overall, color=VAL_COLOR, ls="--", lw=1, label="all test rows")
            ax.set_xlim(max(0.0, min(row.ci_low for row in slices) - 0.05), 1.0)
            ax.set_xlabel("test accuracy (95 % interval)")
            ax.legend(frameon=False, loc="lower right")
            ax.grid(axis="x", alpha=0.3)
            return _svg(figure)
    with _figure(9.0, 3.0) as figure:
        ax = figure.subplots()
        positions = list(range(len(slices)))
        ax.fill_between(
            positions,
            [row.ci_low for row in slices],
            [row.ci_high for row in slices],
            color=TRAIN_COLOR,
            alpha=0.2,
            lw=0,
            label="95 % interval",
        )
        ax.plot(positions, [row.accuracy for row in slices], marker="o", ms=3, color=TRAIN_COLOR,
                label="test accuracy")  # fmt: skip
        ax.axhline(overall, color=VAL_COLOR, ls="--", lw=1, label="all test rows")
        step = max(1, len(slices) // 12)
        ax.set_xticks(positions[::step], [short_label(row.value, 16) for row in slices][::step],
                      rotation=30, ha="right")  # fmt: skip
        ax.set_ylabel("test accuracy")
        ax.legend(frameon=False, loc="lower left", ncols=3)
        ax.grid(alpha=0.3)
        return _svg(figure)


def slice_name(row: SliceRow) -> str:
    """A slice's name as charts and tables show it: ``"other (1,234 values)"`` for the
    values folded together, else its value."""
    return f"{row.value} ({row.values:,} values)" if row.other else row.value
