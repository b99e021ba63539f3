"""Unit tests of the pure UI helpers: figure builders and safe text."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipeline.runs.history import parse_history
from ui.core.text import escape_markdown, highlight_words
from ui.figures import confusion as figures_confusion
from ui.figures.curves import best_epoch, compare_curves, training_curves
from ui.figures.playground import word_importance_bar
from ui.figures.prepare import class_distribution_before_after
from ui.figures.scores import metrics_vs_baseline, runs_metric_bars

HISTORY = parse_history(
    [
        {"epoch": 1, "loss": 1.2, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.6},
        {"epoch": 2, "loss": 0.8, "accuracy": 0.7, "val_loss": 0.7, "val_accuracy": 0.72},
        {"epoch": 3, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.75, "val_accuracy": 0.71},
    ]
)
NAMES = {"b": "business", "e": "entertainment"}


def test_before_after_has_two_panels():
    fig = class_distribution_before_after({"b": 10, "e": 30}, {"b": 10, "e": 10}, NAMES)
    assert {a.text for a in fig.layout.annotations} == {"before", "after"}


def test_best_epoch_is_lowest_validation_loss():
    assert best_epoch(HISTORY) == 2
    assert best_epoch([]) is None


def test_training_curves_train_and_validation_with_best_epoch_marked():
    fig = training_curves(HISTORY, "accuracy", epochs=10)
    assert [trace.name for trace in fig.data] == ["train", "validation"]
    assert list(fig.data[1].y) == [0.6, 0.72, 0.71]
    assert any(shape.x0 == 2 for shape in fig.layout.shapes)
    assert tuple(fig.layout.xaxis.range) == (0.5, 10.5)


def test_training_curves_without_history_is_an_empty_figure():
    fig = training_curves([], "loss")
    assert len(fig.data) == 0


def test_compare_curves_one_line_per_run():
    fig = compare_curves({"run a": HISTORY, "run b": HISTORY[:2]}, "val_accuracy")
    assert sorted(trace.name for trace in fig.data) == ["run a", "run b"]


@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_matrix_heatmap(normalize):
    fig = figures_confusion.confusion_matrix_heatmap(
        ["b", "e"], [[3, 1], [0, 4]], normalize=normalize
    )
    z = fig.data[0].z
    if normalize:
        assert z[0][0] == pytest.approx(0.75)
        assert z[1][1] == pytest.approx(1.0)
    else:
        assert z[0][1] == 1


def test_confusion_matrix_with_an_empty_row_does_not_divide_by_zero():
    fig = figures_confusion.confusion_matrix_heatmap(["b", "e"], [[0, 0], [1, 1]], normalize=True)
    assert list(fig.data[0].z[0]) == [0.0, 0.0]


def test_metrics_vs_baseline_and_runs_metric_bars():
    fig = metrics_vs_baseline(
        {"accuracy": 0.9, "macro_f1": 0.88}, {"accuracy": 0.85, "macro_f1": None}, "ngram_bag"
    )
    assert sorted(trace.name for trace in fig.data) == ["TF-IDF baseline", "ngram_bag"]
    assert fig.layout.title.text == "Test set: ngram_bag vs TF-IDF baseline"
    import pandas as pd

    table = pd.DataFrame({"run": ["a", "b"], "test accuracy": [0.8, 0.9], "macro F1": [0.7, 0.8]})
    bars = runs_metric_bars(table, ["test accuracy", "macro F1", "missing"])
    assert sorted(trace.name for trace in bars.data) == ["a", "b"]


def test_word_importance_bars():
    fig = word_importance_bar([("stocks", 0.4), ("fell", -0.1)])
    assert list(fig.data[0].x) == ["1. stocks", "2. fell"]


def test_escape_markdown_escapes_every_markdown_and_streamlit_syntax():
    text = "*bold* _it_ [x](y) <b>html</b> $x$ :fire: :red[red] `code` # head\nnext"
    escaped = escape_markdown(text)
    assert "\n" not in escaped
    assert escaped.startswith(r"\*bold\* \_it\_ \[x\]\(y\) \<b\>html\<\/b\> \$x\$ \:fire\:")
    assert r"\:red\[red\]" in escaped and r"\`code\`" in escaped and r"\# head" in escaped


def test_highlight_words_marks_important_words_only():
    markdown = highlight_words([("Stocks", 0.5), ("fell", -0.4), ("the", 0.001)])
    assert markdown.startswith(":green-background[**Stocks**]")
    assert ":red-background[**fell**]" in markdown
    assert markdown.endswith(" the")


def test_highlight_words_writes_chinese_characters_without_spaces():
    """Found in the Playground on a Chinese run: its words are characters, and the
    explanation read "股 市 银 行" (written "股市银行"). Adjacent highlights render."""
    markdown = highlight_words([("股", 0.5), ("市", -0.4), ("银", 0.0), ("行", 0.0), ("iPhone", 0)])
    assert markdown == ":green-background[**股**]:red-background[**市**]银行 iPhone"


def test_highlight_words_escapes_words():
    markdown = highlight_words([("$5]", 0.5)])
    assert markdown == r":green-background[**\$5\]**]"


def test_live_curves_span_the_epochs_run_not_the_epoch_limit():
    fig = training_curves(HISTORY[:2], "accuracy")
    assert fig.layout.xaxis.range is None  # autoscaled to epochs 1-2, not 1-100
    assert list(fig.data[0].x) == [1, 2]


def _snapshot(**changes):
    from pipeline.jobs.job import JobSnapshot

    return JobSnapshot(job_id=1, label="job", status="running", **changes)


def test_the_phase_trail_marks_done_current_and_shows_the_baseline_only_when_waited_for():
    from ui.views.train_progress import phase_trail

    assert phase_trail("training") == (
        "✓ Preparing · ✓ Vectorizing · ▶ Training · Evaluating · Saving"
    )
    assert "▶ Baseline" in phase_trail("baseline")
    assert phase_trail("") == "Preparing · Vectorizing · Training · Evaluating · Saving"


def test_the_step_text_says_rows_or_batches_and_time_left_in_this_step_only():
    from ui.views.train_progress import epoch_limit_text, step_text, stop_effect

    rows = _snapshot(step="Vectorizing", step_done=200_000, step_total=393_867, step_unit="rows")
    assert step_text(rows) == "Vectorizing · 200,000 of 393,867 rows"
    epoch = _snapshot(
        step="Epoch 3", step_done=120, step_total=275, step_unit="batches", eta_s=12.4
    )
    assert step_text(epoch) == "Epoch 3 · batch 120 of 275 · about 0:12 left in this epoch"
    validating = _snapshot(
        step="Validating epoch 3",
        step_done=5,
        step_total=30,
        step_unit="batches",
        validating=True,
    )
    assert step_text(validating) == "Validating epoch 3 · validation batch 5 of 30"
    solver = _snapshot(step="Blend: n-gram regression", step_done=3, step_unit="steps")
    assert step_text(solver) == (
        "Blend: n-gram regression · 3 solver steps done (it ends at its optimum)"
    )
    assert "1 solver step done" in step_text(_snapshot(step="x", step_done=1, step_unit="steps"))
    limit = epoch_limit_text(_snapshot(epoch=3, epochs=100, patience=2))
    assert limit.startswith("Epoch 3 of at most 100 (early stopping after 2 epochs")
    assert "no time is promised beyond this epoch" in limit
    assert "nothing is saved" in stop_effect("vectorizing")
    assert "best epoch is kept" in stop_effect("training")


def test_job_snapshots_fold_rows_validation_and_epoch_events():
    from pipeline.core.presets import get_preset
    from pipeline.core.progress import ProgressEvent
    from pipeline.jobs.job import Job

    job = Job(1, None, get_preset("fast", patience=3), False, None, "job")
    job.update(status="running", started_at=0.0, phase_started_at=0.0)
    base = {"epoch": 0, "epochs": 0, "batch": 0, "batches": 0, "logs": {}, "elapsed_s": 1.0}
    rows = {"phase": "vectorizing", "message": "Vectorizing", "done": 50, "total": 200}
    job.report(ProgressEvent(kind="rows", **rows, **base))
    state = job.snapshot()
    assert (state.step, state.step_done, state.step_total, state.step_unit) == (
        "Vectorizing",
        50,
        200,
        "rows",
    )
    assert state.step_fraction == 0.25 and state.patience == 3
    steps = {"phase": "evaluating", "message": "Blend", "done": 2, "total": 0, "unit": "steps"}
    job.report(ProgressEvent(kind="rows", **steps, **base))
    state = job.snapshot()
    assert (state.step, state.step_done, state.step_unit, state.eta_s) == (
        "Blend",
        2,
        "steps",
        None,
    )
    batch = {**base, "epoch": 2, "epochs": 100, "batch": 10, "batches": 10, "logs": {"loss": 0.5}}
    job.report(ProgressEvent(kind="batch", **batch))
    job.report(ProgressEvent(kind="validation", **{**batch, "batch": 1, "batches": 4}))
    state = job.snapshot()
    assert state.validating and state.step == "Validating epoch 2"
    assert (state.step_done, state.step_total) == (1, 4)
    assert (state.batch, state.batches) == (10, 10)  # the epoch's own count is kept
    assert state.logs == {"loss": 0.5}


def test_the_end_message_is_never_overwritten_by_a_late_event_or_a_late_stop():
    from pipeline.core.presets import get_preset
    from pipeline.core.progress import ProgressEvent
    from pipeline.jobs.job import Job

    job = Job(1, None, get_preset("fast"), False, None, "job")
    job.update(status="running", started_at=0.0, phase_started_at=0.0)
    base = {"epoch": 3, "epochs": 100, "batch": 5, "batches": 10, "logs": {}, "elapsed_s": 1.0}
    end = "Stopped part way through epoch 3; best epoch (2) kept."
    job.report(ProgressEvent(kind="end", message=end, **base))
    job.stop()  # pressed after the training process had finished
    job.report(ProgressEvent(kind="batch", **base))  # a callback that ran late
    state = job.snapshot()
    assert state.message == end and not state.stopping


def _live_panel_script() -> None:
    """One running job's live panel; ``session_state["stopping"]`` presses its Stop."""
    import streamlit as st

    from pipeline.core.presets import get_preset
    from pipeline.jobs.job import Job
    from ui.views.train_progress import live_panel

    class OneJob:  # the two JobManager methods the panel reads, over one real Job
        def __init__(self, job: Job) -> None:
            self.job = job

        def get(self, job_id: int) -> Job:
            return self.job

        def snapshot(self, job_id: int):
            return self.job.snapshot()

    job = Job(1, None, get_preset("fast"), False, None, "job")
    job.update(status="running", started_at=0.0, phase_started_at=0.0, phase="training")
    if st.session_state.get("stopping"):
        job.stop()
    live_panel(OneJob(job), 1)


def _path_of(node, wanted: str, path: tuple = ()) -> tuple | None:
    """Index path of the first element whose text starts with ``wanted``."""
    value = getattr(node, "value", None)
    if isinstance(value, str) and value.startswith(wanted):
        return path
    for index, child in getattr(node, "children", {}).items():
        found = _path_of(child, wanted, (*path, index))
        if found is not None:
            return found
    return None


def test_the_live_panel_keeps_its_place_when_stop_is_pressed():
    """Streamlit names a fragment by its place on the page: if the Stop button above
    it vanished, the fragment would get a new id, and a timer tick already sent for
    the old one is dropped by the server, which can leave the browser's panel frozen."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_live_panel_script, default_timeout=30).run()
    assert not at.exception and [b.label for b in at.button] == ["Stop"]
    running = _path_of(at.main, "**Job 1")
    at.session_state["stopping"] = True
    at.run()
    assert not at.exception and not at.button
    assert "Stopping (" in " ".join(w.value for w in at.warning)
    assert running is not None and _path_of(at.main, "**Job 1") == running


def _panel_charts_script() -> None:
    """The live panel over a fixed snapshot (``session_state["status"]``), drawn
    either whole or as its once-a-second part alone (``session_state["part"]``)."""
    import streamlit as st

    from pipeline.jobs.job import JobSnapshot
    from pipeline.runs.history import parse_history
    from ui.views.train_progress import draw_snapshot, live_panel

    history = parse_history(
        [
            {"epoch": 1, "loss": 0.9, "accuracy": 0.6, "val_loss": 0.8, "val_accuracy": 0.65},
            {"epoch": 2, "loss": 0.7, "accuracy": 0.7, "val_loss": 0.75, "val_accuracy": 0.7},
        ]
    )
    status = st.session_state["status"]
    snap = JobSnapshot(
        job_id=1,
        label="job",
        status=status,
        history=history,
        epoch=2,
        epochs=10,
        phase="training",
        started_at=0.0,
        phase_started_at=0.0,
        message="" if status == "running" else "out of memory",
    )

    class FixedSnapshot:  # the JobManager methods the panel reads
        def get(self, job_id: int) -> None:
            return None

        def snapshot(self, job_id: int) -> JobSnapshot:
            return snap

        def ahead_of(self, job_id: int) -> int:
            return 0

    if st.session_state["part"] == "panel":
        draw_snapshot(FixedSnapshot(), snap, in_panel=True)
    else:
        live_panel(FixedSnapshot(), 1)


@pytest.mark.parametrize("status", ["running", "failed"])
def test_the_once_a_second_panel_never_sends_the_curves_again(status, monkeypatch, tmp_path):
    """Found: the panel's fragment sent both curve charts at every refresh, unchanged
    for a whole epoch. The curves live in a fragment of their own, at a slower pace."""
    from streamlit.testing.v1 import AppTest

    from ui.views.train_progress import CURVES_POLL_SECONDS, POLL_SECONDS

    monkeypatch.setenv("HEADLINE_LAB_RUNS_DIR", str(tmp_path))
    assert CURVES_POLL_SECONDS > POLL_SECONDS
    for part, charts in (("panel", 0), ("whole", 2)):
        at = AppTest.from_function(_panel_charts_script, default_timeout=30)
        at.session_state["status"] = status
        at.session_state["part"] = part
        at.run()
        assert not at.exception, at.exception
        assert len(at.get("plotly_chart")) == charts, part


MARKUP = [
    '<a href="https://example.com">Click</a>',
    "<b>bold</b>",
    "<i>it</i><br><sup>up</sup>",
    "<span style='color:red'>red</span>",
]


def _strings(node) -> list[str]:
    """Every string in a figure's data and layout (decoded, as plotly will read it), but
    plotly express's own hover templates (``name=%{x}<br>rows=%{y}``)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [
            s
            for key, value in node.items()
            if not key.endswith("template")
            for s in _strings(value)
        ]
    if isinstance(node, (list, tuple)):
        return [s for value in node for s in _strings(value)]
    return []


def _markup_in(fig) -> list[str]:
    """Tags from MARKUP that survive, unescaped, anywhere in a figure."""
    text = " ".join(_strings(json.loads(fig.to_json())))
    return [tag for tag in ("<a ", "<b>", "<i>", "<br>", "<sup>", "<span") if tag in text]


def test_no_figure_renders_markup_from_data_or_a_visitor():
    """Found: plotly turned <a href>, <b>, <i>, <br>, <sup> and <span> in labels,
    publishers, typed words and an imported run's family into markup (a link was
    clickable)."""
    names = {f"c{i}": label for i, label in enumerate(MARKUP)}
    counts = {code: 10 + i for i, code in enumerate(names)}
    history = parse_history([{"epoch": 1, "val_accuracy": 0.5, "val_loss": 1.0}])
    figures_built = [
        class_distribution_before_after(counts, counts, names),
        compare_curves({label: history for label in MARKUP}),
        metrics_vs_baseline({"accuracy": 0.9}, {"accuracy": 0.8}, family=MARKUP[0]),
        figures_confusion.confusion_matrix_heatmap(MARKUP, [[1] * 4] * 4),
        word_importance_bar([(label, 0.1) for label in MARKUP]),
        runs_metric_bars(
            pd.DataFrame({"run": MARKUP, "test accuracy": [0.9] * 4}), ["test accuracy"]
        ),
    ]
    for fig in figures_built:
        assert _markup_in(fig) == [], fig.layout.title.text
    # and the text still reads as typed, as entities plotly shows literally
    bar = class_distribution_before_after({"c": 1}, {"c": 1}, {"c": "<b>bold</b>"})
    assert "&lt;b&gt;bold&lt;/b&gt;" in _strings(json.loads(bar.to_json()))


def test_escaped_markdown_never_autolinks_a_url_or_an_email_address():
    """Found: a typed `<a href='https://example.com'>link</a>` became a clickable link in
    "Words that drove it": GFM makes links of bare URLs whatever the backslashes."""
    escaped = escape_markdown("href='https://example.com'>link</a> www.example.org me@example.com")
    plain = escaped.replace("\\", "")
    for pattern in ("https://", "www.", "me@"):
        assert pattern not in plain
    assert plain.replace("\u2060", "") == (
        "href='https://example.com'>link</a> www.example.org me@example.com"
    )


def test_the_blend_note_names_the_network_share_and_each_part_on_validation():
    from pipeline.runs.decision import BlendRecord
    from ui.views.results import blend_note

    record = {
        "network_weight": 0.6,
        "linear_rows": 400,
        "linear_seconds": 0.5,
        "validation": {
            part: {"accuracy": accuracy, "macro_f1": 0.5, "log_loss": 1.0}
            for part, accuracy in (("network", 0.5), ("linear", 0.45), ("blend", 0.55))
        },
    }
    note = blend_note(BlendRecord.parse(record))
    assert "share 60%" in note
    assert "network 50.0%, linear 45.0%, blend 55.0%" in note
    assert "TF-IDF logistic regression over word pairs inside" in note
    chars = blend_note(BlendRecord.parse({**record, "linear_inputs": ["ngrams", "linear_chars"]}))
    assert "regression over word pairs and character n-grams inside" in chars
    assert blend_note(None) is None


def test_the_prior_shift_note_says_the_shift_and_its_gain_on_validation():
    from pipeline.runs.decision import PriorShiftRecord
    from ui.views.results import prior_shift_note

    record = {
        "tau": -0.4,
        "log_prior": [-1.2, -0.4],
        "validation_macro_f1_before": 0.81,
        "validation_macro_f1_after": 0.835,
    }
    note = prior_shift_note(PriorShiftRecord.parse(record))
    assert "τ = -0.4" in note and "(validation macro F1 0.810 → 0.835)" in note
    both = {**record, "validation_accuracy_before": 0.9, "validation_accuracy_after": 0.91}
    assert "(validation accuracy 90.0% → 91.0%, macro F1" in prior_shift_note(
        PriorShiftRecord.parse(both)
    )
    unmoved = prior_shift_note(PriorShiftRecord.parse({**record, "tau": 0}))
    assert unmoved.startswith("Decision rule: the trained class scores")
    assert prior_shift_note(None) is None


def test_the_coverage_note_says_what_the_model_has_of_unknown_words():
    from pipeline.scoring.predictor import WordCoverage
    from ui.views.playground import coverage_note

    words = ("zzqx", "blorft")
    kind, text = coverage_note(WordCoverage(words, words, 0, reads_characters=False))
    assert kind == "warning" and "the model's prior" in text
    kind, text = coverage_note(WordCoverage(words, words, 0, reads_characters=True))
    assert kind == "warning" and "pieces of their spelling" in text
    assert coverage_note(WordCoverage(words, (), 2)) is None


def test_the_playground_never_shows_an_uncertain_model_as_certain():
    """Found: a headline the bundled data's model is sure of read "100.0% confident" and
    its other classes "0.0%", as if the model could not be wrong."""
    from ui.views.playground import class_bar_text, confidence_text

    assert confidence_text(0.99997) == ">99.9% confident"
    assert confidence_text(0.875) == "87.5% confident"
    assert confidence_text(1.0) == "100.0% confident"
    assert class_bar_text("health", 0.00002) == "health · <0.1%"
    assert class_bar_text("*bold*", 0.5) == "\\*bold\\* · 50.0%"  # a name is text
