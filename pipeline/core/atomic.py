"""Writing files and folders so that a crash never leaves half of one: the one way every
writer in ``pipeline`` puts data on disk.

A file (:func:`write_bytes_atomically`, :func:`write_text_atomically`,
:func:`write_json_atomically`, or :func:`atomic_path` for a writer that needs a file name,
such as Parquet or a streamed output) is written under a hidden temporary name in its own
folder (``.<name>.<random>.partial``, :func:`is_temporary`), flushed to disk, renamed over
its target in one step and the folder flushed, so the rename itself survives a power cut.
An error on the way (a full disk, a broken input, Ctrl+C) removes the temporary and leaves
the target as it was.

A folder of files (a saved run, a cached review) is written into a hidden staging folder,
flushed (:func:`fsync_folder`) and swapped into place (:func:`swap_into_place`): one atomic
exchange on Linux (``renameat2(RENAME_EXCHANGE)``), elsewhere two renames, and
:func:`restore_moved_aside` puts back a folder a crash left moved aside between them.

Imports nothing else of ``pipeline``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: The end of every temporary file's name (its start is ``.`` and the target's name).
TEMPORARY_SUFFIX = ".partial"
#: The start of the name of a folder moved aside by :func:`swap_into_place`.
MOVED_ASIDE_PREFIX = ".old-"


def is_temporary(path: str | Path) -> bool:
    """Whether ``path`` is named like a temporary file of :func:`atomic_path` (one a crash
    may have left behind)."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TEMPORARY_SUFFIX)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write into; ``path`` when the block ends.

    Yields a hidden name in the same folder (so the rename never crosses file systems).
    When the block ends without an error, the file written there is flushed to disk,
    renamed over ``path`` and the folder flushed. On any error (``KeyboardInterrupt``
    included) the temporary is removed, ``path`` is left as it was and the error goes on.
    The folder must exist.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}{TEMPORARY_SUFFIX}")
    try:
        yield temporary
        _fsync_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def write_bytes_atomically(path: str | Path, data: bytes) -> None:
    """``data`` as the file ``path``, all of it or (on an error) none (see
    :func:`atomic_path`)."""
    with atomic_path(path) as temporary, temporary.open("wb") as out:
        out.write(data)


def write_text_atomically(path: str | Path, text: str) -> None:
    """``text`` (UTF-8, newlines as given) as the file ``path`` (see :func:`atomic_path`)."""
    write_bytes_atomically(path, text.encode("utf-8"))


def write_json_atomically(
    path: str | Path,
    payload: Any,
    *,
    compact: bool = False,
    indent: int | None = 2,
    ensure_ascii: bool = False,
    final_newline: bool = True,
) -> None:
    """``payload`` as a JSON file at ``path`` (UTF-8; see :func:`atomic_path`).

    By default indented by two spaces, non-ASCII characters as they are and a newline at
    the end (a run's documents). ``compact`` puts it on one line without spaces (long
    lists: a run's test predictions); ``indent=None`` on one line with ``json.dumps``'
    spaces; ``ensure_ascii`` escapes non-ASCII characters; ``final_newline=False`` leaves
    out the last newline. A payload that is not JSON raises before anything is written.
    """
    if compact:
        text = json.dumps(payload, ensure_ascii=ensure_ascii, separators=(",", ":"))
    else:
        text = json.dumps(payload, indent=indent, ensure_ascii=ensure_ascii)
    write_text_atomically(path, text + "\n" if final_newline else text)


def fsync_directory(folder: str | Path) -> None:
    """Flush a folder's entries (a rename into it, a new file) to disk; a file system
    that cannot flush a folder is no error."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def fsync_folder(folder: Path) -> None:
    """Flush a folder to disk: its files (those in its sub-folders too), then its
    sub-folders and itself, so the rename that publishes them publishes data."""
    folders = [folder]
    for path in folder.rglob("*"):
        if path.is_dir():
            folders.append(path)
        elif path.is_file():
            _fsync_file(path)
    for each in reversed(folders):
        fsync_directory(each)


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
    """Make the folder ``staging`` (flushed, see :func:`fsync_folder`) the folder
    ``target`` in one step, then flush their parent; the old folder, if any, ends in
    ``staging`` (removed by the caller). Where no atomic exchange exists, the old folder
    is moved aside first (``.old-<target name>-<random>``), and a crash between the two
    renames leaves it there for :func:`restore_moved_aside`."""
    if not target.exists():
        os.replace(staging, target)
    elif not _exchange(staging, target):
        aside = target.with_name(f"{MOVED_ASIDE_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}")
        os.replace(target, aside)
        os.replace(staging, target)
        os.replace(aside, staging)  # so the caller's clean-up removes it
    fsync_directory(target.parent)


def restore_moved_aside(folder: Path, is_target_name: Callable[[str], object]) -> None:
    """Put back, under ``folder``, each folder :func:`swap_into_place` moved aside when a
    crash came before the new one took its place: those whose name ``is_target_name``
    accepts and whose place is still empty."""
    restored = False
    for aside in folder.glob(f"{MOVED_ASIDE_PREFIX}*"):
        name = aside.name.removeprefix(MOVED_ASIDE_PREFIX).rpartition("-")[0]
        target = folder / name
        if name and is_target_name(name) and not target.exists():
            try:
                os.replace(aside, target)
            except OSError:
                continue  # another process got there first
            restored = True
    if restored:
        fsync_directory(folder)


def _fsync_file(path: Path) -> None:
    """Flush a file's data to disk (through a descriptor of its own)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
