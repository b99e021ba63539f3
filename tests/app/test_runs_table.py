"""The Runs page's table shows what tells runs apart and marks the active run.

One tiny run is trained per module; two more run folders are made from it with other
settings written into their ``config.json`` and ``run.json`` (the table reads only
those), and a third folder is damaged.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from apptest_support import FIXTURES, assert_clean, new_app, open_page

from pipeline.core.config import SECTIONS
from pipeline.core.settings import declared
from pipeline.runs.registry import RunRegistry
from tests.tiny_training import EVERY_ROW, PRESET_SEQUENCE_SIZES, tiny_config
from ui.core.numbers import SHARE_COLUMN

pytestmark = pytest.mark.training

STORY_RUN = "0000aaaa0000aaaa"
CAPPED_RUN = "0000bbbb0000bbbb"
DAMAGED_RUN = "0000cccc0000cccc"


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with one tiny run (class weights, random split), trained once."""
    from pipeline.data import load_dataset
    from pipeline.training.train import train_run

    folder = tmp_path_factory.mktemp("trained") / "runs"
    config = tiny_config(
        **EVERY_ROW,
        **PRESET_SEQUENCE_SIZES,
        learning_rate=0.02,
        ngram_dim=8,
        ngram_tokens=500,
    )
    dataset = load_dataset(FIXTURES / "uci_small.csv")
    train_run(dataset, config, runs_dir=folder)
    return folder


def _variant(runs: Path, source: str, run_id: str, *, created_at: str, **changes: Any) -> None:
    """A copy of run ``source`` as ``run_id`` with other settings in its config.json
    (``data`` and ``model`` dicts merged in) and other ``run`` fields in its run.json."""
    target = runs / run_id
    shutil.copytree(runs / source, target)
    config = json.loads((target / "config.json").read_text())
    for section in ("data", "model"):
        config[section].update(changes.get(section, {}))
    (target / "config.json").write_text(json.dumps(config))
    info = json.loads((target / "run.json").read_text())
    info.update({"run_id": run_id, "created_at": created_at, **changes.get("run", {})})
    (target / "run.json").write_text(json.dumps(info))


@pytest.fixture
def three_runs(trained_runs: Path, runs_dir: Path) -> dict[str, str]:
    """The trained run, a story-split LSTM run, a stopped capped run and a damaged one."""
    shutil.copytree(trained_runs, runs_dir)
    (trained,) = [run.run_id for run in RunRegistry(runs_dir).list_runs()]
    _variant(
        runs_dir,
        trained,
        STORY_RUN,
        created_at="2020-01-02T03:04:05+00:00",
        data={"split": "story", "dedupe": "keep_first", "test_set": "balanced"},
        model={"family": "lstm"},
    )
    _variant(
        runs_dir,
        trained,
        CAPPED_RUN,
        created_at="2020-01-01T00:00:00+00:00",
        data={"balance": "cap", "cap_per_class": 40, "dedupe": "none"},
        run={"status": "stopped"},
    )
    shutil.copytree(runs_dir / trained, runs_dir / DAMAGED_RUN)
    (runs_dir / DAMAGED_RUN / "config.json").unlink()
    return {"trained": trained, "story": STORY_RUN, "capped": CAPPED_RUN}


def test_the_runs_table_tells_runs_apart(runs_dir, small_source, three_runs) -> None:
    at = new_app(small_source)
    at.session_state["active_run_id"] = STORY_RUN
    open_page(at, "runs")
    assert_clean(at)
    table = at.dataframe[0].value.set_index("run id")
    # newest first, the damaged folder last
    assert list(table.index) == [three_runs["trained"], STORY_RUN, CAPPED_RUN, DAMAGED_RUN]
    # the active run, and only it, is ticked
    assert table["active"].tolist() == [False, True, False, False]
    trained, story, capped, damaged = (table.loc[run_id] for run_id in table.index)
    assert (trained["model family"], story["model family"]) == ("ngram_bag", "lstm")
    assert trained["dataset"] == "uci_small.csv"
    # the data settings, in the declared choice labels' short form
    assert (trained["dedupe"], trained["balance"], trained["test set"], trained["split"]) == (
        "Drop every copy",
        "Class weights",
        "Stratified",
        "Stratified random",
    )
    assert (story["dedupe"], story["test set"], story["split"]) == (
        "Keep one copy",
        "Balanced",
        "Grouped by story",
    )
    assert (capped["dedupe"], capped["balance"]) == ("Keep duplicates", "Cap rows per class: 40")
    assert (trained["status"], capped["status"], damaged["status"]) == (
        "complete",
        "stopped",
        "damaged",
    )
    assert str(story["created"]).startswith("2020-01-02 03:04:05")
    assert 0 <= trained["accuracy"] <= 1 and 0 <= trained["macro F1"] <= 1
    assert damaged["split"] == "" and "config.json" in damaged["problem"]


def test_the_runs_table_has_readable_headers(runs_dir, small_source, three_runs) -> None:
    at = open_page(new_app(small_source), "runs")
    assert_clean(at)
    config = json.loads(at.dataframe[0].proto.columns)
    labels = {column: settings.get("label") for column, settings in config.items()}
    data = dict(declared(SECTIONS["data"]))
    assert labels["dedupe"] == data["dedupe"].label  # "Duplicated texts"
    assert labels["test set"] == data["test_set"].label
    assert config["split"]["help"] == data["split"].help
    assert labels["model family"] == "Model family"
    assert labels["macro F1"] == "Macro F1"
    # a share with one decimal, as on every page (ui.core.numbers.SHARE_COLUMN), not "95.74%"
    assert config["accuracy"]["type_config"]["format"] == "percent"
    assert config["accuracy"]["type_config"]["step"] == SHARE_COLUMN["step"]
    assert config["created"]["type_config"]["format"] == "YYYY-MM-DD HH:mm"
    assert config["active"]["type_config"]["type"] == "checkbox"
    # nothing is active yet in this session: no row is ticked
    assert not at.dataframe[0].value["active"].any()


def test_making_a_run_active_moves_the_tick(runs_dir, small_source, three_runs) -> None:
    at = open_page(new_app(small_source), "runs")
    at.selectbox(key="runs.selected").set_value(CAPPED_RUN).run()
    at.button(key="runs.make_active").click().run()
    assert_clean(at)
    table = at.dataframe[0].value.set_index("run id")
    assert table["active"][table["active"]].index.tolist() == [CAPPED_RUN]
