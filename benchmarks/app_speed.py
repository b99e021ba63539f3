"""Training in the app against the same job in the CLI, and the Train page's open time.

Measures what a user meets, side by side in one run on this machine:

1. ``python -m pipeline train --force`` (the default preset on the bundled data):
   wall time from the command's start to its exit, TensorFlow import included.
2. The app started as the README starts it (``.venv/bin/streamlit run
   streamlit_app.py`` from the checkout, its ``.venv`` inside, the settings of
   ``.streamlit/config.toml``), driven by headless Chromium: the Train page's
   open time (navigation to a usable "Start training" button, cold server, then
   a second tab), then the same training started by the button with the page
   open, timed from the click to "finished", nothing else running (as the CLI runs
   alone). Then the same job again ("Train again anyway", the encoder and the baseline
   cached) while another visitor opens the Train page in new tabs: their open times,
   and that training's time. The panel's phases are read every half second, the
   server's own CPU time is read from ``/proc``, and the server log's file-watcher
   warnings are counted.

The ratio app / CLI is the figure to watch (target: at most 1.3). Each side
trains into its own empty runs folder, so neither is served from the cache. The
bundled data's snapshot is built first, as ``make run`` builds it before serving.

    .venv/bin/python benchmarks/app_speed.py [--repeat 1] [--output app_speed]

Writes ``benchmarks/results/<output>.json`` and ``.md``; prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from flags import at_least_one

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
VENV_BIN = ROOT / ".venv" / "bin"
CHROMIUM = os.environ.get("HEADLINE_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
TRAINING_TIMEOUT_S = 1800
#: New tabs another visitor opens on the Train page while the training runs.
VISITOR_OPENS = 3
#: Seconds between two of those opens (the default job's epochs last about 2 s each).
VISITOR_GAP_S = 3
FINISHED = re.compile(r"Job (\d+) · .*: finished")
PHASES = ("Preparing", "Vectorizing", "Training", "Evaluating", "Baseline", "Saving")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _python() -> str:
    venv_python = VENV_BIN / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


def _streamlit() -> list[str]:
    venv_streamlit = VENV_BIN / "streamlit"
    return [str(venv_streamlit)] if venv_streamlit.exists() else [_python(), "-m", "streamlit"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def time_cli(runs_dir: Path) -> float:
    """Seconds for ``python -m pipeline train --force`` from start to exit."""
    env = {**os.environ, "HEADLINE_LAB_RUNS_DIR": str(runs_dir), "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    subprocess.run(
        [_python(), "-m", "pipeline", "train", "--force"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


#: The yardstick for page open times: Streamlit itself, one title and one button.
TRIVIAL_APP = 'import streamlit as st\n\nst.title("Trivial")\nst.button("Start training")\n'


class AppServer:
    """``streamlit run streamlit_app.py`` as the README starts it, on a free port (or
    ``script``, e.g. the trivial app, with the same settings)."""

    def __init__(self, runs_dir: Path, log_path: Path, script: str = "streamlit_app.py") -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**os.environ, "HEADLINE_LAB_RUNS_DIR": str(runs_dir)}
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*_streamlit(), "run", script, "--server.port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        return
            except OSError:
                time.sleep(0.25)
        raise RuntimeError(f"the app did not start:\n{log_path.read_text()[-3000:]}")

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.process.pid)

    def watcher_warnings(self) -> int:
        return self.log_path.read_text(errors="replace").count("Inotify")

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


def open_train_page(browser, url: str, path: str = "/train") -> tuple[object, float]:
    """A new tab on ``path``; seconds until "Start training" is shown and the script run
    is over (no fixed pause: the heading proves the page's script has run)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    started = time.perf_counter()
    page.goto(f"{url}{path}")
    page.get_by_role("button", name="Start training").wait_for(state="visible", timeout=120_000)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=120_000
    )
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=120_000)
    return page, time.perf_counter() - started


def print_open_times(browser, folder: Path) -> None:
    """A cold server's Train page, then a second and a third tab (while the training
    process is still importing TensorFlow, and after): their open times, printed."""
    folder.mkdir(parents=True)
    server = AppServer(folder / "runs", folder / "server.log")
    try:
        times = []
        for _ in range(3):
            tab, seconds = open_train_page(browser, server.url)
            tab.close()
            times.append(seconds)
            time.sleep(5)
        print(
            "Train page: cold, then two tabs 5 s apart (s): "
            + ", ".join(f"{t:.2f}" for t in times),
            flush=True,
        )
    finally:
        server.stop()


def _wait_idle(page) -> None:
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=120_000
    )
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=120_000)


def _data_page_ready(page, started: float | None = None, marks: dict | None = None) -> None:
    """The Data page drawn: its heading, the script run over, its three charts drawn.

    With ``marks``, the seconds since ``started`` at the heading and at the script's end
    go there (``heading``, ``ready``)."""
    page.get_by_role("heading", name="Data", exact=True).wait_for(state="visible", timeout=120_000)
    if marks is not None and started is not None:
        marks["heading"] = time.perf_counter() - started
    _wait_idle(page)
    if marks is not None and started is not None:
        marks["ready"] = time.perf_counter() - started
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=stMain] [data-testid=stVegaLiteChart] svg.marks')"
        ".length >= 3",
        timeout=120_000,
    )


def _nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()


def time_analyst_pages(browser, folder: Path) -> dict[str, float]:
    """The pages an analyst meets first, on a fresh server with the bundled data.

    ``data_page_cold_s``: a new tab on a cold server to the Data page drawn (the
    bundled file read and its statistics computed); ``..._heading_s`` and ``..._ready_s``
    to its heading and to the script's run over. ``data_page_new_tab_s``: the same
    in a second tab, cached. ``data_page_back_s``: back to Data from Prepare within a
    session. ``prepare_change_s``: on Prepare, balancing switched to "Cap rows per
    class", from the click to the page settled with the new row counts; then
    ``prepare_change_back_s``, back to class weights.
    """
    folder.mkdir(parents=True)
    server = AppServer(folder / "runs", folder / "server.log")
    times: dict[str, float] = {}
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.perf_counter()
        page.goto(f"{server.url}/")
        marks: dict[str, float] = {}
        _data_page_ready(page, started, marks)
        times["data_page_cold_s"] = time.perf_counter() - started
        times["data_page_cold_heading_s"] = marks["heading"]
        times["data_page_cold_ready_s"] = marks["ready"]
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.perf_counter()
        tab.goto(f"{server.url}/")
        _data_page_ready(tab, started, marks)
        times["data_page_new_tab_s"] = time.perf_counter() - started
        times["data_page_new_tab_ready_s"] = marks["ready"]
        tab.close()
        _nav(page, "Prepare")
        balancing = page.get_by_test_id("stRadio").filter(
            has=page.get_by_test_id("stWidgetLabel").get_by_text("Balancing", exact=True)
        )
        balancing.wait_for(state="visible", timeout=120_000)
        _wait_idle(page)
        rows = page.get_by_test_id("stMetric").filter(has_text="Rows after balancing")
        for key, option in (
            ("prepare_change_s", "Cap rows per class"),
            ("prepare_change_back_s", "Class weights"),
        ):
            before = rows.inner_text()
            started = time.perf_counter()
            balancing.get_by_text(option).first.click()
            page.wait_for_function(
                "([label, before]) => { const m = [...document.querySelectorAll("
                "'[data-testid=stMetric]')].find(e => e.innerText.includes(label));"
                " return m && m.innerText !== before; }",
                arg=["Rows after balancing", before],
                timeout=120_000,
            )
            _wait_idle(page)
            times[key] = time.perf_counter() - started
        started = time.perf_counter()
        _nav(page, "Data")
        _data_page_ready(page)
        times["data_page_back_s"] = time.perf_counter() - started
        page.close()
    finally:
        server.stop()
    return times


def train_in_app(page, server: AppServer, browser, visitors: bool = False) -> dict[str, object]:
    """Click "Start training" and wait for "finished"; phases as the panel showed them.

    Without ``visitors``: the visitor watches the panel and nothing else runs, as the CLI
    runs alone beside it (the ratio's training). With ``visitors`` (a second training of
    the same job, "Train again anyway", the encoder and the baseline then cached): once
    the training is in its epochs, another visitor opens the Train page in a tab of their
    own, every :data:`VISITOR_GAP_S` seconds, :data:`VISITOR_OPENS` times: their open
    times are measured while the first tab's panel runs. Then, if the job is still
    training or evaluating, the first tab goes to the Data page and the visitor opens as
    many tabs again, with no panel drawing in this browser: on a real server each
    visitor's browser runs on their own machine, and only the server and the training
    share its cores. Then the first tab comes back to the Train page, whose panel
    follows the job again.
    """
    main = page.get_by_test_id("stMain")
    visitor_opens: list[float] = []
    unwatched_opens: list[float] = []
    last_open = 0.0
    # the job to wait for: the next one, or with the same settings again the one after
    # the cached answer ("loaded from cache"), which "Train again anyway" starts
    jobs_before = [int(n) for n in re.findall(r"Job (\d+) · ", main.inner_text())]
    awaited = max(jobs_before, default=0) + (2 if visitors else 1)
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    page.get_by_role("button", name="Start training").click()
    if visitors:
        page.get_by_role("button", name="Train again anyway").click(timeout=60_000)
    seen: dict[str, float] = {}
    deadline = started + TRAINING_TIMEOUT_S
    while time.perf_counter() < deadline:
        text = main.inner_text(timeout=60_000)
        now = time.perf_counter() - started
        if any(int(found.group(1)) >= awaited for found in FINISHED.finditer(text)):
            break
        for phase in PHASES:
            if f"▶ {phase}" in text and phase not in seen:
                seen[phase] = round(now, 1)
        if (
            visitors
            and len(visitor_opens) < VISITOR_OPENS
            and "Training" in seen
            and now > max(seen["Training"], last_open) + VISITOR_GAP_S
            and "▶ Saving" not in text
        ):
            other, seconds = open_train_page(browser, server.url)
            other.close()
            visitor_opens.append(seconds)
            last_open = time.perf_counter() - started
            panel_text = main.inner_text()
            if len(visitor_opens) == VISITOR_OPENS and (
                "▶ Training" in panel_text or "▶ Evaluating" in panel_text
            ):
                _nav(page, "Data")
                _wait_idle(page)
                for _ in range(VISITOR_OPENS):
                    time.sleep(VISITOR_GAP_S - 1)
                    other, seconds = open_train_page(browser, server.url)
                    other.close()
                    unwatched_opens.append(seconds)
                _nav(page, "Train")
                _wait_idle(page)
        page.wait_for_timeout(500)
    else:
        raise RuntimeError("the training did not finish in time")
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "server_cpu_s": server.cpu_seconds() - cpu_before,
        "phases_first_seen_s": seen,
        "train_page_while_training_s": visitor_opens,
        "train_page_while_training_unwatched_s": unwatched_opens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=at_least_one, default=1, help="CLI/app pairs to run")
    parser.add_argument("--output", default="app_speed", help="results file name, no suffix")
    parser.add_argument(
        "--opens-only",
        action="store_true",
        help="measure the page open times only (no training; prints, writes nothing)",
    )
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    RESULTS.mkdir(parents=True, exist_ok=True)
    # As `make run` does before it serves: the bundled data's snapshot (Parquet + JSON,
    # pipeline.data.snapshot), so neither side parses the CSV (nothing, once it exists).
    subprocess.run(
        [_python(), "-m", "pipeline", "inspect"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )
    cli_times: list[float] = []
    app_runs: list[dict[str, object]] = []
    opens: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="app-speed-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        trivial_script = Path(tmp) / "trivial_app.py"
        trivial_script.write_text(TRIVIAL_APP)
        trivial = AppServer(
            Path(tmp) / "trivial-runs", Path(tmp) / "trivial.log", str(trivial_script)
        )
        try:
            for _ in range(3):
                tab, seconds = open_train_page(browser, trivial.url, "/")
                tab.close()
                opens.setdefault("trivial_app_cold_s", seconds)
                opens["trivial_app_warm_s"] = seconds
        finally:
            trivial.stop()
        print(f"Trivial app: {opens['trivial_app_cold_s']:.2f} s cold", flush=True)
        analyst = time_analyst_pages(browser, Path(tmp) / "analyst")
        print("Analyst pages: " + ", ".join(f"{k} {v:.2f}" for k, v in analyst.items()), flush=True)
        for round_ in range(args.repeat):
            if args.opens_only:
                print_open_times(browser, Path(tmp) / f"opens-{round_}")
                continue
            cli_times.append(time_cli(Path(tmp) / f"cli-{round_}"))
            print(f"CLI: {cli_times[-1]:.1f} s", flush=True)
            server = AppServer(Path(tmp) / f"app-{round_}", Path(tmp) / f"server-{round_}.log")
            try:
                page, cold = open_train_page(browser, server.url)
                second, warm = open_train_page(browser, server.url)
                second.close()
                opens.setdefault("train_page_cold_s", cold)
                opens.setdefault("train_page_second_tab_s", warm)
                print(f"Train page: {cold:.2f} s cold, {warm:.2f} s in a second tab", flush=True)
                app_runs.append(train_in_app(page, server, browser))
                print(f"App: {app_runs[-1]['seconds']:.1f} s", flush=True)
                _wait_idle(page)
                loaded = train_in_app(page, server, browser, visitors=True)
                print(f"App again, another visitor opening pages: {loaded['seconds']:.1f} s")
                app_runs[-1]["watcher_warnings"] = server.watcher_warnings()
                app_runs[-1]["with_visitor_s"] = loaded["seconds"]
                for key in ("train_page_while_training_s", "train_page_while_training_unwatched_s"):
                    app_runs[-1][key] = loaded[key]
                page.close()
            finally:
                server.stop()
        browser.close()
    if args.opens_only:
        return

    app_times = [float(run["seconds"]) for run in app_runs]
    ratios = [app / cli for app, cli in zip(app_times, cli_times, strict=True)]
    result = {
        "job": "python -m pipeline train --force (fast preset, bundled data) vs Start training",
        "cli_seconds": [round(t, 1) for t in cli_times],
        "app_seconds": [round(t, 1) for t in app_times],
        "ratio_app_to_cli": [round(r, 3) for r in ratios],
        "median_ratio": round(statistics.median(ratios), 3),
        "server_cpu_seconds_while_training": [round(float(r["server_cpu_s"]), 1) for r in app_runs],
        "app_again_with_visitor_seconds": [round(float(r["with_visitor_s"]), 1) for r in app_runs],
        "phases_first_seen_s": [run["phases_first_seen_s"] for run in app_runs],
        "file_watcher_warnings": [run["watcher_warnings"] for run in app_runs],
        **{key: round(value, 2) for key, value in opens.items()},
        **{key: round(value, 2) for key, value in analyst.items()},
        "train_page_while_training_s": [
            [round(float(t), 2) for t in r["train_page_while_training_s"]] for r in app_runs
        ],
        "train_page_while_training_unwatched_s": [
            [round(float(t), 2) for t in r["train_page_while_training_unwatched_s"]]
            for r in app_runs
        ],
        "cpus": os.cpu_count(),
    }
    rows = [
        ("CLI, whole job (s)", ", ".join(f"{t:.0f}" for t in cli_times)),
        ("App, click to finished (s)", ", ".join(f"{t:.0f}" for t in app_times)),
        ("App / CLI", ", ".join(f"{r:.2f}" for r in ratios)),
        (
            "App again, caches warm, another visitor opening up to 6 pages meanwhile (s)",
            ", ".join(f"{float(r['with_visitor_s']):.0f}" for r in app_runs),
        ),
        (
            "Server CPU while training (s)",
            ", ".join(f"{float(r['server_cpu_s']):.1f}" for r in app_runs),
        ),
        ("File-watcher warnings", ", ".join(str(r["watcher_warnings"]) for r in app_runs)),
        (
            "Trivial one-page app, same measure: cold, warm (s)",
            f"{opens['trivial_app_cold_s']:.2f}, {opens['trivial_app_warm_s']:.2f}",
        ),
        (
            "Data page, cold server, new tab: heading, script over, charts drawn (s; "
            "target: trivial + 1.5)",
            f"{analyst['data_page_cold_heading_s']:.2f}, {analyst['data_page_cold_ready_s']:.2f}, "
            f"{analyst['data_page_cold_s']:.2f}",
        ),
        (
            "Data page, cached, new tab: script over, charts drawn (s)",
            f"{analyst['data_page_new_tab_ready_s']:.2f}, {analyst['data_page_new_tab_s']:.2f}",
        ),
        (
            "Data page, cached, back from Prepare (s; target 1)",
            f"{analyst['data_page_back_s']:.2f}",
        ),
        (
            "Prepare change settled: cap, then class weights (s; target 1)",
            f"{analyst['prepare_change_s']:.2f}, {analyst['prepare_change_back_s']:.2f}",
        ),
        ("Train page open, cold server (s)", f"{opens['train_page_cold_s']:.2f}"),
        ("Train page open, second tab (s)", f"{opens['train_page_second_tab_s']:.2f}"),
        (
            f"Train page open, another visitor while training, {VISITOR_OPENS} tabs (s)",
            "; ".join(
                ", ".join(f"{float(t):.2f}" for t in r["train_page_while_training_s"])
                for r in app_runs
            ),
        ),
        (
            "Train page open, the same, no tab of this browser watching the panel (s)",
            "; ".join(
                ", ".join(f"{float(t):.2f}" for t in r["train_page_while_training_unwatched_s"])
                or "(the job ended first)"
                for r in app_runs
            ),
        ),
    ]
    table = "| what | value |\n| --- | --- |\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    print(table)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.output}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
