"""Runs on disk: atomic save, listing, export/import and its validation."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
import sys
import zipfile

import pytest
from sklearn.metrics import accuracy_score, f1_score
from training_support import majority_share, predict_test_set, unzip_members, zip_members

from pipeline.core.errors import RunImportError, RunNotFoundError, RunRecordError
from pipeline.runs.archive import imported_run_id
from pipeline.runs.files import JSON_FILES, PREDICTIONS_FILE, RUN_FILES
from pipeline.runs.record import RunRecord
from pipeline.runs.registry import RunRegistry
from pipeline.sessions.access import Principal

pytestmark = pytest.mark.training


@pytest.fixture
def exported(trained_run, runs_dir) -> dict[str, bytes]:
    result, _ = trained_run
    return unzip_members(RunRegistry(runs_dir).export_zip(result.run_id))


def test_list_and_get(trained_run, runs_dir, uci_small):
    result, _ = trained_run
    registry = RunRegistry(runs_dir)
    summary = next(run for run in registry.list_runs() if run.run_id == result.run_id)
    assert summary.status == "complete" and summary.preset == "fast"
    assert summary.epochs == 2 and summary.dataset == "uci_small.csv"
    # the listed scores are the saved model's on its test rows, computed here afresh
    true, predicted = predict_test_set(uci_small, registry, result.run_id)
    assert summary.accuracy == pytest.approx(accuracy_score(true, predicted))
    assert summary.macro_f1 == pytest.approx(f1_score(true, predicted, average="macro"))
    assert summary.accuracy > majority_share(true) + 0.1  # well above guessing one class


def test_unknown_and_malformed_ids(tmp_path):
    registry = RunRegistry(tmp_path)
    with pytest.raises(RunNotFoundError, match="No saved run"):
        registry.get("0123456789abcdef")
    with pytest.raises(RunNotFoundError, match="not a run id"):
        registry.get("../../etc")
    assert registry.list_runs() == []


def test_export_import_round_trip(exported, tmp_path, trained_run, model_checker):
    result, _ = trained_run
    assert set(exported) == {*RUN_FILES, PREDICTIONS_FILE}
    registry = RunRegistry(tmp_path, model_checker=model_checker)
    run_id = registry.import_zip(zip_members(exported))
    # the id is this server's, never the archive's
    assert run_id != result.run_id and run_id == imported_run_id(exported, None)
    imported = registry.get(run_id)
    assert imported.complete and imported.run.origin == "imported"
    original = RunRegistry(result.run_dir.parent).get(result.run_id).test_predictions()
    assert len(original) == imported.metrics.n_test
    assert imported.test_predictions() == original
    # an imported run is shown, never served as a training's cache
    assert registry.find_complete(run_id) is None
    assert registry.list_runs()[0].origin == "imported"


def test_an_import_never_replaces_a_run(exported, trained_run, runs_dir, model_checker):
    """Found: an archive forged from a real run (metrics edited to 0.999) replaced it.
    Then: the archive's run id was taken as it was, so an archive could claim any id."""
    result, _ = trained_run
    registry = RunRegistry(runs_dir, model_checker=model_checker)
    before = {
        p.name: p.read_bytes() for p in registry.path_of(result.run_id).iterdir() if p.is_file()
    }
    metrics = json.loads(exported["metrics.json"])
    metrics["test_accuracy"] = 0.999
    forged = {**exported, "metrics.json": json.dumps(metrics).encode()}
    forged_id = registry.import_zip(zip_members(forged))
    assert forged_id != result.run_id  # saved beside the run it names, under an id of ours
    after = {
        p.name: p.read_bytes() for p in registry.path_of(result.run_id).iterdir() if p.is_file()
    }
    assert after == before
    assert registry.find_complete(result.run_id).metrics.test_accuracy != 0.999
    with pytest.raises(RunImportError, match=f"already here as run {forged_id}"):
        registry.import_zip(zip_members(forged))


def test_imports_are_private_to_the_importing_session(
    exported, tmp_path, monkeypatch, model_checker
):
    alice = RunRegistry(
        tmp_path, model_checker=model_checker, principal=Principal.visitor("a" * 16)
    )
    bob = RunRegistry(tmp_path, model_checker=model_checker, principal=Principal.visitor("b" * 16))
    alices = alice.import_zip(zip_members(exported))
    assert alice.get(alices).run.owner == "a" * 16
    assert [run.run_id for run in bob.list_runs()] == []
    with pytest.raises(RunNotFoundError):
        bob.get(alices)
    # the same archive imported by another session is another run, with no clash
    bobs = bob.import_zip(zip_members(exported))
    assert bobs != alices and [run.run_id for run in bob.list_runs()] == [bobs]
    # a clash with a run the importer cannot see (only a hash collision could make one)
    # reads as a plain refusal that names no id
    monkeypatch.setattr("pipeline.runs.registry.imported_run_id", lambda members, owner: alices)
    with pytest.raises(RunImportError) as refused:
        RunRegistry(
            tmp_path, model_checker=model_checker, principal=Principal.visitor("c" * 16)
        ).import_zip(zip_members(exported))
    assert alices not in str(refused.value) and "already" not in str(refused.value)


def test_a_forged_archive_is_never_served_from_the_cache(exported, tmp_path, model_checker):
    metrics = json.loads(exported["metrics.json"])
    metrics["test_accuracy"] = 0.999
    registry = RunRegistry(tmp_path, model_checker=model_checker)
    run_id = registry.import_zip(
        zip_members({**exported, "metrics.json": json.dumps(metrics).encode()})
    )
    assert registry.get(run_id).metrics.test_accuracy == 0.999  # shown, marked imported
    assert registry.find_complete(run_id) is None  # a training of the same id trains afresh


def test_delete(exported, tmp_path, model_checker):
    registry = RunRegistry(tmp_path, model_checker=model_checker)
    run_id = registry.import_zip(zip_members(exported))
    registry.delete(run_id)
    assert registry.list_runs() == []
    with pytest.raises(RunNotFoundError):
        registry.delete(run_id)


def test_import_rejects_what_is_not_azip_members(tmp_path, model_checker):
    with pytest.raises(RunImportError, match="not a zip archive"):
        RunRegistry(tmp_path, model_checker=model_checker).import_zip(b"hello, I am a text file")


@pytest.mark.parametrize("evil", ["../evil.json", "/etc/passwd", "sub/model.keras", "extra.py"])
def test_import_rejects_unexpected_members(exported, tmp_path, evil, model_checker):
    members = {**exported, evil: b"{}"}
    with pytest.raises(RunImportError, match="unexpected files"):
        RunRegistry(tmp_path, model_checker=model_checker).import_zip(zip_members(members))
    assert not any(tmp_path.rglob("evil.json"))


def test_import_rejects_duplicated_members(exported, tmp_path, model_checker):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in exported.items():
            archive.writestr(name, data)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("config.json", b"{}")
    with pytest.raises(RunImportError, match="same file twice"):
        RunRegistry(tmp_path, model_checker=model_checker).import_zip(buffer.getvalue())


def test_import_rejects_missing_members(exported, tmp_path, model_checker):
    members = dict(exported)
    del members["metrics.json"]
    with pytest.raises(RunImportError, match=r"lacks metrics\.json"):
        RunRegistry(tmp_path, model_checker=model_checker).import_zip(zip_members(members))


def test_import_rejects_broken_json_and_model(exported, tmp_path, model_checker):
    registry = RunRegistry(tmp_path, model_checker=model_checker)
    with pytest.raises(RunImportError, match=r"history\.json is not valid JSON"):
        registry.import_zip(zip_members({**exported, "history.json": b"{not json"}))
    with pytest.raises(RunImportError, match="not a Keras archive"):
        registry.import_zip(zip_members({**exported, "model.keras": b"garbage"}))
    run = json.loads(exported["run.json"])
    run["run_id"] = "../../x"
    with pytest.raises(RunImportError, match="'run_id' is not a run id"):
        registry.import_zip(zip_members({**exported, "run.json": json.dumps(run).encode()}))
    assert list(tmp_path.iterdir()) == []


def _set(document: bytes, path: tuple, value) -> bytes:
    payload = json.loads(document)
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(payload).encode()


MALFORMED = {
    "config.json is a list": ("config.json", None, []),
    "run.json is a list": ("run.json", None, []),
    "labels.json is a list": ("labels.json", None, []),
    "history.json is an object": ("history.json", None, {}),
    "metrics.json is a list": ("metrics.json", None, []),
    "data.json is a number": ("data.json", None, 3),
    "an epoch count as text": ("config.json", ("train", "epochs"), "many"),
    "a model setting of the wrong type": ("config.json", ("model", "units"), [64]),
    "an unknown family": ("config.json", ("model", "family"), "transformer-xl"),
    "accuracy as text": ("metrics.json", ("test_accuracy",), "high"),
    "accuracy over 1": ("metrics.json", ("test_accuracy",), 99.9),
    "a class as a number": ("labels.json", ("classes",), [1, 2, 3, 4]),
    "an epoch as an object": ("history.json", (0,), {"epoch": "one"}),
    "an epoch's flag as text": ("history.json", (0, "partial"), "yes"),
    "a status made up": ("run.json", ("status",), "excellent"),
    "a schema from the future": ("run.json", ("schema_version",), 99),
    "a ragged confusion matrix": ("metrics.json", ("confusion_matrix", "matrix"), [[1, 2]]),
    "a fingerprint as a number": ("data.json", ("fingerprint",), 12),
    "split sizes without the test split": ("data.json", ("split_sizes",), {"train": 10}),
    "a class count as text": ("data.json", ("class_counts_after", "b"), "many"),
    "a prior shift's tau as text": ("metrics.json", ("prior_shift", "tau"), "big"),
    "a log prior per class missing": ("metrics.json", ("prior_shift", "log_prior"), [-0.5]),
    "a blend's inputs as a number": ("metrics.json", ("blend", "linear_inputs"), 5),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_every_malformed_archive_is_refused_with_a_message(exported, tmp_path, case, model_checker):
    name, path, value = MALFORMED[case]
    document = json.dumps(value).encode() if path is None else _set(exported[name], path, value)
    registry = RunRegistry(tmp_path, model_checker=model_checker)
    with pytest.raises(RunImportError, match="The archive is not a sound run") as caught:
        registry.import_zip(zip_members({**exported, name: document}))
    assert name.split(".")[0] in str(caught.value) or "schema" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # the runs folder is exactly as it was


def test_every_document_is_written_back_as_it_was_read(trained_run, runs_dir):
    """The typed record (epochs, metrics with their blend and prior shift records, ...)
    holds everything its files hold: parsed and written back, they are unchanged."""
    result, _ = trained_run
    folder = RunRegistry(runs_dir).path_of(result.run_id)
    documents = {name: json.loads((folder / name).read_text()) for name in JSON_FILES}
    assert RunRecord.parse(documents).documents() == documents


def test_import_rejects_oversized_archives(exported, tmp_path, monkeypatch, model_checker):
    monkeypatch.setattr("pipeline.runs.archive.MAX_IMPORT_BYTES", 1000)
    with pytest.raises(RunImportError, match="over the"):
        RunRegistry(tmp_path, model_checker=model_checker).import_zip(zip_members(exported))
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()  # under the real limit the same archive imports: the size refused it
    run_id = RunRegistry(tmp_path, model_checker=model_checker).import_zip(zip_members(exported))
    assert RunRegistry(tmp_path, model_checker=model_checker).get(run_id).complete


def _record(trained_run, runs_dir, **run_changes) -> RunRecord:
    result, _ = trained_run
    record = RunRegistry(runs_dir).get(result.run_id).record
    return dataclasses.replace(record, run=dataclasses.replace(record.run, **run_changes))


def _copy_model(trained_run, runs_dir):
    result, _ = trained_run
    source = RunRegistry(runs_dir).get(result.run_id).model_path
    return lambda path: shutil.copyfile(source, path)


def test_save_is_atomic_when_writing_fails(tmp_path, trained_run, runs_dir):
    registry = RunRegistry(tmp_path)

    def broken_writer(path):
        path.write_bytes(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        registry.save(_record(trained_run, runs_dir), broken_writer)
    assert list(tmp_path.iterdir()) == []


def test_a_retraining_replaces_a_run_in_one_step(tmp_path, trained_run, runs_dir):
    registry = RunRegistry(tmp_path)
    first = registry.save(_record(trained_run, runs_dir), _copy_model(trained_run, runs_dir))
    again = _record(trained_run, runs_dir, created_at="2030-01-01T00:00:00+00:00")
    second = registry.save(again, _copy_model(trained_run, runs_dir))
    assert second.run_id == first.run_id
    assert registry.get(first.run_id).run.created_at == "2030-01-01T00:00:00+00:00"
    assert [path.name for path in tmp_path.iterdir()] == [first.run_id]  # nothing left over


def test_a_stopped_retraining_never_replaces_a_complete_run(tmp_path, trained_run, runs_dir):
    """Found: "Train again anyway" then Stop replaced a complete run with the stopped one."""
    registry = RunRegistry(tmp_path)
    complete = registry.save(_record(trained_run, runs_dir), _copy_model(trained_run, runs_dir))
    stopped = _record(trained_run, runs_dir, status="stopped", created_at="2030-01-01T00:00:00Z")
    saved = registry.save(stopped, _copy_model(trained_run, runs_dir))
    assert saved.run_id != complete.run_id and saved.run.status == "stopped"
    assert registry.get(complete.run_id).complete  # the complete run is still there
    assert registry.get(saved.run_id).run.status == "stopped"
    assert registry.find_complete(complete.run_id).run.created_at == complete.run.created_at


def _saved_copy(trained_run, runs_dir, tmp_path) -> tuple[RunRegistry, str]:
    result, _ = trained_run
    shutil.copytree(RunRegistry(runs_dir).path_of(result.run_id), tmp_path / result.run_id)
    return RunRegistry(tmp_path), result.run_id


DAMAGE = {
    "config.json is a list": lambda folder: (folder / "config.json").write_text("[]"),
    "run.json is not JSON": lambda folder: (folder / "run.json").write_text("{oops"),
    "metrics.json is missing": lambda folder: (folder / "metrics.json").unlink(),
    "the model is not a Keras archive": lambda folder: (folder / "model.keras").write_bytes(b"x"),
    "the model is missing": lambda folder: (folder / "model.keras").unlink(),
    "run.json names another run": lambda folder: (folder / "run.json").write_text(
        (folder / "run.json").read_text().replace(folder.name, "0" * 16)
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_run_is_listed_with_its_reason_and_can_be_deleted(
    damage, trained_run, runs_dir, tmp_path
):
    """Found: a run whose config.json was [] broke every page and `runs list` for all."""
    registry, run_id = _saved_copy(trained_run, runs_dir, tmp_path)
    DAMAGE[damage](registry.path_of(run_id))
    (row,) = registry.list_runs()  # never raises
    assert row.run_id == run_id and row.damaged and row.status == "damaged"
    assert row.problem.startswith(f"Run {run_id} is damaged (")
    with pytest.raises(RunRecordError, match="is damaged"):
        registry.get(run_id)
    assert registry.find_complete(run_id) is None
    registry.delete(run_id)
    assert registry.list_runs() == [] and list(tmp_path.iterdir()) == []


def test_a_folder_not_named_like_a_run_is_not_listed(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / ".tmp-0123456789abcdef-1").mkdir()
    assert RunRegistry(tmp_path).list_runs() == []


def test_runs_saved_before_the_schema_version_still_load(trained_run, runs_dir, tmp_path):
    """Schema 1 (no version; preset, family and parent repeated in run.json) loads as is."""
    registry, run_id = _saved_copy(trained_run, runs_dir, tmp_path)
    run_file = registry.path_of(run_id) / "run.json"
    old = json.loads(run_file.read_text())
    for key in ("schema_version", "origin"):
        old.pop(key)
    old.update(preset="fast", family="ngram_bag", parent_run_id=None)
    run_file.write_text(json.dumps(old))
    saved = registry.get(run_id)
    assert saved.run.schema_version == 1 and saved.run.origin == "trained"
    assert registry.find_complete(run_id).run.created_at == old["created_at"]


def test_an_archives_model_is_loaded_in_another_process_only(exported, tmp_path):
    """Found: an imported model.keras was deserialised in the server's own process."""
    archive = tmp_path / "run.zip"
    archive.write_bytes(zip_members(exported))
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pipeline.runs.registry import RunRegistry\n"
        f"run_id = RunRegistry(Path({str(tmp_path / 'runs')!r})).import_zip("
        f"Path({str(archive)!r}).read_bytes())\n"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules\n"
        "print(run_id)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert RunRegistry(tmp_path / "runs").get(done.stdout.strip()).complete


def test_a_model_that_does_not_load_is_refused(exported, tmp_path, model_checker):
    members = {
        "config.json": b'{"class_name": "Functional", "config": {"layers": "nonsense"}}',
        "model.weights.h5": b"not hdf5",
        "metadata.json": b"{}",
    }
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(RunImportError, match="does not load safely"):
        RunRegistry(tmp_path, model_checker=model_checker).import_zip(
            zip_members({**exported, "model.keras": broken.getvalue()})
        )
    assert list(tmp_path.iterdir()) == []
