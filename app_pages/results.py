"""Results: curves, test metrics beside the baseline, per-class report, confusion
matrix, where the model fails (accuracy per slice of the data), misclassified headlines,
and a comparison of several runs.

Reads the saved run's JSON files only; no TensorFlow.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipeline.core.class_sizes import MIN_TEST_ROWS_PER_CLASS, thin_classes_listing
from pipeline.core.config import SPLIT_LABELS
from pipeline.evaluation.confusions import confused_pairs_limit, count_confused_pairs
from pipeline.runs.files import LOGS_DIR
from pipeline.runs.summary import SavedRun
from pipeline.runs.tensorboard import run_tensorboard_cli
from ui.core import state
from ui.core.errors import report_errors
from ui.core.numbers import SHARE_COLUMN, format_score, format_share
from ui.core.resources import get_registry, runs_dir
from ui.core.runs import run_label, runs_or_stop
from ui.core.session import stop_run
from ui.core.text import escape_markdown
from ui.figures.confusion import confusion_matrix_heatmap, full_width
from ui.figures.curves import compare_curves, training_curves
from ui.figures.scores import metrics_vs_baseline, runs_metric_bars
from ui.views import mistakes, paired, report_download, results, run_link, slices
from ui.views.class_sizes import thin_classes_remedy_text

st.title("Results")

# ?run=RUN_ID opens that run if this session may see it; otherwise the page stops here.
run_link.open_linked_run()
runs = runs_or_stop(
    "No saved runs yet. Train one on the Train page, or import one on the Runs page."
)

run_id = run_link.pick_linked_run(runs, key="results.run", label="Run")
with report_errors() as outcome:
    saved: SavedRun = get_registry().get(run_id)
if not outcome.ok:
    stop_run()

metrics = saved.metrics
run_info = saved.run
_name = saved.labels.name


# --- headline numbers --------------------------------------------------------------------
family = saved.config.family
st.caption(
    f"Preset **{escape_markdown(saved.config.preset)}** · model **{escape_markdown(family)}** · "
    f"dataset **{escape_markdown(run_info.dataset)}** · "
    f"{len(saved.history)} epoch{'' if len(saved.history) == 1 else 's'} · "
    f"{run_info.duration_s:.0f} s on {escape_markdown(run_info.device)} · "
    f"status **{run_info.status}**"
    + (" · **imported**" if run_info.origin == "imported" else "")
    + (f" · continues `{saved.config.parent_run_id}`" if saved.config.parent_run_id else "")
)
# Filled once the page has loaded the run's dataset (the slices section, below).
report_place = st.container()
baseline = metrics.baseline
base_acc = baseline.test_accuracy if baseline else None
base_f1 = baseline.macro_f1 if baseline else None
base_bal = baseline.balanced_accuracy if baseline else None
acc, f1, loss = metrics.test_accuracy, metrics.macro_f1, metrics.test_loss
balanced = metrics.balanced_accuracy
data_settings = saved.config.experiment.data
verdict = results.compare_with_baseline(
    acc, base_acc, metrics.n_test, macro_f1=f1, baseline_f1=base_f1
)
class_weighted = results.uses_class_weights(data_settings)
cols = st.columns(5)
cols[0].metric(
    "Test accuracy",
    format_share(acc) if acc is not None else "n/a",
    **results.metric_delta(acc, base_acc, verdict, percent=True),
    help=results.DELTA_HELP,
)
cols[1].metric(
    "Balanced accuracy",
    format_share(balanced) if balanced is not None else "n/a",
    **results.metric_delta(balanced, base_bal, verdict, percent=True),
    help="The mean of the classes' recalls: every class counts the same, however many "
    "test rows it has."
    + ("" if balanced is not None else " Not measured when this run was saved.")
    + f" {results.DELTA_HELP}",
)
cols[2].metric(
    "Macro F1",
    format_score(f1) if f1 is not None else "n/a",
    **results.metric_delta(f1, base_f1, verdict, percent=False),
    help=results.DELTA_HELP,
)
cols[3].metric(
    "Test loss",
    format_score(loss) if loss is not None else "n/a",
    help=results.test_loss_help(class_weighted),
)
cols[4].metric(
    # short enough for a fifth of 1280 px; the help names the baseline
    "Baseline accuracy",
    format_share(base_acc) if base_acc is not None else "n/a",
    # an imported run's baseline name is whatever its archive says: shown as typed
    help=escape_markdown(baseline.name)
    if baseline
    else "TF-IDF + logistic regression on the same split",
)
st.caption(
    f"Test set: **{data_settings.test_set}**, "
    f"{metrics.n_test:,} rows ({format_share(data_settings.test_size, 0)} of "
    + ("every class's rows" if data_settings.test_set == "stratified" else "the balanced rows")
    + f"), split **{SPLIT_LABELS[data_settings.split].lower()}**."
)
paired.draw_baseline_interval(metrics)
for note in (
    results.blend_note(metrics.blend),
    results.prior_shift_note(metrics.prior_shift),
):
    if note:
        st.caption(note)
thin = metrics.thin_classes()
if thin:
    listing = thin_classes_listing(thin, lambda code: escape_markdown(_name(code)))
    st.warning(
        f"{len(thin)} class{'' if len(thin) == 1 else 'es'} ha{'s' if len(thin) == 1 else 've'} "
        f"fewer than {MIN_TEST_ROWS_PER_CLASS} test rows: {listing}. Their precision, recall "
        f"and F1 are too noisy to trust. {thin_classes_remedy_text(data_settings)}",
        icon=":material/warning:",
    )

if metrics.collapsed:
    st.error(escape_markdown(metrics.collapsed), icon=":material/warning:")
warning = results.baseline_warning(
    verdict,
    results.baseline_advice(
        saved.config.experiment, saved.history, stopped=run_info.status == "stopped"
    ),
)
if warning:
    st.warning(warning, icon=":material/balance:")
for note in saved.data.notes:
    st.caption(escape_markdown(note))

# --- curves ------------------------------------------------------------------------------
best = run_info.best_epoch
left, right = st.columns(2)
left.plotly_chart(training_curves(saved.history, "accuracy", best=best), key="acc")
right.plotly_chart(
    training_curves(saved.history, "loss", best=best, class_weighted=class_weighted),
    key="loss",
)
if class_weighted:
    right.caption(results.WEIGHTED_LOSS_NOTE)
with st.expander("Open these curves in TensorBoard"):
    if (saved.path / LOGS_DIR).is_dir():
        st.caption(
            "Run this in the project's folder; TensorBoard lists the run as "
            "family · dataset · date · id (leave out the id to list every saved run)."
        )
        st.code(run_tensorboard_cli(run_id, runs_dir()), language="bash")
    else:
        st.caption(
            "This run has no TensorBoard logs (imported runs, and runs trained without "
            "the tensorboard package, have none)."
        )

# the report needs more room than the bars: five columns, none cut at 1280 px
left, right = st.columns([2, 3])
left.plotly_chart(
    metrics_vs_baseline(
        {"accuracy": acc, "balanced_accuracy": balanced, "macro_f1": f1},
        {"accuracy": base_acc, "balanced_accuracy": base_bal, "macro_f1": base_f1},
        family=family,
    ),
    key="baseline",
)
with right:
    st.subheader("Per-class report")
    report = pd.DataFrame(
        [
            {
                "class": scores.name,
                "code": code,
                "precision": scores.precision,
                "recall": scores.recall,
                "f1": scores.f1,
                "support": scores.support,
            }
            for code, scores in metrics.per_class.items()
        ]
    )
    st.dataframe(
        report,
        hide_index=True,
        width="stretch",
        column_config={
            "code": None,  # the display name says it; the code is in the confusion matrix labels
            "support": st.column_config.NumberColumn("support", format="localized"),
            **{
                name: st.column_config.ProgressColumn(
                    name, min_value=0.0, max_value=1.0, width="small", **SHARE_COLUMN
                )
                for name in ("precision", "recall")
            },
            "f1": st.column_config.ProgressColumn(
                "f1", min_value=0.0, max_value=1.0, format="%.3f", width="small"
            ),
        },
    )

# --- confusion matrix --------------------------------------------------------------------
matrix = metrics.confusion_matrix
if matrix.matrix:
    state.init_widget("keep.results.cm_mode", "counts")
    mode = st.segmented_control(
        "Confusion matrix values",
        ["counts", "normalised"],
        key="keep.results.cm_mode",
        required=True,
    )
    labels = list(matrix.names) or [_name(code) for code in matrix.labels]
    grid = [list(row) for row in matrix.matrix]
    heatmap = confusion_matrix_heatmap(labels, grid, normalize=mode == "normalised")
    # From about 10 classes the matrix needs the page's width; its table goes below it.
    if full_width(len(labels)):
        st.plotly_chart(heatmap, key="cm")
        pairs_place = st.container()
    else:
        heat, pairs_place = st.columns(2)
        heat.plotly_chart(heatmap, key="cm")
    with pairs_place:
        st.markdown("**Most confused pairs**")
        limit = confused_pairs_limit(len(labels))
        confusions = results.top_confusions(labels, grid, limit=limit)
        if confusions.empty:
            st.caption("No test headline was misclassified.")
        else:
            st.caption(results.confused_pairs_caption(len(confusions), count_confused_pairs(grid)))
            st.dataframe(
                confusions,
                hide_index=True,
                width="stretch",
                column_config={
                    "rows": st.column_config.NumberColumn("rows", format="localized"),
                    "share of true class": st.column_config.TextColumn(
                        "share of true class",
                        help="These rows' share of the true class's test rows.",
                    ),
                },
            )

# --- where the model fails, and the mistakes ---------------------------------------------
# Test accuracy per publisher, week or any column of the run's data; the misclassified
# browser below filters by those slices (both need the run's per-row predictions and its
# dataset active in the sidebar; otherwise the section says why and the browser shows the
# mistakes metrics.json keeps).
run_slices = slices.draw_slices_section(saved)
mistakes.draw_misclassified(saved, run_slices)
with report_place:
    report_download.draw_download_report(saved)

# --- comparison --------------------------------------------------------------------------
st.subheader("Compare runs")
labels_by_id = {run.run_id: run_label(run) for run in runs}
# The selection follows the run picked above: the widget's own state would keep the
# previous run (its default is read once), so it is set through session state.
results.follow_picked_run(st.session_state, "results.compare", run_id, list(labels_by_id))
compare_ids = st.multiselect(
    "Runs to compare",
    list(labels_by_id),
    format_func=labels_by_id.__getitem__,
    key="results.compare",
)
if len(compare_ids) >= 1:
    registry = get_registry()
    compared: dict[str, SavedRun] = {}
    for other in compare_ids:
        with report_errors():
            compared[other] = registry.get(other)
    short = {rid: f"{rid[:8]} · {saved_run.config.preset}" for rid, saved_run in compared.items()}
    histories = {short[rid]: saved_run.history for rid, saved_run in compared.items()}
    left, right = st.columns(2)
    left.plotly_chart(compare_curves(histories, "val_accuracy"), key="cmp_acc")
    right.plotly_chart(compare_curves(histories, "val_loss"), key="cmp_loss")
    weighted = [
        short[rid]
        for rid, saved_run in compared.items()
        if results.uses_class_weights(saved_run.config.experiment.data)
    ]
    if weighted:
        right.caption(results.weighted_val_loss_note(weighted, len(compared)))
    table = pd.DataFrame(
        [
            {
                "run": short[rid],
                "test accuracy": saved_run.metrics.test_accuracy,
                "macro F1": saved_run.metrics.macro_f1,
                "test loss": saved_run.metrics.test_loss,
                "baseline accuracy": saved_run.metrics.baseline.test_accuracy
                if saved_run.metrics.baseline
                else None,
                "epochs": len(saved_run.history),
                "duration (s)": saved_run.run.duration_s,
                "dataset": saved_run.run.dataset,
            }
            for rid, saved_run in compared.items()
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "test accuracy": st.column_config.NumberColumn("test accuracy", **SHARE_COLUMN),
            "baseline accuracy": st.column_config.NumberColumn("baseline accuracy", **SHARE_COLUMN),
            "macro F1": st.column_config.NumberColumn("macro F1", format="%.3f"),
            "test loss": st.column_config.NumberColumn(
                "test loss", format="%.3f", help=results.test_loss_help(False)
            ),
            "duration (s)": st.column_config.NumberColumn("duration (s)", format="localized"),
        },
    )
    paired.draw_run_pairs(run_id, compared, short)
    st.plotly_chart(
        runs_metric_bars(table, ["test accuracy", "macro F1", "baseline accuracy"]),
        key="cmp_bars",
    )
