"""What the command line tells a user about the file they brought: a column it cannot
guess is named with its flag, rows and classes left out are said, and the advice for
classes with too few test rows fits the run's own settings.

Found using ``train`` on a file of 1,136 headlines labelled by 14 publishers: the app
showed every one of these, the command line none (two classes dropped in silence) or the
wrong one (``use --test-set stratified`` on a stratified test set)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli.options import setting_flag
from pipeline.core.class_sizes import thin_classes_remedy
from pipeline.core.config import DataConfig
from tests.cli_support import run_cli
from tests.tiny_training import tiny_cli_flags

MANY_CLASSES = Path(__file__).resolve().parents[1] / "fixtures" / "many_classes.csv"


@pytest.fixture(scope="module")
def publishers_file(tmp_path_factory) -> Path:
    """``many_classes.csv`` as a user brings it: ``headline;source`` (names no guess list
    holds), the ``;`` delimiter, and three rows without a label."""
    frame = pd.read_csv(MANY_CLASSES).rename(columns={"TITLE": "headline", "CATEGORY": "source"})
    frame.loc[frame.index[:3], "source"] = ""
    path = tmp_path_factory.mktemp("brought") / "publishers.csv"
    frame.to_csv(path, sep=";", index=False)
    return path


def test_a_column_that_cannot_be_guessed_is_named_with_its_flag(publishers_file, tmp_path):
    unguessed = run_cli("train", "--data", str(publishers_file), runs_dir=tmp_path)
    assert unguessed.returncode == 2
    (line,) = unguessed.stderr.strip().splitlines()
    assert "holds the label; its columns are headline, source" in line
    assert line.endswith("Pass one of those with --label-col."), line
    wrong = run_cli(
        "inspect", "--data", str(publishers_file), "--text-col", "title", "--label-col", "source"
    )
    assert wrong.returncode == 2
    assert "no column 'title' for the text" in wrong.stderr
    assert wrong.stderr.strip().endswith("Pass one of those with --text-col.")


def test_the_advice_for_thin_classes_names_only_settings_that_would_help():
    stratified = thin_classes_remedy(DataConfig(), setting_flag)
    for remedy in ("Merge", "more rows", "drop them", "--min-class-rows", "--test-size"):
        assert remedy in stratified
    for needless in ("--test-set", "--cap-per-class", "--balance"):
        assert needless not in stratified  # the defaults: stratified, every row kept
    assert "--test-set stratified" in thin_classes_remedy(
        DataConfig(test_set="balanced"), setting_flag
    )
    capped = DataConfig(balance="cap", cap_per_class=100)
    assert "a higher --cap-per-class" in thin_classes_remedy(capped, setting_flag)
    downsampled = DataConfig(balance="downsample")
    assert "--balance class_weights" in thin_classes_remedy(downsampled, setting_flag)


@pytest.mark.training
def test_train_says_what_was_left_out_and_how_to_trust_thin_classes(publishers_file, tmp_path):
    """Classes under 50 rows are dropped (two of 30), three rows have no label, and a
    quarter of the rest leaves most classes under 30 test rows."""
    flags = [
        *("--data", str(publishers_file), "--label-col", "source"),
        *tiny_cli_flags(balance="class_weights", cap_per_class=None, epochs=1),
        *("--min-class-rows", "50"),
    ]
    shown = run_cli("train", *flags, runs_dir=tmp_path)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "note: 3 row(s) with an empty 'source' were dropped" in shown.stderr
    notes = [line for line in shown.stdout.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and notes[0].startswith("note: Dropped 2 class(es) with fewer than 50")
    (warning,) = [line for line in shown.stdout.splitlines() if line.startswith("warning: ")]
    assert "fewer than 30 test rows in " in warning
    # the fewest five by name and a count of the rest, as on the pages (not 17 names)
    assert re.search(r"test rows in ([^,]+ \(\d+\), ){4}[^,]+ \(\d+\) and 12 more:", warning)
    assert warning.endswith(thin_classes_remedy(DataConfig(min_class_rows=50), setting_flag))
    assert "--test-set" not in warning  # the test set is stratified already
    # Found: the class table cut names at 18 characters, so "International Business Times
    # AU" read "International Busi", as its neighbour without "AU" would.
    lines = shown.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["class", "precision"])
    table = lines[header + 1 :]
    assert any(line.startswith("International Business Times AU ") for line in table), table

    cached = run_cli("train", *flags, "--json", runs_dir=tmp_path)
    assert cached.returncode == 0, cached.stderr[-2000:]
    report = json.loads(cached.stdout)
    assert report["from_cache"] and report["notes"] == [notes[0].removeprefix("note: ")]
    assert "note: 3 row(s) with an empty 'source' were dropped" in cached.stderr
