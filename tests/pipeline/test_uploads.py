"""The upload area on disk: atomic saves, reuse, a per-session cap, and one total bound
for every session's uploads together (others' old uploads go first, then a refusal)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pipeline.core.errors import UploadSpaceError
from pipeline.sessions.book import session_folder
from pipeline.sessions.uploads import (
    MAX_UPLOAD_BYTES_TOTAL,
    UPLOAD_SPACE_ENV,
    UploadArea,
    upload_space_bytes,
)

A, B, C = "a" * 16, "b" * 16, "c" * 16
KB = 1024


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def blob(tag: str, size: int = KB) -> bytes:
    """``size`` bytes of CSV text, different for every ``tag``."""
    head = f"text,label\n{tag},x\n".encode()
    return head + b"y" * (size - len(head))


def area(tmp_path: Path, clock: Clock, **kwargs) -> UploadArea:
    defaults = {"total_bytes": 10 * KB, "session_files": 3, "session_bytes": 8 * KB}
    return UploadArea(tmp_path, clock=clock, **{**defaults, **kwargs})


def stored(tmp_path: Path, session: str) -> set[str]:
    folder = session_folder(tmp_path, session) / "uploads"
    return {p.name for p in folder.iterdir() if not p.name.endswith(".json")}


def test_a_save_lands_under_the_session_folder_by_digest_with_its_name(tmp_path: Path) -> None:
    clock = Clock()
    data = blob("one")
    saved = area(tmp_path, clock).save(A, "headlines.csv", data)
    digest = hashlib.sha256(data).hexdigest()
    assert saved.path == session_folder(tmp_path, A) / "uploads" / digest
    assert saved.path.read_bytes() == data
    assert (saved.digest, saved.name, saved.size) == (digest, "headlines.csv", len(data))
    assert area(tmp_path, clock).find(A, digest) == saved.path
    assert area(tmp_path, clock).find(B, digest) is None  # another session's file is not theirs
    # nothing but the file and its small note is left behind
    assert sorted(p.name for p in saved.path.parent.iterdir()) == [digest, f"{digest}.json"]


def test_a_save_is_atomic_a_failed_one_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    saved = area(tmp_path, Clock()).save(A, "a.csv", blob("one"))
    assert synced  # the bytes reached the disk before the rename

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        area(tmp_path, Clock()).save(A, "b.csv", blob("two"))
    assert stored(tmp_path, A) == {saved.digest}  # no half-written file under any name


def test_the_same_file_again_is_reused_not_written_again(tmp_path: Path) -> None:
    clock = Clock()
    first = area(tmp_path, clock).save(A, "a.csv", blob("one"))
    inode = first.path.stat().st_ino
    clock.now += 100
    again = area(tmp_path, clock).save(A, "renamed.csv", blob("one"))
    assert again.path == first.path and again.path.stat().st_ino == inode
    assert again.name == "renamed.csv"
    assert again.path.stat().st_mtime == pytest.approx(clock.now)  # used just now


def test_a_session_keeps_its_three_most_recent_uploads(tmp_path: Path) -> None:
    clock = Clock()
    saved = []
    for tag in ("one", "two", "three", "four"):
        clock.now += 10
        saved.append(area(tmp_path, clock).save(A, f"{tag}.csv", blob(tag)))
    assert stored(tmp_path, A) == {s.digest for s in saved[1:]}
    assert not saved[0].path.exists()


def test_a_session_over_its_byte_bound_drops_its_oldest(tmp_path: Path) -> None:
    clock = Clock()
    old = area(tmp_path, clock).save(A, "old.csv", blob("old", 5 * KB))
    clock.now += 10
    new = area(tmp_path, clock).save(A, "new.csv", blob("new", 5 * KB))
    assert stored(tmp_path, A) == {new.digest} and not old.path.exists()


def test_a_file_bigger_than_a_session_may_keep_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UploadSpaceError, match=r"huge.csv is 9 KB, more than the server keeps"):
        area(tmp_path, Clock()).save(A, "huge.csv", blob("huge", 9 * KB))
    assert not (session_folder(tmp_path, A) / "uploads").exists() or not stored(tmp_path, A)


def test_the_total_bound_drops_other_sessions_older_uploads_first(tmp_path: Path) -> None:
    clock = Clock()
    older = area(tmp_path, clock).save(A, "older.csv", blob("a1", 4 * KB))
    clock.now += 10
    current = area(tmp_path, clock).save(A, "current.csv", blob("a2", 4 * KB))
    clock.now += 10
    mine = area(tmp_path, clock).save(B, "mine.csv", blob("b1", 4 * KB))
    # A's older upload made room; A's current upload (in use a moment ago) stays
    assert not older.path.exists()
    assert current.path.exists() and mine.path.exists()
    assert area(tmp_path, clock).used_bytes() == 8 * KB


def test_a_current_upload_unused_for_an_hour_may_go_for_someone_elses(tmp_path: Path) -> None:
    clock = Clock()
    idle = area(tmp_path, clock).save(A, "idle.csv", blob("a", 6 * KB))
    clock.now += 3601
    mine = area(tmp_path, clock).save(B, "mine.csv", blob("b", 6 * KB))
    assert mine.path.exists() and not idle.path.exists()
    assert area(tmp_path, clock).find(A, idle.digest) is None


def test_a_full_space_refuses_plainly_and_removes_nothing(tmp_path: Path) -> None:
    clock = Clock()
    a = area(tmp_path, clock).save(A, "a.csv", blob("a", 4 * KB))
    b = area(tmp_path, clock).save(B, "b.csv", blob("b", 4 * KB))
    clock.now += 60  # both still in use
    with pytest.raises(UploadSpaceError) as refused:
        area(tmp_path, clock).save(C, "c.csv", blob("c", 4 * KB))
    message = str(refused.value)
    assert message == (
        "The server's upload space is full (8 KB of 10 KB used); try a smaller file or later."
    )
    assert a.path.exists() and b.path.exists()
    assert not (session_folder(tmp_path, C) / "uploads").exists() or not stored(tmp_path, C)
    # a small file still fits
    assert area(tmp_path, clock).save(C, "small.csv", blob("c", 2 * KB)).path.exists()


def test_touch_keeps_an_upload_in_use(tmp_path: Path) -> None:
    clock = Clock()
    kept = area(tmp_path, clock).save(A, "a.csv", blob("a", 6 * KB))
    clock.now += 3000
    area(tmp_path, clock).touch(kept.path)
    clock.now += 3000  # an hour and a half after the save, 50 minutes after the touch
    with pytest.raises(UploadSpaceError):
        area(tmp_path, clock).save(B, "b.csv", blob("b", 6 * KB))
    assert kept.path.exists()
    area(tmp_path, clock).touch(tmp_path / "gone")  # a missing file is no error


def test_the_space_is_declared_and_can_be_set_in_megabytes(monkeypatch) -> None:
    monkeypatch.delenv(UPLOAD_SPACE_ENV, raising=False)
    assert upload_space_bytes() == MAX_UPLOAD_BYTES_TOTAL == 4 * 2**30
    monkeypatch.setenv(UPLOAD_SPACE_ENV, "512")
    assert upload_space_bytes() == 512 * 2**20
    assert UploadArea(Path("/nonexistent")).total_bytes == 512 * 2**20
    monkeypatch.setenv(UPLOAD_SPACE_ENV, "lots")
    assert upload_space_bytes() == MAX_UPLOAD_BYTES_TOTAL


def test_a_bad_session_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        area(tmp_path, Clock()).save("../../etc", "a.csv", blob("a"))


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


def _zip(data: bytes) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("headlines.csv", data)
    return buffer.getvalue()


@pytest.mark.parametrize("pack", [bytes, _gzip, _zip], ids=["csv", "gz", "zip"])
def test_a_kept_upload_reads_like_its_bytes_whatever_it_was_called(tmp_path: Path, pack) -> None:
    """Kept under its digest, without the name's extension: compression is recognised by
    the first bytes, for a path as for bytes."""
    from pipeline.data import read_table

    csv = b"text,label\nStocks rise,b\nNew phone,t\n"
    saved = area(tmp_path, Clock()).save(A, "upload.bin", pack(csv))
    from_disk = read_table(saved.path, name="upload.bin", uploaded=True)
    from_bytes = read_table(pack(csv), name="upload.bin")
    assert from_disk.frame.equals(from_bytes.frame) and len(from_disk.frame) == 2


def test_a_kept_upload_that_is_gone_is_named_without_its_path(tmp_path: Path) -> None:
    from pipeline.core.errors import DatasetError
    from pipeline.data import read_table

    with pytest.raises(DatasetError) as gone:
        read_table(tmp_path / ("0" * 64), name="mine.csv", uploaded=True)
    assert str(gone.value) == "mine.csv is no longer on the server; upload it again."


def test_a_kept_upload_keeps_the_upload_limit(tmp_path: Path, monkeypatch) -> None:
    from pipeline.core.errors import DatasetError
    from pipeline.data import read_table, reading

    monkeypatch.setattr(reading, "MAX_UPLOAD_BYTES", 100)
    bomb = _gzip(b"text,label\n" + b"a,b\n" * 1000)  # small on disk, big once unpacked
    saved = area(tmp_path, Clock()).save(A, "bomb.csv.gz", bomb)
    assert len(bomb) < 100
    with pytest.raises(DatasetError, match="over the limit"):
        read_table(saved.path, name="bomb.csv.gz", uploaded=True)
    read_table(saved.path, name="bomb.csv.gz")  # a server's own file has no such limit
