"""Many visitors each uploading a big CSV: does the server's memory stay bounded?

Starts the app as the README starts it (``streamlit run streamlit_app.py``, headless, on
a free port, ``HEADLINE_LAB_RUNS_DIR`` a temporary folder) and drives ``--sessions``
browser sessions (headless Chromium, one browser context each), one after another.
Each opens the Data page, picks "Upload a CSV" and uploads its own file of
``--size-mb`` MB of headlines: the bundled data's ``TITLE,CATEGORY`` rows repeated, with
one first row of its own so that no two files (and no two cache entries) are the same.
After each upload has become the active dataset it samples:

- the resident memory (RSS) of the server process and of its children, from ``/proc``
  (``VmRSS``; the server's peak ``VmHWM`` too);
- Streamlit's own count of what it holds (``/_stcore/metrics``, ``cache_memory_bytes``):
  the uploaded files its file uploaders hold (``UploadedFileManager``), ``st.cache_data``
  and session state;
- the bytes in the app's upload area on disk (``<runs>/.sessions/*/uploads``).

``--keep-open`` sessions stay open at once (a visitor still on the page); older ones are
closed, as a visitor leaving. The figure to watch: the server's RSS after the last
session against :data:`PEAK_SERVER_RSS_BOUND_MB`, which must not depend on how many
sessions uploaded.

    .venv/bin/python benchmarks/session_memory.py [--sessions 32] [--size-mb 50]
        [--keep-open 32] [--output session_memory]

Writes ``benchmarks/results/<output>.json`` and ``.md``; prints the table; exits 1 when
the server's peak RSS passes the bound.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_speed import CHROMIUM, CHROMIUM_ARGS, ROOT, AppServer
from flags import at_least_one
from report import RESULTS, write_rows

#: The declared bound on the server's peak resident memory (MB) over 32 sessions each
#: uploading a 50 MB file. What it holds then: the process with the bundled data loaded
#: (about 0.9 GB) and the data caches' few uploaded tables and datasets (``ui.core.data``: at
#: most 4 of each, whatever the number of sessions). Uploads themselves are on disk
#: (``pipeline.sessions.uploads``) and Streamlit's copy is dropped once saved, so the figure does
#: not grow with the sessions: measured 2,025 MB (4,725 MB before, growing by 100 MB a
#: session: each file was held in the session store and in Streamlit's upload store).
PEAK_SERVER_RSS_BOUND_MB = 2500
BUNDLED = ROOT / "data" / "uci-news-aggregator.csv.gz"
UPLOAD_TIMEOUT_MS = 600_000
_METRIC = re.compile(r"^cache_memory_bytes\{(?P<labels>[^}]*)\}\s+(?P<value>[0-9.e+]+)")


def headline_rows() -> bytes:
    """The bundled data's ``TITLE,CATEGORY`` rows as CSV lines (no header)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with gzip.open(BUNDLED, "rt", encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            writer.writerow([row["TITLE"], row["CATEGORY"]])
    return out.getvalue().encode("utf-8")


def write_upload(path: Path, rows: bytes, size_mb: float, index: int) -> None:
    """A CSV of about ``size_mb`` MB at ``path``: a header, a row of its own, then
    ``rows`` repeated (and cut at a line end)."""
    target = int(size_mb * 2**20)
    with path.open("wb") as out:
        out.write(b"TITLE,CATEGORY\n")
        out.write(f"Visitor {index} uploads their own headlines,b\n".encode())
        written = out.tell()
        while written < target:
            if written + len(rows) <= target:
                chunk = rows
            else:
                chunk = rows[: rows.rfind(b"\n", 0, target - written) + 1]
            if not chunk:
                break
            out.write(chunk)
            written += len(chunk)


def process_memory_mb(pid: int) -> tuple[float, float]:
    """(RSS now, peak RSS) of one process in MB, from ``/proc/<pid>/status``."""
    fields: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                fields[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), from ``/proc``."""
    found: list[int] = []
    stack = [pid]
    while stack:
        parent = stack.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(children)
            stack.extend(children)
    return found


def streamlit_memory_mb(url: str) -> dict[str, float]:
    """What Streamlit says it holds (``/_stcore/metrics``), MB by cache type."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=30) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    totals: dict[str, float] = {}
    for line in text.splitlines():
        match = _METRIC.match(line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
            kind = labels.get("cache_type", "?")
            totals[kind] = totals.get(kind, 0.0) + float(match["value"]) / 2**20
    return totals


def upload_area_mb(runs_dir: Path) -> float:
    """Bytes of every file in the sessions' upload folders, in MB."""
    return sum(f.stat().st_size for f in runs_dir.glob(".sessions/*/uploads/*") if f.is_file()) / (
        2**20
    )


def upload_in_new_session(browser, url: str, path: Path) -> tuple[object, float, str]:
    """A new browser context on the Data page that uploads ``path`` through the sidebar;
    returns the context, the seconds from the file's choice to the script run's end, and
    ``"active"`` or the error the sidebar shows."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    _wait_idle(page)
    side = page.get_by_test_id("stSidebar")
    side.get_by_test_id("stRadioOption").filter(has_text="Upload a CSV").click()
    _wait_idle(page)
    started = time.perf_counter()
    side.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    active = side.get_by_text(f"Active: {path.name}")
    error = side.get_by_test_id("stAlertContentError")
    expect(active.or_(error).first).to_be_visible(timeout=UPLOAD_TIMEOUT_MS)
    _wait_idle(page)
    seconds = time.perf_counter() - started
    outcome = "active" if active.count() else error.first.inner_text()[:120]
    return context, seconds, outcome


def _wait_idle(page) -> None:
    page.wait_for_timeout(300)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=UPLOAD_TIMEOUT_MS
    )
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=UPLOAD_TIMEOUT_MS)


def sample(server: AppServer, runs_dir: Path) -> dict[str, float]:
    """The memory figures of one row (see the module's docstring)."""
    pid = server.process.pid
    rss, peak = process_memory_mb(pid)
    children = sum(process_memory_mb(child)[0] for child in descendants(pid))
    held = streamlit_memory_mb(server.url)
    return {
        "server_rss_mb": round(rss),
        "server_peak_mb": round(peak),
        "children_rss_mb": round(children),
        "st_uploads_mb": round(held.get("UploadedFileManager", 0.0)),
        "st_cache_data_mb": round(held.get("st_cache_data", 0.0)),
        "st_session_state_mb": round(held.get("st_session_state", 0.0)),
        "upload_area_mb": round(upload_area_mb(runs_dir)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=at_least_one, default=32)
    parser.add_argument("--size-mb", type=float, default=50.0, help="size of each upload")
    parser.add_argument(
        "--keep-open",
        type=at_least_one,
        default=32,
        help="sessions open at once (older ones close)",
    )
    parser.add_argument("--settle-s", type=float, default=5.0, help="wait before the last row")
    parser.add_argument("--output", default="session_memory", help="results name, no suffix")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    # As `make run` does before it serves: the bundled data's snapshot, so the first
    # session does not pay for parsing the bundled CSV.
    subprocess.run(
        [sys.executable, "-m", "pipeline", "inspect"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    rows: list[dict[str, object]] = []
    headlines = headline_rows()
    with tempfile.TemporaryDirectory(prefix="session-memory-") as tmp, sync_playwright() as pw:
        folder = Path(tmp)
        runs_dir = folder / "runs"
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        server = AppServer(runs_dir, folder / "server.log")
        open_contexts: list[object] = []
        try:
            rows.append(
                {"session": 0, "outcome": "started", "seconds": 0.0, **sample(server, runs_dir)}
            )
            print(rows[-1], flush=True)
            for index in range(1, args.sessions + 1):
                path = folder / f"headlines-{index:02d}.csv"
                write_upload(path, headlines, args.size_mb, index)
                context, seconds, outcome = upload_in_new_session(browser, server.url, path)
                path.unlink()
                open_contexts.append(context)
                while len(open_contexts) > args.keep_open:
                    open_contexts.pop(0).close()
                rows.append(
                    {
                        "session": index,
                        "outcome": outcome,
                        "seconds": round(seconds, 1),
                        **sample(server, runs_dir),
                    }
                )
                print(rows[-1], flush=True)
            for context in open_contexts:
                context.close()
            time.sleep(args.settle_s)
            rows.append(
                {"session": "closed", "outcome": "-", "seconds": 0.0, **sample(server, runs_dir)}
            )
            print(rows[-1], flush=True)
        finally:
            server.stop()
            browser.close()

    write_rows(rows, args.output)
    peak = max(int(row["server_peak_mb"]) for row in rows)
    summary = {
        "sessions": args.sessions,
        "size_mb": args.size_mb,
        "keep_open": args.keep_open,
        "peak_server_rss_mb": peak,
        "bound_mb": PEAK_SERVER_RSS_BOUND_MB,
        "within_bound": peak <= PEAK_SERVER_RSS_BOUND_MB,
    }
    (RESULTS / f"{args.output}_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))
    if peak > PEAK_SERVER_RSS_BOUND_MB:
        sys.exit(1)


if __name__ == "__main__":
    main()
