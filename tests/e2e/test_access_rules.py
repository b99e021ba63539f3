"""Who may see, use and delete a run, checked with two browser contexts (two sessions).

Each test drives the real app under ``streamlit run`` (a server of this module's own,
so the shared server's runs folder stays as the other e2e tests expect it) and fails on
the code before the access rules (commit ``c9b0a75``); each docstring says why.

The runs come from the module's fixtures: two tiny runs trained once on
``tests/fixtures/uci_small.csv`` by the pipeline (as the command line would: shared). One
is put in the servers' runs folders before they start (the *shared run*); the other
never is: its archive (``RunRegistry.export_zip``) is what visitors import (an import
is private to the importing session).

Run: ``.venv/bin/python -m pytest tests/e2e/test_access_rules.py -q -s``.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import (
    IDLE_TIMEOUT_MS,
    assert_no_exception,
    goto_page,
    import_run,
    main_area,
    metric,
    new_session,
    press_import,
    set_number,
    sidebar,
    wait_for_app_idle,
    widget,
)
from playwright.sync_api import Browser, Page, expect

from pipeline.runs.registry import RunRegistry
from tests.tiny_training import APP_RUN, tiny_config

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "uci_small.csv"
#: A key nobody issued: what the author of a fixation link would put in it.
PLANTED_KEY = "attackerchosenkey123456"
UNKNOWN_LINK_NOTE = "This link's session is unknown here"
TEAM_MODE_ENV = "HEADLINE_LAB_TEAM_MODE"
TRAINING_TIMEOUT_MS = 300_000


@dataclass(frozen=True)
class TinyRuns:
    """The module's two tiny runs: ``shared_folder`` holds the shared run only."""

    shared_folder: Path
    shared_run_id: str
    archive: bytes
    archive_run_id: str


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> TinyRuns:
    """Two tiny runs on ``uci_small.csv`` (40 rows per class, seconds each): one in a
    folder to copy into a server's runs folder, the other as a run archive."""
    from pipeline.data import load_dataset
    from pipeline.training.train import train_run

    dataset = load_dataset(FIXTURE)
    base = tmp_path_factory.mktemp("access-runs")
    shared = train_run(dataset, tiny_config(**APP_RUN, epochs=1), runs_dir=base / "shared")
    other = train_run(dataset, tiny_config(**APP_RUN, epochs=2), runs_dir=base / "other")
    assert shared.run_id != other.run_id
    return TinyRuns(
        shared_folder=base / "shared",
        shared_run_id=shared.run_id,
        archive=RunRegistry(base / "other").export_zip(other.run_id),
        archive_run_id=other.run_id,
    )


@contextlib.contextmanager
def _server(
    launch: Callable[..., contextlib.AbstractContextManager[AppServer]],
    runs: TinyRuns,
    folder: Path,
    log: Path,
    *,
    team_mode: bool,
) -> Iterator[AppServer]:
    """A server of its own whose runs folder starts with the shared run alone."""
    shutil.copytree(runs.shared_folder, folder)
    with launch(folder, log, {TEAM_MODE_ENV: "1" if team_mode else "0"}) as server:
        yield server


@pytest.fixture(scope="module")
def server(
    app_launcher: Callable[..., contextlib.AbstractContextManager[AppServer]],
    tiny_runs: TinyRuns,
    tmp_path_factory: pytest.TempPathFactory,
    e2e_output_dir: Path,
) -> Iterator[AppServer]:
    """The app as visitors share it (not in team mode), the shared run already saved."""
    folder = tmp_path_factory.mktemp("access-server") / "runs"
    log = e2e_output_dir / "access-server.log"
    with _server(app_launcher, tiny_runs, folder, log, team_mode=False) as running:
        yield running


@pytest.fixture(scope="module")
def team_server(
    app_launcher: Callable[..., contextlib.AbstractContextManager[AppServer]],
    tiny_runs: TinyRuns,
    tmp_path_factory: pytest.TempPathFactory,
    e2e_output_dir: Path,
) -> Iterator[AppServer]:
    """The app with ``HEADLINE_LAB_TEAM_MODE=1``, the shared run already saved."""
    folder = tmp_path_factory.mktemp("access-team-server") / "runs"
    log = e2e_output_dir / "access-team-server.log"
    with _server(app_launcher, tiny_runs, folder, log, team_mode=True) as running:
        yield running


# --- helpers ------------------------------------------------------------------------


def _key_in_address(page: Page) -> str | None:
    """The ``?session=`` key in the tab's address, once the app has put one there."""
    expect(page).to_have_url(re.compile(r"[?&]session=[A-Za-z0-9_-]+"))
    return parse_qs(urlparse(page.url).query).get("session", [None])[0]


def _run_picker(page: Page):
    return widget(page, "stSelectbox", "Run")


def _listed_runs(page: Page) -> list[str]:
    """The short ids (8 hex digits) of the runs the Runs page offers, read from its
    "Run" picker's options; ``[]`` when the page says there are none."""
    main = main_area(page)
    no_runs = main.get_by_text("No saved runs yet", exact=False)
    expect(_run_picker(page).or_(no_runs).first).to_be_visible()
    if no_runs.count():
        return []
    _run_picker(page).get_by_role("combobox").click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    texts = options.all_inner_texts()
    page.keyboard.press("Escape")
    wait_for_app_idle(page)
    short_ids = [re.search(r"([0-9a-f]{8})\s*$", text) for text in texts]
    assert all(short_ids), texts
    return [match.group(1) for match in short_ids]


def _pick(page: Page, label: str, run_id: str) -> None:
    """Choose the run ``run_id`` in the selectbox labelled ``label``."""
    box = widget(page, "stSelectbox", label)
    box.get_by_role("combobox").click()
    page.get_by_role("option").filter(has_text=run_id[:8]).first.click()
    wait_for_app_idle(page)
    expect(box.get_by_role("combobox")).to_have_value(re.compile(re.escape(run_id[:8])))


def _open_runs(browser: Browser, url: str) -> contextlib.AbstractContextManager[Page]:
    """A new session (browser context) opened straight on the Runs page."""
    return new_session(browser, f"{url}/runs")


# --- tests --------------------------------------------------------------------------


def test_a_fixation_link_gives_the_victim_a_new_key_and_the_author_nothing(
    chromium_browser: Browser, server: AppServer, tiny_runs: TinyRuns
) -> None:
    """The author of a link with a key of their own choosing never sees what the victim
    did with it.

    Before (``c9b0a75:ui/session.py``) ``session_key()`` adopted any well-formed key from
    ``?session=`` (``_KEY_PATTERN``, 20-64 URL-safe characters): the victim's address kept
    ``attackerchosenkey123456`` (the first assertion fails), the victim saw no note, its
    import was private to ``hash_key(attackerchosenkey123456)``, and the author, opening
    the same link, became that session and found the victim's run in the list.
    """
    with (
        new_session(chromium_browser, server.url) as author,
        new_session(chromium_browser, f"{server.url}/runs?session={PLANTED_KEY}") as victim,
    ):
        author_key = _key_in_address(author)
        # the victim gets a key of the server's, and is told why
        victim_key = _key_in_address(victim)
        assert victim_key not in (PLANTED_KEY, author_key)
        expect(sidebar(victim).get_by_text(UNKNOWN_LINK_NOTE)).to_be_visible()
        victims_run = import_run(victim, tiny_runs.archive)
        assert victims_run[:8] in _listed_runs(victim)
        assert_no_exception(victim)

        # the author follows the link it made: a new session of its own, again
        author.goto(f"{server.url}/runs?session={PLANTED_KEY}")
        expect(main_area(author)).to_be_visible()
        wait_for_app_idle(author)
        assert _key_in_address(author) not in (PLANTED_KEY, victim_key)
        expect(sidebar(author).get_by_text(UNKNOWN_LINK_NOTE)).to_be_visible()
        listed = _listed_runs(author)
        assert victims_run[:8] not in listed
        assert listed == [tiny_runs.shared_run_id[:8]]  # the shared run only
        assert victims_run not in author.content()
        assert_no_exception(author)

        # the victim's own key still gives the victim its run back
        victim.reload()
        wait_for_app_idle(victim)
        assert _key_in_address(victim) == victim_key
        assert victims_run[:8] in _listed_runs(victim)


def test_a_private_run_continued_on_other_data_stays_private(
    chromium_browser: Browser, server: AppServer, tiny_runs: TinyRuns
) -> None:
    """A private run continued on the bundled data with "Continue on other data" makes a
    run that only its owner sees.

    Before (``c9b0a75:ui/training.py``) ``submit`` gave the child the owner of the
    *active dataset* (``run_owner_for(state.get_dataset_source())``): the bundled data
    is shared, so the child of A's private run was shared and B found it in its list
    (``child[:8] not in listed`` fails), with the private run's vocabulary and weights.
    """
    with (
        _open_runs(chromium_browser, server.url) as owner,
        _open_runs(chromium_browser, server.url) as other,
    ):
        parent = import_run(owner, tiny_runs.archive)  # private to the owner
        goto_page(owner, "Train")
        main = main_area(owner)
        expect(sidebar(owner)).to_contain_text("Active: UCI News Aggregator (bundled)")
        section = main.get_by_test_id("stExpander").filter(has_text="Continue training a saved run")
        section.locator("summary").click()
        wait_for_app_idle(owner)
        _pick(owner, "Run to continue", parent)
        set_number(owner, "More epochs", 1)
        other_data = widget(owner, "stCheckbox", "Continue on other data")
        other_data.get_by_text("Continue on other data", exact=True).click()
        wait_for_app_idle(owner)
        expect(other_data.get_by_role("checkbox")).to_be_checked()
        main.get_by_role("button", name="Continue training", exact=True).click()
        finished = main.get_by_test_id("stAlertContentSuccess").filter(
            has_text=re.compile(r": finished\. Run `?[0-9a-f]{16}")
        )
        expect(finished).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
        child = re.search(r"Run `?([0-9a-f]{16})", finished.inner_text()).group(1)
        assert child != parent
        assert_no_exception(owner)

        goto_page(owner, "Runs")
        assert {child[:8], parent[:8]} <= set(_listed_runs(owner))

        goto_page(other, "Runs")  # a fresh look: the listing after the child was saved
        listed = _listed_runs(other)
        assert child[:8] not in listed and parent[:8] not in listed
        assert child not in other.content() and parent not in other.content()
        assert_no_exception(other)
    saved = RunRegistry(server.runs_dir).get(child)  # as the administrator sees it
    assert saved.config.parent_run_id == parent
    assert saved.run.owner is not None  # private, though trained on the bundled data


def test_team_mode_keeps_a_run_open_elsewhere_and_its_user_keeps_working(
    chromium_browser: Browser, team_server: AppServer, tiny_runs: TinyRuns
) -> None:
    """In team mode B may delete shared runs, but not one that A has open as its active
    run: B is told so, the run stays, and A's Results still show it after a reload.

    Before (``c9b0a75:app_pages/runs.py`` and ``RunRegistry.delete``) nothing checked
    other sessions: B's "Yes, delete it" removed the folder and flashed "Deleted run",
    so the expected error never appears and the run's folder is gone.
    """
    run_id = tiny_runs.shared_run_id
    with (
        _open_runs(chromium_browser, team_server.url) as a,
        _open_runs(chromium_browser, team_server.url) as b,
    ):
        _pick(a, "Run", run_id)
        make_active = main_area(a).get_by_role("button", name="Make active", exact=True)
        if make_active.is_enabled():
            make_active.click()
            wait_for_app_idle(a)
        expect(make_active).to_be_disabled()  # it is A's active run now
        expect(sidebar(a)).to_contain_text(run_id[:8])

        b.reload()  # B looks after A made it active
        wait_for_app_idle(b)
        _pick(b, "Run", run_id)
        main = main_area(b)
        delete = main.get_by_role("button", name="Delete…", exact=True)
        expect(delete).to_be_enabled()  # team mode: anyone may delete a shared run...
        delete.click()
        wait_for_app_idle(b)
        main.get_by_role("button", name="Yes, delete it", exact=True).click()
        wait_for_app_idle(b)
        refused = main.get_by_test_id("stAlertContentError")
        expect(refused).to_contain_text(
            f"Run {run_id} is open in 1 other session as the active run, so it was not deleted"
        )
        expect(main.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
        assert (team_server.runs_dir / run_id).is_dir()
        b.reload()
        wait_for_app_idle(b)
        assert run_id[:8] in _listed_runs(b)
        assert str(team_server.runs_dir) not in b.content()

        # A carries on: Results of its active run, after a reload too
        goto_page(a, "Results")
        a.reload()
        wait_for_app_idle(a)
        expect(metric(a, "Test accuracy")).to_be_visible(timeout=IDLE_TIMEOUT_MS)
        expect(_run_picker(a).get_by_role("combobox")).to_have_value(
            re.compile(re.escape(run_id[:8]))
        )
        expect(sidebar(a)).not_to_contain_text("no longer available")
        assert_no_exception(a)


def test_a_visitor_cannot_delete_a_shared_run(
    chromium_browser: Browser, server: AppServer, tiny_runs: TinyRuns
) -> None:
    """Outside team mode a visitor's "Delete…" is greyed out for a shared run.

    Before (``c9b0a75:app_pages/runs.py``) the button was drawn enabled for every run
    (``st.button("Delete…", key="runs.delete")``), so ``to_be_disabled`` fails.
    """
    with _open_runs(chromium_browser, server.url) as visitor:
        _pick(visitor, "Run", tiny_runs.shared_run_id)
        delete = main_area(visitor).get_by_role("button", name="Delete…", exact=True)
        expect(delete).to_be_disabled()
        assert_no_exception(visitor)
    assert (server.runs_dir / tiny_runs.shared_run_id).is_dir()


def test_importing_what_another_session_imported_reveals_nothing(
    chromium_browser: Browser, server: AppServer, tiny_runs: TinyRuns
) -> None:
    """Two sessions import one archive: each gets a private run of its own, and nothing
    on B's page names A's run; only B's own second import is refused, naming B's run.

    Before (``c9b0a75:pipeline/registry.py``) an import kept the archive's run id: A's
    run was ``archive_run_id``, and B's import was refused with "Run <A's id> is already
    here ... Delete the run here first" (no success message: the test fails there), an
    existence oracle for a run B cannot see.
    """
    with (
        _open_runs(chromium_browser, server.url) as a,
        _open_runs(chromium_browser, server.url) as b,
    ):
        a_run = import_run(a, tiny_runs.archive)
        b_run = import_run(b, tiny_runs.archive)
        assert a_run != b_run
        assert tiny_runs.archive_run_id not in (a_run, b_run)  # ids are the server's
        assert b_run[:8] in _listed_runs(b)
        assert a_run[:8] not in _listed_runs(b)
        for text in (a_run, a_run[:8], tiny_runs.archive_run_id):
            assert text not in b.content()
        assert_no_exception(b)

        # the same archive again in B: refused, naming B's own run
        press_import(b)
        refused = main_area(b).get_by_test_id("stAlertContentError")
        expect(refused).to_contain_text(f"already here as run {b_run}")
        for text in (a_run, a_run[:8], tiny_runs.archive_run_id):
            assert text not in b.content()
        assert a_run[:8] in _listed_runs(a) and b_run[:8] not in _listed_runs(a)
