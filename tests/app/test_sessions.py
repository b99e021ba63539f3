"""A server many visitors share: each browser session sees only its own jobs and private
runs, and a reload gives its state back (real pages, real tiny trainings, AppTest)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from apptest_support import FIXTURES, assert_clean, new_app, open_page, run_until, texts_of
from test_app_training import job_status, start_tiny_training, tiny_data_config

from pipeline.runs.registry import RunRegistry
from pipeline.sessions.book import SessionBook, hash_key
from ui.core.session import RESET_NOTICE, SESSION_PARAM, TEAM_MODE_ENV, UNKNOWN_LINK_NOTICE
from ui.core.state import DatasetSource

pytestmark = pytest.mark.training


@pytest.fixture
def upload() -> DatasetSource:
    """The small UCI fixture as if uploaded through the sidebar."""
    data = (FIXTURES / "uci_small.csv").read_bytes()
    return DatasetSource.from_upload("my_private_headlines.csv", data)


def _train(source: DatasetSource):
    at = new_app(source)
    at.session_state["data_config"] = tiny_data_config()
    start_tiny_training(at)
    run_until(at, lambda a: job_status(a) == "finished", timeout=120)
    return at


def test_a_run_on_an_uploaded_file_is_private_to_its_session(runs_dir, upload):
    """Found: a second visitor saw the first one's job on an uploaded file, and Results
    and Playground fell back to the newest run on the server, which was the other's."""
    owner = _train(upload)
    run_id = owner.session_state["active_run_id"]
    saved = RunRegistry(runs_dir).get(run_id)
    assert saved.run.owner == hash_key(owner.session_state["session_key"])
    open_page(owner, "runs")
    assert list(owner.dataframe[0].value["run id"]) == [run_id]

    visitor = new_app()
    for page in ("results", "playground", "runs"):
        open_page(visitor, page)
        assert_clean(visitor)
        assert run_id not in texts_of(visitor) and "my\\_private" not in texts_of(visitor)
        assert "No saved runs yet" in texts_of(visitor)
    assert "Active run: none yet" in texts_of(visitor)
    open_page(visitor, "train")
    assert "my\\_private" not in texts_of(visitor) and not visitor.expander[1:]


def test_team_mode_shares_every_run(runs_dir, upload, monkeypatch):
    owner = _train(upload)
    run_id = owner.session_state["active_run_id"]
    monkeypatch.setenv(TEAM_MODE_ENV, "1")
    visitor = new_app()
    open_page(visitor, "runs")
    assert list(visitor.dataframe[0].value["run id"]) == [run_id]


def test_runs_on_the_bundled_or_a_server_file_are_shared(runs_dir, small_source):
    owner = _train(small_source)
    run_id = owner.session_state["active_run_id"]
    assert RunRegistry(runs_dir).get(run_id).run.owner is None
    visitor = new_app()
    open_page(visitor, "runs")
    assert list(visitor.dataframe[0].value["run id"]) == [run_id]


def test_a_reload_gives_the_session_back_and_a_lost_one_says_so(runs_dir, upload):
    """Found: a page reload forgot the dataset, the settings and the active run."""
    first = _train(upload)
    key = first.session_state["session_key"]
    run_id = first.session_state["active_run_id"]
    first.session_state["keep.train.train.epochs"] = 7  # a setting the visitor changed
    open_page(first, "prepare")

    reloaded = new_app()  # a new browser session with the same address
    reloaded.query_params[SESSION_PARAM] = key
    open_page(reloaded, "results")
    assert_clean(reloaded)
    assert reloaded.session_state["active_run_id"] == run_id
    assert reloaded.session_state["dataset_source"].name == "my_private_headlines.csv"
    assert reloaded.sidebar.radio[0].value == "upload"  # the picker agrees with the dataset
    assert reloaded.session_state["data_config"] == tiny_data_config()
    open_page(reloaded, "train")
    reloaded.toggle(key="keep.train.edit_all").set_value(True).run()
    assert reloaded.number_input(key="keep.train.train.epochs").value == 7

    lost = new_app()
    # a key this server issued whose state it no longer holds (it restarted)
    lost.query_params[SESSION_PARAM] = SessionBook(runs_dir).issue()
    open_page(lost, "data")
    shown = " ".join(texts_of(lost).split())
    assert " ".join(RESET_NOTICE.split()) in shown
    assert "Active run: none yet" in texts_of(lost)


def test_a_link_with_a_key_this_server_never_issued_starts_a_new_session(runs_dir, upload):
    """Found (session fixation): any well-formed key in a link was adopted, so a link's
    author who made up the key read every private run the victim then trained."""
    planted = "x" * 24
    victim = new_app()
    victim.query_params[SESSION_PARAM] = planted
    open_page(victim, "data")
    shown = " ".join(texts_of(victim).split())
    assert " ".join(UNKNOWN_LINK_NOTICE.split()) in shown
    assert victim.session_state["session_key"] != planted
    # the address names the new key (AppTest gives one value as a string, several as a list)
    in_address = victim.query_params[SESSION_PARAM]
    in_address = in_address if isinstance(in_address, str) else in_address[0]
    assert in_address == victim.session_state["session_key"]
    # the victim trains on a private file, in the session the server gave it
    victim.session_state["dataset_source"] = upload
    victim.session_state["data_config"] = tiny_data_config()
    start_tiny_training(victim)
    run_until(victim, lambda a: job_status(a) == "finished", timeout=120)
    run_id = victim.session_state["active_run_id"]
    # the link's author, with the key they made up, sees nothing of it
    author = new_app()
    author.query_params[SESSION_PARAM] = planted
    open_page(author, "runs")
    assert run_id not in texts_of(author) and "my\\_private" not in texts_of(author)


def test_a_run_deleted_under_a_session_is_dropped_with_a_note_and_no_path(runs_dir, saved_run):
    """Found: a visitor whose active run another deleted saw the server's path in an error."""
    at = new_app()
    at.session_state["active_run_id"] = saved_run
    open_page(at, "results")
    assert_clean(at)
    RunRegistry(runs_dir).delete(saved_run)  # the administrator, from the CLI
    for page in ("results", "playground"):
        open_page(at, page)
        assert not at.exception
        assert str(runs_dir) not in texts_of(at)
    assert at.session_state["active_run_id"] is None
    open_page(at, "results")
    assert "No saved runs yet" in texts_of(at)


def test_a_shared_run_open_in_another_session_is_not_deleted_under_it(
    runs_dir, saved_run, monkeypatch
):
    """Found: any visitor could delete any shared run, the one another visitor used too."""
    user = new_app()
    user.session_state["active_run_id"] = saved_run
    open_page(user, "results")
    other = new_app()
    open_page(other, "runs")
    assert other.button(key="runs.delete").disabled  # shared: not a visitor's to delete
    monkeypatch.setenv(TEAM_MODE_ENV, "1")  # in team mode anyone may, but not under a user
    open_page(other, "runs")
    other.selectbox(key="runs.selected").set_value(saved_run).run()
    other.button(key="runs.delete").click().run()
    other.button(key="runs.delete_confirm").click().run()
    assert "open in 1 other session" in " ".join(e.value for e in other.error)
    assert RunRegistry(runs_dir).get(saved_run).complete
    open_page(user, "results")
    assert_clean(user)
    assert user.session_state["active_run_id"] == saved_run


def test_pages_stop_through_stop_run_only():
    """Found: a page that ended with a plain st.stop() (Results with no run yet) skipped the
    entry point's end-of-run bookkeeping, so the session was never remembered and its
    reload was reset. ui.core.session.stop_run() does the bookkeeping first."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in [
        root / "streamlit_app.py",
        *(root / "ui").glob("*.py"),
        *(root / "app_pages").glob("*.py"),
    ]:
        if path.name == "session.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#")[0]
            if re.search(r"(?<!`)\bst\.stop\(\)", code):  # not ``st.stop()`` in a docstring
                offenders.append(f"{path.relative_to(root)}:{number}")
    assert offenders == []


def test_label_review_decisions_survive_a_reload(runs_dir):
    """Found: 210 relabelling decisions were gone after a reload or in a new tab."""
    first = new_app()
    open_page(first, "data")
    first.session_state["review_decisions"] = {"review-key": {3: "drop", 17: "relabel:b"}}
    open_page(first, "prepare")
    again = new_app()
    again.query_params[SESSION_PARAM] = first.session_state["session_key"]
    open_page(again, "data")
    assert again.session_state["review_decisions"] == {"review-key": {3: "drop", 17: "relabel:b"}}


def test_a_stopped_run_below_the_active_one_does_not_replace_it(runs_dir, small_source, saved_run):
    """Found: a stopped run that scored below the active run became the active run."""
    metrics_path = runs_dir / saved_run / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["test_accuracy"] = 0.999  # the active run: better than any tiny stopped run
    metrics_path.write_text(json.dumps(metrics))
    at = new_app(small_source)
    at.session_state["active_run_id"] = saved_run
    at.session_state["data_config"] = tiny_data_config()
    start_tiny_training(at, **{"keep.train.train.epochs": 1000, "keep.train.train.patience": 1000})

    def has_epoch(a) -> bool:
        return job_status(a) == "running" and len(a.get("plotly_chart")) == 2

    run_until(at, has_epoch, timeout=120)
    (stop,) = [b for b in at.button if b.label == "Stop"]
    stop.click().run()
    run_until(at, lambda a: job_status(a) == "stopped", timeout=60)
    assert at.session_state["active_run_id"] == saved_run
    assert "which stays active" in texts_of(at)
    stopped = next(
        run.run_id for run in RunRegistry(runs_dir).list_runs() if run.status == "stopped"
    )
    next(b for b in at.button if b.label == "Make the stopped run active").click().run()
    assert at.session_state["active_run_id"] == stopped
