"""Nothing a file or a visitor supplies becomes markup, on any page, in a real browser.

A CSV whose labels and publishers are HTML (``<a href=...>``, ``<b>``, ``<i>``,
``<span style=...>``) is uploaded, trained on, and shown on every page; a headline
made of the same tags is typed into the Playground. No link, bold, italic or styled
span made from them may exist anywhere in the page, plotly's SVG included (plotly
reads such tags as markup unless they are escaped), and the text still shows as typed.

Run: ``.venv/bin/python -m pytest tests/e2e/test_markup.py -q -s``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_helpers import (
    assert_no_exception,
    choose_radio,
    edit_every_setting,
    goto_page,
    main_area,
    new_session,
    set_number,
    sidebar,
    vega_charts,
    wait_for_app_idle,
    widget,
)
from playwright.sync_api import Browser, Page, expect

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "uci_small.csv"
#: The UCI codes, relabelled as markup.
LABELS = {
    "b": '<a href="https://example.com">Click</a>',
    "e": "<b>bold</b>",
    "m": "<i>it</i>",
    "t": "<span style='color:red'>red</span>",
}
HEADLINE = "<b>bold</b> <a href='https://example.com'>link</a> <i>it</i> stocks rally"

#: Elements that would have been made from the tags above, in HTML or in plotly's SVG.
FIND_INJECTED = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    const text = (el.textContent || '').trim();
    const style = (el.getAttribute('style') || '').replace(/\\s/g, '');
    const href = el.getAttribute('href') || el.getAttribute('xlink:href') || '';
    if (href.includes('example.com')) found.push(tag + ' href=' + href);
    if ((tag === 'b' || tag === 'strong') && text === 'bold') found.push(tag);
    if ((tag === 'i' || tag === 'em') && text === 'it') found.push(tag);
    if (tag === 'span' && style.includes('color:red') && text === 'red') found.push('span');
    if (tag === 'tspan' && text === 'bold' && style.includes('bold')) found.push('svg bold');
    if (tag === 'tspan' && text === 'it' && style.includes('italic')) found.push('svg italic');
  }
  return found;
}"""


def _marked_up_csv() -> bytes:
    rows = list(csv.DictReader(io.StringIO(FIXTURE.read_text("utf-8"))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for index, row in enumerate(rows):
        row["CATEGORY"] = LABELS[row["CATEGORY"]]
        if index % 3 == 0:
            row["PUBLISHER"] = "<b>bold</b>"
        writer.writerow(row)
    return out.getvalue().encode()


@pytest.fixture
def page(chromium_browser: Browser, app_server: AppServer) -> Iterator[Page]:
    with new_session(chromium_browser, app_server.url) as tab:
        yield tab


def _assert_nothing_injected(page: Page, where: str) -> None:
    wait_for_app_idle(page)
    assert_no_exception(page)
    injected = page.evaluate(FIND_INJECTED)
    assert injected == [], f"{where}: markup made from data or a visitor: {injected}"


def test_labels_publishers_and_a_typed_headline_never_become_markup(page: Page) -> None:
    side = sidebar(page)
    side.get_by_test_id("stRadioOption").filter(has_text="Upload a CSV").click()
    wait_for_app_idle(page)
    side.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "markup.csv", "mimeType": "text/csv", "buffer": _marked_up_csv()}]
    )
    wait_for_app_idle(page)
    expect(side).to_contain_text("Active: markup.csv")
    # the Data page's charts carry the labels and the publishers, shown as typed, in the
    # axes and in a bar's tooltip
    charts = vega_charts(page)
    expect(charts).to_have_count(3, timeout=120_000)
    expect(charts.first).to_contain_text("<b>bold</b>")
    expect(charts.last).to_contain_text("<b>bold</b>")  # the publishers
    charts.first.locator("g.mark-rect path").first.hover()
    tooltip = page.locator("#vg-tooltip-element")
    expect(tooltip).to_contain_text("<")
    _assert_nothing_injected(page, "Data")

    goto_page(page, "Prepare")
    choose_radio(page, "Balancing", "Cap rows per class")
    set_number(page, "Cap per class", 60)
    _assert_nothing_injected(page, "Prepare")

    goto_page(page, "Train")
    edit_every_setting(page)
    for label, value in (("Epochs (at most)", 3), ("N-gram vocabulary", 2000)):
        set_number(page, label, value)
    main = main_area(page)
    main.get_by_role("button", name="Start training", exact=True).click()
    finished = main.get_by_test_id("stAlertContentSuccess").filter(has_text=re.compile("finished"))
    expect(finished).to_be_visible(timeout=240_000)
    _assert_nothing_injected(page, "Train")

    goto_page(page, "Results")
    expect(main_area(page).get_by_test_id("stPlotlyChart").first).to_be_visible()
    _assert_nothing_injected(page, "Results")

    goto_page(page, "Playground")
    box = widget(page, "stTextInput", "Headline").locator("input")
    box.fill(HEADLINE)
    box.press("Enter")
    wait_for_app_idle(page)
    expect(main_area(page).get_by_text("Words that drove it")).to_be_visible()
    main_area(page).get_by_text("Word importance in detail").click()
    _assert_nothing_injected(page, "Playground")

    goto_page(page, "Runs")
    _assert_nothing_injected(page, "Runs")


def _zip_of(name: str, data: bytes) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def test_each_kind_of_upload_is_read_or_named_in_the_browser(page: Page) -> None:
    """A zip of one CSV is read; an image and a PDF are named for what they are, in a
    message that names the file just uploaded; the previous dataset stays active."""
    side = sidebar(page)
    side.get_by_test_id("stRadioOption").filter(has_text="Upload a CSV").click()
    wait_for_app_idle(page)
    dropzone = side.get_by_test_id("stFileUploaderDropzoneInput")
    error = side.get_by_test_id("stAlertContentError")
    for name, mime, data, said in (
        ("photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "is a PNG image"),
        ("report.pdf", "application/pdf", b"%PDF-1.7\n%\xe2\xe3\n", "is a PDF document"),
    ):
        dropzone.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])
        wait_for_app_idle(page)
        expect(error).to_have_count(1)
        expect(error).to_contain_text(f"{name} {said}")
        expect(error).to_contain_text("Still using the previous dataset")
        expect(side).to_contain_text("Active: UCI News Aggregator (bundled)")
    archive = _zip_of("headlines.csv", FIXTURE.read_bytes())
    dropzone.set_input_files(
        files=[{"name": "data.zip", "mimeType": "application/zip", "buffer": archive}]
    )
    wait_for_app_idle(page)
    expect(side).to_contain_text("Active: data.zip")
    expect(error).to_have_count(0)
    assert_no_exception(page)
