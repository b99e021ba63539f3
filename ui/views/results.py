"""The Results page's logic, kept out of the page: the baseline comparison rule, metric
deltas for people, the "top confusions" table and the "Compare runs" selection.

Everything but :func:`follow_picked_run` is pure (plain values in, plain values out),
so it is unit-tested without Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from pipeline.core.config import ExperimentConfig
from pipeline.core.presets import DEFAULT_PRESET, PRESETS
from pipeline.core.settings import declared
from pipeline.evaluation.confusions import confused_pairs
from pipeline.runs.decision import BlendRecord, PriorShiftRecord
from pipeline.runs.history import EpochRow
from ui.core.numbers import format_points, format_score, format_share

#: The smallest accuracy gap worth a warning, whatever the test set's size: 0.1 points.
MIN_MEANINGFUL_GAP = 0.001
#: Session-state key remembering which picked run the comparison selection follows.
COMPARE_FOLLOWS = "results.compare_follows"

DeltaColor = Literal["normal", "off"]


def resolvable_gap(accuracy: float, n_test: int) -> float:
    """The smallest accuracy difference a test set of ``n_test`` rows resolves.

    One binomial standard error of an accuracy near ``accuracy`` (``sqrt(p(1-p)/n)``),
    and never less than :data:`MIN_MEANINGFUL_GAP` (0.1 points).
    """
    p = min(max(accuracy, 0.0), 1.0)
    standard_error = math.sqrt(p * (1 - p) / n_test) if n_test > 0 else 1.0
    return max(MIN_MEANINGFUL_GAP, standard_error)


@dataclass(frozen=True)
class BaselineVerdict:
    """How the model compares with the TF-IDF baseline on the same test rows."""

    #: Baseline minus model accuracy (positive: the baseline is ahead).
    accuracy_gap: float
    #: Baseline minus model macro F1, ``None`` when either is missing.
    f1_gap: float | None
    #: The smallest gap the test set resolves (see :func:`resolvable_gap`).
    threshold: float

    @property
    def baseline_better(self) -> bool:
        """The baseline is ahead by more than the test set's size can resolve."""
        return self.accuracy_gap > self.threshold or (
            self.f1_gap is not None and self.f1_gap > self.threshold
        )


def compare_with_baseline(
    accuracy: float | None,
    baseline_accuracy: float | None,
    n_test: int,
    *,
    macro_f1: float | None = None,
    baseline_f1: float | None = None,
) -> BaselineVerdict | None:
    """The model against the baseline, or ``None`` when either accuracy is missing."""
    if accuracy is None or baseline_accuracy is None:
        return None
    f1_gap = None if macro_f1 is None or baseline_f1 is None else baseline_f1 - macro_f1
    return BaselineVerdict(
        accuracy_gap=baseline_accuracy - accuracy,
        f1_gap=f1_gap,
        threshold=resolvable_gap((accuracy + baseline_accuracy) / 2, n_test),
    )


def changed_settings(experiment: ExperimentConfig) -> list[str]:
    """The labels of the model and training settings where ``experiment`` differs from
    its own preset (the seed and the epoch limit aside: neither makes a model better)."""
    preset = PRESETS.get(experiment.preset)
    if preset is None:
        return []
    changed = []
    for section in ("model", "train"):
        mine, theirs = getattr(experiment, section), getattr(preset, section)
        for name, spec in declared(mine):
            if name not in {"seed", "epochs"} and getattr(mine, name) != getattr(theirs, name):
                changed.append(spec.label)
    return changed


def baseline_advice(
    experiment: ExperimentConfig,
    history: Sequence[EpochRow],
    *,
    stopped: bool = False,
) -> list[str]:
    """What might close a gap to the baseline, for this run: phrases to join.

    Parameters
    ----------
    experiment : ExperimentConfig
        The run's settings (``saved.config.experiment``).
    history : sequence of EpochRow
        The run's per-epoch history (``best`` and ``partial`` flags).
    stopped : bool
        The run was stopped by hand.

    The default preset is advised to a run of another preset, its own settings to a run
    of it that changed them, the accurate preset to a run of the default one as it
    comes; class weights to a run without them; more epochs to a run whose best epoch
    was its last and that used every epoch it was allowed.
    """
    advice = []
    if stopped:
        advice.append("training it to the end (this run was stopped)")
    changed = changed_settings(experiment)
    if experiment.preset != DEFAULT_PRESET:
        advice.append(f"the default preset ({DEFAULT_PRESET})")
    elif changed:
        shown = ", ".join(changed[:3]) + (" …" if len(changed) > 3 else "")
        advice.append(f"the default preset's own settings (this run changed {shown})")
    elif "accurate" in PRESETS:
        advice.append("the accurate preset (slower, usually more accurate)")
    if experiment.data.balance != "class_weights":
        advice.append("class weights (Prepare)")
    whole = [row for row in history if not row.partial]
    best = next((row.epoch for row in whole if row.best), None)
    if (
        not stopped
        and whole
        and len(whole) >= experiment.train.epochs
        and best in (None, whole[-1].epoch)
    ):
        advice.append("more epochs (the last one was still the best)")
    return advice


def baseline_warning(verdict: BaselineVerdict | None, advice: Sequence[str]) -> str | None:
    """The warning shown when the baseline beats the model by a meaningful gap, else ``None``.

    The gaps read in points of accuracy and macro F1 (never ``-0.000``); ``advice`` (see
    :func:`baseline_advice`) is what this run might try; without any, the warning says
    the baseline may suit this data better.
    """
    if verdict is None or not verdict.baseline_better:
        return None
    gaps = []
    if verdict.accuracy_gap > 0:
        gaps.append(f"{verdict.accuracy_gap * 100:.1f} points of accuracy")
    if verdict.f1_gap is not None and verdict.f1_gap > 0:
        gaps.append(f"{format_score(verdict.f1_gap)} of macro F1")
    said = (
        f"The TF-IDF baseline beats this model on this split by {' and '.join(gaps)} (the "
        f"test set resolves about {verdict.threshold * 100:.1f} points)."
    )
    if not advice:
        return (
            f"{said} This run already uses the settings that usually do best: on this data "
            "a linear model may simply suit better; keep it as the bar to beat, or add "
            "training rows."
        )
    listed = advice[0] if len(advice) == 1 else ", ".join(advice[:-1]) + " or " + advice[-1]
    return f"{said} Try {listed}."


def delta_text(
    difference: float | None, *, percent: bool, meaningful: bool = True
) -> tuple[str | None, DeltaColor]:
    """An ``st.metric`` delta against the baseline and its colour.

    With ``percent``, shares differ by percentage points: ``"-5.00 points"`` for 0.85
    against 0.90 (a relative "-5.00%" would be another number). A difference that
    rounds to zero reads ``±0.00 points`` (``±0.000``), never ``-0.000`` in red; one
    the test set cannot resolve (``meaningful=False``) is grey.
    """
    if difference is None:
        return None, "off"
    digits = 2 if percent else 3
    scaled = round(difference * (100 if percent else 1), digits)
    unit = " points" if percent else ""
    if scaled == 0:
        return f"±{0:.{digits}f}{unit}", "off"
    text = format_points(difference, digits) if percent else f"{scaled:+.{digits}f}"
    return text, "normal" if meaningful else "off"


#: The help of a metric with a delta: what the arrow is set against.
DELTA_HELP = (
    "The arrow: the difference from the TF-IDF baseline on the same test rows (in "
    "percentage points for accuracies); grey when the test set is too small to tell."
)


def metric_delta(
    value: float | None,
    baseline: float | None,
    verdict: BaselineVerdict | None,
    *,
    percent: bool,
) -> dict[str, Any]:
    """``delta`` and ``delta_color`` keyword arguments of an ``st.metric`` against the
    baseline: grey unless the difference is larger than the test set resolves; the delta
    (``"-3.46 points"``) is short enough for a fifth of a 1280 px page (what it is set
    against goes in the metric's help: :data:`DELTA_HELP`)."""
    diff = None if value is None or baseline is None else value - baseline
    meaningful = verdict is not None and diff is not None and abs(diff) > verdict.threshold
    text, color = delta_text(diff, percent=percent, meaningful=meaningful)
    return {"delta": text, "delta_color": color}


def uses_class_weights(data_settings: Any) -> bool:
    """Whether a run's data settings (``config.experiment.data``) weight the loss by class."""
    return getattr(data_settings, "balance", None) == "class_weights"


def top_confusions(
    names: Sequence[str], matrix: Sequence[Sequence[int]], limit: int = 10
) -> pd.DataFrame:
    """The most confused pairs of a confusion matrix, most rows first (at most ``limit``;
    :func:`pipeline.evaluation.confusions.confused_pairs`).

    Columns: ``true class``, ``predicted as`` (display names), ``rows`` (test rows of
    the true class predicted as the other) and ``share of true class`` (those rows'
    share of the true class's test rows, as text such as ``"12.5%"`` or ``"<0.1%"``);
    ties go to the larger share, then to the order of ``names``.
    """
    return pd.DataFrame(
        [
            {
                "true class": names[pair.true],
                "predicted as": names[pair.predicted],
                "rows": pair.rows,
                "share of true class": format_share(pair.share),
            }
            for pair in confused_pairs(matrix, limit)
        ],
        columns=["true class", "predicted as", "rows", "share of true class"],
    )


def confused_pairs_caption(shown: int, pairs: int) -> str:
    """The caption of the "most confused pairs" table listing ``shown`` of ``pairs``."""
    said = "Test rows of a class predicted as another, most rows first"
    return said + (f" (the {shown:,} largest of {pairs:,} pairs)." if pairs > shown else ".")


def follow_picked_run(
    session: MutableMapping[str, Any], key: str, run_id: str, available: Sequence[str]
) -> list[str]:
    """Keep the "Compare runs" selection (session key ``key``) following the picked run.

    When the run picker changes, the run the selection followed is replaced by the new
    one (the other runs chosen stay); a selection the page lost (another page was
    visited) starts again from the picked run; runs no longer saved are dropped.
    Call before drawing the multiselect; returns the selection it will show.
    """
    followed = session.get(COMPARE_FOLLOWS)
    current = [rid for rid in session.get(key) or [] if rid in available]
    if key not in session:
        current = [run_id]
    elif followed != run_id:
        current = [run_id if rid == followed else rid for rid in current]
        if run_id not in current:
            current.insert(0, run_id)
    current = list(dict.fromkeys(current))
    session[key] = current
    session[COMPARE_FOLLOWS] = run_id
    return current


def blend_note(record: BlendRecord | None) -> str | None:
    """The linear blend a run's ``metrics.json`` ``blend`` record describes, in words
    (``None`` for runs without one: the network alone decides)."""
    if record is None:
        return None
    weight = record.network_weight
    accuracies = {part: scores.accuracy for part, scores in record.validation.items()}
    scores = (
        f" (validation accuracy: network {accuracies['network']:.1%}, linear "
        f"{accuracies['linear']:.1%}, blend {accuracies['blend']:.1%})"
        if {"network", "linear", "blend"} <= set(accuracies)
        else ""
    )
    features = "word pairs and character n-grams" if record.reads_characters else "word pairs"
    if weight >= 1.0:
        return (
            f"Model: the network alone; a TF-IDF logistic regression over {features} was "
            f"fitted beside it, and on the validation rows no blend with it did better{scores}."
        )
    return (
        f"Model: the network's log-probabilities blended with a TF-IDF logistic regression "
        f"over {features} inside the model, the network's share {weight:.0%} picked on the "
        f"validation rows{scores}."
    )


def prior_shift_note(record: PriorShiftRecord | None) -> str | None:
    """The decision rule a run's ``metrics.json`` ``prior_shift`` record describes, in
    words (``None`` for runs saved without one: their trained scores decide)."""
    if record is None:
        return None
    if record.tau == 0.0:
        return (
            "Decision rule: the trained class scores; no class-prior shift did better on the "
            "validation rows by more than their noise."
        )
    before, after = record.validation_macro_f1_before, record.validation_macro_f1_after
    gain = f" (validation macro F1 {before:.3f} → {after:.3f})"
    accuracy_before = record.validation_accuracy_before
    accuracy_after = record.validation_accuracy_after
    if accuracy_before is not None and accuracy_after is not None:
        gain = (
            f" (validation accuracy {accuracy_before:.1%} → {accuracy_after:.1%}, "
            f"macro F1 {before:.3f} → {after:.3f})"
        )
    return (
        f"Decision rule: each class's score shifted by τ = {record.tau:+.1f} × the log of its "
        f"share of the training rows, tuned on the validation rows{gain}."
    )


#: Under the loss curves of a run trained with class weights.
WEIGHTED_LOSS_NOTE = (
    "These losses are weighted by class, as the model was trained: rows of rarer classes "
    "count more, so they read higher than the test loss above, which counts every test "
    "row the same. Compare the curves with each other, not with the test loss."
)


def test_loss_help(class_weighted: bool) -> str:
    """The help text of a run's test loss; for a run trained with class weights it says
    why its (weighted) validation loss reads higher."""
    said = (
        "Log loss of the model's probabilities on the test rows, every row counting the "
        "same (lower is better)."
    )
    if not class_weighted:
        return said
    return (
        f"{said} This run weighted its loss by class (rows of rarer classes count more), "
        "so its training and validation losses read higher than this one for the same "
        "model: compare them with each other, not with this number."
    )


def weighted_val_loss_note(weighted: Sequence[str], compared: int) -> str:
    """Under "Compare runs"' validation loss: which runs' losses are weighted by class
    (``weighted``: their names, plain text) among ``compared`` runs."""
    if len(weighted) == compared:
        who = "Every run here was" if compared > 1 else "This run was"
        return (
            f"{who} trained with class weights: its validation loss is weighted by class "
            "(rows of rarer classes count more), so it reads higher than the test loss."
        )
    return (
        f"{', '.join(weighted)} weighted {'its' if len(weighted) == 1 else 'their'} loss "
        "by class (rows of rarer classes count more): their validation loss reads higher "
        "than an unweighted run's for the same fit, so compare it with like runs only."
    )
