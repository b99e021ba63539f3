"""The Results page's "Download report" button (issue 34): it is there for a run, and the
file it makes is the run's report with its slices when the active dataset is the run's
own, or says which file to load when it is not.

The click itself (a browser download, then the file opened offline) is
``tests/e2e/test_report_in_browser.py``; here the page is AppTest and the button's
maker is called as Streamlit calls it on a click.
"""

from __future__ import annotations

from html import unescape
from pathlib import Path

from apptest_support import assert_clean, new_app, open_page

from pipeline.data import load_dataset
from pipeline.runs.registry import RunRegistry
from ui.views.report_download import HELP, LABEL, report_file_name, report_maker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_results_offers_the_run_s_report(runs_dir, small_source, saved_run):
    """Fails before issue 34: the page had no download button."""
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    buttons = at.get("download_button")
    assert [button.proto.label for button in buttons] == [LABEL]
    assert buttons[0].proto.help == HELP
    assert report_file_name(saved_run) == f"headline-lab-report-{saved_run}.html"


def test_the_report_has_the_slices_of_the_run_s_own_data_only(runs_dir, saved_run):
    saved = RunRegistry(runs_dir).get(saved_run)
    own = report_maker(saved, load_dataset(FIXTURES / "uci_small.csv"))().decode("utf-8")
    assert saved_run in own and "Test accuracy by TIMESTAMP (week)" in own
    assert "No value of PUBLISHER has 30 test rows or more" in own  # too few for a chart
    other = load_dataset(FIXTURES / "custom_headlines.csv")
    elsewhere = report_maker(saved, other)().decode("utf-8")
    assert "Test accuracy by" not in elsewhere and "PUBLISHER" not in elsewhere
    assert f"the run was trained on uci_small.csv, but {other.name} was the active" in (
        " ".join(elsewhere.split())
    )
    unloaded = unescape(report_maker(saved, None)().decode("utf-8"))
    assert "Load it in the app's sidebar and download the report again" in unloaded
