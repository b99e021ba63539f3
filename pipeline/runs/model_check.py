"""Check an untrusted ``model.keras`` in a process of its own, never in the caller's.

An imported run archive comes from anyone. Its model is deserialised (with
``safe_mode=True``, custom layers registered) and asked for one prediction in
another Python process: a model file that crashes the loader, hangs it or eats
memory takes that process down, not the app's server.

- :func:`check_in_separate_process` starts a fresh process per check (the CLI's one
  import): it prints one line of JSON, ``{"problem": null}`` or ``{"problem": "..."}``.
- :class:`ModelChecker` keeps one checking process between checks (the app's server,
  where visitors import one archive after another): TensorFlow is imported once, not
  once per archive (about 4 s of CPU each). A crash or a timeout ends that process and
  the next check starts another; after :data:`CHECKER_IDLE_SECONDS` without a check it
  ends, so an idle server holds no TensorFlow for it.

Run by hand: ``python -m pipeline.runs.model_check MODEL.keras CLASS_COUNT``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from pipeline.core.spawn import main_module_that_spawn_skips, spawn_context, terminate_workers

#: Seconds the checking process may take (it imports TensorFlow: several seconds).
CHECK_TIMEOUT_SECONDS = 300
#: Seconds a :class:`ModelChecker`'s process waits for the next check before it ends.
CHECKER_IDLE_SECONDS = 300.0
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def model_problem(path: Path, class_count: int) -> str | None:
    """Why the model at ``path`` is unusable, or ``None``: it loads with
    ``safe_mode=True`` and maps one headline to ``class_count`` probabilities that
    sum to 1. Runs in the calling process: call it only in a process of its own."""
    import numpy as np
    import tensorflow as tf

    from pipeline.runs.model_file import load_model_file

    try:
        model = load_model_file(path)
    except Exception as exc:  # any failure to load means the model is unusable
        return f"it does not load safely ({type(exc).__name__})"
    try:
        probabilities = np.asarray(model(tf.constant([["A test headline"]]), training=False))
    except Exception as exc:  # a model that cannot score a headline is unusable
        return f"it cannot score a headline ({type(exc).__name__})"
    if probabilities.shape != (1, class_count):
        return (
            f"it gives {probabilities.shape[-1] if probabilities.ndim else 0} outputs for "
            f"{class_count} classes"
        )
    if not np.all(np.isfinite(probabilities)) or abs(float(probabilities.sum()) - 1) > 1e-3:
        return "its outputs are not probabilities"
    return None


def check_in_separate_process(
    path: Path, class_count: int, *, timeout: float = CHECK_TIMEOUT_SECONDS
) -> str | None:
    """:func:`model_problem` of ``path``, worked out by a fresh Python process.

    Returns the problem, or ``None`` for a usable model. A process that crashes, prints
    no verdict or outlives ``timeout`` seconds (it is killed) makes the model unusable.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(_PROJECT_ROOT), env.get("PYTHONPATH", "")) if part
    )
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["CUDA_VISIBLE_DEVICES"] = ""  # a check needs no GPU, and must not take one's memory
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.runs.model_check", str(path), str(class_count)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=_PROJECT_ROOT,
        )
    except subprocess.TimeoutExpired:
        return f"checking it took over {timeout:.0f} s"
    verdict = done.stdout.strip().splitlines()[-1:] if done.stdout else []
    try:
        problem = json.loads(verdict[0])["problem"] if verdict else None
    except (ValueError, KeyError, TypeError):
        problem = None
        verdict = []
    if done.returncode != 0 or not verdict:
        return f"the process checking it failed (exit status {done.returncode})"
    return problem if isinstance(problem, str) or problem is None else "no clear verdict"


def _prepare_checking_process() -> None:
    """Initializer of a :class:`ModelChecker`'s process: no GPU, few threads, TensorFlow
    imported now (before the first archive waits for it), and the imported objects kept
    out of the garbage collection each check ends with."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # a check must not take a GPU's memory
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from pipeline.core.device import configure_devices, use_serving_threads
    from pipeline.core.memory import freeze_imported_objects

    use_serving_threads()
    configure_devices()
    import pipeline.runs.model_file  # noqa: F401  (Keras and the custom layers a check loads)

    freeze_imported_objects()


def _problem_then_forget(path: str, class_count: int) -> str | None:
    """:func:`model_problem`, then Keras' state cleared for the next archive."""
    import keras

    try:
        return model_problem(Path(path), class_count)
    finally:
        keras.backend.clear_session(free_memory=True)


class ModelChecker:
    """:func:`model_problem` of one archive after another, in one process kept for it.

    Thread-safe: checks take turns. The process starts at the first check, ends after
    ``idle_seconds`` without one (or at :meth:`shutdown`), and is replaced after a crash
    or a check that outlives its timeout.
    """

    def __init__(self, idle_seconds: float = CHECKER_IDLE_SECONDS) -> None:
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._idle_timer: threading.Timer | None = None

    def problem(
        self, path: Path, class_count: int, *, timeout: float = CHECK_TIMEOUT_SECONDS
    ) -> str | None:
        """Why the model at ``path`` is unusable, or ``None`` (as
        :func:`check_in_separate_process` says it: a crash or a timeout is a problem)."""
        with self._lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            try:
                # A kept process that died while idle breaks the next check without any
                # fault of its model: a model is blamed only if a fresh process dies too.
                for _ in range(2 if self._pool is not None else 1):
                    try:
                        return self._submit(path, class_count).result(timeout=timeout)
                    except BrokenProcessPool:
                        self._end_process()
                return "the process checking it ended unexpectedly"
            except FutureTimeout:
                self._end_process()
                return f"checking it took over {timeout:.0f} s"
            except Exception as exc:  # the check itself failed: no verdict
                return f"the process checking it failed ({type(exc).__name__})"
            finally:
                if self._pool is not None:
                    self._idle_timer = threading.Timer(self._idle_seconds, self._end_if_idle)
                    self._idle_timer.daemon = True
                    self._idle_timer.start()

    def _submit(self, path: Path, class_count: int) -> Future:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=spawn_context(), initializer=_prepare_checking_process
            )
        with main_module_that_spawn_skips():  # the first submit starts the process
            return self._pool.submit(_problem_then_forget, str(path), class_count)

    @property
    def process_id(self) -> int | None:
        """The kept checking process's id, or ``None`` when none is kept now."""
        processes = list((self._pool._processes or {}).values()) if self._pool else []
        return processes[0].pid if processes else None

    def shutdown(self) -> None:
        """End the checking process (a later check starts another)."""
        with self._lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            self._end_process()

    def _end_if_idle(self) -> None:
        with self._lock:
            self._end_process()

    def _end_process(self) -> None:
        if self._pool is not None:
            terminate_workers(self._pool)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def main(argv: list[str]) -> int:
    """``python -m pipeline.runs.model_check MODEL.keras CLASS_COUNT``: print the verdict."""
    from pipeline.core.device import configure_devices, use_serving_threads

    use_serving_threads()
    configure_devices()
    problem = model_problem(Path(argv[0]), int(argv[1]))
    print(json.dumps({"problem": problem}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
