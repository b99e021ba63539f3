"""The Playground's first answer in a browser, with a run the server has not loaded yet.

Two runs on the bundled data (the default preset, and the same with dropout 0.4; trained
by the CLI beforehand, or found in ``--runs-dir``) are served by the app started as the
README starts it (``streamlit run streamlit_app.py``, :class:`app_speed.AppServer`), a
fresh server for every round. Headless Chromium opens ``/playground``, fills a headline
as soon as the box shows and presses Enter; then it picks the other run in "Model (run)"
and does the same. Timed:

- cold server (neither TensorFlow nor a model loaded), the Playground opened at once
  by its address: ``box_s``, navigation to the headline box drawn (a visitor can type;
  the model may still be loading under it); ``open_s``, navigation to the headline box,
  usable (the page idle, the model loaded); ``answer_s``, Enter to the answer shown (the
  category and the words that drove it); ``first_answer_s``, both together: what a first
  visitor waits;
- warm server, a run not loaded yet: ``switch_answer_s``, the pick to the answer (the
  headline stays in its box, so the page loads the run and answers it at once);
- cold server, a first visitor who opens the app's address (its first page, Data),
  reads it for ``--reading`` seconds and then opens the Playground by the
  sidebar: ``box_s``, ``open_s`` (click to usable headline box), ``answer_s``,
  ``first_answer_s``.
  The server imports Keras in the background once a page is drawn
  (``ui.core.resources.import_model_libraries_in_background``).

Each round is done twice on fresh servers, side by side: with the runs' lean
``model.keras``, and with copies whose ``model.keras`` is the full model
(``training_model.keras``: what runs saved before lean models had). Medians over
``--rounds``. Writes ``benchmarks/results/playground_open.json`` and ``.md``.

    .venv/bin/python benchmarks/playground_open.py [--rounds 3] [--runs-dir DIR] [--reading 0 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_load import ANSWER_TIMEOUT_MS, _idle
from app_speed import CHROMIUM, CHROMIUM_ARGS, ROOT, AppServer, _python
from flags import at_least_one
from report import write_rows

HEADLINE = "Central bank holds interest rates steady"


def _train(runs_dir: Path, *flags: str) -> str:
    """A run of the default preset on the bundled data in ``runs_dir`` (trained when
    missing), with ``flags``; its id."""
    done = subprocess.run(
        [_python(), "-m", "pipeline", "train", "--runs-dir", str(runs_dir), "--json", *flags],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout)["run_id"]


def _with_full_models(runs_dir: Path, run_ids: list[str], target: Path) -> None:
    """A runs folder holding copies of ``run_ids`` whose ``model.keras`` is the full model."""
    for run_id in run_ids:
        folder = target / run_id
        shutil.copytree(runs_dir / run_id, folder, ignore=shutil.ignore_patterns("logs"))
        shutil.copyfile(folder / "training_model.keras", folder / "model.keras")


async def _answer(page) -> float:
    """Fill the headline, press Enter; the time until the answer is shown."""
    box = page.get_by_label("Headline", exact=True)
    await box.fill(HEADLINE)
    entered = time.perf_counter()
    await box.press("Enter")
    for text in ("Words that drove it", "Predicted category"):
        await page.get_by_text(text).wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    await _idle(page)
    if await page.get_by_test_id("stException").count():
        raise RuntimeError("an exception on the Playground")
    return time.perf_counter() - entered


async def _first_answers(url: str) -> dict[str, float]:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 1000})
            page = await context.new_page()
            started = time.perf_counter()
            await page.goto(f"{url}/playground")
            box = page.get_by_label("Headline", exact=True)
            await box.wait_for(state="visible", timeout=120_000)
            boxed = time.perf_counter() - started
            await _idle(page)
            opened = time.perf_counter() - started
            answered = await _answer(page)
            # the other run, not loaded yet
            await page.get_by_label("Model (run)").click()
            options = page.get_by_role("option")
            await options.first.wait_for(state="visible")
            picked = time.perf_counter()
            for index in range(await options.count()):
                if await options.nth(index).get_attribute("aria-selected") != "true":
                    await options.nth(index).click()
                    break
            # the headline stays in its box: the page answers it with the new run at once
            with contextlib.suppress(PlaywrightTimeout):
                await page.locator("[data-test-script-state='running']").wait_for(
                    state="attached", timeout=5_000
                )
            await _idle(page)
            for text in ("Words that drove it", "Predicted category"):
                await page.get_by_text(text).wait_for(state="visible")
            switched = time.perf_counter() - picked
            if await page.get_by_test_id("stException").count():
                raise RuntimeError("an exception on the Playground")
        finally:
            await browser.close()
    return {
        "box_s": boxed,
        "open_s": opened,
        "answer_s": answered,
        "first_answer_s": opened + answered,
        "switch_answer_s": switched,
    }


async def _from_the_data_page(url: str, reading_s: float) -> dict[str, float]:
    """A first visitor of a cold server who opens the app's address (the Data page),
    reads it for ``reading_s`` seconds, then goes to the Playground by the sidebar and
    asks for a headline there."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 1000})
            page = await context.new_page()
            await page.goto(url)
            await page.get_by_test_id("stMetric").first.wait_for(state="visible", timeout=120_000)
            await _idle(page)
            await asyncio.sleep(reading_s)
            started = time.perf_counter()
            await page.get_by_role("link", name="Playground", exact=True).click()
            box = page.get_by_label("Headline", exact=True)
            await box.wait_for(state="visible", timeout=120_000)
            boxed = time.perf_counter() - started
            await _idle(page)
            opened = time.perf_counter() - started
            answered = await _answer(page)
        finally:
            await browser.close()
    return {
        "box_s": boxed,
        "open_s": opened,
        "answer_s": answered,
        "first_answer_s": opened + answered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=at_least_one, default=3)
    parser.add_argument("--runs-dir", type=Path, help="a runs folder to train the runs in")
    parser.add_argument("--output", default="playground_open")
    parser.add_argument(
        "--reading",
        type=float,
        nargs="+",
        default=[0.0, 3.0],
        help="seconds a first visitor spends on the Data page before the Playground",
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="playground-open-") as tmp:
        folders = {"lean": args.runs_dir or Path(tmp) / "runs", "full": Path(tmp) / "full"}
        run_ids = [_train(folders["lean"]), _train(folders["lean"], "--dropout", "0.4")]
        _with_full_models(folders["lean"], run_ids, folders["full"])
        # (model.keras, seconds on the Data page first; None: the Playground opened at once)
        samples: dict[tuple[str, float | None], list[dict[str, float]]] = {
            (kind, None): [] for kind in folders
        }
        for seconds in args.reading:
            samples["lean", seconds] = []
        for _ in range(args.rounds):
            for (kind, reading), found in samples.items():
                server = AppServer(folders[kind], Path(tmp) / f"server-{kind}.log")
                try:
                    if reading is None:
                        found.append(asyncio.run(_first_answers(server.url)))
                    else:
                        found.append(asyncio.run(_from_the_data_page(server.url, reading)))
                finally:
                    server.stop()
                print(kind, reading, found[-1], flush=True)
        for (kind, reading), values in samples.items():
            way = "opened at once" if reading is None else f"after {reading:g} s on the Data page"
            size = (folders[kind] / run_ids[0] / "model.keras").stat().st_size
            row: dict[str, object] = {
                "model.keras": kind,
                "MB": round(size / 1e6, 1),
                "cold server, the Playground": way,
            }
            for key in ("box_s", "open_s", "answer_s", "first_answer_s", "switch_answer_s"):
                timed = [v[key] for v in values if key in v]
                row[key] = round(statistics.median(timed), 2) if timed else "-"
            row["rounds"] = len(values)
            rows.append(row)
    write_rows(rows, args.output)


if __name__ == "__main__":
    main()
