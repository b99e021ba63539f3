"""Ray, for the commands that outgrow one machine (``predict --engine ray``, ``sweep``).

Only those commands import this module, and this module imports Ray only inside
:func:`ray_session`, so the app and the plain CLI never load it. Ray is an optional
extra (``requirements-cluster.txt``); without it the commands say how to install it.

Without an address, :func:`ray_session` starts a local Ray inside the process (the
embedded default), sized to this machine; with one (``auto``, ``host:6379`` or
``ray://host:10001``) it joins that cluster. Either way the workers get the
``pipeline`` package shipped as a runtime-env module, because a saved ``.keras``
with our layers loads only where ``pipeline`` is importable.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from pipeline.core.errors import HeadlineLabError

#: The pip requirement file of the optional extra, named in every "install it" message.
CLUSTER_REQUIREMENTS = "requirements-cluster.txt"
#: The ``--engine`` choices of the commands that can run on Ray, the default first.
ENGINES = ("local", "ray")
PACKAGE_DIR = Path(__file__).resolve().parent


class ClusterError(HeadlineLabError):
    """Ray is missing, or the cluster at the given address cannot be reached."""


def import_ray() -> ModuleType:
    """The ``ray`` module, or a :class:`ClusterError` that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ClusterError(
            "Ray is not installed (it is an optional extra): run "
            f"`.venv/bin/pip install -r {CLUSTER_REQUIREMENTS}`, or leave out --engine ray."
        ) from exc
    return ray


#: Seconds to wait for a TCP answer at a cluster's address before giving up.
CONNECT_TIMEOUT_S = 5.0


def check_reachable(address: str) -> None:
    """Raise :class:`ClusterError` unless something answers at ``address``'s host and port.

    ``ray.init`` retries an unreachable ``host:port`` for ever (Ray 2.60), so an address
    with a port is tried here first, with :data:`CONNECT_TIMEOUT_S`. ``auto`` and an
    address without a port are left to Ray, which fails fast on those.
    """
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ClusterError(
            f"Nothing answers at the Ray address {address!r} ({exc.strerror or exc}). Check "
            "the address (`ray status` on the head node prints it), or leave out --address "
            "to start a local Ray."
        ) from exc


@contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[ModuleType]:
    """Ray connected for the ``with`` block, shut down after it; yields the ``ray`` module.

    ``address=None`` starts a local Ray in this process with ``num_cpus`` (default: this
    machine's cores); any other value joins that cluster (``num_cpus`` is then the
    cluster's business and ignored). Raises :class:`ClusterError` when Ray is missing or
    the cluster cannot be reached.
    """
    ray = import_ray()
    runtime_env = {
        "py_modules": [str(PACKAGE_DIR)],
        "excludes": ["__pycache__", "*.pyc"],
        # TensorFlow's C++ start-up chatter would drown Ray's progress bars.
        "env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"},
    }
    options: dict[str, object] = {
        "runtime_env": runtime_env,
        "include_dashboard": False,
        "logging_level": "WARNING",
        "log_to_driver": True,
    }
    if address is None:
        # "local", not None: None would join a cluster that `ray start` left on this machine.
        options["address"] = "local"
        options["num_cpus"] = num_cpus or os.cpu_count() or 1
    else:
        check_reachable(address)
        options["address"] = address
    try:
        ray.init(**options)
    except ray.exceptions.AuthenticationError as exc:
        raise ClusterError(
            f"The Ray cluster at {address!r} wants a token this client does not have "
            f"({exc.message[:200]}). Copy the cluster's token to ~/.ray/auth_token (or set "
            "RAY_AUTH_TOKEN), as `ray get-auth-token` on the head node prints it."
        ) from exc
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address!r}" if address else "a local Ray"
        raise ClusterError(
            f"Could not start or reach {where} ({type(exc).__name__}: {str(exc)[:200]}). "
            "Check the address (`ray status` on the head node prints it), or leave out "
            "--address to start a local Ray."
        ) from exc
    try:
        yield ray
    finally:
        ray.shutdown()
