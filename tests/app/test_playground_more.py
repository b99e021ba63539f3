"""The Playground for an analyst: a scored CSV keeps the file's columns, a headline the
model cannot read says so, and a fresh clone trains its first model from the page.

Real tiny models on the ~2,800-row fixture capped to a few dozen rows per class.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from apptest_support import (
    TINY_MODEL,
    assert_clean,
    new_app,
    open_page,
    run_until,
    texts_of,
    tiny_data_config,
)

from pipeline.runs.registry import RunRegistry
from pipeline.scoring.predictor import Predictor
from pipeline.scoring.summary import NOTE_EMPTY, NOTE_NO_KNOWN_WORD, NOTE_NO_WORDS

pytestmark = pytest.mark.training

#: The Train page's settings for a model that trains in seconds (as test_app_training).
NO_KNOWN_WORD = "None of these words was in the training vocabulary"


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, str | None]]:
    """The bytes (and file name) of every download button's file, as the app hands them
    to Streamlit's media storage."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    seen: list[tuple[bytes, str | None]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes):
            seen.append((path_or_data, filename))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    return seen


def test_scored_csv_keeps_its_columns_and_marks_empty_rows(
    runs_dir, small_source, saved_run, downloads
):
    predictor = Predictor.from_run(RunRegistry(runs_dir), saved_run)
    business = predictor.label_names["b"]
    known = next(w for w in ("the", "to", "of", "in") if predictor.word_coverage(w).known_count)
    upload = pd.DataFrame(
        {
            "id": ["101", "102", "103", "104", "105"],
            "source": ["Reuters", "blog", "Reuters", "wire", "blog"],
            "headline": [
                "Stocks rally as Fed holds rates",
                "",
                "?!",
                "zzqx qqwv",
                f"*Ebola* <b>{known}</b> spreads",
            ],
            "extra_note": ["keep me", "", "x", "y", "z"],
            # a column already called like an added one stays the file's own
            f"probability: {business}": ["mine"] * 5,
        }
    )
    at = new_app(small_source)
    at.session_state["active_run_id"] = saved_run
    open_page(at, "playground")
    data = upload.to_csv(index=False).encode("utf-8")
    at.get("file_uploader")[0].set_value(("analyst.csv", data, "text/csv")).run()
    assert_clean(at)
    assert at.selectbox(key="playground.batch_col").value == "headline"
    at.button(key="playground.batch_go").click().run()
    assert_clean(at)

    frame = at.dataframe[0].value
    names = predictor.scored_columns(upload.columns)
    assert list(frame.columns) == [*upload.columns, *names.all]
    assert names.probabilities["b"] == f"probability: {business} (model)"
    assert [names.predicted, names.predicted_code, names.confidence, names.note] == [
        "predicted",
        "predicted_code",
        "confidence",
        "note",
    ]
    pd.testing.assert_frame_equal(frame[list(upload.columns)].astype(str), upload)
    expected = predictor.predict(upload["headline"].tolist())
    assert list(frame["predicted_code"]) == list(expected["label"])
    assert list(frame["predicted"]) == list(expected["label_name"])
    for code, column in names.probabilities.items():
        np.testing.assert_allclose(
            frame[column].astype(float), expected[f"p_{code}"], atol=1e-6, equal_nan=True
        )
    assert list(frame["note"]) == ["", NOTE_EMPTY, NOTE_NO_WORDS, NOTE_NO_KNOWN_WORD, ""]
    assert list(frame["predicted"])[1:3] == ["", ""]  # nothing predicted for no text
    assert "3 of 5 rows scored" in texts_of(at) and "2 had no words to score" in texts_of(at)

    # The download holds the same table, empty cells where nothing was scored.
    (button,) = at.get("download_button")
    csv, file_name = downloads[-1]
    assert file_name == "predictions.csv" and button.label == "Download predictions (CSV)"
    downloaded = pd.read_csv(io.BytesIO(csv), dtype=str, keep_default_na=False)
    assert list(downloaded.columns) == list(frame.columns)
    pd.testing.assert_frame_equal(downloaded[list(upload.columns)], upload)
    assert list(downloaded["note"]) == list(frame["note"])
    assert downloaded.loc[1, [names.confidence, *names.probabilities.values()]].eq("").all()


def test_a_headline_the_model_cannot_read_gets_a_note(runs_dir, small_source, saved_run):
    predictor = Predictor.from_run(RunRegistry(runs_dir), saved_run)
    known = next(w for w in ("the", "to", "of", "in") if predictor.word_coverage(w).known_count)
    at = new_app(small_source)
    at.session_state["active_run_id"] = saved_run
    open_page(at, "playground")

    box = at.text_input(key="keep.playground.text")
    box.set_value("Zzqx *blorft* <b>qqwv</b>").run()
    assert_clean(at)
    (warning,) = at.warning
    # A run on a small file reads character n-grams in its linear part: pieces of the
    # spelling are all it has of these words (without characters: "the model's prior").
    assert predictor.word_coverage("zzqx").reads_characters
    assert NO_KNOWN_WORD in warning.value and "pieces of their spelling" in warning.value
    assert {m.label: m.value for m in at.metric}["Predicted category"]  # the guess stays

    # Some words unknown: a softer note naming them, escaped (never markup).
    at.text_input(key="keep.playground.text").set_value(f"{known} zzqx zz'qx").run()
    assert_clean(at)
    assert not at.warning
    (note,) = [c.value for c in at.caption if "training vocabulary" in c.value]
    assert "2 of 3 words were not in the training vocabulary" in note
    assert note.endswith(r"zzqx, zz\'qx.")  # the words as the model splits them, escaped

    # Every word known: no note at all.
    at.text_input(key="keep.playground.text").set_value(known).run()
    assert not at.warning
    assert not [c.value for c in at.caption if "training vocabulary" in c.value]


def test_a_fresh_clone_trains_its_first_model_from_the_playground(runs_dir, small_source):
    at = new_app(small_source)
    at.session_state["data_config"] = tiny_data_config()
    open_page(at, "playground")
    assert_clean(at)
    assert "No saved runs yet" in texts_of(at)
    assert "fast" in texts_of(at) and small_source.name in texts_of(at)
    assert not at.text_input  # no headline box without a run
    (button,) = [b for b in at.button if b.key == "playground.first_run"]
    assert button.label == "Train a first model"

    for key, value in TINY_MODEL.items():  # the Train page's fields, as a visitor set them
        at.session_state[key] = value
    button.click().run()
    assert_clean(at)
    assert at.session_state["train_job_id"] is not None
    assert "Training a first model" in texts_of(at)  # its progress shows in place

    run_until(at, lambda a: bool(a.text_input), timeout=150)
    assert_clean(at)
    (run,) = RunRegistry(runs_dir).list_runs()
    assert at.session_state["active_run_id"] == run.run_id
    saved = RunRegistry(runs_dir).get(run.run_id)
    assert saved.config.experiment.preset == "fast"
    assert saved.config.experiment.train.epochs == 3
    assert not [b for b in at.button if b.key == "playground.first_run"]

    at.text_input(key="keep.playground.text").set_value("Stocks rally as Fed holds rates").run()
    assert_clean(at)
    assert {m.label: m.value for m in at.metric}["Predicted category"]


def test_a_class_name_from_a_run_is_shown_as_text(runs_dir, small_source, saved_run):
    """Found: the predicted class's name (labels.json, from a file or an import) went
    into st.metric's value, which Streamlit draws as Markdown."""
    labels_path = RunRegistry(runs_dir).path_of(saved_run) / "labels.json"
    labels = json.loads(labels_path.read_text())
    labels["names"] = {code: f"**{code}** [x](http://e.com)" for code in labels["classes"]}
    labels_path.write_text(json.dumps(labels))
    at = new_app(small_source)
    at.session_state["active_run_id"] = saved_run
    open_page(at, "playground")
    at.text_input(key="keep.playground.text").set_value("Fed raises rates").run()
    assert_clean(at)
    value = {m.label: m.value for m in at.metric}["Predicted category"]
    assert value.startswith(r"\*\*") and r"\[x\]" in value


def test_the_headline_box_is_drawn_before_the_model_loads(runs_dir, small_source, saved_run):
    """Found with ``benchmarks/playground_open.py``: on a server that had just started,
    the Playground drew nothing under its run picker until TensorFlow was imported and
    the model loaded (5.6 s), so a visitor could not even start typing. The box now comes
    first and the model loads under it; an Enter pressed meanwhile is answered once it
    has loaded (a fragment's rerun waits for the page's run). Seen here with a model file
    that looks whole to the runs list but cannot be loaded: the box is drawn, then the
    error, and nothing that needs the model."""
    with zipfile.ZipFile(runs_dir / saved_run / "model.keras", "w") as archive:
        archive.writestr("config.json", "{not json")
        archive.writestr("model.weights.h5", b"not hdf5")
    at = new_app(small_source)
    at.session_state["active_run_id"] = saved_run
    open_page(at, "playground")

    assert at.text_input(key="keep.playground.text").value == ""
    assert [b.key for b in at.button if b.key and b.key.startswith("playground.example")]
    (error,) = at.error
    assert "model" in error.value.lower()
    assert not at.exception
    assert "Score a CSV" not in [s.value for s in at.subheader]

    # typed anyway: the same error where the answer would be, never a traceback
    at.text_input(key="keep.playground.text").set_value("Fed raises rates").run()
    assert not at.exception and at.error
    assert not at.metric


def test_every_uploader_takes_any_file_and_names_a_wrong_one(runs_dir, small_source, saved_run):
    """Found dropping a ``.zip`` of headlines on "Score a CSV": the browser refused it
    (the uploader allowed .csv, .gz, .tsv and .txt, with a refusal shown only on hover)
    although the scorer reads a .zip of one CSV, as the sidebar's uploader does. No
    uploader filters by type (``UPLOAD_TYPES``): the file's contents are read, and a wrong
    one is named with the fix."""
    at = new_app(small_source)
    at.session_state["active_run_id"] = saved_run
    open_page(at, "playground")
    for uploader in at.get("file_uploader"):
        assert list(uploader.proto.type) == [], uploader.proto.label
    runs = open_page(new_app(small_source), "runs")
    assert [list(uploader.proto.type) for uploader in runs.get("file_uploader")] == [[]]

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("headlines.csv", "headline\nStocks rally as Fed holds rates\n")
    at.get("file_uploader")[0].set_value(("headlines.zip", buffer.getvalue(), "application/zip"))
    at.run()
    assert_clean(at)
    assert at.selectbox(key="playground.batch_col").value == "headline"
    at.get("file_uploader")[0].set_value(
        ("book.xlsx", b"PK\x03\x04" + b"\0" * 60, "application/zip")
    )
    at.run()
    assert not at.exception
    assert any(".xlsx" in error.value or "workbook" in error.value for error in at.error), [
        error.value for error in at.error
    ]


def test_a_many_class_model_shows_its_likeliest_classes_and_sums_up_the_rest(
    runs_dir, small_source, saved_run, monkeypatch
):
    """Found with a model of 200 publishers: its answer drew 200 probability bars, a page
    of them below every headline. Now the likeliest classes, and one line for the rest
    (here a 4-class run, with bars for 2 of them)."""
    import ui.views.playground

    monkeypatch.setattr(ui.views.playground, "MAX_PROBABILITY_BARS", 2)
    at = new_app(small_source)
    at.session_state["active_run_id"] = saved_run
    open_page(at, "playground")
    at.text_input(key="keep.playground.text").set_value("Apple unveils a new iPhone").run()
    assert_clean(at)
    assert len(at.get("progress")) == 2
    captions = [c.value for c in at.caption]
    assert "Probability of the 2 likeliest of 4 classes" in captions
    (rest,) = [text for text in captions if "more classes" in text]
    assert rest.startswith("and 2 more classes, ") and rest.endswith("% together.")


def test_examples_are_the_runs_own_test_rows_while_its_data_is_active(
    runs_dir, small_source, saved_run
):
    """Found with a model of 200 publishers: the Playground offered every model the 2019
    notebook's news sentences. A run on another file offers its own test rows."""
    from apptest_support import FIXTURES

    from pipeline.data import load_dataset
    from pipeline.evaluation.examples import examples_from_test_set
    from ui.core.text import escape_markdown
    from ui.views.playground import EXAMPLES, TEXT_KEY

    def examples_shown(at) -> list[str]:
        return [b.label for b in at.button if str(b.key).startswith("playground.example.")]

    saved = RunRegistry(runs_dir).get(saved_run)
    own = examples_from_test_set(saved, load_dataset(FIXTURES / "uci_small.csv"))
    at = new_app(small_source)
    at.session_state["active_run_id"] = saved_run
    open_page(at, "playground")
    assert_clean(at)
    assert len(own) == 4 and examples_shown(at) == [escape_markdown(text) for text in own]
    assert any("this run's test set" in c.value for c in at.caption)
    at.button(key="playground.example.0").click().run()
    assert at.text_input(key=TEXT_KEY).value == own[0]  # the text itself, not escaped

    other = new_app()  # the bundled file active: the notebook's, and the way to the run's
    other.session_state["active_run_id"] = saved_run
    open_page(other, "playground")
    assert examples_shown(other) == list(EXAMPLES)
    assert any("with this run's data, uci_small.csv, active" in c.value for c in other.caption)
