"""The benchmark scripts take bad flags as the CLI does: one line and status 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.cli_support import load_script

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


#: Every count flag of a benchmark script (``benchmarks/flags.py``'s ``at_least_one``).
COUNT_FLAGS = [
    ("app_load.py", "--pages"),
    ("app_load.py", "--headlines"),
    ("app_memory.py", "--jobs"),
    ("app_speed.py", "--repeat"),
    ("bag_step.py", "--epochs"),
    ("bag_step.py", "--rounds"),
    ("bag_step.py", "--batch"),
    ("batch_scoring.py", "--rows"),
    ("bench_data.py", "--repeat"),
    ("label_review.py", "--epochs"),
    ("models.py", "--epochs"),
    ("playground_open.py", "--rounds"),
    ("session_memory.py", "--sessions"),
    ("session_memory.py", "--keep-open"),
]


@pytest.mark.parametrize(("script", "flag"), COUNT_FLAGS)
def test_a_count_below_one_is_one_line_and_status_2(script, flag, monkeypatch, capsys) -> None:
    """Found: ``bench_data.py --repeat 0`` loaded the dataset and ended in ``min()``'s
    traceback on an empty list, and ``app_speed.py --repeat 0`` started a server and a
    browser to measure nothing; every count is now checked as the flags are read."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as when the script runs: its folder first
    module = load_script(BENCHMARKS / script)
    monkeypatch.setattr(sys, "argv", [script, flag, "0"])
    with pytest.raises(SystemExit) as exited:
        module.main()
    assert exited.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.endswith(f"argument {flag}: must be at least 1 (got 0)"), error


def test_every_count_flag_of_a_benchmark_is_checked() -> None:
    """The list above is every ``type=at_least_one`` flag of the scripts (a new one is
    tested once it is listed)."""
    import re

    declared = set()
    for path in sorted(BENCHMARKS.glob("*.py")):
        text = path.read_text()
        for flag in re.findall(r'add_argument\(\s*"(--[\w-]+)",\s*type=at_least_one', text):
            declared.add((path.name, flag))
    assert declared == set(COUNT_FLAGS)
