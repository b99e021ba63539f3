"""The Makefile's commands: the app's port can be chosen."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make here")
@pytest.mark.parametrize("target", ["run", "dev"])
def test_the_port_is_chosen_with_port(target):
    """Found: the Makefile had no way to choose the port."""
    for extra, port in (([], "8501"), (["PORT=8600"], "8600")):
        done = subprocess.run(
            ["make", "-n", "-W", "requirements.txt", target, *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        (line,) = [line for line in done.stdout.splitlines() if "streamlit run" in line]
        assert f"--server.port {port}" in line
