"""Faults survived, proven with real processes: ``python -m pipeline`` killed with SIGKILL
while training, while saving, while replacing a run and while importing; a runs folder
that cannot be written; and a CLI that never prints a traceback.

Each kill is a real SIGKILL of a real CLI process. Where the moment must be exact
(part way through the save), the child is the real CLI with one function wrapped to
kill its own process at that point; nothing else is changed. The commands around a
kill (training again, listing, importing) run in this process
(:func:`tests.cli_support.run_cli`): the process matters only where it dies.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from training_support import zip_members

from pipeline.cli.main import main
from pipeline.cli.parser import build_parser
from pipeline.runs.registry import RunRegistry
from tests.cli_support import CliResult, run_cli
from tests.tiny_training import PRESET_SEQUENCE_SIZES, tiny_cli_flags

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "fixtures" / "uci_small.csv"
#: Ends in ``--json``: ``TINY[:-1]`` is the same training without it.
TINY = [
    "--data",
    str(SMALL),
    *tiny_cli_flags(
        cap_per_class=60, epochs=1, **PRESET_SEQUENCE_SIZES, ngram_tokens=2000, ngram_dim=8
    ),
    "--json",
]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

pytestmark = pytest.mark.training

#: The real CLI, with one function of ``pipeline.runs.registry`` or ``pipeline.core.atomic``
#: wrapped so the process kills itself with SIGKILL at a chosen point (argv: the point, then
#: the CLI's arguments).
KILLING_CLI = """
import os, signal, sys
import pipeline.core.atomic as atomic
import pipeline.runs.registry as registry

point = sys.argv.pop(1)
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
if point == "save":  # after three of the six JSON documents are written
    written = []
    write_json = registry.write_json_atomically
    def _write_json(path, payload, **options):
        write_json(path, payload, **options)
        written.append(path)
        if len(written) == 3:
            die()
    registry.write_json_atomically = _write_json
elif point == "replace":  # between the two renames of the non-atomic replacement
    atomic._exchange = lambda first, second: False
    rename = os.replace
    def _replace(source, target):
        rename(source, target)
        if ".old-" in str(target):
            die()
    atomic.os.replace = _replace
elif point == "import":  # while the archive's model is being checked
    import pipeline.runs.model_check as model_check
    model_check.check_in_separate_process = lambda *args, **kwargs: die()
from pipeline.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def cli(*args: str, runs_dir: Path) -> CliResult:
    """The command, run in this process."""
    return run_cli(*args, runs_dir=runs_dir)


def cli_process(*args: str, runs_dir: Path, **popen) -> subprocess.CompletedProcess:
    """The command in a process of its own (``popen``: e.g. a ``preexec_fn`` limit)."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args, "--runs-dir", str(runs_dir)],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300, **popen,
    )  # fmt: skip


def killed_cli(point: str, *args: str, runs_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", KILLING_CLI, point, *args, "--runs-dir", str(runs_dir)],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def assert_sound(runs_dir: Path) -> list:
    """Every listed run loads; nothing is listed as damaged; hidden leftovers only."""
    if not runs_dir.exists():
        return []
    runs = RunRegistry(runs_dir).list_runs()
    assert not [run for run in runs if run.damaged], runs
    for run in runs:
        assert RunRegistry(runs_dir).get(run.run_id).record.run.status in {"complete", "stopped"}
    visible = [path.name for path in runs_dir.iterdir() if not path.name.startswith(".")]
    assert sorted(visible) == sorted(run.run_id for run in runs)
    return runs


def train_to_completion(runs_dir: Path, *extra: str) -> dict:
    done = cli("train", *TINY, *extra, runs_dir=runs_dir)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory) -> tuple[Path, dict]:
    """A runs folder with the tiny run, trained once for the module, and its ``--json``."""
    runs_dir = tmp_path_factory.mktemp("faults") / "runs"
    return runs_dir, train_to_completion(runs_dir)


def copy_of(trained_once: tuple[Path, dict], folder: Path) -> dict:
    """The module's trained run, copied into ``folder`` (a runs folder of the test's own)."""
    shutil.copytree(trained_once[0], folder)
    return trained_once[1]


def test_killed_while_training_leaves_no_run_and_trains_again(tmp_path):
    runs_dir = tmp_path / "runs"
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "train", *TINY[:-1], "--epochs", "40",
         "--runs-dir", str(runs_dir)],
        cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    seen = bytearray()

    def read() -> None:
        while chunk := process.stderr.read1(256):
            seen.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while b"batch" not in seen and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b"batch" in seen, seen.decode(errors="replace")[-2000:]
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert assert_sound(runs_dir) == []
    result = train_to_completion(runs_dir)
    assert [run.run_id for run in assert_sound(runs_dir)] == [result["run_id"]]


def test_killed_while_saving_leaves_nothing_that_looks_like_a_run(tmp_path):
    runs_dir = tmp_path / "runs"
    done = killed_cli("save", "train", *TINY, runs_dir=runs_dir)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert list(runs_dir.glob(".tmp-*")), "the kill did not happen during the save"
    assert assert_sound(runs_dir) == []
    result = train_to_completion(runs_dir)
    assert not result["from_cache"] and len(assert_sound(runs_dir)) == 1


def test_killed_while_replacing_a_run_keeps_the_old_one(tmp_path, trained_once):
    runs_dir = tmp_path / "runs"
    first = copy_of(trained_once, runs_dir)
    before = RunRegistry(runs_dir).get(first["run_id"]).run.created_at
    done = killed_cli("replace", "train", *TINY, "--force", runs_dir=runs_dir)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert not (runs_dir / first["run_id"]).exists()  # killed between the two renames
    (run,) = assert_sound(runs_dir)  # the listing puts the old run back
    assert run.run_id == first["run_id"] and run.created_at == before
    again = train_to_completion(runs_dir)
    assert again["from_cache"]  # the old run is whole and serves the cache


def test_killed_while_importing_leaves_the_runs_folder_as_it_was(tmp_path, trained_once):
    source, runs_dir = tmp_path / "source", tmp_path / "runs"
    trained = copy_of(trained_once, source)
    archive = tmp_path / "run.zip"
    archive.write_bytes(RunRegistry(source).export_zip(trained["run_id"]))
    done = killed_cli("import", "runs", "import", str(archive), runs_dir=runs_dir)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert assert_sound(runs_dir) == []
    imported = cli("runs", "import", str(archive), runs_dir=runs_dir)
    assert imported.returncode == 0, imported.stderr
    (run,) = assert_sound(runs_dir)
    assert run.origin == "imported" and run.run_id != trained["run_id"]  # an id of ours


def _file_size_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_runs_folder_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path):
    # a file-size limit below the model's size: the disk is "full" for this process
    runs_dir = tmp_path / "runs"
    limited = cli_process("train", *TINY, runs_dir=runs_dir, preexec_fn=_file_size_limit(20_000))
    assert limited.returncode == 2, limited.stderr[-2000:]
    # (TensorFlow's own start-up lines may come before it)
    line = limited.stderr.strip().splitlines()[-1]
    assert line.startswith("error: File too large") and "ulimit -f" in line
    assert "Traceback" not in limited.stderr
    assert assert_sound(runs_dir) == []
    # a runs "folder" that is a file
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    refused = cli("train", *TINY, runs_dir=blocked)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("error: "), refused.stderr
    assert "Traceback" not in refused.stderr
    if os.geteuid() != 0:  # root writes anywhere: a read-only folder proves nothing then
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        denied = cli("train", *TINY, runs_dir=locked)
        assert denied.returncode == 2 and "writable" in denied.stderr, denied.stderr


def test_a_malformed_archive_and_a_damaged_run_on_the_command_line(tmp_path, trained_once):
    """Found: a zip whose run.json is [] ended the CLI with an AttributeError traceback,
    and a run whose config.json is [] made `runs list` raise."""
    source, runs_dir = tmp_path / "source", tmp_path / "runs"
    trained = copy_of(trained_once, source)
    with zipfile.ZipFile(io.BytesIO(RunRegistry(source).export_zip(trained["run_id"]))) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    bad = tmp_path / "bad.zip"
    bad.write_bytes(zip_members({**members, "run.json": b"[]"}))
    refused = cli("runs", "import", str(bad), runs_dir=runs_dir)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("error: The archive is not a sound run (run.json must be")
    assert not runs_dir.exists() or assert_sound(runs_dir) == []

    (source / trained["run_id"] / "config.json").write_text("[]")
    listed = cli("runs", runs_dir=source)
    assert listed.returncode == 0, listed.stderr
    assert f"{trained['run_id']}  DAMAGED: Run {trained['run_id']} is damaged (config.json" in (
        listed.stdout
    )
    as_json = json.loads(cli("runs", "--json", runs_dir=source).stdout)
    assert as_json[0]["status"] == "damaged" and "config.json" in as_json[0]["problem"]
    shown = cli("evaluate", trained["run_id"], runs_dir=source)
    assert shown.returncode == 2 and "is damaged" in shown.stderr
    deleted = cli("runs", "delete", trained["run_id"], runs_dir=source)
    assert deleted.returncode == 0, deleted.stderr
    assert RunRegistry(source).list_runs() == []


COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_of_every_command_works(command):
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", *([command] if command else []), "--help"],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and "usage: python -m pipeline" in done.stdout, done.stderr


def test_an_unexpected_error_is_one_line_naming_the_command(tmp_path, monkeypatch, capsys):
    def broken(self):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(RunRegistry, "list_runs", broken)
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: 'runs' failed unexpectedly (RuntimeError: something nobody")
    assert "HEADLINE_LAB_DEBUG=1" in line
