"""A link to a run (issue 34): Results opens ``?run=RUN_ID`` when this session may see
the run, says only "This run is not available to you." otherwise, keeps the address
naming the run it shows, and offers a "Copy link" without the session key.

Real pages (AppTest) over copies of the session's tiny run (``saved_run``): a copy made
private to another session (its ``run.json`` owner set to another session's id) and one
private to the test's own session. Before issue 34 the page ignored ``?run=`` and offered
no link, so each AppTest below fails on that code; each docstring says where.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from apptest_support import assert_clean, new_app, open_page, sidebar_text, texts_of
from streamlit.testing.v1 import AppTest

from pipeline.runs.registry import RunRegistry
from pipeline.sessions.book import hash_key
from ui.core.numbers import format_share
from ui.core.session import SESSION_PARAM
from ui.views.run_link import (
    KEY_LEFT_OUT,
    NOT_AVAILABLE,
    PRIVATE_NOTE,
    SHARED_NOTE,
    is_run_id,
    link_to_open,
    run_link,
    sharing_note,
)

#: A run id no run has.
MISSING = "0123456789abcdef"
#: The newer copy of the session's run: the picker's first choice, so a link to the
#: older one shows only when the link is followed.
NEWER = "1" * 16
#: A copy private to another session.
OTHERS_PRIVATE = "2" * 16
#: The address a browser reports on the Results page (``st.context.url``).
PAGE_URL = "http://lab.example:8501/results"


def _copy_run(runs_dir: Path, run_id: str, new_id: str, **run_fields: object) -> str:
    """A copy of run ``run_id`` saved as ``new_id`` with ``run.json`` fields changed."""
    shutil.copytree(runs_dir / run_id, runs_dir / new_id)
    path = runs_dir / new_id / "run.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document.update(run_id=new_id, **run_fields)
    path.write_text(json.dumps(document), encoding="utf-8")
    return new_id


@pytest.fixture
def runs(runs_dir: Path, saved_run: str) -> dict[str, str]:
    """``{"older", "newer", "private"}``: the shared tiny run, a newer shared copy of it,
    and a copy private to another session, with another dataset name."""
    _copy_run(runs_dir, saved_run, NEWER, created_at="2999-01-01T00:00:00+00:00")
    _copy_run(
        runs_dir,
        saved_run,
        OTHERS_PRIVATE,
        owner=hash_key("another visitor's session key"),
        dataset="someone_elses_headlines.csv",
    )
    return {"older": saved_run, "newer": NEWER, "private": OTHERS_PRIVATE}


def _open_link(at: AppTest, param: str) -> AppTest:
    """Open Results with ``?run=param`` in the session ``at`` (as a link would)."""
    at.query_params["run"] = param
    return open_page(at, "results")


def _main_texts(at: AppTest) -> list[str]:
    """Every text element of the page body (no sidebar), in order."""
    kinds = ("title", "warning", "info", "error", "success", "markdown", "caption", "code")
    return [f"{kind}: {el.value}" for kind in kinds for el in at.main.get(kind)]


def _links(at: AppTest) -> list[str]:
    return [code.value for code in at.code if "run=" in code.value]


# --- the pure helpers ---------------------------------------------------------------


def test_run_link_is_the_results_page_with_the_run_and_nothing_else():
    run_id = "0123456789abcdef"
    assert run_link(PAGE_URL, run_id) == f"{PAGE_URL}?run={run_id}"
    # whatever the address carries besides, the session key above all, is dropped
    noisy = "https://me:secret@lab.example/results/?session=KEY&embed=true#top"
    assert run_link(noisy, run_id) == f"https://lab.example/results?run={run_id}"
    # under a base path, and from an address without the page's path
    assert run_link("https://host/lab/results", run_id) == f"https://host/lab/results?run={run_id}"
    assert run_link("http://[::1]:8501", run_id) == f"http://[::1]:8501/results?run={run_id}"
    assert run_link(None, run_id) == f"/results?run={run_id}"
    with pytest.raises(ValueError):
        run_link(PAGE_URL, "<b>x</b>")


def test_a_link_is_followed_once_per_visit():
    assert link_to_open(None, None) is None
    assert link_to_open("0123456789abcdef", None) == "0123456789abcdef"
    assert link_to_open("0123456789abcdef", "0123456789abcdef") is None  # the page's own
    assert link_to_open("**x**", "0123456789abcdef") == "**x**"  # said to be unavailable
    assert [is_run_id(text) for text in ("0123456789abcdef", "0123456789ABCDEF", "", None)] == [
        True,
        False,
        False,
        False,
    ]
    assert sharing_note(None, team=False) == SHARED_NOTE
    assert sharing_note("abc", team=False) == PRIVATE_NOTE
    assert sharing_note("abc", team=True) == SHARED_NOTE


# --- the page -----------------------------------------------------------------------


def test_a_link_to_a_run_this_session_may_see_opens_it(runs_dir, small_source, runs):
    """Before, the page ignored ``?run=``: it showed the newest run (the picker's first
    choice), so the picker's value is the newer run and the first assertion fails."""
    at = _open_link(new_app(small_source), runs["older"])
    assert_clean(at)
    assert at.selectbox(key="results.run").value == runs["older"]
    assert at.session_state["active_run_id"] == runs["older"]  # Playground follows it
    assert at.query_params["run"] == runs["older"]
    assert runs["older"][:8] in sidebar_text(at)
    assert NOT_AVAILABLE not in texts_of(at)
    open_page(at, "playground")
    assert at.selectbox(key="playground.run").value == runs["older"]


def test_a_missing_a_malformed_and_another_session_s_private_run_read_the_same(
    runs_dir, small_source, runs
):
    """Each link says exactly "This run is not available to you." and the same page
    besides; nothing of the private run (id, dataset, accuracy) shows, nor any markup of
    a malformed address. Before, every link showed the newest shared run instead."""
    at = open_page(new_app(small_source), "results")
    active = at.session_state["active_run_id"]
    private = RunRegistry(runs_dir).get(runs["private"])
    accuracy = format_share(private.metrics.test_accuracy)
    pages = {}
    for param in (MISSING, runs["private"], "<b>x</b>", "**x**", runs["private"].upper(), ""):
        at = _open_link(at, param)
        assert_clean(at)
        pages[param] = _main_texts(at)
        assert [w.value for w in at.warning] == [NOT_AVAILABLE], param
        shown = texts_of(at) + sidebar_text(at)
        assert runs["private"][:8] not in shown and "someone" not in shown
        assert "<b>" not in shown and "**x**" not in shown and "\\*\\*x" not in shown
        assert not at.metric and not at.get("plotly_chart")  # no results at all
        assert at.session_state["active_run_id"] == active  # the session's own run stays
        assert at.query_params["run"] == param  # the address says what was typed
    assert len({tuple(texts) for texts in pages.values()}) == 1, pages
    assert accuracy not in "\n".join(pages[runs["private"]])


def test_leaving_an_unavailable_link_shows_the_session_s_runs(runs_dir, small_source, runs):
    """Before, there was no such page and no such button (``at.button`` has no key
    ``results.drop_link``)."""
    at = _open_link(new_app(small_source), runs["private"])
    at.button(key="results.drop_link").click().run()
    assert_clean(at)
    assert NOT_AVAILABLE not in texts_of(at)
    shown = at.selectbox(key="results.run").value
    assert shown in (runs["older"], runs["newer"])
    assert at.query_params["run"] == shown


def test_a_private_run_opens_by_link_in_its_own_session_only(runs_dir, small_source, runs):
    """A run private to this session opens from a link in this session (its key in the
    address, as after a reload); the same link in a new session is not available.
    Before, the first assertion fails: the page showed the newest shared run."""
    owner = open_page(new_app(small_source), "data")
    key = owner.session_state["session_key"]
    own = _copy_run(runs_dir, runs["older"], "3" * 16, owner=hash_key(key))
    again = new_app(small_source)
    again.query_params[SESSION_PARAM] = key
    again = _open_link(again, own)
    assert_clean(again)
    assert again.selectbox(key="results.run").value == own
    assert PRIVATE_NOTE in texts_of(again)

    stranger = _open_link(new_app(small_source), own)
    assert [w.value for w in stranger.warning] == [NOT_AVAILABLE]
    assert own[:8] not in texts_of(stranger) + sidebar_text(stranger)


def test_copy_link_names_the_run_and_never_the_session(runs_dir, small_source, runs):
    """Before, Results had no "Copy link" control: no code block holds ``run=``."""
    at = new_app(small_source)
    at.context = {"url": PAGE_URL}
    at = _open_link(at, runs["older"])
    assert_clean(at)
    assert _links(at) == [f"{PAGE_URL}?run={runs['older']}"]
    key = at.session_state["session_key"]
    assert at.query_params[SESSION_PARAM] == key  # the address bar carries it...
    assert "session=" not in _links(at)[0] and key not in _links(at)[0]  # ...the link not
    text = texts_of(at)
    assert " ".join(KEY_LEFT_OUT.split()) in " ".join(text.split())
    assert SHARED_NOTE in text
    # the link follows the picked run
    at.selectbox(key="results.run").set_value(runs["newer"]).run()
    assert _links(at) == [f"{PAGE_URL}?run={runs['newer']}"]


def test_a_later_pick_wins_and_the_address_names_it(runs_dir, small_source, runs):
    """After a link opened a run, a pick in the picker (or on Playground) is what shows,
    and the address's ``run`` names it; the link's stale ``run`` (AppTest keeps the
    address across pages; a browser's Back button brings it back) does not reopen the
    linked run. Before, the page never wrote ``run`` (the third assertion fails)."""
    at = _open_link(new_app(small_source), runs["older"])
    at.selectbox(key="results.run").set_value(runs["newer"]).run()
    assert_clean(at)
    assert at.selectbox(key="results.run").value == runs["newer"]
    assert at.query_params["run"] == runs["newer"]
    at.run()  # a rerun keeps the pick
    assert at.selectbox(key="results.run").value == runs["newer"]

    at.query_params["run"] = runs["newer"]
    open_page(at, "playground")
    at.selectbox(key="playground.run").set_value(runs["older"]).run()
    open_page(at, "results")  # with the address's stale run=<newer>
    assert_clean(at)
    assert at.selectbox(key="results.run").value == runs["older"]
    assert at.query_params["run"] == runs["older"]

    # opening the app on the address (a reload) shows what it names: the later pick
    reloaded = new_app(small_source)
    reloaded.query_params.update(at.query_params)
    open_page(reloaded, "results")
    assert reloaded.selectbox(key="results.run").value == runs["older"]
    assert reloaded.session_state["active_run_id"] == runs["older"]


def test_a_link_to_a_damaged_run_says_so_only_to_a_session_that_may_see_it(
    runs_dir, small_source, runs
):
    """A shared run with a document missing says it is damaged (its own words, as the
    Runs page lists it); another session's damaged private run is just not available.
    Before, both links showed the newest shared run (no error, no warning)."""
    damaged = _copy_run(runs_dir, runs["older"], "4" * 16)
    (runs_dir / damaged / "metrics.json").unlink()
    at = _open_link(new_app(small_source), damaged)
    assert not at.exception
    assert [e.value for e in at.error] and "damaged" in at.error[0].value
    assert not at.warning and not at.metric

    hidden = _copy_run(runs_dir, runs["private"], "5" * 16)
    (runs_dir / hidden / "metrics.json").unlink()
    at = _open_link(at, hidden)
    assert_clean(at)
    assert [w.value for w in at.warning] == [NOT_AVAILABLE]
    assert "damaged" not in texts_of(at)
