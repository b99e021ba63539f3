"""Playground: type a headline and see its category at once, with the words that
drove the prediction (and a note when the model knows none or only some of its
words); or score a whole CSV and download it with the predictions added. With no
run yet, one click trains a first model here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from ui.core.data import UPLOAD_TYPES
from ui.core.errors import report_errors
from ui.core.resources import get_predictor, get_registry
from ui.core.runs import pick_run, usable_runs
from ui.core.session import stop_run
from ui.core.text import escape_markdown, highlight_words
from ui.figures.playground import word_importance_bar
from ui.views.playground import (
    BATCH_RESULT,
    MAX_PROBABILITY_BARS,
    TEXT_KEY,
    batch_column_config,
    batch_columns,
    batch_summary,
    class_bar_text,
    confidence_text,
    explain,
    offer_first_run,
    playground_examples,
    probability_bars_caption,
    read_batch_file,
    rest_of_classes_text,
    score_batch,
    set_example,
    show_coverage_note,
)

if TYPE_CHECKING:  # imported for real it would import TensorFlow with the page
    from pipeline.scoring.predictor import Predictor

st.title("Playground")

runs = usable_runs()
if not runs:
    offer_first_run()  # trains a first model here; ends this script run

run_id = pick_run(runs, key="playground.run", label="Model (run)")


def loaded_predictor() -> Predictor:
    """The picked run's model, loaded once per server (``get_predictor``). When it cannot
    be loaded, the error is shown where this is called and this run of the page ends."""
    with report_errors() as outcome:
        predictor = get_predictor(run_id)
    if not outcome.ok:
        stop_run()
    return predictor


# --- one headline ------------------------------------------------------------------------
@st.fragment
def try_a_headline() -> None:
    """The headline box and its answer. A fragment: pressing Enter reruns this part
    alone, so the browser redraws the answer, not the whole page (with many visitors
    typing at once, the browsers' work was most of each answer's time)."""
    st.subheader("Try a headline")
    examples, caption = playground_examples(run_id)
    st.caption(caption)
    with st.container(horizontal=True):
        for i, example in enumerate(examples):
            st.button(  # a text from the file: its label is Markdown, so escaped
                escape_markdown(example),
                key=f"playground.example.{i}",
                on_click=set_example,
                args=(example,),
            )
    text = st.text_input(
        "Headline",
        key=TEXT_KEY,
        placeholder="Type a headline and press Enter",
    )

    if text and text.strip():
        predictor = loaded_predictor()
        with report_errors() as outcome:
            created_at = get_registry().run_info(run_id).created_at
            probabilities, importance = explain(predictor, run_id, created_at, text)
            coverage = predictor.word_coverage(text)
        if outcome.ok:
            predicted, confidence = next(iter(probabilities.items()))
            show_coverage_note(coverage)
            left, right = st.columns([1, 2])
            with left:
                st.metric(
                    "Predicted category",
                    escape_markdown(predicted),  # a metric's value is drawn as Markdown
                    delta=confidence_text(confidence),
                    delta_color="off",
                    delta_arrow="off",
                )
                st.markdown("**Words that drove it**")
                st.markdown(highlight_words(importance))
                st.caption(
                    ":green-background[green]: pushed towards "
                    f"{escape_markdown(predicted)}; :red-background[red]: pushed against it."
                )
            with right:
                # Native bars, not a plotly figure: drawn at every answer, a chart was most
                # of a browser's work when many visitors type at once (benchmarks/app_load.py).
                st.caption(probability_bars_caption(len(probabilities)))
                for name, probability in list(probabilities.items())[:MAX_PROBABILITY_BARS]:
                    st.progress(probability, text=class_bar_text(name, probability))
                rest = rest_of_classes_text(probabilities)
                if rest:
                    st.caption(rest)
            # A toggle, not an expander: the chart is built and drawn only when asked for.
            if st.toggle("Word importance in detail", key="keep.playground.importance_chart"):
                pairs = [(word.word, word.importance) for word in importance]
                st.plotly_chart(word_importance_bar(pairs), key="importance")
    else:
        st.caption("The prediction appears as soon as you press Enter.")


try_a_headline()
# The box first, the model under it: on a server that has just started, TensorFlow's
# import and the model's load take seconds, and the visitor types meanwhile (an Enter
# pressed then reruns the box's fragment once this run ends, with the model loaded).
predictor = loaded_predictor()

# --- a whole file ------------------------------------------------------------------------
st.subheader("Score a CSV")
upload = st.file_uploader(
    "CSV (or a .gz or .zip of one) with one headline per row",
    type=UPLOAD_TYPES,
    key="playground.batch",
)
if upload is None:
    st.session_state.pop(BATCH_RESULT, None)
else:
    with report_errors() as outcome:
        columns, guess = read_batch_file(upload.name, upload.getvalue())
    if outcome.ok:
        text_col = st.selectbox(
            "Text column",
            columns,
            index=columns.index(guess) if guess in columns else 0,
            key="playground.batch_col",
        )
        if st.button("Predict", key="playground.batch_go", type="primary"):
            with report_errors() as outcome, st.spinner("Scoring…"):
                st.session_state[BATCH_RESULT] = {
                    "source": (upload.file_id, text_col, run_id),
                    "frame": score_batch(predictor, upload.name, upload.getvalue(), text_col),
                    "columns": batch_columns(predictor, upload.name, upload.getvalue()),
                }
        result = st.session_state.get(BATCH_RESULT)
        if result is not None and result["source"] == (upload.file_id, text_col, run_id):
            frame = result["frame"]
            added = result.get("columns") or batch_columns(
                predictor, upload.name, upload.getvalue()
            )
            st.caption(batch_summary(frame, added, run_id))
            st.dataframe(frame, hide_index=True, column_config=batch_column_config(added))
            st.download_button(
                "Download predictions (CSV)",
                data=frame.to_csv(index=False).encode("utf-8"),
                file_name="predictions.csv",
                mime="text/csv",
                key="playground.batch_download",
                on_click="ignore",
            )
