"""Runs on disk: atomic save, listing, export/import and its validation."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from pipeline.errors import RunImportError, RunNotFoundError
from pipeline.registry import JSON_FILES, MAX_IMPORT_BYTES, RUN_FILES, RunRegistry

pytestmark = pytest.mark.training


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def exported(trained_run, runs_dir) -> dict[str, bytes]:
    result, _ = trained_run
    data = RunRegistry(runs_dir).export_zip(result.run_id)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_list_and_get(trained_run, runs_dir):
    result, _ = trained_run
    runs = RunRegistry(runs_dir).list_runs()
    summary = next(run for run in runs if run.run_id == result.run_id)
    assert summary.status == "complete" and summary.preset == "fast"
    assert summary.epochs == 2 and summary.accuracy is not None
    assert summary.dataset == "uci_small.csv"


def test_unknown_and_malformed_ids(tmp_path):
    registry = RunRegistry(tmp_path)
    with pytest.raises(RunNotFoundError, match="No saved run"):
        registry.get("0123456789abcdef")
    with pytest.raises(RunNotFoundError, match="not a run id"):
        registry.get("../../etc")
    assert registry.list_runs() == []


def test_export_import_round_trip(exported, tmp_path, trained_run):
    result, _ = trained_run
    assert set(exported) == set(RUN_FILES)
    registry = RunRegistry(tmp_path)
    run_id = registry.import_zip(_zip(exported))
    assert run_id == result.run_id
    assert registry.get(run_id).complete
    assert registry.find_complete(run_id) is not None


def test_delete(exported, tmp_path):
    registry = RunRegistry(tmp_path)
    run_id = registry.import_zip(_zip(exported))
    registry.delete(run_id)
    assert registry.list_runs() == []
    with pytest.raises(RunNotFoundError):
        registry.delete(run_id)


def test_import_rejects_what_is_not_a_zip(tmp_path):
    with pytest.raises(RunImportError, match="not a zip archive"):
        RunRegistry(tmp_path).import_zip(b"hello, I am a text file")


@pytest.mark.parametrize("evil", ["../evil.json", "/etc/passwd", "sub/model.keras", "extra.py"])
def test_import_rejects_unexpected_members(exported, tmp_path, evil):
    members = {**exported, evil: b"{}"}
    with pytest.raises(RunImportError, match="unexpected files"):
        RunRegistry(tmp_path).import_zip(_zip(members))
    assert not any(tmp_path.rglob("evil.json"))


def test_import_rejects_duplicated_members(exported, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in exported.items():
            archive.writestr(name, data)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("config.json", b"{}")
    with pytest.raises(RunImportError, match="same file twice"):
        RunRegistry(tmp_path).import_zip(buffer.getvalue())


def test_import_rejects_missing_members(exported, tmp_path):
    members = dict(exported)
    del members["metrics.json"]
    with pytest.raises(RunImportError, match=r"lacks metrics\.json"):
        RunRegistry(tmp_path).import_zip(_zip(members))


def test_import_rejects_broken_json_and_model(exported, tmp_path):
    registry = RunRegistry(tmp_path)
    with pytest.raises(RunImportError, match="JSON files are not readable"):
        registry.import_zip(_zip({**exported, "history.json": b"{not json"}))
    with pytest.raises(RunImportError, match="does not load safely"):
        registry.import_zip(_zip({**exported, "model.keras": b"garbage"}))
    run = json.loads(exported["run.json"])
    run["run_id"] = "../../x"
    with pytest.raises(RunImportError, match="no valid run_id"):
        registry.import_zip(_zip({**exported, "run.json": json.dumps(run).encode()}))
    assert registry.list_runs() == []


def test_import_rejects_oversized_archives(exported, tmp_path, monkeypatch):
    monkeypatch.setattr("pipeline.registry.MAX_IMPORT_BYTES", 1000)
    with pytest.raises(RunImportError, match="over the"):
        RunRegistry(tmp_path).import_zip(_zip(exported))
    assert MAX_IMPORT_BYTES > 1000


def test_save_is_atomic_when_writing_fails(tmp_path):
    registry = RunRegistry(tmp_path)

    def broken_writer(path):
        path.write_bytes(b"partial")
        raise OSError("disk full")

    documents = {name: {} for name in JSON_FILES}
    with pytest.raises(OSError, match="disk full"):
        registry.save("0123456789abcdef", broken_writer, documents)
    assert not (tmp_path / "0123456789abcdef").exists()
    assert list(tmp_path.iterdir()) == []
