"""The benchmark scripts take bad flags as the CLI does: one line and status 2."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_bench_data_refuses_a_repeat_below_one(monkeypatch, capsys) -> None:
    """Found: ``bench_data.py --repeat 0`` loaded the dataset and ended in ``min()``'s
    traceback on an empty list."""
    spec = importlib.util.spec_from_file_location("bench_data", BENCHMARKS / "bench_data.py")
    bench_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_data)
    monkeypatch.setattr(sys, "argv", ["bench_data.py", "--repeat", "0"])
    with pytest.raises(SystemExit) as exited:
        bench_data.main()
    assert exited.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.endswith("--repeat must be at least 1 (each step runs that many times)")
