"""The Playground opened by its address on a server that has just started: the headline
box is there while the server still imports TensorFlow and loads the model, and a
headline entered meanwhile is answered once the model has loaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_helpers import VIEWPORT, assert_no_exception, main_area, save_screenshot
from playwright.sync_api import Browser, expect

from tests.tiny_training import APP_RUN, tiny_config

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "uci_small.csv"
HEADLINE = "Central bank holds interest rates steady"


@pytest.fixture
def cold_server(app_launcher, e2e_output_dir: Path, tmp_path: Path) -> Iterator[AppServer]:
    """A server of its own, just started, whose runs folder holds one tiny run."""
    from pipeline.data import load_dataset
    from pipeline.training.train import train_run

    runs_dir = tmp_path / "runs"
    train_run(load_dataset(FIXTURE), tiny_config(**APP_RUN, epochs=1), runs_dir=runs_dir)
    with app_launcher(runs_dir, e2e_output_dir / "cold-playground-server.log") as server:
        yield server


def test_a_headline_entered_while_the_model_loads_is_answered(
    chromium_browser: Browser, cold_server: AppServer, e2e_output_dir: Path
) -> None:
    """Found with ``benchmarks/playground_open.py``: the page drew nothing under its run
    picker until the model had loaded (5.6 s on a server just started), so a visitor
    could not start typing. Pressing Enter while the page still loads the model reruns
    the box's fragment once the page's run ends: the answer must come, not be lost."""
    context = chromium_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{cold_server.url}/playground")
        box = page.get_by_label("Headline", exact=True)
        expect(box).to_be_visible()
        # typed at once: the page is still at work, loading the model under the box
        loading = main_area(page).get_by_text("Loading the model…")
        expect(loading).to_be_visible(timeout=5_000)
        save_screenshot(page, e2e_output_dir, "playground_loading_the_model")
        box.fill(HEADLINE)
        box.press("Enter")
        main = main_area(page)
        expect(main.get_by_text("Predicted category")).to_be_visible()
        expect(main.get_by_text("Words that drove it")).to_be_visible()
        expect(box).to_have_value(HEADLINE)
        expect(main.get_by_text("Score a CSV")).to_be_visible()
        assert_no_exception(page)
    finally:
        context.close()
