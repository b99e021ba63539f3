"""Results at 1280x800 with 4 and 27 classes, in a real browser (issue 31, items 5 and 15).

Found on a walk through the app: the 27-class confusion matrix was drawn about 285 px
wide beside a table, its cell values overprinting one another, and the confusion
table's "share of true class" column was cut at 1280 px. Only a browser shows either.

Two tiny runs are trained by the CLI into the shared server's runs folder: one on
``uci_small.csv`` (4 classes) and one on the 27 largest classes of ``many_classes.csv``.
For each, Results must draw the matrix beside its "most confused pairs" table (4 classes)
or across the page with the table below (27), every value drawn in a cell must fit its
cell (in counts and in shares), and the table must show every column without scrolling.
Full-page screenshots go to ``test-output/e2e/results-<n>-classes.png`` for a look after a
run (the documentation's screenshots come from ``make screenshots``,
``scripts/take_screenshots.py``).

Run: ``.venv/bin/python -m pytest tests/e2e/test_results_layout.py -q``.
"""

from __future__ import annotations

import itertools
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
    assert_no_exception,
    goto_page,
    main_area,
    page_title,
    plotly_charts,
    save_screenshot,
    wait_for_app_idle,
    widget,
)
from playwright.sync_api import Browser, Locator, Page, expect

from tests.cli_support import run_cli
from tests.tiny_training import EVERY_ROW, PRESET_SEQUENCE_SIZES, tiny_cli_flags

if TYPE_CHECKING:
    from conftest import AppServer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
#: The window the issue was found in.
SMALL_VIEWPORT = {"width": 1280, "height": 800}
#: A tiny run: seconds on two cores (every row: the preset's class weights and batch size).
TINY_RUN = tiny_cli_flags(
    **EVERY_ROW, batch_size=None, **PRESET_SEQUENCE_SIZES, ngram_tokens=2000, ngram_dim=8
)


@pytest.fixture(scope="module")
def runs(app_server: AppServer, tmp_path_factory: pytest.TempPathFactory) -> dict[int, str]:
    """``{classes: run id}``: tiny runs of 4 and 27 classes in the server's runs folder."""
    many = pd.read_csv(FIXTURES / "many_classes.csv")
    largest = many["CATEGORY"].value_counts().index[:27]
    classes_27 = tmp_path_factory.mktemp("data") / "classes_27.csv"
    many[many["CATEGORY"].isin(largest)].to_csv(classes_27, index=False)
    found = {}
    for classes, data in ((4, FIXTURES / "uci_small.csv"), (27, classes_27)):
        done = run_cli(
            "train", "--data", str(data), "--json", *TINY_RUN, runs_dir=app_server.runs_dir
        )
        assert done.returncode == 0, done.stderr[-3000:]
        found[classes] = json.loads(done.stdout)["run_id"]
    return found


@pytest.fixture(scope="module")
def page(chromium_browser: Browser, app_server: AppServer) -> Iterator[Page]:
    """One tab of 1280x800 on the app, on Results."""
    context = chromium_browser.new_context(viewport=SMALL_VIEWPORT)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    try:
        tab.goto(app_server.url, wait_until="commit")
        expect(page_title(tab)).to_have_text("Data", timeout=IDLE_TIMEOUT_MS)
        wait_for_app_idle(tab)
        yield tab
    finally:
        context.close()


def _pick_run(page: Page, run_id: str) -> None:
    box = widget(page, "stSelectbox", "Run")
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # the page settles after the scroll (a sticky header)
    box.get_by_role("combobox").click()
    page.get_by_role("option").filter(has_text=run_id[:8]).first.click()
    wait_for_app_idle(page)
    expect(box.get_by_role("combobox")).to_have_value(re.compile(re.escape(run_id[:8])))


def _matrix(page: Page) -> Locator:
    chart = plotly_charts(page).filter(has=page.locator(".gtitle", has_text="Confusion matrix"))
    expect(chart).to_have_count(1, timeout=IDLE_TIMEOUT_MS)
    chart.scroll_into_view_if_needed()
    return chart


#: Every value drawn in a cell of the heatmap, its box, and the plot area's box.
_CELL_TEXTS = """el => {
  const plot = el.querySelector('.nsewdrag').getBoundingClientRect();
  const texts = [...el.querySelectorAll('.heatmaplayer text, g.textpoint text')]
    .filter(t => t.textContent.trim() !== '')
    .map(t => { const b = t.getBoundingClientRect();
                return {text: t.textContent, left: b.left, right: b.right,
                        top: b.top, bottom: b.bottom}; });
  return {plot: {width: plot.width, height: plot.height}, texts};
}"""


def _assert_values_fit_their_cells(chart: Locator, classes: int) -> int:
    """Every value drawn in the matrix is narrower and shorter than a cell, and no two
    overlap; returns how many are drawn (waits for plotly to draw them)."""
    deadline = time.monotonic() + 30
    drawn = chart.evaluate(_CELL_TEXTS)
    while not drawn["texts"] and time.monotonic() < deadline:
        time.sleep(0.25)
        drawn = chart.evaluate(_CELL_TEXTS)
    cell_w = drawn["plot"]["width"] / classes
    cell_h = drawn["plot"]["height"] / classes
    texts = drawn["texts"]
    too_wide = [t for t in texts if t["right"] - t["left"] > cell_w - 1]
    assert not too_wide, f"cells are {cell_w:.1f} px wide; wider values: {too_wide[:5]}"
    assert all(t["bottom"] - t["top"] <= cell_h for t in texts), cell_h
    ordered = sorted(texts, key=lambda t: (round(t["top"]), t["left"]))
    for a, b in itertools.pairwise(ordered):
        if round(a["top"]) == round(b["top"]):
            assert a["right"] <= b["left"], f"{a['text']!r} overprints {b['text']!r}"
    return len(texts)


def _assert_metrics_whole(page: Page) -> None:
    """The test metrics' labels, values and deltas ("-3.46 points") are not cut: the
    baseline's label once read "TF-IDF baseline acc…" at 1280 px."""
    deltas = main_area(page).get_by_test_id("stMetric")
    expect(deltas.first).to_be_visible()
    cut = deltas.evaluate_all(
        """els => els.flatMap(el => [...el.querySelectorAll('*')])
            .filter(e => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)
            .map(e => e.textContent)"""
    )
    assert not cut, f"metrics cut: {cut}"


def _assert_labels_apart(chart: Locator) -> None:
    """The predicted classes' labels under the matrix do not overlap one another."""
    boxes = chart.locator("g.xtick text").evaluate_all(
        "els => els.map(e => { const b = e.getBoundingClientRect();"
        " return [b.left, b.right, e.textContent]; })"
    )
    boxes.sort()
    for (_, right, name), (left, _, after) in itertools.pairwise(boxes):
        assert right <= left + 0.5, f"{name!r} overlaps {after!r}"


def _assert_table_not_cut(table: Locator) -> None:
    """The data grid shows every column: nothing to scroll sideways, inside the window."""
    table.scroll_into_view_if_needed()
    sizes = table.evaluate(
        """el => {
          const s = el.querySelector('.dvn-scroller'); const r = el.getBoundingClientRect();
          return {scroll: s.scrollWidth, client: s.clientWidth, right: r.right};
        }"""
    )
    assert sizes["scroll"] <= sizes["client"] + 1, sizes
    assert sizes["right"] <= SMALL_VIEWPORT["width"], sizes


@pytest.mark.e2e
@pytest.mark.parametrize("classes", [4, 27])
def test_confusion_matrix_and_its_pairs_read_at_1280(
    page: Page, runs: dict[int, str], classes: int, e2e_output_dir: Path
) -> None:
    goto_page(page, "Results")
    _pick_run(page, runs[classes])
    _assert_metrics_whole(page)
    chart = _matrix(page)
    pairs_title = main_area(page).get_by_text("Most confused pairs", exact=True)
    expect(pairs_title).to_be_visible()
    # the table is the data grid in the same block as its title
    block = pairs_title.locator("xpath=ancestor::div[@data-testid='stVerticalBlock'][1]")
    pairs = block.get_by_test_id("stDataFrame")
    expect(pairs).to_have_count(1)
    chart_box, pairs_box = chart.bounding_box(), pairs.bounding_box()
    content = main_area(page).get_by_test_id("stVerticalBlock").first.bounding_box()
    assert chart_box and pairs_box and content
    if classes >= 10:  # across the page, the table below it
        assert chart_box["width"] >= 0.95 * content["width"], (chart_box, content)
        assert pairs_box["y"] >= chart_box["y"] + chart_box["height"] - 1
    else:  # beside its table
        assert pairs_box["x"] >= chart_box["x"] + chart_box["width"] - 1
        assert pairs_box["y"] < chart_box["y"] + chart_box["height"]
    assert _assert_values_fit_their_cells(chart, classes) > 0
    _assert_labels_apart(chart)
    _assert_table_not_cut(pairs)
    report = main_area(page).get_by_text("Per-class report", exact=True)
    _assert_table_not_cut(
        report.locator("xpath=ancestor::div[@data-testid='stVerticalBlock'][1]").get_by_test_id(
            "stDataFrame"
        )
    )
    assert_no_exception(page)
    save_screenshot(page, e2e_output_dir, f"results-{classes}-classes")

    # the shares too: "87" in a cell beside a 0-100 % colour bar, none overprinting
    control = widget(page, "stButtonGroup", "Confusion matrix values")
    control.get_by_text("normalised", exact=True).click()
    wait_for_app_idle(page)
    chart = _matrix(page)
    expect(chart.locator(".gtitle")).to_contain_text("share of each true class")
    _assert_values_fit_their_cells(chart, classes)
    ticks = chart.locator("g.colorbar text").all_text_contents()
    assert any(t.endswith("%") for t in ticks) and "100%" in ticks, ticks
    control.get_by_text("counts", exact=True).click()
    wait_for_app_idle(page)
