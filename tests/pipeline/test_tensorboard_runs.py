"""TensorBoard lists each run as "family · dataset · date time · id", not by hash."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.runs.registry import RunRegistry
from pipeline.runs.tensorboard import readable_run_name, tensorboard_command
from tests.cli_support import run_cli

pytestmark = pytest.mark.training
ROOT = Path(__file__).resolve().parents[2]


def test_a_runs_name_reads_and_fits_logdir_spec(trained_run, runs_dir):
    result, _ = trained_run
    summary = next(r for r in RunRegistry(runs_dir).list_runs() if r.run_id == result.run_id)
    name = readable_run_name(summary)
    family, dataset, when, short = name.split(" · ")
    assert (family, dataset, short) == (summary.family, "uci_small.csv", result.run_id[:8])
    assert when.startswith(summary.created_at[:10]) and "h" in when
    assert ":" not in name and "," not in name


def test_the_cli_prints_the_command(trained_run, runs_dir):
    result, _ = trained_run
    done = run_cli("runs", "tensorboard", result.run_id, "--print", runs_dir=runs_dir)
    assert done.returncode == 0, done.stderr
    command = shlex.split(done.stdout)
    assert command[1:4] == ["-m", "tensorboard.main", "--logdir_spec"]
    assert command[4].endswith(f"{result.run_id}/logs") and " · " in command[4]
    unknown = run_cli("runs", "tensorboard", "0" * 16, "--print", runs_dir=runs_dir)
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: No saved run")


def test_tensorboard_lists_the_run_by_its_readable_name(trained_run, runs_dir):
    result, _ = trained_run
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = tensorboard_command(RunRegistry(runs_dir), [result.run_id])
    server = subprocess.Popen(
        [*command, "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline, runs = time.monotonic() + 90, []
        while time.monotonic() < deadline and len(runs) < 2:
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs") as reply:
                    runs = json.loads(reply.read())
            except OSError:
                continue
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = next(r for r in RunRegistry(runs_dir).list_runs() if r.run_id == result.run_id)
    name = readable_run_name(summary)
    assert sorted(runs) == [f"{name}/train", f"{name}/validation"]
