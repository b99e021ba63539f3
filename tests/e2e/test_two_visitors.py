"""Two visitors start a training at the same moment, each in its own browser context
(its own Streamlit session): one runs, the other waits visibly on its own page; both
finish, and each sees only its own progress, Stop button and run."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from browser_helpers import (
    VIEWPORT,
    assert_no_exception,
    choose_radio,
    edit_every_setting,
    goto_page,
    main_area,
    set_number,
    wait_for_app_idle,
)
from playwright.sync_api import Browser, Page, expect

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

TRAINING_TIMEOUT_MS = 300_000


def _visitor(browser: Browser, url: str, cap: int) -> Page:
    """A new session on the Train page, set up for a small training of its own."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    wait_for_app_idle(page)
    goto_page(page, "Prepare")
    choose_radio(page, "Balancing", "Cap rows per class")
    set_number(page, "Cap per class", cap)
    goto_page(page, "Train")
    edit_every_setting(page)
    set_number(page, "Epochs (at most)", 3)
    return page


def _finished(page: Page):
    return (
        main_area(page)
        .get_by_test_id("stAlertContentSuccess")
        .filter(has_text=re.compile(r": finished\. Run `?([0-9a-f]{16})"))
    )


def test_two_visitors_train_at_once_and_each_sees_only_its_own(
    chromium_browser: Browser, app_server: AppServer
) -> None:
    # the first training long enough (on a loaded machine too) for the second to be
    # seen waiting behind it
    first = _visitor(chromium_browser, app_server.url, 8000)
    second = _visitor(chromium_browser, app_server.url, 200)
    try:
        first_main, second_main = main_area(first), main_area(second)
        first_main.get_by_role("button", name="Start training", exact=True).click()
        # The server takes clicks in the order their script runs reach it: on a loaded
        # machine the second visitor's could overtake the first's. The second clicks once
        # the first's job runs, while it runs.
        expect(first_main.get_by_role("button", name="Stop", exact=True)).to_be_visible(
            timeout=60_000
        )
        second_main.get_by_role("button", name="Start training", exact=True).click()
        # one of them waits its turn, on its own page, and says so; no Stop of the other's
        waiting = second_main.get_by_text(re.compile(r"waiting its turn, 1 training ahead"))
        expect(waiting).to_be_visible(timeout=60_000)
        others = second_main.get_by_text(re.compile("Other visitors have 1 job"))
        expect(others).to_be_visible()
        expect(second_main.get_by_role("button", name="Stop", exact=True)).to_have_count(0)
        expect(first_main.get_by_role("button", name="Stop", exact=True)).to_be_visible()
        expect(first_main).not_to_contain_text("waiting its turn")
        # both finish, each with its own run
        expect(_finished(first)).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
        expect(_finished(second)).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
        runs, jobs = [], []
        for page in (first, second):
            text = _finished(page).inner_text()
            runs.append(re.search(r"Run `?([0-9a-f]{16})", text).group(1))
            jobs.append(re.search(r"Job (\d+) ·", text).group(1))
            assert_no_exception(page)
        assert runs[0] != runs[1] and jobs[0] != jobs[1]
        # each one's page shows its own job only
        expect(first_main).not_to_contain_text(f"Job {jobs[1]} ·")
        expect(second_main).not_to_contain_text(f"Job {jobs[0]} ·")
    finally:
        first.context.close()
        second.context.close()
