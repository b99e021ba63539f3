"""The Label review page in a real browser, on an uploaded file: a review runs in the
background with its progress, the most suspect rows come back ranked with their own
columns, a decision for every row below a threshold, and the corrected CSV downloads.

Run: ``.venv/bin/python -m pytest tests/e2e/test_label_review_in_browser.py -q -s``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from browser_helpers import (
    assert_no_exception,
    choose_radio,
    goto_page,
    main_area,
    metric,
    new_session,
    save_screenshot,
    sidebar,
    wait_for_app_idle,
)
from playwright.sync_api import Browser, Page, expect

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "uci_flipped.csv"
REVIEW_TIMEOUT_MS = 180_000


@pytest.fixture
def page(chromium_browser: Browser, fresh_app_server: AppServer) -> Iterator[Page]:
    with new_session(chromium_browser, fresh_app_server.url) as tab:
        yield tab


def test_review_an_upload_and_download_the_corrected_file(page: Page, e2e_output_dir: Path) -> None:
    side = sidebar(page)
    side.get_by_test_id("stRadioOption").filter(has_text="Upload a CSV").click()
    wait_for_app_idle(page)
    side.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "flipped.csv", "mimeType": "text/csv", "buffer": FIXTURE.read_bytes()}]
    )
    wait_for_app_idle(page)
    expect(side).to_contain_text("Active: flipped.csv")

    goto_page(page, "Label review")
    main = main_area(page)
    main.get_by_text("Review settings", exact=True).click()
    wait_for_app_idle(page)
    choose_radio(page, "Models", "TF-IDF + logistic regression alone (the quickest)")
    main.get_by_role("button", name="Find likely mislabelled rows").click()
    expect(metric(page, "Rows reviewed")).to_contain_text("8,000", timeout=REVIEW_TIMEOUT_MS)
    wait_for_app_idle(page)
    assert_no_exception(page)
    editor = main.get_by_test_id("stDataFrame").nth(1)
    expect(editor).to_be_visible()
    save_screenshot(page, e2e_output_dir, "label_review_ranked")

    main.get_by_role("button", name="Drop them all").click()
    wait_for_app_idle(page)
    caption = main.get_by_text("Your decisions:")
    expect(caption).to_contain_text("0 rows relabelled")
    dropped = int(
        caption.inner_text().split("relabelled, ")[1].split(" dropped")[0].replace(",", "")
    )
    assert dropped > 0

    with page.expect_download() as download_info:
        main.get_by_role("button", name="Download the corrected CSV").click()
    download = download_info.value
    assert download.suggested_filename == "flipped-corrected.csv"
    corrected = pd.read_csv(io.BytesIO(Path(download.path()).read_bytes()))
    original = pd.read_csv(FIXTURE)
    assert list(corrected.columns) == list(original.columns)
    assert len(corrected) == len(original) - dropped
    assert set(corrected["ID"]) < set(original["ID"])
    assert_no_exception(page)
