"""The kept process that checks imported models (``ModelChecker``): one process for
one archive after another, replaced after a death or a timeout, ended when idle."""

from __future__ import annotations

import gc
import os
import signal
import time
from pathlib import Path

import pytest

from pipeline.runs.model_check import ModelChecker

pytestmark = pytest.mark.training


def _wait_until_dead(pid: int, seconds: float = 10.0) -> None:
    """Until ``pid`` is gone or a zombie (``/proc/PID/stat``'s state ``Z``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in {"Z", "X"}:
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} still runs")


def test_one_process_checks_one_model_after_another(trained_run, tmp_path, model_checker):
    result, _ = trained_run
    good = result.run_dir / "model.keras"
    broken = tmp_path / "model.keras"
    broken.write_bytes(b"not a keras archive")
    assert model_checker.problem(good, 4) is None
    first = model_checker.process_id
    assert first is not None and first != os.getpid()
    assert model_checker.problem(good, 3) == "it gives 4 outputs for 3 classes"
    assert "does not load safely" in model_checker.problem(broken, 4)
    assert model_checker.process_id == first  # TensorFlow was imported once
    # the libraries' objects are out of the collection each check ends with
    assert model_checker._pool.submit(gc.get_freeze_count).result(timeout=60) > 100_000


def test_a_dead_or_slow_process_is_replaced_and_an_idle_one_ends(trained_run):
    result, _ = trained_run
    good = result.run_dir / "model.keras"
    checker = ModelChecker(idle_seconds=1.0)
    try:
        # still importing TensorFlow after 10 ms: the check fails, the process is ended
        assert checker.problem(good, 4, timeout=0.01) == "checking it took over 0 s"
        assert checker.process_id is None
        assert checker.problem(good, 4) is None
        # killed while it waited for work (not the model's doing): the next check works
        killed = checker.process_id
        os.kill(killed, signal.SIGKILL)
        _wait_until_dead(killed)  # dead; its pool may not have noticed yet
        assert checker.problem(good, 4) is None
        assert checker.process_id not in {None, killed}
        # idle for longer than idle_seconds: ended (a later check starts one, as above)
        deadline = time.monotonic() + 30
        while checker.process_id is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert checker.process_id is None
    finally:
        checker.shutdown()
    assert checker.process_id is None
