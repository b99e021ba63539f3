"""Starting helper processes safely from the app, the CLI and the training worker.

Every process of ours is started with the ``spawn`` method: the server runs
threads (tornado, the job queue), and forking a process with threads can
deadlock. A spawned process first runs its parent's ``__main__`` file again (as
``__mp_main__``) unless that module was imported by name; under Streamlit,
``__main__`` is a stand-in whose ``__file__`` is the app's script, so each new
process would run the whole app in bare mode. :func:`spawn_context` and
:func:`main_module_that_spawn_skips` avoid both. Code that runs in a spawned
process lives in importable ``pipeline`` modules, never in ``__main__``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import SpawnContext


def spawn_context() -> SpawnContext:
    """The ``multiprocessing`` context every helper process is started with."""
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def main_module_that_spawn_skips() -> Iterator[None]:
    """While a process starts, make ``__main__`` a blank module with nothing to rerun.

    Wrap the call that starts the process (``Process.start()``, or the first
    ``submit`` of a ``ProcessPoolExecutor``). The real ``__main__`` is put back
    after it.
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def terminate_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM ``pool``'s processes now, whatever they are doing (Python 3.14's
    ``ProcessPoolExecutor.terminate_workers``, done by hand before it)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((pool._processes or {}).values()):
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
