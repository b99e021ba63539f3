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


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep what the collection imported (TensorFlow, Keras, pandas, Streamlit, the test
    modules: about 500,000 objects) out of the test process's later garbage collections,
    as the app's training process keeps its imports out
    (:func:`pipeline.core.memory.freeze_imported_objects`).

    Keras collects once per bag table it quantizes when a training saves its run, so the
    trainings in a test process scanned all of them again and again: 20 s of the suite's
    CPU (`make test-fast` sampled with py-spy)."""
    from pipeline.core.memory import freeze_imported_objects

    freeze_imported_objects()


#: The folders whose tests run by module on one pytest-xdist worker, and their groups'
#: prefixes: the browser tests (``browser-<module>``) and the Ray tests (``ray-<module>``).
GROUPED_FOLDERS = {"e2e": "browser", "cluster": "ray"}


def group_of_test(nodeid: str) -> str | None:
    """The group a test runs in, all on one pytest-xdist worker, from its id: its module,
    for a browser or Ray test (``tests/e2e/test_x.py::test_y`` -> ``browser-test_x``);
    ``None`` for the others (any worker).

    The browser tests and the Ray tests run by module, so a module's fixtures (a
    server of its own, a sweep, a local engine's reference file) are made once; the
    modules spread over the workers. Each worker that runs browser tests starts its own
    shared server and Chromium (a few seconds): on two workers the browser tests took
    311 s against 371 s on one (this machine, one run each, alone), as the one worker
    left a core idle a third of the time (waiting on the page, the server or a training).
    The two-node Ray cluster, a session fixture, starts once on each worker that runs a
    test needing it (about 10 s).
    """
    path = Path(nodeid.split("::", 1)[0])
    prefix = GROUPED_FOLDERS.get(path.parent.name)
    return None if prefix is None else f"{prefix}-{path.stem}"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """Under ``--dist loadgroup`` (``make test``), schedule by :func:`group_of_test`: each
    group is one unit of work, every other test one of its own.

    pytest-xdist 3.8 reads ``xdist_group`` marks into the tests' ids, which pytest 9.2's
    ids no longer take (pytest-xdist issue #1386): marked tests were spread one by one,
    and a Ray module's first sweep (25 s) was made on both workers. The groups are made
    here from the ids instead (``tests/test_suite_groups.py`` checks it).
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of_test(nodeid) or nodeid

    return ModuleGroups(config, log)
