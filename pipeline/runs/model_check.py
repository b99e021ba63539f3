"""Check an untrusted ``model.keras`` in a process of its own, never in the caller's.

An imported run archive comes from anyone. Its model is deserialised (with
``safe_mode=True``, custom layers registered) and asked for one prediction in a
fresh Python process (:func:`check_in_separate_process`): a model file that crashes
the loader, hangs it or eats memory takes that process down, not the app's server.
The process prints one line of JSON, ``{"problem": null}`` or ``{"problem": "..."}``.

Run by hand: ``python -m pipeline.runs.model_check MODEL.keras CLASS_COUNT``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: Seconds the checking process may take (it imports TensorFlow: several seconds).
CHECK_TIMEOUT_SECONDS = 300
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
