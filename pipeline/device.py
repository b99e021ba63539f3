"""Which device trains: the GPU(s) when present, the CPU otherwise.

:func:`describe_device` answers without importing TensorFlow (it asks
``nvidia-smi``), so pages that only show the device stay fast.
:func:`training_strategy` configures TensorFlow: memory growth on every GPU, a
``MirroredStrategy`` over several, the default strategy on one GPU or the CPU.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf


@lru_cache(maxsize=1)
def gpu_names() -> tuple[str, ...]:
    """Names of the NVIDIA GPUs ``nvidia-smi`` lists; empty when there are none."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") in {"", "-1"}:
        return ()
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return ()
    try:
        listed = subprocess.run(
            [binary, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in listed.splitlines() if line.strip())


def describe_device() -> str:
    """E.g. ``"GPU: NVIDIA H100"``, ``"2 GPUs: ..."`` or ``"CPU (2 cores)"``."""
    names = gpu_names()
    if not names:
        return f"CPU ({os.cpu_count()} cores)"
    if len(names) == 1:
        return f"GPU: {names[0]}"
    return f"{len(names)} GPUs: {', '.join(names)}"


def training_strategy() -> tuple[tf.distribute.Strategy, str]:
    """The ``tf.distribute`` strategy to build and fit under, and its description."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        # RuntimeError: already initialised by an earlier run in this process; keep it.
        with contextlib.suppress(RuntimeError):
            tf.config.experimental.set_memory_growth(gpu, True)
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy(), f"{len(gpus)} GPUs (MirroredStrategy)"
    if len(gpus) == 1:
        details = tf.config.experimental.get_device_details(gpus[0])
        return tf.distribute.get_strategy(), f"GPU: {details.get('device_name', gpus[0].name)}"
    return tf.distribute.get_strategy(), f"CPU ({os.cpu_count()} cores)"
