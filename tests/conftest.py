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


#: The browser tests' groups: one per module (``browser-<module>``), as the Ray tests'.
BROWSER_GROUP = "browser"


def xdist_group_of(item: pytest.Item) -> str | None:
    """The pytest-xdist group ``item`` runs in (``None``: any worker).

    The browser tests and the Ray tests are grouped by module, so a module's fixtures (a
    server of its own, a sweep, a local engine's reference file) are made once; the
    modules spread over the workers. Each worker that runs browser tests starts its own
    shared server and Chromium (a few seconds): on two workers the browser tests took
    311 s against 371 s on one (this machine, one run each, alone), as the one worker
    left a core idle a third of the time (waiting on the page, the server or a training).
    The Ray modules as one group ran on one worker, the last to finish: the
    non-browser part of ``make test`` took 453 s, and 425 s grouped by module (one run
    each, this machine; a third worker made it 437 s). The two-node Ray cluster, a session
    fixture, starts once on each worker that runs a test needing it (about 10 s).
    """
    folder = item.path.parent.name
    if folder == "e2e":
        return f"{BROWSER_GROUP}-{item.path.stem}"
    if folder == "cluster":
        return f"ray-{item.path.stem}"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group the browser tests and each module of Ray tests for ``--dist loadgroup`` (no
    effect without pytest-xdist)."""
    for item in items:
        group = xdist_group_of(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
