"""After Start on the Train page, the live panel is in view at 1280x800 (issue #31, item
14: it was drawn below the settings, under the fold, and nothing showed that a training
had started). A layout only a browser shows: the panel's Stop button and progress bar
must lie inside the viewport right after the click, without scrolling.

Run: ``.venv/bin/python -m pytest tests/e2e/test_train_panel_in_view.py -q -s``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from browser_helpers import edit_every_setting, main_area, page_title, wait_for_app_idle
from playwright.sync_api import Browser, Locator, Page, expect

if TYPE_CHECKING:
    from conftest import AppServer  # tests/e2e/conftest.py

pytestmark = pytest.mark.e2e

SMALL_SCREEN = {"width": 1280, "height": 800}
#: Loading the bundled dataset and starting the job on two busy cores.
START_TIMEOUT_MS = 120_000


def _in_view(element: Locator, height: int) -> bool:
    box = element.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def _start_and_check(page: Page) -> None:
    """Press Start; the panel's Stop button and job line must be in view; then Stop."""
    page.get_by_role("button", name="Start training").click()
    main = main_area(page)
    stop = main.get_by_role("button", name=re.compile(r"^(Stop|Cancel)$"))
    expect(stop).to_be_visible(timeout=START_TIMEOUT_MS)
    job_line = main.get_by_text(re.compile(r"^Job \d+ · "))
    expect(job_line.first).to_be_visible(timeout=START_TIMEOUT_MS)
    # whole, not cut by the fold: the page's one-shot scroll runs on a later animation frame
    for element in (stop.first, job_line.first):
        expect(element).to_be_in_viewport(ratio=1)
    stop.first.click()  # nothing of it is needed: end it within seconds
    expect(main.get_by_text(re.compile(r"Stopped|cancelled")).first).to_be_visible(
        timeout=START_TIMEOUT_MS
    )
    wait_for_app_idle(page)


def test_the_live_panel_is_in_view_after_start(
    chromium_browser: Browser, app_server: AppServer
) -> None:
    """Unscrolled, as the page opens; then with every setting shown, scrolled down to
    the Start button."""
    context = chromium_browser.new_context(viewport=SMALL_SCREEN)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(f"{app_server.url}/train")
        start = page.get_by_role("button", name="Start training")
        expect(start).to_be_visible(timeout=90_000)
        wait_for_app_idle(page)
        assert _in_view(start, SMALL_SCREEN["height"])  # pressed without scrolling
        _start_and_check(page)

        edit_every_setting(page)
        start.scroll_into_view_if_needed()
        assert not _in_view(page_title(page), SMALL_SCREEN["height"])  # scrolled down
        _start_and_check(page)
    finally:
        context.close()
