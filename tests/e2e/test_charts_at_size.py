"""Every chart stays readable from 4 to 30 classes, in a real browser.

Found with 27-29 classes: the Data class chart labelled every other class, the confusion
matrix was about 250 px tall with every other class unlabelled, the Prepare panels had
separate scales and "Compare runs" kept the previous run after the picker changed.

The test uploads ``tests/fixtures/uci_small.csv`` (4 classes) and
``tests/fixtures/many_classes.csv`` (30 classes: publishers as labels, see
``tests/fixtures/make_many_classes.py``), opens Data and Prepare for each, trains one tiny
run of each through the CLI into the server's runs folder, and opens Results for both.
On every page every class name must be a tick label of the chart (plotly draws tick
labels as SVG ``text`` inside ``g.xtick`` / ``g.ytick``, Vega-Lite, on the Data page, inside
its axis groups); on Results, with the run's own
data active, the largest publishers of its test set are the ticks of the accuracy per
publisher chart. Screenshots go to ``test-output/e2e/charts-*.png``.

Run: ``.venv/bin/python -m pytest tests/e2e/test_charts_at_size.py -q -s``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from browser_helpers import (
    IDLE_TIMEOUT_MS,
    VIEWPORT,
    assert_no_exception,
    goto_page,
    main_area,
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

from pipeline.data import load_dataset
from pipeline.evaluation.slices import run_slices
from pipeline.runs.registry import RunRegistry
from tests.cli_support import run_cli
from tests.tiny_training import EVERY_ROW, PRESET_SEQUENCE_SIZES, tiny_cli_flags

if TYPE_CHECKING:
    from conftest import AppServer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
#: (fixture file, its class names as the app displays them)
DATASETS = {
    "uci_small.csv": ["business", "entertainment", "health", "science/tech"],
    "many_classes.csv": sorted(
        pd.read_csv(FIXTURES / "many_classes.csv")["CATEGORY"].astype(str).unique()
    ),
}
#: A tiny run: seconds on two cores (every row: the preset's class weights and batch size).
TINY_RUN = tiny_cli_flags(
    **EVERY_ROW, batch_size=None, **PRESET_SEQUENCE_SIZES, ngram_tokens=2000, ngram_dim=8
)
CHART_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def page(chromium_browser: Browser, app_server: AppServer) -> Iterator[Page]:
    """One tab on the app (one Streamlit session) for the module's tests."""
    context = chromium_browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    try:
        tab.goto(app_server.url, wait_until="commit")
        expect(page_title(tab)).to_have_text("Data", timeout=IDLE_TIMEOUT_MS)
        wait_for_app_idle(tab)
        yield tab
    finally:
        context.close()


@pytest.fixture(scope="module")
def trained_runs(app_server: AppServer) -> dict[str, str]:
    """One tiny run per fixture, trained by the CLI (in this process) into the server's
    runs folder: ``{fixture file: run id}``."""
    run_ids = {}
    for name in DATASETS:
        done = run_cli(
            "train",
            "--data",
            str(FIXTURES / name),
            "--json",
            *TINY_RUN,
            runs_dir=app_server.runs_dir,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        run_ids[name] = json.loads(done.stdout)["run_id"]
    return run_ids


def _upload(page: Page, name: str) -> None:
    """Make ``tests/fixtures/<name>`` the active dataset through the sidebar's uploader."""
    side = sidebar(page)
    side.get_by_test_id("stRadioOption").filter(has_text="Upload a CSV").click()
    wait_for_app_idle(page)
    side.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": (FIXTURES / name).read_bytes()}]
    )
    wait_for_app_idle(page)
    expect(side).to_contain_text(f"Active: {name}")


def _chart(page: Page, title: str) -> Locator:
    """The drawn plotly chart whose title starts with ``title``."""
    chart = plotly_charts(page).filter(has=page.locator(".gtitle", has_text=title))
    expect(chart).to_have_count(1, timeout=IDLE_TIMEOUT_MS)
    chart.scroll_into_view_if_needed()
    return chart


def _vega_chart(page: Page, title: str) -> Locator:
    """The drawn Vega-Lite chart (the Data page's) whose title starts with ``title``."""
    chart = vega_charts(page).filter(has=page.locator(".role-title-text", has_text=title))
    expect(chart).to_have_count(1, timeout=IDLE_TIMEOUT_MS)
    chart.scroll_into_view_if_needed()
    return chart


def _ticks(chart: Locator, axis: str) -> list[str]:
    """The tick labels drawn on ``axis`` ("x" or "y"): of a plotly chart's first panel, or
    of a Vega-Lite chart (its axes are groups whose aria-label starts "X-axis"/"Y-axis")."""
    labels = chart.locator(
        f"g.{axis}tick text, g.role-axis[aria-label^='{axis.upper()}-axis'] g.role-axis-label text"
    )
    return [t.strip() for t in labels.all_text_contents()]


def _assert_every_class_labelled(chart: Locator, axis: str, classes: list[str]) -> None:
    """Every class is a tick label of ``axis``, exactly once (waits for plotly to draw)."""
    deadline = time.monotonic() + CHART_TIMEOUT_S
    while True:
        ticks = _ticks(chart, axis)
        if sorted(ticks) == sorted(classes) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    missing = sorted(set(classes) - set(ticks))
    assert not missing, f"classes without a {axis} tick label: {missing}"
    assert sorted(ticks) == sorted(classes), f"{axis} ticks: {ticks}"


def _box_height(chart: Locator) -> float:
    box = chart.bounding_box()
    assert box is not None
    return box["height"]


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(DATASETS))
def test_data_and_prepare_label_every_class(page: Page, name: str, e2e_output_dir: Path) -> None:
    """Data's class chart and Prepare's before/after chart: one labelled tick per class,
    and a height that grows with the number of classes."""
    classes = DATASETS[name]
    goto_page(page, "Data")
    _upload(page, name)
    expect(page_title(page)).to_have_text("Data")
    chart = _vega_chart(page, "Class distribution")
    _assert_every_class_labelled(chart, "y", classes)
    assert _box_height(chart) >= 20 * len(classes)
    # the publishers chart is titled once (by the page's subheader), if there is one
    expect(main_area(page).get_by_text("Top publishers", exact=True)).to_have_count(
        1 if name == "uci_small.csv" else 0
    )
    assert_no_exception(page)
    save_screenshot(page, e2e_output_dir, f"charts-data-{len(classes)}-classes")

    goto_page(page, "Prepare")
    chart = _chart(page, "Class distribution before and after")
    _assert_every_class_labelled(chart, "y", classes)  # the shared class axis, on the left
    expect(chart.locator("g.y2tick text")).to_have_count(0)  # ...labelled once
    assert _box_height(chart) >= 20 * len(classes)
    assert_no_exception(page)
    save_screenshot(page, e2e_output_dir, f"charts-prepare-{len(classes)}-classes")


def _pick_run(page: Page, run_id: str) -> None:
    """Choose the run ``run_id`` in the Results page's "Run" selectbox."""
    box = widget(page, "stSelectbox", "Run")
    box.get_by_role("combobox").click()
    page.get_by_role("option").filter(has_text=run_id[:8]).first.click()
    wait_for_app_idle(page)
    expect(box.get_by_role("combobox")).to_have_value(re.compile(re.escape(run_id[:8])))


@pytest.mark.e2e
def test_results_label_every_class_and_compare_follows_the_picker(
    page: Page, trained_runs: dict[str, str], e2e_output_dir: Path
) -> None:
    """The confusion matrix labels every class on both axes and grows with them; the
    most-confused-pairs table is drawn; "Compare runs" follows the picked run."""
    goto_page(page, "Results")
    heights = {}
    previous: str | None = None
    for name, run_id in trained_runs.items():
        classes = DATASETS[name]
        _pick_run(page, run_id)
        chart = _chart(page, "Confusion matrix")
        _assert_every_class_labelled(chart, "x", classes)
        _assert_every_class_labelled(chart, "y", classes)
        heights[name] = _box_height(chart)
        expect(main_area(page).get_by_text("Most confused pairs", exact=True)).to_be_visible()
        compare = widget(page, "stMultiSelect", "Runs to compare")
        expect(compare).to_contain_text(run_id[:8])
        if previous is not None:  # the previous pick left the comparison with the picker
            expect(compare).not_to_contain_text(previous[:8])
            legend = _chart(page, "val accuracy").locator("g.legend")
            expect(legend).to_contain_text(run_id[:8])
            expect(legend).not_to_contain_text(previous[:8])
        # the epoch axes read whole epochs
        epochs = _ticks(_chart(page, "val accuracy"), "x")
        assert epochs and all(t.isdigit() for t in epochs), epochs
        assert_no_exception(page)
        save_screenshot(page, e2e_output_dir, f"charts-results-{len(classes)}-classes")
        previous = run_id
    assert heights["many_classes.csv"] > 2 * heights["uci_small.csv"]
    assert heights["many_classes.csv"] >= 20 * len(DATASETS["many_classes.csv"])


@pytest.mark.e2e
def test_results_chart_accuracy_per_publisher_and_week(
    page: Page, trained_runs: dict[str, str], app_server: AppServer, e2e_output_dir: Path
) -> None:
    """ "Where the model fails": the publisher chart labels every publisher it shows (the
    largest of the test set, as :func:`pipeline.evaluation.slices.run_slices` finds them) and the
    accuracy per week is drawn beside it."""
    run_id = trained_runs["uci_small.csv"]
    _upload(page, "uci_small.csv")  # the run's own data: its test rows get their columns
    goto_page(page, "Results")
    _pick_run(page, run_id)
    expect(main_area(page).get_by_text("Where the model fails", exact=True)).to_be_visible()
    weeks = _chart(page, "Test accuracy per week")
    expect(weeks.locator("g.x2tick text").first).to_be_attached()  # the rows panel's axis
    # the small test set has no publisher with 30 rows: a note in the chart's place says so
    expect(
        main_area(page).get_by_text(re.compile(r"^No value of PUBLISHER has 30 test rows"))
    ).to_be_visible()
    # show every one with 3 or more
    set_number(page, "Smallest slice (test rows)", 3)
    saved = RunRegistry(app_server.runs_dir).get(run_id)
    expected = run_slices(saved, load_dataset(FIXTURES / "uci_small.csv"), "PUBLISHER", min_rows=3)
    publishers = [row.value for row in expected.slices if not row.other]
    assert publishers, "the tiny run's test set has no publisher with 3 rows"
    chart = _chart(page, "Test accuracy per PUBLISHER")
    deadline = time.monotonic() + CHART_TIMEOUT_S
    while not set(publishers) <= set(_ticks(chart, "y")) and time.monotonic() < deadline:
        time.sleep(0.25)
    ticks = _ticks(chart, "y")
    assert set(publishers) <= set(ticks), (
        f"publishers without a tick: {set(publishers) - set(ticks)}"
    )
    assert len(ticks) == len(expected.slices)  # and "other (N values)" for the rest
    assert_no_exception(page)
    save_screenshot(page, e2e_output_dir, "charts-results-slices")
