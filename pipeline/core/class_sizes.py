"""How many test rows a class needs for its scores to mean something: one rule, used
before training (Prepare and Train, from the prepared test split) and after it (Results
and the CLI, from a run's test report). No pandas, no TensorFlow."""

from __future__ import annotations

from collections.abc import Mapping

#: Fewer test rows than this make a class's precision, recall and F1 too noisy to read.
MIN_TEST_ROWS_PER_CLASS = 30


def thin_classes(test_rows: Mapping[str, int]) -> dict[str, int]:
    """``{code: test rows}`` of the classes in ``test_rows`` (``{code: test rows}``) with
    fewer than :data:`MIN_TEST_ROWS_PER_CLASS` test rows, fewest first (ties in their order)."""
    thin = {code: int(n) for code, n in test_rows.items() if n < MIN_TEST_ROWS_PER_CLASS}
    return dict(sorted(thin.items(), key=lambda item: item[1]))
