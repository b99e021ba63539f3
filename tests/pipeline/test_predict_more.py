"""Batch scoring that keeps a file's columns, and which of a text's words a run knows.

``score_table`` runs on the session's tiny trained run (``trained_run``); the
vocabulary rule is checked on real encoders adapted on a few headlines (no
training needed: :meth:`Predictor.word_coverage` reads only the vectorizers).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core.config import ModelConfig
from pipeline.core.errors import PredictionError
from pipeline.models.features import build_encoder
from pipeline.runs.registry import RunRegistry
from pipeline.scoring.files import TableScorer
from pipeline.scoring.predictor import Predictor, WordCoverage
from pipeline.scoring.source import open_source
from pipeline.scoring.summary import NOTE_EMPTY, NOTE_NO_KNOWN_WORD, NOTE_NO_WORDS

ROOT = Path(__file__).resolve().parents[2]

TRAIN_TEXTS = [
    "Stocks rally as the Fed holds rates",
    "Fed's chair speaks on rates",
    "New phone launch draws crowds",
    "Ebola outbreak spreads in the west",
]


def encoder_predictor(**model) -> Predictor:
    """A Predictor around an encoder adapted on ``TRAIN_TEXTS`` (never called)."""
    encoder = build_encoder(TRAIN_TEXTS, ModelConfig(**model), sequence_length=8)
    return Predictor(encoder, "encoder-only", ["a", "b"], {"a": "A", "b": "B"})


@pytest.fixture(scope="module")
def predictor(trained_run, runs_dir) -> Predictor:
    result, _ = trained_run
    return Predictor.from_run(RunRegistry(runs_dir), result.run_id)


def test_score_table_keeps_every_column_and_marks_rows_it_did_not_score(predictor):
    vocabulary_word = next(  # a word the run surely knows
        word for word in ("the", "to", "of", "in") if predictor.word_coverage(word).known_count
    )
    frame = pd.DataFrame(
        {
            "id": ["7", "8", "9", "10", "11"],
            "headline": ["Stocks rally as Fed holds rates", "", "?!", "zzqx qqwv", vocabulary_word],
            "source": ["wire", "blog", "wire", "blog", "wire"],
            # columns the added ones would be called: they stay the file's own
            "note": ["n1", "n2", "n3", "n4", "n5"],
            "confidence": ["high", "low", "", "", ""],
        },
        index=[10, 20, 30, 40, 50],  # a filtered frame: the index is not reused
    )
    scored = predictor.score_table(frame, "headline")
    names = predictor.scored_columns(frame.columns)
    assert list(scored.columns) == [*frame.columns, *names.all]
    assert names.note == "note (model)" and names.confidence == "confidence (model)"
    assert names.predicted == "predicted" and names.predicted_code == "predicted_code"
    assert list(names.probabilities) == predictor.classes
    assert list(names.probabilities.values()) == [
        f"probability: {predictor.label_names[code]}" for code in predictor.classes
    ]
    # the file's own cells, unchanged, in order
    pd.testing.assert_frame_equal(scored[list(frame.columns)], frame.reset_index(drop=True))

    expected = predictor.predict(frame["headline"].tolist())
    assert list(scored[names.predicted_code]) == list(expected["label"])
    assert list(scored[names.predicted]) == list(expected["label_name"])
    for code, column in names.probabilities.items():
        np.testing.assert_allclose(scored[column], expected[f"p_{code}"], equal_nan=True)
    assert list(scored[names.note]) == ["", NOTE_EMPTY, NOTE_NO_WORDS, NOTE_NO_KNOWN_WORD, ""]
    for row in (1, 2):  # not scored: empty prediction cells, no probability
        assert (
            scored.loc[row, names.predicted] == "" and scored.loc[row, names.predicted_code] == ""
        )
        assert scored.loc[row, [names.confidence, *names.probabilities.values()]].isna().all()
    # a text with no known word is still scored (and says so)
    assert scored.loc[3, names.predicted] != ""
    assert scored.loc[3, names.confidence] == pytest.approx(
        max(scored.loc[3, list(names.probabilities.values())])
    )


def test_score_table_names_and_missing_text_column(predictor):
    taken = ["predicted", "predicted (model)", f"probability: {predictor.label_names['b']}"]
    names = predictor.scored_columns(taken)
    assert names.predicted == "predicted (model 2)"
    assert names.probabilities["b"] == f"probability: {predictor.label_names['b']} (model)"
    assert len(set(names.all) | set(taken)) == len(names.all) + len(taken)

    frame = pd.DataFrame({"title": [None, float("nan"), "Stocks rally"]})
    scored = predictor.score_table(frame, "title")
    assert list(scored[predictor.scored_columns(["title"]).note])[:2] == [NOTE_EMPTY] * 2
    with pytest.raises(PredictionError, match=r"no column 'headline'.*title.*pick the column"):
        predictor.score_table(frame, "headline")


def test_word_coverage_of_the_default_word_vectorizer():
    predictor = encoder_predictor(family="cnn")
    assert predictor.word_coverage("Stocks RALLY, rates!") == WordCoverage(
        ("stocks", "rally", "rates"), (), 3, False
    )
    some = predictor.word_coverage("Stocks zzqx on zzqx Mars")
    assert some.words == ("stocks", "zzqx", "on", "zzqx", "mars")
    assert some.unknown == ("zzqx", "mars") and some.known_count == 2
    assert some.some_unknown and not some.none_known
    none = predictor.word_coverage("Quantum pasta")
    assert none.none_known and not none.some_unknown and none.unknown == ("quantum", "pasta")
    empty = predictor.word_coverage("?!")
    assert empty.words == () and not empty.none_known and not empty.some_unknown


def test_word_coverage_reads_single_words_of_the_ngram_vocabulary():
    bag = encoder_predictor(family="ngram_bag")
    # "the fed" is a known word pair, yet "the fed" is not a word: each word is looked up
    assert bag.word_coverage("the fed").known_count == 2
    assert bag.word_coverage("fed stocks") == WordCoverage(("fed", "stocks"), (), 2, False)
    assert bag.word_coverage("stocks fed") == WordCoverage(("stocks", "fed"), (), 2, False)
    assert bag.word_coverage("pasta").none_known
    ensemble = encoder_predictor(family="ngram_ensemble")
    coverage = ensemble.word_coverage("pasta rates")
    assert coverage.reads_characters and coverage.unknown == ("pasta",)


def test_word_coverage_of_the_seed_tokenizer_splits_on_spaces_only():
    seed = encoder_predictor(family="lstm", tokenizer="keras2", padding="pre")
    assert seed.word_coverage("fed's rates") == WordCoverage(("fed's", "rates"), (), 2, False)
    # a tab stays inside a word for the seed Tokenizer, so "rates\tfed" is one unknown word
    assert seed.word_coverage("rates\tfed").unknown == ("rates\tfed",)


def test_counting_scored_rows_needs_no_keras(predictor, tmp_path):
    """Found (CI): the Ray engine's driver imported Keras when it counted the first scored
    table, only for the notes' wording. That import took seconds, and a Ctrl-C landing in
    it left Keras half-imported: the job ended with "'predict' failed unexpectedly
    (ImportError: ... optree ...)" instead of stopping."""
    csv = tmp_path / "in.csv"
    csv.write_text("id,title\n1,Stocks rally as Fed holds rates\n2,\n3,?!\n4,zzqx qqwv\n")
    source = open_source(csv)
    scored = TableScorer(predictor, source.schema, source.text_col)(
        pa.table({"id": [b"1", b"2", b"3", b"4"],
                  "title": [b"Stocks rally as Fed holds rates", b"", b"?!", b"zzqx qqwv"]})
    )  # fmt: skip
    pq.write_table(scored, tmp_path / "scored.parquet")
    script = (
        "import json, sys\n"
        "import pyarrow.parquet as pq\n"
        "from pipeline.scoring.source import open_source\n"
        "from pipeline.scoring.summary import ScoringSummary\n"
        "summary = ScoringSummary()\n"
        f"summary.count(pq.read_table({str(tmp_path / 'scored.parquet')!r}), "
        f"open_source(__import__('pathlib').Path({str(csv)!r})))\n"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules\n"
        "print(json.dumps(summary.to_json()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    counted = json.loads(done.stdout)
    assert counted["rows"] == 4 and counted["scored"] == 2
    assert counted["not_scored"] == {"empty text": 1, "no words": 1}
    assert counted["noted"] == {"no known word": 1}
