"""An epoch of the default's n-gram bag: Keras' own ``Embedding`` beside the row-read table.

The default preset's data and encoder on the bundled data (every deduplicated row, the
random split, the word-pair vocabulary adapted on the training rows), then the default's
bag (``ngram_bag``, lazy AdamW, batch 1,024, batches by length, class weights) trained
for ``--epochs`` epochs twice in this process, side by side: once with its two tables as
``keras.layers.Embedding`` (which reads the whole table at every step, so the
optimizer's sparse write copies it), once as ``RowReadEmbedding`` (what training builds).
The same rows, seed and batches; the time of each epoch but the first (tracing), samples
per second, and the validation accuracy after the last epoch.

    .venv/bin/python benchmarks/bag_step.py [--epochs 3] [--rounds 2]

Writes ``benchmarks/results/bag_step.json`` and ``.md``; prints the table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import keras
from flags import at_least_one
from keras import layers
from report import write_rows

from pipeline.core.presets import get_preset
from pipeline.data import load_default_dataset
from pipeline.data.prepare import prepare
from pipeline.models import build_classifier, compile_for_training
from pipeline.models.common import RowReadEmbedding
from pipeline.models.features import build_encoder, encode, feature_shapes
from pipeline.models.text import choose_sequence_length
from pipeline.training.batches import encode_split, training_batches


def _with_tables(classifier: keras.Model, table: type[layers.Embedding]) -> keras.Model:
    """A copy of ``classifier`` whose row-read tables are ``table``, the weights the same."""

    def clone(layer: layers.Layer) -> layers.Layer:
        kind = table if isinstance(layer, RowReadEmbedding) else type(layer)
        return kind.from_config(layer.get_config())

    copy = keras.models.clone_model(classifier, clone_function=clone)
    copy.set_weights(classifier.get_weights())
    return copy


def _epochs(table: type[layers.Embedding], splits: dict, shapes: dict, args) -> dict[str, object]:
    """Train the default's bag with ``table`` as its tables; its timings and accuracy."""
    config = get_preset("fast")
    keras.utils.set_random_seed(config.train.seed)
    classifier = _with_tables(build_classifier(config.model, shapes, args.classes), table)
    model = compile_for_training(classifier, config.model)
    train, validation = splits["train"], splits["validation"]
    batches = training_batches(train, args.batch, shuffle_seed=1, by_length=True)
    seconds = []
    for _ in range(args.epochs):
        started = time.perf_counter()
        model.fit(batches, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - started)
    probabilities = model.predict(validation.inputs, batch_size=2048, verbose=0)
    accuracy = float((probabilities.argmax(1) == validation.y).mean())
    per_epoch = statistics.median(seconds[1:])
    return {"s_per_epoch": per_epoch, "samples_per_s": len(train) / per_epoch, "acc": accuracy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=at_least_one, default=3)
    parser.add_argument("--rounds", type=at_least_one, default=2)
    parser.add_argument("--batch", type=at_least_one, default=1024)
    args = parser.parse_args()
    config = get_preset("fast")
    prepared = prepare(load_default_dataset(), config.data)
    texts = prepared.train["text"].tolist()
    length = config.model.sequence_length or choose_sequence_length(texts)
    encoder = build_encoder(texts, config.model, length)
    splits = {
        name: encode_split(
            frame, lambda t: encode(encoder, t), prepared.classes, prepared.class_weights
        )
        for name, frame in (("train", prepared.train), ("validation", prepared.validation))
    }
    shapes = feature_shapes(encoder, config.model)
    args.classes = len(prepared.classes)
    found: dict[str, list[dict[str, object]]] = {"keras Embedding": [], "RowReadEmbedding": []}
    for _ in range(args.rounds):  # alternated, so that a slower minute hits both
        found["keras Embedding"].append(_epochs(layers.Embedding, splits, shapes, args))
        found["RowReadEmbedding"].append(_epochs(RowReadEmbedding, splits, shapes, args))
    base = statistics.median(r["s_per_epoch"] for r in found["keras Embedding"])
    rows = []
    for table, runs in found.items():
        per_epoch = statistics.median(r["s_per_epoch"] for r in runs)
        rows.append(
            {
                "bag tables": table,
                "training rows": len(splits["train"]),
                "s / epoch": round(per_epoch, 2),
                "samples / s": round(len(splits["train"]) / per_epoch),
                f"validation accuracy after {args.epochs} epochs": round(
                    statistics.median(r["acc"] for r in runs), 4
                ),
                "speed-up": round(base / per_epoch, 2),
                "rounds": args.rounds,
            }
        )
    write_rows(rows, "bag_step")


if __name__ == "__main__":
    main()
