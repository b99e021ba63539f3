"""Which device trains: the GPU(s) when present, the CPU otherwise.

:func:`describe_device` answers without importing TensorFlow (it asks
``nvidia-smi``), so pages that only show the device stay fast.
:func:`configure_devices` sets TensorFlow's devices up once per process (memory
growth on every GPU; ``$HEADLINE_LAB_CPU_DEVICES=N`` splits the CPU into N logical
devices when there is no GPU, so the multi-device path runs without one). Call it
before any model is built or loaded. :func:`training_strategy` calls it, then
returns a ``MirroredStrategy`` over several GPUs (or several logical CPUs), the
default strategy otherwise. :func:`apply_precision_policy` sets Keras' global
dtype policy (``mixed_float16`` or ``float32``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf

CPU_DEVICES_ENV = "HEADLINE_LAB_CPU_DEVICES"
"""Environment variable: split the CPU into this many logical devices (>= 2, no GPU only)."""

PRECISION_SETTINGS = ("auto", "on", "off")

_configure_lock = threading.Lock()
_configured = False


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


def _requested_cpu_devices() -> int:
    """``$HEADLINE_LAB_CPU_DEVICES`` as an int >= 2, or 0 when unset or invalid."""
    raw = os.environ.get(CPU_DEVICES_ENV, "").strip()
    try:
        count = int(raw)
    except ValueError:
        return 0
    return count if count >= 2 else 0


#: TensorFlow threads of a process that only serves predictions (the app's server).
SERVING_THREADS = 1


def use_serving_threads(threads: int = SERVING_THREADS) -> None:
    """Give TensorFlow ``threads`` intra-op and inter-op threads; call it before any op
    runs in a process that only predicts (the app's server). A headline or a small
    batch gains nothing from a thread pool per core, whose idle threads spin and take
    CPU from every other visitor's page. No-op once TensorFlow has started."""
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # TensorFlow already initialised: keep it
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def configure_devices() -> None:
    """Set TensorFlow's devices up; idempotent, cheap after the first call.

    Call it before any model is built or loaded in the process: GPU memory growth
    and logical devices can only be set before TensorFlow initialises its devices
    (after that the ``RuntimeError`` is swallowed and the existing setup is kept).

    - memory growth on for every GPU;
    - with ``$HEADLINE_LAB_CPU_DEVICES=N`` (N >= 2) and no GPU, the first physical
      CPU is split into N logical devices.
    """
    global _configured
    if _configured:
        return
    with _configure_lock:
        if _configured:
            return
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        for gpu in gpus:
            # RuntimeError: GPUs already initialised in this process; keep their setup.
            with contextlib.suppress(RuntimeError):
                tf.config.experimental.set_memory_growth(gpu, True)
        count = _requested_cpu_devices()
        if count and not gpus:
            cpus = tf.config.list_physical_devices("CPU")
            if cpus:
                with contextlib.suppress(RuntimeError):
                    tf.config.set_logical_device_configuration(
                        cpus[0],
                        [tf.config.LogicalDeviceConfiguration() for _ in range(count)],
                    )
        _configured = True


def training_strategy() -> tuple[tf.distribute.Strategy, str]:
    """The ``tf.distribute`` strategy to build and fit under, and its description.

    Calls :func:`configure_devices` first. Several GPUs: ``MirroredStrategy`` over
    all of them; no GPU but several logical CPUs (``$HEADLINE_LAB_CPU_DEVICES``):
    ``MirroredStrategy`` over those; otherwise the default strategy.
    """
    import tensorflow as tf

    configure_devices()
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy(), f"{len(gpus)} GPUs (MirroredStrategy)"
    if len(gpus) == 1:
        details = tf.config.experimental.get_device_details(gpus[0])
        return tf.distribute.get_strategy(), f"GPU: {details.get('device_name', gpus[0].name)}"
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) > 1:
        strategy = tf.distribute.MirroredStrategy(devices=[cpu.name for cpu in cpus])
        return strategy, f"{len(cpus)} logical CPU devices (MirroredStrategy)"
    return tf.distribute.get_strategy(), f"CPU ({os.cpu_count()} cores)"


def use_mixed_precision(setting: str) -> bool:
    """Whether to train in ``mixed_float16``: ``"on"``, ``"off"``, or ``"auto"`` (on with a GPU).

    ``"auto"`` asks TensorFlow for physical GPUs (this does not initialise them).
    Raises ``ValueError`` for any other setting.
    """
    if setting not in PRECISION_SETTINGS:
        raise ValueError(f"precision must be one of {PRECISION_SETTINGS}, not {setting!r}")
    if setting != "auto":
        return setting == "on"
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def apply_precision_policy(setting: str) -> str:
    """Set Keras' global dtype policy for ``setting`` and return its name.

    ``"mixed_float16"`` when :func:`use_mixed_precision` says so, else ``"float32"``.
    The policy is global to the process: set it before building the model. Models
    built under ``mixed_float16`` must keep their final softmax ``Dense`` in float32
    (``dtype="float32"``) so the probabilities and the loss stay numerically stable.
    """
    import keras

    name = "mixed_float16" if use_mixed_precision(setting) else "float32"
    keras.mixed_precision.set_dtype_policy(name)
    return name
