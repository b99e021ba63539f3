"""One shared Predictor under concurrent use, as the app's cached predictor is used by
every visitor at once: the same answers as one by one, also while a training runs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pipeline.runs.registry import RunRegistry
from pipeline.scoring.predictor import Predictor
from pipeline.training.train import train_run
from tests.tiny_training import tiny_config

pytestmark = pytest.mark.training


def test_fifty_concurrent_predictions_equal_the_same_ones_made_one_by_one(
    trained_run, runs_dir, uci_small, tmp_path
):
    result, _ = trained_run
    predictor = Predictor.from_run(RunRegistry(runs_dir), result.run_id)
    texts = uci_small.frame["text"].tolist()[:50]
    one_by_one = [predictor.probabilities([text])[0] for text in texts]

    def predict(index: int) -> np.ndarray:
        return predictor.probabilities([texts[index]])[0]

    training_done = threading.Event()

    def train_beside() -> None:
        try:
            train_run(uci_small, tiny_config(epochs=2), runs_dir=tmp_path)
        finally:
            training_done.set()

    trainer = threading.Thread(target=train_beside)
    trainer.start()
    try:
        rounds = 0
        while rounds < 2 or not training_done.is_set():  # at least twice, and until it ends
            with ThreadPoolExecutor(max_workers=8) as pool:
                together = list(pool.map(predict, range(len(texts))))
            for alone, concurrent in zip(one_by_one, together, strict=True):
                np.testing.assert_allclose(concurrent, alone, rtol=0, atol=1e-6)
            rounds += 1
    finally:
        trainer.join(timeout=300)
    assert training_done.is_set()


def test_explain_is_predict_one_and_word_importance_in_one_call(trained_run, runs_dir):
    result, _ = trained_run
    predictor = Predictor.from_run(RunRegistry(runs_dir), result.run_id)
    text = "Stocks fall as oil prices climb"
    probabilities, importance = predictor.explain(text)
    assert list(probabilities) == list(predictor.predict_one(text))
    np.testing.assert_allclose(
        list(probabilities.values()), list(predictor.predict_one(text).values()), atol=1e-6
    )
    expected = predictor.word_importance(text)
    assert [w.word for w in importance] == [w.word for w in expected]
    np.testing.assert_allclose(
        [w.importance for w in importance], [w.importance for w in expected], atol=1e-5
    )
