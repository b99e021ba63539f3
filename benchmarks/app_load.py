"""Many visitors typing headlines into the Playground at once: latency and errors.

The app under ``streamlit run`` (as the README starts it) serves a run trained
beforehand by the CLI (the default ``fast`` preset on the committed small UCI
fixture, a few seconds). For N = 1, 5 and 10, N headless Chromium pages (one
browser context, so one Streamlit session, each) open the Playground, then all
type headlines at the same time, one after another, each waiting for its answer.
They type key by key at a fast typist's pace (``--key-delay-ms``, default 100 ms a
key, about 120 words a minute), as visitors do; ``--key-delay-ms 0`` fills the box
at once and presses Enter again as soon as the answer is shown: a stress test, 10
pages with no pause between answers, where the browsers' own drawing on the 2 CPU
cores makes up most of each answer's time.
A prediction's latency runs from the Enter key to the page showing the predicted
category for that headline with the script run over. Errors: a prediction not
shown within 60 s, or an exception on the page. Each page's first headline warms it
up (the server loads the model once, the page draws its charts the first time) and is
not counted; the server's CPU seconds for each round are reported beside.

    .venv/bin/python benchmarks/app_load.py [--pages 1 5 10] [--headlines 21]
    .venv/bin/python benchmarks/app_load.py --key-delay-ms 0 --output app_load_stress

Writes ``benchmarks/results/app_load.json`` and ``.md``; prints the table. The
figure to watch: p95 at N = 10 against p95 at N = 1 (target: under 3x).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_speed import CHROMIUM, CHROMIUM_ARGS, ROOT, AppServer, _python
from flags import at_least_one
from report import write_rows

DATA = ROOT / "tests" / "fixtures" / "uci_small.csv"
HEADLINES = [
    "Stocks fall as oil prices climb",
    "New study links coffee to longer life",
    "Apple unveils a new iPhone with a bigger screen",
    "Box office: superhero sequel tops the weekend",
    "Central bank holds interest rates steady",
    "Measles cases rise across the country",
    "Google buys a robotics start-up",
    "Pop star announces a world tour",
    "Euro slips against the dollar after jobs data",
    "Scientists find water on a distant planet",
]
ANSWER_TIMEOUT_MS = 60_000


def _train_run(runs_dir: Path) -> None:
    subprocess.run(
        [_python(), "-m", "pipeline", "train", "--data", str(DATA), "--runs-dir", str(runs_dir)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _open_playground(browser, url: str):
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{url}/playground")
    await page.get_by_label("Headline", exact=True).wait_for(state="visible", timeout=120_000)
    await _idle(page)
    return page


async def _idle(page) -> None:
    await page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=ANSWER_TIMEOUT_MS
    )
    await page.get_by_test_id("stStatusWidget").wait_for(
        state="detached", timeout=ANSWER_TIMEOUT_MS
    )


async def _type_headlines(
    page, headlines: list[str], key_delay_ms: float
) -> tuple[list[float], int]:
    """Latency of each headline's answer, and the number that failed."""
    latencies, errors = [], 0
    box = page.get_by_label("Headline", exact=True)
    words = page.get_by_text("Words that drove it")
    for index, headline in enumerate(headlines):
        if key_delay_ms:
            await box.clear()
            await box.press_sequentially(headline, delay=key_delay_ms)
        else:
            await box.fill(headline)
        started = time.perf_counter()
        await box.press("Enter")
        try:
            # the answer for this headline: the word list shows its first word
            first_word = headline.split()[0]
            await words.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
            await (
                page.get_by_test_id("stMarkdownContainer")
                .filter(has_text=first_word)
                .first.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
            )
            await _idle(page)
            if await page.get_by_test_id("stException").count():
                raise RuntimeError("an exception on the page")
            if index > 0:  # the first answer of a page warms it up; it is not counted
                latencies.append(time.perf_counter() - started)
        except Exception:  # a timeout or an exception: counted, the run goes on
            errors += 1
    return latencies, errors


async def _round(url: str, pages: int, count: int, key_delay_ms: float) -> dict[str, object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            opened = [await _open_playground(browser, url) for _ in range(pages)]
            work = [
                _type_headlines(
                    page, [HEADLINES[(i + k) % len(HEADLINES)] for k in range(count)], key_delay_ms
                )
                for i, page in enumerate(opened)
            ]
            started = time.perf_counter()
            results = await asyncio.gather(*work)
            wall = time.perf_counter() - started
        finally:
            await browser.close()
    latencies = sorted(value for values, _ in results for value in values)
    errors = sum(failed for _, failed in results)

    def quantile(q: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, round(q * (len(latencies) - 1)))]

    return {
        "pages": pages,
        "predictions": len(latencies),
        "errors": errors,
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(quantile(0.95), 3),
        "max_s": round(latencies[-1], 3) if latencies else None,
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=at_least_one, nargs="+", default=[1, 5, 10])
    parser.add_argument(
        "--headlines", type=at_least_one, default=21, help="per page (first: warm-up)"
    )
    parser.add_argument(
        "--key-delay-ms",
        type=float,
        default=100.0,
        help="pause between two typed keys; 0: fill the box at once (stress test)",
    )
    parser.add_argument("--output", default="app_load")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="app-load-") as tmp:
        runs_dir = Path(tmp) / "runs"
        _train_run(runs_dir)
        server = AppServer(runs_dir, Path(tmp) / "server.log")
        try:
            for pages in args.pages:
                cpu = server.cpu_seconds()
                rows.append(
                    asyncio.run(_round(server.url, pages, args.headlines, args.key_delay_ms))
                )
                rows[-1]["key_delay_ms"] = args.key_delay_ms
                rows[-1]["server_cpu_s"] = round(server.cpu_seconds() - cpu, 1)
                print(rows[-1], flush=True)
        finally:
            server.stop()
    base = rows[0]["p95_s"]
    for row in rows:
        row["p95_vs_first"] = round(row["p95_s"] / base, 2) if base else None
    write_rows(rows, args.output)


if __name__ == "__main__":
    main()
