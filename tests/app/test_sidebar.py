"""The sidebar's dataset picker: uploads that work, need columns, or fail safely."""

from __future__ import annotations

import pytest
from apptest_support import FIXTURES, assert_clean, new_app, sidebar_text, unescape

from ui.core.state import DatasetSource


def rows_shown(at) -> str:
    return {m.label: m.value for m in at.metric}["Rows"]


def upload(at, name: str, data: bytes):
    """Pick "Upload a CSV" in the sidebar and drop a file on the uploader."""
    at.sidebar.radio[0].set_value("upload").run()
    at.sidebar.get("file_uploader")[0].set_value((name, data, "text/csv"))
    return at.run()


def test_starts_on_bundled_dataset_with_nothing_to_configure(runs_dir):
    at = new_app().run()
    assert_clean(at)
    assert at.sidebar.radio[0].value == "bundled"
    assert "Active: **UCI News Aggregator (bundled)**" in sidebar_text(at)
    assert rows_shown(at) == "422,937"


def test_upload_with_recognised_columns_becomes_active(runs_dir, small_source):
    at = new_app(small_source).run()
    data = (FIXTURES / "custom_headlines.csv").read_bytes()
    at = upload(at, "custom_headlines.csv", data)
    assert_clean(at)
    assert "Active: **custom_headlines.csv**" in sidebar_text(at)
    assert rows_shown(at) == "300"


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("garbage.bin", "garbage.csv is a PNG image, not a CSV"),
        ("one_class.csv", "single class"),
        ("header_only.csv", "no data rows"),
        ("empty.csv", "empty"),
    ],
)
def test_bad_upload_shows_error_and_keeps_previous_dataset(
    runs_dir, small_source, fixture, message
):
    at = new_app(small_source).run()
    assert rows_shown(at) == "2,826"
    at = upload(at, fixture.replace(".bin", ".csv"), (FIXTURES / fixture).read_bytes())
    assert not at.exception
    errors = [unescape(e.value) for e in at.sidebar.get("error")]
    assert len(errors) == 1 and message in errors[0]
    assert "Still using the previous dataset: uci_small.csv" in errors[0]
    # the previous dataset is still the one every page shows
    assert "Active: **uci_small.csv**" in sidebar_text(at)
    assert rows_shown(at) == "2,826"
    # the message stays while the bad file stays in the uploader
    at.run()
    assert any(message in unescape(e.value) for e in at.sidebar.get("error"))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("texts.csv", b"headline\nStocks fall\nCafe opens\n", "has one column (headline)"),
        ("rows.json", b'[{"headline": "Stocks fall", "topic": "money"}]', "is JSON, not a CSV"),
    ],
)
def test_a_file_with_nothing_to_pick_says_so_and_keeps_the_previous_dataset(
    runs_dir, small_source, name, data, message
):
    """Found: a file of one column asked which of its one column held the label."""
    at = upload(new_app(small_source).run(), name, data)
    assert not at.exception
    (error,) = [unescape(e.value) for e in at.sidebar.get("error")]
    assert message in error and "Still using the previous dataset: uci_small.csv" in error
    assert "Which columns hold the text and the label?" not in sidebar_text(at)
    assert rows_shown(at) == "2,826"


def test_upload_with_unknown_columns_asks_for_them(runs_dir, small_source):
    at = new_app(small_source).run()
    data = b"words,kind\n" + b"".join(
        f"headline number {i} about {kind},{kind}\n".encode() for i in range(40) for kind in "xyz"
    )
    at = upload(at, "mystery.csv", data)
    assert not at.exception
    assert "Which columns hold the text and the label?" in sidebar_text(at)
    # still on the previous dataset until the columns are chosen
    assert rows_shown(at) == "2,826"
    boxes = at.sidebar.selectbox
    assert [b.label for b in boxes] == ["Text column", "Label column"]
    boxes[0].set_value("words")
    boxes[1].set_value("kind")
    at.run()
    at.sidebar.button(key="sidebar.use_columns").click().run()
    assert_clean(at)
    assert "Active: **mystery.csv**" in sidebar_text(at)
    assert rows_shown(at) == "120"


def test_same_column_for_text_and_label_is_refused(runs_dir, small_source):
    at = new_app(small_source).run()
    data = b"words,kind\n" + b"".join(f"news {i},{i % 3}\n".encode() for i in range(60))
    at = upload(at, "mystery.csv", data)
    at.sidebar.selectbox[0].set_value("words")
    at.sidebar.selectbox[1].set_value("words")
    at.run()
    at.sidebar.button(key="sidebar.use_columns").click().run()
    assert not at.exception
    errors = [unescape(e.value) for e in at.sidebar.get("error")]
    assert len(errors) == 1 and "choose two different columns" in errors[0]
    assert rows_shown(at) == "2,826"


def test_pending_upload_in_session_state_is_checked_like_an_upload(runs_dir, small_source):
    at = new_app(small_source)
    at.session_state["pending_upload"] = DatasetSource.from_upload(
        "broken.csv", (FIXTURES / "garbage.bin").read_bytes()
    )
    at.run()
    assert not at.exception
    assert any("is a PNG image" in unescape(e.value) for e in at.sidebar.get("error"))
    assert rows_shown(at) == "2,826"


def test_switching_back_to_bundled(runs_dir, small_source):
    at = new_app().run()
    at = upload(at, "custom.csv", (FIXTURES / "custom_headlines.csv").read_bytes())
    assert rows_shown(at) == "300"
    at.sidebar.radio[0].set_value("bundled").run()
    assert_clean(at)
    assert rows_shown(at) == "422,937"


def _zip_of(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_each_kind_of_upload_is_read_or_named_for_what_it_is(runs_dir, small_source):
    """Found: data.zip was refused by the uploader's type filter (on hover only, with the
    previous file's message still shown); a PNG renamed .csv got a generic message."""
    csv = (FIXTURES / "custom_headlines.csv").read_bytes()
    at = new_app(small_source).run()
    at = upload(at, "bad.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    errors = [unescape(e.value) for e in at.sidebar.get("error")]
    assert errors == [
        "bad.png is a PNG image, not a CSV; upload the CSV instead. "
        "Still using the previous dataset: uci_small.csv."
    ]
    # the next file's message replaces it, and names that file
    at.sidebar.get("file_uploader")[0].set_value(("report.pdf", b"%PDF-1.7\n", "application/pdf"))
    at.run()
    errors = [unescape(e.value) for e in at.sidebar.get("error")]
    assert len(errors) == 1 and errors[0].startswith("report.pdf is a PDF document")
    # a zip of one CSV is read, and is then the active dataset
    data_zip = _zip_of({"custom_headlines.csv": csv})
    at.sidebar.get("file_uploader")[0].set_value(("data.zip", data_zip, "application/zip"))
    at.run()
    assert_clean(at)
    assert "Active: **data.zip**" in sidebar_text(at)
    assert rows_shown(at) == "300"
