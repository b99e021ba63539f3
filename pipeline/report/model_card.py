"""The report's model card, in words: what the model is for, the limits of the data it was
measured on, and where it is known to fail (after Mitchell et al., "Model Cards for Model
Reporting", 2019, cut to what a run knows about itself)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.class_sizes import MIN_TEST_ROWS_PER_CLASS
from pipeline.report.content import RunReport, failure_slices

#: Class names the intended-use sentence lists before "and N more".
LISTED_CLASSES = 12
#: Weakest classes and most confused pairs the failures list names.
LISTED_FAILURES = 3
#: How far below the macro F1 a class's F1 must be to be named a weak class (1 point).
WEAK_CLASS_GAP = 0.01


@dataclass(frozen=True)
class ModelCard:
    """Three lists of sentences: intended use, the data's limits, known failures."""

    intended_use: tuple[str, ...]
    data_limits: tuple[str, ...]
    known_failures: tuple[str, ...]


def model_card(report: RunReport, *, dedupe: str) -> ModelCard:
    """The model card of ``report``'s run; ``dedupe`` is the run's ``dedupe`` setting
    (``drop_all``, ``keep_first`` or ``none``)."""
    return ModelCard(
        intended_use=_intended_use(report),
        data_limits=_data_limits(report, dedupe),
        known_failures=_known_failures(report),
    )


def _intended_use(report: RunReport) -> tuple[str, ...]:
    learned = [row.name for row in report.classes if row.used]
    listed = ", ".join(learned[:LISTED_CLASSES])
    if len(learned) > LISTED_CLASSES:
        listed += f" and {len(learned) - LISTED_CLASSES:,} more"
    accuracy = report.scores[0].model
    said = [
        f"Sorting short texts like those of {report.dataset} into its {len(learned):,} "
        f"classes: {listed}.",
        "It reads the text alone (no publisher, date or link), and knows only the words "
        "and word pairs of its training rows.",
        "Not for: texts unlike its training data (another language, another period or "
        "source, whole articles); texts of a class it was not trained on (every text gets "
        "one of these classes); decisions about people without a human check.",
    ]
    if accuracy is not None:
        said.append(
            f"On {report.n_test:,} held-out test rows it chose the right class "
            f"{accuracy:.1%} of the time; the sections above say how that varies by class "
            "and slice."
        )
    return tuple(said)


def _data_limits(report: RunReport, dedupe: str) -> tuple[str, ...]:
    said = []
    if report.split.lower().startswith("grouped"):
        said.append(
            "Split grouped by story: no story has headlines in both the training and the "
            "test rows, so the scores measure news about stories the model has not seen."
        )
    else:
        said.append(
            f"Split: {report.split.lower()}. Headlines about the same story can sit in both "
            "the training and the test rows, so the scores may be optimistic for news about "
            "new stories (the story split measures that, where the data has a story column)."
        )
    if report.test_set == "balanced":
        said.append(
            "The test set is balanced (as many rows of every class): on real traffic, with "
            "its own mix of classes, accuracy will differ; the per-class recall says how."
        )
    else:
        said.append("The test set keeps every class's share of the data (stratified).")
    thin = [row for row in report.classes if row.thin]
    if thin:
        listed = ", ".join(f"{row.name} ({row.test_rows or 0:,})" for row in thin)
        said.append(
            f"{len(thin):,} class{'' if len(thin) == 1 else 'es'} ha"
            f"{'s' if len(thin) == 1 else 've'} fewer than {MIN_TEST_ROWS_PER_CLASS} test "
            f"rows: {listed}. Their precision, recall and F1 are too noisy to trust."
        )
    else:
        said.append(f"Every class has at least {MIN_TEST_ROWS_PER_CLASS} test rows.")
    if dedupe == "none":
        said.append(
            "Duplicated texts were kept: a copy can sit in both the training and the test "
            "rows, which flatters the scores."
        )
    else:
        said.append(
            f"{report.duplicates_removed:,} rows with duplicated texts were removed before "
            "the split"
            + (" (every copy)." if dedupe == "drop_all" else " (one copy of each kept).")
        )
    if report.empty_removed:
        said.append(f"{report.empty_removed:,} rows without words were removed.")
    if report.dropped_classes:
        listed = ", ".join(f"{name} ({rows:,})" for name, rows in report.dropped_classes.items())
        said.append(f"Classes dropped for having too few rows: {listed}.")
    return tuple(said)


def _known_failures(report: RunReport) -> tuple[str, ...]:
    said = [f"Weak slice: {text}." for text in failure_slices(report)]
    scored = [row for row in report.classes if row.f1 is not None and not row.thin]
    macro_f1 = report.scores[-1].model
    weakest = sorted(scored, key=lambda row: row.f1 or 0.0)[:LISTED_FAILURES]
    for row in weakest:
        if macro_f1 is not None and row.f1 is not None and row.f1 < macro_f1 - WEAK_CLASS_GAP:
            said.append(
                f"Weakest class: {row.name}, F1 {row.f1:.3f} (precision {row.precision:.3f}, "
                f"recall {row.recall:.3f}) against a macro F1 of {macro_f1:.3f}."
            )
    names = report.confusion_names
    for pair in report.confusions[:LISTED_FAILURES]:
        said.append(
            f"Often confused: {names[pair.true]} taken for {names[pair.predicted]} on "
            f"{pair.rows:,} test rows ({pair.share:.1%} of {names[pair.true]}'s)."
        )
    if not said:
        said.append("None found: no slice, class or pair of classes stands out.")
    elif not report.slices:
        said.append(f"Slices not measured: {report.slices_note}")
    return tuple(said)
