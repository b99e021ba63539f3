"""Where the baseline is fitted: at once for a small training set, in a process beside
the training for a large one; both give the same score and cache it."""

from __future__ import annotations

import pytest

from pipeline.core.config import DataConfig
from pipeline.data.prepare import prepare
from pipeline.training import baseline
from pipeline.training.baseline import (
    ROW_PREDICTIONS,
    BaselineFit,
    cached_baseline,
    start_baseline,
)


@pytest.fixture(scope="module")
def prepared(uci_small):
    """The small UCI fixture, prepared with the default data settings."""
    return prepare(uci_small, DataConfig())


def test_a_small_training_set_is_fitted_at_once_and_cached(prepared, tmp_path):
    characters = int(prepared.train["text"].str.len().sum())
    assert characters <= baseline.INLINE_FIT_MAX_CHARACTERS
    score = start_baseline(prepared, tmp_path, "key")
    assert isinstance(score, dict) and "cached" not in score  # fitted, not a process
    assert len(score[ROW_PREDICTIONS]) == len(prepared.test)
    assert cached_baseline(tmp_path, "key") == score
    assert start_baseline(prepared, tmp_path, "key") == {**score, "cached": True}


def test_a_large_training_set_is_fitted_in_a_process_to_the_same_score(
    prepared, tmp_path, monkeypatch
):
    inline = start_baseline(prepared, tmp_path / "inline", "key")
    monkeypatch.setattr(baseline, "INLINE_FIT_MAX_CHARACTERS", 0)
    fitting = start_baseline(prepared, tmp_path / "process", "key")
    assert isinstance(fitting, BaselineFit)
    score = fitting.result(timeout=120)
    assert {**score, "seconds": 0} == {**inline, "seconds": 0}
    assert cached_baseline(tmp_path / "process", "key") == score


def test_a_cancelled_fit_ends_its_process_without_a_score(prepared, tmp_path):
    texts = list(prepared.train["text"])
    fitting = BaselineFit(
        texts * 20,
        list(prepared.train["label"]) * 20,
        list(prepared.test["text"]),
        list(prepared.test["label"]),
        class_weighted=False,
        cache_dir=tmp_path,
        key="key",
    )
    fitting.cancel()
    assert fitting.done() and fitting.result() is None
    assert cached_baseline(tmp_path, "key") is None
