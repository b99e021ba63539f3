"""The Runs page at 1280 px (issue #31, item 15): the table's key columns (what the run is,
its accuracy and status) come first, accuracy as a share; an import error shows where
the visitor looks, above the uploader, not below the Import button at the page's end."""

from __future__ import annotations

import json

import pytest
from apptest_support import assert_clean, new_app, open_page

pytestmark = pytest.mark.training

KEY_COLUMNS = ["active", "created", "model family", "dataset", "accuracy", "macro F1", "status"]


def _walk(node) -> list:
    """Every element under ``node``, in the page's order."""
    children = getattr(node, "children", None)
    if children is None:
        return [node]
    found = []
    for index in sorted(children):
        found.extend(_walk(children[index]))
    return found


def test_the_key_columns_come_first_and_accuracy_reads_as_a_share(
    runs_dir, small_source, saved_run
):
    at = open_page(new_app(small_source), "runs")
    assert_clean(at)
    table = at.dataframe[0]
    assert list(table.value.columns[: len(KEY_COLUMNS)]) == KEY_COLUMNS
    config = json.loads(table.proto.columns)
    assert config["accuracy"]["type_config"]["format"] == "percent"
    assert config["status"]["width"] == "small"


def test_an_import_error_shows_above_the_uploader(runs_dir, small_source, saved_run):
    at = open_page(new_app(small_source), "runs")
    at.get("file_uploader")[0].set_value(("broken.zip", b"not a zip", "application/zip")).run()
    at.button(key="runs.import").click().run()
    assert not at.exception
    order = [getattr(element, "type", "") for element in _walk(at.main)]
    errors = [i for i, kind in enumerate(order) if kind == "error"]
    uploader = order.index("file_uploader")
    assert errors and all(i < uploader for i in errors), order
    assert any("not a zip archive" in e.value for e in at.error)
