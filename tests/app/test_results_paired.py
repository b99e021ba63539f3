"""Results: the model against the baseline, and runs against each other, with paired
95 % intervals in words (pipeline.evaluation.paired, ui.views.paired).

The run is the session's tiny run on ``uci_small.csv``; other runs are copies of it
with their answers or their data changed on disk.
"""

from __future__ import annotations

import json
import shutil

from apptest_support import assert_clean, new_app, open_page, texts_of

from pipeline.evaluation.paired import DIFFERENT_ROWS, PairedComparison, PairedDifference
from pipeline.runs.registry import RunRegistry
from ui.views.paired import NO_INTERVAL, baseline_sentences, pairing_sentence


def _edit(path, change) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def _copy_run(runs_dir, run_id: str, new_id: str):
    """A copy of run ``run_id`` saved as ``new_id``; its folder."""
    folder = runs_dir / new_id
    shutil.copytree(runs_dir / run_id, folder)
    _edit(folder / "run.json", lambda run: run.update(run_id=new_id))
    return folder


def test_results_says_the_interval_against_the_baseline_in_words(runs_dir, small_source, saved_run):
    saved = RunRegistry(runs_dir).get(saved_run)
    interval = saved.metrics.vs_baseline
    assert interval is not None  # a fresh run has one
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    text = texts_of(at)
    accuracy = f"Test accuracy: {interval.accuracy.describe()}."
    assert accuracy in text and f"Macro F1: {interval.macro_f1.describe()}." in text
    assert interval.balanced_accuracy is not None  # paired since the report (issue 34)
    assert f"Balanced accuracy: {interval.balanced_accuracy.describe()}." in text
    assert "(95 % interval " in accuracy
    assert f"on the same {saved.metrics.n_test:,} test rows" in text


def test_a_run_from_before_intervals_says_it_has_none(runs_dir, small_source, saved_run):
    _edit(runs_dir / saved_run / "metrics.json", lambda metrics: metrics.pop("vs_baseline"))
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    assert NO_INTERVAL in texts_of(at)
    assert "95 % interval" not in texts_of(at)


def test_compare_runs_pairs_runs_tested_on_the_same_rows(runs_dir, small_source, saved_run):
    # a run on the same test rows whose answers are all right: clearly ahead
    better = "1" * 16
    folder = _copy_run(runs_dir, saved_run, better)
    _edit(folder / "test_predictions.json", lambda rows: rows.update(predicted=rows["true"]))
    # a run on other data: its test rows are not the same rows
    other = "2" * 16
    folder = _copy_run(runs_dir, saved_run, other)
    _edit(folder / "data.json", lambda data: data.update(fingerprint="f" * 16))

    at = open_page(new_app(small_source), "results")
    at.selectbox(key="results.run").set_value(saved_run).run()
    at.multiselect(key="results.compare").set_value([saved_run, better, other]).run()
    assert_clean(at)
    text = texts_of(at)
    picked = f"{saved_run[:8]} · fast"
    assert f"{better[:8]} · fast against {picked}: test accuracy ahead of {picked} by " in text
    assert f"{other[:8]} · fast against {picked}: {DIFFERENT_ROWS}." in text


def test_sentences_without_streamlit():
    comparison = PairedComparison(
        PairedDifference(0.0042, 0.0021, 0.0063), PairedDifference(-0.001, -0.0035, 0.001)
    )

    class Metrics:
        baseline = object()
        vs_baseline = comparison

    assert baseline_sentences(Metrics) == [
        "Test accuracy: ahead of the baseline by 0.42 points (95 % interval 0.21 to 0.63).",
        "Macro F1: no clear difference from the baseline (95 % interval -0.35 to 0.10 points).",
    ]
    Metrics.vs_baseline = None
    assert baseline_sentences(Metrics) == [NO_INTERVAL]
    Metrics.baseline = None
    assert baseline_sentences(Metrics) == []

    from pipeline.evaluation.paired import RunPairing

    assert pairing_sentence("b", "a", RunPairing(reason=DIFFERENT_ROWS)) == (
        f"b against a: {DIFFERENT_ROWS}."
    )
    assert pairing_sentence("b", "a", RunPairing(comparison=comparison)) == (
        "b against a: test accuracy ahead of a by 0.42 points (95 % interval 0.21 to 0.63); "
        "macro F1 no clear difference from a (95 % interval -0.35 to 0.10 points)."
    )
