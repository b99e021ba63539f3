"""Training from the Train page, end to end, and the pages that use a saved run.

Real tiny models on the ~2,800-row fixture capped to a few dozen rows per
class: each training takes a few seconds on a CPU.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile

import pandas as pd
import pytest
from apptest_support import (
    APP,
    FIXTURES,
    ROOT,
    TINY_MODEL,
    assert_clean,
    figure_of,
    new_app,
    open_page,
    run_until,
    texts_of,
    tiny_data_config,
    unescape,
    values,
)

from pipeline.runs.registry import RunRegistry
from pipeline.scoring.predictor import Predictor
from pipeline.sessions.book import hash_key
from ui.core.numbers import format_share
from ui.core.session import TEAM_MODE_ENV

pytestmark = pytest.mark.training


def set_tiny_model(at, **extra) -> None:
    """Open every setting's field, as a visitor would, and type the tiny model in."""
    if not at.toggle(key="keep.train.edit_all").value:
        at.toggle(key="keep.train.edit_all").set_value(True).run()
    for key, value in {**TINY_MODEL, **extra}.items():
        at.number_input(key=key).set_value(value)


def job_status(at) -> str:
    """'finished' / 'cached' / 'stopped' / 'queued' / 'running' / '' from the panel."""
    text = texts_of(at)
    for word, marker in (
        ("cached", "loaded from cache"),
        ("finished", ": finished."),
        ("stopped", ": stopped"),
        ("queued", "waiting its turn"),
        ("failed", "Training failed"),
    ):
        if marker in text:
            return word
    return "running" if any("Epoch" in str(p.proto.text) for p in at.get("progress")) else ""


def start_tiny_training(at, **extra):
    open_page(at, "train")
    set_tiny_model(at, **extra)
    at.run()
    at.button(key="train.start").click().run()
    assert_clean(at)
    return at


def test_training_from_train_page_to_results_and_runs(runs_dir, small_source):
    at = new_app(small_source)
    at.session_state["data_config"] = tiny_data_config()
    start_tiny_training(at)
    run_until(at, lambda a: job_status(a) == "finished", timeout=120)
    assert_clean(at)
    run_id = at.session_state["active_run_id"]
    assert run_id and RunRegistry(runs_dir).exists(run_id)
    # the active run named as people read it (date, preset, dataset, accuracy, short
    # id), not as a bare 16-character hash
    active = next(c.value for c in at.sidebar.get("caption") if c.value.startswith("Active run"))
    assert " · fast · " in active and f"· {run_id[:8]}" in active and "acc " in active
    assert run_id not in active
    assert len(at.get("plotly_chart")) == 2  # accuracy and loss curves

    open_page(at, "results")
    assert_clean(at)
    saved = RunRegistry(runs_dir).get(run_id).metrics
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == format_share(saved.test_accuracy)
    assert metrics["Baseline accuracy"] == format_share(saved.baseline.test_accuracy)
    assert at.selectbox(key="results.run").value == run_id

    open_page(at, "runs")
    assert_clean(at)
    table = at.dataframe[0].value
    assert list(table["run id"]) == [run_id]

    # Same data, same settings: loaded from the cache at once; then train again anyway.
    open_page(at, "train")
    at.button(key="train.start").click().run()
    run_until(at, lambda a: job_status(a) == "cached", timeout=60)
    (force,) = [b for b in at.button if b.label == "Train again anyway"]
    force.click().run()
    run_until(at, lambda a: job_status(a) == "finished", timeout=120)
    assert at.session_state["active_run_id"] == run_id  # same id, trained afresh


def test_continue_training_a_saved_run(runs_dir, small_source, saved_run):
    parent_epochs = len(RunRegistry(runs_dir).get(saved_run).history)
    at = new_app(small_source)
    open_page(at, "train")
    set_tiny_model(at)
    assert not at.selectbox  # the section is drawn only while open
    at.session_state["train.continue_open"] = True  # the visitor opens it
    at.run()
    at.selectbox(key="train.parent").set_value(saved_run)
    at.number_input(key="keep.train.more_epochs").set_value(1)
    at.run()
    at.button(key="train.continue").click().run()
    assert_clean(at)
    run_until(at, lambda a: job_status(a) == "finished", timeout=120)
    child = at.session_state["active_run_id"]
    assert child != saved_run
    saved = RunRegistry(runs_dir).get(child)
    assert saved.config.parent_run_id == saved_run
    assert len(saved.history) == parent_epochs + 1


def test_second_training_waits_its_turn_and_stop_keeps_best_epoch(runs_dir, small_source):
    first = new_app(small_source)
    first.session_state["data_config"] = tiny_data_config()
    start_tiny_training(
        first, **{"keep.train.train.epochs": 1000, "keep.train.train.patience": 1000}
    )  # long enough to be seen running with an epoch done, even on a busy machine
    second = new_app(small_source)
    second.session_state["data_config"] = tiny_data_config(cap=30)
    start_tiny_training(second)
    assert job_status(second) == "queued"
    seen = texts_of(second)
    assert "1 training ahead of yours" in seen
    # the other visitor's job shows only as a count: no Stop, no label, no job list
    assert "Other visitors have 1 job (trainings or label reviews) queued or running" in seen
    assert not [b for b in second.button if b.label == "Stop"]
    assert "Job 1" not in seen and not [e for e in second.expander if "trainings" in e.label]
    first.run()
    assert "Job 2" not in texts_of(first) and [b for b in first.button if b.label == "Stop"]

    # Stop the first one once an epoch is done; it keeps its best epoch.
    def has_epoch(at) -> bool:
        return job_status(at) == "running" and len(at.get("plotly_chart")) == 2

    run_until(first, has_epoch, timeout=120)
    (stop,) = [b for b in first.button if b.label == "Stop"]
    stop.click().run()
    run_until(first, lambda a: job_status(a) == "stopped", timeout=60)
    run_id = first.session_state["active_run_id"]
    saved = RunRegistry(runs_dir).get(run_id)
    assert saved.run.status == "stopped"
    assert 1 <= len(saved.history) < 1000

    # The queued one then runs to completion.
    run_until(second, lambda a: job_status(a) == "finished", timeout=120)


def test_playground_predicts_with_a_saved_run(runs_dir, small_source, saved_run):
    at = new_app(small_source)
    at.session_state["active_run_id"] = saved_run
    open_page(at, "playground")
    assert_clean(at)
    # the run's own test rows, one per class (test_playground_more checks which)
    examples = [
        unescape(b.label) for b in at.button if b.key and b.key.startswith("playground.example")
    ]
    assert len(examples) == 4
    at.button(key="playground.example.0").click().run()
    assert_clean(at)
    assert at.text_input(key="keep.playground.text").value == examples[0]
    predictor = Predictor.from_run(RunRegistry(runs_dir), saved_run)
    expected = predictor.predict_one(examples[0])  # display name -> probability, top first
    predicted = {m.label: m.value for m in at.metric}["Predicted category"]
    assert predicted == next(iter(expected))
    bars = at.get("progress")  # one per class, most likely first
    assert [unescape(bar.proto.text) for bar in bars] == [
        f"{name} · {format_share(probability)}" for name, probability in expected.items()
    ]
    assert sum(bar.proto.value for bar in bars) == pytest.approx(100, abs=4)  # whole %
    # the detailed chart: one bar per word, in text order
    at.toggle(key="keep.playground.importance_chart").set_value(True).run()
    assert_clean(at)
    (chart,) = at.get("plotly_chart")
    importance = predictor.word_importance(examples[0])
    bars_of_words = figure_of(chart).data[0]
    assert list(bars_of_words.x) == [f"{i}. {w.word}" for i, w in enumerate(importance, 1)]
    assert values(bars_of_words.y) == pytest.approx([w.importance for w in importance], abs=1e-5)
    at.toggle(key="keep.playground.importance_chart").set_value(False).run()

    # Markdown, HTML and LaTeX in the text are shown as typed, never interpreted.
    tricky = "<b>Stocks</b> *soar* [link](javascript:alert(1)) $5 :fire: `code`"
    at.text_input(key="keep.playground.text").set_value(tricky).run()
    assert_clean(at)
    (rendered,) = [m.value for m in at.markdown if "Stocks" in m.value]
    for raw in ("<b>", "*soar*", "[link]", "$5", ":fire:", "`code`"):
        assert not re.search(r"(?<!\\)" + re.escape(raw), rendered), raw
    for escaped in (r"\<b\>", r"\*soar\*", r"\[link\]", r"\$5", r"\:fire\:", r"\`code\`"):
        assert escaped in rendered

    # A text without any word gets a clear message.
    at.text_input(key="keep.playground.text").set_value("?!").run()
    assert not at.exception
    assert any("at least one word" in e.value for e in at.error)


def test_playground_scores_a_csv(runs_dir, small_source, saved_run):
    at = new_app(small_source)
    at.session_state["active_run_id"] = saved_run
    open_page(at, "playground")
    data = (FIXTURES / "custom_headlines.csv").read_bytes()
    at.get("file_uploader")[0].set_value(("custom.csv", data, "text/csv")).run()
    assert_clean(at)
    assert at.selectbox(key="playground.batch_col").value == "headline"
    at.button(key="playground.batch_go").click().run()
    assert_clean(at)
    frame = at.dataframe[0].value
    predictor = Predictor.from_run(RunRegistry(runs_dir), saved_run)
    original = list(pd.read_csv(FIXTURES / "custom_headlines.csv").columns)
    added = predictor.scored_columns(original).all
    assert list(frame.columns) == [*original, *added]  # the file's columns kept, in order
    headlines = pd.read_csv(FIXTURES / "custom_headlines.csv")["headline"].tolist()
    expected = predictor.predict(headlines)
    assert list(frame["headline"]) == headlines
    assert list(frame["predicted_code"]) == list(expected["label"])
    assert len(at.get("download_button")) == 1


def test_results_page_views(runs_dir, small_source, saved_run):
    at = new_app(small_source)
    open_page(at, "results")  # no active run yet: the newest run is shown and made active
    assert_clean(at)
    assert at.session_state["active_run_id"] == saved_run
    # curves x2, baseline, confusion matrix, accuracy per week (no publisher of the tiny
    # run has 30 test rows: a note instead of its chart), comparison curves x2, bars
    assert len(at.get("plotly_chart")) == 8
    assert any(info.value.startswith("No value of PUBLISHER") for info in at.info)
    control = at.get("button_group")[0]
    control.set_value("normalised").run()
    assert_clean(at)
    saved = RunRegistry(runs_dir).get(saved_run)
    mistakes = list(saved.metrics.misclassified)
    misclassified = next(t for t in at.dataframe if "predicted class" in t.value.columns).value
    # every mistake of the test set (the tiny run's metrics.json keeps them all)
    assert sorted(misclassified["text"]) == sorted(row["text"] for row in mistakes)
    true_code = mistakes[0]["true"]
    at.multiselect(key="results.true_filter").set_value([saved.labels.name(true_code)]).run()
    assert_clean(at)
    shown = next(t for t in at.dataframe if "predicted class" in t.value.columns).value
    assert sorted(shown["text"]) == sorted(
        row["text"] for row in mistakes if row["true"] == true_code
    )


def test_runs_page_make_active_export_import_delete(runs_dir, small_source, saved_run):
    registry = RunRegistry(runs_dir)
    archive = registry.export_zip(saved_run)
    at = new_app(small_source)
    open_page(at, "runs")
    assert_clean(at)
    assert len(at.get("download_button")) == 1
    at.button(key="runs.make_active").click().run()
    assert at.session_state["active_run_id"] == saved_run
    # a shared run (the bundled data's, the CLI's) is not a visitor's to delete
    assert at.button(key="runs.delete").disabled

    # a broken archive is refused with a message
    uploader = at.get("file_uploader")[0]
    uploader.set_value(("broken.zip", b"not a zip at all", "application/zip")).run()
    at.button(key="runs.import").click().run()
    assert not at.exception
    assert any("not a zip archive" in e.value for e in at.error)

    # the exported archive comes back as this session's own run, the active run
    at.get("file_uploader")[0].set_value(("run.zip", archive, "application/zip")).run()
    at.button(key="runs.import").click().run()
    assert_clean(at)
    imported = at.session_state["active_run_id"]
    assert imported != saved_run and registry.exists(imported)
    assert registry.get(imported).run.owner == hash_key(at.session_state["session_key"])
    assert "Imported run" in texts_of(at)

    # delete asks first, then removes the run and clears the active run
    at.selectbox(key="runs.selected").set_value(imported).run()
    at.button(key="runs.delete").click().run()
    assert any("for good" in w.value for w in at.warning)
    assert registry.exists(imported)
    at.button(key="runs.delete_confirm").click().run()
    assert_clean(at)
    assert not registry.exists(imported) and registry.exists(saved_run)
    assert at.session_state["active_run_id"] is None


def test_a_damaged_run_breaks_no_page_and_can_be_deleted_from_the_app(
    runs_dir, small_source, saved_run, monkeypatch
):
    """Found: importing an archive whose config.json is [] replaced a good run; then the
    Runs, Results, Playground and Train pages raised AttributeError in every session,
    and the bad run could not be deleted from the app."""
    registry = RunRegistry(runs_dir)
    archive = registry.export_zip(saved_run)
    at = new_app(small_source)
    open_page(at, "runs")
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as zf:
        for name, data in {**members, "config.json": b"[]"}.items():
            zf.writestr(name, data)
    at.get("file_uploader")[0].set_value(("bad.zip", forged.getvalue(), "application/zip")).run()
    at.button(key="runs.import").click().run()
    assert not at.exception
    assert any("must be a JSON object" in e.value for e in at.error)  # (Markdown-escaped)
    assert registry.get(saved_run).complete  # the good run is untouched

    # the same damage on disk: every page still works, the run is listed as damaged
    (runs_dir / saved_run / "config.json").write_text("[]")
    for page in ("data", "prepare", "train", "results", "playground", "runs"):
        other = new_app(small_source)
        other.session_state["active_run_id"] = saved_run
        open_page(other, page)
        assert not other.exception, (page, [e.value for e in other.exception])
    open_page(at, "runs")
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["status"]) == ["damaged"] and "config.json" in table["problem"][0]
    assert any("damaged" in w.value for w in at.warning)
    at.selectbox(key="runs.selected").set_value(saved_run).run()
    assert at.button(key="runs.delete").disabled  # a shared run: the administrator's
    monkeypatch.setenv(TEAM_MODE_ENV, "1")  # ...or anyone's in team mode
    at.run()
    at.button(key="runs.delete").click().run()
    at.button(key="runs.delete_confirm").click().run()
    assert not at.exception
    assert not registry.exists(saved_run) and registry.list_runs() == []


#: For the checks of what the pages import: with a run to try, the server imports Keras in
#: the background once a page is over (``test_model_libraries_warm_up.py`` checks that);
#: here it is switched off, so that only what the pages themselves import is seen.
PAGES_ONLY = """import ui.core.resources
ui.core.resources.import_model_libraries_in_background = lambda: None"""


def test_results_page_with_a_run_does_not_import_tensorflow(runs_dir, saved_run):
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
{PAGES_ONLY}
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(APP)!r}, default_timeout=60)
for page in ("results", "runs"):
    at.switch_page(f"app_pages/{{page}}.py").run()
    assert not at.exception, [e.value for e in at.exception]
print("TF" if "tensorflow" in sys.modules else "NO-TF")
"""
    env = {"HEADLINE_LAB_RUNS_DIR": str(runs_dir), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "NO-TF"


def test_the_train_page_opens_without_tensorflow_or_pandas_in_the_server(runs_dir):
    """The Train page's first run on a cold server is on its visitor's critical path: it
    imports neither TensorFlow (the training process does) nor pandas (a third of a
    second; the pages that read data do)."""
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from streamlit.testing.v1 import AppTest
before = "pandas" in sys.modules
at = AppTest.from_file({str(APP)!r}, default_timeout=60)
at.switch_page("app_pages/train.py").run()
assert not at.exception, [e.value for e in at.exception]
assert at.button(key="train.start")
print(before, "tensorflow" in sys.modules, "pandas" in sys.modules)
"""
    env = {"HEADLINE_LAB_RUNS_DIR": str(runs_dir), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "False False False"


def test_training_from_the_train_page_imports_no_tensorflow_in_the_pages(runs_dir, small_source):
    """Fresh interpreter: the Train page opens, trains and shows the result while the
    server's pages never import TensorFlow (the worker process does)."""
    script = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(ROOT / "tests" / "app")!r})
{PAGES_ONLY}
from streamlit.testing.v1 import AppTest
from apptest_support import path_source, tiny_data_config
at = AppTest.from_file({str(APP)!r}, default_timeout=60)
at.session_state["dataset_source"] = path_source({small_source.path!r})
at.session_state["data_config"] = tiny_data_config()
at.switch_page("app_pages/train.py").run()
at.toggle(key="keep.train.edit_all").set_value(True).run()
for key, value in {TINY_MODEL!r}.items():
    at.number_input(key=key).set_value(value)
at.run()
at.button(key="train.start").click().run()
def active():
    return at.session_state["active_run_id"] if "active_run_id" in at.session_state else None
deadline = time.monotonic() + 180
while time.monotonic() < deadline and active() is None:
    time.sleep(0.5)
    at.run()
assert not at.exception, [e.value for e in at.exception]
print("RUN", active())
print("TF" if "tensorflow" in sys.modules else "NO-TF", "ray" in sys.modules)
"""
    env = {"HEADLINE_LAB_RUNS_DIR": str(runs_dir), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-2].startswith("RUN ") and lines[-2] != "RUN None", result.stderr[-3000:]
    assert RunRegistry(runs_dir).exists(lines[-2].split()[1])
    assert lines[-1] == "NO-TF False"  # nor Ray (an optional extra)


def test_results_name_the_test_set_show_balanced_accuracy_and_warn_of_thin_classes(
    runs_dir, small_source, saved_run
):
    """The tiny run holds out 25 % of 40 rows per class (10 test rows each): the page says
    which test set that is, shows balanced accuracy beside accuracy and macro F1, and warns
    that 10 rows per class are too few to trust a class's scores."""
    saved = RunRegistry(runs_dir).get(saved_run)
    supports = {code: row.support for code, row in saved.metrics.per_class.items()}
    assert set(supports.values()) == {10}
    at = new_app(small_source)
    open_page(at, "results")
    assert_clean(at)
    metric = next(m for m in at.metric if m.label == "Balanced accuracy")
    assert metric.value == format_share(saved.metrics.balanced_accuracy)
    assert saved.metrics.baseline.balanced_accuracy is not None
    assert {m.label for m in at.metric} >= {"Test accuracy", "Macro F1", "Balanced accuracy"}
    captions = " ".join(c.value for c in at.caption)
    assert (
        f"Test set: **stratified**, {sum(supports.values())} rows (25% of every class's rows)"
        in (captions)
    )
    (warning,) = [unescape(w.value) for w in at.warning if "test rows" in w.value]
    assert warning.startswith("4 classes have fewer than 30 test rows: ")
    for name in saved.labels.names.values():
        assert f"{name} (10)" in warning
    # the advice fits the run: its classes were capped at 40 rows, its test set stratified
    assert "a higher **Cap per class**" in warning and "**Test set**" not in warning
