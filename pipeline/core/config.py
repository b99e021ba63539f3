"""One declarative description of an experiment: data, model and training settings.

An :class:`ExperimentConfig` names a run completely: together with the data's
fingerprint it decides the run id, so the same data trained with the same
settings is found in the cache instead of being trained again.

Every field is declared once with :func:`pipeline.core.settings.setting` (type, range,
label, help text); validation, the command-line flags and the app's widgets are
all generated from those declarations.

The presets are in :mod:`pipeline.core.presets`; older runs' configurations are
read with :mod:`pipeline.core.config_legacy`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pipeline.core.config_legacy import RENAMED_SETTINGS, upgrade_saved_settings
from pipeline.core.device import PRECISION_SETTINGS
from pipeline.core.errors import ConfigError
from pipeline.core.settings import coerce, declared, setting, validate_fields

#: Bounds of the automatic batch size (``TrainConfig.batch_size=None``, see
#: :func:`resolve_batch_size`).
AUTO_BATCH_MIN, AUTO_BATCH_MAX = 32, 2048
#: The automatic batch size's share of the training rows: about 33 steps an epoch until
#: the batch reaches :data:`AUTO_BATCH_MAX` (on 36,000 rows, 1,024 trained faster to a
#: better accuracy than 256 did).
AUTO_BATCH_SHARE = 0.03
#: The batch the learning rate setting is meant for: an automatic batch above it scales
#: the rate in proportion (:func:`resolve_learning_rate`). On the bundled data's 236,320
#: training rows, batches of 2,048 at twice the rate reached the validation accuracy of
#: 1,024 in as many epochs, each about 30 % shorter (fewer steps, fewer repeated n-gram
#: rows to update); at the same rate they needed more epochs.
LEARNING_RATE_BATCH = 1024
#: Percentile of the training texts' token counts that the automatic sequence length
#: (``ModelConfig.sequence_length=None``) covers in full, and its bounds; used by
#: ``pipeline.models.text.choose_sequence_length``.
AUTO_LENGTH_PERCENTILE = 99.9
AUTO_LENGTH_MIN, AUTO_LENGTH_MAX = 8, 256

#: Model families, in the order the Train page and the CLI list them, with one line each.
#: ``pipeline.models`` holds a builder for every name (a test checks they match).
MODEL_FAMILIES: dict[str, str] = {
    "ngram_bag": "Bag of n-grams (fastText-like): word 1-2 gram embeddings averaged. "
    "The fastest; the default.",
    "ngram_ensemble": "Two n-gram bags, over words and over characters, each trained on its "
    "own loss, probabilities averaged. The most accurate; a few times slower.",
    "wide_deep": "Wide and deep: a bag of word 1-2 grams beside a CNN over words, logits added.",
    "cnn": "1D CNN: word embeddings, 128 filters of width 3, global max pooling.",
    "bigru": "Bidirectional GRU over word embeddings.",
    "lstm": "The seed notebook's layout: embedding, spatial dropout, one LSTM, softmax.",
}
DEDUPE_LABELS = {
    "drop_all": "Drop every copy (as the notebook)",
    "keep_first": "Keep one copy",
    "none": "Keep duplicates",
}
BALANCE_LABELS = {
    "class_weights": "Class weights (every row, loss weighted by class)",
    "downsample": "Downsample to the smallest class",
    "cap": "Cap rows per class",
    "none": "No balancing",
}
SPLIT_LABELS = {"random": "Stratified random", "story": "Grouped by story"}
TEST_SET_LABELS = {
    "stratified": "Stratified (the test share of every class)",
    "balanced": "Balanced (the seed's: as many rows of every class)",
}
PADDING_LABELS = {"post": "right, masked", "pre": "left, as pad_sequences"}
TOKENIZER_LABELS = {
    "standard": "TextVectorization (rare words -> out-of-vocabulary id)",
    "keras2": "Keras 2 Tokenizer rebuilt (rare words dropped, left pad and truncate)",
}
OPTIMIZER_LABELS = {
    "lazy_adamw": "AdamW, embedding rows updated only when their ids are in a batch",
    "adam": "Adam, every weight at every step (the seed's)",
}
BLEND_LABELS = {
    "tuned": "Network + TF-IDF logistic regression, weight tuned on validation rows",
    "off": "The network alone",
}
_FRACTION = {"minimum": 0.0, "maximum": 1.0, "exclusive_minimum": True, "exclusive_maximum": True}
_DROPOUT = {"minimum": 0.0, "maximum": 0.95, "step": 0.05, "example": "0.2"}
_SEQUENCE = ("lstm", "bigru", "cnn", "wide_deep")
_RECURRENT = ("lstm", "bigru")
_NGRAM = ("ngram_bag", "ngram_ensemble", "wide_deep")


@dataclass(frozen=True)
class DataConfig:
    """How the loaded dataset is cleaned, balanced and split (see ``pipeline.data.prepare``)."""

    dedupe: str = setting(
        "drop_all",
        "choice",
        "Duplicated texts",
        "drop_all removes every copy of a duplicated text (the seed's keep=False); "
        "keep_first keeps one copy; none keeps every row.",
        choices=tuple(DEDUPE_LABELS),
        choice_labels=DEDUPE_LABELS,
        example="drop_all",
    )
    balance: str = setting(
        "class_weights",
        "choice",
        "Balancing",
        "class_weights trains on every row, weighting the loss by class; downsample cuts "
        "every class to the smallest; cap cuts every class to cap_per_class rows; none keeps "
        "every row.",
        choices=tuple(BALANCE_LABELS),
        choice_labels=BALANCE_LABELS,
        example="class_weights",
    )
    cap_per_class: int | None = setting(
        None,
        "int",
        "Cap per class",
        "Most rows kept per class when balancing by cap.",
        minimum=1,
        optional=True,
        step=500,
        example="5000",
    )
    min_class_rows: int = setting(
        10,
        "int",
        "Smallest class kept",
        "Classes with fewer rows after cleaning are dropped, with a note naming them.",
        minimum=3,
        maximum=100_000,
        step=1,
        example="10",
    )
    test_size: float = setting(
        0.25, "float", "Test share", "Share of the rows held out for testing.",
        step=0.05, example="0.25", slider=True, **_FRACTION,
    )  # fmt: skip
    val_size: float = setting(
        0.2, "float", "Validation share",
        "Share of the rows left after the test set that is held out for validation.",
        step=0.05, example="0.2", slider=True, **_FRACTION,
    )  # fmt: skip
    test_set: str = setting(
        "stratified",
        "choice",
        "Test set",
        "stratified holds out the test share of every class's rows, in the data's own "
        "proportions; balanced holds out the rows the seed notebook tested on (every class "
        "downsampled to the smallest, then the test share), to compare with it on UCI.",
        choices=tuple(TEST_SET_LABELS),
        choice_labels=TEST_SET_LABELS,
        example="stratified",
    )
    split: str = setting(
        "random",
        "choice",
        "Split",
        "random is a stratified random split; story keeps every row of a news story (the "
        "STORY column) on one side of every split, so near-identical headlines of one story "
        "cannot leak from training into test.",
        choices=tuple(SPLIT_LABELS),
        choice_labels=SPLIT_LABELS,
        example="story",
    )
    seed: int = setting(
        42, "int", "Data seed", "Seed of every random choice in balancing and splitting.",
        minimum=0, maximum=2**31 - 1, step=1, example="42",
    )  # fmt: skip

    @staticmethod
    def uses(name: str, balance: str) -> bool:
        """Whether setting ``name`` has any effect with balancing ``balance``: the cap
        per class only when balancing caps (the one setting that depends on another)."""
        return name != "cap_per_class" or balance == "cap"

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad value, if any."""
        validate_fields(self)
        if self.balance == "cap" and self.cap_per_class is None:
            raise ConfigError(
                "Balancing by cap needs a positive cap per class (got None); set "
                "cap_per_class, e.g. 5000."
            )


@dataclass(frozen=True)
class ModelConfig:
    """The model family, its text vectorizer and its layers' sizes."""

    family: str = setting(
        "ngram_bag",
        "choice",
        "Model family",
        "; ".join(f"{name}: {text}" for name, text in MODEL_FAMILIES.items()),
        choices=tuple(MODEL_FAMILIES),
        example="ngram_bag",
    )
    max_tokens: int = setting(
        30_000, "int", "Vocabulary (words)",
        "Most frequent words kept (padding and out-of-vocabulary ids included).",
        minimum=10, maximum=1_000_000, step=1000, example="30000", families=_SEQUENCE,
    )  # fmt: skip
    sequence_length: int | None = setting(
        None, "int", "Sequence length",
        "Words per text; empty means automatic: the "
        f"{AUTO_LENGTH_PERCENTILE:g}th percentile of the training texts' lengths, from "
        f"{AUTO_LENGTH_MIN:,} to {AUTO_LENGTH_MAX:,}.",
        minimum=1, maximum=1024, optional=True, step=1, example="32", families=_SEQUENCE,
    )  # fmt: skip
    padding: str = setting(
        "post", "choice", "Padding",
        "post pads on the right under a mask (what the cuDNN kernel needs); pre pads on the "
        "left like the seed's pad_sequences.",
        choices=tuple(PADDING_LABELS), choice_labels=PADDING_LABELS, example="post",
        families=_SEQUENCE,
    )  # fmt: skip
    tokenizer: str = setting(
        "standard", "choice", "Tokenizer",
        "standard: Keras 3 TextVectorization; keras2: the seed's Tokenizer + pad_sequences "
        "rebuilt exactly (needs padding pre).",
        choices=tuple(TOKENIZER_LABELS), choice_labels=TOKENIZER_LABELS, example="standard",
        families=_SEQUENCE,
    )  # fmt: skip
    embedding_dim: int = setting(
        64, "int", "Embedding size", "Width of the word embeddings.",
        minimum=1, maximum=1024, step=16, example="128", families=_SEQUENCE,
    )  # fmt: skip
    spatial_dropout: float = setting(
        0.2, "float", "Spatial dropout", "Share of embedding channels dropped in training.",
        families=_SEQUENCE, **_DROPOUT,
    )  # fmt: skip
    units: int = setting(
        64, "int", "Recurrent units", "Units of the LSTM (or of each GRU direction).",
        minimum=1, maximum=1024, step=16, example="64", families=_RECURRENT,
    )  # fmt: skip
    recurrent_dropout: float = setting(
        0.0, "float", "Recurrent dropout",
        "Above 0 the LSTM cannot use the fast cuDNN kernel on a GPU.",
        families=_RECURRENT, **_DROPOUT,
    )  # fmt: skip
    recurrent_activation: str = setting(
        "sigmoid", "choice", "Gate activation",
        "sigmoid (Keras 3, cuDNN-ready) or hard_sigmoid (Keras 2.2's default, the seed's).",
        choices=("sigmoid", "hard_sigmoid"), example="sigmoid", families=_RECURRENT,
    )  # fmt: skip
    filters: int = setting(
        128, "int", "CNN filters", "Convolution filters of the CNN.",
        minimum=1, maximum=2048, step=16, example="128", families=("cnn", "wide_deep"),
    )  # fmt: skip
    kernel_size: int = setting(
        3, "int", "CNN width", "Words each convolution filter sees.",
        minimum=1, maximum=9, step=1, example="3", families=("cnn", "wide_deep"),
    )  # fmt: skip
    ngram_tokens: int = setting(
        600_000, "int", "N-gram vocabulary", "Most frequent word 1-2 grams kept.",
        minimum=100, maximum=5_000_000, step=10_000, example="600000", families=_NGRAM,
    )  # fmt: skip
    ngram_dim: int = setting(
        32, "int", "N-gram embedding size", "Width of the n-gram embeddings of the bag.",
        minimum=1, maximum=1024, step=16, example="64", families=_NGRAM,
    )  # fmt: skip
    char_tokens: int = setting(
        300_000, "int", "Character n-gram vocabulary",
        "Most frequent character 3-5 grams kept by the ensemble's character bag.",
        minimum=100, maximum=2_000_000, step=10_000, example="300000",
        families=("ngram_ensemble",),
    )  # fmt: skip
    dropout: float = setting(
        0.2, "float", "Dropout", "Dropout before the output layer (the LSTM's input dropout).",
        **_DROPOUT,
    )  # fmt: skip
    learning_rate: float = setting(
        4e-3, "float", "Learning rate",
        "The optimizer's initial learning rate. An automatic batch over "
        f"{LEARNING_RATE_BATCH:,} rows scales it in proportion (2,048 rows: twice).",
        minimum=0.0, maximum=1.0, exclusive_minimum=True, step=1e-4, example="0.001",
    )  # fmt: skip
    optimizer: str = setting(
        "lazy_adamw", "choice", "Optimizer",
        "lazy_adamw: AdamW that moves an embedding row only at the steps whose batch holds "
        "its ids (several times faster on big vocabularies); adam: every weight at every "
        "step, as the seed.",
        choices=tuple(OPTIMIZER_LABELS), choice_labels=OPTIMIZER_LABELS, example="lazy_adamw",
    )  # fmt: skip
    weight_decay: float = setting(
        0.6, "float", "Weight decay",
        "lazy_adamw's decoupled weight decay: each step shrinks the weights it moves by "
        "learning rate x this share (0 for none).",
        minimum=0.0, maximum=10.0, step=0.1, example="0.6",
    )  # fmt: skip

    blend: str = setting(
        "tuned", "choice", "Linear blend",
        "tuned: after training, fit a TF-IDF logistic regression on the same word 1-2 grams "
        "inside the model and average its log-probabilities with the network's, the "
        "network's share picked on the validation rows (it wins on small, many-class files; "
        "the network carries it on large ones); off: the network alone.",
        choices=tuple(BLEND_LABELS), choice_labels=BLEND_LABELS, example="tuned",
        families=_NGRAM,
    )  # fmt: skip

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad value, if any."""
        validate_fields(self)
        if self.tokenizer == "keras2" and self.padding != "pre":
            raise ConfigError(
                "The keras2 tokenizer pads and truncates on the left like pad_sequences; "
                "set padding to pre (got post)."
            )


@dataclass(frozen=True)
class TrainConfig:
    """The fit loop: epochs, batch size, early stopping, schedule, precision and seed."""

    epochs: int = setting(
        100, "int", "Epochs (at most)", "Early stopping on validation loss usually ends sooner.",
        minimum=1, maximum=1000, step=1, example="30",
    )  # fmt: skip
    batch_size: int | None = setting(
        None, "int", "Batch size",
        f"Rows per training step; empty means automatic: about {AUTO_BATCH_SHARE * 100:g} % of the "
        "training rows, "
        f"between {AUTO_BATCH_MIN:,} and {AUTO_BATCH_MAX:,}, so small datasets still get "
        "enough steps per epoch.",
        minimum=1, maximum=65_536, optional=True, step=32, example="256",
    )  # fmt: skip
    patience: int = setting(
        2, "int", "Early-stopping patience",
        "Epochs without a better validation loss before training stops.",
        minimum=0, maximum=1000, step=1, example="2",
    )  # fmt: skip
    min_delta: float = setting(
        1e-4, "float", "Smallest improvement", "A smaller fall of validation loss counts as none.",
        minimum=0.0, maximum=1.0, step=1e-4, example="0.0001",
    )  # fmt: skip
    lr_schedule: str = setting(
        "plateau", "choice", "Learning-rate schedule",
        "plateau halves the learning rate after an epoch without a better validation loss; "
        "constant keeps it.",
        choices=("plateau", "constant"), example="plateau",
    )  # fmt: skip
    prior_shift: str = setting(
        "tuned", "choice", "Class-prior shift",
        "tuned: after training, shift each class's score by tau x the log of its share of the "
        "training rows, tau from -1 to 1 picked for the best validation macro F1 at the test "
        "set's class mix (class weights favour small classes; this sets how much); off: keep "
        "the trained scores, as the seed.",
        choices=("tuned", "off"), example="tuned",
    )  # fmt: skip
    mixed_precision: str = setting(
        "auto", "choice", "Mixed precision",
        "float16 compute with float32 weights: auto turns it on exactly when a GPU trains.",
        choices=PRECISION_SETTINGS, example="auto",
    )  # fmt: skip
    seed: int = setting(
        42, "int", "Training seed", "Seed of the weights and the batch order.",
        minimum=0, maximum=2**31 - 1, step=1, example="42",
    )  # fmt: skip

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad value, if any."""
        validate_fields(self)


SECTIONS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that decides a run, under the name of the preset it came from."""

    preset: str = "fast"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> ExperimentConfig:
        """Check every section; return ``self`` so calls can be chained."""
        self.data.validate()
        self.model.validate()
        self.train.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"preset", "data", "model", "train"}``."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> ExperimentConfig:
        """Rebuild a config from :meth:`to_dict` output.

        Settings saved before a setting existed take its default; an unknown
        setting or a section that is not a mapping is a :class:`ConfigError`.
        """
        if not isinstance(raw, dict):
            raise ConfigError(f"A saved configuration must be a JSON object (got {raw!r:.40}).")
        sections = {}
        for name, section in SECTIONS.items():
            values = raw.get(name, {})
            if not isinstance(values, dict):
                raise ConfigError(f"The saved {name} settings must be a JSON object.")
            values = upgrade_saved_settings(name, values)
            known = {f.name for f in dataclasses.fields(section)}
            unknown = sorted(set(values) - known)
            if unknown:
                raise ConfigError(
                    f"The saved configuration has an unknown {name} setting: {unknown[0]!r}."
                )
            sections[name] = section(**values)
        return cls(preset=str(raw.get("preset", "custom")), **sections)

    def with_overrides(self, **overrides: Any) -> ExperimentConfig:
        """Return a copy with settings replaced by name.

        Names are looked up in the data, model and train sections (for a name in
        two sections, prefix it: ``data_seed``, ``train_seed``). Values may be
        strings (from a command line): they are converted by the setting's
        declaration, and a wrong type gets the same message as a wrong value.
        ``None`` leaves a setting as it is, except for optional settings
        (``sequence_length``, ``cap_per_class``) where it means "automatic".
        """
        current = {"data": self.data, "model": self.model, "train": self.train}
        changes: dict[str, dict[str, Any]] = {name: {} for name in current}
        for key, value in overrides.items():
            section_name, field_name = _locate_field(RENAMED_SETTINGS.get(key, key))
            spec = dict(declared(SECTIONS[section_name]))[field_name]
            if value is None and not spec.optional:
                continue
            changes[section_name][field_name] = coerce(field_name, spec, value)
        return ExperimentConfig(
            preset=self.preset,
            **{
                name: dataclasses.replace(section, **changes[name])
                for name, section in current.items()
            },
        )


def resolve_batch_size(setting_value: int | None, train_rows: int) -> int:
    """The batch size a fit uses: the setting, or about :data:`AUTO_BATCH_SHARE` of
    ``train_rows``.

    The automatic size is a power of two from :data:`AUTO_BATCH_MIN` to
    :data:`AUTO_BATCH_MAX`: the largest on the full UCI data (fast epochs), the
    smallest on a few thousand rows (enough steps per epoch to converge).
    """
    if setting_value is not None:
        return setting_value
    target = max(AUTO_BATCH_MIN, min(AUTO_BATCH_MAX, int(train_rows * AUTO_BATCH_SHARE)))
    return 1 << (target.bit_length() - 1)


def resolve_learning_rate(
    learning_rate: float, batch_setting: int | None, train_rows: int
) -> float:
    """The learning rate a fit of ``train_rows`` rows starts from: ``learning_rate`` as set,
    times ``batch / LEARNING_RATE_BATCH`` when the batch is automatic (``batch_setting``
    ``None``, :func:`resolve_batch_size`) and larger than :data:`LEARNING_RATE_BATCH`.

    The linear scaling rule: a batch twice as large takes half as many steps, each twice
    as long. A batch size set by hand keeps the learning rate set beside it.
    """
    batch_size = resolve_batch_size(batch_setting, train_rows)
    if batch_setting is not None or batch_size <= LEARNING_RATE_BATCH:
        return learning_rate
    return learning_rate * batch_size / LEARNING_RATE_BATCH


def config_hash(payload: dict[str, Any]) -> str:
    """A stable short hash of a JSON-ready dict (key order does not matter)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _locate_field(key: str) -> tuple[str, str]:
    for prefix, section in SECTIONS.items():
        if key.startswith(prefix + "_"):
            name = key[len(prefix) + 1 :]
            if name in dict(declared(section)):
                return prefix, name
    owners = [name for name, section in SECTIONS.items() if key in dict(declared(section))]
    if len(owners) == 1:
        return owners[0], key
    if len(owners) > 1:
        raise ConfigError(
            f"Setting {key!r} exists in {' and '.join(owners)}; "
            f"write {owners[0]}_{key} or {owners[1]}_{key}."
        )
    raise ConfigError(f"Unknown setting {key!r}.")
