"""Helpers shared by the browser tests: waiting for the app, finding widgets, screenshots.

Synchronisation follows streamlit/streamlit's own ``e2e_playwright`` tests: after every
action, :func:`wait_for_app_idle` waits until the app reports its script as not running,
the status widget is gone and no element is still a loading skeleton.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

VIEWPORT = {"width": 1400, "height": 1000}
#: How long a check (``expect``) waits unless it says otherwise: the pages' own default.
#: ``expect`` does not read a page's or context's default timeout, and its own is 5 s,
#: too short for a busy machine (``conftest.chromium_browser`` sets this one).
EXPECT_TIMEOUT_MS = 30_000
#: One Streamlit script run (the first load of the full bundled dataset takes ~7 s on 2 cores).
IDLE_TIMEOUT_MS = 90_000
#: The nav title and a URL path pattern of every page, in sidebar order.
#: Each page's address, with or without its query (``?session=...``, see ``ui.core.session``).
PAGES: dict[str, str] = {
    "Data": r"/(\?.*)?$",
    "Prepare": r"/prepare(\?.*)?$",
    "Label review": r"/label_review(\?.*)?$",
    "Train": r"/train(\?.*)?$",
    "Results": r"/results(\?.*)?$",
    "Playground": r"/playground(\?.*)?$",
    "Runs": r"/runs(\?.*)?$",
}
_TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def wait_for_app_idle(page: Page, timeout_ms: int = IDLE_TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished the script run an action started.

    As streamlit/streamlit's ``wait_for_app_run``: a short pause lets a rerun that a click
    or key press just requested start (widgets debounce for up to ~200 ms), then wait for
    the websocket to be connected, for ``stApp`` to report ``data-test-script-state=
    notRunning``, for the "Running..." status widget to be gone and for every lazily loaded
    element (plotly, dataframes) to have replaced its ``stSkeleton`` placeholder.
    """
    page.wait_for_timeout(250)
    app = page.get_by_test_id("stApp")
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=timeout_ms
    )
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=timeout_ms
    )
    expect(app.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=timeout_ms)
    expect(app.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout_ms)


def main_area(page: Page) -> Locator:
    """The page body (everything but the sidebar)."""
    return page.get_by_test_id("stMain")


def sidebar(page: Page) -> Locator:
    """The shared sidebar."""
    return page.get_by_test_id("stSidebar")


def page_title(page: Page) -> Locator:
    """The page's ``st.title`` (an ``h1``)."""
    return main_area(page).get_by_test_id("stHeading").locator("h1").first


def metric(page: Page, label: str) -> Locator:
    """The ``st.metric`` whose label is exactly ``label``."""
    return (
        main_area(page)
        .get_by_test_id("stMetric")
        .filter(has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    )


def widget(page: Page, testid: str, label: str) -> Locator:
    """The widget of type ``testid`` (e.g. ``stNumberInput``) labelled exactly ``label``."""
    return page.get_by_test_id(testid).filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    )


def vega_charts(page: Page) -> Locator:
    """Vega-Lite charts in the page body that have drawn their SVG (the Data page's)."""
    return main_area(page).get_by_test_id("stVegaLiteChart").filter(has=page.locator("svg.marks"))


def plotly_charts(page: Page) -> Locator:
    """Plotly charts in the page body that have drawn their SVG."""
    return main_area(page).get_by_test_id("stPlotlyChart").filter(has=page.locator(".main-svg"))


def assert_no_exception(page: Page) -> None:
    """No Streamlit exception box and no Python traceback anywhere on screen."""
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text("Traceback (most recent call last)")).to_have_count(0)


def goto_page(page: Page, title: str) -> float:
    """Open a page through the sidebar navigation; return seconds until it was idle."""
    link = (
        page.get_by_test_id("stSidebarNav")
        .get_by_test_id("stSidebarNavLink")
        .filter(has=page.get_by_text(title, exact=True))
    )
    expect(link).to_have_count(1)
    start = time.monotonic()
    link.click()
    expect(page).to_have_url(re.compile(PAGES[title]))
    expect(page_title(page)).to_have_text(title, timeout=IDLE_TIMEOUT_MS)
    wait_for_app_idle(page)
    return time.monotonic() - start


def set_number(page: Page, label: str, value: int) -> None:
    """Type ``value`` into the number input labelled ``label`` and commit it (Enter)."""
    field = widget(page, "stNumberInput", label).get_by_test_id("stNumberInputField")
    expect(field).to_be_enabled()
    field.fill(str(value))
    field.press("Enter")
    wait_for_app_idle(page)
    expect(field).to_have_value(str(value))


def edit_every_setting(page: Page) -> None:
    """On the Train page, switch from the settings summary to a field per setting."""
    main_area(page).get_by_text("Edit every setting", exact=True).click()
    wait_for_app_idle(page)
    expect(widget(page, "stNumberInput", "Epochs (at most)")).to_be_visible()


def choose_radio(page: Page, label: str, option: str) -> None:
    """Pick ``option`` (its displayed text) in the radio group labelled ``label``."""
    group = widget(page, "stRadio", label)
    group.get_by_text(option, exact=True).click()
    wait_for_app_idle(page)
    expect(group.get_by_role("radio", name=option, exact=True)).to_be_checked()


def save_screenshot(page: Page, output_dir: Path, name: str) -> Path:
    """A screenshot of the whole page, below the fold included.

    Streamlit scrolls inside ``stMain`` rather than the document, so Playwright's
    ``full_page`` alone stops at the viewport: the viewport is stretched to the content's
    height for the shot and restored after it.
    """
    path = output_dir / f"{name}.png"
    original = page.viewport_size or VIEWPORT
    height = page.evaluate(
        "() => Math.max(...['stMain', 'stSidebarContent'].map(id => "
        "document.querySelector(`[data-testid='${id}']`)?.scrollHeight ?? 0))"
    )
    page.set_viewport_size(
        {"width": original["width"], "height": min(max(int(height), original["height"]), 12_000)}
    )
    try:
        expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
        # Two animation frames: plotly and the data grid re-layout after the resize.
        page.evaluate(_TWO_FRAMES)
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(original)
    return path


@contextlib.contextmanager
def new_session(browser: Browser, url: str, timeout_ms: int = 60_000) -> Iterator[Page]:
    """A new browser context (so a new Streamlit session) with one tab on ``url``,
    drawn and idle; the context is closed on exit."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(timeout_ms)
    tab = context.new_page()
    try:
        tab.goto(url)
        expect(main_area(tab)).to_be_visible(timeout=120_000)
        wait_for_app_idle(tab)
        yield tab
    finally:
        context.close()


def choose_archive(page: Page, archive: bytes) -> None:
    """Put ``archive`` in the Runs page's "Import a run" uploader."""
    uploader = main_area(page).get_by_test_id("stFileUploader").filter(has_text="Run archive")
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "run.zip", "mimeType": "application/zip", "buffer": archive}]
    )
    wait_for_app_idle(page)


def press_import(page: Page) -> None:
    """Press the Runs page's Import button and wait for the page."""
    main_area(page).get_by_role("button", name="Import", exact=True).click()
    wait_for_app_idle(page)


def import_run(page: Page, archive: bytes) -> str:
    """Import ``archive`` on the Runs page; the new run's id, from the success message."""
    choose_archive(page, archive)
    press_import(page)
    done = main_area(page).get_by_test_id("stAlertContentSuccess").filter(has_text="Imported run")
    expect(done).to_be_visible(timeout=IDLE_TIMEOUT_MS)
    match = re.search(r"Imported run `?([0-9a-f]{16})", done.inner_text())
    assert match, done.inner_text()
    return match.group(1)
