"""What a session has survives a reload: the key stays in the address on every page,
a watched training's run stays the active run, label-review decisions come back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import (
    VIEWPORT,
    assert_no_exception,
    choose_radio,
    edit_every_setting,
    goto_page,
    main_area,
    set_number,
    sidebar,
    wait_for_app_idle,
)
from playwright.sync_api import Browser, Page, expect

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

TRAINING_TIMEOUT_MS = 300_000


def session_in_address(page: Page) -> str | None:
    (key,) = parse_qs(urlparse(page.url).query).get("session", [None])
    return key


@pytest.fixture(scope="module")
def server_without_runs(
    app_launcher, e2e_output_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    """A server with an empty runs folder (a fresh clone), for the tests that only read:
    each opens a browser context (a session) of its own."""
    runs_dir = tmp_path_factory.mktemp("no-runs") / "runs"
    with app_launcher(runs_dir, e2e_output_dir / "no-runs-server.log") as server:
        yield server


@pytest.mark.parametrize("title", ["Results", "Playground"])
@pytest.mark.parametrize("arrive", ["by the sidebar", "by its address"])
def test_a_page_with_no_runs_keeps_the_session_in_the_address(
    chromium_browser: Browser, server_without_runs: AppServer, title: str, arrive: str
) -> None:
    """Found: on a server with no runs yet, Results and Playground dropped ?session= from
    the address, and a reload there started a new session and reset the dataset."""
    context = chromium_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        if arrive == "by its address":  # a bookmark, or a link someone sent
            page.goto(f"{server_without_runs.url}/{title.lower()}")
            wait_for_app_idle(page)
        else:
            page.goto(server_without_runs.url)
            wait_for_app_idle(page)
            goto_page(page, title)
        key = session_in_address(page)
        assert key
        expect(main_area(page)).to_contain_text("No saved runs yet")
        page.wait_for_timeout(1000)  # anything the page would still do to the address
        assert session_in_address(page) == key
        page.reload()
        wait_for_app_idle(page)
        assert_no_exception(page)
        assert session_in_address(page) == key
        expect(sidebar(page)).not_to_contain_text(re.compile("reset|unknown here"))
    finally:
        context.close()


def test_a_watched_trainings_run_stays_active_after_a_reload(
    chromium_browser: Browser, server_with_a_run: tuple[AppServer, str]
) -> None:
    """Found: after a training watched to its end ("Run … is now the active run"), a
    reload brought back the previous active run (the live panel's fragment adopted the
    run, and only full page runs remembered the session), and the next visit to Train
    adopted the job again, silently, over a run picked in between."""
    server, earlier = server_with_a_run
    context = chromium_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{server.url}/runs")
        wait_for_app_idle(page)
        main_area(page).get_by_role("button", name="Make active").click()
        wait_for_app_idle(page)
        expect(sidebar(page)).to_contain_text(f"{earlier[:8]}")
        goto_page(page, "Prepare")
        choose_radio(page, "Balancing", "Cap rows per class")
        set_number(page, "Cap per class", 100)
        goto_page(page, "Train")
        edit_every_setting(page)
        set_number(page, "Epochs (at most)", 2)
        main_area(page).get_by_role("button", name="Start training", exact=True).click()
        finished = (
            main_area(page)
            .get_by_test_id("stAlertContentSuccess")
            .filter(has_text=re.compile(r": finished\. Run `?([0-9a-f]{16})"))
        )
        expect(finished).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
        trained = re.search(r"[0-9a-f]{16}", finished.inner_text()).group(0)
        # another tab of the same session, on another page
        key = session_in_address(page)
        tab = context.new_page()
        tab.goto(f"{server.url}/results?session={key}")
        wait_for_app_idle(tab)
        assert_no_exception(tab)
        expect(sidebar(tab)).to_contain_text(trained[:8])
        # pick the earlier run again there; Train must not switch back to the job's run
        goto_page(tab, "Runs")
        tab.get_by_test_id("stMain").get_by_test_id("stSelectbox").click()
        tab.get_by_role("option").filter(has_text=earlier[:8]).click()
        wait_for_app_idle(tab)
        main_area(tab).get_by_role("button", name="Make active").click()
        wait_for_app_idle(tab)
        goto_page(tab, "Train")
        tab.wait_for_timeout(1500)
        goto_page(tab, "Results")
        expect(sidebar(tab)).to_contain_text(earlier[:8])
        expect(sidebar(tab)).not_to_contain_text(trained[:8])
    finally:
        context.close()
