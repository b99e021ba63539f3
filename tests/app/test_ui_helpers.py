"""Unit tests of the pure UI helpers: figure builders and safe text."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from ui import figures
from ui.text import escape_markdown, highlight_words

HISTORY = [
    {"epoch": 1, "loss": 1.2, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.6},
    {"epoch": 2, "loss": 0.8, "accuracy": 0.7, "val_loss": 0.7, "val_accuracy": 0.72},
    {"epoch": 3, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.75, "val_accuracy": 0.71},
]
NAMES = {"b": "business", "e": "entertainment"}


def test_class_distribution_uses_display_names_sorted_by_size():
    fig = figures.class_distribution_bar({"b": 10, "e": 30}, NAMES)
    assert isinstance(fig, go.Figure)
    bars = [(trace.x[0], trace.y[0]) for trace in fig.data]
    assert bars == [("entertainment", 30), ("business", 10)]


def test_before_after_has_two_panels():
    fig = figures.class_distribution_before_after({"b": 10, "e": 30}, {"b": 10, "e": 10}, NAMES)
    assert {a.text for a in fig.layout.annotations} == {"before", "after"}


def test_word_length_histogram_accepts_binned_counts_and_raw_lengths():
    binned = figures.word_length_histogram({3: 2, 1: 5})
    assert list(binned.data[0].x) == [1, 3]
    raw = figures.word_length_histogram([1, 1, 3])
    assert list(raw.data[0].y) == [2, 1]


def test_best_epoch_is_lowest_validation_loss():
    assert figures.best_epoch(HISTORY) == 2
    assert figures.best_epoch([]) is None


def test_training_curves_train_and_validation_with_best_epoch_marked():
    fig = figures.training_curves(HISTORY, "accuracy", epochs=10)
    assert [trace.name for trace in fig.data] == ["train", "validation"]
    assert list(fig.data[1].y) == [0.6, 0.72, 0.71]
    assert any(shape.x0 == 2 for shape in fig.layout.shapes)
    assert tuple(fig.layout.xaxis.range) == (0.5, 10.5)


def test_training_curves_without_history_is_an_empty_figure():
    fig = figures.training_curves([], "loss")
    assert len(fig.data) == 0


def test_compare_curves_one_line_per_run():
    fig = figures.compare_curves({"run a": HISTORY, "run b": HISTORY[:2]}, "val_accuracy")
    assert sorted(trace.name for trace in fig.data) == ["run a", "run b"]


@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_matrix_heatmap(normalize):
    fig = figures.confusion_matrix_heatmap(["b", "e"], [[3, 1], [0, 4]], normalize=normalize)
    z = fig.data[0].z
    if normalize:
        assert z[0][0] == pytest.approx(0.75)
        assert z[1][1] == pytest.approx(1.0)
    else:
        assert z[0][1] == 1


def test_confusion_matrix_with_an_empty_row_does_not_divide_by_zero():
    fig = figures.confusion_matrix_heatmap(["b", "e"], [[0, 0], [1, 1]], normalize=True)
    assert list(fig.data[0].z[0]) == [0.0, 0.0]


def test_probability_bar_highest_first():
    fig = figures.probability_bar({"health": 0.1, "business": 0.9})
    assert list(fig.data[0].y) == ["business", "health"]


def test_metrics_vs_baseline_and_runs_metric_bars():
    fig = figures.metrics_vs_baseline(
        {"accuracy": 0.9, "macro_f1": 0.88}, {"accuracy": 0.85, "macro_f1": None}, "ngram_bag"
    )
    assert sorted(trace.name for trace in fig.data) == ["TF-IDF baseline", "ngram_bag"]
    assert fig.layout.title.text == "Test set: ngram_bag vs TF-IDF baseline"
    import pandas as pd

    table = pd.DataFrame({"run": ["a", "b"], "test accuracy": [0.8, 0.9], "macro F1": [0.7, 0.8]})
    bars = figures.runs_metric_bars(table, ["test accuracy", "macro F1", "missing"])
    assert sorted(trace.name for trace in bars.data) == ["a", "b"]


def test_top_items_and_word_importance_bars():
    fig = figures.top_items_bar([{"publisher": "Reuters", "count": 5}])
    assert list(fig.data[0].y) == ["Reuters"]
    fig = figures.word_importance_bar([("stocks", 0.4), ("fell", -0.1)])
    assert list(fig.data[0].x) == ["1. stocks", "2. fell"]


def test_escape_markdown_escapes_every_markdown_and_streamlit_syntax():
    text = "*bold* _it_ [x](y) <b>html</b> $x$ :fire: :red[red] `code` # head\nnext"
    escaped = escape_markdown(text)
    assert "\n" not in escaped
    assert escaped.startswith(r"\*bold\* \_it\_ \[x\]\(y\) \<b\>html\<\/b\> \$x\$ \:fire\:")
    assert r"\:red\[red\]" in escaped and r"\`code\`" in escaped and r"\# head" in escaped


def test_highlight_words_marks_important_words_only():
    markdown = highlight_words([("Stocks", 0.5), ("fell", -0.4), ("the", 0.001)])
    assert markdown.startswith(":green-background[**Stocks**]")
    assert ":red-background[**fell**]" in markdown
    assert markdown.endswith(" the")


def test_highlight_words_escapes_words():
    markdown = highlight_words([("$5]", 0.5)])
    assert markdown == r":green-background[**\$5\]**]"
