"""The run report in a real browser (issue 34): the Results page's "Download report" button
gives the file, and the file opens offline with every chart drawn.

A visitor uploads ``uci_small.csv`` (so the run's own data is active and the report has
its slices), opens a run trained on it through its link, and clicks "Download report".
The downloaded file is then opened in a browser context that is offline and refuses every
request but the file's own: nothing is asked for, all six charts (curves, scores,
classes, confusion matrix, publishers, weeks) are drawn at a readable size, and the run's
id and accuracy are in its text. Before issue 34 there was no button: the test fails at
the click.

Run: ``.venv/bin/python -m pytest tests/e2e/test_report_in_browser.py -q -p no:xdist -s``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import (
    VIEWPORT,
    assert_no_exception,
    main_area,
    new_session,
    sidebar,
    wait_for_app_idle,
)
from playwright.sync_api import Browser, Route, expect

from pipeline.runs.registry import RunRegistry
from tests.tiny_training import APP_RUN, tiny_config
from ui.core.session import SESSION_PARAM
from ui.views.report_download import LABEL, report_file_name

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMALL = "uci_small.csv"
#: curves, scores, classes, confusion matrix, weeks (no publisher of the tiny run has 30
#: test rows: a sentence says so instead of a chart of one bar, "other")
CHARTS = 5


@pytest.fixture(scope="module")
def run_id(app_server: AppServer) -> str:
    """A tiny run on ``uci_small.csv`` in the shared server's runs folder (shared: trained
    as the command line trains)."""
    from pipeline.data import load_dataset
    from pipeline.training.train import train_run

    dataset = load_dataset(FIXTURES / SMALL)
    return train_run(dataset, tiny_config(**APP_RUN), runs_dir=app_server.runs_dir).run_id


def test_the_downloaded_report_opens_offline_with_every_chart_drawn(
    chromium_browser: Browser, app_server: AppServer, run_id: str, tmp_path: Path
) -> None:
    saved = RunRegistry(app_server.runs_dir).get(run_id)
    with new_session(chromium_browser, app_server.url) as page:
        side = sidebar(page)
        side.get_by_test_id("stRadioOption").filter(has_text="Upload a CSV").click()
        wait_for_app_idle(page)
        side.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            files=[
                {"name": SMALL, "mimeType": "text/csv", "buffer": (FIXTURES / SMALL).read_bytes()}
            ]
        )
        wait_for_app_idle(page)
        expect(side).to_contain_text(f"Active: {SMALL}")
        key = parse_qs(urlparse(page.url).query)[SESSION_PARAM][0]
        page.goto(f"{app_server.url}/results?run={run_id}&{SESSION_PARAM}={key}")
        wait_for_app_idle(page)
        assert_no_exception(page)
        expect(main_area(page)).to_contain_text(run_id[:8])
        with page.expect_download(timeout=120_000) as download_info:
            main_area(page).get_by_role("button", name=LABEL).click()
        download = download_info.value
        assert download.suggested_filename == report_file_name(run_id)
        report = tmp_path / download.suggested_filename
        download.save_as(report)

    context = chromium_browser.new_context(viewport=VIEWPORT, offline=True)
    asked: list[str] = []
    file_url = report.resolve().as_uri()

    def refuse_all_but_the_file(route: Route) -> None:
        if route.request.url == file_url:
            route.continue_()
        else:
            asked.append(route.request.url)
            route.abort()

    try:
        context.route("**/*", refuse_all_but_the_file)
        tab = context.new_page()
        tab.on("request", lambda request: asked.append(request.url))
        tab.goto(file_url)
        tab.wait_for_load_state("load")
        assert asked == [file_url]  # the file itself, nothing else
        charts = tab.locator("figure > svg")
        expect(charts).to_have_count(CHARTS)
        for index in range(CHARTS):
            box = charts.nth(index).bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100, index
        text = tab.locator("body").inner_text()
        assert run_id in text
        assert f"{saved.metrics.test_accuracy:.2%}" in text
        assert "Test accuracy by TIMESTAMP (week)" in text  # the run's own data
        assert tab.locator("script").count() == 0
    finally:
        context.close()
