"""The Label review page's parts: its settings, the background job and its panel, the
ranked suspects with a decision per row, and the corrected file.

The review itself is :mod:`pipeline.review.run`, run as a background job
(:mod:`pipeline.jobs.review_jobs`) in the training process; a finished review is read from
its cache (``runs/.reviews``), once per server (``st.cache_resource``). Decisions
(keep, relabel, drop) live in session state per review, so they survive page
switches; :func:`pipeline.review.corrections.corrected_table` applies them to the file.
Every text shown comes from the file: it goes into data tables and plain captions,
never Markdown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from pipeline.core.config import DataConfig, config_hash
from pipeline.core.settings import declared
from pipeline.data import Dataset, fingerprint
from pipeline.evaluation.paired import PairedComparison
from pipeline.jobs.manager import JobManager
from pipeline.jobs.review_jobs import ComparisonJob
from pipeline.review.agreement import describe_agreement
from pipeline.review.cache import cached_review, review_key, reviews_dir
from pipeline.review.corrections import ACTIONS, corrected_table, rows_below
from pipeline.review.result import PROBABILITY_PREFIX, LabelReview
from pipeline.review.settings import ReviewSettings
from ui.core import state
from ui.core.numbers import format_count, format_points, format_share
from ui.core.resources import runs_dir
from ui.core.session import session_id
from ui.core.settings_widgets import init_value, setting_widget
from ui.core.text import escape_markdown

#: Widget keys of the review settings (``keep.`` keys survive page switches).
SETTING_KEY = "keep.review.{}"
#: Session state: the review job this session follows (remembered for a reload).
REVIEW_JOB_ID = state.REVIEW_JOB_ID
#: Session state: decisions per review key, ``{key: {position: action}}`` (remembered).
DECISIONS = state.REVIEW_DECISIONS
#: Seconds between two redraws of the running review's panel.
POLL_SECONDS = 1.0
#: Suspects listed at first, and the most the table offers.
SHOWN_SUSPECTS, MAX_SHOWN_SUSPECTS = 100, 2000


def settings_widgets() -> ReviewSettings:
    """The review settings, one widget per declaration (:class:`ReviewSettings`)."""
    defaults = ReviewSettings()
    values = {}
    left, right = st.columns(2)
    for index, (name, spec) in enumerate(declared(ReviewSettings)):
        key = SETTING_KEY.format(name)
        init_value(key, spec, getattr(defaults, name), auto=False)
        container = left if index % 2 == 0 else right
        values[name] = setting_widget(container, spec, key=key, auto=False)
    return ReviewSettings(**values).validate()


def finished_review(dataset: Dataset, settings: ReviewSettings) -> LabelReview | None:
    """The saved review of ``dataset`` with ``settings``, read once per server; ``None``
    while there is none."""
    # hashed once per dataset object (pipeline.data.fingerprint keeps it on the object);
    # a cache keyed by the dataset itself would hash every row again at every rerun
    key = review_key(fingerprint(dataset), settings)
    if not (reviews_dir(runs_dir()) / key).is_dir():
        return None
    return _load_review(key, str(runs_dir()), dataset, settings)


@st.cache_resource(max_entries=4, show_spinner="Reading the review…")
def _load_review(
    key: str, runs: str, _dataset: Dataset, _settings: ReviewSettings
) -> LabelReview | None:
    return cached_review(_dataset, _settings, runs)


def followed_job(manager: JobManager, settings: ReviewSettings, dataset: Dataset) -> Any:
    """This session's newest review job for ``dataset`` with ``settings`` (``None``)."""
    wanted = settings.to_dict()
    for job in reversed(manager.reviews_of(session_id())):
        if isinstance(job, ComparisonJob):
            continue
        snap = job.snapshot()
        if snap.settings == wanted and snap.dataset == dataset.name:
            return job
    return None


def start(manager: JobManager, dataset: Dataset, settings: ReviewSettings) -> None:
    """Queue a review of ``dataset`` for this session."""
    job = manager.submit_review(dataset, settings, session=session_id())
    st.session_state[REVIEW_JOB_ID] = job.job_id


def job_panel(job: Any) -> None:
    """The running review's progress, redrawn in place; reruns the page once it ends."""

    @st.fragment(run_every=POLL_SECONDS)
    def panel() -> None:
        snap = job.snapshot()
        if snap.done:
            if snap.status in {"finished", "cached"}:
                st.rerun()  # the page now finds the review in the cache
            _ended(snap)
            return
        if snap.status == "queued":
            st.info(
                "Waiting its turn: a training or another review runs first on this server.",
                icon=":material/hourglass_top:",
            )
        else:
            st.progress(snap.progress, text=escape_markdown(snap.step or snap.message))
            left = f" · about {_minutes(snap.eta_s)} left" if snap.eta_s else ""
            st.caption(f"{_minutes(snap.elapsed_s)} so far{left}.")
        if snap.stopping:
            st.warning("Stopping at the next fold, epoch or batch…", icon=":material/stop_circle:")
        else:
            st.button(
                "Stop",
                key=f"review.stop.{snap.job_id}",
                icon=":material/stop:",
                on_click=job.stop,
            )

    panel()


def _ended(snap: Any) -> None:
    if snap.status == "failed":
        st.error(escape_markdown(snap.message), icon=":material/error:")
    else:
        st.info(escape_markdown(snap.message or "The review ended."), icon=":material/stop_circle:")


def _minutes(seconds: float | None) -> str:
    seconds = round(seconds or 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


def decisions(review: LabelReview) -> dict[int, str]:
    """This session's decisions on ``review``'s rows (position -> action), editable."""
    per_review = st.session_state.setdefault(DECISIONS, {})
    return per_review.setdefault(review.summary.key, {})


def summary_metrics(review: LabelReview, dataset: Dataset) -> None:
    """Rows reviewed, rows flagged, the out-of-sample accuracy, the classes too small to
    review, and per class."""
    summary = review.summary
    cols = st.columns(4)
    cols[0].metric("Rows reviewed", f"{summary.reviewed_rows:,}")
    cols[1].metric(
        "Flagged as likely mislabelled",
        f"{summary.issues:,}",
        help="cleanlab's find_label_issues: rows whose given label disagrees with "
        "confident out-of-sample predictions.",
    )
    cols[2].metric(
        "Out-of-sample accuracy",
        format_share(summary.out_of_sample_accuracy),
        help="How often the models, each scoring rows it never trained on, agree with "
        "the given label.",
    )
    cols[3].metric("Folds", f"{summary.folds}")
    for note in (summary.caution(), summary.unreviewed_note()):
        if note:  # class names come from the file: text, never Markdown
            st.warning(escape_markdown(note), icon=":material/info:")
    table = per_class_table(review, dataset)
    count = st.column_config.NumberColumn(format="localized")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "rows": count,
            "flagged": count,
            OTHERS_SUGGESTED: st.column_config.NumberColumn(
                format="localized",
                help="Rows given another class whose suggested label is this one: what "
                "relabelling every suggestion would move into it.",
            ),
            OWN_SUGGESTED_ELSEWHERE: st.column_config.NumberColumn(
                format="localized",
                help="Rows given this class whose suggested label is another one.",
            ),
        },
    )


#: The per-class table's columns of suggestions into and out of a class.
OTHERS_SUGGESTED = "rows of other classes suggested for it"
OWN_SUGGESTED_ELSEWHERE = "its rows suggested for another class"


def per_class_table(review: LabelReview, dataset: Dataset) -> pd.DataFrame:
    """One row per class of ``review``: its rows, how many are flagged, how many rows of
    other classes are suggested for it and how many of its own rows are suggested for
    another class (counted from the review's rows: the same for a review read from
    the cache, whatever its summary holds)."""
    given = review.frame["given_label"]
    suggested = review.frame["suggested_label"]
    flagged = review.frame["is_label_issue"].astype(bool)
    moved = suggested != given
    return pd.DataFrame(
        [
            {
                "class": dataset.display(code),
                "rows": int((given == code).sum()),
                "flagged": int((flagged & (given == code)).sum()),
                OTHERS_SUGGESTED: int((moved & (suggested == code)).sum()),
                OWN_SUGGESTED_ELSEWHERE: int((moved & (given == code)).sum()),
            }
            for code in review.summary.classes
        ]
    )


def suspects_editor(review: LabelReview, dataset: Dataset) -> None:
    """The most suspect rows with a decision each (a data editor), and decisions for
    every row below a label-quality threshold."""
    chosen = decisions(review)
    shown = st.number_input(
        "Rows listed (most suspect first)",
        min_value=10,
        # the unreviewed rows (no label quality) are never listed
        max_value=max(10, min(MAX_SHOWN_SUSPECTS, review.summary.reviewed_rows)),
        value=max(10, min(SHOWN_SUSPECTS, review.summary.reviewed_rows)),
        step=10,
        key=f"review.shown.{review.summary.key}",
    )
    suspects = review.suspects(min(int(shown), review.summary.reviewed_rows))
    positions = [int(review.frame.index.get_loc(i)) for i in suspects.index]
    table = pd.DataFrame(
        {
            "decision": [chosen.get(p, "keep") for p in positions],
            "text": suspects["text"].to_numpy(),
            "given": [dataset.display(c) for c in suspects["given_label"]],
            "suggested": [dataset.display(c) for c in suspects["suggested_label"]],
            "label quality": suspects["label_quality"].round(4).to_numpy(),
            "flagged": suspects["is_label_issue"].to_numpy(),
            "duplicates and story mates agreeing": [
                describe_agreement(int(agreeing), int(mates))
                for agreeing, mates in zip(
                    suspects["agreeing_mates"], suspects["group_mates"], strict=True
                )
            ],
        }
    )
    others = (
        dataset.other_columns.loc[suspects.index] if len(dataset.other_columns.columns) else None
    )
    if others is not None:
        for column in others.columns:
            if column not in table.columns:
                table[column] = others[column].to_numpy()
    edited = st.data_editor(
        table,
        hide_index=True,
        width="stretch",
        disabled=[c for c in table.columns if c != "decision"],
        column_config={
            "decision": st.column_config.SelectboxColumn(
                "decision", options=list(ACTIONS), required=True, help=_actions_help()
            ),
            "label quality": st.column_config.NumberColumn(format="%.4f"),
        },
        key=f"review.editor.{review.summary.key}.{int(shown)}",
    )
    for position, action in zip(positions, edited["decision"], strict=True):
        if action == "keep":
            chosen.pop(position, None)
        else:
            chosen[position] = action

    st.markdown("**Every row below a label quality**")
    threshold = st.slider(
        "Label quality below",
        min_value=0.0,
        max_value=1.0,
        value=0.05,
        step=0.01,
        key=f"review.threshold.{review.summary.key}",
        help="The label quality is the out-of-sample probability of the given label "
        "(with the default method): low means the models, trained without the row, "
        "rarely agree with its label.",
    )
    below = rows_below(review, threshold)
    st.caption(f"{len(below):,} rows have a label quality below {threshold:.2f}.")
    cols = st.columns(3)
    for col, action, label in zip(
        cols,
        ("relabel", "drop", "keep"),
        ("Relabel them all", "Drop them all", "Keep them all"),
        strict=True,
    ):
        if col.button(label, key=f"review.all.{action}", disabled=not below):
            for position in below:
                if action == "keep":
                    chosen.pop(position, None)
                else:
                    chosen[position] = action
            st.rerun()


def _actions_help() -> str:
    return "; ".join(f"{name}: {text}" for name, text in ACTIONS.items()) + "."


def corrected_download(
    review: LabelReview, dataset: Dataset, raw_table: Callable[[], pd.DataFrame]
) -> None:
    """The counts of this session's decisions and the corrected file to download (built
    when the button is pressed: the whole file as CSV takes seconds on a big one).
    ``raw_table`` gives the file as read, every row; it runs on a thread of its own,
    outside the script run, so it must not touch session state."""
    chosen = dict(decisions(review))
    relabelled = sum(1 for a in chosen.values() if a == "relabel")
    dropped = sum(1 for a in chosen.values() if a == "drop")
    st.caption(
        f"Your decisions: {relabelled:,} row{'' if relabelled == 1 else 's'} relabelled, "
        f"{dropped:,} dropped; every other row keeps its label."
    )

    def csv_bytes() -> bytes:
        table = corrected_table(raw_table(), dataset, review, chosen)
        return table.to_csv(index=False).encode("utf-8")

    stem = dataset.name.split(".")[0] or "dataset"
    st.download_button(
        "Download the corrected CSV",
        data=csv_bytes,
        file_name=f"{stem}-corrected.csv",
        mime="text/csv",
        icon=":material/download:",
        key="review.download",
        on_click="ignore",
        help="Every row and column of the file, in its order: relabelled rows carry the "
        "suggested label, dropped rows are left out. Upload it in the sidebar to train "
        "on it.",
    )


def probability_columns(review: LabelReview) -> list[str]:
    """The review frame's per-class probability columns."""
    return [c for c in review.frame.columns if c.startswith(PROBABILITY_PREFIX)]


def describe_models(settings: ReviewSettings) -> str:
    """The models a review with ``settings`` trains per fold, in words."""
    from pipeline.review.settings import NEURAL_PRESETS, REVIEW_MODELS

    text = REVIEW_MODELS[settings.models]
    if settings.models != "tfidf":
        text += f" ({NEURAL_PRESETS[settings.neural_preset]})"
    return text


#: Session state: the before/after job per decisions signature, and the finished results.
COMPARISON_JOBS, COMPARISONS = "review_comparison_jobs", "review_comparisons"


def comparison_section(
    manager: JobManager,
    dataset: Dataset,
    review: LabelReview,
    settings: ReviewSettings,
    data_config: DataConfig,
) -> None:
    """Train before and after this session's decisions and show both scores on the same
    test rows; a background job with its progress, as the review itself."""
    chosen = dict(decisions(review))
    signature = config_hash(
        {
            "review": review.summary.key,
            "actions": sorted(chosen.items()),
            "data": dataclasses.asdict(data_config),
        }
    )
    results = st.session_state.setdefault(COMPARISONS, {})
    jobs = st.session_state.setdefault(COMPARISON_JOBS, {})
    job = next(
        (j for j in manager.reviews_of(session_id()) if j.job_id == jobs.get(signature)), None
    )
    if job is not None and job.snapshot().status == "finished":
        results[signature] = job.snapshot().comparison
    if signature in results:
        _comparison_result(results[signature])
        return
    st.caption(
        "Trains the review's models twice on the training rows, split as on Prepare: with "
        "the given labels, then with your decisions (relabelled rows train with the "
        "suggested label, dropped rows not at all). Both are scored on the same test rows, "
        "whose labels are never changed."
    )
    if job is not None:
        job_panel(job)
        if not job.snapshot().done:
            return
    if st.button(
        "Train before and after",
        key="review.compare",
        icon=":material/compare_arrows:",
        disabled=not chosen,
        help=None if chosen else "Decide on some rows first.",
    ):
        job = manager.submit_comparison(
            dataset, settings, review, chosen, data_config, session=session_id()
        )
        jobs[signature] = job.job_id
        st.rerun()


def _comparison_result(result: dict[str, Any]) -> None:
    """Both scores, before and after the corrections, and their difference: accuracy
    as shares and points, macro F1 on its own 0-1 scale."""
    before, after = result["before"], result["after"]
    cols = st.columns(3)
    accuracy = after["test_accuracy"] - before["test_accuracy"]
    cols[0].metric(
        "Test accuracy before → after the corrections",
        f"{format_share(before['test_accuracy'])} → {format_share(after['test_accuracy'])}",
        delta=format_points(accuracy),
        delta_color="normal" if round(accuracy, 3) else "off",
        help="The same model and test rows, trained with the given labels (before) and "
        "with your decisions (after).",
    )
    f1 = after["macro_f1"] - before["macro_f1"]
    cols[1].metric(
        "Macro F1 before → after the corrections",
        f"{before['macro_f1']:.3f} → {after['macro_f1']:.3f}",
        delta=f"{f1:+.3f}" if round(f1, 3) else "0.000",
        delta_color="normal" if round(f1, 3) else "off",
        help="F1 averaged over the classes, on a 0-1 scale, before and after.",
    )
    cols[2].metric("Test rows (untouched)", format_count(result["test_rows"]))
    for sentence in comparison_sentences(result):
        st.caption(escape_markdown(sentence))
    st.caption(
        f"{result['relabelled']:,} training rows relabelled and {result['dropped']:,} dropped "
        f"of {result['train_rows']:,}; {result['ignored_test_rows']:,} decisions on test rows "
        "were not applied, so both models face the same test."
    )


def comparison_sentences(result: dict[str, Any]) -> list[str]:
    """After the corrections against before, in words, from a
    :func:`pipeline.review.corrections.compare_corrections` result: a lead-in and one sentence
    per metric with its paired 95 % interval (one sentence saying there is none for a
    result made before intervals existed)."""
    if result.get("vs_before") is None:
        return ["No interval for this comparison (made before intervals existed)."]
    comparison = PairedComparison.from_json(result["vs_before"])
    return [
        f"After the corrections against before, on the same {result['test_rows']:,} test "
        "rows (paired bootstrap, 95 % intervals):",
        *comparison.sentences("the given labels"),
    ]
