"""Keeping a training process's resident memory down: fewer malloc arenas, freed memory
handed back before the fit and before the save.

TensorFlow's CPU kernels allocate and free tensors of every size from many threads.
glibc gives each contending thread an arena of its own (up to 8 per core), and freed
memory stays inside those arenas: on the bundled data the training process grew by
about 40 MB per epoch (1,771 -> 1,868 MB over six epochs), and peaked at 2.2 GB. With
two arenas the same job stayed within 1,747-1,770 MB while it trained (measured with
``MALLOC_ARENA_MAX=2``; :func:`limit_malloc_arenas` sets the same limit from inside
the process). Both functions do nothing where the C library is not glibc.

A process that imports TensorFlow, Keras, pandas and scikit-learn tracks about 400,000
Python objects, and every full garbage collection scans them all (0.15 s of CPU here,
more as a long-lived process grows). Keras runs one after each job
(``clear_session(free_memory=True)``) and one per bag table it quantizes to int8:
:func:`freeze_imported_objects` takes the libraries' objects out of those scans in the
processes that run job after job.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import sys

#: ``mallopt`` parameter number of ``M_ARENA_MAX`` (glibc's ``malloc.h``).
_M_ARENA_MAX = -8
#: Arenas a training process may use: enough for the data pipeline's threads and the
#: training loop without one arena per thread.
TRAINING_ARENAS = 2


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas(arenas: int = TRAINING_ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``arenas`` for this process, as the environment
    variable ``MALLOC_ARENA_MAX`` would; call it before the threads that allocate start.
    Returns whether the limit was set."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, arenas))


def freeze_imported_objects() -> int:
    """Collect the garbage the imports left, then move every object alive now out of the
    garbage collector's scans (``gc.freeze``): for a process that has done its imports and
    will run job after job (the training process, the model-checking one). Later
    collections scan only the objects made after it; the frozen ones (the libraries'
    modules, classes and functions, alive as long as the process) are never freed.
    Returns how many objects were frozen in all."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


#: Rows (all splits) from which a training hands freed memory back before its peaks. Below
#: it the data's buffers are a few MB, and a full garbage collection of a long-lived process
#: (the app's training process after many jobs) costs more than it gives back: measured
#: 0.4 s per collection in the test process, twice per training, on 2 cores.
RELEASE_MIN_ROWS = 50_000


def release_free_memory_if_large(rows: int) -> bool:
    """:func:`release_free_memory` when the job's data has at least
    :data:`RELEASE_MIN_ROWS` ``rows``; returns whether it did."""
    if rows < RELEASE_MIN_ROWS:
        return False
    release_free_memory()
    return True


def release_free_memory() -> None:
    """Collect Python's garbage, then hand the free pages of the C heap (``malloc_trim``)
    and of Arrow's memory pool back to the system, so that a peak that follows (the fit,
    the save) starts lower.

    pandas keeps text columns in Arrow buffers, which Arrow allocates from a pool of its
    own (mimalloc) that keeps what was freed: after the bundled data was cleaned and
    split, about 150 MB that only ``release_unused`` gives back.
    """
    gc.collect()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
    arrow = sys.modules.get("pyarrow")  # never imported just for this
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
