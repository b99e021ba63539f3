"""Publishing a run folder atomically: flushed to disk, then swapped into place in one step.

:meth:`~pipeline.runs.registry.RunRegistry.save` writes a run into a hidden temporary
folder, flushes it (:func:`fsync_folder`) and makes it the run's folder with one atomic
exchange (:func:`swap_into_place`), so a crash never leaves a half-written folder that
looks like a run, and never loses the run it replaces.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import uuid
from pathlib import Path


def fsync_folder(folder: Path) -> None:
    """Flush a folder's files (those in its sub-folders too) to disk, so the rename
    that publishes them publishes data."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb+") as handle:
                os.fsync(handle.fileno())


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``);
    ``False`` where the system or the file system cannot."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}:
        return False
    raise OSError(code, os.strerror(code), str(second))


def swap_into_place(staging: Path, target: Path) -> None:
    """Make ``staging`` the folder ``target`` in one step; the old folder, if any, ends in
    ``staging`` (removed by the caller). Where no atomic exchange exists, the old folder
    is moved aside first, and :meth:`~pipeline.runs.registry.RunRegistry.get` never sees a
    half state as a run."""
    if not target.exists():
        os.replace(staging, target)
        return
    if _exchange(staging, target):
        return
    aside = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
    os.replace(target, aside)
    os.replace(staging, target)
    os.replace(aside, staging)  # so the caller's clean-up removes it
