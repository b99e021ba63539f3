"""The real app in a real browser: ``streamlit run`` driven by headless Chromium.

The tests share one server, one browser and one browser tab (so one Streamlit session),
and follow a user's path: visit every page, prepare a tiny dataset and train a model
through the UI, review it on Results, try headlines in the Playground, then upload a
broken CSV. Screenshots go to ``test-output/e2e/``.

Synchronisation follows streamlit/streamlit's own ``e2e_playwright`` tests: after every
action, :func:`wait_for_app_idle` waits until the app reports its script as not running,
the status widget is gone and no element is still a loading skeleton; everything else is
Playwright's auto-waiting ``expect``. No fixed sleep is ever the only synchronisation.

Run: ``.venv/bin/python -m pytest tests/e2e -q -s``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_helpers import (
    IDLE_TIMEOUT_MS,
    PAGES,
    VIEWPORT,
    assert_no_exception,
    choose_radio,
    edit_every_setting,
    goto_page,
    main_area,
    metric,
    page_title,
    plotly_charts,
    save_screenshot,
    set_number,
    sidebar,
    vega_charts,
    wait_for_app_idle,
    widget,
)
from playwright.sync_api import Browser, Locator, Page, expect

from pipeline.runs.registry import RunRegistry

if TYPE_CHECKING:
    from conftest import AppServer, Timings  # tests/e2e/conftest.py

#: The tiny training, TensorFlow import included.
TRAINING_TIMEOUT_MS = 240_000
UCI_CATEGORIES = {"business", "science/tech", "entertainment", "health"}
HEADLINE = "Regular fast food eating linked to fertility issues in women"
SEED_EXAMPLE = "The startup company is booming"
#: The tiny configuration trained through the UI.
CAP_PER_CLASS = 100
EPOCHS = 40  # at most: early stopping ends the tiny run sooner
LEARNING_RATE = 0.02
NGRAM_EMBEDDING_SIZE = 16
NGRAM_VOCABULARY = 2000
#: An unterminated quote: pandas cannot parse it, pipeline.data says so by name.
BROKEN_CSV = b'TITLE,CATEGORY\n"An unterminated quote starts here,b\nAnother headline,t\n'


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_page(chromium_browser: Browser, app_server: AppServer, timings: Timings) -> Iterator[Page]:
    """One browser tab on the app, shared by the module's tests (one Streamlit session).

    Measures the time from starting ``streamlit run`` to the first page's heading being
    visible (``first_page_rendered_s``) and to that page being fully drawn on the full
    bundled dataset, cold caches (``first_page_complete_s``).
    """
    context = chromium_browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(app_server.url, wait_until="commit")
        expect(page_title(page)).to_have_text("Data", timeout=IDLE_TIMEOUT_MS)
        timings.record("first_page_rendered_s", time.monotonic() - app_server.started_at)
        wait_for_app_idle(page)
        expect(vega_charts(page)).to_have_count(3, timeout=IDLE_TIMEOUT_MS)
        timings.record("first_page_complete_s", time.monotonic() - app_server.started_at)
        yield page
    finally:
        context.close()


@dataclass(frozen=True)
class TrainedRun:
    """What the Train page said when the tiny training finished."""

    run_id: str
    message: str
    seconds: float


@pytest.fixture(scope="module")
def trained_run(
    app_page: Page, app_server: AppServer, e2e_output_dir: Path, timings: Timings
) -> TrainedRun:
    """Train a tiny model through the UI: cap the classes on Prepare, then one short epoch.

    Leaves the tab on the Train page with the finished job shown.
    """
    page = app_page
    goto_page(page, "Prepare")
    choose_radio(page, "Balancing", "Cap rows per class")
    set_number(page, "Cap per class", CAP_PER_CLASS)
    assert_no_exception(page)
    expect(metric(page, "Rows after balancing").get_by_test_id("stMetricValue")).to_have_text(
        f"{4 * CAP_PER_CLASS:,}"
    )

    timings.record("train_page_first_visit_s", goto_page(page, "Train"))
    # the first draw: preset, family and the values in one line; fields on request
    expect(main_area(page)).to_contain_text("Epochs (at most) 100")
    edit_every_setting(page)
    for label, value in (
        ("Epochs (at most)", EPOCHS),
        ("N-gram embedding size", NGRAM_EMBEDDING_SIZE),
        ("N-gram vocabulary", NGRAM_VOCABULARY),
        ("Learning rate", LEARNING_RATE),
    ):
        set_number(page, label, value)
    main = main_area(page)
    expect(main).to_contain_text(f"Cap rows per class · Cap per class {CAP_PER_CLASS:,}")
    save_screenshot(page, e2e_output_dir, "train_settings")

    start = time.monotonic()
    main.get_by_role("button", name="Start training", exact=True).click()
    done = main.get_by_test_id("stAlertContentSuccess").filter(
        has_text=re.compile(r"finished|loaded from cache")
    )
    failed = main.get_by_test_id("stAlertContentError")
    running = main.get_by_test_id("stProgress").first
    expect(running.or_(done).or_(failed).first).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    if running.is_visible():  # live progress: epoch and batch bars, metrics, Stop button
        expect(main.get_by_role("button", name="Stop", exact=True)).to_be_visible()
        save_screenshot(page, e2e_output_dir, "train_running")
    expect(done.or_(failed).first).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    seconds = time.monotonic() - start
    if failed.count():
        pytest.fail(
            f"training failed on the Train page: {failed.first.inner_text()}\n"
            f"server log:\n{app_server.log_tail()}"
        )
    wait_for_app_idle(page)
    message = done.first.inner_text()
    found = re.search(r"[Rr]un\s+`?([0-9A-Za-z_-]{6,})`?", message)
    assert found, f"no run id in the Train page's message: {message!r}"
    timings.record("tiny_training_in_ui_s", seconds)
    return TrainedRun(run_id=found.group(1), message=message, seconds=seconds)


# --- tests -------------------------------------------------------------------------------


def _key_element(page: Page, title: str) -> Locator:
    """An element each page must show (whether or not a run exists yet)."""
    main = main_area(page)
    no_runs = main.get_by_test_id("stAlertContentInfo").filter(has_text="No saved runs yet")
    if title == "Data":
        return metric(page, "Rows")
    if title == "Prepare":
        return widget(page, "stRadio", "Balancing")
    if title == "Label review":
        start = main.get_by_role("button", name="Find likely mislabelled rows", exact=True)
        return start.or_(metric(page, "Rows reviewed"))
    if title == "Train":
        return main.get_by_role("button", name="Start training", exact=True)
    if title == "Results":
        return metric(page, "Test accuracy").or_(no_runs)
    if title == "Playground":
        return widget(page, "stTextInput", "Headline").or_(no_runs)
    if title == "Runs":
        return main.get_by_test_id("stFileUploader").filter(has_text="Run archive")
    raise AssertionError(f"unknown page {title}")


@pytest.mark.e2e
def test_every_page_renders_through_the_navigation(
    app_page: Page, e2e_output_dir: Path, timings: Timings
) -> None:
    """Each page opens from the sidebar with its heading, a key element and no exception."""
    page = app_page
    for title in PAGES:
        if title == "Data":  # already open: go elsewhere first, to come back through the nav
            goto_page(page, "Runs")
            timings.record("data_page_cached_s", goto_page(page, "Data"))
            expect(metric(page, "Rows").get_by_test_id("stMetricValue")).to_have_text("422,937")
            expect(vega_charts(page)).to_have_count(3)  # classes, lengths, publishers
        else:
            goto_page(page, title)
        expect(_key_element(page, title).first).to_be_visible()
        assert_no_exception(page)
        expect(sidebar(page)).to_contain_text("Device:")
        save_screenshot(page, e2e_output_dir, f"page_{title.lower()}")


@pytest.mark.e2e
def test_tiny_training_through_the_train_page(
    app_page: Page, trained_run: TrainedRun, e2e_output_dir: Path
) -> None:
    """A capped dataset and one small epoch, started from the UI, run to completion."""
    page = app_page
    assert "finished" in trained_run.message or "loaded from cache" in trained_run.message
    assert_no_exception(page)
    expect(plotly_charts(page)).to_have_count(2)  # the run's accuracy and loss curves
    # the active run by its date, preset, dataset, accuracy and short id
    expect(sidebar(page)).to_contain_text(f"· {trained_run.run_id[:8]}")
    save_screenshot(page, e2e_output_dir, "train_finished")


@pytest.mark.e2e
def test_results_show_accuracy_and_charts(
    app_page: Page, trained_run: TrainedRun, app_server: AppServer, e2e_output_dir: Path
) -> None:
    """Results of the trained run: test accuracy, the interactive plotly charts, and the
    difference from the baseline in words with its paired 95 % interval."""
    page = app_page
    goto_page(page, "Results")
    expect(metric(page, "Test accuracy").get_by_test_id("stMetricValue")).to_have_text(
        re.compile(r"^\d{1,3}\.\d%$")  # one decimal, as everywhere (ui.core.numbers)
    )
    expect(metric(page, "Baseline accuracy")).to_be_visible()
    expect(widget(page, "stSelectbox", "Run").get_by_role("combobox")).to_have_value(
        re.compile(re.escape(trained_run.run_id[:8]))
    )
    charts = plotly_charts(page)
    expect(charts.first).to_be_visible()
    # curves x2, baseline, confusion matrix, accuracy per week, comparison curves x2,
    # comparison bars; no publisher of the tiny run has 30 test rows: a sentence says so
    # in place of a chart of one bar
    expect(charts).to_have_count(8)
    expect(
        main_area(page).get_by_text(re.compile(r"^No value of PUBLISHER has 30 test rows"))
    ).to_be_visible()
    # the model against the baseline in words, with the paired 95 % interval the run saved
    interval = RunRegistry(app_server.runs_dir).get(trained_run.run_id).metrics.vs_baseline
    assert interval is not None
    sentence = f"Test accuracy: {interval.accuracy.describe()}."
    assert re.search(r"(ahead of|behind|no clear difference from) the baseline", sentence)
    captions = main_area(page).get_by_test_id("stCaptionContainer")
    expect(captions.filter(has_text=sentence)).to_be_visible()
    expect(main_area(page)).to_contain_text(f"Macro F1: {interval.macro_f1.describe()}.")
    assert_no_exception(page)
    save_screenshot(page, e2e_output_dir, "results")


@pytest.mark.e2e
def test_playground_predicts_a_headline_and_a_seed_example(
    app_page: Page, trained_run: TrainedRun, e2e_output_dir: Path
) -> None:
    """Typing a headline shows a category and its probability chart; so does an example."""
    page = app_page
    goto_page(page, "Playground")
    text_box = widget(page, "stTextInput", "Headline").locator("input")
    text_box.fill(HEADLINE)
    text_box.press("Enter")
    wait_for_app_idle(page)
    predicted = metric(page, "Predicted category").get_by_test_id("stMetricValue")
    expect(predicted).to_be_visible()
    assert predicted.inner_text().strip() in UCI_CATEGORIES
    bars = main_area(page).get_by_test_id("stProgress")
    expect(bars).to_have_count(len(UCI_CATEGORIES))  # one bar per class
    for category in UCI_CATEGORIES:
        bar = bars.filter(has_text=re.compile(rf"{re.escape(category)} · [\d.]+%"))
        expect(bar).to_have_count(1)
    assert_no_exception(page)
    save_screenshot(page, e2e_output_dir, "playground")

    main_area(page).get_by_role("button", name=SEED_EXAMPLE, exact=True).click()
    wait_for_app_idle(page)
    expect(text_box).to_have_value(SEED_EXAMPLE)
    expect(predicted).to_be_visible()
    assert predicted.inner_text().strip() in UCI_CATEGORIES
    expect(bars).to_have_count(len(UCI_CATEGORIES))
    assert_no_exception(page)
    save_screenshot(page, e2e_output_dir, "playground_example")


@pytest.mark.e2e
def test_broken_csv_upload_shows_a_clear_error(app_page: Page, e2e_output_dir: Path) -> None:
    """A CSV pandas cannot parse: a message naming the file, no traceback, data kept."""
    page = app_page
    goto_page(page, "Data")
    side = sidebar(page)
    side.get_by_test_id("stRadioOption").filter(has_text="Upload a CSV").click()
    wait_for_app_idle(page)
    uploader = side.get_by_test_id("stFileUploader")
    expect(uploader).to_be_visible()
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "broken.csv", "mimeType": "text/csv", "buffer": BROKEN_CSV}]
    )
    wait_for_app_idle(page)
    error = side.get_by_test_id("stAlertContentError")
    expect(error).to_be_visible()
    expect(error).to_contain_text("broken.csv")
    expect(error).to_contain_text(re.compile(r"could not be read|quote", re.IGNORECASE))
    expect(error).to_contain_text("previous dataset")
    assert_no_exception(page)
    # What the user had stays: the bundled dataset is still the active one.
    expect(side).to_contain_text("Active: UCI News Aggregator (bundled)")
    expect(metric(page, "Rows").get_by_test_id("stMetricValue")).to_have_text("422,937")
    save_screenshot(page, e2e_output_dir, "bad_upload")
