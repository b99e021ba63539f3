"""A fresh clone's Playground in a real browser: one click trains a first model, its
progress shows in place, and the headline box appears by itself when the run is saved.

The app is a server of its own with an empty runs folder (the session's shared server
holds runs other modules trained). The visitor uploads the ~2,800-row UCI fixture and
trains the default preset on it without opening the Train page.

Run: ``.venv/bin/python -m pytest tests/e2e/test_playground_first_run.py -q -s``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_helpers import (
    assert_no_exception,
    goto_page,
    main_area,
    new_session,
    save_screenshot,
    sidebar,
    wait_for_app_idle,
    widget,
)
from playwright.sync_api import Browser, Page, expect

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "uci_small.csv"
#: The default preset on the fixture, TensorFlow's import in the training process included.
TRAINING_TIMEOUT_MS = 300_000
SCORED_CSV = (
    b"id,source,headline,extra_note\n"
    b"1,wire,Stocks rally as the Fed holds rates,kept\n"
    b"2,blog,,empty\n"
    b"3,wire,Ebola outbreak spreads in West Africa,also kept\n"
)


@pytest.fixture
def page(chromium_browser: Browser, fresh_app_server: AppServer) -> Iterator[Page]:
    with new_session(chromium_browser, fresh_app_server.url) as tab:
        yield tab


def test_first_model_from_the_playground(page: Page, e2e_output_dir: Path) -> None:
    side = sidebar(page)
    side.get_by_test_id("stRadioOption").filter(has_text="Upload a CSV").click()
    wait_for_app_idle(page)
    side.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "first.csv", "mimeType": "text/csv", "buffer": FIXTURE.read_bytes()}]
    )
    wait_for_app_idle(page)
    expect(side).to_contain_text("Active: first.csv")

    goto_page(page, "Playground")
    main = main_area(page)
    no_runs = main.get_by_test_id("stAlertContentInfo").filter(has_text="No saved runs yet")
    expect(no_runs).to_be_visible()
    expect(main).to_contain_text("Trains the fast preset")
    headline_box = widget(page, "stTextInput", "Headline")
    expect(headline_box).to_have_count(0)
    save_screenshot(page, e2e_output_dir, "playground_first_run_offer")

    main.get_by_role("button", name="Train a first model", exact=True).click()
    expect(main).to_contain_text("Training a first model", timeout=60_000)
    expect(main.get_by_test_id("stProgress").first).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    save_screenshot(page, e2e_output_dir, "playground_first_run_progress")

    # No click: the page redraws itself with the headline box once the run is saved.
    expect(headline_box).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    wait_for_app_idle(page)
    assert_no_exception(page)
    expect(main.get_by_role("button", name="Train a first model")).to_have_count(0)
    active = side.get_by_text(re.compile(r"Active run: "))
    expect(active).not_to_contain_text("none yet")

    box = headline_box.locator("input")
    box.fill("Stocks rally as the Fed holds rates")
    box.press("Enter")
    wait_for_app_idle(page)
    expect(main.get_by_test_id("stMetric").first).to_contain_text("Predicted category")
    assert_no_exception(page)
    save_screenshot(page, e2e_output_dir, "playground_first_run_done")

    # A headline the model cannot read says so next to its guess.
    box.fill("Zzqx qqwv blorft")
    box.press("Enter")
    wait_for_app_idle(page)
    warning = main.get_by_test_id("stAlertContentWarning")
    expect(warning).to_contain_text("None of these words was in the training vocabulary")
    expect(main.get_by_test_id("stMetric").first).to_contain_text("Predicted category")

    # A scored file keeps its own columns; an empty row is marked, not guessed.
    uploader = main.get_by_test_id("stFileUploader").filter(has_text="one headline per row")
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "to_score.csv", "mimeType": "text/csv", "buffer": SCORED_CSV}]
    )
    wait_for_app_idle(page)
    main.get_by_role("button", name="Predict", exact=True).click()
    wait_for_app_idle(page)
    expect(main).to_contain_text("2 of 3 rows scored")
    expect(main.get_by_test_id("stDataFrame")).to_be_visible()
    assert_no_exception(page)
    save_screenshot(page, e2e_output_dir, "playground_scored_csv")
