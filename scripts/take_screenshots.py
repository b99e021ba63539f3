"""Screenshots of every page of the real app at a 1280x800 window, for docs/app.md.

Starts the app as the README does (``streamlit run streamlit_app.py``, headless, on a free
port, its runs in a fresh temporary folder), drives it with headless Chromium and saves
full-page screenshots (1280 px wide, as tall as the page) into ``docs/screenshots/``:

``data.png``                the Data page on the bundled dataset
``prepare.png``             the Prepare page with its default settings
``train-live.png``          the Train page while the default preset trains on the bundled
                            data: the live panel with at least one epoch's curves
``results-4-classes.png``   Results of that run (4 classes)
``playground.png``          a headline typed into the Playground and its prediction
``results-27-classes.png``  Results of a run on an uploaded file labelled by the 27 most
                            frequent publishers (8,000 headlines of the bundled data)
``label-review.png``        a finished label review of an uploaded sample of 5,000 UCI rows
``runs.png``                the Runs page listing the runs

The default training takes a few minutes on 2 cores, the rest a few more. With
``--runs-dir`` the runs folder is kept, and a second invocation gets the default run and
the label review back from the cache: the default run is trained again only until its
live panel has been saved, then stopped, and the stopped run deleted. (A run on an upload
is private to the browser session that trained it, so the 27-class run, under a minute,
is trained again.)

Run: ``make screenshots`` or ``.venv/bin/python scripts/take_screenshots.py [--out DIR]
[--runs-dir DIR] [--port N]``. Needs Playwright (requirements-dev.txt) and Debian's
Chromium at /usr/bin/chromium (``bash scripts/install-chromium.sh``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from playwright.sync_api import Locator, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "uci-news-aggregator.csv.gz"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
#: One script run (the first load of the bundled dataset takes seconds on 2 busy cores).
IDLE_MS = 180_000
#: A whole training or label review, in seconds.
JOB_S = 30 * 60
HEADLINE = "Apple unveils a cheaper iPhone as smartphone sales slow in China"
SAMPLE_SEED = 2024
#: Every plotly and Vega-Lite chart in the page body has drawn, and nothing is a skeleton.
CHARTS_DRAWN = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  if (!main || main.querySelector("[data-testid='stSkeleton']")) return false;
  const drawn = (id, sel) => [...main.querySelectorAll(`[data-testid='${id}']`)]
    .every(el => el.querySelector(sel));
  return drawn('stPlotlyChart', '.main-svg') && drawn('stVegaLiteChart', 'svg, canvas');
}"""
CONTENT_HEIGHT = """() => Math.max(...['stMain', 'stSidebarContent'].map(id =>
  document.querySelector(`[data-testid='${id}']`)?.scrollHeight ?? 0))"""

_started = time.monotonic()


def say(message: str) -> None:
    """Print one step, with the seconds since the script started."""
    print(f"[{time.monotonic() - _started:6.1f} s] {message}", flush=True)


# --- the data files uploaded through the sidebar ------------------------------------------


def write_uploads(folder: Path) -> tuple[Path, Path]:
    """Two CSVs cut from the bundled data with a fixed seed (the same rows every time):
    8,000 headlines labelled by the 27 most frequent publishers, in the data's own
    proportions (as ``benchmarks/user_tasks.py``'s ``cut``), with their TIMESTAMP; and
    5,000 UCI rows with every column, for the label review."""
    frame = pd.read_csv(BUNDLED)
    top = frame["PUBLISHER"].value_counts().index[:27]
    sample = frame[frame["PUBLISHER"].isin(top)].sample(n=8_000, random_state=SAMPLE_SEED)
    publishers = folder / "publishers-27.csv"
    columns = {"TITLE": "text", "PUBLISHER": "label", "TIMESTAMP": "TIMESTAMP"}
    sample[list(columns)].rename(columns=columns).to_csv(publishers, index=False)
    review = folder / "uci-sample-5k.csv"
    frame.sample(n=5_000, random_state=SAMPLE_SEED).to_csv(review, index=False)
    return publishers, review


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    """Whether Streamlit answers ``ok`` on its health endpoint."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


@contextlib.contextmanager
def running_app(runs_dir: Path, port: int, log_path: Path) -> Iterator[str]:
    """``streamlit run streamlit_app.py`` (as the README starts it) on ``port`` with its
    runs in ``runs_dir``; yields its URL once healthy, and ends its whole process group
    (the training process included) on every way out."""
    env = {**os.environ, "HEADLINE_LAB_RUNS_DIR": str(runs_dir), "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py"]
    command += ["--server.port", str(port), "--server.headless", "true"]
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start; its log: {log_path}")
            time.sleep(0.25)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --- the browser --------------------------------------------------------------------------


def main_area(page: Page) -> Locator:
    """The page body (everything but the sidebar)."""
    return page.get_by_test_id("stMain")


def wait_idle(page: Page, timeout_ms: int = IDLE_MS) -> None:
    """Wait until the script run an action started has finished and nothing is loading
    (as streamlit's own ``wait_for_app_run``)."""
    page.wait_for_timeout(300)
    for state in ("data-test-connection-state='CONNECTED'", "data-test-script-state='notRunning'"):
        page.locator(f"[data-testid='stApp'][{state}]").wait_for(
            state="attached", timeout=timeout_ms
        )
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=timeout_ms)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout_ms)


def go_to(page: Page, title: str) -> None:
    """Open a page through the sidebar navigation and wait until it is drawn."""
    page.get_by_test_id("stSidebarNavLink").filter(has=page.get_by_text(title, exact=True)).click()
    heading = main_area(page).get_by_test_id("stHeading").locator("h1").first
    expect(heading).to_have_text(title, timeout=IDLE_MS)
    wait_idle(page)


def metric(page: Page, label: str) -> Locator:
    """The ``st.metric`` in the page body labelled exactly ``label``."""
    return (
        main_area(page)
        .get_by_test_id("stMetric")
        .filter(has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    )


def upload(page: Page, path: Path) -> None:
    """Make ``path`` the active dataset through the sidebar's uploader."""
    side = page.get_by_test_id("stSidebar")
    choice = side.get_by_test_id("stRadioOption").filter(has_text="Upload a CSV")
    choice.click()
    wait_idle(page)
    side.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    wait_idle(page)
    expect(side).to_contain_text(f"Active: {path.name}", timeout=IDLE_MS)
    page.wait_for_timeout(5_000)  # the "loaded" toast goes away


def shot(page: Page, path: Path) -> None:
    """A screenshot of the whole page at the window's width (Streamlit scrolls inside
    ``stMain``, so the window is stretched to the content's height for the shot), once
    every chart has drawn; refused when the page shows an exception."""
    if page.get_by_test_id("stException").count():
        raise RuntimeError(f"{path.name}: the page shows an exception")
    errors = main_area(page).get_by_test_id("stAlertContentError")
    for text in errors.all_inner_texts():
        say(f"  NOTE: {path.name} shows an error box: {text!r}")
    page.mouse.move(VIEWPORT["width"] - 10, VIEWPORT["height"] - 10)  # no hover toolbars
    height = min(max(int(page.evaluate(CONTENT_HEIGHT)), VIEWPORT["height"]), 12_000)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    try:
        page.wait_for_function(CHARTS_DRAWN, timeout=IDLE_MS)
        page.wait_for_timeout(1_000)  # plotly and the data grids re-layout after the resize
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(VIEWPORT)
    say(f"  saved {path} ({height} px tall)")


def wait_for(page: Page, target: Locator, what: str) -> None:
    """Wait up to :data:`JOB_S` for ``target`` to show, printing the job's progress bar
    (its text) every 30 seconds meanwhile."""
    deadline = time.monotonic() + JOB_S
    next_note = time.monotonic() + 30
    while not target.first.is_visible():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not show in time")
        if time.monotonic() > next_note:
            bars = main_area(page).get_by_test_id("stProgress").all_inner_texts()
            say(f"  waiting for {what}: {bars[0].strip() if bars else '...'}")
            next_note += 30
        page.wait_for_timeout(1_000)


# --- the tour -----------------------------------------------------------------------------


def last_job(page: Page) -> int:
    """The highest job number the page names ("Job 3 · ..."), 0 when none."""
    numbers = re.findall(r"Job (\d+) · ", main_area(page).inner_text())
    return max((int(number) for number in numbers), default=0)


def start_training(page: Page) -> tuple[int, bool]:
    """Press Start on the Train page; a run that comes back from the cache is trained
    again, so that the live panel shows. Returns the job number to wait after, and
    whether it is trained again."""
    main = main_area(page)
    after = last_job(page)
    main.get_by_role("button", name="Start training", exact=True).click()
    cached = main.get_by_test_id("stAlertContentSuccess").filter(has_text="loaded from cache")
    running = main.get_by_role("button", name="Stop", exact=True)
    expect(cached.or_(running).first).to_be_visible(timeout=IDLE_MS)
    again = bool(cached.count())
    if again:
        say("  loaded from cache: training it again for the live panel")
        after = last_job(page)
        main.get_by_role("button", name="Train again anyway").click()
        expect(running).to_be_visible(timeout=IDLE_MS)
    return after, again


def wait_for_job(page: Page, after: int) -> str:
    """Wait until the Train page shows a job numbered above ``after`` as finished (or
    loaded from the cache); its run id. Raises when it failed or stopped."""
    main = main_area(page)
    ended = main.get_by_test_id("stAlertContentSuccess").filter(
        has_text=re.compile(r"finished|loaded from cache")
    )
    failed = main.get_by_test_id("stAlertContentError").or_(
        main.get_by_test_id("stAlertContentWarning").filter(has_text=re.compile(r"[Ss]topped"))
    )
    deadline = time.monotonic() + JOB_S
    while time.monotonic() < deadline:
        wait_for(page, ended.or_(failed), "the end of the training")
        for text in ended.or_(failed).all_inner_texts():
            job = re.search(r"Job (\d+) · ", text)
            if job is None or int(job.group(1)) <= after:
                continue  # an earlier job's outcome, still on the page
            if "finished" not in text and "loaded from cache" not in text:
                raise RuntimeError(f"the training did not finish: {text}")
            wait_idle(page)
            run = re.search(r"[Rr]un `?([0-9a-z]{6,})`?", text)
            return run.group(1) if run else "?"
        page.wait_for_timeout(2_000)
    raise RuntimeError("the training did not end in time")


def live_training(page: Page, out: Path) -> tuple[int, bool]:
    """Start the default training and save the live panel once an epoch has ended; again
    once two have, if it still runs then. Returns :func:`start_training`'s answer."""
    main = main_area(page)
    after, again = start_training(page)
    say("  training started; waiting for the first epoch's curves")
    stop = main.get_by_role("button", name="Stop", exact=True)
    curve = main.get_by_test_id("stPlotlyChart").filter(has=page.locator(".main-svg"))
    wait_for(page, curve.or_(main.get_by_test_id("stAlertContentSuccess")), "the first epoch")
    if not (stop.is_visible() and curve.count()):
        raise RuntimeError("the training ended before its live panel could be saved")
    shot(page, out / "train-live.png")
    later = main.get_by_text(re.compile(r"Epoch ([3-9]|\d\d+) of at most"))
    while stop.is_visible():
        if later.count():
            page.wait_for_timeout(5_000)  # the curves are sent every 4 seconds
            if stop.is_visible():
                say("  two epochs done and still running: the live panel again")
                shot(page, out / "train-live.png")
            break
        page.wait_for_timeout(1_000)
    return after, again


def stop_and_delete(page: Page, runs_dir: Path) -> None:
    """Stop the training on the Train page and delete the stopped run it saves (with the
    CLI, the server's administrator): the cached run it repeated stays the only one."""
    main = main_area(page)
    main.get_by_role("button", name="Stop", exact=True).click()
    stopped = main.get_by_test_id("stAlertContentWarning").filter(has_text="stopped.")
    wait_for(page, stopped, "the stop")
    found = re.search(r"Saved as run `?([0-9a-f]{16})", stopped.first.inner_text())
    if found:
        command = [sys.executable, "-m", "pipeline", "runs", "delete", found.group(1)]
        command += ["--runs-dir", str(runs_dir)]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        say(f"  stopped; the stopped run {found.group(1)} deleted")
    wait_idle(page)


def results(page: Page, out: Path, name: str) -> None:
    """Results of the active run."""
    go_to(page, "Results")
    expect(metric(page, "Test accuracy")).to_be_visible(timeout=IDLE_MS)
    shot(page, out / name)


def tour(url: str, out: Path, runs_dir: Path, uploads: tuple[Path, Path]) -> None:
    """Every page, in the order a visitor meets them, saving each screenshot."""
    publishers, review_file = uploads
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(60_000)
            page = context.new_page()
            say("Data page on the bundled dataset")
            page.goto(url)
            expect(metric(page, "Rows")).to_be_visible(timeout=IDLE_MS)
            wait_idle(page)
            shot(page, out / "data.png")

            say("Prepare page")
            go_to(page, "Prepare")
            shot(page, out / "prepare.png")

            say("Train page: the default preset on the bundled data")
            go_to(page, "Train")
            after, again = live_training(page, out)
            if again:  # the run came from the cache: stop the repeat, keep the cached run
                stop_and_delete(page, runs_dir)
            else:
                say(f"  run {wait_for_job(page, after)} finished")

            say("Results of the 4-class run")
            results(page, out, "results-4-classes.png")

            say("Playground")
            go_to(page, "Playground")
            box = page.get_by_test_id("stTextInput").locator("input")
            box.fill(HEADLINE)
            box.press("Enter")
            wait_idle(page)
            expect(metric(page, "Predicted category")).to_be_visible(timeout=IDLE_MS)
            shot(page, out / "playground.png")

            say(f"Upload {publishers.name} (27 classes) and train the default preset on it")
            upload(page, publishers)
            go_to(page, "Train")
            after = last_job(page)
            main_area(page).get_by_role("button", name="Start training", exact=True).click()
            say(f"  run {wait_for_job(page, after)} ready")
            results(page, out, "results-27-classes.png")

            say(f"Upload {review_file.name} and review its labels (default review settings)")
            upload(page, review_file)
            go_to(page, "Label review")
            main = main_area(page)
            reviewed = metric(page, "Rows reviewed")
            if not reviewed.count():
                main.get_by_role("button", name="Find likely mislabelled rows").click()
            wait_for(page, reviewed, "the review")
            wait_idle(page)
            expect(main.get_by_test_id("stDataFrame").nth(1)).to_be_visible()
            main.get_by_role("button", name="Relabel them all").click()  # a decision shown
            wait_idle(page)
            decided = re.compile(r"Your decisions: [1-9][\d,]* rows? relabelled")
            expect(main.get_by_text(decided)).to_be_visible()
            shot(page, out / "label-review.png")

            say("Runs page")
            go_to(page, "Runs")
            expect(main_area(page).get_by_test_id("stDataFrame").first).to_be_visible()
            shot(page, out / "runs.png")
            context.close()
        finally:
            browser.close()


def exit_on_signal(signum: int, _frame: object) -> None:
    """SIGINT or SIGTERM: leave through every ``finally`` (the app is stopped)."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Parse the options, start the app, take every screenshot, stop the app."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, exit_on_signal)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNGs"
    )
    parser.add_argument(
        "--runs-dir",
        type=Path,
        help="the app's runs folder, kept afterwards (default: a fresh temporary one, removed); "
        "reuse one to get trainings back from its cache",
    )
    parser.add_argument("--port", type=int, help="the app's port (default: a free one)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="headline-lab-screenshots-"))
    runs_dir = args.runs_dir.resolve() if args.runs_dir else work / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    try:
        say(f"Cutting the uploads from {BUNDLED.name}")
        uploads = write_uploads(work)
        port = args.port or free_port()
        say(f"Starting the app on port {port}, runs in {runs_dir} (log: {work / 'server.log'})")
        with running_app(runs_dir, port, work / "server.log") as url:
            tour(url, args.out.resolve(), runs_dir, uploads)
        say("App stopped")
    except BaseException:
        with contextlib.suppress(OSError):
            tail = (work / "server.log").read_text(errors="replace")[-3_000:]
            print(f"--- the end of the app's log ---\n{tail}", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    minutes, seconds = divmod(time.monotonic() - _started, 60)
    say(f"Done in {minutes:.0f} min {seconds:.0f} s: the screenshots are in {args.out}")


if __name__ == "__main__":
    main()
