"""Fixtures for the Ray tests: a real two-node Ray cluster on this machine, a tiny run.

``two_node_cluster`` starts a head node and a second node with the ``ray`` CLI of the
project's virtualenv, each with one CPU and a custom resource of its own (``head`` and
``worker_node``) so a test can place work on a chosen node. It yields the head's address
(``<ip>:<port>``, for ``ray.init(address=...)`` or ``--address``) and always stops both
nodes afterwards. ``ray stop`` would kill every Ray on the machine (the local Rays of
other tests included), so the fixture marks the environment of its ``ray start`` calls
and kills only the processes that carry the mark, and their children (Ray renames its
agents and workers, which can hide their environment, but they are the raylet's children).

Ray's token authentication is switched off for this private cluster
(``RAY_AUTH_MODE=disabled``): a driver that joins by an explicit address does not send a
token unless told to, so with it on every test would have to set ``RAY_AUTH_MODE=token``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tiny_training import tiny_config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RAY_CLI = Path(sys.executable).with_name("ray")
#: The environment variable that marks this fixture's Ray processes (value: the temp dir).
MARK = "HEADLINE_LAB_TEST_RAY_CLUSTER"
#: Object store per node: small, the tests move kilobytes.
OBJECT_STORE_BYTES = 128 * 1024 * 1024
START_TIMEOUT_S = 120


def _free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


def _ray_start(args: list[str], temp_dir: str) -> None:
    """Run ``ray start`` with ``args``; fail the fixture with Ray's own output if it fails.

    Ports that default to fixed numbers get free ones, so this cluster never collides
    with another Ray on the machine.
    """
    command = [
        str(RAY_CLI),
        "start",
        *args,
        "--num-cpus",
        "1",
        "--object-store-memory",
        str(OBJECT_STORE_BYTES),
        "--dashboard-agent-listen-port",
        str(_free_port()),
        "--temp-dir",
        temp_dir,
        "--disable-usage-stats",
    ]
    env = {
        **os.environ,
        MARK: temp_dir,
        "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=START_TIMEOUT_S, env=env, check=False
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-3000:]
        raise RuntimeError(f"`{' '.join(command)}` failed:\n{output}")


def _parents() -> dict[int, int]:
    """Every live process id -> its parent's id, read from ``/proc``."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:"):
                parents[int(entry.name)] = int(line.split()[1])
                break
    return parents


def _cluster_processes(temp_dir: str) -> set[int]:
    """Ids of the processes started for this cluster: marked ones and their descendants."""
    parents = _parents()
    mark = f"{MARK}={temp_dir}".encode()
    found = set()
    for pid in parents:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if mark in environ.split(b"\0"):
            found.add(pid)
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in found} - found
        found |= children
        grew = bool(children)
    found.discard(os.getpid())
    return found


def _stop_cluster(temp_dir: str) -> None:
    """SIGKILL this cluster's processes (and only them), until none is left."""
    for _ in range(5):
        pids = _cluster_processes(temp_dir)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)


def _wait_for_nodes(address: str, count: int) -> None:
    """Block until ``count`` nodes are alive at ``address`` (asked in a fresh process)."""
    probe = (
        "import ray, sys, time\n"
        f"ray.init(address={address!r}, logging_level='ERROR', log_to_driver=False)\n"
        "alive = lambda: sum(node['Alive'] for node in ray.nodes())\n"
        "deadline = time.time() + 60\n"
        f"while alive() < {count} and time.time() < deadline:\n"
        "    time.sleep(0.5)\n"
        f"sys.exit(0 if alive() >= {count} else 1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the two-node Ray cluster did not come up:\n{done.stderr[-2000:]}")


@pytest.fixture(scope="session")
def two_node_cluster() -> Iterator[str]:
    """A real two-node Ray cluster on this machine; yields its address ``<ip>:<port>``.

    The head has ``{"CPU": 1, "head": 1}``, the second node ``{"CPU": 1, "worker_node": 1}``.
    Both are stopped at the end of the session, whatever happened.
    """
    # AF_UNIX socket paths are limited to 107 bytes: keep the temp dir short.
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    try:
        _ray_start(
            [
                "--head",
                "--port",
                str(_free_port()),
                "--ray-client-server-port",
                str(_free_port()),
                "--dashboard-port",
                str(_free_port()),
                "--resources",
                json.dumps({"head": 1}),
                "--include-dashboard=false",
            ],
            temp_dir,
        )
        # Ray binds to this machine's own address (not 127.0.0.1) and writes it here.
        address = (Path(temp_dir) / "ray_current_cluster").read_text().strip()
        _ray_start(["--address", address, "--resources", json.dumps({"worker_node": 1})], temp_dir)
        _wait_for_nodes(address, 2)
        yield address
    finally:
        _stop_cluster(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster_runs_dir(tmp_path_factory) -> Path:
    """The runs folder of the Ray tests' tiny run."""
    return tmp_path_factory.mktemp("cluster_runs")


@pytest.fixture(scope="session")
def tiny_run(cluster_runs_dir: Path) -> str:
    """One tiny real run (fast preset, 2 epochs) trained on ``uci_small.csv``; its id."""
    from pipeline.data import load_dataset
    from pipeline.training.train import train_run

    dataset = load_dataset(FIXTURES / "uci_small.csv")
    result = train_run(dataset, tiny_config(), runs_dir=cluster_runs_dir)
    return result.run_id
