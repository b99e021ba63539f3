"""One way to write a file: :mod:`pipeline.core.atomic`, and no writer in ``pipeline/`` that
renames or flushes files by hand.

Every file is written under a temporary name in its own folder, flushed to disk, renamed
over its target and the folder flushed; an error leaves the target as it was and no
temporary behind. A folder is staged, flushed and swapped into place.
"""

from __future__ import annotations

import ast
import json
import os
import stat
from pathlib import Path

import pytest

import pipeline.core.atomic as atomic
from pipeline.core.atomic import (
    atomic_path,
    fsync_folder,
    is_temporary,
    restore_moved_aside,
    swap_into_place,
    write_bytes_atomically,
    write_json_atomically,
    write_text_atomically,
)

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = {"name": "Café ☕", "rows": [1, 2, 3], "nested": {"b": None, "a": 1.5}}


@pytest.fixture
def flushed(monkeypatch) -> list[tuple[int, bool]]:
    """What ``os.fsync`` flushed, in order: (inode, whether it is a folder)."""
    seen: list[tuple[int, bool]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        info = os.fstat(fd)
        seen.append((info.st_ino, stat.S_ISDIR(info.st_mode)))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    return seen


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_bytes_text_and_json_are_written_exactly(tmp_path: Path) -> None:
    write_bytes_atomically(tmp_path / "blob", b"\x00\x01gzip?\xff")
    write_text_atomically(tmp_path / "note.txt", "Café\nline two\n")
    write_json_atomically(tmp_path / "doc.json", PAYLOAD)
    assert (tmp_path / "blob").read_bytes() == b"\x00\x01gzip?\xff"
    assert (tmp_path / "note.txt").read_bytes() == "Café\nline two\n".encode()
    assert leftovers(tmp_path) == ["blob", "doc.json", "note.txt"]


def test_json_keeps_each_callers_format(tmp_path: Path) -> None:
    formats = {
        # a run's documents (pipeline.runs.registry)
        "indented": ({}, json.dumps(PAYLOAD, indent=2, ensure_ascii=False) + "\n"),
        # a run's test predictions
        "compact": (
            {"compact": True},
            json.dumps(PAYLOAD, ensure_ascii=False, separators=(",", ":")) + "\n",
        ),
        # the data snapshot's meta.json and statistics
        "one_line": (
            {"indent": None, "final_newline": False},
            json.dumps(PAYLOAD, ensure_ascii=False),
        ),
        # session.json, an upload's note, a cached baseline
        "ascii": (
            {"indent": None, "ensure_ascii": True, "final_newline": False},
            json.dumps(PAYLOAD),
        ),
        # a cached review's summary.json
        "review": (
            {"indent": 1, "ensure_ascii": True, "final_newline": False},
            json.dumps(PAYLOAD, indent=1),
        ),
    }
    for name, (options, expected) in formats.items():
        write_json_atomically(tmp_path / f"{name}.json", PAYLOAD, **options)
        assert (tmp_path / f"{name}.json").read_bytes() == expected.encode("utf-8"), name


def test_json_that_cannot_be_serialised_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_json_atomically(target, {"bad": object()})
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == ["doc.json"]


def test_the_temporary_is_hidden_in_the_same_folder_and_renamed_over_the_target(
    tmp_path: Path,
) -> None:
    target = tmp_path / "scored.parquet"
    target.write_bytes(b"old")
    with atomic_path(target) as temporary:
        assert temporary.parent == target.parent
        assert temporary != target and temporary.name.startswith(".")
        assert is_temporary(temporary) and not is_temporary(target)
        assert temporary.name.startswith(".scored.parquet.")  # a glob can find it
        temporary.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # nothing replaced before the block ends
    assert target.read_bytes() == b"new"
    assert not temporary.exists()
    assert leftovers(tmp_path) == ["scored.parquet"]


def test_the_file_then_its_folder_are_flushed(tmp_path: Path, flushed) -> None:
    folder_inode = tmp_path.stat().st_ino
    for write in (
        lambda path: write_bytes_atomically(path, b"data"),
        lambda path: write_text_atomically(path, "text"),
        lambda path: write_json_atomically(path, PAYLOAD),
    ):
        flushed.clear()
        target = tmp_path / "file"
        write(target)
        file_inode = target.stat().st_ino  # the temporary's inode, renamed
        assert (file_inode, False) in flushed
        assert (folder_inode, True) in flushed
        assert flushed.index((file_inode, False)) < flushed.index((folder_inode, True))


def test_atomic_path_flushes_what_the_caller_wrote(tmp_path: Path, flushed) -> None:
    target = tmp_path / "out.csv"
    with atomic_path(target) as temporary, temporary.open("w") as handle:
        handle.write("a,b\n1,2\n")
    assert flushed == [(target.stat().st_ino, False), (tmp_path.stat().st_ino, True)]


@pytest.mark.parametrize("error", [ValueError("broken input"), KeyboardInterrupt()])
def test_an_error_inside_leaves_the_old_file_and_no_temporary(tmp_path: Path, error) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(type(error)), atomic_path(target) as temporary:
        temporary.write_text("half of the new fi")
        raise error
    assert target.read_text() == "old\n"
    assert leftovers(tmp_path) == ["out.csv"]


def test_an_error_before_the_temporary_exists_is_no_second_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="before writing"), atomic_path(tmp_path / "never"):
        raise RuntimeError("before writing")
    assert leftovers(tmp_path) == []


def test_a_failed_rename_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "session.json"
    target.write_text("old")

    def full_disk(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_text_atomically(target, "new")
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == ["session.json"]


def test_fsync_folder_flushes_every_file_and_folder(tmp_path: Path, flushed) -> None:
    staging = tmp_path / "staging"
    (staging / "logs" / "train").mkdir(parents=True)
    (staging / "model.keras").write_bytes(b"zip")
    (staging / "logs" / "train" / "events").write_bytes(b"event")
    fsync_folder(staging)
    expected = {(path.stat().st_ino, path.is_dir()) for path in [staging, *staging.rglob("*")]}
    assert set(flushed) == expected


def test_swap_into_place_publishes_a_folder_and_hands_back_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "run"
    first = tmp_path / ".staging-1"
    first.mkdir()
    (first / "run.json").write_text("1")
    swap_into_place(first, target)
    assert (target / "run.json").read_text() == "1" and not first.exists()

    second = tmp_path / ".staging-2"
    second.mkdir()
    (second / "run.json").write_text("2")
    swap_into_place(second, target)
    assert (target / "run.json").read_text() == "2"
    assert (second / "run.json").read_text() == "1"  # the old folder, for the caller to remove


def test_swap_without_an_atomic_exchange_and_a_crash_put_back(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    target = tmp_path / "0123456789abcdef"
    target.mkdir()
    (target / "run.json").write_text("old")
    staging = tmp_path / ".staging"
    staging.mkdir()
    (staging / "run.json").write_text("new")
    swap_into_place(staging, target)
    assert (target / "run.json").read_text() == "new"
    assert (staging / "run.json").read_text() == "old"

    # a crash between the two renames leaves the old folder moved aside, and no target
    rename = os.replace

    def crash_after_moving_aside(source, destination):
        rename(source, destination)
        if ".old-" in str(destination):
            raise KeyboardInterrupt  # stands in for the SIGKILL of test_run_faults

    monkeypatch.setattr(os, "replace", crash_after_moving_aside)
    with pytest.raises(KeyboardInterrupt):
        swap_into_place(staging, target)
    monkeypatch.setattr(os, "replace", rename)
    assert not target.exists()
    restore_moved_aside(tmp_path, lambda name: name == "0123456789abcdef")
    assert (target / "run.json").read_text() == "new"
    assert not list(tmp_path.glob(".old-*"))


# -- the rule: nothing in pipeline/ renames or flushes a file by hand -------------------------

#: The calls that move a folder without writing anything, each with its reason. Every
#: other rename or fsync in ``pipeline/`` goes through :mod:`pipeline.core.atomic`.
ALLOWED_MOVES = {
    ("pipeline/runs/registry.py", "os.replace(folder, trash)"): (
        "a deleted run's folder goes to a hidden trash name before it is removed, so no "
        "listing sees half of it"
    ),
    ("pipeline/runs/registry.py", "os.replace(logs, staging / LOGS_DIR)"): (
        "a training's TensorBoard folder moves into the staged run, which fsync_folder "
        "flushes and swap_into_place publishes"
    ),
    ("pipeline/sessions/book.py", "os.replace(folder, trash)"): (
        "an expired session's folder goes to a hidden trash name before it is removed"
    ),
}
HAND_ROLLED = {"os.replace", "os.rename", "os.fsync", "os.fdatasync", "shutil.move"}
TEMPORARY_NAMES = ("partial", "temp", "tmp", "staging")


def _flagged(source: str) -> list[str]:
    """The renames and flushes in ``source``: a call of :data:`HAND_ROLLED`, and a path's
    ``.replace(other)`` / ``.rename(other)`` on a temporary (a receiver named like one)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        receiver = ast.unparse(node.func.value).lower()
        renames_temporary = (
            node.func.attr in {"replace", "rename"}
            and len(node.args) == 1
            and any(word in receiver for word in TEMPORARY_NAMES)
        )
        if ast.unparse(node.func) in HAND_ROLLED or renames_temporary:
            found.append(ast.unparse(node))
    return found


def _hand_rolled_calls() -> list[tuple[str, str]]:
    """(file, call) for each rename or flush in ``pipeline/`` outside core/atomic.py."""
    return [
        (path.relative_to(ROOT).as_posix(), call)
        for path in sorted((ROOT / "pipeline").rglob("*.py"))
        if path.relative_to(ROOT).as_posix() != "pipeline/core/atomic.py"
        for call in _flagged(path.read_text(encoding="utf-8"))
    ]


def test_no_writer_renames_or_flushes_files_by_hand() -> None:
    hand_rolled = [call for call in _hand_rolled_calls() if call not in ALLOWED_MOVES]
    assert hand_rolled == [], (
        "write files with pipeline.core.atomic (write_*_atomically, atomic_path, "
        "swap_into_place), or list a folder move that writes nothing in ALLOWED_MOVES "
        f"with its reason: {hand_rolled}"
    )


def test_every_allowed_move_is_still_there() -> None:
    assert set(ALLOWED_MOVES) <= set(_hand_rolled_calls())


def test_the_rule_catches_hand_rolled_writers_and_leaves_other_replaces_alone() -> None:
    source = """
partial.write_text(text)
partial.replace(cache_dir / "key.json")
Path(temporary).rename(target)
os.replace(handle.name, target)
os.fsync(handle.fileno())
shutil.move(staging, final)
title.replace("%", "%%")
dataclasses.replace(state, phase="done")
counts.rename("n")
"""
    assert _flagged(source) == [
        "partial.replace(cache_dir / 'key.json')",
        "Path(temporary).rename(target)",
        "os.replace(handle.name, target)",
        "os.fsync(handle.fileno())",
        "shutil.move(staging, final)",
    ]
