"""Every page renders on the bundled and on a small dataset, with its key widgets."""

from __future__ import annotations

import subprocess
import sys

import pytest
from apptest_support import (
    APP,
    FIXTURES,
    PAGES,
    ROOT,
    assert_clean,
    figure_of,
    new_app,
    open_page,
    path_source,
    sidebar_text,
    texts_of,
    values,
    vega_chart_of,
)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_small_dataset(page, runs_dir, small_source):
    at = open_page(new_app(small_source), page)
    assert_clean(at)
    assert at.title[0].value == page.replace("_", " ").capitalize()
    sidebar = sidebar_text(at)
    assert "Active: **uci_small.csv**" in sidebar
    assert "Device:" in sidebar


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_bundled_dataset(page, runs_dir):
    at = open_page(new_app(), page)
    assert_clean(at)
    assert "UCI News Aggregator (bundled)" in sidebar_text(at)


def test_data_page_shows_statistics_of_bundled_dataset(runs_dir):
    at = open_page(new_app(), "data")
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    # the README's five headline numbers of the bundled file
    assert metrics == {
        "Rows": "422,937",
        "Columns": "7",
        "Missing cells": "2",
        "Duplicated rows": "29,070",
        "Classes": "4",
    }
    # class distribution, length histogram, publishers: Vega-Lite (see ui.figures.data)
    assert not at.get("plotly_chart")
    charts = [vega_chart_of(chart) for chart in at.get("vega_lite_chart")]
    assert [spec.get("title") for spec, _ in charts] == [
        "Class distribution",
        "Headline length (words)",
        None,  # publishers: titled by the page's subheader
    ]
    assert set(charts[0][1]["class"]) == {
        "business",
        "entertainment",
        "health",
        "science/tech",
    }
    # the 404-page title is the most duplicated text, with 145 copies
    (duplicated,) = [t.value for t in at.dataframe if "copies" in t.value.columns]
    assert duplicated["text"].iloc[0].startswith("The article requested cannot be found")
    assert duplicated["copies"].iloc[0] == 145


def test_prepare_page_widgets_and_settings_reach_train(runs_dir, small_source):
    at = open_page(new_app(small_source), "prepare")
    assert_clean(at)
    assert at.radio(key="keep.prepare.dedupe").value == "drop_all"
    assert at.radio(key="keep.prepare.balance").value == "class_weights"
    assert at.number_input(key="keep.prepare.cap_per_class").disabled
    assert at.slider(key="keep.prepare.test_size").value == pytest.approx(0.25)
    assert at.slider(key="keep.prepare.val_size").value == pytest.approx(0.2)
    assert at.radio(key="keep.prepare.split").value == "random"
    assert at.number_input(key="keep.prepare.seed").value == 42
    at.radio(key="keep.prepare.balance").set_value("cap").run()
    at.number_input(key="keep.prepare.cap_per_class").set_value(50)
    at.radio(key="keep.prepare.split").set_value("story")
    at.run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows after balancing"] == "200"
    assert len(at.get("download_button")) == 1
    config = at.session_state["data_config"]
    assert (config.balance, config.cap_per_class, config.split) == ("cap", 50, "story")
    # the Train page shows (and will train with) these settings
    open_page(at, "train")
    assert_clean(at)
    # by the names the Prepare page gives them, never their codes
    data_line = next(text for text in texts_of(at).splitlines() if text.startswith("Data: "))
    assert data_line == (
        "Data: Duplicated texts **Drop every copy (as the notebook)** · Balancing **Cap rows "
        "per class** · Cap per class **50** · Smallest class kept **10** · Test share **0.25** · "
        "Validation share **0.2** · Test set **Stratified (the test share of every class)** · "
        "Split **Grouped by story** · Data seed **42**"
    )
    # and the Prepare widgets keep their values after the page switch
    open_page(at, "prepare")
    assert at.radio(key="keep.prepare.balance").value == "cap"
    assert at.number_input(key="keep.prepare.cap_per_class").value == 50


def test_prepare_page_reports_impossible_settings(runs_dir, small_source):
    at = open_page(new_app(small_source), "prepare")
    at.radio(key="keep.prepare.balance").set_value("cap").run()
    at.number_input(key="keep.prepare.cap_per_class").set_value(3)
    at.run()
    assert not at.exception
    assert any("too small to split" in e.value for e in at.error)


def test_train_page_shows_the_settings_of_the_chosen_family(runs_dir, small_source):
    from pipeline.core.config import SECTIONS
    from pipeline.core.settings import declared

    at = open_page(new_app(small_source), "train")
    assert_clean(at)
    assert at.radio(key="keep.train.preset").value == "fast"
    family = at.radio(key="keep.train.model.family")
    assert family.value == "ngram_bag"
    # a first visit draws the preset and family only, with every value in one line
    assert not at.number_input
    assert at.toggle(key="keep.train.edit_all").value is False
    summary = " ".join(c.value for c in at.caption)
    assert "Epochs (at most) **100**" in summary
    assert "Batch size **auto**" in summary
    assert "Recurrent units" not in summary
    at.toggle(key="keep.train.edit_all").set_value(True).run()
    labels = {n.label for n in at.number_input}
    for section in ("model", "train"):
        for _name, spec in declared(SECTIONS[section]):
            shown = not spec.families or "ngram_bag" in spec.families
            if spec.kind in {"int", "float"} and shown:
                assert spec.label in labels, spec.label
    assert "Recurrent units" not in labels  # an LSTM setting: not for the n-gram bag
    assert at.button(key="train.start")
    # edited settings survive a visit to another page
    at.number_input(key="keep.train.train.epochs").set_value(12).run()
    open_page(at, "data")
    open_page(at, "train")
    assert at.number_input(key="keep.train.train.epochs").value == 12
    # hidden again, the edit stays: in the summary and in the config
    at.toggle(key="keep.train.edit_all").set_value(False).run()
    assert "Epochs (at most) **12**" in " ".join(c.value for c in at.caption)
    at.toggle(key="keep.train.edit_all").set_value(True).run()
    # picking the seed preset loads the notebook's settings, the LSTM's among them
    at.radio(key="keep.train.preset").set_value("seed").run()
    assert at.radio(key="keep.train.model.family").value == "lstm"
    assert at.number_input(key="keep.train.model.recurrent_dropout").value == pytest.approx(0.7)
    assert at.checkbox(key="keep.train.model.sequence_length.auto").value is False
    assert at.number_input(key="keep.train.model.sequence_length").value == 130
    assert at.radio(key="keep.train.model.padding").value == "pre"
    assert at.radio(key="keep.train.model.tokenizer").value == "keras2"
    assert at.number_input(key="keep.train.train.batch_size").value == 256


def test_results_and_playground_without_runs_point_to_train(runs_dir, small_source):
    for page in ("results", "playground"):
        at = open_page(new_app(small_source), page)
        assert_clean(at)
        assert "No saved runs yet" in texts_of(at)


def test_runs_page_without_runs_offers_import(runs_dir, small_source):
    at = open_page(new_app(small_source), "runs")
    assert_clean(at)
    assert "No saved runs yet" in texts_of(at)
    assert len(at.get("file_uploader")) == 1


def test_pages_that_do_not_train_do_not_import_tensorflow(tmp_path, small_source):
    """Data, Prepare, Runs and Results (no runs yet), one after another in one fresh
    interpreter (this test process has imported TensorFlow already): after each page,
    neither TensorFlow nor Ray (an extra) is imported."""
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(ROOT / "tests" / "app")!r})
from streamlit.testing.v1 import AppTest
from apptest_support import path_source
at = AppTest.from_file({str(APP)!r}, default_timeout=60)
at.session_state["dataset_source"] = path_source({small_source.path!r})
for page in ("data", "prepare", "runs", "results"):
    at.switch_page(f"app_pages/{{page}}.py").run()
    assert not at.exception, (page, [e.value for e in at.exception])
    print(page, "TF" if "tensorflow" in sys.modules else "NO-TF", "ray" in sys.modules)
"""
    env = {"HEADLINE_LAB_RUNS_DIR": str(tmp_path / "runs"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-4:] == [
        f"{page} NO-TF False" for page in ("data", "prepare", "runs", "results")
    ]


def test_dataset_source_can_be_set_through_session_state(runs_dir, small_source):
    at = new_app(small_source).run()
    assert {m.label: m.value for m in at.metric}["Rows"] == "2,826"
    at.session_state["dataset_source"] = path_source(FIXTURES / "custom_headlines.csv")
    at.run()
    assert_clean(at)
    assert {m.label: m.value for m in at.metric}["Rows"] == "300"


def test_prepare_page_names_a_dropped_class_by_its_display_name(runs_dir, small_source):
    """Found: a class dropped for being too small showed as its raw code ("m")."""
    at = open_page(new_app(small_source), "prepare")
    # after dedupe: business 692 rows, the others 694-695
    at.number_input(key="keep.prepare.min_class_rows").set_value(693).run()
    assert_clean(at)
    chart = figure_of(next(c for c in at.get("plotly_chart") if "before_after" in c.proto.id))
    names = {y for trace in chart.data for y in values(trace.y)}
    assert "business" in names and "b" not in names


def test_the_data_preview_adds_label_names_only_where_labels_are_codes(runs_dir, small_source):
    """The bundled file's labels are codes (``b``, ``t``): the preview shows each row's
    class name beside them. A file whose labels are their own names got a "category"
    column it does not have, repeating its labels."""
    own_names = open_page(new_app(path_source(FIXTURES / "custom_headlines.csv")), "data")
    assert_clean(own_names)
    preview = own_names.dataframe[0].value
    assert list(preview.columns) == ["text", "label"]
    codes = open_page(new_app(small_source), "data")
    preview = codes.dataframe[0].value
    assert list(preview.columns[:3]) == ["text", "label", "category"]
    assert dict(zip(preview["label"], preview["category"], strict=True))["b"] == "business"
