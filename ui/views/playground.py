"""The Playground page's glue: example sentences, the note on words the model does
not know, batch scoring of a CSV, and the one-click first training when no run exists.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, NoReturn

import pandas as pd
import streamlit as st

from pipeline.core.errors import HeadlineLabError
from pipeline.data import guess_columns, read_table
from pipeline.data.bundled import DEFAULT_DATA_PATH
from pipeline.evaluation.examples import examples_from_test_set
from ui.core import state
from ui.core.data import active_dataset, load_source
from ui.core.errors import report_errors
from ui.core.numbers import format_share
from ui.core.resources import get_job_manager, get_registry
from ui.core.runs import run_cache_key, usable_runs
from ui.core.session import stop_run
from ui.core.text import escape_markdown
from ui.views.train_progress import POLL_SECONDS, draw_snapshot, followed_job_id, live_panel
from ui.views.train_settings import PRESET_KEY, config_from_widgets, init_widgets, submit

if TYPE_CHECKING:
    from pipeline.data.dataset import Dataset
    from pipeline.jobs.job import JobSnapshot
    from pipeline.jobs.manager import JobManager
    from pipeline.runs.summary import SavedRun
    from pipeline.scoring.predictor import Predictor, ScoredColumns, WordCoverage, WordImportance

#: The seed notebook's example sentences (the first three verbatim), one click away.
EXAMPLES: tuple[str, ...] = (
    "The startup company is booming",
    "That was an incredible performance by the actors",
    "The health of the kid is poor",
    "The new smartphone has an amazing camera",
    "Stocks fell sharply after the earnings report",
)
#: Classes an answer draws a bar for, the likeliest (a 200-class model drew 200 bars).
MAX_PROBABILITY_BARS = 10
#: What the notebook's sentences are, said above them.
NOTEBOOK_EXAMPLES_CAPTION = "Try an example (the first three are the original notebook's):"
TEXT_KEY = "keep.playground.text"
BATCH_RESULT = "playground.batch_result"


def playground_examples(run_id: str) -> tuple[tuple[str, ...], str]:
    """The example texts offered above the headline box and the caption that says what
    they are: for a run trained on a file other than the bundled one, while that file is
    active, a few of its own test rows (one per class, the biggest classes first); else
    the notebook's news sentences (with the way to the run's own examples where it has
    them)."""
    try:
        # run.json alone first: this runs at every headline, and most runs are on the
        # bundled data; the whole run is read only for its own examples (then cached).
        dataset = get_registry().run_info(run_id).dataset
        if dataset == DEFAULT_DATA_PATH.name:
            return EXAMPLES, NOTEBOOK_EXAMPLES_CAPTION
        source = state.get_dataset_source()
        examples: tuple[str, ...] = ()
        if source.kind != "bundled":
            saved = get_registry().get(run_id)
            examples = _test_set_examples(
                run_cache_key(saved), source.cache_key, saved, load_source(source)
            )
    except HeadlineLabError:  # a run or a file that cannot be read: the notebook's, as ever
        return EXAMPLES, NOTEBOOK_EXAMPLES_CAPTION
    if examples:
        return examples, "Try a text from this run's test set (one of each of its biggest classes):"
    return EXAMPLES, (
        "Try an example (news sentences from the 2019 notebook; with this run's data, "
        f"{dataset}, active, its own test rows are offered instead):"
    )


@st.cache_data(max_entries=32, show_spinner=False)
def _test_set_examples(
    run_key: str, data_key: str, _saved: SavedRun, _dataset: Dataset
) -> tuple[str, ...]:
    try:
        return tuple(examples_from_test_set(_saved, _dataset))
    except HeadlineLabError:  # another file is active, or damaged predictions
        return ()


def set_example(text: str) -> None:
    """Button callback: put an example into the headline box."""
    st.session_state[TEXT_KEY] = text


@st.cache_data(show_spinner="Reading the file…", max_entries=4)
def _raw_table(digest: str, name: str, _data: bytes) -> tuple[pd.DataFrame, str | None]:
    raw = read_table(_data, name=name)
    text_col, _ = guess_columns(raw)
    return raw.frame, text_col


def read_batch_file(name: str, data: bytes) -> tuple[list[str], str | None]:
    """The uploaded file's columns and the guessed text column."""
    frame, guess = _raw_table(hashlib.sha256(data).hexdigest(), name, data)
    return [str(c) for c in frame.columns], guess


#: Explanations kept per server (typed headlines repeat: the examples, a demo's favourites).
EXPLAINED_KEPT = 512


@st.cache_data(show_spinner=False, max_entries=EXPLAINED_KEPT)
def _explain(
    run_id: str, created_at: str, text: str, _predictor: Predictor
) -> tuple[dict[str, float], list[WordImportance]]:
    return _predictor.explain(text)


def explain(
    predictor: Predictor, run_id: str, created_at: str, text: str
) -> tuple[dict[str, float], list[WordImportance]]:
    """``Predictor.explain(text)`` (probabilities by display name, most likely first, and
    each word's importance), cached per run (its creation date included) and text."""
    return _explain(run_id, created_at, text, predictor)


def score_batch(predictor: Predictor, name: str, data: bytes, text_col: str) -> pd.DataFrame:
    """Every row and column of the file, followed by the prediction for its ``text_col``
    (``Predictor.score_table``: the predicted class, its confidence, a ``note`` for rows
    not scored and one ``probability: <class>`` column per class)."""
    frame, _ = _raw_table(hashlib.sha256(data).hexdigest(), name, data)
    return predictor.score_table(frame, text_col)


def batch_columns(predictor: Predictor, name: str, data: bytes) -> ScoredColumns:
    """The names :func:`score_batch` gives the columns it adds to this file's."""
    frame, _ = _raw_table(hashlib.sha256(data).hexdigest(), name, data)
    return predictor.scored_columns(frame.columns)


def batch_column_config(columns: ScoredColumns) -> dict[str, object]:
    """Percentages for the confidence and probability columns of the scored table.

    No label is given: the grid shows each column's own name, as plain text (a class
    name comes from the training file)."""
    percent = {
        name: st.column_config.NumberColumn(format="percent")
        for name in (columns.confidence, *columns.probabilities.values())
    }
    return {
        **percent,
        columns.note: st.column_config.TextColumn(
            help="Why a row was not scored, or why its guess is weak."
        ),
    }


def batch_summary(frame: pd.DataFrame, columns: ScoredColumns, run_id: str) -> str:
    """One caption line: rows scored, and how many were not (empty text)."""
    unscored = int(frame[columns.predicted_code].eq("").sum())
    line = f"{len(frame) - unscored:,} of {len(frame):,} rows scored with run `{run_id}`"
    if unscored:
        line += f"; {unscored:,} had no words to score (see the note column)"
    return line + "."


# --- words the model does not know ----------------------------------------------------------
def confidence_text(probability: float) -> str:
    """The predicted class's probability under its name: ``"87.5% confident"``; never
    ``"100.0%"`` for a model that is not certain (``">99.9%"``)."""
    return f"{format_share(probability)} confident"


def probability_bars_caption(classes: int) -> str:
    """What the probability bars of a model of ``classes`` classes show."""
    if classes > MAX_PROBABILITY_BARS:
        return f"Probability of the {MAX_PROBABILITY_BARS} likeliest of {classes:,} classes"
    return "Probability of each class, most likely first"


def rest_of_classes_text(probabilities: dict[str, float]) -> str | None:
    """``"and 190 more classes, 23.4% together."``: the classes after the first
    :data:`MAX_PROBABILITY_BARS` of ``probabilities`` (most likely first), or ``None``."""
    rest = list(probabilities.values())[MAX_PROBABILITY_BARS:]
    if not rest:
        return None
    return f"and {len(rest):,} more classes, {format_share(sum(rest))} together."


def class_bar_text(name: str, probability: float) -> str:
    """Markdown: one class's bar label, ``"business · 12.3%"``; ``name`` (from the file) is
    escaped, and a probability that rounds to 0 or 100 % but is neither reads ``"<0.1%"``
    or ``">99.9%"``."""
    return f"{escape_markdown(name)} · {format_share(probability)}"


def coverage_note(coverage: WordCoverage) -> tuple[str, str] | None:
    """``(kind, safe Markdown)`` telling how much of the headline the model could read:
    ``("warning", ...)`` when none of its words was in the training vocabulary,
    ``("caption", ...)`` when some were not, ``None`` when all were."""
    if coverage.none_known:
        if coverage.reads_characters:
            return (
                "warning",
                "None of these words was in the training vocabulary: the model sees only "
                "pieces of their spelling, so treat this guess as a weak one, not a reading "
                "of the headline.",
            )
        return (
            "warning",
            "None of these words was in the training vocabulary, so this guess is the "
            "model's prior, not a reading of the headline.",
        )
    if coverage.some_unknown:
        n_unknown = len(coverage.words) - coverage.known_count
        listed = ", ".join(escape_markdown(word) for word in coverage.unknown)
        return (
            "caption",
            f":material/info: {n_unknown} of {len(coverage.words)} words "
            f"{'was' if n_unknown == 1 else 'were'} not in the training vocabulary and "
            f"count only as unknown words: {listed}.",
        )
    return None


def show_coverage_note(coverage: WordCoverage) -> None:
    """Draw :func:`coverage_note` (nothing when every word is known)."""
    note = coverage_note(coverage)
    if note is None:
        return
    kind, text = note
    if kind == "warning":
        st.warning(text, icon=":material/help:")
    else:
        st.caption(text)


# --- the first run, from the Playground -----------------------------------------------------
FIRST_RUN_BUTTON = "playground.first_run"


def offer_first_run() -> NoReturn:
    """No run yet: one button trains the Train page's settings (the default preset on a
    first visit) on the active dataset, and its progress is drawn here. Once the job has
    saved its run, that run becomes the active run and the page reruns to the headline
    box. Always ends the script run (``st.stop()`` or ``st.rerun()``)."""
    init_widgets()
    # The job manager (and its training process) starts only when there is a job of
    # this session to follow or one is asked for: opening the page stays light.
    manager = get_job_manager() if state.TRAIN_JOB_ID in st.session_state else None
    job_id = followed_job_id(manager) if manager is not None else None
    snap = manager.snapshot(job_id) if manager is not None and job_id is not None else None
    if manager is not None and snap is not None and not snap.done:
        st.info(
            "Training a first model. Its progress shows below; the headline box appears "
            "here when it is saved.",
            icon=":material/model_training:",
        )
        live_panel(manager, snap.job_id)
        _rerun_when_done(manager, snap.job_id)
        stop_run()
    if manager is not None and snap is not None:
        _finish(manager, snap)
    preset = str(st.session_state.get(PRESET_KEY))
    dataset = state.get_dataset_source().name
    st.info(
        "No saved runs yet. Train a first model here with one click, or pick settings "
        "on the Train page; either way it becomes the active run automatically.",
        icon=":material/info:",
    )
    st.caption(
        f"Trains the **{escape_markdown(preset)}** preset (the Train page's settings) on "
        f"the active dataset, **{escape_markdown(dataset)}**."
    )
    if st.button(
        "Train a first model", key=FIRST_RUN_BUTTON, type="primary", icon=":material/play_arrow:"
    ):
        with report_errors(keep_note="Nothing was started."):  # a bad setting, unreadable data
            config = config_from_widgets(state.get_data_config())
            data = active_dataset()
            submit(get_job_manager(), data, config, label=f"{config.preset} on {data.name}")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
    stop_run()


def _finish(manager: JobManager, snap: JobSnapshot) -> None:
    """A finished job of this session while no run shows: adopt its run and rerun when
    the run is there; otherwise (failed, stopped before an epoch, cancelled) say why."""
    if _adopt(snap):
        st.rerun()
    if not snap.run_id:  # a run it saved and that is gone since (deleted) is not news
        draw_snapshot(manager, snap)


def _adopt(snap: JobSnapshot) -> bool:
    """Make the job's run the active run, as the Train page does when it shows the end
    of a job, if that run is one this session can use; whether it was."""
    if not snap.run_id or not any(run.run_id == snap.run_id for run in usable_runs()):
        return False
    handled: set[int] = st.session_state.setdefault(state.HANDLED_JOBS, set())
    handled.add(snap.job_id)
    state.set_active_run_id(snap.run_id)
    return True


def _rerun_when_done(manager: JobManager, job_id: int) -> None:
    """Watch the job and rerun the whole page once it has ended: the live panel draws
    its end inside its own fragment, and only a page run can draw the headline box.
    After that rerun no fragment of this page runs on a timer any more."""

    @st.fragment(run_every=POLL_SECONDS)
    def watch() -> None:
        snap = manager.snapshot(job_id)
        if snap is None or snap.done:
            if snap is not None:
                _adopt(snap)
            st.rerun()

    watch()
