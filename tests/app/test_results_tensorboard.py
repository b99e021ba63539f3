"""Results gives the command that opens TensorBoard on the run's logs (issue 31, item 18).

Found on a walk through the app: every run writes TensorBoard logs, and the app never
said so or how to open them.
"""

from __future__ import annotations

import shlex
import shutil

from apptest_support import assert_clean, new_app, open_page

from pipeline.runs.files import LOGS_DIR
from pipeline.runs.registry import RunRegistry
from pipeline.runs.tensorboard import run_tensorboard_cli


def test_the_command_names_the_run_and_a_runs_folder_other_than_the_default(tmp_path) -> None:
    assert run_tensorboard_cli("0123abcd", None) == "python -m pipeline runs tensorboard 0123abcd"
    assert shlex.split(run_tensorboard_cli("0123abcd", tmp_path / "my runs")) == [
        "python", "-m", "pipeline", "runs", "tensorboard", "0123abcd",
        "--runs-dir", str(tmp_path / "my runs"),
    ]  # fmt: skip


def test_results_shows_the_tensorboard_command_for_its_run(
    runs_dir, small_source, saved_run
) -> None:
    assert (RunRegistry(runs_dir).path_of(saved_run) / LOGS_DIR).is_dir()
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    commands = [code.value for code in at.code]
    assert run_tensorboard_cli(saved_run, runs_dir) in commands, commands


def test_a_run_without_logs_says_it_has_none(runs_dir, small_source, saved_run) -> None:
    shutil.rmtree(RunRegistry(runs_dir).path_of(saved_run) / LOGS_DIR)
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    assert not [code.value for code in at.code if "tensorboard" in code.value]
    assert any("no TensorBoard logs" in caption.value for caption in at.caption)
