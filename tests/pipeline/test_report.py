"""A run's report (``python -m pipeline report``, :mod:`pipeline.report`): its sections from a
tiny real run, strings from the data as text, runs saved before intervals and row
predictions, and bad input as one line with exit status 2.

The browser side (the file opens with every request refused, every chart drawn) is
``tests/e2e/test_report_in_browser.py``.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from cli_support import run_cli

from pipeline.runs.registry import RunRegistry
from tests.tiny_training import tiny_config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SMALL = FIXTURES / "uci_small.csv"
#: Markup in every kind of string a file brings: class names, publishers, texts.
MARKED = ("<b>bold</b>", "<script>alert(1)</script>", "$x^2$ **star**", "<img src=x onerror=y>")
SECTIONS = (
    "What was trained",
    "Scores against the baseline",
    "Training curves",
    "Classes",
    "Confusion matrix",
    "Where the model fails",
    "Most confident mistakes",
    "Model card",
)


class _Tags(HTMLParser):
    """Every start tag of a document, and its text outside ``<style>``."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.text.append(data)


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def _report(run_id: str, runs_dir: Path, output: Path, *extra: str) -> str:
    result = run_cli("report", "--run", run_id, "--output", str(output), *extra, runs_dir=runs_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {output} (run {run_id}")
    return output.read_text(encoding="utf-8")


def test_the_report_has_every_section_with_the_run_s_numbers(trained_run, runs_dir, tmp_path):
    result, _ = trained_run
    saved = RunRegistry(runs_dir).get(result.run_id)
    html = _report(result.run_id, runs_dir, tmp_path / "r.html", "--data", str(SMALL))
    parsed = _parse(html)
    text = " ".join(" ".join(parsed.text).split())
    for section in SECTIONS:
        assert f">{section}</h2>" in html, section
    metrics = saved.metrics
    assert saved.run_id in text and f"{metrics.test_accuracy:.2%}" in text
    assert f"{metrics.baseline.test_accuracy:.2%}" in text
    # the paired interval of every difference, balanced accuracy's included
    assert text.count(" points") >= 3 and "paired bootstrap" in text
    for words in ("Test accuracy", "Balanced accuracy", "Macro F1"):
        assert re.search(rf"{words} [\d.]+% [\d.]+% [+-]?[\d.]+ [+-]?[\d.]+ to [+-]?[\d.]+", text)
    # charts: curves, scores, classes, confusion, and one per slice column worth a chart:
    # the week's; no publisher has 30 test rows, and one bar of every row, "other", would
    # say nothing: a sentence says why, with the fix
    assert parsed.tags.count("svg") == 5
    assert "Test accuracy by PUBLISHER, worst first" not in text
    assert (
        f"No value of PUBLISHER has 30 test rows or more: all {metrics.n_test:,} test rows, "
        "of " in text
    )
    assert "are in “other”. Lower the smallest slice on Results" in text
    assert "Test accuracy by TIMESTAMP (week)" in text
    # per class: every class's name and support
    for scores in metrics.per_class.values():
        assert scores.name in text and f"{scores.support:,}" in text
    # the most confident mistakes: at most 20, the most confident first
    mistakes = html.split('id="mistakes"')[1].split('id="card"')[0]
    assert 0 < mistakes.count('<td class="text">') <= 20
    first = metrics.misclassified[0]["text"]
    assert mistakes.index(_html_text(first)) < mistakes.index("</table>")
    # the model card's three parts, with the split and duplicates named
    for heading in ("Intended use", "The data's limits", "Known failures"):
        assert f">{heading}</h3>" in html
    summary = saved.data.summary
    assert "Split: stratified random." in text
    assert f"{summary.duplicates_removed:,} rows with duplicated texts were removed" in text
    # self-contained: no script, no link or source elsewhere, a policy that forbids both
    assert "script" not in parsed.tags and not re.search(r"(src|href)=\"?(https?:)?//", html)
    assert "default-src 'none'" in html


def _html_text(text: str) -> str:
    from html import escape

    return escape(text, quote=False)


@pytest.fixture(scope="module")
def marked_run(tmp_path_factory) -> tuple[Path, str, Path]:
    """A tiny run on a file whose labels, publishers and texts all carry markup: its runs
    folder, id and the file."""
    from pipeline.data import load_dataset
    from pipeline.training.train import train_run

    folder = tmp_path_factory.mktemp("marked")
    frame = pd.read_csv(SMALL)
    codes = sorted(frame["CATEGORY"].unique())
    frame["CATEGORY"] = frame["CATEGORY"].map(dict(zip(codes, MARKED, strict=True)))
    frame["PUBLISHER"] = [
        MARKED[i % 4] if i % 3 == 0 else p for i, p in enumerate(frame["PUBLISHER"])
    ]
    frame["TITLE"] = [f"{t} {MARKED[i % 4]}" if i % 2 else t for i, t in enumerate(frame["TITLE"])]
    path = folder / "marked.csv"
    frame.to_csv(path, index=False)
    runs = folder / "runs"
    result = train_run(load_dataset(path), tiny_config(), runs_dir=runs)
    return runs, result.run_id, path


def test_strings_from_the_file_are_text_never_markup(marked_run, tmp_path):
    runs, run_id, path = marked_run
    html = _report(run_id, runs, tmp_path / "r.html", "--data", str(path))
    parsed = _parse(html)
    # no element the file's strings could have made
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert parsed.tags.count("b") == 3  # the three headline numbers, nothing more
    text = "".join(parsed.text)
    for marked in MARKED:
        assert marked in text, marked  # shown as typed (tables, charts' labels, card)
        assert marked not in html.replace(_html_text(marked), ""), marked  # only escaped
    # the charts' labels too: a class name is SVG text in the confusion matrix
    confusion = html.split('id="confusion"')[1].split("</figure>")[0]
    assert f">{_html_text('<b>bold</b>')}</text>" in confusion
    assert ">$x^2$ **star**</text>" in confusion  # one text, not mathtext: the dollars stay


def test_a_run_from_before_intervals_and_row_predictions_says_what_it_lacks(
    trained_run, runs_dir, tmp_path
):
    result, _ = trained_run
    old_runs = tmp_path / "runs"
    shutil.copytree(runs_dir / result.run_id, old_runs / result.run_id)
    folder = old_runs / result.run_id
    (folder / "test_predictions.json").unlink()
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics.pop("vs_baseline")
    (folder / "metrics.json").write_text(json.dumps(metrics))
    text = " ".join(_parse(_report(result.run_id, old_runs, tmp_path / "r.html")).text)
    assert "No interval is available" in text
    assert "saved before each test row's prediction was kept" in text
    assert "not available" in text  # each difference's interval cell


def test_a_damaged_predictions_file_leaves_the_slices_out_not_the_report(
    trained_run, runs_dir, tmp_path
):
    result, _ = trained_run
    copied = tmp_path / "runs"
    shutil.copytree(runs_dir / result.run_id, copied / result.run_id)
    (copied / result.run_id / "test_predictions.json").write_text("{damaged")
    html = _report(result.run_id, copied, tmp_path / "r.html", "--data", str(SMALL))
    text = " ".join(" ".join(_parse(html).text).split())
    assert "Slices left out:" in text and "test_predictions.json" in text
    assert "as saved with the run" in text  # the interval metrics.json kept


def test_a_run_on_another_file_without_data_leaves_the_slices_out_and_says_how(
    trained_run, runs_dir, tmp_path
):
    result, _ = trained_run
    text = " ".join(_parse(_report(result.run_id, runs_dir, tmp_path / "r.html")).text)
    assert "Slices left out: the run was trained on uci_small.csv" in " ".join(text.split())
    assert "--data" in text


def test_bad_input_is_one_line_naming_the_fix(trained_run, runs_dir, tmp_path):
    result, _ = trained_run
    unknown = run_cli("report", "--run", "f" * 16, "--output", str(tmp_path / "r.html"),
                      runs_dir=runs_dir)  # fmt: skip
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
    assert "error: " in unknown.stderr and "f" * 16 in unknown.stderr
    for output, fix in (
        (tmp_path / "missing" / "r.html", "does not exist"),
        (tmp_path, "is a folder"),
    ):
        bad = run_cli("report", "--run", result.run_id, "--output", str(output),
                      runs_dir=runs_dir)  # fmt: skip
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
        assert fix in bad.stderr and "Traceback" not in bad.stderr
    # a damaged run: the registry's words, no traceback
    damaged_runs = tmp_path / "damaged"
    shutil.copytree(runs_dir / result.run_id, damaged_runs / result.run_id)
    (damaged_runs / result.run_id / "metrics.json").write_text("{not json")
    damaged = run_cli("report", "--run", result.run_id, "--output", str(tmp_path / "r.html"),
                      runs_dir=damaged_runs)  # fmt: skip
    assert damaged.returncode == 2 and damaged.stderr.count("\n") == 1
    assert "is damaged" in damaged.stderr and "delete it and train it again" in damaged.stderr
    assert not (tmp_path / "r.html").exists()  # nothing half-written
    # --data naming another file than the run's
    other_file = str(FIXTURES / "custom_headlines.csv")
    other = run_cli("report", "--run", result.run_id, "--output", str(tmp_path / "r.html"),
                    "--data", other_file, runs_dir=runs_dir)  # fmt: skip
    assert other.returncode == 2 and "cannot be matched" in other.stderr


def test_report_help_explains_it():
    shown = run_cli("report", "--help")
    assert shown.returncode == 0
    for words in ("self-contained", "offline", "model card", "--data", "paired 95 %"):
        assert words in " ".join(shown.stdout.split()), words
