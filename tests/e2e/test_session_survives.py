"""What a session has survives a reload: the key stays in the address on every page,
a watched training's run stays the active run, label-review decisions come back."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import (
    VIEWPORT,
    assert_no_exception,
    goto_page,
    main_area,
    sidebar,
    wait_for_app_idle,
)
from playwright.sync_api import Browser, Page, expect

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e


def session_in_address(page: Page) -> str | None:
    (key,) = parse_qs(urlparse(page.url).query).get("session", [None])
    return key


@pytest.mark.parametrize("title", ["Results", "Playground"])
@pytest.mark.parametrize("arrive", ["by the sidebar", "by its address"])
def test_a_page_with_no_runs_keeps_the_session_in_the_address(
    chromium_browser: Browser, fresh_app_server: AppServer, title: str, arrive: str
) -> None:
    """Found: on a server with no runs yet, Results and Playground dropped ?session= from
    the address, and a reload there started a new session and reset the dataset."""
    context = chromium_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        if arrive == "by its address":  # a bookmark, or a link someone sent
            page.goto(f"{fresh_app_server.url}/{title.lower()}")
            wait_for_app_idle(page)
        else:
            page.goto(fresh_app_server.url)
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
