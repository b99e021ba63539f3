"""A link to a run (issue 34), in a real browser with two sessions (two browser contexts).

Session A imports a run archive (an import is private to the importing session, as in
``test_access_rules.py``), opens ``/results?run=<id>`` in a fresh tab of its own session
(its key in the address, as its address bar has it) and sees the run; its "Copy link"
gives the address without ``session=``. Session B opens that link and reads only "This
run is not available to you.": nothing of the run (its short id, its accuracy) is drawn.

Before issue 34 the page ignored ``?run=`` and had no "Copy link" control: A's fresh tab
showed its newest run (the imported one, so the first check passed by luck of there being
one), but the "Copy link" button is missing (the test fails there), and B saw "No saved
runs yet" instead of the message.

The module runs a server of its own with an empty runs folder, so the shared server's
runs stay as the other e2e tests expect them.

Run: ``.venv/bin/python -m pytest tests/e2e/test_run_link.py -q -p no:xdist -s``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import (
    IDLE_TIMEOUT_MS,
    VIEWPORT,
    assert_no_exception,
    goto_page,
    import_run,
    main_area,
    metric,
    new_session,
    wait_for_app_idle,
    widget,
)
from playwright.sync_api import Browser, Page, expect

from pipeline.runs.registry import RunRegistry
from tests.tiny_training import APP_RUN, tiny_config
from ui.views.run_link import NOT_AVAILABLE

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "uci_small.csv"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A tiny run on ``uci_small.csv`` (one epoch, seconds) as a run archive."""
    from pipeline.data import load_dataset
    from pipeline.training.train import train_run

    folder = tmp_path_factory.mktemp("link-runs") / "runs"
    run = train_run(load_dataset(FIXTURE), tiny_config(**APP_RUN, epochs=1), runs_dir=folder)
    return RunRegistry(folder).export_zip(run.run_id)


@pytest.fixture(scope="module")
def server(
    app_launcher: Callable[..., contextlib.AbstractContextManager[AppServer]],
    tmp_path_factory: pytest.TempPathFactory,
    e2e_output_dir: Path,
) -> Iterator[AppServer]:
    """The app as visitors share it (not in team mode), no runs saved yet."""
    folder = tmp_path_factory.mktemp("link-server") / "runs"
    folder.mkdir()
    log = e2e_output_dir / "link-server.log"
    with app_launcher(folder, log, {"HEADLINE_LAB_TEAM_MODE": "0"}) as running:
        yield running


def address_params(page: Page) -> dict[str, list[str]]:
    """The query of the tab's address, once the app has put a session key there."""
    expect(page).to_have_url(re.compile(r"[?&]session=[A-Za-z0-9_-]+"))
    return parse_qs(urlparse(page.url).query)


def copied_link(page: Page) -> str:
    """The text of the Results page's "Copy link" control (what its copy button copies)."""
    main_area(page).get_by_role("button", name=re.compile("Copy link")).click()
    code = page.get_by_test_id("stPopoverBody").get_by_test_id("stCode")
    expect(code).to_be_visible()
    text = code.locator("code").inner_text().strip()
    page.keyboard.press("Escape")
    return text


def test_a_run_link_opens_in_its_own_session_and_nowhere_else(
    chromium_browser: Browser, server: AppServer, archive: bytes
) -> None:
    with new_session(chromium_browser, f"{server.url}/runs") as a:
        run_id = import_run(a, archive)  # private to A
        key = address_params(a)["session"][0]

        # A, in a fresh tab of its own session, follows a link to the run
        tab = a.context.new_page()
        tab.goto(f"{server.url}/results?run={run_id}&session={key}")
        wait_for_app_idle(tab)
        accuracy = metric(tab, "Test accuracy")
        expect(accuracy).to_be_visible(timeout=IDLE_TIMEOUT_MS)
        picker = widget(tab, "stSelectbox", "Run").get_by_role("combobox")
        expect(picker).to_have_value(re.compile(re.escape(run_id[:8])))
        value = accuracy.get_by_test_id("stMetricValue").inner_text().strip()
        assert re.fullmatch(r"[\d.]+\s?%", value), value
        assert address_params(tab) == {"session": [key], "run": [run_id]}

        link = copied_link(tab)
        assert link == f"{server.url}/results?run={run_id}"
        assert "session=" not in link and key not in link
        assert_no_exception(tab)

        # another page: the run param does not follow (Streamlit clears it), the key does
        goto_page(tab, "Playground")
        assert address_params(tab) == {"session": [key]}

    # B (another browser context: another session) follows the link A shared
    context = chromium_browser.new_context(viewport=VIEWPORT)
    try:
        b = context.new_page()
        b.goto(link)
        main = main_area(b)
        expect(main.get_by_text(NOT_AVAILABLE, exact=True)).to_be_visible(timeout=IDLE_TIMEOUT_MS)
        wait_for_app_idle(b)
        shown = main.inner_text()
        assert run_id[:8] not in shown and value not in shown
        assert run_id not in b.content()  # nowhere on the page, only in the address
        expect(main.get_by_test_id("stMetric")).to_have_count(0)
        expect(main.get_by_role("button", name=re.compile("Copy link"))).to_have_count(0)
        assert address_params(b)["run"] == [run_id]  # what B typed stays in the address
        assert address_params(b)["session"] != [key]
        assert_no_exception(b)
    finally:
        context.close()
