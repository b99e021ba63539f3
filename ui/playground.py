"""The Playground page's glue: example sentences and batch scoring of a CSV."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from pipeline.data import guess_columns, read_table

if TYPE_CHECKING:
    from pipeline.predict import Predictor, WordImportance

#: The seed notebook's example sentences (the first three verbatim), one click away.
EXAMPLES: tuple[str, ...] = (
    "The startup company is booming",
    "That was an incredible performance by the actors",
    "The health of the kid is poor",
    "The new smartphone has an amazing camera",
    "Stocks fell sharply after the earnings report",
)
TEXT_KEY = "keep.playground.text"
BATCH_RESULT = "playground.batch_result"


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
    """Predictions for every row of the file's ``text_col``.

    Columns: ``text``, ``label`` (code), ``label_name``, ``confidence`` and one
    ``p_<code>`` probability per class, as ``Predictor.predict`` returns them.
    """
    frame, _ = _raw_table(hashlib.sha256(data).hexdigest(), name, data)
    return predictor.predict(frame[text_col].tolist())
