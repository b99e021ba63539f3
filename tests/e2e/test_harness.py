"""The browser tests' own harness: what a check waits for on a busy machine."""

from __future__ import annotations

import pytest
from browser_helpers import EXPECT_TIMEOUT_MS
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.e2e

#: Later than ``expect``'s own default (5 s), well within :data:`EXPECT_TIMEOUT_MS`.
DRAWN_AFTER_MS = 7_000


def test_a_check_waits_for_what_a_busy_machine_draws_late(chromium_browser: Browser) -> None:
    """Found: a clean-clone run on a busy host failed a Playground check while the answer
    was being drawn. The pages' default timeouts (30-90 s) do not reach Playwright's
    ``expect``, whose own default is 5 s: 126 of the 174 checks, without a timeout of
    their own, were timed assertions of 5 s. Every check now waits
    :data:`EXPECT_TIMEOUT_MS` unless it says otherwise; the text below appears after 7 s."""
    assert EXPECT_TIMEOUT_MS >= 4 * DRAWN_AFTER_MS
    page = chromium_browser.new_page()
    try:
        page.set_content(
            "<p id='late'>drawing…</p><script>setTimeout(() => "
            f"document.getElementById('late').textContent = 'drawn', {DRAWN_AFTER_MS});</script>"
        )
        expect(page.locator("#late")).to_have_text("drawn")
    finally:
        page.close()
