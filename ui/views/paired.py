"""Paired intervals in words on the Results page: the model against the baseline, and
the compared runs against the picked one (:mod:`pipeline.evaluation.paired`).

Every sentence goes out through :func:`ui.core.text.escape_markdown` in a caption: run
names carry preset names from imported runs, and nothing from a file reaches Markdown
as markup. The pure helpers (:func:`baseline_sentences`, :func:`pairing_sentence`)
are unit-tested without Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from pipeline.evaluation.paired import METRIC_WORDS, RunPairing, pair_runs
from pipeline.runs.results import Metrics
from pipeline.runs.summary import SavedRun
from ui.core.runs import run_cache_key
from ui.core.text import escape_markdown

#: What a run saved before intervals existed says instead of them.
NO_INTERVAL = "No interval available for this run (trained before intervals existed)."


def baseline_sentences(metrics: Metrics) -> list[str]:
    """The model against the TF-IDF baseline in words, one sentence per metric.

    ``"Test accuracy: ahead of the baseline by 0.42 points (95 % interval 0.21 to 0.63)."``;
    ``[NO_INTERVAL]`` for a run saved before intervals existed, ``[]`` for a run without
    a baseline score (stopped before it was fitted).
    """
    if metrics.baseline is None:
        return []
    if metrics.vs_baseline is None:
        return [NO_INTERVAL]
    return metrics.vs_baseline.sentences("the baseline")


def draw_baseline_interval(metrics: Metrics) -> None:
    """The :func:`baseline_sentences` as captions, with what the interval is."""
    sentences = baseline_sentences(metrics)
    if metrics.vs_baseline is not None:
        st.caption(
            escape_markdown(
                f"Against the TF-IDF baseline on the same {metrics.n_test:,} test rows "
                "(model minus baseline; paired bootstrap, 95 % intervals):"
            )
        )
    for sentence in sentences:
        st.caption(escape_markdown(sentence))


def pairing_sentence(other_name: str, picked_name: str, pairing: RunPairing) -> str:
    """Run ``other_name`` against the picked run in words (``other`` minus ``picked``).

    ``"b · fast against a · default: test accuracy ahead of a · default by 1.20 points
    (95 % interval 0.40 to 2.00); macro F1 no clear difference from a · default (...)."``,
    or the reason there is no interval. Plain text: escape it for Markdown.
    """
    if pairing.comparison is None:
        return f"{other_name} against {picked_name}: {pairing.reason}."
    parts = [
        f"{_lower_first(METRIC_WORDS[name])} {difference.describe(picked_name)}"
        for name, difference in pairing.comparison.differences().items()
    ]
    return f"{other_name} against {picked_name}: {'; '.join(parts)}."


def _lower_first(words: str) -> str:
    """``"Test accuracy"`` -> ``"test accuracy"``; ``"Macro F1"`` -> ``"macro F1"``."""
    return words[0].lower() + words[1:]


@st.cache_data(show_spinner="Pairing the runs' test rows…", max_entries=64)
def _pairing(key_a: str, key_b: str, _a: SavedRun, _b: SavedRun) -> RunPairing:
    return pair_runs(_a, _b)


def draw_run_pairs(
    picked_id: str, compared: Mapping[str, SavedRun], names: Mapping[str, str]
) -> None:
    """Each compared run against the picked one on their common test rows, as captions.

    ``compared`` maps run ids to saved runs and ``names`` run ids to the names the
    comparison table shows. The runs are set against the picked run, or the first
    compared one when the picked run is not among them; nothing is drawn for one run.
    """
    if not compared:
        return
    reference = picked_id if picked_id in compared else next(iter(compared))
    picked = compared[reference]
    others = [rid for rid in compared if rid != reference]
    if not others:
        return
    st.caption(
        escape_markdown(
            f"Each run against {names[reference]} on the same test rows (run minus "
            f"{names[reference]}; paired bootstrap, 95 % intervals):"
        )
    )
    for rid in others:
        other = compared[rid]
        pairing = _pairing(run_cache_key(picked), run_cache_key(other), picked, other)
        st.caption(escape_markdown(pairing_sentence(names[rid], names[reference], pairing)))
