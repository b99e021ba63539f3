"""Uploads live on disk in the session's folder, never in session state: a remembered
session holds a path, Streamlit's uploader lets go of the file, and a file that is gone
says so plainly and leaves the app on the bundled data."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

from apptest_support import FIXTURES, assert_clean, new_app, sidebar_text, texts_of

from pipeline.sessions.book import sessions_root
from ui.core.state import MISSING_UPLOAD_NOTICE, DatasetSource

#: Anything in session state bigger than this is an uploaded file's bytes.
BIG_BYTES = 4096


def rows_shown(at) -> str:
    return {m.label: m.value for m in at.metric}["Rows"]


def held_bytes(value: Any, seen: set[int] | None = None) -> list[str]:
    """Where ``value`` (a session-state value) holds a file's bytes: a DatasetSource with
    a payload, or a bytes object over :data:`BIG_BYTES`, however deep."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, DatasetSource):
        return [f"DatasetSource({value.name}) with a payload"] if value.payload else []
    if isinstance(value, bytes | bytearray | memoryview):
        return [f"{len(value)} bytes"] if len(value) > BIG_BYTES else []
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        return []
    return [found for item in items for found in held_bytes(item, seen)]


def session_state_bytes(at) -> list[str]:
    """Where this session's state (what the server remembers of it too) holds bytes."""
    return [
        f"{key}: {found}"
        for key, value in at.session_state.to_dict().items()
        for found in held_bytes(value)
    ]


def uploads_of(at, runs_dir: Path) -> Path:
    """The upload folder of the AppTest's session: ``.sessions/<its id>/uploads``."""
    folder = Path(at.session_state["dataset_source"].path).parent
    assert folder.name == "uploads" and folder.parent.parent == sessions_root(runs_dir)
    assert re.fullmatch(r"[0-9a-f]{16}", folder.parent.name)
    return folder


def upload(at, name: str, data: bytes):
    at.sidebar.radio[0].set_value("upload").run()
    at.sidebar.get("file_uploader")[0].set_value((name, data, "text/csv"))
    return at.run()


def test_an_upload_is_kept_on_disk_and_session_state_holds_no_bytes(runs_dir, small_source):
    """Found: every session's upload (up to 200 MB) stayed in memory in its DatasetSource,
    and the server remembered 32 sessions' states: about 6 GB."""
    data = (FIXTURES / "custom_headlines.csv").read_bytes()
    at = upload(new_app(small_source).run(), "custom_headlines.csv", data)
    assert_clean(at)
    assert rows_shown(at) == "300"
    source = at.session_state["dataset_source"]
    digest = hashlib.sha256(data).hexdigest()
    assert (source.kind, source.name, source.digest) == ("upload", "custom_headlines.csv", digest)
    assert source.payload is None
    assert Path(source.path) == uploads_of(at, runs_dir) / digest
    assert Path(source.path).read_bytes() == data
    assert session_state_bytes(at) == []
    # Streamlit's own copy is let go: the uploader is empty again, the dataset stays
    assert at.sidebar.get("file_uploader")[0].value is None
    at.run()
    assert rows_shown(at) == "300" and "Active: **custom_headlines.csv**" in sidebar_text(at)


def test_an_injected_upload_is_written_to_disk_and_dropped_from_state(runs_dir, small_source):
    data = (FIXTURES / "custom_headlines.csv").read_bytes()
    at = new_app(small_source)
    at.session_state["pending_upload"] = DatasetSource.from_upload("injected.csv", data)
    at.run()
    assert_clean(at)
    assert rows_shown(at) == "300"
    assert session_state_bytes(at) == []
    # a source with bytes set as the dataset itself (as tests do) goes to disk too
    at = new_app(DatasetSource.from_upload("direct.csv", data)).run()
    assert_clean(at)
    assert rows_shown(at) == "300" and session_state_bytes(at) == []
    assert at.session_state["dataset_source"].path is not None


def test_a_bad_upload_leaves_no_bytes_either(runs_dir, small_source):
    at = upload(new_app(small_source).run(), "broken.csv", (FIXTURES / "garbage.bin").read_bytes())
    assert not at.exception
    assert any("is a PNG image" in e.value for e in at.sidebar.get("error"))
    assert session_state_bytes(at) == []
    at.run()  # the message stays after a rerun, though the uploader is empty again
    assert any("is a PNG image" in e.value for e in at.sidebar.get("error"))


def test_an_uploaded_file_that_is_gone_says_so_and_falls_back_to_the_bundled_data(
    runs_dir, small_source
):
    data = (FIXTURES / "custom_headlines.csv").read_bytes()
    at = upload(new_app(small_source).run(), "custom_headlines.csv", data)
    assert rows_shown(at) == "300"
    shutil.rmtree(uploads_of(at, runs_dir))  # expired, or made room for someone else

    at.run()
    assert_clean(at)
    assert MISSING_UPLOAD_NOTICE in " ".join(texts_of(at).split())
    assert str(runs_dir) not in texts_of(at)
    assert at.session_state["dataset_source"] == DatasetSource.bundled()
    assert rows_shown(at) == "422,937"
    at.run()  # said once; the app keeps working on the bundled data
    assert_clean(at)
    assert MISSING_UPLOAD_NOTICE not in " ".join(texts_of(at).split())
    assert rows_shown(at) == "422,937"


def test_a_remembered_source_whose_file_is_gone_never_shows_a_traceback(runs_dir, tmp_path):
    """As after a reload: the session's remembered dataset names a file no longer there."""
    gone = DatasetSource(
        kind="upload", name="old.csv", digest="0" * 64, path=str(tmp_path / "gone" / ("0" * 64))
    )
    for page in ("data", "prepare", "label_review", "train"):
        at = new_app(gone)
        at.switch_page(f"app_pages/{page}.py")
        at.run()
        assert_clean(at)
        assert MISSING_UPLOAD_NOTICE in " ".join(texts_of(at).split())
        assert str(tmp_path) not in texts_of(at)
