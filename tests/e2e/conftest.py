"""Fixtures for the real-browser tests: the app under ``streamlit run`` and headless Chromium.

One Streamlit server and one Chromium serve the whole test session. The server runs
``streamlit_app.py`` exactly as a user starts it, on a free local port, with
``HEADLINE_LAB_RUNS_DIR`` pointing at a temporary folder so nothing lands in ``./runs``.
Its console output goes to ``test-output/e2e/server.log``; timings measured by the tests
are written to ``test-output/e2e/timings.json`` when the session ends. Under pytest-xdist
each worker has its own server, Chromium and files (``server-gw0.log``,
``timings-gw0.json``).

Playwright is imported inside the fixtures, so this file loads even where Playwright is
missing; where it or Chromium is missing, the browser test modules are not collected and
the run's header says why (the only place that checks).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = ROOT / "test-output" / "e2e"
#: ``-gw0``, ``-gw1``, ... under pytest-xdist (``""`` without): the part of a file name that
#: keeps two workers' shared-server logs and timings apart.
WORKER_SUFFIX = (
    f"-{os.environ['PYTEST_XDIST_WORKER']}" if "PYTEST_XDIST_WORKER" in os.environ else ""
)
#: Debian's Chromium; Playwright's own browser download does not work on these machines.
CHROMIUM_PATH = Path(os.environ.get("HEADLINE_LAB_CHROMIUM", "/usr/bin/chromium"))
#: Without the background-networking flags Chromium keeps calling home on a closed network.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_missing() -> str | None:
    """Why the browser tests cannot run here, or ``None``."""
    if not CHROMIUM_PATH.exists():
        return (
            f"{CHROMIUM_PATH} is missing: the browser tests need Debian's chromium "
            "(run scripts/install-chromium.sh, or set HEADLINE_LAB_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is missing"
    return None


BROWSER_MISSING = _browser_missing()
#: pytest skips collecting these (their imports need Playwright) where a browser is missing.
collect_ignore_glob = ["test_*.py"] if BROWSER_MISSING else []


def pytest_report_header() -> str | None:
    return f"browser tests not run: {BROWSER_MISSING}" if BROWSER_MISSING else None


#: Seconds the server may take to answer ``/_stcore/health``.
HEALTH_TIMEOUT_S = 60.0


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _log_tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no server log)"


@dataclass
class AppServer:
    """A running ``streamlit run streamlit_app.py``."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    #: ``time.monotonic()`` just before the process was started.
    started_at: float
    runs_dir: Path
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's console output (for failure messages)."""
        return _log_tail(self.log_path, chars)


@dataclass
class Timings:
    """Durations measured by the e2e tests, in seconds, written to ``timings.json``
    (``timings-gw0.json`` on worker gw0)."""

    values: dict[str, float] = field(default_factory=dict)

    def record(self, name: str, seconds: float) -> None:
        """Remember (and print, visible with ``-s``) one duration."""
        self.values[name] = round(seconds, 3)
        print(f"\n[e2e timing] {name}: {seconds:.2f} s", flush=True)
        self.write()

    def write(self) -> None:
        """Write every duration so far to ``test-output/e2e/timings.json``."""
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUTPUT_DIR / f"timings{WORKER_SUFFIX}.json"
        path.write_text(json.dumps(self.values, indent=2) + "\n")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server's whole process group (SIGTERM, then SIGKILL)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def e2e_output_dir() -> Path:
    """``test-output/e2e/`` under the repository root (created): screenshots, log, timings."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR


@pytest.fixture(scope="session")
def timings(e2e_output_dir: Path) -> Iterator[Timings]:
    """Durations the tests measure; written to ``timings.json`` and printed at the end."""
    collected = Timings()
    yield collected
    collected.write()
    if collected.values:
        print("\n[e2e timings] " + json.dumps(collected.values), flush=True)


@contextlib.contextmanager
def running_app(
    runs_dir: Path, log_path: Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[AppServer]:
    """``streamlit run streamlit_app.py`` on a free port with its runs in ``runs_dir``,
    healthy, stopped on exit (its whole process group, also after a failed start).
    ``extra_env``: more environment variables for the server (e.g. team mode)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "HEADLINE_LAB_RUNS_DIR": str(runs_dir),
        "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **(extra_env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "streamlit_app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with log_path.open("wb") as log:
        started_at = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = AppServer(url, port, process, started_at, runs_dir, log_path)
    try:
        deadline = started_at + HEALTH_TIMEOUT_S
        while not _health_ok(url):
            if process.poll() is not None:
                pytest.fail(
                    f"streamlit run exited with code {process.returncode} before it was "
                    f"healthy:\n{server.log_tail()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{url}/_stcore/health did not answer 'ok' within {HEALTH_TIMEOUT_S:.0f} s:"
                    f"\n{server.log_tail()}"
                )
            time.sleep(0.25)
        yield server
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def app_server(
    e2e_output_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    """The real app under ``streamlit run`` on a free port, shared by the session's tests.

    Runs are saved in a temporary folder (``HEADLINE_LAB_RUNS_DIR``). The process gets its
    own process group, so teardown (also after a failed start) ends Streamlit and anything
    it spawned.
    """
    runs_dir = tmp_path_factory.mktemp("e2e-runs")
    with running_app(runs_dir, e2e_output_dir / f"server{WORKER_SUFFIX}.log") as server:
        yield server


@pytest.fixture
def fresh_app_server(e2e_output_dir: Path, tmp_path: Path) -> Iterator[AppServer]:
    """A server of its own with an empty runs folder: a fresh clone, whatever runs the
    session's shared server holds by then."""
    with running_app(
        tmp_path / "runs", e2e_output_dir / f"fresh-server{WORKER_SUFFIX}.log"
    ) as server:
        yield server


@pytest.fixture
def server_with_a_run(
    e2e_output_dir: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[AppServer, str]]:
    """A server of its own, just started, whose runs folder holds one tiny shared run
    (trained here, on ``uci_small.csv``): the server and the run's id. Its log is named
    after the test module (``test_x-server.log``)."""
    from pipeline.data import load_dataset
    from pipeline.training.train import train_run
    from tests.tiny_training import APP_RUN, tiny_config

    runs_dir = tmp_path / "runs"
    dataset = load_dataset(ROOT / "tests" / "fixtures" / "uci_small.csv")
    run = train_run(dataset, tiny_config(**APP_RUN, epochs=1), runs_dir=runs_dir)
    log = e2e_output_dir / f"{request.path.stem}-server.log"
    with running_app(runs_dir, log) as server:
        yield server, run.run_id


@pytest.fixture(scope="session")
def app_launcher() -> Callable[..., contextlib.AbstractContextManager[AppServer]]:
    """:func:`running_app` itself, for a test that starts a server of its own (e.g. with
    ``extra_env``): ``with app_launcher(runs_dir, log_path, extra_env) as server: ...``."""
    return running_app


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright, for the whole session. Every
    ``expect`` waits ``browser_helpers.EXPECT_TIMEOUT_MS`` unless it says otherwise."""
    from browser_helpers import EXPECT_TIMEOUT_MS
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM_PATH), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
