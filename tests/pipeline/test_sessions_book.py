"""Session keys the server issues: adopted only when issued here and not expired."""

from __future__ import annotations

from pathlib import Path

from pipeline.sessions.book import (
    ACTIVE_RUN_HOLD_SECONDS,
    SessionBook,
    hash_key,
    session_folder,
    sessions_root,
)

RUN = "0123456789abcdef"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_only_issued_keys_are_adopted(tmp_path: Path) -> None:
    book = SessionBook(tmp_path)
    key = book.issue()
    assert book.is_issued(key)
    assert not book.is_issued("x" * 24)  # well-formed, never issued: a planted key
    assert not book.is_issued("../../etc")
    assert not book.is_issued(None)
    # only the hash is stored, never the key
    stored = [path.read_text() for path in sessions_root(tmp_path).rglob("*") if path.is_file()]
    assert stored and not any(key in text for text in stored)
    # a restarted server (a new book over the same folder) still knows the key
    assert SessionBook(tmp_path).is_issued(key)


def test_keys_expire_after_the_idle_time_and_their_folders_go(tmp_path: Path) -> None:
    clock = Clock()
    book = SessionBook(tmp_path, idle=7 * 86400, clock=clock)
    key = book.issue()
    uploads = session_folder(tmp_path, hash_key(key)) / "uploads"
    uploads.mkdir()
    (uploads / "file").write_bytes(b"x")
    clock.now += 6 * 86400
    book.touch(hash_key(key), None)  # seen: the idle time starts again
    clock.now += 6 * 86400
    assert book.is_issued(key)
    assert book.forget_expired() == 0
    clock.now += 2 * 86400
    assert not book.is_issued(key)
    assert book.forget_expired() == 1
    assert not session_folder(tmp_path, hash_key(key)).exists()


def test_a_run_is_held_by_the_sessions_that_have_it_active(tmp_path: Path) -> None:
    clock = Clock()
    book = SessionBook(tmp_path, clock=clock)
    mine, theirs = hash_key(book.issue()), hash_key(book.issue())
    book.touch(theirs, RUN)
    assert book.sessions_using(RUN, other_than=mine) == 1
    assert book.sessions_using(RUN, other_than=theirs) == 0
    book.touch(theirs, None)
    assert book.sessions_using(RUN, other_than=mine) == 0
    book.touch(theirs, RUN)
    clock.now += ACTIVE_RUN_HOLD_SECONDS + 1  # gone quiet: the hold lapses
    assert book.sessions_using(RUN, other_than=mine) == 0


def test_touch_ignores_sessions_never_issued(tmp_path: Path) -> None:
    book = SessionBook(tmp_path)
    book.touch("f" * 16, RUN)
    assert not sessions_root(tmp_path).exists()
