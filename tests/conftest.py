"""Shared fixtures: paths to the committed test files and the small UCI dataset, loaded.

The files under ``tests/fixtures/`` are cut from the bundled data by
``tests/fixtures/make_fixtures.py`` (see its docstring for what each one holds).
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
UCI_SMALL_CSV = FIXTURES_DIR / "uci_small.csv"
NEWS_CORPORA_SMALL = FIXTURES_DIR / "newsCorpora_small.csv"
CUSTOM_CSV = FIXTURES_DIR / "custom_headlines.csv"
LATIN1_CSV = FIXTURES_DIR / "latin1_headlines.csv"
EMPTY_CSV = FIXTURES_DIR / "empty.csv"
HEADER_ONLY_CSV = FIXTURES_DIR / "header_only.csv"
ONE_CLASS_CSV = FIXTURES_DIR / "one_class.csv"
GARBAGE_BIN = FIXTURES_DIR / "garbage.bin"


@pytest.fixture
def fixtures_dir() -> Path:
    """``tests/fixtures``."""
    return FIXTURES_DIR


@pytest.fixture
def uci_small_path() -> Path:
    """About 2,800 UCI rows (whole stories, 20 copies of the 404 title), UCI header."""
    return UCI_SMALL_CSV


@pytest.fixture
def news_corpora_path() -> Path:
    """200 UCI rows in the original header-less, tab-separated newsCorpora layout."""
    return NEWS_CORPORA_SMALL


@pytest.fixture
def custom_csv_path() -> Path:
    """300 rows with columns ``headline,topic`` (money / tech / showbiz)."""
    return CUSTOM_CSV


@pytest.fixture
def latin1_csv_path() -> Path:
    """50 rows ``title,category`` with accented characters, encoded in latin-1."""
    return LATIN1_CSV


@pytest.fixture
def small_dataset():
    """``uci_small.csv`` loaded with :func:`pipeline.data.load_dataset` (a fresh copy)."""
    from pipeline.data import load_dataset

    return load_dataset(UCI_SMALL_CSV)


#: Test folders whose session fixtures are costly to start twice (a Streamlit server and
#: Chromium; a two-node Ray cluster): under ``pytest -n N --dist loadgroup`` each folder's
#: tests run on one worker, so each worker does not start its own.
SHARED_SESSION_GROUPS = {"e2e": "browser", "cluster": "ray"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group the browser tests and the Ray tests for ``--dist loadgroup`` (no effect
    without pytest-xdist)."""
    for item in items:
        folder = item.path.parent.name
        if folder in SHARED_SESSION_GROUPS:
            item.add_marker(pytest.mark.xdist_group(SHARED_SESSION_GROUPS[folder]))
